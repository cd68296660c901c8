"""Calibration: activation ranges of every value of a float graph.

:func:`collect_stats` is the single entry point the rest of the package uses
(``myquant.quantize``, the CLI). Today it runs the float model in numpy
(``emit.float_forward`` / ``emit.calibrate``); it is meant to switch to the
compiler's calibration pass (``myquant-calibrate`` with JSON stats import /
export) without changing its signature.
"""

import sys
import time

import numpy as np

from . import emit as E

__all__ = ["METHODS", "as_batches", "collect_stats"]

METHODS = ("minmax", "percentile")


def _to_numpy(x):
    if hasattr(x, "detach"):  # torch.Tensor
        x = x.detach().cpu().numpy()
    return np.ascontiguousarray(np.asarray(x, np.float32))


def as_batches(data, batch_size, sample_shape=None, limit=None):
    """Normalizes calibration or evaluation data to a list of float32 numpy
    batches of at most batch_size samples.

    data: an array or tensor [N, ...] (one sample per row), or an iterable
    of such batches or of (inputs, labels) pairs (a torch DataLoader).
    limit: use at most this many samples."""
    if hasattr(data, "shape") and not isinstance(data, (list, tuple)):
        arrays = [_to_numpy(data)]
    else:
        arrays = []
        for item in data:
            if isinstance(item, (list, tuple)):
                item = item[0]
            arrays.append(_to_numpy(item))
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


def _progress(done, total, t0, stream):
    if stream is None:
        return
    if not (hasattr(stream, "isatty") and stream.isatty()):
        if done >= total:  # no carriage returns in logs
            stream.write(f"  calibrated on {total} samples "
                         f"({time.time() - t0:.1f} s)\n")
            stream.flush()
        return
    frac = done / max(total, 1)
    bar = "#" * int(30 * frac)
    stream.write(f"\r  calibrating [{bar:<30}] {done}/{total} samples "
                 f"({time.time() - t0:.1f} s)")
    if done >= total:
        stream.write("\n")
    stream.flush()


def collect_stats(graph, batches, method="minmax", percentile=99.99,
                  progress=False):
    """value name -> (min, max) over the batches, for every value of graph
    (an emit.Model; its batch size is ignored).

    method: "minmax" (the observed range) or "percentile" (the
    (100 - p)-th and p-th percentiles of each batch, averaged over batches;
    p = `percentile`). progress: print a progress bar to stderr."""
    if method not in METHODS:
        raise ValueError(f"unknown calibration method {method!r} "
                         f"(choose from {', '.join(METHODS)})")
    stream = sys.stderr if progress is True else (progress or None)
    total = sum(len(b) for b in batches)
    models, stats, acc, done, t0 = {}, {}, {}, 0, time.time()
    _progress(0, total, t0, stream)
    for b in batches:
        n = len(b)
        if n not in models:
            models[n] = graph.with_batch(n)
        m = models[n]
        if method == "minmax":
            for k, (lo, hi) in E.calibrate(m, [b]).items():
                if k in stats:
                    lo, hi = min(lo, stats[k][0]), max(hi, stats[k][1])
                stats[k] = (lo, hi)
        else:
            for k, v in E.float_forward(m, b).items():
                lo = float(np.percentile(v, 100.0 - percentile))
                hi = float(np.percentile(v, percentile))
                s = acc.setdefault(k, [0.0, 0.0, 0])
                s[0] += lo * n
                s[1] += hi * n
                s[2] += n
        done += n
        _progress(done, total, t0, stream)
    if method == "percentile":
        stats = {k: (s[0] / s[2], s[1] / s[2]) for k, s in acc.items()}
    return stats
