/* Start-up code of the Cortex-M boards (runtime/baremetal/mps2.ld): the
   vector table, copying .data and zeroing .bss, then exit(main()); and
   the two system calls a program needs, over semihosting: _write (under
   the C library's write() and stdio) and _exit. The rest of newlib's
   system calls are libnosys's stubs (--specs=nosys.specs; its _sbrk for a
   program that allocates). Unlike librdimon's, nothing here references
   the heap, so a program that prints without stdio (the example main of
   integer results) links no allocator with -Wl,--gc-sections. A fault
   exits with status 128 + its exception number instead of hanging the
   emulator. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start__[], __bss_end__[], __stack_top[];
extern int main(void);

#define SYS_WRITEC 0x03
#define SYS_EXIT_EXTENDED 0x20
#define ADP_STOPPED_APPLICATION_EXIT 0x20026

static void semihost(uint32_t op, const void *arg) {
  register uint32_t r0 __asm__("r0") = op;
  register const void *r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
}

void _exit(int status) {
  const uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)status};
  for (;;)
    semihost(SYS_EXIT_EXTENDED, block);
}

/* Every descriptor is qemu's console, written a character at a time. */
int _write(int fd, const char *buf, size_t n) {
  (void)fd;
  for (size_t i = 0; i < n; ++i)
    semihost(SYS_WRITEC, &buf[i]);
  return (int)n;
}

void myquant_reset(void) {
  uint32_t *src = __data_load;
  for (uint32_t *dst = __data_start; dst < __data_end;)
    *dst++ = *src++;
  for (uint32_t *dst = __bss_start__; dst < __bss_end__;)
    *dst++ = 0;
  exit(main());
}

static void myquant_fault(void) {
  uint32_t ipsr;
  __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
  _exit(128 + (int)(ipsr & 0x1ff));
}

__attribute__((section(".vectors"),
               used)) static void (*const vectors[16])(void) = {
    (void (*)(void))__stack_top,
    myquant_reset,
    myquant_fault,
    myquant_fault,
    myquant_fault,
    myquant_fault,
    myquant_fault,
    0,
    0,
    0,
    0,
    myquant_fault,
    myquant_fault,
    0,
    myquant_fault,
    myquant_fault,
};
