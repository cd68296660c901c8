"""Independent references used by the tests and benchmarks; not needed to
quantize or run a model (no module outside ``myquant.testing`` imports it).

* :mod:`myquant.testing.reference`: numpy reference of every integer op of
  docs/NumericSpec.md, written from the specification alone.
* :mod:`myquant.testing.model_reference`: integer forward pass of a whole
  ``myquant.emit`` graph with that arithmetic and the package's quantization
  policy (:mod:`myquant.qparams`).
* :mod:`myquant.testing.qnnpack_oracle`: single-op MLIR modules with
  PyTorch's qnnpack parameters and a numpy emulation of qnnpack, to compare
  myquant with PyTorch.

None of them calls the C++ compiler to compute its answers, so they can
check it. Import them explicitly::

    from myquant.testing import reference as R
"""
