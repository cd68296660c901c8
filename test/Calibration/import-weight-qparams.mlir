// myquant-import-stats: fixed weight parameters (an entry's `weight` field,
// e.g. PyTorch's weight observer scale with the full [-128, 127] range) go
// to the layer's matmul/convolution as myquant.weight_qparams, and the dry
// run quantizes the weights with them instead of amax / 127.
// RUN: rm -rf %t && split-file %s %t
// RUN: myquant-opt %t/model.mlir --myquant-import-stats=file=%t/stats.json | FileCheck %s --check-prefix=IMPORT
// RUN: myquant-opt %t/model.mlir --myquant-import-stats=file=%t/stats.json --myquant-propagate-qparams="activation-type=uint8 weight-granularity=per-tensor" | FileCheck %s --check-prefix=DRY
// RUN: myquant-opt %t/model.mlir --myquant-import-stats=file=%t/channels.json --myquant-propagate-qparams | FileCheck %s --check-prefix=CHANNELS
// RUN: not myquant-opt %t/model.mlir --myquant-import-stats=file=%t/noanchor.json 2>&1 | FileCheck %s --check-prefix=NOANCHOR
// RUN: not myquant-opt %t/model.mlir --myquant-import-stats=file=%t/zp.json 2>&1 | FileCheck %s --check-prefix=ZP
// RUN: not myquant-opt %t/model.mlir --myquant-import-stats=file=%t/range.json 2>&1 | FileCheck %s --check-prefix=RANGE

// "fc" gives both the output's parameters and the weight's; the output
// range is annotated as usual, the weight parameters land on the matmul.
// IMPORT-LABEL: func.func @net(
// IMPORT:         linalg.matmul {myquant.weight_qparams = {qmax = 127 : i64, qmin = -128 : i64, scales = array<f64: 7.812500e-03>}}
// IMPORT:         myquant.stats %{{.*}} {max = array<f64: 1.275000e+01>, min = array<f64: 0.000000e+00>}

// Scale 1/128: 0.5 -> 64, -1.0 -> -128 (inside the full range), 1.0 -> 128
// clamped to 127; round half to even: 0.01171875 = 1.5 / 128 -> 2.
// The full range prints as plain i8. The attribute is consumed.
// DRY-LABEL: func.func @net(
// DRY:         arith.constant dense<{{\[}}[64, -128, 32], [127, 64, -64], [-32, 96, 2], [64, 64, 64]]> : tensor<4x3xi8>
// DRY-NEXT:    quant.scast {{.*}} : tensor<4x3xi8> to tensor<4x3x!quant.uniform<i8:f32, 7.812500e-03>>
// DRY-NOT:     myquant.weight_qparams

// One scale per output channel: a per-axis type over the given range.
// CHANNELS:       arith.constant dense<{{\[}}[50, -100, 25], [100, 50, -50], [-25, 75, 1], [50, 50, 50]]> : tensor<4x3xi8>
// CHANNELS-NEXT:  quant.scast {{.*}} : tensor<4x3xi8> to tensor<4x3x!quant.uniform<i8<-127:127>:f32:1, {1.000000e-02,1.000000e-02,1.000000e-02}>>

// NOANCHOR: error: stats file '{{.*}}noanchor.json': entry 'relu' gives weight parameters but 0 convolutions or matmuls carry that name (expected one)
// ZP: entry 'fc': weight zero points must be 0
// RANGE: entry 'fc': weight storage range [0, 255] must contain 0 and lie within [-128, 127]

//--- model.mlir
func.func @net(%x: tensor<2x4xf32> loc("input")) -> tensor<2x3xf32> {
  %w = arith.constant dense<[[0.5, -1.0, 0.25], [1.0, 0.5, -0.5], [-0.25, 0.75, 0.01171875], [0.5, 0.5, 0.5]]> : tensor<4x3xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x3xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %mm = linalg.matmul ins(%x, %w : tensor<2x4xf32>, tensor<4x3xf32>) outs(%f : tensor<2x3xf32>) -> tensor<2x3xf32> loc("fc")
  %relu = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%mm : tensor<2x3xf32>) outs(%e : tensor<2x3xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<2x3xf32> loc("relu")
  return %relu : tensor<2x3xf32>
}

//--- stats.json
{"format": "myquant-stats", "version": 1, "function": "net", "values": {
  "input": {"scale": 0.05, "zero_point": 128, "dtype": "quint8"},
  "fc": {"scale": 0.05, "zero_point": 0, "dtype": "quint8",
         "weight": {"scale": 0.0078125, "zero_point": 0, "qmin": -128, "qmax": 127}},
  "relu": {"scale": 0.05, "zero_point": 0, "dtype": "quint8"}}}

//--- channels.json
{"values": {
  "input": {"min": -1, "max": 1},
  "fc": {"weight": {"scale": [0.01, 0.01, 0.01], "qmin": -127, "qmax": 127}},
  "relu": {"min": 0, "max": 4}}}

//--- noanchor.json
{"values": {"relu": {"weight": {"scale": 0.01}}}}

//--- zp.json
{"values": {"fc": {"weight": {"scale": 0.01, "zero_point": 3}}}}

//--- range.json
{"values": {"fc": {"weight": {"scale": 0.01, "qmin": 0, "qmax": 255}}}}
