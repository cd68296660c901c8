//===- VectorizeLinalg.cpp - tile and vectorize linalg on tensors ---------===//
//
// Without this pass every linalg op the VNNI kernels do not take becomes
// scalar loops. Upstream's vectorizer handles ops whose indexing maps are
// projected permutations (and 1-D convolutions); here every op is first
// generalized and tiled so that each tile is one of those: window loops
// (the `kh` of `oh + kh`) get a tile of one and are dropped, which leaves
// plain indices. One schedule covers matmuls, NCHW/NHWC convolutions,
// pools and element-wise ops, float and integer alike.
//
//===----------------------------------------------------------------------===//

#include "myquant/Support/MathExtras.h"
#include "myquant/Transforms/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/Dominance.h"
#include "mlir/Transforms/CSE.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"

namespace myquant {
#define GEN_PASS_DEF_MYQUANTVECTORIZELINALG
#include "myquant/Transforms/Passes.h.inc"
} // namespace myquant

using namespace mlir;
using myquant::largestDivisorAtMost;

namespace {

/// Register rows of a contraction's result kept in registers: with two
/// vectors per row, 16 accumulators, half of AVX-512's register file.
constexpr int64_t kContractionRows = 8;

/// Fewest elements worth a vector.
constexpr int64_t kMinVectorSize = 8;

/// Bits of the widest scalar the op computes with (operands and body).
unsigned widestElementBits(linalg::GenericOp op) {
  unsigned bits = 8;
  auto widen = [&](Type type) {
    if (type.isIntOrFloat())
      bits = std::max(bits, type.getIntOrFloatBitWidth());
    else if (type.isIndex())
      bits = std::max(bits, 64u);
  };
  for (Value operand : op->getOperands())
    widen(getElementTypeOrSelf(operand.getType()));
  op.getBody()->walk([&](Operation *inner) {
    for (Type type : inner->getResultTypes())
      widen(type);
  });
  return bits;
}

/// How one op is tiled: a tile size per loop (0 = the whole loop), the loop
/// order, and the loops that are unit after tiling and then dropped.
struct TilePlan {
  SmallVector<int64_t> tileSizes;
  SmallVector<int64_t> interchange;
  SmallVector<unsigned> dropped;
};

/// What the tiling plan needs to know about a generic's loops.
struct LoopInfo {
  linalg::GenericOp op;
  SmallVector<int64_t> ranges;
  SmallVector<utils::IteratorType> iterators;
  SmallVector<AffineMap> maps;
  /// Loops used in a compound index (`oh + kh`, `2 * ow`): they get a tile
  /// of one and are dropped, so the tile's indices become plain loops.
  llvm::SmallBitVector compound;
  /// The last reduction loop indexed plainly.
  std::optional<unsigned> reductionLoop;
  /// A float multiply-accumulate, which keeps its reduction loop.
  bool contraction = false;
};

LoopInfo analyzeLoops(linalg::GenericOp op) {
  LoopInfo info{op,
                op.getStaticLoopRanges(),
                op.getIteratorTypesArray(),
                op.getIndexingMapsArray(),
                {},
                std::nullopt,
                false};
  unsigned numLoops = info.ranges.size();
  info.compound.resize(numLoops);
  for (AffineMap map : info.maps)
    for (AffineExpr expr : map.getResults())
      if (!isa<AffineDimExpr, AffineConstantExpr>(expr))
        expr.walk([&](AffineExpr e) {
          if (auto dim = dyn_cast<AffineDimExpr>(e))
            info.compound.set(dim.getPosition());
        });
  // Keeping the (unit) reduction loop of a contraction makes the
  // vectorizer emit a multiply-reduction, which becomes vector.contract and
  // then FMAs. That lowering needs one float type; integer code (which has
  // no FMA) drops the loop too and becomes element-wise multiplies and adds.
  Type elementType = getElementTypeOrSelf(op.getDpsInits()[0].getType());
  bool fma = isa<FloatType>(elementType) &&
             llvm::all_of(op.getDpsInputs(), [&](Value input) {
               return getElementTypeOrSelf(input.getType()) == elementType;
             });
  for (unsigned loop = 0; loop < numLoops; ++loop)
    if (linalg::isReductionIterator(info.iterators[loop]) &&
        !info.compound.test(loop))
      info.reductionLoop = loop;
  info.contraction = fma && info.reductionLoop;
  return info;
}

/// Whether every operand that depends on `loop` indexes it plainly once
/// the windows are zero (innermost, with `innermostOnly`): a vector along
/// it is then read contiguously.
bool isVectorLoop(const LoopInfo &info, unsigned loop, bool innermostOnly) {
  MLIRContext *ctx = info.op->getContext();
  SmallVector<AffineExpr> windowsAtZero;
  for (unsigned d = 0; d < info.ranges.size(); ++d)
    windowsAtZero.push_back(info.compound.test(d) && d != loop
                                ? getAffineConstantExpr(0, ctx)
                                : getAffineDimExpr(d, ctx));
  AffineExpr plain = getAffineDimExpr(loop, ctx);
  return llvm::all_of(info.maps, [&](AffineMap map) {
    return llvm::all_of(
        llvm::enumerate(map.getResults()), [&](auto indexAndExpr) {
          auto [index, expr] = indexAndExpr;
          return !expr.isFunctionOfDim(loop) ||
                 ((!innermostOnly || index + 1 == map.getNumResults()) &&
                  expr.replaceDims(windowsAtZero) == plain);
        });
  });
}

/// The vector runs along the innermost dimension of the result, which
/// every operand that depends on it must index innermost and plainly once
/// the windows are zero: other vectors are gathered element by element,
/// slower than the loops. A float contraction may instead run along
/// another plain dimension of its result (a strided convolution: along
/// the output channels), since each gathered vector then feeds a whole
/// row of FMAs. Short vectors (a transpose into 4 channels, a 1 x 1 pooled
/// image) cost more in shuffles and partial registers than they save; a
/// contraction whose innermost dimension is that short (a 7 x 7 image)
/// runs along another one (the output channels) instead.
std::optional<unsigned> chooseVectorLoop(const LoopInfo &info, int64_t lanes) {
  auto longEnough = [&](unsigned loop) {
    return largestDivisorAtMost(info.ranges[loop], lanes) >= kMinVectorSize;
  };
  std::optional<unsigned> vectorLoop;
  for (auto [position, expr] :
       llvm::enumerate(llvm::reverse(info.maps.back().getResults()))) {
    auto dim = dyn_cast<AffineDimExpr>(expr);
    if (position > 0 && !info.contraction)
      break;
    if (dim && isVectorLoop(info, dim.getPosition(), !info.contraction) &&
        (!info.contraction || longEnough(dim.getPosition()))) {
      vectorLoop = dim.getPosition();
      break;
    }
  }
  if (!vectorLoop || !longEnough(*vectorLoop))
    return std::nullopt;
  return vectorLoop;
}

/// The next plain dimension of the result, of which an (integer or float)
/// contraction keeps rows in registers.
std::optional<unsigned> chooseRowLoop(const LoopInfo &info,
                                      unsigned vectorLoop) {
  for (AffineExpr expr : llvm::reverse(info.maps.back().getResults())) {
    auto dim = dyn_cast<AffineDimExpr>(expr);
    if (dim && dim.getPosition() != vectorLoop &&
        !info.compound.test(dim.getPosition()) &&
        info.ranges[dim.getPosition()] > 1)
      return dim.getPosition();
  }
  return std::nullopt;
}

/// Plans the tiling of `op` described in the pass documentation, or fails
/// when its shape does not allow vectorizing a tile.
FailureOr<TilePlan> planTiling(linalg::GenericOp op, unsigned vectorBits) {
  if (op.getNumDpsInits() != 1 || !op.hasPureTensorSemantics())
    return failure();
  LoopInfo info = analyzeLoops(op);
  ArrayRef<int64_t> ranges = info.ranges;
  if (ranges.empty() || llvm::any_of(ranges, ShapedType::isDynamic))
    return failure();
  unsigned numLoops = ranges.size();
  int64_t lanes = std::max<int64_t>(1, 2 * vectorBits / widestElementBits(op));
  std::optional<unsigned> vectorLoop = chooseVectorLoop(info, lanes);
  if (!vectorLoop)
    return failure();
  int64_t vectorSize = largestDivisorAtMost(ranges[*vectorLoop], lanes);
  std::optional<unsigned> rowLoop = chooseRowLoop(info, *vectorLoop);

  TilePlan plan;
  plan.tileSizes.assign(numLoops, 1);
  auto setTile = [&](unsigned loop, int64_t size) {
    // A tile that spans the whole loop needs no loop.
    plan.tileSizes[loop] = size == ranges[loop] ? 0 : size;
  };
  setTile(*vectorLoop, vectorSize);
  if (info.reductionLoop && rowLoop)
    setTile(*rowLoop, largestDivisorAtMost(ranges[*rowLoop], kContractionRows));
  std::optional<unsigned> keptLoop =
      info.contraction ? info.reductionLoop : std::nullopt;
  for (unsigned loop = 0; loop < numLoops; ++loop) {
    if (ranges[loop] == 1)
      plan.tileSizes[loop] = 0;
    bool unit = ranges[loop] == 1 || plan.tileSizes[loop] == 1;
    if (unit && loop != keptLoop && loop != *vectorLoop && loop != rowLoop)
      plan.dropped.push_back(loop);
  }
  // Parallel loops outside, reductions inside: the accumulator tile is
  // then invariant in the inner loops and hoisted out of them.
  for (unsigned loop = 0; loop < numLoops; ++loop)
    if (!linalg::isReductionIterator(info.iterators[loop]))
      plan.interchange.push_back(loop);
  for (unsigned loop = 0; loop < numLoops; ++loop)
    if (linalg::isReductionIterator(info.iterators[loop]))
      plan.interchange.push_back(loop);
  return plan;
}

/// Records the vector ops and loops that the rewrites create: only those
/// are simplified and lowered here.
struct CreatedOpRecorder : public RewriterBase::Listener {
  void notifyOperationInserted(Operation *op,
                               OpBuilder::InsertPoint previous) override {
    if (isa<scf::ForOp>(op) ||
        isa_and_nonnull<vector::VectorDialect>(op->getDialect()))
      ops.insert(op);
  }
  void notifyOperationErased(Operation *op) override { ops.remove(op); }

  llvm::SetVector<Operation *> ops;
};

/// Tiles and vectorizes one op; leaves it (possibly generalized and tiled)
/// in place when it does not vectorize.
void tileAndVectorize(RewriterBase &rewriter, linalg::LinalgOp op,
                      unsigned vectorBits) {
  rewriter.setInsertionPoint(op);
  auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
  bool named = !generic;
  if (named) {
    // Plan on a generalized copy so a named op that does not fit stays
    // named.
    FailureOr<linalg::GenericOp> copy = linalg::generalizeNamedOp(
        rewriter, cast<linalg::LinalgOp>(rewriter.clone(*op)));
    if (failed(copy))
      return;
    generic = *copy;
  }
  FailureOr<TilePlan> plan = planTiling(generic, vectorBits);
  if (failed(plan)) {
    if (named)
      rewriter.eraseOp(generic);
    return;
  }
  if (named)
    rewriter.replaceOp(op, generic->getResults());

  Operation *tiled = generic;
  if (llvm::any_of(plan->tileSizes, [](int64_t size) { return size != 0; })) {
    scf::SCFTilingOptions options;
    options.setTileSizes(
        getAsIndexOpFoldResult(rewriter.getContext(), plan->tileSizes));
    options.setInterchange(plan->interchange);
    FailureOr<scf::SCFTilingResult> result =
        scf::tileUsingSCF(rewriter, cast<TilingInterface>(*generic), options);
    if (failed(result))
      return;
    rewriter.replaceOp(generic, result->replacements);
    tiled = result->tiledOps.back();
  }

  auto tile = cast<linalg::GenericOp>(tiled);
  if (!plan->dropped.empty()) {
    linalg::ControlDropUnitDims control;
    control.rankReductionStrategy =
        linalg::ControlDropUnitDims::RankReductionStrategy::ExtractInsertSlice;
    SmallVector<unsigned> dropped = plan->dropped;
    control.controlFn = [dropped](Operation *) { return dropped; };
    rewriter.setInsertionPoint(tile);
    FailureOr<linalg::DropUnitDimsResult> reduced =
        linalg::dropUnitDims(rewriter, tile, control);
    if (succeeded(reduced)) {
      rewriter.replaceOp(tile, reduced->replacements);
      tile = cast<linalg::GenericOp>(reduced->resultOp.getOperation());
    }
  }

  if (failed(linalg::vectorizeOpPrecondition(tile)))
    return;
  rewriter.setInsertionPoint(tile);
  FailureOr<linalg::VectorizationResult> vectorized =
      linalg::vectorize(rewriter, tile, /*inputVectorSizes=*/{},
                        /*inputScalableVecDims=*/{},
                        /*vectorizeNDExtract=*/true,
                        /*flatten1DDepthwiseConv=*/false,
                        /*assumeDynamicDimsMatchVecSizes=*/false,
                        /*createNamedContraction=*/true);
  if (failed(vectorized))
    return;
  rewriter.replaceOp(tile, vectorized->replacements);
}

/// Hoists loop-invariant subsets until none is left: hoisting a slice makes
/// it an iter_arg, whose transfers can then be hoisted in turn. Invariant
/// code (such as the transfers' padding value) goes first, so the hoisted
/// transfers find their operands outside.
void hoistAllInvariantSubsets(RewriterBase &rewriter,
                              LoopLikeOpInterface loop) {
  moveLoopInvariantCode(loop);
  for (size_t numArgs = 0; numArgs != loop.getRegionIterArgs().size();) {
    numArgs = loop.getRegionIterArgs().size();
    loop = hoistLoopInvariantSubsets(rewriter, loop);
  }
}

/// Makes the operand that spans the result's innermost (vector) dimension
/// the right-hand side, as in a row-major matmul: the outer-product
/// lowering then broadcasts the left-hand side's scalars and accumulates
/// whole rows, instead of building rows element by element. Multiplication
/// commutes, for floats too, so the result is unchanged.
struct ContractVectorOperandRight
    : public OpRewritePattern<vector::ContractionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(vector::ContractionOp op,
                                PatternRewriter &rewriter) const override {
    SmallVector<AffineMap, 3> maps = op.getIndexingMapsArray();
    if (!isa<VectorType>(op.getResultType()))
      return failure();
    auto inner = dyn_cast<AffineDimExpr>(maps[2].getResults().back());
    if (!inner || !maps[0].isFunctionOfDim(inner.getPosition()) ||
        maps[1].isFunctionOfDim(inner.getPosition()))
      return failure();
    Value lhs = op.getLhs(), rhs = op.getRhs();
    rewriter.modifyOpInPlace(op, [&] {
      op.getLhsMutable().assign(rhs);
      op.getRhsMutable().assign(lhs);
      op.setIndexingMapsAttr(
          rewriter.getAffineMapArrayAttr({maps[1], maps[0], maps[2]}));
    });
    return success();
  }
};

struct VectorizeLinalgPass
    : public myquant::impl::MyQuantVectorizeLinalgBase<VectorizeLinalgPass> {
  using MyQuantVectorizeLinalgBase::MyQuantVectorizeLinalgBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    SmallVector<linalg::LinalgOp> candidates;
    func.walk([&](linalg::LinalgOp op) { candidates.push_back(op); });

    CreatedOpRecorder created;
    IRRewriter rewriter(&getContext(), &created);
    for (linalg::LinalgOp op : candidates)
      tileAndVectorize(rewriter, op, vectorBits);
    if (created.ops.empty())
      return;

    // Simplify and lower the new code only: vector ops that were there
    // before (the VNNI kernels) are matched later in the form they have.
    GreedyRewriteConfig config;
    config.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps);
    config.setListener(&created);
    // First fold the vectorizer's broadcasting reads and transposes into
    // contractions (and mark static transfers in bounds); lowering the
    // transposes first would hide the contractions. Dropping the tile
    // loops' unused iter_args lets the accumulators be hoisted below.
    RewritePatternSet contracts(&getContext());
    vector::populateVectorReductionToContractPatterns(contracts);
    vector::populateVectorTransferPermutationMapLoweringPatterns(contracts);
    vector::populateVectorToVectorCanonicalizationPatterns(contracts);
    scf::ForOp::getCanonicalizationPatterns(contracts, &getContext());
    contracts.add<ContractVectorOperandRight>(&getContext());
    // A copy: the recorder keeps tracking the ops as they are rewritten.
    SmallVector<Operation *> ops(created.ops.begin(), created.ops.end());
    (void)applyOpPatternsGreedily(ops, std::move(contracts), config);

    // Keep accumulators in registers across the reduction loops, inner
    // loops first. A read and a write are recognized as the same subset
    // once they are in bounds and share their index constants.
    DominanceInfo dominance(func);
    eliminateCommonSubExpressions(rewriter, dominance, func);
    SmallVector<LoopLikeOpInterface> loops;
    func.walk([&](scf::ForOp loop) {
      if (created.ops.contains(loop))
        loops.push_back(loop);
    });
    for (LoopLikeOpInterface loop : loops)
      hoistAllInvariantSubsets(rewriter, loop);

    RewritePatternSet lowering(&getContext());
    vector::populateVectorContractLoweringPatterns(
        lowering, vector::VectorContractLowering::OuterProduct);
    vector::populateVectorOuterProductLoweringPatterns(lowering);
    vector::populateVectorMultiReductionLoweringPatterns(
        lowering, vector::VectorMultiReductionLowering::InnerParallel);
    vector::populateVectorToVectorCanonicalizationPatterns(lowering);
    scf::ForOp::getCanonicalizationPatterns(lowering, &getContext());
    config.setListener(nullptr);
    (void)applyOpPatternsGreedily(created.ops.takeVector(), std::move(lowering),
                                  config);
  }
};

} // namespace
