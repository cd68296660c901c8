//===- KernelProblemTest.cpp - Tests for the VNNI weight packing ----------===//
//
// The compile-time half of the kernels: output channels padded to whole
// vectors, weights packed into the [K/4][Np][4] layout vpdpbusd reads (and
// the int16 tap pairs of the depthwise kernel), and the accumulators'
// initial values with the bias and the zero points folded in.
//
//===----------------------------------------------------------------------===//

#include "myquant/Conversion/MyQuantToVnni/KernelProblem.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/STLExtras.h"

#include "gtest/gtest.h"

#include <vector>

using namespace myquant::vnni;

namespace {

class KernelProblemTest : public testing::Test {
protected:
  mlir::Location loc() { return mlir::UnknownLoc::get(&context); }

  mlir::MLIRContext context;
};

/// A GEMM problem of `taps` 1 x `taps` filter taps over `channelsIn` input
/// channels and `channels` output channels, on vectors of `lanes`.
Problem gemmProblem(int64_t taps, int64_t channelsIn, int64_t channels,
                    int64_t lanes, bool signedInput) {
  Problem p;
  setChannels(p, channels, lanes);
  p.kernelH = 1;
  p.kernelW = taps;
  p.inputChannels = llvm::alignTo(channelsIn, 4);
  p.signedInput = signedInput;
  return p;
}

std::vector<int8_t> packed(const Problem &p) {
  return std::vector<int8_t>(p.packed.begin(), p.packed.end());
}

TEST_F(KernelProblemTest, SetChannelsPadsToWholeVectors) {
  Problem p;
  setChannels(p, 2, 16);
  EXPECT_EQ(p.paddedChannels, 16);
  EXPECT_EQ(p.channelEnd, 16);
  setChannels(p, 32, 16);
  EXPECT_EQ(p.paddedChannels, 32);
  EXPECT_EQ(p.channelEnd, 32);
  // A last block holding a single channel ends at the channels instead.
  setChannels(p, 17, 16);
  EXPECT_EQ(p.paddedChannels, 32);
  EXPECT_EQ(p.channelEnd, 17);
  setChannels(p, 9, 8);
  EXPECT_EQ(p.paddedChannels, 16);
  EXPECT_EQ(p.channelEnd, 9);
  setChannels(p, 18, 16);
  EXPECT_EQ(p.channelEnd, 32);
  // One channel alone is stored as a scalar.
  setChannels(p, 1, 16);
  EXPECT_EQ(p.channelEnd, 16);
}

// The matmul of test/Conversion/MyQuantToVnni/convert-myquant-to-vnni.mlir:
// K = 3 padded to 4, N = 2 padded to the 16 lanes of a zmm.
TEST_F(KernelProblemTest, PacksColumnsOfFourAndFoldsTheFlip) {
  const int8_t w[3][2] = {{1, 2}, {3, 4}, {5, -6}}; // K x N
  Problem p = gemmProblem(1, 3, 2, 16, /*signedInput=*/true);
  auto weight = [&](int64_t, int64_t c, int64_t f) { return w[c][f]; };
  ASSERT_TRUE(mlir::succeeded(packWeights(p, 3, weight, {10, 20}, 3, loc())));
  std::vector<int8_t> expected(1 * 16 * 4, 0);
  const int8_t columns[] = {1, 3, 5, 0, 2, 4, -6, 0};
  llvm::copy(columns, expected.begin());
  EXPECT_EQ(packed(p), expected);
  // bias - (zx + 128) * sum_k w: 10 - 131 * 9 and 20 - 131 * 0.
  std::vector<int32_t> init(16, 0);
  init[0] = -1169;
  init[1] = 20;
  EXPECT_EQ(std::vector<int32_t>(p.init.begin(), p.init.end()), init);
  EXPECT_TRUE(p.tapPairs.empty());
}

// K = 5: two rows of 4 input channels, the second padded with zeros; N = 2
// padded to 8 lanes. Unsigned input is not flipped.
TEST_F(KernelProblemTest, PadsKToWholeRowsAndNToWholeVectors) {
  Problem p = gemmProblem(1, 5, 2, 8, /*signedInput=*/false);
  // w[c][f] = 10 c + f + 1.
  auto weight = [](int64_t, int64_t c, int64_t f) {
    return static_cast<int8_t>(10 * c + f + 1);
  };
  ASSERT_TRUE(mlir::succeeded(packWeights(p, 5, weight, {0, 7}, 2, loc())));
  const std::vector<int8_t> expected = {
      // Row 0: input channels 0-3 of output channels 0 and 1, then 6 zero
      // columns.
      1, 11, 21, 31, 2, 12, 22, 32, //
      0, 0, 0, 0, 0, 0, 0, 0,       //
      0, 0, 0, 0, 0, 0, 0, 0,       //
      0, 0, 0, 0, 0, 0, 0, 0,       //
      // Row 1: input channel 4, then the padding of K.
      41, 0, 0, 0, 42, 0, 0, 0, //
      0, 0, 0, 0, 0, 0, 0, 0,   //
      0, 0, 0, 0, 0, 0, 0, 0,   //
      0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(packed(p), expected);
  // bias - zx * sum_k w: 0 - 2 * 105 and 7 - 2 * 110.
  EXPECT_EQ(p.init[0], -210);
  EXPECT_EQ(p.init[1], -213);
  EXPECT_EQ(p.init[2], 0);
}

// Rows run over taps first, then over groups of 4 input channels.
TEST_F(KernelProblemTest, PacksTapsOneAfterAnother) {
  Problem p = gemmProblem(2, 8, 1, 8, /*signedInput=*/false);
  // w(t, c, 0) = 16 t + c.
  auto weight = [](int64_t t, int64_t c, int64_t) {
    return static_cast<int8_t>(16 * t + c);
  };
  ASSERT_TRUE(mlir::succeeded(packWeights(p, 8, weight, {0}, 0, loc())));
  ASSERT_EQ(p.packed.size(), 4u * 8 * 4);
  const int8_t firstColumns[4][4] = {
      {0, 1, 2, 3}, {4, 5, 6, 7}, {16, 17, 18, 19}, {20, 21, 22, 23}};
  for (int64_t row = 0; row < 4; ++row)
    for (int64_t j = 0; j < 4; ++j)
      EXPECT_EQ(p.packed[row * 8 * 4 + j], firstColumns[row][j])
          << "row " << row << " byte " << j;
}

// Depthwise, a 3 x 2 filter: the taps of rows (0, 1) and (2, zero) in each
// column interleaved per channel as int16, [row pair][column][channel][2];
// signed input is widened as it is, so only the zero point is folded.
TEST_F(KernelProblemTest, InterleavesDepthwiseRowPairs) {
  Problem p = gemmProblem(2, 1, 2, 8, /*signedInput=*/true);
  p.kernelH = 3;
  p.depthwise = true;
  p.inputChannels = p.paddedChannels;
  // w(t, 0, f) = (f ? -1 : 1) * (t + 1), t = 2 * row + column.
  auto weight = [](int64_t t, int64_t, int64_t f) {
    return static_cast<int8_t>((f ? -1 : 1) * (t + 1));
  };
  ASSERT_TRUE(mlir::succeeded(packWeights(p, 1, weight, {5, 6}, -4, loc())));
  EXPECT_TRUE(p.packed.empty());
  std::vector<int16_t> expected(4 * 8 * 2, 0);
  const int16_t pairs[4][4] = {
      {1, 3, -1, -3}, {2, 4, -2, -4}, {5, 0, -5, 0}, {6, 0, -6, 0}};
  for (int64_t q = 0; q < 4; ++q)
    llvm::copy(pairs[q], expected.begin() + q * 16);
  EXPECT_EQ(std::vector<int16_t>(p.tapPairs.begin(), p.tapPairs.end()),
            expected);
  // bias - zx * sum_t w: 5 + 4 * 21 and 6 - 4 * 21.
  EXPECT_EQ(p.init[0], 89);
  EXPECT_EQ(p.init[1], -78);
}

// 255 * sum |w| + |bias| must stay within int32 (NumericSpec 3.1).
TEST_F(KernelProblemTest, RejectsAccumulatorsThatCouldLeaveInt32) {
  auto weight = [](int64_t, int64_t, int64_t) { return int8_t(127); };
  // 255 * 508 = 129540.
  Problem fits = gemmProblem(1, 4, 3, 16, /*signedInput=*/true);
  EXPECT_TRUE(mlir::succeeded(
      packWeights(fits, 4, weight, {2147354107, 0, -2147354107}, 0, loc())));
  Problem overflows = gemmProblem(1, 4, 3, 16, /*signedInput=*/true);
  EXPECT_TRUE(mlir::failed(
      packWeights(overflows, 4, weight, {0, 2147354108, 0}, 0, loc())));
  Problem negative = gemmProblem(1, 4, 3, 16, /*signedInput=*/true);
  EXPECT_TRUE(mlir::failed(
      packWeights(negative, 4, weight, {0, 0, -2147354108}, 0, loc())));
}

TEST_F(KernelProblemTest, RejectsPackedWeightsPastTheLimit) {
  // One tap, 2^20 groups of 4 input channels, 512 padded output channels:
  // 2^31 packed bytes. Fails before packing anything.
  Problem p = gemmProblem(1, 4 << 20, 512, 16, /*signedInput=*/false);
  auto weight = [](int64_t, int64_t, int64_t) { return int8_t(0); };
  EXPECT_TRUE(mlir::failed(packWeights(p, 4 << 20, weight, {}, 0, loc())));
  EXPECT_TRUE(p.packed.empty());
}

} // namespace
