#!/usr/bin/env python3
"""4-bit weights (docs/NumericSpec.md 7) against int8: weight bytes and
matmul throughput.

    /usr/bin/python3 benchmarks/int4_weights.py            # ~1 minute
    /usr/bin/python3 benchmarks/int4_weights.py --k 1024 --n 1024 --layers 3

A Linear-heavy MLP (`--layers` Linear + ReLU layers of K x N, random
weights, calibrated on random inputs) is quantized with int8 weights, int4
per channel and int4 per group of 32 and 128 of K. Prints per variant:

* the weights as the object holds them: NAME_WEIGHTS_SIZE of the
  static-memory header (myquant-compile --static-memory) and the object's
  .rodata (llvm-size), and their ratio to int8's (and the header's
  NAME_ARENA_SIZE);
* one-thread median latency at batch 1 and 64 of the compiled library
  (-march=native; the int8 matmuls take the host's VNNI kernels, the 4-bit
  ones the generic lowering, which unpacks the nibbles once per call), with
  the multiply-accumulates per second; and the int8 model through the
  generic lowering (--target=generic), the 4-bit layers' baseline.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path[:0] = [os.path.join(REPO, "python"), os.path.join(REPO, "examples")]

from fashion_mnist import median_time  # noqa: E402
from myquant import tools as T  # noqa: E402
from myquant.api import QuantizedModel  # noqa: E402
from myquant.runtime import CompiledFunction  # noqa: E402
from myquant.emit import Linear, Model, Relu, calibrate  # noqa: E402

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


def generic_int8(qm, batch, workdir):
    """qm's batch-`batch` model compiled with --target=generic."""
    d = qm._build(batch, None, True, link=False)
    lib = os.path.join(workdir, f"generic{batch}.so")
    T.compile_shared(os.path.join(d, "model.q.mlir"), lib,
                     extra_args=["--target=generic"])
    g = qm.graph.with_batch(batch)
    return CompiledFunction(lib, "forward", [g.input_shape],
                            [g.shapes[g.output]])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--k", type=int, default=1024)
    p.add_argument("--n", type=int, default=1024)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--repeats", type=int, default=50)
    args = p.parse_args(argv)
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
            if bits == 8:
                # The same int8 model through the generic lowering, which
                # the 4-bit layers take.
                times = {b: median_time(generic_int8(qm, b, workdir),
                                        rng.standard_normal((b, args.k))
                                        .astype(np.float32),
                                        args.repeats if b == 1
                                        else max(5, args.repeats // 5))
                         for b in (1, 64)}
                rows.append(("int8 (generic)", size, 1.0, rodata, 1.0,
                             times))
            qm.close()
    print(f"MLP: {args.layers} x Linear+ReLU, K = {args.k}, N = {args.n} "
          f"({macs:,} MACs per sample), one thread")
    print(f"{'weights':<20}{'WEIGHTS_SIZE':>14}{'x int8':>8}{'.rodata':>10}"
          f"{'x int8':>8}{'batch 1':>12}{'GMAC/s':>8}{'batch 64':>12}"
          f"{'GMAC/s':>8}")
    for label, size, rs, rodata, rr, t in rows:
        print(f"{label:<20}{size:>14,}{rs:>8.3f}{rodata:>10,}{rr:>8.3f}"
              f"{t[1] * 1e6:>10,.0f}us{macs / t[1] / 1e9:>8.2f}"
              f"{t[64] * 1e6:>10,.0f}us{64 * macs / t[64] / 1e9:>8.2f}")
    print("static-memory arena, batch 1 (the 4-bit weights are unpacked "
          "into it): " + ", ".join(f"{k} {v:,}" for k, v in arenas.items()))


if __name__ == "__main__":
    main()
