// RUN: myquant-opt %s -split-input-file --myquant-propagate-qparams --myquant-quantize -verify-diagnostics | FileCheck %s
// RUN: myquant-opt %s -split-input-file --myquant-propagate-qparams=activation-type=uint8 --myquant-quantize | FileCheck %s --check-prefix=U8
// RUN: myquant-opt %s -split-input-file --myquant-propagate-qparams --myquant-quantize 2>/dev/null | myquant-opt --myquant-lower-to-llvm -o /dev/null
// RUN: myquant-opt %s --myquant-propagate-qparams --myquant-quantize 2>/dev/null | myquant-run - --function=softmax | FileCheck %s --check-prefix=OUT
// RUN: myquant-opt %s "--myquant-propagate-qparams=softmax-input-bits=16 int16-range-headroom=1" --myquant-quantize 2>/dev/null | FileCheck %s --check-prefix=WIDE
// RUN: myquant-opt %s "--myquant-propagate-qparams=softmax-input-bits=16 int16-range-headroom=1" --myquant-quantize 2>/dev/null | myquant-run - --function=softmax | FileCheck %s --check-prefix=OUT
// The 16-bit scales checked below are the calibrated ranges' own
// (int16-range-headroom=1; the default headroom doubles them,
// docs/NumericSpec.md 6.1, propagate-qparams-int16.mlir).

// A softmax over the last dimension is integer-only (docs/NumericSpec.md
// 3.10): the dry run gives its result the fixed scale 1/256 with the
// storage minimum as zero point (no statistics needed), and
// myquant-quantize precomputes the Q16 exponentials of the input grid,
// round(2^16 exp(-0.05 d)) for input scale 0.05: 65536, 62340, 59299, ...

// CHECK-LABEL: func.func @softmax
// CHECK:         %[[Q:.+]] = myquant.quantize %{{.+}} -> tensor<2x3x!quant.uniform<i8:f32, 5.000000e-02>>
// CHECK-NEXT:    %[[S:.+]] = myquant.softmax %[[Q]] {exp_table = array<i32: 65536, 62340, 59299, 56407, {{.*}}>} : tensor<2x3x!quant.uniform<i8:f32, 5.000000e-02>> -> tensor<2x3x!quant.uniform<i8:f32, 3.906250e-03:-128>>
// CHECK-NEXT:    myquant.dequantize %[[S]]
// CHECK-NOT:     linalg.softmax
// U8-LABEL:    func.func @softmax
// U8:            myquant.softmax %{{.+}} -> tensor<2x3x!quant.uniform<u8:f32, 3.906250e-03>>

// With softmax-input-bits=16 (docs/NumericSpec.md 6.4) the input is
// symmetric i16 (6.4 / 32767) and the exponential computed: exp_rescale is
// (6.4 / 32767) * log2(e) = 1239303424 * 2^-42, no table. The outputs are
// the same here (numpy reference.softmax16: [-105, -65, 42], [-128, -128,
// 127]).
// WIDE-LABEL:  func.func @softmax
// WIDE:          %[[Q:.+]] = myquant.quantize %{{.+}} -> tensor<2x3x!quant.uniform<i16<-32767:32767>:f32, 1.9531846064638203E-4>>
// WIDE-NEXT:     myquant.softmax %[[Q]] {exp_rescale = #myquant.rescale<multiplier = [1239303424], shift = [42], rounding = single>} : tensor<2x3x!quant.uniform<i16<-32767:32767>:f32, 1.9531846064638203E-4>> -> tensor<2x3x!quant.uniform<i8:f32, 3.906250e-03:-128>>

// Row 0, q = [20, 40, 60]: e = [8869, 24109, 65536], sum 98514,
// R = floor(2^40 / 98514) = 11160968; (e R + 2^31) >> 32 = [23, 63, 170]
// (softmax [0.0900, 0.2447, 0.6652]). Row 1: a probability of 1 saturates
// at 255 / 256.
// OUT:      0.0898438, 0.246094, 0.664062
// OUT-NEXT: 0, 0, 0.996094
func.func @softmax() -> tensor<2x3xf32> {
  %x = arith.constant dense<[[1.0, 2.0, 3.0], [-6.4, 0.0, 6.35]]> : tensor<2x3xf32>
  %xs = myquant.stats %x {min = array<f64: -6.4>, max = array<f64: 6.35>} : tensor<2x3xf32>
  %e = tensor.empty() : tensor<2x3xf32>
  %s = linalg.softmax dimension(1) ins(%xs : tensor<2x3xf32>) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  return %s : tensor<2x3xf32>
}

// -----

// Over another dimension it stays in float, with the dry run's remark.
// CHECK-LABEL: func.func @softmax_dim0
// CHECK:         linalg.softmax dimension(0)
func.func @softmax_dim0(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %xs = myquant.stats %x {min = array<f64: -6.4>, max = array<f64: 6.35>} : tensor<2x3xf32>
  %e = tensor.empty() : tensor<2x3xf32>
  // expected-remark@+1 {{'linalg.softmax' stays in float between dequantize and quantize}}
  %s = linalg.softmax dimension(0) ins(%xs : tensor<2x3xf32>) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %ss = myquant.stats %s {min = array<f64: 0.0>, max = array<f64: 1.0>} : tensor<2x3xf32>
  return %ss : tensor<2x3xf32>
}
