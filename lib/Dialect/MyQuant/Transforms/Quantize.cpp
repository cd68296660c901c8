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
#include "llvm/ADT/ScopeExit.h"

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

class Quantizer {
public:
  Quantizer(func::FuncOp funcOp, RoundingMode rounding)
      : funcOp(funcOp), rounding(rounding), rewriter(funcOp.getContext()) {}

  LogicalResult run();

private:
  /// Each returns success() when it rewrote, failure() when the op is not
  /// in quantized form (it then stays float) and sets `error` on a real
  /// error.
  LogicalResult rewriteCompute(ComputeChain &chain);
  LogicalResult rewritePool(PoolChain &pool);
  LogicalResult rewriteElementwise(Operation *op, const ElementwiseKind &kind);
  LogicalResult rewriteSameScale(Operation *op);
  LogicalResult rewriteConcat(tensor::ConcatOp op);

  /// Replaces `quantize` by `value`, requantizing when the types differ.
  LogicalResult replaceQuantize(QuantizeOp quantize, Value value);
  /// A requantize of `value` to `type`, with its rescale precomputed.
  FailureOr<Value> requantize(Location loc, Value value, Type type);
  /// Encodes the rescales of `op` (see encodeRescales); an error stops the
  /// pass.
  LogicalResult encode(RescaleOpInterface op, Operation *reportAt);
  /// The quantized weight operand of a chain, reshaped as the op wants.
  Value quantizedWeight(ComputeChain &chain);

  func::FuncOp funcOp;
  RoundingMode rounding;
  IRRewriter rewriter;
  bool error = false;
};

FailureOr<Value> Quantizer::requantize(Location loc, Value value, Type type) {
  auto op = RequantizeOp::create(rewriter, loc, type, value, RescaleAttr(),
                                 ClampAttr());
  if (failed(encode(op, op)))
    return failure();
  return op.getResult();
}

LogicalResult Quantizer::encode(RescaleOpInterface op, Operation *reportAt) {
  if (succeeded(encodeRescales(op, rounding, reportAt)))
    return success();
  error = true;
  return failure();
}

LogicalResult Quantizer::replaceQuantize(QuantizeOp quantize, Value value) {
  if (value.getType() != quantize.getType()) {
    rewriter.setInsertionPoint(quantize);
    FailureOr<Value> converted =
        requantize(quantize.getLoc(), value, quantize.getType());
    if (failed(converted))
      return failure();
    value = *converted;
  }
  rewriter.replaceOp(quantize, value);
  return success();
}

Value Quantizer::quantizedWeight(ComputeChain &chain) {
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
  auto storageType = RankedTensorType::get(chain.weightShape,
                                           storage.getType().getElementType());
  Location loc = storageCast.getLoc();
  Value reshaped =
      arith::ConstantOp::create(rewriter, loc, storage.reshape(storageType));
  return quant::StorageCastOp::create(
      rewriter, loc, RankedTensorType::get(chain.weightShape, element),
      reshaped);
}

LogicalResult Quantizer::rewriteCompute(ComputeChain &chain) {
  Value input = quantizedSource(chain.input);
  QuantizeOp output = soleQuantizeUser(chain.output);
  if (!input || !output)
    return failure();
  Value bias;
  if (chain.bias) {
    auto cast =
        quantizedSource(chain.bias)
            ? quantizedSource(chain.bias).getDefiningOp<quant::StorageCastOp>()
            : quant::StorageCastOp();
    if (!cast)
      return failure();
    bias = cast.getInput();
  }
  rewriter.setInsertionPoint(output);
  Value weight = quantizedWeight(chain);
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
                              LayoutAttr::get(ctx, chain.layout), RescaleAttr(),
                              clamp);
  } else {
    result = MatmulOp::create(rewriter, loc, resultType, input, weight, bias,
                              chain.transposeRhs ? rewriter.getUnitAttr()
                                                 : UnitAttr(),
                              RescaleAttr(), clamp);
  }
  if (failed(encode(result, chain.anchor)))
    return failure();
  rewriter.replaceOp(output, result->getResults());
  return success();
}

LogicalResult Quantizer::rewritePool(PoolChain &pool) {
  Value input = quantizedSource(pool.input);
  QuantizeOp output = soleQuantizeUser(pool.output);
  if (!input || !output)
    return failure();
  rewriter.setInsertionPoint(output);
  Location loc = pool.anchor->getLoc();
  MLIRContext *ctx = rewriter.getContext();
  if (pool.isMax) {
    // Max pooling keeps the input's parameters; a differing output type is
    // a separate requantization.
    Value result = MaxPool2DOp::create(
        rewriter, loc, quantizedLike(pool.output, getElementTypeOrSelf(input)),
        input, rewriter.getDenseI64ArrayAttr(pool.kernel),
        rewriter.getDenseI64ArrayAttr(pool.strides),
        rewriter.getDenseI64ArrayAttr(pool.padding),
        rewriter.getDenseI64ArrayAttr(pool.dilations),
        LayoutAttr::get(ctx, pool.layout));
    return replaceQuantize(output, result);
  }
  bool padded = llvm::any_of(pool.padding, [](int64_t p) { return p != 0; });
  auto avg = AvgPool2DOp::create(rewriter, loc, output.getType(), input,
                                 rewriter.getDenseI64ArrayAttr(pool.kernel),
                                 rewriter.getDenseI64ArrayAttr(pool.strides),
                                 rewriter.getDenseI64ArrayAttr(pool.padding),
                                 LayoutAttr::get(ctx, pool.layout),
                                 padded ? rewriter.getUnitAttr() : UnitAttr(),
                                 RescaleAttr(), ClampAttr());
  if (failed(encode(avg, avg)))
    return failure();
  rewriter.replaceOp(output, avg.getResult());
  return success();
}

LogicalResult Quantizer::rewriteElementwise(Operation *op,
                                            const ElementwiseKind &kind) {
  auto generic = cast<linalg::GenericOp>(op);
  SmallVector<Value> inputs;
  for (Value operand : generic.getDpsInputs()) {
    Value source = quantizedSource(operand);
    if (!source)
      return failure();
    inputs.push_back(source);
  }
  Value floatResult = op->getResult(0);
  double actLo = -INFINITY, actHi = INFINITY;
  if (kind.kind != ElementwiseKind::Clamp && floatResult.hasOneUse()) {
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
  if (kind.kind == ElementwiseKind::Clamp) {
    QuantParams in = *getQuantParams(inputs[0].getType());
    if (inputs[0].getType() ==
            quantizedLike(floatResult, getElementTypeOrSelf(resultType)) ||
        getElementTypeOrSelf(inputs[0]) == getElementTypeOrSelf(resultType)) {
      ClampAttr bounds = clampFor(ctx, kind.lo, kind.hi, resultType);
      if (!bounds)
        bounds = ClampAttr::get(ctx, in.storageMin, in.storageMax);
      Value result =
          ClampOp::create(rewriter, loc, resultType, inputs[0], bounds);
      rewriter.replaceOp(output, result);
      return success();
    }
    auto requant = RequantizeOp::create(
        rewriter, loc, resultType, inputs[0], RescaleAttr(),
        clampFor(ctx, kind.lo, kind.hi, resultType));
    if (failed(encode(requant, requant)))
      return failure();
    rewriter.replaceOp(output, requant.getResult());
    return success();
  }
  if (kind.kind != ElementwiseKind::Add && kind.kind != ElementwiseKind::Mul)
    return failure();
  ClampAttr clamp = clampFor(ctx, actLo, actHi, resultType);
  RescaleOpInterface result;
  if (kind.kind == ElementwiseKind::Add) {
    result = AddOp::create(rewriter, loc, resultType, inputs[0], inputs[1],
                           rewriter.getI64IntegerAttr(kAddLeftShift),
                           RescaleAttr(), RescaleAttr(), RescaleAttr(), clamp);
  } else {
    result = MulOp::create(rewriter, loc, resultType, inputs[0], inputs[1],
                           RescaleAttr(), clamp);
  }
  if (failed(encode(result, op)))
    return failure();
  rewriter.replaceOp(output, result->getResults());
  return success();
}

LogicalResult Quantizer::rewriteSameScale(Operation *op) {
  Value input = quantizedSource(op->getOperand(0));
  QuantizeOp output = soleQuantizeUser(op->getResult(0));
  // Moving data could move a per-axis type's quantized dimension.
  if (!input || !output || !getQuantParams(input.getType())->isPerTensor())
    return failure();
  rewriter.setInsertionPoint(output);
  Type element = getElementTypeOrSelf(input);
  auto resultType = quantizedLike(op->getResult(0), element);
  Location loc = op->getLoc();
  Value result;
  if (isa<linalg::TransposeOp, tensor::PadOp>(op)) {
    // Ops with a body compute on the storage integers.
    QuantParams params = *getQuantParams(input.getType());
    auto storageElement =
        IntegerType::get(rewriter.getContext(), params.storageWidth);
    Value storage = quant::StorageCastOp::create(
        rewriter, loc,
        cast<RankedTensorType>(input.getType()).clone(storageElement), input);
    Value moved;
    if (auto transpose = dyn_cast<linalg::TransposeOp>(op)) {
      Value init = tensor::EmptyOp::create(rewriter, loc, resultType.getShape(),
                                           storageElement);
      moved = linalg::TransposeOp::create(rewriter, loc, storage, init,
                                          transpose.getPermutation())
                  .getResult()[0];
    } else {
      auto pad = cast<tensor::PadOp>(op);
      Value padFloat = pad.getConstantPaddingValue();
      FloatAttr padAttr;
      if (!padFloat || !matchPattern(padFloat, m_Constant(&padAttr)))
        return failure();
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
  return replaceQuantize(output, result);
}

LogicalResult Quantizer::rewriteConcat(tensor::ConcatOp op) {
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
        requantize(op.getLoc(), input,
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
    rewriter.replaceOpWithNewOp<RequantizeOp>(op, op.getType(), source,
                                              *rescale, ClampAttr());
    return success();
  }

  RoundingMode rounding;
};

/// Records the ops a rewrite erases, so that a walk over a list taken
/// before the rewrites skips them instead of touching freed memory.
struct ErasedOps : RewriterBase::Listener {
  void notifyOperationErased(Operation *op) override { ops.insert(op); }
  DenseSet<Operation *> ops;
};

LogicalResult Quantizer::run() {
  SmallVector<Operation *> ops;
  for (Operation &op : funcOp.getBody().getOps())
    ops.push_back(&op);
  // A chain's rewrite replaces its last op (a quantize further down the
  // list) and leaves the float ops for the greedy driver below.
  ErasedOps erased;
  rewriter.setListener(&erased);
  llvm::scope_exit detach([&] { rewriter.setListener(nullptr); });
  for (Operation *op : ops) {
    if (erased.ops.contains(op))
      continue;
    if (std::optional<ComputeChain> chain = matchComputeChain(op)) {
      (void)rewriteCompute(*chain);
    } else if (std::optional<PoolChain> pool = matchPoolChain(op)) {
      (void)rewritePool(*pool);
    } else if (std::optional<ElementwiseKind> kind = classifyElementwise(op)) {
      (void)rewriteElementwise(op, *kind);
    } else if (isSameScaleOp(op) || isa<tensor::PadOp>(op)) {
      (void)rewriteSameScale(op);
    } else if (auto concat = dyn_cast<tensor::ConcatOp>(op)) {
      (void)rewriteConcat(concat);
    }
    if (error)
      return failure();
  }
  RewritePatternSet patterns(funcOp.getContext());
  patterns.add<FoldQuantizeOfDequantize>(funcOp.getContext(), rounding);
  // The greedy driver also erases the float ops left without users.
  return applyPatternsGreedily(funcOp, std::move(patterns));
}

struct QuantizePass : myquant::impl::MyQuantQuantizeBase<QuantizePass> {
  using Base::Base;
  void runOnOperation() override {
    if (getOperation().isExternal())
      return;
    if (failed(Quantizer(getOperation(), rounding).run()))
      signalPassFailure();
  }
};

} // namespace
