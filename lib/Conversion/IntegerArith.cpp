//===- IntegerArith.cpp - requantization arithmetic as arith ops ----------===//

#include "myquant/Conversion/IntegerArith.h"

#include "myquant/Dialect/MyQuant/IR/MyQuantTypeUtils.h"
#include "myquant/Support/FixedPoint.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/TypeUtilities.h"

#include <algorithm>
#include <cmath>
#include <vector>

using namespace mlir;

namespace myquant {

Storage storageOf(Type type) {
  quant::QuantizedType q = getQuantElementType(type);
  return {IntegerType::get(type.getContext(), q.getStorageTypeIntegralWidth()),
          q.isSigned(), q.getStorageTypeMin(), q.getStorageTypeMax()};
}

FailureOr<Requant> makeRequant(Operation *op, const RescaleSlot &slot,
                               RoundingMode rounding, ClampAttr clamp,
                               Type resultType) {
  QuantParams out = *getQuantParams(resultType);
  Requant requant;
  requant.zeroPoint = out.zeroPoints[0];
  requant.lo = clamp ? clamp.getMin() : out.storageMin;
  requant.hi = clamp ? clamp.getMax() : out.storageMax;
  RescaleAttr rescale = slot.rescale;
  if (!rescale) {
    FailureOr<RescaleAttr> computed = buildRescale(op, slot.reals, rounding);
    if (failed(computed))
      return failure();
    rescale = *computed;
  }
  requant.multiplier.assign(rescale.getMultiplier().begin(),
                            rescale.getMultiplier().end());
  requant.shift.assign(rescale.getShift().begin(), rescale.getShift().end());
  requant.rounding = rescale.getRounding();
  return requant;
}

FailureOr<AddRescales> getAddRescales(AddOp op, RoundingMode rounding) {
  QuantParams a = *getQuantParams(op.getLhs().getType());
  QuantParams bq = *getQuantParams(op.getRhs().getType());
  AddRescales r;
  r.leftShift = op.getLeftShift().value_or(kAddLeftShift);
  r.lhsStorage = storageOf(op.getLhs().getType());
  r.rhsStorage = storageOf(op.getRhs().getType());
  r.resultStorage = storageOf(op.getType());
  r.lhsZeroPoint = a.zeroPoints[0];
  r.rhsZeroPoint = bq.zeroPoints[0];
  r.subtract = op.getSubtract();
  auto operandRequant = [&](const RescaleSlot &slot) -> FailureOr<Requant> {
    FailureOr<Requant> requant =
        makeRequant(op, slot, rounding, {}, op.getType());
    if (succeeded(requant)) {
      // The operand rescales feed the sum: no zero point, no clamp.
      requant->zeroPoint = 0;
      requant->lo = INT32_MIN;
      requant->hi = INT32_MAX;
    }
    return requant;
  };
  // The slots are lhs_rescale, rhs_rescale, rescale.
  SmallVector<RescaleSlot> slots = op.getRescaleSlots();
  FailureOr<Requant> lhs = operandRequant(slots[0]);
  FailureOr<Requant> rhs = operandRequant(slots[1]);
  FailureOr<Requant> result =
      makeRequant(op, slots[2], rounding, op.getClampAttr(), op.getType());
  if (failed(lhs) || failed(rhs) || failed(result))
    return failure();
  r.lhs = std::move(*lhs);
  r.rhs = std::move(*rhs);
  r.result = std::move(*result);
  r.linear = findLinearAdd(r);
  return r;
}

std::optional<LinearAdd> findLinearAdd(const AddRescales &r) {
  if (!IntegerArith::hasInt32Form(r))
    return std::nullopt;
  // The spec's add (NumericSpec 3.2; the int32 form has `single` rounding)
  // by the fixed-point library: |u| <= 255, so u 2^leftShift and the
  // rescaled sum fit int32.
  auto apply = [](int64_t v, const Requant &q) -> int64_t {
    return fixedpoint::applyMultiplierSingle(static_cast<int32_t>(v),
                                             {q.multiplier[0], q.shift[0]});
  };
  // clampNarrow's result for an int32 value t is clamp(t, lo, hi).
  int64_t lo = std::max(r.resultStorage.min, r.result.lo);
  int64_t hi = std::min(r.resultStorage.max, r.result.hi);
  if (lo > hi)
    return std::nullopt;
  auto centered = [](const Storage &storage, int64_t zeroPoint) {
    SmallVector<int64_t> values;
    for (int64_t v = storage.min; v <= storage.max; ++v)
      values.push_back(v - zeroPoint);
    return values;
  };
  SmallVector<int64_t> xs = centered(r.lhsStorage, r.lhsZeroPoint);
  SmallVector<int64_t> ys = centered(r.rhsStorage, r.rhsZeroPoint);
  std::vector<int64_t> exact;
  exact.reserve(xs.size() * ys.size());
  for (int64_t x : xs) {
    int64_t a2 = apply(x * (int64_t(1) << r.leftShift), r.lhs);
    for (int64_t y : ys) {
      int64_t b2 = apply(y * (int64_t(1) << r.leftShift), r.rhs);
      int64_t sum = r.subtract ? a2 - b2 : a2 + b2;
      exact.push_back(
          std::clamp(apply(sum, r.result) + r.result.zeroPoint, lo, hi));
    }
  }
  // The real coefficients of x and y in units of the result's LSB.
  auto ratio = [&](const Requant &q) {
    return std::ldexp(double(q.multiplier[0]), r.leftShift - q.shift[0]) *
           std::ldexp(double(r.result.multiplier[0]), -r.result.shift[0]);
  };
  double lhsRatio = ratio(r.lhs);
  double rhsRatio = r.subtract ? -ratio(r.rhs) : ratio(r.rhs);
  auto fits32 = [](int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; };
  int64_t xMax = std::max(-xs.front(), xs.back());
  int64_t yMax = std::max(-ys.front(), ys.back());
  // The most precise shifts first: floor((S + c) / 2^k) must land on each
  // pair's exact result, or beyond the clamp bound it is clamped to.
  int tried = 0;
  for (int64_t k = 30; k >= 0 && tried < 4; --k) {
    int64_t a0 = std::llround(std::ldexp(lhsRatio, k));
    int64_t b0 = std::llround(std::ldexp(rhsRatio, k));
    if ((std::abs(a0) + 1) * xMax + (std::abs(b0) + 1) * yMax > INT32_MAX)
      continue;
    ++tried;
    for (int64_t a : {a0, a0 - 1, a0 + 1}) {
      for (int64_t b : {b0, b0 - 1, b0 + 1}) {
        int64_t cMin = INT64_MIN, cMax = INT64_MAX;
        const int64_t *e = exact.data();
        for (size_t i = 0; i < xs.size() && cMin <= cMax; ++i) {
          for (int64_t y : ys) {
            int64_t s = a * xs[i] + b * y;
            if (*e > lo)
              cMin = std::max(cMin, *e * (int64_t(1) << k) - s);
            if (*e < hi)
              cMax = std::min(cMax, (*e + 1) * (int64_t(1) << k) - 1 - s);
            ++e;
          }
        }
        if (cMin > cMax)
          continue;
        // S = a x + b y is extreme at the corners of the domain; the offset
        // centers it where the interval allows.
        int64_t sMin = std::min(a * xs.front(), a * xs.back()) +
                       std::min(b * ys.front(), b * ys.back());
        int64_t sMax = std::max(a * xs.front(), a * xs.back()) +
                       std::max(b * ys.front(), b * ys.back());
        int64_t c = std::clamp(-(sMin + sMax) / 2, cMin, cMax);
        // |a x| + |b y| <= INT32_MAX by the bound above.
        if (fits32(c) && fits32(sMin + c) && fits32(sMax + c))
          return LinearAdd{a, b, c, k};
      }
    }
  }
  return std::nullopt;
}

Type IntegerArith::typeOf(Type element) const {
  if (vectorShape.empty())
    return element;
  return VectorType::get(vectorShape, element);
}

Value IntegerArith::constant(Type element, int64_t v) {
  // Sign-extended to the element's width (i128 included), or truncated to
  // it (a mask such as 0xffff of a narrower type).
  IntegerAttr attr = b.getIntegerAttr(
      element, APInt(element.getIntOrFloatBitWidth(), v, /*isSigned=*/true,
                     /*implicitTrunc=*/true));
  if (vectorShape.empty())
    return arith::ConstantOp::create(b, loc, attr);
  auto type = VectorType::get(vectorShape, element);
  return arith::ConstantOp::create(
      b, loc, llvm::cast<TypedAttr>(DenseElementsAttr::get(type, attr)));
}

Value IntegerArith::cast(Value v, Type to, bool isSigned) {
  unsigned from = getElementTypeOrSelf(v.getType()).getIntOrFloatBitWidth();
  unsigned width = to.getIntOrFloatBitWidth();
  if (from == width)
    return v;
  Type type = typeOf(to);
  if (from > width)
    return arith::TruncIOp::create(b, loc, type, v);
  if (isSigned)
    return arith::ExtSIOp::create(b, loc, type, v);
  return arith::ExtUIOp::create(b, loc, type, v);
}

Value IntegerArith::select(arith::CmpIPredicate pred, Value x, Value y,
                           Value ifTrue, Value ifFalse) {
  Value cond = arith::CmpIOp::create(b, loc, pred, x, y);
  return arith::SelectOp::create(b, loc, cond, ifTrue, ifFalse);
}

Value IntegerArith::clampNarrow(Value v, const Storage &storage, int64_t lo,
                                int64_t hi) {
  Value narrow = cast(clamp(v, storage.min, storage.max), storage.type);
  if (lo > storage.min) {
    Value bound = constant(storage.type, lo);
    narrow = storage.isSigned
                 ? max(narrow, bound)
                 : arith::MaxUIOp::create(b, loc, narrow, bound).getResult();
  }
  if (hi < storage.max) {
    Value bound = constant(storage.type, hi);
    narrow = storage.isSigned
                 ? min(narrow, bound)
                 : arith::MinUIOp::create(b, loc, narrow, bound).getResult();
  }
  return narrow;
}

Value IntegerArith::applyMultiplier(Value value, Value multiplier, Value shift,
                                    RoundingMode rounding) {
  Value m = cast(multiplier, b.getI64Type());
  Value s = cast(shift, b.getI64Type());
  Value one = i64(1);
  if (rounding == RoundingMode::Single) {
    Value half = shr(shl(one, s), one); // 2^(s-1), or 0 when s == 0
    return saturateInt32(shr(add(mul(value, m), half), s));
  }
  Value zero = i64(0), i31 = i64(31);
  Value left = max(sub(i31, s), zero);
  Value right = max(sub(s, i31), zero);
  Value x = saturateInt32(mul(value, shl(one, left)));
  // Saturating rounding doubling high multiply; m >= 0, so the
  // INT32_MIN * INT32_MIN case cannot arise.
  Value ab = mul(x, m);
  Value nudge = select(arith::CmpIPredicate::sge, ab, zero, i64(1 << 30),
                       i64(1 - (1 << 30)));
  Value high =
      arith::DivSIOp::create(b, loc, add(ab, nudge), i64(int64_t(1) << 31));
  // Rounding divide by 2^right, ties away from zero.
  Value mask = sub(shl(one, right), one);
  Value remainder = arith::AndIOp::create(b, loc, high, mask);
  Value threshold = add(
      shr(mask, one), select(arith::CmpIPredicate::slt, high, zero, one, zero));
  Value roundUp =
      select(arith::CmpIPredicate::sgt, remainder, threshold, one, zero);
  return add(shr(high, right), roundUp);
}

Value IntegerArith::requantize(Value acc, Value multiplier, Value shift,
                               const Requant &requant, Type storageType) {
  Value scaled = applyMultiplier(acc, multiplier, shift, requant.rounding);
  Value shifted = add(scaled, i64(requant.zeroPoint));
  return cast(clamp(shifted, requant.lo, requant.hi), storageType);
}

Value IntegerArith::requantizeInt64(Value acc, Value multiplier, Value shift,
                                    const Requant &requant, Type storageType) {
  // |acc * M0| < 2^63 * 2^31: the product and the rounding term need 94
  // bits, so apply_single is evaluated in i128.
  Type i128 = b.getIntegerType(128);
  Value s = cast(shift, i128);
  Value one = constant(i128, 1);
  Value half = shr(shl(one, s), one); // 2^(s-1), or 0 when s == 0
  Value scaled =
      shr(add(mul(cast(acc, i128), cast(multiplier, i128)), half), s);
  Value narrowed = cast(clamp(scaled, INT32_MIN, INT32_MAX), b.getI64Type());
  Value shifted = add(narrowed, i64(requant.zeroPoint));
  return cast(clamp(shifted, requant.lo, requant.hi), storageType);
}

Value IntegerArith::mulHighSigned(Value x, Value y) {
  auto type = dyn_cast<VectorType>(x.getType());
  if (!type || type.getRank() != 1 || type.getNumElements() % 2) {
    // Plain 64-bit arithmetic: linalg bodies may still be vectorized to
    // n-D vectors, which arith.mulsi_extended does not lower from.
    Type i64 = b.getI64Type();
    Value product = mul(cast(x, i64), cast(y, i64));
    return cast(shr(product, constant(i64, 32)), b.getI32Type());
  }
  // LLVM lowers a vector mulsi_extended through widened halves (about ten
  // instructions for 16 lanes). As 64-bit lanes instead, the even and the
  // odd elements are one signed 32 x 32 -> 64 multiply each (vpmuldq), and
  // the high halves are merged in place.
  auto wide = VectorType::get({type.getNumElements() / 2}, b.getI64Type());
  auto splat64 = [&](int64_t v) -> Value {
    return arith::ConstantOp::create(
        b, loc,
        llvm::cast<TypedAttr>(
            DenseElementsAttr::get(wide, b.getIntegerAttr(b.getI64Type(), v))));
  };
  Value x64 = vector::BitCastOp::create(b, loc, wide, x);
  Value y64 = vector::BitCastOp::create(b, loc, wide, y);
  Value c32 = splat64(32);
  auto low = [&](Value v) { return shr(shl(v, c32), c32); };
  Value even = mul(low(x64), low(y64));
  Value odd = mul(shr(x64, c32), shr(y64, c32));
  Value merged = arith::OrIOp::create(
      b, loc, arith::ShRUIOp::create(b, loc, even, c32),
      arith::AndIOp::create(b, loc, odd, splat64(~int64_t(0xFFFFFFFF))));
  return vector::BitCastOp::create(b, loc, type, merged);
}

Value IntegerArith::highHalfRescale(Value v, Value multiplier,
                                    Value shiftLess32, Value half) {
  return shr(add(mulHighSigned(v, multiplier), half), shiftLess32);
}

bool IntegerArith::zeroPointFitsRounding(int64_t zeroPoint, int64_t shift) {
  return std::abs(zeroPoint) * (int64_t(1) << (shift - 32)) +
             (int64_t(1) << (shift - 33)) <=
         (int64_t(1) << 30);
}

int64_t IntegerArith::highHalfRounding(int64_t shift, int64_t zeroPoint) {
  return (int64_t(1) << (shift - 33)) +
         zeroPoint * (int64_t(1) << (shift - 32));
}

/// The add's operand rescales, `single` rounding, with 9 <= s - leftShift
/// <= 22, and its output rescale, `single` with s >= 33: then the whole add
/// runs in int32 (see centeredAdd). Both hold for the rescales
/// myquant-quantize computes from usual scales (operands: s ~ 31-35 with
/// leftShift 20; output: s ~ 45-50).
bool IntegerArith::hasInt32Form(const AddRescales &r) {
  auto operand = [&](const Requant &q, const Storage &storage) {
    int64_t s = q.shift[0] - r.leftShift;
    return q.rounding == RoundingMode::Single && storage.type.getWidth() <= 8 &&
           s >= 9 && s <= 22;
  };
  return operand(r.lhs, r.lhsStorage) && operand(r.rhs, r.rhsStorage) &&
         r.result.rounding == RoundingMode::Single && r.result.shift[0] >= 33 &&
         r.lhs.shift.size() == 1 && r.rhs.shift.size() == 1 &&
         r.result.shift.size() == 1;
}

Value IntegerArith::quantizedAdd(Value x, Value y, const AddRescales &r) {
  // The int32 form has 8-bit operands; others are centered in 64 bits.
  Type wide = hasInt32Form(r) ? b.getI32Type() : b.getI64Type();
  return centeredAdd(center(x, r.lhsStorage, r.lhsZeroPoint, wide),
                     center(y, r.rhsStorage, r.rhsZeroPoint, wide), r);
}

Value IntegerArith::centeredAdd(Value ux, Value uy, const AddRescales &r) {
  Type i32 = b.getI32Type();
  if (r.linear) {
    // findLinearAdd checked this form against the spec for every pair of
    // operand values, and that each step stays in int32.
    const LinearAdd &f = *r.linear;
    Value sum =
        add(add(mul(ux, constant(i32, f.lhs)), mul(uy, constant(i32, f.rhs))),
            constant(i32, f.offset));
    return clampNarrow(shr(sum, constant(i32, f.shift)), r.resultStorage,
                       r.result.lo, r.result.hi);
  }
  if (hasInt32Form(r)) {
    // u = x - zp has |u| <= 255 (8-bit storage). With s' = s - leftShift
    // and m = mh 2^s' + ml, the operand rescale
    // floor((u m 2^leftShift + 2^(s-1)) / 2^s)
    // == u mh + floor((u ml + 2^(s'-1)) / 2^s'): 2^leftShift divides both
    // the product and the rounding term, and u mh 2^s' is a multiple of
    // 2^s'. |u mh| < 2^30 (s' >= 9), |u ml| + 2^(s'-1) < 2^31 (s' <= 22),
    // so each term fits int32, each rescaled operand is below 2^30 and the
    // saturations of the 64-bit form never act.
    auto scaled = [&](Value u, const Requant &requant) {
      int64_t s = requant.shift[0] - r.leftShift, m = requant.multiplier[0];
      Value low = shr(add(mul(u, constant(i32, m & ((int64_t(1) << s) - 1))),
                          constant(i32, int64_t(1) << (s - 1))),
                      constant(i32, s));
      return add(mul(u, constant(i32, m >> s)), low);
    };
    // Either way |sum| < 2^31: both terms are below 2^30.
    Value sum = r.subtract ? sub(scaled(ux, r.lhs), scaled(uy, r.rhs))
                           : add(scaled(ux, r.lhs), scaled(uy, r.rhs));
    // |sum| < 2^31 and the multiplier is below 2^31: -2^30 <= h < 2^30.
    int64_t s = r.result.shift[0], zp = r.result.zeroPoint;
    bool foldZeroPoint = zeroPointFitsRounding(zp, s);
    Value shifted = highHalfRescale(
        sum, constant(i32, r.result.multiplier[0]), constant(i32, s - 32),
        constant(i32, highHalfRounding(s, foldZeroPoint ? zp : 0)));
    if (!foldZeroPoint)
      shifted = add(shifted, constant(i32, zp));
    return clampNarrow(shifted, r.resultStorage, r.result.lo, r.result.hi);
  }
  SmallVector<Value> rescales;
  for (const Requant *requant : {&r.lhs, &r.rhs, &r.result}) {
    rescales.push_back(constant(i32, requant->multiplier[0]));
    rescales.push_back(constant(i32, requant->shift[0]));
  }
  return wideAdd(ux, uy, r, rescales);
}

Value IntegerArith::quantizedAdd(Value x, Value y, const AddRescales &r,
                                 ArrayRef<Value> multipliersAndShifts) {
  Type i64 = b.getI64Type();
  return wideAdd(center(x, r.lhsStorage, r.lhsZeroPoint, i64),
                 center(y, r.rhsStorage, r.rhsZeroPoint, i64), r,
                 multipliersAndShifts);
}

Value IntegerArith::wideAdd(Value ux, Value uy, const AddRescales &r,
                            ArrayRef<Value> multipliersAndShifts) {
  ArrayRef<Value> m = multipliersAndShifts;
  auto scaled = [&](Value u, Value multiplier, Value shift,
                    const Requant &requant) {
    Value shifted =
        mul(cast(u, b.getI64Type()), i64(int64_t(1) << r.leftShift));
    return applyMultiplier(shifted, multiplier, shift, requant.rounding);
  };
  Value lhs = scaled(ux, m[0], m[1], r.lhs);
  Value rhs = scaled(uy, m[2], m[3], r.rhs);
  Value sum = saturateInt32(r.subtract ? sub(lhs, rhs) : add(lhs, rhs));
  return requantize(sum, m[4], m[5], r.result, r.resultStorage.type);
}

DynamicInput quantizeDynamicInput(OpBuilder &b, Location loc, Value x,
                                  bool asymmetric, bool perRow) {
  MLIRContext *ctx = b.getContext();
  Type i64 = b.getI64Type();
  auto xType = cast<RankedTensorType>(x.getType());
  unsigned rank = xType.getRank();
  AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, ctx);
  // The parameters: one set per row (the last dimension reduced), or one.
  SmallVector<int64_t> paramShape;
  if (perRow)
    paramShape.assign(xType.getShape().begin(), xType.getShape().end() - 1);
  unsigned paramRank = paramShape.size();
  AffineMap toParams =
      perRow ? identity.dropResult(rank - 1) : AffineMap::get(rank, 0, ctx);
  AffineMap paramIdentity = AffineMap::getMultiDimIdentityMap(paramRank, ctx);
  SmallVector<utils::IteratorType> parallel(rank,
                                            utils::IteratorType::parallel);
  SmallVector<utils::IteratorType> reduction(rank,
                                             utils::IteratorType::reduction);
  if (perRow)
    std::fill_n(reduction.begin(), rank - 1, utils::IteratorType::parallel);
  auto paramTensor = [&] {
    return tensor::EmptyOp::create(b, loc, paramShape, i64).getResult();
  };
  Value zero =
      linalg::FillOp::create(
          b, loc, ValueRange{arith::ConstantIntOp::create(b, loc, i64, 0)},
          ValueRange{paramTensor()})
          .getResult(0);

  // Symmetric: A = max |X|; asymmetric: lo = min(min X, 0) and hi =
  // max(max X, 0) (the reductions start at 0). In int64: |X| <= 2^31 - 1.
  SmallVector<Value> inits(asymmetric ? 2 : 1, zero);
  SmallVector<AffineMap> maps(1 + inits.size(), toParams);
  maps[0] = identity;
  auto reduced = linalg::GenericOp::create(
      b, loc, ValueRange(inits).getTypes(), ValueRange{x}, inits, maps,
      reduction, [&](OpBuilder &nb, Location l, ValueRange args) {
        IntegerArith body(nb, l);
        Value v = body.cast(args[0], i64);
        if (asymmetric) {
          linalg::YieldOp::create(
              nb, l, ValueRange{body.min(args[1], v), body.max(args[2], v)});
          return;
        }
        Value magnitude = body.max(v, body.sub(body.i64(0), v));
        linalg::YieldOp::create(nb, l, body.max(args[1], magnitude));
      });

  // Per parameter set: A' (D'), R, k and z. With n = 127 (255), k = 23 (22)
  // + bitlength(A'): R = floor((n * 2^k + floor(A' / 2)) / A').
  int64_t qmax = asymmetric ? kDynamicUQMax : kDynamicQMax;
  int64_t fractionBits = asymmetric ? kWideFractionBits - 1 : kWideFractionBits;
  // apply_single(v, R, k) = (v * R + 2^(k-1)) >> k: |v * R| < 2^62.
  auto apply = [](IntegerArith &arith, Value v, Value reciprocal, Value k) {
    Value half = arith.shl(arith.i64(1), arith.sub(k, arith.i64(1)));
    return arith.shr(arith.add(arith.mul(v, reciprocal), half), k);
  };
  SmallVector<Value> paramInits(asymmetric ? 4 : 3);
  for (Value &init : paramInits)
    init = paramTensor();
  auto params = linalg::GenericOp::create(
      b, loc, ValueRange(paramInits).getTypes(), reduced.getResults(),
      paramInits,
      SmallVector<AffineMap>(reduced.getNumResults() + paramInits.size(),
                             paramIdentity),
      SmallVector<utils::IteratorType>(paramRank,
                                       utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location l, ValueRange args) {
        IntegerArith scalar(nb, l);
        Value lo, range;
        if (asymmetric) {
          lo = args[0];
          range = scalar.sub(args[1], lo);
        } else {
          range = args[0];
        }
        Value a = scalar.max(range, scalar.i64(1));
        Value bits = scalar.sub(scalar.i64(64),
                                math::CountLeadingZerosOp::create(nb, l, a));
        Value k = scalar.add(bits, scalar.i64(fractionBits));
        Value numerator = scalar.add(scalar.shl(scalar.i64(qmax), k),
                                     scalar.shr(a, scalar.i64(1)));
        Value reciprocal = arith::DivSIOp::create(nb, l, numerator, a);
        SmallVector<Value> results = {a, reciprocal, k};
        if (asymmetric)
          results.push_back(scalar.clamp(
              apply(scalar, scalar.sub(scalar.i64(0), lo), reciprocal, k), 0,
              qmax));
        linalg::YieldOp::create(nb, l, results);
      });

  // q = clamp(apply_single(X, R, k), -127, 127), or
  // clamp(apply_single(X, R, k) + z, 0, 255).
  Type i8 = b.getI8Type();
  Value qInit = tensor::EmptyOp::create(b, loc, xType.getShape(), i8);
  SmallVector<Value> qInputs = {x};
  qInputs.append(params.getResults().begin() + 1, params.getResults().end());
  SmallVector<AffineMap> qMaps(qInputs.size() + 1, toParams);
  qMaps.front() = identity;
  qMaps.back() = identity;
  Value q =
      linalg::GenericOp::create(
          b, loc, TypeRange{qInit.getType()}, qInputs, ValueRange{qInit}, qMaps,
          parallel,
          [&](OpBuilder &nb, Location l, ValueRange args) {
            IntegerArith body(nb, l);
            Value r = apply(body, body.cast(args[0], i64), args[1], args[2]);
            if (asymmetric)
              r = body.add(r, args[3]);
            linalg::YieldOp::create(
                nb, l,
                body.cast(body.clamp(r, asymmetric ? 0 : -qmax, qmax), i8));
          })
          .getResult(0);
  return {q, params.getResult(0), asymmetric ? params.getResult(3) : Value()};
}

} // namespace myquant
