//===- Target.cpp - VNNI kernel targets and register tiling ---------------===//

#include "myquant/Conversion/MyQuantToVnni/Target.h"
#include "myquant/Conversion/MyQuantToVnni/KernelProblem.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

#include <algorithm>
#include <limits>

using namespace mlir;

namespace myquant::vnni {

namespace {
constexpr StringLiteral kAvx512Features[] = {
    "+avx512f", "+avx512bw", "+avx512dq", "+avx512vl", "+avx512vnni"};
constexpr StringLiteral kAvxVnniFeatures[] = {"+avx2", "+avxvnni"};
constexpr StringLiteral kAvx2FmaFeatures[] = {"+avx2", "+fma"};
} // namespace

FailureOr<std::optional<KernelTarget>> parseTarget(StringRef name) {
  if (name == "host") {
    llvm::StringMap<bool> host = llvm::sys::getHostCPUFeatures();
    auto has = [&](StringRef feature) { return host.lookup(feature); };
    if (has("avx512f") && has("avx512bw") && has("avx512dq") &&
        has("avx512vl") && has("avx512vnni"))
      name = "avx512-vnni";
    else if (has("avxvnni") && has("avx2"))
      name = "avx-vnni";
    else
      name = "generic";
  }
  if (name == "generic")
    return std::optional<KernelTarget>();
  if (name == "avx512-vnni")
    return std::optional<KernelTarget>(KernelTarget{16, 32, kAvx512Features});
  if (name == "avx512-vnni-256")
    return std::optional<KernelTarget>(KernelTarget{8, 32, kAvx512Features});
  if (name == "avx-vnni")
    return std::optional<KernelTarget>(KernelTarget{8, 16, kAvxVnniFeatures});
  return failure();
}

FailureOr<std::optional<KernelTarget>> parseFloatTarget(StringRef name) {
  if (name == "host") {
    llvm::StringMap<bool> host = llvm::sys::getHostCPUFeatures();
    auto has = [&](StringRef feature) { return host.lookup(feature); };
    if (has("avx512f") && has("avx512bw") && has("avx512dq") && has("avx512vl"))
      return std::optional<KernelTarget>(KernelTarget{16, 32, kAvx512Features});
    if (has("avx2") && has("fma"))
      return std::optional<KernelTarget>(KernelTarget{8, 16, kAvx2FmaFeatures});
    return std::optional<KernelTarget>();
  }
  if (name == "avx-vnni")
    return std::optional<KernelTarget>(KernelTarget{8, 16, kAvx2FmaFeatures});
  return parseTarget(name);
}

FailureOr<std::string> resolveTargetName(Operation *module, StringRef name) {
  // The kernels are x86-64 code: on another triple (myquant-set-target),
  // the default is the generic lowering and an x86 target an error.
  auto triple = module->getAttrOfType<StringAttr>(
      LLVM::LLVMDialect::getTargetTripleAttrName());
  if (!triple || (llvm::Triple(triple.getValue()).isX86() &&
                  llvm::Triple(triple.getValue()).isArch64Bit()))
    return name.str();
  if (name == "host" || name == "generic")
    return std::string("generic");
  return module->emitError()
         << "kernel target '" << name << "' needs an x86-64 triple, not '"
         << triple.getValue() << "' (use target=generic or host)";
}

bool fitsRegisters(const KernelTarget &target, int64_t pixels,
                   int64_t channelBlocks) {
  return pixels * channelBlocks + channelBlocks + 2 <=
         static_cast<int64_t>(target.registers);
}

int64_t tilingCost(const KernelTarget &target, const Problem &p, int64_t width,
                   const Tiling &tiling) {
  int64_t window = p.pool, blocks = p.paddedChannels / target.lanes;
  int64_t pixels = tiling.pixels, channelBlocks = tiling.channelBlocks;
  int64_t tiles =
      llvm::divideCeil(width, pixels) * llvm::divideCeil(blocks, channelBlocks);
  return tiles * (2 * window * pixels * channelBlocks + window * pixels +
                  channelBlocks + 8);
}

bool pipelinesTiles(const Problem &p, int64_t threads, int64_t registers) {
  return threads == 1 && registers >= 32 && !p.floating && !p.patches &&
         !p.nibbles && !p.wideInput && !p.groupSize && !p.dynamic &&
         !p.depthwise && p.pool == 1 && p.kernelH == 1 && p.kernelW == 1 &&
         p.inputChannels / channelsPerStep(p) <= kMaxPipelinedSteps;
}

/// `cost` scaled by how evenly the kernel's image splits between
/// `target.threads` threads (KernelBuilder::OuterLoops deals out whole
/// output rows or channel tiles when the threads do not divide the batch):
/// by the busiest thread's share, times the threads, of the rows or of the
/// channel tiles, whichever is smaller. Only a split of the tiles at a
/// 64-byte line of the NHWC output counts: one that cuts the lines of
/// every pixel costs more than uneven rows (OuterLoops charges it too).
/// Without it the three 3 x 3 512-channel convolutions of resnet18 at 7 x 7
/// took 11 tiles of 48 channels, 6 against 5 (or 4 rows against 3), where
/// 16 tiles of 32 cost 9% more issue slots and split evenly. A kernel that
/// stays on one thread (KernelTarget::threadMinMacs) keeps its tiling.
static int64_t splitCost(const KernelTarget &target, const Problem &p,
                         int64_t tiles, int64_t tileChannels, int64_t cost) {
  int64_t threads = target.threads;
  if (threads == 1 || p.batch % threads == 0 ||
      kernelMacs(p, /*depthwise=*/false) < target.threadMinMacs * threads)
    return cost;
  auto busiest = [&](int64_t n) -> int64_t {
    return cost * llvm::divideCeil(n, threads) * threads / n;
  };
  int64_t rows = busiest(llvm::divideCeil(p.outH, p.pool));
  if (tiles < threads)
    return rows;
  // An NCHW (f32) output's channels do not interleave with its pixels.
  bool aligned = p.floating && p.floating->outputNchw;
  if (!aligned) {
    int64_t bytes =
        p.floating ? 4
                   : llvm::divideCeil(p.epilogue.storage.type.getWidth(), 8);
    aligned = p.channels * bytes % 64 == 0;
    for (int64_t w = 1; w < threads; ++w)
      aligned &= w * tiles / threads * tileChannels * bytes % 64 == 0;
  }
  return aligned ? std::min(rows, busiest(tiles)) : rows;
}

int64_t passesPerTile(const Problem &p, const Tiling &tiling) {
  return llvm::divideCeil(p.outH, p.pool) *
         llvm::divideCeil(p.outW, tiling.pixels);
}

bool runsChannelTilesInner(const Problem &p, int64_t blocks,
                           const Tiling &tiling) {
  int64_t steps = p.inputChannels / channelsPerStep(p);
  return blocks > tiling.channelBlocks && steps >= kChannelsInnerMinSteps &&
         p.inputChannels * p.paddedChannels <= kChannelsInnerWeightBytes &&
         passesPerTile(p, tiling) > kMaxPrefetchPasses;
}

Tiling chooseTiling(const KernelTarget &target, const Problem &p,
                    int64_t width) {
  int64_t window = p.pool;
  int64_t widest = std::min<int64_t>(p.channelEnd / target.lanes, 4);
  // Weights per group keep each group's partial sums beside the totals.
  int64_t perPixel = p.groupSize ? 2 : 1;
  bool pipelined = pipelinesTiles(p, target.threads, target.registers);
  int64_t blocks = p.paddedChannels / target.lanes;
  Tiling best{window, 1};
  int64_t bestCost = std::numeric_limits<int64_t>::max();
  for (int64_t channelBlocks = 1; channelBlocks <= widest; ++channelBlocks) {
    for (int64_t pixels = window; pixels <= std::min<int64_t>(width, 16);
         pixels += window) {
      if (!fitsRegisters(target, perPixel * window * pixels, channelBlocks) ||
          (pipelined && pixels * channelBlocks > kPipelinedAccumulators))
        continue;
      int64_t cost = splitCost(
          target, p, llvm::divideCeil(blocks, channelBlocks),
          channelBlocks * target.lanes,
          tilingCost(target, p, width, Tiling{pixels, channelBlocks}));
      if (cost < bestCost) {
        bestCost = cost;
        best = {pixels, channelBlocks};
      }
    }
  }
  best.rowsOuter = p.patches.has_value() ||
                   (pipelined && runsChannelTilesInner(p, blocks, best));
  return best;
}

int64_t chooseDepthwisePixels(const KernelTarget &target, const Problem &p) {
  // A tile reads (pixels - 1) * strideW + (kernelW - 1) * dilationW + 1
  // input columns: wide tiles share more of them. The accumulators and
  // the weights of one row of pairs leave room for the column operands.
  int64_t widest = target.registers >= 32 ? 16 : 4;
  // Tiles of equal width: the last one, shifted back to end at outW, then
  // recomputes no pixels.
  return llvm::divideCeil(p.outW, llvm::divideCeil(p.outW, widest));
}

bool tilesWriteOnce(const Problem &p, int64_t lanes, int64_t pixels,
                    int64_t channelBlocks) {
  int64_t tileChannels = channelBlocks * lanes;
  int64_t tiles = llvm::divideCeil(p.paddedChannels, tileChannels);
  return p.outW % pixels == 0 && tiles * tileChannels == p.channelEnd;
}

} // namespace myquant::vnni
