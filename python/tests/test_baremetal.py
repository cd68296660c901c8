"""FPU-less cross targets under qemu (issue 16, docs/Targets.md): integer-io
models compiled with myquant-compile --target-preset for Cortex-M0+, M4,
M7 and RV32IMAC, linked with the example main that myquant-compile writes
and runs on qemu's boards (myquant.baremetal). Their int8 results must be
bit-identical to the same program built for the host (whose object uses
the host's default kernels and the heap) and to the numpy integer
reference; each cross object must have no floating-point instruction and
call no soft-float helper. On the boards the models are compiled with
--static-memory (static arena and result buffers in the example main):
neither the object nor the linked program has an allocator.

Skipped only where a board's toolchain or emulator is not installed
(scripts/install-deps.sh installs them)."""

import functools
import os
import re
import subprocess

import numpy as np
import pytest

from conftest import (ToolError, randomize_batchnorm, require_torch,
                      run_checked)
from test_end_to_end import MODELS, make_case

from myquant import baremetal as BM
from myquant import qparams as Q
from myquant import tools as T
from myquant.emit import emit
from myquant.testing import model_reference as MR

LLVM_BIN = "/usr/lib/llvm-22/bin"

# Soft-float helpers of the ARM EABI and libgcc / compiler-rt: an integer
# model calls none.
SOFT_FLOAT = re.compile(r"^(__aeabi_[fd]|__aeabi_[il]2[fd]|__aeabi_ui2[fd]|"
                        r"__aeabi_ul2[fd]|__(add|sub|mul|div|neg|cmp|eq|ne|"
                        r"lt|le|gt|ge|unord)[sdt]f[23]|__fix|__float|"
                        r"__extend|__trunc)")
# FPU instructions: VFP (v<op>.f32/.f64, vmov to s/d registers) and RISC-V
# F/D (f<op>.s/.d, flw/fsw/fld/fsd).
FP_INSTRUCTION = re.compile(r"\bv[a-z]+\.f(16|32|64)\b|\bvmov\b.*\b[sd]\d+\b|"
                            r"\bf[a-z.]+\.[sd]\b|\bf(lw|sw|ld|sd)\b")


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    """Built once per module: the quantized models and host programs every
    board compares with."""
    return str(tmp_path_factory.mktemp("baremetal"))


@functools.lru_cache(maxsize=None)
def _e2e_case(name, toolchain, cache_dir):
    """(integer-io quantized MLIR, int8 input, int8 results of the host
    program) of an end-to-end test model quantized by myquant-ptq; the host
    results must equal the numpy integer reference."""
    model, stats, x = make_case(name)
    d = os.path.join(cache_dir, name)
    text, xq = BM.quantize_integer_io(emit(model, stats), x, d)
    host, _ = _build_and_run(toolchain, d, text, [xq], "host", None)
    want = MR.run_reference(model, stats, x).q
    assert np.array_equal(host[0], want.ravel()), \
        f"{name}: the host program differs from the integer reference"
    return text, xq, host[0]


def _build_and_run(toolchain, workdir, mlir_text, inputs, preset, board,
                   compile_args=(), dtype=np.int64):
    """myquant.baremetal.build_and_run in workdir/<preset>; a failing tool
    is a failed check."""
    try:
        return BM.build_and_run(toolchain.compile,
                                os.path.join(workdir, preset), mlir_text,
                                inputs, preset, board,
                                compile_args=compile_args, dtype=dtype)
    except (T.ToolError, BM.BoardError) as e:
        raise ToolError(str(e)) from None


def _check_integer_only(obj):
    """No FPU instruction and no soft-float helper in a cross object."""
    nm = subprocess.run([f"{LLVM_BIN}/llvm-nm", "-u", obj],
                        capture_output=True, text=True, check=True).stdout
    helpers = [s for s in nm.split() if SOFT_FLOAT.match(s)]
    assert not helpers, f"{obj} calls soft-float helpers: {helpers}"
    dis = subprocess.run([f"{LLVM_BIN}/llvm-objdump", "-d", obj],
                         capture_output=True, text=True, check=True).stdout
    fp = [line.strip() for line in dis.splitlines()
          if FP_INSTRUCTION.search(line.split(":", 1)[-1])]
    assert not fp, f"{obj} has floating-point instructions: {fp[:5]}"


def _check_no_heap(obj):
    """A static-memory object references no allocator, and the program
    that build_and_run linked from it and its example main (model.elf next
    to it) has none in its image: no malloc, free or sbrk of the C
    library either."""
    nm = subprocess.run([f"{LLVM_BIN}/llvm-nm", "-u", obj],
                        capture_output=True, text=True, check=True).stdout
    assert not set(BM.HEAP_FUNCTIONS) & set(nm.split()), \
        f"{obj} references the heap"
    image = os.path.join(os.path.dirname(obj), "model.elf")
    assert not BM.heap_functions_in(image), \
        f"an allocator in the image: {BM.heap_functions_in(image)}"


def _board(name):
    board = BM.BOARDS[name]
    missing = BM.missing_tools(board)
    if missing:
        pytest.skip(f"{name}: not installed: {', '.join(missing)} "
                    f"(scripts/install-deps.sh)")
    return board


# The boards of the targets; the vector board runs the example
# model and test_rv32_vectors_fewer_instructions (benchmarks/baremetal.py
# runs every model on it).
E2E_BOARDS = ["cortex-m0plus", "cortex-m4", "cortex-m7", "rv32imac"]


@pytest.mark.parametrize("board_name", E2E_BOARDS)
@pytest.mark.parametrize("name", sorted(MODELS))
def test_e2e_model_on_board(name, board_name, toolchain, workdir,
                            cache_dir):
    board = _board(board_name)
    text, xq, host = _e2e_case(name, toolchain, cache_dir)
    got, obj = _build_and_run(toolchain, workdir, text, [xq], board.preset,
                              board, ["--static-memory"])
    assert np.array_equal(got[0], host), \
        f"{name} on {board_name}: {np.count_nonzero(got[0] != host)} " \
        f"of {host.size} int8 results differ from the host's"
    _check_integer_only(obj)
    _check_no_heap(obj)


def test_instruction_count_on_known_loop(workdir):
    """The instruction counts of benchmarks/baremetal.py --instructions
    (qemu -icount shift=0, SysTick read around the model call) on a call
    that runs a loop of two instructions n times: 2 n, to the 40
    instructions of a SysTick tick and the call's own few."""
    board = BM.counting_instructions(_board("cortex-m4"))
    loop = os.path.join(workdir, "loop.c")
    with open(loop, "w") as f:
        f.write("void _mlir_ciface_forward(unsigned *n) {\n"
                "  unsigned i = *n;\n"
                "  __asm__ volatile(\"1: subs %0, %0, #1\\n bne 1b\"\n"
                "                   : \"+r\"(i));\n}\n")
    main = os.path.join(workdir, "main.c")
    counts = {}
    for n in (1000, 100000):
        with open(main, "w") as f:
            f.write("void _mlir_ciface_forward(unsigned *n);\n"
                    f"int main(void) {{ unsigned n = {n}u;\n"
                    "  _mlir_ciface_forward(&n); return 0; }\n")
        elf = os.path.join(workdir, f"loop{n}.elf")
        try:
            BM.link(board, [main, loop], elf)
            counts[n] = BM.parse_instructions(BM.run(board, elf))
        except BM.BoardError as e:
            raise ToolError(str(e)) from None
        assert abs(counts[n] - 2 * n) <= 80, (n, counts[n])
    assert counts[100000] - counts[1000] == 2 * 99000


def test_dsp_fewer_instructions_and_generic_exact(toolchain, workdir,
                                                  cache_dir):
    """On the Cortex-M4, the SMLAD path (the default) executes fewer
    instructions than --target=generic on a model with paired
    convolutions, and both give the host's int8 results."""
    board = BM.counting_instructions(_board("cortex-m4"))
    text, xq, host = _e2e_case("c_residual", toolchain, cache_dir)
    counts = {}
    for kind, args in (("generic", ["--target=generic"]), ("dsp", [])):
        try:
            got, obj, out = BM.build_and_run(
                toolchain.compile, os.path.join(workdir, kind), text, [xq],
                board.preset, board, compile_args=args, with_output=True)
        except (T.ToolError, BM.BoardError) as e:
            raise ToolError(str(e)) from None
        assert np.array_equal(got[0], host), f"{kind}: {got[0]} != {host}"
        dis = subprocess.run([f"{LLVM_BIN}/llvm-objdump", "-d", obj],
                             capture_output=True, text=True,
                             check=True).stdout
        assert ("smlad" in dis) == (kind == "dsp"), kind
        counts[kind] = BM.parse_instructions(out)
    assert counts["dsp"] < 0.95 * counts["generic"], counts


@functools.lru_cache(maxsize=None)
def _example_case(toolchain, cache_dir):
    """The README's example network (examples/fashion_mnist.py's SmallCNN,
    untrained, random BatchNorm statistics) quantized with integer-io by
    myquant.quantize: (quantized MLIR, int8 input, int8 results of the
    host program, which must equal those of myquant's host library)."""
    require_torch(__file__)
    import sys
    import torch
    import myquant
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                    "examples"))
    from fashion_mnist import SmallCNN
    torch.manual_seed(0)
    net = randomize_batchnorm(SmallCNN().eval())
    calib = torch.randn(16, 1, 28, 28)
    x = torch.randn(1, 1, 28, 28).numpy()
    d = os.path.join(cache_dir, "small_cnn")
    with myquant.quantize(net, calib, integer_io=True,
                          cache_dir=d) as qm:
        fn = qm.compiled(1)
        xq = Q.quantize(x, *fn.input_qparams[0])
        want = fn.function(xq)[0]
        text = qm.quantized_mlir(1)
        # The deployable files from Python.
        obj = qm.save_for_target(os.path.join(d, "saved"), "cortex-m4",
                                 name="cnn")
        assert sorted(os.listdir(os.path.dirname(obj))) == \
            ["cnn.h", "cnn.mlir", "cnn.o", "cnn_main.c"]
        _check_integer_only(obj)
        # Without a heap by default on a microcontroller.
        with open(os.path.join(d, "saved", "cnn.h")) as f:
            assert re.search(r"#define forward_ARENA_SIZE [1-9]", f.read())
    host, _ = _build_and_run(toolchain, d, text, [xq], "host", None)
    assert np.array_equal(host[0], want.ravel())
    return text, xq, host[0]


@pytest.mark.parametrize("board_name,memory",
                         [(b, "static") for b in sorted(BM.BOARDS)]
                         + [("cortex-m0plus", "heap")])
def test_example_model_on_board(board_name, memory, toolchain, workdir,
                                cache_dir):
    """Static memory on every board; the heap build (malloc()ed results
    and temporaries) on one, the control: its image has malloc."""
    board = _board(board_name)
    text, xq, host = _example_case(toolchain, cache_dir)
    static = memory == "static"
    got, obj = _build_and_run(toolchain, workdir, text, [xq], board.preset,
                              board, ["--static-memory"] if static else [])
    assert np.array_equal(got[0], host), \
        f"SmallCNN on {board_name} ({memory}): {got[0]} != {host}"
    _check_integer_only(obj)
    if static:
        _check_no_heap(obj)
    else:
        image = os.path.join(os.path.dirname(obj), "model.elf")
        assert "malloc" in BM.heap_functions_in(image)


def test_nhwc_dual_mac_exact(toolchain, workdir):
    """NHWC convolutions on the Cortex-M4's SMLAD path (a depthwise 3x3:
    quads along the window; a 4-channel 3x3: along the channels; the
    end-to-end models are NCHW) give the host program's int8 results."""
    board = _board("cortex-m4")
    src = os.path.join(os.path.dirname(__file__), "..", "..", "test",
                       "Tools", "Inputs", "int8-conv-nhwc.mlir")
    with open(src) as f:
        text = f.read()
    x = np.random.default_rng(0).integers(-128, 128, size=(1, 6, 6, 4),
                                          dtype=np.int8)
    host, _ = _build_and_run(toolchain, workdir, text, [x], "host", None)
    got, obj = _build_and_run(toolchain, workdir, text, [x], board.preset,
                              board, ["--static-memory"])
    assert np.array_equal(got[0], host[0])
    assert len(np.unique(host[0])) > 10, "a degenerate output"
    dis = subprocess.run([f"{LLVM_BIN}/llvm-objdump", "-d", obj],
                         capture_output=True, text=True, check=True).stdout
    assert "smlad" in dis and "sxtb16" in dis


def test_rv32_vectors_fewer_instructions(toolchain, workdir, cache_dir):
    """The rv32imac-zve32x preset: LLVM vectorizes the generic kernels
    (widening multiply-accumulates), and the example model executes fewer
    instructions than on rv32imac (minstret under -icount), both with the
    host's int8 results."""
    text, xq, host = _example_case(toolchain, cache_dir)
    counts = {}
    for name in ("rv32imac", "rv32imac-zve32x"):
        board = BM.counting_instructions(_board(name))
        try:
            got, obj, out = BM.build_and_run(
                toolchain.compile, os.path.join(workdir, name), text, [xq],
                board.preset, board, compile_args=["--static-memory"],
                with_output=True)
        except (T.ToolError, BM.BoardError) as e:
            raise ToolError(str(e)) from None
        assert np.array_equal(got[0], host), f"{name}: {got[0]} != {host}"
        counts[name] = BM.parse_instructions(out)
        dis = subprocess.run([f"{LLVM_BIN}/llvm-objdump", "-d", obj],
                             capture_output=True, text=True,
                             check=True).stdout
        assert ("vwmacc" in dis) == (name == "rv32imac-zve32x"), name
    assert counts["rv32imac-zve32x"] < counts["rv32imac"], counts


def test_fixed_point_input_quantization(toolchain, workdir, cache_dir):
    """The header's myquant_quantize_fixed (integer-only quantization of a
    fixed-point reading) agrees with the float formula away from ties."""
    text, _, _ = _e2e_case("a_conv_relu_pool_linear", toolchain, cache_dir)
    src = os.path.join(workdir, "m.mlir")
    with open(src, "w") as f:
        f.write(text)
    header = os.path.join(workdir, "m.h")
    run_checked([toolchain.compile, src, "--function=forward",
                 "--target=generic", "-o", os.path.join(workdir, "m.o"),
                 f"--header={header}"])
    scale, zp = [(float(s), int(z)) for s, z in re.findall(
        r"forward_input_qparams\[1\] = \{\s*\{([^,]+), (-?\d+)\}",
        open(header).read())][0]
    raws = np.arange(-40000, 40000, 7, dtype=np.int64)
    frac_bits = 12
    prog = os.path.join(workdir, "q.c")
    with open(prog, "w") as f:
        f.write('#include <stdio.h>\n#include "m.h"\nint main(void) {\n'
                f'  for (long r = -40000; r < 40000; r += 7)\n'
                f'    printf("%d\\n", myquant_quantize_fixed((int32_t)r, '
                f'{frac_bits}, &forward_input_qparams_fixed[0]));\n'
                '  return 0;\n}\n')
    exe = os.path.join(workdir, "q")
    run_checked(["clang-22", "-O2", f"-I{workdir}", prog, "-o", exe])
    got = np.array(run_checked([exe])[0].split(), dtype=np.int64)
    real = raws.astype(np.float64) / 2.0**frac_bits / scale
    want = np.clip(np.rint(real) + zp, -128, 127)
    near_tie = np.abs(np.abs(real - np.floor(real)) - 0.5) < 1e-6
    assert np.array_equal(got[~near_tie], want[~near_tie])
    assert np.all(np.abs(got - want) <= 1)


def test_float_io_refused_on_fpu_less_target(toolchain, workdir):
    """A float-io model on an FPU-less target is an error naming the
    function and the types, unless --allow-float-io."""
    model, stats, _ = make_case("a_conv_relu_pool_linear")
    src, q = os.path.join(workdir, "m.mlir"), os.path.join(workdir, "q.mlir")
    with open(src, "w") as f:
        f.write(emit(model, stats))
    T.ptq(src, q)
    with pytest.raises(AssertionError,
                       match=r"@forward takes or returns floating-point "
                             r"values \('f32'\) but target "
                             r"'thumbv7em-none-eabi'"):
        run_checked([toolchain.compile, q, "--function=forward",
                     "--target-preset=cortex-m4", "-o",
                     os.path.join(workdir, "m.o")])


@pytest.mark.parametrize("board_name", ["cortex-m0plus", "rv32imac"])
def test_float_io_allowed_on_board(board_name, toolchain, workdir):
    """With --allow-float-io, a float-io model runs on software floating
    point (libgcc's helpers; no C23 function that newlib or picolibc lacks)
    and gives the host's float results bit for bit."""
    board = _board(board_name)
    model, stats, x = make_case("a_conv_relu_pool_linear")
    src, q = os.path.join(workdir, "m.mlir"), os.path.join(workdir, "q.mlir")
    with open(src, "w") as f:
        f.write(emit(model, stats))
    T.ptq(src, q)
    with open(q) as f:
        text = f.read()
    host, _ = _build_and_run(toolchain, workdir, text, [x], "host", None,
                             dtype=np.float32)
    got, _ = _build_and_run(toolchain, workdir, text, [x], board.preset,
                            board, ["--allow-float-io"], dtype=np.float32)
    assert np.array_equal(got[0].view(np.int32), host[0].view(np.int32))
    want = MR.run_reference(model, stats, x).dequantize()
    assert np.array_equal(host[0], want.ravel())


def test_save_for_target_needs_integer_io(workdir):
    from myquant.api import QuantizedModel
    model, stats, _ = make_case("a_conv_relu_pool_linear")
    with QuantizedModel(model, stats) as qm:
        with pytest.raises(ValueError, match=r"target_preset='rv32imac' has "
                                             r"no floating-point unit"):
            qm.save_for_target(workdir, "rv32imac")
