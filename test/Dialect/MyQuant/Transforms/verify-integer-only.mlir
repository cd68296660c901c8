// Default mode: every diagnostic is annotated below; functions that pass are
// printed unchanged.
// RUN: myquant-opt %s -split-input-file -verify-diagnostics --allow-unregistered-dialect \
// RUN:   --myquant-verify-integer-only | FileCheck %s

// Strict mode reports everything the default mode reports (checked with
// only-expected) and in addition the float boundary and float signatures
// (checked on stderr with the STRICT prefix).
// RUN: myquant-opt %s -split-input-file -verify-diagnostics=only-expected --allow-unregistered-dialect \
// RUN:   --myquant-verify-integer-only=allow-float-boundary=false \
// RUN:   | FileCheck %s --check-prefix=STRICT-OUT
// RUN: not myquant-opt %s -split-input-file --allow-unregistered-dialect \
// RUN:   --myquant-verify-integer-only=allow-float-boundary=false 2>&1 >/dev/null \
// RUN:   | FileCheck %s --check-prefix=STRICT

// Integer-only code passes in both modes and is left as it is.

!a = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32:0, {0.01, 0.02}>
!y = !quant.uniform<i8:f32, 0.2:3>

// CHECK-LABEL: func.func @integer_only
// CHECK-SAME:    (%[[X:.*]]: tensor<1x2x4x4x!quant.uniform<i8:f32, 1.000000e-01:-4>>, %[[W:.*]]: tensor<2x2x1x1x{{.*}}>, %[[B:.*]]: tensor<2xi32>, %[[N:.*]]: i32)
// CHECK-NEXT:    %[[C:.*]] = arith.constant 3 : i32
// CHECK-NEXT:    %[[S:.*]] = arith.addi %[[N]], %[[C]] : i32
// CHECK-NEXT:    %[[CONV:.*]] = myquant.conv2d %[[X]], %[[W]], %[[B]] {dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>, padding = array<i64: 0, 0, 0, 0>, rescale = #myquant.rescale<multiplier = [1073741824, 1073741824], shift = [38, 37], rounding = single>, strides = array<i64: 1, 1>}
// CHECK-NEXT:    %[[CL:.*]] = myquant.clamp %[[CONV]] <3, 127>
// CHECK-NEXT:    return %[[CL]], %[[S]]
// STRICT-OUT-LABEL: func.func @integer_only
// STRICT-NOT: 'integer_only'
// STRICT-OUT:         myquant.conv2d
// STRICT-OUT:         myquant.clamp
func.func @integer_only(%x: tensor<1x2x4x4x!a>, %w: tensor<2x2x1x1x!w>, %b: tensor<2xi32>, %n: i32)
    -> (tensor<1x2x4x4x!y>, i32) {
  %c = arith.constant 3 : i32
  %s = arith.addi %n, %c : i32
  %0 = myquant.conv2d %x, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>,
      dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>,
      rescale = #myquant.rescale<multiplier = [1073741824, 1073741824], shift = [38, 37], rounding = single>}
      : (tensor<1x2x4x4x!a>, tensor<2x2x1x1x!w>, tensor<2xi32>) -> tensor<1x2x4x4x!y>
  %1 = myquant.clamp %0 <3, 127> : tensor<1x2x4x4x!y>
  return %1, %s : tensor<1x2x4x4x!y>, i32
}

// -----

// STRICT: verify-integer-only.mlir:[[@LINE+3]]:1: error: argument #0 of 'addf' has float type 'f32'; an integer-only function takes integers
// STRICT: verify-integer-only.mlir:[[@LINE+2]]:1: error: argument #1 of 'addf' has float type 'f32'; an integer-only function takes integers
// STRICT: verify-integer-only.mlir:[[@LINE+1]]:1: error: result #0 of 'addf' has float type 'f32'; an integer-only function returns integers
func.func @addf(%a: f32, %b: f32) -> f32 {
  // expected-error@+2 {{'arith.addf' computes in floating point inside the quantized region: operand #0 has type f32}}
  // STRICT: verify-integer-only.mlir:[[@LINE+1]]:8: error: 'arith.addf' computes in floating point inside the quantized region: operand #0 has type f32
  %0 = arith.addf %a, %b : f32
  return %0 : f32
}

// -----

// One report for the linalg.generic: what is nested inside is not reported
// again.
#map = affine_map<(d0) -> (d0)>
func.func @float_generic(%a: tensor<4xf32>, %init: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error@+1 {{'linalg.generic' computes in floating point inside the quantized region: operand #0 has type tensor<4xf32>}}
  %0 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel"]}
      ins(%a : tensor<4xf32>) outs(%init : tensor<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %1 = arith.mulf %in, %in : f32
    linalg.yield %1 : f32
  } -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// An integer linalg.generic is fine; float ops in its body are reported.
#map = affine_map<(d0) -> (d0)>
func.func @float_inside_integer_generic(%a: tensor<4xi8>, %init: tensor<4xi8>) -> tensor<4xi8> {
  %0 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel"]}
      ins(%a : tensor<4xi8>) outs(%init : tensor<4xi8>) {
  ^bb0(%in: i8, %out: i8):
    // expected-error@+1 {{'arith.sitofp' computes in floating point inside the quantized region: result #0 has type f32}}
    %f = arith.sitofp %in : i8 to f32
    // expected-error@+1 {{'arith.fptosi' computes in floating point inside the quantized region: operand #0 has type f32}}
    %i = arith.fptosi %f : f32 to i8
    linalg.yield %i : i8
  } -> tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

// A quantize is only a boundary when it reads a function argument.
!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @stats_then_quantize(%x: tensor<2x3xf32>) -> tensor<2x3x!q> {
  // expected-error@+1 {{'myquant.stats' computes in floating point inside the quantized region: operand #0 has type tensor<2x3xf32>}}
  %0 = myquant.stats %x {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<2x3xf32>
  // expected-error@+1 {{'myquant.quantize' computes in floating point inside the quantized region: operand #0 has type tensor<2x3xf32>}}
  %1 = myquant.quantize %0 : tensor<2x3xf32> -> tensor<2x3x!q>
  return %1 : tensor<2x3x!q>
}

// -----

// A dequantize is only a boundary when its result goes nowhere but a return.
!q = !quant.uniform<i8:f32, 0.1:-4>
func.func @dequantize_used(%q: tensor<4x!q>) -> (tensor<4xf32>, tensor<4xf32>) {
  // expected-error@+1 {{'myquant.dequantize' computes in floating point inside the quantized region: result #0 has type tensor<4xf32>}}
  %0 = myquant.dequantize %q : tensor<4x!q> -> tensor<4xf32>
  // expected-error@+1 {{'arith.addf' computes in floating point inside the quantized region: operand #0 has type tensor<4xf32>}}
  %1 = arith.addf %0, %0 : tensor<4xf32>
  return %0, %1 : tensor<4xf32>, tensor<4xf32>
}

// -----

func.func @float_attribute(%a: i32, %b: i32) -> i32 {
  // expected-error@+1 {{'arith.addi' computes in floating point inside the quantized region: it has a floating-point attribute}}
  %0 = arith.addi %a, %b {scale = 5.0e-01 : f32} : i32
  return %0 : i32
}

// -----

func.func @float_constant() -> tensor<2xi8> {
  // expected-error@+1 {{'arith.constant' computes in floating point inside the quantized region: result #0 has type tensor<2xf32>}}
  %0 = arith.constant dense<[1.0, 2.0]> : tensor<2xf32>
  // expected-error@+1 {{'arith.fptosi' computes in floating point inside the quantized region: operand #0 has type tensor<2xf32>}}
  %1 = arith.fptosi %0 : tensor<2xf32> to tensor<2xi8>
  return %1 : tensor<2xi8>
}

// -----

// Float block arguments count even when no operand or result is float; the
// ops nested in the region are not reported again.
func.func @float_region_argument() -> tensor<4xi8> {
  // expected-error@+1 {{'test.region' computes in floating point inside the quantized region: a region argument has type tensor<4xf32>}}
  %0 = "test.region"() ({
  ^bb0(%x: tensor<4xf32>):
    %1 = arith.addf %x, %x : tensor<4xf32>
    "test.yield"(%1) : (tensor<4xf32>) -> ()
  }) : () -> tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

// Quantizing the arguments and dequantizing the results is the float edge of
// the model: accepted by default, rejected in strict mode.
!q = !quant.uniform<i8:f32, 0.1:-4>
// CHECK-LABEL: func.func @boundary
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT:    %[[Q:.*]] = myquant.quantize %[[X]] : tensor<4xf32> -> tensor<4x!quant.uniform<i8:f32, 1.000000e-01:-4>>
// CHECK-NEXT:    %[[M:.*]] = myquant.mul %[[Q]], %[[Q]]
// CHECK-NEXT:    %[[D:.*]] = myquant.dequantize %[[M]] : tensor<4x!quant.uniform<i8:f32, 1.000000e-01:-4>> -> tensor<4xf32>
// CHECK-NEXT:    return %[[D]] : tensor<4xf32>
// STRICT: verify-integer-only.mlir:[[@LINE+2]]:1: error: argument #0 of 'boundary' has float type 'tensor<4xf32>'; an integer-only function takes integers
// STRICT: verify-integer-only.mlir:[[@LINE+1]]:1: error: result #0 of 'boundary' has float type 'tensor<4xf32>'; an integer-only function returns integers
func.func @boundary(%x: tensor<4xf32>) -> tensor<4xf32> {
  // STRICT: verify-integer-only.mlir:[[@LINE+1]]:8: error: 'myquant.quantize' computes in floating point inside the quantized region: operand #0 has type tensor<4xf32>
  %0 = myquant.quantize %x : tensor<4xf32> -> tensor<4x!q>
  %1 = myquant.mul %0, %0 : (tensor<4x!q>, tensor<4x!q>) -> tensor<4x!q>
  // STRICT: verify-integer-only.mlir:[[@LINE+1]]:8: error: 'myquant.dequantize' computes in floating point inside the quantized region: result #0 has type tensor<4xf32>
  %2 = myquant.dequantize %1 : tensor<4x!q> -> tensor<4xf32>
  return %2 : tensor<4xf32>
}

// -----

// Float signatures: fine by default, rejected in strict mode even without a
// body or without any float op.
!q = !quant.uniform<i8:f32, 0.1:-4>
// CHECK-LABEL: func.func private @declaration(tensor<4x!quant.uniform<i8:f32, 1.000000e-01:-4>>, f16) -> bf16
// STRICT: verify-integer-only.mlir:[[@LINE+2]]:1: error: argument #1 of 'declaration' has float type 'f16'; an integer-only function takes integers
// STRICT: verify-integer-only.mlir:[[@LINE+1]]:1: error: result #0 of 'declaration' has float type 'bf16'; an integer-only function returns integers
func.func private @declaration(tensor<4x!q>, f16) -> bf16

// CHECK-LABEL: func.func @float_argument
// CHECK-NEXT:    return %{{.*}} : tensor<4x!quant.uniform<i8:f32, 1.000000e-01:-4>>
// STRICT: verify-integer-only.mlir:[[@LINE+1]]:1: error: argument #0 of 'float_argument' has float type 'tensor<4xf32>'; an integer-only function takes integers
func.func @float_argument(%unused: tensor<4xf32>, %q: tensor<4x!q>) -> tensor<4x!q> {
  return %q : tensor<4x!q>
}

// STRICT-NOT: error: {{(argument|result) #}}

// In strict mode nothing after @integer_only passes.
// STRICT-OUT-NOT: @boundary
// STRICT-OUT-NOT: @declaration
// STRICT-OUT-NOT: @float_argument
