//===- ValueNames.h - naming and annotating a function's values -*- C++ -*-===//
//
// What the calibration passes share besides the stats file: which function
// they work on, the stable names of its values (the keys of data and stats
// files) and the insertion of myquant.stats.
//
//===----------------------------------------------------------------------===//

#ifndef MYQUANT_CALIBRATION_VALUENAMES_H
#define MYQUANT_CALIBRATION_VALUENAMES_H

#include "myquant/Calibration/StatsFile.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"

#include <optional>
#include <string>

namespace myquant {

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

/// Puts a myquant.stats op holding `stats[i]` after `values[i]`, in place of
/// any earlier annotation of it. Nothing changes if one of them does not
/// verify; `describe(i)` (when given) names its source in a note.
mlir::LogicalResult
annotateWithStats(llvm::ArrayRef<mlir::Value> values,
                  llvm::ArrayRef<ValueStats> stats,
                  llvm::function_ref<std::string(size_t)> describe = nullptr);

/// Puts a second myquant.stats holding `channels[i]` (per channel, with an
/// axis) on the annotation of `values[i]` that annotateWithStats made, its
/// only user: the dry run reads the chain. As annotateWithStats otherwise.
mlir::LogicalResult annotateWithChannelStats(
    llvm::ArrayRef<mlir::Value> values, llvm::ArrayRef<ValueStats> channels,
    llvm::function_ref<std::string(size_t)> describe = nullptr);

} // namespace myquant

#endif // MYQUANT_CALIBRATION_VALUENAMES_H
