//===- KernelProblem.cpp - what a VNNI kernel computes --------------------===//

#include "myquant/Conversion/MyQuantToVnni/KernelProblem.h"

#include "myquant/Dialect/MyQuant/IR/MyQuantTypeUtils.h"

#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/Remarks.h"

#include <cstdlib>
#include <limits>

using namespace mlir;

namespace myquant::vnni {

LogicalResult notLowered(Location loc, const Twine &reason) {
  remark::missed(
      loc, remark::RemarkOpts::name("NotLowered").category(kNotLoweredCategory))
      << ("not lowered to a VNNI kernel: " + reason).str();
  return failure();
}

void setChannels(Problem &p, int64_t channels, int64_t lanes) {
  p.channels = channels;
  p.paddedChannels = llvm::alignTo(channels, lanes);
  p.channelEnd =
      channels % lanes == 1 && channels > lanes ? channels : p.paddedChannels;
}

int64_t kernelMacs(const Problem &p, bool depthwise) {
  int64_t macs = p.batch * p.outH * p.outW * p.channels * p.kernelH *
                 p.kernelW * (depthwise ? 1 : p.inputChannels);
  return macs * (p.floating ? 4 : 1) * (depthwise ? 4 : 1);
}

bool foldsZeroPoint(const Problem &p) {
  const Requant &r = p.epilogue.requant;
  return p.epilogue.highHalf && !p.add && llvm::all_of(r.shift, [&](int32_t s) {
           return IntegerArith::zeroPointFitsRounding(r.zeroPoint, s);
         });
}

LogicalResult packWeights(Problem &p, int64_t channelsIn, WeightFn weight,
                          ArrayRef<int64_t> bias, int64_t inputZeroPoint,
                          Location loc, MultiplierFn multiplier) {
  int64_t taps = p.kernelH * p.kernelW, paddedChannels = p.paddedChannels;
  int64_t group = channelsPerStep(p), steps = p.inputChannels / group;
  if (p.depthwise) {
    p.tapPairs.assign(
        llvm::divideCeil(p.kernelH, 2) * p.kernelW * paddedChannels * 2, 0);
  } else {
    // Padding to whole vectors can multiply the weights' size (by 64 for
    // one output channel and one input channel).
    int64_t size = taps * steps * paddedChannels * group;
    if (size > kMaxWeightElements)
      return notLowered(loc, "the packed weights would have " + Twine(size) +
                                 " elements, more than " +
                                 Twine(kMaxWeightElements));
    p.packed.assign(size, 0);
  }
  p.init.assign(paddedChannels, 0);
  int64_t groups = p.groupSize ? p.inputChannels / p.groupSize : 0;
  p.groupMultipliers.assign(groups * paddedChannels, 0);
  // The 8-bit GEMM kernel reads signed input as u8 (x + 128); the depthwise
  // and 16-bit ones widen it as it is.
  int64_t flip = p.signedInput && !p.depthwise && !p.wideInput ? 128 : 0;
  for (int64_t f = 0; f < p.channels; ++f) {
    // sum |w| of each group (of the whole K without groups): the 4-bit
    // kernel's partial sums reach 16 * 255 * that.
    SmallVector<int64_t> partialAbsSum(std::max<int64_t>(groups, 1), 0);
    int64_t sum = 0, absSum = 0;
    for (int64_t t = 0; t < taps; ++t)
      for (int64_t c = 0; c < channelsIn; ++c) {
        int8_t w = weight(t, c, f);
        int64_t magnitude = std::abs(int64_t(w));
        partialAbsSum[groups ? c / p.groupSize : 0] += magnitude;
        // The effective weight q * m of NumericSpec 7.2.
        int64_t m = p.groupSize ? multiplier(c, f) : 1;
        sum += w * m;
        absSum += magnitude * m;
        if (p.depthwise) {
          // Tap (y, x) is half y % 2 of pair (y / 2, x).
          int64_t y = t / p.kernelW, x = t % p.kernelW;
          p.tapPairs[((y / 2 * p.kernelW + x) * paddedChannels + f) * 2 +
                     y % 2] = w;
        } else
          p.packed[((t * steps + c / group) * paddedChannels + f) * group +
                   c % group] = w;
      }
    // The 16-bit kernel accumulates in int64 (its bound is the dry run's,
    // NumericSpec 6.3); zx = 0, so `init` is the int32 bias.
    if (p.wideInput) {
      p.init[f] = static_cast<int32_t>(bias[f]);
      continue;
    }
    // |x - zx| <= 255: the exact accumulator bound of NumericSpec 3.1.
    int64_t bound = 255 * absSum + std::abs(bias[f]);
    if (bound > std::numeric_limits<int32_t>::max())
      return notLowered(loc, "the accumulator of output channel " + Twine(f) +
                                 " could leave int32 (255 * sum |w| + |bias| "
                                 "= " +
                                 Twine(bound) + ")");
    // The depthwise kernel unpacks 4-bit weights to w itself, not 16 * w.
    int64_t partial = 16 * 255 * *llvm::max_element(partialAbsSum);
    if (p.nibbles && !p.depthwise &&
        partial > std::numeric_limits<int32_t>::max())
      return notLowered(loc, "a 4-bit partial sum of output channel " +
                                 Twine(f) +
                                 " could leave int32 (16 * 255 * sum |w| = " +
                                 Twine(partial) + ")");
    for (int64_t g = 0; g < groups; ++g)
      p.groupMultipliers[g * paddedChannels + f] =
          static_cast<uint8_t>(multiplier(g * p.groupSize, f) - 1);
    // Wrapping int32 arithmetic is exact because the final sum fits.
    int64_t init = bias[f] - (inputZeroPoint + flip) * sum;
    p.init[f] = static_cast<int32_t>(static_cast<uint32_t>(init));
  }
  return success();
}

namespace {

/// The int8 (or int4) values of a constant weight operand: `quant.scast`
/// of an `arith.constant` (dense or, of i8, dense_resource), in row-major
/// order. Weights
/// past kMaxWeightElements are left to convert-myquant-to-linalg, which
/// reports them.
FailureOr<SmallVector<int8_t>> getInt8Constant(Location loc, Value value) {
  auto storageCast = value.getDefiningOp<quant::StorageCastOp>();
  Attribute attr;
  if (!storageCast || !matchPattern(storageCast.getInput(), m_Constant(&attr)))
    return notLowered(loc, "the weights are not a constant");
  if (cast<ShapedType>(value.getType()).getNumElements() > kMaxWeightElements)
    return notLowered(loc, "the weights have more than " +
                               Twine(kMaxWeightElements) + " elements");
  if (auto dense = dyn_cast<DenseIntElementsAttr>(attr)) {
    if (!dense.getElementType().isInteger(8) &&
        !dense.getElementType().isInteger(4))
      return notLowered(loc, "the weights' constant is not of i8 or i4");
    SmallVector<int8_t> values;
    values.reserve(dense.getNumElements());
    for (const APInt &v : dense.getValues<APInt>())
      values.push_back(static_cast<int8_t>(v.getSExtValue()));
    return values;
  }
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    if (!resource.getElementType().isInteger(8))
      return notLowered(loc, "the weights' constant is not of i8");
    std::optional<ArrayRef<int8_t>> values =
        cast<DenseI8ResourceElementsAttr>(resource).tryGetAsArrayRef();
    if (!values)
      return notLowered(loc, "the weights' resource blob is not available");
    return SmallVector<int8_t>(values->begin(), values->end());
  }
  return notLowered(loc, "the weights' constant is neither dense nor a "
                         "dense resource");
}

/// The int32 bias (a constant or absent: zeros).
FailureOr<SmallVector<int64_t>> getBias(Location loc, Value bias,
                                        int64_t channels) {
  if (!bias)
    return SmallVector<int64_t>(channels, 0);
  DenseIntElementsAttr dense;
  if (!matchPattern(bias, m_Constant(&dense)) ||
      dense.getNumElements() != channels)
    return notLowered(loc, "the bias is not a constant");
  SmallVector<int64_t> values;
  for (const APInt &v : dense.getValues<APInt>())
    values.push_back(v.getSExtValue());
  return values;
}

bool isStatic(Operation *op) {
  auto isStaticType = [](Type t) {
    auto shaped = dyn_cast<ShapedType>(t);
    return !shaped || shaped.hasStaticShape();
  };
  return llvm::all_of(op->getOperandTypes(), isStaticType) &&
         llvm::all_of(op->getResultTypes(), isStaticType);
}

/// Static shapes, and the quantization the kernels support: 8-bit
/// per-tensor activations (signed or unsigned) or 16-bit symmetric ones
/// (NumericSpec 6.1; sets `wideInput`), an 8- or 16-bit per-tensor result,
/// signed 8- or (with an 8-bit input) 4-bit weights with zero point 0 (per
/// tensor, per output channel or, 4-bit, per group).
LogicalResult checkOperands(Operation *op, Type input, Type weight,
                            bool &wideInput) {
  Location loc = op->getLoc();
  if (!isStatic(op))
    return notLowered(loc, "its shapes are not static");
  std::optional<QuantParams> in = getQuantParams(input),
                             w = getQuantParams(weight),
                             out = getQuantParams(op->getResult(0).getType());
  if (!in || !w || !out)
    return notLowered(loc, "an operand or the result is not quantized");
  wideInput = in->storageWidth == 16;
  if (!in->isPerTensor() || (in->storageWidth != 8 && !wideInput) ||
      (wideInput && (!in->isSigned || in->zeroPoints[0] != 0)))
    return notLowered(loc, "the input is neither 8-bit per-tensor nor "
                           "16-bit symmetric per-tensor quantized");
  if (!out->isPerTensor() ||
      (out->storageWidth != 8 && out->storageWidth != 16))
    return notLowered(loc,
                      "the result is not 8- or 16-bit per-tensor quantized");
  if ((w->storageWidth != 8 && w->storageWidth != 4) || !w->isSigned)
    return notLowered(loc, "the weights are not signed 8- or 4-bit");
  if (wideInput && w->storageWidth == 4)
    return notLowered(loc, "4-bit weights with a 16-bit input");
  if (llvm::any_of(w->zeroPoints, [](int64_t zp) { return zp != 0; }))
    return notLowered(loc, "the weights have a non-zero zero point");
  return success();
}

/// The op's rescale (precomputed, or computed like convert-myquant-to-linalg
/// does) and clamp, expanded to `paddedChannels` channels.
FailureOr<Epilogue> buildEpilogue(RescaleOpInterface op,
                                  RoundingMode defaultRounding,
                                  int64_t paddedChannels) {
  Type resultType = op->getResult(0).getType();
  FailureOr<Requant> requant =
      makeRequant(op, op.getRescaleSlots().front(), defaultRounding,
                  op.getClampAttr(), resultType);
  if (failed(requant))
    return notLowered(op->getLoc(), "its rescale has no fixed-point form");
  // A 16-bit input's int64 accumulator has no high-half form.
  bool wide = getQuantParams(op->getOperand(0).getType())->storageWidth == 16;
  if (wide && requant->rounding != RoundingMode::Single)
    return notLowered(op->getLoc(), "a 16-bit input's rescale must round "
                                    "`single` (NumericSpec 6.3)");
  Epilogue e{
      *requant,
      !wide && requant->rounding == RoundingMode::Single &&
          llvm::all_of(requant->shift, [](int32_t s) { return s >= 33; }),
      storageOf(resultType)};
  // One entry per op (per tensor) or per real channel: repeat the last one.
  e.requant.multiplier.resize(paddedChannels, requant->multiplier.back());
  e.requant.shift.resize(paddedChannels, requant->shift.back());
  return e;
}

/// Completes `p`, whose geometry is set, for `op` (a conv2d or a matmul):
/// the weights, the folded bias and the epilogue. The constant weights of
/// `weights` are read at weightIndex(tap, input channel, output channel).
template <typename OpTy>
LogicalResult completeProblem(
    Problem &p, OpTy op, Value input, Value weights, int64_t channelsIn,
    llvm::function_ref<int64_t(int64_t, int64_t, int64_t)> weightIndex,
    RoundingMode defaultRounding) {
  Location loc = op.getLoc();
  FailureOr<SmallVector<int8_t>> values = getInt8Constant(loc, weights);
  if (failed(values))
    return failure();
  FailureOr<SmallVector<int64_t>> bias = getBias(loc, op.getBias(), p.channels);
  if (failed(bias))
    return failure();
  QuantParams in = *getQuantParams(input.getType());
  auto weight = [&](int64_t t, int64_t c, int64_t f) {
    return (*values)[weightIndex(t, c, f)];
  };
  std::optional<GroupScales> groups = getGroupScales(weights.getType());
  auto multiplier = [&](int64_t c, int64_t f) {
    return groups->multiplier(f, c / groups->groupSize);
  };
  if (failed(packWeights(p, channelsIn, weight, *bias, in.zeroPoints[0], loc,
                         multiplier)))
    return failure();
  FailureOr<Epilogue> epilogue =
      buildEpilogue(op, defaultRounding, p.paddedChannels);
  if (failed(epilogue))
    return failure();
  p.epilogue = std::move(*epilogue);
  return success();
}

/// Whether a grouped conv2d has one filter per channel (the depthwise
/// kernel covers nothing else).
LogicalResult checkDepthwise(Conv2DOp op) {
  LayoutDims dims = op.getDims();
  ArrayRef<int64_t> inputShape = op.getInput().getType().getShape();
  ArrayRef<int64_t> filterShape = op.getFilter().getType().getShape();
  ArrayRef<int64_t> outputShape = op.getType().getShape();
  int64_t channels = inputShape[dims.channel];
  if (static_cast<int64_t>(op.getGroups()) != channels)
    return notLowered(op.getLoc(), "grouped convolution with " +
                                       Twine(op.getGroups()) + " groups of " +
                                       Twine(channels) +
                                       " channels is not depthwise");
  if (outputShape[dims.channel] != channels || filterShape[dims.filterIn] != 1)
    return notLowered(op.getLoc(), "depthwise convolution with a channel "
                                   "multiplier");
  return success();
}

} // namespace

bool usesPatches(const Problem &p, int64_t channelsIn) {
  // The patch builder reads a filter row as one vector of 32 bytes: at
  // most 8 adjacent pixels of 4 channels.
  if (p.depthwise || p.wideInput || p.nibbles || channelsIn > 3 ||
      p.kernelW > 8 || p.dilationW != 1)
    return false;
  // K steps saved per pixel (each a broadcast and a dot product per
  // channel block) against building the patch (about 4 instructions per
  // filter row, and its bytes stored and loaded again).
  int64_t taps = p.kernelH * p.kernelW;
  int64_t saved = taps - llvm::divideCeil(taps * channelsIn, 4);
  // In vectors of 16 channels (twice as many of half the width cost about
  // the same).
  int64_t blocks = llvm::divideCeil(p.channels, 16);
  return saved * (blocks + 1) >= kPatchCostPerRow * p.kernelH;
}

FailureOr<Problem> buildConvProblem(Conv2DOp op, int64_t lanes,
                                    RoundingMode defaultRounding) {
  bool depthwise = op.getGroups() != 1, wideInput;
  if ((depthwise && failed(checkDepthwise(op))) ||
      failed(checkOperands(op, op.getInput().getType(),
                           op.getFilter().getType(), wideInput)))
    return failure();
  // A 16-bit input's depthwise kernel sums a pixel's pair products in one
  // int32 block (NumericSpec 6.3).
  int64_t tapPairs =
      llvm::divideCeil(op.getWindowSizes()[0], 2) * op.getWindowSizes()[1];
  if (depthwise && wideInput && tapPairs > kMaxPairSteps)
    return notLowered(op.getLoc(), "depthwise convolution of a 16-bit input "
                                   "with " +
                                       Twine(tapPairs) +
                                       " pairs of filter rows per column, "
                                       "more than " +
                                       Twine(kMaxPairSteps));
  bool nchw = op.getLayout() == Layout::NCHW;
  LayoutDims dims = op.getDims();
  ArrayRef<int64_t> inputShape = op.getInput().getType().getShape();
  ArrayRef<int64_t> outputShape = op.getType().getShape();
  int64_t channelsIn = inputShape[dims.channel];
  Problem p;
  p.depthwise = depthwise;
  p.wideInput = wideInput;
  p.batch = outputShape[dims.batch];
  p.outH = outputShape[dims.height];
  p.outW = outputShape[dims.width];
  setChannels(p, outputShape[dims.channel], lanes);
  SmallVector<int64_t, 2> window = op.getWindowSizes();
  p.kernelH = window[0];
  p.kernelW = window[1];
  p.strideH = op.getStrides()[0];
  p.strideW = op.getStrides()[1];
  p.dilationH = op.getDilations()[0];
  p.dilationW = op.getDilations()[1];
  p.nibbles = getQuantParams(op.getFilter().getType())->storageWidth == 4;
  p.inputChannels =
      depthwise ? p.paddedChannels
                : int64_t(llvm::alignTo(channelsIn, channelsPerStep(p)));
  p.signedInput = getQuantParams(op.getInput().getType())->isSigned;
  // One input channel per filter for depthwise convolutions.
  int64_t filterChannels = depthwise ? 1 : channelsIn;
  int64_t kernelH = p.kernelH, kernelW = p.kernelW, channels = p.channels;
  auto weightIndex = [&](int64_t t, int64_t c, int64_t f) {
    int64_t y = t / kernelW, x = t % kernelW;
    if (nchw) // F x C x KH x KW
      return ((f * filterChannels + c) * kernelH + y) * kernelW + x;
    // KH x KW x C x F
    return ((y * kernelW + x) * filterChannels + c) * channels + f;
  };
  if (usesPatches(p, channelsIn)) {
    // A 1 x 1 convolution over the patches: patch channel t * C + c is
    // channel c of tap t.
    p.patches = Problem::Patches{kernelH,   kernelW,     p.strideH,
                                 p.strideW, p.dilationH, channelsIn};
    p.kernelH = p.kernelW = p.strideH = p.strideW = p.dilationH = p.dilationW =
        1;
    int64_t patchChannels = kernelH * kernelW * channelsIn;
    p.inputChannels = llvm::alignTo(patchChannels, channelsPerStep(p));
    auto patchIndex = [&](int64_t, int64_t c, int64_t f) {
      return weightIndex(c / channelsIn, c % channelsIn, f);
    };
    if (failed(completeProblem(p, op, op.getInput(), op.getFilter(),
                               patchChannels, patchIndex, defaultRounding)))
      return failure();
    return p;
  }
  if (failed(completeProblem(p, op, op.getInput(), op.getFilter(),
                             filterChannels, weightIndex, defaultRounding)))
    return failure();
  return p;
}

/// A matmul's geometry: a 1 x 1 convolution over a 1 x M image.
static Problem matmulGeometry(int64_t m, int64_t n, int64_t k, int64_t lanes) {
  Problem p;
  p.batch = 1;
  p.outH = 1;
  p.outW = m;
  setChannels(p, n, lanes);
  p.kernelH = p.kernelW = p.strideH = p.strideW = p.dilationH = p.dilationW = 1;
  p.inputChannels = llvm::alignTo(k, 4);
  return p;
}

FailureOr<Problem> buildMatmulProblem(MatmulOp op, int64_t lanes,
                                      RoundingMode defaultRounding) {
  if (op.getType().getRank() != 2)
    return notLowered(op.getLoc(), "batched matmul (rank " +
                                       Twine(op.getType().getRank()) + ")");
  bool wideInput;
  if (failed(checkOperands(op, op.getLhs().getType(), op.getRhs().getType(),
                           wideInput)))
    return failure();
  int64_t m = op.getType().getDimSize(0), n = op.getType().getDimSize(1);
  int64_t k = op.getLhs().getType().getDimSize(1);
  Problem p = matmulGeometry(m, n, k, lanes);
  p.wideInput = wideInput;
  p.nibbles = getQuantParams(op.getRhs().getType())->storageWidth == 4;
  p.inputChannels = llvm::alignTo(k, p.nibbles ? 8 : channelsPerStep(p));
  if (std::optional<GroupScales> groups =
          getGroupScales(op.getRhs().getType())) {
    // A group covers whole byte vectors of two steps of 4 channels.
    if (!p.nibbles)
      return notLowered(op.getLoc(), "its weights are quantized per group "
                                     "but not 4-bit");
    if (groups->groupSize % 8 != 0)
      return notLowered(op.getLoc(), "its weight groups of " +
                                         Twine(groups->groupSize) +
                                         " are not a multiple of 8");
    p.groupSize = groups->groupSize;
  }
  p.signedInput = getQuantParams(op.getLhs().getType())->isSigned;
  bool transposed = op.getTransposeRhs();
  auto weightIndex = [&](int64_t, int64_t c, int64_t f) {
    return transposed ? f * k + c : c * n + f;
  };
  if (failed(completeProblem(p, op, op.getLhs(), op.getRhs(), k, weightIndex,
                             defaultRounding)))
    return failure();
  return p;
}

FailureOr<Problem> buildDynamicMatmulProblem(DynamicMatmulOp op,
                                             int64_t lanes) {
  Location loc = op.getLoc();
  if (!isStatic(op))
    return notLowered(loc, "its shapes are not static");
  // The verifier ensures 2-D operands, symmetric 8-bit weights and a wide
  // or 8-bit per-tensor result.
  int64_t m = op.getType().getDimSize(0), n = op.getType().getDimSize(1);
  int64_t k = op.getLhs().getType().getDimSize(1);
  Problem p = matmulGeometry(m, n, k, lanes);
  // An asymmetric input is u8 as vpdpbusd reads it.
  p.signedInput = !op.getAsymmetric();
  FailureOr<SmallVector<int8_t>> values = getInt8Constant(loc, op.getRhs());
  if (failed(values))
    return failure();
  FailureOr<SmallVector<int64_t>> bias = getBias(loc, op.getBias(), n);
  if (failed(bias))
    return failure();
  bool transposed = op.getTransposeRhs();
  auto weight = [&](int64_t, int64_t c, int64_t f) {
    return (*values)[transposed ? f * k + c : c * n + f];
  };
  // The int64 bias joins after the int32 dot product (8.3): the
  // accumulators start at the flip's correction alone (0 for u8 input).
  if (failed(packWeights(p, k, weight, SmallVector<int64_t>(n, 0),
                         /*inputZeroPoint=*/0, loc)))
    return failure();
  Problem::Dynamic dynamic;
  if (op.getAsymmetric()) {
    // |sum| <= 2^30 / 255 (myquant-quantize's condition for asymmetric).
    dynamic.weightSums.assign(p.paddedChannels, 0);
    for (int64_t f = 0; f < n; ++f)
      for (int64_t c = 0; c < k; ++c)
        dynamic.weightSums[f] += weight(0, c, f);
  }
  FailureOr<Epilogue> epilogue =
      buildEpilogue(op, RoundingMode::Single, p.paddedChannels);
  if (failed(epilogue))
    return failure();
  p.epilogue = std::move(*epilogue);
  p.epilogue.highHalf = false;
  bias->resize(p.paddedChannels, 0);
  dynamic.bias = std::move(*bias);
  p.dynamic = std::move(dynamic);
  return p;
}

} // namespace myquant::vnni
