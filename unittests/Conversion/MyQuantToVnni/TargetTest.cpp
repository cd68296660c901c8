//===- TargetTest.cpp - Tests for the VNNI targets and register tiling ----===//
//
// The targets the pass option names, the register budget of a tile, and the
// tile the cost model picks for a few layer shapes: the expected tiles are
// worked out by hand from the model (Target.h), and each is checked to beat
// every other tile that fits.
//
//===----------------------------------------------------------------------===//

#include "myquant/Conversion/MyQuantToVnni/Target.h"
#include "myquant/Conversion/MyQuantToVnni/KernelProblem.h"

#include "llvm/ADT/STLExtras.h"

#include "gtest/gtest.h"

#include <string>

using namespace myquant::vnni;

namespace {

KernelTarget targetNamed(llvm::StringRef name) {
  mlir::FailureOr<std::optional<KernelTarget>> parsed = parseTarget(name);
  EXPECT_TRUE(mlir::succeeded(parsed) && parsed->has_value()) << name.str();
  return **parsed;
}

/// The tiling-relevant part of a problem: `channels` output channels on
/// vectors of the target's lanes, a fused pool window of `pool`.
Problem problemWith(const KernelTarget &target, int64_t channels,
                    int64_t pool = 1) {
  Problem p;
  setChannels(p, channels, target.lanes);
  p.pool = pool;
  return p;
}

TEST(TargetTest, ParsesTheNamedTargets) {
  KernelTarget zmm = targetNamed("avx512-vnni");
  EXPECT_EQ(zmm.lanes, 16u);
  EXPECT_EQ(zmm.registers, 32u);
  EXPECT_EQ(zmm.features.size(), 5u);
  EXPECT_EQ(zmm.features.back(), "+avx512vnni");

  KernelTarget ymmEvex = targetNamed("avx512-vnni-256");
  EXPECT_EQ(ymmEvex.lanes, 8u);
  EXPECT_EQ(ymmEvex.registers, 32u);
  EXPECT_EQ(ymmEvex.features.back(), "+avx512vnni");

  KernelTarget ymmVex = targetNamed("avx-vnni");
  EXPECT_EQ(ymmVex.lanes, 8u);
  EXPECT_EQ(ymmVex.registers, 16u);
  ASSERT_EQ(ymmVex.features.size(), 2u);
  EXPECT_EQ(ymmVex.features[0], "+avx2");
  EXPECT_EQ(ymmVex.features[1], "+avxvnni");
}

TEST(TargetTest, GenericHasNoKernelTargetAndUnknownNamesFail) {
  mlir::FailureOr<std::optional<KernelTarget>> generic = parseTarget("generic");
  ASSERT_TRUE(mlir::succeeded(generic));
  EXPECT_FALSE(generic->has_value());
  EXPECT_TRUE(mlir::failed(parseTarget("avx-512")));
  EXPECT_TRUE(mlir::failed(parseTarget("")));
  // `host` always names one of the targets above.
  EXPECT_TRUE(mlir::succeeded(parseTarget("host")));
}

TEST(TargetTest, RegisterFitCountsAccumulatorsWeightsBroadcastAndMask) {
  KernelTarget zmm = targetNamed("avx512-vnni");
  // 32 registers: pixels * blocks accumulators + blocks weights + 2.
  EXPECT_TRUE(fitsRegisters(zmm, 14, 2));  // 28 + 2 + 2 = 32
  EXPECT_FALSE(fitsRegisters(zmm, 15, 2)); // 30 + 2 + 2 = 34
  EXPECT_TRUE(fitsRegisters(zmm, 6, 4));   // 24 + 4 + 2 = 30
  EXPECT_FALSE(fitsRegisters(zmm, 7, 4));  // 28 + 4 + 2 = 34
  EXPECT_TRUE(fitsRegisters(zmm, 29, 1));  // 29 + 1 + 2 = 32
  EXPECT_FALSE(fitsRegisters(zmm, 30, 1));

  KernelTarget ymm = targetNamed("avx-vnni");
  // 16 registers.
  EXPECT_TRUE(fitsRegisters(ymm, 6, 2));  // 12 + 2 + 2 = 16
  EXPECT_FALSE(fitsRegisters(ymm, 7, 2)); // 14 + 2 + 2 = 18
  EXPECT_TRUE(fitsRegisters(ymm, 13, 1)); // 13 + 1 + 2 = 16
  EXPECT_FALSE(fitsRegisters(ymm, 14, 1));
}

TEST(TargetTest, CostCountsDotsBroadcastsLoadsAndRecomputedTiles) {
  KernelTarget zmm = targetNamed("avx512-vnni");
  Problem p = problemWith(zmm, 64);
  // 56 pixels in 4 tiles of 14, 4 blocks in 2 of 2: 8 tiles of
  // 2 * 14 * 2 dots + 14 broadcasts + 2 loads + 8.
  EXPECT_EQ(tilingCost(zmm, p, 56, Tiling{14, 2}), 8 * (56 + 14 + 2 + 8));
  // 56 pixels in 4 tiles of 16 (the last one shifted back), 4 blocks in 4
  // tiles of 1: 16 tiles.
  EXPECT_EQ(tilingCost(zmm, p, 56, Tiling{16, 1}), 16 * (32 + 16 + 1 + 8));
  // A 2 x 2 pool window: tiles of 2 rows.
  Problem pooled = problemWith(zmm, 32, 2);
  EXPECT_EQ(tilingCost(zmm, pooled, 28, Tiling{4, 2}),
            7 * (2 * 2 * 4 * 2 + 2 * 4 + 2 + 8));
}

TEST(TargetTest, PatchesRunRowsOutsideChannelTiles) {
  KernelTarget zmm = targetNamed("avx512-vnni");
  Problem p = problemWith(zmm, 64);
  EXPECT_FALSE(chooseTiling(zmm, p, 112).rowsOuter);
  p.patches = Problem::Patches{7, 7, 2, 2, 1, 3};
  EXPECT_TRUE(chooseTiling(zmm, p, 112).rowsOuter);
}

TEST(TargetTest, SmallWeightPipelinedKernelsRunChannelTilesInner) {
  KernelTarget zmm = targetNamed("avx512-vnni");
  // A 1 x 1 int8 convolution of `k` input channels to `n` outputs at
  // `size` x `size`.
  auto conv1x1 = [&](int64_t k, int64_t n, int64_t size) {
    Problem p = problemWith(zmm, n);
    p.kernelH = p.kernelW = 1;
    p.inputChannels = k;
    p.outH = p.outW = size;
    EXPECT_TRUE(pipelinesTiles(p, zmm.threads, zmm.registers));
    return p;
  };
  // 64 -> 256 at 56 x 56: 16 KiB of weights, 16 K steps, 4 channel tiles.
  Tiling expand = chooseTiling(zmm, conv1x1(64, 256, 56), 56);
  EXPECT_TRUE(expand.rowsOuter);
  EXPECT_LT(expand.channelBlocks, 256 / 16);
  // At 7 x 7, few passes: the channel tiles stay outside, where the K loop
  // prefetches the next tile's weights.
  EXPECT_FALSE(chooseTiling(zmm, conv1x1(64, 256, 7), 7).rowsOuter);
  // 128 -> 512: 64 KiB of weights, more than L1 holds.
  EXPECT_FALSE(chooseTiling(zmm, conv1x1(128, 512, 28), 28).rowsOuter);
  Tiling quarter{4, 4};
  EXPECT_TRUE(runsChannelTilesInner(conv1x1(128, 256, 28), 16, quarter));
  EXPECT_FALSE(runsChannelTilesInner(conv1x1(128, 257, 28), 17, quarter));
  // 16 -> 96: 4 K steps.
  EXPECT_FALSE(chooseTiling(zmm, conv1x1(16, 96, 112), 112).rowsOuter);
  EXPECT_TRUE(runsChannelTilesInner(conv1x1(24, 144, 56), 9, Tiling{5, 3}));
  // One channel tile: nothing to reorder.
  EXPECT_FALSE(runsChannelTilesInner(conv1x1(64, 64, 56), 4, quarter));
}

struct TilingCase {
  const char *target;
  int64_t channels, width, pool;
  Tiling expected;
};

/// The parameter as gtest prints it (in ctest's test names too): without
/// it, its bytes, target pointer included, which change from build to
/// build.
void PrintTo(const TilingCase &c, std::ostream *os) {
  *os << c.target << ", " << c.channels << " channels, width " << c.width
      << ", pool " << c.pool;
}

class ChooseTilingTest : public testing::TestWithParam<TilingCase> {};

TEST_P(ChooseTilingTest, PicksTheCheapestTileThatFits) {
  const TilingCase &c = GetParam();
  KernelTarget target = targetNamed(c.target);
  Problem p = problemWith(target, c.channels, c.pool);
  Tiling tiling = chooseTiling(target, p, c.width);
  EXPECT_EQ(tiling.pixels, c.expected.pixels);
  EXPECT_EQ(tiling.channelBlocks, c.expected.channelBlocks);
  ASSERT_TRUE(
      fitsRegisters(target, c.pool * tiling.pixels, tiling.channelBlocks));
  EXPECT_EQ(tiling.pixels % c.pool, 0);
  int64_t cost = tilingCost(target, p, c.width, tiling);
  for (int64_t blocks = 1; blocks <= 4; ++blocks)
    for (int64_t pixels = c.pool; pixels <= std::min<int64_t>(c.width, 16);
         pixels += c.pool)
      if (blocks * target.lanes <= p.channelEnd &&
          fitsRegisters(target, c.pool * pixels, blocks))
        EXPECT_LE(cost, tilingCost(target, p, c.width, Tiling{pixels, blocks}))
            << pixels << " x " << blocks;
}

INSTANTIATE_TEST_SUITE_P(
    Layers, ChooseTilingTest,
    testing::Values(
        // A 56-wide layer of 64 channels: 14 x 2 uses all 32 zmm.
        TilingCase{"avx512-vnni", 64, 56, 1, {14, 2}},
        // The same on 16 ymm registers and 8 lanes.
        TilingCase{"avx-vnni", 64, 56, 1, {6, 2}},
        // 32 ymm registers (8 lanes): the same tile over twice the blocks.
        TilingCase{"avx512-vnni-256", 64, 56, 1, {14, 2}},
        // One block of channels: a whole 7-pixel row.
        TilingCase{"avx512-vnni", 16, 7, 1, {7, 1}},
        // 256 channels on a 14-wide row: 4 blocks do not fit 14 pixels.
        TilingCase{"avx512-vnni", 256, 14, 1, {14, 2}},
        // A fused 2 x 2 pool: whole windows, 2 rows of 4 pixels.
        TilingCase{"avx512-vnni", 32, 28, 2, {4, 2}},
        // A 2 x 2 matmul (N padded to 16).
        TilingCase{"avx512-vnni", 2, 2, 1, {2, 1}},
        // 17 channels: the last block ends at channel 17, so one block at
        // a time.
        TilingCase{"avx512-vnni", 17, 10, 1, {10, 1}}),
    // Stable, readable test names: target, channels, width, pool.
    [](const testing::TestParamInfo<TilingCase> &info) {
      std::string name = std::string(info.param.target) + "_c" +
                         std::to_string(info.param.channels) + "_w" +
                         std::to_string(info.param.width) + "_p" +
                         std::to_string(info.param.pool);
      llvm::replace(name, '-', '_');
      return name;
    });

TEST(TargetTest, DepthwisePixelsFollowTheRegisterFile) {
  KernelTarget zmm = targetNamed("avx512-vnni");
  KernelTarget ymm = targetNamed("avx-vnni");
  Problem wide = problemWith(zmm, 32);
  // 56 = 4 tiles of 14 (at most 16 each), not 16 + 16 + 16 + 8.
  wide.outW = 56;
  EXPECT_EQ(chooseDepthwisePixels(zmm, wide), 14);
  EXPECT_EQ(chooseDepthwisePixels(ymm, wide), 4);
  wide.outW = 112;
  EXPECT_EQ(chooseDepthwisePixels(zmm, wide), 16);
  Problem narrow = problemWith(zmm, 32);
  narrow.outW = 3;
  EXPECT_EQ(chooseDepthwisePixels(zmm, narrow), 3);
}

} // namespace
