"""A bounded run of the IR mutation driver (python/myquant/testing/
mutate.py): hostile mutants of the lit tests' inputs and of the fuzzer's
emitted models through myquant-opt's passes must be rejected with a
message or compile, never crash. A fixed seed and a fixed sample of the
inputs keep it to seconds; MYQUANT_SLOW=1 adds every input, three mutants
each (minutes). See docs/Design.md, "IR mutation driver".

Run: /usr/bin/python3 -m pytest -q python/tests/test_mutate.py"""

import collections
import os

import pytest

from myquant.testing import mutate as M


@pytest.fixture(scope="module")
def myquant_opt(build_dir):
    exe = os.path.join(build_dir, "bin", "myquant-opt")
    if not os.access(exe, os.X_OK):
        pytest.fail(f"{exe} not found", pytrace=False)
    return exe


@pytest.fixture(scope="module")
def inputs():
    return M.lit_inputs() + M.emitted_inputs(2)


def _report(findings):
    return "\n".join(
        f"{out.kind} (rc {out.rc}, {out.stage}) {inp.name} mutant {i}: "
        f"{'; '.join(d)}\n"
        f"{out.stderr[-2000:]}" for inp, i, d, _, out in findings)


def test_inputs_cover_the_passes(inputs):
    passes = {a.split("=")[0] for i in inputs for a in i.args}
    assert {"--myquant-ptq", "--myquant-propagate-qparams",
            "--myquant-quantize", "--myquant-normalize",
            "--convert-myquant-to-linalg", "--convert-myquant-to-vnni",
            "--myquant-calibrate", "--myquant-lower-to-llvm"} <= passes
    assert any(i.name.startswith("fuzz-seed-") for i in inputs)


def test_every_mutator_applies(inputs):
    applied = collections.Counter()
    for k, inp in enumerate(inputs[::7]):
        for name in M.MUTATORS:
            r = M.MUTATORS[name](inp.text, M._rng(0, name, k))
            if r is not None and r[0] != inp.text:
                applied[name] += 1
    assert set(applied) == set(M.MUTATORS), applied


def test_mutants_are_reproducible(inputs):
    inp = inputs[0]
    assert M.mutate(inp, 3, 1) == M.mutate(inp, 3, 1)
    assert M.mutate(inp, 3, 1) != M.mutate(inp, 4, 1)


def test_classification():
    assert M._classify(-11, "", "rejected").kind == "crash"
    assert M._classify(134, "", "rejected").kind == "crash"
    assert M._classify(1, "Assertion `x' failed.", "rejected").kind == "crash"
    assert M._classify(1, "", "rejected").kind == "silent"
    assert M._classify(None, "", "rejected").kind == "timeout"
    assert M._classify(1, "<stdin>:3:5: error: x", "rejected").kind == \
        "rejected"
    assert M._classify(0, "", "rejected").kind == "ok"


def test_bounded(inputs, myquant_opt):
    """One mutant of every 40th input: some must reach the passes (not
    just the parser), none may crash."""
    counts, findings = M.run(inputs[::40], myquant_opt, seed=0, per_input=1,
                             log=lambda _: None)
    assert not findings, _report(findings)
    assert counts["rejected"] + counts["ok"] >= 5, counts


@pytest.mark.slow
def test_every_input(inputs, myquant_opt):
    counts, findings = M.run(inputs, myquant_opt, seed=1, per_input=3,
                             log=lambda _: None)
    assert not findings, _report(findings)
