"""The float path of myquant-lower-to-llvm is tiled and vectorized
(myquant-vectorize-linalg): compiled float models must compute what the
numpy float model computes, up to f32 rounding, with shapes that exercise
full vector tiles, window loops, odd sizes (tiles that divide them), ops
left to loops (strided windows) and the FMA contraction of the
convolutions and matmuls.

Run: /usr/bin/python3 -m pytest -q python/tests/test_float_vectorized.py
(MYQUANT_BUILD_DIR selects the build)."""

import numpy as np
import pytest

from conftest import rand_f32
from myquant.emit import (Add, AvgPool2d, Concat, Conv2d, DepthwiseConv2d,
                          Flatten, GlobalAvgPool, Linear, MaxPool2d, Model,
                          Relu, Relu6, emit, float_forward)


def cnn(rng):
    """conv + relu + max pool (stride 2), strided conv, depthwise + relu6,
    residual add, concat, avg pool, global pool, linear."""
    m = Model((2, 3, 32, 32))
    m.add(Conv2d(rand_f32(rng, 16, 3, 3, 3), rand_f32(rng, 16), padding=1))
    m.add(Relu())
    m.add(MaxPool2d(2), name="p1")
    m.add(Conv2d(rand_f32(rng, 32, 16, 3, 3, scale=0.1), rand_f32(rng, 32),
                 stride=2, padding=1), name="s2")
    m.add(DepthwiseConv2d(rand_f32(rng, 32, 3, 3), rand_f32(rng, 32),
                          padding=1))
    m.add(Relu6(), name="dw")
    m.add(Add(), inputs=["dw", "s2"], name="sum")
    m.add(Conv2d(rand_f32(rng, 8, 32, 1, 1), None), inputs="sum", name="pw")
    m.add(Concat(), inputs=["sum", "pw"])
    m.add(AvgPool2d(2))
    m.add(GlobalAvgPool())
    m.add(Flatten())
    m.add(Linear(rand_f32(rng, 37, 40, scale=0.2), rand_f32(rng, 37)))
    return m


def odd_sizes(rng):
    """Sizes without a power-of-two divisor: 9 x 9 images, 5 and 13
    channels, a dilated convolution."""
    m = Model((3, 5, 9, 9))
    m.add(Conv2d(rand_f32(rng, 13, 5, 3, 3), rand_f32(rng, 13), padding=2,
                 dilation=2))
    m.add(Relu())
    m.add(MaxPool2d(3, stride=1, padding=1))
    m.add(Flatten())
    m.add(Linear(rand_f32(rng, 11, 13 * 81, scale=0.05), None))
    return m


MODELS = {"cnn": cnn, "odd_sizes": odd_sizes}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_float_model_matches_numpy(name, toolchain, workdir):
    rng = np.random.default_rng(3)
    model = MODELS[name](rng)
    x = rng.standard_normal(model.input_shape).astype(np.float32)
    got = toolchain.run(emit(model), "forward", x, workdir)
    want = float_forward(model, x)[model.output]
    assert got.shape == want.shape and got.dtype == np.float32
    # Summation order and fused multiply-adds differ from numpy: errors of
    # a few f32 ulps of the largest value, nothing like a wrong element.
    err = np.max(np.abs(got.astype(np.float64) - want)) / np.max(np.abs(want))
    assert err < 1e-5, f"{name}: relative error {err:.2e}"
