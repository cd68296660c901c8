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
// CHECK:         arith.divsi
// CHECK:         %[[QT:.*]] = linalg.generic
// CHECK:         ^bb0(%{{.*}}: i32, %[[R:.*]]: i64, %{{.*}}: i64, %{{.*}}: i8):
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

// -----

// An asymmetric input (NumericSpec 8.2b): min and max (0 included) in one
// reduction, D' = hi - lo, k = 22 + bitlength(D'), R ~ 255 / D', the
// runtime zero point z and q = apply_single(X, R, k) + z in [0, 255]. The
// kernel reads q as u8 (no flip, accumulators from 0) and its epilogue
// makes the runtime correction acc - z * sum_k w[c][k] (sums 7 and 11)
// before acc * D' + B[c].

!xw = !quant.uniform<i32<-2147483647:2147483647>:f32, 1.0e-6>
!yw = !quant.uniform<i32<-2147483647:2147483647>:f32, 4.0e-6>
!w = !quant.uniform<i8<-127:127>:f32:0, {0.01, 0.02}>

// CHECK-LABEL: func.func private @asymmetric_kernel(
// CHECK-SAME:      %{{.*}}: tensor<4x6xi8>, %[[D:.*]]: i64, %[[Z:.*]]: i64, %{{.*}}: tensor<4x2xi32>) -> tensor<4x2xi32>
// CHECK:         %[[DV:.*]] = vector.broadcast %[[D]] : i64 to vector<16xi64>
// CHECK:         %[[Z32:.*]] = arith.trunci %[[Z]] : i64 to i32
// CHECK:         %[[ZV:.*]] = vector.broadcast %[[Z32]] : i32 to vector<16xi32>
// CHECK:         arith.constant dense<0> : tensor<16xi32>
// CHECK:         %[[SUMS:.*]] = arith.constant dense<[7, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]> : tensor<16xi32>
// CHECK-NOT:     arith.xori
// CHECK:         arith.extui %{{.*}} : vector<64xi8> to vector<64xi32>
// CHECK:         %[[SV:.*]] = vector.transfer_read %[[SUMS]]
// CHECK:         %[[ZS:.*]] = arith.muli %[[ZV]], %[[SV]] : vector<16xi32>
// CHECK:         %[[ACC:.*]] = arith.subi %{{.*}}, %[[ZS]] : vector<16xi32>
// CHECK:         %[[ACC64:.*]] = arith.extsi %[[ACC]] : vector<16xi32> to vector<16xi64>
// CHECK:         arith.muli %[[ACC64]], %[[DV]] : vector<16xi64>
// CHECK-LABEL: func.func @asymmetric(
// CHECK:         linalg.generic {{.*}}iterator_types = ["reduction", "reduction"]
// CHECK:           arith.minsi
// CHECK:           arith.maxsi
// CHECK:           linalg.yield %{{.*}}, %{{.*}} : i64, i64
// D', R, k and z on rank-0 tensors.
// CHECK:         %[[P:.*]]:4 = linalg.generic {{.*}}iterator_types = []}
// CHECK:         ^bb0(%[[LO:.*]]: i64, %[[HI:.*]]: i64, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64):
// CHECK:           %[[RANGE:.*]] = arith.subi %[[HI]], %[[LO]] : i64
// CHECK:           %[[DP:.*]] = arith.maxsi %[[RANGE]], %{{.*}} : i64
// CHECK:           arith.constant 22 : i64
// CHECK:           %[[R:.*]] = arith.divsi %{{.*}}, %[[DP]] : i64
// CHECK:           %[[NLO:.*]] = arith.subi %{{.*}}, %[[LO]] : i64
// CHECK:           arith.muli %[[NLO]], %[[R]] : i64
// CHECK:           arith.constant 255 : i64
// CHECK:           %[[ZP:.*]] = arith.minsi %{{.*}}, %{{.*}} : i64
// CHECK:           linalg.yield %[[DP]], %[[R]], %{{.*}}, %[[ZP]]
// CHECK:         %[[QT:.*]] = linalg.generic
// CHECK:         ^bb0(%{{.*}}: i32, %{{.*}}: i64, %{{.*}}: i64, %[[ZE:.*]]: i64, %{{.*}}: i8):
// CHECK:           arith.addi %{{.*}}, %[[ZE]] : i64
// CHECK:         %[[DS:.*]] = tensor.extract %[[P]]#0[] : tensor<i64>
// CHECK:         %[[ZS:.*]] = tensor.extract %[[P]]#3[] : tensor<i64>
// CHECK:         call @asymmetric_kernel(%[[QT]], %[[DS]], %[[ZS]], %{{.*}})
// LLVM-LABEL:  llvm.func internal @asymmetric_kernel(
// LLVM:          llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
func.func @asymmetric(%x: tensor<4x6x!xw>) -> tensor<4x2x!yw> {
  %wi = arith.constant dense<[[1, -2, 3, 127, -127, 5], [0, 0, 7, -1, 2, 3]]> : tensor<2x6xi8>
  %bias = arith.constant dense<[100, -7]> : tensor<2xi64>
  %wq = quant.scast %wi : tensor<2x6xi8> to tensor<2x6x!w>
  %y = myquant.dynamic_matmul %x, %wq, %bias {asymmetric, transpose_rhs} : (tensor<4x6x!xw>, tensor<2x6x!w>, tensor<2xi64>) -> tensor<4x2x!yw>
  return %y : tensor<4x2x!yw>
}

// -----

// Per row (NumericSpec 8.2c): the kernel takes D' and z of every row as
// tensors and, storing a row, broadcasts that row's.

!xw = !quant.uniform<i32<-2147483647:2147483647>:f32, 1.0e-6>
!yw = !quant.uniform<i32<-2147483647:2147483647>:f32, 4.0e-6>
!w = !quant.uniform<i8<-127:127>:f32:0, {0.01, 0.02}>

// CHECK-LABEL: func.func private @per_row_kernel(
// CHECK-SAME:      %{{.*}}: tensor<4x6xi8>, %[[D:.*]]: tensor<4xi64>, %[[Z:.*]]: tensor<4xi64>, %{{.*}}: tensor<4x2xi32>) -> tensor<4x2xi32>
// CHECK:         %[[DM:.*]] = tensor.extract %[[D]][%[[M:.*]]] : tensor<4xi64>
// CHECK:         %[[ZM:.*]] = tensor.extract %[[Z]][%[[M]]] : tensor<4xi64>
// CHECK:         vector.broadcast %[[DM]] : i64 to vector<16xi64>
// CHECK:         arith.trunci %[[ZM]] : i64 to i32
// CHECK:         vector.transfer_write
// CHECK-LABEL: func.func @per_row(
// CHECK:         call @per_row_kernel(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : (tensor<4x6xi8>, tensor<4xi64>, tensor<4xi64>, tensor<4x2xi32>) -> tensor<4x2xi32>
// YMM-LABEL:   func.func private @per_row_kernel(
// YMM:           vector.broadcast %{{.*}} : i64 to vector<8xi64>
// LLVM-LABEL:  llvm.func internal @per_row_kernel(
// LLVM:          llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
func.func @per_row(%x: tensor<4x6x!xw>) -> tensor<4x2x!yw> {
  %wi = arith.constant dense<[[1, -2, 3, 127, -127, 5], [0, 0, 7, -1, 2, 3]]> : tensor<2x6xi8>
  %bias = arith.constant dense<[100, -7]> : tensor<2xi64>
  %wq = quant.scast %wi : tensor<2x6xi8> to tensor<2x6x!w>
  %y = myquant.dynamic_matmul %x, %wq, %bias {asymmetric, per_row, transpose_rhs} : (tensor<4x6x!xw>, tensor<2x6x!w>, tensor<2xi64>) -> tensor<4x2x!yw>
  return %y : tensor<4x2x!yw>
}
