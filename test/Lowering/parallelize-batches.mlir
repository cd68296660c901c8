// RUN: myquant-opt %s --split-input-file --myquant-parallelize-batches | FileCheck %s
// RUN: myquant-opt %s --split-input-file "--myquant-lower-to-llvm=threads=2" | FileCheck %s --check-prefix=OMP

// A kernel's batch loop (its iterations write disjoint slices) becomes
// scf.parallel; other loops stay sequential. With threads = 2 the
// pipeline runs it as an OpenMP work-sharing loop on two threads.
// CHECK-LABEL: func.func @kernel(
// CHECK:         scf.parallel (%[[N:.*]]) = (%c0) to (%c4) step (%c1) {
// CHECK:           scf.for %{{.*}} = %c0 to %c8 step %c1 {
// CHECK:             memref.store %{{.*}}, %{{.*}}[%[[N]], %{{.*}}] : memref<4x8xi8>
// CHECK-NOT:     myquant.parallel_batch
// OMP-LABEL: llvm.func @kernel(
// OMP:         %[[TWO:.*]] = llvm.mlir.constant(2 : i32) : i32
// OMP:         omp.parallel num_threads(%[[TWO]] : i32) {
// OMP:           omp.wsloop nowait {
// OMP:             omp.loop_nest
func.func @kernel(%out: memref<4x8xi8>, %v: i8) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  scf.for %n = %c0 to %c4 step %c1 {
    scf.for %x = %c0 to %c8 step %c1 {
      memref.store %v, %out[%n, %x] : memref<4x8xi8>
    }
  } {myquant.parallel_batch}
  return
}

// -----

// Unmarked loops and loops that carry values stay as they are.
// CHECK-LABEL: func.func @sequential(
// CHECK-NOT:     scf.parallel
// CHECK:         scf.for
// CHECK:         scf.for {{.*}} iter_args
// OMP-LABEL: llvm.func @sequential(
// OMP-NOT:     omp.parallel
func.func @sequential(%out: memref<4xi8>, %v: i8) -> i8 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  scf.for %n = %c0 to %c4 step %c1 {
    memref.store %v, %out[%n] : memref<4xi8>
  }
  %r = scf.for %n = %c0 to %c4 step %c1 iter_args(%a = %v) -> i8 {
    %b = arith.addi %a, %v : i8
    scf.yield %b : i8
  } {myquant.parallel_batch}
  return %r : i8
}

// -----

// A marked loop inside the iterations of another, directly or in a
// function called there (the kernels in myquant-split-batch's loop over
// images), stays sequential: each thread runs it for its own iteration.
// The call keeps the canonicalizer from inlining the OpenMP body's alloca
// scope; myquant-inline-alloca-scopes does.
// CHECK-LABEL: func.func private @image_kernel(
// CHECK-NOT:     scf.parallel
// CHECK:         scf.for {{.*}} {
// CHECK:         } {myquant.parallel_batch}
// CHECK-LABEL: func.func @images(
// CHECK:         scf.parallel (%[[N:.*]]) = (%c0) to (%c4) step (%c1) {
// CHECK:           func.call @image_kernel(%{{.*}}, %{{.*}}) : (memref<4x8xi8>, index) -> ()
// CHECK:           scf.for {{.*}} {
// CHECK:           } {myquant.parallel_batch}
// CHECK-NOT:     scf.parallel
// OMP-LABEL: llvm.func internal @image_kernel(
// OMP-NOT:     omp.parallel
// OMP:         llvm.return
// OMP-LABEL: llvm.func @images(
// OMP:           omp.parallel
// OMP-NOT:       llvm.intr.stacksave
// OMP:             llvm.call @image_kernel(
// OMP-NOT:       omp.parallel
// OMP:           llvm.return
func.func private @image_kernel(%out: memref<4x8xi8>, %n: index) attributes {llvm.linkage = #llvm.linkage<internal>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %v = arith.constant 1 : i8
  scf.for %x = %c0 to %c8 step %c1 {
    memref.store %v, %out[%n, %x] : memref<4x8xi8>
  } {myquant.parallel_batch}
  return
}
func.func @images(%out: memref<4x8xi8>, %v: i8) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  scf.for %n = %c0 to %c4 step %c1 {
    func.call @image_kernel(%out, %n) : (memref<4x8xi8>, index) -> ()
    scf.for %x = %c0 to %c8 step %c1 {
      memref.store %v, %out[%n, %x] : memref<4x8xi8>
    } {myquant.parallel_batch}
  } {myquant.parallel_batch}
  return
}
