//===- LowerToLLVM.cpp - myquant-lower-to-llvm pipeline -------------------===//
//
// The pass order is the one checked by hand with mlir-opt and mlir-runner
// (see shared/notes/platform.md), plus ownership-based deallocation so a
// compiled model neither leaks temporaries nor hands out aliased buffers.
//
//===----------------------------------------------------------------------===//

#include "myquant/Pipelines/Pipelines.h"

#include "myquant/Conversion/Passes.h"
#include "myquant/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace myquant {
namespace {

class AnnotateEntryPointsPass
    : public PassWrapper<AnnotateEntryPointsPass, OperationPass<ModuleOp>> {
public:
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(AnnotateEntryPointsPass)

  AnnotateEntryPointsPass() = default;
  AnnotateEntryPointsPass(const AnnotateEntryPointsPass &other)
      : PassWrapper(other) {}
  explicit AnnotateEntryPointsPass(bool emitCInterface) {
    this->emitCInterface = emitCInterface;
  }

  StringRef getArgument() const final {
    return "myquant-annotate-entry-points";
  }
  StringRef getDescription() const final {
    return "Record the tensor signature of public functions, make their "
           "arguments read-only and optionally request a C interface";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<bufferization::BufferizationDialect, LLVM::LLVMDialect>();
  }

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      // Only functions callable from outside get a stable ABI.
      if (!func.isPublic() || func.isExternal())
        continue;
      func->setAttr(kSignatureAttrName, TypeAttr::get(func.getFunctionType()));
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

  Option<bool> emitCInterface{
      *this, "emit-c-interface",
      llvm::cl::desc("Add llvm.emit_c_interface to public functions"),
      llvm::cl::init(true)};
};

class MemRefCopyToLinalgPass
    : public PassWrapper<MemRefCopyToLinalgPass, OperationPass<>> {
public:
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(MemRefCopyToLinalgPass)

  StringRef getArgument() const final {
    return "myquant-memref-copy-to-linalg";
  }
  StringRef getDescription() const final {
    return "Rewrite memref.copy between strided views into linalg.copy";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<linalg::LinalgDialect>();
  }

  void runOnOperation() override {
    // convert-to-llvm turns a copy between identity layouts into llvm.memcpy
    // but any other copy into a call to `memrefCopy` in
    // libmlir_c_runner_utils; loops keep compiled models self-contained.
    getOperation()->walk([](memref::CopyOp copy) {
      auto source = dyn_cast<MemRefType>(copy.getSource().getType());
      auto target = dyn_cast<MemRefType>(copy.getTarget().getType());
      if (!source || !target ||
          (source.getLayout().isIdentity() && target.getLayout().isIdentity()))
        return;
      OpBuilder builder(copy);
      linalg::CopyOp::create(builder, copy.getLoc(),
                             ValueRange{copy.getSource()},
                             ValueRange{copy.getTarget()});
      copy.erase();
    });
  }
};

} // namespace

std::unique_ptr<Pass> createAnnotateEntryPointsPass(bool emitCInterface) {
  return std::make_unique<AnnotateEntryPointsPass>(emitCInterface);
}

std::unique_ptr<Pass> createMemRefCopyToLinalgPass() {
  return std::make_unique<MemRefCopyToLinalgPass>();
}

void buildLowerToLLVMPipeline(OpPassManager &pm,
                              const LowerToLLVMOptions &options) {
  // A no-op on modules without myquant ops or quantized types.
  ConvertMyQuantToVnniOptions vnni;
  vnni.target = options.target;
  pm.addPass(createConvertMyQuantToVnni(vnni));
  pm.addPass(createConvertMyQuantToLinalg());
  pm.addPass(createAnnotateEntryPointsPass(options.emitCInterface));
  if (options.vectorize)
    pm.addNestedPass<func::FuncOp>(createMyQuantVectorizeLinalg());

  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  // Identity layouts at function boundaries give plain contiguous
  // descriptors in the C interface.
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  // Kernels write into a buffer their caller passes (destination-passing
  // style) and return it: without the result, the caller knows every
  // temporary is its own allocation, and no alias checks are needed to
  // free it. The kernels' loops carry the buffer as an iteration argument:
  // canonicalization makes the returned value the argument itself.
  pm.addPass(createCanonicalizerPass());
  pm.addPass(bufferization::createDropEquivalentBufferResultsPass());
  if (options.bufferDeallocation) {
    bufferization::buildBufferDeallocationPipeline(pm);
    pm.addPass(createConvertBufferizationToMemRefPass());
    pm.addNestedPass<func::FuncOp>(createMyQuantFreeAfterLastUse());
  }
  pm.addPass(createMemRefCopyToLinalgPass());
  // The VNNI kernels' dot products become intrinsic calls only now: the
  // deallocation passes reject ops without a memory-effect model.
  pm.addPass(createMyQuantLowerVnniDot());

  // Transfers of more than one dimension, or across strided buffers, become
  // one-dimensional loads and stores that convert-vector-to-llvm handles.
  pm.addPass(createConvertVectorToSCFPass(
      VectorTransferToSCFOptions().enableFullUnroll()));
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(createSCFToControlFlowPass());
  // expand-strided-metadata emits affine.apply, so it must run before
  // lower-affine.
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  // Vector transfers (the VNNI kernels) need the vector-specific lowering.
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createConvertToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void registerLowerToLLVMPipeline() {
  PassPipelineRegistration<LowerToLLVMOptions>(
      "myquant-lower-to-llvm",
      "Lower myquant ops or linalg on tensors to the LLVM dialect",
      buildLowerToLLVMPipeline);
  PassRegistration<AnnotateEntryPointsPass>();
  PassRegistration<MemRefCopyToLinalgPass>();
}

LogicalResult lowerToLLVM(ModuleOp module, const LowerToLLVMOptions &options) {
  PassManager pm(module->getName());
  buildLowerToLLVMPipeline(pm, options);
  // --mlir-timing, --mlir-print-ir-after-all, ... where the tool registered
  // them (registerDriverCLOptions); no-ops otherwise.
  if (failed(applyPassManagerCLOptions(pm)))
    return failure();
  applyDefaultTimingPassManagerCLOptions(pm);
  if (failed(pm.run(module)))
    return failure();

  // convert-to-llvm only converts dialects whose interfaces are registered
  // and leaves everything else in place; say so here rather than as an
  // obscure translation failure later.
  WalkResult result = module->walk([](Operation *op) {
    if (isa<ModuleOp>(op) ||
        isa_and_nonnull<LLVM::LLVMDialect>(op->getDialect()))
      return WalkResult::advance();
    op->emitError() << "'" << op->getName()
                    << "' was not lowered to the LLVM dialect";
    return WalkResult::interrupt();
  });
  return failure(result.wasInterrupted());
}

} // namespace myquant
