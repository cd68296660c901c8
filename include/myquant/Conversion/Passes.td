//===- Passes.td - myquant conversion passes ---------------*- tablegen -*-===//

#ifndef MYQUANT_CONVERSION_PASSES_TD
#define MYQUANT_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"
include "myquant/Dialect/MyQuant/Transforms/PassOptions.td"

def ConvertMyQuantToLinalg : Pass<"convert-myquant-to-linalg",
                                  "::mlir::ModuleOp"> {
  let summary = "Lowers myquant ops to integer-only linalg, arith and tensor";
  let description = [{
    Rewrites every myquant op into `linalg.generic` (and `tensor.pad`,
    `tensor.extract_slice`, `tensor.insert_slice`) computations on the
    integer storage types of the quantized tensors: i8 or u8 data as
    signless i8, int32 accumulation, and requantization in i64 with the
    rounding named by each op's
    `#myquant.rescale` (see `docs/NumericSpec.md`). Quantized element types
    disappear from function signatures and `quant.scast` ops; only
    `myquant.quantize` / `myquant.dequantize` at the model's edges compute
    in float. Ops without a precomputed `rescale` get one computed from
    their quantized types with `default-rounding`.

    On a module marked `myquant.arm_dsp` by `myquant-set-target` (an ARM
    target with the DSP extension: Cortex-M4, M7, M33 ...), `dual-mac`
    lowers convolutions and matmuls with constant weights (whose centered
    values fit 8 bits) to quads of products computed by two
    `llvm.arm.smlad`, along the input channels of a group (at least 4), else
    the taps of the kernel window (depthwise, single-channel), or the inner
    dimension. The weights stay 8-bit: each quad is reordered at compile
    time into one i32 word that two `llvm.arm.sxtb16` (of the word and of
    the word rotated by 8) unpack into the halfword pairs matching the
    activation pairs packed in the loop; the iterations left over (extent
    % 4) are a generic multiply-accumulate. The int32 sums are the generic
    lowering's.
  }];
  let options = [
    MyQuant_RoundingOption<"defaultRounding", "default-rounding",
           "Rounding for ops whose rescale is not precomputed">,
    Option<"dualMac", "dual-mac", "bool", /*default=*/"true",
           "Use the ARM DSP dual multiply-accumulate (SMLAD) where the module "
           "is marked myquant.arm_dsp">
  ];
  let dependentDialects = [
    "::mlir::LLVM::LLVMDialect",
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect", "::mlir::tensor::TensorDialect"
  ];
}

def ConvertMyQuantToVnni : Pass<"convert-myquant-to-vnni", "::mlir::ModuleOp"> {
  let summary = "Lowers int8 conv2d and matmul to register-tiled x86 VNNI "
                "kernels with fused requantization";
  let description = [{
    Rewrites `myquant.conv2d` (`groups = 1`, NCHW or NHWC) and 2-D
    `myquant.matmul` whose weights are int8 constants into a kernel built
    around the u8 x s8 dot product `vpdpbusd`: the weights are packed at
    compile time into the `[K/4][N][4]` layout the instruction reads (K and
    N padded with zero weights), stored register tile by register tile
    (`[N tiles][K/4][tile N][4]`, one sequential stream per tile; where a
    channel tile has at most 32 register tiles of pixels, weight-heavy
    layers at a small batch, each K step after the tile's first pass
    `memref.prefetch`es a line of the next tile's weights, so that only a
    kernel's first tile waits for its weights from memory), the
    `+128` shift of signed activations and
    every zero-point and bias term are folded into precomputed int32
    accumulator initial values, the accumulators are register-tiled, and
    the requantization (`docs/NumericSpec.md`) runs on the registers before
    the int8 result is stored. Convolutions are an implicit GEMM over
    (kh, kw, c) on the zero-point padded NHWC input: no im2col buffer,
    except for 1 to 3 input channels with wide filters (a 7 x 7 first
    layer), which run as a dense GEMM over the patches of each tile's rows
    (K = 147 in 148 bytes instead of 196 with a zero fourth channel).
    Depthwise convolutions (`groups` = channels) get a vector kernel of
    their own: 16 or 8 channels at a time, the inputs of two taps
    interleaved and widened to int16 and multiplied by the interleaved
    weights with the pairwise dot product `vpdpwssd`; the same folded
    constants and fused requantization. An add whose operand is a kernel's
    only use runs in that kernel's epilogue (the kernel takes the other
    operand, which must be available in NHWC before it, as a second
    argument, or as its destination, overwritten with the sum, when it is
    a kernel's result that nothing reads after the kernel and every
    output element is written by one tile) and no int8 intermediate is
    stored. NCHW models
    run in NHWC between kernels: pools, element-wise ops and channel
    concatenations fed by kernels move to NHWC as well, and NCHW is rebuilt
    only where a user needs it. Results are bit-identical to
    `convert-myquant-to-linalg`.

    The dot product is emitted as exact vector arithmetic;
    `myquant-lower-vnni-dot` (part of `myquant-lower-to-llvm`) turns it into
    the intrinsic after bufferization. Each kernel is a private `noinline`
    function (`<caller>_kernel`) carrying the target's `target_features`:
    LLVM optimizes the kernels one by one, which keeps compile time linear
    in the depth of the model.

    Ops the kernels do not cover are left to `convert-myquant-to-linalg`:
    grouped convolutions other than depthwise, batched or activation x
    activation matmuls, non-constant weights or bias, weights with a
    non-zero zero point, and channels whose accumulator bound exceeds int32.
    Each says why in a missed-optimization remark of category
    `convert-myquant-to-vnni`, which
    `--remarks-filter-missed=convert-myquant-to-vnni` prints.

    `target`: `generic` (do nothing), `avx512-vnni` (zmm, 16 int32 lanes),
    `avx512-vnni-256` (ymm with the AVX-512 encoding), `avx-vnni` (ymm,
    VEX-encoded AVX-VNNI, 16 registers), or `host` (the default: the best
    of these that `llvm::sys::getHostCPUFeatures()` reports on the
    compiling machine, `generic` when it has none). Code compiled for a
    VNNI target runs only on CPUs with those instructions. On a module
    whose `llvm.target_triple` (`myquant-set-target`) is not x86-64,
    `host` means `generic` and an x86 target is an error.

    `threads` (`myquant-compile --kernel-threads`): each kernel's outer
    loops are shared statically between that many threads. With one
    thread, or a batch the threads divide, the batch loop is the shared
    one (marked `myquant.parallel_batch`); otherwise (batch 1) the outer
    loop over output-channel tiles or output rows (channel blocks or rows
    for depthwise) that leaves the busiest thread least to do is cut into
    one range per thread, ranges that write disjoint bytes, and the marked loop
    runs over (batch, range). `myquant-parallelize-batches` makes the
    marked loop parallel. Each output is computed by one iteration as with
    one thread: the results are bit-identical for any thread count. A
    level that interleaves with the pixels (NHWC channel tiles or blocks)
    is charged for each 64-byte line both threads would write (one per
    pixel where a boundary or the pixel's size is not a whole number of
    lines), against the rows' imbalance. `thread-min-macs`: a kernel whose multiply-accumulates per
    thread are fewer (counted in the time of int8 GEMM ones: x4 for f32,
    x4 for depthwise) stays on one thread and its loop is not marked, nor
    is a batch loop of one iteration that nothing splits. Ops inside a
    marked loop (`myquant-split-batch{threads=N}`, whose threads run whole
    images) get one-thread kernels.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"host\"",
           "Kernel target: generic, avx512-vnni, avx512-vnni-256, avx-vnni "
           "or host">,
    MyQuant_RoundingOption<"defaultRounding", "default-rounding",
           "Rounding for ops whose rescale is not precomputed (as in "
           "convert-myquant-to-linalg)">,
    Option<"threads", "threads", "unsigned", /*default=*/"1",
           "Threads each kernel's outer loops are shared between">,
    Option<"threadMinMacs", "thread-min-macs", "int64_t",
           /*default=*/"::myquant::vnni::kDefaultThreadMinMacs",
           "With threads > 1: the work per thread, in int8 GEMM "
           "multiply-accumulates, below which a kernel stays on one thread">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::bufferization::BufferizationDialect",
    "::mlir::linalg::LinalgDialect", "::mlir::LLVM::LLVMDialect",
    "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect",
    "::mlir::quant::QuantDialect", "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect", "::mlir::vector::VectorDialect"
  ];
}

def ConvertLinalgToFloatKernels
    : Pass<"convert-linalg-to-float-kernels", "::mlir::ModuleOp"> {
  let summary = "Lowers f32 convolutions and matmuls with constant weights "
                "to register-tiled vector FMA kernels";
  let description = [{
    The float counterpart of `convert-myquant-to-vnni`, with the same GEMM
    kernel instantiated for f32: each chain that `matchComputeChain`
    recognizes (zero padding, `linalg.conv_2d_nchw_fchw`,
    `linalg.conv_2d_nhwc_hwcf` or a 2-D `linalg.matmul` whose weights are
    an f32 `arith.constant`, a constant bias as the initial value or a
    following add, and a clamp such as ReLU) becomes a call of a private
    `noinline` kernel. Its weights are packed at compile time into
    `[KH * KW * C][F]` (F padded to whole vectors), its accumulators start
    at the bias, the K loop multiplies one broadcast input by a weight
    vector per register with vector FMA over a register tile of pixels x
    channel vectors (the int8 kernels' cost model), and the epilogue clamps
    and stores: NHWC directly, NCHW as rows of pixels after transposing
    the tile in registers. NCHW input is read as is (scalar broadcasts), so
    the layout needs no copy. The sum is accumulated in f32 in a different
    order than the generic loops: results agree to rounding.

    NCHW depthwise convolutions (`linalg.depthwise_conv_2d_nchw_chw`) get a
    kernel of their own: vectors of output pixels along a row, a broadcast
    weight per tap; it pads each channel plane itself into a tensor that
    stays in the cache (the padding is not copied as a whole tensor).

    Not covered (left to the generic lowering, with a missed-optimization
    remark of category `convert-myquant-to-vnni`): grouped convolutions
    other than depthwise, NHWC depthwise convolutions, batched or
    activation x activation matmuls, fewer output channels than one
    vector, a matmul scaled by a constant.

    `target`: as `convert-myquant-to-vnni` (the vector width: 16 f32
    lanes for `avx512-vnni`, 8 for `avx512-vnni-256` and for `avx-vnni`,
    which uses AVX2 + FMA), except that `host` needs no VNNI: AVX-512, else
    AVX2 + FMA, else nothing (`generic`). `threads`, `thread-min-macs`:
    as `convert-myquant-to-vnni`.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"host\"",
           "Kernel target: generic, avx512-vnni, avx512-vnni-256, avx-vnni "
           "or host">,
    Option<"threads", "threads", "unsigned", /*default=*/"1",
           "Threads each kernel's outer loops are shared between">,
    Option<"threadMinMacs", "thread-min-macs", "int64_t",
           /*default=*/"::myquant::vnni::kDefaultThreadMinMacs",
           "With threads > 1: the work per thread, in int8 GEMM "
           "multiply-accumulates, below which a kernel stays on one thread">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::bufferization::BufferizationDialect",
    "::mlir::func::FuncDialect", "::mlir::LLVM::LLVMDialect",
    "::mlir::scf::SCFDialect", "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def MyQuantLowerVnniDot : Pass<"myquant-lower-vnni-dot", "::mlir::ModuleOp"> {
  let summary = "Turns the exact dot-product patterns into vpdpbusd and "
                "vpdpwssd";
  let description = [{
    Rewrites `vector.multi_reduction <add>` over `[1]` of
    `vector.shape_cast(arith.muli(arith.extui(a), arith.extsi(w)))`, with
    `a` and `w` of type `vector<64xi8>` (or `vector<32xi8>`) reduced to
    `vector<16xi32>` (`vector<8xi32>`), into a call of
    `llvm.x86.avx512.vpdpbusd.512` (`.256`), and the same pattern with
    `arith.extsi` of both `vector<32xi16>` (`vector<16xi16>`) operands,
    reduced in pairs, into `llvm.x86.avx512.vpdpwssd.512` (`.256`), in
    functions whose
    `target_features` allow it (`+avx512vnni`; for 256 bits `+avxvnni` or
    `+avx512vnni,+avx512vl`). Both compute the same wrapping int32 sums.
    Run it after bufferization: the intrinsic call has no memory-effect
    model, which the buffer deallocation passes reject.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // MYQUANT_CONVERSION_PASSES_TD
