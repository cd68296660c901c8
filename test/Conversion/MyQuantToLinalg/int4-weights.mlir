// RUN: myquant-opt %s -split-input-file --convert-myquant-to-linalg | FileCheck %s
// RUN: myquant-opt %s -split-input-file --convert-myquant-to-vnni=target=avx512-vnni --convert-myquant-to-linalg | FileCheck %s

// 4-bit weights (docs/NumericSpec.md 6.3): packed two per byte along K at
// compile time, unpacked once per call into i16 (shift the nibble to the
// top of an i16, arithmetic shift right by 12) times the group's
// multiplier m = byte + 1 read zero-extended, which the generic
// multiply-accumulate reads. The VNNI kernels take 8-bit weights only, so
// the generic lowering handles these on every target.

!x = !quant.uniform<i8:f32, 0.1:3>
!y = !quant.uniform<i8:f32, 0.5>
// N x K = 2 x 8 (transpose_rhs), groups of 4: channel 0 has m = 256 and
// 128, channel 1 m = 256 and 1.
!w = !quant.uniform<i4<-7:7>:f32:{0:1, 1:4}, {{1.0, 0.5}, {2.0, 0.0078125}}>
// CHECK-DAG: #[[P:.*]] = affine_map<(d0, d1) -> (d0, d1 floordiv 2)>
// CHECK-DAG: #[[G:.*]] = affine_map<(d0, d1) -> (d0, d1 floordiv 4)>
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[X:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-LABEL: func.func @grouped
// Element 2j is the low nibble: [1, -2] -> 0xE1 = -31, [3, -7] -> 0x93 =
// -109, [7, 0] -> 7, [-1, 5] -> 0x5F = 95; channel 1: [-7, 7] -> 0x79 = 121.
// CHECK-DAG: arith.constant dense<{{\[}}[-31, -109, 7, 95], [121, 121, 0, 0]]> : tensor<2x4xi8>
// CHECK-DAG: arith.constant dense<{{\[}}[-1, 127], [-1, 0]]> : tensor<2x2xi8>
// The zero point 3 is folded into the bias with the effective weights q * m:
// channel 0: -3 * (256 * (1 - 2 + 3 - 7) + 128 * (7 + 0 - 1 + 5)) = -384,
// channel 1: -3 * (256 * 0 + 1 * 0) = 0.
// CHECK-DAG: arith.constant dense<[-384, 0]> : tensor<2xi32>
// CHECK: %[[U:.*]] = linalg.generic {indexing_maps = [#[[P]], #[[G]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%{{.*}}, %{{.*}} : tensor<2x4xi8>, tensor<2x2xi8>) outs(%{{.*}} : tensor<2x8xi16>)
// CHECK:   linalg.index 1 : index
// CHECK:   arith.shli
// CHECK:   arith.shrsi %{{.*}}, %c12_i16
// CHECK:   arith.extui
// CHECK:   arith.muli
// CHECK: linalg.generic {indexing_maps = [#[[X]], #[[W]], #{{.*}}], iterator_types = ["parallel", "parallel", "reduction"]} ins(%{{.*}}, %[[U]] : tensor<3x8xi8>, tensor<2x8xi16>)
func.func @grouped(%x: tensor<3x8x!x>) -> tensor<3x2x!y> {
  %c = arith.constant dense<[[1, -2, 3, -7, 7, 0, -1, 5], [-7, 7, -7, 7, 0, 0, 0, 0]]> : tensor<2x8xi4>
  %w = quant.scast %c : tensor<2x8xi4> to tensor<2x8x!w>
  %0 = myquant.matmul %x, %w {transpose_rhs} : (tensor<3x8x!x>, tensor<2x8x!w>) -> tensor<3x2x!y>
  return %0 : tensor<3x2x!y>
}

// -----

// Per channel, [K, N] = 3 x 2: K is odd, so the last byte's high nibble is
// padding; no multipliers.
!x = !quant.uniform<i8:f32, 0.1>
!y = !quant.uniform<i8:f32, 0.5>
!w = !quant.uniform<i4<-7:7>:f32:1, {0.25, 0.5}>
// CHECK-DAG: #[[P:.*]] = affine_map<(d0, d1) -> (d0 floordiv 2, d1)>
// CHECK-LABEL: func.func @per_channel
// CHECK: arith.constant dense<{{\[}}[-15, 31], [7, 1]]> : tensor<2x2xi8>
// CHECK: %[[U:.*]] = linalg.generic {indexing_maps = [#[[P]], #{{.*}}], iterator_types = ["parallel", "parallel"]} ins(%{{.*}} : tensor<2x2xi8>) outs(%{{.*}} : tensor<3x2xi16>)
// CHECK-NOT: arith.muli
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[U]] : tensor<1x3xi8>, tensor<3x2xi16>)
func.func @per_channel(%x: tensor<1x3x!x>) -> tensor<1x2x!y> {
  %c = arith.constant dense<[[1, -1], [-1, 1], [7, 1]]> : tensor<3x2xi4>
  %w = quant.scast %c : tensor<3x2xi4> to tensor<3x2x!w>
  %0 = myquant.matmul %x, %w : (tensor<1x3x!x>, tensor<3x2x!w>) -> tensor<1x2x!y>
  return %0 : tensor<1x2x!y>
}

// -----

// Convolutions pack along the output channel within a group (dimension 1
// of the grouped NCHW filter, 1 x 4 x 2 x 1 x 1 here: channels (0, 1) and
// (2, 3) share bytes); a depthwise filter, whose groups hold one channel,
// along its largest dimension (the kernel height, 3: rows 0 and 1 share a
// byte, row 2 has a padding nibble).
!x = !quant.uniform<i8:f32, 0.1>
!y = !quant.uniform<i8:f32, 0.5>
!w = !quant.uniform<i4<-7:7>:f32:0, {0.25, 0.5, 0.25, 0.5}>
!d = !quant.uniform<i4<-7:7>:f32:0, {0.25, 0.5}>
// CHECK-LABEL: func.func @convs
// CHECK: arith.constant dense<{{\[\[\[\[\[33\]\], \[\[-93\]\]\], \[\[\[2\]\], \[\[15\]\]\]\]\]}}> : tensor<1x2x2x1x1xi8>
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<1x2x2x1x1xi8>) outs(%{{.*}} : tensor<1x4x2x1x1xi16>)
// CHECK: arith.constant dense<{{\[}}{{\[}}{{\[}}{{\[}}[65, 82, 99], [7, 9, 1]]]], {{\[}}{{\[}}{{\[}}[17, 17, 17], [1, 1, 1]]]]]> : tensor<2x1x1x2x3xi8>
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<2x1x1x2x3xi8>) outs(%{{.*}} : tensor<2x1x1x3x3xi16>)
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
