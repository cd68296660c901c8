//===- myquant-run.cpp - JIT-run one function on .npy inputs --------------===//
//
//   myquant-run model.mlir --function=NAME --input=a.npy [--input=b.npy ...]
//               [--output=out.npy ...] [--print]
//
// The module may be at any level myquant-lower-to-llvm accepts (myquant
// ops, linalg on tensors, or already lowered by it). It is lowered, JIT
// compiled with mlir::ExecutionEngine, and NAME is called through
// `_mlir_ciface_NAME` with one memref descriptor per .npy input; results come
// back through the leading out-pointer (see myquant/Execution/EntryPoint.h).
//
//===----------------------------------------------------------------------===//

#include "myquant/Conversion/MyQuantToVnni/Target.h"
#include "myquant/Execution/Driver.h"
#include "myquant/Execution/EntryPoint.h"
#include "myquant/Execution/Jit.h"
#include "myquant/Execution/Npy.h"
#include "myquant/Lowering/LowerToLLVM.h"

#include "mlir/IR/MLIRContext.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

using namespace mlir;
using namespace myquant;
namespace cl = llvm::cl;

static cl::OptionCategory runCategory("myquant-run options");

static cl::opt<std::string> inputFilename(cl::Positional,
                                          cl::desc("<input .mlir file>"),
                                          cl::init("-"), cl::cat(runCategory));
static cl::opt<std::string> functionName("function", cl::Required,
                                         cl::desc("Public function to call"),
                                         cl::value_desc("name"),
                                         cl::cat(runCategory));
static cl::list<std::string>
    inputFiles("input", cl::desc(".npy file for the next argument, in order"),
               cl::value_desc("file.npy"), cl::cat(runCategory));
static cl::list<std::string>
    outputFiles("output", cl::desc(".npy file for the next result, in order"),
                cl::value_desc("file.npy"), cl::cat(runCategory));
static cl::opt<bool>
    printResults("print",
                 cl::desc("Print the results (the default without --output)"),
                 cl::cat(runCategory));
static cl::opt<std::string>
    kernelTarget("target",
                 cl::desc("Kernels for int8 conv2d and matmul: generic, "
                          "avx512-vnni, avx512-vnni-256, avx-vnni or host"),
                 cl::init("host"), cl::cat(runCategory));
static cl::opt<unsigned> optLevel("opt-level",
                                  cl::desc("LLVM optimization level (0-3)"),
                                  cl::init(3), cl::cat(runCategory));
static cl::list<std::string>
    sharedLibs("shared-libs",
               cl::desc("Libraries with symbols the module calls (e.g. "
                        "libmlir_c_runner_utils.so)"),
               cl::CommaSeparated, cl::cat(runCategory));

static int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "myquant-run") << message << "\n";
  return 1;
}

static int fail(llvm::Error error) {
  std::string message = llvm::toString(std::move(error));
  return fail(message);
}

static std::string plural(size_t count, llvm::StringRef noun) {
  return std::to_string(count) + " " + noun.str() + (count == 1 ? "" : "s");
}

/// Checks one .npy file against the argument it is passed as.
static llvm::Error checkInput(const NpyArray &array, const BufferSpec &spec,
                              size_t index, llvm::StringRef path) {
  auto mismatch = [&](llvm::StringRef why) {
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "argument #" + llvm::Twine(index) + " of @" + functionName +
            " expects " + spec.typeName + " (dtype '" +
            getNpyDescr(spec.element) + "'), but " + path + " holds " +
            array.describe() + ": " + why);
  };
  if (!array.element || *array.element != spec.element)
    return mismatch("wrong dtype");
  if (array.fortranOrder)
    return mismatch("Fortran order is not supported, save a C-order array");
  if (array.shape.size() != spec.shape.size())
    return mismatch("wrong rank");
  for (auto [have, want] : llvm::zip(array.shape, spec.shape))
    if (!ShapedType::isDynamic(want) && have != want)
      return mismatch("wrong shape");
  return llvm::Error::success();
}

static void printElement(llvm::raw_ostream &os, ElementKind kind,
                         const char *data) {
  auto load = [&](auto value) {
    std::memcpy(&value, data, sizeof(value));
    return value;
  };
  switch (kind) {
  case ElementKind::F32:
    os << llvm::format("%g", static_cast<double>(load(float())));
    return;
  case ElementKind::F64:
    os << llvm::format("%g", load(double()));
    return;
  case ElementKind::I8:
    os << static_cast<int>(load(int8_t()));
    return;
  case ElementKind::I32:
    os << load(int32_t());
    return;
  case ElementKind::I64:
    os << load(int64_t());
    return;
  }
}

/// Prints like numpy with commas: one innermost row per line.
static void printArray(llvm::raw_ostream &os, const ResultArray &result,
                       size_t dim, int64_t &next) {
  ElementKind kind = result.spec->element;
  unsigned elementSize = getElementKindSize(kind);
  if (dim == result.shape.size()) {
    printElement(os, kind, result.data.data() + next++ * elementSize);
    return;
  }
  os << "[";
  for (int64_t i = 0; i < result.shape[dim]; ++i) {
    if (i) {
      if (dim + 1 == result.shape.size())
        os << ", ";
      else
        os << ",\n" << std::string(dim + 1, ' ');
    }
    printArray(os, result, dim + 1, next);
  }
  os << "]";
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  registerDriverCLOptions();
  cl::HideUnrelatedOptions(runCategory);
  cl::ParseCommandLineOptions(
      argc, argv,
      "myquant-run: lower a module, JIT it and call one function on .npy "
      "inputs\n");
  if (optLevel > 3)
    return fail("--opt-level must be between 0 and 3");

  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();

  // Refused before lowering, with the target's name; an unknown name is
  // reported by the lowering.
  FailureOr<std::optional<vnni::KernelTarget>> target =
      vnni::parseTarget(kernelTarget);
  if (succeeded(target) && *target) {
    llvm::SmallVector<llvm::StringRef> features((*target)->features.begin(),
                                                (*target)->features.end());
    if (llvm::Error error =
            checkHostCPUFeatures(features, "--target=" + kernelTarget))
      return fail(std::move(error));
  }

  DriverSession session;
  LowerToLLVMOptions lowerOptions;
  lowerOptions.target = kernelTarget;
  llvm::Expected<OwningOpRef<ModuleOp>> loaded =
      session.loadAndLower(inputFilename, functionName, lowerOptions);
  if (!loaded)
    return fail(loaded.takeError());
  OwningOpRef<ModuleOp> module = std::move(*loaded);
  llvm::Expected<EntryPoint> entry = getEntryPoint(*module, functionName);
  if (!entry)
    return fail(entry.takeError());

  if (inputFiles.size() != entry->inputs.size())
    return fail("@" + functionName + " takes " +
                plural(entry->inputs.size(), "argument") + " but " +
                plural(inputFiles.size(), "--input file") + " given");
  if (!outputFiles.empty() && outputFiles.size() != entry->results.size())
    return fail("@" + functionName + " returns " +
                plural(entry->results.size(), "result") + " but " +
                plural(outputFiles.size(), "--output file") + " given");

  // Created before the call, so that an unwritable one fails first; put in
  // place together at the end.
  OutputFiles outputs;
  llvm::SmallVector<OutputFiles::File *> outputStreams;
  for (const std::string &path : outputFiles) {
    llvm::Expected<OutputFiles::File *> file = outputs.add(path);
    if (!file)
      return fail(file.takeError());
    outputStreams.push_back(*file);
  }

  std::vector<NpyArray> arrays;
  for (auto [index, path] : llvm::enumerate(inputFiles)) {
    llvm::Expected<NpyArray> array = readNpy(path);
    if (!array)
      return fail(array.takeError());
    if (llvm::Error error =
            checkInput(*array, entry->inputs[index], index, path))
      return fail(std::move(error));
    arrays.push_back(std::move(*array));
  }
  llvm::SmallVector<ArgumentBuffer> arguments;
  for (NpyArray &array : arrays)
    arguments.push_back({array.data(), array.shape});

  JitOptions jitOptions;
  jitOptions.optLevel = optLevel;
  jitOptions.sharedLibPaths.assign(sharedLibs.begin(), sharedLibs.end());
  // Results are not freed: the process ends here, and a module lowered
  // elsewhere without buffer deallocation could return aliases of inputs or
  // constants.
  jitOptions.ownsResults = false;
  auto function = JitFunction::create(*module, *entry, jitOptions);
  if (!function)
    return fail(function.takeError());
  llvm::Expected<CallResults> results = (*function)->call(arguments);
  if (!results)
    return fail(results.takeError());

  for (auto [index, spec] : llvm::enumerate(entry->results)) {
    llvm::Expected<ResultArray> result = results->copy(index);
    if (!result)
      return fail(result.takeError());
    if (!outputFiles.empty())
      writeNpy(*outputStreams[index]->os, spec.element, result->shape,
               result->data.data());
    if (printResults || outputFiles.empty()) {
      // The actual shape, which dynamic dimensions leave out of the type.
      llvm::outs() << "result[" << index << "]: tensor<";
      for (int64_t size : result->shape)
        llvm::outs() << size << "x";
      llvm::outs() << getElementKindName(spec.element) << ">\n";
      int64_t next = 0;
      printArray(llvm::outs(), *result, 0, next);
      llvm::outs() << "\n";
    }
  }
  if (llvm::Error error = outputs.commit())
    return fail(std::move(error));
  return 0;
}
