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

// -----

// A softmax's table is the one of its input scale 0.1: round(2^16 e^(-0.1 d)).
// CHECK-LABEL: func.func @softmax_table
func.func @softmax_table(%x: tensor<2x4x!quant.uniform<i8:f32, 0.1:-4>>) -> tensor<2x4x!quant.uniform<i8:f32, 0.00390625:-128>> {
  %0 = myquant.softmax %x {exp_table = array<i32: 65536, 59299, 53656, 48550, 43930, 39750, 35967, 32544, 29447, 26645, 24109, 21815, 19739, 17861, 16161, 14623, 13231, 11972, 10833, 9802, 8869, 8025, 7262, 6571, 5945, 5380, 4868, 4404, 3985, 3606, 3263, 2952, 2671, 2417, 2187, 1979, 1791, 1620, 1466, 1327, 1200, 1086, 983, 889, 805, 728, 659, 596, 539, 488, 442, 400, 362, 327, 296, 268, 242, 219, 198, 180, 162, 147, 133, 120, 109, 99, 89, 81, 73, 66, 60, 54, 49, 44, 40, 36, 33, 30, 27, 24, 22, 20, 18, 16, 15, 13, 12, 11, 10, 9, 8, 7, 7, 6, 5, 5, 4, 4, 4, 3, 3, 3, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0>} : tensor<2x4x!quant.uniform<i8:f32, 0.1:-4>> -> tensor<2x4x!quant.uniform<i8:f32, 0.00390625:-128>>
  return %0 : tensor<2x4x!quant.uniform<i8:f32, 0.00390625:-128>>
}

// -----

func.func @stale_softmax_table(%x: tensor<2x4x!quant.uniform<i8:f32, 0.1:-4>>) -> tensor<2x4x!quant.uniform<i8:f32, 0.00390625:-128>> {
  // expected-error@+1 {{exp_table entry 2 is 53657 but input scale 1.000000e-01 needs 53656}}
  %0 = myquant.softmax %x {exp_table = array<i32: 65536, 59299, 53657, 48550, 43930, 39750, 35967, 32544, 29447, 26645, 24109, 21815, 19739, 17861, 16161, 14623, 13231, 11972, 10833, 9802, 8869, 8025, 7262, 6571, 5945, 5380, 4868, 4404, 3985, 3606, 3263, 2952, 2671, 2417, 2187, 1979, 1791, 1620, 1466, 1327, 1200, 1086, 983, 889, 805, 728, 659, 596, 539, 488, 442, 400, 362, 327, 296, 268, 242, 219, 198, 180, 162, 147, 133, 120, 109, 99, 89, 81, 73, 66, 60, 54, 49, 44, 40, 36, 33, 30, 27, 24, 22, 20, 18, 16, 15, 13, 12, 11, 10, 9, 8, 7, 7, 6, 5, 5, 4, 4, 4, 3, 3, 3, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0>} : tensor<2x4x!quant.uniform<i8:f32, 0.1:-4>> -> tensor<2x4x!quant.uniform<i8:f32, 0.00390625:-128>>
  return %0 : tensor<2x4x!quant.uniform<i8:f32, 0.00390625:-128>>
}

// -----

// A 16-bit input's exp_rescale is its scale times log2(e) (docs/NumericSpec.md
// 6.4): 1e-3 * 1.4426950408889634 = 1586259973 * 2^-40.
// CHECK-LABEL: func.func @softmax_exp_rescale
func.func @softmax_exp_rescale(%x: tensor<2x4x!quant.uniform<i16<-32767:32767>:f32, 1.0e-3>>) -> tensor<2x4x!quant.uniform<i8:f32, 0.00390625:-128>> {
  %0 = myquant.softmax %x {exp_rescale = #myquant.rescale<multiplier = [1586259973], shift = [40], rounding = single>} : tensor<2x4x!quant.uniform<i16<-32767:32767>:f32, 1.0e-3>> -> tensor<2x4x!quant.uniform<i8:f32, 0.00390625:-128>>
  return %0 : tensor<2x4x!quant.uniform<i8:f32, 0.00390625:-128>>
}

// -----

func.func @stale_softmax_exp_rescale(%x: tensor<2x4x!quant.uniform<i16<-32767:32767>:f32, 2.0e-3>>) -> tensor<2x4x!quant.uniform<i8:f32, 0.00390625:-128>> {
  // expected-error@+1 {{'exp_rescale' entry 0 (multiplier 1586259973, shift 40) encodes}}
  %0 = myquant.softmax %x {exp_rescale = #myquant.rescale<multiplier = [1586259973], shift = [40], rounding = single>} : tensor<2x4x!quant.uniform<i16<-32767:32767>:f32, 2.0e-3>> -> tensor<2x4x!quant.uniform<i8:f32, 0.00390625:-128>>
  return %0 : tensor<2x4x!quant.uniform<i8:f32, 0.00390625:-128>>
}
