"""The benchmark models, as myquant.emit graphs (NCHW, float input) and as
the equivalent PyTorch modules with the same weights.

* small_cnn:    conv-relu-pool x2, conv-relu, global pool, linear.
* residual_cnn: a residual block (add), a strided conv, two branches
                concatenated, global pool, linear.
* dw_separable: MobileNet-style depthwise / pointwise convs with relu6.

All take 3 x 32 x 32 images; `batch` sets the leading dimension.
"""

import numpy as np

from myquant.emit import (Add, Concat, Conv2d, DepthwiseConv2d, Flatten,
                          GlobalAvgPool, Linear, MaxPool2d, Model, Relu,
                          Relu6)


def _conv(rng, f, c, k, **kw):
    fan_in = c * k * k
    w = rng.standard_normal((f, c, k, k)) * np.sqrt(2.0 / fan_in)
    return Conv2d(w.astype(np.float32),
                  (rng.standard_normal(f) * 0.05).astype(np.float32), **kw)


def _dw(rng, c, k, **kw):
    w = rng.standard_normal((c, k, k)) * np.sqrt(2.0 / (k * k))
    return DepthwiseConv2d(w.astype(np.float32),
                           (rng.standard_normal(c) * 0.05).astype(np.float32),
                           **kw)


def _linear(rng, n, k):
    w = rng.standard_normal((n, k)) * np.sqrt(1.0 / k)
    return Linear(w.astype(np.float32),
                  (rng.standard_normal(n) * 0.05).astype(np.float32))


def small_cnn(batch, seed=0):
    rng = np.random.default_rng(seed)
    m = Model((batch, 3, 32, 32))
    m.add(_conv(rng, 32, 3, 3, padding=1))
    m.add(Relu())
    m.add(MaxPool2d(2))
    m.add(_conv(rng, 64, 32, 3, padding=1))
    m.add(Relu())
    m.add(MaxPool2d(2))
    m.add(_conv(rng, 128, 64, 3, padding=1))
    m.add(Relu())
    m.add(GlobalAvgPool())
    m.add(Flatten())
    m.add(_linear(rng, 10, 128))
    return m


def residual_cnn(batch, seed=1):
    rng = np.random.default_rng(seed)
    m = Model((batch, 3, 32, 32))
    m.add(_conv(rng, 32, 3, 3, padding=1), name="stem")
    m.add(Relu(), name="block_in")
    m.add(_conv(rng, 32, 32, 3, padding=1), name="b1")
    m.add(Relu(), name="b1r")
    m.add(_conv(rng, 32, 32, 3, padding=1), name="b2")
    m.add(Add(), inputs=["b2", "block_in"], name="sum")
    m.add(Relu(), name="sumr")
    m.add(_conv(rng, 64, 32, 3, stride=2, padding=1), name="down")
    m.add(Relu(), name="downr")
    m.add(_conv(rng, 32, 64, 1), inputs="downr", name="p1")
    m.add(Relu(), name="p1r")
    m.add(_conv(rng, 32, 64, 3, padding=1), inputs="downr", name="p2")
    m.add(Relu(), name="p2r")
    m.add(Concat(), inputs=["p1r", "p2r"], name="cat")
    m.add(GlobalAvgPool(), name="gap")
    m.add(Flatten(), name="flat")
    m.add(_linear(rng, 10, 64), name="fc")
    return m


def dw_separable(batch, seed=2):
    rng = np.random.default_rng(seed)
    m = Model((batch, 3, 32, 32))
    m.add(_conv(rng, 32, 3, 3, stride=2, padding=1))
    m.add(Relu6())
    m.add(_dw(rng, 32, 3, padding=1))
    m.add(Relu6())
    m.add(_conv(rng, 64, 32, 1))
    m.add(Relu6())
    m.add(_dw(rng, 64, 3, stride=2, padding=1))
    m.add(Relu6())
    m.add(_conv(rng, 128, 64, 1))
    m.add(Relu6())
    m.add(_dw(rng, 128, 3, padding=1))
    m.add(Relu6())
    m.add(_conv(rng, 128, 128, 1))
    m.add(Relu6())
    m.add(GlobalAvgPool())
    m.add(Flatten())
    m.add(_linear(rng, 10, 128))
    return m


def conv_chain(depth, seed=0):
    """`depth` 3x3 16 -> 16 convolutions + relu on 16 x 8 x 8 (compile
    time)."""
    rng = np.random.default_rng(seed)
    m = Model((1, 16, 8, 8))
    for _ in range(depth):
        m.add(_conv(rng, 16, 16, 3, padding=1))
        m.add(Relu())
    return m


def resnet50_sized(seed=0):
    """About ResNet-50's parameter count (~24M): 3x3 512 -> 512
    convolutions on 7 x 7, then a 1000-way classifier (compile time)."""
    rng = np.random.default_rng(seed)
    m = Model((1, 512, 7, 7))
    for _ in range(10):
        m.add(_conv(rng, 512, 512, 3, padding=1))
        m.add(Relu())
    m.add(GlobalAvgPool())
    m.add(Flatten())
    m.add(_linear(rng, 1000, 512))
    return m


MODELS = {"small_cnn": small_cnn, "residual_cnn": residual_cnn,
          "dw_separable": dw_separable}


def macs(model):
    """Multiply-accumulates of the convolutions and linear layers."""
    total = 0
    for layer in model.layers:
        out = model.shapes[layer.name]
        if isinstance(layer, Conv2d):
            f, cg, kh, kw = layer.w.shape
            total += int(np.prod(out)) * cg * kh * kw
        elif isinstance(layer, Linear):
            total += int(np.prod(out)) * layer.w.shape[1]
    return total


def weight_bytes(model, itemsize):
    """Bytes of the weights (biases in int32 / f32 either way)."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, (Conv2d, Linear)):
            total += layer.w.size * itemsize
            if layer.b is not None:
                total += layer.b.size * 4
    return total


def to_torch(model):
    """The same graph as a torch.nn.Module (symbolically traceable)."""
    import torch
    from torch import nn

    class Graph(nn.Module):
        def __init__(self):
            super().__init__()
            self.mods = nn.ModuleDict()
            self.plan = []
            for layer in model.layers:
                name = f"m_{layer.name}"
                kind = type(layer).__name__
                if isinstance(layer, Conv2d):
                    f, cg, kh, kw = layer.w.shape
                    conv = nn.Conv2d(cg * layer.groups, f, (kh, kw),
                                     stride=layer.stride,
                                     padding=layer.padding,
                                     dilation=layer.dilation,
                                     groups=layer.groups,
                                     bias=layer.b is not None)
                    with torch.no_grad():
                        conv.weight.copy_(torch.from_numpy(layer.w))
                        if layer.b is not None:
                            conv.bias.copy_(torch.from_numpy(layer.b))
                    self.mods[name] = conv
                    kind = "module"
                elif isinstance(layer, Linear):
                    lin = nn.Linear(layer.w.shape[1], layer.w.shape[0],
                                    bias=layer.b is not None)
                    with torch.no_grad():
                        lin.weight.copy_(torch.from_numpy(layer.w))
                        if layer.b is not None:
                            lin.bias.copy_(torch.from_numpy(layer.b))
                    self.mods[name] = lin
                    kind = "module"
                elif isinstance(layer, Relu6):
                    self.mods[name] = nn.ReLU6()
                    kind = "module"
                elif isinstance(layer, Relu):
                    self.mods[name] = nn.ReLU()
                    kind = "module"
                elif isinstance(layer, MaxPool2d) and \
                        type(layer) is MaxPool2d:
                    self.mods[name] = nn.MaxPool2d(layer.k, layer.stride,
                                                   layer.padding)
                    kind = "module"
                elif isinstance(layer, MaxPool2d):  # AvgPool2d
                    self.mods[name] = nn.AvgPool2d(layer.k, layer.stride,
                                                   layer.padding,
                                                   count_include_pad=True)
                    kind = "module"
                elif isinstance(layer, GlobalAvgPool):
                    self.mods[name] = nn.AdaptiveAvgPool2d(1)
                    kind = "module"
                self.plan.append((layer.name, kind, name,
                                  tuple(layer.inputs)))

        def forward(self, x):
            env = {"x": x}
            for out, kind, name, inputs in self.plan:
                args = [env[i] for i in inputs]
                if kind == "module":
                    env[out] = self.mods[name](args[0])
                elif kind == "Flatten":
                    env[out] = torch.flatten(args[0], 1)
                elif kind == "Add":
                    env[out] = args[0] + args[1]
                elif kind == "Concat":
                    env[out] = torch.cat(args, 1)
                else:
                    raise ValueError(f"no torch equivalent of {kind}")
            return env[self.plan[-1][0]]

    return Graph().eval()
