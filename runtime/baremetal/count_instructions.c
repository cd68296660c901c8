/* Counts the instructions one call of a model executes on a Cortex-M board
   under `qemu-system-arm -icount shift=0`, where virtual time advances
   1 ns per instruction (benchmarks/baremetal.py --instructions). Linked
   with -Wl,--wrap=_mlir_ciface_forward, it runs the example main's call
   between two reads of SysTick, which counts down the board's 25 MHz
   processor clock: one tick per 40 instructions (checked on a loop of
   known length, docs/Targets.md). The 24-bit counter wraps after 671
   million instructions; a call that long is reported as such. */
#include <stdint.h>
#include <unistd.h>

#define SYST_CSR (*(volatile uint32_t *)0xE000E010)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018)
#define COUNTFLAG (1u << 16)

void __real__mlir_ciface_forward(void *, void *, void *, void *);

/* The entry points take pointers only: passing four covers up to four
   arguments (r0-r3); a callee with fewer ignores the rest. */
void __wrap__mlir_ciface_forward(void *a, void *b, void *c, void *d) {
  SYST_RVR = 0xFFFFFF;
  SYST_CVR = 0;
  SYST_CSR = 5;   /* enabled, processor clock, no interrupt */
  (void)SYST_CSR; /* clears COUNTFLAG */
  uint32_t start = SYST_CVR;
  __real__mlir_ciface_forward(a, b, c, d);
  uint32_t end = SYST_CVR;
  /* Written without stdio, which would bring the heap (startup_cortexm.c). */
  static const char overflow[] = "instructions: overflow\n";
  if (SYST_CSR & COUNTFLAG) {
    write(1, overflow, sizeof overflow - 1);
    return;
  }
  uint32_t count = ((start - end) & 0xFFFFFFu) * 40u;
  char digits[11];
  char *first = digits + sizeof digits - 1;
  *first = '\n';
  do
    *--first = (char)('0' + count % 10);
  while ((count /= 10) != 0);
  write(1, overflow, 14); /* "instructions: " */
  write(1, first, (size_t)(digits + sizeof digits - first));
}
