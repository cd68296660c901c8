//===- Calibrate.cpp - run the float model on data, annotate it -----------===//
//
// myquant-calibrate: instruments a copy of the function so that it returns
// every observed value, JIT-compiles the copy once and runs it over the data
// in batches; the observers (myquant/Calibration/Observers.h) accumulate in
// this process, and the original function gets the resulting myquant.stats.
//
//===----------------------------------------------------------------------===//

#include "myquant/Calibration/Observers.h"
#include "myquant/Calibration/Passes.h"
#include "myquant/Calibration/StatsFile.h"
#include "myquant/Calibration/ValueNames.h"
#include "myquant/Dialect/MyQuant/IR/MyQuantOps.h"
#include "myquant/Dialect/MyQuant/Utils/FloatGraph.h"
#include "myquant/Execution/Driver.h"
#include "myquant/Execution/EntryPoint.h"
#include "myquant/Execution/Jit.h"
#include "myquant/Execution/Npy.h"
#include "myquant/Lowering/LowerToLLVM.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/BLAKE3.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/ThreadPool.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#ifdef __GLIBC__
#include <malloc.h>
#include <time.h>
#endif
#ifdef __linux__
#include <sys/resource.h>
#endif

namespace myquant {
#define GEN_PASS_DEF_MYQUANTCALIBRATE
#include "myquant/Calibration/Passes.h.inc"
} // namespace myquant

using namespace mlir;
using namespace myquant;
namespace cal = myquant::calibration;

/// The attribute that picks another method for one value: on an op (all
/// its results) or as an argument attribute.
static constexpr llvm::StringLiteral kMethodAttrName =
    MyQuantDialect::CalibrationMethodAttrHelper::getNameStr();

namespace {

/// A value calibration observes.
struct Observed {
  Value value;
  cal::TensorObserver observer;
  ElementKind element;
  /// For an argument, its number; for an op result, its position among the
  /// results of the instrumented copy.
  unsigned index;
  bool isArgument;
  /// With per-channel-norm-inputs, for a layer normalization input: the
  /// size of its last dimension and the finite min/max of each channel.
  int64_t channels = 0;
  std::vector<double> channelMin, channelMax;
};

/// The samples of one argument: in `array`, or for a .npy file, in `file`
/// (`array` holds its header), read one batch at a time.
struct ArgumentData {
  NpyArray array;
  std::optional<NpyFile> file;
  /// Where the array came from, for messages.
  std::string where;
  /// Elements and bytes of one sample.
  int64_t sampleElements = 1;
  int64_t sampleBytes = 0;
};

using Clock = std::chrono::steady_clock;

static double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// The CPU time of the calling thread: what a call of the model cost on a
/// machine shared with more runnable processes than cores, where its wall
/// time also counts the waits for a core.
static double threadCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) +
         1e-9 * static_cast<double>(now.tv_nsec);
}

/// The page faults of the calling thread so far (0 where unknown): a call
/// that faults in its memory again costs more than its arithmetic.
static uint64_t threadPageFaults() {
#if defined(__linux__) && defined(RUSAGE_THREAD)
  rusage usage{};
  if (getrusage(RUSAGE_THREAD, &usage) == 0)
    return static_cast<uint64_t>(usage.ru_minflt + usage.ru_majflt);
#endif
  return 0;
}

/// Progress on stderr for runs longer than a second, when stderr is a
/// terminal.
class Progress {
public:
  Progress(bool enabled, int64_t total)
      : enabled(enabled), total(total), start(Clock::now()), last(start) {}
  ~Progress() {
    if (printed)
      llvm::errs() << "\n";
  }

  void update(int64_t done, StringRef phase) {
    if (!enabled)
      return;
    Clock::time_point now = Clock::now();
    double elapsed = secondsSince(start);
    if (elapsed < 1.0 ||
        (printed && now - last < std::chrono::milliseconds(200) &&
         done < total))
      return;
    last = now;
    printed = true;
    llvm::errs() << "\rmyquant-calibrate: " << phase << ": " << done << "/"
                 << total << " samples, "
                 << llvm::format("%.0f", done / elapsed) << " samples/s   ";
    llvm::errs().flush();
  }

private:
  bool enabled;
  int64_t total;
  Clock::time_point start, last;
  bool printed = false;
};

struct CalibratePass : myquant::impl::MyQuantCalibrateBase<CalibratePass> {
  using Base::Base;

  void getDependentDialects(DialectRegistry &registry) const override {
    Base::getDependentDialects(registry);
    // The instrumented copy is lowered and translated in this context: it
    // needs the dialects the lowering creates and the interfaces
    // (bufferization, convert-to-llvm, translation) of every dialect it
    // meets. A host registers only the dialects of its own IR, so all of
    // them are added here, before the pass runs.
    registerDriverDialects(registry);
  }

  void runOnOperation() override;
};

/// The options of one run.
struct Settings {
  std::string data;
  int64_t samples;
  int64_t batchSize;
  int64_t threads;
  std::string statsOut;
  std::string cacheDir;
  int64_t cacheMaxMB;
  bool quiet;
  bool timing;
  bool perChannelNormInputs;
  bool observeInsideLayers;
  /// The method of every value without its own, and its parameters.
  cal::ObserverOptions observer;
};

struct Batch;

/// Where the time of a run went, for the `timing` option.
struct PhaseTimes {
  double lower = 0, jit = 0, calls = 0, observe = 0;
  /// The CPU time of the calls (the threads that ran them).
  double callsCpu = 0;
  /// The page faults of the calls; of the first, which faults in the
  /// memory of the calls (later calls reuse it: keepFreedMemory).
  uint64_t callFaults = 0, firstCallFaults = 0;
  double firstCallCpu = 0;
  bool sawFirstCall = false;
  /// What happened to the compiled copy: "compiled", "compiled and cached",
  /// "from the cache".
  StringRef compiled = "compiled";
  /// Cache entries removed to keep the cache under cache-max-mb.
  unsigned evicted = 0;
};

/// One run of the pass over one function.
class Calibrator {
public:
  Calibrator(ModuleOp module, func::FuncOp func, const Settings &settings)
      : module(module), func(func), settings(settings) {}

  LogicalResult run();

private:
  LogicalResult collectObserved();
  LogicalResult loadData();
  LogicalResult checkArgument(unsigned index, ArgumentData &data);
  LogicalResult checkBatch();
  FailureOr<std::unique_ptr<JitFunction>> compileInstrumented();
  /// The compiled copy kept at `path` by an earlier run, if it loads.
  std::unique_ptr<JitFunction>
  loadCached(StringRef path, FunctionType signature, const JitOptions &options);
  /// One pass over the data; `histograms` selects pass 2.
  LogicalResult observeAll(JitFunction &function, bool histograms,
                           Progress &progress);
  /// The inputs of the call over samples [start, start + batch).
  FailureOr<std::unique_ptr<Batch>> prepareBatch(int64_t start);
  /// Observes the inputs and results of one call.
  LogicalResult observeBatch(Batch &b, bool histograms);
  void reportNonFinite();
  LogicalResult annotate();

  InFlightDiagnostic emitError() { return func.emitError(); }
  std::string describeArgument(unsigned index) {
    return "argument #" + std::to_string(index) + " ('" +
           getArgumentName(func, index) + "') of @" + func.getSymName().str();
  }

  ModuleOp module;
  func::FuncOp func;
  const Settings &settings;
  SmallVector<Observed, 0> observed;
  /// Results inside a convolution or matmul layer, left unobserved.
  SmallVector<Value> insideLayers;
  SmallVector<ArgumentData, 0> arguments;
  int64_t samples = 0;
  /// Samples per call; `fixedBatch` when the batch dimension is static.
  int64_t batch = 0;
  bool fixedBatch = false;
  /// Samples observed so far in the current pass, for the progress line.
  int64_t observedSamples = 0;
  SmallVector<std::optional<cal::TensorStats>> results;
  PhaseTimes times;
};

} // namespace

//===----------------------------------------------------------------------===//
// What to observe
//===----------------------------------------------------------------------===//

static FailureOr<cal::Method> parseMethodAttr(Operation *op, Attribute attr,
                                              cal::Method fallback) {
  if (!attr)
    return fallback;
  auto name = dyn_cast<StringAttr>(attr);
  std::optional<cal::Method> method =
      name ? cal::parseMethod(name.getValue().str()) : std::nullopt;
  if (!method)
    return op->emitError() << "'" << kMethodAttrName << "' must be one of "
                           << cal::getMethodNames() << ", got " << attr;
  return *method;
}

/// A max pool pads its input with -inf by design: observed, the border would
/// be reported as non-finite data. The pad's finite values are its input's,
/// observed at their producer, and the dry run never quantizes a pad with
/// its own parameters.
static bool isPaddedWithNonFinite(Operation &op) {
  auto pad = dyn_cast<tensor::PadOp>(op);
  FloatAttr padding;
  return pad && pad.getConstantPaddingValue() &&
         matchPattern(pad.getConstantPaddingValue(), m_Constant(&padding)) &&
         !padding.getValue().isFinite();
}

/// Adds to `inside` the results of `chain`'s ops that only the chain reads:
/// the convolution or matmul before its bias, activation or constant
/// factor, its zero-padded input, regrouped operands and transposed
/// weights. The float kernel of the instrumented copy fuses the chain only
/// when nothing else reads them, and the dry run takes no range of theirs:
/// it quantizes the chain's input, weights and output. A chain whose
/// weights or bias are computed from constants stays float in the dry run
/// (its values are then quantized one by one), so it keeps every value.
static void addInsideValues(const ComputeChain &chain,
                            const DenseSet<Value> &dependent,
                            DenseSet<Value> &inside) {
  auto fromData = [&](Value value) {
    return !value || dependent.contains(value) ||
           matchPattern(value, m_Constant());
  };
  if (!fromData(chain.weight) || !fromData(chain.bias))
    return;
  llvm::SmallPtrSet<Operation *, 8> members = {chain.anchor};
  members.insert(chain.epilogue.begin(), chain.epilogue.end());
  members.insert(chain.regrouping.begin(), chain.regrouping.end());
  if (chain.transposeRhs)
    members.insert(chain.weightOperand->getOwner());
  for (Operation *op : SmallVector<Operation *>(members.begin(), members.end()))
    for (Value operand : op->getOperands())
      if (auto pad = operand.getDefiningOp<tensor::PadOp>();
          pad && pad.getSource() == chain.input)
        members.insert(pad);
  for (Operation *op : members)
    for (Value result : op->getResults())
      if (result != chain.output &&
          llvm::all_of(result.getUsers(),
                       [&](Operation *user) { return members.contains(user); }))
        inside.insert(result);
}

LogicalResult Calibrator::collectObserved() {
  const cal::ObserverOptions &defaults = settings.observer;
  if (!func.getBody().hasOneBlock())
    return emitError() << "calibration needs a function with a single block";
  // The values whose channels the dry run may scale apart (FQ-ViT's
  // power-of-two factors), seen through earlier annotations.
  DenseSet<Value> normInputs;
  if (settings.perChannelNormInputs)
    func.walk([&](Operation *op) {
      if (std::optional<LayerNormChain> norm = matchLayerNorm(op)) {
        Value input = norm->input;
        while (auto stats = input.getDefiningOp<StatsOp>())
          input = stats.getInput();
        normInputs.insert(input);
      }
    });
  auto add = [&](Value value, cal::Method method, bool isArgument,
                 unsigned index) {
    auto type = dyn_cast<RankedTensorType>(value.getType());
    std::optional<ElementKind> element =
        type ? getElementKind(type.getElementType()) : std::nullopt;
    // Other element types have no place in the C interface (or no range);
    // they stay without statistics.
    if (!element ||
        (*element != ElementKind::F32 && *element != ElementKind::F64))
      return;
    cal::ObserverOptions options = defaults;
    options.method = method;
    observed.push_back({value,
                        cal::TensorObserver(options),
                        *element,
                        index,
                        isArgument,
                        /*channels=*/0,
                        {},
                        {}});
    Observed &o = observed.back();
    if (normInputs.contains(value) && type.getRank() > 0 &&
        !type.isDynamicDim(type.getRank() - 1)) {
      o.channels = type.getShape().back();
      o.channelMin.assign(o.channels, std::numeric_limits<double>::infinity());
      o.channelMax.assign(o.channels, -std::numeric_limits<double>::infinity());
    }
  };

  // Values that depend on the data; the others (weights, their transposes,
  // broadcast biases) have a range the dry run reads from the constants.
  DenseSet<Value> dependent(func.getArguments().begin(),
                            func.getArguments().end());
  for (Operation &op : func.getBody().front()) {
    WalkResult walk = op.walk([&](Operation *nested) {
      return llvm::any_of(
                 nested->getOperands(),
                 [&](Value operand) { return dependent.contains(operand); })
                 ? WalkResult::interrupt()
                 : WalkResult::advance();
    });
    if (walk.wasInterrupted())
      dependent.insert(op.result_begin(), op.result_end());
  }
  DenseSet<Value> inside;
  if (!settings.observeInsideLayers)
    for (Operation &op : func.getBody().front())
      if (std::optional<ComputeChain> chain = matchComputeChain(&op))
        addInsideValues(*chain, dependent, inside);
  for (BlockArgument argument : func.getArguments()) {
    FailureOr<cal::Method> method = parseMethodAttr(
        func, func.getArgAttr(argument.getArgNumber(), kMethodAttrName),
        defaults.method);
    if (failed(method))
      return failure();
    add(argument, *method, /*isArgument=*/true, argument.getArgNumber());
  }
  unsigned resultIndex = 0;
  for (Operation &op : func.getBody().front()) {
    if (op.getNumResults() == 0 || !dependent.contains(op.getResult(0)))
      continue;
    // Annotations are transparent: their input is observed at its producer.
    if (isa<StatsOp>(op) || op.hasTrait<OpTrait::ConstantLike>() ||
        isa<tensor::EmptyOp, linalg::FillOp>(op) || isPaddedWithNonFinite(op))
      continue;
    FailureOr<cal::Method> method =
        parseMethodAttr(&op, op.getAttr(kMethodAttrName), defaults.method);
    if (failed(method))
      return failure();
    for (Value result : op.getResults()) {
      if (inside.contains(result)) {
        insideLayers.push_back(result);
        continue;
      }
      size_t before = observed.size();
      add(result, *method, /*isArgument=*/false, resultIndex);
      resultIndex += observed.size() - before;
    }
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Data
//===----------------------------------------------------------------------===//

LogicalResult Calibrator::loadData() {
  StringRef path = settings.data;
  unsigned numArguments = func.getNumArguments();
  if (numArguments == 0)
    return emitError() << "@" << func.getSymName()
                       << " takes no arguments: there is nothing to feed the "
                          "calibration data to";
  arguments.resize(numArguments);

  if (path.ends_with(".npz")) {
    llvm::Expected<std::vector<NamedNpyArray>> members = readNpz(path);
    if (!members)
      return emitError() << "calibration data: "
                         << llvm::toString(members.takeError());
    std::string available;
    for (const NamedNpyArray &member : *members)
      available += (available.empty() ? "" : ", ") + member.name;
    SmallVector<NamedNpyArray *> chosen(numArguments, nullptr);
    bool anyByName = false;
    for (unsigned index = 0; index < numArguments; ++index) {
      for (std::string name :
           {getArgumentName(func, index), "arr_" + std::to_string(index)}) {
        auto it = llvm::find_if(*members, [&](const NamedNpyArray &member) {
          return member.name == name;
        });
        if (it != members->end()) {
          chosen[index] = &*it;
          anyByName = true;
          break;
        }
      }
    }
    // Without any name in common, the archive's order decides.
    if (!anyByName && members->size() == numArguments)
      for (unsigned index = 0; index < numArguments; ++index)
        chosen[index] = &(*members)[index];
    for (unsigned index = 0; index < numArguments; ++index) {
      if (!chosen[index])
        return emitError() << "calibration data '" << path
                           << "' has no array for " << describeArgument(index)
                           << " (it holds: "
                           << (available.empty() ? "nothing" : available)
                           << ")";
      if (llvm::is_contained(ArrayRef(chosen).take_front(index), chosen[index]))
        return emitError() << "calibration data '" << path << "': array '"
                           << chosen[index]->name << "' matches two "
                           << "arguments; name the arrays after them";
      arguments[index].array = std::move(chosen[index]->array);
      arguments[index].where = (path + ":" + chosen[index]->name).str();
    }
  } else {
    if (numArguments != 1)
      return emitError() << "calibration data '" << path
                         << "' is a .npy file, which holds one array, but @"
                         << func.getSymName() << " takes " << numArguments
                         << " arguments; use a .npz file with one array per "
                            "argument";
    llvm::Expected<NpyFile> file = NpyFile::open(path);
    if (!file)
      return emitError() << "calibration data: "
                         << llvm::toString(file.takeError());
    arguments[0].array = file->getHeader();
    arguments[0].file.emplace(std::move(*file));
    arguments[0].where = path.str();
  }

  for (unsigned index = 0; index < numArguments; ++index)
    if (failed(checkArgument(index, arguments[index])))
      return failure();
  samples = arguments[0].array.shape[0];
  for (unsigned index = 1; index < numArguments; ++index)
    if (arguments[index].array.shape[0] != samples)
      return emitError() << "calibration data: " << arguments[0].where
                         << " has " << samples << " samples but "
                         << arguments[index].where << " has "
                         << arguments[index].array.shape[0];
  if (samples == 0)
    return emitError() << "calibration data '" << path << "' holds no samples";
  if (settings.samples > 0)
    samples = std::min<int64_t>(samples, settings.samples);
  return checkBatch();
}

LogicalResult Calibrator::checkArgument(unsigned index, ArgumentData &data) {
  Type type = func.getArgument(index).getType();
  auto tensor = dyn_cast<RankedTensorType>(type);
  std::optional<ElementKind> element =
      tensor ? getElementKind(tensor.getElementType()) : std::nullopt;
  if (!tensor || tensor.getRank() == 0 || !element)
    return emitError() << describeArgument(index) << " has type " << type
                       << "; calibration feeds ranked tensors of f32, f64, "
                          "i8, i32 or i64 whose first dimension is the batch";
  const NpyArray &array = data.array;
  if (!array.element || *array.element != *element)
    return emitError() << "calibration data for " << describeArgument(index)
                       << ": expected dtype '" << getNpyDescr(*element)
                       << "' (the argument is " << type << "), but "
                       << data.where << " holds dtype '" << array.descr << "'";
  if (array.fortranOrder)
    return emitError() << "calibration data for " << describeArgument(index)
                       << ": " << data.where
                       << " is in Fortran order; save a C-order array";
  ArrayRef<int64_t> sampleShape = tensor.getShape().drop_front();
  bool matches = array.shape.size() == static_cast<size_t>(tensor.getRank());
  for (size_t dim = 1; matches && dim < array.shape.size(); ++dim)
    matches = ShapedType::isDynamic(tensor.getDimSize(dim)) ||
              array.shape[dim] == tensor.getDimSize(dim);
  if (!matches) {
    return emitError() << "calibration data for " << describeArgument(index)
                       << ": expected samples of shape "
                       << formatShape(sampleShape) << " (the argument is "
                       << type << ", whose first dimension is the batch), but "
                       << data.where << " holds shape "
                       << formatShape(array.shape);
  }
  data.sampleElements = 1;
  for (int64_t size : ArrayRef<int64_t>(array.shape).drop_front())
    data.sampleElements *= size;
  data.sampleBytes = data.sampleElements * getElementKindSize(*element);
  return success();
}

LogicalResult Calibrator::checkBatch() {
  auto batchOf = [&](unsigned index) {
    return cast<RankedTensorType>(func.getArgument(index).getType())
        .getDimSize(0);
  };
  int64_t first = batchOf(0);
  for (unsigned index = 1; index < func.getNumArguments(); ++index)
    if (batchOf(index) != first)
      return emitError() << "the arguments of @" << func.getSymName()
                         << " disagree on the batch size (their first "
                            "dimension): "
                         << func.getArgument(0).getType() << " and "
                         << func.getArgument(index).getType();
  fixedBatch = !ShapedType::isDynamic(first);
  batch = fixedBatch ? first : settings.batchSize;
  if (batch <= 0)
    return emitError() << "@" << func.getSymName()
                       << " has a batch dimension of size 0";
  return success();
}

//===----------------------------------------------------------------------===//
// The instrumented copy
//===----------------------------------------------------------------------===//

namespace {
/// Feeds what is written to it into a hash.
class HashStream : public llvm::raw_ostream {
public:
  explicit HashStream(llvm::BLAKE3 &hasher) : hasher(hasher) {}
  ~HashStream() override { flush(); }

private:
  void write_impl(const char *data, size_t size) override {
    hasher.update(StringRef(data, size));
    position += size;
  }
  uint64_t current_pos() const override { return position; }

  llvm::BLAKE3 &hasher;
  uint64_t position = 0;
};
} // namespace

/// Writes what determines the object compiled from the instrumented copy
/// `copy`: the copy itself (its constants by their bytes: printing a
/// ResNet's weights takes longer than hashing them), the options, this CPU
/// (target=host), and this compiler (its executable's size and time, so a
/// rebuilt tool never loads an older tool's object).
static void writeCacheKey(llvm::raw_ostream &os, ModuleOp copy,
                          const LowerToLLVMOptions &lowering,
                          const JitOptions &options) {
  copy->print(
      os,
      OpPrintingFlags().elideLargeElementsAttrs(16).elideLargeResourceString(
          16));
  copy->walk([&](Operation *op) {
    op->getAttrDictionary().walk([&](ElementsAttr attr) {
      // Each with its length, so that no two contents hash alike.
      auto writeBytes = [&](ArrayRef<char> bytes) {
        os << bytes.size() << ":";
        os.write(bytes.data(), bytes.size());
      };
      if (auto dense = dyn_cast<DenseIntOrFPElementsAttr>(attr)) {
        writeBytes(dense.getRawData());
      } else if (auto strings = dyn_cast<DenseStringElementsAttr>(attr)) {
        for (StringRef string : strings.getRawStringData())
          writeBytes(ArrayRef<char>(string.data(), string.size()));
      } else if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
        if (AsmResourceBlob *blob = resource.getRawHandle().getBlob())
          writeBytes(blob->getData());
      } else {
        attr.print(os);
      }
    });
  });
  os << "\nlowering:";
  lowering.print(os);
  os << "\nopt:" << options.optLevel << "\ncpu:" << llvm::sys::getHostCPUName()
     << "\nfeatures:";
  SmallVector<std::string> features;
  for (const auto &feature : llvm::sys::getHostCPUFeatures())
    if (feature.second)
      features.push_back(feature.first().str());
  llvm::sort(features);
  os << llvm::join(features, ",") << "\nllvm:" << LLVM_VERSION_STRING;
  // Any function of this binary locates it.
  std::string tool = llvm::sys::fs::getMainExecutable(
      nullptr, reinterpret_cast<void *>(&writeCacheKey));
  llvm::sys::fs::file_status status;
  if (!llvm::sys::fs::status(tool, status))
    os << "\ntool:" << tool << ":" << status.getSize() << ":"
       << status.getLastModificationTime().time_since_epoch().count();
}

/// The file name, without extension, of the compiled copy in the cache.
static std::string getCacheKey(ModuleOp copy,
                               const LowerToLLVMOptions &lowering,
                               const JitOptions &options) {
  llvm::BLAKE3 hasher;
  {
    HashStream os(hasher);
    writeCacheKey(os, copy, lowering, options);
  }
  return llvm::toHex(hasher.final(), /*LowerCase=*/true);
}

/// Keeps `object` at `path`: written to a temporary file renamed into place,
/// so a concurrent run never reads half an object.
static llvm::Error writeCacheEntry(StringRef path,
                                   const llvm::MemoryBuffer &object) {
  auto fail = [](std::error_code error, const Twine &what) {
    return llvm::createStringError(error, what + ": " + error.message());
  };
  if (std::error_code error =
          llvm::sys::fs::create_directories(llvm::sys::path::parent_path(path)))
    return fail(error, "cannot create the directory of '" + path + "'");
  llvm::Expected<llvm::sys::fs::TempFile> temporary =
      llvm::sys::fs::TempFile::create(path + ".%%%%%%.tmp");
  if (!temporary)
    return llvm::createStringError("cannot write to '" + path + "': " +
                                   llvm::toString(temporary.takeError()));
  std::error_code error;
  {
    llvm::raw_fd_ostream os(temporary->FD, /*shouldClose=*/false);
    os << object.getBuffer();
    os.flush();
    error = os.error();
    os.clear_error();
  }
  if (error) {
    llvm::consumeError(temporary->discard());
    return fail(error, "cannot write '" + temporary->TmpName + "'");
  }
  if (llvm::Error kept = temporary->keep(path))
    return llvm::createStringError("cannot write '" + path +
                                   "': " + llvm::toString(std::move(kept)));
  return llvm::Error::success();
}

/// Whether `name` is a cache entry's: the hex BLAKE3 key and ".o" (other
/// files in the directory are not the cache's to remove).
static bool isCacheEntryName(StringRef name) {
  return name.consume_back(".o") && name.size() == 2 * LLVM_BLAKE3_OUT_LEN &&
         llvm::all_of(name, llvm::isHexDigit);
}

/// Marks the entry at `path` used now, the last one eviction removes;
/// false if it cannot (a read-only cache shared by several users: the entry
/// then only ages).
static bool touchCacheEntry(StringRef path) {
  int fd = -1;
  if (llvm::sys::fs::openFileForRead(path, fd))
    return false;
  std::error_code touched = llvm::sys::fs::setLastAccessAndModificationTime(
      fd, std::chrono::system_clock::now());
  std::error_code closed = llvm::sys::Process::SafelyCloseFileDescriptor(fd);
  return !touched && !closed;
}

/// Removes the least recently used entries of the cache `dir` (by
/// modification time, which a hit renews) until they take at most
/// `maxBytes`; `kept`, the entry this run uses, stays even if it alone is
/// larger. Returns the number of entries removed. A file that cannot be
/// read or removed (another run's, removed meanwhile) is skipped.
static unsigned evictCacheEntries(StringRef dir, StringRef kept,
                                  uint64_t maxBytes) {
  struct Entry {
    std::string path;
    llvm::sys::TimePoint<> time;
    uint64_t size;
  };
  std::vector<Entry> entries;
  uint64_t total = 0;
  std::error_code error;
  for (llvm::sys::fs::directory_iterator it(dir, error), end;
       !error && it != end; it.increment(error)) {
    llvm::sys::fs::file_status status;
    if (!isCacheEntryName(llvm::sys::path::filename(it->path())) ||
        llvm::sys::fs::status(it->path(), status) ||
        status.type() != llvm::sys::fs::file_type::regular_file)
      continue;
    entries.push_back(
        {it->path(), status.getLastModificationTime(), status.getSize()});
    total += status.getSize();
  }
  llvm::sort(entries, [](const Entry &a, const Entry &b) {
    return a.time != b.time ? a.time < b.time : a.path < b.path;
  });
  unsigned removed = 0;
  for (const Entry &entry : entries) {
    if (total <= maxBytes)
      break;
    if (llvm::sys::path::filename(entry.path) == kept ||
        llvm::sys::fs::remove(entry.path))
      continue;
    total -= entry.size;
    ++removed;
  }
  return removed;
}

FailureOr<std::unique_ptr<JitFunction>> Calibrator::compileInstrumented() {
  MLIRContext *ctx = module.getContext();
  IRMapping mapping;
  OwningOpRef<ModuleOp> copy(cast<ModuleOp>(module->clone(mapping)));
  auto instrumented = copy->lookupSymbol<func::FuncOp>(func.getSymName());

  // Only the calibrated function needs a C interface; symbol-dce drops the
  // other functions unless it calls them.
  for (auto other : copy->getOps<func::FuncOp>())
    if (other != instrumented && other.isPublic())
      other.setPrivate();
  copy->walk([](StatsOp op) {
    op.getResult().replaceAllUsesWith(op.getInput());
    op.erase();
  });
  SmallVector<Value> returned;
  for (const Observed &o : observed)
    if (!o.isArgument)
      returned.push_back(mapping.lookup(o.value));
  Operation *terminator = instrumented.getBody().front().getTerminator();
  OpBuilder builder(terminator);
  func::ReturnOp::create(builder, terminator->getLoc(), returned);
  terminator->erase();
  instrumented.setFunctionType(FunctionType::get(
      ctx, instrumented.getArgumentTypes(), ValueRange(returned).getTypes()));
  instrumented.removeResAttrsAttr();

  PassManager cleanup(ctx, ModuleOp::getOperationName());
  cleanup.addPass(createSymbolDCEPass());
  if (failed(cleanup.run(*copy)))
    return emitError() << "cannot compile the instrumented copy of @"
                       << func.getSymName() << " for calibration";
  JitOptions options;
  // The lowering deallocates: every result is ours to free.
  options.ownsResults = true;
  LowerToLLVMOptions lowering;
  std::string cachePath;
  if (!settings.cacheDir.empty()) {
    Clock::time_point start = Clock::now();
    llvm::SmallString<128> path(settings.cacheDir);
    llvm::sys::path::append(path, getCacheKey(*copy, lowering, options) + ".o");
    cachePath = path.str().str();
    std::unique_ptr<JitFunction> cached =
        loadCached(cachePath, instrumented.getFunctionType(), options);
    times.jit = secondsSince(start);
    if (cached) {
      times.compiled = "from the cache";
      (void)touchCacheEntry(cachePath);
      return std::move(cached);
    }
  }

  Clock::time_point start = Clock::now();
  if (failed(lowerToLLVM(*copy, lowering)))
    return emitError() << "cannot compile the instrumented copy of @"
                       << func.getSymName() << " for calibration";
  times.lower = secondsSince(start);
  start = Clock::now();
  llvm::Expected<EntryPoint> entry = getEntryPoint(*copy, func.getSymName());
  if (!entry)
    return emitError() << llvm::toString(entry.takeError());
  llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>> object =
      compileToObject(*copy, func.getSymName(), options.optLevel);
  if (!object)
    return emitError() << "cannot JIT-compile the instrumented copy of @"
                       << func.getSymName() << ": "
                       << llvm::toString(object.takeError());
  if (!cachePath.empty()) {
    if (llvm::Error error = writeCacheEntry(cachePath, **object))
      emitWarning(func.getLoc())
          << "calibration cannot keep the compiled copy: "
          << llvm::toString(std::move(error));
    else
      times.compiled = "compiled and cached";
    if (settings.cacheMaxMB > 0)
      times.evicted = evictCacheEntries(
          settings.cacheDir, llvm::sys::path::filename(cachePath),
          static_cast<uint64_t>(settings.cacheMaxMB) << 20);
  }
  llvm::Expected<std::unique_ptr<JitFunction>> function =
      JitFunction::load(std::move(*object), std::move(*entry), options);
  if (!function)
    return emitError() << "cannot JIT-compile the instrumented copy of @"
                       << func.getSymName() << ": "
                       << llvm::toString(function.takeError());
  times.jit += secondsSince(start);
  return std::move(*function);
}

std::unique_ptr<JitFunction> Calibrator::loadCached(StringRef path,
                                                    FunctionType signature,
                                                    const JitOptions &options) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!buffer)
    return nullptr;
  llvm::Expected<EntryPoint> entry =
      getEntryPoint(func.getSymName(), signature);
  llvm::Expected<std::unique_ptr<JitFunction>> function =
      entry ? JitFunction::load(std::move(*buffer), std::move(*entry), options)
            : entry.takeError();
  if (function)
    return std::move(*function);
  // A damaged entry costs a compile, not the calibration; the compile
  // replaces it.
  emitWarning(func.getLoc())
      << "calibration cannot load the cached copy '" << path << "' ("
      << llvm::toString(function.takeError()) << "); compiling it again";
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Running
//===----------------------------------------------------------------------===//

template <typename Fn>
static void dispatch(ElementKind element, const void *data, Fn &&fn) {
  if (element == ElementKind::F32)
    fn(static_cast<const float *>(data));
  else
    fn(static_cast<const double *>(data));
}

namespace {
/// The inputs of one call of the instrumented model and, once it ran, its
/// results.
struct Batch {
  int64_t count = 0;
  /// The samples read from a file and, with a static batch, the last
  /// partial batch, which wraps around to the first samples.
  SmallVector<std::vector<uint64_t>> owned;
  SmallVector<SmallVector<int64_t>> shapes;
  SmallVector<ArgumentBuffer> buffers;
  std::optional<llvm::Expected<CallResults>> results;
  double callSeconds = 0, callCpuSeconds = 0;
  uint64_t callFaults = 0;
};
} // namespace

FailureOr<std::unique_ptr<Batch>> Calibrator::prepareBatch(int64_t start) {
  auto batchData = std::make_unique<Batch>();
  Batch &b = *batchData;
  b.count = fixedBatch ? batch : std::min(batch, samples - start);
  b.owned.resize(arguments.size());
  for (auto [index, data] : llvm::enumerate(arguments)) {
    SmallVector<int64_t> &shape = b.shapes.emplace_back(data.array.shape);
    shape[0] = b.count;
    const char *base = static_cast<const char *>(data.array.data());
    if (!data.file && start + b.count <= samples) {
      b.buffers.push_back({base + start * data.sampleBytes, {}});
      continue;
    }
    std::vector<uint64_t> &buffer = b.owned[index];
    buffer.resize(llvm::divideCeil(b.count * data.sampleBytes, 8));
    char *out = reinterpret_cast<char *>(buffer.data());
    // Samples start, start + 1, ... modulo `samples`, in contiguous runs.
    for (int64_t done = 0; done < b.count;) {
      int64_t first = (start + done) % samples;
      int64_t run = std::min(b.count - done, samples - first);
      char *to = out + done * data.sampleBytes;
      if (!data.file)
        std::memcpy(to, base + first * data.sampleBytes,
                    run * data.sampleBytes);
      else if (llvm::Error error = data.file->readRows(first, run, to))
        return emitError() << "calibration data: "
                           << llvm::toString(std::move(error));
      done += run;
    }
    b.buffers.push_back({out, {}});
  }
  // The shapes no longer move.
  for (auto [buffer, shape] : llvm::zip(b.buffers, b.shapes))
    buffer.shape = shape;
  return batchData;
}

LogicalResult Calibrator::observeBatch(Batch &b, bool histograms) {
  llvm::Expected<CallResults> &callResults = *b.results;
  if (!callResults)
    return emitError() << llvm::toString(callResults.takeError());
  for (Observed &o : observed) {
    if (histograms && !o.observer.needsHistogram())
      continue;
    const void *data;
    size_t elements;
    std::optional<ResultArray> copy;
    if (o.isArgument) {
      data = b.buffers[o.index].data;
      elements = b.count * arguments[o.index].sampleElements;
    } else {
      llvm::Expected<ResultView> view = callResults->getView(o.index);
      if (!view)
        return emitError() << llvm::toString(view.takeError());
      elements = view->getNumElements();
      data = view->getData();
      if (!view->isContiguous()) {
        llvm::Expected<ResultArray> array = callResults->copy(o.index);
        if (!array)
          return emitError() << llvm::toString(array.takeError());
        copy = std::move(*array);
        data = copy->data.data();
      }
    }
    dispatch(o.element, data, [&](auto *typed) {
      if (histograms) {
        o.observer.observeHistogram(typed, elements);
        return;
      }
      o.observer.observeRange(typed, elements);
      // The last dimension is the innermost of the row-major data.
      for (size_t i = 0; o.channels > 0 && i < elements; ++i) {
        double x = typed[i];
        if (!std::isfinite(x))
          continue;
        size_t channel = i % o.channels;
        o.channelMin[channel] = std::min(o.channelMin[channel], x);
        o.channelMax[channel] = std::max(o.channelMax[channel], x);
      }
    });
  }
  return success();
}

LogicalResult Calibrator::observeAll(JitFunction &function, bool histograms,
                                     Progress &progress) {
  StringRef phase = histograms ? "histograms" : "ranges";
  // Up to `threads` calls run at once (the compiled model keeps no state
  // between calls); the batches are observed one at a time in data order,
  // so the statistics, the moving average included, are those of a
  // sequential run. Each batch in flight holds its results. One call at a
  // time runs on this thread: the calls' malloc arena is then the main one,
  // which keeps what they free (keepFreedMemory). A pool thread's arena
  // unmaps each of its 64 MB heaps as soon as it is free, whatever the
  // trim threshold, and every call page-faulted its results and
  // temporaries in again: ResNet-50 at batch 16 returns 1.4 GB a call.
  std::optional<llvm::StdThreadPool> pool;
  if (settings.threads > 1)
    pool.emplace(llvm::hardware_concurrency(settings.threads));
  std::deque<std::pair<std::unique_ptr<Batch>, std::shared_future<void>>>
      inFlight;
  LogicalResult status = success();
  auto finishFront = [&]() {
    auto [b, done] = std::move(inFlight.front());
    inFlight.pop_front();
    if (done.valid())
      done.wait();
    if (succeeded(status)) {
      times.calls += b->callSeconds;
      times.callsCpu += b->callCpuSeconds;
      times.callFaults += b->callFaults;
      if (!times.sawFirstCall) {
        times.sawFirstCall = true;
        times.firstCallCpu = b->callCpuSeconds;
        times.firstCallFaults = b->callFaults;
      }
      Clock::time_point start = Clock::now();
      status = observeBatch(*b, histograms);
      times.observe += secondsSince(start);
      progress.update(std::min(b->count + observedSamples, samples), phase);
      observedSamples += b->count;
    }
    // After a failure the remaining results are dropped unread.
    if (b->results && !*b->results)
      llvm::consumeError(b->results->takeError());
  };
  observedSamples = 0;
  for (int64_t start = 0; start < samples && succeeded(status);
       start += batch) {
    if (static_cast<int64_t>(inFlight.size()) >= settings.threads)
      finishFront();
    FailureOr<std::unique_ptr<Batch>> prepared = prepareBatch(start);
    if (failed(prepared)) {
      status = failure();
      break;
    }
    std::unique_ptr<Batch> b = std::move(*prepared);
    Batch *raw = b.get();
    auto call = [raw, &function] {
      Clock::time_point start = Clock::now();
      double cpu = threadCpuSeconds();
      uint64_t faults = threadPageFaults();
      raw->results.emplace(function.call(raw->buffers));
      raw->callSeconds = secondsSince(start);
      raw->callCpuSeconds = threadCpuSeconds() - cpu;
      raw->callFaults = threadPageFaults() - faults;
    };
    std::shared_future<void> done;
    if (pool)
      done = pool->async(call);
    else
      call();
    inFlight.emplace_back(std::move(b), std::move(done));
  }
  while (!inFlight.empty())
    finishFront();
  return status;
}

void Calibrator::reportNonFinite() {
  for (const Observed &o : observed) {
    if (!o.observer.getFiniteCount()) {
      emitWarning(o.value.getLoc())
          << "calibration saw no finite value here ("
          << o.observer.getNonFiniteCount()
          << " NaN or infinite); it gets no statistics";
      continue;
    }
    if (uint64_t count = o.observer.getNonFiniteCount())
      emitWarning(o.value.getLoc())
          << "calibration saw " << count << " NaN or infinite value"
          << (count == 1 ? "" : "s")
          << " here; they are left out of the statistics";
  }
}

/// The per-channel statistics of a layer normalization input (along its
/// last dimension); a channel without a finite value gets the empty range
/// [0, 0].
static ValueStats getChannelStats(const Observed &o) {
  ValueStats s;
  s.axis = cast<ShapedType>(o.value.getType()).getRank() - 1;
  for (auto [low, high] : llvm::zip(o.channelMin, o.channelMax)) {
    bool seen = low <= high;
    s.min.push_back(seen ? low : 0.0);
    s.max.push_back(seen ? high : 0.0);
  }
  return s;
}

LogicalResult Calibrator::annotate() {
  SmallVector<Value> values;
  SmallVector<ValueStats> stats;
  StatsFile file;
  file.function = func.getSymName().str();
  FailureOr<ValueNames> names;
  if (!settings.statsOut.empty()) {
    names = ValueNames::build(func);
    if (failed(names))
      return failure();
  }
  for (auto [o, result] : llvm::zip(observed, results)) {
    if (!result)
      continue;
    ValueStats &s = stats.emplace_back();
    s.min.push_back(result->min);
    s.max.push_back(result->max);
    s.histogram.assign(result->histogram.begin(), result->histogram.end());
    values.push_back(o.value);
    if (settings.statsOut.empty())
      continue;
    StatsEntry &entry = file.entries.emplace_back();
    entry.name = names->getName(o.value).str();
    entry.shape = getStatsShape(cast<ShapedType>(o.value.getType()));
    entry.stats = s;
    entry.method = cal::getMethodName(o.observer.getMethod());
    entry.nonFinite = o.observer.getNonFiniteCount();
    if (o.channels != 0)
      entry.channels = getChannelStats(o);
  }
  if (!settings.statsOut.empty())
    for (Value value : insideLayers)
      file.insideLayers.push_back(names->getName(value).str());
  if (failed(annotateWithStats(values, stats)))
    return failure();
  SmallVector<Value> channelValues;
  SmallVector<ValueStats> channelStats;
  for (auto [o, result] : llvm::zip(observed, results)) {
    if (!result || o.channels == 0)
      continue;
    channelStats.push_back(getChannelStats(o));
    channelValues.push_back(o.value);
  }
  if (failed(annotateWithChannelStats(channelValues, channelStats)))
    return failure();
  if (!settings.statsOut.empty())
    if (llvm::Error error = writeStatsFile(settings.statsOut, file))
      return emitError() << llvm::toString(std::move(error));
  return success();
}

/// Every call of the instrumented model mallocs and frees its temporaries
/// and results; by default glibc hands large freed blocks back to the
/// system and the next call page-faults them in again, which took about a
/// third of the calibration time. Keeping them in the process for the rest
/// of its life costs at most the peak memory of the calls. Never trimming
/// (-1), not merely above a threshold: ResNet-50's results alone take
/// 1.4 GB a call at batch 16, and a 1 GB threshold gave them back.
static void keepFreedMemory() {
#ifdef __GLIBC__
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, -1);
#endif
}

LogicalResult Calibrator::run() {
  Clock::time_point start = Clock::now();
  if (failed(collectObserved()) || failed(loadData()))
    return failure();
  FailureOr<std::unique_ptr<JitFunction>> function = compileInstrumented();
  if (failed(function))
    return failure();
  keepFreedMemory();

  bool needHistograms = false;
  {
    Progress progress(!settings.quiet && llvm::errs().is_displayed(), samples);
    if (failed(observeAll(**function, /*histograms=*/false, progress)))
      return failure();
  }
  reportNonFinite();
  for (Observed &o : observed) {
    if (!o.observer.needsHistogram())
      continue;
    o.observer.startHistogram();
    needHistograms = true;
  }
  if (needHistograms) {
    Progress progress(!settings.quiet && llvm::errs().is_displayed(), samples);
    if (failed(observeAll(**function, /*histograms=*/true, progress)))
      return failure();
  }
  for (const Observed &o : observed)
    results.push_back(o.observer.finish());
  if (settings.timing) {
    llvm::errs() << llvm::format(
        "myquant-calibrate timing: lowering %.2f s, JIT compile %.2f s, "
        "calls %.2f s (CPU %.2f s, first call CPU %.2f s; page faults: first "
        "call %llu, later calls %llu), observers %.2f s, total %.2f s (copy "
        "%s",
        times.lower, times.jit, times.calls, times.callsCpu, times.firstCallCpu,
        static_cast<unsigned long long>(times.firstCallFaults),
        static_cast<unsigned long long>(times.callFaults -
                                        times.firstCallFaults),
        times.observe, secondsSince(start), times.compiled.str().c_str());
    if (times.evicted)
      llvm::errs() << "; " << times.evicted << " older cache entries removed";
    llvm::errs() << ")\n";
  }
  return annotate();
}

LogicalResult
myquant::checkCalibrationOptions(const CalibrationOptionValues &values,
                                 StringRef prefix,
                                 function_ref<void(const Twine &)> report) {
  if (!cal::parseMethod(values.method.str())) {
    report("unknown calibration method '" + values.method + "' (expected " +
           cal::getMethodNames() + ")");
    return failure();
  }
  if (!(values.percentile > 50.0 && values.percentile <= 100.0)) {
    report(prefix + "percentile must be in (50, 100], got " +
           formatNumber(values.percentile));
    return failure();
  }
  if (!(values.averagingConstant > 0.0 && values.averagingConstant <= 1.0)) {
    report(prefix + "averaging-constant must be in (0, 1], got " +
           formatNumber(values.averagingConstant));
    return failure();
  }
  if (values.batchSize <= 0) {
    report(prefix + "batch-size must be positive, got " +
           Twine(values.batchSize));
    return failure();
  }
  if (values.threads <= 0) {
    report(prefix + "threads must be positive, got " + Twine(values.threads));
    return failure();
  }
  if (values.samples < 0) {
    report(prefix + "samples must be non-negative, got " +
           Twine(values.samples));
    return failure();
  }
  return success();
}

void CalibratePass::runOnOperation() {
  ModuleOp module = getOperation();
  if (failed(checkCalibrationOptions(
          {method.getValue(), percentile, averagingConstant, batchSize, samples,
           threads},
          "", [&](const Twine &message) { module.emitError(message); })))
    return signalPassFailure();
  if (cacheMaxMb < 0) {
    module.emitError() << "cache-max-mb must be non-negative, got "
                       << static_cast<int64_t>(cacheMaxMb);
    return signalPassFailure();
  }
  if (data.empty()) {
    module.emitError() << "myquant-calibrate needs calibration data: set the "
                          "'data' option to a .npy or .npz file";
    return signalPassFailure();
  }
  Settings settings{data,
                    samples,
                    batchSize,
                    threads,
                    statsOut,
                    cacheDir,
                    cacheMaxMb,
                    quiet,
                    timing,
                    perChannelNormInputs,
                    observeInsideLayers,
                    {}};
  settings.observer.method = *cal::parseMethod(method.getValue());
  settings.observer.percentile = percentile;
  settings.observer.averagingConstant = averagingConstant;
  FailureOr<func::FuncOp> func = selectFunction(module, function);
  if (failed(func) || failed(Calibrator(module, *func, settings).run()))
    signalPassFailure();
}
