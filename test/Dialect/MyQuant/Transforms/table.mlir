// RUN: myquant-opt %s -split-input-file --myquant-propagate-qparams --myquant-quantize -verify-diagnostics | FileCheck %s

// A function of one tensor whose body is arith and math ops becomes a
// lookup table (docs/NumericSpec.md 3.8), whatever the function: the body
// is evaluated in double at each input value and quantized into the
// output's parameters. Expected tables: python/myquant/testing/reference.py
// (table_values) on the same float function.

#map = affine_map<(d0, d1) -> (d0, d1)>

// Sigmoid as torch-mlir writes it, 1 / (1 + exp(-x)); input [-6.4, 6.35]
// -> (0.05, 0), output [0, 1] -> (1/255, -128). Entry 128 (x = 0) is
// sigmoid(0) * 255 = 127.5, rounded half to even: 128 - 128 = 0.
// CHECK-LABEL: func.func @sigmoid
// CHECK:         %[[Q:.+]] = myquant.quantize %{{.+}} -> tensor<1x8x!quant.uniform<i8:f32, 5.000000e-02>>
// CHECK-NEXT:    %[[T:.+]] = myquant.table %[[Q]] {values = array<i32: -128, -128, -128, -128, -127, -127, -127, -127, -127, -127, -127, -127, -127, -127, -127, -127, -127, -127, -127, -127, -127, -127, -127, -127, -127, -127, -126, -126, -126, -126, -126, -126, -126, -126, -126, -126, -125, -125, -125, -125, -125, -125, -125, -124, -124, -124, -124, -124, -123, -123, -123, -123, -122, -122, -122, -122, -121, -121, -121, -120, -120, -119, -119, -118, -118, -118, -117, -116, -116, -115, -115, -114, -113, -113, -112, -111, -110, -110, -109, -108, -107, -106, -105, -104, -103, -101, -100, -99, -98, -96, -95, -93, -92, -90, -89, -87, -85, -83, -81, -80, -78, -76, -73, -71, -69, -67, -64, -62, -59, -57, -54, -52, -49, -46, -43, -41, -38, -35, -32, -29, -26, -23, -19, -16, -13, -10, -7, -4, 0, 3, 6, 9, 12, 15, 18, 22, 25, 28, 31, 34, 37, 40, 42, 45, 48, 51, 53, 56, 58, 61, 63, 66, 68, 70, 72, 75, 77, 79, 80, 82, 84, 86, 88, 89, 91, 92, 94, 95, 97, 98, 99, 100, 102, 103, 104, 105, 106, 107, 108, 109, 109, 110, 111, 112, 112, 113, 114, 114, 115, 115, 116, 117, 117, 117, 118, 118, 119, 119, 120, 120, 120, 121, 121, 121, 121, 122, 122, 122, 122, 123, 123, 123, 123, 123, 124, 124, 124, 124, 124, 124, 124, 125, 125, 125, 125, 125, 125, 125, 125, 125, 125, 126, 126, 126, 126, 126, 126, 126, 126, 126, 126, 126, 126, 126, 126, 126, 126, 126, 126, 126, 126, 126, 126, 127, 127, 127>} : tensor<1x8x!quant.uniform<i8:f32, 5.000000e-02>> -> tensor<1x8x!quant.uniform<i8:f32, 0.0039215686274509803:-128>>
// CHECK-NEXT:    myquant.dequantize %[[T]]
// CHECK-NOT:     linalg.generic
func.func @sigmoid(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
  %xs = myquant.stats %x {min = array<f64: -6.4>, max = array<f64: 6.35>} : tensor<1x8xf32>
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<1x8xf32>
  %g = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]} ins(%xs : tensor<1x8xf32>) outs(%e : tensor<1x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.negf %in : f32
    %ex = math.exp %n : f32
    %d = arith.addf %ex, %one : f32
    %r = arith.divf %one, %d : f32
    linalg.yield %r : f32
  } -> tensor<1x8xf32>
  %gs = myquant.stats %g {min = array<f64: 0.0>, max = array<f64: 1.0>} : tensor<1x8xf32>
  return %gs : tensor<1x8xf32>
}

// -----

#map = affine_map<(d0, d1) -> (d0, d1)>

// Leaky ReLU as a compare and select, constants defined in the body: input
// (0.05, 0), output [-0.64, 6.35] -> (0.0274..., -105). Entry 0 (x = -6.4)
// is -0.64 -> -128; entry 255 (x = 6.35) is 127.
// CHECK-LABEL: func.func @leaky_relu
// CHECK:         myquant.table %{{.+}} {values = array<i32: [[LEAKY:-128, .*, 127]]>}
// CHECK-NOT:     linalg.generic
func.func @leaky_relu(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
  %xs = myquant.stats %x {min = array<f64: -6.4>, max = array<f64: 6.35>} : tensor<1x8xf32>
  %e = tensor.empty() : tensor<1x8xf32>
  %g = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]} ins(%xs : tensor<1x8xf32>) outs(%e : tensor<1x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %zero = arith.constant 0.0 : f32
    %slope = arith.constant 0.1 : f32
    %p = arith.cmpf ogt, %in, %zero : f32
    %n = arith.mulf %in, %slope : f32
    %r = arith.select %p, %in, %n : f32
    linalg.yield %r : f32
  } -> tensor<1x8xf32>
  %gs = myquant.stats %g {min = array<f64: -0.64>, max = array<f64: 6.35>} : tensor<1x8xf32>
  return %gs : tensor<1x8xf32>
}

// -----

#map = affine_map<(d0, d1) -> (d0, d1)>

// Leaky ReLU as max(x, 0.1 x): a maximum of two functions of x, not a
// clamp; the same table as the compare and select form.
// CHECK-LABEL: func.func @leaky_relu_maximum
// CHECK:         myquant.table %{{.+}} {values = array<i32: [[LEAKY]]>}
// CHECK-NOT:     linalg.generic
func.func @leaky_relu_maximum(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
  %xs = myquant.stats %x {min = array<f64: -6.4>, max = array<f64: 6.35>} : tensor<1x8xf32>
  %slope = arith.constant 0.1 : f32
  %e = tensor.empty() : tensor<1x8xf32>
  %g = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]} ins(%xs : tensor<1x8xf32>) outs(%e : tensor<1x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.mulf %in, %slope : f32
    %r = arith.maximumf %in, %n : f32
    linalg.yield %r : f32
  } -> tensor<1x8xf32>
  %gs = myquant.stats %g {min = array<f64: -0.64>, max = array<f64: 6.35>} : tensor<1x8xf32>
  return %gs : tensor<1x8xf32>
}

// -----

#map = affine_map<(d0, d1) -> (d0, d1)>

// A body op without a compile-time evaluation: the generic stays in float,
// between dequantize and quantize, with a remark naming the op.
// CHECK-LABEL: func.func @unknown_body_op
// CHECK-NOT:     myquant.table
// CHECK:         linalg.generic
// CHECK:           math.cbrt
func.func @unknown_body_op(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
  %xs = myquant.stats %x {min = array<f64: -6.4>, max = array<f64: 6.35>} : tensor<1x8xf32>
  %e = tensor.empty() : tensor<1x8xf32>
  // expected-remark@+1 {{'linalg.generic' stays in float between dequantize and quantize: its lookup table cannot be computed, as 'math.cbrt' in its body has no compile-time evaluation}}
  %g = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]} ins(%xs : tensor<1x8xf32>) outs(%e : tensor<1x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = math.cbrt %in : f32
    linalg.yield %r : f32
  } -> tensor<1x8xf32>
  %gs = myquant.stats %g {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<1x8xf32>
  return %gs : tensor<1x8xf32>
}
