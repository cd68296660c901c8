//===- ImportExportStats.cpp - myquant-import-stats / export-stats --------===//

#include "myquant/Calibration/Passes.h"
#include "myquant/Calibration/StatsFile.h"
#include "myquant/Calibration/ValueNames.h"
#include "myquant/Dialect/MyQuant/IR/MyQuantOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/InterleavedRange.h"

#include <utility>

namespace myquant {
#define GEN_PASS_DEF_MYQUANTIMPORTSTATS
#define GEN_PASS_DEF_MYQUANTEXPORTSTATS
#include "myquant/Calibration/Passes.h.inc"
} // namespace myquant

using namespace mlir;
using namespace myquant;

namespace {

/// The function's values in program order: arguments, then the results of
/// the body's ops.
SmallVector<Value> getValuesInOrder(func::FuncOp func) {
  SmallVector<Value> values(func.getArguments().begin(),
                            func.getArguments().end());
  for (Block &block : func.getBody())
    for (Operation &op : block)
      values.append(op.result_begin(), op.result_end());
  return values;
}

/// Checks that `entry` still describes `value`; reports at the value.
LogicalResult checkEntry(Value value, const StatsEntry &entry, StringRef path) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || !isa<FloatType>(type.getElementType()))
    return emitError(value.getLoc())
           << "stats file '" << path << "': entry '" << entry.name
           << "' names a value of type " << value.getType()
           << "; statistics belong to float tensors (stale stats file?)";
  if (entry.shape) {
    SmallVector<int64_t> shape = getStatsShape(type);
    bool matches = entry.shape->size() == shape.size();
    for (size_t dim = 0; matches && dim < shape.size(); ++dim)
      matches = shape[dim] == -1 || (*entry.shape)[dim] == shape[dim];
    if (!matches)
      return emitError(value.getLoc())
             << "stats file '" << path << "': entry '" << entry.name
             << "' has shape [" << llvm::interleaved(*entry.shape)
             << "] but the value is " << type << " (stale stats file?)";
  }
  if (entry.qparamsScaleError > 0)
    emitWarning(value.getLoc())
        << "stats file '" << path << "': entry '" << entry.name
        << "': no range reproduces its scale exactly; the closest differs "
           "by "
        << entry.qparamsScaleError << " (relative)";
  return success();
}

/// The convolution or matmul of the layer called `name`: the one top-level
/// linalg contraction or convolution whose location name is `name`.
FailureOr<Operation *> findAnchor(func::FuncOp func, StringRef name,
                                  StringRef path) {
  SmallVector<Operation *> anchors;
  for (Operation &op : func.getBody().getOps()) {
    std::optional<StringRef> opName = getLocationName(op.getLoc());
    if (!opName || *opName != name)
      continue;
    auto linalgOp = dyn_cast<linalg::LinalgOp>(&op);
    if (linalgOp && (linalg::isaContractionOpInterface(linalgOp) ||
                     linalg::isaConvolutionOpInterface(linalgOp)))
      anchors.push_back(&op);
  }
  if (anchors.size() != 1)
    return func.emitError()
           << "stats file '" << path << "': entry '" << name
           << "' gives weight parameters but " << anchors.size()
           << " convolutions or matmuls carry that name "
              "(expected one)";
  return anchors.front();
}

struct ImportStatsPass
    : myquant::impl::MyQuantImportStatsBase<ImportStatsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (file.empty()) {
      module.emitError() << "myquant-import-stats needs the 'file' option";
      return signalPassFailure();
    }
    llvm::Expected<StatsFile> stats = readStatsFile(file);
    if (!stats) {
      module.emitError() << llvm::toString(stats.takeError());
      return signalPassFailure();
    }
    FailureOr<func::FuncOp> func = selectFunction(
        module, function.empty() ? StringRef(stats->function) : function);
    if (failed(func))
      return signalPassFailure();
    FailureOr<ValueNames> names = ValueNames::build(*func);
    if (failed(names))
      return signalPassFailure();

    // Report every stale entry, then give up before changing anything.
    DenseMap<Value, const StatsEntry *> entries;
    bool valid = true;
    for (const StatsEntry &entry : stats->entries) {
      Value value = names->lookup(entry.name);
      if (!value) {
        func->emitError() << "stats file '" << file << "': entry '"
                          << entry.name << "' names no value of @"
                          << func->getSymName() << " (stale stats file?)";
        valid = false;
        continue;
      }
      valid &= succeeded(checkEntry(value, entry, file));
      entries[value] = &entry;
    }
    // Weight parameters go to the layer's convolution or matmul.
    SmallVector<std::pair<Operation *, const StatsEntry *>> anchors;
    for (const StatsEntry &entry : stats->entries) {
      if (!entry.weight)
        continue;
      FailureOr<Operation *> anchor = findAnchor(*func, entry.name, file);
      if (failed(anchor)) {
        valid = false;
        continue;
      }
      anchors.emplace_back(*anchor, &entry);
    }
    if (!valid)
      return signalPassFailure();

    SmallVector<Value> values;
    SmallVector<ValueStats> ranges;
    SmallVector<const StatsEntry *> sources;
    for (Value value : getValuesInOrder(*func)) {
      auto it = entries.find(value);
      if (it == entries.end() || it->second->stats.min.empty())
        continue;
      values.push_back(value);
      ranges.push_back(it->second->stats);
      sources.push_back(it->second);
    }
    auto describe = [&](size_t index) {
      return "from entry '" + sources[index]->name + "' of stats file '" +
             file + "'";
    };
    if (failed(annotateWithStats(values, ranges, describe)))
      return signalPassFailure();
    SmallVector<Value> channelValues;
    SmallVector<ValueStats> channels;
    SmallVector<size_t> channelSources;
    for (auto [index, value] : llvm::enumerate(values)) {
      if (!sources[index]->channels)
        continue;
      channelValues.push_back(value);
      channels.push_back(*sources[index]->channels);
      channelSources.push_back(index);
    }
    if (failed(annotateWithChannelStats(
            channelValues, channels,
            [&](size_t index) { return describe(channelSources[index]); })))
      return signalPassFailure();
    for (auto [anchor, entry] : anchors) {
      Builder b(anchor->getContext());
      const WeightQParams &weight = *entry->weight;
      anchor->setAttr(
          MyQuantDialect::WeightQparamsAttrHelper::getNameStr(),
          b.getDictionaryAttr(
              {b.getNamedAttr("scales", b.getDenseF64ArrayAttr(weight.scales)),
               b.getNamedAttr("qmin", b.getI64IntegerAttr(weight.qmin)),
               b.getNamedAttr("qmax", b.getI64IntegerAttr(weight.qmax))}));
    }
  }
};

struct ExportStatsPass
    : myquant::impl::MyQuantExportStatsBase<ExportStatsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (file.empty()) {
      module.emitError() << "myquant-export-stats needs the 'file' option";
      return signalPassFailure();
    }
    FailureOr<func::FuncOp> func = selectFunction(module, function);
    if (failed(func))
      return signalPassFailure();
    FailureOr<ValueNames> names = ValueNames::build(*func);
    if (failed(names))
      return signalPassFailure();

    StatsFile stats;
    stats.function = func->getSymName().str();
    DenseMap<Value, StatsOp> seen;
    DenseMap<Value, size_t> entryOf;
    bool valid = true;
    func->walk([&](StatsOp op) {
      // A chain of annotations (per tensor, then per channel) annotates the
      // value at its start.
      Value value = op.getInput();
      while (auto inner = value.getDefiningOp<StatsOp>())
        value = inner.getInput();
      StringRef name = names->getName(value);
      if (name.empty()) {
        op.emitWarning() << "the annotated value has no stable name (it is "
                            "inside a region); it is not exported";
        return;
      }
      ValueStats annotation;
      annotation.min.assign(op.getMin().begin(), op.getMin().end());
      annotation.max.assign(op.getMax().begin(), op.getMax().end());
      if (std::optional<uint64_t> axis = op.getAxis())
        annotation.axis = *axis;
      if (std::optional<ArrayRef<int64_t>> histogram = op.getHistogram())
        annotation.histogram.assign(histogram->begin(), histogram->end());
      auto [it, inserted] = seen.try_emplace(value, op);
      // One per-tensor and one per-channel annotation: the entry's range
      // and its `channels`.
      StatsEntry *known =
          inserted ? nullptr : &stats.entries[entryOf.lookup(value)];
      if (known && !known->channels &&
          known->stats.axis.has_value() != annotation.axis.has_value()) {
        if (annotation.axis)
          known->channels = std::move(annotation);
        else
          known->channels = std::exchange(known->stats, annotation);
        return;
      }
      if (!inserted) {
        InFlightDiagnostic diag = op.emitError()
                                  << "value '" << name
                                  << "' has a second myquant.stats; a stats "
                                     "file holds one entry per value (with "
                                     "at most one per-tensor and one "
                                     "per-channel range)";
        diag.attachNote(it->second.getLoc()) << "the first one";
        valid = false;
        return;
      }
      entryOf[value] = stats.entries.size();
      StatsEntry &entry = stats.entries.emplace_back();
      entry.name = name.str();
      entry.shape = getStatsShape(op.getInput().getType());
      entry.stats = std::move(annotation);
    });
    if (!valid)
      return signalPassFailure();
    if (llvm::Error error = writeStatsFile(file, stats)) {
      module.emitError() << llvm::toString(std::move(error));
      return signalPassFailure();
    }
    markAllAnalysesPreserved();
  }
};

} // namespace
