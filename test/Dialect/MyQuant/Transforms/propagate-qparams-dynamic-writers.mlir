// RUN: myquant-opt %s --myquant-propagate-qparams=dynamic=true --myquant-quantize 2>&1 | FileCheck %s
// RUN: myquant-opt %s "--myquant-ptq=dynamic=true allow-float=false" --convert-myquant-to-linalg | FileCheck %s --check-prefix=LOWER
// RUN: myquant-opt %s "--myquant-propagate-qparams=dynamic=true norm-input-bits=16" --myquant-quantize --myquant-verify-qparams 2>&1 | FileCheck %s --check-prefix=NORM16
// RUN: myquant-opt %s "--myquant-ptq=dynamic=true norm-input-bits=16 allow-float=false" | myquant-opt --myquant-lower-to-llvm -o /dev/null

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
}
