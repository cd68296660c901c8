// Of header-contract.test: a module written on memrefs that keeps state
// between calls in a writable global (a call counter).
memref.global "private" @calls : memref<i64> = dense<0>
func.func @count(%out: memref<i64>) {
  %g = memref.get_global @calls : memref<i64>
  %n = memref.load %g[] : memref<i64>
  %one = arith.constant 1 : i64
  %m = arith.addi %n, %one : i64
  memref.store %m, %g[] : memref<i64>
  memref.store %m, %out[] : memref<i64>
  return
}
