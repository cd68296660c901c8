//===- myquant-opt.cpp - mlir-opt with every myquant dialect and pass -----===//

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

#include "myquant/InitAll.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  myquant::registerAllPasses();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  myquant::registerAllDialects(registry);

  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "myquant optimizer driver\n", registry));
}
