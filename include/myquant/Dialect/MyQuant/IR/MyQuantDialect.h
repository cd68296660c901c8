//===- MyQuantDialect.h - myquant dialect and attributes --------*- C++ -*-===//

#ifndef MYQUANT_DIALECT_MYQUANT_IR_MYQUANTDIALECT_H
#define MYQUANT_DIALECT_MYQUANT_IR_MYQUANTDIALECT_H

#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"

#include "myquant/Dialect/MyQuant/IR/MyQuantDialect.h.inc"
#include "myquant/Dialect/MyQuant/IR/MyQuantEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "myquant/Dialect/MyQuant/IR/MyQuantAttrs.h.inc"

#endif // MYQUANT_DIALECT_MYQUANT_IR_MYQUANTDIALECT_H
