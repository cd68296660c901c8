// RUN: myquant-opt %s --myquant-propagate-qparams --myquant-quantize | FileCheck %s
// RUN: myquant-opt %s --myquant-propagate-qparams --myquant-quantize | myquant-opt --myquant-lower-to-llvm -o /dev/null
// RUN: myquant-opt %s --myquant-propagate-qparams --myquant-quantize | myquant-run - --function=layer_norm | FileCheck %s --check-prefix=OUT

// Layer normalization over the last dimension as the exporter writes it
// (python/myquant/emit.py, LayerNorm) becomes one myquant.layer_norm whose
// integers come from the float weights and the scales
// (docs/NumericSpec.md 3.11): input (0.01, 0), output (0.02, 0), C = 4:
// gamma[c] = g[c] * 2 / 0.02 * 2^8 = [25600, 51200, 12800, -25600],
// beta[c] = b[c] / 0.02 * 2^24, epsilon = 2^8 * 64 * 1e-5 / 1e-4 = 1638
// (eps as the f32 9.99999974e-6). Only the input and output are quantized.
// Expected values: python/myquant/testing/reference.py (layer_norm).

// CHECK-LABEL: func.func @layer_norm
// CHECK:         %[[Q:.+]] = myquant.quantize %{{.+}} -> tensor<2x4x!quant.uniform<i8:f32, 0.00999999999999999{{[0-9]+}}>>
// CHECK-NEXT:    %[[N:.+]] = myquant.layer_norm %[[Q]] {beta = array<i64: 0, 419430400, -419430400, 209715200>, epsilon = 1638 : i64, gamma = array<i64: 25600, 51200, 12800, -25600>} : tensor<2x4x!quant.uniform<i8:f32, 0.00999999999999999{{[0-9]+}}>> -> tensor<2x4x!quant.uniform<i8:f32, 0.019999999999999997>>
// CHECK-NEXT:    myquant.dequantize %[[N]]
// CHECK-NOT:     linalg.generic

// Float: [-1.3411, -0.3941, -0.2765, -1.0911], [-1.4142, 0.5, -0.5, -1.1642].
// OUT:      -1.34, -0.4, -0.28, -1.1
// OUT-NEXT: -1.42, 0.5, -0.5, -1.16
func.func @layer_norm() -> tensor<2x4xf32> {
  %x = arith.constant dense<[[0.1, 0.2, 0.3, 0.4], [-1.0, 0.0, 0.0, 1.0]]> : tensor<2x4xf32>
  %s1 = myquant.stats %x {min = array<f64: -1.28>, max = array<f64: 1.27>} : tensor<2x4xf32>
  %c2 = arith.constant 4.0 : f32
  %c3 = arith.constant 0.0 : f32
  %e4 = tensor.empty() : tensor<2xf32>
  %fill5 = linalg.fill ins(%c3 : f32) outs(%e4 : tensor<2xf32>) -> tensor<2xf32>
  %g6 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%s1 : tensor<2x4xf32>) outs(%fill5 : tensor<2xf32>) {
  ^bb0(%in0: f32, %out: f32):
    %r = arith.addf %in0, %out : f32
    linalg.yield %r : f32
  } -> tensor<2xf32>
  %e7 = tensor.empty() : tensor<2x4xf32>
  %g8 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%s1, %g6 : tensor<2x4xf32>, tensor<2xf32>) outs(%e7 : tensor<2x4xf32>) {
  ^bb0(%in0: f32, %in1: f32, %out: f32):
    %m = arith.divf %in1, %c2 : f32
    %r = arith.subf %in0, %m : f32
    linalg.yield %r : f32
  } -> tensor<2x4xf32>
  %g12 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%g8 : tensor<2x4xf32>) outs(%fill5 : tensor<2xf32>) {
  ^bb0(%in0: f32, %out: f32):
    %p = arith.mulf %in0, %in0 : f32
    %r = arith.addf %p, %out : f32
    linalg.yield %r : f32
  } -> tensor<2xf32>
  %c13 = arith.constant 9.999999747378752e-06 : f32
  %cst14 = arith.constant dense<[1.0, 2.0, 0.5, -1.0]> : tensor<4xf32>
  %cst15 = arith.constant dense<[0.0, 0.5, -0.5, 0.25]> : tensor<4xf32>
  %g17 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%g8, %g12, %cst14, %cst15 : tensor<2x4xf32>, tensor<2xf32>, tensor<4xf32>, tensor<4xf32>) outs(%e7 : tensor<2x4xf32>) {
  ^bb0(%in0: f32, %in1: f32, %in2: f32, %in3: f32, %out: f32):
    %v = arith.divf %in1, %c2 : f32
    %ve = arith.addf %v, %c13 : f32
    %s = math.rsqrt %ve : f32
    %n = arith.mulf %in0, %s : f32
    %ng = arith.mulf %n, %in2 : f32
    %r = arith.addf %ng, %in3 : f32
    linalg.yield %r : f32
  } -> tensor<2x4xf32>
  %s18 = myquant.stats %g17 {min = array<f64: -2.56>, max = array<f64: 2.54>} : tensor<2x4xf32>
  return %s18 : tensor<2x4xf32>
}
