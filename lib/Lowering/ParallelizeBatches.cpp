//===- ParallelizeBatches.cpp - the kernels' batch loops in parallel ------===//
//
// The kernels' batch loops (myquant.parallel_batch) as scf.parallel, for
// convert-scf-to-openmp. Runs on buffers, where the loops carry no values.
//
//===----------------------------------------------------------------------===//

#include "myquant/Dialect/MyQuant/IR/MyQuantDialect.h"
#include "myquant/Lowering/Passes.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

namespace myquant {
#define GEN_PASS_DEF_MYQUANTPARALLELIZEBATCHES
#include "myquant/Lowering/Passes.h.inc"
} // namespace myquant

using namespace mlir;

namespace {

struct ParallelizeBatchesPass
    : public myquant::impl::MyQuantParallelizeBatchesBase<
          ParallelizeBatchesPass> {
  void runOnOperation() override {
    StringRef marker =
        myquant::MyQuantDialect::ParallelBatchAttrHelper::getNameStr();
    // The outermost marked loops without values: a loop inside another's
    // iterations, directly or in a function called there (the kernels in
    // myquant-split-batch's loop over images), runs on that iteration's
    // thread: OpenMP would serialize the nested region, after paying for
    // opening it.
    SmallVector<scf::ForOp> outer;
    getOperation()->walk<WalkOrder::PreOrder>([&](scf::ForOp loop) {
      if (!loop->hasAttr(marker) || !loop.getInitArgs().empty())
        return WalkResult::advance();
      outer.push_back(loop);
      return WalkResult::skip();
    });
    SymbolTableCollection symbols;
    DenseSet<Operation *> called;
    SmallVector<Operation *> worklist(outer.begin(), outer.end());
    while (!worklist.empty())
      worklist.pop_back_val()->walk([&](CallOpInterface call) {
        Operation *callee = call.resolveCallableInTable(&symbols);
        if (callee && called.insert(callee).second)
          worklist.push_back(callee);
      });
    SmallVector<scf::ForOp> loops;
    for (scf::ForOp loop : outer) {
      auto func = loop->getParentOfType<FunctionOpInterface>();
      if (!func || !called.contains(func))
        loops.push_back(loop);
    }
    for (scf::ForOp loop : loops) {
      OpBuilder b(loop);
      auto parallel = scf::ParallelOp::create(
          b, loop.getLoc(), ValueRange{loop.getLowerBound()},
          ValueRange{loop.getUpperBound()}, ValueRange{loop.getStep()});
      Block *body = loop.getBody();
      body->getTerminator()->erase();
      loop.getInductionVar().replaceAllUsesWith(parallel.getInductionVars()[0]);
      Block *parallelBody = parallel.getBody();
      parallelBody->getOperations().splice(
          parallelBody->getTerminator()->getIterator(), body->getOperations());
      loop.erase();
    }
  }
};

} // namespace
