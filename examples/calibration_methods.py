#!/usr/bin/env python3
"""Calibration methods on Fashion-MNIST: int8 accuracy per method against
PyTorch's own PTQ, and calibration throughput against PyTorch's observers.

    /usr/bin/python3 examples/calibration_methods.py             # ~3-5 minutes
    /usr/bin/python3 examples/calibration_methods.py --no-bench  # accuracy only

Uses the SmallCNN of examples/fashion_mnist.py and its cached weights
(~/.cache/myquant; trained first if missing).

1. Accuracy: the same calibration images (default 1000 training images, in
   batches of --batch) calibrate myquant with every method of the
   myquant-calibrate pass (docs/Calibration.md) through myquant.quantize,
   and PyTorch's default static PTQ for the onednn engine (FX, default
   qconfig mapping: HistogramObserver activations, per-channel weights).
   Printed: test accuracy, its change against float, argmax agreement and
   logit SQNR against the float model.
2. Throughput (samples/s, one thread): myquant-opt --myquant-calibrate on
   --bench-samples training images, measured two ways: the pass's own
   progress figure (the observed runs only, after the JIT compile; run under
   a pseudo-terminal so the pass prints it; histogram methods make two runs
   over the data, combined here) and the wall time of the whole myquant-opt
   minus that of a run on one batch (so it includes data loading and the
   methods' range searches, not the compile). Against it: the same float
   model in PyTorch with observers attached by prepare_fx (forward over the
   same data in the same batches; the time of prepare_fx is not counted),
   with the observer that matches the method where PyTorch has one, and the
   plain float model as a reference. Best of --repeats runs.
"""

import argparse
import copy
import os
import pty
import re
import subprocess
import sys
import tempfile
import time

import fashion_mnist as FM  # sets up sys.path and OMP_WAIT_POLICY

import numpy as np  # noqa: E402
import torch  # noqa: E402

import myquant  # noqa: E402
from myquant import calibrate as C  # noqa: E402
from myquant import emit as E  # noqa: E402
from myquant import evaluate as V  # noqa: E402
from myquant import tools as T  # noqa: E402
from myquant.export import export  # noqa: E402


def method_options(method, percentile):
    return method + (f" percentile={percentile!r}"
                     if method == "percentile" else "")


def method_label(method, percentile):
    return f"percentile {percentile:g}" if method == "percentile" else method


# ---------------------------------------------------------------------------
# 1. Accuracy
# ---------------------------------------------------------------------------

def accuracy_table(model, calib, xte, yte, batch, percentile):
    torch.set_num_threads(1)
    ref = FM.run_batched(model, xte)
    rows, results = [], {}

    def add(label, logits, seconds):
        m = V.compare(ref, logits, yte)
        results[label] = m
        rows.append([label, f"{100 * m['int8_accuracy']:.2f}%",
                     f"{100 * (m['int8_accuracy'] - m['float_accuracy']):+.2f}",
                     f"{100 * m['argmax_agreement']:.2f}%",
                     f"{m['sqnr_db']:.1f} dB", f"{seconds:.1f} s"])

    float_acc = V.accuracy(ref, yte)
    for method in C.METHODS:
        label = method_label(method, percentile)
        print(f"  myquant, {label} ...", flush=True)
        t = time.time()
        with myquant.quantize(model, calib, method=method,
                              percentile=percentile, max_batch=batch) as qm:
            seconds = time.time() - t  # export + calibration
            add(f"myquant {label}", qm(xte), seconds)
    print("  PyTorch onednn PTQ ...", flush=True)
    t = time.time()
    q = FM.torch_onednn_int8(model, calib, batch_size=batch)
    seconds = time.time() - t
    add("PyTorch PTQ (onednn, default qconfig)", FM.run_batched(q, xte),
        seconds)
    header = ["int8 model", "test accuracy", "vs float (points)",
              "argmax agreement", "logit SQNR", "calibration"]
    return float_acc, header, rows, results


# ---------------------------------------------------------------------------
# 2. Throughput
# ---------------------------------------------------------------------------

_PROGRESS = re.compile(r"myquant-calibrate: (\w+): (\d+)/(\d+) samples, "
                       r"(\d+) samples/s")


def run_on_tty(cmd):
    """Runs cmd with stderr on a pseudo-terminal; returns (wall seconds,
    stderr text)."""
    master, slave = pty.openpty()
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    out = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out.append(chunk)
    rc = p.wait()
    wall = time.perf_counter() - t
    os.close(master)
    text = b"".join(out).decode(errors="replace")
    if rc != 0:
        raise T.ToolError(f"{' '.join(cmd)} failed (exit {rc}):\n{text}")
    return wall, text


def pass_rate(text, samples):
    """Samples/s of the observed runs from the pass's last progress line of
    each phase (None when the pass printed none: a run under a second)."""
    last = {}
    for phase, done, total, rate in _PROGRESS.findall(text):
        if int(done) == int(total) == samples:
            last[phase] = int(rate)
    if "ranges" not in last:
        return None
    return samples / sum(samples / r for r in last.values())


def myquant_throughput(graph, data, batch, method, percentile, repeats,
                       workdir):
    src = os.path.join(workdir, "model.mlir")
    npy = os.path.join(workdir, "data.npy")
    if not os.path.exists(src):
        with open(src, "w") as f:
            f.write(E.emit(graph.with_batch(batch)))
        np.save(npy, data)
    opt = T.tool_path("myquant-opt")

    def cmd(samples):
        return [opt, src, f"--myquant-calibrate=data={npy} samples={samples} "
                f"method={method_options(method, percentile)}",
                "-o", os.devnull]
    best_pass = best_wall = 0.0
    for _ in range(repeats):
        base, _ = run_on_tty(cmd(batch))
        wall, text = run_on_tty(cmd(len(data)))
        best_wall = max(best_wall, (len(data) - batch) / (wall - base))
        best_pass = max(best_pass, pass_rate(text, len(data)) or 0.0)
    return best_pass or None, best_wall


def torch_observers(kind):
    from torch.ao.quantization import (
        MinMaxObserver, MovingAverageMinMaxObserver,
        QConfig, QConfigMapping, default_per_channel_weight_observer,
        get_default_qconfig_mapping)
    if kind == "mse":  # the onednn default
        return get_default_qconfig_mapping("onednn")
    act = {"minmax": MinMaxObserver,
           "moving-average": MovingAverageMinMaxObserver}[kind]
    return QConfigMapping().set_global(QConfig(
        activation=act.with_args(reduce_range=False),
        weight=default_per_channel_weight_observer))


def torch_throughput(model, data, batch, observers, repeats):
    """Samples/s of PyTorch's forward over data with observers attached
    (observers=None: the plain float model), one thread."""
    from torch.ao.quantization.quantize_fx import prepare_fx
    torch.set_num_threads(1)
    torch.backends.quantized.engine = "onednn"
    best = 0.0
    for _ in range(repeats):
        m = copy.deepcopy(model).eval()
        if observers is not None:
            m = prepare_fx(m, torch_observers(observers),
                           (torch.from_numpy(data[:1]),))
        with torch.no_grad():
            t = time.perf_counter()
            for i in range(0, len(data), batch):
                m(torch.from_numpy(data[i:i + batch]))
            best = max(best, len(data) / (time.perf_counter() - t))
    return best


# PyTorch's observer for each method, where it has one.
TORCH_OBSERVER = {"minmax": ("minmax", "MinMaxObserver"),
                  "moving-average": ("moving-average",
                                     "MovingAverageMinMaxObserver"),
                  "mse": ("mse", "HistogramObserver (onednn default)")}


def throughput_table(model, data, batch, percentile, repeats):
    graph = export(model, data[:1])
    rows = []
    with tempfile.TemporaryDirectory(prefix="myquant-calib-bench-") as d:
        for method in C.METHODS:
            label = method_label(method, percentile)
            print(f"  myquant-calibrate, {label} ...", flush=True)
            by_pass, by_wall = myquant_throughput(
                graph, data, batch, method, percentile, repeats, d)
            if method in TORCH_OBSERVER:
                kind, obs = TORCH_OBSERVER[method]
                print(f"  PyTorch with {obs} ...", flush=True)
                pt = torch_throughput(model, data, batch, kind, repeats)
                pt_s = f"{pt:,.0f}"
            else:
                obs, pt_s, pt = "- (none in PyTorch)", "-", None
            rows.append([label, "-" if by_pass is None else
                         f"{by_pass:,.0f}", f"{by_wall:,.0f}", obs, pt_s,
                         "-" if pt is None else f"{by_wall / pt:.2f}x"])
    print("  PyTorch float, no observers ...", flush=True)
    pt = torch_throughput(model, data, batch, None, repeats)
    rows.append(["(no observers)", "-", "-", "float forward", f"{pt:,.0f}",
                 "-"])
    header = ["method", "myquant: pass figure", "myquant: wall - base",
              "PyTorch observer", "PyTorch", "myquant / PyTorch"]
    return header, rows


# ---------------------------------------------------------------------------

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=2,
                   help="epochs of the cached model (see fashion_mnist.py)")
    p.add_argument("--cache-dir", default=os.environ.get(
        "MYQUANT_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache",
                                          "myquant")))
    p.add_argument("--digits", action="store_true",
                   help="use sklearn digits even if Fashion-MNIST exists")
    p.add_argument("--calibration-samples", type=int, default=1000)
    p.add_argument("--batch", type=int, default=100,
                   help="calibration batch size, for myquant and PyTorch "
                        "(also myquant's compiled batch)")
    p.add_argument("--percentile", type=float, default=99.99)
    p.add_argument("--no-bench", action="store_true",
                   help="skip the throughput benchmark")
    p.add_argument("--bench-samples", type=int, default=5000,
                   help="training images calibrated in the benchmark")
    p.add_argument("--repeats", type=int, default=3,
                   help="benchmark runs per figure (the best is shown)")
    args = p.parse_args(argv)
    t_start = time.time()

    name, xtr, ytr, xte, yte, size = FM.load_data(args.digits)
    print(f"data: {name}: {len(xtr)} training, {len(xte)} test images "
          f"{size}x{size}")
    model = FM.trained_model(name, xtr, ytr, size, args.epochs, 2,
                             args.cache_dir)
    calib = FM.calibration_images(xtr, args.calibration_samples)

    print(f"accuracy: calibrating on {len(calib)} training images in "
          f"batches of {args.batch}")
    float_acc, header, rows, res = accuracy_table(
        model, calib, xte, yte, args.batch, args.percentile)

    bench = None
    if not args.no_bench:
        data = FM.calibration_images(xtr, args.bench_samples)
        print(f"throughput: {len(data)} training images in batches of "
              f"{args.batch}, one thread, best of {args.repeats}")
        bench = throughput_table(model, data, args.batch, args.percentile,
                                 args.repeats)

    print()
    print(f"SmallCNN on {name} ({len(xte)} test images): float accuracy "
          f"{100 * float_acc:.2f}%; calibration: {len(calib)} training "
          f"images")
    print(V.format_table(header, rows))
    mq = {k: v for k, v in res.items() if k.startswith("myquant")}
    best = max(mq, key=lambda k: mq[k]["int8_accuracy"])
    torch_acc = res["PyTorch PTQ (onednn, default qconfig)"]["int8_accuracy"]
    drop = 100 * (float_acc - mq[best]["int8_accuracy"])
    print("(calibration: export + calibration time of myquant.quantize; "
          "PyTorch: prepare_fx + observed runs + convert_fx)")
    print(f"best myquant method: {best[len('myquant '):]}: "
          f"{-drop:+.2f} points against float (target: at most 0.5 below: "
          f"{'met' if drop <= 0.5 else 'NOT met'}); "
          f"{100 * (mq[best]['int8_accuracy'] - torch_acc):+.2f} points "
          f"against PyTorch's PTQ (target >= 0: "
          f"{'met' if mq[best]['int8_accuracy'] >= torch_acc else 'NOT met'})")
    worse = [k[len("myquant "):] for k in mq
             if mq[k]["int8_accuracy"] < torch_acc]
    if worse:
        print(f"methods below PyTorch's PTQ: {', '.join(worse)}")
    if bench:
        print()
        print(f"Calibration throughput (samples/s, one thread, "
              f"{args.bench_samples} images, batch {args.batch}, best of "
              f"{args.repeats})")
        print(V.format_table(*bench))
    print(f"\ntotal time {time.time() - t_start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
