//===- InitAll.h - register everything myquant provides ---------*- C++ -*-===//

#ifndef MYQUANT_INITALL_H
#define MYQUANT_INITALL_H

#include "mlir/IR/DialectRegistry.h"
#include "myquant/Calibration/Passes.h"
#include "myquant/Conversion/Passes.h"
#include "myquant/Dialect/MyQuant/IR/MyQuantDialect.h"
#include "myquant/Dialect/MyQuant/Transforms/Passes.h"
#include "myquant/Lowering/LowerToLLVM.h"
#include "myquant/Lowering/Passes.h"
#include "myquant/Pipelines/PTQ.h"
#include "myquant/Transforms/Passes.h"

namespace myquant {

/// Adds the myquant dialect and the upstream dialects its IR refers to.
inline void registerAllDialects(mlir::DialectRegistry &registry) {
  registry.insert<MyQuantDialect, mlir::quant::QuantDialect,
                  mlir::func::FuncDialect>();
}

/// Registers every myquant pass and pipeline with the global registry.
inline void registerAllPasses() {
  registerMyQuantPasses();
  registerMyQuantConversionPasses();
  registerMyQuantCalibrationPasses();
  registerMyQuantTransformPasses();
  registerMyQuantLoweringPasses();
  registerLowerToLLVMPipeline();
  registerPTQPipeline();
}

} // namespace myquant

#endif // MYQUANT_INITALL_H
