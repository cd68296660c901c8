"""What an epilogue instruction costs beside the K loop's vpdpbusd.

Times loops of 16 independent zmm vpdpbusd (16 accumulator chains, operands
in registers, the 1 x 1 kernels' K = 64 per 16 outputs) with n other
instructions spread between them, written in inline assembly so that the
compiler neither drops nor reorders them, and prints each instruction's cost
in vpdpbusd slots: (time / time of the 16 alone - 1) * 16 / n. Then the
fused-add epilogue of a 1 x 1 kernel (the instructions of its disassembly
per 16 outputs) and variants of it, in the same way (benchmarks/README.md,
"The fused-add epilogue's cost in vpdpbusd slots").

CPU time of the thread, fastest of 9 runs. Needs a C compiler (cc, or $CC)
and an AVX-512 VNNI CPU.

Run: /usr/bin/python3 benchmarks/epilogue_slots.py
"""

import os
import subprocess
import sys
import tempfile

# One instruction of each kind; {d} is its destination (zmm18-28), zmm29-31
# and k1 its sources (zmm29: an index or third operand), %[p] a 4 KiB buffer.
INSTRUCTIONS = {
    "vpmulld": "vpmulld %%zmm30, %%zmm31, %%zmm{d}",
    "vpmuldq": "vpmuldq %%zmm30, %%zmm31, %%zmm{d}",
    "vpmuldq (mem)": "vpmuldq 128(%[p]), %%zmm31, %%zmm{d}",
    "vpmaddwd": "vpmaddwd %%zmm30, %%zmm31, %%zmm{d}",
    "vpdpwssd": "vpdpwssd %%zmm30, %%zmm31, %%zmm{d}",
    "vpmullw": "vpmullw %%zmm30, %%zmm31, %%zmm{d}",
    "vpmulhw": "vpmulhw %%zmm30, %%zmm31, %%zmm{d}",
    "vpmulhrsw": "vpmulhrsw %%zmm30, %%zmm31, %%zmm{d}",
    "vpmadd52huq": "vmovdqa64 %%zmm30, %%zmm{d}\\n\\t"
                   "vpmadd52huq %%zmm31, %%zmm29, %%zmm{d}",
    "vcvtdq2ps": "vcvtdq2ps %%zmm30, %%zmm{d}",
    "vcvtps2dq": "vcvtps2dq %%zmm30, %%zmm{d}",
    "vfmadd213ps": "vmovaps %%zmm30, %%zmm{d}\\n\\t"
                   "vfmadd213ps %%zmm31, %%zmm29, %%zmm{d}",
    "vpaddd": "vpaddd %%zmm30, %%zmm31, %%zmm{d}",
    "vpxorq": "vpxorq %%zmm30, %%zmm31, %%zmm{d}",
    "vpaddd (mem)": "vpaddd 128(%[p]), %%zmm31, %%zmm{d}",
    "vpslld": "vpslld $3, %%zmm30, %%zmm{d}",
    "vpsrad": "vpsrad $3, %%zmm30, %%zmm{d}",
    "vpsrlq": "vpsrlq $32, %%zmm30, %%zmm{d}",
    "vpsravd": "vpsravd %%zmm30, %%zmm31, %%zmm{d}",
    "vpmaxsd": "vpmaxsd %%zmm30, %%zmm31, %%zmm{d}",
    "vpminsd": "vpminsd %%zmm30, %%zmm31, %%zmm{d}",
    "vpmaxud": "vpmaxud %%zmm30, %%zmm31, %%zmm{d}",
    "vpblendmd": "vpblendmd %%zmm30, %%zmm31, %%zmm{d}%{{%%k1%}}",
    "vpternlogd": "vmovdqa64 %%zmm30, %%zmm{d}\\n\\t"
                  "vpternlogd $0xca, %%zmm31, %%zmm29, %%zmm{d}",
    "vpermt2d": "vmovdqa64 %%zmm30, %%zmm{d}\\n\\t"
                "vpermt2d %%zmm31, %%zmm29, %%zmm{d}",
    "vpshufb": "vpshufb %%zmm30, %%zmm31, %%zmm{d}",
    "vpmovsxbd (mem)": "vpmovsxbd (%[p]), %%zmm{d}",
    "vpmovdb (mem)": "vpmovdb %%zmm30, 64(%[p])",
    "vpmovsdb (mem)": "vpmovsdb %%zmm30, 64(%[p])",
    "vpbroadcastd (mem)": "vpbroadcastd 128(%[p]), %%zmm{d}",
    "vmovdqu64 (load)": "vmovdqu64 128(%[p]), %%zmm{d}",
}

# The fused-add epilogue per 16 outputs with a linear form (objdump -d of a
# 1 x 1 64 -> 256 kernel with the add; scales as in resnet50): the kernel's
# high-half requantization, its clamp, the addend's load and the linear form
# with its clamp and narrowing store.
EPILOGUE = ["vpmuldq (mem)", "vpsrlq", "vpmuldq", "vpermt2d", "vpaddd (mem)",
            "vpsravd", "vpmaxsd", "vpminsd", "vpmovsxbd (mem)", "vpmulld",
            "vpmulld", "vpaddd", "vpaddd", "vpsrad", "vpmaxud",
            "vpmovdb (mem)"]


def without(ops, name):
    ops = list(ops)
    ops.remove(name)
    return ops


MIXES = {
    "the 4 multiplies alone": ["vpmuldq", "vpmuldq", "vpmulld", "vpmulld"],
    "fused-add epilogue": EPILOGUE,
    "  merge by shift + blend": without(EPILOGUE, "vpermt2d") + [
        "vpsrlq", "vpblendmd"],
    "  without the kernel's clamp": without(without(EPILOGUE, "vpmaxsd"),
                                            "vpminsd"),
    "  one multiply a shift": without(EPILOGUE, "vpmulld") + ["vpslld"],
    "  3 more loads": EPILOGUE + ["vmovdqu64 (load)"] * 3,
    # A signed input's flip to unsigned in the K loop: one per 4 vpdpbusd.
    "  with a signed input (4 vpxorq)": EPILOGUE + ["vpxorq"] * 4,
    "  8 more vpaddd": EPILOGUE + ["vpaddd"] * 8,
    "  12 more vpaddd": EPILOGUE + ["vpaddd"] * 12,
    "  twice (K = 32)": EPILOGUE * 2,
    "epilogue without the add": ["vpmuldq (mem)", "vpsrlq", "vpmuldq",
                                 "vpermt2d", "vpaddd (mem)", "vpsravd",
                                 "vpaddd", "vpmovsdb (mem)"],
}

DOTS = 16
CLOBBERS = ", ".join(f'"xmm{i}"' for i in range(29)) + ', "memory"'


def loop(name, ops):
    """A C function running DOTS vpdpbusd and `ops` per iteration."""
    lines, done = [], 0
    for i in range(DOTS):
        lines.append(f"vpdpbusd %%zmm16, %%zmm17, %%zmm{i}")
        # Spread evenly: after the i-th vpdpbusd, the first
        # ceil((i + 1) * len(ops) / DOTS) ops.
        while done * DOTS < (i + 1) * len(ops):
            lines.append(INSTRUCTIONS[ops[done]].format(d=18 + done % 11))
            done += 1
    assert done == len(ops), (name, done, len(ops))
    body = "\\n\\t".join(lines)
    return (f"static void {name}(long n) {{\n"
            f"  for (long i = 0; i < n; ++i)\n"
            f'    __asm__ volatile("{body}"\n'
            f'                     :: [p] "r"(buffer) : {CLOBBERS});\n'
            f"}}\n")


def program(cases):
    parts = ["#include <stdio.h>\n#include <time.h>\n",
             "static char buffer[4096] __attribute__((aligned(64)));\n",
             "static double now(void) {\n  struct timespec t;\n"
             "  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);\n"
             "  return t.tv_sec + 1e-9 * t.tv_nsec;\n}\n"]
    parts += [loop(f"f{i}", ops) for i, (_, ops) in enumerate(cases)]
    calls = "".join(f"    t = now(); f{i}(n); t = now() - t;\n"
                    f"    if (t < best[{i}]) best[{i}] = t;\n"
                    for i in range(len(cases)))
    parts.append(
        f"int main(void) {{\n  const long n = 2000000;\n"
        f"  double best[{len(cases)}], t;\n"
        f"  for (int i = 0; i < {len(cases)}; ++i) best[i] = 1e9;\n"
        '  __asm__ volatile("kxnorw %%k1, %%k1, %%k1" ::: "k1");\n'
        f"  for (int r = 0; r < 9; ++r) {{\n{calls}  }}\n"
        f"  for (int i = 0; i < {len(cases)}; ++i)\n"
        '    printf("%.4f\\n", best[i] / n * 1e9);\n  return 0;\n}\n')
    return "".join(parts)


def main():
    cases = [("alone", [])]
    cases += [(name, [name] * n) for name in INSTRUCTIONS for n in (4, 16)]
    cases += list(MIXES.items())
    with tempfile.TemporaryDirectory() as work:
        src, exe = os.path.join(work, "slots.c"), os.path.join(work, "slots")
        with open(src, "w") as f:
            f.write(program(cases))
        subprocess.check_call([os.environ.get("CC", "cc"), "-O2",
                               "-march=native", src, "-o", exe])
        ns = [float(line) for line in
              subprocess.check_output([exe], text=True).split()]
    base = ns[0]
    print(f"{DOTS} vpdpbusd alone: {base:.3f} ns per iteration "
          f"({DOTS * 64 * 2 / base:.0f} GOP/s); load average "
          f"{os.getloadavg()[0]:.1f}\n")
    print("instruction          slots each (4 per 16 vpdpbusd, 16 per 16)")
    for i, name in enumerate(INSTRUCTIONS):
        four, sixteen = ns[1 + 2 * i], ns[2 + 2 * i]
        print(f"{name:20s} {(four / base - 1) * DOTS / 4:5.2f}  "
              f"{(sixteen / base - 1) * DOTS / 16:5.2f}")
    print(f"\nper {DOTS} vpdpbusd (K = 64 per 16 outputs)   ops   time   "
          "vpdpbusd share")
    for (name, ops), t in zip(cases[-len(MIXES):], ns[-len(MIXES):]):
        print(f"{name:38s} {len(ops):4d}  x{t / base:.3f}  "
              f"{100 * base / t:5.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
