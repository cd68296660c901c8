// RUN: myquant-opt %s -split-input-file --convert-myquant-to-linalg | FileCheck %s

// 4-bit weights (docs/NumericSpec.md 7.3): packed two per byte along K at
// compile time in blocks (a group, or the whole K): byte j of a block holds
// element j (low nibble) and j + block / 2 (high). A generic with
// projected-permutation maps unpacks them once per call: the nibble shifted
// to the top and arithmetic-shifted back, into i8 per channel, or into i16
// times the group's multiplier m = byte + 1 (read zero-extended) per
// group; the generic multiply-accumulate reads the result. (The VNNI
// kernels keep them packed: test/Conversion/MyQuantToVnni/int4-weights.mlir.)

!x = !quant.uniform<i8:f32, 0.1:3>
!y = !quant.uniform<i8:f32, 0.5>
// N x K = 2 x 8 (transpose_rhs), groups of 4: channel 0 has m = 256 and
// 128, channel 1 m = 256 and 1.
!w = !quant.uniform<i4<-7:7>:f32:{0:1, 1:4}, {{1.0, 0.5}, {2.0, 0.0078125}}>
// CHECK-DAG: #[[P:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[G:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[X:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-LABEL: func.func @grouped
// Group [1, -2, 3, -7]: (1, 3) -> 0x31 = 49, (-2, -7) -> 0x9E = -98; group
// [7, 0, -1, 5]: (7, -1) -> 0xF7 = -9, (0, 5) -> 0x50 = 80; channel 1:
// (-7, -7) -> 0x99 = -103, (7, 7) -> 0x77 = 119.
// CHECK-DAG: arith.constant dense<{{\[\[\[}}49, -98], [-9, 80]], {{\[\[}}-103, 119], [0, 0]]]> : tensor<2x2x2xi8>
// CHECK-DAG: arith.constant dense<{{\[}}[-1, 127], [-1, 0]]> : tensor<2x2xi8>
// The zero point 3 is folded into the bias with the effective weights q * m:
// channel 0: -3 * (256 * (1 - 2 + 3 - 7) + 128 * (7 + 0 - 1 + 5)) = -384,
// channel 1: -3 * (256 * 0 + 1 * 0) = 0.
// CHECK-DAG: arith.constant dense<[-384, 0]> : tensor<2xi32>
// CHECK: linalg.generic {indexing_maps = [#[[P]], #[[G]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%{{.*}}, %{{.*}} : tensor<2x2x2xi8>, tensor<2x2xi8>) outs(%{{.*}} : tensor<2x2x2x2xi16>)
// CHECK:   linalg.index 2 : index
// CHECK:   arith.shli
// CHECK:   arith.shrsi %{{.*}}, %c12_i16
// CHECK:   arith.extui
// CHECK:   arith.muli
// CHECK: %[[U:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0], [1, 2, 3]] : tensor<2x2x2x2xi16> into tensor<2x8xi16>
// CHECK: linalg.generic {indexing_maps = [#[[X]], #[[W]], #{{.*}}], iterator_types = ["parallel", "parallel", "reduction"]} ins(%{{.*}}, %[[U]] : tensor<3x8xi8>, tensor<2x8xi16>)
func.func @grouped(%x: tensor<3x8x!x>) -> tensor<3x2x!y> {
  %c = arith.constant dense<[[1, -2, 3, -7, 7, 0, -1, 5], [-7, 7, -7, 7, 0, 0, 0, 0]]> : tensor<2x8xi4>
  %w = quant.scast %c : tensor<2x8xi4> to tensor<2x8x!w>
  %0 = myquant.matmul %x, %w {transpose_rhs} : (tensor<3x8x!x>, tensor<2x8x!w>) -> tensor<3x2x!y>
  return %0 : tensor<3x2x!y>
}

// -----

// Per channel, [K, N] = 3 x 2: K is odd, so the bytes pair the channels
// (N) instead; no multipliers.
!x = !quant.uniform<i8:f32, 0.1>
!y = !quant.uniform<i8:f32, 0.5>
!w = !quant.uniform<i4<-7:7>:f32:1, {0.25, 0.5}>
// CHECK-LABEL: func.func @per_channel
// CHECK: arith.constant dense<{{\[\[\[}}-15]], {{\[\[}}31]], {{\[\[}}23]]]> : tensor<3x1x1xi8>
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<3x1x1xi8>) outs(%{{.*}} : tensor<3x1x2x1xi8>)
// CHECK-NOT: arith.muli
// CHECK: %[[U:.*]] = tensor.collapse_shape {{.*}} : tensor<3x1x2x1xi8> into tensor<3x2xi8>
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[U]] : tensor<1x3xi8>, tensor<3x2xi8>)
func.func @per_channel(%x: tensor<1x3x!x>) -> tensor<1x2x!y> {
  %c = arith.constant dense<[[1, -1], [-1, 1], [7, 1]]> : tensor<3x2xi4>
  %w = quant.scast %c : tensor<3x2xi4> to tensor<3x2x!w>
  %0 = myquant.matmul %x, %w : (tensor<1x3x!x>, tensor<3x2x!w>) -> tensor<1x2x!y>
  return %0 : tensor<1x2x!y>
}

// -----

// Convolutions pack along the output channel within a group (dimension 1
// of the grouped NCHW filter, 1 x 4 x 2 x 1 x 1 here: one block of 4,
// channels 0 and 2, 1 and 3 share bytes); a depthwise filter, whose groups
// hold one channel, along its first even dimension (the groups: its two
// channels share bytes).
!x = !quant.uniform<i8:f32, 0.1>
!y = !quant.uniform<i8:f32, 0.5>
!w = !quant.uniform<i4<-7:7>:f32:0, {0.25, 0.5, 0.25, 0.5}>
!d = !quant.uniform<i4<-7:7>:f32:0, {0.25, 0.5}>
// CHECK-LABEL: func.func @convs
// (f0, f2) = ([1, 3], [2, -1]): 0x21 = 33, 0xF3 = -13; (f1, f3) = ([2, -6],
// [0, 0]): 2, 10.
// CHECK: arith.constant dense<{{\[\[\[\[\[\[}}33]], {{\[\[}}-13]]], {{\[\[\[}}2]], {{\[\[}}10]]]]]]> : tensor<1x1x2x2x1x1xi8>
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<1x1x2x2x1x1xi8>) outs(%{{.*}} : tensor<1x1x2x2x2x1x1xi8>)
// CHECK: arith.constant dense<{{\[\[\[\[\[\[}}17, 18, 19], [20, 21, 22], [23, 25, 17]]]]]]> : tensor<1x1x1x1x3x3xi8>
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<1x1x1x1x3x3xi8>) outs(%{{.*}} : tensor<1x2x1x1x1x3x3xi8>)
func.func @convs(%x: tensor<1x2x3x3x!x>) -> (tensor<1x4x3x3x!y>, tensor<1x2x3x3x!y>) {
  %c = arith.constant dense<[[[[1]], [[3]]], [[[2]], [[-6]]], [[[2]], [[-1]]], [[[0]], [[0]]]]> : tensor<4x2x1x1xi4>
  %w = quant.scast %c : tensor<4x2x1x1xi4> to tensor<4x2x1x1x!w>
  %0 = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>,
      dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x2x3x3x!x>, tensor<4x2x1x1x!w>) -> tensor<1x4x3x3x!y>
  %dc = arith.constant dense<[[[[1, 2, 3], [4, 5, 6], [7, -7, 1]]], [[[1, 1, 1], [1, 1, 1], [1, 1, 1]]]]> : tensor<2x1x3x3xi4>
  %dw = quant.scast %dc : tensor<2x1x3x3xi4> to tensor<2x1x3x3x!d>
  %1 = myquant.conv2d %x, %dw {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>,
      dilations = array<i64: 1, 1>, groups = 2 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x2x3x3x!x>, tensor<2x1x3x3x!d>) -> tensor<1x2x3x3x!y>
  return %0, %1 : tensor<1x4x3x3x!y>, tensor<1x2x3x3x!y>
}

// -----

// No even dimension to pack along: the weights are stored unpacked as i8.
!x = !quant.uniform<i8:f32, 0.1>
!y = !quant.uniform<i8:f32, 0.5>
!w = !quant.uniform<i4<-7:7>:f32:1, {0.25}>
// CHECK-LABEL: func.func @unpackable
// CHECK: %[[W:.*]] = arith.constant dense<{{\[}}[1], [-7], [7]]> : tensor<3x1xi8>
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[W]] : tensor<1x3xi8>, tensor<3x1xi8>)
func.func @unpackable(%x: tensor<1x3x!x>) -> tensor<1x1x!y> {
  %c = arith.constant dense<[[1], [-7], [7]]> : tensor<3x1xi4>
  %w = quant.scast %c : tensor<3x1xi4> to tensor<3x1x!w>
  %0 = myquant.matmul %x, %w : (tensor<1x3x!x>, tensor<3x1x!w>) -> tensor<1x1x!y>
  return %0 : tensor<1x1x!y>
}

// -----

// Groups of an odd size (3) are not packed either: i16 q * m (m = 256, 128).
!x = !quant.uniform<i8:f32, 0.1>
!y = !quant.uniform<i8:f32, 0.5>
!w = !quant.uniform<i4<-7:7>:f32:{0:1, 1:3}, {{1.0, 0.5}}>
// CHECK-LABEL: func.func @odd_groups
// CHECK: %[[W:.*]] = arith.constant dense<{{\[}}[256, 512, 768, -128, -256, -384]]> : tensor<1x6xi16>
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[W]] : tensor<1x6xi8>, tensor<1x6xi16>)
func.func @odd_groups(%x: tensor<1x6x!x>) -> tensor<1x1x!y> {
  %c = arith.constant dense<[[1, 2, 3, -1, -2, -3]]> : tensor<1x6xi4>
  %w = quant.scast %c : tensor<1x6xi4> to tensor<1x6x!w>
  %0 = myquant.matmul %x, %w {transpose_rhs} : (tensor<1x6x!x>, tensor<1x6x!w>) -> tensor<1x1x!y>
  return %0 : tensor<1x1x!y>
}
