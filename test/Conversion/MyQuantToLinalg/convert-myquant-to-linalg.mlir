// RUN: myquant-opt %s -split-input-file --convert-myquant-to-linalg | FileCheck %s
// RUN: myquant-opt %s -split-input-file --convert-myquant-to-linalg=default-rounding=gemmlowp \
// RUN:   | FileCheck %s --check-prefix=GEMMLOWP

// Lowering of every myquant op to integer linalg/arith/tensor. The fixed-point
// multipliers and shifts checked below (where the op has no precomputed
// rescale) were computed with quantize_multiplier in
// python/myquant/testing/reference.py, e.g. 0.1 * 0.01 / 0.2 -> (1374389535, 38).

!a = !quant.uniform<i8:f32, 0.1:-4>

//===----------------------------------------------------------------------===//
// quantize / dequantize (the float boundary)
//===----------------------------------------------------------------------===//

// CHECK-DAG:   #[[$ID2:[^ :,()]+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG:   #[[$ZERO2:[^ :,()]+]] = affine_map<(d0, d1) -> (0)>
// CHECK-LABEL: func.func @quantize
// CHECK-SAME:    (%[[X:[^ :,()]+]]: tensor<2x4xf32>) -> tensor<2x4xi8>
// CHECK:         %[[INIT:[^ :,()]+]] = tensor.empty() : tensor<2x4xi8>
// CHECK:         %[[SCALE:[^ :,()]+]] = arith.constant dense<1.000000e-01> : tensor<1xf64>
// CHECK:         %[[ZP:[^ :,()]+]] = arith.constant dense<-4.000000e+00> : tensor<1xf64>
// CHECK:         %[[R:[^ :,()]+]] = linalg.generic {indexing_maps = [#[[$ID2]], #[[$ZERO2]], #[[$ZERO2]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME:      ins(%[[X]], %[[SCALE]], %[[ZP]] : tensor<2x4xf32>, tensor<1xf64>, tensor<1xf64>) outs(%[[INIT]] : tensor<2x4xi8>)
// CHECK-NEXT:    ^bb0(%[[IN:[^ :,()]+]]: f32, %[[S:[^ :,()]+]]: f64, %[[Z:[^ :,()]+]]: f64, %{{.*}}: i8):
// CHECK-NEXT:      %[[WIDE:[^ :,()]+]] = arith.extf %[[IN]] : f32 to f64
// CHECK-NEXT:      %[[DIV:[^ :,()]+]] = arith.divf %[[WIDE]], %[[S]] : f64
// CHECK-NEXT:      %[[RND:[^ :,()]+]] = math.roundeven %[[DIV]] : f64
// CHECK-NEXT:      %[[ADD:[^ :,()]+]] = arith.addf %[[RND]], %[[Z]] : f64
// CHECK-NEXT:      %[[NAN:[^ :,()]+]] = arith.cmpf uno, %[[ADD]], %[[ADD]] : f64
// CHECK-NEXT:      %[[SEL:[^ :,()]+]] = arith.select %[[NAN]], %[[Z]], %[[ADD]] : f64
// CHECK-NEXT:      %[[QMIN:[^ :,()]+]] = arith.constant -1.280000e+02 : f64
// CHECK-NEXT:      %[[LO:[^ :,()]+]] = arith.maximumf %[[SEL]], %[[QMIN]] : f64
// CHECK-NEXT:      %[[QMAX:[^ :,()]+]] = arith.constant 1.270000e+02 : f64
// CHECK-NEXT:      %[[HI:[^ :,()]+]] = arith.minimumf %[[LO]], %[[QMAX]] : f64
// CHECK-NEXT:      %[[INT:[^ :,()]+]] = arith.fptosi %[[HI]] : f64 to i64
// CHECK-NEXT:      %[[NARROW:[^ :,()]+]] = arith.trunci %[[INT]] : i64 to i8
// CHECK-NEXT:      linalg.yield %[[NARROW]] : i8
// CHECK:         return %[[R]] : tensor<2x4xi8>
func.func @quantize(%x: tensor<2x4xf32>) -> tensor<2x4x!a> {
  %q = myquant.quantize %x : tensor<2x4xf32> -> tensor<2x4x!a>
  return %q : tensor<2x4x!a>
}

// -----

!pa = !quant.uniform<i8:f32:1, {0.5:1, 0.25:-2}>

// Per-axis: one scale and zero point per column, read through (d1).
// CHECK-DAG:   #[[$ID:[^ :,()]+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG:   #[[$COL:[^ :,()]+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @quantize_per_axis
// CHECK-SAME:    (%[[X:[^ :,()]+]]: tensor<4x2xf32>) -> tensor<4x2xi8>
// CHECK:         %[[SCALE:[^ :,()]+]] = arith.constant dense<[5.000000e-01, 2.500000e-01]> : tensor<2xf64>
// CHECK:         %[[ZP:[^ :,()]+]] = arith.constant dense<[1.000000e+00, -2.000000e+00]> : tensor<2xf64>
// CHECK:         linalg.generic {indexing_maps = [#[[$ID]], #[[$COL]], #[[$COL]], #[[$ID]]]
// CHECK-SAME:      ins(%[[X]], %[[SCALE]], %[[ZP]] : tensor<4x2xf32>, tensor<2xf64>, tensor<2xf64>)
// CHECK:           arith.divf
// CHECK-NEXT:      math.roundeven
// CHECK-NEXT:      arith.addf
// CHECK:           arith.maximumf
// CHECK:           arith.minimumf
// CHECK-NEXT:      arith.fptosi %{{.*}} : f64 to i64
// CHECK-NEXT:      arith.trunci %{{.*}} : i64 to i8
func.func @quantize_per_axis(%x: tensor<4x2xf32>) -> tensor<4x2x!pa> {
  %q = myquant.quantize %x : tensor<4x2xf32> -> tensor<4x2x!pa>
  return %q : tensor<4x2x!pa>
}

// -----

!u = !quant.uniform<u8:f16, 0.5:128>

// uint8 storage is clamped to [0, 255] and kept in a signless i8; an f16
// input is widened to f64 first.
// CHECK-LABEL: func.func @quantize_u8_f16
// CHECK-SAME:    (%{{.*}}: tensor<3xf16>) -> tensor<3xi8>
// CHECK:         ^bb0(%[[IN:[^ :,()]+]]: f16,
// CHECK-NEXT:      arith.extf %[[IN]] : f16 to f64
// CHECK:           arith.constant 0.000000e+00 : f64
// CHECK:           arith.constant 2.550000e+02 : f64
// CHECK:           arith.fptosi
// CHECK-NEXT:      arith.trunci %{{.*}} : i64 to i8
func.func @quantize_u8_f16(%x: tensor<3xf16>) -> tensor<3x!u> {
  %q = myquant.quantize %x : tensor<3xf16> -> tensor<3x!u>
  return %q : tensor<3x!u>
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>

// CHECK-LABEL: func.func @dequantize
// CHECK-SAME:    (%[[Q:[^ :,()]+]]: tensor<2x4xi8>) -> tensor<2x4xf32>
// CHECK:         %[[INIT:[^ :,()]+]] = tensor.empty() : tensor<2x4xf32>
// CHECK:         %[[SCALE:[^ :,()]+]] = arith.constant dense<1.000000e-01> : tensor<1xf64>
// CHECK:         %[[ZP:[^ :,()]+]] = arith.constant dense<-4.000000e+00> : tensor<1xf64>
// CHECK:         linalg.generic
// CHECK-SAME:      ins(%[[Q]], %[[SCALE]], %[[ZP]] : tensor<2x4xi8>, tensor<1xf64>, tensor<1xf64>) outs(%[[INIT]] : tensor<2x4xf32>)
// CHECK-NEXT:    ^bb0(%[[IN:[^ :,()]+]]: i8, %[[S:[^ :,()]+]]: f64, %[[Z:[^ :,()]+]]: f64, %{{.*}}: f32):
// CHECK-NEXT:      %[[WIDE:[^ :,()]+]] = arith.extsi %[[IN]] : i8 to i64
// CHECK-NEXT:      %[[F:[^ :,()]+]] = arith.sitofp %[[WIDE]] : i64 to f64
// CHECK-NEXT:      %[[SUB:[^ :,()]+]] = arith.subf %[[F]], %[[Z]] : f64
// CHECK-NEXT:      %[[MUL:[^ :,()]+]] = arith.mulf %[[SUB]], %[[S]] : f64
// CHECK-NEXT:      %[[T:[^ :,()]+]] = arith.truncf %[[MUL]] : f64 to f32
// CHECK-NEXT:      linalg.yield %[[T]] : f32
func.func @dequantize(%q: tensor<2x4x!a>) -> tensor<2x4xf32> {
  %x = myquant.dequantize %q : tensor<2x4x!a> -> tensor<2x4xf32>
  return %x : tensor<2x4xf32>
}

// -----

!u = !quant.uniform<u8:f32, 0.5:128>

// uint8 storage is zero-extended.
// CHECK-LABEL: func.func @dequantize_u8
// CHECK:         ^bb0(%[[IN:[^ :,()]+]]: i8,
// CHECK-NEXT:      arith.extui %[[IN]] : i8 to i64
// CHECK-NEXT:      arith.sitofp
func.func @dequantize_u8(%q: tensor<3x!u>) -> tensor<3xf32> {
  %x = myquant.dequantize %q : tensor<3x!u> -> tensor<3xf32>
  return %x : tensor<3xf32>
}

//===----------------------------------------------------------------------===//
// requantize
//===----------------------------------------------------------------------===//

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!y = !quant.uniform<i8:f32, 0.2:3>

// A precomputed `single` rescale: (v * m + 2^(s-1)) >> s in i64, saturated
// to int32, plus the output zero point, clamped and narrowed. The input zero
// point enters as an i32 offset vector (-zp_in = 4). The default rounding
// option does not change a precomputed rescale.
// CHECK-DAG:   #[[$ID:[^ :,()]+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG:   #[[$ZERO:[^ :,()]+]] = affine_map<(d0, d1) -> (0)>
// CHECK-LABEL: func.func @requantize_single
// CHECK-SAME:    (%[[X:[^ :,()]+]]: tensor<2x4xi8>) -> tensor<2x4xi8>
// CHECK-DAG:     %[[OFF:[^ :,()]+]] = arith.constant dense<4> : tensor<1xi32>
// CHECK-DAG:     %[[MULT:[^ :,()]+]] = arith.constant dense<1073741824> : tensor<1xi32>
// CHECK-DAG:     %[[SHIFT:[^ :,()]+]] = arith.constant dense<31> : tensor<1xi32>
// CHECK-DAG:     %[[INIT:[^ :,()]+]] = tensor.empty() : tensor<2x4xi8>
// CHECK:         %[[R:[^ :,()]+]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$ZERO]], #[[$ZERO]], #[[$ZERO]], #[[$ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME:      ins(%[[X]], %[[MULT]], %[[SHIFT]], %[[OFF]] : tensor<2x4xi8>, tensor<1xi32>, tensor<1xi32>, tensor<1xi32>) outs(%[[INIT]] : tensor<2x4xi8>)
// CHECK-NEXT:    ^bb0(%[[IN:[^ :,()]+]]: i8, %[[M:[^ :,()]+]]: i32, %[[S:[^ :,()]+]]: i32, %[[O:[^ :,()]+]]: i32, %{{.*}}: i8):
// CHECK-NEXT:      %[[V0:[^ :,()]+]] = arith.extsi %[[IN]] : i8 to i64
// CHECK-NEXT:      %[[O64:[^ :,()]+]] = arith.extsi %[[O]] : i32 to i64
// CHECK-NEXT:      %[[V:[^ :,()]+]] = arith.addi %[[V0]], %[[O64]] : i64
// CHECK-NEXT:      %[[M64:[^ :,()]+]] = arith.extsi %[[M]] : i32 to i64
// CHECK-NEXT:      %[[S64:[^ :,()]+]] = arith.extsi %[[S]] : i32 to i64
// CHECK-NEXT:      %[[ONE:[^ :,()]+]] = arith.constant 1 : i64
// CHECK-NEXT:      %[[POW:[^ :,()]+]] = arith.shli %[[ONE]], %[[S64]] : i64
// CHECK-NEXT:      %[[HALF:[^ :,()]+]] = arith.shrsi %[[POW]], %[[ONE]] : i64
// CHECK-NEXT:      %[[PROD:[^ :,()]+]] = arith.muli %[[V]], %[[M64]] : i64
// CHECK-NEXT:      %[[SUM:[^ :,()]+]] = arith.addi %[[PROD]], %[[HALF]] : i64
// CHECK-NEXT:      %[[SHR:[^ :,()]+]] = arith.shrsi %[[SUM]], %[[S64]] : i64
// CHECK-NEXT:      %[[IMIN:[^ :,()]+]] = arith.constant -2147483648 : i64
// CHECK-NEXT:      %[[SAT0:[^ :,()]+]] = arith.maxsi %[[SHR]], %[[IMIN]] : i64
// CHECK-NEXT:      %[[IMAX:[^ :,()]+]] = arith.constant 2147483647 : i64
// CHECK-NEXT:      %[[SAT:[^ :,()]+]] = arith.minsi %[[SAT0]], %[[IMAX]] : i64
// CHECK-NEXT:      %[[ZO:[^ :,()]+]] = arith.constant 3 : i64
// CHECK-NEXT:      %[[OUT:[^ :,()]+]] = arith.addi %[[SAT]], %[[ZO]] : i64
// CHECK-NEXT:      %[[QMIN:[^ :,()]+]] = arith.constant -128 : i64
// CHECK-NEXT:      %[[CL0:[^ :,()]+]] = arith.maxsi %[[OUT]], %[[QMIN]] : i64
// CHECK-NEXT:      %[[QMAX:[^ :,()]+]] = arith.constant 127 : i64
// CHECK-NEXT:      %[[CL:[^ :,()]+]] = arith.minsi %[[CL0]], %[[QMAX]] : i64
// CHECK-NEXT:      %[[NARROW:[^ :,()]+]] = arith.trunci %[[CL]] : i64 to i8
// CHECK-NEXT:      linalg.yield %[[NARROW]] : i8
// CHECK:         return %[[R]]
// GEMMLOWP-LABEL: func.func @requantize_single
// GEMMLOWP:         arith.constant dense<31> : tensor<1xi32>
// GEMMLOWP-NOT:     arith.divsi
// GEMMLOWP:         return
func.func @requantize_single(%x: tensor<2x4x!a>) -> tensor<2x4x!y> {
  %r = myquant.requantize %x {rescale = #myquant.rescale<multiplier = [1073741824], shift = [31], rounding = single>}
      : tensor<2x4x!a> -> tensor<2x4x!y>
  return %r : tensor<2x4x!y>
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!y = !quant.uniform<i8:f32, 0.2:3>

// A precomputed `gemmlowp` rescale: saturating left shift by max(0, 31 - s),
// SRDHM (nudge, then an i64 division by 2^31 that truncates), then a rounding
// divide by 2^max(0, s - 31) (mask, threshold, ties away from zero). The
// explicit clamp replaces the storage bounds.
// CHECK-LABEL: func.func @requantize_gemmlowp
// CHECK-DAG:     %[[MULT:[^ :,()]+]] = arith.constant dense<1518500250> : tensor<1xi32>
// CHECK-DAG:     %[[SHIFT:[^ :,()]+]] = arith.constant dense<34> : tensor<1xi32>
// CHECK:         linalg.generic
// CHECK-SAME:      ins(%{{.*}}, %[[MULT]], %[[SHIFT]], %{{.*}} :
// CHECK-NEXT:    ^bb0(%[[IN:[^ :,()]+]]: i8, %[[M:[^ :,()]+]]: i32, %[[S:[^ :,()]+]]: i32, %[[O:[^ :,()]+]]: i32, %{{.*}}: i8):
// CHECK-NEXT:      %[[V0:[^ :,()]+]] = arith.extsi %[[IN]] : i8 to i64
// CHECK-NEXT:      %[[O64:[^ :,()]+]] = arith.extsi %[[O]] : i32 to i64
// CHECK-NEXT:      %[[V:[^ :,()]+]] = arith.addi %[[V0]], %[[O64]] : i64
// CHECK-NEXT:      %[[M64:[^ :,()]+]] = arith.extsi %[[M]] : i32 to i64
// CHECK-NEXT:      %[[S64:[^ :,()]+]] = arith.extsi %[[S]] : i32 to i64
// CHECK-NEXT:      %[[ONE:[^ :,()]+]] = arith.constant 1 : i64
// CHECK-NEXT:      %[[ZERO:[^ :,()]+]] = arith.constant 0 : i64
// CHECK-NEXT:      %[[C31:[^ :,()]+]] = arith.constant 31 : i64
// CHECK-NEXT:      %[[L0:[^ :,()]+]] = arith.subi %[[C31]], %[[S64]] : i64
// CHECK-NEXT:      %[[LEFT:[^ :,()]+]] = arith.maxsi %[[L0]], %[[ZERO]] : i64
// CHECK-NEXT:      %[[R0:[^ :,()]+]] = arith.subi %[[S64]], %[[C31]] : i64
// CHECK-NEXT:      %[[RIGHT:[^ :,()]+]] = arith.maxsi %[[R0]], %[[ZERO]] : i64
// CHECK-NEXT:      %[[LPOW:[^ :,()]+]] = arith.shli %[[ONE]], %[[LEFT]] : i64
// CHECK-NEXT:      %[[LSH:[^ :,()]+]] = arith.muli %[[V]], %[[LPOW]] : i64
// CHECK-NEXT:      %[[IMIN:[^ :,()]+]] = arith.constant -2147483648 : i64
// CHECK-NEXT:      %[[X0:[^ :,()]+]] = arith.maxsi %[[LSH]], %[[IMIN]] : i64
// CHECK-NEXT:      %[[IMAX:[^ :,()]+]] = arith.constant 2147483647 : i64
// CHECK-NEXT:      %[[XS:[^ :,()]+]] = arith.minsi %[[X0]], %[[IMAX]] : i64
// CHECK-NEXT:      %[[AB:[^ :,()]+]] = arith.muli %[[XS]], %[[M64]] : i64
// CHECK-NEXT:      %[[POS:[^ :,()]+]] = arith.constant 1073741824 : i64
// CHECK-NEXT:      %[[NEG:[^ :,()]+]] = arith.constant -1073741823 : i64
// CHECK-NEXT:      %[[GE:[^ :,()]+]] = arith.cmpi sge, %[[AB]], %[[ZERO]] : i64
// CHECK-NEXT:      %[[NUDGE:[^ :,()]+]] = arith.select %[[GE]], %[[POS]], %[[NEG]] : i64
// CHECK-NEXT:      %[[ABN:[^ :,()]+]] = arith.addi %[[AB]], %[[NUDGE]] : i64
// CHECK-NEXT:      %[[TWO31:[^ :,()]+]] = arith.constant 2147483648 : i64
// CHECK-NEXT:      %[[HIGH:[^ :,()]+]] = arith.divsi %[[ABN]], %[[TWO31]] : i64
// CHECK-NEXT:      %[[RPOW:[^ :,()]+]] = arith.shli %[[ONE]], %[[RIGHT]] : i64
// CHECK-NEXT:      %[[MASK:[^ :,()]+]] = arith.subi %[[RPOW]], %[[ONE]] : i64
// CHECK-NEXT:      %[[REM:[^ :,()]+]] = arith.andi %[[HIGH]], %[[MASK]] : i64
// CHECK-NEXT:      %[[HALFMASK:[^ :,()]+]] = arith.shrsi %[[MASK]], %[[ONE]] : i64
// CHECK-NEXT:      %[[ISNEG:[^ :,()]+]] = arith.cmpi slt, %[[HIGH]], %[[ZERO]] : i64
// CHECK-NEXT:      %[[NEGBIT:[^ :,()]+]] = arith.select %[[ISNEG]], %[[ONE]], %[[ZERO]] : i64
// CHECK-NEXT:      %[[THRESH:[^ :,()]+]] = arith.addi %[[HALFMASK]], %[[NEGBIT]] : i64
// CHECK-NEXT:      %[[GT:[^ :,()]+]] = arith.cmpi sgt, %[[REM]], %[[THRESH]] : i64
// CHECK-NEXT:      %[[UP:[^ :,()]+]] = arith.select %[[GT]], %[[ONE]], %[[ZERO]] : i64
// CHECK-NEXT:      %[[SHR:[^ :,()]+]] = arith.shrsi %[[HIGH]], %[[RIGHT]] : i64
// CHECK-NEXT:      %[[RES:[^ :,()]+]] = arith.addi %[[SHR]], %[[UP]] : i64
// CHECK-NEXT:      %[[ZO:[^ :,()]+]] = arith.constant 3 : i64
// CHECK-NEXT:      %[[OUT:[^ :,()]+]] = arith.addi %[[RES]], %[[ZO]] : i64
// CHECK-NEXT:      %[[LO:[^ :,()]+]] = arith.constant 3 : i64
// CHECK-NEXT:      %[[CL0:[^ :,()]+]] = arith.maxsi %[[OUT]], %[[LO]] : i64
// CHECK-NEXT:      %[[HI:[^ :,()]+]] = arith.constant 100 : i64
// CHECK-NEXT:      %[[CL:[^ :,()]+]] = arith.minsi %[[CL0]], %[[HI]] : i64
// CHECK-NEXT:      %[[NARROW:[^ :,()]+]] = arith.trunci %[[CL]] : i64 to i8
// CHECK-NEXT:      linalg.yield %[[NARROW]] : i8
func.func @requantize_gemmlowp(%x: tensor<2x4x!a>) -> tensor<2x4x!y> {
  %r = myquant.requantize %x {rescale = #myquant.rescale<multiplier = [1518500250], shift = [34], rounding = gemmlowp>,
                              clamp = #myquant.clamp<3, 100>}
      : tensor<2x4x!a> -> tensor<2x4x!y>
  return %r : tensor<2x4x!y>
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!y8 = !quant.uniform<i8:f32, 0.8:3>

// No precomputed rescale: 0.1 / 0.8 = 0.125 -> (2^30, 33), rounded with the
// pass's default-rounding.
// CHECK-LABEL: func.func @requantize_default_rounding
// CHECK-DAG:     arith.constant dense<1073741824> : tensor<1xi32>
// CHECK-DAG:     arith.constant dense<33> : tensor<1xi32>
// CHECK:         linalg.generic
// CHECK:           arith.shli
// CHECK-NEXT:      arith.shrsi
// CHECK-NEXT:      arith.muli
// CHECK-NEXT:      arith.addi
// CHECK-NEXT:      arith.shrsi
// CHECK-NOT:       arith.divsi
// CHECK:         return
// GEMMLOWP-LABEL: func.func @requantize_default_rounding
// GEMMLOWP-DAG:     arith.constant dense<1073741824> : tensor<1xi32>
// GEMMLOWP-DAG:     arith.constant dense<33> : tensor<1xi32>
// GEMMLOWP:         linalg.generic
// GEMMLOWP:           arith.constant 2147483647 : i64
// GEMMLOWP-NEXT:      arith.minsi
// GEMMLOWP-NEXT:      %[[AB:[^ :,()]+]] = arith.muli
// GEMMLOWP:           arith.cmpi sge, %[[AB]]
// GEMMLOWP:           %[[HIGH:[^ :,()]+]] = arith.divsi %{{.*}}, %{{.*}} : i64
// GEMMLOWP:           %[[MASK:[^ :,()]+]] = arith.subi
// GEMMLOWP-NEXT:      arith.andi %[[HIGH]], %[[MASK]] : i64
// GEMMLOWP:           arith.cmpi slt, %[[HIGH]]
// GEMMLOWP:           arith.cmpi sgt
// GEMMLOWP:           arith.shrsi %[[HIGH]]
// GEMMLOWP:         return
func.func @requantize_default_rounding(%x: tensor<2x4x!a>) -> tensor<2x4x!y8> {
  %r = myquant.requantize %x : tensor<2x4x!a> -> tensor<2x4x!y8>
  return %r : tensor<2x4x!y8>
}

// -----

!pa = !quant.uniform<i8:f32:1, {0.1:-4, 0.3:5}>
!y = !quant.uniform<i8:f32, 0.2:3>

// A per-axis input: one multiplier, shift and zero point offset per channel of
// axis 1, read through (d1). 0.1 / 0.2 -> (2^30, 31); 0.3 / 0.2 -> (3 * 2^29, 30).
// CHECK-DAG:   #[[$ID:[^ :,()]+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG:   #[[$COL:[^ :,()]+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @requantize_per_axis
// CHECK-DAG:     %[[OFF:[^ :,()]+]] = arith.constant dense<[4, -5]> : tensor<2xi32>
// CHECK-DAG:     %[[MULT:[^ :,()]+]] = arith.constant dense<[1073741824, 1610612736]> : tensor<2xi32>
// CHECK-DAG:     %[[SHIFT:[^ :,()]+]] = arith.constant dense<[31, 30]> : tensor<2xi32>
// CHECK:         linalg.generic {indexing_maps = [#[[$ID]], #[[$COL]], #[[$COL]], #[[$COL]], #[[$ID]]]
// CHECK-SAME:      ins(%{{.*}}, %[[MULT]], %[[SHIFT]], %[[OFF]] : tensor<4x2xi8>, tensor<2xi32>, tensor<2xi32>, tensor<2xi32>)
func.func @requantize_per_axis(%x: tensor<4x2x!pa>) -> tensor<4x2x!y> {
  %r = myquant.requantize %x : tensor<4x2x!pa> -> tensor<4x2x!y>
  return %r : tensor<4x2x!y>
}

// -----

!b = !quant.uniform<i32:f32, 0.001>
!y = !quant.uniform<i8:f32, 0.2:3>

// int32 storage: the input is i32 and extended to i64 directly.
// CHECK-LABEL: func.func @requantize_i32_input
// CHECK-SAME:    (%{{.*}}: tensor<4xi32>) -> tensor<4xi8>
// CHECK-DAG:     arith.constant dense<0> : tensor<1xi32>
// CHECK-DAG:     arith.constant dense<1374389535> : tensor<1xi32>
// CHECK-DAG:     arith.constant dense<38> : tensor<1xi32>
// CHECK:         ^bb0(%[[IN:[^ :,()]+]]: i32,
// CHECK-NEXT:      arith.extsi %[[IN]] : i32 to i64
func.func @requantize_i32_input(%x: tensor<4x!b>) -> tensor<4x!y> {
  %r = myquant.requantize %x : tensor<4x!b> -> tensor<4x!y>
  return %r : tensor<4x!y>
}

//===----------------------------------------------------------------------===//
// clamp and table
//===----------------------------------------------------------------------===//

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>

// CHECK-LABEL: func.func @clamp
// CHECK-SAME:    (%[[X:[^ :,()]+]]: tensor<4xi8>) -> tensor<4xi8>
// CHECK:         linalg.generic
// CHECK-SAME:      ins(%[[X]] : tensor<4xi8>)
// CHECK-NEXT:    ^bb0(%[[IN:[^ :,()]+]]: i8, %{{.*}}: i8):
// CHECK-NEXT:      %[[W:[^ :,()]+]] = arith.extsi %[[IN]] : i8 to i64
// CHECK-NEXT:      %[[LO:[^ :,()]+]] = arith.constant -4 : i64
// CHECK-NEXT:      %[[A:[^ :,()]+]] = arith.maxsi %[[W]], %[[LO]] : i64
// CHECK-NEXT:      %[[HI:[^ :,()]+]] = arith.constant 56 : i64
// CHECK-NEXT:      %[[B:[^ :,()]+]] = arith.minsi %[[A]], %[[HI]] : i64
// CHECK-NEXT:      %[[T:[^ :,()]+]] = arith.trunci %[[B]] : i64 to i8
// CHECK-NEXT:      linalg.yield %[[T]] : i8
func.func @clamp(%x: tensor<4x!a>) -> tensor<4x!a> {
  %0 = myquant.clamp %x <-4, 56> : tensor<4x!a>
  return %0 : tensor<4x!a>
}

// -----

!u = !quant.uniform<u8:f32, 0.1:128>

// uint8: zero-extended before the (unsigned-range) bounds.
// CHECK-LABEL: func.func @clamp_u8
// CHECK:         arith.extui %{{.*}} : i8 to i64
// CHECK-NEXT:    arith.constant 128 : i64
// CHECK-NEXT:    arith.maxsi
// CHECK-NEXT:    arith.constant 200 : i64
// CHECK-NEXT:    arith.minsi
func.func @clamp_u8(%x: tensor<4x!u>) -> tensor<4x!u> {
  %0 = myquant.clamp %x <128, 200> : tensor<4x!u>
  return %0 : tensor<4x!u>
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!y = !quant.uniform<i8:f32, 0.2:3>

// The 256 entries become an i8 constant indexed by x - qmin_in.
// CHECK-LABEL: func.func @table
// CHECK:         %[[TABLE:[^ :,()]+]] = arith.constant dense<"0x808182{{[0-9A-F]*}}7D7E7F"> : tensor<256xi8>
// CHECK:         linalg.generic
// CHECK-NEXT:    ^bb0(%[[IN:[^ :,()]+]]: i8, %{{.*}}: i8):
// CHECK-NEXT:      %[[W:[^ :,()]+]] = arith.extsi %[[IN]] : i8 to i64
// CHECK-NEXT:      %[[QMIN:[^ :,()]+]] = arith.constant -128 : i64
// CHECK-NEXT:      %[[OFF:[^ :,()]+]] = arith.subi %[[W]], %[[QMIN]] : i64
// CHECK-NEXT:      %[[IDX:[^ :,()]+]] = arith.index_cast %[[OFF]] : i64 to index
// CHECK-NEXT:      %[[E:[^ :,()]+]] = tensor.extract %[[TABLE]][%[[IDX]]] : tensor<256xi8>
// CHECK-NEXT:      linalg.yield %[[E]] : i8
func.func @table(%x: tensor<4x!a>) -> tensor<4x!y> {
  %0 = myquant.table %x {values = array<i32: -128, -127, -126, -125, -124, -123, -122, -121, -120, -119, -118, -117, -116, -115, -114, -113, -112, -111, -110, -109, -108, -107, -106, -105, -104, -103, -102, -101, -100, -99, -98, -97, -96, -95, -94, -93, -92, -91, -90, -89, -88, -87, -86, -85, -84, -83, -82, -81, -80, -79, -78, -77, -76, -75, -74, -73, -72, -71, -70, -69, -68, -67, -66, -65, -64, -63, -62, -61, -60, -59, -58, -57, -56, -55, -54, -53, -52, -51, -50, -49, -48, -47, -46, -45, -44, -43, -42, -41, -40, -39, -38, -37, -36, -35, -34, -33, -32, -31, -30, -29, -28, -27, -26, -25, -24, -23, -22, -21, -20, -19, -18, -17, -16, -15, -14, -13, -12, -11, -10, -9, -8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127>} : tensor<4x!a> -> tensor<4x!y>
  return %0 : tensor<4x!y>
}

//===----------------------------------------------------------------------===//
// add and mul
//===----------------------------------------------------------------------===//

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!y = !quant.uniform<i8:f32, 0.2:3>

// TFLite add: twice_max = 0.4; lhs 0.25 -> (2^30, 32), rhs 0.5 -> (2^30, 31),
// sum 0.4 / (2^20 * 0.2) = 2^-19 -> (2^30, 49). With single rounding the
// add has a linear form equal to the three rescales for all 2^16 operand
// pairs (NumericSpec 3.2): the result is round_half_up((x + 4) / 2 +
// (y - 3)) + 3 = floor(((x + 4) 2^22 + (y - 3) 2^23 + 3.5 * 2^23) / 2^23),
// k = 23 the largest shift with 131 (2^22 + 1) + 131 (2^23 + 1) < 2^31.
// CHECK-LABEL: func.func @add
// CHECK-SAME:    (%[[A:[^ :,()]+]]: tensor<4xi8>, %[[B:[^ :,()]+]]: tensor<4xi8>) -> tensor<4xi8>
// CHECK:         linalg.generic
// CHECK-SAME:      ins(%[[A]], %[[B]] : tensor<4xi8>, tensor<4xi8>)
// CHECK-NEXT:    ^bb0(%[[X:[^ :,()]+]]: i8, %[[Y:[^ :,()]+]]: i8, %{{.*}}: i8):
// CHECK-NEXT:      %[[XW:[^ :,()]+]] = arith.extsi %[[X]] : i8 to i32
// CHECK-NEXT:      %[[ZA:[^ :,()]+]] = arith.constant -4 : i32
// CHECK-NEXT:      %[[XC:[^ :,()]+]] = arith.subi %[[XW]], %[[ZA]] : i32
// CHECK-NEXT:      %[[YW:[^ :,()]+]] = arith.extsi %[[Y]] : i8 to i32
// CHECK-NEXT:      arith.constant 3 : i32
// CHECK-NEXT:      %[[YC:[^ :,()]+]] = arith.subi %[[YW]], %{{.*}} : i32
// CHECK-NEXT:      %[[MA:[^ :,()]+]] = arith.constant 4194304 : i32
// CHECK-NEXT:      %[[XP:[^ :,()]+]] = arith.muli %[[XC]], %[[MA]] : i32
// CHECK-NEXT:      %[[MB:[^ :,()]+]] = arith.constant 8388608 : i32
// CHECK-NEXT:      %[[YP:[^ :,()]+]] = arith.muli %[[YC]], %[[MB]] : i32
// CHECK-NEXT:      %[[S:[^ :,()]+]] = arith.addi %[[XP]], %[[YP]] : i32
// CHECK-NEXT:      %[[C:[^ :,()]+]] = arith.constant 29360128 : i32
// CHECK-NEXT:      %[[SC:[^ :,()]+]] = arith.addi %[[S]], %[[C]] : i32
// CHECK-NEXT:      %[[K:[^ :,()]+]] = arith.constant 23 : i32
// CHECK-NEXT:      %[[Q:[^ :,()]+]] = arith.shrsi %[[SC]], %[[K]] : i32
// CHECK-NEXT:      arith.constant -128 : i32
// CHECK-NEXT:      arith.maxsi %[[Q]]
// CHECK-NEXT:      arith.constant 127 : i32
// CHECK-NEXT:      arith.minsi
// CHECK-NEXT:      arith.trunci %{{.*}} : i32 to i8
// With gemmlowp rounding the add keeps the 64-bit form of NumericSpec 2.2.
// GEMMLOWP-LABEL: func.func @add
// GEMMLOWP:         arith.extsi %{{.*}} : i8 to i64
// GEMMLOWP:         arith.constant 1048576 : i64
// GEMMLOWP:         arith.divsi
// GEMMLOWP:         arith.trunci %{{.*}} : i64 to i8
func.func @add(%a: tensor<4x!a>, %b: tensor<4x!y>) -> tensor<4x!y> {
  %0 = myquant.add %a, %b : (tensor<4x!a>, tensor<4x!y>) -> tensor<4x!y>
  return %0 : tensor<4x!y>
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!y = !quant.uniform<i8:f32, 0.2:3>

// (a - za) * (b - zb) in i64, rescaled by 0.1 * 0.2 / 0.2 -> (1717986918, 34),
// then the fused relu clamp<3, 127>.
// CHECK-LABEL: func.func @mul
// CHECK:         ^bb0(%[[X:[^ :,()]+]]: i8, %[[Y:[^ :,()]+]]: i8, %{{.*}}: i8):
// CHECK-NEXT:      %[[XW:[^ :,()]+]] = arith.extsi %[[X]] : i8 to i64
// CHECK-NEXT:      %[[ZA:[^ :,()]+]] = arith.constant -4 : i64
// CHECK-NEXT:      %[[XC:[^ :,()]+]] = arith.subi %[[XW]], %[[ZA]] : i64
// CHECK-NEXT:      %[[YW:[^ :,()]+]] = arith.extsi %[[Y]] : i8 to i64
// CHECK-NEXT:      %[[ZB:[^ :,()]+]] = arith.constant 3 : i64
// CHECK-NEXT:      %[[YC:[^ :,()]+]] = arith.subi %[[YW]], %[[ZB]] : i64
// CHECK-NEXT:      %[[P:[^ :,()]+]] = arith.muli %[[XC]], %[[YC]] : i64
// CHECK-NEXT:      arith.constant 1717986918 : i32
// CHECK-NEXT:      arith.constant 34 : i32
// CHECK:           arith.muli %[[P]], %{{.*}} : i64
// CHECK:           arith.constant 3 : i64
// CHECK-NEXT:      arith.addi
// CHECK-NEXT:      arith.constant 3 : i64
// CHECK-NEXT:      arith.maxsi
// CHECK-NEXT:      arith.constant 127 : i64
// CHECK-NEXT:      arith.minsi
// CHECK-NEXT:      arith.trunci
// GEMMLOWP-LABEL: func.func @mul
// GEMMLOWP:         arith.constant 1717986918 : i32
// GEMMLOWP-NEXT:    arith.constant 34 : i32
// GEMMLOWP:         arith.divsi
func.func @mul(%a: tensor<4x!a>, %b: tensor<4x!y>) -> tensor<4x!y> {
  %0 = myquant.mul %a, %b {clamp = #myquant.clamp<3, 127>} : (tensor<4x!a>, tensor<4x!y>) -> tensor<4x!y>
  return %0 : tensor<4x!y>
}

//===----------------------------------------------------------------------===//
// conv2d
//===----------------------------------------------------------------------===//

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!y = !quant.uniform<i8:f32, 0.2:3>
!w = !quant.uniform<i8<-127:127>:f32:0, {0.01, 0.02, 0.04, 0.05}>
!bq = !quant.uniform<i32:f32:0, {0.001, 0.002, 0.004, 0.005}>

// NCHW, 2 groups of 2 channels, padding 1 with the input zero point (-4).
// Channels split into (group, channel) by expand_shape, one 8-loop generic
// (n, g, f, oh, ow | c, kh, kw), collapse back, then the per-channel epilogue
// with the bias as offset. The weights are constant, so the input zero
// point's share -(-4) * sum(w[f]) = 4 * 18 is folded into the bias
// ([10, -20, 30, -40] -> [82, 52, 102, 32]) and the body reads x as it is. Multipliers 0.1 * s_w[f] / 0.2:
// (1374389535, 38), (1374389535, 37), (1374389535, 36), (1717986918, 36).
// CHECK-DAG:   #[[$IN:[^ :,()]+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d5, d3 + d6, d4 + d7)>
// CHECK-DAG:   #[[$FILTER:[^ :,()]+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d2, d5, d6, d7)>
// CHECK-DAG:   #[[$OUT:[^ :,()]+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d3, d4)>
// CHECK-DAG:   #[[$ID4:[^ :,()]+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG:   #[[$CH1:[^ :,()]+]] = affine_map<(d0, d1, d2, d3) -> (d1)>
// CHECK-LABEL: func.func @conv2d_nchw_grouped
// CHECK-SAME:    (%[[X:[^ :,()]+]]: tensor<1x4x4x4xi8>) -> tensor<1x4x4x4xi8>
// CHECK-DAG:     %[[W:[^ :,()]+]] = arith.constant dense<{{.*}}> : tensor<4x2x3x3xi8>
// CHECK-DAG:     %[[PADV:[^ :,()]+]] = arith.constant -4 : i8
// CHECK:         %[[PAD:[^ :,()]+]] = tensor.pad %[[X]] low[0, 0, 1, 1] high[0, 0, 1, 1] {
// CHECK:           tensor.yield %[[PADV]] : i8
// CHECK:         } : tensor<1x4x4x4xi8> to tensor<1x4x6x6xi8>
// CHECK:         %[[GX:[^ :,()]+]] = tensor.expand_shape %[[PAD]] {{\[\[}}0], [1, 2], [3], [4]] output_shape [1, 2, 2, 6, 6] : tensor<1x4x6x6xi8> into tensor<1x2x2x6x6xi8>
// CHECK:         %[[GW:[^ :,()]+]] = tensor.expand_shape %[[W]] {{\[\[}}0, 1], [2], [3], [4]] output_shape [2, 2, 2, 3, 3] : tensor<4x2x3x3xi8> into tensor<2x2x2x3x3xi8>
// CHECK:         %[[B:[^ :,()]+]] = arith.constant dense<[82, 52, 102, 32]> : tensor<4xi32>
// CHECK:         %[[E:[^ :,()]+]] = tensor.empty() : tensor<1x2x2x4x4xi32>
// CHECK:         %[[Z:[^ :,()]+]] = arith.constant 0 : i32
// CHECK:         %[[ACC:[^ :,()]+]] = linalg.fill ins(%[[Z]] : i32) outs(%[[E]] : tensor<1x2x2x4x4xi32>)
// CHECK:         %[[SUM:[^ :,()]+]] = linalg.generic {indexing_maps = [#[[$IN]], #[[$FILTER]], #[[$OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
// CHECK-SAME:      ins(%[[GX]], %[[GW]] : tensor<1x2x2x6x6xi8>, tensor<2x2x2x3x3xi8>) outs(%[[ACC]] : tensor<1x2x2x4x4xi32>)
// CHECK-NEXT:    ^bb0(%[[XI:[^ :,()]+]]: i8, %[[WI:[^ :,()]+]]: i8, %[[ACCI:[^ :,()]+]]: i32):
// CHECK-NEXT:      %[[XW:[^ :,()]+]] = arith.extsi %[[XI]] : i8 to i32
// CHECK-NEXT:      %[[WW:[^ :,()]+]] = arith.extsi %[[WI]] : i8 to i32
// CHECK-NEXT:      %[[P:[^ :,()]+]] = arith.muli %[[XW]], %[[WW]] : i32
// CHECK-NEXT:      %[[NEXT:[^ :,()]+]] = arith.addi %[[ACCI]], %[[P]] : i32
// CHECK-NEXT:      linalg.yield %[[NEXT]] : i32
// CHECK:         %[[FLAT:[^ :,()]+]] = tensor.collapse_shape %[[SUM]] {{\[\[}}0], [1, 2], [3], [4]] : tensor<1x2x2x4x4xi32> into tensor<1x4x4x4xi32>
// CHECK-DAG:     %[[MULT:[^ :,()]+]] = arith.constant dense<[1374389535, 1374389535, 1374389535, 1717986918]> : tensor<4xi32>
// CHECK-DAG:     %[[SHIFT:[^ :,()]+]] = arith.constant dense<[38, 37, 36, 36]> : tensor<4xi32>
// CHECK:         %[[R:[^ :,()]+]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$CH1]], #[[$CH1]], #[[$CH1]], #[[$ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
// CHECK-SAME:      ins(%[[FLAT]], %[[MULT]], %[[SHIFT]], %[[B]] : tensor<1x4x4x4xi32>, tensor<4xi32>, tensor<4xi32>, tensor<4xi32>) outs(%{{.*}} : tensor<1x4x4x4xi8>)
// CHECK-NEXT:    ^bb0(%[[ACCV:[^ :,()]+]]: i32, %{{.*}}: i32, %{{.*}}: i32, %[[BIAS:[^ :,()]+]]: i32, %{{.*}}: i8):
// CHECK-NEXT:      %[[A64:[^ :,()]+]] = arith.extsi %[[ACCV]] : i32 to i64
// CHECK-NEXT:      %[[B64:[^ :,()]+]] = arith.extsi %[[BIAS]] : i32 to i64
// CHECK-NEXT:      arith.addi %[[A64]], %[[B64]] : i64
// CHECK:           arith.constant 3 : i64
// CHECK:           arith.trunci %{{.*}} : i64 to i8
// CHECK:         return %[[R]] : tensor<1x4x4x4xi8>
func.func @conv2d_nchw_grouped(%x: tensor<1x4x4x4x!a>) -> tensor<1x4x4x4x!y> {
  %wc = arith.constant dense<1> : tensor<4x2x3x3xi8>
  %w = quant.scast %wc : tensor<4x2x3x3xi8> to tensor<4x2x3x3x!w>
  %bc = arith.constant dense<[10, -20, 30, -40]> : tensor<4xi32>
  %b = quant.scast %bc : tensor<4xi32> to tensor<4x!bq>
  %0 = myquant.conv2d %x, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>,
      dilations = array<i64: 1, 1>, groups = 2 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x4x4x4x!a>, tensor<4x2x3x3x!w>, tensor<4x!bq>) -> tensor<1x4x4x4x!y>
  return %0 : tensor<1x4x4x4x!y>
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!y = !quant.uniform<i8:f32, 0.2:3>
!wd = !quant.uniform<i8<-127:127>:f32:3, {0.01, 0.02, 0.04}>

// NHWC depthwise: groups = C = 3, filter KH x KW x 1 x C, loops
// (n, oh, ow, g, f | kh, kw, c); strides [2, 1] and dilations [1, 2] appear in
// the input map. No padding, no bias: no tensor.pad and no offset operand.
// CHECK-DAG:   #[[$IN:[^ :,()]+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1 * 2 + d5, d2 + d6 * 2, d3, d7)>
// CHECK-DAG:   #[[$FILTER:[^ :,()]+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d5, d6, d7, d3, d4)>
// CHECK-DAG:   #[[$OUT:[^ :,()]+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d3, d4)>
// CHECK-DAG:   #[[$ID4:[^ :,()]+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG:   #[[$CH3:[^ :,()]+]] = affine_map<(d0, d1, d2, d3) -> (d3)>
// CHECK-LABEL: func.func @conv2d_nhwc_depthwise
// CHECK-SAME:    (%[[X:[^ :,()]+]]: tensor<1x5x6x3xi8>, %[[W:[^ :,()]+]]: tensor<3x3x1x3xi8>) -> tensor<1x2x2x3xi8>
// CHECK-NOT:     tensor.pad
// CHECK:         %[[GX:[^ :,()]+]] = tensor.expand_shape %[[X]] {{\[\[}}0], [1], [2], [3, 4]] output_shape [1, 5, 6, 3, 1] : tensor<1x5x6x3xi8> into tensor<1x5x6x3x1xi8>
// CHECK:         %[[GW:[^ :,()]+]] = tensor.expand_shape %[[W]] {{\[\[}}0], [1], [2], [3, 4]] output_shape [3, 3, 1, 3, 1] : tensor<3x3x1x3xi8> into tensor<3x3x1x3x1xi8>
// CHECK:         %[[SUM:[^ :,()]+]] = linalg.generic {indexing_maps = [#[[$IN]], #[[$FILTER]], #[[$OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
// CHECK-SAME:      ins(%[[GX]], %[[GW]] : tensor<1x5x6x3x1xi8>, tensor<3x3x1x3x1xi8>) outs(%{{.*}} : tensor<1x2x2x3x1xi32>)
// CHECK:         %[[FLAT:[^ :,()]+]] = tensor.collapse_shape %[[SUM]] {{\[\[}}0], [1], [2], [3, 4]] : tensor<1x2x2x3x1xi32> into tensor<1x2x2x3xi32>
// CHECK-DAG:     %[[MULT:[^ :,()]+]] = arith.constant dense<1374389535> : tensor<3xi32>
// CHECK-DAG:     %[[SHIFT:[^ :,()]+]] = arith.constant dense<[38, 37, 36]> : tensor<3xi32>
// CHECK:         linalg.generic {indexing_maps = [#[[$ID4]], #[[$CH3]], #[[$CH3]], #[[$ID4]]]
// CHECK-SAME:      ins(%[[FLAT]], %[[MULT]], %[[SHIFT]] : tensor<1x2x2x3xi32>, tensor<3xi32>, tensor<3xi32>)
func.func @conv2d_nhwc_depthwise(%x: tensor<1x5x6x3x!a>, %w: tensor<3x3x1x3x!wd>) -> tensor<1x2x2x3x!y> {
  %0 = myquant.conv2d %x, %w {strides = array<i64: 2, 1>, padding = array<i64: 0, 0, 0, 0>,
      dilations = array<i64: 1, 2>, groups = 3 : i64, layout = #myquant.layout<nhwc>}
      : (tensor<1x5x6x3x!a>, tensor<3x3x1x3x!wd>) -> tensor<1x2x2x3x!y>
  return %0 : tensor<1x2x2x3x!y>
}

//===----------------------------------------------------------------------===//
// matmul
//===----------------------------------------------------------------------===//

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!y = !quant.uniform<i8:f32, 0.2:3>
!wm = !quant.uniform<i8<-127:127>:f32:1, {0.01, 0.02, 0.04}>

// K x N rhs, per-channel along N, with a raw i32 bias.
// CHECK-DAG:   #[[$LHS:[^ :,()]+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG:   #[[$RHS:[^ :,()]+]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-DAG:   #[[$ACC:[^ :,()]+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG:   #[[$ID2:[^ :,()]+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG:   #[[$N:[^ :,()]+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @matmul
// CHECK-SAME:    (%[[X:[^ :,()]+]]: tensor<2x4xi8>, %[[W:[^ :,()]+]]: tensor<4x3xi8>, %[[B:[^ :,()]+]]: tensor<3xi32>) -> tensor<2x3xi8>
// CHECK:         %[[ACC:[^ :,()]+]] = linalg.fill ins(%{{.*}} : i32) outs(%{{.*}} : tensor<2x3xi32>)
// CHECK:         %[[SUM:[^ :,()]+]] = linalg.generic {indexing_maps = [#[[$LHS]], #[[$RHS]], #[[$ACC]]], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME:      ins(%[[X]], %[[W]] : tensor<2x4xi8>, tensor<4x3xi8>) outs(%[[ACC]] : tensor<2x3xi32>)
// CHECK:           arith.constant -4 : i32
// CHECK:           arith.muli
// CHECK-NEXT:      arith.addi
// CHECK-DAG:     %[[MULT:[^ :,()]+]] = arith.constant dense<1374389535> : tensor<3xi32>
// CHECK-DAG:     %[[SHIFT:[^ :,()]+]] = arith.constant dense<[38, 37, 36]> : tensor<3xi32>
// CHECK:         linalg.generic {indexing_maps = [#[[$ID2]], #[[$N]], #[[$N]], #[[$N]], #[[$ID2]]]
// CHECK-SAME:      ins(%[[SUM]], %[[MULT]], %[[SHIFT]], %[[B]] : tensor<2x3xi32>, tensor<3xi32>, tensor<3xi32>, tensor<3xi32>)
func.func @matmul(%x: tensor<2x4x!a>, %w: tensor<4x3x!wm>, %b: tensor<3xi32>) -> tensor<2x3x!y> {
  %0 = myquant.matmul %x, %w, %b : (tensor<2x4x!a>, tensor<4x3x!wm>, tensor<3xi32>) -> tensor<2x3x!y>
  return %0 : tensor<2x3x!y>
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!y = !quant.uniform<i8:f32, 0.2:3>
!wt = !quant.uniform<i8<-127:127>:f32:0, {0.01, 0.02, 0.04}>

// N x K rhs with transpose_rhs: the rhs map is (n, k).
// CHECK-DAG:   #[[$LHS:[^ :,()]+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG:   #[[$RHS:[^ :,()]+]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG:   #[[$ACC:[^ :,()]+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @matmul_transpose_rhs
// CHECK-SAME:    (%[[X:[^ :,()]+]]: tensor<2x4xi8>, %[[W:[^ :,()]+]]: tensor<3x4xi8>) -> tensor<2x3xi8>
// CHECK:         linalg.generic {indexing_maps = [#[[$LHS]], #[[$RHS]], #[[$ACC]]], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME:      ins(%[[X]], %[[W]] : tensor<2x4xi8>, tensor<3x4xi8>)
// CHECK:         arith.constant dense<[38, 37, 36]> : tensor<3xi32>
func.func @matmul_transpose_rhs(%x: tensor<2x4x!a>, %w: tensor<3x4x!wt>) -> tensor<2x3x!y> {
  %0 = myquant.matmul %x, %w {transpose_rhs} : (tensor<2x4x!a>, tensor<3x4x!wt>) -> tensor<2x3x!y>
  return %0 : tensor<2x3x!y>
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!y = !quant.uniform<i8:f32, 0.2:3>
!b = !quant.uniform<i8:f32, 0.05:7>

// Batched activation x activation: the per-tensor rhs zero point (7) is
// subtracted in the body; one multiplier 0.1 * 0.05 / 0.2 -> (1717986918, 36).
// CHECK-DAG:   #[[$LHS:[^ :,()]+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG:   #[[$RHS:[^ :,()]+]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
// CHECK-DAG:   #[[$ACC:[^ :,()]+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG:   #[[$ID3:[^ :,()]+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG:   #[[$ZERO3:[^ :,()]+]] = affine_map<(d0, d1, d2) -> (0)>
// CHECK-LABEL: func.func @batch_matmul
// CHECK-SAME:    (%[[X:[^ :,()]+]]: tensor<5x2x4xi8>, %[[Y:[^ :,()]+]]: tensor<5x4x3xi8>) -> tensor<5x2x3xi8>
// CHECK:         %[[SUM:[^ :,()]+]] = linalg.generic {indexing_maps = [#[[$LHS]], #[[$RHS]], #[[$ACC]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME:      ins(%[[X]], %[[Y]] : tensor<5x2x4xi8>, tensor<5x4x3xi8>) outs(%{{.*}} : tensor<5x2x3xi32>)
// CHECK:           arith.constant -4 : i32
// CHECK:           arith.constant 7 : i32
// CHECK-DAG:     %[[MULT:[^ :,()]+]] = arith.constant dense<1717986918> : tensor<1xi32>
// CHECK-DAG:     %[[SHIFT:[^ :,()]+]] = arith.constant dense<36> : tensor<1xi32>
// CHECK:         linalg.generic {indexing_maps = [#[[$ID3]], #[[$ZERO3]], #[[$ZERO3]], #[[$ID3]]]
// CHECK-SAME:      ins(%[[SUM]], %[[MULT]], %[[SHIFT]] : tensor<5x2x3xi32>, tensor<1xi32>, tensor<1xi32>)
func.func @batch_matmul(%x: tensor<5x2x4x!a>, %y: tensor<5x4x3x!b>) -> tensor<5x2x3x!y> {
  %0 = myquant.matmul %x, %y : (tensor<5x2x4x!a>, tensor<5x4x3x!b>) -> tensor<5x2x3x!y>
  return %0 : tensor<5x2x3x!y>
}

//===----------------------------------------------------------------------===//
// pooling
//===----------------------------------------------------------------------===//

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>

// No padded copy: padded cells hold the storage minimum (-128), below every
// input cell, so each window is clipped to its taps inside the input. The
// output positions with the same taps form a region, reduced by one generic
// over a slice of the input with the region's kernel and inserted into the
// result: row 0 has the kernel rows 1-2 (the top padding row clipped), row 1
// all three; the same for the columns.
// CHECK-DAG:   #[[$IN:[^ :,()]+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 * 2 + d4, d3 * 2 + d5)>
// CHECK-DAG:   #[[$WIN:[^ :,()]+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d4, d5)>
// CHECK-DAG:   #[[$OUT:[^ :,()]+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @max_pool2d
// CHECK-SAME:    (%[[X:[^ :,()]+]]: tensor<1x2x4x4xi8>) -> tensor<1x2x2x2xi8>
// CHECK-NOT:     tensor.pad
// CHECK:         %[[MIN:[^ :,()]+]] = arith.constant -128 : i8
// CHECK:         %[[E:[^ :,()]+]] = tensor.empty() : tensor<1x2x2x2xi8>
// Output (0, 0): input rows and columns 0-1, a 2 x 2 window.
// CHECK:         %[[S0:[^ :,()]+]] = tensor.extract_slice %[[E]][0, 0, 0, 0] [1, 2, 1, 1] [1, 1, 1, 1]
// CHECK:         %[[F0:[^ :,()]+]] = linalg.fill ins(%[[MIN]] : i8) outs(%[[S0]] : tensor<1x2x1x1xi8>)
// CHECK:         %[[X0:[^ :,()]+]] = tensor.extract_slice %[[X]][0, 0, 0, 0] [1, 2, 2, 2] [1, 1, 1, 1]
// CHECK:         %[[W0:[^ :,()]+]] = tensor.empty() : tensor<2x2xi8>
// CHECK:         %[[P0:[^ :,()]+]] = linalg.generic {indexing_maps = [#[[$IN]], #[[$WIN]], #[[$OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
// CHECK-SAME:      ins(%[[X0]], %[[W0]] : tensor<1x2x2x2xi8>, tensor<2x2xi8>) outs(%[[F0]] : tensor<1x2x1x1xi8>)
// CHECK-NEXT:    ^bb0(%[[IN:[^ :,()]+]]: i8, %{{.*}}: i8, %[[OUT:[^ :,()]+]]: i8):
// CHECK-NEXT:      %[[M:[^ :,()]+]] = arith.maxsi %[[IN]], %[[OUT]] : i8
// CHECK-NEXT:      linalg.yield %[[M]] : i8
// CHECK:         %[[R0:[^ :,()]+]] = tensor.insert_slice %[[P0]] into %[[E]][0, 0, 0, 0] [1, 2, 1, 1] [1, 1, 1, 1]
// Output (0, 1): rows 0-1, columns 1-3, a 2 x 3 window.
// CHECK:         %[[S1:[^ :,()]+]] = tensor.extract_slice %[[R0]][0, 0, 0, 1] [1, 2, 1, 1] [1, 1, 1, 1]
// CHECK:         %[[F1:[^ :,()]+]] = linalg.fill ins(%[[MIN]] : i8) outs(%[[S1]] : tensor<1x2x1x1xi8>)
// CHECK:         %[[X1:[^ :,()]+]] = tensor.extract_slice %[[X]][0, 0, 0, 1] [1, 2, 2, 3] [1, 1, 1, 1]
// CHECK:         %[[P1:[^ :,()]+]] = linalg.generic
// CHECK-SAME:      ins(%[[X1]], %{{.*}} : tensor<1x2x2x3xi8>, tensor<2x3xi8>) outs(%[[F1]] : tensor<1x2x1x1xi8>)
// CHECK:         %[[R1:[^ :,()]+]] = tensor.insert_slice %[[P1]] into %[[R0]][0, 0, 0, 1] [1, 2, 1, 1] [1, 1, 1, 1]
// Output (1, 0): rows 1-3, columns 0-1, a 3 x 2 window.
// CHECK:         %[[X2:[^ :,()]+]] = tensor.extract_slice %[[X]][0, 0, 1, 0] [1, 2, 3, 2] [1, 1, 1, 1]
// CHECK:         %[[P2:[^ :,()]+]] = linalg.generic
// CHECK-SAME:      ins(%[[X2]], %{{.*}} : tensor<1x2x3x2xi8>, tensor<3x2xi8>)
// CHECK:         %[[R2:[^ :,()]+]] = tensor.insert_slice %[[P2]] into %[[R1]][0, 0, 1, 0] [1, 2, 1, 1] [1, 1, 1, 1]
// Output (1, 1): the whole 3 x 3 window, rows and columns 1-3.
// CHECK:         %[[X3:[^ :,()]+]] = tensor.extract_slice %[[X]][0, 0, 1, 1] [1, 2, 3, 3] [1, 1, 1, 1]
// CHECK:         %[[P3:[^ :,()]+]] = linalg.generic
// CHECK-SAME:      ins(%[[X3]], %{{.*}} : tensor<1x2x3x3xi8>, tensor<3x3xi8>)
// CHECK:         %[[R3:[^ :,()]+]] = tensor.insert_slice %[[P3]] into %[[R2]][0, 0, 1, 1] [1, 2, 1, 1] [1, 1, 1, 1]
// CHECK:         return %[[R3]]
func.func @max_pool2d(%x: tensor<1x2x4x4x!a>) -> tensor<1x2x2x2x!a> {
  %0 = myquant.max_pool2d %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 0, 0>,
      dilations = array<i64: 1, 1>, layout = #myquant.layout<nchw>} : tensor<1x2x4x4x!a> -> tensor<1x2x2x2x!a>
  return %0 : tensor<1x2x2x2x!a>
}

// -----

!u = !quant.uniform<u8:f32, 0.1:128>

// uint8: the storage minimum is 0 and the comparison is unsigned. The
// bottom and right padding is never read (the windows end inside the
// input): one region, the whole result, no slices.
// CHECK-LABEL: func.func @max_pool2d_u8
// CHECK-SAME:    (%[[X:[^ :,()]+]]: tensor<1x4x4x2xi8>)
// CHECK-NOT:     tensor.pad
// CHECK-NOT:     tensor.extract_slice
// CHECK:         %[[MIN:[^ :,()]+]] = arith.constant 0 : i8
// CHECK:         %[[F:[^ :,()]+]] = linalg.fill ins(%[[MIN]] : i8)
// CHECK:         %[[P:[^ :,()]+]] = linalg.generic
// CHECK-SAME:      ins(%[[X]], %{{.*}} : tensor<1x4x4x2xi8>, tensor<2x2xi8>) outs(%[[F]] : tensor<1x2x2x2xi8>)
// CHECK:           arith.maxui
// CHECK-NOT:     tensor.insert_slice
// CHECK:         return %[[P]]
func.func @max_pool2d_u8(%x: tensor<1x4x4x2x!u>) -> tensor<1x2x2x2x!u> {
  %0 = myquant.max_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 1, 1>,
      dilations = array<i64: 1, 1>, layout = #myquant.layout<nhwc>} : tensor<1x4x4x2x!u> -> tensor<1x2x2x2x!u>
  return %0 : tensor<1x2x2x2x!u>
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>

// Rows: a 1-row kernel over a padding of 1, so output rows 0 and 3 see
// padding only and hold qmin: their regions are filled, not reduced.
// Columns: the kernel's two taps are 2 apart (dilation 2) over a padding of
// 1: column 0's window is (pad, input 1), column 1's (input 0, input 2),
// column 2's (input 1, pad): the clipped ones keep their one tap, input
// column 1.
// CHECK-LABEL: func.func @max_pool2d_padding_only
// CHECK-SAME:    (%[[X:[^ :,()]+]]: tensor<1x2x3x2xi8>)
// CHECK:         %[[MIN:[^ :,()]+]] = arith.constant -128 : i8
// CHECK:         %[[E:[^ :,()]+]] = tensor.empty() : tensor<1x4x3x2xi8>
// CHECK:         %[[S0:[^ :,()]+]] = tensor.extract_slice %[[E]][0, 0, 0, 0] [1, 1, 1, 2]
// CHECK:         %[[F0:[^ :,()]+]] = linalg.fill ins(%[[MIN]] : i8) outs(%[[S0]] : tensor<1x1x1x2xi8>)
// CHECK:         tensor.insert_slice %[[F0]] into %[[E]][0, 0, 0, 0] [1, 1, 1, 2]
// CHECK-NOT:     linalg.generic
// CHECK:         tensor.insert_slice %{{.*}}[0, 0, 2, 0] [1, 1, 1, 2]
// CHECK:         %[[S1:[^ :,()]+]] = tensor.extract_slice %{{.*}}[0, 1, 0, 0] [1, 2, 1, 2]
// CHECK:         %[[F1:[^ :,()]+]] = linalg.fill ins(%[[MIN]] : i8) outs(%[[S1]] : tensor<1x2x1x2xi8>)
// CHECK:         %[[X1:[^ :,()]+]] = tensor.extract_slice %[[X]][0, 0, 1, 0] [1, 2, 1, 2]
// CHECK:         linalg.generic
// CHECK-SAME:      ins(%[[X1]], %{{.*}} : tensor<1x2x1x2xi8>, tensor<1x1xi8>) outs(%[[F1]] : tensor<1x2x1x2xi8>)
// CHECK:         tensor.insert_slice %{{.*}}[0, 1, 0, 0] [1, 2, 1, 2]
// CHECK:         linalg.generic
// CHECK-SAME:      ins(%[[X]], %{{.*}} : tensor<1x2x3x2xi8>, tensor<1x2xi8>)
// CHECK:         tensor.insert_slice %{{.*}}[0, 1, 1, 0] [1, 2, 1, 2]
// CHECK:         %[[X2:[^ :,()]+]] = tensor.extract_slice %[[X]][0, 0, 1, 0] [1, 2, 1, 2]
// CHECK:         linalg.generic
// CHECK-SAME:      ins(%[[X2]], %{{.*}} : tensor<1x2x1x2xi8>, tensor<1x1xi8>)
// CHECK:         tensor.insert_slice %{{.*}}[0, 1, 2, 0] [1, 2, 1, 2]
// CHECK-NOT:     linalg.generic
// CHECK:         %[[R:[^ :,()]+]] = tensor.insert_slice %{{.*}}[0, 3, 2, 0] [1, 1, 1, 2]
// CHECK-NEXT:    return %[[R]]
func.func @max_pool2d_padding_only(%x: tensor<1x2x3x2x!a>) -> tensor<1x4x3x2x!a> {
  %0 = myquant.max_pool2d %x {kernel = array<i64: 1, 2>, strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>,
      dilations = array<i64: 1, 2>, layout = #myquant.layout<nhwc>} : tensor<1x2x3x2x!a> -> tensor<1x4x3x2x!a>
  return %0 : tensor<1x4x3x2x!a>
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!y = !quant.uniform<i8:f32, 0.2:3>

// Global average pooling (NHWC): sum of x - zx in i32, then one rescale by
// 0.1 / (0.2 * 4 * 4) = 2^-5 -> (2^30, 35).
// CHECK-DAG:   #[[$IN:[^ :,()]+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1 + d4, d2 + d5, d3)>
// CHECK-LABEL: func.func @avg_pool2d
// CHECK-SAME:    (%[[X:[^ :,()]+]]: tensor<1x4x4x2xi8>) -> tensor<1x1x1x2xi8>
// CHECK-NOT:     tensor.pad
// CHECK:         %[[INIT:[^ :,()]+]] = linalg.fill ins(%{{.*}} : i32) outs(%{{.*}} : tensor<1x1x1x2xi32>)
// CHECK:         %[[WIN:[^ :,()]+]] = tensor.empty() : tensor<4x4xi32>
// CHECK:         %[[SUM:[^ :,()]+]] = linalg.generic {indexing_maps = [#[[$IN]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
// CHECK-SAME:      ins(%[[X]], %[[WIN]] : tensor<1x4x4x2xi8>, tensor<4x4xi32>) outs(%[[INIT]] : tensor<1x1x1x2xi32>)
// CHECK-NEXT:    ^bb0(%[[IN:[^ :,()]+]]: i8, %{{.*}}: i32, %[[ACC:[^ :,()]+]]: i32):
// CHECK-NEXT:      %[[W:[^ :,()]+]] = arith.extsi %[[IN]] : i8 to i32
// CHECK-NEXT:      %[[ZX:[^ :,()]+]] = arith.constant -4 : i32
// CHECK-NEXT:      %[[C:[^ :,()]+]] = arith.subi %[[W]], %[[ZX]] : i32
// CHECK-NEXT:      %[[NEXT:[^ :,()]+]] = arith.addi %[[ACC]], %[[C]] : i32
// CHECK-NEXT:      linalg.yield %[[NEXT]] : i32
// CHECK-DAG:     %[[MULT:[^ :,()]+]] = arith.constant dense<1073741824> : tensor<1xi32>
// CHECK-DAG:     %[[SHIFT:[^ :,()]+]] = arith.constant dense<35> : tensor<1xi32>
// CHECK:         linalg.generic
// CHECK-SAME:      ins(%[[SUM]], %[[MULT]], %[[SHIFT]] : tensor<1x1x1x2xi32>, tensor<1xi32>, tensor<1xi32>)
func.func @avg_pool2d(%x: tensor<1x4x4x2x!a>) -> tensor<1x1x1x2x!y> {
  %0 = myquant.avg_pool2d %x {kernel = array<i64: 4, 4>, strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>,
      layout = #myquant.layout<nhwc>} : tensor<1x4x4x2x!a> -> tensor<1x1x1x2x!y>
  return %0 : tensor<1x1x1x2x!y>
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!y = !quant.uniform<i8:f32, 0.2:3>

// count_include_pad: padded cells hold the zero point (-4) and add 0;
// 0.1 / (0.2 * 2 * 2) -> (2^30, 33).
// CHECK-LABEL: func.func @avg_pool2d_padded
// CHECK:         %[[PADV:[^ :,()]+]] = arith.constant -4 : i8
// CHECK:         tensor.pad %{{.*}} low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK:           tensor.yield %[[PADV]] : i8
// CHECK:         arith.constant dense<33> : tensor<1xi32>
func.func @avg_pool2d_padded(%x: tensor<1x2x4x4x!a>) -> tensor<1x2x3x3x!y> {
  %0 = myquant.avg_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>,
      layout = #myquant.layout<nchw>, count_include_pad} : tensor<1x2x4x4x!a> -> tensor<1x2x3x3x!y>
  return %0 : tensor<1x2x3x3x!y>
}

//===----------------------------------------------------------------------===//
// concat, storage casts, signatures
//===----------------------------------------------------------------------===//

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>

// CHECK-LABEL: func.func @concat
// CHECK-SAME:    (%[[A:[^ :,()]+]]: tensor<2x2xi8>, %[[B:[^ :,()]+]]: tensor<2x3xi8>, %[[C:[^ :,()]+]]: tensor<2x1xi8>) -> tensor<2x6xi8>
// CHECK:         %[[E:[^ :,()]+]] = tensor.empty() : tensor<2x6xi8>
// CHECK:         %[[S0:[^ :,()]+]] = tensor.insert_slice %[[A]] into %[[E]][0, 0] [2, 2] [1, 1] : tensor<2x2xi8> into tensor<2x6xi8>
// CHECK:         %[[S1:[^ :,()]+]] = tensor.insert_slice %[[B]] into %[[S0]][0, 2] [2, 3] [1, 1] : tensor<2x3xi8> into tensor<2x6xi8>
// CHECK:         %[[S2:[^ :,()]+]] = tensor.insert_slice %[[C]] into %[[S1]][0, 5] [2, 1] [1, 1] : tensor<2x1xi8> into tensor<2x6xi8>
// CHECK:         return %[[S2]] : tensor<2x6xi8>
func.func @concat(%a: tensor<2x2x!a>, %b: tensor<2x3x!a>, %c: tensor<2x1x!a>) -> tensor<2x6x!a> {
  %0 = myquant.concat %a, %b, %c {dim = 1 : i64} : (tensor<2x2x!a>, tensor<2x3x!a>, tensor<2x1x!a>) -> tensor<2x6x!a>
  return %0 : tensor<2x6x!a>
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>

// quant.scast of a constant only relabels the storage: the i8 constant is used
// directly.
// CHECK-LABEL: func.func @scast_constant
// CHECK-SAME:    () -> tensor<2x3xi8>
// CHECK-NEXT:    %[[C:[^ :,()]+]] = arith.constant dense<{{\[\[}}1, 2, 3], [4, 5, 6]]> : tensor<2x3xi8>
// CHECK-NEXT:    return %[[C]] : tensor<2x3xi8>
// CHECK-NOT:     quant.scast
func.func @scast_constant() -> tensor<2x3x!a> {
  %c = arith.constant dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi8>
  %q = quant.scast %c : tensor<2x3xi8> to tensor<2x3x!a>
  return %q : tensor<2x3x!a>
}

// -----

!a = !quant.uniform<i8:f32, 0.1:-4>
!u = !quant.uniform<u8:f32, 0.1:128>
!b = !quant.uniform<i32:f32, 0.001>

// Quantized element types disappear from signatures and calls (u8 becomes a
// signless i8, i32 storage an i32); float arguments stay; stats ops vanish.
// CHECK-LABEL: func.func private @callee(tensor<4xi8>, tensor<4xi8>) -> tensor<4xi32>
// CHECK-LABEL: func.func @signature
// CHECK-SAME:    (%[[X:[^ :,()]+]]: tensor<4xi8>, %[[U:[^ :,()]+]]: tensor<4xi8>, %[[F:[^ :,()]+]]: tensor<4xf32>) -> (tensor<4xi32>, tensor<4xf32>)
// CHECK-NEXT:    %[[R:[^ :,()]+]] = call @callee(%[[X]], %[[U]]) : (tensor<4xi8>, tensor<4xi8>) -> tensor<4xi32>
// CHECK-NEXT:    return %[[R]], %[[F]] : tensor<4xi32>, tensor<4xf32>
func.func private @callee(tensor<4x!a>, tensor<4x!u>) -> tensor<4x!b>
func.func @signature(%x: tensor<4x!a>, %u: tensor<4x!u>, %f: tensor<4xf32>) -> (tensor<4x!b>, tensor<4xf32>) {
  %s = myquant.stats %f {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<4xf32>
  %0 = call @callee(%x, %u) : (tensor<4x!a>, tensor<4x!u>) -> tensor<4x!b>
  return %0, %s : tensor<4x!b>, tensor<4xf32>
}

// -----

// A size-1 operand dimension broadcasts: the generic reads it at 0.
!q = !quant.uniform<i8:f32, 0.05:-3>
!s = !quant.uniform<i8:f32, 0.01:-128>
!r = !quant.uniform<i8:f32, 0.04:5>
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[SE:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, 0)>
// CHECK-LABEL: func.func @mul_broadcast
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[SE]], #[[ID]]]
// CHECK-SAME: ins(%{{.*}}, %{{.*}} : tensor<1x4x3x3xi8>, tensor<1x4x1x1xi8>) outs(%{{.*}} : tensor<1x4x3x3xi8>)
func.func @mul_broadcast(%a: tensor<1x4x3x3x!q>, %b: tensor<1x4x1x1x!s>) -> tensor<1x4x3x3x!r> {
  %0 = myquant.mul %a, %b : (tensor<1x4x3x3x!q>, tensor<1x4x1x1x!s>) -> tensor<1x4x3x3x!r>
  return %0 : tensor<1x4x3x3x!r>
}

// -----

// Subtraction: the rescaled rhs term is subtracted from the lhs term, then
// the difference is rescaled like a sum (int32 form: 8-bit operands). The
// rhs rescale 0.01 / 0.1 rounds ties up before the negation, which no
// linear form reproduces for every pair (NumericSpec 3.2): the three
// rescales stay, the rhs one as (y + 128) 104857 + ((y + 128) 9830 + 2^13)
// >> 14 (m = 1717986918, s' = 14), the difference's on the high half.
!q = !quant.uniform<i8:f32, 0.05:-3>
!s = !quant.uniform<i8:f32, 0.01:-128>
!r = !quant.uniform<i8:f32, 0.04:5>
// CHECK-LABEL: func.func @sub_broadcast
// CHECK: linalg.generic
// CHECK-NOT: linalg.yield
// CHECK: arith.constant 9830 : i32
// CHECK: arith.constant 104857 : i32
// CHECK: %[[RHS:.*]] = arith.addi %{{[0-9]+}}, %{{[0-9]+}} : i32
// CHECK: %[[DIFF:.*]] = arith.subi %{{[0-9]+}}, %[[RHS]] : i32
// CHECK: arith.extsi %[[DIFF]] : i32 to i64
// CHECK: linalg.yield
func.func @sub_broadcast(%a: tensor<1x4x3x3x!q>, %b: tensor<1x4x1x1x!s>) -> tensor<1x4x3x3x!r> {
  %0 = myquant.add %a, %b {subtract} : (tensor<1x4x3x3x!q>, tensor<1x4x1x1x!s>) -> tensor<1x4x3x3x!r>
  return %0 : tensor<1x4x3x3x!r>
}

// -----

// x / 4: 0.05 / 0.04 * 0.25 = 0.3125 = 1342177280 * 2^-32.
!q = !quant.uniform<i8:f32, 0.05:-3>
!r = !quant.uniform<i8:f32, 0.04:5>
// CHECK-LABEL: func.func @requantize_factor
// CHECK-DAG: arith.constant dense<1342177280> : tensor<1xi32>
// CHECK-DAG: arith.constant dense<32> : tensor<1xi32>
func.func @requantize_factor(%a: tensor<8x!q>) -> tensor<8x!r> {
  %0 = myquant.requantize %a {factor = 0.25 : f64} : tensor<8x!q> -> tensor<8x!r>
  return %0 : tensor<8x!r>
}

// -----

// Per-position divisors [[4, 2], [2, 1]]: multipliers 0.3125, 0.625, 0.625,
// 1.25, read at h * 2 + w.
!q = !quant.uniform<i8:f32, 0.05:-3>
!r = !quant.uniform<i8:f32, 0.04:5>
// CHECK-DAG: #[[POS:.*]] = affine_map<(d0, d1, d2, d3) -> (d2 * 2 + d3)>
// CHECK-LABEL: func.func @avg_pool_divisors
// CHECK: tensor.pad %{{.*}} low[0, 0, 0, 0] high[0, 0, 1, 1]
// CHECK-DAG: %[[M:.*]] = arith.constant dense<1342177280> : tensor<4xi32>
// CHECK-DAG: %[[S:.*]] = arith.constant dense<[32, 31, 31, 30]> : tensor<4xi32>
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[POS]], #[[POS]], #{{.*}}]{{.*}} ins(%{{.*}}, %[[M]], %[[S]] :
func.func @avg_pool_divisors(%x: tensor<1x2x3x3x!q>) -> tensor<1x2x2x2x!r> {
  %0 = myquant.avg_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 1, 1>, layout = #myquant.layout<nchw>, divisors = array<i64: 4, 2, 2, 1>} : tensor<1x2x3x3x!q> -> tensor<1x2x2x2x!r>
  return %0 : tensor<1x2x2x2x!r>
}

// -----

// Per-channel factors along dim 1: 0.05 / 0.04 * |f| = 0.3125, 0.625. The
// negative factor negates x - zx (a sign vector read along dim 1) before the
// rescale.
!q = !quant.uniform<i8:f32, 0.05:-3>
!r = !quant.uniform<i8:f32, 0.04:5>
// CHECK-DAG: #[[CH:.*]] = affine_map<(d0, d1, d2) -> (d1)>
// CHECK-LABEL: func.func @requantize_factors
// CHECK: %[[SIGN:.*]] = arith.constant dense<[1, -1]> : tensor<2xi32>
// CHECK: %[[D:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #[[CH]], #{{.*}}]{{.*}} ins(%{{.*}}, %[[SIGN]] : tensor<1x2x3xi8>, tensor<2xi32>)
// CHECK: arith.subi
// CHECK: arith.muli
// CHECK-DAG: %[[M:.*]] = arith.constant dense<1342177280> : tensor<2xi32>
// CHECK-DAG: %[[S:.*]] = arith.constant dense<[32, 31]> : tensor<2xi32>
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[CH]], #[[CH]], #{{.*}}]{{.*}} ins(%[[D]], %[[M]], %[[S]] :
func.func @requantize_factors(%a: tensor<1x2x3x!q>) -> tensor<1x2x3x!r> {
  %0 = myquant.requantize %a {factors = array<f64: 0.25, -0.5>, factor_axis = 1 : i64} : tensor<1x2x3x!q> -> tensor<1x2x3x!r>
  return %0 : tensor<1x2x3x!r>
}

// -----

// Positive factors need no sign: one generic, the rescale read along dim 2.
!q = !quant.uniform<i8:f32, 0.05:-3>
!r = !quant.uniform<i8:f32, 0.04:5>
// CHECK-DAG: #[[LAST:.*]] = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-LABEL: func.func @requantize_positive_factors
// CHECK-DAG: %[[M:.*]] = arith.constant dense<1342177280> : tensor<3xi32>
// CHECK-DAG: %[[S:.*]] = arith.constant dense<[32, 31, 30]> : tensor<3xi32>
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[LAST]], #[[LAST]], #{{.*}}, #{{.*}}]{{.*}} ins(%{{.*}}, %[[M]], %[[S]], %{{.*}} :
// CHECK-NOT: linalg.generic
func.func @requantize_positive_factors(%a: tensor<1x2x3x!q>) -> tensor<1x2x3x!r> {
  %0 = myquant.requantize %a {factors = array<f64: 0.25, 0.5, 1.0>, factor_axis = 2 : i64} : tensor<1x2x3x!q> -> tensor<1x2x3x!r>
  return %0 : tensor<1x2x3x!r>
}
