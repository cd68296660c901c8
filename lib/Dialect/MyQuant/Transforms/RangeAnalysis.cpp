//===- RangeAnalysis.cpp - the real range of every float tensor -----------===//

#include "myquant/Dialect/MyQuant/Transforms/RangeAnalysis.h"

#include "myquant/Dialect/MyQuant/IR/MyQuantOps.h"
#include "myquant/Dialect/MyQuant/Transforms/Passes.h"
#include "myquant/Dialect/MyQuant/Utils/FloatGraph.h"

#include "mlir/Analysis/DataFlow/Utils.h"
#include "llvm/Support/Format.h"

namespace myquant {
#define GEN_PASS_DEF_MYQUANTTESTPRINTRANGES
#include "myquant/Dialect/MyQuant/Transforms/Passes.h.inc"
} // namespace myquant

using namespace mlir;
using namespace myquant;

RealRange RealRange::join(const RealRange &lhs, const RealRange &rhs) {
  if (!lhs.bounds)
    return rhs;
  if (!rhs.bounds)
    return lhs;
  return {Interval(std::min(lhs.bounds->first, rhs.bounds->first),
                   std::max(lhs.bounds->second, rhs.bounds->second))};
}

void RealRange::print(raw_ostream &os) const {
  if (!bounds)
    os << "<unknown>";
  else
    os << "[" << llvm::format("%g", bounds->first) << ", "
       << llvm::format("%g", bounds->second) << "]";
}

bool myquant::keepsOperandScale(Operation *op) {
  return isSameScaleOp(op) || isa<tensor::PadOp>(op) ||
         isa<linalg::PoolingNchwMaxOp, linalg::PoolingNhwcMaxOp>(op);
}

DenseMap<Value, Interval> myquant::takeStats(func::FuncOp funcOp) {
  DenseMap<Value, Interval> stats;
  SmallVector<StatsOp> statsOps;
  funcOp.walk([&](StatsOp op) { statsOps.push_back(op); });
  for (StatsOp op : statsOps) {
    Interval range(*llvm::min_element(op.getMin()),
                   *llvm::max_element(op.getMax()));
    Value input = op.getInput();
    auto [it, inserted] = stats.try_emplace(input, range);
    if (!inserted)
      it->second = {std::min(it->second.first, range.first),
                    std::max(it->second.second, range.second)};
    op.getResult().replaceAllUsesWith(input);
    op.erase();
  }
  return stats;
}

LogicalResult
RangeAnalysis::visitOperation(Operation *op,
                              ArrayRef<const RangeLattice *> operands,
                              ArrayRef<RangeLattice *> results) {
  for (auto [result, lattice] : llvm::zip(op->getResults(), results))
    propagateIfChanged(lattice, lattice->join(transfer(op, result, operands)));
  return success();
}

void RangeAnalysis::setToEntryState(RangeLattice *lattice) {
  auto it = stats.find(lattice->getAnchor());
  RealRange entry;
  if (it != stats.end())
    entry.bounds = it->second;
  propagateIfChanged(lattice, lattice->join(entry));
}

RealRange RangeAnalysis::transfer(Operation *op, Value result,
                                  ArrayRef<const RangeLattice *> operands) {
  // Same-scale ops reuse their operand's parameters exactly, whatever
  // their own statistics say: that is what makes them free. (An operand
  // without a range is inside a layer, e.g. a grouped convolution's
  // accumulator before it is reshaped back.)
  if (keepsOperandScale(op) && !operands.empty() &&
      operands[0]->getValue().bounds)
    return operands[0]->getValue();
  // A softmax's result has its fixed parameters (docs/NumericSpec.md
  // 3.10) whatever its statistics, and so do the reshapes and transposes
  // of attention that follow it: [0, 255/256] chooses exactly those.
  if (auto softmax = dyn_cast<linalg::SoftmaxOp>(op);
      softmax && isLastDimSoftmax(softmax))
    return {Interval(0.0, 255.0 / 256.0)};
  auto it = stats.find(result);
  if (it != stats.end())
    return {it->second};
  if (std::optional<ElementwiseKind> kind = classifyElementwise(op)) {
    if (kind->kind == ElementwiseKind::Clamp &&
        operands[0]->getValue().bounds) {
      Interval in = *operands[0]->getValue().bounds;
      auto clamp = [&](double v) {
        return std::min(std::max(v, kind->lo), kind->hi);
      };
      return {Interval(clamp(in.first), clamp(in.second))};
    }
  }
  if (isa<tensor::ConcatOp>(op)) {
    RealRange all;
    for (const RangeLattice *operand : operands)
      all = RealRange::join(all, operand->getValue());
    return all;
  }
  return {};
}

namespace {

/// Prints the lattice: a remark per float result of every op.
struct TestPrintRangesPass
    : myquant::impl::MyQuantTestPrintRangesBase<TestPrintRangesPass> {
  void runOnOperation() override {
    func::FuncOp funcOp = getOperation();
    DenseMap<Value, Interval> stats = takeStats(funcOp);
    DataFlowSolver solver;
    dataflow::loadBaselineAnalyses(solver);
    solver.load<RangeAnalysis>(stats);
    if (failed(solver.initializeAndRun(funcOp)))
      return signalPassFailure();
    auto remark = [&](Location loc, Value value, StringRef what) {
      const RangeLattice *lattice = solver.lookupState<RangeLattice>(value);
      std::string range;
      llvm::raw_string_ostream os(range);
      (lattice ? lattice->getValue() : RealRange()).print(os);
      emitRemark(loc) << what << " range " << range;
    };
    for (BlockArgument arg : funcOp.getArguments())
      remark(funcOp.getLoc(), arg,
             "argument #" + std::to_string(arg.getArgNumber()));
    funcOp.walk([&](Operation *op) {
      if (op->getParentOp() != funcOp)
        return;
      for (OpResult result : op->getResults())
        if (isa<RankedTensorType>(result.getType()))
          remark(op->getLoc(), result,
                 "result #" + std::to_string(result.getResultNumber()));
    });
  }
};

} // namespace
