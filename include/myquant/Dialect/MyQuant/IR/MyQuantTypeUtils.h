//===- MyQuantTypeUtils.h - helpers over quant element types ----*- C++ -*-===//
//
// Uniform accessors for per-tensor and per-axis quantized tensor types, used
// by the verifiers, the dry run and the lowering alike.
//
//===----------------------------------------------------------------------===//

#ifndef MYQUANT_DIALECT_MYQUANT_IR_MYQUANTTYPEUTILS_H
#define MYQUANT_DIALECT_MYQUANT_IR_MYQUANTTYPEUTILS_H

#include "myquant/Dialect/MyQuant/IR/MyQuantDialect.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/SmallVector.h"
#include <algorithm>
#include <cstdint>
#include <optional>

namespace myquant {

/// The quantization parameters of a tensor, flattened so that per-tensor
/// types are the one-channel case.
struct QuantParams {
  llvm::SmallVector<double> scales;
  llvm::SmallVector<int64_t> zeroPoints;
  /// The quantized dimension; std::nullopt for per-tensor.
  std::optional<int32_t> axis;
  /// Weights quantized per group of K (a sub-channel type,
  /// docs/NumericSpec.md 7.2): the dimension cut into groups of `groupSize`.
  /// `scales` are then the unit scales u[c] along `axis`, the scale of the
  /// integers `q * m[c, g]` that the arithmetic works with.
  std::optional<int32_t> groupAxis;
  int64_t groupSize = 0;
  unsigned storageWidth = 0;
  bool isSigned = true;
  int64_t storageMin = 0;
  int64_t storageMax = 0;
  mlir::Type expressedType;

  bool isPerTensor() const { return !axis.has_value(); }
  /// The largest |q - zp| over the storage range (the first zero point).
  int64_t maxCentered() const {
    return std::max(zeroPoints[0] - storageMin, storageMax - zeroPoints[0]);
  }
};

/// The most elements weights may have: the passes expand them element by
/// element at compile time (2^30: 1 GiB as int8).
constexpr int64_t kMaxWeightElements = int64_t(1) << 30;

/// The number of elements of a static shape, or none past 2^63 (where
/// ShapedType::getNumElements wraps: 2^40 x 2^30 came out as 2^30).
std::optional<int64_t> staticElementCount(mlir::ShapedType type);

/// Fails with an error at `op` unless the weights of type `weights` (static
/// shape) have between 1 and kMaxWeightElements elements.
mlir::LogicalResult verifyWeightCount(mlir::Operation *op,
                                      mlir::ShapedType weights);

/// Returns the uniform quantized element type of `type` (a shaped type or a
/// scalar), or null if it is not uniformly quantized.
mlir::quant::QuantizedType getQuantElementType(mlir::Type type);

/// Parameters of a per-tensor, per-axis or per-group (getGroupScales)
/// uniform quantized (tensor) type; std::nullopt for anything else.
std::optional<QuantParams> getQuantParams(mlir::Type type);

/// An affine scale and zero point.
struct AffineQParams {
  double scale;
  int64_t zeroPoint;
};

/// The parameters for real values in [lo, hi] stored in [qmin, qmax]: the
/// range is widened to contain 0 (so that zero is exact), scale (hi - lo) /
/// (qmax - qmin) (1.0 for an empty range), zero point qmin -
/// round_half_even(lo / scale). See docs/NumericSpec.md 1.1.
AffineQParams computeActivationQParams(double lo, double hi, int64_t qmin,
                                       int64_t qmax);

/// The per-tensor type of computeActivationQParams with 8-bit signed
/// [-128, 127] or unsigned [0, 255] storage.
mlir::quant::UniformQuantizedType getActivationType(mlir::Type expressedType,
                                                    double lo, double hi,
                                                    bool isSigned);

/// 16-bit activations (TFLite's 16x8 mode, docs/NumericSpec.md 6.1):
/// symmetric, zero point 0, storage [-32767, 32767], scale headroom *
/// max(|lo|, |hi|) / 32767 (1.0 when both are 0). The headroom widens the
/// calibrated range so that inputs beyond it do not clip; 16 bits have 48 dB
/// of resolution to spare over 8, and the default 2 spends 6 dB of them.
inline constexpr int64_t kInt16ActivationMax = 32767;
inline constexpr double kDefaultInt16RangeHeadroom = 2.0;
/// The headroom's bounds: below 1 it would clip the calibrated range, above
/// 128 a one-sided (relu'd) 16-bit value, which uses [0, 32767] only,
/// would be coarser than an 8-bit one.
inline constexpr double kMinInt16RangeHeadroom = 1.0;
inline constexpr double kMaxInt16RangeHeadroom = 128.0;
mlir::quant::UniformQuantizedType
getInt16ActivationType(mlir::Type expressedType, double lo, double hi,
                       double headroom);

/// Wide values of dynamic quantization (docs/NumericSpec.md 8.1): symmetric,
/// zero point 0, storage i32 [-(2^31 - 1), 2^31 - 1], scale max(|lo|, |hi|) /
/// 2^23 (1.0 when both are 0). The runtime int8 input of a dynamic matmul
/// has the range [-127, 127] (8.2), or [0, 255] with a runtime zero point
/// when asymmetric (8.2b), whose weights have 255 * sum |w[c]| <= 2^30
/// (8.3); its bias is int64 within 2^62 (8.3).
inline constexpr int64_t kWideFractionBits = 23;
inline constexpr int64_t kWideActivationMax = INT32_MAX;
inline constexpr int64_t kDynamicQMax = 127;
inline constexpr int64_t kDynamicUQMax = 255;
inline constexpr int64_t kDynamicAsymmetricSumMax = int64_t(1) << 30;
inline constexpr int64_t kDynamicMaxBias = int64_t(1) << 62;
mlir::quant::UniformQuantizedType
getWideActivationType(mlir::Type expressedType, double lo, double hi);
/// Whether `type` (a tensor or element type) is a wide value's type: per
/// tensor, 32-bit storage, zero point 0.
bool isWideActivationType(mlir::Type type);

/// The storage value of real `x` in a per-tensor type, clamped to the
/// storage range (round half to even, as in myquant.quantize).
int64_t quantizeScalar(double x, const QuantParams &params);

/// A table of a 16-bit input (docs/NumericSpec.md 3.8) holds the result at
/// every `2^kTable16StepBits`-th storage value from `kTable16Origin` (the
/// int16 minimum) up to 32768, `kTable16Entries` in all; the values in
/// between interpolate linearly between their two neighbours (TFLite's
/// int16 LUT grid).
inline constexpr int64_t kTable16StepBits = 7;
inline constexpr int64_t kTable16Origin = -32768;
inline constexpr int64_t kTable16Entries =
    (int64_t(1) << (16 - kTable16StepBits)) + 1;

/// Whether a table can read `in`: 8-bit storage, or signed 16-bit storage
/// (the int16 grid starts at the int16 minimum, 3.8).
bool isTableInput(const QuantParams &in);

/// The storage values of `in` (per tensor) at which a table holds its
/// entries, in order: each storage value of an 8-bit input, the
/// kTable16Entries grid points of a 16-bit one.
llvm::SmallVector<int64_t> getTableSamplePoints(const QuantParams &in);

/// Fixed-point forms of the real multipliers `reals` (one per channel).
/// Reports at `op` and fails when one has none (it must be in (0, 2^31)).
mlir::FailureOr<RescaleAttr> buildRescale(mlir::Operation *op,
                                          llvm::ArrayRef<double> reals,
                                          RoundingMode rounding);

/// The TFLite add scheme (docs/NumericSpec.md 3.2): each operand, minus its
/// zero point, is shifted left by `leftShift` bits (20 unless the op says
/// otherwise) and rescaled to twice the larger operand scale; the sum is
/// rescaled to the result scale.
inline constexpr int64_t kAddLeftShift = 20;
/// With a 16-bit operand: |x| <= 32767 < 2^15, so x * 2^15 < 2^30 (TFLite's
/// int16 add), where 2^20 would overflow int32.
inline constexpr int64_t kAddLeftShift16 = 15;
/// The common scale `2 * max(lhsScale, rhsScale)`: operand `x` is rescaled
/// by `s_x / common`, the sum by `common / (2^leftShift * s_out)` (one
/// multiplier per channel of a per-channel value, 6.6).
double getAddCommonScale(double lhsScale, double rhsScale);

/// Integer softmax (docs/NumericSpec.md 3.10): the exponentials are Q16
/// (`kSoftmaxExpBits`), the row's reciprocal `floor(2^40 / sum)`
/// (`kSoftmaxReciprocalBits`), and the result has scale 2^-8, or 2^-15
/// with 16-bit storage (`kSoftmaxOutputBits16`, 6.4).
inline constexpr int64_t kSoftmaxExpBits = 16;
inline constexpr int64_t kSoftmaxReciprocalBits = 40;
inline constexpr int64_t kSoftmaxOutputBits = 8;
inline constexpr int64_t kSoftmaxOutputBits16 = 15;

/// The softmax's exponential table for an input of scale `scale` with
/// `entries` storage values: entry d is round_half_even(2^16 * exp(-scale *
/// d)), computed in double.
llvm::SmallVector<int32_t> getSoftmaxExpTable(double scale, int64_t entries);

/// The softmax's result type: with `storageWidth` 8, scale 2^-8 and zero
/// point the storage minimum of signed [-128, 127] or unsigned [0, 255]
/// storage; with 16, the symmetric int16 type of 6.1 with scale 2^-15
/// (probabilities in [0, 32767]).
mlir::quant::UniformQuantizedType
getSoftmaxResultType(mlir::Type expressedType, bool isSigned,
                     unsigned storageWidth = 8);

/// The fractional bits of a softmax result of `storageWidth` bits: 8 or 15.
int64_t getSoftmaxOutputBits(unsigned storageWidth);

/// Integer softmax of a 16-bit input (docs/NumericSpec.md 6.4): the
/// exponential `2^-t`, `t = d * s_in * log2(e)`, computed without a table.
/// `t` comes from the exact product `d * M0` with the binary point at
/// `shift` (the rescale of `getSoftmaxExpMultiplier`); its fraction, in Q30
/// (`kSoftmaxExpFractionBits`), goes through the polynomial
/// `kSoftmaxExpPolynomial` (Horner, Q30 coefficients of degree 0 upward,
/// `2^-u` on [0, 1) to 2.1e-6), its integer part is a right shift, at most
/// `kSoftmaxExpMaxShift` (any larger one gives 0 as well).
inline constexpr int64_t kSoftmaxExpFractionBits = 30;
inline constexpr int64_t kSoftmaxExpPolynomial[] = {
    1073741824, -744187941, 257211659, -57311493, 7419127};
inline constexpr int64_t kSoftmaxExpMaxShift = 48;

/// The real multiplier `s_in * log2(e)` of a 16-bit softmax input's
/// distances to its row maximum, as a rescale slot encodes it.
double getSoftmaxExpMultiplier(double inputScale);

/// Integer layer normalization (docs/NumericSpec.md 3.11, 6.4): the
/// normalized value has `kLayerNormUnitBits` fractional bits, the affine map
/// `kLayerNormOutputShift`; the sum of squares carries `kLayerNormEpsBits`
/// fractional bits for eps (an 8-bit input) or drops that many (a 16-bit
/// one: getLayerNormSquaresShift). Rows have at most
/// getLayerNormMaxChannels elements and `epsilon` is at most
/// `kLayerNormMaxEpsilon`, so that the sum stays below 2^61.
inline constexpr int64_t kLayerNormUnitBits = 16;
inline constexpr int64_t kLayerNormOutputShift = 24;
inline constexpr int64_t kLayerNormEpsBits = 8;
inline constexpr int64_t kLayerNormMaxChannels = 4096;
inline constexpr int64_t kLayerNormMaxEpsilon = int64_t(1) << 60;
/// |u| < 2^17, so `|gamma| * 2^17 + |beta| <= 2^62` bounds the affine
/// map's int64 sum.
inline constexpr int64_t kLayerNormMaxAffine = int64_t(1) << 62;

/// The binary exponent applied to the sum of squared deviations for an
/// input of `inputBits` storage: 8 (8-bit) or -8 (16-bit: the sum is then up
/// to 2^63 and must shrink to leave room for eps below 2^61).
inline int64_t getLayerNormSquaresShift(int64_t inputBits) {
  return inputBits == 16 ? -kLayerNormEpsBits : kLayerNormEpsBits;
}

/// The longest row for an input of `inputBits` storage: C^3 * 128^2 and
/// C^3 * 32767^2 bound the sum of squares, which must stay below 2^59 and
/// 2^63 respectively.
inline int64_t getLayerNormMaxChannels(int64_t inputBits) {
  return inputBits == 16 ? kLayerNormMaxChannels / 2 : kLayerNormMaxChannels;
}

/// Per-channel layer normalization inputs (`norm-input-scales=per-channel`,
/// docs/NumericSpec.md 6.6): channel `c` of the last dimension has scale
/// `s * 2^shift[c]` with `0 <= shift[c] <= kLayerNormMaxInputShift` and one
/// zero point, so `(x - zp) << shift[c]` is the input in units of `s`: at
/// most `255 * 2^7 < 32767` from the zero point, a 16-bit input's range.
inline constexpr int64_t kLayerNormMaxInputShift = 7;

/// The shifts of a per-axis layer normalization input `in` (8-bit,
/// quantized along its last dimension of `rank`), `s = min scale`. Fails
/// with `badChannel` the first channel whose scale is not `s` times a power
/// of two in range or whose zero point is not channel 0's, or -1 where `in`
/// is not an 8-bit input quantized along its last dimension.
mlir::FailureOr<llvm::SmallVector<int64_t>>
getLayerNormInputShifts(const QuantParams &in, int64_t rank,
                        int64_t &badChannel);

/// The precomputed integers of a layer normalization over `channels`.
struct LayerNormParams {
  llvm::SmallVector<int64_t> gamma, beta;
  int64_t epsilon;
};

/// `gamma[c] = round_half_even(g[c] * sqrt(C) / s_out * 2^8)`, `beta[c] =
/// round_half_even(b[c] / s_out * 2^24)`, `epsilon = round_half_even(2^a *
/// C^3 * eps / s_in^2)` with `a = getLayerNormSquaresShift(inputBits)`, in
/// double. Reports at `op` and fails when a value is beyond the bounds
/// above.
mlir::FailureOr<LayerNormParams>
getLayerNormParams(mlir::Operation *op, llvm::ArrayRef<double> gamma,
                   llvm::ArrayRef<double> beta, double eps, double inputScale,
                   double outputScale, int64_t inputBits);

} // namespace myquant

#endif // MYQUANT_DIALECT_MYQUANT_IR_MYQUANTTYPEUTILS_H
