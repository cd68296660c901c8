// aten.mean.dim over the spatial dimensions (adaptive_avg_pool2d to 1x1,
// the global average pool of torchvision classifiers): torch-mlir's
// DecomposeComplexOps writes sum.dim_IntList and div.Scalar by the element
// count; TorchToLinalg writes the sum as a reduction generic from a zero
// fill, keepdim as constant-0 results of its output map, and the division
// by sitofp of the i64 count in the body. myquant-normalize makes it the
// sum pool over the whole plane and the division by the window size that
// the pool recognizer reads: myquant.avg_pool2d. Without keepdim a
// tensor.collapse_shape after the division drops the unit plane.
// Calibration gives every intermediate value its range.

// RUN: %python -c "import numpy as np; np.save('%t.npy', np.random.RandomState(0).uniform(-1, 1, (4, 3, 4, 4)).astype(np.float32))"
// RUN: myquant-opt %s -split-input-file --myquant-normalize | FileCheck %s --check-prefix=NORM
// RUN: myquant-opt %s -split-input-file "--myquant-ptq=calibration-data=%t.npy allow-float=false" | FileCheck %s

// NORM-LABEL: func.func @torch_mean_keepdim
// NORM:         %[[P:.+]] = linalg.pooling_nchw_sum {{.*}} ins(%{{.+}}, %{{.+}} : tensor<1x3x4x4xf32>, tensor<4x4xf32>) outs(%{{.+}} : tensor<1x3x1x1xf32>)
// NORM:         linalg.generic {{.*}} ins(%[[P]] : tensor<1x3x1x1xf32>)
// NORM:           arith.divf %{{.+}}, %{{.+}} : f32
// NORM-NOT:     iterator_types = {{.*}}"reduction"
// CHECK-LABEL: func.func @torch_mean_keepdim
// CHECK:         myquant.quantize
// CHECK-NEXT:    myquant.avg_pool2d
// CHECK-SAME:      kernel = array<i64: 4, 4>, layout = #myquant.layout<nchw>
// CHECK-NEXT:    myquant.dequantize
// CHECK-NEXT:    return
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#keep4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, 0)>
func.func @torch_mean_keepdim(%x: tensor<1x3x4x4xf32>) -> tensor<1x3x1x1xf32> {
  %c16_i64 = arith.constant 16 : i64
  %zero = arith.constant 0.000000e+00 : f32
  %e = tensor.empty() : tensor<1x3x1x1xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x3x1x1xf32>) -> tensor<1x3x1x1xf32>
  %sum = linalg.generic {indexing_maps = [#id4, #keep4], iterator_types = ["parallel", "parallel", "reduction", "reduction"]} ins(%x : tensor<1x3x4x4xf32>) outs(%f : tensor<1x3x1x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %a = arith.addf %in, %out : f32
    linalg.yield %a : f32
  } -> tensor<1x3x1x1xf32>
  %mean = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%sum : tensor<1x3x1x1xf32>) outs(%e : tensor<1x3x1x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.sitofp %c16_i64 : i64 to f32
    %q = arith.divf %in, %n : f32
    linalg.yield %q : f32
  } -> tensor<1x3x1x1xf32>
  return %mean : tensor<1x3x1x1xf32>
}

// -----

// Without keepdim (a (d0, d1) output map, the [N, C] a classifier reads).
// NORM-LABEL: func.func @torch_mean
// NORM:         %[[P:.+]] = linalg.pooling_nchw_sum {{.*}} outs(%{{.+}} : tensor<1x3x1x1xf32>)
// NORM:         %[[D:.+]] = linalg.generic {{.*}} ins(%[[P]] : tensor<1x3x1x1xf32>)
// NORM:         tensor.collapse_shape %[[D]] {{\[}}[0], [1, 2, 3]] : tensor<1x3x1x1xf32> into tensor<1x3xf32>
// CHECK-LABEL: func.func @torch_mean
// CHECK:         myquant.quantize
// CHECK-NEXT:    myquant.avg_pool2d
// CHECK-SAME:      kernel = array<i64: 4, 4>, layout = #myquant.layout<nchw>
// CHECK-NEXT:    tensor.collapse_shape
// CHECK-NEXT:    myquant.dequantize
// CHECK-NEXT:    return
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#nc = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
func.func @torch_mean(%x: tensor<1x3x4x4xf32>) -> tensor<1x3xf32> {
  %c16_i64 = arith.constant 16 : i64
  %zero = arith.constant 0.000000e+00 : f32
  %e = tensor.empty() : tensor<1x3xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x3xf32>) -> tensor<1x3xf32>
  %sum = linalg.generic {indexing_maps = [#id4, #nc], iterator_types = ["parallel", "parallel", "reduction", "reduction"]} ins(%x : tensor<1x3x4x4xf32>) outs(%f : tensor<1x3xf32>) {
  ^bb0(%in: f32, %out: f32):
    %a = arith.addf %in, %out : f32
    linalg.yield %a : f32
  } -> tensor<1x3xf32>
  %mean = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%sum : tensor<1x3xf32>) outs(%e : tensor<1x3xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.sitofp %c16_i64 : i64 to f32
    %q = arith.divf %in, %n : f32
    linalg.yield %q : f32
  } -> tensor<1x3xf32>
  return %mean : tensor<1x3xf32>
}

// -----

// The mean over the plane of an NHWC tensor (H 3, W 4, C 4) as
// linalg.reduce, as linalg's builders write reductions, divided by a
// constant outside the body.
// NORM-LABEL: func.func @reduce_mean_nhwc
// NORM:         linalg.pooling_nhwc_sum {{.*}} outs(%{{.+}} : tensor<1x1x1x4xf32>)
// NORM:         tensor.collapse_shape %{{.+}} {{\[}}[0, 1, 2], [3]] : tensor<1x1x1x4xf32> into tensor<1x4xf32>
// CHECK-LABEL: func.func @reduce_mean_nhwc
// CHECK:         myquant.quantize
// CHECK-NEXT:    myquant.avg_pool2d
// CHECK-SAME:      kernel = array<i64: 3, 4>, layout = #myquant.layout<nhwc>
// CHECK-NEXT:    tensor.collapse_shape
// CHECK-NEXT:    myquant.dequantize
// CHECK-NEXT:    return
#id2 = affine_map<(d0, d1) -> (d0, d1)>
func.func @reduce_mean_nhwc(%x: tensor<1x3x4x4xf32>) -> tensor<1x4xf32> {
  %zero = arith.constant 0.000000e+00 : f32
  %n = arith.constant 1.200000e+01 : f32
  %e = tensor.empty() : tensor<1x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4xf32>) -> tensor<1x4xf32>
  %sum = linalg.reduce ins(%x : tensor<1x3x4x4xf32>) outs(%f : tensor<1x4xf32>) dimensions = [1, 2]
    (%in: f32, %acc: f32) {
      %a = arith.addf %in, %acc : f32
      linalg.yield %a : f32
    }
  %mean = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%sum : tensor<1x4xf32>) outs(%e : tensor<1x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %q = arith.divf %in, %n : f32
    linalg.yield %q : f32
  } -> tensor<1x4xf32>
  return %mean : tensor<1x4xf32>
}
