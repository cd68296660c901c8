// RUN: myquant-opt %s --split-input-file --myquant-openmp-loops-nowait | FileCheck %s

// A work-sharing loop that ends its parallel region skips its own barrier:
// the region's join waits for every thread.
// CHECK-LABEL: func.func @last_in_region(
// CHECK:         omp.parallel {
// CHECK-NEXT:      omp.wsloop nowait {
// CHECK:           omp.terminator
func.func @last_in_region(%out: memref<4xi8>, %v: i8) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  omp.parallel {
    omp.wsloop {
      omp.loop_nest (%i) : index = (%c0) to (%c4) step (%c1) {
        memref.store %v, %out[%i] : memref<4xi8>
        omp.yield
      }
    }
    omp.terminator
  }
  return
}

// -----

// Ops after the loop in the region may read what the other threads wrote:
// the loop keeps its barrier, and so does the one outside any region.
// CHECK-LABEL: func.func @followed(
// CHECK:         omp.parallel {
// CHECK-NEXT:      omp.wsloop {
// CHECK:           memref.load
// CHECK:           omp.terminator
// CHECK-NOT:     nowait
func.func @followed(%out: memref<4xi8>, %v: i8, %c: memref<i8>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  omp.parallel {
    omp.wsloop {
      omp.loop_nest (%i) : index = (%c0) to (%c4) step (%c1) {
        memref.store %v, %out[%i] : memref<4xi8>
        omp.yield
      }
    }
    %l = memref.load %out[%c0] : memref<4xi8>
    memref.store %l, %c[] : memref<i8>
    omp.terminator
  }
  return
}

// -----

// A loop outside a parallel region (orphaned) keeps its barrier.
// CHECK-LABEL: func.func @orphaned(
// CHECK:         omp.wsloop {
// CHECK-NOT:     nowait
func.func @orphaned(%out: memref<4xi8>, %v: i8) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  omp.wsloop {
    omp.loop_nest (%i) : index = (%c0) to (%c4) step (%c1) {
      memref.store %v, %out[%i] : memref<4xi8>
      omp.yield
    }
  }
  return
}

// -----

// A loop with a reduction keeps its barrier.
omp.declare_reduction @add_i32 : i32 init {
^bb0(%arg: i32):
  %0 = arith.constant 0 : i32
  omp.yield(%0 : i32)
} combiner {
^bb0(%a: i32, %b: i32):
  %s = arith.addi %a, %b : i32
  omp.yield(%s : i32)
}

// CHECK-LABEL: func.func @reduction(
// CHECK:         omp.wsloop reduction(
// CHECK-NOT:     nowait
func.func @reduction(%sum: !llvm.ptr, %v: i32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  omp.parallel {
    omp.wsloop reduction(@add_i32 %sum -> %acc : !llvm.ptr) {
      omp.loop_nest (%i) : index = (%c0) to (%c4) step (%c1) {
        %x = llvm.load %acc : !llvm.ptr -> i32
        %y = arith.addi %x, %v : i32
        llvm.store %y, %acc : i32, !llvm.ptr
        omp.yield
      }
    }
    omp.terminator
  }
  return
}
