//===- Passes.h - myquant transformation passes -----------------*- C++ -*-===//

#ifndef MYQUANT_DIALECT_MYQUANT_TRANSFORMS_PASSES_H
#define MYQUANT_DIALECT_MYQUANT_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"
#include "myquant/Dialect/MyQuant/IR/MyQuantDialect.h"
#include "myquant/Dialect/MyQuant/Transforms/PassOptions.h"

namespace myquant {

#define GEN_PASS_DECL
#include "myquant/Dialect/MyQuant/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "myquant/Dialect/MyQuant/Transforms/Passes.h.inc"

} // namespace myquant

#endif // MYQUANT_DIALECT_MYQUANT_TRANSFORMS_PASSES_H
