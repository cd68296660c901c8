"""PyTorch -> myquant float model (python/myquant/emit.py graph) via torch.fx.

    from myquant.export import export
    graph = export(torch_model, example_input)     # an emit.Model
    text = emit.emit(graph)                         # float linalg MLIR

The model is traced with ``torch.fx.symbolic_trace`` (in eval mode, on a
copy), BatchNorm is folded into the preceding convolution
(``torch.fx.experimental.optimization.fuse``) and ``ShapeProp`` gives every
shape, which is checked against the shape the emitted layer computes. Every
value is named after its module path (``features.0``) or, for functions and
methods, after its fx node (``add``, ``cat_1``); the emitted MLIR carries
these names as ``loc("...")`` locations.

Supported (everything else raises :class:`UnsupportedError` naming the
module or function and its fx node):

* modules: Conv2d (groups, stride, padding incl. 'same'/'valid', dilation;
  zero padding), Linear (2-D input), ReLU, ReLU6, Hardtanh(0, 6), MaxPool2d
  and AvgPool2d (ceil_mode, count_include_pad), AdaptiveAvgPool2d and
  AdaptiveMaxPool2d to any output size, Flatten,
  BatchNorm2d directly after a Conv2d (folded), and Identity / Dropout
  (eval: identity);
* functions and methods: F.relu / torch.relu / .relu(), F.relu6,
  F.hardtanh(0, 6), F.max_pool2d, F.avg_pool2d, F.adaptive_avg_pool2d,
  F.adaptive_max_pool2d, operator.add / torch.add / .add() / ``+=``,
  operator.sub / torch.sub / .sub() and operator.mul / torch.mul / .mul()
  of two tensors that broadcast (numpy rules: a squeeze-excite scale
  [N, C, 1, 1] times [N, C, H, W]), ``x * c`` / ``x / c`` by a positive
  number,
  torch.cat / torch.concat along dim 1, torch.flatten / .flatten / .view /
  .reshape to [N, -1], .mean over dims (2, 3), .contiguous(), F.dropout
  (eval), and .size() / .shape used for reshapes.
"""

import contextlib
import copy
import inspect
import io
import operator

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


def _sig_flatten(input, start_dim=0, end_dim=-1):
    pass


def _sig_mean(input, dim=None, keepdim=False, dtype=None):
    pass


def _sig_dropout(input, p=0.5, training=True, inplace=False):
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
        if arg not in self.env:
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
        name, loc = self.name_for(node)
        try:
            out = self.model.add(layer, inputs=inputs, name=name, loc=loc)
        except ValueError as e:
            raise ExportError(f"{_describe(node, self.modules)}: {e}") \
                from None
        return out

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

    def flatten_like(self, node, src):
        """A reshape of src: identity, or a flatten to [N, -1]."""
        x = self.value(src, node)
        ishape = self.model.shapes[x]
        oshape = self.shape(node)
        if oshape is None:
            self.unsupported(node, "no shape")
        if tuple(oshape) == tuple(ishape):
            self.env[node] = x
            return
        n = ishape[0]
        if len(ishape) == 4 and tuple(oshape) == (n, int(np.prod(ishape[1:]))):
            self.finish(node, self.add(node, E.Flatten(), [x]))
            return
        self.unsupported(node, f"reshape from {list(ishape)} to "
                         f"{list(oshape)} (only flattening NCHW to [N, -1])")

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
        self.binary(node, a, b, layer,
                    "subtracting" if layer is E.Sub else "adding")

    def scale(self, node, src, c, divide):
        """x * c or x / c by a positive Python number."""
        if isinstance(c, bool) or not isinstance(c, (int, float)) or \
                not float(c) > 0:
            self.unsupported(node, f"{'dividing' if divide else 'multiplying'}"
                             f" by {c!r} (only by a positive number, or "
                             f"multiplying two tensors)")
        self.unary(node, E.Scale(float(c), divide=divide), src)

    def mul_op(self, node, a, b):
        torch = _torch()
        if isinstance(a, torch.fx.Node) and not isinstance(b, torch.fx.Node):
            return self.scale(node, a, b, divide=False)
        if isinstance(b, torch.fx.Node) and not isinstance(a, torch.fx.Node):
            return self.scale(node, b, a, divide=False)
        self.binary(node, a, b, E.Mul, "multiplying")

    def div_op(self, node, a, b):
        torch = _torch()
        if not isinstance(a, torch.fx.Node) or isinstance(b, torch.fx.Node):
            self.unsupported(node, "division of or by a tensor (only a "
                             "tensor divided by a positive number)")
        self.scale(node, a, b, divide=True)

    def cat(self, node, tensors, dim):
        vals = [self.value(t, node) for t in tensors]
        rank = len(self.model.shapes[vals[0]])
        if dim < 0:
            dim += rank
        if dim != 1:
            self.unsupported(node, f"concatenation along dim {dim} (only "
                             f"dim 1, channels)")
        if len(vals) == 1:
            self.env[node] = vals[0]
            return
        self.finish(node, self.add(node, E.Concat(), vals))

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
        if len(node.args) != 1 or node.kwargs:
            self.unsupported(node, "called with more than one argument")
        if t is nn.Conv2d:
            return self.unary(node, self.conv(node, m), src)
        if t is nn.Linear:
            x = self.value(src, node)
            if len(self.model.shapes[x]) != 2:
                self.unsupported(node, f"input of shape "
                                 f"{list(self.model.shapes[x])} (only 2-D "
                                 f"[N, features])")
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
        if t is nn.Flatten:
            x = self.value(src, node)
            rank = len(self.model.shapes[x])
            if m.start_dim % rank != 1 or m.end_dim % rank != rank - 1:
                self.unsupported(node, f"start_dim={m.start_dim}, "
                                 f"end_dim={m.end_dim} (only 1, -1)")
            return self.flatten_like(node, src)
        if t in (nn.Identity, nn.Dropout, nn.Dropout2d):
            self.env[node] = self.value(src, node)
            return
        if t is nn.BatchNorm2d:
            self.unsupported(node, "a BatchNorm2d is folded only when it "
                             "directly follows a Conv2d whose output it "
                             "alone uses")
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
        if fn is torch.flatten:
            a = _bind(_sig_flatten, node)
            return self.flatten_call(node, a["input"], a["start_dim"],
                                     a["end_dim"])
        if fn is torch.mean:
            a = _bind(_sig_mean, node)
            return self.mean(node, a["input"], a["dim"], a["keepdim"])
        if fn in (torch.reshape,):
            return self.flatten_like(node, node.args[0])
        if fn is F.dropout:
            a = _bind(_sig_dropout, node)
            if a["training"]:
                self.unsupported(node, "dropout in training mode")
            self.env[node] = self.value(a["input"], node)
            return
        if fn is getattr and node.args[1] == "shape":
            return  # a shape, read by reshapes
        if fn is operator.getitem and node.args[0] not in self.env:
            return  # e.g. x.size()[0]
        self.unsupported(node)

    def flatten_call(self, node, src, start_dim, end_dim):
        x = self.value(src, node)
        rank = len(self.model.shapes[x])
        if start_dim % rank != 1 or end_dim % rank != rank - 1:
            self.unsupported(node, f"start_dim={start_dim}, "
                             f"end_dim={end_dim} (only 1, -1)")
        self.flatten_like(node, src)

    def call_method(self, node):
        name = node.target
        args = list(node.args)
        if name in ("size", "dim"):
            return  # a shape, read by reshapes
        if name in ("relu", "relu_"):
            return self.unary(node, E.Relu(), args[0])
        if name in ("contiguous",):
            self.env[node] = self.value(args[0], node)
            return
        if name in ("view", "reshape"):
            return self.flatten_like(node, args[0])
        if name == "flatten":
            a = _bind(_sig_flatten, node)
            return self.flatten_call(node, a["input"], a["start_dim"],
                                     a["end_dim"])
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
        if name == "mean":
            a = _bind(_sig_mean, node)
            return self.mean(node, a["input"], a["dim"], a["keepdim"])
        self.unsupported(node)

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
                raise UnsupportedError(
                    f"the model reads parameter or buffer '{node.target}' "
                    f"directly (fx node '{node.name}'); only parameters of "
                    f"supported modules (Conv2d, Linear, BatchNorm2d after a "
                    f"Conv2d) are supported")
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


def trace(module):
    """torch.fx GraphModule of a copy of `module` in eval mode, with
    BatchNorm folded; returns (graph_module, folded) where folded lists the
    folded BatchNorm module paths."""
    torch = _torch()
    from torch.fx.experimental.optimization import fuse
    if not isinstance(module, torch.nn.Module):
        raise ExportError(f"expected a torch.nn.Module, got "
                          f"{type(module).__name__}")
    m = copy.deepcopy(module).float().eval()
    try:
        traced = torch.fx.symbolic_trace(m)
    except Exception as e:  # noqa: BLE001 (fx raises many kinds)
        raise ExportError(f"torch.fx.symbolic_trace cannot trace "
                          f"{type(module).__name__}: {type(e).__name__}: "
                          f"{e}") from None
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
    gm, folded = trace(module)
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
            cause = e.__context__ or e
            first = (str(cause).splitlines() or [""])[0]
            raise InputShapeError(
                f"running the traced model on an input of shape "
                f"{list(x.shape)} failed: {type(cause).__name__}: "
                f"{first}") from None
    model = _Exporter(gm, x, modules).run()
    model.folded_batchnorms = folded
    return model
