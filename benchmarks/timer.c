/* Times a function compiled by myquant-compile --shared through its C
 * interface, _mlir_ciface_NAME(result descriptor *, argument descriptor *),
 * without any interpreter in the loop. */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

typedef void (*entry_fn)(void *result, void *argument);

static double read_clock(clockid_t clock) {
  struct timespec t;
  clock_gettime(clock, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double now(void) { return read_clock(CLOCK_MONOTONIC); }

/* `samples` times: `calls` calls, out[s] = seconds per call. Each result
 * buffer is freed after the clock stops (its `allocated` pointer is the
 * descriptor's first word). */
void time_entry(void *fn, void *result, void *argument, int64_t samples,
                int64_t calls, double *out) {
  for (int64_t s = 0; s < samples; ++s) {
    double total = 0;
    for (int64_t c = 0; c < calls; ++c) {
      double t0 = now();
      ((entry_fn)fn)(result, argument);
      total += now() - t0;
      free(*(void **)result);
    }
    out[s] = total / (double)calls;
  }
}

/* As time_entry, in CPU seconds of the process (all its threads): on a
 * machine shared with more runnable processes than cores, the time the
 * call ran rather than the time it waited for a core. */
void time_entry_cpu(void *fn, void *result, void *argument, int64_t samples,
                    double *out) {
  for (int64_t s = 0; s < samples; ++s) {
    double t0 = read_clock(CLOCK_PROCESS_CPUTIME_ID);
    ((entry_fn)fn)(result, argument);
    out[s] = read_clock(CLOCK_PROCESS_CPUTIME_ID) - t0;
    free(*(void **)result);
  }
}
