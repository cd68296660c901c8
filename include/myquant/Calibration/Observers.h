//===- Observers.h - calibration range observers ----------------*- C++ -*-===//
//
// How calibration turns the values a tensor took over the calibration data
// into the range [min, max] that its quantization parameters come from.
// Plain C++ (no MLIR), so that each method is unit-tested on hand-computed
// histograms. See docs/Calibration.md for the definitions.
//
// A tensor is observed in up to two passes over the data:
//  1. observeRange(), once per batch: the global range of the finite values
//     (and, for moving-average, the running average of the batch ranges).
//  2. For the histogram methods only, startHistogram() and then
//     observeHistogram() per batch: a histogram of 2048 equal-width bins
//     over the range of pass 1.
// finish() then picks the range. Non-finite values (NaN, +-inf) are counted
// and otherwise ignored by every method.
//
//===----------------------------------------------------------------------===//

#ifndef MYQUANT_CALIBRATION_OBSERVERS_H
#define MYQUANT_CALIBRATION_OBSERVERS_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace myquant::calibration {

enum class Method { MinMax, MovingAverage, Percentile, MSE, Entropy };

/// "minmax", "moving-average", "percentile", "mse", "entropy".
std::string_view getMethodName(Method method);
std::optional<Method> parseMethod(std::string_view name);
/// The method names, comma separated, for messages.
std::string_view getMethodNames();
/// Whether the method needs the second (histogram) pass.
bool needsHistogram(Method method);

/// Bins of the calibration histograms (as in PyTorch and TensorRT).
inline constexpr size_t kHistogramBins = 2048;

/// Equal-width bins over [min, max]. A value x lands in bin
/// floor((x - min) / (max - min) * bins), the last bin including max; values
/// outside [min, max] are clamped into the end bins and non-finite values
/// are skipped. With min == max every value lands in bin 0.
class Histogram {
public:
  Histogram(double min, double max, size_t bins = kHistogramBins);

  void observe(const float *data, size_t count);
  void observe(const double *data, size_t count);
  /// Observes |x| instead of x.
  void observeAbs(const float *data, size_t count);
  void observeAbs(const double *data, size_t count);

  double getMin() const { return min; }
  double getMax() const { return max; }
  size_t getNumBins() const { return counts.size(); }
  const std::vector<uint64_t> &getCounts() const { return counts; }
  uint64_t getTotal() const;
  /// The lower edge of bin `index`; getEdge(getNumBins()) is max.
  double getEdge(size_t index) const;
  /// The bin a finite value lands in.
  size_t getBin(double value) const;
  /// Bins first..last (inclusive), with the counts below `first` added to
  /// it and those above `last` added to `last`: the histogram of the values
  /// clamped into [getEdge(first), getEdge(last + 1)].
  std::vector<uint64_t> getFolded(size_t first, size_t last) const;

private:
  template <typename T> void observeImpl(const T *data, size_t count, bool abs);

  double min, max;
  std::vector<uint64_t> counts;
};

/// An inclusive range of histogram bins.
struct BinRange {
  size_t first;
  size_t last;
};

/// Clips each tail of the distribution at `percentile` (in (0, 100]): `first`
/// is the first bin where the cumulative count exceeds (1 - p/100) of the
/// total, `last` the first bin where it reaches p/100 of the total. Returns
/// the full range for an empty histogram.
BinRange selectPercentile(const Histogram &histogram, double percentile);

/// PyTorch HistogramObserver's search (`_non_linear_param_search`): moves
/// the range inward from both ends in quantile steps of 1e-5, one bin
/// boundary at a time, while the L2 error of quantizing the histogram to
/// `levels` uniform levels over the range decreases.
BinRange selectMSE(const Histogram &histogram, size_t levels = 256);

/// The quantization error that selectMSE minimizes: the sum over values of
/// (x - q(x))^2, each bin's mass spread uniformly over the bin, for `levels`
/// levels over bins first..last.
double computeQuantizationError(const Histogram &histogram, BinRange range,
                                size_t levels = 256);

/// TensorRT's entropy calibration on a histogram of |x| over [0, amax]:
/// for every candidate i in [firstCandidate, bins], the reference
/// distribution P is bins 0..i-1 with the counts beyond added to bin i-1,
/// the candidate Q is bins 0..i-1 merged into `levels` groups (bin j in
/// group j * levels / i) and spread back evenly over the bins where P is
/// non-zero; returns the i with the smallest KL(P || Q) (the largest on a
/// tie), so that the threshold is getEdge(i).
size_t selectEntropyBins(const Histogram &absHistogram, size_t levels = 128,
                         size_t firstCandidate = 128);

/// KL(P || Q) of selectEntropyBins for candidate `bins` (infinite when Q is
/// zero where P is not).
double computeEntropyDivergence(const Histogram &absHistogram, size_t bins,
                                size_t levels = 128);

struct ObserverOptions {
  Method method = Method::MinMax;
  /// For Method::Percentile, in (0, 100].
  double percentile = 99.99;
  /// For Method::MovingAverage, in (0, 1].
  double averagingConstant = 0.01;
  size_t bins = kHistogramBins;
  /// Levels of the quantizer that Method::MSE simulates (8 bits).
  size_t mseLevels = 256;
  /// Levels of Method::Entropy's candidate distributions, and its smallest
  /// candidate number of bins (TensorRT: 128).
  size_t entropyLevels = 128;
};

/// What calibration records for one tensor.
struct TensorStats {
  double min;
  double max;
  /// For the histogram methods: the histogram clamped to [min, max] (see
  /// Histogram::getFolded); one bin for a constant tensor.
  std::vector<uint64_t> histogram;
};

/// Observes one tensor over the calibration data.
class TensorObserver {
public:
  explicit TensorObserver(const ObserverOptions &options);

  /// Pass 1, once per batch (one call of the model).
  void observeRange(const float *data, size_t count);
  void observeRange(const double *data, size_t count);

  /// Whether pass 2 is needed: a histogram method, and a range of pass 1
  /// that is not a single value.
  bool needsHistogram() const;
  /// Starts pass 2 over the range of pass 1.
  void startHistogram();
  void observeHistogram(const float *data, size_t count);
  void observeHistogram(const double *data, size_t count);

  Method getMethod() const { return options.method; }
  /// Non-finite values seen in pass 1.
  uint64_t getNonFiniteCount() const { return nonFinite; }
  /// Finite values seen in pass 1.
  uint64_t getFiniteCount() const { return finite; }
  /// The statistics; std::nullopt if no finite value was seen.
  std::optional<TensorStats> finish() const;

private:
  template <typename T> void observeRangeImpl(const T *data, size_t count);
  template <typename T> void observeHistogramImpl(const T *data, size_t count);

  ObserverOptions options;
  uint64_t finite = 0, nonFinite = 0;
  double min = 0, max = 0;
  /// The moving averages, once a batch had a finite value.
  std::optional<double> averageMin, averageMax;
  /// Pass 2: the histogram of x over [min, max] and, for entropy, of |x|
  /// over [0, max(|min|, |max|)].
  std::optional<Histogram> histogram, absHistogram;
};

} // namespace myquant::calibration

#endif // MYQUANT_CALIBRATION_OBSERVERS_H
