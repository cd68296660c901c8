#!/usr/bin/env python3
"""Throughput of the 16x8 VNNI kernel (16-bit activations, int8 weights,
vpdpwssd into int32 lanes widened into int64: docs/NumericSpec.md 6.3)
against the generic lowering of the same 16-bit layer and the int8 VNNI
kernel (vpdpbusd) on the same shapes.

    /usr/bin/python3 benchmarks/int16_kernel.py [--repeats 30] [--shape TEXT]

Each shape is a one-layer model (random weights, calibrated on random
inputs) quantized with activation_bits=8 and 16 and compiled with
myquant-compile --shared -march=native for a target (--target=...); the
depthwise convolution runs the depthwise kernel (vpdpwssd on int16 pairs
of filter rows), and 16x8 generic is its path before that kernel. Prints
the one-thread median latency (float input quantized, output dequantized:
the same element-wise work for every variant) and the multiply-accumulates
per second.
"""

import argparse
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path[:0] = [os.path.join(REPO, "python"), os.path.join(REPO, "examples")]

from fashion_mnist import median_time  # noqa: E402
from myquant import tools as T  # noqa: E402
from myquant.api import QuantizedModel  # noqa: E402
from myquant.emit import (Conv2d, DepthwiseConv2d, Linear, Model,  # noqa: E402
                          Relu, calibrate)
from myquant.runtime import CompiledFunction  # noqa: E402


def conv(c, f, k, hw, rng):
    m = Model((1, c, hw, hw))
    m.add(Conv2d((rng.standard_normal((f, c, k, k)) / np.sqrt(c * k * k))
                 .astype(np.float32),
                 (0.1 * rng.standard_normal(f)).astype(np.float32),
                 padding=k // 2), name="conv")
    m.add(Relu())
    return m, f * c * k * k * hw * hw


def depthwise(c, k, hw, rng):
    m = Model((1, c, hw, hw))
    m.add(DepthwiseConv2d((rng.standard_normal((c, k, k)) / k)
                          .astype(np.float32),
                          (0.1 * rng.standard_normal(c)).astype(np.float32),
                          padding=k // 2), name="dw")
    m.add(Relu())
    return m, c * k * k * hw * hw


def linear(k, n, rng):
    m = Model((1, k))
    m.add(Linear((rng.standard_normal((n, k)) / np.sqrt(k))
                 .astype(np.float32),
                 (0.1 * rng.standard_normal(n)).astype(np.float32)),
          name="fc")
    return m, k * n


# (label, model builder, batch)
SHAPES = [("conv 3x3 64->64, 28x28", lambda r: conv(64, 64, 3, 28, r), 1),
          ("conv 1x1 256->256, 14x14", lambda r: conv(256, 256, 1, 14, r),
           1),
          ("conv 3x3 300->64, 14x14", lambda r: conv(300, 64, 3, 14, r), 1),
          ("linear 1024x1024", lambda r: linear(1024, 1024, r), 64),
          ("depthwise 3x3 256, 28x28", lambda r: depthwise(256, 3, 28, r),
           1)]

# (label, activation bits, target)
VARIANTS = [("int8 VNNI (vpdpbusd)", 8, "avx512-vnni"),
            ("16x8 VNNI (vpdpwssd)", 16, "avx512-vnni"),
            ("16x8 VNNI ymm", 16, "avx512-vnni-256"),
            ("16x8 generic", 16, "generic")]


def compiled(qm, batch, target, workdir, tag):
    d = qm._build(batch, None, True, link=False)
    lib = os.path.join(workdir, f"{tag}.so")
    T.compile_shared(os.path.join(d, "model.q.mlir"), lib,
                     extra_args=[f"--target={target}"])
    g = qm.graph.with_batch(batch)
    return CompiledFunction(lib, "forward", [g.input_shape],
                            [g.shapes[g.output]])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=30)
    p.add_argument("--shape", default="",
                   help="only the shapes whose label has this")
    args = p.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    rng = np.random.default_rng(0)
    print(f"{'shape':<28}{'variant':<24}{'batch':>6}{'latency':>12}"
          f"{'GMAC/s':>8}{'vs int8':>9}")
    with tempfile.TemporaryDirectory() as workdir:
        for s, (label, build, batch) in enumerate(SHAPES):
            if args.shape not in label:
                continue
            model, macs = build(rng)
            stats = calibrate(model, [rng.standard_normal(model.input_shape)
                                      .astype(np.float32) for _ in range(4)])
            x = rng.standard_normal((batch,) + model.input_shape[1:]) \
                .astype(np.float32)
            base = None
            for v, (name, bits, target) in enumerate(VARIANTS):
                qm = QuantizedModel(model, stats, activation_bits=bits)
                fn = compiled(qm, batch, target, workdir, f"s{s}v{v}")
                t = median_time(fn, x, args.repeats)
                base = base or t
                print(f"{label:<28}{name:<24}{batch:>6}{t * 1e6:>10,.0f}us"
                      f"{macs * batch / t / 1e9:>8.2f}{base / t:>9.2f}")
                qm.close()


if __name__ == "__main__":
    main()
