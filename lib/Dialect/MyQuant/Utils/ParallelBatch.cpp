//===- ParallelBatch.cpp - loops marked myquant.parallel_batch ------------===//

#include "myquant/Dialect/MyQuant/Utils/ParallelBatch.h"
#include "myquant/Dialect/MyQuant/IR/MyQuantDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/CallInterfaces.h"

using namespace mlir;
using namespace myquant;

void myquant::markParallelBatch(Operation *loop) {
  loop->setAttr(MyQuantDialect::ParallelBatchAttrHelper::getNameStr(),
                UnitAttr::get(loop->getContext()));
}

bool myquant::isParallelBatch(Operation *loop) {
  return loop->hasAttr(MyQuantDialect::ParallelBatchAttrHelper::getNameStr());
}

ParallelBatchBodies::ParallelBatchBodies(Operation *root) {
  SmallVector<Operation *> worklist;
  root->walk([&](Operation *op) {
    if (isParallelBatch(op))
      worklist.push_back(op);
  });
  SymbolTableCollection symbols;
  while (!worklist.empty())
    worklist.pop_back_val()->walk([&](CallOpInterface call) {
      Operation *callee = call.resolveCallableInTable(&symbols);
      if (callee && called.insert(callee).second)
        worklist.push_back(callee);
    });
}

bool ParallelBatchBodies::runsInParallelBatch(Operation *op) const {
  for (Operation *parent = op->getParentOp(); parent;
       parent = parent->getParentOp())
    if (isParallelBatch(parent) || called.contains(parent))
      return true;
  return false;
}
