//===- ExpandStridedCopies.cpp - copies between strided views as loops ----===//

#include "myquant/Lowering/Passes.h"
#include "myquant/Support/MathExtras.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace myquant {
#define GEN_PASS_DEF_MYQUANTEXPANDSTRIDEDCOPIES
#include "myquant/Lowering/Passes.h.inc"
} // namespace myquant

using namespace mlir;
using myquant::largestDivisorAtMost;

namespace {

class ExpandStridedCopiesPass
    : public myquant::impl::MyQuantExpandStridedCopiesBase<
          ExpandStridedCopiesPass> {
public:
  using Base::Base;

  void runOnOperation() override {
    // convert-to-llvm turns a copy between identity layouts into llvm.memcpy
    // but any other copy into a call to `memrefCopy` in
    // libmlir_c_runner_utils; loops keep compiled models self-contained.
    // (Such copies come from insert_slice, e.g. of a channel concatenation
    // in NHWC: rows of a few dozen bytes.)
    getOperation()->walk([this](memref::CopyOp copy) {
      // A VNNI kernel writing into its slice of a concatenation inserts
      // the slice it wrote back where it took it from: bufferized, a copy
      // between two identical views, which moves nothing.
      Operation *sourceView = copy.getSource().getDefiningOp();
      Operation *targetView = copy.getTarget().getDefiningOp();
      if (copy.getSource() == copy.getTarget() ||
          (sourceView && isa_and_present<memref::SubViewOp>(targetView) &&
           OperationEquivalence::isEquivalentTo(
               sourceView, targetView, OperationEquivalence::exactValueMatch,
               nullptr, OperationEquivalence::IgnoreLocations))) {
        copy.erase();
        if (targetView && targetView->use_empty())
          targetView->erase();
        return;
      }
      auto source = dyn_cast<MemRefType>(copy.getSource().getType());
      auto target = dyn_cast<MemRefType>(copy.getTarget().getType());
      if (!source || !target ||
          (source.getLayout().isIdentity() && target.getLayout().isIdentity()))
        return;
      OpBuilder builder(copy);
      if (useVectors &&
          succeeded(copyRowsAsVectors(builder, copy, source, target))) {
        copy.erase();
        return;
      }
      linalg::CopyOp::create(builder, copy.getLoc(),
                             ValueRange{copy.getSource()},
                             ValueRange{copy.getTarget()});
      copy.erase();
    });
  }

private:
  /// Static shapes whose innermost dimension is contiguous on both sides:
  /// loops over the other dimensions move each row in vectors of up to 64
  /// bytes that divide it (linalg.copy on strided views becomes scalar
  /// loops).
  static LogicalResult copyRowsAsVectors(OpBuilder &b, memref::CopyOp copy,
                                         MemRefType source, MemRefType target) {
    if (!source.hasStaticShape() || source.getRank() == 0)
      return failure();
    auto innerStride = [](MemRefType type) -> std::optional<int64_t> {
      SmallVector<int64_t> strides;
      int64_t offset;
      if (failed(type.getStridesAndOffset(strides, offset)))
        return std::nullopt;
      return strides.back();
    };
    if (innerStride(source) != 1 || innerStride(target) != 1)
      return failure();
    Type element = source.getElementType();
    // LLVM packs vector elements tightly while memrefs step by each
    // element's allocation size: they agree for power-of-two sizes of a
    // byte or more (not for i1, i24 or x86_fp80).
    if (!element.isIntOrFloat() ||
        !llvm::isPowerOf2_64(element.getIntOrFloatBitWidth()) ||
        element.getIntOrFloatBitWidth() < 8)
      return failure();
    int64_t chunk = largestDivisorAtMost(source.getShape().back(),
                                         512 / element.getIntOrFloatBitWidth());
    if (chunk < 4)
      return failure();
    Location loc = copy.getLoc();
    SmallVector<Value> lbs, ubs, steps;
    for (int64_t size : source.getShape()) {
      lbs.push_back(arith::ConstantIndexOp::create(b, loc, 0));
      ubs.push_back(arith::ConstantIndexOp::create(b, loc, size));
      steps.push_back(arith::ConstantIndexOp::create(b, loc, 1));
    }
    steps.back() = arith::ConstantIndexOp::create(b, loc, chunk);
    auto vectorType = VectorType::get({chunk}, element);
    scf::buildLoopNest(
        b, loc, lbs, ubs, steps,
        [&](OpBuilder &nb, Location nloc, ValueRange ivs) {
          Value padding = ub::PoisonOp::create(nb, nloc, element);
          Value v = vector::TransferReadOp::create(
              nb, nloc, vectorType, copy.getSource(), ivs, padding,
              ArrayRef<bool>{true});
          vector::TransferWriteOp::create(nb, nloc, v, copy.getTarget(), ivs,
                                          ArrayRef<bool>{true});
        });
    return success();
  }
};

} // namespace
