//===- Jit.cpp - JIT-compile a lowered module and call a function ---------===//

#include "myquant/Execution/Jit.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/DynamicLibrary.h"
#include "llvm/Support/SmallVectorMemoryBuffer.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"

#include <cstdlib>
#include <cstring>

using namespace mlir;

namespace myquant {

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

MemRefDescriptor makeDescriptor(const void *data,
                                llvm::ArrayRef<int64_t> shape) {
  MemRefDescriptor words;
  // The callee never writes arguments (entry points mark them read-only).
  auto pointer = reinterpret_cast<intptr_t>(data);
  words.push_back(pointer);
  words.push_back(pointer);
  words.push_back(0);
  words.append(shape.begin(), shape.end());
  llvm::SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t dim = static_cast<int64_t>(shape.size()) - 2; dim >= 0; --dim)
    strides[dim] = strides[dim + 1] * shape[dim + 1];
  words.append(strides.begin(), strides.end());
  return words;
}

int64_t ResultView::getNumElements() const {
  int64_t count = 1;
  for (int64_t size : sizes)
    count *= size;
  return count;
}

bool ResultView::isContiguous() const {
  int64_t expected = 1;
  for (int64_t dim = static_cast<int64_t>(sizes.size()) - 1; dim >= 0; --dim) {
    // The stride of a dimension of size 1 is never used.
    if (sizes[dim] != 1 && strides[dim] != expected)
      return false;
    expected *= sizes[dim];
  }
  return true;
}

//===----------------------------------------------------------------------===//
// CallResults
//===----------------------------------------------------------------------===//

CallResults::CallResults(llvm::ArrayRef<BufferSpec> specs, bool owned)
    : specs(specs), owned(owned) {
  size_t words = 0;
  for (const BufferSpec &spec : specs) {
    offsets.push_back(words);
    words += spec.getDescriptorWords();
  }
  block.assign(words, 0);
}

CallResults::CallResults(CallResults &&other) noexcept
    : specs(other.specs), block(std::move(other.block)),
      offsets(std::move(other.offsets)), owned(other.owned) {
  other.owned = false;
}

CallResults::~CallResults() {
  if (!owned)
    return;
  // The JIT-compiled code allocates with the process's malloc. Free each
  // allocation once, in case two results share one.
  llvm::DenseSet<int64_t> freed;
  for (size_t offset : offsets) {
    int64_t allocated = block[offset];
    if (allocated && freed.insert(allocated).second) {
      // The descriptor holds the pointer as an int64 word.
      // NOLINTNEXTLINE(performance-no-int-to-ptr)
      std::free(reinterpret_cast<void *>(allocated));
    }
  }
}

llvm::Expected<ResultView> CallResults::getView(size_t index) const {
  const BufferSpec &spec = specs[index];
  const int64_t *words = block.data() + offsets[index];
  int64_t rank = spec.getRank();
  // Word 1 of the descriptor is the aligned pointer, stored as an int64.
  // NOLINTNEXTLINE(performance-no-int-to-ptr)
  ResultView view{&spec, reinterpret_cast<const char *>(words[1]), words[2],
                  llvm::ArrayRef<int64_t>(words + 3, rank),
                  llvm::ArrayRef<int64_t>(words + 3 + rank, rank)};
  for (auto [size, want] : llvm::zip(view.sizes, spec.shape))
    if (size < 0 || (!ShapedType::isDynamic(want) && size != want))
      return makeError("result #" + llvm::Twine(index) +
                       " came back with size " + llvm::Twine(size) + " where " +
                       spec.typeName + " was expected");
  if (!view.aligned && view.getNumElements() != 0)
    return makeError("result #" + llvm::Twine(index) +
                     " came back with a null data pointer");
  return view;
}

llvm::Expected<ResultArray> CallResults::copy(size_t index) const {
  llvm::Expected<ResultView> view = getView(index);
  if (!view)
    return view.takeError();
  ResultArray result{
      view->spec,
      llvm::SmallVector<int64_t>(view->sizes.begin(), view->sizes.end()),
      {}};
  int64_t count = view->getNumElements();
  unsigned elementSize = getElementKindSize(view->spec->element);
  result.data.resize(count * elementSize);
  if (count == 0)
    return result;
  if (view->isContiguous()) {
    std::memcpy(result.data.data(), view->getData(), count * elementSize);
    return result;
  }
  int64_t rank = view->sizes.size();
  llvm::SmallVector<int64_t> position(rank, 0);
  for (int64_t linear = 0; linear < count; ++linear) {
    int64_t element = view->offset;
    for (int64_t dim = 0; dim < rank; ++dim)
      element += position[dim] * view->strides[dim];
    std::memcpy(result.data.data() + linear * elementSize,
                view->aligned + element * elementSize, elementSize);
    for (int64_t dim = rank - 1; dim >= 0; --dim) {
      if (++position[dim] < view->sizes[dim])
        break;
      position[dim] = 0;
    }
  }
  return result;
}

//===----------------------------------------------------------------------===//
// JitFunction
//===----------------------------------------------------------------------===//

llvm::Error checkHostCPUFeatures(llvm::ArrayRef<llvm::StringRef> features,
                                 const llvm::Twine &what) {
  llvm::StringMap<bool> host = llvm::sys::getHostCPUFeatures();
  llvm::SmallVector<llvm::StringRef> has, lacks;
  for (llvm::StringRef feature : features) {
    // "-feature" turns one off, which every CPU can run.
    if (!feature.consume_front("+"))
      continue;
    (host.lookup(feature) ? has : lacks).push_back(feature);
  }
  if (lacks.empty())
    return llvm::Error::success();
  std::string message;
  llvm::raw_string_ostream os(message);
  os << what << " needs the CPU features " << llvm::join(features, ",")
     << ", but this CPU (" << llvm::sys::getHostCPUName() << ") ";
  if (!has.empty())
    os << "has " << llvm::join(has, ", ") << " and ";
  os << "lacks " << llvm::join(lacks, ", ")
     << ": the code would die of an illegal instruction; choose "
        "--target=host (the best kernels this CPU runs) or --target=generic";
  return makeError(message);
}

/// The `target_features` of the functions of `lowered` (the VNNI kernels').
static llvm::Error checkModuleCPUFeatures(ModuleOp lowered) {
  for (auto func : lowered.getOps<LLVM::LLVMFuncOp>()) {
    std::optional<LLVM::TargetFeaturesAttr> attr = func.getTargetFeatures();
    if (!attr)
      continue;
    llvm::SmallVector<llvm::StringRef> features;
    for (StringAttr feature : attr->getFeatures())
      features.push_back(feature.getValue());
    if (llvm::Error error =
            checkHostCPUFeatures(features, "@" + func.getSymName()))
      return error;
  }
  return llvm::Error::success();
}

JitFunction::JitFunction(EntryPoint entry, bool ownsResults)
    : entry(std::move(entry)), ownsResults(ownsResults) {}

JitFunction::~JitFunction() = default;

/// The host's target machine at `optLevel`, position-independent with the
/// small code model, as ORC's JITLink on x86-64 ELF links objects.
static llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createHostTargetMachine(unsigned optLevel) {
  llvm::Expected<llvm::orc::JITTargetMachineBuilder> builder =
      llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder)
    return builder.takeError();
  builder->setCodeGenOptLevel(optLevel == 0   ? llvm::CodeGenOptLevel::None
                              : optLevel == 1 ? llvm::CodeGenOptLevel::Less
                              : optLevel == 2
                                  ? llvm::CodeGenOptLevel::Default
                                  : llvm::CodeGenOptLevel::Aggressive);
  builder->setRelocationModel(llvm::Reloc::PIC_);
  builder->setCodeModel(llvm::CodeModel::Small);
  return builder->createTargetMachine();
}

/// Adds `_mlir_<name>(void **args)`, which calls `name` with `*args[i]` as
/// its i-th parameter, as mlir::ExecutionEngine's packed wrappers do: a
/// caller can then pass any number of parameters.
static llvm::Error addPackedWrapper(llvm::Module &module,
                                    llvm::StringRef name) {
  llvm::Function *callee = module.getFunction(name);
  if (!callee || callee->isDeclaration())
    return makeError("the lowered module has no function @" + name);
  llvm::LLVMContext &context = module.getContext();
  llvm::IRBuilder<> builder(context);
  llvm::PointerType *pointer = builder.getPtrTy();
  auto *wrapper = llvm::Function::Create(
      llvm::FunctionType::get(builder.getVoidTy(), {pointer}, false),
      llvm::GlobalValue::ExternalLinkage, "_mlir_" + name, module);
  builder.SetInsertPoint(llvm::BasicBlock::Create(context, "entry", wrapper));
  llvm::SmallVector<llvm::Value *> arguments;
  for (llvm::Argument &parameter : callee->args()) {
    llvm::Value *slot = builder.CreateConstGEP1_64(pointer, wrapper->getArg(0),
                                                   parameter.getArgNo());
    arguments.push_back(builder.CreateLoad(parameter.getType(),
                                           builder.CreateLoad(pointer, slot)));
  }
  builder.CreateCall(callee, arguments);
  builder.CreateRetVoid();
  return llvm::Error::success();
}

llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
compileToObject(ModuleOp lowered, llvm::StringRef name, unsigned optLevel) {
  if (optLevel > 3)
    return makeError("the optimization level must be between 0 and 3");
  if (llvm::Error error = checkModuleCPUFeatures(lowered))
    return std::move(error);
  // Idempotent; a pass that JITs cannot count on its tool to have done it.
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Expected<std::unique_ptr<llvm::TargetMachine>> machine =
      createHostTargetMachine(optLevel);
  if (!machine)
    return machine.takeError();
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> module =
      translateModuleToLLVMIR(lowered, context);
  if (!module)
    return makeError("cannot translate the lowered module to LLVM IR");
  module->setDataLayout((*machine)->createDataLayout());
  module->setTargetTriple((*machine)->getTargetTriple());
  if (llvm::Error error =
          addPackedWrapper(*module, ("_mlir_ciface_" + name).str()))
    return std::move(error);
  if (llvm::Error error = makeOptimizingTransformer(
          optLevel, /*sizeLevel=*/0, machine->get())(module.get()))
    return std::move(error);
  llvm::SmallVector<char, 0> object;
  llvm::raw_svector_ostream os(object);
  llvm::legacy::PassManager codegen;
  if ((*machine)->addPassesToEmitFile(codegen, os, nullptr,
                                      llvm::CodeGenFileType::ObjectFile))
    return makeError("the host target cannot emit object files");
  codegen.run(*module);
  return std::make_unique<llvm::SmallVectorMemoryBuffer>(
      std::move(object), "myquant-jit-object",
      /*RequiresNullTerminator=*/false);
}

llvm::Expected<std::unique_ptr<JitFunction>>
JitFunction::create(ModuleOp lowered, EntryPoint entry,
                    const JitOptions &options) {
  llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>> object =
      compileToObject(lowered, entry.name, options.optLevel);
  if (!object)
    return object.takeError();
  return load(std::move(*object), std::move(entry), options);
}

llvm::Expected<std::unique_ptr<JitFunction>>
JitFunction::load(std::unique_ptr<llvm::MemoryBuffer> object, EntryPoint entry,
                  const JitOptions &options) {
  // Unlike ORC, which only finds the libraries' symbols, this fails on a
  // library that does not load.
  for (const std::string &path : options.sharedLibPaths) {
    std::string message;
    if (!llvm::sys::DynamicLibrary::getPermanentLibrary(path.c_str(), &message)
             .isValid())
      return makeError(llvm::Twine("cannot load the shared library '") + path +
                       "': " + message);
  }
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Expected<std::unique_ptr<llvm::orc::LLJIT>> jit =
      llvm::orc::LLJITBuilder().create();
  if (!jit)
    return jit.takeError();
  // The code calls malloc, free, libm and the libraries loaded above.
  llvm::Expected<std::unique_ptr<llvm::orc::DynamicLibrarySearchGenerator>>
      process = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
          (*jit)->getDataLayout().getGlobalPrefix());
  if (!process)
    return process.takeError();
  (*jit)->getMainJITDylib().addGenerator(std::move(*process));
  if (llvm::Error error = (*jit)->addObjectFile(std::move(object)))
    return std::move(error);
  llvm::Expected<llvm::orc::ExecutorAddr> packed =
      (*jit)->lookup("_mlir__mlir_ciface_" + entry.name);
  if (!packed)
    return packed.takeError();
  std::unique_ptr<JitFunction> function(
      new JitFunction(std::move(entry), options.ownsResults));
  function->jit = std::move(*jit);
  function->packed = packed->toPtr<void (*)(void **)>();
  return function;
}

llvm::Expected<CallResults>
JitFunction::call(llvm::ArrayRef<ArgumentBuffer> arguments) {
  if (entry.staticMemory)
    return makeError("@" + entry.name +
                     " was lowered with static memory, whose caller passes "
                     "the output buffers and an arena; the JIT runs "
                     "functions that allocate their results");
  if (arguments.size() != entry.inputs.size())
    return makeError("@" + entry.name + " takes " +
                     llvm::Twine(entry.inputs.size()) + " arguments, " +
                     llvm::Twine(arguments.size()) + " given");
  llvm::SmallVector<MemRefDescriptor> descriptors;
  for (const ArgumentBuffer &argument : arguments)
    descriptors.push_back(makeDescriptor(argument.data, argument.shape));

  // The packed wrapper of _mlir_ciface_NAME takes the address of each
  // parameter; every parameter is itself a pointer: first the result block
  // (when there are results), then one descriptor per argument.
  CallResults results(entry.results, ownsResults);
  llvm::SmallVector<void *> parameters;
  if (!entry.results.empty())
    parameters.push_back(results.getBlock());
  for (MemRefDescriptor &descriptor : descriptors)
    parameters.push_back(descriptor.data());
  llvm::SmallVector<void *> packedArgs;
  for (void *&parameter : parameters)
    packedArgs.push_back(static_cast<void *>(&parameter));
  packed(packedArgs.data());
  return std::move(results);
}

} // namespace myquant
