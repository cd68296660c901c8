//===- PropagateQParams.cpp - the dry run ---------------------------------===//
//
// Chooses every quantization parameter of a float model from its
// statistics, connects them from layer to layer with a dataflow analysis,
// and precomputes the integer weights and biases. The result is the "QDQ"
// form: float ops between myquant.dequantize and myquant.quantize, with
// integer constants for weights and biases; myquant-quantize turns it into
// myquant ops.
//
//===----------------------------------------------------------------------===//

#include "myquant/Dialect/MyQuant/IR/MyQuantOps.h"
#include "myquant/Dialect/MyQuant/IR/MyQuantTypeUtils.h"
#include "myquant/Dialect/MyQuant/Transforms/Passes.h"
#include "myquant/Dialect/MyQuant/Transforms/RangeAnalysis.h"
#include "myquant/Dialect/MyQuant/Utils/FloatGraph.h"

#include "mlir/Analysis/DataFlow/Utils.h"
#include "mlir/Analysis/DataFlowFramework.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/InterleavedRange.h"

#include <cmath>

namespace myquant {
#define GEN_PASS_DEF_MYQUANTPROPAGATEQPARAMS
#include "myquant/Dialect/MyQuant/Transforms/Passes.h.inc"
} // namespace myquant

using namespace mlir;
using namespace myquant;

namespace {

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

bool isFloatTensor(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type && isa<FloatType>(type.getElementType());
}

bool isConstantLike(Operation *op) {
  return op && (isa<arith::ConstantOp, tensor::EmptyOp, linalg::FillOp>(op) ||
                isa<quant::StorageCastOp, DequantizeOp>(op));
}

/// Whether `loc` is, or fuses, the name location `name`: the layer name the
/// exporter gives each op of a layer (loc("features.0")).
bool hasLocationName(Location loc, StringRef name) {
  bool found = false;
  loc->walk([&](Location inner) {
    auto named = dyn_cast<NameLoc>(inner);
    found = named && named.getName().strref() == name;
    return found ? WalkResult::interrupt() : WalkResult::advance();
  });
  return found;
}

/// What the accumulator bound needs of a layer's weights, per output
/// channel (or one for all): the scale and the sum of |q_w|.
struct WeightSummary {
  SmallVector<double> scales;
  SmallVector<int64_t> absSums;
};

/// Weight parameters fixed by myquant.weight_qparams.
struct FixedWeightQParams {
  SmallVector<double> scales;
  int64_t qmin, qmax;
};

/// The state of one dry run over one function.
class DryRun {
public:
  DryRun(func::FuncOp funcOp, ActivationType activationType,
         WeightGranularity weightGranularity, bool allowFloat,
         ArrayRef<std::string> keepFloat)
      : funcOp(funcOp), isSigned(activationType == ActivationType::Int8),
        perChannel(weightGranularity == WeightGranularity::PerChannel),
        allowFloat(allowFloat), keepFloat(keepFloat) {}

  LogicalResult run();

private:
  /// Finds the layers, what they own, and what stays in float.
  LogicalResult collectStructure();
  void claim(Operation *op);
  /// Every float operand (but constants) and result needs parameters.
  void requireOperandsAndResults(Operation *op);
  /// The padding and the initial value a convolution or pool owns.
  void claimWindowInputs(Operation *anchor);
  void claimComputeChain(const ComputeChain &chain);
  void claimPoolChain(const PoolChain &pool);
  /// A layer normalization: only its input and output are quantized.
  void claimLayerNorm(const LayerNormChain &norm,
                      llvm::function_ref<bool(Operation &)> keptFloat);
  /// An add or mul, with the clamp that follows it fused.
  void claimBinaryElementwise(Operation &op);
  /// Claims an op outside any layer, or reports that it stays float
  /// (an error with allow-float=false).
  LogicalResult claimStandaloneOp(Operation &op, bool keptFloat);
  FailureOr<quant::UniformQuantizedType> typeOf(Value value);
  /// Quantizes a layer's weights and bias, and checks that its int32
  /// accumulator cannot overflow.
  LogicalResult quantizeWeightsAndBias(ComputeChain &chain);
  /// Replaces constant float weights by int8 ones.
  FailureOr<WeightSummary> quantizeConstantWeights(ComputeChain &chain,
                                                   DenseFPElementsAttr constant,
                                                   int64_t channels);
  /// Weights that are activations keep their per-tensor parameters.
  FailureOr<WeightSummary> summarizeActivationWeights(ComputeChain &chain,
                                                      int64_t reduction);
  /// Replaces a float bias by int32 in units of input x weight scale;
  /// returns the integers (zeros without a bias).
  FailureOr<SmallVector<int64_t>> quantizeBias(ComputeChain &chain,
                                               double inputScale,
                                               ArrayRef<double> weightScales,
                                               int64_t channels);
  void applyConcatPolicy();
  /// Quantizes the constant operands of concatenations and additions.
  LogicalResult quantizeConstantOperands();
  void insertQDQ();

  func::FuncOp funcOp;
  bool isSigned;
  bool perChannel;
  bool allowFloat;
  ArrayRef<std::string> keepFloat;

  std::unique_ptr<DataFlowSolver> solver;
  DenseMap<Value, Interval> stats;
  DenseMap<Value, quant::UniformQuantizedType> types;
  SmallVector<ComputeChain, 4> chains;
  DenseSet<Operation *> claimed;
  /// The claimed ops that belong to a layer (not standalone ops).
  DenseSet<Operation *> layerOps;
  /// Values a quantized op reads or writes: each needs statistics.
  llvm::SetVector<Value> required;
  /// Results inside a layer: they never get quantization parameters.
  DenseSet<Value> internal;
  /// Constant operands of claimed concatenations and additions (a class
  /// token, a position embedding), quantized once the types are known.
  SmallVector<OpOperand *> constantOperands;
};

struct PropagateQParamsPass
    : myquant::impl::MyQuantPropagateQParamsBase<PropagateQParamsPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp funcOp = getOperation();
    if (funcOp.isExternal())
      return;
    SmallVector<std::string> keep(keepFloat.begin(), keepFloat.end());
    // A misspelt name would otherwise keep nothing in float, silently.
    for (const std::string &name : keep) {
      if (RegisteredOperationName::lookup(name, &getContext()))
        continue;
      WalkResult named = funcOp.walk([&](Operation *op) {
        return hasLocationName(op->getLoc(), name) ? WalkResult::interrupt()
                                                   : WalkResult::advance();
      });
      if (!named.wasInterrupted()) {
        funcOp.emitError()
            << "keep-float names '" << name
            << "', which is neither a registered operation nor the location "
               "name of an op of this function; give full op names such as "
               "linalg.matmul, or layer names (the exporter's module paths)";
        return signalPassFailure();
      }
    }
    DryRun dryRun(funcOp, activationType, weightGranularity, allowFloat, keep);
    if (failed(dryRun.run()))
      signalPassFailure();
  }
};

FailureOr<quant::UniformQuantizedType> DryRun::typeOf(Value value) {
  auto it = types.find(value);
  if (it != types.end())
    return it->second;
  const RangeLattice *lattice = solver->lookupState<RangeLattice>(value);
  if (!lattice || !lattice->getValue().bounds) {
    InFlightDiagnostic diag =
        value.getDefiningOp()
            ? value.getDefiningOp()->emitError()
                  << "the result of '" << value.getDefiningOp()->getName()
                  << "' has no statistics"
            : funcOp.emitError()
                  << "argument #" << cast<BlockArgument>(value).getArgNumber()
                  << " of '" << funcOp.getSymName() << "' has no statistics";
    diag << "; calibrate the model or annotate the value with myquant.stats";
    return failure();
  }
  Interval range = *lattice->getValue().bounds;
  auto type = getActivationType(
      cast<RankedTensorType>(value.getType()).getElementType(), range.first,
      range.second, isSigned);
  types[value] = type;
  return type;
}

void DryRun::claim(Operation *op) {
  if (op)
    claimed.insert(op);
}

void DryRun::requireOperandsAndResults(Operation *op) {
  for (Value v : op->getOperands())
    if (isFloatTensor(v) && !isConstantLike(v.getDefiningOp()))
      required.insert(v);
  for (Value v : op->getResults())
    required.insert(v);
}

void DryRun::claimWindowInputs(Operation *anchor) {
  auto linalgOp = cast<linalg::LinalgOp>(anchor);
  claim(linalgOp.getDpsInputs()[0].getDefiningOp<tensor::PadOp>());
  claim(linalgOp.getDpsInits()[0].getDefiningOp());
}

void DryRun::claimComputeChain(const ComputeChain &chain) {
  claim(chain.anchor);
  for (Operation *e : chain.epilogue)
    claim(e);
  claimWindowInputs(chain.anchor);
  if (chain.transposeRhs)
    claim(chain.weightOperand->getOwner());
  for (Operation *reshape : chain.regrouping)
    claim(reshape);
  if (!chain.regrouping.empty())
    claim(chain.regrouping[2]->getOperand(0).getDefiningOp());
  required.insert(chain.input);
  required.insert(chain.output);
  if (!getFloatConstant(chain.weight))
    required.insert(chain.weight);
  chains.push_back(chain);
}

void DryRun::claimPoolChain(const PoolChain &pool) {
  claim(pool.anchor);
  for (Operation *e : pool.epilogue)
    claim(e);
  claimWindowInputs(pool.anchor);
  required.insert(pool.input);
  required.insert(pool.output);
}

void DryRun::claimLayerNorm(const LayerNormChain &norm,
                            llvm::function_ref<bool(Operation &)> keptFloat) {
  // Its ops then stay in float one by one, each with its remark.
  if (static_cast<int64_t>(norm.gamma.size()) > kLayerNormMaxChannels) {
    norm.anchor->emitRemark()
        << "layer normalization over rows of " << norm.gamma.size()
        << " elements stays in float: myquant.layer_norm takes at most "
        << kLayerNormMaxChannels;
    return;
  }
  if (llvm::any_of(norm.ops, [&](Operation *op) { return keptFloat(*op); }))
    return;
  claim(norm.anchor);
  for (Operation *op : norm.ops)
    claim(op);
  required.insert(norm.input);
  required.insert(norm.output);
}

/// Whether `value` is a float constant an operand of a concatenation or an
/// addition can be quantized from (getFloatConstantValues).
static bool isFloatConstantOperand(Value value) {
  return isFloatTensor(value) && getFloatConstantValues(value).has_value();
}

void DryRun::claimBinaryElementwise(Operation &op) {
  claim(&op);
  for (OpOperand &operand : op.getOpOperands().take_front(2)) {
    if (isFloatConstantOperand(operand.get()))
      constantOperands.push_back(&operand);
    else
      required.insert(operand.get());
  }
  // A relu or clamp right after fuses into the op, like a conv's.
  Value result = op.getResult(0);
  std::optional<ElementwiseKind> userKind =
      result.hasOneUse() ? classifyElementwise(*result.getUsers().begin())
                         : std::nullopt;
  if (!userKind || userKind->kind != ElementwiseKind::Clamp) {
    required.insert(result);
    return;
  }
  Operation *activation = *result.getUsers().begin();
  claim(activation);
  layerOps.insert(&op);
  layerOps.insert(activation);
  required.insert(activation->getResult(0));
}

/// A float tensor that `op` reads or writes whose shape is not static: the
/// integer kernels and the quantize ops are built for static sizes only.
static Value findDynamicFloatTensor(Operation &op) {
  auto isDynamic = [](Value v) {
    return isFloatTensor(v) && !cast<ShapedType>(v.getType()).hasStaticShape();
  };
  for (Value v : op.getOperands())
    if (isDynamic(v))
      return v;
  for (Value v : op.getResults())
    if (isDynamic(v))
      return v;
  return {};
}

LogicalResult DryRun::claimStandaloneOp(Operation &op, bool keptFloat) {
  // A product with a constant that varies along one dimension at most is a
  // requantization: the constant joins its multipliers, and the result gets
  // the parameters of its own statistics.
  if (std::optional<ChannelScale> scale = matchChannelScale(&op);
      scale && !keptFloat) {
    claim(&op);
    required.insert(scale->input);
    required.insert(scale->output);
    return success();
  }
  std::optional<ElementwiseKind> kind = classifyElementwise(&op);
  // Binary ops of two activations (a bias-like add of an activation outside
  // a layer included). An addition or subtraction of an activation and a
  // constant (a position embedding) quantizes the constant into its own
  // parameters (docs/NumericSpec.md 3.2); a product with a constant that
  // varies along several dimensions has no quantized form and stays float.
  bool binary = kind && (kind->kind == ElementwiseKind::Add ||
                         kind->kind == ElementwiseKind::Sub ||
                         kind->kind == ElementwiseKind::Mul ||
                         kind->kind == ElementwiseKind::BiasAdd);
  if (binary && !keptFloat) {
    auto inputs = cast<linalg::GenericOp>(op).getDpsInputs();
    int64_t constants = llvm::count_if(inputs, isFloatConstantOperand);
    if (constants == 0 ||
        (constants == 1 && kind->kind != ElementwiseKind::Mul)) {
      claimBinaryElementwise(op);
      return success();
    }
  }
  // A concatenation of activations, and of constants with at least one
  // activation (a class token): the constants are quantized into the
  // result's parameters (docs/NumericSpec.md 3.5).
  if (auto concat = dyn_cast<tensor::ConcatOp>(&op);
      concat && !keptFloat &&
      !llvm::all_of(concat.getInputs(), isFloatConstantOperand)) {
    claim(&op);
    for (OpOperand &operand : op.getOpOperands()) {
      if (isFloatConstantOperand(operand.get()))
        constantOperands.push_back(&operand);
      else
        required.insert(operand.get());
    }
    required.insert(concat.getResult());
    return success();
  }
  // A multiplication or division by a (positive) constant is a rescale.
  if (!keptFloat && kind &&
      (kind->kind == ElementwiseKind::Clamp ||
       kind->kind == ElementwiseKind::DivByConstant)) {
    claim(&op);
    requireOperandsAndResults(&op);
    return success();
  }
  // A softmax over the last dimension is integer-only, into its fixed
  // output type (docs/NumericSpec.md 3.10) rather than its statistics'.
  if (auto softmax = dyn_cast<linalg::SoftmaxOp>(&op);
      softmax && !keptFloat && isLastDimSoftmax(softmax)) {
    claim(&op);
    required.insert(softmax.getInput());
    Value result = softmax.getResult()[0];
    types[result] = getSoftmaxResultType(
        cast<RankedTensorType>(result.getType()).getElementType(), isSigned);
    return success();
  }
  // A function of one tensor is a lookup table when its body can be
  // evaluated at compile time.
  Operation *unevaluable = nullptr;
  if (!keptFloat && kind && kind->kind == ElementwiseKind::Table &&
      evaluateTableBody(cast<linalg::GenericOp>(op).getRegion().front(), 0.0,
                        &unevaluable)) {
    claim(&op);
    requireOperandsAndResults(&op);
    return success();
  }
  // Data movement is quantized where its operand is, and stays float
  // (like the weights it may reshape) where it is not.
  if (!keptFloat && (isSameScaleOp(&op) || isa<tensor::PadOp>(&op))) {
    claim(&op);
    return success();
  }
  // Ops that only read float tensors (tensor.dim) compute nothing in float.
  bool computesFloat = llvm::any_of(op.getResults(), isFloatTensor);
  if (!computesFloat || isConstantLike(&op))
    return success();
  InFlightDiagnostic diag = allowFloat ? op.emitRemark() : op.emitError();
  diag << "'" << op.getName() << "' "
       << (allowFloat ? "stays in float between dequantize and quantize"
                      : "cannot be quantized and allow-float=false");
  if (Value dynamic = findDynamicFloatTensor(op))
    diag << ": it has the dynamic shape " << dynamic.getType()
         << " and only static shapes are quantized (the integer kernels "
            "need static sizes); give the model static shapes, e.g. a "
            "fixed batch size";
  else if (unevaluable)
    diag << ": its lookup table cannot be computed, as '"
         << unevaluable->getName()
         << "' in its body has no compile-time evaluation";
  return failure(!allowFloat);
}

/// Whether `value` is computed from constants alone without being one (a
/// transposed constant filter): no statistics can reach it, and the dry run
/// cannot quantize it as weights either.
static bool isComputedFromConstants(Value value) {
  Operation *def = stripDequantize(value).getDefiningOp();
  if (!def || isConstantLike(def))
    return false;
  SmallVector<Operation *> work = {def};
  llvm::SmallPtrSet<Operation *, 8> visited;
  while (!work.empty()) {
    Operation *op = work.pop_back_val();
    if (!visited.insert(op).second || isConstantLike(op) ||
        isa<tensor::EmptyOp>(op))
      continue;
    for (Value operand : op->getOperands()) {
      Operation *producer = operand.getDefiningOp();
      if (!producer || isa<StatsOp>(producer))
        return false;
      work.push_back(producer);
    }
  }
  return true;
}

LogicalResult DryRun::collectStructure() {
  llvm::StringSet<> keep;
  for (const std::string &name : keepFloat)
    keep.insert(name);
  auto keptFloat = [&](Operation &op) {
    return keep.contains(op.getName().getStringRef()) ||
           llvm::any_of(keepFloat,
                        [&](const std::string &name) {
                          return hasLocationName(op.getLoc(), name);
                        }) ||
           findDynamicFloatTensor(op);
  };
  // Layers first: they own the pads, initial values and activations around
  // them, which would otherwise be taken for standalone ops.
  for (Operation &op : funcOp.getBody().getOps()) {
    if (keptFloat(op) || claimed.contains(&op))
      continue;
    std::optional<ComputeChain> chain = matchComputeChain(&op);
    // Weights or a bias computed from constants keep the layer in float,
    // reported below as any op that stays float.
    if (chain && (isComputedFromConstants(chain->weight) ||
                  (chain->bias && isComputedFromConstants(chain->bias))))
      continue;
    if (chain)
      claimComputeChain(*chain);
    else if (std::optional<PoolChain> pool = matchPoolChain(&op))
      claimPoolChain(*pool);
    else if (std::optional<LayerNormChain> norm = matchLayerNorm(&op))
      claimLayerNorm(*norm, keptFloat);
  }
  bool failedAny = false;
  layerOps = claimed;
  for (Operation &op : funcOp.getBody().getOps())
    if (!claimed.contains(&op) && failed(claimStandaloneOp(op, keptFloat(op))))
      failedAny = true;
  // A layer op's result that only claimed ops read lies inside the layer.
  for (Operation *op : layerOps)
    for (Value result : op->getResults())
      if (!required.contains(result) &&
          llvm::all_of(result.getUsers(),
                       [&](Operation *user) { return claimed.contains(user); }))
        internal.insert(result);
  return failure(failedAny);
}

/// The channel along `axis` (always 0 per tensor) of each flat element index.
struct ChannelOf {
  ChannelOf(ShapedType type, std::optional<unsigned> axis) {
    if (!axis)
      return;
    channels = type.getDimSize(*axis);
    for (unsigned d = *axis + 1; d < type.getRank(); ++d)
      inner *= type.getDimSize(d);
  }
  int64_t operator()(int64_t index) const { return (index / inner) % channels; }
  int64_t channels = 1, inner = 1;
};

/// NaN and infinity have no integer form (casting them is undefined
/// behaviour), so a weight or bias holding one is an error naming the first
/// such element by its index.
static LogicalResult verifyFinite(Operation *anchor, StringRef what,
                                  DenseFPElementsAttr values) {
  ArrayRef<int64_t> shape = values.getType().getShape();
  for (auto [i, v] : llvm::enumerate(values.getValues<APFloat>())) {
    if (v.isFinite())
      continue;
    SmallVector<int64_t> index(shape.size());
    int64_t rest = i;
    for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
      index[d] = rest % shape[d];
      rest /= shape[d];
    }
    SmallString<16> text;
    v.toString(text);
    return anchor->emitError()
           << "the " << what << " of '" << anchor->getName() << "' holds "
           << text << " at element [" << llvm::interleaved(index)
           << "]; only finite values can be quantized (fix the model's " << what
           << ")";
  }
  return success();
}

/// Symmetric int8 weights with the given scales (one, or one per channel
/// along `axis`): round half to even of w / s, clamped to [qmin, qmax].
void quantizeWeightsWithScales(DenseFPElementsAttr weights,
                               std::optional<unsigned> axis,
                               ArrayRef<double> scales, int64_t qmin,
                               int64_t qmax, SmallVector<int8_t> &quantized) {
  ChannelOf channelOf(weights.getType(), axis);
  quantized.clear();
  for (auto [i, v] : llvm::enumerate(weights.getValues<APFloat>())) {
    double q = std::nearbyint(v.convertToDouble() / scales[channelOf(i)]);
    quantized.push_back(static_cast<int8_t>(
        std::clamp(q, static_cast<double>(qmin), static_cast<double>(qmax))));
  }
}

/// Symmetric int8 weights in [-127, 127], per channel along `axis` or per
/// tensor; returns the scales.
SmallVector<double> quantizeWeights(DenseFPElementsAttr weights,
                                    std::optional<unsigned> axis,
                                    SmallVector<int8_t> &quantized) {
  ChannelOf channelOf(weights.getType(), axis);
  SmallVector<double> amax(channelOf.channels, 0.0);
  for (auto [i, v] : llvm::enumerate(weights.getValues<APFloat>()))
    amax[channelOf(i)] =
        std::max(amax[channelOf(i)], std::abs(v.convertToDouble()));
  SmallVector<double> scales;
  for (double a : amax)
    scales.push_back(a == 0.0 ? 1.0 : a / 127.0);
  quantizeWeightsWithScales(weights, axis, scales, -127, 127, quantized);
  return scales;
}

/// Reads the fixed weight parameters of myquant.weight_qparams (scales,
/// storage range) for `channels` output channels.
static FailureOr<FixedWeightQParams>
readFixedWeightQParams(Operation *anchor, DictionaryAttr fixed,
                       int64_t channels) {
  auto scales = fixed.getAs<DenseF64ArrayAttr>("scales");
  auto qmin = fixed.getAs<IntegerAttr>("qmin");
  auto qmax = fixed.getAs<IntegerAttr>("qmax");
  if (!scales || !qmin || !qmax ||
      (scales.size() != 1 && scales.size() != channels) ||
      qmin.getInt() < -128 || qmax.getInt() > 127 || qmin.getInt() > 0 ||
      qmax.getInt() < 0 || llvm::any_of(scales.asArrayRef(), [](double s) {
        return !std::isfinite(s) || !(s > 0);
      }))
    return anchor->emitError()
           << "myquant.weight_qparams must hold 'scales' (one, or one per "
              "output channel: "
           << channels
           << ", positive) and 'qmin' <= 0 <= 'qmax' within [-128, 127]";
  return FixedWeightQParams{SmallVector<double>(scales.asArrayRef()),
                            qmin.getInt(), qmax.getInt()};
}

FailureOr<WeightSummary> DryRun::quantizeConstantWeights(
    ComputeChain &chain, DenseFPElementsAttr constant, int64_t channels) {
  Operation *anchor = chain.anchor;
  if (failed(verifyFinite(anchor, "weight", constant)))
    return failure();
  auto weightType = cast<RankedTensorType>(chain.weight.getType());
  MLIRContext *ctx = anchor->getContext();
  auto i8 = IntegerType::get(ctx, 8);
  // Fixed weight parameters (from myquant-import-stats) replace the choice.
  auto fixed = anchor->getAttrOfType<DictionaryAttr>(
      MyQuantDialect::WeightQparamsAttrHelper::getNameStr());
  int64_t weightMin = -127, weightMax = 127;
  bool weightPerChannel = perChannel;
  std::optional<unsigned> axis;
  SmallVector<int8_t> quantized;
  WeightSummary summary;
  if (fixed) {
    FailureOr<FixedWeightQParams> params =
        readFixedWeightQParams(anchor, fixed, channels);
    if (failed(params))
      return failure();
    weightMin = params->qmin;
    weightMax = params->qmax;
    weightPerChannel = params->scales.size() != 1;
    if (weightPerChannel)
      axis = chain.weightChannelDim;
    summary.scales = params->scales;
    quantizeWeightsWithScales(constant, axis, summary.scales, weightMin,
                              weightMax, quantized);
  } else {
    if (perChannel)
      axis = chain.weightChannelDim;
    summary.scales = quantizeWeights(constant, axis, quantized);
  }
  summary.absSums.assign(channels, 0);
  ChannelOf outputChannelOf(weightType, chain.weightChannelDim);
  for (auto [i, q] : llvm::enumerate(quantized))
    summary.absSums[outputChannelOf(i)] += std::abs(q);
  Type qtype;
  if (weightPerChannel) {
    SmallVector<int64_t> zeros(channels, 0);
    qtype = quant::UniformQuantizedPerAxisType::get(
        quant::QuantizationFlags::Signed, i8, weightType.getElementType(),
        summary.scales, zeros, chain.weightChannelDim, weightMin, weightMax);
  } else {
    qtype = quant::UniformQuantizedType::get(
        quant::QuantizationFlags::Signed, i8, weightType.getElementType(),
        summary.scales[0], 0, weightMin, weightMax);
  }
  OpBuilder b(chain.weightOperand->getOwner());
  Location loc = chain.weight.getLoc();
  auto storageType = weightType.clone(i8);
  Value storage = arith::ConstantOp::create(
      b, loc, DenseIntElementsAttr::get(storageType, ArrayRef(quantized)));
  Value cast =
      quant::StorageCastOp::create(b, loc, weightType.clone(qtype), storage);
  chain.weightOperand->set(DequantizeOp::create(b, loc, weightType, cast));
  anchor->removeAttr(MyQuantDialect::WeightQparamsAttrHelper::getNameStr());
  return summary;
}

FailureOr<WeightSummary> DryRun::summarizeActivationWeights(ComputeChain &chain,
                                                            int64_t reduction) {
  if (chain.anchor->hasAttr(
          MyQuantDialect::WeightQparamsAttrHelper::getNameStr()))
    return chain.anchor->emitError()
           << "myquant.weight_qparams needs a constant weight";
  // Activations on both sides (e.g. attention): per-tensor parameters.
  FailureOr<quant::UniformQuantizedType> wType = typeOf(chain.weight);
  if (failed(wType))
    return failure();
  int64_t zw = wType->getZeroPoint();
  int64_t maxAbsW = std::max(zw - wType->getStorageTypeMin(),
                             wType->getStorageTypeMax() - zw);
  return WeightSummary{{wType->getScale()}, {reduction * maxAbsW}};
}

FailureOr<SmallVector<int64_t>>
DryRun::quantizeBias(ComputeChain &chain, double inputScale,
                     ArrayRef<double> weightScales, int64_t channels) {
  SmallVector<int64_t> biasValues(channels, 0);
  if (!chain.bias)
    return biasValues;
  Operation *anchor = chain.anchor;
  DenseFPElementsAttr constant = getFloatConstant(chain.bias);
  if (!constant)
    return anchor->emitError("the bias of '")
           << anchor->getName() << "' must be a constant";
  if (failed(verifyFinite(anchor, "bias", constant)))
    return failure();
  SmallVector<double> biasScales;
  SmallVector<int32_t> quantized;
  for (auto [c, v] : llvm::enumerate(constant.getValues<APFloat>())) {
    double scale = inputScale * weightScales[weightScales.size() == 1 ? 0 : c];
    double q = std::nearbyint(v.convertToDouble() / scale);
    if (!(std::abs(q) <= INT32_MAX))
      return anchor->emitError()
             << "bias " << v.convertToDouble() << " of output channel " << c
             << " is " << q << " in units of input scale * weight scale, "
             << "beyond int32";
    biasScales.push_back(scale);
    quantized.push_back(static_cast<int32_t>(q));
    biasValues[c] = static_cast<int64_t>(q);
  }
  auto biasType = cast<RankedTensorType>(chain.bias.getType());
  auto i32 = IntegerType::get(anchor->getContext(), 32);
  SmallVector<int64_t> zeros(biasScales.size(), 0);
  Type qtype = quant::UniformQuantizedPerAxisType::get(
      quant::QuantizationFlags::Signed, i32, biasType.getElementType(),
      biasScales, zeros, 0, INT32_MIN, INT32_MAX);
  OpBuilder b(chain.biasOperand->getOwner());
  Location loc = chain.bias.getLoc();
  Value storage = arith::ConstantOp::create(
      b, loc,
      DenseIntElementsAttr::get(biasType.clone(i32), ArrayRef(quantized)));
  Value cast =
      quant::StorageCastOp::create(b, loc, biasType.clone(qtype), storage);
  chain.biasOperand->set(DequantizeOp::create(b, loc, biasType, cast));
  return biasValues;
}

LogicalResult DryRun::quantizeWeightsAndBias(ComputeChain &chain) {
  Operation *anchor = chain.anchor;
  FailureOr<quant::UniformQuantizedType> inType = typeOf(chain.input);
  if (failed(inType))
    return failure();
  auto weightType = cast<RankedTensorType>(chain.weight.getType());
  if (failed(verifyWeightCount(anchor, weightType)))
    return failure();
  int64_t channels = weightType.getDimSize(chain.weightChannelDim);
  int64_t reduction = weightType.getNumElements() / channels;
  DenseFPElementsAttr constant = getFloatConstant(chain.weight);
  FailureOr<WeightSummary> weights =
      constant ? quantizeConstantWeights(chain, constant, channels)
               : summarizeActivationWeights(chain, reduction);
  if (failed(weights))
    return failure();
  FailureOr<SmallVector<int64_t>> biasValues =
      quantizeBias(chain, inType->getScale(), weights->scales, channels);
  if (failed(biasValues))
    return failure();

  // The int32 accumulator sums |x - zx| * |w| over the reduction plus the
  // bias; it must not overflow for any input.
  int64_t zx = inType->getZeroPoint();
  int64_t maxAbsX = std::max(zx - inType->getStorageTypeMin(),
                             inType->getStorageTypeMax() - zx);
  ArrayRef<int64_t> absSums = weights->absSums;
  for (int64_t c = 0; c < channels; ++c) {
    int64_t sum = absSums[absSums.size() == 1 ? 0 : c];
    // Both factors are below 2^32, so the product fits in 64 bits.
    int64_t bound = sum * maxAbsX + std::abs((*biasValues)[c]);
    if (bound > INT32_MAX)
      return anchor->emitError()
             << "the int32 accumulator of output channel " << c << " can reach "
             << bound << " (" << reduction << " products of up to " << maxAbsX
             << " x |w|), beyond " << INT32_MAX;
  }
  return success();
}

void DryRun::applyConcatPolicy() {
  funcOp.walk([&](tensor::ConcatOp concat) {
    auto resultIt = types.find(concat.getResult());
    if (resultIt == types.end())
      return;
    quant::UniformQuantizedType resultType = resultIt->second;
    for (auto [i, operand] : llvm::enumerate(concat.getInputs())) {
      auto it = types.find(operand);
      if (it == types.end() || it->second == resultType)
        continue;
      Operation *producer = operand.getDefiningOp();
      // A layer computing the operand for the concatenation alone can
      // rescale straight into the concatenation's parameters.
      if (producer && operand.hasOneUse() && !keepsOperandScale(producer)) {
        it->second = resultType;
        continue;
      }
      concat.emitRemark() << "operand #" << i << " is requantized from scale "
                          << it->second.getScale() << ", zero point "
                          << it->second.getZeroPoint() << " to scale "
                          << resultType.getScale() << ", zero point "
                          << resultType.getZeroPoint();
    }
  });
}

LogicalResult DryRun::quantizeConstantOperands() {
  for (OpOperand *operand : constantOperands) {
    Operation *owner = operand->getOwner();
    SmallVector<double> values = *getFloatConstantValues(operand->get());
    auto type = cast<RankedTensorType>(operand->get().getType());
    for (auto [i, v] : llvm::enumerate(values))
      if (!std::isfinite(v))
        return owner->emitError()
               << "operand #" << operand->getOperandNumber() << " of '"
               << owner->getName() << "' is a constant holding " << v
               << " at flat index " << i
               << "; only finite values can be quantized";
    // A concatenation copies integers: the constant takes the result's
    // parameters. An addition rescales each operand: the constant takes
    // those of its own range, as an activation would.
    quant::UniformQuantizedType qtype;
    if (isa<tensor::ConcatOp>(owner)) {
      qtype = types.lookup(owner->getResult(0));
    } else {
      auto [lo, hi] = std::minmax_element(values.begin(), values.end());
      qtype = getActivationType(type.getElementType(), *lo, *hi, isSigned);
    }
    QuantParams params = *getQuantParams(qtype);
    auto storageType =
        type.clone(IntegerType::get(owner->getContext(), params.storageWidth));
    SmallVector<APInt> storage;
    for (double v : values) {
      int64_t q = quantizeScalar(v, params);
      storage.emplace_back(params.storageWidth, q, /*isSigned=*/q < 0);
    }
    OpBuilder b(owner);
    Location loc = operand->get().getLoc();
    Value constant = arith::ConstantOp::create(
        b, loc, DenseIntElementsAttr::get(storageType, storage));
    Value cast =
        quant::StorageCastOp::create(b, loc, type.clone(qtype), constant);
    operand->set(DequantizeOp::create(b, loc, type, cast));
  }
  return success();
}

void DryRun::insertQDQ() {
  // Program order, so that the output is deterministic.
  SmallVector<Value> values(funcOp.getArguments().begin(),
                            funcOp.getArguments().end());
  for (Operation &op : funcOp.getBody().getOps())
    values.append(op.result_begin(), op.result_end());
  OpBuilder argBuilder = OpBuilder::atBlockBegin(&funcOp.getBody().front());
  for (Value value : values) {
    auto it = types.find(value);
    auto type = cast<RankedTensorType>(value.getType());
    // Only float ops read a dynamic shape (findDynamicFloatTensor), and
    // quantize ops need static ones.
    if (it == types.end() || internal.contains(value) || !type.hasStaticShape())
      continue;
    OpBuilder opBuilder(funcOp.getContext());
    if (Operation *def = value.getDefiningOp())
      opBuilder.setInsertionPointAfter(def);
    OpBuilder &b = value.getDefiningOp() ? opBuilder : argBuilder;
    Location loc = value.getLoc();
    auto quantize = QuantizeOp::create(b, loc, type.clone(it->second), value);
    auto dequantize = DequantizeOp::create(b, loc, type, quantize);
    value.replaceAllUsesExcept(dequantize, quantize);
  }
}

LogicalResult DryRun::run() {
  stats = takeStats(funcOp);
  solver = std::make_unique<DataFlowSolver>();
  dataflow::loadBaselineAnalyses(*solver);
  solver->load<RangeAnalysis>(stats);
  if (failed(solver->initializeAndRun(funcOp)))
    return failure();
  if (failed(collectStructure()))
    return failure();

  bool failedAny = false;
  for (Value value : required)
    if (isFloatTensor(value) && failed(typeOf(value)))
      failedAny = true;
  if (failedAny)
    return failure();
  // Values outside any layer that have statistics are quantized too, so
  // that float ops between layers read and write quantized edges.
  for (BlockArgument arg : funcOp.getArguments())
    if (isFloatTensor(arg) && stats.count(arg))
      (void)typeOf(arg);
  funcOp.walk([&](Operation *op) {
    if (op->getParentOp() != funcOp || isConstantLike(op))
      return;
    for (Value result : op->getResults()) {
      const RangeLattice *lattice = solver->lookupState<RangeLattice>(result);
      if (isFloatTensor(result) && !internal.contains(result) && lattice &&
          lattice->getValue().bounds)
        (void)typeOf(result);
    }
  });
  for (ComputeChain &chain : chains)
    if (failed(quantizeWeightsAndBias(chain)))
      failedAny = true;
  if (failedAny)
    return failure();
  applyConcatPolicy();
  if (failed(quantizeConstantOperands()))
    return failure();
  insertQDQ();
  return success();
}

} // namespace
