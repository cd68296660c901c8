// RUN: myquant-opt %s --myquant-inline-alloca-scopes | FileCheck %s

func.func private @kernel(memref<4xi8>, index)

// A scope whose ops allocate nothing on the stack (a call, a loop of
// stores, a nested scope that allocates) is inlined; so is the one of
// the value it returns.
// CHECK-LABEL: func.func @calls(
// CHECK-SAME:    %[[OUT:.*]]: memref<4xi8>, %[[N:.*]]: index)
// CHECK-NEXT:    call @kernel(%[[OUT]], %[[N]])
// CHECK-NEXT:    %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT:    memref.alloca_scope {
// CHECK-NEXT:      memref.alloca() : memref<4xi8>
// CHECK-NEXT:    }
// CHECK-NEXT:    %[[V:.*]] = memref.load %[[OUT]][%[[C0]]]
// CHECK-NEXT:    return %[[V]] : i8
func.func @calls(%out: memref<4xi8>, %n: index) -> i8 {
  %v = memref.alloca_scope -> i8 {
    func.call @kernel(%out, %n) : (memref<4xi8>, index) -> ()
    %c0 = arith.constant 0 : index
    memref.alloca_scope {
      %a = memref.alloca() : memref<4xi8>
    }
    %l = memref.load %out[%c0] : memref<4xi8>
    memref.alloca_scope.return %l : i8
  }
  return %v : i8
}

// A scope whose own ops allocate on the stack stays.
// CHECK-LABEL: func.func @allocates(
// CHECK:         memref.alloca_scope {
// CHECK-NEXT:      call @kernel(
// CHECK-NEXT:      memref.alloca() : memref<4xi8>
func.func @allocates(%out: memref<4xi8>, %n: index) {
  memref.alloca_scope {
    func.call @kernel(%out, %n) : (memref<4xi8>, index) -> ()
    %a = memref.alloca() : memref<4xi8>
  }
  return
}
