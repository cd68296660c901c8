// RUN: myquant-opt %s -split-input-file --convert-myquant-to-linalg | FileCheck %s
// RUN: myquant-opt %s -split-input-file --convert-myquant-to-linalg=dual-mac=false \
// RUN:   | FileCheck %s --check-prefix=OFF

// The ARM DSP dual multiply-accumulate (docs/Targets.md): on a module that
// myquant-set-target marked `myquant.arm_dsp`, quads of products along the
// reduction become two SMLADs, their 8-bit weights unpacked by SXTB16
// (calls of the declared intrinsics).

// OFF-NOT: llvm.arm.s

!a = !quant.uniform<i8:f32, 0.1:-4>
!y = !quant.uniform<i8:f32, 0.2:3>
!w = !quant.uniform<i8:f32, 0.05:7>

// K x N constant rhs with a per-tensor zero point 7, so the input zero
// point (-4) is not folded and both are subtracted. The weights minus 7 of
// rows 0 to 3 are [[-6, -5, -4], [-3, -2, -1], [-14, 1, 2], [3, 4, 5]]; a
// column's quad (w0, w1, w2, w3) is one word with the bytes w0, w2, w1, w3:
// (-6, -14, -3, 3) -> 0x03FDF2FA = 66974458, (-5, 1, -2, 4) -> 0x04FE01FB
// = 83755515, (-4, 2, -1, 5) -> 0x05FF02FC = 100598524. SXTB16 of the word
// is the pair (w0, w1), of the word rotated by 8 (w2, w3). The lhs is read
// four times, at columns 4 * d2 + i; its centered values are packed into
// pairs by and / shl / or. Rows 4 and 5 (K = 6) are a generic
// multiply-accumulate into the same sums, reading the lhs at d2 + 4.
// CHECK-DAG:   #[[$X0:[^ :,()]+]] = affine_map<(d0, d1, d2) -> (d0, d2 * 4)>
// CHECK-DAG:   #[[$X1:[^ :,()]+]] = affine_map<(d0, d1, d2) -> (d0, d2 * 4 + 1)>
// CHECK-DAG:   #[[$X2:[^ :,()]+]] = affine_map<(d0, d1, d2) -> (d0, d2 * 4 + 2)>
// CHECK-DAG:   #[[$X3:[^ :,()]+]] = affine_map<(d0, d1, d2) -> (d0, d2 * 4 + 3)>
// CHECK-DAG:   #[[$XT:[^ :,()]+]] = affine_map<(d0, d1, d2) -> (d0, d2 + 4)>
// CHECK-DAG:   #[[$W:[^ :,()]+]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-DAG:   #[[$ACC:[^ :,()]+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func private @llvm.arm.sxtb16(i32) -> i32
// CHECK-LABEL: func.func private @llvm.arm.smlad(i32, i32, i32) -> i32
// CHECK-LABEL: func.func @matmul_zero_points
// CHECK-SAME:    (%[[X:[^ :,()]+]]: tensor<2x6xi8>) -> tensor<2x3xi8>
// CHECK:         %[[WP:[^ :,()]+]] = arith.constant dense<{{\[\[}}66974458, 83755515, 100598524]]> : tensor<1x3xi32>
// CHECK:         %[[QUADS:[^ :,()]+]] = linalg.generic {indexing_maps = [#[[$X0]], #[[$X1]], #[[$X2]], #[[$X3]], #[[$W]], #[[$ACC]]], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME:      ins(%[[X]], %[[X]], %[[X]], %[[X]], %[[WP]] : tensor<2x6xi8>, tensor<2x6xi8>, tensor<2x6xi8>, tensor<2x6xi8>, tensor<1x3xi32>) outs(%{{.*}} : tensor<2x3xi32>)
// CHECK-NEXT:    ^bb0(%[[X0V:[^ :,()]+]]: i8, %[[X1V:[^ :,()]+]]: i8, %[[X2V:[^ :,()]+]]: i8, %[[X3V:[^ :,()]+]]: i8, %[[WV:[^ :,()]+]]: i32, %[[ACCV:[^ :,()]+]]: i32):
// CHECK-NEXT:      %[[EIGHT:[^ :,()]+]] = arith.constant 8 : i32
// CHECK-NEXT:      %[[SHR:[^ :,()]+]] = arith.shrui %[[WV]], %[[EIGHT]] : i32
// CHECK-NEXT:      %[[TWENTYFOUR:[^ :,()]+]] = arith.constant 24 : i32
// CHECK-NEXT:      %[[SHL:[^ :,()]+]] = arith.shli %[[WV]], %[[TWENTYFOUR]] : i32
// CHECK-NEXT:      %[[ROT:[^ :,()]+]] = arith.ori %[[SHR]], %[[SHL]] : i32
// CHECK-NEXT:      %[[E0:[^ :,()]+]] = arith.extsi %[[X0V]] : i8 to i32
// CHECK-NEXT:      %[[ZX0:[^ :,()]+]] = arith.constant -4 : i32
// CHECK-NEXT:      %[[C0:[^ :,()]+]] = arith.subi %[[E0]], %[[ZX0]] : i32
// CHECK-NEXT:      %[[MASK:[^ :,()]+]] = arith.constant 65535 : i32
// CHECK-NEXT:      %[[LO:[^ :,()]+]] = arith.andi %[[C0]], %[[MASK]] : i32
// CHECK-NEXT:      %[[E1:[^ :,()]+]] = arith.extsi %[[X1V]] : i8 to i32
// CHECK-NEXT:      %[[ZX1:[^ :,()]+]] = arith.constant -4 : i32
// CHECK-NEXT:      %[[C1:[^ :,()]+]] = arith.subi %[[E1]], %[[ZX1]] : i32
// CHECK-NEXT:      %[[SIXTEEN:[^ :,()]+]] = arith.constant 16 : i32
// CHECK-NEXT:      %[[HI:[^ :,()]+]] = arith.shli %[[C1]], %[[SIXTEEN]] : i32
// CHECK-NEXT:      %[[PAIR01:[^ :,()]+]] = arith.ori %[[LO]], %[[HI]] : i32
// CHECK-NEXT:      %[[W01:[^ :,()]+]] = func.call @llvm.arm.sxtb16(%[[WV]]) : (i32) -> i32
// CHECK-NEXT:      %[[SUM01:[^ :,()]+]] = func.call @llvm.arm.smlad(%[[PAIR01]], %[[W01]], %[[ACCV]]) : (i32, i32, i32) -> i32
// CHECK-NEXT:      %[[E2:[^ :,()]+]] = arith.extsi %[[X2V]] : i8 to i32
// CHECK:           %[[E3:[^ :,()]+]] = arith.extsi %[[X3V]] : i8 to i32
// CHECK:           %[[PAIR23:[^ :,()]+]] = arith.ori
// CHECK-NEXT:      %[[W23:[^ :,()]+]] = func.call @llvm.arm.sxtb16(%[[ROT]]) : (i32) -> i32
// CHECK-NEXT:      %[[SUM:[^ :,()]+]] = func.call @llvm.arm.smlad(%[[PAIR23]], %[[W23]], %[[SUM01]]) : (i32, i32, i32) -> i32
// CHECK-NEXT:      linalg.yield %[[SUM]] : i32
// CHECK:         %[[WT:[^ :,()]+]] = arith.constant dense<{{\[\[}}-1, -2, -3], [0, 1, 2]]> : tensor<2x3xi8>
// CHECK:         linalg.generic {indexing_maps = [#[[$XT]], #[[$W]], #[[$ACC]]], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME:      ins(%[[X]], %[[WT]] : tensor<2x6xi8>, tensor<2x3xi8>) outs(%[[QUADS]] : tensor<2x3xi32>)
// CHECK:           arith.muli
module attributes {myquant.arm_dsp} {
func.func @matmul_zero_points(%x: tensor<2x6x!a>) -> tensor<2x3x!y> {
  %wc = arith.constant dense<[[1, 2, 3], [4, 5, 6], [-7, 8, 9], [10, 11, 12], [-1, -2, -3], [0, 1, 2]]> : tensor<6x3xi8>
  %w = quant.scast %wc : tensor<6x3xi8> to tensor<6x3x!w>
  %0 = myquant.matmul %x, %w : (tensor<2x6x!a>, tensor<6x3x!w>) -> tensor<2x3x!y>
  return %0 : tensor<2x3x!y>
}
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!y = !quant.uniform<i8:f32, 0.2:3>
!wc = !quant.uniform<i8<-127:127>:f32:0, {0.01, 0.02}>

// NCHW conv, 4 input channels: the channel loop d5 is a quad (the input
// at channels 4 * d5 + i), the filter packed along its channel dimension:
// (1, -1, 2, -2) -> bytes 1, 2, -1, -2 -> 0xFEFF0201 = -16842239 and
// (3, 4, 5, 6) -> 0x06040503 = 100926723. The input zero point is folded
// into the bias, so the body subtracts nothing; no channel is left over.
// CHECK-DAG:   #[[$X0:[^ :,()]+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d5 * 4, d3 + d6, d4 + d7)>
// CHECK-DAG:   #[[$X3:[^ :,()]+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d5 * 4 + 3, d3 + d6, d4 + d7)>
// CHECK-LABEL: func.func @conv2d_nchw
// CHECK:         %[[WP:[^ :,()]+]] = arith.constant dense<{{\[\[\[\[\[}}-16842239]]], {{\[\[\[}}100926723]]]]]> : tensor<1x2x1x1x1xi32>
// CHECK:         linalg.generic {indexing_maps = [#[[$X0]], #{{.*}}, #{{.*}}, #[[$X3]], #{{.*}}, #{{.*}}]
// CHECK-SAME:      ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[WP]] : tensor<1x1x4x4x4xi8>, tensor<1x1x4x4x4xi8>, tensor<1x1x4x4x4xi8>, tensor<1x1x4x4x4xi8>, tensor<1x2x1x1x1xi32>)
// CHECK-NOT:       arith.subi
// CHECK-COUNT-2:   func.call @llvm.arm.smlad
// CHECK:         linalg.yield
// CHECK-NEXT:    } -> tensor<1x1x2x4x4xi32>
// CHECK-NEXT:    tensor.collapse_shape
module attributes {myquant.arm_dsp} {
func.func @conv2d_nchw(%x: tensor<1x4x4x4x!a>) -> tensor<1x2x4x4x!y> {
  %wc = arith.constant dense<[[[[1]], [[-1]], [[2]], [[-2]]], [[[3]], [[4]], [[5]], [[6]]]]> : tensor<2x4x1x1xi8>
  %w = quant.scast %wc : tensor<2x4x1x1xi8> to tensor<2x4x1x1x!wc>
  %0 = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>,
      dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x4x4x4x!a>, tensor<2x4x1x1x!wc>) -> tensor<1x2x4x4x!y>
  return %0 : tensor<1x2x4x4x!y>
}
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!y = !quant.uniform<i8:f32, 0.2:3>
!wc = !quant.uniform<i8<-127:127>:f32:0, {0.01, 0.02}>

// Depthwise 3x3 (one channel per group): quads along the window's taps t
// (row t floordiv 3, column t mod 3): taps 0-3 and 4-7 of channel 0,
// (1, 2, 3, 4) -> bytes 1, 3, 2, 4 -> 0x04020301 = 67240705 and (5, 6, 7,
// 8) -> 0x08060705 = 134612741; tap 8 is a generic multiply-accumulate
// reading the input at t + 8.
// CHECK-DAG:   #[[$X0:[^ :,()]+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d5, d3 + (d6 * 4) floordiv 3, d4 + (d6 * 4) mod 3)>
// CHECK-DAG:   #[[$X3:[^ :,()]+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d5, d3 + (d6 * 4) floordiv 3 + 1, d4 + (d6 * 4) mod 3)>
// CHECK-DAG:   #[[$W:[^ :,()]+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d2, d5, d6)>
// CHECK-DAG:   #[[$XT:[^ :,()]+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d5, d3 + (d6 + 8) floordiv 3, d4 + (d6 + 8) mod 3)>
// CHECK-LABEL: func.func @depthwise
// CHECK:         %[[WP:[^ :,()]+]] = arith.constant dense<{{\[\[\[\[}}67240705, 134612741]]], {{\[\[\[}}-50397697, -117769733]]]]> : tensor<2x1x1x2xi32>
// CHECK:         %[[QUADS:[^ :,()]+]] = linalg.generic {indexing_maps = [#[[$X0]], #{{.*}}, #{{.*}}, #[[$X3]], #[[$W]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
// CHECK-SAME:      ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[WP]] :
// CHECK-COUNT-2:   func.call @llvm.arm.smlad
// CHECK:         %[[WT:[^ :,()]+]] = arith.constant dense<{{\[\[\[\[}}9]]], {{\[\[\[}}-9]]]]> : tensor<2x1x1x1xi8>
// CHECK:         linalg.generic {indexing_maps = [#[[$XT]], #[[$W]], #{{.*}}]
// CHECK-SAME:      ins(%{{.*}}, %[[WT]] : tensor<1x2x1x6x6xi8>, tensor<2x1x1x1xi8>) outs(%[[QUADS]] :
module attributes {myquant.arm_dsp} {
func.func @depthwise(%x: tensor<1x2x4x4x!a>) -> tensor<1x2x4x4x!y> {
  %wc = arith.constant dense<[[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]], [[[-1, -2, -3], [-4, -5, -6], [-7, -8, -9]]]]> : tensor<2x1x3x3xi8>
  %w = quant.scast %wc : tensor<2x1x3x3xi8> to tensor<2x1x3x3x!wc>
  %0 = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>,
      dilations = array<i64: 1, 1>, groups = 2 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x2x4x4x!a>, tensor<2x1x3x3x!wc>) -> tensor<1x2x4x4x!y>
  return %0 : tensor<1x2x4x4x!y>
}
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!y = !quant.uniform<i8:f32, 0.2:3>
!wc = !quant.uniform<i8<-127:127>:f32:0, {0.01, 0.02}>
!w = !quant.uniform<i8:f32, 0.05:7>

// Generic lowering where SMLAD does not apply: under 4 input channels and
// a 1x1 window, centered weights beyond 8 bits (-127 - 7), weights that
// are not constant, or a module without the mark.
// CHECK-LABEL: func.func @three_channels_one_tap
// CHECK-NOT:     llvm.arm.smlad
// CHECK:         arith.muli
// CHECK-LABEL: func.func @wide_centered_weights
// CHECK-NOT:     llvm.arm.smlad
// CHECK:         arith.muli
module attributes {myquant.arm_dsp} {
func.func @three_channels_one_tap(%x: tensor<1x3x4x4x!a>) -> tensor<1x2x4x4x!y> {
  %wc = arith.constant dense<1> : tensor<2x3x1x1xi8>
  %w = quant.scast %wc : tensor<2x3x1x1xi8> to tensor<2x3x1x1x!wc>
  %0 = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>,
      dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x3x4x4x!a>, tensor<2x3x1x1x!wc>) -> tensor<1x2x4x4x!y>
  return %0 : tensor<1x2x4x4x!y>
}
func.func @wide_centered_weights(%x: tensor<2x4x!a>) -> tensor<2x3x!y> {
  %wc = arith.constant dense<[[-127, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]]> : tensor<4x3xi8>
  %w = quant.scast %wc : tensor<4x3xi8> to tensor<4x3x!w>
  %0 = myquant.matmul %x, %w : (tensor<2x4x!a>, tensor<4x3x!w>) -> tensor<2x3x!y>
  return %0 : tensor<2x3x!y>
}
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!y = !quant.uniform<i8:f32, 0.2:3>
!wm = !quant.uniform<i8<-127:127>:f32:1, {0.01, 0.02, 0.04}>

// CHECK-LABEL: func.func @weights_not_constant
// CHECK-NOT:     llvm.arm.smlad
// CHECK:         arith.muli
module attributes {myquant.arm_dsp} {
func.func @weights_not_constant(%x: tensor<2x4x!a>, %w: tensor<4x3x!wm>) -> tensor<2x3x!y> {
  %0 = myquant.matmul %x, %w : (tensor<2x4x!a>, tensor<4x3x!wm>) -> tensor<2x3x!y>
  return %0 : tensor<2x3x!y>
}
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!y = !quant.uniform<i8:f32, 0.2:3>
!w = !quant.uniform<i8:f32, 0.05:7>

// CHECK-LABEL: func.func @not_marked
// CHECK-NOT:     llvm.arm.smlad
// CHECK:         arith.muli
func.func @not_marked(%x: tensor<2x4x!a>) -> tensor<2x3x!y> {
  %wc = arith.constant dense<1> : tensor<4x3xi8>
  %w = quant.scast %wc : tensor<4x3xi8> to tensor<4x3x!w>
  %0 = myquant.matmul %x, %w : (tensor<2x4x!a>, tensor<4x3x!w>) -> tensor<2x3x!y>
  return %0 : tensor<2x3x!y>
}
