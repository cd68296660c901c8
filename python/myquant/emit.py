"""A tiny numpy model description, its float forward pass, calibration, and an
MLIR emitter producing torch-mlir style float linalg on tensors.

A :class:`Model` is a graph of layers over NCHW f32 tensors. Every value has
a name: ``"x"`` is the model input, each layer's output is named by the layer
(``name=`` or ``l0``, ``l1``, ...). A layer reads the previous layer's output
unless ``inputs=[...]`` names other values (residual blocks, concatenation).
The last layer added is the model output.

    m = Model((1, 3, 8, 8))
    m.add(Conv2d(w, b, padding=1))
    m.add(Relu())
    m.add(MaxPool2d(2))
    m.add(Flatten())
    m.add(Linear(w2, b2))
    text = emit(m, stats=calibrate(m, samples))

:func:`emit` returns a module with ``func.func @forward``. With ``stats``
(value name -> (min, max)) every activation value (the input and every
layer output) is annotated with ``myquant.stats`` and later uses read the
annotated value.

Every op a layer produces carries the location ``loc("<layer loc>")`` (the
layer's ``loc``, by default its value name; the exporter uses the PyTorch
module path); the input argument and its ops carry ``loc("x")``.
``outputs=[names]`` returns several values (e.g. every layer, for per-layer
error reports), and ``weights="resource"`` stores weights as
``dense_resource`` blobs instead of hex ``dense`` literals.
"""

import math

import numpy as np

__all__ = [
    "Conv2d", "DepthwiseConv2d", "Relu", "Relu6", "MaxPool2d", "AvgPool2d",
    "GlobalAvgPool", "Flatten", "Unflatten", "Reshape", "Transpose", "Slice",
    "Linear", "MatMul", "Add", "Mul", "Sub", "Scale", "ConstMul",
    "ConstAdd", "ConstConcat",
    "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "Concat", "Activation",
    "ACTIVATIONS", "Softmax", "LayerNorm", "BatchMatMul", "Model",
    "emit", "pool_geometry", "adaptive_windows",
    "float_forward", "calibrate", "tensor_type", "dense_hex", "f64_literal",
]


def _pair(v):
    if np.ndim(v) == 0:
        return (int(v), int(v))
    a, b = v
    return (int(a), int(b))


def _out_size(size, pad, k, s, d):
    n = (size + 2 * pad - (d * (k - 1) + 1)) // s + 1
    if n < 1:
        raise ValueError("window larger than the padded input")
    return n


def _pool_out_size(size, pad, k, s, ceil_mode):
    """PyTorch's pooling output size: with ceil_mode a last, partial window
    counts if it starts inside the input or its left padding."""
    span = size + 2 * pad - k
    if span < 0:
        raise ValueError("window larger than the padded input")
    n = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (n - 1) * s >= size + pad:
        n -= 1
    return n


def pool_geometry(size, k, s, pad, ceil_mode, count_include_pad):
    """(output size, extra high padding, per-position divisors) along one
    axis, as PyTorch's avg_pool2d computes them: a window starts at
    o * s - pad; its divisor counts the cells up to size + pad (with
    count_include_pad) or the input cells only."""
    n = _pool_out_size(size, pad, k, s, ceil_mode)
    extra = max(0, (n - 1) * s + k - size - 2 * pad)
    divisors = []
    for o in range(n):
        start = o * s - pad
        end = min(start + k, size + pad)
        if not count_include_pad:
            start, end = max(start, 0), min(end, size)
        divisors.append(end - start)
    return n, extra, divisors


def adaptive_windows(size, out):
    """PyTorch's adaptive pooling windows along one axis: window i spans
    [floor(i * size / out), ceil((i + 1) * size / out))."""
    return [((i * size) // out, -(-((i + 1) * size) // out))
            for i in range(out)]


# ---------------------------------------------------------------------------
# Layers
# ---------------------------------------------------------------------------

class Layer:
    name = None
    inputs = None
    loc = None
    arity = 1

    def out_shape(self, shapes):
        raise NotImplementedError


class Conv2d(Layer):
    """w: [F, C/groups, KH, KW]; b: [F] or None. Symmetric padding."""

    def __init__(self, w, b=None, stride=1, padding=0, dilation=1, groups=1):
        self.w = np.asarray(w, np.float32)
        self.b = None if b is None else np.asarray(b, np.float32)
        self.stride = _pair(stride)
        self.padding = _pair(padding)
        self.dilation = _pair(dilation)
        self.groups = int(groups)

    def out_shape(self, shapes):
        n, c, h, w = shapes[0]
        f, cg, kh, kw = self.w.shape
        if cg * self.groups != c or f % self.groups:
            raise ValueError("conv channels do not match groups")
        return (n, f,
                _out_size(h, self.padding[0], kh, self.stride[0],
                          self.dilation[0]),
                _out_size(w, self.padding[1], kw, self.stride[1],
                          self.dilation[1]))


class DepthwiseConv2d(Conv2d):
    """w: [C, KH, KW] (channel multiplier 1); b: [C] or None."""

    def __init__(self, w, b=None, stride=1, padding=0, dilation=1):
        w = np.asarray(w, np.float32)
        super().__init__(w[:, None], b, stride, padding, dilation,
                         groups=w.shape[0])


class Relu(Layer):
    def out_shape(self, shapes):
        return shapes[0]


class Relu6(Relu):
    pass


class MaxPool2d(Layer):
    """Symmetric padding; with ceil_mode, PyTorch's output size (the extra
    bottom/right cells are padding)."""

    def __init__(self, k, stride=None, padding=0, ceil_mode=False):
        self.k = _pair(k)
        self.stride = self.k if stride is None else _pair(stride)
        self.padding = _pair(padding)
        self.ceil_mode = bool(ceil_mode)
        self.count_include_pad = True

    def geometry(self, hw):
        """Per axis: (output size, extra high padding, divisors)."""
        return [pool_geometry(hw[i], self.k[i], self.stride[i],
                              self.padding[i], self.ceil_mode,
                              self.count_include_pad) for i in range(2)]

    def pad4(self, hw):
        """[top, left, bottom, right] padding of an input of size hw."""
        (_, eh, _), (_, ew, _) = self.geometry(hw)
        ph, pw = self.padding
        return (ph, pw, ph + eh, pw + ew)

    def out_shape(self, shapes):
        n, c, h, w = shapes[0]
        (oh, _, _), (ow, _, _) = self.geometry((h, w))
        return (n, c, oh, ow)


class AvgPool2d(MaxPool2d):
    """Sum pooling over a zero-padded input divided by k*k, or, where
    windows count different cells (ceil_mode, count_include_pad=False), by
    PyTorch's per-position divisors."""

    def __init__(self, k, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__(k, stride, padding, ceil_mode)
        self.count_include_pad = bool(count_include_pad)

    def divisors(self, hw):
        """[oh, ow] divisors, or None when every window divides by k*k."""
        (_, _, dh), (_, _, dw) = self.geometry(hw)
        d = np.outer(dh, dw)
        return None if np.all(d == self.k[0] * self.k[1]) else d


class _Adaptive:
    """Adaptive pooling to `out` whose windows differ in size: each axis is
    gathered window by window (slices of the input, each filled up to the
    largest window, kernel k) into a tensor that a plain k-strided pool of
    kernel k reduces. Average pooling fills with zeros and divides by each
    window's size; max pooling repeats the window's first row or column."""

    def __init__(self, out):
        self.out = _pair(out)
        self.stride = self.padding = (0, 0)
        self.ceil_mode = False

    def windows(self, hw):
        return [adaptive_windows(hw[i], self.out[i]) for i in range(2)]

    def gathers(self, hw):
        """Per axis: whether its windows differ (else the pool's kernel and
        stride read them as they are)."""
        return [hw[i] % self.out[i] != 0 for i in range(2)]

    def kernel(self, hw):
        return tuple(max(e - s for s, e in w) for w in self.windows(hw))

    def geometry(self, hw):
        return [(self.out[i], 0, [e - s for s, e in w])
                for i, w in enumerate(self.windows(hw))]

    def pad4(self, hw):
        return (0, 0, 0, 0)

    def gather(self, x, fill):
        """The gathered NCHW array (fill: the value of filled cells, or None
        to repeat a window's first cell)."""
        hw = x.shape[2:]
        for axis, (wins, k) in enumerate(zip(self.windows(hw),
                                             self.kernel(hw))):
            if not self.gathers(hw)[axis]:
                continue
            parts = []
            for s, e in wins:
                idx = list(range(s, e))
                if fill is None:
                    idx += [s] * (k - (e - s))
                part = np.take(x, idx, axis=2 + axis)
                if fill is not None and e - s < k:
                    width = [(0, 0)] * 4
                    width[2 + axis] = (0, k - (e - s))
                    part = np.pad(part, width, constant_values=fill)
                parts.append(part)
            x = np.concatenate(parts, axis=2 + axis)
        return x

    def out_shape(self, shapes):
        n, c, h, w = shapes[0]
        if self.out[0] > h or self.out[1] > w:
            raise ValueError(f"adaptive output {list(self.out)} larger than "
                             f"the input's {h} x {w}")
        self.k = self.kernel((h, w))
        self.stride = self.k
        return (n, c) + self.out


class AdaptiveAvgPool2d(_Adaptive, AvgPool2d):
    def __init__(self, out):
        _Adaptive.__init__(self, out)
        self.count_include_pad = False


class AdaptiveMaxPool2d(_Adaptive, MaxPool2d):
    pass


class GlobalAvgPool(Layer):
    def out_shape(self, shapes):
        n, c, _, _ = shapes[0]
        return (n, c, 1, 1)


class Flatten(Layer):
    def out_shape(self, shapes):
        n, c, h, w = shapes[0]
        return (n, c * h * w)


class Unflatten(Layer):
    """[N, C*H*W] -> [N, C, H, W] (tensor.expand_shape)."""

    def __init__(self, c, h, w):
        self.chw = (int(c), int(h), int(w))

    def out_shape(self, shapes):
        n, k = shapes[0]
        c, h, w = self.chw
        if k != c * h * w:
            raise ValueError("unflatten size mismatch")
        return (n, c, h, w)


class Reshape(Layer):
    """Reshape of each sample to `shape` ([N, ...] -> [N, *shape], row-major
    order): tensor.collapse_shape or tensor.expand_shape where dims merge or
    split, else a collapse to one dimension and an expand."""

    def __init__(self, shape):
        self.shape = tuple(int(d) for d in shape)

    def out_shape(self, shapes):
        if int(np.prod(shapes[0][1:])) != int(np.prod(self.shape)):
            raise ValueError(f"cannot reshape {list(shapes[0])} to "
                             f"{[shapes[0][0]] + list(self.shape)}")
        return (shapes[0][0],) + self.shape


class Transpose(Layer):
    """Permutation of the dims (linalg.transpose): output dim i is input dim
    perm[i]."""

    def __init__(self, perm):
        self.perm = tuple(int(p) for p in perm)

    def out_shape(self, shapes):
        if sorted(self.perm) != list(range(len(shapes[0]))):
            raise ValueError(f"permutation {list(self.perm)} of a rank-"
                             f"{len(shapes[0])} tensor")
        return tuple(shapes[0][p] for p in self.perm)


class Slice(Layer):
    """x[..., start:start + step * size:step, ...] along `dim`
    (tensor.extract_slice)."""

    def __init__(self, dim, start, size, step=1):
        self.dim, self.start = int(dim), int(start)
        self.size, self.step = int(size), int(step)

    def out_shape(self, shapes):
        s = shapes[0]
        if not (0 <= self.dim < len(s)) or self.start < 0 or \
                self.size < 1 or self.step < 1 or \
                self.start + self.step * (self.size - 1) >= s[self.dim]:
            raise ValueError(f"slice [{self.start}:+{self.size}:"
                             f"{self.step}] of dim {self.dim} of "
                             f"{list(s)}")
        return s[:self.dim] + (self.size,) + s[self.dim + 1:]


class Linear(Layer):
    """w: [out, in]; b: [out] or None."""

    def __init__(self, w, b=None):
        self.w = np.asarray(w, np.float32)
        self.b = None if b is None else np.asarray(b, np.float32)

    def out_shape(self, shapes):
        if len(shapes[0]) < 2 or shapes[0][-1] != self.w.shape[1]:
            raise ValueError("linear input size mismatch")
        return tuple(shapes[0][:-1]) + (self.w.shape[0],)


class MatMul(Layer):
    """x @ w with a plain (not transposed) rhs: w: [in, out]; b: [out] or
    None."""

    def __init__(self, w, b=None):
        self.w = np.asarray(w, np.float32)
        self.b = None if b is None else np.asarray(b, np.float32)

    def out_shape(self, shapes):
        n, k = shapes[0]
        if k != self.w.shape[0]:
            raise ValueError("matmul input size mismatch")
        return (n, self.w.shape[1])


class BatchMatMul(Layer):
    """a @ b of two computed tensors (attention's Q K^T and A V): a [..., M,
    K], b [..., K, N] with the same leading dims (the batch among them),
    times the positive constant `scale` (1 / sqrt(d), folded into the
    int8 matmul's rescale)."""
    arity = 2

    def __init__(self, scale=1.0):
        self.scale = float(scale)
        if not self.scale > 0:
            raise ValueError(f"matmul scale {scale} must be positive")

    def out_shape(self, shapes):
        a, b = shapes
        if len(a) < 3 or len(a) != len(b) or a[:-2] != b[:-2] or \
                a[-1] != b[-2]:
            raise ValueError(f"cannot multiply shapes {list(a)} and "
                             f"{list(b)} (same leading dims, [.., M, K] @ "
                             f"[.., K, N])")
        return tuple(a[:-1]) + (b[-1],)


class Add(Layer):
    """Element-wise sum; operands broadcast (numpy rules), e.g. [N, C, 1, 1]
    over [N, C, H, W]."""
    arity = 2

    def out_shape(self, shapes):
        try:
            return tuple(np.broadcast_shapes(shapes[0], shapes[1]))
        except ValueError:
            raise ValueError(f"operands of shapes {list(shapes[0])} and "
                             f"{list(shapes[1])} do not broadcast") from None


class Mul(Add):
    """Element-wise product, broadcasting like Add."""


class Sub(Add):
    """Element-wise difference input0 - input1, broadcasting like Add."""


class Scale(Layer):
    """x * c (or x / c with divide=True) by a positive constant."""

    def __init__(self, c, divide=False):
        self.c = float(c)
        self.divide = bool(divide)
        if not self.c > 0:
            raise ValueError(f"scale constant {c} must be positive")

    def out_shape(self, shapes):
        return shapes[0]


class ConstMul(Layer):
    """x * c (or x / c with divide=True) by a constant tensor c that
    broadcasts against x without enlarging it (numpy rules), e.g. a [C, 1, 1]
    layer scale. Emitted as torch-mlir writes it: a generic reading c with
    its size-1 dimensions at index 0."""

    def __init__(self, c, divide=False):
        self.c = np.asarray(c, np.float32)
        self.divide = bool(divide)
        if self.c.ndim == 0:
            self.c = self.c.reshape(1)

    def out_shape(self, shapes):
        try:
            out = tuple(np.broadcast_shapes(shapes[0], self.c.shape))
        except ValueError:
            out = None
        if out != tuple(shapes[0]):
            raise ValueError(f"constant of shape {list(self.c.shape)} does "
                             f"not broadcast against {list(shapes[0])}")
        return out


class ConstAdd(Layer):
    """x + c by a constant tensor c that broadcasts against x without
    enlarging it (numpy rules), e.g. ViT's [1, T, D] position embedding.
    Emitted as torch-mlir writes it (a generic reading c with its size-1
    dimensions at index 0); quantized with c in its own parameters (spec
    3.2)."""

    def __init__(self, c):
        self.c = np.asarray(c, np.float32)
        if self.c.ndim == 0:
            self.c = self.c.reshape(1)

    out_shape = ConstMul.out_shape


class Concat(Layer):
    """Concatenation along channels (dim 1)."""
    arity = None

    def out_shape(self, shapes):
        s0 = shapes[0]
        for s in shapes[1:]:
            if s[:1] + s[2:] != s0[:1] + s0[2:]:
                raise ValueError("concat operands differ off dim 1")
        return (s0[0], sum(s[1] for s in shapes)) + tuple(s0[2:])


class ConstConcat(Concat):
    """Concatenation along dim 1 of the inputs and constants, in the order
    of `parts`: None for the next input, else a constant whose dim 0 (of
    size 1) broadcasts over the batch (ViT's class token, [1, 1, D], before
    the patches). Emitted as a linalg.broadcast of each constant and a
    tensor.concat; the constants are quantized into the result's
    parameters (spec 3.5)."""

    def __init__(self, parts):
        self.parts = [None if p is None else np.asarray(p, np.float32)
                      for p in parts]
        self.arity = sum(p is None for p in self.parts)
        if not self.arity:
            raise ValueError("a concatenation of constants only")
        for p in self.parts:
            if p is not None and (p.ndim < 2 or p.shape[0] != 1):
                raise ValueError(f"a concatenated constant has shape "
                                 f"{list(p.shape)}; it needs rank 2 or more "
                                 f"and a batch dimension of size 1")

    def operand_shapes(self, shapes):
        """The shapes of all parts in order, the constants' over the
        batch."""
        inputs = iter(shapes)
        n = shapes[0][0]
        return [tuple(next(inputs)) if p is None else (n,) + p.shape[1:]
                for p in self.parts]

    def out_shape(self, shapes):
        return super().out_shape(self.operand_shapes(shapes))


class Softmax(Layer):
    """Softmax over the last dimension; quantized integer-only into the
    fixed output parameters (scale 1/256, zero point -128; spec 3.10)."""

    def out_shape(self, shapes):
        if len(shapes[0]) < 1:
            raise ValueError("softmax needs a tensor of rank 1 or more")
        return shapes[0]


class LayerNorm(Layer):
    """Layer normalization over the last dimension (PyTorch's LayerNorm of
    one normalized dimension): gamma, beta: [C]; quantized integer-only
    (spec 3.11)."""

    def __init__(self, gamma, beta, eps=1e-5):
        self.gamma = np.asarray(gamma, np.float32).reshape(-1)
        self.beta = np.asarray(beta, np.float32).reshape(-1)
        self.eps = float(eps)
        if self.gamma.shape != self.beta.shape:
            raise ValueError("layer norm gamma and beta differ in size")
        if not self.eps >= 0:
            raise ValueError(f"layer norm eps {eps} must be >= 0")

    def out_shape(self, shapes):
        if len(shapes[0]) < 1 or shapes[0][-1] != self.gamma.size:
            raise ValueError(f"layer norm of {self.gamma.size} channels on "
                             f"shape {list(shapes[0])}")
        return shapes[0]


def _f32(v):
    """A constant as the emitted model holds it: rounded to f32."""
    return float(np.float32(v))


def _sigmoid(x):
    return 1.0 / (np.exp(-x) + 1.0)


def _softplus(x, beta, threshold):
    bx = x * _f32(beta)
    return np.where(bx > _f32(threshold), x, np.log1p(np.exp(bx)) / _f32(beta))


_erf = np.vectorize(math.erf, otypes=[np.float64])

# name -> (default parameters, float64 function, body lines). Each function
# computes what the emitted body computes, op by op in the same order, with
# the same (f32-rounded) constants; `c(v)` in a body makes a scalar constant.
ACTIVATIONS = {
    "sigmoid": ({}, lambda x: _sigmoid(x), lambda c: [
        "%n = arith.negf %in0 : f32",
        "%e = math.exp %n : f32",
        f"%d = arith.addf %e, {c(1.0)} : f32",
        f"%r = arith.divf {c(1.0)}, %d : f32"]),
    "tanh": ({}, np.tanh, lambda c: ["%r = math.tanh %in0 : f32"]),
    "exp": ({}, np.exp, lambda c: ["%r = math.exp %in0 : f32"]),
    "hardswish": ({}, lambda x: x * np.minimum(np.maximum(
        x + 3.0, 0.0), 6.0) / 6.0, lambda c: [
        f"%a = arith.addf %in0, {c(3.0)} : f32",
        f"%b = arith.maximumf %a, {c(0.0)} : f32",
        f"%m = arith.minimumf %b, {c(6.0)} : f32",
        "%p = arith.mulf %in0, %m : f32",
        f"%r = arith.divf %p, {c(6.0)} : f32"]),
    "hardsigmoid": ({}, lambda x: np.minimum(np.maximum(
        x + 3.0, 0.0), 6.0) / 6.0, lambda c: [
        f"%a = arith.addf %in0, {c(3.0)} : f32",
        f"%b = arith.maximumf %a, {c(0.0)} : f32",
        f"%m = arith.minimumf %b, {c(6.0)} : f32",
        f"%r = arith.divf %m, {c(6.0)} : f32"]),
    "silu": ({}, lambda x: x * _sigmoid(x), lambda c: [
        "%n = arith.negf %in0 : f32",
        "%e = math.exp %n : f32",
        f"%d = arith.addf %e, {c(1.0)} : f32",
        f"%s = arith.divf {c(1.0)}, %d : f32",
        "%r = arith.mulf %in0, %s : f32"]),
    "gelu": ({}, lambda x: x * ((_erf(x * _f32(math.sqrt(0.5))) + 1.0) *
                                0.5), lambda c: [
        f"%a = arith.mulf %in0, {c(math.sqrt(0.5))} : f32",
        "%b = math.erf %a : f32",
        f"%d = arith.addf %b, {c(1.0)} : f32",
        f"%h = arith.mulf %d, {c(0.5)} : f32",
        "%r = arith.mulf %in0, %h : f32"]),
    "gelu_tanh": ({}, lambda x: x * ((np.tanh(
        (x + x * x * x * _f32(0.044715)) * _f32(math.sqrt(2.0 / math.pi))) +
        1.0) * 0.5), lambda c: [
        "%x2 = arith.mulf %in0, %in0 : f32",
        "%x3 = arith.mulf %x2, %in0 : f32",
        f"%a = arith.mulf %x3, {c(0.044715)} : f32",
        "%b = arith.addf %in0, %a : f32",
        f"%k = arith.mulf %b, {c(math.sqrt(2.0 / math.pi))} : f32",
        "%t = math.tanh %k : f32",
        f"%d = arith.addf %t, {c(1.0)} : f32",
        f"%h = arith.mulf %d, {c(0.5)} : f32",
        "%r = arith.mulf %in0, %h : f32"]),
    "elu": ({"alpha": 1.0}, lambda x, alpha: np.where(
        x > 0.0, x, (np.exp(x) - 1.0) * _f32(alpha)), lambda c, alpha: [
        "%e = math.exp %in0 : f32",
        f"%m = arith.subf %e, {c(1.0)} : f32",
        f"%n = arith.mulf %m, {c(alpha)} : f32",
        f"%p = arith.cmpf ogt, %in0, {c(0.0)} : f32",
        "%r = arith.select %p, %in0, %n : f32"]),
    "leaky_relu": ({"negative_slope": 0.01}, lambda x, negative_slope:
                   np.where(x > 0.0, x, x * _f32(negative_slope)),
                   lambda c, negative_slope: [
        f"%n = arith.mulf %in0, {c(negative_slope)} : f32",
        f"%p = arith.cmpf ogt, %in0, {c(0.0)} : f32",
        "%r = arith.select %p, %in0, %n : f32"]),
    "softplus": ({"beta": 1.0, "threshold": 20.0}, _softplus,
                 lambda c, beta, threshold: [
        f"%bx = arith.mulf %in0, {c(beta)} : f32",
        "%e = math.exp %bx : f32",
        "%l = math.log1p %e : f32",
        f"%d = arith.divf %l, {c(beta)} : f32",
        f"%p = arith.cmpf ogt, %bx, {c(threshold)} : f32",
        "%r = arith.select %p, %in0, %d : f32"]),
    "mish": ({}, lambda x: x * np.tanh(_softplus(x, 1.0, 20.0)), lambda c: [
        f"%bx = arith.mulf %in0, {c(1.0)} : f32",
        "%e = math.exp %bx : f32",
        "%l = math.log1p %e : f32",
        f"%d = arith.divf %l, {c(1.0)} : f32",
        f"%p = arith.cmpf ogt, %bx, {c(20.0)} : f32",
        "%s = arith.select %p, %in0, %d : f32",
        "%t = math.tanh %s : f32",
        "%r = arith.mulf %in0, %t : f32"]),
}


class Activation(Layer):
    """An element-wise nonlinearity named in ACTIVATIONS, with its
    parameters (ELU's alpha, LeakyReLU's negative_slope, Softplus's beta and
    threshold); quantized as a lookup table."""

    def __init__(self, kind, **params):
        if kind not in ACTIVATIONS:
            raise ValueError(f"unknown activation {kind!r}")
        defaults = ACTIVATIONS[kind][0]
        unknown = set(params) - set(defaults)
        if unknown:
            raise ValueError(f"{kind} takes no parameter "
                             f"{', '.join(sorted(unknown))}")
        self.kind = kind
        self.params = {**defaults, **{k: float(v) for k, v in params.items()}}

    def out_shape(self, shapes):
        return shapes[0]

    def function(self, x):
        """The float function in float64 (on a float64 array)."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return np.asarray(ACTIVATIONS[self.kind][1](
                np.asarray(x, np.float64), **self.params), np.float64)

    def body(self, constant):
        """The generic's body lines, the result in %r; `constant(v)` returns
        the SSA name of an f32 constant."""
        return ACTIVATIONS[self.kind][2](constant, **self.params)


# ---------------------------------------------------------------------------
# Model graph
# ---------------------------------------------------------------------------

class Model:
    def __init__(self, input_shape, layers=()):
        self.input_shape = tuple(int(d) for d in input_shape)
        self.layers = []
        self.shapes = {"x": self.input_shape}
        for layer in layers:
            self.add(layer)

    def add(self, layer, inputs=None, name=None, loc=None):
        """Appends layer reading `inputs` (value names; default: the last
        value); returns the layer's output name. `loc` names the layer's
        ops in the MLIR (default: the value name)."""
        if name is None:
            name = f"l{len(self.layers)}"
        if name in self.shapes:
            raise ValueError(f"duplicate value name {name!r}")
        if inputs is None:
            inputs = [self.output]
        elif isinstance(inputs, str):
            inputs = [inputs]
        inputs = list(inputs)
        for i in inputs:
            if i not in self.shapes:
                raise ValueError(f"unknown value {i!r}")
        if layer.arity is not None and len(inputs) != layer.arity:
            raise ValueError(f"{type(layer).__name__} takes {layer.arity} "
                             f"inputs")
        layer.name, layer.inputs = name, inputs
        layer.loc = name if loc is None else str(loc)
        self.shapes[name] = tuple(layer.out_shape([self.shapes[i]
                                                   for i in inputs]))
        self.layers.append(layer)
        return name

    def with_batch(self, n):
        """The same graph (sharing the layer objects) for batch size n."""
        m = Model((int(n),) + self.input_shape[1:])
        for layer in self.layers:
            m.add(layer, inputs=layer.inputs, name=layer.name, loc=layer.loc)
        return m

    @property
    def output(self):
        return self.layers[-1].name if self.layers else "x"

    def users(self, value):
        """Layers reading `value` (once per layer)."""
        return [l for l in self.layers if value in l.inputs]

    def producer(self, value):
        for l in self.layers:
            if l.name == value:
                return l
        return None


# ---------------------------------------------------------------------------
# Float forward pass (float64 per layer from f32 inputs, rounded to f32)
# ---------------------------------------------------------------------------

def _pad(x, ph, pw, value):
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)),
                  constant_values=value)


def _pad4(x, pad, value):
    """NCHW padding [top, left, bottom, right] of the spatial dims."""
    t, l, b, r = pad
    return np.pad(x, ((0, 0), (0, 0), (t, b), (l, r)), constant_values=value)


def _windows(x, k, s, d, out_hw):
    """Yields (i, j, window slice of x) for every kernel tap."""
    for i in range(k[0]):
        for j in range(k[1]):
            yield i, j, x[:, :,
                          i * d[0]:i * d[0] + s[0] * (out_hw[0] - 1) + 1:s[0],
                          j * d[1]:j * d[1] + s[1] * (out_hw[1] - 1) + 1:s[1]]


def _conv_float(x, layer, oshape):
    xp = _pad(x.astype(np.float64), *layer.padding, 0.0)
    w = layer.w.astype(np.float64)
    f, cg, kh, kw = w.shape
    g = layer.groups
    fg = f // g
    out = np.zeros(oshape, np.float64)
    for gi in range(g):
        xg = xp[:, gi * cg:(gi + 1) * cg]
        wg = w[gi * fg:(gi + 1) * fg]
        for i, j, win in _windows(xg, (kh, kw), layer.stride, layer.dilation,
                                  oshape[2:]):
            out[:, gi * fg:(gi + 1) * fg] += np.einsum("nchw,fc->nfhw", win,
                                                       wg[:, :, i, j])
    if layer.b is not None:
        out += layer.b.astype(np.float64).reshape(1, -1, 1, 1)
    return out


def _layer_float(layer, args, oshape):
    a = [np.asarray(t, np.float32).astype(np.float64) for t in args]
    if isinstance(layer, Conv2d):
        return _conv_float(a[0], layer, oshape)
    if isinstance(layer, Relu6):
        return np.minimum(np.maximum(a[0], 0.0), 6.0)
    if isinstance(layer, Relu):
        return np.maximum(a[0], 0.0)
    if isinstance(layer, _Adaptive):
        is_max = isinstance(layer, AdaptiveMaxPool2d)
        x = layer.gather(a[0], None if is_max else 0.0)
        out = np.full(oshape, -np.inf) if is_max else np.zeros(oshape)
        for _, _, win in _windows(x, layer.k, layer.k, (1, 1), oshape[2:]):
            out = np.maximum(out, win) if is_max else out + win
        if is_max:
            return out
        d = np.outer(*[g[2] for g in layer.geometry(a[0].shape[2:])])
        return (out.astype(np.float32) / d.astype(np.float32)).astype(
            np.float64)
    if isinstance(layer, AvgPool2d):
        hw = a[0].shape[2:]
        xp = _pad4(a[0], layer.pad4(hw), 0.0)
        out = np.zeros(oshape, np.float64)
        for _, _, win in _windows(xp, layer.k, layer.stride, (1, 1),
                                  oshape[2:]):
            out += win
        # The emitted model divides the f32 sum by k*k (or the position's
        # divisor) in f32.
        d = layer.divisors(hw)
        d = np.float32(layer.k[0] * layer.k[1]) if d is None else \
            d.astype(np.float32)
        return (out.astype(np.float32) / d).astype(np.float64)
    if isinstance(layer, MaxPool2d):
        xp = _pad4(a[0], layer.pad4(a[0].shape[2:]), -np.inf)
        out = np.full(oshape, -np.inf)
        for _, _, win in _windows(xp, layer.k, layer.stride, (1, 1),
                                  oshape[2:]):
            out = np.maximum(out, win)
        return out
    if isinstance(layer, GlobalAvgPool):
        h, w = a[0].shape[2:]
        s = a[0].sum(axis=(2, 3), keepdims=True).astype(np.float32)
        return (s / np.float32(h * w)).astype(np.float64)
    if isinstance(layer, (Flatten, Unflatten, Reshape)):
        return a[0].reshape(oshape)
    if isinstance(layer, Transpose):
        return a[0].transpose(layer.perm)
    if isinstance(layer, Slice):
        return a[0][_slice_index(layer, a[0].ndim)]
    if isinstance(layer, BatchMatMul):
        out = np.matmul(a[0], a[1]).astype(np.float32)
        c = np.float32(layer.scale)
        return (out if c == 1 else out * c).astype(np.float64)
    if isinstance(layer, (Linear, MatMul)):
        w = layer.w.astype(np.float64)
        out = a[0] @ (w.T if isinstance(layer, Linear) else w)
        if layer.b is not None:
            out = out + layer.b.astype(np.float64)
        return out
    if isinstance(layer, Mul):
        return a[0] * a[1]
    if isinstance(layer, Sub):
        return a[0] - a[1]
    if isinstance(layer, Add):
        return a[0] + a[1]
    if isinstance(layer, Scale):
        c = np.float32(layer.c)
        x = a[0].astype(np.float32)
        return (x / c if layer.divide else x * c).astype(np.float64)
    if isinstance(layer, ConstMul):
        x = a[0].astype(np.float32)
        return (x / layer.c if layer.divide else x * layer.c).astype(
            np.float64)
    if isinstance(layer, ConstConcat):
        inputs = iter(a)
        return np.concatenate(
            [next(inputs) if p is None else np.broadcast_to(
                p.astype(np.float64), (a[0].shape[0],) + p.shape[1:])
             for p in layer.parts], axis=1)
    if isinstance(layer, ConstAdd):
        return a[0] + layer.c.astype(np.float64)
    if isinstance(layer, Concat):
        return np.concatenate(a, axis=1)
    if isinstance(layer, Activation):
        return layer.function(a[0])
    if isinstance(layer, Softmax):
        e = np.exp(a[0] - a[0].max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    if isinstance(layer, LayerNorm):
        c = a[0] - a[0].mean(axis=-1, keepdims=True)
        var = (c * c).mean(axis=-1, keepdims=True)
        return c / np.sqrt(var + np.float32(layer.eps)) * \
            layer.gamma.astype(np.float64) + layer.beta.astype(np.float64)
    raise TypeError(f"unknown layer {type(layer).__name__}")


def _slice_index(layer, rank):
    """The numpy index of a Slice layer."""
    index = [slice(None)] * rank
    index[layer.dim] = slice(layer.start,
                             layer.start + layer.step * (layer.size - 1) + 1,
                             layer.step)
    return tuple(index)


def float_forward(model, x):
    """All values of the float model for input x: dict name -> f32 array
    ("x" is the input)."""
    x = np.asarray(x, np.float32)
    if x.shape != model.input_shape:
        raise ValueError(f"input shape {x.shape} != {model.input_shape}")
    vals = {"x": x}
    for layer in model.layers:
        out = _layer_float(layer, [vals[i] for i in layer.inputs],
                           model.shapes[layer.name])
        vals[layer.name] = np.asarray(out).astype(np.float32)
    return vals


def calibrate(model, samples):
    """Per value (min, max) over the samples (each of the model's input
    shape): dict name -> (float, float)."""
    stats = {}
    for x in samples:
        for name, v in float_forward(model, x).items():
            lo, hi = float(v.min()), float(v.max())
            if name in stats:
                lo = min(lo, stats[name][0])
                hi = max(hi, stats[name][1])
            stats[name] = (lo, hi)
    return stats


# ---------------------------------------------------------------------------
# MLIR emission
# ---------------------------------------------------------------------------

def tensor_type(shape, elt="f32"):
    return "tensor<" + "".join(f"{d}x" for d in shape) + elt + ">"


def dense_hex(a, dtype=np.float32):
    """dense<"0x..."> of the little-endian raw bytes of a."""
    le = np.dtype(dtype).newbyteorder("<")
    a = np.ascontiguousarray(np.asarray(a, dtype=le))
    if a.size == 1:
        # A single element hex string would also be read as a splat; spell it.
        return f"dense<{f64_literal(float(a.ravel()[0]))}>" \
            if a.dtype.kind == "f" else f"dense<{int(a.ravel()[0])}>"
    return 'dense<"0x' + a.tobytes().hex().upper() + '">'


def f64_literal(v):
    """An MLIR float literal that parses back to exactly the double v."""
    v = float(v)
    if not np.isfinite(v):
        raise ValueError(f"non-finite value {v}")
    s = repr(v)
    if "e" in s or "E" in s:
        mant, exp = s.lower().split("e")
        if "." not in mant:
            mant += ".0"
        s = f"{mant}e{exp}"
    elif "." not in s:
        s += ".0"
    return s


_ID4 = "affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>"
_CH4 = "affine_map<(d0, d1, d2, d3) -> (d1)>"
_ID2 = "affine_map<(d0, d1) -> (d0, d1)>"
_CH2 = "affine_map<(d0, d1) -> (d1)>"


def _reassociation(big, small):
    """Groups of consecutive dims of shape `big` whose sizes multiply to the
    dims of shape `small` (a tensor.collapse_shape of big into small), or
    None."""
    groups, i = [], 0
    for d in small:
        group, size = [], 1
        while i < len(big) and (not group or size < d):
            size *= big[i]
            group.append(i)
            i += 1
        if not group or size != d:
            return None
        groups.append(group)
    if not groups or any(big[j] != 1 for j in range(i, len(big))):
        return None
    groups[-1] += range(i, len(big))
    return groups
def _identity_map(rank):
    dims = ", ".join(f"d{i}" for i in range(rank))
    return f"affine_map<({dims}) -> ({dims})>"


def _broadcast_map(shape, oshape):
    """torch-mlir's read of a broadcast operand: its leading missing dims
    dropped, size-1 dims that broadcast read at 0."""
    rank = len(oshape)
    lead = rank - len(shape)
    exprs = ["0" if size == 1 and oshape[lead + i] != 1 else f"d{lead + i}"
             for i, size in enumerate(shape)]
    dims = ", ".join(f"d{i}" for i in range(rank))
    return f"affine_map<({dims}) -> ({', '.join(exprs)})>"


def _loc_literal(name):
    esc = str(name).replace("\\", "\\\\").replace('"', '\\"')
    return f'loc("{esc}")'


class _Emitter:
    def __init__(self, model, stats, weights="dense"):
        if weights not in ("dense", "resource"):
            raise ValueError(f"weights must be 'dense' or 'resource', not "
                             f"{weights!r}")
        self.model, self.stats = model, stats
        self.weights = weights
        self.resources = []
        self.lines = []
        self.counter = 0
        self.env = {}
        self.loc = None

    def tmp(self, hint="t"):
        self.counter += 1
        return f"%{hint}{self.counter}"

    def op(self, text, end=True):
        """One line; `end` marks a line that ends an op (it gets the
        current layer's location)."""
        if end and self.loc is not None:
            text += " " + self.loc
        self.lines.append("    " + text)

    def const(self, a, shape=None):
        a = np.asarray(a, np.float32)
        shape = a.shape if shape is None else shape
        v = self.tmp("cst")
        if self.weights == "resource" and a.size > 1:
            key = f"w{len(self.resources)}"
            le = np.ascontiguousarray(a, np.dtype("<f4"))
            # A blob's hex starts with its alignment as a little-endian u32.
            self.resources.append(
                (key, "0x04000000" + le.tobytes().hex().upper()))
            self.op(f"{v} = arith.constant dense_resource<{key}> : "
                    f"{tensor_type(shape)}")
        else:
            self.op(f"{v} = arith.constant {dense_hex(a)} : "
                    f"{tensor_type(shape)}")
        return v

    def scalar(self, value):
        v = self.tmp("c")
        self.op(f"{v} = arith.constant {f64_literal(value)} : f32")
        return v

    def neg_inf(self):
        v = self.tmp("ninf")
        self.op(f"{v} = arith.constant 0xFF800000 : f32")
        return v

    def empty(self, shape):
        v = self.tmp("e")
        self.op(f"{v} = tensor.empty() : {tensor_type(shape)}")
        return v

    def fill(self, scalar, shape):
        e = self.empty(shape)
        v = self.tmp("fill")
        t = tensor_type(shape)
        self.op(f"{v} = linalg.fill ins({scalar} : f32) outs({e} : {t}) "
                f"-> {t}")
        return v

    def pad(self, x, shape, ph, pw, value, high=None):
        """NCHW zero/-inf padding of the spatial dims (high: bottom and
        right, default ph, pw); returns (v, shape)."""
        bh, bw = (ph, pw) if high is None else high
        return self.pad_dims(x, shape, [0, 0, ph, pw], [0, 0, bh, bw], value)

    def pad_dims(self, x, shape, low, high, value):
        """tensor.pad of a 4-D tensor by low / high cells per dimension;
        returns (v, shape)."""
        if not any(low) and not any(high):
            return x, shape
        out = tuple(d + lo + hi for d, lo, hi in zip(shape, low, high))
        v = self.tmp("pad")
        self.op(f"{v} = tensor.pad {x} low{list(low)} high{list(high)} {{",
                end=False)
        self.op("^bb0(%i0: index, %i1: index, %i2: index, %i3: index):",
                end=False)
        self.op(f"  tensor.yield {value} : f32")
        self.op(f"}} : {tensor_type(shape)} to {tensor_type(out)}")
        return v, out

    def generic(self, ins, maps, out_shape, body, iters=None, init=None):
        """ins: list of (value, type); body: lines using %in0.., %out;
        init: the output's initial value (default: tensor.empty)."""
        rank = len(iters) if iters else len(out_shape)
        e = self.empty(out_shape) if init is None else init
        t = tensor_type(out_shape)
        iters = ", ".join('"%s"' % i for i in (iters or ["parallel"] * rank))
        v = self.tmp("g")
        ins_s = ", ".join(x for x, _ in ins)
        ins_t = ", ".join(ty for _, ty in ins)
        args = ", ".join(f"%in{i}: f32" for i in range(len(ins)))
        self.op(f"{v} = linalg.generic {{indexing_maps = [{', '.join(maps)}], "
                f"iterator_types = [{iters}]}} "
                f"ins({ins_s} : {ins_t}) outs({e} : {t}) {{", end=False)
        self.op(f"^bb0({args}, %out: f32):", end=False)
        for line in body:
            self.op("  " + line)
        self.op(f"}} -> {t}")
        return v

    def annotate(self, name, v, shape=None):
        """Records v as value `name` (of `shape`, default the value's),
        behind a myquant.stats with its statistics when there are any."""
        # Values inside a layer have none (calibrate.Stats.inside).
        if self.stats is not None and \
                name not in getattr(self.stats, "inside", ()):
            if name not in self.stats:
                raise KeyError(f"no stats for value {name!r}")
            lo, hi = self.stats[name]
            s = self.tmp("s")
            shape = self.model.shapes[name] if shape is None else shape
            self.op(f"{s} = myquant.stats {v} {{min = array<f64: "
                    f"{f64_literal(lo)}>, max = array<f64: "
                    f"{f64_literal(hi)}>}}"
                    f" : {tensor_type(shape)}")
            v = s
            # Per-channel ranges along the last dimension (calibrate.Stats).
            channels = getattr(self.stats, "channels", {}).get(name)
            if channels is not None:
                s = self.tmp("s")
                lows, highs = (", ".join(f64_literal(x) for x in c)
                               for c in channels)
                self.op(f"{s} = myquant.stats {v} {{axis = "
                        f"{len(shape) - 1} : i64, min = array<f64: {lows}>,"
                        f" max = array<f64: {highs}>}}"
                        f" : {tensor_type(shape)}")
                v = s
        self.env[name] = v
        return v

    def reshaped_result(self, layer, v, shape, oshape):
        """The result v of `layer` computed in `shape`, reshaped to oshape:
        its statistics go on v too, the value the dry run quantizes."""
        if tuple(shape) != tuple(oshape):
            v = self.annotate(layer.name, v, shape)
        return self.reshape(v, shape, oshape)

    # -- layers ------------------------------------------------------------

    def conv_init(self, layer, oshape):
        if layer.b is None:
            return self.fill(self.scalar(0.0), oshape)
        b = self.const(layer.b)
        return self.generic([(b, tensor_type(layer.b.shape))], [_CH4, _ID4],
                            oshape, ["linalg.yield %in0 : f32"])

    def conv(self, layer, x, ishape, oshape):
        xp, pshape = self.pad(x, ishape, *layer.padding, self.scalar(0.0))
        f, cg, kh, kw = layer.w.shape
        g = layer.groups
        attrs = (f"{{dilations = dense<[{layer.dilation[0]}, "
                 f"{layer.dilation[1]}]> : vector<2xi64>, strides = "
                 f"dense<[{layer.stride[0]}, {layer.stride[1]}]> : "
                 f"vector<2xi64>}}")
        init = self.conv_init(layer, oshape)
        v = self.tmp("conv")
        if g == 1:
            w = self.const(layer.w)
            self.op(f"{v} = linalg.conv_2d_nchw_fchw {attrs} "
                    f"ins({xp}, {w} : {tensor_type(pshape)}, "
                    f"{tensor_type(layer.w.shape)}) outs({init} : "
                    f"{tensor_type(oshape)}) -> {tensor_type(oshape)}")
            return v
        if cg == 1 and f == g:
            wshape = (f, kh, kw)
            w = self.const(layer.w.reshape(wshape))
            self.op(f"{v} = linalg.depthwise_conv_2d_nchw_chw {attrs} "
                    f"ins({xp}, {w} : {tensor_type(pshape)}, "
                    f"{tensor_type(wshape)}) outs({init} : "
                    f"{tensor_type(oshape)}) -> {tensor_type(oshape)}")
            return v
        # Grouped convolution, as torch-mlir lowers it: split the channel
        # dimensions into (group, channel in group).
        n = pshape[0]
        gin = (n, g, pshape[1] // g) + tuple(pshape[2:])
        gw = (g, f // g, cg, kh, kw)
        gout = (n, g, f // g) + tuple(oshape[2:])
        w = self.const(layer.w)
        xe, we, ie = self.tmp("xg"), self.tmp("wg"), self.tmp("ig")
        self.op(f"{xe} = tensor.expand_shape {xp} [[0], [1, 2], [3], [4]] "
                f"output_shape {list(gin)} : {tensor_type(pshape)} into "
                f"{tensor_type(gin)}")
        self.op(f"{we} = tensor.expand_shape {w} [[0, 1], [2], [3], [4]] "
                f"output_shape {list(gw)} : {tensor_type(layer.w.shape)} "
                f"into {tensor_type(gw)}")
        self.op(f"{ie} = tensor.expand_shape {init} [[0], [1, 2], [3], [4]] "
                f"output_shape {list(gout)} : {tensor_type(oshape)} into "
                f"{tensor_type(gout)}")
        c = self.tmp("convg")
        self.op(f"{c} = linalg.conv_2d_ngchw_gfchw {attrs} "
                f"ins({xe}, {we} : {tensor_type(gin)}, {tensor_type(gw)}) "
                f"outs({ie} : {tensor_type(gout)}) -> {tensor_type(gout)}")
        self.op(f"{v} = tensor.collapse_shape {c} [[0], [1, 2], [3], [4]] : "
                f"{tensor_type(gout)} into {tensor_type(oshape)}")
        return v

    def pool(self, layer, x, ishape, oshape, is_max, kernel=None,
             stride=None, padding=(0, 0, 0, 0), divisors=None):
        kernel = kernel or layer.k
        stride = stride or layer.stride
        if is_max:
            pv = self.neg_inf()
        else:
            pv = self.scalar(0.0)
        xp, pshape = self.pad(x, ishape, padding[0], padding[1], pv,
                              high=padding[2:])
        init = self.fill(pv, oshape)
        win = self.empty(kernel)
        v = self.tmp("pool")
        kind = "max" if is_max else "sum"
        self.op(f"{v} = linalg.pooling_nchw_{kind} {{dilations = dense<1> : "
                f"vector<2xi64>, strides = dense<[{stride[0]}, {stride[1]}]> "
                f": vector<2xi64>}} ins({xp}, {win} : {tensor_type(pshape)}, "
                f"{tensor_type(kernel)}) outs({init} : {tensor_type(oshape)}) "
                f"-> {tensor_type(oshape)}")
        if is_max:
            return v
        if divisors is not None:
            d = self.const(divisors)
            return self.generic(
                [(v, tensor_type(oshape)), (d, tensor_type(divisors.shape))],
                [_ID4, "affine_map<(d0, d1, d2, d3) -> (d2, d3)>", _ID4],
                oshape, ["%q = arith.divf %in0, %in1 : f32",
                         "linalg.yield %q : f32"])
        k = self.scalar(float(kernel[0] * kernel[1]))
        return self.generic([(v, tensor_type(oshape))], [_ID4, _ID4], oshape,
                            [f"%q = arith.divf %in0, {k} : f32",
                             "linalg.yield %q : f32"])

    def reshape(self, x, ishape, oshape):
        """tensor.collapse_shape / expand_shape of x to oshape, through one
        dimension when no single one does."""
        if tuple(ishape) == tuple(oshape):
            return x
        groups = _reassociation(ishape, oshape)
        if groups is not None:
            v = self.tmp("collapse")
            self.op(f"{v} = tensor.collapse_shape {x} {groups} : "
                    f"{tensor_type(ishape)} into {tensor_type(oshape)}")
            return v
        groups = _reassociation(oshape, ishape)
        if groups is None:
            flat = (int(np.prod(ishape)),)
            return self.reshape(self.reshape(x, ishape, flat), flat, oshape)
        v = self.tmp("expand")
        self.op(f"{v} = tensor.expand_shape {x} {groups} output_shape "
                f"{list(oshape)} : {tensor_type(ishape)} into "
                f"{tensor_type(oshape)}")
        return v
    def adaptive(self, layer, x, ishape, oshape):
        """Gathers the windows axis by axis (tensor.extract_slice, zero
        tensor.pad for average pooling, repeated first slices for max
        pooling, tensor.concat), then pools with kernel = stride = k."""
        is_max = isinstance(layer, AdaptiveMaxPool2d)
        zero = None if is_max else self.scalar(0.0)
        shape = tuple(ishape)
        for axis, (wins, k) in enumerate(zip(layer.windows(ishape[2:]),
                                             layer.k)):
            if not layer.gathers(ishape[2:])[axis]:
                continue
            d = 2 + axis
            parts = []
            for s, e in wins:
                pieces = [(s, e - s)] + ([(s, 1)] * (k - (e - s))
                                         if is_max else [])
                for start, size in pieces:
                    pshape = list(shape)
                    pshape[d] = size
                    offs = [0, 0, 0, 0]
                    offs[d] = start
                    v = self.tmp("win")
                    self.op(f"{v} = tensor.extract_slice {x}{offs} "
                            f"{pshape} [1, 1, 1, 1] : {tensor_type(shape)} "
                            f"to {tensor_type(pshape)}")
                    parts.append((v, tuple(pshape)))
                if not is_max and e - s < k:
                    v, vshape = parts.pop()
                    high = [0, 0, 0, 0]
                    high[d] = k - (e - s)
                    parts.append(self.pad_dims(v, vshape, [0, 0, 0, 0], high,
                                               zero))
            shape = list(shape)
            shape[d] = k * len(wins)
            shape = tuple(shape)
            v = self.tmp("gather")
            self.op(f"{v} = tensor.concat dim({d}) "
                    f"{', '.join(p for p, _ in parts)} : "
                    f"({', '.join(tensor_type(t) for _, t in parts)}) -> "
                    f"{tensor_type(shape)}")
            x = v
        divisors = None if is_max else layer.divisors(ishape[2:])
        return self.pool(layer, x, shape, oshape, is_max, kernel=layer.k,
                         stride=layer.k, divisors=divisors)

    def layer(self, layer):
        m = self.model
        args = [self.env[i] for i in layer.inputs]
        ishapes = [m.shapes[i] for i in layer.inputs]
        oshape = m.shapes[layer.name]
        x, ishape = args[0], ishapes[0]
        rank = len(oshape)
        idm = _identity_map(rank)
        if isinstance(layer, Conv2d):
            return self.conv(layer, x, ishape, oshape)
        if isinstance(layer, Relu):
            zero = self.scalar(0.0)
            body = [f"%r = arith.maximumf %in0, {zero} : f32"]
            if isinstance(layer, Relu6):
                six = self.scalar(6.0)
                body += [f"%r6 = arith.minimumf %r, {six} : f32",
                         "linalg.yield %r6 : f32"]
            else:
                body += ["linalg.yield %r : f32"]
            return self.generic([(x, tensor_type(ishape))], [idm, idm],
                                oshape, body)
        if isinstance(layer, _Adaptive):
            return self.adaptive(layer, x, ishape, oshape)
        if isinstance(layer, AvgPool2d):
            return self.pool(layer, x, ishape, oshape, False,
                             padding=layer.pad4(ishape[2:]),
                             divisors=layer.divisors(ishape[2:]))
        if isinstance(layer, MaxPool2d):
            return self.pool(layer, x, ishape, oshape, True,
                             padding=layer.pad4(ishape[2:]))
        if isinstance(layer, GlobalAvgPool):
            return self.pool(layer, x, ishape, oshape, False,
                             kernel=tuple(ishape[2:]), stride=(1, 1))
        if isinstance(layer, (Flatten, Unflatten, Reshape)):
            return self.reshape(x, ishape, oshape)
        if isinstance(layer, Transpose):
            e = self.empty(oshape)
            v = self.tmp("tr")
            self.op(f"{v} = linalg.transpose ins({x} : {tensor_type(ishape)}) "
                    f"outs({e} : {tensor_type(oshape)}) permutation = "
                    f"{list(layer.perm)}")
            return v
        if isinstance(layer, Slice):
            v = self.tmp("slice")
            offsets = [0] * rank
            strides = [1] * rank
            offsets[layer.dim], strides[layer.dim] = layer.start, layer.step
            self.op(f"{v} = tensor.extract_slice {x}{offsets} {list(oshape)} "
                    f"{strides} : {tensor_type(ishape)} to "
                    f"{tensor_type(oshape)}")
            return v
        if isinstance(layer, BatchMatMul):
            return self.batch_matmul(layer, args, ishapes, oshape)
        if isinstance(layer, (Linear, MatMul)):
            # [..., K] as [rows, K] through the 2-D form, then back.
            rows = int(np.prod(ishape[:-1]))
            y = self.linear(layer, self.reshape(x, ishape, (rows, ishape[-1])),
                            (rows, ishape[-1]), (rows, oshape[-1]))
            return self.reshaped_result(layer, y, (rows, oshape[-1]), oshape)
        if isinstance(layer, Add):
            fop = ("arith.mulf" if isinstance(layer, Mul) else
                   "arith.subf" if isinstance(layer, Sub) else "arith.addf")
            return self.generic([(args[0], tensor_type(ishapes[0])),
                                 (args[1], tensor_type(ishapes[1]))],
                                [_broadcast_map(s, oshape) for s in ishapes]
                                + [_identity_map(len(oshape))], oshape,
                                [f"%a = {fop} %in0, %in1 : f32",
                                 "linalg.yield %a : f32"])
        if isinstance(layer, Activation):
            body = layer.body(lambda v: self.scalar(_f32(v))) + [
                "linalg.yield %r : f32"]
            return self.generic([(x, tensor_type(ishape))], [idm, idm],
                                oshape, body)
        if isinstance(layer, Scale):
            fop = "arith.divf" if layer.divide else "arith.mulf"
            c = self.scalar(layer.c)
            return self.generic([(x, tensor_type(ishape))], [idm, idm],
                                oshape, [f"%a = {fop} %in0, {c} : f32",
                                         "linalg.yield %a : f32"])
        if isinstance(layer, ConstMul):
            fop = "arith.divf" if layer.divide else "arith.mulf"
            c = self.const(layer.c)
            return self.generic([(x, tensor_type(ishape)),
                                 (c, tensor_type(layer.c.shape))],
                                [_identity_map(rank),
                                 _broadcast_map(layer.c.shape, oshape),
                                 _identity_map(rank)], oshape,
                                [f"%a = {fop} %in0, %in1 : f32",
                                 "linalg.yield %a : f32"])
        if isinstance(layer, ConstAdd):
            c = self.const(layer.c)
            return self.generic([(x, tensor_type(ishape)),
                                 (c, tensor_type(layer.c.shape))],
                                [idm, _broadcast_map(layer.c.shape, oshape),
                                 idm], oshape,
                                ["%a = arith.addf %in0, %in1 : f32",
                                 "linalg.yield %a : f32"])
        if isinstance(layer, Concat):
            if isinstance(layer, ConstConcat):
                ishapes = layer.operand_shapes(ishapes)
                inputs = iter(args)
                args = [next(inputs) if p is None else
                        self.batch_broadcast(p, ishape[0])
                        for p in layer.parts]
            v = self.tmp("cat")
            self.op(f"{v} = tensor.concat dim(1) {', '.join(args)} : "
                    f"({', '.join(tensor_type(s) for s in ishapes)}) -> "
                    f"{tensor_type(oshape)}")
            return v
        if isinstance(layer, LayerNorm):
            return self.layer_norm(layer, x, oshape)
        if isinstance(layer, Softmax):
            e = self.empty(oshape)
            v = self.tmp("softmax")
            t = tensor_type(oshape)
            self.op(f"{v} = linalg.softmax dimension({rank - 1}) ins({x} : "
                    f"{t}) outs({e} : {t}) -> {t}")
            return v
        raise TypeError(f"unknown layer {type(layer).__name__}")

    def batch_broadcast(self, c, n):
        """A constant of shape [1, ...] expanded over a batch of n: its
        [...] part broadcast along a new dim 0 (torch's expand)."""
        inner = tuple(c.shape[1:])
        src = self.const(c[0])
        shape = (int(n),) + inner
        e = self.empty(shape)
        v = self.tmp("bc")
        self.op(f"{v} = linalg.broadcast ins({src} : {tensor_type(inner)}) "
                f"outs({e} : {tensor_type(shape)}) dimensions = [0]")
        return v

    def linear(self, layer, x, ishape, oshape):
        """A Linear or MatMul on a 2-D input: linalg.matmul (of the
        transposed weights for Linear), then the bias."""
        if isinstance(layer, MatMul):
            wt = self.const(layer.w)
            wt_shape = layer.w.shape
        else:
            out_f, in_f = layer.w.shape
            w = self.const(layer.w)
            wt_shape = (in_f, out_f)
            et = self.empty(wt_shape)
            wt = self.tmp("wt")
            self.op(f"{wt} = linalg.transpose ins({w} : "
                    f"{tensor_type(layer.w.shape)}) outs({et} : "
                    f"{tensor_type(wt_shape)}) permutation = [1, 0]")
        init = self.fill(self.scalar(0.0), oshape)
        mm = self.tmp("mm")
        self.op(f"{mm} = linalg.matmul ins({x}, {wt} : "
                f"{tensor_type(ishape)}, {tensor_type(wt_shape)}) "
                f"outs({init} : {tensor_type(oshape)}) -> "
                f"{tensor_type(oshape)}")
        if layer.b is None:
            return mm
        b = self.const(layer.b)
        return self.generic([(mm, tensor_type(oshape)),
                             (b, tensor_type(layer.b.shape))],
                            [_ID2, _CH2, _ID2], oshape,
                            ["%a = arith.addf %in0, %in1 : f32",
                             "linalg.yield %a : f32"])

    def batch_matmul(self, layer, args, shapes, oshape):
        """linalg.batch_matmul on the leading dims collapsed to one, then
        x * scale (the form matchComputeChain folds into the rescale)."""
        batch = int(np.prod(oshape[:-2]))
        flat = [self.reshape(v, s, (batch,) + tuple(s[-2:]))
                for v, s in zip(args, shapes)]
        fshapes = [(batch,) + tuple(s[-2:]) for s in shapes]
        out = (batch,) + tuple(oshape[-2:])
        init = self.fill(self.scalar(0.0), out)
        v = self.tmp("bmm")
        self.op(f"{v} = linalg.batch_matmul ins({flat[0]}, {flat[1]} : "
                f"{tensor_type(fshapes[0])}, {tensor_type(fshapes[1])}) "
                f"outs({init} : {tensor_type(out)}) -> {tensor_type(out)}")
        if layer.scale != 1.0:
            c = self.scalar(_f32(layer.scale))
            idm = _identity_map(3)
            v = self.generic([(v, tensor_type(out))], [idm, idm], out,
                             [f"%a = arith.mulf %in0, {c} : f32",
                              "linalg.yield %a : f32"])
        return self.reshaped_result(layer, v, out, oshape)

    def layer_norm(self, layer, x, shape):
        """sum, x - sum / C, sum of squares, then the normalized affine map:
        the form FloatGraph's matchLayerNorm recognizes."""
        rank = len(shape)
        rows = shape[:-1]
        idm = _identity_map(rank)
        dims = ", ".join(f"d{i}" for i in range(rank))
        row = f"affine_map<({dims}) -> ({', '.join(dims.split(', ')[:-1])})>"
        channel = f"affine_map<({dims}) -> (d{rank - 1})>"
        t, rt = tensor_type(shape), tensor_type(rows)
        reduce = ["parallel"] * (rank - 1) + ["reduction"]
        c = self.scalar(float(shape[-1]))
        total = self.generic([(x, t)], [idm, row], rows,
                             ["%r = arith.addf %in0, %out : f32",
                              "linalg.yield %r : f32"], reduce,
                             init=self.fill(self.scalar(0.0), rows))
        centered = self.generic([(x, t), (total, rt)], [idm, row, idm], shape,
                                [f"%m = arith.divf %in1, {c} : f32",
                                 "%r = arith.subf %in0, %m : f32",
                                 "linalg.yield %r : f32"])
        squares = self.generic([(centered, t)], [idm, row], rows,
                               ["%p = arith.mulf %in0, %in0 : f32",
                                "%r = arith.addf %p, %out : f32",
                                "linalg.yield %r : f32"], reduce,
                               init=self.fill(self.scalar(0.0), rows))
        eps = self.scalar(_f32(layer.eps))
        g, b = self.const(layer.gamma), self.const(layer.beta)
        ct = tensor_type(layer.gamma.shape)
        return self.generic([(centered, t), (squares, rt), (g, ct), (b, ct)],
                            [idm, row, channel, channel, idm], shape,
                            [f"%v = arith.divf %in1, {c} : f32",
                             f"%ve = arith.addf %v, {eps} : f32",
                             "%s = math.rsqrt %ve : f32",
                             "%n = arith.mulf %in0, %s : f32",
                             "%ng = arith.mulf %n, %in2 : f32",
                             "%r = arith.addf %ng, %in3 : f32",
                             "linalg.yield %r : f32"])

    def run(self, func_name, outputs):
        m = self.model
        self.env["x"] = "%x"
        self.loc = _loc_literal("x")
        self.annotate("x", "%x")
        for layer in m.layers:
            self.loc = _loc_literal(layer.loc or layer.name)
            self.annotate(layer.name, self.layer(layer))
        self.loc = None
        types = [tensor_type(m.shapes[o]) for o in outputs]
        rt = types[0] if len(types) == 1 else f"({', '.join(types)})"
        head = (f"  func.func @{func_name}(%x: {tensor_type(m.input_shape)} "
                f"{_loc_literal('x')}) -> {rt} {{")
        body = self.lines + [
            f"    return {', '.join(self.env[o] for o in outputs)} : "
            f"{', '.join(types)}", "  }"]
        return "\n".join([head] + body)

    def resource_section(self):
        if not self.resources:
            return ""
        blobs = ",\n".join(f'      {k}: "{h}"' for k, h in self.resources)
        return ("{-#\n  dialect_resources: {\n    builtin: {\n" + blobs +
                "\n    }\n  }\n#-}\n")


def emit(model, stats=None, func_name="forward", outputs=None,
         weights="dense"):
    """MLIR text of a module holding func.func @forward(%x) -> output.

    outputs: value names to return, in order (default: the model output).
    weights: "dense" (hex literals) or "resource" (dense_resource blobs in
    the module's dialect_resources section)."""
    if not model.layers:
        raise ValueError("empty model")
    outputs = [model.output] if outputs is None else list(outputs)
    if not outputs:
        raise ValueError("no outputs")
    for o in outputs:
        if o not in model.shapes:
            raise ValueError(f"unknown output value {o!r}")
    e = _Emitter(model, stats, weights)
    text = "module {\n" + e.run(func_name, outputs) + "\n}\n"
    return text + e.resource_section()
