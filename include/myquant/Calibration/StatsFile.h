//===- StatsFile.h - the JSON statistics file -------------------*- C++ -*-===//
//
// The statistics of values as calibration computes them, and the JSON file
// that carries them between tools (see docs/Calibration.md for the format).
//
//===----------------------------------------------------------------------===//

#ifndef MYQUANT_CALIBRATION_STATSFILE_H
#define MYQUANT_CALIBRATION_STATSFILE_H

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace myquant {

/// `value` as printf's %g writes it, for messages.
std::string formatNumber(double value);

/// The statistics of one value, as myquant.stats holds them.
struct ValueStats {
  llvm::SmallVector<double> min;
  llvm::SmallVector<double> max;
  std::optional<int64_t> axis;
  llvm::SmallVector<int64_t> histogram;
};

/// Fixed weight quantization parameters of a layer (symmetric: zero point
/// 0), from an entry's `weight` field.
struct WeightQParams {
  /// One scale (per tensor) or one per output channel.
  llvm::SmallVector<double> scales;
  /// The storage range of the int8 weights.
  int64_t qmin = -128;
  int64_t qmax = 127;
};

/// One entry of a stats file.
struct StatsEntry {
  std::string name;
  /// The value's shape, -1 for a dynamic dimension; std::nullopt when the
  /// file does not say.
  std::optional<llvm::SmallVector<int64_t>> shape;
  /// A range, or fixed parameters turned into one by readStatsFile; empty
  /// (no min/max) for an entry that gives only `weight`.
  ValueStats stats;
  /// Per-channel statistics (with `axis`) recorded next to the per-tensor
  /// ones, e.g. by the calibrator's per-channel-norm-inputs: a second
  /// myquant.stats on the annotation of the value (the `channels` field).
  std::optional<ValueStats> channels;
  /// The weight parameters of the layer of this name, if given.
  std::optional<WeightQParams> weight;
  /// How the range was chosen ("minmax", ..., "qparams"), if known.
  std::string method;
  /// Non-finite values calibration excluded.
  uint64_t nonFinite = 0;
  /// Set when the entry gave scale and zero point whose range reproduces
  /// them only approximately: the largest relative error of a scale.
  double qparamsScaleError = 0;
};

struct StatsFile {
  /// The function the statistics belong to, if the file says.
  std::string function;
  /// In the order of the file (a writer's program order).
  std::vector<StatsEntry> entries;
  /// Values calibration left unobserved because they lie inside a layer
  /// (written only; readers need no range for them).
  std::vector<std::string> insideLayers;
};

/// The range [min, max] whose parameters (computeActivationQParams with
/// [qmin, qmax]) are `scale` and `zeroPoint`: ((qmin - zp) * scale,
/// (qmax - zp) * scale), moved by a few ulps where rounding would change
/// the parameters. std::nullopt when the parameters cannot come from a range
/// (zero point outside [qmin, qmax], scale not positive and finite) and for
/// storage bounds beyond 32 bits.
/// `exact` tells whether the parameters are reproduced exactly.
std::optional<std::pair<double, double>>
getRangeForQParams(double scale, int64_t zeroPoint, int64_t qmin, int64_t qmax,
                   bool &exact);

/// Reads a stats file; errors name the file and the entry.
llvm::Expected<StatsFile> readStatsFile(llvm::StringRef path);

/// Writes `file` as JSON.
llvm::Error writeStatsFile(llvm::StringRef path, const StatsFile &file);

/// The shape of `type` as a stats file writes it.
llvm::SmallVector<int64_t> getStatsShape(mlir::ShapedType type);

} // namespace myquant

#endif // MYQUANT_CALIBRATION_STATSFILE_H
