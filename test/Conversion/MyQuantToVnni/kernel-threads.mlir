// RUN: myquant-opt %s --split-input-file "--convert-myquant-to-vnni=target=avx512-vnni threads=2 thread-min-macs=0" | FileCheck %s
// RUN: myquant-opt %s --split-input-file "--convert-myquant-to-vnni=target=avx512-vnni" | FileCheck %s --check-prefix=ONE
// RUN: myquant-opt %s --split-input-file "--myquant-lower-to-llvm=target=avx512-vnni threads=2 thread-min-macs=0" | FileCheck %s --check-prefix=OMP
// The default thread-min-macs (a million MACs per thread) and a larger one.
// RUN: myquant-opt %s --split-input-file "--convert-myquant-to-vnni=target=avx512-vnni threads=2" | FileCheck %s --check-prefix=MIN
// RUN: myquant-opt %s --split-input-file "--convert-myquant-to-vnni=target=avx512-vnni threads=2 thread-min-macs=100000000" | FileCheck %s --check-prefix=BIG
// RUN: myquant-opt %s --split-input-file "--myquant-lower-to-llvm=target=avx512-vnni threads=2" | FileCheck %s --check-prefix=MINOMP

// threads=2 at batch 1: one channel tile of 32 channels, 6 output rows.
// The rows split evenly, so the shared loop runs over (batch, range) and
// range w computes rows [w * 6 / 2, (w + 1) * 6 / 2) of every channel tile.
// CHECK-LABEL: func.func private @rows_kernel(
// CHECK:         scf.for %[[I:.*]] = %{{.*}} to %c2{{.*}} step
// CHECK-NEXT:      %[[TWO:.*]] = arith.constant 2 : index
// CHECK-NEXT:      %[[N:.*]] = arith.divui %[[I]], %[[TWO]] : index
// CHECK:           %[[W:.*]] = arith.remui %[[I]], %{{.*}} : index
// CHECK:           scf.for %{{.*}} = %{{.*}} to %c1{{.*}} step
// CHECK:             %[[NEXT:.*]] = arith.addi %[[W]], %{{.*}} : index
// CHECK:             %[[SIX:.*]] = arith.constant 6 : index
// CHECK-NEXT:        %[[WS:.*]] = arith.muli %[[W]], %[[SIX]] : index
// CHECK:             %[[LO:.*]] = arith.divui %[[WS]], %{{.*}} : index
// CHECK:             %[[FIRST:.*]] = arith.muli %[[LO]], %{{.*}} : index
// CHECK:             %[[NS:.*]] = arith.muli %[[NEXT]], %{{.*}} : index
// CHECK:             %[[HI:.*]] = arith.divui %[[NS]], %{{.*}} : index
// CHECK:             %[[END:.*]] = arith.muli %[[HI]], %{{.*}} : index
// CHECK:             scf.for %{{.*}} = %[[FIRST]] to %[[END]] step
// CHECK:               vector.transfer_write %{{.*}}, %{{.*}}[%[[N]],
// CHECK:         } {myquant.parallel_batch}
// With one thread the batch loop is the shared one, as before.
// ONE-LABEL: func.func private @rows_kernel(
// ONE-NOT:     arith.remui
// ONE:         } {myquant.parallel_batch}
// 165,888 MACs, under the default's two million for two threads: the
// kernel stays on one thread, its loop unmarked, no OpenMP region.
// MIN-LABEL: func.func private @rows_kernel(
// MIN-NOT:     arith.remui
// MIN-NOT:     myquant.parallel_batch
// MIN:         return
// MINOMP-LABEL: llvm.func internal @rows_kernel(
// MINOMP-NOT:     omp.parallel
// MINOMP:         llvm.return
// The shared loop becomes an OpenMP work-sharing loop over the 2 ranges.
// OMP-LABEL: llvm.func internal @rows_kernel(
// OMP:         omp.parallel num_threads
// OMP-NEXT:      omp.wsloop nowait {
// OMP-NEXT:        omp.loop_nest (%[[I:.*]]) : i64
// OMP-NEXT:          llvm.udiv %[[I]]
// OMP-NEXT:          llvm.urem %[[I]]
!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>
!qy = !quant.uniform<i8:f32, 0.2:-5>
func.func @rows(%x: tensor<1x6x6x16x!qx>) -> tensor<1x6x6x32x!qy> {
  %wi = arith.constant dense<1> : tensor<3x3x16x32xi8>
  %w = quant.scast %wi : tensor<3x3x16x32xi8> to tensor<3x3x16x32x!qw>
  %b = arith.constant dense<0> : tensor<32xi32>
  %y = myquant.conv2d %x, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nhwc>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [33], rounding = single>} : (tensor<1x6x6x16x!qx>, tensor<3x3x16x32x!qw>, tensor<32xi32>) -> tensor<1x6x6x32x!qy>
  return %y : tensor<1x6x6x32x!qy>
}

// -----

// A batch the threads divide keeps the batch split.
// CHECK-LABEL: func.func private @batch_kernel(
// CHECK-NOT:     arith.remui
// CHECK:         } {myquant.parallel_batch}
!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>
!qy = !quant.uniform<i8:f32, 0.2:-5>
func.func @batch(%x: tensor<2x6x6x16x!qx>) -> tensor<2x6x6x32x!qy> {
  %wi = arith.constant dense<1> : tensor<3x3x16x32xi8>
  %w = quant.scast %wi : tensor<3x3x16x32xi8> to tensor<3x3x16x32x!qw>
  %b = arith.constant dense<0> : tensor<32xi32>
  %y = myquant.conv2d %x, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nhwc>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [33], rounding = single>} : (tensor<2x6x6x16x!qx>, tensor<3x3x16x32x!qw>, tensor<32xi32>) -> tensor<2x6x6x32x!qy>
  return %y : tensor<2x6x6x32x!qy>
}

// -----

// A batch-1 matmul (one row) with 8 channel tiles of 64: each range takes
// 4 tiles, [w * 8 / 2, (w + 1) * 8 / 2).
// CHECK-LABEL: func.func private @tiles_kernel(
// CHECK:         scf.for %[[I:.*]] = %{{.*}} to %c2{{.*}} step
// CHECK:           %[[W:.*]] = arith.remui %[[I]], %{{.*}} : index
// CHECK:           %[[EIGHT:.*]] = arith.constant 8 : index
// CHECK-NEXT:      arith.muli %[[W]], %[[EIGHT]] : index
// CHECK:           scf.for %[[T:.*]] = %{{.*}} to %{{.*}} step
// CHECK:             arith.muli %[[T]], %c64 : index
// CHECK:         } {myquant.parallel_batch}
!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>
!qy = !quant.uniform<i8:f32, 0.2:-5>
func.func @tiles(%x: tensor<1x256x!qx>) -> tensor<1x512x!qy> {
  %wi = arith.constant dense<1> : tensor<256x512xi8>
  %w = quant.scast %wi : tensor<256x512xi8> to tensor<256x512x!qw>
  %b = arith.constant dense<0> : tensor<512xi32>
  %y = myquant.matmul %x, %w, %b {rescale = #myquant.rescale<multiplier = [1073741824], shift = [33], rounding = single>} : (tensor<1x256x!qx>, tensor<256x512x!qw>, tensor<512xi32>) -> tensor<1x512x!qy>
  return %y : tensor<1x512x!qy>
}

// -----

// 80 channels in two tiles of 48, the second shifted back to channel 32:
// a boundary between them would have both threads write channels 32..47,
// and one row does not split; the batch loop of one iteration is not
// marked either (an OpenMP region for one thread).
// CHECK-LABEL: func.func private @overlap_kernel(
// CHECK-NOT:     arith.remui
// CHECK:         scf.for %{{.*}} = %{{.*}} to %c2 step
// CHECK:           arith.minsi %{{.*}}, %c32 : index
// CHECK-NOT:     myquant.parallel_batch
// CHECK:         return
!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>
!qy = !quant.uniform<i8:f32, 0.2:-5>
func.func @overlap(%x: tensor<1x256x!qx>) -> tensor<1x80x!qy> {
  %wi = arith.constant dense<1> : tensor<256x80xi8>
  %w = quant.scast %wi : tensor<256x80xi8> to tensor<256x80x!qw>
  %b = arith.constant dense<0> : tensor<80xi32>
  %y = myquant.matmul %x, %w, %b {rescale = #myquant.rescale<multiplier = [1073741824], shift = [33], rounding = single>} : (tensor<1x256x!qx>, tensor<256x80x!qw>, tensor<80xi32>) -> tensor<1x80x!qy>
  return %y : tensor<1x80x!qy>
}

// -----

// Depthwise at batch 1: 7 rows split 3 + 4 (the 3 blocks of 16 channels
// split no better).
// CHECK-LABEL: func.func private @depthwise_kernel(
// CHECK:         scf.for %[[I:.*]] = %{{.*}} to %c2{{.*}} step
// CHECK:           %[[W:.*]] = arith.remui %[[I]], %{{.*}} : index
// CHECK:           %[[SEVEN:.*]] = arith.constant 7 : index
// CHECK-NEXT:      arith.muli %[[W]], %[[SEVEN]] : index
// CHECK:           scf.for %{{.*}} = %{{.*}} to %{{.*}} step
// CHECK:             scf.for %{{.*}} = %{{.*}} to %c48 step %c16
// CHECK:         } {myquant.parallel_batch}
!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>
!qy = !quant.uniform<i8:f32, 0.2:-5>
func.func @depthwise(%x: tensor<1x7x7x48x!qx>) -> tensor<1x7x7x48x!qy> {
  %wi = arith.constant dense<1> : tensor<3x3x1x48xi8>
  %w = quant.scast %wi : tensor<3x3x1x48xi8> to tensor<3x3x1x48x!qw>
  %b = arith.constant dense<0> : tensor<48xi32>
  %y = myquant.conv2d %x, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 48 : i64, layout = #myquant.layout<nhwc>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [33], rounding = single>} : (tensor<1x7x7x48x!qx>, tensor<3x3x1x48x!qw>, tensor<48xi32>) -> tensor<1x7x7x48x!qy>
  return %y : tensor<1x7x7x48x!qy>
}

// -----

// 96 output channels in two tiles of 48 by 8 rows. Both split evenly, but
// a boundary at channel 48 falls inside a 64-byte line of every pixel (both
// threads would write 64 lines): the rows are cut, all tiles in each range.
// CHECK-LABEL: func.func private @lines_kernel(
// CHECK:         scf.for %[[I:.*]] = %{{.*}} to %c2{{.*}} step
// CHECK:           %[[W:.*]] = arith.remui %[[I]], %{{.*}} : index
// CHECK:           scf.for %{{.*}} = %{{.*}} to %c2{{.*}} step
// CHECK:             %[[EIGHT:.*]] = arith.constant 8 : index
// CHECK-NEXT:        arith.muli %[[W]], %[[EIGHT]] : index
// CHECK:         } {myquant.parallel_batch}
!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>
!qy = !quant.uniform<i8:f32, 0.2:-5>
func.func @lines(%x: tensor<1x8x8x64x!qx>) -> tensor<1x8x8x96x!qy> {
  %wi = arith.constant dense<1> : tensor<1x1x64x96xi8>
  %w = quant.scast %wi : tensor<1x1x64x96xi8> to tensor<1x1x64x96x!qw>
  %b = arith.constant dense<0> : tensor<96xi32>
  %y = myquant.conv2d %x, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nhwc>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [33], rounding = single>} : (tensor<1x8x8x64x!qx>, tensor<1x1x64x96x!qw>, tensor<96xi32>) -> tensor<1x8x8x96x!qy>
  return %y : tensor<1x8x8x96x!qy>
}

// -----

// 9,437,184 MACs: over the default threshold the rows are split; with
// thread-min-macs=100000000 the kernel stays on one thread.
// MIN-LABEL: func.func private @large_kernel(
// MIN:         scf.for %[[I:.*]] = %{{.*}} to %c2{{.*}} step
// MIN:           arith.remui %[[I]]
// MIN:         } {myquant.parallel_batch}
// BIG-LABEL: func.func private @large_kernel(
// BIG-NOT:     arith.remui
// BIG-NOT:     myquant.parallel_batch
// BIG:         return
!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>
!qy = !quant.uniform<i8:f32, 0.2:-5>
func.func @large(%x: tensor<1x16x16x64x!qx>) -> tensor<1x16x16x64x!qy> {
  %wi = arith.constant dense<1> : tensor<3x3x64x64xi8>
  %w = quant.scast %wi : tensor<3x3x64x64xi8> to tensor<3x3x64x64x!qw>
  %b = arith.constant dense<0> : tensor<64xi32>
  %y = myquant.conv2d %x, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nhwc>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [33], rounding = single>} : (tensor<1x16x16x64x!qx>, tensor<3x3x64x64x!qw>, tensor<64xi32>) -> tensor<1x16x16x64x!qy>
  return %y : tensor<1x16x16x64x!qy>
}

// -----

// 512 channels at 7 x 7 (resnet18's last stage): one thread takes 11 tiles
// of 48 channels; two threads would split them 6 against 5 at channel 288,
// mid-line (or the rows 4 against 3), so they take 16 tiles of 32 and 8
// each, cut at channel 256. A kernel that stays on one thread
// (thread-min-macs) keeps the one-thread tiling.
// CHECK-LABEL: func.func private @seven_kernel(
// CHECK:         arith.constant dense<1> : tensor<16x144x128xi8>
// CHECK:         scf.for %[[I:.*]] = %{{.*}} to %c2{{.*}} step
// CHECK:           %[[W:.*]] = arith.remui %[[I]], %{{.*}} : index
// CHECK:           %[[SIXTEEN:.*]] = arith.constant 16 : index
// CHECK-NEXT:      arith.muli %[[W]], %[[SIXTEEN]] : index
// CHECK:           scf.for
// CHECK:             arith.constant 32 : index
// CHECK:         } {myquant.parallel_batch}
// ONE-LABEL: func.func private @seven_kernel(
// ONE:         arith.constant dense<1> : tensor<11x144x192xi8>
// BIG-LABEL: func.func private @seven_kernel(
// BIG:         arith.constant dense<1> : tensor<11x144x192xi8>
// BIG-NOT:     myquant.parallel_batch
// BIG:         return
!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>
!qy = !quant.uniform<i8:f32, 0.2:-5>
func.func @seven(%x: tensor<1x7x7x64x!qx>) -> tensor<1x7x7x512x!qy> {
  %wi = arith.constant dense<1> : tensor<3x3x64x512xi8>
  %w = quant.scast %wi : tensor<3x3x64x512xi8> to tensor<3x3x64x512x!qw>
  %b = arith.constant dense<0> : tensor<512xi32>
  %y = myquant.conv2d %x, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nhwc>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [33], rounding = single>} : (tensor<1x7x7x64x!qx>, tensor<3x3x64x512x!qw>, tensor<512xi32>) -> tensor<1x7x7x512x!qy>
  return %y : tensor<1x7x7x512x!qy>
}

// -----

// The padded copy of a 56 x 56 x 64 input (58 x 58 x 64 bytes, over 32 KiB
// per thread) is shared too: range w copies interior rows [w * 56 / 2,
// (w + 1) * 56 / 2), range 0 fills the top padding row, range 1 the
// bottom one. One thread copies it all in one loop.
// CHECK-LABEL: func.func private @padded_kernel(
// CHECK:         tensor.empty() : tensor<1x58x58x64xi8>
// CHECK:         scf.for %[[I:.*]] = %{{.*}} to %c2{{.*}} step
// CHECK:           %[[W:.*]] = arith.remui %[[I]], %{{.*}} : index
// CHECK:           %[[N:.*]] = arith.divui %[[I]], %{{.*}} : index
// CHECK:           %[[WH:.*]] = arith.muli %[[W]], %c56{{.*}} : index
// CHECK:           %[[LO:.*]] = arith.divui %[[WH]], %c2{{.*}} : index
// CHECK:           %[[NEXT:.*]] = arith.addi %[[W]], %c1{{.*}} : index
// CHECK:           %[[NH:.*]] = arith.muli %[[NEXT]], %c56{{.*}} : index
// CHECK:           %[[HI:.*]] = arith.divui %[[NH]], %c2{{.*}} : index
// CHECK:           %[[FIRST:.*]] = arith.cmpi eq, %[[W]], %c0{{.*}} : index
// CHECK:           %[[TOP:.*]] = arith.select %[[FIRST]], %c1{{.*}}, %c0{{.*}} : index
// CHECK:           scf.for %[[Y:.*]] = %{{.*}} to %[[TOP]] step
// CHECK:             vector.transfer_write %{{.*}}[%[[N]], %[[Y]],
// CHECK:           %[[LAST:.*]] = arith.cmpi eq, %[[W]], %c1{{.*}} : index
// CHECK:           %[[BOTTOM:.*]] = arith.select %[[LAST]], %c58{{.*}}, %c57{{.*}} : index
// CHECK:           scf.for %{{.*}} = %c57{{.*}} to %[[BOTTOM]] step
// CHECK:           scf.for %{{.*}} = %[[LO]] to %[[HI]] step
// CHECK:         } {myquant.parallel_batch}
// ONE-LABEL: func.func private @padded_kernel(
// ONE:         tensor.empty() : tensor<1x58x58x64xi8>
// ONE-NOT:     arith.remui
// ONE:         return
!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>
!qy = !quant.uniform<i8:f32, 0.2:-5>
func.func @padded(%x: tensor<1x56x56x64x!qx>) -> tensor<1x56x56x64x!qy> {
  %wi = arith.constant dense<1> : tensor<3x3x64x64xi8>
  %w = quant.scast %wi : tensor<3x3x64x64xi8> to tensor<3x3x64x64x!qw>
  %b = arith.constant dense<0> : tensor<64xi32>
  %y = myquant.conv2d %x, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nhwc>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [33], rounding = single>} : (tensor<1x56x56x64x!qx>, tensor<3x3x64x64x!qw>, tensor<64xi32>) -> tensor<1x56x56x64x!qy>
  return %y : tensor<1x56x56x64x!qy>
}
