#!/usr/bin/env python3
"""Where a torchvision model loses against PyTorch's PTQ, layer by layer.

Prints the logit SQNR of myquant and of PyTorch FX PTQ (onednn, qnnpack),
then, per module of PyTorch's int8 onednn model (fused conv + BatchNorm +
ReLU, pools, the classifier), the SQNR of its int8 output against the float
model next to myquant's at the same module (`myquant.evaluate.layer_report`,
both cumulative; "-" where myquant has no value of its own there, e.g. a
branch whose output adopts its concatenation's parameters), and myquant's
layers that add most error. With --torch-ranges it also quantizes the
model with PyTorch's activation ranges (each onednn observer's scale and
zero point as the value's range) to tell the choice of ranges from the
integer arithmetic.

    /usr/bin/python3 benchmarks/zoo_layer_gap.py googlenet [--method minmax]
        [--calib 8] [--test 4] [--torch-ranges]
"""

import argparse
import copy
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "python"))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

from zoo import images, zoo_model  # noqa: E402


def torch_prepared(model, calib, engine):
    """PyTorch FX PTQ: the observed (calibrated) and the converted model."""
    import torch
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx
    torch.backends.quantized.engine = engine
    with torch.no_grad():
        prepared = prepare_fx(copy.deepcopy(model),
                              get_default_qconfig_mapping(engine),
                              example_inputs=(torch.from_numpy(calib[:1]),))
        for i in range(len(calib)):
            prepared(torch.from_numpy(calib[i:i + 1]))
        return prepared, convert_fx(copy.deepcopy(prepared))


def module_outputs(gm, x):
    """The (dequantized) output of each call_module node but observers."""
    import torch
    vals = {}

    class Recorder(torch.fx.Interpreter):
        def call_module(self, target, args, kwargs):
            o = super().call_module(target, args, kwargs)
            if "activation_post_process" not in target and \
                    isinstance(o, torch.Tensor):
                vals[target] = (o.dequantize() if o.is_quantized else o
                                ).numpy().copy()
            return o
    with torch.no_grad():
        Recorder(gm).run(x)
    return vals


def torch_ranges(prepared):
    """Value key (module path, fx node name or "x") -> the range that each
    observer's (scale, zero point) spans on its integer grid."""
    ranges = {}
    for node in prepared.graph.nodes:
        if node.op != "call_module" or \
                "activation_post_process" not in node.target:
            continue
        obs = prepared.get_submodule(node.target)
        scale, zp = (float(v) for v in obs.calculate_qparams())
        src = node.args[0]
        key = "x" if src.op == "placeholder" else \
            src.target if src.op == "call_module" else src.name
        ranges[key] = ((obs.quant_min - zp) * scale,
                       (obs.quant_max - zp) * scale)
    return ranges


def main():
    import torch
    import myquant
    from myquant import evaluate as V
    from myquant import qparams as Q
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model")
    p.add_argument("--method", default="minmax")
    p.add_argument("--calib", type=int, default=8)
    p.add_argument("--test", type=int, default=4)
    p.add_argument("--torch-ranges", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(1)
    model = zoo_model(args.model)
    calib, test = images(args.calib, seed=1), images(args.test, seed=2)
    with torch.no_grad():
        ref = model(torch.from_numpy(test)).numpy()
    with tempfile.TemporaryDirectory() as cache:
        qm = myquant.quantize(model, calib, method=args.method, max_batch=4,
                              cache_dir=cache)
        print(f"myquant {args.method}: {V.sqnr_db(ref, qm(test)):.2f} dB")
        ours = {r["name"].split("+")[0]: r
                for r in V.layer_report(qm, test).rows}
        for engine in ("onednn", "qnnpack"):
            prepared, converted = torch_prepared(model, calib, engine)
            with torch.no_grad():
                out = np.concatenate([converted(torch.from_numpy(
                    test[i:i + 1])).numpy() for i in range(len(test))])
            print(f"PyTorch {engine}: {V.sqnr_db(ref, out):.2f} dB")
            if engine == "onednn":
                onednn = prepared, converted
        prepared, converted = onednn
        flt, q = {}, {}
        for i in range(len(test)):
            xi = torch.from_numpy(test[i:i + 1])
            a, b = module_outputs(prepared, xi), module_outputs(converted, xi)
            for k in (k for k in b if k in a):  # graph order
                flt.setdefault(k, []).append(a[k])
                q.setdefault(k, []).append(b[k])
        print(f"{'module':40s} {'onednn':>7s} {'myquant':>8s}")
        for k in flt:
            mine = ours.get(k)
            print(f"{k:40s} "
                  f"{V.sqnr_db(np.concatenate(flt[k]), np.concatenate(q[k])):7.1f}"
                  f" {'-' if mine is None else format(mine['sqnr_db'], '8.1f')}")
        own = sorted((r for r in ours.values() if r["layer_sqnr_db"]
                      is not None and np.isfinite(r["layer_sqnr_db"])),
                     key=lambda r: r["layer_sqnr_db"])[:10]
        print("myquant's layers that add most error:")
        for r in own:
            print(f"  {r['name']:45s} own {r['layer_sqnr_db']:.1f} dB, "
                  f"output {r['sqnr_db']:.1f} dB, scale {r['scale']:.4g}")
        if args.torch_ranges:
            ranges = torch_ranges(prepared)
            fused, _, _ = Q.plan(qm.graph, qm.stats)
            stats = dict(qm.stats)
            for layer in qm.graph.layers:
                key = layer.loc if layer.loc in ranges else layer.name
                if key in ranges:
                    stats[fused[layer.name].name if layer.name in fused
                          else layer.name] = ranges[key]
            stats["x"] = ranges.get("x", stats["x"])
            qm.stats = stats
            qm._cache.clear()  # the libraries built with the old ranges
            print(f"myquant with onednn's ranges: "
                  f"{V.sqnr_db(ref, qm(test)):.2f} dB")
        qm.close()


if __name__ == "__main__":
    main()
