//===- Passes.h - myquant-lower-to-llvm's own passes ------------*- C++ -*-===//

#ifndef MYQUANT_LOWERING_PASSES_H
#define MYQUANT_LOWERING_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace myquant {

#define GEN_PASS_DECL
#include "myquant/Lowering/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "myquant/Lowering/Passes.h.inc"

} // namespace myquant

#endif // MYQUANT_LOWERING_PASSES_H
