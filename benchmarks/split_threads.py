#!/usr/bin/env python3
"""Two threads at a batch they divide: whole images per thread
(myquant-split-batch{threads=N}, the default) against each kernel shared
between the threads (--split-batch-max-weight-bytes=0, the previous
default), on the same quantized module; with --unlimited also the image
split whatever the constants' size (the 4 MiB limit off). Per model: ms of
the fastest call, wall time and the CPU time of the process (both threads
and their waiting), interleaved in --rounds rounds, one thread alongside;
outputs compared bit for bit. Records the load average before and after.

    /usr/bin/python3 benchmarks/split_threads.py
        [--models squeezenet1_1,mobilenet_v2,resnet18,resnet50]
        [--batch 16] [--threads 2] [--rounds 3] [--calls 20] [--unlimited]
"""

import argparse
import os
import sys
import tempfile

import omp_env  # noqa: F401  (before numpy and torch)

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "python"))
sys.path.insert(0, HERE)

import calibration  # noqa: E402
from bench import Compiled, Timer  # noqa: E402
from myquant import tools as T  # noqa: E402
from zoo import images  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models",
                    default="squeezenet1_1,mobilenet_v2,resnet18,resnet50")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--calls", type=int, default=20)
    ap.add_argument("--budget", type=float, default=1.0)
    ap.add_argument("--unlimited", action="store_true")
    args = ap.parse_args()
    import myquant
    import torch
    work = tempfile.mkdtemp(prefix="split-threads-")
    timer = Timer(work)
    n = args.threads
    variants = {"images": [f"--kernel-threads={n}"],
                "kernels": [f"--kernel-threads={n}",
                            "--split-batch-max-weight-bytes=0"]}
    if args.unlimited:
        variants["images, no limit"] = [
            f"--kernel-threads={n}", f"--split-batch-max-weight-bytes={1 << 40}"]
    print(f"load before: {os.getloadavg()[0]:.1f}", flush=True)
    for name in args.models.split(","):
        model, size = calibration.torch_model(name, 224)
        qm = myquant.quantize(model, images(8, size=size, seed=1),
                              cache_dir=os.path.join(work, "cache"))
        x = images(args.batch, size=size, seed=2)
        with torch.no_grad():
            out_shape = tuple(model(torch.from_numpy(x)).shape)
        d = qm._build(args.batch, None, True)
        libraries = {"1 thread": os.path.join(d, "libmodel.so")}
        for tag, flags in variants.items():
            libraries[tag] = os.path.join(d, f"{tag.replace(' ', '_')}.so")
            T.compile_shared(os.path.join(d, "model.q.mlir"), libraries[tag],
                             extra_args=flags)
        fns = {tag: Compiled(so, "forward", x, out_shape, np.float32)
               for tag, so in libraries.items()}
        outputs = {tag: fn() for tag, fn in fns.items()}
        same = all(np.array_equal(o.view(np.int32),
                                  outputs["1 thread"].view(np.int32))
                   for o in outputs.values())
        best = {(tag, wall): float("inf") for tag in fns
                for wall in (True, False)}
        for _ in range(args.rounds):
            for tag, fn in fns.items():
                for wall in (True, False):
                    best[tag, wall] = min(best[tag, wall], timer.fastest(
                        fn, args.calls, args.budget, wall))
        cells = ", ".join(
            f"{tag} {best[tag, True] * 1e3:.1f} wall / "
            f"{best[tag, False] * 1e3:.1f} cpu" for tag in fns)
        print(f"{name} b{args.batch}: {cells} ms; same bits: {same}; "
              f"load {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
