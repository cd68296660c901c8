"""Bad inputs, one row each: what every tool and entry point must say.

This module is THE place that lists bad inputs of myquant-opt, myquant-run,
myquant-compile, the command line (``python3 -m myquant``) and the Python
API, and the key phrase each must answer with (issue 13, item 3). A new bad
input is a new row of ROWS: a ``BadInput`` naming

- ``tool``: "myquant-opt", "myquant-run", "myquant-compile" (the built
  tools), "cli" (``python3 -m myquant``) or "api" (a Python call);
- ``args``: a function of an ``Env`` (which writes the files of the row
  into a temporary directory: models, .npy files, raw bytes, JSON) that
  returns the command-line arguments, or for "api" a function of no
  argument making the call;
- ``expect``: a substring of the error (stderr, or the exception's
  message), the part that says what is wrong (or a compiled regex, where
  the spelling is not settled yet);
- ``exit``: the exit code (1; argparse's usage errors exit with 2);
  ``exc``: the exception type of an "api" row (ValueError);
- ``absent``: files a failed command must not leave behind;
- ``fixed_in``: for a case another branch is fixing, that branch; the row
  runs as a strict xfail (it must fail until that branch is merged, then
  the mark is removed).

Every command row also checks that the command failed cleanly: exit code
``exit`` (not a signal), no "Stack dump", "LLVM ERROR", "PLEASE submit a
bug report" or Python "Traceback" on stderr.

Run: MYQUANT_BUILD_DIR=build /usr/bin/python3 -m pytest -q \
    python/tests/test_bad_inputs.py
"""

import dataclasses
import json
import os
import re
import subprocess
import sys
from typing import Callable, Optional

import numpy as np
import pytest

from conftest import NET_PY, PYTHON_DIR, TARGETS, _CPU_FLAGS

import myquant

# -- files the rows use ------------------------------------------------------

# A linear layer (x @ w^T + b) annotated with myquant.stats: the input of
# myquant-opt --myquant-ptq. WEIGHT is its first weight.
_ANNOTATED = """\
func.func @linear(%x: tensor<2x4xf32>) -> tensor<2x3xf32> {
  %xs = myquant.stats %x {min = array<f64: 0.0>, max = array<f64: 1.0>} : tensor<2x4xf32>
  %w = arith.constant dense<[[WEIGHT, -1.0, 0.25, 0.0], [1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]]> : tensor<3x4xf32>
  %b = arith.constant dense<[0.5, -0.25, 0.0]> : tensor<3xf32>
  %z = arith.constant 0.0 : f32
  %et = tensor.empty() : tensor<4x3xf32>
  %wt = linalg.transpose ins(%w : tensor<3x4xf32>) outs(%et : tensor<4x3xf32>) permutation = [1, 0]
  %e = tensor.empty() : tensor<2x3xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %m = linalg.matmul ins(%xs, %wt : tensor<2x4xf32>, tensor<4x3xf32>) outs(%f : tensor<2x3xf32>) -> tensor<2x3xf32>
  %ba = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%m, %b : tensor<2x3xf32>, tensor<3xf32>) outs(%e : tensor<2x3xf32>) {
  ^bb0(%in: f32, %in2: f32, %out: f32):
    %s = arith.addf %in, %in2 : f32
    linalg.yield %s : f32
  } -> tensor<2x3xf32>
  %bs = myquant.stats %ba {min = array<f64: -1.0>, max = array<f64: 4.5>} : tensor<2x3xf32>
  return %bs : tensor<2x3xf32>
}
"""

# A float function of one [2, 4] input and one of two results.
_FLOAT = """\
func.func @relu(%x: tensor<2x4xf32> loc("input")) -> tensor<2x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x4xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<2x4xf32>) outs(%e : tensor<2x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<2x4xf32> loc("relu")
  return %r : tensor<2x4xf32>
}

func.func @two(%x: tensor<2x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>) {
  %r = func.call @relu(%x) : (tensor<2x4xf32>) -> tensor<2x4xf32>
  return %r, %x : tensor<2x4xf32>, tensor<2x4xf32>
}
"""

def _samples(*shape, dtype=np.float32):
    return np.random.default_rng(0).standard_normal(shape).astype(dtype)


class Env:
    """The files of one row, written on demand into a temporary
    directory; each method returns the path."""

    def __init__(self, directory):
        self.dir = directory

    def path(self, name):
        return os.path.join(self.dir, name)

    def text(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)
        return self.path(name)

    def raw(self, name, data):
        with open(self.path(name), "wb") as f:
            f.write(data)
        return self.path(name)

    def npy(self, name, array, **kwargs):
        np.save(self.path(name), array, **kwargs)
        return self.path(name)

    def npz(self, name, **arrays):
        np.savez(self.path(name), **arrays)
        return self.path(name)

    def truncated_npy(self, name, array, drop=4):
        """A .npy file of array without its last `drop` bytes."""
        self.npy(name, array)
        with open(self.path(name), "rb") as f:
            data = f.read()
        return self.raw(name, data[:-drop])

    def torch_save(self, name, obj):
        import torch
        torch.save(obj, self.path(name))
        return self.path(name)

    def json(self, name, obj):
        return self.text(name, json.dumps(obj))

    # The models.
    def annotated(self, weight="0.5"):
        return self.text("annotated.mlir",
                         _ANNOTATED.replace("WEIGHT", weight))

    def float_model(self):
        return self.text("float.mlir", _FLOAT)

    def stats(self, entry, name="input"):
        """myquant-import-stats of a stats file with one entry."""
        return [self.float_model(), "--myquant-import-stats=file=" +
                self.json("stats.json", {"function": "relu",
                                         "values": {name: entry}})]

    def calibrate(self, data, *options):
        """myquant-calibrate of @relu on the calibration data file."""
        opts = " ".join(("function=relu", f"data={data}") + options)
        return [self.float_model(), f"--myquant-calibrate={opts}"]

    def net(self):
        """--model of the "cli" rows, with good calibration data in
        cal.npy."""
        self.text("net.py", NET_PY)
        self.npy("cal.npy", _samples(8, 1, 8, 8))
        return ["--model", self.path("net.py") + ":Net"]

    def quantize(self, calibration, *more):
        return ["quantize"] + self.net() + ["--calibration", calibration,
                                            "-o", self.path("q.mlir")] + \
            list(more)


@dataclasses.dataclass
class BadInput:
    id: str
    tool: str
    args: Callable
    expect: str
    exit: int = 1
    exc: type = ValueError
    absent: tuple = ()
    fixed_in: Optional[str] = None


# -- the Python API ----------------------------------------------------------

_qmodel_cache = []


def _qmodel():
    """A quantized Net (max_batch 4), built once for the "api" rows."""
    if not _qmodel_cache:
        _qmodel_cache.append(myquant.quantize(_torch_net(),
                                              _samples(8, 1, 8, 8),
                                              max_batch=4))
    return _qmodel_cache[0]


def _torch_net():
    import torch
    scope = {}
    exec(NET_PY, scope)  # noqa: S102 (the module the "cli" rows import)
    torch.manual_seed(0)
    return scope["Net"]().eval()


def _closed_model():
    qm = myquant.api.QuantizedModel(_qmodel().graph, _qmodel().stats)
    qm.close()
    return qm


# -- the table ---------------------------------------------------------------

_X = _samples(2, 4)
_NO_AVX_VNNI = not TARGETS["avx-vnni"] <= _CPU_FLAGS

ROWS = [
    # myquant-opt: malformed IR, pass options, stats files, calibration data.
    BadInput("opt-malformed-ir", "myquant-opt",
             lambda e: [e.text("bad.mlir", "func.func @f(%x: tensor<2xf32>"
                                           ") {\n  return %y : tensor<2xf32>"
                                           "\n}\n")],
             "bad.mlir:2:10: error: use of undeclared SSA value name"),
    BadInput("opt-unknown-rounding", "myquant-opt",
             lambda e: [e.annotated(), "--myquant-ptq=rounding=nearest"],
             "Cannot find option named 'nearest'"),
    BadInput("opt-stats-missing-file", "myquant-opt",
             lambda e: [e.float_model(), "--myquant-import-stats=file=" +
                        e.path("missing.json")],
             "cannot read stats file"),
    BadInput("opt-stats-not-json", "myquant-opt",
             lambda e: [e.float_model(), "--myquant-import-stats=file=" +
                        e.text("s.json", '{"values": {}\n"x": 1}')],
             "is not valid JSON"),
    BadInput("opt-stats-version", "myquant-opt",
             lambda e: [e.float_model(), "--myquant-import-stats=file=" +
                        e.json("s.json", {"version": 2, "values": {}})],
             "unsupported version (expected 1)"),
    BadInput("opt-stats-no-max", "myquant-opt",
             lambda e: e.stats({"min": 0}), "entry 'input': 'max' is missing"),
    BadInput("opt-stats-zero-point", "myquant-opt",
             lambda e: e.stats({"scale": 0.1, "zero_point": 300}),
             "scale 0.1 and zero point 300 do not come from any range"),
    BadInput("opt-stats-dtype", "myquant-opt",
             lambda e: e.stats({"scale": 0.1, "zero_point": 0,
                                "dtype": "int4"}),
             "unknown dtype 'int4'"),
    BadInput("opt-stats-stale-name", "myquant-opt",
             lambda e: e.stats({"min": 0, "max": 1}, name="conv9"),
             "entry 'conv9' names no value of @relu"),
    BadInput("opt-stats-stale-shape", "myquant-opt",
             lambda e: e.stats({"shape": [2, 5], "min": 0, "max": 1}),
             "entry 'input' has shape [2, 5] but the value is "
             "'tensor<2x4xf32>'"),
    BadInput("opt-stats-inverted", "myquant-opt",
             lambda e: e.stats({"min": 3, "max": 1}, name="relu"),
             "range 0 is inverted"),
    BadInput("opt-stats-qmin-qmax-int64-limits", "myquant-opt",
             lambda e: e.stats({"scale": 0.1, "zero_point": 0,
                                "qmin": -2**63, "qmax": 2**63 - 1}),
             "qmin"),
    BadInput("opt-stats-not-8-bit", "myquant-opt",
             lambda e: e.stats({"scale": 0.1, "zero_point": 0,
                                "qmin": -100000, "qmax": 100000}),
             "is not 8-bit"),
    BadInput("opt-keep-float-unknown-op", "myquant-opt",
             lambda e: [e.annotated(), "--myquant-ptq=keep-float=linalg.matmull"],
             "'linalg.matmull', which is neither a registered operation"),
    BadInput("opt-ptq-percentile-without-data", "myquant-opt",
             lambda e: [e.annotated(), "--myquant-ptq=calibration-percentile=200"],
             "calibration-percentile must be in (50, 100], got 200"),
    BadInput("opt-calibrate-no-data", "myquant-opt",
             lambda e: [e.float_model(), "--myquant-calibrate"],
             "needs calibration data"),
    BadInput("opt-calibrate-method", "myquant-opt",
             lambda e: e.calibrate(e.npy("x.npy", _X), "method=kl"),
             "unknown calibration method 'kl'"),
    BadInput("opt-calibrate-shape", "myquant-opt",
             lambda e: e.calibrate(e.npy("x.npy", _samples(3, 5))),
             "expected samples of shape (4,)"),
    BadInput("opt-calibrate-dtype", "myquant-opt",
             lambda e: e.calibrate(e.npy("x.npy", _X.astype(np.float64))),
             "expected dtype '<f4'"),
    BadInput("opt-calibrate-truncated-npy", "myquant-opt",
             lambda e: e.calibrate(e.truncated_npy("x.npy", _X)),
             "needs 32 bytes of data, but the file has 28"),
    BadInput("opt-calibrate-not-a-zip", "myquant-opt",
             lambda e: e.calibrate(e.raw("x.npz", b"PK\x03\x04 no zip")),
             "malformed .npz (zip) file"),
    BadInput("opt-nan-weight", "myquant-opt",
             lambda e: [e.annotated(weight="0x7FC00000"), "--myquant-ptq"],
             re.compile("nan", re.IGNORECASE)),

    # myquant-run: functions, argument counts, .npy defects.
    BadInput("run-no-function", "myquant-run",
             lambda e: [e.float_model(), "--function=missing",
                        "--input=" + e.npy("x.npy", _X)],
             "no function named @missing in the module (public functions: "
             "@relu, @two)"),
    BadInput("run-input-count", "myquant-run",
             lambda e: [e.float_model(), "--function=relu"],
             "@relu takes 1 argument but 0 --input files given"),
    BadInput("run-output-count", "myquant-run",
             lambda e: [e.float_model(), "--function=relu",
                        "--input=" + e.npy("x.npy", _X),
                        "--output=" + e.path("a.npy"),
                        "--output=" + e.path("b.npy")],
             "@relu returns 1 result but 2 --output files given",
             absent=("a.npy", "b.npy")),
    BadInput("run-missing-input", "myquant-run",
             lambda e: [e.float_model(), "--function=relu",
                        "--input=" + e.path("nope.npy")],
             "cannot read"),
    BadInput("run-wrong-shape", "myquant-run",
             lambda e: [e.float_model(), "--function=relu",
                        "--input=" + e.npy("x.npy", _samples(2, 5))],
             "holds dtype '<f4', shape (2, 5): wrong shape"),
    BadInput("run-wrong-rank", "myquant-run",
             lambda e: [e.float_model(), "--function=relu",
                        "--input=" + e.npy("x.npy", _samples(8))],
             "wrong rank"),
    BadInput("run-wrong-dtype", "myquant-run",
             lambda e: [e.float_model(), "--function=relu",
                        "--input=" + e.npy("x.npy", _X.astype(np.float64))],
             "holds dtype '<f8', shape (2, 4): wrong dtype"),
    BadInput("run-complex", "myquant-run",
             lambda e: [e.float_model(), "--function=relu",
                        "--input=" + e.npy("x.npy", _X + 1j)],
             "wrong dtype"),
    BadInput("run-fortran-order", "myquant-run",
             lambda e: [e.float_model(), "--function=relu",
                        "--input=" + e.npy("x.npy", np.asfortranarray(_X))],
             "Fortran order is not supported"),
    BadInput("run-truncated-npy", "myquant-run",
             lambda e: [e.float_model(), "--function=relu",
                        "--input=" + e.truncated_npy("x.npy", _X)],
             "needs 32 bytes of data, but the file has 28"),
    BadInput("run-not-npy", "myquant-run",
             lambda e: [e.float_model(), "--function=relu",
                        "--input=" + e.float_model()],
             "not a .npy file (bad magic)"),
    BadInput("run-shared-libs-missing", "myquant-run",
             lambda e: [e.float_model(), "--function=relu",
                        "--input=" + e.npy("x.npy", _X),
                        "--shared-libs=" + e.path("libnope.so")],
             "libnope.so"),
    BadInput("run-second-output-unwritable", "myquant-run",
             lambda e: [e.float_model(), "--function=two",
                        "--input=" + e.npy("x.npy", _X),
                        "--output=" + e.path("first.npy"),
                        "--output=" + e.path("no-dir/second.npy")],
             "second.npy", absent=("first.npy",)),

    # myquant-compile.
    BadInput("compile-malformed-ir", "myquant-compile",
             lambda e: [e.text("bad.mlir", "func.func @f(\n"),
                        "--function=f", "-o", e.path("x.o")],
             "cannot parse", absent=("x.o",)),
    BadInput("compile-no-function", "myquant-compile",
             lambda e: [e.float_model(), "--function=nope",
                        "-o", e.path("x.o")],
             "no function named @nope in the module", absent=("x.o",)),
    BadInput("compile-flags", "myquant-compile",
             lambda e: [e.float_model(), "--function=relu", "--shared",
                        "--emit-llvm", "-o", e.path("x")],
             "--shared and --emit-llvm cannot be combined"),
    BadInput("compile-missing-cc", "myquant-compile",
             lambda e: [e.float_model(), "--function=relu",
                        "-o", e.path("x.o"), "--cc=" + e.path("no-cc")],
             "cannot run", absent=("x.o",)),
    BadInput("compile-dev-full", "myquant-compile",
             lambda e: [e.float_model(), "--function=relu", "--emit-llvm",
                        "-o", "/dev/full"],
             "/dev/full"),
    BadInput("compile-header-left-behind", "myquant-compile",
             lambda e: [e.float_model(), "--function=relu", "--shared",
                        "--header=" + e.path("h.h"),
                        "-o", e.path("no-dir/lib.so")],
             "lib.so", absent=("h.h",)),

    # python3 -m myquant.
    BadInput("cli-batch-0", "cli",
             lambda e: e.quantize(e.path("cal.npy"), "--batch", "0"),
             "argument --batch: expected a positive integer, not '0'",
             exit=2),
    BadInput("cli-num-samples-negative", "cli",
             lambda e: e.quantize(e.path("cal.npy"), "--num-samples", "-3"),
             "argument --num-samples: expected a positive integer", exit=2),
    BadInput("cli-calibration-wrong-shape", "cli",
             lambda e: e.quantize(e.npy("c.npy", _samples(4, 1, 12, 12))),
             "c.npy': the model does not run on its samples of shape "
             "[1, 12, 12]", absent=("q.mlir",)),
    BadInput("cli-calibration-truncated", "cli",
             lambda e: e.quantize(e.truncated_npy("c.npy",
                                                  _samples(4, 1, 8, 8))),
             "c.npy' is not a readable .npy array", absent=("q.mlir",)),
    BadInput("cli-calibration-complex", "cli",
             lambda e: e.quantize(e.npy("c.npy", _samples(4, 1, 8, 8) + 1j)),
             "c.npy' holds complex values (complex64)"),
    BadInput("cli-calibration-npz", "cli",
             lambda e: e.quantize(e.npz("c.npz", a=_X)),
             "c.npz' is an .npz archive"),
    BadInput("cli-calibration-pickled", "cli",
             lambda e: e.quantize(e.npy("c.npy", np.array([{}], object),
                                        allow_pickle=True)),
             "c.npy' is not a readable .npy array (Object arrays cannot be "
             "loaded"),
    BadInput("cli-calibration-strings", "cli",
             lambda e: e.quantize(e.npy("c.npy", np.array(["a", "b"]))),
             "c.npy' holds <U1 values, not numbers"),
    BadInput("cli-calibration-missing", "cli",
             lambda e: e.quantize(e.path("none.npy")),
             "none.npy' does not exist"),
    BadInput("cli-report-data-shape", "cli",
             lambda e: ["report"] + e.net() + [
                 "--calibration", e.path("cal.npy"),
                 "--data", e.npy("d.npy", _samples(2, 1, 12, 12))],
             "d.npy' has samples of shape [1, 12, 12]; the model"),
    BadInput("cli-export-shape", "cli",
             lambda e: ["export"] + e.net() + [
                 "--calibration", e.path("cal.npy"),
                 "--input-shape", "1,1,12,12"],
             "cal.npy' has samples of shape [1, 8, 8], --input-shape"),
    BadInput("cli-model-missing-name", "cli",
             lambda e: ["export", "--model", e.net()[1].replace(":Net",
                                                                 ":Nope"),
                        "--input-shape", "1,1,8,8"],
             "defines no 'Nope'"),
    BadInput("cli-model-syntax-error", "cli",
             lambda e: ["export", "--model", e.text("m.py", "def f(:\n") +
                        ":Net", "--input-shape", "1,1,8,8"],
             "m.py failed: SyntaxError: invalid syntax"),
    BadInput("cli-model-not-torch-save", "cli",
             lambda e: ["export", "--model", e.text("m.pt", "garbage"),
                        "--input-shape", "1,1,8,8"],
             "m.pt' is not a file written by torch.save"),
    BadInput("cli-weights-do-not-fit", "cli",
             lambda e: ["export"] + e.net() + [
                 "--weights", e.torch_save("w.pt", {"x": np.zeros(2)}),
                 "--input-shape", "1,1,8,8"],
             "w.pt' does not fit --model"),
    BadInput("cli-output-dir-missing", "cli",
             lambda e: ["export"] + e.net() + [
                 "--input-shape", "1,1,8,8", "-o", e.path("no/f.mlir")],
             "No such file or directory"),
    BadInput("cli-run-truncated-input", "cli",
             lambda e: ["run", e.float_model(), "--function=relu",
                        "--input", e.truncated_npy("x.npy", _X)],
             "x.npy' is not a readable .npy array"),

    # The Python API (myquant.quantize, QuantizedModel).
    BadInput("api-max-batch-0", "api",
             lambda e: lambda: myquant.quantize(_torch_net(),
                                                  _samples(4, 1, 8, 8),
                                                  max_batch=0),
             "max_batch (the largest batch compiled) must be a positive "
             "integer, not 0"),
    BadInput("api-max-batch-float", "api",
             lambda e: lambda: myquant.quantize(_torch_net(),
                                                  _samples(4, 1, 8, 8),
                                                  max_batch=2.5),
             "must be a positive integer, not 2.5"),
    BadInput("api-batch-0", "api",
             lambda e: lambda: _qmodel().compiled(0),
             "the batch size must be a positive integer, not 0"),
    BadInput("api-complex-input", "api",
             lambda e: lambda: _qmodel()(_samples(2, 1, 8, 8) + 1j),
             "the input is complex (complex64)"),
    BadInput("api-complex-calibration", "api",
             lambda e: lambda: myquant.quantize(
                 _torch_net(), _samples(4, 1, 8, 8) + 1j),
             "calibration data is complex"),
    BadInput("api-input-shape", "api",
             lambda e: lambda: _qmodel()(_samples(2, 1, 9, 9)),
             "the model takes [N, 1, 8, 8]"),
    BadInput("api-calibration-method", "api",
             lambda e: lambda: myquant.quantize(
                 _torch_net(), _samples(4, 1, 8, 8), method="kl"),
             "calibration method"),
    BadInput("api-rounding", "api",
             lambda e: lambda: myquant.quantize(
                 _torch_net(), _samples(4, 1, 8, 8), rounding="nearest"),
             "rounding must be 'single' or 'gemmlowp', not 'nearest'"),
    BadInput("api-closed-model", "api",
             lambda e: lambda: _closed_model().compiled(2),
             "the model was closed", exc=RuntimeError),
]

if _NO_AVX_VNNI:
    ROWS.append(BadInput(
        "run-avx-vnni-on-this-cpu", "myquant-run",
        lambda e: [e.float_model(), "--function=relu", "--target=avx-vnni",
                   "--input=" + e.npy("x.npy", _X)],
        "avx-vnni"))


def _param(row):
    marks = ()
    if row.fixed_in:
        marks = pytest.mark.xfail(strict=True,
                                  reason=f"fixed in the {row.fixed_in} branch")
    return pytest.param(row, id=row.id, marks=marks)


def _says(text, expect):
    if isinstance(expect, re.Pattern):
        return expect.search(text) is not None
    return expect in text


_CRASH_MARKS = ("Stack dump", "LLVM ERROR", "PLEASE submit a bug report",
                "Traceback (most recent call last)")


@pytest.mark.parametrize("row", [_param(r) for r in ROWS])
def test_bad_input(row, toolchain, tmp_path):
    env = Env(str(tmp_path))
    if row.tool == "api":
        call = row.args(env)
        with pytest.raises(row.exc) as info:
            call()
        assert _says(str(info.value), row.expect), str(info.value)
        return
    programs = {"cli": [sys.executable, "-m", "myquant"],
                "myquant-opt": [toolchain.opt],
                "myquant-run": [toolchain.run_tool],
                "myquant-compile": [toolchain.compile]}
    cmd = programs[row.tool] + [str(a) for a in row.args(env)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                       cwd=env.dir, env=dict(os.environ,
                                             PYTHONPATH=PYTHON_DIR))
    shown = f"$ {' '.join(cmd)}\nexit {p.returncode}\n{p.stderr[-3000:]}"
    assert p.returncode == row.exit, shown
    for mark in _CRASH_MARKS:
        assert mark not in p.stderr, shown
    assert _says(p.stderr, row.expect), shown
    left = [f for f in row.absent if os.path.exists(env.path(f))]
    assert not left, f"the failed command left {left}\n{shown}"


def test_every_row_is_named_once():
    ids = [r.id for r in ROWS]
    assert len(ids) == len(set(ids)), sorted(i for i in ids
                                             if ids.count(i) > 1)


def test_tool_timeout_is_a_tool_error():
    """A tool past the timeout a caller gives is a ToolError naming it, not
    a TimeoutExpired from subprocess (the tools have no timeout by
    default)."""
    from myquant import tools as T
    with pytest.raises(T.ToolError, match=r"sleep did not finish within "
                                          r"0\.2 s"):
        T.run_tool("/bin/sleep", ["5"], timeout=0.2)
