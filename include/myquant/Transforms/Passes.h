//===- Passes.h - myquant transformations of upstream IR --------*- C++ -*-===//

#ifndef MYQUANT_TRANSFORMS_PASSES_H
#define MYQUANT_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace myquant {

#define GEN_PASS_DECL
#include "myquant/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "myquant/Transforms/Passes.h.inc"

} // namespace myquant

#endif // MYQUANT_TRANSFORMS_PASSES_H
