// RUN: myquant-opt %s -split-input-file --convert-myquant-to-linalg | FileCheck %s
// RUN: myquant-opt %s -split-input-file --convert-myquant-to-vnni=target=avx512-vnni --convert-myquant-to-linalg | FileCheck %s

// 16-bit activations (docs/NumericSpec.md 6.3): a 16-bit input accumulates
// in int64 and the int64 accumulator is rescaled exactly in 128 bits; the
// VNNI kernels leave such ops, whose weights are no constants, to the
// generic lowering (MyQuantToVnni/int16-kernel.mlir tests the kernel).

!x16 = !quant.uniform<i16<-32767:32767>:f32, 1.0e-4>
!y16 = !quant.uniform<i16<-32767:32767>:f32, 2.0e-4>
!w = !quant.uniform<i8<-127:127>:f32:1, {0.01, 0.02}>

// CHECK-LABEL: func.func @matmul_i16
// CHECK:       %[[ACC:.*]] = linalg.fill ins(%{{.*}} : i64) outs(%{{.*}} : tensor<4x2xi64>)
// CHECK:       linalg.generic
// CHECK:       ^bb0(%[[X:.*]]: i16, %[[W:.*]]: i8, %[[A:.*]]: i64):
// CHECK-DAG:   %[[XW:.*]] = arith.extsi %[[X]] : i16 to i64
// CHECK-DAG:   %[[WW:.*]] = arith.extsi %[[W]] : i8 to i64
// CHECK:       %[[P:.*]] = arith.muli %[[XW]], %[[WW]] : i64
// CHECK:       arith.addi %[[A]], %[[P]] : i64
// CHECK:       -> tensor<4x2xi64>
// The epilogue: (acc * M0 + 2^(s-1)) >> s in i128, saturated to int32,
// clamped to [-32767, 32767].
// CHECK:       ^bb0(%{{.*}}: i64, %{{.*}}: i32, %{{.*}}: i32, %{{.*}}: i32, %{{.*}}: i16):
// CHECK:       arith.muli %{{.*}}, %{{.*}} : i128
// CHECK:       arith.shrsi %{{.*}}, %{{.*}} : i128
// CHECK:       arith.constant -2147483648 : i128
// CHECK:       arith.trunci %{{.*}} : i128 to i64
// CHECK:       arith.constant -32767 : i64
// CHECK:       arith.trunci %{{.*}} : i64 to i16
func.func @matmul_i16(%x: tensor<4x3x!x16>, %w: tensor<3x2xi8>) -> tensor<4x2x!y16> {
  %bias = arith.constant dense<[100, -7]> : tensor<2xi32>
  %wq = quant.scast %w : tensor<3x2xi8> to tensor<3x2x!w>
  %y = myquant.matmul %x, %wq, %bias : (tensor<4x3x!x16>, tensor<3x2x!w>, tensor<2xi32>) -> tensor<4x2x!y16>
  return %y : tensor<4x2x!y16>
}

// -----

!x16 = !quant.uniform<i16<-32767:32767>:f32, 1.0e-4>
!y8 = !quant.uniform<i8:f32, 0.05:3>
!f = !quant.uniform<i8<-127:127>:f32:0, {0.01, 0.02}>

// A 16-bit input and an 8-bit result: int64 accumulator, clamped to int8.
// CHECK-LABEL: func.func @conv_i16_to_i8
// CHECK:       linalg.fill ins(%{{.*}} : i64)
// CHECK:       arith.muli %{{.*}}, %{{.*}} : i64
// CHECK:       arith.muli %{{.*}}, %{{.*}} : i128
// CHECK:       arith.constant -128 : i64
// CHECK:       arith.trunci %{{.*}} : i64 to i8
func.func @conv_i16_to_i8(%x: tensor<1x1x4x4x!x16>, %w: tensor<2x1x3x3xi8>) -> tensor<1x2x4x4x!y8> {
  %wq = quant.scast %w : tensor<2x1x3x3xi8> to tensor<2x1x3x3x!f>
  %y = myquant.conv2d %x, %wq {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>,
      dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x1x4x4x!x16>, tensor<2x1x3x3x!f>) -> tensor<1x2x4x4x!y8>
  return %y : tensor<1x2x4x4x!y8>
}

// -----

!x8 = !quant.uniform<i8:f32, 0.05:3>
!y16 = !quant.uniform<i16<-32767:32767>:f32, 2.0e-4>
!w = !quant.uniform<i8<-127:127>:f32:1, {0.01, 0.02}>

// An 8-bit input keeps the int32 accumulator (and its input zero point
// folded into the bias), whatever the result's width.
// CHECK-LABEL: func.func @matmul_i8_to_i16
// CHECK:       linalg.fill ins(%{{.*}} : i32)
// CHECK:       arith.muli %{{.*}}, %{{.*}} : i32
// CHECK-NOT:   i128
// CHECK:       arith.constant -32767 : i64
// CHECK:       arith.trunci %{{.*}} : i64 to i16
func.func @matmul_i8_to_i16(%x: tensor<4x3x!x8>, %w: tensor<3x2xi8>) -> tensor<4x2x!y16> {
  %wq = quant.scast %w : tensor<3x2xi8> to tensor<3x2x!w>
  %y = myquant.matmul %x, %wq : (tensor<4x3x!x8>, tensor<3x2x!w>) -> tensor<4x2x!y16>
  return %y : tensor<4x2x!y16>
}

// -----

!x16 = !quant.uniform<i16<-32767:32767>:f32, 1.0e-4>
!y16 = !quant.uniform<i16<-32767:32767>:f32, 2.0e-4>

// Average pooling of a 16-bit input sums in int64.
// CHECK-LABEL: func.func @avg_pool_i16
// CHECK:       ^bb0(%[[X:.*]]: i16, %{{.*}}: i64, %[[S:.*]]: i64):
// CHECK:       arith.extsi %[[X]] : i16 to i64
// CHECK:       arith.muli %{{.*}}, %{{.*}} : i128
func.func @avg_pool_i16(%x: tensor<1x2x4x4x!x16>) -> tensor<1x2x2x2x!y16> {
  %y = myquant.avg_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>,
      padding = array<i64: 0, 0, 0, 0>, layout = #myquant.layout<nchw>}
      : tensor<1x2x4x4x!x16> -> tensor<1x2x2x2x!y16>
  return %y : tensor<1x2x2x2x!y16>
}
