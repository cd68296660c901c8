#!/usr/bin/env python3
"""Issue 19's benchmark in one run: int8 and f32 at real size, side by side.

1. The vpdpbusd peak and the memory read bandwidth of this machine.
2. Per model (torchvision zoo at 224 x 224, the example models of
   models.py at 32 x 32) and batch: myquant int8 (`myquant.quantize`, the
   default pipeline), myquant f32 (the same exported model compiled in
   float), PyTorch f32 (jit.trace + freeze + optimize_for_inference) and
   PyTorch int8 (FX PTQ with the onednn backend, jit.trace + freeze), one
   thread, ms (min); the ratios the issue's targets name (onednn / int8,
   myquant f32 / int8), the "at peak" bound (PyTorch int8's time / the
   time of the model's multiply-accumulates at the measured peak: the best
   ratio any single-thread int8 code could reach) and int8's share of the
   peak over the whole model. Target: x onednn >= 1.5, or, where the bound
   is below 1.6, >= 90% of the bound; x f32 >= 3.
3. Calibration throughput: myquant-calibrate against PyTorch float
   inference with observers on the same images (calibration.py).
4. The per-layer int8 profile at batch 1 (layer_profile.py) of some models.

With --threads N (N > 1): sections 1 and 2 only, in wall time: myquant
int8 compiled with --kernel-threads=N (batch loops, or at a batch N does
not divide a layer's channel tiles or rows, shared between the threads)
against the same model on one thread (bit-identical outputs checked) and
PyTorch onednn int8 with torch.set_num_threads(N); the "at peak" bound
uses N times the one-thread peak. Two-thread wall times mean something
only while the machine is otherwise idle: each row records the load
average (`uptime`) when it was measured.

Timing: the CPU time of the process (all threads) in the fastest single
call, of up to --calls calls within --budget seconds (on a machine shared
with more runnable processes than cores, wall time measures the waiting
for a core; CPU time still includes the cache misses others cause); the four
runs of a row alternate in --rounds rounds and each keeps its minimum.
myquant is called from a C loop (timer.c), PyTorch from Python. Both
calibrate on the same --calib images (smooth random fields, zoo.images;
random weights).

    /usr/bin/python3 benchmarks/combined.py [--build build]
        [--models resnet18,resnet50,mobilenet_v2,squeezenet1_1,small_cnn,...]
        [--batches 1,16] [--rounds 2] [--profile resnet50,mobilenet_v2]
        [--calibration-images 32] [--no-calibration] [--no-torch]
        [--threads 2] [--baseline other-build]

With --baseline B: int8 is also compiled from the same quantized module by
B's myquant-compile (with --threads, on as many threads) and timed in the
same rounds, for a before/after of a kernel change in one run; its outputs
must be the same bits.
"""

import argparse
import copy
import os
import sys
import tempfile
from types import SimpleNamespace

import omp_env  # noqa: E402,F401  (before numpy and torch)

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "python"))
sys.path.insert(0, HERE)

import calibration  # noqa: E402
from myquant import tools as T  # noqa: E402
import layer_profile  # noqa: E402
import models as M  # noqa: E402
from bench import Compiled, Timer, measure_peak, print_table  # noqa: E402
from bench import python_fastest, sh, tune_malloc  # noqa: E402
from float_path import torch_f32  # noqa: E402
from zoo import images  # noqa: E402
from zoo_layer_gap import torch_prepared  # noqa: E402

MODELS = calibration.ZOO + calibration.EXAMPLES


def trace_onednn(prepared, xt):
    """(onednn int8 converted from a copy of the observed model `prepared`,
    traced on `xt` and frozen, None), or (None, PyTorch's error). Each
    batch gets its own conversion: with 2 threads, a converted module
    traced at batch 1 failed to trace at batch 16 every time ("could not
    create a primitive descriptor for a reorder primitive", mobilenet_v2),
    a fresh one did not."""
    import torch
    from torch.ao.quantization.quantize_fx import convert_fx
    try:
        with torch.no_grad():
            converted = convert_fx(copy.deepcopy(prepared))
            return torch.jit.freeze(torch.jit.trace(converted, xt)), None
    except RuntimeError as e:
        return None, str(e).strip().split("\n")[0]


def bench_model(name, args, timer, peak, workdir, failures):
    """Rows of the model's table (one per batch), the QuantizedModel and
    the torch module and its images' size; `failures` gets a line per
    batch whose onednn int8 module could not be traced."""
    import myquant
    import torch
    model, size = calibration.torch_model(name, 224)
    calib = images(args.calib, size=size, seed=1)
    qm = myquant.quantize(model, calib,
                          cache_dir=os.path.join(workdir, "cache"))
    macs = M.macs(qm.graph.with_batch(1))
    observed, _ = torch_prepared(model, calib, "onednn") \
        if not args.no_torch else (None, None)
    rows = []
    for batch in args.batches:
        x = images(batch, size=size, seed=2)
        xt = torch.from_numpy(x)
        with torch.no_grad():
            out_shape = tuple(model(xt).shape)
        runs, libraries = {}, {}
        wall = args.threads > 1
        if wall:
            d = qm._build(batch, None, True)
            libraries["int8 1 thread"] = os.path.join(d, "libmodel.so")
            libraries["int8"] = os.path.join(d, f"t{args.threads}.so")
            T.compile_shared(os.path.join(d, "model.q.mlir"),
                             libraries["int8"], extra_args=[
                                 f"--kernel-threads={args.threads}"])
        else:
            for tag, quantized in (("int8", True), ("f32", False)):
                libraries[tag] = os.path.join(
                    qm._build(batch, None, quantized), "libmodel.so")
        if args.baseline:
            # The same quantized module through the baseline's kernels, on
            # as many threads.
            d = qm._build(batch, None, True)
            libraries["int8 baseline"] = os.path.join(d, "baseline.so")
            sh([os.path.join(args.baseline, "bin", "myquant-compile"),
                os.path.join(d, "model.q.mlir"), "--function=forward",
                "--shared", "-o", libraries["int8 baseline"],
                "--cc-arg=-march=native"]
               + ([f"--kernel-threads={args.threads}"] if wall else []))
        outputs = {}
        for tag, so in libraries.items():
            fn = Compiled(so, "forward", x, out_shape, np.float32)
            outputs[tag] = fn()
            runs[tag] = (lambda fn=fn: timer.fastest(fn, args.calls,
                                                     args.budget, wall))
        if not args.no_torch:
            mods = []
            traced, error = trace_onednn(observed, xt)
            if traced is not None:
                mods.append(("onednn int8", traced))
            else:
                print(f"  {name} batch {batch}: onednn int8 failed: {error}",
                      flush=True)
                failures.append(f"{name} batch {batch}: {error}")
            if not wall:
                mods.insert(0, ("torch f32", torch_f32(model, xt)))
            for tag, mod in mods:
                runs[tag] = (lambda mod=mod: python_fastest(
                    lambda: mod(xt), args.calls, args.budget, wall))
        best = {tag: float("inf") for tag in runs}
        with torch.no_grad():
            for _ in range(args.rounds):
                for tag, run in runs.items():
                    best[tag] = min(best[tag], run())
        at_peak = 2 * macs * batch / (peak * args.threads * 1e9)
        if wall:
            best["same bits"] = np.array_equal(
                outputs["int8"].view(np.int32),
                outputs["int8 1 thread"].view(np.int32))
            best["load"] = os.getloadavg()[0]
        rows.append((name, batch, best, at_peak))
        print(f"  {name} batch {batch}: " + ", ".join(
            f"{k} {v * 1e3:.3f} ms" for k, v in best.items()
            if k in runs), flush=True)
        if args.baseline:
            same = np.array_equal(outputs["int8"].view(np.int32),
                                  outputs["int8 baseline"].view(np.int32))
            print(f"    int8 {at_peak / best['int8']:.1%} of the peak, "
                  f"baseline {at_peak / best['int8 baseline']:.1%}; "
                  f"baseline / int8 {best['int8 baseline'] / best['int8']:.3f}"
                  f"; same bits: {same}", flush=True)
    return rows, qm, model, size


def table_rows(rows):
    out = []
    use_torch = any("onednn int8" in t for _, _, t, _ in rows)
    for name, batch, t, at_peak in rows:
        i8 = t["int8"]
        row = [name, batch, f"{i8 * 1e3:.3f}", f"{t['f32'] * 1e3:.2f}"]
        if "onednn int8" in t:
            x_onednn = t["onednn int8"] / i8
            bound = t["onednn int8"] / at_peak
            met = x_onednn >= 1.5 or (bound < 1.6 and x_onednn >= 0.9 * bound)
            goal = "1.5" if bound >= 1.6 else \
                f"{0.9 * bound:.2f} (90% of bound)"
            row += [f"{t['torch f32'] * 1e3:.2f}",
                    f"{t['onednn int8'] * 1e3:.3f}", f"{x_onednn:.2f}",
                    f"{bound:.2f}", goal, "yes" if met else "no"]
        elif use_torch:
            row += [f"{t['torch f32'] * 1e3:.2f}", "failed", "", "", "", ""]
        row += [f"{100 * at_peak / i8:.0f}%", f"{t['f32'] / i8:.1f}",
                "yes" if t["f32"] / i8 >= 3 else "no"]
        out.append(row)
    head = ["model", "batch", "myquant int8 ms", "myquant f32 ms"]
    if use_torch:
        head += ["PyTorch f32 ms", "onednn int8 ms", "x onednn",
                 "at peak", "target x", "met"]
    head += ["int8 % peak", "x myquant f32", ">= 3x"]
    return head, out


def print_failures(failures):
    """Why a row has no onednn int8 time."""
    for line in failures:
        print(f"onednn int8 failed, {line}")


def threads_table_rows(rows, threads):
    """The --threads table: int8 on `threads` threads against one thread
    and against onednn int8 on as many."""
    head = ["model", "batch", f"int8 {threads}t ms", "int8 1t ms",
            "speedup", "same bits", "load"]
    out = []
    use_torch = any("onednn int8" in t for _, _, t, _ in rows)
    for name, batch, t, at_peak in rows:
        i8 = t["int8"]
        row = [name, batch, f"{i8 * 1e3:.3f}",
               f"{t['int8 1 thread'] * 1e3:.3f}",
               f"{t['int8 1 thread'] / i8:.2f}",
               "yes" if t["same bits"] else "NO", f"{t['load']:.1f}"]
        if "onednn int8" in t:
            x_onednn = t["onednn int8"] / i8
            bound = t["onednn int8"] / at_peak
            met = x_onednn >= 1.5 or (bound < 1.6 and x_onednn >= 0.9 * bound)
            row += [f"{t['onednn int8'] * 1e3:.3f}", f"{x_onednn:.2f}",
                    f"{bound:.2f}", "yes" if met else "no"]
        elif use_torch:
            row += ["failed", "", "", ""]
        row.append(f"{100 * at_peak / i8:.0f}%")
        out.append(row)
    if use_torch:
        head += [f"onednn int8 {threads}t ms", "x onednn", "at peak", "met"]
    head.append(f"int8 % of {threads}-core peak")
    return head, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--batches", default="1,16")
    ap.add_argument("--calib", type=int, default=8,
                    help="images that calibrate myquant and PyTorch's PTQ")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--budget", type=float, default=1.0,
                    help="seconds per measurement (at least 3 calls)")
    ap.add_argument("--profile", default="resnet50,mobilenet_v2",
                    help="models whose per-layer table is printed ('' for "
                         "none; each must be in --models)")
    ap.add_argument("--calls", type=int, default=20,
                    help="calls per measurement and of the per-layer "
                         "profile (the fastest kept)")
    ap.add_argument("--calibration-images", type=int, default=32)
    ap.add_argument("--calibration-batch", type=int, default=16)
    ap.add_argument("--no-calibration", action="store_true")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--baseline", default="",
                    help="a second build: int8 also compiled with its "
                         "myquant-compile (the same quantized module), timed "
                         "in the same rounds, its outputs compared")
    ap.add_argument("--threads", type=int, default=1,
                    help="above 1: int8 on this many threads against one "
                         "thread and onednn on as many, wall time; no "
                         "profile or calibration")
    args = ap.parse_args()
    if args.threads > 1:
        args.profile, args.no_calibration = "", True
    args.batches = [int(b) for b in args.batches.split(",")]
    build = os.path.abspath(args.build)
    os.environ["MYQUANT_BUILD_DIR"] = build
    tune_malloc()
    import torch
    torch.set_num_threads(args.threads)
    torch.backends.quantized.engine = "onednn"
    names = args.models.split(",")
    profiled = [n for n in args.profile.split(",") if n]
    with tempfile.TemporaryDirectory(prefix="myquant-combined-") as d:
        peak = measure_peak(d)
        bandwidth = layer_profile.memory_bandwidth(d)
        print(f"vpdpbusd peak {peak:.1f} GOP/s, memory read bandwidth "
              f"{bandwidth:.1f} GB/s (one thread); load average "
              f"{os.getloadavg()[0]:.1f} at start\n", flush=True)
        timer = Timer(d)
        rows, profiles, failures = [], [], []
        for name in names:
            model_rows, qm, model, size = bench_model(name, args, timer,
                                                      peak, d, failures)
            rows += model_rows
            if name in profiled:
                x = images(1, size=size, seed=2)
                with torch.no_grad():
                    out_shape = tuple(model(torch.from_numpy(x)).shape)
                profiles.append((name, *layer_profile.profile_build(
                    build, qm._build(1, None, True), x, out_shape,
                    args.calls, timer, d)))
            qm.close()
        if args.threads > 1:
            print(f"\nModels, {args.threads} threads, ms of wall time "
                  f"(fastest call of {args.rounds} rounds of up to "
                  f"{args.calls}); load: the 1-minute load average after "
                  f"the row")
            print_table(*threads_table_rows(rows, args.threads))
            print_failures(failures)
            return
        print(f"\nModels, one thread, ms of CPU time (fastest call of "
              f"{args.rounds} rounds of up to {args.calls}); load "
              f"average {os.getloadavg()[0]:.1f} now")
        print_table(*table_rows(rows))
        print_failures(failures)
        for name, layer_rows, total, plain in profiles:
            layer_profile.print_profile(
                f"{name}, batch 1, int8 per layer (min of {args.calls} "
                f"calls)", layer_rows, total, plain, peak, bandwidth)
        if not args.no_calibration:
            cal = SimpleNamespace(size=224, images=args.calibration_images,
                                  batch=args.calibration_batch,
                                  method="minmax", threads=1, repeat=1)
            head = ["model", "myquant s", "myquant img/s",
                    "model img/s", "PyTorch s", "PyTorch img/s",
                    "myquant / PyTorch (model)"]
            out = []
            for name in names:
                b = calibration.bench_model(name, cal, d)
                (mq, _, phases), pt = b["myquant"], b["torch"][0]
                n = cal.images
                model = calibration.model_rate(phases, n)
                out.append([name, f"{mq:.1f}", f"{n / mq:.1f}",
                            f"{model:.1f}", f"{pt:.2f}", f"{n / pt:.1f}",
                            f"{pt / mq:.2f} ({model * pt / n:.2f})"])
            print(f"Calibration, {cal.images} images, batch {cal.batch}, "
                  f"minmax, one thread (myquant: the whole myquant-opt run, "
                  f"compile included; model: the calls and observers "
                  f"only; PyTorch: the observed model's batch loop)")
            print_table(head, out)


if __name__ == "__main__":
    main()
