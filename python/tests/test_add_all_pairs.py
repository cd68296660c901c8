"""myquant.add on every pair of 8-bit operands against the independent numpy
reference (python/myquant/testing/reference.py), through the generic
lowering and through the VNNI kernels' epilogues.

The lowering emits the add in int32 when its rescales allow it (single
rounding, operand shifts 9 to 22 above the left shift, output shift at least
33; IntegerArith::centeredAdd) and in 64-bit arithmetic otherwise: the
random rescales below straddle those bounds, with both roundings, signed and
unsigned storage, random zero points, left shifts and clamps. The same
adds run again fused into the epilogue of a VNNI kernel (the host's), which
hands its clamped int32 result to the add without narrowing it when its
requantization and the add both have int32 forms.

Run: /usr/bin/python3 -m pytest -q python/tests/test_add_all_pairs.py
(MYQUANT_BUILD_DIR selects the build)."""

import os

import numpy as np
import pytest

from myquant.testing import reference as R

from conftest import describe_mismatches, run_checked

# (rounding, operand shifts above the left shift, output shift or None for
# one that spans the 8-bit range): the int32 form needs single rounding,
# 9..22 and >= 33; the others take the 64-bit form.
CASES = [("single", 22, 22, None), ("single", 21, 22, None),
         ("single", 20, 20, None), ("single", 16, 15, None),
         ("single", 12, 12, None), ("single", 9, 10, None),
         ("single", 22, 23, None), ("single", 23, 23, None),
         ("single", 26, 26, None), ("single", 20, 20, 32),
         ("single", 14, 14, 31), ("gemmlowp", 22, 22, None),
         ("gemmlowp", 12, 13, None), ("gemmlowp", 20, 21, 32)]


def _storage(signed):
    return (-128, 127) if signed else (0, 255)


class Case:
    def __init__(self, seed):
        rng = np.random.default_rng(seed)
        self.rounding, lhs_extra, rhs_extra, out_shift = CASES[seed]
        signs = [bool(rng.integers(2)) for _ in range(3)]
        (alo, ahi), (blo, bhi), (olo, ohi) = (_storage(s) for s in signs)
        za, zb, zo = (int(rng.integers(lo, hi + 1))
                      for lo, hi in ((alo, ahi), (blo, bhi), (olo, ohi)))
        self.left_shift = int(rng.choice([20, 16, 22]))

        def operand(extra):
            return (int(rng.integers(1 << 30, 1 << 31)),
                    self.left_shift + extra)
        self.lhs, self.rhs = operand(lhs_extra), operand(rhs_extra)
        if out_shift is None:
            # The output spans the 8-bit range over all pairs, so that an
            # operand rescaled one unit off changes some outputs.
            largest = 255 * sum(m * 2.0 ** (self.left_shift - s)
                                for m, s in (self.lhs, self.rhs))
            self.out = R.quantize_multiplier(120.0 / largest)
        else:
            self.out = (int(rng.integers(1 << 30, 1 << 31)), out_shift)
        lo = int(rng.integers(olo, olo + 40))
        hi = int(rng.integers(ohi - 40, ohi + 1))
        # Every (a, b) pair: a varies along rows, b along columns.
        a = np.repeat(np.arange(alo, ahi + 1), 256).reshape(256, 256)
        b = np.tile(np.arange(blo, bhi + 1), 256).reshape(256, 256)
        # Both operands' storage bytes in one int8 input.
        self.x = (np.stack([a, b]) & 0xFF).astype(np.uint8).view(np.int8)
        self.out_signed = signs[2]
        # A fused operand's convolution clamps it (a fused relu, say).
        self.conv_clamp = {"lhs": (alo + 30, ahi - 30),
                           "rhs": (blo + 30, bhi - 30)}

        def expected(fused):
            ca = np.clip(a, *self.conv_clamp["lhs"]) if fused == "lhs" else a
            cb = np.clip(b, *self.conv_clamp["rhs"]) if fused == "rhs" else b
            return R.add(ca, za, cb, zb, self.lhs, self.rhs, self.out, zo,
                         lo, hi, left_shift=self.left_shift,
                         rounding=self.rounding)
        self.expected = expected

        def qtype(signed, zp):
            return f"!quant.uniform<{'i8' if signed else 'u8'}:f32, 0.1:{zp}>"

        def rescale(pair):
            return (f"#myquant.rescale<multiplier = [{pair[0]}], shift = "
                    f"[{pair[1]}], rounding = {self.rounding}>")

        self.qa, self.qb = qtype(signs[0], za), qtype(signs[1], zb)
        self.qo = qtype(signs[2], zo)
        self.attrs = (f"left_shift = {self.left_shift} : i64, lhs_rescale = "
                      f"{rescale(self.lhs)}, rhs_rescale = "
                      f"{rescale(self.rhs)}, rescale = {rescale(self.out)}, "
                      f"clamp = #myquant.clamp<{lo}, {hi}>")

    def module(self, fused=None):
        """The add on a 2 x 256 x 256 input (a, then b). With `fused`
        ("lhs" or "rhs"), that operand is computed by a 1 x 1 NHWC
        convolution that reproduces its input exactly (weights 8 on the
        diagonal, rescale 2^30 / 2^33, equal zero points), so that the VNNI
        kernels run the add in the convolution's epilogue; it also clamps
        the operand to `conv_clamp`. The pairs are then laid out as
        1 x 64 x 64 x 16."""
        shape = "256x256" if fused is None else "1x64x64x16"
        ta, tb, to = (f"tensor<{shape}x{q}>"
                      for q in (self.qa, self.qb, self.qo))
        slices = ("[0, 0, 0] [1, 256, 256] [1, 1, 1]",
                  "[1, 0, 0] [1, 256, 256] [1, 1, 1]")
        if fused is not None:
            slices = ("[0, 0, 0, 0] [1, 64, 64, 16] [1, 1, 1, 1]",
                      "[1, 0, 0, 0] [1, 64, 64, 16] [1, 1, 1, 1]")
        xtype = "tensor<2x256x256xi8>" if fused is None else \
            "tensor<2x64x64x16xi8>"
        text = f"""
func.func @f(%x: {xtype}) -> tensor<{shape}xi8> {{
  %a8 = tensor.extract_slice %x{slices[0]} : {xtype} to tensor<{shape}xi8>
  %b8 = tensor.extract_slice %x{slices[1]} : {xtype} to tensor<{shape}xi8>
  %a0 = quant.scast %a8 : tensor<{shape}xi8> to {ta}
  %b0 = quant.scast %b8 : tensor<{shape}xi8> to {tb}
"""
        operands = {"lhs": ("%a0", ta), "rhs": ("%b0", tb)}
        if fused is not None:
            value, type_ = operands[fused]
            clo, chi = self.conv_clamp[fused]
            qw = ("tensor<1x1x16x16x!quant.uniform<i8<-127:127>:f32:3, {"
                  + ", ".join(["0.1"] * 16) + "}>>")
            weights = np.diag(np.full(16, 8, np.int8)).tobytes().hex()
            text += f"""  %wi = arith.constant dense<"0x{weights.upper()}">
      : tensor<1x1x16x16xi8>
  %w = quant.scast %wi : tensor<1x1x16x16xi8> to {qw}
  %bias = arith.constant dense<0> : tensor<16xi32>
  %conv = myquant.conv2d {value}, %w, %bias {{strides = array<i64: 1, 1>,
      padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>,
      groups = 1 : i64, layout = #myquant.layout<nhwc>,
      rescale = #myquant.rescale<multiplier = [1073741824], shift = [33],
                                 rounding = {self.rounding}>,
      clamp = #myquant.clamp<{clo}, {chi}>}}
      : ({type_}, {qw}, tensor<16xi32>) -> {type_}
"""
            operands[fused] = ("%conv", type_)
        text += f"""  %y = myquant.add {operands["lhs"][0]}, {operands["rhs"][0]} {{{self.attrs}}}
      : ({ta}, {tb}) -> {to}
  %yi = quant.scast %y : {to} to tensor<{shape}xi8>
  return %yi : tensor<{shape}xi8>
}}
"""
        return text

    def check(self, toolchain, workdir, fused=None):
        src = os.path.join(workdir, "add.mlir")
        with open(src, "w") as f:
            f.write(self.module(fused))
        if fused is not None:
            kernels, _ = run_checked(
                [toolchain.opt, src, "--convert-myquant-to-vnni=target=host"])
            # Without VNNI on this host everything stays generic.
            if "vector.multi_reduction" in kernels:
                assert "myquant.add" not in kernels, "the add is not fused"
        x = self.x if fused is None else self.x.reshape(2, 64, 64, 16)
        [got] = toolchain.run_file(src, "f", [x], workdir)
        got = got.astype(np.int64).reshape(256, 256)
        if not self.out_signed:
            got = got & 0xFF
        want = self.expected(fused)
        if not np.array_equal(got, want):
            pytest.fail(f"{self.rounding}, lhs {self.lhs}, rhs {self.rhs}, "
                        f"out {self.out}, left shift {self.left_shift}, "
                        f"fused into the {fused or 'no'} operand's kernel: "
                        f"{describe_mismatches(got, want)}",
                        pytrace=False)


@pytest.mark.parametrize("seed", range(len(CASES)))
def test_add_all_pairs(seed, toolchain, workdir):
    Case(seed).check(toolchain, workdir)


@pytest.mark.parametrize("seed", range(len(CASES)))
@pytest.mark.parametrize("fused", ["lhs", "rhs"])
def test_fused_add_all_pairs(seed, fused, toolchain, workdir):
    """The same adds in the epilogue of the VNNI kernel of the operand's
    convolution (myquant-run uses the host's kernels)."""
    Case(seed).check(toolchain, workdir, fused)
