"""Bare-metal boards under qemu: linking a model compiled with
``myquant-compile --target-preset=...`` into a program for a board and
running it (docs/Targets.md).

Each board pairs a myquant-compile preset with a C toolchain and C library
(newlib for the Cortex-M boards, picolibc for RISC-V), the
start-up code and linker script of runtime/baremetal, and a qemu machine.
The program prints its results over semihosting and exits with main's
status.

Debian packages: gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm
(Cortex-M), picolibc-riscv64-unknown-elf qemu-system-misc (RISC-V)."""

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, replace

import numpy as np

RUNTIME_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "runtime", "baremetal")

# startup_cortexm.c's semihosting _write and _exit, libnosys's other stubs;
# --gc-sections leaves out what the program does not call (newlib's
# _reclaim_reent, which would bring free).
_ARM_LINK = ["-mthumb", "-mfloat-abi=soft", "-O2", "--specs=nosys.specs",
             "-nostartfiles", "-Wl,-z,noexecstack", "-Wl,--gc-sections",
             "-T", os.path.join(RUNTIME_DIR, "mps2.ld"),
             os.path.join(RUNTIME_DIR, "startup_cortexm.c")]
# picolibc's own crt0 and linker script; the code and constants go at the
# start of the virt board's RAM, as they would in flash. console_riscv.c:
# the write() that the example main prints with.
_RISCV_LINK = ["-march=rv32imac", "-mabi=ilp32", "-O2",
               os.path.join(RUNTIME_DIR, "console_riscv.c"),
               "--specs=picolibc.specs", "--oslib=semihost",
               "--crt0=semihost",
               "-Wl,--defsym=__flash=0x80000000",
               "-Wl,--defsym=__flash_size=0x400000",
               "-Wl,--defsym=__ram=0x80400000",
               "-Wl,--defsym=__ram_size=0x400000",
               "-Wl,--defsym=__stack_size=0x10000"]
_QEMU_ARGS = ["-nographic", "-semihosting", "-kernel"]
_LLVM_NM = "/usr/lib/llvm-22/bin/llvm-nm"


@dataclass(frozen=True)
class Board:
    """preset: myquant-compile's --target-preset; cc: the C compiler and
    its flags (sources and -o follow); qemu: the emulator and its flags
    (the ELF file follows)."""
    name: str
    preset: str
    cc: tuple
    qemu: tuple
    note: str = ""


BOARDS = {
    # QEMU 7.2 has no Cortex-M0+ board large enough (microbit: 16 KiB of
    # RAM): ARMv6-M code is a subset of ARMv7-M, so the M3 board runs it.
    "cortex-m0plus": Board(
        "cortex-m0plus", "cortex-m0plus",
        ("arm-none-eabi-gcc", "-mcpu=cortex-m0plus", *_ARM_LINK),
        ("qemu-system-arm", "-M", "mps2-an385", *_QEMU_ARGS),
        "thumbv6m code on the Cortex-M3 board mps2-an385"),
    "cortex-m4": Board(
        "cortex-m4", "cortex-m4",
        ("arm-none-eabi-gcc", "-mcpu=cortex-m4", *_ARM_LINK),
        ("qemu-system-arm", "-M", "mps2-an386", *_QEMU_ARGS)),
    "cortex-m7": Board(
        "cortex-m7", "cortex-m7",
        ("arm-none-eabi-gcc", "-mcpu=cortex-m7", *_ARM_LINK),
        ("qemu-system-arm", "-M", "mps2-an500", *_QEMU_ARGS)),
    "rv32imac": Board(
        "rv32imac", "rv32imac",
        ("riscv64-unknown-elf-gcc", *_RISCV_LINK),
        ("qemu-system-riscv32", "-M", "virt", "-bios", "none",
         *_QEMU_ARGS)),
    # Integer vectors (Zve32x, VLEN >= 128) in the model object only: the
    # C library and start-up code stay rv32imac.
    "rv32imac-zve32x": Board(
        "rv32imac-zve32x", "rv32imac-zve32x",
        ("riscv64-unknown-elf-gcc", *_RISCV_LINK,
         os.path.join(RUNTIME_DIR, "vector_riscv.c")),
        ("qemu-system-riscv32", "-M", "virt", "-cpu",
         "rv32,v=true,vlen=128,vext_spec=v1.0", "-bios", "none",
         *_QEMU_ARGS),
        "Zve32x code on qemu's V 1.0, a superset"),
}


def counting_instructions(board):
    """`board` whose programs print the instructions that the model call
    executes ("instructions: N"): the call of _mlir_ciface_forward is
    wrapped by runtime/baremetal/count_instructions.c, which reads, under
    qemu's -icount shift=0 (1 ns of virtual time per instruction), SysTick
    on a Cortex-M board (to 40 instructions) and minstret on RISC-V
    (exact)."""
    return replace(
        board, name=f"{board.name}-counting",
        cc=(*board.cc, "-Wl,--wrap=_mlir_ciface_forward",
            os.path.join(RUNTIME_DIR, "count_instructions.c")),
        qemu=(board.qemu[0], "-icount", "shift=0", *board.qemu[1:]))


def parse_instructions(output):
    """The count that a counting_instructions board's program printed."""
    m = re.search(r"^instructions: (\d+|overflow)$", output, re.M)
    if m is None or m.group(1) == "overflow":
        raise BoardError(f"no instruction count in the output:\n"
                         f"{output[-2000:]}")
    return int(m.group(1))


class BoardError(RuntimeError):
    """Linking or running a program failed."""


def missing_tools(board):
    """The programs (and C library) `board` needs that are not installed."""
    missing = [p for p in (board.cc[0], board.qemu[0])
               if shutil.which(p) is None]
    if "--specs=picolibc.specs" in board.cc and not missing:
        # gcc prints the bare name of a file it cannot find.
        p = subprocess.run([board.cc[0], "-print-file-name=picolibc.specs"],
                           capture_output=True, text=True)
        if p.returncode != 0 or not os.path.isabs(p.stdout.strip()):
            missing.append("picolibc")
    return missing


def _run(cmd, timeout):
    try:
        p = subprocess.run([str(c) for c in cmd], capture_output=True,
                           text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BoardError(f"timed out after {timeout} s:\n$ "
                         + " ".join(map(str, cmd))) from None
    if p.returncode != 0:
        raise BoardError(f"exit status {p.returncode}:\n$ "
                         + " ".join(map(str, cmd)) + "\n"
                         + (p.stdout + p.stderr)[-4000:])
    return p.stdout + p.stderr


def link(board, sources, elf, include_dirs=(), defines=(), timeout=120):
    """Compiles and links C sources and objects into `elf` for `board`."""
    cmd = [*board.cc, *(f"-I{d}" for d in include_dirs),
           *(f"-D{d}" for d in defines), *sources, "-o", elf]
    _run(cmd, timeout)


# What C code allocates with: the standard functions, newlib's reentrant
# ones and the system call under them.
HEAP_FUNCTIONS = ("malloc", "calloc", "realloc", "free", "aligned_alloc",
                  "posix_memalign", "memalign", "_malloc_r", "_calloc_r",
                  "_realloc_r", "_free_r", "sbrk", "_sbrk", "_sbrk_r")


def heap_functions_in(elf):
    """The HEAP_FUNCTIONS that a linked program `elf` defines."""
    out = _run([_LLVM_NM, "--defined-only", "--format=just-symbols", elf],
               timeout=60)
    return sorted(set(out.split()) & set(HEAP_FUNCTIONS))


def run(board, elf, timeout=60):
    """Runs `elf` on the board's emulator; returns what it printed (on
    stdout and stderr: picolibc's semihosting writes stdout to qemu's
    stderr)."""
    return _run([*board.qemu, elf], timeout)


def parse_results(output, dtype=np.int64):
    """The lines "result<i>: v v v" that an example main (myquant-compile
    --example-main) prints, as arrays of `dtype` in order (float results
    are printed with 9 significant digits: exact for float32)."""
    found = re.findall(r"^result(\d+):([^\n]*)$", output, re.M)
    if not found or [int(i) for i, _ in found] != list(range(len(found))):
        raise BoardError(f"no result lines in the output:\n{output[-2000:]}")
    return [np.array(v.split(), dtype=dtype) for _, v in found]


def example_inputs(func_name, inputs):
    """The text of a MYQUANT_EXAMPLE_INPUTS file: one brace initializer
    per input array (C order)."""
    def literal(v):
        # The shortest repr of a float32's value converts back to it.
        return f"{float(v)!r}f" if isinstance(v, np.floating) else str(int(v))
    return "".join(
        f"#define {func_name}_EXAMPLE_INPUT{i} "
        f"{{{', '.join(literal(v) for v in np.ravel(x))}}}\n"
        for i, x in enumerate(inputs))


def build_and_run(compile_tool, workdir, mlir_text, inputs, preset,
                  board=None, func_name="forward", compile_args=(),
                  dtype=np.int64, with_output=False):
    """Compiles @func_name of `mlir_text` with myquant-compile (the tool at
    path `compile_tool`) for `preset`, with its example main reading
    `inputs`, links the program for `board` (None: the host, with
    clang-22) in `workdir` and runs it. Returns (the results as `dtype`
    arrays, the model object's path), and what the program printed with
    `with_output`."""
    from . import tools as T
    os.makedirs(workdir, exist_ok=True)
    src = os.path.join(workdir, "model.mlir")
    obj = os.path.join(workdir, "model.o")
    main = os.path.join(workdir, "main.c")
    with open(src, "w") as f:
        f.write(mlir_text)
    with open(os.path.join(workdir, "inputs.h"), "w") as f:
        f.write(example_inputs(func_name, inputs))
    T.run_tool(compile_tool, [src, f"--function={func_name}",
                              f"--target-preset={preset}", "-o", obj,
                              f"--header={workdir}/model.h",
                              f"--example-main={main}", *compile_args])
    elf = os.path.join(workdir, "model.elf")
    define = 'MYQUANT_EXAMPLE_INPUTS="inputs.h"'
    if board is None:
        _run(["clang-22", "-O2", f"-I{workdir}", f"-D{define}", main, obj,
              "-o", elf, "-lm"], timeout=120)
        out = _run([elf], timeout=60)
    else:
        link(board, [main, obj, "-lm"], elf, include_dirs=[workdir],
             defines=[define])
        out = run(board, elf)
    if with_output:
        return parse_results(out, dtype), obj, out
    return parse_results(out, dtype), obj


def quantize_integer_io(float_mlir, x, workdir):
    """myquant-ptq{integer-io} on a float model annotated with
    myquant.stats (emit.emit's output), in workdir. Returns (the quantized
    MLIR, `x` quantized with the input parameters recorded on the
    function)."""
    from . import qparams as Q
    from . import tools as T
    os.makedirs(workdir, exist_ok=True)
    src = os.path.join(workdir, "float.mlir")
    out = os.path.join(workdir, "quantized.mlir")
    with open(src, "w") as f:
        f.write(float_mlir)
    T.ptq(src, out, integer_io=True)
    with open(out) as f:
        text = f.read()
    m = re.search(r"myquant.input_qparams = \[\{scale = ([^ :]+) : f64, "
                  r"zero_point = (-?\d+)", text)
    if m is None:
        raise BoardError(f"{out}: no myquant.input_qparams")
    return text, Q.quantize(x, float(m.group(1)), int(m.group(2)))
