//===- MyQuantToLinalg.cpp - myquant ops to integer-only linalg -----------===//
//
// Every myquant op becomes linalg/arith/tensor on the integer storage types
// of its quantized tensors. The arithmetic follows docs/NumericSpec.md; the
// requantization body mirrors myquant::fixedpoint bit for bit.
//
//===----------------------------------------------------------------------===//

#include "myquant/Conversion/MyQuantToLinalg/MyQuantToLinalg.h"

#include "myquant/Conversion/IntegerArith.h"
#include "myquant/Conversion/Passes.h"
#include "myquant/Dialect/MyQuant/IR/MyQuantOps.h"
#include "myquant/Dialect/MyQuant/IR/MyQuantTypeUtils.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Func/Transforms/FuncConversions.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/DialectConversion.h"

namespace myquant {
#define GEN_PASS_DEF_CONVERTMYQUANTTOLINALG
#include "myquant/Conversion/Passes.h.inc"
} // namespace myquant

using namespace mlir;
using namespace myquant;

StorageTypeConverter::StorageTypeConverter() {
  addConversion([](Type type) { return type; });
  addConversion([](quant::QuantizedType type) -> Type {
    return IntegerType::get(type.getContext(),
                            type.getStorageTypeIntegralWidth());
  });
  addConversion([this](RankedTensorType type) -> Type {
    return type.clone(convertType(type.getElementType()));
  });
  auto materialize = [](OpBuilder &builder, Type type, ValueRange inputs,
                        Location loc) -> Value {
    return UnrealizedConversionCastOp::create(builder, loc, type, inputs)
        .getResult(0);
  };
  addSourceMaterialization(materialize);
  addTargetMaterialization(materialize);
}

namespace {

//===----------------------------------------------------------------------===//
// Tensor-level helpers
//===----------------------------------------------------------------------===//

Value i32Vector(OpBuilder &b, Location loc, ArrayRef<int32_t> values) {
  auto type = RankedTensorType::get({static_cast<int64_t>(values.size())},
                                    b.getI32Type());
  return arith::ConstantOp::create(b, loc,
                                   DenseIntElementsAttr::get(type, values));
}

Value f64Vector(OpBuilder &b, Location loc, ArrayRef<double> values) {
  auto type = RankedTensorType::get({static_cast<int64_t>(values.size())},
                                    b.getF64Type());
  return arith::ConstantOp::create(b, loc,
                                   DenseFPElementsAttr::get(type, values));
}

/// Map from a rank-`rank` iteration space to a per-channel vector: the
/// channel dimension, or the single entry of a per-tensor vector.
AffineMap channelMap(MLIRContext *ctx, unsigned rank, int64_t size,
                     std::optional<unsigned> channelDim) {
  if (size == 1 || !channelDim)
    return AffineMap::get(rank, 0, getAffineConstantExpr(0, ctx));
  return AffineMap::get(rank, 0, getAffineDimExpr(*channelDim, ctx));
}

Value emptyTensor(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                  Type elementType) {
  return tensor::EmptyOp::create(b, loc, shape, elementType);
}

Value filled(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
             Type elementType, int64_t value) {
  Value init = emptyTensor(b, loc, shape, elementType);
  Value scalar = arith::ConstantIntOp::create(b, loc, elementType, value);
  return linalg::FillOp::create(b, loc, ValueRange{scalar}, ValueRange{init})
      .getResult(0);
}

SmallVector<utils::IteratorType> iterators(unsigned parallel,
                                           unsigned reduction) {
  SmallVector<utils::IteratorType> result(parallel,
                                          utils::IteratorType::parallel);
  result.append(reduction, utils::IteratorType::reduction);
  return result;
}

/// Pads height and width of a 4-D tensor with a constant storage value.
Value padSpatial(OpBuilder &b, Location loc, Value input, Layout layout,
                 ArrayRef<int64_t> padding, int64_t padValue) {
  if (llvm::all_of(padding, [](int64_t p) { return p == 0; }))
    return input;
  auto type = cast<RankedTensorType>(input.getType());
  LayoutDims dims = getLayoutDims(layout);
  unsigned h = dims.height, w = dims.width;
  SmallVector<OpFoldResult> low(4, b.getIndexAttr(0)),
      high(4, b.getIndexAttr(0));
  SmallVector<int64_t> shape(type.getShape());
  low[h] = b.getIndexAttr(padding[0]);
  low[w] = b.getIndexAttr(padding[1]);
  high[h] = b.getIndexAttr(padding[2]);
  high[w] = b.getIndexAttr(padding[3]);
  shape[h] += padding[0] + padding[2];
  shape[w] += padding[1] + padding[3];
  Value pad =
      arith::ConstantIntOp::create(b, loc, type.getElementType(), padValue);
  return tensor::PadOp::create(b, loc, type.clone(shape), input, low, high,
                               pad);
}

/// Applies `requant` per element of the integer tensor `acc` (after adding
/// the per-channel `offset`, if any) and returns a tensor of `storage`.
/// `rescaleMap`, when given, indexes the rescale vectors instead of the
/// channel (per-position rescales of average pooling).
Value buildRequantizeEpilogue(OpBuilder &b, Location loc, Value acc,
                              bool accSigned,
                              std::optional<unsigned> channelDim, Value offset,
                              const Requant &requant, IntegerType storage,
                              AffineMap rescaleMap = {}) {
  auto accType = cast<RankedTensorType>(acc.getType());
  unsigned rank = accType.getRank();
  MLIRContext *ctx = b.getContext();
  int64_t channels = requant.multiplier.size();
  if (!rescaleMap)
    rescaleMap = channelMap(ctx, rank, channels, channelDim);
  SmallVector<Value> inputs = {acc, i32Vector(b, loc, requant.multiplier),
                               i32Vector(b, loc, requant.shift)};
  SmallVector<AffineMap> maps = {AffineMap::getMultiDimIdentityMap(rank, ctx),
                                 rescaleMap, rescaleMap};
  if (offset) {
    inputs.push_back(offset);
    maps.push_back(channelMap(
        ctx, rank, cast<RankedTensorType>(offset.getType()).getDimSize(0),
        channelDim));
  }
  maps.push_back(AffineMap::getMultiDimIdentityMap(rank, ctx));
  Value init = emptyTensor(b, loc, accType.getShape(), storage);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, inputs, ValueRange{init}, maps,
      iterators(rank, 0), [&](OpBuilder &nb, Location nloc, ValueRange args) {
        IntegerArith body(nb, nloc);
        Value value = body.cast(args[0], nb.getI64Type(), accSigned);
        if (offset)
          value = body.add(value, body.cast(args[3], nb.getI64Type()));
        // An int64 accumulator (16-bit input) is rescaled exactly in 128
        // bits (docs/NumericSpec.md 6.3).
        Value result =
            accType.getElementType().isInteger(64)
                ? body.requantizeInt64(value, args[1], args[2], requant,
                                       storage)
                : body.requantize(value, args[1], args[2], requant, storage);
        linalg::YieldOp::create(nb, nloc, result);
      });
  return generic.getResult(0);
}

//===----------------------------------------------------------------------===//
// Computing rescales that the dry run did not precompute
//===----------------------------------------------------------------------===//

/// The accumulator of an op reading `input` (and, for a matmul, the stored
/// `rhs`): int64 for 16-bit storage (docs/NumericSpec.md 6.3), whose rescale
/// must round `single`; int32 otherwise. A 16-bit-lhs matmul of two
/// activations (attention's A V, 6.4) keeps int32 where its exact sum fits:
/// no bias, and `K * max|lhs - zl| * max|rhs - zr| <= 2^31 - 1` bounds every
/// partial sum (32767 * 255 per product: K <= 257). Constant weights keep the
/// int64 accumulator of 6.3.
FailureOr<IntegerType> accumulatorType(Operation *op, Type input,
                                       const Requant &requant, Value rhs = {}) {
  MLIRContext *ctx = op->getContext();
  unsigned width = getQuantParams(input)->storageWidth;
  if (width <= 8)
    return IntegerType::get(ctx, 32);
  if (requant.rounding != RoundingMode::Single)
    return op->emitOpError()
           << "has a " << width
           << "-bit input, whose int64 accumulator is rescaled with "
              "rounding = single only (gemmlowp is defined on int32)";
  auto matmul = dyn_cast<MatmulOp>(op);
  if (matmul && rhs && !matmul.getBias() && !matchPattern(rhs, m_Constant())) {
    int64_t k = matmul.getLhs().getType().getShape().back();
    int64_t product = getQuantParams(matmul.getLhs().getType())->maxCentered() *
                      getQuantParams(matmul.getRhs().getType())->maxCentered();
    if (!ShapedType::isDynamic(k) && product > 0 &&
        k <= int64_t(INT32_MAX) / product)
      return IntegerType::get(ctx, 32);
  }
  return IntegerType::get(ctx, 64);
}

/// The requantization of an op's int32 intermediate to its result: its
/// one rescale and its clamp.
FailureOr<Requant> resultRequant(RescaleOpInterface op, RoundingMode rounding) {
  return makeRequant(op, op.getRescaleSlots().front(), rounding,
                     op.getClampAttr(), op->getResult(0).getType());
}

bool hasStaticShapes(Operation *op) {
  return llvm::all_of(op->getOperandTypes(),
                      [](Type t) {
                        auto shaped = dyn_cast<ShapedType>(t);
                        return !shaped || shaped.hasStaticShape();
                      }) &&
         llvm::all_of(op->getResultTypes(), [](Type t) {
           return cast<ShapedType>(t).hasStaticShape();
         });
}

template <typename OpTy> struct MyQuantPattern : OpConversionPattern<OpTy> {
  MyQuantPattern(const TypeConverter &converter, MLIRContext *ctx,
                 RoundingMode rounding, bool dualMac)
      : OpConversionPattern<OpTy>(converter, ctx), rounding(rounding),
        dualMac(dualMac) {}

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const final {
    if (!hasStaticShapes(op))
      return op.emitOpError("lowering needs static shapes");
    FailureOr<Value> result = lower(op, adaptor, rewriter);
    if (failed(result))
      return failure();
    rewriter.replaceOp(op, *result);
    return success();
  }

  virtual FailureOr<Value> lower(OpTy op, typename OpTy::Adaptor adaptor,
                                 ConversionPatternRewriter &rewriter) const = 0;

  /// Rounding for ops without a precomputed rescale.
  RoundingMode rounding;
  /// Whether convolutions and matmuls may use the ARM DSP dual MAC.
  bool dualMac;
};

//===----------------------------------------------------------------------===//
// Conversions at the float boundary
//===----------------------------------------------------------------------===//

struct QuantizeLowering : MyQuantPattern<QuantizeOp> {
  using MyQuantPattern::MyQuantPattern;
  FailureOr<Value> lower(QuantizeOp op, QuantizeOp::Adaptor adaptor,
                         ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    QuantParams params = *getQuantParams(op.getType());
    Storage storage = storageOf(op.getType());
    auto type = op.getType();
    unsigned rank = type.getRank();
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<double> zeroPoints(params.zeroPoints.begin(),
                                   params.zeroPoints.end());
    int64_t channels = params.scales.size();
    SmallVector<AffineMap> maps = {
        AffineMap::getMultiDimIdentityMap(rank, ctx),
        channelMap(ctx, rank, channels, params.axis),
        channelMap(ctx, rank, channels, params.axis),
        AffineMap::getMultiDimIdentityMap(rank, ctx)};
    Value init = emptyTensor(rewriter, loc, type.getShape(), storage.type);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{init.getType()},
        ValueRange{adaptor.getInput(), f64Vector(rewriter, loc, params.scales),
                   f64Vector(rewriter, loc, zeroPoints)},
        ValueRange{init}, maps, iterators(rank, 0),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value x = args[0];
          if (x.getType() != b.getF64Type())
            x = arith::ExtFOp::create(b, l, b.getF64Type(), x);
          Value q = math::RoundEvenOp::create(
              b, l, arith::DivFOp::create(b, l, x, args[1]));
          q = arith::AddFOp::create(b, l, q, args[2]);
          auto bound = [&](int64_t v) {
            return arith::ConstantOp::create(
                b, l, b.getF64FloatAttr(static_cast<double>(v)));
          };
          // maximumf/minimumf propagate NaN; fptosi of NaN is poison, so
          // NaN inputs are mapped to the zero point first.
          Value isNan =
              arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNO, q, q);
          q = arith::SelectOp::create(b, l, isNan, args[2], q);
          q = arith::MinimumFOp::create(
              b, l, arith::MaximumFOp::create(b, l, q, bound(storage.min)),
              bound(storage.max));
          Value i = arith::FPToSIOp::create(b, l, b.getI64Type(), q);
          linalg::YieldOp::create(b, l,
                                  IntegerArith(b, l).cast(i, storage.type));
        });
    return generic.getResult(0);
  }
};

struct DequantizeLowering : MyQuantPattern<DequantizeOp> {
  using MyQuantPattern::MyQuantPattern;
  FailureOr<Value> lower(DequantizeOp op, DequantizeOp::Adaptor adaptor,
                         ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    QuantParams params = *getQuantParams(op.getInput().getType());
    // Their scales are not per axis (the params hold the unit scales).
    if (params.groupAxis)
      return op.emitOpError("cannot lower the dequantization of weights "
                            "quantized per group (only a matmul reads them)");
    Storage storage = storageOf(op.getInput().getType());
    auto type = op.getType();
    unsigned rank = type.getRank();
    MLIRContext *ctx = rewriter.getContext();
    int64_t channels = params.scales.size();
    SmallVector<double> zeroPoints(params.zeroPoints.begin(),
                                   params.zeroPoints.end());
    SmallVector<AffineMap> maps = {
        AffineMap::getMultiDimIdentityMap(rank, ctx),
        channelMap(ctx, rank, channels, params.axis),
        channelMap(ctx, rank, channels, params.axis),
        AffineMap::getMultiDimIdentityMap(rank, ctx)};
    Value init =
        emptyTensor(rewriter, loc, type.getShape(), type.getElementType());
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{init.getType()},
        ValueRange{adaptor.getInput(), f64Vector(rewriter, loc, params.scales),
                   f64Vector(rewriter, loc, zeroPoints)},
        ValueRange{init}, maps, iterators(rank, 0),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value wide = IntegerArith(b, l).cast(args[0], b.getI64Type(),
                                               storage.isSigned);
          Value x = arith::SIToFPOp::create(b, l, b.getF64Type(), wide);
          x = arith::MulFOp::create(
              b, l, arith::SubFOp::create(b, l, x, args[2]), args[1]);
          if (args[3].getType() != b.getF64Type())
            x = arith::TruncFOp::create(b, l, args[3].getType(), x);
          linalg::YieldOp::create(b, l, x);
        });
    return generic.getResult(0);
  }
};

//===----------------------------------------------------------------------===//
// Requantize, clamp, table
//===----------------------------------------------------------------------===//

struct RequantizeLowering : MyQuantPattern<RequantizeOp> {
  using MyQuantPattern::MyQuantPattern;
  FailureOr<Value> lower(RequantizeOp op, RequantizeOp::Adaptor adaptor,
                         ConversionPatternRewriter &rewriter) const override {
    QuantParams in = *getQuantParams(op.getInput().getType());
    SmallVector<int32_t> negZeroPoints;
    for (int64_t zp : in.zeroPoints)
      negZeroPoints.push_back(-zp);
    FailureOr<Requant> requant = resultRequant(op, rounding);
    if (failed(requant))
      return failure();
    Location loc = op.getLoc();
    IntegerType storage = storageOf(op.getType()).type;
    // The rescale of per-channel factors runs along their axis.
    std::optional<unsigned> axis = in.axis;
    if (std::optional<uint64_t> factorAxis = op.getFactorAxis())
      axis = static_cast<unsigned>(*factorAxis);
    SmallVector<int32_t> signs = op.getFactorSigns();
    if (llvm::all_of(signs, [](int32_t s) { return s > 0; }))
      return buildRequantizeEpilogue(
          rewriter, loc, adaptor.getInput(), in.isSigned, axis,
          i32Vector(rewriter, loc, negZeroPoints), *requant, storage);
    // Negative factors negate the operand's difference to its zero point
    // before the rescale (NumericSpec 3.4).
    Value difference = signedDifference(rewriter, loc, adaptor.getInput(),
                                        in.isSigned, in.zeroPoints[0],
                                        i32Vector(rewriter, loc, signs), axis);
    return buildRequantizeEpilogue(rewriter, loc, difference,
                                   /*accSigned=*/true, axis, Value(), *requant,
                                   storage);
  }

private:
  /// The int32 tensor sign[c] * (x - zx), `sign` indexed along `axis`.
  static Value signedDifference(OpBuilder &b, Location loc, Value input,
                                bool isSigned, int64_t zeroPoint, Value signs,
                                std::optional<unsigned> axis) {
    auto type = cast<RankedTensorType>(input.getType());
    unsigned rank = type.getRank();
    MLIRContext *ctx = b.getContext();
    int64_t channels = cast<RankedTensorType>(signs.getType()).getDimSize(0);
    AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
    Value init = emptyTensor(b, loc, type.getShape(), b.getI32Type());
    return linalg::GenericOp::create(
               b, loc, TypeRange{init.getType()}, ValueRange{input, signs},
               ValueRange{init},
               SmallVector<AffineMap>{id, channelMap(ctx, rank, channels, axis),
                                      id},
               iterators(rank, 0),
               [&](OpBuilder &nb, Location nloc, ValueRange args) {
                 IntegerArith body(nb, nloc);
                 Type i32 = nb.getI32Type();
                 Value x = body.cast(args[0], i32, isSigned);
                 Value d = body.sub(x, body.constant(i32, zeroPoint));
                 linalg::YieldOp::create(nb, nloc, body.mul(d, args[1]));
               })
        .getResult(0);
  }
};

/// Element-wise map over one storage tensor into another.
template <typename BodyFn>
Value mapElements(OpBuilder &b, Location loc, Value input, Type resultElement,
                  BodyFn body) {
  auto type = cast<RankedTensorType>(input.getType());
  unsigned rank = type.getRank();
  AffineMap id = AffineMap::getMultiDimIdentityMap(rank, b.getContext());
  Value init = emptyTensor(b, loc, type.getShape(), resultElement);
  return linalg::GenericOp::create(
             b, loc, TypeRange{init.getType()}, ValueRange{input},
             ValueRange{init}, SmallVector<AffineMap>{id, id},
             iterators(rank, 0),
             [&](OpBuilder &nb, Location nloc, ValueRange args) {
               linalg::YieldOp::create(nb, nloc, body(nb, nloc, args[0]));
             })
      .getResult(0);
}

struct ClampLowering : MyQuantPattern<ClampOp> {
  using MyQuantPattern::MyQuantPattern;
  FailureOr<Value> lower(ClampOp op, ClampOp::Adaptor adaptor,
                         ConversionPatternRewriter &rewriter) const override {
    Storage storage = storageOf(op.getType());
    int64_t lo = op.getBounds().getMin(), hi = op.getBounds().getMax();
    return mapElements(
        rewriter, op.getLoc(), adaptor.getInput(), storage.type,
        [&](OpBuilder &b, Location l, Value x) {
          IntegerArith body(b, l);
          Value wide = body.cast(x, b.getI64Type(), storage.isSigned);
          return body.cast(body.clamp(wide, lo, hi), storage.type);
        });
  }
};

struct TableLowering : MyQuantPattern<TableOp> {
  using MyQuantPattern::MyQuantPattern;
  FailureOr<Value> lower(TableOp op, TableOp::Adaptor adaptor,
                         ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Storage in = storageOf(op.getInput().getType());
    Storage out = storageOf(op.getType());
    SmallVector<APInt> entries;
    for (int32_t v : op.getValues())
      entries.push_back(APInt(out.type.getWidth(), v, out.isSigned));
    auto tableType =
        RankedTensorType::get({static_cast<int64_t>(entries.size())}, out.type);
    Value table = arith::ConstantOp::create(
        rewriter, loc, DenseIntElementsAttr::get(tableType, entries));
    bool interpolate = in.type.getWidth() == 16;
    return mapElements(
        rewriter, loc, adaptor.getInput(), out.type,
        [&](OpBuilder &b, Location l, Value x) -> Value {
          IntegerArith body(b, l);
          auto entry = [&](Value position) {
            Value index =
                arith::IndexCastOp::create(b, l, b.getIndexType(), position);
            return tensor::ExtractOp::create(b, l, table, ValueRange{index})
                .getResult();
          };
          Value wide = body.cast(x, b.getI64Type(), in.isSigned);
          if (!interpolate)
            return entry(body.sub(wide, body.i64(in.min)));
          // docs/NumericSpec.md 3.8: u = x + 32768 falls into segment u >> 7
          // at r = u & 127; out = a + (((c - a) * r + 64) >> 7) between its
          // entries a and c, in int64.
          Value u = body.sub(wide, body.i64(kTable16Origin));
          Value step = body.i64(kTable16StepBits);
          Value segment = body.shr(u, step);
          Value r = arith::AndIOp::create(
              b, l, u, body.i64((int64_t(1) << kTable16StepBits) - 1));
          Value a = body.cast(entry(segment), b.getI64Type(), out.isSigned);
          Value c = body.cast(entry(body.add(segment, body.i64(1))),
                              b.getI64Type(), out.isSigned);
          Value delta =
              body.shr(body.add(body.mul(body.sub(c, a), r),
                                body.i64(int64_t(1) << (kTable16StepBits - 1))),
                       step);
          return body.cast(body.add(a, delta), out.type, out.isSigned);
        });
  }
};

//===----------------------------------------------------------------------===//
// Softmax and layer normalization: rows along the last dimension
//===----------------------------------------------------------------------===//

/// The shapes and maps of an op computing along the last dimension of a
/// static `shape`: per-element loops over it, per-row values of the other
/// dimensions.
struct Rows {
  /// For `op` mapping its 8-bit per-tensor operand to its result of the
  /// same shape.
  explicit Rows(Operation *op)
      : in(storageOf(op->getOperand(0).getType())),
        out(storageOf(op->getResult(0).getType())),
        zeroPoint(getQuantParams(op->getResult(0).getType())->zeroPoints[0]),
        shape(cast<RankedTensorType>(op->getResult(0).getType()).getShape()),
        rows(shape.drop_back()), rank(shape.size()),
        element(AffineMap::getMultiDimIdentityMap(rank, op->getContext())),
        row(AffineMap::getMultiDimIdentityMap(rank - 1, op->getContext())),
        toRow(element.dropResult(rank - 1)),
        toChannel(AffineMap::get(
            rank, 0, getAffineDimExpr(rank - 1, op->getContext()))) {}

  /// An input storage value as i64.
  Value widen(IntegerArith &a, Value x) const {
    return a.cast(x, IntegerType::get(x.getContext(), 64), in.isSigned);
  }
  /// `y + zp` clamped to the result's storage range, in its storage type.
  Value store(IntegerArith &a, Value y) const {
    return a.cast(a.clamp(a.add(y, a.i64(zeroPoint)), out.min, out.max),
                  out.type);
  }

  /// Reduces `inputs` (read with `maps`) along the last dimension into an
  /// i64 value per row, from `init`; `body(b, l, args)` returns the new
  /// accumulator from the elements and the accumulator (the last arg).
  template <typename BodyFn>
  Value reduce(OpBuilder &b, Location loc, ValueRange inputs,
               SmallVector<AffineMap> maps, int64_t init, BodyFn body) const {
    maps.push_back(toRow);
    Type i64 = b.getI64Type();
    return linalg::GenericOp::create(
               b, loc, TypeRange{RankedTensorType::get(rows, i64)}, inputs,
               filled(b, loc, rows, i64, init), maps, iterators(rank - 1, 1),
               [&](OpBuilder &nb, Location l, ValueRange args) {
                 linalg::YieldOp::create(nb, l, body(nb, l, args));
               })
        .getResult(0);
  }

  /// `results` i64 values per row computed from per-row `inputs`.
  template <typename BodyFn>
  SmallVector<Value> perRow(OpBuilder &b, Location loc, ValueRange inputs,
                            unsigned results, BodyFn body) const {
    Type type = RankedTensorType::get(rows, b.getI64Type());
    SmallVector<Value> inits;
    for (unsigned i = 0; i < results; ++i)
      inits.push_back(emptyTensor(b, loc, rows, b.getI64Type()));
    SmallVector<AffineMap> maps(inputs.size() + results, row);
    auto op = linalg::GenericOp::create(
        b, loc, SmallVector<Type>(results, type), inputs, inits, maps,
        iterators(rank - 1, 0),
        [&](OpBuilder &nb, Location l, ValueRange args) {
          linalg::YieldOp::create(nb, l, body(nb, l, args));
        });
    return SmallVector<Value>(op.getResults());
  }

  /// The result of `storage` element type computed per element from
  /// `inputs` read with `maps`.
  template <typename BodyFn>
  Value perElement(OpBuilder &b, Location loc, ValueRange inputs,
                   SmallVector<AffineMap> maps, IntegerType storage,
                   BodyFn body) const {
    maps.push_back(element);
    return linalg::GenericOp::create(
               b, loc, TypeRange{RankedTensorType::get(shape, storage)}, inputs,
               emptyTensor(b, loc, shape, storage), maps, iterators(rank, 0),
               [&](OpBuilder &nb, Location l, ValueRange args) {
                 linalg::YieldOp::create(nb, l, body(nb, l, args));
               })
        .getResult(0);
  }

  Storage in, out;
  int64_t zeroPoint;
  ArrayRef<int64_t> shape, rows;
  unsigned rank;
  AffineMap element, row, toRow, toChannel;
};

Value i64Vector(OpBuilder &b, Location loc, ArrayRef<int64_t> values) {
  auto type = RankedTensorType::get({static_cast<int64_t>(values.size())},
                                    b.getI64Type());
  return arith::ConstantOp::create(b, loc,
                                   DenseIntElementsAttr::get(type, values));
}

/// `(v + 2^(shift-1)) >> shift`: rounding half up, for `shift` >= 1.
Value roundingShift(IntegerArith &a, Value v, Value shift) {
  Value half = a.shl(a.i64(1), a.sub(shift, a.i64(1)));
  return a.shr(a.add(v, half), shift);
}

/// The Q16 exponential `2^16 * 2^-t` of a 16-bit softmax input's distance
/// `d` to its row maximum (docs/NumericSpec.md 6.4): `t = d * m0 / 2^shift`
/// (`m0 * 2^-shift` = `s_in * log2(e)`); its fraction in Q30 goes through
/// the polynomial, its integer part `q` shifts the result right.
Value computedExponential(IntegerArith &a, Value d, int64_t m0, int64_t shift) {
  Value t = a.mul(d, a.i64(m0));
  Value q = a.shr(t, a.i64(shift));
  Value fraction = a.sub(t, a.shl(q, a.i64(shift)));
  Value u = shift >= kSoftmaxExpFractionBits
                ? a.shr(fraction, a.i64(shift - kSoftmaxExpFractionBits))
                : a.shl(fraction, a.i64(kSoftmaxExpFractionBits - shift));
  ArrayRef<int64_t> c(kSoftmaxExpPolynomial);
  Value p = a.i64(c.back());
  for (int64_t coefficient : llvm::reverse(c.drop_back()))
    p = a.add(a.shr(a.mul(p, u), a.i64(kSoftmaxExpFractionBits)),
              a.i64(coefficient));
  Value right = a.add(a.min(q, a.i64(kSoftmaxExpMaxShift)),
                      a.i64(kSoftmaxExpFractionBits - kSoftmaxExpBits));
  return roundingShift(a, p, right);
}

/// docs/NumericSpec.md 3.10 (a 16-bit input 6.4), in three passes over each
/// row: its maximum, the sum of the exponentials (and one reciprocal per
/// row), and the normalized exponentials.
struct SoftmaxLowering : MyQuantPattern<SoftmaxOp> {
  using MyQuantPattern::MyQuantPattern;
  FailureOr<Value> lower(SoftmaxOp op, SoftmaxOp::Adaptor adaptor,
                         ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getInput();
    Rows rows(op);
    // An 8-bit input reads its exponentials from the table, a 16-bit one
    // computes them from the multiplier.
    Value table;
    SmallVector<RescaleSlot> slots = op.getRescaleSlots();
    std::optional<Requant> expRescale;
    if (slots.empty()) {
      SmallVector<int64_t> entries(*op.getExpTable());
      table = i64Vector(rewriter, loc, entries);
    } else {
      FailureOr<Requant> requant = makeRequant(
          op, slots.front(), RoundingMode::Single, ClampAttr(), op.getType());
      if (failed(requant))
        return failure();
      expRescale = *requant;
    }
    // The exponential of x[i] given its row's maximum m.
    auto exponential = [&](OpBuilder &b, Location l, Value xi,
                           Value m) -> Value {
      IntegerArith a(b, l);
      Value d = a.sub(m, rows.widen(a, xi));
      if (expRescale)
        return computedExponential(a, d, expRescale->multiplier[0],
                                   expRescale->shift[0]);
      return tensor::ExtractOp::create(
          b, l, table,
          ValueRange{arith::IndexCastOp::create(b, l, b.getIndexType(), d)});
    };
    Value max = rows.reduce(rewriter, loc, {x}, {rows.element}, rows.in.min,
                            [&](OpBuilder &b, Location l, ValueRange v) {
                              IntegerArith a(b, l);
                              return a.max(rows.widen(a, v[0]), v[1]);
                            });
    Value sum = rows.reduce(rewriter, loc, {x, max}, {rows.element, rows.toRow},
                            0, [&](OpBuilder &b, Location l, ValueRange v) {
                              return IntegerArith(b, l).add(
                                  v[2], exponential(b, l, v[0], v[1]));
                            });
    Value reciprocal =
        rows.perRow(rewriter, loc, {sum}, 1,
                    [&](OpBuilder &b, Location l, ValueRange v) -> Value {
                      IntegerArith a(b, l);
                      Value one = a.i64(int64_t(1) << kSoftmaxReciprocalBits);
                      return arith::DivSIOp::create(b, l, one, v[0]);
                    })
            .front();
    // e * R <= 2^40 is the probability in Q40: 8 or 15 bits of it remain.
    int64_t shift =
        kSoftmaxReciprocalBits -
        getSoftmaxOutputBits(getQuantParams(op.getType())->storageWidth);
    return rows.perElement(
        rewriter, loc, {x, max, reciprocal},
        {rows.element, rows.toRow, rows.toRow}, rows.out.type,
        [&](OpBuilder &b, Location l, ValueRange v) {
          IntegerArith a(b, l);
          Value scaled = a.mul(exponential(b, l, v[0], v[1]), v[2]);
          return rows.store(a, roundingShift(a, scaled, a.i64(shift)));
        });
  }
};

/// Newton steps from 2^31 that reach floor(sqrt(n)) for every n in
/// [2^59, 2^61) (docs/NumericSpec.md 3.11), before the final correction.
constexpr int kLayerNormNewtonSteps = 6;

/// docs/NumericSpec.md 3.11 (a 16-bit input 6.4, a per-channel one 6.6),
/// in three passes over each row: its sum, the sum of squared deviations
/// (then the inverse square root per row), and the normalized, scaled
/// elements.
struct LayerNormLowering : MyQuantPattern<LayerNormOp> {
  using MyQuantPattern::MyQuantPattern;
  FailureOr<Value> lower(LayerNormOp op, LayerNormOp::Adaptor adaptor,
                         ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getInput();
    Rows rows(op);
    int64_t channels = rows.shape.back();
    // A per-channel input (6.6) is first read in units of its finest scale,
    // `(x - zp) << input_shifts[c]`, as i64 (which `widen` leaves alone).
    if (std::optional<ArrayRef<int64_t>> shifts = op.getInputShifts()) {
      int64_t zeroPoint =
          getQuantParams(op.getInput().getType())->zeroPoints[0];
      x = rows.perElement(
          rewriter, loc, {x, i64Vector(rewriter, loc, *shifts)},
          {rows.element, rows.toChannel}, rewriter.getI64Type(),
          [&](OpBuilder &b, Location l, ValueRange v) {
            IntegerArith a(b, l);
            return a.shl(a.sub(rows.widen(a, v[0]), a.i64(zeroPoint)), v[1]);
          });
    }
    // d = C * x - sum(x): the deviation from the mean, times C.
    auto deviation = [&](IntegerArith &a, Value xi, Value sum) {
      return a.sub(a.mul(a.i64(channels), rows.widen(a, xi)), sum);
    };
    Value sum = rows.reduce(rewriter, loc, {x}, {rows.element}, 0,
                            [&](OpBuilder &b, Location l, ValueRange v) {
                              IntegerArith a(b, l);
                              return a.add(v[1], rows.widen(a, v[0]));
                            });
    Value squares =
        rows.reduce(rewriter, loc, {x, sum}, {rows.element, rows.toRow}, 0,
                    [&](OpBuilder &b, Location l, ValueRange v) {
                      IntegerArith a(b, l);
                      Value d = deviation(a, v[0], v[1]);
                      return a.add(v[2], a.mul(d, d));
                    });
    int64_t epsilon = op.getEpsilonAttr().getInt();
    int64_t squaresShift = getLayerNormSquaresShift(op.getNormInputBits());
    SmallVector<Value> scale = rows.perRow(
        rewriter, loc, {squares}, 2,
        [&](OpBuilder &b, Location l, ValueRange v) -> SmallVector<Value> {
          IntegerArith a(b, l);
          Value squaresScaled = squaresShift >= 0
                                    ? a.shl(v[0], a.i64(squaresShift))
                                    : a.shr(v[0], a.i64(-squaresShift));
          Value sumD = a.max(a.add(squaresScaled, a.i64(epsilon)), a.i64(1));
          Value bits =
              a.sub(a.i64(64), math::CountLeadingZerosOp::create(b, l, sumD));
          Value k = a.shr(a.sub(a.i64(61), bits), a.i64(1));
          Value n = a.shl(sumD, a.add(k, k));
          Value root = a.i64(int64_t(1) << 31);
          for (int i = 0; i < kLayerNormNewtonSteps; ++i)
            root = a.shr(a.add(root, arith::DivSIOp::create(b, l, n, root)),
                         a.i64(1));
          root = a.select(arith::CmpIPredicate::sgt, a.mul(root, root), n,
                          a.sub(root, a.i64(1)), root);
          Value rho =
              arith::DivSIOp::create(b, l, a.i64(int64_t(1) << 61), root);
          // u = d * 2^(16 + a/2) / sqrt(D): units of 2^-16 / sqrt(C)
          // whatever the shift a of the squares.
          return {rho, a.sub(a.i64(45 - squaresShift / 2), k)};
        });
    SmallVector<int64_t> gamma(op.getGamma()), beta(op.getBeta());
    return rows.perElement(
        rewriter, loc,
        {x, sum, scale[0], scale[1], i64Vector(rewriter, loc, gamma),
         i64Vector(rewriter, loc, beta)},
        {rows.element, rows.toRow, rows.toRow, rows.toRow, rows.toChannel,
         rows.toChannel},
        rows.out.type, [&](OpBuilder &b, Location l, ValueRange v) {
          IntegerArith a(b, l);
          Value u =
              roundingShift(a, a.mul(deviation(a, v[0], v[1]), v[2]), v[3]);
          Value acc = a.add(a.mul(u, v[4]), v[5]);
          return rows.store(
              a, roundingShift(a, acc, a.i64(kLayerNormOutputShift)));
        });
  }
};

//===----------------------------------------------------------------------===//
// Element-wise binary ops
//===----------------------------------------------------------------------===//

/// Builds `out[i] = body(lhs[i], rhs[i], channel[c])` over storage tensors
/// of `resultShape`; an operand dimension of size 1 broadcasts, and each of
/// `perChannel` (1-D, the size of the last dimension) is read at the
/// element's index `c` along the last dimension.
template <typename BodyFn>
Value zipElements(OpBuilder &b, Location loc, Value lhs, Value rhs,
                  ValueRange perChannel, ArrayRef<int64_t> resultShape,
                  Type resultElement, BodyFn body) {
  unsigned rank = resultShape.size();
  MLIRContext *ctx = b.getContext();
  auto readMap = [&](Value operand) {
    ArrayRef<int64_t> shape =
        cast<RankedTensorType>(operand.getType()).getShape();
    SmallVector<AffineExpr> exprs;
    for (unsigned d = 0; d < rank; ++d)
      exprs.push_back(shape[d] == resultShape[d]
                          ? getAffineDimExpr(d, ctx)
                          : getAffineConstantExpr(0, ctx));
    return AffineMap::get(rank, 0, exprs, ctx);
  };
  AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
  SmallVector<AffineMap> maps{readMap(lhs), readMap(rhs)};
  maps.append(perChannel.size(),
              AffineMap::get(rank, 0, getAffineDimExpr(rank - 1, ctx)));
  maps.push_back(id);
  SmallVector<Value> inputs{lhs, rhs};
  llvm::append_range(inputs, perChannel);
  Value init = emptyTensor(b, loc, resultShape, resultElement);
  return linalg::GenericOp::create(
             b, loc, TypeRange{init.getType()}, inputs, ValueRange{init}, maps,
             iterators(rank, 0),
             [&](OpBuilder &nb, Location nloc, ValueRange args) {
               linalg::YieldOp::create(nb, nloc,
                                       body(nb, nloc, args[0], args[1],
                                            args.slice(2, perChannel.size())));
             })
      .getResult(0);
}

struct AddLowering : MyQuantPattern<AddOp> {
  using MyQuantPattern::MyQuantPattern;

  FailureOr<Value> lower(AddOp op, AddOp::Adaptor adaptor,
                         ConversionPatternRewriter &rewriter) const override {
    FailureOr<AddRescales> rescales = getAddRescales(op, rounding);
    if (failed(rescales))
      return failure();
    Location loc = op.getLoc();
    ArrayRef<int64_t> shape = op.getType().getShape();
    const AddRescales &r = *rescales;
    // Per-channel values (docs/NumericSpec.md 6.6): each rescale's
    // multiplier and shift read per channel of the last dimension.
    SmallVector<Value> perChannel;
    if (r.lhs.shift.size() > 1 || r.rhs.shift.size() > 1 ||
        r.result.shift.size() > 1) {
      int64_t channels = shape.back();
      auto vector = [&](ArrayRef<int32_t> values) {
        SmallVector<int32_t> full(values.begin(), values.end());
        if (full.size() == 1)
          full.assign(channels, values[0]);
        auto type = RankedTensorType::get({channels}, rewriter.getI32Type());
        return arith::ConstantOp::create(
            rewriter, loc, DenseIntElementsAttr::get(type, ArrayRef(full)));
      };
      for (const Requant *q : {&r.lhs, &r.rhs, &r.result}) {
        perChannel.push_back(vector(q->multiplier));
        perChannel.push_back(vector(q->shift));
      }
    }
    return zipElements(
        rewriter, loc, adaptor.getLhs(), adaptor.getRhs(), perChannel, shape,
        r.resultStorage.type,
        [&](OpBuilder &b, Location l, Value x, Value y, ValueRange channel) {
          IntegerArith a(b, l);
          return channel.empty()
                     ? a.quantizedAdd(x, y, r)
                     : a.quantizedAdd(x, y, r, llvm::to_vector(channel));
        });
  }
};

struct MulLowering : MyQuantPattern<MulOp> {
  using MyQuantPattern::MyQuantPattern;
  FailureOr<Value> lower(MulOp op, MulOp::Adaptor adaptor,
                         ConversionPatternRewriter &rewriter) const override {
    QuantParams a = *getQuantParams(op.getLhs().getType());
    QuantParams bq = *getQuantParams(op.getRhs().getType());
    FailureOr<Requant> requant = resultRequant(op, rounding);
    if (failed(requant))
      return failure();
    Storage ls = storageOf(op.getLhs().getType()),
            rs = storageOf(op.getRhs().getType()), os = storageOf(op.getType());
    return zipElements(
        rewriter, op.getLoc(), adaptor.getLhs(), adaptor.getRhs(), {},
        op.getType().getShape(), os.type,
        [&](OpBuilder &b, Location l, Value x, Value y, ValueRange) {
          IntegerArith body(b, l);
          Type i32 = b.getI32Type();
          Value product =
              body.mul(body.sub(body.cast(x, b.getI64Type(), ls.isSigned),
                                body.i64(a.zeroPoints[0])),
                       body.sub(body.cast(y, b.getI64Type(), rs.isSigned),
                                body.i64(bq.zeroPoints[0])));
          return body.requantize(
              product, body.constant(i32, requant->multiplier[0]),
              body.constant(i32, requant->shift[0]), *requant, os.type);
        });
  }
};

//===----------------------------------------------------------------------===//
// Convolution and matmul: int32 accumulation, then the epilogue
//===----------------------------------------------------------------------===//

/// What a multiply-accumulate of activations by weights needs: zero points
/// to subtract, storages, and the bias its epilogue adds.
struct MacOperands {
  Storage x, w;
  int64_t zx, zw;
  Value bias;
};

/// Body of a multiply-accumulate: acc + (x - zx) * (w - zw) in the
/// accumulator's type (i32, or i64 for a 16-bit input).
linalg::GenericOp buildMac(OpBuilder &b, Location loc, Value x, Value w,
                           Value acc, ArrayRef<AffineMap> maps,
                           unsigned parallel, unsigned reduction,
                           const MacOperands &mac) {
  return linalg::GenericOp::create(
      b, loc, TypeRange{acc.getType()}, ValueRange{x, w}, ValueRange{acc}, maps,
      iterators(parallel, reduction),
      [&](OpBuilder &nb, Location l, ValueRange args) {
        IntegerArith body(nb, l);
        Type accType = getElementTypeOrSelf(acc);
        auto centered = [&](Value v, const Storage &s, int64_t zp) {
          Value wide = body.cast(v, accType, s.isSigned);
          return zp == 0 ? wide : body.sub(wide, body.constant(accType, zp));
        };
        Value xv = centered(args[0], mac.x, mac.zx);
        Value wv = centered(args[1], mac.w, mac.zw);
        linalg::YieldOp::create(nb, l, body.add(args[2], body.mul(xv, wv)));
      });
}

/// The declaration of ARM intrinsic `name` on i32 values, made once per
/// module. The intrinsic is called as a declared function: the
/// deallocation pipeline rejects ops with unknown memory effects
/// (llvm.call_intrinsic) but not calls, and LLVM takes a function named
/// llvm.* for the intrinsic.
func::FuncOp declareArmIntrinsic(OpBuilder &b, Location loc,
                                 llvm::StringRef name, unsigned operands) {
  auto module =
      b.getInsertionBlock()->getParentOp()->getParentOfType<ModuleOp>();
  if (auto declared = module.lookupSymbol<func::FuncOp>(name))
    return declared;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(module.getBody());
  Type i32 = b.getI32Type();
  auto declared = func::FuncOp::create(
      b, loc, name, b.getFunctionType(SmallVector<Type>(operands, i32), {i32}));
  declared.setPrivate();
  return declared;
}

/// The order of a quad's weights in the bytes of its word.
constexpr std::array<int64_t, 4> kQuadOrder = {0, 2, 1, 3};

/// The ARM DSP extension's dual multiply-accumulate (Cortex-M4/M7, the
/// CMSIS-NN approach): SMLAD adds the two products of the signed halfwords
/// of two i32 words to an i32 accumulator, wrapping like the generic body,
/// so the sums are the same. Quads of iterations of the reduction loop
/// `pairLoop` become two SMLADs. The constant weights stay 8-bit: each quad
/// along dimension `pairDim` of `w` (whose shape is `wShape`, a reshape of
/// the constant `stored`) is one word holding the centered weights
/// w[4q] - zw, w[4q + 2] - zw, w[4q + 1] - zw, w[4q + 3] - zw in its bytes
/// 0 to 3, so that SXTB16 (sign-extending bytes 0 and 2 into halfwords)
/// unpacks the word into the pair (w[4q], w[4q + 1]) and the word rotated by
/// 8 into (w[4q + 2], w[4q + 3]); the loop packs the matching pairs of
/// centered activations (i8 minus a zero point fits 16 bits). The last
/// extent % 4 iterations are a generic multiply-accumulate. Returns null
/// where the weights are not constant, their centered values do not fit 8
/// bits or the extent is under 4.
Value buildDualMac(OpBuilder &b, Location loc, Value x, Value stored,
                   ArrayRef<int64_t> wShape, Value acc,
                   ArrayRef<AffineMap> maps, unsigned parallel,
                   unsigned reduction, const MacOperands &mac,
                   unsigned pairLoop, unsigned pairDim) {
  DenseIntElementsAttr w;
  if (!matchPattern(stored, m_Constant(&w)) || wShape[pairDim] < 4)
    return {};
  int64_t outer = 1, extent = wShape[pairDim], inner = 1;
  for (unsigned d = 0; d < wShape.size(); ++d)
    (d < pairDim ? outer : inner) *= d == pairDim ? 1 : wShape[d];
  SmallVector<int64_t> values;
  for (const APInt &v : w.getValues<APInt>())
    values.push_back((mac.w.isSigned ? v.getSExtValue() : v.getZExtValue()) -
                     mac.zw);
  if (!llvm::all_of(values, [](int64_t v) { return llvm::isInt<8>(v); }))
    return {};
  int64_t quads = extent / 4, rest = extent % 4;
  SmallVector<int32_t> packed;
  SmallVector<APInt> tail;
  for (int64_t o = 0; o < outer; ++o) {
    auto at = [&](int64_t k, int64_t i) {
      return (o * extent + k) * inner + i;
    };
    for (int64_t q = 0; q < quads; ++q)
      for (int64_t i = 0; i < inner; ++i) {
        uint32_t word = 0;
        for (auto [byte, k] : llvm::enumerate(kQuadOrder))
          word |= (static_cast<uint32_t>(values[at(4 * q + k, i)]) & 0xffU)
                  << (8 * byte);
        packed.push_back(static_cast<int32_t>(word));
      }
    for (int64_t k = extent - rest; k < extent; ++k)
      for (int64_t i = 0; i < inner; ++i)
        tail.push_back(w.getValues<APInt>()[at(k, i)]);
  }
  SmallVector<int64_t> packedShape(wShape);
  packedShape[pairDim] = quads;
  Value words = arith::ConstantOp::create(
      b, loc,
      DenseIntElementsAttr::get(
          RankedTensorType::get(packedShape, b.getI32Type()), packed));
  func::FuncOp smlad = declareArmIntrinsic(b, loc, "llvm.arm.smlad", 3);
  func::FuncOp sxtb16 = declareArmIntrinsic(b, loc, "llvm.arm.sxtb16", 1);
  AffineExpr k = b.getAffineDimExpr(pairLoop);
  AffineMap xMap = maps[0];
  auto shifted = [&](int64_t scale, int64_t offset) {
    return xMap.replace(k, k * scale + offset, xMap.getNumDims(),
                        xMap.getNumSymbols());
  };
  SmallVector<AffineMap> quadMaps = {shifted(4, 0), shifted(4, 1),
                                     shifted(4, 2), shifted(4, 3),
                                     maps[1],       maps[2]};
  Value sum =
      linalg::GenericOp::create(
          b, loc, TypeRange{acc.getType()}, ValueRange{x, x, x, x, words},
          ValueRange{acc}, quadMaps, iterators(parallel, reduction),
          [&](OpBuilder &nb, Location l, ValueRange args) {
            IntegerArith body(nb, l);
            Type i32 = nb.getI32Type();
            auto centered = [&](Value v) {
              Value wide = body.cast(v, i32, mac.x.isSigned);
              return mac.zx == 0 ? wide
                                 : body.sub(wide, body.constant(i32, mac.zx));
            };
            auto pair = [&](Value low, Value high) {
              return arith::OrIOp::create(
                  nb, l,
                  arith::AndIOp::create(nb, l, centered(low),
                                        body.constant(i32, 0xffff)),
                  arith::ShLIOp::create(nb, l, centered(high),
                                        body.constant(i32, 16)));
            };
            auto call = [&](func::FuncOp f, ValueRange operands) {
              return func::CallOp::create(nb, l, f, operands).getResult(0);
            };
            // Rotated rather than shifted: SXTB16 takes the rotation as an
            // operand.
            Value word = args[4];
            Value rotated = arith::OrIOp::create(
                nb, l,
                arith::ShRUIOp::create(nb, l, word, body.constant(i32, 8)),
                arith::ShLIOp::create(nb, l, word, body.constant(i32, 24)));
            Value low = call(
                smlad, {pair(args[0], args[1]), call(sxtb16, {word}), args[5]});
            linalg::YieldOp::create(
                nb, l,
                call(smlad,
                     {pair(args[2], args[3]), call(sxtb16, {rotated}), low}));
          })
          .getResult(0);
  if (rest == 0)
    return sum;
  SmallVector<int64_t> tailShape(wShape);
  tailShape[pairDim] = rest;
  Value tailWeights = arith::ConstantOp::create(
      b, loc,
      DenseIntElementsAttr::get(
          RankedTensorType::get(tailShape, w.getType().getElementType()),
          tail));
  return buildMac(b, loc, x, tailWeights, sum,
                  {shifted(1, 4 * quads), maps[1], maps[2]}, parallel,
                  reduction, mac)
      .getResult(0);
}

/// buildDualMac of a convolution along its kernel window, for groups of
/// under 4 input channels: the loops over the window's rows and columns
/// become one over its taps t (row t floordiv kw, column t mod kw), so a
/// 3x3 window is two quads and one tap. The loops of the grouped input
/// `groupedIn` and filter (of shape `gfs`) are n, g, f, oh, ow | c, t for
/// NCHW and n, oh, ow, g, f | t, c for NHWC.
Value buildWindowDualMac(OpBuilder &b, Location loc, Value groupedIn,
                         Value filter, ArrayRef<int64_t> gfs, Value acc,
                         bool nchw, ArrayRef<int64_t> strides,
                         ArrayRef<int64_t> dil, const MacOperands &mac) {
  MLIRContext *ctx = b.getContext();
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  unsigned tap = nchw ? 6 : 5;
  int64_t kh = gfs[nchw ? 3 : 0], kw = gfs[nchw ? 4 : 1];
  AffineExpr h = d(nchw ? 3 : 1) * strides[0] + d(tap).floorDiv(kw) * dil[0];
  AffineExpr w = d(nchw ? 4 : 2) * strides[1] + (d(tap) % kw) * dil[1];
  AffineMap out = AffineMap::get(7, 0, {d(0), d(1), d(2), d(3), d(4)}, ctx);
  if (nchw)
    return buildDualMac(
        b, loc, groupedIn, filter, {gfs[0], gfs[1], gfs[2], kh * kw}, acc,
        {AffineMap::get(7, 0, {d(0), d(1), d(5), h, w}, ctx),
         AffineMap::get(7, 0, {d(1), d(2), d(5), d(6)}, ctx), out},
        5, 2, mac, tap, 3);
  return buildDualMac(
      b, loc, groupedIn, filter, {kh * kw, gfs[2], gfs[3], gfs[4]}, acc,
      {AffineMap::get(7, 0, {d(0), h, w, d(3), d(6)}, ctx),
       AffineMap::get(7, 0, {d(5), d(6), d(3), d(4)}, ctx), out},
      5, 2, mac, tap, 0);
}

/// The group of flat index `i` of 2-D weights of `type` quantized per group.
int64_t groupOf(int64_t i, ShapedType type, const GroupScales &groups) {
  int64_t cols = type.getDimSize(1);
  return (groups.groupAxis == 1 ? i % cols : i / cols) / groups.groupSize;
}

/// The output channel of flat index `i` of such weights.
int64_t channelOf(int64_t i, ShapedType type, const GroupScales &groups) {
  int64_t cols = type.getDimSize(1);
  return groups.channelAxis == 1 ? i % cols : i / cols;
}

/// The storage of unpacked 4-bit weights `unpacked` (i8, or i16 times
/// their group multipliers).
Storage unpackedStorage(Value unpacked) {
  auto type = cast<IntegerType>(getElementTypeOrSelf(unpacked.getType()));
  int64_t top = int64_t(1) << (type.getWidth() - 1);
  return {type, /*isSigned=*/true, -top, top - 1};
}

/// 4-bit constant weights (docs/NumericSpec.md 7.3): packs `stored` (of
/// shape `wShape`, as the multiply-accumulate reads it) two per byte along
/// dimension `packDim` (or the first even-sized one when that one is odd),
/// cut into blocks of `blockSize` (the group size of weights quantized per
/// group, else the whole dimension): byte j of a block holds element j in
/// its low nibble and element j + blockSize / 2 in its high one. Returns
/// the weights unpacked at run time: the nibble sign-extended to i8, or
/// for `groups` (whose `wShape` is the weight's own) to i16 and times its
/// group multiplier `m[c, g]`, which the generic multiply-accumulate then
/// reads like 8-bit weights; the unpacking reads with projected-permutation
/// maps, so it vectorizes. Weights with no even dimension (or groups of an
/// odd size) are stored unpacked, one i8 (i16) per weight. Returns null for
/// weights of 8 bits or more, and fails at `op` for 4-bit weights that are not
/// constant.
FailureOr<Value>
unpackSubByteWeights(OpBuilder &b, Location loc, Operation *op, Value stored,
                     ArrayRef<int64_t> wShape, unsigned packDim,
                     const std::optional<GroupScales> &groups) {
  auto storedType = cast<ShapedType>(stored.getType());
  if (storedType.getElementTypeBitWidth() >= 8)
    return Value();
  DenseIntElementsAttr w;
  if (!matchPattern(stored, m_Constant(&w)))
    return op->emitOpError("needs constant weights to pack 4-bit values");
  SmallVector<int64_t> values = llvm::map_to_vector(
      w.getValues<APInt>(), [](const APInt &v) { return v.getSExtValue(); });
  // q * m needs 16 bits, q alone 8.
  unsigned width = groups ? 16 : 8;
  Type unpackedType = b.getIntegerType(width);
  int64_t blockSize = groups ? groups->groupSize : wShape[packDim];
  if (blockSize % 2 != 0) {
    const auto *even =
        llvm::find_if(wShape, [](int64_t d) { return d % 2 == 0; });
    if (groups || even == wShape.end()) {
      SmallVector<APInt> effective;
      for (auto [i, v] : llvm::enumerate(values)) {
        int64_t flat = static_cast<int64_t>(i);
        int64_t m =
            groups ? groups->multiplier(channelOf(flat, storedType, *groups),
                                        groupOf(flat, storedType, *groups))
                   : 1;
        effective.emplace_back(width, static_cast<uint64_t>(v * m),
                               /*isSigned=*/true);
      }
      return arith::ConstantOp::create(
                 b, loc,
                 DenseIntElementsAttr::get(
                     RankedTensorType::get(wShape, unpackedType), effective))
          .getResult();
    }
    packDim = std::distance(wShape.begin(), even);
    blockSize = wShape[packDim];
  }
  int64_t half = blockSize / 2, blocks = wShape[packDim] / blockSize;
  int64_t outer = 1, inner = 1;
  for (unsigned d = 0; d < wShape.size(); ++d)
    if (d != packDim)
      (d < packDim ? outer : inner) *= wShape[d];
  // Iteration space: wShape with packDim split into (blocks, 2, half).
  SmallVector<int64_t> split(wShape.begin(), wShape.begin() + packDim);
  split.append({blocks, 2, half});
  split.append(wShape.begin() + packDim + 1, wShape.end());
  SmallVector<int8_t> packed;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < blocks; ++k)
      for (int64_t j = 0; j < half; ++j)
        for (int64_t i = 0; i < inner; ++i) {
          auto nibble = [&](int64_t e) -> uint8_t {
            return values[(o * wShape[packDim] + k * blockSize + e) * inner +
                          i] &
                   0xf;
          };
          packed.push_back(
              static_cast<int8_t>(nibble(j) | nibble(j + half) << 4));
        }
  SmallVector<int64_t> packedShape(split);
  packedShape.erase(packedShape.begin() + packDim + 1);
  Type i8 = b.getI8Type();
  MLIRContext *ctx = b.getContext();
  unsigned rank = split.size();
  auto dims = [&](ArrayRef<unsigned> positions) {
    return AffineMap::get(
        rank, 0,
        llvm::map_to_vector(positions,
                            [&](unsigned d) { return b.getAffineDimExpr(d); }),
        ctx);
  };
  SmallVector<unsigned> packedDims;
  for (unsigned d = 0; d < rank; ++d)
    if (d != packDim + 1)
      packedDims.push_back(d);
  SmallVector<Value> inputs = {arith::ConstantOp::create(
      b, loc,
      DenseIntElementsAttr::get(RankedTensorType::get(packedShape, i8),
                                ArrayRef(packed)))};
  SmallVector<AffineMap> maps = {dims(packedDims)};
  if (groups) {
    // m - 1 in [0, 255], one byte per channel and group; the groups are
    // the blocks (loop packDim), the channels the other dimension.
    SmallVector<int64_t> groupShape(wShape);
    groupShape[groups->groupAxis] = groups->groups;
    SmallVector<int8_t> minusOne;
    for (int64_t r = 0; r < groupShape[0]; ++r)
      for (int64_t col = 0; col < groupShape[1]; ++col)
        minusOne.push_back(static_cast<int8_t>(static_cast<uint8_t>(
            groups->channelAxis == 0 ? groups->multiplier(r, col) - 1
                                     : groups->multiplier(col, r) - 1)));
    inputs.push_back(arith::ConstantOp::create(
        b, loc,
        DenseIntElementsAttr::get(RankedTensorType::get(groupShape, i8),
                                  ArrayRef(minusOne))));
    unsigned channelLoop = groups->channelAxis < static_cast<int>(packDim)
                               ? groups->channelAxis
                               : groups->channelAxis + 2;
    maps.push_back(groups->channelAxis == 0 ? dims({channelLoop, packDim})
                                            : dims({packDim, channelLoop}));
  }
  maps.push_back(AffineMap::getMultiDimIdentityMap(rank, ctx));
  Value unpacked =
      linalg::GenericOp::create(
          b, loc, TypeRange{RankedTensorType::get(split, unpackedType)}, inputs,
          ValueRange{emptyTensor(b, loc, split, unpackedType)}, maps,
          iterators(rank, 0),
          [&](OpBuilder &nb, Location l, ValueRange args) {
            IntegerArith body(nb, l);
            Type t = unpackedType;
            int64_t top = width - 4;
            // Shift the low (or, in the second half, the high) nibble to
            // the top, then arithmetic-shift back to sign-extend.
            Value high = arith::IndexCastOp::create(
                nb, l, t, linalg::IndexOp::create(nb, l, packDim + 1));
            Value left = body.sub(
                body.constant(t, top),
                arith::ShLIOp::create(nb, l, high, body.constant(t, 2)));
            Value byte = body.cast(args[0], t, /*isSigned=*/true);
            Value wv = arith::ShRSIOp::create(
                nb, l, arith::ShLIOp::create(nb, l, byte, left),
                body.constant(t, top));
            if (groups)
              wv = body.mul(wv,
                            body.add(body.cast(args[1], t, /*isSigned=*/false),
                                     body.constant(t, 1)));
            linalg::YieldOp::create(nb, l, wv);
          })
          .getResult(0);
  SmallVector<ReassociationIndices> collapse;
  for (unsigned d = 0; d < wShape.size(); ++d) {
    unsigned first = d <= packDim ? d : d + 2;
    collapse.push_back(d == packDim
                           ? ReassociationIndices{first, first + 1, first + 2}
                           : ReassociationIndices{first});
  }
  return tensor::CollapseShapeOp::create(b, loc, unpacked, collapse)
      .getResult();
}

/// With constant weights and no weight zero point, the input zero point's
/// share `zx * sum_k w[c, k]` of every accumulator is known at compile time:
/// it is folded into the bias, and the multiply-accumulate reads x as it is.
/// (Padding still holds zx, so padded cells cancel too.) Returns the folded
/// bias, or null when the weights are not constant, the bias is not
/// constant, or a folded entry leaves int32.
Value foldInputZeroPoint(OpBuilder &b, Location loc, Value weights, Value bias,
                         int64_t zx, int64_t zw, unsigned channelDim,
                         bool signedWeights,
                         const std::optional<GroupScales> &groups) {
  DenseIntElementsAttr w;
  if (zx == 0 || zw != 0 || !signedWeights ||
      !matchPattern(weights, m_Constant(&w)))
    return {};
  auto type = cast<ShapedType>(w.getType());
  int64_t channels = type.getDimSize(channelDim), inner = 1;
  for (int64_t d = channelDim + 1; d < type.getRank(); ++d)
    inner *= type.getDimSize(d);
  SmallVector<int64_t> folded(channels, 0);
  if (bias) {
    DenseIntElementsAttr biasAttr;
    if (!matchPattern(bias, m_Constant(&biasAttr)))
      return {};
    for (auto [c, v] : llvm::enumerate(biasAttr.getValues<APInt>()))
      folded[c] = v.getSExtValue();
  }
  for (auto [i, v] : llvm::enumerate(w.getValues<APInt>())) {
    int64_t c = (static_cast<int64_t>(i) / inner) % channels;
    folded[c] -=
        zx * v.getSExtValue() *
        (groups ? groups->multiplier(
                      c, groupOf(static_cast<int64_t>(i), type, *groups))
                : 1);
  }
  SmallVector<int32_t> values;
  for (int64_t v : folded) {
    if (v < INT32_MIN || v > INT32_MAX)
      return {};
    values.push_back(static_cast<int32_t>(v));
  }
  return i32Vector(b, loc, values);
}

/// The operands of `input` x `weights` (quantized types; `storedWeights` and
/// `bias` after conversion), with the input zero point folded into the bias
/// where foldInputZeroPoint can, along `weightChannelDim` if given. Fails
/// with an error at `op` on constant weights past kMaxWeightElements.
FailureOr<MacOperands> prepareMac(Operation *op, OpBuilder &b, Location loc,
                                  Value input, Value weights,
                                  Value storedWeights, Value bias,
                                  std::optional<unsigned> weightChannelDim) {
  // Constant weights are expanded at compile time, here and by the kernels.
  if (matchPattern(storedWeights, m_Constant()) &&
      failed(verifyWeightCount(op, cast<ShapedType>(storedWeights.getType()))))
    return failure();
  QuantParams in = *getQuantParams(input.getType());
  QuantParams w = *getQuantParams(weights.getType());
  MacOperands mac{storageOf(input.getType()), storageOf(weights.getType()),
                  in.zeroPoints[0], w.isPerTensor() ? w.zeroPoints[0] : 0,
                  bias};
  if (!weightChannelDim)
    return mac;
  if (Value folded = foldInputZeroPoint(
          b, loc, storedWeights, bias, mac.zx, mac.zw, *weightChannelDim,
          mac.w.isSigned, getGroupScales(weights.getType()))) {
    mac.bias = folded;
    mac.zx = 0;
  }
  return mac;
}

struct Conv2DLowering : MyQuantPattern<Conv2DOp> {
  using MyQuantPattern::MyQuantPattern;
  FailureOr<Value> lower(Conv2DOp op, Conv2DOp::Adaptor adaptor,
                         ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    QuantParams in = *getQuantParams(op.getInput().getType());
    FailureOr<Requant> requant = resultRequant(op, rounding);
    if (failed(requant))
      return failure();

    LayoutDims dims = op.getDims();
    bool nchw = op.getLayout() == Layout::NCHW;
    int64_t groups = op.getGroups();
    Value input = padSpatial(rewriter, loc, adaptor.getInput(), op.getLayout(),
                             op.getPadding(), in.zeroPoints[0]);
    auto inType = cast<RankedTensorType>(input.getType());
    auto fType = cast<RankedTensorType>(adaptor.getFilter().getType());
    auto outType = op.getType();
    ArrayRef<int64_t> is = inType.getShape(), fs = fType.getShape(),
                      os = outType.getShape();
    // Split channels into (group, channel-in-group) so one generic covers
    // plain, grouped and depthwise convolutions.
    Value groupedIn, groupedFilter;
    SmallVector<int64_t> accShape;
    if (nchw) {
      groupedIn = tensor::ExpandShapeOp::create(
          rewriter, loc,
          inType.clone({is[0], groups, is[1] / groups, is[2], is[3]}), input,
          SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}, {4}});
      groupedFilter = tensor::ExpandShapeOp::create(
          rewriter, loc,
          fType.clone({groups, fs[0] / groups, fs[1], fs[2], fs[3]}),
          adaptor.getFilter(),
          SmallVector<ReassociationIndices>{{0, 1}, {2}, {3}, {4}});
      accShape = {os[0], groups, os[1] / groups, os[2], os[3]};
    } else {
      groupedIn = tensor::ExpandShapeOp::create(
          rewriter, loc,
          inType.clone({is[0], is[1], is[2], groups, is[3] / groups}), input,
          SmallVector<ReassociationIndices>{{0}, {1}, {2}, {3, 4}});
      groupedFilter = tensor::ExpandShapeOp::create(
          rewriter, loc,
          fType.clone({fs[0], fs[1], fs[2], groups, fs[3] / groups}),
          adaptor.getFilter(),
          SmallVector<ReassociationIndices>{{0}, {1}, {2}, {3, 4}});
      accShape = {os[0], os[1], os[2], groups, os[3] / groups};
    }
    ArrayRef<int64_t> strides = op.getStrides(), dil = op.getDilations();
    // Loops: n, g, f, oh, ow | c, kh, kw  (nchw)
    //        n, oh, ow, g, f | kh, kw, c  (nhwc)
    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    SmallVector<AffineMap> maps;
    if (nchw) {
      AffineExpr h = d(3) * strides[0] + d(6) * dil[0];
      AffineExpr w = d(4) * strides[1] + d(7) * dil[1];
      maps = {AffineMap::get(8, 0, {d(0), d(1), d(5), h, w}, ctx),
              AffineMap::get(8, 0, {d(1), d(2), d(5), d(6), d(7)}, ctx),
              AffineMap::get(8, 0, {d(0), d(1), d(2), d(3), d(4)}, ctx)};
    } else {
      AffineExpr h = d(1) * strides[0] + d(5) * dil[0];
      AffineExpr w = d(2) * strides[1] + d(6) * dil[1];
      maps = {AffineMap::get(8, 0, {d(0), h, w, d(3), d(7)}, ctx),
              AffineMap::get(8, 0, {d(5), d(6), d(7), d(3), d(4)}, ctx),
              AffineMap::get(8, 0, {d(0), d(1), d(2), d(3), d(4)}, ctx)};
    }
    FailureOr<MacOperands> mac =
        prepareMac(op, rewriter, loc, op.getInput(), op.getFilter(),
                   adaptor.getFilter(), adaptor.getBias(), dims.filterOut);
    if (failed(mac))
      return failure();
    FailureOr<IntegerType> accType =
        accumulatorType(op, op.getInput().getType(), *requant);
    if (failed(accType))
      return failure();
    Value acc = filled(rewriter, loc, accShape, *accType, 0);
    // 4-bit filters pack along the output channel within a group:
    // dimension 1 (nchw) or 4 (nhwc) of the grouped filter.
    FailureOr<Value> unpacked = unpackSubByteWeights(
        rewriter, loc, op, adaptor.getFilter(),
        cast<ShapedType>(groupedFilter.getType()).getShape(), nchw ? 1 : 4,
        std::nullopt);
    if (failed(unpacked))
      return failure();
    if (*unpacked) {
      groupedFilter = *unpacked;
      mac->w = unpackedStorage(*unpacked);
    }
    // Quads along the input channel (loop 5 or 7, dimension 2 of the
    // grouped filter); with fewer channels in a group (depthwise, single
    // channel, RGB), along the kernel window.
    Value sum;
    if (dualMac && accType->getWidth() == 32 && !*unpacked) {
      ArrayRef<int64_t> gfs =
          cast<ShapedType>(groupedFilter.getType()).getShape();
      sum = gfs[2] >= 4
                ? buildDualMac(rewriter, loc, groupedIn, adaptor.getFilter(),
                               gfs, acc, maps, 5, 3, *mac, nchw ? 5 : 7, 2)
                : buildWindowDualMac(rewriter, loc, groupedIn,
                                     adaptor.getFilter(), gfs, acc, nchw,
                                     strides, dil, *mac);
    }
    if (!sum)
      sum = buildMac(rewriter, loc, groupedIn, groupedFilter, acc, maps, 5, 3,
                     *mac)
                .getResult(0);
    SmallVector<ReassociationIndices> collapse =
        nchw ? SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}, {4}}
             : SmallVector<ReassociationIndices>{{0}, {1}, {2}, {3, 4}};
    Value flat = tensor::CollapseShapeOp::create(rewriter, loc, sum, collapse);
    return buildRequantizeEpilogue(rewriter, loc, flat, /*accSigned=*/true,
                                   dims.channel, mac->bias, *requant,
                                   storageOf(op.getType()).type);
  }
};

struct MatmulLowering : MyQuantPattern<MatmulOp> {
  using MyQuantPattern::MyQuantPattern;
  FailureOr<Value> lower(MatmulOp op, MatmulOp::Adaptor adaptor,
                         ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    FailureOr<Requant> requant = resultRequant(op, rounding);
    if (failed(requant))
      return failure();
    auto outType = op.getType();
    unsigned rank = outType.getRank();
    bool batched = rank == 3;
    // Loops: [b,] m, n | k
    unsigned b0 = batched ? 1 : 0, loops = b0 + 3;
    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    auto withBatch = [&](SmallVector<AffineExpr> exprs) {
      if (batched)
        exprs.insert(exprs.begin(), d(0));
      return AffineMap::get(loops, 0, exprs, ctx);
    };
    AffineExpr m = d(b0), n = d(b0 + 1), k = d(b0 + 2);
    SmallVector<AffineMap> maps = {withBatch({m, k}),
                                   op.getTransposeRhs() ? withBatch({n, k})
                                                        : withBatch({k, n}),
                                   withBatch({m, n})};
    // A batched rhs has weights per batch; the fold needs one set.
    std::optional<unsigned> foldDim;
    if (!batched)
      foldDim = op.getTransposeRhs() ? 0 : 1;
    FailureOr<MacOperands> mac =
        prepareMac(op, rewriter, loc, op.getLhs(), op.getRhs(),
                   adaptor.getRhs(), adaptor.getBias(), foldDim);
    if (failed(mac))
      return failure();
    FailureOr<IntegerType> accType =
        accumulatorType(op, op.getLhs().getType(), *requant, adaptor.getRhs());
    if (failed(accType))
      return failure();
    Value acc = filled(rewriter, loc, outType.getShape(), *accType, 0);
    // 4-bit weights pack along K.
    FailureOr<Value> unpacked = unpackSubByteWeights(
        rewriter, loc, op, adaptor.getRhs(),
        cast<ShapedType>(adaptor.getRhs().getType()).getShape(),
        batched + (op.getTransposeRhs() ? 1 : 0),
        getGroupScales(op.getRhs().getType()));
    if (failed(unpacked))
      return failure();
    Value rhs = adaptor.getRhs();
    if (*unpacked) {
      rhs = *unpacked;
      mac->w = unpackedStorage(*unpacked);
    }
    Value sum;
    if (dualMac && !batched && accType->getWidth() == 32 && !*unpacked)
      sum = buildDualMac(
          rewriter, loc, adaptor.getLhs(), adaptor.getRhs(),
          cast<ShapedType>(adaptor.getRhs().getType()).getShape(), acc, maps,
          loops - 1, 1, *mac, b0 + 2, op.getTransposeRhs() ? 1 : 0);
    if (!sum)
      sum = buildMac(rewriter, loc, adaptor.getLhs(), rhs, acc, maps, loops - 1,
                     1, *mac)
                .getResult(0);
    return buildRequantizeEpilogue(rewriter, loc, sum, /*accSigned=*/true,
                                   rank - 1, mac->bias, *requant,
                                   storageOf(op.getType()).type);
  }
};

/// Dynamic quantization (docs/NumericSpec.md 8): the runtime int8 input
/// (8.2), the int32 dot product, and the epilogue on acc * A' + bias (8.3).
struct DynamicMatmulLowering : MyQuantPattern<DynamicMatmulOp> {
  using MyQuantPattern::MyQuantPattern;
  FailureOr<Value> lower(DynamicMatmulOp op, DynamicMatmulOp::Adaptor adaptor,
                         ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    // Only single rounding is defined for the int64 operand (8.3).
    FailureOr<Requant> requant =
        makeRequant(op, op.getRescaleSlots().front(), RoundingMode::Single,
                    op.getClampAttr(), op.getType());
    if (failed(requant))
      return failure();
    Type i64 = rewriter.getI64Type();
    AffineMap identity = AffineMap::getMultiDimIdentityMap(2, ctx);
    bool asymmetric = op.getAsymmetric();
    DynamicInput input = quantizeDynamicInput(rewriter, loc, adaptor.getLhs(),
                                              asymmetric, op.getPerRow());
    Value q = input.q;

    // acc = q @ w in int32 (zero points 0).
    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    bool transposed = op.getTransposeRhs();
    SmallVector<AffineMap> maps = {
        AffineMap::get(3, 0, {d(0), d(2)}, ctx),
        AffineMap::get(3, 0,
                       transposed ? SmallVector<AffineExpr>{d(1), d(2)}
                                  : SmallVector<AffineExpr>{d(2), d(1)},
                       ctx),
        AffineMap::get(3, 0, {d(0), d(1)}, ctx)};
    auto outType = op.getType();
    Value acc =
        filled(rewriter, loc, outType.getShape(), rewriter.getI32Type(), 0);
    Storage qStorage =
        asymmetric
            ? Storage{rewriter.getI8Type(), false, 0, kDynamicUQMax}
            : Storage{rewriter.getI8Type(), true, -kDynamicQMax, kDynamicQMax};
    MacOperands mac{qStorage, storageOf(op.getRhs().getType()), 0, 0, Value()};
    Value sum =
        buildMac(rewriter, loc, q, adaptor.getRhs(), acc, maps, 2, 1, mac)
            .getResult(0);

    // out = requantize64(acc * A' + B[c]) (8.3): |acc * A'| < 2^62.
    int64_t channels = requant->multiplier.size();
    AffineMap rescaleMap = channelMap(ctx, 2, channels, 1);
    SmallVector<Value> inputs = {sum,
                                 i32Vector(rewriter, loc, requant->multiplier),
                                 i32Vector(rewriter, loc, requant->shift)};
    // A' and z of the output's row (8.2c), or of the whole input.
    AffineMap paramMap =
        op.getPerRow() ? AffineMap::get(2, 0, d(0)) : AffineMap::get(2, 0, ctx);
    inputs.push_back(input.scale);
    SmallVector<AffineMap> epilogueMaps = {identity, rescaleMap, rescaleMap,
                                           paramMap};
    std::optional<unsigned> biasArg, sumArg, zeroPointArg;
    if (Value bias = adaptor.getBias()) {
      biasArg = inputs.size();
      inputs.push_back(bias);
      epilogueMaps.push_back(AffineMap::get(2, 0, d(1)));
    }
    if (asymmetric) {
      // The runtime zero point's term z * sum_k w[c, k] (8.3), with the
      // weights' sums computed here: the weights need not be constants.
      int64_t n = outType.getDimSize(1);
      Value sums =
          linalg::GenericOp::create(
              rewriter, loc, TypeRange{RankedTensorType::get({n}, i64)},
              ValueRange{adaptor.getRhs()},
              ValueRange{filled(rewriter, loc, {n}, i64, 0)},
              {identity, AffineMap::get(2, 0, d(transposed ? 0 : 1))},
              transposed
                  ? iterators(1, 1)
                  : SmallVector<
                        utils::IteratorType>{utils::IteratorType::reduction,
                                             utils::IteratorType::parallel},
              [&](OpBuilder &nb, Location l, ValueRange args) {
                IntegerArith body(nb, l);
                linalg::YieldOp::create(
                    nb, l, body.add(args[1], body.cast(args[0], i64)));
              })
              .getResult(0);
      sumArg = inputs.size();
      inputs.push_back(sums);
      epilogueMaps.push_back(AffineMap::get(2, 0, d(1)));
      zeroPointArg = inputs.size();
      inputs.push_back(input.zeroPoint);
      epilogueMaps.push_back(paramMap);
    }
    epilogueMaps.push_back(identity);
    IntegerType storage = storageOf(outType).type;
    Value init = emptyTensor(rewriter, loc, outType.getShape(), storage);
    return linalg::GenericOp::create(
               rewriter, loc, TypeRange{init.getType()}, inputs,
               ValueRange{init}, epilogueMaps, iterators(2, 0),
               [&](OpBuilder &nb, Location l, ValueRange args) {
                 IntegerArith body(nb, l);
                 Value acc = body.cast(args[0], i64);
                 if (sumArg)
                   acc = body.sub(acc,
                                  body.mul(args[*zeroPointArg], args[*sumArg]));
                 Value v = body.mul(acc, args[3]);
                 if (biasArg)
                   v = body.add(v, args[*biasArg]);
                 linalg::YieldOp::create(nb, l,
                                         body.requantizeInt64(v, args[1],
                                                              args[2], *requant,
                                                              storage));
               })
        .getResult(0);
  }
};

//===----------------------------------------------------------------------===//
// Pooling and concatenation
//===----------------------------------------------------------------------===//

/// Reduces each window of a padded 4-D tensor into `init` with `combine`.
template <typename CombineFn>
Value buildWindowReduction(OpBuilder &b, Location loc, Value padded, Value init,
                           Layout layout, ArrayRef<int64_t> kernel,
                           ArrayRef<int64_t> strides,
                           ArrayRef<int64_t> dilations, CombineFn combine) {
  MLIRContext *ctx = b.getContext();
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  // Loops: n, c, oh, ow | kh, kw  (the output's own dimension order first).
  LayoutDims dims = getLayoutDims(layout);
  unsigned oh = dims.height, ow = dims.width;
  SmallVector<AffineExpr> inExprs = {d(0), d(1), d(2), d(3)};
  inExprs[oh] = d(oh) * strides[0] + d(4) * dilations[0];
  inExprs[ow] = d(ow) * strides[1] + d(5) * dilations[1];
  // The window tensor only gives the reduction loops their extent.
  Value window = emptyTensor(b, loc, kernel,
                             cast<ShapedType>(init.getType()).getElementType());
  SmallVector<AffineMap> maps = {
      AffineMap::get(6, 0, inExprs, ctx),
      AffineMap::get(6, 0, {d(4), d(5)}, ctx),
      AffineMap::get(6, 0, {d(0), d(1), d(2), d(3)}, ctx)};
  return linalg::GenericOp::create(
             b, loc, TypeRange{init.getType()}, ValueRange{padded, window},
             ValueRange{init}, maps, iterators(4, 2),
             [&](OpBuilder &nb, Location l, ValueRange args) {
               linalg::YieldOp::create(nb, l, combine(nb, l, args[0], args[2]));
             })
      .getResult(0);
}

/// Output positions along one axis whose windows hold the same kernel taps
/// inside the input: outputs [begin, end), taps [firstTap, lastTap).
struct WindowGroup {
  int64_t begin, end, firstTap, lastTap;
};

/// Groups the `outSize` windows along one axis (input size `inSize`, kernel
/// `kernel`, stride, dilation, leading padding) by their taps inside the
/// input: the borders' clipped windows, and the interior's whole ones.
SmallVector<WindowGroup> groupWindowsByTaps(int64_t inSize, int64_t outSize,
                                            int64_t kernel, int64_t stride,
                                            int64_t dilation, int64_t padding) {
  SmallVector<WindowGroup> groups;
  for (int64_t o = 0; o < outSize; ++o) {
    int64_t start = o * stride - padding;
    int64_t first =
        start >= 0
            ? 0
            : std::min<int64_t>(kernel, llvm::divideCeil(-start, dilation));
    int64_t last = start >= inSize
                       ? 0
                       : std::min(kernel, (inSize - 1 - start) / dilation + 1);
    if (!groups.empty() && groups.back().firstTap == first &&
        groups.back().lastTap == last) {
      groups.back().end = o + 1;
      continue;
    }
    groups.push_back({o, o + 1, first, last});
  }
  return groups;
}

struct MaxPool2DLowering : MyQuantPattern<MaxPool2DOp> {
  using MyQuantPattern::MyQuantPattern;
  FailureOr<Value> lower(MaxPool2DOp op, MaxPool2DOp::Adaptor adaptor,
                         ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Storage s = storageOf(op.getType());
    Value input = adaptor.getInput();
    ArrayRef<int64_t> inShape =
        cast<RankedTensorType>(input.getType()).getShape();
    ArrayRef<int64_t> outShape = op.getType().getShape();
    ArrayRef<int64_t> kernel = op.getKernel(), strides = op.getStrides(),
                      dilations = op.getDilations(), padding = op.getPadding();
    LayoutDims dims = getLayoutDims(op.getLayout());
    const unsigned spatial[] = {dims.height, dims.width};
    // Padded cells hold qmin (§3.6), which no input cell is below: each
    // window's maximum is that of its taps inside the input, so the windows
    // are clipped instead of the input padded (no padded copy). Windows
    // with the same taps form one region of the result, reduced by one op.
    SmallVector<WindowGroup> groups[2];
    for (unsigned i = 0; i < 2; ++i)
      groups[i] =
          groupWindowsByTaps(inShape[spatial[i]], outShape[spatial[i]],
                             kernel[i], strides[i], dilations[i], padding[i]);
    auto combine = [&](OpBuilder &b, Location l, Value x, Value acc) -> Value {
      if (s.isSigned)
        return arith::MaxSIOp::create(b, l, x, acc);
      return arith::MaxUIOp::create(b, l, x, acc);
    };
    auto index = [&](ArrayRef<int64_t> values) {
      return getAsIndexOpFoldResult(rewriter.getContext(), values);
    };
    SmallVector<OpFoldResult> unit = index({1, 1, 1, 1});
    Value minimum = arith::ConstantIntOp::create(rewriter, loc, s.type, s.min);
    Value result = emptyTensor(rewriter, loc, outShape, s.type);
    for (const WindowGroup &row : groups[0]) {
      for (const WindowGroup &col : groups[1]) {
        const WindowGroup *group[] = {&row, &col};
        SmallVector<int64_t> outOffsets(4, 0), outSizes(outShape),
            inOffsets(4, 0), inSizes(inShape), taps(2);
        for (unsigned i = 0; i < 2; ++i) {
          const WindowGroup &g = *group[i];
          unsigned dim = spatial[i];
          outOffsets[dim] = g.begin;
          outSizes[dim] = g.end - g.begin;
          taps[i] = std::max<int64_t>(0, g.lastTap - g.firstTap);
          inOffsets[dim] =
              g.begin * strides[i] + g.firstTap * dilations[i] - padding[i];
          inSizes[dim] = (outSizes[dim] - 1) * strides[i] +
                         (taps[i] - 1) * dilations[i] + 1;
        }
        Value region = rewriter.createOrFold<tensor::ExtractSliceOp>(
            loc, result, index(outOffsets), index(outSizes), unit);
        region = linalg::FillOp::create(rewriter, loc, ValueRange{minimum},
                                        ValueRange{region})
                     .getResult(0);
        // A window without any input cell (all padding) stays qmin.
        if (taps[0] > 0 && taps[1] > 0) {
          Value window = rewriter.createOrFold<tensor::ExtractSliceOp>(
              loc, input, index(inOffsets), index(inSizes), unit);
          region = buildWindowReduction(rewriter, loc, window, region,
                                        op.getLayout(), taps, strides,
                                        dilations, combine);
        }
        result = rewriter.createOrFold<tensor::InsertSliceOp>(
            loc, region, result, index(outOffsets), index(outSizes), unit);
      }
    }
    return result;
  }
};

struct AvgPool2DLowering : MyQuantPattern<AvgPool2DOp> {
  using MyQuantPattern::MyQuantPattern;
  FailureOr<Value> lower(AvgPool2DOp op, AvgPool2DOp::Adaptor adaptor,
                         ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    QuantParams in = *getQuantParams(op.getInput().getType());
    Storage is = storageOf(op.getInput().getType());
    ArrayRef<int64_t> kernel = op.getKernel();
    // The division by the window size is in the multiplier, so the average
    // is rounded once.
    FailureOr<Requant> requant = resultRequant(op, rounding);
    if (failed(requant))
      return failure();
    Value input = padSpatial(rewriter, loc, adaptor.getInput(), op.getLayout(),
                             op.getPadding(), in.zeroPoints[0]);
    FailureOr<IntegerType> accType =
        accumulatorType(op, op.getInput().getType(), *requant);
    if (failed(accType))
      return failure();
    Type sumType = *accType;
    Value init = filled(rewriter, loc, op.getType().getShape(), sumType, 0);
    const int64_t unitDilations[] = {1, 1};
    Value sum = buildWindowReduction(
        rewriter, loc, input, init, op.getLayout(), kernel, op.getStrides(),
        unitDilations, [&](OpBuilder &b, Location l, Value x, Value acc) {
          IntegerArith body(b, l);
          return body.add(acc,
                          body.sub(body.cast(x, sumType, is.isSigned),
                                   body.constant(sumType, in.zeroPoints[0])));
        });
    // Per-position rescales are read at `h * width + w`.
    AffineMap rescaleMap;
    if (op.getDivisors()) {
      LayoutDims dims = getLayoutDims(op.getLayout());
      MLIRContext *ctx = rewriter.getContext();
      rescaleMap = AffineMap::get(4, 0,
                                  getAffineDimExpr(dims.height, ctx) *
                                          op.getType().getDimSize(dims.width) +
                                      getAffineDimExpr(dims.width, ctx));
    }
    return buildRequantizeEpilogue(rewriter, loc, sum, /*accSigned=*/true,
                                   std::nullopt, Value(), *requant,
                                   storageOf(op.getType()).type, rescaleMap);
  }
};

struct ConcatLowering : MyQuantPattern<ConcatOp> {
  using MyQuantPattern::MyQuantPattern;
  FailureOr<Value> lower(ConcatOp op, ConcatOp::Adaptor adaptor,
                         ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = op.getType();
    Value result =
        emptyTensor(rewriter, loc, type.getShape(), storageOf(type).type);
    int64_t offset = 0;
    unsigned dim = op.getDim();
    for (Value input : adaptor.getInputs()) {
      auto inType = cast<RankedTensorType>(input.getType());
      SmallVector<OpFoldResult> offsets(type.getRank(),
                                        rewriter.getIndexAttr(0));
      SmallVector<OpFoldResult> sizes,
          strides(type.getRank(), rewriter.getIndexAttr(1));
      for (int64_t size : inType.getShape())
        sizes.push_back(rewriter.getIndexAttr(size));
      offsets[dim] = rewriter.getIndexAttr(offset);
      result = tensor::InsertSliceOp::create(rewriter, loc, input, result,
                                             offsets, sizes, strides);
      offset += inType.getDimSize(dim);
    }
    return result;
  }
};

/// Data movement on quantized tensors (reshapes, slices, casts) moves the
/// storage integers: the same op with converted types.
struct ConvertStorageTypes : ConversionPattern {
  ConvertStorageTypes(const TypeConverter &converter, MLIRContext *ctx)
      : ConversionPattern(converter, MatchAnyOpTypeTag(), /*benefit=*/1, ctx) {}

  LogicalResult
  matchAndRewrite(Operation *op, ArrayRef<Value> operands,
                  ConversionPatternRewriter &rewriter) const override {
    if (op->getNumRegions() != 0 || isa<MyQuantDialect>(op->getDialect()) ||
        isa<func::ReturnOp, func::CallOp>(op))
      return failure();
    SmallVector<Type> resultTypes;
    if (failed(getTypeConverter()->convertTypes(op->getResultTypes(),
                                                resultTypes)))
      return failure();
    Operation *converted = rewriter.clone(*op);
    converted->setOperands(operands);
    for (auto [result, type] : llvm::zip(converted->getResults(), resultTypes))
      result.setType(type);
    rewriter.replaceOp(op, converted->getResults());
    return success();
  }
};

/// Statistics are calibration metadata; at run time the op is an identity.
struct StatsLowering : OpConversionPattern<StatsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(StatsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, adaptor.getInput());
    return success();
  }
};

/// `quant.scast` only relabels storage; after conversion it is a no-op.
struct StorageCastLowering : OpConversionPattern<quant::StorageCastOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(quant::StorageCastOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Type converted = getTypeConverter()->convertType(op.getType());
    if (converted != adaptor.getInput().getType())
      return rewriter.notifyMatchFailure(op, "not a storage relabelling");
    rewriter.replaceOp(op, adaptor.getInput());
    return success();
  }
};

} // namespace

void myquant::populateMyQuantToLinalgConversionPatterns(
    const TypeConverter &converter, RewritePatternSet &patterns,
    RoundingMode defaultRounding, bool dualMac) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<QuantizeLowering, DequantizeLowering, RequantizeLowering,
               ClampLowering, TableLowering, AddLowering, MulLowering,
               Conv2DLowering, MatmulLowering, DynamicMatmulLowering,
               MaxPool2DLowering, AvgPool2DLowering, ConcatLowering,
               SoftmaxLowering, LayerNormLowering>(converter, ctx,
                                                   defaultRounding, dualMac);
  patterns.add<StorageCastLowering, StatsLowering, ConvertStorageTypes>(
      converter, ctx);
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

namespace {

struct ConvertMyQuantToLinalgPass
    : myquant::impl::ConvertMyQuantToLinalgBase<ConvertMyQuantToLinalgPass> {
  using Base::Base;

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    StorageTypeConverter converter;
    ConversionTarget target(*ctx);
    target.addIllegalDialect<MyQuantDialect>();
    target.addIllegalOp<quant::StorageCastOp>();
    // Ops of these dialects may carry quantized types (a reshape of a
    // quantized tensor); they are legal once their types are converted.
    target
        .addDynamicallyLegalDialect<arith::ArithDialect, linalg::LinalgDialect,
                                    math::MathDialect, tensor::TensorDialect>(
            [&](Operation *op) { return converter.isLegal(op); });
    target.addDynamicallyLegalOp<func::FuncOp>([&](func::FuncOp func) {
      return converter.isSignatureLegal(func.getFunctionType()) &&
             converter.isLegal(&func.getBody());
    });
    target.markUnknownOpDynamicallyLegal(
        [&](Operation *op) { return converter.isLegal(op); });

    RewritePatternSet patterns(ctx);
    // myquant-set-target marks a module whose target has the ARM DSP
    // extension.
    populateMyQuantToLinalgConversionPatterns(
        converter, patterns, defaultRounding,
        dualMac && getOperation()->hasAttr(kArmDspAttrName));
    populateFunctionOpInterfaceTypeConversionPattern<func::FuncOp>(patterns,
                                                                   converter);
    populateReturnOpTypeConversionPattern(patterns, converter);
    populateCallOpTypeConversionPattern(patterns, converter);
    if (failed(
            applyFullConversion(getOperation(), target, std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
