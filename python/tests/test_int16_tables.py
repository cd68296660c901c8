"""Tables in the 16x8 mode (docs/NumericSpec.md 3.8, 6.4): a conv ->
activation -> conv model compiled with activation-bits=16 (or with only
the first conv selected, so the table reads 16 bits and writes 8) must be
bit-identical to the numpy reference (model_reference.run_reference, which
builds the 513 entries and interpolates with reference.table16) and closer
to the float model than int8; the interpolated table itself is measured
against the float function over every 16-bit input.

Run: /usr/bin/python3 -m pytest -q python/tests/test_int16_tables.py"""

import numpy as np
import pytest

from conftest import RUNNABLE_TARGETS, rand_f32
from test_int16_activations import _check_bit_exact, _compile_and_run

from myquant.emit import (Activation, Conv2d, Model, calibrate,
                          float_forward)
from myquant.testing import model_reference as MR
from myquant.testing import reference as R

# The functions of the example models (MobileNetV3: hardswish,
# hardsigmoid; EfficientNet: SiLU, sigmoid) and the other smooth ones.
KINDS = ["hardswish", "hardsigmoid", "silu", "sigmoid", "gelu", "tanh"]


def make_case(kind):
    """conv -> activation -> 1x1 conv on 8x8 inputs."""
    rng = np.random.default_rng(18)
    m = Model((2, 3, 8, 8))
    m.add(Conv2d(rand_f32(rng, 4, 3, 3, 3, scale=0.5), rand_f32(rng, 4),
                 padding=1), name="stem")
    m.add(Activation(kind), name="act")
    m.add(Conv2d(rand_f32(rng, 4, 4, 1, 1, scale=0.5), rand_f32(rng, 4)),
          name="head")
    return calibrated(m, rng)


def calibrated(m, rng):
    """(m, stats, test input): m calibrated on 4 random samples."""
    samples = [rng.standard_normal(m.input_shape).astype(np.float32)
               for _ in range(4)]
    x = (rng.standard_normal(m.input_shape) * 0.8).astype(np.float32)
    return m, calibrate(m, samples), x


KERNEL_TARGET = next((t for t in RUNNABLE_TARGETS if t != "generic"), None)
CASES = [(k, "generic") for k in KINDS] + (
    [("hardswish", KERNEL_TARGET), ("silu", KERNEL_TARGET)]
    if KERNEL_TARGET else [])


@pytest.mark.parametrize("kind,target", CASES)
def test_table16_model_bit_exact(kind, target, toolchain, workdir):
    model, stats, x = make_case(kind)
    quantized = check_16bit_model(toolchain, workdir, model, stats, x,
                                  target, f"{kind} (16x8, {target})")
    table = [line for line in quantized.splitlines()
             if "myquant.table" in line]
    assert len(table) == 1 and table[0].count("i16<-32767:32767>") == 2, \
        table


def check_16bit_model(toolchain, workdir, model, stats, x, target, what):
    """Compiles model with activation-bits=16 for target; checks it bit
    for bit against the reference and at least twice as close to the
    float model as int8; returns the quantized IR."""
    ref = MR.run_reference(model, stats, x, activation_bits=16)
    quantized, got = _compile_and_run(toolchain, workdir, model, stats, x,
                                      target, "activation-bits=16")
    _check_bit_exact(got, ref, what)
    flt = float_forward(model, x)[model.output].astype(np.float64)
    err16 = np.max(np.abs(got.astype(np.float64) - flt))
    err8 = np.max(np.abs(MR.run_reference(model, stats, x).dequantize()
                         .astype(np.float64) - flt))
    assert err16 < err8 / 2, f"{what}: 16-bit error {err16}, 8-bit {err8}"
    return quantized


@pytest.mark.parametrize("kind", ["hardswish", "silu"])
def test_table16_into_8bit_result(kind, toolchain, workdir):
    # Only the stem is 16-bit: the table reads its 16-bit result and
    # writes the 8-bit value the head reads.
    model, stats, x = make_case(kind)
    ref = MR.run_reference(model, stats, x, layer_precision=["stem:w8a16"])
    quantized, got = _compile_and_run(toolchain, workdir, model, stats, x,
                                      "generic", "layer-precision=stem:w8a16")
    table = next(line for line in quantized.splitlines()
                 if "myquant.table" in line)
    assert "-> tensor<2x4x8x8x!quant.uniform<i8:" in table, table
    assert table.count("i16<-32767:32767>") == 1, table
    _check_bit_exact(got, ref, f"{kind} (16 -> 8 bits)")


def test_table16_lookup():
    # Grid points give the entry; in between, the line rounded half up.
    values = np.zeros(R.TABLE16_ENTRIES, np.int64)
    values[256], values[257] = 100, 228
    x = np.array([0, 1, 63, 64, 127, 128, -1, -32768, 32767])
    assert R.table16(x, values).tolist() == [100, 101, 163, 164, 227, 228,
                                             99, 0, 0]
    values[257] = 99
    assert R.table16(np.array([64, 63]), values).tolist() == [100, 100]
    with pytest.raises(ValueError):
        R.table16(np.array([0]), values[:256])


# max |f'|, max |f''| and the largest jump of f' at a kink (hardswish and
# hardsigmoid at -3 and 3).
SLOPE = {"sigmoid": 0.25, "tanh": 1.0, "silu": 1.1, "gelu": 1.13,
         "hardswish": 1.5, "hardsigmoid": 1 / 6}
CURVATURE = {"sigmoid": 0.0963, "tanh": 0.770, "silu": 0.5, "gelu": 0.798,
             "hardswish": 1 / 3, "hardsigmoid": 0.0}
KINK = {"hardswish": 0.5, "hardsigmoid": 1 / 6}


def test_table16_accuracy():
    """Over every 16-bit input of random input ranges (each output range
    from the function's own values there): the table's distance from f of
    the dequantized input, in output LSB, stays within 1 (half an LSB from
    rounding the entries, half from rounding the line) plus the line's own
    error over a segment of h = 128 s_in: h^2 / 8 max|f''| and, across a
    kink, h / 4 times the jump of f'; in the first and last segment, whose
    outer grid point (-32768, 32768) lies one step beyond the input's range
    and may saturate beyond the output's, |f'| s_in more (spec 3.8)."""
    rng = np.random.default_rng(38)
    q = np.arange(R.INT16_QMIN, R.INT16_QMAX + 1)
    worst = {}
    for kind in KINDS:
        f = Activation(kind).function
        worst[kind] = 0.0
        for _ in range(20):
            s_in, _ = R.choose_int16_qparams(-rng.uniform(0.5, 12.0),
                                             rng.uniform(0.5, 12.0))
            y = f(q * s_in)
            s_out, _ = R.choose_int16_qparams(min(y.min(), 0), max(y.max(), 0))
            got = R.table16(q, R.table_values(
                f, s_in, 0, s_out, 0, out_range=(R.INT16_QMIN, R.INT16_QMAX),
                input_bits=16))
            h = 128 * s_in
            bound = 1 + (h * h / 8 * CURVATURE[kind] +
                         h / 4 * KINK.get(kind, 0.0) +
                         SLOPE[kind] * s_in) / s_out
            err = np.max(np.abs(got - y / s_out))
            assert err <= bound, (kind, s_in, s_out, err, bound)
            worst[kind] = max(worst[kind], err / bound)
    # The bound is not loose: each function reaches a third of it.
    assert min(worst.values()) > 0.3, worst
