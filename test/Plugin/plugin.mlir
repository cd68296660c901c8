// The stock mlir-opt loads myquant's dialect and passes from the plugin.

// RUN: mlir-opt %s -split-input-file -verify-diagnostics \
// RUN:   --load-dialect-plugin=%myquant_plugin --load-pass-plugin=%myquant_plugin \
// RUN:   --pass-pipeline="builtin.module(func.func(myquant-verify-integer-only))" \
// RUN:   | FileCheck %s

// The pass option is parsed too: in strict mode the float boundary fails.
// RUN: not mlir-opt %s -split-input-file \
// RUN:   --load-dialect-plugin=%myquant_plugin --load-pass-plugin=%myquant_plugin \
// RUN:   --pass-pipeline="builtin.module(func.func(myquant-verify-integer-only{allow-float-boundary=false}))" \
// RUN:   2>&1 >/dev/null | FileCheck %s --check-prefix=STRICT

// The pass plugin adds the pass to the command line options...
// RUN: mlir-opt --load-pass-plugin=%myquant_plugin --help \
// RUN:   | FileCheck %s --check-prefix=HELP
// RUN: mlir-opt --help | FileCheck %s --check-prefix=NO-PLUGIN-HELP

// ...and to the pipeline parser, which knows nothing of it without the plugin.
// RUN: not mlir-opt %s -split-input-file --load-dialect-plugin=%myquant_plugin \
// RUN:   --pass-pipeline="builtin.module(func.func(myquant-verify-integer-only))" \
// RUN:   2>&1 | FileCheck %s --check-prefix=NO-PASS

// Without the dialect plugin myquant ops do not parse.
// RUN: not mlir-opt %s -split-input-file 2>&1 \
// RUN:   | FileCheck %s --check-prefix=NO-DIALECT

// HELP:      --myquant-verify-integer-only
// HELP-SAME:   Fails if float computation remains in the quantized region
// HELP-NEXT:   --allow-float-boundary
// NO-PLUGIN-HELP-NOT: myquant
// NO-PASS: 'myquant-verify-integer-only' does not refer to a registered pass or pass pipeline
// NO-DIALECT: error: Dialect `myquant' not found for custom op 'myquant.add'

!q = !quant.uniform<i8:f32, 0.1:-4>

// CHECK-LABEL: func.func @relu
// CHECK-SAME:    (%[[A:.*]]: tensor<4x!quant.uniform<i8:f32, 1.000000e-01:-4>>, %[[B:.*]]: tensor<4x!quant.uniform<i8:f32, 1.000000e-01:-4>>)
// CHECK-NEXT:    %[[S:.*]] = myquant.add %[[A]], %[[B]] {left_shift = 20 : i64, lhs_rescale = #myquant.rescale<multiplier = [1073741824], shift = [31], rounding = gemmlowp>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [19], rounding = gemmlowp>, rhs_rescale = #myquant.rescale<multiplier = [1073741824], shift = [31], rounding = gemmlowp>}
// CHECK-NEXT:    %[[R:.*]] = myquant.clamp %[[S]] <-4, 127> : tensor<4x!quant.uniform<i8:f32, 1.000000e-01:-4>>
// CHECK-NEXT:    return %[[R]]
func.func @relu(%a: tensor<4x!q>, %b: tensor<4x!q>) -> tensor<4x!q> {
  %0 = myquant.add %a, %b {left_shift = 20 : i64,
      lhs_rescale = #myquant.rescale<multiplier = [1073741824], shift = [31], rounding = gemmlowp>,
      rhs_rescale = #myquant.rescale<multiplier = [1073741824], shift = [31], rounding = gemmlowp>,
      rescale = #myquant.rescale<multiplier = [1073741824], shift = [19], rounding = gemmlowp>}
      : (tensor<4x!q>, tensor<4x!q>) -> tensor<4x!q>
  %1 = myquant.clamp %0 <-4, 127> : tensor<4x!q>
  return %1 : tensor<4x!q>
}

// -----

// The pass loaded from the plugin really runs.
!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @float_stats(%x: tensor<4xf32>) -> tensor<4x!q> {
  // expected-error@+1 {{'myquant.stats' computes in floating point inside the quantized region: operand #0 has type tensor<4xf32>}}
  %0 = myquant.stats %x {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<4xf32>
  // expected-error@+1 {{'myquant.quantize' computes in floating point inside the quantized region: operand #0 has type tensor<4xf32>}}
  %1 = myquant.quantize %0 : tensor<4xf32> -> tensor<4x!q>
  return %1 : tensor<4x!q>
}

// -----

// A boundary quantize is accepted by default, rejected in strict mode.
!q = !quant.uniform<i8:f32, 0.1:-4>
// CHECK-LABEL: func.func @boundary
// CHECK-NEXT:    myquant.quantize %{{.*}} : tensor<4xf32> -> tensor<4x!quant.uniform<i8:f32, 1.000000e-01:-4>>
// STRICT: plugin.mlir:[[@LINE+1]]:1: error: argument #0 of 'boundary' has float type 'tensor<4xf32>'; an integer-only function takes integers
func.func @boundary(%x: tensor<4xf32>) -> tensor<4x!q> {
  // STRICT: plugin.mlir:[[@LINE+1]]:8: error: 'myquant.quantize' computes in floating point inside the quantized region: operand #0 has type tensor<4xf32>
  %0 = myquant.quantize %x : tensor<4xf32> -> tensor<4x!q>
  return %0 : tensor<4x!q>
}
