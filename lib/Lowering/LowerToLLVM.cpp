//===- LowerToLLVM.cpp - myquant-lower-to-llvm pipeline -------------------===//
//
// The pass order is the one checked by hand with mlir-opt and mlir-runner
// (see shared/notes/platform.md), plus ownership-based deallocation so a
// compiled model neither leaks temporaries nor hands out aliased buffers.
//
//===----------------------------------------------------------------------===//

#include "myquant/Lowering/LowerToLLVM.h"

#include "myquant/Conversion/Passes.h"
#include "myquant/Lowering/Passes.h"
#include "myquant/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/SCFToOpenMP/SCFToOpenMP.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/TargetParser/Triple.h"

using namespace mlir;

namespace myquant {

void buildLowerToLLVMPipeline(OpPassManager &pm,
                              const LowerToLLVMOptions &options) {
  // First: the kernels, the index width and the data layout depend on the
  // target.
  MyQuantSetTargetOptions target;
  target.triple = options.triple;
  target.cpu = options.cpu;
  target.features = options.features;
  target.allowFloatIo = options.allowFloatIo;
  pm.addPass(createMyQuantSetTarget(target));
  // Before the kernels: they then run on the slice of one image, and
  // several threads each run whole images (the kernels' batch loops are
  // shared instead where the threads do not divide the batch);
  // static-memory builds (microcontrollers, batch 1) keep the plan of an
  // unsplit function.
  if (!options.staticMemory) {
    MyQuantSplitBatchOptions split;
    split.maxWeightBytes = options.splitBatchMaxWeightBytes;
    split.threads = options.threads;
    pm.addPass(createMyQuantSplitBatch(split));
  }
  // A no-op on modules without myquant ops or quantized types.
  ConvertMyQuantToVnniOptions vnni;
  vnni.target = options.target;
  vnni.threads = options.threads;
  vnni.threadMinMacs = options.threadMinMacs;
  pm.addPass(createConvertMyQuantToVnni(vnni));
  // The float convolutions and matmuls (a float model, calibration's
  // instrumented copy, ops kept in float) get the f32 kernels.
  ConvertLinalgToFloatKernelsOptions floatKernels;
  floatKernels.target = options.target;
  floatKernels.threads = options.threads;
  floatKernels.threadMinMacs = options.threadMinMacs;
  pm.addPass(createConvertLinalgToFloatKernels(floatKernels));
  // target=generic keeps the generic lowering on an ARM DSP target too.
  ConvertMyQuantToLinalgOptions linalg;
  linalg.dualMac = options.target != "generic";
  pm.addPass(createConvertMyQuantToLinalg(linalg));
  MyQuantAnnotateEntryPointsOptions annotate;
  annotate.emitCInterface = options.emitCInterface;
  annotate.symbolPrefix = options.symbolPrefix;
  pm.addPass(createMyQuantAnnotateEntryPoints(annotate));
  pm.addPass(createMyQuantDecomposeAggregatedOps());
  // convert-vector-to-llvm lowers vector ops with a 64-bit index whatever
  // the data layout: on a 32-bit triple (a microcontroller, which has no
  // vector unit anyway) no vector op is created.
  bool cross = !options.triple.empty();
  bool narrowIndex = cross && !llvm::Triple(options.triple).isArch64Bit();
  // The ops the kernels leave (the input's quantization, pools) shared like
  // the kernels, each tile then vectorized as the whole op would be.
  if (options.threads > 1) {
    MyQuantShareLinalgOptions share;
    share.threads = options.threads;
    pm.addPass(createMyQuantShareLinalg(share));
  }
  if (options.vectorize && !narrowIndex)
    pm.addNestedPass<func::FuncOp>(createMyQuantVectorizeLinalg());

  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  // Identity layouts at function boundaries give plain contiguous
  // descriptors in the C interface.
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  // The alignment the arena's planner gives each buffer.
  if (options.staticMemory)
    bufferize.bufferAlignment = options.arenaAlignment;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  pm.addPass(createMyQuantOrderConstantGlobals());
  pm.addPass(createMyQuantFlattenConstantGlobals());
  // Kernels write into a buffer their caller passes (destination-passing
  // style) and return it: without the result, the caller knows every
  // temporary is its own allocation, and no alias checks are needed to
  // free it. The kernels' loops carry the buffer as an iteration argument:
  // canonicalization makes the returned value the argument itself.
  pm.addPass(createCanonicalizerPass());
  pm.addPass(bufferization::createDropEquivalentBufferResultsPass());
  if (options.staticMemory) {
    // Results are written where the caller says, temporaries into the
    // arena: nothing is left to free.
    bufferization::BufferResultsToOutParamsPassOptions outParams;
    outParams.hoistStaticAllocs = true;
    outParams.modifyPublicFunctions = true;
    pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
    MyQuantPlanStaticMemoryOptions plan;
    plan.alignment = options.arenaAlignment;
    pm.addPass(createMyQuantPlanStaticMemory(plan));
  } else if (options.bufferDeallocation) {
    bufferization::buildBufferDeallocationPipeline(pm);
    pm.addPass(createConvertBufferizationToMemRefPass());
    pm.addNestedPass<func::FuncOp>(createMyQuantFreeAfterLastUse());
  }
  MyQuantExpandStridedCopiesOptions copies;
  copies.useVectors = !narrowIndex;
  pm.addPass(createMyQuantExpandStridedCopies(copies));
  // The VNNI kernels' dot products become intrinsic calls only now: the
  // deallocation passes reject ops without a memory-effect model.
  pm.addPass(createMyQuantLowerVnniDot());
  if (options.threads > 1) {
    pm.addPass(createMyQuantParallelizeBatches());
    ConvertSCFToOpenMPPassOptions openmp;
    openmp.numThreads = options.threads;
    pm.addPass(createConvertSCFToOpenMPPass(openmp));
    pm.addPass(createMyQuantOpenMPLoopsNoWait());
    // The OpenMP loop bodies sit in memref.alloca_scope, which must stay a
    // single block: inlined (no allocas in them) before SCF becomes CFG.
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createMyQuantInlineAllocaScopes());
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
  if (cross) {
    // A float-io model (allow-float-io) on a microcontroller's C library:
    // roundeven and IEEE maximum / minimum would be calls of C23's
    // roundeven(f), fmaximum(f) and fminimum(f), which newlib and picolibc
    // lack; their expansions need only the soft-float helpers of libgcc.
    math::MathExpandOpsPassOptions expand;
    expand.opMnemonics = {"roundeven"};
    pm.addPass(math::createMathExpandOpsPass(expand));
    pm.addPass(arith::createArithExpandOpsPass());
  }
  // Math ops of float layers (a nonlinearity left in float) that have no
  // LLVM intrinsic, such as math.erf, become libm calls; the others keep
  // their intrinsics.
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  // With a triple, the type converter takes the index width from the
  // module's data layout (myquant-set-target).
  ConvertToLLVMPassOptions toLLVM;
  toLLVM.useDynamic = cross;
  pm.addPass(createConvertToLLVMPass(toLLVM));
  pm.addPass(createReconcileUnrealizedCastsPass());
  if (options.threads > 1)
    pm.addPass(createMyQuantOpenMPWaitPolicy());
}

/// Why `options` cannot be used together, if they cannot.
static std::optional<std::string>
getOptionsConflict(const LowerToLLVMOptions &options) {
  if (options.staticMemory && !llvm::isPowerOf2_32(options.arenaAlignment))
    return "arena-alignment=" + std::to_string(options.arenaAlignment) +
           " is not a power of two";
  if (options.staticMemory && options.threads > 1)
    return "static-memory excludes threads=" + std::to_string(options.threads) +
           ": the OpenMP runtime allocates on the heap, and parallel "
           "iterations would share the arena slots of their buffers";
  return std::nullopt;
}

void registerLowerToLLVMPipeline() {
  registerPassPipeline(
      "myquant-lower-to-llvm",
      "Lower myquant ops or linalg on tensors to the LLVM dialect",
      [](OpPassManager &pm, StringRef text,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        LowerToLLVMOptions options;
        if (failed(options.parseFromString(text)))
          return failure();
        if (std::optional<std::string> conflict = getOptionsConflict(options))
          return errorHandler(*conflict);
        buildLowerToLLVMPipeline(pm, options);
        return success();
      },
      [](function_ref<void(const mlir::detail::PassOptions &)> handler) {
        handler(LowerToLLVMOptions());
      });
}

LogicalResult
lowerToLLVM(ModuleOp module, const LowerToLLVMOptions &options,
            llvm::function_ref<LogicalResult(PassManager &)> configure) {
  if (std::optional<std::string> conflict = getOptionsConflict(options))
    return module.emitError() << *conflict;
  PassManager pm(module->getName());
  buildLowerToLLVMPipeline(pm, options);
  if (configure && failed(configure(pm)))
    return failure();
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
