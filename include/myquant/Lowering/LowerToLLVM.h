//===- LowerToLLVM.h - the myquant-lower-to-llvm pipeline -------*- C++ -*-===//
//
// `myquant-lower-to-llvm` takes a module at any level we produce (myquant
// ops, integer or float linalg on tensors) down to the LLVM dialect, ready
// for mlir::ExecutionEngine or mlir::translateModuleToLLVMIR.
//
// Entry points (`myquant-annotate-entry-points`): every public func.func with
// a body gets
//  * `myquant.signature`: its tensor-level FunctionType (after quantized
//    types became their integer storage), so tools can still type the
//    arguments once the function is an llvm.func taking raw pointers;
//  * `llvm.emit_c_interface` (option `emit-c-interface`): a
//    `_mlir_ciface_<name>` wrapper taking one memref descriptor pointer per
//    argument, preceded by an out-pointer when there are results (to a
//    descriptor for one result, to a struct of descriptors for several);
//  * `bufferization.writable = false` on tensor arguments, so a caller's
//    input buffers are never written;
//  * a copy for each repetition of a value among its results.
// With `symbol-prefix`, public functions are renamed `<prefix><name>`;
// private functions with a body get internal linkage.
// With `triple` (and `cpu`, `features`), `myquant-set-target` first gives
// the module that target's data layout and, on a 32-bit target, a 32-bit
// index; no vector op is created on a 32-bit triple and the x86 kernels
// only apply to x86-64 ones (docs/Targets.md).
// With `buffer-deallocation` (default), every returned buffer is a fresh
// malloc the caller owns (free its `allocated` pointer; no two results
// share one) and no temporary leaks; without it, results may alias inputs
// or constant globals.
// With `static-memory`, nothing is allocated on the heap: each public
// function takes its results as caller-provided output buffers after its
// inputs (buffer-results-to-out-params), then one arena, a memref<N x i8>
// whose size, alignment and the constants' size are in its
// `myquant.static_memory` attribute (myquant-plan-static-memory).
//
// The context must know the bufferization and convert-to-llvm interfaces of
// the dialects in the input (mlir::registerAllDialects and
// mlir::registerAllExtensions); lowerToLLVM() reports any op that is left.
//
//===----------------------------------------------------------------------===//

#ifndef MYQUANT_LOWERING_LOWERTOLLVM_H
#define MYQUANT_LOWERING_LOWERTOLLVM_H

#include "myquant/Conversion/MyQuantToVnni/Target.h"
#include "myquant/Lowering/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringRef.h"

namespace myquant {

struct LowerToLLVMOptions
    : public mlir::PassPipelineOptions<LowerToLLVMOptions> {
  Option<bool> emitCInterface{
      *this, "emit-c-interface",
      llvm::cl::desc("Give public functions a _mlir_ciface_ wrapper taking "
                     "memref descriptors by pointer"),
      llvm::cl::init(true)};
  Option<bool> bufferDeallocation{
      *this, "buffer-deallocation",
      llvm::cl::desc("Free temporaries and return only caller-owned buffers"),
      llvm::cl::init(true)};
  Option<std::string> target{
      *this, "target",
      llvm::cl::desc("Kernels for int8 conv2d / matmul (convert-myquant-to-"
                     "vnni): generic, avx512-vnni, avx512-vnni-256, avx-vnni "
                     "or host (what this machine runs best; on an ARM DSP "
                     "target, the SMLAD dual MAC; generic there: without)"),
      llvm::cl::init("host")};
  Option<bool> vectorize{
      *this, "vectorize",
      llvm::cl::desc("Tile and vectorize the linalg ops left to loops "
                     "(myquant-vectorize-linalg; ignored with a triple)"),
      llvm::cl::init(true)};
  Option<std::string> symbolPrefix{
      *this, "symbol-prefix",
      llvm::cl::desc("Prefix of the names of public functions and their C "
                     "interfaces (a C identifier), so that two models "
                     "link into one program"),
      llvm::cl::init("")};
  Option<std::string> triple{
      *this, "triple",
      llvm::cl::desc("LLVM target triple (myquant-set-target; empty: the "
                     "compiling machine)"),
      llvm::cl::init("")};
  Option<std::string> cpu{*this, "cpu",
                          llvm::cl::desc("Target CPU (with triple)"),
                          llvm::cl::init("")};
  Option<std::string> features{
      *this, "features",
      llvm::cl::desc("Target features, comma-separated (with triple)"),
      llvm::cl::init("")};
  Option<bool> allowFloatIo{
      *this, "allow-float-io",
      llvm::cl::desc("Accept float inputs and results on a triple without a "
                     "floating-point unit"),
      llvm::cl::init(false)};
  Option<bool> staticMemory{
      *this, "static-memory",
      llvm::cl::desc("No heap: results go to caller-provided buffers and "
                     "every temporary to one arena the caller passes "
                     "(myquant-plan-static-memory); excludes threads > 1"),
      llvm::cl::init(false)};
  Option<unsigned> arenaAlignment{
      *this, "arena-alignment",
      llvm::cl::desc("Alignment in bytes of the arena and of each buffer in "
                     "it (static-memory)"),
      llvm::cl::init(64)};
  Option<unsigned> threads{
      *this, "threads",
      llvm::cl::desc("Threads running the int8 kernels' batch loops "
                     "(OpenMP: the code then needs libomp); 1: none"),
      llvm::cl::init(1)};
  Option<int64_t> threadMinMacs{
      *this, "thread-min-macs",
      llvm::cl::desc("With threads > 1: the work per thread, in int8 GEMM "
                     "multiply-accumulates, below which a kernel stays on "
                     "one thread"),
      llvm::cl::init(vnni::kDefaultThreadMinMacs)};
  Option<int64_t> splitBatchMaxWeightBytes{
      *this, "split-batch-max-weight-bytes",
      llvm::cl::desc("Run the per-image layers of a batched model one image "
                     "at a time when its constants take at most this many "
                     "bytes (myquant-split-batch, with several threads "
                     "each running whole images; no static memory); 0: "
                     "never"),
      llvm::cl::init(kDefaultSplitBatchMaxWeightBytes)};
};

/// Whether `name` is a C identifier: what the symbols a C caller names
/// (entry points, their symbol prefix, the header's macros) must be.
inline bool isCIdentifier(llvm::StringRef name) {
  return !name.empty() && !llvm::isDigit(name.front()) &&
         llvm::all_of(name,
                      [](char c) { return llvm::isAlnum(c) || c == '_'; });
}

/// Adds the passes of `myquant-lower-to-llvm` to `pm` (anchored on
/// builtin.module).
void buildLowerToLLVMPipeline(mlir::OpPassManager &pm,
                              const LowerToLLVMOptions &options);

/// Registers `myquant-lower-to-llvm`; its own passes (the entry points'
/// annotation above, ...) are in myquant/Lowering/Passes.h.
void registerLowerToLLVMPipeline();

/// Runs the pipeline on `module` and checks that only LLVM dialect ops are
/// left; diagnostics go to the context's handler. `configure`, if given,
/// adjusts the pass manager first: a tool applies its command-line options
/// there (instrumentation, timing). The library applies none itself, so it
/// works in hosts that registered none.
mlir::LogicalResult lowerToLLVM(
    mlir::ModuleOp module, const LowerToLLVMOptions &options,
    llvm::function_ref<mlir::LogicalResult(mlir::PassManager &)> configure =
        nullptr);

} // namespace myquant

#endif // MYQUANT_LOWERING_LOWERTOLLVM_H
