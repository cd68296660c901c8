"""Static memory (myquant-compile --static-memory): the end-to-end models
(test_end_to_end.py) compiled without a heap, called through ctypes with
caller-provided result buffers and an arena, must give outputs bit-identical
to the independent integer reference, whatever the arena held before; the
code must reference no allocator and keep its weights in .rodata.

Run: /usr/bin/python3 -m pytest -q python/tests/test_static_memory.py"""

import os
import re
import subprocess

import numpy as np
import pytest

from conftest import RUNNABLE_TARGETS, ToolError

from myquant import tools as T
from myquant.emit import emit
from myquant.runtime import CompiledFunction
from myquant.testing import model_reference as MR
from test_end_to_end import MODELS, make_case

LLVM_BIN = "/usr/lib/llvm-22/bin"
HEAP_FUNCTIONS = {"malloc", "calloc", "realloc", "free", "aligned_alloc",
                  "posix_memalign", "memalign"}
# The portable kernels and, where this CPU runs them, the x86 ones (whose
# outlined kernels need scratch memory of their own: a nested arena).
TARGETS = ["generic"] + [t for t in ("avx512-vnni",)
                         if t in RUNNABLE_TARGETS]


def _quantized(name, toolchain, workdir):
    """(quantized MLIR file, model, reference output, test input)."""
    model, stats, x = make_case(name)
    quantized, _ = toolchain.quantize(
        emit(model, stats), ["--myquant-propagate-qparams",
                             "--myquant-quantize"], workdir)
    src = os.path.join(workdir, f"{name}.mlir")
    with open(src, "w") as f:
        f.write(quantized)
    want = MR.run_reference(model, stats, x).dequantize()
    return src, model, want, x


def _compile(src, out, target, static, shared=True, header=None):
    args = [src, "--function=forward", f"--target={target}", "-o", out]
    if shared:
        args.append("--shared")
    if static:
        args.append("--static-memory")
    if header:
        args.append(f"--header={header}")
    try:
        T.run_tool("myquant-compile", args)
    except T.ToolError as e:
        raise ToolError(str(e)) from None


def _header_memory(header):
    """The NAME_ARENA_SIZE, ... defines of a header, as a dict."""
    with open(header) as f:
        text = f.read()
    return {key.lower(): int(value) for key, value in re.findall(
        r"#define forward_(ARENA_SIZE|ARENA_ALIGNMENT|PEAK_LIVE|"
        r"WEIGHTS_SIZE) (\d+)", text)}


def _undefined_symbols(path, dynamic):
    cmd = [f"{LLVM_BIN}/llvm-nm", "--undefined-only", "--format=just-symbols"]
    if dynamic:
        cmd.append("-D")
    out = subprocess.run(cmd + [path], capture_output=True, text=True,
                         check=True).stdout
    return {s.split("@")[0] for s in out.split()}


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", sorted(MODELS))
def test_static_memory_bit_exact(name, target, toolchain, workdir):
    src, model, want, x = _quantized(name, toolchain, workdir)
    lib = os.path.join(workdir, "static.so")
    header = os.path.join(workdir, "static.h")
    _compile(src, lib, target, static=True, header=header)
    memory = _header_memory(header)
    assert set(memory) == {"arena_size", "arena_alignment", "peak_live",
                           "weights_size"}, memory
    assert memory["arena_alignment"] == 64
    # The arena is never below the bound the header states; alignment
    # padding puts it at most 144 bytes above on these models
    # (l_channel_scale with the VNNI kernels; benchmarks/static_memory.py:
    # equal with --arena-alignment=1).
    assert memory["peak_live"] <= memory["arena_size"] \
        <= memory["peak_live"] + 3 * memory["arena_alignment"], memory

    heap = _undefined_symbols(lib, dynamic=True) & HEAP_FUNCTIONS
    assert not heap, f"{name}: static code references {sorted(heap)}"

    fn = CompiledFunction(lib, "forward", [model.input_shape], [want.shape],
                          arena_size=memory["arena_size"],
                          arena_alignment=memory["arena_alignment"])
    rng = np.random.default_rng(0)
    for _ in range(2):
        # The arena's previous contents must not matter.
        arena = fn.new_arena()
        arena[:] = rng.integers(0, 256, arena.size, dtype=np.uint8)
        [got] = fn(x, arena=arena)
        assert got.dtype == np.float32 and got.shape == want.shape
        assert np.array_equal(got.view(np.int32), want.view(np.int32)), \
            f"{name} ({target}): static-memory output differs from the " \
            f"integer reference in {np.count_nonzero(got != want)} of " \
            f"{got.size} elements"


@pytest.mark.parametrize("target", TARGETS)
def test_static_object_has_no_heap_and_rodata_weights(target, toolchain,
                                                      workdir):
    """The object file: no allocator symbol, weights read-only (.rodata),
    nothing writable (.data/.bss) to copy to RAM; the heap build does call
    malloc (the check sees what it looks for) and gives the same output."""
    name = "c_residual"
    src, model, want, x = _quantized(name, toolchain, workdir)
    obj = os.path.join(workdir, "static.o")
    header = os.path.join(workdir, "static.h")
    _compile(src, obj, target, static=True, shared=False, header=header)
    assert not _undefined_symbols(obj, dynamic=False) & HEAP_FUNCTIONS

    sections = {}
    out = subprocess.run([f"{LLVM_BIN}/llvm-objdump", "-h", obj],
                         capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0].isdigit():
            sections[parts[1]] = int(parts[2], 16)
    rodata = sum(size for sec, size in sections.items()
                 if sec.startswith(".rodata"))
    writable = {sec: size for sec, size in sections.items()
                if sec.startswith((".data", ".bss")) and size}
    assert rodata >= _header_memory(header)["weights_size"], sections
    assert not writable, f"writable data in the object: {writable}"

    heap_obj = os.path.join(workdir, "heap.o")
    _compile(src, heap_obj, target, static=False, shared=False)
    assert "malloc" in _undefined_symbols(heap_obj, dynamic=False)

    heap_lib = os.path.join(workdir, "heap.so")
    _compile(src, heap_lib, target, static=False)
    [heap_out] = CompiledFunction(heap_lib, "forward", [model.input_shape],
                                  [want.shape])(x)
    static_lib = os.path.join(workdir, "static.so")
    _compile(src, static_lib, target, static=True, header=header)
    memory = _header_memory(header)
    [static_out] = CompiledFunction(
        static_lib, "forward", [model.input_shape], [want.shape],
        arena_size=memory["arena_size"])(x)
    assert np.array_equal(heap_out.view(np.int32), static_out.view(np.int32))


def test_static_memory_refuses_threads(toolchain, workdir):
    src, _, _, _ = _quantized("a_conv_relu_pool_linear", toolchain, workdir)
    with pytest.raises(T.ToolError,
                       match="static-memory excludes threads=2: the OpenMP "
                             "runtime allocates on the heap"):
        T.run_tool("myquant-compile", [
            src, "--function=forward", "--static-memory",
            "--kernel-threads=2", "-o", os.path.join(workdir, "x.o")])
