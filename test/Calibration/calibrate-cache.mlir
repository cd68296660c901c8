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

// cache-max-mb bounds the entries: after writing one, the least recently
// used others go until the rest fit (a hit renews an entry's time; files
// that are not entries stay). Two old entries of 600 KiB and this model's
// (a few KiB) under 1 MiB: the older goes.
// RUN: rm -rf %t/bound && mkdir -p %t/bound
// RUN: truncate -s 600K %t/bound/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.o %t/bound/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.o %t/bound/notes.o
// RUN: touch -d '2 days ago' %t/bound/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.o %t/bound/notes.o
// RUN: touch -d '1 day ago' %t/bound/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.o
// RUN: myquant-opt %s --myquant-calibrate="data=%S/Inputs/x.npy cache-dir=%t/bound cache-max-mb=1 timing" -o %t/bound.mlir 2>&1 | FileCheck %s --check-prefix=EVICT
// RUN: diff %t/first.mlir %t/bound.mlir
// RUN: ls %t/bound | FileCheck %s --check-prefix=KEPT
// A hit renews its entry: with every entry made older than a 1040 KiB one,
// the hit's entry is no longer the oldest, and writing the next evicts the
// large one alone (without the renewal, both would go).
// RUN: touch -d '3 days ago' %t/bound/*.o
// RUN: truncate -s 1040K %t/bound/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.o
// RUN: touch -d '2 days ago' %t/bound/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.o
// RUN: myquant-opt %s --myquant-calibrate="data=%S/Inputs/x.npy cache-dir=%t/bound cache-max-mb=1 timing" -o /dev/null 2>&1 | FileCheck %s --check-prefix=HIT
// RUN: myquant-opt %t/changed.mlir --myquant-calibrate="data=%S/Inputs/x.npy cache-dir=%t/bound cache-max-mb=1 timing" -o /dev/null 2>&1 | FileCheck %s --check-prefix=EVICT
// RUN: ls %t/bound | FileCheck %s --check-prefix=RENEWED
// RUN: ls %t/bound | wc -l | FileCheck %s --check-prefix=THREE
// RUN: not myquant-opt %s --myquant-calibrate="data=%S/Inputs/x.npy cache-dir=%t/bound cache-max-mb=-1" -o /dev/null 2>&1 | FileCheck %s --check-prefix=NEGATIVE

// EVICT: (copy compiled and cached; 1 older cache entries removed)
// KEPT-NOT: bbbbbbbb
// KEPT: aaaaaaaa{{.*}}.o
// KEPT-NOT: bbbbbbbb
// KEPT: notes.o
// RENEWED-NOT: aaaaaaaa
// RENEWED: notes.o
// THREE: {{^ *3$}}
// NEGATIVE: error: cache-max-mb must be non-negative, got -1

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
