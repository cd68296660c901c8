// RUN: myquant-opt %s --split-input-file "--myquant-share-linalg=threads=2" | FileCheck %s
// RUN: myquant-opt %s --split-input-file --myquant-share-linalg | FileCheck %s --check-prefix=ONE
// RUN: myquant-opt %s --split-input-file "--myquant-lower-to-llvm=threads=2" | FileCheck %s --check-prefix=OMP
// RUN: not myquant-opt %s --split-input-file --myquant-share-linalg=threads=0 2>&1 | FileCheck %s --check-prefix=ERR

// ERR: error: myquant-share-linalg: threads must be positive, not 0

// An NCHW input's quantization (150,528 result bytes, over 32 KiB per
// thread): the 3 channels do not split evenly and the width is the
// vector's, so the rows are cut, 112 per thread, in a marked loop that
// the pipeline runs on two threads.
// CHECK-LABEL: func.func @quantize(
// CHECK:         %[[E:.*]] = tensor.empty() : tensor<1x3x224x224xi8>
// CHECK:         %[[R:.*]] = scf.for %[[Y:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[D:.*]] = %[[E]])
// CHECK:           %[[X:.*]] = tensor.extract_slice %{{.*}}[0, 0, %[[Y]], 0] [1, 3, 112, 224] [1, 1, 1, 1]
// CHECK:           %[[S:.*]] = tensor.extract_slice %[[D]][0, 0, %[[Y]], 0] [1, 3, 112, 224] [1, 1, 1, 1]
// CHECK:           %[[T:.*]] = linalg.generic {{.*}} ins(%[[X]] : tensor<1x3x112x224xf32>) outs(%[[S]] : tensor<1x3x112x224xi8>)
// CHECK:           tensor.insert_slice %[[T]] into %[[D]][0, 0, %[[Y]], 0] [1, 3, 112, 224] [1, 1, 1, 1]
// CHECK:         } {myquant.parallel_batch}
// CHECK:         return %[[R]]
// ONE-LABEL: func.func @quantize(
// ONE-NOT:     scf.for
// ONE:         linalg.generic
// OMP-LABEL: llvm.func @quantize(
// OMP:         omp.parallel
// OMP:           omp.wsloop
#map = affine_map<(n, c, h, w) -> (n, c, h, w)>
func.func @quantize(%x: tensor<1x3x224x224xf32>) -> tensor<1x3x224x224xi8> {
  %e = tensor.empty() : tensor<1x3x224x224xi8>
  %q = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x : tensor<1x3x224x224xf32>) outs(%e : tensor<1x3x224x224xi8>) {
  ^bb0(%in: f32, %out: i8):
    %r = math.roundeven %in : f32
    %i = arith.fptosi %r : f32 to i8
    linalg.yield %i : i8
  } -> tensor<1x3x224x224xi8>
  return %q : tensor<1x3x224x224xi8>
}

// -----

// ResNet's 3 x 3 / 2 max pool of a 112 x 112 x 64 image (padded): the
// output rows are cut, 28 per thread, each tile reading its 57 input rows
// and filling its own slice of the initial value.
// CHECK-LABEL: func.func @pool(
// CHECK:         scf.for %[[Y:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[D:.*]] =
// CHECK:           %[[X:.*]] = tensor.extract_slice %{{.*}}[0, %{{.*}}, 0, 0] [1, 57, 113, 64] [1, 1, 1, 1]
// CHECK:           %[[S:.*]] = tensor.extract_slice %[[D]][0, %[[Y]], 0, 0] [1, 28, 56, 64] [1, 1, 1, 1]
// CHECK:           %[[F:.*]] = linalg.fill ins(%{{.*}} : i8) outs(%[[S]] : tensor<1x28x56x64xi8>)
// CHECK:           linalg.pooling_nhwc_max {{.*}} ins(%[[X]], %{{.*}} : tensor<1x57x113x64xi8>, tensor<3x3xi8>) outs(%[[F]] : tensor<1x28x56x64xi8>)
// CHECK:         } {myquant.parallel_batch}
// CHECK-NOT:     linalg.fill
func.func @pool(%x: tensor<1x114x114x64xi8>) -> tensor<1x56x56x64xi8> {
  %min = arith.constant -128 : i8
  %e = tensor.empty() : tensor<1x56x56x64xi8>
  %init = linalg.fill ins(%min : i8) outs(%e : tensor<1x56x56x64xi8>) -> tensor<1x56x56x64xi8>
  %window = tensor.empty() : tensor<3x3xi8>
  %y = linalg.pooling_nhwc_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>} ins(%x, %window : tensor<1x114x114x64xi8>, tensor<3x3xi8>) outs(%init : tensor<1x56x56x64xi8>) -> tensor<1x56x56x64xi8>
  return %y : tensor<1x56x56x64xi8>
}

// -----

// A loop the threads do not divide (the clipped max pool's interior, 55 x
// 55 windows of 3 x 3 / 2): its first 54 rows are cut, 27 per thread, each
// tile filling its own slice; the last row runs on one thread after them,
// its fill split off too. No fill of the whole result is left.
// CHECK-LABEL: func.func @uneven(
// CHECK-SAME:    %[[X:[^ :,()]+]]: tensor<1x111x111x64xi8>
// CHECK-NOT:     linalg.fill
// CHECK:         %[[E:.*]] = tensor.empty() : tensor<1x55x55x64xi8>
// CHECK:         %[[XS:.*]] = tensor.extract_slice %[[X]][0, 0, 0, 0] [1, 109, 111, 64] [1, 1, 1, 1]
// CHECK:         %[[ES:.*]] = tensor.extract_slice %[[E]][0, 0, 0, 0] [1, 54, 55, 64] [1, 1, 1, 1]
// CHECK:         %[[L:.*]] = scf.for %[[Y:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[D:.*]] = %[[ES]])
// CHECK:           tensor.extract_slice %[[XS]][0, %{{.*}}, 0, 0] [1, 55, 111, 64] [1, 1, 1, 1]
// CHECK:           %[[S:.*]] = tensor.extract_slice %[[D]][0, %[[Y]], 0, 0] [1, 27, 55, 64] [1, 1, 1, 1]
// CHECK:           %[[F:.*]] = linalg.fill ins(%{{.*}} : i8) outs(%[[S]] : tensor<1x27x55x64xi8>)
// CHECK:           linalg.pooling_nhwc_max {{.*}} outs(%[[F]] : tensor<1x27x55x64xi8>)
// CHECK:         } {myquant.parallel_batch}
// CHECK:         %[[I:.*]] = tensor.insert_slice %[[L]] into %[[E]][0, 0, 0, 0] [1, 54, 55, 64] [1, 1, 1, 1]
// CHECK:         %[[XL:.*]] = tensor.extract_slice %[[X]][0, 108, 0, 0] [1, 3, 111, 64] [1, 1, 1, 1]
// CHECK:         %[[SL:.*]] = tensor.extract_slice %[[I]][0, 54, 0, 0] [1, 1, 55, 64] [1, 1, 1, 1]
// CHECK:         %[[FL:.*]] = linalg.fill ins(%{{.*}} : i8) outs(%[[SL]] : tensor<1x1x55x64xi8>)
// CHECK:         %[[PL:.*]] = linalg.pooling_nhwc_max {{.*}} ins(%[[XL]], %{{.*}} : tensor<1x3x111x64xi8>, tensor<3x3xi8>) outs(%[[FL]] : tensor<1x1x55x64xi8>)
// CHECK:         %[[R:.*]] = tensor.insert_slice %[[PL]] into %[[I]][0, 54, 0, 0] [1, 1, 55, 64] [1, 1, 1, 1]
// CHECK:         return %[[R]]
// OMP-LABEL: llvm.func @uneven(
// OMP:         omp.parallel
// OMP:           omp.wsloop
func.func @uneven(%x: tensor<1x111x111x64xi8>) -> tensor<1x55x55x64xi8> {
  %min = arith.constant -128 : i8
  %e = tensor.empty() : tensor<1x55x55x64xi8>
  %init = linalg.fill ins(%min : i8) outs(%e : tensor<1x55x55x64xi8>) -> tensor<1x55x55x64xi8>
  %window = tensor.empty() : tensor<3x3xi8>
  %y = linalg.pooling_nhwc_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>} ins(%x, %window : tensor<1x111x111x64xi8>, tensor<3x3xi8>) outs(%init : tensor<1x55x55x64xi8>) -> tensor<1x55x55x64xi8>
  return %y : tensor<1x55x55x64xi8>
}

// -----

// Left as they are: a result under 32 KiB per thread (16 x 16 x 64
// bytes), a lone fill, and an op in the iterations of a marked loop
// (myquant-split-batch's loop over images), which runs on its image's
// thread.
// CHECK-LABEL: func.func @kept(
// CHECK-NOT:     scf.for
// CHECK:         linalg.fill
// CHECK-NOT:     scf.for
// CHECK:         linalg.generic
// CHECK-SAME:      outs(%{{.*}} : tensor<1x16x16x64xi8>)
// CHECK:         scf.for
// CHECK-NOT:       scf.for
// CHECK:           linalg.generic
// CHECK-SAME:        outs(%{{.*}} : tensor<1x64x64x64xi8>)
// CHECK:         } {myquant.parallel_batch}
#id = affine_map<(n, h, w, c) -> (n, h, w, c)>
func.func @kept(%x: tensor<1x16x16x64xi8>, %xs: tensor<2x64x64x64xi8>) -> (tensor<1x16x16x64xi8>, tensor<1x64x64x64xi8>, tensor<2x64x64x64xi8>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %zero = arith.constant 0 : i8
  %big = tensor.empty() : tensor<1x64x64x64xi8>
  %filled = linalg.fill ins(%zero : i8) outs(%big : tensor<1x64x64x64xi8>) -> tensor<1x64x64x64xi8>
  %e = tensor.empty() : tensor<1x16x16x64xi8>
  %small = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x : tensor<1x16x16x64xi8>) outs(%e : tensor<1x16x16x64xi8>) {
  ^bb0(%in: i8, %out: i8):
    %s = arith.addi %in, %in : i8
    linalg.yield %s : i8
  } -> tensor<1x16x16x64xi8>
  %es = tensor.empty() : tensor<2x64x64x64xi8>
  %r = scf.for %n = %c0 to %c2 step %c1 iter_args(%acc = %es) -> tensor<2x64x64x64xi8> {
    %xi = tensor.extract_slice %xs[%n, 0, 0, 0] [1, 64, 64, 64] [1, 1, 1, 1] : tensor<2x64x64x64xi8> to tensor<1x64x64x64xi8>
    %ei = tensor.empty() : tensor<1x64x64x64xi8>
    %yi = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%xi : tensor<1x64x64x64xi8>) outs(%ei : tensor<1x64x64x64xi8>) {
    ^bb0(%in: i8, %out: i8):
      %s = arith.addi %in, %in : i8
      linalg.yield %s : i8
    } -> tensor<1x64x64x64xi8>
    %ins = tensor.insert_slice %yi into %acc[%n, 0, 0, 0] [1, 64, 64, 64] [1, 1, 1, 1] : tensor<1x64x64x64xi8> into tensor<2x64x64x64xi8>
    scf.yield %ins : tensor<2x64x64x64xi8>
  } {myquant.parallel_batch}
  return %small, %filled, %r : tensor<1x16x16x64xi8>, tensor<1x64x64x64xi8>, tensor<2x64x64x64xi8>
}

// -----

// A loop of no iterations (a 0 x 3 window) is left as it is: upstream's
// tiling crashed on it (found by python/myquant/testing/mutate.py).
// CHECK-LABEL: func.func @empty_window(
// CHECK-NOT:     scf.for
// CHECK:         linalg.pooling_nhwc_max
// CHECK-NOT:     scf.for
func.func @empty_window(%x: tensor<1x114x114x64xi8>) -> tensor<1x56x56x64xi8> {
  %min = arith.constant -128 : i8
  %e = tensor.empty() : tensor<1x56x56x64xi8>
  %init = linalg.fill ins(%min : i8) outs(%e : tensor<1x56x56x64xi8>) -> tensor<1x56x56x64xi8>
  %window = tensor.empty() : tensor<0x3xi8>
  %y = linalg.pooling_nhwc_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>} ins(%x, %window : tensor<1x114x114x64xi8>, tensor<0x3xi8>) outs(%init : tensor<1x56x56x64xi8>) -> tensor<1x56x56x64xi8>
  return %y : tensor<1x56x56x64xi8>
}
