//===- OpenMPLoopsNoWait.cpp - one barrier per kernel's OpenMP region -----===//
//
// A work-sharing loop that ends its parallel region needs no barrier of its
// own: the region's join waits for every thread (see Passes.td).
//
//===----------------------------------------------------------------------===//

#include "myquant/Lowering/Passes.h"

#include "mlir/Dialect/OpenMP/OpenMPDialect.h"

namespace myquant {
#define GEN_PASS_DEF_MYQUANTOPENMPLOOPSNOWAIT
#include "myquant/Lowering/Passes.h.inc"
} // namespace myquant

using namespace mlir;

namespace {

struct OpenMPLoopsNoWaitPass
    : public myquant::impl::MyQuantOpenMPLoopsNoWaitBase<
          OpenMPLoopsNoWaitPass> {
  void runOnOperation() override {
    getOperation()->walk([](omp::WsloopOp loop) {
      Operation *next = loop->getNextNode();
      if (!isa_and_nonnull<omp::TerminatorOp>(next) ||
          !isa<omp::ParallelOp>(loop->getParentOp()) ||
          !loop.getReductionVars().empty())
        return;
      loop.setNowait(true);
    });
  }
};

} // namespace
