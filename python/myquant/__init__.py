"""Python side of myquant.

Submodules are imported explicitly (``from myquant import reference``) so that
importing the package itself stays free of heavy dependencies.
"""
