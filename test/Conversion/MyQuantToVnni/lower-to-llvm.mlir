// RUN: myquant-opt %s --myquant-lower-to-llvm=target=avx512-vnni | FileCheck %s --implicit-check-not=vector. --implicit-check-not=scf. --implicit-check-not=memref. --implicit-check-not=bufferization.
// RUN: myquant-opt %s --myquant-lower-to-llvm=target=avx512-vnni-256 | FileCheck %s --check-prefix=YMM
// RUN: myquant-opt %s --myquant-lower-to-llvm=target=generic | FileCheck %s --check-prefix=GENERIC

!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8<-127:127>:f32:0, {0.01, 0.02, 0.01, 0.03}>
!qy = !quant.uniform<i8:f32, 0.05:3>

// The kernel's dot products become vpdpbusd in a function of its own,
// compiled for the target (internal: only @model calls it); nothing of the
// vector or scf dialects is left.
// CHECK-LABEL: llvm.func internal @model_kernel(
// CHECK-SAME:    passthrough = ["noinline"]
// CHECK-SAME:    target_features = #llvm.target_features<["+avx512f", "+avx512bw", "+avx512dq", "+avx512vl", "+avx512vnni"]>
// CHECK:         llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// CHECK:         llvm.intr.masked.store
// CHECK-LABEL: llvm.func @model(
// CHECK:         llvm.call @model_kernel(
// CHECK-LABEL: llvm.func @_mlir_ciface_model(
// YMM:         llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"
// GENERIC-NOT: vpdpbusd
// GENERIC-NOT: target_features
func.func @model(%x: tensor<1x3x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %wi = arith.constant dense<[[[[1, -2, 3], [4, 5, -6], [7, 8, 9]], [[-1, 2, -3], [4, -5, 6], [-7, 8, -9]], [[1, 1, 1], [1, 1, 1], [1, 1, -127]]], [[[10, 20, 30], [-40, 50, 60], [70, -80, 90]], [[1, 1, 1], [1, 1, 1], [1, 1, -127]], [[0, 0, 0], [0, 9, 0], [0, 0, 0]]], [[[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[1, 2, 3], [4, 5, 6], [7, 8, 9]]], [[[-1, -2, -3], [-4, -5, -6], [-7, -8, -9]], [[0, 0, 0], [0, 0, 0], [0, 0, 0]], [[127, 127, 127], [127, 127, 127], [127, 127, 127]]]]> : tensor<4x3x3x3xi8>
  %w = quant.scast %wi : tensor<4x3x3x3xi8> to tensor<4x3x3x3x!qw>
  %b = arith.constant dense<[100, -200, 0, 7]> : tensor<4xi32>
  %q = myquant.quantize %x : tensor<1x3x8x8xf32> -> tensor<1x3x8x8x!qx>
  %y = myquant.conv2d %q, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>} : (tensor<1x3x8x8x!qx>, tensor<4x3x3x3x!qw>, tensor<4xi32>) -> tensor<1x4x8x8x!qy>
  %d = myquant.dequantize %y : tensor<1x4x8x8x!qy> -> tensor<1x4x8x8xf32>
  return %d : tensor<1x4x8x8xf32>
}
