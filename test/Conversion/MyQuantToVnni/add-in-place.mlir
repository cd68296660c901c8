// RUN: myquant-opt %s --split-input-file --convert-myquant-to-vnni=target=avx512-vnni | FileCheck %s
// RUN: myquant-opt %s --split-input-file --convert-myquant-to-vnni=target=avx512-vnni --convert-myquant-to-linalg --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --canonicalize --drop-equivalent-buffer-results --myquant-expand-strided-copies | FileCheck %s --check-prefix=BUF

!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>
!qy = !quant.uniform<i8:f32, 0.2:-5>
!qs = !quant.uniform<i8:f32, 0.4:2>

// A residual add whose addend, a kernel's result, nothing reads after the
// add: the add's kernel takes the addend as its destination, reads each
// element of it in the epilogue before storing the sum there, and returns
// it. One buffer for both, and nothing copied.
// CHECK-LABEL: func.func private @dies_kernel_0(
// CHECK-SAME:    %{{.*}}: tensor<1x16x4x4xi8>, %[[OUT:.*]]: tensor<1x4x4x32xi8>) -> tensor<1x4x4x32xi8>
// CHECK-NOT:     tensor.extract_slice %[[OUT]]
// CHECK:         scf.for {{.*}} iter_args(%{{.*}} = %[[OUT]]) -> (tensor<1x4x4x32xi8>)
// CHECK:         vector.transfer_read %[[T:[a-z0-9_]+]][{{.*}} : tensor<1x4x4x32xi8>, vector<16xi8>
// CHECK:         vector.transfer_write %{{.*}}, %[[T]][{{.*}} : vector<16xi8>, tensor<1x4x4x32xi8>
// CHECK-LABEL: func.func @dies(
// CHECK:         %[[D:.*]] = bufferization.alloc_tensor() : tensor<1x4x4x32xi8>
// CHECK:         %[[ADDEND:.*]] = call @dies_kernel(%{{.*}}, %[[D]])
// CHECK-NOT:     alloc_tensor
// CHECK:         %[[SUM:.*]] = call @dies_kernel_0(%{{.*}}, %[[ADDEND]]) : (tensor<1x16x4x4xi8>, tensor<1x4x4x32xi8>) -> tensor<1x4x4x32xi8>
// CHECK:         linalg.transpose ins(%[[SUM]] : tensor<1x4x4x32xi8>)
// BUF-LABEL: func.func private @dies_kernel(
// BUF-NOT:     memref.copy
// BUF-LABEL: func.func private @dies_kernel_0(
// BUF-NOT:     memref.copy
// BUF-LABEL: func.func @dies(
// BUF:         %[[D:.*]] = memref.alloc() {{.*}}: memref<1x4x4x32xi8>
// BUF-NEXT:    call @dies_kernel(%{{.*}}, %[[D]])
// BUF-NEXT:    call @dies_kernel_0(%{{.*}}, %[[D]])
// BUF-NOT:     memref.copy
// BUF-NOT:     linalg.copy
// BUF:         linalg.transpose ins(%[[D]] : memref<1x4x4x32xi8>)
// BUF-NOT:     memref.copy
// BUF-NOT:     linalg.copy
// BUF:         return
func.func @dies(%x: tensor<1x16x4x4x!qx>) -> tensor<1x32x4x4x!qs> {
  %wi = arith.constant dense<1> : tensor<32x16x1x1xi8>
  %w = quant.scast %wi : tensor<32x16x1x1xi8> to tensor<32x16x1x1x!qw>
  %a = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [33], rounding = single>} : (tensor<1x16x4x4x!qx>, tensor<32x16x1x1x!qw>) -> tensor<1x32x4x4x!qy>
  %y = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [34], rounding = single>} : (tensor<1x16x4x4x!qx>, tensor<32x16x1x1x!qw>) -> tensor<1x32x4x4x!qy>
  %s = myquant.add %a, %y {left_shift = 20 : i64, lhs_rescale = #myquant.rescale<multiplier = [1073741824], shift = [31], rounding = single>, rhs_rescale = #myquant.rescale<multiplier = [1073741824], shift = [31], rounding = single>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [50], rounding = single>} : (tensor<1x32x4x4x!qy>, tensor<1x32x4x4x!qy>) -> tensor<1x32x4x4x!qs>
  return %s : tensor<1x32x4x4x!qs>
}

// -----

!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>
!qy = !quant.uniform<i8:f32, 0.2:-5>
!qs = !quant.uniform<i8:f32, 0.4:2>

// The addend is read after the add, by a kernel of its own: the add's
// kernel writes the sum into a tensor of its own.
// CHECK-LABEL: func.func @lives(
// CHECK:         %[[ADDEND:.*]] = call @lives_kernel(
// CHECK:         %[[D:.*]] = bufferization.alloc_tensor() : tensor<1x4x4x32xi8>
// CHECK:         call @lives_kernel_0(%{{.*}}, %[[ADDEND]], %[[D]])
// CHECK:         call @lives_kernel_1(%[[ADDEND]], %{{.*}})
// BUF-LABEL: func.func @lives(
// BUF:         %[[A:.*]] = memref.alloc() {{.*}}: memref<1x4x4x32xi8>
// BUF-NEXT:    call @lives_kernel(%{{.*}}, %[[A]])
// BUF-NOT:     memref.copy
// BUF:         %[[S:.*]] = memref.alloc() {{.*}}: memref<1x4x4x32xi8>
// BUF-NEXT:    call @lives_kernel_0(%{{.*}}, %[[A]], %[[S]])
// BUF-NOT:     memref.copy
// BUF:         call @lives_kernel_1(%[[A]], %{{.*}})
// BUF-NOT:     memref.copy
// BUF:         return
func.func @lives(%x: tensor<1x16x4x4x!qx>) -> (tensor<1x32x4x4x!qs>, tensor<1x32x4x4x!qy>) {
  %wi = arith.constant dense<1> : tensor<32x16x1x1xi8>
  %w = quant.scast %wi : tensor<32x16x1x1xi8> to tensor<32x16x1x1x!qw>
  %a = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [33], rounding = single>} : (tensor<1x16x4x4x!qx>, tensor<32x16x1x1x!qw>) -> tensor<1x32x4x4x!qy>
  %y = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [34], rounding = single>} : (tensor<1x16x4x4x!qx>, tensor<32x16x1x1x!qw>) -> tensor<1x32x4x4x!qy>
  %s = myquant.add %a, %y {left_shift = 20 : i64, lhs_rescale = #myquant.rescale<multiplier = [1073741824], shift = [31], rounding = single>, rhs_rescale = #myquant.rescale<multiplier = [1073741824], shift = [31], rounding = single>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [50], rounding = single>} : (tensor<1x32x4x4x!qy>, tensor<1x32x4x4x!qy>) -> tensor<1x32x4x4x!qs>
  %w2i = arith.constant dense<1> : tensor<32x32x1x1xi8>
  %w2 = quant.scast %w2i : tensor<32x32x1x1xi8> to tensor<32x32x1x1x!qw>
  %z = myquant.conv2d %a, %w2 {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [36], rounding = single>} : (tensor<1x32x4x4x!qy>, tensor<32x32x1x1x!qw>) -> tensor<1x32x4x4x!qy>
  return %s, %z : tensor<1x32x4x4x!qs>, tensor<1x32x4x4x!qy>
}

// -----

!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8<-127:127>:f32, 0.05>
!qy = !quant.uniform<i8:f32, 0.2:-5>
!qs = !quant.uniform<i8:f32, 0.4:2>

// 17 channels: the last block of 16 is shifted back to end at 17 and
// rewrites 15 channels of the one before, which would then read sums as
// addends: the sum gets a tensor of its own.
// CHECK-LABEL: func.func @shifted(
// CHECK:         %[[ADDEND:.*]] = call @shifted_kernel(
// CHECK:         %[[D:.*]] = bufferization.alloc_tensor() : tensor<1x4x4x17xi8>
// CHECK:         call @shifted_kernel_0(%{{.*}}, %[[ADDEND]], %[[D]])
func.func @shifted(%x: tensor<1x16x4x4x!qx>) -> tensor<1x17x4x4x!qs> {
  %wi = arith.constant dense<1> : tensor<17x16x1x1xi8>
  %w = quant.scast %wi : tensor<17x16x1x1xi8> to tensor<17x16x1x1x!qw>
  %a = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [33], rounding = single>} : (tensor<1x16x4x4x!qx>, tensor<17x16x1x1x!qw>) -> tensor<1x17x4x4x!qy>
  %y = myquant.conv2d %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [34], rounding = single>} : (tensor<1x16x4x4x!qx>, tensor<17x16x1x1x!qw>) -> tensor<1x17x4x4x!qy>
  %s = myquant.add %a, %y {left_shift = 20 : i64, lhs_rescale = #myquant.rescale<multiplier = [1073741824], shift = [31], rounding = single>, rhs_rescale = #myquant.rescale<multiplier = [1073741824], shift = [31], rounding = single>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [50], rounding = single>} : (tensor<1x17x4x4x!qy>, tensor<1x17x4x4x!qy>) -> tensor<1x17x4x4x!qs>
  return %s : tensor<1x17x4x4x!qs>
}
