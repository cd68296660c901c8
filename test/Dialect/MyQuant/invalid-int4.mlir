// RUN: myquant-opt %s -split-input-file -verify-diagnostics

// Verifier diagnostics of 4-bit weights per group of K
// (docs/NumericSpec.md 7.2).

!x = !quant.uniform<i8:f32, 0.1>
!y = !quant.uniform<i8:f32, 0.5>
!w = !quant.uniform<i4<-7:7>:f32:{1:1, 0:4}, {{1.0, 1.0}, {0.5, 1.0}}>
func.func @k_not_multiple(%x: tensor<1x6x!x>, %w: tensor<6x2x!w>) -> tensor<1x2x!y> {
  // expected-error@+1 {{'myquant.matmul' op rhs has K = 6, not a multiple of the group size 4}}
  %0 = myquant.matmul %x, %w : (tensor<1x6x!x>, tensor<6x2x!w>) -> tensor<1x2x!y>
  return %0 : tensor<1x2x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1>
!y = !quant.uniform<i8:f32, 0.5>
!w = !quant.uniform<i4<-7:7>:f32:{1:1, 0:4}, {{1.0, 1.0}, {0.5, 1.0}}>
func.func @group_count(%x: tensor<1x12x!x>, %w: tensor<12x2x!w>) -> tensor<1x2x!y> {
  // expected-error@+1 {{'myquant.matmul' op rhs has 2 x 2 group scales; its shape needs 2 x 3}}
  %0 = myquant.matmul %x, %w : (tensor<1x12x!x>, tensor<12x2x!w>) -> tensor<1x2x!y>
  return %0 : tensor<1x2x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1>
!y = !quant.uniform<i8:f32, 0.5>
// 0.3 is 76.8 / 256 of the channel's largest scale 1.0.
!w = !quant.uniform<i4<-7:7>:f32:{1:1, 0:4}, {{1.0, 1.0}, {0.3, 1.0}}>
func.func @not_a_multiple_of_the_unit(%x: tensor<1x8x!x>, %w: tensor<8x2x!w>) -> tensor<1x2x!y> {
  // expected-error@+1 {{'myquant.matmul' op rhs channel 0 group 1: scale / (the channel's largest / 256) is 7.680000e+01; it must be an integer from 1 to 256}}
  %0 = myquant.matmul %x, %w : (tensor<1x8x!x>, tensor<8x2x!w>) -> tensor<1x2x!y>
  return %0 : tensor<1x2x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1>
!y = !quant.uniform<i8:f32, 0.5>
// 2^-9 is half of the unit 1 / 256: m = 0.5 rounds to 0.
!w = !quant.uniform<i4<-7:7>:f32:{1:1, 0:4}, {{1.0, 1.0}, {0.001953125, 1.0}}>
func.func @multiplier_zero(%x: tensor<1x8x!x>, %w: tensor<8x2x!w>) -> tensor<1x2x!y> {
  // expected-error@+1 {{'myquant.matmul' op rhs channel 0 group 1: scale / (the channel's largest / 256) is 5.000000e-01}}
  %0 = myquant.matmul %x, %w : (tensor<1x8x!x>, tensor<8x2x!w>) -> tensor<1x2x!y>
  return %0 : tensor<1x2x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1>
!y = !quant.uniform<i8:f32, 0.5>
// Groups along N (dimension 1) of a [K, N] rhs.
!w = !quant.uniform<i4<-7:7>:f32:{0:1, 1:2}, {{1.0}, {1.0}, {1.0}, {1.0}}>
func.func @groups_along_n(%x: tensor<1x4x!x>, %w: tensor<4x2x!w>) -> tensor<1x2x!y> {
  // expected-error@+1 {{'myquant.matmul' op rhs is quantized in groups along dimension 1; they must cut its K dimension 0}}
  %0 = myquant.matmul %x, %w : (tensor<1x4x!x>, tensor<4x2x!w>) -> tensor<1x2x!y>
  return %0 : tensor<1x2x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1>
!y = !quant.uniform<i8:f32, 0.5>
!w = !quant.uniform<i4<-7:7>:f32:{0:1, 1:2}, {{1.0, 1.0}, {1.0, 1.0}}>
func.func @conv_groups(%x: tensor<1x4x3x3x!x>, %w: tensor<2x4x1x1x!w>) -> tensor<1x2x3x3x!y> {
  // expected-error@+1 {{'myquant.conv2d' op filter is quantized per group; only a 2-D matmul rhs can be}}
  %0 = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>,
      dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x4x3x3x!x>, tensor<2x4x1x1x!w>) -> tensor<1x2x3x3x!y>
  return %0 : tensor<1x2x3x3x!y>
}

// -----

!w = !quant.uniform<i4<-7:7>:f32:{1:1, 0:4}, {{1.0, 1.0}}>
func.func @quantize_groups(%x: tensor<4x2xf32>) -> tensor<4x2x!w> {
  // expected-error@+1 {{'myquant.quantize' op cannot quantize per group at run time; weights quantized per group are constants}}
  %0 = myquant.quantize %x : tensor<4x2xf32> -> tensor<4x2x!w>
  return %0 : tensor<4x2x!w>
}
