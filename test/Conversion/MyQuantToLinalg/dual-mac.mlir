// RUN: myquant-opt %s -split-input-file --convert-myquant-to-linalg | FileCheck %s
// RUN: myquant-opt %s -split-input-file --convert-myquant-to-linalg=dual-mac=false \
// RUN:   | FileCheck %s --check-prefix=OFF

// The ARM DSP dual multiply-accumulate (docs/Targets.md): on a module that
// myquant-set-target marked `myquant.arm_dsp`, pairs of products along the
// reduction become one SMLAD, a call of the declared intrinsic.

// OFF-NOT: llvm.arm.smlad

!a = !quant.uniform<i8:f32, 0.1:-4>
!y = !quant.uniform<i8:f32, 0.2:3>
!w = !quant.uniform<i8:f32, 0.05:7>

// K x N constant rhs with a per-tensor zero point 7, so the input zero
// point (-4) is not folded and both are subtracted: the weights minus 7
// are [[-6, -5, -4], [-3, -2, -1], [-14, 1, 2], [3, 4, 5]], packed along K
// into words (low: k = 2j, high: k = 2j + 1), e.g. (-6, -3) -> 0xFFFDFFFA =
// -131078 and (-14, 3) -> 0x0003FFF2 = 262130. The lhs is read twice, at
// columns 2 * d2 and 2 * d2 + 1; its centered values are packed into one
// word by and / shl / or.
// CHECK-DAG:   #[[$X0:[^ :,()]+]] = affine_map<(d0, d1, d2) -> (d0, d2 * 2)>
// CHECK-DAG:   #[[$X1:[^ :,()]+]] = affine_map<(d0, d1, d2) -> (d0, d2 * 2 + 1)>
// CHECK-DAG:   #[[$W:[^ :,()]+]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-DAG:   #[[$ACC:[^ :,()]+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func private @llvm.arm.smlad(i32, i32, i32) -> i32
// CHECK-LABEL: func.func @matmul_zero_points
// CHECK-SAME:    (%[[X:[^ :,()]+]]: tensor<2x4xi8>) -> tensor<2x3xi8>
// CHECK:         %[[WP:[^ :,()]+]] = arith.constant dense<{{\[\[}}-131078, -65541, -4], [262130, 262145, 327682]]> : tensor<2x3xi32>
// CHECK:         linalg.generic {indexing_maps = [#[[$X0]], #[[$X1]], #[[$W]], #[[$ACC]]], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME:      ins(%[[X]], %[[X]], %[[WP]] : tensor<2x4xi8>, tensor<2x4xi8>, tensor<2x3xi32>) outs(%{{.*}} : tensor<2x3xi32>)
// CHECK-NEXT:    ^bb0(%[[X0V:[^ :,()]+]]: i8, %[[X1V:[^ :,()]+]]: i8, %[[WV:[^ :,()]+]]: i32, %[[ACCV:[^ :,()]+]]: i32):
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
// CHECK-NEXT:      %[[PAIR:[^ :,()]+]] = arith.ori %[[LO]], %[[HI]] : i32
// CHECK-NEXT:      %[[SUM:[^ :,()]+]] = func.call @llvm.arm.smlad(%[[PAIR]], %[[WV]], %[[ACCV]]) : (i32, i32, i32) -> i32
// CHECK-NEXT:      linalg.yield %[[SUM]] : i32
module attributes {myquant.arm_dsp} {
func.func @matmul_zero_points(%x: tensor<2x4x!a>) -> tensor<2x3x!y> {
  %wc = arith.constant dense<[[1, 2, 3], [4, 5, 6], [-7, 8, 9], [10, 11, 12]]> : tensor<4x3xi8>
  %w = quant.scast %wc : tensor<4x3xi8> to tensor<4x3x!w>
  %0 = myquant.matmul %x, %w : (tensor<2x4x!a>, tensor<4x3x!w>) -> tensor<2x3x!y>
  return %0 : tensor<2x3x!y>
}
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!y = !quant.uniform<i8:f32, 0.2:3>
!wc = !quant.uniform<i8<-127:127>:f32:0, {0.01, 0.02}>

// NCHW conv, 2 input channels: the channel loop d5 is paired (the input at
// channels 2 * d5 and 2 * d5 + 1), the filter packed along its channel
// dimension to 2x1x3x3 words: (w[f, 0], w[f, 1]) = (1, -1) -> 0xFFFF0001
// = -65535 and (2, 3) -> 0x00030002 = 196610. The input zero point is
// folded into the bias, so the body subtracts nothing.
// CHECK-DAG:   #[[$X0:[^ :,()]+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d5 * 2, d3 + d6, d4 + d7)>
// CHECK-DAG:   #[[$X1:[^ :,()]+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d5 * 2 + 1, d3 + d6, d4 + d7)>
// CHECK-LABEL: func.func @conv2d_nchw
// CHECK:         %[[WP:[^ :,()]+]] = arith.constant dense<{{\[\[\[\[\[}}-65535, -65535, -65535], [-65535, -65535, -65535], [-65535, -65535, -65535]]], {{\[\[\[}}196610, 196610, 196610], [196610, 196610, 196610], [196610, 196610, 196610]]]]]> : tensor<1x2x1x3x3xi32>
// CHECK:         linalg.generic {indexing_maps = [#[[$X0]], #[[$X1]], #{{.*}}, #{{.*}}]
// CHECK-SAME:      ins(%{{.*}}, %{{.*}}, %[[WP]] : tensor<1x1x2x6x6xi8>, tensor<1x1x2x6x6xi8>, tensor<1x2x1x3x3xi32>)
// CHECK-NOT:       arith.subi
// CHECK:           func.call @llvm.arm.smlad
// CHECK:         linalg.yield
module attributes {myquant.arm_dsp} {
func.func @conv2d_nchw(%x: tensor<1x2x4x4x!a>) -> tensor<1x2x4x4x!y> {
  %wc = arith.constant dense<[[[[1, 1, 1], [1, 1, 1], [1, 1, 1]], [[-1, -1, -1], [-1, -1, -1], [-1, -1, -1]]],
                              [[[2, 2, 2], [2, 2, 2], [2, 2, 2]], [[3, 3, 3], [3, 3, 3], [3, 3, 3]]]]> : tensor<2x2x3x3xi8>
  %w = quant.scast %wc : tensor<2x2x3x3xi8> to tensor<2x2x3x3x!wc>
  %0 = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>,
      dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x2x4x4x!a>, tensor<2x2x3x3x!wc>) -> tensor<1x2x4x4x!y>
  return %0 : tensor<1x2x4x4x!y>
}
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!y = !quant.uniform<i8:f32, 0.2:3>
!wc = !quant.uniform<i8<-127:127>:f32:0, {0.01, 0.02}>

// Generic lowering where SMLAD does not apply: an odd number of input
// channels, weights that are not constant, or a module without the mark.
// CHECK-LABEL: func.func @odd_channels
// CHECK-NOT:     llvm.arm.smlad
// CHECK:         arith.muli
module attributes {myquant.arm_dsp} {
func.func @odd_channels(%x: tensor<1x3x4x4x!a>) -> tensor<1x2x2x2x!y> {
  %wc = arith.constant dense<1> : tensor<2x3x3x3xi8>
  %w = quant.scast %wc : tensor<2x3x3x3xi8> to tensor<2x3x3x3x!wc>
  %0 = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>,
      dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x3x4x4x!a>, tensor<2x3x3x3x!wc>) -> tensor<1x2x2x2x!y>
  return %0 : tensor<1x2x2x2x!y>
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
