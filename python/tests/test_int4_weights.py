"""4-bit weights (docs/NumericSpec.md 7): small float models are quantized
with myquant-propagate-qparams weight-bits=4 (per channel, or per group of
K with weight-group-size), lowered for every runnable target and run; the
output must be bit-identical to the independent numpy reference
(python/myquant/testing/model_reference.py with weight_bits=4), close to
the float model, and the weights must be packed two per byte.

Run: /usr/bin/python3 -m pytest -q python/tests/test_int4_weights.py"""

import re

import numpy as np
import pytest

from conftest import RUNNABLE_TARGETS, ToolError, executable, rand_f32

from myquant import qparams as Q
from myquant import tools as T
from myquant.emit import (Conv2d, DepthwiseConv2d, Flatten, Linear, MatMul,
                          MaxPool2d, Model, Relu, calibrate, emit,
                          float_forward)
from myquant.testing import model_reference as MR
from myquant.testing import reference as R


def conv_linear(rng):
    """conv + relu + depthwise conv (packed along its largest dimension) +
    pool + flatten + linear (K = 64) + relu + linear."""
    m = Model((3, 3, 8, 8))
    m.add(Conv2d(rand_f32(rng, 4, 3, 3, 3), rand_f32(rng, 4), padding=1))
    m.add(Relu())
    m.add(DepthwiseConv2d(rand_f32(rng, 4, 3, 3, scale=1.0),
                          rand_f32(rng, 4), padding=1))
    m.add(MaxPool2d(2))
    m.add(Flatten())
    m.add(Linear(rand_f32(rng, 12, 64, scale=0.2), rand_f32(rng, 12)),
          name="fc1")
    m.add(Relu())
    m.add(Linear(rand_f32(rng, 5, 12, scale=0.4), rand_f32(rng, 5)),
          name="fc2")
    return m


def mlp(rng):
    """Linear (K = 96, odd-sized groups of scales) + relu + MatMul ([K, N]
    weights, K = 32)."""
    m = Model((4, 96))
    w = rand_f32(rng, 32, 96, scale=0.2)
    w[:, 32:64] *= 0.05  # a group far below the channel's largest
    m.add(Linear(w, rand_f32(rng, 32)), name="fc1")
    m.add(Relu())
    m.add(MatMul(rand_f32(rng, 32, 7, scale=0.3)), name="proj")
    return m


MODELS = {"conv_linear": conv_linear, "mlp": mlp}


def make_case(name, seed=7):
    rng = np.random.default_rng(seed)
    model = MODELS[name](rng)
    samples = [rng.standard_normal(model.input_shape).astype(np.float32)
               for _ in range(6)]
    stats = calibrate(model, samples)
    x = (rng.standard_normal(model.input_shape) * 0.8).astype(np.float32)
    return model, stats, x


@pytest.mark.parametrize("target", RUNNABLE_TARGETS)
@pytest.mark.parametrize("group_size", [0, 16, 32])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_int4_bit_exact(name, group_size, target, toolchain, workdir):
    model, stats, x = make_case(name)
    ref = MR.run_reference(model, stats, x, weight_bits=4,
                           group_size=group_size)
    passes = ["--myquant-propagate-qparams=weight-bits=4 "
              f"weight-group-size={group_size}", "--myquant-quantize"]
    try:
        quantized, remarks = toolchain.quantize(emit(model, stats), passes,
                                                workdir)
        # Printed and parsed back, the types still give the multipliers
        # the quantize pass encoded (the group scales are exact in f32).
        toolchain.quantize(quantized, ["--myquant-verify-qparams"], workdir)
        lowered, _ = toolchain.quantize(
            quantized, [f"--convert-myquant-to-vnni=target={target}",
                        "--convert-myquant-to-linalg"], workdir)
        got = toolchain.run(executable(lowered, target), "forward", x,
                            workdir)
    except ToolError as e:
        pytest.fail(f"{name} (G={group_size}, {target}): {str(e)[:3000]}",
                    pytrace=False)
    assert "i4<-7:7>" in quantized
    if group_size:
        assert re.search(r"i4<-7:7>:f32:\{\d:1, \d:%d\}" % group_size,
                         quantized), "no weights quantized per group"
    want = ref.dequantize()
    assert np.array_equal(got.view(np.int32), want.view(np.int32)), \
        R.__name__ + ": compiled 4-bit model differs from the reference:\n" \
        f"{np.argwhere(got != want)[:8]}"
    flt = float_forward(model, x)[model.output].astype(np.float64)
    # 4-bit weights: a few output LSBs, not garbage.
    err = np.max(np.abs(got.astype(np.float64) - flt)) / ref.scale
    assert err <= 24, f"{err:.1f} LSBs from float"


def kernel_case(rows, k, n, group_size, conv_channels, seed):
    """Linear [n, k] (its groups' scales spread over 1/64 to 1 of the
    channel's largest) + relu + MatMul [n, 24] on `rows` rows, or, with
    conv_channels, a 3 x 3 conv of conv_channels input channels (stride 2)
    + relu + conv 1 x 1 to 9 channels (4-bit per channel). The kernels
    pair K steps of 4 input channels within a tap (16 channels: 4 steps)
    or, with an odd number per tap (12: 3), across taps."""
    rng = np.random.default_rng(seed)
    if conv_channels:
        m = Model((2, conv_channels, 9, 11))
        m.add(Conv2d(rand_f32(rng, n, conv_channels, 3, 3, scale=0.2),
                     rand_f32(rng, n), stride=2, padding=1))
        m.add(Relu())
        m.add(Conv2d(rand_f32(rng, 9, n, 1, 1), rand_f32(rng, 9)))
    else:
        m = Model((rows, k))
        w = rand_f32(rng, n, k, scale=0.2)
        if group_size:
            groups = k // group_size
            w *= np.repeat(2.0 ** -rng.integers(0, 7, (n, groups)),
                           group_size, axis=1).astype(np.float32)
        m.add(Linear(w, rand_f32(rng, n)), name="fc")
        m.add(Relu())
        m.add(MatMul(rand_f32(rng, n, 24, scale=0.3)), name="proj")
    samples = [rng.standard_normal(m.input_shape).astype(np.float32)
               for _ in range(4)]
    x = (rng.standard_normal(m.input_shape) * 0.8).astype(np.float32)
    return m, calibrate(m, samples), x


# rows, K, N, group size (0: per channel), conv input channels (0: matmuls).
KERNEL_SHAPES = [(1, 256, 48, 32, 0), (1, 128, 20, 0, 0), (5, 96, 40, 16, 0),
                 (3, 192, 70, 64, 0), (16, 64, 33, 8, 0), (4, 40, 17, 0, 0),
                 (0, 0, 24, 0, 12), (0, 0, 8, 0, 16)]


def check_two_kernels(quantized, ref, x, shape, target, toolchain, workdir):
    """Lowers `quantized` for `target`: both layers run in VNNI kernels
    (none on generic) and the output equals the reference `ref` on `x`."""
    lowered, _ = toolchain.quantize(
        quantized, [f"--convert-myquant-to-vnni=target={target}",
                    "--convert-myquant-to-linalg"], workdir)
    kernels = 0 if target == "generic" else 2
    assert lowered.count("call @forward_kernel") == kernels
    got = toolchain.run(executable(lowered, target), "forward", x, workdir)
    want = ref.dequantize()
    assert np.array_equal(got.view(np.int32), want.view(np.int32)), \
        f"{shape} on {target}: {np.argwhere(got != want)[:8]}"


@pytest.mark.parametrize("target", RUNNABLE_TARGETS)
@pytest.mark.parametrize("shape", KERNEL_SHAPES,
                         ids=["x".join(map(str, s)) for s in KERNEL_SHAPES])
def test_int4_kernels_bit_exact(shape, target, toolchain, workdir):
    """The VNNI kernels of 4-bit weights (unpacked in registers, per-group
    multipliers on the partial sums) equal the reference bit for bit, and
    every layer runs in a kernel on the VNNI targets."""
    rows, k, n, group_size, conv_channels = shape
    model, stats, x = kernel_case(rows, k, n, group_size, conv_channels,
                                  seed=sum(shape))
    ref = MR.run_reference(model, stats, x, weight_bits=4,
                           group_size=group_size)
    quantized, _ = toolchain.quantize(
        emit(model, stats),
        ["--myquant-propagate-qparams=weight-bits=4 "
         f"weight-group-size={group_size}", "--myquant-quantize"], workdir)
    if group_size:
        assert ":f32:{0:1, 1:%d}" % group_size in quantized, \
            "not quantized per group"
    check_two_kernels(quantized, ref, x, shape, target, toolchain, workdir)


def depthwise_case(channels, kernel, stride, dilation, seed):
    """Two depthwise convs of 4-bit weights (per channel) [channels,
    *kernel]: the first reads the signed model input, the second (after a
    ReLU) an unsigned one."""
    rng = np.random.default_rng(seed)
    m = Model((2, channels, 9, 11))
    pad = (kernel[0] // 2) * dilation
    for i in range(2):
        m.add(DepthwiseConv2d(rand_f32(rng, channels, *kernel, scale=1.0),
                              rand_f32(rng, channels), stride=stride,
                              padding=pad, dilation=dilation), name=f"dw{i}")
        if i == 0:
            m.add(Relu())
    samples = [rng.standard_normal(m.input_shape).astype(np.float32)
               for _ in range(4)]
    x = (rng.standard_normal(m.input_shape) * 0.8).astype(np.float32)
    return m, calibrate(m, samples), x


# channels, filter [KH, KW], stride, dilation: 17 channels end in a block
# shifted back to end at 17 (Problem::channelEnd); a 5 x 5 and a 3 x 3
# filter have an odd last row paired with zero, 4 x 3 none.
DEPTHWISE_SHAPES = [(17, (3, 3), 1, 1), (24, (5, 5), 2, 1), (8, (3, 3), 1, 2),
                    (40, (4, 3), 1, 1)]


@pytest.mark.parametrize("target", RUNNABLE_TARGETS)
@pytest.mark.parametrize("shape", DEPTHWISE_SHAPES,
                         ids=[f"c{c}k{k[0]}x{k[1]}s{s}d{d}"
                              for c, k, s, d in DEPTHWISE_SHAPES])
def test_int4_depthwise_kernels_bit_exact(shape, target, toolchain, workdir):
    """The depthwise kernel of 4-bit weights (two channels per byte,
    unpacked in registers to its int16 pairs) equals the reference bit for
    bit, and both layers run in it on the VNNI targets."""
    model, stats, x = depthwise_case(*shape, seed=shape[0])
    ref = MR.run_reference(model, stats, x, weight_bits=4)
    quantized, _ = toolchain.quantize(
        emit(model, stats), ["--myquant-propagate-qparams=weight-bits=4",
                             "--myquant-quantize"], workdir)
    assert "i4<-7:7>" in quantized
    check_two_kernels(quantized, ref, x, shape, target, toolchain, workdir)


def test_groups_follow_the_spec():
    """Spec 7.2: the largest group has m = 256, m in [1, 256], s = u * m,
    and |w| / s <= 7 (no clipping)."""
    rng = np.random.default_rng(0)
    w = rand_f32(rng, 6, 64)
    w[2, :32] *= 0.01
    w[4] = 0.0
    q, m, u = R.quantize_weights_per_group(w, 0, 32)
    assert m.shape == (6, 2) and m.min() >= 1 and m.max() == 256
    assert (m.max(axis=1) == 256).all()
    s = np.repeat(u[:, None] * m, 32, axis=1)
    assert np.all(np.abs(w.astype(np.float64)) / s <= 7.0 + 1e-12)
    assert np.abs(q).max() <= 7
    assert m[2, 0] < 8  # the small group has a fine scale
    eff = R.group_effective_weights(q, m, 0, 32)
    assert np.array_equal(eff[:, :32], q[:, :32].astype(np.int64) *
                          m[:, :1])
    # [K, N] weights (axis 1) are the transpose.
    qt, mt, ut = R.quantize_weights_per_group(w.T.copy(), 1, 32)
    assert np.array_equal(qt, q.T) and np.array_equal(mt, m) and \
        np.array_equal(ut, u)


def test_weight_bytes_halved(toolchain, workdir):
    """The lowered module's weight constants: 4-bit per group of 32 takes at
    most 0.55 x the int8 bytes (two nibbles per byte plus one byte of group
    multiplier per 32 weights)."""
    rng = np.random.default_rng(3)
    m = Model((1, 256))
    m.add(Linear(rand_f32(rng, 64, 256, scale=0.1), None), name="fc")
    stats = calibrate(m, [rng.standard_normal((1, 256)).astype(np.float32)
                          for _ in range(4)])

    def weight_bytes(options):
        quantized, _ = toolchain.quantize(
            emit(m, stats), [f"--myquant-propagate-qparams={options}",
                             "--myquant-quantize"], workdir)
        lowered, _ = toolchain.quantize(
            quantized, ["--convert-myquant-to-linalg", "--canonicalize"],
            workdir)
        total = 0
        for shape, elem in re.findall(
                r"arith\.constant dense<[^>]*> : tensor<([\dx]+)x(i\d+)>",
                lowered) + re.findall(
                r"arith\.constant dense<\"0x[0-9A-F]+\"> : "
                r"tensor<([\dx]+)x(i\d+)>", lowered):
            n = int(np.prod([int(d) for d in shape.split("x")]))
            total += n * max(1, int(elem[1:]) // 8) if n >= 64 else 0
        return total

    int8 = weight_bytes("weight-bits=8")
    int4 = weight_bytes("weight-bits=4 weight-group-size=32")
    assert int8 >= 64 * 256
    assert int4 <= 0.55 * int8, (int4, int8)


def test_option_errors(toolchain, workdir):
    rng = np.random.default_rng(1)
    model = mlp(rng)
    stats = calibrate(model, [rng.standard_normal(model.input_shape)
                              .astype(np.float32)])
    text = emit(model, stats)
    for options, message in [
            ("weight-bits=3", "weight-bits is 3; supported: 8 or 4"),
            ("weight-group-size=32", "weight-group-size 32 needs 4-bit"),
            ("layer-precision=fc1:w2a8", "is not '<layer name>:w<4|8>a<8|16>'"),
            ("layer-precision=fc1:w4a16", "asks for w4a16 in layer 'fc1'"),
            ("layer-precision=nope:w4a8", "layer-precision names 'nope'")]:
        with pytest.raises(AssertionError, match=re.escape(message)):
            toolchain.quantize(text, [f"--myquant-propagate-qparams="
                                      f"{options}"], workdir)
    with pytest.raises(ValueError, match="weight_bits must be 8 or 4"):
        T.ptq_options(weight_bits=2)
    with pytest.raises(ValueError, match="group_size needs 4-bit"):
        T.ptq_options(group_size=32)
    assert "weight-bits=4 weight-group-size=64" in T.ptq_options(
        weight_bits=4, group_size=64)


def test_layer_precision_and_group_fallback(toolchain, workdir):
    """layer-precision=fc1:w4a8 makes only fc1 4-bit; a group size that
    does not divide K falls back to per channel with a remark, as
    qparams.weight_precision says; the result matches the reference."""
    model, stats, x = make_case("mlp")
    lp = {"fc1": "w4a8"}
    quantized, remarks = toolchain.quantize(
        emit(model, stats),
        ["--myquant-propagate-qparams=layer-precision=fc1:w4a8 "
         "weight-group-size=64", "--myquant-quantize"], workdir)
    assert "K = 96 is not a multiple of the group size 64" in remarks
    assert quantized.count("i4<-7:7>") >= 1
    assert Q.weight_precision(model.layers[0], 8, 64, lp) == (4, 0)
    assert Q.weight_precision(model.layers[2], 8, 64, lp) == (8, 0)
    lowered, _ = toolchain.quantize(quantized, ["--convert-myquant-to-linalg"],
                                    workdir)
    got = toolchain.run(executable(lowered, "generic"), "forward", x, workdir)
    want = MR.run_reference(model, stats, x, group_size=64,
                            layer_precision=lp).dequantize()
    assert np.array_equal(got.view(np.int32), want.view(np.int32))


def test_python_api_and_report(tmp_path):
    """QuantizedModel(weight_bits=4, group_size=32): the compiled model
    equals the reference, the per-layer report shows each layer's
    precision, and parameter_bytes counts half-byte weights plus a byte per
    group."""
    from myquant.api import QuantizedModel
    from myquant.evaluate import layer_report
    model, stats, x = make_case("mlp")
    with QuantizedModel(model, stats, weight_bits=4, group_size=32,
                        layer_precision={"proj": "w8a8"},
                        cache_dir=str(tmp_path)) as qm:
        want = MR.run_reference(model, stats, x, weight_bits=4,
                                group_size=32,
                                layer_precision={"proj": "w8a8"})
        assert np.array_equal(qm(x), want.dequantize())
        rows = {r["name"]: r["precision"]
                for r in layer_report(qm, x).rows}
        assert rows["fc1+l1"] == "w4a8 g32" and rows["proj"] == "w8a8"
        assert "precision" in layer_report(qm, x).format()
        _, qbytes = qm.parameter_bytes()
        assert qbytes == 32 * 96 // 2 + 32 * 96 // 32 + 4 * 32 + 32 * 7


def test_cli_flags():
    """The CLI's --weight-bits / --group-size / --layer-precision reach the
    ptq options."""
    from myquant import cli
    args = cli.build_parser().parse_args([
        "quantize", "--model", "net.py:Net", "--calibration", "cal.npy",
        "--weight-bits", "4", "--group-size", "32", "--layer-precision",
        "features.0:w4a8", "--layer-precision", "fc:w8a8"])
    assert (args.weight_bits, args.group_size) == (4, 32)
    opts = T.ptq_options(weight_bits=args.weight_bits,
                         group_size=args.group_size,
                         layer_precision=args.layer_precision)
    assert "weight-bits=4 weight-group-size=32 " \
        "layer-precision=features.0:w4a8,fc:w8a8" in opts
    with pytest.raises(ValueError, match="w4a8, w8a8 or w8a16"):
        T.ptq_options(layer_precision=["w4a8"])
