// Of header-contract.test: returns one value twice and its argument twice;
// each result must still be a buffer of its own, which the caller frees.
func.func @repeated(%a: tensor<3xi32>) -> (tensor<3xi32>, tensor<3xi32>, tensor<3xi32>, tensor<3xi32>) {
  %c = arith.constant dense<10> : tensor<3xi32>
  %e = tensor.empty() : tensor<3xi32>
  %s = linalg.add ins(%a, %c : tensor<3xi32>, tensor<3xi32>) outs(%e : tensor<3xi32>) -> tensor<3xi32>
  return %s, %s, %a, %a : tensor<3xi32>, tensor<3xi32>, tensor<3xi32>, tensor<3xi32>
}
