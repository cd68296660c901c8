//===- ShareLinalg.cpp - the large linalg ops, one tile per thread --------===//
//
// The ops left to the generic lowering, shared between the threads as the
// kernels are (see Passes.td).
//
//===----------------------------------------------------------------------===//

#include "myquant/Dialect/MyQuant/Utils/ParallelBatch.h"
#include "myquant/Lowering/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Linalg/Utils/Utils.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

namespace myquant {
#define GEN_PASS_DEF_MYQUANTSHARELINALG
#include "myquant/Lowering/Passes.h.inc"
} // namespace myquant

using namespace mlir;

namespace {

/// The result bytes per thread below which an op stays on one thread: an
/// empty OpenMP region costs about what one thread takes to copy them
/// (the padding copies' limit, kThreadMinCopyBytes in InputPreparation).
constexpr int64_t kThreadMinBytes = 32 * 1024;

/// The loop of `op` to cut into `threads` tiles, if it is worth sharing:
/// the outermost the threads divide, else the outermost they can share.
std::optional<unsigned> chooseSharedLoop(linalg::LinalgOp op, int64_t threads) {
  if (op->getNumResults() != 1 || !op.hasPureTensorSemantics())
    return std::nullopt;
  auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!type || !type.hasStaticShape() || type.getRank() == 0 ||
      !type.getElementType().isIntOrFloat())
    return std::nullopt;
  int64_t bytes = type.getNumElements() *
                  llvm::divideCeil(type.getElementTypeBitWidth(), 8);
  if (bytes < kThreadMinBytes * threads)
    return std::nullopt;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  // A loop of no iterations (a 0 x 3 pooling window): nothing to share,
  // and upstream's tiling crashes computing its tile sizes.
  if (llvm::any_of(ranges, ShapedType::isDynamic) ||
      llvm::is_contained(ranges, 0))
    return std::nullopt;
  AffineMap result = op.getIndexingMapMatchingResult(op->getResult(0));
  auto inner = dyn_cast<AffineDimExpr>(result.getResults().back());
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  std::optional<unsigned> uneven;
  for (unsigned loop = 0; loop < ranges.size(); ++loop) {
    if (!linalg::isParallelIterator(iterators[loop]) ||
        (inner && inner.getPosition() == loop) || ranges[loop] < threads)
      continue;
    if (ranges[loop] % threads == 0)
      return loop;
    if (!uneven)
      uneven = loop;
  }
  return uneven;
}

/// Splits `op` along `loop` at `point` and returns the first part. A fill
/// that initializes the result (the max pool's) is split with it: each part
/// fills its own slice, so the tiles of the first compute theirs.
TilingInterface splitWithInit(RewriterBase &rewriter, linalg::LinalgOp op,
                              unsigned loop, int64_t point) {
  OpOperand &init = op.getDpsInitsMutable()[0];
  auto fill = init.get().getDefiningOp<linalg::FillOp>();
  if (fill && fill->hasOneUse())
    rewriter.modifyOpInPlace(op, [&] { init.set(fill.getOutputs()[0]); });
  else
    fill = nullptr;
  auto [first, second] =
      linalg::splitOp(rewriter, cast<TilingInterface>(op.getOperation()), loop,
                      rewriter.getIndexAttr(point));
  if (fill) {
    for (Operation *part : {first.getOperation(), second.getOperation()}) {
      OpOperand &partInit =
          cast<DestinationStyleOpInterface>(part).getDpsInitsMutable()[0];
      rewriter.setInsertionPoint(part);
      Value filled = linalg::FillOp::create(rewriter, fill.getLoc(),
                                            fill.getInputs(), partInit.get())
                         .getResult(0);
      rewriter.modifyOpInPlace(part, [&] { partInit.set(filled); });
    }
    rewriter.eraseOp(fill);
  }
  return first;
}

struct ShareLinalgPass
    : public myquant::impl::MyQuantShareLinalgBase<ShareLinalgPass> {
  using Base::Base;

  void runOnOperation() override {
    if (failed(myquant::checkPositiveOption(getOperation(), getArgument(),
                                            "threads", threads)))
      return signalPassFailure();
    if (threads == 1)
      return;
    myquant::ParallelBatchBodies bodies(getOperation());
    SmallVector<std::pair<linalg::LinalgOp, unsigned>> shared;
    getOperation()->walk([&](linalg::LinalgOp op) {
      if (isa<linalg::FillOp>(op) || bodies.runsInParallelBatch(op))
        return;
      if (std::optional<unsigned> loop = chooseSharedLoop(op, threads))
        shared.emplace_back(op, *loop);
    });
    IRRewriter rewriter(&getContext());
    for (auto [linalgOp, loop] : shared) {
      auto op = cast<TilingInterface>(linalgOp.getOperation());
      rewriter.setInsertionPoint(op);
      int64_t range = linalgOp.getStaticLoopRanges()[loop];
      SmallVector<int64_t> tileSizes(linalgOp.getNumLoops(), 0);
      // The threads share the iterations they divide; the last few (fewer
      // than the threads) are split off to run on one thread after them.
      int64_t rest = range % threads;
      if (rest != 0)
        op = splitWithInit(rewriter, linalgOp, loop, range - rest);
      tileSizes[loop] = (range - rest) / threads;
      scf::SCFTileAndFuseOptions options;
      options.tilingOptions.setTileSizes(
          getAsIndexOpFoldResult(&getContext(), tileSizes));
      options.setFusionControlFn(
          [](tensor::ExtractSliceOp, OpResult producer, bool)
              -> std::optional<scf::SCFTileAndFuseOptions::ControlFnResult> {
            if (isa<linalg::FillOp>(producer.getOwner()))
              return scf::SCFTileAndFuseOptions::ControlFnResult{};
            return std::nullopt;
          });
      rewriter.setInsertionPoint(op);
      FailureOr<scf::SCFTileAndFuseResult> tiled =
          scf::tileConsumerAndFuseProducersUsingSCF(rewriter, op, options);
      if (failed(tiled) || tiled->loops.size() != 1)
        continue;
      myquant::markParallelBatch(tiled->loops.front());
      Value result = op->getResult(0);
      rewriter.replaceAllUsesWith(result, tiled->replacements.lookup(result));
      rewriter.eraseOp(op);
      for (Operation *producer : tiled->fusedProducers)
        if (producer->use_empty())
          rewriter.eraseOp(producer);
    }
  }
};

} // namespace
