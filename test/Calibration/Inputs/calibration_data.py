"""The calibration data of the test/Calibration tests, and what calibration
must find in it.

    calibration_data.py generate DIR             write the data sets (checked
                                                 in here)
    calibration_data.py compare DIR CASE FILE    fail unless the stats file
                                                 FILE holds exactly what numpy
                                                 computes for CASE on DIR's data
    calibration_data.py nonfinite DIR FILE       ... the non-finite counts
    calibration_data.py clipped DIR FILE         ... ranges within the observed
                                                 ones, on histogram bin edges

Every expected number comes from numpy on the same data, never from the
compiler under test. The models are those of calibrate.mlir; the data are
multiples of 1/4 and the weights of 1/8, so float32 computes every value
exactly whatever the order of the sums.
"""

import json
import sys

import numpy as np

# @mlp in calibrate.mlir: relu(x @ W + B).
W = np.array([[0.5, -1.0, 0.25],
              [1.0, 0.5, -0.5],
              [-0.25, 0.75, 1.0],
              [0.5, 0.5, 0.5]], np.float32)
B = np.array([0.125, -0.25, 0.5], np.float32)


def mlp_values(x):
    """The observed values of @mlp in program order, by stats name."""
    mm = x @ W
    fc = mm + B
    relu = np.maximum(fc, np.float32(0))
    return [("input", x), ("fc#0", mm), ("fc", fc), ("relu", relu)]


def generate(out):
    rng = np.random.RandomState(0)

    def quarters(*shape):
        return (rng.randint(-16, 17, size=shape) / 4).astype(np.float32)

    x = quarters(10, 4)
    np.save(f"{out}/x.npy", x)
    # Two arguments of @pair: by name ("a", then "arg1" for the unnamed one),
    # by numpy's positional names, and by archive order.
    a, b = quarters(6, 4), quarters(6, 4)
    np.savez(f"{out}/pair.npz", a=a, arg1=b)
    np.savez(f"{out}/pair_positional.npz", a, b)
    np.savez(f"{out}/pair_order.npz", first=a, second=b)
    np.savez(f"{out}/pair_missing.npz", a=a, other=b)
    np.savez(f"{out}/pair_mismatch.npz", a=a, arg1=b[:5])
    np.savez_compressed(f"{out}/pair_compressed.npz", a=a, arg1=b)
    # NaN in sample 0, +inf in sample 1 (feature 0).
    bad = x.copy()
    bad[0, 2] = np.nan
    bad[1, 0] = np.inf
    np.save(f"{out}/x_nonfinite.npy", bad)
    np.save(f"{out}/x_f64.npy", x.astype(np.float64))
    np.save(f"{out}/x_shape.npy", quarters(10, 5))
    np.save(f"{out}/x_empty.npy", np.zeros((0, 4), np.float32))


def batches(x, size, fixed=False):
    """The batches calibration feeds: a fixed batch wraps around to the
    first samples."""
    for start in range(0, len(x), size):
        if fixed and start + size > len(x):
            yield x[np.arange(start, start + size) % len(x)]
        else:
            yield x[start:start + size]


def finite(v):
    return v[np.isfinite(v)].astype(np.float64)


def minmax(v):
    v = finite(v)
    return float(v.min()), float(v.max()), None


def moving_average(vs, c):
    """PyTorch's MovingAverageMinMaxObserver over the batches `vs`."""
    lo = hi = None
    for v in vs:
        bmin, bmax, _ = minmax(v)
        if lo is None:
            lo, hi = bmin, bmax
        else:
            lo, hi = lo + c * (bmin - lo), hi + c * (bmax - hi)
    return lo, hi, None


def percentile(v, p, bins=2048):
    """docs/Calibration.md: each tail clipped at p% on a 2048-bin histogram
    over [min, max], the range widened to bin edges, the histogram of the
    values clamped into it."""
    v = finite(v)
    lo, hi = v.min(), v.max()
    if lo == hi:
        return float(lo), float(hi), [len(v)]
    index = np.minimum(np.floor((v - lo) / (hi - lo) * bins), bins - 1)
    counts = np.bincount(index.astype(np.int64), minlength=bins)
    cumulative = np.cumsum(counts).astype(np.float64)
    total = cumulative[-1]
    fraction = p / 100.0
    first = int(np.searchsorted(cumulative, (1.0 - fraction) * total, "right"))
    last = int(np.searchsorted(cumulative, fraction * total, "left"))

    def edge(i):
        return float(hi) if i >= bins else float(lo + (hi - lo) * i / bins)

    histogram = counts[first:last + 1].copy()
    histogram[0] += counts[:first].sum()
    histogram[-1] += counts[last + 1:].sum()
    return edge(first), edge(last + 1), [int(c) for c in histogram]


def expected(data, case):
    """[(name or None, (min, max, histogram or None))] in program order."""
    x = np.load(f"{data}/x.npy")
    if case == "mlp-minmax":
        return [(n, minmax(v)) for n, v in mlp_values(x)]
    if case == "fixed-minmax":
        return [(None, minmax(v)) for _, v in mlp_values(x)]
    if case == "mlp-moving-average":
        # Batches of 4, c = 0.5.
        per_batch = [mlp_values(b) for b in batches(x, 4)]
        return [(name, moving_average([b[i][1] for b in per_batch], 0.5))
                for i, (name, _) in enumerate(per_batch[0])]
    if case == "fixed-layer-outputs":
        # The matmul and its bias add lie inside the layer.
        return [(None, minmax(v)) for n, v in mlp_values(x)
                if n in ("input", "relu")]
    if case == "fixed-moving-average":
        # The fixed batch 4: the third batch is samples 8, 9, 0, 1.
        per_batch = [mlp_values(b) for b in batches(x, 4, fixed=True)]
        return [(None, moving_average([b[i][1] for b in per_batch], 0.5))
                for i in range(len(per_batch[0]))]
    if case == "mlp-percentile-90":
        return [(n, percentile(v, 90.0)) for n, v in mlp_values(x)]
    if case == "mlp-percentile":
        return [(n, percentile(v, 99.99)) for n, v in mlp_values(x)]
    if case == "mlp-nonfinite":
        return [(n, minmax(v)) for n, v in
                mlp_values(np.load(f"{data}/x_nonfinite.npy"))]
    if case == "pair":
        pair = np.load(f"{data}/pair.npz")
        a, b = pair["a"], pair["arg1"]
        return [(n, minmax(v)) for n, v in
                [("a", a), ("arg1", b), (None, a + b)]]
    if case == "zeros":
        return [(None, (0.0, 0.0, [40]))]
    sys.exit(f"unknown case {case}")


def fail(message):
    sys.exit(f"calibration_data.py: {message}")


def compare(data, case, path):
    """Checks a stats file (stats-out or myquant-export-stats) against what
    numpy computes: exact equality."""
    with open(path) as f:
        values = list(json.load(f)["values"].items())
    want = expected(data, case)
    if len(values) != len(want):
        fail(f"{path}: {len(values)} entries, expected {len(want)}")
    for (name, entry), (want_name, (lo, hi, histogram)) in zip(values, want):
        if want_name is not None and name != want_name:
            fail(f"{path}: entry '{name}', expected '{want_name}'")
        got = (entry["min"], entry["max"], entry.get("histogram"))
        if got != (lo, hi, histogram):
            fail(f"{path}: entry '{name}' has (min, max, histogram) = "
                 f"{got}, numpy says {(lo, hi, histogram)}")


def check_nonfinite(data, path):
    """The counts of non-finite values in a stats-out file."""
    x = np.load(f"{data}/x_nonfinite.npy")
    with open(path) as f:
        values = json.load(f)["values"]
    for name, v in mlp_values(x):
        count = int((~np.isfinite(v)).sum())
        if values[name].get("nonfinite", 0) != count:
            fail(f"{path}: entry '{name}' counts "
                 f"{values[name].get('nonfinite', 0)} non-finite values, "
                 f"numpy {count}")


def check_clipped(data, path):
    """For the methods without a numpy model here (mse, entropy): each range
    lies within the observed one on edges of its 2048-bin histogram, and the
    histogram holds every value."""
    x = np.load(f"{data}/x.npy")
    with open(path) as f:
        values = json.load(f)["values"]
    for name, v in mlp_values(x):
        lo, hi, _ = minmax(v)
        entry = values[name]
        if not lo <= entry["min"] <= entry["max"] <= hi:
            fail(f"{path}: entry '{name}' range [{entry['min']}, "
                 f"{entry['max']}] is not within [{lo}, {hi}]")
        for bound in (entry["min"], entry["max"]):
            position = (bound - lo) / (hi - lo) * 2048
            if abs(position - round(position)) > 1e-6:
                fail(f"{path}: entry '{name}' bound {bound} is no bin edge")
        if sum(entry["histogram"]) != v.size:
            fail(f"{path}: entry '{name}' histogram holds "
                 f"{sum(entry['histogram'])} values, not {v.size}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "generate":
        generate(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == "compare":
        compare(*sys.argv[2:])
    elif len(sys.argv) == 4 and sys.argv[1] == "nonfinite":
        check_nonfinite(*sys.argv[2:])
    elif len(sys.argv) == 4 and sys.argv[1] == "clipped":
        check_clipped(*sys.argv[2:])
    else:
        sys.exit(__doc__)
