#!/usr/bin/env python3
"""Code size and static memory of int8 models on the FPU-less cross targets
(docs/Targets.md).

    /usr/bin/python3 benchmarks/baremetal.py --build build   # ~2 minutes
    /usr/bin/python3 benchmarks/baremetal.py --instructions  # ~1 minute
    /usr/bin/python3 benchmarks/baremetal.py --rv32-vectors  # ~1 minute

For the example network (examples/fashion_mnist.py's SmallCNN, 1 x 28 x 28,
untrained) and the end-to-end test models (python/tests/test_end_to_end.py)
quantized with integer-io, compiles the model object without a heap
(myquant-compile --static-memory) for every board of myquant.baremetal
(--target-preset) and prints, per model and board, the bytes of its
sections: .text (code), .rodata (weights, biases, rescale tables), and
.data + .bss (none expected); and from the header, the weights
(NAME_WEIGHTS_SIZE), the arena the caller passes (NAME_ARENA_SIZE) and the
most the temporaries live at one time (NAME_PEAK_LIVE, the arena's lower
bound). Each program is also run under qemu, and its int8 results are
compared with the same program built for the host (with the heap).

With --instructions, prints instead the instructions that one call of each
model (--static-memory) executes on the Cortex-M4 and M7 boards under
qemu, counted with -icount shift=0 and SysTick
(myquant.baremetal.counting_instructions, to 40 instructions), for the
generic lowering (--target=generic) and the SMLAD dual multiply-accumulate
(the default there), their ratio, and the objects' .rodata bytes; with
--baseline PATH, also those of another myquant-compile's DSP path. With
--rv32-vectors, the instructions on RV32 (minstret under -icount, exact)
without and with the integer vectors of the rv32imac-zve32x preset.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path[:0] = [os.path.join(REPO, "python"),
                os.path.join(REPO, "python", "tests"),
                os.path.join(REPO, "examples")]

from myquant import baremetal as BM  # noqa: E402
from myquant import qparams as Q  # noqa: E402
from myquant.emit import emit  # noqa: E402

SIZE = "/usr/lib/llvm-22/bin/llvm-size"


def section_sizes(obj):
    """{.text, .rodata, .data+.bss}: bytes of the object's sections of
    each kind (.text.*, .rodata.cst16, ... included)."""
    out = subprocess.run([SIZE, "-A", obj], capture_output=True, text=True,
                         check=True).stdout
    sizes = {"text": 0, "rodata": 0, "data": 0}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2 or not parts[1].isdigit():
            continue
        name, size = parts[0], int(parts[1])
        for kind, prefixes in (("text", (".text",)),
                               ("rodata", (".rodata",)),
                               ("data", (".data", ".bss", ".sdata",
                                         ".sbss"))):
            if name.startswith(prefixes):
                sizes[kind] += size
    return sizes


def models():
    """(name, integer-io quantized MLIR, int8 input)."""
    from test_end_to_end import MODELS, make_case
    import torch
    import myquant
    from conftest import randomize_batchnorm
    from fashion_mnist import SmallCNN
    torch.manual_seed(0)
    net = randomize_batchnorm(SmallCNN().eval())
    with myquant.quantize(net, torch.randn(16, 1, 28, 28),
                          integer_io=True) as qm:
        fn = qm.compiled(1)
        x = torch.randn(1, 1, 28, 28).numpy()
        yield ("SmallCNN (example)", qm.quantized_mlir(1),
               Q.quantize(x, *fn.input_qparams[0]))
    with tempfile.TemporaryDirectory() as d:
        for name in sorted(MODELS):
            model, stats, x = make_case(name)
            yield (name, *BM.quantize_integer_io(emit(model, stats), x,
                                                 f"{d}/{name}"))


def table(compile_tool, columns, rows):
    """Prints a markdown table with rows per model: `rows(workdir, text,
    xq, host)` gives the model's rows, each a list of cells after the name
    (host: the int8 results of the model's host program)."""
    print("| model | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    with tempfile.TemporaryDirectory() as d:
        for name, text, xq in models():
            host, _ = BM.build_and_run(compile_tool, f"{d}/host", text,
                                       [xq], "host")
            for cells in rows(d, text, xq, host[0]):
                print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


def differs(got, host):
    return "" if np.array_equal(got[0], host) else " DIFFERS"


def instructions(compile_tool, baseline=None):
    """The --instructions table: generic vs DSP on Cortex-M4 and M7, and
    the DSP path of another myquant-compile (`baseline`) if given."""
    boards = [BM.counting_instructions(BM.BOARDS[n])
              for n in ("cortex-m4", "cortex-m7")
              if not BM.missing_tools(BM.BOARDS[n])]
    kinds = [("generic", compile_tool, ["--target=generic"]),
             ("DSP", compile_tool, [])]
    if baseline:
        kinds.append(("baseline DSP", baseline, []))

    def cells(d, text, xq, host):
        row = []
        for b in boards:
            counts, rodata = [], []
            for kind, tool, args in kinds:
                got, obj, out = BM.build_and_run(
                    tool, f"{d}/{b.name}-{kind}", text, [xq], b.preset, b,
                    compile_args=["--static-memory", *args],
                    with_output=True)
                counts.append(BM.parse_instructions(out))
                rodata.append(section_sizes(obj)["rodata"])
                row.append(f"{counts[-1]}{differs(got, host)}")
            row.append(f"{counts[1] / counts[0]:.3f}")
            if baseline:
                row.append(f"{counts[1] / counts[2]:.3f}")
            row += [str(r) for r in rodata]
        return [row]

    columns = [k for k, _, _ in kinds] + ["DSP / generic"]
    if baseline:
        columns.append("DSP / baseline")
    columns += [f".rodata {k}" for k, _, _ in kinds]
    table(compile_tool, [f"{b.preset} {c}" for b in boards
                         for c in columns], cells)
    print("\ninstructions executed by one call of the model (qemu -icount "
          "shift=0, SysTick: to 40) and bytes of .rodata, --static-memory; "
          "every run's int8 results equal the host program's unless marked "
          "DIFFERS")


def vector_instructions(compile_tool):
    """The --rv32-vectors table: rv32imac vs rv32imac-zve32x."""
    boards = [BM.counting_instructions(BM.BOARDS[n])
              for n in ("rv32imac", "rv32imac-zve32x")]

    def cells(d, text, xq, host):
        row, counts, code = [], [], []
        for b in boards:
            got, obj, out = BM.build_and_run(
                compile_tool, f"{d}/{b.name}", text, [xq], b.preset, b,
                compile_args=["--static-memory"], with_output=True)
            counts.append(BM.parse_instructions(out))
            code.append(section_sizes(obj)["text"])
            row.append(f"{counts[-1]}{differs(got, host)}")
        return [row + [f"{counts[1] / counts[0]:.3f}", *map(str, code)]]

    table(compile_tool, ["rv32imac", "rv32imac-zve32x", "zve32x / scalar",
                         ".text rv32imac", ".text rv32imac-zve32x"], cells)
    print("\ninstructions executed by one call of the model (qemu -icount "
          "shift=0, minstret: exact), --static-memory; bytes of .text; "
          "every run's int8 results equal the host program's unless marked "
          "DIFFERS")


def header_memory(header):
    """{ARENA_SIZE, PEAK_LIVE, WEIGHTS_SIZE} of a --static-memory header."""
    with open(header) as f:
        return {k: int(v) for k, v in re.findall(
            r"#define \w+_(ARENA_SIZE|PEAK_LIVE|WEIGHTS_SIZE) (\d+)",
            f.read())}


def code_size(compile_tool):
    """The default table: code, constant and arena bytes on every board."""
    boards = [b for b in BM.BOARDS.values() if not BM.missing_tools(b)]

    def rows(d, text, xq, host):
        out = []
        for b in boards:
            work = f"{d}/{b.name}"
            got, obj = BM.build_and_run(compile_tool, work, text, [xq],
                                        b.preset, b,
                                        compile_args=["--static-memory"])
            s = section_sizes(obj)
            m = header_memory(f"{work}/model.h")
            out.append([b.name, str(s["text"]), str(s["rodata"]),
                        str(m["WEIGHTS_SIZE"]), str(s["data"]),
                        str(m["ARENA_SIZE"]),
                        str(m["PEAK_LIVE"]) + differs(got, host)])
        return out

    table(compile_tool, ["board", ".text", ".rodata", "weights", ".data",
                         "arena", "peak live"], rows)
    print("\nbytes, --static-memory: sections of the model object; weights, "
          "arena and peak live from the header; every run's int8 results "
          "equal the host program's unless marked DIFFERS")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--instructions", action="store_true",
                    help="executed instructions, generic vs DSP, on the "
                         "Cortex-M4 and M7 boards instead of code size")
    ap.add_argument("--rv32-vectors", action="store_true",
                    help="executed instructions on RV32, without and with "
                         "the Zve32x vectors, instead of code size")
    ap.add_argument("--baseline", metavar="MYQUANT_COMPILE",
                    help="with --instructions, also the DSP path of this "
                         "myquant-compile (another commit's build)")
    args = ap.parse_args()
    os.environ["MYQUANT_BUILD_DIR"] = os.path.abspath(args.build)
    compile_tool = os.path.join(args.build, "bin", "myquant-compile")
    if args.instructions:
        instructions(compile_tool, args.baseline)
    elif args.rv32_vectors:
        vector_instructions(compile_tool)
    else:
        code_size(compile_tool)

if __name__ == "__main__":
    main()
