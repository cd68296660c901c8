//===- Passes.h - myquant-lower-to-llvm's own passes ------------*- C++ -*-===//

#ifndef MYQUANT_LOWERING_PASSES_H
#define MYQUANT_LOWERING_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace myquant {

/// The default of myquant-split-batch's max-weight-bytes: resnet50's 25.5
/// MB of int8 constants, the largest measured to gain from the split (one
/// L3 of this project's Zen 4 host).
inline constexpr int64_t kDefaultSplitBatchMaxWeightBytes = 32 << 20;

/// Whether the option `option` of the pass `pass` (its argument) is
/// positive; reports at `op` the `value` given when it is not.
inline mlir::LogicalResult checkPositiveOption(mlir::Operation *op,
                                               llvm::StringRef pass,
                                               llvm::StringRef option,
                                               int64_t value) {
  if (value >= 1)
    return mlir::success();
  return op->emitError() << pass << ": " << option << " must be positive, not "
                         << value;
}

#define GEN_PASS_DECL
#include "myquant/Lowering/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "myquant/Lowering/Passes.h.inc"

} // namespace myquant

#endif // MYQUANT_LOWERING_PASSES_H
