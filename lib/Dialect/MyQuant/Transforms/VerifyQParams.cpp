//===- VerifyQParams.cpp - rescales consistent with quantized types -------===//

#include "myquant/Dialect/MyQuant/IR/MyQuantOps.h"
#include "myquant/Dialect/MyQuant/IR/MyQuantTypeUtils.h"
#include "myquant/Dialect/MyQuant/Transforms/Passes.h"

#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

namespace myquant {
#define GEN_PASS_DEF_MYQUANTVERIFYQPARAMS
#include "myquant/Dialect/MyQuant/Transforms/Passes.h.inc"
} // namespace myquant

using namespace mlir;
using namespace myquant;

namespace {

QuantParams params(Value value) { return *getQuantParams(value.getType()); }

/// `s_a[c] * s_b[c] / s_out` with per-tensor sides broadcast.
SmallVector<double> productOverOutput(Value a, Value b, Value out) {
  QuantParams pa = params(a), pb = params(b), po = params(out);
  size_t n = std::max(pa.scales.size(), pb.scales.size());
  SmallVector<double> reals;
  for (size_t c = 0; c < n; ++c)
    reals.push_back(pa.scales[pa.scales.size() == 1 ? 0 : c] *
                    pb.scales[pb.scales.size() == 1 ? 0 : c] / po.scales[0]);
  return reals;
}

/// Reports each entry of `rescale` that is not within one unit of
/// `reals[c] * 2^shift[c]`.
bool check(Operation *op, RescaleAttr rescale, ArrayRef<double> reals,
           StringRef name) {
  if (!rescale)
    return true;
  bool ok = true;
  for (size_t c = 0; c < rescale.size(); ++c) {
    double real = reals[reals.size() == 1 ? 0 : std::min(c, reals.size() - 1)];
    int32_t m = rescale.getMultiplier()[c], s = rescale.getShift()[c];
    double exact = std::ldexp(real, s);
    if (std::abs(exact - m) <= 1.0 + 1e-9 * exact)
      continue;
    op->emitOpError() << "'" << name << "' entry " << c << " (multiplier " << m
                      << ", shift " << s << ") encodes "
                      << std::ldexp(static_cast<double>(m), -s)
                      << " but the quantized types need " << real;
    ok = false;
  }
  return ok;
}

struct VerifyQParamsPass
    : myquant::impl::MyQuantVerifyQParamsBase<VerifyQParamsPass> {
  using Base::Base;

  void runOnOperation() override {
    bool ok = true;
    getOperation().walk([&](Operation *op) {
      llvm::TypeSwitch<Operation *>(op)
          .Case([&](Conv2DOp conv) {
            ok &= check(conv, conv.getRescaleAttr(),
                        productOverOutput(conv.getInput(), conv.getFilter(),
                                          conv.getResult()),
                        "rescale");
          })
          .Case([&](MatmulOp matmul) {
            ok &= check(matmul, matmul.getRescaleAttr(),
                        productOverOutput(matmul.getLhs(), matmul.getRhs(),
                                          matmul.getResult()),
                        "rescale");
          })
          .Case([&](MulOp mul) {
            ok &= check(
                mul, mul.getRescaleAttr(),
                productOverOutput(mul.getLhs(), mul.getRhs(), mul.getResult()),
                "rescale");
          })
          .Case([&](RequantizeOp requantize) {
            SmallVector<double> reals;
            for (double scale : params(requantize.getInput()).scales)
              reals.push_back(scale / params(requantize.getResult()).scales[0]);
            ok &= check(requantize, requantize.getRescaleAttr(), reals,
                        "rescale");
          })
          .Case([&](AvgPool2DOp pool) {
            ArrayRef<int64_t> k = pool.getKernel();
            double divisor = params(pool.getResult()).scales[0] *
                             static_cast<double>(k[0]) *
                             static_cast<double>(k[1]);
            ok &=
                check(pool, pool.getRescaleAttr(),
                      {params(pool.getInput()).scales[0] / divisor}, "rescale");
          })
          .Case([&](AddOp add) {
            if (!add.getLeftShift())
              return;
            AddMultipliers m = getAddMultipliers(
                params(add.getLhs()).scales[0], params(add.getRhs()).scales[0],
                params(add.getResult()).scales[0], *add.getLeftShift());
            ok &= check(add, add.getLhsRescaleAttr(), {m.lhs}, "lhs_rescale");
            ok &= check(add, add.getRhsRescaleAttr(), {m.rhs}, "rhs_rescale");
            ok &= check(add, add.getRescaleAttr(), {m.result}, "rescale");
          });
    });
    if (!ok)
      signalPassFailure();
  }
};

} // namespace
