// RUN: myquant-opt %s -split-input-file --myquant-test-print-ranges -verify-diagnostics | FileCheck %s

// The dry run's lattice: statistics give ranges, same-scale ops (padding,
// max pooling, reshapes) keep their operand's, a clamp narrows its
// operand's, and an op without statistics has none.

// CHECK-LABEL: func.func @chain
// CHECK-NOT:   myquant.stats
// expected-remark@+1 {{argument #0 range [-5, 12]}}
func.func @chain(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32> {
  %xs = myquant.stats %x {min = array<f64: -5.0>, max = array<f64: 12.0>} : tensor<1x2x4x4xf32>
  %cst0 = arith.constant 0.0 : f32
  // expected-remark@+1 {{result #0 range [-5, 12]}}
  %pad = tensor.pad %xs low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
    tensor.yield %cst0 : f32
  } : tensor<1x2x4x4xf32> to tensor<1x2x6x6xf32>
  // expected-remark@+1 {{result #0 range <unknown>}}
  %empty = tensor.empty() : tensor<1x2x6x6xf32>
  // A clamp to [0, 6] of [-5, 12].
  // expected-remark@+1 {{result #0 range [0, 6]}}
  %relu6 = linalg.generic {indexing_maps = [affine_map<(n, c, h, w) -> (n, c, h, w)>, affine_map<(n, c, h, w) -> (n, c, h, w)>],
                           iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%pad : tensor<1x2x6x6xf32>) outs(%empty : tensor<1x2x6x6xf32>) {
  ^bb0(%in: f32, %out: f32):
    %zero = arith.constant 0.0 : f32
    %six = arith.constant 6.0 : f32
    %lo = arith.maximumf %in, %zero : f32
    %hi = arith.minimumf %lo, %six : f32
    linalg.yield %hi : f32
  } -> tensor<1x2x6x6xf32>
  // expected-remark@+1 {{result #0 range <unknown>}}
  %init = tensor.empty() : tensor<1x2x2x2xf32>
  // expected-remark@+1 {{result #0 range <unknown>}}
  %window = tensor.empty() : tensor<3x3xf32>
  // Max pooling keeps its operand's range, whatever its own stats say.
  // expected-remark@+1 {{result #0 range [0, 6]}}
  %pool = linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<3> : tensor<2xi64>}
      ins(%relu6, %window : tensor<1x2x6x6xf32>, tensor<3x3xf32>) outs(%init : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %ps = myquant.stats %pool {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x2x2x2xf32>
  return %ps : tensor<1x2x2x2xf32>
}

// -----

// Concatenation joins its operands' ranges; two stats on one value join.

// CHECK-LABEL: func.func @concat
// CHECK-NOT:   myquant.stats
// expected-remark@+2 {{argument #0 range [-1, 2]}}
// expected-remark@+1 {{argument #1 range [-3, 1]}}
func.func @concat(%a: tensor<1x2xf32>, %b: tensor<1x2xf32>) -> tensor<2x2xf32> {
  %as = myquant.stats %a {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x2xf32>
  %as2 = myquant.stats %a {min = array<f64: 0.0>, max = array<f64: 2.0>} : tensor<1x2xf32>
  %bs = myquant.stats %b {min = array<f64: -3.0, 0.0>, max = array<f64: 0.5, 1.0>, axis = 1 : i64} : tensor<1x2xf32>
  // expected-remark@+1 {{result #0 range [-3, 2]}}
  %c = tensor.concat dim(0) %as, %bs : (tensor<1x2xf32>, tensor<1x2xf32>) -> tensor<2x2xf32>
  return %c : tensor<2x2xf32>
}
