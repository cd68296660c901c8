// RUN: myquant-opt %s --myquant-propagate-qparams=allow-float=false -verify-diagnostics

// With allow-float=false, a function whose lookup table cannot be computed
// is an error that names the body op.

#map = affine_map<(d0, d1) -> (d0, d1)>

func.func @unknown_body_op(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
  %xs = myquant.stats %x {min = array<f64: -6.4>, max = array<f64: 6.35>} : tensor<1x8xf32>
  %e = tensor.empty() : tensor<1x8xf32>
  // expected-error@+1 {{'linalg.generic' cannot be quantized and allow-float=false: its lookup table cannot be computed, as 'math.cbrt' in its body has no compile-time evaluation}}
  %g = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]} ins(%xs : tensor<1x8xf32>) outs(%e : tensor<1x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = math.cbrt %in : f32
    linalg.yield %r : f32
  } -> tensor<1x8xf32>
  %gs = myquant.stats %g {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<1x8xf32>
  return %gs : tensor<1x8xf32>
}
