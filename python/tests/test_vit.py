"""ViT's constants (issue 17): a constant concatenated with activations
(the class token, expanded over the batch) and a constant added to them
(the position embedding), quantized at compile time (docs/NumericSpec.md
3.5, 3.2); torchvision's VisionTransformer end to end, integer-only and
bit-identical to the numpy reference on every kernel target.

Run: /usr/bin/python3 -m pytest -q python/tests/test_vit.py"""

import numpy as np
import pytest

from conftest import RUNNABLE_TARGETS, rand_f32

from myquant.emit import (ConstAdd, ConstConcat, LayerNorm, Linear, Model,
                          Relu, calibrate, emit, float_forward)
from myquant.testing import model_reference as MR
from myquant.testing import reference as R

PTQ = ["--myquant-propagate-qparams", "--myquant-quantize",
       "--myquant-verify-integer-only", "--myquant-verify-qparams"]


def constants_model(rng, batch):
    """Patches -> Linear -> [token, patches, end token] -> + position
    embedding -> relu (fused into the add) -> Linear -> LayerNorm, the
    constants off the activations' range so that some saturate."""
    d = 8
    m = Model((batch, 3, 6))
    m.add(Linear(rand_f32(rng, d, 6, scale=0.5), rand_f32(rng, d)))
    m.add(ConstConcat([rand_f32(rng, 1, 1, d, scale=2.0), None,
                       rand_f32(rng, 1, 2, d, scale=0.3)]), name="cat")
    m.add(ConstAdd(rand_f32(rng, 1, 6, d, scale=0.7)), name="pos")
    m.add(Relu())
    m.add(Linear(rand_f32(rng, d, d, scale=0.4), rand_f32(rng, d)))
    m.add(LayerNorm(1 + rand_f32(rng, d, scale=0.1), rand_f32(rng, d)))
    return m


@pytest.mark.parametrize("batch", [1, 3])
def test_constant_operands_bit_exact(batch, toolchain, workdir):
    rng = np.random.default_rng(batch)
    m = constants_model(rng, batch)
    x = rng.standard_normal(m.input_shape).astype(np.float32)
    stats = calibrate(m, [rng.standard_normal(m.input_shape).astype(
        np.float32) for _ in range(4)])
    want_q = MR.run_reference(m, stats, x)
    quantized, remarks = toolchain.quantize(emit(m, stats), PTQ, workdir)
    # The constants are storage integers of the concatenation (a copy, no
    # requantize of any operand) and of the add's own parameters.
    assert "myquant.concat" in quantized and "myquant.add" in quantized, \
        remarks
    assert "myquant.requantize" not in quantized, remarks
    toolchain.check_targets(quantized, x, want_q.dequantize(), workdir)
    # The token's integers: those of the concatenation's parameters.
    cat_q, s, z = want_q.values["cat"]
    token = m.layers[1].parts[0]
    assert np.array_equal(cat_q[:, :1], np.broadcast_to(
        R.quantize(token, s, z), (batch, 1, 8)))
    # Against float (measured: 31.8 and 37.1 dB, batch 1 and 3).
    flt = float_forward(m, x)[m.output]
    err = want_q.dequantize() - flt
    sqnr = 10 * np.log10(np.sum(flt ** 2) / np.sum(err ** 2))
    assert sqnr > 27


def test_constant_operand_qparams():
    """The add's constant takes the parameters of its own range (1.1);
    values round half to even and saturate like quantize (3.9)."""
    q, s, z = R.constant_operand(np.array([[-1.0, 0.5], [0.25, 1.0]]))
    assert (s, z) == (2 / 255, 0)
    assert q.tolist() == [[-128, 64], [32, 127]]
    q, s, z = R.constant_operand(np.array([0.5, -1.0, 2.0, 3.0]), 4 / 255, 0)
    assert q.tolist() == [32, -64, 127, 127]
    with pytest.raises(ValueError):
        R.constant_operand(np.array([1.0, np.inf]))


# ---------------------------------------------------------------------------
# torchvision's VisionTransformer
# ---------------------------------------------------------------------------

def small_vit():
    """torchvision's VisionTransformer in small (16 patches of 8 x 8, 2
    layers of 2 heads over 64 channels), with a random class token and
    head (torchvision initializes both to zero) and LayerNorms away from
    (1, 0)."""
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    vit = torchvision.models.VisionTransformer(
        image_size=32, patch_size=8, num_layers=2, num_heads=2,
        hidden_dim=64, mlp_dim=128, num_classes=10).eval()
    with torch.no_grad():
        vit.class_token.normal_(0, 0.5)
        vit.heads.head.weight.normal_(0, 0.1)
        for m in vit.modules():
            if isinstance(m, torch.nn.LayerNorm):
                m.weight.add_(0.2 * torch.randn_like(m.weight))
                m.bias.add_(0.2 * torch.randn_like(m.bias))
    return torch, vit


def test_export_parameter_concat_and_add():
    """cat([p.expand(n, -1, -1), x]), cat([x, q]) (q of batch size 1),
    x + p, p + x and x - p export as ConstConcat and ConstAdd and compute
    what PyTorch does; other uses of a parameter are clear errors."""
    torch = pytest.importorskip("torch")
    from myquant.export import UnsupportedError, export
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.token = nn.Parameter(torch.randn(1, 1, 4))
            self.end = nn.Parameter(torch.randn(1, 2, 4))
            self.pos = nn.Parameter(torch.randn(1, 6, 4))
            self.shift = nn.Parameter(torch.randn(4))

        def forward(self, x):
            x = torch.cat([self.token.expand(x.shape[0], -1, -1), x], dim=1)
            x = torch.cat([x, self.end.expand(x.shape[0], -1, -1)], dim=1)
            x = self.pos + (x + self.pos)
            return x - self.shift

    net = Net().eval()
    x = torch.randn(3, 3, 4)
    graph = export(net, x)
    assert [type(l).__name__ for l in graph.layers] == \
        ["ConstConcat", "ConstConcat", "ConstAdd", "ConstAdd", "ConstAdd"]
    with torch.no_grad():
        want = net(x).numpy()
    got = float_forward(graph, x.numpy())[graph.output]
    assert np.max(np.abs(got - want)) < 1e-6
    # Another batch size: the constants broadcast over it.
    x5 = torch.randn(5, 3, 4)
    with torch.no_grad():
        want5 = net(x5).numpy()
    got5 = float_forward(graph.with_batch(5), x5.numpy())[graph.output]
    assert np.max(np.abs(got5 - want5)) < 1e-6

    class Expanded(nn.Module):
        def __init__(self):
            super().__init__()
            self.p = nn.Parameter(torch.randn(1, 4))

        def forward(self, x):
            return x.expand(2, 4) + self.p

    with pytest.raises(UnsupportedError, match="expanding a computed"):
        export(Expanded(), torch.randn(1, 4))

    class Reversed(Expanded):
        def forward(self, x):
            return self.p - x

    with pytest.raises(UnsupportedError, match="'p' read directly"):
        export(Reversed(), torch.randn(2, 4))

    class Wide(Expanded):
        def forward(self, x):
            return torch.cat([self.p.expand(2, 3, 4), x], dim=1)

    with pytest.raises(UnsupportedError, match="only its dim 0 of size 1"):
        export(Wide(), torch.randn(2, 3, 4))


def test_small_vit_integer_only_bit_exact(toolchain, workdir):
    """Exports (class token and position embedding as constants), quantizes
    with nothing left in float (allow-float=false, verify-integer-only)
    and matches the reference bit for bit on every target."""
    from myquant.export import export
    torch, vit = small_vit()
    torch.manual_seed(1)
    calib = [torch.randn(2, 3, 32, 32) for _ in range(4)]
    x = torch.randn(2, 3, 32, 32)
    graph = export(vit, x)
    kinds = [type(l).__name__ for l in graph.layers]
    assert kinds[3:5] == ["ConstConcat", "ConstAdd"], kinds
    with torch.no_grad():
        want = vit(x).numpy()
    stats = calibrate(graph, [c.numpy() for c in calib])
    want_q = MR.run_reference(graph, stats, x.numpy())
    quantized, remarks = toolchain.quantize(
        emit(graph, stats), ["--myquant-propagate-qparams=allow-float=false"]
        + PTQ[1:], workdir)
    for op, n in (("myquant.concat", 1), ("myquant.add", 5),
                  ("myquant.layer_norm", 5), ("myquant.softmax", 2)):
        assert quantized.count(op) == n, (op, remarks)
    toolchain.check_targets(quantized, x.numpy(), want_q.dequantize(),
                            workdir)
    got = want_q.dequantize()
    sqnr = 10 * np.log10(np.sum(want ** 2) / np.sum((got - want) ** 2))
    print(f"small ViT: logit SQNR {sqnr:.1f} dB")
    assert sqnr > 15, sqnr


def test_fashion_mnist_vit_exports():
    """examples/fashion_mnist.py's --model vit (untrained): a one-channel
    patch embedding of 7 x 7 patches; exports and computes what PyTorch
    does (the example's figures need training, CI does not train)."""
    import os
    import sys
    torch = pytest.importorskip("torch")
    pytest.importorskip("torchvision")
    from myquant.export import export
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                    "examples"))
    from fashion_mnist import vit_tiny
    torch.manual_seed(0)
    vit = vit_tiny(28).eval()
    x = torch.randn(2, 1, 28, 28)
    graph = export(vit, x)
    assert graph.shapes["cat"] == (2, 17, 64)
    with torch.no_grad():
        want = vit(x).numpy()
    got = float_forward(graph, x.numpy())[graph.output]
    assert np.max(np.abs(got - want)) < 1e-5


@pytest.mark.slow
def test_vit_b_16_integer_only(toolchain, workdir):
    """torchvision vit_b_16 (random weights) at 64 x 64 (16 patches and the
    class token): quantizes with allow-float=false, bit-exact against the
    reference and close to float (benchmarks/zoo.py reports its SQNR next
    to PyTorch's)."""
    from myquant import emit as E
    from myquant.export import export
    torch = pytest.importorskip("torch")
    models = pytest.importorskip("torchvision.models")
    torch.manual_seed(0)
    vit = models.vit_b_16(weights=None, image_size=64).eval()
    with torch.no_grad():  # torchvision zero-initializes the head.
        vit.heads.head.weight.normal_(0, 768 ** -0.5)
    shape = (1, 3, 64, 64)
    graph = export(vit, torch.randn(*shape))
    rng = np.random.default_rng(0)
    stats = E.calibrate(graph, [rng.standard_normal(shape).astype(np.float32)
                                for _ in range(2)])
    x = rng.standard_normal(shape).astype(np.float32)
    want = MR.run_reference(graph, stats, x).dequantize()
    _, got = toolchain.ptq_and_run(E.emit(graph, stats), RUNNABLE_TARGETS[0],
                                   x, workdir)
    assert np.array_equal(got.view(np.int32), want.view(np.int32)), \
        f"{np.sum(got != want)} of {got.size} logits differ from the reference"
    flt = E.float_forward(graph, x)[graph.output].astype(np.float64)
    sqnr = 10 * np.log10(np.sum(flt ** 2) / np.sum((got - flt) ** 2))
    assert sqnr > 10, f"logit SQNR {sqnr:.1f} dB"


def test_small_vit_norm_input_16_bit_exact(toolchain, workdir):
    """norm-input-bits=16 (docs/NumericSpec.md 6.5): with torchvision's
    zero class token its row after the position embedding (N(0, 0.02))
    spans about one int8 step of the residual stream, which LayerNorm
    amplifies. 16-bit LayerNorm inputs (the position embedding's add and
    the residual adds write int16, the LayerNorms read it) are bit-exact
    against the reference on every target and fix the logits."""
    from myquant.export import export
    torch, vit = small_vit()
    with torch.no_grad():
        vit.class_token.zero_()
    torch.manual_seed(1)
    calib = [torch.randn(2, 3, 32, 32) for _ in range(4)]
    x = torch.randn(2, 3, 32, 32)
    graph = export(vit, x)
    with torch.no_grad():
        want = vit(x).numpy()
    stats = calibrate(graph, [c.numpy() for c in calib])
    quantized, remarks = toolchain.quantize(
        emit(graph, stats),
        ["--myquant-propagate-qparams=allow-float=false norm-input-bits=16"]
        + PTQ[1:], workdir)
    norms = [line for line in quantized.splitlines()
             if "myquant.layer_norm" in line]
    assert len(norms) == 5 and all(
        "layer_norm %" in n and ": tensor<2x17x64x!quant.uniform<i16" in n
        for n in norms), (norms, remarks)
    want_q = MR.run_reference(graph, stats, x.numpy(), norm_input_bits=16)
    # The VNNI kernels leave layer_norm to the generic lowering; two
    # targets keep the test short.
    for target in ("generic", "avx512-vnni"):
        if target in RUNNABLE_TARGETS:
            got = toolchain.lower_and_run(quantized, target, x.numpy(),
                                          workdir)
            assert np.array_equal(got, want_q.dequantize()), target

    def sqnr(got):
        return 10 * np.log10(np.sum(want ** 2) / np.sum((got - want) ** 2))
    narrow = sqnr(MR.run_reference(graph, stats, x.numpy()).dequantize())
    wide = sqnr(want_q.dequantize())
    print(f"zero class token: logit SQNR {narrow:.1f} dB (int8 LayerNorm "
          f"inputs), {wide:.1f} dB (int16)")
    assert wide > narrow + 6, (narrow, wide)


def test_small_vit_norm_input_per_channel_bit_exact(toolchain, workdir):
    """norm-input-scales=per-channel (docs/NumericSpec.md 6.6) on the small
    VisionTransformer: with per-channel ranges of the LayerNorm inputs
    (numpy's, as the calibrator's per-channel-norm-inputs records them:
    test_norm_input_scales.py), every LayerNorm input (the position
    embedding's add and the residual adds write them) gets power-of-two
    factors, and generic and avx512-vnni give the numpy model reference's
    logits bit for bit."""
    from myquant.calibrate import Stats
    from myquant.export import export
    torch, vit = small_vit()
    torch.manual_seed(1)
    calib = [torch.randn(2, 3, 32, 32).numpy() for _ in range(2)]
    x = torch.randn(2, 3, 32, 32)
    graph = export(vit, x)
    stats = Stats(calibrate(graph, calib))
    forwards = [float_forward(graph, c) for c in calib]
    for layer in graph.layers:
        if isinstance(layer, LayerNorm):
            rows = np.concatenate([f[layer.inputs[0]].reshape(
                -1, layer.gamma.size) for f in forwards])
            stats.channels[layer.inputs[0]] = (rows.min(0).tolist(),
                                               rows.max(0).tolist())
    assert len(stats.channels) == 5, sorted(stats.channels)
    quantized, remarks = toolchain.quantize(
        emit(graph, stats),
        ["--myquant-propagate-qparams=allow-float=false "
         "norm-input-scales=per-channel"] + PTQ[1:], workdir)
    norms = [line for line in quantized.splitlines()
             if "myquant.layer_norm" in line]
    assert len(norms) == 5 and all(
        "input_shifts" in n and "!quant.uniform<i8:f32:2," in n
        for n in norms), (norms, remarks)
    want_q = MR.run_reference(graph, stats, x.numpy(),
                              norm_input_scales="per-channel")
    for target in ("generic", "avx512-vnni"):
        if target in RUNNABLE_TARGETS:
            got = toolchain.lower_and_run(quantized, target, x.numpy(),
                                          workdir)
            assert np.array_equal(got, want_q.dequantize()), target

def test_layer_norm_16_bit_input_reference():
    """Spec 6.4's layer_norm of a 16-bit input: within about half an output
    step of the float LayerNorm of the dequantized input, at the longest
    row (2048) and on a row that spans a fraction of an int8 step; the
    options spell and check norm_input_bits."""
    from myquant import tools as T
    rng = np.random.default_rng(0)
    for c, spread in ((2048, 1.0), (64, 1.0), (64, 0.004)):
        x = rng.standard_normal((3, c)) * spread
        s_in = 1.0 / 32767  # the row's range is about [-4, 4] * spread
        s_in *= 4 * max(spread, 1.0)
        xq = np.clip(np.rint(x / s_in), -32767, 32767).astype(np.int64)
        g, b = 1 + 0.2 * rng.standard_normal(c), 0.1 * rng.standard_normal(c)
        s_out = 0.05
        G, B, E = R.layer_norm_params(g, b, 1e-5, s_in, s_out, c, 16)
        out = R.layer_norm(xq, G, B, E, 0, input_bits=16)
        xd = xq * s_in
        v = xd.var(axis=-1, keepdims=True) + float(np.float32(1e-5))
        want = ((xd - xd.mean(axis=-1, keepdims=True)) / np.sqrt(v) *
                np.float32(g).astype(float) + np.float32(b).astype(float))
        want = np.clip(want / s_out, -128, 127)
        assert np.max(np.abs(out - want)) <= 0.52, (c, spread)
    with pytest.raises(ValueError):
        R.layer_norm(np.zeros((1, 2049), np.int64), np.ones(2049),
                     np.zeros(2049), 0, 0, input_bits=16)
    assert "norm-input-bits=16" in T.ptq_options(norm_input_bits=16)
    assert "norm-input-bits" not in T.ptq_options()
    for bad in (12, True):
        with pytest.raises(ValueError, match="norm_input_bits"):
            T.ptq_options(norm_input_bits=bad)
    with pytest.raises(ValueError, match="rounding='single'"):
        T.ptq_options(rounding="gemmlowp", norm_input_bits=16)
