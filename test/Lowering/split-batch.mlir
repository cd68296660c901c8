// RUN: myquant-opt %s --split-input-file --myquant-split-batch | FileCheck %s
// RUN: myquant-opt %s --split-input-file "--myquant-split-batch=images=2" | FileCheck %s --check-prefix=TWO
// RUN: myquant-opt %s --split-input-file "--myquant-split-batch=max-weight-bytes=35" | FileCheck %s --check-prefix=HEAVY
// RUN: myquant-opt %s --split-input-file "--myquant-lower-to-llvm=target=generic" --mlir-print-ir-after=myquant-split-batch 2>&1 | FileCheck %s --check-prefix=PIPELINE
// RUN: myquant-opt %s --split-input-file "--myquant-split-batch=threads=2" | FileCheck %s --check-prefix=PAR
// RUN: myquant-opt %s --split-input-file "--myquant-lower-to-llvm=target=avx512-vnni threads=2 thread-min-macs=0" --mlir-print-ir-after=convert-myquant-to-vnni 2>&1 | FileCheck %s --check-prefix=THREADS
// RUN: myquant-opt %s --split-input-file "--myquant-lower-to-llvm=target=avx512-vnni threads=2" | FileCheck %s --check-prefix=OMP
// RUN: not myquant-opt %s --split-input-file --myquant-split-batch=images=0 2>&1 | FileCheck %s --check-prefix=ERR
// RUN: not myquant-opt %s --split-input-file --myquant-split-batch=threads=0 2>&1 | FileCheck %s --check-prefix=ERR-THREADS

// ERR: error: myquant-split-batch: images must be positive, not 0
// ERR-THREADS: error: myquant-split-batch: threads must be positive, not 0

!qx = !quant.uniform<i8:f32, 0.05:-3>
!qw = !quant.uniform<i8<-127:127>:f32, 0.01>
!qy = !quant.uniform<i8:f32, 0.1:5>

// The per-image layers (quantize, both convolutions, the concatenation and
// the pools) run one image per iteration on a slice of the input; the
// pooled result is written into its slice of a whole-batch storage tensor,
// and the classifier's matmul reads it after the loop at batch 4.
// CHECK-LABEL: func.func @fire(
// CHECK-SAME:    %[[X:.*]]: tensor<4x2x4x4xf32>)
// CHECK:         %[[W:.*]] = quant.scast %{{.*}} : tensor<2x2x1x1xi8> to tensor<2x2x1x1x!quant.uniform
// CHECK:         %[[WM:.*]] = quant.scast %{{.*}} : tensor<3x4xi8>
// CHECK:         %[[INIT:.*]] = tensor.empty() : tensor<4x4x1x1xi8>
// CHECK:         %[[C0:.*]] = arith.constant 0 : index
// CHECK:         %[[C4:.*]] = arith.constant 4 : index
// CHECK:         %[[C1:.*]] = arith.constant 1 : index
// CHECK:         %[[LOOP:.*]] = scf.for %[[I:.*]] = %[[C0]] to %[[C4]] step %[[C1]] iter_args(%[[ACC:.*]] = %[[INIT]]) -> (tensor<4x4x1x1xi8>) {
// CHECK:           %[[S:.*]] = tensor.extract_slice %[[X]][%[[I]], 0, 0, 0] [1, 2, 4, 4] [1, 1, 1, 1] : tensor<4x2x4x4xf32> to tensor<1x2x4x4xf32>
// CHECK:           %[[Q:.*]] = myquant.quantize %[[S]] : tensor<1x2x4x4xf32> -> tensor<1x2x4x4x!quant
// CHECK:           %[[A:.*]] = myquant.conv2d %[[Q]], %[[W]]
// CHECK-SAME:        -> tensor<1x2x4x4x!quant
// CHECK:           %[[B:.*]] = myquant.conv2d %[[Q]], %[[W]]
// CHECK:           %[[CAT:.*]] = myquant.concat %[[A]], %[[B]] {dim = 1 : i64} : {{.*}} -> tensor<1x4x4x4x!quant
// CHECK:           %[[MP:.*]] = myquant.max_pool2d %[[CAT]] {{.*}} -> tensor<1x4x2x2x!quant
// CHECK:           %[[AP:.*]] = myquant.avg_pool2d %[[MP]] {{.*}} -> tensor<1x4x1x1x!quant
// CHECK:           %[[APS:.*]] = quant.scast %[[AP]] : tensor<1x4x1x1x!quant{{.*}}> to tensor<1x4x1x1xi8>
// CHECK:           %[[IN:.*]] = tensor.insert_slice %[[APS]] into %[[ACC]][%[[I]], 0, 0, 0] [1, 4, 1, 1] [1, 1, 1, 1] : tensor<1x4x1x1xi8> into tensor<4x4x1x1xi8>
// CHECK:           scf.yield %[[IN]] : tensor<4x4x1x1xi8>
// CHECK:         }
// CHECK:         %[[P:.*]] = quant.scast %[[LOOP]] : tensor<4x4x1x1xi8> to tensor<4x4x1x1x!quant
// CHECK:         %[[FLAT:.*]] = tensor.collapse_shape %[[P]]
// CHECK:         %[[M:.*]] = myquant.matmul %[[FLAT]], %[[WM]]
// CHECK:         %[[D:.*]] = myquant.dequantize %[[M]] : tensor<4x3x!quant{{.*}}> -> tensor<4x3xf32>
// CHECK:         return %[[D]]
// Two images per iteration.
// TWO-LABEL: func.func @fire(
// TWO:         scf.for %[[I:.*]] = %c0 to %c4 step %c2 iter_args
// TWO:           tensor.extract_slice %{{.*}}[%[[I]], 0, 0, 0] [2, 2, 4, 4] [1, 1, 1, 1] : tensor<4x2x4x4xf32> to tensor<2x2x4x4xf32>
// TWO:           tensor.insert_slice %{{.*}} into %{{.*}}[%[[I]], 0, 0, 0] [2, 4, 1, 1] [1, 1, 1, 1] : tensor<2x4x1x1xi8> into tensor<4x4x1x1xi8>
// Constants above max-weight-bytes (4 + 12 weight bytes, 8 + 12 bias
// bytes = 36 > 35): every image would read them again; the function
// stays as it is.
// HEAVY-LABEL: func.func @fire(
// HEAVY-NOT:     scf.for
// HEAVY:         myquant.conv2d %{{.*}} -> tensor<4x2x4x4x!quant
// myquant-lower-to-llvm splits with one thread.
// PIPELINE-LABEL: func.func @fire(
// PIPELINE:         scf.for %{{.*}} = %c0 to %c4 step %c1 iter_args
// With two threads, which divide the 4 iterations, the loop is marked
// parallel: each thread runs whole images.
// PAR-LABEL: func.func @fire(
// PAR:         scf.for %{{.*}} = %c0 to %c4 step %c1 iter_args
// PAR:           myquant.conv2d %{{.*}} -> tensor<1x2x4x4x!quant
// PAR:           scf.yield
// PAR-NEXT:    } {myquant.parallel_batch}
// PAR:         myquant.matmul %{{.*}} -> tensor<4x3x!quant
// The kernels inside it run on one thread: at batch 1 and
// thread-min-macs=0 two threads would cut their rows into two ranges,
// a batch loop of 2 iterations; the classifier after the loop keeps its
// two-thread kernel.
// THREADS-LABEL: func.func private @fire_kernel(
// THREADS-NOT:     to %c2
// THREADS:         } {myquant.parallel_batch}
// THREADS-LABEL: func.func private @fire_kernel_0(
// THREADS-NOT:     to %c2
// THREADS:         } {myquant.parallel_batch}
// THREADS-LABEL: func.func @fire(
// THREADS:         scf.for %{{.*}} = %c0 to %c4 step %c1 iter_args
// THREADS:           func.call @fire_kernel(
// THREADS:           func.call @fire_kernel_0(
// THREADS:         } {myquant.parallel_batch}
// THREADS:         call @fire_kernel_1(
// One OpenMP region, around the loop over images; none in the kernels.
// OMP-LABEL: llvm.func internal @fire_kernel(
// OMP-NOT:     omp.parallel
// OMP-LABEL: llvm.func internal @fire_kernel_0(
// OMP-NOT:     omp.parallel
// OMP-LABEL: llvm.func @fire(
// OMP:         omp.parallel
// OMP:           omp.wsloop
// OMP:             llvm.call @fire_kernel(
// OMP:             llvm.call @fire_kernel_0(
// OMP:           omp.terminator
// OMP-NOT:     omp.parallel
// OMP:         llvm.call @fire_kernel_1(
func.func @fire(%x: tensor<4x2x4x4xf32>) -> tensor<4x3xf32> {
  %wi = arith.constant dense<[[[[1]], [[2]]], [[[-1]], [[3]]]]> : tensor<2x2x1x1xi8>
  %w = quant.scast %wi : tensor<2x2x1x1xi8> to tensor<2x2x1x1x!qw>
  %b = arith.constant dense<[10, -20]> : tensor<2xi32>
  %q = myquant.quantize %x : tensor<4x2x4x4xf32> -> tensor<4x2x4x4x!qx>
  %a = myquant.conv2d %q, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>, rescale = #myquant.rescale<multiplier = [1073741824, 1073741824], shift = [32, 32], rounding = single>} : (tensor<4x2x4x4x!qx>, tensor<2x2x1x1x!qw>, tensor<2xi32>) -> tensor<4x2x4x4x!qy>
  %c = myquant.conv2d %q, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>, rescale = #myquant.rescale<multiplier = [1073741824, 1073741824], shift = [33, 33], rounding = single>} : (tensor<4x2x4x4x!qx>, tensor<2x2x1x1x!qw>, tensor<2xi32>) -> tensor<4x2x4x4x!qy>
  %cat = myquant.concat %a, %c {dim = 1 : i64} : (tensor<4x2x4x4x!qy>, tensor<4x2x4x4x!qy>) -> tensor<4x4x4x4x!qy>
  %mp = myquant.max_pool2d %cat {dilations = array<i64: 1, 1>, kernel = array<i64: 2, 2>, layout = #myquant.layout<nchw>, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : tensor<4x4x4x4x!qy> -> tensor<4x4x2x2x!qy>
  %ap = myquant.avg_pool2d %mp {kernel = array<i64: 2, 2>, layout = #myquant.layout<nchw>, padding = array<i64: 0, 0, 0, 0>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [32], rounding = single>, strides = array<i64: 1, 1>} : tensor<4x4x2x2x!qy> -> tensor<4x4x1x1x!qy>
  %flat = tensor.collapse_shape %ap [[0], [1, 2, 3]] : tensor<4x4x1x1x!qy> into tensor<4x4x!qy>
  %wmi = arith.constant dense<[[1, 2, 3, 4], [5, 6, 7, 8], [-1, -2, -3, -4]]> : tensor<3x4xi8>
  %wm = quant.scast %wmi : tensor<3x4xi8> to tensor<3x4x!qw>
  %bm = arith.constant dense<[1, 2, 3]> : tensor<3xi32>
  %m = myquant.matmul %flat, %wm, %bm {transpose_rhs, rescale = #myquant.rescale<multiplier = [1073741824, 1073741824, 1073741824], shift = [32, 32, 32], rounding = single>} : (tensor<4x4x!qy>, tensor<3x4x!qw>, tensor<3xi32>) -> tensor<4x3x!qy>
  %d = myquant.dequantize %m : tensor<4x3x!qy> -> tensor<4x3xf32>
  return %d : tensor<4x3xf32>
}

// -----

!qx = !quant.uniform<i8:f32, 0.05:-3>
!qw = !quant.uniform<i8<-127:127>:f32, 0.01>
!qy = !quant.uniform<i8:f32, 0.1:5>

// A factor per image (along dimension 0) ties the requantization to the
// batch index: the loop ends before it, and the loop's result is the
// convolution's, read after the loop at batch 2.
// CHECK-LABEL: func.func @factor_per_image(
// CHECK:         %[[LOOP:.*]] = scf.for %{{.*}} iter_args(%{{.*}} = %{{.*}}) -> (tensor<2x2x4x4xi8>) {
// CHECK:           myquant.conv2d %{{.*}} -> tensor<1x2x4x4x!quant
// CHECK:           scf.yield
// CHECK:         }
// CHECK:         %[[C:.*]] = quant.scast %[[LOOP]] : tensor<2x2x4x4xi8> to tensor<2x2x4x4x!quant
// CHECK:         myquant.requantize %[[C]] {factor_axis = 0 : i64
// CHECK-SAME:      : tensor<2x2x4x4x!quant{{.*}}> -> tensor<2x2x4x4x!quant
func.func @factor_per_image(%q: tensor<2x2x4x4xi8>) -> tensor<2x2x4x4xi8> {
  %wi = arith.constant dense<[[[[1]], [[2]]], [[[-1]], [[3]]]]> : tensor<2x2x1x1xi8>
  %w = quant.scast %wi : tensor<2x2x1x1xi8> to tensor<2x2x1x1x!qw>
  %x = quant.scast %q : tensor<2x2x4x4xi8> to tensor<2x2x4x4x!qx>
  %a = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>, rescale = #myquant.rescale<multiplier = [1073741824, 1073741824], shift = [32, 32], rounding = single>} : (tensor<2x2x4x4x!qx>, tensor<2x2x1x1x!qw>) -> tensor<2x2x4x4x!qy>
  %r = myquant.requantize %a {factor_axis = 0 : i64, factors = array<f64: 0.5, 2.0>, rescale = #myquant.rescale<multiplier = [1073741824, 1073741824], shift = [32, 30], rounding = single>} : tensor<2x2x4x4x!qy> -> tensor<2x2x4x4x!qy>
  %s = quant.scast %r : tensor<2x2x4x4x!qy> to tensor<2x2x4x4xi8>
  return %s : tensor<2x2x4x4xi8>
}

// -----

!qx = !quant.uniform<i8:f32, 0.05:-3>
!qw = !quant.uniform<i8<-127:127>:f32, 0.01>
!qy = !quant.uniform<i8:f32, 0.1:5>

// Batch 1, and a batch without a convolution to split: unchanged.
// CHECK-LABEL: func.func @one_image(
// CHECK-NOT:     scf.for
// CHECK:         myquant.conv2d %{{.*}} -> tensor<1x2x4x4x!quant
// CHECK-LABEL: func.func @no_conv(
// CHECK-NOT:     scf.for
// CHECK:         myquant.dequantize %{{.*}} : tensor<8x2x!quant{{.*}}> -> tensor<8x2xf32>
func.func @one_image(%f: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %wi = arith.constant dense<[[[[1]], [[2]]], [[[-1]], [[3]]]]> : tensor<2x2x1x1xi8>
  %w = quant.scast %wi : tensor<2x2x1x1xi8> to tensor<2x2x1x1x!qw>
  %x = myquant.quantize %f : tensor<1x2x4x4xf32> -> tensor<1x2x4x4x!qx>
  %a = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>, rescale = #myquant.rescale<multiplier = [1073741824, 1073741824], shift = [32, 32], rounding = single>} : (tensor<1x2x4x4x!qx>, tensor<2x2x1x1x!qw>) -> tensor<1x2x4x4x!qy>
  %d = myquant.dequantize %a : tensor<1x2x4x4x!qy> -> tensor<1x2x4x4xf32>
  return %d : tensor<1x2x4x4xf32>
}
func.func @no_conv(%f: tensor<8x2xf32>) -> tensor<8x2xf32> {
  %x = myquant.quantize %f : tensor<8x2xf32> -> tensor<8x2x!qx>
  %d = myquant.dequantize %x : tensor<8x2x!qx> -> tensor<8x2xf32>
  return %d : tensor<8x2xf32>
}
// Batch 3: one thread splits it; two threads, which would not share the
// 3 iterations evenly (nor 1 image, at batch 1), share each kernel's
// loops instead, as without the pass.
// CHECK-LABEL: func.func @three(
// CHECK:         scf.for %{{.*}} = %c0 to %c3 step %c1 iter_args
// PAR-LABEL: func.func @one_image(
// PAR-NOT:     scf.for
// PAR-LABEL: func.func @three(
// PAR-NOT:     scf.for
// PAR:         myquant.conv2d %{{.*}} -> tensor<3x2x4x4x!quant
func.func @three(%f: tensor<3x2x4x4xf32>) -> tensor<3x2x4x4xf32> {
  %wi = arith.constant dense<[[[[1]], [[2]]], [[[-1]], [[3]]]]> : tensor<2x2x1x1xi8>
  %w = quant.scast %wi : tensor<2x2x1x1xi8> to tensor<2x2x1x1x!qw>
  %x = myquant.quantize %f : tensor<3x2x4x4xf32> -> tensor<3x2x4x4x!qx>
  %a = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>, rescale = #myquant.rescale<multiplier = [1073741824, 1073741824], shift = [32, 32], rounding = single>} : (tensor<3x2x4x4x!qx>, tensor<2x2x1x1x!qw>) -> tensor<3x2x4x4x!qy>
  %d = myquant.dequantize %a : tensor<3x2x4x4x!qy> -> tensor<3x2x4x4xf32>
  return %d : tensor<3x2x4x4xf32>
}
