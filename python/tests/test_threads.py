"""Kernels compiled with --kernel-threads=2 (the batch loops of the int8
kernels as OpenMP work-sharing loops, myquant-parallelize-batches) give
the same bits as the generic integer lowering, which the end-to-end tests
check against the reference, on the three benchmark models at batch 4;
the libraries really call the OpenMP runtime. At batches 1 and 3 the
kernels share each layer's channel tiles or rows instead: the same bits
as one thread, int8 and f32; kernels under --kernel-thread-min-macs stay
on one thread; the padded copies of large inputs are shared too, and so
are the large ops left to the generic lowering (myquant-share-linalg).
Padded max pools, whose windows the lowering clips at the border, match
the reference bit for bit on one and two threads.

Needs the avx512-vnni kernels (the models' kernels are built for them)."""

import os

import numpy as np
import pytest

from conftest import RUNNABLE_TARGETS  # conftest puts benchmarks/ on the path

import bench as B
import models as M
from myquant.emit import (Flatten, GlobalAvgPool, MaxPool2d, Model, Relu,
                          Relu6, calibrate, emit)
from myquant.runtime import CompiledFunction
from myquant.testing import reference as R


@pytest.mark.skipif("avx512-vnni" not in RUNNABLE_TARGETS,
                    reason="the kernels are built for avx512-vnni")
@pytest.mark.parametrize("name", sorted(M.MODELS))
def test_two_threads_same_bits(name, build_dir, workdir):
    tc = B.Toolchain(build_dir, workdir)
    build = M.MODELS[name]
    rng = np.random.default_rng(3)
    stats, _ = B.model_stats(build, rng)
    model = build(4)
    x = rng.standard_normal(model.input_shape).astype(np.float32)
    src = tc.write(tc.quantize(emit(model, stats)))
    outputs = {}
    for tag, flags in [("threads", ["--target=avx512-vnni",
                                    "--kernel-threads=2"]),
                       ("generic", ["--target=generic"])]:
        so = os.path.join(workdir, f"{tag}.so")
        B.sh([tc.compile, src, "--function=forward", "--shared", "-o", so]
             + flags)
        outputs[tag] = B.Compiled(so, "forward", x,
                                  model.shapes[model.output], np.float32)()
        if tag == "threads":
            with open(so, "rb") as f:
                assert b"__kmpc_fork_call" in f.read(), \
                    "no OpenMP parallel region in the library"
    assert np.array_equal(outputs["threads"].view(np.int32),
                          outputs["generic"].view(np.int32))


def _first_layers(batch, size, channels, seed):
    """(model, rng): a strided three-channel first layer of 32 channels on
    size x size images, then a 3 x 3 conv and a depthwise conv of
    `channels` channels."""
    rng = np.random.default_rng(seed)
    m = Model((batch, 3, size, size))
    m.add(M._conv(rng, 32, 3, 3, stride=2, padding=1))
    m.add(Relu())
    m.add(M._conv(rng, channels, 32, 3, padding=1))
    m.add(Relu6())
    m.add(M._dw(rng, channels, 3, padding=1))
    m.add(Relu6())
    return m, rng


def _compile_and_run(tc, workdir, text, x, shape, flags):
    """The bits of forward(x) compiled from `text` with `flags`, and
    whether the library opens OpenMP regions."""
    so = os.path.join(workdir, f"{len(os.listdir(workdir))}.so")
    B.sh([tc.compile, tc.write(text), "--function=forward", "--shared",
          "-o", so] + flags)
    with open(so, "rb") as f:
        forks = b"__kmpc_fork_call" in f.read()
    return B.Compiled(so, "forward", x, shape, np.float32)().view(
        np.int32), forks


def _split_model(batch):
    """Layers whose outer loops split between two threads at batch 1 (or 3):
    a strided three-channel first layer (one channel tile, 7 rows), a conv
    and a depthwise conv whose last channel tile or block overlaps the one
    before (40 channels), a 1x1 conv with several tiles, a classifier (one
    row, several channel tiles)."""
    m, rng = _first_layers(batch, 14, 40, seed=11)
    m.add(M._conv(rng, 160, 40, 1))
    m.add(Relu())
    m.add(GlobalAvgPool())
    m.add(Flatten())
    m.add(M._linear(rng, 200, 160))
    return m


def _split_case(batch, seed):
    """(model, stats, x): _split_model at `batch`, calibrated at batch 4,
    and an input with a different image in each slot."""
    rng = np.random.default_rng(seed)
    stats = calibrate(_split_model(4), [
        rng.standard_normal((4, 3, 14, 14)).astype(np.float32)
        for _ in range(2)])
    model = _split_model(batch)
    return model, stats, rng.standard_normal(model.input_shape).astype(
        np.float32)


@pytest.mark.parametrize("target,batch", [
    (t, b) for t, b in (("avx512-vnni", 1), ("avx512-vnni", 3),
                        ("avx512-vnni-256", 1)) if t in RUNNABLE_TARGETS])
def test_intra_op_split_same_bits(target, batch, build_dir, workdir):
    """At a batch two threads do not divide, the kernels share a layer's
    channel tiles or rows (OuterLoops in KernelBuilder): int8 and f32
    results are bit-identical to one thread's (whose kernels the
    end-to-end tests hold to the reference)."""
    tc = B.Toolchain(build_dir, workdir)
    model, stats, x = _split_case(batch, seed=5)
    shape = model.shapes[model.output]

    def run(text, tgt, threads, min_macs=0):
        return _compile_and_run(
            tc, workdir, text, x, shape,
            [f"--target={tgt}", f"--kernel-threads={threads}"]
            + ([] if min_macs is None
               else [f"--kernel-thread-min-macs={min_macs}"]))

    # Every kernel split (no minimum work), against one thread.
    quantized = tc.quantize(emit(model, stats))
    two, forks = run(quantized, target, 2)
    assert forks
    assert np.array_equal(two, run(quantized, target, 1)[0])
    floating = emit(model)
    two, forks = run(floating, target, 2)
    assert forks
    assert np.array_equal(two, run(floating, target, 1)[0])
    # With the default minimum (a million MACs per thread) these small
    # kernels stay on one thread: no OpenMP region at all.
    default, forks = run(quantized, target, 2, min_macs=None)
    assert not forks
    assert np.array_equal(default, run(quantized, target, 1)[0])


def _padded_model(batch):
    """Layers whose padded inputs exceed 64 KiB, so that two threads share
    the copies (buildPaddedNhwc): a three-channel NCHW first layer (132 x
    132 x 4 bytes), a 3 x 3 conv and a depthwise conv on 67 x 67 x 32."""
    m, _ = _first_layers(batch, 130, 32, seed=13)
    m.add(GlobalAvgPool())
    m.add(Flatten())
    return m


def _stem_model(batch):
    """ResNet's stem at 168 x 168: the input's quantization (3 x 168 x 168
    bytes) and a 3 x 3 / 2 max pool to 42 x 42 x 64 bytes, both over 32 KiB
    per thread, which myquant-share-linalg cuts into row ranges."""
    rng = np.random.default_rng(17)
    m = Model((batch, 3, 168, 168))
    m.add(M._conv(rng, 64, 3, 3, stride=2, padding=1))
    m.add(Relu())
    m.add(MaxPool2d(3, 2, 1))
    m.add(GlobalAvgPool())
    m.add(Flatten())
    return m


@pytest.mark.parametrize("batch", [1, 3])
def test_shared_linalg_ops_same_bits(batch, build_dir, workdir):
    """The ops left to the generic lowering, shared by rows between two
    threads (myquant-share-linalg): int8 and f32 results bit-identical to
    one thread's, on any target."""
    tc = B.Toolchain(build_dir, workdir)
    rng = np.random.default_rng(19)
    stats = calibrate(_stem_model(2), [
        rng.standard_normal((2, 3, 168, 168)).astype(np.float32)])
    model = _stem_model(batch)
    x = rng.standard_normal(model.input_shape).astype(np.float32)
    shape = model.shapes[model.output]
    for text in (tc.quantize(emit(model, stats)), emit(model)):
        two, forks = _compile_and_run(tc, workdir, text, x, shape,
                                      ["--kernel-threads=2"])
        assert forks
        one, _ = _compile_and_run(tc, workdir, text, x, shape,
                                  ["--kernel-threads=1"])
        assert np.array_equal(two, one)


@pytest.mark.skipif("avx512-vnni" not in RUNNABLE_TARGETS,
                    reason="the kernels are built for avx512-vnni")
@pytest.mark.parametrize("batch", [1, 2, 3])
def test_shared_padding_copies_same_bits(batch, build_dir, workdir):
    """The padding copies in front of the kernels, shared by rows (batch 1
    and 3) or by images (batch 2): the same bits as one thread."""
    tc = B.Toolchain(build_dir, workdir)
    rng = np.random.default_rng(7)
    model = _padded_model(batch)
    stats = calibrate(_padded_model(2), [
        rng.standard_normal((2, 3, 130, 130)).astype(np.float32)])
    x = rng.standard_normal(model.input_shape).astype(np.float32)
    src = tc.write(tc.quantize(emit(model, stats)))
    out = []
    for threads in (1, 2):
        so = os.path.join(workdir, f"t{threads}.so")
        B.sh([tc.compile, src, "--function=forward", "--shared", "-o", so,
              "--target=avx512-vnni", f"--kernel-threads={threads}"])
        out.append(B.Compiled(so, "forward", x, model.shapes[model.output],
                              np.float32)().view(np.int32))
    assert np.array_equal(out[0], out[1])


@pytest.mark.parametrize("target,batch", [
    (t, b) for t, b in (("avx512-vnni", 2), ("avx512-vnni", 4),
                        ("avx512-vnni-256", 4)) if t in RUNNABLE_TARGETS])
def test_images_per_thread_same_bits(target, batch, build_dir, workdir):
    """At a batch two threads divide, each runs whole images through the
    per-image layers (myquant-split-batch{threads=2}, one OpenMP region
    around the loop over images, one-thread kernels inside) and the
    classifier shares its kernel: the same bits as one thread, and as the
    kernels shared layer by layer (--split-batch-max-weight-bytes=0)."""
    tc = B.Toolchain(build_dir, workdir)
    model, stats, x = _split_case(batch, seed=7)
    quantized = tc.quantize(emit(model, stats))
    shape = model.shapes[model.output]
    flags = [f"--target={target}"]
    one, _ = _compile_and_run(tc, workdir, quantized, x, shape,
                              flags + ["--kernel-threads=1"])
    images, forks = _compile_and_run(tc, workdir, quantized, x, shape,
                                     flags + ["--kernel-threads=2"])
    assert forks, "no OpenMP region around the loop over images"
    kernels, _ = _compile_and_run(
        tc, workdir, quantized, x, shape,
        flags + ["--kernel-threads=2", "--split-batch-max-weight-bytes=0",
                 "--kernel-thread-min-macs=0"])
    assert np.array_equal(images, one)
    assert np.array_equal(kernels, one)


_LOAD_AND_CALL = """
import ctypes, sys
import numpy as np
sys.path.insert(0, sys.argv[3])
import bench as B
x = np.zeros((1, 3, 14, 14), np.float32)
B.Compiled(sys.argv[1], "forward", x, (1, int(sys.argv[2])), np.float32)()
"""


@pytest.mark.skipif("avx512-vnni" not in RUNNABLE_TARGETS,
                    reason="the kernels are built for avx512-vnni")
def test_wait_policy_default(build_dir, workdir):
    """A library compiled with --kernel-threads=2 makes libomp spin between
    the kernels for 1 s (KMP_BLOCKTIME=1000, libomp's yielding throughput
    library) unless the environment chose a wait policy: libomp's own
    report of its settings (KMP_SETTINGS) when the library's first region
    starts it."""
    import subprocess
    import sys
    from conftest import BENCHMARKS_DIR
    tc = B.Toolchain(build_dir, workdir)
    rng = np.random.default_rng(5)
    model = _split_model(1)
    stats = calibrate(model, [rng.standard_normal(
        model.input_shape).astype(np.float32)])
    so = os.path.join(workdir, "t2.so")
    B.sh([tc.compile, tc.write(tc.quantize(emit(model, stats))),
          "--function=forward", "--shared", "-o", so,
          "--target=avx512-vnni", "--kernel-threads=2",
          "--kernel-thread-min-macs=0"])
    clean = {k: v for k, v in os.environ.items()
             if k not in ("OMP_WAIT_POLICY", "KMP_LIBRARY", "KMP_BLOCKTIME")}

    def settings(**env):
        out = subprocess.run(
            [sys.executable, "-c", _LOAD_AND_CALL, so,
             str(model.shapes[model.output][1]), BENCHMARKS_DIR],
            env={**clean, "KMP_SETTINGS": "1", **env}, capture_output=True,
            text=True, check=True)
        return out.stderr

    default = settings()
    assert "KMP_BLOCKTIME=1000ms" in default, default
    assert "KMP_LIBRARY=throughput" in default, default
    passive = settings(OMP_WAIT_POLICY="PASSIVE")
    assert "KMP_BLOCKTIME=1000ms" not in passive, passive
    assert "OMP_WAIT_POLICY=PASSIVE" in passive, passive
    blocktime = settings(KMP_BLOCKTIME="5")
    assert "KMP_BLOCKTIME=5ms" in blocktime, blocktime


# Max pools whose windows the lowering clips at the border (no padded copy):
# (layout, input shape, kernel, strides, padding [top, left, bottom, right],
# dilations, storage). Odd sizes, strides and paddings, a dilated kernel,
# windows of padding only, padding past the last window (ceil mode), uint8,
# and ResNet's 3 x 3 / 2 pool at 67 x 67 x 64, whose 33 interior rows two
# threads do not divide (myquant-share-linalg splits the last one off).
_CLIPPED_POOLS = [
    ("nhwc", (1, 13, 11, 40), (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), "i8"),
    ("nchw", (1, 5, 9, 7), (3, 2), (1, 2), (2, 1, 1, 1), (1, 2), "i8"),
    ("nhwc", (2, 4, 5, 16), (1, 1), (1, 1), (1, 2, 1, 2), (1, 1), "i8"),
    ("nhwc", (1, 8, 8, 64), (3, 3), (2, 2), (1, 1, 2, 2), (1, 1), "u8"),
    ("nhwc", (1, 67, 67, 64), (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), "i8"),
]


def _i64_array(values):
    return f"array<i64: {', '.join(map(str, values))}>"


def _pool_output_shape(layout, shape, kernel, strides, padding, dilations):
    h, w = (1, 2) if layout == "nhwc" else (2, 3)
    out = list(shape)
    for i, d in enumerate((h, w)):
        span = dilations[i] * (kernel[i] - 1) + 1
        padded = shape[d] + padding[i] + padding[i + 2]
        out[d] = (padded - span) // strides[i] + 1
    return tuple(out)


@pytest.mark.parametrize("threads", [1, 2])
def test_clipped_max_pools_match_reference(threads, build_dir, workdir):
    """Max pools lowered with clipped windows, on one and two threads: bit
    for bit the reference's max over the padded window (padding = qmin)."""
    tc = B.Toolchain(build_dir, workdir)
    funcs = []
    for i, (layout, shape, kernel, strides, padding, dilations,
            storage) in enumerate(_CLIPPED_POOLS):
        out = _pool_output_shape(layout, shape, kernel, strides, padding,
                                 dilations)
        zp = -3 if storage == "i8" else 7
        q = f"!quant.uniform<{storage}:f32, 0.1:{zp}>"
        xt = f"tensor<{'x'.join(map(str, shape))}x{q}>"
        yt = f"tensor<{'x'.join(map(str, out))}x{q}>"
        funcs.append(
            f"func.func @pool{i}(%x: {xt}) -> {yt} {{\n"
            f"  %y = myquant.max_pool2d %x {{kernel = {_i64_array(kernel)}, "
            f"strides = {_i64_array(strides)}, "
            f"padding = {_i64_array(padding)}, "
            f"dilations = {_i64_array(dilations)}, "
            f"layout = #myquant.layout<{layout}>}} : {xt} -> {yt}\n"
            f"  return %y : {yt}\n}}\n")
    so = os.path.join(workdir, f"pools-t{threads}.so")
    B.sh([tc.compile, tc.write("\n".join(funcs)), "--function=pool0",
          "--shared", "-o", so, f"--kernel-threads={threads}"])
    with open(so, "rb") as f:
        assert (b"__kmpc_fork_call" in f.read()) == (threads > 1)
    rng = np.random.default_rng(23)
    for i, (layout, shape, kernel, strides, padding, dilations,
            storage) in enumerate(_CLIPPED_POOLS):
        dtype = np.int8 if storage == "i8" else np.uint8
        info = np.iinfo(dtype)
        x = rng.integers(info.min, info.max + 1, shape, dtype=dtype)
        want = R.max_pool2d(x, kernel, strides, list(padding),
                            dilation=dilations, qmin=int(info.min),
                            layout=layout)
        [got] = CompiledFunction(so, f"pool{i}", [shape], [want.shape],
                                 [dtype], [dtype])(x)
        assert np.array_equal(got, want), (i, _CLIPPED_POOLS[i])
