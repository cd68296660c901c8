//===- Passes.td - myquant transformation passes -----------*- tablegen -*-===//

#ifndef MYQUANT_DIALECT_MYQUANT_TRANSFORMS_PASSES_TD
#define MYQUANT_DIALECT_MYQUANT_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"
include "myquant/Dialect/MyQuant/Transforms/PassOptions.td"

def MyQuantNormalize : Pass<"myquant-normalize", "::mlir::func::FuncOp"> {
  let summary = "Rewrites equivalent float forms into the ones the dry run knows";
  let description = [{
    Other frontends write the computations myquant quantizes with other
    ops than its exporter (torch-mlir's linalg, TOSA lowered by the
    upstream `tosa-to-linalg` conversions). This pass rewrites them,
    keeping their semantics, into the forms the dry run recognizes; it
    runs first in `myquant-ptq`, before calibration:

    * `arith.select` of an `arith.cmpf` against a scalar constant (any
      comparison direction, operand order and ordering) becomes the
      `maximumf` / `maxnumf` / `minimumf` / `minnumf` it computes (with the
      same result for a NaN input), so relu and clamps written as
      compare-and-select are clamps;
    * an indexing-map result that is the constant 0 on a loop dimension of
      size 1 becomes that loop dimension (`(d0, d1) -> (0, d1)` on a batch
      of 1 is the identity);
    * a `linalg.broadcast` of a 1-D tensor that initializes a convolution's
      or matmul's accumulator becomes the `linalg.generic` broadcast the
      bias recognizer knows, and an add of such a broadcast to a
      convolution's or matmul's result reads the 1-D tensor directly
      (the convolution's bias add); an add of a 1-D tensor read along one
      dimension takes it as second operand, and an added constant with a
      single dimension larger than 1 (TOSA's `[1, 1, N]` bias) becomes the
      1-D constant read along that dimension;
    * `linalg.conv_2d_nhwc_fhwc` becomes `conv_2d_nhwc_hwcf` of the
      transposed filter, and `depthwise_conv_2d_nhwc_hwcm` whose result is
      collapsed to rank 4 becomes `depthwise_conv_2d_nhwc_hwc` of the
      collapsed filter (TOSA's forms); with a multiplier M above 1 it reads
      the input with each channel repeated M times (a `linalg.broadcast`
      and a `tensor.collapse_shape`, then the input's zero padding);
    * a chain of static, unit-stride `tensor.insert_slice` ops that covers
      its destination exactly once, each slice partial along the same one
      dimension (torch-mlir's and TOSA's concatenation), becomes the
      `tensor.concat` of the slices in offset order;
    * a `linalg.generic` with reduction loops (a generalized convolution or
      matmul) or copying a scalar (a generalized fill) becomes the named op
      upstream's `specializeGenericOp` recognizes; element-wise generics
      stay generic;
    * a parallel linalg op (generic, transpose, broadcast) whose inputs are
      all float constants, and a reshape of a float constant, fold to a
      constant (bodies evaluated in double, rounded once), except a bias
      broadcast into an accumulator, a transposed matmul weight and the
      filter reshape of a grouped convolution, which the recognizers read
      as they are;
    * a function of a convolution's result that is affine per channel, its
      other operands constants (an inference BatchNorm
      `(y - mean) * gamma * rsqrt(var + eps) + beta`, a bias add), folds
      into the convolution: filters scaled by `f(1) - f(0)` per output
      channel, bias `f(bias)`;
    * constant tensor pads, and generics that gather from constants by
      `linalg.index` (TOSA's reversed filter of a decomposed
      `transpose_conv2d`), fold; scalar arithmetic on constants folds;
    * the division after sum pooling by a window count computed from
      `linalg.index` (TOSA's `avg_pool2d`) becomes a division by the
      constant [OH, OW] tensor of counts;
    * a mean over the spatial dimensions of an NCHW or NHWC tensor (a sum
      reduction from zero, a generic or `linalg.reduce`, keeping the reduced
      dimensions or not, then a division by their element count:
      torch-mlir's `aten.mean.dim`) becomes the sum pool over the whole
      plane and the division by the window size, a global average pool,
      then a `tensor.collapse_shape` where the dimensions were not kept;
    * an unused result of a multi-result generic that the other results do
      not depend on goes (the indices of torch-mlir's `max.dim`);
    * softmax written out (`exp(x - max) / sum`, including torch-mlir's
      form) becomes `linalg.softmax`, and torch-mlir's decomposed
      `aten.layer_norm`, with or without its weight and bias, becomes the
      centering, sum of squares and affine generic that the layer
      normalization recognizer reads (an absent weight as ones, an absent
      bias as zeros).

    What it cannot rewrite stays as it is; the dry run then keeps it in
    float with a remark (or fails with `allow-float=false`).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect"];
}

def MyQuantPropagateQParams : Pass<"myquant-propagate-qparams",
                                   "::mlir::func::FuncOp"> {
  let summary = "The dry run: chooses and connects every quantization parameter";
  let description = [{
    Runs a sparse forward dataflow analysis (MLIR's `DataFlowSolver`) whose
    lattice is the real range of each float tensor. Ranges start at the
    `myquant.stats` annotations and flow through same-scale ops (reshapes,
    transposes, slices, padding, max pooling keep their operand's
    parameters), activations (relu and clamps narrow the range) and
    concatenation (the union). From the ranges it then:

    * gives every activation edge a per-tensor `!quant.uniform` type whose
      zero point is exact, materialized as a `myquant.quantize` /
      `myquant.dequantize` pair (the QDQ form `myquant-quantize` consumes);
      values inside a layer (a convolution's accumulator before its bias
      and fused relu, a padded input) get none;
    * replaces float weights by int8 constants (symmetric, narrow range
      [-127, 127], per output channel unless `weight-granularity=per-tensor`),
      or with `weight-bits=4` (or `layer-precision=NAME:w4a8` for one layer)
      by i4 constants in [-7, 7], per channel or, with
      `weight-group-size=G`, per group of `G` K indices of a 2-D matmul
      (sub-channel `!quant.uniform<i4<-7:7>:f32:{0:1, 1:G}, ...>` types;
      docs/NumericSpec.md 7; a convolution, or a K that `G` does not
      divide, gets per-channel scales with a remark)
      and float biases by int32 constants with scale `s_in * s_w[c]`;
      a convolution or matmul with a `myquant.weight_qparams` attribute
      (`{scales = array<f64: ...>, qmin = i64, qmax = i64}`, as
      `myquant-import-stats` sets it from a stats file's `weight` field)
      takes those scales (one: per tensor; one per output channel: per
      channel) and that storage range instead, with weights
      round-half-even(w / s) clamped to [qmin, qmax]; the attribute is
      removed;
    * applies the concatenation policy: an operand produced for the
      concatenation alone takes the concatenation's parameters; any other
      operand with different parameters is requantized, and each such
      requantization is reported as a remark;
    * checks that no int32 accumulator can overflow for the weights and
      shapes at hand, naming the op and channel otherwise.

    A value the quantized model needs but that has no statistics is an
    error at its producer; a convolution or matmul whose weights or bias
    are computed from constants without being constants (what
    `myquant-normalize` did not fold) stays in float instead. Ops that cannot be quantized stay in float
    between a dequantize and a quantize and are reported with a remark, or
    rejected with `allow-float=false`. `keep-float` keeps ops in float the
    same way: every op of a kind (a registered op name such as
    `linalg.matmul`) or every op of a layer (any other name: the ops whose
    location is, or fuses, `loc("NAME")`, as the exporter names a layer's
    ops after its module path); a name that matches neither is an error.

    `activation-bits=16` gives every activation 16-bit symmetric storage
    (TFLite's 16x8 mode, docs/NumericSpec.md 6) where the ops that read and
    write it have a 16-bit form: convolutions and matmuls with constant
    weights, add, subtract and mul, pooling, clamps, tables (sigmoid,
    hardswish, ...: interpolated from 513 entries), requantizations,
    concatenation and data movement. A value read by an op with only an
    8-bit form (softmax, layer normalization, matmuls of two activations)
    keeps 8 bits, with a remark. `layer-precision` chooses per
    layer by name instead (`<layer name>:w8a16`, comma-separated): the
    values a selected layer reads and writes get 16 bits; selecting an op
    without a 16-bit form, or 4-bit weights, is an error. Weights stay int8
    and the accumulator of a 16-bit input is int64. `norm-input-bits=16`
    gives the inputs of layer normalizations 16 bits whatever the other
    options (their results keep 8); the values that share their parameters
    and their producers follow the rules above (an add of a constant, such
    as a position embedding, reads 8 bits and writes 16).
    `softmax-input-bits=16` likewise gives the inputs of softmaxes 16 bits,
    and lets a matmul of two 8-bit activations (attention's scores) write
    them; a softmax result that only matmuls of two activations read, as
    their lhs (attention's A V), gets 16 bits too, with the fixed scale
    2^-15 and zero point 0 (the others keep the fixed 8-bit type).

    A 16-bit value's scale covers `int16-range-headroom` (default 2) times
    its calibrated range, so that inputs beyond the calibration set's range
    do not clip (docs/NumericSpec.md 6.1); 8-bit values and the fixed 16-bit
    softmax results do not change with it.

    `norm-input-scales=per-channel` (docs/NumericSpec.md 6.6) gives a layer
    normalization input per-channel scales `s * 2^a[c]` (FQ-ViT's
    power-of-two factors) chosen from its per-channel statistics (a
    `myquant.stats` with `axis` its last dimension), when an add writes it
    and only layer normalizations and adds read it; the others keep
    per-tensor scales, with a remark. It takes 8-bit static quantization:
    with `norm-input-bits=16`, `activation-bits=16` or `dynamic` it is an
    error.

    `dynamic=true` (docs/NumericSpec.md 8) makes every matmul with constant
    weights dynamic: the values it reads and writes are wide (int32 fixed
    point with a static scale, max |x| / 2^23) where no other quantized op
    but a same-scale one reads or writes them, and the int8 input scale is
    computed at run time (`myquant.dynamic_matmul`). A matmul whose input
    cannot be wide stays static, with a remark.
  }];
  let options = [
    MyQuant_ActivationTypeOption<"activationType", "activation-type",
           "Storage of activations">,
    MyQuant_WeightGranularityOption<"weightGranularity", "weight-granularity",
           "Weight scales">,
    Option<"allowFloat", "allow-float", "bool", /*default=*/"true",
           "Keep unsupported ops in float (with a remark) instead of failing">,
    ListOption<"keepFloat", "keep-float", "std::string",
               "Ops to keep in float: op names (linalg.matmul) or location "
               "names (the layer name of loc(\"features.0\"))">,
    Option<"activationBits", "activation-bits", "int64_t", /*default=*/"8",
           "Activation storage bits of the whole model: 8 or 16 (16-bit "
           "symmetric, int8 weights)">,
    Option<"weightBits", "weight-bits", "int64_t", /*default=*/"8",
           "Bits of constant conv/matmul weights: 8, or 4 ([-7, 7])">,
    Option<"weightGroupSize", "weight-group-size", "int64_t",
           /*default=*/"0",
           "With 4-bit weights: one scale per group of this many K indices "
           "of a matmul (0: per channel)">,
    ListOption<"layerPrecision", "layer-precision", "std::string",
               "Per-layer precision by location name: "
               "<layer name>:w<4|8>a<8|16> (w4a8, w8a8 or w8a16), "
               "comma-separated; overrides the whole model's bits">,
    Option<"dynamic", "dynamic", "bool", /*default=*/"false",
           "Dynamic quantization of the matmuls with constant weights: int8 "
           "input scale computed at run time in integers">,
    Option<"normInputBits", "norm-input-bits", "int64_t", /*default=*/"8",
           "Storage bits of layer normalization inputs: 8 or 16">,
    Option<"int16RangeHeadroom", "int16-range-headroom", "double",
           /*default=*/"::myquant::kDefaultInt16RangeHeadroom",
           "Factor by which a 16-bit activation's scale widens its "
           "calibrated range (docs/NumericSpec.md 6.1): 1 to 128">,
    Option<"softmaxInputBits", "softmax-input-bits", "int64_t",
           /*default=*/"8",
           "Storage bits of softmax inputs (and of the probabilities that "
           "attention's A V reads): 8 or 16">,
    Option<"normInputScales", "norm-input-scales", "std::string",
           /*default=*/"\"per-tensor\"",
           "Scales of layer normalization inputs: per-tensor, or "
           "per-channel (power-of-two factors from per-channel statistics, "
           "docs/NumericSpec.md 6.6)">
  ];
  let dependentDialects = ["::myquant::MyQuantDialect",
                           "::mlir::quant::QuantDialect",
                           "::mlir::arith::ArithDialect"];
}

def MyQuantQuantize : Pass<"myquant-quantize", "::mlir::func::FuncOp"> {
  let summary = "Rewrites the dry run's QDQ form into myquant ops";
  let description = [{
    Replaces each float layer whose inputs are dequantized and whose output
    is quantized (the form `myquant-propagate-qparams` produces) by the
    matching myquant op on quantized tensors, with its `#myquant.rescale`
    (Q31 multipliers and shifts, per channel where the weights are) and
    `#myquant.clamp` (a fused relu or clamp) precomputed: convolutions
    (plain, grouped, depthwise; NCHW and NHWC), matmuls, add, mul, max and
    average pooling, clamps, concatenation, and the same-scale data
    movement ops. A `quantize` of a `dequantize` becomes a
    `myquant.requantize`, or disappears when the types agree. Float
    `quantize` / `dequantize` ops remain only where float enters or leaves.
  }];
  let options = [
    MyQuant_RoundingOption<"rounding", "rounding", "Requantization rounding">,
    Option<"dynamicSymmetric", "dynamic-symmetric", "bool", /*default=*/"false",
           "Symmetric runtime int8 inputs for every dynamic matmul "
           "(docs/NumericSpec.md 8.2), instead of the asymmetric uint8 ones "
           "(8.2b) wherever the weights allow them">,
    Option<"dynamicPerRow", "dynamic-per-row", "bool", /*default=*/"false",
           "Runtime input parameters per row of each dynamic matmul's "
           "input (docs/NumericSpec.md 8.2c) instead of per tensor">
  ];
  let dependentDialects = ["::myquant::MyQuantDialect",
                           "::mlir::quant::QuantDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::linalg::LinalgDialect"];
}

def MyQuantIntegerSignature : Pass<"myquant-integer-signature",
                                   "::mlir::func::FuncOp"> {
  let summary = "Moves the float boundary out of the function";
  let description = [{
    A function argument read only by `myquant.quantize` ops of one type
    becomes an argument of that quantized type, and a result produced by a
    `myquant.dequantize` is returned quantized; the parameters the caller
    needs to convert are recorded on the function as
    `myquant.input_qparams` and `myquant.output_qparams` (one
    `{scale, zero_point}` dictionary per argument or result). After
    lowering, the function takes and returns int8 and contains no float
    instruction. Arguments or results that cannot move are reported.
  }];
  let dependentDialects = ["::myquant::MyQuantDialect"];
}

def MyQuantVerifyQParams : Pass<"myquant-verify-qparams",
                                "::mlir::func::FuncOp"> {
  let summary = "Checks precomputed rescales against the quantized types";
  let description = [{
    Each `#myquant.rescale` encodes real multipliers that the op's
    quantized types determine (for a convolution, `s_in * s_w[c] / s_out`;
    see `docs/NumericSpec.md` for every op). Hand-written or imported IR can
    disagree; this pass reports, at the op, every entry whose multiplier is
    not the Q31 rounding of the real multiplier at its shift (within one
    unit), so that a wrong shift or a stale scale does not silently scale
    the output. A `myquant.softmax`'s `exp_table` must be exactly the table
    of its input scale.
  }];
  let dependentDialects = ["::myquant::MyQuantDialect"];
}

def MyQuantVerifyIntegerOnly : Pass<"myquant-verify-integer-only",
                                    "::mlir::func::FuncOp"> {
  let summary = "Fails if float computation remains in the quantized region";
  let description = [{
    Walks every function and reports, at its location, each operation that
    computes with floating point (a float operand, result or attribute)
    outside the conversions at the model's boundary: `myquant.quantize`
    consuming a function argument and `myquant.dequantize` feeding a return.
    With `allow-float-boundary=false` even those are rejected, so that a
    function with integer signatures compiles to code without a single
    float instruction.
  }];
  let options = [
    Option<"allowFloatBoundary", "allow-float-boundary", "bool",
           /*default=*/"true",
           "Accept quantize ops on arguments and dequantize ops on results">
  ];
  let dependentDialects = ["::myquant::MyQuantDialect"];
}

def MyQuantTestPrintRanges : Pass<"myquant-test-print-ranges",
                                  "::mlir::func::FuncOp"> {
  let summary = "Test only: prints the dry run's range of every tensor";
  let description = [{
    Runs the range analysis of `myquant-propagate-qparams` (the dataflow
    lattice: the real interval each float tensor takes, from the
    `myquant.stats` annotations through same-scale ops, clamps and
    concatenations) and reports it as a remark at each argument and op
    result. Removes the `myquant.stats` ops, as the dry run does.
  }];
}

#endif // MYQUANT_DIALECT_MYQUANT_TRANSFORMS_PASSES_TD
