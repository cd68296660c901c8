//===- DecomposeAggregatedOps.cpp - linalg.softmax and the like -----------===//

#include "myquant/Lowering/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

namespace myquant {
#define GEN_PASS_DEF_MYQUANTDECOMPOSEAGGREGATEDOPS
#include "myquant/Lowering/Passes.h.inc"
} // namespace myquant

using namespace mlir;

namespace {

class DecomposeAggregatedOpsPass
    : public myquant::impl::MyQuantDecomposeAggregatedOpsBase<
          DecomposeAggregatedOpsPass> {
public:
  void runOnOperation() override {
    // convert-linalg-to-loops lowers structured ops only: an aggregated op
    // left here would reach convert-to-llvm as an unlowered cast.
    IRRewriter rewriter(&getContext());
    WalkResult result =
        getOperation()->walk([&](linalg::AggregatedOpInterface op) {
          // Upstream's decomposition of softmax builds float arithmetic
          // whatever the element type, and crashes on any other.
          if (auto softmax = dyn_cast<linalg::SoftmaxOp>(*op)) {
            Type element = softmax.getInputOperandType().getElementType();
            if (!isa<FloatType>(element)) {
              softmax.emitOpError()
                  << "has element type " << element
                  << "; myquant decomposes a float softmax only";
              return WalkResult::interrupt();
            }
          }
          rewriter.setInsertionPoint(op);
          FailureOr<SmallVector<Value>> values =
              op.decomposeOperation(rewriter);
          if (failed(values)) {
            op->emitError() << "'" << op->getName()
                            << "' cannot be decomposed into linalg.generic "
                               "ops, which myquant needs to lower it";
            return WalkResult::interrupt();
          }
          rewriter.replaceOp(op, *values);
          return WalkResult::advance();
        });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
