"""Nonlinearities as int8 lookup tables (docs/NumericSpec.md 3.8): a small
conv model with each activation of emit.ACTIVATIONS is quantized (the
activation becomes a myquant.table), lowered for every kernel target (where
the table fuses into the conv kernel's epilogue), and must be bit-identical
to the numpy reference, which builds each table from the spec and the
activation's float64 function; its output must stay close to the float
model.

Run: /usr/bin/python3 -m pytest -q python/tests/test_activations.py"""

import numpy as np
import pytest

from conftest import RUNNABLE_TARGETS, executable, rand_f32

from myquant.emit import (ACTIVATIONS, Activation, Conv2d, DepthwiseConv2d,
                          Flatten, Linear, Model, calibrate, emit,
                          float_forward)
from myquant.testing import model_reference as MR
from myquant.testing import reference as R

# Parameters other than the defaults, so that they reach the table.
PARAMS = {"elu": {"alpha": 0.7}, "leaky_relu": {"negative_slope": 0.1},
          "softplus": {"beta": 2.0, "threshold": 3.0}}
# Output SQNR vs the float model: exp's output spans e^-9 .. e^8 here, and
# one int8 step of that range (13) swamps its small values.
MIN_SQNR_DB = {"exp": 10.0}


def make_case(kind):
    """conv -> activation -> 1x1 conv on 8x8 inputs: the table sits between
    two kernels."""
    rng = np.random.default_rng(14)
    m = Model((2, 3, 8, 8))
    m.add(Conv2d(rand_f32(rng, 4, 3, 3, 3, scale=0.5), rand_f32(rng, 4),
                 padding=1))
    m.add(Activation(kind, **PARAMS.get(kind, {})), name="act")
    m.add(Conv2d(rand_f32(rng, 4, 4, 1, 1, scale=0.5), rand_f32(rng, 4)))
    samples = [rng.standard_normal(m.input_shape).astype(np.float32)
               for _ in range(4)]
    x = (rng.standard_normal(m.input_shape) * 0.8).astype(np.float32)
    return m, calibrate(m, samples), x


def sqnr_db(got, want):
    noise = np.sum((got - want) ** 2)
    return 10 * np.log10(np.sum(want ** 2) / max(noise, 1e-30))


@pytest.mark.parametrize("kind", sorted(ACTIVATIONS))
def test_activation_table_bit_exact(kind, toolchain, workdir):
    model, stats, x = make_case(kind)
    ref = MR.run_reference(model, stats, x)
    want = ref.dequantize()
    quantized, remarks = toolchain.quantize(
        emit(model, stats), ["--myquant-propagate-qparams",
                             "--myquant-quantize",
                             "--myquant-verify-integer-only"], workdir)
    assert quantized.count("myquant.table") == 1, remarks
    for target in RUNNABLE_TARGETS:
        lowered, _ = toolchain.quantize(
            quantized, [f"--convert-myquant-to-vnni=target={target}",
                        "--convert-myquant-to-linalg"], workdir)
        # On the kernel targets the table runs in the conv kernel's
        # epilogue (a gather from its entries).
        assert (target == "generic") != ("vector.gather" in lowered), target
        got = toolchain.run(executable(lowered, target), "forward", x,
                            workdir)
        assert np.array_equal(got.view(np.int32), want.view(np.int32)), \
            f"{kind} on {target}: {np.count_nonzero(got != want)} of " \
            f"{got.size} outputs differ from the reference"
    flt = float_forward(model, x)[model.output].astype(np.float64)
    assert sqnr_db(want.astype(np.float64), flt) > MIN_SQNR_DB.get(kind, 30.0)


def test_tables_fused_into_every_kernel(toolchain, workdir):
    """A table after a depthwise conv, a conv and a matmul (each fused into
    its kernel), with int8 and with uint8 activations: every target gives
    the reference's (int8) or the generic lowering's (uint8) bits."""
    rng = np.random.default_rng(3)
    m = Model((2, 4, 8, 8))
    m.add(DepthwiseConv2d(rand_f32(rng, 4, 3, 3, scale=0.8),
                          rand_f32(rng, 4), padding=1))
    m.add(Activation("hardswish"))
    m.add(Conv2d(rand_f32(rng, 8, 4, 3, 3, scale=0.4), rand_f32(rng, 8),
                 stride=2, padding=1))
    m.add(Activation("silu"))
    m.add(Flatten())
    m.add(Linear(rand_f32(rng, 10, 128, scale=0.2), rand_f32(rng, 10)))
    m.add(Activation("tanh"))
    stats = calibrate(m, [rng.standard_normal(m.input_shape).astype(
        np.float32) for _ in range(4)])
    x = rng.standard_normal(m.input_shape).astype(np.float32)
    want = MR.run_reference(m, stats, x).dequantize()
    for activation_type in ("int8", "uint8"):
        quantized, _ = toolchain.quantize(emit(m, stats), [
            f"--myquant-propagate-qparams=activation-type={activation_type}",
            "--myquant-quantize"], workdir)
        outputs = {}
        for target in RUNNABLE_TARGETS:
            kernels, _ = toolchain.quantize(
                quantized, [f"--convert-myquant-to-vnni=target={target}"],
                workdir)
            assert kernels.count("myquant.table") == \
                (3 if target == "generic" else 0), target
            lowered, _ = toolchain.quantize(
                kernels, ["--convert-myquant-to-linalg"], workdir)
            outputs[target] = toolchain.run(executable(lowered, target),
                                            "forward", x, workdir)
        if activation_type == "int8":
            outputs["reference"] = want
        for target, got in outputs.items():
            assert np.array_equal(got, outputs["generic"]), \
                f"{activation_type}: {target} differs from generic"


@pytest.mark.parametrize("kind", sorted(ACTIVATIONS))
def test_table_is_correctly_rounded(kind):
    """Every entry is the float function at the input grid point, quantized
    once: within 0.5 output LSB of the function wherever it is in range."""
    s_in, z_in, s_out, z_out = 0.05, 3, 0.03, -20
    layer = Activation(kind, **PARAMS.get(kind, {}))
    values = R.table_values(layer.function, s_in, z_in, s_out, z_out)
    x = (np.arange(-128, 128) - z_in) * s_in
    y = layer.function(x) / s_out + z_out
    inside = (y >= -128.5) & (y <= 127.5)
    assert np.all(np.abs(values - y)[inside] <= 0.5)
    assert np.all(values[~inside & (y < 0)] == -128)
    assert np.all(values[~inside & (y > 0)] == 127)


def test_hardswish_table_error_in_lsb():
    """Hardswish and hardsigmoid: the table is the correctly rounded
    function, so the error vs the float function is at most 0.5 output LSB
    (the bound no integer formula with int8 in and out can beat)."""
    for kind in ("hardswish", "hardsigmoid"):
        model, stats, x = make_case(kind)
        ref = MR.run_reference(model, stats, x)
        q, s, z = ref.values["act"]
        _, s_in, z_in = ref.values[model.layers[0].name]
        x_in = (ref.values[model.layers[0].name][0] - z_in) * s_in
        err = np.abs((q - z) * s - model.layers[1].function(x_in)) / s
        assert err.max() <= 0.5 + 1e-9, (kind, err.max())


# -- export ------------------------------------------------------------------

def _torch_activation_net():
    """Every supported module, function and method form, in a chain after a
    conv (torch only in this test)."""
    torch = pytest.importorskip("torch")
    nn, F = torch.nn, torch.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)
            self.acts = nn.Sequential(
                nn.Sigmoid(), nn.Tanh(), nn.Hardswish(), nn.Hardsigmoid(),
                nn.SiLU(), nn.GELU(), nn.GELU(approximate="tanh"),
                nn.ELU(0.5), nn.LeakyReLU(0.2), nn.Softplus(2.0, 5.0),
                nn.Mish())

        def forward(self, x):
            y = self.acts(self.conv(x))
            y = torch.sigmoid(y) + F.silu(y)
            y = F.gelu(y.sigmoid(), approximate="tanh")
            y = F.softplus(F.leaky_relu(y, 0.3), beta=2.0)
            y = F.hardswish(torch.tanh(y).exp())
            return F.hardsigmoid(F.mish(F.elu(y, alpha=0.3))).tanh()

    torch.manual_seed(0)
    return torch, Net().eval()


def test_export_activation_forms(toolchain, workdir):
    """Each form exports as an Activation whose float forward, and whose
    emitted float MLIR, compute what PyTorch computes."""
    from myquant.export import export
    torch, net = _torch_activation_net()
    x = torch.randn(1, 3, 8, 8)
    model = export(net, x)
    kinds = [l.kind for l in model.layers if isinstance(l, Activation)]
    assert kinds == ["sigmoid", "tanh", "hardswish", "hardsigmoid", "silu",
                     "gelu", "gelu_tanh", "elu", "leaky_relu", "softplus",
                     "mish", "sigmoid", "silu", "sigmoid", "gelu_tanh",
                     "leaky_relu", "softplus", "tanh", "exp", "hardswish",
                     "elu", "mish", "hardsigmoid", "tanh"]
    params = [l.params for l in model.layers if isinstance(l, Activation)]
    assert params[7] == {"alpha": 0.5} and params[9] == {"beta": 2.0,
                                                         "threshold": 5.0}
    with torch.no_grad():
        want = net(x).numpy()
    got = float_forward(model, x.numpy())[model.output]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    ran = toolchain.run(emit(model), "forward", x.numpy(), workdir)
    np.testing.assert_allclose(ran, want, rtol=1e-4, atol=1e-4)


def test_quantize_api_with_activations():
    """myquant.quantize on a PyTorch model with activations: integer-only
    (tables, no float op left), close to PyTorch, and the per-layer report
    names the functions."""
    torch = pytest.importorskip("torch")
    import myquant
    from myquant.evaluate import layer_report
    nn = torch.nn
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.Hardswish(),
                        nn.Conv2d(16, 16, 3, padding=1, groups=16),
                        nn.SiLU(), nn.Conv2d(16, 8, 1), nn.GELU(),
                        nn.Flatten(), nn.Linear(8 * 8 * 8, 10),
                        nn.Sigmoid()).eval()
    q = myquant.quantize(net, [torch.randn(1, 3, 8, 8) for _ in range(8)])
    quantized = q.quantized_mlir()
    assert quantized.count("myquant.table") == 4
    assert "linalg.generic" not in quantized
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        want = net(x).numpy().astype(np.float64)
    assert sqnr_db(q(x.numpy()).astype(np.float64), want) > 35.0
    report = str(layer_report(q, x.numpy()))
    for kind in ("hardswish", "silu", "gelu", "sigmoid"):
        assert kind in report
