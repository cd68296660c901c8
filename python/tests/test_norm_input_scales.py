"""norm_input_scales="per-channel" (issue 17, FQ-ViT's power-of-two
factors for LayerNorm inputs, docs/NumericSpec.md 6.6) through the Python
API: the calibrator's per-channel LayerNorm input ranges, the option passed
to myquant-ptq, and its checks.
Run: /usr/bin/python3 -m pytest -q python/tests/test_norm_input_scales.py"""
import numpy as np
import pytest
from conftest import RUNNABLE_TARGETS, quantize_cli

import myquant
from myquant import evaluate as V
from myquant import tools as T
from myquant.testing import model_reference as MR


def outlier_block(torch):
    """The ViT block of the lit test propagate-qparams-norm-input-per-
    channel.mlir: pos = x + embedding, ln1, fc, res = fc(ln1(pos)) + pos,
    ln2, head, where the embedding puts channels 1 and 5 of the residual
    stream about 50 times off the others (the outlier channels of trained
    transformers): per-tensor int8 LayerNorm inputs leave the other
    channels a few steps."""
    class Block(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.pos = torch.nn.Parameter(0.1 * torch.randn(1, 6, 8))
            self.ln1 = torch.nn.LayerNorm(8)
            self.fc = torch.nn.Linear(8, 8)
            self.ln2 = torch.nn.LayerNorm(8)
            self.head = torch.nn.Linear(8, 4)

        def forward(self, x):
            pos = x + self.pos
            res = self.fc(self.ln1(pos)) + pos
            return self.head(self.ln2(res))

    torch.manual_seed(0)
    block = Block().eval()
    with torch.no_grad():
        # Opposite signs: the channels share the tensor's zero point
        # (docs/NumericSpec.md 6.6), near 0 here.
        block.pos[:, :, 1] += 50.0
        block.pos[:, :, 5] -= 50.0
        # As trained ViTs do, the LayerNorms damp the outlier channels and
        # bring the others back to unit range (their rows' mean and
        # deviation are the outliers').
        for norm in (block.ln1, block.ln2):
            norm.weight.fill_(20.0)
            norm.weight[[1, 5]] = 0.02
            norm.bias.fill_(12.0)
            norm.bias[[1, 5]] = 0.0
    return block


def test_per_channel_norm_inputs_beat_per_tensor(toolchain, workdir):
    """Per-channel LayerNorm inputs: the LayerNorm reads a per-axis type
    with input shifts, generic and avx512-vnni give the numpy model
    reference's results bit for bit (both scale modes), and the SQNR
    against the float model is higher than per-tensor int8's."""
    torch = pytest.importorskip("torch")
    block = outlier_block(torch)
    calib = torch.randn(64, 6, 8)
    x = torch.randn(4, 6, 8)
    with torch.no_grad():
        want = block(x).numpy()

    def sqnr(got):
        return 10 * np.log10(np.sum(want ** 2) / np.sum((got - want) ** 2))

    results = {}
    for scales in ("per-tensor", "per-channel"):
        q = myquant.quantize(block, calib, allow_float=False, max_batch=4,
                             norm_input_scales=scales)
        ir = q.quantized_mlir(batch=4)
        norms = [line for line in ir.splitlines()
                 if "myquant.layer_norm" in line]
        assert len(norms) == 2, norms
        for norm in norms:
            assert ("input_shifts" in norm) == (scales == "per-channel")
            assert ("!quant.uniform<i8:f32:2," in norm) == \
                (scales == "per-channel"), norm
        ref = MR.run_reference(q.graph.with_batch(4), q.stats, x.numpy(),
                               norm_input_scales=scales)
        shifted = [n for n in ref.values
                   if np.ndim(ref.values[n][1]) == 1]
        assert len(shifted) == (2 if scales == "per-channel" else 0), \
            shifted
        want_q = ref.dequantize()
        for target in ("generic", "avx512-vnni"):
            if target in RUNNABLE_TARGETS:
                got = toolchain.lower_and_run(ir, target, x.numpy(), workdir)
                assert np.array_equal(got, want_q), (
                    target, int(np.sum(got != want_q)))
        assert np.array_equal(q(x.numpy()), want_q)
        results[scales] = sqnr(want_q)
        if scales == "per-channel":
            # The per-layer variant returns the LayerNorm inputs, which
            # then keep per-tensor scales: its note says so.
            report = V.layer_report(q, x.numpy())
            assert not report.matches_deployed
            assert "keep per-tensor scales" in report.format()
        q.close()
    print(f"outlier channels x50 (residual): logit SQNR {results['per-tensor']:.1f} dB "
          f"(per-tensor), {results['per-channel']:.1f} dB (per-channel)")
    assert results["per-channel"] > results["per-tensor"] + 3, results


def test_per_channel_norm_input_calibration():
    """The calibrator records the LayerNorm input's per-channel range
    (numpy's min/max per channel of x + fc(x)) and nothing else per
    channel."""
    torch = pytest.importorskip("torch")
    from myquant.calibrate import collect_stats
    from myquant.export import export
    block = outlier_block(torch)
    calib = torch.randn(16, 6, 8)
    graph = export(block, calib[:1])
    stats = collect_stats(graph, [calib.numpy()],
                          per_channel_norm_inputs=True)
    assert len(stats.channels) == 2
    name, (lows, highs) = next(iter(stats.channels.items()))
    with torch.no_grad():
        h = (calib + block.pos).numpy().reshape(-1, 8)
    np.testing.assert_allclose(lows, h.min(0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(highs, h.max(0), rtol=1e-5, atol=1e-5)
    assert stats[name] == pytest.approx((h.min(), h.max()), rel=1e-5)
    assert not collect_stats(graph, [calib.numpy()]).channels


def test_norm_input_scales_options():
    """The option string, and the combinations the dry run refuses."""
    assert "norm-input-scales=per-channel" in T.ptq_options(
        norm_input_scales="per-channel")
    assert "norm-input-scales" not in T.ptq_options()
    with pytest.raises(ValueError, match="norm_input_scales"):
        T.ptq_options(norm_input_scales="channel")
    for bad in (dict(norm_input_bits=16), dict(activation_bits=16),
                dict(layer_precision=["fc:w8a16"])):
        with pytest.raises(ValueError, match="8-bit LayerNorm inputs"):
            T.ptq_options(norm_input_scales="per-channel", **bad)
    with pytest.raises(ValueError, match="norm_input_scales"):
        T.ptq_options(norm_input_scales="per-channel", dynamic=True)


NORM_PY = """
import torch
from torch import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.pos = nn.Parameter(0.1 * torch.randn(1, 6, 8))
        with torch.no_grad():
            self.pos[:, :, 1] += 50.0
            self.pos[:, :, 5] -= 50.0
        self.norm = nn.LayerNorm(8)

    def forward(self, x):
        return self.norm(x + self.pos)
"""


def test_cli_norm_input_scales(tmp_path, build_dir):
    """`quantize --norm-input-scales per-channel` writes a LayerNorm with
    input shifts; with --norm-input-bits 16 it is refused with the
    reason."""
    cli = quantize_cli(tmp_path, NORM_PY, "Block", np.random.default_rng(
        0).standard_normal((8, 6, 8)).astype(np.float32),
        "--norm-input-scales", "per-channel")
    p = cli("-o", "q.mlir")
    assert p.returncode == 0, p.stderr
    text = (tmp_path / "q.mlir").read_text()
    assert "input_shifts" in text, text[-2000:]
    p = cli("--norm-input-bits", "16", "-o", "q16.mlir")
    assert p.returncode != 0 and "8-bit LayerNorm inputs" in p.stderr, \
        p.stderr
