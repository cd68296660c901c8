//===- VerifyIntegerOnly.cpp - reject float compute in quantized code -----===//

#include "myquant/Dialect/MyQuant/IR/MyQuantOps.h"
#include "myquant/Dialect/MyQuant/Transforms/Passes.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/TypeUtilities.h"

namespace myquant {
#define GEN_PASS_DEF_MYQUANTVERIFYINTEGERONLY
#include "myquant/Dialect/MyQuant/Transforms/Passes.h.inc"
} // namespace myquant

using namespace mlir;
using namespace myquant;

/// Float element types count; quantized types do not (their storage is
/// integer, the expressed type only documents what the integers mean).
static bool isFloatLike(Type type) {
  Type element = getElementTypeOrSelf(type);
  if (auto complex = dyn_cast<ComplexType>(element))
    element = complex.getElementType();
  return isa<FloatType>(element);
}

static bool hasFloatAttr(Operation *op) {
  return llvm::any_of(op->getAttrs(), [](NamedAttribute attr) {
    Attribute value = attr.getValue();
    if (isa<FloatAttr>(value))
      return true;
    if (auto typed = dyn_cast<TypedAttr>(value))
      return isFloatLike(typed.getType());
    return false;
  });
}

/// A rescale op whose multipliers are all precomputed: its float attributes
/// (a requantize's `factor`, `factors`) only determined them, like the scales
/// of its quantized types, and run time never reads them.
static bool hasPrecomputedRescales(Operation *op) {
  auto rescaleOp = dyn_cast<RescaleOpInterface>(op);
  return rescaleOp &&
         llvm::all_of(rescaleOp.getRescaleSlots(), [](const RescaleSlot &slot) {
           return static_cast<bool>(slot.rescale);
         });
}

/// Describes the first float type `op` touches, or returns an empty string.
static std::string describeFloatUse(Operation *op) {
  std::string text;
  llvm::raw_string_ostream os(text);
  for (auto [i, type] : llvm::enumerate(op->getOperandTypes()))
    if (isFloatLike(type)) {
      os << "operand #" << i << " has type " << type;
      return text;
    }
  for (auto [i, type] : llvm::enumerate(op->getResultTypes()))
    if (isFloatLike(type)) {
      os << "result #" << i << " has type " << type;
      return text;
    }
  for (Region &region : op->getRegions())
    for (Block &block : region)
      for (BlockArgument arg : block.getArguments())
        if (isFloatLike(arg.getType())) {
          os << "a region argument has type " << arg.getType();
          return text;
        }
  if (hasFloatAttr(op) && !hasPrecomputedRescales(op))
    os << "it has a floating-point attribute";
  return text;
}

namespace {
struct VerifyIntegerOnlyPass
    : myquant::impl::MyQuantVerifyIntegerOnlyBase<VerifyIntegerOnlyPass> {
  using Base::Base;

  /// The float edge of the model: quantizing an argument, or dequantizing
  /// a value that is only returned.
  bool isBoundary(Operation *op) const {
    if (!allowFloatBoundary)
      return false;
    if (auto quantize = dyn_cast<QuantizeOp>(op))
      return isa<BlockArgument>(quantize.getInput());
    if (auto dequantize = dyn_cast<DequantizeOp>(op))
      return !dequantize->use_empty() &&
             llvm::all_of(dequantize->getUsers(), [](Operation *user) {
               return isa<func::ReturnOp>(user);
             });
    return false;
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    bool failedAny = false;
    if (!allowFloatBoundary) {
      for (auto [i, type] : llvm::enumerate(func.getFunctionType().getInputs()))
        if (isFloatLike(type)) {
          func.emitError() << "argument #" << i << " of '" << func.getSymName()
                           << "' has float type " << type
                           << "; an integer-only function takes integers";
          failedAny = true;
        }
      for (auto [i, type] :
           llvm::enumerate(func.getFunctionType().getResults()))
        if (isFloatLike(type)) {
          func.emitError() << "result #" << i << " of '" << func.getSymName()
                           << "' has float type " << type
                           << "; an integer-only function returns integers";
          failedAny = true;
        }
    }
    func.getBody().walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (isa<func::ReturnOp>(op) || isBoundary(op))
        return WalkResult::advance();
      std::string use = describeFloatUse(op);
      if (use.empty())
        return WalkResult::advance();
      op->emitError() << "'" << op->getName()
                      << "' computes in floating point inside the quantized "
                         "region: "
                      << use;
      failedAny = true;
      // One report per op: what is nested inside is part of the same fault.
      return WalkResult::skip();
    });
    if (failedAny)
      signalPassFailure();
  }
};
} // namespace
