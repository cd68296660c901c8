// RUN: myquant-opt %s -split-input-file --myquant-verify-qparams -verify-diagnostics | FileCheck %s

// 0.5 / 0.25 = 2 = 2^30 * 2^-29: consistent.
// CHECK-LABEL: func.func @consistent
func.func @consistent(%x: tensor<4x!quant.uniform<i8:f32, 0.5>>) -> tensor<4x!quant.uniform<i8:f32, 0.25>> {
  %r = myquant.requantize %x {rescale = #myquant.rescale<multiplier = [1073741824], shift = [29], rounding = single>}
      : tensor<4x!quant.uniform<i8:f32, 0.5>> -> tensor<4x!quant.uniform<i8:f32, 0.25>>
  return %r : tensor<4x!quant.uniform<i8:f32, 0.25>>
}

// -----

// A shift off by one scales the output by 2.
func.func @wrong_shift(%x: tensor<4x!quant.uniform<i8:f32, 0.5>>) -> tensor<4x!quant.uniform<i8:f32, 0.25>> {
  // expected-error@+1 {{'rescale' entry 0 (multiplier 1073741824, shift 30) encodes 1.000000e+00 but the quantized types need 2.000000e+00}}
  %r = myquant.requantize %x {rescale = #myquant.rescale<multiplier = [1073741824], shift = [30], rounding = single>}
      : tensor<4x!quant.uniform<i8:f32, 0.5>> -> tensor<4x!quant.uniform<i8:f32, 0.25>>
  return %r : tensor<4x!quant.uniform<i8:f32, 0.25>>
}

// -----

// Per channel: channel 1 was computed for a stale weight scale.
!qx = !quant.uniform<i8:f32, 1.0>
!qw = !quant.uniform<i8:f32:1, {0.5, 0.25}>
!qy = !quant.uniform<i8:f32, 1.0>
func.func @stale_channel(%x: tensor<1x2x!qx>, %w: tensor<2x2x!qw>) -> tensor<1x2x!qy> {
  // expected-error@+1 {{'rescale' entry 1 (multiplier 1073741824, shift 31) encodes 5.000000e-01 but the quantized types need 2.500000e-01}}
  %y = myquant.matmul %x, %w {rescale = #myquant.rescale<multiplier = [1073741824, 1073741824], shift = [31, 31], rounding = single>}
      : (tensor<1x2x!qx>, tensor<2x2x!qw>) -> tensor<1x2x!qy>
  return %y : tensor<1x2x!qy>
}

// -----

!qa = !quant.uniform<i8:f32, 0.5>
!qb = !quant.uniform<i8:f32, 0.25>
!qo = !quant.uniform<i8:f32, 1.0>
// 2 * max(0.5, 0.25) = 1; lhs 0.5, rhs 0.25, sum 1 / (2^20 * 1) = 2^-20.
// CHECK-LABEL: func.func @add
func.func @add(%a: tensor<4x!qa>, %b: tensor<4x!qb>) -> tensor<4x!qo> {
  %y = myquant.add %a, %b {left_shift = 20 : i64,
      lhs_rescale = #myquant.rescale<multiplier = [1073741824], shift = [31], rounding = single>,
      rhs_rescale = #myquant.rescale<multiplier = [1073741824], shift = [32], rounding = single>,
      rescale = #myquant.rescale<multiplier = [1073741824], shift = [50], rounding = single>}
      : (tensor<4x!qa>, tensor<4x!qb>) -> tensor<4x!qo>
  return %y : tensor<4x!qo>
}
