//===- FloatKernels.cpp - f32 conv2d and matmul on vector FMA -------------===//
//
// `convert-linalg-to-float-kernels` gives the float convolutions and
// matmuls (a float model, calibration's instrumented copy, the ops a
// quantized model keeps in float) the GEMM kernel of the int8 path with an
// f32 element type (Problem::floating): the chain FloatGraph's
// matchComputeChain recognizes (zero padding, conv or matmul with constant
// weights, bias as the initial value or a following add, one clamp) becomes
// one kernel whose weights are packed at compile time into
// [kh * kw * c][F] (output channels padded to whole vectors), whose
// accumulators start at the bias and run through the K loop as register
// tiles of vector FMAs (a broadcast input times a weight vector), and whose
// epilogue clamps and stores. Inputs are read as scalars, so NCHW input
// needs no transposition; an NCHW result is stored as rows of pixels after a
// transposition of the register tile. A residual add of the result and
// another tensor of its shape, and a clamp after it (ResNet's
// `relu(conv(x) + identity)`), run in the epilogue too: the sum is not
// written and read back. NCHW max pools run the depthwise kernel's loops
// with a maximum in place of the FMA.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilder.h"

#include "myquant/Conversion/MyQuantToVnni/KernelProblem.h"
#include "myquant/Conversion/MyQuantToVnni/Target.h"
#include "myquant/Conversion/Passes.h"
#include "myquant/Dialect/MyQuant/IR/MyQuantTypeUtils.h"
#include "myquant/Dialect/MyQuant/Utils/FloatGraph.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"

#include <limits>

namespace myquant {
#define GEN_PASS_DEF_CONVERTLINALGTOFLOATKERNELS
#include "myquant/Conversion/Passes.h.inc"
} // namespace myquant

using namespace mlir;
using namespace myquant;
using namespace myquant::vnni;

namespace {

/// The f32 constant `value` holds (an arith.constant, not a dequantized
/// one), or null.
DenseFPElementsAttr f32Constant(Value value) {
  DenseFPElementsAttr attr;
  if (!value || !matchPattern(value, m_Constant(&attr)) ||
      !attr.getElementType().isF32())
    return {};
  return attr;
}

/// Fills the float part of `p` whose geometry is set: the weight of (tap,
/// input channel, output channel) is `weights[index(t, c, f)]`.
LogicalResult
packFloat(Problem &p, ArrayRef<float> weights,
          llvm::function_ref<int64_t(int64_t, int64_t, int64_t)> index,
          DenseFPElementsAttr bias, const ComputeChain &chain, int64_t lanes) {
  int64_t taps = p.kernelH * p.kernelW, k = taps * p.inputChannels;
  if (p.channels < lanes)
    return notLowered(chain.anchor->getLoc(),
                      Twine(p.channels) +
                          " output channels, fewer than a vector of " +
                          Twine(lanes));
  if (k * p.paddedChannels > kMaxWeightElements)
    return notLowered(chain.anchor->getLoc(), "the packed weights would have " +
                                                  Twine(k * p.paddedChannels) +
                                                  " elements");
  Problem::Float f;
  f.inputNchw = f.outputNchw =
      chain.kind == ComputeChain::Conv && chain.layout == Layout::NCHW;
  // Rows in the K loop's order (KernelBuilder::accumulateTile): (tap,
  // channel), or (channel, tap) for NCHW input.
  f.packed.assign(k * p.paddedChannels, 0.0f);
  for (int64_t t = 0; t < taps; ++t)
    for (int64_t c = 0; c < p.inputChannels; ++c) {
      int64_t row = f.inputNchw ? c * taps + t : t * p.inputChannels + c;
      for (int64_t o = 0; o < p.channels; ++o)
        f.packed[row * p.paddedChannels + o] = weights[index(t, c, o)];
    }
  f.bias.assign(p.paddedChannels, 0.0f);
  if (bias)
    llvm::copy(bias.getValues<float>(), f.bias.begin());
  f.lo = static_cast<float>(chain.actLo);
  f.hi = static_cast<float>(chain.actHi);
  p.floating = std::move(f);
  // Whole blocks only: the last one is shifted back to end at the last
  // channel (the overlap is computed and stored twice, identically).
  p.channelEnd = p.channels;
  return success();
}

/// A residual add that the GEMM kernel's epilogue computes: `add` of the
/// chain's result and `addend` (same shape, no broadcast), and the clamp
/// that may follow it (null without).
struct FloatAdd {
  linalg::GenericOp add, clamp;
  Value addend;
  float lo = -std::numeric_limits<float>::infinity();
  float hi = std::numeric_limits<float>::infinity();
};

/// The one element-wise user of `value`, of kind `kind`, reading and
/// writing every operand with the identity map; or null.
linalg::GenericOp identityUser(Value value, ElementwiseKind::Kind kind,
                               std::optional<ElementwiseKind> &classified) {
  if (!value.hasOneUse())
    return {};
  auto generic = dyn_cast<linalg::GenericOp>(*value.getUsers().begin());
  if (!generic || generic->getNumResults() != 1 ||
      !llvm::all_of(generic.getIndexingMapsArray(),
                    [](AffineMap map) { return map.isIdentity(); }))
    return {};
  classified = classifyElementwise(generic);
  if (!classified || classified->kind != kind)
    return {};
  return generic;
}

/// The residual add (and clamp) after `chain`, if its result has no other
/// user.
std::optional<FloatAdd> matchFloatAdd(const ComputeChain &chain) {
  std::optional<ElementwiseKind> kind;
  linalg::GenericOp add =
      identityUser(chain.output, ElementwiseKind::Add, kind);
  if (!add || add.getNumDpsInputs() != 2)
    return std::nullopt;
  // x + y is y + x in IEEE arithmetic: either operand may be the chain's.
  Value lhs = add.getDpsInputs()[0], rhs = add.getDpsInputs()[1];
  FloatAdd fused;
  fused.add = add;
  fused.addend = lhs == chain.output ? rhs : lhs;
  if (fused.addend == chain.output ||
      fused.addend.getType() != chain.output.getType())
    return std::nullopt;
  if (linalg::GenericOp clamp =
          identityUser(add->getResult(0), ElementwiseKind::Clamp, kind)) {
    fused.clamp = clamp;
    fused.lo = static_cast<float>(kind->lo);
    fused.hi = static_cast<float>(kind->hi);
  }
  return fused;
}

struct FloatLowering {
  const KernelTarget &target;
  SymbolTable &symbols;

  LogicalResult lower(const ComputeChain &chain);

  /// The NCHW depthwise convolution of `chain`, whose geometry `p` holds,
  /// on the padded `input`.
  LogicalResult lowerDepthwise(const ComputeChain &chain, Problem &p,
                               ArrayRef<float> weights,
                               DenseFPElementsAttr bias, Value input,
                               OpBuilder &b);

  /// An NCHW f32 max pool from a filled initial value: the depthwise
  /// kernel's loops taking the maximum instead of the FMA.
  LogicalResult lowerMaxPool(linalg::PoolingNchwMaxOp pool);

  /// Replaces `output` by `result` and erases `anchor`, the ops after it
  /// (`epilogue`, in order) and the producers only they used.
  static void replace(Operation *anchor, ArrayRef<Operation *> epilogue,
                      Value output, Value result);
};

LogicalResult FloatLowering::lowerMaxPool(linalg::PoolingNchwMaxOp pool) {
  Location loc = pool.getLoc();
  auto input = dyn_cast<RankedTensorType>(pool.getInputs()[0].getType());
  auto window = dyn_cast<RankedTensorType>(pool.getInputs()[1].getType());
  auto resultType = cast<RankedTensorType>(pool->getResult(0).getType());
  if (!input || !window || !input.getElementType().isF32() ||
      !resultType.getElementType().isF32() || !input.hasStaticShape() ||
      !window.hasStaticShape() || !resultType.hasStaticShape())
    return notLowered(loc, "not a static f32 max pool");
  auto fill = pool.getOutputs()[0].getDefiningOp<linalg::FillOp>();
  FloatAttr init;
  if (!fill || !matchPattern(fill.getInputs()[0], m_Constant(&init)))
    return notLowered(loc, "a max pool whose initial value is not a filled "
                           "constant");
  Problem p{};
  ArrayRef<int64_t> out = resultType.getShape();
  p.batch = out[0];
  p.channels = out[1];
  p.outH = out[2];
  p.outW = out[3];
  p.kernelH = window.getDimSize(0);
  p.kernelW = window.getDimSize(1);
  auto strides = pool.getStrides().getValues<int64_t>();
  auto dilations = pool.getDilations().getValues<int64_t>();
  p.strideH = strides[0];
  p.strideW = strides[1];
  p.dilationH = dilations[0];
  p.dilationW = dilations[1];
  Problem::Float f;
  f.maxPoolInit = static_cast<float>(init.getValueAsDouble());
  f.lo = -std::numeric_limits<float>::infinity();
  f.hi = std::numeric_limits<float>::infinity();
  f.inputNchw = f.outputNchw = true;
  p.floating = std::move(f);
  // The depthwise kernel's tiles: up to 8 rows of a vector of pixels.
  int64_t rows = std::min<int64_t>(p.outH, 8);
  int64_t width = std::min<int64_t>(p.outW, target.lanes);
  OpBuilder b(pool);
  Value result = outlineKernel(b, pool, pool.getInputs()[0], resultType, target,
                               symbols, [&](OpBuilder &kb, ValueRange args) {
                                 KernelBuilder builder(kb, loc, target);
                                 return builder.buildFloatDepthwise(
                                     p, rows, width, args[0], args[1]);
                               });
  replace(pool, {}, pool->getResult(0), result);
  return success();
}

LogicalResult FloatLowering::lowerDepthwise(const ComputeChain &chain,
                                            Problem &p, ArrayRef<float> weights,
                                            DenseFPElementsAttr bias,
                                            Value input, OpBuilder &b) {
  Location loc = chain.anchor->getLoc();
  Problem::Float f;
  // [channels][taps]: the filter's own C x KH x KW order.
  f.packed.assign(weights.begin(), weights.end());
  f.bias.assign(p.channels, 0.0f);
  if (bias)
    llvm::copy(bias.getValues<float>(), f.bias.begin());
  f.lo = static_cast<float>(chain.actLo);
  f.hi = static_cast<float>(chain.actHi);
  f.inputNchw = f.outputNchw = true;
  p.floating = std::move(f);
  // Up to 8 rows: independent FMA chains, enough to hide the FMA latency.
  int64_t rows = std::min<int64_t>(p.outH, 8);
  int64_t width = std::min<int64_t>(p.outW, target.lanes);
  auto resultType = cast<RankedTensorType>(chain.output.getType());
  Value result = outlineKernel(b, chain.anchor, input, resultType, target,
                               symbols, [&](OpBuilder &kb, ValueRange args) {
                                 KernelBuilder builder(kb, loc, target);
                                 return builder.buildFloatDepthwise(
                                     p, rows, width, args[0], args[1]);
                               });
  replace(chain.anchor, chain.epilogue, chain.output, result);
  return success();
}

LogicalResult FloatLowering::lower(const ComputeChain &chain) {
  Operation *anchor = chain.anchor;
  Location loc = anchor->getLoc();
  auto resultType = cast<RankedTensorType>(chain.output.getType());
  if (!resultType.getElementType().isF32())
    return notLowered(loc, "not f32");
  bool depthwise = isa<linalg::DepthwiseConv2DNchwChwOp>(anchor);
  if ((chain.groups != 1 && !depthwise) || !chain.regrouping.empty())
    return notLowered(loc, "a grouped or NHWC depthwise convolution");
  if (chain.factor != 1.0)
    return notLowered(loc, "a matmul scaled by a constant");
  DenseFPElementsAttr weightAttr = f32Constant(chain.weight);
  DenseFPElementsAttr biasAttr = f32Constant(chain.bias);
  if (!weightAttr || (chain.bias && !biasAttr))
    return notLowered(loc, "the weights or the bias are not f32 constants");
  SmallVector<float> weights(weightAttr.getValues<float>());
  ArrayRef<int64_t> ws = chain.weightShape;
  int64_t lanes = target.lanes;

  // A residual add fuses into the GEMM kernel of a convolution; the
  // kernel then runs where the add did, after the addend is computed.
  std::optional<FloatAdd> fused;
  if (chain.kind == ComputeChain::Conv && !depthwise)
    fused = matchFloatAdd(chain);

  Problem p{};
  p.pool = 1;
  p.strideH = p.strideW = p.dilationH = p.dilationW = 1;
  p.kernelH = p.kernelW = 1;
  Value input;
  RankedTensorType kernelType = resultType;
  OpBuilder b(chain.output.getContext());
  if (fused)
    b.setInsertionPoint(fused->add);
  else
    b.setInsertionPointAfterValue(chain.output);
  if (chain.kind == ComputeChain::Conv) {
    input = cast<linalg::LinalgOp>(anchor).getDpsInputs()[0];
    ArrayRef<int64_t> out = resultType.getShape();
    bool nchw = chain.layout == Layout::NCHW;
    p.batch = out[0];
    p.outH = nchw ? out[2] : out[1];
    p.outW = nchw ? out[3] : out[2];
    // FCHW or HWCF filters.
    int64_t f = nchw ? ws[0] : ws[3], c = nchw ? ws[1] : ws[2];
    p.kernelH = nchw ? ws[2] : ws[0];
    p.kernelW = nchw ? ws[3] : ws[1];
    p.strideH = chain.strides[0];
    p.strideW = chain.strides[1];
    p.dilationH = chain.dilations[0];
    p.dilationW = chain.dilations[1];
    p.inputChannels = c;
    setChannels(p, f, lanes);
    if (depthwise)
      return lowerDepthwise(chain, p, weights, biasAttr, input, b);
    int64_t kw = p.kernelW, kh = p.kernelH;
    auto index = [&](int64_t t, int64_t ci, int64_t o) {
      int64_t y = t / kw, x = t % kw;
      return nchw ? ((o * c + ci) * kh + y) * kw + x
                  : ((y * kw + x) * c + ci) * f + o;
    };
    if (failed(packFloat(p, weights, index, biasAttr, chain, lanes)))
      return failure();
  } else {
    // A 1 x 1 convolution over a 1 x M NHWC image.
    input = chain.input;
    auto inputType = cast<RankedTensorType>(input.getType());
    if (inputType.getRank() != 2)
      return notLowered(loc, "a batched matmul");
    int64_t m = inputType.getDimSize(0), k = inputType.getDimSize(1);
    int64_t n = resultType.getDimSize(1);
    p.batch = p.outH = 1;
    p.outW = m;
    p.inputChannels = k;
    setChannels(p, n, lanes);
    bool transposed = chain.transposeRhs;
    auto index = [&](int64_t, int64_t ci, int64_t o) {
      return transposed ? o * k + ci : ci * n + o;
    };
    if (failed(packFloat(p, weights, index, biasAttr, chain, lanes)))
      return failure();
    SmallVector<ReassociationIndices> rows = {{0, 1, 2}, {3}};
    input = tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get({1, 1, m, k}, b.getF32Type()), input,
        rows);
    kernelType = RankedTensorType::get({1, 1, m, n}, b.getF32Type());
  }
  ComputeChain whole = chain;
  SmallVector<Value> operands = {input};
  if (fused) {
    p.floating->add = true;
    p.floating->addLo = fused->lo;
    p.floating->addHi = fused->hi;
    operands.push_back(fused->addend);
    whole.epilogue.push_back(fused->add);
    whole.output = fused->add->getResult(0);
    if (fused->clamp) {
      whole.epilogue.push_back(fused->clamp);
      whole.output = fused->clamp->getResult(0);
    }
  }
  Tiling tiling = chooseTiling(target, p, p.outW);
  Value result = outlineKernel(b, anchor, operands, kernelType, target, symbols,
                               [&](OpBuilder &kb, ValueRange args) {
                                 KernelBuilder builder(kb, loc, target);
                                 return builder.build(p, tiling, args[0],
                                                      fused ? args[1] : Value(),
                                                      args.back());
                               });
  if (kernelType != resultType)
    result = tensor::CollapseShapeOp::create(
        b, loc, resultType, result,
        SmallVector<ReassociationIndices>{{0, 1, 2}, {3}});
  replace(whole.anchor, whole.epilogue, whole.output, result);
  return success();
}

void FloatLowering::replace(Operation *anchor, ArrayRef<Operation *> epilogue,
                            Value output, Value result) {
  output.replaceAllUsesWith(result);
  // The chain's ops, last first, then what only they read (padding copies
  // the kernel does not read, fills, broadcasts, transposes).
  SmallVector<Operation *> dead(epilogue.rbegin(), epilogue.rend());
  dead.push_back(anchor);
  SmallVector<Operation *> producers;
  for (Operation *op : dead) {
    for (Value operand : op->getOperands())
      if (Operation *def = operand.getDefiningOp())
        producers.push_back(def);
    op->erase();
  }
  while (!producers.empty()) {
    Operation *op = producers.pop_back_val();
    if (!op->use_empty() || !isMemoryEffectFree(op))
      continue;
    for (Value operand : op->getOperands())
      if (Operation *def = operand.getDefiningOp())
        producers.push_back(def);
    op->erase();
  }
}

struct ConvertLinalgToFloatKernelsPass
    : myquant::impl::ConvertLinalgToFloatKernelsBase<
          ConvertLinalgToFloatKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<std::string> resolved = resolveTargetName(module, target);
    if (failed(resolved))
      return signalPassFailure();
    FailureOr<std::optional<KernelTarget>> parsed = parseFloatTarget(*resolved);
    if (failed(parsed)) {
      module.emitError() << "unknown target '" << target
                         << "' (expected generic, avx512-vnni, "
                            "avx512-vnni-256, avx-vnni or host)";
      return signalPassFailure();
    }
    if (!*parsed)
      return;
    (*parsed)->threads = threads;
    SymbolTable symbols(module);
    FloatLowering lowering{**parsed, symbols};
    SmallVector<func::FuncOp> funcs(module.getOps<func::FuncOp>());
    for (func::FuncOp func : funcs) {
      SmallVector<linalg::PoolingNchwMaxOp> pools;
      func.walk([&](linalg::PoolingNchwMaxOp pool) { pools.push_back(pool); });
      for (linalg::PoolingNchwMaxOp pool : pools)
        (void)lowering.lowerMaxPool(pool);
      SmallVector<Operation *> anchors;
      func.walk([&](Operation *op) {
        if (isa<linalg::Conv2DNchwFchwOp, linalg::Conv2DNhwcHwcfOp,
                linalg::DepthwiseConv2DNchwChwOp,
                linalg::DepthwiseConv2DNhwcHwcOp, linalg::Conv2DNgchwGfchwOp,
                linalg::MatmulOp>(op))
          anchors.push_back(op);
      });
      for (Operation *anchor : anchors)
        if (std::optional<ComputeChain> chain = matchComputeChain(anchor))
          (void)lowering.lower(*chain);
    }
  }
};

} // namespace
