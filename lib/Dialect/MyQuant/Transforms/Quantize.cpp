//===- Quantize.cpp - QDQ form to myquant ops -----------------------------===//
//
// Each float layer between dequantize ops and a quantize op becomes one
// myquant op on quantized tensors, with its integer parameters computed
// from the quantized types the dry run chose.
//
//===----------------------------------------------------------------------===//

#include "myquant/Dialect/MyQuant/IR/MyQuantOps.h"
#include "myquant/Dialect/MyQuant/IR/MyQuantTypeUtils.h"
#include "myquant/Dialect/MyQuant/Transforms/Passes.h"
#include "myquant/Dialect/MyQuant/Utils/FloatGraph.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace myquant {
#define GEN_PASS_DEF_MYQUANTQUANTIZE
#include "myquant/Dialect/MyQuant/Transforms/Passes.h.inc"
} // namespace myquant

using namespace mlir;
using namespace myquant;

namespace {

/// The quantized value a float operand dequantizes, or null.
Value quantizedSource(Value value) {
  if (auto dequantize = value.getDefiningOp<DequantizeOp>())
    return dequantize.getInput();
  return {};
}

/// The quantize op that is the only user of a float result, or null.
QuantizeOp soleQuantizeUser(Value value) {
  if (!value.hasOneUse())
    return {};
  return dyn_cast<QuantizeOp>(*value.getUsers().begin());
}

RankedTensorType quantizedLike(Value floatValue, Type element) {
  return cast<RankedTensorType>(floatValue.getType()).clone(element);
}

/// Clamp bounds of a fused activation in the result's storage, or null when
/// they do not narrow the storage range.
ClampAttr clampFor(MLIRContext *ctx, double lo, double hi, Type resultType) {
  QuantParams out = *getQuantParams(resultType);
  int64_t qlo = std::isinf(lo) ? out.storageMin : quantizeScalar(lo, out);
  int64_t qhi = std::isinf(hi) ? out.storageMax : quantizeScalar(hi, out);
  if (qlo <= out.storageMin && qhi >= out.storageMax)
    return {};
  return ClampAttr::get(ctx, std::max(qlo, out.storageMin),
                        std::min(qhi, out.storageMax));
}

/// What the quantize patterns share: the rounding of the rescales they
/// encode, whether dynamic matmuls keep symmetric inputs and take their
/// parameters per row, and whether one
/// failed to encode (which stops the pass).
struct QuantizeState {
  RoundingMode rounding;
  bool dynamicSymmetric = false;
  bool dynamicPerRow = false;
  bool failed = false;
};

/// A rewrite of float ops between dequantize ops and a quantize op into a
/// myquant op. `matchAndRewrite` fails when the ops are not in quantized
/// form (they then stay float) and, after an error, for every op.
class QuantizePattern : public RewritePattern {
public:
  QuantizePattern(MLIRContext *ctx, QuantizeState &state)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx), state(state) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const final {
    if (state.failed)
      return failure();
    return rewrite(op, rewriter);
  }

protected:
  virtual LogicalResult rewrite(Operation *op,
                                PatternRewriter &rewriter) const = 0;

  /// Encodes the rescales of `op` (see encodeRescales); an error stops the
  /// pass.
  LogicalResult encode(RescaleOpInterface op, Operation *reportAt,
                       std::optional<RoundingMode> rounding = {}) const {
    if (succeeded(
            encodeRescales(op, rounding.value_or(state.rounding), reportAt)))
      return success();
    state.failed = true;
    return failure();
  }
  /// Stops the pass after an error was reported.
  LogicalResult fail() const {
    state.failed = true;
    return failure();
  }
  /// A requantize of `value` to `type`, with its rescale precomputed.
  FailureOr<Value> requantize(PatternRewriter &rewriter, Location loc,
                              Value value, Type type) const {
    auto op = RequantizeOp::create(rewriter, loc, type, value, RescaleAttr(),
                                   ClampAttr(), FloatAttr());
    if (failed(encode(op, op)))
      return failure();
    return op.getResult();
  }
  /// Replaces `quantize` by `value`, requantizing when the types differ.
  LogicalResult replaceQuantize(PatternRewriter &rewriter, QuantizeOp quantize,
                                Value value) const {
    if (value.getType() != quantize.getType()) {
      rewriter.setInsertionPoint(quantize);
      FailureOr<Value> converted =
          requantize(rewriter, quantize.getLoc(), value, quantize.getType());
      if (failed(converted))
        return failure();
      value = *converted;
    }
    rewriter.replaceOp(quantize, value);
    return success();
  }
  /// Whether dynamic matmuls keep symmetric inputs (dynamic-symmetric).
  bool dynamicSymmetric() const { return state.dynamicSymmetric; }
  /// Whether dynamic matmuls quantize their input per row
  /// (dynamic-per-row).
  bool dynamicPerRow() const { return state.dynamicPerRow; }

private:
  QuantizeState &state;
};

/// A layer that `match` (FloatGraph) recognizes at its anchor op, in
/// quantized form: its float input dequantized, its float output quantized.
template <typename Layer, std::optional<Layer> (*match)(Operation *)>
struct QuantizeLayer : QuantizePattern {
  using QuantizePattern::QuantizePattern;

  LogicalResult rewrite(Operation *op, PatternRewriter &rewriter) const final {
    std::optional<Layer> layer = match(op);
    if (!layer)
      return failure();
    Value input = quantizedSource(layer->input);
    QuantizeOp output = soleQuantizeUser(layer->output);
    if (!input || !output)
      return failure();
    return rewriteLayer(*layer, input, output, rewriter);
  }

protected:
  /// Replaces `output` by the myquant op of `layer` on `input`.
  virtual LogicalResult rewriteLayer(Layer &layer, Value input,
                                     QuantizeOp output,
                                     PatternRewriter &rewriter) const = 0;
};

/// A convolution or matmul with its bias and activation.
struct QuantizeComputeChain : QuantizeLayer<ComputeChain, matchComputeChain> {
  using QuantizeLayer::QuantizeLayer;

  LogicalResult rewriteLayer(ComputeChain &chain, Value input,
                             QuantizeOp output,
                             PatternRewriter &rewriter) const override {
    if (chain.kind == ComputeChain::Matmul &&
        isWideActivationType(input.getType()))
      return rewriteDynamic(chain, input, output, rewriter);
    Value bias;
    if (chain.bias) {
      auto cast = quantizedSource(chain.bias)
                      ? quantizedSource(chain.bias)
                            .getDefiningOp<quant::StorageCastOp>()
                      : quant::StorageCastOp();
      if (!cast)
        return failure();
      bias = cast.getInput();
    }
    rewriter.setInsertionPoint(output);
    Value weight = quantizedWeight(rewriter, chain);
    if (!weight)
      return failure();
    Type resultType = output.getType();
    MLIRContext *ctx = rewriter.getContext();
    ClampAttr clamp = clampFor(ctx, chain.actLo, chain.actHi, resultType);
    Location loc = chain.anchor->getLoc();
    RescaleOpInterface result;
    if (chain.kind == ComputeChain::Conv) {
      result = Conv2DOp::create(rewriter, loc, resultType, input, weight, bias,
                                rewriter.getDenseI64ArrayAttr(chain.strides),
                                rewriter.getDenseI64ArrayAttr(chain.padding),
                                rewriter.getDenseI64ArrayAttr(chain.dilations),
                                rewriter.getI64IntegerAttr(chain.groups),
                                LayoutAttr::get(ctx, chain.layout),
                                RescaleAttr(), clamp);
    } else {
      result = MatmulOp::create(
          rewriter, loc, resultType, input, weight, bias,
          chain.transposeRhs ? rewriter.getUnitAttr() : UnitAttr(),
          RescaleAttr(), clamp,
          chain.factor == 1.0 ? FloatAttr()
                              : rewriter.getF64FloatAttr(chain.factor));
    }
    if (failed(encode(result, chain.anchor)))
      return failure();
    rewriter.replaceOp(output, result->getResults());
    return success();
  }

private:
  /// Whether a dynamic matmul with the constant int8 `weight` takes an
  /// asymmetric runtime input (docs/NumericSpec.md 8.2b, finer than the
  /// symmetric one for every input): when 255 * sum_k |w[c, k]| <= 2^30
  /// for every output channel c, which keeps acc * D' within 2^62.
  static bool allowsAsymmetricInput(Value weight, bool transposed) {
    auto storageCast = weight.getDefiningOp<quant::StorageCastOp>();
    DenseIntElementsAttr values;
    if (!storageCast ||
        !matchPattern(storageCast.getInput(), m_Constant(&values)))
      return false;
    ArrayRef<int64_t> shape = cast<ShapedType>(weight.getType()).getShape();
    SmallVector<int64_t> sums(shape[transposed ? 0 : 1], 0);
    int64_t i = 0;
    for (const APInt &v : values.getValues<APInt>()) {
      int64_t row = i / shape[1], column = i % shape[1];
      sums[transposed ? row : column] += std::abs(v.getSExtValue());
      ++i;
    }
    return llvm::all_of(sums, [](int64_t sum) {
      return kDynamicUQMax * sum <= kDynamicAsymmetricSumMax;
    });
  }

  /// A matmul whose input the dry run made wide (docs/NumericSpec.md 8):
  /// its float bias becomes int64 at the scale of acc * A',
  /// s_in * s_w[c] / 127 (255 and D' for an asymmetric input), and its
  /// rescale rounds `single`.
  LogicalResult rewriteDynamic(ComputeChain &chain, Value input,
                               QuantizeOp output,
                               PatternRewriter &rewriter) const {
    rewriter.setInsertionPoint(output);
    Value weight = quantizedWeight(rewriter, chain);
    if (!weight)
      return failure();
    Operation *anchor = chain.anchor;
    bool asymmetric = !dynamicSymmetric() &&
                      allowsAsymmetricInput(weight, chain.transposeRhs);
    int64_t qmax = asymmetric ? kDynamicUQMax : kDynamicQMax;
    Value bias;
    if (chain.bias) {
      DenseFPElementsAttr constant = getFloatConstant(chain.bias);
      if (!constant)
        return failure();
      double inScale = getQuantParams(input.getType())->scales[0];
      QuantParams weights = *getQuantParams(weight.getType());
      ArrayRef<double> weightScales = weights.scales;
      SmallVector<int64_t> values;
      for (auto [c, v] : llvm::enumerate(constant.getValues<APFloat>())) {
        double scale = inScale * weightScales[weightScales.size() == 1 ? 0 : c];
        double q = std::nearbyint(v.convertToDouble() * qmax / scale);
        if (!(std::abs(q) <= static_cast<double>(kDynamicMaxBias))) {
          anchor->emitError()
              << "bias " << v.convertToDouble() << " of output channel " << c
              << " is " << q << " in units of input scale * weight scale / "
              << qmax << ", beyond 2^62";
          return fail();
        }
        values.push_back(static_cast<int64_t>(q));
      }
      auto type = RankedTensorType::get({static_cast<int64_t>(values.size())},
                                        rewriter.getI64Type());
      bias = arith::ConstantOp::create(
          rewriter, chain.bias.getLoc(),
          DenseIntElementsAttr::get(type, ArrayRef(values)));
    }
    Type resultType = output.getType();
    ClampAttr clamp =
        clampFor(rewriter.getContext(), chain.actLo, chain.actHi, resultType);
    auto result = DynamicMatmulOp::create(
        rewriter, anchor->getLoc(), resultType, input, weight, bias,
        chain.transposeRhs ? rewriter.getUnitAttr() : UnitAttr(), RescaleAttr(),
        clamp, asymmetric ? rewriter.getUnitAttr() : UnitAttr(),
        dynamicPerRow() ? rewriter.getUnitAttr() : UnitAttr());
    if (failed(encode(result, anchor, RoundingMode::Single)))
      return failure();
    rewriter.replaceOp(output, result->getResults());
    return success();
  }

  /// The quantized weight operand of a chain, reshaped as the op wants.
  static Value quantizedWeight(PatternRewriter &rewriter,
                               const ComputeChain &chain) {
    Value source = quantizedSource(chain.weight);
    if (!source)
      return {};
    // Activations as weights keep their per-tensor type as they are.
    auto storageCast = source.getDefiningOp<quant::StorageCastOp>();
    DenseIntElementsAttr storage;
    if (!storageCast ||
        !matchPattern(storageCast.getInput(), m_Constant(&storage)))
      return getQuantParams(source.getType())->isPerTensor() ? source : Value();
    auto type = cast<RankedTensorType>(storageCast.getType());
    Type element = type.getElementType();
    // Conv filters are indexed by output channel on dim 0 (nchw) or 3 (nhwc);
    // depthwise filters gain their unit dimension here.
    if (auto perAxis = dyn_cast<quant::UniformQuantizedPerAxisType>(element)) {
      int32_t axis = chain.kind == ComputeChain::Matmul
                         ? chain.weightChannelDim
                         : getLayoutDims(chain.layout).filterOut;
      element = quant::UniformQuantizedPerAxisType::get(
          perAxis.getFlags(), perAxis.getStorageType(),
          perAxis.getExpressedType(), perAxis.getScales(),
          perAxis.getZeroPoints(), axis, perAxis.getStorageTypeMin(),
          perAxis.getStorageTypeMax());
    }
    if (type.getShape() == ArrayRef(chain.weightShape) &&
        element == type.getElementType())
      return source;
    auto storageType = RankedTensorType::get(
        chain.weightShape, storage.getType().getElementType());
    Location loc = storageCast.getLoc();
    Value reshaped =
        arith::ConstantOp::create(rewriter, loc, storage.reshape(storageType));
    return quant::StorageCastOp::create(
        rewriter, loc, RankedTensorType::get(chain.weightShape, element),
        reshaped);
  }
};

/// Max pooling (same parameters) or average pooling (rescaled).
struct QuantizePool : QuantizeLayer<PoolChain, matchPoolChain> {
  using QuantizeLayer::QuantizeLayer;

  LogicalResult rewriteLayer(PoolChain &pool, Value input, QuantizeOp output,
                             PatternRewriter &rewriter) const override {
    rewriter.setInsertionPoint(output);
    Location loc = pool.anchor->getLoc();
    MLIRContext *ctx = rewriter.getContext();
    if (pool.isMax) {
      // Max pooling keeps the input's parameters; a differing output type is
      // a separate requantization.
      Value result = MaxPool2DOp::create(
          rewriter, loc,
          quantizedLike(pool.output, getElementTypeOrSelf(input)), input,
          rewriter.getDenseI64ArrayAttr(pool.kernel),
          rewriter.getDenseI64ArrayAttr(pool.strides),
          rewriter.getDenseI64ArrayAttr(pool.padding),
          rewriter.getDenseI64ArrayAttr(pool.dilations),
          LayoutAttr::get(ctx, pool.layout));
      return replaceQuantize(rewriter, output, result);
    }
    bool padded = llvm::any_of(pool.padding, [](int64_t p) { return p != 0; });
    // Divisors that all equal the window size are ordinary average pooling.
    int64_t area = pool.kernel[0] * pool.kernel[1];
    bool uniform =
        llvm::all_of(pool.divisors, [&](int64_t d) { return d == area; });
    auto avg = AvgPool2DOp::create(
        rewriter, loc, output.getType(), input,
        rewriter.getDenseI64ArrayAttr(pool.kernel),
        rewriter.getDenseI64ArrayAttr(pool.strides),
        rewriter.getDenseI64ArrayAttr(pool.padding),
        LayoutAttr::get(ctx, pool.layout),
        padded ? rewriter.getUnitAttr() : UnitAttr(), RescaleAttr(),
        ClampAttr(),
        uniform ? DenseI64ArrayAttr()
                : rewriter.getDenseI64ArrayAttr(pool.divisors));
    if (failed(encode(avg, avg)))
      return failure();
    rewriter.replaceOp(output, avg.getResult());
    return success();
  }
};

/// Element-wise add, mul (with a fused clamp) and standalone clamps.
struct QuantizeElementwise : QuantizePattern {
  using QuantizePattern::QuantizePattern;

  LogicalResult rewrite(Operation *op,
                        PatternRewriter &rewriter) const override {
    std::optional<ElementwiseKind> kind = classifyElementwise(op);
    if (!kind)
      return failure();
    auto generic = cast<linalg::GenericOp>(op);
    SmallVector<Value> inputs;
    for (Value operand : generic.getDpsInputs()) {
      Value source = quantizedSource(operand);
      if (!source)
        return failure();
      inputs.push_back(source);
    }
    if (kind->kind == ElementwiseKind::Table)
      return rewriteTable(generic, inputs[0], rewriter);
    Value floatResult = op->getResult(0);
    double actLo = -INFINITY, actHi = INFINITY;
    if (kind->kind != ElementwiseKind::Clamp && floatResult.hasOneUse()) {
      Operation *user = *floatResult.getUsers().begin();
      std::optional<ElementwiseKind> userKind = classifyElementwise(user);
      if (userKind && userKind->kind == ElementwiseKind::Clamp) {
        actLo = userKind->lo;
        actHi = userKind->hi;
        floatResult = user->getResult(0);
      }
    }
    QuantizeOp output = soleQuantizeUser(floatResult);
    if (!output)
      return failure();
    rewriter.setInsertionPoint(output);
    Type resultType = output.getType();
    MLIRContext *ctx = rewriter.getContext();
    Location loc = op->getLoc();
    if (kind->kind == ElementwiseKind::Clamp) {
      QuantParams in = *getQuantParams(inputs[0].getType());
      if (inputs[0].getType() ==
              quantizedLike(floatResult, getElementTypeOrSelf(resultType)) ||
          getElementTypeOrSelf(inputs[0]) == getElementTypeOrSelf(resultType)) {
        ClampAttr bounds = clampFor(ctx, kind->lo, kind->hi, resultType);
        if (!bounds)
          bounds = ClampAttr::get(ctx, in.storageMin, in.storageMax);
        Value result =
            ClampOp::create(rewriter, loc, resultType, inputs[0], bounds);
        rewriter.replaceOp(output, result);
        return success();
      }
      auto requant = RequantizeOp::create(
          rewriter, loc, resultType, inputs[0], RescaleAttr(),
          clampFor(ctx, kind->lo, kind->hi, resultType), FloatAttr());
      if (failed(encode(requant, requant)))
        return failure();
      rewriter.replaceOp(output, requant.getResult());
      return success();
    }
    if (kind->kind == ElementwiseKind::DivByConstant) {
      // The output keeps its own parameters: the constant joins the rescale.
      auto scale = RequantizeOp::create(rewriter, loc, resultType, inputs[0],
                                        RescaleAttr(),
                                        clampFor(ctx, actLo, actHi, resultType),
                                        rewriter.getF64FloatAttr(kind->factor));
      if (failed(encode(scale, op)))
        return failure();
      rewriter.replaceOp(output, scale.getResult());
      return success();
    }
    bool isAdd = kind->kind == ElementwiseKind::Add ||
                 kind->kind == ElementwiseKind::BiasAdd;
    bool isSub = kind->kind == ElementwiseKind::Sub;
    if (!isAdd && !isSub && kind->kind != ElementwiseKind::Mul)
      return failure();
    // Broadcast operands take the result's rank, size 1 where they
    // broadcast.
    for (auto [input, map] :
         llvm::zip(inputs, generic.getIndexingMapsArray())) {
      auto type = cast<RankedTensorType>(input.getType());
      SmallVector<int64_t> full = broadcastOperandShape(map, type.getShape());
      if (ArrayRef<int64_t>(full) == type.getShape())
        continue;
      auto fullType = type.clone(full);
      std::optional<SmallVector<ReassociationIndices>> reassociation =
          getReassociationIndicesForReshape(type, fullType);
      if (!reassociation)
        return failure();
      input = tensor::ExpandShapeOp::create(rewriter, loc, fullType, input,
                                            *reassociation);
    }
    if (isSub && kind->swapped)
      std::swap(inputs[0], inputs[1]);
    ClampAttr clamp = clampFor(ctx, actLo, actHi, resultType);
    RescaleOpInterface result;
    if (isAdd || isSub) {
      // A 16-bit operand shifted by 2^20 would leave int32 (NumericSpec 6.4).
      bool has16BitOperand = llvm::any_of(inputs, [](Value v) {
        return getQuantParams(v.getType())->storageWidth > 8;
      });
      result =
          AddOp::create(rewriter, loc, resultType, inputs[0], inputs[1],
                        rewriter.getI64IntegerAttr(
                            has16BitOperand ? kAddLeftShift16 : kAddLeftShift),
                        RescaleAttr(), RescaleAttr(), RescaleAttr(), clamp,
                        isSub ? rewriter.getUnitAttr() : UnitAttr());
    } else {
      result = MulOp::create(rewriter, loc, resultType, inputs[0], inputs[1],
                             RescaleAttr(), clamp);
    }
    if (failed(encode(result, op)))
      return failure();
    rewriter.replaceOp(output, result->getResults());
    return success();
  }

private:
  /// A function of one 8- or 16-bit tensor as its lookup table.
  static LogicalResult rewriteTable(linalg::GenericOp op, Value input,
                                    PatternRewriter &rewriter);
};

/// The entries of the table of `body` from `in` to `out` (docs/NumericSpec.md
/// 3.8): the body evaluated in double at each of the input's sample points
/// (every 8-bit value, the 16-bit grid), quantized into `out`; a NaN result
/// maps to the output's zero point. std::nullopt when the body cannot be
/// evaluated.
std::optional<SmallVector<int32_t>>
computeTable(Block &body, const QuantParams &in, const QuantParams &out) {
  SmallVector<int32_t> values;
  for (int64_t q : getTableSamplePoints(in)) {
    double x = in.scales[0] * static_cast<double>(q - in.zeroPoints[0]);
    std::optional<double> y = evaluateTableBody(body, x);
    if (!y)
      return std::nullopt;
    values.push_back(static_cast<int32_t>(
        std::isnan(*y) ? out.zeroPoints[0] : quantizeScalar(*y, out)));
  }
  return values;
}

LogicalResult QuantizeElementwise::rewriteTable(linalg::GenericOp op,
                                                Value input,
                                                PatternRewriter &rewriter) {
  QuantizeOp output = soleQuantizeUser(op->getResult(0));
  std::optional<QuantParams> in = getQuantParams(input.getType());
  if (!output || !in || !in->isPerTensor() || !isTableInput(*in))
    return failure();
  std::optional<SmallVector<int32_t>> values = computeTable(
      op.getRegion().front(), *in, *getQuantParams(output.getType()));
  if (!values)
    return failure();
  rewriter.setInsertionPoint(output);
  rewriter.replaceOpWithNewOp<TableOp>(output, output.getType(), input,
                                       rewriter.getDenseI32ArrayAttr(*values));
  return success();
}

/// A product with a constant along one dimension (matchChannelScale): a
/// requantize with per-channel factors.
struct QuantizeChannelScale : QuantizeLayer<ChannelScale, matchChannelScale> {
  using QuantizeLayer::QuantizeLayer;

  LogicalResult rewriteLayer(ChannelScale &scale, Value input,
                             QuantizeOp output,
                             PatternRewriter &rewriter) const override {
    if (!getQuantParams(input.getType())->isPerTensor())
      return failure();
    rewriter.setInsertionPoint(output);
    auto requantize = RequantizeOp::create(
        rewriter, scale.op->getLoc(), output.getType(), input, RescaleAttr(),
        ClampAttr(), FloatAttr(), rewriter.getDenseF64ArrayAttr(scale.factors),
        scale.axis ? rewriter.getI64IntegerAttr(*scale.axis) : IntegerAttr());
    if (failed(encode(requantize, scale.op)))
      return failure();
    rewriter.replaceOp(output, requantize.getResult());
    return success();
  }
};

/// Data movement and padding: the same parameters on the storage integers.
struct QuantizeSameScale : QuantizePattern {
  using QuantizePattern::QuantizePattern;

  LogicalResult rewrite(Operation *op,
                        PatternRewriter &rewriter) const override {
    if (!isSameScaleOp(op) && !isa<tensor::PadOp>(op))
      return failure();
    Value input = quantizedSource(op->getOperand(0));
    QuantizeOp output = soleQuantizeUser(op->getResult(0));
    // Moving data could move a per-axis type's quantized dimension.
    if (!input || !output || !getQuantParams(input.getType())->isPerTensor())
      return failure();
    // A pad needs a constant padding value, checked before anything is
    // built.
    FloatAttr padAttr;
    if (auto pad = dyn_cast<tensor::PadOp>(op)) {
      Value padFloat = pad.getConstantPaddingValue();
      if (!padFloat || !matchPattern(padFloat, m_Constant(&padAttr)))
        return failure();
    }
    rewriter.setInsertionPoint(output);
    Type element = getElementTypeOrSelf(input);
    auto resultType = quantizedLike(op->getResult(0), element);
    Location loc = op->getLoc();
    Value result;
    if (isa<linalg::TransposeOp, linalg::BroadcastOp, tensor::PadOp>(op)) {
      // Ops with a body compute on the storage integers.
      QuantParams params = *getQuantParams(input.getType());
      auto storageElement =
          IntegerType::get(rewriter.getContext(), params.storageWidth);
      Value storage = quant::StorageCastOp::create(
          rewriter, loc,
          cast<RankedTensorType>(input.getType()).clone(storageElement), input);
      Value moved;
      if (auto transpose = dyn_cast<linalg::TransposeOp>(op)) {
        Value init = tensor::EmptyOp::create(
            rewriter, loc, resultType.getShape(), storageElement);
        moved = linalg::TransposeOp::create(rewriter, loc, storage, init,
                                            transpose.getPermutation())
                    .getResult()[0];
      } else if (auto broadcast = dyn_cast<linalg::BroadcastOp>(op)) {
        Value init = tensor::EmptyOp::create(
            rewriter, loc, resultType.getShape(), storageElement);
        moved = linalg::BroadcastOp::create(rewriter, loc, storage, init,
                                            broadcast.getDimensions())
                    .getResult()[0];
      } else {
        auto pad = cast<tensor::PadOp>(op);
        Value padValue = arith::ConstantIntOp::create(
            rewriter, loc, storageElement,
            quantizeScalar(padAttr.getValueAsDouble(), params));
        moved = tensor::PadOp::create(
            rewriter, loc, resultType.clone(storageElement), storage,
            pad.getMixedLowPad(), pad.getMixedHighPad(), padValue);
      }
      result = quant::StorageCastOp::create(rewriter, loc, resultType, moved);
    } else {
      Operation *clone = rewriter.clone(*op);
      clone->setOperand(0, input);
      clone->getResult(0).setType(resultType);
      result = clone->getResult(0);
    }
    return replaceQuantize(rewriter, output, result);
  }
};

/// Concatenation, with requantized operands where their types differ.
struct QuantizeConcat : QuantizePattern {
  using QuantizePattern::QuantizePattern;

  LogicalResult rewrite(Operation *anchor,
                        PatternRewriter &rewriter) const override {
    auto op = dyn_cast<tensor::ConcatOp>(anchor);
    if (!op)
      return failure();
    QuantizeOp output = soleQuantizeUser(op.getResult());
    if (!output)
      return failure();
    SmallVector<Value> inputs;
    for (Value operand : op.getInputs()) {
      Value source = quantizedSource(operand);
      if (!source)
        return failure();
      inputs.push_back(source);
    }
    rewriter.setInsertionPoint(output);
    Type element = getElementTypeOrSelf(output.getType());
    for (Value &input : inputs) {
      if (getElementTypeOrSelf(input) == element)
        continue;
      FailureOr<Value> converted =
          requantize(rewriter, op.getLoc(), input,
                     cast<RankedTensorType>(input.getType()).clone(element));
      if (failed(converted))
        return failure();
      input = *converted;
    }
    Value result =
        ConcatOp::create(rewriter, op.getLoc(), output.getType(), inputs,
                         rewriter.getI64IntegerAttr(op.getDim()));
    rewriter.replaceOp(output, result);
    return success();
  }
};

/// A softmax over the last dimension, with the exponential table of its
/// 8-bit input's scale (docs/NumericSpec.md 3.10), or the fixed-point
/// multiplier of its 16-bit input's (6.4).
struct QuantizeSoftmax : QuantizePattern {
  using QuantizePattern::QuantizePattern;

  LogicalResult rewrite(Operation *anchor,
                        PatternRewriter &rewriter) const override {
    auto op = dyn_cast<linalg::SoftmaxOp>(anchor);
    if (!op || !isLastDimSoftmax(op))
      return failure();
    Value input = quantizedSource(op.getInput());
    QuantizeOp output = soleQuantizeUser(op.getResult()[0]);
    if (!input || !output)
      return failure();
    std::optional<QuantParams> in = getQuantParams(input.getType());
    if (!in->isPerTensor() || (in->storageWidth != 8 && in->storageWidth != 16))
      return failure();
    QuantParams out = *getQuantParams(output.getType());
    // The dry run chose 8 or 16 bits for the result (docs/NumericSpec.md
    // 6.5); either width has fixed parameters.
    auto resultType = quantizedLike(
        op.getResult()[0], getSoftmaxResultType(out.expressedType, out.isSigned,
                                                out.storageWidth));
    rewriter.setInsertionPoint(output);
    bool wide = in->storageWidth == 16;
    auto result = SoftmaxOp::create(
        rewriter, op.getLoc(), resultType, input,
        wide ? DenseI32ArrayAttr()
             : rewriter.getDenseI32ArrayAttr(getSoftmaxExpTable(
                   in->scales[0], in->storageMax - in->storageMin + 1)),
        RescaleAttr());
    // The product d * multiplier is exact: its rounding mode is unused.
    if (wide && failed(encode(result, op, RoundingMode::Single)))
      return failure();
    return replaceQuantize(rewriter, output, result);
  }
};

/// A layer normalization, its integers precomputed from the float weights
/// and the quantized types (docs/NumericSpec.md 3.11; a 16-bit input 6.4).
struct QuantizeLayerNorm : QuantizeLayer<LayerNormChain, matchLayerNorm> {
  using QuantizeLayer::QuantizeLayer;

  LogicalResult rewriteLayer(LayerNormChain &norm, Value input,
                             QuantizeOp output,
                             PatternRewriter &rewriter) const override {
    std::optional<QuantParams> in = getQuantParams(input.getType());
    QuantParams out = *getQuantParams(output.getType());
    // A per-axis input has power-of-two scale factors (docs/NumericSpec.md
    // 6.6): it is normalized in units of its finest scale, as a 16-bit one.
    DenseI64ArrayAttr shiftsAttr;
    int64_t inputBits = in->storageWidth;
    if (!in->isPerTensor()) {
      int64_t bad = -1;
      FailureOr<SmallVector<int64_t>> shifts = getLayerNormInputShifts(
          *in, cast<RankedTensorType>(input.getType()).getRank(), bad);
      if (failed(shifts))
        return failure();
      shiftsAttr = rewriter.getDenseI64ArrayAttr(*shifts);
      inputBits = 16;
    }
    // Wider rows stay in float (the dry run said so). The result is 8-bit,
    // or wide where dynamic matmuls read it (docs/NumericSpec.md 8.5).
    if ((inputBits != 8 && inputBits != 16) || !out.isPerTensor() ||
        (out.storageWidth != 8 && !isWideActivationType(output.getType())) ||
        static_cast<int64_t>(norm.gamma.size()) >
            getLayerNormMaxChannels(inputBits))
      return failure();
    FailureOr<LayerNormParams> params = getLayerNormParams(
        norm.anchor, norm.gamma, norm.beta, norm.eps,
        *llvm::min_element(in->scales), out.scales[0], inputBits);
    if (failed(params))
      return fail();
    rewriter.setInsertionPoint(output);
    rewriter.replaceOpWithNewOp<LayerNormOp>(
        output, output.getType(), input,
        rewriter.getDenseI64ArrayAttr(params->gamma),
        rewriter.getDenseI64ArrayAttr(params->beta),
        rewriter.getI64IntegerAttr(params->epsilon), shiftsAttr);
    return success();
  }
};

/// quantize(dequantize(x)) between different types is a requantization of
/// x.
struct FoldQuantizeOfDequantize : OpRewritePattern<QuantizeOp> {
  FoldQuantizeOfDequantize(MLIRContext *ctx, RoundingMode rounding)
      : OpRewritePattern(ctx), rounding(rounding) {}

  LogicalResult matchAndRewrite(QuantizeOp op,
                                PatternRewriter &rewriter) const override {
    // Equal types fold (QuantizeOp::fold).
    Value source = quantizedSource(op.getInput());
    if (!source || source.getType() == op.getType() ||
        !getQuantParams(op.getType())->isPerTensor())
      return failure();
    FailureOr<RescaleAttr> rescale = buildRescale(
        op, getRequantizeMultipliers(source.getType(), op.getType()), rounding);
    if (failed(rescale))
      return failure();
    rewriter.replaceOpWithNewOp<RequantizeOp>(
        op, op.getType(), source, *rescale, ClampAttr(), FloatAttr());
    return success();
  }

  RoundingMode rounding;
};

struct QuantizePass : myquant::impl::MyQuantQuantizeBase<QuantizePass> {
  using Base::Base;
  void runOnOperation() override {
    func::FuncOp funcOp = getOperation();
    if (funcOp.isExternal())
      return;
    MLIRContext *ctx = &getContext();
    QuantizeState state{rounding, dynamicSymmetric, dynamicPerRow};
    RewritePatternSet patterns(ctx);
    patterns.add<QuantizeComputeChain, QuantizePool, QuantizeElementwise,
                 QuantizeSameScale, QuantizeConcat, QuantizeChannelScale,
                 QuantizeSoftmax, QuantizeLayerNorm>(ctx, state);
    patterns.add<FoldQuantizeOfDequantize>(ctx, rounding);
    // In program order, as a layer reads the quantized results of the
    // layers before it; the driver also erases the float ops left without
    // users.
    if (failed(applyPatternsGreedily(
            funcOp, std::move(patterns),
            GreedyRewriteConfig().setUseTopDownTraversal())) ||
        state.failed)
      signalPassFailure();
  }
};

} // namespace
