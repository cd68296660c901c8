//===- FlattenConstantGlobals.cpp - weights as one-dimensional globals ----===//
//
// An n-d constant global becomes an LLVM array of arrays: one uniqued
// ConstantDataArray per innermost row (a single float for a 1x1 conv's
// weights) inside nested ConstantArrays, which LLVM's optimizer walks
// operand by operand. One-dimensional, the same bytes are one constant.
//
//===----------------------------------------------------------------------===//

#include "myquant/Lowering/Passes.h"

#include "myquant/Dialect/MyQuant/IR/MyQuantTypeUtils.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/DenseMap.h"

#include <numeric>

namespace myquant {
#define GEN_PASS_DEF_MYQUANTFLATTENCONSTANTGLOBALS
#include "myquant/Lowering/Passes.h.inc"
} // namespace myquant

using namespace mlir;

namespace {

/// The one-dimensional type of a global that can be flattened: constant,
/// private, of static identity-layout shape of rank > 1, initialized with
/// dense elements.
std::optional<MemRefType> getFlatType(memref::GlobalOp global) {
  MemRefType type = global.getType();
  if (!global.getConstant() || !global.isPrivate() || type.getRank() < 2 ||
      !type.hasStaticShape() || !type.getLayout().isIdentity() ||
      !isa_and_nonnull<DenseElementsAttr>(global.getInitialValueAttr()))
    return std::nullopt;
  return MemRefType::get({type.getNumElements()}, type.getElementType(),
                         MemRefLayoutAttrInterface(), type.getMemorySpace());
}

class FlattenConstantGlobalsPass
    : public myquant::impl::MyQuantFlattenConstantGlobalsBase<
          FlattenConstantGlobalsPass> {
public:
  void runOnOperation() override {
    ModuleOp module = getOperation();
    DenseMap<StringAttr, SmallVector<memref::GetGlobalOp>> uses;
    module.walk([&](memref::GetGlobalOp get) {
      uses[get.getNameAttr().getAttr()].push_back(get);
    });
    for (auto global : module.getOps<memref::GlobalOp>()) {
      // Translation to LLVM writes out every element, even of a splat: a
      // huge one would exhaust memory there.
      MemRefType globalType = global.getType();
      std::optional<int64_t> count = myquant::staticElementCount(globalType);
      if (global.getConstant() && globalType.hasStaticShape() &&
          (!count || *count > myquant::kMaxWeightElements)) {
        global.emitError() << "constant of "
                           << (count ? std::to_string(*count)
                                     : std::string("more than 2^63"))
                           << " elements; at most "
                           << myquant::kMaxWeightElements
                           << " are supported (the object holds each one)";
        return signalPassFailure();
      }
      std::optional<MemRefType> flat = getFlatType(global);
      if (!flat)
        continue;
      MemRefType type = global.getType();
      auto value = cast<DenseElementsAttr>(*global.getInitialValue());
      global.setInitialValueAttr(value.reshape(
          RankedTensorType::get(flat->getShape(), type.getElementType())));
      global.setType(*flat);
      // The users keep the n-d view of the same contiguous bytes.
      ReassociationIndices all(type.getRank());
      std::iota(all.begin(), all.end(), 0);
      for (memref::GetGlobalOp get : uses.lookup(global.getSymNameAttr())) {
        OpBuilder builder(get);
        auto flatGet = memref::GetGlobalOp::create(builder, get.getLoc(), *flat,
                                                   global.getSymName());
        auto expanded = memref::ExpandShapeOp::create(
            builder, get.getLoc(), type, flatGet, ArrayRef{all});
        get.getResult().replaceAllUsesWith(expanded.getResult());
        get.erase();
      }
    }
  }
};

} // namespace
