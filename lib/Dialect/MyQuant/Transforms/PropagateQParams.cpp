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
#include "myquant/Dialect/MyQuant/Transforms/LayerPrecision.h"
#include "myquant/Dialect/MyQuant/Transforms/Passes.h"
#include "myquant/Dialect/MyQuant/Transforms/RangeAnalysis.h"
#include "myquant/Dialect/MyQuant/Utils/FloatGraph.h"

#include "mlir/Analysis/DataFlow/Utils.h"
#include "mlir/Analysis/DataFlowFramework.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
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

/// The value whose quantization `value` shares: through the ops that keep
/// their operand's scale (reshapes, padding, max pooling) to the producer
/// that chooses it.
Value sourceOfScale(Value value) {
  while (Operation *def = value.getDefiningOp()) {
    if (!keepsOperandScale(def) || def->getNumOperands() == 0)
      break;
    value = def->getOperand(0);
  }
  return value;
}

/// Whether an op of `funcOp` has, or fuses, the location name `name`.
bool hasNamedOp(func::FuncOp funcOp, StringRef name) {
  return funcOp
      .walk([&](Operation *op) {
        return hasLocationName(op->getLoc(), name) ? WalkResult::interrupt()
                                                   : WalkResult::advance();
      })
      .wasInterrupted();
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

/// Parses and checks the precision options, reporting at `funcOp`: the one
/// place that reads them.
FailureOr<PrecisionOptions>
parsePrecisionOptions(func::FuncOp funcOp, int64_t weightBits,
                      int64_t weightGroupSize, int64_t activationBits,
                      ArrayRef<std::string> layerPrecision,
                      int64_t normInputBits, int64_t softmaxInputBits,
                      double int16RangeHeadroom) {
  if (weightBits != 4 && weightBits != 8)
    return funcOp.emitError()
           << "weight-bits is " << weightBits << "; supported: 8 or 4";
  if (weightGroupSize < 0)
    return funcOp.emitError()
           << "weight-group-size is " << weightGroupSize
           << "; give a positive group size, or 0 for per-channel scales";
  if (activationBits != 8 && activationBits != 16)
    return funcOp.emitError()
           << "activation-bits is " << activationBits << "; it must be 8 or 16";
  if (normInputBits != 8 && normInputBits != 16)
    return funcOp.emitError()
           << "norm-input-bits is " << normInputBits << "; it must be 8 or 16";
  if (softmaxInputBits != 8 && softmaxInputBits != 16)
    return funcOp.emitError() << "softmax-input-bits is " << softmaxInputBits
                              << "; it must be 8 or 16";
  // Written so that NaN fails too.
  if (!(int16RangeHeadroom >= kMinInt16RangeHeadroom &&
        int16RangeHeadroom <= kMaxInt16RangeHeadroom))
    return funcOp.emitError()
           << "int16-range-headroom is "
           << llvm::formatv("{0}", llvm::format("%g", int16RangeHeadroom))
           << "; it must be at least "
           << llvm::formatv("{0}", llvm::format("%g", kMinInt16RangeHeadroom))
           << " (less would clip the calibrated range) and at most "
           << llvm::formatv("{0}", llvm::format("%g", kMaxInt16RangeHeadroom))
           << " (more would leave 16-bit values coarser than 8-bit ones)";
  // 4-bit weights are specified with 8-bit activations only and 16-bit
  // activations with 8-bit weights only (docs/NumericSpec.md 6, 7).
  if (weightBits == 4 && activationBits == 16)
    return funcOp.emitError() << "weight-bits=4 with activation-bits=16 is "
                                 "not supported: 4-bit weights take 8-bit "
                                 "activations";
  llvm::Expected<std::vector<LayerPrecision>> layers =
      parseLayerPrecision(layerPrecision);
  if (!layers)
    return funcOp.emitError() << llvm::toString(layers.takeError());
  bool anyFour = weightBits == 4;
  for (const LayerPrecision &entry : *layers) {
    if (entry.weightBits == 4 && entry.activationBits == 16)
      return funcOp.emitError()
             << "layer-precision asks for w4a16 in layer '" << entry.layer
             << "'; 4-bit weights take 8-bit activations (w4a8), 16-bit "
                "activations 8-bit weights (w8a16)";
    if (!hasNamedOp(funcOp, entry.layer))
      return funcOp.emitError()
             << "layer-precision names '" << entry.layer
             << "', which is not the location name of an op of this function "
                "(give the exporter's layer names, e.g. features.0)";
    anyFour |= entry.weightBits == 4;
  }
  if (weightGroupSize > 0 && !anyFour)
    return funcOp.emitError() << "weight-group-size " << weightGroupSize
                              << " needs 4-bit weights (weight-bits=4 or a "
                                 "w4a8 layer)";
  return PrecisionOptions{weightBits,         weightGroupSize, activationBits,
                          std::move(*layers), normInputBits,   softmaxInputBits,
                          int16RangeHeadroom};
}

/// The weight bits of the layer `anchor`: its layer-precision entry's, or
/// weight-bits.
int64_t weightBitsOf(const PrecisionOptions &precision, Operation *anchor) {
  for (const LayerPrecision &entry : precision.layers)
    if (hasLocationName(anchor->getLoc(), entry.layer))
      return entry.weightBits;
  return precision.weightBits;
}

/// The function's arguments and op results in program order.
SmallVector<Value> valuesInOrder(func::FuncOp funcOp) {
  SmallVector<Value> values(funcOp.getArguments().begin(),
                            funcOp.getArguments().end());
  for (Operation &op : funcOp.getBody().getOps())
    values.append(op.result_begin(), op.result_end());
  return values;
}

/// The state of one dry run over one function.
class DryRun {
public:
  DryRun(func::FuncOp funcOp, ActivationType activationType,
         WeightGranularity weightGranularity, bool allowFloat,
         ArrayRef<std::string> keepFloat, PrecisionOptions precision,
         bool dynamic, bool perChannelNormInputs)
      : funcOp(funcOp), isSigned(activationType == ActivationType::Int8),
        perChannel(weightGranularity == WeightGranularity::PerChannel),
        allowFloat(allowFloat), dynamic(dynamic),
        perChannelNormInputs(perChannelNormInputs), keepFloat(keepFloat),
        precision(std::move(precision)) {}

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
  /// The group size of the 4-bit weights of `chain` (0: per channel, with a
  /// remark when groups were asked for but do not apply).
  int64_t groupSizeOf(ComputeChain &chain, int64_t bits);
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
  /// Whether `op` is asked for 16-bit activations (activation-bits=16, or a
  /// layer-precision entry naming its layer with a16).
  bool wants16Bit(Operation *op) const;
  /// Chooses the values with 16-bit storage (docs/NumericSpec.md 6.5):
  /// those that a 16-bit op reads or writes, unless an op with only an
  /// 8-bit form (`int8Only`) reads or writes them too.
  LogicalResult chooseInt16Values();
  /// With `dynamic`: the matmul layers with constant weights whose input
  /// can be wide, and the wide values (docs/NumericSpec.md 8.5).
  void chooseDynamicLayers();
  /// Whether `op` is the anchor or an epilogue op of a dynamic layer.
  bool isDynamicLayerOp(Operation *op) const;
  /// With `dynamic` and norm-input-bits=16: 16 bits for the values that a
  /// layer with constant weights or a concatenation writes and only
  /// additions or subtractions with a 16-bit result, or concatenations with
  /// a 16-bit result, read (a transformer's residual adds and its patch
  /// embedding, docs/NumericSpec.md 8.5).
  void chooseDynamicResidualValues();
  /// With softmax-input-bits=16: 16-bit results (scale 2^-15) for the
  /// softmaxes whose result, through same-scale ops, only matmuls of two
  /// activations read, as their lhs (attention's A V, docs/NumericSpec.md
  /// 6.5).
  void chooseInt16SoftmaxResults();
  /// With norm-input-scales=per-channel: the per-channel types of the layer
  /// normalization inputs that an add writes and only layer normalizations
  /// and adds read (docs/NumericSpec.md 6.6); remarks at the others.
  void choosePerChannelNormInputs();

  func::FuncOp funcOp;
  bool isSigned;
  bool perChannel;
  bool allowFloat;
  bool dynamic;
  bool perChannelNormInputs;
  ArrayRef<std::string> keepFloat;
  PrecisionOptions precision;

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
  /// Claimed ops whose quantized form takes and gives 8-bit activations
  /// only: softmax, layer normalization, and the matmuls of two
  /// activations. (Tables and mul have a 16-bit form, docs/NumericSpec.md
  /// 3.8, 3.3.)
  DenseSet<Operation *> int8Only;
  /// Claimed ops that read 16-bit activations but write 8-bit ones: layer
  /// normalizations with norm-input-bits=16, softmaxes with
  /// softmax-input-bits=16. Their inputs get 16 bits.
  DenseSet<Operation *> narrowResult;
  /// Claimed ops that read 8-bit activations but may write 16-bit ones: an
  /// add or subtract of a constant, which is quantized in 8 bits, and with
  /// softmax-input-bits=16 a matmul of two activations (int32 accumulator).
  DenseSet<Operation *> narrowOperands;
  /// Claimed ops that read 8-bit activations and may write a wide value of
  /// dynamic quantization: layer normalizations, tables and matmuls of two
  /// activations (docs/NumericSpec.md 8.5).
  DenseSet<Operation *> writesWide;
  /// The values with 16-bit storage, by the source of their same-scale
  /// chain (sourceOfScale).
  DenseSet<Value> int16Sources;
  /// The softmax results with 16-bit storage (chooseInt16SoftmaxResults).
  DenseSet<Value> int16SoftmaxResults;
  /// The anchors of the dynamic layers, and the wide values by the source of
  /// their same-scale chain.
  DenseSet<Operation *> dynamicAnchors;
  DenseSet<Value> wideSources;
  /// The anchor of the layer each fused epilogue op (bias add, relu)
  /// belongs to: layer-precision names the layer by its anchor's location.
  DenseMap<Operation *, Operation *> anchorOf;
  /// Constant operands of claimed concatenations and additions (a class
  /// token, a position embedding), quantized once the types are known.
  SmallVector<OpOperand *> constantOperands;
  /// The ops of each claimed layer normalization with an 8-bit input, by
  /// its input.
  llvm::MapVector<Value, SmallVector<Operation *>> normInputs;
  /// Per-channel statistics (min, max per index of the last dimension).
  DenseMap<Value, std::pair<SmallVector<double>, SmallVector<double>>>
      channelStats;
  /// The values with per-channel scales (norm-input-scales=per-channel).
  DenseMap<Value, quant::UniformQuantizedPerAxisType> channelTypes;
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
      if (!hasNamedOp(funcOp, name)) {
        funcOp.emitError()
            << "keep-float names '" << name
            << "', which is neither a registered operation nor the location "
               "name of an op of this function; give full op names such as "
               "linalg.matmul, or layer names (the exporter's module paths)";
        return signalPassFailure();
      }
    }
    FailureOr<PrecisionOptions> precision = parsePrecisionOptions(
        funcOp, weightBits, weightGroupSize, activationBits, layerPrecision,
        normInputBits, softmaxInputBits, int16RangeHeadroom);
    if (failed(precision))
      return signalPassFailure();
    // Dynamic matmuls take int8 weights and 8-bit runtime inputs
    // (docs/NumericSpec.md 8.5).
    if (dynamic &&
        (precision->weightBits != 8 || precision->activationBits != 8 ||
         llvm::any_of(precision->layers, [](const auto &entry) {
           return entry.weightBits != 8 || entry.activationBits != 8;
         }))) {
      funcOp.emitError() << "dynamic=true takes 8-bit weights and "
                            "activations; drop weight-bits, activation-bits "
                            "and the w4/a16 layer-precision entries "
                            "(norm-input-bits=16 and softmax-input-bits=16 "
                            "combine with it)";
      return signalPassFailure();
    }
    if (normInputScales != "per-tensor" && normInputScales != "per-channel") {
      funcOp.emitError() << "norm-input-scales is '" << normInputScales
                         << "'; it must be per-tensor or per-channel";
      return signalPassFailure();
    }
    // Power-of-two factors are defined on 8-bit static inputs
    // (docs/NumericSpec.md 6.6).
    bool perChannelNorm = normInputScales == "per-channel";
    if (perChannelNorm &&
        (dynamic || precision->normInputBits != 8 ||
         precision->activationBits != 8 ||
         llvm::any_of(precision->layers, [](const auto &entry) {
           return entry.activationBits != 8;
         }))) {
      funcOp.emitError()
          << "norm-input-scales=per-channel takes 8-bit static layer "
             "normalization inputs; drop norm-input-bits=16, "
             "activation-bits=16, the a16 layer-precision entries and "
             "dynamic=true (or use norm-input-bits=16 alone)";
      return signalPassFailure();
    }
    DryRun dryRun(funcOp, activationType, weightGranularity, allowFloat, keep,
                  std::move(*precision), dynamic, perChannelNorm);
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
  Type element = cast<RankedTensorType>(value.getType()).getElementType();
  Value source = sourceOfScale(value);
  quant::UniformQuantizedType type;
  if (int16SoftmaxResults.contains(source))
    type = getSoftmaxResultType(element, isSigned, 16);
  else if (wideSources.contains(source))
    type = getWideActivationType(element, range.first, range.second);
  else if (int16Sources.contains(source))
    type = getInt16ActivationType(element, range.first, range.second,
                                  precision.int16RangeHeadroom);
  else
    type = getActivationType(element, range.first, range.second, isSigned);
  types[value] = type;
  return type;
}

bool DryRun::wants16Bit(Operation *op) const {
  if (precision.activationBits == 16)
    return true;
  Operation *anchor = anchorOf.lookup(op);
  return llvm::any_of(precision.layers, [&](const LayerPrecision &entry) {
    return entry.activationBits == 16 &&
           (hasLocationName(op->getLoc(), entry.layer) ||
            (anchor && hasLocationName(anchor->getLoc(), entry.layer)));
  });
}

LogicalResult DryRun::chooseInt16Values() {
  if (precision.activationBits != 16 && precision.normInputBits != 16 &&
      precision.softmaxInputBits != 16 &&
      llvm::none_of(precision.layers, [](const LayerPrecision &entry) {
        return entry.activationBits == 16;
      }))
    return success();
  // An op named by layer-precision must have a 16-bit form; with
  // activation-bits=16 the others keep 8 bits (remarks below).
  bool failedAny = false;
  for (Operation &op : funcOp.getBody().getOps()) {
    if (precision.activationBits == 16 || !int8Only.contains(&op) ||
        !wants16Bit(&op))
      continue;
    op.emitError() << "'" << op.getName()
                   << "' has no 16-bit form (softmax, layer normalization "
                      "and matmuls of two activations take 8-bit "
                      "activations); remove its layer from layer-precision";
    failedAny = true;
  }
  if (failedAny)
    return failure();
  SmallVector<Value> values = valuesInOrder(funcOp);
  llvm::SetVector<Value> wanted;
  DenseMap<Value, Operation *> blockedBy;
  for (Value value : values) {
    if (!isFloatTensor(value))
      continue;
    Value source = sourceOfScale(value);
    Operation *def = value.getDefiningOp();
    bool ownScale = !def || !keepsOperandScale(def);
    if (def && ownScale &&
        (int8Only.contains(def) || narrowResult.contains(def)))
      blockedBy.try_emplace(source, def);
    else if (def && ownScale && wants16Bit(def))
      wanted.insert(source);
    // The values inside a layer normalization get no parameters.
    bool normInternal = def && narrowResult.contains(def);
    for (Operation *user : value.getUsers()) {
      if (int8Only.contains(user) || narrowOperands.contains(user))
        blockedBy.try_emplace(source, user);
      else if ((narrowResult.contains(user) && !normInternal) ||
               (!keepsOperandScale(user) && wants16Bit(user)))
        wanted.insert(source);
    }
  }
  llvm::SmallPtrSet<Operation *, 4> reported;
  for (Value source : wanted) {
    auto blocker = blockedBy.find(source);
    if (blocker == blockedBy.end()) {
      int16Sources.insert(source);
      continue;
    }
    Operation *op = blocker->second;
    if (!reported.insert(op).second)
      continue;
    if (int8Only.contains(op))
      op->emitRemark() << "'" << op->getName()
                       << "' has no 16-bit form: the values it reads and "
                          "writes keep 8-bit activations";
    else
      op->emitRemark() << "'" << op->getName() << "' "
                       << (narrowResult.contains(op) ? "writes" : "reads")
                       << " 8-bit activations only: those values keep 8 bits";
  }
  return success();
}

bool DryRun::isDynamicLayerOp(Operation *op) const {
  Operation *anchor = anchorOf.lookup(op);
  return dynamicAnchors.contains(anchor ? anchor : op);
}

void DryRun::chooseDynamicLayers() {
  if (!dynamic)
    return;
  // myquant.dynamic_matmul: rank 2, constant weights, no folded factor.
  for (const ComputeChain &chain : chains)
    if (chain.kind == ComputeChain::Matmul && chain.factor == 1.0 &&
        getFloatConstant(chain.weight) &&
        cast<RankedTensorType>(chain.input.getType()).getRank() == 2)
      dynamicAnchors.insert(chain.anchor);
  // A value is wide when a dynamic layer reads or writes it and every other
  // quantized op that does is a same-scale one.
  SmallVector<Value> values = valuesInOrder(funcOp);
  llvm::SetVector<Value> wanted;
  DenseMap<Value, Operation *> blockedBy;
  auto visit = [&](Value source, Operation *op, bool writes) {
    if (isDynamicLayerOp(op))
      wanted.insert(source);
    else if (claimed.contains(op) && !keepsOperandScale(op) &&
             !(writes && writesWide.contains(op)))
      blockedBy.try_emplace(source, op);
  };
  for (Value value : values) {
    if (!isFloatTensor(value))
      continue;
    Value source = sourceOfScale(value);
    if (Operation *def = value.getDefiningOp(); def && !keepsOperandScale(def))
      visit(source, def, /*writes=*/true);
    for (Operation *user : value.getUsers())
      visit(source, user, /*writes=*/false);
  }
  for (Value source : wanted)
    if (!blockedBy.contains(source))
      wideSources.insert(source);
  for (const ComputeChain &chain : chains) {
    if (!dynamicAnchors.contains(chain.anchor) ||
        wideSources.contains(sourceOfScale(chain.input)))
      continue;
    Operation *blocker = blockedBy.lookup(sourceOfScale(chain.input));
    InFlightDiagnostic remark = chain.anchor->emitRemark()
                                << "stays static int8: its input is also ";
    if (blocker)
      remark << "read or written by '" << blocker->getName() << "'";
    else
      remark << "not a wide value";
    dynamicAnchors.erase(chain.anchor);
  }
}

void DryRun::chooseDynamicResidualValues() {
  if (!dynamic || precision.normInputBits != 16)
    return;
  // An addition reads 16-bit operands (6.4; a constant operand keeps its 8
  // bits) and this one writes 16 bits already: the value keeps those bits
  // instead of being rounded to int8 first.
  auto isWideAdd = [&](Operation *op) {
    std::optional<ElementwiseKind> kind = classifyElementwise(op);
    return kind && claimed.contains(op) && !int8Only.contains(op) &&
           (kind->kind == ElementwiseKind::Add ||
            kind->kind == ElementwiseKind::Sub ||
            kind->kind == ElementwiseKind::BiasAdd) &&
           int16Sources.contains(sourceOfScale(op->getResult(0)));
  };
  // The writers with a 16-bit result form: a layer with constant weights
  // (static or dynamic, 6.3 and 8.3) and a concatenation (its constants
  // are quantized into its result's parameters, 3.5).
  DenseSet<Value> weightedOutputs;
  for (const ComputeChain &chain : chains)
    if (getFloatConstant(chain.weight))
      weightedOutputs.insert(chain.output);
  auto isConcat = [&](Operation *op) {
    return isa<tensor::ConcatOp>(op) && claimed.contains(op);
  };
  llvm::MapVector<Value, SmallVector<Operation *>> readers;
  for (Value value : valuesInOrder(funcOp)) {
    if (!isFloatTensor(value))
      continue;
    Value source = sourceOfScale(value);
    Operation *def = source.getDefiningOp();
    if (!def || wideSources.contains(source) || int16Sources.contains(source) ||
        !(weightedOutputs.contains(source) || isConcat(def)))
      continue;
    SmallVector<Operation *> &users = readers[source];
    for (Operation *user : value.getUsers())
      if (!keepsOperandScale(user))
        users.push_back(user);
  }
  // Backwards, so that a concatenation's result is decided before its
  // operands (a patch embedding, then the class token and the position).
  for (auto &[source, users] : llvm::reverse(readers))
    if (!users.empty() && llvm::all_of(users, [&](Operation *user) {
          return isWideAdd(user) ||
                 (isConcat(user) &&
                  int16Sources.contains(sourceOfScale(user->getResult(0))));
        }))
      int16Sources.insert(source);
}

void DryRun::chooseInt16SoftmaxResults() {
  if (precision.softmaxInputBits != 16)
    return;
  // The operands that a matmul of two activations reads as its lhs: it
  // multiplies a 16-bit lhs by its 8-bit rhs (6.4).
  DenseSet<OpOperand *> activationLhs;
  for (const ComputeChain &chain : chains)
    if (!getFloatConstant(chain.weight))
      for (OpOperand &operand : chain.anchor->getOpOperands())
        if (operand.get() == chain.input && operand.get() != chain.weight)
          activationLhs.insert(&operand);
  DenseSet<Value> candidates, blocked;
  funcOp.walk([&](linalg::SoftmaxOp softmax) {
    if (claimed.contains(softmax))
      candidates.insert(softmax.getResult()[0]);
  });
  for (Value value : valuesInOrder(funcOp)) {
    Value source = sourceOfScale(value);
    if (!candidates.contains(source))
      continue;
    for (OpOperand &use : value.getUses())
      if (!keepsOperandScale(use.getOwner()) && !activationLhs.contains(&use))
        blocked.insert(source);
  }
  for (Value result : candidates) {
    if (blocked.contains(result) || result.use_empty())
      continue;
    int16SoftmaxResults.insert(result);
    types[result] = getSoftmaxResultType(
        cast<RankedTensorType>(result.getType()).getElementType(), isSigned,
        16);
  }
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
  for (Operation *e : chain.epilogue) {
    claim(e);
    anchorOf[e] = chain.anchor;
  }
  claimWindowInputs(chain.anchor);
  if (chain.transposeRhs)
    claim(chain.weightOperand->getOwner());
  for (Operation *reshape : chain.regrouping)
    claim(reshape);
  if (!chain.regrouping.empty())
    claim(chain.regrouping[2]->getOperand(0).getDefiningOp());
  required.insert(chain.input);
  required.insert(chain.output);
  if (!getFloatConstant(chain.weight)) {
    required.insert(chain.weight);
    // Its 8-bit operands accumulate in int32, which a 16-bit result
    // requantizes as well (docs/NumericSpec.md 6.4): the scores a 16-bit
    // softmax input needs.
    DenseSet<Operation *> &form =
        precision.softmaxInputBits == 16 ? narrowOperands : int8Only;
    form.insert(chain.anchor);
    form.insert(chain.weightOperand->getOwner());
    form.insert(chain.epilogue.begin(), chain.epilogue.end());
    writesWide.insert(chain.anchor);
    writesWide.insert(chain.epilogue.begin(), chain.epilogue.end());
  }
  chains.push_back(chain);
}

void DryRun::claimPoolChain(const PoolChain &pool) {
  claim(pool.anchor);
  for (Operation *e : pool.epilogue) {
    claim(e);
    anchorOf[e] = pool.anchor;
  }
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
  // A 16-bit input fits rows of half the length (getLayerNormMaxChannels).
  bool wideInput =
      precision.normInputBits == 16 &&
      static_cast<int64_t>(norm.gamma.size()) <= getLayerNormMaxChannels(16);
  DenseSet<Operation *> &form = wideInput ? narrowResult : int8Only;
  if (!wideInput) {
    SmallVector<Operation *> &ops = normInputs[norm.input];
    ops.append(norm.ops.begin(), norm.ops.end());
    ops.push_back(norm.anchor);
  }
  // Its result may be a dynamic matmul's wide input whatever its input's
  // width (docs/NumericSpec.md 8.5).
  writesWide.insert(norm.anchor);
  claim(norm.anchor);
  form.insert(norm.anchor);
  for (Operation *op : norm.ops) {
    claim(op);
    form.insert(op);
  }
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
  anchorOf[activation] = &op;
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
      // The constant operand is quantized in 8 bits (docs/NumericSpec.md
      // 3.2), so the other operand keeps 8 bits too; the result may have
      // 16 (6.5).
      if (constants == 1)
        narrowOperands.insert(&op);
      claimBinaryElementwise(op);
      return success();
    }
  }
  // A concatenation of activations, and of constants with at least one
  // activation (a class token): the constants are quantized into the
  // result's parameters (docs/NumericSpec.md 3.5), in 8 bits.
  if (auto concat = dyn_cast<tensor::ConcatOp>(&op);
      concat && !keptFloat &&
      !llvm::all_of(concat.getInputs(), isFloatConstantOperand)) {
    claim(&op);
    for (OpOperand &operand : op.getOpOperands()) {
      if (isFloatConstantOperand(operand.get())) {
        constantOperands.push_back(&operand);
        int8Only.insert(&op);
      } else {
        required.insert(operand.get());
      }
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
  // output type (docs/NumericSpec.md 3.10) rather than its statistics';
  // with softmax-input-bits=16 it reads 16 bits (6.4).
  if (auto softmax = dyn_cast<linalg::SoftmaxOp>(&op);
      softmax && !keptFloat && isLastDimSoftmax(softmax)) {
    claim(&op);
    (precision.softmaxInputBits == 16 ? narrowResult : int8Only).insert(&op);
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
    writesWide.insert(&op);
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

/// Symmetric weights in [-qmax, qmax] (127 for 8 bits, 7 for 4), per
/// channel along `axis` or per tensor; returns the scales.
SmallVector<double> quantizeWeights(DenseFPElementsAttr weights,
                                    std::optional<unsigned> axis, int64_t qmax,
                                    SmallVector<int8_t> &quantized) {
  ChannelOf channelOf(weights.getType(), axis);
  SmallVector<double> amax(channelOf.channels, 0.0);
  for (auto [i, v] : llvm::enumerate(weights.getValues<APFloat>()))
    amax[channelOf(i)] =
        std::max(amax[channelOf(i)], std::abs(v.convertToDouble()));
  SmallVector<double> scales;
  for (double a : amax)
    scales.push_back(a == 0.0 ? 1.0 : a / static_cast<double>(qmax));
  quantizeWeightsWithScales(weights, axis, scales, -qmax, qmax, quantized);
  return scales;
}

/// Significant bits of a unit scale: with the 8-bit multipliers every
/// group scale u * m then has at most 24 and is exact in f32, the
/// expressed type the sub-channel type's scales are parsed back in.
constexpr int kUnitScaleBits = 15;

/// `x > 0` rounded up to `bits` significant bits (exact in double).
double roundUpToBits(double x, int bits) {
  int exponent = 0;
  double mantissa = std::frexp(x, &exponent);
  return std::ldexp(std::ceil(std::ldexp(mantissa, bits)), exponent - bits);
}

/// 4-bit weights of a 2-D weight with output channels along `channelDim`,
/// quantized per group of `groupSize` indices of the other dimension
/// (docs/NumericSpec.md 7.2). `scales` are laid out as the sub-channel
/// type holds them (the weight's dimension order); `summary` gets the unit
/// scales and the sums of |q * m| per channel.
SmallVector<double> quantizeWeightsPerGroup(DenseFPElementsAttr weights,
                                            unsigned channelDim,
                                            int64_t groupSize,
                                            SmallVector<int8_t> &quantized,
                                            WeightSummary &summary) {
  ArrayRef<int64_t> shape = weights.getType().getShape();
  int64_t channels = shape[channelDim];
  int64_t groups = shape[1 - channelDim] / groupSize;
  int64_t maxMultiplier = int64_t(1) << kGroupScaleBits;
  // (channel, group) of each flat index, and where its scale lies.
  auto locate = [&](int64_t i) {
    int64_t row = i / shape[1], col = i % shape[1];
    int64_t c = channelDim == 0 ? row : col;
    int64_t g = (channelDim == 0 ? col : row) / groupSize;
    return std::pair(c, channelDim == 0 ? c * groups + g : g * channels + c);
  };
  SmallVector<double> values =
      llvm::map_to_vector(weights.getValues<APFloat>(),
                          [](const APFloat &v) { return v.convertToDouble(); });
  SmallVector<double> groupMax(channels * groups, 0.0), channelMax(channels);
  for (auto [i, v] : llvm::enumerate(values)) {
    auto [c, at] = locate(static_cast<int64_t>(i));
    groupMax[at] = std::max(groupMax[at], std::abs(v));
    channelMax[c] = std::max(channelMax[c], std::abs(v));
  }
  SmallVector<double> scales(channels * groups);
  SmallVector<int64_t> multipliers(channels * groups);
  summary.scales.clear();
  for (int64_t c = 0; c < channels; ++c) {
    double unit = channelMax[c] == 0.0
                      ? 1.0 / static_cast<double>(maxMultiplier)
                      : roundUpToBits(channelMax[c] / static_cast<double>(
                                                          7 * maxMultiplier),
                                      kUnitScaleBits);
    summary.scales.push_back(unit);
    for (int64_t g = 0; g < groups; ++g) {
      int64_t at = channelDim == 0 ? c * groups + g : g * channels + c;
      int64_t m =
          channelMax[c] == 0.0
              ? maxMultiplier
              : std::max<int64_t>(1, static_cast<int64_t>(std::ceil(
                                         static_cast<double>(maxMultiplier) *
                                         groupMax[at] / channelMax[c])));
      multipliers[at] = m;
      scales[at] = unit * static_cast<double>(m);
    }
  }
  summary.absSums.assign(channels, 0);
  quantized.clear();
  for (auto [i, v] : llvm::enumerate(values)) {
    auto [c, at] = locate(static_cast<int64_t>(i));
    double q = std::clamp(std::nearbyint(v / scales[at]), -7.0, 7.0);
    quantized.push_back(static_cast<int8_t>(q));
    summary.absSums[c] += std::abs(static_cast<int64_t>(q)) * multipliers[at];
  }
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
  // Fixed weight parameters (from myquant-import-stats) replace the choice.
  auto fixed = anchor->getAttrOfType<DictionaryAttr>(
      MyQuantDialect::WeightQparamsAttrHelper::getNameStr());
  int64_t bits = fixed ? 8 : weightBitsOf(precision, anchor);
  int64_t weightMax = bits == 4 ? 7 : 127, weightMin = -weightMax;
  auto storageElement = IntegerType::get(ctx, bits);
  bool weightPerChannel = perChannel;
  std::optional<unsigned> axis;
  SmallVector<int8_t> quantized;
  WeightSummary summary;
  Type qtype;
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
  } else if (int64_t groupSize = groupSizeOf(chain, bits); groupSize > 0) {
    SmallVector<double> scales = quantizeWeightsPerGroup(
        constant, chain.weightChannelDim, groupSize, quantized, summary);
    SmallVector<int64_t> scaleShape(weightType.getShape());
    scaleShape[1 - chain.weightChannelDim] /= groupSize;
    auto f64Scales = RankedTensorType::get(scaleShape, Float64Type::get(ctx));
    auto zeros = DenseElementsAttr::get(
        RankedTensorType::get(scaleShape, IntegerType::get(ctx, 64)),
        APInt(64, 0));
    qtype = quant::UniformQuantizedSubChannelType::get(
        quant::QuantizationFlags::Signed, storageElement,
        weightType.getElementType(),
        DenseElementsAttr::get(f64Scales, ArrayRef(scales)), zeros,
        {static_cast<int32_t>(chain.weightChannelDim),
         static_cast<int32_t>(1 - chain.weightChannelDim)},
        {1, groupSize}, weightMin, weightMax);
  } else {
    if (perChannel)
      axis = chain.weightChannelDim;
    summary.scales = quantizeWeights(constant, axis, weightMax, quantized);
  }
  if (!qtype) {
    summary.absSums.assign(channels, 0);
    ChannelOf outputChannelOf(weightType, chain.weightChannelDim);
    for (auto [i, q] : llvm::enumerate(quantized))
      summary.absSums[outputChannelOf(i)] += std::abs(q);
  }
  if (qtype) {
    // Per group: quantizeWeightsPerGroup summed |q * m|.
  } else if (weightPerChannel) {
    SmallVector<int64_t> zeros(channels, 0);
    qtype = quant::UniformQuantizedPerAxisType::get(
        quant::QuantizationFlags::Signed, storageElement,
        weightType.getElementType(), summary.scales, zeros,
        chain.weightChannelDim, weightMin, weightMax);
  } else {
    qtype = quant::UniformQuantizedType::get(
        quant::QuantizationFlags::Signed, storageElement,
        weightType.getElementType(), summary.scales[0], 0, weightMin,
        weightMax);
  }
  OpBuilder b(chain.weightOperand->getOwner());
  Location loc = chain.weight.getLoc();
  auto storageType = weightType.clone(storageElement);
  SmallVector<APInt> storageValues =
      llvm::map_to_vector(quantized, [&](int8_t q) {
        return APInt(bits, static_cast<uint64_t>(q), /*isSigned=*/true);
      });
  Value storage = arith::ConstantOp::create(
      b, loc, DenseIntElementsAttr::get(storageType, storageValues));
  Value cast =
      quant::StorageCastOp::create(b, loc, weightType.clone(qtype), storage);
  chain.weightOperand->set(DequantizeOp::create(b, loc, weightType, cast));
  anchor->removeAttr(MyQuantDialect::WeightQparamsAttrHelper::getNameStr());
  return summary;
}

int64_t DryRun::groupSizeOf(ComputeChain &chain, int64_t bits) {
  int64_t size = precision.weightGroupSize;
  if (bits != 4 || size == 0)
    return 0;
  ArrayRef<int64_t> shape = chain.weightShape;
  if (chain.kind != ComputeChain::Matmul || shape.size() != 2) {
    chain.anchor->emitRemark()
        << "4-bit weights per channel: groups of K (weight-group-size " << size
        << ") are for 2-D matmul weights";
    return 0;
  }
  int64_t k = shape[1 - chain.weightChannelDim];
  if (k % size != 0) {
    chain.anchor->emitRemark()
        << "4-bit weights per channel: K = " << k
        << " is not a multiple of the group size " << size;
    return 0;
  }
  return size;
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
  // A dynamic layer's bias stays float: myquant-quantize gives it the
  // int64 scale of acc * A' (docs/NumericSpec.md 8.3), and its int32
  // accumulator sums runtime int8 inputs within [-127, 127].
  bool isDynamic = dynamicAnchors.contains(anchor);
  FailureOr<SmallVector<int64_t>> biasValues =
      isDynamic
          ? SmallVector<int64_t>(channels, 0)
          : quantizeBias(chain, inType->getScale(), weights->scales, channels);
  if (failed(biasValues))
    return failure();

  // The accumulator sums |x - zx| * |w| over the reduction plus the bias; it
  // must not overflow for any input. It is int64 for a 16-bit input.
  bool wideAccumulator =
      !isDynamic && inType->getStorageTypeIntegralWidth() > 8;
  int64_t limit = wideAccumulator ? INT64_MAX : INT32_MAX;
  int64_t zx = inType->getZeroPoint();
  int64_t maxAbsX = isDynamic ? kDynamicQMax
                              : std::max(zx - inType->getStorageTypeMin(),
                                         inType->getStorageTypeMax() - zx);
  ArrayRef<int64_t> absSums = weights->absSums;
  for (int64_t c = 0; c < channels; ++c) {
    int64_t sum = absSums[absSums.size() == 1 ? 0 : c];
    // Both factors are below 2^32, so the product fits in 64 bits.
    int64_t bound = sum * maxAbsX + std::abs((*biasValues)[c]);
    if (bound > limit)
      return anchor->emitError()
             << "the " << (wideAccumulator ? "int64" : "int32")
             << " accumulator of output channel " << c << " can reach " << bound
             << " (" << reduction << " products of up to " << maxAbsX
             << " x |w|), beyond " << limit;
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
      // (An op with an 8-bit form only cannot adopt 16-bit parameters.)
      if (producer && operand.hasOneUse() && !keepsOperandScale(producer) &&
          (it->second.getStorageType() == resultType.getStorageType() ||
           !int8Only.contains(producer))) {
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

void DryRun::choosePerChannelNormInputs() {
  if (!perChannelNormInputs)
    return;
  for (auto &[input, normOps] : normInputs) {
    Operation *def = input.getDefiningOp();
    std::optional<ElementwiseKind> kind =
        def ? classifyElementwise(def) : std::nullopt;
    auto statsIt = channelStats.find(input);
    auto typeIt = types.find(input);
    Operation *anchor = normOps.back();
    auto remark = [&]() {
      return anchor->emitRemark()
             << "layer normalization input keeps per-tensor scales: ";
    };
    if (statsIt == channelStats.end()) {
      remark() << "it has no per-channel statistics (calibrate it along "
                  "its last dimension)";
      continue;
    }
    if (!kind ||
        (kind->kind != ElementwiseKind::Add &&
         kind->kind != ElementwiseKind::Sub) ||
        !claimed.contains(def) || typeIt == types.end()) {
      remark() << "an add does not write it";
      continue;
    }
    // Adds and this layer normalization read it: the residual stream.
    Operation *other = nullptr;
    for (Operation *user : input.getUsers()) {
      std::optional<ElementwiseKind> userKind = classifyElementwise(user);
      bool isAdd = userKind && claimed.contains(user) &&
                   (userKind->kind == ElementwiseKind::Add ||
                    userKind->kind == ElementwiseKind::Sub);
      if (!isAdd && !llvm::is_contained(normOps, user))
        other = user;
    }
    if (other) {
      remark() << "'" << other->getName() << "' reads it too";
      continue;
    }
    // s = the per-tensor scale / 2^7; each channel takes the least power of
    // two whose grid holds its range (the widest channels keep the
    // per-tensor grid).
    quant::UniformQuantizedType perTensor = typeIt->second;
    const auto &[mins, maxs] = statsIt->second;
    int64_t zp = perTensor.getZeroPoint();
    double finest = std::ldexp(perTensor.getScale(), -kLayerNormMaxInputShift);
    auto lo = static_cast<double>(perTensor.getStorageTypeMin() - zp);
    auto hi = static_cast<double>(perTensor.getStorageTypeMax() - zp);
    SmallVector<int64_t> shifts;
    for (auto [mn, mx] : llvm::zip(mins, maxs)) {
      int64_t a = 0;
      while (a < kLayerNormMaxInputShift && (mn < lo * std::ldexp(finest, a) ||
                                             mx > hi * std::ldexp(finest, a)))
        ++a;
      shifts.push_back(a);
    }
    SmallVector<double> scales;
    for (int64_t a : shifts)
      scales.push_back(std::ldexp(finest, a));
    channelTypes[input] = quant::UniformQuantizedPerAxisType::get(
        perTensor.getFlags(), perTensor.getStorageType(),
        perTensor.getExpressedType(), scales,
        SmallVector<int64_t>(scales.size(), zp),
        cast<RankedTensorType>(input.getType()).getRank() - 1,
        perTensor.getStorageTypeMin(), perTensor.getStorageTypeMax());
  }
}

void DryRun::insertQDQ() {
  // Program order, so that the output is deterministic.
  SmallVector<Value> values = valuesInOrder(funcOp);
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
    auto perAxis = channelTypes.find(value);
    Type element = perAxis != channelTypes.end() ? Type(perAxis->second)
                                                 : Type(it->second);
    auto quantize = QuantizeOp::create(b, loc, type.clone(element), value);
    auto dequantize = DequantizeOp::create(b, loc, type, quantize);
    value.replaceAllUsesExcept(dequantize, quantize);
  }
}

LogicalResult DryRun::run() {
  // Per-channel statistics along the last dimension, before takeStats
  // folds them into per-tensor ranges.
  funcOp.walk([&](StatsOp op) {
    auto type = cast<RankedTensorType>(op.getInput().getType());
    if (op.getAxis() &&
        static_cast<int64_t>(*op.getAxis()) == type.getRank() - 1) {
      // The value annotated, through the other stats ops on it.
      Value input = op.getInput();
      while (auto inner = input.getDefiningOp<StatsOp>())
        input = inner.getInput();
      auto &entry = channelStats[input];
      entry.first.assign(op.getMin().begin(), op.getMin().end());
      entry.second.assign(op.getMax().begin(), op.getMax().end());
    }
  });
  stats = takeStats(funcOp);
  solver = std::make_unique<DataFlowSolver>();
  dataflow::loadBaselineAnalyses(*solver);
  solver->load<RangeAnalysis>(stats);
  if (failed(solver->initializeAndRun(funcOp)))
    return failure();
  if (failed(collectStructure()) || failed(chooseInt16Values()))
    return failure();
  chooseInt16SoftmaxResults();
  chooseDynamicLayers();
  chooseDynamicResidualValues();

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
  choosePerChannelNormInputs();
  insertQDQ();
  return success();
}

} // namespace
