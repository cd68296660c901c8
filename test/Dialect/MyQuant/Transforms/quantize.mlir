// RUN: myquant-opt %s -split-input-file --myquant-quantize | FileCheck %s
// RUN: myquant-opt %s -split-input-file --myquant-quantize=rounding=gemmlowp \
// RUN:   | FileCheck %s --check-prefix=GEMMLOWP

// The QDQ form (float linalg between myquant.dequantize and myquant.quantize,
// as myquant-propagate-qparams produces it) becomes myquant ops. Every
// expected (multiplier, shift) pair and clamp bound was computed with
// python/myquant/testing/reference.py (quantize_multiplier, add_rescales,
// avg_pool_rescale, activation_clamp), e.g. 0.1 * 0.01 / 0.05 = 0.02 ->
// (1374389535, 36).

!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8<-127:127>:f32:0, {0.01, 0.02}>
!b = !quant.uniform<i32:f32:0, {0.001, 0.002}>
!r = !quant.uniform<i8:f32, 0.05:-10>

// Padding by a zero-valued tensor.pad is absorbed, the bias comes from the
// broadcast init (as its raw i32 storage), and the relu becomes
// clamp<zp_out, 127>.
// CHECK-LABEL: func.func @conv_bias_relu
// CHECK-SAME:    (%[[X:[^ :,()]+]]: tensor<1x2x4x4x!quant.uniform<i8:f32, 1.000000e-01:-4>>)
// CHECK-DAG:     %[[WC:[^ :,()]+]] = arith.constant dense<{{.*}}> : tensor<2x2x3x3xi8>
// CHECK-DAG:     %[[BC:[^ :,()]+]] = arith.constant dense<[100, -200]> : tensor<2xi32>
// CHECK-DAG:     %[[W:[^ :,()]+]] = quant.scast %[[WC]] : tensor<2x2x3x3xi8> to tensor<2x2x3x3x!quant.uniform<i8<-127:127>:f32:0, {1.000000e-02,2.000000e-02}>>
// CHECK:         %[[Y:[^ :,()]+]] = myquant.conv2d %[[X]], %[[W]], %[[BC]]
// CHECK-SAME:      clamp = #myquant.clamp<-10, 127>
// CHECK-SAME:      dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>, padding = array<i64: 1, 1, 1, 1>
// CHECK-SAME:      rescale = #myquant.rescale<multiplier = [1374389535, 1374389535], shift = [36, 35], rounding = single>
// CHECK-SAME:      strides = array<i64: 1, 1>
// CHECK-SAME:      -> tensor<1x2x4x4x!quant.uniform<i8:f32, 5.000000e-02:-10>>
// CHECK-NEXT:    return %[[Y]]
// CHECK-NOT:     linalg
// GEMMLOWP-LABEL: func.func @conv_bias_relu
// GEMMLOWP:         myquant.conv2d
// GEMMLOWP-SAME:      rescale = #myquant.rescale<multiplier = [1374389535, 1374389535], shift = [36, 35], rounding = gemmlowp>
func.func @conv_bias_relu(%arg: tensor<1x2x4x4x!x>) -> tensor<1x2x4x4x!r> {
  %x = myquant.dequantize %arg : tensor<1x2x4x4x!x> -> tensor<1x2x4x4xf32>
  %zero = arith.constant 0.0 : f32
  %pad = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x2x4x4xf32> to tensor<1x2x6x6xf32>
  %wc = arith.constant dense<[[[[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[-1, -2, -3], [-4, -5, -6], [-7, -8, -9]]],
                              [[[127, 0, 0], [0, -127, 0], [0, 0, 1]], [[0, 1, 0], [1, 0, 1], [0, 1, 0]]]]> : tensor<2x2x3x3xi8>
  %wq = quant.scast %wc : tensor<2x2x3x3xi8> to tensor<2x2x3x3x!w>
  %w = myquant.dequantize %wq : tensor<2x2x3x3x!w> -> tensor<2x2x3x3xf32>
  %bc = arith.constant dense<[100, -200]> : tensor<2xi32>
  %bq = quant.scast %bc : tensor<2xi32> to tensor<2x!b>
  %b = myquant.dequantize %bq : tensor<2x!b> -> tensor<2xf32>
  %e = tensor.empty() : tensor<1x2x4x4xf32>
  %init = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d1)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>],
                          iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%b : tensor<2xf32>) outs(%e : tensor<1x2x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x2x4x4xf32>
  %conv = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>}
      ins(%pad, %w : tensor<1x2x6x6xf32>, tensor<2x2x3x3xf32>) outs(%init : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %relu = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>],
                          iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%conv : tensor<1x2x4x4xf32>) outs(%e : tensor<1x2x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x2x4x4xf32>
  %q = myquant.quantize %relu : tensor<1x2x4x4xf32> -> tensor<1x2x4x4x!r>
  return %q : tensor<1x2x4x4x!r>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8<-127:127>:f32:3, {0.01, 0.03}>
!r6 = !quant.uniform<i8:f32, 0.05:-128>

// NHWC, stride 2, no bias (zero fill), relu6 as min(max(x, 0), 6): with
// scale 0.05 and zero point -128 the relu6 clamp is <-128, -128 + 120>.
// CHECK-LABEL: func.func @conv_nhwc_relu6
// CHECK-SAME:    (%[[X:[^ :,()]+]]: tensor<1x4x4x2x!quant.uniform<i8:f32, 1.000000e-01:-4>>)
// CHECK-DAG:     %[[WC:[^ :,()]+]] = arith.constant dense<{{\[\[\[\[}}1, -2], [3, 4]]]]> : tensor<1x1x2x2xi8>
// CHECK-DAG:     %[[W:[^ :,()]+]] = quant.scast %[[WC]]
// CHECK:         %[[Y:[^ :,()]+]] = myquant.conv2d %[[X]], %[[W]] {
// CHECK-SAME:      clamp = #myquant.clamp<-128, -8>
// CHECK-SAME:      layout = #myquant.layout<nhwc>, padding = array<i64: 0, 0, 0, 0>
// CHECK-SAME:      rescale = #myquant.rescale<multiplier = [1374389535, 2061584302], shift = [36, 35], rounding = single>
// CHECK-SAME:      strides = array<i64: 2, 2>
// CHECK-SAME:      (tensor<1x4x4x2x!quant.uniform<i8:f32, 1.000000e-01:-4>>, tensor<1x1x2x2x!quant.uniform<i8<-127:127>:f32:3, {1.000000e-02,3.000000e-02}>>) -> tensor<1x2x2x2x!quant.uniform<i8:f32, 5.000000e-02:-128>>
// CHECK-NEXT:    return %[[Y]]
func.func @conv_nhwc_relu6(%arg: tensor<1x4x4x2x!x>) -> tensor<1x2x2x2x!r6> {
  %x = myquant.dequantize %arg : tensor<1x4x4x2x!x> -> tensor<1x4x4x2xf32>
  %wc = arith.constant dense<[[[[1, -2], [3, 4]]]]> : tensor<1x1x2x2xi8>
  %wq = quant.scast %wc : tensor<1x1x2x2xi8> to tensor<1x1x2x2x!w>
  %w = myquant.dequantize %wq : tensor<1x1x2x2x!w> -> tensor<1x1x2x2xf32>
  %zero = arith.constant 0.0 : f32
  %six = arith.constant 6.0 : f32
  %e = tensor.empty() : tensor<1x2x2x2xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %conv = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>}
      ins(%x, %w : tensor<1x4x4x2xf32>, tensor<1x1x2x2xf32>) outs(%fill : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %relu6 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>],
                           iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%conv : tensor<1x2x2x2xf32>) outs(%e : tensor<1x2x2x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %lo = arith.maximumf %in, %zero : f32
    %hi = arith.minimumf %lo, %six : f32
    linalg.yield %hi : f32
  } -> tensor<1x2x2x2xf32>
  %q = myquant.quantize %relu6 : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!r6>
  return %q : tensor<1x2x2x2x!r6>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8<-127:127>:f32:0, {0.01, 0.02, 0.04}>
!y = !quant.uniform<i8:f32, 0.2:3>

// Depthwise NCHW: the C x KH x KW filter constant is reshaped to
// C x 1 x KH x KW (per-axis on dim 0) and groups = C.
// CHECK-LABEL: func.func @depthwise_nchw
// CHECK-SAME:    (%[[X:[^ :,()]+]]: tensor<1x3x4x4x!quant.uniform<i8:f32, 1.000000e-01:-4>>)
// CHECK-DAG:     %[[WC:[^ :,()]+]] = arith.constant dense<{{\[\[\[\[}}1, 2, 3], [4, 5, 6], [7, 8, 9]]], {{\[\[\[}}10, 11, 12], [13, 14, 15], [16, 17, 18]]], {{\[\[\[}}19, 20, 21], [22, 23, 24], [25, 26, 27]]]]> : tensor<3x1x3x3xi8>
// CHECK-DAG:     %[[W:[^ :,()]+]] = quant.scast %[[WC]] : tensor<3x1x3x3xi8> to tensor<3x1x3x3x!quant.uniform<i8<-127:127>:f32:0, {1.000000e-02,2.000000e-02,4.000000e-02}>>
// CHECK:         myquant.conv2d %[[X]], %[[W]] {
// CHECK-SAME:      groups = 3 : i64, layout = #myquant.layout<nchw>
// CHECK-SAME:      rescale = #myquant.rescale<multiplier = [1374389535, 1374389535, 1374389535], shift = [38, 37, 36], rounding = single>
// CHECK-SAME:      -> tensor<1x3x2x2x!quant.uniform<i8:f32, 2.000000e-01:3>>
// CHECK-NOT:     linalg.depthwise
func.func @depthwise_nchw(%arg: tensor<1x3x4x4x!x>) -> tensor<1x3x2x2x!y> {
  %x = myquant.dequantize %arg : tensor<1x3x4x4x!x> -> tensor<1x3x4x4xf32>
  %wc = arith.constant dense<[[[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[10, 11, 12], [13, 14, 15], [16, 17, 18]],
                              [[19, 20, 21], [22, 23, 24], [25, 26, 27]]]> : tensor<3x3x3xi8>
  %wq = quant.scast %wc : tensor<3x3x3xi8> to tensor<3x3x3x!w>
  %w = myquant.dequantize %wq : tensor<3x3x3x!w> -> tensor<3x3x3xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x3x2x2xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<1x3x2x2xf32>) -> tensor<1x3x2x2xf32>
  %conv = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>}
      ins(%x, %w : tensor<1x3x4x4xf32>, tensor<3x3x3xf32>) outs(%fill : tensor<1x3x2x2xf32>) -> tensor<1x3x2x2xf32>
  %q = myquant.quantize %conv : tensor<1x3x2x2xf32> -> tensor<1x3x2x2x!y>
  return %q : tensor<1x3x2x2x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8<-127:127>:f32:2, {0.01, 0.02, 0.04}>
!y = !quant.uniform<i8:f32, 0.2:3>

// Depthwise NHWC: KH x KW x C becomes KH x KW x 1 x C and the quantized
// dimension moves from 2 to 3 (the F dimension of an NHWC filter).
// CHECK-LABEL: func.func @depthwise_nhwc
// CHECK-DAG:     %[[WC:[^ :,()]+]] = arith.constant dense<{{.*}}> : tensor<2x2x1x3xi8>
// CHECK-DAG:     %[[W:[^ :,()]+]] = quant.scast %[[WC]] : tensor<2x2x1x3xi8> to tensor<2x2x1x3x!quant.uniform<i8<-127:127>:f32:3, {1.000000e-02,2.000000e-02,4.000000e-02}>>
// CHECK:         myquant.conv2d %{{.*}}, %[[W]] {
// CHECK-SAME:      groups = 3 : i64, layout = #myquant.layout<nhwc>
// CHECK-SAME:      shift = [38, 37, 36]
func.func @depthwise_nhwc(%arg: tensor<1x3x3x3x!x>) -> tensor<1x2x2x3x!y> {
  %x = myquant.dequantize %arg : tensor<1x3x3x3x!x> -> tensor<1x3x3x3xf32>
  %wc = arith.constant dense<[[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]]> : tensor<2x2x3xi8>
  %wq = quant.scast %wc : tensor<2x2x3xi8> to tensor<2x2x3x!w>
  %w = myquant.dequantize %wq : tensor<2x2x3x!w> -> tensor<2x2x3xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x2x3xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x2x3xf32>) -> tensor<1x2x2x3xf32>
  %conv = linalg.depthwise_conv_2d_nhwc_hwc {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>}
      ins(%x, %w : tensor<1x3x3x3xf32>, tensor<2x2x3xf32>) outs(%fill : tensor<1x2x2x3xf32>) -> tensor<1x2x2x3xf32>
  %q = myquant.quantize %conv : tensor<1x2x2x3xf32> -> tensor<1x2x2x3x!y>
  return %q : tensor<1x2x2x3x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!w = !quant.uniform<i8<-127:127>:f32:0, {0.01, 0.02, 0.04}>
!b = !quant.uniform<i32:f32:0, {0.001, 0.002, 0.004}>
!y = !quant.uniform<i8:f32, 0.2:3>

// A linear layer: the N x K weight transposed, a matmul into a zero fill, then
// a bias add broadcast along N. The weight stays N x K with transpose_rhs.
// CHECK-LABEL: func.func @linear
// CHECK-SAME:    (%[[X:[^ :,()]+]]: tensor<2x4x!quant.uniform<i8:f32, 1.000000e-01:-4>>)
// CHECK-DAG:     %[[WC:[^ :,()]+]] = arith.constant dense<{{.*}}> : tensor<3x4xi8>
// CHECK-DAG:     %[[BC:[^ :,()]+]] = arith.constant dense<[7, -8, 9]> : tensor<3xi32>
// CHECK-DAG:     %[[W:[^ :,()]+]] = quant.scast %[[WC]] : tensor<3x4xi8> to tensor<3x4x!quant.uniform<i8<-127:127>:f32:0, {1.000000e-02,2.000000e-02,4.000000e-02}>>
// CHECK:         %[[Y:[^ :,()]+]] = myquant.matmul %[[X]], %[[W]], %[[BC]] {
// CHECK-SAME:      rescale = #myquant.rescale<multiplier = [1374389535, 1374389535, 1374389535], shift = [38, 37, 36], rounding = single>
// CHECK-SAME:      transpose_rhs
// CHECK-SAME:      (tensor<2x4x!quant.uniform<i8:f32, 1.000000e-01:-4>>, tensor<3x4x!quant.uniform<i8<-127:127>:f32:0, {{.*}}>>, tensor<3xi32>) -> tensor<2x3x!quant.uniform<i8:f32, 2.000000e-01:3>>
// CHECK-NEXT:    return %[[Y]]
func.func @linear(%arg: tensor<2x4x!x>) -> tensor<2x3x!y> {
  %x = myquant.dequantize %arg : tensor<2x4x!x> -> tensor<2x4xf32>
  %wc = arith.constant dense<[[1, 2, 3, 4], [-5, -6, -7, -8], [9, 10, 11, 127]]> : tensor<3x4xi8>
  %wq = quant.scast %wc : tensor<3x4xi8> to tensor<3x4x!w>
  %w = myquant.dequantize %wq : tensor<3x4x!w> -> tensor<3x4xf32>
  %bc = arith.constant dense<[7, -8, 9]> : tensor<3xi32>
  %bq = quant.scast %bc : tensor<3xi32> to tensor<3x!b>
  %b = myquant.dequantize %bq : tensor<3x!b> -> tensor<3xf32>
  %et = tensor.empty() : tensor<4x3xf32>
  %wt = linalg.transpose ins(%w : tensor<3x4xf32>) outs(%et : tensor<4x3xf32>) permutation = [1, 0]
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x3xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %mm = linalg.matmul ins(%x, %wt : tensor<2x4xf32>, tensor<4x3xf32>) outs(%fill : tensor<2x3xf32>) -> tensor<2x3xf32>
  %add = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                         iterator_types = ["parallel", "parallel"]}
      ins(%mm, %b : tensor<2x3xf32>, tensor<3xf32>) outs(%e : tensor<2x3xf32>) {
  ^bb0(%in: f32, %bias: f32, %out: f32):
    %s = arith.addf %in, %bias : f32
    linalg.yield %s : f32
  } -> tensor<2x3xf32>
  %q = myquant.quantize %add : tensor<2x3xf32> -> tensor<2x3x!y>
  return %q : tensor<2x3x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!z = !quant.uniform<i8:f32, 0.2:3>
!r = !quant.uniform<i8:f32, 0.05:-10>

// Add with a fused relu: twice_max = 0.4, operand rescales 0.25 and 0.5, sum
// rescale 0.4 / (2^20 * 0.05); the relu becomes the clamp attribute.
// CHECK-LABEL: func.func @add_relu
// CHECK-SAME:    (%[[A:[^ :,()]+]]: tensor<8x!quant.uniform<i8:f32, 1.000000e-01:-4>>, %[[B:[^ :,()]+]]: tensor<8x!quant.uniform<i8:f32, 2.000000e-01:3>>)
// CHECK-NEXT:    %[[Y:[^ :,()]+]] = myquant.add %[[A]], %[[B]] {
// CHECK-SAME:      clamp = #myquant.clamp<-10, 127>
// CHECK-SAME:      left_shift = 20 : i64
// CHECK-SAME:      lhs_rescale = #myquant.rescale<multiplier = [1073741824], shift = [32], rounding = single>
// CHECK-SAME:      rescale = #myquant.rescale<multiplier = [1073741824], shift = [47], rounding = single>
// CHECK-SAME:      rhs_rescale = #myquant.rescale<multiplier = [1073741824], shift = [31], rounding = single>
// CHECK-SAME:      -> tensor<8x!quant.uniform<i8:f32, 5.000000e-02:-10>>
// CHECK-NEXT:    return %[[Y]]
func.func @add_relu(%a: tensor<8x!x>, %b: tensor<8x!z>) -> tensor<8x!r> {
  %fa = myquant.dequantize %a : tensor<8x!x> -> tensor<8xf32>
  %fb = myquant.dequantize %b : tensor<8x!z> -> tensor<8xf32>
  %e = tensor.empty() : tensor<8xf32>
  %sum = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                         iterator_types = ["parallel"]}
      ins(%fa, %fb : tensor<8xf32>, tensor<8xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%l: f32, %r: f32, %out: f32):
    %s = arith.addf %l, %r : f32
    linalg.yield %s : f32
  } -> tensor<8xf32>
  %zero = arith.constant 0.0 : f32
  %relu = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%sum : tensor<8xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<8xf32>
  %q = myquant.quantize %relu : tensor<8xf32> -> tensor<8x!r>
  return %q : tensor<8x!r>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!z = !quant.uniform<i8:f32, 0.2:3>
!r = !quant.uniform<i8:f32, 0.05:-10>

// Mul: 0.1 * 0.2 / 0.05 = 0.4; no activation, no clamp.
// CHECK-LABEL: func.func @mul
// CHECK-NEXT:    %[[Y:[^ :,()]+]] = myquant.mul %{{.*}}, %{{.*}} {rescale = #myquant.rescale<multiplier = [1717986918], shift = [32], rounding = single>}
// CHECK-NOT:     clamp
// CHECK-NEXT:    return %[[Y]]
func.func @mul(%a: tensor<8x!x>, %b: tensor<8x!z>) -> tensor<8x!r> {
  %fa = myquant.dequantize %a : tensor<8x!x> -> tensor<8xf32>
  %fb = myquant.dequantize %b : tensor<8x!z> -> tensor<8xf32>
  %e = tensor.empty() : tensor<8xf32>
  %prod = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                          iterator_types = ["parallel"]}
      ins(%fa, %fb : tensor<8xf32>, tensor<8xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%l: f32, %r: f32, %out: f32):
    %p = arith.mulf %l, %r : f32
    linalg.yield %p : f32
  } -> tensor<8xf32>
  %q = myquant.quantize %prod : tensor<8xf32> -> tensor<8x!r>
  return %q : tensor<8x!r>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!y = !quant.uniform<i8:f32, 0.2:3>

// Max pooling keeps its input's parameters; padding by -inf is absorbed. When
// the quantize asks for the same type nothing else is needed; otherwise a
// requantize (0.1 / 0.2 -> (2^30, 31)) follows.
// CHECK-LABEL: func.func @max_pool
// CHECK-SAME:    (%[[X:[^ :,()]+]]: tensor<1x2x4x4x!quant.uniform<i8:f32, 1.000000e-01:-4>>)
// CHECK-NEXT:    %[[P:[^ :,()]+]] = myquant.max_pool2d %[[X]] {dilations = array<i64: 1, 1>, kernel = array<i64: 3, 3>, layout = #myquant.layout<nchw>, padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}
// CHECK-SAME:      : tensor<1x2x4x4x!quant.uniform<i8:f32, 1.000000e-01:-4>> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 1.000000e-01:-4>>
// CHECK-NEXT:    %[[P2:[^ :,()]+]] = myquant.max_pool2d %[[X]]
// CHECK-NEXT:    %[[R:[^ :,()]+]] = myquant.requantize %[[P2]] {rescale = #myquant.rescale<multiplier = [1073741824], shift = [31], rounding = single>}
// CHECK-SAME:      : tensor<1x2x2x2x!quant.uniform<i8:f32, 1.000000e-01:-4>> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 2.000000e-01:3>>
// CHECK-NEXT:    return %[[P]], %[[R]]
func.func @max_pool(%arg: tensor<1x2x4x4x!x>) -> (tensor<1x2x2x2x!x>, tensor<1x2x2x2x!y>) {
  %x = myquant.dequantize %arg : tensor<1x2x4x4x!x> -> tensor<1x2x4x4xf32>
  %ninf = arith.constant 0xFF800000 : f32
  %pad = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %ninf : f32
  } : tensor<1x2x4x4xf32> to tensor<1x2x6x6xf32>
  %e = tensor.empty() : tensor<1x2x2x2xf32>
  %fill = linalg.fill ins(%ninf : f32) outs(%e : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %win = tensor.empty() : tensor<3x3xf32>
  %mp = linalg.pooling_nchw_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>}
      ins(%pad, %win : tensor<1x2x6x6xf32>, tensor<3x3xf32>) outs(%fill : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %q = myquant.quantize %mp : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!x>
  %mp2 = linalg.pooling_nchw_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>}
      ins(%pad, %win : tensor<1x2x6x6xf32>, tensor<3x3xf32>) outs(%fill : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %q2 = myquant.quantize %mp2 : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!y>
  return %q, %q2 : tensor<1x2x2x2x!x>, tensor<1x2x2x2x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!y = !quant.uniform<i8:f32, 0.2:3>

// Average pooling is a sum pooling divided by the window size: one rescale
// 0.1 / (0.2 * 2 * 2) = 1/8 -> (2^30, 33). Zero padding makes it
// count_include_pad (3x3 window: (1908874354, 35)).
// CHECK-LABEL: func.func @avg_pool
// CHECK-SAME:    (%[[X:[^ :,()]+]]: tensor<1x4x4x2x!quant.uniform<i8:f32, 1.000000e-01:-4>>)
// CHECK-NEXT:    %[[A:[^ :,()]+]] = myquant.avg_pool2d %[[X]] {kernel = array<i64: 2, 2>, layout = #myquant.layout<nhwc>, padding = array<i64: 0, 0, 0, 0>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [33], rounding = single>, strides = array<i64: 2, 2>}
// CHECK-SAME:      : tensor<1x4x4x2x!quant.uniform<i8:f32, 1.000000e-01:-4>> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 2.000000e-01:3>>
// CHECK-NEXT:    %[[B:[^ :,()]+]] = myquant.avg_pool2d %[[X]] {count_include_pad, kernel = array<i64: 3, 3>, layout = #myquant.layout<nhwc>, padding = array<i64: 1, 1, 1, 1>, rescale = #myquant.rescale<multiplier = [1908874354], shift = [35], rounding = single>, strides = array<i64: 1, 1>}
// CHECK-NEXT:    return %[[A]], %[[B]]
func.func @avg_pool(%arg: tensor<1x4x4x2x!x>) -> (tensor<1x2x2x2x!y>, tensor<1x4x4x2x!y>) {
  %x = myquant.dequantize %arg : tensor<1x4x4x2x!x> -> tensor<1x4x4x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x2x2xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %win = tensor.empty() : tensor<2x2xf32>
  %sum = linalg.pooling_nhwc_sum {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>}
      ins(%x, %win : tensor<1x4x4x2xf32>, tensor<2x2xf32>) outs(%fill : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %four = arith.constant 4.0 : f32
  %avg = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>],
                         iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%sum : tensor<1x2x2x2xf32>) outs(%e : tensor<1x2x2x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %d = arith.divf %in, %four : f32
    linalg.yield %d : f32
  } -> tensor<1x2x2x2xf32>
  %q = myquant.quantize %avg : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!y>

  %pad = tensor.pad %x low[0, 1, 1, 0] high[0, 1, 1, 0] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x4x4x2xf32> to tensor<1x6x6x2xf32>
  %e3 = tensor.empty() : tensor<1x4x4x2xf32>
  %fill3 = linalg.fill ins(%zero : f32) outs(%e3 : tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32>
  %win3 = tensor.empty() : tensor<3x3xf32>
  %sum3 = linalg.pooling_nhwc_sum {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>}
      ins(%pad, %win3 : tensor<1x6x6x2xf32>, tensor<3x3xf32>) outs(%fill3 : tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32>
  %nine = arith.constant 9.0 : f32
  %avg3 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>],
                          iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%sum3 : tensor<1x4x4x2xf32>) outs(%e3 : tensor<1x4x4x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %d = arith.divf %in, %nine : f32
    linalg.yield %d : f32
  } -> tensor<1x4x4x2xf32>
  %q3 = myquant.quantize %avg3 : tensor<1x4x4x2xf32> -> tensor<1x4x4x2x!y>
  return %q, %q3 : tensor<1x2x2x2x!y>, tensor<1x4x4x2x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!y = !quant.uniform<i8:f32, 0.2:3>

// Concatenation moves integers: the operand with another type is requantized
// first (0.2 / 0.1 = 2 -> (2^30, 29)); the one with the result's type is not.
// CHECK-LABEL: func.func @concat
// CHECK-SAME:    (%[[A:[^ :,()]+]]: tensor<1x2x!quant.uniform<i8:f32, 1.000000e-01:-4>>, %[[B:[^ :,()]+]]: tensor<1x3x!quant.uniform<i8:f32, 2.000000e-01:3>>)
// CHECK-NEXT:    %[[R:[^ :,()]+]] = myquant.requantize %[[B]] {rescale = #myquant.rescale<multiplier = [1073741824], shift = [29], rounding = single>}
// CHECK-SAME:      : tensor<1x3x!quant.uniform<i8:f32, 2.000000e-01:3>> -> tensor<1x3x!quant.uniform<i8:f32, 1.000000e-01:-4>>
// CHECK-NEXT:    %[[C:[^ :,()]+]] = myquant.concat %[[A]], %[[R]] {dim = 1 : i64}
// CHECK-SAME:      -> tensor<1x5x!quant.uniform<i8:f32, 1.000000e-01:-4>>
// CHECK-NEXT:    return %[[C]]
func.func @concat(%a: tensor<1x2x!x>, %b: tensor<1x3x!y>) -> tensor<1x5x!x> {
  %fa = myquant.dequantize %a : tensor<1x2x!x> -> tensor<1x2xf32>
  %fb = myquant.dequantize %b : tensor<1x3x!y> -> tensor<1x3xf32>
  %c = tensor.concat dim(1) %fa, %fb : (tensor<1x2xf32>, tensor<1x3xf32>) -> tensor<1x5xf32>
  %q = myquant.quantize %c : tensor<1x5xf32> -> tensor<1x5x!x>
  return %q : tensor<1x5x!x>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!y = !quant.uniform<i8:f32, 0.2:3>

// Reshapes move quantized values as they are; a different result type adds a
// requantize.
// CHECK-LABEL: func.func @collapse_shape
// CHECK-SAME:    (%[[X:[^ :,()]+]]: tensor<1x2x2x2x!quant.uniform<i8:f32, 1.000000e-01:-4>>)
// CHECK-NEXT:    %[[C:[^ :,()]+]] = tensor.collapse_shape %[[X]] {{\[\[}}0], [1, 2, 3]] : tensor<1x2x2x2x!quant.uniform<i8:f32, 1.000000e-01:-4>> into tensor<1x8x!quant.uniform<i8:f32, 1.000000e-01:-4>>
// CHECK-NEXT:    %[[C2:[^ :,()]+]] = tensor.collapse_shape %[[X]] {{\[\[}}0], [1, 2, 3]] : tensor<1x2x2x2x!quant.uniform<i8:f32, 1.000000e-01:-4>> into tensor<1x8x!quant.uniform<i8:f32, 1.000000e-01:-4>>
// CHECK-NEXT:    %[[R:[^ :,()]+]] = myquant.requantize %[[C2]] {rescale = #myquant.rescale<multiplier = [1073741824], shift = [31], rounding = single>}
// CHECK-SAME:      -> tensor<1x8x!quant.uniform<i8:f32, 2.000000e-01:3>>
// CHECK-NEXT:    return %[[C]], %[[R]]
func.func @collapse_shape(%arg: tensor<1x2x2x2x!x>) -> (tensor<1x8x!x>, tensor<1x8x!y>) {
  %x = myquant.dequantize %arg : tensor<1x2x2x2x!x> -> tensor<1x2x2x2xf32>
  %c = tensor.collapse_shape %x [[0], [1, 2, 3]] : tensor<1x2x2x2xf32> into tensor<1x8xf32>
  %q = myquant.quantize %c : tensor<1x8xf32> -> tensor<1x8x!x>
  %c2 = tensor.collapse_shape %x [[0], [1, 2, 3]] : tensor<1x2x2x2xf32> into tensor<1x8xf32>
  %q2 = myquant.quantize %c2 : tensor<1x8xf32> -> tensor<1x8x!y>
  return %q, %q2 : tensor<1x8x!x>, tensor<1x8x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!r = !quant.uniform<i8:f32, 0.05:-10>

// A relu that has nothing to fuse into (its input is the quantized output of
// a pooling): with the same type a myquant.clamp<zp, 127>; with another type a
// requantize (0.1 / 0.05 = 2 -> (2^30, 29)) carrying the clamp.
// CHECK-LABEL: func.func @relu_after_pool
// CHECK-SAME:    (%[[X:[^ :,()]+]]: tensor<1x2x4x4x!quant.uniform<i8:f32, 1.000000e-01:-4>>)
// CHECK-NEXT:    %[[P:[^ :,()]+]] = myquant.max_pool2d %[[X]]
// CHECK-NEXT:    %[[C:[^ :,()]+]] = myquant.clamp %[[P]] <-4, 127> : tensor<1x2x2x2x!quant.uniform<i8:f32, 1.000000e-01:-4>>
// CHECK-NEXT:    %[[R:[^ :,()]+]] = myquant.requantize %[[P]] {clamp = #myquant.clamp<-10, 127>, rescale = #myquant.rescale<multiplier = [1073741824], shift = [29], rounding = single>}
// CHECK-SAME:      : tensor<1x2x2x2x!quant.uniform<i8:f32, 1.000000e-01:-4>> -> tensor<1x2x2x2x!quant.uniform<i8:f32, 5.000000e-02:-10>>
// CHECK-NEXT:    return %[[C]], %[[R]]
func.func @relu_after_pool(%arg: tensor<1x2x4x4x!x>) -> (tensor<1x2x2x2x!x>, tensor<1x2x2x2x!r>) {
  %x = myquant.dequantize %arg : tensor<1x2x4x4x!x> -> tensor<1x2x4x4xf32>
  %ninf = arith.constant 0xFF800000 : f32
  %e = tensor.empty() : tensor<1x2x2x2xf32>
  %fill = linalg.fill ins(%ninf : f32) outs(%e : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %win = tensor.empty() : tensor<2x2xf32>
  %mp = linalg.pooling_nchw_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>}
      ins(%x, %win : tensor<1x2x4x4xf32>, tensor<2x2xf32>) outs(%fill : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %pq = myquant.quantize %mp : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!x>
  %pd = myquant.dequantize %pq : tensor<1x2x2x2x!x> -> tensor<1x2x2x2xf32>
  %zero = arith.constant 0.0 : f32
  %relu = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>],
                          iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%pd : tensor<1x2x2x2xf32>) outs(%e : tensor<1x2x2x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x2x2x2xf32>
  %q = myquant.quantize %relu : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!x>
  %relu2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>],
                           iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%pd : tensor<1x2x2x2xf32>) outs(%e : tensor<1x2x2x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x2x2x2xf32>
  %q2 = myquant.quantize %relu2 : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!r>
  return %q, %q2 : tensor<1x2x2x2x!x>, tensor<1x2x2x2x!r>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!y = !quant.uniform<i8:f32, 0.3:5>

// quantize(dequantize(x)): the identity when the types agree, otherwise a
// requantize with 0.1 / 0.3 -> (1431655765, 32).
// CHECK-LABEL: func.func @quantize_of_dequantize
// CHECK-SAME:    (%[[X:[^ :,()]+]]: tensor<4x!quant.uniform<i8:f32, 1.000000e-01:-4>>)
// CHECK-NEXT:    %[[R:[^ :,()]+]] = myquant.requantize %[[X]] {rescale = #myquant.rescale<multiplier = [1431655765], shift = [32], rounding = single>}
// CHECK-SAME:      : tensor<4x!quant.uniform<i8:f32, 1.000000e-01:-4>> -> tensor<4x!quant.uniform<i8:f32, 3.000000e-01:5>>
// CHECK-NEXT:    return %[[X]], %[[R]]
// GEMMLOWP-LABEL: func.func @quantize_of_dequantize
// GEMMLOWP-NEXT:    myquant.requantize %{{.*}} {rescale = #myquant.rescale<multiplier = [1431655765], shift = [32], rounding = gemmlowp>}
func.func @quantize_of_dequantize(%arg: tensor<4x!x>) -> (tensor<4x!x>, tensor<4x!y>) {
  %d = myquant.dequantize %arg : tensor<4x!x> -> tensor<4xf32>
  %same = myquant.quantize %d : tensor<4xf32> -> tensor<4x!x>
  %other = myquant.quantize %d : tensor<4xf32> -> tensor<4x!y>
  return %same, %other : tensor<4x!x>, tensor<4x!y>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>

// Not in QDQ form: the add has a float operand that is no dequantize, and the
// second add's result is returned as float. Both stay float, and so do the
// quantize and dequantize around them.
// CHECK-LABEL: func.func @not_qdq
// CHECK-SAME:    (%[[F:[^ :,()]+]]: tensor<4xf32>, %[[X:[^ :,()]+]]: tensor<4x!quant.uniform<i8:f32, 1.000000e-01:-4>>)
// CHECK:         %[[D:[^ :,()]+]] = myquant.dequantize %[[X]]
// CHECK:         %[[S:[^ :,()]+]] = linalg.generic {{.*}} ins(%[[F]], %[[D]] : tensor<4xf32>, tensor<4xf32>)
// CHECK:           arith.addf
// CHECK:         %[[Q:[^ :,()]+]] = myquant.quantize %[[S]]
// CHECK:         %[[S2:[^ :,()]+]] = linalg.generic {{.*}} ins(%[[D]], %[[D]] : tensor<4xf32>, tensor<4xf32>)
// CHECK:           arith.addf
// CHECK:         return %[[Q]], %[[S2]]
// CHECK-NOT:     myquant.add
func.func @not_qdq(%f: tensor<4xf32>, %arg: tensor<4x!x>) -> (tensor<4x!x>, tensor<4xf32>) {
  %d = myquant.dequantize %arg : tensor<4x!x> -> tensor<4xf32>
  %e = tensor.empty() : tensor<4xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                       iterator_types = ["parallel"]}
      ins(%f, %d : tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<4xf32>) {
  ^bb0(%l: f32, %r: f32, %out: f32):
    %a = arith.addf %l, %r : f32
    linalg.yield %a : f32
  } -> tensor<4xf32>
  %q = myquant.quantize %s : tensor<4xf32> -> tensor<4x!x>
  %s2 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                        iterator_types = ["parallel"]}
      ins(%d, %d : tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<4xf32>) {
  ^bb0(%l: f32, %r: f32, %out: f32):
    %a = arith.addf %l, %r : f32
    linalg.yield %a : f32
  } -> tensor<4xf32>
  return %q, %s2 : tensor<4x!x>, tensor<4xf32>
}

// -----

!x = !quant.uniform<i8:f32, 0.1:-4>
!y = !quant.uniform<i8:f32, 0.2:3>
// myquant.avg_pool2d has no dilations: a dilated sum pooling stays float.
// CHECK-LABEL: func.func @dilated_sum_pool
// CHECK-NOT:     myquant.avg_pool2d
// CHECK:         linalg.pooling_nhwc_sum {dilations = dense<2> : vector<2xi64>
// CHECK-NOT:     myquant.avg_pool2d
func.func @dilated_sum_pool(%arg: tensor<1x4x4x2x!x>) -> tensor<1x2x2x2x!y> {
  %x = myquant.dequantize %arg : tensor<1x4x4x2x!x> -> tensor<1x4x4x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x2x2xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %win = tensor.empty() : tensor<2x2xf32>
  %sum = linalg.pooling_nhwc_sum {dilations = dense<2> : vector<2xi64>, strides = dense<1> : vector<2xi64>}
      ins(%x, %win : tensor<1x4x4x2xf32>, tensor<2x2xf32>) outs(%fill : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %four = arith.constant 4.0 : f32
  %avg = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>],
                         iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%sum : tensor<1x2x2x2xf32>) outs(%e : tensor<1x2x2x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %d = arith.divf %in, %four : f32
    linalg.yield %d : f32
  } -> tensor<1x2x2x2xf32>
  %q = myquant.quantize %avg : tensor<1x2x2x2xf32> -> tensor<1x2x2x2x!y>
  return %q : tensor<1x2x2x2x!y>
}
