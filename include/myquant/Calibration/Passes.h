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

} // namespace myquant

#endif // MYQUANT_CALIBRATION_PASSES_H
