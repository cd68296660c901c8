// RUN: myquant-opt %s --myquant-propagate-qparams=activation-bits=16 --myquant-quantize 2>&1 | FileCheck %s --check-prefix=ALL
// RUN: myquant-opt %s --myquant-propagate-qparams=layer-precision=fc2:w8a16 --myquant-quantize 2>&1 | FileCheck %s --check-prefix=SECOND
// RUN: myquant-opt %s "--myquant-ptq=layer-precision=fc1:w8a16" | FileCheck %s --check-prefix=PTQ
// RUN: not myquant-opt %s --myquant-propagate-qparams=layer-precision=prob:w8a16 2>&1 | FileCheck %s --check-prefix=SOFTMAX
// RUN: not myquant-opt %s --myquant-propagate-qparams=layer-precision=fc9:w8a16 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: not myquant-opt %s --myquant-propagate-qparams=layer-precision=fc2:w4a16 2>&1 | FileCheck %s --check-prefix=W4
// RUN: not myquant-opt %s --myquant-propagate-qparams=layer-precision=fc2:w8a12 2>&1 | FileCheck %s --check-prefix=SYNTAX
// RUN: not myquant-opt %s --myquant-propagate-qparams=activation-bits=12 2>&1 | FileCheck %s --check-prefix=BITS
// RUN: myquant-opt %s "--myquant-propagate-qparams=activation-bits=16 int16-range-headroom=1" --myquant-quantize 2>&1 | FileCheck %s --check-prefix=NONE
// RUN: myquant-opt %s "--myquant-ptq=layer-precision=fc1:w8a16 int16-range-headroom=1.5" | FileCheck %s --check-prefix=PTQ-H
// RUN: not myquant-opt %s "--myquant-propagate-qparams=activation-bits=16 int16-range-headroom=0.5" 2>&1 | FileCheck %s --check-prefix=LOW
// RUN: not myquant-opt %s "--myquant-propagate-qparams=activation-bits=16 int16-range-headroom=200" 2>&1 | FileCheck %s --check-prefix=HIGH
// RUN: not myquant-opt %s "--myquant-propagate-qparams=activation-bits=16 int16-range-headroom=nan" 2>&1 | FileCheck %s --check-prefix=NAN

// 16-bit activations with int8 weights (docs/NumericSpec.md 6): fc1 (+ relu
// act1), fc2, the residual add res, and a softmax, which has an 8-bit form
// only.

// With activation-bits=16 every value is symmetric i16 in [-32767, 32767]
// (scale 2 max|range| / 32767 with the default headroom 2: 2 * 2.325 /
// 32767 for x) except those the softmax reads and writes; the add of two
// 16-bit operands shifts by 15, and its result, read by the softmax, is
// int8.
// ALL:       remark: loc("prob"): 'linalg.softmax' has no 16-bit form: the values it reads and writes keep 8-bit activations
// ALL-NOT:   remark
// ALL-LABEL: func.func @forward
// ALL:       myquant.quantize %{{.*}} -> tensor<1x4x!quant.uniform<i16<-32767:32767>:f32, 1.4191106906338694E-4>>
// ALL:       %[[FC1:[0-9]+]] = myquant.matmul {{.*}}clamp = #myquant.clamp<0, 32767>{{.*}} : (tensor<1x4x!quant.uniform<i16<-32767:32767>:f32, 1.4191106906338694E-4>>, tensor<4x4x!quant.uniform<i8<-127:127>{{.*}}, tensor<4xi32>) -> tensor<1x4x!quant.uniform<i16<-32767:32767>:f32, 1.749320963164159E-4>>
// ALL:       %[[FC2:[0-9]+]] = myquant.matmul %[[FC1]]{{.*}} -> tensor<1x4x!quant.uniform<i16<-32767:32767>:f32, 2.4835963011566513E-4>>
// ALL:       %[[RES:[0-9]+]] = myquant.add %[[FC2]], %[[FC1]] {left_shift = 15 : i64{{.*}} -> tensor<1x4x!quant.uniform<i8:f32, 0.027929411764705883:-121>>
// ALL:       myquant.softmax %[[RES]]

// Per layer: fc2 reads act1 and writes its own result in 16 bits, so fc1
// takes an 8-bit input and gives a 16-bit output (mixed widths need no
// separate requantize).
// SECOND-NOT:   remark
// SECOND-LABEL: func.func @forward
// SECOND:       myquant.quantize %{{.*}} -> tensor<1x4x!quant.uniform<i8:f32, 0.01423137254901961:35>>
// SECOND:       %[[FC1:[0-9]+]] = myquant.matmul {{.*}} : (tensor<1x4x!quant.uniform<i8:f32, 0.01423137254901961:35>>, {{.*}}) -> tensor<1x4x!quant.uniform<i16<-32767:32767>:f32, 1.749320963164159E-4>>
// SECOND:       myquant.matmul %[[FC1]], {{.*}} : (tensor<1x4x!quant.uniform<i16<-32767:32767>:f32, 1.749320963164159E-4>>, {{.*}}) -> tensor<1x4x!quant.uniform<i16<-32767:32767>:f32, 2.4835963011566513E-4>>
// SECOND:       myquant.add {{.*}}left_shift = 15

// Through myquant-ptq: fc1 reads x in 16 bits and writes act1 in 16 bits;
// fc2 reads it in 16 bits and writes int8; the add of an 8-bit and a
// 16-bit operand shifts by 15 too.
// PTQ-LABEL: func.func @forward
// PTQ:       myquant.quantize %{{.*}} -> tensor<1x4x!quant.uniform<i16<-32767:32767>:f32, 1.4191106906338694E-4>>
// PTQ:       %[[FC1:[0-9]+]] = myquant.matmul {{.*}} -> tensor<1x4x!quant.uniform<i16<-32767:32767>:f32, 1.749320963164159E-4>>
// PTQ:       %[[FC2:[0-9]+]] = myquant.matmul %[[FC1]], {{.*}} -> tensor<1x4x!quant.uniform<i8:f32
// PTQ:       myquant.add %[[FC2]], %[[FC1]] {left_shift = 15 : i64

// Without headroom (1) the scales are max|range| / 32767 (2.325 / 32767 for
// x), exactly half the default ones; the 8-bit values are the same.
// NONE-LABEL: func.func @forward
// NONE:       myquant.quantize %{{.*}} -> tensor<1x4x!quant.uniform<i16<-32767:32767>:f32, 7.0955534531693472E-5>>
// NONE:       %[[FC1:[0-9]+]] = myquant.matmul {{.*}} -> tensor<1x4x!quant.uniform<i16<-32767:32767>:f32, 8.746604815820795E-5>>
// NONE:       %[[FC2:[0-9]+]] = myquant.matmul %[[FC1]]{{.*}} -> tensor<1x4x!quant.uniform<i16<-32767:32767>:f32, 1.2417981505783256E-4>>
// NONE:       myquant.add %[[FC2]], %[[FC1]] {left_shift = 15 : i64{{.*}} -> tensor<1x4x!quant.uniform<i8:f32, 0.027929411764705883:-121>>

// myquant-ptq passes the headroom on: 1.5 * 2.325 / 32767 for x.
// PTQ-H-LABEL: func.func @forward
// PTQ-H:       myquant.quantize %{{.*}} -> tensor<1x4x!quant.uniform<i16<-32767:32767>:f32, 1.0643330179754022E-4>>
// PTQ-H:       myquant.matmul {{.*}} -> tensor<1x4x!quant.uniform<i16<-32767:32767>:f32, 1.3119907223731195E-4>>

// LOW: error: int16-range-headroom is 0.5; it must be at least 1 (less would clip the calibrated range) and at most 128 (more would leave 16-bit values coarser than 8-bit ones)
// HIGH: error: int16-range-headroom is 200; it must be at least 1
// NAN: error: int16-range-headroom is nan; it must be at least 1

// SOFTMAX: error: loc("prob"): 'linalg.softmax' has no 16-bit form (softmax, layer normalization and matmuls of two activations take 8-bit activations); remove its layer from layer-precision
// UNKNOWN: error: layer-precision names 'fc9', which is not the location name of an op of this function (give the exporter's layer names, e.g. features.0)
// W4: error: layer-precision asks for w4a16 in layer 'fc2'; 4-bit weights take 8-bit activations (w4a8), 16-bit activations 8-bit weights (w8a16)
// SYNTAX: error: layer-precision entry 'fc2:w8a12' is not '<layer name>:w<4|8>a<8|16>' (e.g. 'features.0:w8a16')
// BITS: error: activation-bits is 12; it must be 8 or 16
  func.func @forward(%x: tensor<1x4xf32> loc("x")) -> tensor<1x4xf32> {
    %s1 = myquant.stats %x {min = array<f64: -2.325>, max = array<f64: 1.304>} : tensor<1x4xf32> loc("x")
    %cst2 = arith.constant dense<"0x0000803F000000BF0000803E000000400000003F0000803F000080BF0000403F000080BE0000003F0000803F0000803F0000803F0000803F000000BF0000003F"> : tensor<4x4xf32> loc("fc1")
    %e3 = tensor.empty() : tensor<4x4xf32> loc("fc1")
    %wt4 = linalg.transpose ins(%cst2 : tensor<4x4xf32>) outs(%e3 : tensor<4x4xf32>) permutation = [1, 0] loc("fc1")
    %c5 = arith.constant 0.0 : f32 loc("fc1")
    %e6 = tensor.empty() : tensor<1x4xf32> loc("fc1")
    %fill7 = linalg.fill ins(%c5 : f32) outs(%e6 : tensor<1x4xf32>) -> tensor<1x4xf32> loc("fc1")
    %mm8 = linalg.matmul ins(%s1, %wt4 : tensor<1x4xf32>, tensor<4x4xf32>) outs(%fill7 : tensor<1x4xf32>) -> tensor<1x4xf32> loc("fc1")
    %cst9 = arith.constant dense<"0xCDCCCC3DCDCC4CBE9A99993ECDCC4C3D"> : tensor<4xf32> loc("fc1")
    %e10 = tensor.empty() : tensor<1x4xf32> loc("fc1")
    %g11 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%mm8, %cst9 : tensor<1x4xf32>, tensor<4xf32>) outs(%e10 : tensor<1x4xf32>) {
    ^bb0(%in0: f32, %in1: f32, %out: f32):
      %a = arith.addf %in0, %in1 : f32 loc("fc1")
      linalg.yield %a : f32 loc("fc1")
    } -> tensor<1x4xf32> loc("fc1")
    %s12 = myquant.stats %g11 {min = array<f64: -3.892>, max = array<f64: 2.866>} : tensor<1x4xf32> loc("fc1")
    %c13 = arith.constant 0.0 : f32 loc("act1")
    %e14 = tensor.empty() : tensor<1x4xf32> loc("act1")
    %g15 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%s12 : tensor<1x4xf32>) outs(%e14 : tensor<1x4xf32>) {
    ^bb0(%in0: f32, %out: f32):
      %r = arith.maximumf %in0, %c13 : f32 loc("act1")
      linalg.yield %r : f32 loc("act1")
    } -> tensor<1x4xf32> loc("act1")
    %s16 = myquant.stats %g15 {min = array<f64: 0.0>, max = array<f64: 2.866>} : tensor<1x4xf32> loc("act1")
    %cst17 = arith.constant dense<"0x0000003F000080BF0000803E0000803F0000803F0000003F0000003F000080BE0000403F000000BF0000803F0000003F000080BF0000803E0000003F0000803F"> : tensor<4x4xf32> loc("fc2")
    %e18 = tensor.empty() : tensor<4x4xf32> loc("fc2")
    %wt19 = linalg.transpose ins(%cst17 : tensor<4x4xf32>) outs(%e18 : tensor<4x4xf32>) permutation = [1, 0] loc("fc2")
    %c20 = arith.constant 0.0 : f32 loc("fc2")
    %e21 = tensor.empty() : tensor<1x4xf32> loc("fc2")
    %fill22 = linalg.fill ins(%c20 : f32) outs(%e21 : tensor<1x4xf32>) -> tensor<1x4xf32> loc("fc2")
    %mm23 = linalg.matmul ins(%s16, %wt19 : tensor<1x4xf32>, tensor<4x4xf32>) outs(%fill22 : tensor<1x4xf32>) -> tensor<1x4xf32> loc("fc2")
    %s24 = myquant.stats %mm23 {min = array<f64: -0.188>, max = array<f64: 4.069>} : tensor<1x4xf32> loc("fc2")
    %e25 = tensor.empty() : tensor<1x4xf32> loc("res")
    %g26 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%s24, %s16 : tensor<1x4xf32>, tensor<1x4xf32>) outs(%e25 : tensor<1x4xf32>) {
    ^bb0(%in0: f32, %in1: f32, %out: f32):
      %a = arith.addf %in0, %in1 : f32 loc("res")
      linalg.yield %a : f32 loc("res")
    } -> tensor<1x4xf32> loc("res")
    %s27 = myquant.stats %g26 {min = array<f64: -0.188>, max = array<f64: 6.934>} : tensor<1x4xf32> loc("res")
    %e28 = tensor.empty() : tensor<1x4xf32> loc("prob")
    %softmax29 = linalg.softmax dimension(1) ins(%s27 : tensor<1x4xf32>) outs(%e28 : tensor<1x4xf32>) -> tensor<1x4xf32> loc("prob")
    %s30 = myquant.stats %softmax29 {min = array<f64: 0.001>, max = array<f64: 0.959>} : tensor<1x4xf32> loc("prob")
    return %s30 : tensor<1x4xf32>
  }
