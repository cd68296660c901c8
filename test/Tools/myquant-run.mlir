// Inputs and expected results come from numpy and python/myquant/testing/reference.py.
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/npy_cases.py %myquant_src/python %t

// Float linalg on tensors; --output must hold exactly the numpy result.
// RUN: myquant-run %s --function=matmul_bias --input=%t/a.npy --input=%t/b.npy --input=%t/c.npy --output=%t/matmul_bias.npy --print | FileCheck %t/matmul_bias.check
// RUN: %python %S/Inputs/npy_cases.py --compare %t/matmul_bias.npy %t/matmul_bias.expected0.npy

// Integer types, a dynamic and a rank-0 shape, three results (printed by
// default when there is no --output).
// RUN: myquant-run %s --function=ints --input=%t/i8.npy --input=%t/i64.npy | FileCheck %t/ints.check
// RUN: myquant-run %s --function=ints --input=%t/i8.npy --input=%t/i64.npy --output=%t/ints0.npy --output=%t/ints1.npy --output=%t/ints2.npy
// RUN: %python %S/Inputs/npy_cases.py --compare %t/ints0.npy %t/ints.expected0.npy
// RUN: %python %S/Inputs/npy_cases.py --compare %t/ints1.npy %t/ints.expected1.npy
// RUN: %python %S/Inputs/npy_cases.py --compare %t/ints2.npy %t/ints.expected2.npy

// The myquant level, and the same module already lowered to LLVM.
// RUN: myquant-run %s --function=model --input=%t/x.npy --output=%t/model.npy --print | FileCheck %t/model.check
// RUN: %python %S/Inputs/npy_cases.py --compare %t/model.npy %t/model.expected0.npy
// RUN: myquant-opt %s --myquant-lower-to-llvm -o %t/lowered.mlir
// RUN: myquant-run %t/lowered.mlir --function=model --input=%t/x.npy | FileCheck %t/model.check

// Errors: a message naming the problem, exit code 1.
// RUN: not myquant-run %s --function=missing --input=%t/x.npy 2>&1 | FileCheck %s --check-prefix=ERR-FUNC
// ERR-FUNC: error: no function named @missing in the module (public functions: @matmul_bias, @ints, @model, @scalar)
// RUN: not myquant-run %s --function=helper 2>&1 | FileCheck %s --check-prefix=ERR-PRIVATE
// ERR-PRIVATE: error: @helper is private; only public functions get a C interface
// RUN: not myquant-run %s --function=model 2>&1 | FileCheck %s --check-prefix=ERR-COUNT0
// ERR-COUNT0: error: @model takes 1 argument but 0 --input files given
// RUN: not myquant-run %s --function=model --input=%t/x.npy --input=%t/x.npy 2>&1 | FileCheck %s --check-prefix=ERR-COUNT2
// ERR-COUNT2: error: @model takes 1 argument but 2 --input files given
// RUN: not myquant-run %s --function=model --input=%t/x.npy --output=%t/o1.npy --output=%t/o2.npy 2>&1 | FileCheck %s --check-prefix=ERR-OUTPUTS
// ERR-OUTPUTS: error: @model returns 1 result but 2 --output files given
// RUN: not myquant-run %s --function=model --input=%t/x_shape.npy 2>&1 | FileCheck %s --check-prefix=ERR-SHAPE
// ERR-SHAPE: error: argument #0 of @model expects tensor<1x2x4x4xf32> (dtype '<f4'), but {{.*}}x_shape.npy holds dtype '<f4', shape (1, 2, 4, 5): wrong shape
// RUN: not myquant-run %s --function=model --input=%t/a.npy 2>&1 | FileCheck %s --check-prefix=ERR-RANK
// ERR-RANK: error: argument #0 of @model expects tensor<1x2x4x4xf32> (dtype '<f4'), but {{.*}}a.npy holds dtype '<f4', shape (2, 3): wrong rank
// RUN: not myquant-run %s --function=model --input=%t/x_f64.npy 2>&1 | FileCheck %s --check-prefix=ERR-DTYPE
// ERR-DTYPE: error: argument #0 of @model expects tensor<1x2x4x4xf32> (dtype '<f4'), but {{.*}}x_f64.npy holds dtype '<f8', shape (1, 2, 4, 4): wrong dtype
// RUN: not myquant-run %s --function=model --input=%t/x_big_endian.npy 2>&1 | FileCheck %s --check-prefix=ERR-ENDIAN
// ERR-ENDIAN: error: argument #0 of @model {{.*}} holds dtype '>f4', shape (1, 2, 4, 4): wrong dtype
// RUN: not myquant-run %s --function=model --input=%t/x_fortran.npy 2>&1 | FileCheck %s --check-prefix=ERR-FORTRAN
// ERR-FORTRAN: error: argument #0 of @model {{.*}} holds dtype '<f4', shape (1, 2, 4, 4), Fortran order: Fortran order is not supported
// RUN: not myquant-run %s --function=model --input=%t/x_v3.npy 2>&1 | FileCheck %s --check-prefix=ERR-VERSION
// ERR-VERSION: error: {{.*}}x_v3.npy: unsupported .npy format version 3.0 (supported: 1.0, 2.0)
// RUN: not myquant-run %s --function=model --input=%t/x_truncated.npy 2>&1 | FileCheck %s --check-prefix=ERR-TRUNCATED
// ERR-TRUNCATED: error: {{.*}}x_truncated.npy: dtype '<f4', shape (1, 2, 4, 4) needs 128 bytes of data, but the file has 124
// RUN: not myquant-run %s --function=model --input=%s 2>&1 | FileCheck %s --check-prefix=ERR-MAGIC
// ERR-MAGIC: error: {{.*}}myquant-run.mlir: not a .npy file (bad magic)
// RUN: not myquant-run %s --function=model --input=%t/does-not-exist.npy 2>&1 | FileCheck %s --check-prefix=ERR-OPEN
// ERR-OPEN: error: cannot read {{.*}}does-not-exist.npy
// RUN: not myquant-run %s --function=scalar --input=%t/x.npy 2>&1 | FileCheck %s --check-prefix=ERR-SCALAR
// ERR-SCALAR: error: argument #0 of @scalar has type f32: only ranked tensors (or memrefs) are supported

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>
func.func @matmul_bias(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>,
                       %c: tensor<4xf64>) -> tensor<2x4xf32> {
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty() : tensor<2x4xf32>
  %fill = linalg.fill ins(%zero : f32) outs(%empty : tensor<2x4xf32>) -> tensor<2x4xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<2x3xf32>, tensor<3x4xf32>)
                      outs(%fill : tensor<2x4xf32>) -> tensor<2x4xf32>
  %r = linalg.generic {indexing_maps = [#id, #row, #id],
                       iterator_types = ["parallel", "parallel"]}
      ins(%mm, %c : tensor<2x4xf32>, tensor<4xf64>) outs(%empty : tensor<2x4xf32>) {
  ^bb0(%x: f32, %y: f64, %o: f32):
    %t = arith.truncf %y : f64 to f32
    %s = arith.addf %x, %t : f32
    linalg.yield %s : f32
  } -> tensor<2x4xf32>
  return %r : tensor<2x4xf32>
}

// Returns its squares, its rank-0 argument and its first argument.
func.func @ints(%a: tensor<?xi8>, %b: tensor<i64>)
    -> (tensor<?xi32>, tensor<i64>, tensor<?xi8>) {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %a, %c0 : tensor<?xi8>
  %empty = tensor.empty(%n) : tensor<?xi32>
  %sq = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>,
                                         affine_map<(d0) -> (d0)>],
                        iterator_types = ["parallel"]}
      ins(%a : tensor<?xi8>) outs(%empty : tensor<?xi32>) {
  ^bb0(%x: i8, %o: i32):
    %w = arith.extsi %x : i8 to i32
    %m = arith.muli %w, %w : i32
    linalg.yield %m : i32
  } -> tensor<?xi32>
  return %sq, %b, %a : tensor<?xi32>, tensor<i64>, tensor<?xi8>
}

!qx = !quant.uniform<i8:f32, 0.1:-4>
!qw = !quant.uniform<i8:f32:0, {0.01, 0.02}>
!qy = !quant.uniform<i8:f32, 0.05:3>
func.func @model(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %wi = arith.constant dense<[[[[1, -2, 3], [4, 5, -6], [7, 8, 9]], [[-1, 2, -3], [4, -5, 6], [-7, 8, -9]]], [[[10, 20, 30], [-40, 50, 60], [70, -80, 90]], [[1, 1, 1], [1, 1, 1], [1, 1, -127]]]]> : tensor<2x2x3x3xi8>
  %w = quant.scast %wi : tensor<2x2x3x3xi8> to tensor<2x2x3x3x!qw>
  %b = arith.constant dense<[100, -200]> : tensor<2xi32>
  %q = myquant.quantize %x : tensor<1x2x4x4xf32> -> tensor<1x2x4x4x!qx>
  %y = myquant.conv2d %q, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, layout = #myquant.layout<nchw>} : (tensor<1x2x4x4x!qx>, tensor<2x2x3x3x!qw>, tensor<2xi32>) -> tensor<1x2x4x4x!qy>
  %d = myquant.dequantize %y : tensor<1x2x4x4x!qy> -> tensor<1x2x4x4xf32>
  return %d : tensor<1x2x4x4xf32>
}

func.func @scalar(%a: f32) -> f32 {
  %r = call @helper(%a) : (f32) -> f32
  return %r : f32
}

func.func private @helper(%a: f32) -> f32 {
  return %a : f32
}
