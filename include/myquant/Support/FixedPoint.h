//===- FixedPoint.h - Integer-only fixed-point requantization ---*- C++ -*-===//
//
// Numeric reference for int8 integer-only requantization. A real multiplier M
// is represented as an int32 multiplier and a right-shift count, and an int32
// accumulator is rescaled with one of two rounding schemes:
//
//  * Single:   one rounding, round-half-up (toward +inf) of value * M0 / 2^s.
//  * Gemmlowp: the TFLite/gemmlowp MultiplyByQuantizedMultiplier sequence
//              (saturating left shift, SaturatingRoundingDoublingHighMul,
//              RoundingDivideByPOT); it rounds twice and may differ from Single
//              by one LSB. Unlike TFLite it saturates instead of overflowing.
//
// This file deliberately depends only on the C++ standard library so that it
// can be shared by the compiler passes, the runtime and the tests.
//
//===----------------------------------------------------------------------===//

#ifndef MYQUANT_SUPPORT_FIXEDPOINT_H
#define MYQUANT_SUPPORT_FIXEDPOINT_H

#include <cstdint>
#include <optional>

namespace myquant::fixedpoint {

enum class RoundingMode { Single, Gemmlowp };

/// Largest right-shift count a QuantizedMultiplier may carry. Keeps
/// value * multiplier + rounding term within int64 for the Single scheme and
/// the second Gemmlowp shift within [0, 31].
constexpr int32_t kMaxShift = 62;

/// Real multiplier M represented as M ~= multiplier * 2^-shift.
struct QuantizedMultiplier {
  /// In [2^30, 2^31) normally; smaller (possibly 0) only when shift is capped
  /// at kMaxShift.
  int32_t multiplier;
  /// Right-shift count, in [0, kMaxShift].
  int32_t shift;

  bool operator==(const QuantizedMultiplier &other) const {
    return multiplier == other.multiplier && shift == other.shift;
  }
  bool operator!=(const QuantizedMultiplier &other) const {
    return !(*this == other);
  }
};

/// Returns std::nullopt when M is not finite, M <= 0, or M (after rounding)
/// >= 2^31.
std::optional<QuantizedMultiplier> quantizeMultiplier(double realMultiplier);

/// gemmlowp primitives (exposed for tests and for the numeric spec).
/// Returns round-half-up(a * b / 2^31); INT32_MIN * INT32_MIN saturates to
/// INT32_MAX.
int32_t saturatingRoundingDoublingHighMul(int32_t a, int32_t b);
/// Returns x / 2^exponent rounded half away from zero; exponent in [0, 31].
int32_t roundingDivideByPOT(int32_t x, int exponent);

/// Requantization of an int32 accumulator by the multiplier; result saturated
/// to int32.
int32_t applyMultiplierSingle(int32_t value, QuantizedMultiplier qm);
int32_t applyMultiplierGemmlowp(int32_t value, QuantizedMultiplier qm);
int32_t applyMultiplier(int32_t value, QuantizedMultiplier qm,
                        RoundingMode mode);

/// Full requantization to an integer range: applyMultiplier, + zeroPoint
/// (saturating int32), then clamp to [qmin, qmax].
int32_t requantize(int32_t value, QuantizedMultiplier qm, RoundingMode mode,
                   int32_t zeroPoint, int32_t qmin, int32_t qmax);

} // namespace myquant::fixedpoint

#endif // MYQUANT_SUPPORT_FIXEDPOINT_H
