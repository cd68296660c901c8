//===- FixedPoint.cpp - Integer-only fixed-point requantization -----------===//
//
// All intermediate products are formed in int64 and every narrowing goes
// through saturateToInt32, so no input can trigger signed-overflow UB.
//
//===----------------------------------------------------------------------===//

#include "myquant/Support/FixedPoint.h"

#include <cassert>
#include <cmath>
#include <limits>

using namespace myquant::fixedpoint;

namespace {
constexpr int32_t kInt32Min = std::numeric_limits<int32_t>::min();
constexpr int32_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr int64_t kTwoPow31 = int64_t(1) << 31;

int32_t saturateToInt32(int64_t x) {
  if (x < kInt32Min)
    return kInt32Min;
  if (x > kInt32Max)
    return kInt32Max;
  return static_cast<int32_t>(x);
}

[[maybe_unused]] bool isValidShift(int32_t shift) {
  return shift >= 0 && shift <= kMaxShift;
}
} // namespace

std::optional<QuantizedMultiplier>
myquant::fixedpoint::quantizeMultiplier(double realMultiplier) {
  // The !(x > 0) form also rejects NaN.
  if (!std::isfinite(realMultiplier) || !(realMultiplier > 0.0))
    return std::nullopt;

  int exponent = 0;
  double mantissa = std::frexp(realMultiplier, &exponent); // in [0.5, 1)
  // Scaling by a power of two is exact, so llround sees the true mantissa.
  long long m0 = std::llround(std::ldexp(mantissa, 31));
  if (m0 == kTwoPow31) {
    // The mantissa rounded up to 1.0; renormalize to keep m0 in int32.
    m0 = kTwoPow31 / 2;
    ++exponent;
  }
  // Compute in int64: exponent can be about -1074 for subnormal inputs.
  int64_t shift = 31 - int64_t(exponent);
  if (shift < 0)
    return std::nullopt;
  if (shift > kMaxShift) {
    // Too small for a normalized multiplier within kMaxShift; use the nearest
    // multiple of 2^-kMaxShift instead (0 for tiny M, which is still the
    // correctly rounded result for every int32 input).
    shift = kMaxShift;
    m0 = std::llround(std::ldexp(realMultiplier, kMaxShift));
  }
  return QuantizedMultiplier{static_cast<int32_t>(m0),
                             static_cast<int32_t>(shift)};
}

int32_t myquant::fixedpoint::saturatingRoundingDoublingHighMul(int32_t a,
                                                               int32_t b) {
  // The only product whose doubled high half does not fit in int32.
  if (a == kInt32Min && b == kInt32Min)
    return kInt32Max;
  int64_t ab = int64_t(a) * int64_t(b);
  // With truncating division this nudge yields floor((ab + 2^30) / 2^31),
  // i.e. round-half-up, matching ARM VQRDMULH.
  int64_t nudge = ab >= 0 ? (int64_t(1) << 30) : (1 - (int64_t(1) << 30));
  return static_cast<int32_t>((ab + nudge) / kTwoPow31);
}

int32_t myquant::fixedpoint::roundingDivideByPOT(int32_t x, int exponent) {
  assert(exponent >= 0 && exponent <= 31 && "exponent out of range");
  // int64 so that the mask and threshold are well-defined for exponent 31.
  int64_t wide = x;
  int64_t mask = (int64_t(1) << exponent) - 1;
  int64_t remainder = wide & mask;
  int64_t threshold = (mask >> 1) + (wide < 0 ? 1 : 0);
  // Relies on >> of a negative int64 being arithmetic (floor), which every
  // supported compiler guarantees (and C++20 mandates).
  return static_cast<int32_t>((wide >> exponent) +
                              (remainder > threshold ? 1 : 0));
}

int32_t myquant::fixedpoint::applyMultiplierSingle(int32_t value,
                                                   QuantizedMultiplier qm) {
  assert(isValidShift(qm.shift) && "shift out of range");
  // |value * multiplier| <= 2^62 and the rounding term is <= 2^61, so the sum
  // stays below 2^63.
  int64_t product = int64_t(value) * int64_t(qm.multiplier);
  int64_t round = qm.shift > 0 ? int64_t(1) << (qm.shift - 1) : 0;
  return saturateToInt32((product + round) >> qm.shift);
}

int32_t myquant::fixedpoint::applyMultiplierGemmlowp(int32_t value,
                                                     QuantizedMultiplier qm) {
  assert(isValidShift(qm.shift) && "shift out of range");
  int leftShift = qm.shift >= 31 ? 0 : 31 - qm.shift;
  int rightShift = qm.shift >= 31 ? qm.shift - 31 : 0;
  // Multiply instead of << (left-shifting a negative value is UB in C++17)
  // and saturate where TFLite would overflow.
  int32_t x = saturateToInt32(int64_t(value) * (int64_t(1) << leftShift));
  int32_t high = saturatingRoundingDoublingHighMul(x, qm.multiplier);
  return roundingDivideByPOT(high, rightShift);
}

int32_t myquant::fixedpoint::applyMultiplier(int32_t value,
                                             QuantizedMultiplier qm,
                                             RoundingMode mode) {
  switch (mode) {
  case RoundingMode::Single:
    return applyMultiplierSingle(value, qm);
  case RoundingMode::Gemmlowp:
    return applyMultiplierGemmlowp(value, qm);
  }
  assert(false && "unknown rounding mode");
  return 0;
}

int32_t myquant::fixedpoint::requantize(int32_t value, QuantizedMultiplier qm,
                                        RoundingMode mode, int32_t zeroPoint,
                                        int32_t qmin, int32_t qmax) {
  assert(qmin <= qmax && "empty clamp range");
  int32_t scaled = applyMultiplier(value, qm, mode);
  int32_t shifted = saturateToInt32(int64_t(scaled) + int64_t(zeroPoint));
  if (shifted < qmin)
    return qmin;
  if (shifted > qmax)
    return qmax;
  return shifted;
}
