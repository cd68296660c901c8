// RUN: myquant-opt %s --convert-myquant-to-linalg | FileCheck %s
// RUN: myquant-run %s --function=run | FileCheck %s --check-prefix=OUT

// A softmax with a 16-bit input (docs/NumericSpec.md 6.4): no table; t =
// d * M0 with s_in * log2(e) = M0 * 2^-shift, its integer part q a right
// shift, its fraction in Q30 through the Horner polynomial c4..c0, then
// e = (p + 2^(h-1)) >> h with h = 14 + min(q, 48); the sum, reciprocal and
// output are those of an 8-bit input (3.10).

!x16 = !quant.uniform<i16<-32767:32767>:f32, 1.0e-3>
!p8 = !quant.uniform<i8:f32, 3.906250e-03:-128>

// CHECK-LABEL: func.func @softmax_i16
// CHECK-NOT:   tensor.extract
// CHECK:       arith.extsi %{{.*}} : i16 to i64
// CHECK:       linalg.generic
// CHECK:       %[[M0:.*]] = arith.constant 1586259973 : i64
// CHECK:       %[[T:.*]] = arith.muli %{{.*}}, %[[M0]] : i64
// CHECK:       %[[SHIFT:.*]] = arith.constant 40 : i64
// CHECK:       %[[Q:.*]] = arith.shrsi %[[T]], %[[SHIFT]] : i64
// CHECK:       arith.constant 7419127 : i64
// CHECK:       arith.constant -57311493 : i64
// CHECK:       arith.constant 257211659 : i64
// CHECK:       arith.constant -744187941 : i64
// CHECK:       arith.constant 1073741824 : i64
// CHECK:       arith.constant 48 : i64
// CHECK:       arith.minsi %[[Q]]
// CHECK:       arith.divsi
// CHECK:       -> tensor<2x4xi8>
func.func @softmax_i16(%x: tensor<2x4x!x16>) -> tensor<2x4x!p8> {
  %y = myquant.softmax %x {exp_rescale = #myquant.rescale<multiplier = [1586259973], shift = [40], rounding = single>}
      : tensor<2x4x!x16> -> tensor<2x4x!p8>
  return %y : tensor<2x4x!p8>
}

// Without exp_rescale the lowering encodes s_in * log2(e) itself.
// CHECK-LABEL: func.func @softmax_i16_derived
// CHECK:       arith.constant 1586259973 : i64
// CHECK:       arith.constant 40 : i64
func.func @softmax_i16_derived(%x: tensor<2x4x!x16>) -> tensor<2x4x!p8> {
  %y = myquant.softmax %x : tensor<2x4x!x16> -> tensor<2x4x!p8>
  return %y : tensor<2x4x!p8>
}

// The expected integers are python/myquant/testing/reference.py's
// softmax16: [[-120, -106, -67, 37], [-128, 47, -128, -47]] (e of the
// first row 65536, 24109, 8869, 3263; the second row's distances up to
// 65534 underflow to 0). Float: [0.032, 0.087, 0.237, 0.644], [0, 0.690,
// 0, 0.310].
// OUT:      0.03125, 0.0859375, 0.238281, 0.644531
// OUT-NEXT: 0, 0.683594, 0, 0.316406
func.func @run() -> tensor<2x4xf32> {
  %c = arith.constant dense<[[0, 1000, 2000, 3000], [-32767, 32767, 0, 32000]]> : tensor<2x4xi16>
  %x = quant.scast %c : tensor<2x4xi16> to tensor<2x4x!x16>
  %y = call @softmax_i16(%x) : (tensor<2x4x!x16>) -> tensor<2x4x!p8>
  %f = myquant.dequantize %y : tensor<2x4x!p8> -> tensor<2x4xf32>
  return %f : tensor<2x4xf32>
}
