"""Model-level agreement with PyTorch qnnpack when myquant takes PyTorch's
own quantization parameters (issue 5).

A small CNN (conv+relu, maxpool, conv+relu, flatten, linear) is quantized by
PyTorch eager static PTQ with the qnnpack engine (quint8 activations,
per-tensor symmetric qint8 weights, MinMax observers). The float model is
exported with myquant.export and quantized by myquant-opt with a stats file
written from PyTorch's qparams: the input stub's and every quantized
module's output scale/zero point (a fused ConvReLU's go to the relu's value)
and each layer's weight scale with the full [-128, 127] storage range
(`weight` entries, docs/Calibration.md). myquant returns the intermediates
as well; each is turned back into its integers and compared with PyTorch's
`int_repr`.

Requirement: per layer, >= 99.99% of the int8 values identical and none
more than 1 LSB apart.

Run: /usr/bin/python3 -m pytest -s -q python/tests/test_pytorch_qparams.py
"""

import copy
import json
import os

import numpy as np
import pytest

from conftest import (QNNPACK_MAX_ABS_DIFF as MAX_ABS_DIFF,
                      QNNPACK_MIN_FRACTION_EQUAL as MIN_FRACTION_EQUAL,
                      qnnpack_qconfig, require_torch, run_checked)

torch = require_torch("test_pytorch_qparams.py")

from torch import nn  # noqa: E402
from torch.ao.quantization import DeQuantStub, QuantStub  # noqa: E402

from myquant import emit as E  # noqa: E402
from myquant.export import export  # noqa: E402
BATCH = 64

QCONFIG = qnnpack_qconfig()


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(8, 16, 3)
        self.relu2 = nn.ReLU()
        self.flat = nn.Flatten()
        self.fc = nn.Linear(16 * 5 * 5, 10)

    def forward(self, x):
        x = self.pool(self.relu1(self.conv1(x)))
        return self.fc(self.flat(self.relu2(self.conv2(x))))


class Wrapped(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.quant = QuantStub()
        self.model = model
        self.dequant = DeQuantStub()

    def forward(self, x):
        return self.dequant(self.model(self.quant(x)))


# PyTorch's qnnpack engine, one thread, for every test of this module.
pytestmark = pytest.mark.usefixtures("qnnpack_engine")


def _images(gen, n):
    """Smooth non-negative images with some structure (not pure noise)."""
    x = torch.rand(n, 1, 14, 14, generator=gen)
    x = nn.functional.avg_pool2d(x, 3, 1, 1) * 2.0 - 0.5
    return x


def _pytorch_ptq(model, calib):
    w = Wrapped(model).eval()
    w.qconfig = QCONFIG
    torch.ao.quantization.fuse_modules(
        w.model, [["conv1", "relu1"], ["conv2", "relu2"]], inplace=True)
    torch.ao.quantization.prepare(w, inplace=True)
    with torch.no_grad():
        w(calib)
    torch.ao.quantization.convert(w, inplace=True)
    return w


def _stats(q):
    """The stats file of myquant from the converted PyTorch model."""
    m = q.model

    def act(mod):
        return {"scale": float(mod.scale), "zero_point": int(mod.zero_point),
                "dtype": "quint8"}

    def weight(mod):
        w = mod.weight()
        assert w.qscheme() == torch.per_tensor_symmetric or \
            w.qscheme() == torch.per_tensor_affine
        assert int(w.q_zero_point()) == 0
        return {"scale": float(w.q_scale()), "zero_point": 0,
                "qmin": -128, "qmax": 127}

    return {"format": "myquant-stats", "version": 1, "function": "forward",
            "values": {
                "x": act(q.quant),
                "conv1": {"weight": weight(m.conv1)},
                "relu1": act(m.conv1),
                "conv2": {"weight": weight(m.conv2)},
                "relu2": act(m.conv2),
                "fc": dict(act(m.fc), weight=weight(m.fc))}}


def _pytorch_intermediates(q, x):
    """int_repr and qparams of each layer's quantized output."""
    m = q.model
    taps = {"x": q.quant, "relu1": m.conv1, "pool": m.pool,
            "relu2": m.conv2, "flat": m.flat, "fc": m.fc}
    got = {}
    hooks = [mod.register_forward_hook(
        lambda _m, _i, out, name=name: got.__setitem__(name, out))
        for name, mod in taps.items()]
    with torch.no_grad():
        q(x)
    for h in hooks:
        h.remove()
    return {name: (t.int_repr().numpy().astype(np.int64), t.q_scale(),
                   t.q_zero_point()) for name, t in got.items()}


def test_model_matches_qnnpack_with_pytorch_qparams(toolchain, workdir):
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    model = SmallCNN().eval()
    calib, test = _images(gen, 256), _images(gen, BATCH)

    q = _pytorch_ptq(copy.deepcopy(model), calib)
    ref = _pytorch_intermediates(q, test)

    stats_path = os.path.join(workdir, "stats.json")
    with open(stats_path, "w") as f:
        json.dump(_stats(q), f)

    names = ["relu1", "pool", "relu2", "flat", "fc"]
    fm = export(model, test)
    src = os.path.join(workdir, "model.mlir")
    with open(src, "w") as f:
        f.write(E.emit(fm, outputs=names))
    qpath = os.path.join(workdir, "q.mlir")
    run_checked(
        [toolchain.opt, src, f"--myquant-import-stats=file={stats_path}",
         "--myquant-ptq=activation-type=uint8 weight-granularity=per-tensor",
         "-o", qpath], timeout=600)
    outs = toolchain.run_file(
        qpath, "forward", [np.ascontiguousarray(test.numpy(), np.float32)],
        workdir, num_outputs=len(names), timeout=600)

    lines, failures = [], []
    # The input: myquant's quantize against PyTorch's QuantStub.
    results = {"x": None}
    results.update(zip(names, outs))
    for name in ["x"] + names:
        ints, s, zp = ref[name]
        if name == "x":
            mine = np.clip(np.rint(test.numpy().astype(np.float64) / s) + zp,
                           0, 255).astype(np.int64)
        else:
            y = results[name].astype(np.float64)
            mine = np.rint(y / s).astype(np.int64) + zp
        mine = mine.reshape(ints.shape)
        diff = np.abs(mine - ints)
        frac = float(np.mean(diff == 0))
        lines.append(f"{name:6s} n={ints.size:6d} equal={frac * 100:8.4f}% "
                     f"max|diff|={int(diff.max())} (scale {s:.6g}, zp {zp})")
        if frac < MIN_FRACTION_EQUAL or diff.max() > MAX_ABS_DIFF:
            failures.append(name)
    report = "\n".join(lines)
    print("\nmyquant vs PyTorch qnnpack, PyTorch's qparams imported:\n" +
          report)
    assert not failures, f"layers {failures} disagree:\n{report}"

