/* Per-kernel times of a model: layer_profile.py brackets each kernel call
 * in the compiled entry function with prof_begin(i) / prof_end(i) (the i-th
 * call site) and times the entry function here. The kernels are noinline
 * functions of their own, so the brackets sit outside their loops: two
 * clock reads per kernel call, nothing inside the kernels changes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

enum { max_kernels = 1024 };

/* Per call of the entry function: the time spent in kernel i and in the
 * code before it (since the previous kernel ended), summed over its
 * executions. A kernel runs several times per call when myquant-split-batch
 * put it in a loop over the images of the batch. */
static double begin_t, end_t, kernel_t[max_kernels], gap_t[max_kernels];

static clockid_t prof_clock = CLOCK_MONOTONIC;

/* Times in CPU time of the calling thread instead of wall time (on != 0):
 * on a machine shared with more runnable processes than cores, a kernel's
 * time without the time it waited for a core. A system call per read. */
void prof_cpu_time(int32_t on) {
  prof_clock = on ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC;
}

static double read_clock(clockid_t clock) {
  struct timespec t;
  clock_gettime(clock, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double now(void) { return read_clock(prof_clock); }

void prof_begin(int32_t i) {
  begin_t = now();
  gap_t[i] += begin_t - end_t;
}
void prof_end(int32_t i) {
  end_t = now();
  kernel_t[i] += end_t - begin_t;
}

typedef void (*entry_fn)(void *result, void *argument);

/* `calls` calls of fn with n kernels called in the order of their index;
 * min over the calls of: kernel[i], the time of kernel i; gap[i], the time
 * from the end of the kernel before (the start of the call for the first)
 * to the start of kernel i, both summed over their executions in the call;
 * gap[n] the time after the last kernel; fastest[0], the call; and of the
 * fastest call, its kernels' time (fastest[1]) and the rest (fastest[2]).
 * Within a call kernels and gaps add up to the call; the sum of the minima
 * is below the fastest call by what no call avoids everywhere (the
 * interruptions that land in some kernel of every call).
 * Each result buffer is freed after the clock stops. */
int prof_run(void *fn, void *result, void *argument, int32_t n, int64_t calls,
             double *kernel, double *gap, double *fastest) {
  if (n < 0 || n > max_kernels)
    return 1;
  for (int32_t i = 0; i <= n; ++i) {
    if (i < n)
      kernel[i] = 1e30;
    gap[i] = 1e30;
  }
  fastest[0] = 1e30;
  for (int64_t c = 0; c < calls; ++c) {
    for (int32_t i = 0; i < n; ++i)
      kernel_t[i] = gap_t[i] = 0;
    double t0 = now();
    end_t = t0;
    ((entry_fn)fn)(result, argument);
    double t1 = now();
    free(*(void **)result);
    double kernels = 0;
    for (int32_t i = 0; i < n; ++i) {
      kernel[i] = kernel_t[i] < kernel[i] ? kernel_t[i] : kernel[i];
      gap[i] = gap_t[i] < gap[i] ? gap_t[i] : gap[i];
      kernels += kernel_t[i];
    }
    gap[n] = t1 - end_t < gap[n] ? t1 - end_t : gap[n];
    if (t1 - t0 < fastest[0]) {
      fastest[0] = t1 - t0;
      fastest[1] = kernels;
      fastest[2] = t1 - t0 - kernels;
    }
  }
  return 0;
}

/* Interruptions of a running thread, which its CPU time includes (a
 * virtual machine's host taking the core back for a moment, timer
 * interrupts): the clock read in a loop for `seconds` of CPU time; a gap
 * between two reads from `min_gap` seconds to 1 ms counts (longer ones are
 * the thread waiting for a core, outside its CPU time; on a loaded
 * machine shorter waits count too, so read it idle). Returns the gaps'
 * total, their number in *count; *cpu, the CPU time of the loop. */
double interruptions(double seconds, double min_gap, int64_t *count,
                     double *cpu) {
  double cpu0 = read_clock(CLOCK_THREAD_CPUTIME_ID), lost = 0;
  *count = 0;
  do {
    // Chunks of reads between two of the CPU clock (a system call).
    double prev = read_clock(CLOCK_MONOTONIC);
    for (int i = 0; i < 1000000; ++i) {
      double at = read_clock(CLOCK_MONOTONIC);
      if (at - prev >= min_gap && at - prev < 1e-3) {
        lost += at - prev;
        ++*count;
      }
      prev = at;
    }
    *cpu = read_clock(CLOCK_THREAD_CPUTIME_ID) - cpu0;
  } while (*cpu < seconds);
  return lost;
}

/* Seconds of the fastest of `calls` calls of fn, each after writing
 * `flush` bytes of another buffer: the weights and inputs of the call come
 * from memory, as a layer's weights do in a model larger than the caches. */
double time_cold(void *fn, void *result, void *argument, int64_t calls,
                 int64_t flush) {
  char *junk = calloc((size_t)flush, 1);
  if (!junk)
    return -1;
  double best = 1e30;
  for (int64_t c = 0; c < calls; ++c) {
    for (int64_t i = 0; i < flush; i += 64)
      junk[i] += 1;
    double t0 = now();
    ((entry_fn)fn)(result, argument);
    double t = now() - t0;
    free(*(void **)result);
    best = t < best ? t : best;
  }
  free(junk);
  return best;
}

/* The sum of n words: read_bandwidth in layer_profile.py times it. */
int64_t read_all(const int64_t *p, size_t n) {
  int64_t s = 0;
  for (size_t i = 0; i < n; ++i)
    s += p[i];
  return s;
}
