//===- LowerToLLVM.cpp - myquant-lower-to-llvm pipeline -------------------===//
//
// The pass order is the one checked by hand with mlir-opt and mlir-runner
// (see shared/notes/platform.md), plus ownership-based deallocation so a
// compiled model neither leaks temporaries nor hands out aliased buffers.
//
//===----------------------------------------------------------------------===//

#include "myquant/Lowering/LowerToLLVM.h"

#include "myquant/Conversion/Passes.h"
#include "myquant/Support/MathExtras.h"
#include "myquant/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/SCFToOpenMP/SCFToOpenMP.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
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

class ExpandStridedCopiesPass
    : public PassWrapper<ExpandStridedCopiesPass, OperationPass<>> {
public:
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(ExpandStridedCopiesPass)

  StringRef getArgument() const final {
    return "myquant-expand-strided-copies";
  }
  StringRef getDescription() const final {
    return "Rewrite memref.copy between strided views into vector loops or "
           "linalg.copy";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, linalg::LinalgDialect, scf::SCFDialect,
                    ub::UBDialect, vector::VectorDialect>();
  }

  void runOnOperation() override {
    // convert-to-llvm turns a copy between identity layouts into llvm.memcpy
    // but any other copy into a call to `memrefCopy` in
    // libmlir_c_runner_utils; loops keep compiled models self-contained.
    // (Such copies come from insert_slice, e.g. of a channel concatenation
    // in NHWC: rows of a few dozen bytes.)
    getOperation()->walk([](memref::CopyOp copy) {
      auto source = dyn_cast<MemRefType>(copy.getSource().getType());
      auto target = dyn_cast<MemRefType>(copy.getTarget().getType());
      if (!source || !target ||
          (source.getLayout().isIdentity() && target.getLayout().isIdentity()))
        return;
      OpBuilder builder(copy);
      if (succeeded(copyRowsAsVectors(builder, copy, source, target))) {
        copy.erase();
        return;
      }
      linalg::CopyOp::create(builder, copy.getLoc(),
                             ValueRange{copy.getSource()},
                             ValueRange{copy.getTarget()});
      copy.erase();
    });
  }

private:
  /// Static shapes whose innermost dimension is contiguous on both sides:
  /// loops over the other dimensions move each row in vectors of up to 64
  /// bytes that divide it (linalg.copy on strided views becomes scalar
  /// loops).
  static LogicalResult copyRowsAsVectors(OpBuilder &b, memref::CopyOp copy,
                                         MemRefType source, MemRefType target) {
    if (!source.hasStaticShape() || source.getRank() == 0)
      return failure();
    auto innerStride = [](MemRefType type) -> std::optional<int64_t> {
      SmallVector<int64_t> strides;
      int64_t offset;
      if (failed(type.getStridesAndOffset(strides, offset)))
        return std::nullopt;
      return strides.back();
    };
    if (innerStride(source) != 1 || innerStride(target) != 1)
      return failure();
    Type element = source.getElementType();
    // LLVM packs vector elements tightly while memrefs step by each
    // element's allocation size: they agree for power-of-two sizes of a
    // byte or more (not for i1, i24 or x86_fp80).
    if (!element.isIntOrFloat() ||
        !llvm::isPowerOf2_64(element.getIntOrFloatBitWidth()) ||
        element.getIntOrFloatBitWidth() < 8)
      return failure();
    int64_t chunk = largestDivisorAtMost(source.getShape().back(),
                                         512 / element.getIntOrFloatBitWidth());
    if (chunk < 4)
      return failure();
    Location loc = copy.getLoc();
    SmallVector<Value> lbs, ubs, steps;
    for (int64_t size : source.getShape()) {
      lbs.push_back(arith::ConstantIndexOp::create(b, loc, 0));
      ubs.push_back(arith::ConstantIndexOp::create(b, loc, size));
      steps.push_back(arith::ConstantIndexOp::create(b, loc, 1));
    }
    steps.back() = arith::ConstantIndexOp::create(b, loc, chunk);
    auto vectorType = VectorType::get({chunk}, element);
    scf::buildLoopNest(
        b, loc, lbs, ubs, steps,
        [&](OpBuilder &nb, Location nloc, ValueRange ivs) {
          Value padding = ub::PoisonOp::create(nb, nloc, element);
          Value v = vector::TransferReadOp::create(
              nb, nloc, vectorType, copy.getSource(), ivs, padding,
              ArrayRef<bool>{true});
          vector::TransferWriteOp::create(nb, nloc, v, copy.getTarget(), ivs,
                                          ArrayRef<bool>{true});
        });
    return success();
  }
};

/// The kernels' batch loops (kParallelBatchAttrName) as scf.parallel, for
/// convert-scf-to-openmp. Runs on buffers, where the loops carry no values.
class ParallelizeBatchesPass
    : public PassWrapper<ParallelizeBatchesPass, OperationPass<>> {
public:
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(ParallelizeBatchesPass)

  StringRef getArgument() const final { return "myquant-parallelize-batches"; }
  StringRef getDescription() const final {
    return "Turn the int8 kernels' batch loops into scf.parallel";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<scf::SCFDialect>();
  }

  void runOnOperation() override {
    SmallVector<scf::ForOp> loops;
    getOperation()->walk([&](scf::ForOp loop) {
      if (loop->hasAttr(kParallelBatchAttrName) && loop.getInitArgs().empty())
        loops.push_back(loop);
    });
    for (scf::ForOp loop : loops) {
      OpBuilder b(loop);
      auto parallel = scf::ParallelOp::create(
          b, loop.getLoc(), ValueRange{loop.getLowerBound()},
          ValueRange{loop.getUpperBound()}, ValueRange{loop.getStep()});
      Block *body = loop.getBody();
      body->getTerminator()->erase();
      loop.getInductionVar().replaceAllUsesWith(parallel.getInductionVars()[0]);
      Block *parallelBody = parallel.getBody();
      parallelBody->getOperations().splice(
          parallelBody->getTerminator()->getIterator(), body->getOperations());
      loop.erase();
    }
  }
};

} // namespace

std::unique_ptr<Pass> createAnnotateEntryPointsPass(bool emitCInterface) {
  return std::make_unique<AnnotateEntryPointsPass>(emitCInterface);
}

std::unique_ptr<Pass> createExpandStridedCopiesPass() {
  return std::make_unique<ExpandStridedCopiesPass>();
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
  pm.addPass(createExpandStridedCopiesPass());
  // The VNNI kernels' dot products become intrinsic calls only now: the
  // deallocation passes reject ops without a memory-effect model.
  pm.addPass(createMyQuantLowerVnniDot());
  if (options.threads > 1) {
    pm.addPass(std::make_unique<ParallelizeBatchesPass>());
    ConvertSCFToOpenMPPassOptions openmp;
    openmp.numThreads = options.threads;
    pm.addPass(createConvertSCFToOpenMPPass(openmp));
    // The OpenMP loop bodies sit in memref.alloca_scope, which must stay a
    // single block: inlined (no allocas in them) before SCF becomes CFG.
    pm.addPass(createCanonicalizerPass());
  }

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
  // Vector transfers (the VNNI kernels, expanded copies) need the
  // vector-specific lowering.
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
  PassRegistration<ExpandStridedCopiesPass>();
  PassRegistration<ParallelizeBatchesPass>();
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
    // OpenMP ops (threads > 1) are translated to LLVM IR as they are.
    if (isa<ModuleOp>(op) ||
        isa_and_nonnull<LLVM::LLVMDialect, omp::OpenMPDialect>(
            op->getDialect()))
      return WalkResult::advance();
    op->emitError() << "'" << op->getName()
                    << "' was not lowered to the LLVM dialect";
    return WalkResult::interrupt();
  });
  return failure(result.wasInterrupted());
}

} // namespace myquant
