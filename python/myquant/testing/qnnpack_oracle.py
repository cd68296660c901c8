"""PyTorch `qnnpack` as an oracle for myquant's integer arithmetic.

Two halves:

* MLIR builders that emit one myquant op at the myquant level with exactly
  the quantization parameters PyTorch used (uint8 activations
  `!quant.uniform<u8:f32, s:zp>`, full-range int8 per-tensor weights
  `!quant.uniform<i8:f32, s_w>`, raw int32 bias), with no `rescale`
  attribute: the lowering derives it from the types (`single` rounding).
* A numpy emulation of how torch 1.13's qnnpack computes (used to explain
  and count the differences; it is not what the test asserts on):

  - conv / linear: int32 bias `quantize_per_tensor(b, s_w * s_in, 0,
    qint32)` (PyTorch's own quantizer), requantization scale computed in
    float32, `out = clamp(rne(f32(f32(acc) * scale)) + zp, lo, hi)`;
  - add: qnnpack's integer add with ~22-bit multipliers derived from the
    float32 ratios `s_a / s_o`, `s_b / s_o`, rounding half away from zero.

:func:`compare` summarizes how two uint8 results differ. The tests run the
modules (python/tests/test_qnnpack_agreement.py).
"""

import numpy as np

from ..emit import dense_hex, f64_literal, tensor_type
from . import reference as R

f32 = np.float32


# ---------------------------------------------------------------------------
# MLIR emission
# ---------------------------------------------------------------------------

def qtype(scale, zp=0, storage="u8"):
    """A per-tensor !quant.uniform type whose scale parses back to exactly
    the double `scale`."""
    zp = int(zp)
    zps = f":{zp}" if zp != 0 else ""
    return f"!quant.uniform<{storage}:f32, {f64_literal(scale)}{zps}>"


def qtensor(shape, scale, zp=0, storage="u8"):
    return tensor_type(shape, qtype(scale, zp, storage))


def _i64_array(vals):
    return "array<i64: " + ", ".join(str(int(v)) for v in vals) + ">"


def _weight_const(name, w_int8, s_w):
    """Lines that define %{name} as a full-range i8 per-tensor weight."""
    w = np.ascontiguousarray(w_int8, np.int8)
    it = tensor_type(w.shape, "i8")
    qt = qtensor(w.shape, s_w, 0, "i8")
    return ([f"    %{name}c = arith.constant {dense_hex(w, np.int8)} : {it}",
             f"    %{name} = quant.scast %{name}c : {it} to {qt}"], qt)


def _bias_const(name, b_int32):
    b = np.ascontiguousarray(b_int32, np.int32)
    bt = tensor_type(b.shape, "i32")
    return ([f"    %{name} = arith.constant {dense_hex(b, np.int32)} : "
             f"{bt}"], bt)


def _clamp_attr(clamp):
    if clamp is None:
        return ""
    return f", clamp = #myquant.clamp<{int(clamp[0])}, {int(clamp[1])}>"


def conv2d_module(x_shape, sx, zx, w_int8, s_w, b_int32, out_shape, so, zo,
                  stride, padding, groups, clamp=None, name="f"):
    """NCHW myquant.conv2d; x and result are u8, w full-range i8."""
    xt = qtensor(x_shape, sx, zx)
    yt = qtensor(out_shape, so, zo)
    wl, wt = _weight_const("w", w_int8, s_w)
    bl, bt = _bias_const("b", b_int32)
    p = int(padding)
    s = int(stride)
    attrs = (f"strides = {_i64_array([s, s])}, "
             f"padding = {_i64_array([p, p, p, p])}, "
             f"dilations = {_i64_array([1, 1])}, "
             f"groups = {int(groups)} : i64, "
             f"layout = #myquant.layout<nchw>{_clamp_attr(clamp)}")
    body = wl + bl + [
        f"    %y = myquant.conv2d %x, %w, %b {{{attrs}}} : "
        f"({xt}, {wt}, {bt}) -> {yt}",
        f"    return %y : {yt}"]
    return _module(name, [f"%x: {xt}"], yt, body)


def linear_module(x_shape, sx, zx, w_int8, s_w, b_int32, so, zo, clamp=None,
                  name="f"):
    """myquant.matmul {transpose_rhs} with the [out, in] weight of Linear."""
    n_out = w_int8.shape[0]
    out_shape = tuple(x_shape[:-1]) + (n_out,)
    xt = qtensor(x_shape, sx, zx)
    yt = qtensor(out_shape, so, zo)
    wl, wt = _weight_const("w", w_int8, s_w)
    bl, bt = _bias_const("b", b_int32)
    attrs = "transpose_rhs" + _clamp_attr(clamp)
    body = wl + bl + [
        f"    %y = myquant.matmul %x, %w, %b {{{attrs}}} : "
        f"({xt}, {wt}, {bt}) -> {yt}",
        f"    return %y : {yt}"]
    return _module(name, [f"%x: {xt}"], yt, body)


def rescale_attr(m0, shift, rounding):
    return (f"#myquant.rescale<multiplier = [{int(m0)}], shift = "
            f"[{int(shift)}], rounding = {rounding}>")


def add_module(shape, sa, za, sb, zb, so, zo, clamp=None, rounding=None,
               name="f"):
    """myquant.add; without `rounding` the lowering derives the rescales
    (`single`); with it, the three rescales of docs/NumericSpec.md 3.2 are
    given explicitly with that rounding."""
    at, bt, yt = qtensor(shape, sa, za), qtensor(shape, sb, zb), \
        qtensor(shape, so, zo)
    items = []
    if rounding is not None:
        ra, rb, ro = R.add_rescales(sa, sb, so)
        items += [f"left_shift = {R.ADD_LEFT_SHIFT} : i64",
                  f"lhs_rescale = {rescale_attr(*ra, rounding)}",
                  f"rhs_rescale = {rescale_attr(*rb, rounding)}",
                  f"rescale = {rescale_attr(*ro, rounding)}"]
    if clamp is not None:
        items.append(_clamp_attr(clamp)[2:])
    attrs = f" {{{', '.join(items)}}}" if items else ""
    body = [f"    %y = myquant.add %a, %b{attrs} : ({at}, {bt}) -> {yt}",
            f"    return %y : {yt}"]
    return _module(name, [f"%a: {at}", f"%b: {bt}"], yt, body)


def avg_pool2d_module(x_shape, sx, zx, out_shape, so, zo, kernel, stride,
                      padding=0, rounding=None, name="f"):
    """NCHW myquant.avg_pool2d (count_include_pad); without `rounding` the
    lowering derives the rescale (`single`)."""
    xt, yt = qtensor(x_shape, sx, zx), qtensor(out_shape, so, zo)
    p = int(padding)
    attrs = (f"kernel = {_i64_array([kernel, kernel])}, strides = "
             f"{_i64_array([stride, stride])}, padding = "
             f"{_i64_array([p, p, p, p])}, layout = #myquant.layout<nchw>, "
             f"count_include_pad")
    if rounding is not None:
        m0, sh = R.quantize_multiplier(
            float(sx) / ((float(so) * kernel) * kernel))
        attrs += f", rescale = {rescale_attr(m0, sh, rounding)}"
    body = [f"    %y = myquant.avg_pool2d %x {{{attrs}}} : {xt} -> {yt}",
            f"    return %y : {yt}"]
    return _module(name, [f"%x: {xt}"], yt, body)


def mul_module(a_shape, sa, za, b_shape, sb, zb, out_shape, so, zo,
               name="f"):
    """myquant.mul of operands that broadcast (a size-1 dimension of either
    spans the result's); the lowering derives the rescale (`single`)."""
    at, bt = qtensor(a_shape, sa, za), qtensor(b_shape, sb, zb)
    yt = qtensor(out_shape, so, zo)
    body = [f"    %y = myquant.mul %a, %b : ({at}, {bt}) -> {yt}",
            f"    return %y : {yt}"]
    return _module(name, [f"%a: {at}", f"%b: {bt}"], yt, body)


def max_pool2d_module(x_shape, s, zp, out_shape, kernel, stride, padding,
                      name="f"):
    """NCHW myquant.max_pool2d; padding is [top, left, bottom, right] (a
    ceil-mode pool pads the bottom and right further)."""
    xt, yt = qtensor(x_shape, s, zp), qtensor(out_shape, s, zp)
    attrs = (f"kernel = {_i64_array([kernel, kernel])}, strides = "
             f"{_i64_array([stride, stride])}, padding = "
             f"{_i64_array(padding)}, dilations = {_i64_array([1, 1])}, "
             f"layout = #myquant.layout<nchw>")
    body = [f"    %y = myquant.max_pool2d %x {{{attrs}}} : {xt} -> {yt}",
            f"    return %y : {yt}"]
    return _module(name, [f"%x: {xt}"], yt, body)


def clamp_module(shape, s, zp, lo, hi, name="f"):
    t = qtensor(shape, s, zp)
    body = [f"    %y = myquant.clamp %x <{int(lo)}, {int(hi)}> : {t}",
            f"    return %y : {t}"]
    return _module(name, [f"%x: {t}"], t, body)


def _module(name, args, result_type, body):
    return ("module {\n"
            f"  func.func @{name}({', '.join(args)}) -> {result_type} {{\n"
            + "\n".join(body) + "\n  }\n}\n")


# ---------------------------------------------------------------------------
# Comparing
# ---------------------------------------------------------------------------

def compare(ours_u8, theirs_u8):
    """(fraction equal, max |diff|, number of outputs, histogram of diffs)."""
    a = np.asarray(ours_u8).astype(np.int64)
    b = np.asarray(theirs_u8).astype(np.int64)
    if a.shape != b.shape:
        raise AssertionError(f"shape {a.shape} != {b.shape}")
    d = a - b
    vals, counts = np.unique(d, return_counts=True)
    return (float(np.mean(d == 0)), int(np.abs(d).max()) if d.size else 0,
            int(d.size), dict(zip(vals.tolist(), counts.tolist())))


# ---------------------------------------------------------------------------
# numpy emulation of torch 1.13 qnnpack (explanations only)
# ---------------------------------------------------------------------------

def qnnpack_requant_scale(s_in, s_w, s_out):
    """float32 `(s_w * s_in) * (1.f / s_out)` (generate_requantization_scales
    in aten/src/ATen/native/quantized/cpu/qnnpack_utils.h)."""
    return f32(f32(f32(s_w) * f32(s_in)) * f32(f32(1.0) / f32(s_out)))


def qnnpack_fp32_requantize(acc, scale_f32, zo, lo, hi):
    """rne(f32(f32(acc) * scale)) + zo, clamped (the fp32 requantization of
    pytorch_qnnp's q8gemm / q8conv / q8dwconv kernels)."""
    v = acc.astype(np.float32) * f32(scale_f32)
    r = np.rint(v).astype(np.int64)
    return np.clip(r + int(zo), lo, hi)


def single_requantize(acc, s_in, s_w, s_out, zo, lo, hi):
    """myquant `single` on the same accumulators (docs/NumericSpec.md 3.1)."""
    m0, sh = R.quantize_multiplier((float(s_in) * float(s_w)) / float(s_out))
    return np.asarray(R.requantize(acc, m0, sh, int(zo), lo, hi, "single"))


def qnnpack_add(a, za, sa, b, zb, sb, so, zo, lo=0, hi=255):
    """pytorch_qnnp_compute_add_quantization_params + q8vadd kernel."""
    a_os = f32(f32(sa) / f32(so))
    b_os = f32(f32(sb) / f32(so))
    mx = max(a_os, b_os)
    exp = int((np.array(mx, np.float32).view(np.uint32) >> 23)) - 127
    shift = 21 - exp
    mult = np.ldexp(f32(1.0), shift).astype(np.float32)
    am = int(np.rint(f32(a_os * mult)))
    bm = int(np.rint(f32(b_os * mult)))
    zpp = -(am * int(za) + bm * int(zb))
    acc = zpp + a.astype(np.int64) * am + b.astype(np.int64) * bm
    mask = (1 << shift) - 1
    rem = (acc & mask) - (acc < 0)
    thr = mask >> 1
    r = (acc >> shift) + (rem > thr)
    return np.clip(r + int(zo), lo, hi)
