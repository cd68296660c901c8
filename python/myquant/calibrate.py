"""Calibration: activation ranges of every value of a float graph.

:func:`collect_stats` is the single entry point the rest of the package uses
(``myquant.quantize``, the CLI). It runs the compiler's calibration pass,
``myquant-opt --myquant-calibrate`` (docs/Calibration.md): the float model is
emitted to MLIR, the batches are written to a ``.npy`` file, the pass
JIT-compiles the model, runs it over the data and writes the ranges it chose
to a JSON stats file, which is read back here.
"""

import copy
import json
import os
import re
import sys
import tempfile
import time
import warnings

import numpy as np

from . import emit as E
from . import tools as T

__all__ = ["DEFAULT_BATCH_SIZE", "METHODS", "as_batches", "as_float32",
           "collect_stats"]

METHODS = ("minmax", "moving-average", "percentile", "mse", "entropy")

# Samples per call of the instrumented model by default: the CPU time per
# image hardly changes past a few images, while the memory grows with the
# batch (every observed activation of a call is held until it is
# observed); docs/Calibration.md has the measurements.
DEFAULT_BATCH_SIZE = 8


def as_float32(x, what="data"):
    """x (array, tensor or nested lists) as a contiguous float32 array; a
    ValueError naming `what` for complex values (numpy would only warn and
    drop the imaginary part) or values that are not numbers."""
    if hasattr(x, "detach"):  # torch.Tensor
        x = x.detach().cpu().numpy()
    a = np.asarray(x)
    if np.iscomplexobj(a):
        raise ValueError(f"{what} is complex ({a.dtype}); the model takes "
                         f"real (float32) values")
    try:
        return np.ascontiguousarray(a, np.float32)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{what} of dtype {a.dtype} is not numeric: "
                         f"{e}") from None


def as_batches(data, batch_size, sample_shape=None, limit=None):
    """Normalizes calibration or evaluation data to a list of float32 numpy
    batches of at most batch_size samples.

    data: an array or tensor [N, ...] (one sample per row), or an iterable
    of such batches or of (inputs, labels) pairs (a torch DataLoader).
    limit: use at most this many samples."""
    if hasattr(data, "shape") and not isinstance(data, (list, tuple)):
        arrays = [as_float32(data, "calibration data")]
    else:
        arrays = []
        for item in data:
            if isinstance(item, (list, tuple)):
                item = item[0]
            arrays.append(as_float32(item, "calibration data"))
    out, total = [], 0
    for a in arrays:
        if sample_shape is not None:
            if a.ndim == len(sample_shape):
                a = a[None]
            if tuple(a.shape[1:]) != tuple(sample_shape):
                raise ValueError(f"data of shape {list(a.shape)} does not "
                                 f"match the model's sample shape "
                                 f"{list(sample_shape)}")
        for i in range(0, len(a), batch_size):
            b = a[i:i + batch_size]
            if limit is not None:
                b = b[:max(0, limit - total)]
            if len(b):
                out.append(np.ascontiguousarray(b))
                total += len(b)
        if limit is not None and total >= limit:
            break
    if not out:
        raise ValueError("no calibration data")
    return out


def _calibration_graph(graph, batch):
    """graph for a static batch, its layers' ops located by index
    ("layer<i>"): unique location names, so the pass's stats file names each
    layer output by its location (the location a layer shares with other
    layers, e.g. a module called twice, would be ambiguous)."""
    m = E.Model((batch,) + tuple(graph.input_shape[1:]))
    for i, layer in enumerate(graph.layers):
        m.add(copy.copy(layer), inputs=layer.inputs, name=layer.name,
              loc=f"layer{i}")
    return m


class Stats(dict):
    """value name -> (min, max), and in `channels` value name -> (mins,
    maxs) per channel of the last dimension (per_channel_norm_inputs);
    `inside` names the values left unobserved inside a layer (a conv or
    linear before the relu that only it feeds), which quantization never
    reads."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.channels = {}
        self.inside = set()


def collect_stats(graph, batches, method="minmax", percentile=99.99,
                  progress=False, threads=1, per_channel_norm_inputs=False,
                  cache_dir=None, observe_inside_layers=False):
    """value name -> (min, max) for every value of graph (an emit.Model; its
    batch size is ignored), chosen by myquant-calibrate over the batches.

    method: "minmax", "moving-average" (PyTorch's MovingAverageMinMaxObserver,
    one update per batch), "percentile" (each tail clipped at `percentile`),
    "mse" (PyTorch's HistogramObserver search) or "entropy" (TensorRT's KL
    divergence calibration); docs/Calibration.md has the details.
    The model runs with the first batch's size; a shorter last batch is
    completed with the first samples. progress: a line on stderr (or on
    the given stream) when done. threads: batches that run at once (the
    statistics do not depend on it). per_channel_norm_inputs: also the
    per-channel ranges of the LayerNorm inputs (Stats.channels), for
    norm_input_scales="per-channel". cache_dir: myquant-calibrate keeps the
    compiled model there and a later calibration of the same model loads
    it instead of compiling it again (docs/Calibration.md).
    observe_inside_layers: also the values inside a conv or linear layer
    (before a relu only it reads, listed in Stats.inside otherwise), which
    only layers kept in float need; without them the compiled model runs
    each such layer as one fused kernel."""
    if method not in METHODS:
        raise ValueError(f"unknown calibration method {method!r} "
                         f"(choose from {', '.join(METHODS)})")
    percentile = float(percentile)
    if not 50.0 < percentile <= 100.0:
        raise ValueError(f"percentile must be in (50, 100], not "
                         f"{percentile}")
    stream = sys.stderr if progress is True else (progress or None)
    samples = sum(len(b) for b in batches)
    if not samples:
        raise ValueError("no calibration data")
    g = _calibration_graph(graph, len(batches[0]))
    names = {"x": "x"}
    names.update({f"layer{i}": layer.name
                  for i, layer in enumerate(graph.layers)})
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="myquant-calib-") as d:
        src, npy, out = (os.path.join(d, f) for f in
                         ("model.mlir", "data.npy", "stats.json"))
        with open(src, "w") as f:
            f.write(E.emit(g))
        # Written batch by batch through a memory map rather than
        # concatenated: no second copy of the data set in this process.
        data = np.lib.format.open_memmap(
            npy, mode="w+", dtype=np.float32,
            shape=(samples,) + tuple(batches[0].shape[1:]))
        start = 0
        for b in batches:
            data[start:start + len(b)] = b
            start += len(b)
        data.flush()
        del data
        opts = [f"data={npy}", f"method={method}", f"stats-out={out}",
                f"threads={int(threads)}", "quiet"]
        if method == "percentile":
            opts.append(f"percentile={percentile!r}")
        if per_channel_norm_inputs:
            opts.append("per-channel-norm-inputs")
        if cache_dir is not None:
            opts.append(f"cache-dir={os.path.abspath(cache_dir)}")
        if observe_inside_layers:
            opts.append("observe-inside-layers")
        _, err = T.run_tool("myquant-opt", [
            src, f"--myquant-calibrate={' '.join(opts)}", "-o", os.devnull])
        with open(out) as f:
            written = json.load(f)
        values = written["values"]
        inside = set(written.get("inside_layers", ()))
    if err.strip():  # warnings, e.g. non-finite activations
        err = re.sub(r'loc\("layer(\d+)"\)', lambda m: "value %r" %
                     graph.layers[int(m.group(1))].name, err.strip())
        warnings.warn(f"myquant-calibrate: {err}", RuntimeWarning,
                      stacklevel=2)
    stats = Stats()
    for loc, name in names.items():
        v = values.get(loc)
        if v is None and loc in inside:
            stats.inside.add(name)
            continue
        if v is None:
            raise ValueError(f"myquant-calibrate gave no range for value "
                             f"{name!r} (no finite values?)\n{err}")
        stats[name] = (float(v["min"]), float(v["max"]))
        if "channels" in v:  # per_channel_norm_inputs
            stats.channels[name] = ([float(x) for x in v["channels"]["min"]],
                                    [float(x) for x in v["channels"]["max"]])
    if stream is not None:
        stream.write(f"  calibrated on {samples} samples ({method}, "
                     f"{time.time() - t0:.1f} s)\n")
        stream.flush()
    return stats
