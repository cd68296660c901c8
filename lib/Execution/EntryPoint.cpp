//===- EntryPoint.cpp - the C interface of a lowered function -------------===//

#include "myquant/Execution/EntryPoint.h"
#include "myquant/Dialect/MyQuant/IR/MyQuantDialect.h"
#include "myquant/Lowering/LowerToLLVM.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace myquant {

const ElementKindInfo &getElementKindInfo(ElementKind kind) {
  // Indexed by ElementKind.
  static const ElementKindInfo infos[] = {{"f32", 4, "<f4", "float"},
                                          {"f64", 8, "<f8", "double"},
                                          {"i8", 1, "|i1", "int8_t"},
                                          {"i32", 4, "<i4", "int32_t"},
                                          {"i64", 8, "<i8", "int64_t"}};
  return infos[static_cast<unsigned>(kind)];
}

std::optional<ElementKind> getElementKind(Type element) {
  if (element.isF32())
    return ElementKind::F32;
  if (element.isF64())
    return ElementKind::F64;
  // Signless or signed integers: the C interface does not tell them apart.
  if (element.isUnsignedInteger())
    return std::nullopt;
  if (element.isInteger(8))
    return ElementKind::I8;
  if (element.isInteger(32))
    return ElementKind::I32;
  if (element.isInteger(64))
    return ElementKind::I64;
  return std::nullopt;
}

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

static std::string typeToString(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << type;
  return text;
}

/// Names of the public functions with bodies, for "did you mean" messages.
static std::string listCallableFunctions(ModuleOp module) {
  std::string names;
  for (auto func : module.getOps<FunctionOpInterface>()) {
    if (func.isExternal() || func.isPrivate() ||
        func.getName().starts_with("_mlir_ciface_"))
      continue;
    names += names.empty() ? "@" : ", @";
    names += func.getName();
  }
  return names.empty() ? "none" : names;
}

llvm::Error checkEntryPointDefined(ModuleOp module, StringRef name) {
  Operation *symbol = SymbolTable::lookupSymbolIn(module, name);
  if (!symbol)
    return makeError("no function named @" + name +
                     " in the module (public functions: " +
                     listCallableFunctions(module) + ")");
  auto func = dyn_cast<FunctionOpInterface>(symbol);
  if (!func)
    return makeError("@" + name + " is a '" + symbol->getName().getStringRef() +
                     "', not a function");
  if (func.isExternal())
    return makeError("@" + name + " is only declared, it has no body");
  if (func.isPrivate())
    return makeError("@" + name +
                     " is private; only public functions get a C interface");
  return llvm::Error::success();
}

/// Converts one signature type; `what` is e.g. "argument #0".
static llvm::Expected<BufferSpec> getBufferSpec(Type type, StringRef funcName,
                                                const llvm::Twine &what) {
  auto unsupported = [&](StringRef why) {
    return makeError(what + " of @" + funcName + " has type " +
                     typeToString(type) + ": " + why);
  };
  auto shaped = dyn_cast<ShapedType>(type);
  if (!shaped || !isa<RankedTensorType, MemRefType>(type))
    return unsupported("only ranked tensors (or memrefs) are supported");
  if (auto memref = dyn_cast<MemRefType>(type);
      memref && !memref.getLayout().isIdentity())
    return unsupported("only memrefs with the identity layout are supported");

  BufferSpec spec;
  std::optional<ElementKind> element = getElementKind(shaped.getElementType());
  if (!element)
    return unsupported("supported element types are f32, f64, i8, i32, i64");
  spec.element = *element;
  spec.shape.assign(shaped.getShape().begin(), shaped.getShape().end());
  spec.typeName = typeToString(type);
  spec.isMemRef = isa<MemRefType>(type);
  return spec;
}

/// Reads the `myquant.static_memory` dictionary of @`name`.
static llvm::Expected<StaticMemory> getStaticMemory(Attribute attr,
                                                    StringRef name) {
  auto dict = dyn_cast<DictionaryAttr>(attr);
  auto read = [&](StringRef key) -> std::optional<int64_t> {
    auto value = dict ? dict.getAs<IntegerAttr>(key) : IntegerAttr();
    if (!value || value.getInt() < 0)
      return std::nullopt;
    return value.getInt();
  };
  std::optional<int64_t> arenaSize = read("arena_size"),
                         alignment = read("alignment"),
                         peakLive = read("peak_live"),
                         weightsSize = read("weights_size");
  if (!arenaSize || !alignment || !peakLive || !weightsSize)
    return makeError("@" + name + " has a malformed '" +
                     MyQuantDialect::StaticMemoryAttrHelper::getNameStr() +
                     "' attribute: expected {arena_size, alignment, "
                     "peak_live, weights_size} as non-negative integers");
  return StaticMemory{*arenaSize, *alignment, *peakLive, *weightsSize};
}

llvm::Expected<EntryPoint> getEntryPoint(StringRef name,
                                         FunctionType signature) {
  EntryPoint entry;
  entry.name = name.str();
  for (auto [index, type] : llvm::enumerate(signature.getInputs())) {
    auto spec = getBufferSpec(type, name, "argument #" + llvm::Twine(index));
    if (!spec)
      return spec.takeError();
    entry.inputs.push_back(std::move(*spec));
  }
  for (auto [index, type] : llvm::enumerate(signature.getResults())) {
    auto spec = getBufferSpec(type, name, "result #" + llvm::Twine(index));
    if (!spec)
      return spec.takeError();
    entry.results.push_back(std::move(*spec));
  }
  return entry;
}

llvm::Expected<EntryPoint> getEntryPoint(ModuleOp lowered, StringRef name) {
  if (llvm::Error error = checkEntryPointDefined(lowered, name))
    return std::move(error);
  auto func =
      dyn_cast<LLVM::LLVMFuncOp>(SymbolTable::lookupSymbolIn(lowered, name));
  if (!func)
    return makeError("@" + name + " was not lowered to an llvm.func");

  auto signatureAttr = func->getAttrOfType<TypeAttr>(
      MyQuantDialect::SignatureAttrHelper::getNameStr());
  auto signature = signatureAttr
                       ? dyn_cast<FunctionType>(signatureAttr.getValue())
                       : FunctionType();
  if (!signature)
    return makeError(
        "@" + name + " has no '" +
        MyQuantDialect::SignatureAttrHelper::getNameStr() +
        "' attribute, so the tensor types of its arguments are unknown; pass "
        "the module before lowering to LLVM, or lower it with "
        "myquant-lower-to-llvm");

  llvm::Expected<EntryPoint> described = getEntryPoint(name, signature);
  if (!described)
    return described.takeError();
  EntryPoint entry = std::move(*described);
  entry.func = func;

  if (Attribute attr =
          func->getAttr(MyQuantDialect::StaticMemoryAttrHelper::getNameStr())) {
    llvm::Expected<StaticMemory> memory = getStaticMemory(attr, name);
    if (!memory)
      return memory.takeError();
    entry.staticMemory = *memory;
  }

  std::string wrapperName = ("_mlir_ciface_" + name).str();
  auto wrapper = lowered.lookupSymbol<LLVM::LLVMFuncOp>(wrapperName);
  if (!wrapper || wrapper.isExternal())
    return makeError("@" + name + " has no C interface (@" + wrapperName +
                     "); lower it with emit-c-interface=true");
  // Every argument and the result block (or, with static memory, each
  // result and the arena) travel as one pointer each.
  unsigned expected = entry.inputs.size() +
                      (entry.staticMemory ? entry.results.size() + 1
                                          : (entry.results.empty() ? 0 : 1));
  if (wrapper.getNumArguments() != expected)
    return makeError("@" + wrapperName + " takes " +
                     llvm::Twine(wrapper.getNumArguments()) +
                     " parameters but the signature of @" + name + " needs " +
                     llvm::Twine(expected));
  return entry;
}

} // namespace myquant
