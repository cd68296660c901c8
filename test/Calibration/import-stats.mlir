// myquant-import-stats: ranges, fixed quantization parameters (turned into
// the range that gives exactly those parameters), per-channel ranges and
// histograms from a JSON file keyed by value names.
// RUN: rm -rf %t && split-file %s %t
// RUN: myquant-opt %t/model.mlir --myquant-import-stats=file=%t/stats.json | FileCheck %s
// RUN: myquant-opt %t/model.mlir --myquant-import-stats=file=%t/axis.json | FileCheck %s --check-prefix=AXIS

// The scale 0.1 and zero point -4 of "input" become the range
// [(-128 + 4) * 0.1, (127 + 4) * 0.1], one ulp wider at the top so that the
// dry run gives back exactly 0.1 and -4 (docs/NumericSpec.md 1.1). The
// uint8 parameters of "fc" (0.05, 10) become [-0.5, 12.25]. "fc#0" has no
// entry: no annotation. The earlier annotation of the argument is replaced.
// CHECK-LABEL: func.func @net(
// CHECK:         %[[X:.*]] = myquant.stats %arg0 {max = array<f64: 13.100000000000001>, min = array<f64: -1.240000e+01>}
// CHECK-NOT:     myquant.stats
// CHECK:         %[[MM:.*]] = linalg.matmul ins(%[[X]],
// CHECK-NEXT:    %[[FC:.*]] = linalg.generic {{.*}} ins(%[[MM]],
// CHECK:         myquant.stats %[[FC]] {max = array<f64: 1.225000e+01>, min = array<f64: -5.000000e-01>}
// CHECK:         myquant.stats %{{.*}} {histogram = array<i64: 5, 0, 1>, max = array<f64: 6.000000e+00>, min = array<f64: 0.000000e+00>}

// RUN: myquant-opt %t/model.mlir --myquant-import-stats=file=%t/stats.json --myquant-propagate-qparams | FileCheck %s --check-prefix=QPARAMS
// QPARAMS: myquant.quantize %arg0 : tensor<2x4xf32> -> tensor<2x4x!quant.uniform<i8:f32, 1.000000e-01:-4>>

// AXIS-LABEL: func.func @net(
// AXIS:         linalg.matmul
// AXIS-NEXT:    myquant.stats %{{.*}} {axis = 1 : i64, max = array<f64: 1.000000e+00, 2.000000e+00, 3.000000e+00>, min = array<f64: -1.000000e+00, -2.000000e+00, -3.000000e+00>}

// Export writes what import reads: the same IR after a round trip. (Names
// come from locations: keep them when printing.)
// RUN: myquant-opt %t/model.mlir --myquant-import-stats=file=%t/stats.json --mlir-print-debuginfo -o %t/imported.mlir
// RUN: myquant-opt %t/imported.mlir --myquant-export-stats=file=%t/exported.json | FileCheck %s --check-prefix=UNCHANGED
// RUN: myquant-opt %t/model.mlir --myquant-import-stats=file=%t/exported.json --mlir-print-debuginfo -o %t/reimported.mlir
// RUN: diff %t/imported.mlir %t/reimported.mlir
// RUN: myquant-opt %t/model.mlir --myquant-import-stats=file=%t/axis.json --myquant-export-stats=file=%t/axis-exported.json -o /dev/null
// RUN: FileCheck %s --check-prefix=EXPORT < %t/axis-exported.json
// UNCHANGED: myquant.stats %arg0 {max = array<f64: 13.100000000000001>, min = array<f64: -1.240000e+01>}
// EXPORT:      {
// EXPORT-NEXT:   "format": "myquant-stats",
// EXPORT-NEXT:   "version": 1,
// EXPORT-NEXT:   "function": "net",
// EXPORT-NEXT:   "values": {
// EXPORT-NEXT:     "input": {
// EXPORT-NEXT:       "shape": [2,4],
// EXPORT-NEXT:       "min": -1,
// EXPORT-NEXT:       "max": 1
// EXPORT-NEXT:     },
// EXPORT-NEXT:     "fc#0": {
// EXPORT-NEXT:       "shape": [2,3],
// EXPORT-NEXT:       "axis": 1,
// EXPORT-NEXT:       "min": [-1,-2,-3],
// EXPORT-NEXT:       "max": [1,2,3]
// EXPORT-NEXT:     }
// EXPORT-NEXT:   }
// EXPORT-NEXT: }

//--- model.mlir
func.func @net(%x: tensor<2x4xf32> loc("input")) -> tensor<2x3xf32> {
  %xs = myquant.stats %x {min = array<f64: -1.0>, max = array<f64: 1.0>} : tensor<2x4xf32>
  %w = arith.constant dense<[[0.5, -1.0, 0.25], [1.0, 0.5, -0.5], [-0.25, 0.75, 1.0], [0.5, 0.5, 0.5]]> : tensor<4x3xf32>
  %b = arith.constant dense<[0.125, -0.25, 0.5]> : tensor<3xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x3xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %mm = linalg.matmul ins(%xs, %w : tensor<2x4xf32>, tensor<4x3xf32>) outs(%f : tensor<2x3xf32>) -> tensor<2x3xf32> loc("fc")
  %fc = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%mm, %b : tensor<2x3xf32>, tensor<3xf32>) outs(%e : tensor<2x3xf32>) {
  ^bb0(%in: f32, %bias: f32, %out: f32):
    %s = arith.addf %in, %bias : f32
    linalg.yield %s : f32
  } -> tensor<2x3xf32> loc("fc")
  %relu = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%fc : tensor<2x3xf32>) outs(%e : tensor<2x3xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<2x3xf32> loc("relu")
  return %relu : tensor<2x3xf32>
}

//--- stats.json
{
  "function": "net",
  "values": {
    "input": {"shape": [2, 4], "scale": 0.1, "zero_point": -4},
    "fc": {"scale": 0.05, "zero_point": 10, "dtype": "quint8"},
    "relu": {"min": 0, "max": 6, "histogram": [5, 0, 1], "method": "minmax"}
  }
}

//--- axis.json
{
  "values": {
    "fc#0": {"shape": [2, 3], "axis": 1, "min": [-1, -2, -3], "max": [1, 2, 3]}
  }
}
