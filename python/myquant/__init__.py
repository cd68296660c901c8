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

__all__ = ["quantize", "export", "auto_precision"]


def quantize(model, calibration_data, **options):
    """See myquant.api.quantize."""
    from .api import quantize as _quantize
    return _quantize(model, calibration_data, **options)


def export(model, example_input):
    """See myquant.export.export."""
    from .export import export as _export
    return _export(model, example_input)


def auto_precision(model, calibration_data, target_sqnr=None,
                   max_accuracy_drop=None, size_budget=None, x=None,
                   labels=None, **options):
    """quantize(model, calibration_data, layer_precision="auto", ...): the
    cheapest per-layer precision that meets the targets, on data x (default
    the first 256 calibration samples) with labels (see
    myquant.precision.search; its candidates, group_size and
    report_samples are taken here too, the other keywords are quantize's).
    Returns the QuantizedModel; its ``auto_precision`` is the choice
    (assignment, table)."""
    from .api import quantize as _quantize
    target = {k: v for k, v in [
        ("target_sqnr", target_sqnr), ("max_accuracy_drop",
                                       max_accuracy_drop),
        ("size_budget", size_budget), ("x", x), ("labels", labels)]
        if v is not None}
    for key in ("candidates", "group_size", "report_samples"):
        if key in options:
            target[key] = options.pop(key)
    return _quantize(model, calibration_data, layer_precision="auto",
                     precision_target=target, **options)
