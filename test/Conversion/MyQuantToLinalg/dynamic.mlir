// RUN: myquant-opt %s -split-input-file --convert-myquant-to-linalg | FileCheck %s
// RUN: myquant-opt %s -split-input-file --convert-myquant-to-vnni=target=avx512-vnni --convert-myquant-to-linalg | FileCheck %s

// Dynamic quantization (docs/NumericSpec.md 8): max |X| over the tensor, the
// reciprocal R = (127 * 2^k + A'/2) / A' with k = 23 + bitlength(A'), the
// runtime int8 input, the int32 dot product, and the epilogue on
// acc * A' + B in int64, rescaled in 128 bits.

!xw = !quant.uniform<i32<-2147483647:2147483647>:f32, 1.0e-6>
!yw = !quant.uniform<i32<-2147483647:2147483647>:f32, 4.0e-6>
!w = !quant.uniform<i8<-127:127>:f32:0, {0.01, 0.02}>

// CHECK-LABEL: func.func @dynamic
// CHECK:       linalg.generic {{.*}}iterator_types = ["reduction", "reduction"]
// CHECK-SAME:      ins(%{{.*}} : tensor<4x3xi32>) outs(%{{.*}} : tensor<i64>)
// CHECK:         arith.extsi %{{.*}} : i32 to i64
// CHECK:         arith.maxsi
// A', R and k, on rank-0 tensors.
// CHECK:       linalg.generic {{.*}}iterator_types = []}
// CHECK-SAME:      ins(%{{.*}} : tensor<i64>) outs(%{{.*}}, %{{.*}}, %{{.*}} : tensor<i64>, tensor<i64>, tensor<i64>)
// CHECK:       ^bb0(%[[A0:.*]]: i64, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64):
// CHECK:         %[[A:.*]] = arith.maxsi %[[A0]], %{{.*}} : i64
// CHECK:         %[[CLZ:.*]] = math.ctlz %[[A]] : i64
// CHECK:         %[[E:.*]] = arith.subi %{{.*}}, %[[CLZ]] : i64
// CHECK:         %[[K:.*]] = arith.addi %[[E]], %{{.*}} : i64
// CHECK:         %[[N:.*]] = arith.shli %{{.*}}, %[[K]] : i64
// CHECK:         %[[R:.*]] = arith.divsi %{{.*}}, %[[A]] : i64
// CHECK:         linalg.yield %[[A]], %[[R]], %[[K]] : i64, i64, i64
// The runtime int8 input.
// CHECK:       linalg.generic
// CHECK:       ^bb0(%[[X:.*]]: i32, %[[RX:.*]]: i64, %[[KX:.*]]: i64, %{{.*}}: i8):
// CHECK:         %[[XW:.*]] = arith.extsi %[[X]] : i32 to i64
// CHECK:         %[[XR:.*]] = arith.muli %[[XW]], %[[RX]] : i64
// CHECK:         arith.shrsi %{{.*}}, %[[KX]] : i64
// CHECK:         arith.constant -127 : i64
// CHECK:         arith.trunci %{{.*}} : i64 to i8
// The int32 dot product of the transposed weights.
// CHECK:       linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME:      ins(%{{.*}}, %{{.*}} : tensor<4x3xi8>, tensor<2x3xi8>) outs(%{{.*}} : tensor<4x2xi32>)
// CHECK:         arith.muli %{{.*}}, %{{.*}} : i32
// The epilogue: (acc * A' + B) * M0 in i128.
// CHECK:       ^bb0(%[[ACC:.*]]: i32, %{{.*}}: i32, %{{.*}}: i32, %[[AE:.*]]: i64, %[[B:.*]]: i64, %{{.*}}: i32):
// CHECK:         %[[AW:.*]] = arith.extsi %[[ACC]] : i32 to i64
// CHECK:         %[[AA:.*]] = arith.muli %[[AW]], %[[AE]] : i64
// CHECK:         arith.addi %[[AA]], %[[B]] : i64
// CHECK:         arith.muli %{{.*}}, %{{.*}} : i128
// CHECK:       -> tensor<4x2xi32>
func.func @dynamic(%x: tensor<4x3x!xw>, %w: tensor<2x3xi8>) -> tensor<4x2x!yw> {
  %bias = arith.constant dense<[100, -7]> : tensor<2xi64>
  %wq = quant.scast %w : tensor<2x3xi8> to tensor<2x3x!w>
  %y = myquant.dynamic_matmul %x, %wq, %bias {transpose_rhs} : (tensor<4x3x!xw>, tensor<2x3x!w>, tensor<2xi64>) -> tensor<4x2x!yw>
  return %y : tensor<4x2x!yw>
}

// -----

!xw = !quant.uniform<i32<-2147483647:2147483647>:f32, 1.0e-6>
!y8 = !quant.uniform<i8:f32, 0.05:3>
!w = !quant.uniform<i8<-127:127>:f32, 0.01>

// An 8-bit result (its consumer is not dynamic) clamps to the relu bounds.
// CHECK-LABEL: func.func @dynamic_int8_result
// CHECK:       ^bb0(%{{.*}}: i32, %{{.*}}: i32, %{{.*}}: i32, %{{.*}}: i64, %{{.*}}: i8):
// CHECK:         arith.constant 3 : i64
// CHECK:         arith.trunci %{{.*}} : i64 to i8
// CHECK:       -> tensor<1x2xi8>
func.func @dynamic_int8_result(%x: tensor<1x3x!xw>, %w: tensor<3x2xi8>) -> tensor<1x2x!y8> {
  %wq = quant.scast %w : tensor<3x2xi8> to tensor<3x2x!w>
  %y = myquant.dynamic_matmul %x, %wq {clamp = #myquant.clamp<3, 127>} : (tensor<1x3x!xw>, tensor<3x2x!w>) -> tensor<1x2x!y8>
  return %y : tensor<1x2x!y8>
}

// -----

!xw = !quant.uniform<i32<-2147483647:2147483647>:f32, 1.0e-6>
!yw = !quant.uniform<i32<-2147483647:2147483647>:f32, 4.0e-6>
!w = !quant.uniform<i8<-127:127>:f32:0, {0.01, 0.02}>

// An asymmetric input (8.2b): the uint8 input (zero-extended) times the
// weights, the weights' sums per output channel, and the runtime zero
// point's term subtracted in the epilogue: (acc - z * sum_k w) * D' + B.
// CHECK-LABEL: func.func @dynamic_asymmetric
// CHECK:       ^bb0(%[[LO:.*]]: i64, %[[HI:.*]]: i64, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64):
// CHECK:         %[[DP:.*]] = arith.maxsi %{{.*}}, %{{.*}} : i64
// CHECK:         %[[Z:.*]] = arith.minsi %{{.*}}, %{{.*}} : i64
// CHECK:       ^bb0(%[[QI:.*]]: i8, %{{.*}}: i8, %{{.*}}: i32):
// CHECK:         arith.extui %[[QI]] : i8 to i32
// CHECK:       linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]} ins(%{{.*}} : tensor<2x3xi8>) outs(%{{.*}} : tensor<2xi64>)
// CHECK:       ^bb0(%[[ACC:.*]]: i32, %{{.*}}: i32, %{{.*}}: i32, %[[DE:.*]]: i64, %{{.*}}: i64, %[[SUM:.*]]: i64, %[[ZE:.*]]: i64, %{{.*}}: i32):
// CHECK:         %[[AW:.*]] = arith.extsi %[[ACC]] : i32 to i64
// CHECK:         %[[ZS:.*]] = arith.muli %[[ZE]], %[[SUM]] : i64
// CHECK:         %[[C:.*]] = arith.subi %[[AW]], %[[ZS]] : i64
// CHECK:         arith.muli %[[C]], %[[DE]] : i64
func.func @dynamic_asymmetric(%x: tensor<4x3x!xw>, %w: tensor<2x3xi8>) -> tensor<4x2x!yw> {
  %bias = arith.constant dense<[100, -7]> : tensor<2xi64>
  %wq = quant.scast %w : tensor<2x3xi8> to tensor<2x3x!w>
  %y = myquant.dynamic_matmul %x, %wq, %bias {asymmetric, transpose_rhs} : (tensor<4x3x!xw>, tensor<2x3x!w>, tensor<2xi64>) -> tensor<4x2x!yw>
  return %y : tensor<4x2x!yw>
}

// -----

!xw = !quant.uniform<i32<-2147483647:2147483647>:f32, 1.0e-6>
!yw = !quant.uniform<i32<-2147483647:2147483647>:f32, 4.0e-6>
!w = !quant.uniform<i8<-127:127>:f32:0, {0.01, 0.02}>

// Per row (8.2c): min and max of each row (the last dimension reduced), the
// parameters D', R, k and z of each row, the uint8 input from its row's,
// and the epilogue's (acc - z[m] * sum_k w) * D'[m] + B.
// CHECK-LABEL: func.func @dynamic_per_row
// CHECK:       linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]}
// CHECK-SAME:      ins(%{{.*}} : tensor<4x3xi32>) outs(%{{.*}}, %{{.*}} : tensor<4xi64>, tensor<4xi64>)
// CHECK:       linalg.generic {{.*}}iterator_types = ["parallel"]}
// CHECK:         math.ctlz
// CHECK:         arith.divsi
// CHECK:       -> (tensor<4xi64>, tensor<4xi64>, tensor<4xi64>, tensor<4xi64>)
// CHECK:       linalg.generic {indexing_maps = [#[[ID:[a-z0-9]+]], #[[ROW:[a-z0-9]+]], #[[ROW]], #[[ROW]], #[[ID]]]
// CHECK-SAME:      ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<4x3xi32>, tensor<4xi64>, tensor<4xi64>, tensor<4xi64>)
// CHECK:       ^bb0(%[[ACC:.*]]: i32, %{{.*}}: i32, %{{.*}}: i32, %[[DP:.*]]: i64, %{{.*}}: i64, %[[SUM:.*]]: i64, %[[Z:.*]]: i64, %{{.*}}: i32):
// CHECK:         %[[AW:.*]] = arith.extsi %[[ACC]] : i32 to i64
// CHECK:         %[[ZS:.*]] = arith.muli %[[Z]], %[[SUM]] : i64
// CHECK:         %[[C:.*]] = arith.subi %[[AW]], %[[ZS]] : i64
// CHECK:         arith.muli %[[C]], %[[DP]] : i64
func.func @dynamic_per_row(%x: tensor<4x3x!xw>, %w: tensor<2x3xi8>) -> tensor<4x2x!yw> {
  %bias = arith.constant dense<[100, -7]> : tensor<2xi64>
  %wq = quant.scast %w : tensor<2x3xi8> to tensor<2x3x!w>
  %y = myquant.dynamic_matmul %x, %wq, %bias {asymmetric, per_row, transpose_rhs} : (tensor<4x3x!xw>, tensor<2x3x!w>, tensor<2xi64>) -> tensor<4x2x!yw>
  return %y : tensor<4x2x!yw>
}
