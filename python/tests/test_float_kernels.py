"""The f32 kernels of convert-linalg-to-float-kernels (part of
myquant-lower-to-llvm): float convolutions and matmuls with constant
weights, bias and ReLU / ReLU6 fused, on every kernel target, must compute
what the numpy float model computes. Tolerance (docs/Design.md): the
largest difference is at most 1e-5 of the largest |output| (the sum runs
in f32 in another order, with fused multiply-adds). The shapes are small
versions of ResNet-50 / MobileNetV2 layers: the 7 x 7 stride-2
three-channel first layer, 3 x 3, 1 x 1 and strided 1 x 1 convolutions,
images narrower than a register tile, output channels that are not whole
vectors, dilation, depthwise and grouped convolutions (left to the generic
path), and batch-1 and batched linear layers.

Run: /usr/bin/python3 -m pytest -q python/tests/test_float_kernels.py
(MYQUANT_BUILD_DIR selects the build)."""

import os

import numpy as np
import pytest

from conftest import rand_f32, run_checked
from myquant.emit import (Conv2d, DepthwiseConv2d, Flatten, Linear, MatMul,
                          Model, Relu, Relu6, emit, float_forward)

TOLERANCE = 1e-5


def conv(shape, out, k, stride=1, padding=None, dilation=1, groups=1,
         act=Relu, bias=True):
    def build(rng):
        m = Model(shape)
        c = shape[1]
        w = rand_f32(rng, out, c // groups, k, k, scale=(c * k * k) ** -0.5)
        b = rand_f32(rng, out) if bias else None
        pad = k // 2 if padding is None else padding
        if groups == c and out == c:
            m.add(DepthwiseConv2d(w.reshape(out, k, k), b, stride=stride,
                                  padding=pad, dilation=dilation))
        else:
            m.add(Conv2d(w, b, stride=stride, padding=pad, dilation=dilation,
                         groups=groups))
        if act:
            m.add(act())
        return m
    return build


def linear(batch, n_in, n_out, matmul=False):
    def build(rng):
        m = Model((batch, n_in))
        w = rand_f32(rng, n_out, n_in, scale=n_in ** -0.5)
        if matmul:
            m.add(MatMul(np.ascontiguousarray(w.T), None))
        else:
            m.add(Linear(w, rand_f32(rng, n_out)))
            m.add(Relu())
        return m
    return build


def stack(rng):
    """Kernels feeding kernels, flattened into a linear layer."""
    m = Model((2, 3, 20, 20))
    m.add(Conv2d(rand_f32(rng, 16, 3, 7, 7, scale=0.1), rand_f32(rng, 16),
                 stride=2, padding=3))
    m.add(Relu())
    m.add(Conv2d(rand_f32(rng, 40, 16, 1, 1, scale=0.25), None))
    m.add(Relu6())
    m.add(Conv2d(rand_f32(rng, 24, 40, 3, 3, scale=0.05), rand_f32(rng, 24),
                 stride=2, padding=1))
    m.add(Flatten())
    m.add(Linear(rand_f32(rng, 20, 24 * 25, scale=0.04), rand_f32(rng, 20)))
    return m


MODELS = {
    "conv1_7x7s2": conv((1, 3, 32, 32), 32, 7, stride=2),
    "conv3x3": conv((2, 16, 12, 12), 32, 3),
    "conv1x1": conv((1, 64, 9, 9), 48, 1, act=Relu6),
    "conv1x1_s2": conv((1, 32, 14, 14), 64, 1, stride=2, padding=0),
    "conv3x3_narrow": conv((1, 24, 3, 3), 20, 3, bias=False, act=None),
    "conv3x3_dilated": conv((1, 8, 11, 11), 17, 3, padding=2, dilation=2),
    "depthwise": conv((1, 32, 10, 10), 32, 3, groups=32, act=Relu6),
    "depthwise_s2": conv((1, 24, 11, 11), 24, 3, stride=2, groups=24),
    # Two images, rows of three vectors (the kernel pads each plane).
    "depthwise_wide_s2": conv((2, 16, 9, 37), 16, 3, stride=2, groups=16),
    "depthwise_dilated": conv((1, 16, 12, 20), 16, 3, padding=2, dilation=2,
                              groups=16, act=None),
    "grouped": conv((1, 32, 8, 8), 32, 3, groups=4),
    "linear_b1": linear(1, 96, 40),
    "linear_b5": linear(5, 64, 33),
    "matmul": linear(6, 20, 16, matmul=True),
    "stack": stack,
}

# avx-vnni's float kernels are AVX2 + FMA, which this CPU runs: lowered by
# myquant-opt, then run with the generic target for everything else.
TARGETS = ["avx512-vnni", "avx512-vnni-256", "avx-vnni", "generic"]


# Left to the generic path (docs/Design.md).
GENERIC_ONLY = {"grouped"}


def run(toolchain, text, target, x, workdir, kernels):
    if target == "avx-vnni":
        lowered, _ = toolchain.quantize(
            text, ["--convert-linalg-to-float-kernels=target=avx-vnni"],
            workdir)
        assert ("vector.fma" in lowered) == kernels
        text, target = lowered, "generic"
    src = os.path.join(workdir, "run.mlir")
    with open(src, "w") as f:
        f.write(text)
    xp, yp = os.path.join(workdir, "x.npy"), os.path.join(workdir, "y.npy")
    np.save(xp, x)
    run_checked([toolchain.run_tool, src, "--function=forward",
                 f"--input={xp}", f"--output={yp}", f"--target={target}"])
    return np.load(yp)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", sorted(MODELS))
def test_float_kernel_matches_numpy(name, target, toolchain, workdir):
    rng = np.random.default_rng(11)
    model = MODELS[name](rng)
    x = rng.standard_normal(model.input_shape).astype(np.float32)
    got = run(toolchain, emit(model), target, x, workdir,
              name not in GENERIC_ONLY)
    want = float_forward(model, x)[model.output]
    assert got.shape == want.shape and got.dtype == np.float32
    err = np.max(np.abs(got.astype(np.float64) - want)) / np.max(np.abs(want))
    assert err <= TOLERANCE, f"{name} on {target}: relative error {err:.2e}"


def test_kernels_replace_the_float_ops(toolchain, workdir):
    """Every conv and matmul of `stack` becomes a kernel call on the
    default (host) target: no linalg convolution or matmul is left."""
    text = emit(stack(np.random.default_rng(0)))
    lowered, _ = toolchain.quantize(
        text, ["--convert-linalg-to-float-kernels=target=avx512-vnni"],
        workdir)
    assert lowered.count("call @forward_kernel") == 4
    assert "linalg.conv" not in lowered and "linalg.matmul" not in lowered
