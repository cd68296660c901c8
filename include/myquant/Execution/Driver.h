//===- Driver.h - what myquant-run and myquant-compile share ----*- C++ -*-===//

#ifndef MYQUANT_EXECUTION_DRIVER_H
#define MYQUANT_EXECUTION_DRIVER_H

#include "myquant/Lowering/LowerToLLVM.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/SourceMgr.h"

namespace myquant {

/// Every dialect and extension a module of any stage may use, plus the
/// translations to LLVM IR.
void registerDriverDialects(mlir::DialectRegistry &registry);

/// Registers MLIR's context, pass manager and timing command-line options
/// (--mlir-timing, --mlir-print-ir-after-all, --mlir-disable-threading, ...)
/// for a tool to parse; loadAndLower() then applies them to its pipeline.
void registerDriverCLOptions();

/// Parses `filename` into `sourceMgr`, checks that `function` is defined
/// (the likeliest mistake, reported before any lowering) and lowers the
/// module to the LLVM dialect. Diagnostics go to the handler the caller
/// installed on `sourceMgr`; the error says which step failed.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
loadAndLower(mlir::MLIRContext &context, llvm::SourceMgr &sourceMgr,
             llvm::StringRef filename, llvm::StringRef function,
             const LowerToLLVMOptions &options);

} // namespace myquant

#endif // MYQUANT_EXECUTION_DRIVER_H
