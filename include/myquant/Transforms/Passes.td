//===- Passes.td - myquant transformations of upstream IR --*- tablegen -*-===//

#ifndef MYQUANT_TRANSFORMS_PASSES_TD
#define MYQUANT_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def MyQuantVectorizeLinalg : Pass<"myquant-vectorize-linalg",
                                  "::mlir::func::FuncOp"> {
  let summary = "Tiles and vectorizes linalg ops on tensors with static "
                "shapes";
  let description = [{
    Rewrites the linalg ops of a function (float or integer: matmuls,
    convolutions, pools, element-wise generics) into `scf.for` loops over
    register-sized tiles whose bodies are vector code, before
    bufferization. Ops it does not vectorize stay as they are and become
    scalar loops later; the pass never fails.

    Each op is generalized and tiled. The vector runs along the innermost
    dimension of the result, two registers (`vector-bits` each) of the
    widest element type in the body, with a tile size that divides the
    static size (no masks); every other loop gets a tile of one.
    Convolution and pooling window loops (the `kh` of `oh + kh`) are then
    dropped, which turns the window indexing into plain loads. The
    reduction loops run innermost and the accumulator tile is hoisted out
    of them into registers. A float contraction (matmul, convolution) also
    keeps up to 8 rows of the result in registers and becomes
    `vector.contract`, lowered to broadcasts and `vector.fma`; integer
    multiply-accumulates stay element-wise, so integer results are
    bit-exact.

    Left as they are: dynamic shapes, ops whose vector would read with a
    stride or across a transpose (strided windows, layout transposes; those
    would be gathered element by element) and vectors shorter than 8
    elements. A float contraction is the exception: a strided convolution
    runs its vector along the output channels, each gathered vector feeding
    a row of FMAs. Vector code already present, such as the VNNI kernels,
    is not touched.
  }];
  let options = [
    Option<"vectorBits", "vector-bits", "unsigned", /*default=*/"512",
           "Bits of one vector register; the vector tile spans two">
  ];
  let dependentDialects = [
    "::mlir::affine::AffineDialect", "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect", "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect", "::mlir::vector::VectorDialect"
  ];
}

def MyQuantFreeAfterLastUse : Pass<"myquant-free-after-last-use",
                                   "::mlir::func::FuncOp"> {
  let summary = "Moves the frees of a function's temporaries right after "
                "their last use";
  let description = [{
    Ownership-based buffer deallocation frees a buffer at the end of the
    block that owns it, so the peak memory of a function is the sum of all
    its temporaries. This pass moves each `memref.dealloc` of a
    `memref.alloc` of the same block to right after the last operation of
    that block that uses the buffer or a value that may alias it (any
    memref result of a user: views, casts, calls, loops carrying it).

    A free stays where it is when such a value reaches a terminator of the
    block, or when the buffer's address is taken as an integer
    (`memref.extract_aligned_pointer_as_index`): the pass cannot follow it
    from there. Run it after the deallocation pipeline and
    `convert-bufferization-to-memref`.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

#endif // MYQUANT_TRANSFORMS_PASSES_TD
