// RUN: myquant-opt %s --split-input-file --convert-linalg-to-float-kernels=target=avx512-vnni | FileCheck %s
// RUN: myquant-opt %s --split-input-file --convert-linalg-to-float-kernels=target=avx-vnni | FileCheck %s --check-prefix=AVX2
// RUN: myquant-opt %s --split-input-file --convert-linalg-to-float-kernels=target=generic | FileCheck %s --check-prefix=GENERIC
// RUN: myquant-opt %s --split-input-file --convert-linalg-to-float-kernels=target=avx512-vnni --remarks-filter-missed=convert-myquant-to-vnni --remark-format=emitRemark 2>&1 | FileCheck %s --check-prefix=REMARK

// GENERIC-NOT: call
// GENERIC-NOT: vector.fma

// A padded NCHW 3x3 convolution, its bias as the initial value and a ReLU:
// one kernel. The FCHW weights are packed [9 * C][16] (rows (tap,
// channel)); the accumulators start at the bias; the K loops (kh, kw,
// channel) broadcast one NCHW input scalar per pixel into vector FMAs; the
// ReLU clamps the registers, and the tile (5 pixels x 16 channels) is
// transposed and stored as rows of 5 pixels.
// CHECK-LABEL: func.func private @conv_kernel(
// CHECK-SAME:    %[[X:.*]]: tensor<1x2x7x7xf32>, %[[OUT:.*]]: tensor<1x16x5x5xf32>) -> tensor<1x16x5x5xf32>
// CHECK-SAME:    passthrough = ["noinline"]
// CHECK-SAME:    target_features = #llvm.target_features<["+avx512f",
// CHECK:         %[[W:.*]] = arith.constant dense<5.000000e-01> : tensor<1x18x16xf32>
// CHECK:         %[[B:.*]] = arith.constant dense<[1.000000e+00, 2.000000e+00, {{.*}}]> : tensor<16xf32>
// CHECK:         vector.transfer_read %[[B]]
// CHECK:         scf.for %{{.*}} = %c0{{.*}} to %c3{{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK:         scf.for %{{.*}} = %c0{{.*}} to %c3{{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK:         scf.for %{{.*}} = %c0{{.*}} to %c2{{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK:         vector.transfer_read %[[W]]
// CHECK:         tensor.extract %[[X]]
// CHECK:         vector.broadcast {{.*}} : f32 to vector<16xf32>
// CHECK:         vector.fma
// CHECK-COUNT-5: arith.maximumf {{.*}} : vector<16xf32>
// CHECK:         vector.transpose {{.*}} [1, 0] : vector<5x16xf32> to vector<16x5xf32>
// CHECK:         vector.transfer_write {{.*}} {in_bounds = [true]} : vector<5xf32>, tensor<1x16x5x5xf32>
// The caller pads, allocates the result and calls the kernel; the
// convolution, the bias broadcast and the ReLU are gone.
// CHECK-LABEL: func.func @conv(
// CHECK:         %[[P:.*]] = tensor.pad
// CHECK:         %[[D:.*]] = bufferization.alloc_tensor() : tensor<1x16x5x5xf32>
// CHECK:         %[[R:.*]] = call @conv_kernel(%[[P]], %[[D]])
// CHECK-NOT:     linalg
// CHECK:         return %[[R]]

// On AVX2 + FMA: 8 lanes, two channel blocks per pixel.
// AVX2-LABEL: func.func private @conv_kernel(
// AVX2-SAME:    target_features = #llvm.target_features<["+avx2", "+fma"]>
// AVX2:         vector.fma {{.*}} : vector<8xf32>
// AVX2:         vector.transpose {{.*}} : vector<5x8xf32> to vector<8x5xf32>

#map_b = affine_map<(n, c, h, w) -> (c)>
#map_id = affine_map<(n, c, h, w) -> (n, c, h, w)>
func.func @conv(%x: tensor<1x2x5x5xf32>) -> tensor<1x16x5x5xf32> {
  %zero = arith.constant 0.0 : f32
  %w = arith.constant dense<0.5> : tensor<16x2x3x3xf32>
  %b = arith.constant dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0]> : tensor<16xf32>
  %xp = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x2x5x5xf32> to tensor<1x2x7x7xf32>
  %e = tensor.empty() : tensor<1x16x5x5xf32>
  %init = linalg.generic {indexing_maps = [#map_b, #map_id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%b : tensor<16xf32>) outs(%e : tensor<1x16x5x5xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x16x5x5xf32>
  %c = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%xp, %w : tensor<1x2x7x7xf32>, tensor<16x2x3x3xf32>) outs(%init : tensor<1x16x5x5xf32>) -> tensor<1x16x5x5xf32>
  %r = linalg.generic {indexing_maps = [#map_id, #map_id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c : tensor<1x16x5x5xf32>) outs(%e : tensor<1x16x5x5xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x16x5x5xf32>
  return %r : tensor<1x16x5x5xf32>
}

// -----

// The packing order of NCHW weights: w[f][c][0][x] = 2c + x + 1 for every
// f, packed by (tap, channel): rows 1 (tap 0, channel 0), 3 (tap 0,
// channel 1), 2 (tap 1, channel 0), 4 (tap 1, channel 1); no bias.
// CHECK-LABEL: func.func private @conv_order_kernel(
// CHECK:         arith.constant dense<{{\[\[\[}}1.0{{[0-9e+,. ]*}}], [3.0{{[0-9e+,. ]*}}], [2.0{{[0-9e+,. ]*}}], [4.0{{[0-9e+,. ]*}}]]]> : tensor<1x4x16xf32>
// CHECK:         arith.constant dense<0.000000e+00> : tensor<16xf32>
// CHECK-LABEL: func.func @conv_order(
// CHECK:         call @conv_order_kernel
// CHECK-NOT:     linalg
func.func @conv_order(%x: tensor<1x2x3x4xf32>) -> tensor<1x16x3x3xf32> {
  %zero = arith.constant 0.0 : f32
  %w = arith.constant dense<[[[[1.0, 2.0]], [[3.0, 4.0]]], [[[1.0, 2.0]], [[3.0, 4.0]]], [[[1.0, 2.0]], [[3.0, 4.0]]], [[[1.0, 2.0]], [[3.0, 4.0]]], [[[1.0, 2.0]], [[3.0, 4.0]]], [[[1.0, 2.0]], [[3.0, 4.0]]], [[[1.0, 2.0]], [[3.0, 4.0]]], [[[1.0, 2.0]], [[3.0, 4.0]]], [[[1.0, 2.0]], [[3.0, 4.0]]], [[[1.0, 2.0]], [[3.0, 4.0]]], [[[1.0, 2.0]], [[3.0, 4.0]]], [[[1.0, 2.0]], [[3.0, 4.0]]], [[[1.0, 2.0]], [[3.0, 4.0]]], [[[1.0, 2.0]], [[3.0, 4.0]]], [[[1.0, 2.0]], [[3.0, 4.0]]], [[[1.0, 2.0]], [[3.0, 4.0]]]]> : tensor<16x2x1x2xf32>
  %e = tensor.empty() : tensor<1x16x3x3xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x16x3x3xf32>) -> tensor<1x16x3x3xf32>
  %c = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%x, %w : tensor<1x2x3x4xf32>, tensor<16x2x1x2xf32>) outs(%init : tensor<1x16x3x3xf32>) -> tensor<1x16x3x3xf32>
  return %c : tensor<1x16x3x3xf32>
}

// -----

// A Linear: matmul of the transposed weights and a bias add. The [16][3]
// weights w[o][c] = 3o + c are packed [3][16] (rows: input channels); the
// input is read as a 1 x 1 x M x K image and the result stored directly.
// CHECK-LABEL: func.func private @linear_kernel(
// CHECK-SAME:    tensor<1x1x2x3xf32>, %{{.*}}: tensor<1x1x2x16xf32>) -> tensor<1x1x2x16xf32>
// CHECK:         arith.constant dense<{{\[\[\[}}0.000000e+00, 3.000000e+00, 6.000000e+00, {{.*}}], [1.000000e+00, 4.000000e+00, {{.*}}]]]> : tensor<1x3x16xf32>
// CHECK:         arith.constant dense<2.500000e-01> : tensor<16xf32>
// CHECK:         vector.fma
// CHECK-NOT:     vector.transpose
// CHECK:         vector.transfer_write {{.*}} : vector<16xf32>, tensor<1x1x2x16xf32>
// CHECK-LABEL: func.func @linear(
// CHECK:         tensor.expand_shape %{{.*}} {{\[\[}}0, 1, 2], [3]] output_shape [1, 1, 2, 3]
// CHECK:         call @linear_kernel
// CHECK:         tensor.collapse_shape %{{.*}} {{\[\[}}0, 1, 2], [3]] : tensor<1x1x2x16xf32> into tensor<2x16xf32>
// CHECK-NOT:     linalg
#id2 = affine_map<(m, n) -> (m, n)>
#ch2 = affine_map<(m, n) -> (n)>
func.func @linear(%x: tensor<2x3xf32>) -> tensor<2x16xf32> {
  %zero = arith.constant 0.0 : f32
  %w = arith.constant dense<[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0], [9.0, 10.0, 11.0], [12.0, 13.0, 14.0], [15.0, 16.0, 17.0], [18.0, 19.0, 20.0], [21.0, 22.0, 23.0], [24.0, 25.0, 26.0], [27.0, 28.0, 29.0], [30.0, 31.0, 32.0], [33.0, 34.0, 35.0], [36.0, 37.0, 38.0], [39.0, 40.0, 41.0], [42.0, 43.0, 44.0], [45.0, 46.0, 47.0]]> : tensor<16x3xf32>
  %b = arith.constant dense<0.25> : tensor<16xf32>
  %et = tensor.empty() : tensor<3x16xf32>
  %wt = linalg.transpose ins(%w : tensor<16x3xf32>) outs(%et : tensor<3x16xf32>) permutation = [1, 0]
  %e = tensor.empty() : tensor<2x16xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<2x16xf32>) -> tensor<2x16xf32>
  %mm = linalg.matmul ins(%x, %wt : tensor<2x3xf32>, tensor<3x16xf32>) outs(%init : tensor<2x16xf32>) -> tensor<2x16xf32>
  %y = linalg.generic {indexing_maps = [#id2, #ch2, #id2], iterator_types = ["parallel", "parallel"]} ins(%mm, %b : tensor<2x16xf32>, tensor<16xf32>) outs(%e : tensor<2x16xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %s = arith.addf %a, %c : f32
    linalg.yield %s : f32
  } -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// -----

// A depthwise convolution (NCHW, stride 2, bias, ReLU6): vectors of output
// pixels along a row (here the 5 of a row), 5 rows at a time; per tap a
// broadcast weight times every second element of a 10-element read (which
// may pass the row's end: not in bounds, no in_bounds attribute).
// CHECK-LABEL: func.func private @depthwise_kernel(
// CHECK-SAME:    %[[X:.*]]: tensor<1x16x11x11xf32>, %{{.*}}: tensor<1x16x5x5xf32>)
// CHECK:         %[[W:.*]] = arith.constant dense<{{.*}}> : tensor<144xf32>
// CHECK:         %[[B:.*]] = arith.constant dense<5.000000e-01> : tensor<16xf32>
// CHECK:         scf.for
// CHECK:         scf.for
// CHECK:         tensor.extract %[[B]]
// CHECK-COUNT-9: tensor.extract %[[W]]
// CHECK:         %[[WIDE:.*]] = vector.transfer_read %[[X]][{{.*}}], %{{[^ ]*}} : tensor<1x16x11x11xf32>, vector<10xf32>
// CHECK:         %[[EVEN:.*]] = vector.shuffle %[[WIDE]], %[[WIDE]] [0, 2, 4, 6, 8]
// CHECK:         vector.fma %[[EVEN]], {{.*}} : vector<5xf32>
// CHECK:         arith.maximumf {{.*}} : vector<5xf32>
// CHECK:         arith.minimumf {{.*}} : vector<5xf32>
// CHECK:         vector.transfer_write {{.*}} : vector<5xf32>, tensor<1x16x5x5xf32>
// CHECK-LABEL: func.func @depthwise(
// CHECK:         call @depthwise_kernel
// CHECK-NOT:     linalg
#id4 = affine_map<(n, c, h, w) -> (n, c, h, w)>
func.func @depthwise(%x: tensor<1x16x11x11xf32>) -> tensor<1x16x5x5xf32> {
  %zero = arith.constant 0.0 : f32
  %six = arith.constant 6.0 : f32
  %e = tensor.empty() : tensor<1x16x5x5xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x16x5x5xf32>) -> tensor<1x16x5x5xf32>
  %w = arith.constant dense<0.125> : tensor<16x3x3xf32>
  %d = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>} ins(%x, %w : tensor<1x16x11x11xf32>, tensor<16x3x3xf32>) outs(%init : tensor<1x16x5x5xf32>) -> tensor<1x16x5x5xf32>
  %b = arith.constant dense<0.5> : tensor<16xf32>
  %y = linalg.generic {indexing_maps = [#id4, affine_map<(n, c, h, w) -> (c)>, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%d, %b : tensor<1x16x5x5xf32>, tensor<16xf32>) outs(%e : tensor<1x16x5x5xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %s = arith.addf %a, %c : f32
    linalg.yield %s : f32
  } -> tensor<1x16x5x5xf32>
  %r = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%y : tensor<1x16x5x5xf32>) outs(%e : tensor<1x16x5x5xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    %n = arith.minimumf %m, %six : f32
    linalg.yield %n : f32
  } -> tensor<1x16x5x5xf32>
  return %r : tensor<1x16x5x5xf32>
}

// -----

// A padded depthwise convolution (stride 2): the kernel takes the unpadded
// input and pads each plane into a tensor of its own, whose rows hold the
// padded row's even columns (0-5) and then its odd ones (6-11): each input
// row is read once, split by two shuffles and written beside the zeros of
// the left and right padding. A tap reads 5 adjacent elements of one phase
// (kx = 0: even columns from ox0, kx = 1: odd from ox0, kx = 2: even from
// ox0 + 1), in bounds, with no shuffle. No padded copy of the whole input
// is left.
// CHECK-LABEL: func.func private @padded_depthwise_kernel(
// CHECK-SAME:    %[[X:.*]]: tensor<1x16x10x10xf32>, %{{.*}}: tensor<1x16x5x5xf32>)
// CHECK:         scf.for %[[N:.*]] = {{.*}} iter_args
// CHECK:         scf.for %[[C:.*]] = {{.*}} iter_args
// CHECK:         %[[EMPTY:.*]] = tensor.empty() : tensor<11x12xf32>
// CHECK:         %[[TOP:.*]] = vector.transfer_write %{{.*}}, %[[EMPTY]][%c0{{.*}}, %c0{{.*}}] {in_bounds = [true]} : vector<12xf32>, tensor<11x12xf32>
// CHECK:         %[[PLANE:.*]] = scf.for %[[IY:.*]] = {{.*}} iter_args(%[[ROWS:.*]] = %[[TOP]])
// CHECK:           %[[Y:.*]] = arith.addi %[[IY]], %c1
// CHECK:           %[[ROW:.*]] = vector.transfer_read %[[X]][%[[N]], %[[C]], %[[IY]], %c0{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<1x16x10x10xf32>, vector<10xf32>
// CHECK:           %[[EVEN:.*]] = vector.shuffle %[[ROW]], %[[ROW]] [1, 3, 5, 7, 9]
// CHECK:           %[[W0:.*]] = vector.transfer_write %[[EVEN]], %[[ROWS]][%[[Y]], %c1{{.*}}] {in_bounds = [true]} : vector<5xf32>, tensor<11x12xf32>
// CHECK:           %[[ODD:.*]] = vector.shuffle %[[ROW]], %[[ROW]] [0, 2, 4, 6, 8]
// CHECK:           %[[W1:.*]] = vector.transfer_write %[[ODD]], %[[W0]][%[[Y]], %c6{{.*}}] {in_bounds = [true]} : vector<5xf32>, tensor<11x12xf32>
// CHECK:           %[[LEFT:.*]] = vector.transfer_write %{{.*}}, %[[W1]][%[[Y]], %c0{{.*}}] {in_bounds = [true]} : vector<1xf32>, tensor<11x12xf32>
// CHECK:           %[[RIGHT:.*]] = vector.transfer_write %{{.*}}, %[[LEFT]][%[[Y]], %c11{{.*}}] {in_bounds = [true]} : vector<1xf32>, tensor<11x12xf32>
// CHECK:           scf.yield %[[RIGHT]]
// CHECK:         arith.minsi
// CHECK:         %[[OX0:.*]] = arith.minsi
// CHECK-NOT:     vector.shuffle
// CHECK:         %[[X0:.*]] = arith.addi %[[OX0]], %c0
// CHECK:         vector.transfer_read %[[PLANE]][%{{.*}}, %[[X0]]], %{{.*}} {in_bounds = [true]} : tensor<11x12xf32>, vector<5xf32>
// CHECK:         %[[X1:.*]] = arith.addi %[[OX0]], %c6
// CHECK:         vector.transfer_read %[[PLANE]][%{{.*}}, %[[X1]]], %{{.*}} {in_bounds = [true]} : tensor<11x12xf32>, vector<5xf32>
// CHECK:         %[[X2:.*]] = arith.addi %[[OX0]], %c1
// CHECK:         vector.transfer_read %[[PLANE]][%{{.*}}, %[[X2]]], %{{.*}} {in_bounds = [true]} : tensor<11x12xf32>, vector<5xf32>
// CHECK-NOT:     vector.shuffle
// CHECK-LABEL: func.func @padded_depthwise(
// CHECK-SAME:    %[[IN:.*]]: tensor<1x16x10x10xf32>)
// CHECK-NOT:     tensor.pad
// CHECK:         call @padded_depthwise_kernel(%[[IN]],
func.func @padded_depthwise(%x0: tensor<1x16x10x10xf32>) -> tensor<1x16x5x5xf32> {
  %zero = arith.constant 0.0 : f32
  %x = tensor.pad %x0 low[0, 0, 1, 1] high[0, 0, 0, 0] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x16x10x10xf32> to tensor<1x16x11x11xf32>
  %e = tensor.empty() : tensor<1x16x5x5xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x16x5x5xf32>) -> tensor<1x16x5x5xf32>
  %w = arith.constant dense<0.125> : tensor<16x3x3xf32>
  %d = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>} ins(%x, %w : tensor<1x16x11x11xf32>, tensor<16x3x3xf32>) outs(%init : tensor<1x16x5x5xf32>) -> tensor<1x16x5x5xf32>
  return %d : tensor<1x16x5x5xf32>
}

// -----

// Not covered: left to the generic lowering, with the reason.
// REMARK: remark: [Missed] NotLowered | Category:convert-myquant-to-vnni | Remark="not lowered to a VNNI kernel: a grouped or NHWC depthwise convolution"
// REMARK: remark: [Missed] NotLowered | Category:convert-myquant-to-vnni | Remark="not lowered to a VNNI kernel: 8 output channels, fewer than a vector of 16"
// CHECK-LABEL: func.func @uncovered(
// CHECK:         linalg.depthwise_conv_2d_nhwc_hwc
// CHECK:         linalg.conv_2d_nchw_fchw
// AVX2-LABEL:  func.func @uncovered(
// AVX2:          linalg.depthwise_conv_2d_nhwc_hwc
// AVX2:          call @uncovered_kernel
func.func @uncovered(%x: tensor<1x8x4x4xf32>, %xh: tensor<1x4x4x8xf32>) -> (tensor<1x4x4x8xf32>, tensor<1x8x4x4xf32>) {
  %zero = arith.constant 0.0 : f32
  %eh = tensor.empty() : tensor<1x4x4x8xf32>
  %inith = linalg.fill ins(%zero : f32) outs(%eh : tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32>
  %wd = arith.constant dense<1.0> : tensor<1x1x8xf32>
  %d = linalg.depthwise_conv_2d_nhwc_hwc {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%xh, %wd : tensor<1x4x4x8xf32>, tensor<1x1x8xf32>) outs(%inith : tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32>
  %e = tensor.empty() : tensor<1x8x4x4xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32>
  %w = arith.constant dense<1.0> : tensor<8x8x1x1xf32>
  %c = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%x, %w : tensor<1x8x4x4xf32>, tensor<8x8x1x1xf32>) outs(%init : tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32>
  return %d, %c : tensor<1x4x4x8xf32>, tensor<1x8x4x4xf32>
}

// -----

// Splat weights past kMaxWeightElements (2^32 here) are not copied out to
// be packed (more than a SmallVector holds: this aborted; found by
// python/myquant/testing/mutate.py): left to the generic lowering.
// REMARK: remark: [Missed] NotLowered | Category:convert-myquant-to-vnni | Remark="not lowered to a VNNI kernel: the weights have 4294967296 elements, more than 1073741824"
// CHECK-LABEL: func.func @huge_splat_weights(
// CHECK:         linalg.conv_2d_nchw_fchw
func.func @huge_splat_weights(%x: tensor<1x65536x1x1xf32>) -> tensor<1x65536x1x1xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x65536x1x1xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x65536x1x1xf32>) -> tensor<1x65536x1x1xf32>
  %w = arith.constant dense<1.0> : tensor<65536x65536x1x1xf32>
  %c = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%x, %w : tensor<1x65536x1x1xf32>, tensor<65536x65536x1x1xf32>) outs(%init : tensor<1x65536x1x1xf32>) -> tensor<1x65536x1x1xf32>
  return %c : tensor<1x65536x1x1xf32>
}
