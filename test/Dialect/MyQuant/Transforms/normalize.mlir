// RUN: myquant-opt %s -split-input-file --myquant-normalize | FileCheck %s --check-prefix=NORM
// RUN: myquant-opt %s -split-input-file --myquant-ptq | FileCheck %s

// The forms torch-mlir writes for relu, clamps, batch-1 operands and conv
// biases, rewritten by myquant-normalize and then quantized by the pipeline.

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// torch-mlir's relu: compare unordered-greater and select, the constant
// hoisted out of the body.
// NORM-LABEL: func.func @relu_cmpf_select
// NORM:       linalg.generic
// NORM:         arith.maximumf %{{.*}}, %{{.*}} : f32
// NORM-NOT:     arith.select
// CHECK-LABEL: func.func @relu_cmpf_select
// CHECK:       myquant.conv2d
// CHECK-SAME:    -> tensor<1x2x4x4x!quant.uniform<i8:f32, 0.0078431372549019607:-128>>
// CHECK-NOT:   linalg.generic
func.func @relu_cmpf_select(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %xs = myquant.stats %x {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x2x4x4xf32>
  %zero = arith.constant 0.0 : f32
  %w = arith.constant dense<[[[[0.5]], [[-0.25]]], [[[0.75]], [[1.0]]]]> : tensor<2x2x1x1xf32>
  %e = tensor.empty() : tensor<1x2x4x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %conv = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%xs, %w : tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) outs(%f : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %relu = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%conv : tensor<1x2x4x4xf32>) outs(%e : tensor<1x2x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %c = arith.cmpf ugt, %in, %zero : f32
    %s = arith.select %c, %in, %zero : f32
    linalg.yield %s : f32
  } -> tensor<1x2x4x4xf32>
  %rs = myquant.stats %relu {min = array<f64: 0.0>, max = array<f64: 2.0>} : tensor<1x2x4x4xf32>
  return %rs : tensor<1x2x4x4xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// torch-mlir's clamp (relu6): two compare-and-selects, the lower bound
// first, ordered predicates with the constant on the left (a NaN input
// selects the input: the NaN-propagating maximumf / minimumf).
// NORM-LABEL: func.func @clamp_cmpf_select
// NORM:         %[[LO:.*]] = arith.maximumf %{{.*}}, %{{.*}} : f32
// NORM:         arith.minimumf %[[LO]], %{{.*}} : f32
// CHECK-LABEL: func.func @clamp_cmpf_select
// CHECK:       myquant.conv2d
// CHECK-SAME:    -> tensor<1x2x4x4x!quant.uniform<i8:f32, 0.0078431372549019607:-128>>
// CHECK-NOT:   linalg.generic
func.func @clamp_cmpf_select(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %xs = myquant.stats %x {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x2x4x4xf32>
  %zero = arith.constant 0.0 : f32
  %six = arith.constant 6.0 : f32
  %w = arith.constant dense<[[[[0.5]], [[-0.25]]], [[[0.75]], [[1.0]]]]> : tensor<2x2x1x1xf32>
  %e = tensor.empty() : tensor<1x2x4x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %conv = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%xs, %w : tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) outs(%f : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %clamp = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%conv : tensor<1x2x4x4xf32>) outs(%e : tensor<1x2x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %c0 = arith.cmpf ogt, %zero, %in : f32
    %s0 = arith.select %c0, %zero, %in : f32
    %c1 = arith.cmpf olt, %six, %s0 : f32
    %s1 = arith.select %c1, %six, %s0 : f32
    linalg.yield %s1 : f32
  } -> tensor<1x2x4x4xf32>
  %rs = myquant.stats %clamp {min = array<f64: 0.0>, max = array<f64: 2.0>} : tensor<1x2x4x4xf32>
  return %rs : tensor<1x2x4x4xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// A clamp written min first, max second, with the constants on the left.
// NORM-LABEL: func.func @clamp_min_then_max
// CHECK-LABEL: func.func @clamp_min_then_max
// CHECK:       myquant.conv2d
// CHECK-SAME:    -> tensor<1x2x4x4x!quant.uniform<i8:f32, 0.0078431372549019607:-128>>
// CHECK-NOT:   linalg.generic
func.func @clamp_min_then_max(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %xs = myquant.stats %x {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x2x4x4xf32>
  %zero = arith.constant 0.0 : f32
  %six = arith.constant 6.0 : f32
  %w = arith.constant dense<[[[[0.5]], [[-0.25]]], [[[0.75]], [[1.0]]]]> : tensor<2x2x1x1xf32>
  %e = tensor.empty() : tensor<1x2x4x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %conv = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%xs, %w : tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) outs(%f : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %clamp = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%conv : tensor<1x2x4x4xf32>) outs(%e : tensor<1x2x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %hi = arith.minimumf %six, %in : f32
    %lo = arith.maximumf %zero, %hi : f32
    linalg.yield %lo : f32
  } -> tensor<1x2x4x4xf32>
  %rs = myquant.stats %clamp {min = array<f64: 0.0>, max = array<f64: 2.0>} : tensor<1x2x4x4xf32>
  return %rs : tensor<1x2x4x4xf32>
}

// -----

#b0 = affine_map<(d0, d1, d2, d3) -> (0, d1, d2, d3)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// torch-mlir reads batch-1 operands at index 0; on a batch of 1 that is
// the identity.
// NORM-LABEL: func.func @batch_index_zero
// NORM:       linalg.generic {indexing_maps = [#[[ID:.*]], #[[ID]]]
// CHECK-LABEL: func.func @batch_index_zero
// CHECK:       myquant.conv2d
// CHECK-SAME:    -> tensor<1x2x4x4x!quant.uniform<i8:f32, 0.0078431372549019607:-128>>
// CHECK-NOT:   linalg.generic
func.func @batch_index_zero(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %xs = myquant.stats %x {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x2x4x4xf32>
  %zero = arith.constant 0.0 : f32
  %w = arith.constant dense<[[[[0.5]], [[-0.25]]], [[[0.75]], [[1.0]]]]> : tensor<2x2x1x1xf32>
  %e = tensor.empty() : tensor<1x2x4x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %conv = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%xs, %w : tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) outs(%f : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %relu = linalg.generic {indexing_maps = [#b0, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%conv : tensor<1x2x4x4xf32>) outs(%e : tensor<1x2x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x2x4x4xf32>
  %rs = myquant.stats %relu {min = array<f64: 0.0>, max = array<f64: 2.0>} : tensor<1x2x4x4xf32>
  return %rs : tensor<1x2x4x4xf32>
}

// -----

#b0 = affine_map<(d0, d1, d2, d3) -> (0, d1, d2, d3)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// torch-mlir's conv bias: a linalg.broadcast of the 1-D constant added
// after the convolution (here with the broadcast first), and the add
// reading batch-1 operands at 0. The add reads the 1-D bias, and as a
// per-channel affine function of the convolution it moves into the
// accumulator.
// NORM-LABEL: func.func @conv_bias_broadcast_add
// NORM-NOT:   linalg.broadcast
// NORM:       %[[INIT:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<2xf32>)
// NORM:       %[[CONV:.*]] = linalg.conv_2d_nchw_fchw {{.*}} outs(%[[INIT]] :
// NORM-NEXT:  myquant.stats %[[CONV]]
// CHECK-LABEL: func.func @conv_bias_broadcast_add
// CHECK:       %[[B:.*]] = arith.constant dense<[3239, -3239]> : tensor<2xi32>
// CHECK:       myquant.conv2d %{{.*}}, %{{.*}}, %[[B]]
// CHECK-NOT:   linalg.generic
// CHECK-NOT:   linalg.broadcast
func.func @conv_bias_broadcast_add(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %xs = myquant.stats %x {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x2x4x4xf32>
  %zero = arith.constant 0.0 : f32
  %w = arith.constant dense<[[[[0.5]], [[-0.25]]], [[[0.75]], [[1.0]]]]> : tensor<2x2x1x1xf32>
  %b = arith.constant dense<[0.1, -0.2]> : tensor<2xf32>
  %e = tensor.empty() : tensor<1x2x4x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %conv = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%xs, %w : tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) outs(%f : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %bb = linalg.broadcast ins(%b : tensor<2xf32>) outs(%e : tensor<1x2x4x4xf32>) dimensions = [0, 2, 3]
  %add = linalg.generic {indexing_maps = [#b0, #b0, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%bb, %conv : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) outs(%e : tensor<1x2x4x4xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %s = arith.addf %in, %in1 : f32
    linalg.yield %s : f32
  } -> tensor<1x2x4x4xf32>
  %as = myquant.stats %add {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<1x2x4x4xf32>
  return %as : tensor<1x2x4x4xf32>
}

// -----

// The bias broadcast by linalg.broadcast into the accumulator.
// NORM-LABEL: func.func @conv_bias_broadcast_init
// NORM-NOT:   linalg.broadcast
// NORM:       linalg.generic
// NORM:       linalg.conv_2d_nchw_fchw
// CHECK-LABEL: func.func @conv_bias_broadcast_init
// CHECK:       %[[B:.*]] = arith.constant dense<[3239, -3239]> : tensor<2xi32>
// CHECK:       myquant.conv2d %{{.*}}, %{{.*}}, %[[B]]
// CHECK-NOT:   linalg.
func.func @conv_bias_broadcast_init(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %xs = myquant.stats %x {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x2x4x4xf32>
  %w = arith.constant dense<[[[[0.5]], [[-0.25]]], [[[0.75]], [[1.0]]]]> : tensor<2x2x1x1xf32>
  %b = arith.constant dense<[0.1, -0.2]> : tensor<2xf32>
  %e = tensor.empty() : tensor<1x2x4x4xf32>
  %bb = linalg.broadcast ins(%b : tensor<2xf32>) outs(%e : tensor<1x2x4x4xf32>) dimensions = [0, 2, 3]
  %conv = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%xs, %w : tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) outs(%bb : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %cs = myquant.stats %conv {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<1x2x4x4xf32>
  return %cs : tensor<1x2x4x4xf32>
}

// -----

// A filter computed from constants (a transposed and a reshaped constant)
// folds to the constant the convolution reads.
// NORM-LABEL: func.func @fold_constant_filter
// NORM:       %[[W:.*]] = arith.constant dense<{{\[\[\[\[}}5.000000e-01]], {{\[\[}}7.500000e-01]]], {{\[\[\[}}-2.500000e-01]], {{\[\[}}1.000000e+00]]]]> : tensor<2x2x1x1xf32>
// NORM-NOT:   linalg.transpose
// NORM-NOT:   tensor.expand_shape
// NORM:       linalg.conv_2d_nchw_fchw {{.*}} ins(%{{.*}}, %[[W]] :
// CHECK-LABEL: func.func @fold_constant_filter
// CHECK:       myquant.conv2d
// CHECK-NOT:   linalg.
func.func @fold_constant_filter(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %xs = myquant.stats %x {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x2x4x4xf32>
  %zero = arith.constant 0.0 : f32
  %w2 = arith.constant dense<[[0.5, -0.25], [0.75, 1.0]]> : tensor<2x2xf32>
  %et = tensor.empty() : tensor<2x2xf32>
  %wt = linalg.transpose ins(%w2 : tensor<2x2xf32>) outs(%et : tensor<2x2xf32>) permutation = [1, 0]
  %w = tensor.expand_shape %wt [[0], [1, 2, 3]] output_shape [2, 2, 1, 1] : tensor<2x2xf32> into tensor<2x2x1x1xf32>
  %e = tensor.empty() : tensor<1x2x4x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %conv = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%xs, %w : tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) outs(%f : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %cs = myquant.stats %conv {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<1x2x4x4xf32>
  return %cs : tensor<1x2x4x4xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#c = affine_map<(d0, d1, d2, d3) -> (d1)>
// An inference BatchNorm left unfolded by torch-mlir, after a convolution
// without bias; its scale gamma * rsqrt(var + eps) is itself an unfolded
// generic of constants. Channel 0: a = 2 / sqrt(4) = 1, b = 0.5 - 0.1 a;
// channel 1: a = 1 / sqrt(0.25) = 2, b = -0.5. Filters scale by a, the
// bias is b.
// NORM-LABEL: func.func @batchnorm_into_conv
// NORM-DAG:   %[[W:.*]] = arith.constant dense<{{\[\[\[\[}}5.000000e-01]], {{\[\[}}-2.500000e-01]]], {{\[\[\[}}1.500000e+00]], {{\[\[}}2.000000e+00]]]]> : tensor<2x2x1x1xf32>
// NORM-DAG:   %[[B:.*]] = arith.constant dense<[4.000000e-01, -5.000000e-01]> : tensor<2xf32>
// NORM:       %[[INIT:.*]] = linalg.generic {{.*}} ins(%[[B]] : tensor<2xf32>)
// NORM:       %[[CONV:.*]] = linalg.conv_2d_nchw_fchw {{.*}} ins(%{{.*}}, %[[W]] : {{.*}}) outs(%[[INIT]] :
// NORM-NEXT:  myquant.stats %[[CONV]]
// CHECK-LABEL: func.func @batchnorm_into_conv
// CHECK:       %[[B:.*]] = arith.constant dense<{{\[}}{{-?[0-9]+}}, {{-?[0-9]+}}]> : tensor<2xi32>
// CHECK:       myquant.conv2d %{{.*}}, %{{.*}}, %[[B]]
// CHECK-NOT:   linalg.
func.func @batchnorm_into_conv(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %xs = myquant.stats %x {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x2x4x4xf32>
  %zero = arith.constant 0.0 : f32
  %eps = arith.constant 0.0 : f32
  %w = arith.constant dense<[[[[0.5]], [[-0.25]]], [[[0.75]], [[1.0]]]]> : tensor<2x2x1x1xf32>
  %gamma = arith.constant dense<[2.0, 1.0]> : tensor<2xf32>
  %beta = arith.constant dense<[0.5, -0.5]> : tensor<2xf32>
  %mean = arith.constant dense<[0.1, 0.0]> : tensor<2xf32>
  %var = arith.constant dense<[4.0, 0.25]> : tensor<2xf32>
  %e1 = tensor.empty() : tensor<2xf32>
  %scale = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%gamma, %var : tensor<2xf32>, tensor<2xf32>) outs(%e1 : tensor<2xf32>) {
  ^bb0(%g: f32, %v: f32, %o: f32):
    %ve = arith.addf %v, %eps : f32
    %r = math.rsqrt %ve : f32
    %s = arith.mulf %g, %r : f32
    linalg.yield %s : f32
  } -> tensor<2xf32>
  %e = tensor.empty() : tensor<1x2x4x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %conv = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%xs, %w : tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) outs(%f : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %bn = linalg.generic {indexing_maps = [#id, #c, #c, #c, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%conv, %mean, %scale, %beta : tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) outs(%e : tensor<1x2x4x4xf32>) {
  ^bb0(%y: f32, %m: f32, %s: f32, %b: f32, %o: f32):
    %d = arith.subf %y, %m : f32
    %p = arith.mulf %d, %s : f32
    %r = arith.addf %p, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32>
  %bs = myquant.stats %bn {min = array<f64: -3.0>, max = array<f64: 3.0>} : tensor<1x2x4x4xf32>
  return %bs : tensor<1x2x4x4xf32>
}
