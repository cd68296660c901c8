//===- MyQuantPlugin.cpp - myquant as an mlir-opt plugin ------------------===//

#include "mlir/Tools/Plugins/DialectPlugin.h"
#include "mlir/Tools/Plugins/PassPlugin.h"
#include "llvm/Config/llvm-config.h"

#include "myquant/InitAll.h"

extern "C" LLVM_ATTRIBUTE_WEAK mlir::DialectPluginLibraryInfo
mlirGetDialectPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "MyQuant", LLVM_VERSION_STRING,
          [](mlir::DialectRegistry *registry) {
            myquant::registerAllDialects(*registry);
          }};
}

extern "C" LLVM_ATTRIBUTE_WEAK mlir::PassPluginLibraryInfo
mlirGetPassPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "MyQuantPasses", LLVM_VERSION_STRING,
          []() { myquant::registerAllPasses(); }};
}
