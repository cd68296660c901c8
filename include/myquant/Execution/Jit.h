//===- Jit.h - JIT-compile a lowered module and call a function -*- C++ -*-===//
//
// Calls a function of a module lowered by myquant::lowerToLLVM through its C
// interface (see myquant/Execution/EntryPoint.h) after compiling the module
// once into an object file (compileToObject) linked by ORC's LLJIT. Shared by
// myquant-run and calibration.
//
//===----------------------------------------------------------------------===//

#ifndef MYQUANT_EXECUTION_JIT_H
#define MYQUANT_EXECUTION_JIT_H

#include "myquant/Execution/EntryPoint.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace llvm {
class MemoryBuffer;
namespace orc {
class LLJIT;
} // namespace orc
} // namespace llvm

namespace myquant {

/// A memref descriptor as 64-bit words: allocated, aligned, offset, sizes,
/// strides.
using MemRefDescriptor = llvm::SmallVector<int64_t>;

/// The descriptor of a contiguous C-order buffer of `shape`.
MemRefDescriptor makeDescriptor(const void *data,
                                llvm::ArrayRef<int64_t> shape);

/// One argument of a call: contiguous C-order data of the argument's
/// element type, and its actual shape (dynamic dimensions resolved).
struct ArgumentBuffer {
  const void *data;
  llvm::ArrayRef<int64_t> shape;
};

/// A result buffer as a call returned it, checked against the signature.
struct ResultView {
  const BufferSpec *spec;
  const char *aligned;
  int64_t offset;
  llvm::ArrayRef<int64_t> sizes;
  llvm::ArrayRef<int64_t> strides;

  int64_t getNumElements() const;
  /// Whether the elements lie in C order from getData() on, so they can be
  /// read in place (the pipeline returns identity layouts).
  bool isContiguous() const;
  const char *getData() const {
    return aligned + offset * getElementKindSize(spec->element);
  }
};

/// A result copied into contiguous C order.
struct ResultArray {
  const BufferSpec *spec;
  llvm::SmallVector<int64_t> shape;
  std::vector<char> data;
};

struct JitOptions {
  /// LLVM optimization level, 0 to 3.
  unsigned optLevel = 3;
  /// Libraries with symbols the module calls.
  llvm::SmallVector<std::string> sharedLibPaths;
  /// The module was lowered with `buffer-deallocation`, so every returned
  /// buffer is a fresh malloc that the caller owns: CallResults frees them.
  /// Without it results may alias inputs or constants and are never freed.
  bool ownsResults = false;
};

/// The descriptors one call returned. Frees the buffers on destruction when
/// JitOptions::ownsResults was set.
class CallResults {
public:
  CallResults(llvm::ArrayRef<BufferSpec> specs, bool owned);
  CallResults(CallResults &&other) noexcept;
  CallResults &operator=(CallResults &&) = delete;
  ~CallResults();

  size_t size() const { return specs.size(); }
  /// Checks result `index` against its type; fails on a size that
  /// contradicts a static dimension or a null pointer to elements.
  llvm::Expected<ResultView> getView(size_t index) const;
  /// Copies result `index` into C order.
  llvm::Expected<ResultArray> copy(size_t index) const;

  /// The result block the callee fills: the descriptors back to back.
  int64_t *getBlock() { return block.data(); }

private:
  llvm::ArrayRef<BufferSpec> specs;
  std::vector<int64_t> block;
  /// Offset of each result's descriptor in `block`.
  llvm::SmallVector<size_t> offsets;
  bool owned;
};

/// Fails, naming what is missing, when this CPU lacks one of `features`
/// (LLVM's spelling: "+avx512vnni") that `what` ("--target=avx-vnni",
/// "@model_kernel") needs: code using them would die of SIGILL.
llvm::Error checkHostCPUFeatures(llvm::ArrayRef<llvm::StringRef> features,
                                 const llvm::Twine &what);

/// Compiles `lowered` for this machine (its triple, CPU and features) at
/// `optLevel` into a relocatable object, with a packed wrapper
/// `_mlir__mlir_ciface_<name>(void **)` of the C interface of @`name`, which
/// JitFunction::load calls. Fails when this CPU lacks a feature a function of
/// `lowered` was compiled for (`target_features`). The context of `lowered`
/// must have the builtin and LLVM dialect translations registered.
llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
compileToObject(mlir::ModuleOp lowered, llvm::StringRef name,
                unsigned optLevel);

/// One public function of a lowered module, compiled once and callable many
/// times.
class JitFunction {
public:
  /// Compiles `lowered`, whose function `entry` describes (see
  /// getEntryPoint). The context of `lowered` must have the builtin and LLVM
  /// dialect translations registered. `entry` and the result specs it holds
  /// must outlive every CallResults. Fails when this CPU lacks a feature a
  /// function of `lowered` was compiled for (`target_features`), or when one
  /// of the shared libraries does not load.
  static llvm::Expected<std::unique_ptr<JitFunction>>
  create(mlir::ModuleOp lowered, EntryPoint entry, const JitOptions &options);
  /// Links an object of compileToObject (e.g. one kept from an earlier run)
  /// into this process; `entry` describes the function it was compiled for.
  static llvm::Expected<std::unique_ptr<JitFunction>>
  load(std::unique_ptr<llvm::MemoryBuffer> object, EntryPoint entry,
       const JitOptions &options);
  ~JitFunction();

  const EntryPoint &getEntryPoint() const { return entry; }

  /// Calls the function; the caller checks that each buffer matches its
  /// argument's type.
  llvm::Expected<CallResults> call(llvm::ArrayRef<ArgumentBuffer> arguments);

private:
  JitFunction(EntryPoint entry, bool ownsResults);

  EntryPoint entry;
  bool ownsResults;
  std::unique_ptr<llvm::orc::LLJIT> jit;
  void (*packed)(void **) = nullptr;
};

} // namespace myquant

#endif // MYQUANT_EXECUTION_JIT_H
