// RUN: myquant-opt %s --split-input-file --convert-myquant-to-vnni=target=avx512-vnni --canonicalize | FileCheck %s
// RUN: myquant-opt %s --split-input-file --myquant-lower-to-llvm=target=avx512-vnni | FileCheck %s --check-prefix=LLVM

!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>
!qy = !quant.uniform<i8:f32, 0.2:-5>

// A 3 x 3 64 -> 128 convolution at 7 x 7: 4 channel tiles of 2 blocks
// (144 K steps of 128 bytes: 288 lines each), 7 pixel tiles (one per row)
// per channel tile. At K step k of pixel tile (pass) p the K loop
// prefetches line ((p - 1) 144 + k) 288 / (6 144) of the next channel
// tile's weights, its own in pass 0, and the last tile its own: the
// passes 1 to 6 cover the next tile's 288 lines evenly.
// CHECK-LABEL: func.func private @few_passes_kernel(
// CHECK:         %[[W:.*]] = arith.constant dense<1> : tensor<4x144x128xi8>
// CHECK:         %[[BUF:.*]] = bufferization.to_buffer %[[W]] read_only : tensor<4x144x128xi8> to memref<4x144x128xi8>
// CHECK:         scf.for %[[TILE:.*]] = %c0 to %c4 step %c1
// CHECK:           scf.for %[[PASS:.*]] = %c0 to %c7 step %c1
// CHECK:             scf.for
// CHECK:               scf.for
// CHECK:                 scf.for %[[STEP:.*]] = %c0 to %c16 step %c1
// CHECK:                   %[[K:.*]] = arith.addi %{{.*}}, %[[STEP]] : index
// CHECK:                   %[[FIRST:.*]] = arith.cmpi eq, %[[PASS]], %c0 : index
// CHECK:                   %[[NEXT:.*]] = arith.addi %[[TILE]], %c1 : index
// CHECK:                   %[[CLAMPED:.*]] = arith.minsi %[[NEXT]], %c3 : index
// CHECK:                   %[[T:.*]] = arith.select %[[FIRST]], %[[TILE]], %[[CLAMPED]] : index
// CHECK:                   %[[BEFORE:.*]] = arith.subi %[[PASS]], %c1 : index
// CHECK:                   %[[LATER:.*]] = arith.maxsi %[[BEFORE]], %c0 : index
// CHECK:                   %[[DONE:.*]] = arith.muli %[[LATER]], %c144 : index
// CHECK:                   %[[PROGRESS:.*]] = arith.addi %[[DONE]], %[[K]] : index
// CHECK:                   %[[SCALED:.*]] = arith.muli %[[PROGRESS]], %c288 : index
// CHECK:                   %[[LINE:.*]] = arith.divui %[[SCALED]], %c864 : index
// CHECK:                   %[[BYTE:.*]] = arith.muli %[[LINE]], %c64 : index
// CHECK:                   %[[ROW:.*]] = arith.divui %[[BYTE]], %c128 : index
// CHECK:                   %[[COLUMN:.*]] = arith.remui %[[BYTE]], %c128 : index
// CHECK:                   memref.prefetch %[[BUF]][%[[T]], %[[ROW]], %[[COLUMN]]], read, locality<2>, data : memref<4x144x128xi8>
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

// A software-pipelined 1 x 1 convolution (16 K steps, unrolled) at 7 x 7
// prefetches in each of its K steps too, register tile t being pass t.
// CHECK-LABEL: func.func private @pipelined_kernel(
// CHECK:         %[[BUF:.*]] = bufferization.to_buffer %{{.*}} read_only
// CHECK:         scf.for %[[TILE:.*]] = %c0 to %{{.*}} step %c1
// CHECK-COUNT-16:  memref.prefetch %[[BUF]][%[[TILE]],
// CHECK:           scf.for %[[T:.*]] = %c1 to %{{.*}} step %c1 iter_args(
// CHECK:             %[[FIRST:.*]] = arith.cmpi eq, %[[T]], %c0 : index
// CHECK:             %[[NEXT:.*]] = arith.addi %[[TILE]], %c1 : index
// CHECK:             arith.select %[[FIRST]], %[[TILE]], %{{.*}} : index
// CHECK-COUNT-16:    memref.prefetch %[[BUF]]
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
