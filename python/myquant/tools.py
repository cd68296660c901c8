"""The myquant command-line tools (myquant-opt, myquant-run, myquant-compile).

They are looked up in ``$MYQUANT_BUILD_DIR/bin``, then in the source tree's
``build/bin``, then on ``PATH``.
"""

import os
import re
import shutil
import subprocess

import numpy as np

from . import qparams as Q

__all__ = ["ToolError", "tool_path", "run_tool", "ptq_options", "ptq",
           "layer_precision_entries",
           "compile_shared", "run_mlir"]

_SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


class ToolError(RuntimeError):
    """A myquant tool failed or could not be found."""


def tool_path(name):
    """Absolute path of tool `name` (e.g. "myquant-opt")."""
    dirs = []
    if os.environ.get("MYQUANT_BUILD_DIR"):
        dirs.append(os.path.join(os.environ["MYQUANT_BUILD_DIR"], "bin"))
    dirs.append(os.path.join(_SOURCE_ROOT, "build", "bin"))
    for d in dirs:
        p = os.path.join(d, name)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    p = shutil.which(name)
    if p:
        return p
    raise ToolError(f"{name} not found in {', '.join(dirs)} or on PATH; "
                    f"build the project (scripts/build.sh) or set "
                    f"MYQUANT_BUILD_DIR")


def run_tool(name, args, timeout=None):
    """Runs a tool: name is looked up with tool_path, or is a path to the
    program. Returns (stdout, stderr); raises ToolError on failure, or when
    a timeout in seconds is given and passed. There is none by default:
    calibrating a large model on many images may take hours."""
    exe = name if os.path.dirname(name) else tool_path(name)
    cmd = [exe] + [str(a) for a in args]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ToolError(f"{os.path.basename(name)} did not finish within "
                        f"{timeout} s:\n$ {' '.join(cmd)}") from None
    if p.returncode != 0:
        raise ToolError(f"{os.path.basename(name)} failed (exit "
                        f"{p.returncode}):\n$ {' '.join(cmd)}\n"
                        f"{p.stderr[-6000:]}")
    return p.stdout, p.stderr


def precision_options(weight_bits=8, group_size=0, activation_bits=8,
                      layer_precision=(), rounding="single",
                      integer_io=False, norm_input_bits=8,
                      softmax_input_bits=8, norm_input_scales="per-tensor",
                      int16_range_headroom=Q.INT16_RANGE_HEADROOM):
    """The myquant-ptq options of precision, checked: weight_bits 8 or 4
    (docs/NumericSpec.md 7); group_size 0 (per channel) or positive (4-bit
    linear / matmul weights per group of K); activation_bits 8 or 16 (16-bit
    activations with int8 weights, docs/NumericSpec.md 6); layer_precision:
    per layer by name, a mapping {name: "w8a16"} or entries "name:w4a8"
    (layer_precision_entries); norm_input_bits 8 or 16 (16-bit LayerNorm
    inputs, docs/NumericSpec.md 6.5); norm_input_scales "per-tensor" or
    "per-channel" (power-of-two channel factors of 8-bit LayerNorm inputs,
    docs/NumericSpec.md 6.6); int16_range_headroom: the factor by which a
    16-bit value's scale widens its calibrated range (1 to 128,
    docs/NumericSpec.md 6.1). The one place that spells them."""
    if weight_bits not in (4, 8) or isinstance(weight_bits, bool):
        raise ValueError(f"weight_bits must be 8 or 4, not {weight_bits!r}")
    if not isinstance(group_size, int) or isinstance(group_size, bool) or \
            group_size < 0:
        raise ValueError(f"group_size must be 0 (per channel) or a positive "
                         f"int, not {group_size!r}")
    if activation_bits not in (8, 16) or isinstance(activation_bits, bool):
        raise ValueError(f"activation_bits must be 8 or 16, not "
                         f"{activation_bits!r}")
    for name, bits in (("norm_input_bits", norm_input_bits),
                       ("softmax_input_bits", softmax_input_bits)):
        if bits not in (8, 16) or isinstance(bits, bool):
            raise ValueError(f"{name} must be 8 or 16, not {bits!r}")
    if norm_input_scales not in ("per-tensor", "per-channel"):
        raise ValueError(f"norm_input_scales must be 'per-tensor' or "
                         f"'per-channel', not {norm_input_scales!r}")
    if weight_bits == 4 and activation_bits == 16:
        raise ValueError("weight_bits=4 takes 8-bit activations, not "
                         "activation_bits=16")
    entries = layer_precision_entries(layer_precision)
    modes = [e.rsplit(":", 1)[1] for e in entries]
    if group_size and weight_bits != 4 and "w4a8" not in modes:
        raise ValueError("group_size needs 4-bit weights (weight_bits=4 or "
                         "a 'w4a8' layer)")
    if norm_input_scales == "per-channel" and (
            norm_input_bits == 16 or activation_bits == 16 or
            "w8a16" in modes):
        raise ValueError("norm_input_scales='per-channel' takes 8-bit "
                         "LayerNorm inputs: not with norm_input_bits=16, "
                         "activation_bits=16 or w8a16 layers")
    wide = activation_bits == 16 or "w8a16" in modes or \
        norm_input_bits == 16 or softmax_input_bits == 16
    if wide and rounding != "single":
        raise ValueError("16-bit activations need rounding='single' (the "
                         "int64 accumulators round single)")
    if wide and integer_io:
        raise ValueError("integer_io takes and returns int8; it does not "
                         "combine with 16-bit activations")
    opts = []
    if weight_bits != 8:
        opts.append(f"weight-bits={weight_bits}")
    if group_size:
        opts.append(f"weight-group-size={group_size}")
    if activation_bits != 8:
        opts.append(f"activation-bits={activation_bits}")
    if entries:
        opts.append("layer-precision=" + ",".join(entries))
    if norm_input_bits != 8:
        opts.append(f"norm-input-bits={norm_input_bits}")
    if softmax_input_bits != 8:
        opts.append(f"softmax-input-bits={softmax_input_bits}")
    if norm_input_scales != "per-tensor":
        opts.append(f"norm-input-scales={norm_input_scales}")
    headroom = Q.check_int16_range_headroom(int16_range_headroom)
    if headroom != Q.INT16_RANGE_HEADROOM:
        # repr: the shortest spelling that parses back to the same double.
        opts.append(f"int16-range-headroom={headroom!r}")
    return opts


def _is_option_name(name):
    # The pipeline's option parser splits lists at commas and options at
    # spaces; quotes and braces would be read as quoting.
    return bool(name) and not any(c in ",{}'\"=" or c.isspace()
                                  for c in name)


def _check_option_name(name, what):
    if not _is_option_name(name):
        raise ValueError(f"{what} name {name!r} is empty or holds "
                         f"a character the option syntax reserves")


def ptq_options(rounding="single", weight_granularity="per-channel",
                integer_io=False, activation_type=None, allow_float=True,
                keep_float=(), weight_bits=8, group_size=0,
                activation_bits=8, layer_precision=(), dynamic=False,
                norm_input_bits=8, softmax_input_bits=8,
                norm_input_scales="per-tensor",
                dynamic_granularity="per-tensor",
                int16_range_headroom=Q.INT16_RANGE_HEADROOM):
    """The option string of the --myquant-ptq pipeline. keep_float: op
    names (linalg.matmul) or layer names (location names) kept in float;
    weight_bits, group_size, activation_bits, layer_precision,
    norm_input_bits, softmax_input_bits, norm_input_scales,
    int16_range_headroom: see precision_options; dynamic: dynamic quantization of the matmuls with
    constant weights (docs/NumericSpec.md 8), 8-bit only, with the runtime
    parameters per tensor or (dynamic_granularity="per-row") per row of
    each input (8.2c)."""
    if rounding not in ("single", "gemmlowp"):
        raise ValueError(f"rounding must be 'single' or 'gemmlowp', not "
                         f"{rounding!r}")
    if weight_granularity not in ("per-channel", "per-tensor"):
        raise ValueError(f"weight_granularity must be 'per-channel' or "
                         f"'per-tensor', not {weight_granularity!r}")
    opts = [f"rounding={rounding}", f"weight-granularity={weight_granularity}"]
    if integer_io:
        opts.append("integer-io")
    if not allow_float:
        opts.append("allow-float=false")
    for name in keep_float:
        _check_option_name(name, "keep-float")
    if keep_float:
        opts.append("keep-float=" + ",".join(keep_float))
    if activation_type:
        opts.append(f"activation-type={activation_type}")
    opts += precision_options(weight_bits, group_size, activation_bits,
                              layer_precision, rounding, integer_io,
                              norm_input_bits, softmax_input_bits,
                              norm_input_scales, int16_range_headroom)
    if dynamic:
        # 16-bit LayerNorm and Softmax inputs are static values beside
        # the wide ones (docs/NumericSpec.md 8.5).
        if weight_bits != 8 or activation_bits != 8 or \
                layer_precision_entries(layer_precision) or \
                norm_input_scales != "per-tensor":
            raise ValueError("dynamic=True takes 8-bit weights and "
                             "activations (no weight_bits, activation_bits, "
                             "layer_precision or norm_input_scales; "
                             "norm_input_bits=16 and softmax_input_bits=16 "
                             "combine with it)")
        if integer_io:
            raise ValueError("dynamic=True takes float inputs and outputs "
                             "(its wide int32 values are not integer-io's "
                             "int8)")
        opts.append("dynamic=true")
    if dynamic_granularity not in ("per-tensor", "per-row"):
        raise ValueError(f"dynamic_granularity must be 'per-tensor' or "
                         f"'per-row', not {dynamic_granularity!r}")
    if dynamic_granularity == "per-row":
        if not dynamic:
            raise ValueError('dynamic_granularity="per-row" needs '
                             'dynamic=True')
        opts.append("dynamic-per-row=true")
    return " ".join(opts)


# w4a16 is not specified: 4-bit weights take 8-bit activations.
_PRECISION = re.compile(r"w4a8|w8a8|w8a16")


def layer_precision_entries(layer_precision):
    """["name:w8a16", ...] from a mapping {name: "w8a16"} or from such
    entries; ValueError on a malformed one."""
    layer_precision = layer_precision or ()
    if isinstance(layer_precision, str):
        layer_precision = [e for e in layer_precision.split(",") if e]
    items = (layer_precision.items() if hasattr(layer_precision, "items")
             else [tuple(e.rsplit(":", 1)) if ":" in e else (e, "")
                   for e in layer_precision])
    entries = []
    for name, precision in items:
        if not _is_option_name(name) or not _PRECISION.fullmatch(precision):
            raise ValueError(f"layer precision {name!r}: {precision!r} is "
                             f"not '<layer name>:w<4|8>a<8|16>' (w4a8, "
                             f"w8a8 or w8a16, e.g. 'features.0:w8a16')")
        entries.append(f"{name}:{precision}")
    return entries


def ptq(annotated_path, out_path, **options):
    """myquant-opt --myquant-ptq on a file annotated with myquant.stats.
    Returns the tool's remarks (stderr)."""
    _, err = run_tool("myquant-opt", [
        annotated_path, f"--myquant-ptq={ptq_options(**options)}",
        "-o", out_path])
    return err


def compile_shared(mlir_path, lib_path, func_name="forward",
                   header_path=None, native=True, extra_args=()):
    """myquant-compile --shared (with -march=native unless native=False);
    extra_args: more options (e.g. --static-memory, --target=generic)."""
    args = [mlir_path, f"--function={func_name}", "--shared", "-o", lib_path]
    args += list(extra_args)
    if header_path:
        args.append(f"--header={header_path}")
    if native:
        args.append("--cc-arg=-march=native")
    run_tool("myquant-compile", args)


def run_mlir(mlir_path, func_name, inputs, workdir, num_outputs=1,
             tool="myquant-run", timeout=None):
    """myquant-run (or the tool at path `tool`) on .npy files in workdir;
    returns the outputs (list)."""
    args = [mlir_path, f"--function={func_name}"]
    for i, x in enumerate(inputs):
        p = os.path.join(workdir, f"in{i}.npy")
        np.save(p, np.ascontiguousarray(x))
        args.append(f"--input={p}")
    outs = [os.path.join(workdir, f"out{i}.npy") for i in range(num_outputs)]
    args += [f"--output={p}" for p in outs]
    run_tool(tool, args, timeout=timeout)
    return [np.load(p) for p in outs]
