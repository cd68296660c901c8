"""Integer-only transformer ops (issue 17): softmax and layer normalization
over the last dimension (docs/NumericSpec.md 3.10, 3.11). Small models are quantized with the dry run,
lowered for every kernel target and must be bit-identical to the numpy
reference (python/myquant/testing/model_reference.py), and close to the
float model; the PyTorch forms export.

Run: /usr/bin/python3 -m pytest -q python/tests/test_transformer.py"""

import numpy as np
import pytest

from conftest import rand_f32

from myquant.emit import (BatchMatMul, LayerNorm, Linear, Model, Reshape,
                          Softmax, calibrate, emit, float_forward)
from myquant.testing import model_reference as MR
from myquant.testing import reference as R

PTQ = ["--myquant-propagate-qparams", "--myquant-quantize",
       "--myquant-verify-integer-only", "--myquant-verify-qparams"]


def quantize_and_compare(toolchain, workdir, model, stats, x, op):
    """Quantizes model (op must appear in it), runs it on every target and
    checks the outputs against the reference; returns the reference's
    dequantized output."""
    want = MR.run_reference(model, stats, x).dequantize()
    quantized, remarks = toolchain.quantize(emit(model, stats), PTQ, workdir)
    assert op in quantized, remarks
    toolchain.check_targets(quantized, x, want, workdir)
    return want


def softmax_model(rng, scale=0.6):
    """Linear -> per-sample [3, 8] -> softmax over the 8: a 3-D softmax
    behind a matmul kernel; `scale` spreads the logits."""
    m = Model((4, 16))
    m.add(Linear(rand_f32(rng, 24, 16, scale=scale), rand_f32(rng, 24)))
    m.add(Reshape((3, 8)))
    m.add(Softmax(), name="softmax")
    return m


def test_softmax_bit_exact_and_accurate(toolchain, workdir):
    rng = np.random.default_rng(17)
    m = softmax_model(rng)
    x = rng.standard_normal(m.input_shape).astype(np.float32)
    # Calibrated on x too, so that no logit is clipped.
    stats = calibrate(m, [rng.standard_normal(m.input_shape).astype(
        np.float32) for _ in range(4)] + [x])
    got = quantize_and_compare(toolchain, workdir, m, stats, x,
                               "myquant.softmax")
    # The op itself: within half an output step of the softmax of its int8
    # input (spec 3.10).
    logits_q, s, z = MR.run_reference(m, stats, x).values["l1"]
    logits = (logits_q - z) * s
    f = np.exp(logits - logits.max(-1, keepdims=True))
    f /= f.sum(-1, keepdims=True)
    assert np.max(np.abs(got - np.minimum(f, 255 / 256))) <= 0.501 / 256
    # Against the float model (measured: 0.012, the logits' int8 rounding
    # of up to 0.06 dominating).
    flt = float_forward(m, x)[m.output]
    assert np.max(np.abs(got - flt)) < 0.02


def test_softmax_reference_accuracy():
    """Spec 3.10's accuracy claim: within 0.5 output LSB of the softmax of
    the dequantized input but for near-ties (at most 0.501), whatever the
    row length and input scale."""
    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(40):
        n = int(rng.integers(2, 1025))
        s = float(rng.uniform(0.005, 0.2))
        zp = int(rng.integers(-128, 128))
        q = rng.integers(-128, 128, size=(4, n))
        x = (q - zp) * s
        f = np.exp(x - x.max(-1, keepdims=True))
        f /= f.sum(-1, keepdims=True)
        y = (R.softmax(q, R.softmax_exp_table(s)) + 128) / 256
        worst = max(worst, np.max(np.abs(y - np.minimum(f, 255 / 256))) * 256)
    assert worst < 0.501


def test_softmax_saturates_and_handles_ties():
    table = R.softmax_exp_table(0.1)
    # One element: probability 1 -> 255/256; equal elements share evenly.
    assert R.softmax(np.array([[5]]), table).tolist() == [[127]]
    assert R.softmax(np.array([[7, 7, 7, 7]]), table).tolist() == \
        [[-64] * 4]


def layer_norm_case(rng, channels=8, eps=1e-5):
    """Linear -> per-sample [3, C] -> layer norm over the C channels."""
    m = Model((4, 16))
    m.add(Linear(rand_f32(rng, 3 * channels, 16, scale=0.6),
                 rand_f32(rng, 3 * channels)))
    m.add(Reshape((3, channels)))
    m.add(LayerNorm(1 + rand_f32(rng, channels), rand_f32(rng, channels),
                    eps), name="ln")
    x = rng.standard_normal(m.input_shape).astype(np.float32)
    stats = calibrate(m, [rng.standard_normal(m.input_shape).astype(
        np.float32) for _ in range(4)] + [x])
    return m, stats, x


@pytest.mark.parametrize("channels,eps", [(8, 1e-5), (64, 1e-6), (5, 0.5)])
def test_layer_norm_bit_exact_and_accurate(channels, eps, toolchain,
                                           workdir):
    rng = np.random.default_rng(channels)
    m, stats, x = layer_norm_case(rng, channels, eps)
    got = quantize_and_compare(toolchain, workdir, m, stats, x,
                               "myquant.layer_norm")
    # The op: within 0.51 output LSB of the float layer norm of its int8
    # input (spec 3.11).
    ref = MR.run_reference(m, stats, x)
    xq, s, z = ref.values["l1"]
    xd = (xq - z) * s
    layer = m.layers[-1]
    c = xd - xd.mean(-1, keepdims=True)
    y = c / np.sqrt((c * c).mean(-1, keepdims=True) + np.float32(eps)) * \
        layer.gamma + layer.beta
    so, zo = ref.values["ln"][1:]
    assert np.max(np.abs(got / so - np.clip(y / so, -128 - zo, 127 - zo))) \
        <= 0.51
    flt = float_forward(m, x)[m.output]
    assert np.max(np.abs(got - flt)) < 6 * so


def test_layer_norm_reference_accuracy():
    """Spec 3.11's claims: the Newton iteration gives floor(sqrt(n)) on its
    whole domain's edges and at random, and the op is within 0.51 output LSB
    of the float layer norm of its int8 input."""
    import math
    rng = np.random.default_rng(1)
    n = np.concatenate([
        rng.integers(1 << 59, 1 << 61, size=20000),
        [1 << 59, (1 << 61) - 1],
        [k * k + e for k in (1 << 30, (1 << 30) + 12345, 1518500249)
         for e in (-1, 0, 1)]])
    n = n[(n >= 1 << 59) & (n < 1 << 61)]
    assert np.array_equal(R.isqrt_newton(n),
                          [math.isqrt(int(v)) for v in n])
    worst = 0.0
    for _ in range(30):
        c = int(rng.integers(2, 800))
        xf = rng.standard_normal((4, c)) * rng.uniform(0.2, 3)
        g = rng.standard_normal(c).astype(np.float32)
        b = (rng.standard_normal(c) * 0.3).astype(np.float32)
        s, z = R.choose_activation_qparams(xf.min(), xf.max())
        q = np.clip(np.rint(xf / s) + z, -128, 127).astype(np.int64)
        xd = (q - z) * s
        cen = xd - xd.mean(-1, keepdims=True)
        y = cen / np.sqrt((cen * cen).mean(-1, keepdims=True) +
                          np.float32(1e-5)) * g + b
        so, zo = R.choose_activation_qparams(y.min(), y.max())
        out = R.layer_norm(q, *R.layer_norm_params(g, b, 1e-5, s, so, c), zo)
        worst = max(worst, np.max(np.abs(out - np.clip(y / so + zo, -128,
                                                         127))))
    assert worst <= 0.51


# ---------------------------------------------------------------------------
# Export from PyTorch
# ---------------------------------------------------------------------------

def _torch():
    return pytest.importorskip("torch")


def softmax_net(form):
    """Linear -> view [N, 3, 8] -> softmax over the last dim, written as
    `form`."""
    torch = _torch()
    F = torch.nn.functional

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(16, 24)
            self.sm = torch.nn.Softmax(dim=-1)

        def forward(self, x):
            y = self.fc(x).view(x.shape[0], 3, 8)
            if form == "module":
                return self.sm(y)
            if form == "functional":
                return F.softmax(y, dim=2)
            if form == "torch":
                return torch.softmax(y, -1)
            return y.softmax(-1)

    torch.manual_seed(0)
    return Net().eval()


@pytest.mark.parametrize("form", ["module", "functional", "torch", "method"])
def test_softmax_exports_and_quantizes(form, toolchain, workdir):
    from myquant.export import export
    torch = _torch()
    net = softmax_net(form)
    x = torch.randn(4, 16)
    graph = export(net, x)
    assert [type(l).__name__ for l in graph.layers] == \
        ["Linear", "Reshape", "Softmax"]
    with torch.no_grad():
        want = net(x).numpy()
    src = emit(graph)
    assert "linalg.softmax dimension(2)" in src
    got = toolchain.run(src, "forward", x.numpy(), workdir)
    assert np.max(np.abs(got - want)) < 1e-6
    stats = calibrate(graph, [x.numpy()])
    q = quantize_and_compare(toolchain, workdir, graph, stats, x.numpy(),
                             "myquant.softmax")
    assert np.max(np.abs(q - want)) < 0.02


def test_softmax_other_dim_is_unsupported():
    from myquant.export import UnsupportedError, export
    torch = _torch()

    class Net(torch.nn.Module):
        def forward(self, x):
            return torch.softmax(x.view(x.shape[0], 2, 8), 1)

    with pytest.raises(UnsupportedError, match=r"softmax with dim=1, "
                       r"dtype=None on a rank-3 input \(only over the last "
                       r"dimension"):
        export(Net().eval(), torch.randn(2, 16))


@pytest.mark.parametrize("form", ["no_affine", "weight_only"])
def test_layer_norm_without_weight_or_bias_exports(form, toolchain, workdir):
    """nn.LayerNorm(elementwise_affine=False), and F.layer_norm with a weight
    and no bias (what nn.LayerNorm(bias=False) calls), export with gamma
    ones and beta zeros and quantize to myquant.layer_norm, bit-exact
    against the reference and close to PyTorch."""
    from myquant.export import export
    torch = _torch()
    F = torch.nn.functional

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(16, 24)
            self.ln = torch.nn.LayerNorm(8, elementwise_affine=False)
            self.weight = torch.nn.Parameter(1 + 0.5 * torch.randn(8))

        def forward(self, x):
            y = self.fc(x).view(x.shape[0], 3, 8)
            if form == "no_affine":
                return self.ln(y)
            return F.layer_norm(y, (8,), self.weight, None)

    torch.manual_seed(0)
    net = Net().eval()
    x = torch.randn(4, 16)
    graph = export(net, x)
    ln = graph.layers[-1]
    assert type(ln).__name__ == "LayerNorm"
    assert np.array_equal(ln.beta, np.zeros(8, np.float32))
    if form == "no_affine":
        assert np.array_equal(ln.gamma, np.ones(8, np.float32))
    with torch.no_grad():
        want = net(x).numpy()
    stats = calibrate(graph, [torch.randn(4, 16).numpy() for _ in range(3)]
                      + [x.numpy()])
    q = quantize_and_compare(toolchain, workdir, graph, stats, x.numpy(),
                             "myquant.layer_norm")
    assert np.max(np.abs(q - want)) < 0.1


# ---------------------------------------------------------------------------
# Attention: matmuls of two activations
# ---------------------------------------------------------------------------

def attention_block(torch, embed=8, heads=2):
    """Single or multi-head self-attention written with Linear, view,
    transpose, matmul and softmax (3-D Linear inputs, 4-D head tensors)."""
    F = torch.nn.functional

    class Attention(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.q = torch.nn.Linear(embed, embed)
            self.k = torch.nn.Linear(embed, embed)
            self.v = torch.nn.Linear(embed, embed)
            self.out = torch.nn.Linear(embed, embed)

        def forward(self, x):
            n, t, e = x.shape
            d = e // heads

            def split(y):
                return y.view(n, t, heads, d).transpose(1, 2)

            q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
            scores = q @ k.transpose(-2, -1) / d ** 0.5
            a = F.softmax(scores, dim=-1)
            o = torch.matmul(a, v).transpose(1, 2).reshape(n, t, e)
            return self.out(o)

    torch.manual_seed(heads)
    return Attention().eval()


@pytest.mark.parametrize("heads", [1, 2])
def test_attention_exports_and_is_bit_exact(heads, toolchain, workdir):
    from myquant.export import export
    torch = _torch()
    net = attention_block(torch, heads=heads)
    x = torch.randn(2, 5, 8)
    graph = export(net, x)
    kinds = [type(l).__name__ for l in graph.layers]
    # The scale folds into the scores' matmul.
    assert kinds.count("BatchMatMul") == 2 and "Scale" not in kinds, kinds
    with torch.no_grad():
        want = net(x).numpy()
    got = toolchain.run(emit(graph), "forward", x.numpy(), workdir)
    assert np.max(np.abs(got - want)) < 1e-5
    stats = calibrate(graph, [torch.randn(2, 5, 8).numpy()
                              for _ in range(3)] + [x.numpy()])
    q = quantize_and_compare(toolchain, workdir, graph, stats, x.numpy(),
                             "factor = ")
    quantized, _ = toolchain.quantize(emit(graph, stats), PTQ, workdir)
    # Q K^T, A V and the four Linears are int8 matmuls; no requantization
    # between the softmax and A V.
    assert quantized.count("myquant.matmul") == 6
    assert "myquant.requantize" not in quantized
    # Measured: SQNR 38.3 dB (1 head), 39.4 dB (2 heads) against PyTorch
    # float.
    sqnr = 10 * np.log10(np.sum(want ** 2) / np.sum((q - want) ** 2))
    assert sqnr > 30, sqnr


# ---------------------------------------------------------------------------
# nn.MultiheadAttention and a ViT encoder block
# ---------------------------------------------------------------------------

def vit_block(torch, embed=16, heads=4, mlp=32):
    """torchvision's EncoderBlock in small: LayerNorm -> self-attention ->
    residual -> LayerNorm -> MLP (Linear, GELU, Linear) -> residual."""
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = nn.LayerNorm(embed, eps=1e-6)
            self.self_attention = nn.MultiheadAttention(
                embed, heads, batch_first=True)
            self.ln_2 = nn.LayerNorm(embed, eps=1e-6)
            self.mlp = nn.Sequential(nn.Linear(embed, mlp), nn.GELU(),
                                     nn.Linear(mlp, embed))

        def forward(self, x):
            y = self.ln_1(x)
            y, _ = self.self_attention(y, y, y, need_weights=False)
            x = x + y
            return x + self.mlp(self.ln_2(x))

    torch.manual_seed(7)
    block = Block().eval()
    with torch.no_grad():  # LayerNorm affine away from (1, 0).
        for ln in (block.ln_1, block.ln_2):
            ln.weight.add_(0.2 * torch.randn(embed))
            ln.bias.add_(0.2 * torch.randn(embed))
    return block


def test_multihead_attention_exports():
    from myquant.export import UnsupportedError, export
    torch = _torch()
    mha = torch.nn.MultiheadAttention(8, 2, batch_first=True).eval()

    class Self(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = mha

        def forward(self, x):
            return self.attn(x, x, x)[0]

    g = export(Self(), torch.randn(2, 5, 8))
    assert [type(l).__name__ for l in g.layers].count("BatchMatMul") == 2
    assert g.layers[-1].name == "attn"

    class Weights(Self):
        def forward(self, x):
            return self.attn(x, x, x)[1]

    with pytest.raises(UnsupportedError, match="output 1 of"):
        export(Weights(), torch.randn(2, 5, 8))


def test_vit_block_bit_exact_and_accurate(toolchain, workdir):
    from myquant.export import export
    torch = _torch()
    block = vit_block(torch)
    calib = [torch.randn(2, 9, 16) for _ in range(4)]
    x = torch.randn(2, 9, 16)
    graph = export(block, x)
    with torch.no_grad():
        want = block(x).numpy()
    got = toolchain.run(emit(graph), "forward", x.numpy(), workdir)
    assert np.max(np.abs(got - want)) < 1e-4
    stats = calibrate(graph, [c.numpy() for c in calib] + [x.numpy()])
    q = quantize_and_compare(toolchain, workdir, graph, stats, x.numpy(),
                             "myquant.layer_norm")
    quantized, _ = toolchain.quantize(emit(graph, stats), PTQ, workdir)
    for op, n in (("myquant.layer_norm", 2), ("myquant.softmax", 1),
                  ("myquant.table", 1), ("myquant.matmul", 8),
                  ("myquant.add", 2)):
        assert quantized.count(op) == n, op
    # Measured: 37.9 dB against PyTorch float (calibrated on 5 inputs).
    sqnr = 10 * np.log10(np.sum(want ** 2) / np.sum((q - want) ** 2))
    assert sqnr > 32, sqnr


def test_vit_block_through_quantize_api(build_dir):
    """The user's path: myquant.quantize (export, the compiler's calibration
    with normalization first, myquant-ptq allow-float=false, a compiled
    library). Measured: 27.6 dB on unseen inputs."""
    import os
    import myquant
    torch = _torch()
    os.environ.setdefault("MYQUANT_BUILD_DIR", build_dir)
    block = vit_block(torch)
    torch.manual_seed(1)
    q = myquant.quantize(block, torch.randn(16, 9, 16), allow_float=False)
    try:
        x = torch.randn(4, 9, 16)
        with torch.no_grad():
            want = block(x).numpy()
        got = np.asarray(q(x.numpy()))
    finally:
        q.close()
    sqnr = 10 * np.log10(np.sum(want ** 2) / np.sum((got - want) ** 2))
    assert sqnr > 24, sqnr


def test_channels_first_layer_norm(toolchain, workdir):
    """torchvision's LayerNorm2d (ConvNeXt): permute to channels-last,
    F.layer_norm with the module's weight and bias, permute back."""
    from myquant.export import UnsupportedError, export
    torch = _torch()
    F = torch.nn.functional

    class LayerNorm2d(torch.nn.LayerNorm):
        def forward(self, x):
            x = x.permute(0, 2, 3, 1)
            x = F.layer_norm(x, self.normalized_shape, self.weight,
                             self.bias, self.eps)
            return x.permute(0, 3, 1, 2)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
            self.norm = LayerNorm2d(8, eps=1e-6)

        def forward(self, x):
            return self.norm(self.conv(x))

    torch.manual_seed(3)
    net = Net().eval()
    with torch.no_grad():
        net.norm.weight.add_(0.3 * torch.randn(8))
        net.norm.bias.add_(0.3 * torch.randn(8))
    x = torch.randn(2, 3, 6, 6)
    graph = export(net, x)
    assert "LayerNorm" in [type(l).__name__ for l in graph.layers]
    with torch.no_grad():
        want = net(x).numpy()
    got = toolchain.run(emit(graph), "forward", x.numpy(), workdir)
    assert np.max(np.abs(got - want)) < 1e-4
    stats = calibrate(graph, [x.numpy()])
    q = quantize_and_compare(toolchain, workdir, graph, stats, x.numpy(),
                             "myquant.layer_norm")
    assert np.max(np.abs(q - want)) < 0.1

    class Scaled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.gamma = torch.nn.Parameter(torch.ones(8))

        def forward(self, x):
            return self.gamma - x

    with pytest.raises(UnsupportedError, match="parameter or buffer "
                       "'gamma' read directly"):
        export(Scaled(), torch.randn(2, 8))


def _scaled_matmuls(rng):
    """Where the compiler folds a scale into a matmul and fuses a relu, and
    where a reshape in between keeps them apart (qparams.folded_scales,
    writes_directly): every case must agree with the reference."""
    from myquant.emit import Relu, Scale, Transpose
    m = Model((3, 4, 8))
    m.add(Linear(rand_f32(rng, 8, 8, scale=0.6), rand_f32(rng, 8)),
          name="l3")                                   # 3-D: reshaped
    m.add(Relu(), name="r3")                           # not fused
    m.add(Transpose((0, 2, 1)), inputs=["r3"], name="t")
    m.add(BatchMatMul(), inputs=["l3", "t"], name="bmm")  # rank 3
    m.add(Scale(3.0, divide=True), name="bs")          # folded
    m.add(Relu(), name="br")                           # standalone
    m.add(Reshape((16,)), name="flat")
    m.add(Linear(rand_f32(rng, 6, 16, scale=0.4), rand_f32(rng, 6)),
          name="l2")                                   # 2-D
    m.add(Scale(0.7), name="ls")                       # folded
    m.add(Relu(), name="out")                          # standalone
    return m


def test_scales_and_relus_around_matmuls(toolchain, workdir):
    from myquant.qparams import folded_scales
    rng = np.random.default_rng(5)
    m = _scaled_matmuls(rng)
    assert {k: v.name for k, v in folded_scales(m).items()} == \
        {"bs": "bmm", "ls": "l2"}
    x = rng.standard_normal(m.input_shape).astype(np.float32)
    stats = calibrate(m, [rng.standard_normal(m.input_shape).astype(
        np.float32) for _ in range(3)] + [x])
    quantize_and_compare(toolchain, workdir, m, stats, x, "factor = ")
