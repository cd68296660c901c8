//===- IntegerArithTest.cpp - Tests for the add's linear form -------------===//
//
// findLinearAdd replaces an 8-bit add's three rescales (NumericSpec 3.2) by
// one rounding of a linear form. Each form found for usual scales is checked
// here for all 2^16 operand pairs against fixedpoint's rescales (a separate
// implementation of the spec), with each intermediate in int32 as emitted.
//
//===----------------------------------------------------------------------===//

#include "myquant/Conversion/IntegerArith.h"
#include "myquant/Support/FixedPoint.h"

#include "mlir/IR/MLIRContext.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

using namespace myquant;
namespace fp = myquant::fixedpoint;

namespace {

struct AddParams {
  fp::QuantizedMultiplier lhs, rhs, result;
  int64_t lhsZeroPoint, rhsZeroPoint, resultZeroPoint, lo, hi;
  bool subtract;
};

fp::QuantizedMultiplier multiplier(double m) {
  std::optional<fp::QuantizedMultiplier> qm = fp::quantizeMultiplier(m);
  EXPECT_TRUE(qm.has_value()) << m;
  return qm.value_or(fp::QuantizedMultiplier{0, 0});
}

Requant requant(fp::QuantizedMultiplier qm, int64_t zeroPoint, int64_t lo,
                int64_t hi) {
  Requant q;
  q.multiplier = {qm.multiplier};
  q.shift = {qm.shift};
  q.rounding = RoundingMode::Single;
  q.zeroPoint = zeroPoint;
  q.lo = lo;
  q.hi = hi;
  return q;
}

/// The rescales of an add of the given scales (NumericSpec 3.2).
AddParams addOf(double sa, double sb, double so, int64_t za, int64_t zb,
                int64_t zo, int64_t lo, int64_t hi, bool subtract) {
  double twiceMax = 2 * std::max(sa, sb);
  return {multiplier(sa / twiceMax),
          multiplier(sb / twiceMax),
          multiplier(twiceMax / (double(1 << 20) * so)),
          za,
          zb,
          zo,
          lo,
          hi,
          subtract};
}

/// `p`'s linear form, checked against the spec for every operand pair when
/// there is one.
std::optional<LinearAdd> checkLinearForm(mlir::MLIRContext &context,
                                         const AddParams &p) {
  Storage int8{mlir::IntegerType::get(&context, 8), true, -128, 127};
  fp::QuantizedMultiplier ma = p.lhs, mb = p.rhs, mo = p.result;
  AddRescales r;
  r.leftShift = 20;
  r.lhsStorage = r.rhsStorage = r.resultStorage = int8;
  r.lhsZeroPoint = p.lhsZeroPoint;
  r.rhsZeroPoint = p.rhsZeroPoint;
  r.subtract = p.subtract;
  r.lhs = requant(ma, 0, INT32_MIN, INT32_MAX);
  r.rhs = requant(mb, 0, INT32_MIN, INT32_MAX);
  r.result = requant(mo, p.resultZeroPoint, p.lo, p.hi);
  EXPECT_TRUE(IntegerArith::hasInt32Form(r));
  std::optional<LinearAdd> f = findLinearAdd(r);
  if (!f)
    return f;
  int mismatches = 0;
  for (int64_t a = -128; a <= 127; ++a) {
    for (int64_t b = -128; b <= 127; ++b) {
      int64_t ux = a - p.lhsZeroPoint, uy = b - p.rhsZeroPoint;
      int32_t a2 = fp::applyMultiplierSingle(int32_t(ux << 20), ma);
      int32_t b2 = fp::applyMultiplierSingle(int32_t(uy << 20), mb);
      int32_t expected = fp::requantize(
          p.subtract ? a2 - b2 : a2 + b2, mo, fp::RoundingMode::Single,
          int32_t(p.resultZeroPoint), int32_t(p.lo), int32_t(p.hi));
      int64_t sum = f->lhs * ux + f->rhs * uy;
      EXPECT_TRUE(sum >= INT32_MIN && sum <= INT32_MAX);
      sum += f->offset;
      EXPECT_TRUE(sum >= INT32_MIN && sum <= INT32_MAX);
      int64_t got = std::clamp(sum >> f->shift, p.lo, p.hi);
      mismatches += got != expected;
    }
  }
  EXPECT_EQ(mismatches, 0) << "lhs " << f->lhs << " rhs " << f->rhs
                           << " offset " << f->offset << " shift " << f->shift;
  return f;
}

TEST(LinearAddTest, ResidualAddsOfResNets) {
  mlir::MLIRContext context;
  // Rescales and zero points of resnet18's and resnet50's first residual
  // adds (calibrated on 8 images): the relu's result clamps at zo = -128.
  for (const AddParams &p : {AddParams{{1073741824, 31},
                                       {1240872147, 32},
                                       {1266523881, 49},
                                       2,
                                       -128,
                                       -128,
                                       -128,
                                       127,
                                       false},
                             AddParams{{1550880305, 32},
                                       {1073741824, 31},
                                       {1555746204, 49},
                                       -4,
                                       3,
                                       -128,
                                       -128,
                                       127,
                                       false},
                             AddParams{{2072377598, 32},
                                       {1073741824, 31},
                                       {1392848624, 49},
                                       3,
                                       6,
                                       -128,
                                       -128,
                                       127,
                                       false},
                             AddParams{{1073741824, 31},
                                       {2037647678, 32},
                                       {2104557123, 50},
                                       14,
                                       -128,
                                       -128,
                                       -128,
                                       127,
                                       false},
                             AddParams{{1151212082, 32},
                                       {1073741824, 31},
                                       {2106486320, 49},
                                       6,
                                       4,
                                       -128,
                                       -128,
                                       127,
                                       false}})
    EXPECT_TRUE(checkLinearForm(context, p).has_value());
}

TEST(LinearAddTest, SpreadScalesWithRelu) {
  mlir::MLIRContext context;
  // Scales within a factor e^1.5 of each other, as calibration gives a
  // residual block's operands, and a relu after the add.
  int found = 0;
  for (int i = 0; i < 10; ++i) {
    double sa = 0.02 * std::exp(0.37 * i), sb = sa * std::exp(1.5 - 0.33 * i);
    double so = std::max(sa, sb) * (0.8 + 0.13 * i);
    int64_t zo = -(i * 71 % 129);
    found +=
        checkLinearForm(context, addOf(sa, sb, so, -(i * 37 % 129),
                                       -(i * 53 % 129), zo, zo, 127, false))
            .has_value();
  }
  EXPECT_EQ(found, 10);
}

TEST(LinearAddTest, NoFormWhereTheRescalesRoundTwice) {
  mlir::MLIRContext context;
  // The rhs rescale of a subtraction rounds its ties up before the
  // negation (NumericSpec 3.2); in the other add the operand rescales'
  // roundings move some results across the output rounding: no one rounding
  // of a linear form matches every pair, and the three rescales stay.
  EXPECT_FALSE(checkLinearForm(
      context, addOf(0.05, 0.01, 0.04, -3, -128, 5, -128, 127, true)));
  EXPECT_FALSE(checkLinearForm(context, addOf(0.2341, 0.1173, 0.1988, -30, -77,
                                              -128, -128, 127, false)));
}

} // namespace
