"""Tests of the numpy reference (python/myquant/testing/reference.py)
against hand-computed values, exact rational arithmetic and naive loop
implementations. Run: /usr/bin/python3 -m pytest -q python/tests"""

import math
import os
import sys
from fractions import Fraction

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir))

from myquant.testing import reference as R  # noqa: E402

I32MIN, I32MAX = -(1 << 31), (1 << 31) - 1


# ---------------------------------------------------------------------------
# Naive scalar re-statements of the spec (pure Python ints)
# ---------------------------------------------------------------------------

def sat32(x):
    return max(I32MIN, min(I32MAX, x))


def naive_single(v, m0, s):
    return sat32((v * m0 + ((1 << (s - 1)) if s else 0)) >> s)


def trunc_div(n, d):
    q = abs(n) // abs(d)
    return q if (n >= 0) == (d > 0) else -q


def naive_gemmlowp(v, m0, s):
    """Literal transcription of FixedPoint.cpp's gemmlowp path."""
    left = 0 if s >= 31 else 31 - s
    right = s - 31 if s >= 31 else 0
    x = sat32(v * (1 << left))
    if x == I32MIN and m0 == I32MIN:
        high = I32MAX
    else:
        ab = x * m0
        nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
        high = trunc_div(ab + nudge, 1 << 31)
    mask = (1 << right) - 1
    remainder = high & mask
    threshold = (mask >> 1) + (1 if high < 0 else 0)
    return (high >> right) + (1 if remainder > threshold else 0)


def exact_single(v, m0, s):
    """round-half-up of the exact rational v * m0 / 2^s, saturated."""
    return sat32(math.floor(Fraction(v * m0, 1 << s) + Fraction(1, 2)))


def naive_requantize(v, m0, s, zo, lo, hi, rounding):
    f = naive_single if rounding == "single" else naive_gemmlowp
    return max(lo, min(hi, sat32(f(v, m0, s) + zo)))


def naive_conv(x, zx, w, bias, m0s, shifts, zo, lo, hi, stride, pad,
               dilation, groups, rounding):
    n_, c_, h_, w_ = x.shape
    f_, cg, kh, kw = w.shape
    (sh, sw), (dh, dw) = stride, dilation
    top, left, bottom, right = pad
    oh = (h_ + top + bottom - dh * (kh - 1) - 1) // sh + 1
    ow = (w_ + left + right - dw * (kw - 1) - 1) // sw + 1
    fg = f_ // groups
    out = np.zeros((n_, f_, oh, ow), dtype=np.int64)
    for n in range(n_):
        for f in range(f_):
            g = f // fg
            m0 = int(m0s[f] if len(m0s) > 1 else m0s[0])
            s = int(shifts[f] if len(shifts) > 1 else shifts[0])
            for oy in range(oh):
                for ox in range(ow):
                    acc = int(bias[f]) if bias is not None else 0
                    for ci in range(cg):
                        c = g * cg + ci
                        for i in range(kh):
                            for j in range(kw):
                                y = oy * sh + i * dh - top
                                xx = ox * sw + j * dw - left
                                if 0 <= y < h_ and 0 <= xx < w_:
                                    xv = int(x[n, c, y, xx])
                                else:
                                    xv = zx
                                acc += (xv - zx) * int(w[f, ci, i, j])
                    assert I32MIN <= acc <= I32MAX
                    out[n, f, oy, ox] = naive_requantize(acc, m0, s, zo, lo,
                                                         hi, rounding)
    return out


# ---------------------------------------------------------------------------
# Activation qparams
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("lo,hi,scale,zp", [
    (-128.0, 127.0, 1.0, 0),
    (-64.0, 63.5, 0.5, 0),
    (-10.0, 245.0, 1.0, -118),
    (0.0, 255.0, 1.0, -128),
    (-255.0, 0.0, 1.0, 127),
    (5.0, 255.0, 1.0, -128),      # a' = min(a, 0) = 0
    (-255.0, -3.0, 1.0, 127),     # b' = max(b, 0) = 0
    (0.0, 0.0, 1.0, -128),        # degenerate: scale 1
    (-10.5, 244.5, 1.0, -118),    # -10.5 rounds half-even to -10
    (-11.5, 243.5, 1.0, -116),    # -11.5 rounds half-even to -12
])
def test_choose_activation_qparams_int8(lo, hi, scale, zp):
    assert R.choose_activation_qparams(lo, hi) == (scale, zp)


def test_choose_activation_qparams_uint8():
    assert R.choose_activation_qparams(0.0, 255.0, 0, 255) == (1.0, 0)
    assert R.choose_activation_qparams(-10.5, 244.5, 0, 255) == (1.0, 10)
    assert R.choose_activation_qparams(-255.0, 0.0, 0, 255) == (1.0, 255)
    assert R.choose_activation_qparams(3.0, 3.0, 0, 255) == (3.0 / 255, 0)


def test_choose_activation_qparams_activations():
    assert R.choose_activation_qparams(-5.0, 255.0, activation="relu") == \
        (1.0, -128)
    s, zp = R.choose_activation_qparams(-3.0, 10.0, activation="relu6")
    assert (s, zp) == (6.0 / 255, -128)
    s, zp = R.choose_activation_qparams(-3.0, 2.0, activation="relu6")
    assert (s, zp) == (2.0 / 255, -128)
    assert R.choose_activation_qparams(-3.0, -1.0, activation="relu") == \
        (1.0, -128)


@pytest.mark.parametrize("lo,hi", [(1.0, 0.0), (math.nan, 1.0),
                                   (-math.inf, 1.0)])
def test_choose_activation_qparams_invalid(lo, hi):
    with pytest.raises(ValueError):
        R.choose_activation_qparams(lo, hi)


def test_zero_point_in_range_random():
    rng = np.random.default_rng(0)
    for _ in range(500):
        lo, hi = sorted(rng.normal(0, 10, 2))
        for qmin, qmax in ((-128, 127), (0, 255)):
            s, zp = R.choose_activation_qparams(lo, hi, qmin, qmax)
            assert s > 0 and qmin <= zp <= qmax
            # zp is an integer, so real 0 is represented exactly.
            assert R.dequantize([zp], s, zp)[0] == 0.0
            # The observed range is representable up to half a step.
            q = R.quantize([lo, hi], s, zp, qmin, qmax, float_type=np.float64)
            back = R.dequantize(q, s, zp, float_type=np.float64)
            assert np.all(np.abs(back - [lo, hi]) <= s * 0.5 + 1e-9)


def test_activation_clamp():
    assert R.activation_clamp(None, 5, 0.1) == (-128, 127)
    assert R.activation_clamp("relu", 5, 0.1) == (5, 127)
    assert R.activation_clamp("relu", -130, 0.1, -128, 127) == (-128, 127)
    # 6 / 0.05 = 120; zo + 120 = 100
    assert R.activation_clamp("relu6", -20, 0.05) == (-20, 100)
    assert R.activation_clamp("relu6", -128, 6.0 / 255) == (-128, 127)
    # 6 / 4 = 1.5 rounds half-even to 2
    assert R.activation_clamp("relu6", 0, 4.0) == (0, 2)


# ---------------------------------------------------------------------------
# Weights and bias
# ---------------------------------------------------------------------------

def test_quantize_weights_per_channel_hand():
    w = np.array([[127.0, -63.5, 0.5, 1.5],
                  [0.0, 0.0, 0.0, 0.0],
                  [-2.54, 1.0, 0.0, 2.54]], dtype=np.float32)
    q, s = R.quantize_weights(w)
    assert q.dtype == np.int8
    np.testing.assert_array_equal(q[0], [127, -64, 0, 2])  # ties to even
    np.testing.assert_array_equal(q[1], [0, 0, 0, 0])
    np.testing.assert_array_equal(q[2], [-127, 50, 0, 127])
    assert s[0] == 1.0 and s[1] == 1.0
    assert s[2] == float(np.float32(2.54)) / 127


def test_quantize_weights_per_tensor_and_axis():
    w = np.array([[1.0, -3.0], [0.25, 4.0]], dtype=np.float32)
    q, s = R.quantize_weights(w, axis=None)
    assert s.shape == (1,) and s[0] == 4.0 / 127
    np.testing.assert_array_equal(q, np.rint(w / (4.0 / 127)))
    q1, s1 = R.quantize_weights(w, axis=1)
    np.testing.assert_array_equal(s1, [1.0 / 127, 4.0 / 127])
    np.testing.assert_array_equal(q1, [[127, -95], [32, 127]])


def test_quantize_weights_narrow_range_random():
    rng = np.random.default_rng(1)
    w = rng.normal(0, 1, (8, 3, 3, 3)).astype(np.float32)
    q, s = R.quantize_weights(w)
    assert q.min() >= -127 and q.max() <= 127
    assert np.all(np.abs(q).reshape(8, -1).max(axis=1) == 127)
    deq = q.astype(np.float64) * s.reshape(8, 1, 1, 1)
    assert np.all(np.abs(deq - w) <= s.reshape(8, 1, 1, 1) / 2 + 1e-12)


def test_quantize_bias():
    q = R.quantize_bias([1.0, -0.75], 0.5, [0.5, 0.25])
    assert q.dtype == np.int32
    np.testing.assert_array_equal(q, [4, -6])
    np.testing.assert_array_equal(R.quantize_bias([0.3125, 0.4375], 1.0, 0.125),
                                  [2, 4])  # 2.5 -> 2, 3.5 -> 4
    with pytest.raises(ValueError):
        R.quantize_bias([1e10], 1.0, 1.0)
    np.testing.assert_array_equal(R.quantize_bias([2147483647.0 - 128], 1, 1),
                                  [2147483520])


# ---------------------------------------------------------------------------
# Multipliers
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("M,expected", [
    (0.5, (1 << 30, 31)),
    (1.0, (1 << 30, 30)),
    (0.75, (3 << 29, 31)),
    (0.25, (1 << 30, 32)),
    (2.0, (1 << 30, 29)),
    (float(1 << 30), (1 << 30, 0)),
    (2.0 ** -20, (1 << 30, 50)),
    (2.0 ** -31, (1 << 30, 61)),
    (2.0 ** -32, (1 << 30, 62)),
    (2.0 ** -33, (1 << 29, 62)),       # shift would be 63: capped
    (1 - 2.0 ** -53, (1 << 30, 30)),   # mantissa rounds up to 1: renormalize
    (2.0 ** -40, (1 << 22, 62)),       # shift capped: round(M * 2^62)
    (2.0 ** -63, (1, 62)),             # 0.5 rounds away from zero
    (1.5 * 2.0 ** -64, (0, 62)),       # 0.375 -> 0
    (2.0 ** -70, (0, 62)),
    (5e-324, (0, 62)),                 # smallest subnormal
])
def test_quantize_multiplier_hand(M, expected):
    assert R.quantize_multiplier(M) == expected


def test_quantize_multiplier_half_away_from_zero():
    # mantissa * 2^31 = 2^30 + 0.5 exactly: llround gives 2^30 + 1.
    M = (2.0 ** 30 + 0.5) / 2.0 ** 31
    assert R.quantize_multiplier(M) == ((1 << 30) + 1, 31)
    M = (2.0 ** 30 + 2.5) / 2.0 ** 31
    assert R.quantize_multiplier(M) == ((1 << 30) + 3, 31)


@pytest.mark.parametrize("M", [0.0, -1.0, math.inf, math.nan, 2.0 ** 31,
                               2.0 ** 31 - 0.25])
def test_quantize_multiplier_invalid(M):
    with pytest.raises(ValueError):
        R.quantize_multiplier(M)


def test_quantize_multiplier_random():
    rng = np.random.default_rng(2)
    for M in np.exp(rng.uniform(math.log(2.0 ** -31), math.log(2.0 ** 30),
                                2000)):
        m0, s = R.quantize_multiplier(M)
        assert 1 << 30 <= m0 < 1 << 31 and 0 <= s <= 62
        err = abs(Fraction(m0, 1 << s) - Fraction(float(M)))
        assert err <= Fraction(float(M)) / (1 << 31)


# ---------------------------------------------------------------------------
# gemmlowp primitives
# ---------------------------------------------------------------------------

def test_srdhm_hand():
    srdhm = R.saturating_rounding_doubling_high_mul
    assert srdhm(I32MIN, I32MIN) == I32MAX
    assert srdhm(1 << 30, 1 << 30) == 1 << 29
    assert srdhm(1, 1 << 30) == 1       # 0.5 -> 1
    assert srdhm(-1, 1 << 30) == 0      # -0.5 -> 0 (toward +inf)
    assert srdhm(-3, 1 << 30) == -1     # -1.5 -> -1
    assert srdhm(3, 1 << 30) == 2       # 1.5 -> 2
    assert srdhm(I32MIN, I32MAX) == -I32MAX
    assert srdhm(I32MAX, I32MAX) == I32MAX - 1


def test_srdhm_matches_trunc_division_form():
    rng = np.random.default_rng(3)
    a = rng.integers(I32MIN, I32MAX, 3000, endpoint=True)
    b = rng.integers(I32MIN, I32MAX, 3000, endpoint=True)
    a[:3] = [I32MIN, -1, 7]
    b[:3] = [I32MIN, 1 << 30, -(1 << 30)]
    got = R.saturating_rounding_doubling_high_mul(a, b)
    for x, y, g in zip(a.tolist(), b.tolist(), got.tolist()):
        if x == I32MIN and y == I32MIN:
            assert g == I32MAX
            continue
        ab = x * y
        nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
        assert g == trunc_div(ab + nudge, 1 << 31)


def test_rounding_divide_by_pot():
    rdbpot = R.rounding_divide_by_pot
    assert rdbpot(5, 1) == 3 and rdbpot(-5, 1) == -3   # ties away from zero
    assert rdbpot(-3, 1) == -2 and rdbpot(3, 1) == 2
    assert rdbpot(-4, 1) == -2 and rdbpot(-6, 2) == -2  # -1.5 -> -2
    assert rdbpot(-5, 2) == -1 and rdbpot(-7, 2) == -2
    assert rdbpot(17, 0) == 17 and rdbpot(I32MIN, 0) == I32MIN
    assert rdbpot(I32MIN, 31) == -1 and rdbpot(I32MAX, 31) == 1
    assert rdbpot(1 << 30, 31) == 1 and rdbpot(-(1 << 30), 31) == -1
    assert rdbpot((1 << 30) - 1, 31) == 0
    rng = np.random.default_rng(4)
    x = rng.integers(I32MIN, I32MAX, 2000, endpoint=True)
    e = rng.integers(0, 31, 2000, endpoint=True)
    got = rdbpot(x, e)
    for xv, ev, g in zip(x.tolist(), e.tolist(), got.tolist()):
        f = Fraction(xv, 1 << ev)
        ref = math.floor(abs(f) + Fraction(1, 2))
        assert g == (ref if f >= 0 else -ref)


# ---------------------------------------------------------------------------
# apply_multiplier / requantize
# ---------------------------------------------------------------------------

HALF = (1 << 30, 31)
ONE = (1 << 30, 30)
EIGHTH = (1 << 30, 33)


@pytest.mark.parametrize("v,expected", [
    (1, 1), (-1, 0), (3, 2), (-3, -1), (5, 3), (-5, -2), (0, 0),
    (I32MIN, -(1 << 30)), (I32MAX, 1 << 30),
])
def test_apply_single_half_ties(v, expected):
    assert R.apply_multiplier(v, *HALF, "single") == expected
    # shift <= 31 and no left-shift saturation: gemmlowp is identical.
    assert R.apply_multiplier(v, *HALF, "gemmlowp") == expected


def test_apply_single_saturation_and_identity():
    assert R.apply_multiplier(I32MIN, *ONE) == I32MIN
    assert R.apply_multiplier(I32MAX, *ONE) == I32MAX
    assert R.apply_multiplier(1 << 30, 1 << 30, 29) == I32MAX   # 2^31
    assert R.apply_multiplier(-(1 << 30), 1 << 30, 29) == I32MIN
    assert R.apply_multiplier(I32MIN, 1 << 30, 29) == I32MIN
    assert R.apply_multiplier(I32MAX, I32MAX, 0) == I32MAX
    assert R.apply_multiplier(123, 0, 62) == 0
    assert R.apply_multiplier(7, 5, 0) == 35
    # capped shift 62 with M0 <= 2^30: single always gives 0 (|v * M| < 1/2)
    for v in (I32MIN, I32MAX, -1, 1):
        assert R.apply_multiplier(v, 1 << 30, 62, "single") == 0
    assert R.apply_multiplier(I32MIN, 1 << 30, 62, "gemmlowp") == -1


@pytest.mark.parametrize("v,single,gemmlowp", [
    (12, 2, 2),     # 1.5
    (-12, -1, -2),  # -1.5: half up vs. SRDHM -6 then -1.5 away from zero
    (-4, 0, -1),    # -0.5
    (5, 1, 1),      # 0.625
    (3, 0, 1),      # 0.375: SRDHM gives 2 (1.5 up), then 0.5 -> 1
    (-3, 0, 0),     # -0.375: SRDHM -1 (-1.5 up), then -0.25 -> 0
    (8, 1, 1), (-8, -1, -1), (0, 0, 0),
])
def test_apply_eighth_double_rounding(v, single, gemmlowp):
    assert R.apply_multiplier(v, *EIGHTH, "single") == single
    assert R.apply_multiplier(v, *EIGHTH, "gemmlowp") == gemmlowp


def test_apply_gemmlowp_left_shift_saturates():
    # M = 1 (shift 30): gemmlowp first shifts left by 1, which saturates.
    assert R.apply_multiplier(I32MIN, *ONE, "gemmlowp") == -(1 << 30)
    assert R.apply_multiplier(I32MAX, *ONE, "gemmlowp") == 1 << 30
    assert R.apply_multiplier((1 << 30) - 1, *ONE, "gemmlowp") == \
        (1 << 30) - 1


def test_apply_vectorized_per_channel():
    v = np.array([[1, -1, 3], [12, -12, -4]], dtype=np.int64)
    m0 = np.array([1 << 30, 1 << 30, 3 << 29])
    sh = np.array([31, 33, 31])
    got = R.apply_multiplier(v, m0, sh)
    np.testing.assert_array_equal(got, [[1, 0, 2], [6, -1, -3]])


def test_apply_invalid():
    with pytest.raises(ValueError):
        R.apply_multiplier(1 << 31, *HALF)
    with pytest.raises(ValueError):
        R.apply_multiplier(1, 1 << 30, 63)
    with pytest.raises(ValueError):
        R.apply_multiplier(1, 1 << 30, -1)
    with pytest.raises(ValueError):
        R.apply_multiplier(1, *HALF, rounding="floor")


def random_cases(rng, n):
    v = rng.integers(I32MIN, I32MAX, n, endpoint=True)
    small = rng.integers(-70000, 70000, n)
    v = np.where(rng.random(n) < 0.5, small, v)
    m0 = rng.integers(1 << 30, (1 << 31) - 1, n, endpoint=True)
    m0 = np.where(rng.random(n) < 0.05, 1 << 30, m0)
    shift = rng.integers(0, 62, n, endpoint=True)
    # Make ties likely: v * m0 divisible by 2^(shift-1).
    tie = rng.random(n) < 0.2
    shift = np.where(tie, np.minimum(shift, 20), shift)
    m0 = np.where(tie, (1 << 30) + (1 << 29), m0)
    return v, m0, shift


# single against exact rational rounding, gemmlowp against a transcription
# of gemmlowp's code.
@pytest.mark.parametrize("rounding,seed,naive", [
    ("single", 5, exact_single), ("gemmlowp", 6, naive_gemmlowp)])
def test_apply_multiplier_matches_naive(rounding, seed, naive):
    rng = np.random.default_rng(seed)
    v, m0, shift = random_cases(rng, 4000)
    got = R.apply_multiplier(v, m0, shift, rounding)
    for a, b, c, g in zip(v.tolist(), m0.tolist(), shift.tolist(),
                          got.tolist()):
        assert g == naive(a, b, c), (a, b, c)


def test_gemmlowp_within_one_of_single():
    rng = np.random.default_rng(7)
    v, m0, shift = random_cases(rng, 4000)
    left = np.where(shift >= 31, 0, 31 - shift)
    ok = np.abs(v) * (1 << left) <= I32MAX   # no left-shift saturation
    assert ok.sum() > 1500
    v, m0, shift = v[ok], m0[ok], shift[ok]
    s = R.apply_multiplier(v, m0, shift, "single")
    g = R.apply_multiplier(v, m0, shift, "gemmlowp")
    assert np.all(np.abs(s - g) <= 1)
    assert np.any(s != g)
    np.testing.assert_array_equal(s[shift <= 31], g[shift <= 31])


def test_requantize_hand():
    assert R.requantize(100, *HALF, -10, -128, 127) == 40
    assert R.requantize(1000, *HALF, -10, -128, 127) == 127
    assert R.requantize(-1000, *HALF, 3, -128, 127) == -128
    assert R.requantize(-1, *HALF, 0, -128, 127) == 0
    assert R.requantize(100, *HALF, -10, 45, 127) == 45     # fused relu
    # saturating add: INT32_MAX + 5 stays INT32_MAX before the clamp
    assert R.requantize(I32MAX, *ONE, 5, I32MIN, I32MAX) == I32MAX
    assert R.requantize(I32MIN, *ONE, -5, I32MIN, I32MAX) == I32MIN
    np.testing.assert_array_equal(
        R.requantize(np.array([1, 2, 3]), *HALF, 0, 0, 255), [1, 1, 2])
    with pytest.raises(ValueError):
        R.requantize(1, *HALF, 0, 5, 4)


def test_requantize_tensor_per_axis():
    x = np.array([[10, 20], [-10, 7]])
    # axis 1: channel 0 has zp 2 and M = 0.5, channel 1 zp 0 and M = 0.25
    out = R.requantize_tensor(x, [2, 0], [1 << 30, 1 << 30], [31, 32], 1,
                              -128, 127, axis=1)
    np.testing.assert_array_equal(out, [[5, 6], [-5, 3]])
    out = R.requantize_tensor(x, 2, 1 << 30, 31, 0, -128, 127)
    np.testing.assert_array_equal(out, [[4, 9], [-6, 3]])


# ---------------------------------------------------------------------------
# conv2d / matmul
# ---------------------------------------------------------------------------

def test_conv2d_hand():
    x = np.array([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]])
    w = np.array([[[[1, 0], [0, -1]]]])
    # zx = 1: x - zx = [[0,1,2],[3,4,5],[6,7,8]]; acc = a - d + bias(10)
    acc = R.conv2d_accumulate(x, 1, w, [10])
    np.testing.assert_array_equal(acc, [[[[6, 6], [6, 6]]]])
    out = R.conv2d_nchw(x, 1, w, [10], [3 << 29], [31], -2, -128, 127)
    np.testing.assert_array_equal(out, [[[[3, 3], [3, 3]]]])  # 4.5 -> 5, -2
    # padding 1 with the zero point: corners see one real tap
    # acc(y, x) = X(y - 1, x - 1) - X(y, x), X = x - zx, 0 outside
    acc = R.conv2d_accumulate(x, 1, w, None, padding=1)
    np.testing.assert_array_equal(acc[0, 0], [[0, -1, -2, 0],
                                              [-3, -4, -4, 2],
                                              [-6, -4, -4, 5],
                                              [0, 6, 7, 8]])


ROUNDINGS_ORDER = ["single", "gemmlowp"]
CONV_CASES = [
    # (N, C, H, W, F, KH, KW, stride, pad, dilation, groups)
    (1, 3, 5, 5, 4, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 1),
    (2, 4, 6, 5, 4, 3, 2, (2, 1), (0, 1, 2, 0), (1, 1), 2),
    (1, 4, 7, 7, 4, 3, 3, (2, 2), (2, 2, 2, 2), (2, 2), 4),   # depthwise
    (1, 2, 4, 6, 6, 1, 1, (1, 2), (0, 0, 0, 0), (1, 1), 2),
    (1, 3, 6, 6, 2, 2, 3, (1, 1), (1, 0, 0, 2), (2, 1), 1),
]


@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("rounding", ["single", "gemmlowp"])
@pytest.mark.parametrize("per_channel", [True, False])
def test_conv2d_matches_naive(case, rounding, per_channel):
    n, c, h, wd, f, kh, kw, stride, pad, dil, groups = case
    rng = np.random.default_rng(
        [CONV_CASES.index(case), ROUNDINGS_ORDER.index(rounding), per_channel])
    x = rng.integers(-128, 127, (n, c, h, wd), endpoint=True)
    w = rng.integers(-127, 127, (f, c // groups, kh, kw), endpoint=True)
    bias = rng.integers(-5000, 5000, f, endpoint=True)
    zx = int(rng.integers(-128, 127, endpoint=True))
    zo = int(rng.integers(-20, 20))
    nm = f if per_channel else 1
    ms = rng.uniform(5e-4, 3e-3, nm)
    m0s, shifts = R.quantize_multipliers(ms)
    lo, hi = (zo, 127) if per_channel else (-128, 127)
    got = R.conv2d_nchw(x, zx, w, bias, m0s, shifts, zo, lo, hi, stride, pad,
                        dil, groups, rounding)
    ref = naive_conv(x, zx, w, bias, m0s, shifts, zo, lo, hi, stride, pad,
                     dil, groups, rounding)
    np.testing.assert_array_equal(got, ref)
    # The bias fold is exact: sum(x * w) over the zx-padded input + folded.
    acc = R.conv2d_accumulate(x, zx, w, bias, stride, pad, dil, groups)
    folded = R.fold_bias(bias, zx, w)
    # sum(x * w) over the input padded with zx (padded cells hold zx)
    t, l, b, r = pad
    xp = np.full((n, c, h + t + b, wd + l + r), zx)
    xp[:, :, t:t + h, l:l + wd] = x
    raw = R.conv2d_accumulate(xp, 0, w, None, stride, 0, dil, groups)
    np.testing.assert_array_equal(acc, raw + folded.reshape(1, f, 1, 1))
    R.check_accumulator_bound(w, bias, zx)


def test_conv2d_padding_uses_zero_point():
    x = np.full((1, 2, 3, 3), -7)
    w = np.ones((3, 2, 3, 3), dtype=np.int64)
    out = R.conv2d_nchw(x, -7, w, [40, -40, 3], [1 << 30], [31], 0, -128,
                        127, padding=1)
    np.testing.assert_array_equal(out[0, :, 1, 1], [20, -20, 2])
    assert np.all(out[0] == np.array([20, -20, 2]).reshape(3, 1, 1))


def test_conv2d_nhwc_equals_nchw():
    rng = np.random.default_rng(8)
    x = rng.integers(-128, 127, (2, 5, 4, 6), endpoint=True)   # NHWC
    w = rng.integers(-127, 127, (3, 2, 3, 4), endpoint=True)   # KH KW C/g F
    m0s, sh = R.quantize_multipliers([0.01, 0.02, 0.005, 0.03])
    got = R.conv2d_nhwc(x, 3, w, None, m0s, sh, -1, -128, 127, 1,
                        (1, 0, 1, 2), 1, 2)
    ref = R.conv2d_nchw(x.transpose(0, 3, 1, 2), 3, w.transpose(3, 2, 0, 1),
                        None, m0s, sh, -1, -128, 127, 1, (1, 0, 1, 2), 1, 2)
    np.testing.assert_array_equal(got, ref.transpose(0, 2, 3, 1))


def test_accumulator_bound_and_overflow():
    w = np.array([[[[2, -3]]], [[[1, 1]]]])
    assert R.accumulator_bound(w, [10, -20], zx=-4) == \
        [255 * 5 + 10 + 4 * 1, 255 * 2 + 20 + 4 * 2]
    big = np.full((1, 70000, 1, 1), 127, dtype=np.int64)
    with pytest.raises(ValueError):
        R.check_accumulator_bound(big)
    # An accumulator that really overflows is rejected at run time.
    x = np.full((1, 3000, 1, 1), 127)
    w = np.full((1, 3000, 1, 1), 127)
    with pytest.raises(ValueError):
        R.conv2d_accumulate(x, -128, w, [I32MAX])
    with pytest.raises(ValueError):
        R.fold_bias([I32MAX], -128, np.full((1, 1), 1))


def test_conv2d_float_agreement():
    rng = np.random.default_rng(9)
    xf = rng.uniform(-1.0, 3.0, (1, 3, 6, 6)).astype(np.float32)
    wf = rng.normal(0, 0.3, (4, 3, 3, 3)).astype(np.float32)
    bf = rng.normal(0, 0.5, 4).astype(np.float32)
    sx, zx = R.choose_activation_qparams(-1.0, 3.0)
    wq, sw = R.quantize_weights(wf)
    bq = R.quantize_bias(bf, sx, sw)
    xq = R.quantize(xf, sx, zx)
    xd = R.dequantize(xq, sx, zx, float_type=np.float64)
    wd = wq.astype(np.float64) * sw.reshape(4, 1, 1, 1)
    yf = np.zeros((1, 4, 4, 4))
    for f in range(4):
        for i in range(4):
            for j in range(4):
                yf[0, f, i, j] = np.sum(xd[0, :, i:i + 3, j:j + 3] * wd[f]) + \
                    bq[f] * sx * sw[f]
    so, zo = R.choose_activation_qparams(yf.min(), yf.max())
    m0s, sh = R.quantize_multipliers([sx * s / so for s in sw])
    yq = R.conv2d_nchw(xq, zx, wq, bq, m0s, sh, zo, -128, 127)
    ideal = np.clip(np.rint(yf / so) + zo, -128, 127)
    assert np.max(np.abs(yq - ideal)) <= 1


def naive_matmul(a, za, b, zb, bias, m0s, shifts, zo, lo, hi, rounding):
    m, k = a.shape
    n = b.shape[1]
    out = np.zeros((m, n), dtype=np.int64)
    for i in range(m):
        for j in range(n):
            acc = int(bias[j]) if bias is not None else 0
            for t in range(k):
                acc += (int(a[i, t]) - za) * (int(b[t, j]) - zb)
            c = j if len(m0s) > 1 else 0
            out[i, j] = naive_requantize(acc, int(m0s[c]), int(shifts[c]), zo,
                                         lo, hi, rounding)
    return out


@pytest.mark.parametrize("rounding", ["single", "gemmlowp"])
def test_matmul_matches_naive(rounding):
    rng = np.random.default_rng(10)
    a = rng.integers(-128, 127, (5, 16), endpoint=True)
    b = rng.integers(-127, 127, (16, 7), endpoint=True)
    bias = rng.integers(-3000, 3000, 7)
    m0s, sh = R.quantize_multipliers(rng.uniform(1e-3, 1e-2, 7))
    got = R.matmul(a, 9, b, 0, bias, m0s, sh, 4, -128, 127,
                   rounding=rounding)
    np.testing.assert_array_equal(
        got, naive_matmul(a, 9, b, 0, bias, m0s, sh, 4, -128, 127, rounding))
    got_t = R.matmul(a, 9, b.T, 0, bias, m0s, sh, 4, -128, 127,
                     transpose_rhs=True, rounding=rounding)
    np.testing.assert_array_equal(got, got_t)
    # batched, per-tensor, asymmetric rhs
    ab = rng.integers(-128, 127, (2, 3, 4), endpoint=True)
    bb = rng.integers(-128, 127, (2, 4, 5), endpoint=True)
    m0, s = R.quantize_multiplier(0.004)
    got = R.matmul(ab, -3, bb, 7, None, [m0], [s], 0, -128, 127,
                   rounding=rounding)
    for i in range(2):
        np.testing.assert_array_equal(got[i], naive_matmul(
            ab[i], -3, bb[i], 7, None, [m0], [s], 0, -128, 127, rounding))


def test_matmul_hand():
    a = np.array([[1, 2], [3, 4]])
    b = np.array([[1, -1], [2, 0]])
    # (a - 1) @ b = [[0,1],[2,3]] @ b = [[2, 0], [8, -2]]; + bias [1, -1]
    acc = R.matmul_accumulate(a, 1, b, 0, [1, -1])
    np.testing.assert_array_equal(acc, [[3, -1], [9, -3]])
    out = R.matmul(a, 1, b, 0, [1, -1], [1 << 30], [31], 0, -128, 127)
    np.testing.assert_array_equal(out, [[2, 0], [5, -1]])


# ---------------------------------------------------------------------------
# add / mul
# ---------------------------------------------------------------------------

def test_add_rescales():
    ma, mb, mo = R.add_rescales(0.5, 0.25, 1.0)
    assert ma == (1 << 30, 31)     # 0.5 / 1.0
    assert mb == (1 << 30, 32)     # 0.25 / 1.0
    assert mo == (1 << 30, 50)     # 1.0 / (2^20 * 1.0) = 2^30 * 2^-50


def test_add_hand():
    ma, mb, mo = R.add_rescales(0.5, 0.25, 1.0)
    # 0.5 * (10 - 2) + 0.25 * (-7 - 1) = 2; / 1.0 + 3 = 5
    out = R.add([10], 2, [-7], 1, ma, mb, mo, 3, -128, 127)
    np.testing.assert_array_equal(out, [5])
    # ties: 0.5 * 1 + 0.5 * 0 = 0.5 -> 1 ; 0.5 * 0 + 0.5 * -1 -> 0
    ma, mb, mo = R.add_rescales(0.5, 0.5, 1.0)
    np.testing.assert_array_equal(
        R.add([1, 0, 3], 0, [0, -1, -4], 0, ma, mb, mo, 0, -128, 127),
        [1, 0, 0])   # 0.5 - 2 = -1.5 -> -1
    # gemmlowp: Mo = 2^30 * 2^-50 is applied as SRDHM (halving) and then a
    # divide by 2^19 with ties away from zero: the sums +-2^19 give +-1.
    np.testing.assert_array_equal(
        R.add([1, 0, 3], 0, [0, -1, -4], 0, ma, mb, mo, 0, -128, 127,
              rounding="gemmlowp"),
        [1, -1, -1])
    # clamp bounds
    np.testing.assert_array_equal(
        R.add([127], 0, [127], 0, ma, mb, mo, 0, -10, 10), [10])


def test_add_against_exact():
    rng = np.random.default_rng(11)
    for _ in range(20):
        sa, sb, so = rng.uniform(0.01, 1.0, 3)
        za, zb, zo = rng.integers(-128, 127, 3, endpoint=True)
        a = rng.integers(-128, 127, 200, endpoint=True)
        b = rng.integers(-128, 127, 200, endpoint=True)
        ma, mb, mo = R.add_rescales(sa, sb, so)
        got = R.add(a, za, b, zb, ma, mb, mo, zo, -128, 127)
        ideal = np.clip(np.rint((sa * (a - za) + sb * (b - zb)) / so) + zo,
                        -128, 127)
        assert np.max(np.abs(got - ideal)) <= 1


def test_mul_hand():
    m0, s = R.mul_rescale(0.5, 0.5, 0.25)
    assert (m0, s) == (1 << 30, 30)
    out = R.mul([7, 2], 2, [-1, 2], 2, m0, s, 1, -128, 127)
    np.testing.assert_array_equal(out, [-14, 1])   # 5 * -3 + 1, 0 * 0 + 1
    m0, s = R.mul_rescale(1.0, 1.0, 2.0)            # M = 0.5
    out = R.mul([3, -3, 100], 0, [1, 1, 100], 0, m0, s, 0, -128, 127)
    np.testing.assert_array_equal(out, [2, -1, 127])


# ---------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------

def test_avg_pool_hand():
    x = np.array([[[[1, 2], [3, 5]]]])
    m0, s = R.avg_pool_rescale(0.1, 0.1, 2)       # M = 1/4
    assert (m0, s) == (1 << 30, 32)
    # sum (x - 1) = 0 + 1 + 2 + 4 = 7; 7 / 4 = 1.75 -> 2; + zo 3
    out = R.avg_pool2d(x, 1, 2, 1, 0, m0, s, 3, -128, 127)
    np.testing.assert_array_equal(out, [[[[5]]]])
    # 6 / 4 = 1.5 rounds up; -6 / 4 = -1.5 rounds to -1
    out = R.avg_pool2d(np.array([[[[0, 1], [2, 3]]]]), 0, 2, 1, 0, m0, s, 0,
                       -128, 127)
    assert out.item() == 2
    out = R.avg_pool2d(np.array([[[[0, -1], [-2, -3]]]]), 0, 2, 1, 0, m0, s,
                       0, -128, 127)
    assert out.item() == -1


def test_avg_pool_padding_counts():
    x = np.array([[[[9, 1], [1, 1]]]])
    m0, s = R.avg_pool_rescale(1.0, 1.0, (2, 2))
    # pad 1, stride 2: each window sees one real cell and three padded zeros
    out = R.avg_pool2d(x, 1, 2, 2, 1, m0, s, 0, -128, 127)
    # (9 - 1) / 4 = 2; the others (1 - 1) / 4 = 0
    np.testing.assert_array_equal(out, [[[[2, 0], [0, 0]]]])
    with pytest.raises(ValueError):
        R.avg_pool2d(x, 1, 2, 2, 1, m0, s, 0, -128, 127,
                     count_include_pad=False)
    # without padding count_include_pad makes no difference
    a = R.avg_pool2d(x, 1, 2, 1, 0, m0, s, 0, -128, 127)
    b = R.avg_pool2d(x, 1, 2, 1, 0, m0, s, 0, -128, 127,
                     count_include_pad=False)
    np.testing.assert_array_equal(a, b)


def test_global_avg_pool_and_layouts():
    rng = np.random.default_rng(12)
    x = rng.integers(-128, 127, (2, 3, 7, 7), endpoint=True)
    sx, so, zx, zo = 0.1, 0.05, -4, 6
    m0, s = R.avg_pool_rescale(sx, so, (7, 7))
    out = R.avg_pool2d(x, zx, (7, 7), 1, 0, m0, s, zo, -128, 127)
    assert out.shape == (2, 3, 1, 1)
    sums = (x - zx).sum(axis=(2, 3))
    for v, g in zip(sums.ravel().tolist(), out.ravel().tolist()):
        assert g == max(-128, min(127, exact_single(v, m0, s) + zo))
    nhwc = R.avg_pool2d(x.transpose(0, 2, 3, 1), zx, (7, 7), 1, 0, m0, s, zo,
                        -128, 127, layout="nhwc")
    np.testing.assert_array_equal(nhwc.transpose(0, 3, 1, 2), out)


def test_avg_pool_divide_then_rescale_variant():
    x = np.array([[[[9, 1], [1, 1]]]])
    m0, s = R.quantize_multiplier(1.0)
    out = R.avg_pool2d_divide_then_rescale(x, 1, 2, 2, 1, m0, s, 0, -128, 127)
    np.testing.assert_array_equal(out, [[[[2, 0], [0, 0]]]])
    out = R.avg_pool2d_divide_then_rescale(x, 1, 2, 2, 1, m0, s, 0, -128, 127,
                                           count_include_pad=False)
    np.testing.assert_array_equal(out, [[[[8, 0], [0, 0]]]])
    # -6 / 4 = -1.5 rounds away from zero here (the fused scheme gives -1)
    y = np.array([[[[0, -1], [-2, -3]]]])
    assert R.avg_pool2d_divide_then_rescale(y, 0, 2, 1, 0, m0, s, 0, -128,
                                            127).item() == -2


def test_max_pool():
    x = np.array([[[[-100, -90, -80], [-70, -60, -50], [-40, -30, -120]]]])
    # padding acts as qmin: the result is never the zero point or 0
    out = R.max_pool2d(x, 2, 2, 1)
    np.testing.assert_array_equal(out, [[[[-100, -80], [-40, -30]]]])
    out = R.max_pool2d(x, 2, 1, 0, dilation=2)
    np.testing.assert_array_equal(out, [[[[-40]]]])
    u = np.array([[[[0, 3], [1, 2]]]])
    np.testing.assert_array_equal(R.max_pool2d(u, 3, 1, 1, qmin=0),
                                  [[[[3, 3], [3, 3]]]])
    nhwc = R.max_pool2d(x.transpose(0, 2, 3, 1), 2, 2, 1, layout="nhwc")
    np.testing.assert_array_equal(nhwc[..., 0], [[[-100, -80], [-40, -30]]])


# ---------------------------------------------------------------------------
# clamp / table / concat / quantize / dequantize
# ---------------------------------------------------------------------------

def test_clamp_table_concat():
    np.testing.assert_array_equal(R.clamp([-128, -3, 0, 127], -3, 100),
                                  [-3, -3, 0, 100])
    values = np.arange(256) - 128
    values = np.maximum(values, 0)   # relu table, zp 0
    np.testing.assert_array_equal(R.table([-128, -1, 0, 5, 127], values),
                                  [0, 0, 0, 5, 127])
    np.testing.assert_array_equal(R.table([0, 255], np.arange(256)[::-1], 0),
                                  [255, 0])
    with pytest.raises(ValueError):
        R.table([200], values)
    np.testing.assert_array_equal(R.concat([[[1, 2]], [[3, 4]]], 0),
                                  [[1, 2], [3, 4]])


def test_quantize_dequantize():
    q = R.quantize([0.0, 0.25, 0.75, -0.25, 1000.0, -1000.0, 1.25], 0.5, -3)
    # 0.5 -> 0, 1.5 -> 2, -0.5 -> 0 (ties to even), saturation, 2.5 -> 2
    np.testing.assert_array_equal(q, [-3, -3, -1, -3, 127, -128, -1])
    np.testing.assert_array_equal(R.dequantize([-3, -1, 127], 0.5, -3),
                                  [0.0, 1.0, 65.0])
    assert R.dequantize([1], 0.1, 0).dtype == np.float32
    q = R.quantize([1.0, 1.0], [0.5, 0.25], [0, 10], 0, 255, axis=0)
    np.testing.assert_array_equal(q, [2, 14])
    q = R.quantize([-1.0], 1.0, 0, 0, 255)
    np.testing.assert_array_equal(q, [0])
    with pytest.raises(ValueError):
        R.quantize([math.nan], 1.0, 0)
    # float32 rounding of the input comes first: 0.1 in f32 / 0.1 in double
    x = np.float32(0.1)
    assert R.quantize([0.1], 0.1, 0)[0] == round(float(x) / 0.1)


def test_requantize_factors_hand():
    """Per-channel factors (spec 3.4): sx / so = 0.5, f = [0.5, -0.5, 0];
    M = [0.25, 0.25, 0]. x - zx = [2, 6, 5] per channel of axis 1."""
    m0, sh, signs = R.factor_rescales(0.1, 0.2, [0.5, -0.5, 0.0])
    assert list(m0) == [1 << 30, 1 << 30, 0] and list(sh) == [32, 32, 0]
    assert list(signs) == [1, -1, 1]
    x = np.array([[[3], [7], [6]]])  # zx = 1
    # 2 / 4 = 0.5 rounds to 1; -6 / 4 = -1.5 rounds up to -1 under single
    # rounding (the operand is negated before the rounding: not -2), and
    # away from zero under gemmlowp's second rounding; the zero factor gives
    # the zero point.
    for rounding, want in (("single", [11, 9, 10]),
                           ("gemmlowp", [11, 8, 10])):
        out = R.requantize_factors(x, 1, m0, sh, signs, 10, -128, 127,
                                   axis=1, rounding=rounding)
        assert out.ravel().tolist() == want
    one = R.factor_rescales(0.1, 0.2, [-3.0])
    assert R.requantize_factors(np.array([4, -2]), 0, *one, 0, -128,
                                127).tolist() == [-6, 3]


def test_layer_norm_per_channel_input():
    """Spec 6.6: a per-channel input x with shifts a is the 16-bit form
    (6.4) on (x - zp) << a, and on rows with outlier channels it is far
    closer to the float layer norm than a per-tensor int8 input."""
    rng = np.random.default_rng(0)
    c = 64
    channel_scale = np.ones(c)
    channel_scale[[3, 17]] = 50.0  # outlier channels of a residual stream
    x = rng.standard_normal((32, c)) * channel_scale
    gamma, beta, eps = rng.uniform(0.5, 1.5, c), rng.uniform(-0.2, 0.2, c), 1e-5
    y = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1) + eps)[:, None]
    y = y * gamma + beta
    s_out = (y.max() - y.min()) / 255
    zo = int(round(-128 - y.min() / s_out))
    # Per tensor: symmetric-ish int8 over the whole range (zero point 0).
    s0 = np.abs(x).max() / 127
    x_t = np.clip(np.rint(x / s0), -128, 127).astype(np.int64)
    G, B, E = R.layer_norm_params(gamma, beta, eps, s0, s_out, c)
    err_tensor = np.abs((R.layer_norm(x_t, G, B, E, zo) - zo) * s_out
                        - y).mean()
    # Per channel: scale s0 / 2^7 * 2^a[c], the least power holding |x_c|.
    s = s0 / 2 ** R.LAYER_NORM_MAX_INPUT_SHIFT
    need = np.abs(x).max(0) / (127 * s)
    a = np.clip(np.ceil(np.log2(np.maximum(need, 1))), 0, 7).astype(np.int64)
    x_c = np.clip(np.rint(x / (s * 2.0 ** a)), -128, 127).astype(np.int64)
    G, B, E = R.layer_norm_params(gamma, beta, eps, s, s_out, c,
                                          input_bits=16)
    out = R.layer_norm(x_c, G, B, E, zo, input_shifts=a)
    np.testing.assert_array_equal(
        out, R.layer_norm(x_c << a, G, B, E, zo, input_bits=16))
    err_channel = np.abs((out - zo) * s_out - y).mean()
    assert a[3] == 7 and a[17] == 7 and a.min() <= 2
    # Mean absolute error 0.013 against 0.052.
    assert err_channel < err_tensor / 3, (err_channel, err_tensor)
    with pytest.raises(ValueError, match="input_shifts"):
        R.layer_norm(x_c, G, B, E, zo, input_shifts=a + 1)
