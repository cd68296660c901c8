// RUN: myquant-opt %s --linalg-generalize-named-ops | FileCheck %s --check-prefix=GEN
// RUN: myquant-opt %s --linalg-generalize-named-ops | myquant-opt --myquant-ptq=allow-float=false | FileCheck %s

// What --linalg-generalize-named-ops writes (convolution, matmul and fills
// as linalg.generic) quantizes: myquant-normalize specializes the
// reductions and fills back to named ops with upstream's
// specializeGenericOp and leaves the element-wise generics as they are.

// GEN-LABEL: func.func @generalized
// GEN-NOT:   linalg.conv
// GEN-NOT:   linalg.matmul
// GEN-NOT:   linalg.fill
// CHECK-LABEL: func.func @generalized
// CHECK:       myquant.conv2d
// CHECK:       myquant.matmul
// CHECK-NOT:   linalg.generic
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @generalized(%x: tensor<1x2x4x4xf32>) -> tensor<2x3xf32> {
  %xs = myquant.stats %x {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x2x4x4xf32>
  %zero = arith.constant 0.0 : f32
  %w = arith.constant dense<[[[[0.5]], [[-0.25]]], [[[0.75]], [[1.0]]]]> : tensor<2x2x1x1xf32>
  %e = tensor.empty() : tensor<1x2x4x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %conv = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%xs, %w : tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) outs(%f : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %relu = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%conv : tensor<1x2x4x4xf32>) outs(%e : tensor<1x2x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x2x4x4xf32>
  %rs = myquant.stats %relu {min = array<f64: 0.0>, max = array<f64: 2.0>} : tensor<1x2x4x4xf32>
  %flat = tensor.collapse_shape %rs [[0, 1], [2, 3]] : tensor<1x2x4x4xf32> into tensor<2x16xf32>
  %wm = arith.constant dense<0.0625> : tensor<16x3xf32>
  %e2 = tensor.empty() : tensor<2x3xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<2x3xf32>) -> tensor<2x3xf32>
  %mm = linalg.matmul ins(%flat, %wm : tensor<2x16xf32>, tensor<16x3xf32>) outs(%f2 : tensor<2x3xf32>) -> tensor<2x3xf32>
  %ms = myquant.stats %mm {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<2x3xf32>
  return %ms : tensor<2x3xf32>
}
