#!/usr/bin/env python3
"""myquant CPU int8 benchmark suite: prints tables, all measured in this run.

1. The machine's int8 peak: vpdpbusd zmm throughput (vnni_peak.c).
2. int8 GEMM and conv kernels (one myquant.matmul / myquant.conv2d with
   fused requantization, int8 in and out) compiled for the VNNI kernels and
   for the generic lowering: GOP/s (2 x MACs / s) and % of the peak; and
   an f32 linalg.matmul through the same pipeline (GFLOP/s).
3. Model latency of the example models (models.py) at batch 1 and 64, float
   in / float out: myquant int8 (VNNI kernels, generic lowering), myquant
   f32 (same pipeline, tiled and vectorized), PyTorch f32 (jit.trace + freeze +
   optimize_for_inference) and PyTorch int8 (FX PTQ with the onednn
   backend, jit.trace + freeze), with ratios.
4. Artifact size: shared library and weight bytes, int8 vs f32.
5. Compile time against depth (10, 100 and, with --deep, 1000 conv layers)
   and for a ResNet-50-sized graph (~24M parameters).

Everything runs single-threaded (torch.set_num_threads(1); myquant code
compiled without --kernel-threads), except section 6 with --threads N.
Times are the min and median over samples; myquant functions are called
from a C loop (timer.c) through their C interface, PyTorch modules from
Python (its per-call overhead is reported). Use --quick for a short run.

    /usr/bin/python3 benchmarks/bench.py [--build build] [--quick] [--threads 2]
"""

import argparse
import ctypes
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "python"))
sys.path.insert(0, HERE)

import models as M  # noqa: E402
from myquant.emit import calibrate, dense_hex, emit  # noqa: E402
from myquant.emit import tensor_type as _tensor  # noqa: E402

CC = "clang-22"


def tune_malloc():
    """Keeps freed memory in the process (glibc mallopt): without it every
    call of a model mmaps and page-faults its large temporaries afresh,
    which costs more than the arithmetic at batch 64. Applies to PyTorch
    too (same process)."""
    libc = ctypes.CDLL(None)
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
    libc.mallopt(m_mmap_threshold, 1 << 30)
    libc.mallopt(m_trim_threshold, 1 << 30)
    libc.mallopt(m_top_pad, 64 << 20)


def sh(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"$ {' '.join(cmd)}\n{p.stderr[-3000:]}")
    return p.stdout


class Timer:
    """Loads timer.c and runs measurements."""

    def __init__(self, workdir):
        so = os.path.join(workdir, "timer.so")
        sh([CC, "-O2", "-shared", "-fPIC", os.path.join(HERE, "timer.c"),
            "-o", so])
        self.lib = ctypes.CDLL(so)
        self.lib.time_entry.argtypes = [ctypes.c_void_p] * 3 + [
            ctypes.c_int64, ctypes.c_int64, ctypes.POINTER(ctypes.c_double)]
        self.lib.time_entry_cpu.argtypes = [ctypes.c_void_p] * 3 + [
            ctypes.c_int64, ctypes.POINTER(ctypes.c_double)]

    def native(self, fn, result, arg, budget):
        """Seconds per call (min, median) of fn(result, arg)."""
        one = (ctypes.c_double * 1)()
        self.lib.time_entry(fn, result, arg, 1, 1, one)  # warm up
        self.lib.time_entry(fn, result, arg, 1, 1, one)
        t = max(one[0], 1e-7)
        calls = max(1, int(0.01 / t))
        samples = int(min(15, max(3, budget / (calls * t))))
        out = (ctypes.c_double * samples)()
        self.lib.time_entry(fn, result, arg, samples, calls, out)
        return min(out), float(np.median(list(out)))

    def fastest(self, fn, calls, budget, wall=False):
        """CPU seconds of the fastest single call of a Compiled function
        (see python_fastest); wall: wall-clock seconds instead (for several
        threads, whose CPU times add up)."""
        one = (ctypes.c_double * max(calls, 3))()
        args = (fn.fn, ctypes.addressof(fn.result), ctypes.addressof(fn.arg))

        def run(n):
            if wall:
                self.lib.time_entry(*args, n, 1, one)
            else:
                self.lib.time_entry_cpu(*args, n, one)
        run(1)
        n = _fastest_calls(one[0], calls, budget)
        run(n)
        return min(one[:n])


def _fastest_calls(first, calls, budget):
    """Calls of a fastest-call measurement: `calls`, fewer when they would
    take more than `budget` seconds (at least 3)."""
    return int(min(calls, max(3, budget / max(first, 1e-7))))


def python_fastest(call, calls, budget, wall=False):
    """CPU seconds (of the process, all its threads) of the fastest single
    call of a Python callable: on a machine shared with more runnable
    processes than cores, the time the call ran, not the time it waited.
    wall: wall-clock seconds instead (for several threads)."""
    clock = time.perf_counter if wall else time.process_time
    t0 = clock()
    call()
    times = [clock() - t0]
    for _ in range(_fastest_calls(times[0], calls, budget)):
        t0 = clock()
        call()
        times.append(clock() - t0)
    return min(times)


def python_time(call, budget):
    """Seconds per call (min, median) of a Python callable."""
    call()
    t0 = time.perf_counter()
    call()
    t = max(time.perf_counter() - t0, 1e-7)
    calls = max(1, int(0.01 / t))
    samples = int(min(15, max(3, budget / (calls * t))))
    out = []
    for _ in range(samples):
        t0 = time.perf_counter()
        for _ in range(calls):
            call()
        out.append((time.perf_counter() - t0) / calls)
    return min(out), float(np.median(out))


# ---------------------------------------------------------------------------
# Compiled functions
# ---------------------------------------------------------------------------

_CTYPES = {np.dtype(np.float32): ctypes.c_float,
           np.dtype(np.int8): ctypes.c_int8}


def _descriptor(rank):
    fields = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p),
              ("offset", ctypes.c_int64)]
    if rank:
        fields += [("sizes", ctypes.c_int64 * rank),
                   ("strides", ctypes.c_int64 * rank)]
    return type(f"memref{rank}", (ctypes.Structure,), {"_fields_": fields})


class Compiled:
    """One-input, one-result function from myquant-compile --shared."""

    def __init__(self, so, func, x, out_shape, out_dtype):
        self.lib = ctypes.CDLL(so)
        self.fn = ctypes.cast(getattr(self.lib, f"_mlir_ciface_{func}"),
                              ctypes.c_void_p)
        self.x = np.ascontiguousarray(x)
        self.arg = _descriptor(x.ndim)()
        self.arg.allocated = self.arg.aligned = self.x.ctypes.data
        for i, (size, stride) in enumerate(zip(x.shape, self.x.strides)):
            self.arg.sizes[i] = size
            self.arg.strides[i] = stride // x.itemsize
        self.out_shape, self.out_dtype = out_shape, np.dtype(out_dtype)
        self.result = _descriptor(len(out_shape))()

    def __call__(self):
        ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)(
            self.fn.value)(ctypes.addressof(self.result),
                           ctypes.addressof(self.arg))
        n = int(np.prod(self.out_shape))
        buf = (_CTYPES[self.out_dtype] * n).from_address(
            self.result.aligned + self.result.offset * self.out_dtype.itemsize)
        out = np.ctypeslib.as_array(buf).reshape(self.out_shape).copy()
        ctypes.CDLL(None).free(ctypes.c_void_p(self.result.allocated))
        return out

    def time(self, timer, budget):
        return timer.native(self.fn, ctypes.addressof(self.result),
                            ctypes.addressof(self.arg), budget)


class Toolchain:
    def __init__(self, build, workdir):
        self.opt = os.path.join(build, "bin", "myquant-opt")
        self.compile = os.path.join(build, "bin", "myquant-compile")
        for tool in (self.opt, self.compile):
            if not os.path.exists(tool):
                sys.exit(f"{tool} not found: build the project or pass "
                         f"--build")
        self.workdir = workdir
        self.count = 0

    def write(self, text):
        self.count += 1
        path = os.path.join(self.workdir, f"m{self.count}.mlir")
        with open(path, "w") as f:
            f.write(text)
        return path

    def quantize(self, text):
        return sh([self.opt, self.write(text), "--myquant-propagate-qparams",
                   "--myquant-quantize"])

    def shared(self, text, target, func="forward", threads=1):
        """Compiles to a shared library (the int8 kernels' batch loops on
        `threads` threads); returns (path, seconds)."""
        src = self.write(text)
        so = src[:-5] + f"-{target}-t{threads}.so"
        t0 = time.perf_counter()
        sh([self.compile, src, f"--function={func}", "--shared", "-o", so,
            f"--target={target}", "--cc-arg=-march=native",
            f"--kernel-threads={threads}"])
        return so, time.perf_counter() - t0


# ---------------------------------------------------------------------------
# 1. Peak
# ---------------------------------------------------------------------------

def measure_peak(workdir):
    so = os.path.join(workdir, "vnni_peak.so")
    sh([CC, "-O2", "-mavx512f", "-mavx512bw", "-mavx512vnni", "-shared",
        "-fPIC", os.path.join(HERE, "vnni_peak.c"), "-o", so])
    lib = ctypes.CDLL(so)
    lib.vnni_peak.argtypes = [ctypes.c_int64]
    ops = lib.vnni_peak_ops_per_iteration()
    iterations = 200_000
    best = 0.0
    for _ in range(9):
        t0 = time.perf_counter()
        lib.vnni_peak(iterations)
        best = max(best, ops * iterations / (time.perf_counter() - t0))
    return best / 1e9


# ---------------------------------------------------------------------------
# 2. Kernels
# ---------------------------------------------------------------------------

def kernel_module(kind, shape, rng):
    """A storage-level int8 function around one op; returns (text, input,
    result shape, MACs)."""
    qx = "!quant.uniform<i8:f32, 0.05:-3>"
    qy = "!quant.uniform<i8:f32, 0.1:5>"
    if kind == "matmul":
        m, k, n = shape
        xs, ws, ys = (m, k), (n, k), (m, n)
        attrs, op, axis, macs = "transpose_rhs, ", "myquant.matmul", 0, m * k * n
    else:
        layout, n, c, h, w, f, kk, s = shape
        p = kk // 2
        oh, ow = (h + 2 * p - kk) // s + 1, (w + 2 * p - kk) // s + 1
        if layout == "nchw":
            xs, ws, ys = (n, c, h, w), (f, c, kk, kk), (n, f, oh, ow)
            axis = 0
        else:
            xs, ws, ys = (n, h, w, c), (kk, kk, c, f), (n, oh, ow, f)
            axis = 3
        attrs = (f"strides = array<i64: {s}, {s}>, padding = array<i64: "
                 f"{p}, {p}, {p}, {p}>, dilations = array<i64: 1, 1>, "
                 f"groups = 1 : i64, layout = #myquant.layout<{layout}>, ")
        op, macs = "myquant.conv2d", n * f * oh * ow * c * kk * kk
        k, n = c * kk * kk, f
    channels = ws[axis]
    wq = rng.integers(-127, 128, ws).astype(np.int8)
    scales = ", ".join(["0.01"] * channels)
    qw = f"!quant.uniform<i8<-127:127>:f32:{axis}, {{{scales}}}>"
    bias = rng.integers(-1000, 1000, channels)
    shift = int(np.round(np.log2(127 * 74 * np.sqrt(k) / 30))) + 31
    rescale = (f"#myquant.rescale<multiplier = [1518500250], shift = "
               f"[{shift}], rounding = single>")
    text = f"""
func.func @forward(%x: {_tensor(xs, 'i8')}) -> {_tensor(ys, 'i8')} {{
  %xq = quant.scast %x : {_tensor(xs, 'i8')} to {_tensor(xs, qx)}
  %wi = arith.constant {dense_hex(wq, np.int8)} : {_tensor(ws, 'i8')}
  %w = quant.scast %wi : {_tensor(ws, 'i8')} to {_tensor(ws, qw)}
  %b = arith.constant dense<[{', '.join(str(int(v)) for v in bias)}]> : {_tensor((channels,), 'i32')}
  %y = {op} %xq, %w, %b {{{attrs}rescale = {rescale}}}
      : ({_tensor(xs, qx)}, {_tensor(ws, qw)}, {_tensor((channels,), 'i32')})
      -> {_tensor(ys, qy)}
  %yi = quant.scast %y : {_tensor(ys, qy)} to {_tensor(ys, 'i8')}
  return %yi : {_tensor(ys, 'i8')}
}}
"""
    x = rng.integers(-128, 128, xs).astype(np.int8)
    return text, x, ys, macs


KERNELS = [
    ("matmul", (256, 256, 256)),
    ("matmul", (512, 512, 512)),
    ("matmul", (1024, 1024, 1024)),
    ("matmul", (64, 2048, 1024)),
    ("matmul", (1, 2048, 1024)),
    ("conv", ("nhwc", 1, 64, 56, 56, 64, 3, 1)),
    ("conv", ("nhwc", 1, 128, 28, 28, 128, 3, 1)),
    ("conv", ("nhwc", 1, 256, 14, 14, 256, 3, 1)),
    ("conv", ("nhwc", 1, 256, 28, 28, 64, 1, 1)),
    ("conv", ("nhwc", 8, 32, 32, 32, 64, 3, 2)),
    ("conv", ("nchw", 1, 64, 56, 56, 64, 3, 1)),
]
QUICK_KERNELS = [KERNELS[1], KERNELS[5], KERNELS[10]]


def bench_f32_gemm(tc, timer, shape, budget):
    """GFLOP/s (min, median) of a float linalg.matmul with constant weights,
    the float path of myquant-lower-to-llvm."""
    m, k, n = shape
    rng = np.random.default_rng(0)
    x = rng.standard_normal((m, k)).astype(np.float32)
    w = rng.standard_normal((k, n)).astype(np.float32)
    xt, wt, yt = (_tensor(s, "f32") for s in ((m, k), (k, n), (m, n)))
    text = f"""
func.func @forward(%x: {xt}) -> {yt} {{
  %w = arith.constant {dense_hex(w)} : {wt}
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : {yt}
  %acc = linalg.fill ins(%zero : f32) outs(%e : {yt}) -> {yt}
  %y = linalg.matmul ins(%x, %w : {xt}, {wt}) outs(%acc : {yt}) -> {yt}
  return %y : {yt}
}}
"""
    so, _ = tc.shared(text, "generic")
    fn = Compiled(so, "forward", x, (m, n), np.float32)
    want = x.astype(np.float64) @ w
    err = np.max(np.abs(fn() - want)) / np.max(np.abs(want))
    if err > 1e-5:
        raise RuntimeError(f"f32 GEMM: relative error {err:.1e}")
    tmin, tmed = fn.time(timer, budget)
    return 2 * m * k * n / tmin / 1e9, 2 * m * k * n / tmed / 1e9


def describe(kind, shape):
    if kind == "matmul":
        return "gemm M={} K={} N={}".format(*shape)
    layout, n, c, h, w, f, k, s = shape
    return f"conv {layout} {n}x{c}x{h}x{w} -> {f}, {k}x{k}/s{s}"


def bench_kernels(tc, timer, peak, kernels, budget, generic):
    rng = np.random.default_rng(0)
    rows = []
    for kind, shape in kernels:
        text, x, ys, macs = kernel_module(kind, shape, rng)
        row = [describe(kind, shape)]
        outs = {}
        targets = ["avx512-vnni", "avx512-vnni-256"] + (
            ["generic"] if generic else [])
        for target in targets:
            so, _ = tc.shared(text, target)
            fn = Compiled(so, "forward", x, ys, np.int8)
            outs[target] = fn()
            # The generic loops are slow: a shorter budget.
            tmin, tmed = fn.time(timer, budget if target != "generic"
                                 else budget / 3)
            gops = 2 * macs / tmin / 1e9
            row += [f"{gops:7.1f}", f"{100 * gops / peak:5.1f}%",
                    f"{2 * macs / tmed / 1e9:7.1f}"]
        same = all(np.array_equal(o, outs["avx512-vnni"])
                   for o in outs.values())
        row.append("yes" if same else "NO")
        rows.append(row)
    head = ["kernel"]
    for target in targets:
        head += [f"{target} GOP/s (min)", "% peak", "(median)"]
    head.append("bits equal")
    return head, rows


# ---------------------------------------------------------------------------
# 3. Models
# ---------------------------------------------------------------------------

def torch_baselines(model, samples, x, threads=1):
    import torch
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    torch.set_num_threads(threads)
    torch.backends.quantized.engine = "onednn"
    net = M.to_torch(model)
    xt = torch.from_numpy(x)
    with torch.no_grad():
        flt = torch.jit.optimize_for_inference(
            torch.jit.freeze(torch.jit.trace(net, xt)))
        prepared = prepare_fx(M.to_torch(model),
                              get_default_qconfig_mapping("onednn"),
                              example_inputs=(xt,))
        for s in samples:
            prepared(torch.from_numpy(s))
        q = torch.jit.freeze(torch.jit.trace(convert_fx(prepared), xt))
    return flt, q


def torch_call_overhead():
    import torch

    class Identity(torch.nn.Module):
        def forward(self, x):
            return x

    m = torch.jit.freeze(torch.jit.script(Identity().eval()))
    x = torch.zeros(1)
    with torch.no_grad():
        return python_time(lambda: m(x), 0.2)[0]


def model_stats(build, rng):
    """Calibration statistics of an example model from 4 random batch-4
    samples (the batch size does not change them), and the samples
    (PyTorch's observers see the same)."""
    small = build(4)
    samples = [rng.standard_normal(small.input_shape).astype(np.float32)
               for _ in range(4)]
    return calibrate(small, samples), samples


def bench_models(tc, timer, names, batches, budget, use_torch):
    rows, sizes = [], []
    for name in names:
        build = M.MODELS[name]
        rng = np.random.default_rng(7)
        stats, samples = model_stats(build, rng)
        for batch in batches:
            model = build(batch)
            x = rng.standard_normal(model.input_shape).astype(np.float32)
            out_shape = model.shapes[model.output]
            quantized = tc.quantize(emit(model, stats))
            results, times = {}, {}
            for tag, text, target in [
                    ("int8 vnni", quantized, "avx512-vnni"),
                    ("int8 generic", quantized, "generic"),
                    ("f32", emit(model), "generic")]:
                so, _ = tc.shared(text, target)
                fn = Compiled(so, "forward", x, out_shape, np.float32)
                results[tag] = fn()
                slow = tag != "int8 vnni"
                times[tag] = fn.time(timer, budget / 3 if slow else budget)
                if batch == batches[0]:
                    sizes.append((name, tag, os.path.getsize(so)))
            same = np.array_equal(results["int8 vnni"].view(np.int32),
                                  results["int8 generic"].view(np.int32))
            if use_torch:
                import torch
                tsamples = [np.concatenate([s] * max(1, batch // 4))[:batch]
                            for s in samples]
                flt, q = torch_baselines(model, tsamples, x)
                xt = torch.from_numpy(x)
                with torch.no_grad():
                    times["torch f32"] = python_time(lambda: flt(xt), budget)
                    times["torch int8"] = python_time(lambda: q(xt), budget)
            gops = 2 * M.macs(model) / times["int8 vnni"][0] / 1e9
            rows.append((name, batch, times, same, gops))
    return rows, sizes


def bench_threads(tc, timer, threads, budget, use_torch):
    """Batch 64 with `threads` threads: myquant's int8 kernels (their batch
    loops; the rest of the model stays on one thread) against one thread,
    and PyTorch int8 on as many threads. Rows: (name, one thread, threads,
    torch int8 or None, same bits)."""
    rows = []
    for name in M.MODELS:
        build = M.MODELS[name]
        rng = np.random.default_rng(7)
        stats, samples = model_stats(build, rng)
        model = build(64)
        x = rng.standard_normal(model.input_shape).astype(np.float32)
        quantized = tc.quantize(emit(model, stats))
        times, results = {}, {}
        for n in (1, threads):
            so, _ = tc.shared(quantized, "avx512-vnni", threads=n)
            fn = Compiled(so, "forward", x, model.shapes[model.output],
                          np.float32)
            results[n] = fn()
            times[n] = fn.time(timer, budget)[0]
        torch_time = None
        if use_torch:
            import torch
            tsamples = [np.concatenate([s] * 16)[:64] for s in samples]
            _, q = torch_baselines(model, tsamples, x, threads)
            xt = torch.from_numpy(x)
            with torch.no_grad():
                torch_time = python_time(lambda: q(xt), budget)[0]
            torch.set_num_threads(1)
        same = np.array_equal(results[1].view(np.int32),
                              results[threads].view(np.int32))
        rows.append((name, times[1], times[threads], torch_time, same))
    return rows


# ---------------------------------------------------------------------------
# 5. Compile time
# ---------------------------------------------------------------------------

def bench_compile(tc, depths, big):
    """Seconds to calibrate (numpy reference, 2 samples), quantize
    (myquant-opt) and lower + compile (myquant-compile: MLIR passes, LLVM
    -O3, link) chains of 3x3 16 -> 16 convolutions + relu on 16 x 8 x 8,
    and a ResNet-50-sized graph (~24M parameters)."""
    rows = []
    cases = [(f"chain of {d}", M.conv_chain(d)) for d in depths]
    if big:
        cases.append(("~24M parameters", M.resnet50_sized()))
    for label, model in cases:
        rng = np.random.default_rng(0)
        t0 = time.perf_counter()
        stats = calibrate(model, [rng.standard_normal(
            model.input_shape).astype(np.float32) for _ in range(2)])
        t1 = time.perf_counter()
        quantized = tc.quantize(emit(model, stats, weights="resource"))
        t2 = time.perf_counter()
        _, seconds = tc.shared(quantized, "avx512-vnni")
        layers = sum(1 for layer in model.layers if hasattr(layer, "w"))
        total = t2 - t0 + seconds
        rows.append([label, f"{M.weight_bytes(model, 1) / 2**20:.1f} M",
                     f"{t1 - t0:.2f}", f"{t2 - t1:.2f}", f"{seconds:.2f}",
                     f"{total:.2f}", f"{1e3 * total / layers:.0f}"])
    return rows


def fmt_ms(t):
    return f"{t * 1e3:8.3f}"


def print_table(head, rows):
    widths = [max(len(str(r[i])) for r in [head] + rows)
              for i in range(len(head))]
    line = "  ".join(h.rjust(w) for h, w in zip(head, widths))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(str(c).rjust(w) for c, w in zip(r, widths)))
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.environ.get(
        "MYQUANT_BUILD_DIR", os.path.join(REPO, "build")))
    ap.add_argument("--quick", action="store_true",
                    help="fewer kernels and shorter measurements")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--no-generic-kernels", action="store_true",
                    help="skip the (slow) generic lowering of the kernels")
    ap.add_argument("--default-malloc", action="store_true",
                    help="leave glibc's malloc tuning alone")
    ap.add_argument("--deep", action="store_true",
                    help="compile time of the 1000-layer chain too (minutes)")
    ap.add_argument("--threads", type=int, default=1,
                    help="also time batch 64 with this many threads (myquant "
                         "kernels and PyTorch)")
    args = ap.parse_args()
    if not args.default_malloc:
        tune_malloc()
    budget = 0.3 if args.quick else 1.0
    use_torch = not args.no_torch
    if use_torch:
        try:
            import torch  # noqa: F401
        except ImportError:
            print("(PyTorch not found: no PyTorch baselines)\n")
            use_torch = False

    with tempfile.TemporaryDirectory(prefix="myquant-bench-") as workdir:
        tc = Toolchain(args.build, workdir)
        timer = Timer(workdir)
        print(f"myquant benchmarks, {time.strftime('%Y-%m-%d %H:%M')}, "
              f"build {args.build}, single thread; load average "
              f"{os.getloadavg()[0]:.2f} at start; malloc "
              f"{'default' if args.default_malloc else 'tuned (mallopt)'}"
              f"\n")

        # The core may be shared (SMT sibling, other jobs): the peak is
        # measured again between the sections and the best one is used.
        peaks = [measure_peak(workdir) for _ in range(3)]
        peak = max(peaks)
        print(f"1. int8 peak (vpdpbusd zmm, 24 chains): {peak:.1f} GOP/s "
              f"(best of {', '.join(f'{p:.0f}' for p in peaks)})\n")

        print("2. int8 kernels (requantization fused, int8 in and out; "
              "GOP/s = 2 x MACs / s)\n")
        head, rows = bench_kernels(
            tc, timer, peak, QUICK_KERNELS if args.quick else KERNELS,
            budget, not args.no_generic_kernels)
        print_table(head, rows)
        gflops = bench_f32_gemm(tc, timer, (512, 512, 512), budget)
        print(f"f32 GEMM 512 x 512 x 512 (linalg.matmul, the float path): "
              f"{gflops[0]:.1f} GFLOP/s (min), {gflops[1]:.1f} (median)")
        again = measure_peak(workdir)
        print(f"(peak measured again after the kernels: {again:.1f} GOP/s; "
              f"the percentages use {peak:.1f})\n")

        print("3. model latency, float in / float out, ms per call "
              "(min / median)\n")
        rows, sizes = bench_models(tc, timer, list(M.MODELS), [1, 64],
                                   budget, use_torch)
        tags = ["int8 vnni", "int8 generic", "f32"] + (
            ["torch f32", "torch int8"] if use_torch else [])
        head = ["model", "batch"] + [f"{t} min/med" for t in tags] + [
            "vnni GOP/s", "x generic", "x f32"] + (
            ["x torch f32", "x torch int8", "x torch int8 at peak"]
            if use_torch else []) + ["vnni == generic"]
        table = []
        for name, batch, times, same, gops in rows:
            vn = times["int8 vnni"][0]
            row = [name, batch] + [
                f"{fmt_ms(times[t][0]).strip()}/{fmt_ms(times[t][1]).strip()}"
                for t in tags] + [f"{gops:.1f}",
                                  f"{times['int8 generic'][0] / vn:.1f}",
                                  f"{times['f32'][0] / vn:.1f}"]
            if use_torch:
                # The most any implementation could reach: every
                # multiply-accumulate at the measured vpdpbusd peak.
                at_peak = gops / peak * vn
                row += [f"{times['torch f32'][0] / vn:.2f}",
                        f"{times['torch int8'][0] / vn:.2f}",
                        f"{times['torch int8'][0] / at_peak:.2f}"]
            row.append("yes" if same else "NO")
            table.append(row)
        print_table(head, table)
        print("myquant: compiled code called from C (timer.c), the result "
              "malloc included; myquant f32 is the same pipeline, tiled and "
              "vectorized (myquant-vectorize-linalg).")
        if use_torch:
            print(f"PyTorch: called from Python; a frozen TorchScript call "
                  f"costs {torch_call_overhead() * 1e6:.1f} us by itself.")
        print("x ...: that time / myquant int8 vnni time (> 1: myquant is "
              "faster); at peak: PyTorch int8's time / the time of the "
              "model's multiply-accumulates alone at the measured int8 peak, "
              "the bound for any single-thread int8 implementation.\n")

        print("4. artifact size (shared library, batch-1 models; weights "
              "int8 + int32 bias vs f32)\n")
        size_rows = []
        by_model = {}
        for name, tag, size in sizes:
            by_model.setdefault(name, {})[tag] = size
        for name, s in by_model.items():
            model = M.MODELS[name](1)
            size_rows.append([
                name, f"{s['int8 vnni'] / 1024:.1f} KiB",
                f"{s['int8 generic'] / 1024:.1f} KiB",
                f"{s['f32'] / 1024:.1f} KiB",
                f"{M.weight_bytes(model, 1) / 1024:.1f} KiB",
                f"{M.weight_bytes(model, 4) / 1024:.1f} KiB"])
        print_table(["model", ".so int8 vnni", ".so int8 generic",
                     ".so f32", "weights int8", "weights f32"], size_rows)

        print("5. compile time, seconds (target avx512-vnni; calibration "
              "is the numpy reference's)\n")
        depths = [10, 100] + ([1000] if args.deep else [])
        print_table(["graph", "params", "calibrate", "quantize",
                     "lower + LLVM", "total", "ms / layer"],
                    bench_compile(tc, depths, not args.quick))

        if args.threads > 1:
            n = args.threads
            print(f"\n6. batch 64 on {n} threads (myquant: the int8 "
                  f"kernels' batch loops, OpenMP; PyTorch int8 with "
                  f"torch.set_num_threads({n})), ms per call (min)\n")
            table = []
            for name, one, many, torch_time, same in bench_threads(
                    tc, timer, n, budget, use_torch):
                row = [name, f"{one * 1e3:.3f}", f"{many * 1e3:.3f}",
                       f"{one / many:.2f}"]
                if use_torch:
                    row += [f"{torch_time * 1e3:.3f}",
                            f"{torch_time / many:.2f}"]
                table.append(row + ["yes" if same else "NO"])
            print_table(["model", "myquant 1 thread", f"myquant {n} threads",
                         "speed-up"] + ([f"torch int8 {n} threads",
                                         "x torch int8"] if use_torch
                                        else []) + ["same bits"], table)


if __name__ == "__main__":
    main()
