// RUN: myquant-opt %s --myquant-propagate-qparams --myquant-quantize 2>&1 | FileCheck %s

// myquant.layer_norm takes rows of at most 4096 elements
// (docs/NumericSpec.md 3.11, the bounds): a wider layer normalization stays
// in float, op by op, with the dry run's remarks.

// CHECK: remark: layer normalization over rows of 4097 elements stays in float: myquant.layer_norm takes at most 4096
// CHECK-LABEL: func.func @wide
// CHECK-NOT:     myquant.layer_norm
// CHECK:         math.rsqrt
func.func @wide(%x: tensor<2x4097xf32>) -> tensor<2x4097xf32> {
  %s1 = myquant.stats %x {min = array<f64: -1.28>, max = array<f64: 1.27>} : tensor<2x4097xf32>
  %c2 = arith.constant 4097.0 : f32
  %c3 = arith.constant 0.0 : f32
  %e4 = tensor.empty() : tensor<2xf32>
  %fill5 = linalg.fill ins(%c3 : f32) outs(%e4 : tensor<2xf32>) -> tensor<2xf32>
  %g6 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%s1 : tensor<2x4097xf32>) outs(%fill5 : tensor<2xf32>) {
  ^bb0(%in0: f32, %out: f32):
    %r = arith.addf %in0, %out : f32
    linalg.yield %r : f32
  } -> tensor<2xf32>
  %e7 = tensor.empty() : tensor<2x4097xf32>
  %g8 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%s1, %g6 : tensor<2x4097xf32>, tensor<2xf32>) outs(%e7 : tensor<2x4097xf32>) {
  ^bb0(%in0: f32, %in1: f32, %out: f32):
    %m = arith.divf %in1, %c2 : f32
    %r = arith.subf %in0, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x4097xf32>
  %g12 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%g8 : tensor<2x4097xf32>) outs(%fill5 : tensor<2xf32>) {
  ^bb0(%in0: f32, %out: f32):
    %p = arith.mulf %in0, %in0 : f32
    %r = arith.addf %p, %out : f32
    linalg.yield %r : f32
  } -> tensor<2xf32>
  %c13 = arith.constant 9.999999747378752e-06 : f32
  %cst14 = arith.constant dense<1.5> : tensor<4097xf32>
  %cst15 = arith.constant dense<0.25> : tensor<4097xf32>
  %g17 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%g8, %g12, %cst14, %cst15 : tensor<2x4097xf32>, tensor<2xf32>, tensor<4097xf32>, tensor<4097xf32>) outs(%e7 : tensor<2x4097xf32>) {
  ^bb0(%in0: f32, %in1: f32, %in2: f32, %in3: f32, %out: f32):
    %v = arith.divf %in1, %c2 : f32
    %ve = arith.addf %v, %c13 : f32
    %s = math.rsqrt %ve : f32
    %n = arith.mulf %in0, %s : f32
    %ng = arith.mulf %n, %in2 : f32
    %r = arith.addf %ng, %in3 : f32
    linalg.yield %r : f32
  } -> tensor<2x4097xf32>
  %s18 = myquant.stats %g17 {min = array<f64: -2.56>, max = array<f64: 2.54>} : tensor<2x4097xf32>
  return %s18 : tensor<2x4097xf32>
}

// Rows of 2^31 (splat gamma and beta, small in the IR): the recognizer does
// not copy constants past kMaxWeightElements (2^40 entries took hours;
// found by python/myquant/testing/mutate.py), and the ops stay in float.
// CHECK-LABEL: func.func @huge
// CHECK-NOT:     myquant.layer_norm
// CHECK:         math.rsqrt
func.func @huge(%x: tensor<2x2147483648xf32>) -> tensor<2x2147483648xf32> {
  %s1 = myquant.stats %x {min = array<f64: -1.28>, max = array<f64: 1.27>} : tensor<2x2147483648xf32>
  %c2 = arith.constant 2147483648.0 : f32
  %c3 = arith.constant 0.0 : f32
  %e4 = tensor.empty() : tensor<2xf32>
  %fill5 = linalg.fill ins(%c3 : f32) outs(%e4 : tensor<2xf32>) -> tensor<2xf32>
  %g6 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%s1 : tensor<2x2147483648xf32>) outs(%fill5 : tensor<2xf32>) {
  ^bb0(%in0: f32, %out: f32):
    %r = arith.addf %in0, %out : f32
    linalg.yield %r : f32
  } -> tensor<2xf32>
  %e7 = tensor.empty() : tensor<2x2147483648xf32>
  %g8 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%s1, %g6 : tensor<2x2147483648xf32>, tensor<2xf32>) outs(%e7 : tensor<2x2147483648xf32>) {
  ^bb0(%in0: f32, %in1: f32, %out: f32):
    %m = arith.divf %in1, %c2 : f32
    %r = arith.subf %in0, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x2147483648xf32>
  %g12 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%g8 : tensor<2x2147483648xf32>) outs(%fill5 : tensor<2xf32>) {
  ^bb0(%in0: f32, %out: f32):
    %p = arith.mulf %in0, %in0 : f32
    %r = arith.addf %p, %out : f32
    linalg.yield %r : f32
  } -> tensor<2xf32>
  %c13 = arith.constant 9.999999747378752e-06 : f32
  %cst14 = arith.constant dense<1.5> : tensor<2147483648xf32>
  %cst15 = arith.constant dense<0.25> : tensor<2147483648xf32>
  %g17 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%g8, %g12, %cst14, %cst15 : tensor<2x2147483648xf32>, tensor<2xf32>, tensor<2147483648xf32>, tensor<2147483648xf32>) outs(%e7 : tensor<2x2147483648xf32>) {
  ^bb0(%in0: f32, %in1: f32, %in2: f32, %in3: f32, %out: f32):
    %v = arith.divf %in1, %c2 : f32
    %ve = arith.addf %v, %c13 : f32
    %s = math.rsqrt %ve : f32
    %n = arith.mulf %in0, %s : f32
    %ng = arith.mulf %n, %in2 : f32
    %r = arith.addf %ng, %in3 : f32
    linalg.yield %r : f32
  } -> tensor<2x2147483648xf32>
  %s18 = myquant.stats %g17 {min = array<f64: -2.56>, max = array<f64: 2.54>} : tensor<2x2147483648xf32>
  return %s18 : tensor<2x2147483648xf32>
}
