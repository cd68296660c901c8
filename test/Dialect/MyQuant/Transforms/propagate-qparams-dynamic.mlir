// Dynamic shapes are not quantized: each op that reads or writes one stays
// in float, and the remark (or, with allow-float=false, the error) says why.
// RUN: myquant-opt %s --myquant-propagate-qparams -verify-diagnostics | FileCheck %s
// RUN: not myquant-opt %s "--myquant-propagate-qparams=allow-float=false" 2>&1 | FileCheck %s --check-prefix=STRICT

// No quantize op on a dynamic tensor (its lowering needs static shapes).
// CHECK-LABEL: func.func @dynamic_batch
// CHECK-NOT:   myquant.quantize
// STRICT: error: 'linalg.matmul' cannot be quantized and allow-float=false: it has the dynamic shape 'tensor<?x2xf32>'
func.func @dynamic_batch(%x: tensor<?x2xf32>) -> tensor<?x2xf32> {
  %xs = myquant.stats %x {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<?x2xf32>
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %z = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %n = tensor.dim %xs, %c0 : tensor<?x2xf32>
  %e = tensor.empty(%n) : tensor<?x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<?x2xf32>) -> tensor<?x2xf32>
  // expected-remark@+1 {{'linalg.matmul' stays in float between dequantize and quantize: it has the dynamic shape 'tensor<?x2xf32>' and only static shapes are quantized (the integer kernels need static sizes); give the model static shapes, e.g. a fixed batch size}}
  %m = linalg.matmul ins(%xs, %w : tensor<?x2xf32>, tensor<2x2xf32>) outs(%f : tensor<?x2xf32>) -> tensor<?x2xf32>
  %ms = myquant.stats %m {min = array<f64: -3.0>, max = array<f64: 3.0>} : tensor<?x2xf32>
  %relu = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%ms : tensor<?x2xf32>) outs(%e : tensor<?x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.maximumf %in, %z : f32
    linalg.yield %r : f32
  } -> tensor<?x2xf32>
  // expected-remark@-5 {{'linalg.generic' stays in float between dequantize and quantize: it has the dynamic shape 'tensor<?x2xf32>'}}
  %rs = myquant.stats %relu {min = array<f64: 0.0>, max = array<f64: 3.0>} : tensor<?x2xf32>
  return %rs : tensor<?x2xf32>
}
