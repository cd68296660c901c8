//===- Passes.td - myquant-lower-to-llvm's own passes ------*- tablegen -*-===//

#ifndef MYQUANT_LOWERING_PASSES_TD
#define MYQUANT_LOWERING_PASSES_TD

include "mlir/Pass/PassBase.td"

def MyQuantAnnotateEntryPoints : Pass<"myquant-annotate-entry-points",
                                      "::mlir::ModuleOp"> {
  let summary = "Record the tensor signature of public functions, make their "
                "arguments read-only and optionally request a C interface";
  let description = [{
    Stamps every public `func.func` with a body, before bufferization, so
    that a caller can still use it as an entry point once it is an
    `llvm.func` taking raw pointers:

    * `myquant.signature`: its tensor-level `FunctionType` (after quantized
      types became their integer storage), from which tools read the types
      of the arguments and results;
    * `llvm.emit_c_interface` (with `emit-c-interface`): a
      `_mlir_ciface_<name>` wrapper taking one memref descriptor pointer per
      argument, preceded by an out-pointer when there are results;
    * `bufferization.writable = false` on tensor arguments: bufferization
      assumes the arguments of public functions are writable, but a
      caller's inputs must stay intact, so writes go to a copy instead;
    * a `bufferization.alloc_tensor ... copy(...)` for each repetition of a
      value among the results: the caller owns (and frees) each result
      buffer, so no two results may share one.

    With `symbol-prefix`, every public function with a body is renamed to
    `<prefix><name>` (and its C interface to `_mlir_ciface_<prefix><name>`),
    so that two models with the same function names can be linked into one
    program. The prefix must be a C identifier, or empty.

    Private functions with a body (the int8 kernels that
    `convert-myquant-to-vnni` outlines, helpers) get
    `llvm.linkage = #llvm.linkage<internal>`: nothing outside the module can
    call them, so they export no symbol. External declarations are left as
    they are.
  }];
  let options = [
    Option<"emitCInterface", "emit-c-interface", "bool", /*default=*/"true",
           "Add llvm.emit_c_interface to public functions">,
    Option<"symbolPrefix", "symbol-prefix", "std::string", /*default=*/"",
           "Prefix of the names of public functions (a C identifier)">
  ];
  let dependentDialects = [
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::LLVM::LLVMDialect"
  ];
}

def MyQuantDecomposeAggregatedOps : Pass<"myquant-decompose-aggregated-ops"> {
  let summary = "Decompose aggregated linalg ops (linalg.softmax) into "
                "linalg.generic and linalg.fill";
  let description = [{
    Ops such as `linalg.softmax` that the dry run keeps in float have no
    lowering of their own to loops: each op implementing
    `AggregatedOpInterface` is replaced by its decomposition (for softmax:
    max, subtract and exp, sum, divide), which the rest of
    `myquant-lower-to-llvm` lowers like any other float code.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect", "::mlir::tensor::TensorDialect"
  ];
}

def MyQuantExpandStridedCopies : Pass<"myquant-expand-strided-copies"> {
  let summary = "Rewrite memref.copy between strided views into vector loops "
                "or linalg.copy";
  let description = [{
    `convert-to-llvm` turns a `memref.copy` between identity layouts into
    `llvm.memcpy` but any other copy into a call to `memrefCopy` in
    `libmlir_c_runner_utils`; this pass rewrites the others so that
    compiled models stay self-contained. Such copies come from
    bufferizing `tensor.insert_slice`, e.g. the slices of a channel
    concatenation in NHWC: rows of a few dozen bytes.

    A copy between two identical views of one buffer (the same
    `memref.subview` twice: a kernel that writes into its slice of a
    concatenation inserts the slice back where it took it from) moves
    nothing and is erased.

    With static shapes whose innermost dimension is contiguous on both
    sides and an element of a power-of-two size of a byte or more, loops
    over the other dimensions move each row in vectors of up to 64 bytes
    that divide it (at least 4 elements), unless `vectors` is false. Any
    other copy becomes `linalg.copy`, which later lowers to scalar loops.
  }];
  let options = [
    Option<"useVectors", "vectors", "bool", /*default=*/"true",
           "Move contiguous rows with vector transfers">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::scf::SCFDialect", "::mlir::ub::UBDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def MyQuantParallelizeBatches : Pass<"myquant-parallelize-batches"> {
  let summary = "Turn the int8 kernels' batch loops into scf.parallel";
  let description = [{
    The VNNI and f32 kernels mark their loop over the batch (at a batch
    the threads do not divide, over (batch, range of a layer's channel
    tiles or rows): `convert-myquant-to-vnni`'s `threads`) with
    `myquant.parallel_batch`: its iterations write disjoint slices of the
    result and only read everything else. This pass turns each such
    `scf.for` into an `scf.parallel` with the same bounds and body, for
    `convert-scf-to-openmp` (`myquant-lower-to-llvm{threads=N}`). It runs on
    buffers, where the loops carry no values; a marked loop that still
    carries some is left as it is.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect"];
}

def MyQuantShareLinalg : Pass<"myquant-share-linalg", "::mlir::ModuleOp"> {
  let summary = "Cut the large linalg ops on tensors into one tile per thread";
  let description = [{
    With `threads` above 1 (`myquant-lower-to-llvm{threads=N}`) the
    kernels share their loops between the threads, but the ops left to the
    generic lowering (at batch 1: the input's quantization, a max pool
    with overlapping windows, layout transposes) ran on one thread. This
    pass tiles each linalg op on tensors whose result has at least 32 KiB
    per thread (the padding copies' limit: an empty OpenMP region costs
    about what one thread takes to copy that much), and whose loops are
    static, along its outermost parallel loop that the threads divide,
    other than the loop of the result's innermost dimension (the
    vector's), into one tile per thread: an `scf.for` over the tiles,
    marked `myquant.parallel_batch` for `myquant-parallelize-batches`.
    Where the threads divide no such loop (the max pool's interior, 55 x
    55 windows in ResNet's stem), the outermost one with at least as many
    iterations as threads is split first: the iterations the threads
    divide are tiled, the last few (fewer than the threads) run on one
    thread after the tiles. A `linalg.fill` that initializes the result
    (the max pool's) is computed in the tiles too (split with the op
    where it is split); a `tensor.pad` in front of the op (an average
    pool's padding) is not: its tiles would have dynamic padding, copied
    element by element. Each element is computed as before: the results are
    bit-identical. Left as they are: ops in the iterations of a marked
    loop (`myquant-split-batch`'s loop over images), which run on their
    iteration's thread, fills alone, and ops without such a loop. Runs
    before `myquant-vectorize-linalg`, which vectorizes each tile as it
    would the op.
  }];
  let options = [
    Option<"threads", "threads", "unsigned", /*default=*/"1",
           "Threads the ops are shared between">
  ];
  let dependentDialects = [
    "::mlir::scf::SCFDialect", "::mlir::tensor::TensorDialect"
  ];
}

def MyQuantInlineAllocaScopes : Pass<"myquant-inline-alloca-scopes"> {
  let summary = "Inline the alloca scopes that allocate nothing on the stack";
  let description = [{
    `convert-scf-to-openmp` puts each parallel loop's body in a
    `memref.alloca_scope`, a single-block region that must be gone before
    `convert-scf-to-cf` turns the loops inside it into blocks. The
    canonicalizer inlines a scope only when nothing in it may allocate on
    the stack, and counts every call as one that may: the body of
    `myquant-split-batch`'s loop over images, whose layers call their
    kernels, kept its scope. This pass inlines each scope whose ops
    (outside nested allocation scopes) allocate nothing on the stack of
    the enclosing one; a call does not, as its callee's stack is freed
    when it returns. Scopes holding an `alloca`, or an op whose effects are
    unknown, stay.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def MyQuantOpenMPLoopsNoWait : Pass<"myquant-openmp-loops-nowait"> {
  let summary = "Drop the barrier of work-sharing loops that end their "
                "parallel region";
  let description = [{
    `convert-scf-to-openmp` turns each parallel loop into an
    `omp.parallel` holding an `omp.wsloop`, and the loop's implicit
    barrier is then followed by the region's own join, which waits for
    every thread again. This pass marks `nowait` each `omp.wsloop` without
    reductions that is the last op of its `omp.parallel`: each kernel's
    region (`myquant-lower-to-llvm{threads=N}`) then synchronizes its
    threads once instead of twice (an empty region 1.5-1.9 us instead of
    2.2-2.6 us on two cores of the Zen 5 VM, benchmarks/README.md). A loop
    followed by other ops in its region keeps its barrier: those ops may
    read what the other threads wrote.
  }];
}

def MyQuantOpenMPWaitPolicy : Pass<"myquant-openmp-wait-policy",
                                   "::mlir::ModuleOp"> {
  let summary = "Make libomp's threads spin between the kernels by default";
  let description = [{
    Adds a module constructor (`llvm.mlir.global_ctors`) that, when the
    loading process has none of `OMP_WAIT_POLICY`, `KMP_LIBRARY` and
    `KMP_BLOCKTIME` in its environment, sets `KMP_BLOCKTIME=1000` there
    (`setenv` without overwriting) before the first parallel region starts
    libomp, which reads it then. The kernels of a model
    (`myquant-lower-to-llvm{threads=N}`) open one OpenMP region each,
    microseconds apart, and calls follow each other: libomp's waiting
    threads spin (yielding their core to any other runnable thread, libomp's
    `throughput` library) for 1 s after a region instead of its default
    200 ms, and then sleep, so that an idle process keeps no core busy.
    Sleeping at once (`OMP_WAIT_POLICY=PASSIVE`) cost squeezenet1_1 2.7x
    on two threads of an idle 2-core VM (benchmarks/README.md); spinning
    without yielding (`KMP_LIBRARY=turnaround`, as `OMP_WAIT_POLICY=ACTIVE`)
    made it 120x slower under a load of 11 on 2 cores, where the spinning
    thread holds the core its partner waits for. Only libomp reads
    `KMP_BLOCKTIME` (not a libgomp in the same process). A user's choice
    in any of the three variables is left as it is; so is a libomp that
    another library started before.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def MyQuantSplitBatch : Pass<"myquant-split-batch", "::mlir::ModuleOp"> {
  let summary = "Run the per-image layers of a batched model a few images at "
                "a time";
  let description = [{
    Each kernel loops over the batch outermost, so at batch 16 a layer
    writes the activations of all 16 images before the next layer reads
    them: 13 MB for squeezenet1_1's first layer, which then comes back
    from L3 or memory instead of L2. This pass moves the layers that treat
    every image on its own into one `scf.for` over slices of `images`
    images: each iteration runs them on its slice
    (`tensor.extract_slice` of the batched arguments) and writes what the
    rest of the function reads into its slice of a whole-batch tensor
    (`tensor.insert_slice`). The per-image layers are the myquant ops
    that read and write a static batch dimension 0 and compute each image
    from that image alone: `conv2d` (on its input; constant filter and
    bias), `max_pool2d`, `avg_pool2d`, `add`, `mul`, `concat` (not on
    dimension 0), `clamp`, `table`, `requantize` (without factors along
    dimension 0), `quantize`, `dequantize` and `quant.scast`, on
    activations without per-axis quantization along dimension 0. The
    first other op reading their results (a `collapse_shape` before the
    classifier's matmul, which reads its weights once for the batch, a
    `dynamic_matmul` whose scale depends on the whole batch) and
    everything after it stay outside, at the full batch. The values are
    those of the unsplit function, bit for bit.

    A function is split when its batch (dimension 0 of its first tensor
    argument) is a multiple of `images` larger than it, the loop holds at
    least one `conv2d`, and its constants take at most `max-weight-bytes`
    bytes: each iteration reads every weight again, from L3 or memory when
    they do not fit the caches, which costs less than the whole batch's
    activations leaving them up to resnet50's 24.4 MiB (4% faster split
    at batch 16; squeezenet1_1: 1.2 MB, mobilenet_v2: 3.5 MB); the default,
    32 MiB, covers the ResNets and no larger model is measured;
    `max-weight-bytes=0` turns the pass off.

    With `threads` above 1 the function is split only when the threads
    divide the loop's iterations, and the loop is marked
    `myquant.parallel_batch`: `myquant-parallelize-batches` makes it the
    one parallel loop, each thread running whole images through the
    layers with one-thread kernels (`convert-myquant-to-vnni`), the
    temporaries of each iteration its own allocations; the layers after
    the loop share their kernels between the threads as before.
    Otherwise (a batch below the threads, or one they do not divide) the
    function is left to the kernels' own thread sharing.
    `myquant-lower-to-llvm` runs the pass with its `threads`, without
    static memory.
  }];
  let options = [
    Option<"images", "images", "int64_t", /*default=*/"1",
           "Images per iteration of the loop">,
    Option<"threads", "threads", "int64_t", /*default=*/"1",
           "Threads sharing the loop's iterations (> 1: split only when "
           "they divide them, and mark the loop parallel)">,
    Option<"maxWeightBytes", "max-weight-bytes", "int64_t",
           /*default=*/"::myquant::kDefaultSplitBatchMaxWeightBytes",
           "Split only functions whose constants take at most this many "
           "bytes (0: never)">
  ];
  let dependentDialects = [
    "::mlir::scf::SCFDialect", "::mlir::tensor::TensorDialect"
  ];
}

def MyQuantOrderConstantGlobals : Pass<"myquant-order-constant-globals",
                                      "::mlir::ModuleOp"> {
  let summary = "Name and order the constant globals of bufferization "
                "deterministically";
  let description = [{
    One-shot bufferization turns tensor constants into private constant
    `memref.global`s named `__constant_<shape>[_<n>]`, numbered and placed
    in the order it visits functions, which depends on pointer values and
    changes from run to run: the same model compiled twice gave different
    LLVM IR. This pass renames those globals `__constant_<shape>_<k>` (k
    counts globals of one shape) and moves them to the top of the module,
    both in the order of their first `memref.get_global` in the module, so
    that a compilation's output depends only on its input. Unused ones are
    erased.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def MyQuantFlattenConstantGlobals
    : Pass<"myquant-flatten-constant-globals", "::mlir::ModuleOp"> {
  let summary = "Make the constant globals (weights) one-dimensional";
  let description = [{
    Every private constant `memref.global` of a static identity-layout
    shape of rank 2 or more, initialized with dense elements, becomes the
    one-dimensional global of the same bytes; each `memref.get_global` of
    it becomes a `memref.get_global` of the flat global and a
    `memref.expand_shape` back to the original type, so its users see the
    same memref. Why: LLVM represents an n-d constant as nested arrays, one
    uniqued constant per innermost row (one float per row for a 1x1
    convolution's weights), which its optimizer visits one by one: the
    instrumented float copy of ResNet-18 that calibration JIT-compiles took
    most of its time and memory there. A constant global of more than 2^30
    elements (kMaxWeightElements) is an error: the translation to LLVM
    writes out each element, even of a splat.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def MyQuantSetTarget : Pass<"myquant-set-target", "::mlir::ModuleOp"> {
  let summary = "Record a cross target's triple, data layout and index width "
                "on the module";
  let description = [{
    With a `triple` (empty: the compiling machine, and the pass does
    nothing), looks the target up in LLVM's registry, builds its
    `TargetMachine` for `cpu` and `features` (LLVM's spelling:
    `+m,+a,+c`, `-fpregs`) and stamps the module with

    * `llvm.target_triple` and `llvm.data_layout` (the `TargetMachine`'s
      data layout), which the translation to LLVM IR carries over;
    * a `dlti.dl_spec` entry giving `index` the width of a pointer: on a
      32-bit target the memref descriptors' sizes and strides, address
      arithmetic and `malloc`'s argument are then 32-bit.

    `convert-myquant-to-vnni` reads the triple: its x86 kernels apply only
    to x86-64 triples.

    A target without a floating-point unit (ARM without `fpregs`, RISC-V
    without `f`) runs float code only through software emulation
    (`__aeabi_f*`, `__addsf3`, ...): a public function taking or returning
    floating-point values there is an error naming the function and the
    types, unless `allow-float-io` is set. Quantize such models with
    integer-io (int8 in and out, `myquant-ptq{integer-io}`).
  }];
  let options = [
    Option<"triple", "triple", "std::string", /*default=*/"",
           "LLVM target triple (empty: the compiling machine)">,
    Option<"cpu", "cpu", "std::string", /*default=*/"",
           "Target CPU (LLVM's name, e.g. cortex-m4)">,
    Option<"features", "features", "std::string", /*default=*/"",
           "Target features, comma-separated (+m,+a,+c or -fpregs)">,
    Option<"allowFloatIo", "allow-float-io", "bool", /*default=*/"false",
           "Accept float inputs and results on a target without a "
           "floating-point unit (software floating point)">
  ];
  let dependentDialects = [
    "::mlir::DLTIDialect", "::mlir::LLVM::LLVMDialect"
  ];
}

def MyQuantPlanStaticMemory : Pass<"myquant-plan-static-memory",
                                    "::mlir::ModuleOp"> {
  let summary = "Plan every buffer into one caller-provided arena (no heap)";
  let description = [{
    For code that must not use a heap (microcontrollers): every
    `memref.alloc` of the module becomes a `memref.view` at a fixed offset
    of one arena that the caller passes, and its `memref.dealloc`s are
    erased. Run it on buffers, after `buffer-results-to-out-params` (results
    are then caller-provided output buffers) and instead of the deallocation
    pipeline.

    Each function with a body is planned on its own, callees first. A
    buffer is live from the first to the last operation of the function's
    body that uses it or a value that may alias it (views, casts, loops
    carrying it, call results); a call to a function that needs scratch
    memory is a buffer of the callee's arena size, live during the call
    only, whose view the call passes as an extra last argument. Offsets
    are multiples of `alignment` (or of the alloc's own, if larger). Each
    buffer goes, in turn, into the smallest gap (best fit) or the lowest
    (first fit) between the placed buffers whose lifetimes overlap its own,
    else above them; the pass tries a few orders (by decreasing size as
    TFLite Micro's planner, by lifetime, by size x lifetime, by first use)
    and, while the arena exceeds the peak of live bytes, up to 512 random
    orders from a fixed seed (fewer for large functions), keeping the
    smallest arena.

    Every public function gets a last argument `memref<N x i8>` (N the
    arena size, possibly 0) that its body assumes aligned to `alignment`,
    and an attribute `myquant.static_memory` = {`arena_size`, `alignment`,
    `peak_live`, `weights_size`} in bytes: `peak_live` is the largest total
    size of the buffers live at one operation (callees' included), the lower
    bound of any arena for these lifetimes; `weights_size` the size of the
    module's constant globals (weights, tables), which stay read-only.
    Private functions get the argument only when they need scratch memory.

    Refused with an error at the op: a buffer of dynamic size or
    non-identity layout, `memref.realloc`, a buffer returned by a function,
    yielded out of the region that allocates it or whose address is taken
    as an integer, an allocation in a parallel loop, recursion, and a
    function body of several blocks that allocates.
  }];
  let options = [
    Option<"alignment", "alignment", "unsigned", /*default=*/"64",
           "Alignment in bytes of the arena and of every buffer in it (a "
           "power of two)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::memref::MemRefDialect"
  ];
}

#endif // MYQUANT_LOWERING_PASSES_TD
