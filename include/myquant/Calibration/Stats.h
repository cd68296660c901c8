//===- Stats.h - naming, annotating and exchanging statistics ---*- C++ -*-===//
//
// What the calibration passes share: which function they work on, the
// stable names of its values, the JSON statistics file (see
// docs/Calibration.md for the format) and the insertion of myquant.stats.
//
//===----------------------------------------------------------------------===//

#ifndef MYQUANT_CALIBRATION_STATS_H
#define MYQUANT_CALIBRATION_STATS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>
#include <vector>

namespace myquant {

/// `value` as printf's %g writes it, for messages.
std::string formatNumber(double value);

/// The function named `name`, or the only public function with a body when
/// `name` is empty; reports at `module` otherwise.
mlir::FailureOr<mlir::func::FuncOp> selectFunction(mlir::ModuleOp module,
                                                   llvm::StringRef name);

/// The name a front end gave a location (`loc("conv1")`), if any.
std::optional<llvm::StringRef> getLocationName(mlir::Location loc);

/// The name of argument `index` in data files and stats files: its location
/// name, else "arg<index>".
std::string getArgumentName(mlir::func::FuncOp func, unsigned index);

/// Stable names of a function's values: arguments are named as above; the
/// results of the body's top-level ops (myquant.stats not counted) are
/// "v<N>" for the N-th such result, unless their op has a location name:
/// then the result is called by that name, or, when several results share
/// it, the last one in program order is and the others are "<name>#<i>"
/// (i from 0).
class ValueNames {
public:
  /// Fails, reporting at `func`, if two values end up with one name.
  static mlir::FailureOr<ValueNames> build(mlir::func::FuncOp func);

  /// The name of `value`, or "" if it is not a named value.
  llvm::StringRef getName(mlir::Value value) const;
  /// The value called `name`, or null.
  mlir::Value lookup(llvm::StringRef name) const;

private:
  llvm::DenseMap<mlir::Value, std::string> names;
  llvm::StringMap<mlir::Value> values;
};

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
};

/// The range [min, max] whose parameters (computeActivationQParams with
/// [qmin, qmax]) are `scale` and `zeroPoint`: ((qmin - zp) * scale,
/// (qmax - zp) * scale), moved by a few ulps where rounding would change
/// the parameters. std::nullopt when the parameters cannot come from a range
/// (zero point outside [qmin, qmax], scale not positive and finite).
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

/// Puts a myquant.stats op holding `stats[i]` after `values[i]`, in place of
/// any earlier annotation of it. Nothing changes if one of them does not
/// verify; `describe(i)` (when given) names its source in a note.
mlir::LogicalResult
annotateWithStats(llvm::ArrayRef<mlir::Value> values,
                  llvm::ArrayRef<ValueStats> stats,
                  llvm::function_ref<std::string(size_t)> describe = nullptr);

} // namespace myquant

#endif // MYQUANT_CALIBRATION_STATS_H
