// RUN: myquant-opt %s --convert-myquant-to-linalg | FileCheck %s
// RUN: myquant-run %s --function=run | FileCheck %s --check-prefix=OUT

// A layer normalization with a per-channel input (docs/NumericSpec.md 6.6):
// channel c has scale 0.01 * 2^input_shifts[c] and zero point 3; each
// element is first read as (x - 3) << input_shifts[c], in units of 0.01,
// and the row is then normalized as a 16-bit input's (sum of squares
// shifted right by 8, u by 49 - k).

!xc = !quant.uniform<i8:f32:1, {0.01:3, 0.01:3, 0.08:3, 0.02:3}>
!y8 = !quant.uniform<i8:f32, 0.02:-2>

// CHECK-LABEL: func.func @layer_norm_per_channel
// CHECK:       %[[SHIFTS:.*]] = arith.constant dense<[0, 0, 3, 1]> : tensor<4xi64>
// CHECK:       linalg.generic
// CHECK-SAME:    ins(%{{.*}}, %[[SHIFTS]] : tensor<2x4xi8>, tensor<4xi64>)
// CHECK:       %[[X:.*]] = arith.extsi %{{.*}} : i8 to i64
// CHECK:       %[[ZP:.*]] = arith.constant 3 : i64
// CHECK:       %[[C:.*]] = arith.subi %[[X]], %[[ZP]] : i64
// CHECK:       arith.shli %[[C]], %{{.*}} : i64
// CHECK:       -> tensor<2x4xi64>
// CHECK:       %[[EIGHT:.*]] = arith.constant 8 : i64
// CHECK:       arith.shrsi %{{.*}}, %[[EIGHT]] : i64
// CHECK:       math.ctlz
// CHECK:       arith.constant 49 : i64
// CHECK:       -> tensor<2x4xi8>
func.func @layer_norm_per_channel(%x: tensor<2x4x!xc>) -> tensor<2x4x!y8> {
  %y = myquant.layer_norm %x {gamma = array<i64: 25600, 12800, -25600, 51200>,
      beta = array<i64: 0, 209715200, -419430400, 104857600>, epsilon = 0,
      input_shifts = array<i64: 0, 0, 3, 1>}
      : tensor<2x4x!xc> -> tensor<2x4x!y8>
  return %y : tensor<2x4x!y8>
}

// gamma [1, 0.5, -1, 2], beta [0, 0.25, -0.5, 0.125], eps 1e-5 (E = 0).
// The expected integers are python/myquant/testing/reference.py's
// layer_norm(..., input_shifts=[0, 0, 3, 1], zi=3): [[-40, -11, -109, 3],
// [-83, 14, -45, 117]]. Float of the dequantized input: [-0.765, -0.179,
// -2.136, 0.1], [-1.611, 0.318, -0.85, 2.373].
// OUT:      -0.76, -0.18, -2.14, 0.1
// OUT-NEXT: -1.62, 0.32, -0.86, 2.38
func.func @run() -> tensor<2x4xf32> {
  %c = arith.constant dense<[[10, -20, 100, 127], [-128, 3, 5, 40]]> : tensor<2x4xi8>
  %x = quant.scast %c : tensor<2x4xi8> to tensor<2x4x!xc>
  %y = call @layer_norm_per_channel(%x) : (tensor<2x4x!xc>) -> tensor<2x4x!y8>
  %f = myquant.dequantize %y : tensor<2x4x!y8> -> tensor<2x4xf32>
  return %f : tensor<2x4xf32>
}
