"""myquant.quantize round trip, the evaluation helpers and the command line.

Run: /usr/bin/python3 -m pytest -q python/tests/test_api.py"""

import gc
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

import myquant  # noqa: E402
from conftest import NET_PY  # noqa: E402
from myquant import evaluate as V  # noqa: E402
from myquant import qparams as Q  # noqa: E402
from myquant.api import QuantizedModel  # noqa: E402
from myquant.testing import model_reference as MR  # noqa: E402

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 4 * 4, 5)

    def forward(self, x):
        y = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        y = F.relu(y + self.conv2(y))
        return self.fc(torch.flatten(y, 1))


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    model = Tiny().eval()
    with torch.no_grad():
        model.bn1.running_var.uniform_(0.5, 2.0)
        model.bn1.running_mean.uniform_(-0.3, 0.3)
    calib = torch.randn(64, 1, 8, 8)
    return model, calib


@pytest.fixture(scope="module")
def qtiny(tiny):
    model, calib = tiny
    qm = myquant.quantize(model, calib, max_batch=8)
    yield qm
    qm.close()


def _lsb_error(qm, got, want):
    so, _ = Q.plan(qm.graph, qm.stats)[2][qm.graph.output]
    return float(np.max(np.abs(got - want))) / so


def test_round_trip_numpy(tiny, qtiny):
    model, _ = tiny
    x = np.random.default_rng(1).standard_normal((5, 1, 8, 8)).astype(
        np.float32)
    y = qtiny(x)
    assert isinstance(y, np.ndarray) and y.dtype == np.float32
    assert y.shape == (5, 5)
    with torch.no_grad():
        want = model(torch.from_numpy(x)).numpy()
    # Within a few output LSBs.
    assert _lsb_error(qtiny, y, want) <= 6
    assert V.sqnr_db(want, y) > 30
    # Bit-identical to the independent integer reference of the same graph.
    ref = MR.run_reference(qtiny.graph.with_batch(5), qtiny.stats, x)
    assert np.array_equal(y.view(np.int32), ref.dequantize().view(np.int32))


def test_torch_input_chunks_and_single_sample(tiny, qtiny):
    model, _ = tiny
    x = torch.randn(11, 1, 8, 8)  # 8 + 3 (max_batch = 8)
    y = qtiny(x)
    assert isinstance(y, torch.Tensor) and tuple(y.shape) == (11, 5)
    parts = np.concatenate([qtiny(x[:8].numpy()), qtiny(x[8:].numpy())])
    assert np.array_equal(y.numpy(), parts)
    one = qtiny(x[0])  # no batch dimension
    assert tuple(one.shape) == (5,)
    assert np.array_equal(one.numpy(), qtiny(x[:1].numpy())[0])
    with pytest.raises(ValueError, match="takes"):
        qtiny(np.zeros((2, 1, 9, 9), np.float32))


def test_float_variant_and_values(tiny, qtiny):
    model, _ = tiny
    x = torch.randn(3, 1, 8, 8)
    with torch.no_grad():
        want = model(x).numpy()
    np.testing.assert_allclose(qtiny.run_float(x.numpy()), want, rtol=1e-5,
                               atol=1e-5 * np.abs(want).max())
    vals = qtiny.values(x.numpy(), ["fc", "max_pool2d"])
    assert np.array_equal(vals["fc"], qtiny(x.numpy()))
    assert vals["max_pool2d"].shape == (3, 4, 4, 4)


def test_layer_report(qtiny):
    x = np.random.default_rng(2).standard_normal((8, 1, 8, 8)).astype(
        np.float32)
    r = V.layer_report(qtiny, x)
    assert r.matches_deployed
    names = [row["name"] for row in r.rows]
    assert names == ["x", "conv1+relu", "max_pool2d", "conv2", "add+relu_1",
                     "fc"], \
        names
    assert r.worst is not None and r.worst["name"] in names
    text = r.format()
    assert "loses most:" in text and "conv1+relu" in text
    for row in r.rows[1:]:
        assert 10 < row["sqnr_db"] < 80, row


def test_metrics():
    ref = np.array([[1.0, 2.0, 0.0], [3.0, 0.0, 1.0]])
    test = np.array([[1.0, 2.5, 0.0], [0.0, 4.0, 1.0]])
    assert V.argmax_agreement(ref, test) == 0.5
    assert V.accuracy(ref, np.array([1, 0])) == 1.0
    e = (0.25 + 9 + 16) / (1 + 4 + 9 + 1)
    assert abs(V.sqnr_db(ref, test) - 10 * np.log10(1 / e)) < 1e-9
    assert V.sqnr_db(ref, ref) == float("inf")
    m = V.compare(ref, test, np.array([1, 1]))
    assert m["float_accuracy"] == 0.5 and m["int8_accuracy"] == 1.0


def test_fake_quantize_matches_reference():
    """The input row of the layer report quantizes as the spec says."""
    from myquant.testing import reference as R
    x = np.random.default_rng(3).standard_normal(1000) * 4
    x[:4] = [np.inf, -np.inf, 1e30, -0.0]
    for s, zp in [(0.03, -7), (1.0 / 255, -128), (0.5, 127)]:
        want = R.dequantize(R.quantize(x, s, zp), s, zp)
        got = Q.fake_quantize(x, s, zp)
        assert got.dtype == np.float32
        assert np.array_equal(got.view(np.int32), want.view(np.int32))


def test_temporary_files_removed(tiny):
    model, calib = tiny
    qm = myquant.quantize(model, calib[:4], max_batch=4)
    qm(calib[:2])
    d = qm.workdir
    assert os.path.isdir(d) and os.listdir(d)
    del qm
    gc.collect()
    assert not os.path.exists(d)
    with myquant.quantize(model, calib[:4]) as qm2:
        qm2(calib[:1])
        d2 = qm2.workdir
    assert not os.path.exists(d2)
    with pytest.raises(RuntimeError, match="closed"):
        qm2.compiled(3)


def test_options_and_data_forms(tiny, tmp_path):
    model, calib = tiny
    loader = [(calib[i:i + 3], torch.zeros(3)) for i in range(0, 12, 3)]
    qm = myquant.quantize(model, loader, method="percentile",
                          rounding="gemmlowp",
                          weight_granularity="per-tensor", num_samples=9,
                          max_batch=4)
    with qm:
        x = calib[:4].numpy()
        ref = MR.run_reference(qm.graph.with_batch(4), qm.stats, x,
                               rounding="gemmlowp", weights="per-tensor")
        assert np.array_equal(qm(x), ref.dequantize())
        lib = qm.save(str(tmp_path / "out"), batch=2)
        assert sorted(os.listdir(tmp_path / "out")) == \
            ["libmodel.so", "model.h", "model.mlir"]
        assert "_mlir_ciface_forward" in open(tmp_path / "out" /
                                              "model.h").read()
        assert os.path.getsize(lib) > 0
        f32, i8 = qm.parameter_bytes()
        assert f32 == 4 * (36 + 4 + 144 + 4 + 320 + 5)
        assert i8 == 36 + 144 + 320 + 4 * (4 + 4 + 5)
    with pytest.raises(ValueError, match="calibration method"):
        myquant.quantize(model, calib, method="kl")
    with pytest.raises(ValueError, match="rounding"):
        myquant.quantize(model, calib, rounding="nearest")


def test_pipeline_choices(tiny, qtiny, tmp_path):
    """allow_float, keep_float and integer_io reach myquant-ptq; bad values
    are ValueErrors naming them."""
    model, calib = tiny
    x = calib[:3].numpy()
    want = qtiny(x)
    g, stats = qtiny.graph, qtiny.stats
    # integer_io: an int8 library; the conversions moved to numpy compute
    # the same bits.
    with QuantizedModel(g, stats, integer_io=True, allow_float=False) as qm:
        assert np.array_equal(qm(x).view(np.int32), want.view(np.int32))
        fn = qm.compiled(3)
        assert fn.input_dtypes == [np.dtype(np.int8)]
        assert fn.result_dtypes == [np.dtype(np.int8)]
        _, _, qp = Q.plan(g, stats)
        assert fn.input_qparams == [qp["x"]]
        assert fn.output_qparams == [qp[g.output]]
        assert "myquant.input_qparams" in qm.quantized_mlir(3)
        vals = qm.values(x, ["max_pool2d", "fc"])
        assert np.array_equal(vals["fc"], want)
        qm.save(str(tmp_path / "io"))
        assert "forward_input_qparams" in (tmp_path / "io" /
                                           "model.h").read_text()
    # keep_float: the layer's ops stay in float, reported; the rest is int8.
    with QuantizedModel(g, stats, keep_float="conv2") as qm:
        y = qm(x)
        assert "'linalg.conv_2d_nchw_fchw' stays in float" in qm.remarks
        assert 'loc("conv2")' in qm.remarks
        text = qm.quantized_mlir(3)
        assert "linalg.conv_2d_nchw_fchw" in text and "myquant.conv" in text
        with torch.no_grad():
            assert V.sqnr_db(model(torch.from_numpy(x)).numpy(), y) > 30
    with pytest.raises(ValueError, match=r"keep_float names 'conv3', which "
                       r"is not a layer of the model \(its layers: conv1, "
                       r"relu, max_pool2d, conv2"):
        myquant.quantize(model, calib[:4], keep_float=["conv2", "conv3"])
    with pytest.raises(ValueError, match="keep_float keeps conv2 in float, "
                       "which allow_float=False forbids"):
        myquant.quantize(model, calib[:4], keep_float="conv2",
                         allow_float=False)
    with pytest.raises(ValueError, match="allow_float must be True or "
                       "False, not 'no'"):
        myquant.quantize(model, calib[:4], allow_float="no")
    with pytest.raises(ValueError, match="integer_io must be True"):
        QuantizedModel(g, stats, integer_io=1)


def test_product_does_not_import_the_references():
    """Every module of the package but myquant.testing loads without it
    (the references are for tests and benchmarks only)."""
    code = textwrap.dedent("""
        import importlib, pkgutil, sys
        import myquant
        for m in pkgutil.iter_modules(myquant.__path__):
            if m.name not in ("testing", "__main__"):
                importlib.import_module("myquant." + m.name)
        print(sorted(n for n in sys.modules
                     if n.startswith("myquant.testing")))
        """)
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[]", p.stdout


# -- command line -------------------------------------------------------------

def _cli(args, cwd, check=True):
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR)
    p = subprocess.run([sys.executable, "-m", "myquant"] + args, cwd=cwd,
                       capture_output=True, text=True, env=env, timeout=300)
    if check:
        assert p.returncode == 0, f"{args}: {p.stderr}"
    return p


def test_cli_help(tmp_path):
    out = _cli(["--help"], tmp_path).stdout
    for cmd in ("export", "quantize", "compile", "run", "report"):
        assert cmd in out
        sub = _cli([cmd, "--help"], tmp_path).stdout
        assert sub.startswith(f"usage: python3 -m myquant {cmd}")


def test_cli_round_trip(tiny, tmp_path):
    model, calib = tiny
    (tmp_path / "net.py").write_text(NET_PY)
    torch.manual_seed(0)
    sys.path.insert(0, str(tmp_path))
    try:
        import net
        torch.save(net.Net().state_dict(), tmp_path / "w.pt")
    finally:
        sys.path.remove(str(tmp_path))
    np.save(tmp_path / "cal.npy", np.random.default_rng(0).standard_normal(
        (16, 1, 8, 8)).astype(np.float32))
    np.save(tmp_path / "x.npy", np.random.default_rng(1).standard_normal(
        (2, 1, 8, 8)).astype(np.float32))
    np.save(tmp_path / "labels.npy", np.array([0, 1]))
    m = ["--model", "net.py:Net", "--weights", "w.pt"]

    out = _cli(["export"] + m + ["--input-shape", "2,1,8,8", "-o",
                                 "f.mlir"], tmp_path).stdout
    assert "wrote f.mlir" in out
    assert 'loc("conv")' in (tmp_path / "f.mlir").read_text()
    _cli(["run", "f.mlir", "--input", "x.npy", "--output", "yf.npy"],
         tmp_path)
    out = _cli(["quantize"] + m + ["--calibration", "cal.npy", "--batch",
                                   "2", "-o", "q.mlir"], tmp_path).stdout
    assert "int8" in out and "!quant.uniform" in (tmp_path /
                                                  "q.mlir").read_text()
    # Two calls at once give the statistics of one at a time, so the same
    # module (batches of 3: the last one wraps around).
    for threads in ("1", "2"):
        _cli(["quantize"] + m + ["--calibration", "cal.npy", "--batch", "2",
                                 "--calibration-threads", threads,
                                 "--calibration-batch-size", "3", "-o",
                                 f"qt{threads}.mlir"], tmp_path)
    assert (tmp_path / "qt1.mlir").read_text() == \
        (tmp_path / "qt2.mlir").read_text()
    bad = _cli(["quantize"] + m + ["--calibration", "cal.npy",
                                   "--calibration-threads", "0"], tmp_path,
               check=False)
    assert bad.returncode == 2 and "--calibration-threads" in bad.stderr
    _cli(["run", "q.mlir", "--input", "x.npy", "--output", "yq.npy"],
         tmp_path)
    yf, yq = np.load(tmp_path / "yf.npy"), np.load(tmp_path / "yq.npy")
    assert yf.shape == yq.shape == (2, 4)
    assert V.sqnr_db(yf, yq) > 25
    _cli(["compile", "q.mlir", "-o", "libq.so", "--header", "q.h"],
         tmp_path)
    assert (tmp_path / "libq.so").stat().st_size > 0
    _cli(["compile", "q.mlir", "-o", "libs.so", "--header", "s.h",
          "--static-memory"], tmp_path)
    assert "#define forward_ARENA_SIZE " in (tmp_path / "s.h").read_text()
    out = _cli(["report"] + m + ["--calibration", "cal.npy", "--data",
                                 "x.npy", "--labels", "labels.npy"],
               tmp_path).stdout
    assert "logit SQNR" in out and "loses most:" in out and "conv+relu" \
        in out, out

    bad = _cli(["export", "--model", "net.py:Nope", "--input-shape",
                "1,1,8,8"], tmp_path, check=False)
    assert bad.returncode != 0 and "defines no 'Nope'" in bad.stderr

    _cli(["quantize"] + m + ["--calibration", "cal.npy", "--no-allow-float",
                             "--integer-io", "-o", "qi.mlir"], tmp_path)
    assert "myquant.input_qparams" in (tmp_path / "qi.mlir").read_text()
    out = _cli(["quantize"] + m + ["--calibration", "cal.npy",
                                   "--keep-float", "fc", "--remarks", "-o",
                                   "qk.mlir"], tmp_path)
    assert "'linalg.matmul' stays in float" in out.stderr
    bad = _cli(["quantize"] + m + ["--calibration", "cal.npy",
                                   "--keep-float", "fc2"], tmp_path,
               check=False)
    assert bad.returncode == 1 and "keep_float names 'fc2'" in bad.stderr


# -- the compile cache under threads and processes ---------------------------

def test_threads_first_call_same_batch(tiny):
    """Eight threads making the first call with one batch size at once (the
    build directory race: 'libmodel.so: file too short') all get the result
    of a call made alone."""
    import threading
    model, calib = tiny
    x = calib[:3].numpy()
    with myquant.quantize(model, calib[:8], max_batch=8) as qm, \
            myquant.quantize(model, calib[:8], max_batch=8) as alone:
        barrier = threading.Barrier(8)
        results, errors = [None] * 8, []

        def call(i):
            barrier.wait()
            try:
                # Half of them ask for the int8 text first: the same build.
                if i % 2:
                    assert "!quant.uniform" in qm.quantized_mlir(3)
                results[i] = qm(x)
            except Exception as e:  # noqa: BLE001 (reported below)
                errors.append(repr(e))

        threads = [threading.Thread(target=call, args=(i,))
                   for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        want = alone(x)
        for r in results:
            assert np.array_equal(r.view(np.int32), want.view(np.int32))


def _cached_call(graph, stats, cache_dir, x, barrier, queue):
    from myquant.api import QuantizedModel
    barrier.wait()
    try:
        with QuantizedModel(graph, stats, cache_dir=cache_dir) as qm:
            queue.put(("ok", qm(x)))
    except Exception as e:  # noqa: BLE001 (reported by the parent)
        queue.put(("error", repr(e)))


def test_processes_share_a_cache_dir(qtiny, tmp_path):
    """Two processes building the same model into one cache directory at
    once: both succeed with the same bits, one build remains, no temporary
    file is left, and close() keeps the shared directory."""
    import multiprocessing
    ctx = multiprocessing.get_context("spawn")
    x = np.random.default_rng(4).standard_normal((2, 1, 8, 8)).astype(
        np.float32)
    cache = str(tmp_path / "cache")
    barrier, queue = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_cached_call, args=(
        qtiny.graph, qtiny.stats, cache, x, barrier, queue))
        for _ in range(2)]
    for p in procs:
        p.start()
    got = [queue.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert [kind for kind, _ in got] == ["ok", "ok"], got
    want = qtiny(x)
    for _, y in got:
        assert np.array_equal(y.view(np.int32), want.view(np.int32))
    entries = sorted(os.listdir(cache))
    builds = [e for e in entries if not e.endswith(".lock")]
    assert len(builds) == 1 and builds[0].startswith("q2-"), entries
    files = sorted(os.listdir(os.path.join(cache, builds[0])))
    assert files == ["libmodel.so", "model.h", "model.mlir", "model.q.mlir",
                     "remarks.txt"], files
    # A third model finds the build done and loads the same library.
    with QuantizedModel(qtiny.graph, qtiny.stats,
                                    cache_dir=cache) as qm:
        assert np.array_equal(qm(x), want)
    assert os.path.isdir(os.path.join(cache, builds[0]))

