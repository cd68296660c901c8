#!/usr/bin/env python3
"""16-bit activations with int8 weights (docs/NumericSpec.md 6) against
int8, layer by layer, on the example models (examples/fashion_mnist.py:
the SmallCNN, MobileNetV3-tiny, EfficientNet-tiny, trained weights from its
cache).

For each model: quantizes it twice from the same calibration images, int8
and with activation_bits=16, and prints the per-layer report of both side
by side (myquant.evaluate.layer_report: "layer dB" is the SQNR the value
would have if only that layer were quantized), the test accuracy and logit
SQNR of both, and the worst int8 layer's own SQNR in both models.

    /usr/bin/python3 benchmarks/int16_layers.py [--model cnn ...]
        [--test 256] [--calibration-samples 1000]
"""

import argparse
import os
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.join(ROOT, "examples"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import fashion_mnist as FM  # noqa: E402
import myquant  # noqa: E402
from myquant import evaluate as V  # noqa: E402


def _db(v):
    if v is None:
        return "-"
    return f"{v:.1f}" if np.isfinite(v) else ("inf" if v > 0 else "-inf")


def compare(arch, data, args):
    name, xtr, ytr, xte, yte, size = data
    model = FM.trained_model(name, xtr, ytr, size, args.epochs, 2,
                             args.cache_dir, arch=arch)
    calib = FM.calibration_images(xtr, args.calibration_samples)
    test = np.ascontiguousarray(xte[:args.test])
    torch.set_num_threads(1)
    ref = FM.run_batched(model, xte)
    q8 = myquant.quantize(model, calib)
    q16 = myquant.quantize(model, calib, activation_bits=16)
    m8, m16 = V.compare(ref, q8(xte), yte), V.compare(ref, q16(xte), yte)
    r8, r16 = V.layer_report(q8, test), V.layer_report(q16, test)
    by16 = {r["name"]: r for r in r16.rows}
    rows = []
    for r in r8.rows:
        s = by16.get(r["name"], {})
        delta = None
        if r["layer_sqnr_db"] is not None and \
                s.get("layer_sqnr_db") is not None:
            delta = s["layer_sqnr_db"] - r["layer_sqnr_db"]
        rows.append([r["name"], r["op"], f"w8a{s.get('bits', '?')}",
                     _db(r["layer_sqnr_db"]), _db(s.get("layer_sqnr_db")),
                     _db(delta), _db(r["sqnr_db"]), _db(s.get("sqnr_db"))])
    print(f"\n{FM.MODELS[arch][0]} on {name} (per-layer report on "
          f"{len(test)} test images)")
    print(V.format_table(["layer", "op", "16x8 bits", "int8 layer dB",
                          "16x8 layer dB", "gain dB", "int8 SQNR",
                          "16x8 SQNR"], rows))
    w = r8.worst
    w16 = by16[w["name"]]
    print(f"worst int8 layer: {w['name']} ({w['op']}): "
          f"{_db(w['layer_sqnr_db'])} dB in int8, "
          f"{_db(w16['layer_sqnr_db'])} dB in 16x8 "
          f"(gain {_db(w16['layer_sqnr_db'] - w['layer_sqnr_db'])} dB); "
          f"worst 16x8 layer: {r16.worst['name']} "
          f"{_db(r16.worst['layer_sqnr_db'])} dB")
    print(f"accuracy: float {100 * m8['float_accuracy']:.2f}%, int8 "
          f"{100 * m8['int8_accuracy']:.2f}%, 16x8 "
          f"{100 * m16['int8_accuracy']:.2f}%; logit SQNR int8 "
          f"{m8['sqnr_db']:.1f} dB, 16x8 {m16['sqnr_db']:.1f} dB")
    if not (r8.matches_deployed and r16.matches_deployed):
        print("note: a per-layer variant differs from its deployed model")
    q8.close()
    q16.close()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", action="append", choices=sorted(FM.MODELS),
                   help="repeatable; default: all")
    p.add_argument("--test", type=int, default=256)
    p.add_argument("--calibration-samples", type=int, default=1000)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--cache-dir", default=os.environ.get(
        "MYQUANT_CACHE_DIR", os.path.expanduser("~/.cache/myquant")))
    args = p.parse_args(argv)
    data = FM.load_data()
    for arch in args.model or sorted(FM.MODELS):
        compare(arch, data, args)


if __name__ == "__main__":
    main()
