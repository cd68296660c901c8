// tosa.transpose_conv2d as the stock mlir-opt lowers it: upstream's
// tosa-to-linalg-named has no pattern for it, so its TOSA decomposition
// (tosa-optional-decompositions, the first pass of tosa-to-linalg-pipeline,
// whose validation rejects the decomposed rank-8 pad shapes) runs first.
// The filter becomes constant pads, reshapes, a transpose and two reverses
// (linalg.generic gathers by linalg.index from the constant), which
// myquant-normalize folds; the input's tosa.pad (constant SSA amounts) is
// absorbed into the convolution. With stride 2 the convolution computes
// 2x2x3 channels that a reshape, transpose, reshape and slice interleave
// (same-scale data movement in int8), and the bias is added after them.
// Calibration gives every intermediate value its range.

// RUN: %python -c "import numpy as np; np.save('%t.npy', np.random.RandomState(0).uniform(-1, 1, (4, 4, 4, 2)).astype(np.float32))"
// RUN: mlir-opt %s -split-input-file --load-dialect-plugin=%myquant_plugin \
// RUN:   --pass-pipeline="builtin.module(func.func(tosa-optional-decompositions,tosa-to-linalg-named,tosa-to-linalg,tosa-to-arith,tosa-to-tensor))" \
// RUN:   | myquant-opt -split-input-file --myquant-normalize | FileCheck %s --check-prefix=NORM
// RUN: mlir-opt %s -split-input-file --load-dialect-plugin=%myquant_plugin \
// RUN:   --pass-pipeline="builtin.module(func.func(tosa-optional-decompositions,tosa-to-linalg-named,tosa-to-linalg,tosa-to-arith,tosa-to-tensor))" \
// RUN:   | myquant-opt -split-input-file "--myquant-ptq=calibration-data=%t.npy allow-float=false" | FileCheck %s

// NORM-LABEL: func.func @transpose_conv_stride1
// NORM-NOT:   tensor.extract
// NORM-NOT:   linalg.transpose
// NORM:       linalg.conv_2d_nhwc_hwcf {{.*}} tensor<3x3x2x3xf32>
// CHECK-LABEL: func.func @transpose_conv_stride1
// CHECK:       myquant.quantize %arg0
// CHECK:       myquant.conv2d
// CHECK-SAME:    padding = array<i64: 2, 2, 2, 2>
// CHECK-SAME:    -> tensor<1x6x6x3x!quant.uniform<i8:f32
// CHECK-NEXT:  myquant.dequantize
// CHECK-NEXT:  return
func.func @transpose_conv_stride1(%x: tensor<1x4x4x2xf32>) -> tensor<1x6x6x3xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %w = "tosa.const"() <{values = dense<[[[[0.5, -0.25], [0.75, 1.0], [-0.5, 0.125]], [[0.25, 0.5], [-1.0, 0.25], [0.5, 0.5]], [[0.125, -0.125], [0.25, 0.75], [-0.25, 1.0]]], [[[0.5, -0.25], [0.75, 1.0], [-0.5, 0.125]], [[0.25, 0.5], [-1.0, 0.25], [0.5, 0.5]], [[0.125, -0.125], [0.25, 0.75], [-0.25, 1.0]]], [[[0.5, 0.25], [0.75, -1.0], [0.5, 0.125]], [[0.25, 0.5], [1.0, 0.25], [0.5, -0.5]], [[0.125, 0.125], [0.25, 0.75], [0.25, 1.0]]]]> : tensor<3x3x3x2xf32>}> : () -> tensor<3x3x3x2xf32>
  %b = "tosa.const"() <{values = dense<[0.1, -0.2, 0.3]> : tensor<3xf32>}> : () -> tensor<3xf32>
  %y = tosa.transpose_conv2d %x, %w, %b, %zp, %zp {acc_type = f32, out_pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x4x4x2xf32>, tensor<3x3x3x2xf32>, tensor<3xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x6x6x3xf32>
  return %y : tensor<1x6x6x3xf32>
}

// -----

// NORM-LABEL: func.func @transpose_conv_stride2
// NORM-NOT:   tensor.extract
// NORM:       linalg.conv_2d_nhwc_hwcf {{.*}} tensor<2x2x2x12xf32>
// NORM:       linalg.transpose
// NORM:       tensor.extract_slice
// CHECK-LABEL: func.func @transpose_conv_stride2
// CHECK:       myquant.quantize %arg0
// CHECK:       myquant.conv2d
// CHECK-SAME:    padding = array<i64: 1, 1, 1, 1>
// CHECK-SAME:    -> tensor<1x5x5x12x!quant.uniform<i8:f32
// CHECK:       linalg.transpose ins(%{{.*}} : tensor<1x5x5x2x2x3xi8>)
// CHECK:       tensor.extract_slice {{.*}} to tensor<1x9x9x3x!quant.uniform<i8:f32
// CHECK:       myquant.add
// CHECK-NEXT:  myquant.dequantize
// CHECK-NEXT:  return
func.func @transpose_conv_stride2(%x: tensor<1x4x4x2xf32>) -> tensor<1x9x9x3xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %w = "tosa.const"() <{values = dense<[[[[0.5, -0.25], [0.75, 1.0], [-0.5, 0.125]], [[0.25, 0.5], [-1.0, 0.25], [0.5, 0.5]], [[0.125, -0.125], [0.25, 0.75], [-0.25, 1.0]]], [[[0.5, -0.25], [0.75, 1.0], [-0.5, 0.125]], [[0.25, 0.5], [-1.0, 0.25], [0.5, 0.5]], [[0.125, -0.125], [0.25, 0.75], [-0.25, 1.0]]], [[[0.5, 0.25], [0.75, -1.0], [0.5, 0.125]], [[0.25, 0.5], [1.0, 0.25], [0.5, -0.5]], [[0.125, 0.125], [0.25, 0.75], [0.25, 1.0]]]]> : tensor<3x3x3x2xf32>}> : () -> tensor<3x3x3x2xf32>
  %b = "tosa.const"() <{values = dense<[0.1, -0.2, 0.3]> : tensor<3xf32>}> : () -> tensor<3xf32>
  %y = tosa.transpose_conv2d %x, %w, %b, %zp, %zp {acc_type = f32, out_pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>} : (tensor<1x4x4x2xf32>, tensor<3x3x3x2xf32>, tensor<3xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x9x9x3xf32>
  return %y : tensor<1x9x9x3xf32>
}

// -----

// out_pad [top, bottom, left, right] grows (or, negative, crops) the
// output: with stride 1 it adds to the convolution's padding.
// NORM-LABEL: func.func @out_pad_stride1
// NORM:       linalg.conv_2d_nhwc_hwcf {{.*}} tensor<3x3x2x3xf32>
// CHECK-LABEL: func.func @out_pad_stride1
// CHECK:       myquant.quantize %arg0
// CHECK:       myquant.conv2d
// CHECK-SAME:    padding = array<i64: 3, 2, 2, 4>
// CHECK-SAME:    -> tensor<1x7x8x3x!quant.uniform<i8:f32
// CHECK-NEXT:  myquant.dequantize
// CHECK-NEXT:  return
func.func @out_pad_stride1(%x: tensor<1x4x4x2xf32>) -> tensor<1x7x8x3xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %w = "tosa.const"() <{values = dense<[[[[0.5, -0.25], [0.75, 1.0], [-0.5, 0.125]], [[0.25, 0.5], [-1.0, 0.25], [0.5, 0.5]], [[0.125, -0.125], [0.25, 0.75], [-0.25, 1.0]]], [[[0.5, -0.25], [0.75, 1.0], [-0.5, 0.125]], [[0.25, 0.5], [-1.0, 0.25], [0.5, 0.5]], [[0.125, -0.125], [0.25, 0.75], [-0.25, 1.0]]], [[[0.5, 0.25], [0.75, -1.0], [0.5, 0.125]], [[0.25, 0.5], [1.0, 0.25], [0.5, -0.5]], [[0.125, 0.125], [0.25, 0.75], [0.25, 1.0]]]]> : tensor<3x3x3x2xf32>}> : () -> tensor<3x3x3x2xf32>
  %b = "tosa.const"() <{values = dense<[0.1, -0.2, 0.3]> : tensor<3xf32>}> : () -> tensor<3xf32>
  %y = tosa.transpose_conv2d %x, %w, %b, %zp, %zp {acc_type = f32, out_pad = array<i64: 1, 0, 0, 2>, stride = array<i64: 1, 1>} : (tensor<1x4x4x2xf32>, tensor<3x3x3x2xf32>, tensor<3xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x7x8x3xf32>
  return %y : tensor<1x7x8x3xf32>
}

// -----

// NORM-LABEL: func.func @out_pad_crop_stride1
// NORM:       linalg.conv_2d_nhwc_hwcf {{.*}} tensor<3x3x2x3xf32>
// CHECK-LABEL: func.func @out_pad_crop_stride1
// CHECK:       myquant.quantize %arg0
// CHECK:       myquant.conv2d
// CHECK-SAME:    padding = array<i64: 1, 1, 2, 1>
// CHECK-SAME:    -> tensor<1x5x4x3x!quant.uniform<i8:f32
// CHECK-NEXT:  myquant.dequantize
// CHECK-NEXT:  return
func.func @out_pad_crop_stride1(%x: tensor<1x4x4x2xf32>) -> tensor<1x5x4x3xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %w = "tosa.const"() <{values = dense<[[[[0.5, -0.25], [0.75, 1.0], [-0.5, 0.125]], [[0.25, 0.5], [-1.0, 0.25], [0.5, 0.5]], [[0.125, -0.125], [0.25, 0.75], [-0.25, 1.0]]], [[[0.5, -0.25], [0.75, 1.0], [-0.5, 0.125]], [[0.25, 0.5], [-1.0, 0.25], [0.5, 0.5]], [[0.125, -0.125], [0.25, 0.75], [-0.25, 1.0]]], [[[0.5, 0.25], [0.75, -1.0], [0.5, 0.125]], [[0.25, 0.5], [1.0, 0.25], [0.5, -0.5]], [[0.125, 0.125], [0.25, 0.75], [0.25, 1.0]]]]> : tensor<3x3x3x2xf32>}> : () -> tensor<3x3x3x2xf32>
  %b = "tosa.const"() <{values = dense<[0.1, -0.2, 0.3]> : tensor<3xf32>}> : () -> tensor<3xf32>
  %y = tosa.transpose_conv2d %x, %w, %b, %zp, %zp {acc_type = f32, out_pad = array<i64: -1, 0, -1, -1>, stride = array<i64: 1, 1>} : (tensor<1x4x4x2xf32>, tensor<3x3x3x2xf32>, tensor<3xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x5x4x3xf32>
  return %y : tensor<1x5x4x3xf32>
}

// -----

// With stride 2 the interleaved phases are sliced to the output without
// out_pad, then padded with zeros (the zero point in int8) before the bias.
// NORM-LABEL: func.func @out_pad_stride2
// NORM:       linalg.conv_2d_nhwc_hwcf {{.*}} tensor<2x2x2x12xf32>
// CHECK-LABEL: func.func @out_pad_stride2
// CHECK:       myquant.quantize %arg0
// CHECK:       myquant.conv2d
// CHECK-SAME:    -> tensor<1x5x5x12x!quant.uniform<i8:f32
// CHECK:       tensor.extract_slice {{.*}} to tensor<1x10x9x3x!quant.uniform<i8:f32, {{.*}}:[[ZP:-?[0-9]+]]>>
// CHECK:       tensor.pad %{{.*}} low[0, 0, 1, 0] high[0, 0, 0, 0]
// CHECK-NEXT:  ^bb0
// CHECK-NEXT:    tensor.yield %c[[ZP]]_i8 : i8
// CHECK:       myquant.add
// CHECK-NEXT:  myquant.dequantize
// CHECK-NEXT:  return
func.func @out_pad_stride2(%x: tensor<1x4x4x2xf32>) -> tensor<1x10x10x3xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %w = "tosa.const"() <{values = dense<[[[[0.5, -0.25], [0.75, 1.0], [-0.5, 0.125]], [[0.25, 0.5], [-1.0, 0.25], [0.5, 0.5]], [[0.125, -0.125], [0.25, 0.75], [-0.25, 1.0]]], [[[0.5, -0.25], [0.75, 1.0], [-0.5, 0.125]], [[0.25, 0.5], [-1.0, 0.25], [0.5, 0.5]], [[0.125, -0.125], [0.25, 0.75], [-0.25, 1.0]]], [[[0.5, 0.25], [0.75, -1.0], [0.5, 0.125]], [[0.25, 0.5], [1.0, 0.25], [0.5, -0.5]], [[0.125, 0.125], [0.25, 0.75], [0.25, 1.0]]]]> : tensor<3x3x3x2xf32>}> : () -> tensor<3x3x3x2xf32>
  %b = "tosa.const"() <{values = dense<[0.1, -0.2, 0.3]> : tensor<3xf32>}> : () -> tensor<3xf32>
  %y = tosa.transpose_conv2d %x, %w, %b, %zp, %zp {acc_type = f32, out_pad = array<i64: 0, 1, 1, 0>, stride = array<i64: 2, 2>} : (tensor<1x4x4x2xf32>, tensor<3x3x3x2xf32>, tensor<3xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x10x10x3xf32>
  return %y : tensor<1x10x10x3xf32>
}
