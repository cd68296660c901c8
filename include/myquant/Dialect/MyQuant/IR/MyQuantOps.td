//===- MyQuantOps.td - myquant operations ------------------*- tablegen -*-===//

#ifndef MYQUANT_DIALECT_MYQUANT_IR_MYQUANTOPS_TD
#define MYQUANT_DIALECT_MYQUANT_IR_MYQUANTOPS_TD

include "myquant/Dialect/MyQuant/IR/MyQuantBase.td"
include "myquant/Dialect/MyQuant/IR/MyQuantAttrs.td"
include "myquant/Dialect/MyQuant/IR/MyQuantInterfaces.td"
include "mlir/Dialect/Quant/IR/QuantBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def MyQuant_FloatTensor : RankedTensorOf<[AnyFloat]>;
def MyQuant_QuantTensor : RankedTensorOf<[quant_QuantizedType]>;
// Window geometry: two entries (height, width), padding four.
def MyQuant_Pair : ConfinedAttr<DenseI64ArrayAttr, [DenseArrayCount<2>]>;
def MyQuant_Padding : ConfinedAttr<DenseI64ArrayAttr, [DenseArrayCount<4>]>;
// A bias is either raw int32 or quantized with int32 storage; the verifiers
// check storage width and scales.
def MyQuant_BiasTensor : RankedTensorOf<[I32, quant_QuantizedType]>;

//===----------------------------------------------------------------------===//
// Calibration and conversion
//===----------------------------------------------------------------------===//

def MyQuant_StatsOp : MyQuant_Op<"stats",
    [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "Identity on a float tensor that carries calibration statistics";
  let description = [{
    Records the range observed for `input` during calibration. Without
    `axis` the range is per tensor (`min` and `max` have one entry); with
    `axis` there is one entry per slice along that dimension. An optional
    `histogram` of per-tensor values has equal-width bins spanning
    `[min, max]`.

    ```mlir
    %1 = myquant.stats %0 {min = array<f64: -1.5>, max = array<f64: 4.0>}
        : tensor<1x8xf32>
    ```
  }];
  let arguments = (ins MyQuant_FloatTensor:$input,
                       DenseF64ArrayAttr:$min,
                       DenseF64ArrayAttr:$max,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntNonNegative]>>:$axis,
                       OptionalAttr<DenseI64ArrayAttr>:$histogram);
  let results = (outs MyQuant_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def MyQuant_QuantizeOp : MyQuant_Op<"quantize",
    [Pure, SameOperandsAndResultShape]> {
  let summary = "Quantizes a float tensor";
  let description = [{
    `q = clamp(round_half_even(x / scale) + zero_point, qmin, qmax)` with the
    scale, zero point and storage range of the result's quantized element type
    (per tensor or per axis). This is the one place where float enters the
    integer part of a model.

    ```mlir
    %q = myquant.quantize %x : tensor<4xf32> -> tensor<4x!quant.uniform<i8:f32, 0.5:-3>>
    ```
  }];
  let arguments = (ins MyQuant_FloatTensor:$input);
  let results = (outs MyQuant_QuantTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def MyQuant_DequantizeOp : MyQuant_Op<"dequantize",
    [Pure, SameOperandsAndResultShape]> {
  let summary = "Dequantizes a quantized tensor to float";
  let description = [{
    `x = (q - zero_point) * scale` with the parameters of the operand's
    quantized element type.

    ```mlir
    %x = myquant.dequantize %q : tensor<4x!quant.uniform<i8:f32, 0.5:-3>> -> tensor<4xf32>
    ```
  }];
  let arguments = (ins MyQuant_QuantTensor:$input);
  let results = (outs MyQuant_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def MyQuant_RequantizeOp : MyQuant_Op<"requantize",
    [Pure, SameOperandsAndResultShape, MyQuant_RescaleOpInterface]> {
  let summary = "Changes the quantization of a tensor with integer arithmetic";
  let description = [{
    `out = clamp(rescale(in - zp_in) + zp_out, bounds)`, where `rescale`
    multiplies by `scale_in / scale_out` in fixed point. The operand may be
    per-axis quantized (then `rescale` has one entry per channel of that
    axis); the result is per tensor. `rescale` is filled in by the dry run;
    `clamp` defaults to the result's storage range. With a positive
    `factor`, the op multiplies by a constant as it requantizes (`x * c`,
    `x / c` become `factor = c`, `1 / c`): `rescale` then multiplies by
    `factor * scale_in / scale_out`.

    With `factors` (one per index of dimension `factor_axis` of the
    operand, or a single one without `factor_axis`), the op multiplies by a
    constant that varies along one dimension (`x * gamma[c]`, a layer scale;
    `x / c[c]` gives `factors = 1 / c[c]`): entry `c` of `rescale` multiplies
    by `|factors[c]| * scale_in / scale_out`, and where `factors[c]` is
    negative the operand's difference to its zero point is negated first.
    A zero factor gives the result's zero point (`rescale` entry `(0, 0)`).
    The operand is then per tensor.

    ```mlir
    %r = myquant.requantize %q {rescale = #myquant.rescale<multiplier = [1073741824],
                                    shift = [30], rounding = single>}
        : tensor<4x!quant.uniform<i8:f32, 0.5>> -> tensor<4x!quant.uniform<i8:f32, 1.0>>
    ```
  }];
  let arguments = (ins MyQuant_QuantTensor:$input,
                       OptionalAttr<MyQuant_RescaleAttr>:$rescale,
                       OptionalAttr<MyQuant_ClampAttr>:$clamp,
                       OptionalAttr<F64Attr>:$factor,
                       OptionalAttr<DenseF64ArrayAttr>:$factors,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntNonNegative]>>:
                           $factor_axis);
  let results = (outs MyQuant_QuantTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
  let builders = [
    // Without per-channel factors.
    OpBuilder<(ins "::mlir::Type":$result, "::mlir::Value":$input,
                   "::myquant::RescaleAttr":$rescale,
                   "::myquant::ClampAttr":$clamp, "::mlir::FloatAttr":$factor),
    [{
      build($_builder, $_state, result, input, rescale, clamp, factor,
            ::mlir::DenseF64ArrayAttr(), ::mlir::IntegerAttr());
    }]>
  ];
  let extraClassDeclaration = [{
    ::llvm::SmallVector<::myquant::RescaleSlot> getRescaleSlots();
    /// -1 for each negative entry of `factors`, 1 for the others (all 1
    /// without `factors`).
    ::llvm::SmallVector<int32_t> getFactorSigns();
  }];
}

//===----------------------------------------------------------------------===//
// Quantized compute
//===----------------------------------------------------------------------===//

def MyQuant_Conv2DOp : MyQuant_Op<"conv2d",
    [Pure, MyQuant_RescaleOpInterface, MyQuant_WindowOpInterface]> {
  let summary = "Quantized 2-D convolution (grouped and depthwise included)";
  let description = [{
    `layout = nchw` takes an `N x C x H x W` input and an `F x C/groups x KH x
    KW` filter; `layout = nhwc` takes `N x H x W x C` and `KH x KW x
    C/groups x F`. The input is padded with its zero point by `padding =
    [top, left, bottom, right]`. The filter may be quantized per tensor or
    per output channel (its `F` dimension); the optional int32 bias has one
    entry per output channel and, when quantized, scale `scale_in *
    scale_w[f]` and zero point 0. Accumulation is int32; `rescale` (per
    tensor or per output channel) and `clamp` give the output.

    ```mlir
    %y = myquant.conv2d %x, %w, %b {strides = array<i64: 1, 1>,
        padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>,
        groups = 1 : i64, layout = #myquant.layout<nchw>}
        : (tensor<1x3x8x8x!quant.uniform<i8:f32, 0.1:-4>>,
           tensor<4x3x3x3x!quant.uniform<i8:f32:0, {0.01, 0.02, 0.01, 0.03}>>,
           tensor<4xi32>) -> tensor<1x4x8x8x!quant.uniform<i8:f32, 0.2:-10>>
    ```
  }];
  let arguments = (ins MyQuant_QuantTensor:$input,
                       MyQuant_QuantTensor:$filter,
                       Optional<MyQuant_BiasTensor>:$bias,
                       MyQuant_Pair:$strides,
                       MyQuant_Padding:$padding,
                       MyQuant_Pair:$dilations,
                       ConfinedAttr<I64Attr, [IntPositive]>:$groups,
                       MyQuant_LayoutAttr:$layout,
                       OptionalAttr<MyQuant_RescaleAttr>:$rescale,
                       OptionalAttr<MyQuant_ClampAttr>:$clamp);
  let results = (outs MyQuant_QuantTensor:$result);
  let assemblyFormat = [{
    $input `,` $filter (`,` $bias^)? attr-dict `:` `(` type($input) `,`
    type($filter) (`,` type($bias)^)? `)` `->` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::llvm::SmallVector<::myquant::RescaleSlot> getRescaleSlots();
    ::llvm::SmallVector<int64_t, 2> getWindowSizes();
  }];
}

def MyQuant_MatmulOp : MyQuant_Op<"matmul",
    [Pure, MyQuant_RescaleOpInterface]> {
  let summary = "Quantized (batched) matrix multiplication / fully connected";
  let description = [{
    `lhs` is `[B x] M x K`; `rhs` is `[B x] K x N`, or `[B x] N x K` with
    `transpose_rhs`. A per-axis `rhs` is quantized along its `N` dimension
    (symmetric weights); a per-tensor `rhs` may be an activation with its
    own zero point (attention's `Q K^T` and `A V`). The optional bias has
    `N` entries. Accumulation is int32; `rescale` (per tensor or per `N`
    channel) and `clamp` give the output. With a positive `factor` the
    product is scaled by a constant as it is requantized (attention's `1 /
    sqrt(d)`): `rescale` then multiplies by `factor * scale_lhs *
    scale_rhs / scale_out`.

    ```mlir
    %y = myquant.matmul %a, %w, %b {transpose_rhs}
        : (tensor<2x16x!quant.uniform<i8:f32, 0.1:3>>,
           tensor<10x16x!quant.uniform<i8:f32, 0.05>>, tensor<10xi32>)
        -> tensor<2x10x!quant.uniform<i8:f32, 0.3:-5>>
    ```
  }];
  let arguments = (ins MyQuant_QuantTensor:$lhs,
                       MyQuant_QuantTensor:$rhs,
                       Optional<MyQuant_BiasTensor>:$bias,
                       UnitAttr:$transpose_rhs,
                       OptionalAttr<MyQuant_RescaleAttr>:$rescale,
                       OptionalAttr<MyQuant_ClampAttr>:$clamp,
                       OptionalAttr<F64Attr>:$factor);
  let results = (outs MyQuant_QuantTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs (`,` $bias^)? attr-dict `:` `(` type($lhs) `,` type($rhs)
    (`,` type($bias)^)? `)` `->` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::llvm::SmallVector<::myquant::RescaleSlot> getRescaleSlots();
  }];
}

def MyQuant_DynamicMatmulOp : MyQuant_Op<"dynamic_matmul",
    [Pure, MyQuant_RescaleOpInterface]> {
  let summary = "Fully connected layer with a runtime int8 input scale";
  let description = [{
    Dynamic quantization (docs/NumericSpec.md 8), integer only. `lhs` is an
    `M x K` wide value (i32 storage, symmetric, zero point 0); at run time
    its `A = max |lhs|` over the whole tensor gives a correctly rounded
    fixed-point reciprocal `R ~ 127 / A` (an integer division), and
    `q = clamp(round(lhs * R / 2^k), -127, 127)` is the int8 input. `rhs`
    are int8 weights `K x N` (`N x K` with `transpose_rhs`), symmetric, per
    tensor or per `N` channel. The int32 accumulator times `A` is at the
    static scale `scale_lhs * scale_rhs[c] / 127`, where the optional int64
    `bias` (`N` entries) is added; `rescale` (real multiplier
    `scale_lhs * scale_rhs[c] / (127 * scale_out)`, `single` rounding) and
    `clamp` give the result, wide or 8-bit.

    With `asymmetric` (8.2b), the runtime input is `uint8` with a runtime
    zero point `z` from the integer min and max of `lhs` (0 included) over
    their difference `D'`: `acc = sum (q - z) * w`, 255 replaces 127 above
    and `D'` replaces `A` (myquant-quantize chooses it when
    `255 * sum_k |w[c, k]| <= 2^30` for every channel).

    With `per_row` (8.2c, `myquant-quantize{dynamic-per-row}`), each of the
    `M` rows of `lhs` (a token of a transformer, a sample of a batch) has
    its own `A` (or `D'` and `z`); `acc * A` then uses its row's.

    ```mlir
    %y = myquant.dynamic_matmul %x, %w, %b {transpose_rhs}
        : (tensor<2x16x!quant.uniform<i32<-2147483647:2147483647>:f32, 1.0e-6>>,
           tensor<10x16x!quant.uniform<i8<-127:127>:f32, 0.05>>, tensor<10xi64>)
        -> tensor<2x10x!quant.uniform<i32<-2147483647:2147483647>:f32, 2.0e-6>>
    ```
  }];
  let arguments = (ins MyQuant_QuantTensor:$lhs,
                       MyQuant_QuantTensor:$rhs,
                       Optional<RankedTensorOf<[I64]>>:$bias,
                       UnitAttr:$transpose_rhs,
                       OptionalAttr<MyQuant_RescaleAttr>:$rescale,
                       OptionalAttr<MyQuant_ClampAttr>:$clamp,
                       UnitAttr:$asymmetric,
                       UnitAttr:$per_row);
  let results = (outs MyQuant_QuantTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs (`,` $bias^)? attr-dict `:` `(` type($lhs) `,` type($rhs)
    (`,` type($bias)^)? `)` `->` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::llvm::SmallVector<::myquant::RescaleSlot> getRescaleSlots();
  }];
}

// Not `Commutative`: each operand has its own rescale, tied to its position.
def MyQuant_AddOp : MyQuant_Op<"add",
    [Pure, MyQuant_RescaleOpInterface]> {
  let summary = "Quantized element-wise addition or subtraction";
  let description = [{
    Operands and result are per-tensor quantized, or per channel of the
    last dimension with one zero point (a per-channel LayerNorm input,
    docs/NumericSpec.md 6.6: each rescale then has one entry per channel),
    and have the result's rank;
    an operand dimension of size 1 broadcasts over the result's (numpy
    rules: a squeeze-excite scale `N x C x 1 x 1` over `N x C x H x W`).
    Each operand, minus its zero point, is shifted left by `left_shift` and
    rescaled by `lhs_rescale` / `rhs_rescale` to a common scale; the sum (or,
    with `subtract`, the difference lhs - rhs of the two rescaled terms) is
    rescaled by `rescale` to the result's scale (the TFLite scheme, see
    `docs/NumericSpec.md`).
  }];
  let arguments = (ins MyQuant_QuantTensor:$lhs,
                       MyQuant_QuantTensor:$rhs,
                       OptionalAttr<ConfinedAttr<I64Attr,
                           [IntMinValue<0>, IntMaxValue<30>]>>:$left_shift,
                       OptionalAttr<MyQuant_RescaleAttr>:$lhs_rescale,
                       OptionalAttr<MyQuant_RescaleAttr>:$rhs_rescale,
                       OptionalAttr<MyQuant_RescaleAttr>:$rescale,
                       OptionalAttr<MyQuant_ClampAttr>:$clamp,
                       UnitAttr:$subtract);
  let results = (outs MyQuant_QuantTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` `(` type($lhs) `,` type($rhs) `)` `->`
    type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::llvm::SmallVector<::myquant::RescaleSlot> getRescaleSlots();
  }];
}

def MyQuant_MulOp : MyQuant_Op<"mul",
    [Pure, MyQuant_RescaleOpInterface]> {
  let summary = "Quantized element-wise multiplication";
  let description = [{
    `(lhs - zp_l) * (rhs - zp_r)` in int32, rescaled by `scale_l * scale_r /
    scale_out`. Operands and result are per tensor and have the result's
    rank; an operand dimension of size 1 broadcasts (numpy rules), as the
    channel scale of a squeeze-excite block does over height and width.
    Operands and result have 8- or 16-bit storage (docs/NumericSpec.md 3.3,
    6.4), either or both operands 16-bit, as long as the product stays in
    int32: `max|lhs - zp_l| * max|rhs - zp_r| <= 2^31 - 1` over the storage
    ranges (32767 * 32767 for two 16-bit activations).

    ```mlir
    %y = myquant.mul %x, %s
        : (tensor<1x8x4x4x!quant.uniform<i16<-32767:32767>:f32, 2.4e-4>>,
           tensor<1x8x1x1x!quant.uniform<i16<-32767:32767>:f32, 3.1e-5>>)
        -> tensor<1x8x4x4x!quant.uniform<i16<-32767:32767>:f32, 1.2e-4>>
    ```
  }];
  let arguments = (ins MyQuant_QuantTensor:$lhs,
                       MyQuant_QuantTensor:$rhs,
                       OptionalAttr<MyQuant_RescaleAttr>:$rescale,
                       OptionalAttr<MyQuant_ClampAttr>:$clamp);
  let results = (outs MyQuant_QuantTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` `(` type($lhs) `,` type($rhs) `)` `->`
    type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::llvm::SmallVector<::myquant::RescaleSlot> getRescaleSlots();
  }];
}

def MyQuant_ConcatOp : MyQuant_Op<"concat", [Pure]> {
  let summary = "Concatenation of tensors that share one quantization";
  let description = [{
    Every operand has the result's quantized element type: concatenation
    moves integers and never rescales. The dry run inserts a
    `myquant.requantize` on operands that had another scale, and reports it.
  }];
  let arguments = (ins Variadic<MyQuant_QuantTensor>:$inputs,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$dim);
  let results = (outs MyQuant_QuantTensor:$result);
  let assemblyFormat = [{
    $inputs attr-dict `:` `(` type($inputs) `)` `->` type($result)
  }];
  let hasVerifier = 1;
}

class MyQuant_Pool2DOp<string mnemonic, list<Trait> traits = []>
    : MyQuant_Op<mnemonic,
        !listconcat([Pure, MyQuant_WindowOpInterface], traits)> {
  let results = (outs MyQuant_QuantTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  code extraPoolDeclaration = [{
    ::llvm::SmallVector<int64_t, 2> getWindowSizes() {
      return ::llvm::SmallVector<int64_t, 2>(getKernel());
    }
  }];
  let extraClassDeclaration = extraPoolDeclaration;
}

def MyQuant_MaxPool2DOp : MyQuant_Pool2DOp<"max_pool2d"> {
  let summary = "Quantized 2-D max pooling";
  let description = [{
    Input and result share one per-tensor quantization (max commutes with a
    monotonic affine map). Padding acts as the storage minimum, i.e. as
    `-inf`, never as 0.
  }];
  let arguments = (ins MyQuant_QuantTensor:$input,
                       MyQuant_Pair:$kernel,
                       MyQuant_Pair:$strides,
                       MyQuant_Padding:$padding,
                       MyQuant_Pair:$dilations,
                       MyQuant_LayoutAttr:$layout);
}

def MyQuant_AvgPool2DOp : MyQuant_Pool2DOp<"avg_pool2d",
    [MyQuant_RescaleOpInterface]> {
  let summary = "Quantized 2-D average pooling (global included)";
  let description = [{
    Sums `input - zp_in` over each window in int32 and rescales the sum by
    `scale_in / (scale_out * kh * kw)`: the division by the window size is
    folded into the fixed-point multiplier, so the average is rounded once.
    Padded cells hold the input zero point (they add 0 and count), so a
    padded pooling needs `count_include_pad` or `divisors`. A kernel equal to
    the spatial size is global average pooling.

    `divisors`, one per output position (row-major over output height and
    width), replace `kh * kw` where windows count different cells
    (PyTorch's `ceil_mode` and `count_include_pad=False`): `rescale` then
    has one entry per output position, `scale_in / (scale_out *
    divisors[p])`, so each average is still rounded once.
  }];
  let arguments = (ins MyQuant_QuantTensor:$input,
                       MyQuant_Pair:$kernel,
                       MyQuant_Pair:$strides,
                       MyQuant_Padding:$padding,
                       MyQuant_LayoutAttr:$layout,
                       UnitAttr:$count_include_pad,
                       OptionalAttr<MyQuant_RescaleAttr>:$rescale,
                       OptionalAttr<MyQuant_ClampAttr>:$clamp,
                       OptionalAttr<DenseI64ArrayAttr>:$divisors);
  let extraClassDeclaration = extraPoolDeclaration # [{
    ::llvm::SmallVector<::myquant::RescaleSlot> getRescaleSlots();
  }];
}

def MyQuant_ClampOp : MyQuant_Op<"clamp",
    [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "Clamps a quantized tensor to integer bounds (relu, relu6)";
  let description = [{
    `bounds` are in the storage domain: relu is `clamp<zp, qmax>`.
  }];
  let arguments = (ins MyQuant_QuantTensor:$input, MyQuant_ClampAttr:$bounds);
  let results = (outs MyQuant_QuantTensor:$result);
  let assemblyFormat = "$input $bounds attr-dict `:` type($input)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def MyQuant_TableOp : MyQuant_Op<"table",
    [Pure, SameOperandsAndResultShape]> {
  let summary = "Element-wise lookup table for int8 and int16 nonlinearities";
  let description = [{
    With an 8-bit input, `result[i] = values[input[i] - qmin_in]`: one entry
    per storage value (256 entries), so the table realizes any function of
    one int8 value (sigmoid, tanh, hardswish, ...) exactly. With a signed
    16-bit input (docs/NumericSpec.md 3.8), 513 entries hold the function at
    the storage values `-32768 + 128 k`, and with `u = input[i] + 32768`,
    `a = values[u >> 7]`, `c = values[(u >> 7) + 1]`, `result[i] = a +
    (((c - a) * (u & 127) + 64) >> 7)` interpolates between them (TFLite's
    int16 LUT). Every entry is within the result's (8- or 16-bit) storage
    range.

    ```mlir
    %y = myquant.table %x {values = array<i32: -32767, ..., 32767>}
        : tensor<8x!quant.uniform<i16<-32767:32767>:f32, 2.4e-4>>
        -> tensor<8x!quant.uniform<i16<-32767:32767>:f32, 3.1e-5>>
    ```
  }];
  let arguments = (ins MyQuant_QuantTensor:$input, DenseI32ArrayAttr:$values);
  let results = (outs MyQuant_QuantTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def MyQuant_SoftmaxOp : MyQuant_Op<"softmax",
    [Pure, SameOperandsAndResultShape, MyQuant_RescaleOpInterface]> {
  let summary = "Integer-only softmax over the last dimension";
  let description = [{
    For each row along the last dimension, with `m` its largest storage
    value, `e[i]` the Q16 exponential `round(2^16 * exp(-scale_in * d))` of
    the distance `d = m - x[i]`, `R = floor(2^40 / sum(e))` (a fixed-point
    reciprocal, one division per row) and `out[i] = clamp(((e[i] * R +
    2^31) >> 32) + zp, qmin, qmax)` in 64-bit integers
    (docs/NumericSpec.md 3.10). The input is per tensor with 8- or 16-bit
    storage. An 8-bit input reads `e` from `exp_table`, one entry per
    storage value (256), precomputed by `myquant-quantize` from the input
    scale, each in `[0, 2^16]` with `exp_table[0] = 2^16`. A 16-bit input
    (docs/NumericSpec.md 6.4) has no table: `exp_rescale` is
    `scale_in * log2(e)` in fixed point, `d * multiplier` splits at `shift`
    into a power of two (a right shift) and a fraction whose `2^-u` a
    fourth-degree polynomial computes. An 8-bit result has the fixed scale
    1/256 and its storage minimum as zero point (-128 for int8, 0 for
    uint8), so probabilities in `[0, 1)` use the whole range. A 16-bit
    result (docs/NumericSpec.md 6.4: the probabilities attention's `A V`
    reads) has scale 2^-15 and zero point 0, `out[i] = clamp((e[i] * R +
    2^24) >> 25, qmin, qmax)`: `[0, 1)` in `[0, 32767]`.

    ```mlir
    %p = myquant.softmax %x {exp_table = array<i32: 65536, 60000, ...>}
        : tensor<2x8x!quant.uniform<i8:f32, 0.05:3>>
        -> tensor<2x8x!quant.uniform<i8:f32, 0.00390625:-128>>
    %q = myquant.softmax %y {exp_rescale = #myquant.rescale<
             multiplier = [1548615843], shift = [40], rounding = single>}
        : tensor<2x8x!quant.uniform<i16:f32, 0.001>>
        -> tensor<2x8x!quant.uniform<i8:f32, 0.00390625:-128>>
    %a = myquant.softmax %y {exp_rescale = #myquant.rescale<
             multiplier = [1548615843], shift = [40], rounding = single>}
        : tensor<2x8x!quant.uniform<i16:f32, 0.001>>
        -> tensor<2x8x!quant.uniform<i16<-32767:32767>:f32, 3.0517578125E-5>>
    ```
  }];
  let arguments = (ins MyQuant_QuantTensor:$input,
                       OptionalAttr<DenseI32ArrayAttr>:$exp_table,
                       OptionalAttr<MyQuant_RescaleAttr>:$exp_rescale);
  let results = (outs MyQuant_QuantTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// `exp_rescale`'s multiplier for a 16-bit input; none for an 8-bit one.
    ::llvm::SmallVector<::myquant::RescaleSlot> getRescaleSlots();
    /// The result's fixed type needs no clamp.
    ::myquant::ClampAttr getClampAttr() { return {}; }
  }];
}

def MyQuant_LayerNormOp : MyQuant_Op<"layer_norm",
    [Pure, SameOperandsAndResultShape]> {
  let summary = "Integer-only layer normalization over the last dimension";
  let description = [{
    For each row `x` of `C` storage integers along the last dimension, in
    64-bit integers (docs/NumericSpec.md 3.11): the deviations `d = C * x -
    sum(x)` (exact, the mean never rounded), `D = max(1, (sum(d^2) << 8) +
    epsilon)`, an integer inverse square root (`k = (61 - bitlen(D)) / 2`,
    `sigma = isqrt(D << 2k)` by Newton's iteration, `rho = 2^61 / sigma`),
    the normalized value `u = (d * rho + 2^(40-k)) >> (41 - k)` in units of
    `2^-16 / sqrt(C)` standard deviations, and the affine map and
    requantization `out = clamp(((u * gamma[c] + beta[c] + 2^23) >> 24) +
    zp_out, qmin, qmax)`. `gamma`, `beta` (one per channel of the last
    dimension) and `epsilon` are precomputed by `myquant-quantize` from the
    float weights, eps and the input and result scales. Input and result
    are per tensor with 8-bit storage (the result may be a wide value that
    dynamic matmuls read, docs/NumericSpec.md 8.5); a 16-bit input (rows of at most
    2048, docs/NumericSpec.md 6.4) shifts the sum of squares right by 8
    instead of left and `u` by `49 - k`.

    With `input_shifts` (`norm-input-scales=per-channel`, docs/NumericSpec.md
    6.6) the input is 8-bit and quantized along its last dimension with
    scales `s * 2^input_shifts[c]` and one zero point: each element is
    first read as `(x - zp) << input_shifts[c]`, in units of `s`, and the
    row is normalized as a 16-bit input's.

    ```mlir
    %y = myquant.layer_norm %x {gamma = array<i64: 36775, ...>,
        beta = array<i64: 1048576, ...>, epsilon = 20 : i64}
        : tensor<4x8x!quant.uniform<i8:f32, 0.05:3>>
        -> tensor<4x8x!quant.uniform<i8:f32, 0.02:-2>>
    ```
  }];
  let arguments = (ins MyQuant_QuantTensor:$input,
                       DenseI64ArrayAttr:$gamma,
                       DenseI64ArrayAttr:$beta,
                       I64Attr:$epsilon,
                       OptionalAttr<DenseI64ArrayAttr>:$input_shifts);
  let results = (outs MyQuant_QuantTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The storage bits the normalization treats its input as having: 16
    /// for a 16-bit or a per-channel (`input_shifts`) input, else 8.
    int64_t getNormInputBits();
  }];
}

#endif // MYQUANT_DIALECT_MYQUANT_IR_MYQUANTOPS_TD
