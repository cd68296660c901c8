//===- Passes.h - myquant calibration passes --------------------*- C++ -*-===//

#ifndef MYQUANT_CALIBRATION_PASSES_H
#define MYQUANT_CALIBRATION_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "myquant/Dialect/MyQuant/IR/MyQuantDialect.h"

namespace myquant {

#define GEN_PASS_DECL
#include "myquant/Calibration/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "myquant/Calibration/Passes.h.inc"

/// The values of the calibration options that myquant-calibrate and
/// myquant-ptq share.
struct CalibrationOptionValues {
  llvm::StringRef method;
  double percentile;
  double averagingConstant;
  int64_t batchSize;
  int64_t samples;
  int64_t threads = 1;
};

/// Checks the calibration options, whether or not there is data to
/// calibrate on; `prefix` goes before each option name in the messages
/// passed to `report` (myquant-ptq's are `calibration-...`).
mlir::LogicalResult
checkCalibrationOptions(const CalibrationOptionValues &values,
                        llvm::StringRef prefix,
                        llvm::function_ref<void(const llvm::Twine &)> report);

} // namespace myquant

#endif // MYQUANT_CALIBRATION_PASSES_H
