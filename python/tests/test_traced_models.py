"""Models torch.fx cannot trace symbolically, data movement and BatchNorm
anywhere (python/myquant/export.py): the concrete-shape tracer exports code
that computes with sizes (``b, c, h, w = x.size()``), the channel shuffle,
chunk / split / narrow / slicing, permute and reshapes, which stay in int8;
a BatchNorm2d no conv absorbs becomes a depthwise 1x1 convolution; dropout
and stochastic depth are the identity; torchvision's own MobileNetV3 and
EfficientNet blocks (lookup-table activations, squeeze-excite broadcast
multiplies) quantize integer-only; parameters read directly (a layer
scale) are per-channel requantizations. Each model matches PyTorch in float,
and its int8 form is integer-only and bit-identical to the numpy reference
on every kernel target. torchvision's shufflenet_v2_x1_0 and densenet121
export.

Run: /usr/bin/python3 -m pytest -q python/tests/test_traced_models.py"""

import numpy as np
import pytest

from conftest import RUNNABLE_TARGETS, ToolError, randomize_batchnorm

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

from myquant import emit as E  # noqa: E402
from myquant import tools as T  # noqa: E402
from myquant.export import export  # noqa: E402
from myquant.testing import model_reference as MR  # noqa: E402


def channel_shuffle(x, groups):
    """torchvision's shufflenetv2.channel_shuffle."""
    batchsize, num_channels, height, width = x.size()
    x = x.view(batchsize, groups, num_channels // groups, height, width)
    x = torch.transpose(x, 1, 2).contiguous()
    return x.view(batchsize, -1, height, width)


class ShuffleChunk(nn.Module):
    """Sizes as Python ints (iterating x.size(), len, shape), a channel
    shuffle, chunk / split / narrow / slicing along channels, permute,
    unsqueeze / squeeze / flatten."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.branch = nn.Sequential(nn.Conv2d(4, 4, 1, bias=False),
                                    nn.BatchNorm2d(4), nn.ReLU())
        self.head = nn.Conv2d(10, 6, 1)
        self.fc = nn.Linear(6 * 4 * 4, 5)

    def forward(self, x):
        x = F.relu(self.stem(x))
        a, b = x.chunk(2, dim=1)
        x = channel_shuffle(torch.cat((a, self.branch(b)), dim=1), 2)
        p, q, r = torch.split(x, [2, 4, 2], dim=1)
        x = torch.cat([r, q.narrow(1, 1, 2), x[:, 5:7], p, x[:, -2:]], 1)
        n = 1
        for d in x.size()[1:]:
            n *= d
        assert n == x.numel() // len(x) == x.shape[1] * 64
        y = self.head(F.max_pool2d(x, 2)).permute(0, 2, 3, 1)
        return self.fc(y.unsqueeze(1).squeeze(1).reshape(len(y), -1))


class DenseBlock(nn.Module):
    """DenseNet's pre-activation layers: BatchNorm after a concatenation,
    BN -> ReLU -> conv, and a BatchNorm without affine parameters."""

    def __init__(self, c=4, growth=4):
        super().__init__()
        self.stem = nn.Conv2d(3, c, 3, padding=1)
        self.layers = nn.ModuleList()
        for i in range(2):
            cin = c + i * growth
            self.layers.append(nn.Sequential(
                nn.BatchNorm2d(cin), nn.ReLU(),
                nn.Conv2d(cin, growth, 3, padding=1, bias=False)))
        self.norm = nn.BatchNorm2d(c + 2 * growth, affine=False)

    def forward(self, x):
        features = [self.stem(x)]
        for layer in self.layers:
            features.append(layer(torch.cat(features, 1)))
        return self.norm(torch.cat(features, 1))


class Dropouts(nn.Module):
    """Every dropout and stochastic depth: the identity at inference."""

    def __init__(self):
        super().__init__()
        tv_ops = pytest.importorskip("torchvision.ops")
        self.c = nn.Conv2d(3, 4, 3, padding=1)
        self.drops = nn.Sequential(nn.Dropout(0.2), nn.Dropout2d(0.3),
                                   nn.AlphaDropout(0.1),
                                   nn.FeatureAlphaDropout(0.1),
                                   tv_ops.StochasticDepth(0.5, "row"))
        self.sd = tv_ops.stochastic_depth

    def forward(self, x):
        y = self.drops(self.c(x))
        y = F.dropout2d(F.alpha_dropout(y, 0.5), 0.1, training=self.training)
        return F.relu(self.sd(y, 0.2, "batch", training=self.training) + y)


def _bn(channels):
    return nn.BatchNorm2d(channels, eps=0.001)


class MobileNetV3Blocks(nn.Module):
    """torchvision's own MobileNetV3 blocks: hardswish, depthwise convs,
    squeeze-excite (adaptive pool, 1x1 convs, hardsigmoid, broadcast mul),
    residual adds; a global pool and a classifier."""

    def __init__(self):
        super().__init__()
        from torchvision.models.mobilenetv3 import (InvertedResidual,
                                                    InvertedResidualConfig)
        from torchvision.ops.misc import Conv2dNormActivation

        def block(cin, k, exp, cout, se, act, stride):
            return InvertedResidual(InvertedResidualConfig(
                cin, k, exp, cout, se, act, stride, 1, 1), _bn)
        self.features = nn.Sequential(
            Conv2dNormActivation(3, 8, 3, norm_layer=_bn,
                                 activation_layer=nn.Hardswish),
            block(8, 3, 8, 8, True, "RE", 1), block(8, 3, 24, 16, True, "HS", 2),
            block(16, 5, 32, 16, True, "HS", 1))
        self.classifier = nn.Sequential(nn.Linear(16, 12), nn.Hardswish(),
                                        nn.Dropout(0.2), nn.Linear(12, 5))

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.features(x), 1)
        return self.classifier(torch.flatten(x, 1))


class EfficientNetBlocks(nn.Module):
    """torchvision's own EfficientNet blocks: SiLU, MBConv with
    squeeze-excite scaled by sigmoid, stochastic depth."""

    def __init__(self):
        super().__init__()
        from torchvision.models.efficientnet import MBConv, MBConvConfig
        from torchvision.ops.misc import Conv2dNormActivation
        self.features = nn.Sequential(
            Conv2dNormActivation(3, 8, 3, norm_layer=_bn,
                                 activation_layer=nn.SiLU),
            MBConv(MBConvConfig(1, 3, 1, 8, 8, 1), 0.1, _bn),
            MBConv(MBConvConfig(4, 3, 2, 8, 16, 1), 0.1, _bn),
            MBConv(MBConvConfig(4, 5, 1, 16, 16, 1), 0.2, _bn))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(16, 5))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)),
                                             1))


class LayerScale(nn.Module):
    """Parameters and buffers read directly (fx get_attr): ConvNeXt's
    layer scale ``gamma * x`` ([C, 1, 1], both signs) in a residual,
    ``x / scale`` by a [C, 1, 1] buffer, a scale along the last dimension
    of a channels-last permute; each a per-channel requantization."""

    def __init__(self, c=8):
        super().__init__()
        self.stem = nn.Conv2d(3, c, 3, padding=1)
        self.gamma = nn.Parameter(torch.rand(c, 1, 1) * 2 - 1)
        self.register_buffer("scale", torch.rand(c, 1, 1) + 0.5)
        self.last = nn.Parameter(torch.randn(c))
        self.head = nn.Conv2d(c, 4, 1)

    def forward(self, x):
        x = self.stem(x)
        x = x + self.gamma * F.relu(x)
        x = torch.div(x, self.scale)
        x = (x.permute(0, 2, 3, 1) * self.last).permute(0, 3, 1, 2)
        return self.head(x)


MODELS = {"shuffle_chunk": ShuffleChunk, "dense_block": DenseBlock,
          "dropouts": Dropouts, "mobilenet_v3_blocks": MobileNetV3Blocks,
          "efficientnet_blocks": EfficientNetBlocks,
          "layer_scale": LayerScale}
INPUT = (2, 3, 8, 8)


def _case(name):
    torch.manual_seed(0)
    return randomize_batchnorm(MODELS[name]()).eval()


def _float_close(got, want, what):
    scale = max(float(np.max(np.abs(want))), 1e-30)
    err = float(np.max(np.abs(got.astype(np.float64) - want))) / scale
    assert got.shape == want.shape and err <= 1e-5, \
        f"{what}: shape {got.shape} vs {want.shape}, max relative error " \
        f"{err:.2e} > 1e-5"


@pytest.mark.parametrize("name", sorted(MODELS))
def test_float_export_matches_pytorch(name, workdir):
    model = _case(name)
    x = torch.randn(*INPUT)
    graph = export(model, x)
    with torch.no_grad():
        want = model(x).numpy().astype(np.float64)
    src = f"{workdir}/float.mlir"
    with open(src, "w") as f:
        f.write(E.emit(graph))
    got = T.run_mlir(src, "forward", [x.numpy()], workdir)[0]
    _float_close(got, want, f"{name} (myquant-run)")
    _float_close(E.float_forward(graph, x.numpy())[graph.output], want,
                 f"{name} (numpy float_forward)")


def test_exported_layers():
    g = export(_case("shuffle_chunk"), torch.randn(*INPUT))
    kinds = [type(l).__name__ for l in g.layers]
    # chunk: 2 slices; the shuffle: expand, transpose, collapse; split: 3
    # slices; narrow and two index slices.
    assert kinds.count("Slice") == 8 and kinds.count("Transpose") == 2, kinds
    view = g.producer("view")
    assert isinstance(view, E.Reshape) and view.shape == (2, 4, 8, 8)
    # Sizes traced as constants: no size or shape op is left in the graph.
    assert g.producer("transpose").perm == (0, 2, 1, 3, 4)
    text = E.emit(g)
    assert "tensor.expand_shape" in text and "linalg.transpose" in text
    assert "tensor.extract_slice" in text

    dense = export(_case("dense_block"), torch.randn(*INPUT))
    # The BatchNorms after a concatenation are depthwise 1x1 convolutions.
    for bn in ("layers.0.0", "layers.1.0", "norm"):
        conv = dense.producer(bn)
        assert isinstance(conv, E.Conv2d) and conv.groups == conv.w.shape[0]
        assert conv.w.shape[1:] == (1, 1, 1)
    assert dense.folded_batchnorms == []

    drops = export(_case("dropouts"), torch.randn(*INPUT))
    assert [type(l).__name__ for l in drops.layers] == \
        ["Conv2d", "Add", "Relu"]

    scaled = export(_case("layer_scale"), torch.randn(*INPUT))
    muls = [l for l in scaled.layers if isinstance(l, E.ConstMul)]
    assert [(l.c.shape, l.divide) for l in muls] == \
        [((8, 1, 1), False), ((8, 1, 1), True), ((8,), False)]


def test_direct_parameter_misuse_names_it():
    """A parameter read directly is a constant only for *, /, +, x - p and
    concatenation: p - x is an error naming it."""
    class AddsParameter(nn.Module):
        def __init__(self):
            super().__init__()
            self.c = nn.Conv2d(3, 4, 1)
            self.shift = nn.Parameter(torch.ones(4, 1, 1))

        def forward(self, x):
            return self.shift - self.c(x)

    with pytest.raises(Exception, match="parameter or buffer 'shift' read "
                                        "directly"):
        export(AddsParameter().eval(), torch.randn(*INPUT))


def test_batch_generic():
    """Sizes were traced as constants at batch 2; the graph still runs at
    any batch (reshapes keep the batch dimension)."""
    model = _case("shuffle_chunk")
    g = export(model, torch.randn(1, 3, 8, 8)).with_batch(3)
    x = torch.randn(3, 3, 8, 8)
    with torch.no_grad():
        want = model(x).numpy().astype(np.float64)
    _float_close(E.float_forward(g, x.numpy())[g.output], want, "batch 3")


@pytest.mark.parametrize("ishape,oshape,form", [
    ((2, 12), (3, 1, 4, 1), "expand_shape"),
    ((2, 3, 1, 4, 1), (12,), "collapse_shape"),
    ((2, 4, 2, 2), (2, 4, 2), "collapse_shape %x [[0, 1, 2, 3]]"),
    ((2, 6, 1), (6, 1, 1), "expand_shape")])
def test_reshape_forms(ishape, oshape, form, workdir):
    """A reshape is one collapse or expand where dims merge or split (unit
    dims included), else a collapse to one dim and an expand."""
    m = E.Model(ishape)
    m.add(E.Reshape(oshape))
    text = E.emit(m)
    assert form in text, text
    x = np.arange(np.prod(ishape), dtype=np.float32).reshape(ishape)
    src = f"{workdir}/r.mlir"
    with open(src, "w") as f:
        f.write(text)
    got = T.run_mlir(src, "forward", [x], workdir)[0]
    assert np.array_equal(got, x.reshape((ishape[0],) + oshape))


# Quantized: bit-exact against the reference, close to float.
TOLERANCE_LSB = {"shuffle_chunk": 3, "dense_block": 3, "dropouts": 4,
                 "mobilenet_v3_blocks": 3, "efficientnet_blocks": 3,
                 "layer_scale": 3}


@pytest.mark.parametrize("target", RUNNABLE_TARGETS)
@pytest.mark.parametrize("name", sorted(MODELS))
def test_int8_bit_exact(name, target, toolchain, workdir):
    model = _case(name)
    rng = np.random.default_rng(1)
    graph = export(model, torch.randn(*INPUT))
    stats = E.calibrate(graph, [rng.standard_normal(INPUT).astype(np.float32)
                                for _ in range(4)])
    x = (rng.standard_normal(INPUT) * 0.8).astype(np.float32)
    ref = MR.run_reference(graph, stats, x)
    want = ref.dequantize()
    try:
        quantized, got = toolchain.ptq_and_run(E.emit(graph, stats), target,
                                               x, workdir)
    except ToolError as e:
        pytest.fail(f"{name}: the compiler failed:\n{str(e)[:3000]}",
                    pytrace=False)
    # The data movement stayed in int8.
    moves = [line for line in quantized.splitlines() if any(
        op in line for op in ("linalg.transpose", "tensor.extract_slice",
                              "tensor.expand_shape", "tensor.collapse_shape"))]
    assert not [m for m in moves if "xf32>" in m], moves
    assert moves or name != "shuffle_chunk"
    assert np.array_equal(got.view(np.int32), want.view(np.int32)), \
        f"{name} ({target}): {np.sum(got != want)} of {got.size} outputs " \
        f"differ from the reference"
    flt = E.float_forward(graph, x)[graph.output].astype(np.float64)
    err = np.max(np.abs(got - flt)) / ref.scale
    assert err <= TOLERANCE_LSB[name], \
        f"{name}: {err:.2f} output LSBs from the float model"


def test_batchnorm_as_conv_is_exact_affine():
    """A standalone BatchNorm's per-channel weights (one value each)
    quantize exactly to +-127, so the int8 layer is the affine map of its
    int8 input up to the output rounding (0.5 LSB) and the bias rounding
    (0.5 unit of s_in * s_w)."""
    from myquant.testing import reference as R
    graph = export(_case("dense_block"), torch.randn(*INPUT))
    rng = np.random.default_rng(2)
    stats = E.calibrate(graph, [rng.standard_normal(INPUT).astype(np.float32)
                                for _ in range(4)])
    bn = graph.producer("norm")
    wq, sw = R.quantize_weights(bn.w, axis=0)
    assert set(np.abs(wq).ravel()) == {127}
    np.testing.assert_allclose(wq.ravel() * sw, bn.w.ravel(), rtol=1e-15)
    values = MR.run_reference(graph, stats, rng.standard_normal(INPUT).astype(
        np.float32)).values
    q_in, s_in, z_in = values[bn.inputs[0]]
    q_out, s_out, z_out = values["norm"]
    x = (q_in - z_in) * s_in
    want = x * bn.w.reshape(1, -1, 1, 1) + bn.b.reshape(1, -1, 1, 1)
    err = np.abs((q_out - z_out) * s_out - want)
    bound = 0.5 * s_out + 0.5 * s_in * sw.reshape(1, -1, 1, 1) + 1e-6 * s_out
    assert np.all(err <= bound), float(np.max(err / s_out))


# torchvision models at 224x224: export only (a few seconds each).
@pytest.mark.parametrize("name,layers", [
    ("shufflenet_v2_x1_0", {"Transpose": 16, "Slice": 26, "Reshape": 32}),
    ("densenet121", {"Conv2d": 120 + 62, "Concat": 58})])
def test_torchvision_exports(name, layers):
    models = pytest.importorskip("torchvision.models")
    torch.manual_seed(0)
    g = export(getattr(models, name)(), torch.randn(1, 3, 224, 224))
    kinds = [type(l).__name__ for l in g.layers]
    for kind, n in layers.items():
        assert kinds.count(kind) == n, (kind, kinds.count(kind))
    assert g.shapes[g.output] == (1, 1000)


@pytest.mark.slow
def test_convnext_tiny_integer_only(toolchain, workdir):
    """torchvision convnext_tiny (random weights) at 64 x 64: permute,
    channels-last LayerNorm, Linear on 4-D, GELU, layer scale and stochastic
    depth quantize with allow-float=false, bit-exact against the reference
    and close to float (benchmarks/zoo.py reports its SQNR next to
    PyTorch's)."""
    models = pytest.importorskip("torchvision.models")
    torch.manual_seed(0)
    shape = (1, 3, 64, 64)
    graph = export(models.convnext_tiny(), torch.randn(*shape))
    rng = np.random.default_rng(0)
    stats = E.calibrate(graph, [rng.standard_normal(shape).astype(np.float32)
                                for _ in range(2)])
    x = rng.standard_normal(shape).astype(np.float32)
    ref = MR.run_reference(graph, stats, x)
    want = ref.dequantize()
    _, got = toolchain.ptq_and_run(E.emit(graph, stats), RUNNABLE_TARGETS[0], x,
                                   workdir)
    assert np.array_equal(got.view(np.int32), want.view(np.int32)), \
        f"{np.sum(got != want)} of {got.size} logits differ from the reference"
    flt = E.float_forward(graph, x)[graph.output].astype(np.float64)
    sqnr = 10 * np.log10(np.sum(flt ** 2) / np.sum((got - flt) ** 2))
    assert sqnr > 10, f"logit SQNR {sqnr:.1f} dB"
