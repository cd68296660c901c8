// RUN: myquant-opt %s -split-input-file --myquant-propagate-qparams \
// RUN:   -verify-diagnostics | FileCheck %s --check-prefix=DRY
// RUN: myquant-opt %s -split-input-file --myquant-propagate-qparams \
// RUN:   --myquant-quantize -verify-diagnostics | FileCheck %s

// A product with a constant that varies along one dimension (a layer scale
// x * gamma[c], x / c[c]) is a requantize with per-channel factors: the
// input keeps its parameters, the output gets those of its own statistics,
// and a factor's sign negates the operand (docs/NumericSpec.md 3.4).

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ch = affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>
// torch-mlir's form of x * gamma with gamma [C, 1, 1]: factors of any sign,
// zero included (its rescale entry is (0, 0)).
// DRY-LABEL: func.func @layer_scale
// DRY: %[[Q:.*]] = myquant.quantize %{{.*}} : tensor<1x4x3x3xf32> -> tensor<1x4x3x3x!quant.uniform<i8:f32, 0.015686274509803921>>
// DRY: %[[D:.*]] = myquant.dequantize %[[Q]]
// DRY: linalg.generic {{.*}} ins(%[[D]], %{{.*}} : tensor<1x4x3x3xf32>, tensor<4x1x1xf32>)
// DRY: myquant.quantize %{{.*}} : tensor<1x4x3x3xf32> -> tensor<1x4x3x3x!quant.uniform<i8:f32, 0.031372549019607843>>
// CHECK-LABEL: func.func @layer_scale
// CHECK: myquant.requantize %{{.*}} {factor_axis = 1 : i64, factors = array<f64: 5.000000e-01, -2.500000e-01, 0.000000e+00, 2.000000e+00>, rescale = #myquant.rescale<multiplier = [1073741824, 1073741824, 0, 1073741824], shift = [32, 33, 0, 30]
// CHECK-SAME: tensor<1x4x3x3x!quant.uniform<i8:f32, 0.015686274509803921>> -> tensor<1x4x3x3x!quant.uniform<i8:f32, 0.031372549019607843>>
// CHECK-NOT: linalg.generic
func.func @layer_scale(%x: tensor<1x4x3x3xf32>) -> tensor<1x4x3x3xf32> {
  %xs = myquant.stats %x {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<1x4x3x3xf32>
  %g = arith.constant dense<[[[0.5]], [[-0.25]], [[0.0]], [[2.0]]]> : tensor<4x1x1xf32>
  %e = tensor.empty() : tensor<1x4x3x3xf32>
  %m = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%xs, %g : tensor<1x4x3x3xf32>, tensor<4x1x1xf32>) outs(%e : tensor<1x4x3x3xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %p = arith.mulf %a, %b : f32
    linalg.yield %p : f32
  } -> tensor<1x4x3x3xf32>
  %ms = myquant.stats %m {min = array<f64: -4.0>, max = array<f64: 4.0>} : tensor<1x4x3x3xf32>
  return %ms : tensor<1x4x3x3xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#last = affine_map<(d0, d1, d2, d3) -> (d3)>
// x / c along the last dimension (channels last): factors 1 / c.
// CHECK-LABEL: func.func @divide_last_dim
// CHECK: myquant.requantize %{{.*}} {factor_axis = 3 : i64, factors = array<f64: 2.500000e-01, -5.000000e-01>, rescale = #myquant.rescale<multiplier = [1073741824, 1073741824], shift = [32, 31]
func.func @divide_last_dim(%x: tensor<1x3x3x2xf32>) -> tensor<1x3x3x2xf32> {
  %xs = myquant.stats %x {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<1x3x3x2xf32>
  %c = arith.constant dense<[4.0, -2.0]> : tensor<2xf32>
  %e = tensor.empty() : tensor<1x3x3x2xf32>
  %m = linalg.generic {indexing_maps = [#id, #last, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%xs, %c : tensor<1x3x3x2xf32>, tensor<2xf32>) outs(%e : tensor<1x3x3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %p = arith.divf %a, %b : f32
    linalg.yield %p : f32
  } -> tensor<1x3x3x2xf32>
  %ms = myquant.stats %m {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<1x3x3x2xf32>
  return %ms : tensor<1x3x3x2xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// gamma * x with gamma a linalg.broadcast of a constant (the constant
// first), and a splat constant (one factor, no axis).
// CHECK-LABEL: func.func @broadcast_constant
// CHECK: %[[S:.*]] = myquant.requantize %{{.*}} {factor_axis = 1 : i64, factors = array<f64: 1.000000e+00, 5.000000e-01, 2.500000e-01>, rescale =
// CHECK: myquant.requantize %[[S]] {factors = array<f64: -3.000000e+00>, rescale = #myquant.rescale<multiplier = [{{[0-9]+}}], shift = [{{[0-9]+}}]
// CHECK-NOT: linalg.broadcast
// CHECK-NOT: linalg.generic
func.func @broadcast_constant(%x: tensor<1x3x2x2xf32>) -> tensor<1x3x2x2xf32> {
  %xs = myquant.stats %x {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<1x3x2x2xf32>
  %g = arith.constant dense<[1.0, 0.5, 0.25]> : tensor<3xf32>
  %e = tensor.empty() : tensor<1x3x2x2xf32>
  %b = linalg.broadcast ins(%g : tensor<3xf32>) outs(%e : tensor<1x3x2x2xf32>) dimensions = [0, 2, 3]
  %m = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%b, %xs : tensor<1x3x2x2xf32>, tensor<1x3x2x2xf32>) outs(%e : tensor<1x3x2x2xf32>) {
  ^bb0(%a: f32, %v: f32, %o: f32):
    %p = arith.mulf %a, %v : f32
    linalg.yield %p : f32
  } -> tensor<1x3x2x2xf32>
  %ms = myquant.stats %m {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<1x3x2x2xf32>
  %k = arith.constant dense<-3.0> : tensor<1x3x2x2xf32>
  %n = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%ms, %k : tensor<1x3x2x2xf32>, tensor<1x3x2x2xf32>) outs(%e : tensor<1x3x2x2xf32>) {
  ^bb0(%a: f32, %v: f32, %o: f32):
    %p = arith.mulf %a, %v : f32
    linalg.yield %p : f32
  } -> tensor<1x3x2x2xf32>
  %ns = myquant.stats %n {min = array<f64: -6.0>, max = array<f64: 6.0>} : tensor<1x3x2x2xf32>
  return %ns : tensor<1x3x2x2xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#hw = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
// A constant that varies along two dimensions, and a division by a zero
// constant, have no per-channel form and stay float.
// CHECK-LABEL: func.func @not_channel_scales
// CHECK-NOT: myquant.requantize %{{.*}} {{{.*}}factors
func.func @not_channel_scales(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %xs = myquant.stats %x {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<1x2x2x2xf32>
  %c = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %z = arith.constant dense<[[1.0, 0.0], [1.0, 0.0]]> : tensor<2x2xf32>
  %e = tensor.empty() : tensor<1x2x2x2xf32>
  // expected-remark@+1 {{'linalg.generic' stays in float between dequantize and quantize}}
  %m = linalg.generic {indexing_maps = [#id, #hw, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%xs, %c : tensor<1x2x2x2xf32>, tensor<2x2xf32>) outs(%e : tensor<1x2x2x2xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %p = arith.mulf %a, %b : f32
    linalg.yield %p : f32
  } -> tensor<1x2x2x2xf32>
  %ms = myquant.stats %m {min = array<f64: -8.0>, max = array<f64: 8.0>} : tensor<1x2x2x2xf32>
  // expected-remark@+1 {{'linalg.generic' stays in float between dequantize and quantize}}
  %d = linalg.generic {indexing_maps = [#id, #hw, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%ms, %z : tensor<1x2x2x2xf32>, tensor<2x2xf32>) outs(%e : tensor<1x2x2x2xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %p = arith.divf %a, %b : f32
    linalg.yield %p : f32
  } -> tensor<1x2x2x2xf32>
  return %d : tensor<1x2x2x2xf32>
}
