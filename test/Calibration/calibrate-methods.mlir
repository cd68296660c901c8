// Every method on the model and data of calibrate.mlir. percentile is
// checked exactly against numpy (Inputs/calibration_data.py implements its
// definition in docs/Calibration.md); mse and entropy, which the unit tests
// check against PyTorch and hand-computed divergences, must clip to bin
// edges within the observed range and count every value.
// RUN: rm -rf %t && mkdir -p %t

// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=mlp method=percentile percentile=90" --myquant-export-stats="file=%t/p90.json function=mlp" -o /dev/null
// RUN: %python %S/Inputs/calibration_data.py compare %S/Inputs mlp-percentile-90 %t/p90.json
// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=mlp method=percentile" --myquant-export-stats="file=%t/p.json function=mlp" -o /dev/null
// RUN: %python %S/Inputs/calibration_data.py compare %S/Inputs mlp-percentile %t/p.json
// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=mlp method=mse" --myquant-export-stats="file=%t/mse.json function=mlp" -o /dev/null
// RUN: %python %S/Inputs/calibration_data.py clipped %S/Inputs %t/mse.json
// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=mlp method=entropy" --myquant-export-stats="file=%t/entropy.json function=mlp" -o /dev/null
// RUN: %python %S/Inputs/calibration_data.py clipped %S/Inputs %t/entropy.json

// The histogram methods record the histogram; the others do not.
// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=mlp method=entropy" | FileCheck %s --check-prefix=HIST
// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=mlp method=moving-average" | FileCheck %s --check-prefix=NOHIST
// HIST-LABEL:  func.func @mlp(
// HIST-COUNT-4: myquant.stats %{{.*}} {histogram = array<i64: {{[0-9, ]+}}>, max = array<f64: {{.*}}>, min = array<f64: {{.*}}>}
// NOHIST-LABEL: func.func @mlp(
// NOHIST-NOT:   histogram
// NOHIST-COUNT-4: myquant.stats %{{.*}} {max = array<f64: {{.*}}>, min = array<f64: {{.*}}>}

// A constant tensor (min = max) has valid statistics under every method:
// one bin holding all 40 values.
// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=zeros method=minmax" | FileCheck %s --check-prefix=ZERO
// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=zeros method=moving-average" | FileCheck %s --check-prefix=ZERO
// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=zeros method=percentile" | FileCheck %s --check-prefix=ZEROHIST
// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=zeros method=mse" | FileCheck %s --check-prefix=ZEROHIST
// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=zeros method=entropy" | FileCheck %s --check-prefix=ZEROHIST
// ZERO:     linalg.sub
// ZERO-NEXT: myquant.stats %{{.*}} {max = array<f64: 0.000000e+00>, min = array<f64: 0.000000e+00>}
// ZEROHIST:     linalg.sub
// ZEROHIST-NEXT: myquant.stats %{{.*}} {histogram = array<i64: 40>, max = array<f64: 0.000000e+00>, min = array<f64: 0.000000e+00>}

// Per value: `myquant.calibration_method` on an argument or an op.
// RUN: myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=override" | FileCheck %s --check-prefix=OVERRIDE
// OVERRIDE-LABEL: func.func @override(
// OVERRIDE:       myquant.stats %arg0 {histogram
// OVERRIDE:       linalg.matmul
// OVERRIDE-NEXT:  myquant.stats %{{.*}} {max
// OVERRIDE:       linalg.generic
// OVERRIDE:       myquant.stats %{{.*}} {histogram
