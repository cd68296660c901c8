// RUN: myquant-opt %s --split-input-file --convert-myquant-to-vnni=target=avx512-vnni | FileCheck %s
// RUN: myquant-opt %s --split-input-file --convert-myquant-to-vnni="target=avx512-vnni threads=2" | FileCheck %s --check-prefix=THREADS

!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>
!qy = !quant.uniform<i8:f32, 0.2:-5>
!qs = !quant.uniform<i8:f32, 0.4:-128>

// A 1 x 1 convolution of few K steps (8 channels: 2) with a fused add is
// software-pipelined: its register tiles (3 pixels x 4 blocks of 16
// channels) run as one loop over the 3 x 6 plane (2 tiles a row, tiles 1
// to 5 in the loop, tile 0 before it), carrying the output and the 12
// accumulators of the tile before. Each iteration runs the tile's two K
// steps unrolled; after each, the epilogue of 6 of the carried
// accumulators (the addend read at the previous tile's row, the sum
// stored). The last tile's epilogue follows the loop.
// CHECK-LABEL: func.func private @pipelined_kernel(
// CHECK-SAME:    %{{.*}}: tensor<2x3x6x8xi8>, %[[ADDEND:.*]]: tensor<2x3x6x64xi8>, %{{.*}}: tensor<2x3x6x64xi8>)
// CHECK:         scf.for %[[N:.*]] = %{{.*}} to %c2 step
// CHECK:           scf.for %{{.*}} = %{{.*}} to %c1{{.*}} step
// CHECK-COUNT-24:    vector.multi_reduction
// CHECK-NOT:         vector.transfer_write
// CHECK:             %[[LOOP:.*]]:13 = scf.for %[[T:.*]] = %c1{{.*}} to %c6 step %{{.*}} iter_args({{.*}}) -> (tensor<2x3x6x64xi8>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>)
// CHECK:               %[[PREV:.*]] = arith.subi %[[T]], %c1
// CHECK:               %[[ROW:.*]] = arith.divui %[[PREV]], %c2
// CHECK-COUNT-12:      vector.multi_reduction
// CHECK-NOT:           vector.multi_reduction
// CHECK:               vector.transfer_read %[[ADDEND]][%[[N]], %[[ROW]], %{{.*}}, %{{.*}}]
// CHECK-COUNT-6:       vector.transfer_write
// CHECK-NOT:           vector.transfer_write
// CHECK-COUNT-12:      vector.multi_reduction
// CHECK-COUNT-6:       vector.transfer_write
// CHECK:               scf.yield
// CHECK-COUNT-12:    vector.transfer_write %{{.*}}, %{{.*}}[%[[N]],
// CHECK:             scf.yield
func.func @pipelined(%x: tensor<2x3x6x8x!qx>, %a: tensor<2x3x6x64x!qy>) -> tensor<2x3x6x64x!qs> {
  %wi = arith.constant dense<1> : tensor<1x1x8x64xi8>
  %w = quant.scast %wi : tensor<1x1x8x64xi8> to tensor<1x1x8x64x!qw>
  %y = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nhwc>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [33], rounding = single>} : (tensor<2x3x6x8x!qx>, tensor<1x1x8x64x!qw>) -> tensor<2x3x6x64x!qy>
  %s = myquant.add %y, %a {left_shift = 20 : i64, lhs_rescale = #myquant.rescale<multiplier = [1073741824], shift = [31], rounding = single>, rhs_rescale = #myquant.rescale<multiplier = [1073741824], shift = [31], rounding = single>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [50], rounding = single>} : (tensor<2x3x6x64x!qy>, tensor<2x3x6x64x!qy>) -> tensor<2x3x6x64x!qs>
  return %s : tensor<2x3x6x64x!qs>
}

// THREADS-LABEL: func.func private @pipelined_kernel(
// THREADS-NOT:     iter_args({{.*}}vector<16xi32>{{.*}}) -> (tensor
// THREADS:         return

// -----

!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>
!qy = !quant.uniform<i8:f32, 0.2:-5>

// More than 32 K steps (132 channels: 33) keep the K loop, with the
// epilogue after it.
// CHECK-LABEL: func.func private @long_k_kernel(
// CHECK:         scf.for %{{.*}} iter_args({{.*}}) -> (vector<16xi32>
// CHECK-NOT:     iter_args({{.*}}) -> (tensor<1x2x6x16xi8>, vector
// CHECK:         return
func.func @long_k(%x: tensor<1x2x6x132x!qx>) -> tensor<1x2x6x16x!qy> {
  %wi = arith.constant dense<1> : tensor<1x1x132x16xi8>
  %w = quant.scast %wi : tensor<1x1x132x16xi8> to tensor<1x1x132x16x!qw>
  %y = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nhwc>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [33], rounding = single>} : (tensor<1x2x6x132x!qx>, tensor<1x1x132x16x!qw>) -> tensor<1x2x6x16x!qy>
  return %y : tensor<1x2x6x16x!qy>
}

// -----

!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>
!qy = !quant.uniform<i8:f32, 0.2:-5>

// 32 K steps (128 channels), the most a pipelined kernel unrolls: 33 to
// 64 ran faster in the K loop on Zen 5 (kMaxPipelinedSteps).
// CHECK-LABEL: func.func private @most_steps_kernel(
// CHECK:         scf.for %{{.*}} iter_args({{.*}}) -> (tensor<1x2x6x16xi8>, vector<16xi32>
// CHECK:         return
func.func @most_steps(%x: tensor<1x2x6x128x!qx>) -> tensor<1x2x6x16x!qy> {
  %wi = arith.constant dense<1> : tensor<1x1x128x16xi8>
  %w = quant.scast %wi : tensor<1x1x128x16xi8> to tensor<1x1x128x16x!qw>
  %y = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nhwc>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [33], rounding = single>} : (tensor<1x2x6x128x!qx>, tensor<1x1x128x16x!qw>) -> tensor<1x2x6x16x!qy>
  return %y : tensor<1x2x6x16x!qy>
}

// -----

!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>
!qy = !quant.uniform<i8:f32, 0.2:-5>
!qs = !quant.uniform<i8:f32, 0.4:-128>

// Weights that fit L1 (24 x 128, 3 KiB) and 6 K steps: the channel tiles
// (4 of 2 blocks of 16, register tiles of 9 pixels) run inside the pixel
// tiles (runsChannelTilesInner; 40 passes, more than kMaxPrefetchPasses), in the same loop: register tile t is
// channel tile t % 4 of pixel tile t / 4 (one a row). No loop over the
// channel tiles; each tile reads its own bias and epilogue constants.
// CHECK-LABEL: func.func private @channels_inner_kernel(
// CHECK-SAME:    %{{.*}}: tensor<1x40x9x24xi8>, %[[ADDEND:.*]]: tensor<1x40x9x128xi8>, %{{.*}}: tensor<1x40x9x128xi8>)
// CHECK:         scf.for %[[N:.*]] = %{{.*}} to %c1{{.*}} step
// CHECK-NOT:       scf.for
// CHECK:           scf.for %[[T:.*]] = %c1{{.*}} to %c160{{.*}} step %{{.*}} iter_args({{.*}}) -> (tensor<1x40x9x128xi8>, vector<16xi32>,
// CHECK:             %[[PREV:.*]] = arith.subi %[[T]], %c1
// CHECK:             %[[TILE:.*]] = arith.remui %[[PREV]], %c4
// CHECK:             %[[SCALED:.*]] = arith.muli %[[TILE]], %c32
// CHECK:             %[[FIRST:.*]] = arith.minsi %[[SCALED]], %c96
// CHECK:             %[[CH:.*]] = arith.addi %[[FIRST]], %c0
// CHECK:             %[[PIXELS:.*]] = arith.divui %[[PREV]], %c4
// CHECK:             %[[ROW:.*]] = arith.divui %[[PIXELS]], %c1
// CHECK:             arith.remui %[[T]], %c4
// CHECK:             vector.transfer_read %{{.*}}[%{{.*}}]{{.*}} : tensor<128xi32>, vector<16xi32>
// CHECK:             vector.transfer_read %[[ADDEND]][%[[N]], %[[ROW]], %{{.*}}, %[[CH]]]
// CHECK-COUNT-18:    vector.transfer_write
// CHECK-NOT:         vector.transfer_write
// CHECK:             scf.yield
// CHECK-COUNT-18:  vector.transfer_write %{{.*}}, %{{.*}}[%[[N]],
// CHECK:           scf.yield
func.func @channels_inner(%x: tensor<1x40x9x24x!qx>, %a: tensor<1x40x9x128x!qy>) -> tensor<1x40x9x128x!qs> {
  %wi = arith.constant dense<1> : tensor<1x1x24x128xi8>
  %w = quant.scast %wi : tensor<1x1x24x128xi8> to tensor<1x1x24x128x!qw>
  %y = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nhwc>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [33], rounding = single>} : (tensor<1x40x9x24x!qx>, tensor<1x1x24x128x!qw>) -> tensor<1x40x9x128x!qy>
  %s = myquant.add %y, %a {left_shift = 20 : i64, lhs_rescale = #myquant.rescale<multiplier = [1073741824], shift = [31], rounding = single>, rhs_rescale = #myquant.rescale<multiplier = [1073741824], shift = [31], rounding = single>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [50], rounding = single>} : (tensor<1x40x9x128x!qy>, tensor<1x40x9x128x!qy>) -> tensor<1x40x9x128x!qs>
  return %s : tensor<1x40x9x128x!qs>
}

// -----

!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>
!qy = !quant.uniform<i8:f32, 0.2:-5>

// Weights larger than L1 (128 x 512, 64 KiB) keep the channel tiles
// outside: a loop over the 16 tiles, the pipelined loop over the plane's
// 2 register tiles inside it.
// CHECK-LABEL: func.func private @large_weights_kernel(
// CHECK:         scf.for %{{.*}} = %{{.*}} to %c1{{.*}} step
// CHECK:           scf.for %{{.*}} = %{{.*}} to %c16{{.*}} step %{{.*}} iter_args({{.*}}) -> (tensor<1x2x9x512xi8>)
// CHECK:             scf.for %{{.*}} = %c1{{.*}} to %c2{{.*}} step %{{.*}} iter_args({{.*}}) -> (tensor<1x2x9x512xi8>, vector<16xi32>,
func.func @large_weights(%x: tensor<1x2x9x128x!qx>) -> tensor<1x2x9x512x!qy> {
  %wi = arith.constant dense<1> : tensor<1x1x128x512xi8>
  %w = quant.scast %wi : tensor<1x1x128x512xi8> to tensor<1x1x128x512x!qw>
  %y = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nhwc>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [33], rounding = single>} : (tensor<1x2x9x128x!qx>, tensor<1x1x128x512x!qw>) -> tensor<1x2x9x512x!qy>
  return %y : tensor<1x2x9x512x!qy>
}
