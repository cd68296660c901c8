"""A small CNN written in TOSA, lowered by the stock mlir-opt with the
upstream conversions (tosa-optional-decompositions for the transposed
convolution, then tosa-to-linalg-named, tosa-to-linalg, tosa-to-arith,
tosa-to-tensor), quantizes integer-only (allow-float=false) and is
bit-identical on every kernel target to the numpy reference of the same
network written as myquant's exporter layers.

The network, NHWC: conv2d 3x3 + relu6 (tosa.clamp), max_pool2d, depthwise
conv2d + relu6, transpose_conv2d (stride 1), avg_pool2d whose last windows
are cut by the bottom and right padding (TOSA leaves the padding out of
the count), a reshape and a fully connected layer (tosa.matmul and a
rank-3 bias added with tosa.add). The reference model computes in NCHW
between transposes: the same arithmetic, since the transposes and reshapes
move int8 values only; the transposed convolution is there the
convolution with the flipped filter padded by kernel - 1, which is what
TOSA's decomposition computes.

Run: MYQUANT_BUILD_DIR=build /usr/bin/python3 -m pytest -q python/tests/test_tosa_model.py"""

import os
import re
import shutil

import numpy as np
import pytest

from conftest import RUNNABLE_TARGETS, ToolError, rand_f32, run_checked

from myquant.emit import (AvgPool2d, Conv2d, Linear, MaxPool2d, Model, Relu6,
                          Reshape, Transpose, calibrate, dense_hex,
                          f64_literal, tensor_type)
from myquant.testing import model_reference as MR

TOSA_TO_LINALG = ("builtin.module(func.func(tosa-optional-decompositions,"
                  "tosa-to-linalg-named,tosa-to-linalg,tosa-to-arith,"
                  "tosa-to-tensor))")


def _mlir_opt(build_dir):
    """The stock mlir-opt of the LLVM the project was built against."""
    with open(os.path.join(build_dir, "CMakeCache.txt")) as f:
        m = re.search(r"^MLIR_DIR:\w+=(.*)$", f.read(), re.M)
    if m:
        tool = os.path.join(m.group(1), "..", "..", "..", "bin", "mlir-opt")
        if os.path.exists(tool):
            return tool
    return shutil.which("mlir-opt")


def _case():
    rng = np.random.default_rng(11)
    w1 = rand_f32(rng, 4, 3, 3, 3, scale=0.5)
    b1 = rand_f32(rng, 4)
    wd = rand_f32(rng, 4, 1, 3, 3, scale=0.5)
    bd = rand_f32(rng, 4)
    wt = rand_f32(rng, 4, 2, 2, 4, scale=0.5)  # TOSA [OC, KH, KW, IC]
    bt = rand_f32(rng, 4)
    wf = rand_f32(rng, 5, 16, scale=0.4)
    bf = rand_f32(rng, 5)
    m = Model((1, 6, 6, 3))
    m.add(Transpose((0, 3, 1, 2)), name="nchw")
    m.add(Conv2d(w1, b1, padding=1), name="conv")
    m.add(Relu6(), name="r1")
    m.add(MaxPool2d(2, 2), name="mp")
    m.add(Conv2d(wd, bd, padding=1, groups=4), name="dw")
    m.add(Relu6(), name="r2")
    flipped = wt[:, ::-1, ::-1, :].transpose(0, 3, 1, 2)
    m.add(Conv2d(np.ascontiguousarray(flipped), bt, padding=1), name="tc")
    m.add(AvgPool2d(3, 2, ceil_mode=True, count_include_pad=False),
          name="ap")
    m.add(Transpose((0, 2, 3, 1)), name="nhwc")
    m.add(Reshape((1, 16)), name="flat")
    m.add(Linear(wf, bf), name="fc")
    samples = [rng.standard_normal(m.input_shape).astype(np.float32)
               for _ in range(6)]
    x = (rng.standard_normal(m.input_shape) * 0.8).astype(np.float32)
    weights = dict(w1=w1, b1=b1, wd=wd, bd=bd, wt=wt, bt=bt, wf=wf, bf=bf)
    return m, calibrate(m, samples), x, weights


def _tosa(model, stats, w):
    """The network in TOSA, each calibrated value annotated."""
    def stats_of(value, name, shape):
        lo, hi = stats[name]
        return (f"myquant.stats {value} {{min = array<f64: {f64_literal(lo)}>,"
                f" max = array<f64: {f64_literal(hi)}>}} : "
                f"{tensor_type(shape)}")

    def const(value, array):
        t = tensor_type(array.shape)
        return (f'{value} = "tosa.const"() <{{values = {dense_hex(array)} : '
                f'{t}}}> : () -> {t}')

    t = tensor_type
    return f"""
func.func @forward(%x: {t((1, 6, 6, 3))}) -> {t((1, 1, 5))} {{
  %xs = {stats_of("%x", "x", (1, 6, 6, 3))}
  %zp = "tosa.const"() <{{values = dense<0.0> : tensor<1xf32>}}> : () -> tensor<1xf32>
  {const("%w1", w["w1"].transpose(0, 2, 3, 1))}
  {const("%b1", w["b1"])}
  %c1 = tosa.conv2d %xs, %w1, %b1, %zp, %zp {{acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>}} : ({t((1, 6, 6, 3))}, {t((4, 3, 3, 3))}, {t((4,))}, tensor<1xf32>, tensor<1xf32>) -> {t((1, 6, 6, 4))}
  %r1 = tosa.clamp %c1 {{min_val = 0.0 : f32, max_val = 6.0 : f32}} : ({t((1, 6, 6, 4))}) -> {t((1, 6, 6, 4))}
  %r1s = {stats_of("%r1", "r1", (1, 6, 6, 4))}
  %mp = tosa.max_pool2d %r1s {{kernel = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>}} : ({t((1, 6, 6, 4))}) -> {t((1, 3, 3, 4))}
  {const("%wd", w["wd"].reshape(4, 3, 3).transpose(1, 2, 0).reshape(3, 3, 4, 1))}
  {const("%bd", w["bd"])}
  %c2 = tosa.depthwise_conv2d %mp, %wd, %bd, %zp, %zp {{acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>}} : ({t((1, 3, 3, 4))}, {t((3, 3, 4, 1))}, {t((4,))}, tensor<1xf32>, tensor<1xf32>) -> {t((1, 3, 3, 4))}
  %r2 = tosa.clamp %c2 {{min_val = 0.0 : f32, max_val = 6.0 : f32}} : ({t((1, 3, 3, 4))}) -> {t((1, 3, 3, 4))}
  %r2s = {stats_of("%r2", "r2", (1, 3, 3, 4))}
  {const("%wt", w["wt"])}
  {const("%bt", w["bt"])}
  %tc = tosa.transpose_conv2d %r2s, %wt, %bt, %zp, %zp {{acc_type = f32, out_pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>}} : ({t((1, 3, 3, 4))}, {t((4, 2, 2, 4))}, {t((4,))}, tensor<1xf32>, tensor<1xf32>) -> {t((1, 4, 4, 4))}
  %tcs = {stats_of("%tc", "tc", (1, 4, 4, 4))}
  %ap = tosa.avg_pool2d %tcs, %zp, %zp {{acc_type = f32, kernel = array<i64: 3, 3>, pad = array<i64: 0, 1, 0, 1>, stride = array<i64: 2, 2>}} : ({t((1, 4, 4, 4))}, tensor<1xf32>, tensor<1xf32>) -> {t((1, 2, 2, 4))}
  %aps = {stats_of("%ap", "ap", (1, 2, 2, 4))}
  %shape = tosa.const_shape {{values = dense<[1, 1, 16]> : tensor<3xindex>}} : () -> !tosa.shape<3>
  %flat = tosa.reshape %aps, %shape : ({t((1, 2, 2, 4))}, !tosa.shape<3>) -> {t((1, 1, 16))}
  {const("%wf", w["wf"].T.reshape(1, 16, 5))}
  %mm = tosa.matmul %flat, %wf, %zp, %zp : ({t((1, 1, 16))}, {t((1, 16, 5))}, tensor<1xf32>, tensor<1xf32>) -> {t((1, 1, 5))}
  {const("%bf", w["bf"].reshape(1, 1, 5))}
  %y = tosa.add %mm, %bf : ({t((1, 1, 5))}, {t((1, 1, 5))}) -> {t((1, 1, 5))}
  %ys = {stats_of("%y", "fc", (1, 1, 5))}
  return %ys : {t((1, 1, 5))}
}}
"""


@pytest.fixture(scope="module")
def lowered(build_dir, tmp_path_factory):
    """(model, stats, x, the TOSA network lowered by the stock mlir-opt)."""
    mlir_opt = _mlir_opt(build_dir)
    if not mlir_opt:
        pytest.skip("the stock mlir-opt was not found")
    model, stats, x, weights = _case()
    src = tmp_path_factory.mktemp("tosa") / "cnn.mlir"
    src.write_text(_tosa(model, stats, weights))
    plugin = os.path.join(build_dir, "lib", "libMyQuantPlugin.so")
    text, _ = run_checked([mlir_opt, str(src),
                           f"--load-dialect-plugin={plugin}",
                           f"--pass-pipeline={TOSA_TO_LINALG}"])
    return model, stats, x, text


@pytest.mark.parametrize("target", RUNNABLE_TARGETS)
def test_tosa_cnn_bit_exact(lowered, target, toolchain, workdir):
    model, stats, x, text = lowered
    assert "tosa.conv2d" not in text and "linalg.conv_2d_nhwc_fhwc" in text
    try:
        quantized, got = toolchain.ptq_and_run(text, target, x, workdir)
    except ToolError as e:
        pytest.fail(f"the compiler failed:\n{str(e)[:3000]}", pytrace=False)
    ops = re.findall(r"myquant\.(conv2d|max_pool2d|avg_pool2d|matmul)\b",
                     quantized)
    assert ops == ["conv2d", "max_pool2d", "conv2d", "conv2d", "avg_pool2d",
                   "matmul"], ops
    assert "divisors = array<i64: 9, 6, 6, 4>" in quantized
    want = MR.run_reference(model, stats, x).dequantize()
    assert got.shape == want.shape
    assert np.array_equal(got.view(np.int32), want.view(np.int32)), \
        f"{target}: {np.sum(got != want)} of {got.size} outputs differ " \
        f"from the reference"
