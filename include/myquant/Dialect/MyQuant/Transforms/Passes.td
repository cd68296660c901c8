//===- Passes.td - myquant transformation passes -----------*- tablegen -*-===//

#ifndef MYQUANT_DIALECT_MYQUANT_TRANSFORMS_PASSES_TD
#define MYQUANT_DIALECT_MYQUANT_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def MyQuantVerifyIntegerOnly : Pass<"myquant-verify-integer-only",
                                    "::mlir::func::FuncOp"> {
  let summary = "Fails if float computation remains in the quantized region";
  let description = [{
    Walks every function and reports, at its location, each operation that
    computes with floating point (a float operand, result or attribute)
    outside the conversions at the model's boundary: `myquant.quantize`
    consuming a function argument and `myquant.dequantize` feeding a return.
    With `allow-float-boundary=false` even those are rejected, so that a
    function with integer signatures compiles to code without a single
    float instruction.
  }];
  let options = [
    Option<"allowFloatBoundary", "allow-float-boundary", "bool",
           /*default=*/"true",
           "Accept quantize ops on arguments and dequantize ops on results">
  ];
  let dependentDialects = ["::myquant::MyQuantDialect"];
}

#endif // MYQUANT_DIALECT_MYQUANT_TRANSFORMS_PASSES_TD
