//===- Passes.td - myquant conversion passes ---------------*- tablegen -*-===//

#ifndef MYQUANT_CONVERSION_PASSES_TD
#define MYQUANT_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertMyQuantToLinalg : Pass<"convert-myquant-to-linalg",
                                  "::mlir::ModuleOp"> {
  let summary = "Lowers myquant ops to integer-only linalg, arith and tensor";
  let description = [{
    Rewrites every myquant op into `linalg.generic` (and `tensor.pad`,
    `tensor.insert_slice`) computations on the integer storage types of the
    quantized tensors: i8 or u8 data as signless i8, int32 accumulation,
    and requantization in i64 with the rounding named by each op's
    `#myquant.rescale` (see `docs/NumericSpec.md`). Quantized element types
    disappear from function signatures and `quant.scast` ops; only
    `myquant.quantize` / `myquant.dequantize` at the model's edges compute
    in float. Ops without a precomputed `rescale` get one computed from
    their quantized types with `default-rounding`.
  }];
  let options = [
    Option<"defaultRounding", "default-rounding", "::myquant::RoundingMode",
           /*default=*/"::myquant::RoundingMode::Single",
           "Rounding for ops whose rescale is not precomputed",
           [{::llvm::cl::values(
             clEnumValN(::myquant::RoundingMode::Single, "single",
                        "(v * m + 2^(s-1)) >> s in 64 bits"),
             clEnumValN(::myquant::RoundingMode::Gemmlowp, "gemmlowp",
                        "gemmlowp's doubling high multiply, then a rounding shift"))}]>
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect", "::mlir::tensor::TensorDialect"
  ];
}

#endif // MYQUANT_CONVERSION_PASSES_TD
