//===- MyQuantOps.h - myquant operations ------------------------*- C++ -*-===//

#ifndef MYQUANT_DIALECT_MYQUANT_IR_MYQUANTOPS_H
#define MYQUANT_DIALECT_MYQUANT_IR_MYQUANTOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "myquant/Dialect/MyQuant/IR/MyQuantDialect.h"
#include "myquant/Dialect/MyQuant/IR/MyQuantInterfaces.h"

#define GET_OP_CLASSES
#include "myquant/Dialect/MyQuant/IR/MyQuantOps.h.inc"

#endif // MYQUANT_DIALECT_MYQUANT_IR_MYQUANTOPS_H
