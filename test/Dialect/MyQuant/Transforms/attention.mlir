// RUN: myquant-opt %s --myquant-propagate-qparams --myquant-quantize --myquant-verify-qparams | FileCheck %s
// RUN: myquant-opt %s "--myquant-propagate-qparams=softmax-input-bits=16 int16-range-headroom=1" --myquant-quantize --myquant-verify-qparams 2>&1 | FileCheck %s --check-prefix=WIDE
// RUN: myquant-opt %s "--myquant-ptq=softmax-input-bits=16 allow-float=false" | myquant-opt --myquant-lower-to-llvm -o /dev/null
// RUN: not myquant-opt %s --myquant-propagate-qparams=softmax-input-bits=12 2>&1 | FileCheck %s --check-prefix=BITS
// RUN: myquant-opt %s "--myquant-propagate-qparams=dynamic=true softmax-input-bits=16 int16-range-headroom=1" --myquant-quantize --myquant-verify-qparams 2>&1 | FileCheck %s --check-prefix=WIDE
// The 16-bit scales checked below are the calibrated ranges' own
// (int16-range-headroom=1; the default headroom doubles them,
// docs/NumericSpec.md 6.1, propagate-qparams-int16.mlir).

// Attention's Q K^T / sqrt(d) and A V: matmuls of two activations, each
// per tensor with its own zero point. The scale after Q K^T folds into its
// rescale (`factor`, the real multiplier 0.5 * s_q * s_k / s_out), and the
// softmax's result keeps its fixed parameters (1/256, -128) through the
// reshape into A V: no requantization anywhere.

// CHECK-LABEL: func.func @attention
// 0.5 * 0.0156863 * 0.0176471 / 0.0313725 = 1212696648 * 2^-38.
// CHECK:         myquant.matmul %{{.+}}, %{{.+}} {factor = 5.000000e-01 : f64, rescale = #myquant.rescale<multiplier = [1212696648], shift = [38], rounding = single>} : (tensor<2x3x4x!quant.uniform<i8:f32, 0.015686274509803921>>, tensor<2x4x3x!quant.uniform<i8:f32, 0.017647058823529412:-43>>) -> tensor<2x3x3x!quant.uniform<i8:f32, 0.031372549019607843>>
// CHECK:         myquant.softmax %{{.+}} -> tensor<1x2x3x3x!quant.uniform<i8:f32, 3.906250e-03:-128>>
// CHECK:         tensor.collapse_shape %{{.+}} : tensor<1x2x3x3x!quant.uniform<i8:f32, 3.906250e-03:-128>> into tensor<2x3x3x!quant.uniform<i8:f32, 3.906250e-03:-128>>
// CHECK:         myquant.matmul %{{.+}}, %{{.+}} {rescale = #myquant.rescale<multiplier = [1073741824], shift = [38], rounding = single>} : (tensor<2x3x3x!quant.uniform<i8:f32, 3.906250e-03:-128>>, tensor<2x3x4x!quant.uniform<i8:f32, 0.0078431372549019607>>)
// CHECK-NOT:     myquant.requantize
// CHECK-NOT:     linalg.

// With softmax-input-bits=16 (docs/NumericSpec.md 6.4, 6.5) Q K^T reads
// its int8 operands and writes the softmax's symmetric i16 input (scale
// 4 / 32767): 0.5 * 0.0156863 * 0.0176471 / (4 / 32767) = 1217415168 *
// 2^-30. The softmax has no table but exp_rescale = (4 / 32767) * log2(e)
// = 1549129280 * 2^-43. Only A V reads its result (through the reshape), as
// its lhs: the probabilities get the fixed 16-bit (2^-15, 0), and A V
// multiplies them by the int8 V, M = 2^-15 * s_v / s_out = 2^30 * 2^-45
// (6.4, 6.5). With dynamic=true too (8.5) the same: no Linear reads A V,
// so nothing is wide.
// WIDE-NOT:      remark
// WIDE-LABEL:    func.func @attention
// WIDE:          myquant.matmul %{{.+}}, %{{.+}} {factor = 5.000000e-01 : f64, rescale = #myquant.rescale<multiplier = [1217415168], shift = [30], rounding = single>} : (tensor<2x3x4x!quant.uniform<i8:f32, 0.015686274509803921>>, tensor<2x4x3x!quant.uniform<i8:f32, 0.017647058823529412:-43>>) -> tensor<2x3x3x!quant.uniform<i16<-32767:32767>:f32, 1.2207403790398877E-4>>
// WIDE:          myquant.softmax %{{.+}} {exp_rescale = #myquant.rescale<multiplier = [1549129280], shift = [43], rounding = single>} : tensor<1x2x3x3x!quant.uniform<i16<-32767:32767>:f32, 1.2207403790398877E-4>> -> tensor<1x2x3x3x!quant.uniform<i16<-32767:32767>:f32, 3.0517578125E-5>>
// WIDE:          tensor.collapse_shape %{{.+}} : tensor<1x2x3x3x!quant.uniform<i16<-32767:32767>:f32, 3.0517578125E-5>> into tensor<2x3x3x!quant.uniform<i16<-32767:32767>:f32, 3.0517578125E-5>>
// WIDE:          myquant.matmul %{{.+}}, %{{.+}} {rescale = #myquant.rescale<multiplier = [1073741824], shift = [45], rounding = single>} : (tensor<2x3x3x!quant.uniform<i16<-32767:32767>:f32, 3.0517578125E-5>>, tensor<2x3x4x!quant.uniform<i8:f32, 0.0078431372549019607>>) -> tensor<2x3x4x!quant.uniform<i8:f32, 0.0078431372549019607>>
// WIDE-NOT:      myquant.requantize

// BITS: error: softmax-input-bits is 12; it must be 8 or 16
func.func @attention(%q: tensor<2x3x4xf32>, %k: tensor<2x4x3xf32>, %v: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  %qs = myquant.stats %q {min = array<f64: -2.0>, max = array<f64: 2.0>} : tensor<2x3x4xf32>
  %ks = myquant.stats %k {min = array<f64: -1.5>, max = array<f64: 3.0>} : tensor<2x4x3xf32>
  %vs = myquant.stats %v {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<2x3x4xf32>
  %zero = arith.constant 0.0 : f32
  %half = arith.constant 0.5 : f32
  %e = tensor.empty() : tensor<2x3x3xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<2x3x3xf32>) -> tensor<2x3x3xf32>
  %qk = linalg.batch_matmul ins(%qs, %ks : tensor<2x3x4xf32>, tensor<2x4x3xf32>) outs(%init : tensor<2x3x3xf32>) -> tensor<2x3x3xf32>
  %scaled = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%qk : tensor<2x3x3xf32>) outs(%e : tensor<2x3x3xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.mulf %in, %half : f32
    linalg.yield %m : f32
  } -> tensor<2x3x3xf32>
  %ss = myquant.stats %scaled {min = array<f64: -4.0>, max = array<f64: 4.0>} : tensor<2x3x3xf32>
  %ex = tensor.expand_shape %ss [[0, 1], [2], [3]] output_shape [1, 2, 3, 3] : tensor<2x3x3xf32> into tensor<1x2x3x3xf32>
  %pe = tensor.empty() : tensor<1x2x3x3xf32>
  %p = linalg.softmax dimension(3) ins(%ex : tensor<1x2x3x3xf32>) outs(%pe : tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32>
  %ps = myquant.stats %p {min = array<f64: 0.0>, max = array<f64: 0.9>} : tensor<1x2x3x3xf32>
  %pc = tensor.collapse_shape %ps [[0, 1], [2], [3]] : tensor<1x2x3x3xf32> into tensor<2x3x3xf32>
  %oe = tensor.empty() : tensor<2x3x4xf32>
  %oinit = linalg.fill ins(%zero : f32) outs(%oe : tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %o = linalg.batch_matmul ins(%pc, %vs : tensor<2x3x3xf32>, tensor<2x3x4xf32>) outs(%oinit : tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %os = myquant.stats %o {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<2x3x4xf32>
  return %os : tensor<2x3x4xf32>
}
