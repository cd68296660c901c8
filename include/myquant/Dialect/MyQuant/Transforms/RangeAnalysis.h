//===- RangeAnalysis.h - the real range of every float tensor ---*- C++ -*-===//
//
// The dataflow half of the dry run: from the calibration statistics on some
// values, the range every float tensor of a function takes. Same-scale ops
// take their operand's range, clamps narrow it, concatenations join their
// operands'; everything else has the range of its own statistics.
//
//===----------------------------------------------------------------------===//

#ifndef MYQUANT_DIALECT_MYQUANT_TRANSFORMS_RANGEANALYSIS_H
#define MYQUANT_DIALECT_MYQUANT_TRANSFORMS_RANGEANALYSIS_H

#include "mlir/Analysis/DataFlow/SparseAnalysis.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"

#include <optional>
#include <utility>

namespace myquant {

/// A closed real interval [first, second].
using Interval = std::pair<double, double>;

/// The lattice value: a known range, or none yet.
struct RealRange {
  std::optional<Interval> bounds;

  /// The union: a value reached along two paths needs both ranges.
  static RealRange join(const RealRange &lhs, const RealRange &rhs);
  bool operator==(const RealRange &other) const {
    return bounds == other.bounds;
  }
  void print(llvm::raw_ostream &os) const;
};

using RangeLattice = mlir::dataflow::Lattice<RealRange>;

/// Whether `op` reuses its operand's quantization parameters exactly (data
/// movement, padding, max pooling).
bool keepsOperandScale(mlir::Operation *op);

/// Moves every myquant.stats annotation of `funcOp` into the returned map
/// (the union of a value's ranges) and erases the stats ops.
llvm::DenseMap<mlir::Value, Interval> takeStats(mlir::func::FuncOp funcOp);

class RangeAnalysis
    : public mlir::dataflow::SparseForwardDataFlowAnalysis<RangeLattice> {
public:
  RangeAnalysis(mlir::DataFlowSolver &solver,
                const llvm::DenseMap<mlir::Value, Interval> &stats)
      : SparseForwardDataFlowAnalysis(solver), stats(stats) {}

  mlir::LogicalResult
  visitOperation(mlir::Operation *op,
                 llvm::ArrayRef<const RangeLattice *> operands,
                 llvm::ArrayRef<RangeLattice *> results) override;

  void setToEntryState(RangeLattice *lattice) override;

private:
  RealRange transfer(mlir::Operation *op, mlir::Value result,
                     llvm::ArrayRef<const RangeLattice *> operands);

  const llvm::DenseMap<mlir::Value, Interval> &stats;
};

} // namespace myquant

#endif // MYQUANT_DIALECT_MYQUANT_TRANSFORMS_RANGEANALYSIS_H
