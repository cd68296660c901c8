// RUN: myquant-opt %s --split-input-file "--convert-linalg-to-float-kernels=target=avx512-vnni threads=2 thread-min-macs=0" | FileCheck %s
// RUN: myquant-opt %s --split-input-file "--myquant-lower-to-llvm=target=avx512-vnni threads=2 thread-min-macs=0" | FileCheck %s --check-prefix=OMP

// threads=2 at batch 1: the f32 kernel's 8 output rows are cut into two
// ranges, its loop over (batch, range) marked and run on two threads.
// CHECK-LABEL: func.func private @rows_kernel(
// CHECK:         scf.for %[[I:.*]] = %{{.*}} to %c2{{.*}} step
// CHECK:           arith.remui %[[I]]
// CHECK:           vector.fma
// CHECK:         } {myquant.parallel_batch}
// OMP-LABEL: llvm.func internal @rows_kernel(
// OMP:         omp.parallel
// OMP:           omp.wsloop
func.func @rows(%x: tensor<1x10x10x16xf32>) -> tensor<1x8x8x32xf32> {
  %zero = arith.constant 0.0 : f32
  %w = arith.constant dense<0.5> : tensor<3x3x16x32xf32>
  %e = tensor.empty() : tensor<1x8x8x32xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x8x8x32xf32>) -> tensor<1x8x8x32xf32>
  %y = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%x, %w : tensor<1x10x10x16xf32>, tensor<3x3x16x32xf32>) outs(%init : tensor<1x8x8x32xf32>) -> tensor<1x8x8x32xf32>
  return %y : tensor<1x8x8x32xf32>
}

// -----

// The same convolution in the iterations of a loop marked parallel
// (myquant-split-batch's loop over images with threads=2), directly or in
// a function called there: each thread runs its image's kernel alone, so
// the kernels are one thread's (no ranges: a batch loop of one image)
// and open no OpenMP region.
// CHECK-LABEL: func.func private @layer_kernel(
// CHECK-NOT:     arith.remui
// CHECK:         } {myquant.parallel_batch}
// CHECK-LABEL: func.func private @layer(
// CHECK:         call @layer_kernel(
// CHECK-LABEL: func.func private @images_kernel(
// CHECK-NOT:     arith.remui
// CHECK:         } {myquant.parallel_batch}
// CHECK-LABEL: func.func @images(
// CHECK:         scf.for
// CHECK:           call @images_kernel(
// CHECK:           call @layer(
// CHECK:         } {myquant.parallel_batch}
// OMP-LABEL: llvm.func internal @layer_kernel(
// OMP-NOT:     omp.parallel
// OMP:         llvm.return
// OMP-LABEL: llvm.func internal @images_kernel(
// OMP-NOT:     omp.parallel
// OMP:         llvm.return
// OMP-LABEL: llvm.func @images(
// OMP:         omp.parallel
// OMP:           omp.wsloop
func.func private @layer(%x: tensor<1x10x10x16xf32>) -> tensor<1x8x8x32xf32> {
  %zero = arith.constant 0.0 : f32
  %w = arith.constant dense<0.25> : tensor<3x3x16x32xf32>
  %e = tensor.empty() : tensor<1x8x8x32xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x8x8x32xf32>) -> tensor<1x8x8x32xf32>
  %y = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%x, %w : tensor<1x10x10x16xf32>, tensor<3x3x16x32xf32>) outs(%init : tensor<1x8x8x32xf32>) -> tensor<1x8x8x32xf32>
  return %y : tensor<1x8x8x32xf32>
}
func.func @images(%x: tensor<2x10x10x16xf32>) -> (tensor<2x8x8x32xf32>, tensor<2x8x8x32xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %zero = arith.constant 0.0 : f32
  %w = arith.constant dense<0.5> : tensor<3x3x16x32xf32>
  %e = tensor.empty() : tensor<2x8x8x32xf32>
  %r:2 = scf.for %n = %c0 to %c2 step %c1 iter_args(%a = %e, %b = %e) -> (tensor<2x8x8x32xf32>, tensor<2x8x8x32xf32>) {
    %xi = tensor.extract_slice %x[%n, 0, 0, 0] [1, 10, 10, 16] [1, 1, 1, 1] : tensor<2x10x10x16xf32> to tensor<1x10x10x16xf32>
    %ei = tensor.empty() : tensor<1x8x8x32xf32>
    %init = linalg.fill ins(%zero : f32) outs(%ei : tensor<1x8x8x32xf32>) -> tensor<1x8x8x32xf32>
    %y = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%xi, %w : tensor<1x10x10x16xf32>, tensor<3x3x16x32xf32>) outs(%init : tensor<1x8x8x32xf32>) -> tensor<1x8x8x32xf32>
    %z = func.call @layer(%xi) : (tensor<1x10x10x16xf32>) -> tensor<1x8x8x32xf32>
    %a2 = tensor.insert_slice %y into %a[%n, 0, 0, 0] [1, 8, 8, 32] [1, 1, 1, 1] : tensor<1x8x8x32xf32> into tensor<2x8x8x32xf32>
    %b2 = tensor.insert_slice %z into %b[%n, 0, 0, 0] [1, 8, 8, 32] [1, 1, 1, 1] : tensor<1x8x8x32xf32> into tensor<2x8x8x32xf32>
    scf.yield %a2, %b2 : tensor<2x8x8x32xf32>, tensor<2x8x8x32xf32>
  } {myquant.parallel_batch}
  return %r#0, %r#1 : tensor<2x8x8x32xf32>, tensor<2x8x8x32xf32>
}
