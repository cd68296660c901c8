"""Empirical bias correction (docs/NumericSpec.md 1.5): the shifts against
PyTorch's convolution with the reference's weight error, the corrected
model bit for bit against the numpy reference on every kernel target, and
its accuracy.

Run: /usr/bin/python3 -m pytest -q python/tests/test_bias_correction.py"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

import myquant  # noqa: E402
from myquant import bias_correction as BC  # noqa: E402
from myquant import emit as E  # noqa: E402
from myquant import evaluate as V  # noqa: E402
from myquant.export import export  # noqa: E402
from myquant.testing import model_reference as MR  # noqa: E402
from myquant.testing import reference as R  # noqa: E402


class Net(nn.Module):
    """Every corrected form: a strided conv with bias, a grouped dilated
    conv without, a depthwise conv, a Linear."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=2,
                               bias=False)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.fc = nn.Linear(8 * 6 * 6, 10)

    def forward(self, x):
        y = F.relu(self.conv1(x))
        y = F.relu(self.conv2(y))
        y = F.relu(self.dw(y))
        return self.fc(torch.flatten(y, 1))


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    model = Net().eval()
    rng = np.random.default_rng(0)
    # Inputs with a mean: the shift is the weight error times that mean.
    calib = (rng.standard_normal((32, 3, 12, 12)) + 0.5).astype(np.float32)
    test = (rng.standard_normal((8, 3, 12, 12)) + 0.5).astype(np.float32)
    return model, calib, test


@pytest.mark.parametrize("granularity", ["per-channel", "per-tensor"])
def test_shifts_are_the_mean_of_the_weight_error_convolved(net, granularity):
    """shift[f] = mean over samples and positions of conv(x, dW)[f] (torch,
    in double), dW from the reference's quantize_weights; the same for the
    calibration data in other batches."""
    model, calib, _ = net
    graph = export(model, calib[:1])
    shifts = BC.bias_corrections(graph, [calib], granularity=granularity)
    vals = E.float_forward(graph.with_batch(len(calib)), calib)
    checked = []
    for layer in graph.layers:
        if not isinstance(layer, (E.Conv2d, E.Linear)):
            continue
        q, s = R.quantize_weights(
            layer.w, axis=0 if granularity == "per-channel" else None)
        w = layer.w.astype(np.float64)
        dw = torch.from_numpy(
            q.astype(np.float64) * s.reshape((-1,) + (1,) * (w.ndim - 1))
            - w)
        x = torch.from_numpy(vals[layer.inputs[0]].astype(np.float64))
        if isinstance(layer, E.Conv2d):
            want = F.conv2d(x, dw, stride=layer.stride,
                            padding=layer.padding, dilation=layer.dilation,
                            groups=layer.groups).mean(dim=(0, 2, 3))
        else:
            want = (x @ dw.T).mean(dim=0)
        np.testing.assert_allclose(shifts[layer.name], want.numpy(),
                                   rtol=1e-9, atol=1e-12)
        assert np.abs(want.numpy()).max() > 1e-4, layer.name
        checked.append(type(layer).__name__)
    assert sorted(checked) == ["Conv2d", "Conv2d", "Conv2d", "Linear"]
    again = BC.bias_corrections(graph, [calib[:5], calib[5:]],
                                granularity=granularity, chunk=2)
    for name, shift in shifts.items():
        np.testing.assert_allclose(again[name], shift, rtol=1e-9,
                                   atol=1e-15)


@pytest.fixture(scope="module")
def corrected(net):
    model, calib, _ = net
    qm = myquant.quantize(model, calib, bias_correction=True, max_batch=8)
    plain = myquant.quantize(model, calib, max_batch=8)
    yield qm, plain
    qm.close()
    plain.close()


def test_quantize_corrects_the_float_biases(net, corrected):
    """The quantized model's graph carries b - shift (a bias where the layer
    had none) and the int8 model stores it (spec 1.3 unchanged)."""
    model, calib, _ = net
    qm, plain = corrected
    shifts = BC.bias_corrections(export(model, calib[:1]), [calib])
    for layer, orig in zip(qm.graph.layers, plain.graph.layers):
        if layer.name not in shifts:
            continue
        b = 0.0 if orig.b is None else orig.b.astype(np.float64)
        np.testing.assert_array_equal(
            layer.b, (b - shifts[layer.name]).astype(np.float32))
    assert plain.graph.layers[2].b is None  # conv2 had no bias
    assert qm.quantized_mlir().count("i32") > plain.quantized_mlir().count(
        "i32")


def test_corrected_model_bit_exact_on_every_target(net, corrected,
                                                   toolchain, workdir):
    _, _, test = net
    qm, _ = corrected
    x = test[:1]
    want = MR.run_reference(qm.graph, qm.stats, x).dequantize()
    np.testing.assert_array_equal(qm(x), want)
    toolchain.check_targets(qm.quantized_mlir(), x, want, workdir)


def test_correction_improves_the_logits(net, corrected):
    """On held-out inputs the corrected int8 model is closer to float
    (measured: +1.5 dB per channel, +1.0 dB with per-tensor weights)."""
    model, calib, test = net
    qm, plain = corrected
    with torch.no_grad():
        ref = model(torch.from_numpy(test)).numpy()
    gain = V.sqnr_db(ref, qm(test)) - V.sqnr_db(ref, plain(test))
    assert gain > 0.3, gain
    coarse = [myquant.quantize(model, calib, bias_correction=bc, max_batch=8,
                               weight_granularity="per-tensor")
              for bc in (True, False)]
    try:
        gain = V.sqnr_db(ref, coarse[0](test)) - V.sqnr_db(ref,
                                                           coarse[1](test))
        assert gain > 0.5, gain
    finally:
        for q in coarse:
            q.close()


def test_refused_options(net):
    model, calib, _ = net
    for kwargs in ({"dynamic": True}, {"weight_bits": 4},
                   {"layer_precision": ["fc:w4a8"]}):
        with pytest.raises(ValueError, match="int8 weights"):
            myquant.quantize(model, calib, bias_correction=True, **kwargs)
    with pytest.raises(ValueError, match="bias_correction must be True"):
        myquant.quantize(model, calib, bias_correction="yes")


def test_cli_bias_correction(tmp_path):
    """`quantize --bias-correction` stores the corrected int32 biases
    (different from the plain ones); with --dynamic it is refused."""
    from conftest import NET_PY, quantize_cli
    # Seeded: both runs quantize the same weights.
    cli = quantize_cli(
        tmp_path, "import torch\ntorch.manual_seed(0)\n" + NET_PY, "Net",
        (np.random.default_rng(0).standard_normal((16, 1, 8, 8))
         + 0.5).astype(np.float32))
    texts = []
    for extra in ((), ("--bias-correction",)):
        p = cli(*extra, "-o", "q.mlir")
        assert p.returncode == 0, p.stderr
        texts.append((tmp_path / "q.mlir").read_text())
    assert texts[0] != texts[1] and "!quant.uniform" in texts[1]
    p = cli("--bias-correction", "--dynamic")
    assert p.returncode != 0 and "int8 weights" in p.stderr, p.stderr
