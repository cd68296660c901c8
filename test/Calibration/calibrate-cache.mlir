// The compiled instrumented copy kept in `cache-dir`: a second calibration
// of the same model loads it (no lowering, no compile) and finds the same
// statistics; a model whose weights changed, even in one element of a
// constant too large to be printed in the key, compiles its own; a damaged
// entry is compiled again and replaced; a cache that cannot be written
// costs a warning, not the calibration.
// RUN: rm -rf %t && mkdir -p %t
// RUN: myquant-opt %s --myquant-calibrate="data=%S/Inputs/x.npy cache-dir=%t/cache timing" -o %t/first.mlir 2>&1 | FileCheck %s --check-prefix=MISS
// RUN: myquant-opt %s --myquant-calibrate="data=%S/Inputs/x.npy cache-dir=%t/cache timing" -o %t/second.mlir 2>&1 | FileCheck %s --check-prefix=HIT
// RUN: diff %t/first.mlir %t/second.mlir
// RUN: ls %t/cache | wc -l | FileCheck %s --check-prefix=ONE
// The batch size does not change the compiled copy.
// RUN: myquant-opt %s --myquant-calibrate="data=%S/Inputs/x.npy cache-dir=%t/cache timing batch-size=3" -o %t/batch3.mlir 2>&1 | FileCheck %s --check-prefix=HIT
// RUN: diff %t/first.mlir %t/batch3.mlir

// RUN: sed 's/0.0625]]/8.0625]]/' %s > %t/changed.mlir
// RUN: myquant-opt %t/changed.mlir --myquant-calibrate="data=%S/Inputs/x.npy cache-dir=%t/cache timing" -o %t/changed-out.mlir 2>&1 | FileCheck %s --check-prefix=MISS
// RUN: ls %t/cache | wc -l | FileCheck %s --check-prefix=TWO
// RUN: FileCheck %s --input-file=%t/changed-out.mlir --check-prefix=CHANGED
// RUN: FileCheck %s --input-file=%t/first.mlir --check-prefix=CHECK

// RUN: for f in %t/cache/*.o; do echo damaged > $f; done
// RUN: myquant-opt %s --myquant-calibrate="data=%S/Inputs/x.npy cache-dir=%t/cache timing" -o %t/third.mlir 2>&1 | FileCheck %s --check-prefix=DAMAGED
// RUN: diff %t/first.mlir %t/third.mlir
// RUN: myquant-opt %s --myquant-calibrate="data=%S/Inputs/x.npy cache-dir=%t/cache timing" -o /dev/null 2>&1 | FileCheck %s --check-prefix=HIT

// RUN: myquant-opt %s --myquant-calibrate="data=%S/Inputs/x.npy cache-dir=%t/first.mlir timing" -o %t/unwritable.mlir 2>&1 | FileCheck %s --check-prefix=UNWRITABLE
// RUN: diff %t/first.mlir %t/unwritable.mlir

// MISS-NOT: warning
// MISS: myquant-calibrate timing: {{.*}} (copy compiled and cached)
// HIT-NOT: warning
// HIT: myquant-calibrate timing: lowering 0.00 s, {{.*}} (copy from the cache)
// ONE: {{^ *1$}}
// TWO: {{^ *2$}}
// DAMAGED: warning: calibration cannot load the cached copy '{{.*}}.o' ({{.+}}); compiling it again
// DAMAGED: (copy compiled and cached)
// UNWRITABLE: warning: calibration cannot keep the compiled copy: cannot write to '{{.*}}first.mlir/{{[0-9a-f]+}}.o': {{.+}}
// UNWRITABLE: (copy compiled)

// The matmul's range changes with the last element of its weight.
// CHECK-LABEL: func.func @wide
// CHECK: linalg.matmul
// CHECK-NEXT: myquant.stats %{{.*}} {max = array<f64: 6.687500e+00>, min = array<f64: -6.968750e+00>}
// CHANGED-LABEL: func.func @wide
// CHANGED: linalg.matmul
// CHANGED-NEXT: myquant.stats %{{.*}} {max = array<f64: 17.609375>, min = array<f64: -30.96875>}

func.func @wide(%x: tensor<?x4xf32>) -> tensor<?x20xf32> {
  %w = arith.constant dense<[[-1.0, -0.125, 0.75, -0.5, 0.375, -0.875, 0.0, 0.875, -0.375, 0.5, -0.75, 0.125, 1.0, -0.25, 0.625, -0.625, 0.25, -1.0, -0.125, 0.75], [-0.5, 0.375, -0.875, 0.0, 0.875, -0.375, 0.5, -0.75, 0.125, 1.0, -0.25, 0.625, -0.625, 0.25, -1.0, -0.125, 0.75, -0.5, 0.375, -0.875], [0.0, 0.875, -0.375, 0.5, -0.75, 0.125, 1.0, -0.25, 0.625, -0.625, 0.25, -1.0, -0.125, 0.75, -0.5, 0.375, -0.875, 0.0, 0.875, -0.375], [0.5, -0.75, 0.125, 1.0, -0.25, 0.625, -0.625, 0.25, -1.0, -0.125, 0.75, -0.5, 0.375, -0.875, 0.0, 0.875, -0.375, 0.5, -0.75, 0.0625]]> : tensor<4x20xf32>
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?x4xf32>
  %e = tensor.empty(%n) : tensor<?x20xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<?x20xf32>) -> tensor<?x20xf32>
  %mm = linalg.matmul ins(%x, %w : tensor<?x4xf32>, tensor<4x20xf32>) outs(%f : tensor<?x20xf32>) -> tensor<?x20xf32>
  return %mm : tensor<?x20xf32>
}
