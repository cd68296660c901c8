// torch-mlir's own decompositions, as its TorchToLinalg writes them, become
// the ops the dry run quantizes.
//
// aten.softmax: torch-mlir's DecomposeComplexOps writes
// exp(x - max.dim(x, keepdim)) / sum.dim_IntList(..., keepdim); max.dim
// lowers to one generic computing the maxima and their indices (i64, from
// linalg.index) without the reduced dimension, then a tensor.expand_shape
// adds it back; sum keeps it with a (d0, d1, 0) map; the subtraction
// multiplies by alpha = sitofp(1 : i64) in its body. myquant-normalize
// drops the unused indices, folds the scalar constants, and recognizes
// linalg.softmax, which the dry run makes myquant.softmax.

// RUN: myquant-opt %s -split-input-file --myquant-normalize | FileCheck %s --check-prefix=NORM
// RUN: myquant-opt %s -split-input-file "--myquant-ptq=allow-float=false" | FileCheck %s

// NORM-LABEL: func.func @torch_softmax
// NORM-SAME:    (%[[X:.+]]: tensor<2x3x8xf32>)
// NORM:         %[[XS:.+]] = myquant.stats %[[X]]
// NORM:         %[[S:.+]] = linalg.softmax dimension(2) ins(%[[XS]] : tensor<2x3x8xf32>)
// NORM-NOT:     linalg.generic
// NORM-NOT:     tensor.expand_shape
// CHECK-LABEL: func.func @torch_softmax
// CHECK:         myquant.quantize
// CHECK-NEXT:    myquant.softmax
// CHECK-NEXT:    myquant.dequantize
// CHECK-NEXT:    return
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#red = affine_map<(d0, d1, d2) -> (d0, d1)>
#row = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
func.func @torch_softmax(%x: tensor<2x3x8xf32>) -> tensor<2x3x8xf32> {
  %xs = myquant.stats %x {min = array<f64: -4.0>, max = array<f64: 4.0>} : tensor<2x3x8xf32>
  %c0_i64 = arith.constant 0 : i64
  %c1_i64 = arith.constant 1 : i64
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.000000e+00 : f32
  %0 = tensor.empty() : tensor<2x3xi64>
  %1 = linalg.fill ins(%c0_i64 : i64) outs(%0 : tensor<2x3xi64>) -> tensor<2x3xi64>
  %2 = tensor.empty() : tensor<2x3xf32>
  %3 = linalg.fill ins(%ninf : f32) outs(%2 : tensor<2x3xf32>) -> tensor<2x3xf32>
  %4:2 = linalg.generic {indexing_maps = [#id, #red, #red], iterator_types = ["parallel", "parallel", "reduction"]} ins(%xs : tensor<2x3x8xf32>) outs(%3, %1 : tensor<2x3xf32>, tensor<2x3xi64>) {
  ^bb0(%in: f32, %out: f32, %out_0: i64):
    %i = linalg.index 2 : index
    %ic = arith.index_cast %i : index to i64
    %m = arith.maximumf %in, %out : f32
    %gt = arith.cmpf ogt, %in, %out : f32
    %sel = arith.select %gt, %ic, %out_0 : i64
    linalg.yield %m, %sel : f32, i64
  } -> (tensor<2x3xf32>, tensor<2x3xi64>)
  %max = tensor.expand_shape %4#0 [[0], [1, 2]] output_shape [2, 3, 1] : tensor<2x3xf32> into tensor<2x3x1xf32>
  %5 = tensor.empty() : tensor<2x3x8xf32>
  %sub = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%xs, %max : tensor<2x3x8xf32>, tensor<2x3x1xf32>) outs(%5 : tensor<2x3x8xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %alpha = arith.sitofp %c1_i64 : i64 to f32
    %s = arith.mulf %in_1, %alpha : f32
    %d = arith.subf %in, %s : f32
    linalg.yield %d : f32
  } -> tensor<2x3x8xf32>
  %exp = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%sub : tensor<2x3x8xf32>) outs(%5 : tensor<2x3x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %e = math.exp %in : f32
    linalg.yield %e : f32
  } -> tensor<2x3x8xf32>
  %6 = tensor.empty() : tensor<2x3x1xf32>
  %7 = linalg.fill ins(%zero : f32) outs(%6 : tensor<2x3x1xf32>) -> tensor<2x3x1xf32>
  %sum = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "reduction"]} ins(%exp : tensor<2x3x8xf32>) outs(%7 : tensor<2x3x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %a = arith.addf %in, %out : f32
    linalg.yield %a : f32
  } -> tensor<2x3x1xf32>
  %div = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%exp, %sum : tensor<2x3x8xf32>, tensor<2x3x1xf32>) outs(%5 : tensor<2x3x8xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %q = arith.divf %in, %in_1 : f32
    linalg.yield %q : f32
  } -> tensor<2x3x8xf32>
  %ds = myquant.stats %div {min = array<f64: 0.0>, max = array<f64: 1.0>} : tensor<2x3x8xf32>
  return %ds : tensor<2x3x8xf32>
}

// -----

// linalg.softmax over the last dimension, as torch-mlir writes aten.softmax
// when its decomposition is off.
// NORM-LABEL: func.func @linalg_softmax
// NORM:         linalg.softmax dimension(1)
// CHECK-LABEL: func.func @linalg_softmax
// CHECK:         myquant.quantize
// CHECK-NEXT:    myquant.softmax
// CHECK-NEXT:    myquant.dequantize
// CHECK-NEXT:    return
func.func @linalg_softmax(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %xs = myquant.stats %x {min = array<f64: -4.0>, max = array<f64: 4.0>} : tensor<2x8xf32>
  %e = tensor.empty() : tensor<2x8xf32>
  %s = linalg.softmax dimension(1) ins(%xs : tensor<2x8xf32>) outs(%e : tensor<2x8xf32>) -> tensor<2x8xf32>
  %ss = myquant.stats %s {min = array<f64: 0.0>, max = array<f64: 1.0>} : tensor<2x8xf32>
  return %ss : tensor<2x8xf32>
}

// -----

// aten.layer_norm: torch-mlir's DecomposeComplexOps writes
// native_layer_norm as mean.dim (sum.dim_IntList keepdim / n), broadcast_to,
// sub, mul, the same mean of the squares, add eps (an f64 truncated in the
// body), rsqrt, broadcast_to, mul, mul by the weight, add of the bias;
// TorchToLinalg writes each as its own generic, broadcast_to as a copy of
// the row with its unit dimension collapsed away. myquant-normalize
// rewrites it into the exporter's form (centering, sum of squares, one
// affine generic with eps as f32), which the dry run makes
// myquant.layer_norm.
// NORM-LABEL: func.func @torch_layer_norm
// NORM:         %[[SUM:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
// NORM:         %[[C:.+]] = linalg.generic {{.*}} ins(%{{.*}}, %[[SUM]] : tensor<2x3x8xf32>, tensor<2x3x1xf32>)
// NORM:         %[[Q:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[C]] : tensor<2x3x8xf32>)
// NORM:         linalg.generic {{.*}} ins(%[[C]], %[[Q]], %{{.*}}, %{{.*}} : tensor<2x3x8xf32>, tensor<2x3x1xf32>, tensor<8xf32>, tensor<8xf32>)
// NORM:           arith.constant 9.99999974E-6 : f32
// NORM:           math.sqrt
// NORM-NOT:     math.rsqrt
// CHECK-LABEL: func.func @torch_layer_norm
// CHECK:         myquant.quantize
// CHECK-NEXT:    myquant.layer_norm
// CHECK-SAME:      gamma = array<i64: 15387, 7693, -11540, 30773, 19233, 3847, -23080, 13463>
// CHECK-NEXT:    myquant.dequantize
// CHECK-NEXT:    return
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#keep = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
#row = affine_map<(d0, d1, d2) -> (d0, d1)>
#ch = affine_map<(d0, d1, d2) -> (d2)>
func.func @torch_layer_norm(%x: tensor<2x3x8xf32>) -> tensor<2x3x8xf32> {
  %xs = myquant.stats %x {min = array<f64: -4.0>, max = array<f64: 4.0>} : tensor<2x3x8xf32>
  %c1_i64 = arith.constant 1 : i64
  %c8_i64 = arith.constant 8 : i64
  %eps = arith.constant 1.000000e-05 : f64
  %zero = arith.constant 0.000000e+00 : f32
  %gamma = arith.constant dense<[1.0, 0.5, -0.75, 2.0, 1.25, 0.25, -1.5, 0.875]> : tensor<8xf32>
  %beta = arith.constant dense<[0.1, -0.2, 0.3, 0.0, 0.5, -0.5, 0.25, 0.125]> : tensor<8xf32>
  %e1 = tensor.empty() : tensor<2x3x1xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<2x3x1xf32>) -> tensor<2x3x1xf32>
  %sum = linalg.generic {indexing_maps = [#id, #keep], iterator_types = ["parallel", "parallel", "reduction"]} ins(%xs : tensor<2x3x8xf32>) outs(%f1 : tensor<2x3x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %a = arith.addf %in, %out : f32
    linalg.yield %a : f32
  } -> tensor<2x3x1xf32>
  %mean = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%sum : tensor<2x3x1xf32>) outs(%e1 : tensor<2x3x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.sitofp %c8_i64 : i64 to f32
    %q = arith.divf %in, %n : f32
    linalg.yield %q : f32
  } -> tensor<2x3x1xf32>
  %mc = tensor.collapse_shape %mean [[0], [1, 2]] : tensor<2x3x1xf32> into tensor<2x3xf32>
  %e = tensor.empty() : tensor<2x3x8xf32>
  %mb = linalg.generic {indexing_maps = [#row, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%mc : tensor<2x3xf32>) outs(%e : tensor<2x3x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<2x3x8xf32>
  %d = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%xs, %mb : tensor<2x3x8xf32>, tensor<2x3x8xf32>) outs(%e : tensor<2x3x8xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %alpha = arith.sitofp %c1_i64 : i64 to f32
    %s = arith.mulf %in_1, %alpha : f32
    %r = arith.subf %in, %s : f32
    linalg.yield %r : f32
  } -> tensor<2x3x8xf32>
  %sq = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%d, %d : tensor<2x3x8xf32>, tensor<2x3x8xf32>) outs(%e : tensor<2x3x8xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %m = arith.mulf %in, %in_1 : f32
    linalg.yield %m : f32
  } -> tensor<2x3x8xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<2x3x1xf32>) -> tensor<2x3x1xf32>
  %sum2 = linalg.generic {indexing_maps = [#id, #keep], iterator_types = ["parallel", "parallel", "reduction"]} ins(%sq : tensor<2x3x8xf32>) outs(%f2 : tensor<2x3x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %a = arith.addf %in, %out : f32
    linalg.yield %a : f32
  } -> tensor<2x3x1xf32>
  %var = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%sum2 : tensor<2x3x1xf32>) outs(%e1 : tensor<2x3x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.sitofp %c8_i64 : i64 to f32
    %q = arith.divf %in, %n : f32
    linalg.yield %q : f32
  } -> tensor<2x3x1xf32>
  %ve = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%var : tensor<2x3x1xf32>) outs(%e1 : tensor<2x3x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %ef = arith.truncf %eps : f64 to f32
    %alpha = arith.sitofp %c1_i64 : i64 to f32
    %s = arith.mulf %ef, %alpha : f32
    %a = arith.addf %in, %s : f32
    linalg.yield %a : f32
  } -> tensor<2x3x1xf32>
  %rs = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ve : tensor<2x3x1xf32>) outs(%e1 : tensor<2x3x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = math.rsqrt %in : f32
    linalg.yield %r : f32
  } -> tensor<2x3x1xf32>
  %rc = tensor.collapse_shape %rs [[0], [1, 2]] : tensor<2x3x1xf32> into tensor<2x3xf32>
  %rb = linalg.generic {indexing_maps = [#row, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%rc : tensor<2x3xf32>) outs(%e : tensor<2x3x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<2x3x8xf32>
  %nrm = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%d, %rb : tensor<2x3x8xf32>, tensor<2x3x8xf32>) outs(%e : tensor<2x3x8xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %m = arith.mulf %in, %in_1 : f32
    linalg.yield %m : f32
  } -> tensor<2x3x8xf32>
  %g = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%nrm, %gamma : tensor<2x3x8xf32>, tensor<8xf32>) outs(%e : tensor<2x3x8xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %m = arith.mulf %in, %in_1 : f32
    linalg.yield %m : f32
  } -> tensor<2x3x8xf32>
  %y = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%g, %beta : tensor<2x3x8xf32>, tensor<8xf32>) outs(%e : tensor<2x3x8xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %alpha = arith.sitofp %c1_i64 : i64 to f32
    %s = arith.mulf %in_1, %alpha : f32
    %a = arith.addf %in, %s : f32
    linalg.yield %a : f32
  } -> tensor<2x3x8xf32>
  %ys = myquant.stats %y {min = array<f64: -6.0>, max = array<f64: 6.0>} : tensor<2x3x8xf32>
  return %ys : tensor<2x3x8xf32>
}

// -----

// LayerNorm(bias=False): the decomposition has no add of beta. The affine
// generic adds zeros.
// NORM-LABEL: func.func @torch_layer_norm_no_bias
// NORM:         %[[ZEROS:.+]] = arith.constant dense<0.000000e+00> : tensor<8xf32>
// NORM:         linalg.generic {{.*}} ins(%{{.+}}, %{{.+}}, %{{.+}}, %[[ZEROS]] : tensor<2x3x8xf32>, tensor<2x3x1xf32>, tensor<8xf32>, tensor<8xf32>)
// CHECK-LABEL: func.func @torch_layer_norm_no_bias
// CHECK:         myquant.quantize
// CHECK-NEXT:    myquant.layer_norm
// CHECK-SAME:      beta = array<i64: 0, 0, 0, 0, 0, 0, 0, 0>
// CHECK-SAME:      gamma = array<i64: 15387, 7693, -11540, 30773, 19233, 3847, -23080, 13463>
// CHECK-NEXT:    myquant.dequantize
// CHECK-NEXT:    return
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#keep = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
#row = affine_map<(d0, d1, d2) -> (d0, d1)>
#ch = affine_map<(d0, d1, d2) -> (d2)>
func.func @torch_layer_norm_no_bias(%x: tensor<2x3x8xf32>) -> tensor<2x3x8xf32> {
  %xs = myquant.stats %x {min = array<f64: -4.0>, max = array<f64: 4.0>} : tensor<2x3x8xf32>
  %c1_i64 = arith.constant 1 : i64
  %c8_i64 = arith.constant 8 : i64
  %eps = arith.constant 1.000000e-05 : f64
  %zero = arith.constant 0.000000e+00 : f32
  %gamma = arith.constant dense<[1.0, 0.5, -0.75, 2.0, 1.25, 0.25, -1.5, 0.875]> : tensor<8xf32>
  %e1 = tensor.empty() : tensor<2x3x1xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<2x3x1xf32>) -> tensor<2x3x1xf32>
  %sum = linalg.generic {indexing_maps = [#id, #keep], iterator_types = ["parallel", "parallel", "reduction"]} ins(%xs : tensor<2x3x8xf32>) outs(%f1 : tensor<2x3x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %a = arith.addf %in, %out : f32
    linalg.yield %a : f32
  } -> tensor<2x3x1xf32>
  %mean = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%sum : tensor<2x3x1xf32>) outs(%e1 : tensor<2x3x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.sitofp %c8_i64 : i64 to f32
    %q = arith.divf %in, %n : f32
    linalg.yield %q : f32
  } -> tensor<2x3x1xf32>
  %mc = tensor.collapse_shape %mean [[0], [1, 2]] : tensor<2x3x1xf32> into tensor<2x3xf32>
  %e = tensor.empty() : tensor<2x3x8xf32>
  %mb = linalg.generic {indexing_maps = [#row, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%mc : tensor<2x3xf32>) outs(%e : tensor<2x3x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<2x3x8xf32>
  %d = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%xs, %mb : tensor<2x3x8xf32>, tensor<2x3x8xf32>) outs(%e : tensor<2x3x8xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %alpha = arith.sitofp %c1_i64 : i64 to f32
    %s = arith.mulf %in_1, %alpha : f32
    %r = arith.subf %in, %s : f32
    linalg.yield %r : f32
  } -> tensor<2x3x8xf32>
  %sq = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%d, %d : tensor<2x3x8xf32>, tensor<2x3x8xf32>) outs(%e : tensor<2x3x8xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %m = arith.mulf %in, %in_1 : f32
    linalg.yield %m : f32
  } -> tensor<2x3x8xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<2x3x1xf32>) -> tensor<2x3x1xf32>
  %sum2 = linalg.generic {indexing_maps = [#id, #keep], iterator_types = ["parallel", "parallel", "reduction"]} ins(%sq : tensor<2x3x8xf32>) outs(%f2 : tensor<2x3x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %a = arith.addf %in, %out : f32
    linalg.yield %a : f32
  } -> tensor<2x3x1xf32>
  %var = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%sum2 : tensor<2x3x1xf32>) outs(%e1 : tensor<2x3x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.sitofp %c8_i64 : i64 to f32
    %q = arith.divf %in, %n : f32
    linalg.yield %q : f32
  } -> tensor<2x3x1xf32>
  %ve = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%var : tensor<2x3x1xf32>) outs(%e1 : tensor<2x3x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %ef = arith.truncf %eps : f64 to f32
    %alpha = arith.sitofp %c1_i64 : i64 to f32
    %s = arith.mulf %ef, %alpha : f32
    %a = arith.addf %in, %s : f32
    linalg.yield %a : f32
  } -> tensor<2x3x1xf32>
  %rs = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ve : tensor<2x3x1xf32>) outs(%e1 : tensor<2x3x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = math.rsqrt %in : f32
    linalg.yield %r : f32
  } -> tensor<2x3x1xf32>
  %rc = tensor.collapse_shape %rs [[0], [1, 2]] : tensor<2x3x1xf32> into tensor<2x3xf32>
  %rb = linalg.generic {indexing_maps = [#row, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%rc : tensor<2x3xf32>) outs(%e : tensor<2x3x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<2x3x8xf32>
  %nrm = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%d, %rb : tensor<2x3x8xf32>, tensor<2x3x8xf32>) outs(%e : tensor<2x3x8xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %m = arith.mulf %in, %in_1 : f32
    linalg.yield %m : f32
  } -> tensor<2x3x8xf32>
  %g = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%nrm, %gamma : tensor<2x3x8xf32>, tensor<8xf32>) outs(%e : tensor<2x3x8xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %m = arith.mulf %in, %in_1 : f32
    linalg.yield %m : f32
  } -> tensor<2x3x8xf32>
  %ys = myquant.stats %g {min = array<f64: -6.0>, max = array<f64: 6.0>} : tensor<2x3x8xf32>
  return %ys : tensor<2x3x8xf32>
}

// -----

// LayerNorm(elementwise_affine=False): neither the product with gamma nor
// the add of beta. The affine generic multiplies by ones and adds zeros.
// NORM-LABEL: func.func @torch_layer_norm_no_affine
// NORM-DAG:     %[[ONES:.+]] = arith.constant dense<1.000000e+00> : tensor<8xf32>
// NORM-DAG:     %[[ZEROS:.+]] = arith.constant dense<0.000000e+00> : tensor<8xf32>
// NORM:         linalg.generic {{.*}} ins(%{{.+}}, %{{.+}}, %[[ONES]], %[[ZEROS]] : tensor<2x3x8xf32>, tensor<2x3x1xf32>, tensor<8xf32>, tensor<8xf32>)
// NORM-NOT:     math.rsqrt
// CHECK-LABEL: func.func @torch_layer_norm_no_affine
// CHECK:         myquant.quantize
// CHECK-NEXT:    myquant.layer_norm
// CHECK-SAME:      beta = array<i64: 0, 0, 0, 0, 0, 0, 0, 0>
// CHECK-SAME:      gamma = array<i64: 15387, 15387, 15387, 15387, 15387, 15387, 15387, 15387>
// CHECK-NEXT:    myquant.dequantize
// CHECK-NEXT:    return
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#keep = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
#row = affine_map<(d0, d1, d2) -> (d0, d1)>
#ch = affine_map<(d0, d1, d2) -> (d2)>
func.func @torch_layer_norm_no_affine(%x: tensor<2x3x8xf32>) -> tensor<2x3x8xf32> {
  %xs = myquant.stats %x {min = array<f64: -4.0>, max = array<f64: 4.0>} : tensor<2x3x8xf32>
  %c1_i64 = arith.constant 1 : i64
  %c8_i64 = arith.constant 8 : i64
  %eps = arith.constant 1.000000e-05 : f64
  %zero = arith.constant 0.000000e+00 : f32
  %e1 = tensor.empty() : tensor<2x3x1xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<2x3x1xf32>) -> tensor<2x3x1xf32>
  %sum = linalg.generic {indexing_maps = [#id, #keep], iterator_types = ["parallel", "parallel", "reduction"]} ins(%xs : tensor<2x3x8xf32>) outs(%f1 : tensor<2x3x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %a = arith.addf %in, %out : f32
    linalg.yield %a : f32
  } -> tensor<2x3x1xf32>
  %mean = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%sum : tensor<2x3x1xf32>) outs(%e1 : tensor<2x3x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.sitofp %c8_i64 : i64 to f32
    %q = arith.divf %in, %n : f32
    linalg.yield %q : f32
  } -> tensor<2x3x1xf32>
  %mc = tensor.collapse_shape %mean [[0], [1, 2]] : tensor<2x3x1xf32> into tensor<2x3xf32>
  %e = tensor.empty() : tensor<2x3x8xf32>
  %mb = linalg.generic {indexing_maps = [#row, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%mc : tensor<2x3xf32>) outs(%e : tensor<2x3x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<2x3x8xf32>
  %d = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%xs, %mb : tensor<2x3x8xf32>, tensor<2x3x8xf32>) outs(%e : tensor<2x3x8xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %alpha = arith.sitofp %c1_i64 : i64 to f32
    %s = arith.mulf %in_1, %alpha : f32
    %r = arith.subf %in, %s : f32
    linalg.yield %r : f32
  } -> tensor<2x3x8xf32>
  %sq = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%d, %d : tensor<2x3x8xf32>, tensor<2x3x8xf32>) outs(%e : tensor<2x3x8xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %m = arith.mulf %in, %in_1 : f32
    linalg.yield %m : f32
  } -> tensor<2x3x8xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<2x3x1xf32>) -> tensor<2x3x1xf32>
  %sum2 = linalg.generic {indexing_maps = [#id, #keep], iterator_types = ["parallel", "parallel", "reduction"]} ins(%sq : tensor<2x3x8xf32>) outs(%f2 : tensor<2x3x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %a = arith.addf %in, %out : f32
    linalg.yield %a : f32
  } -> tensor<2x3x1xf32>
  %var = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%sum2 : tensor<2x3x1xf32>) outs(%e1 : tensor<2x3x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.sitofp %c8_i64 : i64 to f32
    %q = arith.divf %in, %n : f32
    linalg.yield %q : f32
  } -> tensor<2x3x1xf32>
  %ve = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%var : tensor<2x3x1xf32>) outs(%e1 : tensor<2x3x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %ef = arith.truncf %eps : f64 to f32
    %alpha = arith.sitofp %c1_i64 : i64 to f32
    %s = arith.mulf %ef, %alpha : f32
    %a = arith.addf %in, %s : f32
    linalg.yield %a : f32
  } -> tensor<2x3x1xf32>
  %rs = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ve : tensor<2x3x1xf32>) outs(%e1 : tensor<2x3x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = math.rsqrt %in : f32
    linalg.yield %r : f32
  } -> tensor<2x3x1xf32>
  %rc = tensor.collapse_shape %rs [[0], [1, 2]] : tensor<2x3x1xf32> into tensor<2x3xf32>
  %rb = linalg.generic {indexing_maps = [#row, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%rc : tensor<2x3xf32>) outs(%e : tensor<2x3x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<2x3x8xf32>
  %nrm = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%d, %rb : tensor<2x3x8xf32>, tensor<2x3x8xf32>) outs(%e : tensor<2x3x8xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %m = arith.mulf %in, %in_1 : f32
    linalg.yield %m : f32
  } -> tensor<2x3x8xf32>
  %ys = myquant.stats %nrm {min = array<f64: -6.0>, max = array<f64: 6.0>} : tensor<2x3x8xf32>
  return %ys : tensor<2x3x8xf32>
}
