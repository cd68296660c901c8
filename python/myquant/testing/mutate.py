"""Mutation driver: hostile IR through myquant-opt's passes. Valid inputs
(each ``// -----`` case of the lit tests that run myquant-opt, with the
passes of their RUN lines, and the differential fuzzer's emitted models
with ``--myquant-ptq``) are mutated in ways that keep the text parseable
as often as possible -- a shape or a dimension set to 0, 1, a huge value
or ``?``, element types changed, ``myquant.stats`` ranges made NaN, inf,
inverted, empty or of the wrong length or dropped, quantized types with
hostile scales and zero points, convolution strides / dilations / padding
/ groups of 0 or negative, operands swapped, a weight constant made a
function argument, linalg.generic bodies the recognizers do not know,
integers of myquant attributes out of range -- and run through
myquant-opt. A mutant may be rejected (by the parser, the verifier or a
pass, with ``error:``), or compile; it must never crash: a signal exit,
"PLEASE submit a bug report", an assertion, UNREACHABLE, a stack dump, an
exit status of 1 with no error message, or running past the timeout are
findings.

A mutant is a function of (seed, input, index) alone, so a finding is
reproduced from the printed line.

    /usr/bin/python3 -m myquant.testing.mutate --seed 0 --per-input 3
    /usr/bin/python3 -m myquant.testing.mutate --filter Conversion --save DIR

MYQUANT_BUILD_DIR (or --build-dir) selects myquant-opt (default: build/
in the repository).
"""

import argparse
import collections
import hashlib
import os
import random
import re
import resource
import shlex
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

__all__ = ["Input", "Outcome", "MUTATORS", "lit_inputs", "emitted_inputs",
           "mutate", "run_mutant", "run", "main"]

_SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))

# A mutant gets this much address space: a huge shape must be diagnosed,
# not materialized.
MEMORY_LIMIT = 4 << 30
TIMEOUT_S = 30

_CRASH_MARKS = ("PLEASE submit a bug report", "Assertion", "UNREACHABLE",
                "Stack dump", "LLVM ERROR", "Segmentation fault",
                "AddressSanitizer", "runtime error:")


# Crashes of upstream MLIR's own parser, which no pass of ours reaches:
# linalg's named-op parser segfaults after this warning (a batch_matmul of
# f32 and index operands).
_UPSTREAM_PARSER = ("could not cast operand of type",)


class Input:
    """One valid case: IR text and the myquant-opt pass arguments."""

    def __init__(self, name, text, args):
        self.name, self.text, self.args = name, text, list(args)


class Outcome:
    """kind: "unparsed" (the parser or the verifier rejected the mutant),
    "rejected" (a pass failed with a diagnostic), "ok", or a finding:
    "crash", "silent" (a failure without a message), "timeout"; or
    "upstream" (a known crash of upstream's parser, _UPSTREAM_PARSER). stage:
    "parse" (parsing and verifying the mutant alone) or "passes"."""

    FINDINGS = ("crash", "silent", "timeout")

    def __init__(self, kind, rc, stderr, stage="passes"):
        self.kind, self.rc, self.stderr = kind, rc, stderr
        self.stage = stage

    @property
    def finding(self):
        return self.kind in self.FINDINGS


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------

_SKIPPED_FLAGS = {"-split-input-file", "--split-input-file", "%s", "<",
                  "-verify-diagnostics", "--verify-diagnostics"}


def _run_commands(path):
    """The RUN commands of a lit file, continuation lines joined."""
    commands, current = [], None
    with open(path) as f:
        for line in f:
            m = re.match(r"\s*//\s*RUN:(.*)$", line)
            if not m:
                continue
            body = m.group(1).rstrip()
            current = (current or "") + " " + body.rstrip("\\")
            if not body.endswith("\\"):
                commands.append(current.strip())
                current = None
    return commands


def _pass_args(segment, test_dir):
    """The pass arguments of one `myquant-opt ... %s ...` pipe segment, or
    None when it does not read the test file itself."""
    try:
        words = shlex.split(segment)
    except ValueError:
        return None
    if not words or words[0] != "myquant-opt" or "%s" not in words:
        return None
    args, skip = [], False
    for w in words[1:]:
        if skip:
            skip = False
        elif w == "-o":
            skip = True
        elif (w in _SKIPPED_FLAGS or w.startswith("-verify-diagnostics")
              or w.startswith("2>") or w.startswith(">")
              or "plugin" in w or w in ("--help", "-help")):
            continue
        else:
            args.append(w.replace("%S", test_dir))
    if any(re.search(r"%[a-zA-Z{]", a) and "%t" not in a for a in args):
        return None
    return args


def lit_inputs(test_root=None):
    """Every `// -----` case of the lit tests under test_root (default: the
    repository's test/) with every distinct set of myquant-opt passes its
    RUN lines apply to it (none: the dialect's parser, verifiers and
    printer alone)."""
    test_root = test_root or os.path.join(_SOURCE_ROOT, "test")
    inputs = []
    for dirpath, _, files in sorted(os.walk(test_root)):
        for fname in sorted(files):
            if not fname.endswith(".mlir") or "Inputs" in dirpath:
                continue
            path = os.path.join(dirpath, fname)
            pipelines = []
            for cmd in _run_commands(path):
                for segment in cmd.split("|"):
                    args = _pass_args(segment.strip().removeprefix("not "),
                                      dirpath)
                    if args is not None and args not in pipelines:
                        pipelines.append(args)
            if not pipelines:
                continue
            with open(path) as f:
                chunks = re.split(r"^// -----\s*$", f.read(), flags=re.M)
            rel = os.path.relpath(path, test_root)
            for i, chunk in enumerate(chunks):
                if "func.func" not in chunk and "module" not in chunk:
                    continue
                for args in pipelines:
                    inputs.append(Input(f"{rel}#{i} {shlex.join(args)}",
                                        chunk, args))
    return inputs


def emitted_inputs(count, first_seed=0):
    """The differential fuzzer's models of seeds first_seed.. as
    `myquant.emit` writes them, with their stats, through --myquant-ptq."""
    from .. import emit as E
    from . import fuzz as F
    inputs = []
    for seed in range(first_seed, first_seed + count):
        case = F.make_case(seed)
        inputs.append(Input(f"fuzz-seed-{seed}",
                            E.emit(case.model, case.stats),
                            [f"--myquant-ptq={case.options()}"]))
    return inputs


# ---------------------------------------------------------------------------
# Mutations: each takes (text, rng) and returns (text, description) or None
# when it does not apply to the text.
# ---------------------------------------------------------------------------

_HUGE = [1 << 18, 1 << 31, (1 << 40) + 1]
_NAN, _INF = "0x7FF8000000000000", "0x7FF0000000000000"
_NEG_INF = "0xFFF0000000000000"


def _shaped_types(text):
    """(start, end) of each `tensor<...>` / `memref<...>` / `vector<...>`
    with balanced angle brackets."""
    spans = []
    for m in re.finditer(r"\b(tensor|memref|vector)<", text):
        depth, i = 0, m.end() - 1
        while i < len(text):
            c = text[i]
            if c == "<":
                depth += 1
            elif c == ">" and text[i - 1] != "-":
                depth -= 1
                if depth == 0:
                    spans.append((m.start(), i + 1))
                    break
            elif c == "\n":
                break
            i += 1
    return spans


def _splat_literal(elem):
    if elem.startswith("complex"):
        return "(1.0,0.0)"
    if elem == "i1":
        return "true"
    if re.fullmatch(r"[su]?i\d+", elem):
        return "1"
    return "0.5"


def _element_type(shaped):
    inner = shaped[shaped.index("<") + 1:-1]
    return re.sub(r"^(?:(?:\d+|\?)x)*", "", inner).split(",")[0].strip()


def _retype(text, old, new):
    """Replaces every occurrence of the type `old` by `new`, and the
    explicit dense literals of constants of that type by a splat (which
    parses for any static shape)."""
    text = text.replace(old, new)
    lit = _splat_literal(_element_type(new))
    return re.sub(r"dense<\[[^<>]*\]>(\s*:\s*)" + re.escape(new),
                  lambda m: f"dense<{lit}>{m.group(1)}{new}", text)


def _pick_match(pattern, text, rng):
    """A random match of the compiled `pattern` in `text`, or None."""
    sites = list(pattern.finditer(text))
    return rng.choice(sites) if sites else None


def _pick_type(text, rng, pred=lambda t: True):
    types = sorted({text[a:b] for a, b in _shaped_types(text)})
    types = [t for t in types if pred(t)]
    return rng.choice(types) if types else None


def mutate_dim(text, rng):
    t = _pick_type(text, rng, lambda t: re.search(r"<(\d+|\?)x", t))
    if t is None:
        return None
    head, rest = t.split("<", 1)
    dims = re.match(r"((?:(?:\d+|\?)x)*)", rest).group(1).split("x")[:-1]
    k = rng.randrange(len(dims))
    dims[k] = str(rng.choice([0, 1, "?", 3] + _HUGE))
    new = head + "<" + "x".join(dims) + "x" + rest[len(
        re.match(r"((?:(?:\d+|\?)x)*)", rest).group(1)):]
    return _retype(text, t, new), f"dim {k} of {t} -> {new}"


def mutate_dim_everywhere(text, rng):
    """One dimension size changed in every shaped type (e.g. K of both
    matmul operands: a reduction beyond int32 accumulation)."""
    spans = _shaped_types(text)
    sizes = sorted({int(d) for a, b in spans
                    for d in re.findall(r"(?<=[<x])(\d+)(?=x)", text[a:b])})
    sizes = [s for s in sizes if s > 1]
    if not sizes:
        return None
    old = rng.choice(sizes)
    new = rng.choice([0, 1] + _HUGE)
    out, last = [], 0
    for a, b in spans:
        t = text[a:b]
        nt = re.sub(rf"(?<=[<x]){old}(?=x)", str(new), t)
        out.append(text[last:a])
        out.append(nt)
        last = b
    out.append(text[last:])
    result = "".join(out)
    lit_types = {result[a:b] for a, b in _shaped_types(result)}
    for t in lit_types:
        result = _retype(result, t, t)
    return result, f"every dimension {old} -> {new}"


_ELEMENT_TYPES = ["f16", "bf16", "f64", "i1", "i8", "i32", "i64",
                  "complex<f32>", "index"]


def mutate_element_type(text, rng):
    t = _pick_type(text, rng)
    if t is None:
        return None
    elem = _element_type(t)
    new_elem = rng.choice([e for e in _ELEMENT_TYPES if e != elem])
    new = t.replace(elem, new_elem, 1) if elem else None
    if not new or new == t:
        return None
    return _retype(text, t, new), f"{t} -> {new}"


def mutate_float_type_everywhere(text, rng):
    if not re.search(r"\bf32\b", text):
        return None
    new = rng.choice(["f16", "bf16", "f64"])
    return re.sub(r"\bf32\b", new, text), f"every f32 -> {new}"


_STATS = re.compile(r"(myquant\.stats\s+%[\w.]+\s*\{)([^{}]*)(\})")


def _array_values(array):
    """The values of `array<f64: a, b>` as written; [] when empty."""
    _, _, values = array[:-1].partition(":")
    return [v.strip() for v in values.split(",") if v.strip()]


def mutate_stats(text, rng):
    m = _pick_match(_STATS, text, rng)
    if m is None:
        return None
    body = m.group(2)
    arrays = dict(re.findall(r"\b(min|max) = (array<f64[^>]*>)", body))
    if not arrays:
        return None
    how = rng.choice(["nan", "inf", "-inf", "inverted", "empty", "longer",
                      "drop-key", "huge", "tiny-range"])
    key = rng.choice(sorted(arrays))
    new = dict(arrays)
    if how in ("nan", "inf", "-inf", "huge"):
        v = _array_values(arrays[key])
        if not v:
            return None
        v[rng.randrange(len(v))] = {"nan": _NAN, "inf": _INF,
                                    "-inf": _NEG_INF, "huge": "1.0e+300"}[how]
        new[key] = f"array<f64: {', '.join(v)}>"
    elif how == "inverted" and len(arrays) == 2:
        new = {"min": arrays["max"], "max": arrays["min"]}
    elif how == "empty":
        new[key] = "array<f64>"
    elif how == "longer":
        v = _array_values(arrays[key])
        new[key] = f"array<f64: {', '.join(v + v[:1] or ['0.0'])}>"
    elif how == "tiny-range" and len(arrays) == 2:
        new = {"min": "array<f64: 0.0>", "max": "array<f64: 1.0e-300>"}
    elif how == "drop-key":
        del new[key]
    else:
        return None
    nb = body
    for k in ("min", "max"):
        if k in arrays:
            if k in new:
                nb = nb.replace(f"{k} = {arrays[k]}", f"{k} = {new[k]}")
            else:
                nb = re.sub(rf",?\s*\b{k} = " + re.escape(arrays[k]) + r",?",
                            " ", nb)
    return (text[:m.start(2)] + nb + text[m.end(2):],
            f"stats {how} ({key}) at offset {m.start()}")


def mutate_drop_stats(text, rng):
    """Removes one myquant.stats op; its users read its operand."""
    sites = list(re.finditer(r"^\s*(%[\w.]+) = myquant\.stats (%[\w.]+)"
                             r"[^\n]*\n", text, flags=re.M))
    if not sites:
        return None
    m = rng.choice(sites)
    res, operand = m.group(1), m.group(2)
    rest = re.sub(re.escape(res) + r"(?![\w.#])", operand, text[m.end():])
    return text[:m.start()] + rest, f"dropped the stats of {operand}"


_QUANT = re.compile(r"!quant\.uniform<([^<>]*(?:<[^<>]*>)?[^<>]*)>")


def mutate_quant_type(text, rng):
    m = _pick_match(_QUANT, text, rng)
    if m is None:
        return None
    body = m.group(1)
    how = rng.choice(["scale", "zero-point", "storage", "axis"])
    if how == "scale":
        nums = list(re.finditer(r"(?<=[ ,{])\d[\d.]*(?:e[-+]?\d+)?", body))
        if not nums:
            return None
        n = rng.choice(nums)
        nb = body[:n.start()] + rng.choice(
            ["1.0e-40", "1.0e+38", "3.0e+38", "1.0e-30"]) + body[n.end():]
    elif how == "zero-point":
        zps = list(re.finditer(r"(?<=:)-?\d+(?=[,}\s]|$)", body))
        if not zps:
            return None
        n = rng.choice(zps)
        nb = body[:n.start()] + str(rng.choice([-129, 128, 255, 40000,
                                                -40000])) + body[n.end():]
    elif how == "storage":
        nb = re.sub(r"^[su]?i\d+(<[^<>]*>)?", rng.choice(
            ["i4", "i16", "i32", "u8", "i8<-127:127>", "i8<10:-10>",
             "i16<-32767:32767>", "i4<-7:7>"]), body)
    else:
        ax = re.search(r":f\d+:(\d+)", body)
        if not ax:
            return None
        nb = body[:ax.start(1)] + str(rng.choice([1, 2, 3, 7])) + \
            body[ax.end(1):]
    if nb == body:
        return None
    new = f"!quant.uniform<{nb}>"
    return text.replace(m.group(0), new), f"{m.group(0)} -> {new}"


_WINDOW_ATTR = re.compile(
    r"\b(strides|dilations|padding|kernel|stride|pad)\s*=\s*"
    r"(array<i64:[^>]*>|dense<[^>]*>\s*:\s*tensor<\d+xi64>)"
    r"|\bgroups\s*=\s*(\d+)|\b(low|high)\[([^\]]*)\]")


def mutate_window(text, rng):
    m = _pick_match(_WINDOW_ATTR, text, rng)
    s = m.group(0) if m else ""
    # The integers of the attribute, not those of its type.
    nums = [n for n in re.finditer(r"(?<![\w<])-?\d+(?![\w.])", s)
            if not s[:n.start()].endswith("tensor<")
            and not s[n.end():].startswith("x")]
    if not nums:
        return None
    n = rng.choice(nums)
    v = str(rng.choice([0, -1, -3, 1 << 20, (1 << 31) + 1, 100]))
    new = s[:n.start()] + v + s[n.end():]
    return text[:m.start()] + new + text[m.end():], f"{s} -> {new}"


def mutate_swap_operands(text, rng):
    sites = list(re.finditer(r"ins\((%[\w.#]+), (%[\w.#]+)\s*:\s*"
                             r"([^,()]+(?:<[^<>]*>)?), ([^()]+?)\)", text))
    binary = list(re.finditer(r"(myquant\.\w+) (%[\w.#]+), (%[\w.#]+)", text))
    if not sites and not binary:
        return None
    if sites and (not binary or rng.random() < 0.5):
        m = rng.choice(sites)
        new = f"ins({m.group(2)}, {m.group(1)} : {m.group(4)}, {m.group(3)})"
    else:
        m = rng.choice(binary)
        new = f"{m.group(1)} {m.group(3)}, {m.group(2)}"
    return text[:m.start()] + new + text[m.end():], \
        f"swapped {m.group(0)[:60]}"


def mutate_weight_to_argument(text, rng):
    """A dense constant becomes an argument of its function."""
    sites = list(re.finditer(r"^\s*(%[\w.]+) = arith\.constant dense<[^\n]*"
                             r":\s*(tensor<[^\n]*>)[^\n]*\n", text,
                             flags=re.M))
    if not sites:
        return None
    m = rng.choice(sites)
    head = None
    for h in re.finditer(r"func\.func\s+(?:private\s+)?@[\w.$]+\(", text):
        if h.end() <= m.start():
            head = h
    if head is None:
        return None
    depth, i = 1, head.end()
    while depth and i < len(text):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        i += 1
    close = i - 1
    sep = ", " if text[head.end():close].strip() else ""
    name = m.group(1)
    typ = re.sub(r"\s*loc\(.*$", "", m.group(2))
    return (text[:close] + f"{sep}{name}: {typ}" + text[close:m.start()] +
            text[m.end():], f"{name} ({typ}) is a function argument")


_FLOAT_BINARY = ["arith.addf", "arith.subf", "arith.mulf", "arith.divf",
                 "arith.maximumf", "arith.minimumf", "arith.remf",
                 "math.powf", "math.atan2", "arith.maxnumf"]
_INT_BINARY = ["arith.addi", "arith.subi", "arith.muli", "arith.divsi",
               "arith.maxsi", "arith.minsi", "arith.shrsi", "arith.xori"]


def mutate_generic_body(text, rng):
    ops = "|".join(re.escape(o) for o in _FLOAT_BINARY + _INT_BINARY)
    sites = list(re.finditer(rf"\b({ops})\b(?= %)", text))
    yields = list(re.finditer(r"linalg\.yield (%[\w.]+)", text))
    if not sites and not yields:
        return None
    if sites and (not yields or rng.random() < 0.7):
        m = rng.choice(sites)
        pool = _FLOAT_BINARY if m.group(1) in _FLOAT_BINARY else _INT_BINARY
        new = rng.choice([o for o in pool if o != m.group(1)])
        return text[:m.start()] + new + text[m.end():], \
            f"{m.group(1)} -> {new}"
    # The body yields one of its block arguments (a copy, or the init).
    m = rng.choice(yields)
    block = text.rfind("^bb0(", 0, m.start())
    if block < 0:
        return None
    args = re.findall(r"(%[\w.]+):", text[block:text.find(")", block)])
    if not args:
        return None
    new = f"linalg.yield {rng.choice(args)}"
    return text[:m.start()] + new + text[m.end():], f"{m.group(0)} -> {new}"


def mutate_myquant_integer(text, rng):
    """An integer of a myquant op's attributes (rescale multipliers and
    shifts, clamps, axes, groups, table entries...) out of range."""
    lines = [m for m in re.finditer(r"^[^\n]*myquant\.[^\n]*$", text,
                                    flags=re.M)]
    sites = []
    for ln in lines:
        s = ln.group(0)
        brace = s.find("{")
        hash_ = s.find("#myquant")
        start = min(i for i in (brace, hash_, len(s)) if i >= 0)
        for n in re.finditer(r"(?<![\w.<x%#])-?\d+(?![\w.x])", s[start:]):
            sites.append((ln.start() + start + n.start(),
                          ln.start() + start + n.end()))
    if not sites:
        return None
    a, b = rng.choice(sites)
    v = str(rng.choice([0, -1, 64, 63, 100, -129, 1 << 31, -(1 << 31) - 1,
                        (1 << 63) - 1, 2147483647]))
    return text[:a] + v + text[b:], f"{text[a:b]} -> {v} at offset {a}"


def mutate_drop_attribute(text, rng):
    """One attribute of a myquant op's dictionary removed."""
    sites = []
    for m in re.finditer(r"myquant\.\w+[^\n{]*\{([^\n]*)\}", text):
        for a in re.finditer(r"\b\w+ = (?:#myquant\.\w+<[^<>]*"
                             r"(?:<[^<>]*>[^<>]*)*>|array<[^>]*>|[^,{}]+)",
                             m.group(1)):
            sites.append((m.start(1) + a.start(), m.start(1) + a.end()))
    if not sites:
        return None
    a, b = rng.choice(sites)
    left, right = text[:a].rstrip(), text[b:].lstrip()
    if left.endswith(","):
        left = left[:-1]
    elif right.startswith(","):
        right = right[1:]
    return left + " " + right, f"dropped {text[a:b][:50]}"


MUTATORS = collections.OrderedDict([
    ("dim", mutate_dim),
    ("dim-everywhere", mutate_dim_everywhere),
    ("element-type", mutate_element_type),
    ("float-type-everywhere", mutate_float_type_everywhere),
    ("stats", mutate_stats),
    ("drop-stats", mutate_drop_stats),
    ("quant-type", mutate_quant_type),
    ("window", mutate_window),
    ("swap-operands", mutate_swap_operands),
    ("weight-to-argument", mutate_weight_to_argument),
    ("generic-body", mutate_generic_body),
    ("myquant-integer", mutate_myquant_integer),
    ("drop-attribute", mutate_drop_attribute),
])


def _rng(*key):
    digest = hashlib.sha256(repr(key).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "little"))


def mutate(inp, seed, index, mutators=None):
    """Mutant `index` of input `inp` under `seed`: one or two applicable
    mutations. Returns (text, [descriptions]) or None when none applies."""
    rng = _rng(seed, inp.name, index)
    names = list(mutators or MUTATORS)
    text, done = inp.text, []
    for _ in range(1 if rng.random() < 0.7 else 2):
        order = names[:]
        rng.shuffle(order)
        for name in order:
            r = MUTATORS[name](text, rng)
            if r is not None and r[0] != text:
                text = r[0]
                done.append(f"{name}: {r[1]}")
                break
    return (text, done) if done else None


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------

def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _myquant_opt(exe, text, args, timeout):
    with tempfile.TemporaryDirectory(prefix="myquant-mutant-") as tmp:
        args = [a.replace("%t", tmp) for a in args]
        try:
            p = subprocess.run([exe, "-", "-o", os.devnull] + args,
                               input=text, capture_output=True, text=True,
                               timeout=timeout, preexec_fn=_limit_memory,
                               errors="replace")
        except subprocess.TimeoutExpired:
            return None, ""
    return p.returncode, p.stderr


def _classify(rc, stderr, failed_kind):
    if rc is None:
        return Outcome("timeout", rc, stderr)
    if rc < 0 or rc >= 128 or any(k in stderr for k in _CRASH_MARKS):
        return Outcome("crash", rc, stderr)
    if rc == 0:
        return Outcome("ok", rc, stderr)
    if not stderr.strip():
        return Outcome("silent", rc, stderr)
    return Outcome(failed_kind, rc, stderr)


def run_mutant(exe, text, args, timeout=TIMEOUT_S):
    """Parses and verifies the mutant alone, then runs its passes."""
    rc, err = _myquant_opt(exe, text, [], timeout)
    parsed = _classify(rc, err, "unparsed")
    parsed.stage = "parse"
    if parsed.kind == "crash" and any(k in err for k in _UPSTREAM_PARSER):
        parsed.kind = "upstream"
    if parsed.kind != "ok" or not args:
        return parsed
    rc, err = _myquant_opt(exe, text, args, timeout)
    return _classify(rc, err, "rejected")


def _first_line(stderr, marks=_CRASH_MARKS):
    lines = stderr.splitlines()
    for ln in lines:
        if any(k in ln for k in marks):
            return ln.strip()[:200]
    return (lines[0].strip()[:200] if lines else "")


def run(inputs, exe, seed=0, per_input=3, mutators=None, jobs=2,
        timeout=TIMEOUT_S, save=None, log=print):
    """Runs per_input mutants of every input; returns (Counter of outcome
    kinds, [(input, index, descriptions, text, Outcome)] of the
    findings)."""
    work = []
    for inp in inputs:
        for i in range(per_input):
            m = mutate(inp, seed, i, mutators)
            if m is not None:
                work.append((inp, i, m[0], m[1]))

    def one(item):
        inp, i, text, descs = item
        return item, run_mutant(exe, text, inp.args, timeout)

    counts, findings = collections.Counter(), []
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for (inp, i, text, descs), out in pool.map(one, work):
            counts[out.kind] += 1
            if not out.finding:
                continue
            findings.append((inp, i, descs, text, out))
            log(f"{out.kind.upper()} (rc {out.rc}, {out.stage}) {inp.name} "
                f"mutant {i}: "
                f"{'; '.join(descs)}\n    {_first_line(out.stderr)}")
            if save:
                d = os.path.join(save, f"finding-{len(findings)}")
                os.makedirs(d, exist_ok=True)
                with open(os.path.join(d, "mutant.mlir"), "w") as f:
                    f.write(f"// {inp.name} mutant {i} (seed {seed})\n"
                            f"// myquant-opt {shlex.join(inp.args)}\n")
                    for desc in descs:
                        f.write(f"// {desc}\n")
                    f.write(text)
                with open(os.path.join(d, "stderr.txt"), "w") as f:
                    f.write(out.stderr)
    return counts, findings


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--per-input", type=int, default=3,
                    help="mutants of each input (default 3)")
    ap.add_argument("--emitted", type=int, default=20,
                    help="fuzzer models among the inputs (default 20)")
    ap.add_argument("--filter", default="",
                    help="only inputs whose name contains this")
    ap.add_argument("--mutators", default="",
                    help="comma-separated subset of: " + ", ".join(MUTATORS))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=TIMEOUT_S)
    ap.add_argument("--save", help="write each finding to DIR/finding-N/")
    ap.add_argument("--build-dir", default=os.environ.get(
        "MYQUANT_BUILD_DIR", os.path.join(_SOURCE_ROOT, "build")))
    a = ap.parse_args(argv)
    exe = os.path.join(a.build_dir, "bin", "myquant-opt")
    if not os.access(exe, os.X_OK):
        sys.exit(f"{exe} not found: build the project (scripts/build.sh) "
                 f"or pass --build-dir")
    mutators = [m for m in a.mutators.split(",") if m] or None
    for m in mutators or []:
        if m not in MUTATORS:
            sys.exit(f"unknown mutator '{m}' (known: {', '.join(MUTATORS)})")
    inputs = lit_inputs() + emitted_inputs(a.emitted)
    inputs = [i for i in inputs if a.filter in i.name]
    counts, findings = run(inputs, exe, a.seed, a.per_input, mutators,
                           a.jobs, a.timeout, a.save)
    total = sum(counts.values())
    print(f"{len(inputs)} inputs, {total} mutants: " + ", ".join(
        f"{counts[k]} {k}" for k in ("unparsed", "rejected", "ok",
                                     "upstream") + Outcome.FINDINGS))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
