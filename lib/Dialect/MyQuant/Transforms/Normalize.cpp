//===- Normalize.cpp - equivalent float forms to the recognized ones ------===//
//
// Other frontends (torch-mlir, TOSA through the upstream conversions) write
// the same computations as myquant's exporter with different ops. These
// patterns rewrite them, preserving semantics, into the forms FloatGraph's
// recognizers know, so that the dry run sees one form per computation.
//
//===----------------------------------------------------------------------===//

#include "myquant/Dialect/MyQuant/IR/MyQuantInterfaces.h"
#include "myquant/Dialect/MyQuant/Transforms/Passes.h"
#include "myquant/Dialect/MyQuant/Utils/FloatGraph.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Utils/IndexingUtils.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Rewrite/PatternApplicator.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"

#include <cmath>

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

/// Copies the 1-D `input` along dimension `dim` of `init`: the form of a
/// bias that initializes an accumulator.
Value broadcastGeneric(PatternRewriter &rewriter, Location loc, Value input,
                       Value init, int64_t dim) {
  auto type = cast<RankedTensorType>(init.getType());
  unsigned rank = type.getRank();
  MLIRContext *ctx = rewriter.getContext();
  SmallVector<AffineMap> maps = {readDim(rank, dim, ctx),
                                 AffineMap::getMultiDimIdentityMap(rank, ctx)};
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      rewriter, loc, type, input, init, maps, iterators,
      [](OpBuilder &b, Location l, ValueRange args) {
        linalg::YieldOp::create(b, l, args[0]);
      });
  return generic->getResult(0);
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
};

/// A parallel generic on tensors that adds its two inputs (either order).
bool isAddOfInputs(linalg::GenericOp generic) {
  if (generic.getNumDpsInputs() != 2 || generic.getNumDpsInits() != 1 ||
      generic.getNumReductionLoops() != 0 || !generic.hasPureTensorSemantics())
    return false;
  Block &body = generic.getRegion().front();
  auto add = body.getTerminator()->getOperand(0).getDefiningOp<arith::AddFOp>();
  auto isArg = [&](Value v, unsigned i) { return v == body.getArgument(i); };
  return add && ((isArg(add.getLhs(), 0) && isArg(add.getRhs(), 1)) ||
                 (isArg(add.getLhs(), 1) && isArg(add.getRhs(), 0)));
}

/// `lhs + rhs` with `maps`, in place of `generic`'s add.
ValueRange addGeneric(PatternRewriter &rewriter, linalg::GenericOp generic,
                      Value lhs, Value rhs, ArrayRef<AffineMap> maps) {
  auto add = linalg::GenericOp::create(
      rewriter, generic.getLoc(), generic->getResultTypes(),
      ValueRange{lhs, rhs}, generic.getDpsInits(), maps,
      generic.getIteratorTypesArray(),
      [](OpBuilder &builder, Location loc, ValueRange args) {
        Value sum = arith::AddFOp::create(builder, loc, args[0], args[1]);
        linalg::YieldOp::create(builder, loc, sum);
      });
  return add->getResults();
}

/// `conv + broadcast(b)` (in either order) where `b` is 1-D: the add reads
/// `b` through its map instead, with the convolution first, which is the
/// bias add the recognizers fuse into the convolution.
struct FoldBiasBroadcastIntoAdd : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp generic,
                                PatternRewriter &rewriter) const override {
    if (!isAddOfInputs(generic))
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
      rewriter.replaceOp(generic, addGeneric(rewriter, generic, other,
                                             broadcast.getInput(), newMaps));
      return success();
    }
    return failure();
  }
};

/// `b[c] + y` as an add whose first input is read along one dimension:
/// the operands swap, so the bias comes second as the recognizers expect.
struct BiasSecond : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp generic,
                                PatternRewriter &rewriter) const override {
    if (!isAddOfInputs(generic))
      return failure();
    SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
    if (maps[0].getNumResults() != 1 ||
        !isa<AffineDimExpr>(maps[0].getResult(0)) ||
        maps[0].getNumDims() == 1 || !maps[1].isIdentity())
      return failure();
    Value bias = generic.getDpsInputs()[0];
    rewriter.replaceOp(generic,
                       addGeneric(rewriter, generic, generic.getDpsInputs()[1],
                                  bias, {maps[1], maps[0], maps[2]}));
    return success();
  }
};

/// A constant added through a broadcast read whose only dimension larger
/// than 1 is a loop dimension (TOSA's rank-3 `[1, 1, N]` bias read at
/// `(d0, 0, d2)`) is the 1-D constant read along that dimension.
struct ConstantBiasToVector : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp generic,
                                PatternRewriter &rewriter) const override {
    if (!isAddOfInputs(generic))
      return failure();
    SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
    for (unsigned k = 0; k < 2; ++k) {
      DenseFPElementsAttr constant =
          getFloatConstant(generic.getDpsInputs()[k]);
      if (!constant || constant.getType().getRank() < 2 ||
          !isBroadcastRead(maps[k], constant.getType().getShape()))
        continue;
      ArrayRef<int64_t> shape = constant.getType().getShape();
      auto wide = [](int64_t size) { return size != 1; };
      if (llvm::count_if(shape, wide) != 1)
        continue;
      auto position = llvm::find_if(shape, wide) - shape.begin();
      auto dim = dyn_cast<AffineDimExpr>(maps[k].getResult(position));
      if (!dim)
        continue;
      auto vectorType =
          RankedTensorType::get({shape[position]}, constant.getElementType());
      Value vector = arith::ConstantOp::create(
          rewriter, generic.getLoc(), vectorType,
          cast<TypedAttr>(constant.reshape(vectorType)));
      SmallVector<AffineMap> newMaps = {
          maps[1 - k],
          readDim(maps[2].getNumDims(), dim.getPosition(), getContext()),
          maps[2]};
      rewriter.replaceOp(generic, addGeneric(rewriter, generic,
                                             generic.getDpsInputs()[1 - k],
                                             vector, newMaps));
      return success();
    }
    return failure();
  }
};

/// `linalg.conv_2d_nhwc_fhwc` (TOSA's filter layout) as the HWCF
/// convolution of the transposed filter; a constant filter then folds.
struct FhwcToHwcf : OpRewritePattern<linalg::Conv2DNhwcFhwcOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::Conv2DNhwcFhwcOp conv,
                                PatternRewriter &rewriter) const override {
    if (!conv.hasPureTensorSemantics())
      return failure();
    Value filter = conv.getDpsInputs()[1];
    auto filterType = dyn_cast<RankedTensorType>(filter.getType());
    if (!filterType || !filterType.hasStaticShape())
      return failure();
    const SmallVector<int64_t> perm = {1, 2, 3, 0};
    SmallVector<int64_t> shape =
        applyPermutation(filterType.getShape(), ArrayRef<int64_t>(perm));
    Location loc = conv.getLoc();
    Value empty = tensor::EmptyOp::create(rewriter, loc, shape,
                                          filterType.getElementType());
    Value hwcf = linalg::TransposeOp::create(rewriter, loc, filter, empty, perm)
                     ->getResult(0);
    rewriter.replaceOpWithNewOp<linalg::Conv2DNhwcHwcfOp>(
        conv, conv->getResultTypes(), ValueRange{conv.getDpsInputs()[0], hwcf},
        conv.getDpsInits(), conv.getStridesAttr(), conv.getDilationsAttr());
    return success();
  }
};

/// `linalg.depthwise_conv_2d_nhwc_hwcm` whose [N, H, W, C, M] result is
/// collapsed to [N, H, W, C * M] (TOSA's depthwise convolution) as
/// `depthwise_conv_2d_nhwc_hwc` of the filter collapsed to [KH, KW, C * M].
/// A multiplier M above 1 first replicates each input channel M times
/// (a broadcast and a collapse, data movement that stays in int8), so that
/// output channel c * M + m reads channel c: a depthwise convolution per
/// output channel, before the input's zero padding, which the convolution
/// then absorbs.
struct HwcmToHwc : OpRewritePattern<tensor::CollapseShapeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::CollapseShapeOp collapse,
                                PatternRewriter &rewriter) const override {
    auto conv =
        collapse.getSrc().getDefiningOp<linalg::DepthwiseConv2DNhwcHwcmOp>();
    const SmallVector<ReassociationIndices> lastTwo = {{0}, {1}, {2}, {3, 4}};
    if (!conv || !conv.hasPureTensorSemantics() ||
        !conv->getResult(0).hasOneUse() ||
        collapse.getReassociationIndices() != lastTwo)
      return failure();
    auto filterType =
        dyn_cast<RankedTensorType>(conv.getDpsInputs()[1].getType());
    auto fill = conv.getDpsInits()[0].getDefiningOp<linalg::FillOp>();
    if (!filterType || filterType.getRank() != 4 ||
        !filterType.hasStaticShape() || !fill)
      return failure();
    Value input = conv.getDpsInputs()[0];
    int64_t multiplier = filterType.getDimSize(3);
    if (multiplier != 1) {
      FailureOr<Value> replicated =
          replicateChannels(rewriter, conv.getLoc(), input, multiplier);
      if (failed(replicated))
        return failure();
      input = *replicated;
    }
    Location loc = conv.getLoc();
    const SmallVector<ReassociationIndices> dropLast = {{0}, {1}, {2, 3}};
    Value filter = tensor::CollapseShapeOp::create(
        rewriter, loc, conv.getDpsInputs()[1], dropLast);
    auto resultType = collapse.getResultType();
    Value empty = tensor::EmptyOp::create(rewriter, loc, resultType.getShape(),
                                          resultType.getElementType());
    Value init =
        linalg::FillOp::create(rewriter, loc, fill.getInputs()[0], empty)
            ->getResult(0);
    rewriter.replaceOpWithNewOp<linalg::DepthwiseConv2DNhwcHwcOp>(
        collapse, TypeRange{resultType}, ValueRange{input, filter},
        ValueRange{init}, conv.getStridesAttr(), conv.getDilationsAttr());
    return success();
  }

private:
  /// `input` [N, H, W, C] (or a constant padding of it that leaves C alone)
  /// with each channel repeated `multiplier` times: [N, H, W, C * M],
  /// padded like `input`.
  static FailureOr<Value> replicateChannels(PatternRewriter &rewriter,
                                            Location loc, Value input,
                                            int64_t multiplier) {
    auto pad = input.getDefiningOp<tensor::PadOp>();
    Value source = pad ? pad.getSource() : input;
    Value padValue = pad ? pad.getConstantPaddingValue() : Value();
    auto type = dyn_cast<RankedTensorType>(source.getType());
    if (!type || type.getRank() != 4 || !type.hasStaticShape() ||
        (pad && (!padValue || !pad.getLow().empty() || !pad.getHigh().empty() ||
                 pad.getStaticLow()[3] != 0 || pad.getStaticHigh()[3] != 0)))
      return failure();
    SmallVector<int64_t> spread(type.getShape());
    spread.push_back(multiplier);
    Value empty =
        tensor::EmptyOp::create(rewriter, loc, spread, type.getElementType());
    Value broadcast = linalg::BroadcastOp::create(rewriter, loc, source, empty,
                                                  ArrayRef<int64_t>{4})
                          ->getResult(0);
    const SmallVector<ReassociationIndices> lastTwo = {{0}, {1}, {2}, {3, 4}};
    Value replicated =
        tensor::CollapseShapeOp::create(rewriter, loc, broadcast, lastTwo);
    if (!pad)
      return replicated;
    SmallVector<int64_t> paddedShape(pad.getResultType().getShape());
    paddedShape[3] *= multiplier;
    auto paddedType = pad.getResultType().clone(paddedShape);
    return tensor::PadOp::create(rewriter, loc, paddedType, replicated,
                                 pad.getMixedLowPad(), pad.getMixedHighPad(),
                                 padValue)
        .getResult();
  }
};

/// A chain of `tensor.insert_slice` ops that tiles its destination along
/// one dimension (torch-mlir's `torch.cat`, TOSA's `tosa.concat`, upstream's
/// decomposed `tensor.concat`: `tensor.empty` and one insert per operand) as
/// the `tensor.concat` it computes. Matched at the chain's last insert; the
/// inserts may come in any order but must cover the destination exactly
/// once, so that its initial contents are never read.
struct InsertSlicesToConcat : OpRewritePattern<tensor::InsertSliceOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::InsertSliceOp last,
                                PatternRewriter &rewriter) const override {
    // A later insert of the chain is the anchor.
    if (llvm::any_of(last->getUsers(), [&](Operation *user) {
          auto next = dyn_cast<tensor::InsertSliceOp>(user);
          return next && next.getDest() == last.getResult();
        }))
      return failure();
    RankedTensorType type = last.getResultType();
    if (!type.hasStaticShape())
      return failure();
    SmallVector<tensor::InsertSliceOp> chain = {last};
    while (auto previous =
               chain.back().getDest().getDefiningOp<tensor::InsertSliceOp>()) {
      if (!previous->hasOneUse())
        return failure();
      chain.push_back(previous);
    }
    std::optional<int64_t> dim = concatDim(chain, type.getShape());
    if (!dim)
      return failure();
    // The operands in the order of their offsets, which must tile the
    // dimension without gaps or overlaps.
    llvm::sort(chain, [&](tensor::InsertSliceOp a, tensor::InsertSliceOp b) {
      return a.getStaticOffsets()[*dim] < b.getStaticOffsets()[*dim];
    });
    int64_t next = 0;
    SmallVector<Value> operands;
    for (tensor::InsertSliceOp insert : chain) {
      if (insert.getStaticOffsets()[*dim] != next)
        return failure();
      next += insert.getStaticSizes()[*dim];
      operands.push_back(insert.getSource());
    }
    if (next != type.getDimSize(*dim))
      return failure();
    rewriter.replaceOpWithNewOp<tensor::ConcatOp>(last, type, *dim, operands);
    return success();
  }

private:
  /// The one dimension along which the inserts of `chain` are partial: each
  /// is static, of unit strides and not rank-reducing, and spans `shape`
  /// fully along every other dimension. Needs two inserts at least.
  static std::optional<int64_t> concatDim(ArrayRef<tensor::InsertSliceOp> chain,
                                          ArrayRef<int64_t> shape) {
    if (chain.size() < 2)
      return std::nullopt;
    std::optional<int64_t> dim;
    for (tensor::InsertSliceOp insert : chain) {
      ArrayRef<int64_t> offsets = insert.getStaticOffsets();
      ArrayRef<int64_t> sizes = insert.getStaticSizes();
      if (ShapedType::isDynamicShape(offsets) ||
          ShapedType::isDynamicShape(sizes) ||
          llvm::any_of(insert.getStaticStrides(),
                       [](int64_t s) { return s != 1; }) ||
          insert.getSourceType().getShape() != sizes)
        return std::nullopt;
      for (auto [d, offset, size] : llvm::enumerate(offsets, sizes)) {
        if (offset == 0 && size == shape[d])
          continue;
        if (dim && *dim != static_cast<int64_t>(d))
          return std::nullopt;
        dim = d;
      }
    }
    return dim;
  }
};

/// A generic that computes a convolution or matmul (a reduction), or a
/// fill (a copy of a scalar), as the named op upstream specializes it to
/// (what `--linalg-generalize-named-ops` wrote). Element-wise generics stay:
/// they are the forms the recognizers read.
struct SpecializeToNamedOp : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp generic,
                                PatternRewriter &rewriter) const override {
    bool isFill = generic.getNumDpsInputs() == 1 &&
                  !isa<ShapedType>(generic.getDpsInputs()[0].getType());
    if (generic.getNumReductionLoops() == 0 && !isFill)
      return failure();
    return linalg::specializeGenericOp(rewriter, generic);
  }
};

/// Whether `value` initializes the accumulator of a convolution or matmul,
/// directly or through the reshape that exposes a grouped convolution's
/// groups: a bias the recognizers read through its broadcast, not a
/// constant.
bool initializesAccumulator(Value value) {
  return llvm::any_of(value.getUses(), [](OpOperand &use) {
    Operation *owner = use.getOwner();
    if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(owner))
      return initializesAccumulator(owner->getResult(0));
    auto user = dyn_cast<linalg::LinalgOp>(owner);
    return user && isComputeAnchor(user) && user.isDpsInit(&use);
  });
}

/// A transposed matmul weight stays: the recognizer reads it as the
/// `transpose_rhs` form the kernels take.
bool isMatmulRhsTranspose(Operation *op) {
  return isa<linalg::TransposeOp>(op) &&
         llvm::all_of(op->getUsers(), [](Operation *user) {
           return isa<linalg::MatmulOp, linalg::BatchMatmulOp>(user);
         });
}

/// Folding evaluates the body once per element; larger results stay.
constexpr int64_t kMaxFoldedElements = int64_t(1) << 22;

/// The values of a float constant, in double.
SmallVector<double> constantValues(DenseFPElementsAttr attr) {
  return llvm::map_to_vector(attr.getValues<APFloat>(), [](const APFloat &v) {
    return v.convertToDouble();
  });
}

DenseElementsAttr toAttr(RankedTensorType type, ArrayRef<double> values) {
  const llvm::fltSemantics &semantics =
      cast<FloatType>(type.getElementType()).getFloatSemantics();
  SmallVector<APFloat> converted;
  converted.reserve(values.size());
  for (double v : values) {
    APFloat value(v);
    bool losesInfo = false;
    value.convert(semantics, APFloat::rmNearestTiesToEven, &losesInfo);
    converted.push_back(value);
  }
  return DenseElementsAttr::get(type, converted);
}

/// A float constant's values with its strides, to read it by index.
struct ConstantTensor {
  SmallVector<double> values;
  SmallVector<int64_t> strides;

  static std::optional<ConstantTensor> get(Value value) {
    DenseFPElementsAttr constant = getFloatConstant(value);
    if (!constant)
      return std::nullopt;
    return ConstantTensor{constantValues(constant),
                          computeStrides(constant.getType().getShape())};
  }
};

/// Whether `body` reads a tensor captured from above (a gather).
bool extractsFromAbove(Block *body) {
  return llvm::any_of(body->getOps<tensor::ExtractOp>(),
                      [&](tensor::ExtractOp extract) {
                        return extract.getTensor().getParentBlock() != body;
                      });
}

/// A parallel linalg op (generic, transpose, broadcast, ...) whose inputs
/// are all float constants computes a constant: an unfolded BatchNorm's
/// `gamma * rsqrt(var + eps)`, a transposed filter, and, where the body
/// gathers from float constants by loop index, TOSA's reversed filter of
/// a transposed convolution. Bodies are evaluated in double (evaluateBody)
/// and rounded to the element type once.
struct FoldConstantLinalg : OpInterfaceRewritePattern<linalg::LinalgOp> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    Block *body = op.getBlock();
    bool gathers = extractsFromAbove(body);
    if (!op.hasPureTensorSemantics() ||
        (op.getNumDpsInputs() == 0 && !gathers) || op.getNumDpsInits() != 1 ||
        op->getNumResults() != 1 ||
        op.getNumParallelLoops() != op.getNumLoops() ||
        !op.getMatchingIndexingMap(op.getDpsInitOperand(0)).isIdentity() ||
        initializesAccumulator(op->getResult(0)) || isMatmulRhsTranspose(op))
      return failure();
    auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
    if (!type || !type.hasStaticShape() ||
        !isa<FloatType>(type.getElementType()) ||
        type.getNumElements() > kMaxFoldedElements)
      return failure();
    unsigned numInputs = op.getNumDpsInputs();
    if (!body->getArgument(numInputs).use_empty())
      return failure();
    SmallVector<ConstantTensor> inputs;
    for (OpOperand *input : op.getDpsInputOperands()) {
      std::optional<ConstantTensor> constant =
          ConstantTensor::get(input->get());
      if (!constant)
        return failure();
      inputs.push_back(std::move(*constant));
    }
    // The captured tensors a gathering body reads, each decoded once.
    DenseMap<Value, std::optional<ConstantTensor>> captured;
    auto extract = [&](Value tensor,
                       ArrayRef<int64_t> indices) -> std::optional<double> {
      auto [it, inserted] = captured.try_emplace(tensor);
      if (inserted)
        it->second = ConstantTensor::get(tensor);
      auto shape = cast<RankedTensorType>(tensor.getType()).getShape();
      if (!it->second || indices.size() != shape.size())
        return std::nullopt;
      for (auto [i, size] : llvm::zip(indices, shape))
        if (i < 0 || i >= size)
          return std::nullopt;
      return it->second->values[linearize(indices, it->second->strides)];
    };
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    SmallVector<int64_t> resultStrides = computeStrides(type.getShape());
    SmallVector<double> results(type.getNumElements());
    SmallVector<double> args(numInputs);
    for (int64_t i = 0; i < type.getNumElements(); ++i) {
      SmallVector<int64_t> index = delinearize(i, resultStrides);
      for (unsigned k = 0; k < numInputs; ++k)
        args[k] =
            inputs[k]
                .values[linearize(maps[k].compose(index), inputs[k].strides)];
      BodyEnvironment environment{index, extract};
      std::optional<double> value =
          evaluateBody(*body, args, nullptr, gathers ? &environment : nullptr);
      if (!value)
        return failure();
      results[i] = *value;
    }
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(
        op, type, cast<TypedAttr>(toAttr(type, results)));
    return success();
  }
};

/// A reshape of a float constant is the reshaped constant, except the
/// filter reshape that exposes a grouped convolution's groups (the
/// recognizer reads the ungrouped filter through it).
template <typename ReshapeOp>
struct FoldConstantReshape : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern<ReshapeOp>::OpRewritePattern;

  LogicalResult matchAndRewrite(ReshapeOp reshape,
                                PatternRewriter &rewriter) const override {
    DenseFPElementsAttr constant = getFloatConstant(reshape.getSrc());
    auto type = dyn_cast<RankedTensorType>(reshape.getResult().getType());
    if (!constant || !type || !type.hasStaticShape() ||
        llvm::any_of(reshape->getUsers(), [](Operation *user) {
          return isa<linalg::Conv2DNgchwGfchwOp>(user);
        }))
      return failure();
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(
        reshape, type, cast<TypedAttr>(constant.reshape(type)));
    return success();
  }
};

/// Scalar arithmetic on constants as the constant it folds to: the
/// window sizes TOSA's average pooling computes before its division, and
/// torch-mlir's scalar operands converted in the bodies (`sitofp` of an
/// i64 alpha of 1, `truncf` of an f64 eps), so that the bodies reading them
/// can be evaluated. Only constants fold: `x / 1.0` stays.
struct FoldConstantScalarArith : RewritePattern {
  explicit FoldConstantScalarArith(MLIRContext *context)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, context) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (!isa<arith::ArithDialect>(op->getDialect()) ||
        op->getNumResults() != 1 ||
        isa<ShapedType>(op->getResult(0).getType()) ||
        matchPattern(op->getResult(0), m_Constant()))
      return failure();
    SmallVector<Attribute> operands(op->getNumOperands());
    for (auto [operand, attr] : llvm::zip(op->getOperands(), operands))
      if (!matchPattern(operand, m_Constant(&attr)))
        return failure();
    SmallVector<OpFoldResult> folded;
    if (failed(op->fold(operands, folded)) || folded.size() != 1)
      return failure();
    auto value = dyn_cast_if_present<TypedAttr>(
        dyn_cast_if_present<Attribute>(folded.front()));
    if (!value || value.getType() != op->getResult(0).getType())
      return failure();
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, value);
    return success();
  }
};

/// `sum / n(h, w)` after sum pooling where the window's element count `n`
/// is computed in the body from the loop indices (TOSA's average pooling,
/// which leaves the padding out of the count) as the division by a
/// constant [OH, OW] tensor of counts that the pool recognizer reads.
struct PoolDivisorToConstant : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    if (!isRowwiseElementwise(op, 1) || op.getNumLoops() != 4 ||
        !op.getBody()->getArgument(1).use_empty())
      return failure();
    Operation *pool = op.getDpsInputs()[0].getDefiningOp();
    unsigned h = 0;
    if (isa_and_present<linalg::PoolingNhwcSumOp>(pool))
      h = 1;
    else if (isa_and_present<linalg::PoolingNchwSumOp>(pool))
      h = 2;
    else
      return failure();
    bool readsIndex = !op.getBody()->getOps<linalg::IndexOp>().empty();
    auto type = cast<RankedTensorType>(op.getResult(0).getType());
    if (!readsIndex || !type.hasStaticShape())
      return failure();
    // The count at each output position: 1 / body(1), checked at other
    // inputs to be a division by it.
    auto noCapturedTensor = [](Value, ArrayRef<int64_t>) {
      return std::optional<double>();
    };
    SmallVector<int64_t> strides = computeStrides(type.getShape());
    int64_t oh = type.getDimSize(h), ow = type.getDimSize(h + 1);
    SmallVector<double> counts(oh * ow, 0.0);
    for (int64_t i = 0; i < type.getNumElements(); ++i) {
      SmallVector<int64_t> index = delinearize(i, strides);
      BodyEnvironment environment{index, noCapturedTensor};
      std::optional<double> reciprocal =
          evaluateBody(*op.getBody(), {1.0}, nullptr, &environment);
      if (!reciprocal || !(*reciprocal > 0))
        return failure();
      double count = std::round(1.0 / *reciprocal);
      double &slot = counts[index[h] * ow + index[h + 1]];
      if ((slot != 0.0 && slot != count) || count < 1)
        return failure();
      slot = count;
      for (double x : {3.0, -0.625, 1e5}) {
        std::optional<double> y =
            evaluateBody(*op.getBody(), {x}, nullptr, &environment);
        if (!y || *y != x / count)
          return failure();
      }
    }
    MLIRContext *ctx = getContext();
    auto countType = RankedTensorType::get({oh, ow}, type.getElementType());
    Value divisors =
        arith::ConstantOp::create(rewriter, op.getLoc(), countType,
                                  cast<TypedAttr>(toAttr(countType, counts)));
    AffineMap identity = AffineMap::getMultiDimIdentityMap(4, ctx);
    AffineMap spatial = AffineMap::get(
        4, 0, {getAffineDimExpr(h, ctx), getAffineDimExpr(h + 1, ctx)}, ctx);
    rewriter.replaceOpWithNewOp<linalg::GenericOp>(
        op, type, ValueRange{op.getDpsInputs()[0], divisors}, op.getDpsInits(),
        ArrayRef<AffineMap>{identity, spatial, identity},
        op.getIteratorTypesArray(),
        [](OpBuilder &b, Location loc, ValueRange args) {
          Value quotient = arith::DivFOp::create(b, loc, args[0], args[1]);
          linalg::YieldOp::create(b, loc, quotient);
        });
    return success();
  }
};

/// A mean over the spatial dimensions of an NCHW or NHWC tensor
/// (torch-mlir's aten.mean.dim: a sum reduction from a zero fill, as a
/// generic or linalg.reduce, the reduced dimensions dropped or kept as the
/// constant 0, then a division by the element count) as the sum pool over
/// the whole plane and its division by the window size: the global average
/// pool the pool recognizer reads. Without keepdim, a collapse_shape of the
/// division drops the unit plane the pool keeps. Both bodies are recognized
/// by evaluating them.
struct SpatialMeanToPool : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp div,
                                PatternRewriter &rewriter) const override {
    if (!isRowwiseElementwise(div, 1) ||
        !div.getBody()->getArgument(1).use_empty() ||
        !div.getDpsInputs()[0].hasOneUse())
      return failure();
    auto sum = div.getDpsInputs()[0].getDefiningOp<linalg::LinalgOp>();
    if (!isa_and_present<linalg::GenericOp, linalg::ReduceOp>(sum) ||
        sum->getNumResults() != 1 || sum.getNumDpsInputs() != 1 ||
        sum.getNumDpsInits() != 1 || !sum.hasPureTensorSemantics())
      return failure();
    Value input = sum.getDpsInputs()[0];
    auto inputType = dyn_cast<RankedTensorType>(input.getType());
    if (!inputType || !inputType.hasStaticShape() || inputType.getRank() != 4)
      return failure();
    SmallVector<unsigned> reduced;
    for (auto [d, iterator] : llvm::enumerate(sum.getIteratorTypesArray()))
      if (iterator == utils::IteratorType::reduction)
        reduced.push_back(d);
    // The plane's first dimension: H of NCHW or of NHWC.
    unsigned h = 0;
    if (reduced == ArrayRef<unsigned>{2, 3})
      h = 2;
    else if (reduced == ArrayRef<unsigned>{1, 2})
      h = 1;
    else
      return failure();
    MLIRContext *ctx = getContext();
    SmallVector<AffineMap> maps = sum.getIndexingMapsArray();
    AffineMap out = maps[1];
    bool keepdim = out.getNumResults() == 4;
    if (!maps[0].isIdentity() || (!keepdim && out.getNumResults() != 2))
      return failure();
    for (unsigned d = 0, r = 0; d < 4; ++d) {
      bool isReduced = d == h || d == h + 1;
      if (isReduced && !keepdim)
        continue;
      AffineExpr expected =
          isReduced ? getAffineConstantExpr(0, ctx) : getAffineDimExpr(d, ctx);
      if (out.getResult(r++) != expected)
        return failure();
    }
    auto fill = sum.getDpsInits()[0].getDefiningOp<linalg::FillOp>();
    FloatAttr init;
    if (!fill || !matchPattern(fill.getInputs()[0], m_Constant(&init)) ||
        init.getValueAsDouble() != 0.0)
      return failure();
    for (auto [a, b] : {std::pair{1.5, -2.0}, {-3.0, 0.25}, {0.5, 0.5}}) {
      std::optional<double> s = evaluateBody(*sum.getBlock(), {a, b});
      if (!s || *s != a + b)
        return failure();
    }
    int64_t kh = inputType.getDimSize(h), kw = inputType.getDimSize(h + 1);
    auto n = static_cast<double>(kh * kw);
    if (!bodyComputes(div, {{3.0}, {-0.625}, {1e5}},
                      [&](ArrayRef<double> x) { return x[0] / n; }))
      return failure();

    Location loc = div.getLoc();
    Type element = inputType.getElementType();
    SmallVector<int64_t> pooledShape(inputType.getShape());
    pooledShape[h] = pooledShape[h + 1] = 1;
    auto pooledType = RankedTensorType::get(pooledShape, element);
    Value window = tensor::EmptyOp::create(rewriter, loc, {kh, kw}, element);
    Value zero =
        arith::ConstantOp::create(rewriter, loc, FloatAttr::get(element, 0.0));
    Value empty = tensor::EmptyOp::create(rewriter, loc, pooledShape, element);
    Value zeros =
        linalg::FillOp::create(rewriter, loc, zero, empty).getResult(0);
    DenseIntElementsAttr ones = rewriter.getI64VectorAttr({1, 1});
    Value pooled;
    if (h == 2)
      pooled = linalg::PoolingNchwSumOp::create(
                   rewriter, loc, TypeRange{pooledType},
                   ValueRange{input, window}, zeros, ones, ones)
                   .getResult(0);
    else
      pooled = linalg::PoolingNhwcSumOp::create(
                   rewriter, loc, TypeRange{pooledType},
                   ValueRange{input, window}, zeros, ones, ones)
                   .getResult(0);
    Value count =
        arith::ConstantOp::create(rewriter, loc, FloatAttr::get(element, n));
    AffineMap identity = AffineMap::getMultiDimIdentityMap(4, ctx);
    Value mean =
        linalg::GenericOp::create(
            rewriter, loc, pooledType, pooled, empty,
            ArrayRef<AffineMap>{identity, identity},
            SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
            [&](OpBuilder &b, Location l, ValueRange args) {
              linalg::YieldOp::create(
                  b, l,
                  ValueRange{arith::DivFOp::create(b, l, args[0], count)});
            })
            .getResult(0);
    if (keepdim) {
      rewriter.replaceOp(div, mean);
      return success();
    }
    SmallVector<ReassociationIndices> planeAway =
        h == 2 ? SmallVector<ReassociationIndices>{{0}, {1, 2, 3}}
               : SmallVector<ReassociationIndices>{{0, 1, 2}, {3}};
    rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(
        div, div.getResult(0).getType(), mean, planeAway);
    return success();
  }
};

/// A zero-or-constant padding of a float constant is a constant: TOSA's
/// transposed convolution pads its filter before reversing it.
struct FoldConstantPad : OpRewritePattern<tensor::PadOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::PadOp pad,
                                PatternRewriter &rewriter) const override {
    std::optional<ConstantTensor> source = ConstantTensor::get(pad.getSource());
    FloatAttr padding;
    Value paddingValue = pad.getConstantPaddingValue();
    RankedTensorType type = pad.getResultType();
    if (!source || !paddingValue ||
        !matchPattern(paddingValue, m_Constant(&padding)) ||
        !type.hasStaticShape() || type.getNumElements() > kMaxFoldedElements)
      return failure();
    // TOSA writes the amounts as constant SSA values.
    std::optional<SmallVector<int64_t>> low =
        getConstantIntValues(pad.getMixedLowPad());
    if (!low)
      return failure();
    auto sourceShape = pad.getSourceType().getShape();
    SmallVector<int64_t> resultStrides = computeStrides(type.getShape());
    SmallVector<double> results(type.getNumElements(),
                                padding.getValueAsDouble());
    for (int64_t i = 0; i < type.getNumElements(); ++i) {
      SmallVector<int64_t> index = delinearize(i, resultStrides);
      bool inside = true;
      for (auto [k, size] : llvm::enumerate(sourceShape)) {
        index[k] -= (*low)[k];
        inside &= index[k] >= 0 && index[k] < size;
      }
      if (inside)
        results[i] = source->values[linearize(index, source->strides)];
    }
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(
        pad, type, cast<TypedAttr>(toAttr(type, results)));
    return success();
  }
};

/// `f(conv(x))` where `f` is affine per channel, its other operands
/// float constants read along the channel dimension (or single values):
/// an inference BatchNorm `(y - mean) * gamma * rsqrt(var + eps) + beta`
/// left unfolded. The filters are scaled by `f(1) - f(0)` and the bias
/// becomes `f(bias)`, so the convolution computes `f` itself.
struct FoldChannelAffineIntoConv : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp generic,
                                PatternRewriter &rewriter) const override {
    unsigned numInputs = generic.getNumDpsInputs();
    if (!generic.hasPureTensorSemantics() || numInputs < 2 ||
        generic.getNumDpsInits() != 1 || generic->getNumResults() != 1 ||
        generic.getNumReductionLoops() != 0)
      return failure();
    Value y = generic.getDpsInputs()[0];
    Operation *anchor = y.getDefiningOp();
    if (!isComputeAnchor(anchor) || !y.hasOneUse())
      return failure();
    std::optional<ComputeChain> chain = matchComputeChain(anchor);
    if (!chain || chain->kind != ComputeChain::Conv ||
        !chain->regrouping.empty() ||
        chain->weightOperand->getOwner() != anchor ||
        (chain->biasOperand &&
         !chain->biasOperand->getOwner()->getResult(0).hasOneUse()))
      return failure();
    // The recognizer may have taken `generic` itself as the bias add; the
    // accumulator is then a zero fill.
    if (!chain->epilogue.empty()) {
      chain->bias = nullptr;
      chain->biasOperand = nullptr;
    }
    DenseFPElementsAttr weight = getFloatConstant(chain->weight);
    DenseFPElementsAttr bias =
        chain->bias ? getFloatConstant(chain->bias) : DenseFPElementsAttr();
    if (!weight || (chain->bias && !bias))
      return failure();
    SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
    Block &body = generic.getRegion().front();
    if (!maps[0].isIdentity() || !maps[numInputs].isIdentity() ||
        !body.getArgument(numInputs).use_empty())
      return failure();
    auto type = cast<RankedTensorType>(y.getType());
    unsigned channelDim = getLayoutDims(chain->layout).channel;
    int64_t channels = type.getDimSize(channelDim);
    AffineMap perChannel = readDim(type.getRank(), channelDim, getContext());
    SmallVector<SmallVector<double>> params;
    for (unsigned k = 1; k < numInputs; ++k) {
      DenseFPElementsAttr constant =
          getFloatConstant(generic.getDpsInputs()[k]);
      if (!constant)
        return failure();
      SmallVector<double> values = constantValues(constant);
      if (values.size() == 1)
        values.assign(channels, values[0]);
      else if (maps[k] != perChannel ||
               static_cast<int64_t>(values.size()) != channels)
        return failure();
      params.push_back(std::move(values));
    }
    // f(t) = a[c] * t + b[c], checked at two more points.
    SmallVector<double> scale(channels), shift(channels);
    for (int64_t c = 0; c < channels; ++c) {
      SmallVector<double> args = {0.0};
      for (const SmallVector<double> &p : params)
        args.push_back(p[c]);
      auto f = [&](double t) {
        args[0] = t;
        return evaluateBody(body, args);
      };
      std::optional<double> f0 = f(0.0), f1 = f(1.0), f2 = f(2.0), fm = f(-3.0);
      if (!f0 || !f1 || !f2 || !fm)
        return failure();
      double a = *f1 - *f0, b = *f0;
      double tolerance = 1e-6 * (std::abs(a) * 3.0 + std::abs(b)) + 1e-12;
      if (!std::isfinite(a) || !std::isfinite(b) ||
          std::abs(*f2 - (2.0 * a + b)) > tolerance ||
          std::abs(*fm - (-3.0 * a + b)) > tolerance)
        return failure();
      scale[c] = a;
      shift[c] = b;
    }
    SmallVector<double> weights = constantValues(weight);
    ArrayRef<int64_t> weightShape = weight.getType().getShape();
    int64_t inner = computeStrides(weightShape)[chain->weightChannelDim];
    for (auto [i, w] : llvm::enumerate(weights))
      w *= scale[(i / inner) % weightShape[chain->weightChannelDim]];
    SmallVector<double> newBias(shift);
    if (bias)
      for (auto [c, b] : llvm::enumerate(constantValues(bias)))
        newBias[c] += scale[c] * b;

    auto linalgAnchor = cast<linalg::LinalgOp>(anchor);
    OpOperand *init = linalgAnchor.getDpsInitOperand(0);
    // Without a bias the accumulator is a zero fill, into whose destination
    // the new bias is broadcast.
    auto fill = init->get().getDefiningOp<linalg::FillOp>();
    if (!chain->biasOperand && !fill)
      return failure();
    // The replaced weight and accumulator, erased below once unused.
    SmallVector<Operation *> replaced = {chain->weight.getDefiningOp()};
    replaced.push_back(chain->biasOperand
                           ? chain->biasOperand->get().getDefiningOp()
                           : fill.getOperation());

    Location loc = generic.getLoc();
    // Before the convolution, which reads the new weight and accumulator.
    rewriter.setInsertionPoint(anchor);
    auto weightType = cast<RankedTensorType>(weight.getType());
    Value newWeight =
        arith::ConstantOp::create(rewriter, loc, weightType,
                                  cast<TypedAttr>(toAttr(weightType, weights)));
    auto biasType = RankedTensorType::get({channels}, type.getElementType());
    Value biasValue = arith::ConstantOp::create(
        rewriter, loc, biasType, cast<TypedAttr>(toAttr(biasType, newBias)));
    Value accumulator;
    if (!chain->biasOperand)
      accumulator = broadcastGeneric(rewriter, loc, biasValue,
                                     fill.getOutputs()[0], channelDim);
    rewriter.modifyOpInPlace(anchor,
                             [&] { chain->weightOperand->set(newWeight); });
    if (accumulator)
      rewriter.modifyOpInPlace(anchor, [&] { init->set(accumulator); });
    else
      rewriter.modifyOpInPlace(chain->biasOperand->getOwner(),
                               [&] { chain->biasOperand->set(biasValue); });
    rewriter.replaceOp(generic, y);
    for (Operation *op : replaced)
      if (op && isOpTriviallyDead(op))
        rewriter.eraseOp(op);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Softmax written out
//===----------------------------------------------------------------------===//

/// Softmax over the last dimension written out in linalg.generic ops
/// (upstream's decomposition of linalg.softmax, or the same with keepdim
/// reductions and a separate exponential): `e = exp(x - max(x))` over each
/// row, then `e / sum(e)`. Becomes the `linalg.softmax` it computes, which
/// the dry run makes `myquant.softmax`.
struct SoftmaxFromParts : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp div,
                                PatternRewriter &rewriter) const override {
    auto quotient = [](ArrayRef<double> a) { return a[0] / a[1]; };
    auto difference = [](ArrayRef<double> a) { return a[0] - a[1]; };
    auto sum = [](ArrayRef<double> a) { return a[0] + a[1]; };
    auto max = [](ArrayRef<double> a) { return std::max(a[0], a[1]); };
    auto exponential = [](ArrayRef<double> a) { return std::exp(a[0]); };
    auto expOfDifference = [](ArrayRef<double> a) {
      return std::exp(a[0] - a[1]);
    };
    SmallVector<SmallVector<double, 2>> pairs = {{1.5, 2.0}, {-3.0, 0.25}};
    if (!isRowwiseElementwise(div, 2) ||
        !isRowMap(div.getIndexingMapsArray()[1]) ||
        !bodyComputes(div, pairs, quotient))
      return failure();
    Value e = div.getDpsInputs()[0];
    if (rowReductionInput(div.getDpsInputs()[1], 0.0, sum) != e)
      return failure();
    // exp(x - m), or exp of a separate x - m.
    auto expOp = e.getDefiningOp<linalg::GenericOp>();
    if (!expOp)
      return failure();
    linalg::GenericOp subOp = expOp;
    if (isRowwiseElementwise(expOp, 1) &&
        bodyComputes(expOp, {{0.5}, {-2.0}}, exponential)) {
      subOp = expOp.getDpsInputs()[0].getDefiningOp<linalg::GenericOp>();
      if (!subOp || !isRowwiseElementwise(subOp, 2) ||
          !bodyComputes(subOp, pairs, difference))
        return failure();
    } else if (!isRowwiseElementwise(expOp, 2) ||
               !bodyComputes(expOp, pairs, expOfDifference)) {
      return failure();
    }
    if (!isRowMap(subOp.getIndexingMapsArray()[1]))
      return failure();
    Value x = subOp.getDpsInputs()[0];
    if (rowReductionInput(subOp.getDpsInputs()[1], -INFINITY, max) != x)
      return failure();
    auto type = cast<RankedTensorType>(div.getResult(0).getType());
    if (x.getType() != type)
      return failure();
    Value init = tensor::EmptyOp::create(
        rewriter, div.getLoc(), type.getShape(), type.getElementType());
    rewriter.replaceOpWithNewOp<linalg::SoftmaxOp>(div, type, x, init,
                                                   type.getRank() - 1);
    return success();
  }
};

/// An unused result of a multi-result generic whose computation the other
/// results do not read goes: torch-mlir's max.dim computes the indices of
/// the maxima beside them, which softmax never reads.
struct DropUnusedGenericResult : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics() || op.getNumResults() < 2)
      return failure();
    auto unused = llvm::find_if(
        op.getResults(), [](Value result) { return result.use_empty(); });
    if (unused == op.getResults().end())
      return failure();
    unsigned dropped = (*unused).getResultNumber();
    Block *body = op.getBody();
    auto yield = cast<linalg::YieldOp>(body->getTerminator());
    // The body ops the kept results need, none of them reading the dropped
    // result's accumulator.
    BlockArgument droppedArg =
        op.getMatchingBlockArgument(op.getDpsInitOperand(dropped));
    llvm::SetVector<Operation *> needed;
    SmallVector<Value> work;
    for (auto [i, value] : llvm::enumerate(yield.getOperands()))
      if (i != dropped)
        work.push_back(value);
    while (!work.empty()) {
      Value value = work.pop_back_val();
      if (value == droppedArg)
        return failure();
      Operation *def = value.getDefiningOp();
      if (!def || def->getBlock() != body || !needed.insert(def))
        continue;
      if (def->getNumRegions() != 0)
        return failure();
      llvm::append_range(work, def->getOperands());
    }
    SmallVector<Value> inits;
    SmallVector<AffineMap> maps;
    SmallVector<AffineMap> allMaps = op.getIndexingMapsArray();
    for (unsigned i = 0; i < op.getNumDpsInputs(); ++i)
      maps.push_back(allMaps[i]);
    for (auto [i, init] : llvm::enumerate(op.getDpsInits())) {
      if (i == dropped)
        continue;
      inits.push_back(init);
      maps.push_back(allMaps[op.getNumDpsInputs() + i]);
    }
    auto replacement = linalg::GenericOp::create(
        rewriter, op.getLoc(), ValueRange(inits).getTypes(), op.getDpsInputs(),
        inits, maps, op.getIteratorTypesArray(),
        [&](OpBuilder &b, Location loc, ValueRange args) {
          IRMapping mapping;
          unsigned next = 0;
          for (BlockArgument arg : body->getArguments())
            if (arg != droppedArg)
              mapping.map(arg, args[next++]);
          for (Operation &inner : body->without_terminator())
            if (needed.contains(&inner))
              b.clone(inner, mapping);
          SmallVector<Value> yielded;
          for (auto [i, value] : llvm::enumerate(yield.getOperands()))
            if (i != dropped)
              yielded.push_back(mapping.lookupOrDefault(value));
          linalg::YieldOp::create(b, loc, yielded);
        });
    unsigned next = 0;
    for (OpResult result : op.getResults())
      if (result.getResultNumber() != dropped)
        rewriter.replaceAllUsesWith(result, replacement.getResult(next++));
    rewriter.eraseOp(op);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Layer normalization written out
//===----------------------------------------------------------------------===//

/// The row value that input `index` of `op` reads, looking through
/// torch-mlir's broadcast_to (a copy of the row tensor, its unit last
/// dimension collapsed away, read with a row map).
Value rowOperand(linalg::GenericOp op, unsigned index) {
  AffineMap map = op.getIndexingMapsArray()[index];
  Value operand = op.getDpsInputs()[index];
  if (isRowMap(map))
    return operand;
  auto copy = operand.getDefiningOp<linalg::GenericOp>();
  if (!map.isIdentity() || !copy || copy.getNumDpsInputs() != 1 ||
      copy.getNumReductionLoops() != 0 ||
      !copy.getIndexingMapsArray()[1].isIdentity() ||
      !isRowMap(copy.getIndexingMapsArray()[0]) ||
      copy.getBody()->getTerminator()->getOperand(0) !=
          copy.getBody()->getArgument(0))
    return {};
  Value row = copy.getDpsInputs()[0];
  if (auto collapse = row.getDefiningOp<tensor::CollapseShapeOp>();
      collapse &&
      collapse.getSrcType().getRank() ==
          collapse.getResultType().getRank() + 1 &&
      collapse.getSrcType().getShape().back() == 1)
    row = collapse.getSrc();
  return row;
}

/// A row sum followed by element-wise functions of the row (torch-mlir's
/// mean as sum / n, then + eps and rsqrt): the summed tensor and the
/// function of the sum the chain computes, evaluated op by op.
struct RowChain {
  Value summed;
  Value sum;
  SmallVector<linalg::GenericOp> ops;

  std::optional<double> operator()(double s) const {
    for (linalg::GenericOp op : llvm::reverse(ops)) {
      std::optional<double> next = evaluateBody(*op.getBody(), {s});
      if (!next)
        return std::nullopt;
      s = *next;
    }
    return s;
  }

  static std::optional<RowChain> get(Value row) {
    RowChain chain;
    while (auto op = row.getDefiningOp<linalg::GenericOp>()) {
      if (Value summed = rowReductionInput(
              row, 0.0, [](ArrayRef<double> a) { return a[0] + a[1]; })) {
        chain.summed = summed;
        chain.sum = row;
        return chain;
      }
      if (!isRowwiseElementwise(op, 1))
        return std::nullopt;
      chain.ops.push_back(op);
      row = op.getDpsInputs()[0];
    }
    return std::nullopt;
  }

  /// Whether the chain computes `f` of the sum at a few sums.
  bool computes(function_ref<double(double)> f) const {
    return llvm::all_of(ArrayRef<double>{0.75, 3.0, 40.0}, [&](double s) {
      std::optional<double> got = (*this)(s);
      double want = f(s);
      return got && std::fabs(*got - want) <= 1e-6 * std::fabs(want);
    });
  }
};

/// A 1-D float constant of `size` entries that input `index` of `op`
/// reads along the last loop (a LayerNorm's gamma or beta).
bool readsChannelConstant(linalg::GenericOp op, unsigned index, int64_t size) {
  AffineMap map = op.getIndexingMapsArray()[index];
  DenseFPElementsAttr constant = getFloatConstant(op.getDpsInputs()[index]);
  return constant && constant.getType().getRank() == 1 &&
         constant.getNumElements() == size && map.getNumResults() == 1 &&
         map.getResult(0) ==
             getAffineDimExpr(map.getNumDims() - 1, op.getContext());
}

/// Layer normalization over the last dimension as torch-mlir decomposes
/// aten.native_layer_norm: `d = x - broadcast(sum(x) / n)`,
/// `r = rsqrt(sum(d * d) / n + eps)`, `d * broadcast(r) * gamma + beta`,
/// each step its own generic (broadcasts as copies of the collapsed row,
/// scalars converted in the bodies); without a weight or a bias
/// (elementwise_affine=False, bias=False) the product with gamma or the add
/// of beta is absent. Becomes the centering, the sum of squares and the
/// affine generic that FloatGraph's matchLayerNorm reads (the form of
/// myquant's exporter, an absent gamma as ones and beta as zeros), which
/// the dry run makes `myquant.layer_norm`. Every step is recognized by
/// evaluating it.
struct LayerNormFromParts : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  /// Whether `op` computes `f(x, c)` with `c` a constant per channel.
  static bool isChannelStep(linalg::GenericOp op, int64_t channels,
                            function_ref<double(ArrayRef<double>)> f) {
    SmallVector<SmallVector<double, 2>> pairs = {{1.5, 2.0}, {-3.0, 0.25}};
    return isRowwiseElementwise(op, 2) &&
           readsChannelConstant(op, 1, channels) && bodyComputes(op, pairs, f);
  }

  LogicalResult matchAndRewrite(linalg::GenericOp last,
                                PatternRewriter &rewriter) const override {
    auto sum = [](ArrayRef<double> a) { return a[0] + a[1]; };
    auto product = [](ArrayRef<double> a) { return a[0] * a[1]; };
    auto difference = [](ArrayRef<double> a) { return a[0] - a[1]; };
    SmallVector<SmallVector<double, 2>> pairs = {{1.5, 2.0}, {-3.0, 0.25}};
    auto type = dyn_cast<RankedTensorType>(last.getResult(0).getType());
    if (!type || !type.hasStaticShape() || type.getRank() < 2 ||
        !isRowwiseElementwise(last, 2))
      return failure();
    int64_t channels = type.getShape().back();
    // A product with gamma or an add of beta after `last` belongs to the
    // chain: it is matched from there.
    if (last->hasOneUse())
      if (auto user = dyn_cast<linalg::GenericOp>(*last->getUsers().begin());
          user && user.getDpsInputs()[0] == last.getResult(0) &&
          (isChannelStep(user, channels, sum) ||
           isChannelStep(user, channels, product)))
        return failure();
    linalg::GenericOp normalize = last;
    Value gamma, beta;
    if (isChannelStep(normalize, channels, sum)) {
      beta = normalize.getDpsInputs()[1];
      normalize =
          normalize.getDpsInputs()[0].getDefiningOp<linalg::GenericOp>();
    }
    if (normalize && isChannelStep(normalize, channels, product)) {
      gamma = normalize.getDpsInputs()[1];
      normalize =
          normalize.getDpsInputs()[0].getDefiningOp<linalg::GenericOp>();
    }
    // d * r, in either order.
    if (!normalize || normalize.getNumDpsInputs() != 2 ||
        normalize.getNumReductionLoops() != 0 ||
        !bodyComputes(normalize, pairs, product))
      return failure();
    unsigned rowIndex = rowOperand(normalize, 1) ? 1 : 0;
    Value centered = normalize.getDpsInputs()[1 - rowIndex];
    Value rstd = rowOperand(normalize, rowIndex);
    if (!rstd || !normalize.getIndexingMapsArray()[1 - rowIndex].isIdentity())
      return failure();
    // d = x - mean(x).
    auto center = centered.getDefiningOp<linalg::GenericOp>();
    if (!center || !isRowwiseElementwise(center, 2) ||
        !bodyComputes(center, pairs, difference))
      return failure();
    Value x = center.getDpsInputs()[0];
    Value meanRow = rowOperand(center, 1);
    auto n = static_cast<double>(channels);
    std::optional<RowChain> mean =
        meanRow ? RowChain::get(meanRow) : std::nullopt;
    if (!mean || mean->summed != x ||
        !mean->computes([&](double s) { return s / n; }))
      return failure();
    // r = rsqrt(sum(d * d) / n + eps), eps read off r at a zero sum.
    std::optional<RowChain> variance = RowChain::get(rstd);
    std::optional<double> atZero = variance ? (*variance)(0.0) : std::nullopt;
    if (!atZero || !(*atZero > 0))
      return failure();
    double eps = 1.0 / (*atZero * *atZero);
    auto square = variance->summed.getDefiningOp<linalg::GenericOp>();
    if (!variance->computes(
            [&](double s) { return 1.0 / std::sqrt(s / n + eps); }) ||
        !square || !isRowwiseElementwise(square, 2) ||
        square.getDpsInputs()[0] != centered ||
        square.getDpsInputs()[1] != centered ||
        !square.getIndexingMapsArray()[1].isIdentity() ||
        !bodyComputes(square, pairs, product))
      return failure();
    auto channelType = RankedTensorType::get({channels}, type.getElementType());
    auto splat = [&](double value) -> Value {
      return arith::ConstantOp::create(
          rewriter, last.getLoc(),
          DenseElementsAttr::get(
              channelType, ArrayRef<Attribute>{
                               FloatAttr::get(type.getElementType(), value)}));
    };
    if (!gamma)
      gamma = splat(1.0);
    if (!beta)
      beta = splat(0.0);
    rewriter.replaceOp(last, buildLayerNorm(rewriter, last, x, mean->sum, gamma,
                                            beta, n, eps));
    return success();
  }

  /// The exporter's form: `c = x - sum / n`, `q = sum(c * c)`,
  /// `c / sqrt(q / n + eps) * gamma + beta`, the row sums read with the
  /// map `sum` is written with.
  static Value buildLayerNorm(PatternRewriter &rewriter, linalg::GenericOp at,
                              Value x, Value sum, Value gamma, Value beta,
                              double n, double eps) {
    Location loc = at.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto type = cast<RankedTensorType>(at.getResult(0).getType());
    auto rowType = cast<RankedTensorType>(sum.getType());
    Type element = type.getElementType();
    unsigned rank = type.getRank();
    AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, ctx);
    SmallVector<AffineExpr> rowExprs;
    for (unsigned d = 0; d + 1 < rank; ++d)
      rowExprs.push_back(getAffineDimExpr(d, ctx));
    if (rowType.getRank() == type.getRank())
      rowExprs.push_back(getAffineConstantExpr(0, ctx));
    AffineMap row = AffineMap::get(rank, 0, rowExprs, ctx);
    AffineMap channel =
        AffineMap::get(rank, 0, getAffineDimExpr(rank - 1, ctx), ctx);
    auto constant = [&](OpBuilder &b, double value) -> Value {
      return arith::ConstantOp::create(b, loc, FloatAttr::get(element, value));
    };
    SmallVector<utils::IteratorType> parallel(rank,
                                              utils::IteratorType::parallel);
    Value empty =
        tensor::EmptyOp::create(rewriter, loc, type.getShape(), element);
    Value centered =
        linalg::GenericOp::create(
            rewriter, loc, type, ValueRange{x, sum}, empty,
            ArrayRef<AffineMap>{identity, row, identity}, parallel,
            [&](OpBuilder &b, Location l, ValueRange args) {
              Value mean = arith::DivFOp::create(b, l, args[1], constant(b, n));
              linalg::YieldOp::create(
                  b, l, ValueRange{arith::SubFOp::create(b, l, args[0], mean)});
            })
            .getResult(0);
    SmallVector<utils::IteratorType> reduce = parallel;
    reduce.back() = utils::IteratorType::reduction;
    Value zero = constant(rewriter, 0.0);
    Value rowEmpty =
        tensor::EmptyOp::create(rewriter, loc, rowType.getShape(), element);
    Value init =
        linalg::FillOp::create(rewriter, loc, zero, rowEmpty).getResult(0);
    Value squares =
        linalg::GenericOp::create(
            rewriter, loc, rowType, centered, init,
            ArrayRef<AffineMap>{identity, row}, reduce,
            [&](OpBuilder &b, Location l, ValueRange args) {
              Value sq = arith::MulFOp::create(b, l, args[0], args[0]);
              linalg::YieldOp::create(
                  b, l, ValueRange{arith::AddFOp::create(b, l, sq, args[1])});
            })
            .getResult(0);
    return linalg::GenericOp::create(
               rewriter, loc, type, ValueRange{centered, squares, gamma, beta},
               empty,
               ArrayRef<AffineMap>{identity, row, channel, channel, identity},
               parallel,
               [&](OpBuilder &b, Location l, ValueRange args) {
                 Value v = arith::DivFOp::create(b, l, args[1], constant(b, n));
                 v = arith::AddFOp::create(b, l, v, constant(b, eps));
                 v = math::SqrtOp::create(b, l, v);
                 v = arith::DivFOp::create(b, l, args[0], v);
                 v = arith::MulFOp::create(b, l, v, args[2]);
                 linalg::YieldOp::create(
                     b, l, ValueRange{arith::AddFOp::create(b, l, v, args[3])});
               })
        .getResult(0);
  }
};

/// Applies the patterns to every op, last op first (the greedy driver's
/// order: a bias add is rewritten before the broadcast it reads folds),
/// sweeping again until nothing changes. Unlike the greedy driver it
/// neither folds (`x / 1.0` is the average pool's division the recognizers
/// read) nor erases unused ops (the dry run diagnoses unused layers too):
/// it only rewrites the forms its patterns name, and erases what those
/// rewrites leave without users.
struct SweepDriver : RewriterBase::Listener {
  SweepDriver(Operation *scope, const FrozenRewritePatternSet &patterns)
      : scope(scope), applicator(patterns) {
    applicator.applyDefaultCostModel();
  }

  /// Whether the sweeps converged within `maxSweeps`.
  bool run(int maxSweeps) {
    PatternRewriter rewriter(scope->getContext());
    rewriter.setListener(this);
    for (int sweep = 0; sweep < maxSweeps; ++sweep) {
      changed = false;
      scope->walk([&](Operation *op) {
        if (op != scope)
          push(op);
      });
      while (!worklist.empty()) {
        Operation *op = worklist.pop_back_val();
        // Skips ops erased since they were pushed.
        if (!pending.erase(op))
          continue;
        rewriter.setInsertionPoint(op);
        // What a rewrite orphans goes before it is matched itself.
        if (succeeded(applicator.matchAndRewrite(op, rewriter)))
          eraseOrphans(rewriter);
      }
      if (!changed)
        return true;
    }
    return false;
  }

  // New and modified ops are matched next, as the greedy driver does.
  void notifyOperationInserted(Operation *op, OpBuilder::InsertPoint) override {
    changed = true;
    push(op);
  }
  void notifyOperationModified(Operation *op) override {
    changed = true;
    push(op);
  }
  void notifyOperationErased(Operation *op) override {
    changed = true;
    pending.erase(op);
    // Only ops of the function body are tracked: the patterns rewrite
    // those, and ops nested in erased bodies go with them.
    if (op->getParentOp() != scope)
      return;
    orphanCandidates.remove(op);
    for (Value operand : op->getOperands())
      if (Operation *producer = operand.getDefiningOp();
          producer && producer->getParentOp() == scope)
        orphanCandidates.insert(producer);
  }

private:
  /// An op pushed again moves to the top; its older entry is skipped.
  void push(Operation *op) {
    pending.insert(op);
    worklist.push_back(op);
  }

  /// Erases the producers of erased ops that lost their last user, and
  /// transitively theirs. Ops that were unused in the input stay.
  void eraseOrphans(RewriterBase &rewriter) {
    while (!orphanCandidates.empty()) {
      Operation *op = orphanCandidates.pop_back_val();
      if (isOpTriviallyDead(op))
        rewriter.eraseOp(op);
    }
  }

  Operation *scope;
  PatternApplicator applicator;
  bool changed = false;
  SmallVector<Operation *> worklist;
  llvm::DenseSet<Operation *> pending;
  llvm::SetVector<Operation *> orphanCandidates;
};

/// Each sweep rewrites what the previous one produced; the forms converge
/// in a few.
constexpr int kMaxSweeps = 16;

struct NormalizePass : myquant::impl::MyQuantNormalizeBase<NormalizePass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<SelectToMinMax, ConstantIndexToLoopDim, BroadcastBiasInit,
                 FoldBiasBroadcastIntoAdd, BiasSecond, ConstantBiasToVector,
                 FhwcToHwcf, HwcmToHwc, InsertSlicesToConcat,
                 SpecializeToNamedOp, FoldConstantLinalg, FoldConstantPad,
                 FoldConstantScalarArith, PoolDivisorToConstant,
                 SpatialMeanToPool, FoldChannelAffineIntoConv, SoftmaxFromParts,
                 DropUnusedGenericResult, LayerNormFromParts,
                 FoldConstantReshape<tensor::ExpandShapeOp>,
                 FoldConstantReshape<tensor::CollapseShapeOp>>(&getContext());
    FrozenRewritePatternSet frozen(std::move(patterns));
    if (SweepDriver(getOperation(), frozen).run(kMaxSweeps))
      return;
    getOperation()->emitError()
        << "normalization did not converge in " << kMaxSweeps << " sweeps";
    signalPassFailure();
  }
};

} // namespace
