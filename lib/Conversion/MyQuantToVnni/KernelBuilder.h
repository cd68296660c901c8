//===- KernelBuilder.h - emits the VNNI kernels -----------------*- C++ -*-===//
//
// Emits the loops of a VNNI kernel on tensors (scf.for,
// vector.transfer_read/write) from its Problem: the register-tiled
// implicit GEMM around the u8 x s8 dot product, or the depthwise kernel
// around the int16 pair dot product, and the requantizing epilogue. The
// dot products are plain exact vector arithmetic, which
// myquant-lower-vnni-dot turns into the instructions.
//
//===----------------------------------------------------------------------===//

#ifndef MYQUANT_LIB_CONVERSION_MYQUANTTOVNNI_KERNELBUILDER_H
#define MYQUANT_LIB_CONVERSION_MYQUANTTOVNNI_KERNELBUILDER_H

#include "myquant/Conversion/MyQuantToVnni/KernelProblem.h"
#include "myquant/Conversion/MyQuantToVnni/Target.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/SymbolTable.h"

namespace myquant::vnni {

/// Creates `for iv = 0 to upper step step` inside `parent`'s body, where
/// `b` is, carrying `parent`'s iteration arguments; `parent` yields its
/// results, and `b` moves into the new body.
mlir::scf::ForOp nestLoop(mlir::OpBuilder &b, mlir::Location loc,
                          mlir::scf::ForOp parent, int64_t upper, int64_t step);

/// nestLoop from `lower` to `upper`.
mlir::scf::ForOp nestLoop(mlir::OpBuilder &b, mlir::Location loc,
                          mlir::scf::ForOp parent, mlir::Value lower,
                          mlir::Value upper, int64_t step);

/// Where a kernel writes its result: into a tensor of its own (`into`
/// null), or into the part of `into` at `offsets` (a concatenation's
/// tensor, which kernels fill in place instead of the concatenation
/// copying their results; the addend of a fused add, which the kernel
/// overwrites with the sum).
struct KernelDestination {
  mlir::Value into;
  llvm::SmallVector<int64_t, 4> offsets;
};

/// The `type`d slice of `whole` at `offsets`, unit strides.
mlir::Value extractSlice(mlir::OpBuilder &b, mlir::Location loc,
                         mlir::RankedTensorType type, mlir::Value whole,
                         llvm::ArrayRef<int64_t> offsets);

/// `whole` with `slice` inserted at `offsets`, unit strides.
mlir::Value insertSlice(mlir::OpBuilder &b, mlir::Location loc,
                        mlir::Value slice, mlir::Value whole,
                        llvm::ArrayRef<int64_t> offsets);

/// Builds `body(args)` as a private `noinline` function of its own, with
/// `target`'s features, inserted into `symbols` before `op`'s function, and
/// returns a call of it on `args` at `b`: LLVM then optimizes each kernel
/// on its own (one function holding every kernel of a deep model compiles
/// in superlinear time). The kernel writes its `resultType` result into a
/// last argument the caller allocates (destination-passing style): the
/// call then returns that buffer, bufferization drops the result, and the
/// caller owns and frees every temporary itself. `body` gets the
/// arguments, the destination last, and returns the destination written.
/// With `destination.into`, the kernel takes that whole tensor, `body`
/// writes the slice of it at `destination.offsets` (of `resultType`: the
/// whole tensor itself when their types match), and the call returns the
/// whole tensor.
mlir::Value outlineKernel(
    mlir::OpBuilder &b, mlir::Operation *op, mlir::ValueRange args,
    mlir::RankedTensorType resultType, const KernelTarget &target,
    mlir::SymbolTable &symbols,
    llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::ValueRange)> body,
    const KernelDestination &destination = {});

/// Links the int8 GEMM kernels of a function, in the order they are built,
/// for prefetching across kernels: the last channel tile of a kernel that
/// prefetches its next tile's weights (KernelBuilder::prefetchNextTile)
/// prefetches the first weights of the next kernel built instead.
struct WeightPrefetchChain {
  /// The buffer the last channel tile of the latest such kernel prefetches
  /// (a memref.cast to memref<?xi8>, of that kernel's own weights until the
  /// next kernel links its own), and the bytes it reads there.
  mlir::memref::CastOp pending;
  int64_t bytes = 0;
};

class KernelBuilder {
public:
  KernelBuilder(mlir::OpBuilder &b, mlir::Location loc,
                const KernelTarget &target)
      : b(b), loc(loc), lanes(target.lanes), threads(target.threads),
        threadMinMacs(target.threadMinMacs), registers(target.registers) {}

  /// The runtime input scale A' and, for an asymmetric input, zero point
  /// (else null) of a dynamic problem (`p.dynamic`), which its epilogue
  /// applies to the accumulators: i64 scalars, or i64 tensors with one entry
  /// per row of the matmul (docs/NumericSpec.md 8.2c).
  void setDynamicScale(mlir::Value scale, mlir::Value zeroPoint);

  /// Links the GEMM kernel that build() emits into `chain`.
  void chainPrefetches(WeightPrefetchChain &c) { chain = &c; }

  /// Emits the whole GEMM kernel; `input` is the NHWC storage tensor with
  /// `p.inputChannels` channels, padded spatially; `addend` the NHWC
  /// storage operand of `p.add`, if any (null: `output` holds it, and
  /// tilesWriteOnce must hold). Returns `output` (NHWC int8)
  /// written. An f32 problem (`p.floating`) reads and writes f32 in the
  /// layouts it names, and has no addend. A problem over patches
  /// (`p.patches`, with `tiling.rowsOuter`) reads `input` from
  /// preparePatchSource and builds each tile's patches (buildPatchRows).
  mlir::Value build(const Problem &p, const Tiling &tiling, mlir::Value input,
                    mlir::Value addend, mlir::Value output);

  /// Emits a depthwise convolution (one filter per channel): `pixels`
  /// pixels of `lanes` channels at a time; the inputs of two filter rows at
  /// one input column are interleaved, widened to int16 and multiplied by
  /// `p.tapPairs` with a pairwise dot product (vpdpwssd); the same
  /// epilogue. `input` is NHWC storage with `p.paddedChannels` channels,
  /// padded spatially.
  mlir::Value buildDepthwise(const Problem &p, int64_t pixels,
                             mlir::Value input, mlir::Value addend,
                             mlir::Value output);

  /// Emits an f32 depthwise convolution on NCHW (`p.floating`, weights
  /// `packed` as [channels][taps]): vectors of `width` output pixels along
  /// a row, `rows` rows at a time, each tap a broadcast weight times the
  /// input vector (for strides above 1, every stride-th element of a
  /// longer read); the bias starts the accumulators and the clamp ends
  /// them. `input` is NCHW, unpadded: `padding` (top, left, bottom, right)
  /// zeros are added plane by plane (padPlane).
  mlir::Value buildFloatDepthwise(const Problem &p, int64_t rows, int64_t width,
                                  llvm::ArrayRef<int64_t> padding,
                                  mlir::Value input, mlir::Value output);

private:
  /// A loop of a kernel's outer nest below the batch loop, `for iv = 0 to
  /// upper step step`: its iterations write disjoint parts of the output,
  /// `outputs` indices of output dimension `dim` each, except that the
  /// last may be shifted back to overlap the one before (`lastOverlaps`).
  struct OuterLevel {
    int64_t upper, step;
    int64_t dim, outputs;
    bool lastOverlaps = false;
  };

  /// The outer loops of a kernel, shared statically between `threads`
  /// threads. A kernel of less than `threadMinMacs` per thread stays on
  /// one thread: its batch loop is not marked. With one thread, or a batch
  /// the threads divide, the batch loop is the shared one. Otherwise, if
  /// cutting one level into `threads` ranges of whole iterations gives the
  /// busiest thread less to do than the batch does (no range boundary
  /// falls before an overlapping last iteration: the threads write
  /// disjoint bytes; a level that interleaves with an outer one, such as
  /// the channels of NHWC pixels, pays for each 64-byte line both threads
  /// write), the shared loop runs over (batch, range) and that level over
  /// its range. Every output is still computed by one iteration in the
  /// same order: the results are bit-identical for any number of threads.
  class OuterLoops {
  public:
    /// Creates the shared loop (marked for myquant-parallelize-batches
    /// when the kernel is shared), carrying `output`, and moves `kb`'s
    /// builder into its body. `macs`: the kernel's work, in the time of
    /// int8 GEMM multiply-accumulates.
    OuterLoops(KernelBuilder &kb, int64_t batch, mlir::Value output,
               llvm::ArrayRef<OuterLevel> levels, int64_t macs);

    /// The loop of `levels[level]` in `parent`'s body, where the builder
    /// is (nestLoop, over this thread's range if that level is split).
    mlir::scf::ForOp nest(mlir::scf::ForOp parent, unsigned level);

    /// The shared loop: its result is the output written.
    mlir::scf::ForOp loop;
    mlir::Value batch;

  private:
    KernelBuilder &kb;
    llvm::SmallVector<OuterLevel> levels;
    /// The split level, if any, and the index of this thread's range.
    std::optional<unsigned> split;
    mlir::Value range;
  };

  /// Where one register tile sits.
  struct TilePosition {
    /// `tile`: the channel tile, the outer index of the packed weights.
    mlir::Value batch, tile, row, firstPixel;
    /// The first channel of each block of `lanes` channels.
    llvm::SmallVector<mlir::Value> channels;
    /// Where the K loop prefetches (GemmOperands::weightBuffer, else
    /// null): the buffer, and the byte its K step 0 prefetches.
    mlir::Value prefetchBuffer, prefetchStart;
  };
  /// What the GEMM kernel's K loop reads.
  struct GemmOperands {
    mlir::Value weights, init, input;
    /// m - 1 of 4-bit weights per group, [tiles][groups][tile channels].
    mlir::Value multipliers;
    /// The xor mask flipping signed input to u8, if the K loop flips.
    mlir::Value flip;
    mlir::Value zero, one;
    /// `weights` as a memref<?xi8>, where the K loop prefetches the next
    /// channel tile's weights (prefetchNextTile), else null; the buffer the
    /// last channel tile prefetches (WeightPrefetchChain::pending), or
    /// null; the bytes the prefetch advances per K step.
    mlir::Value weightBuffer, nextKernelWeights;
    int64_t prefetchStride = 0;
  };

  mlir::Value index(int64_t v);

  /// Sets `at.channels`, the first channel of each of the `channelBlocks`
  /// blocks of channel tile `at.tile` (the last tile shifted back to end at
  /// `p.channelEnd`).
  void setTileChannels(const Problem &p, int64_t channelBlocks,
                       TilePosition &at);

  /// build() of a problem that pipelinesTiles, software-pipelined:
  /// the register tiles of a channel tile run as one loop over the (oy, ox)
  /// plane whose body is the tile's K steps, unrolled, with the epilogue of
  /// the tile before interleaved between them. The epilogue (requantization
  /// and a fused add: two dozen vector instructions per accumulator, mostly
  /// on other ports than vpdpbusd) then overlaps the dot products instead
  /// of following them. Same operations on the same values: same bits.
  mlir::Value buildPipelined(const Problem &p, const Tiling &tiling,
                             const GemmOperands &operands,
                             llvm::ArrayRef<mlir::Value> epilogueTensors,
                             mlir::Value addend, mlir::Value output);

  template <typename T>
  mlir::Value tensorConstant(llvm::ArrayRef<int64_t> shape,
                             mlir::Type elementType, llvm::ArrayRef<T> values);

  /// One vector register of the element type of `tensor`.
  mlir::VectorType laneVector(mlir::Value tensor);

  mlir::Value splat(mlir::VectorType type, int64_t value);

  mlir::Value read(mlir::Value tensor, mlir::ValueRange indices,
                   mlir::VectorType type, bool inBounds = true);

  /// The accumulators of the tile at `at` after the whole K loop (kernelH,
  /// kernelW, input channels / 4), which starts from `p.init`: accumulator
  /// (r, i, j) of window row r, pixel i and channel block j is result
  /// (r * pixels + i) * channelBlocks + j. `b` is left after the loop.
  llvm::SmallVector<mlir::Value> accumulateTile(const Problem &p,
                                                const Tiling &tiling,
                                                const TilePosition &at,
                                                const GemmOperands &operands);

  /// accumulateTile of 4-bit weights per group (NumericSpec 7.2): a loop
  /// over the groups around one over the group's K steps, whose partial
  /// sums start at 0 and are added to `accs` times the group multipliers.
  /// `ys` and `xs` are where the matmul's one tap reads.
  llvm::SmallVector<mlir::Value> accumulateGroups(
      const Problem &p, const Tiling &tiling, const TilePosition &at,
      const GemmOperands &operands, llvm::ArrayRef<mlir::Value> accs,
      llvm::ArrayRef<mlir::Value> ys, llvm::ArrayRef<mlir::Value> xs);

  /// `totals` + (`partials` >> 4) (times `multipliers[j]` for channel
  /// block j, if given): the 4-bit kernel's partial sums of 16 * w.
  llvm::SmallVector<mlir::Value>
  addPartials(mlir::ValueRange totals, mlir::ValueRange partials,
              llvm::ArrayRef<mlir::Value> multipliers);

  /// Fills the input rows and columns tap (ky, kx) of a tile reads.
  using TapIndicesFn = llvm::function_ref<void(
      mlir::Value, mlir::Value, llvm::SmallVector<mlir::Value> &,
      llvm::SmallVector<mlir::Value> &)>;

  /// accumulateTile of a 16-bit-input problem (`p.wideInput`), from the
  /// int32 accumulators `accs` at `p.init`: int64 accumulators, the K steps
  /// summed in int32 blocks of at most kMaxPairSteps and widened between
  /// blocks.
  mlir::scf::ForOp accumulateWideTile(const Problem &p, const Tiling &tiling,
                                      const TilePosition &at,
                                      const GemmOperands &operands,
                                      llvm::ArrayRef<mlir::Value> accs,
                                      TapIndicesFn tapIndices);

  /// The body of `stepLoop`, the K loop over one tap's steps (where `b`
  /// is): the dotStep of its step at packed-weight row `row0` + step,
  /// yielded.
  void buildStepBody(const Problem &p, const Tiling &tiling,
                     const TilePosition &at, const GemmOperands &operands,
                     mlir::scf::ForOp stepLoop, mlir::Value row0,
                     llvm::ArrayRef<mlir::Value> ys,
                     llvm::ArrayRef<mlir::Value> xs);

  /// Sets up the K loop's prefetch of the next channel tile's weights
  /// (`operands.weightBuffer`...) for `passes` pixel tiles per channel
  /// tile, linking the kernel into `chain`, if any, where `linked` (one
  /// image: with more, the last tile is followed by the next image's first
  /// tile, which it prefetches instead).
  void prepareWeightPrefetch(GemmOperands &operands, int64_t passes,
                             bool linked);

  /// Sets `at.prefetchBuffer` and `at.prefetchStart` for pixel tile `pass`
  /// (in loop order, 0 the first to read the tile's weights) of channel tile
  /// `at.tile`: byte (pass - 1) rows stride of the next channel tile, or,
  /// from the last one, of the next kernel's weights (linked) or of the
  /// first tile, so that the passes after
  /// the first, which read their own weights from the cache, bring in the
  /// next tile's evenly. The first pass, which streams its own weights from
  /// memory, prefetches its own tile, behind its loads.
  void setPrefetchTarget(TilePosition &at, mlir::Value pass,
                         const GemmOperands &operands);

  /// At K step `row` (a packed-weight row) of the pixel tile at `at`, the
  /// prefetch of the 64-byte lines from `at.prefetchStart` + row stride
  /// (one per K step, or more for strides above 64 bytes): an add per K
  /// step, the rest is the pixel tile's.
  void prefetchNextTile(const TilePosition &at, const GemmOperands &operands,
                        mlir::Value row);

  /// Makes `weights`, those of the kernel being built, the ones the
  /// pending kernel of `chain` prefetches, where they hold the bytes it
  /// reads; the pending kernel is done either way.
  void linkPrefetchChain(mlir::Value weights);

  /// One step of the K loop: the dot products of channelsPerStep input
  /// channels of the tile's pixels, at packed-weight row `weightRow` and input
  /// channel `firstChannel`, with `ys` and `xs` the input rows and columns.
  llvm::SmallVector<mlir::Value>
  dotStep(const Problem &p, const Tiling &tiling, const TilePosition &at,
          const GemmOperands &operands, mlir::ValueRange accs,
          mlir::Value weightRow, mlir::Value firstChannel,
          llvm::ArrayRef<mlir::Value> ys, llvm::ArrayRef<mlir::Value> xs);

  /// Where one K step reads its 4 input channels.
  struct KStep {
    mlir::Value firstChannel;
    llvm::SmallVector<mlir::Value> ys, xs;
  };

  /// dotStep of 4-bit weights: the two steps `steps` of packed-weight row
  /// `weightRow`, the low nibbles and the high ones, as 16 * w.
  llvm::SmallVector<mlir::Value>
  nibbleStep(const Problem &p, const Tiling &tiling, const TilePosition &at,
             const GemmOperands &operands, mlir::ValueRange accs,
             mlir::Value weightRow, llvm::ArrayRef<KStep> steps);

  /// The weight vectors of packed-weight row `row` of the tile at `at`, one
  /// per channel block: bytes, widened to int16 for a 16-bit input.
  llvm::SmallVector<mlir::Value>
  weightVectors(const Problem &p, const Tiling &tiling, const TilePosition &at,
                const GemmOperands &operands, mlir::Value row);

  /// The dot products of one step's input channels (4 bytes, or 2 int16
  /// for a 16-bit input) from `firstChannel` of the tile's pixels with the
  /// weight vectors `w` (one per channel block).
  llvm::SmallVector<mlir::Value>
  stepDots(const Problem &p, const Tiling &tiling, const TilePosition &at,
           const GemmOperands &operands, mlir::ValueRange accs,
           llvm::ArrayRef<mlir::Value> w, mlir::Value firstChannel,
           llvm::ArrayRef<mlir::Value> ys, llvm::ArrayRef<mlir::Value> xs);

  /// dotStep of an f32 problem: one input channel of each pixel, broadcast
  /// and multiplied into the accumulators by vector FMA.
  llvm::SmallVector<mlir::Value>
  fmaStep(const Problem &p, const Tiling &tiling, const TilePosition &at,
          const GemmOperands &operands, mlir::ValueRange accs,
          mlir::Value weightRow, mlir::Value firstChannel,
          llvm::ArrayRef<mlir::Value> ys, llvm::ArrayRef<mlir::Value> xs);

  /// Clamps and stores the f32 accumulators of channel block `j` of the
  /// tile at `at` into `out` (NHWC, or NCHW rows of pixels).
  mlir::Value storeFloatTile(const Problem &p, const Tiling &tiling,
                             const TilePosition &at, int64_t j,
                             mlir::ValueRange accs, mlir::Value out);

  /// Plane (n, c) of the NCHW f32 `input` with `padding` (top, left,
  /// bottom, right) zeros around it, as a tensor of its own whose rows hold
  /// the padded row's columns split by phase: column x at x % stride *
  /// phaseColumns + x / stride (phaseColumns >= each phase's columns; the
  /// elements past them are zero too).
  mlir::Value padPlane(mlir::Value input, mlir::Value n, mlir::Value c,
                       llvm::ArrayRef<int64_t> padding, int64_t stride,
                       int64_t phaseColumns);

  /// `v` clamped to the fused activation's range of `f`.
  mlir::Value clampFloat(const Problem::Float &f, mlir::Value v);

  mlir::Value floatConstant(llvm::ArrayRef<int64_t> shape,
                            llvm::ArrayRef<float> values);

  /// The int16 weight pairs of `p.tapPairs` of the channel block from
  /// `channel` (the block loop's `blockStart`, shifted back at the end), one
  /// vector per pair (row pair, kx): read from `weights`, or unpacked from
  /// its nibbles for 4-bit weights.
  llvm::SmallVector<mlir::Value> tapPairWeights(const Problem &p,
                                                mlir::Value blockStart,
                                                mlir::Value channel,
                                                mlir::Value weights);

  /// The accumulators of the `pixels` pixels of the depthwise tile at `at`
  /// (one channel block) after every tap, from `init`: each input column of
  /// the tile read once, its rows interleaved in pairs and multiplied by
  /// the weight pairs `w` (tapPairWeights) for every pixel whose window
  /// covers it.
  llvm::SmallVector<mlir::Value>
  accumulateTapPairs(const Problem &p, int64_t pixels, const TilePosition &at,
                     mlir::Value input, llvm::ArrayRef<mlir::Value> w,
                     mlir::Value init);

  /// Requantizes and stores the accumulators of channel block `j` of the
  /// tile at `at` (a pixel each, or pooled by windows of `p.pool`) into
  /// `out`.
  mlir::Value storeTile(const Problem &p, const Tiling &tiling,
                        const TilePosition &at, int64_t j,
                        mlir::ValueRange accs,
                        llvm::ArrayRef<mlir::Value> constants,
                        mlir::Value addend, mlir::Value out);

  /// The requantization constants of `p`, as tensors of
  /// `p.paddedChannels` entries.
  llvm::SmallVector<mlir::Value> epilogueConstants(const Problem &p);

  /// acc + the sums over groups of `group` adjacent products of a and w,
  /// widened to int32 (a zero- or sign-extended, w sign-extended).
  mlir::Value groupedDot(mlir::Value acc, mlir::Value a, mlir::Value w,
                         int64_t group, bool unsignedA);

  /// acc + sum over groups of 4 of u8(a) * s8(w): exactly vpdpbusd.
  mlir::Value dot(mlir::Value acc, mlir::Value a, mlir::Value w) {
    return groupedDot(acc, a, w, 4, /*unsignedA=*/true);
  }

  /// acc + sum over pairs of s16(a) * s16(w): exactly vpdpwssd.
  mlir::Value pairDot(mlir::Value acc, mlir::Value a, mlir::Value w) {
    return groupedDot(acc, a, w, 2, /*unsignedA=*/false);
  }

  /// The requantized storage vector of one accumulator (NumericSpec 2.3;
  /// 6.3 for the int64 accumulator of a 16-bit input).
  mlir::Value requantize(const Problem &p, mlir::Value acc,
                         llvm::ArrayRef<mlir::Value> constants);

  /// For high-half epilogues: the requantized accumulator before the zero
  /// point is added, clamped, as int32.
  mlir::Value centeredResult(const Problem &p, mlir::Value acc,
                             llvm::ArrayRef<mlir::Value> constants);

  /// Builds the tensor of `p.table`, if any, for lookUp.
  void buildTable(const Problem &p);

  /// The entries of `p.table` at the result storage values `x`.
  mlir::Value lookUp(const Problem &p, mlir::Value x);

  /// Requantizes `acc`, applies `p.add` with `addend` at `indices` (NHWC)
  /// and `p.table`, and writes the result into `out` there. A null
  /// `addend` with `p.add`: `out` holds the addend there.
  mlir::Value storeResult(const Problem &p, mlir::Value acc,
                          llvm::ArrayRef<mlir::Value> constants,
                          mlir::Value addend, mlir::Value out,
                          mlir::ValueRange indices);

  mlir::OpBuilder &b;
  mlir::Location loc;
  int64_t lanes;
  /// The threads the outer loops are shared between, and the work per
  /// thread below which a kernel is not shared (OuterLoops).
  int64_t threads, threadMinMacs;
  /// The vector registers of the target (pipelinesTiles).
  int64_t registers;
  /// chainPrefetches's chain, or null.
  WeightPrefetchChain *chain = nullptr;
  /// The kernel's constant of `p.table` (buildTable), or null.
  mlir::Value tableTensor;
  /// setDynamicScale's A' (`lanes` i64 lanes) and zero point (`lanes` i32
  /// lanes), or null; per row, those of the row being stored.
  mlir::Value dynamicScale, dynamicZeroPoint;
  /// Per row: setDynamicScale's tensors, read as each row is stored.
  mlir::Value rowScales, rowZeroPoints;
  /// Broadcasts the i64 scalars A' and z (or null) to lanes.
  void broadcastDynamicScale(mlir::Value scale, mlir::Value zeroPoint);
};

} // namespace myquant::vnni

#endif // MYQUANT_LIB_CONVERSION_MYQUANTTOVNNI_KERNELBUILDER_H
