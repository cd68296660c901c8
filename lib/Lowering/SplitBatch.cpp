//===- SplitBatch.cpp - the per-image layers a few images at a time -------===//
//
// At batch 16 each kernel writes the activations of all 16 images before
// the next one reads them, from L3 or memory; run one image at a time, a
// layer's activations stay in L2 for the next (see Passes.td).
//
//===----------------------------------------------------------------------===//

#include "myquant/Dialect/MyQuant/IR/MyQuantOps.h"
#include "myquant/Dialect/MyQuant/Utils/ParallelBatch.h"
#include "myquant/Lowering/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/SetVector.h"

namespace myquant {
#define GEN_PASS_DEF_MYQUANTSPLITBATCH
#include "myquant/Lowering/Passes.h.inc"
} // namespace myquant

using namespace mlir;
using namespace myquant;

namespace {

/// Whether `type` is a static tensor of batch `batch` (dimension 0) that no
/// per-axis quantization ties to the batch index.
bool isBatched(Type type, int64_t batch) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape() || tensor.getRank() == 0 ||
      tensor.getDimSize(0) != batch)
    return false;
  auto perAxis =
      dyn_cast<quant::UniformQuantizedPerAxisType>(tensor.getElementType());
  return !perAxis || perAxis.getQuantizedDimension() != 0;
}

/// Whether `op` computes each image of its results from that image of its
/// operands alone, for the operands at `perImage` (the others invariant).
bool isPerImage(Operation *op, SmallVectorImpl<unsigned> &perImage) {
  perImage.clear();
  if (isa<Conv2DOp>(op)) {
    perImage.push_back(0);
    return true;
  }
  if (auto concat = dyn_cast<ConcatOp>(op); concat && concat.getDim() == 0)
    return false;
  if (auto requantize = dyn_cast<RequantizeOp>(op);
      requantize && requantize.getFactorAxis() == 0)
    return false;
  if (!isa<MaxPool2DOp, AvgPool2DOp, AddOp, MulOp, ConcatOp, ClampOp, TableOp,
           RequantizeOp, QuantizeOp, DequantizeOp, quant::StorageCastOp>(op))
    return false;
  for (unsigned i = 0, e = op->getNumOperands(); i < e; ++i)
    perImage.push_back(i);
  return true;
}

struct SplitBatchPass
    : public myquant::impl::MyQuantSplitBatchBase<SplitBatchPass> {
  using Base::Base;

  void runOnOperation() override {
    if (failed(myquant::checkPositiveOption(getOperation(), getArgument(),
                                            "images", images)) ||
        failed(myquant::checkPositiveOption(getOperation(), getArgument(),
                                            "threads", threads)))
      return signalPassFailure();
    if (maxWeightBytes <= 0)
      return;
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (!func.isExternal() && func.getBody().hasOneBlock())
        split(func);
  }

  /// The constants' bytes in `func`.
  static int64_t constantBytes(func::FuncOp func) {
    int64_t bytes = 0;
    func.walk([&](arith::ConstantOp constant) {
      if (auto type = dyn_cast<ShapedType>(constant.getType());
          type && type.hasStaticShape())
        bytes += type.getNumElements() *
                 llvm::divideCeil(type.getElementTypeBitWidth(), 8);
    });
    return bytes;
  }

  void split(func::FuncOp func) {
    Block &body = func.getBody().front();
    if (body.getNumArguments() == 0)
      return;
    auto first = dyn_cast<RankedTensorType>(body.getArgument(0).getType());
    if (!first || first.getRank() == 0 ||
        !isBatched(first, first.getDimSize(0)))
      return;
    int64_t batch = first.getDimSize(0);
    // Several threads share the iterations evenly, or the kernels' own
    // loops instead.
    if (batch <= images || batch % images != 0 ||
        (batch / images) % threads != 0 || constantBytes(func) > maxWeightBytes)
      return;

    // `derived`: values computed from the batched arguments; `perImage`:
    // those of them the loop computes (the batched arguments first).
    DenseSet<Value> derived, perImage;
    // Quantized arguments would need storage casts around their slices:
    // entry points take floats or integers.
    auto isQuantized = [](Type type) {
      return isa<quant::QuantizedType>(
          cast<RankedTensorType>(type).getElementType());
    };
    for (BlockArgument arg : body.getArguments())
      if (isBatched(arg.getType(), batch) && !isQuantized(arg.getType())) {
        derived.insert(arg);
        perImage.insert(arg);
      }
    // The ops the loop runs, in order; and the invariant ones before it.
    SmallVector<Operation *> loopOps, invariantOps;
    SmallVector<unsigned> imageOperands;
    bool hasConv = false;
    for (Operation &op : body.without_terminator()) {
      bool fromBatch = llvm::any_of(
          op.getOperands(), [&](Value v) { return derived.contains(v); });
      if (!fromBatch) {
        // Moved before the loop: only side-effect-free ops.
        if (!isMemoryEffectFree(&op) || op.getNumRegions() != 0)
          return;
        invariantOps.push_back(&op);
        continue;
      }
      bool inLoop = isMemoryEffectFree(&op) && op.getNumRegions() == 0 &&
                    isPerImage(&op, imageOperands);
      for (unsigned i = 0, e = op.getNumOperands(); inLoop && i < e; ++i) {
        Value v = op.getOperand(i);
        inLoop = llvm::is_contained(imageOperands, i) ? perImage.contains(v)
                                                      : !derived.contains(v);
      }
      inLoop = inLoop && llvm::all_of(op.getResultTypes(), [&](Type type) {
                 return isBatched(type, batch);
               });
      for (Value result : op.getResults()) {
        derived.insert(result);
        if (inLoop)
          perImage.insert(result);
      }
      if (inLoop) {
        loopOps.push_back(&op);
        hasConv |= isa<Conv2DOp>(&op);
      }
    }
    if (!hasConv)
      return;

    // The invariant ops first, then the loop, then the ops left at the
    // full batch in their order.
    for (Operation *op : llvm::reverse(invariantOps))
      op->moveBefore(&body, body.begin());
    Operation *after = invariantOps.empty() ? nullptr : invariantOps.back();
    OpBuilder b(func.getContext());
    if (after)
      b.setInsertionPointAfter(after);
    else
      b.setInsertionPointToStart(&body);
    Location loc = func.getLoc();

    DenseSet<Operation *> inLoop(loopOps.begin(), loopOps.end());
    // The loop's results: its values read after it.
    SetVector<Value> escaping;
    for (Operation *op : loopOps)
      for (Value result : op->getResults())
        for (Operation *user : result.getUsers())
          if (!inLoop.contains(user))
            escaping.insert(result);
    // The loop carries storage types: the conversions of myquant ops to
    // integers do not convert scf.for.
    auto storageType = [](Type type) {
      auto tensor = cast<RankedTensorType>(type);
      if (auto quantized =
              dyn_cast<quant::QuantizedType>(tensor.getElementType()))
        return tensor.clone(quantized.getStorageType());
      return tensor;
    };
    SmallVector<Value> inits;
    for (Value v : escaping) {
      RankedTensorType type = storageType(v.getType());
      inits.push_back(tensor::EmptyOp::create(b, loc, type.getShape(),
                                              type.getElementType()));
    }
    auto zero = arith::ConstantIndexOp::create(b, loc, 0);
    auto upper = arith::ConstantIndexOp::create(b, loc, batch);
    auto step = arith::ConstantIndexOp::create(b, loc, images);
    auto loop = scf::ForOp::create(b, loc, zero, upper, step, inits);
    // Each thread then runs whole images through the layers, the kernels
    // inside on that thread alone (convert-myquant-to-vnni).
    if (threads > 1)
      markParallelBatch(loop);
    Value iv = loop.getInductionVar();

    // Offsets and sizes of one slice of `type`.
    auto slice = [&](RankedTensorType type, SmallVector<OpFoldResult> &offsets,
                     SmallVector<OpFoldResult> &sizes,
                     SmallVector<OpFoldResult> &strides) {
      offsets.assign(type.getRank(), b.getIndexAttr(0));
      offsets[0] = iv;
      sizes.clear();
      for (int64_t size : type.getShape())
        sizes.push_back(b.getIndexAttr(size));
      sizes[0] = b.getIndexAttr(images);
      strides.assign(type.getRank(), b.getIndexAttr(1));
    };
    auto sliceType = [&](Type type) {
      auto tensor = cast<RankedTensorType>(type);
      SmallVector<int64_t> shape(tensor.getShape());
      shape[0] = images;
      return tensor.clone(shape);
    };

    // Yields the slices written, set below.
    b.setInsertionPointToStart(loop.getBody());
    auto yield = scf::YieldOp::create(b, loc, loop.getRegionIterArgs());
    b.setInsertionPoint(yield);
    SmallVector<OpFoldResult> offsets, sizes, strides;
    for (BlockArgument arg : body.getArguments()) {
      if (!perImage.contains(arg))
        continue;
      auto type = cast<RankedTensorType>(arg.getType());
      slice(type, offsets, sizes, strides);
      Value part = tensor::ExtractSliceOp::create(
          b, loc, cast<RankedTensorType>(sliceType(type)), arg, offsets, sizes,
          strides);
      arg.replaceUsesWithIf(part, [&](OpOperand &use) {
        return inLoop.contains(use.getOwner());
      });
    }
    for (Operation *op : loopOps) {
      op->moveBefore(yield);
      for (Value result : op->getResults())
        result.setType(sliceType(result.getType()));
    }
    b.setInsertionPoint(yield);
    SmallVector<Value> written;
    for (auto [v, dest] : llvm::zip(escaping, loop.getRegionIterArgs())) {
      auto type = cast<RankedTensorType>(dest.getType());
      slice(type, offsets, sizes, strides);
      Value part = v;
      if (part.getType() != storageType(part.getType()))
        part = quant::StorageCastOp::create(b, loc, storageType(part.getType()),
                                            part);
      written.push_back(tensor::InsertSliceOp::create(b, loc, part, dest,
                                                      offsets, sizes, strides));
    }
    yield->setOperands(written);
    b.setInsertionPointAfter(loop);
    for (auto [v, result] : llvm::zip(escaping, loop.getResults())) {
      auto wholeType =
          cast<RankedTensorType>(result.getType())
              .clone(cast<RankedTensorType>(v.getType()).getElementType());
      Value whole = result;
      if (wholeType != result.getType())
        whole = quant::StorageCastOp::create(b, loc, wholeType, result);
      Value(v).replaceUsesWithIf(whole, [&](OpOperand &use) {
        return !loop->isAncestor(use.getOwner());
      });
    }
  }
};

} // namespace
