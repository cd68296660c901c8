// Parses, verifies and prints a myquant module; runs the integer-only check.
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "myquant/InitAll.h"
#include "myquant/Support/FixedPoint.h"
#include "llvm/Support/raw_ostream.h"

int main() {
  mlir::DialectRegistry registry;
  myquant::registerAllDialects(registry);
  mlir::MLIRContext context(registry);
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
