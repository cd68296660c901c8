// Every bad input of myquant-calibrate is a located error and a failed pass.
// RUN: rm -rf %t && mkdir -p %t
// RUN: cp %S/Inputs/x.npy %t/not-a-zip.npz

// Options.
// RUN: not myquant-opt %S/Inputs/models.mlir --myquant-calibrate 2>&1 | FileCheck %s --check-prefix=NODATA
// NODATA: error: myquant-calibrate needs calibration data: set the 'data' option to a .npy or .npz file
// RUN: not myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy" 2>&1 | FileCheck %s --check-prefix=WHICH
// WHICH: error: the module has 5 public functions with a body (@mlp, @fixed, @pair, @zeros, @override); name one with the 'function' option
// RUN: not myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=nope" 2>&1 | FileCheck %s --check-prefix=NOPE
// NOPE: error: no function named @nope in the module (public functions: @mlp, @fixed, @pair, @zeros, @override)
// RUN: not myquant-opt %s --myquant-calibrate="data=%S/Inputs/x.npy function=decl" 2>&1 | FileCheck %s --check-prefix=DECL
// DECL: error: @decl is only declared, it has no body
// RUN: not myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=mlp method=kl" 2>&1 | FileCheck %s --check-prefix=METHOD
// METHOD: error: unknown calibration method 'kl' (expected minmax, moving-average, percentile, mse, entropy)
// RUN: not myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=mlp percentile=50" 2>&1 | FileCheck %s --check-prefix=PERCENTILE
// PERCENTILE: error: percentile must be in (50, 100], got 50
// RUN: not myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=mlp averaging-constant=0" 2>&1 | FileCheck %s --check-prefix=AVERAGE
// AVERAGE: error: averaging-constant must be in (0, 1], got 0
// RUN: not myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=mlp batch-size=0" 2>&1 | FileCheck %s --check-prefix=BATCH
// BATCH: error: batch-size must be positive, got 0
// RUN: not myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=mlp samples=-1" 2>&1 | FileCheck %s --check-prefix=SAMPLES
// SAMPLES: error: samples must be non-negative, got -1
// RUN: not myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=mlp threads=0" 2>&1 | FileCheck %s --check-prefix=THREADS
// THREADS: error: threads must be positive, got 0

// Data files, reported at the function.
// RUN: not myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%t/missing.npy function=mlp" 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: models.mlir:6:1: error: calibration data: cannot read {{.*}}missing.npy: No such file or directory
// RUN: not myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%s function=mlp" 2>&1 | FileCheck %s --check-prefix=MAGIC
// MAGIC: error: calibration data: {{.*}}calibrate-errors.mlir: not a .npy file (bad magic)
// A .npy file is read a batch at a time; its header and size are checked
// when it is opened.
// RUN: head -c -4 %S/Inputs/x.npy > %t/x_truncated.npy
// RUN: not myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%t/x_truncated.npy function=mlp" 2>&1 | FileCheck %s --check-prefix=TRUNCATED
// TRUNCATED: error: calibration data: {{.*}}x_truncated.npy: dtype '<f4', shape (10, 4) needs 160 bytes of data, but the file has 156
// RUN: head -c 20 %S/Inputs/x.npy > %t/x_header.npy
// RUN: not myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%t/x_header.npy function=mlp" 2>&1 | FileCheck %s --check-prefix=HEADER
// HEADER: error: calibration data: {{.*}}x_header.npy: truncated .npy header
// RUN: not myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%t/not-a-zip.npz function=mlp" 2>&1 | FileCheck %s --check-prefix=ZIP
// ZIP: error: calibration data: {{.*}}not-a-zip.npz: malformed .npz (zip) file: no end of central directory record
// RUN: not myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/pair_compressed.npz function=pair" 2>&1 | FileCheck %s --check-prefix=COMPRESSED
// COMPRESSED: error: calibration data: {{.*}}pair_compressed.npz: member 'a.npy' is compressed (numpy.savez_compressed); save the arrays with numpy.savez
// RUN: not myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x_empty.npy function=mlp" 2>&1 | FileCheck %s --check-prefix=EMPTY
// EMPTY: error: calibration data '{{.*}}x_empty.npy' holds no samples

// Wrong dtype or shape: the argument and both types or shapes.
// RUN: not myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x_f64.npy function=mlp" 2>&1 | FileCheck %s --check-prefix=DTYPE
// DTYPE: error: calibration data for argument #0 ('input') of @mlp: expected dtype '<f4' (the argument is 'tensor<?x4xf32>'), but {{.*}}x_f64.npy holds dtype '<f8'
// RUN: not myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x_shape.npy function=mlp" 2>&1 | FileCheck %s --check-prefix=SHAPE
// SHAPE: error: calibration data for argument #0 ('input') of @mlp: expected samples of shape (4,) (the argument is 'tensor<?x4xf32>', whose first dimension is the batch), but {{.*}}x_shape.npy holds shape (10, 5)
// RUN: not myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x_shape.npy function=fixed" 2>&1 | FileCheck %s --check-prefix=SHAPE-FIXED
// SHAPE-FIXED: error: calibration data for argument #0 ('arg0') of @fixed: expected samples of shape (4,) (the argument is 'tensor<4x4xf32>', whose first dimension is the batch), but {{.*}}x_shape.npy holds shape (10, 5)

// Arguments and arrays that do not pair up.
// RUN: not myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/x.npy function=pair" 2>&1 | FileCheck %s --check-prefix=NPY2
// NPY2: error: calibration data '{{.*}}x.npy' is a .npy file, which holds one array, but @pair takes 2 arguments; use a .npz file with one array per argument
// RUN: not myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/pair_missing.npz function=pair" 2>&1 | FileCheck %s --check-prefix=MEMBER
// MEMBER: error: calibration data '{{.*}}pair_missing.npz' has no array for argument #1 ('arg1') of @pair (it holds: a, other)
// RUN: not myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/pair.npz function=mlp" 2>&1 | FileCheck %s --check-prefix=MEMBER1
// MEMBER1: error: calibration data '{{.*}}pair.npz' has no array for argument #0 ('input') of @mlp (it holds: a, arg1)
// RUN: not myquant-opt %S/Inputs/models.mlir --myquant-calibrate="data=%S/Inputs/pair_mismatch.npz function=pair" 2>&1 | FileCheck %s --check-prefix=COUNT
// COUNT: error: calibration data: {{.*}}pair_mismatch.npz:a has 6 samples but {{.*}}pair_mismatch.npz:arg1 has 5

// Functions calibration cannot run.
// RUN: not myquant-opt %s --myquant-calibrate="data=%S/Inputs/x.npy function=scalar" 2>&1 | FileCheck %s --check-prefix=SCALAR
// SCALAR: calibrate-errors.mlir:[[# @LINE + 1]]:1: error: argument #0 ('arg0') of @scalar has type 'f32'; calibration feeds ranked tensors of f32, f64, i8, i32 or i64 whose first dimension is the batch
func.func @scalar(%x: f32) -> f32 {
  return %x : f32
}

// RUN: not myquant-opt %s --myquant-calibrate="data=%S/Inputs/pair.npz function=batches" 2>&1 | FileCheck %s --check-prefix=BATCHES
// BATCHES: calibrate-errors.mlir:[[# @LINE + 1]]:1: error: the arguments of @batches disagree on the batch size (their first dimension): 'tensor<2x4xf32>' and 'tensor<3x4xf32>'
func.func @batches(%a: tensor<2x4xf32> loc("a"), %b: tensor<3x4xf32>) -> tensor<2x4xf32> {
  return %a : tensor<2x4xf32>
}

// RUN: not myquant-opt %s --myquant-calibrate="data=%S/Inputs/x.npy function=noargs" 2>&1 | FileCheck %s --check-prefix=NOARGS
// NOARGS: calibrate-errors.mlir:[[# @LINE + 1]]:1: error: @noargs takes no arguments: there is nothing to feed the calibration data to
func.func @noargs() -> tensor<2xf32> {
  %c = arith.constant dense<1.0> : tensor<2xf32>
  return %c : tensor<2xf32>
}

// RUN: not myquant-opt %s --myquant-calibrate="data=%S/Inputs/x.npy function=blocks" 2>&1 | FileCheck %s --check-prefix=BLOCKS
// BLOCKS: calibrate-errors.mlir:[[# @LINE + 1]]:1: error: calibration needs a function with a single block
func.func @blocks(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  cf.br ^bb1
^bb1:
  return %x : tensor<?x4xf32>
}

// RUN: not myquant-opt %s --myquant-calibrate="data=%S/Inputs/x.npy function=badattr" 2>&1 | FileCheck %s --check-prefix=BADATTR
// BADATTR: calibrate-errors.mlir:[[# @LINE + 5]]:8: error: 'myquant.calibration_method' must be one of minmax, moving-average, percentile, mse, entropy, got "kl"
func.func @badattr(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?x4xf32>
  %e = tensor.empty(%n) : tensor<?x4xf32>
  %y = linalg.add {myquant.calibration_method = "kl"} ins(%x, %x : tensor<?x4xf32>, tensor<?x4xf32>) outs(%e : tensor<?x4xf32>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

func.func private @decl(%x: tensor<?x4xf32>) -> tensor<?x4xf32>
