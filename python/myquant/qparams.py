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
                   ConstMul, Conv2d, Flatten, GlobalAvgPool, LayerNorm,
                   Linear, MatMul, MaxPool2d, Relu, Reshape, Scale, Slice,
                   Softmax, Transpose, Unflatten)

__all__ = ["round_half_even", "choose_activation_qparams", "quantize",
           "dequantize", "fake_quantize", "FUSES_RELU", "REQUANTIZING",
           "SAME_SCALE", "SOFTMAX_QPARAMS", "concat_adoptions",
           "writes_directly", "folded_scales", "plan"]

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


# The fixed (scale, zero point) of a softmax's int8 result (spec 3.10): its
# own statistics are unused.
SOFTMAX_QPARAMS = (2.0 ** -8, -128)


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
