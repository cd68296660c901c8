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
// transposition of the register tile.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilder.h"

#include "myquant/Conversion/MyQuantToVnni/KernelProblem.h"
#include "myquant/Conversion/MyQuantToVnni/Target.h"
#include "myquant/Conversion/Passes.h"
#include "myquant/Dialect/MyQuant/IR/MyQuantTypeUtils.h"
#include "myquant/Dialect/MyQuant/Utils/FloatGraph.h"
#include "myquant/Dialect/MyQuant/Utils/ParallelBatch.h"

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
  // channel), NCHW input included.
  f.packed.assign(k * p.paddedChannels, 0.0f);
  for (int64_t t = 0; t < taps; ++t)
    for (int64_t c = 0; c < p.inputChannels; ++c) {
      int64_t row = t * p.inputChannels + c;
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

struct FloatLowering {
  const KernelTarget &target;
  SymbolTable &symbols;

  LogicalResult lower(const ComputeChain &chain);

  /// The NCHW depthwise convolution of `chain`, whose geometry `p` holds;
  /// the kernel pads its unpadded input itself.
  LogicalResult lowerDepthwise(const ComputeChain &chain, Problem &p,
                               ArrayRef<float> weights,
                               DenseFPElementsAttr bias, OpBuilder &b);

  /// Replaces `chain.output` by `result` and erases the chain's ops and
  /// the producers only they used.
  static void replace(const ComputeChain &chain, Value result);
};

LogicalResult FloatLowering::lowerDepthwise(const ComputeChain &chain,
                                            Problem &p, ArrayRef<float> weights,
                                            DenseFPElementsAttr bias,
                                            OpBuilder &b) {
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
  Value result =
      outlineKernel(b, chain.anchor, chain.input, resultType, target, symbols,
                    [&](OpBuilder &kb, ValueRange args) {
                      KernelBuilder builder(kb, loc, target);
                      return builder.buildFloatDepthwise(
                          p, rows, width, chain.padding, args[0], args[1]);
                    });
  replace(chain, result);
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
  // Before they are copied: a splat constant of any shape is small in the IR.
  if (weightAttr.getNumElements() > kMaxWeightElements)
    return notLowered(loc,
                      "the weights have " + Twine(weightAttr.getNumElements()) +
                          " elements, more than " + Twine(kMaxWeightElements));
  SmallVector<float> weights(weightAttr.getValues<float>());
  ArrayRef<int64_t> ws = chain.weightShape;
  int64_t lanes = target.lanes;

  Problem p{};
  p.pool = 1;
  p.strideH = p.strideW = p.dilationH = p.dilationW = 1;
  p.kernelH = p.kernelW = 1;
  Value input;
  RankedTensorType kernelType = resultType;
  OpBuilder b(chain.output.getContext());
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
      return lowerDepthwise(chain, p, weights, biasAttr, b);
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
  Tiling tiling = chooseTiling(target, p, p.outW);
  Value result = outlineKernel(b, anchor, input, kernelType, target, symbols,
                               [&](OpBuilder &kb, ValueRange args) {
                                 KernelBuilder builder(kb, loc, target);
                                 return builder.build(p, tiling, args[0],
                                                      Value(), args[1]);
                               });
  if (kernelType != resultType)
    result = tensor::CollapseShapeOp::create(
        b, loc, resultType, result,
        SmallVector<ReassociationIndices>{{0, 1, 2}, {3}});
  replace(chain, result);
  return success();
}

void FloatLowering::replace(const ComputeChain &chain, Value result) {
  Operation *anchor = chain.anchor;
  Value replaced = chain.output;
  replaced.replaceAllUsesWith(result);
  // The chain's ops, last first, then what only they read (padding copies
  // the kernel does not read, fills, broadcasts, transposes).
  SmallVector<Operation *> dead(chain.epilogue.rbegin(), chain.epilogue.rend());
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
    KernelTarget &kernelTarget = **parsed;
    kernelTarget.threadMinMacs = threadMinMacs;
    SymbolTable symbols(module);
    FloatLowering lowering{kernelTarget, symbols};
    ParallelBatchBodies bodies(module);
    SmallVector<func::FuncOp> funcs(module.getOps<func::FuncOp>());
    for (func::FuncOp func : funcs) {
      SmallVector<Operation *> anchors;
      func.walk([&](Operation *op) {
        if (isa<linalg::Conv2DNchwFchwOp, linalg::Conv2DNhwcHwcfOp,
                linalg::DepthwiseConv2DNchwChwOp,
                linalg::DepthwiseConv2DNhwcHwcOp, linalg::Conv2DNgchwGfchwOp,
                linalg::MatmulOp>(op))
          anchors.push_back(op);
      });
      for (Operation *anchor : anchors) {
        // As convert-myquant-to-vnni's: one thread in a marked loop's
        // iterations.
        kernelTarget.threads =
            bodies.runsInParallelBatch(anchor) ? 1 : threads.getValue();
        if (std::optional<ComputeChain> chain = matchComputeChain(anchor))
          (void)lowering.lower(*chain);
      }
    }
  }
};

} // namespace
