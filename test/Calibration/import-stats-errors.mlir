// Bad or stale stats files: errors naming the file and the entry; the IR is
// not changed.
// RUN: rm -rf %t && split-file %s %t
// RUN: not myquant-opt %t/model.mlir --myquant-import-stats 2>&1 | FileCheck %s --check-prefix=NOFILE
// NOFILE: error: myquant-import-stats needs the 'file' option
// RUN: not myquant-opt %t/model.mlir --myquant-import-stats=file=%t/missing.json 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: error: cannot read stats file '{{.*}}missing.json': No such file or directory
// RUN: not myquant-opt %t/model.mlir --myquant-import-stats=file=%t/malformed.json 2>&1 | FileCheck %s --check-prefix=MALFORMED
// MALFORMED: error: stats file '{{.*}}malformed.json' is not valid JSON: [2:1, byte=15]: Expected , or } after object property
// RUN: not myquant-opt %t/model.mlir --myquant-import-stats=file=%t/array.json 2>&1 | FileCheck %s --check-prefix=ARRAY
// ARRAY: error: stats file '{{.*}}array.json': expected a JSON object at the top level
// RUN: not myquant-opt %t/model.mlir --myquant-import-stats=file=%t/novalues.json 2>&1 | FileCheck %s --check-prefix=NOVALUES
// NOVALUES: error: stats file '{{.*}}novalues.json': expected an object 'values' mapping value names to statistics
// RUN: not myquant-opt %t/model.mlir --myquant-import-stats=file=%t/version.json 2>&1 | FileCheck %s --check-prefix=VERSION
// VERSION: error: stats file '{{.*}}version.json': unsupported version (expected 1)
// RUN: not myquant-opt %t/model.mlir --myquant-import-stats=file=%t/function.json 2>&1 | FileCheck %s --check-prefix=FUNCTION
// FUNCTION: error: no function named @gone in the module (public functions: @net)

// Entries that cannot be read.
// RUN: not myquant-opt %t/model.mlir --myquant-import-stats=file=%t/both.json 2>&1 | FileCheck %s --check-prefix=BOTH
// BOTH: error: stats file '{{.*}}both.json': entry 'relu': needs either 'min' and 'max' or 'scale' and 'zero_point'
// RUN: not myquant-opt %t/model.mlir --myquant-import-stats=file=%t/nomax.json 2>&1 | FileCheck %s --check-prefix=NOMAX
// NOMAX: error: stats file '{{.*}}nomax.json': entry 'relu': 'max' is missing
// RUN: not myquant-opt %t/model.mlir --myquant-import-stats=file=%t/string.json 2>&1 | FileCheck %s --check-prefix=STRING
// STRING: error: stats file '{{.*}}string.json': entry 'relu': 'min' must be a number or a non-empty array of numbers
// RUN: not myquant-opt %t/model.mlir --myquant-import-stats=file=%t/zp.json 2>&1 | FileCheck %s --check-prefix=ZP
// ZP: error: stats file '{{.*}}zp.json': entry 'input': scale 0.1 and zero point 300 do not come from any range over [-128, 127] (the scale must be positive and the zero point within the storage range)
// RUN: not myquant-opt %t/model.mlir --myquant-import-stats=file=%t/zp_huge.json 2>&1 | FileCheck %s --check-prefix=ZPHUGE
// ZPHUGE: error: stats file '{{.*}}zp_huge.json': entry 'input': scale 0.1 and zero point 1e+30 do not come from any range over [-128, 127]
// RUN: not myquant-opt %t/model.mlir --myquant-import-stats=file=%t/zp_inf.json 2>&1 | FileCheck %s --check-prefix=ZPINF
// ZPINF: error: stats file '{{.*}}zp_inf.json': entry 'input': zero point -inf is not an integer
// RUN: not myquant-opt %t/model.mlir --myquant-import-stats=file=%t/wide.json 2>&1 | FileCheck %s --check-prefix=WIDE
// WIDE: error: stats file '{{.*}}wide.json': entry 'input': storage range [qmin, qmax] = [-100000, 100000] is not 8-bit (expected [-128, 127] for int8 or [0, 255] for uint8); scale 0.1 would become an 8-bit scale of 78.4314; give parameters chosen for 8 bits, or 'min' and 'max'
// RUN: not myquant-opt %t/model.mlir --myquant-import-stats=file=%t/int64.json 2>&1 | FileCheck %s --check-prefix=INT64
// INT64: error: stats file '{{.*}}int64.json': entry 'input': storage range [qmin, qmax] = [-9223372036854775808, 9223372036854775807] is not 8-bit
// RUN: not myquant-opt %t/model.mlir --myquant-import-stats=file=%t/qmax_float.json 2>&1 | FileCheck %s --check-prefix=QMAXFLOAT
// QMAXFLOAT: error: stats file '{{.*}}qmax_float.json': entry 'input': 'qmax' must be an integer
// RUN: not myquant-opt %t/model.mlir --myquant-import-stats=file=%t/dtype.json 2>&1 | FileCheck %s --check-prefix=DTYPE
// DTYPE: error: stats file '{{.*}}dtype.json': entry 'input': unknown dtype 'int4' (expected int8, uint8, qint8 or quint8)
// RUN: not myquant-opt %t/model.mlir --myquant-import-stats=file=%t/channels_noaxis.json 2>&1 | FileCheck %s --check-prefix=CHNOAXIS
// CHNOAXIS: error: stats file '{{.*}}channels_noaxis.json': entry 'relu': 'channels' needs 'axis', a non-negative integer
// RUN: not myquant-opt %t/model.mlir --myquant-import-stats=file=%t/channels_alone.json 2>&1 | FileCheck %s --check-prefix=CHALONE
// CHALONE: error: stats file '{{.*}}channels_alone.json': entry 'relu': 'channels' needs the per-tensor 'min' and 'max' (or 'scale' and 'zero_point') too
// RUN: not myquant-opt %t/model.mlir --myquant-import-stats=file=%t/channels_nomax.json 2>&1 | FileCheck %s --check-prefix=CHNOMAX
// CHNOMAX: error: stats file '{{.*}}channels_nomax.json': entry 'relu': 'max' is missing

// Stale files: names and shapes that no longer match, reported together.
// RUN: not myquant-opt %t/model.mlir --myquant-import-stats=file=%t/stale.json 2>&1 | FileCheck %s --check-prefix=STALE
// STALE-DAG: model.mlir:1:1: error: stats file '{{.*}}stale.json': entry 'conv9' names no value of @net (stale stats file?)
// STALE-DAG: error: loc("input"): stats file '{{.*}}stale.json': entry 'input' has shape [2, 5] but the value is 'tensor<2x4xf32>' (stale stats file?)
// STALE-DAG: model.mlir:2:{{.*}}: error: stats file '{{.*}}stale.json': entry 'v0' names a value of type 'index'; statistics belong to float tensors (stale stats file?)

// A range the annotation rejects: the verifier's message, then the entry.
// RUN: not myquant-opt %t/model.mlir --myquant-import-stats=file=%t/inverted.json 2>&1 | FileCheck %s --check-prefix=INVERTED
// INVERTED: error: loc("relu"): 'myquant.stats' op range 0 is inverted: min 3.000000e+00 > max 1.000000e+00
// INVERTED: note: loc("relu"): from entry 'relu' of stats file '{{.*}}inverted.json'
// Per-channel ranges of another length than the axis.
// RUN: not myquant-opt %t/model.mlir --myquant-import-stats=file=%t/channels_size.json 2>&1 | FileCheck %s --check-prefix=CHSIZE
// CHSIZE: error: loc("relu"): 'myquant.stats' op has 3 ranges but axis 1 has size 4
// CHSIZE: note: loc("relu"): from entry 'relu' of stats file '{{.*}}channels_size.json'

//--- model.mlir
func.func @net(%x: tensor<2x4xf32> loc("input")) -> tensor<2x4xf32> {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x4xf32>
  %relu = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<2x4xf32>) outs(%e : tensor<2x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<2x4xf32> loc("relu")
  return %relu : tensor<2x4xf32>
}

//--- malformed.json
{"values": {}
"x": 1}

//--- array.json
[1, 2]

//--- novalues.json
{"version": 1}

//--- version.json
{"version": 2, "values": {}}

//--- function.json
{"function": "gone", "values": {}}

//--- both.json
{"values": {"relu": {"min": 0, "max": 1, "scale": 0.1, "zero_point": 0}}}

//--- nomax.json
{"values": {"relu": {"min": 0}}}

//--- string.json
{"values": {"relu": {"min": "zero", "max": 1}}}

//--- zp.json
{"values": {"input": {"scale": 0.1, "zero_point": 300}}}

//--- zp_huge.json
{"values": {"input": {"scale": 0.1, "zero_point": 1e30}}}

//--- zp_inf.json
{"values": {"input": {"scale": 0.1, "zero_point": -1e400}}}

//--- wide.json
{"values": {"input": {"scale": 0.1, "zero_point": 0, "qmin": -100000, "qmax": 100000}}}

//--- int64.json
{"values": {"input": {"scale": 0.1, "zero_point": 0, "qmin": -9223372036854775808, "qmax": 9223372036854775807}}}

//--- qmax_float.json
{"values": {"input": {"scale": 0.1, "zero_point": 0, "qmax": 127.5}}}

//--- dtype.json
{"values": {"input": {"scale": 0.1, "zero_point": 0, "dtype": "int4"}}}

//--- stale.json
{"values": {"conv9": {"min": 0, "max": 1},
            "input": {"shape": [2, 5], "min": 0, "max": 1},
            "v0": {"min": 0, "max": 1}}}

//--- inverted.json
{"values": {"relu": {"min": 3, "max": 1}}}

//--- channels_noaxis.json
{"values": {"relu": {"min": 0, "max": 1, "channels": {"min": [0, 0, 0, 0], "max": [1, 1, 1, 1]}}}}

//--- channels_alone.json
{"values": {"relu": {"weight": {"scale": 0.1}, "channels": {"axis": 1, "min": [0, 0, 0, 0], "max": [1, 1, 1, 1]}}}}

//--- channels_nomax.json
{"values": {"relu": {"min": 0, "max": 1, "channels": {"axis": 1, "min": [0, 0, 0, 0]}}}}

//--- channels_size.json
{"values": {"relu": {"min": 0, "max": 1, "channels": {"axis": 1, "min": [0, 0, 0], "max": [1, 1, 1]}}}}
