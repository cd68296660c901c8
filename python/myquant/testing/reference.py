"""Independent numpy reference of docs/NumericSpec.md.

This module is written from the numeric specification alone; it does not call
or import any part of the C++ compiler, so it can be used to check it. The
choice of activation parameters (spec 1.1: ``choose_activation_qparams``,
``round_half_even``) is the package's own, :mod:`myquant.qparams`, used here
as it is (the package needs it to label the int8 model's values).

Conventions
-----------
* Integer tensors are handled as numpy ``int64`` arrays. Every value the
  specification keeps in int32 is checked to lie in ``[-2^31, 2^31 - 1]``
  and a ``ValueError`` is raised otherwise (the reference never wraps).
* Op results are ``int64`` arrays whose values lie within ``[lo, hi]``;
  storage-typed constants come back in their storage dtype (weights ``int8``,
  bias ``int32``).
* Float model data (weights, bias, quantize inputs) is first rounded to
  ``float32`` (the model's element type; override with ``float_type``) and
  then computed with in double precision, exactly as the specification says.
* A rescale is a pair ``(m0, shift)`` meaning ``m0 * 2^-shift``; per-channel
  rescales are arrays of ``m0`` and ``shift`` with one entry per channel.
* Rounding names: ``'single'`` and ``'gemmlowp'``.
* 2-D ops use NCHW activations and ``F x C/groups x KH x KW`` filters unless a
  ``layout='nhwc'`` variant is used; ``padding`` is ``[top, left, bottom,
  right]`` (an int or an ``(h, w)`` pair is also accepted).
"""

import math
from fractions import Fraction

import numpy as np

from ..qparams import (LAYER_NORM_MAX_INPUT_SHIFT, WIDE_QMAX,
                       choose_activation_qparams,
                       choose_int16_qparams, choose_wide_qparams,
                       round_half_even)

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1
MAX_SHIFT = 62
ADD_LEFT_SHIFT = 20
ADD_LEFT_SHIFT_16 = 15
INT16_QMIN, INT16_QMAX = -32767, 32767
ACCUMULATOR_BITS = (32, 64)
ROUNDINGS = ("single", "gemmlowp")
SOFTMAX_EXP_BITS = 16
SOFTMAX_RECIPROCAL_BITS = 40
SOFTMAX_OUTPUT_BITS = 8
SOFTMAX_OUTPUT_BITS_16 = 15
# Spec 6.4: the 16-bit input's exponential, 2^-u on [0, 1) in Q30 (Horner
# coefficients, degree 0 upward), and log2(e), the double nearest.
SOFTMAX_EXP_FRACTION_BITS = 30
SOFTMAX_EXP_POLYNOMIAL = (1073741824, -744187941, 257211659, -57311493,
                          7419127)
SOFTMAX_EXP_MAX_SHIFT = 48
SOFTMAX_LOG2E = 1.4426950408889634
LAYER_NORM_UNIT_BITS = 16
LAYER_NORM_OUTPUT_SHIFT = 24
LAYER_NORM_EPS_BITS = 8
LAYER_NORM_MAX_CHANNELS = 4096
# Spec 3.8: a 16-bit input's table holds f at -32768 + 128 k, k = 0 .. 512,
# and interpolates in between.
TABLE16_STEP_BITS = 7
TABLE16_ORIGIN = -32768
TABLE16_ENTRIES = (1 << (16 - TABLE16_STEP_BITS)) + 1
LAYER_NORM_MAX_EPS = 1 << 60

__all__ = [
    "INT32_MIN", "INT32_MAX", "MAX_SHIFT", "ADD_LEFT_SHIFT", "ROUNDINGS",
    "ADD_LEFT_SHIFT_16", "INT16_QMIN", "INT16_QMAX", "choose_int16_qparams",
    "apply_multiplier_int64",
    "round_half_even", "choose_activation_qparams", "activation_clamp",
    "quantize_weights", "quantize_bias", "quantize_multiplier",
    "quantize_multipliers", "saturating_rounding_doubling_high_mul",
    "rounding_divide_by_pot", "apply_multiplier", "requantize",
    "requantize_tensor", "accumulator_bound", "check_accumulator_bound",
    "fold_bias", "conv2d_accumulate", "conv2d_nchw", "conv2d_nhwc",
    "matmul_accumulate", "matmul", "add_rescales", "add", "mul_rescale", "mul",
    "avg_pool_rescale", "avg_pool2d", "avg_pool2d_divide_then_rescale",
    "max_pool2d", "clamp", "table", "concat", "constant_operand",
    "TABLE16_STEP_BITS", "TABLE16_ORIGIN", "TABLE16_ENTRIES", "table_values",
    "table16",
    "quantize", "dequantize",
    "SOFTMAX_EXP_BITS", "SOFTMAX_RECIPROCAL_BITS", "SOFTMAX_OUTPUT_BITS",
    "SOFTMAX_OUTPUT_BITS_16",
    "softmax_exp_table", "softmax_output_qparams", "softmax",
    "SOFTMAX_EXP_FRACTION_BITS", "SOFTMAX_EXP_POLYNOMIAL",
    "SOFTMAX_EXP_MAX_SHIFT", "SOFTMAX_LOG2E", "softmax_exp_rescale",
    "softmax_exp16", "softmax16",
    "LAYER_NORM_UNIT_BITS", "LAYER_NORM_OUTPUT_SHIFT", "layer_norm_params",
    "isqrt_newton", "layer_norm", "layer_norm_squares_shift",
    "layer_norm_max_channels",
]


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------

def _as_int64(x, what="value"):
    a = np.asarray(x)
    if a.dtype == object:
        vals = [int(v) for v in a.ravel()]
        if any(v < -(1 << 63) or v >= (1 << 63) for v in vals):
            raise ValueError(f"{what} does not fit in int64")
        return np.array(vals, dtype=np.int64).reshape(a.shape)
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or np.any(a != np.round(a)):
            raise ValueError(f"{what} must hold integers")
        return a.astype(np.int64)
    if a.dtype.kind not in "iub":
        raise ValueError(f"{what} must be an integer array")
    if a.dtype == np.uint64 and a.size and a.max() >= (1 << 63):
        raise ValueError(f"{what} does not fit in int64")
    return a.astype(np.int64)


def _check_int32(a, what):
    a = np.asarray(a)
    if a.size and (a.min() < INT32_MIN or a.max() > INT32_MAX):
        raise ValueError(f"{what} overflows int32")
    return a


def _check_rounding(rounding):
    if rounding not in ROUNDINGS:
        raise ValueError(f"unknown rounding {rounding!r}; expected one of "
                         f"{ROUNDINGS}")


def _scalar_or_array(r):
    return int(r) if np.ndim(r) == 0 else r


def _round_half_away(x):
    """Round a finite double to the nearest integer, ties away from zero,
    exactly (like C's llround)."""
    f = Fraction(float(x))
    n = math.floor(abs(f) + Fraction(1, 2))
    return n if f >= 0 else -n


def _channel_param(p, nch, axis, ndim, what):
    """Broadcast a per-tensor (size 1) or per-channel (size nch) parameter
    against an ndim-dimensional array whose channels lie along axis."""
    p = _as_int64(p, what)
    if p.size == 1:
        return p.reshape(())
    if p.ndim != 1 or p.size != nch:
        raise ValueError(f"{what} has {p.size} entries; expected 1 or {nch}")
    shape = [1] * ndim
    shape[axis] = nch
    return p.reshape(shape)


def _pair(v, what):
    if np.ndim(v) == 0:
        v = (int(v), int(v))
    v = tuple(int(t) for t in v)
    if len(v) != 2:
        raise ValueError(f"{what} must be an int or a pair")
    return v


def _padding4(p):
    if np.ndim(p) == 0:
        p = (int(p),) * 4
    p = tuple(int(t) for t in p)
    if len(p) == 2:
        p = (p[0], p[1], p[0], p[1])
    if len(p) != 4 or min(p) < 0:
        raise ValueError("padding must be [top, left, bottom, right], >= 0")
    return p


def _out_size(size, pad_lo, pad_hi, k, s, d, what):
    if k < 1 or s < 1 or d < 1:
        raise ValueError(f"{what}: kernel, stride and dilation must be >= 1")
    span = d * (k - 1) + 1
    n = (size + pad_lo + pad_hi - span) // s + 1
    if n < 1:
        raise ValueError(f"{what}: window larger than the padded input")
    return n


def _pad_nchw(x, pad, value):
    t, l, b, r = pad
    n, c, h, w = x.shape
    out = np.full((n, c, h + t + b, w + l + r), value, dtype=np.int64)
    out[:, :, t:t + h, l:l + w] = x
    return out


def _window_slices(kernel, stride, dilation, out_hw):
    """Yields, for every kernel offset, the (H, W) slices that pick that tap
    of every output position from a padded NCHW input."""
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out_hw
    for i in range(kh):
        for j in range(kw):
            yield (i, j,
                   slice(i * dh, i * dh + sh * (oh - 1) + 1, sh),
                   slice(j * dw, j * dw + sw * (ow - 1) + 1, sw))


def _check_layout(layout):
    if layout not in ("nchw", "nhwc"):
        raise ValueError(f"unknown layout {layout!r}")


def _to_nchw(x, layout):
    return x if layout == "nchw" else np.transpose(x, (0, 3, 1, 2))


def _from_nchw(x, layout):
    return x if layout == "nchw" else np.transpose(x, (0, 2, 3, 1))


# ---------------------------------------------------------------------------
# Choosing quantization parameters
# ---------------------------------------------------------------------------

def activation_clamp(activation, zo, so, qmin=-128, qmax=127):
    """Integer clamp bounds (lo, hi) of a result with zero point zo and scale
    so, for a fused activation None, 'relu' or 'relu6'."""
    if activation is None:
        return qmin, qmax
    if activation == "relu":
        return max(qmin, zo), qmax
    if activation == "relu6":
        return max(qmin, zo), min(qmax, zo + round_half_even(6.0 / so))
    raise ValueError(f"unknown activation {activation!r}")


def quantize_weights(w, axis=0, float_type=np.float32, qmax=127):
    """Symmetric narrow-range weights in [-qmax, qmax]: int8 (127, spec
    1.2) or 4-bit (7, spec 7.1).

    axis=k: one scale per slice along dimension k (per output channel);
    axis=None: one scale for the tensor. Returns (q int8 array, scales float64
    1-D array with one entry per channel, or one entry)."""
    w64 = np.asarray(w, dtype=float_type).astype(np.float64)
    if w64.size == 0:
        raise ValueError("empty weight tensor")
    if not np.all(np.isfinite(w64)):
        raise ValueError("weights must be finite")
    if axis is None:
        amax = np.max(np.abs(w64)).reshape(1)
        bshape = ()
    else:
        axis = axis % w64.ndim
        others = tuple(d for d in range(w64.ndim) if d != axis)
        amax = np.max(np.abs(w64), axis=others) if others else np.abs(w64)
        bshape = [1] * w64.ndim
        bshape[axis] = w64.shape[axis]
    scales = np.where(amax == 0.0, 1.0, amax / float(qmax))
    q = np.rint(w64 / scales.reshape(bshape))
    q = np.clip(q, -qmax, qmax)
    return q.astype(np.int8), scales.astype(np.float64)


GROUP_SCALE_BITS = 8


def quantize_weights_per_group(w, axis, group_size, float_type=np.float32):
    """Spec 7.2: 2-D weights with output channels along axis (0 or 1), 4-bit
    per group of group_size consecutive indices of the other (K) dimension.
    Returns (q int8 [same shape], m int64 [channels, groups] in [1, 256],
    u float64 [channels] unit scales)."""
    w64 = np.asarray(w, dtype=float_type).astype(np.float64)
    if w64.ndim != 2 or axis not in (0, 1):
        raise ValueError("per-group weights are 2-D with axis 0 or 1")
    wc = w64 if axis == 0 else w64.T          # [channels, K]
    channels, k = wc.shape
    if k % group_size:
        raise ValueError(f"K = {k} is not a multiple of {group_size}")
    top = 1 << GROUP_SCALE_BITS
    gmax = np.abs(wc).reshape(channels, k // group_size, group_size)         .max(axis=2)                          # amax[c, g]
    cmax = gmax.max(axis=1)                   # amax[c]
    m = np.empty(gmax.shape, np.int64)
    u = np.empty(channels, np.float64)
    for c in range(channels):
        if cmax[c] == 0.0:
            u[c], m[c] = 1.0 / top, top
            continue
        # Rounded up to 15 significant bits (spec 7.2).
        mant, exp = math.frexp(cmax[c] / float(7 * top))
        u[c] = math.ldexp(math.ceil(math.ldexp(mant, 15)), exp - 15)
        for g in range(gmax.shape[1]):
            m[c, g] = max(1, int(np.ceil(float(top) * gmax[c, g] / cmax[c])))
    s = u[:, None] * m                        # s[c, g] = u[c] * m[c, g]
    q = np.clip(np.rint(wc / np.repeat(s, group_size, axis=1)), -7, 7)
    q = q.astype(np.int8)
    return (q if axis == 0 else q.T), m, u


def group_effective_weights(q, m, axis, group_size):
    """q[c, k] * m[c, g(k)] (spec 7.2), int64, in q's layout."""
    qc = np.asarray(q, np.int64) if axis == 0 else np.asarray(q, np.int64).T
    eff = qc * np.repeat(np.asarray(m, np.int64), group_size, axis=1)
    return eff if axis == 0 else eff.T


def quantize_bias(b, s_in, s_w, float_type=np.float32):
    """int32 bias: round_half_even(b[c] / (s_in * s_w[c])) (s_w scalar or one
    entry per channel). Raises ValueError when a value does not fit int32."""
    b64 = np.asarray(b, dtype=float_type).astype(np.float64)
    s_w = np.asarray(s_w, dtype=np.float64)
    s_in = float(s_in)
    if not s_in > 0 or not np.all(s_w > 0):
        raise ValueError("scales must be positive")
    denom = s_in * s_w
    with np.errstate(over="ignore", invalid="ignore"):
        q = np.rint(b64 / denom)
    if not np.all(np.isfinite(q)) or np.any(q < INT32_MIN) or \
            np.any(q > INT32_MAX):
        raise ValueError("quantized bias does not fit in int32")
    return q.astype(np.int32)


# ---------------------------------------------------------------------------
# Fixed-point multipliers
# ---------------------------------------------------------------------------

def quantize_multiplier(M):
    """(m0, shift) with M ~= m0 * 2^-shift, m0 in [2^30, 2^31) (smaller only
    when shift is capped at 62), shift in [0, 62]. ValueError when M is not
    finite, M <= 0, or M rounds to >= 2^31."""
    M = float(M)
    if not math.isfinite(M) or not M > 0.0:
        raise ValueError(f"multiplier {M} must be finite and > 0")
    mant, e = math.frexp(M)  # M = mant * 2^e, mant in [0.5, 1)
    m0 = _round_half_away(math.ldexp(mant, 31))
    if m0 == 1 << 31:
        m0 = 1 << 30
        e += 1
    shift = 31 - e
    if shift < 0:
        raise ValueError(f"multiplier {M} too large (>= 2^31)")
    if shift > MAX_SHIFT:
        shift = MAX_SHIFT
        m0 = _round_half_away(math.ldexp(M, MAX_SHIFT))
    return m0, shift


def quantize_multipliers(Ms):
    """Vector form: (m0 int64 array, shift int64 array) for an array of Ms."""
    pairs = [quantize_multiplier(float(m)) for m in np.ravel(Ms)]
    m0s = np.array([p[0] for p in pairs], dtype=np.int64)
    shifts = np.array([p[1] for p in pairs], dtype=np.int64)
    return m0s, shifts


def saturating_rounding_doubling_high_mul(a, b):
    """gemmlowp SRDHM as implemented: floor((a*b + 2^30) / 2^31), i.e. a*b/2^31
    with ties toward +inf; INT32_MIN * INT32_MIN gives INT32_MAX."""
    a = _check_int32(_as_int64(a, "a"), "a")
    b = _check_int32(_as_int64(b, "b"), "b")
    ab = a * b  # |ab| <= 2^62
    r = (ab + (1 << 30)) >> 31
    r = np.where((a == INT32_MIN) & (b == INT32_MIN), INT32_MAX, r)
    return _scalar_or_array(r)


def rounding_divide_by_pot(x, exponent):
    """x / 2^exponent rounded to nearest, ties away from zero; exponent in
    [0, 31]."""
    x = _check_int32(_as_int64(x, "x"), "x")
    e = _as_int64(exponent, "exponent")
    if e.size and (e.min() < 0 or e.max() > 31):
        raise ValueError("exponent must be in [0, 31]")
    mask = np.left_shift(np.int64(1), e) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    r = (x >> e) + (remainder > threshold)
    return _scalar_or_array(r)


def apply_multiplier(v, m0, shift, rounding="single"):
    """Multiply int32 values by m0 * 2^-shift with the named rounding; the
    result is saturated to int32. v, m0 and shift broadcast together."""
    _check_rounding(rounding)
    v = _check_int32(_as_int64(v, "value"), "value")
    m0 = _check_int32(_as_int64(m0, "multiplier"), "multiplier")
    shift = _as_int64(shift, "shift")
    if shift.size and (shift.min() < 0 or shift.max() > MAX_SHIFT):
        raise ValueError(f"shift must be in [0, {MAX_SHIFT}]")
    if rounding == "single":
        product = v * m0  # |v * m0| <= 2^62
        nudge = np.where(shift > 0,
                         np.left_shift(np.int64(1), np.maximum(shift - 1, 0)),
                         0)  # <= 2^61, so product + nudge < 2^63
        r = np.clip((product + nudge) >> shift, INT32_MIN, INT32_MAX)
        return _scalar_or_array(r)
    left = np.where(shift >= 31, 0, 31 - shift)
    right = np.where(shift >= 31, shift - 31, 0)
    # |v| * 2^left <= 2^62: saturate instead of overflowing.
    x = np.clip(v * np.left_shift(np.int64(1), left), INT32_MIN, INT32_MAX)
    high = np.asarray(saturating_rounding_doubling_high_mul(x, m0))
    return rounding_divide_by_pot(high, right)


def apply_multiplier_int64(v, m0, shift):
    """Spec 6.3 apply64: round_half_up(v * m0 / 2^shift) computed exactly
    (Python integers) for int64 v, saturated to int32."""
    v = _as_int64(v, "value")
    m0 = _check_int32(_as_int64(m0, "multiplier"), "multiplier")
    shift = _as_int64(shift, "shift")
    if shift.size and (shift.min() < 0 or shift.max() > MAX_SHIFT):
        raise ValueError(f"shift must be in [0, {MAX_SHIFT}]")
    v, m0, shift = np.broadcast_arrays(v, m0, shift)

    def one(x, m, s):
        r = (int(x) * int(m) + ((1 << (int(s) - 1)) if s > 0 else 0)) >> int(s)
        return min(max(r, INT32_MIN), INT32_MAX)
    r = np.array([one(x, m, s) for x, m, s in
                  zip(v.ravel(), m0.ravel(), shift.ravel())],
                 dtype=np.int64).reshape(v.shape)
    return _scalar_or_array(r)


def _requantize_accumulator(acc, m0, shift, zp_out, lo, hi, rounding,
                            accumulator_bits):
    """requantize of an int32 accumulator (spec 2.3), or of an int64 one
    (spec 6.3: apply64, rounding single only)."""
    if accumulator_bits == 32:
        return np.asarray(requantize(acc, m0, shift, zp_out, lo, hi,
                                     rounding))
    if accumulator_bits != 64:
        raise ValueError(f"accumulator_bits must be one of "
                         f"{ACCUMULATOR_BITS}")
    if rounding != "single":
        raise ValueError("an int64 accumulator is rescaled with single "
                         "rounding only (spec 6.3)")
    a = np.asarray(apply_multiplier_int64(acc, m0, shift))
    s = np.clip(a + int(zp_out), INT32_MIN, INT32_MAX)
    return np.clip(s, lo, hi)


def _check_accumulator(acc, bits, what):
    return _check_int32(acc, what) if bits == 32 else acc


def requantize(v, m0, shift, zp_out, lo, hi, rounding="single"):
    """clamp(saturating_add(apply_multiplier(v), zp_out), lo, hi)."""
    if lo > hi:
        raise ValueError("empty clamp range")
    zp = _check_int32(_as_int64(zp_out, "zero point"), "zero point")
    a = np.asarray(apply_multiplier(v, m0, shift, rounding))
    s = np.clip(a + zp, INT32_MIN, INT32_MAX)
    return _scalar_or_array(np.clip(s, lo, hi))


def requantize_tensor(x_q, zx, m0s, shifts, zo, lo, hi, axis=None,
                      rounding="single"):
    """The requantize op: requantize(x - zx, sx/so, zo, lo, hi). With axis the
    input is per-axis quantized: zx, m0s and shifts may have one entry per
    channel of that dimension."""
    x = _as_int64(x_q, "input")
    if axis is None:
        zx, m0, sh = (_channel_param(p, 1, 0, 1, n) for p, n in
                      ((zx, "zero point"), (m0s, "multiplier"),
                       (shifts, "shift")))
    else:
        axis = axis % x.ndim
        nch = x.shape[axis]
        zx, m0, sh = (_channel_param(p, nch, axis, x.ndim, n) for p, n in
                      ((zx, "zero point"), (m0s, "multiplier"),
                       (shifts, "shift")))
    return np.asarray(requantize(x - zx, m0, sh, zo, lo, hi, rounding))


# ---------------------------------------------------------------------------
# Convolution and matmul
# ---------------------------------------------------------------------------

def accumulator_bound(w_q, q_bias=None, zx=0, axis=0):
    """Per output channel (slices along axis): 255 * sum|w| + |q_b| +
    |zx| * |sum w|, as Python ints (the compile-time overflow rule)."""
    w = _as_int64(w_q, "weights")
    axis = axis % w.ndim
    wc = np.moveaxis(w, axis, 0).reshape(w.shape[axis], -1)
    b = np.zeros(w.shape[axis], np.int64) if q_bias is None else \
        _as_int64(q_bias, "bias").reshape(-1)
    if b.size != wc.shape[0]:
        raise ValueError("bias must have one entry per output channel")
    zx = int(zx)
    return [255 * int(np.abs(row).sum()) + abs(int(bc)) +
            abs(zx) * abs(int(row.sum())) for row, bc in zip(wc, b)]


def check_accumulator_bound(w_q, q_bias=None, zx=0, axis=0):
    """Raises ValueError when some channel's accumulator_bound > 2^31 - 1."""
    bounds = accumulator_bound(w_q, q_bias, zx, axis)
    for c, bound in enumerate(bounds):
        if bound > INT32_MAX:
            raise ValueError(f"output channel {c} may overflow int32 "
                             f"(bound {bound})")
    return bounds


def fold_bias(q_bias, zx, w_q, axis=0):
    """q_b[c] - zx * sum(w[c]): the bias with the input zero point folded in,
    so that acc = sum(x * w) + folded. ValueError if it does not fit int32."""
    w = _as_int64(w_q, "weights")
    axis = axis % w.ndim
    sums = np.moveaxis(w, axis, 0).reshape(w.shape[axis], -1).sum(axis=1)
    b = np.zeros_like(sums) if q_bias is None else \
        _as_int64(q_bias, "bias").reshape(-1)
    folded = b - int(zx) * sums
    return _check_int32(folded, "folded bias")


def conv2d_accumulate(x_q, zx, w_q, q_bias=None, stride=1, padding=0,
                      dilation=1, groups=1, accumulator_bits=32):
    """int32 accumulators (as int64; int64 ones with accumulator_bits=64,
    spec 6.3) of an NCHW convolution:
    acc[n, f, y, x] = sum (x - zx) * w + q_b[f], input padded with zx."""
    x = _as_int64(x_q, "input")
    w = _as_int64(w_q, "filter")
    if x.ndim != 4 or w.ndim != 4:
        raise ValueError("conv2d expects a 4-D input and a 4-D filter")
    n, c, h, wd = x.shape
    f, cg, kh, kw = w.shape
    groups = int(groups)
    if groups < 1 or c != cg * groups or f % groups:
        raise ValueError("channel counts do not match groups")
    stride, dilation = _pair(stride, "stride"), _pair(dilation, "dilation")
    pad = _padding4(padding)
    oh = _out_size(h, pad[0], pad[2], kh, stride[0], dilation[0], "conv2d")
    ow = _out_size(wd, pad[1], pad[3], kw, stride[1], dilation[1], "conv2d")
    xs = _pad_nchw(x, pad, int(zx)) - int(zx)
    acc = np.zeros((n, f, oh, ow), dtype=np.int64)
    fg = f // groups
    for g in range(groups):
        xg = xs[:, g * cg:(g + 1) * cg]
        wg = w[g * fg:(g + 1) * fg]
        for i, j, hs, ws in _window_slices((kh, kw), stride, dilation,
                                           (oh, ow)):
            acc[:, g * fg:(g + 1) * fg] += np.einsum(
                "nchw,fc->nfhw", xg[:, :, hs, ws], wg[:, :, i, j])
    if q_bias is not None:
        b = _check_int32(_as_int64(q_bias, "bias").reshape(-1), "bias")
        if b.size != f:
            raise ValueError("bias must have one entry per output channel")
        acc += b.reshape(1, f, 1, 1)
    return _check_accumulator(acc, accumulator_bits, "conv2d accumulator")


def conv2d_nchw(x_q, zx, w_q, q_bias, m0s, shifts, zo, lo, hi, stride=1,
                padding=0, dilation=1, groups=1, rounding="single",
                accumulator_bits=32):
    """Quantized NCHW conv2d: requantize(acc[f], M[f], zo, lo, hi); m0s and
    shifts per tensor (one entry) or per output channel."""
    acc = conv2d_accumulate(x_q, zx, w_q, q_bias, stride, padding, dilation,
                            groups, accumulator_bits)
    f = acc.shape[1]
    m0 = _channel_param(m0s, f, 1, 4, "multiplier")
    sh = _channel_param(shifts, f, 1, 4, "shift")
    return _requantize_accumulator(acc, m0, sh, zo, lo, hi, rounding,
                                   accumulator_bits)


def conv2d_nhwc(x_q, zx, w_q, q_bias, m0s, shifts, zo, lo, hi, stride=1,
                padding=0, dilation=1, groups=1, rounding="single"):
    """NHWC input and KH x KW x C/groups x F filter; same arithmetic."""
    x = np.transpose(_as_int64(x_q, "input"), (0, 3, 1, 2))
    w = np.transpose(_as_int64(w_q, "filter"), (3, 2, 0, 1))
    out = conv2d_nchw(x, zx, w, q_bias, m0s, shifts, zo, lo, hi, stride,
                      padding, dilation, groups, rounding)
    return np.transpose(out, (0, 2, 3, 1))


def matmul_accumulate(a_q, za, b_q, zb=0, q_bias=None, transpose_rhs=False,
                      accumulator_bits=32):
    """acc = (a - za) @ (b - zb) + q_b; a is [B x] M x K, b is [B x] K x N
    ([B x] N x K with transpose_rhs)."""
    a = _as_int64(a_q, "lhs") - int(za)
    b = _as_int64(b_q, "rhs") - int(zb)
    if transpose_rhs:
        b = np.swapaxes(b, -1, -2)
    if a.shape[-1] != b.shape[-2]:
        raise ValueError("contraction sizes differ")
    acc = np.matmul(a, b)
    if q_bias is not None:
        bias = _check_int32(_as_int64(q_bias, "bias").reshape(-1), "bias")
        if bias.size != acc.shape[-1]:
            raise ValueError("bias must have N entries")
        acc = acc + bias
    return _check_accumulator(acc, accumulator_bits, "matmul accumulator")


def matmul(a_q, za, b_q, zb, q_bias, m0s, shifts, zo, lo, hi,
           transpose_rhs=False, rounding="single", accumulator_bits=32):
    """Quantized matmul; m0s/shifts per tensor or one per N channel."""
    acc = matmul_accumulate(a_q, za, b_q, zb, q_bias, transpose_rhs,
                            accumulator_bits)
    nch = acc.shape[-1]
    m0 = _channel_param(m0s, nch, acc.ndim - 1, acc.ndim, "multiplier")
    sh = _channel_param(shifts, nch, acc.ndim - 1, acc.ndim, "shift")
    return _requantize_accumulator(acc, m0, sh, zo, lo, hi, rounding,
                                   accumulator_bits)


# ---------------------------------------------------------------------------
# Dynamic quantization (spec 8)
# ---------------------------------------------------------------------------

DYNAMIC_QMAX = 127
DYNAMIC_UQMAX = 255
DYNAMIC_RECIPROCAL_BITS = 23
DYNAMIC_MAX_BIAS = 1 << 62
DYNAMIC_ASYMMETRIC_SUM_MAX = 1 << 30


def dynamic_input_params(x_wide, asymmetric=False):
    """Spec 8.2: (A', R, k) of a wide tensor: A' = max(max|X|, 1), k = 23 +
    bitlength(A'), R = floor((127 * 2^k + floor(A'/2)) / A'). Asymmetric
    (8.2b): (D', R, k, lo) with lo = min(min X, 0), D' = max(max(max X, 0)
    - lo, 1), k = 22 + bitlength(D') and 255 for 127."""
    x = _as_int64(x_wide, "wide input")
    if x.size and (x.min() < -WIDE_QMAX or x.max() > WIDE_QMAX):
        raise ValueError("wide input outside [-(2^31 - 1), 2^31 - 1]")
    if asymmetric:
        lo = min(int(x.min()), 0) if x.size else 0
        hi = max(int(x.max()), 0) if x.size else 0
        d = max(hi - lo, 1)
        k = DYNAMIC_RECIPROCAL_BITS - 1 + d.bit_length()
        return d, (DYNAMIC_UQMAX * (1 << k) + d // 2) // d, k, lo
    a = max(int(np.abs(x).max()) if x.size else 0, 1)
    k = DYNAMIC_RECIPROCAL_BITS + a.bit_length()
    r = (DYNAMIC_QMAX * (1 << k) + a // 2) // a
    return a, r, k


def dynamic_quantize(x_wide):
    """Spec 8.2: (q, A') with q = clamp(apply_single(X, R, k), -127, 127)."""
    a, r, k = dynamic_input_params(x_wide)
    x = _as_int64(x_wide, "wide input")
    q = np.clip((x * r + (1 << (k - 1))) >> k, -DYNAMIC_QMAX, DYNAMIC_QMAX)
    return q, a


def dynamic_quantize_asymmetric(x_wide):
    """Spec 8.2b: (q, z, D') with z = clamp(apply_single(-lo, R, k), 0,
    255) and q = clamp(apply_single(X, R, k) + z, 0, 255)."""
    d, r, k, lo = dynamic_input_params(x_wide, asymmetric=True)
    x = _as_int64(x_wide, "wide input")
    half = 1 << (k - 1)
    z = min(max((-lo * r + half) >> k, 0), DYNAMIC_UQMAX)
    q = np.clip(((x * r + half) >> k) + z, 0, DYNAMIC_UQMAX)
    return q, z, d


def dynamic_is_asymmetric(w_q, transpose_rhs=False):
    """Spec 8.2b: a dynamic matmul's input is asymmetric when 255 *
    sum_k |w[c, k]| <= 2^30 for every output channel c."""
    w = _as_int64(w_q, "weights")
    sums = np.abs(w).sum(axis=1 if transpose_rhs else 0)
    return bool(np.all(DYNAMIC_UQMAX * sums <= DYNAMIC_ASYMMETRIC_SUM_MAX))


def dynamic_bias(b, s_in, s_w, float_type=np.float32, qmax=DYNAMIC_QMAX):
    """Spec 8.3: int64 B[c] = round_half_even((b[c] * 127) / (s_in *
    s_w[c])) in double (255 for an asymmetric input); ValueError when
    |B| > 2^62."""
    b64 = np.asarray(b, dtype=float_type).astype(np.float64)
    s_w = np.asarray(s_w, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        q = np.rint((b64 * float(qmax)) / (float(s_in) * s_w))
    if not np.all(np.isfinite(q)) or np.any(np.abs(q) > DYNAMIC_MAX_BIAS):
        raise ValueError("dynamic bias exceeds 2^62")
    return q.astype(np.int64)


def dynamic_multipliers(s_in, s_w, s_out, qmax=DYNAMIC_QMAX):
    """Spec 8.3: M[c] = (s_in * s_w[c]) / (127 * s_out) as (m0s, shifts)
    (255 for an asymmetric input)."""
    s_w = np.atleast_1d(np.asarray(s_w, dtype=np.float64))
    denom = float(qmax) * float(s_out)
    return quantize_multipliers([(float(s_in) * float(w)) / denom
                                 for w in s_w])


def dynamic_quantize_rows(x_wide, asymmetric=False):
    """Spec 8.2c: each row (along the last axis) of the wide input quantized
    with its own parameters (8.2, or 8.2b when asymmetric): (q - z, A')
    with A' (D') per row, shaped [..., 1] (z = 0 when symmetric)."""
    x = _as_int64(x_wide, "wide input")
    qs, scales = [], []
    for row in x.reshape(-1, x.shape[-1]):
        if asymmetric:
            q, z, a = dynamic_quantize_asymmetric(row)
            q = q - z
        else:
            q, a = dynamic_quantize(row)
        qs.append(q)
        scales.append(a)
    return (np.stack(qs).reshape(x.shape) if qs else x.copy(),
            np.asarray(scales, np.int64).reshape(x.shape[:-1] + (1,)))


def dynamic_matmul(x_wide, w_q, q_bias, m0s, shifts, zo, lo, hi,
                   transpose_rhs=False, asymmetric=False, per_row=False):
    """Spec 8.3: out = clamp(sat32(apply64(acc * A' + B, M)) + zo, lo, hi)
    with acc the int32 product of the runtime int8 input and the weights;
    asymmetric (8.2b), acc = (q - z) . w and D' for A'; per_row (8.2c),
    A' (D') and z of each row of the input."""
    w = _as_int64(w_q, "weights")
    if transpose_rhs:
        w = w.T
    w_abs = np.abs(w).sum(axis=0)
    if asymmetric:
        if np.any(DYNAMIC_UQMAX * w_abs > DYNAMIC_ASYMMETRIC_SUM_MAX):
            raise ValueError("asymmetric dynamic input: 255 * sum |w| "
                             "exceeds 2^30")
    elif np.any(DYNAMIC_QMAX * w_abs > INT32_MAX):
        raise ValueError("dynamic accumulator may overflow int32")
    if per_row:
        q, a = dynamic_quantize_rows(x_wide, asymmetric)
    elif asymmetric:
        q, z, a = dynamic_quantize_asymmetric(x_wide)
        q = q - z
    else:
        q, a = dynamic_quantize(x_wide)
    acc = q @ w  # int32 by the bounds above
    nch = acc.shape[-1]
    bias = np.zeros(nch, np.int64) if q_bias is None else \
        _as_int64(q_bias, "bias").reshape(-1)
    v = acc * a + bias  # |acc * A'| < 2^62, |B| <= 2^62: int64
    m0 = _channel_param(m0s, nch, acc.ndim - 1, acc.ndim, "multiplier")
    sh = _channel_param(shifts, nch, acc.ndim - 1, acc.ndim, "shift")
    return _requantize_accumulator(v, m0, sh, zo, lo, hi, "single", 64)


# ---------------------------------------------------------------------------
# Element-wise ops
# ---------------------------------------------------------------------------

def add_rescales(sa, sb, so, left_shift=ADD_LEFT_SHIFT):
    """((m0, shift) for Ma, Mb, Mo) of the TFLite add scheme. A per-channel
    value (spec 6.6) gives an array of scales, and its rescale is then a
    pair of arrays (one entry per channel) against twice the largest
    operand scale."""
    def one_or_many(ms):
        ms = np.asarray(ms, np.float64)
        if ms.ndim == 0:
            return quantize_multiplier(float(ms))
        return quantize_multipliers(ms)
    sa = np.asarray(sa, np.float64)
    sb = np.asarray(sb, np.float64)
    twice_max = 2.0 * max(float(sa.max()), float(sb.max()))
    mo = twice_max / (float(1 << left_shift) * np.asarray(so, np.float64))
    return one_or_many(sa / twice_max), one_or_many(sb / twice_max), \
        one_or_many(mo)


def add(a_q, za, b_q, zb, lhs_rescale, rhs_rescale, rescale, zo, lo, hi,
        left_shift=ADD_LEFT_SHIFT, rounding="single", subtract=False):
    """a2 = apply((a - za) * 2^ls, Ma); b2 = apply((b - zb) * 2^ls, Mb);
    out = requantize(a2 + b2, Mo, zo, lo, hi), or of a2 - b2 with subtract.
    Rescales are (m0, shift); a and b broadcast (numpy rules)."""
    if not 0 <= left_shift <= 30:
        raise ValueError("left_shift must be in [0, 30]")
    a = _check_int32((_as_int64(a_q, "lhs") - int(za)) * (1 << left_shift),
                     "shifted lhs")
    b = _check_int32((_as_int64(b_q, "rhs") - int(zb)) * (1 << left_shift),
                     "shifted rhs")
    a2 = np.asarray(apply_multiplier(a, *lhs_rescale, rounding=rounding))
    b2 = np.asarray(apply_multiplier(b, *rhs_rescale, rounding=rounding))
    s = _check_int32(a2 - b2 if subtract else a2 + b2, "add sum")
    return np.asarray(requantize(s, *rescale, zo, lo, hi, rounding))


def mul_rescale(sa, sb, so):
    return quantize_multiplier(float(sa) * float(sb) / float(so))


def mul(a_q, za, b_q, zb, m0, shift, zo, lo, hi, rounding="single"):
    """requantize((a - za) * (b - zb), sa * sb / so, zo, lo, hi); 8- or
    16-bit operands, the product in int32 (spec 3.3)."""
    acc = (_as_int64(a_q, "lhs") - int(za)) * (_as_int64(b_q, "rhs") - int(zb))
    acc = _check_int32(acc, "mul product")
    return np.asarray(requantize(acc, m0, shift, zo, lo, hi, rounding))


def clamp(x_q, lo, hi):
    if lo > hi:
        raise ValueError("empty clamp range")
    return np.clip(_as_int64(x_q, "input"), lo, hi)


def table_values(f, s_in, zp_in, s_out, zp_out, qmin=-128, qmax=127,
                 out_range=None, input_bits=8):
    """The lookup table of the float function f (a float64 callable on a
    float64 array) from (s_in, zp_in) to (s_out, zp_out), spec 3.8: for
    each input storage value q in [qmin, qmax] (input_bits=16: each grid
    point q = -32768 + 128 k, k = 0 .. 512, TABLE16_*), y = f((q - zp_in) *
    s_in) in double; NaN -> zp_out, else clamp(round_half_even(y / s_out)
    + zp_out, out_range) (+-inf saturate); out_range: the result's storage
    range, (qmin, qmax) unless given (a 16-bit or wide result)."""
    if input_bits == 16:
        q = TABLE16_ORIGIN + (np.arange(TABLE16_ENTRIES, dtype=np.int64)
                              << TABLE16_STEP_BITS)
    elif input_bits == 8:
        q = np.arange(qmin, qmax + 1, dtype=np.int64)
    else:
        raise ValueError(f"table input bits must be 8 or 16, not "
                         f"{input_bits!r}")
    x = (q - int(zp_in)).astype(np.float64) * float(s_in)
    with np.errstate(all="ignore"):
        y = np.asarray(f(x), np.float64)
        v = np.rint(y / float(s_out)) + int(zp_out)
    v = np.where(np.isnan(y), int(zp_out), v)
    return np.clip(v, *(out_range or (qmin, qmax))).astype(np.int64)


def table(x_q, values, qmin_in=-128):
    """out = values[x - qmin_in]."""
    values = _as_int64(values, "table")
    idx = _as_int64(x_q, "input") - int(qmin_in)
    if idx.size and (idx.min() < 0 or idx.max() >= values.size):
        raise ValueError("input outside the table")
    return values[idx]


def table16(x_q, values):
    """Spec 3.8, a 16-bit input: u = x + 32768, a = values[u >> 7], c =
    values[(u >> 7) + 1], out = a + (((c - a) * (u & 127) + 64) >> 7) in
    int64 (values: the TABLE16_ENTRIES entries of table_values(...,
    input_bits=16))."""
    values = _as_int64(values, "table")
    if values.size != TABLE16_ENTRIES:
        raise ValueError(f"a 16-bit input's table has {TABLE16_ENTRIES} "
                         f"entries, not {values.size}")
    u = _as_int64(x_q, "input") - TABLE16_ORIGIN
    if u.size and (u.min() < 0 or u.max() > 0xFFFF):
        raise ValueError("input outside int16")
    k = u >> TABLE16_STEP_BITS
    r = u & ((1 << TABLE16_STEP_BITS) - 1)
    a, c = values[k], values[k + 1]
    return a + (((c - a) * r + (1 << (TABLE16_STEP_BITS - 1)))
                >> TABLE16_STEP_BITS)


def softmax_exp_table(s_in, entries=256):
    """Spec 3.10: entry d = round_half_even(2^16 * exp(-s_in * d)) in
    double, d = 0 .. entries - 1."""
    d = np.arange(entries, dtype=np.float64)
    return np.rint(np.exp(-float(s_in) * d) *
                   float(1 << SOFTMAX_EXP_BITS)).astype(np.int64)


def softmax_output_qparams(qmin=-128, storage_bits=8):
    """The softmax result's fixed (scale, zero point): 2^-8 and the storage
    minimum, or with 16-bit storage (spec 6.4) 2^-15 and 0."""
    if storage_bits == 16:
        return 2.0 ** -SOFTMAX_OUTPUT_BITS_16, 0
    return 2.0 ** -SOFTMAX_OUTPUT_BITS, int(qmin)


def softmax(x_q, exp_table, qmin=-128, qmax=127, storage_bits=8):
    """Spec 3.10 over the last axis: m = max of the row, e = T[m - x],
    R = floor(2^40 / sum(e)), out = clamp(((e * R + 2^31) >> 32) + qmin,
    qmin, qmax), all in exact integers; storage_bits=16: the 16-bit result
    of spec 6.4, clamp((e * R + 2^24) >> 25, qmin, qmax)."""
    x = _as_int64(x_q, "input")
    table = _as_int64(exp_table, "exp_table")
    if table[0] != 1 << SOFTMAX_EXP_BITS:
        raise ValueError("exp_table[0] must be 2^16")
    d = x.max(axis=-1, keepdims=True) - x
    if d.size and d.max() >= table.size:
        raise ValueError("input outside the table")
    return _softmax_normalize(table[d], qmin, qmax, storage_bits)


def _softmax_normalize(e, qmin, qmax, storage_bits):
    """Spec 3.10's reciprocal and output from the Q16 exponentials e, into
    the fixed parameters of softmax_output_qparams."""
    if storage_bits not in (8, 16):
        raise ValueError(f"softmax storage bits must be 8 or 16, not "
                         f"{storage_bits!r}")
    zo = softmax_output_qparams(qmin, storage_bits)[1]
    r = (1 << SOFTMAX_RECIPROCAL_BITS) // e.sum(axis=-1, keepdims=True)
    shift = SOFTMAX_RECIPROCAL_BITS - (
        SOFTMAX_OUTPUT_BITS_16 if storage_bits == 16 else SOFTMAX_OUTPUT_BITS)
    y = ((e * r + (1 << (shift - 1))) >> shift) + zo
    return np.clip(y, qmin, qmax)


def softmax_exp_rescale(s_in):
    """Spec 6.4: (m0, shift) = quantize_multiplier(s_in * log2(e)) in double,
    the 16-bit softmax input's multiplier."""
    return quantize_multiplier(float(s_in) * SOFTMAX_LOG2E)


def softmax_exp16(d, m0, shift):
    """Spec 6.4's Q16 exponential of the distances d >= 0 (int64): t = d m0,
    q = t >> shift, u = the fraction t - (q << shift) in Q30 (floor),
    p = the Horner polynomial SOFTMAX_EXP_POLYNOMIAL at u (floor after each
    product), e = (p + 2^(s-1)) >> s with s = 14 + min(q, 48)."""
    d = _as_int64(d, "distance")
    if d.size and (d.min() < 0 or d.max() > 65535):
        raise ValueError("distances outside [0, 65535]")
    if not 0 < int(m0) < 2 ** 31 or not 0 <= int(shift) <= 62:
        raise ValueError(f"exp rescale ({m0}, {shift}) outside the spec")
    f = SOFTMAX_EXP_FRACTION_BITS
    t = d * int(m0)
    q = t >> int(shift)
    frac = t - (q << int(shift))
    u = frac >> (shift - f) if shift >= f else frac << (f - shift)
    p = np.full_like(u, SOFTMAX_EXP_POLYNOMIAL[-1])
    for c in reversed(SOFTMAX_EXP_POLYNOMIAL[:-1]):
        p = ((p * u) >> f) + c
    s = f - SOFTMAX_EXP_BITS + np.minimum(q, SOFTMAX_EXP_MAX_SHIFT)
    return (p + (np.int64(1) << (s - 1))) >> s


def softmax16(x_q, m0, shift, qmin=-128, qmax=127, storage_bits=8):
    """Spec 6.4: spec 3.10 over the last axis of a 16-bit input, with
    e = softmax_exp16(m - x, m0, shift) in place of the table (and a 16-bit
    result with storage_bits=16, as softmax)."""
    x = _as_int64(x_q, "input")
    d = x.max(axis=-1, keepdims=True) - x
    return _softmax_normalize(softmax_exp16(d, m0, shift), qmin, qmax,
                              storage_bits)


def layer_norm_squares_shift(input_bits):
    """The exponent a of 2^a * sum(d^2) in spec 3.11's D: 8 for an 8-bit
    input, -8 for a 16-bit one (spec 6.4)."""
    if input_bits not in (8, 16):
        raise ValueError(f"layer norm input bits must be 8 or 16, not "
                         f"{input_bits!r}")
    return LAYER_NORM_EPS_BITS if input_bits == 8 else -LAYER_NORM_EPS_BITS


def layer_norm_max_channels(input_bits):
    """The longest row of spec 3.11 (8-bit input) or 6.4 (16-bit)."""
    layer_norm_squares_shift(input_bits)  # checks input_bits
    return LAYER_NORM_MAX_CHANNELS // (2 if input_bits == 16 else 1)


def layer_norm_params(gamma, beta, eps, s_in, s_out, channels, input_bits=8):
    """Spec 3.11's precomputed integers: (G, B, E) with G[c] =
    round_half_even(gamma[c] * sqrt(C) / s_out * 2^8), B[c] =
    round_half_even(beta[c] / s_out * 2^24) and E =
    round_half_even(2^a * C^3 * eps / s_in^2) (a = 8, or -8 for a 16-bit
    input, spec 6.4), all in double (gamma, beta and eps rounded to float32
    first, as the model holds them)."""
    c = int(channels)
    g = np.asarray(gamma, np.float32).astype(np.float64)
    b = np.asarray(beta, np.float32).astype(np.float64)
    eps = float(np.float32(eps))
    shift = LAYER_NORM_OUTPUT_SHIFT - LAYER_NORM_UNIT_BITS
    G = np.rint(g * math.sqrt(c) / float(s_out) * 2.0 ** shift)
    B = np.rint(b / float(s_out) * 2.0 ** LAYER_NORM_OUTPUT_SHIFT)
    E = float(np.rint(2.0 ** layer_norm_squares_shift(input_bits) *
                      float(c) ** 3 * eps / float(s_in) ** 2))
    if c > layer_norm_max_channels(input_bits) or E > LAYER_NORM_MAX_EPS:
        raise ValueError(f"layer norm over {c} channels with E = {E}")
    return G.astype(np.int64), B.astype(np.int64), int(E)


def isqrt_newton(n):
    """floor(sqrt(n)) for integers n in [2^59, 2^61) as the lowering
    computes it: six Newton steps x = (x + n // x) >> 1 from 2^31, then x
    minus 1 where x * x > n. Equal to math.isqrt there (checked by the
    tests); given so that the reference can be compared step by step."""
    n = _as_int64(n, "n")
    x = np.full(n.shape, 1 << 31, np.int64)
    for _ in range(6):
        x = (x + n // x) >> 1
    return x - (x * x > n)


def layer_norm(x_q, G, B, E, zo, qmin=-128, qmax=127, input_bits=8,
               input_shifts=None, zi=0):
    """Spec 3.11 over the last axis, in exact integers: d = C x - sum(x),
    D = max(1, (sum(d^2) << 8) + E), k = (61 - bitlen(D)) // 2, sigma =
    isqrt(D << 2k), rho = 2^61 // sigma, u = (d rho + 2^(40-k)) >> (41 - k),
    out = clamp(((u G + B + 2^23) >> 24) + zo, qmin, qmax). A 16-bit input
    (spec 6.4): D = max(1, (sum(d^2) >> 8) + E), u = (d rho + 2^(48-k)) >>
    (49 - k). A per-channel input (spec 6.6, `input_shifts` a[c] in 0..7,
    zero point `zi`): x = (x - zi) << a[c] first, then the 16-bit form."""
    x = _as_int64(x_q, "input")
    c = x.shape[-1]
    if input_shifts is not None:
        shifts = _as_int64(input_shifts, "input_shifts")
        if shifts.shape != (c,) or shifts.min() < 0 or \
                shifts.max() > LAYER_NORM_MAX_INPUT_SHIFT:
            raise ValueError(f"input_shifts {shifts.tolist()} for rows of "
                             f"{c}: one in 0..{LAYER_NORM_MAX_INPUT_SHIFT} "
                             f"per channel")
        x = (x - int(zi)) << shifts
        input_bits = 16
    a = layer_norm_squares_shift(input_bits)
    if c > layer_norm_max_channels(input_bits) or \
            not 0 <= E <= LAYER_NORM_MAX_EPS:
        raise ValueError(f"layer norm over {c} channels with E = {E}")
    d = c * x - x.sum(axis=-1, keepdims=True)
    # Exact: sum(d^2) < C^3 * 2^30 <= 2^63 for a 16-bit input.
    squares = (d * d).sum(axis=-1, keepdims=True)
    D = np.maximum((squares << a if a >= 0 else squares >> -a) + int(E), 1)
    bits = np.vectorize(lambda v: int(v).bit_length())(D).astype(np.int64)
    k = (61 - bits) >> 1
    sigma = np.vectorize(math.isqrt)(D << (2 * k)).astype(np.int64)
    rho = (1 << 61) // sigma
    sh = 45 - a // 2 - k
    u = (d * rho + (1 << (sh - 1))) >> sh
    acc = u * _as_int64(G, "G") + _as_int64(B, "B")
    out = ((acc + (1 << (LAYER_NORM_OUTPUT_SHIFT - 1))) >>
           LAYER_NORM_OUTPUT_SHIFT) + int(zo)
    return np.clip(out, qmin, qmax)


def concat(inputs, axis):
    """Operands already share the result's quantization: a pure copy."""
    return np.concatenate([_as_int64(t, "input") for t in inputs], axis=axis)


def constant_operand(c, s=None, zp=None, qmin=-128, qmax=127,
                     float_type=np.float32):
    """A float constant operand quantized at compile time (spec 3.5, 3.2):
    with (s, zp), those of the concat's result; without, (s, zp) chosen
    from its own range [min(c), max(c)] as an activation's (1.1), for an
    add. Returns (q, s, zp)."""
    c = np.asarray(c, dtype=float_type)
    if not np.all(np.isfinite(c)):
        raise ValueError("a constant operand must be finite")
    if s is None:
        s, zp = choose_activation_qparams(float(c.min()), float(c.max()),
                                          qmin, qmax)
    return quantize(c, s, zp, qmin, qmax, float_type=float_type), s, zp


# ---------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------

def avg_pool_rescale(sx, so, kernel):
    """(m0, shift) for M = sx / (so * kh * kw)."""
    kh, kw = _pair(kernel, "kernel")
    return quantize_multiplier(float(sx) / (float(so) * kh * kw))


def avg_pool_divisor_rescales(sx, so, divisors):
    """(m0s, shifts) shaped like divisors ([oh, ow]): M[p] = sx / (so *
    divisors[p]), for avg_pool2d's m0 and shift (they broadcast over the
    output's height and width)."""
    d = _as_int64(divisors, "divisors")
    if d.size and d.min() <= 0:
        raise ValueError("divisors must be positive")
    m0s, shifts = quantize_multipliers(
        [float(sx) / (float(so) * float(v)) for v in d.ravel()])
    return m0s.reshape(d.shape), shifts.reshape(d.shape)


def scale_rescale(sx, so, factor):
    """(m0, shift) of a requantize by a constant: M = (sx / so) * factor."""
    return quantize_multiplier((float(sx) / float(so)) * float(factor))


def factor_rescales(sx, so, factors):
    """(m0s, shifts, signs) of a requantize by per-channel factors (spec
    3.4): M[i] = |(sx / so) * f[i]| ((0, 0) for a zero factor), sign -1
    where f[i] < 0."""
    ratio = float(sx) / float(so)
    pairs = [(0, 0) if f == 0.0 else quantize_multiplier(abs(ratio * f))
             for f in (float(v) for v in np.ravel(factors))]
    signs = [-1 if float(f) < 0.0 else 1 for f in np.ravel(factors)]
    return (np.array([p[0] for p in pairs], np.int64),
            np.array([p[1] for p in pairs], np.int64),
            np.array(signs, np.int64))


def requantize_factors(x_q, zx, m0s, shifts, signs, zo, lo, hi, axis=None,
                       rounding="single"):
    """The requantize op with per-channel factors: requantize(sign[i] * (x -
    zx), M[i], zo, lo, hi), i the index along axis (one entry each, from
    factor_rescales, without axis). The sign negates the operand before the
    rounding, not the rounded result."""
    x = _as_int64(x_q, "input")
    ndim, axis = x.ndim, (None if axis is None else axis % x.ndim)
    nch = 1 if axis is None else x.shape[axis]
    m0, sh, sign = (_channel_param(p, nch, axis or 0, ndim, n) for p, n in
                    ((m0s, "multiplier"), (shifts, "shift"),
                     (signs, "sign")))
    return np.asarray(requantize(sign * (x - int(zx)), m0, sh, zo, lo, hi,
                                 rounding))


def _window_sums(x, zx, kernel, stride, pad, accumulator_bits=32):
    """Sums of (x - zx) per window of an NCHW tensor, padded cells 0."""
    n, c, h, w = x.shape
    kh, kw = kernel
    oh = _out_size(h, pad[0], pad[2], kh, stride[0], 1, "avg_pool2d")
    ow = _out_size(w, pad[1], pad[3], kw, stride[1], 1, "avg_pool2d")
    xs = _pad_nchw(x, pad, int(zx)) - int(zx)
    sums = np.zeros((n, c, oh, ow), dtype=np.int64)
    for _, _, hs, ws in _window_slices(kernel, stride, (1, 1), (oh, ow)):
        sums += xs[:, :, hs, ws]
    return _check_accumulator(sums, accumulator_bits, "avg_pool2d sum"), \
        (oh, ow)


def avg_pool2d(x_q, zx, kernel, stride, padding, m0, shift, zo, lo, hi,
               rounding="single", count_include_pad=True, layout="nchw",
               accumulator_bits=32):
    """requantize(sum over the window of (x - zx), sx / (so*kh*kw), zo, lo, hi).

    Padded cells contribute 0 and count (count = kh*kw). Without
    count_include_pad only unpadded pooling is defined (same result).
    Per-position rescales (avg_pool_divisor_rescales) give m0 and shift of
    shape [oh, ow] (NCHW: they index the output's height and width)."""
    _check_layout(layout)
    kernel, stride = _pair(kernel, "kernel"), _pair(stride, "stride")
    pad = _padding4(padding)
    if not count_include_pad and any(pad):
        raise ValueError("avg_pool2d without count_include_pad is only "
                         "defined for zero padding")
    x = _to_nchw(_as_int64(x_q, "input"), layout)
    sums, _ = _window_sums(x, zx, kernel, stride, pad, accumulator_bits)
    out = _requantize_accumulator(sums, m0, shift, zo, lo, hi, rounding,
                                  accumulator_bits)
    return _from_nchw(out, layout)


def avg_pool2d_divide_then_rescale(x_q, zx, kernel, stride, padding, m0,
                                   shift, zo, lo, hi, rounding="single",
                                   count_include_pad=True, layout="nchw"):
    """NOT the normative scheme (see docs/NumericSpec.md, avg_pool2d): the
    variant described by the op's TableGen text. avg = sum / count rounded
    half away from zero (count = kh*kw, or the window's unpadded cells without
    count_include_pad), then requantize(avg, sx / so, zo, lo, hi)."""
    _check_layout(layout)
    kernel, stride = _pair(kernel, "kernel"), _pair(stride, "stride")
    pad = _padding4(padding)
    x = _to_nchw(_as_int64(x_q, "input"), layout)
    sums, (oh, ow) = _window_sums(x, zx, kernel, stride, pad)
    if count_include_pad:
        count = np.full((oh, ow), kernel[0] * kernel[1], dtype=np.int64)
    else:
        ones = np.ones((1, 1) + x.shape[2:], dtype=np.int64)
        count = _window_sums(ones, 0, kernel, stride, pad)[0][0, 0]
    if count.min() < 1:
        raise ValueError("window without unpadded cells")
    q = np.abs(sums) // count
    rem = np.abs(sums) - q * count
    q = q + (2 * rem >= count)
    avg = np.where(sums < 0, -q, q)
    out = np.asarray(requantize(avg, m0, shift, zo, lo, hi, rounding))
    return _from_nchw(out, layout)


def max_pool2d(x_q, kernel, stride, padding, dilation=1, qmin=-128,
               layout="nchw"):
    """Window maximum; padded cells hold qmin (the storage minimum)."""
    _check_layout(layout)
    kernel, stride = _pair(kernel, "kernel"), _pair(stride, "stride")
    dilation = _pair(dilation, "dilation")
    pad = _padding4(padding)
    x = _to_nchw(_as_int64(x_q, "input"), layout)
    n, c, h, w = x.shape
    oh = _out_size(h, pad[0], pad[2], kernel[0], stride[0], dilation[0],
                   "max_pool2d")
    ow = _out_size(w, pad[1], pad[3], kernel[1], stride[1], dilation[1],
                   "max_pool2d")
    xp = _pad_nchw(x, pad, int(qmin))
    out = np.full((n, c, oh, ow), np.iinfo(np.int64).min, dtype=np.int64)
    for _, _, hs, ws in _window_slices(kernel, stride, dilation, (oh, ow)):
        out = np.maximum(out, xp[:, :, hs, ws])
    return _from_nchw(out, layout)


# ---------------------------------------------------------------------------
# Float boundary
# ---------------------------------------------------------------------------

def _float_channel_param(p, shape, axis):
    p = np.asarray(p, dtype=np.float64)
    if p.size == 1 or axis is None:
        if p.size != 1:
            raise ValueError("per-tensor parameter must have one entry")
        return p.reshape(())
    axis = axis % len(shape)
    if p.size != shape[axis]:
        raise ValueError("per-axis parameter size mismatch")
    bshape = [1] * len(shape)
    bshape[axis] = shape[axis]
    return p.reshape(bshape)


def quantize(x, s, zp, qmin=-128, qmax=127, axis=None,
             float_type=np.float32):
    """q = clamp(round_half_even(x / s) + zp, qmin, qmax), in double."""
    x64 = np.asarray(x, dtype=float_type).astype(np.float64)
    if np.any(np.isnan(x64)):
        raise ValueError("cannot quantize NaN")
    s = _float_channel_param(s, x64.shape, axis)
    zp = _float_channel_param(zp, x64.shape, axis)
    if not np.all(s > 0):
        raise ValueError("scale must be positive")
    with np.errstate(over="ignore"):
        q = np.rint(x64 / s) + zp
    return np.clip(q, qmin, qmax).astype(np.int64)


def dequantize(q, s, zp, axis=None, float_type=np.float32):
    """(q - zp) * s computed in double, then rounded to float_type."""
    q = _as_int64(q, "input")
    s = _float_channel_param(s, q.shape, axis)
    zp = _float_channel_param(zp, q.shape, axis)
    return ((q - zp).astype(np.float64) * s).astype(float_type)
