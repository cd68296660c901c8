#!/usr/bin/env python3
"""Calibration throughput and peak memory: myquant-calibrate next to
PyTorch float inference with observers, on the same images.

For each model, in one process per run (so that each peak RSS is its own):

* myquant:  `myquant-opt --myquant-calibrate` on the exported float model
            (static batch --batch), minmax unless --method; wall time of
            the whole run (parse, JIT compile, all batches), peak RSS
            (GNU time's), and where the run's time went (the pass's
            `timing` option: lowering of the instrumented copy, its JIT
            compile, the calls of the model, the observers; "export" is
            the Python export and emission of the model, before the run);
            then the same run again, which loads the compiled copy that
            the first kept in its `cache-dir` ("cached"); the CPU time of
            the first call and the page faults of the first and of the
            later calls (the first faults in the memory the others reuse);
* PyTorch:  FX `prepare_fx` with the same observer kind on every
            activation (MinMaxObserver for minmax, MovingAverageMinMax for
            moving-average, HistogramObserver for the histogram methods),
            run over the same batches, one thread; the time of the batch
            loop and the worker's peak RSS (Python and torch included).

Images/s: all images / the whole time; "model" excludes the compile:
images / (calls + observers), the counterpart of PyTorch's batch loop
(prepare_fx is not timed either). Both come from one run, so a change of
the machine's load between two runs does not skew them. The runs of each
model alternate (myquant, PyTorch, --repeat times; min kept): the machine
may be shared, so compare ratios.

    /usr/bin/python3 benchmarks/calibration.py [--build build]
        [--models resnet18,...] [--size 224] [--images 64] [--batch 16]
        [--method minmax] [--repeat 1] [--threads 1]
    quick: --models resnet18,small_cnn --size 112 --images 16 --batch 8
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "python"))
sys.path.insert(0, HERE)

ZOO = ["resnet18", "resnet50", "mobilenet_v2", "squeezenet1_1"]
EXAMPLES = ["small_cnn", "residual_cnn", "dw_separable"]


def torch_model(name, size):
    """(torch module, images' size) of a zoo or example model."""
    if name in EXAMPLES:
        import models
        return models.to_torch(getattr(models, name)(1)).eval(), 32
    import zoo
    return zoo.zoo_model(name), size


def timed(cmd):
    """(seconds, peak RSS in MB, stdout, stderr) of cmd, run under /usr/bin/time
    (its own peak: getrusage of the children would be the maximum over all
    of them)."""
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "MAXRSS %M"] + cmd,
                       capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} failed:\n{p.stderr[-3000:]}")
    rss = [line for line in p.stderr.splitlines()
           if line.startswith("MAXRSS")]
    return seconds, int(rss[-1].split()[1]) / 1024.0, p.stdout, p.stderr


def phase_times(stderr):
    """{phase: seconds} of myquant-calibrate's `timing` line, with "faults":
    (page faults of the first call, of the later calls) where the line has
    them (older builds' lines have none)."""
    line = [x for x in stderr.splitlines()
            if x.startswith("myquant-calibrate timing:")][-1]
    phases = {k: float(v) for k, v in
              re.findall(r"([A-Za-z][A-Za-z ]*) ([0-9.]+) s", line)}
    faults = re.search(r"first call (\d+), later calls (\d+)", line)
    if faults:
        phases["faults"] = tuple(map(int, faults.groups()))
    return phases


def model_rate(phases, images):
    """Images/s of myquant's runs of the model, compile excluded."""
    seconds = phases["calls"] + phases["observers"]
    return images / seconds if seconds > 0 else float("inf")


def cpu_rate(phases, images):
    """Images/s of the model's runs by CPU time (myquant: the calls' CPU
    time and the observers; PyTorch: the batch loop's): on a machine shared
    with more runnable processes than cores, what the runs cost rather than
    how long they waited for a core."""
    seconds = phases["CPU"] + phases.get("observers", 0.0)
    return images / seconds if seconds > 0 else float("inf")


def torch_worker(args):
    import torch
    from torch.ao.quantization import QConfig, QConfigMapping, observer as O
    from torch.ao.quantization.quantize_fx import prepare_fx
    torch.set_num_threads(args.threads)
    model, _ = torch_model(args.worker_model, args.size)
    x = np.load(args.worker_data)
    kind = {"minmax": O.MinMaxObserver,
            "moving-average": O.MovingAverageMinMaxObserver}.get(
                args.method, O.HistogramObserver)
    qconfig = QConfig(activation=kind.with_args(dtype=torch.quint8),
                      weight=O.default_weight_observer)
    with torch.no_grad():
        prepared = prepare_fx(model, QConfigMapping().set_global(qconfig),
                              example_inputs=(torch.from_numpy(x[:1]),))
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(0, len(x), args.batch):
            prepared(torch.from_numpy(x[i:i + args.batch]))
        print(json.dumps({"seconds": time.perf_counter() - t0,
                          "cpu": time.process_time() - c0}))


def bench_model(name, args, workdir):
    from myquant import calibrate as C
    from myquant import emit as E
    from myquant import tools as T
    from myquant.export import export
    import zoo
    model, size = torch_model(name, args.size)
    x = zoo.images(args.images, size=size, seed=7)
    npy = os.path.join(workdir, f"{name}.npy")
    src = os.path.join(workdir, f"{name}.mlir")
    np.save(npy, x)
    t0 = time.perf_counter()
    graph = export(model, x[:1])
    with open(src, "w") as f:
        f.write(E.emit(C._calibration_graph(graph, args.batch)))
    export_seconds = time.perf_counter() - t0
    del model, graph
    opt = T.tool_path("myquant-opt")
    cache = os.path.join(workdir, f"{name}-cache")
    base = (f"data={npy} method={args.method} threads={args.threads} "
            f"cache-dir={cache} quiet")
    best = {}
    for _ in range(args.repeat):
        # The first run of each round compiles (a fresh cache), the second
        # loads what the first compiled.
        shutil.rmtree(cache, ignore_errors=True)
        myquant = [opt, src, f"--myquant-calibrate={base} timing", "-o",
                   os.devnull]
        runs = {
            "myquant": myquant,
            "cached": myquant,
            "torch": [sys.executable, os.path.abspath(__file__),
                      "--worker-model", name, "--worker-data", npy,
                      "--size", str(args.size), "--batch", str(args.batch),
                      "--method", args.method,
                      "--threads", str(args.threads)],
        }
        for key, cmd in runs.items():
            seconds, rss, out, err = timed(cmd)
            phases = {"export": export_seconds}
            if key == "torch":
                result = json.loads(out.splitlines()[-1])
                seconds, phases["CPU"] = result["seconds"], result["cpu"]
            else:
                phases.update(phase_times(err))
            if key not in best or seconds < best[key][0]:
                best[key] = (seconds, rss, phases)
    return best


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", default=os.path.join(REPO, "build"))
    p.add_argument("--models", default=",".join(ZOO + EXAMPLES))
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--images", type=int, default=64)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--method", default="minmax")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--threads", type=int, default=1,
                   help="myquant-calibrate threads= and torch threads")
    p.add_argument("--worker-model", help=argparse.SUPPRESS)
    p.add_argument("--worker-data", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker_model:
        return torch_worker(args)
    os.environ["MYQUANT_BUILD_DIR"] = os.path.abspath(args.build)
    print(f"calibration, {args.images} images, batch {args.batch}, "
          f"{args.size} x {args.size} (examples: 32 x 32), {args.method}, "
          f"{args.threads} thread(s); load average "
          f"{os.getloadavg()[0]:.1f} at start")
    print("| model | myquant s | export / lowering / JIT / "
          "calls / observers s | myquant img/s (model) | "
          "myquant peak RSS MB | cached s (img/s) | PyTorch s | "
          "PyTorch img/s | PyTorch peak RSS MB | img/s ratio myquant/PyTorch "
          "(model) | cached / PyTorch | model img/s by CPU time, myquant / "
          "PyTorch (ratio) | myquant first call CPU s, page faults first / "
          "later calls |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="myquant-calbench-") as d:
        for name in args.models.split(","):
            b = bench_model(name, args, d)
            (mq, mq_rss, ph), (pt, pt_rss, pt_ph) = b["myquant"], b["torch"]
            cached = b["cached"][0]
            split = " / ".join(f"{ph[k]:.1f}" for k in (
                "export", "lowering", "JIT compile", "calls", "observers"))
            n = args.images
            model = model_rate(ph, n)
            print(f"| {name} | {mq:.1f} | {split} | {n / mq:.1f} "
                  f"({model:.1f}) | {mq_rss:.0f} | {cached:.1f} "
                  f"({n / cached:.1f}) | {pt:.2f} | "
                  f"{n / pt:.1f} | {pt_rss:.0f} | {n / mq / (n / pt):.3f} "
                  f"({model / (n / pt):.2f}) | {pt / cached:.2f} | "
                  f"{cpu_rate(ph, n):.1f} / {cpu_rate(pt_ph, n):.1f} "
                  f"({cpu_rate(ph, n) / cpu_rate(pt_ph, n):.2f}) | "
                  f"{ph.get('first call CPU', float('nan')):.1f}, "
                  f"{' / '.join(map(str, ph.get('faults', ('-', '-'))))} |",
                  flush=True)


if __name__ == "__main__":
    main()
