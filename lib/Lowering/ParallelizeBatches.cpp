//===- ParallelizeBatches.cpp - the kernels' batch loops in parallel ------===//
//
// The kernels' batch loops (myquant.parallel_batch) as scf.parallel, for
// convert-scf-to-openmp. Runs on buffers, where the loops carry no values.
//
//===----------------------------------------------------------------------===//

#include "myquant/Dialect/MyQuant/Utils/ParallelBatch.h"
#include "myquant/Lowering/Passes.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

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
    // The marked loops without values, unless in the iterations of
    // another (the kernels in myquant-split-batch's loop over images): each
    // thread runs those for its own iteration.
    myquant::ParallelBatchBodies bodies(getOperation());
    SmallVector<scf::ForOp> loops;
    getOperation()->walk([&](scf::ForOp loop) {
      if (myquant::isParallelBatch(loop) && loop.getInitArgs().empty() &&
          !bodies.runsInParallelBatch(loop))
        loops.push_back(loop);
    });
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
