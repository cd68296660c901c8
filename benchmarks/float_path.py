#!/usr/bin/env python3
"""myquant's float path (what calibration and ops kept in float run) against
PyTorch f32, one thread.

1. The f32 FMA peak of this machine (fma_peak.c: 24 independent vfmadd
   chains, zmm with -mavx512f and ymm with -mavx2 only), best of 9.
2. Float convolutions and matmuls of ResNet-50 / MobileNetV2 sizes, each a
   one-layer torch module through myquant.export and `myquant-compile
   --shared` (conv + bias + ReLU, as the exporter emits them, NCHW):
   GFLOP/s (2 x MACs / s, min), % of the zmm FMA peak, and PyTorch f32
   (frozen, optimize_for_inference) on the same layer, with the ratio.
3. torchvision models at 224 x 224, batch 1 (or --batch; random weights,
   BatchNorm folded by the exporter): myquant f32 vs PyTorch f32
   (jit.trace + freeze + optimize_for_inference), and the largest relative
   error of the logits (max |diff| / max |torch|); with --baseline, also
   the same model compiled by another build (such as main's), timed in the
   same rounds.

Timing: the CPU time of the fastest single call (as combined.py), myquant
called from C (timer.c), PyTorch from Python: on a machine shared with more
runnable processes than cores, the time a call ran, not the time it waited
for a core. The measurements of both alternate in rounds (--rounds) and
each keeps its minimum, so that a neighbour's load hits both alike. Ratios
are the figures to compare, not absolute times.

    /usr/bin/python3 benchmarks/float_path.py [--build build]
        [--models resnet18,resnet50,mobilenet_v2,squeezenet1_1]
        [--layers NAME,...] [--no-kernels] [--no-models] [--target avx512-vnni] [--rounds 5]
        [--batch 1] [--baseline /work/main/build]
"""

import argparse
import ctypes
import os
import sys
import tempfile

import omp_env  # noqa: E402,F401  (before numpy and torch)

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "python"))
sys.path.insert(0, HERE)

from bench import CC, Compiled, Timer, Toolchain, python_fastest, sh  # noqa
from bench import print_table, tune_malloc  # noqa: E402

MODELS = ["resnet18", "resnet50", "mobilenet_v2", "squeezenet1_1"]

# (name, input N x C x H x W, out channels, kernel, stride, groups): conv +
# bias + ReLU; ("linear", (batch, in), out).
LAYERS = [
    ("conv1 7x7/2", (1, 3, 224, 224), 64, 7, 2, 1),
    ("3x3 64", (1, 64, 56, 56), 64, 3, 1, 1),
    ("1x1 256->64", (1, 256, 56, 56), 64, 1, 1, 1),
    ("1x1/2 256->512", (1, 256, 56, 56), 512, 1, 2, 1),
    ("3x3/2 64->128 @56", (1, 64, 56, 56), 128, 3, 2, 1),
    ("3x3 128", (1, 128, 28, 28), 128, 3, 1, 1),
    ("3x3 256 @14", (1, 256, 14, 14), 256, 3, 1, 1),
    ("1x1 1024->256 @14", (1, 1024, 14, 14), 256, 1, 1, 1),
    ("3x3 512 @7", (1, 512, 7, 7), 512, 3, 1, 1),
    ("dw 3x3 144 @56", (1, 144, 56, 56), 144, 3, 1, 144),
    ("dw 3x3/2 144 @56", (1, 144, 56, 56), 144, 3, 2, 144),
    ("linear 2048->1000", (1, 2048), 1000, 0, 0, 0),
    ("linear b64 2048->1024", (64, 2048), 1024, 0, 0, 0),
]


def measure_fma_peak(workdir, flags):
    so = os.path.join(workdir, f"fma_peak{len(flags)}.so")
    sh([CC, "-O2", *flags, "-shared", "-fPIC",
        os.path.join(HERE, "fma_peak.c"), "-o", so])
    lib = ctypes.CDLL(so)
    lib.fma_peak.argtypes = [ctypes.c_int64]
    lib.fma_peak.restype = ctypes.c_float
    flops = lib.fma_peak_flops_per_iteration()
    import time
    iterations, best = 200_000, 0.0
    for _ in range(9):
        t0 = time.perf_counter()
        lib.fma_peak(iterations)
        best = max(best, flops * iterations / (time.perf_counter() - t0))
    return best / 1e9


def layer_module(spec):
    import torch
    name, shape, out, k, s, groups = spec
    torch.manual_seed(0)
    if k == 0:
        lin = torch.nn.Linear(shape[1], out)
        return torch.nn.Sequential(lin).eval(), 2 * shape[0] * shape[1] * out
    conv = torch.nn.Conv2d(shape[1], out, k, s, k // 2, groups=groups)
    n, c, h, w = shape
    oh, ow = (h + 2 * (k // 2) - k) // s + 1, (w + 2 * (k // 2) - k) // s + 1
    macs = n * out * oh * ow * (c // groups) * k * k
    return torch.nn.Sequential(conv, torch.nn.ReLU()).eval(), 2 * macs


def torch_f32(model, x):
    import torch
    with torch.no_grad():
        return torch.jit.optimize_for_inference(
            torch.jit.freeze(torch.jit.trace(model, x)))


def compare(tcs, timer, model, x, target, rounds, budget):
    """([min s of each toolchain in `tcs`], torch min s, relative error of
    the first) of `model` on x."""
    import torch
    from myquant import emit as E
    from myquant.export import export
    xt = torch.from_numpy(x)
    with torch.no_grad():
        ref = model(xt).numpy()
    text = E.emit(export(model, x))
    fns = [Compiled(tc.shared(text, target)[0], "forward", x, ref.shape,
                    np.float32) for tc in tcs]
    err = float(np.max(np.abs(fns[0]() - ref)) / np.max(np.abs(ref)))
    flt = torch_f32(model, xt)
    ours, theirs = [float("inf")] * len(fns), float("inf")
    with torch.no_grad():
        for _ in range(rounds):
            ours = [min(t, timer.fastest(fn, 20, budget))
                    for t, fn in zip(ours, fns)]
            theirs = min(theirs, python_fastest(lambda: flt(xt), 20, budget))
    return ours, theirs, err


def bench_layers(tc, timer, peak, args):
    rng = np.random.default_rng(0)
    rows = []
    for spec in LAYERS:
        if args.layers and spec[0] not in args.layers.split(","):
            continue
        model, flops = layer_module(spec)
        x = rng.standard_normal(spec[1]).astype(np.float32)
        (ours,), theirs, err = compare([tc], timer, model, x, args.target,
                                       args.rounds, args.budget)
        g = flops / ours / 1e9
        rows.append([spec[0], f"{g:7.1f}", f"{100 * g / peak:5.1f}%",
                     f"{flops / theirs / 1e9:7.1f}",
                     f"{ours / theirs:6.2f}x", f"{err:.1e}"])
    print_table(["layer (+bias+relu)", "myquant GFLOP/s", "% FMA peak",
                 "torch GFLOP/s", "myquant/torch time", "rel err"], rows)


def bench_models(tcs, timer, args):
    from zoo import images, zoo_model
    rows = []
    for name in args.models.split(","):
        model = zoo_model(name)
        x = images(args.batch, seed=2)
        ours, theirs, err = compare(tcs, timer, model, x, args.target,
                                    args.rounds, args.budget)
        row = [name, f"{ours[0] * 1e3:8.2f}", f"{theirs * 1e3:8.2f}",
               f"{ours[0] / theirs:6.2f}x", f"{err:.1e}"]
        if len(ours) > 1:
            row += [f"{ours[1] * 1e3:8.2f}", f"{ours[1] / theirs:6.2f}x",
                    f"{ours[0] / ours[1]:6.2f}x"]
        rows.append(row)
    header = [f"model 224x224 b{args.batch}", "myquant f32 ms",
              "torch f32 ms", "ratio", "rel err"]
    if len(tcs) > 1:
        header += ["baseline ms", "baseline ratio", "x baseline"]
    print_table(header, rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--target", default="avx512-vnni")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--budget", type=float, default=0.3,
                    help="seconds per sample set and round")
    ap.add_argument("--layers", default="",
                    help="comma-separated layer names (default: all)")
    ap.add_argument("--batch", type=int, default=1,
                    help="the models' batch size")
    ap.add_argument("--no-kernels", action="store_true")
    ap.add_argument("--no-models", action="store_true")
    ap.add_argument("--baseline", default="",
                    help="another build directory whose models are timed "
                         "in the same rounds (e.g. main's)")
    args = ap.parse_args()
    import torch
    torch.set_num_threads(1)
    tune_malloc()
    with tempfile.TemporaryDirectory() as workdir:
        tc = Toolchain(args.build, workdir)
        timer = Timer(workdir)
        peak = measure_fma_peak(workdir, ["-mavx512f", "-mfma"])
        peak256 = measure_fma_peak(workdir, ["-mavx2", "-mfma"])
        print(f"f32 FMA peak: zmm {peak:.1f} GFLOP/s, ymm {peak256:.1f} "
              f"GFLOP/s (one thread, best of 9); load average "
              f"{os.getloadavg()[0]:.1f}; target {args.target}\n")
        if not args.no_kernels:
            bench_layers(tc, timer, peak, args)
            print()
        if not args.no_models:
            tcs = [tc]
            if args.baseline:
                # A directory of its own: the libraries' paths must differ
                # (dlopen returns a library already loaded from a path).
                os.mkdir(os.path.join(workdir, "baseline"))
                tcs.append(Toolchain(args.baseline,
                                     os.path.join(workdir, "baseline")))
            bench_models(tcs, timer, args)


if __name__ == "__main__":
    main()
