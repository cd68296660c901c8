"""PyTorch -> myquant float model (python/myquant/emit.py graph) via torch.fx.

    from myquant.export import export
    graph = export(torch_model, example_input)     # an emit.Model
    text = emit.emit(graph)                         # float linalg MLIR

The model (a copy, in eval mode) is traced by a torch.fx Tracer that runs
every op on the example input as it records it (:func:`trace`): sizes,
shapes and lengths are Python ints, so code computing with them traces and
the graph holds them as constants (docs/Design.md, "From PyTorch").
BatchNorm is folded into the convolution it follows
(``torch.fx.experimental.optimization.fuse``) and ``ShapeProp`` gives every
shape, which is checked against the shape the emitted layer computes. Every
value is named after its module path (``features.0``) or, for functions and
methods, after its fx node (``add``, ``cat_1``); the emitted MLIR carries
these names as ``loc("...")`` locations. The graph runs at any batch size:
ops that move or cut the batch dimension (dim 0) are rejected.

Supported (everything else raises :class:`UnsupportedError` naming the
module or function and its fx node):

* modules: Conv2d (groups, stride, padding incl. 'same'/'valid', dilation;
  zero padding), Linear (on the last dimension of any input), ReLU, ReLU6, Hardtanh(0, 6), MaxPool2d
  and AvgPool2d (ceil_mode, count_include_pad), AdaptiveAvgPool2d and
  AdaptiveMaxPool2d to any output size, Flatten, Unflatten,
  BatchNorm2d (folded into the Conv2d it follows, else a depthwise 1x1
  convolution), Identity, every Dropout (eval: identity), and the
  activations Sigmoid, Tanh, Hardswish, Hardsigmoid, SiLU, GELU (approximate
  'none' or 'tanh'), ELU, LeakyReLU, Softplus, Mish (emitted as element-wise
  generics with math/arith bodies; quantized as lookup tables);
* functions and methods: F.relu / torch.relu / .relu(), F.relu6,
  F.hardtanh(0, 6), F.max_pool2d, F.avg_pool2d, F.adaptive_avg_pool2d,
  F.adaptive_max_pool2d, operator.add / torch.add / .add() / ``+=``,
  operator.sub / torch.sub / .sub() and operator.mul / torch.mul / .mul()
  of two tensors that broadcast (numpy rules: a squeeze-excite scale
  [N, C, 1, 1] times [N, C, H, W]), ``x * c`` / ``x / c`` by a positive
  number, ``x * p`` / ``p * x`` / ``x / p`` by a parameter or buffer ``p``
  the model reads directly (ConvNeXt's layer scale ``self.gamma * x``:
  emit.ConstMul, quantized per channel when ``p`` varies along one
  dimension), ``x + p`` / ``p + x`` / ``x - p`` by such a parameter
  (ViT's position embedding: emit.ConstAdd), torch.cat / torch.concat
  along dim 1, of computed tensors and parameters of batch size 1
  (broadcast over the batch, optionally ``.expand``-ed to it: ViT's class
  token, emit.ConstConcat), .mean over dims (2, 3),
  reshapes (torch.flatten / reshape / squeeze / unsqueeze, .view /
  .reshape / .flatten / .unflatten / .squeeze / .unsqueeze / .view_as /
  .reshape_as), .permute / torch.permute, .transpose / torch.transpose,
  .chunk / .split / .narrow and their torch functions, indexing with
  slices (positive steps), integers, ``...`` and None, .contiguous(),
  F.dropout and its variants and torchvision's stochastic_depth (eval:
  identity), and the activations' functions: torch.sigmoid / F.sigmoid /
  .sigmoid(), torch.tanh / F.tanh / .tanh(), torch.exp / .exp(),
  F.hardswish, F.hardsigmoid, F.silu, F.gelu, F.elu, F.leaky_relu,
  F.softplus, F.mish (and their in-place forms);
* softmax over the last dimension: nn.Softmax, F.softmax, torch.softmax,
  .softmax() (integer-only, docs/NumericSpec.md 3.10); nn.LayerNorm and
  F.layer_norm (weight and bias parameters, e.g. torchvision's
  channels-first LayerNorm2d between permutes) over the last dimension
  (integer-only, 3.11); torch.matmul / torch.bmm / ``@``
  / .matmul() / .bmm() of two computed tensors of rank 3 or more (attention's
  Q K^T and A V), a following ``/ c`` or ``* c`` folded into it;
  nn.MultiheadAttention as self-attention with batch_first=True and no
  masks (its output; the weights are not computed).
"""

import contextlib
import copy
import inspect
import io
import operator
import sys

import numpy as np

from . import emit as E

__all__ = ["UnsupportedError", "ExportError", "InputShapeError", "export",
           "trace"]


class ExportError(ValueError):
    """The model cannot be exported."""


class UnsupportedError(ExportError):
    """An operation the exporter does not support."""


class InputShapeError(ExportError):
    """The model does not run on the example input (wrong shape)."""


def _torch():
    import torch
    return torch


def _fn_name(fn):
    mod = getattr(fn, "__module__", None) or ""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    if name is None:
        return repr(fn)
    if mod in ("_operator", "operator"):
        return f"operator.{name}"
    if mod.startswith("torch.nn.functional"):
        return f"torch.nn.functional.{name}"
    if mod.startswith("torch") or "VariableFunctions" in name:
        return f"torch.{getattr(fn, '__name__', name)}"
    return f"{mod}.{name}" if mod else name


def _describe(node, modules=None):
    if node.op == "call_module":
        m = modules.get(node.target) if modules else None
        kind = type(m).__name__ if m is not None else "module"
        return f"module '{node.target}' ({kind}, fx node '{node.name}')"
    if node.op == "call_function":
        return f"function {_fn_name(node.target)} (fx node '{node.name}')"
    if node.op == "call_method":
        return f"method Tensor.{node.target} (fx node '{node.name}')"
    return f"{node.op} '{node.target}' (fx node '{node.name}')"


# Python signatures used to bind the arguments of functional calls.
def _sig_pool(input, kernel_size, stride=None, padding=0, dilation=1,
              ceil_mode=False, return_indices=False):
    pass


def _sig_avgpool(input, kernel_size, stride=None, padding=0,
                 ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
    pass


def _sig_adaptive(input, output_size):
    pass


def _sig_relu(input, inplace=False):
    pass


def _sig_hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    pass


def _sig_add(input, other, alpha=1, out=None):
    pass


def _sig_binary(input, other, out=None):
    pass


def _sig_div(input, other, rounding_mode=None, out=None):
    pass


def _sig_cat(tensors, dim=0, out=None):
    pass


def _sig_mean(input, dim=None, keepdim=False, dtype=None):
    pass


def _sig_chunk(input, chunks, dim=0):
    pass


def _sig_split(input, split_size_or_sections, dim=0):
    pass


def _sig_narrow(input, dim, start, length):
    pass


def _sig_transpose(input, dim0, dim1):
    pass


class _Pieces:
    """The tuple of tensors a chunk or split returns: (start, size) spans
    of `dim` of the value `value`, taken apart by getitem."""

    def __init__(self, value, dim, spans):
        self.value, self.dim, self.spans = value, dim, spans


class _Constant:
    """A parameter or buffer the model reads directly (an fx get_attr
    node): a float32 array, usable as the constant operand of a product,
    quotient or sum, concatenated with computed tensors (of batch size 1,
    broadcast over the batch: ViT's class token), or as F.layer_norm's
    weight or bias."""

    def __init__(self, target, array):
        self.target, self.array = target, array


class _Outputs:
    """The tuple a module returns (nn.MultiheadAttention's output and
    weights): value names, None for one the exporter does not compute."""

    def __init__(self, values):
        self.values = values


def _dropouts():
    F = _torch().nn.functional
    return tuple(getattr(F, n) for n in (
        "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
        "feature_alpha_dropout") if hasattr(F, n))


def _stochastic_depth():
    """torchvision.ops.stochastic_depth, where torchvision is loaded (its
    StochasticDepth module calls it; fx records it as one call)."""
    ops = sys.modules.get("torchvision.ops")
    return getattr(ops, "stochastic_depth", None)
def _sig_unary(input, inplace=False):
    pass


def _sig_gelu(input, approximate="none"):
    pass


def _sig_elu(input, alpha=1.0, inplace=False):
    pass


def _sig_leaky_relu(input, negative_slope=0.01, inplace=False):
    pass


def _sig_softplus(input, beta=1.0, threshold=20.0):
    pass


def _sig_mha(query, key, value, key_padding_mask=None, need_weights=True,
             attn_mask=None, average_attn_weights=True):
    pass


def _sig_layer_norm(input, normalized_shape, weight=None, bias=None,
                    eps=1e-05):
    pass


def _sig_softmax(input, dim=None, _stacklevel=3, dtype=None):
    pass


def _bind(sig_fn, node):
    try:
        b = inspect.signature(sig_fn).bind(*node.args, **node.kwargs)
    except TypeError as e:
        raise ExportError(f"cannot read the arguments of "
                          f"{_describe(node)}: {e}") from None
    b.apply_defaults()
    return b.arguments


def _pair(v):
    if isinstance(v, (list, tuple)):
        if len(v) == 1:
            return (int(v[0]), int(v[0]))
        if len(v) != 2:
            raise ValueError(f"expected 2 values, got {v!r}")
        return (int(v[0]), int(v[1]))
    return (int(v), int(v))


class _Exporter:
    def __init__(self, gm, example, modules):
        self.gm = gm
        self.modules = modules
        self.model = E.Model(tuple(example.shape))
        self.env = {}          # fx node -> emit value name
        self.used_names = set(["x"])
        self.calls = {}        # module target -> number of calls so far

    # -- helpers -----------------------------------------------------------

    def shape(self, node):
        meta = node.meta.get("tensor_meta")
        if meta is None or not hasattr(meta, "shape"):
            return None
        return tuple(int(d) for d in meta.shape)

    def value(self, arg, node):
        torch = _torch()
        fx = torch.fx
        if not isinstance(arg, fx.Node):
            raise UnsupportedError(
                f"{_describe(node, self.modules)}: operand {arg!r} is not a "
                f"tensor computed by the model (constants and scalars are "
                f"not supported)")
        if isinstance(self.env.get(arg), _Constant):
            raise UnsupportedError(
                f"{_describe(node, self.modules)}: operand '{arg.name}' is "
                f"the parameter or buffer '{self.env[arg].target}' read "
                f"directly; such a constant can only multiply, divide, be "
                f"added to or subtracted from a tensor the model computes, "
                f"be concatenated with one along dim 1, or be "
                f"F.layer_norm's weight or bias")
        if arg not in self.env or isinstance(self.env[arg], _Pieces):
            raise UnsupportedError(
                f"{_describe(node, self.modules)}: operand "
                f"'{arg.name}' is not a tensor value the exporter "
                f"supports (produced by {_describe(arg, self.modules)})")
        return self.env[arg]

    def name_for(self, node):
        if node.op == "call_module":
            base = str(node.target)
            k = self.calls.get(base, 0)
            self.calls[base] = k + 1
            name = base if k == 0 else f"{base}#{k + 1}"
            loc = base
        else:
            name = loc = node.name
        while name in self.used_names:
            name += "_"
        self.used_names.add(name)
        return name, loc

    def add(self, node, layer, inputs):
        return self.add_seq(node, [layer], inputs)

    def add_seq(self, node, layers, inputs):
        """Layers computing one fx node: the first reads `inputs`, each
        next one the previous; the last is named after the node, the others
        NAME.0, NAME.1, ...; returns the last one's value."""
        name, loc = self.name_for(node)
        for i, layer in enumerate(layers):
            last = i == len(layers) - 1
            n = name if last else f"{name}.{i}"
            while not last and n in self.used_names:
                n += "_"
            self.used_names.add(n)
            try:
                inputs = [self.model.add(layer, inputs=inputs, name=n,
                                         loc=loc)]
            except ValueError as e:
                raise ExportError(f"{_describe(node, self.modules)}: {e}") \
                    from None
        return inputs[0]

    def finish(self, node, out):
        want = self.shape(node)
        got = self.model.shapes[out]
        if want is not None and tuple(want) != tuple(got):
            raise UnsupportedError(
                f"{_describe(node, self.modules)}: PyTorch computes shape "
                f"{list(want)} but the exported layer computes {list(got)} "
                f"(unsupported option such as ceil_mode?)")
        self.env[node] = out

    def unsupported(self, node, why=None):
        # What an op fails on is most often a parameter it reads directly
        # (torchvision's class token, a layer scale): say so.
        for arg in node.args:
            if isinstance(arg, _torch().fx.Node) and \
                    isinstance(self.env.get(arg), _Constant):
                self.value(arg, node)
        msg = f"unsupported {_describe(node, self.modules)}"
        if why:
            msg += f": {why}"
        raise UnsupportedError(msg)

    # -- layer constructors ------------------------------------------------

    def conv(self, node, m):
        torch = _torch()
        if type(m) is not torch.nn.Conv2d:
            self.unsupported(node)
        w = m.weight.detach().float().cpu().numpy()
        b = None if m.bias is None else \
            m.bias.detach().float().cpu().numpy()
        kh, kw = w.shape[2:]
        dil = _pair(m.dilation)
        if isinstance(m.padding, str):
            if m.padding == "valid":
                pad = (0, 0)
            else:  # 'same' (stride 1): symmetric only
                tot = (dil[0] * (kh - 1), dil[1] * (kw - 1))
                if tot[0] % 2 or tot[1] % 2:
                    self.unsupported(node, "padding='same' would pad "
                                     "asymmetrically")
                pad = (tot[0] // 2, tot[1] // 2)
        else:
            pad = _pair(m.padding)
        if m.padding_mode != "zeros" and pad != (0, 0):
            self.unsupported(node, f"padding_mode={m.padding_mode!r} (only "
                             f"zero padding)")
        return E.Conv2d(w, b, stride=_pair(m.stride), padding=pad,
                        dilation=dil, groups=m.groups)

    def batchnorm(self, node, m):
        """A BatchNorm2d (inference: running statistics) that no conv
        absorbed, as a depthwise 1x1 convolution with bias: channel c
        computes x * g[c] + (beta[c] - mean[c] * g[c]) with g = gamma /
        sqrt(var + eps), quantized like any convolution (docs/Design.md)."""
        torch = _torch()
        if m.running_mean is None or m.running_var is None:
            self.unsupported(node, "no running statistics "
                             "(track_running_stats=False)")
        mean = m.running_mean.detach().double()
        g = 1.0 / torch.sqrt(m.running_var.detach().double() + m.eps)
        shift = -mean * g
        if m.affine:
            g = g * m.weight.detach().double()
            shift = m.bias.detach().double() - mean * g
        c = m.num_features
        return E.Conv2d(g.float().numpy().reshape(c, 1, 1, 1),
                        shift.float().numpy(), groups=c)

    def maxpool(self, node, k, stride, padding, dilation, ceil_mode,
                return_indices):
        if _pair(dilation) != (1, 1):
            self.unsupported(node, "dilation other than 1")
        if return_indices:
            self.unsupported(node, "return_indices=True")
        stride = None if stride is None or stride == [] or stride == () \
            else _pair(stride)
        return E.MaxPool2d(_pair(k), stride, _pair(padding), ceil_mode)

    def avgpool(self, node, k, stride, padding, ceil_mode,
                count_include_pad, divisor_override):
        if divisor_override is not None:
            self.unsupported(node, "divisor_override")
        stride = None if stride is None or stride == [] or stride == () \
            else _pair(stride)
        return E.AvgPool2d(_pair(k), stride, _pair(padding), ceil_mode,
                           count_include_pad)

    def adaptive(self, node, src, output_size, is_max):
        """Adaptive pooling: PyTorch's window i spans [floor(i*H/o),
        ceil((i+1)*H/o)), a plain pool of kernel and stride H/o when o
        divides H, else emit's gathered form."""
        x = self.value(src, node)
        shape = self.model.shapes[x]
        if len(shape) != 4:
            self.unsupported(node, f"input of shape {list(shape)} (only "
                             f"NCHW)")
        sizes = output_size if isinstance(output_size, (list, tuple)) \
            else (output_size, output_size)
        if len(sizes) == 1:
            sizes = (sizes[0], sizes[0])
        out = tuple(size if o is None else int(o)
                    for size, o in zip(shape[2:], sizes))
        if any(o < 1 or o > size for size, o in zip(shape[2:], out)):
            self.unsupported(node, f"output_size={output_size!r} on a "
                             f"{shape[2]} x {shape[3]} input")
        if any(size % o for size, o in zip(shape[2:], out)):
            # Windows of different sizes: gathered, then pooled.
            return (E.AdaptiveMaxPool2d if is_max else
                    E.AdaptiveAvgPool2d)(out)
        k = tuple(size // o for size, o in zip(shape[2:], out))
        if not is_max and k == tuple(shape[2:]):
            return E.GlobalAvgPool()
        return (E.MaxPool2d if is_max else E.AvgPool2d)(k, k)

    def relu6_or_fail(self, node, lo, hi):
        if float(lo) == 0.0 and float(hi) == 6.0:
            return E.Relu6()
        self.unsupported(node, f"hardtanh({lo}, {hi}) (only (0, 6), i.e. "
                         f"relu6)")

    # -- node dispatch -----------------------------------------------------

    def reshape(self, node, src):
        """Any reshape of src to the node's shape (view, flatten, squeeze,
        ...): identity, a flatten of NCHW to [N, -1], or a Reshape."""
        x = self.value(src, node)
        ishape = self.model.shapes[x]
        oshape = self.shape(node)
        if oshape is None:
            self.unsupported(node, "no shape")
        if tuple(oshape) == tuple(ishape):
            self.env[node] = x
            return
        self.finish(node, self.add(node, self.reshape_layer(
            node, ishape, oshape), [x]))

    def reshape_layer(self, node, ishape, oshape):
        """The layer reshaping each sample of ishape to oshape (the batch
        stays dim 0)."""
        if oshape[0] != ishape[0]:
            self.unsupported(node, f"reshape from {list(ishape)} to "
                             f"{list(oshape)} changes the batch dimension "
                             f"(dim 0)")
        if len(ishape) == 4 and len(oshape) == 2:
            return E.Flatten()
        return E.Reshape(oshape[1:])

    def permute(self, node, src, perm):
        x = self.value(src, node)
        rank = len(self.model.shapes[x])
        perm = [int(p) % rank for p in perm]
        if perm[0] != 0:
            self.unsupported(node, f"permutation {perm} moves the batch "
                             f"dimension (dim 0)")
        if perm == list(range(rank)):
            self.env[node] = x
            return
        self.finish(node, self.add(node, E.Transpose(perm), [x]))

    def transpose(self, node, src, d0, d1):
        rank = len(self.model.shapes[self.value(src, node)])
        perm = list(range(rank))
        d0, d1 = d0 % rank, d1 % rank
        perm[d0], perm[d1] = perm[d1], perm[d0]
        self.permute(node, src, perm)

    def pieces(self, node, src, dim):
        """chunk / split: the spans of the pieces PyTorch computed."""
        x = self.value(src, node)
        dim %= len(self.model.shapes[x])
        if dim == 0:
            self.unsupported(node, "splitting the batch dimension (dim 0)")
        meta = node.meta.get("tensor_meta")
        sizes = [int(t.shape[dim]) for t in meta]
        starts = np.cumsum([0] + sizes[:-1])
        self.env[node] = _Pieces(x, dim, [(int(b), n) for b, n in
                                          zip(starts, sizes)])

    def piece(self, node, pieces, i):
        start, size = pieces.spans[i]
        if size == self.model.shapes[pieces.value][pieces.dim]:
            self.env[node] = pieces.value
            return
        self.finish(node, self.add(node, E.Slice(pieces.dim, start, size),
                                   [pieces.value]))

    def index(self, node, src, idx):
        """x[...] with slices (step >= 1), integers, Ellipsis and None: a
        Slice per sliced dim, then a Reshape for dropped or added dims."""
        x = self.value(src, node)
        shape = self.model.shapes[x]
        idx = list(idx) if isinstance(idx, tuple) else [idx]
        if idx.count(Ellipsis) > 1:
            self.unsupported(node, "more than one Ellipsis")
        if Ellipsis in idx:
            i = idx.index(Ellipsis)
            fill = len(shape) - (len(idx) - 1 - idx.count(None))
            idx[i:i + 1] = [slice(None)] * fill
        layers, dim = [], 0
        for it in idx:
            if it is None:
                continue
            if dim >= len(shape):
                self.unsupported(node, f"too many indices for shape "
                                 f"{list(shape)}")
            if isinstance(it, int) and not isinstance(it, bool):
                start, stop, step = it % shape[dim], it % shape[dim] + 1, 1
            elif isinstance(it, slice):
                start, stop, step = it.indices(shape[dim])
            else:
                self.unsupported(node, f"index {it!r} (only slices, "
                                 f"integers, ... and None)")
            size = len(range(start, stop, step))
            if step < 1 or size < 1:
                self.unsupported(node, f"slice {it!r} of dim {dim} (only "
                                 f"non-empty slices with a positive step)")
            if (start, size, step) != (0, shape[dim], 1):
                if dim == 0:
                    self.unsupported(node, "indexing the batch dimension "
                                     "(dim 0)")
                layers.append(E.Slice(dim, start, size, step))
            dim += 1
        oshape = self.shape(node)
        out_shape = list(shape)
        for l in layers:
            out_shape[l.dim] = l.size
        if oshape is not None and tuple(oshape) != tuple(out_shape):
            layers.append(self.reshape_layer(node, out_shape, oshape))
        if not layers:
            self.env[node] = x
            return
        self.finish(node, self.add_seq(node, layers, [x]))

    def activation(self, node, kind, src, **params):
        """An emit.Activation; GELU's `approximate` picks its form."""
        if kind == "gelu":
            approximate = params.pop("approximate")
            if approximate not in ("none", "tanh"):
                self.unsupported(node, f"approximate={approximate!r}")
            kind = "gelu" if approximate == "none" else "gelu_tanh"
        return self.unary(node, E.Activation(kind, **params), src)

    def softmax(self, node, src, dim, dtype=None):
        """Softmax over the last dimension (nn.Softmax, F.softmax,
        torch.softmax, Tensor.softmax)."""
        x = self.value(src, node)
        rank = len(self.model.shapes[x])
        if dim is None or dtype is not None or not isinstance(dim, int) or \
                dim % rank != rank - 1:
            self.unsupported(node, f"softmax with dim={dim!r}, "
                             f"dtype={dtype!r} on a rank-{rank} input (only "
                             f"over the last dimension, without dtype)")
        self.unary(node, E.Softmax(), src)

    def multihead_attention(self, node, m):
        """nn.MultiheadAttention as self-attention (query, key and value one
        tensor) with batch_first=True and no masks: per head Linear
        projections, view + transpose into heads, softmax(Q K^T / sqrt(d))
        V, the heads merged back and the output projection. Returns the
        output and no weights (need_weights is ignored)."""
        a = _bind(_sig_mha, node)
        q, k, v = a["query"], a["key"], a["value"]
        if not (q is k is v):
            self.unsupported(node, "cross-attention (only self-attention: "
                             "query, key and value the same tensor)")
        if a["key_padding_mask"] is not None or a["attn_mask"] is not None:
            self.unsupported(node, "attention masks")
        if not m.batch_first:
            self.unsupported(node, "batch_first=False (the batch must be "
                             "dim 0)")
        if not m._qkv_same_embed_dim or m.bias_k is not None or \
                m.add_zero_attn:
            self.unsupported(node, "kdim/vdim, add_bias_kv or add_zero_attn")
        x = self.value(q, node)
        shape = self.model.shapes[x]
        if len(shape) != 3:
            self.unsupported(node, f"input of shape {list(shape)} (only "
                             f"[N, T, E])")
        e, h = m.embed_dim, m.num_heads
        d, t = e // h, shape[1]
        w = m.in_proj_weight.detach().float().cpu().numpy()
        b = np.zeros(3 * e, np.float32) if m.in_proj_bias is None else \
            m.in_proj_bias.detach().float().cpu().numpy()
        name, loc = self.name_for(node)

        def add(layer, inputs, suffix):
            n = f"{name}.{suffix}" if suffix else name
            while n in self.used_names and suffix:
                n += "_"
            self.used_names.add(n)
            try:
                return self.model.add(layer, inputs=inputs, name=n, loc=loc)
            except ValueError as err:
                raise ExportError(f"{_describe(node, self.modules)}: "
                                  f"{err}") from None

        heads = []
        for i, (part, perm) in enumerate(
                (("q", (0, 2, 1, 3)), ("k", (0, 2, 3, 1)),
                 ("v", (0, 2, 1, 3)))):
            y = add(E.Linear(w[i * e:(i + 1) * e], b[i * e:(i + 1) * e]),
                    [x], part)
            y = add(E.Reshape((t, h, d)), [y], f"{part}.heads")
            heads.append(add(E.Transpose(perm), [y], f"{part}.t"))
        scores = add(E.BatchMatMul(1.0 / float(np.sqrt(d))), heads[:2],
                     "scores")
        p = add(E.Softmax(), [scores], "softmax")
        o = add(E.BatchMatMul(), [p, heads[2]], "context")
        o = add(E.Transpose((0, 2, 1, 3)), [o], "merge.t")
        o = add(E.Reshape((t, e)), [o], "merge")
        out_b = None if m.out_proj.bias is None else \
            m.out_proj.bias.detach().float().cpu().numpy()
        out = add(E.Linear(m.out_proj.weight.detach().float().cpu().numpy(),
                           out_b), [o], "")
        self.env[node] = _Outputs([out, None])

    def layer_norm(self, node, normalized_shape, weight, bias, eps):
        """nn.LayerNorm / F.layer_norm over the last dimension (weight and
        bias tensors, or 1 and 0 when None)."""
        shape = tuple(int(d) for d in normalized_shape)
        if len(shape) != 1:
            self.unsupported(node, f"normalized_shape {list(shape)} (only "
                             f"the last dimension)")
        c = shape[0]
        gamma = np.ones(c, np.float32) if weight is None else \
            weight.detach().float().cpu().numpy()
        beta = np.zeros(c, np.float32) if bias is None else \
            bias.detach().float().cpu().numpy()
        return E.LayerNorm(gamma, beta, eps)

    def parameter(self, node, arg, what):
        """The tensor of F.layer_norm's weight or bias argument (a
        parameter the model reads), or None."""
        if arg is None:
            return None
        p = self.env.get(arg)
        if not isinstance(p, _Constant):
            self.unsupported(node, f"{what} computed by the model (only a "
                             f"parameter or buffer)")
        return _torch().from_numpy(p.array)

    def unary(self, node, layer, src):
        x = self.value(src, node)
        self.finish(node, self.add(node, layer, [x]))

    def binary(self, node, a, b, layer, what):
        """A broadcasting element-wise op of two tensors the model
        computes."""
        torch = _torch()
        if not isinstance(a, torch.fx.Node) or not isinstance(b,
                                                             torch.fx.Node):
            self.unsupported(node, f"{what} a scalar or constant (only two "
                             f"tensors, or multiplying / dividing by a "
                             f"positive constant)")
        va, vb = self.value(a, node), self.value(b, node)
        self.finish(node, self.add(node, layer(), [va, vb]))

    def add_op(self, node, a, b, alpha=1, layer=E.Add):
        if alpha != 1:
            self.unsupported(node, f"alpha={alpha}")
        # A parameter added (ViT's position embedding) or subtracted.
        if self.constant(b) is not None and self.constant(a) is None:
            c = self.constant(b).array
            return self.unary(node, E.ConstAdd(-c if layer is E.Sub else c),
                              a)
        if self.constant(a) is not None and layer is E.Add:
            return self.unary(node, E.ConstAdd(self.constant(a).array), b)
        self.binary(node, a, b, layer,
                    "subtracting" if layer is E.Sub else "adding")

    def scale(self, node, src, c, divide):
        """x * c or x / c by a positive Python number."""
        if isinstance(c, bool) or not isinstance(c, (int, float)) or \
                not float(c) > 0:
            self.unsupported(node, f"{'dividing' if divide else 'multiplying'}"
                             f" by {c!r} (only by a positive number, or "
                             f"multiplying two tensors)")
        if self.fold_into_matmul(node, src, float(c), divide):
            return
        self.unary(node, E.Scale(float(c), divide=divide), src)

    def constant(self, arg):
        """The _Constant an fx argument holds, or None."""
        c = self.env.get(arg) if isinstance(arg, _torch().fx.Node) else None
        return c if isinstance(c, _Constant) else None

    def const_mul(self, node, src, c, divide):
        """x * p or x / p by a parameter or buffer p."""
        self.unary(node, E.ConstMul(c.array, divide=divide), src)

    def fold_into_matmul(self, node, src, c, divide):
        """Attention's scores / sqrt(d): a scale of a BatchMatMul's result
        that nothing else reads becomes the matmul's constant, folded into
        its int8 rescale. Returns whether it did."""
        x = self.value(src, node)
        layer = self.model.producer(x)
        if not isinstance(layer, E.BatchMatMul) or len(src.users) != 1:
            return False
        layer.scale *= 1.0 / c if divide else c
        self.env[node] = x
        return True

    def batch_matmul(self, node, a, b):
        """a @ b of two computed tensors of rank 3 or more (torch.matmul,
        torch.bmm, the @ operator, .matmul(), .bmm())."""
        torch = _torch()
        if not isinstance(a, torch.fx.Node) or not isinstance(b,
                                                             torch.fx.Node):
            self.unsupported(node, "matmul with a constant (only of two "
                             "computed tensors; use nn.Linear for weights)")
        va, vb = self.value(a, node), self.value(b, node)
        self.finish(node, self.add(node, E.BatchMatMul(), [va, vb]))

    def mul_op(self, node, a, b):
        torch = _torch()
        if self.constant(b) is not None:
            return self.const_mul(node, a, self.constant(b), divide=False)
        if self.constant(a) is not None:
            return self.const_mul(node, b, self.constant(a), divide=False)
        if isinstance(a, torch.fx.Node) and not isinstance(b, torch.fx.Node):
            return self.scale(node, a, b, divide=False)
        if isinstance(b, torch.fx.Node) and not isinstance(a, torch.fx.Node):
            return self.scale(node, b, a, divide=False)
        self.binary(node, a, b, E.Mul, "multiplying")

    def div_op(self, node, a, b):
        torch = _torch()
        if self.constant(b) is not None:
            return self.const_mul(node, a, self.constant(b), divide=True)
        if not isinstance(a, torch.fx.Node) or isinstance(b, torch.fx.Node):
            self.unsupported(node, "division of or by a tensor (only a "
                             "tensor divided by a positive number)")
        self.scale(node, a, b, divide=True)

    def cat(self, node, tensors, dim):
        consts = [self.constant(t) for t in tensors]
        vals = [self.value(t, node) for t, c in zip(tensors, consts)
                if c is None]
        if not vals:
            self.unsupported(node, "concatenation of parameters only")
        rank = len(self.model.shapes[vals[0]])
        if dim < 0:
            dim += rank
        if dim != 1:
            self.unsupported(node, f"concatenation along dim {dim} (only "
                             f"dim 1, channels)")
        if len(tensors) == 1:
            self.env[node] = vals[0]
            return
        if all(c is None for c in consts):
            return self.finish(node, self.add(node, E.Concat(), vals))
        for c in consts:
            if c is not None and c.array.shape[:1] != (1,):
                self.unsupported(node, f"concatenating the parameter "
                                 f"'{c.target}' of shape "
                                 f"{list(c.array.shape)} (only one of "
                                 f"batch size 1, expanded over the batch)")
        try:
            layer = E.ConstConcat([None if c is None else c.array
                                   for c in consts])
        except ValueError as e:
            raise ExportError(f"{_describe(node, self.modules)}: {e}") \
                from None
        self.finish(node, self.add(node, layer, vals))

    def expand(self, node, src, sizes):
        """p.expand(n, -1, ...) of a parameter p of batch size 1 over the
        batch (ViT's class token): p itself, as the layers that read a
        constant broadcast its dim 0 of size 1 over any batch."""
        c = self.constant(src)
        if c is None:
            self.unsupported(node, "expanding a computed tensor (only a "
                             "parameter, over the batch)")
        if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)):
            sizes = sizes[0]
        shape = c.array.shape
        n = self.model.input_shape[0]
        if len(sizes) != len(shape) or shape[:1] != (1,) or \
                sizes[0] not in (n, -1, 1) or \
                any(s not in (-1, d) for s, d in zip(sizes[1:], shape[1:])):
            raise UnsupportedError(
                f"unsupported {_describe(node, self.modules)}: expanding "
                f"the parameter '{c.target}' of shape {list(shape)} to "
                f"{list(sizes)} (only its dim 0 of size 1, to the batch "
                f"size {n})")
        self.env[node] = c

    def mean(self, node, src, dim, keepdim):
        x = self.value(src, node)
        ishape = self.model.shapes[x]
        dims = dim if isinstance(dim, (list, tuple)) else [dim]
        dims = sorted(d % len(ishape) for d in dims) if dims else []
        if len(ishape) != 4 or dims != [2, 3]:
            self.unsupported(node, f"mean over dims {dim!r} (only the "
                             f"spatial dims (2, 3) of NCHW)")
        name, loc = self.name_for(node)
        if keepdim:
            out = self.model.add(E.GlobalAvgPool(), inputs=[x], name=name,
                                 loc=loc)
        else:
            self.used_names.add(name + ".pool")
            p = self.model.add(E.GlobalAvgPool(), inputs=[x],
                               name=name + ".pool", loc=loc)
            out = self.model.add(E.Flatten(), inputs=[p], name=name, loc=loc)
        self.finish(node, out)

    def call_module(self, node):
        torch = _torch()
        nn = torch.nn
        m = self.modules[node.target]
        t = type(m)
        src = node.args[0] if node.args else None
        if t is nn.MultiheadAttention:
            return self.multihead_attention(node, m)
        if len(node.args) != 1 or node.kwargs:
            self.unsupported(node, "called with more than one argument")
        if t is nn.Conv2d:
            return self.unary(node, self.conv(node, m), src)
        if t is nn.Linear:
            b = None if m.bias is None else \
                m.bias.detach().float().cpu().numpy()
            return self.unary(node, E.Linear(
                m.weight.detach().float().cpu().numpy(), b), src)
        if t is nn.ReLU:
            return self.unary(node, E.Relu(), src)
        if t is nn.ReLU6:
            return self.unary(node, E.Relu6(), src)
        if t is nn.Hardtanh:
            return self.unary(node, self.relu6_or_fail(node, m.min_val,
                                                       m.max_val), src)
        activation = _activation_modules().get(t)
        if activation is not None:
            kind, attrs = activation
            return self.activation(node, kind, src,
                                   **{a: getattr(m, a) for a in attrs})
        if t is nn.MaxPool2d:
            return self.unary(node, self.maxpool(
                node, m.kernel_size, m.stride, m.padding, m.dilation,
                m.ceil_mode, m.return_indices), src)
        if t is nn.AvgPool2d:
            return self.unary(node, self.avgpool(
                node, m.kernel_size, m.stride, m.padding, m.ceil_mode,
                m.count_include_pad, m.divisor_override), src)
        if t in (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d):
            if getattr(m, "return_indices", False):
                self.unsupported(node, "return_indices=True")
            return self.unary(node, self.adaptive(
                node, src, m.output_size, t is nn.AdaptiveMaxPool2d), src)
        if t in (nn.Flatten, nn.Unflatten):
            return self.reshape(node, src)
        # Every dropout (eval: identity).
        if t is nn.Identity or isinstance(m, nn.modules.dropout._DropoutNd):
            self.env[node] = self.value(src, node)
            return
        if t is nn.BatchNorm2d:
            return self.unary(node, self.batchnorm(node, m), src)
        if t is nn.Softmax:
            return self.softmax(node, src, m.dim)
        if t is nn.LayerNorm:
            return self.unary(node, self.layer_norm(
                node, m.normalized_shape, m.weight, m.bias, m.eps), src)
        self.unsupported(node)

    def call_function(self, node):
        torch = _torch()
        F = torch.nn.functional
        fn = node.target
        if fn in (F.relu, torch.relu, torch.relu_):
            a = _bind(_sig_relu, node)
            return self.unary(node, E.Relu(), a["input"])
        if fn is F.relu6:
            a = _bind(_sig_relu, node)
            return self.unary(node, E.Relu6(), a["input"])
        if fn in (F.hardtanh, F.hardtanh_):
            a = _bind(_sig_hardtanh, node)
            return self.unary(node, self.relu6_or_fail(node, a["min_val"],
                                                       a["max_val"]),
                              a["input"])
        activation = _activation_function(fn)
        if activation is not None:
            kind, sig = activation
            a = _bind(sig, node)
            params = {k: v for k, v in a.items()
                      if k not in ("input", "inplace")}
            return self.activation(node, kind, a["input"], **params)
        if fn in (F.max_pool2d, torch.max_pool2d):
            a = _bind(_sig_pool, node)
            return self.unary(node, self.maxpool(
                node, a["kernel_size"], a["stride"], a["padding"],
                a["dilation"], a["ceil_mode"], a["return_indices"]),
                a["input"])
        if fn in (F.avg_pool2d, getattr(torch._C._nn, "avg_pool2d", None)):
            a = _bind(_sig_avgpool, node)
            return self.unary(node, self.avgpool(
                node, a["kernel_size"], a["stride"], a["padding"],
                a["ceil_mode"], a["count_include_pad"],
                a["divisor_override"]), a["input"])
        if fn in (F.adaptive_avg_pool2d, F.adaptive_max_pool2d):
            a = _bind(_sig_adaptive, node)
            return self.unary(node, self.adaptive(
                node, a["input"], a["output_size"],
                fn is F.adaptive_max_pool2d), a["input"])
        if fn in (operator.add, operator.iadd, torch.add):
            a = _bind(_sig_add, node)
            if a["out"] is not None:
                self.unsupported(node, "out=")
            return self.add_op(node, a["input"], a["other"], a["alpha"])
        if fn in (operator.sub, operator.isub, torch.sub):
            a = _bind(_sig_add, node)
            if a["out"] is not None:
                self.unsupported(node, "out=")
            return self.add_op(node, a["input"], a["other"], a["alpha"],
                               layer=E.Sub)
        if fn in (operator.mul, operator.imul, torch.mul):
            a = _bind(_sig_binary, node)
            return self.mul_op(node, a["input"], a["other"])
        if fn in (operator.truediv, operator.itruediv, torch.div):
            a = _bind(_sig_div, node)
            if a["rounding_mode"] is not None:
                self.unsupported(node, f"rounding_mode="
                                 f"{a['rounding_mode']!r}")
            return self.div_op(node, a["input"], a["other"])
        if fn in (torch.cat, getattr(torch, "concat", None)):
            a = _bind(_sig_cat, node)
            return self.cat(node, list(a["tensors"]), a["dim"])
        if fn is torch.mean:
            a = _bind(_sig_mean, node)
            return self.mean(node, a["input"], a["dim"], a["keepdim"])
        if fn in (torch.reshape, torch.flatten, torch.squeeze,
                  torch.unsqueeze):
            return self.reshape(node, self.first_arg(node))
        if fn is torch.permute:
            return self.permute(node, self.first_arg(node),
                                node.args[1] if len(node.args) > 1
                                else node.kwargs.get("dims"))
        if fn is torch.transpose:
            a = _bind(_sig_transpose, node)
            return self.transpose(node, a["input"], a["dim0"], a["dim1"])
        if fn is torch.narrow:
            a = _bind(_sig_narrow, node)
            return self.narrow(node, a)
        if fn in (torch.chunk, torch.split):
            a = _bind(_sig_chunk if fn is torch.chunk else _sig_split, node)
            return self.pieces(node, a["input"], a["dim"])
        if fn is operator.getitem:
            src, idx = node.args
            if isinstance(self.env.get(src), _Pieces):
                return self.piece(node, self.env[src], idx)
            if isinstance(self.env.get(src), _Outputs):
                value = self.env[src].values[idx]
                if value is None:
                    self.unsupported(node, f"output {idx} of "
                                     f"{_describe(src, self.modules)} (only "
                                     f"the attention output is computed)")
                self.env[node] = value
                return
            return self.index(node, src, idx)
        if fn in (operator.matmul, torch.matmul, torch.bmm):
            return self.batch_matmul(node, *node.args[:2])
        if fn is F.layer_norm:
            a = _bind(_sig_layer_norm, node)
            return self.unary(node, self.layer_norm(
                node, a["normalized_shape"],
                self.parameter(node, a["weight"], "weight"),
                self.parameter(node, a["bias"], "bias"), a["eps"]),
                a["input"])
        if fn in (F.softmax, torch.softmax):
            a = _bind(_sig_softmax, node)
            return self.softmax(node, a["input"], a["dim"], a["dtype"])
        if fn in _dropouts() or fn is _stochastic_depth():
            # Identity at inference (eval mode sets training=False).
            a = _bind(fn, node)
            if a["training"] and a["p"] != 0:
                self.unsupported(node, "in training mode")
            self.env[node] = self.value(self.first_arg(node), node)
            return
        self.unsupported(node)

    def first_arg(self, node):
        """The tensor a function or method is called on."""
        if node.args:
            return node.args[0]
        for key in ("input", "self", "tensor"):
            if key in node.kwargs:
                return node.kwargs[key]
        self.unsupported(node, "no tensor argument")

    def narrow(self, node, a):
        x = self.value(a["input"], node)
        dim = a["dim"] % len(self.model.shapes[x])
        if dim == 0:
            self.unsupported(node, "narrowing the batch dimension (dim 0)")
        start = a["start"] % self.model.shapes[x][dim]
        self.env[node] = _Pieces(x, dim, [(start, a["length"])])
        self.piece(node, self.env[node], 0)

    def call_method(self, node):
        name = node.target
        args = list(node.args)
        if name in ("relu", "relu_"):
            return self.unary(node, E.Relu(), args[0])
        if name.rstrip("_") in _ACTIVATION_METHODS and not node.kwargs:
            return self.activation(node, name.rstrip("_"), args[0])
        if name in ("contiguous",):
            self.env[node] = self.value(args[0], node)
            return
        if name in ("view", "reshape", "flatten", "unflatten", "squeeze",
                    "unsqueeze", "view_as", "reshape_as"):
            return self.reshape(node, args[0])
        if name == "permute":
            perm = args[1:]
            if len(perm) == 1 and isinstance(perm[0], (list, tuple)):
                perm = perm[0]
            return self.permute(node, args[0], perm or
                                node.kwargs.get("dims"))
        if name == "transpose":
            a = _bind(_sig_transpose, node)
            return self.transpose(node, a["input"], a["dim0"], a["dim1"])
        if name == "narrow":
            return self.narrow(node, _bind(_sig_narrow, node))
        if name in ("chunk", "split"):
            a = _bind(_sig_chunk if name == "chunk" else _sig_split, node)
            return self.pieces(node, a["input"], a["dim"])
        if name in ("add", "add_"):
            a = _bind(_sig_add, node)
            return self.add_op(node, a["input"], a["other"], a["alpha"])
        if name in ("sub", "sub_"):
            a = _bind(_sig_add, node)
            return self.add_op(node, a["input"], a["other"], a["alpha"],
                               layer=E.Sub)
        if name in ("mul", "mul_"):
            a = _bind(_sig_binary, node)
            return self.mul_op(node, a["input"], a["other"])
        if name in ("div", "div_"):
            a = _bind(_sig_div, node)
            if a["rounding_mode"] is not None:
                self.unsupported(node, f"rounding_mode="
                                 f"{a['rounding_mode']!r}")
            return self.div_op(node, a["input"], a["other"])
        if name in ("matmul", "bmm"):
            return self.batch_matmul(node, *args[:2])
        if name == "expand":
            return self.expand(node, args[0],
                               args[1:] or node.kwargs.get("size", ()))
        if name == "softmax":
            a = _bind(_sig_softmax, node)
            return self.softmax(node, a["input"], a["dim"], a["dtype"])
        if name == "mean":
            a = _bind(_sig_mean, node)
            return self.mean(node, a["input"], a["dim"], a["keepdim"])
        self.unsupported(node)

    def get_attr(self, node):
        """A parameter or buffer read directly: a constant for a product or
        quotient (its other uses fail in `value`)."""
        torch = _torch()
        value = self.gm
        for atom in str(node.target).split("."):
            value = getattr(value, atom)
        if not isinstance(value, torch.Tensor) or \
                not value.is_floating_point():
            raise UnsupportedError(
                f"the model reads attribute '{node.target}' directly (fx "
                f"node '{node.name}'), which is not a float tensor")
        self.env[node] = _Constant(
            node.target, value.detach().float().cpu().numpy())

    def run(self):
        torch = _torch()
        placeholders = [n for n in self.gm.graph.nodes
                        if n.op == "placeholder"]
        if len(placeholders) != 1:
            raise UnsupportedError(f"the model takes {len(placeholders)} "
                                   f"inputs; only one tensor input is "
                                   f"supported")
        output = None
        for node in self.gm.graph.nodes:
            if node.op == "placeholder":
                self.env[node] = "x"
            elif node.op == "call_module":
                self.call_module(node)
            elif node.op == "call_function":
                self.call_function(node)
            elif node.op == "call_method":
                self.call_method(node)
            elif node.op == "output":
                output = node.args[0]
            elif node.op == "get_attr":
                self.get_attr(node)
            else:
                self.unsupported(node)
        if isinstance(output, (tuple, list)):
            if len(output) != 1:
                raise UnsupportedError(f"the model returns {len(output)} "
                                       f"values; only one tensor is "
                                       f"supported")
            output = output[0]
        if not isinstance(output, torch.fx.Node) or output not in self.env:
            raise UnsupportedError("the model output is not a tensor the "
                                   "exporter computed")
        out = self.env[output]
        if out == "x" or not self.model.layers:
            raise UnsupportedError("the model returns its input unchanged")
        if out != self.model.output:
            raise ExportError(f"internal: the output value {out!r} is not "
                              f"the last layer ({self.model.output!r})")
        return self.model


class _RunError(Exception):
    """An op of the model failed on the example input while tracing."""

    def __init__(self, cause):
        super().__init__(str(cause))
        self.cause = cause


def _first_line(e):
    return f"{type(e).__name__}: {(str(e).splitlines() or [''])[0]}"


def _concrete_tracer(example):
    """A torch.fx Tracer whose proxies also hold the value the model
    computes on `example` (each traced op is run as it is recorded): sizes,
    shapes, ranks and lengths are plain Python ints, so that code computing
    with them (shufflenet's ``b, c, h, w = x.size()``, iterating over a
    chunk) traces, and the graph holds them as constants. Leaf modules stay
    call_module nodes named by their module path."""
    torch = _torch()
    fx = torch.fx

    class ConcreteProxy(fx.Proxy):
        _value = None  # set by the tracer (a class default keeps Proxy's
        # __getattr__ from making it a graph attribute)

        def size(self, dim=None):
            return self._value.size() if dim is None else \
                self._value.size(dim)

        def dim(self):
            return self._value.dim()

        def numel(self):
            return self._value.numel()

        def __len__(self):
            return len(self._value)

        def __iter__(self):
            return iter([self[i] for i in range(len(self._value))])

    for attr in ("shape", "ndim", "dtype", "device", "requires_grad"):
        setattr(ConcreteProxy, attr,
                property(lambda self, attr=attr: getattr(self._value, attr)))

    class ConcreteTracer(fx.Tracer):
        # While an op computes its value, fx's patches of Module.__call__
        # and __getattr__ (which record calls and parameter reads) must let
        # a leaf module run as in eager mode.
        computing = False

        def proxy(self, node):
            return ConcreteProxy(node, self)

        def call_module(self, m, forward, args, kwargs):
            if self.computing:
                return forward(*args, **kwargs)
            return super().call_module(m, forward, args, kwargs)

        def getattr(self, attr, attr_val, parameter_proxy_cache):
            if self.computing:
                return attr_val
            return super().getattr(attr, attr_val, parameter_proxy_cache)

        def create_proxy(self, kind, target, args, kwargs, name=None,
                         type_expr=None, proxy_factory_fn=None):
            proxy = super().create_proxy(kind, target, args, kwargs, name,
                                         type_expr, proxy_factory_fn)
            if isinstance(proxy, ConcreteProxy):
                proxy._value = self.run(kind, target, args, kwargs)
            return proxy

        def run(self, kind, target, args, kwargs):
            args, kwargs = fx.node.map_aggregate(
                (args, kwargs),
                lambda a: a._value if isinstance(a, fx.Proxy) else a)
            self.computing = True
            try:
                return self.compute(kind, target, args, kwargs)
            except Exception as e:  # noqa: BLE001 (the model raises it)
                raise _RunError(e) from None
            finally:
                self.computing = False

        def compute(self, kind, target, args, kwargs):
            with torch.no_grad():
                if kind == "placeholder":
                    # The only input (export rejects models with more).
                    return example
                if kind == "get_attr":
                    value = self.root
                    for atom in target.split("."):
                        value = getattr(value, atom)
                    return value
                if kind == "call_module":
                    return self.root.get_submodule(target)(*args, **kwargs)
                if kind == "call_function":
                    return target(*args, **kwargs)
                if kind == "call_method":
                    return getattr(args[0], target)(*args[1:], **kwargs)
            return None

    return ConcreteTracer()


# Tensor methods that are activations without parameters (and their
# in-place forms, name + "_").
_ACTIVATION_METHODS = ("sigmoid", "tanh", "exp")


def _activation_modules():
    """nn module type -> (emit.ACTIVATIONS name, the module attributes that
    are its parameters)."""
    nn = _torch().nn
    return {nn.Sigmoid: ("sigmoid", ()), nn.Tanh: ("tanh", ()),
            nn.Hardswish: ("hardswish", ()),
            nn.Hardsigmoid: ("hardsigmoid", ()), nn.SiLU: ("silu", ()),
            nn.GELU: ("gelu", ("approximate",)), nn.ELU: ("elu", ("alpha",)),
            nn.LeakyReLU: ("leaky_relu", ("negative_slope",)),
            nn.Softplus: ("softplus", ("beta", "threshold")),
            nn.Mish: ("mish", ())}


def _activation_function(fn):
    """(emit.ACTIVATIONS name, signature) of an activation function, or
    None."""
    torch = _torch()
    F = torch.nn.functional
    table = [((F.sigmoid, torch.sigmoid, torch.sigmoid_), "sigmoid",
              _sig_unary),
             ((F.tanh, torch.tanh, torch.tanh_), "tanh", _sig_unary),
             ((torch.exp, torch.exp_), "exp", _sig_unary),
             ((F.hardswish,), "hardswish", _sig_unary),
             ((F.hardsigmoid,), "hardsigmoid", _sig_unary),
             ((F.silu,), "silu", _sig_unary),
             ((F.gelu,), "gelu", _sig_gelu),
             ((F.elu, F.elu_), "elu", _sig_elu),
             ((F.leaky_relu, F.leaky_relu_), "leaky_relu", _sig_leaky_relu),
             ((F.softplus,), "softplus", _sig_softplus),
             ((F.mish,), "mish", _sig_unary)]
    for fns, kind, sig in table:
        if any(fn is f for f in fns):
            return kind, sig
    return None


def trace(module, example_input):
    """torch.fx GraphModule of a copy of `module` in eval mode, traced on
    `example_input` (a tensor: sizes become constants) with BatchNorm folded
    into the convolutions it follows; returns (graph_module, folded) where
    folded lists the folded BatchNorm module paths."""
    torch = _torch()
    from torch.fx.experimental.optimization import fuse
    if not isinstance(module, torch.nn.Module):
        raise ExportError(f"expected a torch.nn.Module, got "
                          f"{type(module).__name__}")
    m = copy.deepcopy(module).float().eval()
    tracer = _concrete_tracer(example_input.clone())
    try:
        graph = tracer.trace(m)
    except _RunError as e:
        raise InputShapeError(
            f"running the model on an input of shape "
            f"{list(example_input.shape)} failed: "
            f"{_first_line(e.cause)}") from None
    except Exception as e:  # noqa: BLE001 (fx and the model raise many kinds)
        raise ExportError(f"torch.fx cannot trace {type(module).__name__} "
                          f"on an input of shape "
                          f"{list(example_input.shape)}: "
                          f"{_first_line(e)}") from None
    traced = torch.fx.GraphModule(tracer.root, graph, type(m).__name__)
    traced.graph.eliminate_dead_code()
    traced.recompile()
    bns = {n.target for n in traced.graph.nodes if n.op == "call_module"
           and isinstance(traced.get_submodule(n.target),
                          torch.nn.BatchNorm2d)}
    fused = fuse(traced)
    left = {n.target for n in fused.graph.nodes if n.op == "call_module"}
    return fused, sorted(bns - left)


def export(module, example_input):
    """An emit.Model of `module` (float, BatchNorm folded) for inputs shaped
    like `example_input` (its batch size is the graph's; use
    ``Model.with_batch`` for others). The returned model also has
    ``folded_batchnorms`` (module paths)."""
    torch = _torch()
    from torch.fx.passes.shape_prop import ShapeProp
    x = torch.as_tensor(np.asarray(example_input, np.float32)) \
        if not isinstance(example_input, torch.Tensor) else \
        example_input.detach().float()
    gm, folded = trace(module, x)
    nin = sum(1 for n in gm.graph.nodes if n.op == "placeholder")
    if nin != 1:
        raise UnsupportedError(f"the model takes {nin} inputs; only one "
                               f"tensor input is supported")
    modules = dict(gm.named_modules())
    with torch.no_grad(), contextlib.redirect_stderr(io.StringIO()):
        # ShapeProp prints the traceback of a failing node and raises its
        # own error from it: report the node's error, on one line.
        try:
            ShapeProp(gm).propagate(x)
        except Exception as e:  # noqa: BLE001
            raise InputShapeError(
                f"running the traced model on an input of shape "
                f"{list(x.shape)} failed: "
                f"{_first_line(e.__context__ or e)}") from None
    model = _Exporter(gm, x, modules).run()
    model.folded_batchnorms = folded
    return model
