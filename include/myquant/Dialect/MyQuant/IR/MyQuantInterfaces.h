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
