/* The cost of one OpenMP fork/join as the kernels pay it (layer_profile.py
 * --threads): an empty `parallel for` over `threads` iterations, each
 * `gap_us` microseconds of one-thread work after the previous region (the
 * code between two kernels), timed from the fork to the join. */
#include <omp.h>
#include <stdint.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static volatile int64_t sink;

/* `regions` regions; out[r] = seconds of region r. */
void time_regions(int32_t threads, int64_t regions, double gap_us,
                  double *out) {
  for (int64_t r = 0; r < regions; ++r) {
    double until = now() + 1e-6 * gap_us;
    while (now() < until)
      sink = sink + 1;
    double t0 = now();
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int32_t i = 0; i < threads; ++i)
      sink = i;
    out[r] = now() - t0;
  }
}
