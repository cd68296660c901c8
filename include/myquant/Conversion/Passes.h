//===- Passes.h - myquant conversion passes ---------------------*- C++ -*-===//

#ifndef MYQUANT_CONVERSION_PASSES_H
#define MYQUANT_CONVERSION_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "myquant/Conversion/MyQuantToVnni/Target.h"
#include "myquant/Dialect/MyQuant/IR/MyQuantDialect.h"
#include "myquant/Dialect/MyQuant/Transforms/PassOptions.h"

namespace myquant {

#define GEN_PASS_DECL
#include "myquant/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "myquant/Conversion/Passes.h.inc"

} // namespace myquant

#endif // MYQUANT_CONVERSION_PASSES_H
