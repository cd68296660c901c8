// RUN: myquant-opt %s -split-input-file --myquant-propagate-qparams -verify-diagnostics | FileCheck %s
// RUN: myquant-opt %s -split-input-file --myquant-propagate-qparams=weight-granularity=per-tensor -verify-diagnostics | FileCheck %s --check-prefix=TENSOR
// RUN: myquant-opt %s -split-input-file --myquant-propagate-qparams=activation-type=uint8 -verify-diagnostics | FileCheck %s --check-prefix=UINT8

// A convolution layer: the padded input and the accumulator before bias and
// relu are inside the layer and get no parameters; the relu output does,
// from its own statistics; max pooling keeps them.

// CHECK-LABEL: func.func @conv_relu_pool
// CHECK:       %[[Q:.*]] = myquant.quantize %arg0 : tensor<1x2x4x4xf32> -> tensor<1x2x4x4x!quant.uniform<i8:f32, 0.066666666666666666:-53>>
// CHECK:       %[[DQ:.*]] = myquant.dequantize %[[Q]]
// CHECK:       %[[PAD:.*]] = tensor.pad %[[DQ]]
// CHECK-NOT:   myquant.quantize %[[PAD]]
// CHECK:       %[[B:.*]] = arith.constant dense<[2117, -300]> : tensor<2xi32>
// CHECK:       quant.scast %[[B]] : tensor<2xi32> to tensor<2x!quant.uniform<i32:f32:0, {4.7244096365500625E-5,6.666666566543379E-4}>>
// CHECK:       %[[W:.*]] = arith.constant dense<{{\[\[\[\[}}14, -28, 42], [56, 71, -85], [99, 113, 127]], {{.*}} [1, 1, -127]]]]> : tensor<2x2x3x3xi8>
// CHECK:       quant.scast %[[W]] : tensor<2x2x3x3xi8> to tensor<2x2x3x3x!quant.uniform<i8<-127:127>:f32:0, {7.0866144548250936E-4,0.009999999849815068}>>
// CHECK:       %[[CONV:.*]] = linalg.conv_2d_nchw_fchw
// CHECK-NOT:   myquant.quantize %[[CONV]]
// CHECK:       %[[RELU:.*]] = linalg.generic
// CHECK:       myquant.quantize %[[RELU]] : tensor<1x2x4x4xf32> -> tensor<1x2x4x4x!quant.uniform<i8:f32, 0.015686274509803921:-128>>
// CHECK:       %[[POOL:.*]] = linalg.pooling_nchw_max
// CHECK:       myquant.quantize %[[POOL]] : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.015686274509803921:-128>>
// CHECK-NOT:   myquant.stats

// TENSOR-LABEL: func.func @conv_relu_pool
// TENSOR:       quant.scast %{{.*}} : tensor<2xi32> to tensor<2x!quant.uniform<i32:f32:0, {6.666666566543379E-4,6.666666566543379E-4}>>
// TENSOR:       quant.scast %{{.*}} : tensor<2x2x3x3xi8> to tensor<2x2x3x3x!quant.uniform<i8<-127:127>:f32, 0.009999999849815068>>

// UINT8-LABEL: func.func @conv_relu_pool
// UINT8:       myquant.quantize %arg0 : tensor<1x2x4x4xf32> -> tensor<1x2x4x4x!quant.uniform<u8:f32, 0.066666666666666666:75>>
func.func @conv_relu_pool(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32> {
  %xs = myquant.stats %x {min = array<f64: -5.0>, max = array<f64: 12.0>} : tensor<1x2x4x4xf32>
  %cst0 = arith.constant 0.0 : f32
  %pad = tensor.pad %xs low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
    tensor.yield %cst0 : f32
  } : tensor<1x2x4x4xf32> to tensor<1x2x6x6xf32>
  %w = arith.constant dense<[[[[0.01, -0.02, 0.03], [0.04, 0.05, -0.06], [0.07, 0.08, 0.09]], [[-0.01, 0.02, -0.03], [0.04, -0.05, 0.06], [-0.07, 0.08, -0.09]]], [[[0.1, 0.2, 0.3], [-0.4, 0.5, 0.6], [0.7, -0.8, 0.9]], [[0.01, 0.01, 0.01], [0.01, 0.01, 0.01], [0.01, 0.01, -1.27]]]]> : tensor<2x2x3x3xf32>
  %b = arith.constant dense<[0.1, -0.2]> : tensor<2xf32>
  %e = tensor.empty() : tensor<1x2x4x4xf32>
  %bb = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d1)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%b : tensor<2xf32>) outs(%e : tensor<1x2x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x2x4x4xf32>
  %conv = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%pad, %w : tensor<1x2x6x6xf32>, tensor<2x2x3x3xf32>) outs(%bb : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %cs = myquant.stats %conv {min = array<f64: -3.0>, max = array<f64: 4.0>} : tensor<1x2x4x4xf32>
  %relu = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%cs : tensor<1x2x4x4xf32>) outs(%e : tensor<1x2x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %cst0 : f32
    linalg.yield %m : f32
  } -> tensor<1x2x4x4xf32>
  %rs = myquant.stats %relu {min = array<f64: 0.0>, max = array<f64: 4.0>} : tensor<1x2x4x4xf32>
  %ninf = arith.constant 0xFF800000 : f32
  %e2 = tensor.empty() : tensor<1x2x2x2xf32>
  %f2 = linalg.fill ins(%ninf : f32) outs(%e2 : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %win = tensor.empty() : tensor<2x2xf32>
  %mp = linalg.pooling_nchw_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>} ins(%rs, %win : tensor<1x2x4x4xf32>, tensor<2x2xf32>) outs(%f2 : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  return %mp : tensor<1x2x2x2xf32>
}

// -----

// A fully connected layer as torch-mlir emits it: the transposed weight
// constant is quantized per output channel (dimension 0 of the [out, in]
// constant) and the bias with scale s_in * s_w[c]. An all-zero channel
// gets scale 1.

// CHECK-LABEL: func.func @linear
// CHECK:       myquant.quantize %arg0 : tensor<2x4xf32> -> tensor<2x4x!quant.uniform<i8:f32, 0.0039215686274509803:-128>>
// CHECK:       arith.constant dense<{{\[\[}}64, -127, 32, 0], [127, 127, 127, 127], [0, 0, 0, 0]]> : tensor<3x4xi8>
// CHECK-SAME:  {{$}}
// CHECK-NEXT:  quant.scast {{.*}} to tensor<3x4x!quant.uniform<i8<-127:127>:f32:0, {0.0078740157480314959,0.0078740157480314959,1.000000e+00}>>
// CHECK:       linalg.transpose
// CHECK:       arith.constant dense<[16192, -8096, 0]> : tensor<3xi32>
// CHECK:       myquant.quantize %{{.*}} : tensor<2x3xf32> -> tensor<2x3x!quant.uniform<i8:f32, 0.021568627450980392:-82>>
func.func @linear(%x: tensor<2x4xf32>) -> tensor<2x3xf32> {
  %xs = myquant.stats %x {min = array<f64: 0.0>, max = array<f64: 1.0>} : tensor<2x4xf32>
  %w = arith.constant dense<[[0.5, -1.0, 0.25, 0.0], [1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]]> : tensor<3x4xf32>
  %b = arith.constant dense<[0.5, -0.25, 0.0]> : tensor<3xf32>
  %z = arith.constant 0.0 : f32
  %et = tensor.empty() : tensor<4x3xf32>
  %wt = linalg.transpose ins(%w : tensor<3x4xf32>) outs(%et : tensor<4x3xf32>) permutation = [1, 0]
  %e = tensor.empty() : tensor<2x3xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %m = linalg.matmul ins(%xs, %wt : tensor<2x4xf32>, tensor<4x3xf32>) outs(%f : tensor<2x3xf32>) -> tensor<2x3xf32>
  %ba = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%m, %b : tensor<2x3xf32>, tensor<3xf32>) outs(%e : tensor<2x3xf32>) {
  ^bb0(%in: f32, %in2: f32, %out: f32):
    %s = arith.addf %in, %in2 : f32
    linalg.yield %s : f32
  } -> tensor<2x3xf32>
  %bs = myquant.stats %ba {min = array<f64: -1.0>, max = array<f64: 4.5>} : tensor<2x3xf32>
  return %bs : tensor<2x3xf32>
}

// -----

// Concatenation: the relu output is computed for the concatenation alone and
// takes its parameters; the argument cannot, so it is requantized and the
// requantization is reported. The tanh has no quantized form and stays in
// float.

// CHECK-LABEL: func.func @concat
// CHECK:       myquant.quantize %arg0 : {{.*}} -> tensor<1x2x!quant.uniform<i8:f32, 0.0078431372549019607>>
// CHECK:       %[[RELU:.*]] = linalg.generic
// CHECK:       myquant.quantize %[[RELU]] : {{.*}} -> tensor<1x2x!quant.uniform<i8:f32, 0.011764705882352941:-43>>
// CHECK:       %[[CAT:.*]] = tensor.concat
// CHECK:       myquant.quantize %[[CAT]] : {{.*}} -> tensor<1x4x!quant.uniform<i8:f32, 0.011764705882352941:-43>>
// CHECK:       math.tanh
func.func @concat(%x: tensor<1x2xf32>, %y: tensor<1x2xf32>) -> tensor<1x4xf32> {
  %xs = myquant.stats %x {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x2xf32>
  %ys = myquant.stats %y {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<1x2xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%ys : tensor<1x2xf32>) outs(%e : tensor<1x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %z : f32
    linalg.yield %m : f32
  } -> tensor<1x2xf32>
  %rs = myquant.stats %r {min = array<f64: 0.0>, max = array<f64: 2.0>} : tensor<1x2xf32>
  // expected-remark@+1 {{operand #0 is requantized from scale 7.843137e-03, zero point}}
  %c = tensor.concat dim(1) %xs, %rs : (tensor<1x2xf32>, tensor<1x2xf32>) -> tensor<1x4xf32>
  %cs = myquant.stats %c {min = array<f64: -1.0>, max = array<f64: 2.0>} : tensor<1x4xf32>
  // expected-remark@+1 {{'math.tanh' stays in float between dequantize and quantize}}
  %t = math.tanh %cs : tensor<1x4xf32>
  return %t : tensor<1x4xf32>
}

// -----

// expected-error@+1 {{argument #0 of 'missing' has no statistics; calibrate the model or annotate the value with myquant.stats}}
func.func @missing(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  // expected-error@+1 {{the result of 'linalg.matmul' has no statistics}}
  %m = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%f : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %m : tensor<1x2xf32>
}

// -----

// Weights are expanded element by element: none, or more than 2^30, are
// rejected.
func.func @no_weights(%x: tensor<2x4xf32>) -> tensor<2x0xf32> {
  %xs = myquant.stats %x {min = array<f64: 0.0>, max = array<f64: 1.0>} : tensor<2x4xf32>
  %w = arith.constant dense<0.0> : tensor<4x0xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x0xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<2x0xf32>) -> tensor<2x0xf32>
  // expected-error@+1 {{'linalg.matmul' op has weights of 0 elements; supported: 1 to 2^30 (weights are expanded at compile time)}}
  %m = linalg.matmul ins(%xs, %w : tensor<2x4xf32>, tensor<4x0xf32>) outs(%f : tensor<2x0xf32>) -> tensor<2x0xf32>
  %ms = myquant.stats %m {min = array<f64: -1.0>, max = array<f64: 4.5>} : tensor<2x0xf32>
  return %ms : tensor<2x0xf32>
}

// -----

func.func @huge_weights(%x: tensor<2x4xf32>) -> tensor<2x1073741824xf32> {
  %xs = myquant.stats %x {min = array<f64: 0.0>, max = array<f64: 1.0>} : tensor<2x4xf32>
  %w = arith.constant dense<0.5> : tensor<4x1073741824xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x1073741824xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<2x1073741824xf32>) -> tensor<2x1073741824xf32>
  // expected-error@+1 {{'linalg.matmul' op has weights of 4294967296 elements; supported: 1 to 2^30 (weights are expanded at compile time)}}
  %m = linalg.matmul ins(%xs, %w : tensor<2x4xf32>, tensor<4x1073741824xf32>) outs(%f : tensor<2x1073741824xf32>) -> tensor<2x1073741824xf32>
  %ms = myquant.stats %m {min = array<f64: -1.0>, max = array<f64: 4.5>} : tensor<2x1073741824xf32>
  return %ms : tensor<2x1073741824xf32>
}

// -----

// 2^40 x 2^30 weights: getNumElements wraps int64 (to 0 here; with 2^40 + 1
// rows to 2^30, which passed the check and then ran for hours; found by
// python/myquant/testing/mutate.py).
func.func @wrapping_weights(%x: tensor<2x1099511627776xf32>) -> tensor<2x1073741824xf32> {
  %xs = myquant.stats %x {min = array<f64: 0.0>, max = array<f64: 1.0>} : tensor<2x1099511627776xf32>
  %w = arith.constant dense<0.5> : tensor<1099511627776x1073741824xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x1073741824xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<2x1073741824xf32>) -> tensor<2x1073741824xf32>
  // expected-error@+1 {{'linalg.matmul' op has weights of more than 2^63 elements; supported: 1 to 2^30 (weights are expanded at compile time)}}
  %m = linalg.matmul ins(%xs, %w : tensor<2x1099511627776xf32>, tensor<1099511627776x1073741824xf32>) outs(%f : tensor<2x1073741824xf32>) -> tensor<2x1073741824xf32>
  %ms = myquant.stats %m {min = array<f64: -1.0>, max = array<f64: 4.5>} : tensor<2x1073741824xf32>
  return %ms : tensor<2x1073741824xf32>
}

// -----

func.func @missing_output_stats(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %xs = myquant.stats %x {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x4xf32>
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  // expected-error@+1 {{the result of 'linalg.matmul' has no statistics}}
  %m = linalg.matmul ins(%xs, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%f : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %m : tensor<1x2xf32>
}

// -----

// The bias alone is 2147451362 in units of s_in * s_w; with 255 * 127 from
// the one product the int32 accumulator can overflow.
func.func @accumulator_overflow(%x: tensor<1x1xf32>) -> tensor<1x1xf32> {
  %xs = myquant.stats %x {min = array<f64: 0.0>, max = array<f64: 1.0>} : tensor<1x1xf32>
  %w = arith.constant dense<[[1.0]]> : tensor<1x1xf32>
  %b = arith.constant dense<[66310.06]> : tensor<1xf32>
  %e = tensor.empty() : tensor<1x1xf32>
  %bb = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%b : tensor<1xf32>) outs(%e : tensor<1x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x1xf32>
  // expected-error@+1 {{the int32 accumulator of output channel 0 can reach}}
  %m = linalg.matmul ins(%xs, %w : tensor<1x1xf32>, tensor<1x1xf32>) outs(%bb : tensor<1x1xf32>) -> tensor<1x1xf32>
  %ms = myquant.stats %m {min = array<f64: 0.0>, max = array<f64: 1.0>} : tensor<1x1xf32>
  return %ms : tensor<1x1xf32>
}

// -----

func.func @bias_beyond_int32(%x: tensor<1x1xf32>) -> tensor<1x1xf32> {
  %xs = myquant.stats %x {min = array<f64: 0.0>, max = array<f64: 1.0>} : tensor<1x1xf32>
  %w = arith.constant dense<[[1.0]]> : tensor<1x1xf32>
  %b = arith.constant dense<[1.0e6]> : tensor<1xf32>
  %e = tensor.empty() : tensor<1x1xf32>
  %bb = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%b : tensor<1xf32>) outs(%e : tensor<1x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x1xf32>
  // expected-error@+1 {{in units of input scale * weight scale, beyond int32}}
  %m = linalg.matmul ins(%xs, %w : tensor<1x1xf32>, tensor<1x1xf32>) outs(%bb : tensor<1x1xf32>) -> tensor<1x1xf32>
  %ms = myquant.stats %m {min = array<f64: 0.0>, max = array<f64: 1.0>} : tensor<1x1xf32>
  return %ms : tensor<1x1xf32>
}

// -----

// NaN or infinity in a weight or bias has no integer form: an error names
// the element, before any cast.
func.func @nan_weight(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %xs = myquant.stats %x {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x2xf32>
  %w = arith.constant dense<[[1.0, 2.0], [0x7FC00000, 4.0]]> : tensor<2x2xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  // expected-error@+1 {{the weight of 'linalg.matmul' holds NaN at element [1, 0]; only finite values can be quantized (fix the model's weight)}}
  %m = linalg.matmul ins(%xs, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%f : tensor<1x2xf32>) -> tensor<1x2xf32>
  %ms = myquant.stats %m {min = array<f64: -3.0>, max = array<f64: 3.0>} : tensor<1x2xf32>
  return %ms : tensor<1x2xf32>
}

// -----

func.func @inf_conv_weight(%x: tensor<1x1x3x3xf32>) -> tensor<1x2x2x2xf32> {
  %xs = myquant.stats %x {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x1x3x3xf32>
  %w = arith.constant dense<[[[[0.1, 0.2], [0.3, 0.4]]], [[[0.5, 0.6], [0.7, 0xFF800000]]]]> : tensor<2x1x2x2xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x2x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  // expected-error@+1 {{the weight of 'linalg.conv_2d_nchw_fchw' holds -Inf at element [1, 0, 1, 1]}}
  %conv = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%xs, %w : tensor<1x1x3x3xf32>, tensor<2x1x2x2xf32>) outs(%f : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %cs = myquant.stats %conv {min = array<f64: -3.0>, max = array<f64: 4.0>} : tensor<1x2x2x2xf32>
  return %cs : tensor<1x2x2x2xf32>
}

// -----

func.func @nan_bias(%x: tensor<1x1xf32>) -> tensor<1x2xf32> {
  %xs = myquant.stats %x {min = array<f64: 0.0>, max = array<f64: 1.0>} : tensor<1x1xf32>
  %w = arith.constant dense<[[1.0, 2.0]]> : tensor<1x2xf32>
  %b = arith.constant dense<[0.5, 0x7FC00000]> : tensor<2xf32>
  %e = tensor.empty() : tensor<1x2xf32>
  %bb = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%b : tensor<2xf32>) outs(%e : tensor<1x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x2xf32>
  // expected-error@+1 {{the bias of 'linalg.matmul' holds NaN at element [1]}}
  %m = linalg.matmul ins(%xs, %w : tensor<1x1xf32>, tensor<1x2xf32>) outs(%bb : tensor<1x2xf32>) -> tensor<1x2xf32>
  %ms = myquant.stats %m {min = array<f64: 0.0>, max = array<f64: 1.0>} : tensor<1x2xf32>
  return %ms : tensor<1x2xf32>
}

// -----

// Same-scale ops pass their operand's parameters through, whatever their
// own statistics say.

// CHECK-LABEL: func.func @same_scale
// CHECK:       %[[C:.*]] = tensor.collapse_shape
// CHECK:       myquant.quantize %[[C]] : tensor<1x8xf32> -> tensor<1x8x!quant.uniform<i8:f32, 0.0078431372549019607>>
func.func @same_scale(%x: tensor<1x2x2x2xf32>) -> tensor<1x8xf32> {
  %xs = myquant.stats %x {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x2x2x2xf32>
  %c = tensor.collapse_shape %xs [[0], [1, 2, 3]] : tensor<1x2x2x2xf32> into tensor<1x8xf32>
  %cs = myquant.stats %c {min = array<f64: -5.0>, max = array<f64: 5.0>} : tensor<1x8xf32>
  return %cs : tensor<1x8xf32>
}

// -----

// Dynamic shapes are not quantized: the layer stays in float, reported
// with the reason, and no quantize op is put on a dynamic tensor (its
// lowering needs static shapes); tensor.dim only reads a shape and is not
// float computation.

// CHECK-LABEL: func.func @dynamic
// CHECK:       %[[M:.*]] = linalg.matmul
// CHECK-NOT:   myquant.quantize
// CHECK:       return
func.func @dynamic(%x: tensor<?x4xf32>, %w: tensor<4x?xf32>) -> tensor<?x?xf32> {
  %xs = myquant.stats %x {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<?x4xf32>
  %ws = myquant.stats %w {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<4x?xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %d0 = tensor.dim %x, %c0 : tensor<?x4xf32>
  %d1 = tensor.dim %w, %c1 : tensor<4x?xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty(%d0, %d1) : tensor<?x?xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<?x?xf32>) -> tensor<?x?xf32>
  // expected-remark@+1 {{'linalg.matmul' stays in float between dequantize and quantize: it has the dynamic shape 'tensor<?x4xf32>'}}
  %m = linalg.matmul ins(%xs, %ws : tensor<?x4xf32>, tensor<4x?xf32>) outs(%f : tensor<?x?xf32>) -> tensor<?x?xf32>
  %ms = myquant.stats %m {min = array<f64: -4.0>, max = array<f64: 4.0>} : tensor<?x?xf32>
  return %ms : tensor<?x?xf32>
}
