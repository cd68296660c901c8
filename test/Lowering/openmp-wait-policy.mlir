// RUN: myquant-opt %s --myquant-openmp-wait-policy | FileCheck %s
// RUN: myquant-opt %s --split-input-file "--myquant-lower-to-llvm=threads=1" | FileCheck %s --check-prefix=ONE

// A constructor sets KMP_BLOCKTIME=1000 (setenv without overwriting) when
// none of OMP_WAIT_POLICY, KMP_LIBRARY and KMP_BLOCKTIME is set:
// NUL-terminated strings.
// CHECK-DAG:   llvm.mlir.global internal constant @__myquant_env_OMP_WAIT_POLICY("OMP_WAIT_POLICY\00")
// CHECK-DAG:   llvm.mlir.global internal constant @__myquant_env_KMP_LIBRARY("KMP_LIBRARY\00")
// CHECK-DAG:   llvm.mlir.global internal constant @__myquant_env_KMP_BLOCKTIME("KMP_BLOCKTIME\00")
// CHECK-DAG:   llvm.mlir.global internal constant @__myquant_env_1000("1000\00")
// CHECK-DAG:   llvm.func @getenv(!llvm.ptr) -> !llvm.ptr
// CHECK-DAG:   llvm.func @setenv(!llvm.ptr, !llvm.ptr, i32) -> i32
// CHECK-LABEL: llvm.func internal @__myquant_openmp_wait_policy()
// CHECK:         %[[MS0:.*]] = llvm.mlir.addressof @__myquant_env_1000
// CHECK-NEXT:    %[[MS:.*]] = llvm.getelementptr %[[MS0]][0, 0]
// CHECK-NEXT:    %[[BT0:.*]] = llvm.mlir.addressof @__myquant_env_KMP_BLOCKTIME
// CHECK-NEXT:    %[[BT:.*]] = llvm.getelementptr %[[BT0]][0, 0]
// CHECK-NEXT:    %[[LIB0:.*]] = llvm.mlir.addressof @__myquant_env_KMP_LIBRARY
// CHECK-NEXT:    %[[LIB:.*]] = llvm.getelementptr %[[LIB0]][0, 0]
// CHECK-NEXT:    %[[WAIT0:.*]] = llvm.mlir.addressof @__myquant_env_OMP_WAIT_POLICY
// CHECK-NEXT:    %[[WAIT:.*]] = llvm.getelementptr %[[WAIT0]][0, 0]
// CHECK:         %[[NULL:.*]] = llvm.mlir.zero : !llvm.ptr
// CHECK:         %[[V1:.*]] = llvm.call @getenv(%[[WAIT]])
// CHECK:         %[[A1:.*]] = llvm.icmp "eq" %[[V1]], %[[NULL]]
// CHECK:         %[[V2:.*]] = llvm.call @getenv(%[[LIB]])
// CHECK:         %[[A2:.*]] = llvm.icmp "eq" %[[V2]], %[[NULL]]
// CHECK:         %[[B:.*]] = llvm.and %[[A1]], %[[A2]]
// CHECK:         %[[V3:.*]] = llvm.call @getenv(%[[BT]])
// CHECK:         %[[A3:.*]] = llvm.icmp "eq" %[[V3]], %[[NULL]]
// CHECK:         %[[ALL:.*]] = llvm.and %[[B]], %[[A3]]
// CHECK:         llvm.cond_br %[[ALL]], ^[[SET:.*]], ^[[DONE:.*]]
// CHECK:       ^[[SET]]:
// CHECK:         %[[KEEP:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK-NEXT:    llvm.call @setenv(%[[BT]], %[[MS]], %[[KEEP]])
// CHECK-NEXT:    llvm.br ^[[DONE]]
// CHECK:       ^[[DONE]]:
// CHECK-NEXT:    llvm.return
// CHECK:       llvm.mlir.global_ctors ctors = [@__myquant_openmp_wait_policy], priorities = [65535 : i32], data = [#llvm.zero]

// One thread: no OpenMP, no constructor.
// ONE-NOT: global_ctors
// ONE-NOT: setenv
// ONE-NOT: turnaround
llvm.func @f() {
  llvm.return
}
