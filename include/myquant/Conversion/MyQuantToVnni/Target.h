//===- Target.h - VNNI kernel targets and register tiling -------*- C++ -*-===//
//
// The x86 targets convert-myquant-to-vnni emits kernels for, and the
// register tile a kernel uses on them: a cost model of the issue slots of
// the K loop picks it.
//
//===----------------------------------------------------------------------===//

#ifndef MYQUANT_CONVERSION_MYQUANTTOVNNI_TARGET_H
#define MYQUANT_CONVERSION_MYQUANTTOVNNI_TARGET_H

#include "mlir/IR/Operation.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>

namespace myquant::vnni {

struct Problem;

/// The default of KernelTarget::threadMinMacs. An empty OpenMP region
/// costs 0.7-2 us on this project's 2-core VM when the worker spins
/// (benchmarks/layer_profile.py --threads); a million int8 MACs take one
/// thread 4-6 us, so a kernel shared by two threads saves at least twice
/// that cost.
inline constexpr int64_t kDefaultThreadMinMacs = 1000000;

struct KernelTarget {
  /// int32 lanes of an accumulator register (16: zmm, 8: ymm).
  unsigned lanes;
  /// Vector registers the register tiling may use.
  unsigned registers;
  /// Features every function holding a kernel gets (`target_features`).
  llvm::ArrayRef<llvm::StringLiteral> features;
  /// The threads each kernel's outer loops are shared between
  /// (`myquant-compile --kernel-threads`; KernelBuilder::OuterLoops).
  unsigned threads = 1;
  /// The work per thread below which a kernel runs on one thread (no
  /// OpenMP region), in the time of int8 GEMM multiply-accumulates
  /// (KernelBuilder::OuterLoops; `myquant-compile
  /// --kernel-thread-min-macs`).
  int64_t threadMinMacs = kDefaultThreadMinMacs;
};

/// The kernel target named by the pass option; std::nullopt for `generic`.
/// `host` picks the widest target the compiling machine supports.
mlir::FailureOr<std::optional<KernelTarget>> parseTarget(llvm::StringRef name);

/// The f32 FMA kernel target named like parseTarget's (the same vector
/// width, `avx-vnni` as AVX2 + FMA); `host` picks AVX-512 or, without it,
/// AVX2 + FMA (no VNNI needed). std::nullopt for `generic`.
mlir::FailureOr<std::optional<KernelTarget>>
parseFloatTarget(llvm::StringRef name);

/// The target name a kernel pass uses on `module`: `name`, or `generic`
/// for `host` when the module's `llvm.target_triple` is not x86-64. Fails,
/// with an error on the module, for an x86 target on such a triple.
mlir::FailureOr<std::string> resolveTargetName(mlir::Operation *module,
                                               llvm::StringRef name);

/// The register tile of the GEMM kernel (BLIS's MR x NR): `pixels` output
/// pixels along a row (rows of the implicit GEMM; a tile spans
/// Problem::pool output rows) by `channelBlocks` vectors of `lanes` output
/// channels. `rowsOuter`: the loop over output rows runs outside the one
/// over channel tiles (a pipelined kernel's pixel tiles outside its channel
/// tiles; see chooseTiling).
struct Tiling {
  int64_t pixels, channelBlocks;
  bool rowsOuter = false;
};

/// Whether a tile of `pixels` x `channelBlocks` accumulators, the weight
/// registers, the broadcast and the flip mask fit in the target's registers.
bool fitsRegisters(const KernelTarget &target, int64_t pixels,
                   int64_t channelBlocks);

/// The estimated issue slots of the K loop of `p`'s kernel with `tiling`,
/// over output rows `width` pixels wide: per tile and step, 2 for each of
/// the `p.pool` * pixels * channelBlocks dot products, 1 for each of the
/// `p.pool` * pixels broadcasts (and flips) and of the channelBlocks weight
/// loads, and 8 for the loop. Partial tiles are recomputed in full (the
/// last tile of a row or of the channels is shifted back to overlap the
/// previous one), so the waste counts too.
int64_t tilingCost(const KernelTarget &target, const Problem &p, int64_t width,
                   const Tiling &tiling);

/// The most K steps a software-pipelined kernel unrolls (pipelinesTiles).
/// On Zen 5 the K loop was faster from 64 steps (256 channels) on: 1 x 1
/// 256 -> 1024 at 14 x 14 with the fused add 204 us against 262 with the
/// caches cold, 155 against 153 warm; 256 -> 512 / 2 at 56 x 56 with the
/// add 303 against 370 us warm (benchmarks/README.md, session 16).
inline constexpr int64_t kMaxPipelinedSteps = 32;

/// The most accumulators of a software-pipelined kernel's register tile:
/// the tile before's, whose epilogue runs among its dot products, and the
/// epilogue's constants and temporaries need the other registers.
inline constexpr int64_t kPipelinedAccumulators = 20;

/// Whether the GEMM kernel of `p` runs software-pipelined
/// (KernelBuilder::buildPipelined): an int8 1 x 1 convolution or matmul of
/// at most kMaxPipelinedSteps K steps without a fused pool, 4-bit or
/// 16-bit operands or runtime scales, on one thread and 32 registers. Its
/// K steps are few, so its epilogue (requantization, a fused add) weighs
/// as much as its dot products.
bool pipelinesTiles(const Problem &p, int64_t threads, int64_t registers);

/// The pixel tiles of each channel tile of `p`'s kernel with `tiling`
/// (channel tiles outside the rows): the passes of the K loop over the
/// tile's weights.
int64_t passesPerTile(const Problem &p, const Tiling &tiling);

/// The most passes per channel tile of a kernel whose K loop prefetches the
/// next tile's weights (KernelBuilder's prefetchesWeights): with more, the
/// first pass's wait for the weights from memory is a small part of the
/// tile's time.
inline constexpr int64_t kMaxPrefetchPasses = 32;

/// The most weight bytes (K x N int8) of a software-pipelined kernel that
/// runs its channel tiles inside its pixel tiles: the whole matrix stays in
/// L1 (48 KiB on Zen 5 and on Intel since Ice Lake) beside the input and
/// output lines. 64 -> 256 (16 KiB) at 56 x 56 with a fused add ran 5-11%
/// faster, 128 -> 512 (64 KiB) at 28 x 28 within noise
/// (benchmarks/README.md, session 18).
inline constexpr int64_t kChannelsInnerWeightBytes = 32 * 1024;

/// The fewest K steps of a kernel that runs its channel tiles inside its
/// pixel tiles: each register tile then reads its channels' bias and
/// epilogue constants again, which outweighed the gain at 4 steps (16 ->
/// 96 at 112 x 112: 6% slower) but not at 6 (24 -> 144 at 56 x 56: 10-15%
/// faster; the two differ in size too, and 5 steps was not measured).
inline constexpr int64_t kChannelsInnerMinSteps = 6;

/// Whether a software-pipelined kernel of `p` (pipelinesTiles) with
/// `tiling`, `blocks` vectors of output channels, runs its register tiles
/// with the channel tiles inner (Tiling::rowsOuter): more than one channel
/// tile, at least kChannelsInnerMinSteps K steps, at most
/// kChannelsInnerWeightBytes of weights, and more than kMaxPrefetchPasses
/// passes per channel tile (with fewer, the channel tiles stay outside,
/// where the K loop prefetches the next tile's weights from memory).
/// Channel tiles outside walk the whole output (and a fused addend) once
/// per tile, a 64-byte line per pixel at a stride of the output's
/// channels; inside, the output and addend are read and written in order
/// and each pixel's input is read once from memory.
bool runsChannelTilesInner(const Problem &p, int64_t blocks,
                           const Tiling &tiling);

/// The register tile of lowest tilingCost that fits the registers. A tile
/// spans `p.pool` output rows (the window of a fused pool, 1 without) and
/// a multiple of `p.pool` pixels (`width` is one too), at most 16; its
/// channel blocks, at most 4, end at `p.channelEnd`. Weights per group
/// (`p.groupSize`) need twice the accumulators. A problem over patches
/// (Problem::Patches) runs its rows outside its channel tiles
/// (`rowsOuter`): the kernel builds the patches of one tile's rows at a
/// time, which every channel tile then reads from the cache; so does a
/// pipelined kernel that runsChannelTilesInner, whose loop over the
/// register tiles of the plane then runs over its channel tiles too. A
/// pipelined kernel's tile has at most kPipelinedAccumulators accumulators.
/// A kernel that several threads share within an image (KernelTarget::
/// threads, at a batch they do not divide) weighs the cost by how evenly
/// its rows or channel tiles split between them.
Tiling chooseTiling(const KernelTarget &target, const Problem &p,
                    int64_t width);

/// The pixels the depthwise kernel computes at a time (one accumulator
/// each): up to 16 (4 with 16 registers), in tiles of equal width.
int64_t chooseDepthwisePixels(const KernelTarget &target, const Problem &p);

/// Whether the tiles of `p`'s kernel, `pixels` pixels by `channelBlocks`
/// vectors of `lanes` channels (a depthwise kernel: one vector), write
/// each output element once: no last tile of a row or of the channels is
/// shifted back over the one before. A last tile shifted back rewrites
/// elements with the same values, unless its epilogue reads the output:
/// a fused add written over its addend.
bool tilesWriteOnce(const Problem &p, int64_t lanes, int64_t pixels,
                    int64_t channelBlocks);

} // namespace myquant::vnni

#endif // MYQUANT_CONVERSION_MYQUANTTOVNNI_TARGET_H
