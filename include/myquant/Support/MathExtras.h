//===- MathExtras.h - small integer helpers shared by passes ----*- C++ -*-===//

#ifndef MYQUANT_SUPPORT_MATHEXTRAS_H
#define MYQUANT_SUPPORT_MATHEXTRAS_H

#include <algorithm>
#include <cstdint>

namespace myquant {

/// The largest divisor of `size` not above `limit` (1 when none is larger):
/// tiles and vectors that divide static sizes need neither masks nor
/// remainder loops.
inline int64_t largestDivisorAtMost(int64_t size, int64_t limit) {
  for (int64_t d = std::min(size, limit); d > 1; --d)
    if (size % d == 0)
      return d;
  return 1;
}

} // namespace myquant

#endif // MYQUANT_SUPPORT_MATHEXTRAS_H
