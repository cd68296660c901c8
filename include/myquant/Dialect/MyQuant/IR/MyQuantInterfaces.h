//===- MyQuantInterfaces.h - myquant op interfaces --------------*- C++ -*-===//
//
// What rescaling ops and window ops (convolutions, pools) have in common:
// the real multipliers their quantized types call for, and the positions of
// the dimensions of their layout.
//
//===----------------------------------------------------------------------===//

#ifndef MYQUANT_DIALECT_MYQUANT_IR_MYQUANTINTERFACES_H
#define MYQUANT_DIALECT_MYQUANT_IR_MYQUANTINTERFACES_H

#include "myquant/Dialect/MyQuant/IR/MyQuantDialect.h"

#include "mlir/IR/OpDefinition.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>

namespace myquant {

/// Dimension positions of a 4-D activation and filter in a layout: NCHW
/// activations with F x C x KH x KW filters, or NHWC with KH x KW x C x F.
struct LayoutDims {
  unsigned batch, channel, height, width;
  unsigned filterOut, filterIn, filterH, filterW;
};

LayoutDims getLayoutDims(Layout layout);

/// One rescale attribute of an op and the real multipliers (one, or one
/// per channel) that the op's quantized types call for.
struct RescaleSlot {
  mlir::StringAttr name;
  RescaleAttr rescale;
  llvm::SmallVector<double> reals;
};

/// `s_a[c] * s_b[c] / s_out` for each channel, a per-tensor side applying
/// to every channel: the multipliers of a product (convolution, matmul,
/// element-wise mul).
llvm::SmallVector<double> getProductMultipliers(mlir::Type lhs, mlir::Type rhs,
                                                mlir::Type result);

/// Weights quantized per group of K (docs/NumericSpec.md 7.2): group
/// scales are `u[c] * m[c, g]` with integer multipliers `m` in
/// [1, 2^kGroupScaleBits] of the channel's unit scale `u[c]`.
inline constexpr int64_t kGroupScaleBits = 8;
struct GroupScales {
  /// The dimension of output channels (block size 1) and the one cut into
  /// groups of `groupSize`.
  int32_t channelAxis = -1, groupAxis = -1;
  int64_t groupSize = 0;
  int64_t channels = 0, groups = 0;
  /// u[c] = max_g s[c, g] / 2^kGroupScaleBits.
  llvm::SmallVector<double> unitScales;
  /// m[c, g] = round_half_even(s[c, g] / u[c]), row-major [channel][group].
  llvm::SmallVector<int64_t> multipliers;
  int64_t multiplier(int64_t c, int64_t g) const {
    return multipliers[c * groups + g];
  }
};

/// The unit scales and integer group multipliers of a (tensor of a) 2-D
/// sub-channel quantized type with block size 1 along one dimension and
/// blocks along the other; std::nullopt for any other type. This is the
/// only place they are derived; it does not check their range (the op
/// verifiers do).
std::optional<GroupScales> getGroupScales(mlir::Type type);

/// `s_in[c] / s_out` for each channel of `input`.
llvm::SmallVector<double> getRequantizeMultipliers(mlir::Type input,
                                                   mlir::Type result);

} // namespace myquant

#include "myquant/Dialect/MyQuant/IR/MyQuantInterfaces.h.inc"

namespace myquant {

/// Sets each rescale attribute of `op` to the fixed-point form of its real
/// multipliers with `rounding`. Reports at `reportAt` (the op the user
/// wrote, when `op` replaces it) and fails when a multiplier has none.
mlir::LogicalResult encodeRescales(RescaleOpInterface op, RoundingMode rounding,
                                   mlir::Operation *reportAt);

} // namespace myquant

#endif // MYQUANT_DIALECT_MYQUANT_IR_MYQUANTINTERFACES_H
