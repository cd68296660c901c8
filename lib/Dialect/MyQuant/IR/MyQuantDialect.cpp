//===- MyQuantDialect.cpp - myquant dialect, attributes and verifiers -----===//

#include "myquant/Dialect/MyQuant/IR/MyQuantDialect.h"
#include "myquant/Dialect/MyQuant/IR/MyQuantInterfaces.h"
#include "myquant/Dialect/MyQuant/IR/MyQuantOps.h"
#include "myquant/Dialect/MyQuant/IR/MyQuantTypeUtils.h"

#include "myquant/Support/FixedPoint.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/InterleavedRange.h"

#include <cmath>

using namespace mlir;
using namespace myquant;

#include "myquant/Dialect/MyQuant/IR/MyQuantDialect.cpp.inc"
#include "myquant/Dialect/MyQuant/IR/MyQuantEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "myquant/Dialect/MyQuant/IR/MyQuantAttrs.cpp.inc"

#include "myquant/Dialect/MyQuant/IR/MyQuantInterfaces.cpp.inc"

#define GET_OP_CLASSES
#include "myquant/Dialect/MyQuant/IR/MyQuantOps.cpp.inc"

void MyQuantDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "myquant/Dialect/MyQuant/IR/MyQuantAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "myquant/Dialect/MyQuant/IR/MyQuantOps.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

LogicalResult RescaleAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                  ArrayRef<int32_t> multiplier,
                                  ArrayRef<int32_t> shift, RoundingMode) {
  if (multiplier.empty())
    return emitError() << "rescale needs at least one multiplier";
  if (multiplier.size() != shift.size())
    return emitError() << "rescale has " << multiplier.size()
                       << " multipliers but " << shift.size() << " shifts";
  for (auto [m, s] : llvm::zip_equal(multiplier, shift)) {
    if (m < 0)
      return emitError() << "rescale multiplier " << m << " is negative";
    if (s < 0 || s > fixedpoint::kMaxShift)
      return emitError() << "rescale shift " << s << " is outside [0, "
                         << fixedpoint::kMaxShift << "]";
  }
  return success();
}

LogicalResult ClampAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                int64_t min, int64_t max) {
  if (min > max)
    return emitError() << "clamp lower bound " << min
                       << " is above its upper bound " << max;
  return success();
}

//===----------------------------------------------------------------------===//
// Shared verification helpers
//===----------------------------------------------------------------------===//

static QuantParams paramsOf(Type type) { return *getQuantParams(type); }
static QuantParams paramsOf(Value value) { return paramsOf(value.getType()); }

/// Checks that a per-axis type's quantized dimension exists and has one
/// scale per slice.
static LogicalResult verifyPerAxisShape(Operation *op, Type type,
                                        StringRef what) {
  std::optional<QuantParams> params = getQuantParams(type);
  if (!params) {
    if (isa<quant::QuantizedType>(getElementTypeOrSelf(type)))
      return op->emitOpError() << what
                               << " must have a uniform quantized element "
                                  "type, per tensor or per axis";
    return success();
  }
  if (params->isPerTensor())
    return success();
  auto shaped = cast<ShapedType>(type);
  int64_t axis = *params->axis;
  if (axis < 0 || axis >= shaped.getRank())
    return op->emitOpError() << what << " is quantized along dimension " << axis
                             << " but has rank " << shaped.getRank();
  int64_t dim = shaped.getDimSize(axis);
  if (!ShapedType::isDynamic(dim) &&
      dim != static_cast<int64_t>(params->scales.size()))
    return op->emitOpError()
           << what << " has " << params->scales.size()
           << " per-axis scales but dimension " << axis << " has size " << dim;
  return success();
}

static LogicalResult verifyPerTensor(Operation *op, Value value,
                                     StringRef what) {
  if (failed(verifyPerAxisShape(op, value.getType(), what)))
    return failure();
  if (!paramsOf(value).isPerTensor())
    return op->emitOpError() << what << " must be quantized per tensor";
  return success();
}

/// A rescale covers one channel or each of `channels` channels.
static LogicalResult verifyRescale(Operation *op, RescaleAttr rescale,
                                   int64_t channels, StringRef name) {
  if (!rescale || rescale.size() == 1 || ShapedType::isDynamic(channels) ||
      static_cast<int64_t>(rescale.size()) == channels)
    return success();
  InFlightDiagnostic diag = op->emitOpError()
                            << "'" << name << "' has " << rescale.size()
                            << " entries; expected 1";
  if (channels != 1)
    diag << " or " << channels;
  return diag;
}

static LogicalResult verifyClampBounds(Operation *op, ClampAttr clamp,
                                       Value result) {
  if (!clamp)
    return success();
  QuantParams params = paramsOf(result);
  if (clamp.getMin() < params.storageMin || clamp.getMax() > params.storageMax)
    return op->emitOpError()
           << "clamp bounds [" << clamp.getMin() << ", " << clamp.getMax()
           << "] exceed the result's storage range [" << params.storageMin
           << ", " << params.storageMax << "]";
  return success();
}

/// Checks kernel, stride, padding and dilation values (ODS checks their
/// counts) and the output size of each spatial dimension they produce.
static LogicalResult
verifyWindow(Operation *op, ArrayRef<int64_t> inSizes, ArrayRef<int64_t> kernel,
             ArrayRef<int64_t> strides, ArrayRef<int64_t> padding,
             ArrayRef<int64_t> dilations, ArrayRef<int64_t> outSizes) {
  for (unsigned i = 0; i < 2; ++i) {
    if ((kernel[i] <= 0 && !ShapedType::isDynamic(kernel[i])) ||
        strides[i] <= 0 || dilations[i] <= 0)
      return op->emitOpError(
          "kernel sizes, strides and dilations must be positive");
  }
  if (llvm::any_of(padding, [](int64_t p) { return p < 0; }))
    return op->emitOpError("padding must be non-negative");
  for (unsigned i = 0; i < 2; ++i) {
    if (ShapedType::isDynamic(inSizes[i]) || ShapedType::isDynamic(kernel[i]))
      continue;
    int64_t padded = inSizes[i] + padding[i] + padding[i + 2];
    int64_t window = dilations[i] * (kernel[i] - 1) + 1;
    if (padded < window)
      return op->emitOpError()
             << "window of extent " << window << " exceeds the padded "
             << (i == 0 ? "height" : "width") << " " << padded;
    int64_t expected = (padded - window) / strides[i] + 1;
    if (!ShapedType::isDynamic(outSizes[i]) && outSizes[i] != expected)
      return op->emitOpError()
             << "result " << (i == 0 ? "height" : "width") << " is "
             << outSizes[i] << " but the window gives " << expected;
  }
  return success();
}

/// A bias has one int32 entry per output channel; a quantized bias has scale
/// `inputScale * weightScale[c]` and zero point 0.
static LogicalResult verifyBias(Operation *op, Value bias, int64_t channels,
                                const QuantParams &input,
                                const QuantParams &weight) {
  if (!bias)
    return success();
  auto biasType = cast<RankedTensorType>(bias.getType());
  if (biasType.getRank() != 1 ||
      (!biasType.isDynamicDim(0) && !ShapedType::isDynamic(channels) &&
       biasType.getDimSize(0) != channels))
    return op->emitOpError()
           << "bias must have shape [" << channels << "], got " << biasType;
  if (failed(verifyPerAxisShape(op, biasType, "bias")))
    return failure();
  std::optional<QuantParams> params = getQuantParams(biasType);
  if (!params)
    return success(); // Raw i32, accepted by the type constraint.
  if (params->storageWidth != 32)
    return op->emitOpError() << "bias must have 32-bit storage, got "
                             << params->storageWidth << "-bit";
  size_t biasCount = params->scales.size(), weightCount = weight.scales.size();
  if (biasCount > 1 && weightCount > 1 && biasCount != weightCount)
    return op->emitOpError() << "bias has " << biasCount
                             << " scales but the weights have " << weightCount;
  for (int64_t zp : params->zeroPoints)
    if (zp != 0)
      return op->emitOpError() << "bias zero point must be 0, got " << zp;
  // A per-tensor side is compared with every channel of the other side.
  for (size_t c = 0, e = std::max(biasCount, weightCount); c < e; ++c) {
    double biasScale = params->scales[biasCount == 1 ? 0 : c];
    double expected = input.scales[0] * weight.scales[weightCount == 1 ? 0 : c];
    if (std::abs(biasScale - expected) > 1e-6 * expected)
      return op->emitOpError()
             << "bias scale " << biasScale << " (channel " << c
             << ") must equal input scale * weight scale = " << expected;
  }
  return success();
}

/// Empty tensors have nothing to quantize, and the kernels index their
/// first element.
static LogicalResult verifyNotEmpty(Operation *op, Value value,
                                    StringRef what) {
  auto type = cast<ShapedType>(value.getType());
  if (llvm::is_contained(type.getShape(), 0))
    return op->emitOpError() << what << " " << type << " is empty";
  return success();
}

/// Weights quantized per group of K (docs/NumericSpec.md 7.2): groups along
/// `reductionDim` (none: the op takes no groups) that divide it, one scale
/// per channel and group, and scales that are multiples 1 to 2^8 of the
/// channel's unit scale.
static LogicalResult verifyGroups(Operation *op, Value weight,
                                  std::optional<int64_t> reductionDim,
                                  StringRef what) {
  std::optional<GroupScales> groups = getGroupScales(weight.getType());
  if (!groups)
    return success();
  if (!reductionDim)
    return op->emitOpError()
           << what << " is quantized per group; only a 2-D matmul rhs can be";
  if (groups->groupAxis != *reductionDim)
    return op->emitOpError()
           << what << " is quantized in groups along dimension "
           << groups->groupAxis << "; they must cut its K dimension "
           << *reductionDim;
  auto type = cast<ShapedType>(weight.getType());
  int64_t k = type.getDimSize(*reductionDim);
  int64_t size = groups->groupSize;
  if (k % size != 0)
    return op->emitOpError() << what << " has K = " << k
                             << ", not a multiple of the group size " << size;
  if (groups->groups != k / size ||
      groups->channels != type.getDimSize(groups->channelAxis))
    return op->emitOpError()
           << what << " has " << groups->channels << " x " << groups->groups
           << " group scales; its shape needs "
           << type.getDimSize(groups->channelAxis) << " x " << k / size;
  int64_t maxMultiplier = int64_t(1) << kGroupScaleBits;
  auto scales = cast<quant::UniformQuantizedSubChannelType>(
                    getElementTypeOrSelf(weight.getType()))
                    .getScales()
                    .getValues<APFloat>();
  for (int64_t c = 0; c < groups->channels; ++c)
    for (int64_t g = 0; g < groups->groups; ++g) {
      int64_t m = groups->multiplier(c, g);
      int64_t index = groups->channelAxis == 0 ? c * groups->groups + g
                                               : g * groups->channels + c;
      double ratio = scales[index].convertToDouble() / groups->unitScales[c];
      if (m < 1 || m > maxMultiplier ||
          std::abs(ratio - static_cast<double>(m)) > 1e-6 * m)
        return op->emitOpError()
               << what << " channel " << c << " group " << g
               << ": scale / (the channel's largest / " << maxMultiplier
               << ") is " << ratio << "; it must be an integer from 1 to "
               << maxMultiplier;
    }
  return success();
}

/// Weights quantized per axis are symmetric: every zero point is 0.
static LogicalResult verifyWeights(Operation *op, Value weight,
                                   int64_t channelDim, StringRef what,
                                   std::optional<int64_t> reductionDim = {}) {
  if (failed(verifyPerAxisShape(op, weight.getType(), what)) ||
      failed(verifyNotEmpty(op, weight, what)) ||
      failed(verifyGroups(op, weight, reductionDim, what)))
    return failure();
  QuantParams params = paramsOf(weight);
  if (params.isPerTensor())
    return success();
  if (*params.axis != channelDim)
    return op->emitOpError() << what
                             << " must be quantized along its output "
                                "channel dimension "
                             << channelDim << ", not " << *params.axis;
  if (llvm::any_of(params.zeroPoints, [](int64_t zp) { return zp != 0; }))
    return op->emitOpError()
           << what << " quantized per axis must be symmetric (zero point 0)";
  return success();
}

//===----------------------------------------------------------------------===//
// StatsOp
//===----------------------------------------------------------------------===//

LogicalResult StatsOp::verify() {
  ArrayRef<double> mins = getMin(), maxs = getMax();
  if (mins.empty() || mins.size() != maxs.size())
    return emitOpError() << "needs as many min as max values (at least one), "
                         << "got " << mins.size() << " and " << maxs.size();
  auto type = getInput().getType();
  if (std::optional<uint64_t> axis = getAxis()) {
    if (static_cast<int64_t>(*axis) >= type.getRank())
      return emitOpError() << "axis " << *axis << " is out of range for rank "
                           << type.getRank();
    int64_t dim = type.getDimSize(*axis);
    if (!ShapedType::isDynamic(dim) && dim != static_cast<int64_t>(mins.size()))
      return emitOpError() << "has " << mins.size() << " ranges but axis "
                           << *axis << " has size " << dim;
  } else if (mins.size() != 1) {
    return emitOpError() << "has " << mins.size()
                         << " ranges but no axis; per-tensor stats have one";
  }
  for (auto [i, lo, hi] : llvm::enumerate(mins, maxs)) {
    if (!std::isfinite(lo) || !std::isfinite(hi))
      return emitOpError() << "range " << i << " is not finite";
    if (lo > hi)
      return emitOpError() << "range " << i << " is inverted: min " << lo
                           << " > max " << hi;
  }
  if (std::optional<ArrayRef<int64_t>> histogram = getHistogram()) {
    if (getAxis())
      return emitOpError("a histogram needs per-tensor stats");
    if (histogram->empty())
      return emitOpError("histogram has no bins");
    if (llvm::any_of(*histogram, [](int64_t n) { return n < 0; }))
      return emitOpError("histogram counts must be non-negative");
  }
  return success();
}

//===----------------------------------------------------------------------===//
// QuantizeOp / DequantizeOp / RequantizeOp
//===----------------------------------------------------------------------===//

/// Shared by quantize and dequantize: the float side is the quantized
/// type's expressed type.
static LogicalResult verifyFloatQuantPair(Operation *op, Value floatValue,
                                          Value quantValue) {
  if (failed(verifyPerAxisShape(op, quantValue.getType(), "quantized type")))
    return failure();
  Type floatType = getElementTypeOrSelf(floatValue.getType());
  Type expressed = paramsOf(quantValue).expressedType;
  if (floatType != expressed)
    return op->emitOpError() << "float element type " << floatType
                             << " differs from the quantized type's "
                                "expressed type "
                             << expressed;
  return success();
}

LogicalResult QuantizeOp::verify() {
  if (failed(verifyFloatQuantPair(*this, getInput(), getResult())))
    return failure();
  if (paramsOf(getResult()).groupAxis)
    return emitOpError("cannot quantize per group at run time; weights "
                       "quantized per group are constants");
  return success();
}

LogicalResult DequantizeOp::verify() {
  return verifyFloatQuantPair(*this, getResult(), getInput());
}

/// Per-channel factors: finite, one per index of `factor_axis` (or a
/// single one), on a per-tensor operand, with one rescale entry each.
static LogicalResult verifyFactors(RequantizeOp op) {
  std::optional<ArrayRef<double>> factors = op.getFactors();
  std::optional<uint64_t> axis = op.getFactorAxis();
  if (!factors) {
    if (axis)
      return op.emitOpError("'factor_axis' needs 'factors'");
    return success();
  }
  if (op.getFactorAttr())
    return op.emitOpError("takes 'factor' or 'factors', not both");
  if (factors->empty())
    return op.emitOpError("'factors' is empty");
  for (double f : *factors)
    if (!std::isfinite(f))
      return op.emitOpError() << "factor " << f << " is not finite";
  if (failed(verifyPerTensor(op, op.getInput(), "input with 'factors'")))
    return failure();
  auto type = op.getInput().getType();
  if (axis && static_cast<int64_t>(*axis) >= type.getRank())
    return op.emitOpError()
           << "'factor_axis' " << *axis << " is not a dimension of the rank-"
           << type.getRank() << " input";
  int64_t count = static_cast<int64_t>(factors->size());
  int64_t expected = axis ? type.getDimSize(*axis) : 1;
  if (!ShapedType::isDynamic(expected) && count != expected)
    return op.emitOpError()
           << "has " << count << " factors; expected " << expected
           << (axis ? " (the size of 'factor_axis')"
                    : " without 'factor_axis'");
  if (RescaleAttr rescale = op.getRescaleAttr();
      rescale && static_cast<int64_t>(rescale.size()) != count)
    return op.emitOpError()
           << "'rescale' has " << rescale.size()
           << " entries; expected one per factor (" << count << ")";
  return success();
}

/// A constant scale folded into a rescale must be positive and finite.
static LogicalResult verifyFactor(Operation *op, FloatAttr factorAttr) {
  if (!factorAttr)
    return success();
  double factor = factorAttr.getValueAsDouble();
  if (!(factor > 0.0) || std::isinf(factor))
    return op->emitOpError()
           << "factor " << factor << " must be positive and finite";
  return success();
}

LogicalResult RequantizeOp::verify() {
  if (failed(verifyFactor(*this, getFactorAttr())))
    return failure();
  if (failed(verifyPerAxisShape(*this, getInput().getType(), "input")) ||
      failed(verifyPerTensor(*this, getResult(), "result")) ||
      failed(verifyFactors(*this)))
    return failure();
  // Per-channel factors have their own count of rescale entries.
  int64_t channels = paramsOf(getInput()).scales.size();
  if (!getFactors() &&
      failed(verifyRescale(*this, getRescaleAttr(), channels, "rescale")))
    return failure();
  return verifyClampBounds(*this, getClampAttr(), getResult());
}

//===----------------------------------------------------------------------===//
// Conv2DOp
//===----------------------------------------------------------------------===//

LogicalResult Conv2DOp::verify() {
  auto inputType = getInput().getType();
  auto filterType = getFilter().getType();
  auto resultType = getResult().getType();
  if (inputType.getRank() != 4 || filterType.getRank() != 4 ||
      resultType.getRank() != 4)
    return emitOpError() << "expects 4-D input, filter and result, got ranks "
                         << inputType.getRank() << ", " << filterType.getRank()
                         << " and " << resultType.getRank();
  LayoutDims d = getDims();
  if (failed(verifyNotEmpty(*this, getInput(), "input")) ||
      failed(verifyNotEmpty(*this, getResult(), "result")) ||
      failed(verifyPerTensor(*this, getInput(), "input")) ||
      failed(verifyPerTensor(*this, getResult(), "result")) ||
      failed(verifyWeights(*this, getFilter(), d.filterOut, "filter")))
    return failure();

  int64_t groups = getGroups();
  int64_t inC = inputType.getDimSize(d.channel);
  int64_t filterC = filterType.getDimSize(d.filterIn);
  int64_t outC = filterType.getDimSize(d.filterOut);
  if (!ShapedType::isDynamic(inC) && !ShapedType::isDynamic(filterC) &&
      inC != filterC * groups)
    return emitOpError() << "input has " << inC
                         << " channels but the filter expects " << filterC
                         << " x " << groups << " groups";
  if (!ShapedType::isDynamic(outC) && outC % groups != 0)
    return emitOpError() << "filter has " << outC
                         << " output channels, not a multiple of " << groups
                         << " groups";
  int64_t resultC = resultType.getDimSize(d.channel);
  if (!ShapedType::isDynamic(outC) && !ShapedType::isDynamic(resultC) &&
      outC != resultC)
    return emitOpError() << "result has " << resultC
                         << " channels but the filter produces " << outC;
  int64_t inN = inputType.getDimSize(d.batch);
  int64_t outN = resultType.getDimSize(d.batch);
  if (!ShapedType::isDynamic(inN) && !ShapedType::isDynamic(outN) &&
      inN != outN)
    return emitOpError() << "result batch " << outN
                         << " differs from input batch " << inN;
  SmallVector<int64_t, 2> kernel = {filterType.getDimSize(d.filterH),
                                    filterType.getDimSize(d.filterW)};
  if (failed(verifyWindow(
          *this,
          {inputType.getDimSize(d.height), inputType.getDimSize(d.width)},
          kernel, getStrides(), getPadding(), getDilations(),
          {resultType.getDimSize(d.height), resultType.getDimSize(d.width)})))
    return failure();
  if (failed(verifyBias(*this, getBias(), outC, paramsOf(getInput()),
                        paramsOf(getFilter()))) ||
      failed(verifyRescale(*this, getRescaleAttr(), outC, "rescale")))
    return failure();
  return verifyClampBounds(*this, getClampAttr(), getResult());
}

//===----------------------------------------------------------------------===//
// MatmulOp
//===----------------------------------------------------------------------===//

LogicalResult MatmulOp::verify() {
  if (failed(verifyFactor(*this, getFactorAttr())))
    return failure();
  auto lhsType = getLhs().getType();
  auto rhsType = getRhs().getType();
  auto resultType = getResult().getType();
  int64_t rank = lhsType.getRank();
  if ((rank != 2 && rank != 3) || rhsType.getRank() != rank ||
      resultType.getRank() != rank)
    return emitOpError() << "expects lhs, rhs and result of rank 2, or 3 when "
                            "batched, got "
                         << rank << ", " << rhsType.getRank() << " and "
                         << resultType.getRank();
  bool transposed = getTransposeRhs();
  int64_t nDim = transposed ? rank - 2 : rank - 1;
  int64_t kDim = transposed ? rank - 1 : rank - 2;
  if (failed(verifyNotEmpty(*this, getLhs(), "lhs")) ||
      failed(verifyNotEmpty(*this, getResult(), "result")) ||
      failed(verifyPerTensor(*this, getLhs(), "lhs")) ||
      failed(verifyPerTensor(*this, getResult(), "result")) ||
      failed(verifyWeights(*this, getRhs(), nDim, "rhs",
                           rank == 2 ? std::optional<int64_t>(kDim)
                                     : std::nullopt)))
    return failure();

  auto mismatch = [](int64_t a, int64_t b) {
    return !ShapedType::isDynamic(a) && !ShapedType::isDynamic(b) && a != b;
  };
  int64_t k = lhsType.getDimSize(rank - 1);
  int64_t rhsK = rhsType.getDimSize(kDim);
  if (mismatch(k, rhsK))
    return emitOpError() << "lhs has K = " << k << " but rhs has K = " << rhsK;
  int64_t n = rhsType.getDimSize(nDim);
  if (mismatch(lhsType.getDimSize(rank - 2), resultType.getDimSize(rank - 2)) ||
      mismatch(n, resultType.getDimSize(rank - 1)))
    return emitOpError() << "result type " << resultType
                         << " does not match the M x N of the operands";
  if (rank == 3 && (mismatch(lhsType.getDimSize(0), rhsType.getDimSize(0)) ||
                    mismatch(lhsType.getDimSize(0), resultType.getDimSize(0))))
    return emitOpError("batch dimensions of lhs, rhs and result differ");
  if (failed(verifyBias(*this, getBias(), n, paramsOf(getLhs()),
                        paramsOf(getRhs()))) ||
      failed(verifyRescale(*this, getRescaleAttr(), n, "rescale")))
    return failure();
  return verifyClampBounds(*this, getClampAttr(), getResult());
}

LogicalResult DynamicMatmulOp::verify() {
  auto lhsType = getLhs().getType();
  auto rhsType = getRhs().getType();
  auto resultType = getResult().getType();
  if (lhsType.getRank() != 2 || rhsType.getRank() != 2 ||
      resultType.getRank() != 2)
    return emitOpError() << "expects lhs, rhs and result of rank 2, got "
                         << lhsType.getRank() << ", " << rhsType.getRank()
                         << " and " << resultType.getRank();
  bool transposed = getTransposeRhs();
  int64_t nDim = transposed ? 0 : 1;
  if (failed(verifyNotEmpty(*this, getLhs(), "lhs")) ||
      failed(verifyNotEmpty(*this, getResult(), "result")) ||
      failed(verifyPerTensor(*this, getLhs(), "lhs")) ||
      failed(verifyPerTensor(*this, getResult(), "result")) ||
      failed(verifyWeights(*this, getRhs(), nDim, "rhs")))
    return failure();
  QuantParams lhs = paramsOf(getLhs()), rhs = paramsOf(getRhs());
  if (!isWideActivationType(lhsType))
    return emitOpError() << "lhs must be a wide value (32-bit storage, zero "
                            "point 0), got "
                         << lhs.storageWidth << "-bit storage and zero point "
                         << lhs.zeroPoints[0];
  if (lhs.storageMin < -kWideActivationMax)
    return emitOpError() << "lhs storage minimum is " << lhs.storageMin
                         << "; wide values stop at " << -kWideActivationMax
                         << " so that |lhs| fits int32";
  if (rhs.storageWidth != 8 || rhs.storageMin < -kDynamicQMax ||
      llvm::any_of(rhs.zeroPoints, [](int64_t zp) { return zp != 0; }))
    return emitOpError() << "rhs must be symmetric int8 weights in [-127, "
                            "127] with zero point 0, got "
                         << rhs.storageWidth << "-bit storage from "
                         << rhs.storageMin;
  int64_t k = lhsType.getDimSize(1);
  int64_t rhsK = rhsType.getDimSize(transposed ? 1 : 0);
  auto mismatch = [](int64_t a, int64_t b) {
    return !ShapedType::isDynamic(a) && !ShapedType::isDynamic(b) && a != b;
  };
  if (mismatch(k, rhsK))
    return emitOpError() << "lhs has K = " << k << " but rhs has K = " << rhsK;
  int64_t n = rhsType.getDimSize(nDim);
  if (mismatch(lhsType.getDimSize(0), resultType.getDimSize(0)) ||
      mismatch(n, resultType.getDimSize(1)))
    return emitOpError() << "result type " << resultType
                         << " does not match the M x N of the operands";
  if (Value bias = getBias()) {
    auto biasType = cast<RankedTensorType>(bias.getType());
    if (biasType.getRank() != 1 || mismatch(biasType.getDimSize(0), n))
      return emitOpError() << "bias must have N = " << n
                           << " entries, got type " << biasType;
  }
  if (RescaleAttr rescale = getRescaleAttr();
      rescale && rescale.getRounding() != RoundingMode::Single)
    return emitOpError() << "rescale must round 'single' (the int64 "
                            "accumulator of docs/NumericSpec.md 8.3)";
  if (failed(verifyRescale(*this, getRescaleAttr(), n, "rescale")))
    return failure();
  return verifyClampBounds(*this, getClampAttr(), getResult());
}

//===----------------------------------------------------------------------===//
// Element-wise ops
//===----------------------------------------------------------------------===//

/// Element-wise binary ops: everything per tensor.
/// Per-tensor operands of the result's rank whose dimensions are the
/// result's or broadcast from 1, and a result no larger than that.
static LogicalResult verifyElementwiseShapes(Operation *op, Value lhs,
                                             Value rhs, Value result) {
  auto resultType = cast<RankedTensorType>(result.getType());
  auto lhsType = cast<RankedTensorType>(lhs.getType());
  auto rhsType = cast<RankedTensorType>(rhs.getType());
  for (auto [type, name] :
       {std::pair(lhsType, "lhs"), std::pair(rhsType, "rhs")})
    if (type.getRank() != resultType.getRank())
      return op->emitOpError()
             << name << " has rank " << type.getRank()
             << " but the result has rank " << resultType.getRank();
  for (int64_t d = 0; d < resultType.getRank(); ++d) {
    int64_t a = lhsType.getDimSize(d), b = rhsType.getDimSize(d);
    int64_t r = resultType.getDimSize(d);
    if (ShapedType::isDynamic(a) || ShapedType::isDynamic(b) ||
        ShapedType::isDynamic(r))
      continue;
    int64_t broadcast = a == 1 ? b : a;
    if ((a != 1 && b != 1 && a != b) || broadcast != r)
      return op->emitOpError()
             << "operand sizes " << a << " and " << b << " in dimension " << d
             << " do not broadcast to the result's " << r;
  }
  return success();
}

static LogicalResult verifyElementwiseBinary(Operation *op, Value lhs,
                                             Value rhs, Value result) {
  if (failed(verifyPerTensor(op, lhs, "lhs")) ||
      failed(verifyPerTensor(op, rhs, "rhs")) ||
      failed(verifyPerTensor(op, result, "result")))
    return failure();
  return verifyElementwiseShapes(op, lhs, rhs, result);
}

/// An add's operand or result may be per-axis along the last dimension
/// (a per-channel LayerNorm input, docs/NumericSpec.md 6.6): one zero point,
/// no broadcast along that dimension.
static LogicalResult verifyAddValue(AddOp op, Value value, StringRef what) {
  if (failed(verifyPerAxisShape(op, value.getType(), what)))
    return failure();
  QuantParams p = paramsOf(value);
  if (p.isPerTensor())
    return success();
  auto type = cast<RankedTensorType>(value.getType());
  if (*p.axis != type.getRank() - 1 || p.groupSize != 0 ||
      type.getShape().back() != op.getType().getShape().back())
    return op.emitOpError()
           << what << " is quantized along dimension " << *p.axis
           << "; an add takes per-tensor values or values quantized along "
              "the result's last dimension";
  for (auto [c, zp] : llvm::enumerate(p.zeroPoints))
    if (zp != p.zeroPoints[0])
      return op.emitOpError()
             << what << " has zero point " << zp << " in channel " << c
             << " but " << p.zeroPoints[0]
             << " in channel 0; per-channel values of an "
                "add share one zero point";
  return success();
}

LogicalResult AddOp::verify() {
  if (failed(verifyAddValue(*this, getLhs(), "lhs")) ||
      failed(verifyAddValue(*this, getRhs(), "rhs")) ||
      failed(verifyAddValue(*this, getResult(), "result")))
    return failure();
  // The shapes as an element-wise op's, whatever the quantization.
  if (failed(verifyElementwiseShapes(*this, getLhs(), getRhs(), getResult())))
    return failure();
  int present = getLeftShift().has_value() + bool(getLhsRescaleAttr()) +
                bool(getRhsRescaleAttr()) + bool(getRescaleAttr());
  if (present != 0 && present != 4)
    return emitOpError("'left_shift', 'lhs_rescale', 'rhs_rescale' and "
                       "'rescale' go together: give all or none");
  // (x - zp) * 2^left_shift is an int32 (docs/NumericSpec.md 3.2, 6.4).
  int64_t leftShift = getLeftShift().value_or(kAddLeftShift);
  Value operands[] = {getLhs(), getRhs()};
  for (auto [i, operand] : llvm::enumerate(operands)) {
    int64_t maxAbs = paramsOf(operand).maxCentered();
    if ((maxAbs << leftShift) > INT32_MAX)
      return emitOpError() << "operand #" << i << " minus its zero point "
                           << "reaches " << maxAbs << ", which shifted left by "
                           << leftShift << " is " << (maxAbs << leftShift)
                           << ", beyond int32 (16-bit operands take "
                           << kAddLeftShift16 << ")";
  }
  // One rescale per channel of a per-channel value.
  auto channelsOf = [](Value v) -> int64_t {
    QuantParams p = paramsOf(v);
    return p.isPerTensor() ? 1 : static_cast<int64_t>(p.scales.size());
  };
  for (auto [attr, name, value] :
       {std::tuple(getLhsRescaleAttr(), "lhs_rescale", getLhs()),
        std::tuple(getRhsRescaleAttr(), "rhs_rescale", getRhs()),
        std::tuple(getRescaleAttr(), "rescale", getResult())})
    if (failed(verifyRescale(*this, attr, channelsOf(value), name)))
      return failure();
  return verifyClampBounds(*this, getClampAttr(), getResult());
}

LogicalResult MulOp::verify() {
  if (failed(verifyElementwiseBinary(*this, getLhs(), getRhs(), getResult())) ||
      failed(verifyRescale(*this, getRescaleAttr(), 1, "rescale")))
    return failure();
  QuantParams lhs = paramsOf(getLhs()), rhs = paramsOf(getRhs());
  for (auto [width, name] :
       {std::pair(lhs.storageWidth, "lhs"), std::pair(rhs.storageWidth, "rhs"),
        std::pair(paramsOf(getResult()).storageWidth, "result")}) {
    if (width != 8 && width != 16)
      return emitOpError() << name << " must have 8- or 16-bit storage, got "
                           << width << "-bit";
  }
  // The product of the centered operands is an int32 (docs/NumericSpec.md
  // 3.3): at most 32767^2 for two 16-bit values of 6.1.
  int64_t lhsMax = lhs.maxCentered();
  int64_t rhsMax = rhs.maxCentered();
  if (lhsMax * rhsMax > INT32_MAX)
    return emitOpError() << "the operands minus their zero points reach "
                         << lhsMax << " and " << rhsMax << ", whose product "
                         << lhsMax * rhsMax << " is beyond int32";
  return verifyClampBounds(*this, getClampAttr(), getResult());
}

LogicalResult ClampOp::verify() {
  if (failed(verifyPerTensor(*this, getInput(), "input")))
    return failure();
  return verifyClampBounds(*this, getBounds(), getResult());
}

LogicalResult TableOp::verify() {
  if (failed(verifyPerTensor(*this, getInput(), "input")) ||
      failed(verifyPerTensor(*this, getResult(), "result")))
    return failure();
  QuantParams in = paramsOf(getInput());
  QuantParams out = paramsOf(getResult());
  if (!isTableInput(in))
    return emitOpError() << "input must have 8-bit or signed 16-bit storage, "
                            "got "
                         << (in.isSigned ? "" : "unsigned ") << in.storageWidth
                         << "-bit";
  size_t entries = getTableSamplePoints(in).size();
  if (getValues().size() != entries)
    return emitOpError() << "table has " << getValues().size()
                         << " entries; the input's storage range needs "
                         << entries;
  for (auto [i, v] : llvm::enumerate(getValues()))
    if (v < out.storageMin || v > out.storageMax)
      return emitOpError() << "table entry " << i << " = " << v
                           << " is outside the result's storage range ["
                           << out.storageMin << ", " << out.storageMax << "]";
  return success();
}

//===----------------------------------------------------------------------===//
// SoftmaxOp
//===----------------------------------------------------------------------===//

/// An op over rows along the last dimension, per tensor, rank 1 or more. Its
/// input has 8-bit storage, or 16-bit where `wideInput` (layer normalization
/// and softmax, docs/NumericSpec.md 6.4); its result 8-bit, or 16-bit where
/// `int16Result` (softmax, 6.4), or a wide value where `wideResult` (a layer
/// normalization that a dynamic matmul reads, 8.5).
static LogicalResult verifyRowOp(Operation *op, Value input, Value result,
                                 bool wideInput = false,
                                 bool wideResult = false,
                                 bool int16Result = false) {
  if (failed(verifyPerTensor(op, input, "input")) ||
      failed(verifyPerTensor(op, result, "result")))
    return failure();
  QuantParams in = paramsOf(input), out = paramsOf(result);
  bool inputOk = in.storageWidth == 8 || (wideInput && in.storageWidth == 16);
  bool resultOk = out.storageWidth == 8 ||
                  (int16Result && out.storageWidth == 16) ||
                  (wideResult && isWideActivationType(result.getType()));
  if (!inputOk || !resultOk)
    return op->emitOpError()
           << "input and result must have "
           << (wideInput ? "8- or 16-bit" : "8-bit") << " and "
           << (int16Result ? "8- or 16-bit" : "8-bit")
           << (wideResult ? " (or wide 32-bit)" : "") << " storage, got "
           << in.storageWidth << "-bit and " << out.storageWidth << "-bit";
  if (cast<RankedTensorType>(input.getType()).getRank() == 0)
    return op->emitOpError("needs an input of rank 1 or more");
  return success();
}

LogicalResult SoftmaxOp::verify() {
  if (failed(verifyRowOp(*this, getInput(), getResult(), /*wideInput=*/true,
                         /*wideResult=*/false, /*int16Result=*/true)))
    return failure();
  QuantParams in = paramsOf(getInput());
  QuantParams out = paramsOf(getResult());
  // [0, 1) spans the 8-bit storage range from its minimum, and the
  // non-negative half of the symmetric 16-bit one (docs/NumericSpec.md 6.4).
  bool int16Result = out.storageWidth == 16;
  double scale = std::ldexp(1.0, -getSoftmaxOutputBits(out.storageWidth));
  int64_t zeroPoint = int16Result ? 0 : out.storageMin;
  if (out.scales[0] != scale || out.zeroPoints[0] != zeroPoint)
    return emitOpError() << "result must have scale " << scale
                         << " and zero point " << zeroPoint
                         << (int16Result ? "" : " (its storage minimum)")
                         << ", got scale " << out.scales[0]
                         << " and zero point " << out.zeroPoints[0];
  // A 16-bit input computes its exponentials (docs/NumericSpec.md 6.4):
  // d * multiplier < 2^16 * 2^31 is exact in int64 and the polynomial
  // keeps every e in [0, 2^16] with e = 2^16 at the row's maximum.
  if (in.storageWidth == 16) {
    if (getExpTableAttr())
      return emitOpError("takes no exp_table with a 16-bit input; its "
                         "exponential is computed (exp_rescale)");
    RescaleAttr rescale = getExpRescaleAttr();
    if (rescale && (rescale.size() != 1 || rescale.getMultiplier()[0] <= 0 ||
                    rescale.getRounding() != RoundingMode::Single))
      return emitOpError() << "exp_rescale must be one positive multiplier "
                              "with single rounding, got "
                           << rescale;
    return success();
  }
  if (getExpRescaleAttr())
    return emitOpError("takes no exp_rescale with an 8-bit input; its "
                       "exponential is the exp_table");
  if (!getExpTableAttr())
    return emitOpError("needs an exp_table with an 8-bit input");
  int64_t entries = in.storageMax - in.storageMin + 1;
  ArrayRef<int32_t> table = *getExpTable();
  if (static_cast<int64_t>(table.size()) != entries)
    return emitOpError() << "exp_table has " << table.size()
                         << " entries; the input's storage range needs "
                         << entries;
  // exp_table[0] = 2^16 keeps every row's sum at least 2^16 (its largest
  // element contributes it), so the reciprocal is at most 2^24 and each
  // product e * R at most 2^40.
  int64_t one = int64_t(1) << kSoftmaxExpBits;
  if (table[0] != one)
    return emitOpError() << "exp_table[0] = " << table[0] << " must be " << one;
  for (auto [i, v] : llvm::enumerate(table))
    if (v < 0 || v > one)
      return emitOpError() << "exp_table entry " << i << " = " << v
                           << " is outside [0, " << one << "]";
  return success();
}

SmallVector<RescaleSlot> SoftmaxOp::getRescaleSlots() {
  QuantParams in = paramsOf(getInput());
  if (in.storageWidth != 16)
    return {};
  return {{getExpRescaleAttrName(),
           getExpRescaleAttr(),
           {getSoftmaxExpMultiplier(in.scales[0])}}};
}

//===----------------------------------------------------------------------===//
// LayerNormOp
//===----------------------------------------------------------------------===//

int64_t LayerNormOp::getNormInputBits() {
  return getInputShifts() ? 16 : paramsOf(getInput()).storageWidth;
}

/// A per-channel input's scales are `s * 2^input_shifts[c]`.
static LogicalResult verifyLayerNormInputShifts(LayerNormOp op) {
  auto type = cast<RankedTensorType>(op.getInput().getType());
  if (failed(verifyPerAxisShape(op, type, "input")))
    return failure();
  QuantParams in = paramsOf(type);
  int64_t bad = -1;
  FailureOr<SmallVector<int64_t>> shifts =
      getLayerNormInputShifts(in, type.getRank(), bad);
  if (failed(shifts) && bad < 0)
    return op.emitOpError() << "input with 'input_shifts' must be 8-bit and "
                               "quantized along its last dimension";
  if (failed(shifts))
    return op.emitOpError()
           << "input with 'input_shifts': channel " << bad << " has scale "
           << in.scales[bad] << " and zero point " << in.zeroPoints[bad]
           << "; each must be " << *llvm::min_element(in.scales)
           << " * 2^a (a in 0.." << kLayerNormMaxInputShift
           << ") with zero point " << in.zeroPoints[0];
  if (*shifts != ArrayRef<int64_t>(*op.getInputShifts()))
    return op.emitOpError()
           << "input_shifts " << llvm::interleaved_array(*op.getInputShifts())
           << " do not match the input's scales, which give "
           << llvm::interleaved_array(*shifts);
  return success();
}

LogicalResult LayerNormOp::verify() {
  if (getInputShifts()) {
    if (failed(verifyLayerNormInputShifts(*this)) ||
        failed(verifyPerTensor(*this, getResult(), "result")))
      return failure();
    if (paramsOf(getResult()).storageWidth != 8)
      return emitOpError() << "result must have 8-bit storage, got "
                           << paramsOf(getResult()).storageWidth << "-bit";
  } else if (failed(verifyRowOp(*this, getInput(), getResult(),
                                /*wideInput=*/true, /*wideResult=*/true))) {
    return failure();
  }
  int64_t channels =
      cast<RankedTensorType>(getInput().getType()).getShape().back();
  int64_t inputBits = getNormInputBits();
  if (channels > getLayerNormMaxChannels(inputBits))
    return emitOpError() << "normalizes rows of " << channels
                         << " elements; at most "
                         << getLayerNormMaxChannels(inputBits)
                         << " are supported with a " << inputBits << "-bit"
                         << (getInputShifts() ? " (per-channel)" : "")
                         << " input";
  if (static_cast<int64_t>(getGamma().size()) != channels ||
      static_cast<int64_t>(getBeta().size()) != channels)
    return emitOpError() << "has " << getGamma().size() << " gamma and "
                         << getBeta().size() << " beta entries for rows of "
                         << channels;
  int64_t epsilon = getEpsilonAttr().getInt();
  if (epsilon < 0 || epsilon > kLayerNormMaxEpsilon)
    return emitOpError() << "epsilon " << epsilon << " is outside [0, 2^60]";
  // The bound of the affine map's int64 sum, in double: entries near 2^62
  // are far beyond any useful scale, so its rounding does not matter.
  for (auto [i, g] : llvm::enumerate(getGamma())) {
    double bound = std::fabs(static_cast<double>(g)) *
                       std::ldexp(1.0, kLayerNormUnitBits + 1) +
                   std::fabs(static_cast<double>(getBeta()[i]));
    if (bound > static_cast<double>(kLayerNormMaxAffine))
      return emitOpError() << "channel " << i
                           << ": |gamma| * 2^17 + |beta| = " << bound
                           << " is beyond 2^62";
  }
  return success();
}

//===----------------------------------------------------------------------===//
// ConcatOp
//===----------------------------------------------------------------------===//

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one input");
  auto resultType = getResult().getType();
  int64_t rank = resultType.getRank();
  uint64_t dim = getDim();
  if (static_cast<int64_t>(dim) >= rank)
    return emitOpError() << "dim " << dim << " is out of range for rank "
                         << rank;
  if (failed(verifyPerTensor(*this, getResult(), "result")))
    return failure();
  int64_t concatSize = 0;
  for (auto [i, input] : llvm::enumerate(getInputs())) {
    auto type = cast<RankedTensorType>(input.getType());
    // A hint beats ODS's generic element type message here.
    if (type.getElementType() != resultType.getElementType())
      return emitOpError() << "input #" << i << " has element type "
                           << type.getElementType() << " but the result has "
                           << resultType.getElementType()
                           << "; requantize it first";
    if (type.getRank() != rank)
      return emitOpError() << "input #" << i << " has rank " << type.getRank()
                           << ", expected " << rank;
    for (int64_t d = 0; d < rank; ++d) {
      int64_t size = type.getDimSize(d);
      if (d == static_cast<int64_t>(dim)) {
        concatSize =
            ShapedType::isDynamic(size) || ShapedType::isDynamic(concatSize)
                ? ShapedType::kDynamic
                : concatSize + size;
        continue;
      }
      int64_t expected = resultType.getDimSize(d);
      if (!ShapedType::isDynamic(size) && !ShapedType::isDynamic(expected) &&
          size != expected)
        return emitOpError()
               << "input #" << i << " has size " << size << " in dimension "
               << d << ", expected " << expected;
    }
  }
  int64_t resultSize = resultType.getDimSize(dim);
  if (!ShapedType::isDynamic(concatSize) &&
      !ShapedType::isDynamic(resultSize) && concatSize != resultSize)
    return emitOpError() << "result has size " << resultSize << " in dimension "
                         << dim << " but the inputs add up to " << concatSize;
  return success();
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

/// Pools keep batch and channels and slide a window over height and width.
static LogicalResult verifyPool(Operation *op, Value input, Value result,
                                Layout layout, ArrayRef<int64_t> kernel,
                                ArrayRef<int64_t> strides,
                                ArrayRef<int64_t> padding,
                                ArrayRef<int64_t> dilations) {
  auto inType = cast<RankedTensorType>(input.getType());
  auto outType = cast<RankedTensorType>(result.getType());
  if (inType.getRank() != 4 || outType.getRank() != 4)
    return op->emitOpError("expects 4-D input and result");
  if (failed(verifyPerTensor(op, input, "input")) ||
      failed(verifyPerTensor(op, result, "result")))
    return failure();
  LayoutDims d = getLayoutDims(layout);
  for (unsigned dim : {d.batch, d.channel}) {
    int64_t a = inType.getDimSize(dim), b = outType.getDimSize(dim);
    if (!ShapedType::isDynamic(a) && !ShapedType::isDynamic(b) && a != b)
      return op->emitOpError() << "pooling keeps batch and channels, but "
                                  "dimension "
                               << dim << " changes from " << a << " to " << b;
  }
  return verifyWindow(
      op, {inType.getDimSize(d.height), inType.getDimSize(d.width)}, kernel,
      strides, padding, dilations,
      {outType.getDimSize(d.height), outType.getDimSize(d.width)});
}

LogicalResult MaxPool2DOp::verify() {
  if (getInput().getType().getElementType() !=
      getResult().getType().getElementType())
    return emitOpError("input and result must share one quantized type; max "
                       "pooling does not rescale");
  return verifyPool(*this, getInput(), getResult(), getLayout(), getKernel(),
                    getStrides(), getPadding(), getDilations());
}

LogicalResult AvgPool2DOp::verify() {
  const int64_t unitDilations[] = {1, 1};
  if (failed(verifyPool(*this, getInput(), getResult(), getLayout(),
                        getKernel(), getStrides(), getPadding(),
                        unitDilations)) ||
      failed(verifyClampBounds(*this, getClampAttr(), getResult())))
    return failure();
  LayoutDims dims = getLayoutDims(getLayout());
  ArrayRef<int64_t> shape = getResult().getType().getShape();
  int64_t positions = shape[dims.height] * shape[dims.width];
  if (std::optional<ArrayRef<int64_t>> divisors = getDivisors()) {
    if (!ShapedType::isDynamic(positions) &&
        static_cast<int64_t>(divisors->size()) != positions)
      return emitOpError() << "'divisors' has " << divisors->size()
                           << " entries; expected one per output position ("
                           << positions << ")";
    if (llvm::any_of(*divisors, [](int64_t d) { return d <= 0; }))
      return emitOpError("'divisors' must be positive");
    return verifyRescale(*this, getRescaleAttr(), positions, "rescale");
  }
  if (failed(verifyRescale(*this, getRescaleAttr(), 1, "rescale")))
    return failure();
  // One multiplier folds in the window size, which must then be the same
  // for every window.
  if (llvm::any_of(getPadding(), [](int64_t p) { return p != 0; }) &&
      !getCountIncludePad())
    return emitOpError("padding needs 'count_include_pad' or 'divisors': "
                       "windows of different sizes cannot share one "
                       "multiplier");
  return success();
}

//===----------------------------------------------------------------------===//
// Folders
//===----------------------------------------------------------------------===//

OpFoldResult QuantizeOp::fold(FoldAdaptor) {
  auto dequantize = getInput().getDefiningOp<DequantizeOp>();
  if (dequantize && dequantize.getInput().getType() == getType())
    return dequantize.getInput();
  return {};
}

/// Whether `clamp` leaves every storage value of `type` as it is.
static bool coversStorage(ClampAttr clamp, Type type) {
  QuantParams params = paramsOf(type);
  return !clamp || (clamp.getMin() <= params.storageMin &&
                    clamp.getMax() >= params.storageMax);
}

OpFoldResult RequantizeOp::fold(FoldAdaptor) {
  // Between equal types the real multiplier is 1, which both roundings
  // apply exactly as 2^30 * 2^-30.
  if (getInput().getType() != getType() || getFactorAttr() || getFactors() ||
      !coversStorage(getClampAttr(), getType()))
    return {};
  RescaleAttr rescale = getRescaleAttr();
  if (rescale && (rescale.getMultiplier() != ArrayRef<int32_t>{1 << 30} ||
                  rescale.getShift() != ArrayRef<int32_t>{30}))
    return {};
  return getInput();
}

OpFoldResult ClampOp::fold(FoldAdaptor) {
  if (coversStorage(getBounds(), getType()))
    return getInput();
  return {};
}

//===----------------------------------------------------------------------===//
// RescaleOpInterface and WindowOpInterface
//===----------------------------------------------------------------------===//

namespace myquant {

LayoutDims getLayoutDims(Layout layout) {
  if (layout == Layout::NCHW)
    return {0, 1, 2, 3, 0, 1, 2, 3};
  return {0, 3, 1, 2, 3, 2, 0, 1};
}

SmallVector<double> getProductMultipliers(Type lhs, Type rhs, Type result) {
  QuantParams a = paramsOf(lhs), b = paramsOf(rhs), out = paramsOf(result);
  size_t channels = std::max(a.scales.size(), b.scales.size());
  SmallVector<double> reals;
  for (size_t c = 0; c < channels; ++c)
    reals.push_back(a.scales[a.scales.size() == 1 ? 0 : c] *
                    b.scales[b.scales.size() == 1 ? 0 : c] / out.scales[0]);
  return reals;
}

std::optional<GroupScales> getGroupScales(Type type) {
  auto sub = dyn_cast<quant::UniformQuantizedSubChannelType>(
      getElementTypeOrSelf(type));
  if (!sub)
    return std::nullopt;
  auto scales = sub.getScales();
  auto shape = cast<ShapedType>(scales.getType()).getShape();
  // Symmetric weights only.
  if (shape.size() != 2 ||
      llvm::any_of(sub.getZeroPoints().getValues<APInt>(),
                   [](const APInt &zp) { return !zp.isZero(); }))
    return std::nullopt;
  GroupScales result;
  for (auto [axis, size] : sub.getBlockSizeInfo()) {
    if (size == 1 && result.channelAxis < 0)
      result.channelAxis = axis;
    else if (size > 1 && result.groupAxis < 0) {
      result.groupAxis = axis;
      result.groupSize = size;
    } else
      return std::nullopt;
  }
  if (result.channelAxis < 0 || result.groupAxis < 0 ||
      result.channelAxis + result.groupAxis != 1)
    return std::nullopt;
  result.channels = shape[result.channelAxis];
  result.groups = shape[result.groupAxis];
  SmallVector<double> values =
      llvm::map_to_vector(scales.getValues<APFloat>(),
                          [](const APFloat &v) { return v.convertToDouble(); });
  auto at = [&](int64_t c, int64_t g) {
    return values[result.channelAxis == 0 ? c * result.groups + g
                                          : g * result.channels + c];
  };
  for (int64_t c = 0; c < result.channels; ++c) {
    double largest = 0.0;
    for (int64_t g = 0; g < result.groups; ++g)
      largest = std::max(largest, at(c, g));
    double unit = std::ldexp(largest, -kGroupScaleBits);
    result.unitScales.push_back(unit);
    for (int64_t g = 0; g < result.groups; ++g)
      result.multipliers.push_back(
          unit > 0.0 ? static_cast<int64_t>(std::nearbyint(at(c, g) / unit))
                     : 0);
  }
  return result;
}

SmallVector<double> getRequantizeMultipliers(Type input, Type result) {
  double outScale = paramsOf(result).scales[0];
  SmallVector<double> reals;
  for (double scale : paramsOf(input).scales)
    reals.push_back(scale / outScale);
  return reals;
}

LogicalResult encodeRescales(RescaleOpInterface op, RoundingMode rounding,
                             Operation *reportAt) {
  for (RescaleSlot &slot : op.getRescaleSlots()) {
    FailureOr<RescaleAttr> rescale =
        buildRescale(reportAt, slot.reals, rounding);
    if (failed(rescale))
      return failure();
    op->setAttr(slot.name, *rescale);
  }
  return success();
}

} // namespace myquant

SmallVector<RescaleSlot> RequantizeOp::getRescaleSlots() {
  SmallVector<double> reals =
      getRequantizeMultipliers(getInput().getType(), getType());
  if (FloatAttr factor = getFactorAttr())
    for (double &real : reals)
      real *= factor.getValueAsDouble();
  // The sign of a factor negates the operand (getFactorSigns), so the
  // multiplier is the magnitude: (s_in / s_out) * |f|.
  if (std::optional<ArrayRef<double>> factors = getFactors())
    reals = llvm::map_to_vector(
        *factors, [&](double f) { return std::fabs(reals[0] * f); });
  return {{getRescaleAttrName(), getRescaleAttr(), reals}};
}

SmallVector<int32_t> RequantizeOp::getFactorSigns() {
  std::optional<ArrayRef<double>> factors = getFactors();
  if (!factors)
    return {1};
  return llvm::map_to_vector(*factors,
                             [](double f) { return f < 0.0 ? -1 : 1; });
}

SmallVector<RescaleSlot> Conv2DOp::getRescaleSlots() {
  return {{getRescaleAttrName(), getRescaleAttr(),
           getProductMultipliers(getInput().getType(), getFilter().getType(),
                                 getType())}};
}

SmallVector<int64_t, 2> Conv2DOp::getWindowSizes() {
  LayoutDims dims = getLayoutDims(getLayout());
  ArrayRef<int64_t> filter = getFilter().getType().getShape();
  return {filter[dims.filterH], filter[dims.filterW]};
}

SmallVector<RescaleSlot> MatmulOp::getRescaleSlots() {
  SmallVector<double> reals =
      getProductMultipliers(getLhs().getType(), getRhs().getType(), getType());
  if (FloatAttr factor = getFactorAttr())
    for (double &real : reals)
      real *= factor.getValueAsDouble();
  return {{getRescaleAttrName(), getRescaleAttr(), reals}};
}

SmallVector<RescaleSlot> DynamicMatmulOp::getRescaleSlots() {
  // docs/NumericSpec.md 8.3: (s_in * s_w[c]) / (127 * s_out), 255 for an
  // asymmetric input.
  QuantParams in = paramsOf(getLhs()), w = paramsOf(getRhs()),
              out = paramsOf(getResult());
  double denominator =
      static_cast<double>(getAsymmetric() ? kDynamicUQMax : kDynamicQMax) *
      out.scales[0];
  SmallVector<double> reals;
  for (double scale : w.scales)
    reals.push_back(in.scales[0] * scale / denominator);
  return {{getRescaleAttrName(), getRescaleAttr(), reals}};
}

SmallVector<RescaleSlot> MulOp::getRescaleSlots() {
  return {{getRescaleAttrName(), getRescaleAttr(),
           getProductMultipliers(getLhs().getType(), getRhs().getType(),
                                 getType())}};
}

SmallVector<RescaleSlot> AddOp::getRescaleSlots() {
  // A per-channel value (docs/NumericSpec.md 6.6) has a multiplier per
  // channel, all against the largest operand scale.
  QuantParams lhs = paramsOf(getLhs()), rhs = paramsOf(getRhs()),
              result = paramsOf(getResult());
  double twiceMax = getAddCommonScale(*llvm::max_element(lhs.scales),
                                      *llvm::max_element(rhs.scales));
  int64_t leftShift = getLeftShift().value_or(kAddLeftShift);
  auto operandReals = [&](ArrayRef<double> scales) {
    return llvm::map_to_vector(scales,
                               [&](double scale) { return scale / twiceMax; });
  };
  SmallVector<double> resultReals =
      llvm::map_to_vector(result.scales, [&](double scale) {
        return twiceMax / (std::ldexp(1.0, leftShift) * scale);
      });
  return {
      {getLhsRescaleAttrName(), getLhsRescaleAttr(), operandReals(lhs.scales)},
      {getRhsRescaleAttrName(), getRhsRescaleAttr(), operandReals(rhs.scales)},
      {getRescaleAttrName(), getRescaleAttr(), resultReals}};
}

SmallVector<RescaleSlot> AvgPool2DOp::getRescaleSlots() {
  // The window size folds into the multiplier: one rounding per average.
  ArrayRef<int64_t> kernel = getKernel();
  double inScale = paramsOf(getInput()).scales[0];
  double outScale = paramsOf(getResult()).scales[0];
  SmallVector<double> reals;
  if (std::optional<ArrayRef<int64_t>> divisors = getDivisors()) {
    for (int64_t divisor : *divisors)
      reals.push_back(inScale / (outScale * static_cast<double>(divisor)));
  } else {
    reals.push_back(inScale / (outScale * static_cast<double>(kernel[0]) *
                               static_cast<double>(kernel[1])));
  }
  return {{getRescaleAttrName(), getRescaleAttr(), reals}};
}
