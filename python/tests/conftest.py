"""Shared fixtures: the built tools and a runner for compiled models.

The build directory comes from MYQUANT_BUILD_DIR (default /work/main/build).
Missing tools make the tests FAIL with a message, never skip.
"""

import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import pytest

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)

from myquant.emit import dense_hex, tensor_type  # noqa: E402

DEFAULT_BUILD_DIR = "/work/main/build"
LLVM_BIN = os.environ.get("MYQUANT_LLVM_BIN", "/usr/lib/llvm-22/bin")
LLVM_LIB = os.environ.get("MYQUANT_LLVM_LIB", "/usr/lib/llvm-22/lib")

# Used only while build/bin/myquant-run does not exist.
LOWER_PIPELINE = (
    "builtin.module(one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map}, "
    "func.func(convert-linalg-to-loops), convert-scf-to-cf, "
    "expand-strided-metadata, lower-affine, convert-to-llvm, "
    "reconcile-unrealized-casts)")


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
            missing = [p for p in (os.path.join(LLVM_BIN, "mlir-opt"),
                                   os.path.join(LLVM_BIN, "mlir-runner"))
                       if not os.path.exists(p)]
            if missing:
                pytest.fail(f"neither {self.run_tool} nor the fallback "
                            f"runner ({', '.join(missing)}) exists",
                            pytrace=False)

    def quantize(self, mlir_text, pass_args, workdir):
        """Runs myquant-opt with pass_args; returns (output text, stderr)."""
        src = os.path.join(workdir, "model.mlir")
        with open(src, "w") as f:
            f.write(mlir_text)
        return _run([self.opt, src] + list(pass_args), "myquant-opt")

    def run(self, module_text, func_name, x, out_shape, workdir):
        """Runs func_name(x) of module_text (any myquant-run level);
        returns the f32 result. Prefers build/bin/myquant-run."""
        x = np.ascontiguousarray(x, np.float32)
        if os.path.exists(self.run_tool):
            return self._run_myquant_run(module_text, func_name, x, workdir)
        return self._run_mlir_runner(module_text, func_name, x, out_shape)

    def _run_myquant_run(self, module_text, func_name, x, workdir):
        src = os.path.join(workdir, "run.mlir")
        with open(src, "w") as f:
            f.write(module_text)
        xin = os.path.join(workdir, "x.npy")
        out = os.path.join(workdir, "out.npy")
        np.save(xin, x)
        _run([self.run_tool, src, f"--function={func_name}",
              f"--input={xin}", f"--output={out}"], "myquant-run")
        return np.load(out)

    def _run_mlir_runner(self, module_text, func_name, x, out_shape):
        # Print the result's bits (as i32) so the comparison is exact.
        xt, yt = tensor_type(x.shape), tensor_type(out_shape)
        it = tensor_type(out_shape, "i32")
        rank = len(out_shape)
        dims = ", ".join(f"d{i}" for i in range(rank))
        idmap = f"affine_map<({dims}) -> ({dims})>"
        iters = ", ".join(['"parallel"'] * rank)
        main = f"""
  func.func @main() {{
    %x = arith.constant {dense_hex(x)} : {xt}
    %y = call @{func_name}(%x) : ({xt}) -> {yt}
    %e = tensor.empty() : {it}
    %b = linalg.generic {{indexing_maps = [{idmap}, {idmap}], iterator_types = [{iters}]}} ins(%y : {yt}) outs(%e : {it}) {{
    ^bb0(%a: f32, %o: i32):
      %c = arith.bitcast %a : f32 to i32
      linalg.yield %c : i32
    }} -> {it}
    %u = tensor.cast %b : {it} to tensor<*xi32>
    call @printMemrefI32(%u) : (tensor<*xi32>) -> ()
    return
  }}
  func.func private @printMemrefI32(tensor<*xi32>)
"""
        text = module_text.rstrip()
        if not text.endswith("}"):
            raise ToolError("unexpected module text")
        text = text[:-1] + main + "}\n"
        lowered, _ = _run([self.opt, "-", "--convert-myquant-to-linalg"],
                          "convert-myquant-to-linalg", stdin=text)
        leftover = [l.strip() for l in lowered.splitlines()
                    if "!quant." in l or "unrealized_conversion_cast" in l]
        if leftover:
            raise ToolError("convert-myquant-to-linalg left quantized types "
                            "or unrealized casts behind:\n  "
                            + "\n  ".join(l[:300] for l in leftover[:6]))
        llvm, _ = _run([os.path.join(LLVM_BIN, "mlir-opt"),
                        f"--pass-pipeline={LOWER_PIPELINE}"],
                       "mlir-opt lowering", stdin=lowered)
        libs = ",".join(os.path.join(LLVM_LIB, l) for l in
                        ("libmlir_c_runner_utils.so",
                         "libmlir_runner_utils.so"))
        out, _ = _run([os.path.join(LLVM_BIN, "mlir-runner"), "-e", "main",
                       "-entry-point-result=void", f"-shared-libs={libs}"],
                      "mlir-runner", stdin=llvm)
        data = out.split("data =", 1)
        if len(data) != 2:
            raise ToolError(f"cannot parse runner output:\n{out[:2000]}")
        ints = [int(t) for t in re.findall(r"-?\d+", data[1])]
        n = int(np.prod(out_shape))
        if len(ints) != n:
            raise ToolError(f"runner printed {len(ints)} values, expected "
                            f"{n}")
        return np.array(ints, np.int64).astype(np.int32).view(
            np.float32).reshape(out_shape)


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
