//===- SetTarget.cpp - a cross target's triple, data layout and index -----===//

#include "myquant/Lowering/Passes.h"

#include "myquant/Conversion/MyQuantToLinalg/MyQuantToLinalg.h"

#include "mlir/Dialect/DLTI/DLTI.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Target/LLVMIR/Import.h"

#include "llvm/ADT/SetVector.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Triple.h"

#include <memory>

namespace myquant {
#define GEN_PASS_DEF_MYQUANTSETTARGET
#include "myquant/Lowering/Passes.h.inc"
} // namespace myquant

using namespace mlir;

namespace {

/// Whether code for `triple` on `subtarget` has floating-point registers.
/// Only ARM and RISC-V are known to come without; any other target is
/// assumed to have them.
bool hasHardwareFloat(const llvm::Triple &triple,
                      const llvm::MCSubtargetInfo &subtarget) {
  if (triple.isARM() || triple.isThumb())
    return subtarget.checkFeatures("+fpregs");
  if (triple.isRISCV())
    return subtarget.checkFeatures("+f");
  return true;
}

/// The floating-point element types in `types` (scalars, tensors, memrefs).
void collectFloatTypes(TypeRange types, llvm::SetVector<Type> &floats) {
  for (Type type : types) {
    Type element = getElementTypeOrSelf(type);
    if (isa<FloatType>(element))
      floats.insert(element);
  }
}

class SetTargetPass
    : public myquant::impl::MyQuantSetTargetBase<SetTargetPass> {
public:
  using Base::Base;

  void runOnOperation() override {
    if (triple.empty())
      return;
    ModuleOp module = getOperation();
    // Every target LLVM was built with: a cross compiler needs them all,
    // not only the native one the JIT initializes.
    static const bool initialized = [] {
      llvm::InitializeAllTargetInfos();
      llvm::InitializeAllTargets();
      llvm::InitializeAllTargetMCs();
      return true;
    }();
    (void)initialized;

    llvm::Triple parsed(triple);
    std::string error;
    const llvm::Target *target =
        llvm::TargetRegistry::lookupTarget(parsed, error);
    if (!target) {
      module.emitError() << "unknown target triple '" << triple
                         << "': " << error;
      return signalPassFailure();
    }
    std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
        parsed, cpu, features, llvm::TargetOptions(), llvm::Reloc::Static));
    if (!machine) {
      module.emitError() << "cannot create a target machine for '" << triple
                         << "' (cpu '" << cpu << "', features '" << features
                         << "')";
      return signalPassFailure();
    }
    if (!cpu.empty() && !machine->getMCSubtargetInfo()->isCPUStringValid(cpu)) {
      module.emitError() << "unknown CPU '" << cpu << "' for target triple '"
                         << triple << "'";
      return signalPassFailure();
    }

    if (!allowFloatIo &&
        !hasHardwareFloat(parsed, *machine->getMCSubtargetInfo()) &&
        failed(checkIntegerInterfaces(module)))
      return signalPassFailure();

    llvm::DataLayout layout = machine->createDataLayout();
    MLIRContext *ctx = &getContext();
    module->setAttr(LLVM::LLVMDialect::getTargetTripleAttrName(),
                    StringAttr::get(ctx, parsed.str()));
    module->setAttr(LLVM::LLVMDialect::getDataLayoutAttrName(),
                    StringAttr::get(ctx, layout.getStringRepresentation()));
    // The importer's spec describes the LLVM types; `index` is MLIR's own
    // and defaults to 64 bits, so it gets the pointers' width here.
    SmallVector<DataLayoutEntryInterface> entries(
        translateDataLayout(layout, ctx).getEntries());
    entries.push_back(DataLayoutEntryAttr::get(
        IndexType::get(ctx), IntegerAttr::get(IntegerType::get(ctx, 64),
                                              layout.getPointerSizeInBits())));
    module->setAttr(DLTIDialect::kDataLayoutAttrName,
                    DataLayoutSpecAttr::get(ctx, entries));
    // The dual multiply-accumulate of convert-myquant-to-linalg{dual-mac}.
    if ((parsed.isARM() || parsed.isThumb()) &&
        machine->getMCSubtargetInfo()->checkFeatures("+dsp"))
      module->setAttr(myquant::kArmDspAttrName, UnitAttr::get(ctx));
  }

private:
  /// Public functions taking or returning floats would need software
  /// floating point on this target: an error for each.
  LogicalResult checkIntegerInterfaces(ModuleOp module) {
    bool ok = true;
    for (auto func : module.getOps<func::FuncOp>()) {
      if (!func.isPublic() || func.isExternal())
        continue;
      llvm::SetVector<Type> floats;
      collectFloatTypes(func.getArgumentTypes(), floats);
      collectFloatTypes(func.getResultTypes(), floats);
      if (floats.empty())
        continue;
      InFlightDiagnostic diag = func.emitError();
      diag << "@" << func.getSymName()
           << " takes or returns floating-point values (";
      llvm::interleaveComma(floats, diag);
      diag << ") but target '" << triple << "'"
           << (cpu.empty() ? "" : " (cpu '" + cpu + "')")
           << " has no floating-point unit: quantize the model with integer-io "
              "(int8 inputs and results; myquant-ptq{integer-io}), or accept "
              "software floating point with allow-float-io";
      ok = false;
    }
    return success(ok);
  }
};

} // namespace
