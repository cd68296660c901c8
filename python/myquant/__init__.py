"""Python side of myquant.

    import myquant
    qmodel = myquant.quantize(torch_model, calibration_data)
    y = qmodel(x)

Submodules are imported explicitly (``from myquant import evaluate``) or on
first use of :func:`quantize` / :func:`export`, so that importing the package
itself stays free of heavy dependencies (torch is only needed by the
exporter). The independent references the tests and benchmarks check the
compiler with live in :mod:`myquant.testing`; nothing else imports them.
"""

__all__ = ["quantize", "export"]


def quantize(model, calibration_data, **options):
    """See myquant.api.quantize."""
    from .api import quantize as _quantize
    return _quantize(model, calibration_data, **options)


def export(model, example_input):
    """See myquant.export.export."""
    from .export import export as _export
    return _export(model, example_input)
