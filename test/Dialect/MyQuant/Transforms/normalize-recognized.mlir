// RUN: myquant-opt %s -split-input-file --myquant-normalize | FileCheck %s --check-prefix=NORM
// RUN: myquant-opt %s -split-input-file --myquant-ptq="allow-float=false" | FileCheck %s

// Forms the exporter writes that normalization must leave for the
// recognizers: a grouped convolution's bias broadcast into its accumulator
// (not folded into one constant), and the division of a 1x1 average pool
// by 1.0 (not folded away).

// NORM-LABEL: func.func @grouped_conv_bias
// NORM:       %[[B:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<4xf32>)
// NORM:       %[[I:.*]] = tensor.expand_shape %[[B]]
// NORM:       linalg.conv_2d_ngchw_gfchw {{.*}} outs(%[[I]] :
// CHECK-LABEL: func.func @grouped_conv_bias
// CHECK:       %[[BIAS:.*]] = arith.constant dense<[12954, 25908, -12954, 38862]> : tensor<4xi32>
// CHECK:       myquant.conv2d %{{.*}}, %{{.*}}, %[[BIAS]]
// CHECK-SAME:  groups = 2
// CHECK-NOT:   linalg.conv
// CHECK:       return
func.func @grouped_conv_bias(%x: tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32> {
  %xs = myquant.stats %x {min = array<f64: 0.0>, max = array<f64: 1.0>} : tensor<1x4x4x4xf32>
  %zero = arith.constant 0.0 : f32
  %pad = tensor.pad %xs low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i0: index, %i1: index, %i2: index, %i3: index):
    tensor.yield %zero : f32
  } : tensor<1x4x4x4xf32> to tensor<1x4x6x6xf32>
  %b = arith.constant dense<[0.1, 0.2, -0.1, 0.3]> : tensor<4xf32>
  %e = tensor.empty() : tensor<1x4x4x4xf32>
  %init = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d1)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%b : tensor<4xf32>) outs(%e : tensor<1x4x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x4x4x4xf32>
  %w = arith.constant dense<0.25> : tensor<4x2x3x3xf32>
  %xg = tensor.expand_shape %pad [[0], [1, 2], [3], [4]] output_shape [1, 2, 2, 6, 6] : tensor<1x4x6x6xf32> into tensor<1x2x2x6x6xf32>
  %wg = tensor.expand_shape %w [[0, 1], [2], [3], [4]] output_shape [2, 2, 2, 3, 3] : tensor<4x2x3x3xf32> into tensor<2x2x2x3x3xf32>
  %ig = tensor.expand_shape %init [[0], [1, 2], [3], [4]] output_shape [1, 2, 2, 4, 4] : tensor<1x4x4x4xf32> into tensor<1x2x2x4x4xf32>
  %cg = linalg.conv_2d_ngchw_gfchw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%xg, %wg : tensor<1x2x2x6x6xf32>, tensor<2x2x2x3x3xf32>) outs(%ig : tensor<1x2x2x4x4xf32>) -> tensor<1x2x2x4x4xf32>
  %c = tensor.collapse_shape %cg [[0], [1, 2], [3], [4]] : tensor<1x2x2x4x4xf32> into tensor<1x4x4x4xf32>
  %cs = myquant.stats %c {min = array<f64: -0.5>, max = array<f64: 2.5>} : tensor<1x4x4x4xf32>
  return %cs : tensor<1x4x4x4xf32>
}

// -----

// NORM-LABEL: func.func @avg_pool_1x1
// NORM:       %[[P:.*]] = linalg.pooling_nchw_sum
// NORM:       linalg.generic {{.*}} ins(%[[P]] :
// NORM:       arith.divf
// CHECK-LABEL: func.func @avg_pool_1x1
// CHECK:       myquant.avg_pool2d {{.*}}kernel = array<i64: 1, 1>
// CHECK-NOT:   linalg.
// CHECK:       return
func.func @avg_pool_1x1(%x: tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32> {
  %xs = myquant.stats %x {min = array<f64: -0.5>, max = array<f64: 1.0>} : tensor<1x4x4x4xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4x4x4xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %win = tensor.empty() : tensor<1x1xf32>
  %pool = linalg.pooling_nchw_sum {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%xs, %win : tensor<1x4x4x4xf32>, tensor<1x1xf32>) outs(%fill : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %one = arith.constant 1.0 : f32
  %avg = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%pool : tensor<1x4x4x4xf32>) outs(%e : tensor<1x4x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %q = arith.divf %in, %one : f32
    linalg.yield %q : f32
  } -> tensor<1x4x4x4xf32>
  %as = myquant.stats %avg {min = array<f64: -0.5>, max = array<f64: 1.0>} : tensor<1x4x4x4xf32>
  return %as : tensor<1x4x4x4xf32>
}
