// RUN: myquant-opt %s -split-input-file --convert-myquant-to-vnni=target=avx512-vnni | FileCheck %s
// RUN: myquant-opt %s -split-input-file --convert-myquant-to-vnni=target=avx512-vnni-256 | FileCheck %s --check-prefix=YMM
// RUN: myquant-opt %s -split-input-file --convert-myquant-to-vnni=target=avx512-vnni --myquant-lower-vnni-dot | FileCheck %s --check-prefix=DOT

// 4-bit weights (docs/NumericSpec.md 7) in the VNNI GEMM kernel: the packed
// weights hold two K steps of 4 input channels per byte vector, step 2s in
// the low nibbles and 2s + 1 in the high ones: half the bytes of 8-bit
// weights (1 x 1 x 64 bytes here instead of 1 x 2 x 64). In registers, the
// low nibbles shifted up by 4 and the high ones masked with 0xF0 are 16 * w
// exactly as int8, multiplied by vpdpbusd into partial sums that start at
// 0; after the K loop (per group, after each group's steps) they are
// shifted back by 4 and added to the folded bias (times the group's
// multiplier m = byte + 1).

// Channel 0 (1, 2, 3, 4 | -1, -2, -3, -4): bytes 0xF1 = -15, 0xE2 = -30,
// 0xD3 = -45, 0xC4 = -60; channel 1 (7, 0, 0, 0 | -7, 0, 0, 1): 0x97 =
// -105, 0, 0, 0x10 = 16. The folded bias: -(3 + 128) * sum w = 0, -131.
// CHECK-LABEL: func.func private @per_channel_kernel
// CHECK-DAG:     arith.constant dense<{{\[\[\[}}-15, -30, -45, -60, -105, 0, 0, 16, 0, 0, {{.*}}]]]> : tensor<1x1x64xi8>
// CHECK-DAG:     %[[INIT:.*]] = arith.constant dense<[0, -131, 0, {{.*}}]> : tensor<16xi32>
// CHECK:         %[[ZERO:.*]] = arith.constant dense<0> : vector<16xi32>
// CHECK:         %[[K:.*]]:5 = scf.for {{.*}} iter_args(%{{.*}} = %[[ZERO]],
// CHECK:           %[[PACKED:.*]] = vector.transfer_read {{.*}} : tensor<1x1x64xi8>, vector<64xi8>
// CHECK:           %[[LOW:.*]] = arith.shli %[[PACKED]], %{{.*}} : vector<64xi8>
// CHECK:           %[[HIGH:.*]] = arith.andi %[[PACKED]], %{{.*}} : vector<64xi8>
// CHECK:           arith.extsi %[[LOW]] : vector<64xi8> to vector<64xi32>
// CHECK:           vector.multi_reduction <add>, %{{.*}} [1] : vector<16x4xi32> to vector<16xi32>
// CHECK:           arith.extsi %[[HIGH]] : vector<64xi8> to vector<64xi32>
// CHECK:           vector.multi_reduction <add>, %{{.*}} [1] : vector<16x4xi32> to vector<16xi32>
// CHECK:         %[[BIAS:.*]] = vector.transfer_read %[[INIT]]
// CHECK:         %[[SHIFTED:.*]] = arith.shrsi %[[K]]#0, %{{.*}} : vector<16xi32>
// CHECK:         arith.addi %[[BIAS]], %[[SHIFTED]] : vector<16xi32>
// YMM-LABEL: func.func private @per_channel_kernel
// YMM:         arith.constant dense<{{\[\[\[}}-15, -30, -45, -60, -105, 0, 0, 16, 0, 0, {{.*}}]]]> : tensor<1x1x32xi8>
// YMM:         arith.shli %{{.*}}, %{{.*}} : vector<32xi8>
// YMM:         arith.andi %{{.*}}, %{{.*}} : vector<32xi8>
// YMM:         vector.multi_reduction <add>, %{{.*}} [1] : vector<8x4xi32> to vector<8xi32>
// DOT-LABEL: func.func private @per_channel_kernel
// DOT:         %[[LOW:.*]] = arith.shli %{{.*}} : vector<64xi8>
// DOT:         llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%{{.*}}, %{{.*}}, %[[LOW]])

!x = !quant.uniform<i8:f32, 0.1:3>
!y = !quant.uniform<i8:f32, 0.5>
!w = !quant.uniform<i4<-7:7>:f32:0, {0.25, 0.5}>
func.func @per_channel(%x: tensor<5x8x!x>) -> tensor<5x2x!y> {
  %c = arith.constant dense<[[1, 2, 3, 4, -1, -2, -3, -4], [7, 0, 0, 0, -7, 0, 0, 1]]> : tensor<2x8xi4>
  %w = quant.scast %c : tensor<2x8xi4> to tensor<2x8x!w>
  %0 = myquant.matmul %x, %w {transpose_rhs} : (tensor<5x8x!x>, tensor<2x8x!w>) -> tensor<5x2x!y>
  return %0 : tensor<5x2x!y>
}

// -----

// Groups of 8 (one byte vector each): m = 256, 128 for channel 0 and 256, 1
// for channel 1, stored as m - 1 by tile, [1 tile][2 groups][16 channels].
// The second group of channel 0 is all ones (0x11). The folded bias uses
// q * m: -131 * (0 * 256 + 8 * 128) = -134144 and -131 * (1 * 256) =
// -33536.
// CHECK-LABEL: func.func private @grouped_kernel
// CHECK-DAG:     arith.constant dense<"0xF1E2D3C497000010{{(00)+}}11111111{{(00)+}}"> : tensor<1x2x64xi8>
// CHECK-DAG:     %[[M:.*]] = arith.constant dense<{{\[\[\[}}-1, -1, 0, {{.*}}], [127, 0, 0, {{.*}}]]]> : tensor<1x2x16xi8>
// CHECK-DAG:     arith.constant dense<[-134144, -33536, 0, {{.*}}]> : tensor<16xi32>
// CHECK:         %{{.*}}:5 = scf.for %[[GROUP:[^ ]*]] = %{{.*}} iter_args(%[[TOTAL:[^ ]*]] = %{{.*}},
// CHECK:           %[[P:.*]]:5 = scf.for {{.*}} iter_args(%{{.*}} = %[[ZERO:.*]],
// CHECK:             arith.shli %{{.*}} : vector<64xi8>
// CHECK:             arith.andi %{{.*}} : vector<64xi8>
// CHECK:             vector.multi_reduction <add>
// CHECK:           %[[BYTES:.*]] = vector.transfer_read %[[M]][%{{.*}}, %[[GROUP]], %{{.*}}], {{.*}} : tensor<1x2x16xi8>, vector<16xi8>
// CHECK:           %[[WIDE:.*]] = arith.extui %[[BYTES]] : vector<16xi8> to vector<16xi32>
// CHECK:           %[[MUL:.*]] = arith.addi %[[WIDE]], %{{.*}} : vector<16xi32>
// CHECK:           %[[SHIFTED:.*]] = arith.shrsi %[[P]]#0, %{{.*}} : vector<16xi32>
// CHECK:           %[[SCALED:.*]] = arith.muli %[[SHIFTED]], %[[MUL]] : vector<16xi32>
// CHECK:           arith.addi %[[TOTAL]], %[[SCALED]] : vector<16xi32>
// YMM-LABEL: func.func private @grouped_kernel
// YMM:         tensor<1x2x32xi8>
// YMM:         tensor<1x2x8xi8>

!x = !quant.uniform<i8:f32, 0.1:3>
!y = !quant.uniform<i8:f32, 0.5>
!w = !quant.uniform<i4<-7:7>:f32:{0:1, 1:8}, {{1.0, 0.5}, {2.0, 0.0078125}}>
func.func @grouped(%x: tensor<5x16x!x>) -> tensor<5x2x!y> {
  %c = arith.constant dense<[[1, 2, 3, 4, -1, -2, -3, -4, 1, 1, 1, 1, 1, 1, 1, 1], [7, 0, 0, 0, -7, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]]> : tensor<2x16xi4>
  %w = quant.scast %c : tensor<2x16xi4> to tensor<2x16x!w>
  %0 = myquant.matmul %x, %w {transpose_rhs} : (tensor<5x16x!x>, tensor<2x16x!w>) -> tensor<5x2x!y>
  return %0 : tensor<5x2x!y>
}

// -----

// A convolution of one input channel: one step (4 channels, 3 of them
// padding) per tap, so the 9 steps pair across taps, (0, 1), (2, 3), ...
// (8, zero weights): 5 packed rows instead of 9, in one loop over them
// whose two steps find their tap and channels by division.
!x = !quant.uniform<i8:f32, 0.1>
!y = !quant.uniform<i8:f32, 0.5>
!w = !quant.uniform<i4<-7:7>:f32:0, {0.25, 0.5}>
// Tap t of filter 0 has weight t - 4, of filter 1 weight 1: row 0 pairs
// taps 0 and 1 (0xDC and 0x11 in the first bytes of the two filters), row
// 1 taps 2 and 3 (0xFE), ..., row 4 tap 8 alone (0x04, 0x01).
// CHECK-LABEL: func.func private @rgb_kernel
// CHECK:         arith.constant dense<"0xDC00000011{{(00)+}}FE00000011{{(00)+}}1000000011{{(00)+}}3200000011{{(00)+}}0400000001{{(00)+}}"> : tensor<1x5x64xi8>
// CHECK:         scf.for %[[ROW:.*]] = %{{.*}} to %c5 step
// CHECK:           %[[STEP:.*]] = arith.minsi %{{.*}}, %c8 : index
// CHECK:           %[[TAP:.*]] = arith.divui %[[STEP]], %c1{{.*}} : index
// CHECK:           arith.divui %[[TAP]], %c3{{.*}} : index
// CHECK:           arith.remui %[[TAP]], %c3{{.*}} : index
// CHECK:           arith.shli %{{.*}} : vector<64xi8>
// CHECK:           arith.andi %{{.*}} : vector<64xi8>
// CHECK:         arith.shrsi
func.func @rgb(%x: tensor<1x1x6x6x!x>) -> tensor<1x2x4x4x!y> {
  %c = arith.constant dense<[[[[-4, -3, -2], [-1, 0, 1], [2, 3, 4]]], [[[1, 1, 1], [1, 1, 1], [1, 1, 1]]]]> : tensor<2x1x3x3xi4>
  %w = quant.scast %c : tensor<2x1x3x3xi4> to tensor<2x1x3x3x!w>
  %0 = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>,
      dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x1x6x6x!x>, tensor<2x1x3x3x!w>) -> tensor<1x2x4x4x!y>
  return %0 : tensor<1x2x4x4x!y>
}

// -----

// A depthwise filter of 4-bit weights: two channels per byte, [channel
// blocks][taps][lanes / 2] (1 x 9 x 8 bytes here, a quarter of the int16
// pairs of 8-bit weights), unpacked once per channel block, before the
// pixel loop, into the int16 pairs of filter rows (2r, 2r + 1) that
// vpdpwssd multiplies: the sign-extended byte shifted left and back right
// by 12 (the low nibble, the even channel), right by 4 (the high one),
// interleaved by channel and then by row (the odd last row with zeros).
!x = !quant.uniform<i8:f32, 0.1>
!y = !quant.uniform<i8:f32, 0.5>
!w = !quant.uniform<i4<-7:7>:f32:0, {0.25, 0.5, 0.125}>
// Tap t of filter 0 has weight t - 4, of filter 1 weight 1, of filter 2
// weight -7: byte 0 of tap t is 0x1C, 0x1D, ..., 0x14, byte 1 is 0x09.
// CHECK-LABEL: func.func private @depthwise_kernel
// CHECK:         arith.constant dense<{{\[\[\[}}28, 9, 0, 0, 0, 0, 0, 0], [29, 9, 0, 0, 0, 0, 0, 0], [30, 9, {{.*}}], [20, 9, 0, 0, 0, 0, 0, 0]]]> : tensor<1x9x8xi8>
// CHECK:         scf.for
// CHECK:           %[[BYTES:.*]] = vector.transfer_read {{.*}} : tensor<1x9x8xi8>, vector<8xi8>
// CHECK:           %[[WORDS:.*]] = arith.extsi %[[BYTES]] : vector<8xi8> to vector<8xi16>
// CHECK:           %[[UP:.*]] = arith.shli %[[WORDS]], %{{.*}} : vector<8xi16>
// CHECK:           %[[LOW:.*]] = arith.shrsi %[[UP]], %{{.*}} : vector<8xi16>
// CHECK:           %[[HIGH:.*]] = arith.shrsi %[[WORDS]], %{{.*}} : vector<8xi16>
// CHECK:           %[[TAP:.*]] = vector.shuffle %[[LOW]], %[[HIGH]] [0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15] : vector<8xi16>, vector<8xi16>
// CHECK:           vector.shuffle %[[TAP]], %{{.*}} [0, 16, 1, 17, {{.*}}] : vector<16xi16>, vector<16xi16>
// CHECK:           scf.for
// CHECK:             vector.multi_reduction <add>, %{{.*}} [1] : vector<16x2xi32> to vector<16xi32>
// YMM-LABEL: func.func private @depthwise_kernel
// YMM:         arith.constant dense<{{\[\[\[}}28, 9, 0, 0], [29, 9, 0, 0], {{.*}}]]]> : tensor<1x9x4xi8>
// YMM:           vector.shuffle %{{.*}}, %{{.*}} [0, 4, 1, 5, 2, 6, 3, 7] : vector<4xi16>, vector<4xi16>
// YMM:             vector.multi_reduction <add>, %{{.*}} [1] : vector<8x2xi32> to vector<8xi32>
// DOT-LABEL: func.func private @depthwise_kernel
// DOT:         llvm.call_intrinsic "llvm.x86.avx512.vpdpwssd.512"
func.func @depthwise(%x: tensor<1x3x6x6x!x>) -> tensor<1x3x6x6x!y> {
  %c = arith.constant dense<[[[[-4, -3, -2], [-1, 0, 1], [2, 3, 4]]], [[[1, 1, 1], [1, 1, 1], [1, 1, 1]]], [[[-7, -7, -7], [-7, -7, -7], [-7, -7, -7]]]]> : tensor<3x1x3x3xi4>
  %w = quant.scast %c : tensor<3x1x3x3xi4> to tensor<3x1x3x3x!w>
  %0 = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>,
      dilations = array<i64: 1, 1>, groups = 3 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x3x6x6x!x>, tensor<3x1x3x3x!w>) -> tensor<1x3x6x6x!y>
  return %0 : tensor<1x3x6x6x!y>
}
