#!/usr/bin/env python3
"""16-bit activations with int8 weights (docs/NumericSpec.md 6) against
int8, layer by layer, on the example models (examples/fashion_mnist.py:
the SmallCNN, MobileNetV3-tiny, EfficientNet-tiny, trained weights from its
cache).

For each model: quantizes it from the same calibration images to int8 and
with activation_bits=16 at each --headroom (int16_range_headroom, the
factor by which a 16-bit value's scale widens its calibrated range, spec
6.1: 1 is the calibrated range itself), prints the per-layer report of
int8 and the default headroom's 16x8 model side by side
(myquant.evaluate.layer_report: "layer dB" is the SQNR the value would have
if only that layer were quantized), and per headroom the worst int8
layer's own SQNR in 16x8, the worst 16x8 layer, the test accuracy and the
logit SQNR.

Then the decomposition of each layer's error (simulated: the float model
with fake-quantized values, `simulate`): its layer dB with int8 weights
and float activations (the weights' share), with float weights and 16-bit
activations everywhere (the activations' share, 8-bit-only ops ignored),
with both (and without headroom, each calibrated range as it is: what
clipping costs), and with the 16x8 mode's own policy (values next to 8-bit-only ops stay
8-bit, docs/NumericSpec.md 6.5) with float and int8 weights; the int8
column checks the simulation against the compiled model's report. The
"gptq" columns round the int8 weights by GPTQ instead of to nearest
(myquant.gptq: same scales and range, the integers chosen for a small
output error, H from the float model's inputs on the calibration images).

    /usr/bin/python3 benchmarks/int16_layers.py [--model cnn ...]
        [--test 256] [--calibration-samples 1000] [--headroom 1 ...]
"""

import argparse
import os
import sys

import omp_env  # noqa: E402,F401  (before numpy and torch)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.join(ROOT, "examples"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import fashion_mnist as FM  # noqa: E402
import myquant  # noqa: E402
from myquant import emit as E  # noqa: E402
from myquant import evaluate as V  # noqa: E402
from myquant import gptq as G  # noqa: E402
from myquant import qparams as Q  # noqa: E402
from myquant.api import QuantizedModel  # noqa: E402
from myquant.testing import reference as R  # noqa: E402

# The per-output-channel axis of each weight layer's w (spec 1.2).
WEIGHT_AXIS = {E.Conv2d: 0, E.Linear: 0, E.MatMul: 1}


def _db(v):
    if v is None:
        return "-"
    return f"{v:.1f}" if np.isfinite(v) else ("inf" if v > 0 else "-inf")


def _int8_weights(layer, gptq=None):
    """`layer` with its weights replaced by their int8 per-channel
    quantization, dequantized (the bias stays float: its int32 grid is
    2^-24 of the weights' and adds nothing measurable): rounded to nearest,
    or the (q, scales) of `gptq` (layer name -> myquant.gptq's integers)
    where it has the layer."""
    axis = next((a for t, a in WEIGHT_AXIS.items() if isinstance(layer, t)),
                None)
    if axis is None or getattr(layer, "w", None) is None:
        return layer
    q, scales = (gptq or {}).get(layer.name) or \
        R.quantize_weights(layer.w, axis)
    shape = [1] * layer.w.ndim
    shape[axis] = -1
    copy = object.__new__(type(layer))
    copy.__dict__.update(layer.__dict__)
    copy.w = (q.astype(np.float64) * scales.reshape(shape)).astype(
        np.float32)
    return copy


def simulate(graph, x, qp, bits, int8_weights, gptq=None):
    """Every value of `graph` on x, each quantized value (qp: name ->
    (scale, zero point); bits: its width; qp None: none) fake-quantized
    after its layer runs in float, with int8 weights (rounded to nearest,
    or GPTQ's where `gptq` has them) or float ones."""
    ranges = {8: (-128, 127), 16: (-32767, 32767)}
    vals = {"x": x}
    if qp is not None:
        vals["x"] = Q.fake_quantize(x, *qp["x"], *ranges[bits["x"]])
    for layer in graph.layers:
        run = _int8_weights(layer, gptq) if int8_weights else layer
        y = np.asarray(E._layer_float(run, [vals[i] for i in layer.inputs],
                                      graph.shapes[layer.name]), np.float32)
        if qp is not None and layer.name in qp:
            y = Q.fake_quantize(y, *qp[layer.name],
                                *ranges[bits[layer.name]])
        vals[layer.name] = y
    return vals


def all_16bit_qparams(graph, stats, qp8, headroom):
    """Every value 16-bit, 8-bit-only ops or not: the policy's 16-bit
    parameters, and for the values it keeps 8-bit, 16-bit ones over the
    range of their 8-bit parameters (which same-scale ops may have adopted
    from a neighbour: the calibrated range of the value itself could clip
    test inputs that the planned range holds), each range widened by
    `headroom` (spec 6.1)."""
    _, _, qp_policy, bits_policy = Q.plan_precision(
        graph, stats, 16, int16_range_headroom=headroom)
    return {n: qp_policy[n] if bits_policy[n] == 16 else
            Q.choose_int16_qparams(scale * (-128 - zp), scale * (127 - zp),
                                   headroom)
            for n, (scale, zp) in qp8.items()}


def decompose(q8, test, calib):
    """(rows, worst) of the decomposition table: per reported value of the
    int8 model, its layer dB in each simulated configuration ("gptq": the
    int8 weights rounded by myquant.gptq with H from the float model's
    inputs on the calibration images `calib`, same scales)."""
    graph, stats = q8.graph.with_batch(len(test)), q8.stats
    vals, qp8, _, bits8 = V._report_values(graph, stats)
    _, _, qp_policy, bits_policy = Q.plan_precision(graph, stats, 16)
    qp16 = all_16bit_qparams(graph, stats, qp8, Q.INT16_RANGE_HEADROOM)
    # The same over each calibrated range as it is: what clipping test
    # values beyond it costs.
    qp16_narrow = all_16bit_qparams(graph, stats, qp8, 1.0)
    bits16 = dict.fromkeys(qp8, 16)
    flt = E.float_forward(graph, test)
    h = G.hessians(q8.graph, [calib])
    gptq = {layer.name: G.gptq_integers(layer, h[layer.name])
            for layer in q8.graph.layers if layer.name in h}
    configs = [("int8 (sim)", qp8, bits8, True, None),
               ("a-float w8", None, None, True, None),
               ("a-float w8 gptq", None, None, True, gptq),
               ("a16 w-float", qp16, bits16, False, None),
               ("a16 w8", qp16, bits16, True, None),
               ("a16 x1 w8", qp16_narrow, bits16, True, None),
               ("16x8 policy w-float", qp_policy, bits_policy, False, None),
               ("16x8 policy w8", qp_policy, bits_policy, True, None),
               ("16x8 policy w8 gptq", qp_policy, bits_policy, True, gptq)]
    layer_db = []
    for _, qp, bits, w8, rounded in configs:
        sim = simulate(graph, test, qp, bits, w8, rounded)
        sq = {n: V.sqnr_db(flt[n], sim[n]) for n in sim}
        layer_db.append({name: V._added_db(min(sq[i] for i in inputs),
                                           sq[name])
                         for name, _, _, inputs, _, _ in vals})
    rows, worst = [], [float("inf")] * len(configs)
    for name, label, op, _, _, _ in vals:
        dbs = [d[name] for d in layer_db]
        rows.append([label, op, f"a{bits_policy[name]}"] +
                    [_db(v) for v in dbs])
        worst = [min(w, v) if v is not None else w
                 for w, v in zip(worst, dbs)]
    return [c[0] for c in configs], rows, worst


def weight_rounding_rows(model, calib, ref, xte, yte, test, worst8):
    """Rows of the compiled int8 and 16x8 models (default headroom) with
    int8 weights rounded to nearest and by GPTQ (quantize's
    weight_rounding): the int8 model's worst layer `worst8`, the worst
    layer, accuracy and logit SQNR against the float model."""
    rows = []
    for rounding in G.ROUNDINGS:
        with myquant.quantize(model, calib, weight_rounding=rounding) as q8, \
                QuantizedModel(q8.graph, q8.stats, activation_bits=16,
                               float_graph=q8.float_graph) as q16:
            results = [(bits, V.compare(ref, q(xte), yte),
                        V.layer_report(q, test))
                       for bits, q in ((8, q8), (16, q16))]
        for bits, m, r in results:
            at = next(x for x in r.rows if x["name"] == worst8)
            rows.append([rounding, "int8" if bits == 8 else "16x8",
                         _db(at["layer_sqnr_db"]),
                         f"{r.worst['name']} {_db(r.worst['layer_sqnr_db'])}",
                         f"{100 * m['int8_accuracy']:.2f}%",
                         f"{m['sqnr_db']:.1f}"])
    return rows


def compare(arch, data, args):
    name, xtr, ytr, xte, yte, size = data
    model = FM.trained_model(name, xtr, ytr, size, args.epochs, 2,
                             args.cache_dir, arch=arch)
    calib = FM.calibration_images(xtr, args.calibration_samples)
    test = np.ascontiguousarray(xte[:args.test])
    torch.set_num_threads(1)
    ref = FM.run_batched(model, xte)
    q8 = myquant.quantize(model, calib)
    m8, r8 = V.compare(ref, q8(xte), yte), V.layer_report(q8, test)
    # The 16x8 models from the same statistics, one per headroom.
    runs = {}
    for h in args.headroom:
        with QuantizedModel(q8.graph, q8.stats, activation_bits=16,
                            int16_range_headroom=h) as q16:
            runs[h] = (V.compare(ref, q16(xte), yte),
                       V.layer_report(q16, test))
    shown = Q.INT16_RANGE_HEADROOM if Q.INT16_RANGE_HEADROOM in runs else \
        args.headroom[-1]
    m16, r16 = runs[shown]
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
          f"{len(test)} test images; 16x8 with headroom {shown:g})")
    print(V.format_table(["layer", "op", "16x8 bits", "int8 layer dB",
                          "16x8 layer dB", "gain dB", "int8 SQNR",
                          "16x8 SQNR"], rows))
    w = r8.worst
    print(f"worst int8 layer: {w['name']} ({w['op']}): "
          f"{_db(w['layer_sqnr_db'])} dB in int8; accuracy: float "
          f"{100 * m8['float_accuracy']:.2f}%, int8 "
          f"{100 * m8['int8_accuracy']:.2f}%; logit SQNR int8 "
          f"{m8['sqnr_db']:.1f} dB")
    rows = []
    for h, (m, r) in runs.items():
        w16 = next(x for x in r.rows if x["name"] == w["name"])
        rows.append([f"{h:g}", _db(w16["layer_sqnr_db"]),
                     _db(w16["layer_sqnr_db"] - w["layer_sqnr_db"]),
                     f"{r.worst['name']} {_db(r.worst['layer_sqnr_db'])}",
                     f"{100 * m['int8_accuracy']:.2f}%",
                     f"{m['sqnr_db']:.1f}"])
        if not (r8.matches_deployed and r.matches_deployed):
            print(f"note: a per-layer variant differs from its deployed "
                  f"model (headroom {h:g})")
    print(V.format_table(["16x8 headroom", "worst int8 layer dB", "gain dB",
                          "worst 16x8 layer dB", "16x8 accuracy",
                          "16x8 logit SQNR"], rows))
    print(f"\nweight rounding (compiled; the report's reference is the "
          f"unrounded float model; 16x8 with headroom "
          f"{Q.INT16_RANGE_HEADROOM:g})")
    print(V.format_table(["weights", "bits", "worst int8 layer dB",
                          "worst layer dB", "accuracy", "logit SQNR"],
                         weight_rounding_rows(model, calib, ref, xte, yte,
                                              test, w["name"])))
    names, rows, worst = decompose(q8, test, calib)
    print(f"\nlayer dB by error source (simulated, {len(test)} test "
          f"images; '16x8 policy' bits shown)")
    print(V.format_table(["layer", "op", "bits"] + names, rows))
    print("worst layer: " + ", ".join(
        f"{n} {_db(w)}" for n, w in zip(names, worst)))
    print(f"target (worst int8 layer + 20 dB, compiled): "
          f"{_db(w['layer_sqnr_db'] + 20)} dB")
    q8.close()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", action="append", choices=sorted(FM.MODELS),
                   help="repeatable; default: all")
    p.add_argument("--test", type=int, default=256)
    p.add_argument("--calibration-samples", type=int, default=1000)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--headroom", type=float, action="append",
                   help="int16_range_headroom of a 16x8 model; repeatable "
                        "(default: 1, i.e. none, and the default "
                        f"{Q.INT16_RANGE_HEADROOM:g})")
    p.add_argument("--cache-dir", default=os.environ.get(
        "MYQUANT_CACHE_DIR", os.path.expanduser("~/.cache/myquant")))
    args = p.parse_args(argv)
    args.headroom = args.headroom or [1.0, Q.INT16_RANGE_HEADROOM]
    data = FM.load_data()
    for arch in args.model or sorted(FM.MODELS):
        compare(arch, data, args)


if __name__ == "__main__":
    main()
