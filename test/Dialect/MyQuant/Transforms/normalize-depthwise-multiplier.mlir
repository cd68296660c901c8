// RUN: mlir-opt %s --load-dialect-plugin=%myquant_plugin \
// RUN:   --pass-pipeline="builtin.module(func.func(tosa-to-linalg-named,tosa-to-linalg,tosa-to-arith,tosa-to-tensor))" \
// RUN:   | myquant-opt --myquant-normalize | FileCheck %s --check-prefix=NORM
// RUN: mlir-opt %s --load-dialect-plugin=%myquant_plugin \
// RUN:   --pass-pipeline="builtin.module(func.func(tosa-to-linalg-named,tosa-to-linalg,tosa-to-arith,tosa-to-tensor))" \
// RUN:   | myquant-opt "--myquant-ptq=allow-float=false" | FileCheck %s

// TOSA's depthwise convolution with a channel multiplier of 2 (filter
// [KH, KW, C, M] = [3, 3, 2, 2]) lowers to depthwise_conv_2d_nhwc_hwcm and a
// collapse of its [N, H, W, C, M] result. Normalization replicates each
// input channel M times (output channel c * M + m reads channel c), pads
// the replicated input, and convolves depthwise with the [3, 3, 4] filter:
// the quantized op is a depthwise convolution (4 groups of 1 channel) on
// int8 data movement.

// NORM-LABEL: func.func @depthwise_multiplier
// NORM: %[[B:.*]] = linalg.broadcast ins(%{{.*}} : tensor<1x4x4x2xf32>) outs(%{{.*}} : tensor<1x4x4x2x2xf32>) dimensions = [4]
// NORM: %[[R:.*]] = tensor.collapse_shape %[[B]] {{\[}}[0], [1], [2], [3, 4]] : tensor<1x4x4x2x2xf32> into tensor<1x4x4x4xf32>
// NORM: %[[P:.*]] = tensor.pad %[[R]] low[0, 1, 1, 0] high[0, 1, 1, 0]
// NORM: linalg.depthwise_conv_2d_nhwc_hwc {{.*}} ins(%[[P]], %{{.*}} : tensor<1x6x6x4xf32>, tensor<3x3x4xf32>)
// NORM-NOT: hwcm

// CHECK-LABEL: func.func @depthwise_multiplier
// CHECK: linalg.broadcast ins(%{{.*}} : tensor<1x4x4x2xi8>)
// CHECK: %[[R:.*]] = tensor.collapse_shape %{{.*}} {{\[}}[0], [1], [2], [3, 4]] : tensor<1x4x4x2x2x!quant.uniform<i8:f32, {{.*}}>> into tensor<1x4x4x4x!quant.uniform
// CHECK: myquant.conv2d %[[R]]
// CHECK-SAME: groups = 4 : i64, layout = #myquant.layout<nhwc>, padding = array<i64: 1, 1, 1, 1>
// CHECK-SAME: tensor<3x3x1x4x!quant.uniform<i8<-127:127>:f32:3,
// CHECK-NOT: linalg.depthwise
func.func @depthwise_multiplier(%x: tensor<1x4x4x2xf32>) -> tensor<1x4x4x4xf32> {
  %xs = myquant.stats %x {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x4x4x2xf32>
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %w = "tosa.const"() <{values = dense<[[[[0.5, -0.25], [0.125, 1.0]], [[0.25, 0.5], [-0.5, 0.75]], [[1.0, 0.0], [0.5, 0.5]]], [[[-0.125, 0.25], [0.5, -1.0]], [[0.75, 0.5], [0.25, 0.125]], [[0.0, -0.5], [1.0, 0.25]]], [[[0.5, 0.5], [-0.25, 0.25]], [[0.125, -0.75], [0.5, 0.0]], [[0.25, 1.0], [-0.5, 0.5]]]]> : tensor<3x3x2x2xf32>}> : () -> tensor<3x3x2x2xf32>
  %b = "tosa.const"() <{values = dense<[0.1, -0.2, 0.3, 0.0]> : tensor<4xf32>}> : () -> tensor<4xf32>
  %c = tosa.depthwise_conv2d %xs, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>} : (tensor<1x4x4x2xf32>, tensor<3x3x2x2xf32>, tensor<4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4x4xf32>
  %cs = myquant.stats %c {min = array<f64: -3.0>, max = array<f64: 3.0>} : tensor<1x4x4x4xf32>
  return %cs : tensor<1x4x4x4xf32>
}
