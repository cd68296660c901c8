"""Kernels compiled with --kernel-threads=2 (the batch loops of the int8
kernels as OpenMP work-sharing loops, myquant-parallelize-batches) give
the same bits as the generic integer lowering, which the end-to-end tests
check against the reference, on the three benchmark models at batch 4;
the libraries really call the OpenMP runtime.

Needs the avx512-vnni kernels (the models' kernels are built for them)."""

import os

import numpy as np
import pytest

from conftest import RUNNABLE_TARGETS  # conftest puts benchmarks/ on the path

import bench as B
import models as M
from myquant.emit import emit


@pytest.mark.skipif("avx512-vnni" not in RUNNABLE_TARGETS,
                    reason="the kernels are built for avx512-vnni")
@pytest.mark.parametrize("name", sorted(M.MODELS))
def test_two_threads_same_bits(name, build_dir, workdir):
    tc = B.Toolchain(build_dir, workdir)
    build = M.MODELS[name]
    rng = np.random.default_rng(3)
    stats, _ = B.model_stats(build, rng)
    model = build(4)
    x = rng.standard_normal(model.input_shape).astype(np.float32)
    src = tc.write(tc.quantize(emit(model, stats)))
    outputs = {}
    for tag, flags in [("threads", ["--target=avx512-vnni",
                                    "--kernel-threads=2"]),
                       ("generic", ["--target=generic"])]:
        so = os.path.join(workdir, f"{tag}.so")
        B.sh([tc.compile, src, "--function=forward", "--shared", "-o", so]
             + flags)
        outputs[tag] = B.Compiled(so, "forward", x,
                                  model.shapes[model.output], np.float32)()
        if tag == "threads":
            with open(so, "rb") as f:
                assert b"__kmpc_fork_call" in f.read(), \
                    "no OpenMP parallel region in the library"
    assert np.array_equal(outputs["threads"].view(np.int32),
                          outputs["generic"].view(np.int32))
