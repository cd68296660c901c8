"""Which values the int8 model has and their quantization parameters.

The compiler decides this (myquant-propagate-qparams); this module states the
same policy in Python so that the package can name and label the int8
model's values (:mod:`myquant.evaluate`'s per-layer report) without reading
the compiled code. The independent model reference
(:mod:`myquant.testing.model_reference`) and the numeric reference
(:mod:`myquant.testing.reference`) use it too: there is one Python statement
of the policy, and the references check the C++ compiler against it.

* :func:`choose_activation_qparams`: per-tensor (scale, zero point) from a
  calibrated range (docs/NumericSpec.md 1.1).
* :func:`quantize`, :func:`dequantize`, :func:`fake_quantize`: a float
  tensor quantized and dequantized with such parameters (spec 3.9), e.g.
  the model input as the int8 model sees it.
* :func:`plan`: relu fusion, concat adoption and every value's parameters
  (the policy in python/myquant/testing/model_reference.py's docstring).
"""

import math

import numpy as np

from .emit import (Activation, Add, AvgPool2d, BatchMatMul, Concat, ConstAdd,
                   ConstConcat, ConstMul, Conv2d, Flatten, GlobalAvgPool,
                   LayerNorm, Linear, MatMul, MaxPool2d, Mul, Relu, Reshape,
                   Scale, Slice, Softmax, Sub, Transpose, Unflatten)

__all__ = ["round_half_even", "choose_activation_qparams", "quantize",
           "choose_int16_qparams", "INT16_RANGE_HEADROOM",
           "check_int16_range_headroom", "choose_wide_qparams", "WIDE_QMAX",
           "WIDE_FRACTION_BITS", "int16_values", "wide_values",
           "dynamic_layers", "dynamic_residual_values", "same_scale",
           "INT8_ONLY", "NARROW_OPERANDS", "WRITES_WIDE", "reads_wide_norm",
           "reads_wide_softmax", "writes_wide_scores",
           "plan_precision", "LAYER_NORM_MAX_INPUT_SHIFT",
           "norm_input_channels",
           "dequantize", "fake_quantize", "FUSES_RELU", "REQUANTIZING",
           "SAME_SCALE", "SOFTMAX_QPARAMS", "SOFTMAX16_QPARAMS",
           "int16_softmax_results", "concat_adoptions",
           "writes_directly", "folded_scales", "plan", "weight_precision",
           "weight_bytes"]

# Layers a following Relu / Relu6 fuses into.
FUSES_RELU = (Conv2d, Linear, MatMul, BatchMatMul,
              Add, ConstAdd)  # Add includes Mul and Sub
# Layers that requantize into a chosen output type (and so may adopt a
# concat's parameters). A standalone (not fused) relu or relu6 is one too: a
# requantization clamped to the activation's bounds; so is a lookup table
# (Activation), whose entries are quantized into the output type, and a
# layer normalization, whose affine map is.
REQUANTIZING = (Conv2d, Linear, MatMul, Add, AvgPool2d, GlobalAvgPool, Relu,
                Scale, ConstMul, ConstAdd, Activation, LayerNorm, BatchMatMul)
# Layers that move data and keep their input's parameters (their own
# statistics are unused).
SAME_SCALE = (MaxPool2d, Flatten, Unflatten, Reshape, Transpose, Slice)


# Layers whose integer form takes and gives 8-bit activations only
# (docs/NumericSpec.md 6.4; an Activation's table and a Mul have a 16-bit
# form, 3.8 and 3.3).
# ConstAdd and ConstConcat: their constants are quantized in 8 bits.
INT8_ONLY = (LayerNorm, Softmax, BatchMatMul, ConstAdd, ConstConcat)

# Spec 6.6: the largest power-of-two factor exponent of a per-channel
# layer norm input (255 * 2^7 stays within a 16-bit input's range).
LAYER_NORM_MAX_INPUT_SHIFT = 7

# Layers that read 8-bit activations but may write 16-bit ones: the
# constant is quantized in 8 bits (docs/NumericSpec.md 6.5).
NARROW_OPERANDS = (ConstAdd,)


def reads_wide_norm(layer, norm_input_bits):
    """Whether `layer` is a LayerNorm that reads 16 bits and writes 8
    (norm_input_bits=16 and a row short enough, spec 6.4)."""
    return norm_input_bits == 16 and isinstance(layer, LayerNorm) and \
        layer.gamma.size <= 2048


def reads_wide_softmax(layer, softmax_input_bits):
    """Whether `layer` is a Softmax that reads 16 bits and writes 8
    (softmax_input_bits=16, spec 6.4)."""
    return softmax_input_bits == 16 and isinstance(layer, Softmax)


def writes_wide_scores(layer, softmax_input_bits):
    """Whether `layer` is a BatchMatMul (two 8-bit activations) that may
    write 16 bits (softmax_input_bits=16, spec 6.5)."""
    return softmax_input_bits == 16 and isinstance(layer, BatchMatMul)


# The fixed (scale, zero point) of a softmax's int8 result (spec 3.10): its
# own statistics are unused.
SOFTMAX_QPARAMS = (2.0 ** -8, -128)
# ... and of its 16-bit result (spec 6.4): [0, 1) in [0, 32767].
SOFTMAX16_QPARAMS = (2.0 ** -15, 0)


def layer_modes(layer_precision):
    """{layer name: "w8a16", ...} of layer_precision, a mapping or entries
    "name:w8a16" (as tools.layer_precision_entries checks them)."""
    if hasattr(layer_precision, "items"):
        return dict(layer_precision)
    return dict(e.rsplit(":", 1) for e in layer_precision or ())


def weight_precision(layer, weight_bits=8, group_size=0,
                     layer_precision=None):
    """(bits, group size or 0) of the constant weights of a Conv2d, Linear
    or MatMul layer (docs/NumericSpec.md 7): its layer_precision entry (loc
    name -> "w4a8" / "w8a8") or weight_bits; 4-bit 2-D linear / matmul
    weights whose K the group size divides are per group, the rest per
    channel. (None, 0) for layers without constant weights."""
    if not isinstance(layer, (Conv2d, Linear, MatMul)):
        return None, 0
    mode = layer_modes(layer_precision).get(layer.loc)
    bits = int(mode[1]) if mode else weight_bits
    w = np.asarray(layer.w)
    if bits != 4 or not group_size or isinstance(layer, Conv2d) or \
            w.ndim != 2:
        return bits, 0
    k = w.shape[1] if isinstance(layer, Linear) else w.shape[0]
    return bits, (group_size if k % group_size == 0 else 0)


def weight_bytes(layer, bits, group=0):
    """Bytes of a layer's constant weights at `bits` (weight_precision) and
    its 4-byte biases: 4-bit weights two per byte plus a byte per group's
    multiplier (docs/NumericSpec.md 7.3), others one byte each."""
    w = np.asarray(layer.w)
    b = getattr(layer, "b", None)
    nb = 0 if b is None else np.asarray(b).size
    packed = (w.size + 1) // 2 + (w.size // group if group else 0)
    return (packed if bits == 4 else w.size) + 4 * nb


def round_half_even(x):
    """Round a finite double to the nearest integer, ties to even (exact)."""
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"cannot round {x}")
    return int(round(x))


def choose_activation_qparams(lo, hi, qmin=-128, qmax=127, activation=None):
    """(scale, zero_point) for an activation observed in [lo, hi].

    activation: None, 'relu' (range starts at 0) or 'relu6' (range [0, 6] at
    most). Storage [qmin, qmax]: [-128, 127] for int8, [0, 255] for uint8.
    """
    lo, hi = float(lo), float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
        raise ValueError(f"invalid range [{lo}, {hi}]")
    if qmin >= qmax:
        raise ValueError("empty storage range")
    a = min(lo, 0.0)
    b = max(hi, 0.0)
    if activation == "relu":
        a = 0.0
    elif activation == "relu6":
        a = 0.0
        b = min(b, 6.0)
    elif activation is not None:
        raise ValueError(f"unknown activation {activation!r}")
    scale = (b - a) / float(qmax - qmin)
    if scale == 0.0:
        scale = 1.0
    zp = qmin - round_half_even(a / scale)
    return scale, max(qmin, min(qmax, zp))


# Spec 6.1: a 16-bit value's scale covers this many times its calibrated
# range (myquant-ptq int16-range-headroom; kDefaultInt16RangeHeadroom), so
# that inputs beyond the calibration set's range do not clip; 16 bits have
# 48 dB of resolution to spare over 8, and 2 spends 6 dB of them. Below 1 it
# would clip the calibrated range, above 128 leave a one-sided (relu'd)
# value, which uses [0, 32767] only, coarser than 8 bits.
INT16_RANGE_HEADROOM = 2.0
INT16_RANGE_HEADROOM_BOUNDS = (1.0, 128.0)


def check_int16_range_headroom(headroom):
    """headroom as a float, or ValueError outside
    INT16_RANGE_HEADROOM_BOUNDS (NaN included)."""
    lo, hi = INT16_RANGE_HEADROOM_BOUNDS
    if isinstance(headroom, bool) or not isinstance(
            headroom, (int, float, np.integer, np.floating)) or \
            not lo <= headroom <= hi:
        raise ValueError(f"int16_range_headroom must be a number from {lo:g} "
                         f"(less would clip the calibrated range) to {hi:g} "
                         f"(more would leave 16-bit values coarser than "
                         f"8-bit ones), not {headroom!r}")
    return float(headroom)


def choose_int16_qparams(lo, hi, headroom=INT16_RANGE_HEADROOM):
    """(scale, 0) of a 16-bit activation observed in [lo, hi] (spec 6.1):
    headroom * max(|lo|, |hi|) / 32767 in double, 1.0 when both are 0."""
    lo, hi = float(lo), float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
        raise ValueError(f"invalid range [{lo}, {hi}]")
    amax = check_int16_range_headroom(headroom) * max(abs(lo), abs(hi))
    return (amax / 32767.0 if amax != 0.0 else 1.0), 0


WIDE_FRACTION_BITS = 23
WIDE_QMAX = (1 << 31) - 1


def choose_wide_qparams(lo, hi):
    """(scale, 0) of a wide (int32) value of a dynamic matmul observed in
    [lo, hi] (spec 8.1): max(|lo|, |hi|) / 2^23 in double, 1.0 when both are
    0; storage [-WIDE_QMAX, WIDE_QMAX]."""
    lo, hi = float(lo), float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
        raise ValueError(f"invalid range [{lo}, {hi}]")
    amax = max(abs(lo), abs(hi))
    return (amax / float(1 << WIDE_FRACTION_BITS) if amax != 0.0 else 1.0), 0


def quantize(x, scale, zero_point, qmin=-128, qmax=127):
    """x (rounded to float32) quantized with per-tensor (scale, zero_point):
    clamp(round_half_even(x / s) + zp) in double (spec 3.9), as int8 (int64
    for other storage ranges)."""
    x64 = np.asarray(x, np.float32).astype(np.float64)
    if np.any(np.isnan(x64)):
        raise ValueError("cannot quantize NaN")
    s, zp = float(scale), int(zero_point)
    if not s > 0:
        raise ValueError("scale must be positive")
    with np.errstate(over="ignore"):
        q = np.clip(np.rint(x64 / s) + zp, qmin, qmax)
    return q.astype(np.int8 if (qmin, qmax) == (-128, 127) else np.int64)


def dequantize(q, scale, zero_point):
    """(q - zp) * s in double, rounded to float32 (spec 3.9)."""
    return ((np.asarray(q, np.int64) - int(zero_point)).astype(np.float64) *
            float(scale)).astype(np.float32)


def fake_quantize(x, scale, zero_point, qmin=-128, qmax=127):
    """x (rounded to float32) quantized with per-tensor (scale, zero_point)
    and dequantized again (:func:`quantize`, then :func:`dequantize`)."""
    return dequantize(quantize(x, scale, zero_point, qmin, qmax), scale,
                      zero_point)


def concat_adoptions(model, owner):
    """value name -> concat name, for every concat operand that adopts the
    concat's parameters: produced by a REQUANTIZING layer (or such a layer
    with a fused relu; owner: fused relu name -> producer, from plan) or by
    another concat, and used only once, by that concat. Not the model input
    or output."""
    adopt = {}
    for layer in model.layers:
        if not isinstance(layer, Concat):
            continue
        for v in layer.inputs:
            if v == "x" or v == model.output:
                continue
            if len(model.users(v)) != 1 or layer.inputs.count(v) != 1:
                continue
            base = owner.get(v, model.producer(v))
            if isinstance(base, REQUANTIZING + (Concat,)):
                adopt[v] = layer.name
    return adopt


def writes_directly(model, layer):
    """Whether the emitted ops of `layer` end with the op that computes it,
    no reshape after it, so that a following relu or scale can fuse into
    it: not for a Linear or MatMul on an input of rank 3 or more (computed
    on [rows, K]) or a BatchMatMul of rank 4 or more (leading dims merged)
    or with a scale of its own (already folded)."""
    if isinstance(layer, (Linear, MatMul)):
        return len(model.shapes[layer.inputs[0]]) == 2
    if isinstance(layer, BatchMatMul):
        return layer.scale == 1.0 and len(model.shapes[layer.name]) == 3
    return True


def folded_scales(model):
    """scale layer name -> the Linear, MatMul or BatchMatMul it folds into:
    a Scale reading such a layer's result directly (writes_directly), its
    only use and not the model output. The compiler multiplies the matmul's
    rescale by the constant (docs/NumericSpec.md 5)."""
    folds = {}
    for layer in model.layers:
        if not isinstance(layer, Scale):
            continue
        src = layer.inputs[0]
        prod = model.producer(src)
        if isinstance(prod, (Linear, MatMul, BatchMatMul)) and \
                writes_directly(model, prod) and \
                len(model.users(src)) == 1 and src != model.output:
            folds[layer.name] = prod
    return folds


def plan(model, stats):
    """Decides fusion and per-value parameters of model (an emit.Model) from
    stats (value name -> (min, max)).

    Returns (fused, owner, qparams):
      fused:   producer layer name -> fused relu layer (its output value),
               or the Scale folded into a matmul (folded_scales);
      owner:   relu or folded Scale layer name -> producer layer;
      qparams: value name -> (scale, zp) of the integer value.
    """
    fused, owner = {}, {}
    for name, prod in folded_scales(model).items():
        fused[prod.name] = model.producer(name)
        owner[name] = prod
    for layer in model.layers:
        if not isinstance(layer, Relu):
            continue
        src = layer.inputs[0]
        prod = model.producer(src)
        if (prod is not None and isinstance(prod, FUSES_RELU) and
                writes_directly(model, prod) and
                len(model.users(src)) == 1 and src != model.output and
                prod.name not in fused):
            fused[prod.name] = layer
            owner[layer.name] = prod

    own = {name: choose_activation_qparams(*stats[name])
           for name in model.shapes if name == "x" or name in stats}

    def need(name):
        if name not in own:
            raise KeyError(f"no statistics for value {name!r}")
        return own[name]

    adopt = concat_adoptions(model, owner)
    qp = {"x": need("x")}
    for layer in model.layers:
        name = layer.name
        if name in fused:
            continue  # its integer value is the fused relu's output
        if isinstance(layer, SAME_SCALE) and \
                not isinstance(layer, AvgPool2d):
            qp[name] = qp[layer.inputs[0]]
        elif isinstance(layer, Softmax):
            qp[name] = SOFTMAX_QPARAMS
        elif name in adopt:
            qp[name] = None  # filled once the concat is known
        else:
            qp[name] = need(name)
    # The compiler decides concat by concat in program order: an operand
    # takes the concat's parameters from its own statistics, even where the
    # concat then adopts an enclosing concat's (its operands are then
    # requantized into those).
    for v, c in adopt.items():
        qp[v] = need(c)
    return fused, owner, qp


def same_scale(layer):
    """Whether `layer` keeps its input's parameters (SAME_SCALE)."""
    # AvgPool2d derives from MaxPool2d but requantizes (qparams.plan).
    return isinstance(layer, SAME_SCALE) and not isinstance(layer, AvgPool2d)


def int16_values(model, owner, activation_bits=8, layer_precision=(),
                 norm_input_bits=8, softmax_input_bits=8):
    """The names of the values with 16-bit storage (spec 6.5). owner: fused
    relu name -> producer (plan); layer_precision: entries "name:w8a16" or
    a mapping (a layer is named by its loc, or that of the layer it is fused
    into); norm_input_bits=16: LayerNorm inputs too; softmax_input_bits=16:
    Softmax inputs too."""
    selected_locs = {name for name, mode in
                     layer_modes(layer_precision).items()
                     if mode.endswith("a16")}

    def loc(layer):
        return layer.loc or layer.name

    def selected(layer):
        if activation_bits == 16:
            return True
        fused_into = owner.get(layer.name)
        return loc(layer) in selected_locs or (
            fused_into is not None and loc(fused_into) in selected_locs)

    def reads_wide(layer):
        return reads_wide_norm(layer, norm_input_bits) or \
            reads_wide_softmax(layer, softmax_input_bits)

    def wants(layer, reads):
        return (reads and reads_wide(layer)) or selected(layer)

    def blocks(layer, reads):
        # An int8-only op blocks, except as a LayerNorm or Softmax that
        # reads 16 bits or as a narrow-operand op that writes them (spec
        # 6.5).
        if reads:
            return isinstance(layer, INT8_ONLY) and not reads_wide(layer)
        return isinstance(layer, INT8_ONLY) and \
            not isinstance(layer, NARROW_OPERANDS) and \
            not writes_wide_scores(layer, softmax_input_bits)
    return _values_between(model, owner, wants, blocks)


def dynamic_layers(model):
    """The layers with constant weights that dynamic quantization makes
    dynamic (spec 8.5): Linear and MatMul."""
    return [layer for layer in model.layers
            if isinstance(layer, (Linear, MatMul))]


# Layers that read 8-bit activations and may write a wide value (spec 8.5).
WRITES_WIDE = (LayerNorm, Activation, BatchMatMul)


def wide_values(model, owner):
    """The names of the wide (int32) values of dynamic quantization (spec
    8.5): read or written by a Linear / MatMul and by no other op that is
    not a same-scale one, except a LayerNorm, table or BatchMatMul writing
    it."""
    dynamic = set(dynamic_layers(model))

    def is_dynamic(layer):  # a fused activation is part of its producer
        return owner.get(layer.name, layer) in dynamic

    def blocks(layer, reads):
        return not is_dynamic(layer) and (
            reads or not isinstance(owner.get(layer.name, layer),
                                    WRITES_WIDE))
    return _values_between(model, owner,
                           lambda layer, reads: is_dynamic(layer), blocks)


def _scale_source(model, name):
    """The value whose parameters `name` shares through same-scale ops."""
    while True:
        p = model.producer(name)
        if p is None or not same_scale(p):
            return name
        name = p.inputs[0]


def dynamic_residual_values(model, owner, int16):
    """With dynamic and norm_input_bits=16 (spec 8.5): the values (with
    those sharing their parameters through same-scale ops) that a layer
    with constant weights (Conv2d, Linear, MatMul) or a concat writes and
    only adds or subtractions (of two activations or of a constant) whose
    result is 16-bit (in int16), or concats whose result gets 16 bits, read:
    a transformer's residual adds and its patch embedding."""
    names = ["x"] + [l.name for l in model.layers]
    groups = {}
    for name in names:
        groups.setdefault(_scale_source(model, name), []).append(name)
    out = set()

    def reads_16(u):
        if isinstance(u, (Add, Sub, ConstAdd)) and not isinstance(u, Mul):
            return u.name in int16
        return isinstance(u, Concat) and _scale_source(model, u.name) in out

    # Backwards, so that a concat's result is decided before its operands.
    for src, group in reversed(list(groups.items())):
        writer = model.producer(src)
        if writer is None or src in int16 or not isinstance(
                owner.get(writer.name, writer),
                (Conv2d, Linear, MatMul, Concat)):
            continue
        readers = [u for n in group for u in model.users(n)
                   if not same_scale(u)]
        if readers and all(reads_16(u) for u in readers):
            out.update(group)
    return out


def int16_softmax_results(model, softmax_input_bits):
    """With softmax_input_bits=16 (spec 6.5): the Softmax results (with the
    values sharing their parameters through same-scale ops) that only
    BatchMatMuls read, as their first operand (attention's A V, which
    multiplies a 16-bit lhs by its 8-bit rhs, spec 6.4); they get 16 bits
    and SOFTMAX16_QPARAMS."""
    if softmax_input_bits != 16:
        return set()
    groups = {}
    for name in ["x"] + [l.name for l in model.layers]:
        groups.setdefault(_scale_source(model, name), []).append(name)
    out = set()
    for src, group in groups.items():
        if not isinstance(model.producer(src), Softmax) or \
                model.output in group:
            continue
        readers = [(u, n) for n in group for u in model.users(n)
                   if not same_scale(u)]
        if readers and all(isinstance(u, BatchMatMul) and
                           u.inputs[0] == n != u.inputs[1]
                           for u, n in readers):
            out.update(group)
    return out


def _values_between(model, owner, wants, blocks):
    """The values (with those sharing their parameters through same-scale
    ops) that an op `wants` reads or writes and no op that `blocks` does;
    both take (layer, reads): whether the layer reads the value rather than
    writes it. Fused pre-activation values are skipped."""
    def source(name):
        return _scale_source(model, name)

    internal = set(owner.values())
    wanted, blocked = set(), set()
    for name in ["x"] + [l.name for l in model.layers]:
        writer = model.producer(name)
        if writer is not None and writer in internal:
            continue  # a fused producer's pre-activation value
        src = source(name)
        for layer in [writer] + list(model.users(name)):
            if layer is None or same_scale(layer):
                continue
            if blocks(layer, layer is not writer):
                blocked.add(src)
            elif wants(layer, layer is not writer):
                wanted.add(src)
    wide = wanted - blocked
    return {n for n in ["x"] + [l.name for l in model.layers]
            if source(n) in wide}


def plan_precision(model, stats, activation_bits=8, layer_precision=(),
                   dynamic=False, norm_input_bits=8, softmax_input_bits=8,
                   int16_range_headroom=INT16_RANGE_HEADROOM):
    """plan() with 16-bit activations (docs/NumericSpec.md 6):
    activation_bits=16 for the whole model, layer_precision entries
    "name:w8a16", norm_input_bits=16 for the LayerNorm inputs or
    softmax_input_bits=16 for the Softmax inputs (and the results that
    attention's A V reads, int16_softmax_results); dynamic: the wide values
    of dynamic quantization (spec 8.5), which combines with the last two.
    Returns (fused, owner, qparams, bits): bits[value] is 8, 16 or 32 (wide),
    the 16-bit values have choose_int16_qparams parameters over
    int16_range_headroom times their range (16-bit softmax results
    SOFTMAX16_QPARAMS) and the wide ones choose_wide_qparams'."""
    fused, owner, qp = plan(model, stats)
    # Spec 8.1: wide values have 32-bit storage. A 16-bit LayerNorm or
    # Softmax input is never one (those ops read 8 or 16 bits), so the two
    # sets are disjoint (spec 8.5).
    wide = wide_values(model, owner) if dynamic else set()
    for name in qp:  # model order: same-scale inputs come first
        if name not in wide:
            continue
        p = model.producer(name)
        qp[name] = qp[p.inputs[0]] if p is not None and same_scale(p) \
            else choose_wide_qparams(*stats[name])
    int16 = int16_values(model, owner, activation_bits, layer_precision,
                         norm_input_bits, softmax_input_bits)
    if dynamic and norm_input_bits == 16:
        int16 |= dynamic_residual_values(model, owner, int16)
    probabilities = int16_softmax_results(model, softmax_input_bits)
    int16 |= probabilities
    bits = {n: 32 if n in wide else 16 if n in int16 else 8 for n in qp}
    # An operand that adopts a concat's parameters adopts its width too
    # (an 8-bit-only producer cannot, spec 6.5: not modelled here).
    adopt = concat_adoptions(model, owner)
    for v, c in adopt.items():
        if bits[v] != bits[c] and isinstance(
                owner.get(v, model.producer(v)), INT8_ONLY):
            raise NotImplementedError(
                f"{v!r} (8-bit only) feeds the 16-bit concat {c!r}")
        bits[v] = bits[c]
    for name in qp:  # model order: same-scale inputs come first
        if bits[name] != 16:
            continue
        p = model.producer(name)
        if p is not None and same_scale(p):
            qp[name] = qp[p.inputs[0]]
        elif name in probabilities:
            qp[name] = SOFTMAX16_QPARAMS
        else:
            qp[name] = choose_int16_qparams(*stats[adopt.get(name, name)],
                                            int16_range_headroom)
    return fused, owner, qp, bits


def _writes_or_reads_residual(layer):
    """An add or subtraction (of two activations or of a constant): the
    layers that may write or read a per-channel LayerNorm input (spec
    6.6)."""
    return isinstance(layer, (Add, ConstAdd)) and not isinstance(layer, Mul)


def norm_input_channels(model, stats, qp, bits):
    """Spec 6.6's per-channel LayerNorm inputs (norm_input_scales=
    "per-channel"): value name -> (scales, zero point, shifts) for each
    8-bit LayerNorm input with per-channel statistics
    (``stats.channels``, calibrate.Stats) that an add writes and only adds
    and LayerNorms read. qp, bits: plan_precision's. With (s, zp) its
    per-tensor parameters and f = s / 2^7, channel c takes the least a[c]
    in 0..7 whose grid f * 2^a[c] holds the channel's range [mn, mx]
    (``mn >= (qmin - zp) * f * 2^a`` and ``mx <= (qmax - zp) * f * 2^a``),
    7 if none; scales[c] = f * 2^a[c], all with zero point zp. The other
    values keep qp's parameters."""
    channels = getattr(stats, "channels", {})
    out = {}
    for layer in model.layers:
        if not isinstance(layer, LayerNorm):
            continue
        name = layer.inputs[0]
        producer = model.producer(name)
        if (name in out or name not in channels or bits.get(name) != 8 or
                name == model.output or producer is None or
                not _writes_or_reads_residual(producer) or
                not all(_writes_or_reads_residual(u) or
                        isinstance(u, LayerNorm)
                        for u in model.users(name))):
            continue
        scale, zp = qp[name]
        finest = math.ldexp(float(scale), -LAYER_NORM_MAX_INPUT_SHIFT)
        lo, hi = float(-128 - zp), float(127 - zp)
        shifts = []
        for mn, mx in zip(*channels[name]):
            a = 0
            while a < LAYER_NORM_MAX_INPUT_SHIFT and (
                    mn < lo * math.ldexp(finest, a) or
                    mx > hi * math.ldexp(finest, a)):
                a += 1
            shifts.append(a)
        shifts = np.array(shifts, np.int64)
        scales = np.array([math.ldexp(finest, int(a)) for a in shifts])
        out[name] = (scales, zp, shifts)
    return out
