"""Imported by the benchmark scripts before numpy and torch: on one thread,
PyTorch's idle OpenMP threads must not spin (OMP_WAIT_POLICY=PASSIVE,
unless set). With --threads N the environment is left alone, so that the
libraries compiled with --kernel-threads choose libomp's wait policy as
they do for a user (myquant-openmp-wait-policy: they spin between
kernels) and PyTorch's threads wait as they do by default."""

import os
import sys

if not any(a.startswith("--threads") for a in sys.argv[1:]):
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
