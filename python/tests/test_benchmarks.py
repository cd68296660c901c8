"""The benchmark scripts run (their figures are not checked here: timing
belongs to the benchmarks): one example model through bench.py's model
section with the PyTorch baselines, its compile-time section on a short
chain, and peak_heap.py. A benchmark that stopped running would otherwise go
unnoticed until the next measurement.

The model section compiles the avx512-vnni kernels, so it needs a CPU that
runs them."""

import importlib.util
import os
import subprocess
import sys

import pytest

# conftest puts benchmarks/ on the path.
from conftest import BENCHMARKS_DIR, RUNNABLE_TARGETS

import bench as B

needs_avx512_vnni = pytest.mark.skipif(
    "avx512-vnni" not in RUNNABLE_TARGETS,
    reason="bench.py's models run the avx512-vnni kernels")


@needs_avx512_vnni
def test_model_section(build_dir, workdir):
    tc = B.Toolchain(build_dir, workdir)
    timer = B.Timer(workdir)
    # The PyTorch baselines when this Python has torch (Debian's does).
    use_torch = importlib.util.find_spec("torch") is not None
    rows, sizes = B.bench_models(tc, timer, ["small_cnn"], [1], budget=0.01,
                                 use_torch=use_torch)
    [(name, batch, times, same, gops)] = rows
    assert (name, batch) == ("small_cnn", 1)
    assert same, "VNNI and generic int8 outputs differ"
    assert set(times) == {"int8 vnni", "int8 generic", "f32"} | (
        {"torch f32", "torch int8"} if use_torch else set())
    assert all(0 < t[0] <= t[1] for t in times.values()), times
    assert gops > 0
    assert {tag for _, tag, _ in sizes} == {"int8 vnni", "int8 generic",
                                            "f32"}


def test_compile_section(build_dir, workdir):
    tc = B.Toolchain(build_dir, workdir)
    [row] = B.bench_compile(tc, [2], big=False)
    assert row[0] == "chain of 2" and float(row[5]) > 0, row


@needs_avx512_vnni
def test_peak_heap(build_dir):
    out = subprocess.run(
        [sys.executable, os.path.join(BENCHMARKS_DIR, "peak_heap.py"),
         "--build", build_dir], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    # One row per model and batch, each with a positive peak.
    rows = [line.split() for line in out.stdout.splitlines()
            if line.split()[:1] and line.split()[0] in
            ("small_cnn", "residual_cnn", "dw_separable")]
    assert len(rows) == 6, out.stdout
    assert all(float(r[2]) > 0 for r in rows), out.stdout


def test_static_memory(build_dir, workdir):
    """static_memory.py on the example model: the header's figures and the
    object's code size come back, the arena at least its bound."""
    import static_memory as S
    tc = B.Toolchain(build_dir, workdir)
    memory, code = S.measure(tc, S.example_model(workdir), "generic")
    assert memory["ARENA_SIZE"] >= memory["PEAK_LIVE"] > 0, memory
    assert memory["WEIGHTS_SIZE"] > 0 and code > 0, (memory, code)


def _small_cnn(build_dir, workdir):
    """The example CNN at batch 1: (model, quantized module's path,
    input)."""
    import numpy as np
    import models as M
    from myquant.emit import emit
    tc = B.Toolchain(build_dir, workdir)
    stats, _ = B.model_stats(M.small_cnn, np.random.default_rng(0))
    model = M.small_cnn(1)
    qpath = tc.write(tc.quantize(emit(model, stats)))
    x = np.random.default_rng(1).standard_normal(
        model.input_shape).astype(np.float32)
    return model, qpath, x


@needs_avx512_vnni
def test_layer_profile(build_dir, workdir):
    """layer_profile.py maps each kernel call to its op: the example CNN's
    three convolutions and its classifier, in order, whose MACs add up to
    the model's, each with a time."""
    import layer_profile as L
    import models as M
    model, qpath, x = _small_cnn(build_dir, workdir)
    rows, fastest = L.Profiler(build_dir, workdir).profile(
        qpath, x, model.shapes[model.output], calls=3)
    kernels = [r for r in rows if r[0] == "kernel"]
    assert [r[1] for r in kernels] == [
        "conv 3x3 3->32 @32", "conv 3x3 32->64 @16", "conv 3x3 64->128 @8",
        "matmul 1x128 -> 10"], rows
    assert sum(r[3] for r in kernels) == M.macs(model)
    assert all(r[2] > 0 for r in kernels), rows
    # The fastest call is its kernels and the rest; each row is a minimum
    # over the calls, so the rows add up to no more than that call.
    assert 0 < fastest.kernels < fastest.call, fastest
    assert sum(r[2] for r in rows) <= fastest.call + 1e-9, (rows, fastest)
    assert sum(r[2] for r in kernels) <= fastest.kernels + 1e-9
    assert fastest.clock == "wall time"
    # A "between" row before each kernel and one after the last.
    assert [r[0] for r in rows] == ["between", "kernel"] * 4 + ["between"]
    # --cpu-time: the same rows in the thread's CPU time.
    cpu_rows, _ = L.Profiler(build_dir, workdir).profile(
        qpath, x, model.shapes[model.output], calls=3, cpu_time=True)
    assert [r[:2] for r in cpu_rows] == [r[:2] for r in rows]
    assert all(r[2] > 0 for r in cpu_rows if r[0] == "kernel"), cpu_rows


@needs_avx512_vnni
def test_layer_profile_threads(build_dir, workdir):
    """layer_profile.py --threads profiles the kernels compiled with
    --kernel-threads=2 (the same kernels in the same order) and times an
    empty OpenMP region."""
    import layer_profile as L
    model, qpath, x = _small_cnn(build_dir, workdir)
    prof = L.Profiler(build_dir, workdir)
    one, _ = prof.profile(qpath, x, model.shapes[model.output], calls=3)
    two, fastest = prof.profile(qpath, x, model.shapes[model.output],
                                calls=3, threads=2)
    assert [r[:2] for r in two] == [r[:2] for r in one], (one, two)
    assert all(r[2] > 0 for r in two if r[0] == "kernel"), two
    assert fastest.call > 0, fastest
    regions = L.fork_join(workdir, 2, regions=50)
    assert all(0 < lo <= med < 1 for lo, med in regions.values()), regions


@needs_avx512_vnni
def test_float_layer_profile(build_dir, workdir):
    """layer_profile.py --float names each f32 kernel by its torch module,
    in order, with the MACs of its op and a time, and what runs between
    kernels (here the max pool)."""
    torch = pytest.importorskip("torch")
    import numpy as np
    import layer_profile as L
    from myquant.emit import emit
    from myquant.export import export

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = torch.nn.Conv2d(3, 16, 3, padding=1)
            self.pool = torch.nn.MaxPool2d(2)
            self.body = torch.nn.Conv2d(16, 16, 3, padding=1)
            self.fc = torch.nn.Linear(16 * 8 * 8, 16)

        def forward(self, x):
            x = self.pool(torch.relu(self.stem(x)))
            x = torch.relu(self.body(x) + x)
            return self.fc(torch.flatten(x, 1))

    torch.manual_seed(0)
    x = np.random.default_rng(1).standard_normal((1, 3, 16, 16)).astype(
        np.float32)
    path = os.path.join(workdir, "net.f32.mlir")
    with open(path, "w") as f:
        f.write(emit(export(Net().eval(), x)))
    rows, total = L.Profiler(build_dir, workdir).float_rows(
        path, x, (1, 16), calls=3)
    kernels = [r for r in rows if r[0] == "kernel"]
    assert [r[1] for r in kernels] == ["stem", "body", "fc"], rows
    assert [r[3] for r in kernels] == [
        16 * 16 * 16 * 27, 16 * 8 * 8 * 144, 16 * 8 * 8 * 16], rows
    assert all(r[2] > 0 for r in kernels) and total > 0, rows
    assert [r[0] for r in rows] == ["between", "kernel"] * 3 + ["between"]
    assert "pooling_nchw_max pool" in rows[2][1], rows
