// RUN: myquant-opt %s -split-input-file -verify-diagnostics --convert-myquant-to-linalg
// RUN: myquant-opt %s -split-input-file -verify-diagnostics --convert-myquant-to-vnni=target=avx512-vnni --convert-myquant-to-linalg

!a = !quant.uniform<i8:f32, 0.1:-4>

func.func @dynamic_clamp(%x: tensor<?x4x!a>) -> tensor<?x4x!a> {
  // expected-error@+2 {{'myquant.clamp' op lowering needs static shapes}}
  // expected-error@+1 {{failed to legalize operation 'myquant.clamp'}}
  %0 = myquant.clamp %x <-4, 127> : tensor<?x4x!a>
  return %0 : tensor<?x4x!a>
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>

// A dynamic float operand is rejected as well.
func.func @dynamic_quantize(%x: tensor<?x4xf32>) -> tensor<?x4x!a> {
  // expected-error@+2 {{'myquant.quantize' op lowering needs static shapes}}
  // expected-error@+1 {{failed to legalize operation 'myquant.quantize'}}
  %0 = myquant.quantize %x : tensor<?x4xf32> -> tensor<?x4x!a>
  return %0 : tensor<?x4x!a>
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!y = !quant.uniform<i8:f32, 0.2:3>
!w = !quant.uniform<i8<-127:127>:f32, 0.01>

func.func @dynamic_matmul(%x: tensor<?x4x!a>, %w: tensor<4x3x!w>) -> tensor<?x3x!y> {
  // expected-error@+2 {{'myquant.matmul' op lowering needs static shapes}}
  // expected-error@+1 {{failed to legalize operation 'myquant.matmul'}}
  %0 = myquant.matmul %x, %w : (tensor<?x4x!a>, tensor<4x3x!w>) -> tensor<?x3x!y>
  return %0 : tensor<?x3x!y>
}

// -----

!big = !quant.uniform<i8:f32, 1.0e10>
!small = !quant.uniform<i8:f32, 1.0e-10>

// 1e10 / 1e-10 = 1e20 is not below 2^31, and there is no precomputed rescale.
func.func @requantize_no_fixed_point(%x: tensor<4x!big>) -> tensor<4x!small> {
  // expected-error@+2 {{'myquant.requantize' op real multiplier 1.000000e+20 has no fixed-point form (it must be in (0, 2^31))}}
  // expected-error@+1 {{failed to legalize operation 'myquant.requantize'}}
  %0 = myquant.requantize %x : tensor<4x!big> -> tensor<4x!small>
  return %0 : tensor<4x!small>
}

// -----

!big = !quant.uniform<i8:f32, 1.0e5>
!small = !quant.uniform<i8:f32, 1.0e-5>

// mul: 1e5 * 1e5 / 1e-5 = 1e15.
func.func @mul_no_fixed_point(%a: tensor<4x!big>, %b: tensor<4x!big>) -> tensor<4x!small> {
  // expected-error@+2 {{has no fixed-point form}}
  // expected-error@+1 {{failed to legalize operation 'myquant.mul'}}
  %0 = myquant.mul %a, %b : (tensor<4x!big>, tensor<4x!big>) -> tensor<4x!small>
  return %0 : tensor<4x!small>
}

// -----

!big = !quant.uniform<i8:f32, 1.0e10>
!small = !quant.uniform<i8:f32, 1.0e-10>

// A precomputed rescale is used as it is: no error.
func.func @requantize_precomputed(%x: tensor<4x!big>) -> tensor<4x!small> {
  %0 = myquant.requantize %x {rescale = #myquant.rescale<multiplier = [1073741824], shift = [30], rounding = single>}
      : tensor<4x!big> -> tensor<4x!small>
  return %0 : tensor<4x!small>
}

// -----

// Constant weights are expanded at compile time: 3 x 2^32 of them are
// rejected (the VNNI kernels leave them to this lowering).
!a = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<i8:f32, 0.2:3>
func.func @matmul_huge_weights(%a: tensor<2x3x!a>) -> tensor<2x4294967296x!y> {
  %wi = arith.constant dense<1> : tensor<3x4294967296xi8>
  %w = quant.scast %wi : tensor<3x4294967296xi8> to tensor<3x4294967296x!w>
  // expected-error@+2 {{'myquant.matmul' op has weights of 12884901888 elements; supported: 1 to 2^30 (weights are expanded at compile time)}}
  // expected-error@+1 {{failed to legalize operation 'myquant.matmul'}}
  %0 = myquant.matmul %a, %w : (tensor<2x3x!a>, tensor<3x4294967296x!w>) -> tensor<2x4294967296x!y>
  return %0 : tensor<2x4294967296x!y>
}
