"""Dynamic quantization (docs/NumericSpec.md 8): the numpy reference, and the
compiled models bit for bit against it."""

from fractions import Fraction

import numpy as np
import pytest

from myquant.qparams import WIDE_QMAX, choose_wide_qparams
from myquant.testing import reference as ref


def test_wide_qparams():
    assert choose_wide_qparams(-3.0, 2.0) == (3.0 / 2**23, 0)
    assert choose_wide_qparams(0.0, 0.0) == (1.0, 0)


@pytest.mark.parametrize("amax", [1, 2, 3, 127, 3000, 2**30, WIDE_QMAX])
def test_reciprocal_is_correctly_rounded(amax):
    a, r, k = ref.dynamic_input_params(np.array([amax, -1]))
    assert a == amax and k == 23 + amax.bit_length()
    exact = Fraction(127 * 2**k, amax)
    assert abs(r - exact) <= Fraction(1, 2)
    assert 127 * 2**23 <= r < 2**31


def test_runtime_quantize_matches_rounding_of_127_x_over_a():
    rng = np.random.default_rng(0)
    for amax in (5, 1000, 2**20 + 3, WIDE_QMAX):
        x = rng.integers(-amax, amax + 1, 2000)
        x[0] = amax
        q, a = ref.dynamic_quantize(x)
        assert a == amax and q.max() == 127
        exact = np.array([Fraction(127 * int(v), amax) for v in x])
        err = np.array([abs(float(Fraction(int(qq)) - e))
                        for qq, e in zip(q, exact)])
        assert err.max() <= 0.5 + 1e-6


def test_all_zero_input_gives_the_bias():
    x = np.zeros((2, 3), np.int64)
    w = np.ones((3, 2), np.int64)
    b = ref.dynamic_bias([0.5, -0.25], 1e-3, [0.01, 0.02])
    m0, sh = ref.dynamic_multipliers(1e-3, [0.01, 0.02], 1e-3)
    out = ref.dynamic_matmul(x, w, b, m0, sh, 0, -WIDE_QMAX, WIDE_QMAX)
    np.testing.assert_array_equal(out, [[500, -250]] * 2)


def test_dynamic_matmul_follows_the_float_product():
    rng = np.random.default_rng(1)
    s_in, s_out = 2.0 / 2**23, 40.0 / 2**23
    for scale in (1.0, 1e-3):  # the batch's range, far below calibration's
        xf = rng.uniform(-scale, scale, (4, 64))
        x = np.rint(xf / s_in).astype(np.int64)
        wf = rng.normal(0, 0.1, (64, 8))
        s_w = np.abs(wf).max(axis=0) / 127
        w = np.rint(wf / s_w).astype(np.int64)
        bf = rng.normal(0, scale, 8).astype(np.float32)
        b = ref.dynamic_bias(bf, s_in, s_w)
        m0, sh = ref.dynamic_multipliers(s_in, s_w, s_out)
        out = ref.dynamic_matmul(x, w, b, m0, sh, 0, -WIDE_QMAX, WIDE_QMAX)
        want = (x * s_in) @ (w * s_w) + bf
        # int8 input rounding: half a step of max|x|/127 per term.
        bound = 0.5 * np.abs(x * s_in).max() / 127 * np.abs(w * s_w).sum(0)
        assert np.all(np.abs(out * s_out - want) <= bound + s_out)


def test_dynamic_bias_overflow_is_an_error():
    with pytest.raises(ValueError, match="2\\^62"):
        ref.dynamic_bias([1e30], 1e-9, [1e-9])
