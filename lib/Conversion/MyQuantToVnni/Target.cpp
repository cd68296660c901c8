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

Tiling chooseTiling(const KernelTarget &target, const Problem &p,
                    int64_t width) {
  int64_t window = p.pool;
  int64_t widest = std::min<int64_t>(p.channelEnd / target.lanes, 4);
  // Weights per group keep each group's partial sums beside the totals.
  int64_t perPixel = p.groupSize ? 2 : 1;
  bool pipelined = pipelinesTiles(p, target.threads, target.registers);
  Tiling best{window, 1};
  int64_t bestCost = std::numeric_limits<int64_t>::max();
  for (int64_t channelBlocks = 1; channelBlocks <= widest; ++channelBlocks) {
    for (int64_t pixels = window; pixels <= std::min<int64_t>(width, 16);
         pixels += window) {
      if (!fitsRegisters(target, perPixel * window * pixels, channelBlocks) ||
          (pipelined && pixels * channelBlocks > kPipelinedAccumulators))
        continue;
      int64_t cost =
          tilingCost(target, p, width, Tiling{pixels, channelBlocks});
      if (cost < bestCost) {
        bestCost = cost;
        best = {pixels, channelBlocks};
      }
    }
  }
  best.rowsOuter = p.patches.has_value();
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

} // namespace myquant::vnni
