// RUN: myquant-opt %s --split-input-file --convert-myquant-to-vnni=target=avx512-vnni | FileCheck %s
// RUN: myquant-opt %s --split-input-file --convert-myquant-to-vnni=target=avx512-vnni --convert-myquant-to-linalg --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --canonicalize --drop-equivalent-buffer-results --myquant-expand-strided-copies | FileCheck %s --check-prefix=BUF

!qx = !quant.uniform<i8:f32, 0.1:3>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>
!qy = !quant.uniform<i8:f32, 0.2:-5>

// A fire module: the kernels of both expand convolutions write their
// results into their channels of the concatenation's NHWC tensor, the
// second kernel into the tensor the first returned; the concatenation is
// that tensor, transposed back to NCHW for the caller.
// CHECK-LABEL: func.func private @fire_kernel(
// CHECK-SAME:    %{{.*}}: tensor<1x8x4x4xi8>, %[[WHOLE:.*]]: tensor<1x4x4x32xi8>) -> tensor<1x4x4x32xi8>
// CHECK:         %[[SLICE:.*]] = tensor.extract_slice %[[WHOLE]][0, 0, 0, 0] [1, 4, 4, 16] [1, 1, 1, 1] : tensor<1x4x4x32xi8> to tensor<1x4x4x16xi8>
// CHECK:         scf.for {{.*}} iter_args(%{{.*}} = %[[SLICE]]) -> (tensor<1x4x4x16xi8>)
// CHECK:         %[[W:.*]] = tensor.insert_slice %{{.*}} into %[[WHOLE]][0, 0, 0, 0] [1, 4, 4, 16] [1, 1, 1, 1] : tensor<1x4x4x16xi8> into tensor<1x4x4x32xi8>
// CHECK:         return %[[W]] : tensor<1x4x4x32xi8>
// CHECK-LABEL: func.func private @fire_kernel_0(
// CHECK-SAME:    %{{.*}}: tensor<1x8x4x4xi8>, %[[WHOLE:.*]]: tensor<1x4x4x32xi8>) -> tensor<1x4x4x32xi8>
// CHECK:         tensor.extract_slice %[[WHOLE]][0, 0, 0, 16] [1, 4, 4, 16] [1, 1, 1, 1] : tensor<1x4x4x32xi8> to tensor<1x4x4x16xi8>
// CHECK:         %[[W:.*]] = tensor.insert_slice %{{.*}} into %[[WHOLE]][0, 0, 0, 16] [1, 4, 4, 16] [1, 1, 1, 1] : tensor<1x4x4x16xi8> into tensor<1x4x4x32xi8>
// CHECK:         return %[[W]] : tensor<1x4x4x32xi8>
// CHECK-LABEL: func.func @fire(
// CHECK:         %[[X:.*]] = quant.scast %{{.*}} : tensor<1x8x4x4x!quant{{.*}}> to tensor<1x8x4x4xi8>
// CHECK:         %[[CAT:.*]] = bufferization.alloc_tensor() : tensor<1x4x4x32xi8>
// CHECK:         %[[A:.*]] = call @fire_kernel(%[[X]], %[[CAT]])
// CHECK-NOT:     alloc_tensor
// CHECK:         %[[B:.*]] = call @fire_kernel_0(%{{.*}}, %[[A]])
// CHECK-NOT:     tensor.extract_slice
// CHECK-NOT:     tensor.insert_slice
// CHECK:         %[[T:.*]] = linalg.transpose ins(%[[B]] : tensor<1x4x4x32xi8>) outs(%{{.*}} : tensor<1x32x4x4xi8>) permutation = [0, 3, 1, 2]
// CHECK:         %[[R:.*]] = quant.scast %[[T]] : tensor<1x32x4x4xi8> to tensor<1x32x4x4x!quant
// CHECK-NOT:     myquant.concat
// CHECK:         return %[[R]]
// After one-shot bufferization the kernels store through a view of the
// one buffer of the concatenation: nothing is copied (the copy of the view
// onto itself the insert of the slice leaves goes in
// myquant-expand-strided-copies).
// BUF-LABEL: func.func private @fire_kernel(
// BUF-SAME:    %{{.*}}: memref<1x8x4x4xi8>, %[[WHOLE:.*]]: memref<1x4x4x32xi8>)
// BUF:         memref.subview %[[WHOLE]][0, 0, 0, 0] [1, 4, 4, 16] [1, 1, 1, 1] : memref<1x4x4x32xi8> to memref<1x4x4x16xi8, strided<[512, 128, 32, 1]>>
// BUF-NOT:     memref.copy
// BUF-LABEL: func.func private @fire_kernel_0(
// BUF:         memref.subview %{{.*}}[0, 0, 0, 16] [1, 4, 4, 16] [1, 1, 1, 1] : memref<1x4x4x32xi8> to memref<1x4x4x16xi8, strided<[512, 128, 32, 1], offset: 16>>
// BUF-NOT:     memref.copy
// BUF-LABEL: func.func @fire(
// BUF:         %[[CAT:.*]] = memref.alloc() {{.*}}: memref<1x4x4x32xi8>
// BUF-NEXT:    call @fire_kernel(%{{.*}}, %[[CAT]]) : (memref<1x8x4x4xi8>, memref<1x4x4x32xi8>) -> ()
// BUF-NEXT:    call @fire_kernel_0(%{{.*}}, %[[CAT]]) : (memref<1x8x4x4xi8>, memref<1x4x4x32xi8>) -> ()
// BUF-NOT:     memref.copy
// BUF:         linalg.transpose ins(%[[CAT]] : memref<1x4x4x32xi8>)
// BUF-NOT:     memref.copy
// BUF:         return
func.func @fire(%x: tensor<1x8x4x4x!qx>) -> tensor<1x32x4x4x!qy> {
  %w1i = arith.constant dense<1> : tensor<16x8x1x1xi8>
  %w1 = quant.scast %w1i : tensor<16x8x1x1xi8> to tensor<16x8x1x1x!qw>
  %w3i = arith.constant dense<-1> : tensor<16x8x3x3xi8>
  %w3 = quant.scast %w3i : tensor<16x8x3x3xi8> to tensor<16x8x3x3x!qw>
  %a = myquant.conv2d %x, %w1 {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [33], rounding = single>} : (tensor<1x8x4x4x!qx>, tensor<16x8x1x1x!qw>) -> tensor<1x16x4x4x!qy>
  %b = myquant.conv2d %x, %w3 {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [34], rounding = single>} : (tensor<1x8x4x4x!qx>, tensor<16x8x3x3x!qw>) -> tensor<1x16x4x4x!qy>
  %cat = myquant.concat %a, %b {dim = 1 : i64} : (tensor<1x16x4x4x!qy>, tensor<1x16x4x4x!qy>) -> tensor<1x32x4x4x!qy>
  return %cat : tensor<1x32x4x4x!qy>
}

// -----

!qx = !quant.uniform<i8:f32, 0.1:3>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>

// NHWC, with an operand no kernel computes: the kernel writes channels
// [4, 24) (20 channels: the last block of 16 is shifted back to end at
// 20); the concatenation inserts the input into channels [0, 4) and
// [24, 28) of the tensor the kernel returned.
// CHECK-LABEL: func.func private @mixed_kernel(
// CHECK-SAME:    %{{.*}}: tensor<1x4x4x4xi8>, %[[WHOLE:.*]]: tensor<1x4x4x28xi8>) -> tensor<1x4x4x28xi8>
// CHECK:         tensor.extract_slice %[[WHOLE]][0, 0, 0, 4] [1, 4, 4, 20] [1, 1, 1, 1]
// CHECK:         tensor.insert_slice %{{.*}} into %[[WHOLE]][0, 0, 0, 4] [1, 4, 4, 20] [1, 1, 1, 1]
// CHECK-LABEL: func.func @mixed(
// CHECK-SAME:    %[[X:.*]]: tensor<1x4x4x4x!quant
// CHECK:         %[[CAT:.*]] = bufferization.alloc_tensor() : tensor<1x4x4x28xi8>
// CHECK:         %[[K:.*]] = call @mixed_kernel(%{{.*}}, %[[CAT]])
// CHECK:         %[[S0:.*]] = quant.scast %[[X]]
// CHECK:         %[[I0:.*]] = tensor.insert_slice %[[S0]] into %[[K]][0, 0, 0, 0] [1, 4, 4, 4] [1, 1, 1, 1]
// CHECK:         %[[S2:.*]] = quant.scast %[[X]]
// CHECK:         %[[I2:.*]] = tensor.insert_slice %[[S2]] into %[[I0]][0, 0, 0, 24] [1, 4, 4, 4] [1, 1, 1, 1]
// CHECK:         %[[R:.*]] = quant.scast %[[I2]] : tensor<1x4x4x28xi8> to tensor<1x4x4x28x!quant
// CHECK-NOT:     myquant.concat
// CHECK:         return %[[R]]
func.func @mixed(%x: tensor<1x4x4x4x!qx>) -> tensor<1x4x4x28x!qx> {
  %wi = arith.constant dense<2> : tensor<1x1x4x20xi8>
  %w = quant.scast %wi : tensor<1x1x4x20xi8> to tensor<1x1x4x20x!qw>
  %y = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nhwc>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [33], rounding = single>} : (tensor<1x4x4x4x!qx>, tensor<1x1x4x20x!qw>) -> tensor<1x4x4x20x!qx>
  %cat = myquant.concat %x, %y, %x {dim = 3 : i64} : (tensor<1x4x4x4x!qx>, tensor<1x4x4x20x!qx>, tensor<1x4x4x4x!qx>) -> tensor<1x4x4x28x!qx>
  return %cat : tensor<1x4x4x28x!qx>
}

// -----

!qx = !quant.uniform<i8:f32, 0.1:3>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>

// A result used by more than the concatenation has a tensor of its own.
// CHECK-LABEL: func.func @shared(
// CHECK:         %[[OWN:.*]] = bufferization.alloc_tensor() : tensor<1x4x4x16xi8>
// CHECK:         call @shared_kernel(%{{.*}}, %[[OWN]]) : (tensor<1x4x4x4xi8>, tensor<1x4x4x16xi8>) -> tensor<1x4x4x16xi8>
// CHECK:         myquant.concat
func.func @shared(%x: tensor<1x4x4x4x!qx>) -> (tensor<1x4x4x16x!qx>, tensor<1x4x4x32x!qx>) {
  %wi = arith.constant dense<2> : tensor<1x1x4x16xi8>
  %w = quant.scast %wi : tensor<1x1x4x16xi8> to tensor<1x1x4x16x!qw>
  %y = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nhwc>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [33], rounding = single>} : (tensor<1x4x4x4x!qx>, tensor<1x1x4x16x!qw>) -> tensor<1x4x4x16x!qx>
  %cat = myquant.concat %y, %y {dim = 3 : i64} : (tensor<1x4x4x16x!qx>, tensor<1x4x4x16x!qx>) -> tensor<1x4x4x32x!qx>
  return %y, %cat : tensor<1x4x4x16x!qx>, tensor<1x4x4x32x!qx>
}
