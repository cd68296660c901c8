"""Independent integer reference of a whole model (python/myquant/emit.py
graphs), written from docs/NumericSpec.md and the quantization policy of
myquant-propagate-qparams + myquant-quantize; the op arithmetic comes from
python/myquant/testing/reference.py and the fusion and per-value parameters
from python/myquant/qparams.py (:func:`myquant.qparams.plan`). It does not
call the compiler.

Policy
------
* Every activation value gets per-tensor int8 parameters from its calibrated
  (min, max) (``choose_activation_qparams``, range widened to include 0).
  The model input is quantized with them.
* A Relu / Relu6 whose input is produced by a conv, linear or add and used
  only by that relu is fused into the producer: the producer's output takes
  the relu output's parameters and clamps to ``activation_clamp``; the
  producer's own (pre-activation) statistics are unused. Any other relu is a
  standalone clamp on its input's parameters when the relu output has the
  same parameters, else one requantization into the output's parameters
  clamped to ``activation_clamp`` of the output (the clamp bounds of a
  fused activation).
* Weights: symmetric, narrow range, per output channel (or per tensor);
  bias int32 at scale ``s_in * s_w[c]``; ``M[c] = (s_in * s_w[c]) / s_out``.
  With ``weight_bits=4`` (or a layer's ``layer_precision`` entry "w4a8",
  :func:`myquant.qparams.weight_precision`): 4-bit in [-7, 7] (spec 7.1);
  with ``group_size``, linear / matmul weights whose K it divides are
  quantized per group (spec 7.2) and computed as the effective integers
  ``q * m`` with the unit scales ``u[c]`` in place of ``s_w[c]``.
* Max pool and flatten keep their input's parameters (their own statistics
  are ignored). Average pooling uses its own statistics and
  ``M = s_in / ((s_out * kh) * kw)`` (count_include_pad).
* Add: TFLite scheme with the add's own statistics (or the fused relu's).
  Sub likewise, the rescaled rhs subtracted. Mul likewise, with ``M = (sa *
  sb) / so`` (its int32 product takes 16-bit operands unchanged, spec
  3.3). Operands of all three broadcast (numpy rules).
* Scale (``x * c``, ``x / c``): a requantization into its own statistics'
  parameters with ``M = (s_in / s_out) * f``, ``f = c`` or ``1 / c``.
* ConstMul (``x * c``, ``x / c`` by a constant tensor varying along one
  dimension at most): a requantization into its own statistics' parameters
  with per-channel factors ``f[i] = c[i]`` or ``1 / c[i]`` (spec 3.4: ``M[i]
  = |(s_in / s_out) * f[i]|``, the operand negated where ``f[i] < 0``).
* Pools pad ``[top, left, top + extra, left + extra]`` (ceil mode); average
  pooling whose windows count different cells uses ``M[p] = s_in / (s_out
  * d[p])`` with PyTorch's divisor ``d`` of each output position.
* Adaptive pools whose windows differ in size gather the windows (emit's
  ``_Adaptive.gather``), then pool with kernel = stride = the largest
  window: average pooling with the windows' sizes as divisors. A MatMul (plain ``[in, out]``
  rhs) is quantized like a Linear with its weights' channels on axis 1.
* Unflatten, reshape, transpose and slice, like flatten, keep their
  input's parameters.
* An Activation (sigmoid, hardswish, ...) is a lookup table (spec 3.8)
  from its input's parameters into those of its own statistics, built from
  the layer's float64 function; a 16-bit input's table has 513 entries and
  interpolates (``reference.table16``).
* LayerNorm (over the last dimension): spec 3.11 from its input's into its
  own statistics' parameters, gamma, beta and eps precomputed by
  ``layer_norm_params``.
* BatchMatMul (two activations, per tensor with their zero points): its
  own statistics, ``M = (sa * sb) / so * scale`` (the constant 1 / sqrt(d)
  folded in, as the f32 the model holds). A Scale right after a Linear,
  MatMul or BatchMatMul (``qparams.folded_scales``) folds likewise: the
  matmul takes the Scale's parameters and ``M`` its constant; a relu fuses
  only into a layer whose emitted result it reads directly
  (``qparams.writes_directly``). Linear on inputs of rank 3 or more multiplies the last
  dimension.
* Softmax (over the last dimension): spec 3.10 (a 16-bit input 6.4) from
  its input's parameters into the fixed (1/256, -128), whatever its
  statistics, or (softmax_input_bits=16, a result that only BatchMatMuls
  read as their lhs, spec 6.5) into the fixed 16-bit (2^-15, 0); the
  BatchMatMul then multiplies the 16-bit lhs by its 8-bit rhs, an int64
  sum (spec 6.4).
* ConstAdd (``x + c``, a constant tensor that broadcasts): the add above
  with ``c`` quantized into the parameters of its own range (spec 3.2,
  ``reference.constant_operand``).
* ConstConcat (constants, broadcast over the batch, concatenated with the
  inputs): a Concat whose constants are quantized into its parameters
  (spec 3.5).
* Concat: its own statistics; an operand produced by a conv / linear /
  matmul / add / mul / average pool (with or without a fused relu) or by a
  standalone relu or another concat whose only use is the concat adopts
  the concat's parameters (those of its own statistics, concat by concat in
  model order: an inner concat's operands take the inner concat's, and are
  requantized into the outer one's); any other operand is requantized.
* 16-bit activations (spec 6, ``activation_bits=16`` or ``layer_precision``
  entries ``name:w8a16``): :func:`int16_values` picks the values (spec 6.5);
  they get ``choose_int16_qparams`` (symmetric, [-32767, 32767]), a layer
  with a 16-bit input accumulates in int64 (``accumulator_bits=64``), and an
  add with a 16-bit operand shifts by 15.
* Per-channel LayerNorm inputs (spec 6.6, ``norm_input_scales=
  "per-channel"``): :func:`myquant.qparams.norm_input_channels` picks the
  values and their scales ``f * 2^a[c]`` (one zero point). The add that
  writes such a value and the adds that read it rescale with one entry per
  channel (``reference.add_rescales`` of the scale arrays); the LayerNorm
  reads ``(x - zp) << (a[c] - min a)`` in units of the smallest scale with
  the 16-bit arithmetic (``E`` of spec 6.4 from that scale).
"""

import numpy as np

from ..emit import (Activation, AdaptiveMaxPool2d, Add, AvgPool2d,
                    BatchMatMul, Concat, ConstAdd, ConstConcat, ConstMul,
                    Conv2d, Flatten,
                    GlobalAvgPool, LayerNorm, Linear, MatMul, MaxPool2d, Mul,
                    Relu, Relu6, Reshape, Scale, Slice, Softmax, Sub,
                    Transpose, Unflatten)
from ..emit import _Adaptive
from ..qparams import (INT16_RANGE_HEADROOM, norm_input_channels,
                       plan_precision, weight_precision)
from . import reference as R

QMIN, QMAX = -128, 127

__all__ = ["QuantizedOutput", "run_reference", "dequantize_output",
           "int16_values"]


class QuantizedOutput:
    """The int8 output (int64 array) with its scale and zero point, plus
    every integer value of the model (name -> (q, scale, zp))."""

    def __init__(self, q, scale, zero_point, values):
        self.q, self.scale, self.zero_point = q, scale, zero_point
        self.values = values

    def dequantize(self):
        return dequantize_output(self.q, self.scale, self.zero_point)


def dequantize_output(q, scale, zero_point):
    """(q - zo) * so in double, rounded once to f32 (spec 3.9)."""
    return R.dequantize(q, scale, zero_point)


def _act(layer):
    if isinstance(layer, Relu6):
        return "relu6"
    if isinstance(layer, Relu):
        return "relu"
    return None


def _weights(w, granularity, axis=0, precision=(8, 0)):
    """(integer weights, scales) of spec 1.2 (8 bits) or 6 (4 bits;
    precision = (bits, group size) of qparams.weight_precision). Per group:
    the effective integers q * m with the unit scales, which the arithmetic
    uses like per-channel weights."""
    if granularity not in ("per-channel", "per-tensor"):
        raise ValueError(f"unknown weight granularity {granularity!r}")
    per_channel = granularity == "per-channel"
    bits, group_size = precision
    if bits == 4:
        if group_size:
            q, m, u = R.quantize_weights_per_group(w, axis, group_size)
            return R.group_effective_weights(q, m, axis, group_size), u
        return R.quantize_weights(w, axis=axis if per_channel else None,
                                  qmax=7)
    if bits != 8:
        raise ValueError(f"weight bits must be 8 or 4, not {bits!r}")
    return R.quantize_weights(w, axis=axis if per_channel else None)


def _multipliers(s_in, s_w, s_out, factor=1.0):
    ms = [(float(s_in) * float(sw)) / float(s_out) * factor
          for sw in np.ravel(s_w)]
    return R.quantize_multipliers(ms)


def const_mul_factors(layer, rank):
    """(factors, axis) of a ConstMul on a rank-`rank` input: the constant's
    values along the one dimension where they vary (axis None and one factor
    when they do not), as doubles of its f32 values; 1 / c for a division.
    ValueError when they vary along several dimensions (the compiler keeps
    such a product in float)."""
    c = layer.c.reshape((1,) * (rank - layer.c.ndim) + layer.c.shape)
    varying = [d for d in range(rank)
               if not np.array_equal(c, np.take(c, [0], axis=d).repeat(
                   c.shape[d], axis=d))]
    if len(varying) > 1:
        raise ValueError(f"the constant varies along dimensions {varying}; "
                         f"only one has a per-channel form")
    axis = varying[0] if varying else None
    index = [0] * rank
    if axis is not None:
        index[axis] = slice(None)
    values = np.atleast_1d(c[tuple(index)]).astype(np.float64)
    return (1.0 / values if layer.divide else values), axis


def _factor(layer):
    """The constant a Scale multiplies by, from its f32 constant as the
    emitted model holds it (c, or 1 / c for a division); 1 for any other
    layer."""
    if not isinstance(layer, Scale):
        return 1.0
    c = float(np.float32(layer.c))
    return 1.0 / c if layer.divide else c


def _requantize_to(t, s, z, so, zo, rounding, qmin=QMIN, qmax=QMAX):
    """t (scale s, zero point z) requantized into (so, zo) when those
    differ."""
    if (s, z) == (so, zo):
        return t
    m0, sh = R.quantize_multiplier(float(s) / float(so))
    return R.requantize_tensor(t, z, m0, sh, zo, qmin, qmax,
                               rounding=rounding)


def _storage(bits):
    if bits == 32:  # wide values of dynamic quantization (spec 8.1)
        return -R.WIDE_QMAX, R.WIDE_QMAX
    return (R.INT16_QMIN, R.INT16_QMAX) if bits == 16 else (QMIN, QMAX)


def run_reference(model, stats, x, rounding="single",
                  weights="per-channel", weight_bits=8, group_size=0,
                  activation_bits=8, layer_precision=(), dynamic=False,
                  norm_input_bits=8, softmax_input_bits=8,
                  norm_input_scales="per-tensor",
                  dynamic_granularity="per-tensor",
                  int16_range_headroom=INT16_RANGE_HEADROOM):
    """Integer forward pass of `model` on float input x; returns a
    QuantizedOutput. weight_bits / group_size: 4-bit weights, per group of
    K for linear and matmul layers (spec 7); activation_bits: 16-bit
    activations (spec 6); layer_precision: either, per layer by name;
    dynamic: Linear / MatMul layers whose input is wide quantize it at run
    time (spec 8), asymmetric where the weights allow it (8.2b) unless
    dynamic="symmetric" (myquant-quantize's dynamic-symmetric=true),
    with the runtime parameters per tensor or, dynamic_granularity=
    "per-row", per row of the input (8.2c);
    norm_input_bits=16: 16-bit LayerNorm inputs (spec 6.5);
    softmax_input_bits=16: 16-bit Softmax inputs (spec 6.5);
    norm_input_scales="per-channel": per-channel LayerNorm inputs from
    stats.channels (spec 6.6); int16_range_headroom: the factor by which
    16-bit values' scales widen their ranges (spec 6.1)."""
    R._check_rounding(rounding)
    if norm_input_scales not in ("per-tensor", "per-channel"):
        raise ValueError(f"norm_input_scales must be 'per-tensor' or "
                         f"'per-channel', not {norm_input_scales!r}")
    fused, owner, qp, bits = plan_precision(model, stats, activation_bits,
                                            layer_precision, dynamic,
                                            norm_input_bits,
                                            softmax_input_bits,
                                            int16_range_headroom)
    # value -> its power-of-two exponents a[c]; qp then holds its scales.
    input_shifts = {}
    if norm_input_scales == "per-channel":
        for name, (scales, zp, shifts) in norm_input_channels(
                model, stats, qp, bits).items():
            qp[name] = (scales, zp)
            input_shifts[name] = shifts
    vals = {}
    sx, zx = qp["x"]
    vals["x"] = R.quantize(x, sx, zx, *_storage(bits["x"]))
    for layer in model.layers:
        name = layer.name
        if name in owner:
            continue  # computed by its producer
        act_layer = fused.get(name)
        out_name = act_layer.name if act_layer is not None else name
        act = _act(act_layer) if act_layer is not None else None
        so, zo = qp[out_name]
        qmin, qmax = _storage(bits[out_name])
        lo, hi = R.activation_clamp(act, zo, so, qmin, qmax)
        ins = [vals[i] for i in layer.inputs]
        iqp = [qp[i] for i in layer.inputs]
        x0, (s0, z0) = ins[0], iqp[0]
        # Spec 6.3: a 16-bit input accumulates in int64.
        acc_bits = 64 if bits[layer.inputs[0]] == 16 else 32

        if isinstance(layer, Conv2d):
            wq, sw = _weights(layer.w, weights, precision=weight_precision(
                layer, weight_bits, group_size, layer_precision))
            qb = None if layer.b is None else R.quantize_bias(layer.b, s0, sw)
            if qb is not None:
                R.check_accumulator_bound(wq, qb, z0)
            m0, sh = _multipliers(s0, sw, so)
            out = R.conv2d_nchw(x0, z0, wq, qb, m0, sh, zo, lo, hi,
                                stride=layer.stride, padding=layer.padding,
                                dilation=layer.dilation, groups=layer.groups,
                                rounding=rounding, accumulator_bits=acc_bits)
        elif isinstance(layer, (Linear, MatMul)):
            # Linear's [out, in] weights are a transposed rhs; a MatMul's
            # [in, out] ones have their output channels on axis 1.
            transposed = isinstance(layer, Linear)
            wq, sw = _weights(layer.w, weights, axis=0 if transposed else 1,
                              precision=weight_precision(
                                  layer, weight_bits, group_size,
                                  layer_precision))
            if bits[layer.inputs[0]] == 32:  # dynamic (spec 8.3)
                asym = (dynamic != "symmetric"
                        and R.dynamic_is_asymmetric(wq, transposed))
                qmax = R.DYNAMIC_UQMAX if asym else R.DYNAMIC_QMAX
                qb = None if layer.b is None else \
                    R.dynamic_bias(layer.b, s0, sw, qmax=qmax)
                m0, sh = R.dynamic_multipliers(s0, sw, so, qmax=qmax)
                vals[out_name] = R.dynamic_matmul(
                    x0, wq, qb, m0, sh, zo, lo, hi, transpose_rhs=transposed,
                    asymmetric=asym,
                    per_row=dynamic_granularity == "per-row")
                continue
            qb = None if layer.b is None else R.quantize_bias(layer.b, s0, sw)
            m0, sh = _multipliers(s0, sw, so, _factor(act_layer))
            out = R.matmul(x0, z0, wq, 0, qb, m0, sh, zo, lo, hi,
                           transpose_rhs=transposed, rounding=rounding,
                           accumulator_bits=acc_bits)
        elif isinstance(layer, BatchMatMul):
            # Two activations (each per tensor, with its zero point); the
            # constant scale joins the multiplier.
            s1, z1 = iqp[1]
            scale = float(np.float32(layer.scale)) * _factor(act_layer)
            m0, sh = R.quantize_multiplier(
                (float(s0) * float(s1)) / float(so) * scale)
            out = R.matmul(x0, z0, ins[1], z1, None, m0, sh, zo, lo, hi,
                           rounding=rounding, accumulator_bits=acc_bits)
        elif isinstance(layer, Mul):
            s1, z1 = iqp[1]
            m0, sh = R.mul_rescale(s0, s1, so)
            out = R.mul(x0, z0, ins[1], z1, m0, sh, zo, lo, hi,
                        rounding=rounding)
        elif isinstance(layer, Add):
            s1, z1 = iqp[1]
            shift = R.ADD_LEFT_SHIFT_16 if 16 in (
                bits[layer.inputs[0]], bits[layer.inputs[1]]) \
                else R.ADD_LEFT_SHIFT
            ra, rb, ro = R.add_rescales(s0, s1, so, shift)
            out = R.add(x0, z0, ins[1], z1, ra, rb, ro, zo, lo, hi,
                        left_shift=shift, rounding=rounding,
                        subtract=isinstance(layer, Sub))
        elif isinstance(layer, Scale):
            m0, sh = R.scale_rescale(s0, so, _factor(layer))
            out = R.requantize_tensor(x0, z0, m0, sh, zo, qmin, qmax,
                                      rounding=rounding)
        elif isinstance(layer, ConstMul):
            factors, axis = const_mul_factors(layer, x0.ndim)
            m0, sh, signs = R.factor_rescales(s0, so, factors)
            out = R.requantize_factors(x0, z0, m0, sh, signs, zo, qmin, qmax,
                                       axis=axis, rounding=rounding)
        elif isinstance(layer, Relu):
            # Standalone: a clamp on the input's parameters; into other
            # parameters, one requantization clamped to the activation's
            # bounds in the output's storage, as for a fused activation
            # (relu6 reaches quantize(6) of the output, not the input's
            # representable value nearest 6).
            if (s0, z0) == (so, zo):
                out = R.clamp(x0, *R.activation_clamp(_act(layer), z0, s0,
                                                      qmin, qmax))
            else:
                m0, sh = R.quantize_multiplier(float(s0) / float(so))
                out = R.requantize_tensor(
                    x0, z0, m0, sh, zo,
                    *R.activation_clamp(_act(layer), zo, so, qmin, qmax),
                    rounding=rounding)
        elif isinstance(layer, _Adaptive):
            # The gathered windows (filled with zx, i.e. 0, for average
            # pooling; the window's first cell repeated for max), then a
            # plain pool of kernel = stride = k.
            is_max = isinstance(layer, AdaptiveMaxPool2d)
            g = layer.gather(x0, None if is_max else z0)
            if is_max:
                out = R.max_pool2d(g, layer.k, layer.k, 0, qmin=qmin)
            else:
                d = layer.divisors(x0.shape[2:])
                m0, sh = R.avg_pool_rescale(s0, so, layer.k) if d is None \
                    else R.avg_pool_divisor_rescales(s0, so, d)
                out = R.avg_pool2d(g, z0, layer.k, layer.k, 0, m0, sh, zo,
                                   lo, hi, rounding=rounding,
                                   accumulator_bits=acc_bits)
        elif isinstance(layer, AvgPool2d):
            hw = x0.shape[2:]
            d = layer.divisors(hw)
            m0, sh = R.avg_pool_rescale(s0, so, layer.k) if d is None else \
                R.avg_pool_divisor_rescales(s0, so, d)
            out = R.avg_pool2d(x0, z0, layer.k, layer.stride, layer.pad4(hw),
                               m0, sh, zo, lo, hi, rounding=rounding,
                               accumulator_bits=acc_bits)
        elif isinstance(layer, MaxPool2d):
            out = R.max_pool2d(x0, layer.k, layer.stride,
                               layer.pad4(x0.shape[2:]), qmin=qmin)
        elif isinstance(layer, GlobalAvgPool):
            k = tuple(x0.shape[2:])
            m0, sh = R.avg_pool_rescale(s0, so, k)
            out = R.avg_pool2d(x0, z0, k, 1, 0, m0, sh, zo, lo, hi,
                               rounding=rounding, accumulator_bits=acc_bits)
        elif isinstance(layer, (Flatten, Unflatten, Reshape)):
            out = x0.reshape(model.shapes[name])
        elif isinstance(layer, Transpose):
            out = x0.transpose(layer.perm)
        elif isinstance(layer, Slice):
            out = x0[tuple(
                slice(layer.start, layer.start + layer.step * layer.size,
                      layer.step) if d == layer.dim else slice(None)
                for d in range(x0.ndim))]
        elif isinstance(layer, Activation) and bits[layer.inputs[0]] == 16:
            out = R.table16(x0, R.table_values(
                layer.function, s0, z0, so, zo, out_range=(qmin, qmax),
                input_bits=16))
        elif isinstance(layer, Activation):
            out = R.table(x0, R.table_values(layer.function, s0, z0, so, zo,
                                             out_range=(qmin, qmax)), QMIN)
        elif isinstance(layer, LayerNorm) and layer.inputs[0] in input_shifts:
            # Spec 6.6: in units of the smallest scale, 16-bit arithmetic.
            a = input_shifts[layer.inputs[0]]
            G, B, E = R.layer_norm_params(layer.gamma, layer.beta, layer.eps,
                                          np.min(s0), so, layer.gamma.size,
                                          16)
            out = R.layer_norm(x0, G, B, E, zo, QMIN, QMAX,
                               input_shifts=a - a.min(), zi=z0)
        elif isinstance(layer, LayerNorm):
            in_bits = bits[layer.inputs[0]]
            G, B, E = R.layer_norm_params(layer.gamma, layer.beta, layer.eps,
                                          s0, so, layer.gamma.size, in_bits)
            out = R.layer_norm(x0, G, B, E, zo, qmin, qmax, in_bits)
        elif isinstance(layer, Softmax) and bits[layer.inputs[0]] == 16:
            out = R.softmax16(x0, *R.softmax_exp_rescale(s0), qmin, qmax,
                              storage_bits=bits[name])
        elif isinstance(layer, Softmax):
            out = R.softmax(x0, R.softmax_exp_table(s0), qmin, qmax,
                            storage_bits=bits[name])
        elif isinstance(layer, ConstAdd):
            # The constant has 8 bits; a 16-bit input shifts by 15 (6.4).
            cq, sc, zc = R.constant_operand(layer.c)
            shift = R.ADD_LEFT_SHIFT_16 if bits[layer.inputs[0]] == 16 \
                else R.ADD_LEFT_SHIFT
            ra, rb, ro = R.add_rescales(s0, sc, so, shift)
            out = R.add(x0, z0, cq, zc, ra, rb, ro, zo, lo, hi,
                        left_shift=shift, rounding=rounding)
        elif isinstance(layer, Concat):
            parts = [_requantize_to(t, st, zt, so, zo, rounding, qmin, qmax)
                     for t, (st, zt) in zip(ins, iqp)]
            if isinstance(layer, ConstConcat):
                inputs = iter(parts)
                parts = [next(inputs) if p is None else np.broadcast_to(
                    R.constant_operand(p, so, zo, qmin, qmax)[0],
                    (x0.shape[0],) + p.shape[1:]) for p in layer.parts]
            out = R.concat(parts, axis=1)
        else:
            raise TypeError(f"unknown layer {type(layer).__name__}")
        vals[out_name] = np.asarray(out, np.int64)

    so, zo = qp[model.output]
    values = {n: (v, *qp[n]) for n, v in vals.items()}
    return QuantizedOutput(vals[model.output], so, zo, values)
