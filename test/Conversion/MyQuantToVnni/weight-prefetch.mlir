// RUN: myquant-opt %s --split-input-file --convert-myquant-to-vnni=target=avx512-vnni --canonicalize | FileCheck %s
// RUN: myquant-opt %s --split-input-file --myquant-lower-to-llvm=target=avx512-vnni | FileCheck %s --check-prefix=LLVM

!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>
!qy = !quant.uniform<i8:f32, 0.2:-5>

// A 3 x 3 64 -> 128 convolution at 7 x 7: 4 channel tiles of 2 blocks
// (144 K steps of 128 bytes: 18432 bytes each), 7 pixel tiles (one per
// row) per channel tile. At K step k of pixel tile (pass) p the K loop
// prefetches byte (t + 1) 18432 + ((p - 1) 144 + k) 21 of the weights (21 =
// 128 / 6: the passes 1 to 6 cover the next tile's 18432 bytes evenly):
// one add per K step. Pass 0 prefetches its own tile, byte t 18432 + 21 k.
// The last tile, with no kernel after it in the function, prefetches its
// own weights' first tile.
// CHECK-LABEL: func.func private @few_passes_kernel(
// CHECK:         %[[W:.*]] = arith.constant dense<1> : tensor<4x144x128xi8>
// CHECK:         %[[BUF:.*]] = bufferization.to_buffer %[[W]] read_only : tensor<4x144x128xi8> to memref<4x144x128xi8>
// CHECK:         %[[FLAT:.*]] = memref.collapse_shape %[[BUF]] {{\[}}[0, 1, 2]] : memref<4x144x128xi8> into memref<73728xi8>
// CHECK:         %[[OWN:.*]] = memref.cast %[[FLAT]] : memref<73728xi8> to memref<?xi8>
// CHECK:         %[[NEXTKERNEL:.*]] = memref.cast %[[FLAT]] : memref<73728xi8> to memref<?xi8>
// CHECK:         scf.for %[[TILE:.*]] = %c0 to %c4 step %c1
// CHECK:           scf.for %[[PASS:.*]] = %c0 to %c7 step %c1
// CHECK:             %[[FIRST:.*]] = arith.cmpi eq, %[[PASS]], %c0 : index
// CHECK:             %[[LAST:.*]] = arith.cmpi eq, %[[TILE]], %c3 : index
// CHECK:             %[[THIS:.*]] = arith.muli %[[TILE]], %c18432 : index
// CHECK:             %[[FOLLOWING:.*]] = arith.addi %[[THIS]], %c18432 : index
// CHECK:             %[[NEXT:.*]] = arith.select %[[LAST]], %c0, %[[FOLLOWING]] : index
// CHECK:             %[[BEFORE:.*]] = arith.subi %[[PASS]], %c1 : index
// CHECK:             %[[DONE:.*]] = arith.muli %[[BEFORE]], %c3024 : index
// CHECK:             %[[AHEAD:.*]] = arith.addi %[[NEXT]], %[[DONE]] : index
// CHECK:             %[[START:.*]] = arith.select %[[FIRST]], %[[THIS]], %[[AHEAD]] : index
// CHECK:             %[[LATER:.*]] = arith.select %[[LAST]], %[[NEXTKERNEL]], %[[OWN]] : memref<?xi8>
// CHECK:             %[[TARGET:.*]] = arith.select %[[FIRST]], %[[OWN]], %[[LATER]] : memref<?xi8>
// CHECK:             scf.for
// CHECK:               scf.for
// CHECK:                 scf.for %[[STEP:.*]] = %c0 to %c16 step %c1
// CHECK:                   %[[K:.*]] = arith.addi %{{.*}}, %[[STEP]] : index
// CHECK:                   %[[STRIDED:.*]] = arith.muli %[[K]], %c21 : index
// CHECK:                   %[[BYTE:.*]] = arith.addi %[[START]], %[[STRIDED]] : index
// CHECK:                   memref.prefetch %[[TARGET]][%[[BYTE]]], read, locality<2>, data : memref<?xi8>
// CHECK-NOT:               memref.prefetch
// CHECK:                   vector.transfer_read %[[W]][%[[TILE]], %[[K]], %c0]
// CHECK:                   vector.transfer_read %[[W]][%[[TILE]], %[[K]], %c64]
// CHECK-NOT:       memref.prefetch
// CHECK:         return
// The prefetches read the weights' global, which bufferization neither
// copies nor writes (read_only).
// LLVM-LABEL: llvm.func internal @few_passes_kernel(
// LLVM-NOT:     llvm.intr.memcpy
// LLVM:         llvm.mlir.addressof @__constant_4x144x128xi8
// LLVM-NOT:     llvm.intr.memcpy
// LLVM:         "llvm.intr.prefetch"(%{{.*}}) <{cache = 1 : i32, hint = 2 : i32, rw = 0 : i32}> : (!llvm.ptr) -> ()
// LLVM-NOT:     llvm.intr.memcpy
// LLVM:         llvm.return
func.func @few_passes(%x: tensor<1x7x7x64x!qx>) -> tensor<1x7x7x128x!qy> {
  %wi = arith.constant dense<1> : tensor<3x3x64x128xi8>
  %w = quant.scast %wi : tensor<3x3x64x128xi8> to tensor<3x3x64x128x!qw>
  %y = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nhwc>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [38], rounding = single>} : (tensor<1x7x7x64x!qx>, tensor<3x3x64x128x!qw>) -> tensor<1x7x7x128x!qy>
  return %y : tensor<1x7x7x128x!qy>
}

// -----

!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>
!qy = !quant.uniform<i8:f32, 0.2:-5>

// The same at 28 x 28: 56 pixel tiles per channel tile (more than 32),
// among which the first one's wait for the weights is spread: no
// prefetch.
// CHECK-LABEL: func.func private @many_passes_kernel(
// CHECK-NOT:     bufferization.to_buffer
// CHECK-NOT:     memref.prefetch
// CHECK:         return
func.func @many_passes(%x: tensor<1x28x28x64x!qx>) -> tensor<1x28x28x128x!qy> {
  %wi = arith.constant dense<1> : tensor<3x3x64x128xi8>
  %w = quant.scast %wi : tensor<3x3x64x128xi8> to tensor<3x3x64x128x!qw>
  %y = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nhwc>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [38], rounding = single>} : (tensor<1x28x28x64x!qx>, tensor<3x3x64x128x!qw>) -> tensor<1x28x28x128x!qy>
  return %y : tensor<1x28x28x128x!qy>
}

// -----

!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>
!qy = !quant.uniform<i8:f32, 0.2:-5>

// 16 output channels: one channel tile, no next tile to prefetch.
// CHECK-LABEL: func.func private @one_tile_kernel(
// CHECK-NOT:     bufferization.to_buffer
// CHECK-NOT:     memref.prefetch
// CHECK:         return
func.func @one_tile(%x: tensor<1x7x7x64x!qx>) -> tensor<1x7x7x16x!qy> {
  %wi = arith.constant dense<1> : tensor<3x3x64x16xi8>
  %w = quant.scast %wi : tensor<3x3x64x16xi8> to tensor<3x3x64x16x!qw>
  %y = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nhwc>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [38], rounding = single>} : (tensor<1x7x7x64x!qx>, tensor<3x3x64x16x!qw>) -> tensor<1x7x7x16x!qy>
  return %y : tensor<1x7x7x16x!qy>
}

// -----

!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>
!qy = !quant.uniform<i8:f32, 0.2:-5>

// A software-pipelined 1 x 1 convolution (16 K steps of 128 bytes,
// unrolled) at 7 x 7 prefetches in each of its K steps too, register tile
// t being pass t: byte start + 21 k at K step k (21 = 128 / 6). Register
// tile 0, peeled, prefetches its own channel tile.
// CHECK-LABEL: func.func private @pipelined_kernel(
// CHECK:         %[[BUF:.*]] = bufferization.to_buffer %{{.*}} read_only
// CHECK:         %[[FLAT:.*]] = memref.collapse_shape %[[BUF]] {{\[}}[0, 1, 2]] : memref<4x16x128xi8> into memref<8192xi8>
// CHECK:         scf.for %[[TILE:.*]] = %c0 to %{{.*}} step %c1
// CHECK:           %[[THIS:.*]] = arith.muli %[[TILE]], %c2048 : index
// CHECK:           memref.prefetch %[[FLAT]][%[[THIS]]]
// CHECK:           %[[STEP1:.*]] = arith.addi %[[THIS]], %c21 : index
// CHECK:           memref.prefetch %[[FLAT]][%[[STEP1]]]
// CHECK-COUNT-14:  memref.prefetch %[[FLAT]]
// CHECK:           scf.for %[[T:.*]] = %c1 to %{{.*}} step %c1 iter_args(
// CHECK:             %[[FIRST:.*]] = arith.cmpi eq, %[[T]], %c0 : index
// CHECK:             %[[START:.*]] = arith.select %[[FIRST]], %{{.*}}, %{{.*}} : index
// CHECK:             %[[TARGET:.*]] = arith.select %[[FIRST]], %{{.*}}, %{{.*}} : memref<?xi8>
// CHECK:             memref.prefetch %[[TARGET]][%[[START]]]
// CHECK:             %[[NEXT1:.*]] = arith.addi %[[START]], %c21 : index
// CHECK:             memref.prefetch %[[TARGET]][%[[NEXT1]]]
// CHECK-COUNT-14:    memref.prefetch %[[TARGET]]
// CHECK-NOT:         memref.prefetch
// CHECK:             scf.yield
// CHECK-NOT:       memref.prefetch
// CHECK:         return
func.func @pipelined(%x: tensor<1x7x7x64x!qx>) -> tensor<1x7x7x128x!qy> {
  %wi = arith.constant dense<1> : tensor<1x1x64x128xi8>
  %w = quant.scast %wi : tensor<1x1x64x128xi8> to tensor<1x1x64x128x!qw>
  %y = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nhwc>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [38], rounding = single>} : (tensor<1x7x7x64x!qx>, tensor<1x1x64x128x!qw>) -> tensor<1x7x7x128x!qy>
  return %y : tensor<1x7x7x128x!qy>
}

// -----

!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>
!qy = !quant.uniform<i8:f32, 0.2:-5>

// Across kernels: the last channel tile of the first kernel (passes 1 to
// 6) prefetches the first 18144 bytes of the next kernel's packed weights
// (8 tiles of 32 x 128 bytes), the same global that kernel reads.
// CHECK-LABEL: func.func private @chained_kernel(
// CHECK-DAG:     %[[W:.*]] = arith.constant dense<1> : tensor<4x144x128xi8>
// CHECK-DAG:     %[[NEXTW:.*]] = arith.constant dense<2> : tensor<8x32x128xi8>
// CHECK:         %[[BUF:.*]] = bufferization.to_buffer %[[W]] read_only
// CHECK:         %[[FLAT:.*]] = memref.collapse_shape %[[BUF]]
// CHECK:         %[[OWN:.*]] = memref.cast %[[FLAT]] : memref<73728xi8> to memref<?xi8>
// CHECK:         %[[NEXTBUF:.*]] = bufferization.to_buffer %[[NEXTW]] read_only : tensor<8x32x128xi8> to memref<8x32x128xi8>
// CHECK:         %[[NEXTFLAT:.*]] = memref.collapse_shape %[[NEXTBUF]] {{\[}}[0, 1, 2]] : memref<8x32x128xi8> into memref<32768xi8>
// CHECK:         %[[NEXTKERNEL:.*]] = memref.cast %[[NEXTFLAT]] : memref<32768xi8> to memref<?xi8>
// CHECK:         scf.for %[[TILE:.*]] = %c0 to %c4 step %c1
// CHECK:           scf.for %[[PASS:.*]] = %c0 to %c7 step %c1
// CHECK:             %[[FIRST:.*]] = arith.cmpi eq, %[[PASS]], %c0 : index
// CHECK:             %[[LAST:.*]] = arith.cmpi eq, %[[TILE]], %c3 : index
// CHECK:             %[[LATER:.*]] = arith.select %[[LAST]], %[[NEXTKERNEL]], %[[OWN]] : memref<?xi8>
// CHECK:             %[[TARGET:.*]] = arith.select %[[FIRST]], %[[OWN]], %[[LATER]] : memref<?xi8>
// CHECK:                   memref.prefetch %[[TARGET]]
// CHECK:         return
// CHECK-LABEL: func.func private @chained_kernel_0(
// CHECK:         %[[W2:.*]] = arith.constant dense<2> : tensor<8x32x128xi8>
// CHECK:         bufferization.to_buffer %[[W2]] read_only
// CHECK:         return
// LLVM-LABEL: llvm.func internal @chained_kernel(
// LLVM:         llvm.mlir.addressof @[[NEXTG:__constant_8x32x128xi8[_0-9]*]]
// LLVM:         llvm.return
// LLVM-LABEL: llvm.func internal @chained_kernel_0(
// LLVM:         llvm.mlir.addressof @[[NEXTG]] :
// LLVM:         llvm.return
func.func @chained(%x: tensor<1x7x7x64x!qx>) -> tensor<1x7x7x256x!qy> {
  %wi = arith.constant dense<1> : tensor<3x3x64x128xi8>
  %w = quant.scast %wi : tensor<3x3x64x128xi8> to tensor<3x3x64x128x!qw>
  %y = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nhwc>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [38], rounding = single>} : (tensor<1x7x7x64x!qx>, tensor<3x3x64x128x!qw>) -> tensor<1x7x7x128x!qx>
  %w2i = arith.constant dense<2> : tensor<1x1x128x256xi8>
  %w2 = quant.scast %w2i : tensor<1x1x128x256xi8> to tensor<1x1x128x256x!qw>
  %z = myquant.conv2d %y, %w2 {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nhwc>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [38], rounding = single>} : (tensor<1x7x7x128x!qx>, tensor<1x1x128x256x!qw>) -> tensor<1x7x7x256x!qy>
  return %z : tensor<1x7x7x256x!qy>
}

// -----

!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>
!qy = !quant.uniform<i8:f32, 0.2:-5>

// The next kernel's weights (16384 bytes) are fewer than the 18144 bytes
// the last channel tile would prefetch there: it prefetches its own.
// CHECK-LABEL: func.func private @next_too_small_kernel(
// CHECK-NOT:     tensor<4x32x128xi8>
// CHECK:         %[[FLAT:.*]] = memref.collapse_shape
// CHECK:         %[[OWN:.*]] = memref.cast %[[FLAT]] : memref<73728xi8> to memref<?xi8>
// CHECK:         %[[NEXTKERNEL:.*]] = memref.cast %[[FLAT]] : memref<73728xi8> to memref<?xi8>
// CHECK-NOT:     tensor<4x32x128xi8>
// CHECK:         return
// CHECK-LABEL: func.func private @next_too_small_kernel_0(
func.func @next_too_small(%x: tensor<1x7x7x64x!qx>) -> tensor<1x7x7x128x!qy> {
  %wi = arith.constant dense<1> : tensor<3x3x64x128xi8>
  %w = quant.scast %wi : tensor<3x3x64x128xi8> to tensor<3x3x64x128x!qw>
  %y = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nhwc>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [38], rounding = single>} : (tensor<1x7x7x64x!qx>, tensor<3x3x64x128x!qw>) -> tensor<1x7x7x128x!qx>
  %w2i = arith.constant dense<2> : tensor<1x1x128x128xi8>
  %w2 = quant.scast %w2i : tensor<1x1x128x128xi8> to tensor<1x1x128x128x!qw>
  %z = myquant.conv2d %y, %w2 {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nhwc>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [38], rounding = single>} : (tensor<1x7x7x128x!qx>, tensor<1x1x128x128x!qw>) -> tensor<1x7x7x128x!qy>
  return %z : tensor<1x7x7x128x!qy>
}

// -----

!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>
!qy = !quant.uniform<i8:f32, 0.2:-5>

// Two images: the last channel tile of image 0 is followed by image 1's
// first tile, not by the next kernel, so the first kernel is not linked;
// its last tile prefetches its own first tile (byte 0 + (p - 1) 3024).
// CHECK-LABEL: func.func private @two_images_kernel(
// CHECK-NOT:     tensor<8x32x128xi8>
// CHECK:         %[[FLAT:.*]] = memref.collapse_shape
// CHECK:         scf.for %[[TILE:.*]] = %c0 to %c4 step %c1
// CHECK:           scf.for %[[PASS:.*]] = %c0 to %c7 step %c1
// CHECK:             %[[LAST:.*]] = arith.cmpi eq, %[[TILE]], %c3 : index
// CHECK:             arith.select %[[LAST]], %c0, %{{.*}} : index
// CHECK:             memref.prefetch %[[FLAT]]
// CHECK-NOT:     tensor<8x32x128xi8>
// CHECK:         return
// CHECK-LABEL: func.func private @two_images_kernel_0(
func.func @two_images(%x: tensor<2x7x7x64x!qx>) -> tensor<2x7x7x256x!qy> {
  %wi = arith.constant dense<1> : tensor<3x3x64x128xi8>
  %w = quant.scast %wi : tensor<3x3x64x128xi8> to tensor<3x3x64x128x!qw>
  %y = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nhwc>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [38], rounding = single>} : (tensor<2x7x7x64x!qx>, tensor<3x3x64x128x!qw>) -> tensor<2x7x7x128x!qx>
  %w2i = arith.constant dense<2> : tensor<1x1x128x256xi8>
  %w2 = quant.scast %w2i : tensor<1x1x128x256xi8> to tensor<1x1x128x256x!qw>
  %z = myquant.conv2d %y, %w2 {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nhwc>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [38], rounding = single>} : (tensor<2x7x7x128x!qx>, tensor<1x1x128x256x!qw>) -> tensor<2x7x7x256x!qy>
  return %z : tensor<2x7x7x256x!qy>
}
