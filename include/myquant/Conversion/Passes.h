//===- Passes.h - myquant conversion passes ---------------------*- C++ -*-===//

#ifndef MYQUANT_CONVERSION_PASSES_H
#define MYQUANT_CONVERSION_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "myquant/Dialect/MyQuant/IR/MyQuantDialect.h"

namespace myquant {

/// Marks a kernel's loop over the batch: its iterations write disjoint
/// slices of the kernel's result and only read everything else, so they
/// may run in parallel (myquant-lower-to-llvm{threads=N}).
inline constexpr llvm::StringLiteral kParallelBatchAttrName =
    "myquant.parallel_batch";

#define GEN_PASS_DECL
#include "myquant/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "myquant/Conversion/Passes.h.inc"

} // namespace myquant

#endif // MYQUANT_CONVERSION_PASSES_H
