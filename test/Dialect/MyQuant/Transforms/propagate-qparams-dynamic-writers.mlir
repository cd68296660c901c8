// RUN: myquant-opt %s --myquant-propagate-qparams=dynamic=true --myquant-quantize 2>&1 | FileCheck %s
// RUN: myquant-opt %s "--myquant-ptq=dynamic=true allow-float=false" --convert-myquant-to-linalg | FileCheck %s --check-prefix=LOWER
// RUN: myquant-opt %s "--myquant-propagate-qparams=dynamic=true norm-input-bits=16 int16-range-headroom=1" --myquant-quantize --myquant-verify-qparams 2>&1 | FileCheck %s --check-prefix=NORM16
// RUN: myquant-opt %s "--myquant-ptq=dynamic=true norm-input-bits=16 allow-float=false" | myquant-opt --myquant-lower-to-llvm -o /dev/null
// The 16-bit scales checked below are the calibrated ranges' own
// (int16-range-headroom=1; the default headroom doubles them,
// docs/NumericSpec.md 6.1, propagate-qparams-int16.mlir).

// Dynamic quantization of a transformer's Linears (docs/NumericSpec.md 8.5):
// a layer normalization and a lookup table (GELU) read 8-bit values and
// write the wide inputs of the dynamic matmuls after them; the first
// matmul writes the table's 8-bit input. No remark: every Linear is dynamic.
// CHECK-NOT:   remark
// CHECK-LABEL: func.func @forward
// CHECK:       %[[X:.*]] = myquant.quantize %{{.*}} -> tensor<2x4x!quant.uniform<i8:f32
// CHECK:       %[[LN:.*]] = myquant.layer_norm %[[X]] {{.*}} -> tensor<2x4x!quant.uniform<i32<-2147483647:2147483647>:f32
// CHECK:       %[[FC1:.*]] = myquant.dynamic_matmul %[[LN]], {{.*}} -> tensor<2x4x!quant.uniform<i8:f32
// CHECK:       %[[GELU:.*]] = myquant.table %[[FC1]] {{.*}} -> tensor<2x4x!quant.uniform<i32<-2147483647:2147483647>:f32
// CHECK:       %[[FC2:.*]] = myquant.dynamic_matmul %[[GELU]], {{.*}} -> tensor<2x3x!quant.uniform<i32<-2147483647:2147483647>:f32
// CHECK:       myquant.dequantize %[[FC2]]
// The layer normalization's result is clamped to the wide storage range
// and stored in i32; the table holds i32 entries.
// LOWER-LABEL: func.func @forward
// LOWER:       arith.constant -2147483647 : i64
// LOWER:       arith.constant 2147483647 : i64
// LOWER:       arith.constant dense<{{.*}}> : tensor<256xi32>
// With norm-input-bits=16 the layer normalization reads a 16-bit input
// (scale 2.8281622 / 32767, 6.4) and still writes the wide value (8.5).
// NORM16-NOT:   remark
// NORM16-LABEL: func.func @forward
// NORM16:       %[[X:.*]] = myquant.quantize %{{.*}} -> tensor<2x4x!quant.uniform<i16<-32767:32767>:f32, 8.6311294695832387E-5>>
// NORM16:       %[[LN:.*]] = myquant.layer_norm %[[X]] {{.*}} -> tensor<2x4x!quant.uniform<i32<-2147483647:2147483647>:f32
// NORM16:       myquant.dynamic_matmul %[[LN]], {{.*}} -> tensor<2x4x!quant.uniform<i8:f32
// A residual add x + fc1(ln1(x)) into a second layer normalization (8.5):
// without norm-input-bits=16 fc1 writes int8 and the add reads and writes
// int8; with it the add writes the 16-bit input of ln2 and reads x's 16
// bits, and fc1, read by that add only, writes 16 bits too (its range
// 6.0869 / 32767) rather than rounding to int8 first.
// CHECK-LABEL: func.func @residual
// CHECK:       %[[FC1:.*]] = myquant.dynamic_matmul {{.*}} -> tensor<2x4x!quant.uniform<i8:f32, 0.046314836015888289:3>>
// CHECK:       myquant.add %{{.*}}, %[[FC1]] {{.*}} : (tensor<2x4x!quant.uniform<i8:f32, {{.*}}>>, tensor<2x4x!quant.uniform<i8:f32, {{.*}}>>) -> tensor<2x4x!quant.uniform<i8:f32
// NORM16-LABEL: func.func @residual
// NORM16:       %[[X:.*]] = myquant.quantize %{{.*}} -> tensor<2x4x!quant.uniform<i16<-32767:32767>:f32, 7.0956474614106266E-5>>
// NORM16:       %[[LN1:.*]] = myquant.layer_norm %[[X]] {{.*}} -> tensor<2x4x!quant.uniform<i32<-2147483647:2147483647>:f32
// NORM16:       %[[FC1:.*]] = myquant.dynamic_matmul %[[LN1]], {{.*}} -> tensor<2x4x!quant.uniform<i16<-32767:32767>:f32, 1.8576156537511779E-4>>
// NORM16:       %[[ADD:.*]] = myquant.add %[[X]], %[[FC1]] {left_shift = 15 : i64, {{.*}}} : (tensor<2x4x!quant.uniform<i16<-32767:32767>:f32, 7.0956474614106266E-5>>, tensor<2x4x!quant.uniform<i16<-32767:32767>:f32, 1.8576156537511779E-4>>) -> tensor<2x4x!quant.uniform<i16<-32767:32767>:f32, 2.2525173534999039E-4>>
// NORM16:       %[[LN2:.*]] = myquant.layer_norm %[[ADD]] {{.*}} -> tensor<2x4x!quant.uniform<i32<-2147483647:2147483647>:f32
// NORM16:       myquant.dynamic_matmul %[[LN2]], {{.*}} -> tensor<2x3x!quant.uniform<i32<-2147483647:2147483647>:f32

module {
  func.func @forward(%x: tensor<2x4xf32> loc("x")) -> tensor<2x3xf32> {
    %s1 = myquant.stats %x {min = array<f64: -2.82816219329834>, max = array<f64: 1.4055981636047363>} : tensor<2x4xf32> loc("x")
    %c2 = arith.constant 4.0 : f32 loc("l0")
    %c3 = arith.constant 0.0 : f32 loc("l0")
    %e4 = tensor.empty() : tensor<2xf32> loc("l0")
    %fill5 = linalg.fill ins(%c3 : f32) outs(%e4 : tensor<2xf32>) -> tensor<2xf32> loc("l0")
    %g6 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%s1 : tensor<2x4xf32>) outs(%fill5 : tensor<2xf32>) {
    ^bb0(%in0: f32, %out: f32):
      %r = arith.addf %in0, %out : f32 loc("l0")
      linalg.yield %r : f32 loc("l0")
    } -> tensor<2xf32> loc("l0")
    %e7 = tensor.empty() : tensor<2x4xf32> loc("l0")
    %g8 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%s1, %g6 : tensor<2x4xf32>, tensor<2xf32>) outs(%e7 : tensor<2x4xf32>) {
    ^bb0(%in0: f32, %in1: f32, %out: f32):
      %m = arith.divf %in1, %c2 : f32 loc("l0")
      %r = arith.subf %in0, %m : f32 loc("l0")
      linalg.yield %r : f32 loc("l0")
    } -> tensor<2x4xf32> loc("l0")
    %c9 = arith.constant 0.0 : f32 loc("l0")
    %e10 = tensor.empty() : tensor<2xf32> loc("l0")
    %fill11 = linalg.fill ins(%c9 : f32) outs(%e10 : tensor<2xf32>) -> tensor<2xf32> loc("l0")
    %g12 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%g8 : tensor<2x4xf32>) outs(%fill11 : tensor<2xf32>) {
    ^bb0(%in0: f32, %out: f32):
      %p = arith.mulf %in0, %in0 : f32 loc("l0")
      %r = arith.addf %p, %out : f32 loc("l0")
      linalg.yield %r : f32 loc("l0")
    } -> tensor<2xf32> loc("l0")
    %c13 = arith.constant 9.999999747378752e-06 : f32 loc("l0")
    %cst14 = arith.constant dense<"0x0000803F0000003F000000400000803F"> : tensor<4xf32> loc("l0")
    %cst15 = arith.constant dense<"0x000000000000803E00000000000000BF"> : tensor<4xf32> loc("l0")
    %e16 = tensor.empty() : tensor<2x4xf32> loc("l0")
    %g17 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%g8, %g12, %cst14, %cst15 : tensor<2x4xf32>, tensor<2xf32>, tensor<4xf32>, tensor<4xf32>) outs(%e16 : tensor<2x4xf32>) {
    ^bb0(%in0: f32, %in1: f32, %in2: f32, %in3: f32, %out: f32):
      %v = arith.divf %in1, %c2 : f32 loc("l0")
      %ve = arith.addf %v, %c13 : f32 loc("l0")
      %s = math.rsqrt %ve : f32 loc("l0")
      %n = arith.mulf %in0, %s : f32 loc("l0")
      %ng = arith.mulf %n, %in2 : f32 loc("l0")
      %r = arith.addf %ng, %in3 : f32 loc("l0")
      linalg.yield %r : f32 loc("l0")
    } -> tensor<2x4xf32> loc("l0")
    %s18 = myquant.stats %g17 {min = array<f64: -3.2059996128082275>, max = array<f64: 2.946833610534668>} : tensor<2x4xf32> loc("l0")
    %cst19 = arith.constant dense<"0x00000040000020C00000003F000000BF000000BF000080BE000000C0000080BE000040BF000050400000803E000080BE000080BE000040BF000080BF000000BF"> : tensor<4x4xf32> loc("l1")
    %e20 = tensor.empty() : tensor<4x4xf32> loc("l1")
    %wt21 = linalg.transpose ins(%cst19 : tensor<4x4xf32>) outs(%e20 : tensor<4x4xf32>) permutation = [1, 0] loc("l1")
    %c22 = arith.constant 0.0 : f32 loc("l1")
    %e23 = tensor.empty() : tensor<2x4xf32> loc("l1")
    %fill24 = linalg.fill ins(%c22 : f32) outs(%e23 : tensor<2x4xf32>) -> tensor<2x4xf32> loc("l1")
    %mm25 = linalg.matmul ins(%s18, %wt21 : tensor<2x4xf32>, tensor<4x4xf32>) outs(%fill24 : tensor<2x4xf32>) -> tensor<2x4xf32> loc("l1")
    %cst26 = arith.constant dense<"0x00000000000000000000000000000000"> : tensor<4xf32> loc("l1")
    %e27 = tensor.empty() : tensor<2x4xf32> loc("l1")
    %g28 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%mm25, %cst26 : tensor<2x4xf32>, tensor<4xf32>) outs(%e27 : tensor<2x4xf32>) {
    ^bb0(%in0: f32, %in1: f32, %out: f32):
      %a = arith.addf %in0, %in1 : f32 loc("l1")
      linalg.yield %a : f32 loc("l1")
    } -> tensor<2x4xf32> loc("l1")
    %s29 = myquant.stats %g28 {min = array<f64: -5.3729166984558105>, max = array<f64: 5.80264949798584>} : tensor<2x4xf32> loc("l1")
    %c30 = arith.constant 0.7071067690849304 : f32 loc("l2")
    %c31 = arith.constant 1.0 : f32 loc("l2")
    %c32 = arith.constant 0.5 : f32 loc("l2")
    %e33 = tensor.empty() : tensor<2x4xf32> loc("l2")
    %g34 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%s29 : tensor<2x4xf32>) outs(%e33 : tensor<2x4xf32>) {
    ^bb0(%in0: f32, %out: f32):
      %a = arith.mulf %in0, %c30 : f32 loc("l2")
      %b = math.erf %a : f32 loc("l2")
      %d = arith.addf %b, %c31 : f32 loc("l2")
      %h = arith.mulf %d, %c32 : f32 loc("l2")
      %r = arith.mulf %in0, %h : f32 loc("l2")
      linalg.yield %r : f32 loc("l2")
    } -> tensor<2x4xf32> loc("l2")
    %s35 = myquant.stats %g34 {min = array<f64: -0.16850034892559052>, max = array<f64: 5.80264949798584>} : tensor<2x4xf32> loc("l2")
    %cst36 = arith.constant dense<"0x0000003F000080BE0000803F000080BE000000000000C03F0000003F000000BF000080BE0000003F00000040000080BE"> : tensor<3x4xf32> loc("l3")
    %e37 = tensor.empty() : tensor<4x3xf32> loc("l3")
    %wt38 = linalg.transpose ins(%cst36 : tensor<3x4xf32>) outs(%e37 : tensor<4x3xf32>) permutation = [1, 0] loc("l3")
    %c39 = arith.constant 0.0 : f32 loc("l3")
    %e40 = tensor.empty() : tensor<2x3xf32> loc("l3")
    %fill41 = linalg.fill ins(%c39 : f32) outs(%e40 : tensor<2x3xf32>) -> tensor<2x3xf32> loc("l3")
    %mm42 = linalg.matmul ins(%s35, %wt38 : tensor<2x4xf32>, tensor<4x3xf32>) outs(%fill41 : tensor<2x3xf32>) -> tensor<2x3xf32> loc("l3")
    %s43 = myquant.stats %mm42 {min = array<f64: -2.313448429107666>, max = array<f64: 9.040778160095215>} : tensor<2x3xf32> loc("l3")
    return %s43 : tensor<2x3xf32>
  }

  func.func @residual(%x: tensor<2x4xf32> loc("x")) -> tensor<2x3xf32> {
    %s1 = myquant.stats %x {min = array<f64: -2.32503080368042>, max = array<f64: 1.3664634227752686>} : tensor<2x4xf32> loc("x")
    %c2 = arith.constant 4.0 : f32 loc("l0")
    %c3 = arith.constant 0.0 : f32 loc("l0")
    %e4 = tensor.empty() : tensor<2xf32> loc("l0")
    %fill5 = linalg.fill ins(%c3 : f32) outs(%e4 : tensor<2xf32>) -> tensor<2xf32> loc("l0")
    %g6 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%s1 : tensor<2x4xf32>) outs(%fill5 : tensor<2xf32>) {
    ^bb0(%in0: f32, %out: f32):
      %r = arith.addf %in0, %out : f32 loc("l0")
      linalg.yield %r : f32 loc("l0")
    } -> tensor<2xf32> loc("l0")
    %e7 = tensor.empty() : tensor<2x4xf32> loc("l0")
    %g8 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%s1, %g6 : tensor<2x4xf32>, tensor<2xf32>) outs(%e7 : tensor<2x4xf32>) {
    ^bb0(%in0: f32, %in1: f32, %out: f32):
      %m = arith.divf %in1, %c2 : f32 loc("l0")
      %r = arith.subf %in0, %m : f32 loc("l0")
      linalg.yield %r : f32 loc("l0")
    } -> tensor<2x4xf32> loc("l0")
    %c9 = arith.constant 0.0 : f32 loc("l0")
    %e10 = tensor.empty() : tensor<2xf32> loc("l0")
    %fill11 = linalg.fill ins(%c9 : f32) outs(%e10 : tensor<2xf32>) -> tensor<2xf32> loc("l0")
    %g12 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%g8 : tensor<2x4xf32>) outs(%fill11 : tensor<2xf32>) {
    ^bb0(%in0: f32, %out: f32):
      %p = arith.mulf %in0, %in0 : f32 loc("l0")
      %r = arith.addf %p, %out : f32 loc("l0")
      linalg.yield %r : f32 loc("l0")
    } -> tensor<2xf32> loc("l0")
    %c13 = arith.constant 9.999999747378752e-06 : f32 loc("l0")
    %cst14 = arith.constant dense<"0x0000803F0000003F000000400000803F"> : tensor<4xf32> loc("l0")
    %cst15 = arith.constant dense<"0x000000000000803E00000000000000BF"> : tensor<4xf32> loc("l0")
    %e16 = tensor.empty() : tensor<2x4xf32> loc("l0")
    %g17 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%g8, %g12, %cst14, %cst15 : tensor<2x4xf32>, tensor<2xf32>, tensor<4xf32>, tensor<4xf32>) outs(%e16 : tensor<2x4xf32>) {
    ^bb0(%in0: f32, %in1: f32, %in2: f32, %in3: f32, %out: f32):
      %v = arith.divf %in1, %c2 : f32 loc("l0")
      %ve = arith.addf %v, %c13 : f32 loc("l0")
      %s = math.rsqrt %ve : f32 loc("l0")
      %n = arith.mulf %in0, %s : f32 loc("l0")
      %ng = arith.mulf %n, %in2 : f32 loc("l0")
      %r = arith.addf %ng, %in3 : f32 loc("l0")
      linalg.yield %r : f32 loc("l0")
    } -> tensor<2x4xf32> loc("l0")
    %s18 = myquant.stats %g17 {min = array<f64: -2.903486967086792>, max = array<f64: 3.2326366901397705>} : tensor<2x4xf32> loc("l0")
    %cst19 = arith.constant dense<"0x00000040000020C00000003F000000BF000000BF000080BE000000C0000080BE000040BF000050400000803E000080BE000080BE000040BF000080BF000000BF"> : tensor<4x4xf32> loc("l1")
    %e20 = tensor.empty() : tensor<4x4xf32> loc("l1")
    %wt21 = linalg.transpose ins(%cst19 : tensor<4x4xf32>) outs(%e20 : tensor<4x4xf32>) permutation = [1, 0] loc("l1")
    %c22 = arith.constant 0.0 : f32 loc("l1")
    %e23 = tensor.empty() : tensor<2x4xf32> loc("l1")
    %fill24 = linalg.fill ins(%c22 : f32) outs(%e23 : tensor<2x4xf32>) -> tensor<2x4xf32> loc("l1")
    %mm25 = linalg.matmul ins(%s18, %wt21 : tensor<2x4xf32>, tensor<4x4xf32>) outs(%fill24 : tensor<2x4xf32>) -> tensor<2x4xf32> loc("l1")
    %cst26 = arith.constant dense<"0x0000803E00000000000000BF00000000"> : tensor<4xf32> loc("l1")
    %e27 = tensor.empty() : tensor<2x4xf32> loc("l1")
    %g28 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%mm25, %cst26 : tensor<2x4xf32>, tensor<4xf32>) outs(%e27 : tensor<2x4xf32>) {
    ^bb0(%in0: f32, %in1: f32, %out: f32):
      %a = arith.addf %in0, %in1 : f32 loc("l1")
      linalg.yield %a : f32 loc("l1")
    } -> tensor<2x4xf32> loc("l1")
    %s29 = myquant.stats %g28 {min = array<f64: -6.086849212646484>, max = array<f64: 5.723433971405029>} : tensor<2x4xf32> loc("l1")
    %e30 = tensor.empty() : tensor<2x4xf32> loc("l2")
    %g31 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%s1, %s29 : tensor<2x4xf32>, tensor<2x4xf32>) outs(%e30 : tensor<2x4xf32>) {
    ^bb0(%in0: f32, %in1: f32, %out: f32):
      %a = arith.addf %in0, %in1 : f32 loc("l2")
      linalg.yield %a : f32 loc("l2")
    } -> tensor<2x4xf32> loc("l2")
    %s32 = myquant.stats %g31 {min = array<f64: -7.380823612213135>, max = array<f64: 6.2340240478515625>} : tensor<2x4xf32> loc("l2")
    %c33 = arith.constant 4.0 : f32 loc("l3")
    %c34 = arith.constant 0.0 : f32 loc("l3")
    %e35 = tensor.empty() : tensor<2xf32> loc("l3")
    %fill36 = linalg.fill ins(%c34 : f32) outs(%e35 : tensor<2xf32>) -> tensor<2xf32> loc("l3")
    %g37 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%s32 : tensor<2x4xf32>) outs(%fill36 : tensor<2xf32>) {
    ^bb0(%in0: f32, %out: f32):
      %r = arith.addf %in0, %out : f32 loc("l3")
      linalg.yield %r : f32 loc("l3")
    } -> tensor<2xf32> loc("l3")
    %e38 = tensor.empty() : tensor<2x4xf32> loc("l3")
    %g39 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%s32, %g37 : tensor<2x4xf32>, tensor<2xf32>) outs(%e38 : tensor<2x4xf32>) {
    ^bb0(%in0: f32, %in1: f32, %out: f32):
      %m = arith.divf %in1, %c33 : f32 loc("l3")
      %r = arith.subf %in0, %m : f32 loc("l3")
      linalg.yield %r : f32 loc("l3")
    } -> tensor<2x4xf32> loc("l3")
    %c40 = arith.constant 0.0 : f32 loc("l3")
    %e41 = tensor.empty() : tensor<2xf32> loc("l3")
    %fill42 = linalg.fill ins(%c40 : f32) outs(%e41 : tensor<2xf32>) -> tensor<2xf32> loc("l3")
    %g43 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%g39 : tensor<2x4xf32>) outs(%fill42 : tensor<2xf32>) {
    ^bb0(%in0: f32, %out: f32):
      %p = arith.mulf %in0, %in0 : f32 loc("l3")
      %r = arith.addf %p, %out : f32 loc("l3")
      linalg.yield %r : f32 loc("l3")
    } -> tensor<2xf32> loc("l3")
    %c44 = arith.constant 9.999999747378752e-06 : f32 loc("l3")
    %cst45 = arith.constant dense<"0x0000803F0000803F0000803F0000803F"> : tensor<4xf32> loc("l3")
    %cst46 = arith.constant dense<"0x00000000000000000000000000000000"> : tensor<4xf32> loc("l3")
    %e47 = tensor.empty() : tensor<2x4xf32> loc("l3")
    %g48 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%g39, %g43, %cst45, %cst46 : tensor<2x4xf32>, tensor<2xf32>, tensor<4xf32>, tensor<4xf32>) outs(%e47 : tensor<2x4xf32>) {
    ^bb0(%in0: f32, %in1: f32, %in2: f32, %in3: f32, %out: f32):
      %v = arith.divf %in1, %c33 : f32 loc("l3")
      %ve = arith.addf %v, %c44 : f32 loc("l3")
      %s = math.rsqrt %ve : f32 loc("l3")
      %n = arith.mulf %in0, %s : f32 loc("l3")
      %ng = arith.mulf %n, %in2 : f32 loc("l3")
      %r = arith.addf %ng, %in3 : f32 loc("l3")
      linalg.yield %r : f32 loc("l3")
    } -> tensor<2x4xf32> loc("l3")
    %s49 = myquant.stats %g48 {min = array<f64: -1.670153021812439>, max = array<f64: 1.62505304813385>} : tensor<2x4xf32> loc("l3")
    %cst50 = arith.constant dense<"0x0000003F000080BE0000803F000080BE000000000000C03F0000003F000000BF000080BE0000003F00000040000080BE"> : tensor<3x4xf32> loc("l4")
    %e51 = tensor.empty() : tensor<4x3xf32> loc("l4")
    %wt52 = linalg.transpose ins(%cst50 : tensor<3x4xf32>) outs(%e51 : tensor<4x3xf32>) permutation = [1, 0] loc("l4")
    %c53 = arith.constant 0.0 : f32 loc("l4")
    %e54 = tensor.empty() : tensor<2x3xf32> loc("l4")
    %fill55 = linalg.fill ins(%c53 : f32) outs(%e54 : tensor<2x3xf32>) -> tensor<2x3xf32> loc("l4")
    %mm56 = linalg.matmul ins(%s49, %wt52 : tensor<2x4xf32>, tensor<4x3xf32>) outs(%fill55 : tensor<2x3xf32>) -> tensor<2x3xf32> loc("l4")
    %s57 = myquant.stats %mm56 {min = array<f64: -3.597655773162842>, max = array<f64: 2.9198532104492188>} : tensor<2x3xf32> loc("l4")
    return %s57 : tensor<2x3xf32>
  }
}
