// RUN: myquant-opt %s --convert-myquant-to-linalg | FileCheck %s
// RUN: myquant-run %s --function=run_result | FileCheck %s --check-prefix=RESULT
// RUN: myquant-run %s --function=run_operand | FileCheck %s --check-prefix=OPERAND

// An add that writes or reads a per-channel value (docs/NumericSpec.md
// 6.6: scales 0.01 * 2^[0, 0, 3, 1] along the last dimension, zero point
// 3): the rescale of that value has one multiplier per channel, read along
// the last dimension, and the add takes its 64-bit form.

!pc = !quant.uniform<i8:f32:1, {0.01:3, 0.01:3, 0.08:3, 0.02:3}>
!a = !quant.uniform<i8:f32, 0.05:-10>
!b = !quant.uniform<i8:f32, 0.04:7>
!o = !quant.uniform<i8:f32, 0.07:5>

// CHECK-LABEL: func.func @add_to_per_channel
// CHECK-DAG:   %[[M:.*]] = arith.constant dense<1342177280> : tensor<4xi32>
// CHECK-DAG:   %[[S:.*]] = arith.constant dense<[47, 47, 50, 48]> : tensor<4xi32>
// CHECK:       linalg.generic
// CHECK-SAME:    ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[M]], %[[S]] : tensor<2x4xi8>, tensor<2x4xi8>, tensor<4xi32>, tensor<4xi32>, tensor<4xi32>, tensor<4xi32>, tensor<4xi32>, tensor<4xi32>)
// CHECK:       arith.extsi %{{.*}} : i8 to i64
// CHECK:       -> tensor<2x4xi8>
func.func @add_to_per_channel(%x: tensor<2x4x!a>, %y: tensor<2x4x!b>) -> tensor<2x4x!pc> {
  %z = myquant.add %x, %y : (tensor<2x4x!a>, tensor<2x4x!b>) -> tensor<2x4x!pc>
  return %z : tensor<2x4x!pc>
}

// CHECK-LABEL: func.func @add_of_per_channel
// CHECK-DAG:   %[[M:.*]] = arith.constant dense<1073741824> : tensor<4xi32>
// CHECK-DAG:   %[[S:.*]] = arith.constant dense<[34, 34, 31, 33]> : tensor<4xi32>
// CHECK:       linalg.generic
// CHECK-SAME:    ins(%{{.*}}, %{{.*}}, %[[M]], %[[S]],
func.func @add_of_per_channel(%x: tensor<2x4x!pc>, %y: tensor<2x4x!b>) -> tensor<2x4x!o> {
  %z = myquant.add %x, %y : (tensor<2x4x!pc>, tensor<2x4x!b>) -> tensor<2x4x!o>
  return %z : tensor<2x4x!o>
}

// The expected integers are python/myquant/testing/reference.py's add with
// add_rescales(0.05, 0.04, [0.01, 0.01, 0.08, 0.02]) (result zero point 3):
// [[79, -67, 70, 127], [-128, 127, -26, 127]]; the float sums are
// [[0.76, -0.7, 5.34, 6.73], [-8.18, 2.77, -2.33, 5.42]] (the per-channel
// result saturates where a channel's range is exceeded).
// RESULT:      0.76, -0.7, 5.36, 2.48
// RESULT-NEXT: -1.31, 1.24, -2.32, 2.48
func.func @run_result() -> tensor<2x4xf32> {
  %cx = arith.constant dense<[[10, -20, 100, 127], [-128, 3, 5, 40]]> : tensor<2x4xi8>
  %cy = arith.constant dense<[[1, 2, 3, 4], [-50, 60, -70, 80]]> : tensor<2x4xi8>
  %x = quant.scast %cx : tensor<2x4xi8> to tensor<2x4x!a>
  %y = quant.scast %cy : tensor<2x4xi8> to tensor<2x4x!b>
  %z = call @add_to_per_channel(%x, %y) : (tensor<2x4x!a>, tensor<2x4x!b>) -> tensor<2x4x!pc>
  %f = myquant.dequantize %z : tensor<2x4x!pc> -> tensor<2x4xf32>
  return %f : tensor<2x4xf32>
}

// add_rescales([0.01, 0.01, 0.08, 0.02], 0.04, 0.07): [[3, -1, 114, 39],
// [-46, 35, -37, 57]]; float [[-0.17, -0.43, 7.6, 2.36], [-3.59, 2.12,
// -2.92, 3.66]].
// OPERAND:      -0.14, -0.42, 7.63, 2.38
// OPERAND-NEXT: -3.57, 2.1, -2.94, 3.64
func.func @run_operand() -> tensor<2x4xf32> {
  %cx = arith.constant dense<[[10, -20, 100, 127], [-128, 3, 5, 40]]> : tensor<2x4xi8>
  %cy = arith.constant dense<[[1, 2, 3, 4], [-50, 60, -70, 80]]> : tensor<2x4xi8>
  %x = quant.scast %cx : tensor<2x4xi8> to tensor<2x4x!pc>
  %y = quant.scast %cy : tensor<2x4xi8> to tensor<2x4x!b>
  %z = call @add_of_per_channel(%x, %y) : (tensor<2x4x!pc>, tensor<2x4x!b>) -> tensor<2x4x!o>
  %f = myquant.dequantize %z : tensor<2x4x!o> -> tensor<2x4xf32>
  return %f : tensor<2x4xf32>
}
