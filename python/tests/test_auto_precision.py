"""Automatic mixed precision (python/myquant/precision.py): the greedy
chooser on synthetic sensitivities (the cheapest assignment that meets the
target, verification past a wrong prediction, infeasible targets), and
end to end: the chosen assignment is applied (the per-layer report's
precision column), meets its target as measured, and the compiled model
equals the numpy integer reference bit for bit."""

import itertools
import math

import numpy as np
import pytest

from myquant import evaluate as V
from myquant import precision as P
from myquant.emit import Linear, Model
from myquant.testing import model_reference as MR

# Synthetic layers: bytes and noise-to-signal ratio of each mode.
COSTS = {"a": {"w4a8": 50, "w8a8": 100, "w8a16": 110},
         "b": {"w4a8": 500, "w8a8": 1000},
         "c": {"w4a8": 20, "w8a8": 40, "w8a16": 60}}
NSR = {"a": {"w4a8": 1e-2, "w8a8": 1e-4, "w8a16": 1e-5},
       "b": {"w4a8": 2e-3, "w8a8": 1e-4},
       "c": {"w4a8": 5e-3, "w8a8": 2e-4, "w8a16": 1e-4}}


def cost(a):
    return sum(COSTS[l][m] for l, m in a.items())


def sqnr(a):
    return -10 * math.log10(sum(NSR[l][m] for l, m in a.items()))


def cheapest_meeting(target):
    """Brute force over every assignment."""
    every = [dict(zip(COSTS, ms)) for ms in
             itertools.product(*[list(COSTS[l]) for l in COSTS])]
    return min((a for a in every if sqnr(a) >= target), key=cost)


def test_path_is_greedy_and_cheapest_first():
    path = P.upgrade_path(COSTS, NSR)
    assert path[0] == {"a": "w4a8", "b": "w4a8", "c": "w4a8"}
    costs = [cost(a) for a in path]
    assert costs == sorted(costs)
    assert [sqnr(a) for a in path] == sorted(sqnr(a) for a in path)
    # Most noise removed per byte first: c to w8a8 (4.8e-3 for 20 bytes),
    # then a to w8a8 (9.9e-3 for 50), not a's jump to w8a16 (9.99e-3 for
    # 60).
    assert path[1] == {"a": "w4a8", "b": "w4a8", "c": "w8a8"}
    assert path[2] == {"a": "w8a8", "b": "w4a8", "c": "w8a8"}


@pytest.mark.parametrize("target", [18.0, 20.0, 25.0, 28.0, 33.0, 35.0])
def test_choose_cheapest_meeting_target(target):
    path = P.upgrade_path(COSTS, NSR)
    calls = []

    def evaluate(a):
        calls.append(a)
        return {"sqnr_db": sqnr(a)}

    i, _ = P.choose(path, cost, evaluate, lambda m: m["sqnr_db"] >= target)
    assert sqnr(path[i]) >= target
    assert i == 0 or sqnr(path[i - 1]) < target
    # Doubling then bisecting: a few builds, not one per assignment.
    assert len(calls) <= 2 * math.ceil(math.log2(len(path))) + 1
    # The path overshoots (a's early w8a16); trimming finds the cheapest
    # of all assignments here.
    best = P.trim(path[i], COSTS, lambda a: sqnr(a) >= target)
    assert sqnr(best) >= target
    assert cost(best) == cost(cheapest_meeting(target)) <= cost(path[i])


def test_verification_moves_past_a_wrong_prediction():
    """The predicted start misses when measured: the chooser upgrades
    further and returns the first that measures above the target."""
    path = P.upgrade_path(COSTS, NSR)
    measured = {i: sqnr(a) - 3.0 for i, a in enumerate(path)}  # optimistic
    target = 25.0
    start = next(i for i, a in enumerate(path) if sqnr(a) >= target)
    i, seen = P.choose(path, cost,
                       lambda a: {"sqnr_db": measured[path.index(a)]},
                       lambda m: m["sqnr_db"] >= target, start=start)
    assert i > start and measured[i] >= target > measured[i - 1]
    assert start in seen


def test_infeasible_targets_name_the_best():
    path = P.upgrade_path(COSTS, NSR)
    best = max(sqnr(a) for a in path)
    with pytest.raises(P.InfeasibleTarget, match=r"logit SQNR >= 60 dB: the "
                       r"best \(1,170 bytes\) reaches logit SQNR 36\.") as e:
        P.choose(path, cost, lambda a: {"sqnr_db": sqnr(a)},
                 lambda m: m["sqnr_db"] >= 60, describe=P._describe,
                 target="logit SQNR >= 60 dB")
    assert e.value.best["sqnr_db"] == pytest.approx(best)
    with pytest.raises(P.InfeasibleTarget, match="below the smallest "
                       "assignment's 570 bytes"):
        P.choose(path, cost, lambda a: {"sqnr_db": sqnr(a)},
                 size_budget=500)
    # A quality target within a size budget that cannot hold it.
    with pytest.raises(P.InfeasibleTarget, match="within 700 bytes"):
        P.choose(path, cost, lambda a: {"sqnr_db": sqnr(a)},
                 lambda m: m["sqnr_db"] >= 35, size_budget=700,
                 describe=P._describe)


def test_size_budget_takes_the_best_within_it():
    path = P.upgrade_path(COSTS, NSR)
    i, seen = P.choose(path, cost, lambda a: {"sqnr_db": sqnr(a)},
                       size_budget=700)
    assert cost(path[i]) <= 700 < cost(path[i + 1])
    assert list(seen) == [i]  # measured once


def test_bad_targets():
    with pytest.raises(ValueError, match="needs a target"):
        P._check_target(None, None, None, None)
    with pytest.raises(ValueError, match="needs labels"):
        P._check_target(None, 0.5, None, None)
    with pytest.raises(ValueError, match="target_sqnr must be a finite"):
        P._check_target(float("nan"), None, None, None)
    graph = Model((1, 4))
    graph.add(Linear(np.ones((2, 4), np.float32), None))
    x = np.ones((1, 4), np.float32)
    with pytest.raises(ValueError, match="candidates must be among"):
        P.search(graph, {}, x, target_sqnr=10, candidates=("w2a8",))
    with pytest.raises(ValueError, match="w8a16 needs rounding='single'"):
        P.search(graph, {}, x, target_sqnr=10, candidates=("w8a16",),
                 integer_io=True)
    with pytest.raises(ValueError, match="3 labels for 1 samples"):
        P.search(graph, {}, x, [0, 1, 2], max_accuracy_drop=1)


# ---------------------------------------------------------------------------
# End to end
# ---------------------------------------------------------------------------

def test_search_applies_and_meets_target(tmp_path):
    """On the int4 tests' MLP (fc1: Linear + ReLU, proj: MatMul): a target
    between all-w4a8 and all-w8a8 gives a mixed assignment; it is applied
    (report), measured above the target, bit-exact with the reference,
    and cheaper than all-w8a8."""
    from myquant.api import QuantizedModel
    from test_int4_weights import make_case
    graph, stats, _ = make_case("mlp")
    x = (np.random.default_rng(1).standard_normal((16, 96)) * 0.8).astype(
        np.float32)
    target = 20.0
    choice = P.search(graph, stats, x, target_sqnr=target,
                      candidates=("w4a8", "w8a8"), max_batch=16,
                      cache_dir=str(tmp_path))
    s = choice.summary
    assert s["w4a8"]["sqnr_db"] < target <= s["auto"]["sqnr_db"]
    assert s["w4a8"]["bytes"] < s["auto"]["bytes"] < s["w8a8"]["bytes"]
    assert set(choice.assignment.values()) == {"w4a8"}
    assert 0 < len(choice.assignment) < 2
    assert choice.builds == s["measure_builds"] + s["verify_builds"]
    assert s["measure_builds"] == 2
    # 4-bit weights add about 4 bits' error (24 dB) more than 8-bit ones.
    for row in choice.rows:
        assert row["sensitivity"]["w4a8"] < row["sensitivity"]["w8a8"] - 15
    text = choice.format()
    assert "chosen" in text and "target: logit SQNR >= 20 dB" in text
    with QuantizedModel(graph, stats, layer_precision=choice.assignment,
                        max_batch=16, cache_dir=str(tmp_path)) as qm:
        got = qm(x)
        want = MR.run_reference(graph.with_batch(16), stats, x,
                                layer_precision=choice.assignment)
        np.testing.assert_array_equal(got, want.dequantize())
        assert V.sqnr_db(qm.run_float(x), got) == pytest.approx(
            s["auto"]["sqnr_db"])
        shown = {r["loc"]: r["precision"] for r in
                 V.layer_report(qm, x).rows if r["loc"]}
        for row in choice.rows:
            assert shown[row["loc"]] == row["chosen"]


def test_quantize_auto(tiny_torch):
    """myquant.quantize(layer_precision="auto") applies the choice (one
    candidate here, to build little: test_search_applies_and_meets_target
    chooses); its table is on the model; options that fix the bits are
    refused."""
    import myquant
    model, calib = tiny_torch
    x = calib[:8].numpy()
    with myquant.quantize(model, calib, max_batch=8, layer_precision="auto",
                          precision_target=dict(
                              size_budget=800, x=x,
                              candidates=("w4a8",))) as qm:
        choice = qm.auto_precision
        assert choice.summary["auto"]["bytes"] <= 800
        assert set(choice.assignment) == {"conv1", "conv2", "fc"}
        assert qm.ptq_options["layer_precision"] == tuple(
            choice.layer_precision)
        got = qm(x)
        want = MR.run_reference(qm.graph.with_batch(8), qm.stats, x,
                                layer_precision=choice.assignment)
        np.testing.assert_array_equal(got, want.dequantize())
    with pytest.raises(ValueError, match="chooses the bits itself"):
        myquant.quantize(model, calib, layer_precision="auto", weight_bits=4,
                         precision_target=dict(target_sqnr=30))
    with pytest.raises(ValueError, match="not max_batch"):
        myquant.quantize(model, calib, layer_precision="auto",
                         precision_target=dict(target_sqnr=30, max_batch=2))
    with pytest.raises(ValueError, match='needs layer_precision="auto"'):
        myquant.quantize(model, calib, precision_target=dict(target_sqnr=3))


@pytest.fixture(scope="module")
def tiny_torch():
    import torch
    from test_api import Tiny
    torch.manual_seed(0)
    return Tiny().eval(), torch.randn(32, 1, 8, 8)


def test_cli(tmp_path, capsys, monkeypatch):
    """python3 -m myquant auto-precision: the table and the chosen
    layer-precision, the module with the choice (-o), and an infeasible
    target as a one-line error naming the best reached."""
    from conftest import NET_PY
    from myquant import cli
    monkeypatch.chdir(tmp_path)
    (tmp_path / "net.py").write_text(NET_PY)
    rng = np.random.default_rng(0)
    np.save("cal.npy", rng.standard_normal((8, 1, 8, 8)).astype(np.float32))
    args = ["auto-precision", "--model", "net.py:Net", "--calibration",
            "cal.npy", "--data", "cal.npy", "--candidates", "w8a8"]
    assert cli.main(args + ["--size-budget", "100000", "-o", "q.mlir"]) == 0
    out = capsys.readouterr().out
    assert "chosen" in out and "layer precision: (all w8a8)" in out
    assert "!quant.uniform<i8" in (tmp_path / "q.mlir").read_text()
    assert cli.main(args + ["--target-sqnr", "200"]) == 1
    err = capsys.readouterr().err
    assert "error: no assignment meets logit SQNR >= 200 dB: the best " \
        "(" in err and "reaches logit SQNR" in err


def test_layers_sharing_a_name():
    """An attention's four projections share its module path: one unit of
    4 Linears; a w8a16 entry there would name its softmax too (no 16-bit
    form), so 16 bits are only offered to the MLP's Linears."""
    import torch
    from myquant.export import export
    from test_transformer import vit_block
    graph = export(vit_block(torch), torch.randn(1, 9, 16))
    units = P.weighted_layers(graph)
    assert [len(units[k]) for k in ("self_attention", "mlp.0", "mlp.2")] \
        == [4, 1, 1]
    assert P._widenable(graph, units) == {"mlp.0", "mlp.2"}
    assert P.layer_bytes(graph, units["self_attention"], "w4a8") == sum(
        P.layer_bytes(graph, [l], "w4a8") for l in units["self_attention"])
