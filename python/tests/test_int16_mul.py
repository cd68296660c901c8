"""mul in the 16x8 mode (docs/NumericSpec.md 3.3, 6.4): a squeeze-excite
block (conv -> activation -> global pool -> 1x1 conv -> gate -> mul) compiled
with activation-bits=16, where the mul multiplies two 16-bit values into a
16-bit one, or with one layer selected, where it multiplies a 16-bit value
by an 8-bit one, must be bit-identical to the numpy reference
(model_reference.run_reference, reference.mul) and, all 16-bit, closer to
the float model than int8.

Run: /usr/bin/python3 -m pytest -q python/tests/test_int16_mul.py"""

import numpy as np
import pytest

from conftest import rand_f32
from test_int16_activations import _check_bit_exact, _compile_and_run
from test_int16_tables import KERNEL_TARGET, calibrated, check_16bit_model

from myquant.emit import Activation, Conv2d, GlobalAvgPool, Model, Mul
from myquant.testing import model_reference as MR
from myquant.testing import reference as R

I16 = "i16<-32767:32767>"


def make_case(act, gate):
    """MobileNetV3's (hardswish, hardsigmoid) or EfficientNet's (SiLU,
    sigmoid) squeeze-excite block on 6x6 inputs, then a 1x1 conv."""
    rng = np.random.default_rng(33)
    m = Model((2, 3, 6, 6))
    m.add(Conv2d(rand_f32(rng, 8, 3, 3, 3, scale=0.5), rand_f32(rng, 8),
                 padding=1), name="stem")
    m.add(Activation(act), name="act")
    m.add(GlobalAvgPool(), name="pool")
    m.add(Conv2d(rand_f32(rng, 8, 8, 1, 1, scale=0.6), rand_f32(rng, 8)),
          name="fc")
    m.add(Activation(gate), name="gate")
    m.add(Mul(), inputs=["act", "gate"], name="scaled")
    m.add(Conv2d(rand_f32(rng, 4, 8, 1, 1, scale=0.5), rand_f32(rng, 4)),
          name="head")
    return calibrated(m, rng)


def _mul_line(quantized):
    lines = [line for line in quantized.splitlines()
             if "myquant.mul" in line]
    assert len(lines) == 1, lines
    return lines[0]


CASES = [("hardswish", "hardsigmoid", "generic"),
         ("silu", "sigmoid", "generic")] + (
    [("hardswish", "hardsigmoid", KERNEL_TARGET)] if KERNEL_TARGET else [])


@pytest.mark.parametrize("act,gate,target", CASES)
def test_mul16_model_bit_exact(act, gate, target, toolchain, workdir):
    model, stats, x = make_case(act, gate)
    quantized = check_16bit_model(toolchain, workdir, model, stats, x,
                                  target, f"{act} * {gate} (16x8, {target})")
    assert _mul_line(quantized).count(I16) == 3


# The selected table writes one 16-bit operand; the other operand and the
# result keep 8 bits.
@pytest.mark.parametrize("layer,operand", [("act", 0), ("gate", 1)])
def test_mul16_times_8bit(layer, operand, toolchain, workdir):
    model, stats, x = make_case("hardswish", "hardsigmoid")
    entries = [f"{layer}:w8a16"]
    ref = MR.run_reference(model, stats, x, layer_precision=entries)
    quantized, got = _compile_and_run(toolchain, workdir, model, stats, x,
                                      "generic",
                                      "layer-precision=" + entries[0])
    operands = _mul_line(quantized).split(":", 1)[1].split("->")[0]
    widths = [I16 in part for part in operands.split("tensor<")[1:]]
    assert widths == [operand == 0, operand == 1], operands
    _check_bit_exact(got, ref, f"mul with a 16-bit operand from {layer}")


def test_mul16_reference_extremes():
    # The largest products of two 16-bit values stay in int32 (spec 3.3)
    # and round once: M = 0.75 -> (1610612736, 31).
    m0, shift = R.quantize_multiplier(0.75)
    a = np.array([32767, -32767, 32767, 3, -3])
    b = np.array([32767, 32767, 1, 1, 1])
    got = R.mul(a, 0, b, 0, m0, shift, 0, -2**31, 2**31 - 1)
    want = [(int(p) * m0 + (1 << (shift - 1))) >> shift for p in a * b]
    assert got.tolist() == want == [805257217, -805257217, 24575, 2, -2]
    # Two unsigned 16-bit extremes leave int32 (the verifier rejects them).
    with pytest.raises(ValueError):
        R.mul(np.array([65535]), 0, np.array([65535]), 0, m0, shift, 0,
              -2**31, 2**31 - 1)
