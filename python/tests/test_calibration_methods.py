"""Every calibration method of myquant-calibrate through myquant.quantize:
a working int8 model close to the float one, and ranges that relate to the
observed ones as each method promises.

Run: /usr/bin/python3 -m pytest -q python/tests/test_calibration_methods.py"""

import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

import myquant  # noqa: E402
from myquant import calibrate as C  # noqa: E402
from myquant.api import QuantizedModel  # noqa: E402
from myquant import emit as E  # noqa: E402
from myquant import evaluate as V  # noqa: E402
from myquant.testing import model_reference as MR  # noqa: E402
from myquant.export import export  # noqa: E402

BATCH = 16


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 8, 3, padding=1)
        self.fc = nn.Linear(8 * 4 * 4, 6)

    def forward(self, x):
        y = F.max_pool2d(F.relu(self.conv1(x)), 2)
        y = F.relu(self.conv2(y))
        return self.fc(torch.flatten(y, 1))


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    model = Net().eval()
    rng = np.random.default_rng(0)
    calib = rng.standard_normal((64, 1, 8, 8)).astype(np.float32)
    test = rng.standard_normal((BATCH, 1, 8, 8)).astype(np.float32)
    return model, calib, test


@pytest.fixture(scope="module")
def observed(net):
    """value name -> (min, max) of the float model over the calibration
    data (numpy, independent of the pass)."""
    model, calib, _ = net
    g = export(model, calib[:1])
    return E.calibrate(g, [s[None] for s in calib])


@pytest.fixture(scope="module")
def quantized(net):
    """method -> (stats, graph, int8 output on the test batch), one
    quantize() per method."""
    model, calib, test = net
    cache = {}

    def get(method):
        if method not in cache:
            with myquant.quantize(model, calib, method=method,
                                  max_batch=BATCH) as qm:
                cache[method] = (qm.stats, qm.graph, qm(test))
        return cache[method]
    return get


@pytest.mark.parametrize("method", C.METHODS)
def test_method_gives_working_int8_model(net, observed, quantized, method):
    _, _, test = net
    stats, graph, got = quantized(method)
    # The convs before their relus lie inside layers and are not observed;
    # the reference below quantizes bit-exactly without them.
    assert stats.inside and not stats.inside & set(stats)
    assert set(stats) | stats.inside == set(observed)
    for name, (lo, hi) in stats.items():
        olo, ohi = observed[name]
        assert lo <= hi, name
        # Every method picks a range inside the observed one (float
        # rounding aside); minmax picks the observed one.
        tol = 1e-5 * max(1.0, abs(olo), abs(ohi))
        assert olo - tol <= lo and hi <= ohi + tol, (name, lo, hi)
        if method == "minmax":
            assert lo == pytest.approx(olo, abs=tol)
            assert hi == pytest.approx(ohi, abs=tol)
    # The compiled int8 model is the integer reference of its stats.
    ref = MR.run_reference(graph.with_batch(BATCH), stats, test)
    assert np.array_equal(got, ref.dequantize())


@pytest.mark.parametrize("method", C.METHODS)
def test_method_close_to_float(net, quantized, method):
    model, _, test = net
    _, _, got = quantized(method)
    with torch.no_grad():
        want = model(torch.from_numpy(test)).numpy()
    assert V.sqnr_db(want, got) > 25, method
    assert V.argmax_agreement(want, got) >= 0.9, method


def test_percentile_option(net, observed):
    model, calib, _ = net
    g = export(model, calib[:1])
    batches = C.as_batches(calib, BATCH)
    full = C.collect_stats(g, batches, "percentile", percentile=100)
    for name, (lo, hi) in full.items():  # nothing clipped
        assert lo == pytest.approx(observed[name][0], rel=1e-6, abs=1e-6)
        assert hi == pytest.approx(observed[name][1], rel=1e-6, abs=1e-6)
    clipped = C.collect_stats(g, batches, "percentile", percentile=99)
    assert clipped["x"][1] < full["x"][1] and clipped["x"][0] > full["x"][0]
    with pytest.raises(ValueError, match="percentile"):
        C.collect_stats(g, batches, "percentile", percentile=40)
    with pytest.raises(ValueError, match="calibration method"):
        C.collect_stats(g, batches, "kl")


def test_nonfinite_values_warn_by_value_name(net, observed):
    model, calib, _ = net
    g = export(model, calib[:1])
    data = calib[:BATCH].copy()
    data[3, 0, 2, 2] = np.nan
    with pytest.warns(RuntimeWarning, match="'conv1'.*NaN or infinite"):
        stats = C.collect_stats(g, [data], observe_inside_layers=True)
    assert np.isfinite(stats["conv1"]).all()


@pytest.mark.parametrize("method,sizes", [
    # 5 does not divide the 64 samples: the last batch repeats the first
    # samples, which leaves min and max as they are.
    ("minmax", (1, 5, 16, 64)),
    ("percentile", (8, 64)),
    ("mse", (8, 64)),
    ("entropy", (8, 64)),
])
def test_statistics_do_not_depend_on_batch_size(net, method, sizes):
    """The model runs each sample the same whatever the batch, min and max
    are order-independent and the histogram counts add up: the ranges are
    bit-identical for every batch size (that divides the sample count, for
    the histogram methods)."""
    model, calib, _ = net
    g = export(model, calib[:1])
    stats = [C.collect_stats(g, C.as_batches(calib, size), method=method)
             for size in sizes]
    for size, other in zip(sizes[1:], stats[1:]):
        assert other == stats[0], (method, size)


@pytest.mark.parametrize("method", ["minmax", "moving-average", "entropy"])
def test_statistics_do_not_depend_on_threads(net, method):
    """Two batches at once, observed in data order: the same statistics,
    the moving average (which depends on the order) included."""
    model, calib, _ = net
    g = export(model, calib[:1])
    batches = C.as_batches(calib, 8)
    assert C.collect_stats(g, batches, method=method, threads=2) == \
        C.collect_stats(g, batches, method=method)


def test_calibration_batch_size_option(net):
    model, calib, _ = net
    with myquant.quantize(model, calib[:10], calibration_batch_size=3,
                          calibration_threads=2, max_batch=BATCH) as qm:
        expected = C.collect_stats(qm.graph, C.as_batches(calib[:10], 10))
        assert qm.stats == expected
    with pytest.raises(ValueError, match="calibration_batch_size"):
        myquant.quantize(model, calib, calibration_batch_size=0)


def test_values_inside_layers_change_nothing(net):
    """Left unobserved, the values inside layers (the convs before their
    relus, which the instrumented copy then runs fused) leave the other
    statistics and the int8 model exactly as they are."""
    model, calib, test = net
    graph = export(model, calib[:1])
    batches = C.as_batches(calib, BATCH)
    fused = C.collect_stats(graph, batches)
    every = C.collect_stats(graph, batches, observe_inside_layers=True)
    assert fused.inside and not every.inside
    assert set(fused) | fused.inside == set(every)
    assert all(every[name] == value for name, value in fused.items())
    outputs = []
    for stats in (fused, every):
        with QuantizedModel(graph, stats, max_batch=BATCH) as qm:
            outputs.append(qm(test))
    assert np.array_equal(*outputs)


def test_compiled_calibration_model_is_cached(net, observed, tmp_path):
    """A second calibration of the same model loads the compiled copy from
    cache_dir (no new entry, the same statistics, those numpy finds); a
    model with other weights compiles its own."""
    model, calib, _ = net
    graph = export(model, calib[:1])
    batches = [calib[i:i + BATCH] for i in range(0, len(calib), BATCH)]
    first = C.collect_stats(graph, batches, cache_dir=tmp_path)
    entries = sorted(tmp_path.iterdir())
    assert len(entries) == 1 and entries[0].suffix == ".o"
    second = C.collect_stats(graph, batches, cache_dir=tmp_path)
    assert sorted(tmp_path.iterdir()) == entries
    assert second == first and second.inside == first.inside
    for name, (lo, hi) in first.items():
        assert (lo, hi) == pytest.approx(observed[name], rel=1e-5, abs=1e-6)

    changed = copy.deepcopy(model)
    with torch.no_grad():
        changed.fc.weight[0, 0] += 1.0
    other = C.collect_stats(export(changed, calib[:1]), batches,
                            cache_dir=tmp_path)
    assert len(list(tmp_path.iterdir())) == 2
    assert other["fc"] != first["fc"]
