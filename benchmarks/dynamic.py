#!/usr/bin/env python3
"""Dynamic quantization (docs/NumericSpec.md 8) against PyTorch's
torch.ao.quantization.quantize_dynamic on a Linear-only model: a
Fashion-MNIST MLP (784-256-256-10 with ReLU, trained with the example's
data and training loop, examples/fashion_mnist.py, weights cached like
its models), or with --model vit the example's ViT-tiny
(examples/fashion_mnist.py --model vit --epochs 1; its cached weights are
loaded, or it is trained and cached as the example does).

Prints the test accuracy of float PyTorch, quantize_dynamic (int8 weights,
activations quantized per batch in float), myquant static int8 and myquant
dynamic=True (integer only), run in batches of 64 and of 1 (the dynamic
scale is computed over the batch), and the latency of quantize_dynamic and of the
two myquant libraries at batch 1 and 64 on one thread: runs interleaved,
min of --repeats rounds (the machine is shared), with ratios.

    /usr/bin/python3 benchmarks/dynamic.py [--epochs 2] [--repeats 200]
    /usr/bin/python3 benchmarks/dynamic.py --model vit --epochs 1
"""

import argparse
import copy
import os
import sys
import time

import omp_env  # noqa: E402,F401  (before numpy and torch)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.join(ROOT, "examples"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

import fashion_mnist as FM  # noqa: E402
import myquant  # noqa: E402
from myquant.api import QuantizedModel  # noqa: E402


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(),
                         nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))


def trained_mlp(dataset, x, y, epochs, cache_dir):
    torch.manual_seed(0)
    model = mlp()
    path = FM.cache_path(cache_dir, dataset, epochs, "mlp")
    if os.path.exists(path):
        model.load_state_dict(torch.load(path))
        print(f"loaded cached weights from {path}")
    else:
        print(f"training the MLP for {epochs} epochs")
        FM.train(model, x, y, epochs)
        os.makedirs(cache_dir, exist_ok=True)
        torch.save(model.state_dict(), path)
    return model.eval()


def accuracy(fn, x, y, batch=256):
    out = np.concatenate([np.asarray(fn(x[i:i + batch]))
                          for i in range(0, len(x), batch)])
    return 100.0 * float((out.argmax(1) == y).mean())


def interleaved_min(fns, x, repeats):
    """min over `repeats` rounds of each fn(x), the fns run in turn."""
    for fn in fns:
        for _ in range(5):
            fn(x)
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            t = time.perf_counter()
            fn(x)
            best[i] = min(best[i], time.perf_counter() - t)
    return best


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", choices=["mlp", "vit"], default="mlp")
    p.add_argument("--epochs", type=int, default=None,
                   help="of the cached weights (default: 2 for the MLP, "
                        "1 for the ViT)")
    p.add_argument("--repeats", type=int, default=200)
    p.add_argument("--per-row", action="store_true",
                   help="also myquant dynamic with per-row runtime scales "
                        "(dynamic_granularity=\"per-row\", "
                        "docs/NumericSpec.md 8.2c)")
    p.add_argument("--calibration-samples", type=int, default=1000)
    p.add_argument("--cache-dir", default=os.environ.get(
        "MYQUANT_CACHE_DIR", os.path.expanduser("~/.cache/myquant")))
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    dataset, xtr, ytr, xte, yte, size = FM.load_data()
    if args.model == "vit":
        epochs = args.epochs or 1
        model = FM.trained_model(dataset, xtr, ytr, size, epochs, 1,
                                 args.cache_dir, arch="vit").eval()
        title = "ViT-tiny (2 layers, 64 channels)"
    else:
        epochs = args.epochs or 2
        model = trained_mlp(dataset, xtr, ytr, epochs, args.cache_dir)
        title = "MLP 784-256-256-10"
    calib = FM.calibration_images(xtr, args.calibration_samples)

    # The engines of this PyTorch build: onednn (x86) and qnnpack.
    torch.backends.quantized.engine = "onednn"
    tdyn = torch.ao.quantization.quantize_dynamic(
        copy.deepcopy(model), {nn.Linear}, dtype=torch.qint8)
    static = myquant.quantize(model, calib, max_batch=64)
    # The same calibration: dynamic=True calibrates as static does.
    dynamic = QuantizedModel(static.graph, static.stats, max_batch=64,
                             dynamic=True)
    per_row = QuantizedModel(static.graph, static.stats, max_batch=64,
                             dynamic=True, dynamic_granularity="per-row") \
        if args.per_row else None

    def torch_fn(m):
        def run(x):
            with torch.no_grad():
                return m(torch.from_numpy(x)).numpy()
        return run

    rows = [("float (PyTorch)", torch_fn(model)),
            ("quantize_dynamic (PyTorch, onednn)", torch_fn(tdyn)),
            ("myquant static int8", static),
            ("myquant dynamic (integer only)", dynamic)]
    if per_row is not None:
        rows.append(("myquant dynamic, per-row scales", per_row))
    # The dynamic scale is per tensor, i.e. over the whole batch: batch 1
    # gives each image its own scale; per row, each image (MLP) or token
    # (ViT) has its own at any batch.
    print(f"\n{dataset} test accuracy ({len(xte)} images), {title}, "
          f"at batch 64 and at batch 1")
    for name, fn in rows:
        print(f"  {name:34s} {accuracy(fn, xte, yte, 64):6.2f} %  "
              f"{accuracy(fn, xte, yte, 1):6.2f} %")

    print(f"\nlatency, 1 thread, min of {args.repeats} interleaved rounds")
    for batch in (1, 64):
        x = np.ascontiguousarray(xte[:batch])
        t = interleaved_min([fn for _, fn in rows[1:]], x, args.repeats)
        print(f"  batch {batch:2d}: quantize_dynamic {t[0] * 1e6:8.1f} us   "
              f"myquant static {t[1] * 1e6:8.1f} us   myquant dynamic "
              f"{t[2] * 1e6:8.1f} us   quantize_dynamic / myquant dynamic "
              f"{t[0] / t[2]:.2f}x" + (
                  f"   per-row {t[3] * 1e6:8.1f} us ({t[0] / t[3]:.2f}x)"
                  if per_row is not None else ""))
    for _, fn in rows[2:]:
        fn.close()


if __name__ == "__main__":
    main()
