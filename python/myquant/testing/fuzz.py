"""Differential fuzzer: random float models (``myquant.emit`` graphs) are
quantized by the compiler and run on every kernel target; the int8 output
must equal the numpy integer reference bit for bit, and the float model run
by myquant-run must agree with PyTorch within a float tolerance.

A case is a function of its seed alone (:func:`make_case`): the graph (a
random DAG of conv with random stride / dilation / groups / padding,
depthwise conv, linear (transposed rhs) and matmul (plain rhs), add, mul,
concat, max / average / global average pools, relu and relu6 clamps,
flatten and unflatten reshapes), its weights, calibration samples and test
input, and the options (rounding, weight granularity, int8 or uint8
activations). The calibrated ranges come from the numpy float model and
are given to ``myquant-opt --myquant-ptq`` as ``myquant.stats``. uint8
activations are compared with the int8 reference: their parameters are the
int8 ones with the zero point moved by 128, so the dequantized outputs are
the same bits.

On a failure the case is shrunk (layers dropped, batch and spatial sizes
cut) while it still fails the same way, and the seed and the minimal float
IR (with its stats) are printed; ``--save DIR`` also writes it with its
test input (DIR/seed-S/model.mlir, x.npy).

    /usr/bin/python3 -m myquant.testing.fuzz --seed 0 --count 1000
    /usr/bin/python3 -m myquant.testing.fuzz --seed 17 --count 1 --verbose

MYQUANT_BUILD_DIR (or --build-dir) selects the tools (default: build/ in
the repository).
"""

import argparse
import collections
import copy
import os
import sys
import tempfile
import time

import numpy as np

from .. import emit as E
from .. import tools as T
from . import model_reference as MR

__all__ = ["Case", "make_case", "run_case", "shrink", "same_failure",
           "torch_forward", "op_kinds",
           "ALL_TARGETS", "runnable_targets", "main"]

# Kernel targets of myquant-run with the CPU flags each needs. avx-vnni is
# left out: it needs AVX-VNNI proper (see issue 13).
_AVX512_VNNI = {"avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512_vnni"}
ALL_TARGETS = {"generic": set(), "avx512-vnni": _AVX512_VNNI,
               "avx512-vnni-256": _AVX512_VNNI}

# |myquant-run float - torch| <= FLOAT_RTOL * |torch| + FLOAT_ATOL * scale,
# scale the largest |value| of the torch output (summation order differs).
FLOAT_RTOL = 1e-4
FLOAT_ATOL = 1e-4


def runnable_targets():
    flags = set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    return [t for t, need in ALL_TARGETS.items() if need <= flags]


# ---------------------------------------------------------------------------
# Random models
# ---------------------------------------------------------------------------

class Case:
    """A model with its stats, test input and quantization options."""

    def __init__(self, seed, model, samples, x, rounding, granularity,
                 activation):
        self.seed, self.model, self.samples, self.x = seed, model, samples, x
        self.rounding, self.granularity = rounding, granularity
        self.activation = activation
        self.stats = E.calibrate(model, samples)

    def options(self):
        return (f"rounding={self.rounding} weight-granularity="
                f"{self.granularity} activation-type={self.activation}")

    def describe(self):
        return (f"seed {self.seed}: {len(self.model.layers)} layers, input "
                f"{self.model.input_shape}, {self.options()}")


def _weights(rng, *shape):
    scale = float(rng.choice([0.05, 0.2, 0.5, 1.0]))
    w = rng.standard_normal(shape) * scale
    if rng.random() < 0.1:
        w[..., 0] = 0.0  # a zero channel (scale 1 in the weight rule)
    return w.astype(np.float32)


def _bias(rng, n):
    if rng.random() < 0.3:
        return None
    return (rng.standard_normal(n) * float(rng.choice([0.1, 1.0]))).astype(
        np.float32)


def _window(rng, size, max_k=3, dilate=True):
    """(k, stride, padding, dilation) of one spatial dimension that fits
    size."""
    for _ in range(20):
        k = int(rng.integers(1, max_k + 1))
        s = int(rng.integers(1, 3))
        d = int(rng.integers(1, 3)) if dilate and k > 1 else 1
        p = int(rng.integers(0, (d * (k - 1)) // 2 + 1))
        if size + 2 * p >= d * (k - 1) + 1:
            return k, s, p, d
    return 1, 1, 0, 1


def _conv(rng, c, h, w, depthwise):
    if depthwise:
        groups, f = c, c
    else:
        divisors = [g for g in range(1, c + 1) if c % g == 0]
        groups = int(rng.choice(divisors)) if rng.random() < 0.4 else 1
        f = groups * int(rng.integers(1, max(2, 9 // groups) + 1))
    kh, sh, ph, dh = _window(rng, h)
    if rng.random() < 0.7:
        kw, sw, pw, dw = kh, sh, ph, dh
        if w + 2 * pw < dw * (kw - 1) + 1:
            kw, sw, pw, dw = _window(rng, w)
    else:
        kw, sw, pw, dw = _window(rng, w)
    if depthwise:
        return E.DepthwiseConv2d(_weights(rng, c, kh, kw), _bias(rng, c),
                                 stride=(sh, sw), padding=(ph, pw),
                                 dilation=(dh, dw))
    return E.Conv2d(_weights(rng, f, c // groups, kh, kw), _bias(rng, f),
                    stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw),
                    groups=groups)


def _pool(rng, h, w, cls):
    k = int(rng.integers(1, min(3, h, w) + 1))
    s = int(rng.integers(1, k + 1))
    p = int(rng.integers(0, k // 2 + 1))
    return cls(k, stride=s, padding=p)


def _pick(rng, values, pred=lambda s: True):
    """A value (name, shape) satisfying pred, the latest ones likelier."""
    ok = [v for v in values if pred(v[1])]
    if not ok:
        return None
    if rng.random() < 0.6:
        return ok[-1]
    return ok[int(rng.integers(len(ok)))]


def _try_layer(rng, kind, values):
    """(layer, input names) of the kind on some of values, or None."""
    four = lambda s: len(s) == 4  # noqa: E731
    two = lambda s: len(s) == 2  # noqa: E731
    if kind in ("conv", "depthwise", "maxpool", "avgpool", "gap", "flatten"):
        v = _pick(rng, values, four)
        if v is None:
            return None
        _, c, h, w = v[1]
        if kind in ("conv", "depthwise"):
            return _conv(rng, c, h, w, kind == "depthwise"), [v[0]]
        if kind == "maxpool":
            return _pool(rng, h, w, E.MaxPool2d), [v[0]]
        if kind == "avgpool":
            return _pool(rng, h, w, E.AvgPool2d), [v[0]]
        if kind == "gap":
            return E.GlobalAvgPool(), [v[0]]
        return E.Flatten(), [v[0]]
    if kind in ("linear", "matmul"):
        v = _pick(rng, values, two)
        if v is None:
            return None
        k, n = v[1][1], int(rng.integers(1, 17))
        if kind == "linear":
            return E.Linear(_weights(rng, n, k), _bias(rng, n)), [v[0]]
        return E.MatMul(_weights(rng, k, n), _bias(rng, n)), [v[0]]
    if kind == "unflatten":
        v = _pick(rng, values, two)
        if v is None:
            return None
        k = v[1][1]
        hw = [d for d in range(1, 5) if k % (d * d) == 0]
        d = int(rng.choice(hw))
        return E.Unflatten(k // (d * d), d, d), [v[0]]
    if kind in ("relu", "relu6"):
        v = _pick(rng, values)
        return (E.Relu() if kind == "relu" else E.Relu6()), [v[0]]
    if kind in ("add", "mul"):
        a = _pick(rng, values)
        b = _pick(rng, values, lambda s: s == a[1])
        if rng.random() < 0.8:
            others = [v for v in values if v[1] == a[1] and v[0] != a[0]]
            if others:
                b = others[int(rng.integers(len(others)))]
        layer = E.Add() if kind == "add" else E.Mul()
        return layer, [a[0], b[0]]
    if kind == "concat":
        a = _pick(rng, values, four)
        if a is None:
            return None
        same = [v for v in values if len(v[1]) == 4 and
                v[1][:1] + v[1][2:] == a[1][:1] + a[1][2:]]
        names = [a[0]] + [same[int(rng.integers(len(same)))][0]
                          for _ in range(int(rng.integers(1, 3)))]
        return E.Concat(), names
    raise ValueError(kind)


KINDS = ["conv", "depthwise", "linear", "matmul", "add", "mul", "concat",
         "maxpool", "avgpool", "gap", "relu", "relu6", "flatten",
         "unflatten"]
_KIND_WEIGHTS = {"conv": 4, "depthwise": 2, "linear": 3, "matmul": 3,
                 "add": 2, "mul": 1, "concat": 2, "maxpool": 1.5,
                 "avgpool": 1.5, "gap": 0.5, "relu": 2, "relu6": 1.5,
                 "flatten": 2.5, "unflatten": 1.5}


def _input_shape(rng):
    if rng.random() < 0.25:
        return (int(rng.integers(1, 4)), int(rng.integers(1, 33)))
    return (int(rng.integers(1, 4)), int(rng.integers(1, 9)),
            int(rng.integers(2, 11)), int(rng.integers(2, 11)))


def _random_model(rng):
    model = E.Model(_input_shape(rng))
    values = [("x", model.input_shape)]
    p = np.array([_KIND_WEIGHTS[k] for k in KINDS], np.float64)
    n_layers = int(rng.integers(1, 9))
    tries = 0
    while len(model.layers) < n_layers and tries < 100:
        tries += 1
        kind = KINDS[int(rng.choice(len(KINDS), p=p / p.sum()))]
        got = _try_layer(rng, kind, values)
        if got is None:
            continue
        layer, inputs = got
        try:
            name = model.add(layer, inputs=inputs)
        except ValueError:
            continue
        values.append((name, model.shapes[name]))
    if not model.layers:
        model.add(E.Relu())
    return model


def make_case(seed):
    """The case of a seed: model, calibration samples, test input and
    options."""
    rng = np.random.default_rng(seed)
    model = _random_model(rng)
    # An input distribution with a random range and offset.
    # Tiny and large ranges give multipliers far from 1.
    scale = float(rng.choice([0.001, 0.1, 1.0, 1.0, 3.0, 50.0]))
    offset = float(rng.choice([0.0, 0.0, 0.5, -1.0])) * scale
    samples = [(rng.standard_normal(model.input_shape) * scale + offset)
               .astype(np.float32) for _ in range(int(rng.integers(1, 5)))]
    # The test input may leave the calibrated range (saturation).
    x = (rng.standard_normal(model.input_shape) * scale *
         float(rng.choice([0.8, 1.0, 1.3])) + offset).astype(np.float32)
    rounding = str(rng.choice(["single", "gemmlowp"]))
    granularity = str(rng.choice(["per-channel", "per-tensor"]))
    activation = str(rng.choice(["int8", "uint8"]))
    return Case(seed, model, samples, x, rounding, granularity, activation)


def _rebuild(case, model, x):
    """case with another model and input (shrinking); samples are cut to the
    new input shape."""
    samples = [_fit(s, model.input_shape) for s in case.samples]
    return Case(case.seed, model, samples, x, case.rounding,
                case.granularity, case.activation)


def _fit(a, shape):
    return np.ascontiguousarray(a[tuple(slice(0, d) for d in shape)])


# ---------------------------------------------------------------------------
# PyTorch
# ---------------------------------------------------------------------------

def torch_forward(model, x):
    """The model's output computed by PyTorch in float32."""
    import torch
    import torch.nn.functional as F
    vals = {"x": torch.from_numpy(np.ascontiguousarray(x, np.float32))}

    def t(a):
        return None if a is None else torch.from_numpy(np.asarray(a))

    for layer in model.layers:
        a = [vals[i] for i in layer.inputs]
        if isinstance(layer, E.Conv2d):
            out = F.conv2d(a[0], t(layer.w), t(layer.b), layer.stride,
                           layer.padding, layer.dilation, layer.groups)
        elif isinstance(layer, E.Relu6):
            out = torch.clamp(a[0], 0.0, 6.0)
        elif isinstance(layer, E.Relu):
            out = torch.relu(a[0])
        elif isinstance(layer, E.AvgPool2d):
            out = F.avg_pool2d(a[0], layer.k, layer.stride, layer.padding,
                               count_include_pad=True)
        elif isinstance(layer, E.MaxPool2d):
            out = F.max_pool2d(a[0], layer.k, layer.stride, layer.padding)
        elif isinstance(layer, E.GlobalAvgPool):
            out = torch.mean(a[0], dim=(2, 3), keepdim=True)
        elif isinstance(layer, (E.Flatten, E.Unflatten)):
            out = a[0].reshape(model.shapes[layer.name])
        elif isinstance(layer, E.Linear):
            out = F.linear(a[0], t(layer.w), t(layer.b))
        elif isinstance(layer, E.MatMul):
            out = a[0] @ t(layer.w)
            if layer.b is not None:
                out = out + t(layer.b)
        elif isinstance(layer, E.Mul):
            out = a[0] * a[1]
        elif isinstance(layer, E.Add):
            out = a[0] + a[1]
        elif isinstance(layer, E.Concat):
            out = torch.cat(a, dim=1)
        else:
            raise TypeError(type(layer).__name__)
        vals[layer.name] = out
    return vals[model.output].numpy()


# ---------------------------------------------------------------------------
# Running a case
# ---------------------------------------------------------------------------

class Tools:
    """The paths of myquant-opt and myquant-run in a build directory."""

    def __init__(self, build_dir):
        self.opt = os.path.join(build_dir, "bin", "myquant-opt")
        self.run = os.path.join(build_dir, "bin", "myquant-run")
        for p in (self.opt, self.run):
            if not os.path.exists(p):
                raise FileNotFoundError(f"{p} not found: build the project "
                                        f"or set MYQUANT_BUILD_DIR")


def _run(tools, path, x, workdir, target=None):
    args = [path, "--function=forward"]
    if target is not None:
        args.append(f"--target={target}")
    xp, op = os.path.join(workdir, "x.npy"), os.path.join(workdir, "y.npy")
    np.save(xp, np.ascontiguousarray(x, np.float32))
    T.run_tool(tools.run, args + [f"--input={xp}", f"--output={op}"],
               timeout=120)
    return np.load(op)


def _first_diff(got, want):
    diff = np.argwhere(got.view(np.int32) != want.view(np.int32))
    i = tuple(int(v) for v in diff[0])
    return (f"{len(diff)} of {got.size} outputs differ, first at {i}: "
            f"{got[i]!r} vs {want[i]!r}")


def run_case(case, tools, targets, check_float=True):
    """None when the case passes, else (kind, message): kind 'reference'
    (the reference rejects the model, e.g. a bias beyond int32, and so does
    myquant-opt with a located error), 'rejects' (the reference rejects it
    but myquant-opt accepts it or fails without such an error), 'compile',
    'run:<target>', 'mismatch:<target>' or 'float'."""
    model, x = case.model, case.x
    try:
        want = MR.run_reference(model, case.stats, x,
                                rounding=case.rounding,
                                weights=case.granularity).dequantize()
    except (ValueError, OverflowError) as e:
        rejected = f"the reference rejects the model: {e}"
    else:
        rejected = None
    with tempfile.TemporaryDirectory(prefix="myquant-fuzz-") as d:
        src = os.path.join(d, "model.mlir")
        with open(src, "w") as f:
            f.write(E.emit(model, case.stats))
        q = os.path.join(d, "q.mlir")
        try:
            T.run_tool(tools.opt, [src, f"--myquant-ptq={case.options()}",
                                   "-o", q], timeout=120)
        except T.ToolError as e:
            # A model the reference rejects must fail with a located
            # error, not a crash.
            if rejected and "error: loc(" in str(e):
                return "reference", rejected
            return ("rejects" if rejected else "compile"), str(e)[-2000:]
        if rejected:
            return "rejects", rejected + "; myquant-opt accepts it"
        for target in targets:
            try:
                got = _run(tools, q, x, d, target)
            except T.ToolError as e:
                return f"run:{target}", str(e)[-2000:]
            if got.shape != want.shape or got.dtype != np.float32:
                return f"mismatch:{target}", (f"output {got.dtype}"
                                              f"{got.shape}, want float32"
                                              f"{want.shape}")
            if not np.array_equal(got.view(np.int32), want.view(np.int32)):
                return f"mismatch:{target}", _first_diff(got, want)
        if check_float:
            plain = os.path.join(d, "float.mlir")
            with open(plain, "w") as f:
                f.write(E.emit(model))
            try:
                got = _run(tools, plain, x, d)
            except T.ToolError as e:
                return "run:float", str(e)[-2000:]
            ref = torch_forward(model, x)
            if got.shape != ref.shape:
                return "float", (f"myquant-run's float output has shape "
                                 f"{got.shape}, PyTorch's {ref.shape}")
            tol = FLOAT_RTOL * np.abs(ref) + FLOAT_ATOL * max(
                1.0, float(np.max(np.abs(ref))))
            bad = np.abs(got.astype(np.float64) - ref) > tol
            if np.any(bad):
                return "float", (f"myquant-run's float output differs from "
                                 f"PyTorch at {int(np.sum(bad))} of "
                                 f"{ref.size} elements (max |diff| "
                                 f"{float(np.max(np.abs(got - ref))):.3g})")
    return None


# ---------------------------------------------------------------------------
# Shrinking
# ---------------------------------------------------------------------------

def _add(model, layer, inputs):
    """Adds a copy of layer (Model.add sets a layer's name and inputs: the
    case being shrunk must keep its own)."""
    model.add(copy.copy(layer), inputs=list(inputs), name=layer.name)


def _without(model, drop):
    """model without layer `drop` (its users read its first input), or
    None when that breaks shapes."""
    m = E.Model(model.input_shape)
    rename = {}
    try:
        for layer in model.layers:
            ins = [rename.get(i, i) for i in layer.inputs]
            if layer.name == drop:
                rename[layer.name] = ins[0]
                continue
            _add(m, layer, ins)
    except ValueError:
        return None
    return m if m.layers else None


def _prefix(model, n):
    m = E.Model(model.input_shape)
    for layer in model.layers[:n]:
        _add(m, layer, layer.inputs)
    return m


def _live(model):
    """model without the layers its output does not depend on."""
    need, keep = {model.output}, []
    for layer in reversed(model.layers):
        if layer.name in need:
            keep.append(layer.name)
            need.update(layer.inputs)
    m = E.Model(model.input_shape)
    for layer in model.layers:
        if layer.name in keep:
            _add(m, layer, layer.inputs)
    return m


def _smaller_inputs(case):
    """Candidate (model, x) with a smaller input: batch, then spatial size
    (4-D inputs; the layers are reused, so shapes must still fit)."""
    s = case.model.input_shape
    shapes = []
    if s[0] > 1:
        shapes.append((1,) + s[1:])
    if len(s) == 4:
        for dim in (2, 3):
            if s[dim] > 1:
                t = list(s)
                t[dim] = max(1, s[dim] // 2)
                shapes.append(tuple(t))
                t = list(s)
                t[dim] = s[dim] - 1
                shapes.append(tuple(t))
    for shape in shapes:
        m = E.Model(shape)
        try:
            for layer in case.model.layers:
                _add(m, layer, layer.inputs)
        except ValueError:
            continue
        yield m, _fit(case.x, shape)


def same_failure(kind, tools, targets):
    """A predicate for shrink: the case fails with this kind (running only
    the failing target)."""
    target = kind.partition(":")[2]
    if target in ALL_TARGETS:
        targets = [target]
    elif kind in ("compile", "rejects", "float", "run:float"):
        targets = []

    def fails(c):
        try:
            r = run_case(c, tools, targets,
                         check_float=kind in ("float", "run:float"))
        except (ValueError, KeyError):
            return False
        return r is not None and r[0] == kind
    return fails


def shrink(case, fails, budget=40):
    """A smaller case for which fails(case) still holds: layers dropped,
    then batch and spatial sizes cut, at most `budget` tries."""
    def try_case(c):
        nonlocal budget
        budget -= 1
        return fails(c)

    progress = True
    while progress and budget > 0:
        progress = False
        candidates = [_live(case.model)]
        candidates += [_prefix(case.model, n)
                       for n in range(1, len(case.model.layers))]
        candidates += [_without(case.model, l.name)
                       for l in case.model.layers]
        for m in candidates:
            if m is None or len(m.layers) >= len(case.model.layers):
                continue
            c = _rebuild(case, m, case.x)
            if try_case(c):
                case, progress = c, True
                break
            if budget <= 0:
                break
        if progress:
            continue
        for m, x in _smaller_inputs(case):
            c = _rebuild(case, m, x)
            if try_case(c):
                case, progress = c, True
                break
            if budget <= 0:
                break
    return case


# ---------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------

def op_kinds(model):
    """Counts of layer kinds (conv split into conv / grouped / depthwise)."""
    c = collections.Counter()
    for layer in model.layers:
        k = type(layer).__name__
        if isinstance(layer, E.Conv2d):
            f, cg = layer.w.shape[:2]
            if layer.groups > 1:
                k = ("DepthwiseConv2d" if cg == 1 and f == layer.groups
                     else "GroupedConv2d")
        c[k] += 1
    return c


def report_failure(case, kind, message, tools, targets, save=None,
                   out=sys.stdout):
    small = shrink(case, same_failure(kind, tools, targets))
    if save:
        d = os.path.join(save, f"seed-{case.seed}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "model.mlir"), "w") as f:
            f.write(E.emit(small.model, small.stats))
        np.save(os.path.join(d, "x.npy"), small.x)
    print(f"FAIL {kind} seed {case.seed} ({case.options()})\n{message}",
          file=out)
    again = run_case(small, tools, targets, check_float=(kind == "float"))
    print(f"minimal case ({len(small.model.layers)} layers, input "
          f"{small.model.input_shape}): "
          f"{again[1] if again else 'passes?'}\n"
          f"myquant-opt model.mlir --myquant-ptq=\"{small.options()}\"; "
          f"test input: a slice of the seed's input"
          f"{' (saved in ' + save + ')' if save else ''}\n"
          f"{E.emit(small.model, small.stats)}", file=out)
    return small


def main(argv=None):
    p = argparse.ArgumentParser(
        prog="python3 -m myquant.testing.fuzz",
        description="Differential fuzzer: random float models quantized "
                    "and run by myquant versus the numpy reference and "
                    "PyTorch.")
    p.add_argument("--seed", type=int, default=0, help="first seed")
    p.add_argument("--count", type=int, default=100, help="number of seeds")
    p.add_argument("--targets", default=",".join(runnable_targets()),
                   help="comma-separated kernel targets (default: those "
                        "this CPU runs)")
    p.add_argument("--build-dir", default=os.environ.get(
        "MYQUANT_BUILD_DIR", os.path.join(os.path.dirname(__file__),
                                          *[".."] * 3, "build")))
    p.add_argument("--no-float", action="store_true",
                   help="skip the float comparison with PyTorch")
    p.add_argument("--no-shrink", action="store_true")
    p.add_argument("--save", metavar="DIR",
                   help="write each minimal failing case (model.mlir with "
                        "stats, x.npy) to DIR/seed-S")
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--progress", type=int, default=100,
                   help="print the figures every this many seeds")
    a = p.parse_args(argv)
    targets = [t for t in a.targets.split(",") if t]
    for t in targets:
        if t not in ALL_TARGETS:
            p.error(f"unknown target {t!r}; choose from "
                    f"{', '.join(ALL_TARGETS)}")
    tools = Tools(a.build_dir)
    ops, failures, skipped = collections.Counter(), [], 0
    start = time.time()

    def summary(last):
        ran = last - a.seed + 1 - skipped
        print(f"seeds {a.seed}..{last}: {ran} graphs ran ({skipped} "
              f"rejected by the reference and myquant-opt) on {', '.join(targets)} in "
              f"{time.time() - start:.0f} s; {len(failures)} failed\nops: "
              + ", ".join(f"{k} {v}" for k, v in sorted(ops.items())),
              flush=True)

    for seed in range(a.seed, a.seed + a.count):
        case = make_case(seed)
        if a.verbose:
            print(case.describe(), dict(op_kinds(case.model)), flush=True)
        r = run_case(case, tools, targets, check_float=not a.no_float)
        if r is not None and r[0] == "reference":
            skipped += 1
            if a.verbose:
                print(f"  skipped: {r[1]}")
            continue
        ops.update(op_kinds(case.model))
        if r is not None:
            failures.append((seed, r[0]))
            if a.no_shrink:
                print(f"FAIL {r[0]} seed {seed}: {r[1]}", flush=True)
            else:
                report_failure(case, r[0], r[1], tools, targets, a.save)
            sys.stdout.flush()
        if (seed - a.seed + 1) % a.progress == 0:
            summary(seed)
    summary(a.seed + a.count - 1)
    for seed, kind in failures:
        print(f"  seed {seed}: {kind}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
