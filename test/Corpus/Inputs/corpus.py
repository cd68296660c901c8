"""The corpus of frontend forms (issue 15): every form of the float IR that
other frontends write, each quantized integer-only and verified.

    corpus.py --opt MYQUANT_OPT --mlir-opt MLIR_OPT --plugin PLUGIN
              --tests TEST_DIR --tmp DIR

Each entry names the lit test function that holds the form as its frontend
writes it (torch-mlir's linalg, TOSA before the stock mlir-opt's
conversions, the output of --linalg-generalize-named-ops). The script cuts
that function's split out of the test file, lowers it the frontend's way,
quantizes it with `myquant-ptq` and allow-float=false (an error for any op
left in float; the pipeline ends with myquant-verify-integer-only), and
checks the result again with a separate myquant-verify-integer-only in
strict mode: integer from the input's quantize to the output's
dequantize. The "embedding" entries run the TOSA conversions, the PTQ
pipeline (calibration included, in the JIT) and the verification in one
stock mlir-opt with the myquant plugin. It prints one line per form and
the count per group; any failure prints the tool's error and exits 1.
"""

import argparse
import os
import re
import subprocess
import sys

import numpy as np

TOSA = ("tosa-to-linalg-named,tosa-to-linalg,tosa-to-arith,"
        "tosa-to-tensor")
# transpose_conv2d has no tosa-to-linalg-named pattern: the TOSA
# decomposition runs first (as in tosa-to-linalg-pipeline).
TOSA_DECOMPOSED = "tosa-optional-decompositions," + TOSA

T = "Dialect/MyQuant/Transforms/"

# (group, form, test file, function, frontend, calibrate)
FORMS = [
    ("torch-mlir", "relu as cmpf ugt + select",
     T + "normalize.mlir", "relu_cmpf_select", None, False),
    ("torch-mlir", "clamp as two cmpf + select",
     T + "normalize.mlir", "clamp_cmpf_select", None, False),
    ("torch-mlir", "clamp as min then max",
     T + "normalize.mlir", "clamp_min_then_max", None, False),
    ("torch-mlir", "constant-0 index maps of batch-1 operands",
     T + "normalize.mlir", "batch_index_zero", None, False),
    ("torch-mlir", "conv bias through linalg.broadcast and an add",
     T + "normalize.mlir", "conv_bias_broadcast_add", None, False),
    ("torch-mlir", "conv bias broadcast into the accumulator",
     T + "normalize.mlir", "conv_bias_broadcast_init", None, False),
    ("torch-mlir", "filter computed from constants",
     T + "normalize.mlir", "fold_constant_filter", None, False),
    ("torch-mlir", "inference BatchNorm as a generic with math.rsqrt",
     T + "normalize.mlir", "batchnorm_into_conv", None, False),
    ("torch-mlir", "grouped convolution behind reshapes",
     T + "normalize-recognized.mlir", "grouped_conv_bias", None, False),
    ("torch-mlir", "torch.cat as insert_slice chain",
     T + "normalize-concat.mlir", "torch_cat", None, False),
    ("torch-mlir", "linalg.softmax",
     T + "normalize-torch-mlir.mlir", "linalg_softmax", None, False),
    ("torch-mlir", "aten.softmax decomposed (max.dim with indices)",
     T + "normalize-torch-mlir.mlir", "torch_softmax", None, False),
    ("torch-mlir", "aten.layer_norm decomposed (generics, broadcast_to)",
     T + "normalize-torch-mlir.mlir", "torch_layer_norm", None, False),
    ("torch-mlir", "aten.layer_norm decomposed, bias=False",
     T + "normalize-torch-mlir.mlir", "torch_layer_norm_no_bias", None, False),
    ("torch-mlir", "aten.layer_norm decomposed, elementwise_affine=False",
     T + "normalize-torch-mlir.mlir", "torch_layer_norm_no_affine", None,
     False),
    ("torch-mlir", "aten.mean.dim over H, W with keepdim (sum and division)",
     T + "normalize-mean.mlir", "torch_mean_keepdim", None, True),
    ("torch-mlir", "aten.mean.dim over H, W without keepdim",
     T + "normalize-mean.mlir", "torch_mean", None, True),
    ("torch-mlir", "linalg.pooling_nchw_max",
     T + "normalize-pooling.mlir", "maxpool_nchw", None, False),
    ("torch-mlir", "linalg.pooling_nhwc_max",
     T + "normalize-pooling.mlir", "maxpool_nhwc", None, False),
    ("torch-mlir", "linalg.pooling_nchw_sum and a division",
     T + "normalize-pooling.mlir", "avgpool_nchw", None, False),
    ("torch-mlir", "linalg.pooling_nhwc_sum and a division",
     T + "normalize-pooling.mlir", "avgpool_nhwc", None, False),
    ("TOSA", "conv2d (conv_2d_nhwc_fhwc), depthwise_conv2d (hwcm), "
     "clamp, matmul with a rank-3 bias",
     T + "normalize-tosa.mlir", "cnn", TOSA, False),
    ("TOSA", "depthwise_conv2d with multiplier 2",
     T + "normalize-depthwise-multiplier.mlir", "depthwise_multiplier",
     TOSA, False),
    ("TOSA", "concat as insert_slice chain",
     T + "normalize-concat-tosa.mlir", "tosa_concat", TOSA, False),
    ("TOSA", "transpose_conv2d, stride 1",
     T + "normalize-transpose-conv-tosa.mlir", "transpose_conv_stride1",
     TOSA_DECOMPOSED, True),
    ("TOSA", "transpose_conv2d, stride 2",
     T + "normalize-transpose-conv-tosa.mlir", "transpose_conv_stride2",
     TOSA_DECOMPOSED, True),
    ("TOSA", "max_pool2d and avg_pool2d with cut windows",
     T + "normalize-pooling-tosa.mlir", "tosa_pools", TOSA, False),
    ("generalized", "convolution, matmul and fills",
     T + "normalize-generalized.mlir", "generalized", "generalize", False),
    ("generalized", "max pooling, NCHW",
     T + "normalize-pooling.mlir", "maxpool_nchw", "generalize", False),
    ("generalized", "max pooling, NHWC",
     T + "normalize-pooling.mlir", "maxpool_nhwc", "generalize", False),
    ("generalized", "average pooling, NCHW",
     T + "normalize-pooling.mlir", "avgpool_nchw", "generalize", False),
    ("generalized", "average pooling, NHWC",
     T + "normalize-pooling.mlir", "avgpool_nhwc", "generalize", False),
    ("embedding", "TOSA CNN in one stock mlir-opt",
     T + "normalize-tosa.mlir", "cnn", "plugin:" + TOSA, False),
    ("embedding", "TOSA transpose_conv2d calibrated in one stock mlir-opt",
     T + "normalize-transpose-conv-tosa.mlir", "transpose_conv_stride2",
     "plugin:" + TOSA_DECOMPOSED, True),
]


def split_holding(path, function):
    """The -split-input-file chunk of `path` that defines @function."""
    with open(path) as f:
        chunks = re.split(r"^// -----$", f.read(), flags=re.M)
    for chunk in chunks:
        if re.search(rf"func\.func @{re.escape(function)}\(", chunk):
            return chunk
    raise SystemExit(f"{path} defines no @{function}")


def calibration_data(text, function, path):
    """Four random samples of @function's only argument (batch dimension
    first), saved to `path`."""
    m = re.search(rf"func\.func @{re.escape(function)}\(%\w+: "
                  r"tensor<([0-9x]+)xf32>\)", text)
    shape = [int(d) for d in m.group(1).split("x")]
    rng = np.random.RandomState(0)
    np.save(path, rng.uniform(-1, 1, [4] + shape[1:]).astype(np.float32))
    return path


def run(cmd, stdin=None):
    p = subprocess.run(cmd, input=stdin, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(" ".join(cmd) + "\n" + p.stderr[-3000:])
    return p.stdout


def quantize(args, text, frontend, calibration):
    ptq = "allow-float=false"
    if calibration:
        ptq += f" calibration-data={calibration}"
    plugin = [f"--load-dialect-plugin={args.plugin}"]
    if frontend and frontend.startswith("plugin:"):
        # Everything in the stock mlir-opt: conversions, PTQ, verification.
        pipeline = (f"builtin.module(func.func({frontend[7:]}),"
                    f"myquant-ptq{{{ptq}}})")
        return run([args.mlir_opt, "-",
                    f"--load-pass-plugin={args.plugin}"] + plugin +
                   [f"--pass-pipeline={pipeline}"], text)
    if frontend == "generalize":
        text = run([args.opt, "-", "--linalg-generalize-named-ops"], text)
    elif frontend:
        text = run([args.mlir_opt, "-"] + plugin +
                   [f"--pass-pipeline=builtin.module(func.func({frontend}))"],
                   text)
    return run([args.opt, "-", f"--myquant-ptq={ptq}"], text)


def main():
    parser = argparse.ArgumentParser()
    for option in ("--opt", "--mlir-opt", "--plugin", "--tests", "--tmp"):
        parser.add_argument(option, required=True)
    args = parser.parse_args()
    os.makedirs(args.tmp, exist_ok=True)
    counts = {}
    failed = 0
    for group, form, test, function, frontend, calibrate in FORMS:
        text = split_holding(os.path.join(args.tests, test), function)
        calibration = calibration_data(
            text, function, os.path.join(args.tmp, f"{function}.npy")) \
            if calibrate else None
        try:
            quantized = quantize(args, text, frontend, calibration)
            run([args.opt, "-",
                 "--pass-pipeline=builtin.module(func.func("
                 "myquant-integer-signature,myquant-verify-integer-only{"
                 "allow-float-boundary=false}))"], quantized)
        except RuntimeError as e:
            failed += 1
            print(f"FAIL {group}: {form} (@{function})\n{e}")
            continue
        counts[group] = counts.get(group, 0) + 1
        print(f"ok   {group}: {form} (@{function})")
    total = sum(counts.values())
    print(f"{total} forms quantized and verified integer-only: " +
          ", ".join(f"{group} {n}" for group, n in counts.items()))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
