#!/usr/bin/env python3
"""Batch-1 latency of the ViTs (issue 17, item 4): myquant integer-only
next to PyTorch float and PyTorch's best int8 for them, dynamic
quantization of the Linears (FX PTQ cannot trace torchvision's
VisionTransformer), on one thread.

Models: examples/fashion_mnist.py's ViT (1 x 28 x 28; its cached weights
when there, else random ones: latency does not depend on the weights) and
torchvision vit_b_16 at 64 x 64 (benchmarks/zoo.py's, random weights).
myquant is quantized with 16-bit LayerNorm inputs (norm_input_bits=16),
integer-only (allow_float=False), and called through its C entry point
(timer.c); PyTorch float is jit.trace + freeze, dynamic int8 eager (it
does not trace).

The machine may be shared: the three are timed in turn, round after round
(--rounds), each for --budget seconds per round, and each figure is the
minimum over all rounds; the ratios compare minima of the same rounds.

    /usr/bin/python3 benchmarks/vit_latency.py [--build build]
        [--models fashion_vit,vit_b_16] [--rounds 5] [--budget 0.5]
"""

import argparse
import copy
import os
import sys
import tempfile

import omp_env  # noqa: E402,F401  (before numpy and torch)

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "python"))
sys.path.insert(0, os.path.join(REPO, "examples"))
sys.path.insert(0, HERE)

MODELS = ["fashion_vit", "vit_b_16"]


def fashion_vit(cache_dir):
    """The example's ViT and (calibration, test) images of its input
    shape: Fashion-MNIST when packaged, else random."""
    import torch
    import fashion_mnist as FM
    name, xtr, ytr, xte, _, size = FM.load_data(False)
    path = FM.cache_path(cache_dir, name, 1, "vit")
    model = FM.vit_tiny(size)
    if os.path.exists(path):
        model.load_state_dict(torch.load(path))
    return model.eval(), FM.calibration_images(xtr, 64), xte[:1]


def vit_b_16():
    import zoo
    return (zoo.zoo_model("vit_b_16"), zoo.images(8, size=64, seed=1),
            zoo.images(1, size=64, seed=2))


def measure(name, model, calib, x, args, timer, workdir):
    import torch
    import myquant
    from bench import Compiled, python_time
    qm = myquant.quantize(model, calib, max_batch=1, norm_input_bits=16,
                          allow_float=False,
                          cache_dir=os.path.join(workdir, name))
    so = os.path.join(qm._build(1, None, True), "libmodel.so")
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    fn = Compiled(so, "forward", x, ref.shape, np.float32)
    tx = torch.from_numpy(x)
    with torch.no_grad():
        flt = torch.jit.freeze(torch.jit.trace(model, tx))
    torch.backends.quantized.engine = "onednn"
    dyn = torch.ao.quantization.quantize_dynamic(
        copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8)

    def run_torch(m):
        def call():
            with torch.no_grad():
                m(tx)
        return call
    best = {"float": [], "dynamic": [], "myquant": []}
    for _ in range(args.rounds):
        best["float"].append(python_time(run_torch(flt), args.budget)[0])
        best["dynamic"].append(python_time(run_torch(dyn), args.budget)[0])
        best["myquant"].append(fn.time(timer, args.budget)[0])
    qm.close()
    return {k: min(v) * 1e3 for k, v in best.items()}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", default=os.path.join(REPO, "build"))
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--budget", type=float, default=0.5,
                   help="seconds per figure and round")
    p.add_argument("--cache-dir", default=os.environ.get(
        "MYQUANT_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache",
                                          "myquant")),
        help="where examples/fashion_mnist.py cached its ViT's weights")
    args = p.parse_args()
    os.environ["MYQUANT_BUILD_DIR"] = os.path.abspath(args.build)
    names = [n for n in args.models.split(",") if n]
    unknown = sorted(set(names) - set(MODELS))
    if unknown:
        sys.exit(f"unknown models {unknown}; choose from {MODELS}")
    import torch
    torch.set_num_threads(1)
    print(f"batch 1, one thread, min of {args.rounds} interleaved rounds "
          f"(ms); myquant integer-only with 16-bit LayerNorm inputs\n")
    print("| model | PyTorch float | PyTorch dynamic int8 | myquant | "
          "float / myquant | dynamic / myquant |")
    print("|---|---|---|---|---|---|", flush=True)
    with tempfile.TemporaryDirectory(prefix="myquant-vit-") as workdir:
        from bench import Timer
        timer = Timer(workdir)
        for name in names:
            model, calib, x = fashion_vit(args.cache_dir) \
                if name == "fashion_vit" else vit_b_16()
            t = measure(name, model, calib, x, args, timer, workdir)
            print(f"| {name} | {t['float']:.3f} | {t['dynamic']:.3f} | "
                  f"{t['myquant']:.3f} | {t['float'] / t['myquant']:.1f} | "
                  f"{t['dynamic'] / t['myquant']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
