"""The PyTorch exporter (python/myquant/export.py): every supported layer,
run as float MLIR through myquant-run, matches PyTorch to 1e-5 relative;
BatchNorm folding; module paths as locations; error messages.

Run: /usr/bin/python3 -m pytest -q python/tests/test_export.py"""


import numpy as np
import pytest

from conftest import randomize_batchnorm

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

from myquant import emit as E  # noqa: E402
from myquant import tools as T  # noqa: E402
from myquant.export import ExportError, UnsupportedError, export  # noqa: E402


# -- models (one or more supported layers each) ----------------------------

class ConvBasic(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 5, 3, padding=1)

    def forward(self, x):
        return self.conv(x)


class ConvStrideDilation(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, stride=2, padding=2, dilation=2)
        self.b = nn.Conv2d(4, 4, (3, 1), stride=(1, 2), padding=(1, 0),
                           bias=False)

    def forward(self, x):
        return self.b(self.a(x))


class ConvGroups(nn.Module):
    def __init__(self):
        super().__init__()
        self.grouped = nn.Conv2d(4, 6, 3, padding=1, groups=2)
        self.depthwise = nn.Conv2d(6, 6, 3, padding="same", groups=6)
        self.valid = nn.Conv2d(6, 2, 1, padding="valid")

    def forward(self, x):
        return self.valid(self.depthwise(self.grouped(x)))


class Activations(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 4, 3, padding=1)
        self.relu = nn.ReLU()
        self.relu6 = nn.ReLU6()
        self.ht = nn.Hardtanh(0.0, 6.0)

    def forward(self, x):
        y = self.c(x)
        a = self.relu(y)
        b = F.relu(y)
        c = torch.relu(y)
        d = y.relu()
        e = self.relu6(y)
        f = F.relu6(y)
        g = F.hardtanh(y, 0.0, 6.0)
        h = self.ht(y)
        return torch.cat([a, b, c, d, e, f, g, h], 1)


class Pools(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 4, 3, padding=1)
        self.mp = nn.MaxPool2d(3, stride=2, padding=1)
        self.ap = nn.AvgPool2d(2)

    def forward(self, x):
        y = self.c(x)
        a = self.ap(self.mp(y))
        b = F.avg_pool2d(F.max_pool2d(y, kernel_size=4), 1)
        return torch.cat([a, b], 1)


class GlobalPools(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 4, 3, padding=1)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(12, 5)

    def forward(self, x):
        y = self.c(x)
        a = self.gap(y).flatten(1)
        b = torch.flatten(F.adaptive_avg_pool2d(y, (1, 1)), 1)
        c = y.mean((2, 3))
        return self.fc(torch.cat([a, b, c], dim=1))


class AvgPoolPadding(nn.Module):
    def __init__(self):
        super().__init__()
        self.ap = nn.AvgPool2d(3, stride=1, padding=1)

    def forward(self, x):
        return F.avg_pool2d(self.ap(x), 3, 2, 1)


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.a = nn.Conv2d(4, 4, 3, padding=1)
        self.b = nn.Conv2d(4, 4, 3, padding=1)
        self.c = nn.Conv2d(4, 4, 1)

    def forward(self, x):
        s = F.relu(self.stem(x))
        y = s + self.a(s)
        y = torch.add(y, self.b(y))
        y = y.add(self.c(y))
        z = self.c(y)
        z += y
        return z


class Concat(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 2, 1)
        self.b = nn.Conv2d(3, 3, 3, padding=1)

    def forward(self, x):
        y = torch.cat([self.a(x), self.b(x)], 1)
        return torch.cat((y, x, F.relu(y)), dim=-3)


class Flattens(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 2, 3, stride=2, padding=1)
        self.flat = nn.Flatten()
        self.fc1 = nn.Linear(32, 6)
        self.fc2 = nn.Linear(24, 4, bias=False)
        self.drop = nn.Dropout(0.5)
        self.ident = nn.Identity()

    def forward(self, x):
        y = self.ident(self.c(x))
        a = self.fc1(self.drop(y.view(y.size(0), -1)))
        b = self.fc1(y.reshape(y.shape[0], -1).contiguous())
        c = self.fc1(torch.flatten(y, 1))
        d = self.fc1(F.dropout(self.flat(y), 0.3, training=self.training))
        return F.relu(self.fc2(torch.cat([a, b, c, d], 1)))


class ConvBN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4),
            nn.ReLU(),
            nn.Conv2d(4, 6, 3, padding=1, groups=2), nn.BatchNorm2d(6),
            nn.ReLU6())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(6, 3)

    def forward(self, x):
        return self.head(torch.flatten(self.pool(self.features(x)), 1))


class SqueezeExcite(nn.Module):
    """x * relu6(fc(mean(x))) / 6 broadcast over H x W, plus the scale;
    torch.mul, Tensor.mul and sub of two tensors; x * c."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Conv2d(8, 8, 1)
        self.pw = nn.Conv2d(8, 8, 1)

    def forward(self, x):
        y = F.relu(self.c(x))
        s = F.relu6(self.fc(y.mean((2, 3), keepdim=True))) / 6
        y = y * s + s
        return torch.mul(y, 0.5) - self.pw(y).mul(s)


class CeilPools(nn.Module):
    """PyTorch's ceil_mode output sizes (including a window that would start
    in the right padding and is dropped), count_include_pad=False, adaptive
    pools whose windows differ in size (6 x 6 to 4 x 5)."""

    def __init__(self):
        super().__init__()
        self.mp = nn.MaxPool2d(3, 2, 1, ceil_mode=True)
        self.ap = nn.AvgPool2d(3, 2, 1, ceil_mode=True)
        self.apx = nn.AvgPool2d(3, 1, 1, count_include_pad=False)
        self.am = nn.AdaptiveMaxPool2d((4, 5))

    def forward(self, x):
        y = self.apx(self.mp(x)) + self.ap(x)
        return self.am(y) - F.adaptive_avg_pool2d(y, (4, 5))


MODELS = {"conv_basic": ConvBasic, "conv_stride_dilation": ConvStrideDilation,
          "conv_groups_same_valid": ConvGroups, "activations": Activations,
          "max_avg_pools": Pools, "global_pools_linear": GlobalPools,
          "avg_pool_padding": AvgPoolPadding, "residual_adds": Residual,
          "concat": Concat, "flatten_view_reshape_dropout": Flattens,
          "conv_bn_folding": ConvBN, "squeeze_excite_mul_sub": SqueezeExcite,
          "ceil_mode_adaptive_pools": CeilPools}

INPUT = {"conv_groups_same_valid": (2, 4, 7, 7),
         "ceil_mode_adaptive_pools": (2, 3, 11, 11)}


def _case(name, seed=0):
    torch.manual_seed(seed)
    model = randomize_batchnorm(MODELS[name]()).eval()
    x = torch.randn(*INPUT.get(name, (2, 3, 8, 8)))
    return model, x


def _run_float(graph, x, workdir, **emit_args):
    src = f"{workdir}/float.mlir"
    with open(src, "w") as f:
        f.write(E.emit(graph, **emit_args))
    return T.run_mlir(src, "forward", [np.asarray(x, np.float32)], workdir)[0]


def _assert_close(got, want, what):
    want = np.asarray(want, np.float64)
    scale = max(float(np.max(np.abs(want))), 1e-30)
    err = float(np.max(np.abs(np.asarray(got, np.float64) - want))) / scale
    assert got.shape == want.shape, f"{what}: shape {got.shape} != " \
                                    f"{want.shape}"
    assert err <= 1e-5, f"{what}: max |MLIR - PyTorch| / max |PyTorch| " \
                        f"= {err:.2e} > 1e-5"


@pytest.mark.parametrize("name", sorted(MODELS))
def test_float_export_matches_pytorch(name, workdir):
    model, x = _case(name)
    graph = export(model, x)
    with torch.no_grad():
        want = model(x).numpy()
    got = _run_float(graph, x.numpy(), workdir)
    _assert_close(got, want, name)
    # The numpy float model of the graph agrees as well.
    _assert_close(E.float_forward(graph, x.numpy())[graph.output], want,
                  f"{name} (numpy float_forward)")


def test_layer_kinds_and_names():
    model, x = _case("residual_adds")
    g = export(model, x)
    kinds = [(l.name, type(l).__name__) for l in g.layers]
    assert kinds == [("stem", "Conv2d"), ("relu", "Relu"), ("a", "Conv2d"),
                     ("add", "Add"), ("b", "Conv2d"), ("add_1", "Add"),
                     ("c", "Conv2d"), ("add_2", "Add"), ("c#2", "Conv2d"),
                     ("add_3", "Add")], kinds
    # A module called twice keeps its path as location.
    assert g.producer("c#2").loc == "c"


def test_batchnorm_folded(workdir):
    model, x = _case("conv_bn_folding")
    g = export(model, x)
    assert g.folded_batchnorms == ["features.1", "features.4"]
    assert not any("BatchNorm" in type(l).__name__ for l in g.layers)
    conv0 = g.producer("features.0")
    assert conv0.b is not None  # bias created by the fold
    # The caller's model is untouched.
    assert isinstance(model.features[1], nn.BatchNorm2d)
    assert model.features[0].bias is None


def test_module_paths_as_locations(workdir, toolchain):
    model, x = _case("conv_bn_folding")
    g = export(model, x)
    text = E.emit(g)
    for loc in ("features.0", "features.2", "features.3", "features.5",
                "pool", "flatten", "head"):
        assert f'loc("{loc}")' in text, loc
    # The names survive quantization (myquant-opt keeps the locations).
    from myquant import calibrate as C
    stats = C.collect_stats(g, [x.numpy()])
    src = f"{workdir}/a.mlir"
    with open(src, "w") as f:
        f.write(E.emit(g, stats))
    out, _ = T.run_tool("myquant-opt", [src, "--myquant-ptq",
                                        "--mlir-print-debuginfo"])
    for loc in ("features.0", "features.3", "head"):
        assert f'loc("{loc}")' in out, loc


def test_dense_resource_weights(workdir):
    model, x = _case("conv_bn_folding")
    g = export(model, x)
    text = E.emit(g, weights="resource")
    assert "dense_resource<w0>" in text and "dialect_resources" in text
    dense = _run_float(g, x.numpy(), workdir)
    res = _run_float(g, x.numpy(), workdir, weights="resource")
    assert np.array_equal(dense, res)


def test_multiple_outputs(workdir):
    model, x = _case("residual_adds")
    g = export(model, x)
    names = ["add_2", "relu", g.output]
    src = f"{workdir}/m.mlir"
    with open(src, "w") as f:
        f.write(E.emit(g, outputs=names))
    outs = T.run_mlir(src, "forward", [x.numpy()], workdir, num_outputs=3)
    ref = E.float_forward(g, x.numpy())
    for n, o in zip(names, outs):
        np.testing.assert_allclose(o, ref[n], rtol=1e-5, atol=1e-5)


def test_other_batch_size(workdir):
    model, x = _case("concat")
    g = export(model, x[:1]).with_batch(3)
    x3 = torch.randn(3, 3, 8, 8)
    with torch.no_grad():
        want = model(x3).numpy()
    _assert_close(_run_float(g, x3.numpy(), workdir), want, "batch 3")


# -- errors ------------------------------------------------------------------

class _Softsign(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Softsign())

    def forward(self, x):
        return self.body(x)


class _Wrap(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.c = nn.Conv2d(3, 4, 3, padding=1)
        self.fn = fn

    def forward(self, x):
        return self.fn(self.c(x))


class _TwoInputs(nn.Module):
    def forward(self, x, y):
        return x + y


class _ControlFlow(nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return F.relu(x)
        return x


class _BatchStatsBN(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4, track_running_stats=False)

    def forward(self, x):
        y = self.c(x)
        return self.bn(y) + y


ERRORS = {
    "module": (_Softsign(), ["unsupported module 'body.1' (Softsign",
                             "fx node 'body_1'"]),
    "function": (_Wrap(lambda t: torch.sin(t)),
                 ["unsupported function torch.sin", "fx node 'sin'"]),
    "method": (_Wrap(lambda t: t.sin()),
               ["unsupported method Tensor.sin", "fx node 'sin'"]),
    "reshape_batch": (_Wrap(lambda t: t.view(-1)),
                      ["method Tensor.view", "reshape from [2, 4, 8, 8] to "
                       "[512] changes the batch dimension"]),
    "permute_batch": (_Wrap(lambda t: t.permute(1, 0, 2, 3)),
                      ["method Tensor.permute", "moves the batch dimension"]),
    "index_batch": (_Wrap(lambda t: t[1:]),
                    ["function operator.getitem", "indexing the batch"]),
    "index_list": (_Wrap(lambda t: t[:, [0, 2]]),
                   ["function operator.getitem", "index [0, 2] (only slices"]),
    "chunk_batch": (_Wrap(lambda t: t.chunk(2)[0]),
                    ["method Tensor.chunk", "splitting the batch"]),
    "dropout_training": (_Wrap(lambda t: F.dropout(t, 0.5, training=True)),
                         ["function torch.nn.functional.dropout",
                          "in training mode"]),
    "scalar_add": (_Wrap(lambda t: t + 1.0),
                   ["function operator.add", "scalar"]),
    "negative_scale": (_Wrap(lambda t: t * -2.0),
                       ["function operator.mul", "multiplying by -2.0"]),
    "tensor_division": (_Wrap(lambda t: t / t),
                        ["function operator.truediv", "division of or by "
                         "a tensor"]),
    "cat_dim": (_Wrap(lambda t: torch.cat([t, t], 2)),
                ["function torch.cat", "dim 2"]),
    "divisor_override": (_Wrap(lambda t: F.avg_pool2d(
        t, 2, divisor_override=3)), ["avg_pool2d", "divisor_override"]),
    "adaptive_too_large": (_Wrap(lambda t: F.adaptive_avg_pool2d(t, 9)),
                           ["adaptive_avg_pool2d",
                            "output_size=9 on a 8 x 8 input"]),
    "hardtanh": (_Wrap(lambda t: F.hardtanh(t, -1.0, 1.0)),
                 ["hardtanh(-1.0, 1.0)"]),
    "batchnorm_batch_stats": (_BatchStatsBN(),
                              ["module 'bn' (BatchNorm2d",
                               "no running statistics"]),
    "two_inputs": (_TwoInputs(), ["takes 2 inputs"]),
    "control_flow": (_ControlFlow(), ["torch.fx cannot trace _ControlFlow",
                                      "control flow"]),
    "input_shape": (_Wrap(lambda t: t.view(2, 3, -1)),
                    ["running the model on an input of shape [2, 3, 8, 8] "
                     "failed: RuntimeError"]),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_error_messages(case):
    model, patterns = ERRORS[case]
    with pytest.raises(ExportError) as e:
        export(model.eval(), torch.randn(2, 3, 8, 8))
    msg = str(e.value)
    for p in patterns:
        assert p in msg, f"{p!r} not in: {msg}"


def test_squeezenet1_1_ceil_mode_exports():
    """torchvision's squeezenet1_1 keeps its MaxPool2d(ceil_mode=True)."""
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    model = torchvision.models.squeezenet1_1().eval()
    x = torch.randn(1, 3, 64, 64)
    graph = export(model, x)
    pools = [l for l in graph.layers if isinstance(l, E.MaxPool2d)]
    assert len(pools) == 3 and all(p.ceil_mode for p in pools)
    with torch.no_grad():
        want = model(x).numpy()
    _assert_close(E.float_forward(graph, x.numpy())[graph.output], want,
                  "squeezenet1_1 (numpy float_forward)")


def test_unsupported_is_export_error():
    assert issubclass(UnsupportedError, ExportError)
    assert issubclass(ExportError, ValueError)
