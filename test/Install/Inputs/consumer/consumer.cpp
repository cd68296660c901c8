// A downstream compiler's use of myquant: parses, verifies and prints a
// myquant module, runs the integer-only check, then quantizes a float model
// with the PTQ pipeline calibrated on a .npy file. It registers only the
// dialects of its own IR, and no command-line options.
//
//   consumer <float model.mlir> <calibration data.npy>
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "myquant/InitAll.h"
#include "myquant/Support/FixedPoint.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

static int checkDialect(mlir::MLIRContext &context) {
  const char *source = R"mlir(
    func.func @relu(%x: tensor<4x!quant.uniform<i8:f32, 0.5:-3>>)
        -> tensor<4x!quant.uniform<i8:f32, 0.5:-3>> {
      %y = myquant.clamp %x <-3, 127> : tensor<4x!quant.uniform<i8:f32, 0.5:-3>>
      return %y : tensor<4x!quant.uniform<i8:f32, 0.5:-3>>
    })mlir";
  auto module = mlir::parseSourceString<mlir::ModuleOp>(source, &context);
  if (!module)
    return 1;
  mlir::PassManager pm(&context);
  pm.addNestedPass<mlir::func::FuncOp>(
      myquant::createMyQuantVerifyIntegerOnly());
  if (mlir::failed(pm.run(*module)))
    return 1;
  module->print(llvm::outs());
  auto qm = myquant::fixedpoint::quantizeMultiplier(0.5);
  llvm::outs() << "\nmultiplier(0.5) = " << qm->multiplier << " >> "
               << qm->shift << "\n";
  return 0;
}

static int quantize(mlir::MLIRContext &context, const char *modelPath,
                    const char *dataPath) {
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  auto module =
      mlir::parseSourceFile<mlir::ModuleOp>(modelPath, sourceMgr, &context);
  if (!module)
    return 1;
  myquant::PTQOptions options;
  options.calibrationData = dataPath;
  options.calibrationQuiet = true;
  options.allowFloat = false;
  mlir::PassManager pm(&context);
  myquant::buildPTQPipeline(pm, options);
  if (mlir::failed(pm.run(*module)))
    return 1;
  module->print(llvm::outs());
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    llvm::errs() << "usage: consumer <model.mlir> <data.npy>\n";
    return 2;
  }
  mlir::DialectRegistry registry;
  myquant::registerAllDialects(registry);
  registry.insert<mlir::arith::ArithDialect, mlir::linalg::LinalgDialect,
                  mlir::tensor::TensorDialect>();
  mlir::MLIRContext context(registry);
  if (int status = checkDialect(context))
    return status;
  return quantize(context, argv[1], argv[2]);
}
