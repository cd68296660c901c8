//===- IntegerSignature.cpp - quantized function arguments and results ----===//

#include "myquant/Dialect/MyQuant/IR/MyQuantOps.h"
#include "myquant/Dialect/MyQuant/IR/MyQuantTypeUtils.h"
#include "myquant/Dialect/MyQuant/Transforms/Passes.h"

namespace myquant {
#define GEN_PASS_DEF_MYQUANTINTEGERSIGNATURE
#include "myquant/Dialect/MyQuant/Transforms/Passes.h.inc"
} // namespace myquant

using namespace mlir;
using namespace myquant;

namespace {

/// `{scale, zero_point}` of a per-tensor quantized type.
DictionaryAttr describe(Builder &b, Type type) {
  QuantParams params = *getQuantParams(type);
  return b.getDictionaryAttr(
      {b.getNamedAttr("scale", b.getF64FloatAttr(params.scales[0])),
       b.getNamedAttr("zero_point",
                      b.getI64IntegerAttr(params.zeroPoints[0]))});
}

struct IntegerSignaturePass
    : myquant::impl::MyQuantIntegerSignatureBase<IntegerSignaturePass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    // The results are rewritten at the one return: control flow would need
    // every block's types changed.
    if (!func.getBody().hasOneBlock()) {
      func.emitOpError() << "has " << func.getBody().getBlocks().size()
                         << " blocks; myquant-integer-signature supports "
                            "single-block functions";
      return signalPassFailure();
    }
    Builder b(func.getContext());
    Block &entry = func.getBody().front();
    SmallVector<Type> inputs, results;
    SmallVector<Attribute> inputParams, outputParams;
    bool failedAny = false;

    for (BlockArgument arg : func.getArguments()) {
      Type quantized;
      bool movable = !arg.use_empty();
      for (Operation *user : arg.getUsers()) {
        auto quantize = dyn_cast<QuantizeOp>(user);
        if (!quantize || (quantized && quantize.getType() != quantized) ||
            !getQuantParams(quantize.getType())->isPerTensor()) {
          movable = false;
          break;
        }
        quantized = quantize.getType();
      }
      if (!movable) {
        func.emitError() << "argument #" << arg.getArgNumber()
                         << " is not only quantized with one per-tensor "
                            "type; it cannot become an integer argument";
        failedAny = true;
        continue;
      }
      for (Operation *user : llvm::make_early_inc_range(arg.getUsers())) {
        user->getResult(0).replaceAllUsesWith(arg);
        user->erase();
      }
      arg.setType(quantized);
      inputs.push_back(quantized);
      inputParams.push_back(describe(b, quantized));
    }

    auto ret = cast<func::ReturnOp>(entry.getTerminator());
    for (OpOperand &operand : ret->getOpOperands()) {
      auto dequantize = operand.get().getDefiningOp<DequantizeOp>();
      if (!dequantize ||
          !getQuantParams(dequantize.getInput().getType())->isPerTensor()) {
        ret.emitError() << "result #" << operand.getOperandNumber()
                        << " is not produced by a per-tensor dequantize; it "
                           "cannot become an integer result";
        failedAny = true;
        continue;
      }
      operand.set(dequantize.getInput());
      if (dequantize->use_empty())
        dequantize->erase();
      results.push_back(operand.get().getType());
      outputParams.push_back(describe(b, operand.get().getType()));
    }
    if (failedAny)
      return signalPassFailure();
    func.setFunctionType(b.getFunctionType(inputs, results));
    func->setAttr(MyQuantDialect::InputQparamsAttrHelper::getNameStr(),
                  b.getArrayAttr(inputParams));
    func->setAttr(MyQuantDialect::OutputQparamsAttrHelper::getNameStr(),
                  b.getArrayAttr(outputParams));
  }
};

} // namespace
