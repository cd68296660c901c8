// RUN: myquant-opt %s -split-input-file --myquant-propagate-qparams \
// RUN:   --myquant-quantize -verify-diagnostics | FileCheck %s

// The forms of issue 14 from the dry run to myquant ops: binary ops whose
// operands broadcast (a read at 0, a dropped dimension, an explicit
// linalg.broadcast), subtraction, scaling by a constant, and pools whose
// windows differ in size.

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#se = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, 0)>
// CHECK-LABEL: func.func @squeeze_excite_mul
// CHECK: myquant.mul %{{.*}}, %{{.*}} {rescale = #myquant.rescale<{{.*}}>}
// CHECK-SAME: (tensor<1x4x3x3x!quant.uniform<i8:f32, {{.*}}>>, tensor<1x4x1x1x!quant.uniform<i8:f32, {{.*}}>>) -> tensor<1x4x3x3x!quant.uniform
// CHECK-NOT: linalg.generic
func.func @squeeze_excite_mul(%x: tensor<1x4x3x3xf32>, %s: tensor<1x4x1x1xf32>) -> tensor<1x4x3x3xf32> {
  %xs = myquant.stats %x {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<1x4x3x3xf32>
  %ss = myquant.stats %s {min = array<f64: 0.0>, max = array<f64: 1.0>} : tensor<1x4x1x1xf32>
  %e = tensor.empty() : tensor<1x4x3x3xf32>
  %m = linalg.generic {indexing_maps = [#id, #se, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%xs, %ss : tensor<1x4x3x3xf32>, tensor<1x4x1x1xf32>) outs(%e : tensor<1x4x3x3xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %p = arith.mulf %a, %b : f32
    linalg.yield %p : f32
  } -> tensor<1x4x3x3xf32>
  %ms = myquant.stats %m {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<1x4x3x3xf32>
  return %ms : tensor<1x4x3x3xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#drop = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
// The [N, C] operand takes the result's rank with unit height and width.
// CHECK-LABEL: func.func @add_dropped_dims
// CHECK: %[[E:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0], [1, 2, 3]] output_shape [1, 4, 1, 1] : tensor<1x4x!quant.uniform<{{.*}}>> into tensor<1x4x1x1x!quant.uniform
// CHECK: myquant.add %{{.*}}, %[[E]] {left_shift = 20 : i64
// CHECK-NOT: subtract
func.func @add_dropped_dims(%x: tensor<1x4x3x3xf32>, %s: tensor<1x4xf32>) -> tensor<1x4x3x3xf32> {
  %xs = myquant.stats %x {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<1x4x3x3xf32>
  %ss = myquant.stats %s {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x4xf32>
  %e = tensor.empty() : tensor<1x4x3x3xf32>
  %m = linalg.generic {indexing_maps = [#id, #drop, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%xs, %ss : tensor<1x4x3x3xf32>, tensor<1x4xf32>) outs(%e : tensor<1x4x3x3xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %p = arith.addf %a, %b : f32
    linalg.yield %p : f32
  } -> tensor<1x4x3x3xf32>
  %ms = myquant.stats %m {min = array<f64: -3.0>, max = array<f64: 3.0>} : tensor<1x4x3x3xf32>
  return %ms : tensor<1x4x3x3xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// An explicit broadcast moves int8 storage; the mul then has equal shapes.
// CHECK-LABEL: func.func @explicit_broadcast
// CHECK: %[[C:.*]] = quant.scast %{{.*}} : tensor<1x4x!quant.uniform<{{.*}}>> to tensor<1x4xi8>
// CHECK: %[[B:.*]] = linalg.broadcast ins(%[[C]] : tensor<1x4xi8>) outs(%{{.*}} : tensor<1x4x3x3xi8>) dimensions = [2, 3]
// CHECK: %[[Q:.*]] = quant.scast %[[B]] : tensor<1x4x3x3xi8> to tensor<1x4x3x3x!quant.uniform
// CHECK: myquant.mul %{{.*}}, %[[Q]]
func.func @explicit_broadcast(%x: tensor<1x4x3x3xf32>, %s: tensor<1x4xf32>) -> tensor<1x4x3x3xf32> {
  %xs = myquant.stats %x {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<1x4x3x3xf32>
  %ss = myquant.stats %s {min = array<f64: 0.0>, max = array<f64: 1.0>} : tensor<1x4xf32>
  %e0 = tensor.empty() : tensor<1x4x3x3xf32>
  %b = linalg.broadcast ins(%ss : tensor<1x4xf32>) outs(%e0 : tensor<1x4x3x3xf32>) dimensions = [2, 3]
  %e = tensor.empty() : tensor<1x4x3x3xf32>
  %m = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%xs, %b : tensor<1x4x3x3xf32>, tensor<1x4x3x3xf32>) outs(%e : tensor<1x4x3x3xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %p = arith.mulf %a, %c : f32
    linalg.yield %p : f32
  } -> tensor<1x4x3x3xf32>
  %ms = myquant.stats %m {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<1x4x3x3xf32>
  return %ms : tensor<1x4x3x3xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
// `b - a` written with the body's arguments swapped: the quantized operands
// follow the subtraction, not the generic's inputs.
// CHECK-LABEL: func.func @sub_swapped
// CHECK-SAME: (%[[A:.*]]: tensor<2x8xf32>, %[[B:.*]]: tensor<2x8xf32>)
// CHECK-DAG: %[[QA:.*]] = myquant.quantize %[[A]]
// CHECK-DAG: %[[QB:.*]] = myquant.quantize %[[B]]
// CHECK: myquant.add %[[QB]], %[[QA]] {{{.*}}subtract}
func.func @sub_swapped(%a: tensor<2x8xf32>, %b: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %as = myquant.stats %a {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<2x8xf32>
  %bs = myquant.stats %b {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<2x8xf32>
  %e = tensor.empty() : tensor<2x8xf32>
  %d = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%as, %bs : tensor<2x8xf32>, tensor<2x8xf32>) outs(%e : tensor<2x8xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %p = arith.subf %y, %x : f32
    linalg.yield %p : f32
  } -> tensor<2x8xf32>
  %ds = myquant.stats %d {min = array<f64: -3.0>, max = array<f64: 3.0>} : tensor<2x8xf32>
  return %ds : tensor<2x8xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
// x / 4 and x * 0.5 are requantizations with a factor; the outputs keep
// their own parameters. A negative factor has no non-negative multiplier:
// it is a function of one int8 value, quantized as a lookup table.
// CHECK-LABEL: func.func @scale_by_constant
// CHECK: myquant.requantize %{{.*}} {factor = 2.500000e-01 : f64, rescale = #myquant.rescale<multiplier = [{{[0-9]+}}], shift = [{{[0-9]+}}]
// CHECK: myquant.requantize %{{.*}} {factor = 5.000000e-01 : f64, rescale =
// CHECK: myquant.table
// CHECK-NOT: arith.mulf
func.func @scale_by_constant(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %xs = myquant.stats %x {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<2x8xf32>
  %c4 = arith.constant 4.0 : f32
  %half = arith.constant 0.5 : f32
  %neg = arith.constant -1.5 : f32
  %e = tensor.empty() : tensor<2x8xf32>
  %d = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%xs : tensor<2x8xf32>) outs(%e : tensor<2x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %p = arith.divf %a, %c4 : f32
    linalg.yield %p : f32
  } -> tensor<2x8xf32>
  %ds = myquant.stats %d {min = array<f64: -0.6>, max = array<f64: 0.5>} : tensor<2x8xf32>
  %m = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%ds : tensor<2x8xf32>) outs(%e : tensor<2x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %p = arith.mulf %a, %half : f32
    linalg.yield %p : f32
  } -> tensor<2x8xf32>
  %ms = myquant.stats %m {min = array<f64: -0.3>, max = array<f64: 0.25>} : tensor<2x8xf32>
  %n = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%ms : tensor<2x8xf32>) outs(%e : tensor<2x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %p = arith.mulf %a, %neg : f32
    linalg.yield %p : f32
  } -> tensor<2x8xf32>
  %ns = myquant.stats %n {min = array<f64: -0.4>, max = array<f64: 0.5>} : tensor<2x8xf32>
  return %ns : tensor<2x8xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#hw = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
// AvgPool2d(2, ceil_mode=True) on 3 x 3: the last row and column of windows
// hold 2 and 1 cells, PyTorch's divisors [[4, 2], [2, 1]]; padded on the
// bottom and right only. MaxPool2d(2, ceil_mode=True) likewise.
// CHECK-LABEL: func.func @ceil_mode_pools
// CHECK: myquant.max_pool2d %{{.*}} {dilations = array<i64: 1, 1>, kernel = array<i64: 2, 2>, layout = #myquant.layout<nchw>, padding = array<i64: 0, 0, 1, 1>, strides = array<i64: 2, 2>}
// CHECK: myquant.avg_pool2d %{{.*}} {count_include_pad, divisors = array<i64: 4, 2, 2, 1>, kernel = array<i64: 2, 2>, layout = #myquant.layout<nchw>, padding = array<i64: 0, 0, 1, 1>, rescale = #myquant.rescale<multiplier = [{{[0-9]+}}, {{[0-9]+}}, {{[0-9]+}}, {{[0-9]+}}], shift = [{{.*}}]
func.func @ceil_mode_pools(%x: tensor<1x2x3x3xf32>) -> (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) {
  %xs = myquant.stats %x {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<1x2x3x3xf32>
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %pm = tensor.pad %xs low[0, 0, 0, 0] high[0, 0, 1, 1] {
  ^bb0(%i0: index, %i1: index, %i2: index, %i3: index):
    tensor.yield %ninf : f32
  } : tensor<1x2x3x3xf32> to tensor<1x2x4x4xf32>
  %em = tensor.empty() : tensor<1x2x2x2xf32>
  %fm = linalg.fill ins(%ninf : f32) outs(%em : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %w = tensor.empty() : tensor<2x2xf32>
  %mp = linalg.pooling_nchw_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>}
      ins(%pm, %w : tensor<1x2x4x4xf32>, tensor<2x2xf32>) outs(%fm : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %mps = myquant.stats %mp {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<1x2x2x2xf32>
  %pz = tensor.pad %xs low[0, 0, 0, 0] high[0, 0, 1, 1] {
  ^bb0(%i0: index, %i1: index, %i2: index, %i3: index):
    tensor.yield %zero : f32
  } : tensor<1x2x3x3xf32> to tensor<1x2x4x4xf32>
  %fz = linalg.fill ins(%zero : f32) outs(%em : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %sum = linalg.pooling_nchw_sum {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>}
      ins(%pz, %w : tensor<1x2x4x4xf32>, tensor<2x2xf32>) outs(%fz : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %d = arith.constant dense<[[4.0, 2.0], [2.0, 1.0]]> : tensor<2x2xf32>
  %avg = linalg.generic {indexing_maps = [#id, #hw, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%sum, %d : tensor<1x2x2x2xf32>, tensor<2x2xf32>) outs(%em : tensor<1x2x2x2xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %q = arith.divf %a, %b : f32
    linalg.yield %q : f32
  } -> tensor<1x2x2x2xf32>
  %avgs = myquant.stats %avg {min = array<f64: -1.5>, max = array<f64: 1.5>} : tensor<1x2x2x2xf32>
  return %mps, %avgs : tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ch = affine_map<(d0, d1, d2, d3) -> (d1)>
// A product with a constant per-channel tensor is a requantize with
// per-channel factors (more forms in quantize-channel-scale.mlir).
// CHECK-LABEL: func.func @constant_channel_scale
// CHECK: myquant.requantize %{{.*}} {factor_axis = 1 : i64, factors = array<f64: 5.000000e-01, 1.000000e+00, 2.000000e+00, 2.500000e-01>
// CHECK-NOT: linalg.generic
func.func @constant_channel_scale(%x: tensor<1x4x3x3xf32>) -> tensor<1x4x3x3xf32> {
  %xs = myquant.stats %x {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<1x4x3x3xf32>
  %g = arith.constant dense<[0.5, 1.0, 2.0, 0.25]> : tensor<4xf32>
  %e = tensor.empty() : tensor<1x4x3x3xf32>
  %m = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%xs, %g : tensor<1x4x3x3xf32>, tensor<4xf32>) outs(%e : tensor<1x4x3x3xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %p = arith.mulf %a, %b : f32
    linalg.yield %p : f32
  } -> tensor<1x4x3x3xf32>
  %ms = myquant.stats %m {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<1x4x3x3xf32>
  return %ms : tensor<1x4x3x3xf32>
}
