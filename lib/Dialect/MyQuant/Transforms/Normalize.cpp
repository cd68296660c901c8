//===- Normalize.cpp - equivalent float forms to the recognized ones ------===//
//
// Other frontends (torch-mlir, TOSA through the upstream conversions) write
// the same computations as myquant's exporter with different ops. These
// patterns rewrite them, preserving semantics, into the forms FloatGraph's
// recognizers know, so that the dry run sees one form per computation.
//
//===----------------------------------------------------------------------===//

#include "myquant/Dialect/MyQuant/Transforms/Passes.h"
#include "myquant/Dialect/MyQuant/Utils/FloatGraph.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace myquant {
#define GEN_PASS_DEF_MYQUANTNORMALIZE
#include "myquant/Dialect/MyQuant/Transforms/Passes.h.inc"
} // namespace myquant

using namespace mlir;
using namespace myquant;

namespace {

bool isScalarFloatConstant(Value value) {
  FloatAttr attr;
  return matchPattern(value, m_Constant(&attr)) && !attr.getValue().isNaN();
}

/// `select(x > c, x, c)` and its variants (either comparison order, either
/// predicate direction, ordered or not) as the max or min they compute:
/// torch-mlir's relu and clamp. A NaN `x` selects the branch the unordered
/// predicate picks; the NaN-propagating maximumf/minimumf reproduce a NaN
/// result, maxnumf/minnumf a `c` result.
struct SelectToMinMax : OpRewritePattern<arith::SelectOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(arith::SelectOp select,
                                PatternRewriter &rewriter) const override {
    if (!isa<FloatType>(select.getType()))
      return failure();
    auto cmp = select.getCondition().getDefiningOp<arith::CmpFOp>();
    if (!cmp)
      return failure();
    using P = arith::CmpFPredicate;
    P pred = cmp.getPredicate();
    bool greater = llvm::is_contained({P::OGT, P::OGE, P::UGT, P::UGE}, pred);
    bool less = llvm::is_contained({P::OLT, P::OLE, P::ULT, P::ULE}, pred);
    bool unordered = llvm::is_contained({P::UGT, P::UGE, P::ULT, P::ULE}, pred);
    if (!greater && !less)
      return failure();
    Value x = cmp.getLhs(), c = cmp.getRhs();
    if (isScalarFloatConstant(x) && !isScalarFloatConstant(c)) {
      std::swap(x, c);
      std::swap(greater, less);
    }
    if (!isScalarFloatConstant(c))
      return failure();
    bool xFirst = select.getTrueValue() == x && select.getFalseValue() == c;
    bool cFirst = select.getTrueValue() == c && select.getFalseValue() == x;
    if (!xFirst && !cFirst)
      return failure();
    // x when x > c (or c when x < c) is the maximum.
    bool isMax = greater == xFirst;
    // A NaN x takes the true branch under an unordered predicate.
    bool nanGivesX = unordered == xFirst;
    Value result;
    Location loc = select.getLoc();
    if (isMax && nanGivesX)
      result = arith::MaximumFOp::create(rewriter, loc, x, c);
    else if (isMax)
      result = arith::MaxNumFOp::create(rewriter, loc, x, c);
    else if (nanGivesX)
      result = arith::MinimumFOp::create(rewriter, loc, x, c);
    else
      result = arith::MinNumFOp::create(rewriter, loc, x, c);
    rewriter.replaceOp(select, result);
    return success();
  }
};

/// A map result that is the constant 0 on a loop dimension of size 1 reads
/// the same element as that loop dimension: torch-mlir's `(0, d1, d2, d3)`
/// for a batch-1 operand becomes the identity the recognizers expect.
struct ConstantIndexToLoopDim : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp generic,
                                PatternRewriter &rewriter) const override {
    if (!generic.hasPureTensorSemantics())
      return failure();
    SmallVector<int64_t> ranges = generic.getStaticLoopRanges();
    SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
    bool changed = false;
    for (AffineMap &map : maps) {
      if (map.getNumResults() != map.getNumDims() || map.getNumSymbols() != 0)
        continue;
      SmallVector<AffineExpr> results(map.getResults());
      for (auto [j, expr] : llvm::enumerate(results)) {
        auto constant = dyn_cast<AffineConstantExpr>(expr);
        if (!constant || constant.getValue() != 0 || ranges[j] != 1 ||
            map.isFunctionOfDim(j))
          continue;
        expr = rewriter.getAffineDimExpr(j);
        changed = true;
      }
      map = AffineMap::get(map.getNumDims(), 0, results, getContext());
    }
    if (!changed)
      return failure();
    rewriter.modifyOpInPlace(generic, [&] {
      generic.setIndexingMapsAttr(rewriter.getAffineMapArrayAttr(maps));
    });
    return success();
  }
};

bool isComputeAnchor(Operation *op) {
  return op && (isa<linalg::ConvolutionOpInterface>(op) ||
                isa<linalg::MatmulOp, linalg::BatchMatmulOp>(op));
}

/// The one result dimension a broadcast of a 1-D tensor keeps.
std::optional<int64_t> keptDim(linalg::BroadcastOp broadcast) {
  if (broadcast.getInput().getType().getRank() != 1)
    return std::nullopt;
  int64_t rank = broadcast.getInit().getType().getRank();
  for (int64_t d = 0; d < rank; ++d)
    if (!llvm::is_contained(broadcast.getDimensions(), d))
      return d;
  return std::nullopt;
}

/// The map `(d0, ..., dn) -> (dk)`.
AffineMap readDim(unsigned rank, int64_t dim, MLIRContext *ctx) {
  return AffineMap::get(rank, 0, getAffineDimExpr(dim, ctx), ctx);
}

/// A 1-D bias broadcast by `linalg.broadcast` into the accumulator of a
/// convolution or matmul, as the generic copy the recognizers know.
struct BroadcastBiasInit : OpRewritePattern<linalg::BroadcastOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::BroadcastOp broadcast,
                                PatternRewriter &rewriter) const override {
    std::optional<int64_t> dim = keptDim(broadcast);
    if (!dim || !broadcast.hasPureTensorSemantics() ||
        broadcast->getNumResults() != 1)
      return failure();
    Value result = broadcast->getResult(0);
    for (OpOperand &use : result.getUses()) {
      auto user = dyn_cast<linalg::LinalgOp>(use.getOwner());
      if (!user || !isComputeAnchor(user) || !user.isDpsInit(&use))
        return failure();
    }
    rewriter.replaceOp(broadcast, broadcastGeneric(rewriter, broadcast.getLoc(),
                                                   broadcast.getInput(),
                                                   broadcast.getInit(), *dim));
    return success();
  }

  static Value broadcastGeneric(PatternRewriter &rewriter, Location loc,
                                Value input, Value init, int64_t dim) {
    auto type = cast<RankedTensorType>(init.getType());
    unsigned rank = type.getRank();
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<AffineMap> maps = {
        readDim(rank, dim, ctx), AffineMap::getMultiDimIdentityMap(rank, ctx)};
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, type, input, init, maps, iterators,
        [](OpBuilder &b, Location l, ValueRange args) {
          linalg::YieldOp::create(b, l, args[0]);
        });
    return generic->getResult(0);
  }
};

/// `conv + broadcast(b)` (in either order) where `b` is 1-D: the add reads
/// `b` through its map instead, with the convolution first, which is the
/// bias add the recognizers fuse into the convolution.
struct FoldBiasBroadcastIntoAdd : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp generic,
                                PatternRewriter &rewriter) const override {
    if (generic.getNumDpsInputs() != 2 || generic.getNumDpsInits() != 1 ||
        generic.getNumReductionLoops() != 0 ||
        !generic.hasPureTensorSemantics())
      return failure();
    Block &body = generic.getRegion().front();
    auto add =
        body.getTerminator()->getOperand(0).getDefiningOp<arith::AddFOp>();
    auto isArg = [&](Value v, unsigned i) { return v == body.getArgument(i); };
    if (!add || !((isArg(add.getLhs(), 0) && isArg(add.getRhs(), 1)) ||
                  (isArg(add.getLhs(), 1) && isArg(add.getRhs(), 0))))
      return failure();
    SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
    for (unsigned b = 0; b < 2; ++b) {
      Value other = generic.getDpsInputs()[1 - b];
      auto broadcast =
          generic.getDpsInputs()[b].getDefiningOp<linalg::BroadcastOp>();
      std::optional<int64_t> dim =
          broadcast ? keptDim(broadcast) : std::nullopt;
      if (!dim || !maps[b].isIdentity() || !maps[2].isIdentity() ||
          !isComputeAnchor(other.getDefiningOp()))
        continue;
      unsigned rank = maps[2].getNumDims();
      SmallVector<AffineMap> newMaps = {
          maps[1 - b], readDim(rank, *dim, getContext()), maps[2]};
      auto newGeneric = linalg::GenericOp::create(
          rewriter, generic.getLoc(), generic->getResultTypes(),
          ValueRange{other, broadcast.getInput()}, generic.getDpsInits(),
          newMaps, generic.getIteratorTypesArray(),
          [](OpBuilder &builder, Location loc, ValueRange args) {
            Value sum = arith::AddFOp::create(builder, loc, args[0], args[1]);
            linalg::YieldOp::create(builder, loc, sum);
          });
      rewriter.replaceOp(generic, newGeneric->getResults());
      return success();
    }
    return failure();
  }
};

struct NormalizePass : myquant::impl::MyQuantNormalizeBase<NormalizePass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<SelectToMinMax, ConstantIndexToLoopDim, BroadcastBiasInit,
                 FoldBiasBroadcastIntoAdd>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
