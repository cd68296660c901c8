//===- ParallelBatch.h - loops marked myquant.parallel_batch ----*- C++ -*-===//
//
// A loop marked `myquant.parallel_batch` (a kernel's loop over the batch or
// over (batch, range), myquant-split-batch's loop over images) has
// iterations that write disjoint slices of its results and only read
// everything else: myquant-parallelize-batches runs it in parallel, unless
// it runs in the iterations of another such loop.
//
//===----------------------------------------------------------------------===//

#ifndef MYQUANT_DIALECT_MYQUANT_UTILS_PARALLELBATCH_H
#define MYQUANT_DIALECT_MYQUANT_UTILS_PARALLELBATCH_H

#include "mlir/IR/Operation.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseSet.h"

namespace myquant {

/// Marks `loop` `myquant.parallel_batch`.
void markParallelBatch(mlir::Operation *loop);

/// Whether `loop` is marked `myquant.parallel_batch`.
bool isParallelBatch(mlir::Operation *loop);

/// Where the iterations of the marked loops under a root run: their
/// bodies and the functions called there, directly or through other calls.
/// An op there runs on the thread of its iteration; a parallel loop of its
/// own would be serialized by OpenMP after paying for opening it.
class ParallelBatchBodies {
public:
  explicit ParallelBatchBodies(mlir::Operation *root);

  /// Whether `op` runs in the iterations of a marked loop: inside one (not
  /// counting `op` itself), or in a function called there. Functions
  /// created after the constructor do not count as called.
  bool runsInParallelBatch(mlir::Operation *op) const;

private:
  llvm::DenseSet<mlir::Operation *> called;
};

} // namespace myquant

#endif // MYQUANT_DIALECT_MYQUANT_UTILS_PARALLELBATCH_H
