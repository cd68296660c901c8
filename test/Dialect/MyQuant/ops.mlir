// RUN: myquant-opt %s | myquant-opt | FileCheck %s
// RUN: myquant-opt %s -mlir-print-op-generic | myquant-opt | FileCheck %s

// Round trip of every myquant op and attribute: the custom form, and the
// generic form, both print back as the same custom form.

!f = !quant.uniform<i8:f32, 0.1:-4>
!g = !quant.uniform<i8:f32, 0.2:3>
!w = !quant.uniform<i8:f32, 0.05>
!wc = !quant.uniform<i8:f32:0, {0.01, 0.02, 0.01, 0.03}>
!wn = !quant.uniform<i8:f32:3, {0.01, 0.02, 0.01, 0.03}>
!b = !quant.uniform<i32:f32, 0.005>
!bc = !quant.uniform<i32:f32:0, {0.001, 0.002, 0.001, 0.003}>

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @attributes
// CHECK-SAME:    layout = #myquant.layout<nhwc>
// CHECK-SAME:    per_channel = #myquant.rescale<multiplier = [1073741824, 2147483647], shift = [0, 62], rounding = gemmlowp>
// CHECK-SAME:    point = #myquant.clamp<5, 5>
// CHECK-SAME:    relu = #myquant.clamp<-4, 127>
// CHECK-SAME:    rounding = #myquant.rounding<gemmlowp>
// CHECK-SAME:    single = #myquant.rescale<multiplier = [1518500250], shift = [38], rounding = single>
func.func @attributes() attributes {
    rounding = #myquant.rounding<gemmlowp>,
    layout = #myquant.layout<nhwc>,
    single = #myquant.rescale<multiplier = [1518500250], shift = [38], rounding = single>,
    per_channel = #myquant.rescale<multiplier = [1073741824, 2147483647], shift = [0, 62], rounding = gemmlowp>,
    relu = #myquant.clamp<-4, 127>,
    point = #myquant.clamp<5, 5>} {
  return
}

//===----------------------------------------------------------------------===//
// stats
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @stats
// CHECK-SAME:    (%[[X:.*]]: tensor<3x8xf32>)
func.func @stats(%x: tensor<3x8xf32>) -> tensor<3x8xf32> {
  // CHECK:      %[[S0:.*]] = myquant.stats %[[X]] {max = array<f64: 4.000000e+00>, min = array<f64: -1.500000e+00>} : tensor<3x8xf32>
  %0 = myquant.stats %x {min = array<f64: -1.5>, max = array<f64: 4.0>} : tensor<3x8xf32>
  // CHECK-NEXT: %[[S1:.*]] = myquant.stats %[[S0]] {axis = 0 : i64, max = array<f64: 1.000000e+00, 2.000000e+00, 3.000000e+00>, min = array<f64: -1.000000e+00, 0.000000e+00, 3.000000e+00>} : tensor<3x8xf32>
  %1 = myquant.stats %0 {axis = 0, min = array<f64: -1.0, 0.0, 3.0>, max = array<f64: 1.0, 2.0, 3.0>} : tensor<3x8xf32>
  // CHECK-NEXT: %[[S2:.*]] = myquant.stats %[[S1]] {histogram = array<i64: 0, 7, 12, 5>, max = array<f64: 2.500000e-01>, min = array<f64: -2.500000e-01>} : tensor<3x8xf32>
  %2 = myquant.stats %1 {min = array<f64: -0.25>, max = array<f64: 0.25>, histogram = array<i64: 0, 7, 12, 5>} : tensor<3x8xf32>
  // CHECK-NEXT: return %[[S2]]
  return %2 : tensor<3x8xf32>
}

//===----------------------------------------------------------------------===//
// quantize / dequantize / requantize
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @quantize_dequantize
func.func @quantize_dequantize(%x: tensor<2x4xf32>, %w: tensor<4x3x3x3xf32>) -> (tensor<2x4xf32>, tensor<4x3x3x3xf32>) {
  // CHECK:      %[[Q:.*]] = myquant.quantize %{{.*}} : tensor<2x4xf32> -> tensor<2x4x!quant.uniform<i8:f32, 1.000000e-01:-4>>
  %q = myquant.quantize %x : tensor<2x4xf32> -> tensor<2x4x!f>
  // CHECK-NEXT: %[[D:.*]] = myquant.dequantize %[[Q]] : tensor<2x4x!quant.uniform<i8:f32, 1.000000e-01:-4>> -> tensor<2x4xf32>
  %d = myquant.dequantize %q : tensor<2x4x!f> -> tensor<2x4xf32>
  // CHECK-NEXT: %[[QW:.*]] = myquant.quantize %{{.*}} : tensor<4x3x3x3xf32> -> tensor<4x3x3x3x!quant.uniform<i8:f32:0, {1.000000e-02,2.000000e-02,1.000000e-02,3.000000e-02}>>
  %qw = myquant.quantize %w : tensor<4x3x3x3xf32> -> tensor<4x3x3x3x!wc>
  // CHECK-NEXT: %[[DW:.*]] = myquant.dequantize %[[QW]] : tensor<4x3x3x3x!quant.uniform<i8:f32:0, {1.000000e-02,2.000000e-02,1.000000e-02,3.000000e-02}>> -> tensor<4x3x3x3xf32>
  %dw = myquant.dequantize %qw : tensor<4x3x3x3x!wc> -> tensor<4x3x3x3xf32>
  // CHECK-NEXT: return %[[D]], %[[DW]]
  return %d, %dw : tensor<2x4xf32>, tensor<4x3x3x3xf32>
}

// CHECK-LABEL: func.func @quantize_dynamic
func.func @quantize_dynamic(%x: tensor<?x4xf16>) -> tensor<?x4x!quant.uniform<u8:f16, 0.5:128>> {
  // CHECK: myquant.quantize %{{.*}} : tensor<?x4xf16> -> tensor<?x4x!quant.uniform<u8:f16, 5.000000e-01:128>>
  %q = myquant.quantize %x : tensor<?x4xf16> -> tensor<?x4x!quant.uniform<u8:f16, 0.5:128>>
  return %q : tensor<?x4x!quant.uniform<u8:f16, 0.5:128>>
}

// CHECK-LABEL: func.func @requantize
// CHECK-SAME:    (%[[A:.*]]: tensor<2x4x!quant.uniform<i8:f32, 1.000000e-01:-4>>, %[[W:.*]]: tensor<4x3x3x3x!quant.uniform<i8:f32:0, {{.*}}>>)
func.func @requantize(%a: tensor<2x4x!f>, %w: tensor<4x3x3x3x!wc>)
    -> (tensor<2x4x!g>, tensor<2x4x!g>, tensor<2x4x!g>, tensor<4x3x3x3x!w>) {
  // CHECK:      myquant.requantize %[[A]] : tensor<2x4x!quant.uniform<i8:f32, 1.000000e-01:-4>> -> tensor<2x4x!quant.uniform<i8:f32, 2.000000e-01:3>>
  %0 = myquant.requantize %a : tensor<2x4x!f> -> tensor<2x4x!g>
  // CHECK-NEXT: myquant.requantize %[[A]] {rescale = #myquant.rescale<multiplier = [1073741824], shift = [31], rounding = single>} : tensor<2x4x!quant.uniform<i8:f32, 1.000000e-01:-4>> -> tensor<2x4x!quant.uniform<i8:f32, 2.000000e-01:3>>
  %1 = myquant.requantize %a {rescale = #myquant.rescale<multiplier = [1073741824], shift = [31], rounding = single>} : tensor<2x4x!f> -> tensor<2x4x!g>
  // CHECK-NEXT: myquant.requantize %[[A]] {clamp = #myquant.clamp<3, 127>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [31], rounding = gemmlowp>} : tensor<2x4x!quant.uniform<i8:f32, 1.000000e-01:-4>> -> tensor<2x4x!quant.uniform<i8:f32, 2.000000e-01:3>>
  %2 = myquant.requantize %a {rescale = #myquant.rescale<multiplier = [1073741824], shift = [31], rounding = gemmlowp>, clamp = #myquant.clamp<3, 127>} : tensor<2x4x!f> -> tensor<2x4x!g>
  // Per-axis input, one rescale entry per channel, per-tensor result.
  // CHECK-NEXT: myquant.requantize %[[W]] {rescale = #myquant.rescale<multiplier = [1717986918, 1717986918, 1717986918, 1288490189], shift = [33, 32, 33, 31], rounding = single>} : tensor<4x3x3x3x!quant.uniform<i8:f32:0, {{.*}}>> -> tensor<4x3x3x3x!quant.uniform<i8:f32, 5.000000e-02>>
  %3 = myquant.requantize %w {rescale = #myquant.rescale<multiplier = [1717986918, 1717986918, 1717986918, 1288490189], shift = [33, 32, 33, 31], rounding = single>} : tensor<4x3x3x3x!wc> -> tensor<4x3x3x3x!w>
  return %0, %1, %2, %3 : tensor<2x4x!g>, tensor<2x4x!g>, tensor<2x4x!g>, tensor<4x3x3x3x!w>
}

//===----------------------------------------------------------------------===//
// conv2d
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @conv2d_nchw
// CHECK-SAME:    (%[[X:.*]]: tensor<1x3x8x8x{{.*}}>, %[[W:.*]]: tensor<4x3x3x3x{{.*}}>, %[[B:.*]]: tensor<4xi32>)
func.func @conv2d_nchw(%x: tensor<1x3x8x8x!f>, %w: tensor<4x3x3x3x!wc>, %b: tensor<4xi32>) -> tensor<1x4x8x8x!g> {
  // CHECK: myquant.conv2d %[[X]], %[[W]], %[[B]] {dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>}
  // CHECK-SAME: : (tensor<1x3x8x8x!quant.uniform<i8:f32, 1.000000e-01:-4>>, tensor<4x3x3x3x!quant.uniform<i8:f32:0, {1.000000e-02,2.000000e-02,1.000000e-02,3.000000e-02}>>, tensor<4xi32>) -> tensor<1x4x8x8x!quant.uniform<i8:f32, 2.000000e-01:3>>
  %y = myquant.conv2d %x, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>,
      dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x3x8x8x!f>, tensor<4x3x3x3x!wc>, tensor<4xi32>) -> tensor<1x4x8x8x!g>
  return %y : tensor<1x4x8x8x!g>
}

// CHECK-LABEL: func.func @conv2d_nhwc_no_bias
func.func @conv2d_nhwc_no_bias(%x: tensor<2x9x7x3x!f>, %w: tensor<3x3x3x4x!wn>) -> tensor<2x4x3x4x!g> {
  // CHECK: myquant.conv2d %{{[^,]*}}, %{{[^,]*}} {clamp = #myquant.clamp<3, 127>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nhwc>, padding = array<i64: 0, 0, 0, 0>, rescale = #myquant.rescale<multiplier = [1073741824, 1073741824, 1073741824, 1073741824], shift = [40, 39, 40, 38], rounding = single>, strides = array<i64: 2, 2>}
  // CHECK-SAME: : (tensor<2x9x7x3x!quant.uniform<i8:f32, 1.000000e-01:-4>>, tensor<3x3x3x4x!quant.uniform<i8:f32:3, {1.000000e-02,2.000000e-02,1.000000e-02,3.000000e-02}>>) -> tensor<2x4x3x4x!quant.uniform<i8:f32, 2.000000e-01:3>>
  %y = myquant.conv2d %x, %w {strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>,
      dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nhwc>,
      rescale = #myquant.rescale<multiplier = [1073741824, 1073741824, 1073741824, 1073741824], shift = [40, 39, 40, 38], rounding = single>,
      clamp = #myquant.clamp<3, 127>}
      : (tensor<2x9x7x3x!f>, tensor<3x3x3x4x!wn>) -> tensor<2x4x3x4x!g>
  return %y : tensor<2x4x3x4x!g>
}

// Two groups of two input channels each, three output channels per group;
// asymmetric padding and stride 2.
// CHECK-LABEL: func.func @conv2d_grouped
func.func @conv2d_grouped(%x: tensor<1x4x8x8x!f>, %w: tensor<6x2x3x3x!w>, %b: tensor<6x!b>) -> tensor<1x6x4x3x!g> {
  // CHECK: myquant.conv2d %{{.*}} {dilations = array<i64: 1, 1>, groups = 2 : i64, layout = #myquant.layout<nchw>, padding = array<i64: 1, 0, 0, 0>, strides = array<i64: 2, 2>}
  // CHECK-SAME: : (tensor<1x4x8x8x!quant.uniform<i8:f32, 1.000000e-01:-4>>, tensor<6x2x3x3x!quant.uniform<i8:f32, 5.000000e-02>>, tensor<6x!quant.uniform<i32:f32, 5.000000e-03>>) -> tensor<1x6x4x3x!quant.uniform<i8:f32, 2.000000e-01:3>>
  %y = myquant.conv2d %x, %w, %b {strides = array<i64: 2, 2>, padding = array<i64: 1, 0, 0, 0>,
      dilations = array<i64: 1, 1>, groups = 2 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x4x8x8x!f>, tensor<6x2x3x3x!w>, tensor<6x!b>) -> tensor<1x6x4x3x!g>
  return %y : tensor<1x6x4x3x!g>
}

// Depthwise (groups = channels), dilated, with a per-channel quantized bias
// whose scales are input scale * filter scale.
// CHECK-LABEL: func.func @conv2d_depthwise
func.func @conv2d_depthwise(%x: tensor<1x8x8x4x!f>, %w: tensor<3x3x1x4x!wn>, %b: tensor<4x!bc>) -> tensor<1x8x8x4x!g> {
  // CHECK: myquant.conv2d %{{.*}} {dilations = array<i64: 2, 2>, groups = 4 : i64, layout = #myquant.layout<nhwc>, padding = array<i64: 2, 2, 2, 2>, strides = array<i64: 1, 1>}
  // CHECK-SAME: : (tensor<1x8x8x4x!quant.uniform<i8:f32, 1.000000e-01:-4>>, tensor<3x3x1x4x!quant.uniform<i8:f32:3, {1.000000e-02,2.000000e-02,1.000000e-02,3.000000e-02}>>, tensor<4x!quant.uniform<i32:f32:0, {1.000000e-03,2.000000e-03,1.000000e-03,3.000000e-03}>>) -> tensor<1x8x8x4x!quant.uniform<i8:f32, 2.000000e-01:3>>
  %y = myquant.conv2d %x, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 2, 2, 2, 2>,
      dilations = array<i64: 2, 2>, groups = 4 : i64, layout = #myquant.layout<nhwc>}
      : (tensor<1x8x8x4x!f>, tensor<3x3x1x4x!wn>, tensor<4x!bc>) -> tensor<1x8x8x4x!g>
  return %y : tensor<1x8x8x4x!g>
}

// CHECK-LABEL: func.func @conv2d_dynamic_batch
func.func @conv2d_dynamic_batch(%x: tensor<?x3x8x8x!f>, %w: tensor<4x3x3x3x!w>) -> tensor<?x4x6x6x!g> {
  // CHECK: myquant.conv2d {{.*}} -> tensor<?x4x6x6x!quant.uniform<i8:f32, 2.000000e-01:3>>
  %y = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>,
      dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>}
      : (tensor<?x3x8x8x!f>, tensor<4x3x3x3x!w>) -> tensor<?x4x6x6x!g>
  return %y : tensor<?x4x6x6x!g>
}

//===----------------------------------------------------------------------===//
// matmul
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @matmul_2d
func.func @matmul_2d(%a: tensor<2x16x!f>, %w: tensor<16x10x!w>) -> tensor<2x10x!g> {
  // CHECK: myquant.matmul %{{[^,]*}}, %{{[^,]*}} : (tensor<2x16x!quant.uniform<i8:f32, 1.000000e-01:-4>>, tensor<16x10x!quant.uniform<i8:f32, 5.000000e-02>>) -> tensor<2x10x!quant.uniform<i8:f32, 2.000000e-01:3>>
  %y = myquant.matmul %a, %w : (tensor<2x16x!f>, tensor<16x10x!w>) -> tensor<2x10x!g>
  return %y : tensor<2x10x!g>
}

// CHECK-LABEL: func.func @matmul_bias_rescale
func.func @matmul_bias_rescale(%a: tensor<2x16x!f>, %w: tensor<16x4x!quant.uniform<i8:f32:1, {0.01, 0.02, 0.01, 0.03}>>, %b: tensor<4x!bc>) -> tensor<2x4x!g> {
  // CHECK: myquant.matmul %{{.*}}, %{{.*}}, %{{.*}} {clamp = #myquant.clamp<3, 127>, rescale = #myquant.rescale<multiplier = [1073741824, 1073741824, 1073741824, 1073741824], shift = [40, 39, 40, 38], rounding = gemmlowp>}
  // CHECK-SAME: : (tensor<2x16x!quant.uniform<i8:f32, 1.000000e-01:-4>>, tensor<16x4x!quant.uniform<i8:f32:1, {1.000000e-02,2.000000e-02,1.000000e-02,3.000000e-02}>>, tensor<4x!quant.uniform<i32:f32:0, {1.000000e-03,2.000000e-03,1.000000e-03,3.000000e-03}>>) -> tensor<2x4x!quant.uniform<i8:f32, 2.000000e-01:3>>
  %y = myquant.matmul %a, %w, %b {
      rescale = #myquant.rescale<multiplier = [1073741824, 1073741824, 1073741824, 1073741824], shift = [40, 39, 40, 38], rounding = gemmlowp>,
      clamp = #myquant.clamp<3, 127>}
      : (tensor<2x16x!f>, tensor<16x4x!quant.uniform<i8:f32:1, {0.01, 0.02, 0.01, 0.03}>>, tensor<4x!bc>) -> tensor<2x4x!g>
  return %y : tensor<2x4x!g>
}

// CHECK-LABEL: func.func @matmul_batched
func.func @matmul_batched(%a: tensor<3x2x16x!f>, %b: tensor<3x16x5x!g>) -> tensor<3x2x5x!g> {
  // CHECK: myquant.matmul %{{[^,]*}}, %{{[^,]*}} : (tensor<3x2x16x!quant.uniform<i8:f32, 1.000000e-01:-4>>, tensor<3x16x5x!quant.uniform<i8:f32, 2.000000e-01:3>>) -> tensor<3x2x5x!quant.uniform<i8:f32, 2.000000e-01:3>>
  %y = myquant.matmul %a, %b : (tensor<3x2x16x!f>, tensor<3x16x5x!g>) -> tensor<3x2x5x!g>
  return %y : tensor<3x2x5x!g>
}

// CHECK-LABEL: func.func @matmul_transpose_rhs
func.func @matmul_transpose_rhs(%a: tensor<2x16x!f>, %w: tensor<4x16x!wc>, %b: tensor<4xi32>) -> tensor<2x4x!g> {
  // CHECK: myquant.matmul %{{.*}}, %{{.*}}, %{{.*}} {transpose_rhs} : (tensor<2x16x!quant.uniform<i8:f32, 1.000000e-01:-4>>, tensor<4x16x!quant.uniform<i8:f32:0, {1.000000e-02,2.000000e-02,1.000000e-02,3.000000e-02}>>, tensor<4xi32>) -> tensor<2x4x!quant.uniform<i8:f32, 2.000000e-01:3>>
  %y = myquant.matmul %a, %w, %b {transpose_rhs} : (tensor<2x16x!f>, tensor<4x16x!wc>, tensor<4xi32>) -> tensor<2x4x!g>
  return %y : tensor<2x4x!g>
}

// CHECK-LABEL: func.func @matmul_batched_transpose_rhs
func.func @matmul_batched_transpose_rhs(%a: tensor<?x2x16x!f>, %b: tensor<?x7x16x!f>) -> tensor<?x2x7x!g> {
  // CHECK: myquant.matmul %{{[^,]*}}, %{{[^,]*}} {transpose_rhs} : (tensor<?x2x16x{{.*}}>, tensor<?x7x16x{{.*}}>) -> tensor<?x2x7x!quant.uniform<i8:f32, 2.000000e-01:3>>
  %y = myquant.matmul %a, %b {transpose_rhs} : (tensor<?x2x16x!f>, tensor<?x7x16x!f>) -> tensor<?x2x7x!g>
  return %y : tensor<?x2x7x!g>
}

//===----------------------------------------------------------------------===//
// add / mul
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @add
// CHECK-SAME:    (%[[L:.*]]: tensor<2x4x{{.*}}>, %[[R:.*]]: tensor<2x4x{{.*}}>)
func.func @add(%l: tensor<2x4x!f>, %r: tensor<2x4x!g>) -> (tensor<2x4x!g>, tensor<2x4x!g>) {
  // CHECK:      myquant.add %[[L]], %[[R]] : (tensor<2x4x!quant.uniform<i8:f32, 1.000000e-01:-4>>, tensor<2x4x!quant.uniform<i8:f32, 2.000000e-01:3>>) -> tensor<2x4x!quant.uniform<i8:f32, 2.000000e-01:3>>
  %0 = myquant.add %l, %r : (tensor<2x4x!f>, tensor<2x4x!g>) -> tensor<2x4x!g>
  // CHECK-NEXT: myquant.add %[[L]], %[[R]] {clamp = #myquant.clamp<3, 127>, left_shift = 20 : i64,
  // CHECK-SAME:   lhs_rescale = #myquant.rescale<multiplier = [1073741824], shift = [30], rounding = single>,
  // CHECK-SAME:   rescale = #myquant.rescale<multiplier = [1073741824], shift = [50], rounding = single>,
  // CHECK-SAME:   rhs_rescale = #myquant.rescale<multiplier = [2147483647], shift = [31], rounding = single>}
  // CHECK-SAME:   -> tensor<2x4x!quant.uniform<i8:f32, 2.000000e-01:3>>
  %1 = myquant.add %l, %r {left_shift = 20 : i64,
      lhs_rescale = #myquant.rescale<multiplier = [1073741824], shift = [30], rounding = single>,
      rhs_rescale = #myquant.rescale<multiplier = [2147483647], shift = [31], rounding = single>,
      rescale = #myquant.rescale<multiplier = [1073741824], shift = [50], rounding = single>,
      clamp = #myquant.clamp<3, 127>}
      : (tensor<2x4x!f>, tensor<2x4x!g>) -> tensor<2x4x!g>
  return %0, %1 : tensor<2x4x!g>, tensor<2x4x!g>
}

// CHECK-LABEL: func.func @mul
func.func @mul(%l: tensor<2x4x!f>, %r: tensor<2x4x!f>) -> (tensor<2x4x!g>, tensor<2x4x!g>) {
  // CHECK:      myquant.mul %{{[^,]*}}, %{{[^,]*}} : (tensor<2x4x!quant.uniform<i8:f32, 1.000000e-01:-4>>, tensor<2x4x!quant.uniform<i8:f32, 1.000000e-01:-4>>) -> tensor<2x4x!quant.uniform<i8:f32, 2.000000e-01:3>>
  %0 = myquant.mul %l, %r : (tensor<2x4x!f>, tensor<2x4x!f>) -> tensor<2x4x!g>
  // CHECK-NEXT: myquant.mul %{{[^,]*}}, %{{[^ ]*}} {clamp = #myquant.clamp<-128, 100>, rescale = #myquant.rescale<multiplier = [1717986918], shift = [35], rounding = gemmlowp>}
  %1 = myquant.mul %l, %r {rescale = #myquant.rescale<multiplier = [1717986918], shift = [35], rounding = gemmlowp>, clamp = #myquant.clamp<-128, 100>}
      : (tensor<2x4x!f>, tensor<2x4x!f>) -> tensor<2x4x!g>
  return %0, %1 : tensor<2x4x!g>, tensor<2x4x!g>
}

// 16-bit operands at the verifier's bound (docs/NumericSpec.md 3.3):
// 65535 * 32767 = 2147385345 <= 2^31 - 1.
// CHECK-LABEL: func.func @mul_int16_at_bound
func.func @mul_int16_at_bound(%l: tensor<4x!quant.uniform<u16:f32, 0.1>>, %r: tensor<4x!quant.uniform<i16<-32767:32767>:f32, 0.1>>) -> tensor<4x!quant.uniform<i16:f32, 0.5>> {
  // CHECK: myquant.mul %{{[^,]*}}, %{{[^ ]*}} : (tensor<4x!quant.uniform<u16:f32, 1.000000e-01>>, tensor<4x!quant.uniform<i16<-32767:32767>:f32, 1.000000e-01>>) -> tensor<4x!quant.uniform<i16:f32, 5.000000e-01>>
  %0 = myquant.mul %l, %r : (tensor<4x!quant.uniform<u16:f32, 0.1>>, tensor<4x!quant.uniform<i16<-32767:32767>:f32, 0.1>>) -> tensor<4x!quant.uniform<i16:f32, 0.5>>
  return %0 : tensor<4x!quant.uniform<i16:f32, 0.5>>
}

//===----------------------------------------------------------------------===//
// concat
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @concat
// CHECK-SAME:    (%[[A:.*]]: tensor<1x2x4x{{.*}}>, %[[B:.*]]: tensor<1x3x4x{{.*}}>, %[[C:.*]]: tensor<1x?x4x{{.*}}>)
func.func @concat(%a: tensor<1x2x4x!f>, %b: tensor<1x3x4x!f>, %c: tensor<1x?x4x!f>) -> (tensor<1x5x4x!f>, tensor<1x?x4x!f>, tensor<1x2x4x!f>) {
  // CHECK:      myquant.concat %[[A]], %[[B]] {dim = 1 : i64} : (tensor<1x2x4x!quant.uniform<i8:f32, 1.000000e-01:-4>>, tensor<1x3x4x!quant.uniform<i8:f32, 1.000000e-01:-4>>) -> tensor<1x5x4x!quant.uniform<i8:f32, 1.000000e-01:-4>>
  %0 = myquant.concat %a, %b {dim = 1 : i64} : (tensor<1x2x4x!f>, tensor<1x3x4x!f>) -> tensor<1x5x4x!f>
  // CHECK-NEXT: myquant.concat %[[A]], %[[B]], %[[C]] {dim = 1 : i64} : ({{.*}}) -> tensor<1x?x4x!quant.uniform<i8:f32, 1.000000e-01:-4>>
  %1 = myquant.concat %a, %b, %c {dim = 1 : i64} : (tensor<1x2x4x!f>, tensor<1x3x4x!f>, tensor<1x?x4x!f>) -> tensor<1x?x4x!f>
  // CHECK-NEXT: myquant.concat %[[A]] {dim = 2 : i64} : (tensor<1x2x4x!quant.uniform<i8:f32, 1.000000e-01:-4>>) -> tensor<1x2x4x!quant.uniform<i8:f32, 1.000000e-01:-4>>
  %2 = myquant.concat %a {dim = 2 : i64} : (tensor<1x2x4x!f>) -> tensor<1x2x4x!f>
  return %0, %1, %2 : tensor<1x5x4x!f>, tensor<1x?x4x!f>, tensor<1x2x4x!f>
}

//===----------------------------------------------------------------------===//
// pooling
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @max_pool2d
func.func @max_pool2d(%x: tensor<1x4x8x8x!f>, %y: tensor<2x7x7x4x!f>) -> (tensor<1x4x4x4x!f>, tensor<2x3x3x4x!f>) {
  // CHECK:      myquant.max_pool2d %{{.*}} {dilations = array<i64: 1, 1>, kernel = array<i64: 2, 2>, layout = #myquant.layout<nchw>, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : tensor<1x4x8x8x!quant.uniform<i8:f32, 1.000000e-01:-4>> -> tensor<1x4x4x4x!quant.uniform<i8:f32, 1.000000e-01:-4>>
  %0 = myquant.max_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>,
      dilations = array<i64: 1, 1>, layout = #myquant.layout<nchw>} : tensor<1x4x8x8x!f> -> tensor<1x4x4x4x!f>
  // CHECK-NEXT: myquant.max_pool2d %{{.*}} {dilations = array<i64: 2, 2>, kernel = array<i64: 3, 3>, layout = #myquant.layout<nhwc>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : tensor<2x7x7x4x!quant.uniform<i8:f32, 1.000000e-01:-4>> -> tensor<2x3x3x4x!quant.uniform<i8:f32, 1.000000e-01:-4>>
  %1 = myquant.max_pool2d %y {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>,
      dilations = array<i64: 2, 2>, layout = #myquant.layout<nhwc>} : tensor<2x7x7x4x!f> -> tensor<2x3x3x4x!f>
  return %0, %1 : tensor<1x4x4x4x!f>, tensor<2x3x3x4x!f>
}

// CHECK-LABEL: func.func @avg_pool2d
func.func @avg_pool2d(%x: tensor<1x8x8x4x!f>) -> (tensor<1x8x8x4x!g>, tensor<1x4x4x4x!f>) {
  // CHECK:      myquant.avg_pool2d %{{.*}} {clamp = #myquant.clamp<3, 127>, count_include_pad, kernel = array<i64: 3, 3>, layout = #myquant.layout<nhwc>, padding = array<i64: 1, 1, 1, 1>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [31], rounding = single>, strides = array<i64: 1, 1>} : tensor<1x8x8x4x!quant.uniform<i8:f32, 1.000000e-01:-4>> -> tensor<1x8x8x4x!quant.uniform<i8:f32, 2.000000e-01:3>>
  %0 = myquant.avg_pool2d %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>,
      layout = #myquant.layout<nhwc>, count_include_pad,
      rescale = #myquant.rescale<multiplier = [1073741824], shift = [31], rounding = single>,
      clamp = #myquant.clamp<3, 127>} : tensor<1x8x8x4x!f> -> tensor<1x8x8x4x!g>
  // CHECK-NEXT: myquant.avg_pool2d %{{.*}} {kernel = array<i64: 2, 2>, layout = #myquant.layout<nhwc>, padding = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : tensor<1x8x8x4x!quant.uniform<i8:f32, 1.000000e-01:-4>> -> tensor<1x4x4x4x!quant.uniform<i8:f32, 1.000000e-01:-4>>
  %1 = myquant.avg_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>,
      layout = #myquant.layout<nhwc>} : tensor<1x8x8x4x!f> -> tensor<1x4x4x4x!f>
  return %0, %1 : tensor<1x8x8x4x!g>, tensor<1x4x4x4x!f>
}

// Global average pooling: the kernel covers the whole spatial extent.
// CHECK-LABEL: func.func @global_avg_pool2d
func.func @global_avg_pool2d(%x: tensor<1x16x7x7x!f>) -> tensor<1x16x1x1x!g> {
  // CHECK: myquant.avg_pool2d %{{.*}} {kernel = array<i64: 7, 7>, layout = #myquant.layout<nchw>, padding = array<i64: 0, 0, 0, 0>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [31], rounding = single>, strides = array<i64: 1, 1>} : tensor<1x16x7x7x!quant.uniform<i8:f32, 1.000000e-01:-4>> -> tensor<1x16x1x1x!quant.uniform<i8:f32, 2.000000e-01:3>>
  %0 = myquant.avg_pool2d %x {kernel = array<i64: 7, 7>, strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>,
      layout = #myquant.layout<nchw>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [31], rounding = single>}
      : tensor<1x16x7x7x!f> -> tensor<1x16x1x1x!g>
  return %0 : tensor<1x16x1x1x!g>
}

//===----------------------------------------------------------------------===//
// clamp / table
//===----------------------------------------------------------------------===//

// The clamp bounds are printed in their stripped form after the operand.
// CHECK-LABEL: func.func @clamp
func.func @clamp(%x: tensor<2x4x!f>) -> (tensor<2x4x!f>, tensor<2x4x!f>) {
  // CHECK:      %[[R:.*]] = myquant.clamp %{{.*}} <-4, 127> : tensor<2x4x!quant.uniform<i8:f32, 1.000000e-01:-4>>
  %0 = myquant.clamp %x <-4, 127> : tensor<2x4x!f>
  // CHECK-NEXT: myquant.clamp %[[R]] <-4, 56> : tensor<2x4x!quant.uniform<i8:f32, 1.000000e-01:-4>>
  %1 = myquant.clamp %0 <-4, 56> : tensor<2x4x!f>
  return %0, %1 : tensor<2x4x!f>, tensor<2x4x!f>
}

// CHECK-LABEL: func.func @table
func.func @table(%x: tensor<2x4x!f>) -> tensor<2x4x!quant.uniform<i8:f32, 0.0078125>> {
  // CHECK: myquant.table %{{.*}} {values = array<i32: -128, -127, -126, {{.*}}, 125, 126, 127>} : tensor<2x4x!quant.uniform<i8:f32, 1.000000e-01:-4>> -> tensor<2x4x!quant.uniform<i8:f32, 7.812500e-03>>
  %0 = myquant.table %x {values = array<i32: -128, -127, -126, -125, -124, -123, -122, -121, -120, -119, -118, -117, -116, -115, -114, -113, -112, -111, -110, -109, -108, -107, -106, -105, -104, -103, -102, -101, -100, -99, -98, -97, -96, -95, -94, -93, -92, -91, -90, -89, -88, -87, -86, -85, -84, -83, -82, -81, -80, -79, -78, -77, -76, -75, -74, -73, -72, -71, -70, -69, -68, -67, -66, -65, -64, -63, -62, -61, -60, -59, -58, -57, -56, -55, -54, -53, -52, -51, -50, -49, -48, -47, -46, -45, -44, -43, -42, -41, -40, -39, -38, -37, -36, -35, -34, -33, -32, -31, -30, -29, -28, -27, -26, -25, -24, -23, -22, -21, -20, -19, -18, -17, -16, -15, -14, -13, -12, -11, -10, -9, -8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127>} : tensor<2x4x!f> -> tensor<2x4x!quant.uniform<i8:f32, 0.0078125>>
  return %0 : tensor<2x4x!quant.uniform<i8:f32, 0.0078125>>
}

//===----------------------------------------------------------------------===//
// softmax
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @softmax
func.func @softmax(%x: tensor<2x4x!f>) -> tensor<2x4x!quant.uniform<i8:f32, 0.00390625:-128>> {
  // CHECK: myquant.softmax %{{.*}} {exp_table = array<i32: 65536, 59299, 53656, {{.*}}>} : tensor<2x4x!quant.uniform<i8:f32, 1.000000e-01:-4>> -> tensor<2x4x!quant.uniform<i8:f32, 3.906250e-03:-128>>
  %0 = myquant.softmax %x {exp_table = array<i32: 65536, 59299, 53656, 48550, 43930, 39750, 35967, 32544, 29447, 26645, 24109, 21815, 19739, 17861, 16161, 14623, 13231, 11972, 10833, 9802, 8869, 8025, 7262, 6571, 5945, 5380, 4868, 4404, 3985, 3606, 3263, 2952, 2671, 2417, 2187, 1979, 1791, 1620, 1466, 1327, 1200, 1086, 983, 889, 805, 728, 659, 596, 539, 488, 442, 400, 362, 327, 296, 268, 242, 219, 198, 180, 162, 147, 133, 120, 109, 99, 89, 81, 73, 66, 60, 54, 49, 44, 40, 36, 33, 30, 27, 24, 22, 20, 18, 16, 15, 13, 12, 11, 10, 9, 8, 7, 7, 6, 5, 5, 4, 4, 4, 3, 3, 3, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0>} : tensor<2x4x!f> -> tensor<2x4x!quant.uniform<i8:f32, 0.00390625:-128>>
  return %0 : tensor<2x4x!quant.uniform<i8:f32, 0.00390625:-128>>
}

// CHECK-LABEL: func.func @layer_norm
func.func @layer_norm(%x: tensor<2x4x!f>) -> tensor<2x4x!quant.uniform<i8:f32, 0.02:3>> {
  // CHECK: myquant.layer_norm %{{.*}} {beta = array<i64: 0, 1, -2, 3>, epsilon = 1638 : i64, gamma = array<i64: 25600, 51200, 12800, -25600>} : tensor<2x4x!quant.uniform<i8:f32, 1.000000e-01:-4>> -> tensor<2x4x!quant.uniform<i8:f32, 2.000000e-02:3>>
  %0 = myquant.layer_norm %x {gamma = array<i64: 25600, 51200, 12800, -25600>, beta = array<i64: 0, 1, -2, 3>, epsilon = 1638 : i64} : tensor<2x4x!f> -> tensor<2x4x!quant.uniform<i8:f32, 0.02:3>>
  return %0 : tensor<2x4x!quant.uniform<i8:f32, 0.02:3>>
}
