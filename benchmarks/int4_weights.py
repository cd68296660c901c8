#!/usr/bin/env python3
"""4-bit weights (docs/NumericSpec.md 7) against int8: weight bytes and
matmul throughput.

    /usr/bin/python3 benchmarks/int4_weights.py            # ~1 minute
    /usr/bin/python3 benchmarks/int4_weights.py --k 1024 --n 1024 --layers 3
    /usr/bin/python3 benchmarks/int4_weights.py --kernels  # one-layer kernels

A Linear-heavy MLP (`--layers` Linear + ReLU layers of K x N, random
weights, calibrated on random inputs) is quantized with int8 weights, int4
per channel and int4 per group of 32 and 128 of K. Prints per variant:

* the weights as the object holds them: NAME_WEIGHTS_SIZE of the
  static-memory header (myquant-compile --static-memory) and the object's
  .rodata (llvm-size), and their ratio to int8's (and the header's
  NAME_ARENA_SIZE);
* one-thread median latency at batch 1 and 64 of the compiled library
  (-march=native: the host's VNNI kernels, which unpack the 4-bit weights
  in registers), with the multiply-accumulates per second; and the int8
  and int4-groups-of-32 models through the generic lowering
  (--target=generic, which unpacks the 4-bit weights once per call).

`--kernels` instead times single layers (a Linear at batch 1, a GEMV, and
64, a 3 x 3 convolution and a 3 x 3 depthwise one) with int8 and int4
weights on the host's kernels (and the depthwise int4 layer through the
generic lowering, its path before it had a kernel): the variants of a shape
run in turns, and each one's best of `--repeats` rounds is kept (the least
disturbed by other processes). Per variant it also prints the .rodata of
the layer's object for the host; `--layer TEXT` keeps the layers whose
label has TEXT.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path[:0] = [os.path.join(REPO, "python"), os.path.join(REPO, "examples")]

from fashion_mnist import median_time  # noqa: E402
from myquant import tools as T  # noqa: E402
from myquant.api import QuantizedModel  # noqa: E402
from myquant.runtime import CompiledFunction  # noqa: E402
from myquant.emit import (Conv2d, DepthwiseConv2d, Linear, Model,  # noqa: E402
                          Relu, calibrate)

VARIANTS = [("int8", 8, 0), ("int4 per channel", 4, 0),
            ("int4 groups of 32", 4, 32), ("int4 groups of 128", 4, 128)]


def mlp(k, n, layers, rng):
    m = Model((1, k))
    width = k
    for i in range(layers):
        m.add(Linear((rng.standard_normal((n, width)) / np.sqrt(width))
                     .astype(np.float32),
                     (0.1 * rng.standard_normal(n)).astype(np.float32)),
              name=f"fc{i}")
        m.add(Relu())
        width = n
    return m


def weight_bytes(qm, workdir, tag):
    """(NAME_WEIGHTS_SIZE, .rodata bytes, NAME_ARENA_SIZE) of the batch-1
    object."""
    d = qm._build(1, None, True, link=False)
    obj = os.path.join(workdir, f"{tag}.o")
    header = os.path.join(workdir, f"{tag}.h")
    T.run_tool("myquant-compile", [
        os.path.join(d, "model.q.mlir"), "--function=forward",
        "--static-memory", "-o", obj, f"--header={header}"])
    with open(header) as f:
        text = f.read()
    size = int(re.search(r"_WEIGHTS_SIZE (\d+)", text).group(1))
    arena = int(re.search(r"_ARENA_SIZE (\d+)", text).group(1))
    out = subprocess.run(["/usr/lib/llvm-22/bin/llvm-size", "-A", obj],
                         capture_output=True, text=True, check=True).stdout
    rodata = sum(int(m.group(1)) for m in
                 re.finditer(r"^\.rodata\S*\s+(\d+)", out, re.M))
    return size, rodata, arena


def generic(qm, batch, workdir):
    """qm's batch-`batch` model compiled with --target=generic."""
    d = qm._build(batch, None, True, link=False)
    lib = os.path.join(workdir, f"generic{id(qm)}_{batch}.so")
    T.compile_shared(os.path.join(d, "model.q.mlir"), lib,
                     extra_args=["--target=generic"])
    g = qm.graph.with_batch(batch)
    return CompiledFunction(lib, "forward", [g.input_shape],
                            [g.shapes[g.output]])


# (label, batch, input shape, layer factory) of --kernels.
KERNEL_SHAPES = [
    ("Linear K=1024 N=1024", 1, (1024,), lambda r: Linear(r(1024, 1024))),
    ("Linear K=1024 N=4096", 1, (1024,), lambda r: Linear(r(4096, 1024))),
    ("Linear K=4096 N=1024", 1, (4096,), lambda r: Linear(r(1024, 4096))),
    ("Linear K=1024 N=1024", 64, (1024,), lambda r: Linear(r(1024, 1024))),
    ("conv 3x3 64->64 28x28", 1, (64, 28, 28),
     lambda r: Conv2d(r(64, 64, 3, 3), padding=1)),
    ("depthwise 3x3 256 28x28", 1, (256, 28, 28),
     lambda r: DepthwiseConv2d(r(256, 3, 3), padding=1)),
]


def macs_of(layer, shape):
    w = layer.w
    if w.ndim == 2:
        return w.size
    return w.size * shape[1] * shape[2]  # stride 1, same padding


def kernels(args):
    rng = np.random.default_rng(0)

    def r(*shape):
        return (rng.standard_normal(shape) / np.sqrt(np.prod(shape[1:])))\
            .astype(np.float32)

    print("one layer, one thread, best of each variant's rounds (run in "
          "turns)")
    print(f"{'layer':<24}{'batch':>6}{'weights':>30}{'bytes':>11}"
          f"{'.rodata':>10}{'time':>10}{'GMAC/s':>8}{'x int8':>8}")
    workdir = tempfile.mkdtemp()
    for label, batch, shape, make in KERNEL_SHAPES:
        if args.layer not in label:
            continue
        layer = make(r)
        model = Model((1,) + shape)
        model.add(layer)
        stats = calibrate(model, [rng.standard_normal((1,) + shape)
                                  .astype(np.float32) for _ in range(4)])
        variants = [("int8", 8, 0), ("int4 per channel", 4, 0)]
        if layer.w.ndim == 2:
            variants.append(("int4 groups of 32", 4, 32))
        x = rng.standard_normal((batch,) + shape).astype(np.float32)
        fns, sizes, qms = [], [], []
        for i, (_, bits, group) in enumerate(variants):
            qm = QuantizedModel(model, stats, weight_bits=bits,
                                group_size=group)
            qms.append(qm)
            sizes.append((qm.parameter_bytes()[1],
                          weight_bytes(qm, workdir, f"k{i}")[1]))
            fns.append(qm.compiled(batch))
        if getattr(layer, "groups", 1) > 1:
            variants.append(("int4 per channel (generic)", 4, 0))
            sizes.append((sizes[1][0], None))
            fns.append(generic(qms[1], batch, workdir))
        best = [float("inf")] * len(fns)
        for fn in fns:
            for _ in range(3):
                fn(x)
        for _ in range(args.repeats):
            for i, fn in enumerate(fns):
                t = time.perf_counter()
                fn(x)
                best[i] = min(best[i], time.perf_counter() - t)
        macs = batch * macs_of(layer, shape)
        for (name, _, _), (size, rodata), t in zip(variants, sizes, best):
            rodata = "-" if rodata is None else f"{rodata:,}"
            print(f"{label:<24}{batch:>6}{name:>30}{size:>11,}{rodata:>10}"
                  f"{t * 1e6:>8,.0f}us{macs / t / 1e9:>8.2f}"
                  f"{best[0] / t:>8.2f}")
        for qm in qms:
            qm.close()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--k", type=int, default=1024)
    p.add_argument("--n", type=int, default=1024)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--repeats", type=int, default=50)
    p.add_argument("--kernels", action="store_true",
                   help="time single layers, int8 against int4")
    p.add_argument("--layer", default="",
                   help="--kernels: only the layers whose label has this")
    args = p.parse_args(argv)
    if args.kernels:
        kernels(args)
        return
    rng = np.random.default_rng(0)
    model = mlp(args.k, args.n, args.layers, rng)
    stats = calibrate(model, [rng.standard_normal((1, args.k))
                              .astype(np.float32) for _ in range(8)])
    macs = args.k * args.n + (args.layers - 1) * args.n * args.n
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        base = None
        arenas = {}
        for label, bits, group in VARIANTS:
            qm = QuantizedModel(model, stats, weight_bits=bits,
                                group_size=group)
            size, rodata, arena = weight_bytes(qm, workdir,
                                               f"v{bits}_{group}")
            base = base or (size, rodata)
            arenas[label] = arena
            times = {}
            for b in (1, 64):
                x = rng.standard_normal((b, args.k)).astype(np.float32)
                fn = qm.compiled(b)
                times[b] = median_time(fn, x, args.repeats if b == 1
                                       else max(5, args.repeats // 5))
            rows.append((label, size, size / base[0], rodata,
                         rodata / base[1], times))
            if group in (0, 32) and bits == 8 - 4 * (group == 32):
                # The same model through the generic lowering.
                times = {b: median_time(generic(qm, b, workdir),
                                        rng.standard_normal((b, args.k))
                                        .astype(np.float32),
                                        args.repeats if b == 1
                                        else max(5, args.repeats // 5))
                         for b in (1, 64)}
                rows.append((f"{label} (generic)", size, size / base[0],
                             rodata, rodata / base[1], times))
            qm.close()
    print(f"MLP: {args.layers} x Linear+ReLU, K = {args.k}, N = {args.n} "
          f"({macs:,} MACs per sample), one thread")
    print(f"{'weights':<28}{'WEIGHTS_SIZE':>14}{'x int8':>8}{'.rodata':>10}"
          f"{'x int8':>8}{'batch 1':>12}{'GMAC/s':>8}{'batch 64':>12}"
          f"{'GMAC/s':>8}")
    for label, size, rs, rodata, rr, t in rows:
        print(f"{label:<28}{size:>14,}{rs:>8.3f}{rodata:>10,}{rr:>8.3f}"
              f"{t[1] * 1e6:>10,.0f}us{macs / t[1] / 1e9:>8.2f}"
              f"{t[64] * 1e6:>10,.0f}us{64 * macs / t[64] / 1e9:>8.2f}")
    print("static-memory arena, batch 1: " +
          ", ".join(f"{k} {v:,}" for k, v in arenas.items()))


if __name__ == "__main__":
    main()
