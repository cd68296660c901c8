"""End to end: small float models (python/myquant/emit.py) are calibrated in
numpy, emitted as MLIR with myquant.stats, compiled with
myquant-propagate-qparams + myquant-quantize and run; the dequantized int8
output must be bit-identical to the independent integer reference
(python/myquant/testing/model_reference.py), and close to the float model.

Run: /usr/bin/python3 -m pytest -q python/tests/test_end_to_end.py
(MYQUANT_BUILD_DIR selects the build; default: build/ in the repository)."""

import numpy as np
import pytest

from conftest import RUNNABLE_TARGETS, ToolError, executable, rand_f32

from myquant import qparams as Q
from myquant.testing import model_reference as MR
from myquant.emit import (AdaptiveAvgPool2d, AdaptiveMaxPool2d, Add,
                          AvgPool2d, Concat, ConstMul, Conv2d,
                          DepthwiseConv2d,
                          Flatten, GlobalAvgPool, Linear, MaxPool2d, Model,
                          Mul, Relu, Relu6, Scale, Sub, Transpose, calibrate,
                          emit, float_forward)

NUM_CALIBRATION = 8


def model_a(rng):
    """conv + relu + maxpool + flatten + linear."""
    m = Model((4, 3, 8, 8))
    m.add(Conv2d(rand_f32(rng, 4, 3, 3, 3), rand_f32(rng, 4), padding=1))
    m.add(Relu())
    m.add(MaxPool2d(2))
    m.add(Flatten())
    m.add(Linear(rand_f32(rng, 10, 64, scale=0.2), rand_f32(rng, 10)))
    return m


def model_b(rng):
    """depthwise conv + relu6 + conv (stride 2, dilation 2) + global avg
    pool."""
    m = Model((4, 4, 9, 9))
    m.add(DepthwiseConv2d(rand_f32(rng, 4, 3, 3, scale=1.0), rand_f32(rng, 4),
                          padding=1))
    m.add(Relu6())
    m.add(Conv2d(rand_f32(rng, 6, 4, 3, 3), rand_f32(rng, 6), stride=2,
                 padding=2, dilation=2))
    m.add(GlobalAvgPool())
    return m


def model_c(rng):
    """stem conv + relu, then a residual block: conv -> relu -> conv, add
    with the block input, relu."""
    m = Model((2, 3, 6, 6))
    m.add(Conv2d(rand_f32(rng, 4, 3, 3, 3), rand_f32(rng, 4), padding=1),
          name="stem")
    m.add(Relu(), name="block_in")
    m.add(Conv2d(rand_f32(rng, 4, 4, 3, 3), rand_f32(rng, 4), padding=1))
    m.add(Relu())
    m.add(Conv2d(rand_f32(rng, 4, 4, 3, 3), None, padding=1), name="branch")
    m.add(Add(), inputs=["branch", "block_in"])
    m.add(Relu())
    return m


def model_d(rng):
    """concat of two conv branches (one with relu) and the model input, then
    avg pool."""
    m = Model((3, 3, 8, 8))
    m.add(Conv2d(rand_f32(rng, 4, 3, 1, 1, scale=0.6), rand_f32(rng, 4)),
          inputs="x", name="b1")
    m.add(Relu(), name="b1r")
    m.add(Conv2d(rand_f32(rng, 2, 3, 3, 3), None, padding=1), inputs="x",
          name="b2")
    m.add(Concat(), inputs=["b1r", "b2", "x"])
    m.add(AvgPool2d(2))
    return m


def model_e(rng):
    """grouped conv (groups = 2) + relu."""
    m = Model((2, 4, 6, 6))
    m.add(Conv2d(rand_f32(rng, 6, 2, 3, 3), rand_f32(rng, 6), padding=1,
                 groups=2))
    m.add(Relu())
    return m


def model_f(rng):
    """conv without bias, max pool with -inf padding, a standalone relu
    (after a pool: a clamp plus a requantization), avg pool with padding
    (count_include_pad)."""
    m = Model((2, 3, 8, 8))
    m.add(Conv2d(rand_f32(rng, 4, 3, 3, 3), None, padding=1))
    m.add(MaxPool2d(3, stride=2, padding=1))
    m.add(Relu())
    m.add(AvgPool2d(2, stride=1, padding=1))
    return m


def model_g(rng):
    """a concat operand that is also used elsewhere (requantized, not
    adopted), then a standalone relu6."""
    m = Model((2, 3, 6, 6))
    m.add(Conv2d(rand_f32(rng, 4, 3, 3, 3), rand_f32(rng, 4), padding=1),
          name="c1")
    m.add(Conv2d(rand_f32(rng, 2, 4, 1, 1), rand_f32(rng, 2)), inputs="c1",
          name="c2")
    m.add(Concat(), inputs=["c1", "c2"])
    m.add(Relu6())
    return m


def model_h(rng):
    """adds that run in kernel epilogues: a depthwise conv as an add's
    right operand, then a pointwise conv as the left operand of an add with
    relu; 20 channels leave a partial vector block."""
    m = Model((2, 20, 5, 5))
    m.add(Conv2d(rand_f32(rng, 20, 20, 1, 1), rand_f32(rng, 20)), name="pw")
    m.add(Relu(), name="pwr")
    m.add(DepthwiseConv2d(rand_f32(rng, 20, 3, 3, scale=1.0),
                          rand_f32(rng, 20), padding=1), name="dw")
    m.add(Add(), inputs=["pwr", "dw"], name="sum1")
    m.add(Conv2d(rand_f32(rng, 20, 20, 1, 1), None), name="pw2")
    m.add(Add(), inputs=["pw2", "sum1"])
    m.add(Relu())
    return m


def model_i(rng):
    """max pools that run in kernel epilogues: 20 channels (a partial vector
    block) pooled 2 x 2 from 10 x 10, then 3 x 3 windows from 9 x 9 (the
    pixel tiles are cut to whole windows); a pool whose windows overlap
    stays separate."""
    m = Model((2, 3, 10, 10))
    m.add(Conv2d(rand_f32(rng, 20, 3, 3, 3), rand_f32(rng, 20), padding=1))
    m.add(Relu())
    m.add(MaxPool2d(2))
    m.add(Conv2d(rand_f32(rng, 16, 20, 3, 3, scale=0.2), rand_f32(rng, 16),
                 padding=3))
    m.add(MaxPool2d(3))
    m.add(Conv2d(rand_f32(rng, 8, 16, 1, 1), None))
    m.add(MaxPool2d(2, stride=1))
    return m


def model_j(rng):
    """squeeze-excite: a channel scale [N, C, 1, 1] (global pool, 1 x 1
    conv, relu6 / 6) multiplies the [N, C, 9, 9] activation and is added to
    it (broadcast over height and width)."""
    m = Model((2, 8, 9, 9))
    m.add(Conv2d(rand_f32(rng, 8, 8, 3, 3), rand_f32(rng, 8), padding=1))
    m.add(Relu(), name="y")
    m.add(GlobalAvgPool())
    m.add(Conv2d(rand_f32(rng, 8, 8, 1, 1, scale=0.6), rand_f32(rng, 8)))
    m.add(Relu6())
    m.add(Scale(6.0, divide=True), name="se")
    m.add(Mul(), inputs=["y", "se"], name="scaled")
    m.add(Add(), inputs=["scaled", "se"])
    m.add(Conv2d(rand_f32(rng, 4, 8, 1, 1), None))
    return m


def model_k(rng):
    """ceil-mode max and average pooling on 9 x 9 (the last window is
    partial: per-position divisors), a subtraction with a fused relu, a
    scale by a constant, average pooling with count_include_pad=False
    (border windows divide by their unpadded cells), and adaptive max and
    average pooling whose windows overlap and differ in size."""
    m = Model((2, 8, 9, 9))
    m.add(Conv2d(rand_f32(rng, 8, 8, 3, 3), rand_f32(rng, 8), padding=1))
    m.add(MaxPool2d(2, ceil_mode=True), name="mp")
    m.add(Conv2d(rand_f32(rng, 8, 8, 1, 1), None), name="pw")
    m.add(Sub(), inputs=["mp", "pw"])
    m.add(Relu())
    m.add(AvgPool2d(2, ceil_mode=True))
    m.add(Scale(0.75))
    m.add(AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
          name="apx")
    # 3 x 3 to 2 x 2 adaptive windows ([0, 2), [1, 3)): gathered, pooled.
    m.add(AdaptiveMaxPool2d(2), name="amx")
    m.add(AdaptiveAvgPool2d(2), inputs=["apx"], name="aav")
    m.add(Concat(), inputs=["amx", "aav"])
    return m


def model_l(rng):
    """Products with constant tensors (per-channel requantizations): a
    ConvNeXt-style layer scale gamma [C, 1, 1] of both signs and a zero in a
    residual, a division by a per-channel [C, 1, 1] constant, a scale along
    the last dimension of a channels-last transpose, and a uniform negative
    constant (one factor)."""
    m = Model((2, 8, 5, 5))
    m.add(Conv2d(rand_f32(rng, 8, 8, 3, 3), rand_f32(rng, 8), padding=1),
          name="y")
    gamma = rng.uniform(0.2, 1.5, 8) * rng.choice([-1.0, 1.0], 8)
    gamma[3] = 0.0
    m.add(ConstMul(gamma.reshape(8, 1, 1)))
    m.add(Add(), inputs=["y", m.output])
    m.add(ConstMul(rng.uniform(0.5, 3.0, (8, 1, 1)) * rng.choice(
        [-1.0, 1.0], (8, 1, 1)), divide=True))
    m.add(Transpose((0, 2, 3, 1)))
    m.add(ConstMul(rng.uniform(-2.0, 2.0, 8)))
    m.add(Transpose((0, 3, 1, 2)))
    m.add(ConstMul(np.float32([-0.7])))
    m.add(Conv2d(rand_f32(rng, 4, 8, 1, 1), None))
    return m


MODELS = {"a_conv_relu_pool_linear": model_a,
          "b_depthwise_relu6_dilated_gap": model_b,
          "c_residual": model_c,
          "d_concat_avgpool": model_d,
          "e_grouped_conv": model_e,
          "f_pool_padding_standalone_relu": model_f,
          "g_concat_shared_operand_relu6": model_g,
          "h_adds_in_epilogues": model_h,
          "i_pools_in_epilogues": model_i,
          "j_squeeze_excite_broadcast": model_j,
          "k_ceil_pools_sub_scale": model_k,
          "l_channel_scale": model_l}

# Seeds (weights, calibration samples and test input) chosen so that, for
# both weight granularities, the 'single' and 'gemmlowp' references differ
# in the final output: each test then also checks the rounding option
# (test_rounding_modes_differ guards this).
SEEDS = {"a_conv_relu_pool_linear": 4,
         "b_depthwise_relu6_dilated_gap": 2,
         "c_residual": 1,
         "d_concat_avgpool": 5,
         "e_grouped_conv": 4,
         "f_pool_padding_standalone_relu": 1,
         "g_concat_shared_operand_relu6": 2,
         "h_adds_in_epilogues": 1,
         "i_pools_in_epilogues": 1,
         "j_squeeze_excite_broadcast": 1,
         "k_ceil_pools_sub_scale": 1,
         "l_channel_scale": 1}

# Sanity bound on |quantized - float| in output LSBs.
TOLERANCE_LSB = {"a_conv_relu_pool_linear": 6,
                 "b_depthwise_relu6_dilated_gap": 6,
                 "c_residual": 6,
                 "d_concat_avgpool": 4,
                 "e_grouped_conv": 4,
                 "f_pool_padding_standalone_relu": 4,
                 "g_concat_shared_operand_relu6": 4,
                 "h_adds_in_epilogues": 6,
                 "i_pools_in_epilogues": 6,
                 "j_squeeze_excite_broadcast": 6,
                 "k_ceil_pools_sub_scale": 6,
                 "l_channel_scale": 6}


def make_case(name):
    """(model, stats, test input) of a named model."""
    rng = np.random.default_rng(SEEDS[name])
    model = MODELS[name](rng)
    samples = [rng.standard_normal(model.input_shape).astype(np.float32)
               for _ in range(NUM_CALIBRATION)]
    stats = calibrate(model, samples)
    x = (rng.standard_normal(model.input_shape) * 0.8).astype(np.float32)
    return model, stats, x


def _describe_mismatch(got, want, q_got, q_want):
    diff = np.argwhere(got != want)
    lines = [f"{len(diff)} of {got.size} elements differ"]
    for idx in diff[:8]:
        i = tuple(int(t) for t in idx)
        lines.append(f"  at {i}: compiled {got[i]!r} (q={q_got[i]}), "
                     f"reference {want[i]!r} (q={q_want[i]})")
    return "\n".join(lines)


@pytest.mark.parametrize("target", RUNNABLE_TARGETS)
@pytest.mark.parametrize("weights", ["per-channel", "per-tensor"])
@pytest.mark.parametrize("rounding", ["single", "gemmlowp"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_bit_exact(name, rounding, weights, target, toolchain,
                         workdir):
    model, stats, x = make_case(name)
    ref = MR.run_reference(model, stats, x, rounding=rounding,
                           weights=weights)
    want = ref.dequantize()

    pass_args = [f"--myquant-propagate-qparams=weight-granularity={weights}",
                 f"--myquant-quantize=rounding={rounding}"]
    failure = None
    try:
        quantized, remarks = toolchain.quantize(emit(model, stats),
                                                pass_args, workdir)
        # The target's kernels, then the generic lowering of the rest (so
        # that myquant-run's default target does not matter).
        lowered, _ = toolchain.quantize(
            quantized, [f"--convert-myquant-to-vnni=target={target}",
                        "--convert-myquant-to-linalg"], workdir)
        # Every model but the grouped one has a conv or matmul that takes
        # the kernel path.
        assert target == "generic" or name == "e_grouped_conv" or \
            "vector.multi_reduction" in lowered, \
            f"{name}: no op took the {target} kernel path"
        got = toolchain.run(executable(lowered, target), "forward", x,
                            workdir)
    except ToolError as e:
        failure = str(e)
    if failure is not None:
        pytest.fail(f"{name} ({rounding}, {weights}): the compiler failed on "
                    f"this model:\n{failure[:3000]}", pytrace=False)

    assert got.dtype == np.float32 and got.shape == want.shape, \
        f"compiled output {got.dtype}{got.shape}, expected float32{want.shape}"
    if not np.array_equal(got.view(np.int32), want.view(np.int32)):
        q_got = np.rint(got.astype(np.float64) / ref.scale).astype(
            np.int64) + ref.zero_point
        pytest.fail(f"{name} ({rounding}, {weights}): compiled model differs "
                    f"from the integer reference (output scale "
                    f"{ref.scale!r}, zero point {ref.zero_point}):\n"
                    + _describe_mismatch(got, want, q_got, ref.q)
                    + (f"\nmyquant-opt remarks:\n{remarks[-3000:]}"
                       if remarks.strip() else ""), pytrace=False)

    # The quantized model must stay close to the float model.
    flt = float_forward(model, x)[model.output].astype(np.float64)
    err = np.max(np.abs(got.astype(np.float64) - flt)) / ref.scale
    assert err <= TOLERANCE_LSB[name], \
        f"{name}: quantized output is {err:.2f} output LSBs from the float " \
        f"model (allowed {TOLERANCE_LSB[name]})"

    # Nothing may stay in float inside the model.
    verify_err = None
    try:
        toolchain.quantize(quantized, ["--myquant-verify-integer-only"],
                           workdir)
    except AssertionError as e:
        verify_err = str(e)
    assert verify_err is None, \
        f"{name}: float computation remains after quantization:\n{verify_err}"


@pytest.mark.parametrize("weights", ["per-channel", "per-tensor"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_rounding_modes_differ(name, weights):
    """Reference only: the cases are sensitive to the rounding option."""
    model, stats, x = make_case(name)
    a = MR.run_reference(model, stats, x, rounding="single", weights=weights)
    b = MR.run_reference(model, stats, x, rounding="gemmlowp",
                         weights=weights)
    assert not np.array_equal(a.q, b.q), \
        f"{name} ({weights}): single and gemmlowp agree on every output; " \
        f"pick another seed"


def test_reference_plan_policy():
    """The fusion and concat decisions of myquant.qparams.plan, which the
    reference and the per-layer report use (no compiler involved)."""
    rng = np.random.default_rng(0)
    m = model_d(rng)
    stats = calibrate(m, [rng.standard_normal(m.input_shape).astype(
        np.float32) for _ in range(2)])
    fused, owner, qp = Q.plan(m, stats)
    assert set(fused) == {"b1"} and owner["b1r"].name == "b1"
    cat = m.layers[3].name
    # Branches used only by the concat adopt its parameters; the input
    # keeps its own (it is requantized).
    assert qp["b1r"] == qp[cat] and qp["b2"] == qp[cat]
    assert qp["x"] != qp[cat]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_float_emission(name, toolchain, workdir):
    """The emitted float MLIR (no stats, not quantized) computes what
    float_forward computes, up to f32 summation order."""
    model, _, x = make_case(name)
    failure = None
    try:
        got = toolchain.run(emit(model), "forward", x, workdir)
    except ToolError as e:
        failure = str(e)
    if failure is not None:
        pytest.fail(f"{name}: running the float model failed:\n"
                    f"{failure[:3000]}", pytrace=False)
    want = float_forward(model, x)[model.output]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("rounding", ["single", "gemmlowp"])
@pytest.mark.parametrize("name", ["c_residual", "h_adds_in_epilogues",
                                  "i_pools_in_epilogues",
                                  "b_depthwise_relu6_dilated_gap"])
def test_uint8_activations_same_on_every_target(name, rounding, toolchain,
                                                workdir):
    """uint8 activations (the numpy reference models int8 only): every
    kernel target, with its fused adds, pools and unsigned flips, gives the
    generic lowering's bits."""
    model, stats, x = make_case(name)
    quantized, _ = toolchain.quantize(
        emit(model, stats),
        ["--myquant-propagate-qparams=activation-type=uint8",
         f"--myquant-quantize=rounding={rounding}"], workdir)
    outputs = {}
    for target in RUNNABLE_TARGETS:
        lowered, _ = toolchain.quantize(
            quantized, [f"--convert-myquant-to-vnni=target={target}",
                        "--convert-myquant-to-linalg"], workdir)
        outputs[target] = toolchain.run(executable(lowered, target),
                                        "forward", x, workdir)
    for target, got in outputs.items():
        assert np.array_equal(got.view(np.int32),
                              outputs["generic"].view(np.int32)), \
            f"{name} ({rounding}, uint8): {target} differs from generic"


def _quantized_and_split(model, stats, toolchain, workdir):
    """The quantized module of `model`, and it after myquant-split-batch
    with its default options."""
    quantized, _ = toolchain.quantize(
        emit(model, stats), ["--myquant-propagate-qparams",
                             "--myquant-quantize"], workdir)
    split, _ = toolchain.quantize(quantized, ["--myquant-split-batch"],
                                  workdir)
    return quantized, split


@pytest.mark.parametrize("target", RUNNABLE_TARGETS)
@pytest.mark.parametrize("name", ["a_conv_relu_pool_linear", "c_residual",
                                  "k_ceil_pools_sub_scale"])
def test_split_batch_bit_exact(name, target, toolchain, workdir):
    """myquant-split-batch (the per-image layers one image at a time, as
    myquant-compile runs them at batch > 1): the same bits as the integer
    reference on the whole batch, with a different image in each slot."""
    model, stats, x = make_case(name)
    assert x.shape[0] > 1
    ref = MR.run_reference(model, stats, x)
    quantized, split = _quantized_and_split(model, stats, toolchain,
                                            workdir)
    assert "scf.for" in split and "tensor.extract_slice" in split, \
        f"{name}: the batch was not split"
    lowered, _ = toolchain.quantize(
        split, [f"--convert-myquant-to-vnni=target={target}",
                "--convert-myquant-to-linalg"], workdir)
    got = toolchain.run(executable(lowered, target), "forward", x, workdir)
    assert np.array_equal(got.view(np.int32),
                          ref.dequantize().view(np.int32)), \
        f"{name} ({target}): split batch differs from the reference: " + \
        _describe_mismatch(got, ref.dequantize(), got, ref.q)


# About 17 s, mostly the 4.7 M float weights parsed as text; the lit test
# Lowering/split-batch-default-limit.mlir checks the default in CI.
@pytest.mark.slow
def test_split_batch_default_limit_bit_exact(toolchain, workdir):
    """A model of 4.5 MiB of int8 weights, above the 4 MiB the split was
    once limited to and under the 32 MiB default (the ResNets' class):
    myquant-run's default pipeline runs it one image at a time, with the
    bits of the integer reference at batch 2."""
    rng = np.random.default_rng(19)
    model = Model((2, 512, 3, 3))
    model.add(Conv2d(rand_f32(rng, 1024, 512, 3, 3, scale=0.02),
                     rand_f32(rng, 1024), padding=1), name="big")
    model.add(Relu())
    samples = [rng.standard_normal(model.input_shape).astype(np.float32)
               for _ in range(2)]
    stats = calibrate(model, samples)
    x = rng.standard_normal(model.input_shape).astype(np.float32)
    ref = MR.run_reference(model, stats, x)
    quantized, split = _quantized_and_split(model, stats, toolchain,
                                            workdir)
    assert "scf.for" in split, "a 4.5 MiB model was not split by default"
    got = toolchain.run(quantized, "forward", x, workdir)
    assert np.array_equal(got.view(np.int32),
                          ref.dequantize().view(np.int32)), \
        "split by default, the batch differs from the reference: " + \
        _describe_mismatch(got, ref.dequantize(), got, ref.q)
