//===- IntegerArith.h - requantization arithmetic as arith ops --*- C++ -*-===//
//
// The integer arithmetic of docs/NumericSpec.md emitted as `arith` ops, on
// scalars (inside linalg bodies, convert-myquant-to-linalg) or on vectors
// (in the epilogues of the VNNI kernels). Both lowerings build it here, so
// their results agree bit for bit by construction.
//
//===----------------------------------------------------------------------===//

#ifndef MYQUANT_CONVERSION_INTEGERARITH_H
#define MYQUANT_CONVERSION_INTEGERARITH_H

#include "myquant/Dialect/MyQuant/IR/MyQuantOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/TypeUtilities.h"

#include <optional>

namespace myquant {

/// The storage view of a quantized tensor type.
struct Storage {
  mlir::IntegerType type;
  bool isSigned;
  int64_t min, max;
};

Storage storageOf(mlir::Type type);

/// Per-channel integers of a requantization: the rescale and the clamp.
struct Requant {
  llvm::SmallVector<int32_t> multiplier, shift;
  RoundingMode rounding;
  int64_t zeroPoint, lo, hi;
};

/// Uses the slot's precomputed rescale, or computes multipliers for its
/// real factors (RescaleOpInterface) with `rounding`; the clamp is `clamp`
/// or the storage range of `resultType`.
mlir::FailureOr<Requant> makeRequant(mlir::Operation *op,
                                     const RescaleSlot &slot,
                                     RoundingMode rounding, ClampAttr clamp,
                                     mlir::Type resultType);

/// An add of 8-bit operands as one rounding of a linear form of the
/// centered operands: clamp(floor((lhs ux + rhs uy + offset) / 2^shift)),
/// equal to the three rescales of NumericSpec 3.2 for every pair of operand
/// values (checked exhaustively when found; NumericSpec 9).
struct LinearAdd {
  int64_t lhs, rhs, offset, shift;
};

/// Everything a quantized add needs besides its operands (NumericSpec 3.2).
struct AddRescales {
  int64_t leftShift;
  Storage lhsStorage, rhsStorage, resultStorage;
  int64_t lhsZeroPoint, rhsZeroPoint;
  /// The operand rescales (no zero point, no clamp) and the output one.
  Requant lhs, rhs, result;
  /// The rescaled rhs is subtracted (myquant.add's `subtract`).
  bool subtract = false;
  /// Set when the int32 form has an exact linear form (two int32 multiplies
  /// instead of four multiplies and a 64-bit high half per element).
  std::optional<LinearAdd> linear;
};

/// The linear form of an add with the int32 form (IntegerArith::hasInt32Form)
/// whose results equal the spec's for all 2^16 operand pairs, with every
/// intermediate in int32; none when no candidate near the exact ratios
/// passes that check.
std::optional<LinearAdd> findLinearAdd(const AddRescales &rescales);

/// Reports at `op` and fails when a rescale has no fixed-point form.
mlir::FailureOr<AddRescales> getAddRescales(AddOp op, RoundingMode rounding);

/// Emits integer arithmetic on scalars, or on vectors of `vectorShape` when
/// it is not empty: constants are splatted and casts keep the shape.
class IntegerArith {
public:
  IntegerArith(mlir::OpBuilder &b, mlir::Location loc,
               llvm::ArrayRef<int64_t> vectorShape = {})
      : b(b), loc(loc), vectorShape(vectorShape) {}

  /// `element`, or a vector of it.
  mlir::Type typeOf(mlir::Type element) const;
  mlir::Value constant(mlir::Type element, int64_t v);
  mlir::Value i64(int64_t v) { return constant(b.getI64Type(), v); }
  /// Widens (or narrows) an integer to `to`, honouring the storage's sign.
  mlir::Value cast(mlir::Value v, mlir::Type to, bool isSigned = true);
  mlir::Value add(mlir::Value x, mlir::Value y) {
    return mlir::arith::AddIOp::create(b, loc, x, y);
  }
  mlir::Value sub(mlir::Value x, mlir::Value y) {
    return mlir::arith::SubIOp::create(b, loc, x, y);
  }
  mlir::Value mul(mlir::Value x, mlir::Value y) {
    return mlir::arith::MulIOp::create(b, loc, x, y);
  }
  mlir::Value shl(mlir::Value x, mlir::Value y) {
    return mlir::arith::ShLIOp::create(b, loc, x, y);
  }
  mlir::Value shr(mlir::Value x, mlir::Value y) {
    return mlir::arith::ShRSIOp::create(b, loc, x, y);
  }
  mlir::Value max(mlir::Value x, mlir::Value y) {
    return mlir::arith::MaxSIOp::create(b, loc, x, y);
  }
  mlir::Value min(mlir::Value x, mlir::Value y) {
    return mlir::arith::MinSIOp::create(b, loc, x, y);
  }
  mlir::Value select(mlir::arith::CmpIPredicate pred, mlir::Value x,
                     mlir::Value y, mlir::Value ifTrue, mlir::Value ifFalse);
  mlir::Value clamp(mlir::Value v, int64_t lo, int64_t hi) {
    mlir::Type type = mlir::getElementTypeOrSelf(v.getType());
    return min(max(v, constant(type, lo)), constant(type, hi));
  }
  mlir::Value saturateInt32(mlir::Value v) {
    return clamp(v, INT32_MIN, INT32_MAX);
  }

  /// `v` clamped to [lo, hi] (within `storage`'s range) and narrowed to the
  /// storage type: clamped to the storage range first, which x86 narrows in
  /// one saturating step (vpmovsdb), then to [lo, hi] on the narrow values
  /// (a fused relu: 16 bytes instead of 16 int32).
  mlir::Value clampNarrow(mlir::Value v, const Storage &storage, int64_t lo,
                          int64_t hi);

  /// `value` (i64 within int32) times multiplier * 2^-shift, as in
  /// fixedpoint::applyMultiplier; the result is an i64 within int32.
  mlir::Value applyMultiplier(mlir::Value value, mlir::Value multiplier,
                              mlir::Value shift, RoundingMode rounding);

  /// The high 32 bits of the signed 64-bit products of int32 `x` and `y`.
  mlir::Value mulHighSigned(mlir::Value x, mlir::Value y);

  /// `single` rounding of int32 `v` times multiplier * 2^-shift for
  /// shift >= 33, all in int32: with h the high half of the 32 x 32 product,
  /// floor((v m + 2^(s-1)) / 2^s) == floor((h + 2^(s-33)) / 2^(s-32)) (the
  /// rounding term is a multiple of 2^32); |h| <= 2^30. `shiftLess32` is
  /// s - 32 and `half` 2^(s-33) (plus zp 2^(s-32) to add a zero point zp
  /// with the rounding, as callers do when the sum provably fits).
  mlir::Value highHalfRescale(mlir::Value v, mlir::Value multiplier,
                              mlir::Value shiftLess32, mlir::Value half);

  /// Whether a high-half rescale by shift `s` may add `zeroPoint` with its
  /// rounding term: floor((h + half) / 2^k) + zp == floor((h + half +
  /// zp 2^k) / 2^k) for k = s - 32, and with -2^30 <= h < 2^30 the sum stays
  /// in int32 while |zp| 2^k + half <= 2^30.
  static bool zeroPointFitsRounding(int64_t zeroPoint, int64_t shift);

  /// highHalfRescale's `half` for shift `s`, with `zeroPoint` added in (0
  /// for none).
  static int64_t highHalfRounding(int64_t shift, int64_t zeroPoint);

  /// Rescales `acc` (i64), adds the zero point and clamps, then narrows to
  /// the storage type.
  mlir::Value requantize(mlir::Value acc, mlir::Value multiplier,
                         mlir::Value shift, const Requant &requant,
                         mlir::Type storageType);

  /// requantize for an int64 accumulator `acc` (docs/NumericSpec.md 6.3):
  /// `single` rounding of acc * multiplier * 2^-shift computed exactly in
  /// 128 bits, saturated to int32, plus the zero point, clamped, narrowed.
  mlir::Value requantizeInt64(mlir::Value acc, mlir::Value multiplier,
                              mlir::Value shift, const Requant &requant,
                              mlir::Type storageType);

  /// The quantized sum of storage values `x` and `y`, in the result's
  /// storage type.
  mlir::Value quantizedAdd(mlir::Value x, mlir::Value y,
                           const AddRescales &rescales);

  /// quantizedAdd in 64 bits with the multiplier and shift of each rescale
  /// (lhs, rhs, result: six i32 values) given as values, read per channel
  /// for an add of per-channel values (docs/NumericSpec.md 6.6).
  mlir::Value quantizedAdd(mlir::Value x, mlir::Value y,
                           const AddRescales &rescales,
                           llvm::ArrayRef<mlir::Value> multipliersAndShifts);

  /// Storage value `v` minus `zeroPoint`, as `type` (which holds it).
  mlir::Value center(mlir::Value v, const Storage &storage, int64_t zeroPoint,
                     mlir::Type type) {
    return sub(cast(v, type, storage.isSigned), constant(type, zeroPoint));
  }

  /// quantizedAdd of operands given centered (value - zero point) as
  /// integers that hold them exactly: i32 for 8-bit operands of an add with
  /// an int32 form, else any width (widened to i64). Lets a kernel add its
  /// clamped int32 result without narrowing it to storage first.
  mlir::Value centeredAdd(mlir::Value ux, mlir::Value uy,
                          const AddRescales &rescales);

  /// Whether `rescales` allows centeredAdd on i32 operands (one multiplier
  /// per rescale, 8-bit operands, shifts in range).
  static bool hasInt32Form(const AddRescales &rescales);

private:
  /// centeredAdd's 64-bit form with the six rescale values.
  mlir::Value wideAdd(mlir::Value ux, mlir::Value uy, const AddRescales &r,
                      llvm::ArrayRef<mlir::Value> multipliersAndShifts);

  mlir::OpBuilder &b;
  mlir::Location loc;
  llvm::SmallVector<int64_t> vectorShape;
};

/// The runtime int8 input of a dynamic matmul (docs/NumericSpec.md 8.2),
/// shared by its generic lowering and its VNNI kernel. Its parameters are
/// i64 tensors of rank 0 (per tensor), or with one entry per row (8.2c).
struct DynamicInput {
  /// The int8 values (uint8 when asymmetric), a tensor of the input's shape.
  mlir::Value q;
  /// A' = max(max |X|, 1), q's scale being scale(X) * A' / 127;
  /// asymmetric, D' = max(hi - lo, 1) and scale(X) * D' / 255.
  mlir::Value scale;
  /// Asymmetric: the runtime zero point z in [0, 255].
  mlir::Value zeroPoint;
};

/// Quantizes the wide (i32 storage) tensor `x` with the parameters of its
/// own values, symmetric (NumericSpec 8.2) or asymmetric (8.2b), over the
/// whole tensor or over each row along its last dimension (`perRow`, 8.2c),
/// as linalg on tensors.
DynamicInput quantizeDynamicInput(mlir::OpBuilder &b, mlir::Location loc,
                                  mlir::Value x, bool asymmetric, bool perRow);

} // namespace myquant

#endif // MYQUANT_CONVERSION_INTEGERARITH_H
