"""myquant-calibrate's memory is bounded by one batch: it reads a .npy file
a batch at a time and observes each batch's activations before the next
call, so its peak RSS does not grow with the number of samples (16 vs
1022 samples of 3x64x64, 48 MB apart), and the streamed statistics are
numpy's min and max (the last, partial batch wraps around to the first
samples)."""

import json
import os
import subprocess

import numpy as np
import pytest

TIME = "/usr/bin/time"

SHAPE = (3, 64, 64)
BATCH = 4
MODEL = f"""
#map = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @relu(%x: tensor<{BATCH}x3x64x64xf32> loc("x"))
    -> tensor<{BATCH}x3x64x64xf32> {{
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<{BATCH}x3x64x64xf32>
  %y = linalg.generic {{indexing_maps = [#map, #map],
      iterator_types = ["parallel", "parallel", "parallel", "parallel"]}}
      ins(%x : tensor<{BATCH}x3x64x64xf32>)
      outs(%init : tensor<{BATCH}x3x64x64xf32>) {{
  ^bb0(%a: f32, %b: f32):
    %r = arith.maximumf %a, %zero : f32
    linalg.yield %r : f32
  }} -> tensor<{BATCH}x3x64x64xf32> loc("relu")
  return %y : tensor<{BATCH}x3x64x64xf32>
}}
"""


def calibrate(build_dir, workdir, samples):
    """(peak RSS in MB, {value: (min, max)}, the data's (min, max)) of
    myquant-calibrate over `samples` random samples."""
    src = os.path.join(workdir, "relu.mlir")
    with open(src, "w") as f:
        f.write(MODEL)
    npy = os.path.join(workdir, f"x{samples}.npy")
    # Written through a memory map, so that this process holds none of it.
    x = np.lib.format.open_memmap(npy, mode="w+", dtype=np.float32,
                                  shape=(samples,) + SHAPE)
    rng = np.random.default_rng(samples)
    for i in range(0, samples, 64):
        x[i:i + 64] = rng.standard_normal((len(x[i:i + 64]),) + SHAPE,
                                          dtype=np.float32)
    x.flush()
    data_range = (float(x.min()), float(x.max()))
    del x
    out = os.path.join(workdir, f"stats{samples}.json")
    # /usr/bin/time forks myquant-opt itself: the peak RSS of a child of
    # this process would include this process's pages, copied by fork
    # before exec (hundreds of MB once torch is loaded).
    p = subprocess.run(
        [TIME, "-f", "MAXRSS %M", os.path.join(build_dir, "bin",
                                               "myquant-opt"), src,
         f"--myquant-calibrate=data={npy} stats-out={out} quiet", "-o",
         os.devnull], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    rss = [line for line in p.stderr.splitlines()
           if line.startswith("MAXRSS")]
    with open(out) as f:
        values = json.load(f)["values"]
    stats = {k: (v["min"], v["max"]) for k, v in values.items()}
    return int(rss[-1].split()[1]) / 1024.0, stats, data_range


@pytest.mark.skipif(not os.access(TIME, os.X_OK),
                    reason="needs GNU time for the peak RSS")
def test_peak_memory_does_not_grow_with_samples(build_dir, workdir):
    few_rss, few, few_range = calibrate(build_dir, workdir, 16)
    # Not a multiple of the batch: the last call wraps around.
    many_rss, many, many_range = calibrate(build_dir, workdir, 1022)
    assert few["x"] == few_range and many["x"] == many_range
    assert few["relu"] == (0.0, few_range[1])
    assert many["relu"] == (0.0, many_range[1])
    data_mb = 1022 * np.prod(SHAPE) * 4 / 2**20
    # Reading the whole file would add its 48 MB; one batch is 0.2 MB.
    assert many_rss - few_rss < 8, (
        f"peak RSS {few_rss:.1f} MB with 16 samples, {many_rss:.1f} MB "
        f"with 1022 ({data_mb:.0f} MB of data)")
