#!/usr/bin/env python3
"""Automatic mixed precision on the Fashion-MNIST example models (issue 18's
mixed-precision target): float, all-w8a8, all-w4a8, all-w8a16 and the
automatic assignment side by side.

    MYQUANT_BUILD_DIR=build /usr/bin/python3 benchmarks/auto_precision.py
    ... --model mobilenet-v3 --max-accuracy-drop 0.25 --select 5000
    ... --model cnn --outlier-scale 50   # int8 loses points

The cached 2-epoch weights of examples/fashion_mnist.py (trained there when
missing), 1000 calibration images (minmax). The choice
(myquant.auto_precision with max_accuracy_drop) is made on the first
--select test images; the accuracies printed are on the other test images,
which the choice did not see. Prints the chooser's table (each layer's
own SQNR per candidate mode, the chosen mode and its bytes) and the
held-out accuracy and bytes of each assignment.
"""

import argparse
import os
import sys
import tempfile

import omp_env  # noqa: E402,F401  (before numpy and torch)

import torch  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.join(ROOT, "examples"))

import fashion_mnist as FM  # noqa: E402
import myquant  # noqa: E402
from myquant import evaluate as V  # noqa: E402
from myquant import precision as P  # noqa: E402
from myquant.api import QuantizedModel  # noqa: E402


def add_outlier_channels(model, scale, channels=(0, 1)):
    """The SmallCNN with outlier channels, the same float function: bn1's
    affine multiplies conv1's `channels` by `scale` and conv2's weights
    reading them are divided by it (ReLU and max pooling commute with a
    positive scale). The one scale of conv1's output then spends most of
    its 8 bits on those channels, as LLM activations' outlier features
    do."""
    with torch.no_grad():
        for c in channels:
            model.bn1.weight[c] *= scale
            model.bn1.bias[c] *= scale
            model.conv2.weight[:, c] /= scale
    return model


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="cnn", choices=sorted(FM.MODELS))
    p.add_argument("--max-accuracy-drop", type=float, default=0.5)
    p.add_argument("--select", type=int, default=2000,
                   help="test images the choice is made on (the rest "
                        "measure it)")
    p.add_argument("--group-size", type=int, default=0)
    p.add_argument("--outlier-scale", type=float, default=None,
                   metavar="S", help="SmallCNN only: two outlier channels "
                   "S times larger (add_outlier_channels)")
    p.add_argument("--cache-dir", default=os.environ.get(
        "MYQUANT_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache",
                                          "myquant")))
    args = p.parse_args(argv)
    name, xtr, ytr, xte, yte, size = FM.load_data()
    model = FM.trained_model(name, xtr, ytr, size, 2, 2, args.cache_dir,
                             False, args.model)
    if args.outlier_scale is not None:
        if args.model != "cnn":
            raise SystemExit("error: --outlier-scale is for --model cnn")
        add_outlier_channels(model, args.outlier_scale)
    calib = FM.calibration_images(xtr, 1000)
    xs, ys = xte[:args.select], yte[:args.select]
    xh, yh = xte[args.select:], yte[args.select:]
    torch.set_num_threads(1)
    with torch.no_grad():
        ref = FM.run_batched(model, xh)
    with tempfile.TemporaryDirectory(prefix="myquant-auto-bench-") as cache:
        auto = myquant.auto_precision(
            model, calib, max_accuracy_drop=args.max_accuracy_drop, x=xs,
            labels=ys, group_size=args.group_size, cache_dir=cache)
        choice = auto.auto_precision
        print(f"{args.model}: choice made on {len(xs)} test images")
        print(choice.format())
        layers = P.weighted_layers(auto.graph)
        rows = [["float (PyTorch)", f"{100 * V.accuracy(ref, yh):.2f}",
                 "-", f"{auto.parameter_bytes()[0]:,}", "-"]]
        int8_bytes = None
        for label, lp, group in [
                ("all w8a8", {}, 0),
                ("all w4a8", {l: "w4a8" for l in layers}, args.group_size),
                ("all w8a16", {l: "w8a16" for l in layers}, 0),
                ("auto", choice.assignment,
                 args.group_size if "w4a8" in choice.assignment.values()
                 else 0)]:
            qm = auto if label == "auto" else QuantizedModel(
                auto.graph, auto.stats, cache_dir=cache, group_size=group,
                layer_precision=lp)
            q = qm(xh)
            qbytes = qm.parameter_bytes()[1]
            int8_bytes = int8_bytes or qbytes
            rows.append([label, f"{100 * V.accuracy(q, yh):.2f}",
                         f"{V.sqnr_db(ref, q):.1f}", f"{qbytes:,}",
                         f"{qbytes / int8_bytes:.3f}"])
        print(f"\nheld-out: {len(xh)} test images")
        print(V.format_table(["assignment", "accuracy %", "logit SQNR dB",
                              "weight bytes", "x int8"], rows))


if __name__ == "__main__":
    main()
