//===- MyQuantTypeUtils.cpp - helpers over quant element types ------------===//

#include "myquant/Dialect/MyQuant/IR/MyQuantTypeUtils.h"
#include "myquant/Dialect/MyQuant/IR/MyQuantInterfaces.h"
#include "myquant/Support/FixedPoint.h"

#include "mlir/IR/TypeUtilities.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <cmath>

using namespace mlir;

namespace myquant {

std::optional<int64_t> staticElementCount(ShapedType type) {
  int64_t count = 1;
  for (int64_t dim : type.getShape())
    if (llvm::MulOverflow(count, dim, count))
      return std::nullopt;
  return count;
}

LogicalResult verifyWeightCount(Operation *op, ShapedType weights) {
  std::optional<int64_t> count = staticElementCount(weights);
  if (count && *count >= 1 && *count <= kMaxWeightElements)
    return success();
  InFlightDiagnostic diag = op->emitOpError() << "has weights of ";
  if (!count)
    diag << "more than 2^63";
  else
    diag << *count;
  return diag << " elements; supported: 1 to 2^30 (weights are expanded at "
                 "compile time)";
}

quant::QuantizedType getQuantElementType(Type type) {
  if (auto shaped = dyn_cast<ShapedType>(type))
    type = shaped.getElementType();
  if (isa<quant::UniformQuantizedType, quant::UniformQuantizedPerAxisType,
          quant::UniformQuantizedSubChannelType>(type))
    return cast<quant::QuantizedType>(type);
  return {};
}

std::optional<QuantParams> getQuantParams(Type type) {
  quant::QuantizedType qtype = getQuantElementType(type);
  if (!qtype)
    return std::nullopt;
  QuantParams params;
  params.storageWidth = qtype.getStorageTypeIntegralWidth();
  params.isSigned = qtype.isSigned();
  params.storageMin = qtype.getStorageTypeMin();
  params.storageMax = qtype.getStorageTypeMax();
  params.expressedType = qtype.getExpressedType();
  if (auto perTensor = dyn_cast<quant::UniformQuantizedType>(qtype)) {
    params.scales.push_back(perTensor.getScale());
    params.zeroPoints.push_back(perTensor.getZeroPoint());
    return params;
  }
  if (isa<quant::UniformQuantizedSubChannelType>(qtype)) {
    std::optional<GroupScales> groups = getGroupScales(type);
    if (!groups)
      return std::nullopt;
    params.scales = groups->unitScales;
    params.zeroPoints.assign(groups->channels, 0);
    params.axis = groups->channelAxis;
    params.groupAxis = groups->groupAxis;
    params.groupSize = groups->groupSize;
    return params;
  }
  auto perAxis = cast<quant::UniformQuantizedPerAxisType>(qtype);
  params.scales.assign(perAxis.getScales().begin(), perAxis.getScales().end());
  params.zeroPoints.assign(perAxis.getZeroPoints().begin(),
                           perAxis.getZeroPoints().end());
  params.axis = perAxis.getQuantizedDimension();
  return params;
}

AffineQParams computeActivationQParams(double lo, double hi, int64_t qmin,
                                       int64_t qmax) {
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  double scale = (hi - lo) / static_cast<double>(qmax - qmin);
  if (scale == 0.0)
    scale = 1.0;
  int64_t zeroPoint = qmin - static_cast<int64_t>(std::nearbyint(lo / scale));
  return {scale, std::clamp(zeroPoint, qmin, qmax)};
}

quant::UniformQuantizedType getActivationType(Type expressedType, double lo,
                                              double hi, bool isSigned) {
  MLIRContext *ctx = expressedType.getContext();
  int64_t qmin = isSigned ? -128 : 0, qmax = isSigned ? 127 : 255;
  AffineQParams params = computeActivationQParams(lo, hi, qmin, qmax);
  return quant::UniformQuantizedType::get(
      isSigned ? quant::QuantizationFlags::Signed : 0, IntegerType::get(ctx, 8),
      expressedType, params.scale, params.zeroPoint, qmin, qmax);
}

quant::UniformQuantizedType getInt16ActivationType(Type expressedType,
                                                   double lo, double hi,
                                                   double headroom) {
  double amax = headroom * std::max(std::abs(lo), std::abs(hi));
  double scale = amax == 0.0 ? 1.0 : amax / kInt16ActivationMax;
  return quant::UniformQuantizedType::get(
      quant::QuantizationFlags::Signed,
      IntegerType::get(expressedType.getContext(), 16), expressedType, scale, 0,
      -kInt16ActivationMax, kInt16ActivationMax);
}

quant::UniformQuantizedType getWideActivationType(Type expressedType, double lo,
                                                  double hi) {
  double amax = std::max(std::abs(lo), std::abs(hi));
  double scale =
      amax == 0.0 ? 1.0 : amax / static_cast<double>(1 << kWideFractionBits);
  return quant::UniformQuantizedType::get(
      quant::QuantizationFlags::Signed,
      IntegerType::get(expressedType.getContext(), 32), expressedType, scale, 0,
      -kWideActivationMax, kWideActivationMax);
}

bool isWideActivationType(Type type) {
  auto element =
      dyn_cast<quant::UniformQuantizedType>(getElementTypeOrSelf(type));
  return element && element.getStorageTypeIntegralWidth() == 32 &&
         element.getZeroPoint() == 0;
}

int64_t quantizeScalar(double x, const QuantParams &params) {
  double q = std::nearbyint(x / params.scales[0]) + params.zeroPoints[0];
  return static_cast<int64_t>(
      std::clamp(q, static_cast<double>(params.storageMin),
                 static_cast<double>(params.storageMax)));
}

bool isTableInput(const QuantParams &in) {
  return in.storageWidth == 8 || (in.storageWidth == 16 && in.isSigned);
}

SmallVector<int64_t> getTableSamplePoints(const QuantParams &in) {
  SmallVector<int64_t> points;
  if (in.storageWidth == 16) {
    for (int64_t i = 0; i < kTable16Entries; ++i)
      points.push_back(kTable16Origin + (i << kTable16StepBits));
    return points;
  }
  for (int64_t q = in.storageMin; q <= in.storageMax; ++q)
    points.push_back(q);
  return points;
}

FailureOr<RescaleAttr> buildRescale(Operation *op, ArrayRef<double> reals,
                                    RoundingMode rounding) {
  SmallVector<int32_t> multipliers, shifts;
  for (double real : reals) {
    // Only a zero factor (a requantize's `factors`) gives 0: every product
    // is then 0, under either rounding.
    if (real == 0.0) {
      multipliers.push_back(0);
      shifts.push_back(0);
      continue;
    }
    std::optional<fixedpoint::QuantizedMultiplier> qm =
        fixedpoint::quantizeMultiplier(real);
    if (!qm)
      return op->emitOpError()
             << "real multiplier " << real
             << " has no fixed-point form (it must be in (0, 2^31))";
    multipliers.push_back(qm->multiplier);
    shifts.push_back(qm->shift);
  }
  return RescaleAttr::get(op->getContext(), multipliers, shifts, rounding);
}

double getAddCommonScale(double lhsScale, double rhsScale) {
  return 2 * std::max(lhsScale, rhsScale);
}

SmallVector<int32_t> getSoftmaxExpTable(double scale, int64_t entries) {
  SmallVector<int32_t> table;
  double one = std::ldexp(1.0, kSoftmaxExpBits);
  for (int64_t d = 0; d < entries; ++d)
    table.push_back(static_cast<int32_t>(
        std::nearbyint(one * std::exp(-scale * static_cast<double>(d)))));
  return table;
}

double getSoftmaxExpMultiplier(double inputScale) {
  // log2(e), the double nearest: exp(-s d) = 2^-(s d log2(e)).
  return inputScale * 1.4426950408889634;
}

int64_t getSoftmaxOutputBits(unsigned storageWidth) {
  return storageWidth == 16 ? kSoftmaxOutputBits16 : kSoftmaxOutputBits;
}

quant::UniformQuantizedType
getSoftmaxResultType(Type expressedType, bool isSigned, unsigned storageWidth) {
  MLIRContext *ctx = expressedType.getContext();
  if (storageWidth == 16)
    return quant::UniformQuantizedType::get(
        quant::QuantizationFlags::Signed, IntegerType::get(ctx, 16),
        expressedType, std::ldexp(1.0, -kSoftmaxOutputBits16), 0,
        -kInt16ActivationMax, kInt16ActivationMax);
  int64_t qmin = isSigned ? -128 : 0, qmax = isSigned ? 127 : 255;
  return quant::UniformQuantizedType::get(
      isSigned ? quant::QuantizationFlags::Signed : 0, IntegerType::get(ctx, 8),
      expressedType, std::ldexp(1.0, -kSoftmaxOutputBits), qmin, qmin, qmax);
}

FailureOr<SmallVector<int64_t>> getLayerNormInputShifts(const QuantParams &in,
                                                        int64_t rank,
                                                        int64_t &badChannel) {
  badChannel = -1;
  if (in.isPerTensor() || *in.axis != rank - 1 || in.groupSize != 0 ||
      in.storageWidth != 8)
    return failure();
  double base = *llvm::min_element(in.scales);
  SmallVector<int64_t> shifts;
  for (auto [c, scale] : llvm::enumerate(in.scales)) {
    // s * 2^a is exact in double: the ratio is a power of two exactly.
    int exponent = 0;
    double mantissa = std::frexp(scale / base, &exponent);
    if (mantissa != 0.5 || exponent - 1 > kLayerNormMaxInputShift ||
        in.zeroPoints[c] != in.zeroPoints[0]) {
      badChannel = static_cast<int64_t>(c);
      return failure();
    }
    shifts.push_back(exponent - 1);
  }
  return shifts;
}

FailureOr<LayerNormParams>
getLayerNormParams(Operation *op, ArrayRef<double> gamma, ArrayRef<double> beta,
                   double eps, double inputScale, double outputScale,
                   int64_t inputBits) {
  auto channels = static_cast<int64_t>(gamma.size());
  int64_t maxChannels = getLayerNormMaxChannels(inputBits);
  if (channels > maxChannels)
    return op->emitOpError()
           << "normalizes rows of " << channels << " elements; at most "
           << maxChannels << " are supported with a " << inputBits
           << "-bit input";
  auto c = static_cast<double>(channels);
  int64_t squaresShift = getLayerNormSquaresShift(inputBits);
  double epsilon = std::nearbyint(std::ldexp(c * c * c * eps, squaresShift) /
                                  (inputScale * inputScale));
  if (!(epsilon >= 0 && epsilon <= static_cast<double>(kLayerNormMaxEpsilon)))
    return op->emitOpError()
           << "eps " << eps << " is " << epsilon
           << " in units of the input's squared deviations (2^" << -squaresShift
           << " s_in^2 / C^3); supported: 0 to 2^60";
  LayerNormParams params;
  params.epsilon = static_cast<int64_t>(epsilon);
  double gammaScale =
      std::sqrt(c) / outputScale *
      std::ldexp(1.0, kLayerNormOutputShift - kLayerNormUnitBits);
  double betaScale = std::ldexp(1.0, kLayerNormOutputShift) / outputScale;
  for (auto [i, g] : llvm::enumerate(gamma)) {
    double qg = std::nearbyint(g * gammaScale);
    double qb = std::nearbyint(beta[i] * betaScale);
    double bound =
        std::fabs(qg) * std::ldexp(1.0, kLayerNormUnitBits + 1) + std::fabs(qb);
    if (!(bound <= static_cast<double>(kLayerNormMaxAffine)))
      return op->emitOpError()
             << "channel " << i << ": weight " << g << " and bias " << beta[i]
             << " are too large for output scale " << outputScale
             << " (|gamma| * 2^17 + |beta| = " << bound << " beyond 2^62)";
    params.gamma.push_back(static_cast<int64_t>(qg));
    params.beta.push_back(static_cast<int64_t>(qb));
  }
  return params;
}

} // namespace myquant
