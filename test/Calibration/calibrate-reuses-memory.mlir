// The calls of the instrumented copy after the first reuse the memory the
// first faulted in: one call at a time runs on the pass's thread, whose
// malloc arena keeps what the calls free. On a pool thread each call's
// 64 MB result was mapped and unmapped again (a thread arena's heaps hold
// at most 64 MB) and every call faulted its 16384 pages in anew; ResNet-50's
// instrumented copy cost 5x the plain model so. Four calls of one sample:
// the later three may fault a few pages in (the heap's top), not their
// results.
// RUN: myquant-opt %s --myquant-calibrate="data=%S/Inputs/x.npy samples=4 timing" -o /dev/null 2>&1 | FileCheck %s

// CHECK: myquant-calibrate timing:
// CHECK-SAME: page faults: first call {{[1-9][0-9][0-9][0-9][0-9]+}}, later calls {{[0-9]?[0-9]?[0-9]}})

func.func @broadcast(%x: tensor<1x4xf32>) -> tensor<1x4x4096x1024xf32> {
  %e = tensor.empty() : tensor<1x4x4096x1024xf32>
  %b = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x : tensor<1x4xf32>) outs(%e : tensor<1x4x4096x1024xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x4x4096x1024xf32>
  return %b : tensor<1x4x4096x1024xf32>
}
