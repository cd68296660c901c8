//===- BufferAliases.cpp - the uses of a buffer and its aliases -----------===//

#include "myquant/Transforms/BufferAliases.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "llvm/ADT/DenseSet.h"

using namespace mlir;

namespace myquant {

LogicalResult
forEachAliasUser(Value buffer,
                 llvm::function_ref<LogicalResult(Operation *)> visit) {
  SmallVector<Value> worklist = {buffer};
  DenseSet<Value> seen;
  DenseSet<Operation *> visited;
  auto mayAlias = [&](Operation *op) {
    for (Value result : op->getResults())
      if (isa<BaseMemRefType>(result.getType()))
        worklist.push_back(result);
  };
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    if (!seen.insert(value).second)
      continue;
    for (Operation *user : value.getUsers()) {
      if (!visited.insert(user).second)
        continue;
      if (failed(visit(user)))
        return failure();
      mayAlias(user);
      if (user->hasTrait<OpTrait::IsTerminator>())
        if (Operation *parent = user->getParentOp())
          mayAlias(parent);
    }
  }
  return success();
}

} // namespace myquant
