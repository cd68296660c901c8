// per-channel-norm-inputs: the inputs of the two layer normalizations of
// the ViT block of Inputs/norm-input-block.mlir (pos = x + constant, ln1,
// fc, res = fc + pos, ln2) get a second myquant.stats with the min/max of
// each channel of the last dimension, which the dry run's
// norm-input-scales=per-channel reads. Channel 3 of the data is 20 times
// wider than the others.
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python -c "import numpy as np; r = np.random.default_rng(0); x = r.uniform(-1, 1, (6, 3, 4)).astype(np.float32); x[:, :, 3] *= 20; np.save('%t/x.npy', x)"
// RUN: myquant-opt %S/Inputs/norm-input-block.mlir --myquant-calibrate="data=%t/x.npy per-channel-norm-inputs=true stats-out=%t/cal.json" -o %t/cal.mlir
// RUN: FileCheck %s --input-file=%t/cal.mlir
// RUN: FileCheck %s --check-prefix=JSON --input-file=%t/cal.json
// RUN: myquant-opt %S/Inputs/norm-input-block.mlir --myquant-import-stats=file=%t/cal.json -o %t/imported.mlir
// RUN: diff %t/cal.mlir %t/imported.mlir
// RUN: myquant-opt %t/cal.mlir --myquant-export-stats=file=%t/exported.json -o /dev/null
// RUN: FileCheck %s --check-prefix=EXPORT --input-file=%t/exported.json
// RUN: myquant-opt %S/Inputs/norm-input-block.mlir --myquant-calibrate="data=%t/x.npy" | FileCheck %s --check-prefix=OFF
// RUN: myquant-opt %t/cal.mlir "--myquant-ptq=norm-input-scales=per-channel allow-float=false" 2>&1 | FileCheck %s --check-prefix=PTQ

// The per-channel numbers are numpy's min/max of x + constant over the
// samples and the rows, per channel (float32).
// CHECK-LABEL: func.func @forward
// CHECK:       %[[POS:.+]] = myquant.stats %{{.+}} {max = array<f64: 19.283412933349609>, min = array<f64: -19.870458602905273>} : tensor<1x3x4xf32>
// CHECK-NEXT:  myquant.stats %[[POS]] {axis = 2 : i64, max = array<f64: 0.77480852603912353, 1.0055111646652222, 1.3144198656082153, 19.283412933349609>, min = array<f64: -1.293360710144043, -1.4190094470977783, -0.85568481683731079, -19.870458602905273>}
// CHECK:       %[[RES:.+]] = myquant.stats %{{.+}} {max = array<f64: 17.376937866210938>, min = array<f64: -17.658761978149414>} : tensor<1x3x4xf32>
// CHECK-NEXT:  myquant.stats %[[RES]] {axis = 2 : i64, max = array<f64: {{[^>]*}}, 17.376937866210938>, min = array<f64: {{[^>]*}}, -17.658761978149414>}
// CHECK-NOT:   axis

// stats-out: the per-channel statistics are the entry's `channels`, next
// to its per-tensor range; importing the file gives the calibrated IR
// back (the diff above).
// JSON:      "pos": {
// JSON-NEXT:   "shape": [1,3,4],
// JSON-NEXT:   "min": -19.870458602905273,
// JSON-NEXT:   "max": 19.283412933349609,
// JSON-NEXT:   "method": "minmax",
// JSON-NEXT:   "channels": {
// JSON-NEXT:     "axis": 2,
// JSON-NEXT:     "min": [-1.293360710144043,-1.4190094470977783,-0.85568481683731079,-19.870458602905273],
// JSON-NEXT:     "max": [0.77480852603912354,1.0055111646652222,1.3144198656082153,19.283412933349609]
// JSON-NEXT:   }
// JSON-NEXT: },
// JSON:      "res": {
// JSON:        "channels": {
// JSON-NEXT:     "axis": 2,
// JSON-NEXT:     "min": [{{[^]]*}},-17.658761978149414],
// JSON-NEXT:     "max": [{{[^]]*}},17.376937866210938]
// JSON-NOT:  "channels"

// myquant-export-stats writes the chain of two annotations as one entry
// (cal.mlir has no location names: the values are v<N>).
// EXPORT:      "v2": {
// EXPORT-NEXT:   "shape": [1,3,4],
// EXPORT-NEXT:   "min": -19.870458602905273,
// EXPORT-NEXT:   "max": 19.283412933349609,
// EXPORT-NEXT:   "channels": {
// EXPORT-NEXT:     "axis": 2,
// EXPORT-NEXT:     "min": [-1.293360710144043,
// EXPORT:        "channels": {
// EXPORT-NOT:    "channels"

// Without the option, per-tensor statistics only.
// OFF-LABEL: func.func @forward
// OFF-NOT:   axis

// The dry run takes them: both layer normalizations read per-channel
// inputs, without a remark.
// PTQ-NOT:   remark
// PTQ-LABEL: func.func @forward
// PTQ:       myquant.layer_norm %{{.+}} {{{.*}}input_shifts = array<i64: {{.*}}} : tensor<1x3x4x!quant.uniform<i8:f32:2,
// PTQ:       myquant.layer_norm %{{.+}} {{{.*}}input_shifts = array<i64: {{.*}}} : tensor<1x3x4x!quant.uniform<i8:f32:2,
