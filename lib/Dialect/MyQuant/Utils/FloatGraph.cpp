//===- FloatGraph.cpp - recognizing quantizable float linalg --------------===//

#include "myquant/Dialect/MyQuant/Utils/FloatGraph.h"
#include "myquant/Dialect/MyQuant/IR/MyQuantOps.h"
#include "myquant/Dialect/MyQuant/IR/MyQuantTypeUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
using namespace myquant;

Value myquant::stripDequantize(Value value) {
  while (auto dequantize = value.getDefiningOp<DequantizeOp>())
    value = dequantize.getInput();
  return value;
}

DenseFPElementsAttr myquant::getFloatConstant(Value value) {
  Attribute attr;
  if (!matchPattern(value, m_Constant(&attr)))
    return {};
  if (auto dense = dyn_cast<DenseFPElementsAttr>(attr))
    return dense;
  // Large weights arrive as dense_resource blobs (hex is ~30x faster to
  // parse than decimal); read them through the same interface.
  auto resource = dyn_cast<DenseResourceElementsAttr>(attr);
  if (!resource || !resource.getElementType().isF32())
    return {};
  std::optional<ArrayRef<float>> values =
      cast<DenseF32ResourceElementsAttr>(resource).tryGetAsArrayRef();
  if (!values)
    return {};
  return DenseFPElementsAttr::get(resource.getType(), *values);
}

/// A scalar float constant, defined in a body or captured from above.
static std::optional<double> scalarConstant(Value value) {
  FloatAttr attr;
  if (matchPattern(value, m_Constant(&attr)))
    return attr.getValueAsDouble();
  return std::nullopt;
}

static bool isBlockArg(Value value, Block &block, unsigned index) {
  auto arg = dyn_cast<BlockArgument>(value);
  return arg && arg.getOwner() == &block && arg.getArgNumber() == index;
}

/// Whether binary op `def` of `body` reads block arguments #0 and #1 in
/// order (false: swapped); std::nullopt when it reads anything else.
static std::optional<bool> readsArgumentsInOrder(Operation *def, Block &body) {
  if (!def || def->getBlock() != &body || def->getNumOperands() != 2)
    return std::nullopt;
  Value lhs = def->getOperand(0), rhs = def->getOperand(1);
  if (isBlockArg(lhs, body, 0) && isBlockArg(rhs, body, 1))
    return true;
  if (isBlockArg(lhs, body, 1) && isBlockArg(rhs, body, 0))
    return false;
  return std::nullopt;
}

/// The single dimension a rank-1 broadcast map reads, if it is one.
static std::optional<unsigned> broadcastDim(AffineMap map) {
  if (map.getNumResults() != 1)
    return std::nullopt;
  if (auto dim = dyn_cast<AffineDimExpr>(map.getResult(0)))
    return dim.getPosition();
  return std::nullopt;
}

bool myquant::isBroadcastRead(AffineMap map, ArrayRef<int64_t> shape) {
  if (map.getNumResults() != shape.size() || map.getNumSymbols() != 0)
    return false;
  int64_t last = -1;
  for (auto [expr, size] : llvm::zip(map.getResults(), shape)) {
    if (auto dim = dyn_cast<AffineDimExpr>(expr)) {
      if (static_cast<int64_t>(dim.getPosition()) <= last)
        return false;
      last = dim.getPosition();
      continue;
    }
    auto constant = dyn_cast<AffineConstantExpr>(expr);
    if (!constant || constant.getValue() != 0 || size != 1)
      return false;
  }
  return true;
}

SmallVector<int64_t> myquant::broadcastOperandShape(AffineMap map,
                                                    ArrayRef<int64_t> shape) {
  SmallVector<int64_t> full(map.getNumDims(), 1);
  for (auto [expr, size] : llvm::zip(map.getResults(), shape))
    if (auto dim = dyn_cast<AffineDimExpr>(expr))
      full[dim.getPosition()] = size;
  return full;
}

/// Matches `max(x, lo)` and `min(max(x, lo), hi)` (either nesting) over the
/// body argument #0; returns the bounds.
static std::optional<std::pair<double, double>> matchClampBody(Value yielded,
                                                               Block &body) {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  Value current = yielded;
  for (int depth = 0; depth < 2; ++depth) {
    Operation *op = current.getDefiningOp();
    if (!op || op->getBlock() != &body || op->getNumOperands() != 2)
      return std::nullopt;
    std::optional<double> c = scalarConstant(op->getOperand(1));
    Value next = op->getOperand(0);
    if (!c) {
      c = scalarConstant(op->getOperand(0));
      next = op->getOperand(1);
    }
    if (!c)
      return std::nullopt;
    if (isa<arith::MaximumFOp, arith::MaxNumFOp>(op))
      lo = std::max(lo, *c);
    else if (isa<arith::MinimumFOp, arith::MinNumFOp>(op))
      hi = std::min(hi, *c);
    else
      return std::nullopt;
    if (isBlockArg(next, body, 0))
      return std::make_pair(lo, hi);
    current = next;
  }
  return std::nullopt;
}

/// Whether `body` computes a scalar function of argument #0 alone: only
/// `arith` and `math` ops, each reading the argument, an earlier op of the
/// body or a constant (not the initial value, argument #1).
static bool isScalarFunctionBody(Block &body) {
  for (Operation &op : body.without_terminator()) {
    StringRef dialect = op.getDialect() ? op.getDialect()->getNamespace() : "";
    if ((dialect != "arith" && dialect != "math") || op.getNumRegions() != 0 ||
        op.getNumResults() != 1)
      return false;
    for (Value operand : op.getOperands()) {
      if (isBlockArg(operand, body, 0) || scalarConstant(operand))
        continue;
      Operation *def = operand.getDefiningOp();
      if (!def || def->getBlock() != &body)
        return false;
    }
  }
  return true;
}

/// IEEE-754 2019 maximum (or minimum): NaN if either operand is, and
/// -0 < +0.
static double maximumOrMinimum(double a, double b, bool isMaximum) {
  if (std::isnan(a) || std::isnan(b))
    return NAN;
  if (a == b)
    return std::signbit(a) == isMaximum ? b : a;
  return isMaximum ? std::max(a, b) : std::min(a, b);
}

static bool compare(arith::CmpFPredicate predicate, double a, double b) {
  bool unordered = std::isnan(a) || std::isnan(b);
  switch (predicate) {
  case arith::CmpFPredicate::AlwaysFalse:
    return false;
  case arith::CmpFPredicate::OEQ:
    return !unordered && a == b;
  case arith::CmpFPredicate::OGT:
    return !unordered && a > b;
  case arith::CmpFPredicate::OGE:
    return !unordered && a >= b;
  case arith::CmpFPredicate::OLT:
    return !unordered && a < b;
  case arith::CmpFPredicate::OLE:
    return !unordered && a <= b;
  case arith::CmpFPredicate::ONE:
    return !unordered && a != b;
  case arith::CmpFPredicate::ORD:
    return !unordered;
  case arith::CmpFPredicate::UEQ:
    return unordered || a == b;
  case arith::CmpFPredicate::UGT:
    return unordered || a > b;
  case arith::CmpFPredicate::UGE:
    return unordered || a >= b;
  case arith::CmpFPredicate::ULT:
    return unordered || a < b;
  case arith::CmpFPredicate::ULE:
    return unordered || a <= b;
  case arith::CmpFPredicate::UNE:
    return unordered || a != b;
  case arith::CmpFPredicate::UNO:
    return unordered;
  case arith::CmpFPredicate::AlwaysTrue:
    return true;
  }
  return false;
}

/// One op of a Table body on double operands (booleans as 0 and 1), or
/// std::nullopt for an op without a double counterpart here.
static std::optional<double> evaluateOp(Operation *op, ArrayRef<double> x) {
  using Unary = double (*)(double);
  auto unary = [&](Unary f) -> std::optional<double> { return f(x[0]); };
  return llvm::TypeSwitch<Operation *, std::optional<double>>(op)
      .Case([&](arith::AddFOp) { return x[0] + x[1]; })
      .Case([&](arith::SubFOp) { return x[0] - x[1]; })
      .Case([&](arith::MulFOp) { return x[0] * x[1]; })
      .Case([&](arith::DivFOp) { return x[0] / x[1]; })
      .Case([&](arith::RemFOp) { return std::fmod(x[0], x[1]); })
      .Case([&](arith::NegFOp) { return -x[0]; })
      .Case(
          [&](arith::MaximumFOp) { return maximumOrMinimum(x[0], x[1], true); })
      .Case([&](arith::MinimumFOp) {
        return maximumOrMinimum(x[0], x[1], false);
      })
      .Case([&](arith::MaxNumFOp) { return std::fmax(x[0], x[1]); })
      .Case([&](arith::MinNumFOp) { return std::fmin(x[0], x[1]); })
      .Case([&](arith::CmpFOp cmp) {
        return compare(cmp.getPredicate(), x[0], x[1]) ? 1.0 : 0.0;
      })
      .Case([&](arith::SelectOp) { return x[0] != 0.0 ? x[1] : x[2]; })
      // torch-mlir's f64 scalars (eps) converted in the body.
      .Case([&](arith::TruncFOp op) {
        APFloat value(x[0]);
        bool losesInfo = false;
        value.convert(cast<FloatType>(op.getType()).getFloatSemantics(),
                      APFloat::rmNearestTiesToEven, &losesInfo);
        return value.convertToDouble();
      })
      .Case([&](arith::ExtFOp) { return x[0]; })
      .Case([&](math::ExpOp) { return unary(std::exp); })
      .Case([&](math::Exp2Op) { return unary(std::exp2); })
      .Case([&](math::ExpM1Op) { return unary(std::expm1); })
      .Case([&](math::LogOp) { return unary(std::log); })
      .Case([&](math::Log2Op) { return unary(std::log2); })
      .Case([&](math::Log10Op) { return unary(std::log10); })
      .Case([&](math::Log1pOp) { return unary(std::log1p); })
      .Case([&](math::TanhOp) { return unary(std::tanh); })
      .Case([&](math::ErfOp) { return unary(std::erf); })
      .Case([&](math::ErfcOp) { return unary(std::erfc); })
      .Case([&](math::SqrtOp) { return unary(std::sqrt); })
      .Case([&](math::RsqrtOp) { return 1.0 / std::sqrt(x[0]); })
      .Case([&](math::AbsFOp) { return unary(std::fabs); })
      .Case([&](math::SinOp) { return unary(std::sin); })
      .Case([&](math::CosOp) { return unary(std::cos); })
      .Case([&](math::AtanOp) { return unary(std::atan); })
      .Case([&](math::FloorOp) { return unary(std::floor); })
      .Case([&](math::CeilOp) { return unary(std::ceil); })
      .Case([&](math::PowFOp) { return std::pow(x[0], x[1]); })
      .Default([](Operation *) { return std::nullopt; });
}

std::optional<double> myquant::evaluateTableBody(Block &body, double x,
                                                 Operation **unsupported) {
  return evaluateBody(body, x, unsupported);
}

/// An op reading the loop indices or a captured tensor, or index
/// arithmetic (exact in double at tensor sizes); std::nullopt for any
/// other op.
static std::optional<double>
evaluateIndexOp(Operation *op, ArrayRef<double> x,
                const BodyEnvironment &environment) {
  if (auto index = dyn_cast<linalg::IndexOp>(op)) {
    if (index.getDim() >= environment.loopIndices.size())
      return std::nullopt;
    return static_cast<double>(environment.loopIndices[index.getDim()]);
  }
  // An unknown value (NaN; the tensor an extract reads is not a number)
  // must not vanish in a min or max of indices.
  auto isExtract = isa<tensor::ExtractOp>(op);
  if (llvm::any_of(x.drop_front(isExtract ? 1 : 0),
                   [](double v) { return std::isnan(v); }))
    return std::nullopt;
  if (auto extract = dyn_cast<tensor::ExtractOp>(op)) {
    SmallVector<int64_t> indices = llvm::map_to_vector(
        x.drop_front(), [](double i) { return static_cast<int64_t>(i); });
    return environment.extract(extract.getTensor(), indices);
  }
  // Integer casts of these values (a window's element count) are exact.
  if (isa<arith::IndexCastOp, arith::SIToFPOp>(op))
    return x[0];
  if (op->getNumResults() != 1 || !op->getResult(0).getType().isIndex())
    return std::nullopt;
  return llvm::TypeSwitch<Operation *, std::optional<double>>(op)
      .Case([&](arith::AddIOp) { return x[0] + x[1]; })
      .Case([&](arith::SubIOp) { return x[0] - x[1]; })
      .Case([&](arith::MulIOp) { return x[0] * x[1]; })
      .Case([&](arith::MinSIOp) { return std::min(x[0], x[1]); })
      .Case([&](arith::MaxSIOp) { return std::max(x[0], x[1]); })
      .Default([](Operation *) { return std::nullopt; });
}

std::optional<double>
myquant::evaluateBody(Block &body, ArrayRef<double> arguments,
                      Operation **unsupported,
                      const BodyEnvironment *environment) {
  DenseMap<Value, double> values;
  for (auto [arg, value] : llvm::zip(body.getArguments(), arguments))
    values[arg] = value;
  // Constants captured from above the body.
  auto read = [&](Value v) {
    auto it = values.find(v);
    if (it != values.end())
      return it->second;
    IntegerAttr integer;
    if (matchPattern(v, m_Constant(&integer)))
      return static_cast<double>(integer.getValue().getSExtValue());
    return scalarConstant(v).value_or(NAN);
  };
  for (Operation &op : body.without_terminator()) {
    std::optional<double> result;
    Attribute attr;
    if (matchPattern(op.getResult(0), m_Constant(&attr))) {
      result = read(op.getResult(0));
    } else {
      SmallVector<double, 3> operands =
          llvm::map_to_vector(op.getOperands(), read);
      result = evaluateOp(&op, operands);
      if (!result && environment)
        result = evaluateIndexOp(&op, operands, *environment);
    }
    if (!result) {
      if (unsupported)
        *unsupported = &op;
      return std::nullopt;
    }
    values[op.getResult(0)] = *result;
  }
  return read(body.getTerminator()->getOperand(0));
}

std::optional<ElementwiseKind> myquant::classifyElementwise(Operation *op) {
  auto generic = dyn_cast_or_null<linalg::GenericOp>(op);
  if (!generic || generic.getNumDpsInits() != 1 ||
      generic.getNumReductionLoops() != 0 || generic->getNumResults() != 1)
    return std::nullopt;
  auto resultType = dyn_cast<RankedTensorType>(generic->getResult(0).getType());
  if (!resultType || !isa<FloatType>(resultType.getElementType()))
    return std::nullopt;
  Block &body = generic.getRegion().front();
  Value yielded = body.getTerminator()->getOperand(0);
  SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
  unsigned numInputs = generic.getNumDpsInputs();
  auto isIdentity = [&](unsigned i) { return maps[i].isIdentity(); };
  if (!isIdentity(numInputs))
    return std::nullopt;

  ElementwiseKind kind;
  if (numInputs == 1) {
    if (isBlockArg(yielded, body, 0)) {
      std::optional<unsigned> dim = broadcastDim(maps[0]);
      if (!dim || maps[0].getNumDims() == 1)
        return std::nullopt;
      kind.kind = ElementwiseKind::Broadcast;
      kind.dim = *dim;
      return kind;
    }
    if (!isIdentity(0))
      return std::nullopt;
    if (auto bounds = matchClampBody(yielded, body)) {
      kind.kind = ElementwiseKind::Clamp;
      std::tie(kind.lo, kind.hi) = *bounds;
      return kind;
    }
    // Positive constants only: a rescale has no sign.
    Operation *def = yielded.getDefiningOp();
    if (def && def->getBlock() == &body && def->getNumOperands() == 2 &&
        isBlockArg(def->getOperand(0), body, 0)) {
      std::optional<double> c = scalarConstant(def->getOperand(1));
      if (c && *c > 0.0 && isa<arith::DivFOp>(def)) {
        kind.kind = ElementwiseKind::DivByConstant;
        kind.divisor = *c;
        kind.factor = 1.0 / *c;
        return kind;
      }
      if (c && *c > 0.0 && isa<arith::MulFOp>(def)) {
        kind.kind = ElementwiseKind::DivByConstant;
        kind.divisor = 1.0 / *c;
        kind.factor = *c;
        return kind;
      }
    }
    auto inputType =
        dyn_cast<RankedTensorType>(generic.getDpsInputs()[0].getType());
    if (!inputType || !isa<FloatType>(inputType.getElementType()) ||
        inputType.getShape() != resultType.getShape() ||
        !isScalarFunctionBody(body))
      return std::nullopt;
    kind.kind = ElementwiseKind::Table;
    return kind;
  }
  if (numInputs != 2)
    return std::nullopt;
  Operation *def = yielded.getDefiningOp();
  std::optional<bool> inOrder = readsArgumentsInOrder(def, body);
  if (!inOrder)
    return std::nullopt;
  kind.swapped = !*inOrder;
  // The bias of a conv or matmul is a rank-1 broadcast; any other
  // broadcast is an element-wise op of two activations.
  if (isa<arith::AddFOp>(def) && isIdentity(0) && !isIdentity(1))
    if (std::optional<unsigned> dim = broadcastDim(maps[1])) {
      kind.kind = ElementwiseKind::BiasAdd;
      kind.dim = *dim;
      return kind;
    }
  auto readsBroadcast = [&](unsigned i) {
    auto type = cast<RankedTensorType>(generic.getDpsInputs()[i].getType());
    return isBroadcastRead(maps[i], type.getShape());
  };
  if (!readsBroadcast(0) || !readsBroadcast(1))
    return std::nullopt;
  if (isa<arith::AddFOp>(def))
    kind.kind = ElementwiseKind::Add;
  else if (isa<arith::SubFOp>(def))
    kind.kind = ElementwiseKind::Sub;
  else if (isa<arith::MulFOp>(def))
    kind.kind = ElementwiseKind::Mul;
  else
    return std::nullopt;
  return kind;
}

bool myquant::isSameScaleOp(Operation *op) {
  return isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp, tensor::CastOp,
             tensor::ExtractSliceOp, linalg::TransposeOp, linalg::BroadcastOp>(
      op);
}

/// The padding a zero-valued (or -inf-valued, for max pooling) tensor.pad
/// adds to height and width; `input` moves to the unpadded source.
static bool absorbPad(Value &input, Layout layout, bool negativeInfinity,
                      SmallVector<int64_t, 4> &padding) {
  auto pad = input.getDefiningOp<tensor::PadOp>();
  if (!pad)
    return true;
  std::optional<double> value;
  if (Value padValue = pad.getConstantPaddingValue())
    value = scalarConstant(padValue);
  if (!value)
    return false;
  bool ok = negativeInfinity ? (*value < -3.0e38 || std::isinf(*value))
                             : *value == 0.0;
  // Amounts may be attributes or constant SSA values (tosa.pad's lowering).
  std::optional<SmallVector<int64_t>> low =
      getConstantIntValues(pad.getMixedLowPad());
  std::optional<SmallVector<int64_t>> high =
      getConstantIntValues(pad.getMixedHighPad());
  if (!ok || !low || !high)
    return false;
  LayoutDims dims = getLayoutDims(layout);
  unsigned h = dims.height, w = dims.width;
  for (unsigned d = 0; d < 4; ++d)
    if (d != h && d != w && ((*low)[d] != 0 || (*high)[d] != 0))
      return false;
  padding = {(*low)[h], (*low)[w], (*high)[h], (*high)[w]};
  input = pad.getSource();
  return true;
}

static bool isFilledWith(Value value, double expected) {
  auto fill = value.getDefiningOp<linalg::FillOp>();
  if (!fill)
    return false;
  std::optional<double> c = scalarConstant(fill.getInputs()[0]);
  return c && (*c == expected ||
               (std::isinf(expected) && expected < 0 && *c < -3.0e38));
}

/// Strides or dilations; an absent attribute means 1 in every dimension.
static SmallVector<int64_t, 2> attrValues(DenseIntElementsAttr attr) {
  if (!attr)
    return {1, 1};
  SmallVector<int64_t, 2> values;
  for (const APInt &v : attr.getValues<APInt>())
    values.push_back(v.getSExtValue());
  return values;
}

/// Follows single-use bias adds and one clamp after `chain.output`.
static void matchEpilogue(ComputeChain &chain, unsigned channelDim) {
  while (chain.output.hasOneUse()) {
    Operation *user = *chain.output.getUsers().begin();
    std::optional<ElementwiseKind> kind = classifyElementwise(user);
    if (!kind)
      return;
    auto generic = cast<linalg::GenericOp>(user);
    if (kind->kind == ElementwiseKind::BiasAdd && !chain.bias &&
        chain.actLo == -std::numeric_limits<double>::infinity() &&
        chain.actHi == std::numeric_limits<double>::infinity() &&
        generic.getDpsInputs()[0] == chain.output && kind->dim == channelDim) {
      chain.bias = generic.getDpsInputs()[1];
      chain.biasOperand = generic.getDpsInputOperand(1);
      chain.epilogue.push_back(user);
      chain.output = user->getResult(0);
      continue;
    }
    // A matmul scaled by a constant (attention's 1 / sqrt(d)) folds the
    // constant into its rescale; the chain ends there.
    if (kind->kind == ElementwiseKind::DivByConstant &&
        chain.kind == ComputeChain::Matmul &&
        chain.actLo == -std::numeric_limits<double>::infinity() &&
        chain.actHi == std::numeric_limits<double>::infinity()) {
      chain.factor = kind->factor;
      chain.epilogue.push_back(user);
      chain.output = user->getResult(0);
      return;
    }
    if (kind->kind == ElementwiseKind::Clamp) {
      chain.actLo = kind->lo;
      chain.actHi = kind->hi;
      chain.epilogue.push_back(user);
      chain.output = user->getResult(0);
    }
    return;
  }
}

/// The bias carried by an accumulator initialized with a broadcast bias, or
/// success with no bias for a zero fill.
static LogicalResult matchInit(Value init, unsigned channelDim,
                               ComputeChain &chain) {
  if (isFilledWith(init, 0.0))
    return success();
  Operation *def = init.getDefiningOp();
  std::optional<ElementwiseKind> kind = classifyElementwise(def);
  if (!kind || kind->kind != ElementwiseKind::Broadcast ||
      kind->dim != channelDim)
    return failure();
  chain.biasOperand = cast<linalg::GenericOp>(def).getDpsInputOperand(0);
  chain.bias = chain.biasOperand->get();
  return success();
}

namespace {
/// What a layer's anchor op reads, once the reshapes around it are absorbed.
struct AnchorOperands {
  Value lhs, rhs, init;
  /// The result dimension that indexes output channels.
  unsigned channelDim = 0;
};
} // namespace

template <typename ConvOp>
static void setConv(ComputeChain &chain, Layout layout, ConvOp conv) {
  chain.kind = ComputeChain::Conv;
  chain.layout = layout;
  chain.strides = attrValues(conv.getStrides());
  chain.dilations = attrValues(conv.getDilations());
}

/// A convolution or depthwise convolution in NCHW or NHWC; depthwise
/// filters gain their unit input-channel dimension.
static bool matchConv(Operation *anchor, ComputeChain &chain,
                      AnchorOperands &operands) {
  ArrayRef<int64_t> s =
      cast<RankedTensorType>(operands.rhs.getType()).getShape();
  if (auto conv = dyn_cast<linalg::Conv2DNchwFchwOp>(anchor)) {
    setConv(chain, Layout::NCHW, conv);
    chain.weightShape.assign(s.begin(), s.end());
  } else if (auto conv = dyn_cast<linalg::Conv2DNhwcHwcfOp>(anchor)) {
    setConv(chain, Layout::NHWC, conv);
    chain.weightShape.assign(s.begin(), s.end());
  } else if (auto conv = dyn_cast<linalg::DepthwiseConv2DNchwChwOp>(anchor)) {
    setConv(chain, Layout::NCHW, conv);
    chain.weightShape = {s[0], 1, s[1], s[2]}; // from C x KH x KW
    chain.groups = s[0];
  } else if (auto conv = dyn_cast<linalg::DepthwiseConv2DNhwcHwcOp>(anchor)) {
    setConv(chain, Layout::NHWC, conv);
    chain.weightShape = {s[0], s[1], 1, s[2]}; // from KH x KW x C
    chain.groups = s[2];
  } else {
    return false;
  }
  LayoutDims dims = getLayoutDims(chain.layout);
  // The float filter is quantized as it is: a KH x KW x C depthwise filter
  // has its channels in dimension 2.
  chain.weightChannelDim =
      isa<linalg::DepthwiseConv2DNhwcHwcOp>(anchor) ? 2 : dims.filterOut;
  operands.channelDim = dims.channel;
  return true;
}

/// A grouped convolution as torch-mlir emits it: the input, filter and
/// initial value are reshaped to expose the groups, the result reshaped
/// back; the quantized op takes the ungrouped forms.
static bool matchGroupedConv(Operation *anchor, ComputeChain &chain,
                             AnchorOperands &operands) {
  auto conv = dyn_cast<linalg::Conv2DNgchwGfchwOp>(anchor);
  if (!conv)
    return false;
  setConv(chain, Layout::NCHW, conv);
  const SmallVector<ReassociationIndices> splitChannels = {
      {0}, {1, 2}, {3}, {4}};
  const SmallVector<ReassociationIndices> splitFilters = {
      {0, 1}, {2}, {3}, {4}};
  auto inExpand = operands.lhs.getDefiningOp<tensor::ExpandShapeOp>();
  auto wExpand =
      stripDequantize(operands.rhs).getDefiningOp<tensor::ExpandShapeOp>();
  auto initExpand = operands.init.getDefiningOp<tensor::ExpandShapeOp>();
  Value result = anchor->getResult(0);
  auto collapse =
      result.hasOneUse()
          ? dyn_cast<tensor::CollapseShapeOp>(*result.getUsers().begin())
          : tensor::CollapseShapeOp();
  if (!inExpand || !wExpand || !initExpand || !collapse ||
      inExpand.getReassociationIndices() != splitChannels ||
      wExpand.getReassociationIndices() != splitFilters ||
      initExpand.getReassociationIndices() != splitChannels ||
      collapse.getReassociationIndices() != splitChannels)
    return false;
  operands.lhs = inExpand.getSrc();
  operands.rhs = wExpand.getSrc();
  operands.init = initExpand.getSrc();
  chain.weightOperand = &wExpand->getOpOperand(0);
  ArrayRef<int64_t> filterShape =
      cast<RankedTensorType>(operands.rhs.getType()).getShape();
  chain.weightShape.assign(filterShape.begin(), filterShape.end());
  chain.weightChannelDim = 0;
  chain.groups =
      cast<RankedTensorType>(conv.getDpsInputs()[1].getType()).getDimSize(0);
  chain.regrouping = {inExpand, wExpand, initExpand, collapse};
  operands.channelDim = 1;
  return true;
}

/// Whether a matmul's maps are the canonical ones (false) or read the rhs
/// transposed as [N, K] (true); std::nullopt for any other maps.
static std::optional<bool> readsRhsTransposed(linalg::MatmulOp matmul) {
  if (!matmul.hasUserDefinedMaps())
    return false;
  MLIRContext *ctx = matmul->getContext();
  AffineExpr m, n, k;
  bindDims(ctx, m, n, k);
  auto map = [&](ArrayRef<AffineExpr> exprs) {
    return AffineMap::get(3, 0, exprs, ctx);
  };
  if (matmul.getIndexingMapsArray() !=
      SmallVector<AffineMap>{map({m, k}), map({n, k}), map({m, n})})
    return std::nullopt;
  return true;
}

/// A (batched) matmul; an rhs transposed by its own op or by the matmul's
/// maps becomes `transpose_rhs`.
static bool matchMatmul(Operation *anchor, ComputeChain &chain,
                        AnchorOperands &operands) {
  if (!isa<linalg::MatmulOp, linalg::BatchMatmulOp>(anchor))
    return false;
  chain.kind = ComputeChain::Matmul;
  auto rhsType = cast<RankedTensorType>(operands.rhs.getType());
  unsigned rank = rhsType.getRank();
  if (auto matmul = dyn_cast<linalg::MatmulOp>(anchor)) {
    std::optional<bool> transposed = readsRhsTransposed(matmul);
    if (!transposed)
      return false;
    chain.transposeRhs = *transposed;
  }
  if (auto batch = dyn_cast<linalg::BatchMatmulOp>(anchor))
    if (batch.hasUserDefinedMaps())
      return false;
  auto transpose =
      stripDequantize(operands.rhs).getDefiningOp<linalg::TransposeOp>();
  if (transpose && !chain.transposeRhs) {
    ArrayRef<int64_t> perm = transpose.getPermutation();
    bool swapsLast = rank == 2 ? perm == ArrayRef<int64_t>{1, 0}
                               : perm == ArrayRef<int64_t>{0, 2, 1};
    if (swapsLast) {
      operands.rhs = transpose.getInput();
      chain.weightOperand = transpose.getDpsInputOperand(0);
      rhsType = cast<RankedTensorType>(operands.rhs.getType());
      chain.transposeRhs = true;
    }
  }
  chain.weightShape.assign(rhsType.getShape().begin(),
                           rhsType.getShape().end());
  chain.weightChannelDim = chain.transposeRhs ? rank - 2 : rank - 1;
  operands.channelDim = rank - 1;
  return true;
}

/// A linalg op with two static inputs and one static init on tensors.
static bool isStaticBinaryLinalg(Operation *op) {
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  // Quantized layers need static shapes (weights are constants anyway).
  auto isStatic = [](Type type) {
    auto shaped = dyn_cast<ShapedType>(type);
    return shaped && shaped.hasStaticShape();
  };
  return linalgOp && linalgOp.getNumDpsInputs() == 2 &&
         linalgOp.getNumDpsInits() == 1 && op->getNumResults() == 1 &&
         linalgOp.hasPureTensorSemantics() &&
         llvm::all_of(op->getOperandTypes(), isStatic) &&
         llvm::all_of(op->getResultTypes(), isStatic);
}

std::optional<ComputeChain> myquant::matchComputeChain(Operation *anchor) {
  if (!isStaticBinaryLinalg(anchor))
    return std::nullopt;
  auto linalgOp = cast<linalg::LinalgOp>(anchor);
  ComputeChain chain;
  chain.anchor = anchor;
  chain.weightOperand = linalgOp.getDpsInputOperand(1);
  AnchorOperands operands{linalgOp.getDpsInputs()[0],
                          linalgOp.getDpsInputs()[1],
                          linalgOp.getDpsInits()[0]};
  if (!matchConv(anchor, chain, operands) &&
      !matchGroupedConv(anchor, chain, operands) &&
      !matchMatmul(anchor, chain, operands))
    return std::nullopt;
  if (chain.kind == ComputeChain::Conv &&
      (chain.strides.size() != 2 || chain.dilations.size() != 2))
    return std::nullopt;
  chain.input = operands.lhs;
  if (chain.kind == ComputeChain::Conv &&
      !absorbPad(chain.input, chain.layout, /*negativeInfinity=*/false,
                 chain.padding))
    return std::nullopt;
  chain.weight = operands.rhs;
  if (failed(matchInit(operands.init, operands.channelDim, chain)))
    return std::nullopt;
  chain.output = chain.regrouping.empty()
                     ? anchor->getResult(0)
                     : chain.regrouping.back()->getResult(0);
  matchEpilogue(chain, operands.channelDim);
  return chain;
}

/// `sum / d[h, w]` with `d` a constant of positive integers, one per output
/// position: the divisors of average pooling whose windows differ in size.
static bool matchDivisors(Operation *user, PoolChain &chain) {
  auto generic = dyn_cast<linalg::GenericOp>(user);
  if (!generic || generic.getNumDpsInputs() != 2 ||
      generic.getNumDpsInits() != 1 || generic.getNumReductionLoops() != 0 ||
      generic.getDpsInputs()[0] != chain.output)
    return false;
  Block &body = generic.getRegion().front();
  auto div = body.getTerminator()->getOperand(0).getDefiningOp<arith::DivFOp>();
  if (!div || !isBlockArg(div.getLhs(), body, 0) ||
      !isBlockArg(div.getRhs(), body, 1))
    return false;
  MLIRContext *ctx = user->getContext();
  LayoutDims dims = getLayoutDims(chain.layout);
  SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
  AffineMap spatial = AffineMap::get(
      4, 0,
      {getAffineDimExpr(dims.height, ctx), getAffineDimExpr(dims.width, ctx)},
      ctx);
  DenseFPElementsAttr constant = getFloatConstant(generic.getDpsInputs()[1]);
  if (!maps[0].isIdentity() || !maps[2].isIdentity() || maps[1] != spatial ||
      !constant)
    return false;
  for (APFloat value : constant.getValues<APFloat>()) {
    double d = value.convertToDouble();
    if (!(d >= 1.0) || d != std::floor(d) || d > (1 << 30))
      return false;
    chain.divisors.push_back(static_cast<int64_t>(d));
  }
  return true;
}

std::optional<PoolChain> myquant::matchPoolChain(Operation *anchor) {
  PoolChain chain;
  chain.anchor = anchor;
  if (isa<linalg::PoolingNchwMaxOp, linalg::PoolingNchwSumOp>(anchor))
    chain.layout = Layout::NCHW;
  else if (isa<linalg::PoolingNhwcMaxOp, linalg::PoolingNhwcSumOp>(anchor))
    chain.layout = Layout::NHWC;
  else
    return std::nullopt;
  chain.isMax = isa<linalg::PoolingNchwMaxOp, linalg::PoolingNhwcMaxOp>(anchor);
  auto linalgOp = cast<linalg::LinalgOp>(anchor);
  if (!linalgOp.hasPureTensorSemantics() ||
      !cast<ShapedType>(anchor->getResult(0).getType()).hasStaticShape() ||
      !cast<ShapedType>(linalgOp.getDpsInputs()[1].getType()).hasStaticShape())
    return std::nullopt;
  chain.strides =
      attrValues(anchor->getAttrOfType<DenseIntElementsAttr>("strides"));
  chain.dilations =
      attrValues(anchor->getAttrOfType<DenseIntElementsAttr>("dilations"));
  // myquant.avg_pool2d has no dilations.
  if (!chain.isMax &&
      llvm::any_of(chain.dilations, [](int64_t d) { return d != 1; }))
    return std::nullopt;
  auto window = cast<RankedTensorType>(linalgOp.getDpsInputs()[1].getType());
  chain.kernel.assign(window.getShape().begin(), window.getShape().end());
  chain.input = linalgOp.getDpsInputs()[0];
  if (!absorbPad(chain.input, chain.layout, chain.isMax, chain.padding))
    return std::nullopt;
  double initValue =
      chain.isMax ? -std::numeric_limits<double>::infinity() : 0.0;
  if (!isFilledWith(linalgOp.getDpsInits()[0], initValue))
    return std::nullopt;
  chain.output = anchor->getResult(0);
  if (chain.isMax)
    return chain;
  // Sum pooling is average pooling once divided by the window size.
  if (!chain.output.hasOneUse())
    return std::nullopt;
  Operation *user = *chain.output.getUsers().begin();
  std::optional<ElementwiseKind> kind = classifyElementwise(user);
  bool byWindowSize =
      kind && kind->kind == ElementwiseKind::DivByConstant &&
      kind->divisor == double(chain.kernel[0] * chain.kernel[1]);
  if (!byWindowSize && !matchDivisors(user, chain))
    return std::nullopt;
  chain.epilogue.push_back(user);
  chain.output = user->getResult(0);
  return chain;
}

/// Constants larger than this are not read element by element.
constexpr int64_t kMaxConstantElements = int64_t(1) << 22;

std::optional<SmallVector<double>>
myquant::getFloatConstantValues(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || !type.hasStaticShape() ||
      type.getNumElements() > kMaxConstantElements)
    return std::nullopt;
  if (DenseFPElementsAttr constant = getFloatConstant(value))
    return llvm::map_to_vector(
        constant.getValues<APFloat>(),
        [](const APFloat &v) { return v.convertToDouble(); });
  auto broadcast = value.getDefiningOp<linalg::BroadcastOp>();
  if (!broadcast)
    return std::nullopt;
  std::optional<SmallVector<double>> source =
      getFloatConstantValues(broadcast.getInput());
  if (!source)
    return std::nullopt;
  // Each result index reads the source at the index without the added
  // dimensions.
  ArrayRef<int64_t> shape = type.getShape();
  SmallVector<bool> added(shape.size(), false);
  for (int64_t d : broadcast.getDimensions())
    added[d] = true;
  SmallVector<double> values;
  values.reserve(type.getNumElements());
  for (int64_t i = 0, e = type.getNumElements(); i < e; ++i) {
    int64_t rest = i, sourceIndex = 0, sourceStride = 1;
    for (int64_t d = shape.size() - 1; d >= 0; --d) {
      int64_t index = rest % shape[d];
      rest /= shape[d];
      if (added[d])
        continue;
      sourceIndex += index * sourceStride;
      sourceStride *= shape[d];
    }
    values.push_back((*source)[sourceIndex]);
  }
  return values;
}

/// The dimensions of `shape` along which `values` (row-major) change.
static SmallVector<unsigned> varyingDims(ArrayRef<double> values,
                                         ArrayRef<int64_t> shape) {
  SmallVector<unsigned> dims;
  int64_t stride = 1;
  for (int64_t d = shape.size() - 1; d >= 0; --d) {
    for (int64_t i = 0, e = values.size(); i < e; ++i) {
      int64_t first = i - ((i / stride) % shape[d]) * stride;
      if (values[i] != values[first]) {
        dims.push_back(d);
        break;
      }
    }
    stride *= shape[d];
  }
  return dims;
}

std::optional<ChannelScale> myquant::matchChannelScale(Operation *op) {
  auto generic = dyn_cast_or_null<linalg::GenericOp>(op);
  if (!generic || generic.getNumDpsInputs() != 2 ||
      generic.getNumDpsInits() != 1 || generic.getNumReductionLoops() != 0 ||
      generic->getNumResults() != 1)
    return std::nullopt;
  auto resultType = dyn_cast<RankedTensorType>(generic->getResult(0).getType());
  SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
  if (!resultType || !isa<FloatType>(resultType.getElementType()) ||
      !maps[2].isIdentity())
    return std::nullopt;
  Block &body = generic.getRegion().front();
  Operation *def = body.getTerminator()->getOperand(0).getDefiningOp();
  std::optional<bool> inOrder = readsArgumentsInOrder(def, body);
  if (!inOrder || !isa<arith::MulFOp, arith::DivFOp>(def))
    return std::nullopt;
  // Exactly one input is constant; a division must divide by it.
  std::optional<SmallVector<double>> values =
      getFloatConstantValues(generic.getDpsInputs()[1]);
  unsigned constantIndex = 1;
  if (!values) {
    values = getFloatConstantValues(generic.getDpsInputs()[0]);
    constantIndex = 0;
  }
  unsigned inputIndex = 1 - constantIndex;
  Value input = generic.getDpsInputs()[inputIndex];
  Value constant = generic.getDpsInputs()[constantIndex];
  auto constantType = cast<RankedTensorType>(constant.getType());
  bool dividesByConstant = constantIndex == (*inOrder ? 1u : 0u);
  if (!values || getFloatConstantValues(input) ||
      (isa<arith::DivFOp>(def) && !dividesByConstant) ||
      input.getType() != generic->getResult(0).getType() ||
      !maps[inputIndex].isIdentity() ||
      !isBroadcastRead(maps[constantIndex], constantType.getShape()))
    return std::nullopt;
  SmallVector<unsigned> varying = varyingDims(*values, constantType.getShape());
  if (varying.size() > 1)
    return std::nullopt;
  ChannelScale scale;
  scale.op = op;
  scale.input = input;
  scale.output = generic->getResult(0);
  int64_t count = 1, stride = 1;
  if (!varying.empty()) {
    unsigned d = varying.front();
    // A dimension of size > 1 in a broadcast read is a loop dimension.
    scale.axis =
        cast<AffineDimExpr>(maps[constantIndex].getResult(d)).getPosition();
    count = constantType.getDimSize(d);
    for (int64_t size : constantType.getShape().drop_front(d + 1))
      stride *= size;
  }
  for (int64_t i = 0; i < count; ++i) {
    double c = (*values)[i * stride];
    double factor = isa<arith::DivFOp>(def) ? 1.0 / c : c;
    if (!std::isfinite(factor))
      return std::nullopt;
    scale.factors.push_back(factor);
  }
  return scale;
}

bool myquant::isLastDimSoftmax(linalg::SoftmaxOp op) {
  auto type = cast<ShapedType>(op.getInput().getType());
  return type.getRank() >= 1 &&
         static_cast<int64_t>(op.getDimension()) == type.getRank() - 1 &&
         isa<FloatType>(type.getElementType());
}

bool myquant::isRowMap(AffineMap map) {
  unsigned rank = map.getNumDims();
  if (rank == 0 || map.getNumSymbols() != 0)
    return false;
  ArrayRef<AffineExpr> results = map.getResults();
  if (results.size() == rank) {
    auto last = dyn_cast<AffineConstantExpr>(results.back());
    if (!last || last.getValue() != 0)
      return false;
    results = results.drop_back();
  }
  if (results.size() != rank - 1)
    return false;
  return llvm::all_of(llvm::enumerate(results), [&](auto indexed) {
    return indexed.value() ==
           getAffineDimExpr(indexed.index(), map.getContext());
  });
}

bool myquant::isRowwiseElementwise(linalg::GenericOp op, unsigned inputs) {
  if (op.getNumDpsInputs() != inputs || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() != 0)
    return false;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  return maps.front().isIdentity() && maps.back().isIdentity();
}

bool myquant::bodyComputes(linalg::GenericOp op,
                           ArrayRef<SmallVector<double, 2>> points,
                           function_ref<double(ArrayRef<double>)> f,
                           double relativeTolerance) {
  return llvm::all_of(points, [&](ArrayRef<double> args) {
    std::optional<double> got = evaluateBody(op.getRegion().front(), args);
    double want = f(args);
    return got && (*got == want || std::fabs(*got - want) <=
                                       relativeTolerance * std::fabs(want));
  });
}

Value myquant::rowReductionInput(Value value, double identity,
                                 function_ref<double(ArrayRef<double>)> f) {
  // A reduction without keepdim, then a unit last dimension added back
  // (torch-mlir's max.dim with keepdim).
  if (auto expand = value.getDefiningOp<tensor::ExpandShapeOp>()) {
    ArrayRef<int64_t> source = expand.getSrcType().getShape();
    ArrayRef<int64_t> result = expand.getResultType().getShape();
    if (result.size() == source.size() + 1 && result.back() == 1 &&
        result.drop_back() == source)
      value = expand.getSrc();
  }
  auto op = value.getDefiningOp<linalg::GenericOp>();
  if (!op || op.getNumDpsInputs() != 1 || op.getNumDpsInits() != 1 ||
      op.getNumLoops() == 0 || op.getNumReductionLoops() != 1 ||
      op.getIteratorTypesArray().back() != utils::IteratorType::reduction)
    return {};
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  auto fill = op.getDpsInits()[0].getDefiningOp<linalg::FillOp>();
  FloatAttr init;
  if (!maps[0].isIdentity() || !isRowMap(maps[1]) || !fill ||
      !matchPattern(fill.getInputs()[0], m_Constant(&init)))
    return {};
  // The fill acts as the identity: f(p, init) = f(p, identity) at probes
  // that tell a sum's 0 (a small p) and a max's -inf (a very negative p).
  for (double probe : {0.375, -1e30}) {
    std::optional<double> first =
        evaluateBody(op.getRegion().front(), {probe, init.getValueAsDouble()});
    if (!first || *first != f({probe, identity}))
      return {};
  }
  if (!bodyComputes(op, {{1.5, -2.0}, {-3.0, 0.25}, {0.5, 0.5}}, f))
    return {};
  return op.getDpsInputs()[0];
}

/// A 1-D float constant of `size` entries read along the last loop; none
/// past kMaxWeightElements (a splat of 2^40 entries took hours to copy).
static std::optional<SmallVector<double>>
channelConstant(linalg::GenericOp op, unsigned input, int64_t size) {
  AffineMap map = op.getIndexingMapsArray()[input];
  DenseFPElementsAttr constant = getFloatConstant(op.getDpsInputs()[input]);
  if (!constant || constant.getType().getRank() != 1 ||
      constant.getNumElements() != size || size > kMaxWeightElements ||
      map.getNumResults() != 1 ||
      map.getResult(0) !=
          getAffineDimExpr(map.getNumDims() - 1, op.getContext()))
    return std::nullopt;
  SmallVector<double> values;
  for (APFloat v : constant.getValues<APFloat>())
    values.push_back(v.convertToDouble());
  return values;
}

std::optional<LayerNormChain> myquant::matchLayerNorm(Operation *anchor) {
  auto affine = dyn_cast<linalg::GenericOp>(anchor);
  if (!affine || !isRowwiseElementwise(affine, 4) ||
      !isRowMap(affine.getIndexingMapsArray()[1]))
    return std::nullopt;
  auto type = cast<RankedTensorType>(affine.getResult(0).getType());
  int64_t channels = type.getShape().back();
  auto c = static_cast<double>(channels);
  LayerNormChain chain;
  chain.anchor = anchor;
  chain.output = affine.getResult(0);
  std::optional<SmallVector<double>> gamma =
      channelConstant(affine, 2, channels);
  std::optional<SmallVector<double>> beta =
      channelConstant(affine, 3, channels);
  if (!gamma || !beta)
    return std::nullopt;
  chain.gamma = *gamma;
  chain.beta = *beta;
  // eps is the constant the body adds; the whole body is then checked.
  std::optional<double> eps;
  affine.getRegion().front().walk([&](arith::AddFOp add) {
    for (Value operand : add->getOperands())
      if (std::optional<double> v = scalarConstant(operand))
        eps = v;
  });
  if (!eps || !(*eps >= 0))
    return std::nullopt;
  chain.eps = *eps;
  auto normalized = [&](ArrayRef<double> a) {
    return a[0] / std::sqrt(a[1] / c + *eps) * a[2] + a[3];
  };
  if (!bodyComputes(affine,
                    {{1.5, 2.0, 0.5, 0.25},
                     {-3.0, 7.0, -2.0, 1.0},
                     {0.0, 0.5, 1.0, -1.0}},
                    normalized, 1e-9))
    return std::nullopt;
  Value centered = affine.getDpsInputs()[0];
  Value squares = affine.getDpsInputs()[1];
  auto center = centered.getDefiningOp<linalg::GenericOp>();
  if (!center || !isRowwiseElementwise(center, 2) ||
      !isRowMap(center.getIndexingMapsArray()[1]) ||
      !bodyComputes(
          center, {{1.5, 2.0}, {-3.0, 8.0}},
          [&](ArrayRef<double> a) { return a[0] - a[1] / c; }, 1e-12))
    return std::nullopt;
  chain.input = center.getDpsInputs()[0];
  Value sum = center.getDpsInputs()[1];
  auto add = [](ArrayRef<double> a) { return a[0] + a[1]; };
  auto addSquare = [](ArrayRef<double> a) { return a[0] * a[0] + a[1]; };
  if (rowReductionInput(sum, 0.0, add) != chain.input ||
      rowReductionInput(squares, 0.0, addSquare) != centered)
    return std::nullopt;
  chain.ops = {sum.getDefiningOp(), center, squares.getDefiningOp()};
  return chain;
}
