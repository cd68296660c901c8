// A small CNN written in TOSA, lowered by the stock mlir-opt with the
// upstream conversions, quantizes integer-only: the FHWC convolution, the
// HWCM depthwise convolution (multiplier 1) with its bias added after the
// collapse, relu6 clamps, and a fully connected layer whose bias is a
// rank-3 constant added with tosa.add.

// RUN: mlir-opt %s --load-dialect-plugin=%myquant_plugin \
// RUN:   --pass-pipeline="builtin.module(func.func(tosa-to-linalg-named,tosa-to-linalg,tosa-to-arith,tosa-to-tensor))" \
// RUN:   | myquant-opt --myquant-normalize | FileCheck %s --check-prefix=NORM
// RUN: mlir-opt %s --load-dialect-plugin=%myquant_plugin \
// RUN:   --pass-pipeline="builtin.module(func.func(tosa-to-linalg-named,tosa-to-linalg,tosa-to-arith,tosa-to-tensor))" \
// RUN:   | myquant-opt "--myquant-ptq=allow-float=false" | FileCheck %s

// NORM-LABEL: func.func @cnn
// NORM:       linalg.conv_2d_nhwc_hwcf
// NORM:       linalg.depthwise_conv_2d_nhwc_hwc
// NORM:       linalg.batch_matmul
// NORM:       linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}], {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x1x4xf32>, tensor<4xf32>)

// CHECK-LABEL: func.func @cnn
// CHECK:       myquant.quantize %arg0
// CHECK:       myquant.conv2d
// CHECK-SAME:    layout = #myquant.layout<nhwc>
// CHECK:       myquant.conv2d
// CHECK-SAME:    groups = 3 : i64
// CHECK:       myquant.matmul
// CHECK:       myquant.dequantize
// CHECK-NOT:   linalg.
// CHECK-NOT:   arith.addf
func.func @cnn(%x: tensor<1x4x4x2xf32>) -> tensor<1x1x4xf32> {
  %xs = myquant.stats %x {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x4x4x2xf32>
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %w1 = "tosa.const"() <{values = dense<[[[[0.5, -0.25]]], [[[0.75, 1.0]]], [[[-0.5, 0.125]]]]> : tensor<3x1x1x2xf32>}> : () -> tensor<3x1x1x2xf32>
  %b1 = "tosa.const"() <{values = dense<[0.1, -0.2, 0.3]> : tensor<3xf32>}> : () -> tensor<3xf32>
  %c1 = tosa.conv2d %xs, %w1, %b1, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x4x4x2xf32>, tensor<3x1x1x2xf32>, tensor<3xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4x3xf32>
  %r1 = tosa.clamp %c1 {min_val = 0.0 : f32, max_val = 6.0 : f32} : (tensor<1x4x4x3xf32>) -> tensor<1x4x4x3xf32>
  %r1s = myquant.stats %r1 {min = array<f64: 0.0>, max = array<f64: 2.0>} : tensor<1x4x4x3xf32>
  %w2 = "tosa.const"() <{values = dense<0.125> : tensor<3x3x3x1xf32>}> : () -> tensor<3x3x3x1xf32>
  %b2 = "tosa.const"() <{values = dense<[0.05, 0.0, -0.05]> : tensor<3xf32>}> : () -> tensor<3xf32>
  %c2 = tosa.depthwise_conv2d %r1s, %w2, %b2, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>} : (tensor<1x4x4x3xf32>, tensor<3x3x3x1xf32>, tensor<3xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4x3xf32>
  %r2 = tosa.clamp %c2 {min_val = 0.0 : f32, max_val = 6.0 : f32} : (tensor<1x4x4x3xf32>) -> tensor<1x4x4x3xf32>
  %r2s = myquant.stats %r2 {min = array<f64: 0.0>, max = array<f64: 2.0>} : tensor<1x4x4x3xf32>
  %shape = tosa.const_shape {values = dense<[1, 1, 48]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %flat = tosa.reshape %r2s, %shape : (tensor<1x4x4x3xf32>, !tosa.shape<3>) -> tensor<1x1x48xf32>
  %w3 = "tosa.const"() <{values = dense<0.0625> : tensor<1x48x4xf32>}> : () -> tensor<1x48x4xf32>
  %m = tosa.matmul %flat, %w3, %zp, %zp : (tensor<1x1x48xf32>, tensor<1x48x4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x4xf32>
  %b3 = "tosa.const"() <{values = dense<[[[0.1, -0.2, 0.3, 0.4]]]> : tensor<1x1x4xf32>}> : () -> tensor<1x1x4xf32>
  %y = tosa.add %m, %b3 : (tensor<1x1x4xf32>, tensor<1x1x4xf32>) -> tensor<1x1x4xf32>
  %ys = myquant.stats %y {min = array<f64: -4.0>, max = array<f64: 4.0>} : tensor<1x1x4xf32>
  return %ys : tensor<1x1x4xf32>
}
