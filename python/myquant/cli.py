"""Command line: python3 -m myquant export|quantize|compile|run|report.

Run from the source tree with PYTHONPATH=python (or from python/). Models
are given as --model FILE.py:NAME (a torch.nn.Module subclass or a function
returning a module, called without arguments) or --model FILE.pt (a module
saved whole with torch.save), optionally with --weights STATE_DICT.pt.
Data (calibration, inputs, labels) are .npy files, one sample per row.
"""

import argparse
import copy
import importlib.util
import os
import sys

import numpy as np

from . import qparams as Q
from .gptq import ROUNDINGS, option_conflict, round_weights

__all__ = ["main", "add_ptq_options", "ptq_keywords", "PTQ_OPTIONS"]


def _load_model(spec, weights=None):
    import torch
    if ":" in spec and not os.path.exists(spec):
        path, name = spec.rsplit(":", 1)
        if not os.path.exists(path):
            raise SystemExit(f"error: no file {path!r} (model {spec!r})")
        mod_name = "_myquant_model_" + \
            os.path.splitext(os.path.basename(path))[0]
        s = importlib.util.spec_from_file_location(mod_name, path)
        module = importlib.util.module_from_spec(s)
        sys.modules[mod_name] = module
        try:
            s.loader.exec_module(module)
        except Exception as e:  # noqa: BLE001 (the user's code raises it)
            raise SystemExit(f"error: --model {spec!r}: importing {path} "
                             f"failed: {_one_line(e)}") from None
        if not hasattr(module, name):
            raise SystemExit(f"error: {path} defines no {name!r}")
        obj = getattr(module, name)
        model = obj() if callable(obj) and not isinstance(
            obj, torch.nn.Module) else obj
    elif spec.endswith((".pt", ".pth")):
        model = _torch_load(spec, "--model")
    else:
        raise SystemExit(f"error: --model {spec!r}: expected FILE.py:NAME "
                         f"or FILE.pt")
    if not isinstance(model, torch.nn.Module):
        raise SystemExit(f"error: {spec} is not a torch.nn.Module")
    if weights:
        sd = _torch_load(weights, "--weights")
        if isinstance(sd, dict) and "state_dict" in sd:
            sd = sd["state_dict"]
        try:
            model.load_state_dict(sd)
        except (RuntimeError, TypeError, AttributeError) as e:
            raise SystemExit(f"error: --weights {weights!r} does not fit "
                             f"--model {spec!r}: {_one_line(e)}") from None
    return model.eval()


def _one_line(e):
    """An exception as 'Type: message' on one line (its lines joined)."""
    text = " ".join(line.strip() for line in str(e).splitlines()
                    if line.strip())
    return f"{type(e).__name__}: {text}"


def _torch_load(path, option):
    import torch
    if not os.path.exists(path):
        raise SystemExit(f"error: {option} file {path!r} does not exist")
    try:
        return torch.load(path, map_location="cpu")
    except Exception as e:  # noqa: BLE001 (unpickling raises many kinds)
        raise SystemExit(f"error: {option} file {path!r} is not a file "
                         f"written by torch.save ({_one_line(e)})") from None


def _shape(text):
    try:
        return tuple(int(t) for t in text.replace("x", ",").split(",") if t)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad shape {text!r} (e.g. "
                                         f"1,1,28,28)") from None


def _positive_int(text):
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, not "
                                         f"{text!r}")
    return n


def _load_npy(path, what):
    """The array of a .npy file; every defect (missing, truncated, not a
    .npy, an .npz archive, pickled objects, complex or non-numeric values)
    ends the command with one line naming the file."""
    if not os.path.exists(path):
        raise SystemExit(f"error: {what} file {path!r} does not exist")
    try:
        a = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise SystemExit(f"error: {what} file {path!r} is not a readable "
                         f".npy array ({e}); write it with numpy.save"
                         ) from None
    if not isinstance(a, np.ndarray):
        a.close()
        raise SystemExit(f"error: {what} file {path!r} is an .npz archive; "
                         f"give one array as a .npy file")
    if np.iscomplexobj(a):
        raise SystemExit(f"error: {what} file {path!r} holds complex values "
                         f"({a.dtype}); the model takes real values")
    if a.dtype.kind not in "biuf":
        raise SystemExit(f"error: {what} file {path!r} holds {a.dtype} "
                         f"values, not numbers")
    return a


def _export(model, example, path, what):
    """export(model, example); a model that does not run on the samples of
    the file `path` (shaped like example's) ends the command with one line
    naming it."""
    from .export import InputShapeError, export
    try:
        return export(model, example)
    except InputShapeError as e:
        raise SystemExit(f"error: {what} file {path!r}: the model does not "
                         f"run on its samples of shape "
                         f"{list(example.shape[1:])} ({e})") from None


def _write(path, text):
    if path in (None, "-"):
        sys.stdout.write(text)
    else:
        with open(path, "w") as f:
            f.write(text)


def _add_model_args(p, calibration_required):
    from .calibrate import METHODS
    p.add_argument("--model", required=True,
                   help="FILE.py:NAME (module class or factory) or FILE.pt "
                        "(whole module)")
    p.add_argument("--weights", help="state_dict (.pt) to load into the "
                                     "model")
    p.add_argument("--calibration", required=calibration_required,
                   help=".npy calibration inputs [N, ...]")
    p.add_argument("--num-samples", type=_positive_int, default=None,
                   help="use at most this many calibration samples")
    p.add_argument("--calibration-batch-size", type=_positive_int,
                   default=None, metavar="N",
                   help="samples per call of the model during calibration "
                        "(default 8; see docs/Calibration.md)")
    p.add_argument("--calibration-threads", type=_positive_int, default=1,
                   metavar="N",
                   help="calls of the model that run at once during "
                        "calibration, one batch each; the statistics do not "
                        "depend on it (default 1)")
    p.add_argument("--method", default="minmax",
                   choices=METHODS,
                   help="calibration method (default minmax; see "
                        "docs/Calibration.md)")
    p.add_argument("--percentile", type=float, default=99.99,
                   help="percentile kept by --method=percentile "
                        "(default 99.99)")


# The quantize options that the CLI, examples/fashion_mnist.py and the
# benchmarks share: flag -> argparse keywords. Each flag's dest is the
# myquant.quantize keyword of the same name.
PTQ_OPTIONS = {
    "--rounding": dict(default="single", choices=["single", "gemmlowp"]),
    "--weight-granularity": dict(default="per-channel",
                                 choices=["per-channel", "per-tensor"]),
    "--allow-float": dict(
        action=argparse.BooleanOptionalAction, default=True,
        help="keep what cannot be quantized in float, with a remark "
             "(default); --no-allow-float fails unless the model is "
             "integer-only"),
    "--keep-float": dict(
        action="append", default=[], metavar="LAYER",
        help="keep this layer (module path) in float; repeat for several"),
    "--integer-io": dict(
        action="store_true",
        help="the compiled function takes and returns int8 (its parameters "
             "recorded on it and in the C header)"),
    "--activation-bits": dict(
        type=int, default=8, choices=[8, 16],
        help="16: 16-bit activations with int8 weights (TFLite's 16x8 "
             "mode) wherever the ops have a 16-bit form"),
    "--weight-bits": dict(
        type=int, default=8, choices=[8, 4],
        help="bits of conv / linear / matmul weights (4: int4 in [-7, 7], "
             "activations stay int8)"),
    "--group-size": dict(
        type=int, default=0, metavar="G",
        help="with 4-bit weights, one scale per group of G K indices of "
             "each linear / matmul (e.g. 32, 64, 128; default 0: per "
             "channel)"),
    "--layer-precision": dict(
        action="append", default=[], metavar="LAYER:MODE",
        help="precision of one layer (module path): LAYER:w4a8, LAYER:w8a8 "
             "or LAYER:w8a16; repeat for several"),
    "--dynamic": dict(
        action="store_true",
        help="dynamic quantization of the linear / matmul layers: int8 "
             "input scale computed from each batch at run time, in "
             "integers (docs/NumericSpec.md 8)"),
    "--dynamic-granularity": dict(
        default="per-tensor", choices=["per-tensor", "per-row"],
        help="with --dynamic: one runtime input scale per tensor (the "
             "batch), or per row (per sample or token, docs/NumericSpec.md "
             "8.2c)"),
    "--norm-input-bits": dict(
        type=int, default=8, choices=[8, 16],
        help="16: 16-bit LayerNorm inputs (their results stay int8, or "
             "int32 with --dynamic), for rows that span few int8 steps; "
             "with --dynamic, --softmax-input-bits 16 and "
             "--dynamic-granularity per-row a transformer's most accurate "
             "dynamic mode (docs/NumericSpec.md 6.5, 8.5)"),
    "--norm-input-scales": dict(
        default="per-tensor", choices=["per-tensor", "per-channel"],
        help="per-channel: a power-of-two factor of a common scale per "
             "LayerNorm input channel (FQ-ViT), for outlier channels; 8-bit "
             "LayerNorm inputs only (docs/NumericSpec.md 6.6)"),
    "--bias-correction": dict(
        action="store_true",
        help="subtract from each conv / linear bias the mean output shift "
             "of its weight quantization on the calibration data "
             "(docs/NumericSpec.md 1.5)"),
    "--weight-rounding": dict(
        default="nearest", choices=list(ROUNDINGS),
        help="gptq: the int8 weights' integers chosen for a small output "
             "error of each conv / linear on the calibration data (GPTQ; "
             "same scales, same arithmetic at run time); default nearest "
             "(docs/NumericSpec.md 1.2)"),
    "--softmax-input-bits": dict(
        type=int, default=8, choices=[8, 16],
        help="16: 16-bit Softmax inputs and attention scores, and 16-bit "
             "probabilities where attention's A V reads them "
             "(docs/NumericSpec.md 6.4, 6.5)"),
    "--int16-range-headroom": dict(
        type=float, default=Q.INT16_RANGE_HEADROOM, metavar="H",
        help="each 16-bit value's scale covers H times its calibrated "
             "range, 1 to 128 (default %(default)g: 6 dB of the 48 dB 16 "
             "bits add), so that inputs beyond the calibration data's "
             "range do not clip (docs/NumericSpec.md 6.1)"),
}


def add_ptq_options(parser, flags=None):
    """Adds the quantize options `flags` (default: all) to an argparse
    parser."""
    for flag in flags or PTQ_OPTIONS:
        parser.add_argument(flag, **PTQ_OPTIONS[flag])


def ptq_keywords(args, flags=None):
    """myquant.quantize's keyword arguments of the parsed `flags`."""
    dests = [f[2:].replace("-", "_") for f in flags or PTQ_OPTIONS]
    return {d: getattr(args, d) for d in dests}


def _calibration_batches(args, data, sample_shape=None):
    from . import calibrate as C
    return C.as_batches(
        data, args.calibration_batch_size or C.DEFAULT_BATCH_SIZE,
        sample_shape, args.num_samples)


def _calibrated(args):
    """(model, graph, stats, float graph) of the --model and --calibration
    arguments (the float graph: before --weight-rounding gptq rounded the
    weights, QuantizedModel's float_graph)."""
    from . import calibrate as C
    bias_correction = getattr(args, "bias_correction", False)
    gptq = getattr(args, "weight_rounding", "nearest") == "gptq"
    # Only these options read the others' arguments (a subcommand may lack
    # --dynamic).
    conflict = (bias_correction or gptq) and option_conflict(
        bias_correction, gptq,
        not args.dynamic and args.weight_bits == 8 and not any(
            e.endswith(":w4a8") for e in args.layer_precision),
        ("--bias-correction", "--weight-rounding gptq",
         "--dynamic or 4-bit weights"))
    if conflict:
        raise SystemExit(f"error: {conflict}")
    model = _load_model(args.model, args.weights)
    data = _load_npy(args.calibration, "calibration")
    batches = _calibration_batches(args, data)
    graph = _export(model, batches[0][:1], args.calibration, "calibration")
    if bias_correction:
        from .bias_correction import correct_biases
        correct_biases(graph, batches, granularity=args.weight_granularity)
    float_graph = copy.deepcopy(graph) if gptq else graph
    if gptq:
        round_weights(graph, batches, granularity=args.weight_granularity,
                      keep=getattr(args, "keep_float", ()))
    stats = C.collect_stats(graph, batches, method=args.method,
                            percentile=args.percentile,
                            progress=sys.stderr.isatty(),
                            threads=args.calibration_threads,
                            per_channel_norm_inputs=getattr(
                                args, "norm_input_scales", "per-tensor") ==
                            "per-channel",
                            observe_inside_layers=bool(
                                getattr(args, "keep_float", ())))
    return model, graph, stats, float_graph


def _quantized_model(args, max_batch=64):
    from .api import QuantizedModel
    model, graph, stats, float_graph = _calibrated(args)
    return model, QuantizedModel(
        graph, stats, rounding=args.rounding,
        weight_granularity=args.weight_granularity, max_batch=max_batch,
        allow_float=args.allow_float, keep_float=args.keep_float,
        integer_io=args.integer_io, weight_bits=args.weight_bits,
        group_size=args.group_size, activation_bits=args.activation_bits,
        layer_precision=args.layer_precision, dynamic=args.dynamic,
        norm_input_bits=args.norm_input_bits,
        softmax_input_bits=args.softmax_input_bits,
        norm_input_scales=args.norm_input_scales,
        dynamic_granularity=args.dynamic_granularity,
        int16_range_headroom=args.int16_range_headroom,
        float_graph=float_graph)


def cmd_export(args):
    from . import calibrate as C
    from . import emit as E
    from .export import export
    model = _load_model(args.model, args.weights)
    if args.input_shape is None and args.calibration is None:
        raise SystemExit("error: give --input-shape (or --calibration)")
    stats = None
    if args.calibration:
        data = _load_npy(args.calibration, "calibration")
        shape = args.input_shape or (1,) + data.shape[1:]
        if tuple(shape[1:]) != data.shape[1:]:
            raise SystemExit(f"error: calibration file {args.calibration!r} "
                             f"has samples of shape {list(data.shape[1:])}, "
                             f"--input-shape {list(shape)} takes "
                             f"{list(shape[1:])}")
        graph = _export(model, np.zeros(shape, np.float32),
                        args.calibration, "calibration")
        stats = C.collect_stats(
            graph, _calibration_batches(args, data, shape[1:]),
            method=args.method, percentile=args.percentile,
            threads=args.calibration_threads,
            # The module is for other tools, which may keep layers float.
            observe_inside_layers=True)
    else:
        graph = export(model, np.zeros(args.input_shape, np.float32))
    text = E.emit(graph, stats, weights=args.weights_format)
    _write(args.output, text)
    if args.output not in (None, "-"):
        print(f"wrote {args.output}: {len(graph.layers)} layers, input "
              f"{list(graph.input_shape)}, output "
              f"{list(graph.shapes[graph.output])}"
              + (f", BatchNorm folded: {', '.join(graph.folded_batchnorms)}"
                 if graph.folded_batchnorms else "")
              + (", with myquant.stats" if stats else ""))


def cmd_quantize(args):
    _, qm = _quantized_model(args)
    with qm:
        if args.stats_only:
            text = qm.annotated_mlir(args.batch)
        else:
            text = qm.quantized_mlir(args.batch)
        _write(args.output, text)
        if args.remarks and qm.remarks.strip():
            sys.stderr.write(qm.remarks)
    if args.output not in (None, "-"):
        print(f"wrote {args.output} ("
              + ("float, annotated" if args.stats_only else "int8")
              + f", batch {args.batch})")


def cmd_compile(args):
    from . import tools as T
    T.compile_shared(args.input, args.output, func_name=args.function,
                     header_path=args.header, native=not args.no_native,
                     extra_args=["--static-memory"] if args.static_memory
                     else ())
    print(f"wrote {args.output}" + (f" and {args.header}" if args.header
                                    else ""))


def cmd_run(args):
    import tempfile
    from . import tools as T
    inputs = [_load_npy(p, "input") for p in args.input]
    n = max(1, len(args.output or []))
    with tempfile.TemporaryDirectory(prefix="myquant-run-") as d:
        outs = T.run_mlir(args.input_mlir, args.function, inputs, d,
                          num_outputs=n)
    for i, o in enumerate(outs):
        if args.output:
            np.save(args.output[i], o)
            print(f"wrote {args.output[i]}: {o.dtype}{list(o.shape)}")
        else:
            np.set_printoptions(threshold=200, linewidth=100)
            print(f"result {i}: {o.dtype}{list(o.shape)}\n{o}")


def cmd_report(args):
    from . import evaluate as V
    import torch
    model, qm = _quantized_model(args)
    x, labels = _eval_data(args, qm.sample_shape)
    with qm:
        with torch.no_grad():
            ref = model(torch.from_numpy(x)).numpy()
        q = qm(x)
        m = V.compare(ref, q, labels)
        rows = []
        if labels is not None:
            rows.append(["accuracy (float / int8)",
                         f"{100 * m['float_accuracy']:.2f}% / "
                         f"{100 * m['int8_accuracy']:.2f}%"])
        rows += [["argmax agreement", f"{100 * m['argmax_agreement']:.2f}%"],
                 ["logit SQNR", f"{m['sqnr_db']:.1f} dB"],
                 ["max |float - int8|", f"{m['max_abs_diff']:.4g}"]]
        bits = f"{args.weight_bits}-bit" + (
            f" (groups of {args.group_size})" if args.group_size else "")
        print(f"{len(x)} samples, {args.rounding} rounding, "
              f"{args.weight_granularity} {bits} weights, {args.method} "
              f"calibration")
        print(V.format_table(["metric", "value"], rows, ["<", ">"]))
        print()
        print(V.layer_report(qm, x[:args.layer_samples]).format())


def _eval_data(args, sample_shape):
    """The --data samples (at most --num) and --labels of a command."""
    x = _load_npy(args.data, "data").astype(np.float32)
    if x.shape[1:] != sample_shape:
        raise SystemExit(f"error: data file {args.data!r} has samples of "
                         f"shape {list(x.shape[1:])}; the model (calibrated "
                         f"on {args.calibration!r}) takes "
                         f"{list(sample_shape)}")
    if args.num is not None:
        x = x[:args.num]
    labels = None
    if args.labels:
        labels = _load_npy(args.labels, "labels")[:len(x)]
    return x, labels


def cmd_auto_precision(args):
    from . import precision as P
    from .api import QuantizedModel
    _, graph, stats, _ = _calibrated(args)
    x, labels = _eval_data(args, tuple(graph.input_shape[1:]))
    choice = P.search(graph, stats, x, labels, target_sqnr=args.target_sqnr,
                      max_accuracy_drop=args.max_accuracy_drop,
                      size_budget=args.size_budget,
                      candidates=args.candidates.split(","),
                      group_size=args.group_size,
                      report_samples=args.layer_samples)
    print(choice.format())
    print("layer precision: " + (",".join(choice.layer_precision) or
                                 "(all w8a8)"))
    if args.output:
        four = "w4a8" in choice.assignment.values()
        with QuantizedModel(graph, stats, group_size=args.group_size
                            if four else 0,
                            layer_precision=choice.assignment) as qm:
            _write(args.output, qm.quantized_mlir(args.batch))
        if args.output != "-":
            print(f"wrote {args.output} (batch {args.batch})")


def build_parser():
    p = argparse.ArgumentParser(
        prog="python3 -m myquant",
        description="Export PyTorch models to MLIR, quantize them to int8 "
                    "with myquant, compile and run them.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    e = sub.add_parser("export", help="PyTorch model -> float linalg MLIR",
                       description="Trace a PyTorch model with torch.fx, "
                       "fold BatchNorm and write float linalg MLIR (values "
                       "named after module paths). With --calibration the "
                       "values are annotated with myquant.stats.")
    _add_model_args(e, False)
    e.add_argument("--input-shape", type=_shape,
                   help="input shape, e.g. 1,1,28,28 (default: batch 1 of "
                        "the calibration data)")
    e.add_argument("--weights-format", choices=["dense", "resource"],
                   default="dense",
                   help="hex dense literals or dense_resource blobs")
    e.add_argument("-o", "--output", help="output .mlir (default stdout)")
    e.set_defaults(func=cmd_export)

    q = sub.add_parser("quantize", help="PyTorch model + calibration data "
                       "-> int8 MLIR",
                       description="Export, calibrate and run myquant-opt "
                       "--myquant-ptq; writes the int8 module.")
    _add_model_args(q, True)
    add_ptq_options(q)
    q.add_argument("--batch", type=_positive_int, default=1,
                   help="static batch size of the module (default 1)")
    q.add_argument("--stats-only", action="store_true",
                   help="write the calibrated float module (myquant.stats) "
                        "instead of the int8 one")
    q.add_argument("--remarks", action="store_true",
                   help="print myquant-opt's remarks")
    q.add_argument("-o", "--output", help="output .mlir (default stdout)")
    q.set_defaults(func=cmd_quantize)

    c = sub.add_parser("compile", help="MLIR -> shared library + C header",
                       description="Compile a (float or int8) module with "
                       "myquant-compile into a shared library.")
    c.add_argument("input", help="input .mlir")
    c.add_argument("-o", "--output", required=True, help="output .so")
    c.add_argument("--header", help="also write a C header")
    c.add_argument("--function", default="forward")
    c.add_argument("--no-native", action="store_true",
                   help="do not pass -march=native")
    c.add_argument("--static-memory", action="store_true",
                   help="no heap: the caller passes the result buffers and "
                   "an arena (its size is in the header)")
    c.set_defaults(func=cmd_compile)

    r = sub.add_parser("run", help="run an MLIR function on .npy inputs",
                       description="JIT a module with myquant-run and call "
                       "one function on .npy inputs.")
    r.add_argument("input_mlir", metavar="input.mlir")
    r.add_argument("--input", action="append", required=True,
                   help=".npy input (repeat for several)")
    r.add_argument("--output", action="append",
                   help=".npy output (repeat for several results; default: "
                        "print)")
    r.add_argument("--function", default="forward")
    r.set_defaults(func=cmd_run)

    rp = sub.add_parser("report", help="accuracy, SQNR and per-layer SQNR "
                        "of the int8 model",
                        description="Quantize a model and compare it with "
                        "the float model on data: accuracy (with labels), "
                        "argmax agreement, logit SQNR and a per-layer SQNR "
                        "table naming the layer that loses most.")
    _add_model_args(rp, True)
    add_ptq_options(rp)
    rp.add_argument("--data", required=True, help=".npy evaluation inputs")
    rp.add_argument("--labels", help=".npy integer labels")
    rp.add_argument("--num", type=_positive_int, default=None,
                    help="use at most this many evaluation samples")
    rp.add_argument("--layer-samples", type=_positive_int, default=64,
                    help="samples for the per-layer table (default 64)")
    rp.set_defaults(func=cmd_report)

    ap = sub.add_parser("auto-precision", help="choose each layer's "
                        "precision (w4a8 / w8a8 / w8a16) for a target",
                        description="Measure each layer's sensitivity to "
                        "each mode (one build per mode), choose the "
                        "cheapest assignment that meets the target, verify "
                        "it by building it, and print the table "
                        "(myquant.precision).")
    _add_model_args(ap, True)
    ap.add_argument("--data", required=True, help=".npy evaluation inputs")
    ap.add_argument("--labels", help=".npy integer labels (for "
                    "--max-accuracy-drop)")
    ap.add_argument("--num", type=_positive_int, default=None,
                    help="use at most this many evaluation samples")
    ap.add_argument("--layer-samples", type=_positive_int, default=64,
                    help="samples for the per-layer sensitivities "
                         "(default 64)")
    ap.add_argument("--target-sqnr", type=float, metavar="DB",
                    help="logit SQNR against the float model, in dB")
    ap.add_argument("--max-accuracy-drop", type=float, metavar="POINTS",
                    help="accuracy points below the float model's on "
                         "--data / --labels")
    ap.add_argument("--size-budget", type=_positive_int, metavar="BYTES",
                    help="bytes: weights, biases and one sample's layer "
                         "outputs")
    ap.add_argument("--candidates", default="w4a8,w8a8,w8a16",
                    help="modes to choose from (default w4a8,w8a8,w8a16)")
    ap.add_argument("--group-size", type=int, default=0, metavar="G",
                    help="group size of the 4-bit layers (default 0: per "
                         "channel)")
    ap.add_argument("--batch", type=_positive_int, default=1,
                    help="static batch size of the -o module (default 1)")
    ap.add_argument("-o", "--output", help="also write the int8 module "
                    "with the chosen precision")
    ap.set_defaults(func=cmd_auto_precision)
    return p


def main(argv=None):
    from .export import ExportError
    from .tools import ToolError
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (ExportError, ToolError, ValueError, OSError) as e:
        sys.stderr.write(f"error: {e}\n")
        return 1
    return 0
