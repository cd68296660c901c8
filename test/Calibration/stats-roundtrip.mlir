// Calibration statistics out (stats-out) and back in (myquant-import-stats)
// give the very IR calibration produced, histograms included.
// RUN: rm -rf %t && mkdir -p %t

// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=mlp stats-out=%t/mlp.json" -o %t/calibrated.mlir
// RUN: FileCheck %s < %t/mlp.json
// RUN: %python %S/Inputs/calibration_data.py compare %S/Inputs mlp-minmax %t/mlp.json
// RUN: myquant-opt %S/Inputs/models.mlir --myquant-import-stats=file=%t/mlp.json -o %t/imported.mlir
// RUN: diff %t/calibrated.mlir %t/imported.mlir

// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=mlp method=percentile percentile=90 stats-out=%t/p90.json" -o %t/p90.mlir
// RUN: %python %S/Inputs/calibration_data.py compare %S/Inputs mlp-percentile-90 %t/p90.json
// RUN: myquant-opt %S/Inputs/models.mlir --myquant-import-stats=file=%t/p90.json -o %t/p90-imported.mlir
// RUN: diff %t/p90.mlir %t/p90-imported.mlir

// Names: the argument's and the ops' location names; the two ops called
// "fc" are "fc#0" and "fc" (the last one).
// CHECK:      {
// CHECK-NEXT:   "format": "myquant-stats",
// CHECK-NEXT:   "version": 1,
// CHECK-NEXT:   "function": "mlp",
// CHECK-NEXT:   "values": {
// CHECK-NEXT:     "input": {
// CHECK-NEXT:       "shape": [-1,4],
// CHECK-NEXT:       "min": -4,
// CHECK-NEXT:       "max": 4,
// CHECK-NEXT:       "method": "minmax"
// CHECK-NEXT:     },
// CHECK-NEXT:     "fc#0": {
// CHECK-NEXT:       "shape": [-1,3],
// CHECK-NEXT:       "min": -5.3125,
// CHECK-NEXT:       "max": 5.8125,
// CHECK-NEXT:       "method": "minmax"
// CHECK-NEXT:     },
// CHECK-NEXT:     "fc": {
// CHECK-NEXT:       "shape": [-1,3],
// CHECK-NEXT:       "min": -5.1875,
// CHECK-NEXT:       "max": 5.5625,
// CHECK-NEXT:       "method": "minmax"
// CHECK-NEXT:     },
// CHECK-NEXT:     "relu": {
// CHECK-NEXT:       "shape": [-1,3],
// CHECK-NEXT:       "min": 0,
// CHECK-NEXT:       "max": 5.5625,
// CHECK-NEXT:       "method": "minmax"
// CHECK-NEXT:     }
// CHECK-NEXT:   }
// CHECK-NEXT: }

// Without location names, arguments are arg<i> and results v<N>, the N-th
// result of the body's ops.
// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=fixed stats-out=%t/fixed.json observe-inside-layers" -o /dev/null
// RUN: FileCheck %s --check-prefix=INDEX < %t/fixed.json
// INDEX: "function": "fixed",
// INDEX: "arg0": {
// INDEX: "v7": {
// INDEX: "v8": {
// INDEX: "v9": {
// INDEX-NOT: inside_layers

// The values inside a layer, left unobserved, are named in `inside_layers`
// (the matmul and its bias add before the relu of @fixed).
// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=fixed stats-out=%t/fixed-layer.json" -o /dev/null
// RUN: FileCheck %s --check-prefix=LAYER < %t/fixed-layer.json
// LAYER: "function": "fixed",
// LAYER: "arg0": {
// LAYER-NOT: "v7": {
// LAYER-NOT: "v8": {
// LAYER: "v9": {
// LAYER: "inside_layers": [
// LAYER-NEXT: "v7",
// LAYER-NEXT: "v8"
// LAYER-NEXT: ]
