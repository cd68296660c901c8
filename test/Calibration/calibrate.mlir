// Calibration on the data of Inputs/. Inputs/calibration_data.py made the
// data, and checks every number calibration finds against numpy on the same
// data: the annotations go through myquant-export-stats to JSON, which it
// compares exactly (the IR prints doubles in too many ways to FileCheck).
// RUN: rm -rf %t && mkdir -p %t

// The annotated IR: which values are observed and where the stats go.
// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=mlp batch-size=4" | FileCheck %s
// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=fixed" | FileCheck %s --check-prefix=FIXED
// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=fixed observe-inside-layers" | FileCheck %s --check-prefix=FIXED-ALL
// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/pair.npz function=pair" | FileCheck %s --check-prefix=PAIR

// Per-tensor min/max over all samples, in batches of 4 or 3 with a dynamic
// batch; the fixed batch 4 of @fixed wraps the last batch around to samples
// 0 and 1, which changes no minimum or maximum.
// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=mlp batch-size=4" --myquant-export-stats="file=%t/mlp.json function=mlp" -o /dev/null
// RUN: %python %S/Inputs/calibration_data.py compare %S/Inputs mlp-minmax %t/mlp.json
// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=mlp batch-size=3" --myquant-export-stats="file=%t/mlp3.json function=mlp" -o /dev/null
// RUN: %python %S/Inputs/calibration_data.py compare %S/Inputs mlp-minmax %t/mlp3.json
// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=fixed observe-inside-layers" --myquant-export-stats="file=%t/fixed.json function=fixed" -o /dev/null
// RUN: %python %S/Inputs/calibration_data.py compare %S/Inputs fixed-minmax %t/fixed.json
// Without observe-inside-layers, the same statistics for the values still
// observed.
// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=fixed" --myquant-export-stats="file=%t/fixed-layer.json function=fixed" -o /dev/null
// RUN: %python %S/Inputs/calibration_data.py compare %S/Inputs fixed-layer-outputs %t/fixed-layer.json

// Moving averages see the batches, including the wrapped one.
// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=mlp batch-size=4 method=moving-average averaging-constant=0.5" --myquant-export-stats="file=%t/mlp-ma.json function=mlp" -o /dev/null
// RUN: %python %S/Inputs/calibration_data.py compare %S/Inputs mlp-moving-average %t/mlp-ma.json
// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=fixed method=moving-average averaging-constant=0.5 observe-inside-layers" --myquant-export-stats="file=%t/fixed-ma.json function=fixed" -o /dev/null
// RUN: %python %S/Inputs/calibration_data.py compare %S/Inputs fixed-moving-average %t/fixed-ma.json
// Batches that run at once are observed in data order: the same moving
// average, and the same annotated module, with 3 threads.
// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=mlp batch-size=4 method=moving-average averaging-constant=0.5 threads=3" --myquant-export-stats="file=%t/mlp-ma-threads.json function=mlp" -o /dev/null
// RUN: %python %S/Inputs/calibration_data.py compare %S/Inputs mlp-moving-average %t/mlp-ma-threads.json
// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=mlp batch-size=1 method=entropy" -o %t/entropy-1.mlir
// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=mlp batch-size=1 method=entropy threads=2" -o %t/entropy-2.mlir
// RUN: diff %t/entropy-1.mlir %t/entropy-2.mlir

// Two arguments from an .npz: by name (`loc("a")`, then `arg1`), by
// numpy's positional names, and by archive order.
// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/pair.npz function=pair" --myquant-export-stats="file=%t/pair.json function=pair" -o /dev/null
// RUN: %python %S/Inputs/calibration_data.py compare %S/Inputs pair %t/pair.json
// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/pair_positional.npz function=pair" --myquant-export-stats="file=%t/pair-positional.json function=pair" -o /dev/null
// RUN: %python %S/Inputs/calibration_data.py compare %S/Inputs pair %t/pair-positional.json
// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/pair_order.npz function=pair" --myquant-export-stats="file=%t/pair-order.json function=pair" -o /dev/null
// RUN: %python %S/Inputs/calibration_data.py compare %S/Inputs pair %t/pair-order.json

// `samples` limits the data: the first sample alone is
// [-4, -3.25, -3.25, -1.75].
// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=mlp samples=1" | FileCheck %s --check-prefix=ONE

// No progress output unless stderr is a terminal.
// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=mlp" -o /dev/null 2>&1 | count 0

// `timing` says where the time went, on one line.
// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=mlp batch-size=3 timing" -o /dev/null 2>&1 | FileCheck %s --check-prefix=TIMING
// TIMING: myquant-calibrate timing: lowering {{[0-9]+\.[0-9]+}} s, JIT compile {{[0-9]+\.[0-9]+}} s, calls {{[0-9]+\.[0-9]+}} s (CPU {{[0-9]+\.[0-9]+}} s, first call CPU {{[0-9]+\.[0-9]+}} s; page faults: first call {{[0-9]+}}, later calls {{[0-9]+}}), observers {{[0-9]+\.[0-9]+}} s, total {{[0-9]+\.[0-9]+}} s (copy compiled)
// TIMING-NOT: timing

// @mlp: the argument and every op result that depends on it get stats, in
// program order; constants, tensor.empty and linalg.fill do not.
// CHECK-LABEL: func.func @mlp(
// CHECK-SAME:      %[[X:.*]]: tensor<?x4xf32>
// CHECK:         %[[XS:.*]] = myquant.stats %[[X]] {max = array<f64: 4.000000e+00>, min = array<f64: -4.000000e+00>} : tensor<?x4xf32>
// CHECK-NOT:     myquant.stats
// CHECK:         %[[MM:.*]] = linalg.matmul ins(%[[XS]], %{{.*}} : tensor<?x4xf32>, tensor<4x3xf32>)
// CHECK-NEXT:    %[[MMS:.*]] = myquant.stats %[[MM]]
// CHECK-NEXT:    %[[FC:.*]] = linalg.generic {{.*}} ins(%[[MMS]], %{{.*}} : tensor<?x3xf32>, tensor<3xf32>)
// CHECK:         %[[FCS:.*]] = myquant.stats %[[FC]]
// CHECK-NEXT:    %[[RELU:.*]] = linalg.generic {{.*}} ins(%[[FCS]] : tensor<?x3xf32>)
// CHECK:         %[[RELUS:.*]] = myquant.stats %[[RELU]] {max = array<f64: 5.562500e+00>, min = array<f64: 0.000000e+00>}
// CHECK-NEXT:    return %[[RELUS]]

// ONE-LABEL: func.func @mlp(
// ONE:         myquant.stats %arg0 {max = array<f64: -1.750000e+00>, min = array<f64: -4.000000e+00>}

// @fixed: the transpose of a constant weight is not observed, the earlier
// annotation of the argument is replaced.
// FIXED-LABEL: func.func @fixed(
// FIXED-SAME:      %[[X:.*]]: tensor<4x4xf32>
// FIXED:         %[[XS:.*]] = myquant.stats %[[X]] {max = array<f64: 4.000000e+00>, min = array<f64: -4.000000e+00>} : tensor<4x4xf32>
// FIXED:         %[[WT:.*]] = linalg.transpose
// FIXED-NOT:     myquant.stats %[[WT]]
// FIXED:         %[[MM:.*]] = linalg.matmul ins(%[[XS]], %[[WT]]
// FIXED-NOT:     1.000000e+02
// FIXED-NOT:     myquant.stats
// @fixed has a static batch, so the matmul, its bias add and the relu are
// one layer (FloatGraph's compute chain), which the float kernel of the
// instrumented copy computes fused: only the layer's output is observed
// (the dry run reads no other range of the layer), unless
// observe-inside-layers.
// FIXED:         %[[FC:.*]] = linalg.generic {{.*}} ins(%[[MM]], %{{.*}} :
// FIXED-NOT:     myquant.stats
// FIXED:         %[[RELU:.*]] = linalg.generic {{.*}} ins(%[[FC]] :
// FIXED-NOT:     myquant.stats
// FIXED:         %[[RELUS:.*]] = myquant.stats %[[RELU]] {max = array<f64: 5.562500e+00>, min = array<f64: 0.000000e+00>}
// FIXED-NEXT:    return %[[RELUS]]

// FIXED-ALL-LABEL: func.func @fixed(
// FIXED-ALL:         %[[MM:.*]] = linalg.matmul
// FIXED-ALL-NEXT:    %[[MMS:.*]] = myquant.stats %[[MM]]
// FIXED-ALL:         %[[FC:.*]] = linalg.generic {{.*}} ins(%[[MMS]], %{{.*}} :
// FIXED-ALL:         %[[FCS:.*]] = myquant.stats %[[FC]]
// FIXED-ALL:         %[[RELU:.*]] = linalg.generic {{.*}} ins(%[[FCS]] :
// FIXED-ALL:         %[[RELUS:.*]] = myquant.stats %[[RELU]] {max = array<f64: 5.562500e+00>, min = array<f64: 0.000000e+00>}
// FIXED-ALL-NEXT:    return %[[RELUS]]

// PAIR-LABEL: func.func @pair(
// PAIR-COUNT-3: myquant.stats
