//===- FixedPointTest.cpp - Tests for integer-only requantization ---------===//
//
// Every primitive is checked against an exact 128-bit rational reference that
// is computed by a different route (floor division + explicit tie handling)
// than the shift/nudge tricks used by the implementation.
//
//===----------------------------------------------------------------------===//

#include "myquant/Support/FixedPoint.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <ostream>
#include <random>
#include <vector>

namespace myquant::fixedpoint {
// Lets gtest print multipliers readably instead of as raw bytes.
void PrintTo(const QuantizedMultiplier &qm, std::ostream *os) {
  *os << "{multiplier=" << qm.multiplier << ", shift=" << qm.shift << "}";
}
} // namespace myquant::fixedpoint

using namespace myquant::fixedpoint;

namespace {

__extension__ using Int128 = __int128;

constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax = std::numeric_limits<int32_t>::max();
constexpr int32_t kTwoPow30 = int32_t(1) << 30;

QuantizedMultiplier qmOf(int64_t multiplier, int32_t shift) {
  return QuantizedMultiplier{static_cast<int32_t>(multiplier), shift};
}

//===----------------------------------------------------------------------===//
// Exact reference arithmetic
//===----------------------------------------------------------------------===//

Int128 pow2(int e) { return Int128(1) << e; }

/// floor(n / d) for d > 0, via truncating quotient and sign correction.
Int128 floorDiv(Int128 n, Int128 d) {
  Int128 q = n / d;
  Int128 r = n % d;
  if (r < 0)
    --q;
  return q;
}

enum class Tie { TowardPosInf, AwayFromZero };

/// n / d (d > 0) rounded to nearest, ties resolved as requested.
Int128 roundDiv(Int128 n, Int128 d, Tie tie) {
  Int128 q = floorDiv(n, d);
  Int128 r = n - q * d; // in [0, d)
  if (2 * r > d)
    return q + 1;
  if (2 * r < d)
    return q;
  return (tie == Tie::TowardPosInf || n > 0) ? q + 1 : q;
}

int32_t saturate(Int128 x) {
  if (x < kMin)
    return kMin;
  if (x > kMax)
    return kMax;
  return static_cast<int32_t>(x);
}

int32_t refSingle(int32_t value, QuantizedMultiplier qm) {
  return saturate(roundDiv(Int128(value) * qm.multiplier, pow2(qm.shift),
                           Tie::TowardPosInf));
}

int32_t refDoublingHighMul(int32_t a, int32_t b) {
  return saturate(roundDiv(Int128(a) * b, pow2(31), Tie::TowardPosInf));
}

int32_t refDivideByPOT(int32_t x, int e) {
  return static_cast<int32_t>(roundDiv(x, pow2(e), Tie::AwayFromZero));
}

/// True when the gemmlowp pre-scaling value * 2^left does not fit in int32.
bool gemmlowpLeftShiftSaturates(int32_t value, QuantizedMultiplier qm) {
  int left = qm.shift >= 31 ? 0 : 31 - qm.shift;
  Int128 x = Int128(value) * pow2(left);
  return x < kMin || x > kMax;
}

int32_t refGemmlowp(int32_t value, QuantizedMultiplier qm) {
  int left = qm.shift >= 31 ? 0 : 31 - qm.shift;
  int right = qm.shift >= 31 ? qm.shift - 31 : 0;
  int32_t x = saturate(Int128(value) * pow2(left));
  int32_t high = saturate(
      roundDiv(Int128(x) * qm.multiplier, pow2(31), Tie::TowardPosInf));
  return static_cast<int32_t>(roundDiv(high, pow2(right), Tie::AwayFromZero));
}

Int128 absInt128(Int128 x) { return x < 0 ? -x : x; }

//===----------------------------------------------------------------------===//
// Deterministic random inputs (raw mt19937_64 bits, so no dependence on the
// standard library's distribution implementations)
//===----------------------------------------------------------------------===//

class Random {
public:
  explicit Random(uint64_t seed) : gen(seed) {}

  uint64_t bits() { return gen(); }
  /// Uniform in [lo, hi].
  int64_t uniform(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(bits() % uint64_t(hi - lo + 1));
  }
  /// Uniform in [0, 1).
  double unit() { return std::ldexp(double(bits() >> 11), -53); }
  double logUniform(double lo, double hi) {
    return std::exp(std::log(lo) + unit() * (std::log(hi) - std::log(lo)));
  }

  /// Mix of edge values, small values, values near powers of two and
  /// uniformly random int32.
  int32_t value() {
    static const int32_t special[] = {kMin, kMin + 1, kMax, kMax - 1, 0,
                                      -1,   1,        -2,   2};
    switch (bits() % 8) {
    case 0:
      return special[bits() % (sizeof(special) / sizeof(special[0]))];
    case 1:
      return static_cast<int32_t>(uniform(-1000, 1000));
    case 2: {
      int64_t v = (int64_t(1) << uniform(0, 30)) + uniform(-2, 2);
      return saturate(bits() % 2 ? v : -v);
    }
    default:
      return static_cast<int32_t>(uniform(kMin, kMax));
    }
  }

  /// Mix of multipliers from quantizeMultiplier and raw (multiplier, shift)
  /// pairs covering every shift, including capped ones.
  QuantizedMultiplier multiplier() {
    switch (bits() % 8) {
    case 0:
    case 1: {
      std::optional<QuantizedMultiplier> qm =
          quantizeMultiplier(logUniform(1e-18, 1e9));
      if (qm)
        return *qm;
      return qmOf(kTwoPow30, 30);
    }
    case 2:
      return qmOf(uniform(0, kMax), kMaxShift);
    case 3: {
      static const int64_t special[] = {kTwoPow30, kTwoPow30 + 1, kMax,
                                        3 * (int64_t(1) << 29)};
      return qmOf(special[bits() % 4],
                  static_cast<int32_t>(uniform(0, kMaxShift)));
    }
    default:
      return qmOf(uniform(kTwoPow30, kMax),
                  static_cast<int32_t>(uniform(0, kMaxShift)));
    }
  }

private:
  std::mt19937_64 gen;
};

const std::vector<QuantizedMultiplier> &exhaustiveMultipliers() {
  static const std::vector<QuantizedMultiplier> qms = {
      qmOf(kTwoPow30 + 12345, 0),
      qmOf(kMax, 0),
      qmOf(kMax, 1),
      qmOf(1234567891, 30),
      qmOf(kTwoPow30, 30),
      qmOf(kTwoPow30, 31),
      qmOf(kMax, 31),
      qmOf(1500000001, 32),
      qmOf(1717986918, 35),
      qmOf(1073741825, 45),
      qmOf(kMax, 62),
      qmOf(kTwoPow30, 62),
      qmOf(1, 62),
      qmOf(0, 62)};
  return qms;
}

//===----------------------------------------------------------------------===//
// quantizeMultiplier
//===----------------------------------------------------------------------===//

TEST(FixedPointTest, QuantizeMultiplierSimpleValues) {
  EXPECT_EQ(quantizeMultiplier(1.0), qmOf(kTwoPow30, 30));
  EXPECT_EQ(quantizeMultiplier(0.5), qmOf(kTwoPow30, 31));
  EXPECT_EQ(quantizeMultiplier(0.75), qmOf(3 << 29, 31));
  EXPECT_EQ(quantizeMultiplier(3.0), qmOf(3 << 29, 29));
  // 1e-3 = 0.512 * 2^-9 and 0.512 * 2^31 = 1099511627.776.
  EXPECT_EQ(quantizeMultiplier(1e-3), qmOf(1099511628, 40));
  EXPECT_EQ(quantizeMultiplier(1e9), qmOf(2000000000, 1));
}

TEST(FixedPointTest, QuantizeMultiplierLargeValues) {
  EXPECT_EQ(quantizeMultiplier(2147483647.0), qmOf(kMax, 0));
  // Rounds down to 2^31 - 1.
  EXPECT_EQ(quantizeMultiplier(2147483647.25), qmOf(kMax, 0));
  // Round to nearest (half away from zero) reaches 2^31: not representable.
  EXPECT_FALSE(quantizeMultiplier(2147483647.5).has_value());
  EXPECT_FALSE(quantizeMultiplier(2147483647.75).has_value());
  EXPECT_FALSE(quantizeMultiplier(2147483648.0).has_value());
  EXPECT_FALSE(quantizeMultiplier(1e300).has_value());
  EXPECT_FALSE(
      quantizeMultiplier(std::numeric_limits<double>::max()).has_value());
}

TEST(FixedPointTest, QuantizeMultiplierTinyValuesCapShift) {
  // 2^-32 is the smallest M with a normalized multiplier at kMaxShift.
  EXPECT_EQ(quantizeMultiplier(std::ldexp(1.0, -32)), qmOf(kTwoPow30, 62));
  EXPECT_EQ(quantizeMultiplier(std::ldexp(1.0, -33)), qmOf(1 << 29, 62));
  // 1e-10 * 2^62 = 461168601.84...
  EXPECT_EQ(quantizeMultiplier(1e-10), qmOf(461168602, 62));
  // 1e-20 * 2^62 = 0.046: rounds to zero, which maps every int32 to 0.
  EXPECT_EQ(quantizeMultiplier(1e-20), qmOf(0, 62));
  EXPECT_EQ(quantizeMultiplier(std::numeric_limits<double>::denorm_min()),
            qmOf(0, 62));
  // 0.5 * 2^-62 is a tie and rounds away from zero.
  EXPECT_EQ(quantizeMultiplier(std::ldexp(1.0, -63)), qmOf(1, 62));
  EXPECT_EQ(quantizeMultiplier(std::nextafter(std::ldexp(1.0, -63), 0.0)),
            qmOf(0, 62));
}

TEST(FixedPointTest, QuantizeMultiplierRejectsInvalid) {
  const double invalid[] = {0.0,
                            -0.0,
                            -1.0,
                            -1e-10,
                            -std::numeric_limits<double>::denorm_min(),
                            std::numeric_limits<double>::quiet_NaN(),
                            std::numeric_limits<double>::infinity(),
                            -std::numeric_limits<double>::infinity()};
  for (double m : invalid)
    EXPECT_FALSE(quantizeMultiplier(m).has_value()) << "M = " << m;
}

TEST(FixedPointTest, QuantizeMultiplierMantissaRoundsUp) {
  // The mantissa of these is 1 - 2^-53, so m * 2^31 rounds to 2^31 and the
  // representation must renormalize to 2^30 with one less shift.
  EXPECT_EQ(quantizeMultiplier(std::nextafter(1.0, 0.0)), qmOf(kTwoPow30, 30));
  EXPECT_EQ(quantizeMultiplier(std::nextafter(0.5, 0.0)), qmOf(kTwoPow30, 31));
  EXPECT_FALSE(
      quantizeMultiplier(std::nextafter(2147483648.0, 0.0)).has_value());
  // Would need shift 63 before renormalization; lands exactly on kMaxShift.
  EXPECT_EQ(quantizeMultiplier(std::nextafter(std::ldexp(1.0, -32), 0.0)),
            qmOf(kTwoPow30, 62));
  // Largest mantissa that still rounds down.
  EXPECT_EQ(quantizeMultiplier(1.0 - std::ldexp(1.0, -31)), qmOf(kMax, 31));
  EXPECT_EQ(quantizeMultiplier(1.0 - std::ldexp(1.0, -32)),
            qmOf(kTwoPow30, 30));
}

TEST(FixedPointTest, QuantizeMultiplierRandomRepresentationError) {
  Random rng(0x5eed0001);
  for (int i = 0; i < 1000000; ++i) {
    double m = rng.logUniform(1e-18, 1e9);
    std::optional<QuantizedMultiplier> qm = quantizeMultiplier(m);
    ASSERT_TRUE(qm.has_value()) << "M = " << m;
    ASSERT_GE(qm->shift, 0) << "M = " << m;
    ASSERT_LE(qm->shift, kMaxShift) << "M = " << m;
    ASSERT_GE(qm->multiplier, 0) << "M = " << m;
    if (qm->shift < kMaxShift) {
      ASSERT_GE(qm->multiplier, kTwoPow30) << "M = " << m;
    }
    // Scaling by 2^shift is exact; the difference of two values below 2^31
    // is exact in long double.
    long double scaled = std::ldexp(static_cast<long double>(m), qm->shift);
    long double error = static_cast<long double>(qm->multiplier) - scaled;
    ASSERT_LE(std::fabs(error), 0.5L) << "M = " << m;
  }
}

//===----------------------------------------------------------------------===//
// gemmlowp primitives
//===----------------------------------------------------------------------===//

TEST(FixedPointTest, DoublingHighMulEdges) {
  EXPECT_EQ(saturatingRoundingDoublingHighMul(kMin, kMin), kMax);
  EXPECT_EQ(saturatingRoundingDoublingHighMul(kMin, kMax), -kMax);
  EXPECT_EQ(saturatingRoundingDoublingHighMul(kMax, kMax), kMax - 1);
  EXPECT_EQ(saturatingRoundingDoublingHighMul(kMin, 1), -1);
  EXPECT_EQ(saturatingRoundingDoublingHighMul(kMin, -1), 1);
  EXPECT_EQ(saturatingRoundingDoublingHighMul(0, kMin), 0);
  // Ties round toward +inf (like ARM VQRDMULH), not away from zero.
  EXPECT_EQ(saturatingRoundingDoublingHighMul(1, kTwoPow30), 1);
  EXPECT_EQ(saturatingRoundingDoublingHighMul(-1, kTwoPow30), 0);
  EXPECT_EQ(saturatingRoundingDoublingHighMul(3, kTwoPow30), 2);
  EXPECT_EQ(saturatingRoundingDoublingHighMul(-3, kTwoPow30), -1);
  // Just off the tie.
  EXPECT_EQ(saturatingRoundingDoublingHighMul(-1, kTwoPow30 + 1), -1);
  EXPECT_EQ(saturatingRoundingDoublingHighMul(1, kTwoPow30 - 1), 0);
}

TEST(FixedPointTest, DoublingHighMulRandom) {
  Random rng(0x5eed0002);
  for (int i = 0; i < 1000000; ++i) {
    int32_t a = rng.value();
    int32_t b = rng.value();
    ASSERT_EQ(saturatingRoundingDoublingHighMul(a, b), refDoublingHighMul(a, b))
        << "a = " << a << ", b = " << b;
  }
}

TEST(FixedPointTest, RoundingDivideByPOTExhaustiveSmall) {
  for (int e = 0; e <= 12; ++e)
    for (int32_t x = -5000; x <= 5000; ++x)
      ASSERT_EQ(roundingDivideByPOT(x, e), refDivideByPOT(x, e))
          << "x = " << x << ", e = " << e;
}

TEST(FixedPointTest, RoundingDivideByPOTEdges) {
  // Ties round away from zero.
  EXPECT_EQ(roundingDivideByPOT(1, 1), 1);
  EXPECT_EQ(roundingDivideByPOT(-1, 1), -1);
  EXPECT_EQ(roundingDivideByPOT(-3, 1), -2);
  EXPECT_EQ(roundingDivideByPOT(kMin, 0), kMin);
  EXPECT_EQ(roundingDivideByPOT(kMax, 0), kMax);
  EXPECT_EQ(roundingDivideByPOT(kMin, 31), -1);
  EXPECT_EQ(roundingDivideByPOT(kMax, 31), 1);
  EXPECT_EQ(roundingDivideByPOT(kTwoPow30, 31), 1);
  EXPECT_EQ(roundingDivideByPOT(-kTwoPow30, 31), -1);
  EXPECT_EQ(roundingDivideByPOT(kTwoPow30 - 1, 31), 0);
  EXPECT_EQ(roundingDivideByPOT(-kTwoPow30 + 1, 31), 0);
  EXPECT_EQ(roundingDivideByPOT(-1, 31), 0);
  EXPECT_EQ(roundingDivideByPOT(kMin, 30), -2);
  EXPECT_EQ(roundingDivideByPOT(kMax, 30), 2);
}

TEST(FixedPointTest, RoundingDivideByPOTRandom) {
  Random rng(0x5eed0003);
  for (int i = 0; i < 500000; ++i) {
    int32_t x = rng.value();
    int e = static_cast<int>(rng.uniform(0, 31));
    ASSERT_EQ(roundingDivideByPOT(x, e), refDivideByPOT(x, e))
        << "x = " << x << ", e = " << e;
  }
}

//===----------------------------------------------------------------------===//
// Single rounding
//===----------------------------------------------------------------------===//

TEST(FixedPointTest, SingleEdges) {
  // Ties round toward +inf.
  EXPECT_EQ(applyMultiplierSingle(1, qmOf(kTwoPow30, 31)), 1);
  EXPECT_EQ(applyMultiplierSingle(-1, qmOf(kTwoPow30, 31)), 0);
  EXPECT_EQ(applyMultiplierSingle(-3, qmOf(kTwoPow30, 31)), -1);
  // Shift 0 has no rounding term and saturates.
  EXPECT_EQ(applyMultiplierSingle(1, qmOf(kMax, 0)), kMax);
  EXPECT_EQ(applyMultiplierSingle(2, qmOf(kMax, 0)), kMax);
  EXPECT_EQ(applyMultiplierSingle(-1, qmOf(kMax, 0)), -kMax);
  EXPECT_EQ(applyMultiplierSingle(-2, qmOf(kMax, 0)), kMin);
  EXPECT_EQ(applyMultiplierSingle(kMin, qmOf(kMax, 0)), kMin);
  EXPECT_EQ(applyMultiplierSingle(kMax, qmOf(kMax, 0)), kMax);
  // Largest products at the largest shift.
  EXPECT_EQ(applyMultiplierSingle(kMin, qmOf(kMax, 62)), -1);
  EXPECT_EQ(applyMultiplierSingle(kMax, qmOf(kMax, 62)), 1);
  EXPECT_EQ(applyMultiplierSingle(kMin, qmOf(kTwoPow30, 62)), 0);
  EXPECT_EQ(applyMultiplierSingle(kMax, qmOf(kTwoPow30, 62)), 0);
  // Unit multiplier is the identity for every input.
  for (int32_t v : {kMin, kMin + 1, -1, 0, 1, kMax - 1, kMax})
    EXPECT_EQ(applyMultiplierSingle(v, qmOf(kTwoPow30, 30)), v);
}

TEST(FixedPointTest, SingleExhaustiveSmallValues) {
  for (QuantizedMultiplier qm : exhaustiveMultipliers())
    for (int32_t v = -70000; v <= 70000; ++v)
      ASSERT_EQ(applyMultiplierSingle(v, qm), refSingle(v, qm))
          << "value = " << v << ", qm = " << ::testing::PrintToString(qm);
}

TEST(FixedPointTest, SingleEveryShiftWithSpecialValues) {
  for (int32_t shift = 0; shift <= kMaxShift; ++shift)
    for (int64_t m : {int64_t(0), int64_t(1), int64_t(kTwoPow30),
                      int64_t(1500000001), int64_t(kMax)})
      for (int32_t v : {kMin, kMin + 1, -2, -1, 0, 1, 2, kMax - 1, kMax}) {
        QuantizedMultiplier qm = qmOf(m, shift);
        ASSERT_EQ(applyMultiplierSingle(v, qm), refSingle(v, qm))
            << "value = " << v << ", qm = " << ::testing::PrintToString(qm);
      }
}

TEST(FixedPointTest, SingleRandom) {
  Random rng(0x5eed0004);
  for (int i = 0; i < 2000000; ++i) {
    int32_t v = rng.value();
    QuantizedMultiplier qm = rng.multiplier();
    ASSERT_EQ(applyMultiplierSingle(v, qm), refSingle(v, qm))
        << "value = " << v << ", qm = " << ::testing::PrintToString(qm);
  }
}

TEST(FixedPointTest, SingleIsUnbiased) {
  // Round-to-nearest has zero mean error on non-tie inputs; a bare
  // arithmetic shift (floor) would be biased by -0.5 LSB, which accumulates
  // through every requantized layer.
  Random rng(0x5eed0005);
  constexpr int kSamples = 200000;
  long double sumSingle = 0, sumGemmlowp = 0, sumFloor = 0;
  for (int i = 0; i < kSamples; ++i) {
    int32_t v = static_cast<int32_t>(rng.uniform(-(1 << 20), 1 << 20));
    QuantizedMultiplier qm = *quantizeMultiplier(rng.logUniform(1e-6, 1.0));
    Int128 exactNum = Int128(v) * qm.multiplier; // exact = exactNum / 2^shift
    auto errorOf = [&](int32_t r) {
      Int128 diff = Int128(r) * pow2(qm.shift) - exactNum;
      return std::ldexp(static_cast<long double>(diff), -qm.shift);
    };
    int32_t floorResult =
        static_cast<int32_t>(floorDiv(exactNum, pow2(qm.shift)));
    sumSingle += errorOf(applyMultiplierSingle(v, qm));
    sumGemmlowp += errorOf(applyMultiplierGemmlowp(v, qm));
    sumFloor += errorOf(floorResult);
  }
  EXPECT_LT(std::fabs(sumSingle / kSamples), 0.01L);
  EXPECT_LT(std::fabs(sumGemmlowp / kSamples), 0.01L);
  EXPECT_NEAR(static_cast<double>(sumFloor / kSamples), -0.5, 0.01);
}

//===----------------------------------------------------------------------===//
// gemmlowp double rounding
//===----------------------------------------------------------------------===//

TEST(FixedPointTest, GemmlowpEdges) {
  // Shift 31: no shifts at all, one rounding.
  EXPECT_EQ(applyMultiplierGemmlowp(kMin, qmOf(kMax, 31)), -kMax);
  EXPECT_EQ(applyMultiplierGemmlowp(kMax, qmOf(kMax, 31)), kMax - 1);
  EXPECT_EQ(applyMultiplierGemmlowp(-1, qmOf(kTwoPow30, 31)), 0);
  EXPECT_EQ(applyMultiplierGemmlowp(-3, qmOf(kTwoPow30, 31)), -1);
  // Double rounding: 1 * 0.25 -> 0.5 rounds up to 1, then 1/2 rounds away
  // from zero to 1, whereas the single rounding gives 0.
  EXPECT_EQ(applyMultiplierGemmlowp(1, qmOf(kTwoPow30, 32)), 1);
  EXPECT_EQ(applyMultiplierSingle(1, qmOf(kTwoPow30, 32)), 0);
  // Shift 62: right shift by 31.
  EXPECT_EQ(applyMultiplierGemmlowp(kMin, qmOf(kMax, 62)), -1);
  EXPECT_EQ(applyMultiplierGemmlowp(kMax, qmOf(kMax, 62)), 1);
  EXPECT_EQ(applyMultiplierGemmlowp(kMin, qmOf(kTwoPow30, 62)), -1);
  EXPECT_EQ(applyMultiplierSingle(kMin, qmOf(kTwoPow30, 62)), 0);
  EXPECT_EQ(applyMultiplierGemmlowp(kMax, qmOf(1, 62)), 0);
  EXPECT_EQ(applyMultiplierGemmlowp(kMin, qmOf(0, 62)), 0);
  // Shift 0: left shift by 31. -1 * 2^31 is exactly INT32_MIN.
  EXPECT_EQ(applyMultiplierGemmlowp(-1, qmOf(1500000000, 0)), -1500000000);
  // 1 * 2^31 saturates to 2^31 - 1, losing one LSB.
  EXPECT_EQ(applyMultiplierGemmlowp(1, qmOf(1500000000, 0)), 1499999999);
  EXPECT_EQ(applyMultiplierGemmlowp(kMin, qmOf(1500000000, 0)), -1500000000);
  EXPECT_EQ(applyMultiplierGemmlowp(kMax, qmOf(1500000000, 0)), 1499999999);
}

TEST(FixedPointTest, GemmlowpLeftShiftSaturation) {
  // M = 3: x = value * 4 saturates for |value| >= 2^29, so large values land
  // at about 0.75 * INT32 range instead of saturating (TFLite would overflow).
  QuantizedMultiplier three = *quantizeMultiplier(3.0);
  ASSERT_EQ(three, qmOf(3 << 29, 29));
  EXPECT_EQ(applyMultiplierGemmlowp(kTwoPow30, three), 1610612735);
  EXPECT_EQ(applyMultiplierSingle(kTwoPow30, three), kMax);
  EXPECT_EQ(applyMultiplierGemmlowp(-kTwoPow30, three), -1610612736);
  EXPECT_EQ(applyMultiplierSingle(-kTwoPow30, three), kMin);
  // Still saturates to the narrow range after clamping.
  EXPECT_EQ(requantize(kTwoPow30, three, RoundingMode::Gemmlowp, 0, -128, 127),
            127);
  EXPECT_EQ(requantize(-kTwoPow30, three, RoundingMode::Gemmlowp, 0, -128, 127),
            -128);
  // M = 1 (also reached from nextafter(1.0, 0) via mantissa round-up): the
  // identity below 2^30, halved beyond.
  for (double m : {1.0, std::nextafter(1.0, 0.0)}) {
    QuantizedMultiplier unit = *quantizeMultiplier(m);
    ASSERT_EQ(unit, qmOf(kTwoPow30, 30));
    for (int32_t v : {-kTwoPow30, -12345, -1, 0, 1, 12345, kTwoPow30 - 1}) {
      EXPECT_EQ(applyMultiplierGemmlowp(v, unit), v);
      EXPECT_EQ(applyMultiplierSingle(v, unit), v);
    }
    EXPECT_EQ(applyMultiplierGemmlowp(kMax, unit), kTwoPow30);
    EXPECT_EQ(applyMultiplierGemmlowp(kMin, unit), -kTwoPow30);
  }
}

TEST(FixedPointTest, GemmlowpExhaustiveSmallValues) {
  for (QuantizedMultiplier qm : exhaustiveMultipliers())
    for (int32_t v = -70000; v <= 70000; ++v)
      ASSERT_EQ(applyMultiplierGemmlowp(v, qm), refGemmlowp(v, qm))
          << "value = " << v << ", qm = " << ::testing::PrintToString(qm);
}

TEST(FixedPointTest, GemmlowpRandomAgainstReferenceAndSingle) {
  Random rng(0x5eed0006);
  int64_t numDiffering = 0;
  for (int i = 0; i < 2000000; ++i) {
    int32_t v = rng.value();
    QuantizedMultiplier qm = rng.multiplier();
    int32_t gemmlowp = applyMultiplierGemmlowp(v, qm);
    ASSERT_EQ(gemmlowp, refGemmlowp(v, qm))
        << "value = " << v << ", qm = " << ::testing::PrintToString(qm);
    // Once the left shift saturates the result is no longer close to the
    // real product (see GemmlowpLeftShiftSaturation).
    if (gemmlowpLeftShiftSaturates(v, qm))
      continue;
    int32_t single = applyMultiplierSingle(v, qm);
    if (qm.shift < 31) {
      // Only one rounding happens, with the same tie rule.
      ASSERT_EQ(gemmlowp, single)
          << "value = " << v << ", qm = " << ::testing::PrintToString(qm);
      continue;
    }
    ASSERT_LE(std::abs(int64_t(gemmlowp) - int64_t(single)), 1)
        << "value = " << v << ", qm = " << ::testing::PrintToString(qm);
    // Two roundings: |error| <= 0.5 * 2^-right + 0.5 <= 0.75 LSB for
    // right >= 1, and <= 0.5 LSB for right == 0.
    Int128 error =
        Int128(gemmlowp) * pow2(qm.shift) - Int128(v) * Int128(qm.multiplier);
    ASSERT_LE(4 * absInt128(error), 3 * pow2(qm.shift))
        << "value = " << v << ", qm = " << ::testing::PrintToString(qm);
    numDiffering += gemmlowp != single;
  }
  // The double rounding is observable, so the comparison above is not vacuous.
  EXPECT_GT(numDiffering, 0);
}

//===----------------------------------------------------------------------===//
// requantize
//===----------------------------------------------------------------------===//

TEST(FixedPointTest, RequantizeClampsToInt8AndUint8) {
  QuantizedMultiplier unit = qmOf(kTwoPow30, 30);
  for (RoundingMode mode : {RoundingMode::Single, RoundingMode::Gemmlowp}) {
    EXPECT_EQ(requantize(100, unit, mode, 0, -128, 127), 100);
    EXPECT_EQ(requantize(127, unit, mode, 0, -128, 127), 127);
    EXPECT_EQ(requantize(128, unit, mode, 0, -128, 127), 127);
    EXPECT_EQ(requantize(-128, unit, mode, 0, -128, 127), -128);
    EXPECT_EQ(requantize(-129, unit, mode, 0, -128, 127), -128);
    EXPECT_EQ(requantize(100, unit, mode, 50, -128, 127), 127);
    EXPECT_EQ(requantize(-100, unit, mode, -50, -128, 127), -128);
    EXPECT_EQ(requantize(-100, unit, mode, 50, -128, 127), -50);
    EXPECT_EQ(requantize(-5, unit, mode, 0, 0, 255), 0);
    EXPECT_EQ(requantize(100, unit, mode, 128, 0, 255), 228);
    EXPECT_EQ(requantize(127, unit, mode, 128, 0, 255), 255);
    EXPECT_EQ(requantize(200, unit, mode, 128, 0, 255), 255);
    EXPECT_EQ(requantize(-128, unit, mode, 128, 0, 255), 0);
    EXPECT_EQ(requantize(-129, unit, mode, 128, 0, 255), 0);
    // Scaling happens before the zero point is added: 0.5 * 301 = 150.5.
    QuantizedMultiplier half = qmOf(kTwoPow30, 31);
    EXPECT_EQ(requantize(301, half, mode, -30, -128, 127), 121);
    EXPECT_EQ(requantize(301, half, mode, 128, 0, 255), 255);
  }
}

TEST(FixedPointTest, RequantizeZeroPointAddSaturates) {
  // A wrapping add would flip the sign and clamp to the opposite end.
  QuantizedMultiplier unit = qmOf(kTwoPow30, 30);
  EXPECT_EQ(requantize(kMax, unit, RoundingMode::Single, 10, kMin, kMax), kMax);
  EXPECT_EQ(requantize(kMax, unit, RoundingMode::Single, kMax, -128, 127), 127);
  EXPECT_EQ(requantize(kMin, unit, RoundingMode::Single, -10, kMin, kMax),
            kMin);
  EXPECT_EQ(requantize(kMin, unit, RoundingMode::Single, kMin, -128, 127),
            -128);
  EXPECT_EQ(requantize(kMin, unit, RoundingMode::Single, kMin, 0, 255), 0);
  // Gemmlowp with M just below 1 avoids the left shift: (2^31-1)^2 / 2^31.
  QuantizedMultiplier almostOne = qmOf(kMax, 31);
  EXPECT_EQ(applyMultiplierGemmlowp(kMax, almostOne), kMax - 1);
  EXPECT_EQ(requantize(kMax, almostOne, RoundingMode::Gemmlowp, 10, kMin, kMax),
            kMax);
  EXPECT_EQ(
      requantize(kMax, almostOne, RoundingMode::Gemmlowp, kMax, -128, 127),
      127);
  EXPECT_EQ(
      requantize(kMin, almostOne, RoundingMode::Gemmlowp, -10, kMin, kMax),
      kMin);
  EXPECT_EQ(
      requantize(kMin, almostOne, RoundingMode::Gemmlowp, kMin, -128, 127),
      -128);
}

TEST(FixedPointTest, RequantizeRandom) {
  Random rng(0x5eed0007);
  for (int i = 0; i < 300000; ++i) {
    int32_t v = rng.value();
    QuantizedMultiplier qm = rng.multiplier();
    int32_t zeroPoint = rng.bits() % 2
                            ? static_cast<int32_t>(rng.uniform(-128, 255))
                            : rng.value();
    int32_t qmin = -128, qmax = 127;
    switch (rng.bits() % 3) {
    case 0:
      qmin = 0;
      qmax = 255;
      break;
    case 1:
      qmin = kMin;
      qmax = kMax;
      break;
    default:
      break;
    }
    RoundingMode mode =
        rng.bits() % 2 ? RoundingMode::Single : RoundingMode::Gemmlowp;
    int32_t scaled =
        mode == RoundingMode::Single ? refSingle(v, qm) : refGemmlowp(v, qm);
    EXPECT_EQ(applyMultiplier(v, qm, mode), scaled);
    Int128 expected = Int128(scaled) + zeroPoint;
    expected = expected < qmin ? qmin : expected > qmax ? qmax : expected;
    ASSERT_EQ(requantize(v, qm, mode, zeroPoint, qmin, qmax),
              static_cast<int32_t>(expected))
        << "value = " << v << ", qm = " << ::testing::PrintToString(qm)
        << ", zeroPoint = " << zeroPoint;
  }
}

} // namespace
