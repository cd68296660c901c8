"""The software-pipelined VNNI kernel (KernelBuilder::buildPipelined: a 1 x 1
convolution of at most 32 K steps, its register tiles run as one loop with
the epilogue of each tile interleaved between the K steps of the next)
against the independent numpy reference, at batch > 1: fewer K steps than
accumulators and the most unrolled (32), strides, partial pixel tiles and
an overlapping last channel tile, signed and unsigned input, a fused add on
either side and none, the channel tiles outside the loop over the register
tiles and (small weights, Target.h runsChannelTilesInner) inside it; a
33-step convolution keeps the K loop. An addend computed by a kernel that
nothing reads after the add is overwritten by the sum (in place, where
no tile is shifted back over another), one the function also returns is
not.

Run: /usr/bin/python3 -m pytest -q python/tests/test_pipelined_kernels.py
(MYQUANT_BUILD_DIR selects the build)."""

import os
import re

import numpy as np
import pytest

from myquant.testing import reference as R

from conftest import (RUNNABLE_TARGETS, describe_mismatches, executable,
                      run_checked)

# (batch, h, w, input channels, filters, stride, input signed, add: "lhs"
# (the convolution is the add's lhs), "rhs" or None, order: "outer" (the
# pipelined loop inside a loop over the channel tiles), "inner" (the channel
# tiles inside it: runsChannelTilesInner) or None (not pipelined))
SHAPES = [
    (2, 5, 13, 12, 72, 1, True, "lhs", "outer"),
    (2, 9, 10, 128, 40, 2, True, "rhs", "outer"),
    (3, 4, 7, 36, 33, 1, True, None, "outer"),
    (2, 3, 5, 64, 17, 1, False, "lhs", "outer"),
    (2, 2, 6, 132, 16, 1, True, "lhs", None),
    (2, 34, 5, 24, 72, 1, True, "lhs", "inner"),
    (1, 33, 7, 64, 256, 1, True, "rhs", "inner"),
    (1, 66, 10, 128, 72, 2, False, "lhs", "inner"),
    (1, 3, 6, 128, 272, 1, True, "lhs", "outer"),
    (2, 3, 13, 16, 64, 1, True, "lhs", "outer"),
]

# The pipelined loop carries the output and the accumulators.
_PIPELINED = re.compile(r"iter_args\(.*\) -> \(tensor<[0-9x]+xi8>, vector<")
# The batch loop and a loop over the channel tiles carry the output alone.
_OUTPUT_LOOP = re.compile(r"iter_args\([^)]*\) -> \(tensor<[0-9x]+xi8>\) \{")


def _qtype(signed, scale, zp):
    return f"!quant.uniform<{'i8' if signed else 'u8'}:f32, {scale}:{zp}>"


def _rescale(pairs):
    m = ", ".join(str(int(p[0])) for p in pairs)
    s = ", ".join(str(int(p[1])) for p in pairs)
    return (f"#myquant.rescale<multiplier = [{m}], shift = [{s}], "
            f"rounding = single>")


class Case:
    """SHAPES[index]; the addend an argument of the function, or with
    `addend` "kernel" a convolution of the input (bias negated, zero point
    za) computed before the add's, "returned" also returned after the
    sum."""

    def __init__(self, index, addend="argument"):
        (n, h, w, c, f, stride, signed, add,
         self.order) = SHAPES[index]
        rng = np.random.default_rng(500 + index)
        lo, hi = (-128, 127) if signed else (0, 255)
        zx = int(rng.integers(lo, hi + 1))
        self.x = rng.integers(lo, hi + 1, (n, h, w, c)).astype(
            np.int8 if signed else np.uint8)
        wq = rng.integers(-127, 128, (1, 1, c, f)).astype(np.int8)
        bias = rng.integers(-5000, 5000, f).astype(np.int32)
        oh, ow = (h - 1) // stride + 1, (w - 1) // stride + 1
        # Per-channel rescales that spread each channel over the 8-bit
        # range (shifts above 32: the int32 epilogue).
        acc = R.conv2d_accumulate(
            np.transpose(self.x.astype(np.int64), (0, 3, 1, 2)), zx,
            np.transpose(wq.astype(np.int64), (3, 2, 0, 1)), bias, stride)
        peak = np.maximum(np.abs(acc).max(axis=(0, 2, 3)), 1)
        conv = [R.quantize_multiplier(200.0 / p) for p in peak]
        zy, ylo, yhi = -5, -100, 127
        sx, sy, sa, so = 0.1, 0.2, 0.15, 0.3
        y = R.conv2d_nhwc(self.x, zx, wq, bias, [m for m, _ in conv],
                          [s for _, s in conv], zy, ylo, yhi, stride)
        qx, qy = _qtype(signed, sx, zx), _qtype(True, sy, zy)
        qw = ("!quant.uniform<i8<-127:127>:f32:3, {"
              + ", ".join(["0.01"] * f) + "}>")
        t = lambda shape, q: f"tensor<{'x'.join(map(str, shape))}x{q}>"
        xt = f"tensor<{n}x{h}x{w}x{c}xi8>"
        ot = f"tensor<{n}x{oh}x{ow}x{f}xi8>"
        args = f"%x: {xt}"
        # The function takes the storage bytes.
        self.inputs = [self.x.view(np.int8)]
        # The addend is cast before the convolution: the kernel call that
        # replaces it reads it.
        body = f"""  %xq = quant.scast %x : {xt} to {t((n, h, w, c), qx)}
"""
        if add:
            za, zo = int(rng.integers(-128, 128)), -128
            qa, qo = _qtype(True, sa, za), _qtype(True, so, zo)
            if addend == "argument":
                body += f"""  %aq = quant.scast %a : {ot} to {t((n, oh, ow, f), qa)}
"""
        body += f"""  %wi = arith.constant dense<"0x{wq.tobytes().hex().upper()}"> : tensor<1x1x{c}x{f}xi8>
  %w = quant.scast %wi : tensor<1x1x{c}x{f}xi8> to {t((1, 1, c, f), qw)}
"""

        def conv2d(name, bias, zo, lo, hi, qo):
            return f"""  %{name}b = arith.constant dense<[{", ".join(map(str, bias))}]> : tensor<{f}xi32>
  %{name} = myquant.conv2d %xq, %w, %{name}b {{strides = array<i64: {stride}, {stride}>,
      padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>,
      groups = 1 : i64, layout = #myquant.layout<nhwc>,
      rescale = {_rescale(conv)}, clamp = #myquant.clamp<{lo}, {hi}>}}
      : ({t((n, h, w, c), qx)}, {t((1, 1, c, f), qw)}, tensor<{f}xi32>)
      -> {t((n, oh, ow, f), qo)}
"""
        if add and addend != "argument":
            body += conv2d("aq", -bias, za, -128, 127, qa)
        body += conv2d("y", bias, zy, ylo, yhi, qy)
        result, rtype = "%y", qy
        self.want = y
        self.results = ""
        if add and addend != "argument":
            self.a = R.conv2d_nhwc(self.x, zx, wq, -bias,
                                   [m for m, _ in conv],
                                   [s for _, s in conv], za, -128, 127,
                                   stride)
            if addend == "returned":
                self.results = f"""  %ar = quant.scast %aq : {t((n, oh, ow, f), qa)} to {ot}
"""
        elif add:
            self.a = rng.integers(-128, 128, (n, oh, ow, f)).astype(np.int8)
            self.inputs.append(self.a)
            args += f", %a: {ot}"
        if add:
            lhs, rhs = ("%y", "%aq") if add == "lhs" else ("%aq", "%y")
            ls, rs = (sy, sa) if add == "lhs" else (sa, sy)
            ml, mr, mo = R.add_rescales(ls, rs, so)
            body += f"""  %s = myquant.add {lhs}, {rhs} {{left_shift = 20 : i64,
      lhs_rescale = {_rescale([ml])}, rhs_rescale = {_rescale([mr])},
      rescale = {_rescale([mo])}}}
      : ({t((n, oh, ow, f), qy if add == "lhs" else qa)},
         {t((n, oh, ow, f), qa if add == "lhs" else qy)})
      -> {t((n, oh, ow, f), qo)}
"""
            result, rtype = "%s", qo
            operands = (y, zy, self.a, za) if add == "lhs" else \
                (self.a, za, y, zy)
            self.want = R.add(*operands, ml, mr, mo, zo, -128, 127)
        returned = ", %ar" if self.results else ""
        types = ", ".join([ot] * (2 if self.results else 1))
        self.mlir = f"""func.func @f({args}) -> ({types}) {{
{body}  %r = quant.scast {result} : {t((n, oh, ow, f), rtype)} to {ot}
{self.results}  return %r{returned} : {types}
}}
"""


@pytest.mark.parametrize("target", ["avx512-vnni", "avx512-vnni-256"])
@pytest.mark.parametrize("index", range(len(SHAPES)))
def test_pipelined_kernel_bit_exact(index, target, toolchain, workdir):
    if target not in RUNNABLE_TARGETS:
        pytest.skip(f"{target} does not run here")
    case = Case(index)
    src = os.path.join(workdir, "op.mlir")
    with open(src, "w") as f:
        f.write(case.mlir)
    kernels, _ = run_checked([toolchain.opt, src,
                              f"--convert-myquant-to-vnni=target={target}"])
    assert "myquant.conv2d" not in kernels and "myquant.add" not in kernels
    assert bool(_PIPELINED.search(kernels)) == bool(case.order)
    if case.order:
        loops = len(_OUTPUT_LOOP.findall(kernels))
        assert loops == (1 if case.order == "inner" else 2), loops
    lowered, _ = run_checked([toolchain.opt, _write(workdir, kernels),
                              "--convert-myquant-to-linalg"])
    with open(src, "w") as f:
        f.write(executable(lowered, target))
    [got] = toolchain.run_file(src, "f", case.inputs, workdir)
    want = case.want.astype(np.int8)
    if not np.array_equal(got, want):
        pytest.fail(f"shape {SHAPES[index]} on {target}: "
                    f"{describe_mismatches(got, want)}", pytrace=False)


def _write(workdir, text):
    path = os.path.join(workdir, "kernels.mlir")
    with open(path, "w") as f:
        f.write(text)
    return path


# The add's kernel call takes the addend as its destination (in place): two
# operands, the input and the addend, instead of three.
_IN_PLACE = re.compile(r"call @f_kernel_0\(%[^,]*, %[^,]*\)")


# (shape index, in place): 3, 7 and 8 shift a last channel tile back (17
# channels; 80 in 2 x 48, 272 in 6 x 48), 9 a last pixel tile (13 pixels in
# tiles of 5); 4 is not pipelined.
@pytest.mark.parametrize("index,in_place",
                         [(0, True), (1, True), (3, False), (4, True),
                          (6, True), (7, False), (8, False), (9, False)])
def test_fused_add_in_place_bit_exact(index, in_place, toolchain, workdir):
    target = "avx512-vnni"
    if target not in RUNNABLE_TARGETS:
        pytest.skip(f"{target} does not run here")
    for addend in ("kernel", "returned"):
        case = Case(index, addend)
        src = os.path.join(workdir, "op.mlir")
        with open(src, "w") as f:
            f.write(case.mlir)
        kernels, _ = run_checked([toolchain.opt, src,
                                  f"--convert-myquant-to-vnni=target={target}"])
        assert "myquant.add" not in kernels
        assert bool(_IN_PLACE.search(kernels)) == (
            in_place and addend == "kernel"), (addend, kernels)
        lowered, _ = run_checked([toolchain.opt, _write(workdir, kernels),
                                  "--convert-myquant-to-linalg"])
        with open(src, "w") as f:
            f.write(executable(lowered, target))
        got = toolchain.run_file(src, "f", case.inputs, workdir,
                                 num_outputs=1 + bool(case.results))
        wants = [case.want, case.a][:len(got)]
        for name, g, want in zip(("sum", "addend"), got, wants):
            want = want.astype(np.int8)
            if not np.array_equal(g, want):
                pytest.fail(f"shape {SHAPES[index]}, addend {addend}: "
                            f"{name}: {describe_mismatches(g, want)}",
                            pytrace=False)
