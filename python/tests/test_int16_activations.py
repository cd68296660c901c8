"""16-bit activations with 8-bit weights (docs/NumericSpec.md 6): the small
end-to-end models of test_end_to_end.py compiled with activation-bits=16,
or with layer-precision naming some layers, run on every kernel target
(dense convs and matmuls with a 16-bit input take the 16x8 vpdpwssd
kernel there) and compared bit for bit with the independent integer
reference (model_reference.run_reference with the same options); the
16-bit output must also be closer to the float model. Single ops check the
16x8 kernel itself, K across several int32 blocks and inputs and weights
at their extremes included.

Run: /usr/bin/python3 -m pytest -q python/tests/test_int16_activations.py"""

import re

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


# Every model on the generic lowering, and a few on the kernel targets,
# where their 16-bit convs and matmuls take the 16x8 kernel.
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
    # test/Dialect/MyQuant/Transforms/propagate-qparams-int16.mlir, with the
    # default headroom 2 and with none.
    assert R.choose_int16_qparams(-2.325, 1.304) == (1.4191106906338694e-04,
                                                     0)
    assert R.choose_int16_qparams(0.0, 2.866) == (1.749320963164159e-04, 0)
    assert R.choose_int16_qparams(-2.325, 1.304, 1) == (
        7.0955534531693472e-05, 0)
    assert R.choose_int16_qparams(0.0, 2.866, 1.0) == (
        8.746604815820795e-05, 0)
    # A power-of-two headroom scales the scale exactly.
    assert R.choose_int16_qparams(-0.3, 0.7)[0] == \
        2 * R.choose_int16_qparams(-0.3, 0.7, 1)[0]
    assert R.choose_int16_qparams(0.0, 0.0) == (1.0, 0)
    with pytest.raises(ValueError):
        R.choose_int16_qparams(1.0, -1.0)
    for bad in (0.5, 129, float("nan"), True, "2"):
        with pytest.raises(ValueError, match="int16_range_headroom"):
            R.choose_int16_qparams(-1.0, 1.0, bad)


def _output_error(got, flt):
    return float(np.max(np.abs(got.astype(np.float64) - flt)))


def test_headroom_holds_inputs_beyond_calibration(toolchain, workdir):
    # Inputs 2.5 times the calibration samples' scale: beyond the range
    # calibrated for the model input and most other values. Without headroom
    # (1) the 16-bit values clip there; with the default (2) the input is
    # held whole and the rest clips far less. Both bit for bit as the
    # reference with the same headroom.
    model, stats, x = make_case("c_residual")
    x = (x * 2.5 / 0.8).astype(np.float32)
    flt = float_forward(model, x)[model.output].astype(np.float64)
    errors = {}
    for headroom, option in [(2.0, ""),  # the default
                             (1.0, " int16-range-headroom=1")]:
        ref = MR.run_reference(model, stats, x, activation_bits=16,
                               int16_range_headroom=headroom)
        _, got = _compile_and_run(toolchain, workdir, model, stats, x,
                                  "generic", "activation-bits=16" + option)
        _check_bit_exact(got, ref, f"headroom {headroom}")
        errors[headroom] = _output_error(got, flt)
        scale, _ = R.choose_int16_qparams(*stats["x"], headroom)
        assert (32767 * scale >= np.max(np.abs(x))) == (headroom == 2.0)
    assert errors[2.0] < errors[1.0] / 4, errors


def test_headroom_leaves_8bit_values_unchanged(toolchain, workdir):
    # An int8 model compiles to the same IR whatever the headroom; with
    # layer-precision the 8-bit values keep their types too.
    model, stats, _ = make_case("c_residual")
    mlir = emit(model, stats)

    def quantized(options):
        return toolchain.quantize(
            mlir, [f"--myquant-propagate-qparams={options}",
                   "--myquant-quantize"], workdir)[0]

    assert quantized("int16-range-headroom=1") == \
        quantized("int16-range-headroom=16") == quantized("")

    def int8_types(text):
        return sorted(set(re.findall(r"!quant\.uniform<i8:[^>]*>", text)))

    wide = quantized("layer-precision=branch:w8a16")
    narrow = quantized("layer-precision=branch:w8a16 "
                       "int16-range-headroom=1")
    assert int8_types(wide) == int8_types(narrow) and int8_types(wide)
    assert wide != narrow


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
    # The default headroom is the compiler's default: not spelt.
    assert "int16-range-headroom" not in T.ptq_options(activation_bits=16)
    assert "int16-range-headroom=1.5" in T.ptq_options(
        activation_bits=16, int16_range_headroom=1.5)
    for bad in (0.99, 300, float("inf"), None):
        with pytest.raises(ValueError, match="int16_range_headroom"):
            T.ptq_options(activation_bits=16, int16_range_headroom=bad)


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
                                     dict(activation_bits=16,
                                          int16_range_headroom=1.5),
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
    # The input's scale (its range is cal.npy's; the net's weights are
    # drawn anew in each run) halves without the default headroom of 2.
    _cli(["quantize"] + m + ["--activation-bits", "16",
                             "--int16-range-headroom", "1", "-o", "h.mlir"],
         tmp_path)
    scale = re.compile(r"i16<-32767:32767>:f32, ([0-9.eE+-]+)>")
    assert float(scale.search(text)[1]) == 2 * float(
        scale.search((tmp_path / "h.mlir").read_text())[1])
    _cli(["quantize"] + m + ["--layer-precision", "fc:w8a16", "-o",
                             "b.mlir"], tmp_path)
    text = (tmp_path / "b.mlir").read_text()
    assert "i16<-32767:32767>" in text and "!quant.uniform<i8:" in text
    bad = _cli(["quantize"] + m + ["--layer-precision", "fc:w8a32"],
               tmp_path, check=False)
    assert bad.returncode != 0 and "w<4|8>a<8|16>" in bad.stderr


# ---------------------------------------------------------------------------
# The 16x8 VNNI kernel (vpdpwssd, int32 blocks widened into int64) on single
# ops, against the reference
# ---------------------------------------------------------------------------

# (kind, shape, in bits, out bits, values): matmul (M, K, N, transpose_rhs)
# or conv (layout, N, C, H, W, F, kernel, stride, padding). K of 600 and
# 1100 (300 and 550 pair steps) cross one and two 255-step block borders;
# 3 x 3 taps of 64 channels make blocks of 7 whole taps, of 300 channels one
# tap each. "extreme": every input at +-32767 and every weight at +-127 of
# the same sign, so that each block's int32 lanes reach 510 * 32767 * 127 =
# 2.1e9 (within int32 only because the blocks are that short) and the sum
# needs int64.
KERNEL_CASES = [
    ("matmul", (5, 600, 33, False), 16, 16, "random"),
    ("matmul", (3, 1100, 16, True), 16, 8, "random"),
    ("matmul", (2, 1100, 20, False), 16, 16, "extreme"),
    ("matmul", (17, 7, 5, False), 16, 16, "random"),
    ("conv", ("nchw", 2, 64, 5, 6, 18, 3, 1, (1, 1, 1, 1)), 16, 16,
     "random"),
    ("conv", ("nhwc", 1, 300, 4, 4, 16, 2, 2, (0, 1, 1, 0)), 16, 8,
     "random"),
    ("conv", ("nhwc", 1, 5, 7, 9, 3, 3, 1, (1, 0, 2, 1)), 16, 16,
     "random"),
    ("conv", ("nchw", 1, 600, 3, 3, 17, 1, 1, (0, 0, 0, 0)), 16, 16,
     "extreme"),
    # An 8-bit input with a 16-bit result (the border of a 16-bit region):
    # the int8 kernels (dense and depthwise), int32 accumulator, int16
    # result.
    ("conv", ("nchw", 1, 8, 6, 6, 20, 3, 1, (1, 1, 1, 1)), 8, 16, "random"),
    ("conv", ("nhwc", 1, 24, 5, 7, 24, 3, 2, (1, 1, 1, 1), 24), 8, 16,
     "random"),
    # Depthwise convolutions of a 16-bit input (the tap-pair kernel on int16
    # rows, int64 epilogue): 17 channels (a last block shifted back), 5 x 5
    # at stride 2 (an odd last row), the extreme values.
    ("conv", ("nchw", 2, 17, 7, 9, 17, 3, 1, (1, 1, 1, 1), 17), 16, 16,
     "random"),
    ("conv", ("nhwc", 1, 24, 9, 11, 24, 5, 2, (2, 1, 2, 2), 24), 16, 8,
     "random"),
    ("conv", ("nchw", 1, 16, 6, 6, 16, 3, 1, (1, 1, 1, 1), 16), 16, 16,
     "extreme"),
]


def _kernel_case(index, kind, shape, in_bits, out_bits, values):
    """(mlir, x, want) of one op: f32 in and out, the input and result
    scales 1.0, so that quantize and dequantize move the integers exactly."""
    from myquant.emit import dense_hex, tensor_type as tt
    rng = np.random.default_rng(100 + index)
    xmax = 32767 if in_bits == 16 else 127
    ymax = 32767 if out_bits == 16 else 127
    sign = 1 if index % 2 else -1
    if kind == "matmul":
        m, k, n, transpose = shape
        x_shape, w_shape = (m, k), (k, n)
    else:
        layout, bn, c, h, w, f, kk, st, pad = shape[:9]
        groups = shape[9] if len(shape) > 9 else 1
        k = c // groups * kk * kk
        x_shape, w_shape = (bn, c, h, w), (f, c // groups, kk, kk)
    if values == "extreme":
        x = np.full(x_shape, sign * xmax, np.int64)
        wq = np.full(w_shape, sign * 127, np.int64)
    else:
        x = rng.integers(-xmax, xmax + 1, x_shape)
        wq = rng.integers(-127, 128, w_shape)
    channels = n if kind == "matmul" else f
    bias = rng.integers(-30000, 30000, channels)
    # Multipliers bring the typical accumulator (the largest one for the
    # extreme cases) to about half the result's range, some saturate.
    typical = (xmax * 127.0 * k if values == "extreme"
               else xmax * 73.0 * np.sqrt(k))
    base = int(np.round(np.log2(typical / (ymax / 2)))) + 31
    m0s = rng.integers(2**30, 2**31, channels)
    shifts = np.clip(base + rng.integers(-2, 3, channels), 0, 62)
    # The result's storage range (no clamp attribute).
    lo, hi = (-32767, 32767) if out_bits == 16 else (-128, 127)
    acc_bits = 64 if in_bits == 16 else 32
    if kind == "matmul":
        wconst = wq.T if transpose else wq
        axis = 0 if transpose else 1
        want = R.matmul(x, 0, wconst, 0, bias, m0s, shifts, 0, lo, hi,
                        transpose_rhs=transpose, accumulator_bits=acc_bits)
        xin, attrs, out_shape = x, ("transpose_rhs, " if transpose else ""), \
            (m, n)
        op = "myquant.matmul"
    else:
        want = R.conv2d_nchw(x, 0, wq, bias, m0s, shifts, 0, lo, hi,
                             stride=st, padding=pad, groups=groups,
                             accumulator_bits=acc_bits)
        if layout == "nchw":
            xin, wconst, axis = x, wq, 0
        else:
            xin, wconst, axis = x.transpose(0, 2, 3, 1), wq.transpose(
                2, 3, 1, 0), 3
            want = want.transpose(0, 2, 3, 1)
        out_shape = want.shape
        attrs = (f"strides = array<i64: {st}, {st}>, padding = array<i64: "
                 f"{', '.join(map(str, pad))}>, dilations = array<i64: 1, "
                 f"1>, groups = {groups} : i64, layout = "
                 f"#myquant.layout<{layout}>, ")
        op = "myquant.conv2d"
    act = {16: "i16<-32767:32767>", 8: "i8"}
    qx = f"!quant.uniform<{act[in_bits]}:f32, 1.0>"
    qy = f"!quant.uniform<{act[out_bits]}:f32, 1.0>"
    scales = ", ".join("0.01" for _ in range(channels))
    qw = f"!quant.uniform<i8<-127:127>:f32:{axis}, {{{scales}}}>"
    wconst = np.ascontiguousarray(wconst.astype(np.int8))
    xt, yt = tt(xin.shape), tt(out_shape)
    wt, bt = tt(wconst.shape, "i8"), tt((channels,), "i32")
    rescale = (f"#myquant.rescale<multiplier = [{', '.join(map(str, m0s))}]"
               f", shift = [{', '.join(map(str, shifts))}], rounding = "
               f"single>")
    mlir = f"""
func.func @f(%x: {xt}) -> {yt} {{
  %xq = myquant.quantize %x : {xt} -> {tt(xin.shape, qx)}
  %wi = arith.constant {dense_hex(wconst, np.int8)} : {wt}
  %w = quant.scast %wi : {wt} to {tt(wconst.shape, qw)}
  %b = arith.constant dense<[{', '.join(map(str, bias))}]> : {bt}
  %y = {op} %xq, %w, %b {{{attrs}rescale = {rescale}}}
      : ({tt(xin.shape, qx)}, {tt(wconst.shape, qw)}, {bt})
      -> {tt(out_shape, qy)}
  %d = myquant.dequantize %y : {tt(out_shape, qy)} -> {yt}
  return %d : {yt}
}}
"""
    return mlir, np.ascontiguousarray(xin, np.float32), np.asarray(want)


@pytest.mark.parametrize("target", RUNNABLE_TARGETS)
@pytest.mark.parametrize("index", range(len(KERNEL_CASES)))
def test_16x8_kernel_bit_exact(index, target, toolchain, workdir):
    import os
    from conftest import run_checked
    kind, shape, in_bits, out_bits, values = KERNEL_CASES[index]
    mlir, x, want = _kernel_case(index, *KERNEL_CASES[index])
    src = os.path.join(workdir, "op.mlir")
    with open(src, "w") as f:
        f.write(mlir)
    kernels = run_checked([toolchain.opt, src,
                           f"--convert-myquant-to-vnni=target={target}"])[0]
    # The kernel, with the pair dot product of 16-bit inputs.
    if target != "generic":
        # Pairs for a 16-bit input and for depthwise convolutions.
        pairs = in_bits == 16 or len(shape) > 9
        group = "x2xi32> to vector<" if pairs else "x4xi32> to vector<"
        assert "vector.multi_reduction" in kernels and group in kernels
    with open(src, "w") as f:
        f.write(kernels)
    lowered = run_checked([toolchain.opt, src,
                           "--convert-myquant-to-linalg"])[0]
    with open(src, "w") as f:
        f.write(executable(lowered, target))
    [got] = toolchain.run_file(src, "f", [x], workdir)
    if not np.array_equal(got, want.astype(np.float32)):
        from conftest import describe_mismatches
        pytest.fail(f"{kind} {shape} ({values}, {target}): "
                    f"{describe_mismatches(got, want.astype(np.float32))}",
                    pytrace=False)
