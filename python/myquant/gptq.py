"""Error-compensating weight rounding (GPTQ, Frantar et al. 2022).

Rounding each int8 weight to nearest (spec 1.2) minimizes the weights'
own error; a layer's output error `(W - Wq) X` is what the model sees.
GPTQ keeps the int8 grid (the same per-channel scale `max|w| / 127`,
integers in [-127, 127]) and chooses the integers column by column: after
rounding column k of W (one input feature, or one conv kernel tap of one
input channel), it spreads that column's error over the columns not yet
rounded with the inverse of `H = X^T X`, X the layer's calibration inputs
(im2col'd for a convolution, per group), so that where inputs are
correlated the later columns cancel it. The integers, scales and the
integer arithmetic at run time are those of spec 1.2: only which integer
each weight gets changes, a compile-time choice.

The compiler recomputes each channel's scale from the float weights it is
given, so `round_weights` hands it `w' = q * s`: each channel's largest
|w| stays on the grid point +-127 (its rounding is fixed to it; its
error after the earlier columns' compensation, whatever it is, is still
spread), so `max|w'| / 127` is `s`
again and the compiler's rounding of `w' / s` gives q back exactly.
"""

import numpy as np

from . import emit as E
from .bias_correction import weight_grid, weight_layer_inputs

__all__ = ["ROUNDINGS", "option_conflict", "hessians", "gptq_integers",
           "round_weights"]

# myquant.quantize's weight_rounding values: spec 1.2's, and this module's.
ROUNDINGS = ("nearest", "gptq")

# Columns per lazy batch of gptq_integers (GPTQ's choice).
_BLOCK = 128


def option_conflict(bias_correction, gptq, int8_weights, names):
    """None, or why the weight options given do not combine; `names`
    spells bias correction, GPTQ rounding and the modes without int8
    weights as the caller (API or CLI) does."""
    for option, on in ((names[0], bias_correction), (names[1], gptq)):
        if on and not int8_weights:
            return f"{option} is for int8 weights: not with {names[2]}"
    if bias_correction and gptq:
        return (f"{names[0]} corrects the mean error of weights rounded to "
                f"nearest: not with {names[1]}, which compensates the output "
                f"error itself")
    return None


def _groups(layer, w):
    """w (in the layer's layout) as [groups, rows, K]: the rows one group's
    input columns feed (output channels), K its input columns."""
    if isinstance(layer, E.Conv2d):
        return w.reshape(layer.groups, w.shape[0] // layer.groups, -1)
    return (w.T if isinstance(layer, E.MatMul) else w)[None]


def _ungroup(layer, g):
    """The inverse of _groups."""
    if isinstance(layer, E.Conv2d):
        return g.reshape(layer.w.shape)
    return g[0].T if isinstance(layer, E.MatMul) else g[0]


def _columns(layer, x, oshape):
    """The layer's input as [groups, rows, K]: a convolution's zero-padded
    im2col patches per group (K = C/groups * KH * KW in w's order), a
    linear / matmul input's rows."""
    x = x.astype(np.float64)
    if not isinstance(layer, E.Conv2d):
        return x.reshape(1, -1, x.shape[-1])
    g = layer.groups
    _, cg, kh, kw = layer.w.shape
    xp = E._pad(x, *layer.padding, 0.0)
    taps = np.stack([win for _, _, win in E._windows(
        xp, (kh, kw), layer.stride, layer.dilation, oshape[2:])], axis=2)
    n, _, _, oh, ow = taps.shape            # [n, C, KH*KW, oh, ow]
    taps = taps.reshape(n, g, cg * kh * kw, oh, ow)
    return taps.transpose(1, 0, 3, 4, 2).reshape(g, n * oh * ow, -1)


def hessians(graph, batches, chunk=4):
    """layer name -> H = X^T X per group ([groups, K, K], double) of every
    Conv2d, Linear and MatMul layer's float inputs on `batches` (arrays of
    the model's input sample shape; bias_correction.weight_layer_inputs,
    `chunk` samples at a time)."""
    h = {}
    for layer, x, oshape in weight_layer_inputs(graph, batches, chunk):
        cols = _columns(layer, x, oshape)
        h[layer.name] = h.get(layer.name, 0.0) + \
            np.matmul(cols.transpose(0, 2, 1), cols)
    return h


def gptq_integers(layer, h, granularity="per-channel", damp=0.01):
    """(q int8 in w's layout, scales float64 [channels] or [1]): the
    layer's int8 weights (spec 1.2's scales and range) rounded by GPTQ
    with H = h ([groups, K, K], `hessians`), columns in order of falling
    H diagonal, `damp` times its mean added to the diagonal (GPTQ's
    dampening: H of a few samples is singular)."""
    w, amax, scale = weight_grid(layer, granularity)
    # The largest |w| of each channel (of the tensor) keeps +-127.
    pinned = np.where((np.abs(w) == amax) & (amax > 0.0), np.sign(w), 0.0)
    wg, sg = _groups(layer, w), _groups(layer, np.broadcast_to(scale, w.shape))
    pg = _groups(layer, pinned)
    k = wg.shape[2]
    h = np.array(h, np.float64)
    mean = h.diagonal(axis1=1, axis2=2).mean(axis=1)
    h += (damp * np.where(mean > 0.0, mean, 1.0))[:, None, None] * np.eye(k)
    order = np.argsort(-h.diagonal(axis1=1, axis2=2), axis=1, kind="stable")
    h = np.take_along_axis(np.take_along_axis(h, order[:, :, None], axis=1),
                           order[:, None, :], axis=2)
    wg, sg, pg = (np.take_along_axis(a, order[:, None, :], axis=2)
                  for a in (wg, sg, pg))
    wg = wg.copy()
    # Upper Cholesky factor U of H^-1 (H^-1 = U^T U): row i of U spreads
    # column i's error over the later columns.
    u = np.linalg.cholesky(np.linalg.inv(h)).transpose(0, 2, 1)
    q = np.empty(wg.shape)
    # GPTQ's lazy batches: a block's errors reach the columns after it in
    # one product, so the cost is one K x K pass, not K of them.
    for lo in range(0, k, _BLOCK):
        hi = min(lo + _BLOCK, k)
        errs = np.empty(wg.shape[:2] + (hi - lo,))
        for i in range(lo, hi):
            col = wg[:, :, i]
            qi = np.clip(np.rint(col / sg[:, :, i]), -127, 127)
            qi = np.where(pg[:, :, i] != 0.0, pg[:, :, i] * 127, qi)
            err = (col - qi * sg[:, :, i]) / u[:, i, i][:, None]
            wg[:, :, i + 1:hi] -= err[:, :, None] * u[:, None, i, i + 1:hi]
            errs[:, :, i - lo] = err
            q[:, :, i] = qi
        wg[:, :, hi:] -= np.matmul(errs, u[:, lo:hi, hi:])
    inverse = np.argsort(order, axis=1)
    q = np.take_along_axis(q, inverse[:, None, :], axis=2)
    return _ungroup(layer, q).astype(np.int8), scale.reshape(-1)


def round_weights(graph, batches, granularity="per-channel", keep=(),
                  chunk=4):
    """Replaces every Conv2d, Linear and MatMul layer's float weights by
    their GPTQ int8 integers times the scale (`gptq_integers` with H from
    `hessians(graph, batches, chunk)`, the float model's inputs), in place,
    except the layers located at a name in `keep` (kept in float): the
    compiler's spec 1.2 quantization maps them back to exactly those
    integers."""
    h = hessians(graph, batches, chunk)
    for layer in graph.layers:
        if layer.name not in h or layer.loc in keep:
            continue
        q, _ = gptq_integers(layer, h[layer.name], granularity)
        # The scale broadcast over w's layout, as weight_grid gives it.
        scale = weight_grid(layer, granularity)[2]
        layer.w = (q.astype(np.float64) * scale).astype(np.float32)
