// RUN: myquant-opt %s -split-input-file "--myquant-propagate-qparams=activation-bits=16 int16-range-headroom=1" --myquant-quantize -verify-diagnostics | FileCheck %s
// RUN: myquant-opt %s -split-input-file "--myquant-propagate-qparams=layer-precision=se.mul:w8a16 int16-range-headroom=1" --myquant-quantize -verify-diagnostics | FileCheck %s
// The 16-bit scales checked below are the calibrated ranges' own
// (int16-range-headroom=1; the default headroom doubles them,
// docs/NumericSpec.md 6.1, propagate-qparams-int16.mlir).

// mul in the 16x8 mode (docs/NumericSpec.md 3.3, 6.4, 6.5): mul has a
// 16-bit form, so with activation-bits=16 its operands and result get 16
// bits like any other value, and layer-precision may select it. Expected
// rescales: reference.mul_rescale(sa, sb, so).

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#se = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, 0)>
// A squeeze-excite scale: x in [-2, 2] -> 2 / 32767, the scale in [0, 1] ->
// 1 / 32767, the result in [-2, 2] -> 2 / 32767; M = 1 / 32767 ->
// (1073774593, 45).
// CHECK-LABEL: func.func @squeeze_excite_mul
// CHECK:       myquant.mul %{{.*}}, %{{.*}} {rescale = #myquant.rescale<multiplier = [1073774593], shift = [45], rounding = single>}
// CHECK-SAME:  (tensor<1x4x3x3x!quant.uniform<i16<-32767:32767>:f32, 6.1037018951994385E-5>>, tensor<1x4x1x1x!quant.uniform<i16<-32767:32767>:f32, 3.0518509475997192E-5>>) -> tensor<1x4x3x3x!quant.uniform<i16<-32767:32767>:f32, 6.1037018951994385E-5>>
// CHECK-NOT:   linalg.generic
func.func @squeeze_excite_mul(%x: tensor<1x4x3x3xf32>, %s: tensor<1x4x1x1xf32>) -> tensor<1x4x3x3xf32> {
  %xs = myquant.stats %x {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<1x4x3x3xf32>
  %ss = myquant.stats %s {min = array<f64: 0.0>, max = array<f64: 1.0>} : tensor<1x4x1x1xf32>
  %e = tensor.empty() : tensor<1x4x3x3xf32>
  %m = linalg.generic {indexing_maps = [#id, #se, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%xs, %ss : tensor<1x4x3x3xf32>, tensor<1x4x1x1xf32>) outs(%e : tensor<1x4x3x3xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %p = arith.mulf %a, %b : f32
    linalg.yield %p : f32
  } -> tensor<1x4x3x3xf32> loc("se.mul")
  %ms = myquant.stats %m {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<1x4x3x3xf32>
  return %ms : tensor<1x4x3x3xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
// A softmax (8-bit only) writes one operand: it keeps the softmax's fixed
// (1/256, -128), the other operand and the result have 16 bits; M = (2 /
// 32767) (1 / 256) / (2 / 32767) = 2^-8 -> (2^30, 38).
// CHECK-LABEL: func.func @mul_of_softmax
// CHECK:       myquant.mul %{{.*}}, %{{.*}} {rescale = #myquant.rescale<multiplier = [1073741824], shift = [38], rounding = single>}
// CHECK-SAME:  (tensor<2x8x!quant.uniform<i16<-32767:32767>:f32, 6.1037018951994385E-5>>, tensor<2x8x!quant.uniform<i8:f32, 3.906250e-03:-128>>) -> tensor<2x8x!quant.uniform<i16<-32767:32767>:f32, 6.1037018951994385E-5>>
func.func @mul_of_softmax(%x: tensor<2x8xf32>, %t: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %xs = myquant.stats %x {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<2x8xf32>
  %ts = myquant.stats %t {min = array<f64: -4.0>, max = array<f64: 4.0>} : tensor<2x8xf32>
  %e = tensor.empty() : tensor<2x8xf32>
  // expected-remark@+1 {{'linalg.softmax' has no 16-bit form: the values it reads and writes keep 8-bit activations}}
  %s = linalg.softmax dimension(1) ins(%ts : tensor<2x8xf32>) outs(%e : tensor<2x8xf32>) -> tensor<2x8xf32>
  %ss = myquant.stats %s {min = array<f64: 0.0>, max = array<f64: 1.0>} : tensor<2x8xf32>
  %m = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%xs, %ss : tensor<2x8xf32>, tensor<2x8xf32>) outs(%e : tensor<2x8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %p = arith.mulf %a, %b : f32
    linalg.yield %p : f32
  } -> tensor<2x8xf32> loc("se.mul")
  %ms = myquant.stats %m {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<2x8xf32>
  return %ms : tensor<2x8xf32>
}
