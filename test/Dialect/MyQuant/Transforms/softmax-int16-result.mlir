// RUN: myquant-opt %s -split-input-file --myquant-propagate-qparams=softmax-input-bits=16 --myquant-quantize --myquant-verify-qparams | FileCheck %s
// RUN: myquant-opt %s -split-input-file --myquant-propagate-qparams --myquant-quantize | FileCheck %s --check-prefix=NARROW

// With softmax-input-bits=16 a softmax result gets the fixed 16-bit
// (2^-15, 0) when only matmuls of two activations read it, as their lhs
// (docs/NumericSpec.md 6.4, 6.5); A V then reads an i16 lhs and its i8 V:
// M = 2^-15 * (2 / 255) / (2 / 255) = 2^30 * 2^-45. Without the option the
// result keeps (1/256, -128) and M = 2^-8.

// CHECK-LABEL: func.func @probabilities_into_av
// CHECK:         myquant.softmax %{{.+}} : tensor<2x3x3x!quant.uniform<i16<-32767:32767>:f32, {{.+}}>> -> tensor<2x3x3x!quant.uniform<i16<-32767:32767>:f32, 3.0517578125E-5>>
// CHECK:         myquant.matmul %{{.+}}, %{{.+}} {rescale = #myquant.rescale<multiplier = [1073741824], shift = [45], rounding = single>} : (tensor<2x3x3x!quant.uniform<i16<-32767:32767>:f32, 3.0517578125E-5>>, tensor<2x3x4x!quant.uniform<i8:f32, 0.0078431372549019607>>)
// NARROW-LABEL: func.func @probabilities_into_av
// NARROW:         myquant.softmax %{{.+}} -> tensor<2x3x3x!quant.uniform<i8:f32, 3.906250e-03:-128>>
// NARROW:         myquant.matmul %{{.+}}, %{{.+}} {rescale = #myquant.rescale<multiplier = [1073741824], shift = [38], rounding = single>}
func.func @probabilities_into_av(%s: tensor<2x3x3xf32>, %v: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  %ss = myquant.stats %s {min = array<f64: -4.0>, max = array<f64: 4.0>} : tensor<2x3x3xf32>
  %vs = myquant.stats %v {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<2x3x4xf32>
  %zero = arith.constant 0.0 : f32
  %pe = tensor.empty() : tensor<2x3x3xf32>
  %p = linalg.softmax dimension(2) ins(%ss : tensor<2x3x3xf32>) outs(%pe : tensor<2x3x3xf32>) -> tensor<2x3x3xf32>
  %oe = tensor.empty() : tensor<2x3x4xf32>
  %oinit = linalg.fill ins(%zero : f32) outs(%oe : tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %o = linalg.batch_matmul ins(%p, %vs : tensor<2x3x3xf32>, tensor<2x3x4xf32>) outs(%oinit : tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %os = myquant.stats %o {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<2x3x4xf32>
  return %os : tensor<2x3x4xf32>
}

// -----

// A softmax result that the function also returns keeps 8 bits, and so
// does A V's lhs.
// CHECK-LABEL: func.func @probabilities_returned
// CHECK:         myquant.softmax %{{.+}} : tensor<2x3x3x!quant.uniform<i16<-32767:32767>:f32, {{.+}}>> -> tensor<2x3x3x!quant.uniform<i8:f32, 3.906250e-03:-128>>
// CHECK:         myquant.matmul %{{.+}}, %{{.+}} {rescale = #myquant.rescale<multiplier = [1073741824], shift = [38], rounding = single>} : (tensor<2x3x3x!quant.uniform<i8:f32, 3.906250e-03:-128>>,
func.func @probabilities_returned(%s: tensor<2x3x3xf32>, %v: tensor<2x3x4xf32>) -> (tensor<2x3x4xf32>, tensor<2x3x3xf32>) {
  %ss = myquant.stats %s {min = array<f64: -4.0>, max = array<f64: 4.0>} : tensor<2x3x3xf32>
  %vs = myquant.stats %v {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<2x3x4xf32>
  %zero = arith.constant 0.0 : f32
  %pe = tensor.empty() : tensor<2x3x3xf32>
  %p = linalg.softmax dimension(2) ins(%ss : tensor<2x3x3xf32>) outs(%pe : tensor<2x3x3xf32>) -> tensor<2x3x3xf32>
  %oe = tensor.empty() : tensor<2x3x4xf32>
  %oinit = linalg.fill ins(%zero : f32) outs(%oe : tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %o = linalg.batch_matmul ins(%p, %vs : tensor<2x3x3xf32>, tensor<2x3x4xf32>) outs(%oinit : tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %os = myquant.stats %o {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<2x3x4xf32>
  return %os, %p : tensor<2x3x4xf32>, tensor<2x3x3xf32>
}

// -----

// Read as a matmul's rhs (V A): the rhs stays 8-bit (6.4), so does the
// result.
// CHECK-LABEL: func.func @probabilities_as_rhs
// CHECK:         myquant.softmax %{{.+}} -> tensor<2x3x3x!quant.uniform<i8:f32, 3.906250e-03:-128>>
// CHECK:         myquant.matmul %{{.+}}, %{{.+}} {{.+}} : (tensor<2x4x3x!quant.uniform<i8:f32, 0.0078431372549019607>>, tensor<2x3x3x!quant.uniform<i8:f32, 3.906250e-03:-128>>)
func.func @probabilities_as_rhs(%s: tensor<2x3x3xf32>, %v: tensor<2x4x3xf32>) -> tensor<2x4x3xf32> {
  %ss = myquant.stats %s {min = array<f64: -4.0>, max = array<f64: 4.0>} : tensor<2x3x3xf32>
  %vs = myquant.stats %v {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<2x4x3xf32>
  %zero = arith.constant 0.0 : f32
  %pe = tensor.empty() : tensor<2x3x3xf32>
  %p = linalg.softmax dimension(2) ins(%ss : tensor<2x3x3xf32>) outs(%pe : tensor<2x3x3xf32>) -> tensor<2x3x3xf32>
  %oe = tensor.empty() : tensor<2x4x3xf32>
  %oinit = linalg.fill ins(%zero : f32) outs(%oe : tensor<2x4x3xf32>) -> tensor<2x4x3xf32>
  %o = linalg.batch_matmul ins(%vs, %p : tensor<2x4x3xf32>, tensor<2x3x3xf32>) outs(%oinit : tensor<2x4x3xf32>) -> tensor<2x4x3xf32>
  %os = myquant.stats %o {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<2x4x3xf32>
  return %os : tensor<2x4x3xf32>
}
