// RUN: myquant-opt %s --myquant-propagate-qparams=dynamic=true --myquant-quantize 2>&1 | FileCheck %s
// RUN: myquant-opt %s "--myquant-propagate-qparams=dynamic=true norm-input-bits=16 int16-range-headroom=1" --myquant-quantize --myquant-verify-qparams 2>&1 | FileCheck %s --check-prefix=NORM16
// RUN: myquant-opt %s "--myquant-propagate-qparams=norm-input-bits=16 int16-range-headroom=1" --myquant-quantize 2>&1 | FileCheck %s --check-prefix=STATIC
// RUN: myquant-opt %s "--myquant-ptq=dynamic=true norm-input-bits=16 allow-float=false" | myquant-opt --myquant-lower-to-llvm -o /dev/null
// The 16-bit scales checked below are the calibrated ranges' own
// (int16-range-headroom=1; the default headroom doubles them,
// docs/NumericSpec.md 6.1, propagate-qparams-int16.mlir).

// A ViT's patch embedding (docs/NumericSpec.md 8.5): a convolution, the
// class token's concatenation and the position embedding's add of a
// constant write the residual stream into the first layer normalization.
// With dynamic=true and norm-input-bits=16 the convolution (a layer with
// constant weights) and the concatenation (its constant quantized into its
// result's parameters) write 16 bits, since only a 16-bit-result add and a
// 16-bit concatenation read them: the add reads a 16-bit operand and its
// 8-bit constant, both shifted by 15 (6.4). The static mode keeps them 8-bit.
// CHECK-LABEL: func.func @forward
// CHECK:       %[[CONV:.*]] = myquant.conv2d {{.*}} -> tensor<2x4x2x2x!quant.uniform<i8:f32, 0.010207914371116488:19>>
// CHECK:       %[[CAT:.*]] = myquant.concat {{.*}} -> tensor<2x5x4x!quant.uniform<i8:f32, 0.010207914371116488:19>>
// CHECK:       myquant.add %[[CAT]], %{{.*}} {left_shift = 20 : i64, {{.*}}} : (tensor<2x5x4x!quant.uniform<i8:f32, {{.*}}>>, tensor<1x5x4x!quant.uniform<i8:f32, {{.*}}>>) -> tensor<2x5x4x!quant.uniform<i8:f32
// NORM16-LABEL: func.func @forward
// NORM16:       %[[CONV:.*]] = myquant.conv2d {{.*}} -> tensor<2x4x2x2x!quant.uniform<i16<-32767:32767>:f32, 4.5800156656916567E-5>>
// NORM16:       %[[TOKEN:.*]] = quant.scast %{{.*}} : tensor<2x1x4xi16> to tensor<2x1x4x!quant.uniform<i16<-32767:32767>:f32, 4.5800156656916567E-5>>
// NORM16:       %[[CAT:.*]] = myquant.concat %[[TOKEN]], %{{.*}} {dim = 1 : i64} : {{.*}} -> tensor<2x5x4x!quant.uniform<i16<-32767:32767>:f32, 4.5800156656916567E-5>>
// NORM16:       %[[POS:.*]] = quant.scast %{{.*}} : tensor<1x5x4xi8> to tensor<1x5x4x!quant.uniform<i8:f32, 0.0096895823291703771:-49>>
// NORM16:       %[[ADD:.*]] = myquant.add %[[CAT]], %[[POS]] {left_shift = 15 : i64, {{.*}}} : (tensor<2x5x4x!quant.uniform<i16<-32767:32767>:f32, 4.5800156656916567E-5>>, tensor<1x5x4x!quant.uniform<i8:f32, 0.0096895823291703771:-49>>) -> tensor<2x5x4x!quant.uniform<i16<-32767:32767>:f32, 8.2945414020518416E-5>>
// NORM16:       myquant.layer_norm %[[ADD]] {{.*}} -> tensor<2x5x4x!quant.uniform<i32<-2147483647:2147483647>:f32
// NORM16:       myquant.dynamic_matmul
// STATIC-LABEL: func.func @forward
// STATIC:       myquant.conv2d {{.*}} -> tensor<2x4x2x2x!quant.uniform<i8:f32
// STATIC:       myquant.concat {{.*}} -> tensor<2x5x4x!quant.uniform<i8:f32
// STATIC:       myquant.add {{.*}} -> tensor<2x5x4x!quant.uniform<i16<-32767:32767>:f32

module {
  func.func @forward(%x: tensor<2x1x4x4xf32> loc("x")) -> tensor<2x3xf32> {
    %s1 = myquant.stats %x {min = array<f64: -2.32503080368042>, max = array<f64: 2.002392530441284>} : tensor<2x1x4x4xf32> loc("x")
    %c2 = arith.constant 0.0 : f32 loc("conv")
    %cst3 = arith.constant dense<"0x60694A3E189B993E8C8DADBEFCF45EBE"> : tensor<4xf32> loc("conv")
    %e4 = tensor.empty() : tensor<2x4x2x2xf32> loc("conv")
    %g5 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d1)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%cst3 : tensor<4xf32>) outs(%e4 : tensor<2x4x2x2xf32>) {
    ^bb0(%in0: f32, %out: f32):
      linalg.yield %in0 : f32 loc("conv")
    } -> tensor<2x4x2x2xf32> loc("conv")
    %cst7 = arith.constant dense<"0x005475BB5E54893E16B3D2BE8066BCBEF43245BEEC4B093E404F22BCCEFACA3E70BF35BD4C7B073EACBB1ABE7048C9BDB891F4BE528BA9BEE80E53BE00BB973C"> : tensor<4x1x2x2xf32> loc("conv")
    %conv6 = linalg.conv_2d_nchw_fchw {dilations = dense<[1, 1]> : vector<2xi64>, strides = dense<[2, 2]> : vector<2xi64>} ins(%s1, %cst7 : tensor<2x1x4x4xf32>, tensor<4x1x2x2xf32>) outs(%g5 : tensor<2x4x2x2xf32>) -> tensor<2x4x2x2xf32> loc("conv")
    %s8 = myquant.stats %conv6 {min = array<f64: -1.500733733177185>, max = array<f64: 1.1022844314575195>} : tensor<2x4x2x2xf32> loc("conv")
    %collapse9 = tensor.collapse_shape %s8 [[0], [1], [2, 3]] : tensor<2x4x2x2xf32> into tensor<2x4x4xf32> loc("flatten")
    %s10 = myquant.stats %collapse9 {min = array<f64: -1.500733733177185>, max = array<f64: 1.1022844314575195>} : tensor<2x4x4xf32> loc("flatten")
    %e11 = tensor.empty() : tensor<2x4x4xf32> loc("transpose")
    %tr12 = linalg.transpose ins(%s10 : tensor<2x4x4xf32>) outs(%e11 : tensor<2x4x4xf32>) permutation = [0, 2, 1] loc("transpose")
    %s13 = myquant.stats %tr12 {min = array<f64: -1.500733733177185>, max = array<f64: 1.1022844314575195>} : tensor<2x4x4xf32> loc("transpose")
    %cst14 = arith.constant dense<"0x18BD18BFC6673A3E074F5BBF99E08C3F"> : tensor<1x4xf32> loc("cat")
    %e15 = tensor.empty() : tensor<2x1x4xf32> loc("cat")
    %bc16 = linalg.broadcast ins(%cst14 : tensor<1x4xf32>) outs(%e15 : tensor<2x1x4xf32>) dimensions = [0] loc("cat")
    %cat17 = tensor.concat dim(1) %bc16, %s13 : (tensor<2x1x4xf32>, tensor<2x4x4xf32>) -> tensor<2x5x4xf32> loc("cat")
    %s18 = myquant.stats %cat17 {min = array<f64: -1.500733733177185>, max = array<f64: 1.1022844314575195>} : tensor<2x5x4xf32> loc("cat")
    %cst19 = arith.constant dense<"0x4573AA3D7DD7DF3ECFEA92BD6F9364BD9F4FACBEDE71DF3EF415073FAA1CB63D10DDEBBD089448BE5D158B3E17524ABE947664BE2478BE3E75AF423FAD45DA3FD9FD43BF23F81DBFC2EC683FFC308DBE"> : tensor<1x5x4xf32> loc("add")
    %e20 = tensor.empty() : tensor<2x5x4xf32> loc("add")
    %g21 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s18, %cst19 : tensor<2x5x4xf32>, tensor<1x5x4xf32>) outs(%e20 : tensor<2x5x4xf32>) {
    ^bb0(%in0: f32, %in1: f32, %out: f32):
      %a = arith.addf %in0, %in1 : f32 loc("add")
      linalg.yield %a : f32 loc("add")
    } -> tensor<2x5x4xf32> loc("add")
    %s22 = myquant.stats %g21 {min = array<f64: -1.685920000076294>, max = array<f64: 2.717872381210327>} : tensor<2x5x4xf32> loc("add")
    %c23 = arith.constant 4.0 : f32 loc("ln")
    %c24 = arith.constant 0.0 : f32 loc("ln")
    %e25 = tensor.empty() : tensor<2x5xf32> loc("ln")
    %fill26 = linalg.fill ins(%c24 : f32) outs(%e25 : tensor<2x5xf32>) -> tensor<2x5xf32> loc("ln")
    %g27 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%s22 : tensor<2x5x4xf32>) outs(%fill26 : tensor<2x5xf32>) {
    ^bb0(%in0: f32, %out: f32):
      %r = arith.addf %in0, %out : f32 loc("ln")
      linalg.yield %r : f32 loc("ln")
    } -> tensor<2x5xf32> loc("ln")
    %e28 = tensor.empty() : tensor<2x5x4xf32> loc("ln")
    %g29 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s22, %g27 : tensor<2x5x4xf32>, tensor<2x5xf32>) outs(%e28 : tensor<2x5x4xf32>) {
    ^bb0(%in0: f32, %in1: f32, %out: f32):
      %m = arith.divf %in1, %c23 : f32 loc("ln")
      %r = arith.subf %in0, %m : f32 loc("ln")
      linalg.yield %r : f32 loc("ln")
    } -> tensor<2x5x4xf32> loc("ln")
    %c30 = arith.constant 0.0 : f32 loc("ln")
    %e31 = tensor.empty() : tensor<2x5xf32> loc("ln")
    %fill32 = linalg.fill ins(%c30 : f32) outs(%e31 : tensor<2x5xf32>) -> tensor<2x5xf32> loc("ln")
    %g33 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%g29 : tensor<2x5x4xf32>) outs(%fill32 : tensor<2x5xf32>) {
    ^bb0(%in0: f32, %out: f32):
      %p = arith.mulf %in0, %in0 : f32 loc("ln")
      %r = arith.addf %p, %out : f32 loc("ln")
      linalg.yield %r : f32 loc("ln")
    } -> tensor<2x5xf32> loc("ln")
    %c34 = arith.constant 9.999999747378752e-06 : f32 loc("ln")
    %cst35 = arith.constant dense<"0x0000803F0000803F0000803F0000803F"> : tensor<4xf32> loc("ln")
    %cst36 = arith.constant dense<"0x00000000000000000000000000000000"> : tensor<4xf32> loc("ln")
    %e37 = tensor.empty() : tensor<2x5x4xf32> loc("ln")
    %g38 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%g29, %g33, %cst35, %cst36 : tensor<2x5x4xf32>, tensor<2x5xf32>, tensor<4xf32>, tensor<4xf32>) outs(%e37 : tensor<2x5x4xf32>) {
    ^bb0(%in0: f32, %in1: f32, %in2: f32, %in3: f32, %out: f32):
      %v = arith.divf %in1, %c23 : f32 loc("ln")
      %ve = arith.addf %v, %c34 : f32 loc("ln")
      %s = math.rsqrt %ve : f32 loc("ln")
      %n = arith.mulf %in0, %s : f32 loc("ln")
      %ng = arith.mulf %n, %in2 : f32 loc("ln")
      %r = arith.addf %ng, %in3 : f32 loc("ln")
      linalg.yield %r : f32 loc("ln")
    } -> tensor<2x5x4xf32> loc("ln")
    %s39 = myquant.stats %g38 {min = array<f64: -1.7158808708190918>, max = array<f64: 1.7304863929748535>} : tensor<2x5x4xf32> loc("ln")
    %collapse40 = tensor.collapse_shape %s39 [[0, 1], [2]] : tensor<2x5x4xf32> into tensor<10x4xf32> loc("fc")
    %cst41 = arith.constant dense<"0x6E898C3E203F81BD40649C3C0044ED3D00D19E3E48CFF53E9647C5BEECA13BBE9838493ED01BD43EE8C5DE3E22E2E13E"> : tensor<3x4xf32> loc("fc")
    %e42 = tensor.empty() : tensor<4x3xf32> loc("fc")
    %wt43 = linalg.transpose ins(%cst41 : tensor<3x4xf32>) outs(%e42 : tensor<4x3xf32>) permutation = [1, 0] loc("fc")
    %c44 = arith.constant 0.0 : f32 loc("fc")
    %e45 = tensor.empty() : tensor<10x3xf32> loc("fc")
    %fill46 = linalg.fill ins(%c44 : f32) outs(%e45 : tensor<10x3xf32>) -> tensor<10x3xf32> loc("fc")
    %mm47 = linalg.matmul ins(%collapse40, %wt43 : tensor<10x4xf32>, tensor<4x3xf32>) outs(%fill46 : tensor<10x3xf32>) -> tensor<10x3xf32> loc("fc")
    %cst48 = arith.constant dense<"0x78CACB3DF89CDEBE90663C3D"> : tensor<3xf32> loc("fc")
    %e49 = tensor.empty() : tensor<10x3xf32> loc("fc")
    %g50 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%mm47, %cst48 : tensor<10x3xf32>, tensor<3xf32>) outs(%e49 : tensor<10x3xf32>) {
    ^bb0(%in0: f32, %in1: f32, %out: f32):
      %a = arith.addf %in0, %in1 : f32 loc("fc")
      linalg.yield %a : f32 loc("fc")
    } -> tensor<10x3xf32> loc("fc")
    %s51 = myquant.stats %g50 {min = array<f64: -1.8315455913543701>, max = array<f64: 0.4386020302772522>} : tensor<10x3xf32> loc("fc")
    %expand52 = tensor.expand_shape %s51 [[0, 1], [2]] output_shape [2, 5, 3] : tensor<10x3xf32> into tensor<2x5x3xf32> loc("fc")
    %s53 = myquant.stats %expand52 {min = array<f64: -1.8315455913543701>, max = array<f64: 0.4386020302772522>} : tensor<2x5x3xf32> loc("fc")
    %slice54 = tensor.extract_slice %s53[0, 0, 0] [2, 1, 3] [1, 1, 1] : tensor<2x5x3xf32> to tensor<2x1x3xf32> loc("getitem")
    %s55 = myquant.stats %slice54 {min = array<f64: -0.07178787142038345>, max = array<f64: 0.20763300359249115>} : tensor<2x1x3xf32> loc("getitem")
    %collapse56 = tensor.collapse_shape %s55 [[0], [1, 2]] : tensor<2x1x3xf32> into tensor<2x3xf32> loc("getitem")
    %s57 = myquant.stats %collapse56 {min = array<f64: -0.07178787142038345>, max = array<f64: 0.20763300359249115>} : tensor<2x3xf32> loc("getitem")
    return %s57 : tensor<2x3xf32>
  }
}

