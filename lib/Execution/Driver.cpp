//===- Driver.cpp - what myquant-run and myquant-compile share ------------===//

#include "myquant/Execution/Driver.h"
#include "myquant/Dialect/MyQuant/IR/MyQuantDialect.h"
#include "myquant/Execution/EntryPoint.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"

using namespace mlir;

namespace myquant {

void registerDriverDialects(DialectRegistry &registry) {
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<MyQuantDialect>();
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  // Kernels compiled with threads > 1.
  registerOpenMPDialectTranslation(registry);
}

void registerDriverCLOptions() {
  registerMLIRContextCLOptions();
  registerPassManagerCLOptions();
  registerDefaultTimingManagerCLOptions();
}

llvm::Expected<OwningOpRef<ModuleOp>>
loadAndLower(MLIRContext &context, llvm::SourceMgr &sourceMgr,
             llvm::StringRef filename, llvm::StringRef function,
             const LowerToLLVMOptions &options) {
  std::string errorMessage;
  std::unique_ptr<llvm::MemoryBuffer> file =
      openInputFile(filename, &errorMessage);
  if (!file)
    return llvm::createStringError(errorMessage);
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return llvm::createStringError("cannot parse " + filename);
  if (llvm::Error error = checkEntryPointDefined(*module, function))
    return std::move(error);
  if (failed(lowerToLLVM(*module, options)))
    return llvm::createStringError("cannot lower " + filename +
                                   " to the LLVM dialect");
  return module;
}

} // namespace myquant
