"""myquant.add on every pair of 8-bit operands against the independent numpy
reference (python/myquant/reference.py), through the generic lowering.

The lowering emits the add in int32 when its rescales allow it (single
rounding, operand shifts 9 to 22 above the left shift, output shift at least
33; IntegerArith::quantizedAdd) and in 64-bit arithmetic otherwise: the
random rescales below straddle those bounds, with both roundings, signed and
unsigned storage, random zero points, left shifts and clamps. The VNNI
kernels run the same arithmetic in their epilogues (the end-to-end tests
cover those).

Run: /usr/bin/python3 -m pytest -q python/tests/test_add_all_pairs.py
(MYQUANT_BUILD_DIR selects the build)."""

import os

import numpy as np
import pytest

from myquant import reference as R

from conftest import _run, describe_mismatches

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
        self.want = R.add(a, za, b, zb, self.lhs, self.rhs, self.out, zo,
                          lo, hi, left_shift=self.left_shift,
                          rounding=self.rounding)
        self.out_signed = signs[2]

        def qtype(signed, zp):
            return f"!quant.uniform<{'i8' if signed else 'u8'}:f32, 0.1:{zp}>"

        def rescale(pair):
            return (f"#myquant.rescale<multiplier = [{pair[0]}], shift = "
                    f"[{pair[1]}], rounding = {self.rounding}>")

        ta = f"tensor<256x256x{qtype(signs[0], za)}>"
        tb = f"tensor<256x256x{qtype(signs[1], zb)}>"
        to = f"tensor<256x256x{qtype(signs[2], zo)}>"
        self.mlir = f"""
func.func @f(%x: tensor<2x256x256xi8>) -> tensor<256x256xi8> {{
  %a8 = tensor.extract_slice %x[0, 0, 0] [1, 256, 256] [1, 1, 1]
      : tensor<2x256x256xi8> to tensor<256x256xi8>
  %b8 = tensor.extract_slice %x[1, 0, 0] [1, 256, 256] [1, 1, 1]
      : tensor<2x256x256xi8> to tensor<256x256xi8>
  %a = quant.scast %a8 : tensor<256x256xi8> to {ta}
  %b = quant.scast %b8 : tensor<256x256xi8> to {tb}
  %y = myquant.add %a, %b {{left_shift = {self.left_shift} : i64,
      lhs_rescale = {rescale(self.lhs)}, rhs_rescale = {rescale(self.rhs)},
      rescale = {rescale(self.out)}, clamp = #myquant.clamp<{lo}, {hi}>}}
      : ({ta}, {tb}) -> {to}
  %yi = quant.scast %y : {to} to tensor<256x256xi8>
  return %yi : tensor<256x256xi8>
}}
"""


@pytest.mark.parametrize("seed", range(len(CASES)))
def test_add_all_pairs(seed, toolchain, workdir):
    case = Case(seed)
    src = os.path.join(workdir, "add.mlir")
    with open(src, "w") as f:
        f.write(case.mlir)
    xin = os.path.join(workdir, "x.npy")
    out = os.path.join(workdir, "y.npy")
    np.save(xin, case.x)
    _run([toolchain.run_tool, src, "--function=f", f"--input={xin}",
          f"--output={out}"], "myquant-run")
    got = np.load(out).astype(np.int64)
    if not case.out_signed:
        got = got & 0xFF
    if not np.array_equal(got, case.want):
        pytest.fail(f"case {seed} ({case.rounding}, lhs {case.lhs}, rhs "
                    f"{case.rhs}, out {case.out}, left shift "
                    f"{case.left_shift}): "
                    f"{describe_mismatches(got, case.want)}", pytrace=False)
