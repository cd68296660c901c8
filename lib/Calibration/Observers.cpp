//===- Observers.cpp - calibration range observers ------------------------===//

#include "myquant/Calibration/Observers.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace myquant::calibration {

namespace {
struct MethodInfo {
  Method method;
  std::string_view name;
};
} // namespace

static constexpr MethodInfo kMethods[] = {
    {Method::MinMax, "minmax"},
    {Method::MovingAverage, "moving-average"},
    {Method::Percentile, "percentile"},
    {Method::MSE, "mse"},
    {Method::Entropy, "entropy"},
};

std::string_view getMethodName(Method method) {
  for (const MethodInfo &info : kMethods)
    if (info.method == method)
      return info.name;
  return "unknown";
}

std::optional<Method> parseMethod(std::string_view name) {
  for (const MethodInfo &info : kMethods)
    if (info.name == name)
      return info.method;
  return std::nullopt;
}

std::string_view getMethodNames() {
  return "minmax, moving-average, percentile, mse, entropy";
}

bool needsHistogram(Method method) {
  return method == Method::Percentile || method == Method::MSE ||
         method == Method::Entropy;
}

//===----------------------------------------------------------------------===//
// Histogram
//===----------------------------------------------------------------------===//

Histogram::Histogram(double min, double max, size_t bins)
    : min(min), max(max), counts(std::max<size_t>(bins, 1), 0) {}

uint64_t Histogram::getTotal() const {
  return std::accumulate(counts.begin(), counts.end(), uint64_t(0));
}

double Histogram::getEdge(size_t index) const {
  // Exact at both ends, whatever the rounding in between.
  if (index >= counts.size())
    return max;
  return min + (max - min) * static_cast<double>(index) /
                   static_cast<double>(counts.size());
}

size_t Histogram::getBin(double value) const {
  if (!(max > min))
    return 0;
  double position = (value - min) / (max - min) * counts.size();
  if (!(position > 0))
    return 0;
  return std::min(static_cast<size_t>(position), counts.size() - 1);
}

template <typename T>
void Histogram::observeImpl(const T *data, size_t count, bool abs) {
  for (size_t i = 0; i < count; ++i) {
    double value = static_cast<double>(data[i]);
    if (!std::isfinite(value))
      continue;
    ++counts[getBin(abs ? std::fabs(value) : value)];
  }
}

void Histogram::observe(const float *data, size_t count) {
  observeImpl(data, count, /*abs=*/false);
}
void Histogram::observe(const double *data, size_t count) {
  observeImpl(data, count, /*abs=*/false);
}
void Histogram::observeAbs(const float *data, size_t count) {
  observeImpl(data, count, /*abs=*/true);
}
void Histogram::observeAbs(const double *data, size_t count) {
  observeImpl(data, count, /*abs=*/true);
}

std::vector<uint64_t> Histogram::getFolded(size_t first, size_t last) const {
  std::vector<uint64_t> folded(counts.begin() + first,
                               counts.begin() + last + 1);
  folded.front() +=
      std::accumulate(counts.begin(), counts.begin() + first, uint64_t(0));
  folded.back() +=
      std::accumulate(counts.begin() + last + 1, counts.end(), uint64_t(0));
  return folded;
}

/// cumulative[i] = counts[0] + ... + counts[i], in double as the thresholds
/// they are compared with.
static std::vector<double> getCumulative(const Histogram &histogram) {
  std::vector<double> cumulative(histogram.getNumBins());
  double sum = 0;
  for (size_t i = 0; i < cumulative.size(); ++i)
    cumulative[i] = sum += static_cast<double>(histogram.getCounts()[i]);
  return cumulative;
}

//===----------------------------------------------------------------------===//
// Percentile
//===----------------------------------------------------------------------===//

BinRange selectPercentile(const Histogram &histogram, double percentile) {
  std::vector<double> cumulative = getCumulative(histogram);
  double total = cumulative.back();
  BinRange full{0, histogram.getNumBins() - 1};
  if (total == 0)
    return full;
  double fraction = percentile / 100.0;
  double below = (1.0 - fraction) * total, upTo = fraction * total;
  // This library is plain C++ (no LLVM to link), so no llvm:: ranges.
  // NOLINTBEGIN(llvm-use-ranges)
  auto first = std::upper_bound(cumulative.begin(), cumulative.end(), below);
  auto last = std::lower_bound(cumulative.begin(), cumulative.end(), upTo);
  // NOLINTEND(llvm-use-ranges)
  // Round-off in `upTo` could leave it above the total.
  if (last == cumulative.end())
    --last;
  if (first == cumulative.end() || first > last)
    return full;
  return {static_cast<size_t>(first - cumulative.begin()),
          static_cast<size_t>(last - cumulative.begin())};
}

//===----------------------------------------------------------------------===//
// MSE (PyTorch HistogramObserver)
//===----------------------------------------------------------------------===//

/// The integral of density * x^2 over [begin, end].
static double getNorm(double begin, double end, double density) {
  return density * (end * end * end - begin * begin * begin) / 3.0;
}

double computeQuantizationError(const Histogram &histogram, BinRange range,
                                size_t levels) {
  // A port of HistogramObserver._compute_quantization_error: every source
  // bin's mass is spread uniformly over the bin and each value is
  // quantized to the center of its destination bin (clamped to the range).
  size_t bins = histogram.getNumBins();
  double binWidth = (histogram.getMax() - histogram.getMin()) / bins;
  double dstBinWidth =
      binWidth * static_cast<double>(range.last - range.first + 1) / levels;
  if (dstBinWidth == 0.0)
    return 0.0;
  double maxDst = static_cast<double>(levels - 1);
  double norm = 0.0;
  for (size_t src = 0; src < bins; ++src) {
    uint64_t count = histogram.getCounts()[src];
    if (count == 0)
      continue;
    double density = static_cast<double>(count) / binWidth;
    double srcBegin =
        (static_cast<double>(src) - static_cast<double>(range.first)) *
        binWidth;
    double srcEnd = srcBegin + binWidth;
    double dstOfBegin =
        std::clamp(std::floor(srcBegin / dstBinWidth), 0.0, maxDst);
    double dstOfEnd = std::clamp(std::floor(srcEnd / dstBinWidth), 0.0, maxDst);
    double dstOfBeginCenter = (dstOfBegin + 0.5) * dstBinWidth;
    double dstOfEndCenter = dstOfEnd * dstBinWidth + dstBinWidth / 2;
    norm += getNorm(srcBegin - dstOfBeginCenter, dstBinWidth / 2, density);
    norm += (dstOfEnd - dstOfBegin - 1) *
            getNorm(-dstBinWidth / 2, dstBinWidth / 2, density);
    norm += getNorm(-dstBinWidth / 2, srcEnd - dstOfEndCenter, density);
  }
  return norm;
}

BinRange selectMSE(const Histogram &histogram, size_t levels) {
  // A port of HistogramObserver._non_linear_param_search. Its linear scans
  // for the quantile bins are binary searches here (the cumulative counts
  // are sorted), with the same results.
  std::vector<double> cumulative = getCumulative(histogram);
  double total = cumulative.back();
  size_t startBin = 0, endBin = histogram.getNumBins() - 1;
  if (total == 0 || endBin == 0)
    return {startBin, endBin};
  const double stepSize = 1e-5;
  double alpha = 0.0, beta = 1.0;
  double normMin = std::numeric_limits<double>::infinity();
  auto at = [&](size_t index) { return cumulative.begin() + index; };
  while (alpha < beta) {
    double nextAlpha = alpha + stepSize, nextBeta = beta - stepSize;
    // l: the first bin in [startBin, endBin) whose cumulative count reaches
    // nextAlpha of the total, else endBin.
    size_t l = std::lower_bound(at(startBin), at(endBin), nextAlpha * total) -
               cumulative.begin();
    // r: the last bin in (startBin, endBin] whose cumulative count is at
    // most nextBeta of the total, else startBin.
    size_t r =
        std::upper_bound(at(startBin + 1), at(endBin + 1), nextBeta * total) -
        cumulative.begin() - 1;
    size_t nextStartBin = startBin, nextEndBin = endBin;
    if (l - startBin > endBin - r) {
      nextStartBin = l;
      alpha = nextAlpha;
    } else {
      nextEndBin = r;
      beta = nextBeta;
    }
    if (nextStartBin == startBin && nextEndBin == endBin)
      continue;
    double norm =
        computeQuantizationError(histogram, {nextStartBin, nextEndBin}, levels);
    if (norm > normMin)
      break;
    normMin = norm;
    startBin = nextStartBin;
    endBin = nextEndBin;
  }
  return {startBin, endBin};
}

//===----------------------------------------------------------------------===//
// Entropy (TensorRT)
//===----------------------------------------------------------------------===//

static double divergenceOfCounts(const std::vector<uint64_t> &counts,
                                 size_t bins, size_t levels) {
  std::vector<double> reference(counts.begin(), counts.begin() + bins);
  double outliers = std::accumulate(counts.begin() + bins, counts.end(), 0.0);
  reference.back() += outliers;

  // Merge the candidate's bins into `levels` groups, then spread each
  // group's count evenly over the bins where the reference is non-zero.
  std::vector<double> groupSum(levels, 0.0);
  std::vector<size_t> groupNonZero(levels, 0);
  auto groupOf = [&](size_t bin) {
    return static_cast<size_t>(static_cast<uint64_t>(bin) * levels / bins);
  };
  for (size_t bin = 0; bin < bins; ++bin) {
    groupSum[groupOf(bin)] += static_cast<double>(counts[bin]);
    if (reference[bin] != 0)
      ++groupNonZero[groupOf(bin)];
  }
  std::vector<double> candidate(bins, 0.0);
  for (size_t bin = 0; bin < bins; ++bin)
    if (reference[bin] != 0)
      candidate[bin] = groupSum[groupOf(bin)] / groupNonZero[groupOf(bin)];

  double referenceTotal =
      std::accumulate(reference.begin(), reference.end(), 0.0);
  double candidateTotal =
      std::accumulate(candidate.begin(), candidate.end(), 0.0);
  if (referenceTotal == 0)
    return 0.0;
  if (candidateTotal == 0)
    return std::numeric_limits<double>::infinity();
  double divergence = 0.0;
  for (size_t bin = 0; bin < bins; ++bin) {
    if (reference[bin] == 0)
      continue;
    if (candidate[bin] == 0)
      return std::numeric_limits<double>::infinity();
    double p = reference[bin] / referenceTotal;
    double q = candidate[bin] / candidateTotal;
    divergence += p * std::log(p / q);
  }
  return divergence;
}

double computeEntropyDivergence(const Histogram &absHistogram, size_t bins,
                                size_t levels) {
  return divergenceOfCounts(absHistogram.getCounts(), bins, levels);
}

static size_t selectBinsOfCounts(const std::vector<uint64_t> &counts,
                                 size_t levels, size_t firstCandidate) {
  size_t bins = counts.size();
  size_t best = bins;
  double bestDivergence = std::numeric_limits<double>::infinity();
  for (size_t candidate = std::max<size_t>(firstCandidate, 1);
       candidate <= bins; ++candidate) {
    double divergence = divergenceOfCounts(counts, candidate, levels);
    if (divergence <= bestDivergence) {
      bestDivergence = divergence;
      best = candidate;
    }
  }
  return best;
}

size_t selectEntropyBins(const Histogram &absHistogram, size_t levels,
                         size_t firstCandidate) {
  return selectBinsOfCounts(absHistogram.getCounts(), levels, firstCandidate);
}

//===----------------------------------------------------------------------===//
// TensorObserver
//===----------------------------------------------------------------------===//

TensorObserver::TensorObserver(const ObserverOptions &options)
    : options(options) {}

/// Minimum, maximum and count of the finite values of `data`. Lane by lane
/// over blocks of kLanes, without branches, so that the compiler vectorizes
/// it (a single running minimum is a floating-point reduction it must keep
/// in order).
template <typename T>
static void finiteRange(const T *data, size_t count, double &lo, double &hi,
                        uint64_t &finiteCount) {
  constexpr size_t kLanes = 16;
  constexpr T inf = std::numeric_limits<T>::infinity();
  T laneLo[kLanes], laneHi[kLanes];
  uint32_t laneFinite[kLanes] = {};
  std::fill(laneLo, laneLo + kLanes, inf);
  std::fill(laneHi, laneHi + kLanes, -inf);
  auto accept = [&](size_t lane, T value) {
    // False for NaN and +-inf.
    bool finite = std::abs(value) <= std::numeric_limits<T>::max();
    laneFinite[lane] += finite;
    T low = finite ? value : inf, high = finite ? value : -inf;
    laneLo[lane] = low < laneLo[lane] ? low : laneLo[lane];
    laneHi[lane] = high > laneHi[lane] ? high : laneHi[lane];
  };
  size_t blocks = count / kLanes * kLanes;
  finiteCount = 0;
  // The 32-bit lane counters are folded in before they could overflow.
  constexpr size_t kFold = kLanes * (size_t(1) << 30);
  for (size_t start = 0; start < blocks; start += kFold) {
    for (size_t i = start; i < std::min(blocks, start + kFold); i += kLanes)
      for (size_t lane = 0; lane < kLanes; ++lane)
        accept(lane, data[i + lane]);
    for (uint32_t &lane : laneFinite) {
      finiteCount += lane;
      lane = 0;
    }
  }
  for (size_t i = blocks; i < count; ++i)
    accept(i - blocks, data[i]);
  lo = std::numeric_limits<double>::infinity();
  hi = -std::numeric_limits<double>::infinity();
  for (size_t lane = 0; lane < kLanes; ++lane) {
    finiteCount += laneFinite[lane];
    lo = std::min(lo, static_cast<double>(laneLo[lane]));
    hi = std::max(hi, static_cast<double>(laneHi[lane]));
  }
}

template <typename T>
void TensorObserver::observeRangeImpl(const T *data, size_t count) {
  uint64_t batchFinite;
  double batchMin, batchMax;
  finiteRange(data, count, batchMin, batchMax, batchFinite);
  nonFinite += count - batchFinite;
  if (!batchFinite)
    return;
  if (!finite) {
    min = batchMin;
    max = batchMax;
  } else {
    min = std::min(min, batchMin);
    max = std::max(max, batchMax);
  }
  finite += batchFinite;
  // PyTorch's MovingAverageMinMaxObserver: the first batch sets the range,
  // each later one moves it by c times the difference.
  if (!averageMin) {
    averageMin = batchMin;
    averageMax = batchMax;
  } else {
    double c = options.averagingConstant;
    *averageMin += c * (batchMin - *averageMin);
    *averageMax += c * (batchMax - *averageMax);
  }
}

void TensorObserver::observeRange(const float *data, size_t count) {
  observeRangeImpl(data, count);
}
void TensorObserver::observeRange(const double *data, size_t count) {
  observeRangeImpl(data, count);
}

bool TensorObserver::needsHistogram() const {
  return calibration::needsHistogram(options.method) && finite && min < max;
}

void TensorObserver::startHistogram() {
  histogram.emplace(min, max, options.bins);
  if (options.method == Method::Entropy)
    absHistogram.emplace(0.0, std::max(std::fabs(min), std::fabs(max)),
                         options.bins);
}

template <typename T>
void TensorObserver::observeHistogramImpl(const T *data, size_t count) {
  if (histogram)
    histogram->observe(data, count);
  if (absHistogram)
    absHistogram->observeAbs(data, count);
}

void TensorObserver::observeHistogram(const float *data, size_t count) {
  observeHistogramImpl(data, count);
}
void TensorObserver::observeHistogram(const double *data, size_t count) {
  observeHistogramImpl(data, count);
}

std::optional<TensorStats> TensorObserver::finish() const {
  if (!finite)
    return std::nullopt;
  switch (options.method) {
  case Method::MinMax:
    return TensorStats{min, max, {}};
  case Method::MovingAverage:
    return TensorStats{*averageMin, *averageMax, {}};
  case Method::Percentile:
  case Method::MSE:
  case Method::Entropy:
    break;
  }
  // A constant tensor: nothing to clip, one bin holds every value.
  if (!histogram)
    return TensorStats{min, max, {finite}};

  BinRange bins{0, histogram->getNumBins() - 1};
  if (options.method == Method::Percentile) {
    bins = selectPercentile(*histogram, options.percentile);
  } else if (options.method == Method::MSE) {
    bins = selectMSE(*histogram, options.mseLevels);
  } else {
    // The threshold of |x|, applied to each side that has values beyond
    // it, then widened to the bins of the signed histogram.
    // As NVIDIA's calibrator does, the zero bin counts like its neighbour:
    // the exact zeros of a relu would otherwise dominate the divergence and
    // pull the threshold far in. A tensor without negative values spends
    // all 256 levels on [0, T].
    std::vector<uint64_t> counts = absHistogram->getCounts();
    if (counts.size() > 1)
      counts[0] = counts[1];
    size_t levels =
        min >= 0 ? 2 * options.entropyLevels : options.entropyLevels;
    double threshold =
        absHistogram->getEdge(selectBinsOfCounts(counts, levels, levels));
    bins = {histogram->getBin(std::max(min, -threshold)),
            histogram->getBin(std::min(max, threshold))};
  }
  return TensorStats{histogram->getEdge(bins.first),
                     histogram->getEdge(bins.last + 1),
                     histogram->getFolded(bins.first, bins.last)};
}

} // namespace myquant::calibration
