// RUN: myquant-opt %s --convert-myquant-to-linalg | FileCheck %s
// RUN: myquant-run %s --function=run | FileCheck %s --check-prefix=OUT

// A layer normalization with a 16-bit input (docs/NumericSpec.md 6.4): the
// sum of squares is shifted right by 8 instead of left (it reaches C^3 *
// 2^30), and u = (d * rho + 2^(48-k)) >> (49 - k).

!x16 = !quant.uniform<i16<-32767:32767>:f32, 1.0e-4>
!y8 = !quant.uniform<i8:f32, 0.02:-2>

// CHECK-LABEL: func.func @layer_norm_i16
// CHECK:       arith.extsi %{{.*}} : i16 to i64
// CHECK:       %[[EIGHT:.*]] = arith.constant 8 : i64
// CHECK:       %[[D:.*]] = arith.shrsi %{{.*}}, %[[EIGHT]] : i64
// CHECK:       %[[EPS:.*]] = arith.constant 250 : i64
// CHECK:       arith.addi %[[D]], %[[EPS]] : i64
// CHECK:       math.ctlz
// CHECK:       arith.constant 49 : i64
// CHECK:       -> tensor<2x4xi8>
func.func @layer_norm_i16(%x: tensor<2x4x!x16>) -> tensor<2x4x!y8> {
  %y = myquant.layer_norm %x {gamma = array<i64: 25600, 12800, -25600, 51200>,
      beta = array<i64: 0, 209715200, -419430400, 104857600>, epsilon = 250}
      : tensor<2x4x!x16> -> tensor<2x4x!y8>
  return %y : tensor<2x4x!y8>
}

// gamma [1, 0.5, -1, 2], beta [0, 0.25, -0.5, 0.125], eps 1e-5, scales
// 1e-4 -> 0.02: E = 2^-8 * 64 * 1e-5 / 1e-8 = 250. The expected integers
// are python/myquant/testing/reference.py's layer_norm(..., input_bits=16):
// [[-31, -4, 1, 127], [-10, 13, -28, 10]]. Float: [-0.5775, -0.0506, 0.0588,
// 2.9999 (saturates)], [-0.165, 0.293, -0.524, 0.235]: the second row's
// deviations (a few 1e-4) are below one int8 step of this range.
// OUT:      -0.58, -0.04, 0.06, 2.58
// OUT-NEXT: -0.16, 0.3, -0.52, 0.24
func.func @run() -> tensor<2x4xf32> {
  %c = arith.constant dense<[[100, -200, 300, 32767], [-5, 3, 1, 2]]> : tensor<2x4xi16>
  %x = quant.scast %c : tensor<2x4xi16> to tensor<2x4x!x16>
  %y = call @layer_norm_i16(%x) : (tensor<2x4x!x16>) -> tensor<2x4x!y8>
  %f = myquant.dequantize %y : tensor<2x4x!y8> -> tensor<2x4xf32>
  return %f : tensor<2x4xf32>
}
