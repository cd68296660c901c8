// RUN: myquant-opt %s -split-input-file -verify-diagnostics --myquant-decompose-aggregated-ops

// Upstream's decomposition of softmax builds float arithmetic (it crashed
// on these, found by python/myquant/testing/mutate.py): a located error.
func.func @integer_softmax(%x: tensor<2x8xi32>) -> tensor<2x8xi32> {
  %e = tensor.empty() : tensor<2x8xi32>
  // expected-error @+1 {{'linalg.softmax' op has element type 'i32'; myquant decomposes a float softmax only}}
  %s = linalg.softmax dimension(1) ins(%x : tensor<2x8xi32>) outs(%e : tensor<2x8xi32>) -> tensor<2x8xi32>
  return %s : tensor<2x8xi32>
}

// -----

func.func @complex_softmax(%x: tensor<2x3x8xcomplex<f32>>) -> tensor<2x3x8xcomplex<f32>> {
  %e = tensor.empty() : tensor<2x3x8xcomplex<f32>>
  // expected-error @+1 {{'linalg.softmax' op has element type 'complex<f32>'; myquant decomposes a float softmax only}}
  %s = linalg.softmax dimension(2) ins(%x : tensor<2x3x8xcomplex<f32>>) outs(%e : tensor<2x3x8xcomplex<f32>>) -> tensor<2x3x8xcomplex<f32>>
  return %s : tensor<2x3x8xcomplex<f32>>
}
