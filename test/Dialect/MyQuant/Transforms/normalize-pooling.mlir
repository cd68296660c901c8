// Pooling as torch-mlir writes it (linalg.pooling_* in NCHW and NHWC, the
// average as a sum pool and a division by the window size) and as
// --linalg-generalize-named-ops writes it (linalg.generic with the window
// as an operand): myquant-normalize specializes the generics back with
// upstream's specializeGenericOp, and the dry run quantizes each pool.

// RUN: myquant-opt %s -split-input-file --linalg-generalize-named-ops | FileCheck %s --check-prefix=GEN
// RUN: myquant-opt %s -split-input-file --linalg-generalize-named-ops \
// RUN:   | myquant-opt -split-input-file --myquant-ptq=allow-float=false | FileCheck %s
// RUN: myquant-opt %s -split-input-file --myquant-ptq=allow-float=false | FileCheck %s

// GEN-LABEL: func.func @maxpool_nchw
// GEN-NOT:   linalg.pooling
// GEN:       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]
// GEN:       arith.maximumf
// CHECK-LABEL: func.func @maxpool_nchw
// CHECK:       myquant.max_pool2d
// CHECK-SAME:    kernel = array<i64: 2, 2>, layout = #myquant.layout<nchw>
// CHECK-SAME:    strides = array<i64: 2, 2>
// CHECK-NEXT:  myquant.dequantize
func.func @maxpool_nchw(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32> {
  %xs = myquant.stats %x {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x2x4x4xf32>
  %ninf = arith.constant 0xFF800000 : f32
  %e = tensor.empty() : tensor<1x2x2x2xf32>
  %f = linalg.fill ins(%ninf : f32) outs(%e : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %k = tensor.empty() : tensor<2x2xf32>
  %p = linalg.pooling_nchw_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>} ins(%xs, %k : tensor<1x2x4x4xf32>, tensor<2x2xf32>) outs(%f : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %ps = myquant.stats %p {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x2x2x2xf32>
  return %ps : tensor<1x2x2x2xf32>
}

// -----

// GEN-LABEL: func.func @maxpool_nhwc
// GEN-NOT:   linalg.pooling
// CHECK-LABEL: func.func @maxpool_nhwc
// CHECK:       myquant.max_pool2d
// CHECK-SAME:    layout = #myquant.layout<nhwc>
// CHECK-NEXT:  myquant.dequantize
func.func @maxpool_nhwc(%x: tensor<1x4x4x2xf32>) -> tensor<1x2x2x2xf32> {
  %xs = myquant.stats %x {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x4x4x2xf32>
  %ninf = arith.constant 0xFF800000 : f32
  %e = tensor.empty() : tensor<1x2x2x2xf32>
  %f = linalg.fill ins(%ninf : f32) outs(%e : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %k = tensor.empty() : tensor<2x2xf32>
  %p = linalg.pooling_nhwc_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>} ins(%xs, %k : tensor<1x4x4x2xf32>, tensor<2x2xf32>) outs(%f : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %ps = myquant.stats %p {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x2x2x2xf32>
  return %ps : tensor<1x2x2x2xf32>
}

// -----

// GEN-LABEL: func.func @avgpool_nchw
// GEN-NOT:   linalg.pooling
// CHECK-LABEL: func.func @avgpool_nchw
// CHECK:       myquant.avg_pool2d
// CHECK-SAME:    layout = #myquant.layout<nchw>
// CHECK-NEXT:  myquant.dequantize
func.func @avgpool_nchw(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32> {
  %xs = myquant.stats %x {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x2x4x4xf32>
  %zero = arith.constant 0.0 : f32
  %four = arith.constant 4.0 : f32
  %e = tensor.empty() : tensor<1x2x2x2xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %k = tensor.empty() : tensor<2x2xf32>
  %p = linalg.pooling_nchw_sum {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>} ins(%xs, %k : tensor<1x2x4x4xf32>, tensor<2x2xf32>) outs(%f : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %d = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%p : tensor<1x2x2x2xf32>) outs(%e : tensor<1x2x2x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %q = arith.divf %in, %four : f32
    linalg.yield %q : f32
  } -> tensor<1x2x2x2xf32>
  %ds = myquant.stats %d {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x2x2x2xf32>
  return %ds : tensor<1x2x2x2xf32>
}

// -----

// GEN-LABEL: func.func @avgpool_nhwc
// GEN-NOT:   linalg.pooling
// CHECK-LABEL: func.func @avgpool_nhwc
// CHECK:       myquant.avg_pool2d
// CHECK-SAME:    layout = #myquant.layout<nhwc>
// CHECK-NEXT:  myquant.dequantize
func.func @avgpool_nhwc(%x: tensor<1x4x4x2xf32>) -> tensor<1x2x2x2xf32> {
  %xs = myquant.stats %x {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x4x4x2xf32>
  %zero = arith.constant 0.0 : f32
  %four = arith.constant 4.0 : f32
  %e = tensor.empty() : tensor<1x2x2x2xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %k = tensor.empty() : tensor<2x2xf32>
  %p = linalg.pooling_nhwc_sum {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>} ins(%xs, %k : tensor<1x4x4x2xf32>, tensor<2x2xf32>) outs(%f : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %d = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%p : tensor<1x2x2x2xf32>) outs(%e : tensor<1x2x2x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %q = arith.divf %in, %four : f32
    linalg.yield %q : f32
  } -> tensor<1x2x2x2xf32>
  %ds = myquant.stats %d {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x2x2x2xf32>
  return %ds : tensor<1x2x2x2xf32>
}
