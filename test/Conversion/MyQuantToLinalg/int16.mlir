// RUN: myquant-opt %s -split-input-file --convert-myquant-to-linalg | FileCheck %s
// RUN: myquant-opt %s -split-input-file --convert-myquant-to-vnni=target=avx512-vnni --convert-myquant-to-linalg | FileCheck %s

// 16-bit activations (docs/NumericSpec.md 6.3): a 16-bit input accumulates
// in int64 and the int64 accumulator is rescaled exactly in 128 bits; the
// VNNI kernels leave such ops, whose weights are no constants, to the
// generic lowering (MyQuantToVnni/int16-kernel.mlir tests the kernel).

!x16 = !quant.uniform<i16<-32767:32767>:f32, 1.0e-4>
!y16 = !quant.uniform<i16<-32767:32767>:f32, 2.0e-4>
!w = !quant.uniform<i8<-127:127>:f32:1, {0.01, 0.02}>

// CHECK-LABEL: func.func @matmul_i16
// CHECK:       %[[ACC:.*]] = linalg.fill ins(%{{.*}} : i64) outs(%{{.*}} : tensor<4x2xi64>)
// CHECK:       linalg.generic
// CHECK:       ^bb0(%[[X:.*]]: i16, %[[W:.*]]: i8, %[[A:.*]]: i64):
// CHECK-DAG:   %[[XW:.*]] = arith.extsi %[[X]] : i16 to i64
// CHECK-DAG:   %[[WW:.*]] = arith.extsi %[[W]] : i8 to i64
// CHECK:       %[[P:.*]] = arith.muli %[[XW]], %[[WW]] : i64
// CHECK:       arith.addi %[[A]], %[[P]] : i64
// CHECK:       -> tensor<4x2xi64>
// The epilogue: (acc * M0 + 2^(s-1)) >> s in i128, saturated to int32,
// clamped to [-32767, 32767].
// CHECK:       ^bb0(%{{.*}}: i64, %{{.*}}: i32, %{{.*}}: i32, %{{.*}}: i32, %{{.*}}: i16):
// CHECK:       arith.muli %{{.*}}, %{{.*}} : i128
// CHECK:       arith.shrsi %{{.*}}, %{{.*}} : i128
// CHECK:       arith.constant -2147483648 : i128
// CHECK:       arith.trunci %{{.*}} : i128 to i64
// CHECK:       arith.constant -32767 : i64
// CHECK:       arith.trunci %{{.*}} : i64 to i16
func.func @matmul_i16(%x: tensor<4x3x!x16>, %w: tensor<3x2xi8>) -> tensor<4x2x!y16> {
  %bias = arith.constant dense<[100, -7]> : tensor<2xi32>
  %wq = quant.scast %w : tensor<3x2xi8> to tensor<3x2x!w>
  %y = myquant.matmul %x, %wq, %bias : (tensor<4x3x!x16>, tensor<3x2x!w>, tensor<2xi32>) -> tensor<4x2x!y16>
  return %y : tensor<4x2x!y16>
}

// -----

!x16 = !quant.uniform<i16<-32767:32767>:f32, 1.0e-4>
!y8 = !quant.uniform<i8:f32, 0.05:3>
!f = !quant.uniform<i8<-127:127>:f32:0, {0.01, 0.02}>

// A 16-bit input and an 8-bit result: int64 accumulator, clamped to int8.
// CHECK-LABEL: func.func @conv_i16_to_i8
// CHECK:       linalg.fill ins(%{{.*}} : i64)
// CHECK:       arith.muli %{{.*}}, %{{.*}} : i64
// CHECK:       arith.muli %{{.*}}, %{{.*}} : i128
// CHECK:       arith.constant -128 : i64
// CHECK:       arith.trunci %{{.*}} : i64 to i8
func.func @conv_i16_to_i8(%x: tensor<1x1x4x4x!x16>, %w: tensor<2x1x3x3xi8>) -> tensor<1x2x4x4x!y8> {
  %wq = quant.scast %w : tensor<2x1x3x3xi8> to tensor<2x1x3x3x!f>
  %y = myquant.conv2d %x, %wq {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>,
      dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>}
      : (tensor<1x1x4x4x!x16>, tensor<2x1x3x3x!f>) -> tensor<1x2x4x4x!y8>
  return %y : tensor<1x2x4x4x!y8>
}

// -----

!x8 = !quant.uniform<i8:f32, 0.05:3>
!y16 = !quant.uniform<i16<-32767:32767>:f32, 2.0e-4>
!w = !quant.uniform<i8<-127:127>:f32:1, {0.01, 0.02}>

// An 8-bit input keeps the int32 accumulator (and its input zero point
// folded into the bias), whatever the result's width.
// CHECK-LABEL: func.func @matmul_i8_to_i16
// CHECK:       linalg.fill ins(%{{.*}} : i32)
// CHECK:       arith.muli %{{.*}}, %{{.*}} : i32
// CHECK-NOT:   i128
// CHECK:       arith.constant -32767 : i64
// CHECK:       arith.trunci %{{.*}} : i64 to i16
func.func @matmul_i8_to_i16(%x: tensor<4x3x!x8>, %w: tensor<3x2xi8>) -> tensor<4x2x!y16> {
  %wq = quant.scast %w : tensor<3x2xi8> to tensor<3x2x!w>
  %y = myquant.matmul %x, %wq : (tensor<4x3x!x8>, tensor<3x2x!w>) -> tensor<4x2x!y16>
  return %y : tensor<4x2x!y16>
}

// -----

!x16 = !quant.uniform<i16<-32767:32767>:f32, 1.0e-4>
!y16 = !quant.uniform<i16<-32767:32767>:f32, 2.0e-4>

// Average pooling of a 16-bit input sums in int64.
// CHECK-LABEL: func.func @avg_pool_i16
// CHECK:       ^bb0(%[[X:.*]]: i16, %{{.*}}: i64, %[[S:.*]]: i64):
// CHECK:       arith.extsi %[[X]] : i16 to i64
// CHECK:       arith.muli %{{.*}}, %{{.*}} : i128
func.func @avg_pool_i16(%x: tensor<1x2x4x4x!x16>) -> tensor<1x2x2x2x!y16> {
  %y = myquant.avg_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>,
      padding = array<i64: 0, 0, 0, 0>, layout = #myquant.layout<nchw>}
      : tensor<1x2x4x4x!x16> -> tensor<1x2x2x2x!y16>
  return %y : tensor<1x2x2x2x!y16>
}

// -----

!x16 = !quant.uniform<i16<-32767:32767>:f32, 1.0e-4>
!y16 = !quant.uniform<i16<-32767:32767>:f32, 2.0e-4>

// A table of a 16-bit input (docs/NumericSpec.md 3.8): u = x + 32768 picks
// the entries a = values[u >> 7] and c = values[(u >> 7) + 1] and
// interpolates at r = u & 127: a + (((c - a) * r + 64) >> 7), in int64.
// CHECK-LABEL: func.func @table_i16
// CHECK:       %[[TABLE:.*]] = arith.constant dense<{{.*}}> : tensor<513xi16>
// CHECK:       linalg.generic
// CHECK-NEXT:  ^bb0(%[[IN:.*]]: i16, %{{.*}}: i16):
// CHECK-NEXT:    %[[W:.*]] = arith.extsi %[[IN]] : i16 to i64
// CHECK-NEXT:    %[[ORIGIN:.*]] = arith.constant -32768 : i64
// CHECK-NEXT:    %[[U:.*]] = arith.subi %[[W]], %[[ORIGIN]] : i64
// CHECK-NEXT:    %[[SEVEN:.*]] = arith.constant 7 : i64
// CHECK-NEXT:    %[[K:.*]] = arith.shrsi %[[U]], %[[SEVEN]] : i64
// CHECK-NEXT:    %[[MASK:.*]] = arith.constant 127 : i64
// CHECK-NEXT:    %[[R:.*]] = arith.andi %[[U]], %[[MASK]] : i64
// CHECK-NEXT:    %[[KI:.*]] = arith.index_cast %[[K]] : i64 to index
// CHECK-NEXT:    %[[A16:.*]] = tensor.extract %[[TABLE]][%[[KI]]] : tensor<513xi16>
// CHECK-NEXT:    %[[A:.*]] = arith.extsi %[[A16]] : i16 to i64
// CHECK-NEXT:    %[[ONE:.*]] = arith.constant 1 : i64
// CHECK-NEXT:    %[[K1:.*]] = arith.addi %[[K]], %[[ONE]] : i64
// CHECK-NEXT:    %[[K1I:.*]] = arith.index_cast %[[K1]] : i64 to index
// CHECK-NEXT:    %[[C16:.*]] = tensor.extract %[[TABLE]][%[[K1I]]] : tensor<513xi16>
// CHECK-NEXT:    %[[C:.*]] = arith.extsi %[[C16]] : i16 to i64
// CHECK-NEXT:    %[[D:.*]] = arith.subi %[[C]], %[[A]] : i64
// CHECK-NEXT:    %[[DR:.*]] = arith.muli %[[D]], %[[R]] : i64
// CHECK-NEXT:    %[[HALF:.*]] = arith.constant 64 : i64
// CHECK-NEXT:    %[[DRH:.*]] = arith.addi %[[DR]], %[[HALF]] : i64
// CHECK-NEXT:    %[[DELTA:.*]] = arith.shrsi %[[DRH]], %[[SEVEN]] : i64
// CHECK-NEXT:    %[[OUT:.*]] = arith.addi %[[A]], %[[DELTA]] : i64
// CHECK-NEXT:    %[[T:.*]] = arith.trunci %[[OUT]] : i64 to i16
// CHECK-NEXT:    linalg.yield %[[T]] : i16
func.func @table_i16(%x: tensor<4x!x16>) -> tensor<4x!y16> {
  %y = myquant.table %x {values = array<i32: -256, -255, -254, -253, -252, -251, -250, -249, -248, -247, -246, -245, -244, -243, -242, -241, -240, -239, -238, -237, -236, -235, -234, -233, -232, -231, -230, -229, -228, -227, -226, -225, -224, -223, -222, -221, -220, -219, -218, -217, -216, -215, -214, -213, -212, -211, -210, -209, -208, -207, -206, -205, -204, -203, -202, -201, -200, -199, -198, -197, -196, -195, -194, -193, -192, -191, -190, -189, -188, -187, -186, -185, -184, -183, -182, -181, -180, -179, -178, -177, -176, -175, -174, -173, -172, -171, -170, -169, -168, -167, -166, -165, -164, -163, -162, -161, -160, -159, -158, -157, -156, -155, -154, -153, -152, -151, -150, -149, -148, -147, -146, -145, -144, -143, -142, -141, -140, -139, -138, -137, -136, -135, -134, -133, -132, -131, -130, -129, -128, -127, -126, -125, -124, -123, -122, -121, -120, -119, -118, -117, -116, -115, -114, -113, -112, -111, -110, -109, -108, -107, -106, -105, -104, -103, -102, -101, -100, -99, -98, -97, -96, -95, -94, -93, -92, -91, -90, -89, -88, -87, -86, -85, -84, -83, -82, -81, -80, -79, -78, -77, -76, -75, -74, -73, -72, -71, -70, -69, -68, -67, -66, -65, -64, -63, -62, -61, -60, -59, -58, -57, -56, -55, -54, -53, -52, -51, -50, -49, -48, -47, -46, -45, -44, -43, -42, -41, -40, -39, -38, -37, -36, -35, -34, -33, -32, -31, -30, -29, -28, -27, -26, -25, -24, -23, -22, -21, -20, -19, -18, -17, -16, -15, -14, -13, -12, -11, -10, -9, -8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159, 160, 161, 162, 163, 164, 165, 166, 167, 168, 169, 170, 171, 172, 173, 174, 175, 176, 177, 178, 179, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 190, 191, 192, 193, 194, 195, 196, 197, 198, 199, 200, 201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211, 212, 213, 214, 215, 216, 217, 218, 219, 220, 221, 222, 223, 224, 225, 226, 227, 228, 229, 230, 231, 232, 233, 234, 235, 236, 237, 238, 239, 240, 241, 242, 243, 244, 245, 246, 247, 248, 249, 250, 251, 252, 253, 254, 255, 256>} : tensor<4x!x16> -> tensor<4x!y16>
  return %y : tensor<4x!y16>
}

// -----

!x16 = !quant.uniform<i16<-32767:32767>:f32, 1.0e-4>
!y8 = !quant.uniform<i8:f32, 0.01:-3>

// Into an 8-bit result: the entries are i8, the interpolation the same.
// CHECK-LABEL: func.func @table_i16_to_i8
// CHECK:       %[[TABLE:.*]] = arith.constant dense<{{.*}}> : tensor<513xi8>
// CHECK:       tensor.extract %[[TABLE]]{{.*}} : tensor<513xi8>
// CHECK:       arith.extsi %{{.*}} : i8 to i64
// CHECK:       tensor.extract %[[TABLE]]{{.*}} : tensor<513xi8>
// CHECK:       arith.trunci %{{.*}} : i64 to i8
func.func @table_i16_to_i8(%x: tensor<4x!x16>) -> tensor<4x!y8> {
  %y = myquant.table %x {values = array<i32: -128, -128, -127, -127, -126, -126, -125, -125, -124, -124, -123, -123, -122, -122, -121, -121, -120, -120, -119, -119, -118, -118, -117, -117, -116, -116, -115, -115, -114, -114, -113, -113, -112, -112, -111, -111, -110, -110, -109, -109, -108, -108, -107, -107, -106, -106, -105, -105, -104, -104, -103, -103, -102, -102, -101, -101, -100, -100, -99, -99, -98, -98, -97, -97, -96, -96, -95, -95, -94, -94, -93, -93, -92, -92, -91, -91, -90, -90, -89, -89, -88, -88, -87, -87, -86, -86, -85, -85, -84, -84, -83, -83, -82, -82, -81, -81, -80, -80, -79, -79, -78, -78, -77, -77, -76, -76, -75, -75, -74, -74, -73, -73, -72, -72, -71, -71, -70, -70, -69, -69, -68, -68, -67, -67, -66, -66, -65, -65, -64, -64, -63, -63, -62, -62, -61, -61, -60, -60, -59, -59, -58, -58, -57, -57, -56, -56, -55, -55, -54, -54, -53, -53, -52, -52, -51, -51, -50, -50, -49, -49, -48, -48, -47, -47, -46, -46, -45, -45, -44, -44, -43, -43, -42, -42, -41, -41, -40, -40, -39, -39, -38, -38, -37, -37, -36, -36, -35, -35, -34, -34, -33, -33, -32, -32, -31, -31, -30, -30, -29, -29, -28, -28, -27, -27, -26, -26, -25, -25, -24, -24, -23, -23, -22, -22, -21, -21, -20, -20, -19, -19, -18, -18, -17, -17, -16, -16, -15, -15, -14, -14, -13, -13, -12, -12, -11, -11, -10, -10, -9, -9, -8, -8, -7, -7, -6, -6, -5, -5, -4, -4, -3, -3, -2, -2, -1, -1, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15, 16, 16, 17, 17, 18, 18, 19, 19, 20, 20, 21, 21, 22, 22, 23, 23, 24, 24, 25, 25, 26, 26, 27, 27, 28, 28, 29, 29, 30, 30, 31, 31, 32, 32, 33, 33, 34, 34, 35, 35, 36, 36, 37, 37, 38, 38, 39, 39, 40, 40, 41, 41, 42, 42, 43, 43, 44, 44, 45, 45, 46, 46, 47, 47, 48, 48, 49, 49, 50, 50, 51, 51, 52, 52, 53, 53, 54, 54, 55, 55, 56, 56, 57, 57, 58, 58, 59, 59, 60, 60, 61, 61, 62, 62, 63, 63, 64, 64, 65, 65, 66, 66, 67, 67, 68, 68, 69, 69, 70, 70, 71, 71, 72, 72, 73, 73, 74, 74, 75, 75, 76, 76, 77, 77, 78, 78, 79, 79, 80, 80, 81, 81, 82, 82, 83, 83, 84, 84, 85, 85, 86, 86, 87, 87, 88, 88, 89, 89, 90, 90, 91, 91, 92, 92, 93, 93, 94, 94, 95, 95, 96, 96, 97, 97, 98, 98, 99, 99, 100, 100, 101, 101, 102, 102, 103, 103, 104, 104, 105, 105, 106, 106, 107, 107, 108, 108, 109, 109, 110, 110, 111, 111, 112, 112, 113, 113, 114, 114, 115, 115, 116, 116, 117, 117, 118, 118, 119, 119, 120, 120, 121, 121, 122, 122, 123, 123, 124, 124, 125, 125, 126, 126, 127, 127, 127>} : tensor<4x!x16> -> tensor<4x!y8>
  return %y : tensor<4x!y8>
}

// -----

!x16 = !quant.uniform<i16<-32767:32767>:f32, 2.0e-4>
!s16 = !quant.uniform<i16<-32767:32767>:f32, 3.0e-5>
!y16 = !quant.uniform<i16<-32767:32767>:f32, 1.0e-4>

// A squeeze-excite scale in 16 bits (docs/NumericSpec.md 3.3, 6.4): the
// product of the two int16 values (at most 32767^2) is the int32 operand of
// the requantize by 2e-4 * 3e-5 / 1e-4 -> (2111062325, 45); the scale
// broadcasts over height and width; the result clamps to [-32767, 32767].
// CHECK-DAG:   #[[ID:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG:   #[[SE:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, 0)>
// CHECK-LABEL: func.func @mul_i16
// CHECK:       linalg.generic {indexing_maps = [#[[ID]], #[[SE]], #[[ID]]]
// CHECK-SAME:  ins(%{{.*}}, %{{.*}} : tensor<1x2x3x3xi16>, tensor<1x2x1x1xi16>) outs(%{{.*}} : tensor<1x2x3x3xi16>)
// CHECK:       ^bb0(%[[X:.*]]: i16, %[[S:.*]]: i16, %{{.*}}: i16):
// CHECK:       %[[XW:.*]] = arith.extsi %[[X]] : i16 to i64
// CHECK:       %[[SW:.*]] = arith.extsi %[[S]] : i16 to i64
// CHECK:       %[[P:.*]] = arith.muli %{{.*}}, %{{.*}} : i64
// CHECK:       arith.constant 2111062325 : i32
// CHECK-NEXT:  arith.constant 45 : i32
// CHECK:       arith.muli %[[P]], %{{.*}} : i64
// CHECK:       arith.constant -32767 : i64
// CHECK:       arith.constant 32767 : i64
// CHECK:       arith.trunci %{{.*}} : i64 to i16
func.func @mul_i16(%x: tensor<1x2x3x3x!x16>, %s: tensor<1x2x1x1x!s16>) -> tensor<1x2x3x3x!y16> {
  %y = myquant.mul %x, %s : (tensor<1x2x3x3x!x16>, tensor<1x2x1x1x!s16>) -> tensor<1x2x3x3x!y16>
  return %y : tensor<1x2x3x3x!y16>
}

// -----

!x16 = !quant.uniform<i16<-32767:32767>:f32, 2.0e-4>
!s8 = !quant.uniform<i8:f32, 0.01:-128>
!y8 = !quant.uniform<i8:f32, 0.05:3>

// A 16-bit operand times an 8-bit one with its zero point, into an 8-bit
// result: (x - 0) * (s + 128), rescaled by 2e-4 * 0.01 / 0.05 ->
// (1407374884, 45), plus the zero point 3, clamped to int8.
// CHECK-LABEL: func.func @mul_i16_i8
// CHECK:       ^bb0(%[[X:.*]]: i16, %[[S:.*]]: i8, %{{.*}}: i8):
// CHECK:       arith.extsi %[[X]] : i16 to i64
// CHECK:       arith.extsi %[[S]] : i8 to i64
// CHECK:       arith.constant -128 : i64
// CHECK:       arith.muli %{{.*}}, %{{.*}} : i64
// CHECK:       arith.constant 1407374884 : i32
// CHECK-NEXT:  arith.constant 45 : i32
// CHECK:       arith.constant 3 : i64
// CHECK:       arith.constant -128 : i64
// CHECK:       arith.constant 127 : i64
// CHECK:       arith.trunci %{{.*}} : i64 to i8
func.func @mul_i16_i8(%x: tensor<4x!x16>, %s: tensor<4x!s8>) -> tensor<4x!y8> {
  %y = myquant.mul %x, %s : (tensor<4x!x16>, tensor<4x!s8>) -> tensor<4x!y8>
  return %y : tensor<4x!y8>
}

// -----

!x16 = !quant.uniform<i16<-32767:32767>:f32, 2.0e-4>
!s16 = !quant.uniform<i16<-32767:32767>:f32, 3.0e-5>
!y16 = !quant.uniform<i16<-32767:32767>:f32, 1.0e-4>

// The product is an int32 either way, so a 16-bit mul also takes `gemmlowp`
// rounding (TFLite's 16x8 MUL; unlike the int64 accumulators of 6.3): the
// rounding doubling high multiply divides by 2^31.
// CHECK-LABEL: func.func @mul_i16_gemmlowp
// CHECK:       arith.muli %{{.*}}, %{{.*}} : i64
// CHECK:       arith.constant 2111062325 : i32
// CHECK-NEXT:  arith.constant 45 : i32
// CHECK:       arith.constant 2147483648 : i64
// CHECK-NEXT:  arith.divsi
// CHECK:       arith.trunci %{{.*}} : i64 to i16
func.func @mul_i16_gemmlowp(%x: tensor<4x!x16>, %s: tensor<4x!s16>) -> tensor<4x!y16> {
  %y = myquant.mul %x, %s {rescale = #myquant.rescale<multiplier = [2111062325], shift = [45], rounding = gemmlowp>} : (tensor<4x!x16>, tensor<4x!s16>) -> tensor<4x!y16>
  return %y : tensor<4x!y16>
}
