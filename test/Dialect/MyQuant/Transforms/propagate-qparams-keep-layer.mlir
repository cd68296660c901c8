// RUN: myquant-opt %s --myquant-propagate-qparams=keep-float=fc1 2>&1 | FileCheck %s
// RUN: not myquant-opt %s "--myquant-ptq=keep-float=fc3" 2>&1 | FileCheck %s --check-prefix=BADLAYER

// keep-float names a layer: every op located at loc("fc1") (the layer's
// initial value and its matmul, a fused location too) stays in float between
// a dequantize and a quantize; the next layer, fc2, is quantized.
// CHECK:       remark: loc(fused["fc1", "x"]): 'linalg.matmul' stays in float between dequantize and quantize
// CHECK-NOT:   remark
// CHECK-LABEL: func.func @layers
// CHECK:       %[[W1:.*]] = arith.constant dense<{{\[\[}}1.000000e+00
// CHECK:       %[[M1:.*]] = linalg.matmul ins(%{{.*}}, %[[W1]] : tensor<1x2xf32>, tensor<2x2xf32>)
// CHECK:       myquant.quantize %[[M1]]
// CHECK:       %[[W2:.*]] = myquant.dequantize %{{.*}} : tensor<2x2x!quant.uniform<i8
// CHECK:       linalg.matmul ins(%{{.*}}, %[[W2]] :

// BADLAYER: error: keep-float names 'fc3', which is neither a registered operation nor the location name of an op of this function; give full op names such as linalg.matmul, or layer names (the exporter's module paths)
func.func @layers(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %xs = myquant.stats %x {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<1x2xf32>
  %w1 = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32> loc("fc1")
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2xf32>
  %f1 = linalg.fill ins(%z : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32> loc("fc1")
  %m1 = linalg.matmul ins(%xs, %w1 : tensor<1x2xf32>, tensor<2x2xf32>) outs(%f1 : tensor<1x2xf32>) -> tensor<1x2xf32> loc(fused["fc1", "x"])
  %m1s = myquant.stats %m1 {min = array<f64: -3.0>, max = array<f64: 3.0>} : tensor<1x2xf32> loc("fc1")
  %w2 = arith.constant dense<[[0.5, -1.0], [1.0, 0.25]]> : tensor<2x2xf32> loc("fc2")
  %f2 = linalg.fill ins(%z : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32> loc("fc2")
  %m2 = linalg.matmul ins(%m1s, %w2 : tensor<1x2xf32>, tensor<2x2xf32>) outs(%f2 : tensor<1x2xf32>) -> tensor<1x2xf32> loc("fc2")
  %m2s = myquant.stats %m2 {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<1x2xf32> loc("fc2")
  return %m2s : tensor<1x2xf32>
}
