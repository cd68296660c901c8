#!/usr/bin/env python3
"""Static memory (myquant-compile --static-memory) per model: the arena the
compiler plans next to its lower bound, the peak of live temporaries (the
most bytes the buffers alive at one operation take, callees' scratch
included), the weights (constants, .rodata) and the code (.text) of the
object file, for the generic kernels and the AVX-512 VNNI ones.

    /usr/bin/python3 benchmarks/static_memory.py [--build build]

Models: the example SmallCNN of examples/fashion_mnist.py (untrained: sizes
do not depend on the weights; batch 1, integer-io, as on a
microcontroller), the end-to-end test models (python/tests/
test_end_to_end.py) and the benchmark models (models.py) at batch 1. Inputs
and results are the caller's buffers, outside the arena."""

import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "python", "tests"))
import bench as B  # noqa: E402
import models as M  # noqa: E402
from myquant.emit import emit  # noqa: E402

OBJDUMP = "/usr/lib/llvm-22/bin/llvm-objdump"
TARGETS = ["generic", "avx512-vnni"]


def example_model(workdir):
    """The quantized MLIR of the example SmallCNN (integer-io, batch 1)."""
    sys.path.insert(0, os.path.join(B.REPO, "examples"))
    import torch
    import myquant
    from fashion_mnist import SmallCNN
    torch.manual_seed(0)
    net = SmallCNN().eval()
    calib = torch.randn(16, 1, 28, 28)
    q = myquant.quantize(net, calib, integer_io=True, max_batch=1,
                         cache_dir=workdir)
    return q.quantized_mlir(batch=1)


def models(tc, workdir):
    """(name, quantized MLIR) of every model."""
    yield "example SmallCNN (integer-io)", example_model(workdir)
    import test_end_to_end as E
    for name in sorted(E.MODELS):
        model, stats, _ = E.make_case(name)
        yield f"e2e {name}", tc.quantize(emit(model, stats))
    for name, build in M.MODELS.items():
        stats, _ = B.model_stats(build, np.random.default_rng(7))
        yield f"bench {name}", tc.quantize(emit(build(1), stats))


def measure(tc, text, target, alignment=64):
    src = tc.write(text)
    obj, header = src[:-5] + f"-{target}.o", src[:-5] + f"-{target}.h"
    B.sh([tc.compile, src, "--function=forward", f"--target={target}",
          "--static-memory", f"--arena-alignment={alignment}", "-o", obj,
          f"--header={header}"])
    with open(header) as f:
        memory = {k: int(v) for k, v in re.findall(
            r"#define forward_(ARENA_SIZE|PEAK_LIVE|WEIGHTS_SIZE) (\d+)",
            f.read())}
    sections = {}
    for line in subprocess.run([OBJDUMP, "-h", obj], capture_output=True,
                               text=True, check=True).stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0].isdigit():
            sections[parts[1]] = int(parts[2], 16)
    text_size = sum(v for k, v in sections.items() if k.startswith(".text"))
    return memory, text_size


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.environ.get(
        "MYQUANT_BUILD_DIR", os.path.join(B.REPO, "build")))
    args = ap.parse_args()
    os.environ["MYQUANT_BUILD_DIR"] = os.path.abspath(args.build)
    with tempfile.TemporaryDirectory(prefix="myquant-static-") as workdir:
        tc = B.Toolchain(args.build, workdir)
        rows = []
        for name, text in models(tc, workdir):
            for target in TARGETS:
                memory, code = measure(tc, text, target)
                arena, peak = memory["ARENA_SIZE"], memory["PEAK_LIVE"]
                unaligned, _ = measure(tc, text, target, alignment=1)
                rows.append([name, target, arena, peak,
                             f"{arena / peak:.3f}" if peak else "-",
                             unaligned["ARENA_SIZE"],
                             unaligned["PEAK_LIVE"],
                             memory["WEIGHTS_SIZE"], code])
        B.print_table(["model", "kernels", "arena (B)", "peak live (B)",
                       "arena / peak", "arena, align 1", "peak, align 1",
                       "weights (B)", ".text (B)"], rows)


if __name__ == "__main__":
    main()
