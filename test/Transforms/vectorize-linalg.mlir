// RUN: myquant-opt %s --split-input-file --myquant-vectorize-linalg | FileCheck %s
// RUN: myquant-opt %s --split-input-file --myquant-vectorize-linalg=vector-bits=256 | FileCheck %s --check-prefix=YMM

// A block of 8 x 32 results stays in registers over the whole reduction;
// each step is 8 broadcast-FMAs on two vectors' worth of columns.
// CHECK-LABEL: func.func @matmul(
// CHECK-NOT:     linalg.
// CHECK:         scf.for %{{.*}} step %c8
// CHECK:           scf.for %{{.*}} step %c32
// CHECK:             %[[ACC:.*]] = vector.transfer_read {{.*}} : tensor<8x32xf32>, vector<8x32xf32>
// CHECK:             %[[SUM:.*]] = scf.for {{.*}} iter_args(%{{.*}} = %[[ACC]]) -> (vector<8x32xf32>)
// CHECK-COUNT-8:       vector.fma {{.*}} : vector<32xf32>
// CHECK:             vector.transfer_write %[[SUM]]
// YMM-LABEL: func.func @matmul(
// YMM:         vector.fma {{.*}} : vector<16xf32>
func.func @matmul(%a: tensor<16x64xf32>, %b: tensor<64x64xf32>, %c: tensor<16x64xf32>) -> tensor<16x64xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<16x64xf32>, tensor<64x64xf32>) outs(%c : tensor<16x64xf32>) -> tensor<16x64xf32>
  return %r : tensor<16x64xf32>
}

// -----

// The window loops become plain loads: 16 output pixels of a row times 8
// output channels, accumulated over input channels and the 3 x 3 window.
// CHECK-LABEL: func.func @conv_nchw(
// CHECK-NOT:     linalg.
// CHECK:         %[[ACC:.*]] = vector.transfer_read {{.*}} : tensor<8x16xf32>, vector<8x16xf32>
// CHECK:         %[[SUM:.*]] = scf.for {{.*}} iter_args(%{{.*}} = %[[ACC]]) -> (vector<8x16xf32>)
// CHECK:           scf.for {{.*}} -> (vector<8x16xf32>)
// CHECK:             scf.for {{.*}} -> (vector<8x16xf32>)
// CHECK:               vector.transfer_read {{.*}} : tensor<1x16xf32>, vector<1x16xf32>
// CHECK:               vector.transfer_read {{.*}} : tensor<8x1xf32>, vector<8x1xf32>
// CHECK-COUNT-8:       vector.fma {{.*}} : vector<16xf32>
// CHECK:         vector.transfer_write %[[SUM]], {{.*}} : vector<8x16xf32>, tensor<8x16xf32>
func.func @conv_nchw(%x: tensor<1x8x18x18xf32>, %w: tensor<16x8x3x3xf32>, %o: tensor<1x16x16x16xf32>) -> tensor<1x16x16x16xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x8x18x18xf32>, tensor<16x8x3x3xf32>) outs(%o : tensor<1x16x16x16xf32>) -> tensor<1x16x16x16xf32>
  return %r : tensor<1x16x16x16xf32>
}

// -----

// CHECK-LABEL: func.func @relu(
// CHECK-NOT:     linalg.
// CHECK:         scf.for
// CHECK:           scf.for
// CHECK:             scf.for {{.*}} step %c32
// CHECK:               %[[X:.*]] = vector.transfer_read {{.*}} : tensor<1x32xf32>, vector<1x32xf32>
// CHECK:               %[[R:.*]] = arith.maximumf %[[X]], %{{.*}} : vector<1x32xf32>
// CHECK:               vector.transfer_write %[[R]]
// YMM-LABEL: func.func @relu(
// YMM:         arith.maximumf {{.*}} : vector<1x16xf32>
func.func @relu(%x: tensor<2x4x64xf32>) -> tensor<2x4x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x4x64xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x : tensor<2x4x64xf32>) outs(%e : tensor<2x4x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<2x4x64xf32>
  return %r : tensor<2x4x64xf32>
}

// -----

// A strided float convolution cannot read rows of the input: its vector runs
// along the output channels (weights gathered), still one FMA per channel
// vector.
// CHECK-LABEL: func.func @conv_nchw_stride2(
// CHECK-NOT:     linalg.
// CHECK:         scf.for {{.*}} -> (vector<32xf32>)
// CHECK:           vector.transfer_read {{.*}} : tensor<32x1xf32>, vector<32x1xf32>
// CHECK:           vector.fma {{.*}} : vector<32xf32>
func.func @conv_nchw_stride2(%x: tensor<1x8x17x17xf32>, %w: tensor<32x8x3x3xf32>, %o: tensor<1x32x8x8xf32>) -> tensor<1x32x8x8xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%x, %w : tensor<1x8x17x17xf32>, tensor<32x8x3x3xf32>) outs(%o : tensor<1x32x8x8xf32>) -> tensor<1x32x8x8xf32>
  return %r : tensor<1x32x8x8xf32>
}

// -----

// A strided window would be read element by element (or, along the
// channels, gathered): the pool is left as it is.
// CHECK-LABEL: func.func @max_pool_stride2(
// CHECK-NOT:     vector.
// CHECK:         linalg.pooling_nchw_max
// CHECK-NOT:     vector.
func.func @max_pool_stride2(%x: tensor<1x16x8x8xf32>, %o: tensor<1x16x4x4xf32>) -> tensor<1x16x4x4xf32> {
  %k = tensor.empty() : tensor<2x2xf32>
  %r = linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%x, %k : tensor<1x16x8x8xf32>, tensor<2x2xf32>) outs(%o : tensor<1x16x4x4xf32>) -> tensor<1x16x4x4xf32>
  return %r : tensor<1x16x4x4xf32>
}

// -----

// Integer code keeps its operations, element for element; the vector length
// follows the widest type (i64: 2 x 8 lanes).
// CHECK-LABEL: func.func @requantize(
// CHECK-NOT:     linalg.
// CHECK:         arith.extsi {{.*}} : vector<1x16xi32> to vector<1x16xi64>
// CHECK:         arith.muli {{.*}} : vector<1x16xi64>
// CHECK:         arith.shrsi {{.*}} : vector<1x16xi64>
// CHECK:         arith.trunci {{.*}} : vector<1x16xi64> to vector<1x16xi8>
// YMM-LABEL: func.func @requantize(
// YMM:         arith.muli {{.*}} : vector<1x8xi64>
func.func @requantize(%x: tensor<4x48xi32>) -> tensor<4x48xi8> {
  %m = arith.constant 1518500250 : i64
  %s = arith.constant 38 : i64
  %e = tensor.empty() : tensor<4x48xi8>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x48xi32>) outs(%e : tensor<4x48xi8>) {
  ^bb0(%in: i32, %out: i8):
    %w = arith.extsi %in : i32 to i64
    %p = arith.muli %w, %m : i64
    %q = arith.shrsi %p, %s : i64
    %t = arith.trunci %q : i64 to i8
    linalg.yield %t : i8
  } -> tensor<4x48xi8>
  return %r : tensor<4x48xi8>
}

// -----

// Integer convolutions have no FMA: the multiply-accumulate stays
// element-wise, on 8 output channels x 32 pixels of i32.
// CHECK-LABEL: func.func @conv_i8(
// CHECK-NOT:     linalg.
// CHECK-NOT:     vector.contract
// CHECK:         scf.for {{.*}} -> (vector<8x32xi32>)
// CHECK:           arith.extsi {{.*}} : vector<8x32xi8> to vector<8x32xi32>
// CHECK:           arith.muli {{.*}} : vector<8x32xi32>
// CHECK:           arith.addi {{.*}} : vector<8x32xi32>
func.func @conv_i8(%x: tensor<1x4x34x34xi8>, %w: tensor<8x4x3x3xi8>, %o: tensor<1x8x32x32xi32>) -> tensor<1x8x32x32xi32> {
  %r = linalg.generic {indexing_maps = [affine_map<(n, f, h, w, c, kh, kw) -> (n, c, h + kh, w + kw)>, affine_map<(n, f, h, w, c, kh, kw) -> (f, c, kh, kw)>, affine_map<(n, f, h, w, c, kh, kw) -> (n, f, h, w)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%x, %w : tensor<1x4x34x34xi8>, tensor<8x4x3x3xi8>) outs(%o : tensor<1x8x32x32xi32>) {
  ^bb0(%a: i8, %b: i8, %acc: i32):
    %ea = arith.extsi %a : i8 to i32
    %eb = arith.extsi %b : i8 to i32
    %p = arith.muli %ea, %eb : i32
    %s = arith.addi %acc, %p : i32
    linalg.yield %s : i32
  } -> tensor<1x8x32x32xi32>
  return %r : tensor<1x8x32x32xi32>
}

// -----

// Dynamic shapes stay as they are (and become loops later).
// CHECK-LABEL: func.func @dynamic(
// CHECK-NOT:     vector.
// CHECK:         linalg.matmul
// CHECK-NOT:     vector.
func.func @dynamic(%a: tensor<?x?xf32>, %b: tensor<?x?xf32>, %c: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<?x?xf32>, tensor<?x?xf32>) outs(%c : tensor<?x?xf32>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

// -----

// Vector code that is already there (the VNNI kernels' dot products) is
// not lowered.
// CHECK-LABEL: func.func @existing_vector_code(
// CHECK:         vector.multi_reduction <add>, %{{.*}}, %{{.*}} [1] : vector<16x4xi32> to vector<16xi32>
func.func @existing_vector_code(%acc: vector<16xi32>, %a: vector<64xi8>, %w: vector<64xi8>) -> vector<16xi32> {
  %ua = arith.extui %a : vector<64xi8> to vector<64xi32>
  %sw = arith.extsi %w : vector<64xi8> to vector<64xi32>
  %p = arith.muli %sw, %ua : vector<64xi32>
  %g = vector.shape_cast %p : vector<64xi32> to vector<16x4xi32>
  %r = vector.multi_reduction <add>, %g, %acc [1] : vector<16x4xi32> to vector<16xi32>
  return %r : vector<16xi32>
}

// -----

// CHECK-LABEL: func.func @existing_vector_code_beside_linalg(
// CHECK:         vector.multi_reduction <add>, %{{.*}}, %{{.*}} [1] : vector<16x4xi32> to vector<16xi32>
// CHECK:         scf.for {{.*}} step %c32
// CHECK:           arith.negf {{.*}} : vector<32xf32>
func.func @existing_vector_code_beside_linalg(%acc: vector<16xi32>, %a: vector<64xi8>, %w: vector<64xi8>, %x: tensor<64xf32>) -> (vector<16xi32>, tensor<64xf32>) {
  %ua = arith.extui %a : vector<64xi8> to vector<64xi32>
  %sw = arith.extsi %w : vector<64xi8> to vector<64xi32>
  %p = arith.muli %sw, %ua : vector<64xi32>
  %g = vector.shape_cast %p : vector<64xi32> to vector<16x4xi32>
  %r = vector.multi_reduction <add>, %g, %acc [1] : vector<16x4xi32> to vector<16xi32>
  %e = tensor.empty() : tensor<64xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%x : tensor<64xf32>) outs(%e : tensor<64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.negf %in : f32
    linalg.yield %n : f32
  } -> tensor<64xf32>
  return %r, %y : vector<16xi32>, tensor<64xf32>
}

// -----

// A 7 x 7 image is too short a row for a vector: the convolution runs along
// its 32 output channels instead, one broadcast input times a gathered
// column of weights per step.
// CHECK-LABEL: func.func @conv_short_rows(
// CHECK-NOT:     linalg.conv
// CHECK:         %[[ACC:.*]] = vector.transfer_read {{.*}} : tensor<32xf32>, vector<32xf32>
// CHECK:         scf.for {{.*}} iter_args(%{{.*}} = %[[ACC]]) -> (vector<32xf32>)
// CHECK:           vector.fma {{.*}} : vector<32xf32>
func.func @conv_short_rows(%x: tensor<1x16x9x9xf32>, %w: tensor<32x16x3x3xf32>) -> tensor<1x32x7x7xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x32x7x7xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<1x32x7x7xf32>) -> tensor<1x32x7x7xf32>
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x16x9x9xf32>, tensor<32x16x3x3xf32>) outs(%acc : tensor<1x32x7x7xf32>) -> tensor<1x32x7x7xf32>
  return %y : tensor<1x32x7x7xf32>
}
