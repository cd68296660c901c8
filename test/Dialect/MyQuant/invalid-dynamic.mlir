// RUN: myquant-opt %s -split-input-file -verify-diagnostics

// Verifier diagnostics of myquant.dynamic_matmul (docs/NumericSpec.md 8).

!x8 = !quant.uniform<i8:f32, 0.1:3>
!y = !quant.uniform<i32<-2147483647:2147483647>:f32, 1.0e-6>
!w = !quant.uniform<i8<-127:127>:f32, 0.05>
func.func @int8_lhs(%x: tensor<1x4x!x8>, %w: tensor<4x2x!w>) -> tensor<1x2x!y> {
  // expected-error@+1 {{'myquant.dynamic_matmul' op lhs must be a wide value (32-bit storage, zero point 0), got 8-bit storage and zero point 3}}
  %0 = myquant.dynamic_matmul %x, %w : (tensor<1x4x!x8>, tensor<4x2x!w>) -> tensor<1x2x!y>
  return %0 : tensor<1x2x!y>
}

// -----

!x = !quant.uniform<i32:f32, 1.0e-6>
!y = !quant.uniform<i32<-2147483647:2147483647>:f32, 1.0e-6>
!w = !quant.uniform<i8<-127:127>:f32, 0.05>
func.func @full_range_lhs(%x: tensor<1x4x!x>, %w: tensor<4x2x!w>) -> tensor<1x2x!y> {
  // expected-error@+1 {{'myquant.dynamic_matmul' op lhs storage minimum is -2147483648; wide values stop at -2147483647 so that |lhs| fits int32}}
  %0 = myquant.dynamic_matmul %x, %w : (tensor<1x4x!x>, tensor<4x2x!w>) -> tensor<1x2x!y>
  return %0 : tensor<1x2x!y>
}

// -----

!x = !quant.uniform<i32<-2147483647:2147483647>:f32, 1.0e-6>
!w = !quant.uniform<i8:f32, 0.05>
func.func @full_range_weights(%x: tensor<1x4x!x>, %w: tensor<4x2x!w>) -> tensor<1x2x!x> {
  // expected-error@+1 {{'myquant.dynamic_matmul' op rhs must be symmetric int8 weights in [-127, 127] with zero point 0, got 8-bit storage from -128}}
  %0 = myquant.dynamic_matmul %x, %w : (tensor<1x4x!x>, tensor<4x2x!w>) -> tensor<1x2x!x>
  return %0 : tensor<1x2x!x>
}

// -----

!x = !quant.uniform<i32<-2147483647:2147483647>:f32, 1.0e-6>
!w = !quant.uniform<i8<-127:127>:f32, 0.05>
func.func @k_mismatch(%x: tensor<1x4x!x>, %w: tensor<5x2x!w>) -> tensor<1x2x!x> {
  // expected-error@+1 {{'myquant.dynamic_matmul' op lhs has K = 4 but rhs has K = 5}}
  %0 = myquant.dynamic_matmul %x, %w : (tensor<1x4x!x>, tensor<5x2x!w>) -> tensor<1x2x!x>
  return %0 : tensor<1x2x!x>
}

// -----

!x = !quant.uniform<i32<-2147483647:2147483647>:f32, 1.0e-6>
!w = !quant.uniform<i8<-127:127>:f32, 0.05>
func.func @bias_size(%x: tensor<1x4x!x>, %w: tensor<4x2x!w>, %b: tensor<3xi64>) -> tensor<1x2x!x> {
  // expected-error@+1 {{'myquant.dynamic_matmul' op bias must have N = 2 entries, got type 'tensor<3xi64>'}}
  %0 = myquant.dynamic_matmul %x, %w, %b : (tensor<1x4x!x>, tensor<4x2x!w>, tensor<3xi64>) -> tensor<1x2x!x>
  return %0 : tensor<1x2x!x>
}

// -----

!x = !quant.uniform<i32<-2147483647:2147483647>:f32, 1.0e-6>
!w = !quant.uniform<i8<-127:127>:f32, 0.05>
func.func @gemmlowp(%x: tensor<1x4x!x>, %w: tensor<4x2x!w>) -> tensor<1x2x!x> {
  // expected-error@+1 {{'myquant.dynamic_matmul' op rescale must round 'single' (the int64 accumulator of docs/NumericSpec.md 8.3)}}
  %0 = myquant.dynamic_matmul %x, %w {rescale = #myquant.rescale<multiplier = [1073741824], shift = [40], rounding = gemmlowp>} : (tensor<1x4x!x>, tensor<4x2x!w>) -> tensor<1x2x!x>
  return %0 : tensor<1x2x!x>
}
