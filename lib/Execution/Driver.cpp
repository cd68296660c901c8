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
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

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

/// Whether registerDriverCLOptions() ran: MLIR's apply*CLOptions fail (pass
/// manager) or do nothing (timing) when the options were never registered.
static bool driverCLOptionsRegistered = false;

void registerDriverCLOptions() {
  registerMLIRContextCLOptions();
  registerPassManagerCLOptions();
  registerDefaultTimingManagerCLOptions();
  driverCLOptionsRegistered = true;
}

/// --mlir-timing, --mlir-print-ir-after-all, ... on the lowering pipeline.
static LogicalResult applyDriverCLOptions(PassManager &pm) {
  if (failed(applyPassManagerCLOptions(pm)))
    return failure();
  applyDefaultTimingPassManagerCLOptions(pm);
  return success();
}

static DialectRegistry getDriverRegistry() {
  DialectRegistry registry;
  registerDriverDialects(registry);
  return registry;
}

DriverSession::DriverSession()
    : context(getDriverRegistry()), diagnostics(sourceMgr, &context) {}

llvm::Expected<OwningOpRef<ModuleOp>>
DriverSession::loadAndLower(llvm::StringRef filename, llvm::StringRef function,
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
  llvm::function_ref<LogicalResult(PassManager &)> configure;
  if (driverCLOptionsRegistered)
    configure = applyDriverCLOptions;
  if (failed(lowerToLLVM(*module, options, configure)))
    return llvm::createStringError("cannot lower " + filename +
                                   " to the LLVM dialect");
  return module;
}

//===----------------------------------------------------------------------===//
// OutputFiles
//===----------------------------------------------------------------------===//

static llvm::Error cannotWrite(llvm::StringRef path, std::error_code ec) {
  return llvm::createStringError(ec, "cannot write '" + path +
                                         "': " + ec.message());
}

/// Closes `os`; its error, cleared (an uncleared one is fatal when the
/// stream is destroyed).
static std::error_code closeStream(llvm::raw_fd_ostream &os) {
  os.close();
  std::error_code ec = os.error();
  os.clear_error();
  return ec;
}

OutputFiles::~OutputFiles() {
  // The temporaries' removers run after the streams are closed.
  for (std::unique_ptr<File> &file : files)
    if (file->os) {
      file->os->close();
      file->os->clear_error();
    }
}

llvm::Expected<OutputFiles::File *> OutputFiles::add(llvm::StringRef path) {
  auto file = std::make_unique<File>();
  file->path = path.str();
  // Renaming over a device would replace it (as root), and "-" is no file.
  llvm::sys::fs::file_status status;
  file->rename = path != "-" && (llvm::sys::fs::status(path, status) ||
                                 llvm::sys::fs::is_regular_file(status));
  int fd;
  llvm::SmallString<128> tempPath;
  std::error_code ec = file->rename ? llvm::sys::fs::createUniqueFile(
                                          path + ".tmp-%%%%%%%%", fd, tempPath)
                                    : llvm::sys::fs::createTemporaryFile(
                                          "myquant-output", "", fd, tempPath);
  if (ec)
    return cannotWrite(path, ec);
  file->tempPath = tempPath.str().str();
  file->remover.setFile(file->tempPath);
  file->os = std::make_unique<llvm::raw_fd_ostream>(fd, /*shouldClose=*/true);
  files.push_back(std::move(file));
  return files.back().get();
}

/// Copies `tempPath` to `path` ("-" or a device).
static llvm::Error copyOut(llvm::StringRef tempPath, llvm::StringRef path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(tempPath, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!buffer)
    return cannotWrite(path, buffer.getError());
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return cannotWrite(path, ec);
  os << (*buffer)->getBuffer();
  os.flush();
  ec = os.error();
  os.clear_error();
  if (ec)
    return cannotWrite(path, ec);
  return llvm::Error::success();
}

llvm::Error OutputFiles::commit() {
  // Everything is written before anything is put in place.
  for (std::unique_ptr<File> &file : files) {
    if (!file->os)
      continue;
    std::error_code ec = closeStream(*file->os);
    file->os.reset();
    if (ec)
      return cannotWrite(file->path, ec);
  }
  // Devices and stdout first: what is copied there cannot be taken back,
  // what is renamed is only renamed once they succeeded.
  for (std::unique_ptr<File> &file : files)
    if (!file->rename)
      if (llvm::Error error = copyOut(file->tempPath, file->path))
        return error;
  for (std::unique_ptr<File> &file : files)
    if (file->rename) {
      if (std::error_code ec =
              llvm::sys::fs::rename(file->tempPath, file->path))
        return cannotWrite(file->path, ec);
      file->remover.releaseFile();
    }
  files.clear();
  return llvm::Error::success();
}

} // namespace myquant
