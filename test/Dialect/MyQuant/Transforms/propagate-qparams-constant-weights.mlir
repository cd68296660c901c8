// RUN: myquant-opt %s --myquant-propagate-qparams -verify-diagnostics | FileCheck %s
// RUN: not myquant-opt %s "--myquant-propagate-qparams=allow-float=false" 2>&1 | FileCheck %s --check-prefix=STRICT
// RUN: myquant-opt %s --myquant-ptq | FileCheck %s --check-prefix=PTQ

// A filter computed from constants (the linalg.transpose of TOSA's
// transpose_conv2d workaround) has no statistics and is no constant: the
// dry run keeps the convolution in float with a remark instead of stopping
// (an error only with allow-float=false); myquant-normalize folds it, and
// the pipeline quantizes the convolution.

// CHECK-LABEL: func.func @transposed_constant_filter
// CHECK:       myquant.dequantize
// CHECK:       linalg.conv_2d_nchw_fchw
// STRICT:      error: 'linalg.conv_2d_nchw_fchw' cannot be quantized and allow-float=false
// STRICT-NOT:  has no statistics
// PTQ-LABEL:   func.func @transposed_constant_filter
// PTQ:         myquant.conv2d
// PTQ-NOT:     linalg.conv
func.func @transposed_constant_filter(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %xs = myquant.stats %x {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x2x4x4xf32>
  %zero = arith.constant 0.0 : f32
  %w0 = arith.constant dense<[[[[0.5]], [[-0.25]]], [[[0.75]], [[1.0]]]]> : tensor<2x2x1x1xf32>
  %et = tensor.empty() : tensor<2x2x1x1xf32>
  %w = linalg.transpose ins(%w0 : tensor<2x2x1x1xf32>) outs(%et : tensor<2x2x1x1xf32>) permutation = [1, 0, 2, 3]
  %e = tensor.empty() : tensor<1x2x4x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  // expected-remark@+1 {{'linalg.conv_2d_nchw_fchw' stays in float between dequantize and quantize}}
  %conv = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%xs, %w : tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) outs(%f : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %cs = myquant.stats %conv {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<1x2x4x4xf32>
  return %cs : tensor<1x2x4x4xf32>
}
