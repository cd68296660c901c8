//===- AnnotateEntryPoints.cpp - stamp the functions callers call ---------===//

#include "myquant/Dialect/MyQuant/IR/MyQuantDialect.h"
#include "myquant/Lowering/LowerToLLVM.h"
#include "myquant/Lowering/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace myquant {
#define GEN_PASS_DEF_MYQUANTANNOTATEENTRYPOINTS
#include "myquant/Lowering/Passes.h.inc"
} // namespace myquant

using namespace mlir;

namespace {

struct AnnotateEntryPointsPass
    : public myquant::impl::MyQuantAnnotateEntryPointsBase<
          AnnotateEntryPointsPass> {
  using MyQuantAnnotateEntryPointsBase::MyQuantAnnotateEntryPointsBase;

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      // Only functions callable from outside get a stable ABI.
      if (!func.isPublic() || func.isExternal())
        continue;
      func->setAttr(myquant::MyQuantDialect::SignatureAttrHelper::getNameStr(),
                    TypeAttr::get(func.getFunctionType()));
      if (emitCInterface)
        func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                      UnitAttr::get(ctx));
      // Bufferization assumes public function arguments are writable; the
      // caller's inputs must stay intact, so writes go to a copy instead.
      for (auto [index, type] : llvm::enumerate(func.getArgumentTypes()))
        if (isa<TensorType>(type))
          func.setArgAttr(
              index, bufferization::BufferizationDialect::kWritableAttrName,
              BoolAttr::get(ctx, false));
    }
  }
};

} // namespace
