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
/// `defaultRounding`. Function signatures, calls and returns need the func
/// dialect's type conversion patterns besides.
void populateMyQuantToLinalgConversionPatterns(
    const mlir::TypeConverter &converter, mlir::RewritePatternSet &patterns,
    RoundingMode defaultRounding);

} // namespace myquant

#endif // MYQUANT_CONVERSION_MYQUANTTOLINALG_MYQUANTTOLINALG_H
