"""Accuracy and error of a quantized model against its float model.

* :func:`sqnr_db`, :func:`accuracy`, :func:`argmax_agreement`,
  :func:`compare`: model-level metrics on logits.
* :func:`layer_report`: per-layer SQNR of the int8 model's dequantized
  values against the float model's, naming the layer that loses most.

Per layer, "SQNR" is the accumulated error of the value (everything before
it included). "layer" is the error the layer itself adds: with noise to
signal ratios NSR = 10^(-SQNR/10), the layer adds NSR_out - NSR_in (NSR_in:
the worst input), reported as -10 log10(NSR_out - NSR_in) dB, i.e. the SQNR
the value would have if only this layer were quantized (errors assumed
uncorrelated; "-" when the layer adds none, e.g. max pooling). The layer
that loses most is the one with the lowest "layer" SQNR.

The per-layer values come from compiled code: a variant of the int8 model
that also returns every integer value (each dequantized) and the float model
compiled with the same outputs. Values whose extra use would change the
quantization policy (a pre-activation value fused into its ReLU, a concat
operand that adopts the concat's parameters, a flatten) are not returned; a
fused conv/linear/add + ReLU is one row named after both. The variant's final
output is checked against the deployed model's (``matches_deployed``).
"""

import numpy as np

from . import emit as E
from . import qparams as Q

__all__ = ["sqnr_db", "accuracy", "argmax_agreement", "compare",
           "layer_report", "LayerReport", "format_table"]


def _np(x):
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def sqnr_db(reference, test):
    """10 log10(sum ref^2 / sum (ref - test)^2) in dB (inf when equal)."""
    r = _np(reference).astype(np.float64)
    e = _np(test).astype(np.float64) - r
    num, den = float(np.sum(r * r)), float(np.sum(e * e))
    if den == 0.0:
        return float("inf")
    if num == 0.0:
        return float("-inf")
    return 10.0 * np.log10(num / den)


def accuracy(logits, labels):
    """Fraction of rows whose argmax is the label."""
    return float(np.mean(np.argmax(_np(logits), axis=1) == _np(labels)))


def argmax_agreement(a, b):
    """Fraction of rows where the two logits agree on the argmax."""
    return float(np.mean(np.argmax(_np(a), axis=1) ==
                         np.argmax(_np(b), axis=1)))


def compare(float_logits, int8_logits, labels=None):
    """dict: float/int8 accuracy (with labels), argmax agreement, logit
    SQNR (dB) and max |difference|."""
    out = {"argmax_agreement": argmax_agreement(float_logits, int8_logits),
           "sqnr_db": sqnr_db(float_logits, int8_logits),
           "max_abs_diff": float(np.max(np.abs(
               _np(float_logits).astype(np.float64) -
               _np(int8_logits))))}
    if labels is not None:
        out["float_accuracy"] = accuracy(float_logits, labels)
        out["int8_accuracy"] = accuracy(int8_logits, labels)
    return out


def format_table(header, rows, align=None):
    """A plain-text table (list of rows of strings)."""
    cols = [header] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cols) for i in range(len(header))]
    align = align or ["<"] + [">"] * (len(header) - 1)
    fmt = "  ".join(f"{{:{a}{w}}}" for a, w in zip(align, widths))
    lines = [fmt.format(*header), "  ".join("-" * w for w in widths)]
    lines += [fmt.format(*r) for r in cols[1:]]
    return "\n".join(lines)


class LayerReport:
    """rows: list of dicts (name, loc (of the layer, or of the producer a
    ReLU is fused into), op, shape, precision (w4a8, w8a16, a8...),
    bits (of the value: 8 or 16), scale, zero_point, sqnr_db, input_sqnr_db,
    layer_sqnr_db, own_sqnr_db (the layer's float op on the int8 model's
    own inputs against its output: its added error, measured directly),
    inputs); worst: the row with the lowest
    layer_sqnr_db (the layer that adds most error)."""

    def __init__(self, rows, matches_deployed, mismatch_reason=None):
        self.rows = rows
        self.matches_deployed = matches_deployed
        # Why the variant may differ, when known.
        self.mismatch_reason = mismatch_reason
        own = [r for r in rows if r["layer_sqnr_db"] is not None and
               np.isfinite(r["layer_sqnr_db"])]
        self.worst = min(own, key=lambda r: r["layer_sqnr_db"]) if own \
            else None

    def format(self):
        def f(v):
            if v is None:
                return "-"
            if not np.isfinite(v):
                return "inf" if v > 0 else "-inf"
            return f"{v:.1f}"
        rows = [[r["name"], r["op"], "x".join(map(str, r["shape"][1:])),
                 r.get("precision", "-"), f"{r['scale']:.4g}",
                 str(r["zero_point"]), f(r["sqnr_db"]),
                 f(r["layer_sqnr_db"])] for r in self.rows]
        text = format_table(["layer", "op", "shape", "precision", "scale",
                             "zp", "SQNR dB", "layer dB"], rows)
        if self.worst is not None:
            w = self.worst
            if w["input_sqnr_db"] is None:
                text += (f"\nloses most: {w['name']} (quantizing the model "
                         f"input): {f(w['sqnr_db'])} dB")
            else:
                text += (f"\nloses most: {w['name']} ({w['op']}): its own "
                         f"error "
                         f"alone gives {f(w['layer_sqnr_db'])} dB (SQNR "
                         f"{f(w['input_sqnr_db'])} dB at its input, "
                         f"{f(w['sqnr_db'])} dB at its output)")
        if not self.matches_deployed:
            text += ("\nnote: the per-layer variant's output differs from "
                     "the deployed model's")
            if self.mismatch_reason:
                text += f": {self.mismatch_reason}"
        return text

    def __str__(self):
        return self.format()


def _kind(layer):
    if isinstance(layer, E.Activation):
        return layer.kind  # sigmoid, hardswish, ...
    return type(layer).__name__.replace("Relu6", "ReLU6").replace(
        "Relu", "ReLU")


def _precision(layer, options, bits, input_bits=8):
    """w4a8 (g32 with 4-bit groups of 32), w8a16, ... for a layer with
    constant weights, a8 / a16 / a32 for the rest: the weights' bits
    (qparams.weight_precision of the model's myquant-ptq options) and the
    bits of the layer's output value; "dyn" for a dynamic Linear (its int8
    input scale computed at run time from a wide input, spec 8)."""
    if input_bits == 32 and isinstance(layer, (E.Linear, E.MatMul)):
        return "dyn"
    weight_bits, group = Q.weight_precision(
        layer, options.get("weight_bits", 8), options.get("group_size", 0),
        options.get("layer_precision"))
    if weight_bits is None:
        return f"a{bits}"
    return f"w{weight_bits}a{bits}" + (f" g{group}" if group else "")


def _report_values(graph, stats, activation_bits=8, layer_precision=(),
                   dynamic=False, norm_input_bits=8, softmax_input_bits=8,
                   int16_range_headroom=Q.INT16_RANGE_HEADROOM):
    """The rows' values: (name, label, op, inputs, qparams, producer), the
    parameters, the adopted concat operands and each value's bits."""
    fused, owner, qp, bits = Q.plan_precision(graph, stats, activation_bits,
                                              layer_precision, dynamic,
                                              norm_input_bits,
                                              softmax_input_bits,
                                              int16_range_headroom)
    adopted = set(Q.concat_adoptions(graph, owner))
    vals = []
    for layer in graph.layers:
        name = layer.name
        if name in fused or isinstance(layer, E.Flatten) and \
                name != graph.output or name in adopted:
            continue
        if name in owner:
            prod = owner[name]
            label = f"{prod.loc}+{layer.loc}" if prod.loc != layer.loc \
                else prod.loc
            op = f"{_kind(prod)}+{_kind(layer)}"
            inputs = prod.inputs
        else:
            label, op, inputs = layer.loc, _kind(layer), layer.inputs
            prod = layer
        vals.append((name, label, op, inputs, qp[name], prod))
    return vals, qp, adopted, bits


def _nsr(db):
    return 10.0 ** (-db / 10.0) if np.isfinite(db) else \
        (0.0 if db > 0 else float("inf"))


def _added_db(in_db, out_db):
    """SQNR (dB) of the noise a layer adds: -10 log10(NSR_out - NSR_in);
    None when it adds none."""
    added = _nsr(out_db) - _nsr(in_db)
    if not np.isfinite(added):
        return float("-inf")
    if added <= 0.0:
        return None
    return -10.0 * np.log10(added)


def _own_sqnr(graph, values):
    """own(name, producer): the SQNR of the int8 model's value `name`
    against its layers (producer, and the ReLU fused into it) run in float
    on the int8 model's own dequantized inputs: the error the layer adds,
    whatever its input's error does downstream. values: the dequantized
    values (the model input included); one a row does not return (a
    flatten) is its layer in float on those."""
    values = dict(values)

    def value(name):
        if name not in values:
            p = graph.producer(name)
            values[name] = E._layer_float(p, [value(i) for i in p.inputs],
                                          graph.shapes[name])
        return values[name]

    def own(name, producer):
        # The layer of `graph` itself: its weights before any rounding.
        producer = graph.producer(producer.name)
        y = E._layer_float(producer, [value(i) for i in producer.inputs],
                           graph.shapes[producer.name])
        last = graph.producer(name)
        if last is not producer:
            y = E._layer_float(last, [y], graph.shapes[name])
        return sqnr_db(y, values[name])
    return own


def layer_report(qmodel, x):
    """Per-layer SQNR of qmodel (a QuantizedModel) on inputs x (float
    [N, ...]) against the float model; returns a LayerReport."""
    graph, stats = qmodel.graph, qmodel.stats
    x = np.ascontiguousarray(_np(x), np.float32)
    options = getattr(qmodel, "ptq_options", {})
    vals, qp, adopted, bits = _report_values(
        graph, stats, options.get("activation_bits", 8),
        options.get("layer_precision", ()), options.get("dynamic", False),
        options.get("norm_input_bits", 8),
        options.get("softmax_input_bits", 8),
        options.get("int16_range_headroom", Q.INT16_RANGE_HEADROOM))
    names = [v[0] for v in vals]
    if graph.output not in names:
        names.append(graph.output)
    # The model output first, then the rest in graph order.
    names = [graph.output] + [n for n in names if n != graph.output]
    q = qmodel.values(x, names, quantized=True)
    f = qmodel.values(x, names, quantized=False)
    deployed = qmodel(x)
    matches = bool(np.array_equal(deployed, q[graph.output]))

    # The model input: quantized with its parameters, as the model does.
    sx, zx = qp["x"]
    storage = {16: (-32767, 32767), 32: (-Q.WIDE_QMAX, Q.WIDE_QMAX)}
    xq = Q.fake_quantize(x, sx, zx, *storage.get(bits["x"], (-128, 127)))
    sq = {"x": sqnr_db(x, xq)}
    rows = [{"name": "x", "loc": None, "op": "input", "shape": x.shape,
             "precision": f"a{bits['x']}", "bits": bits["x"], "scale": sx,
             "zero_point": zx, "sqnr_db": sq["x"], "input_sqnr_db": None,
             "layer_sqnr_db": sq["x"], "own_sqnr_db": sq["x"],
             "inputs": []}]
    # Values not reported (fused pre-activations, flattens, adopted concat
    # operands) inherit the SQNR of their input for the loss computation.
    for layer in graph.layers:
        if layer.name in q:
            sq[layer.name] = sqnr_db(f[layer.name], q[layer.name])
    for layer in graph.layers:
        if layer.name not in sq:
            sq[layer.name] = min(sq.get(i, float("inf"))
                                 for i in layer.inputs)
    # Against the weights before weight_rounding="gptq" rounded them.
    own = _own_sqnr(getattr(qmodel, "float_graph", graph).with_batch(len(x)),
                    dict(q, x=xq))
    for name, label, op, inputs, (s, z), prod in vals:
        in_sq = min(sq[i] for i in inputs)
        out_sq = sq[name]
        rows.append({"name": label, "loc": prod.loc, "op": op,
                     "shape": q[name].shape, "own_sqnr_db": own(name, prod),
                     "precision": _precision(prod, options, bits[name],
                                             bits.get(prod.inputs[0], 8)),
                     "bits": bits[name], "scale": s, "zero_point": z,
                     "sqnr_db": out_sq,
                     "input_sqnr_db": in_sq,
                     "layer_sqnr_db": _added_db(in_sq, out_sq),
                     "inputs": list(inputs)})
    # The variant returns every value, and a LayerNorm input that the
    # function returns keeps per-tensor scales (docs/NumericSpec.md 6.6).
    reason = None
    if options.get("norm_input_scales") == "per-channel":
        reason = ("it returns the LayerNorm inputs, which then keep "
                  "per-tensor scales; the deployed model's are per channel")
    return LayerReport(rows, matches, reason)
