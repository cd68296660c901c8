//===- MyQuantBase.td - myquant dialect definition ---------*- tablegen -*-===//
//
// The myquant dialect: integer-only int8 inference on quantized tensors.
//
//===----------------------------------------------------------------------===//

#ifndef MYQUANT_DIALECT_MYQUANT_IR_MYQUANTBASE_TD
#define MYQUANT_DIALECT_MYQUANT_IR_MYQUANTBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def MyQuant_Dialect : Dialect {
  let name = "myquant";
  let cppNamespace = "::myquant";
  let summary = "Integer-only int8 inference on quantized tensors";
  let description = [{
    The `myquant` dialect carries a float model through static post-training
    quantization to code that computes with integers only.

    * `myquant.stats` annotates a float tensor with calibration statistics.
    * `myquant.quantize`, `myquant.dequantize` and `myquant.requantize` move
      values between float and quantized tensors and between quantizations.
    * The compute ops (`conv2d`, `matmul`, `add`, `mul`, `concat`,
      `max_pool2d`, `avg_pool2d`, `clamp`, `table`) work on tensors whose
      element types are the upstream `quant` dialect's uniform quantized
      types, so the IR interoperates with other MLIR compilers.
    * Attributes (`#myquant.rescale`, `#myquant.clamp`) hold the integers
      that the dry run precomputes: Q31 multipliers and right shifts per
      tensor or per channel, the rounding mode, and clamp bounds.

    The arithmetic is specified exactly in `docs/NumericSpec.md`.
  }];
  let dependentDialects = ["::mlir::quant::QuantDialect"];
  // Attributes myquant puts on other dialects' ops, named once here.
  let discardableAttrs = (ins
    // Fixed weight parameters of a conv or matmul (myquant-import-stats):
    // `scales` (one, or one per output channel), `qmin`, `qmax`.
    "::mlir::DictionaryAttr":$weight_qparams,
    // The calibration method of one value (a string), overriding the
    // pass option.
    "::mlir::StringAttr":$calibration_method,
    // A public function's tensor signature before bufferization.
    "::mlir::TypeAttr":$signature,
    // The {scale, zero_point} of each argument / result of an integer-io
    // function.
    "::mlir::ArrayAttr":$input_qparams,
    "::mlir::ArrayAttr":$output_qparams,
    // A public function planned by myquant-plan-static-memory: its
    // `arena_size`, `alignment`, `peak_live` and `weights_size` in bytes.
    "::mlir::DictionaryAttr":$static_memory,
    // A kernel's loop over the batch: its iterations write disjoint slices
    // of the kernel's result and only read everything else, so they may
    // run in parallel (myquant-lower-to-llvm{threads=N}).
    "::mlir::UnitAttr":$parallel_batch
  );
  let useDefaultAttributePrinterParser = 1;
}

class MyQuant_Op<string mnemonic, list<Trait> traits = []>
    : Op<MyQuant_Dialect, mnemonic, traits>;

class MyQuant_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<MyQuant_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

#endif // MYQUANT_DIALECT_MYQUANT_IR_MYQUANTBASE_TD
