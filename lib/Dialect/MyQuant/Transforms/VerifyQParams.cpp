//===- VerifyQParams.cpp - rescales consistent with quantized types -------===//

#include "myquant/Dialect/MyQuant/IR/MyQuantOps.h"
#include "myquant/Dialect/MyQuant/IR/MyQuantTypeUtils.h"
#include "myquant/Dialect/MyQuant/Transforms/Passes.h"

#include <cmath>

namespace myquant {
#define GEN_PASS_DEF_MYQUANTVERIFYQPARAMS
#include "myquant/Dialect/MyQuant/Transforms/Passes.h.inc"
} // namespace myquant

using namespace mlir;
using namespace myquant;

namespace {

/// Reports each entry of `rescale` that is not within one unit of
/// `reals[c] * 2^shift[c]`.
bool check(Operation *op, const RescaleSlot &slot) {
  RescaleAttr rescale = slot.rescale;
  if (!rescale)
    return true;
  ArrayRef<double> reals = slot.reals;
  bool ok = true;
  for (size_t c = 0; c < rescale.size(); ++c) {
    double real = reals[reals.size() == 1 ? 0 : std::min(c, reals.size() - 1)];
    int32_t m = rescale.getMultiplier()[c], s = rescale.getShift()[c];
    double exact = std::ldexp(real, s);
    if (std::abs(exact - m) <= 1.0 + 1e-9 * exact)
      continue;
    op->emitOpError() << "'" << slot.name.getValue() << "' entry " << c
                      << " (multiplier " << m << ", shift " << s << ") encodes "
                      << std::ldexp(static_cast<double>(m), -s)
                      << " but the quantized types need " << real;
    ok = false;
  }
  return ok;
}

/// Reports a softmax whose exponential table is not the one of its input
/// scale (docs/NumericSpec.md 3.10), naming the first entry that differs.
bool check(SoftmaxOp op) {
  // A 16-bit input's exp_rescale is a rescale slot, checked above.
  if (!op.getExpTable())
    return true;
  ArrayRef<int32_t> table = *op.getExpTable();
  QuantParams in = *getQuantParams(op.getInput().getType());
  SmallVector<int32_t> want =
      getSoftmaxExpTable(in.scales[0], static_cast<int64_t>(table.size()));
  for (auto [d, entry] : llvm::enumerate(table)) {
    if (entry == want[d])
      continue;
    op.emitOpError() << "exp_table entry " << d << " is " << entry
                     << " but input scale " << in.scales[0] << " needs "
                     << want[d];
    return false;
  }
  return true;
}

struct VerifyQParamsPass
    : myquant::impl::MyQuantVerifyQParamsBase<VerifyQParamsPass> {
  using Base::Base;

  void runOnOperation() override {
    bool ok = true;
    getOperation().walk([&](RescaleOpInterface op) {
      for (const RescaleSlot &slot : op.getRescaleSlots())
        ok &= check(op, slot);
    });
    getOperation().walk([&](SoftmaxOp op) { ok &= check(op); });
    if (!ok)
      signalPassFailure();
  }
};

} // namespace
