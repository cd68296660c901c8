// RUN: myquant-opt %s --convert-myquant-to-linalg | FileCheck %s
// RUN: myquant-opt %s --convert-myquant-to-linalg --myquant-lower-to-llvm -o /dev/null
// RUN: myquant-run %s --function=run_softmax | FileCheck %s --check-prefix=SOFTMAX
// RUN: myquant-run %s --function=run_av | FileCheck %s --check-prefix=AV

// Attention with 16-bit probabilities (docs/NumericSpec.md 6.4): the
// softmax's 16-bit result (2^-15, 0) keeps 15 fractional bits of the Q40
// product e * R, (e * R + 2^24) >> 25; A V multiplies that int16 lhs by its
// int8 V in int32 where K * 32767 * max|v - zv| <= 2^31 - 1 (K <= 257 for
// any zero point), and in int64 beyond.

!x16 = !quant.uniform<i16<-32767:32767>:f32, 1.0e-3>
!p16 = !quant.uniform<i16<-32767:32767>:f32, 3.0517578125E-5>

// CHECK-LABEL: func.func @softmax_i16_result
// CHECK:       arith.divsi
// CHECK:       %[[SHIFT:.*]] = arith.constant 25 : i64
// CHECK:       arith.shrsi %{{.*}}, %[[SHIFT]] : i64
// CHECK:       arith.constant -32767 : i64
// CHECK:       arith.constant 32767 : i64
// CHECK:       arith.trunci %{{.*}} : i64 to i16
// CHECK:       -> tensor<2x4xi16>
func.func @softmax_i16_result(%x: tensor<2x4x!x16>) -> tensor<2x4x!p16> {
  %y = myquant.softmax %x : tensor<2x4x!x16> -> tensor<2x4x!p16>
  return %y : tensor<2x4x!p16>
}

// python/myquant/testing/reference.py's softmax16(..., storage_bits=16):
// [[1051, 2855, 7762, 21100], [0, 22376, 0, 10392]] (the 8-bit result of
// the same input, softmax-int16.mlir, is 0.03125, 0.0859375, ...).
// SOFTMAX:      0.032074, 0.0871277, 0.236877, 0.643921
// SOFTMAX-NEXT: 0, 0.682861, 0, 0.317139
func.func @run_softmax() -> tensor<2x4xf32> {
  %c = arith.constant dense<[[0, 1000, 2000, 3000], [-32767, 32767, 0, 32000]]> : tensor<2x4xi16>
  %x = quant.scast %c : tensor<2x4xi16> to tensor<2x4x!x16>
  %y = call @softmax_i16_result(%x) : (tensor<2x4x!x16>) -> tensor<2x4x!p16>
  %f = myquant.dequantize %y : tensor<2x4x!p16> -> tensor<2x4xf32>
  return %f : tensor<2x4xf32>
}

!v = !quant.uniform<i8:f32, 0.0078431372549019607:5>
!o = !quant.uniform<i8:f32, 0.01:-3>

// K = 4: products (a - 0) * (v - 5) summed in int32, then rescaled as an
// int32 accumulator (2.3).
// CHECK-LABEL: func.func @av_i16
// CHECK:       linalg.fill ins(%{{.*}} : i32)
// CHECK:       ^bb0(%[[A:.*]]: i16, %[[V:.*]]: i8, %[[ACC:.*]]: i32):
// CHECK:       arith.extsi %[[A]] : i16 to i32
// CHECK:       arith.extsi %[[V]] : i8 to i32
// CHECK:       arith.subi
// CHECK:       arith.muli %{{.*}} : i32
// CHECK:       arith.addi %[[ACC]], %{{.*}} : i32
// CHECK-NOT:   i128
// CHECK:       -> tensor<1x2x3xi8>
func.func @av_i16(%a: tensor<1x2x4x!p16>, %v: tensor<1x4x3x!v>) -> tensor<1x2x3x!o> {
  %y = myquant.matmul %a, %v {rescale = #myquant.rescale<multiplier = [1684300900], shift = [46], rounding = single>} : (tensor<1x2x4x!p16>, tensor<1x4x3x!v>) -> tensor<1x2x3x!o>
  return %y : tensor<1x2x3x!o>
}

// reference.matmul of the probabilities above by V: [[73, -68, -3],
// [25, -66, 33]].
// AV:      0.76, -0.65, 0
// AV-NEXT: 0.28, -0.63, 0.36
func.func @run_av() -> tensor<1x2x3xf32> {
  %c = arith.constant dense<[[[1051, 2855, 7762, 21100], [0, 22376, 0, 10392]]]> : tensor<1x2x4xi16>
  %a = quant.scast %c : tensor<1x2x4xi16> to tensor<1x2x4x!p16>
  %w = arith.constant dense<[[[-128, 127, 5], [0, -50, 60], [100, 20, -90], [127, -128, 33]]]> : tensor<1x4x3xi8>
  %v = quant.scast %w : tensor<1x4x3xi8> to tensor<1x4x3x!v>
  %y = call @av_i16(%a, %v) : (tensor<1x2x4x!p16>, tensor<1x4x3x!v>) -> tensor<1x2x3x!o>
  %f = myquant.dequantize %y : tensor<1x2x3x!o> -> tensor<1x2x3xf32>
  return %f : tensor<1x2x3xf32>
}

!vz = !quant.uniform<i8:f32, 0.0078431372549019607:-128>

// With V's zero point -128, |v - zv| reaches 255 (with 5 above, 133, and
// int32 would hold K <= 492). K = 258: 258 * 32767 * 255 > 2^31 - 1, so the
// sum is int64 and rescaled exactly in 128 bits (6.3).
// CHECK-LABEL: func.func @av_i16_long_rows
// CHECK:       linalg.fill ins(%{{.*}} : i64)
// CHECK:       arith.extsi %{{.*}} : i16 to i64
// CHECK:       arith.muli %{{.*}} : i64
// CHECK:       i128
func.func @av_i16_long_rows(%a: tensor<1x2x258x!p16>, %v: tensor<1x258x3x!vz>) -> tensor<1x2x3x!o> {
  %y = myquant.matmul %a, %v {rescale = #myquant.rescale<multiplier = [1684300900], shift = [46], rounding = single>} : (tensor<1x2x258x!p16>, tensor<1x258x3x!vz>) -> tensor<1x2x3x!o>
  return %y : tensor<1x2x3x!o>
}

// K = 257 fits: int32.
// CHECK-LABEL: func.func @av_i16_longest_int32_rows
// CHECK:       linalg.fill ins(%{{.*}} : i32)
// CHECK-NOT:   i64
// CHECK:       arith.muli %{{.*}} : i32
func.func @av_i16_longest_int32_rows(%a: tensor<1x2x257x!p16>, %v: tensor<1x257x3x!vz>) -> tensor<1x2x3x!o> {
  %y = myquant.matmul %a, %v {rescale = #myquant.rescale<multiplier = [1684300900], shift = [46], rounding = single>} : (tensor<1x2x257x!p16>, tensor<1x257x3x!vz>) -> tensor<1x2x3x!o>
  return %y : tensor<1x2x3x!o>
}
