//===- AnnotateEntryPoints.cpp - stamp the functions callers call ---------===//

#include "myquant/Dialect/MyQuant/IR/MyQuantDialect.h"
#include "myquant/Lowering/LowerToLLVM.h"
#include "myquant/Lowering/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/SymbolTable.h"

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
    ModuleOp module = getOperation();
    if (!symbolPrefix.empty() && !myquant::isCIdentifier(symbolPrefix)) {
      module.emitError() << "symbol-prefix '" << symbolPrefix
                         << "' is not a C identifier (letters, digits and "
                            "'_', not starting with a digit)";
      return signalPassFailure();
    }
    SymbolTable symbols(module);
    for (auto func :
         llvm::make_early_inc_range(module.getOps<func::FuncOp>())) {
      if (func.isExternal())
        continue;
      // Called only from this module: no symbol to export, nothing to clash
      // with another model's. (FuncToLLVM reads this attribute.)
      if (func.isPrivate()) {
        func->setAttr("llvm.linkage",
                      LLVM::LinkageAttr::get(ctx, LLVM::Linkage::Internal));
        continue;
      }
      if (!symbolPrefix.empty() && failed(prefixName(symbols, func)))
        return signalPassFailure();
      // Only functions callable from outside get a stable ABI.
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
      copyRepeatedResults(func);
    }
  }

  /// A value returned twice would come back as one buffer in two result
  /// descriptors, and the caller, who frees each result, would free it
  /// twice: every repetition returns a copy instead.
  static void copyRepeatedResults(func::FuncOp func) {
    func.walk([](func::ReturnOp ret) {
      llvm::SmallDenseSet<Value> returned;
      OpBuilder b(ret);
      for (OpOperand &operand : ret->getOpOperands()) {
        auto type = dyn_cast<RankedTensorType>(operand.get().getType());
        if (!type || returned.insert(operand.get()).second)
          continue;
        operand.set(bufferization::AllocTensorOp::create(
            b, ret.getLoc(), type, /*dynamicSizes=*/ValueRange(),
            /*copy=*/operand.get()));
      }
    });
  }

  /// Renames `func` to symbolPrefix + its name, and its uses.
  LogicalResult prefixName(SymbolTable &symbols, func::FuncOp func) {
    std::string name = symbolPrefix + func.getSymName().str();
    if (symbols.lookup(name))
      return func.emitError()
             << "cannot rename @" << func.getSymName() << " to @" << name
             << " (symbol-prefix): the module already has a @" << name;
    return symbols.rename(func, name);
  }
};

} // namespace
