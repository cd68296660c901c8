//===- ObserversTest.cpp - Tests for the calibration observers ------------===//
//
// Every expected histogram, range and divergence below is worked out by hand
// in the comments; the MSE search results are those of PyTorch 1.13's
// HistogramObserver._non_linear_param_search on the same histograms (with
// dst_nbins set to the level count).
//
//===----------------------------------------------------------------------===//

#include "myquant/Calibration/Observers.h"

#include "gtest/gtest.h"

#include <cmath>
#include <limits>
#include <vector>

using namespace myquant::calibration;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Histogram makeHistogram(double min, double max, std::vector<uint64_t> counts) {
  // Fill bin i with counts[i] copies of its center.
  Histogram histogram(min, max, counts.size());
  double width = (max - min) / counts.size();
  for (size_t bin = 0; bin < counts.size(); ++bin) {
    std::vector<double> values(counts[bin], min + (bin + 0.5) * width);
    histogram.observe(values.data(), values.size());
  }
  EXPECT_EQ(histogram.getCounts(), counts);
  return histogram;
}

TEST(MethodTest, NamesRoundTrip) {
  for (Method method : {Method::MinMax, Method::MovingAverage,
                        Method::Percentile, Method::MSE, Method::Entropy})
    EXPECT_EQ(parseMethod(getMethodName(method)), method);
  EXPECT_EQ(parseMethod("kl"), std::nullopt);
  EXPECT_FALSE(needsHistogram(Method::MinMax));
  EXPECT_FALSE(needsHistogram(Method::MovingAverage));
  EXPECT_TRUE(needsHistogram(Method::Percentile));
  EXPECT_TRUE(needsHistogram(Method::MSE));
  EXPECT_TRUE(needsHistogram(Method::Entropy));
}

TEST(HistogramTest, Binning) {
  // [0, 8] in 8 bins of width 1: a lower edge belongs to its bin, max to the
  // last bin, values outside are clamped, non-finite values are skipped.
  Histogram histogram(0.0, 8.0, 8);
  std::vector<float> values = {0.0f,  0.5f, 1.0f, 7.99f,    8.0f,
                               -1.0f, 9.0f, NAN,  INFINITY, -INFINITY};
  histogram.observe(values.data(), values.size());
  EXPECT_EQ(histogram.getCounts(),
            (std::vector<uint64_t>{3, 1, 0, 0, 0, 0, 0, 3}));
  EXPECT_EQ(histogram.getTotal(), 7u);
  EXPECT_EQ(histogram.getEdge(0), 0.0);
  EXPECT_EQ(histogram.getEdge(3), 3.0);
  EXPECT_EQ(histogram.getEdge(8), 8.0);
  // Bins 1..6, with bin 0 folded into 1 and bin 7 into 6.
  EXPECT_EQ(histogram.getFolded(1, 6),
            (std::vector<uint64_t>{4, 0, 0, 0, 0, 3}));
  EXPECT_EQ(histogram.getFolded(0, 7), histogram.getCounts());
}

TEST(HistogramTest, AbsoluteValues) {
  // |x| over [0, 4] in 4 bins: -3.5 -> 3, 2 -> 2, -0.25 -> 0.
  Histogram histogram(0.0, 4.0, 4);
  std::vector<double> values = {-3.5, 2.0, -0.25};
  histogram.observeAbs(values.data(), values.size());
  EXPECT_EQ(histogram.getCounts(), (std::vector<uint64_t>{1, 0, 1, 1}));
}

TEST(HistogramTest, EmptyRange) {
  Histogram histogram(3.0, 3.0, 16);
  std::vector<double> values = {3.0, 3.0};
  histogram.observe(values.data(), values.size());
  EXPECT_EQ(histogram.getCounts()[0], 2u);
  EXPECT_EQ(histogram.getEdge(16), 3.0);
}

TEST(MinMaxTest, GlobalRangeOfFiniteValues) {
  TensorObserver observer({Method::MinMax});
  std::vector<float> first = {1.0f, -2.0f, NAN};
  std::vector<float> second = {5.0f, INFINITY};
  observer.observeRange(first.data(), first.size());
  observer.observeRange(second.data(), second.size());
  EXPECT_FALSE(observer.needsHistogram());
  EXPECT_EQ(observer.getFiniteCount(), 3u);
  EXPECT_EQ(observer.getNonFiniteCount(), 2u);
  std::optional<TensorStats> stats = observer.finish();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->min, -2.0);
  EXPECT_EQ(stats->max, 5.0);
  EXPECT_TRUE(stats->histogram.empty());
}

TEST(MinMaxTest, OnlyNonFiniteValues) {
  TensorObserver observer({Method::MinMax});
  std::vector<double> values = {kNaN, kInf, -kInf};
  observer.observeRange(values.data(), values.size());
  EXPECT_EQ(observer.getNonFiniteCount(), 3u);
  EXPECT_FALSE(observer.finish());
}

TEST(MovingAverageTest, ExponentialAverageOfBatchRanges) {
  ObserverOptions options;
  options.method = Method::MovingAverage;
  options.averagingConstant = 0.5;
  TensorObserver observer(options);
  auto batch = [&](std::vector<double> values) {
    observer.observeRange(values.data(), values.size());
  };
  batch({0.0, 10.0});   // (0, 10): the first batch sets the range
  batch({-10.0, 20.0}); // (0 + .5 * -10, 10 + .5 * 10) = (-5, 15)
  batch({kNaN});        // no finite value: no update
  batch({2.0, 4.0});    // (-5 + .5 * 7, 15 + .5 * -11) = (-1.5, 9.5)
  std::optional<TensorStats> stats = observer.finish();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->min, -1.5);
  EXPECT_EQ(stats->max, 9.5);
}

TEST(MovingAverageTest, DefaultConstant) {
  TensorObserver observer({Method::MovingAverage});
  std::vector<double> first = {-1.0, 1.0}, second = {-3.0, 2.0};
  observer.observeRange(first.data(), first.size());
  observer.observeRange(second.data(), second.size());
  std::optional<TensorStats> stats = observer.finish();
  ASSERT_TRUE(stats);
  EXPECT_DOUBLE_EQ(stats->min, -1.0 + 0.01 * -2.0);
  EXPECT_DOUBLE_EQ(stats->max, 1.0 + 0.01 * 1.0);
}

TEST(PercentileTest, ClipsEachTail) {
  // Cumulative counts 1 1 1 1 1 99 99 99 99 100 over [0, 10].
  Histogram histogram = makeHistogram(0, 10, {1, 0, 0, 0, 0, 98, 0, 0, 0, 1});
  // 99%: the first bin above 1% of the total is 5, the first bin reaching
  // 99% is 5.
  BinRange range = selectPercentile(histogram, 99.0);
  EXPECT_EQ(range.first, 5u);
  EXPECT_EQ(range.last, 5u);
  // 99.5%: thresholds 0.5 and 99.5 keep everything.
  range = selectPercentile(histogram, 99.5);
  EXPECT_EQ(range.first, 0u);
  EXPECT_EQ(range.last, 9u);
  range = selectPercentile(histogram, 100.0);
  EXPECT_EQ(range.first, 0u);
  EXPECT_EQ(range.last, 9u);
}

TEST(PercentileTest, OneSidedTail) {
  // 90 values in bin 0, 9 in bin 1, 1 in bin 7: at 95% the top is bin 1
  // (cumulative 99 >= 95) and the bottom stays bin 0 (90 > 5).
  Histogram histogram = makeHistogram(0, 8, {90, 9, 0, 0, 0, 0, 0, 1});
  BinRange range = selectPercentile(histogram, 95.0);
  EXPECT_EQ(range.first, 0u);
  EXPECT_EQ(range.last, 1u);
}

TEST(PercentileTest, ObserverTwoPasses) {
  ObserverOptions options;
  options.method = Method::Percentile;
  options.percentile = 99.0;
  options.bins = 10;
  TensorObserver observer(options);
  // One value at 0.5, 98 at 5.5, one at 9.5: pass 1 gives [0.5, 9.5], bins
  // of width 0.9, and the values land in bins 0, 5 and 9.
  std::vector<float> values(98, 5.5f);
  values.push_back(0.5f);
  values.push_back(9.5f);
  observer.observeRange(values.data(), values.size());
  ASSERT_TRUE(observer.needsHistogram());
  observer.startHistogram();
  observer.observeHistogram(values.data(), values.size());
  std::optional<TensorStats> stats = observer.finish();
  ASSERT_TRUE(stats);
  // Bin 5 is [0.5 + 4.5, 0.5 + 5.4]; both tails fold into it.
  EXPECT_DOUBLE_EQ(stats->min, 5.0);
  EXPECT_DOUBLE_EQ(stats->max, 5.9);
  EXPECT_EQ(stats->histogram, (std::vector<uint64_t>{100}));
}

TEST(PercentileTest, ConstantTensor) {
  ObserverOptions options;
  options.method = Method::Percentile;
  TensorObserver observer(options);
  std::vector<float> values(5, 3.0f);
  observer.observeRange(values.data(), values.size());
  EXPECT_FALSE(observer.needsHistogram());
  std::optional<TensorStats> stats = observer.finish();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->min, 3.0);
  EXPECT_EQ(stats->max, 3.0);
  EXPECT_EQ(stats->histogram, (std::vector<uint64_t>{5}));
}

TEST(MSETest, QuantizationErrorOfOneBin) {
  // Bin 1 of [0, 4] holds mass 1 spread over [1, 2].
  Histogram histogram = makeHistogram(0, 4, {0, 1, 0, 0});
  // One level over [0, 4] quantizes to its center 2: the integral of
  // (x - 2)^2 over [1, 2] is 1/3.
  EXPECT_NEAR(computeQuantizationError(histogram, {0, 3}, 1), 1.0 / 3, 1e-12);
  // Two levels (centers 1 and 3): (x - 1)^2 over [1, 2] is also 1/3.
  EXPECT_NEAR(computeQuantizationError(histogram, {0, 3}, 2), 1.0 / 3, 1e-12);
  // Four levels over bins 0..3 (centers 0.5, 1.5, ...): (x - 1.5)^2 over
  // [1, 2] is 1/12.
  EXPECT_NEAR(computeQuantizationError(histogram, {0, 3}, 4), 1.0 / 12, 1e-12);
  // Four levels over bin 1 alone (width 0.25, centers 1.125, ...): four
  // times the integral of x^2 over [-1/8, 1/8], i.e. 1/192.
  EXPECT_NEAR(computeQuantizationError(histogram, {1, 1}, 4), 1.0 / 192, 1e-12);
}

TEST(MSETest, MatchesPyTorchSearch) {
  struct Case {
    double min, max;
    std::vector<uint64_t> counts;
    size_t levels;
    BinRange expected;
  };
  std::vector<uint64_t> bell(32, 0);
  bell[0] = 100, bell[1] = 200, bell[2] = 300, bell[3] = 200, bell[4] = 100;
  bell[31] = 1;
  std::vector<Case> cases = {
      {0,
       16,
       {10, 20, 30, 20, 10, 5, 2, 1, 0, 0, 0, 0, 0, 0, 0, 1},
       4,
       {0, 14}},
      {-8, 8, {1, 0, 0, 0, 0, 0, 0, 50, 50, 0, 0, 0, 0, 0, 0, 1}, 4, {0, 14}},
      {0, 32, bell, 4, {0, 3}},
      {0, 32, bell, 16, {0, 30}},
      {0, 4, {0, 1, 0, 0}, 1, {0, 0}},
  };
  for (const Case &c : cases) {
    Histogram histogram = makeHistogram(c.min, c.max, c.counts);
    BinRange range = selectMSE(histogram, c.levels);
    EXPECT_EQ(range.first, c.expected.first);
    EXPECT_EQ(range.last, c.expected.last);
  }
}

TEST(EntropyTest, DivergenceByHand) {
  // |x| histogram 4 2 1 1, two levels.
  Histogram histogram = makeHistogram(0, 4, {4, 2, 1, 1});
  // i = 2: P = 4 4 (2 + the outliers 1 + 1), Q = 4 2: KL of (1/2, 1/2)
  // from (2/3, 1/3) = ln(1.125) / 2.
  EXPECT_NEAR(computeEntropyDivergence(histogram, 2, 2), std::log(1.125) / 2,
              1e-12);
  // i = 3: P = 4 2 2; groups {0, 1} and {2}: Q = 3 3 1.
  EXPECT_NEAR(computeEntropyDivergence(histogram, 3, 2),
              0.5 * std::log(7.0 / 6) + 0.25 * std::log(7.0 / 12) +
                  0.25 * std::log(7.0 / 4),
              1e-12);
  // i = 4: P = 4 2 1 1; groups {0, 1} and {2, 3}: Q = 3 3 1 1.
  EXPECT_NEAR(computeEntropyDivergence(histogram, 4, 2),
              0.5 * std::log(4.0 / 3) + 0.25 * std::log(2.0 / 3), 1e-12);
  // The smallest of 0.0589, 0.0822 and 0.0425: no clipping.
  EXPECT_EQ(selectEntropyBins(histogram, 2, 2), 4u);
}

TEST(EntropyTest, ClipsAnOutlier) {
  Histogram histogram = makeHistogram(0, 4, {8, 1, 0, 1});
  // i = 2: P = 8 2, Q = 8 1: 0.8 ln(0.9) + 0.2 ln(1.8) = 0.0333.
  EXPECT_NEAR(computeEntropyDivergence(histogram, 2, 2),
              0.8 * std::log(0.9) + 0.2 * std::log(1.8), 1e-12);
  // i = 3: P = 8 1 1, but bin 2 is empty in the histogram, so Q = 4.5 4.5 0
  // is zero where P is not.
  EXPECT_EQ(computeEntropyDivergence(histogram, 3, 2), kInf);
  // i = 4: P = 8 1 0 1, Q = 4.5 4.5 0 1: 0.3099.
  EXPECT_NEAR(computeEntropyDivergence(histogram, 4, 2),
              0.8 * std::log(0.8 / 0.45) + 0.1 * std::log(0.1 / 0.45), 1e-12);
  EXPECT_EQ(selectEntropyBins(histogram, 2, 2), 2u);
}

TEST(EntropyTest, ObserverCountsTheZeroBinLikeItsNeighbour) {
  ObserverOptions options;
  options.method = Method::Entropy;
  options.bins = 4;
  options.entropyLevels = 2;
  TensorObserver observer(options);
  // |x| over [0, 4]: 8 values in bin 0, 1.5 in bin 1, -4 in bin 3: the
  // histogram of ClipsAnOutlier, which clips at 2. Counted like bin 1, bin 0
  // no longer dominates: 1 1 0 1 gives KL 0.0566 at 2 bins, infinity at 3
  // and 0 at 4, so nothing is clipped.
  std::vector<double> values = {0.5,  0.5,  0.5,  0.5, -0.5,
                                -0.5, -0.5, -0.5, 1.5, -4.0};
  observer.observeRange(values.data(), values.size());
  observer.startHistogram();
  observer.observeHistogram(values.data(), values.size());
  std::optional<TensorStats> stats = observer.finish();
  ASSERT_TRUE(stats);
  // The signed histogram of [-4, 1.5] (bins of width 1.375), unclipped.
  EXPECT_DOUBLE_EQ(stats->min, -4.0);
  EXPECT_DOUBLE_EQ(stats->max, 1.5);
  EXPECT_EQ(stats->histogram, (std::vector<uint64_t>{1, 0, 4, 5}));
}

TEST(EntropyTest, FewerBinsThanCandidatesKeepsTheRange) {
  Histogram histogram = makeHistogram(0, 4, {8, 1, 0, 1});
  EXPECT_EQ(selectEntropyBins(histogram), 4u);
}

} // namespace
