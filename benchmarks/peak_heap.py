"""Peak heap of one call of each example model (benchmarks/models.py),
int8 with the VNNI kernels, at batch 1 and 64: the most bytes malloc'ed
and not yet freed at any moment of the call (the result included), next to
the sum of every allocation the call makes (what freeing at the end of the
call would hold).

    /usr/bin/python3 benchmarks/peak_heap.py --build build

glibc's allocation functions are interposed by heap_tracker.c, compiled
here and preloaded: the script re-executes itself under LD_PRELOAD."""

import argparse
import ctypes
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench as B  # noqa: E402
import models as M  # noqa: E402
from myquant.emit import emit  # noqa: E402

TRACKER_ENV = "MYQUANT_HEAP_TRACKER"


def preloaded_rerun(workdir):
    so = os.path.join(workdir, "heap_tracker.so")
    B.sh([B.CC, "-O2", "-shared", "-fPIC",
          os.path.join(HERE, "heap_tracker.c"), "-o", so])
    env = dict(os.environ, LD_PRELOAD=so, **{TRACKER_ENV: so})
    return subprocess.call([sys.executable] + sys.argv, env=env)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.environ.get(
        "MYQUANT_BUILD_DIR", os.path.join(B.REPO, "build")))
    args = ap.parse_args()
    tracker = os.environ.get(TRACKER_ENV)
    with tempfile.TemporaryDirectory(prefix="myquant-heap-") as workdir:
        if not tracker:
            sys.exit(preloaded_rerun(workdir))
        lib = ctypes.CDLL(tracker)
        lib.heap_track_stop.restype = ctypes.c_longlong
        lib.heap_track_total.restype = ctypes.c_longlong
        tc = B.Toolchain(args.build, workdir)
        rows = []
        for name, build in M.MODELS.items():
            rng = np.random.default_rng(7)
            stats, _ = B.model_stats(build, rng)
            for batch in [1, 64]:
                model = build(batch)
                so, _ = tc.shared(tc.quantize(emit(model, stats)),
                                  "avx512-vnni")
                x = rng.standard_normal(model.input_shape).astype(np.float32)
                fn = B.Compiled(so, "forward", x, model.shapes[model.output],
                                np.float32)
                fn()
                lib.heap_track_start()
                fn()
                peak = lib.heap_track_stop()
                total = lib.heap_track_total()
                rows.append([name, batch, f"{peak / 2**20:.2f} MiB",
                             f"{total / 2**20:.2f} MiB",
                             f"{x.nbytes / 2**20:.2f} MiB"])
        B.print_table(["model", "batch", "peak heap of a call",
                       "all allocations of a call", "input (for scale)"],
                      rows)


if __name__ == "__main__":
    main()
