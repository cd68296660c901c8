//===- Driver.h - what myquant-run and myquant-compile share ----*- C++ -*-===//

#ifndef MYQUANT_EXECUTION_DRIVER_H
#define MYQUANT_EXECUTION_DRIVER_H

#include "myquant/Lowering/LowerToLLVM.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <string>

namespace myquant {

/// Every dialect and extension a module of any stage may use, plus the
/// translations to LLVM IR.
void registerDriverDialects(mlir::DialectRegistry &registry);

/// Registers MLIR's context, pass manager and timing command-line options
/// (--mlir-timing, --mlir-print-ir-after-all, --mlir-disable-threading, ...)
/// for a tool to parse; loadAndLower() then applies them to its pipeline.
/// The libraries never need them: only tools that parse them call this.
void registerDriverCLOptions();

/// What a tool needs to load and lower a module: a context with every
/// dialect a stage may use (registerDriverDialects) and diagnostics printed
/// with their source lines.
class DriverSession {
public:
  DriverSession();

  /// Parses `filename`, checks that `function` is defined (the likeliest
  /// mistake, reported before any lowering) and lowers the module to the
  /// LLVM dialect. The error says which step failed; the diagnostics are
  /// printed as they come.
  llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
  loadAndLower(llvm::StringRef filename, llvm::StringRef function,
               const LowerToLLVMOptions &options);

private:
  mlir::MLIRContext context;
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler diagnostics;
};

/// The files one command writes, all or none: each is written to a
/// temporary file and only commit(), after every check passed, puts them in
/// place. A command that fails leaves no output behind, not even a file it
/// had finished. The temporary of a regular file (or of one that does not
/// exist yet) is created next to it and renamed over it; the output of "-"
/// (stdout) or of a device (/dev/null, /dev/full) is copied there instead.
class OutputFiles {
public:
  struct File {
    /// The destination, as the user named it.
    std::string path;
    /// Where to write in the meantime.
    std::string tempPath;
    /// Removes tempPath unless it became the destination.
    llvm::FileRemover remover;
    /// A stream on tempPath; reset it when another program writes the file.
    std::unique_ptr<llvm::raw_fd_ostream> os;
    bool rename;
  };

  OutputFiles() = default;
  OutputFiles(const OutputFiles &) = delete;
  OutputFiles &operator=(const OutputFiles &) = delete;
  /// Removes the temporaries of an uncommitted command.
  ~OutputFiles();

  /// Creates the temporary of `path`; the error names `path`
  /// ("cannot write 'dir/x.o': No such file or directory").
  llvm::Expected<File *> add(llvm::StringRef path);
  /// Closes the streams and moves each temporary to its destination;
  /// the error names the destination that could not be written.
  llvm::Error commit();

private:
  llvm::SmallVector<std::unique_ptr<File>> files;
};

} // namespace myquant

#endif // MYQUANT_EXECUTION_DRIVER_H
