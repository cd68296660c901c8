//===- BufferAliases.h - the uses of a buffer and its aliases ---*- C++ -*-===//
//
// What the passes that reason about a buffer's lifetime on memrefs
// (myquant-free-after-last-use, myquant-plan-static-memory) follow from an
// allocation.
//
//===----------------------------------------------------------------------===//

#ifndef MYQUANT_TRANSFORMS_BUFFERALIASES_H
#define MYQUANT_TRANSFORMS_BUFFERALIASES_H

#include "mlir/IR/Operation.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace myquant {

/// Calls `visit` once for each user of `buffer` and of every value that may
/// alias it: the memref results of those users (views, casts, calls, loops
/// carrying it) and, for a user that is a terminator, those of the op whose
/// region it ends (a region that yields it). Stops at the first failure of
/// `visit` and returns it.
mlir::LogicalResult forEachAliasUser(
    mlir::Value buffer,
    llvm::function_ref<mlir::LogicalResult(mlir::Operation *)> visit);

} // namespace myquant

#endif // MYQUANT_TRANSFORMS_BUFFERALIASES_H
