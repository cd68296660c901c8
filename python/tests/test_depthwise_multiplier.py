"""Depthwise convolutions with a channel multiplier M > 1 (each input
channel c feeds M output channels c * M + m), in both forms a frontend
writes: PyTorch's ``Conv2d(C, C * M, groups=C)`` as myquant's exporter
(and torch-mlir) emit a grouped convolution, and TOSA's
``depthwise_conv2d`` as the upstream ``tosa-to-linalg-named`` writes it
(``linalg.depthwise_conv_2d_nhwc_hwcm`` and a collapse of its
[N, H, W, C, M] result), which myquant-normalize turns into a depthwise
convolution of the input with each channel replicated M times. Both
quantize integer-only and are bit-identical on every kernel target to the
numpy reference of the same grouped convolution.

Run: /usr/bin/python3 -m pytest -q python/tests/test_depthwise_multiplier.py"""

import numpy as np
import pytest

from conftest import RUNNABLE_TARGETS, ToolError, rand_f32

from myquant.emit import (Conv2d, Model, Relu, Transpose, calibrate,
                          dense_hex, emit, f64_literal, tensor_type)
from myquant.testing import model_reference as MR

C, M, K = 3, 2, 3  # channels, multiplier, kernel size


def _case(layout):
    """(model, stats, x): a grouped conv with groups = C and C * M outputs,
    between transposes from and to NHWC for the TOSA form."""
    rng = np.random.default_rng(7)
    w = rand_f32(rng, C * M, 1, K, K, scale=0.6)
    b = rand_f32(rng, C * M)
    if layout == "nchw":
        m = Model((2, C, 6, 6))
        m.add(Conv2d(w, b, padding=1, groups=C), name="conv")
        m.add(Relu())
    else:
        m = Model((2, 6, 6, C))
        m.add(Transpose((0, 3, 1, 2)))
        m.add(Conv2d(w, b, padding=1, groups=C), name="conv")
        m.add(Transpose((0, 2, 3, 1)))
    samples = [rng.standard_normal(m.input_shape).astype(np.float32)
               for _ in range(4)]
    x = (rng.standard_normal(m.input_shape) * 0.8).astype(np.float32)
    return m, calibrate(m, samples), x


def _stats(v, rng, shape):
    lo, hi = rng
    return (f"myquant.stats {v} {{min = array<f64: {f64_literal(lo)}>, "
            f"max = array<f64: {f64_literal(hi)}>}} : {tensor_type(shape)}")


def _tosa_form(model, stats):
    """The NHWC model as tosa-to-linalg-named writes TOSA's depthwise
    convolution with multiplier M: zero padding, depthwise_conv_2d_nhwc_hwcm
    with the [KH, KW, C, M] filter, a collapse of the result to C * M
    channels, the bias added after it."""
    conv = model.producer("conv")
    n, h, w, _ = model.input_shape
    # Output channel c * M + m of the grouped conv is hwcm[:, :, c, m].
    hwcm = conv.w.reshape(C, M, K, K).transpose(2, 3, 0, 1)
    five = (n, h, w, C, M)
    out = (n, h, w, C * M)
    pad = (n, h + 2, w + 2, C)
    return f"""
#ch = affine_map<(d0, d1, d2, d3) -> (d3)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
module {{
  func.func @forward(%x: {tensor_type(model.input_shape)}) -> {tensor_type(out)} {{
    %xs = {_stats("%x", stats["x"], model.input_shape)}
    %zero = arith.constant 0.0 : f32
    %p = tensor.pad %xs low[0, 1, 1, 0] high[0, 1, 1, 0] {{
    ^bb0(%i0: index, %i1: index, %i2: index, %i3: index):
      tensor.yield %zero : f32
    }} : {tensor_type(model.input_shape)} to {tensor_type(pad)}
    %w = arith.constant {dense_hex(hwcm)} : {tensor_type(hwcm.shape)}
    %e = tensor.empty() : {tensor_type(five)}
    %f = linalg.fill ins(%zero : f32) outs(%e : {tensor_type(five)}) -> {tensor_type(five)}
    %c = linalg.depthwise_conv_2d_nhwc_hwcm {{dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}} ins(%p, %w : {tensor_type(pad)}, {tensor_type(hwcm.shape)}) outs(%f : {tensor_type(five)}) -> {tensor_type(five)}
    %col = tensor.collapse_shape %c [[0], [1], [2], [3, 4]] : {tensor_type(five)} into {tensor_type(out)}
    %b = arith.constant {dense_hex(conv.b)} : {tensor_type(conv.b.shape)}
    %e2 = tensor.empty() : {tensor_type(out)}
    %y = linalg.generic {{indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}} ins(%col, %b : {tensor_type(out)}, {tensor_type(conv.b.shape)}) outs(%e2 : {tensor_type(out)}) {{
    ^bb0(%a: f32, %v: f32, %o: f32):
      %s = arith.addf %a, %v : f32
      linalg.yield %s : f32
    }} -> {tensor_type(out)}
    %ys = {_stats("%y", stats["conv"], out)}
    return %ys : {tensor_type(out)}
  }}
}}
"""


@pytest.mark.parametrize("target", RUNNABLE_TARGETS)
@pytest.mark.parametrize("form", ["grouped", "tosa"])
def test_depthwise_multiplier_bit_exact(form, target, toolchain, workdir):
    model, stats, x = _case("nchw" if form == "grouped" else "nhwc")
    text = emit(model, stats) if form == "grouped" else \
        _tosa_form(model, stats)
    ref = MR.run_reference(model, stats, x)
    try:
        quantized, got = toolchain.ptq_and_run(text, target, x, workdir)
    except ToolError as e:
        pytest.fail(f"{form}: the compiler failed:\n{str(e)[:3000]}",
                    pytrace=False)
    conv = next(line for line in quantized.splitlines()
                if "myquant.conv2d" in line)
    # The TOSA form is a depthwise convolution of the replicated input.
    groups = C if form == "grouped" else C * M
    assert f"groups = {groups} : i64" in conv, conv
    want = ref.dequantize()
    assert np.array_equal(got.view(np.int32), want.view(np.int32)), \
        f"{form} ({target}): {np.sum(got != want)} of {got.size} outputs " \
        f"differ from the reference"
