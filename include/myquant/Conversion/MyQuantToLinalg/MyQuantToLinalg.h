//===- MyQuantToLinalg.h - myquant ops to integer-only linalg ---*- C++ -*-===//
//
// The patterns of convert-myquant-to-linalg, for passes that run them with
// patterns of their own.
//
//===----------------------------------------------------------------------===//

#ifndef MYQUANT_CONVERSION_MYQUANTTOLINALG_MYQUANTTOLINALG_H
#define MYQUANT_CONVERSION_MYQUANTTOLINALG_MYQUANTTOLINALG_H

#include "myquant/Dialect/MyQuant/IR/MyQuantOps.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"

namespace myquant {

/// Quantized tensors become tensors of their signless storage integers.
class StorageTypeConverter : public mlir::TypeConverter {
public:
  StorageTypeConverter();
};

/// Adds the patterns that rewrite every myquant op, `quant.scast` and the
/// data movement on quantized tensors into linalg, arith and tensor ops on
/// the storage integers (`converter` is a StorageTypeConverter or extends
/// one). Ops without a precomputed rescale get one computed with
/// `defaultRounding`. With `dualMac`, convolutions and matmuls with constant
/// weights pair their products into the ARM DSP extension's SMLAD, the
/// weights kept 8-bit and unpacked by SXTB16. Function
/// signatures, calls and returns need the func dialect's type conversion
/// patterns besides.
void populateMyQuantToLinalgConversionPatterns(
    const mlir::TypeConverter &converter, mlir::RewritePatternSet &patterns,
    RoundingMode defaultRounding, bool dualMac = false);

/// Unit attribute that myquant-set-target puts on a module whose target has
/// the ARM DSP extension (SMLAD); convert-myquant-to-linalg{dual-mac} reads
/// it.
inline constexpr llvm::StringLiteral kArmDspAttrName = "myquant.arm_dsp";

} // namespace myquant

#endif // MYQUANT_CONVERSION_MYQUANTTOLINALG_MYQUANTTOLINALG_H
