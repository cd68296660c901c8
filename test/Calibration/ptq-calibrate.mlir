// myquant-ptq with calibration-data calibrates first: the quantization
// parameters come from the ranges of the data (min/max of Inputs/x.npy is
// [-4, 4]: scale 8/255, zero point 0; the relu output is [0, 5.5625]:
// scale 5.5625/255, zero point -128, as Inputs/calibration_data.py checks).
// RUN: rm -rf %t && mkdir -p %t
// RUN: myquant-opt %s --myquant-ptq="calibration-data=%S/Inputs/x.npy calibration-stats-out=%t/stats.json" | FileCheck %s
// RUN: %python %S/Inputs/calibration_data.py compare %S/Inputs fixed-layer-outputs %t/stats.json
// The values inside the layer (the matmul before its bias and relu) are not
// observed by default: the dry run reads no range of theirs, so observing
// them changes nothing in the quantized module.
// RUN: myquant-opt %s --myquant-calibrate="data=%S/Inputs/x.npy observe-inside-layers" --myquant-ptq | FileCheck %s
// A layer kept in float is no layer to the dry run, which then quantizes the
// matmul's result on its own: myquant-ptq observes inside layers then.
// RUN: myquant-opt %s --myquant-ptq="calibration-data=%S/Inputs/x.npy keep-float=linalg.matmul allow-float" 2>/dev/null | FileCheck %s --check-prefix=KEEP
// RUN: myquant-opt %s --myquant-ptq="calibration-data=%S/Inputs/x.npy calibration-method=percentile calibration-percentile=90" | FileCheck %s --check-prefix=P90
// RUN: not myquant-opt %s --myquant-ptq="calibration-data=%S/Inputs/x.npy calibration-method=kl" 2>&1 | FileCheck %s --check-prefix=BAD

// CHECK-LABEL: func.func @model(
// CHECK:         myquant.quantize %arg0 : tensor<4x4xf32> -> tensor<4x4x!quant.uniform<i8:f32, 0.031372549019607843>>
// CHECK:         myquant.matmul {{.*}} -> tensor<4x3x!quant.uniform<i8:f32, 0.021813725490196077:-128>>
// CHECK-NOT:     myquant.stats

// KEEP-LABEL: func.func @model(
// KEEP:         %[[MM:.*]] = linalg.matmul
// KEEP-NEXT:    myquant.quantize %[[MM]] : tensor<4x3xf32> -> tensor<4x3x!quant.uniform<i8:f32, 0.043627450980392155:-6>>

// P90-LABEL: func.func @model(
// P90:         myquant.quantize %arg0 : tensor<4x4xf32> -> tensor<4x4x!quant.uniform<i8:f32, {{.*}}>>
// P90:         myquant.matmul

// BAD: error: unknown calibration method 'kl'

// Without calibration data the calibration options are checked all the same.
// RUN: not myquant-opt %s --myquant-ptq="calibration-method=magic" 2>&1 | FileCheck %s --check-prefix=NODATA-METHOD
// NODATA-METHOD: error: unknown calibration method 'magic' (expected minmax, moving-average, percentile, mse, entropy)
// RUN: not myquant-opt %s --myquant-ptq="calibration-percentile=200" 2>&1 | FileCheck %s --check-prefix=NODATA-PERCENTILE
// NODATA-PERCENTILE: error: calibration-percentile must be in (50, 100], got 200
// RUN: not myquant-opt %s --myquant-ptq="calibration-batch-size=-4" 2>&1 | FileCheck %s --check-prefix=NODATA-BATCH
// NODATA-BATCH: error: calibration-batch-size must be positive, got -4
// RUN: not myquant-opt %s --myquant-ptq="calibration-averaging-constant=2" 2>&1 | FileCheck %s --check-prefix=NODATA-AVERAGE
// NODATA-AVERAGE: error: calibration-averaging-constant must be in (0, 1], got 2
// RUN: not myquant-opt %s --myquant-ptq="calibration-samples=-1" 2>&1 | FileCheck %s --check-prefix=NODATA-SAMPLES
// NODATA-SAMPLES: error: calibration-samples must be non-negative, got -1

// The model of Inputs/models.mlir's @mlp with a fixed batch of 4.
func.func @model(%x: tensor<4x4xf32>) -> tensor<4x3xf32> {
  %w = arith.constant dense<[[0.5, -1.0, 0.25], [1.0, 0.5, -0.5], [-0.25, 0.75, 1.0], [0.5, 0.5, 0.5]]> : tensor<4x3xf32>
  %b = arith.constant dense<[0.125, -0.25, 0.5]> : tensor<3xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x3xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x3xf32>) -> tensor<4x3xf32>
  %mm = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x3xf32>) outs(%f : tensor<4x3xf32>) -> tensor<4x3xf32>
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
