#!/usr/bin/env python3
"""Per-layer time of a myquant int8 model: each VNNI kernel (a conv or
matmul with its fused epilogue: requantization, activation, fused add or
pool) and the code between kernels (pools and adds that are not fused,
layout conversions, the input's quantization and NCHW -> NHWC, the
output's dequantization).

Mechanism: the model is compiled as `myquant.quantize` compiles it
(myquant-opt --myquant-ptq, then myquant-compile with the same pipeline,
--emit-llvm), and each call of a kernel in the entry function is bracketed
by prof_begin(i) / prof_end(i) (layer_timer.c: a clock read each) before
clang -O3 -march=native compiles the IR as myquant-compile would. The
kernels are `noinline` functions: their code is unchanged, and the brackets
cost two clock reads per kernel call. Each kernel is mapped to its op in the
quantized module through the call's location (myquant-opt
--convert-myquant-to-vnni --mlir-print-debuginfo), which gives its shape
and multiply-accumulates. Times are the minimum over the calls of each
kernel and of each gap; the uninstrumented library's time (its fastest
call) is printed next to the fastest instrumented call, its kernels and
the rest. Within a call the rows add up to the call; the rows' minima add
up to less than the fastest call, by the short interruptions that land in
some layer of every call (on the VM, ~3% of the CPU time: the header line
measures them) and the cache misses after them.

    /usr/bin/python3 benchmarks/layer_profile.py [--build build]
        [--models resnet50,mobilenet_v2,resnet18] [--batch 1] [--calib 4]
    /usr/bin/python3 benchmarks/layer_profile.py --kernels   # warm vs cold
    /usr/bin/python3 benchmarks/layer_profile.py --float --models resnet18

--float profiles myquant's f32 path instead (the float model as exported,
compiled as float_path.py compiles it): each f32 kernel (a conv or matmul
with its fused bias, add and clamp), named by its torch module, and the ops
left to the generic lowering between kernels (pads, pools, adds,
activations, transposes), in CPU time of the thread (layer_timer.c
prof_cpu_time), next to PyTorch f32 (frozen, optimize_for_inference).
"""

import argparse
import ctypes
import os
import re
import sys
import tempfile
import time
from collections import namedtuple

import omp_env  # noqa: E402,F401  (before numpy and torch)

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "python"))
sys.path.insert(0, HERE)

from bench import CC, Compiled, Timer, measure_peak, print_table, sh  # noqa
from bench import tune_malloc  # noqa: E402

TARGET = "avx512-vnni"
# The fastest instrumented call: its time, its kernels' time, the rest
# (between kernels), and the clock.
Fastest = namedtuple("Fastest", "call kernels rest clock")
_SHAPE = re.compile(r"tensor<(\d+(?:x\d+)*)x")
_OP = re.compile(r"=\s*(?:myquant|tensor)\.([a-z_0-9]+)")


def _ints(attr, line):
    m = re.search(attr + r" = array<i64: ([\d, ]+)>", line)
    return [int(v) for v in m.group(1).split(",")] if m else None


def describe(line):
    """(label, multiply-accumulates, weight bytes) of the conv2d or
    matmul op on a line of the quantized module."""
    shapes = [[int(d) for d in s.split("x")] for s in _SHAPE.findall(line)]
    op = _OP.search(line).group(1)
    out = shapes[-1]
    if op == "matmul":
        lhs, rhs = shapes[0], shapes[1]
        k = lhs[-1]
        macs = int(np.prod(out)) * k
        return (f"matmul {int(np.prod(lhs[:-1]))}x{k} -> {out[-1]}", macs,
                int(np.prod(rhs)))
    inp, w = shapes[0], shapes[1]
    nhwc = "layout<nhwc>" in line
    cin = inp[3] if nhwc else inp[1]
    hw = inp[1] if nhwc else inp[2]
    groups = int(re.search(r"groups = (\d+)", line).group(1))
    stride = (_ints("strides", line) or [1])[0]
    kind = "dw " if groups > 1 and groups == cin else \
        f"g{groups} " if groups > 1 else ""
    label = (f"{kind}conv {w[2]}x{w[3]}{f'/{stride}' if stride > 1 else ''}"
             f" {cin}->{w[0]} @{hw}")
    return label, int(np.prod(out)) * int(np.prod(w[1:])), int(np.prod(w))


def kernel_lines(opt, qpath, entry):
    """Kernel function name -> line of its op in the quantized module,
    through the location of its call."""
    out = qpath + ".vnni.mlir"
    sh([opt, qpath, "--mlir-print-debuginfo",
        "--mlir-elide-elementsattrs-if-larger=16", "--myquant-set-target",
        f"--convert-myquant-to-vnni=target={TARGET}", "-o", out])
    with open(out) as f:
        text = f.read()
    aliases = dict(re.findall(r'^(#loc\d*) = loc\("[^"]*":(\d+):\d+\)', text,
                              re.M))
    lines = {}
    for m in re.finditer(rf"call @({entry}_kernel\w*)\(.*loc\(([^)]*)\)",
                         text):
        loc = m.group(2)
        line = aliases.get(loc) or re.search(r":(\d+):\d+", loc).group(1)
        lines[m.group(1)] = int(line)
    return lines


def instrument(ll, entry):
    """The LLVM IR with each kernel call of `entry` bracketed by
    prof_begin(i) / prof_end(i); and the kernels in call order."""
    out, order, inside = [], [], False
    call = re.compile(rf"^\s*call void @({entry}_kernel\w*)\(")
    for line in ll.splitlines():
        if line.startswith("define ") and f"@{entry}(" in line:
            inside = True
        elif inside and line == "}":
            inside = False
        m = call.match(line) if inside else None
        if m:
            i = len(order)
            order.append(m.group(1))
            out += [f"  call void @prof_begin(i32 {i})", line,
                    f"  call void @prof_end(i32 {i})"]
        else:
            out.append(line)
    out += ["declare void @prof_begin(i32)", "declare void @prof_end(i32)"]
    return "\n".join(out) + "\n", order


def between(qlines, lo, hi):
    """The ops other than conv2d / matmul / rescale on lines lo < l < hi
    of the quantized module, with counts ('max_pool2d, 2 add')."""
    counts = {}
    for line in qlines[lo:hi - 1]:
        m = _OP.search(line)
        if m and m.group(1) not in ("conv2d", "matmul", "rescale"):
            counts[m.group(1)] = counts.get(m.group(1), 0) + 1
    return ", ".join(k if n == 1 else f"{n} {k}" for k, n in counts.items())


def timer_library(workdir):
    """layer_timer.c as a library of its own (-O3 -march=native: read_all
    vectorized)."""
    so = os.path.join(workdir, "layer_timer.so")
    sh([CC, "-O3", "-march=native", "-shared", "-fPIC",
        os.path.join(HERE, "layer_timer.c"), "-o", so])
    return ctypes.CDLL(so)


def interruptions(workdir, seconds=0.3):
    """(per ms, mean seconds, fraction) of the short interruptions that a
    running thread's CPU time includes (layer_timer.c interruptions: gaps
    of 2 us to 1 ms in a loop reading the clock; under load they include
    short waits for a core, outside CPU time): a call of the model pays
    for those that land in it, a row's minimum over calls mostly not."""
    lib = timer_library(workdir)
    lib.interruptions.argtypes = [ctypes.c_double, ctypes.c_double,
                                  ctypes.POINTER(ctypes.c_int64),
                                  ctypes.POINTER(ctypes.c_double)]
    lib.interruptions.restype = ctypes.c_double
    count, cpu = ctypes.c_int64(), ctypes.c_double()
    lost = lib.interruptions(seconds, 2e-6, ctypes.byref(count),
                             ctypes.byref(cpu))
    return (count.value / cpu.value / 1e3, lost / max(count.value, 1),
            lost / cpu.value)


def memory_bandwidth(workdir):
    """Read bandwidth from memory, GB/s: the fastest 8 MiB slice of
    sequential sums over 256 MiB (the slices are short enough that a
    loaded machine leaves some uninterrupted; past the first ones they
    come from memory)."""
    lib = timer_library(workdir)
    lib.read_all.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    lib.read_all.restype = ctypes.c_int64
    buf = np.ones(32 << 20, np.int64)
    slice_words = 1 << 20
    best = 0.0
    for _ in range(3):
        for start in range(0, buf.size, slice_words):
            t0 = time.perf_counter()
            lib.read_all(buf.ctypes.data + 8 * start, slice_words)
            best = max(best, 8 * slice_words / (time.perf_counter() - t0))
    return best / 1e9


class Profiler:
    def __init__(self, build, workdir):
        self.opt = os.path.join(build, "bin", "myquant-opt")
        self.compile = os.path.join(build, "bin", "myquant-compile")
        self.workdir = workdir
        self.timer_c = os.path.join(HERE, "layer_timer.c")

    def library(self, qpath, entry="forward", threads=1):
        """(shared library with bracketed kernel calls, kernels in call
        order, kernel -> line of its op)."""
        so, order = self.instrumented(qpath, entry, threads)
        return so, order, kernel_lines(self.opt, qpath, entry)

    def instrumented(self, qpath, entry="forward", threads=1):
        """(shared library with bracketed kernel calls, kernels in call
        order); `threads`: myquant-compile --kernel-threads."""
        ll = qpath + f".t{threads}.ll"
        sh([self.compile, qpath, f"--function={entry}", "--emit-llvm",
            "-o", ll, f"--target={TARGET}", f"--kernel-threads={threads}"])
        with open(ll) as f:
            text, order = instrument(f.read(), entry)
        with open(ll, "w") as f:
            f.write(text)
        so = qpath + f".t{threads}.prof.so"
        sh([CC, "-O3", "-Wno-override-module", "-fPIC", "-shared",
            "-march=native", "-x", "ir", ll, "-x", "c", self.timer_c,
            "-o", so, "-lm"] + (["-fopenmp"] if threads > 1 else []))
        return so, order

    def run(self, so, n, x, out_shape, calls, cpu_time=False):
        """Min over `calls` calls of the instrumented library `so` with n
        kernel calls: (kernel times, gap times, fastest call), wall or CPU
        time; the fastest call: Fastest (its time, its kernels' and the
        rest, and the clock's name)."""
        fn = Compiled(so, "forward", x, out_shape, np.float32)
        fn()
        lib = fn.lib
        lib.prof_cpu_time(int(cpu_time))
        lib.prof_run.argtypes = [ctypes.c_void_p] * 3 + [
            ctypes.c_int32, ctypes.c_int64] + [ctypes.c_void_p] * 3
        kernel, gap = (ctypes.c_double * max(n, 1))(), \
            (ctypes.c_double * (n + 1))()
        fastest = (ctypes.c_double * 3)()
        if lib.prof_run(fn.fn, ctypes.addressof(fn.result),
                        ctypes.addressof(fn.arg), n, calls, kernel, gap,
                        fastest):
            raise RuntimeError(f"{n} kernels: more than layer_timer.c holds")
        return kernel, gap, Fastest(*fastest, "CPU time" if cpu_time
                                    else "wall time")

    def float_rows(self, path, x, out_shape, calls):
        """Rows (kind, label, CPU seconds, MACs, 0) of the float model at
        `path` in the order they run: each f32 kernel named by the loc of
        its op (the torch module), each gap by the ops left in it; and the
        instrumented call's CPU time."""
        so, order = self.instrumented(path)
        ops = float_ops(self.opt, path, "forward")
        calls_at = [i for i, op in enumerate(ops) if op[0] == "call"]
        if len(calls_at) != len(order):
            raise RuntimeError(f"{len(order)} kernel calls in the library, "
                               f"{len(calls_at)} in the module")
        kernel, gap, fastest = self.run(so, len(order), x, out_shape,
                                        calls, cpu_time=True)
        with open(path) as f:
            macs = float_macs(f.read())

        def between(lo, hi):
            counts = {}
            for op, loc in ops[lo:hi]:
                key = f"{op} {loc}"
                counts[key] = counts.get(key, 0) + 1
            return ", ".join(k if n == 1 else f"{n} {k}"
                             for k, n in counts.items()) or "-"

        rows, prev = [], 0
        for i, at in enumerate(calls_at):
            rows.append(("between", between(prev, at), gap[i], 0, 0))
            name = ops[at][1]
            rows.append(("kernel", name, kernel[i], macs.get(name, 0), 0))
            prev = at + 1
        rows.append(("between", between(prev, len(ops)), gap[len(order)], 0,
                     0))
        return rows, fastest.call

    def profile(self, qpath, x, out_shape, calls, threads=1,
                cpu_time=False):
        """Rows (kind, label, seconds, MACs, weight bytes) in the order
        they run ('kernel' or 'between'), the fastest instrumented call
        (Fastest)."""
        so, order, lines = self.library(qpath, threads=threads)
        n = len(order)
        kernel, gap, fastest = self.run(so, n, x, out_shape, calls,
                                        cpu_time)
        with open(qpath) as f:
            qlines = f.read().splitlines()
        rows, prev = [], 0
        for i, name in enumerate(order):
            line = lines[name]
            rows.append(("between", between(qlines, prev, line) or "-",
                         gap[i], 0, 0))
            label, macs, wbytes = describe(qlines[line - 1])
            rows.append(("kernel", label, kernel[i], macs, wbytes))
            prev = line
        rows.append(("between", between(qlines, prev, len(qlines) + 1)
                     or "-", gap[n], 0, 0))
        return rows, fastest


def profile_build(build, qdir, x, out_shape, calls, timer, workdir,
                  cpu_time=False):
    """(rows, fastest instrumented call (Fastest), uninstrumented call)
    of the model that a
    `myquant.quantize` build directory holds (model.q.mlir, libmodel.so),
    on input x; rows in the thread's CPU time if `cpu_time`."""
    rows, fastest = Profiler(build, workdir).profile(
        os.path.join(qdir, "model.q.mlir"), x, out_shape, calls,
        cpu_time=cpu_time)
    plain = Compiled(os.path.join(qdir, "libmodel.so"), "forward", x,
                     out_shape, np.float32)
    return rows, fastest, timer.fastest(plain, calls, 1.0)


def print_profile(title, rows, fastest, plain, peak, bandwidth):
    """The per-layer table and its summary; fastest: the fastest
    instrumented call (Fastest)."""
    out = []
    kern = sum(r[2] for r in rows if r[0] == "kernel")
    gaps = sum(r[2] for r in rows if r[0] == "between")
    # The rows' sum: under load the instrumented call's own fastest time
    # includes waiting for a core, its rows' minima do not.
    rows_total = kern + gaps
    macs = sum(r[3] for r in rows)
    for kind, label, t, m, wbytes in rows:
        if kind == "between":
            if t < 2e-6:
                continue
            out.append(["", f"  (between: {label})", f"{t * 1e6:8.1f}",
                        f"{100 * t / rows_total:5.1f}%", "", "", "", ""])
            continue
        g = 2 * m / t / 1e9
        bw = wbytes / t / 1e9
        # One output row (each weight used once) and weights larger than
        # L2: they come from memory or L3 on each call.
        gemv = m == wbytes and wbytes > 1 << 20
        out.append([len([r for r in out if r[0]]) + 1, label,
                    f"{t * 1e6:8.1f}", f"{100 * t / rows_total:5.1f}%",
                    f"{m / 1e6:8.2f}", f"{g:6.1f}", f"{100 * g / peak:5.1f}%",
                    f"{bw:5.1f} GB/s = {100 * bw / bandwidth:.0f}% of memory"
                    if gemv else ""])
    print(title)
    print_table(["#", "layer (int8 kernel + fused epilogue)", "us", "% rows",
                 "MMACs", "GOP/s", "% peak", "weights (GEMV)"], out)
    print(f"kernels {kern * 1e3:.3f} ms ({100 * kern / rows_total:.1f}%, "
          f"{2 * macs / kern / 1e9:.1f} GOP/s = "
          f"{100 * 2 * macs / kern / 1e9 / peak:.1f}% of peak), between "
          f"kernels {gaps * 1e3:.3f} ms ({100 * gaps / rows_total:.1f}%); "
          f"uninstrumented call {plain * 1e3:.3f} ms (CPU time, fastest "
          f"call), {2 * macs / plain / 1e9:.1f} GOP/s over its "
          f"{macs / 1e6:.0f} MMACs; fastest instrumented call "
          f"{fastest.call * 1e3:.3f} ms ({fastest.clock}): kernels "
          f"{fastest.kernels * 1e3:.3f} ms, the rest "
          f"{fastest.rest * 1e3:.3f} ms (above the rows: time no call "
          f"avoided in every layer, such as interruptions)\n")


def quantized_zoo(name, batch, calib_n, workdir):
    """(QuantizedModel, input images, output shape) of a zoo or example
    model."""
    import myquant
    import torch
    from calibration import torch_model
    from zoo import images
    model, size = torch_model(name, 224)
    qm = myquant.quantize(model, images(calib_n, size=size, seed=1),
                          cache_dir=os.path.join(workdir, "cache"))
    x = images(batch, size=size, seed=2)
    with torch.no_grad():
        out_shape = tuple(model(torch.from_numpy(x)).shape)
    return qm, x, out_shape


def run(build, names, batch, calib_n, calls, peak, bandwidth, workdir,
        timer, cpu_time=False):
    for name in names:
        qm, x, out_shape = quantized_zoo(name, batch, calib_n, workdir)
        rows, fastest, plain = profile_build(
            build, qm._build(batch, None, True), x, out_shape, calls, timer,
            workdir, cpu_time)
        clock = "CPU time" if cpu_time else "wall time"
        size = x.shape[-1]
        print_profile(f"{name}, batch {batch}, {size} x {size}, one thread "
                      f"(min of {calls} calls, {clock})", rows, fastest, plain,
                      peak, bandwidth)
        qm.close()


def fork_join(workdir, threads, regions=2000):
    """(min, median) seconds of an empty OpenMP region on `threads`
    threads (omp_region.c), right after a region and 20 us after one."""
    so = os.path.join(workdir, "omp_region.so")
    sh([CC, "-O2", "-fopenmp", "-shared", "-fPIC",
        os.path.join(HERE, "omp_region.c"), "-o", so])
    lib = ctypes.CDLL(so)
    lib.time_regions.argtypes = [ctypes.c_int32, ctypes.c_int64,
                                 ctypes.c_double, ctypes.c_void_p]
    out = (ctypes.c_double * regions)()
    result = {}
    for gap in (0.0, 20.0):
        lib.time_regions(threads, regions, gap, out)
        result[gap] = (min(out), float(np.median(list(out))))
    return result


def thread_profile(build, names, batch, calib_n, calls, threads, rounds,
                   workdir, timer):
    """The per-kernel table on one thread and on `threads` threads
    (myquant-compile --kernel-threads), wall time, min over `rounds`
    alternating rounds of `calls` calls each."""
    from myquant import tools as T
    for name in names:
        qm, x, out_shape = quantized_zoo(name, batch, calib_n, workdir)
        qdir = qm._build(batch, None, True)
        qpath = os.path.join(qdir, "model.q.mlir")
        so = {1: os.path.join(qdir, "libmodel.so"),
              threads: os.path.join(qdir, f"t{threads}.so")}
        T.compile_shared(qpath, so[threads],
                         extra_args=[f"--kernel-threads={threads}"])
        prof = Profiler(build, workdir)
        best, plain = {}, {}
        for _ in range(rounds):
            for t in (1, threads):
                rows, _ = prof.profile(qpath, x, out_shape, calls, t)
                best[t] = rows if t not in best else [
                    r[:2] + (min(r[2], b[2]),) + r[3:]
                    for r, b in zip(rows, best[t])]
                fn = Compiled(so[t], "forward", x, out_shape, np.float32)
                plain[t] = min(plain.get(t, 1e30),
                               timer.fastest(fn, calls, 1.0, True))
        out = []
        for one, many in zip(best[1], best[threads]):
            kind, label, t1, macs, _ = one
            tn = many[2]
            if kind == "between" and max(t1, tn) < 2e-6:
                continue
            out.append([len([r for r in out if r[0]]) + 1
                        if kind == "kernel" else "",
                        label if kind == "kernel" else f"  (between: {label})",
                        f"{macs / 1e6:.2f}" if macs else "",
                        f"{t1 * 1e6:.1f}", f"{tn * 1e6:.1f}",
                        f"{t1 / tn:.2f}"])
        print(f"{name}, batch {batch}, 224 x 224, 1 vs {threads} threads "
              f"(wall time, min of {rounds} x {calls} calls; load "
              f"{os.getloadavg()[0]:.1f})")
        print_table(["#", "layer (int8 kernel + fused epilogue)", "MMACs",
                     "1t us", f"{threads}t us", "speed-up"], out)
        sums = {t: sum(r[2] for r in best[t]) for t in best}
        print(f"rows: 1 thread {sums[1] * 1e3:.3f} ms, {threads} threads "
              f"{sums[threads] * 1e3:.3f} ms; uninstrumented calls (wall, "
              f"fastest) {plain[1] * 1e3:.3f} / {plain[threads] * 1e3:.3f} "
              f"ms\n")
        qm.close()
    # After the models: libomp runs with the settings their libraries gave
    # it (myquant-openmp-wait-policy).
    for gap, (lo, med) in fork_join(workdir, threads).items():
        print(f"empty OpenMP region on {threads} threads, {gap:.0f} us "
              f"after the last: min {lo * 1e6:.2f} us, median "
              f"{med * 1e6:.2f} us (load {os.getloadavg()[0]:.1f})")


_LOC = re.compile(r'loc\("([^"]*)"\)')
_FLOAT_OP = re.compile(r"^\s*(?:%\S+ = )?(linalg\.\w+|tensor\.pad|call)\b")


def float_macs(text):
    """Loc name -> multiply-accumulates of each f32 conv or matmul of a
    float model as the exporter emits it (one op per line)."""
    macs = {}
    for line in text.splitlines():
        m = re.search(r"= linalg\.(conv_2d\w*|depthwise_conv\w*|matmul)", line)
        loc = _LOC.search(line)
        if not m or not loc:
            continue
        shapes = [[int(d) for d in t.split("x")] for t in _SHAPE.findall(line)]
        inp, w, out = shapes[0], shapes[1], shapes[-1]
        if m.group(1) == "matmul":
            macs[loc.group(1)] = int(np.prod(out)) * inp[-1]
        elif m.group(1).startswith("depthwise"):
            macs[loc.group(1)] = int(np.prod(out)) * int(np.prod(w[1:]))
        else:
            macs[loc.group(1)] = int(np.prod(out)) * int(np.prod(w[1:]))
    return macs


def float_ops(opt, path, entry):
    """The entry function of the float model at `path` after
    convert-linalg-to-float-kernels, in order: (op, loc name) of each
    kernel call ('call') and of each linalg op or pad left to the generic
    lowering (a multi-line op takes the first name on or after its line)."""
    out = path + ".fk.mlir"
    sh([opt, path, "--mlir-print-debuginfo", "--mlir-print-local-scope",
        "--mlir-elide-elementsattrs-if-larger=16", "--myquant-set-target",
        f"--convert-linalg-to-float-kernels=target={TARGET}", "-o", out])
    with open(out) as f:
        lines = f.read().splitlines()
    start = next(i for i, line in enumerate(lines)
                 if f"func.func @{entry}(" in line)
    ops = []
    for i in range(start + 1, len(lines)):
        if lines[i].startswith("  }"):
            break
        m = _FLOAT_OP.match(lines[i])
        if not m or m.group(1) == "linalg.yield":
            continue
        name = next((n.group(1) for j in range(i, len(lines))
                     for n in [_LOC.search(lines[j])] if n), "?")
        ops.append((m.group(1).split(".")[-1], name))
    return ops


def float_profile(build, name, batch, calls, peak, workdir, timer):
    """The per-layer table of myquant's f32 path on a zoo model: each f32
    kernel (conv or matmul with its fused bias and clamp) and the generic
    code between kernels (pads, pools, adds, activations, transposes),
    with PyTorch f32 (frozen, optimize_for_inference) on the same input."""
    import torch
    from bench import Toolchain, python_fastest
    from float_path import torch_f32
    from myquant import emit as E
    from myquant.export import export
    from zoo import images, zoo_model
    model = zoo_model(name)
    x = images(batch, seed=2)
    text = E.emit(export(model, x))
    path = os.path.join(workdir, f"{name}.f32.mlir")
    with open(path, "w") as f:
        f.write(text)
    with torch.no_grad():
        out_shape = tuple(model(torch.from_numpy(x)).shape)
    rows, total = Profiler(build, workdir).float_rows(path, x, out_shape,
                                                      calls)
    so_plain, _ = Toolchain(build, workdir).shared(text, TARGET)
    plain = timer.fastest(Compiled(so_plain, "forward", x, out_shape,
                                   np.float32), calls, 1.0)
    xt = torch.from_numpy(x)
    flt = torch_f32(model, xt)
    with torch.no_grad():
        theirs = python_fastest(lambda: flt(xt), calls, 1.0)
    kern = sum(r[2] for r in rows if r[0] == "kernel")
    gaps = sum(r[2] for r in rows if r[0] == "between")
    out = []
    for kind, label, t, m, _ in rows:
        if kind == "between":
            if t >= 2e-6:
                out.append(["", f"  (between: {label})"[:110],
                            f"{t * 1e6:8.1f}",
                            f"{100 * t / (kern + gaps):5.1f}%", "", "", ""])
            continue
        g = 2 * m / t / 1e9
        out.append([len([r for r in out if r[0]]) + 1, label,
                    f"{t * 1e6:8.1f}", f"{100 * t / (kern + gaps):5.1f}%",
                    f"{m / 1e6:8.2f}", f"{g:6.1f}", f"{100 * g / peak:5.1f}%"])
    print(f"{name} f32, batch {batch}, 224 x 224, one thread (min of "
          f"{calls} calls)")
    print_table(["#", "layer (f32 kernel + fused epilogue)", "us", "% rows",
                 "MMACs", "GFLOP/s", "% FMA peak"], out)
    print(f"kernels {kern * 1e3:.3f} ms ({100 * kern / (kern + gaps):.1f}%), "
          f"between kernels {gaps * 1e3:.3f} ms "
          f"({100 * gaps / (kern + gaps):.1f}%); uninstrumented call "
          f"{plain * 1e3:.3f} ms, PyTorch f32 {theirs * 1e3:.3f} ms (CPU "
          f"time, fastest call): ratio {plain / theirs:.2f}x; instrumented "
          f"call {total * 1e3:.3f} ms (CPU time; rows: the minima of "
          f"each)\n")


# Convolutions of ResNet sizes (bench.kernel_module's NHWC shapes: layout,
# N, C, H, W, F, kernel, stride) whose weights exceed L2 or not.
KERNELS = [
    ("nhwc", 1, 512, 7, 7, 512, 3, 1), ("nhwc", 1, 512, 14, 14, 512, 3, 1),
    ("nhwc", 1, 256, 7, 7, 256, 3, 1), ("nhwc", 1, 256, 14, 14, 256, 3, 1),
    ("nhwc", 1, 128, 7, 7, 128, 3, 1), ("nhwc", 1, 1024, 14, 14, 256, 1, 1),
    ("nhwc", 1, 2048, 7, 7, 512, 1, 1)]


def cold_kernels(build, peak, calls, workdir):
    """One conv per shape (bench.kernel_module): % of the peak with warm
    caches (the same call repeated) and cold (64 MiB written between
    calls), the fastest of `calls` calls each."""
    from bench import Toolchain, kernel_module
    tc = Toolchain(build, workdir)
    lib = timer_library(workdir)
    lib.time_cold.argtypes = [ctypes.c_void_p] * 3 + [ctypes.c_int64] * 2
    lib.time_cold.restype = ctypes.c_double
    rng = np.random.default_rng(0)
    rows = []
    for shape in KERNELS:
        text, x, ys, macs = kernel_module("conv", shape, rng)
        fn = Compiled(tc.shared(text, TARGET)[0], "forward", x, ys, np.int8)
        args = (fn.fn, ctypes.addressof(fn.result), ctypes.addressof(fn.arg))
        warm = lib.time_cold(*args, calls, 0)
        cold = lib.time_cold(*args, calls, 64 << 20)
        _, _, c, h, _, f, k, s = shape
        rows.append([f"conv {k}x{k} {c}->{f} @{h}",
                     f"{k * k * c * f / 1024:.0f}",
                     f"{200 * macs / warm / 1e9 / peak:.0f}%",
                     f"{200 * macs / cold / 1e9 / peak:.0f}%"])
    print_table(["kernel (NHWC, int8)", "weights KiB", "warm % peak",
                 "cold % peak"], rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--models", default="resnet50,mobilenet_v2,resnet18")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--calib", type=int, default=4,
                    help="calibration images (the ranges do not change the "
                         "time)")
    ap.add_argument("--calls", type=int, default=20)
    ap.add_argument("--float", action="store_true",
                    help="myquant's f32 path instead of int8, against "
                         "PyTorch f32")
    ap.add_argument("--cpu-time", action="store_true",
                    help="rows in the thread's CPU time instead of wall "
                         "time (a batch-16 row is too long to run "
                         "uninterrupted on a loaded machine)")
    ap.add_argument("--kernels", action="store_true",
                    help="single convolutions with warm and cold caches "
                         "instead of the models")
    ap.add_argument("--threads", type=int, default=1,
                    help="above 1: each int8 kernel on one thread and on "
                         "this many (--kernel-threads), wall time, and the "
                         "cost of an empty OpenMP region")
    ap.add_argument("--rounds", type=int, default=3,
                    help="--threads: alternating rounds, min over them")
    args = ap.parse_args()
    os.environ["MYQUANT_BUILD_DIR"] = os.path.abspath(args.build)
    tune_malloc()
    import torch
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="myquant-prof-") as d:
        peak = measure_peak(d)
        bandwidth = memory_bandwidth(d)
        rate, mean, share = interruptions(d)
        print(f"vpdpbusd peak {peak:.1f} GOP/s, memory read bandwidth "
              f"{bandwidth:.1f} GB/s (one thread); load average "
              f"{os.getloadavg()[0]:.1f}; interruptions of a running "
              f"thread: {rate:.2f} per ms, {mean * 1e6:.1f} us each, "
              f"{100 * share:.1f}% of its CPU time\n")
        if args.float:
            from float_path import measure_fma_peak
            fma = measure_fma_peak(d, ["-mavx512f", "-mfma"])
            print(f"f32 FMA peak {fma:.1f} GFLOP/s (zmm, one thread)\n")
            for name in args.models.split(","):
                float_profile(args.build, name, args.batch, args.calls, fma,
                              d, Timer(d))
        elif args.threads > 1:
            thread_profile(args.build, args.models.split(","), args.batch,
                           args.calib, args.calls, args.threads, args.rounds,
                           d, Timer(d))
        elif args.kernels:
            cold_kernels(args.build, peak, 5 * args.calls, d)
        else:
            run(args.build, args.models.split(","), args.batch, args.calib,
                args.calls, peak, bandwidth, d, Timer(d), args.cpu_time)


if __name__ == "__main__":
    main()
