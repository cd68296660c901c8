"""16-bit activations with 8-bit weights (docs/NumericSpec.md 6): the small
end-to-end models of test_end_to_end.py compiled with activation-bits=16,
or with layer-precision naming some layers, run on every kernel target
(16-bit layers take the generic lowering) and compared bit for bit with the
independent integer reference (model_reference.run_reference with the same
options); the 16-bit output must also be closer to the float model.

Run: /usr/bin/python3 -m pytest -q python/tests/test_int16_activations.py"""

import numpy as np
import pytest

from conftest import RUNNABLE_TARGETS, ToolError, executable
from test_end_to_end import MODELS, make_case

from myquant import tools as T
from myquant.emit import emit, float_forward
from myquant.testing import model_reference as MR
from myquant.testing import reference as R


def _compile_and_run(toolchain, workdir, model, stats, x, target, options):
    quantized, remarks = toolchain.quantize(
        emit(model, stats),
        [f"--myquant-propagate-qparams={options}", "--myquant-quantize"],
        workdir)
    lowered, _ = toolchain.quantize(
        quantized, [f"--convert-myquant-to-vnni=target={target}",
                    "--convert-myquant-to-linalg"], workdir)
    return quantized, toolchain.run(executable(lowered, target), "forward",
                                    x, workdir)


def _check_bit_exact(got, ref, what):
    want = ref.dequantize()
    assert got.shape == want.shape
    if not np.array_equal(got.view(np.int32), want.view(np.int32)):
        diff = np.argwhere(got != want)
        pytest.fail(f"{what}: {len(diff)} of {got.size} outputs differ from "
                    f"the reference, first at {tuple(diff[0])}: "
                    f"{got[tuple(diff[0])]!r} vs {want[tuple(diff[0])]!r}",
                    pytrace=False)


# 16-bit layers always take the generic lowering: every model on it, and a
# few on the kernel targets, whose int8 kernels must leave them alone.
WHOLE_MODEL_CASES = [(n, "generic") for n in sorted(MODELS)] + [
    (n, t) for t in RUNNABLE_TARGETS if t != "generic"
    for n in ("a_conv_relu_pool_linear", "c_residual", "d_concat_avgpool")]


@pytest.mark.parametrize("name,target", WHOLE_MODEL_CASES)
def test_whole_model_16bit_bit_exact(name, target, toolchain, workdir):
    model, stats, x = make_case(name)
    ref = MR.run_reference(model, stats, x, activation_bits=16)
    try:
        quantized, got = _compile_and_run(toolchain, workdir, model, stats,
                                          x, target, "activation-bits=16")
    except ToolError as e:
        pytest.fail(f"{name}: the compiler failed:\n{str(e)[:3000]}",
                    pytrace=False)
    assert "i16" in quantized
    _check_bit_exact(got, ref, f"{name} (16-bit, {target})")
    # Closer to the float model than int8.
    flt = float_forward(model, x)[model.output].astype(np.float64)
    ref8 = MR.run_reference(model, stats, x).dequantize()
    err16 = np.max(np.abs(got.astype(np.float64) - flt))
    err8 = np.max(np.abs(ref8.astype(np.float64) - flt))
    assert err16 < err8, f"{name}: 16-bit error {err16} >= 8-bit {err8}"


# Layer names of test_end_to_end.model_c: "stem" (conv + fused relu
# "block_in"), "branch" (a conv whose result the residual add reads).
LAYER_CASES = [(layers, "generic") for layers in
               [("stem",), ("branch",), ("stem", "branch")]] + [
    (("stem",), t) for t in RUNNABLE_TARGETS if t != "generic"]


@pytest.mark.parametrize("layers,target", LAYER_CASES)
def test_layer_precision_bit_exact(layers, target, toolchain, workdir):
    model, stats, x = make_case("c_residual")
    entries = [f"{n}:w8a16" for n in layers]
    ref = MR.run_reference(model, stats, x, layer_precision=entries)
    quantized, got = _compile_and_run(
        toolchain, workdir, model, stats, x, target,
        "layer-precision=" + ",".join(entries))
    # Some values are 16-bit, some stay 8-bit, with requantizations between.
    assert "i16" in quantized and "!quant.uniform<i8:" in quantized
    _check_bit_exact(got, ref, f"c_residual {entries} ({target})")


def test_int16_qparams():
    # Spec 6.1; the values myquant-propagate-qparams gives in
    # test/Dialect/MyQuant/Transforms/propagate-qparams-int16.mlir.
    assert R.choose_int16_qparams(-2.325, 1.304) == (7.0955534531693472e-05, 0)
    assert R.choose_int16_qparams(0.0, 2.866) == (8.746604815820795e-05, 0)
    assert R.choose_int16_qparams(0.0, 0.0) == (1.0, 0)
    with pytest.raises(ValueError):
        R.choose_int16_qparams(1.0, -1.0)


def test_int64_apply_matches_single_within_int32():
    # Spec 6.3: apply64 equals apply_single wherever v fits int32 ...
    rng = np.random.default_rng(0)
    v = rng.integers(-2**31, 2**31, 2000)
    m0 = rng.integers(2**30, 2**31, 2000)
    sh = rng.integers(0, 63, 2000)
    np.testing.assert_array_equal(R.apply_multiplier_int64(v, m0, sh),
                                  R.apply_multiplier(v, m0, sh))
    # ... and is exact beyond it.
    big = np.array([2**40 + 3, -(2**45) - 1, 2**62], np.int64)
    want = [min(max((int(b) * (2**30) + 2**40) >> 41, -2**31), 2**31 - 1)
            for b in big]
    np.testing.assert_array_equal(R.apply_multiplier_int64(big, 2**30, 41),
                                  want)


def test_ptq_options_validation():
    assert "activation-bits=16" in T.ptq_options(activation_bits=16)
    assert "layer-precision=a.b:w8a16,c:w8a8" in T.ptq_options(
        layer_precision={"a.b": "w8a16", "c": "w8a8"})
    assert T.layer_precision_entries("x:w8a16,y:w4a8") == ["x:w8a16",
                                                          "y:w4a8"]
    for bad in (["x:w8a12"], ["x"], [":w8a16"], ["a,b:w8a16"]):
        with pytest.raises(ValueError, match="w<4|8>a<8|16>"):
            T.ptq_options(layer_precision=bad)
    with pytest.raises(ValueError, match="8 or 16"):
        T.ptq_options(activation_bits=12)
    with pytest.raises(ValueError, match="single"):
        T.ptq_options(activation_bits=16, rounding="gemmlowp")
    with pytest.raises(ValueError, match="integer_io"):
        T.ptq_options(activation_bits=16, integer_io=True)


# ---------------------------------------------------------------------------
# Python API and CLI
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny():
    import torch
    from test_api import Tiny
    torch.manual_seed(0)
    return Tiny().eval(), torch.randn(32, 1, 8, 8)


@pytest.mark.parametrize("options", [dict(activation_bits=16),
                                     dict(layer_precision={"conv2": "w8a16"})])
def test_api_16bit_matches_reference(tiny, options):
    import myquant
    from myquant import evaluate as V
    model, calib = tiny
    x = calib[:4].numpy()
    with myquant.quantize(model, calib, max_batch=4, **options) as qm:
        got = qm(x)
        ref = MR.run_reference(qm.graph.with_batch(4), qm.stats, x, **{
            k: T.layer_precision_entries(v) if k == "layer_precision" else v
            for k, v in options.items()})
        np.testing.assert_array_equal(got, ref.dequantize())
        report = V.layer_report(qm, x)
        assert report.matches_deployed
        bits = {r["name"]: r["bits"] for r in report.rows}
        if "activation_bits" in options:
            assert set(bits.values()) == {16}, bits
        else:
            # conv2 reads the max-pooled conv1 output and writes its own in
            # 16 bits; the model input stays 8-bit.
            assert bits["x"] == 8 and bits["conv2"] == 16, bits
        assert "w8a16" in report.format()


def test_api_rejects_bad_precision(tiny):
    import myquant
    model, calib = tiny
    with pytest.raises(ValueError, match="w<4|8>a<8|16>"):
        myquant.quantize(model, calib, layer_precision=["conv2:w8"])
    with pytest.raises(ValueError, match="'conv9', which is not a layer"):
        myquant.quantize(model, calib, layer_precision=["conv9:w8a16"])


def test_cli_16bit(tmp_path):
    import torch
    from conftest import NET_PY
    from test_api import _cli
    (tmp_path / "net.py").write_text(NET_PY)
    np.save(tmp_path / "cal.npy", np.random.default_rng(0).standard_normal(
        (8, 1, 8, 8)).astype(np.float32))
    m = ["--model", "net.py:Net", "--calibration", "cal.npy"]
    torch.manual_seed(0)
    _cli(["quantize"] + m + ["--activation-bits", "16", "-o", "a.mlir"],
         tmp_path)
    text = (tmp_path / "a.mlir").read_text()
    assert "i16<-32767:32767>" in text and "!quant.uniform<i8:" not in text
    _cli(["quantize"] + m + ["--layer-precision", "fc:w8a16", "-o",
                             "b.mlir"], tmp_path)
    text = (tmp_path / "b.mlir").read_text()
    assert "i16<-32767:32767>" in text and "!quant.uniform<i8:" in text
    bad = _cli(["quantize"] + m + ["--layer-precision", "fc:w8a32"],
               tmp_path, check=False)
    assert bad.returncode != 0 and "w<4|8>a<8|16>" in bad.stderr
