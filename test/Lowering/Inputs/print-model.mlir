// Appended to Tools/Inputs/model.mlir by upstream-lowering.test: calls
// @model on the input of Tools/Inputs/driver.c and prints the result.
func.func private @printMemrefF32(memref<*xf32>)
func.func @main() {
  %x = arith.constant dense<[[[[0.1, 0.2, -0.3, 0.4], [1.0, -1.0, 0.5, 0.25], [0.0, 0.7, -0.8, 0.9], [1.5, 2.5, -2.5, 3.0]], [[0.3, 0.2, 0.1, 0.0], [-0.1, -0.2, -0.3, -0.4], [1.1, 1.2, 1.3, 1.4], [-5.0, 5.0, 12.0, -13.0]]]]> : tensor<1x2x4x4xf32>
  %y = call @model(%x) : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %m = bufferization.to_buffer %y : tensor<1x2x4x4xf32> to memref<1x2x4x4xf32>
  %u = memref.cast %m : memref<1x2x4x4xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}
