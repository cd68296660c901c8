/* write() of the RV32 board: every descriptor is qemu's console. picolibc's
   own semihosting write() takes a handle from open(), and descriptor 1 is
   none; its stdio prints through semihosting directly. The example main
   prints integer results with write() (stdio takes its buffers from the
   heap in newlib, the Cortex-M boards' C library). */
#include <semihost.h>
#include <sys/types.h>

ssize_t write(int fd, const void *buf, size_t n) {
  (void)fd;
  const char *bytes = buf;
  char one[2] = {0, 0};
  for (size_t i = 0; i < n; ++i) {
    one[0] = bytes[i];
    sys_semihost_write0(one);
  }
  return (ssize_t)n;
}
