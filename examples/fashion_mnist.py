#!/usr/bin/env python3
"""Fashion-MNIST: train a small CNN in PyTorch, quantize it to int8 with
myquant, and compare it with the float model and PyTorch's own int8 PTQ.

    /usr/bin/python3 examples/fashion_mnist.py            # ~1-2 minutes
    /usr/bin/python3 examples/fashion_mnist.py --retrain  # ignore the cache
    /usr/bin/python3 examples/fashion_mnist.py --model mobilenet-v3
    /usr/bin/python3 examples/fashion_mnist.py --model efficientnet
    /usr/bin/python3 examples/fashion_mnist.py --model vit --epochs 5

--model picks the network: the SmallCNN (default), a MobileNetV3- or
EfficientNet-style network of torchvision's own blocks (hardswish, SiLU,
sigmoid, squeeze-excite; see mobilenet_v3_tiny and efficientnet_tiny), or a
small torchvision VisionTransformer (vit_tiny), quantized integer-only;
PyTorch's FX cannot trace it, so its int8 column is PyTorch's dynamic
quantization of the Linears.

Data: the idx files of the Debian package dataset-fashion-mnist
(/usr/share/datasets/fashion-mnist); without them, sklearn's 8x8 digits.
The trained weights are cached (state_dict) in ~/.cache/myquant (or
$MYQUANT_CACHE_DIR, or --cache-dir), so reruns skip training.

Prints: float vs int8 test accuracy, argmax agreement and logit SQNR against
the float model, weight bytes, and one-thread latency (median) at batch 1 and
64 of float PyTorch (jit.trace + freeze + optimize_for_inference), PyTorch's
default int8 PTQ on the onednn engine (FX prepare/convert with the default
qconfig mapping, jit.trace + freeze) and myquant's int8 shared library; then
myquant's per-layer SQNR table.
"""

import argparse
import gzip
import os
import sys
import time

# With 2 threads on a busy 2-core machine, OpenMP's spinning workers stall
# (4x slower training); passive waiting avoids it. Set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))

import myquant  # noqa: E402
from myquant import evaluate as V  # noqa: E402
from myquant.cli import add_ptq_options, ptq_keywords  # noqa: E402

FASHION_DIR = "/usr/share/datasets/fashion-mnist"
# The quantize options the example offers (myquant.cli's flags).
PTQ_FLAGS = ["--rounding", "--weight-granularity", "--weight-bits",
             "--group-size", "--norm-input-bits", "--bias-correction",
             "--softmax-input-bits", "--norm-input-scales",
             "--int16-range-headroom"]
CLASSES = ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
           "Shirt", "Sneaker", "Bag", "Boot"]


class SmallCNN(nn.Module):
    """conv(1->16)+BN+ReLU, maxpool, conv(16->32)+BN+ReLU, maxpool,
    conv(32->32)+BN+ReLU, flatten, linear(->10). Input 1 x size x size."""

    def __init__(self, size=28, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(32)
        self.conv3 = nn.Conv2d(32, 32, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(32)
        self.fc = nn.Linear(32 * (size // 4) ** 2, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = F.relu(self.bn3(self.conv3(x)))
        return self.fc(torch.flatten(x, 1))


class TinyNet(nn.Module):
    """A stem conv (stride 2), torchvision's own blocks, a 1x1 head conv,
    global average pooling and a classifier: `features` / `classifier` as
    in torchvision's MobileNetV3 and EfficientNet. Input 1 x 28 x 28."""

    def __init__(self, blocks, stem_act, head_channels, classes=10):
        super().__init__()
        from torchvision.ops.misc import Conv2dNormActivation
        last = [m for m in blocks[-1].modules()
                if isinstance(m, nn.Conv2d)][-1].out_channels
        self.features = nn.Sequential(
            Conv2dNormActivation(1, 16, 3, stride=2, norm_layer=_norm,
                                 activation_layer=stem_act),
            *blocks,
            Conv2dNormActivation(last, head_channels, 1, norm_layer=_norm,
                                 activation_layer=stem_act))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(0.2),
                                        nn.Linear(head_channels, classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))


def _norm(channels):
    return nn.BatchNorm2d(channels, eps=0.001, momentum=0.01)


def mobilenet_v3_tiny():
    """MobileNetV3-style: hardswish, inverted residuals with depthwise
    convs and squeeze-excite scaled by hardsigmoid (torchvision's
    InvertedResidual)."""
    from torchvision.models.mobilenetv3 import (InvertedResidual,
                                                InvertedResidualConfig)

    def block(cin, k, exp, cout, se, act, stride):
        return InvertedResidual(
            InvertedResidualConfig(cin, k, exp, cout, se, act, stride, 1, 1),
            _norm)
    return TinyNet([block(16, 3, 16, 16, True, "RE", 1),
                    block(16, 3, 64, 24, False, "RE", 2),
                    block(24, 5, 96, 40, True, "HS", 1),
                    block(40, 5, 120, 48, True, "HS", 1)],
                   nn.Hardswish, 192)


def efficientnet_tiny():
    """EfficientNet-style: SiLU, MBConv blocks with squeeze-excite scaled
    by sigmoid and stochastic depth (torchvision's MBConv)."""
    from torchvision.models.efficientnet import MBConv, MBConvConfig
    cfgs = [MBConvConfig(1, 3, 1, 16, 16, 1), MBConvConfig(4, 3, 2, 16, 24, 1),
            MBConvConfig(4, 5, 1, 24, 40, 1), MBConvConfig(4, 3, 1, 40, 48, 1)]
    return TinyNet([MBConv(c, 0.2 * i / len(cfgs), _norm)
                    for i, c in enumerate(cfgs)], nn.SiLU, 192)


def vit_tiny(size):
    """torchvision's VisionTransformer in small: 16 patches (7 x 7 for
    28 x 28 inputs) and the class token, 2 encoder layers of 4 heads over
    64 channels, MLP 128; its patch embedding takes the one gray channel."""
    from torchvision.models import VisionTransformer
    patch = size // 4
    vit = VisionTransformer(image_size=size, patch_size=patch, num_layers=2,
                            num_heads=4, hidden_dim=64, mlp_dim=128,
                            num_classes=10)
    vit.conv_proj = nn.Conv2d(1, 64, patch, stride=patch)
    return vit


# --model: (display name, constructor of the input size).
MODELS = {"cnn": ("SmallCNN", SmallCNN),
          "mobilenet-v3": ("MobileNetV3-tiny", lambda size: mobilenet_v3_tiny()),
          "efficientnet": ("EfficientNet-tiny",
                           lambda size: efficientnet_tiny()),
          "vit": ("ViT-tiny", vit_tiny)}


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------

def _read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big")
             for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_data(force_digits=False):
    """(name, x_train, y_train, x_test, y_test, size); x float32 NCHW,
    normalized."""
    files = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    paths = [os.path.join(FASHION_DIR, f) for f in files]
    if not force_digits and all(os.path.exists(p) for p in paths):
        xtr, ytr, xte, yte = (_read_idx(p) for p in paths)
        mean, std = 0.2860, 0.3530

        def norm(x):
            return ((x.astype(np.float32) / 255.0 - mean) / std)[:, None]
        return ("Fashion-MNIST", norm(xtr), ytr.astype(np.int64), norm(xte),
                yte.astype(np.int64), 28)
    print(f"note: {FASHION_DIR} not found (Debian package "
          f"dataset-fashion-mnist); using sklearn's 8x8 digits")
    from sklearn.datasets import load_digits
    d = load_digits()
    x = (d.images.astype(np.float32) / 16.0 - 0.3) / 0.4
    y = d.target.astype(np.int64)
    perm = np.random.default_rng(0).permutation(len(x))
    x, y = x[perm][:, None], y[perm]
    n = int(0.8 * len(x))
    return "sklearn digits 8x8", x[:n], y[:n], x[n:], y[n:], 8


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------

def train(model, x, y, epochs, batch_size=128, seed=0):
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    steps = epochs * ((len(x) + batch_size - 1) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=4e-3,
                                                total_steps=steps)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    t0, step = time.time(), 0
    tty = sys.stdout.isatty()
    cr, end = ("\r", "") if tty else ("", "\n")
    model.train()
    for epoch in range(epochs):
        perm = torch.randperm(len(x))
        running, seen, correct = 0.0, 0, 0
        for i in range(0, len(x), batch_size):
            idx = perm[i:i + batch_size]
            xb, yb = xt[idx], yt[idx]
            out = model(xb)
            loss = F.cross_entropy(out, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            running += loss.item() * len(idx)
            seen += len(idx)
            correct += int((out.argmax(1) == yb).sum())
            last = i + batch_size >= len(x)
            if step % (20 if tty else 100) == 0 or last:
                print(f"{cr}  epoch {epoch + 1}/{epochs}  step {step}/{steps}"
                      f"  loss {running / seen:.4f}  train acc "
                      f"{100 * correct / seen:5.2f}%  "
                      f"({time.time() - t0:.0f} s)", end=end, flush=True)
        if tty:
            print()
    model.eval()
    return model


def cache_path(cache_dir, dataset, epochs, arch="cnn"):
    tag = "fashion" if dataset.startswith("Fashion") else "digits"
    # The SmallCNN's file keeps its name: caches of earlier runs still work.
    arch_tag = "" if arch == "cnn" else f"{arch}_"
    return os.path.join(cache_dir, f"fashion_mnist_example_{arch_tag}{tag}_"
                        f"e{epochs}.pt")


def trained_model(dataset, x, y, size, epochs, threads, cache_dir,
                  retrain=False, arch="cnn"):
    """The `arch` model (a MODELS key) trained on (x, y), from the cache
    in cache_dir when there (unless retrain), else trained on `threads`
    threads and cached."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    title, make = MODELS[arch]
    model = make(size)
    path = cache_path(cache_dir, dataset, epochs, arch)
    if os.path.exists(path) and not retrain:
        model.load_state_dict(torch.load(path))
        model.eval()
        print(f"loaded cached weights from {path} (--retrain to train)")
        return model
    epochs = epochs if size == 28 else max(epochs, 30)
    print(f"training {title} for {epochs} epochs on {threads} threads")
    train(model, x, y, epochs)
    os.makedirs(cache_dir, exist_ok=True)
    torch.save(model.state_dict(), path)
    print(f"saved weights to {path}")
    return model


def calibration_images(x, n):
    """n training images drawn at random (seed 0) without replacement."""
    rng = np.random.default_rng(0)
    return x[rng.choice(len(x), min(n, len(x)), replace=False)]


# ---------------------------------------------------------------------------
# Baselines and timing
# ---------------------------------------------------------------------------

def torch_float_jit(model, example):
    with torch.no_grad():
        traced = torch.jit.trace(model, example)
        return torch.jit.optimize_for_inference(torch.jit.freeze(traced))


def torch_onednn_int8(model, calib, batch_size=256):
    """PyTorch's default static PTQ for the onednn engine (calibrated in
    batches of batch_size)."""
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx
    import copy
    torch.backends.quantized.engine = "onednn"
    m = copy.deepcopy(model).eval()
    prepared = prepare_fx(m, get_default_qconfig_mapping("onednn"),
                          (torch.from_numpy(calib[:1]),))
    with torch.no_grad():
        for i in range(0, len(calib), batch_size):
            prepared(torch.from_numpy(calib[i:i + batch_size]))
    q = convert_fx(prepared)
    return q


def torch_int8(model, calib):
    """PyTorch's best int8 for the model: static FX PTQ on onednn, or,
    where torch.fx cannot trace the model (torchvision's
    VisionTransformer), dynamic quantization of its Linears (int8 weights,
    activations quantized per batch at run time, the rest float). Returns
    (label, quantized module)."""
    try:
        return "onednn", torch_onednn_int8(model, calib)
    except Exception as e:  # noqa: BLE001 (FX raises many kinds)
        print(f"  PyTorch FX PTQ fails ({type(e).__name__}: "
              f"{str(e).splitlines()[0][:60]}); dynamic int8 Linears")
        import copy
        torch.backends.quantized.engine = "onednn"
        return "dynamic", torch.ao.quantization.quantize_dynamic(
            copy.deepcopy(model).eval(), {nn.Linear}, dtype=torch.qint8)


def freeze_int8(q, example):
    with torch.no_grad():
        return torch.jit.freeze(torch.jit.trace(q, example).eval())


def int8_param_bytes(qmodel):
    """int8 weights + float32 biases of PyTorch's quantized modules."""
    total = 0
    for m in qmodel.modules():
        if hasattr(m, "weight") and callable(m.weight) and \
                hasattr(m, "bias") and callable(m.bias):
            total += m.weight().numel()
            b = m.bias()
            total += 0 if b is None else 4 * b.numel()
    return total


def run_batched(fn, x, batch=256):
    outs = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            y = fn(torch.from_numpy(x[i:i + batch]))
            outs.append(y.numpy() if hasattr(y, "numpy") else y)
    return np.concatenate(outs)


def median_time(fn, x, repeats):
    with torch.no_grad():
        for _ in range(max(3, repeats // 10)):
            fn(x)
        ts = []
        for _ in range(repeats):
            t = time.perf_counter()
            fn(x)
            ts.append(time.perf_counter() - t)
    return float(np.median(ts))


def fmt_time(s):
    return f"{s * 1e6:,.0f} us" if s < 1e-2 else f"{s * 1e3:,.2f} ms"


# ---------------------------------------------------------------------------

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--retrain", action="store_true",
                   help="train even if cached weights exist")
    p.add_argument("--model", default="cnn", choices=sorted(MODELS),
                   help="cnn: SmallCNN (conv, BN, ReLU, max pool); "
                   "mobilenet-v3: hardswish, depthwise, squeeze-excite with "
                   "hardsigmoid; efficientnet: SiLU, squeeze-excite with "
                   "sigmoid, stochastic depth; vit: torchvision's "
                   "VisionTransformer (class token, position embedding, "
                   "LayerNorm, attention, GELU), integer-only")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--threads", type=int, default=2,
                   help="torch threads for training (timing uses 1)")
    p.add_argument("--cache-dir", default=os.environ.get(
        "MYQUANT_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache",
                                          "myquant")))
    p.add_argument("--calibration-samples", type=int, default=1000)
    p.add_argument("--digits", action="store_true",
                   help="use sklearn digits even if Fashion-MNIST exists")
    add_ptq_options(p, PTQ_FLAGS)
    p.add_argument("--repeats", type=int, default=200,
                   help="timing repeats at batch 1 (batch 64: a fifth)")
    args = p.parse_args(argv)
    t_start = time.time()

    name, xtr, ytr, xte, yte, size = load_data(args.digits)
    print(f"data: {name}: {len(xtr)} training, {len(xte)} test images "
          f"{size}x{size}")

    # 1. Train (or load the cached weights).
    model = trained_model(name, xtr, ytr, size, args.epochs, args.threads,
                          args.cache_dir, args.retrain, args.model)

    # 2. Quantize with myquant: export (torch.fx, BN folded), calibrate on
    # training images, compile per batch size on first use.
    calib = calibration_images(xtr, args.calibration_samples)
    print(f"myquant: quantizing ({len(calib)} calibration images, "
          f"{args.rounding} rounding, {args.weight_granularity} "
          f"{args.weight_bits}-bit weights"
          + (f", groups of {args.group_size}" if args.group_size else "")
          + (f", {args.norm_input_bits}-bit LayerNorm inputs"
             if args.norm_input_bits != 8 else "")
          + (f", {args.norm_input_scales} LayerNorm input scales"
             if args.norm_input_scales != "per-tensor" else "")
          + (", bias correction" if args.bias_correction else "")
          + (f", {args.softmax_input_bits}-bit Softmax inputs"
             if args.softmax_input_bits != 8 else "") + ")")
    t = time.time()
    # The ViT is quantized integer-only: nothing may stay in float.
    qmodel = myquant.quantize(model, calib, allow_float=args.model != "vit",
                              progress=True, **ptq_keywords(args, PTQ_FLAGS))
    qmodel(xte[:64])  # compiles the batch-64 library
    print(f"  exported, calibrated and compiled in {time.time() - t:.1f} s "
          f"(BatchNorm folded: {', '.join(qmodel.graph.folded_batchnorms)})")

    # 3. Accuracy on the test set.
    torch.set_num_threads(1)
    print("evaluating on the test set ...")
    ref = run_batched(model, xte)
    exported = qmodel.run_float(xte[:64])  # the float MLIR, compiled
    rel = np.max(np.abs(exported - ref[:64])) / np.max(np.abs(ref[:64]))
    print(f"  exported float model vs PyTorch (64 images): max |diff| / "
          f"max |logit| = {rel:.1e}")
    mq = qmodel(xte)
    torch_label, onednn = torch_int8(model, calib)
    od = run_batched(onednn, xte)
    m_mq = V.compare(ref, mq, yte)
    m_od = V.compare(ref, od, yte)

    # 4. Latency on one thread.
    print("timing on one thread ...")
    lat = {}
    for b in (1, 64):
        xb = np.ascontiguousarray(xte[:b])
        tb = torch.from_numpy(xb)
        reps = args.repeats if b == 1 else max(10, args.repeats // 5)
        fl = torch_float_jit(model, tb)
        oq = freeze_int8(onednn, tb)
        fn = qmodel.compiled(b)
        lat[("float", b)] = median_time(fl, tb, reps)
        lat[("onednn", b)] = median_time(oq, tb, reps)
        lat[("myquant", b)] = median_time(fn, xb, reps)

    fbytes, qbytes = qmodel.parameter_bytes()
    lib_bytes = os.path.getsize(qmodel.compiled(1).lib._name)

    def pct(v):
        return f"{100 * v:.2f}%"
    rows = [
        ["test accuracy", pct(m_mq["float_accuracy"]),
         pct(m_od["int8_accuracy"]), pct(m_mq["int8_accuracy"])],
        ["accuracy change vs float", "-",
         f"{100 * (m_od['int8_accuracy'] - m_od['float_accuracy']):+.2f}",
         f"{100 * (m_mq['int8_accuracy'] - m_mq['float_accuracy']):+.2f}"],
        ["argmax agreement with float", "-", pct(m_od["argmax_agreement"]),
         pct(m_mq["argmax_agreement"])],
        ["logit SQNR vs float", "-", f"{m_od['sqnr_db']:.1f} dB",
         f"{m_mq['sqnr_db']:.1f} dB"],
        ["weights + biases (bytes)", f"{fbytes:,}",
         f"{int8_param_bytes(onednn):,}", f"{qbytes:,}"],
        ["latency, batch 1", fmt_time(lat[("float", 1)]),
         fmt_time(lat[("onednn", 1)]), fmt_time(lat[("myquant", 1)])],
        ["latency, batch 64", fmt_time(lat[("float", 64)]),
         fmt_time(lat[("onednn", 64)]), fmt_time(lat[("myquant", 64)])],
    ]
    print()
    print(f"{MODELS[args.model][0]} on {name} ({len(xte)} test images); latency: median, "
          f"one thread")
    mq_label = "int8 myquant" if args.weight_bits == 8 else \
        f"w{args.weight_bits}a8 myquant"
    print(V.format_table(["", "float PyTorch", f"int8 PyTorch {torch_label}",
                          mq_label], rows))
    print(f"(float bytes: BatchNorm-folded f32 parameters; int8: 1-byte "
          f"weights + 4-byte biases (4-bit: half a byte, and a byte per "
          f"group); myquant shared library, batch 1: {lib_bytes:,} bytes)")

    # 5. Where the error comes from.
    print()
    print("myquant per-layer SQNR (int8 dequantized vs float, 256 test "
          "images):")
    print(V.layer_report(qmodel, xte[:256]).format())
    qmodel.close()
    print(f"\ntotal time {time.time() - t_start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
