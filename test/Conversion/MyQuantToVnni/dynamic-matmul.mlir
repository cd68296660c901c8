// RUN: myquant-opt %s --split-input-file --convert-myquant-to-vnni=target=avx512-vnni | FileCheck %s
// RUN: myquant-opt %s --split-input-file --convert-myquant-to-vnni=target=avx512-vnni-256 | FileCheck %s --check-prefix=YMM
// RUN: myquant-opt %s --split-input-file --myquant-lower-to-llvm=target=avx512-vnni | FileCheck %s --check-prefix=LLVM

// Dynamic quantization (docs/NumericSpec.md 8) on the VNNI GEMM kernel: the
// runtime int8 input q and its scale A' are computed before the kernel (as
// in the generic lowering); the kernel flips q to u8 (q + 128) for
// vpdpbusd, its accumulators start at the static correction
// -128 * sum_k w[c][k] (zero point 0: nothing else depends on the batch),
// and the epilogue multiplies them by the runtime A' in int64, adds the
// int64 bias and rescales in 128 bits.

!xw = !quant.uniform<i32<-2147483647:2147483647>:f32, 1.0e-6>
!yw = !quant.uniform<i32<-2147483647:2147483647>:f32, 4.0e-6>
!w = !quant.uniform<i8<-127:127>:f32:0, {0.01, 0.02}>

// CHECK-LABEL: func.func private @dynamic_kernel(
// CHECK-SAME:      %[[Q:.*]]: tensor<4x6xi8>, %[[A:.*]]: i64, %{{.*}}: tensor<4x2xi32>) -> tensor<4x2xi32>
// CHECK-SAME:      "+avx512vnni"
// CHECK:         %[[AV:.*]] = vector.broadcast %[[A]] : i64 to vector<16xi64>
// The flip's correction: -128 * (1 - 2 + 3 + 127 - 127 + 5), -128 * 11.
// CHECK:         arith.constant dense<[-896, -1408, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]> : tensor<16xi32>
// CHECK:         %[[B:.*]] = arith.constant dense<[100, -7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]> : tensor<16xi64>
// CHECK:         %[[FLIP:.*]] = arith.constant dense<-128> : vector<64xi8>
// CHECK:         arith.xori %{{.*}}, %[[FLIP]] : vector<64xi8>
// CHECK:         arith.extui %{{.*}} : vector<64xi8> to vector<64xi32>
// CHECK:         vector.multi_reduction <add>
// The epilogue: (acc * A' + B[c]) * M0 in i128, saturated to int32.
// CHECK:         %[[BV:.*]] = vector.transfer_read %[[B]]
// CHECK:         %[[ACC:.*]] = arith.extsi %{{.*}} : vector<16xi32> to vector<16xi64>
// CHECK:         %[[AA:.*]] = arith.muli %[[ACC]], %[[AV]] : vector<16xi64>
// CHECK:         arith.addi %[[AA]], %[[BV]] : vector<16xi64>
// CHECK:         arith.muli %{{.*}}, %{{.*}} : vector<16xi128>
// CHECK:         vector.transfer_write %{{.*}} : vector<16xi32>, tensor<1x1x4x2xi32>
// CHECK-LABEL: func.func @dynamic(
// CHECK:         math.ctlz
// CHECK:         %[[R:.*]] = arith.divsi
// CHECK:         %[[QT:.*]] = linalg.generic
// CHECK:           arith.muli %{{.*}}, %[[R]] : i64
// CHECK:           arith.trunci %{{.*}} : i64 to i8
// CHECK:         call @dynamic_kernel(%[[QT]], %{{.*}}, %{{.*}}) : (tensor<4x6xi8>, i64, tensor<4x2xi32>) -> tensor<4x2xi32>
// CHECK-NOT:     myquant.dynamic_matmul
// YMM-LABEL:   func.func private @dynamic_kernel(
// YMM:           vector.broadcast %{{.*}} : i64 to vector<8xi64>
// YMM:           arith.muli %{{.*}}, %{{.*}} : vector<8xi128>
// LLVM-LABEL:  llvm.func internal @dynamic_kernel(
// LLVM:          llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// LLVM-LABEL:  llvm.func @dynamic(
// LLVM:          llvm.call @dynamic_kernel(
func.func @dynamic(%x: tensor<4x6x!xw>) -> tensor<4x2x!yw> {
  %wi = arith.constant dense<[[1, -2, 3, 127, -127, 5], [0, 0, 7, -1, 2, 3]]> : tensor<2x6xi8>
  %bias = arith.constant dense<[100, -7]> : tensor<2xi64>
  %wq = quant.scast %wi : tensor<2x6xi8> to tensor<2x6x!w>
  %y = myquant.dynamic_matmul %x, %wq, %bias {transpose_rhs} : (tensor<4x6x!xw>, tensor<2x6x!w>, tensor<2xi64>) -> tensor<4x2x!yw>
  return %y : tensor<4x2x!yw>
}
