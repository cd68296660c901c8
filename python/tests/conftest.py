"""Shared fixtures: the built tools and a runner for compiled models.

The build directory comes from MYQUANT_BUILD_DIR (default: build/ in the
repository).
Missing tools make the tests FAIL with a message, never skip.
"""

import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)


DEFAULT_BUILD_DIR = os.path.join(os.path.dirname(PYTHON_DIR), "build")

class ToolError(AssertionError):
    pass


def _run(cmd, what, stdin=None, timeout=120):
    p = subprocess.run(cmd, input=stdin, capture_output=True, text=True,
                       timeout=timeout)
    if p.returncode != 0:
        raise ToolError(f"{what} failed (exit {p.returncode}):\n$ "
                        f"{' '.join(cmd)}\n{p.stderr[:4000]}")
    return p.stdout, p.stderr


class Toolchain:
    """Compiles float MLIR with the myquant passes and runs it."""

    def __init__(self, build_dir):
        self.build_dir = build_dir
        self.opt = os.path.join(build_dir, "bin", "myquant-opt")
        self.run_tool = os.path.join(build_dir, "bin", "myquant-run")

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
        return _run([self.opt, src] + list(pass_args), "myquant-opt")

    def run(self, module_text, func_name, x, workdir):
        """Runs func_name(x) of module_text (any stage) with myquant-run;
        returns the f32 result."""
        x = np.ascontiguousarray(x, np.float32)
        src = os.path.join(workdir, "run.mlir")
        with open(src, "w") as f:
            f.write(module_text)
        xin = os.path.join(workdir, "x.npy")
        out = os.path.join(workdir, "out.npy")
        np.save(xin, x)
        _run([self.run_tool, src, f"--function={func_name}",
              f"--input={xin}", f"--output={out}"], "myquant-run")
        return np.load(out)


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
