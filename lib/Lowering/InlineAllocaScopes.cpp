//===- InlineAllocaScopes.cpp - alloca scopes without stack allocations ---===//
//
// convert-scf-to-openmp puts each loop body in a memref.alloca_scope, which
// must be inlined before SCF becomes CFG; the canonicalizer keeps one that
// holds a call (see Passes.td).
//
//===----------------------------------------------------------------------===//

#include "myquant/Lowering/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace myquant {
#define GEN_PASS_DEF_MYQUANTINLINEALLOCASCOPES
#include "myquant/Lowering/Passes.h.inc"
} // namespace myquant

using namespace mlir;

namespace {

/// Whether `op` may allocate on the stack of the enclosing allocation
/// scope. A call's callee frees its stack when it returns.
bool mayAllocateInScope(Operation *op) {
  if (isa<CallOpInterface>(op) ||
      op->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
    return false;
  auto effects = dyn_cast<MemoryEffectOpInterface>(op);
  if (!effects)
    return true;
  SmallVector<MemoryEffects::EffectInstance> instances;
  effects.getEffects(instances);
  return llvm::any_of(instances, [](const MemoryEffects::EffectInstance &e) {
    return isa<MemoryEffects::Allocate>(e.getEffect()) &&
           e.getResource() ==
               SideEffects::AutomaticAllocationScopeResource::get();
  });
}

struct InlineAllocaScopesPass
    : public myquant::impl::MyQuantInlineAllocaScopesBase<
          InlineAllocaScopesPass> {
  void runOnOperation() override {
    SmallVector<memref::AllocaScopeOp> scopes;
    getOperation()->walk([&](memref::AllocaScopeOp scope) {
      bool allocates =
          scope
              ->walk<WalkOrder::PreOrder>([&](Operation *op) {
                if (op == scope)
                  return WalkResult::advance();
                if (mayAllocateInScope(op))
                  return WalkResult::interrupt();
                // A nested scope frees its own allocations.
                if (op->hasTrait<OpTrait::AutomaticAllocationScope>())
                  return WalkResult::skip();
                return WalkResult::advance();
              })
              .wasInterrupted();
      if (!allocates)
        scopes.push_back(scope);
    });
    for (memref::AllocaScopeOp scope : scopes) {
      Block &body = scope.getBodyRegion().front();
      Operation *terminator = body.getTerminator();
      scope->replaceAllUsesWith(terminator->getOperands());
      terminator->erase();
      scope->getBlock()->getOperations().splice(scope->getIterator(),
                                                body.getOperations());
      scope.erase();
    }
  }
};

} // namespace
