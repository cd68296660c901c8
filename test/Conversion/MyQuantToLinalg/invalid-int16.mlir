// RUN: myquant-opt %s -split-input-file -verify-diagnostics --convert-myquant-to-linalg

// 16-bit activations (docs/NumericSpec.md 6): what has no 16-bit form is
// rejected with the numbers.

!x16 = !quant.uniform<i16<-32767:32767>:f32, 1.0e-4>
!y16 = !quant.uniform<i16<-32767:32767>:f32, 2.0e-4>
!w = !quant.uniform<i8<-127:127>:f32:1, {0.01, 0.02}>

// The int64 accumulator of a 16-bit input is rescaled with single rounding.
func.func @gemmlowp_on_int64(%x: tensor<4x3x!x16>, %w: tensor<3x2xi8>) -> tensor<4x2x!y16> {
  %wq = quant.scast %w : tensor<3x2xi8> to tensor<3x2x!w>
  // expected-error@+2 {{failed to legalize operation 'myquant.matmul'}}
  // expected-error@+1 {{'myquant.matmul' op has a 16-bit input, whose int64 accumulator is rescaled with rounding = single only (gemmlowp is defined on int32)}}
  %y = myquant.matmul %x, %wq {rescale = #myquant.rescale<multiplier = [1073741824, 1073741824], shift = [40, 39], rounding = gemmlowp>}
      : (tensor<4x3x!x16>, tensor<3x2x!w>) -> tensor<4x2x!y16>
  return %y : tensor<4x2x!y16>
}

// -----

!x16 = !quant.uniform<i16<-32767:32767>:f32, 1.0e-4>
!x8 = !quant.uniform<i8:f32, 0.05:3>

// add's operands shifted by 2^20 must stay in int32: a 16-bit operand takes
// left_shift = 15.
func.func @add_left_shift(%a: tensor<4x!x16>, %b: tensor<4x!x8>) -> tensor<4x!x16> {
  // expected-error@+1 {{'myquant.add' op operand #0 minus its zero point reaches 32767, which shifted left by 20 is 34358689792, beyond int32 (16-bit operands take 15)}}
  %y = myquant.add %a, %b {left_shift = 20 : i64,
      lhs_rescale = #myquant.rescale<multiplier = [1073741824], shift = [31], rounding = single>,
      rhs_rescale = #myquant.rescale<multiplier = [1073741824], shift = [31], rounding = single>,
      rescale = #myquant.rescale<multiplier = [1073741824], shift = [31], rounding = single>}
      : (tensor<4x!x16>, tensor<4x!x8>) -> tensor<4x!x16>
  return %y : tensor<4x!x16>
}

// -----

!x16 = !quant.uniform<i16<-32767:32767>:f32, 1.0e-4>

// A 16-bit input's table has 513 entries (an 8-bit one's 256).
func.func @table_i16(%a: tensor<4x!x16>) -> tensor<4x!x16> {
  // expected-error@+1 {{'myquant.table' op table has 1 entries; the input's storage range needs 513}}
  %y = myquant.table %a {values = array<i32: 0>} : tensor<4x!x16> -> tensor<4x!x16>
  return %y : tensor<4x!x16>
}
