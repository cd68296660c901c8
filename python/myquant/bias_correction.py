"""Empirical bias correction (docs/NumericSpec.md 1.5).

Quantizing a layer's weights shifts the mean of each of its output
channels: with `dW = dequantized(q_w) - w` (spec 1.2) the int8 layer
computes on average `E[conv(x, dW)]` more than the float one, a
per-channel constant that later layers carry on. For inputs with a
non-zero mean (after a relu the mean holds about 2/pi of their power) that
constant can be most of the weight quantization error. This module measures it on the
calibration samples and subtracts it from the layer's float bias before the
compiler quantizes the bias (spec 1.3): the correction lives in the int32
bias, the integer arithmetic at run time does not change.

For a convolution the mean over samples and output positions of
`conv(x, dW)[f]` is `sum_{c,i,j} dW[f, c, i, j] * M[c, i, j]`, with
`M[c, i, j]` the mean of the zero-padded input that kernel tap (i, j) of
channel c reads: one pass of the float model, no second convolution.
"""

import numpy as np

from . import emit as E

__all__ = ["weight_grid", "weight_error", "weight_layer_inputs",
           "bias_corrections", "correct_biases"]


def weight_grid(layer, granularity="per-channel"):
    """(w, amax, scale), double, broadcastable to w's layout: a Conv2d,
    Linear or MatMul layer's weights, their largest |w| and the scale of
    their int8 quantization (spec 1.2: symmetric, [-127, 127], per output
    channel or per tensor)."""
    if granularity not in ("per-channel", "per-tensor"):
        raise ValueError(f"unknown weight granularity {granularity!r}")
    w = np.asarray(layer.w, np.float32).astype(np.float64)
    axis = 1 if isinstance(layer, E.MatMul) else 0
    others = tuple(d for d in range(w.ndim)
                   if granularity == "per-tensor" or d != axis)
    amax = np.max(np.abs(w), axis=others, keepdims=True)
    return w, amax, np.where(amax == 0.0, 1.0, amax / 127.0)


def weight_error(layer, granularity="per-channel"):
    """dequantized(q_w) - w in double, in w's layout: the quantization error
    of a Conv2d, Linear or MatMul layer's int8 weights (weight_grid)."""
    w, _, scale = weight_grid(layer, granularity)
    return np.clip(np.rint(w / scale), -127, 127) * scale - w


def _input_sums(layer, x, oshape):
    """(sums, count): per conv kernel tap the sums of the zero-padded input
    it reads, [C, KH, KW], or per feature of a linear / matmul input the
    sums over all rows, [K]; count values per sum."""
    x = x.astype(np.float64)
    if not isinstance(layer, E.Conv2d):
        rows = x.reshape(-1, x.shape[-1])
        return rows.sum(axis=0), rows.shape[0]
    kh, kw = layer.w.shape[2:]
    sums = np.zeros((x.shape[1], kh, kw))
    xp = E._pad(x, *layer.padding, 0.0)
    count = 0
    for i, j, win in E._windows(xp, (kh, kw), layer.stride, layer.dilation,
                                oshape[2:]):
        sums[:, i, j] = win.sum(axis=(0, 2, 3))
        count = win.shape[0] * win.shape[2] * win.shape[3]
    return sums, count


def _shift(layer, dw, mean):
    """The mean output shift per output channel: dW applied to the mean
    input (per tap for a convolution, group by group)."""
    if isinstance(layer, E.Linear):
        return dw @ mean
    if isinstance(layer, E.MatMul):
        return mean @ dw
    f, cg = dw.shape[:2]
    fg = f // layer.groups
    return np.concatenate([
        np.einsum("fcij,cij->f", dw[g * fg:(g + 1) * fg],
                  mean[g * cg:(g + 1) * cg])
        for g in range(layer.groups)])


def weight_layer_inputs(graph, batches, chunk=4):
    """Yields (layer, its float input, its output shape) for every Conv2d,
    Linear and MatMul layer of `graph` on `batches` (arrays of the model's
    input sample shape), from emit.float_forward, `chunk` samples at a
    time."""
    layers = [layer for layer in graph.layers
              if isinstance(layer, (E.Conv2d, E.Linear, E.MatMul))]
    for batch in batches:
        batch = np.asarray(batch, np.float32)
        for start in range(0, len(batch), chunk):
            x = batch[start:start + chunk]
            part = graph.with_batch(len(x))
            vals = E.float_forward(part, x)
            for layer in layers:
                yield layer, vals[layer.inputs[0]], part.shapes[layer.name]


def bias_corrections(graph, batches, granularity="per-channel", chunk=4):
    """layer name -> the mean output shift (double, per output channel)
    that quantizing its weights causes on `batches` (arrays of the model's
    input sample shape), for every Conv2d, Linear and MatMul layer, from
    the float model's values (weight_layer_inputs)."""
    sums = {}
    for layer, x, oshape in weight_layer_inputs(graph, batches, chunk):
        s, n = _input_sums(layer, x, oshape)
        old = sums.get(layer.name, (0.0, 0))
        sums[layer.name] = (old[0] + s, old[1] + n)
    return {layer.name: _shift(layer, weight_error(layer, granularity),
                               sums[layer.name][0] / sums[layer.name][1])
            for layer in graph.layers if layer.name in sums}


def correct_biases(graph, batches, **options):
    """Subtracts bias_corrections(graph, batches, **options) from the
    layers' float biases (a layer without bias gets one), in place; returns
    the corrections."""
    shifts = bias_corrections(graph, batches, **options)
    for layer in graph.layers:
        if layer.name in shifts:
            b = 0.0 if layer.b is None else \
                np.asarray(layer.b, np.float32).astype(np.float64)
            layer.b = (b - shifts[layer.name]).astype(np.float32)
    return shifts
