//===- FreeAfterLastUse.cpp - free temporaries after their last use -------===//
//
// The deallocation pipeline frees every buffer at the end of the block
// that owns it; in a model's top-level function that keeps every
// temporary alive until the function returns.
//
//===----------------------------------------------------------------------===//

#include "myquant/Transforms/BufferAliases.h"
#include "myquant/Transforms/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace myquant {
#define GEN_PASS_DEF_MYQUANTFREEAFTERLASTUSE
#include "myquant/Transforms/Passes.h.inc"
} // namespace myquant

using namespace mlir;

namespace {

/// The last operation of `alloc`'s block that uses its buffer or a value
/// that may alias it, other than `dealloc`; failure when an alias leaves
/// the block or the address is taken as an integer.
FailureOr<Operation *> lastUse(memref::AllocOp alloc,
                               memref::DeallocOp dealloc) {
  Block *block = alloc->getBlock();
  Operation *last = alloc;
  LogicalResult result = myquant::forEachAliasUser(alloc, [&](Operation *user) {
    if (user == dealloc)
      return success();
    if (isa<memref::ExtractAlignedPointerAsIndexOp>(user))
      return failure();
    Operation *ancestor = block->findAncestorOpInBlock(*user);
    if (!ancestor || ancestor->hasTrait<OpTrait::IsTerminator>())
      return failure();
    if (last->isBeforeInBlock(ancestor))
      last = ancestor;
    return success();
  });
  if (failed(result))
    return failure();
  return last;
}

struct FreeAfterLastUsePass
    : myquant::impl::MyQuantFreeAfterLastUseBase<FreeAfterLastUsePass> {
  void runOnOperation() override {
    getOperation().walk([](memref::DeallocOp dealloc) {
      auto alloc = dealloc.getMemref().getDefiningOp<memref::AllocOp>();
      if (!alloc || alloc->getBlock() != dealloc->getBlock())
        return;
      FailureOr<Operation *> last = lastUse(alloc, dealloc);
      if (succeeded(last) && (*last)->isBeforeInBlock(dealloc))
        dealloc->moveAfter(*last);
    });
  }
};

} // namespace
