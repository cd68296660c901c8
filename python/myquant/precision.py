"""Automatic mixed precision: the cheapest per-layer assignment of w4a8 /
w8a8 / w8a16 that meets a target (issue 18, item 3).

1. Sensitivity (:func:`search`): one build per candidate mode, every
   layer with constant weights (Conv2d, Linear, MatMul) in that mode, and
   the per-layer report of each (myquant.evaluate.layer_report): a layer's
   sensitivity to a mode is the report's own_sqnr_db in that build, the
   SQNR of its output against its float op on the int8 model's own
   inputs (its added error; the report's "layer dB", the accumulated
   noise's increase, is undefined where a layer averages its input's
   noise down, e.g. a depthwise convolution). A mode the dry run does not
   give a layer (a 16-bit request its 8-bit-only neighbours block) is not
   a candidate for it. Each build's logit SQNR (and accuracy with labels)
   is measured too: the all-w4a8, all-w8a8, all-w8a16 baselines.
2. Prediction: errors add as noise: the logits' noise-to-signal ratio of
   an assignment is k (sum of the layers' own NSR in their modes + the
   own NSR of the other values), k fitted to the builds' measured logit
   SQNR (geometric mean).
3. Chooser (:func:`upgrade_path`, :func:`choose`): from every layer at its
   cheapest mode, greedy upgrades by NSR removed per byte added, one layer
   at a time; the cheapest assignment on that path predicted to meet the
   target is built and measured; the search moves up the path while it
   misses, down while it meets (steps 1, 2, 4, ...), then bisects between
   the last miss and the first hit. With an SQNR target,
   single-layer downgrades the prediction (shifted to the chosen
   assignment's measurement) still allows are tried (:func:`trim`) and
   kept when their build meets the target too: the result is always a
   measured one.

Cost ("bytes"): the layer's weights at their bits (4-bit: half a byte
each plus a byte per group) and its 4-byte biases, plus its output value
per sample (1 byte an element, 2 with 16-bit activations), so that 16-bit
activations are not free. Targets: a logit SQNR in dB, an accuracy drop in
points against the float model on labelled data, a size budget in those
bytes, or a quality target within a size budget.
"""

import math
import tempfile

import numpy as np

from . import emit as E
from . import evaluate as V
from . import qparams as Q

__all__ = ["MODES", "InfeasibleTarget", "AutoPrecision", "weighted_layers",
           "layer_bytes", "upgrade_path", "choose", "trim", "search"]

# Cheapest first.
MODES = ("w4a8", "w8a8", "w8a16")


class InfeasibleTarget(ValueError):
    """No assignment meets the target; `best` is the best measured (or, for
    a size budget, the smallest) value."""

    def __init__(self, message, best=None):
        super().__init__(message)
        self.best = best


def weighted_layers(graph):
    """{loc: [layers]}: the layers with constant weights, the ones a mode
    applies to, by the name layer-precision gives them (several ops may
    share one, e.g. an attention's projections), in graph order."""
    units = {}
    for layer in graph.layers:
        if Q.weight_precision(layer)[0] is not None:
            units.setdefault(layer.loc, []).append(layer)
    return units


def layer_bytes(graph, layers, mode, group_size=0):
    """The cost of `layers` (one loc's) in `mode` (see the module's
    docstring)."""
    total = 0
    for layer in layers:
        bits, group = Q.weight_precision(layer, group_size=group_size,
                                         layer_precision={layer.loc: mode})
        out = int(np.prod(graph.shapes[layer.name][1:]))
        total += Q.weight_bytes(layer, bits, group) + out * (
            2 if mode.endswith("a16") else 1)
    return total


def _nsr(db):
    return 0.0 if db is None or db == math.inf else 10.0 ** (-db / 10.0)


def _db(nsr):
    return math.inf if nsr <= 0.0 else -10.0 * math.log10(nsr)


def upgrade_path(costs, nsr):
    """Greedy assignments, cheapest first. costs, nsr: {layer: {mode:
    value}} over the modes each layer may take. The first assignment puts
    each layer at its cheapest mode (the lower NSR on a tie); each next one
    moves the one layer whose move removes most NSR per byte added (a move
    that adds no bytes first). Stops when no move lowers the NSR."""
    state = {l: min(modes, key=lambda m: (modes[m], nsr[l][m]))
             for l, modes in costs.items()}
    path = [dict(state)]
    while True:
        best = None
        for l, cur in state.items():
            for m, cost in costs[l].items():
                gain = nsr[l][cur] - nsr[l][m]
                extra = cost - costs[l][cur]
                if gain <= 0.0:
                    continue
                ratio = gain / extra if extra > 0 else math.inf
                if best is None or ratio > best[0]:
                    best = (ratio, l, m)
        if best is None:
            return path
        state[best[1]] = best[2]
        path.append(dict(state))


def choose(path, cost, evaluate, meets=None, size_budget=None, start=0,
           describe=str, target="the target"):
    """The cheapest assignment of `path` (upgrade_path) that meets the
    target, verified. cost(assignment) -> bytes; evaluate(assignment) -> a
    dict of measurements (cached here: each assignment is measured once);
    meets(measurements) -> bool, None for a size budget alone (the last
    assignment within it); start: the first index predicted to meet.
    Returns (index, measurements of each measured index). Raises
    InfeasibleTarget naming the smallest size, or the target's words and
    the best measurement (describe(measurements) words it), when nothing
    qualifies."""
    n = len(path)
    if size_budget is not None:
        n = sum(1 for a in path if cost(a) <= size_budget)
        if n == 0:
            smallest = cost(path[0])
            raise InfeasibleTarget(
                f"size budget of {size_budget:,} bytes is below the "
                f"smallest assignment's {smallest:,} bytes", smallest)
    seen = {}

    def measured(i):
        if i not in seen:
            seen[i] = evaluate(path[i])
        return seen[i]

    if meets is None:
        measured(n - 1)
        return n - 1, seen
    # From the predicted start, steps of 1, 2, 4, ... up while the target
    # is missed (down while it is met), then bisect between the last miss
    # lo and the first hit hi.
    lo, hi, step = -1, min(start, n - 1), 1
    if meets(measured(hi)):
        while hi > 0:
            i = max(hi - step, 0)
            if not meets(measured(i)):
                lo = i
                break
            hi, step = i, 2 * step
    else:
        while not meets(measured(hi)):
            if hi == n - 1:
                within = "" if size_budget is None else \
                    f" within {size_budget:,} bytes"
                raise InfeasibleTarget(
                    f"no assignment{within} meets {target}: the best "
                    f"({cost(path[hi]):,} bytes) reaches "
                    f"{describe(seen[hi])}", seen[hi])
            lo, hi, step = hi, min(hi + step, n - 1), 2 * step
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if meets(measured(mid)):
            hi = mid
        else:
            lo = mid
    return hi, seen


def trim(assignment, costs, ok):
    """A cheaper assignment: repeatedly the one-layer downgrade (among
    costs' modes) that saves most bytes while ok(assignment) holds (the
    greedy path can overshoot: an upgrade that was the best per byte
    early may be worth less than its bytes once others are made)."""
    a = dict(assignment)
    while True:
        best = None
        for l, cur in a.items():
            for m, c in costs[l].items():
                saved = costs[l][cur] - c
                if saved > 0 and (best is None or saved > best[0]) and \
                        ok({**a, l: m}):
                    best = (saved, {**a, l: m})
        if best is None:
            return a
        a = best[1]


class AutoPrecision:
    """The result of :func:`search`: assignment ({layer: mode}, the modes
    not w8a8, as layer_precision takes it), the table rows, the measured
    baselines and choice, and the number of builds. str() is the table and
    its summary."""

    def __init__(self, assignment, rows, summary, builds):
        self.assignment = assignment
        self.rows = rows
        self.summary = summary
        self.builds = builds

    @property
    def layer_precision(self):
        """The assignment as layer-precision entries "name:mode"."""
        return [f"{l}:{m}" for l, m in self.assignment.items()]

    def format(self):
        def db(v):
            return "-" if v is None else "inf" if v == math.inf else \
                f"{v:.1f}"
        modes = [m for m in MODES if any(m in r["sensitivity"]
                                         for r in self.rows)]
        rows = [[r["name"], r["op"]] +
                [db(r["sensitivity"][m]) if m in r["sensitivity"] else "n/a"
                 for m in modes] + [r["chosen"], f"{r['bytes']:,}"]
                for r in self.rows]
        text = V.format_table(["layer", "op"] + [f"{m} dB" for m in modes] +
                              ["chosen", "bytes"], rows,
                              ["<", ">"] + [">"] * len(modes) + [">", ">"])
        s = self.summary
        accuracy = "accuracy" in s["auto"]
        named = [("float", s["float"])] + [(f"all {m}", s[m]) for m in MODES
                                           if m in s] + [("auto", s["auto"])]
        summary = V.format_table(
            ["assignment", "bytes", "weight bytes", "logit SQNR dB"] +
            (["accuracy %"] if accuracy else []),
            [[name, f"{v['bytes']:,}", f"{v['weight_bytes']:,}",
              db(v["sqnr_db"])] +
             ([f"{100 * v['accuracy']:.2f}"] if accuracy else [])
             for name, v in named])
        lines = ["each layer's own SQNR (dB) in each mode (n/a: the dry run "
                 "gives it another), the mode chosen and its bytes", text,
                 "", summary]
        lines.append(f"target: {s['target']}; predicted logit SQNR "
                     f"{db(s['predicted_db'])} dB; {self.builds} builds "
                     f"({s['measure_builds']} to measure the sensitivities, "
                     f"{s['verify_builds']} to verify)")
        return "\n".join(lines)

    def __str__(self):
        return self.format()


def _check_target(target_sqnr, max_accuracy_drop, size_budget, labels):
    if target_sqnr is None and max_accuracy_drop is None and \
            size_budget is None:
        raise ValueError("automatic precision needs a target: target_sqnr "
                         "(dB), max_accuracy_drop (points, with labels) or "
                         "size_budget (bytes)")
    if target_sqnr is not None and max_accuracy_drop is not None:
        raise ValueError("give target_sqnr or max_accuracy_drop, not both")
    if max_accuracy_drop is not None and labels is None:
        raise ValueError("max_accuracy_drop needs labels for the data")
    for value, what in [(target_sqnr, "target_sqnr"),
                        (max_accuracy_drop, "max_accuracy_drop"),
                        (size_budget, "size_budget")]:
        if value is not None and (isinstance(value, bool) or not isinstance(
                value, (int, float, np.integer, np.floating)) or
                not math.isfinite(value) or value < 0):
            raise ValueError(f"{what} must be a finite number >= 0, not "
                             f"{value!r}")


class _Builds:
    """QuantizedModels of assignments ({layer: mode}) sharing one cache
    directory (the float variants are built once), counted."""

    def __init__(self, graph, stats, cache_dir, group_size, options):
        self.graph, self.stats, self.cache_dir = graph, stats, cache_dir
        self.group_size, self.options = group_size, options
        self.count = 0

    def model(self, assignment):
        from .api import QuantizedModel
        self.count += 1
        four = "w4a8" in assignment.values()
        return QuantizedModel(self.graph, self.stats,
                              cache_dir=self.cache_dir,
                              group_size=self.group_size if four else 0,
                              layer_precision=_non_default(assignment),
                              **self.options)


def _widenable(graph, layers):
    """The locs a w8a16 entry may name: the dry run rejects one that also
    names an op without a 16-bit form (an attention's softmax shares the
    projections' module path); only weighted layers and ReLUs are taken."""
    return {loc for loc in layers if all(
        Q.weight_precision(l)[0] is not None or isinstance(l, E.Relu)
        for l in graph.layers if l.loc == loc)}


def _metrics(qm, x, labels, float_logits):
    logits = qm(x)
    out = {"sqnr_db": V.sqnr_db(float_logits, logits)}
    if labels is not None:
        out["accuracy"] = V.accuracy(logits, labels)
    return out


def _sensitivities(builds, layers, x, labels, candidates, report_samples):
    """Step 1 of the module's docstring: {"db", "nsr"}: {layer: {mode:
    value}} for the modes the dry run gives each layer; "metrics": {mode:
    the all-mode build's logit SQNR (accuracy)}; "float_logits"; "names":
    {layer: (report row name, op)}; "k" and "other" of the prediction."""
    out = {"db": {}, "nsr": {}, "metrics": {}, "names": {}}
    fits, other = [], {}
    widenable = _widenable(builds.graph, layers)
    for mode in candidates:
        qm = builds.model({loc: mode if loc in widenable or
                           not mode.endswith("a16") else "w8a8"
                           for loc in layers})
        report = V.layer_report(qm, x[:report_samples])
        if "float_logits" not in out:
            out["float_logits"] = qm.run_float(x)
        metrics = _metrics(qm, x, labels, out["float_logits"])
        out["metrics"][mode] = metrics
        # The rows of the weighted ops, by the loc a mode names them by.
        rows = {}
        for r in report.rows:
            if r["loc"] in layers and r["precision"].startswith("w"):
                rows.setdefault(r["loc"], []).append(r)
        total = sum(_nsr(r["own_sqnr_db"]) for r in report.rows)
        own = {loc: sum(_nsr(r["own_sqnr_db"]) for r in rs)
               for loc, rs in rows.items()}
        other[mode] = total - sum(own.values())
        if total > 0 and _nsr(metrics["sqnr_db"]) > 0:
            fits.append(math.log(_nsr(metrics["sqnr_db"]) / total))
        for loc, rs in rows.items():
            # The dry run gave the layer another mode: not a candidate.
            if any(r["precision"].split()[0] != mode for r in rs):
                continue
            ops = "/".join(dict.fromkeys(r["op"] for r in rs))
            out["names"].setdefault(loc, (rs[0]["name"], ops) if len(rs) == 1
                                    else (loc, f"{len(rs)} x {ops}"))
            out["db"].setdefault(loc, {})[mode] = _db(own[loc])
            out["nsr"].setdefault(loc, {})[mode] = own[loc]
    # k: how the summed own noise reaches the logits, fitted to the builds.
    out["k"] = math.exp(sum(fits) / len(fits)) if fits else 1.0
    # The other values' noise in the first build with 8-bit activations
    # (16-bit neighbours lower it: not modelled).
    out["other"] = other[next((m for m in candidates if m.endswith("a8")),
                              candidates[0])]
    return out


def _target(target_sqnr, max_accuracy_drop, float_acc, path, predicted):
    """(words, meets, start index) of the quality target."""
    if target_sqnr is not None:
        start = next((i for i, a in enumerate(path)
                      if predicted(a) >= target_sqnr), len(path) - 1)
        return (f"logit SQNR >= {target_sqnr:g} dB",
                lambda m: m["sqnr_db"] >= target_sqnr, start)
    if max_accuracy_drop is not None:
        return (f"accuracy >= {100 * float_acc:.2f}% - "
                f"{max_accuracy_drop:g} points",
                lambda m: 100 * (float_acc - m["accuracy"]) <=
                max_accuracy_drop + 1e-9, 0)
    return "the best within the size budget", None, 0


def _describe(m):
    text = f"logit SQNR {m['sqnr_db']:.1f} dB"
    if "accuracy" in m:
        text += f", accuracy {100 * m['accuracy']:.2f}%"
    return text


def _float_bytes(graph, layer, output=True):
    """A layer's float32 weights, biases and (output) its output per
    sample."""
    b = getattr(layer, "b", None)
    return 4 * (np.asarray(layer.w).size + (
        0 if b is None else np.asarray(b).size) + (
        int(np.prod(graph.shapes[layer.name][1:])) if output else 0))


def _non_default(assignment):
    """The assignment without its w8a8 layers (myquant-ptq's default)."""
    return {l: m for l, m in assignment.items() if m != "w8a8"}


def search(graph, stats, x, labels=None, target_sqnr=None,
           max_accuracy_drop=None, size_budget=None, candidates=MODES,
           group_size=0, report_samples=64, cache_dir=None, **options):
    """The automatic assignment for a calibrated graph (see the module's
    docstring). x: float data [N, ...] the SQNR (and, with labels, the
    accuracy) is measured on; the first report_samples give the per-layer
    sensitivities. target_sqnr: logit SQNR in dB against the float model;
    max_accuracy_drop: points of accuracy below the float model's on
    (x, labels); size_budget: bytes (the cost above). candidates: modes
    among MODES; group_size: of the 4-bit layers (0: per channel);
    cache_dir: where to build (default a temporary directory); options:
    QuantizedModel's (rounding, max_batch, ...). Returns an AutoPrecision;
    raises InfeasibleTarget, or ValueError for bad arguments."""
    _check_target(target_sqnr, max_accuracy_drop, size_budget, labels)
    candidates = tuple(dict.fromkeys(candidates))
    if not candidates or any(m not in MODES for m in candidates):
        raise ValueError(f"candidates must be among {', '.join(MODES)}, "
                         f"not {candidates!r}")
    if options.get("integer_io") or \
            options.get("rounding", "single") != "single":
        # 16-bit activations take single rounding and float io
        # (tools.precision_options).
        candidates = tuple(m for m in candidates if not m.endswith("a16"))
        if not candidates:
            raise ValueError("w8a16 needs rounding='single' and float io "
                             "(integer_io=False); give 8-bit candidates")
    x = np.ascontiguousarray(V._np(x), np.float32)
    if labels is not None:
        labels = V._np(labels)
        if len(labels) != len(x):
            raise ValueError(f"{len(labels)} labels for {len(x)} samples")
    layers = weighted_layers(graph)
    if not layers:
        raise ValueError("the model has no layer with constant weights to "
                         "choose a precision for")

    def cost(a):
        return sum(layer_bytes(graph, ls, a.get(loc, "w8a8"), group_size)
                   for loc, ls in layers.items())

    with tempfile.TemporaryDirectory(prefix="myquant-auto-") as tmp:
        builds = _Builds(graph, stats, cache_dir or tmp, group_size, options)
        m = _sensitivities(builds, layers, x, labels, candidates,
                           report_samples)
        measure_builds = builds.count
        costs = {loc: {mode: layer_bytes(graph, layers[loc], mode,
                                         group_size) for mode in modes}
                 for loc, modes in m["nsr"].items()}
        path = upgrade_path(costs, m["nsr"])

        def predicted(a):
            return _db(m["k"] * (m["other"] + sum(m["nsr"][l][mode]
                                                  for l, mode in a.items())))

        float_acc = None if labels is None else \
            V.accuracy(m["float_logits"], labels)
        target, meets, start = _target(target_sqnr, max_accuracy_drop,
                                       float_acc, path, predicted)
        def evaluate(a):
            return _metrics(builds.model(a), x, labels, m["float_logits"])

        index, seen = choose(path, cost, evaluate, meets, size_budget,
                             start, _describe, target)
        chosen, got = path[index], seen[index]
        if target_sqnr is not None:
            # Trimmed with the prediction shifted to the chosen one's
            # measurement, then verified (one more build).
            offset = got["sqnr_db"] - predicted(chosen)
            cheaper = trim(chosen, costs, lambda a: predicted(a) + offset >=
                           target_sqnr)
            if cheaper != chosen:
                measured = evaluate(cheaper)
                if meets(measured):
                    chosen, got = cheaper, measured
        if size_budget is not None:
            target += f", <= {size_budget:,} bytes"

    every_layer = [l for ls in layers.values() for l in ls]

    def sizes(a):
        return {"bytes": cost(a), "weight_bytes": sum(
            Q.weight_bytes(l, *Q.weight_precision(
                l, group_size=group_size, layer_precision=a))
            for l in every_layer)}

    summary = {"target": target, "predicted_db": predicted(chosen),
               "measure_builds": measure_builds,
               "verify_builds": builds.count - measure_builds,
               "float": {"bytes": sum(_float_bytes(graph, l)
                                      for l in every_layer),
                         "weight_bytes": sum(_float_bytes(graph, l, False)
                                             for l in every_layer),
                         "sqnr_db": math.inf},
               "auto": {**sizes(chosen), **got}}
    if float_acc is not None:
        summary["float"]["accuracy"] = float_acc
    for mode in candidates:
        # What the all-mode build gave each layer.
        every = {loc: mode if mode in costs.get(loc, {}) else "w8a8"
                 for loc in layers}
        summary[mode] = {**sizes(every), **m["metrics"][mode]}
    rows = [{"name": m["names"].get(loc, (loc, ""))[0],
             "op": m["names"].get(loc, ("", type(ls[0]).__name__))[1],
             "loc": loc, "sensitivity": m["db"].get(loc, {}),
             "chosen": chosen.get(loc, "w8a8"),
             "bytes": layer_bytes(graph, ls, chosen.get(loc, "w8a8"),
                                  group_size)} for loc, ls in layers.items()]
    return AutoPrecision(_non_default(chosen), rows, summary, builds.count)
