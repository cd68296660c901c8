"""Dynamic quantization (docs/NumericSpec.md 8): the numpy reference, and the
compiled models bit for bit against it."""

import os
from fractions import Fraction

import numpy as np
import pytest

from conftest import RUNNABLE_TARGETS, executable, quantize_cli, rand_f32

from myquant import qparams as Q
from myquant.emit import (Add, Flatten, LayerNorm, Linear, Model, Relu,
                          calibrate, emit, float_forward)
from myquant.qparams import WIDE_QMAX, choose_wide_qparams
from myquant.testing import model_reference as MR
from myquant.testing import reference as ref


def test_wide_qparams():
    assert choose_wide_qparams(-3.0, 2.0) == (3.0 / 2**23, 0)
    assert choose_wide_qparams(0.0, 0.0) == (1.0, 0)


@pytest.mark.parametrize("amax", [1, 2, 3, 127, 3000, 2**30, WIDE_QMAX])
def test_reciprocal_is_correctly_rounded(amax):
    a, r, k = ref.dynamic_input_params(np.array([amax, -1]))
    assert a == amax and k == 23 + amax.bit_length()
    exact = Fraction(127 * 2**k, amax)
    assert abs(r - exact) <= Fraction(1, 2)
    assert 127 * 2**23 <= r < 2**31


def test_runtime_quantize_matches_rounding_of_127_x_over_a():
    rng = np.random.default_rng(0)
    for amax in (5, 1000, 2**20 + 3, WIDE_QMAX):
        x = rng.integers(-amax, amax + 1, 2000)
        x[0] = amax
        q, a = ref.dynamic_quantize(x)
        assert a == amax and q.max() == 127
        exact = np.array([Fraction(127 * int(v), amax) for v in x])
        err = np.array([abs(float(Fraction(int(qq)) - e))
                        for qq, e in zip(q, exact)])
        assert err.max() <= 0.5 + 1e-6


def test_all_zero_input_gives_the_bias():
    x = np.zeros((2, 3), np.int64)
    w = np.ones((3, 2), np.int64)
    b = ref.dynamic_bias([0.5, -0.25], 1e-3, [0.01, 0.02])
    m0, sh = ref.dynamic_multipliers(1e-3, [0.01, 0.02], 1e-3)
    out = ref.dynamic_matmul(x, w, b, m0, sh, 0, -WIDE_QMAX, WIDE_QMAX)
    np.testing.assert_array_equal(out, [[500, -250]] * 2)


def test_dynamic_matmul_follows_the_float_product():
    rng = np.random.default_rng(1)
    s_in, s_out = 2.0 / 2**23, 40.0 / 2**23
    for scale in (1.0, 1e-3):  # the batch's range, far below calibration's
        xf = rng.uniform(-scale, scale, (4, 64))
        x = np.rint(xf / s_in).astype(np.int64)
        wf = rng.normal(0, 0.1, (64, 8))
        s_w = np.abs(wf).max(axis=0) / 127
        w = np.rint(wf / s_w).astype(np.int64)
        bf = rng.normal(0, scale, 8).astype(np.float32)
        b = ref.dynamic_bias(bf, s_in, s_w)
        m0, sh = ref.dynamic_multipliers(s_in, s_w, s_out)
        out = ref.dynamic_matmul(x, w, b, m0, sh, 0, -WIDE_QMAX, WIDE_QMAX)
        want = (x * s_in) @ (w * s_w) + bf
        # int8 input rounding: half a step of max|x|/127 per term.
        bound = 0.5 * np.abs(x * s_in).max() / 127 * np.abs(w * s_w).sum(0)
        assert np.all(np.abs(out * s_out - want) <= bound + s_out)


@pytest.mark.parametrize("d", [1, 2, 3, 255, 3000, 2**31 - 1, 2**32 - 2])
def test_asymmetric_reciprocal_is_correctly_rounded(d):
    x = np.array([d - WIDE_QMAX, -WIDE_QMAX]) if d > WIDE_QMAX else \
        np.array([d, 0])
    got, r, k, _ = ref.dynamic_input_params(x, asymmetric=True)
    assert got == d and k == 22 + d.bit_length()
    assert abs(r - Fraction(255 * 2**k, d)) <= Fraction(1, 2)
    assert 255 * 2**22 <= r < 2**31


def test_asymmetric_quantize_uses_the_whole_uint8_range():
    """Spec 8.2b: 0 maps to z exactly, q - z rounds 255 x / D' (one step
    at most at the clamped top), and a non-negative (post-ReLU) input gets
    z = 0 and all of [0, 255]: twice the symmetric resolution."""
    rng = np.random.default_rng(2)
    for lo, hi in ((0, 1000), (-300, 5000), (-2**20, 7), (-WIDE_QMAX, 0)):
        x = rng.integers(lo, hi + 1, 3000)
        x[:3] = (lo, hi, 0)
        q, z, d = ref.dynamic_quantize_asymmetric(x)
        assert d == hi - lo and 0 <= q.min() and q.max() <= 255
        assert q[2] == z
        exact = np.array([float(Fraction(255 * int(v), d)) for v in x])
        err = np.abs(q - z - exact)
        assert err[q < 255].max() <= 0.5 + 1e-6 and err.max() <= 1 + 1e-6
        if lo == 0:
            assert z == 0 and q.max() == 255


@pytest.mark.parametrize("asymmetric", [False, True])
def test_per_row_is_per_tensor_row_by_row(asymmetric):
    """Spec 8.2c: a per-row dynamic matmul is, row by row, the per-tensor
    one of that row alone (rows whose ranges differ by 10^5, a zero row)."""
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((4, 12)) *
         np.array([[1e5], [3.0], [0.0], [1e3]])).astype(np.int64)
    w = rng.integers(-127, 128, (5, 12))
    b = rng.integers(-10**4, 10**4, 5)
    m0, sh = ref.quantize_multipliers([1e-3] * 5)
    args = (w, b, m0, sh, 3, -2**31 + 1, 2**31 - 1)
    rows = ref.dynamic_matmul(x, *args, transpose_rhs=True,
                              asymmetric=asymmetric, per_row=True)
    for i in range(4):
        np.testing.assert_array_equal(
            rows[i:i + 1], ref.dynamic_matmul(x[i:i + 1], *args,
                                              transpose_rhs=True,
                                              asymmetric=asymmetric))
    # Per tensor, the large row sets the small rows' step: they differ.
    whole = ref.dynamic_matmul(x, *args, transpose_rhs=True,
                               asymmetric=asymmetric)
    assert not np.array_equal(whole[1], rows[1])


def test_asymmetric_choice_follows_the_weight_bound():
    w = np.full((4, 3), 127)
    assert ref.dynamic_is_asymmetric(w)
    big = np.full((2**30 // 255 // 127 + 1, 2), 127)
    assert not ref.dynamic_is_asymmetric(big)
    assert not ref.dynamic_is_asymmetric(big.T, transpose_rhs=True)
    with pytest.raises(ValueError, match="2\\^30"):
        ref.dynamic_matmul(np.zeros((1, big.shape[0]), np.int64), big, None,
                           [1 << 30], [31], 0, -WIDE_QMAX, WIDE_QMAX,
                           asymmetric=True)


def test_dynamic_bias_overflow_is_an_error():
    with pytest.raises(ValueError, match="2\\^62"):
        ref.dynamic_bias([1e30], 1e-9, [1e-9])


def mlp(rng):
    """flatten + three Linear layers with relu: every value wide."""
    m = Model((4, 2, 4, 4))
    m.add(Flatten())
    m.add(Linear(rand_f32(rng, 48, 32, scale=0.3), rand_f32(rng, 48)))
    m.add(Relu())
    m.add(Linear(rand_f32(rng, 40, 48, scale=0.2), rand_f32(rng, 40)))
    m.add(Relu())
    m.add(Linear(rand_f32(rng, 10, 40, scale=0.2), rand_f32(rng, 10)))
    return m


def residual(rng):
    """Linear layers around an add: the add's operands and result stay
    static int8, the first Linear's input and the last one's output wide."""
    m = Model((3, 24))
    h = m.add(Linear(rand_f32(rng, 16, 24, scale=0.3), rand_f32(rng, 16)))
    a = m.add(Linear(rand_f32(rng, 16, 16, scale=0.3), None))
    m.add(Add(), inputs=[h, a])
    m.add(Linear(rand_f32(rng, 8, 16, scale=0.3), rand_f32(rng, 8)))
    return m


def norm_between(rng):
    """Linear, LayerNorm, Linear: with norm-input-bits=16 the first writes
    the LayerNorm's 16-bit input, the LayerNorm the second one's wide
    input (spec 8.5)."""
    m = Model((3, 24))
    m.add(Linear(rand_f32(rng, 16, 24, scale=0.3), rand_f32(rng, 16)))
    m.add(LayerNorm(1 + rand_f32(rng, 16, scale=0.2), rand_f32(rng, 16)))
    m.add(Linear(rand_f32(rng, 8, 16, scale=0.3), rand_f32(rng, 8)))
    return m


MODELS = {"mlp": mlp, "residual": residual, "norm_between": norm_between}


DYNAMIC_TARGETS = [t for t in ("generic", "avx512-vnni", "avx512-vnni-256")
                   if t in RUNNABLE_TARGETS]


def dynamic_executable(quantized, target, toolchain, workdir):
    """The executable of a quantized dynamic module on `target`: the
    dynamic Linears run in VNNI kernels, the generic target lowers them
    with linalg."""
    kernels, _ = toolchain.quantize(
        quantized, [f"--convert-myquant-to-vnni=target={target}"], workdir)
    assert ("myquant.dynamic_matmul" in kernels) == (target == "generic")
    lowered, _ = toolchain.quantize(
        kernels, ["--convert-myquant-to-linalg"], workdir)
    return executable(lowered, target)


@pytest.mark.parametrize("target", DYNAMIC_TARGETS)
@pytest.mark.parametrize("name,mode", [("mlp", "asymmetric"),
                                       ("mlp", "symmetric"),
                                       ("residual", "asymmetric"),
                                       ("mlp", "asymmetric-per-row"),
                                       ("mlp", "symmetric-per-row")])
def test_dynamic_model_bit_exact(name, mode, target, toolchain, workdir):
    """Bit-identical to the reference on batches whose ranges differ by
    3000x, and (all-dynamic MLP) close to the float model on each, relative
    to the batch; with the asymmetric runtime inputs the small weights
    here allow (8.2b), and with symmetric ones (8.2); per tensor, or per
    row (8.2c): then a sample's result does not depend on its batch."""
    rng = np.random.default_rng(7)
    model = MODELS[name](rng)
    stats = calibrate(model, [rng.standard_normal(model.input_shape).astype(
        np.float32) for _ in range(4)])
    symmetric = mode.startswith("symmetric")
    per_row = mode.endswith("per-row")
    quantized, remarks = toolchain.quantize(
        emit(model, stats), ["--myquant-propagate-qparams=dynamic=true",
                             f"--myquant-quantize=dynamic-symmetric="
                             f"{str(symmetric).lower()} dynamic-per-row="
                             f"{str(per_row).lower()}",
                             "--myquant-verify-integer-only"], workdir)
    assert "myquant.dynamic_matmul" in quantized
    assert ("asymmetric" in quantized) != symmetric
    assert ("per_row" in quantized) == per_row
    if name == "residual":
        assert "stays static int8" in remarks
    exe = dynamic_executable(quantized, target, toolchain, workdir)
    granularity = "per-row" if per_row else "per-tensor"
    for scale in (1.0, 1e-3, 3.0):
        x = (rng.standard_normal(model.input_shape) * scale).astype(
            np.float32)
        want = MR.run_reference(model, stats, x,
                                dynamic="symmetric" if symmetric else True,
                                dynamic_granularity=granularity)
        got = toolchain.run(exe, "forward", x, workdir)
        np.testing.assert_array_equal(got, want.dequantize(),
                                      err_msg=f"{name}, input scale {scale}")
        if per_row:
            # Sample 0 scaled by 100: the other rows' results are the same.
            scaled = x.copy()
            scaled[0] *= 100
            other = toolchain.run(exe, "forward", scaled, workdir)
            np.testing.assert_array_equal(other[1:], got[1:])
        # The all-dynamic MLP follows the float model at every input scale
        # (the residual model's static int8 add clips beyond calibration).
        flt = float_forward(model, x)[model.output]
        if name == "mlp":
            assert np.abs(got - flt).max() <= 0.05 * np.abs(flt).max(), scale


def test_wide_values_policy():
    rng = np.random.default_rng(0)
    model = residual(rng)
    stats = calibrate(model, [rng.standard_normal(model.input_shape).astype(
        np.float32)])
    _, _, qp, bits = Q.plan_precision(model, stats, dynamic=True)
    names = [layer.name for layer in model.layers]
    assert [bits[n] for n in ["x"] + names] == [32, 8, 8, 8, 32]
    assert qp["x"] == choose_wide_qparams(*stats["x"])


def test_quantize_api_dynamic_report(build_dir):
    """myquant.quantize(dynamic=True): the compiled model equals the
    reference on a batch far below the calibration range, and the report
    marks the Linears "dyn"."""
    torch = pytest.importorskip("torch")
    import myquant
    from myquant import evaluate as V
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(12, 16), torch.nn.ReLU(),
        torch.nn.Linear(16, 4)).eval()
    calib = torch.randn(16, 3, 4)
    q = myquant.quantize(model, calib, dynamic=True, max_batch=4)
    try:
        # The exported graph has batch 1 (its reshape shapes).
        x = (np.random.default_rng(0).standard_normal((1, 3, 4)) * 1e-3
             ).astype(np.float32)
        want = MR.run_reference(q.graph, q.stats, x, dynamic=True)
        np.testing.assert_array_equal(q(x), want.dequantize())
        rows = V.layer_report(q, x).rows
        assert [(r["op"], r["precision"]) for r in rows] == [
            ("input", "a32"), ("Reshape", "a32"), ("Linear+ReLU", "dyn"),
            ("Linear", "dyn")]
    finally:
        q.close()
    with pytest.raises(ValueError, match="8-bit"):
        myquant.quantize(model, calib, dynamic=True, activation_bits=16)
    with pytest.raises(ValueError, match="norm_input_scales"):
        myquant.quantize(model, calib, dynamic=True,
                         norm_input_scales="per-channel")
    with pytest.raises(ValueError, match="integer-io"):
        myquant.quantize(model, calib, dynamic=True, integer_io=True)
    with pytest.raises(ValueError, match="needs dynamic=True"):
        myquant.quantize(model, calib, dynamic_granularity="per-row")
    with pytest.raises(ValueError, match="dynamic_granularity"):
        myquant.quantize(model, calib, dynamic=True,
                         dynamic_granularity="per-token")


MLP_PY = """\
import torch.nn as nn


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(12, 16)
        self.fc2 = nn.Linear(16, 4)

    def forward(self, x):
        return self.fc2(self.fc1(x).relu())
"""


def test_cli_dynamic(tmp_path, build_dir):
    """`quantize --dynamic` writes myquant.dynamic_matmul for both Linears;
    with --integer-io it is refused with the reason."""
    cli = quantize_cli(tmp_path, MLP_PY, "Mlp", np.random.default_rng(
        0).standard_normal((8, 12)).astype(np.float32), "--dynamic")
    p = cli("-o", "q.mlir")
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "q.mlir").read_text().count(
        "myquant.dynamic_matmul") == 2
    p = cli("--integer-io", "-o", "qi.mlir")
    assert p.returncode != 0 and "integer-io" in p.stderr, p.stderr
    p = cli("--dynamic-granularity", "per-row", "-o", "qr.mlir")
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "qr.mlir").read_text().count("per_row") == 2
    # 16-bit LayerNorm / Softmax inputs combine with it (spec 8.5);
    # per-channel LayerNorm inputs do not.
    p = cli("--norm-input-bits", "16", "--softmax-input-bits", "16", "-o",
            "q16.mlir")
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "q16.mlir").read_text().count(
        "myquant.dynamic_matmul") == 2
    p = cli("--norm-input-scales", "per-channel", "-o", "qc.mlir")
    assert p.returncode != 0 and "norm_input_scales" in p.stderr, p.stderr


@pytest.mark.parametrize("target", DYNAMIC_TARGETS)
def test_dynamic_matmul_writes_16bit_norm_input(target, toolchain, workdir):
    """dynamic=true with norm-input-bits=16 (spec 8.5): a dynamic matmul
    whose result a 16-bit-input LayerNorm reads writes it in 16 bits, the
    LayerNorm writes the next dynamic matmul's wide input; bit-identical to
    the reference, with the dynamic Linears in VNNI kernels."""
    rng = np.random.default_rng(3)
    model = norm_between(rng)
    stats = calibrate(model, [rng.standard_normal(model.input_shape).astype(
        np.float32) for _ in range(4)])
    quantized, remarks = toolchain.quantize(
        emit(model, stats),
        ["--myquant-propagate-qparams=dynamic=true norm-input-bits=16",
         "--myquant-quantize", "--myquant-verify-integer-only",
         "--myquant-verify-qparams"], workdir)
    assert "stays static int8" not in remarks, remarks
    first = [line for line in quantized.splitlines()
             if "= myquant.dynamic_matmul " in line][0]
    assert first.rsplit("->", 1)[1].count("!quant.uniform<i16<") == 1, first
    exe = dynamic_executable(quantized, target, toolchain, workdir)
    for scale in (1.0, 1e-3, 3.0):
        x = (rng.standard_normal(model.input_shape) * scale).astype(
            np.float32)
        want = MR.run_reference(model, stats, x, dynamic=True,
                                norm_input_bits=16)
        got = toolchain.run(exe, "forward", x, workdir)
        np.testing.assert_array_equal(got, want.dequantize(),
                                      err_msg=f"input scale {scale}")


def residual_block(rng, shared):
    """LayerNorm, Linear fc1, x + fc1, LayerNorm, Linear fc2; with `shared`
    fc1 + fc2 is the output, a second add of fc1 whose result is 8-bit."""
    m = Model((3, 16))
    m.add(LayerNorm(1 + rand_f32(rng, 16, scale=0.2), rand_f32(rng, 16)))
    fc1 = m.add(Linear(rand_f32(rng, 16, 16, scale=0.3), rand_f32(rng, 16)))
    m.add(Add(), inputs=["x", fc1])
    m.add(LayerNorm(1 + rand_f32(rng, 16, scale=0.2), rand_f32(rng, 16)))
    fc2 = m.add(Linear(rand_f32(rng, 16, 16, scale=0.3), rand_f32(rng, 16)))
    if shared:
        m.add(Add(), inputs=[fc1, fc2])
    return m, fc1


@pytest.mark.parametrize("shared", [False, True])
def test_dynamic_residual_add_operand_width(toolchain, workdir, shared):
    """dynamic=true with norm-input-bits=16 (spec 8.5): fc1, read only by
    the residual add that writes the second LayerNorm's 16-bit input,
    writes 16 bits; also read by an add with an 8-bit result, it keeps
    int8. The dry run and the Python policy agree: bit-identical to the
    reference (generic; the ViT test covers the VNNI kernels)."""
    rng = np.random.default_rng(5)
    model, fc1 = residual_block(rng, shared)
    stats = calibrate(model, [rng.standard_normal(model.input_shape).astype(
        np.float32) for _ in range(4)])
    _, _, _, bits = Q.plan_precision(model, stats, dynamic=True,
                                     norm_input_bits=16)
    assert bits[fc1] == (8 if shared else 16)
    quantized, _ = toolchain.quantize(
        emit(model, stats),
        ["--myquant-propagate-qparams=dynamic=true norm-input-bits=16",
         "--myquant-quantize", "--myquant-verify-integer-only",
         "--myquant-verify-qparams"], workdir)
    first = [line for line in quantized.splitlines()
             if "= myquant.dynamic_matmul " in line][0]
    assert ("!quant.uniform<i16<" in first.rsplit("->", 1)[1]) != shared
    lowered, _ = toolchain.quantize(
        quantized, ["--convert-myquant-to-linalg"], workdir)
    exe = executable(lowered, "generic")
    x = rng.standard_normal(model.input_shape).astype(np.float32)
    want = MR.run_reference(model, stats, x, dynamic=True, norm_input_bits=16)
    np.testing.assert_array_equal(toolchain.run(exe, "forward", x, workdir),
                                  want.dequantize())


def tiny_vit():
    """torchvision's VisionTransformer in tiny (4 patches of 8 x 8 and the
    class token, 1 layer of 2 heads over 32 channels, MLP 64), with a
    random class token and head (torchvision initializes both to zero) and
    LayerNorms away from (1, 0)."""
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    vit = torchvision.models.VisionTransformer(
        image_size=16, patch_size=8, num_layers=1, num_heads=2,
        hidden_dim=32, mlp_dim=64, num_classes=10).eval()
    with torch.no_grad():
        vit.heads.head.weight.normal_(0, 0.1)
        vit.class_token.normal_(0, 0.5)
        for m in vit.modules():
            if isinstance(m, torch.nn.LayerNorm):
                m.weight.add_(0.2 * torch.randn_like(m.weight))
                m.bias.add_(0.2 * torch.randn_like(m.bias))
    return torch, vit


@pytest.mark.parametrize("norm_bits,softmax_bits",
                         [(8, 8), (16, 8), (16, 16)])
def test_dynamic_vit_bit_exact(toolchain, workdir, norm_bits, softmax_bits):
    """A transformer in dynamic mode (spec 8.5): every Linear (attention's
    q, k, v and output projections, the MLP, the head) is a dynamic matmul;
    the LayerNorms, the GELU table and the attention's A V matmul write
    their wide inputs; the residual adds, the softmax and the other
    activation x activation matmul stay static, int8 or with
    norm-input-bits=16 / softmax-input-bits=16 the LayerNorm inputs (the
    residual stream) and the scores and probabilities in 16 bits (spec
    6.5); with
    norm-input-bits=16 the Linears that only the residual adds read write
    16 bits too, and so do the patch embedding's convolution and class
    token concat (spec 8.5). Bit-identical to the reference on the generic
    and AVX-512 targets (the dynamic kernels meet avx-vnni in
    test_dynamic_model_bit_exact's models)."""
    from myquant.export import export
    torch, vit = tiny_vit()
    rng = np.random.default_rng(0)
    calib = [rng.standard_normal((2, 3, 16, 16)).astype(np.float32)
             for _ in range(4)]
    graph = export(vit, torch.from_numpy(calib[0]))
    stats = calibrate(graph, calib)
    quantized, remarks = toolchain.quantize(
        emit(graph, stats),
        [f"--myquant-propagate-qparams=dynamic=true norm-input-bits="
         f"{norm_bits} softmax-input-bits={softmax_bits}",
         "--myquant-quantize", "--myquant-verify-integer-only",
         "--myquant-verify-qparams"], workdir)
    assert "stays static int8" not in remarks, remarks
    assert quantized.count("myquant.dynamic_matmul") == 7
    wide = "!quant.uniform<i32<-2147483647:2147483647>"
    for op in ("myquant.layer_norm", "myquant.table", "myquant.matmul"):
        results = [line.rsplit("->", 1)[1] for line in quantized.splitlines()
                   if f"= {op} " in line]
        assert any(wide in r for r in results), op
    # Each LayerNorm reads the 16-bit residual stream and writes a wide
    # value; the softmax reads 16-bit scores.
    i16 = "!quant.uniform<i16<"
    norms = [line for line in quantized.splitlines()
             if "= myquant.layer_norm " in line]
    assert len(norms) == 3
    for line in norms:
        args, result = line.rsplit("->", 1)
        assert (i16 in args) == (norm_bits == 16) and wide in result, line
    softmax = [line for line in quantized.splitlines()
               if "= myquant.softmax " in line]
    assert len(softmax) == 1
    assert (i16 in softmax[0].rsplit("->", 1)[0]) == (softmax_bits == 16)
    # ... and writes the 16-bit probabilities (2^-15, 0) that A V reads as
    # its lhs, multiplied by the int8 V (spec 6.4, 6.5).
    probabilities = "!quant.uniform<i16<-32767:32767>:f32, 3.0517578125E-5>"
    assert (probabilities in softmax[0].rsplit("->", 1)[1]) == \
        (softmax_bits == 16), softmax
    av = [line for line in quantized.splitlines() if "= myquant.matmul " in
          line and probabilities in line.rsplit("->", 1)[0]]
    assert len(av) == (1 if softmax_bits == 16 else 0), av
    # With norm-input-bits=16 the attention output projection and the
    # second MLP Linear, read by the residual adds only, write 16 bits too:
    # both adds read two 16-bit operands (8.5). Without it they write int8.
    lines = quantized.splitlines()
    dynamic16 = [line for line in lines if "= myquant.dynamic_matmul " in line
                 and i16 in line.rsplit("->", 1)[1]]
    assert len(dynamic16) == (2 if norm_bits == 16 else 0), dynamic16
    residual = [line for line in lines if "= myquant.add " in line
                and line.rsplit("->", 1)[0].count(i16) == 2]
    assert len(residual) == (2 if norm_bits == 16 else 0), residual
    # The patch embedding too: the convolution and the class token's
    # concat write 16 bits, which the position embedding's add reads (8.5).
    for op in ("myquant.conv2d", "myquant.concat"):
        writes16 = [line for line in lines if f"= {op} " in line
                    and i16 in line.rsplit("->", 1)[1]]
        assert len(writes16) == (1 if norm_bits == 16 else 0), (op, lines)
    position = [line for line in lines if "= myquant.add " in line
                and line.rsplit("->", 1)[0].count(i16) == 1]
    assert len(position) == (1 if norm_bits == 16 else 0), position
    x = rng.standard_normal((2, 3, 16, 16)).astype(np.float32)
    want = MR.run_reference(graph, stats, x, dynamic=True,
                            norm_input_bits=norm_bits,
                            softmax_input_bits=softmax_bits).dequantize()
    # A transformer's JIT compile may exceed run()'s 120 s on a loaded host.
    src = os.path.join(workdir, "lowered.mlir")
    for target in DYNAMIC_TARGETS:
        lowered, _ = toolchain.quantize(
            quantized, [f"--convert-myquant-to-vnni=target={target}",
                        "--convert-myquant-to-linalg"], workdir)
        with open(src, "w") as f:
            f.write(lowered)
        got = toolchain.run_file(src, "forward", [x], workdir, timeout=600)
        np.testing.assert_array_equal(got[0], want, err_msg=target)
    # The static model's logit SQNR is 29.8 dB.
    with torch.no_grad():
        flt = vit(torch.from_numpy(x)).numpy()
    sqnr = 10 * np.log10(np.sum(flt ** 2) / np.sum((want - flt) ** 2))
    assert sqnr > 30, sqnr
