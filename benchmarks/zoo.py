#!/usr/bin/env python3
"""The torchvision model zoo through myquant, next to PyTorch's own PTQ.

For each torchvision classifier (random weights, BatchNorm statistics set
by a few train-mode passes, 224 x 224, batch 1, one thread) prints one row:

* exports?          myquant.export of the model (else the exporter's error);
* integer-only?     myquant-ptq with allow-float=false succeeds (else the
                    first error), and the ops the default pipeline
                    (allow-float=true) leaves in float;
* SQNR / top-1:     logit SQNR (dB) against the float PyTorch model and
                    top-1 agreement with it on the test images, for myquant
                    int8 and for PyTorch FX PTQ (default qconfig mapping,
                    onednn and qnnpack engines), calibrated on the same
                    images, and, where FX cannot trace the model (the
                    ViTs), PyTorch's dynamic int8 quantization of the
                    Linears ("dynamic");
* latency:          batch-1 one-thread latency (min) of myquant int8 (the
                    shared library called from a C loop, timer.c) and of
                    PyTorch onednn int8 (FX PTQ, jit.trace + freeze);
* calibration and compile time of myquant.

Images: no real data set of 224 x 224 images is packaged, so the images
are smooth random fields (low-frequency noise plus a little pixel noise,
per-channel normalized), seeded. The same images calibrate both tools.

    /usr/bin/python3 benchmarks/zoo.py [--build build] [--models a,b]
        [--calib 16] [--test 16] [--method minmax] [--norm-input-bits 16]
        [--bias-correction] [--softmax-input-bits 16]
        [--norm-input-scales per-channel] [--no-torch] [--no-latency]
"""

import argparse
import os
import re
import sys
import tempfile
import time

import omp_env  # noqa: E402,F401  (before numpy and torch)

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "python"))
sys.path.insert(0, HERE)

from myquant.cli import add_ptq_options, ptq_keywords  # noqa: E402

ZOO = ["resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small",
       "mobilenet_v3_large", "efficientnet_b0", "regnet_y_400mf",
       "squeezenet1_1", "shufflenet_v2_x1_0", "googlenet", "densenet121",
       "convnext_tiny", "vit_b_16", "vit_tiny"]

# Input size of the models that do not run at 224 x 224 (to keep the
# transformers' runs short: ConvNeXt takes any multiple of 32; vit_b_16 is
# built for 64 x 64 inputs, 16 patches and the class token; vit_tiny is a
# torchvision VisionTransformer built for 32 x 32 inputs).
SIZES = {"convnext_tiny": 64, "vit_b_16": 64, "vit_tiny": 32}

# The quantize options the benchmark offers (myquant.cli's flags).
PTQ_FLAGS = ["--norm-input-bits", "--bias-correction", "--softmax-input-bits",
             "--norm-input-scales", "--int16-range-headroom"]


def zoo_model(name, seed=0):
    """torchvision `name` with random weights and BatchNorm statistics of
    a few train-mode passes (so that BatchNorm is not the identity)."""
    import torch
    import torchvision
    torch.manual_seed(seed)
    if name == "vit_tiny":
        m = torchvision.models.VisionTransformer(
            image_size=32, patch_size=8, num_layers=2, num_heads=4,
            hidden_dim=64, mlp_dim=128, num_classes=10)
    else:
        kwargs = {"init_weights": True} if name == "googlenet" else {}
        if name.startswith("vit_"):
            kwargs["image_size"] = SIZES.get(name, 224)
        m = getattr(torchvision.models, name)(weights=None, **kwargs)
    if isinstance(m, torchvision.models.VisionTransformer):
        # torchvision zero-initializes the head: the logits would be 0.
        torch.nn.init.normal_(m.heads.head.weight,
                              std=m.hidden_dim ** -0.5)
    m.train()
    with torch.no_grad():
        for _ in range(3):
            m(torch.from_numpy(images(4, size=SIZES.get(name, 224),
                                      seed=seed + 100)))
    return m.eval()


def images(n, size=224, seed=0):
    """n smooth random 3 x size x size images, per-channel standardized."""
    import torch
    import torch.nn.functional as F
    g = torch.Generator().manual_seed(seed)
    low = torch.randn(n, 3, size // 16, size // 16, generator=g)
    x = F.interpolate(low, size=(size, size), mode="bilinear",
                      align_corners=False)
    x = x + 0.1 * torch.randn(n, 3, size, size, generator=g)
    x = (x - x.mean(dim=(0, 2, 3), keepdim=True)) / \
        x.std(dim=(0, 2, 3), keepdim=True)
    return x.numpy().astype(np.float32)


def sqnr_top1(ref, out):
    from myquant import evaluate as V
    return V.sqnr_db(ref, out), V.argmax_agreement(ref, out)


def torch_ptq(model, calib, test, engine):
    """PyTorch FX PTQ (default qconfig mapping of `engine`): the traced
    and frozen int8 module and its logits on `test`, or the error."""
    import copy
    import torch
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx
    torch.backends.quantized.engine = engine
    x0 = torch.from_numpy(calib[:1])
    try:
        with torch.no_grad():
            prepared = prepare_fx(copy.deepcopy(model),
                                  get_default_qconfig_mapping(engine),
                                  example_inputs=(x0,))
            for i in range(len(calib)):
                prepared(torch.from_numpy(calib[i:i + 1]))
            q = torch.jit.freeze(torch.jit.trace(convert_fx(prepared), x0))
            out = np.concatenate([q(torch.from_numpy(test[i:i + 1])).numpy()
                                  for i in range(len(test))])
        return q, out
    except Exception as e:  # noqa: BLE001 (FX raises many kinds)
        return None, f"{type(e).__name__}: {str(e).splitlines()[0][:80]}"


def torch_dynamic(model, test):
    """PyTorch's dynamic int8 quantization of the Linears (int8 weights,
    activations quantized per batch at run time, the rest float; what
    PyTorch can do where FX cannot trace): its logits on `test`."""
    import copy
    import torch
    torch.backends.quantized.engine = "onednn"
    q = torch.ao.quantization.quantize_dynamic(
        copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8)
    with torch.no_grad():
        return np.concatenate([q(torch.from_numpy(test[i:i + 1])).numpy()
                               for i in range(len(test))])


def float_ops(quantized_mlir):
    """The kinds of ops that compute in float in a quantized module (other
    than the boundary quantize/dequantize), with counts."""
    counts = {}
    for line in quantized_mlir.splitlines():
        m = re.search(r"=\s*(linalg\.[a-z_0-9]+|arith\.[a-z]+f|math\.[a-z]+)",
                      line)
        if m and "f32" in line:
            counts[m.group(1)] = counts.get(m.group(1), 0) + 1
    return counts


def integer_only(qmodel, workdir):
    """'yes', or the first error of myquant-ptq with allow-float=false
    (and the model's other options)."""
    from myquant import tools as T
    src = os.path.join(workdir, "annotated.mlir")
    with open(src, "w") as f:
        f.write(qmodel.annotated_mlir(batch=1))
    options = T.ptq_options(**dict(qmodel.ptq_options, allow_float=False))
    try:
        T.run_tool("myquant-opt", [src, f"--myquant-ptq={options}",
                                   "-o", os.devnull])
        return "yes"
    except T.ToolError as e:
        errs = [ln for ln in str(e).splitlines() if "error:" in ln]
        first = errs[0].split("error:", 1)[1].strip() if errs else "failed"
        return f"no: {first[:70]}"


def bench_one(name, args, timer, workdir):
    import torch
    import myquant
    from myquant.export import ExportError
    row = {"model": name}
    model = zoo_model(name)
    size = SIZES.get(name, 224)
    calib = images(args.calib, size=size, seed=1)
    test = images(args.test, size=size, seed=2)
    with torch.no_grad():
        ref = model(torch.from_numpy(test)).numpy()

    t0 = time.perf_counter()
    try:
        qm = myquant.quantize(model, calib, method=args.method,
                              max_batch=args.batch,
                              cache_dir=os.path.join(workdir, "cache"),
                              **ptq_keywords(args, PTQ_FLAGS))
    except ExportError as e:
        row["exports"] = f"no: {str(e).splitlines()[0][:70]}"
        return row
    row["exports"] = "yes"
    row["calibrate_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    qm.compiled(args.batch)
    row["compile_s"] = time.perf_counter() - t0
    row["integer_only"] = integer_only(qm, workdir)
    row["float_ops"] = float_ops(qm.quantized_mlir(batch=args.batch))
    out = qm(test)
    row["myquant"] = sqnr_top1(ref, out)

    if not args.no_latency:
        from bench import Compiled
        so = os.path.join(qm._build(1, None, True), "libmodel.so")
        fn = Compiled(so, "forward", test[:1], ref[:1].shape, np.float32)
        row["myquant_ms"] = fn.time(timer, args.budget)[0] * 1e3
    if not args.no_torch:
        from bench import python_time
        torch.set_num_threads(1)
        for engine in ("onednn", "qnnpack"):
            q, out = torch_ptq(model, calib, test, engine)
            row[engine] = out if q is None else sqnr_top1(ref, out)
            if engine == "onednn" and q is None:
                row["dynamic"] = sqnr_top1(ref, torch_dynamic(model, test))
            if engine == "onednn" and q is not None and not args.no_latency:
                x1 = torch.from_numpy(test[:1])
                with torch.no_grad():
                    row["onednn_ms"] = python_time(lambda: q(x1),
                                                   args.budget)[0] * 1e3
    qm.close()
    return row


def fmt_quality(v):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    return f"{v[0]:.1f} dB / {100 * v[1]:.0f}%"


def print_rows(rows):
    head = ["model", "exports", "integer-only", "left in float", "myquant",
            "onednn PTQ", "qnnpack PTQ", "dynamic", "myquant ms", "onednn ms", "x",
            "calib s", "compile s"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        ms, od = r.get("myquant_ms"), r.get("onednn_ms")
        left = ", ".join(f"{k} x{n}" for k, n in
                         sorted(r.get("float_ops", {}).items())) or "none"
        cells = [r["model"], r["exports"], r.get("integer_only", "-"),
                 left if r["exports"] == "yes" else "-",
                 fmt_quality(r.get("myquant")), fmt_quality(r.get("onednn")),
                 fmt_quality(r.get("qnnpack")), fmt_quality(r.get("dynamic")),
                 f"{ms:.2f}" if ms else "-", f"{od:.2f}" if od else "-",
                 f"{od / ms:.2f}" if ms and od else "-",
                 f"{r['calibrate_s']:.0f}" if "calibrate_s" in r else "-",
                 f"{r['compile_s']:.0f}" if "compile_s" in r else "-"]
        print("| " + " | ".join(cells) + " |", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", default=os.path.join(REPO, "build"))
    p.add_argument("--models", default=",".join(ZOO))
    p.add_argument("--calib", type=int, default=16,
                   help="calibration images (default 16)")
    p.add_argument("--test", type=int, default=16,
                   help="test images (default 16)")
    p.add_argument("--method", default="minmax",
                   help="myquant calibration method (minmax, percentile, "
                   "mse, entropy; PyTorch's default qconfig observes "
                   "activations with a histogram, like mse)")
    p.add_argument("--batch", type=int, default=16,
                   help="batch size of calibration and evaluation")
    p.add_argument("--budget", type=float, default=1.0,
                   help="seconds of timing per latency figure")
    add_ptq_options(p, PTQ_FLAGS)
    p.add_argument("--no-torch", action="store_true")
    p.add_argument("--no-latency", action="store_true")
    args = p.parse_args()
    os.environ["MYQUANT_BUILD_DIR"] = os.path.abspath(args.build)
    names = [n for n in args.models.split(",") if n]
    unknown = sorted(set(names) - set(ZOO))
    if unknown:
        sys.exit(f"unknown models {unknown}; choose from {ZOO}")

    import torch
    torch.set_num_threads(1)
    rows = []
    with tempfile.TemporaryDirectory(prefix="myquant-zoo-") as workdir:
        from bench import Timer
        timer = None if args.no_latency else Timer(workdir)
        for name in names:
            t0 = time.perf_counter()
            rows.append(bench_one(name, args, timer, workdir))
            print(f"# {name}: {time.perf_counter() - t0:.0f} s",
                  file=sys.stderr, flush=True)
    print(f"\n{args.calib} calibration and {args.test} test images, "
          f"myquant calibration {args.method}"
          f"{' with bias correction' if args.bias_correction else ''}, "
          f"{args.norm_input_bits}-bit LayerNorm inputs, "
          f"{args.softmax_input_bits}-bit Softmax inputs, "
          f"{args.norm_input_scales} LayerNorm input scales, "
          f"224 x 224 unless noted ({SIZES}); quality = logit SQNR vs float / top-1 agreement; "
          f"latency batch 1, one thread, min; x = onednn / myquant\n")
    print_rows(rows)


if __name__ == "__main__":
    main()
