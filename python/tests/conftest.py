"""Shared fixtures and helpers: the built tools and a runner for compiled
models, the kernel targets this CPU runs, random float data.

The build directory comes from MYQUANT_BUILD_DIR (default: build/ in the
repository).
Missing tools make the tests FAIL with a message, never skip.
"""

import os
import sys
import tempfile

import numpy as np
import pytest

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_DIR = os.path.dirname(PYTHON_DIR)
BENCHMARKS_DIR = os.path.join(REPO_DIR, "benchmarks")
# myquant, and the benchmark scripts (bench.py, models.py) that
# test_benchmarks.py and test_threads.py run.
for _d in (PYTHON_DIR, BENCHMARKS_DIR):
    if _d not in sys.path:
        sys.path.insert(0, _d)

from myquant import tools as T  # noqa: E402

DEFAULT_BUILD_DIR = os.path.join(REPO_DIR, "build")


class ToolError(AssertionError):
    """A tool failed: a failed check of the test (myquant.tools.ToolError
    as an AssertionError)."""


def run_checked(cmd, timeout=120):
    """Runs cmd (a program's path and its arguments) with
    myquant.tools.run_tool; returns (stdout, stderr); raises ToolError with
    the command and its stderr when it fails."""
    try:
        return T.run_tool(str(cmd[0]), cmd[1:], timeout=timeout)
    except T.ToolError as e:
        raise ToolError(str(e)) from None


def quantize_cli(workdir, model_py, class_name, calibration, *fixed):
    """A runner of `python3 -m myquant quantize` in `workdir` on the model
    source `model_py` (written to model.py) and the calibration array
    (written to cal.npy) with the options `fixed`: cli(*extra) returns the
    CompletedProcess."""
    import subprocess
    (workdir / "model.py").write_text(model_py)
    np.save(workdir / "cal.npy", calibration)
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR)

    def cli(*extra):
        return subprocess.run(
            [sys.executable, "-m", "myquant", "quantize", "--model",
             f"model.py:{class_name}", "--calibration", "cal.npy", *fixed,
             *extra],
            cwd=workdir, capture_output=True, text=True, env=env, timeout=300)
    return cli


def rand_f32(rng, *shape, scale=0.3):
    """float32 normal samples of the given shape times scale (weights,
    biases)."""
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def randomize_batchnorm(model, seed=0):
    """Random running statistics (and affine parameters) for every
    BatchNorm2d of a torch model, so that folding them is not the identity;
    returns the model."""
    import torch
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.rand(n, generator=g) - 0.5)
            m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            if m.affine:
                m.weight.data.copy_(torch.rand(n, generator=g) + 0.5)
                m.bias.data.copy_(torch.rand(n, generator=g) - 0.5)
    return model


# A small PyTorch model as the source of a module file (FILE.py:Net for the
# command line): samples [1, 8, 8], conv + relu + max pool + linear.
NET_PY = """\
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 3, 3, padding=1)
        self.fc = nn.Linear(3 * 16, 4)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv(x)), 2)
        return self.fc(x.view(x.size(0), -1))
"""


# ---------------------------------------------------------------------------
# Kernel targets
# ---------------------------------------------------------------------------

def _cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


# Kernel targets of convert-myquant-to-vnni and the CPU flags running them
# needs. Every target must give the same bits as the reference.
_CPU_FLAGS = _cpu_flags()
_AVX512_VNNI = {"avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512_vnni"}
TARGETS = {"generic": set(),
           "avx512-vnni": _AVX512_VNNI,
           "avx512-vnni-256": _AVX512_VNNI,
           "avx-vnni": {"avx2", "avx_vnni"}}

# avx-vnni's dot products are the VEX encodings of AVX512-VL VNNI's ymm
# ones (same intrinsics). On a CPU with AVX-512 VNNI but not AVX-VNNI (Zen
# 4) its kernels run once their functions allow AVX512-VL VNNI instead:
# LLVM then encodes the same code with EVEX. The VEX encoding itself is
# checked by test/Conversion/MyQuantToVnni/encoding.mlir.
_AVX_VNNI_FEATURES = '#llvm.target_features<["+avx2", "+avxvnni"]>'
_AVX_VNNI_AS_EVEX = ('#llvm.target_features<["+avx2", "+avx512f", '
                     '"+avx512vl", "+avx512vnni"]>')
_EVEX_ONLY = (not TARGETS["avx-vnni"] <= _CPU_FLAGS and
              _AVX512_VNNI <= _CPU_FLAGS)


def executable(lowered, target):
    """`lowered` (IR after convert-myquant-to-vnni) in a form this CPU can
    run: avx-vnni kernels re-targeted to the EVEX encoding where needed."""
    if target != "avx-vnni" or not _EVEX_ONLY:
        return lowered
    return lowered.replace(_AVX_VNNI_FEATURES, _AVX_VNNI_AS_EVEX)


# The targets this CPU can execute (the others are checked at the IR and
# machine-code level by the lit tests in test/Conversion/MyQuantToVnni).
RUNNABLE_TARGETS = sorted(t for t, flags in TARGETS.items()
                          if flags <= _CPU_FLAGS or
                          (t == "avx-vnni" and _EVEX_ONLY))


# ---------------------------------------------------------------------------
# The tools
# ---------------------------------------------------------------------------


class Toolchain:
    """Compiles float MLIR with the myquant passes and runs it."""

    def __init__(self, build_dir):
        self.build_dir = build_dir
        self.opt = os.path.join(build_dir, "bin", "myquant-opt")
        self.run_tool = os.path.join(build_dir, "bin", "myquant-run")
        self.compile = os.path.join(build_dir, "bin", "myquant-compile")

    def check(self):
        if not os.path.exists(self.opt):
            pytest.fail(f"myquant-opt not found at {self.opt}; build the "
                        f"project or set MYQUANT_BUILD_DIR", pytrace=False)
        if not os.path.exists(self.run_tool):
            pytest.fail(f"myquant-run not found at {self.run_tool}",
                        pytrace=False)

    def quantize(self, mlir_text, pass_args, workdir):
        """Runs myquant-opt with pass_args; returns (output text, stderr)."""
        src = os.path.join(workdir, "model.mlir")
        with open(src, "w") as f:
            f.write(mlir_text)
        return run_checked([self.opt, src] + list(pass_args))

    def ptq_and_run(self, mlir_text, target, x, workdir):
        """Quantizes annotated float MLIR integer-only (myquant-ptq with
        allow-float=false), lowers it with `target`'s kernels and runs
        forward(x); returns (quantized IR, f32 output)."""
        quantized, _ = self.quantize(
            mlir_text, ["--myquant-ptq=allow-float=false"], workdir)
        return quantized, self.lower_and_run(quantized, target, x, workdir)

    def lower_and_run(self, quantized, target, x, workdir):
        """Lowers quantized IR with `target`'s kernels and runs forward(x);
        returns the f32 output."""
        lowered, _ = self.quantize(
            quantized, [f"--convert-myquant-to-vnni=target={target}",
                        "--convert-myquant-to-linalg"], workdir)
        return self.run(executable(lowered, target), "forward", x, workdir)

    def check_targets(self, quantized, x, want, workdir):
        """Runs quantized IR on every runnable target: each output must be
        bit-identical to want."""
        for target in RUNNABLE_TARGETS:
            got = self.lower_and_run(quantized, target, x, workdir)
            assert np.array_equal(got, want), \
                f"{target}: {describe_mismatches(got, want)}"

    def run(self, module_text, func_name, x, workdir):
        """Runs func_name(x) of module_text (any stage) with myquant-run;
        returns the f32 result."""
        src = os.path.join(workdir, "run.mlir")
        with open(src, "w") as f:
            f.write(module_text)
        return self.run_file(src, func_name,
                             [np.ascontiguousarray(x, np.float32)], workdir)[0]

    def run_file(self, src, func_name, inputs, workdir, num_outputs=1,
                 timeout=120):
        """Runs func_name of the module in file src with myquant-run on the
        arrays inputs (saved as they are, .npy files in workdir); returns
        the list of its num_outputs results."""
        try:
            return T.run_mlir(src, func_name, inputs, workdir, num_outputs,
                              tool=self.run_tool, timeout=timeout)
        except T.ToolError as e:
            raise ToolError(str(e)) from None


def require_torch(test_file):
    """The torch module; without it an ImportError that says how to run
    test_file (the tests that compare with PyTorch fail, never skip)."""
    try:
        import torch
    except ImportError as e:
        raise ImportError(f"{test_file} needs PyTorch with qnnpack (Debian "
                          f"python3-torch): run it with /usr/bin/python3"
                          ) from e
    return torch


# What agreement with PyTorch's qnnpack means (issue 5): per layer, at least
# this fraction of the 8-bit outputs identical and none further apart.
QNNPACK_MIN_FRACTION_EQUAL = 0.9999
QNNPACK_MAX_ABS_DIFF = 1


def qnnpack_qconfig():
    """PyTorch's static quantization as the qnnpack comparisons use it:
    MinMax observers on quint8 activations, per-tensor symmetric qint8
    weights."""
    from torch.ao.quantization import (MinMaxObserver, QConfig,
                                       default_weight_observer)
    import torch
    return QConfig(activation=MinMaxObserver.with_args(dtype=torch.quint8),
                   weight=default_weight_observer)


def describe_mismatches(got, want, limit=6):
    """'N of M differ: (index): got vs want, ...' for two arrays of the same
    shape."""
    diff = np.argwhere(got != want)
    where = ", ".join(f"{tuple(int(t) for t in i)}: {got[tuple(i)]} vs "
                      f"{want[tuple(i)]}" for i in diff[:limit])
    return f"{len(diff)} of {got.size} differ: {where}"


@pytest.fixture(scope="session")
def build_dir():
    return os.environ.get("MYQUANT_BUILD_DIR", DEFAULT_BUILD_DIR)


@pytest.fixture(scope="session")
def toolchain(build_dir):
    tc = Toolchain(build_dir)
    tc.check()
    return tc


@pytest.fixture
def workdir():
    with tempfile.TemporaryDirectory(prefix="myquant-e2e-") as d:
        yield d


@pytest.fixture(scope="module")
def qnnpack_engine():
    """Runs a module's tests with PyTorch's qnnpack engine on one thread."""
    import torch
    if "qnnpack" not in torch.backends.quantized.supported_engines:
        pytest.fail("this torch has no qnnpack engine", pytrace=False)
    old, old_threads = torch.backends.quantized.engine, torch.get_num_threads()
    torch.backends.quantized.engine = "qnnpack"
    torch.set_num_threads(1)
    yield
    torch.backends.quantized.engine = old
    torch.set_num_threads(old_threads)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: a whole torchvision model through the compiler "
        "(minutes); runs only with MYQUANT_SLOW=1")


def pytest_collection_modifyitems(config, items):
    # Slow tests are opt-in so that the default run stays bounded.
    if os.environ.get("MYQUANT_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow; set MYQUANT_SLOW=1 to run")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
