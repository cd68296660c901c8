// The models of the calibration tests. calibration_data.py computes their
// values with numpy: keep the two in step.

// relu(x @ W + B), with location names: the matmul and the bias add are both
// "fc" (stats names "fc#0" and "fc"), the argument is "input".
func.func @mlp(%x: tensor<?x4xf32> loc("input")) -> tensor<?x3xf32> {
  %w = arith.constant dense<[[0.5, -1.0, 0.25], [1.0, 0.5, -0.5], [-0.25, 0.75, 1.0], [0.5, 0.5, 0.5]]> : tensor<4x3xf32>
  %b = arith.constant dense<[0.125, -0.25, 0.5]> : tensor<3xf32>
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?x4xf32>
  %e = tensor.empty(%n) : tensor<?x3xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<?x3xf32>) -> tensor<?x3xf32>
  %mm = linalg.matmul ins(%x, %w : tensor<?x4xf32>, tensor<4x3xf32>) outs(%f : tensor<?x3xf32>) -> tensor<?x3xf32> loc("fc")
  %fc = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%mm, %b : tensor<?x3xf32>, tensor<3xf32>) outs(%e : tensor<?x3xf32>) {
  ^bb0(%in: f32, %bias: f32, %out: f32):
    %s = arith.addf %in, %bias : f32
    linalg.yield %s : f32
  } -> tensor<?x3xf32> loc("fc")
  %relu = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%fc : tensor<?x3xf32>) outs(%e : tensor<?x3xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<?x3xf32> loc("relu")
  return %relu : tensor<?x3xf32>
}

// @mlp with a fixed batch of 4, a transposed weight and an earlier
// annotation.
func.func @fixed(%x: tensor<4x4xf32>) -> tensor<4x3xf32> {
  %xs = myquant.stats %x {min = array<f64: -100.0>, max = array<f64: 100.0>} : tensor<4x4xf32>
  %wt = arith.constant dense<[[0.5, 1.0, -0.25, 0.5], [-1.0, 0.5, 0.75, 0.5], [0.25, -0.5, 1.0, 0.5]]> : tensor<3x4xf32>
  %b = arith.constant dense<[0.125, -0.25, 0.5]> : tensor<3xf32>
  %zero = arith.constant 0.0 : f32
  %et = tensor.empty() : tensor<4x3xf32>
  %w = linalg.transpose ins(%wt : tensor<3x4xf32>) outs(%et : tensor<4x3xf32>) permutation = [1, 0]
  %e = tensor.empty() : tensor<4x3xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x3xf32>) -> tensor<4x3xf32>
  %mm = linalg.matmul ins(%xs, %w : tensor<4x4xf32>, tensor<4x3xf32>) outs(%f : tensor<4x3xf32>) -> tensor<4x3xf32>
  %fc = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%mm, %b : tensor<4x3xf32>, tensor<3xf32>) outs(%e : tensor<4x3xf32>) {
  ^bb0(%in: f32, %bias: f32, %out: f32):
    %s = arith.addf %in, %bias : f32
    linalg.yield %s : f32
  } -> tensor<4x3xf32>
  %relu = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%fc : tensor<4x3xf32>) outs(%e : tensor<4x3xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<4x3xf32>
  return %relu : tensor<4x3xf32>
}

// Two arguments, one with a location name.
func.func @pair(%a: tensor<?x4xf32> loc("a"), %b: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %a, %c0 : tensor<?x4xf32>
  %e = tensor.empty(%n) : tensor<?x4xf32>
  %sum = linalg.add ins(%a, %b : tensor<?x4xf32>, tensor<?x4xf32>) outs(%e : tensor<?x4xf32>) -> tensor<?x4xf32>
  return %sum : tensor<?x4xf32>
}

// x - x is 0 for every finite x: a constant tensor.
func.func @zeros(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?x4xf32>
  %e = tensor.empty(%n) : tensor<?x4xf32>
  %z = linalg.sub ins(%x, %x : tensor<?x4xf32>, tensor<?x4xf32>) outs(%e : tensor<?x4xf32>) -> tensor<?x4xf32>
  return %z : tensor<?x4xf32>
}

// @mlp with other methods for the argument and the bias add.
func.func @override(%x: tensor<?x4xf32> {myquant.calibration_method = "percentile"}) -> tensor<?x3xf32> {
  %w = arith.constant dense<[[0.5, -1.0, 0.25], [1.0, 0.5, -0.5], [-0.25, 0.75, 1.0], [0.5, 0.5, 0.5]]> : tensor<4x3xf32>
  %b = arith.constant dense<[0.125, -0.25, 0.5]> : tensor<3xf32>
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?x4xf32>
  %e = tensor.empty(%n) : tensor<?x3xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<?x3xf32>) -> tensor<?x3xf32>
  %mm = linalg.matmul ins(%x, %w : tensor<?x4xf32>, tensor<4x3xf32>) outs(%f : tensor<?x3xf32>) -> tensor<?x3xf32>
  %fc = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%mm, %b : tensor<?x3xf32>, tensor<3xf32>) outs(%e : tensor<?x3xf32>) attrs = {myquant.calibration_method = "mse"} {
  ^bb0(%in: f32, %bias: f32, %out: f32):
    %s = arith.addf %in, %bias : f32
    linalg.yield %s : f32
  } -> tensor<?x3xf32>
  return %fc : tensor<?x3xf32>
}
