//===- myquant-compile.cpp - compile a model to an object or library ------===//
//
//   myquant-compile model.mlir --function=NAME -o model.o [--header=model.h]
//   myquant-compile model.mlir --function=NAME --shared -o libmodel.so
//
// Lowers with myquant-lower-to-llvm, translates to LLVM IR and runs
// `clang-22 -O3` on it (plain llc would skip the IR optimizer). The header
// declares `_mlir_ciface_NAME` with one memref descriptor struct per
// argument and result, and the quantization parameters the function carries
// in `myquant.input_qparams` / `myquant.output_qparams`, if any, and states
// the calling contract (threads, integer-io rounding, shapes, ownership).
// With --static-memory the code uses no heap: the caller passes the result
// buffers and an arena, whose size the header states.
// Only the C interfaces and NAME_cpu_supported are exported; with
// --symbol-prefix=P they are _mlir_ciface_PNAME and PNAME_cpu_supported.
//
// Cross targets (docs/Targets.md): --target-preset=cortex-m4 (or --triple,
// --cpu, --features) compiles a static object for a microcontroller;
// --example-main=main.c writes a program calling the model once.
//
// Compile time: --mlir-timing times the MLIR passes (MLIR's context and pass
// manager options are accepted, though --help does not list them),
// --cc-arg=-ftime-report the LLVM passes.
//
//===----------------------------------------------------------------------===//

#include "myquant/Dialect/MyQuant/IR/MyQuantDialect.h"
#include "myquant/Execution/Driver.h"
#include "myquant/Execution/EntryPoint.h"
#include "myquant/Lowering/LowerToLLVM.h"
#include "myquant/Support/FixedPoint.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Interfaces/DataLayoutInterfaces.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Triple.h"
#include "llvm/TargetParser/X86TargetParser.h"

#include <optional>

using namespace mlir;
using namespace myquant;
namespace cl = llvm::cl;

static cl::OptionCategory compileCategory("myquant-compile options");

static cl::opt<std::string> inputFilename(cl::Positional,
                                          cl::desc("<input .mlir file>"),
                                          cl::init("-"),
                                          cl::cat(compileCategory));
static cl::opt<std::string>
    functionName("function", cl::Required,
                 cl::desc("Public function whose C interface the header "
                          "declares"),
                 cl::value_desc("name"), cl::cat(compileCategory));
static cl::opt<std::string> outputFilename("o", cl::Required,
                                           cl::desc("Output file"),
                                           cl::value_desc("file"),
                                           cl::cat(compileCategory));
static cl::opt<bool> shared("shared",
                            cl::desc("Link a shared library instead of "
                                     "compiling an object file"),
                            cl::cat(compileCategory));
static cl::opt<bool> emitLLVM("emit-llvm",
                              cl::desc("Write the LLVM IR instead of "
                                       "compiling it"),
                              cl::cat(compileCategory));
static cl::opt<std::string> headerFilename("header",
                                           cl::desc("Also write a C header"),
                                           cl::value_desc("file.h"),
                                           cl::cat(compileCategory));
static cl::opt<std::string> exampleMainFilename(
    "example-main",
    cl::desc("Also write an example C program calling the function (with "
             "--header): static inputs, results printed (integers with "
             "write(), not stdio), for a bare-metal board "
             "(runtime/baremetal) or the host"),
    cl::value_desc("main.c"), cl::cat(compileCategory));
static cl::opt<std::string> symbolPrefix(
    "symbol-prefix",
    cl::desc("Prefix of every exported symbol (_mlir_ciface_<prefix><name>, "
             "<prefix><name>_cpu_supported) and of the header's names, so "
             "that two models link into one program"),
    cl::value_desc("prefix"), cl::cat(compileCategory));
static cl::opt<std::string>
    compilerPath("cc",
                 cl::desc("C compiler for the LLVM IR (default: "
                          "clang-22, then clang, from PATH)"),
                 cl::value_desc("path"), cl::cat(compileCategory));
static cl::opt<std::string>
    kernelTarget("target",
                 cl::desc("Kernels for int8 conv2d and matmul: generic, "
                          "avx512-vnni, avx512-vnni-256, avx-vnni or host"),
                 cl::init("host"), cl::cat(compileCategory));
static cl::opt<std::string> targetPreset(
    "target-preset",
    cl::desc("Cross target: cortex-m0plus (thumbv6m), cortex-m4 or "
             "cortex-m7 (thumbv7em, FPU unused), rv32imac (riscv32), "
             "rv32imac-zve32x (with integer vectors, VLEN >= 128), or host "
             "(the default); --triple, --cpu and --features override its "
             "parts"),
    cl::value_desc("name"), cl::init("host"), cl::cat(compileCategory));
static cl::opt<std::string>
    targetTriple("triple",
                 cl::desc("LLVM target triple (default: the compiling "
                          "machine's)"),
                 cl::value_desc("triple"), cl::cat(compileCategory));
static cl::opt<std::string> targetCPU("cpu",
                                      cl::desc("Target CPU (with --triple)"),
                                      cl::value_desc("name"),
                                      cl::cat(compileCategory));
static cl::opt<std::string>
    targetFeatures("features",
                   cl::desc("Target features, comma-separated, in LLVM's "
                            "spelling (+m,+a,+c or -fpregs)"),
                   cl::value_desc("list"), cl::cat(compileCategory));
static cl::opt<bool> allowFloatIo(
    "allow-float-io",
    cl::desc("Accept float inputs and results on a target without a "
             "floating-point unit (software floating point)"),
    cl::cat(compileCategory));
static cl::opt<unsigned> threadCount(
    "kernel-threads",
    cl::desc("Threads running the int8 kernels' batch loops "
             "(OpenMP; a shared library then links libomp, an object "
             "file needs it at link time)"),
    cl::init(1), cl::cat(compileCategory));
static cl::opt<int64_t> threadMinMacs(
    "kernel-thread-min-macs",
    cl::desc("With --kernel-threads: the work per thread, in int8 GEMM "
             "multiply-accumulates, below which a kernel runs on one "
             "thread"),
    cl::init(myquant::vnni::kDefaultThreadMinMacs), cl::cat(compileCategory));
static cl::opt<int64_t> splitBatchMaxWeightBytes(
    "split-batch-max-weight-bytes",
    cl::desc("Run the per-image layers of a batched model one image at a "
             "time when its constants take at most this many bytes (one "
             "thread, no static memory); 0: never"),
    cl::init(myquant::kDefaultSplitBatchMaxWeightBytes),
    cl::cat(compileCategory));
static cl::opt<bool> staticMemory(
    "static-memory",
    cl::desc("No heap: the caller passes the result buffers and one arena "
             "for every temporary, whose size the header states"),
    cl::cat(compileCategory));
static cl::opt<unsigned> arenaAlignment(
    "arena-alignment",
    cl::desc("Alignment in bytes of the arena and of every buffer in it "
             "(--static-memory; default: 64 on the host, 8 for the cross "
             "presets)"),
    cl::init(64), cl::cat(compileCategory));
static cl::opt<unsigned> optLevel("opt-level",
                                  cl::desc("Optimization level (0-3)"),
                                  cl::init(3), cl::cat(compileCategory));
static cl::list<std::string>
    compilerArgs("cc-arg",
                 cl::desc("Extra argument for the C compiler (e.g. "
                          "-march=native)"),
                 cl::value_desc("arg"), cl::cat(compileCategory));

namespace {
/// A named cross target (--target-preset) and its default
/// --arena-alignment.
struct TargetPreset {
  llvm::StringLiteral name, triple, cpu, features;
  unsigned arenaAlignment;
};
} // namespace

/// The Cortex-M4 and M7 have an optional FPU: `-fpregs` keeps it unused, so
/// the code runs on parts without one. Cortex-M0+ and RV32IMAC have none;
/// Zve32x is the integer-only vector extension (LLVM's loop vectorizer
/// needs the guaranteed VLEN of Zvl128b).
/// The host's arena buffers are aligned for its 64-byte vectors; the
/// microcontrollers' widest access is 8 bytes, and a finer alignment packs
/// the arena down to the peak of live temporaries.
static constexpr TargetPreset kTargetPresets[] = {
    {"host", "", "", "", 64},
    {"cortex-m0plus", "thumbv6m-none-eabi", "cortex-m0plus", "", 8},
    {"cortex-m4", "thumbv7em-none-eabi", "cortex-m4", "-fpregs", 8},
    {"cortex-m7", "thumbv7em-none-eabi", "cortex-m7", "-fpregs", 8},
    {"rv32imac", "riscv32-unknown-elf", "generic-rv32", "+m,+a,+c", 8},
    {"rv32imac-zve32x", "riscv32-unknown-elf", "generic-rv32",
     "+m,+a,+c,+zve32x,+zvl128b", 8},
};

static int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "myquant-compile") << message << "\n";
  return 1;
}

static int fail(llvm::Error error) {
  std::string message = llvm::toString(std::move(error));
  return fail(message);
}

static void warn(const llvm::Twine &message) {
  llvm::WithColor::warning(llvm::errs(), "myquant-compile") << message << "\n";
}

//===----------------------------------------------------------------------===//
// Header
//===----------------------------------------------------------------------===//

/// "myquant_memref_f32_4d": one struct per element type and rank, shared by
/// every header (guarded), so two models can be used in one file.
static std::string getDescriptorName(const BufferSpec &spec) {
  return ("myquant_memref_" + getElementKindName(spec.element) + "_" +
          llvm::Twine(spec.getRank()) + "d")
      .str();
}

/// `indexType`: the C type of MLIR's `index` on the target (int64_t, or
/// int32_t on a 32-bit cross target), that of the offset, sizes and strides.
static void emitDescriptor(llvm::raw_ostream &os, const BufferSpec &spec,
                           llvm::StringRef indexType) {
  std::string name = getDescriptorName(spec);
  std::string guard = llvm::StringRef(name).upper();
  llvm::StringRef type = getElementKindInfo(spec.element).cType;
  os << "#ifndef " << guard << "\n#define " << guard << "\n"
     << "typedef struct " << name << " {\n"
     << "  " << type << " *allocated;\n"
     << "  " << type << " *aligned;\n"
     << "  " << indexType << " offset;\n";
  if (spec.getRank() > 0)
    os << "  " << indexType << " sizes[" << spec.getRank() << "];\n"
       << "  " << indexType << " strides[" << spec.getRank() << "];\n";
  os << "} " << name << ";\n#endif\n\n";
}

namespace {
struct QParams {
  double scale;
  int64_t zeroPoint;
};
} // namespace

/// Reads an array of {scale, zero_point} dictionaries (or [scale,
/// zero_point] pairs). The format is not fixed yet, so anything else only
/// leaves the constants out of the header.
static std::optional<llvm::SmallVector<QParams>>
readQParams(Operation *func, llvm::StringRef attrName) {
  Attribute attr = func->getAttr(attrName);
  if (!attr)
    return std::nullopt;
  auto malformed = [&]() -> std::optional<llvm::SmallVector<QParams>> {
    warn("ignoring '" + attrName + "' of @" + functionName +
         ": expected an array of {scale = <float>, zero_point = <integer>}");
    return std::nullopt;
  };
  auto array = dyn_cast<ArrayAttr>(attr);
  if (!array)
    return malformed();
  llvm::SmallVector<QParams> result;
  for (Attribute entry : array) {
    Attribute scale, zeroPoint;
    if (auto dict = dyn_cast<DictionaryAttr>(entry)) {
      scale = dict.get("scale");
      zeroPoint = dict.get("zero_point");
    } else if (auto pair = dyn_cast<ArrayAttr>(entry);
               pair && pair.size() == 2) {
      scale = pair[0];
      zeroPoint = pair[1];
    }
    auto zeroPointAttr = dyn_cast_or_null<IntegerAttr>(zeroPoint);
    if (!zeroPointAttr)
      return malformed();
    if (auto floatAttr = dyn_cast_or_null<FloatAttr>(scale))
      result.push_back({floatAttr.getValueAsDouble(), zeroPointAttr.getInt()});
    else
      return malformed();
  }
  return result;
}

/// `symbol` is the prefixed name of the function, as in its C interface.
static void emitQParams(llvm::raw_ostream &os, llvm::StringRef symbol,
                        llvm::StringRef name, llvm::ArrayRef<QParams> params) {
  os << "#define " << symbol << "_NUM_" << llvm::StringRef(name).upper() << " "
     << params.size() << "\n";
  if (params.empty())
    return;
  os << "static const myquant_qparams " << symbol << "_" << name << "["
     << params.size() << "] = {\n";
  for (const QParams &param : params)
    os << "  {" << llvm::format("%.17g", param.scale) << ", " << param.zeroPoint
       << "},\n";
  os << "};\n";
}

/// For a device without floating point: each input's 1 / scale as an int32
/// multiplier and a shift (docs/NumericSpec.md's quantizeMultiplier), and
/// a function quantizing a fixed-point reading with them.
static void emitFixedPointQuantization(llvm::raw_ostream &os,
                                       llvm::StringRef symbol,
                                       llvm::ArrayRef<QParams> params) {
  llvm::SmallVector<fixedpoint::QuantizedMultiplier> inverses;
  for (const QParams &param : params) {
    std::optional<fixedpoint::QuantizedMultiplier> inverse =
        fixedpoint::quantizeMultiplier(1.0 / param.scale);
    if (!inverse) {
      warn("no integer quantization of the inputs of @" + functionName +
           " in the header: 1 / " + std::to_string(param.scale) +
           " has no int32 multiplier and shift");
      return;
    }
    inverses.push_back(*inverse);
  }
  os << "#ifndef MYQUANT_QUANTIZE_FIXED\n#define MYQUANT_QUANTIZE_FIXED\n"
     << "/* Quantizing with integer arithmetic only (no FPU): 1 / scale ~=\n"
     << "   inv_multiplier * 2^-inv_shift, inv_multiplier in [2^30, 2^31) "
        "rounded\n"
     << "   to nearest. For a fixed-point reading x = raw * 2^-frac_bits,\n"
     << "     q = clamp(round_half_even(raw * inv_multiplier *\n"
     << "               2^-(inv_shift + frac_bits)) + zero_point, -128, 127).\n"
     << "   The relative error of the multiplier is below 2^-31: q equals the\n"
     << "   double formula above except where x / scale lies within\n"
     << "   |x / scale| * 2^-30 of a tie (n + 1/2). */\n"
     << "typedef struct myquant_qparams_fixed {\n"
     << "  int32_t inv_multiplier;\n  int32_t inv_shift;\n"
     << "  int32_t zero_point;\n} myquant_qparams_fixed;\n"
     << "static inline int8_t myquant_quantize_fixed(int32_t raw, int "
        "frac_bits,\n"
     << "    const myquant_qparams_fixed *p) {\n"
     << "  int64_t product = (int64_t)raw * p->inv_multiplier; /* < 2^62 */\n"
     << "  int shift = p->inv_shift + frac_bits;\n"
     << "  int64_t q;\n"
     << "  if (shift <= 0) {\n"
     << "    /* |product| >= 2^30 unless raw = 0: saturates. */\n"
     << "    q = product > 0 ? 1000 : product < 0 ? -1000 : 0;\n"
     << "  } else if (shift >= 63) {\n"
     << "    q = 0; /* |product| < 2^62 <= 2^(shift - 1) */\n"
     << "  } else {\n"
     << "    int64_t half = (int64_t)1 << (shift - 1);\n"
     << "    /* floor(product / 2^shift), without shifting a negative "
        "value */\n"
     << "    q = product >= 0 ? product >> shift\n"
     << "                     : -((-product - 1) >> shift) - 1;\n"
     << "    int64_t rest = product - q * ((int64_t)1 << shift);\n"
     << "    if (rest > half || (rest == half && (q & 1)))\n"
     << "      ++q;\n"
     << "  }\n"
     << "  q += p->zero_point;\n"
     << "  return (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);\n"
     << "}\n#endif\n"
     << "static const myquant_qparams_fixed " << symbol
     << "_input_qparams_fixed[" << params.size() << "] = {\n";
  for (auto [param, inverse] : llvm::zip_equal(params, inverses))
    os << "  {" << inverse.multiplier << ", " << inverse.shift << ", "
       << param.zeroPoint << "},\n";
  os << "};\n";
}

static void emitShapes(llvm::raw_ostream &os, llvm::StringRef symbol,
                       llvm::StringRef kind, llvm::ArrayRef<BufferSpec> specs) {
  for (auto [index, spec] : llvm::enumerate(specs)) {
    os << "/* " << kind << " " << index << ": " << spec.typeName << " */\n";
    if (spec.getRank() == 0)
      continue;
    os << "static const int64_t " << symbol << "_" << kind << index << "_shape["
       << spec.getRank() << "] = {";
    llvm::interleaveComma(spec.shape, os, [&](int64_t size) {
      os << (ShapedType::isDynamic(size) ? -1 : size);
    });
    os << "};\n";
  }
}

/// What a caller must know: reentrancy, shapes, ownership.
static void emitCallContract(llvm::raw_ostream &os, const EntryPoint &entry) {
  bool readOnly = llvm::none_of(
      entry.inputs, [](const BufferSpec &spec) { return spec.isMemRef; });
  // Models on tensors have only constant globals; a module written on
  // memrefs may have others.
  llvm::SmallVector<llvm::StringRef> mutableGlobals;
  for (auto global :
       entry.func->getParentOfType<ModuleOp>().getOps<LLVM::GlobalOp>())
    if (!global.getConstant())
      mutableGlobals.push_back(global.getSymName());
  os << "/* Calls @" << functionName << ".\n";
  if (mutableGlobals.empty() && entry.staticMemory)
    os << "   Threads: the code keeps no state between calls (its constants\n"
       << "   are read-only, its temporaries are in the arena): calls with\n"
       << "   distinct arenas and result buffers are reentrant and may run "
          "in\n"
       << "   several threads at once.";
  else if (mutableGlobals.empty())
    os << "   Threads: the code keeps no state between calls (its constants\n"
       << "   are read-only, each call mallocs its own temporaries): it is\n"
       << "   reentrant and may run in several threads at once, on the same\n"
       << "   or different inputs.";
  else
    os << "   Threads: the module has writable globals (@"
       << llvm::join(mutableGlobals, ", @")
       << "):\n   calls are neither reentrant nor thread-safe.";
  if (threadCount > 1)
    os << "\n   Each call runs the int8 kernels' batch loops on OpenMP threads "
          "("
       << threadCount << ").\n"
       << "   Loading the code sets KMP_BLOCKTIME=1000 (libomp's threads "
          "spin\n"
       << "   between kernels, for up to 1 s) unless the environment sets\n"
       << "   OMP_WAIT_POLICY, KMP_LIBRARY or KMP_BLOCKTIME.";
  os << "\n"
     << "   Shapes are not checked: each input descriptor must have the sizes\n"
     << "   of " << entry.name << "_input<i>_shape (-1: any size the model "
     << "accepts) and\n"
     << "   their C-order strides, which the code may assume without reading\n"
     << "   them; anything else reads or writes out of bounds.\n"
     << "   Memory: the inputs stay the caller's: "
     << (readOnly ? "only read, " : "") << "never kept, they\n"
     << "   may be freed as soon as the call returns.";
  if (entry.staticMemory) {
    os << "\n"
       << "   Static memory: the code calls no malloc() or free(). Each "
          "result\n"
       << "   descriptor, set up like an input's, describes a buffer of the\n"
       << "   caller's that the call fills; it must not overlap an input,\n"
       << "   another result or the arena. The arena holds all temporaries:\n"
       << "   " << entry.name << "_ARENA_SIZE bytes (its sizes[0]) at an "
       << "aligned pointer that is a\n"
       << "   multiple of " << entry.name
       << "_ARENA_ALIGNMENT; its contents do not matter on entry\n"
       << "   and are garbage on return. The weights (" << entry.name
       << "_WEIGHTS_SIZE bytes) are\n"
       << "   read-only constants of the object (.rodata), never copied. */\n";
    return;
  }
  if (!entry.results.empty())
    os << " Each result descriptor\n"
       << "   gets a fresh malloc()ed buffer of its own (never an input, a\n"
       << "   constant or another result's), which the caller frees with\n"
       << "   free(allocated), not free(aligned).";
  os << " The call frees all its\n"
     << "   temporaries. A failed malloc() is not checked (the call crashes). "
        "*/\n";
}

static llvm::Error writeHeader(const EntryPoint &entry, unsigned indexBits,
                               llvm::raw_ostream &os) {
  if (!isCIdentifier(entry.name))
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "@" + entry.name +
            " is not a valid C identifier, so its C interface cannot be "
            "declared in a header");
  std::string guard = "MYQUANT_";
  for (char c : llvm::sys::path::filename(headerFilename))
    guard += llvm::isAlnum(c) ? llvm::toUpper(c) : '_';
  os << "/* Generated by myquant-compile from "
     << llvm::sys::path::filename(inputFilename) << " for @" << functionName
     << ". Do not edit. */\n"
     << "#ifndef " << guard << "\n#define " << guard << "\n\n"
     << "#include <stdint.h>\n\n"
     << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
     << "/* Memref descriptors. Element (i0, i1, ...) is at\n"
     << "   aligned[offset + i0 * strides[0] + i1 * strides[1] + ...]. For an\n"
     << "   input, set allocated = aligned = the data, offset = 0, sizes = "
        "the\n"
     << "   shape and strides = C-order strides (shape {2, 3}: {3, 1}). */\n";
  // The arena: one byte buffer of rank 1.
  std::optional<BufferSpec> arena;
  if (entry.staticMemory)
    arena = BufferSpec{ElementKind::I8,
                       {entry.staticMemory->arenaSize},
                       "arena",
                       /*isMemRef=*/true};
  llvm::SmallVector<const BufferSpec *> all;
  if (arena)
    all.push_back(&*arena);
  for (const BufferSpec &spec : entry.results)
    all.push_back(&spec);
  for (const BufferSpec &spec : entry.inputs)
    all.push_back(&spec);
  llvm::StringSet<> emitted;
  for (const BufferSpec *spec : all)
    if (emitted.insert(getDescriptorName(*spec)).second)
      emitDescriptor(os, *spec, indexBits == 32 ? "int32_t" : "int64_t");

  if (entry.results.size() > 1 && !entry.staticMemory) {
    os << "/* The results of @" << functionName << ", in order. */\n"
       << "typedef struct " << entry.name << "_results {\n";
    for (auto [index, spec] : llvm::enumerate(entry.results))
      os << "  " << getDescriptorName(spec) << " result" << index << ";\n";
    os << "} " << entry.name << "_results;\n\n";
  }

  os << "#define " << entry.name << "_NUM_INPUTS " << entry.inputs.size()
     << "\n#define " << entry.name << "_NUM_RESULTS " << entry.results.size()
     << "\n/* Shapes; -1 is a dynamic size. */\n";
  emitShapes(os, entry.name, "input", entry.inputs);
  emitShapes(os, entry.name, "result", entry.results);
  os << "\n";
  if (const std::optional<StaticMemory> &memory = entry.staticMemory)
    os << "/* Static memory (--static-memory), in bytes: the arena the "
          "caller passes\n"
       << "   and its alignment; the most the temporaries live at one time "
          "take\n"
       << "   (the arena's lower bound); the weights, constants in .rodata. "
          "*/\n"
       << "#define " << entry.name << "_ARENA_SIZE " << memory->arenaSize
       << "\n#define " << entry.name << "_ARENA_ALIGNMENT " << memory->alignment
       << "\n#define " << entry.name << "_PEAK_LIVE " << memory->peakLive
       << "\n#define " << entry.name << "_WEIGHTS_SIZE " << memory->weightsSize
       << "\n\n";

  std::optional<llvm::SmallVector<QParams>> inputQParams = readQParams(
      entry.func, MyQuantDialect::InputQparamsAttrHelper::getNameStr());
  std::optional<llvm::SmallVector<QParams>> outputQParams = readQParams(
      entry.func, MyQuantDialect::OutputQparamsAttrHelper::getNameStr());
  if (inputQParams || outputQParams) {
    os << "#ifndef MYQUANT_QPARAMS\n#define MYQUANT_QPARAMS\n"
       << "/* real = scale * (quantized - zero_point) */\n"
       << "typedef struct myquant_qparams {\n  double scale;\n"
       << "  int64_t zero_point;\n} myquant_qparams;\n#endif\n"
       << "/* An int8 input i (integer-io) holds, for the float value x,\n"
       << "     q = clamp(round_half_even(x / scale) + zero_point, -128, 127)\n"
       << "   with {scale, zero_point} = " << entry.name
       << "_input_qparams[i], x / scale\n"
       << "   computed in double and rounded to nearest, ties to even: C99\n"
       << "   rint() or nearbyint() in the default rounding mode, not "
          "lround()\n"
       << "   (ties away from zero) nor (int)(v + 0.5). The model quantizes a\n"
       << "   float input the same way (docs/NumericSpec.md, 3.9), so integer\n"
       << "   results equal the float-io model's. An int8 result q means\n"
       << "   scale * (q - zero_point) with " << entry.name
       << "_output_qparams[i]. */\n";
    if (inputQParams)
      emitQParams(os, entry.name, "input_qparams", *inputQParams);
    if (outputQParams)
      emitQParams(os, entry.name, "output_qparams", *outputQParams);
    if (inputQParams)
      emitFixedPointQuantization(os, entry.name, *inputQParams);
    os << "\n";
  }

  emitCallContract(os, entry);
  os << "void _mlir_ciface_" << entry.name << "(";
  bool first = true;
  auto separator = [&]() {
    if (!first)
      os << ", ";
    first = false;
  };
  // With static memory: inputs, results, arena.
  if (!arena && entry.results.size() == 1) {
    separator();
    os << getDescriptorName(entry.results.front()) << " *result";
  } else if (!arena && entry.results.size() > 1) {
    separator();
    os << entry.name << "_results *results";
  }
  for (auto [index, spec] : llvm::enumerate(entry.inputs)) {
    separator();
    os << getDescriptorName(spec) << " *arg" << index;
  }
  if (arena) {
    for (auto [index, spec] : llvm::enumerate(entry.results)) {
      separator();
      os << getDescriptorName(spec) << " *result" << index;
    }
    separator();
    os << getDescriptorName(*arena) << " *arena";
  }
  if (first)
    os << "void";
  os << ");\n\n"
     << "/* The kernels use the CPU features they were compiled for "
        "(--target).\n"
     << "   Returns 1 when this CPU has them all, 0 otherwise. On a CPU that\n"
     << "   lacks one, calling _mlir_ciface_" << entry.name
     << " prints \"myquant: cannot run\n"
     << "   @" << functionName
     << ": ...\" with the missing features on stderr and aborts\n"
     << "   (instead of dying of an illegal instruction). */\n"
     << "int " << entry.name << "_cpu_supported(void);\n"
     << "\n#ifdef __cplusplus\n}\n#endif\n\n#endif /* " << guard << " */\n";
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Example program
//===----------------------------------------------------------------------===//

/// `{ptr, ptr, 0, {sizes}, {C-order strides}}` for a static shape.
static void emitDescriptorInit(llvm::raw_ostream &os, llvm::StringRef data,
                               const BufferSpec &spec) {
  os << "{" << data << ", " << data << ", 0";
  if (spec.getRank() > 0) {
    llvm::SmallVector<int64_t> strides(spec.getRank(), 1);
    for (int64_t i = spec.getRank() - 2; i >= 0; --i)
      strides[i] = strides[i + 1] * spec.shape[i + 1];
    os << ", {";
    llvm::interleaveComma(spec.shape, os);
    os << "}, {";
    llvm::interleaveComma(strides, os);
    os << "}";
  }
  os << "}";
}

static bool isFloat(const BufferSpec &spec) {
  return spec.element == ElementKind::F32 || spec.element == ElementKind::F64;
}

/// The example main's printing of integers: decimal digits into a buffer
/// written with write(). newlib's stdio takes its stream buffers from the
/// heap, which a static-memory program on a board must not link.
static void writeIntegerPrinter(llvm::raw_ostream &os) {
  os << R"c(
/* Integers are printed without stdio, whose buffers newlib allocates. */
static char print_buffer[256];
static unsigned print_length;

static void print_flush(void) {
  if (write(1, print_buffer, print_length) != (long)print_length)
    _exit(1);
  print_length = 0;
}

static void print_char(char c) {
  if (print_length == sizeof print_buffer)
    print_flush();
  print_buffer[print_length++] = c;
}

static void print_text(const char *s) {
  while (*s)
    print_char(*s++);
}

/* " v": a space, then v in decimal. */
static void print_integer(long long v) {
  char digits[20];
  int n = 0;
  unsigned long long u = v < 0 ? 0ull - (unsigned long long)v
                               : (unsigned long long)v;
  do
    digits[n++] = (char)('0' + u % 10);
  while ((u /= 10) != 0);
  print_char(' ');
  if (v < 0)
    print_char('-');
  while (n > 0)
    print_char(digits[--n]);
}
)c";
}

/// A main() that calls the entry point once on static inputs and prints
/// every result element, one line per result ("result<i>: v v v ...").
/// The inputs are <name>_EXAMPLE_INPUT<i> (a brace initializer) from the
/// file MYQUANT_EXAMPLE_INPUTS names, if defined, and zeros otherwise.
/// With static memory, the results and the arena are static arrays too.
/// Integer results are printed without stdio (writeIntegerPrinter).
static llvm::Error writeExampleMain(const EntryPoint &entry,
                                    llvm::raw_ostream &os) {
  auto isStatic = [](const BufferSpec &spec) {
    return llvm::none_of(spec.shape, ShapedType::isDynamic);
  };
  if (!llvm::all_of(entry.inputs, isStatic) ||
      !llvm::all_of(entry.results, isStatic))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "--example-main needs static shapes, and @" +
                                       functionName +
                                       " has a dynamic dimension");
  const std::string &name = entry.name;
  bool anyFloat = llvm::any_of(entry.results, isFloat);
  os << "/* Generated by myquant-compile: calls @" << functionName
     << " once and prints its results.\n"
     << "   Build it with " << llvm::sys::path::filename(headerFilename)
     << ", the model's object and a C library; for a\n"
     << "   bare-metal board, with runtime/baremetal's start-up code (see "
        "docs/Targets.md).\n"
     << "   -DMYQUANT_EXAMPLE_INPUTS='\"file.h\"' takes the inputs from a file "
        "defining\n"
     << "   " << name
     << "_EXAMPLE_INPUT<i> as brace initializers (C order); they are zeros\n"
     << "   otherwise. */\n"
     << "#include <" << (anyFloat ? "stdio" : "unistd") << ".h>\n";
  if (!entry.staticMemory)
    os << "#include <stdlib.h>\n";
  os << "\n#include \"" << llvm::sys::path::filename(headerFilename) << "\"\n\n"
     << "#ifdef MYQUANT_EXAMPLE_INPUTS\n#include MYQUANT_EXAMPLE_INPUTS\n"
        "#endif\n";
  if (!anyFloat)
    writeIntegerPrinter(os);
  for (auto [index, spec] : llvm::enumerate(entry.inputs)) {
    std::string macro = (name + "_EXAMPLE_INPUT" + llvm::Twine(index)).str();
    int64_t count = ShapedType::getNumElements(spec.shape);
    os << "#ifndef " << macro << "\n#define " << macro << " {0}\n#endif\n"
       << "static " << getElementKindInfo(spec.element).cType << " input"
       << index << "[" << count << "] = " << macro << ";\n";
  }
  os << "\nint main(void) {\n";
  for (auto [index, spec] : llvm::enumerate(entry.inputs)) {
    os << "  " << getDescriptorName(spec) << " arg" << index << " = ";
    emitDescriptorInit(os, ("input" + llvm::Twine(index)).str(), spec);
    os << ";\n";
  }
  llvm::SmallVector<std::string> results;
  if (entry.staticMemory) {
    for (auto [index, spec] : llvm::enumerate(entry.results)) {
      std::string data = "result" + std::to_string(index) + "_data";
      os << "  static " << getElementKindInfo(spec.element).cType << " " << data
         << "[" << ShapedType::getNumElements(spec.shape) << "];\n"
         << "  " << getDescriptorName(spec) << " result" << index << " = ";
      emitDescriptorInit(os, data, spec);
      os << ";\n";
      results.push_back("result" + std::to_string(index));
    }
    // C99 has no _Alignas: the aligned pointer is rounded up within an
    // array one alignment longer (never empty, even for an empty arena).
    os << "  static int8_t arena_data[" << name << "_ARENA_SIZE + " << name
       << "_ARENA_ALIGNMENT];\n"
       << "  int8_t *arena_aligned = (int8_t *)(((uintptr_t)arena_data + "
       << name << "_ARENA_ALIGNMENT - 1) &\n"
       << "      ~(uintptr_t)(" << name << "_ARENA_ALIGNMENT - 1));\n"
       << "  myquant_memref_i8_1d arena = {arena_data, arena_aligned, 0, {"
       << name << "_ARENA_SIZE}, {1}};\n";
  } else if (entry.results.size() == 1) {
    os << "  " << getDescriptorName(entry.results.front()) << " result;\n";
    results.push_back("result");
  } else if (entry.results.size() > 1) {
    os << "  " << name << "_results results;\n";
    for (size_t i = 0; i < entry.results.size(); ++i)
      results.push_back("results.result" + std::to_string(i));
  }
  os << "  _mlir_ciface_" << name << "(";
  // Static memory: inputs, results, arena; otherwise results first.
  llvm::SmallVector<std::string> args;
  if (!entry.staticMemory && entry.results.size() == 1)
    args.push_back("&result");
  else if (!entry.staticMemory && entry.results.size() > 1)
    args.push_back("&results");
  for (size_t i = 0; i < entry.inputs.size(); ++i)
    args.push_back("&arg" + std::to_string(i));
  if (entry.staticMemory) {
    for (const std::string &result : results)
      args.push_back("&" + result);
    args.push_back("&arena");
  }
  os << llvm::join(args, ", ") << ");\n";
  for (auto [index, spec] : llvm::enumerate(entry.results)) {
    const std::string &result = results[index];
    // Results are fresh C-order buffers: element i is at aligned[offset + i].
    std::string element =
        (llvm::Twine(result) + ".aligned[" + result + ".offset + i]").str();
    os << (anyFloat ? "  printf(" : "  print_text(") << "\"result" << index
       << ":\");\n"
       << "  for (long i = 0; i < " << ShapedType::getNumElements(spec.shape)
       << "; ++i)\n";
    if (!anyFloat)
      os << "    print_integer((long long)" << element << ");\n"
         << "  print_text(\"\\n\");\n";
    else if (isFloat(spec))
      os << "    printf(\" %.9g\", (double)" << element << ");\n"
         << "  printf(\"\\n\");\n";
    else
      os << "    printf(\" %lld\", (long long)" << element << ");\n"
         << "  printf(\"\\n\");\n";
    if (!entry.staticMemory)
      os << "  free(" << result << ".allocated);\n";
  }
  if (!anyFloat)
    os << "  print_flush();\n";
  os << "  return 0;\n}\n";
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Compilation
//===----------------------------------------------------------------------===//

static llvm::Error runCompiler(llvm::StringRef irPath,
                               llvm::StringRef outputPath) {
  auto error = [](const llvm::Twine &message) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
  };
  std::string compiler = compilerPath;
  if (compiler.empty()) {
    for (llvm::StringRef name : {"clang-22", "clang"}) {
      if (llvm::ErrorOr<std::string> path =
              llvm::sys::findProgramByName(name)) {
        compiler = *path;
        break;
      }
    }
    if (compiler.empty())
      return error("cannot find clang-22 or clang in PATH; pass --cc=<path>");
  }

  std::string optFlag =
      "-O" + std::to_string(std::min(optLevel.getValue(), 3u));
  llvm::SmallVector<llvm::StringRef> args = {compiler, optFlag,
                                             "-Wno-override-module"};
  // A bare-metal object is linked at fixed addresses: position-independent
  // code would only add GOT loads.
  std::string targetFlag = "--target=" + targetTriple;
  std::string cpuFlag = "-mcpu=" + targetCPU;
  llvm::SmallVector<llvm::StringRef> features;
  if (targetTriple.empty()) {
    args.push_back("-fPIC");
  } else {
    args.push_back(targetFlag);
    if (!targetCPU.empty())
      args.push_back(cpuFlag);
    // The functions carry the features too; these set the module's
    // defaults (ELF attributes, RISC-V's compressed instructions).
    llvm::StringRef(targetFeatures)
        .split(features, ',', -1, /*KeepEmpty=*/false);
    for (llvm::StringRef feature : features)
      args.append({"-Xclang", "-target-feature", "-Xclang", feature});
    // The entry points take pointers only, so the float calling
    // convention does not matter: softfp links with both soft-float and
    // FPU C libraries, and uses an FPU only where the features keep one
    // (the presets' -fpregs removes it).
    if (llvm::Triple(targetTriple).isARM() ||
        llvm::Triple(targetTriple).isThumb())
      args.push_back("-mfloat-abi=softfp");
  }
  if (shared)
    args.push_back("-shared");
  else
    args.push_back("-c");
  for (const std::string &arg : compilerArgs)
    args.push_back(arg);
  args.append({"-x", "ir", irPath, "-o", outputPath});
  // Math intrinsics (roundeven, ...) may become libm calls.
  if (shared)
    args.push_back("-lm");
  if (shared && threadCount > 1)
    args.push_back("-fopenmp");

  std::string message;
  int status = llvm::sys::ExecuteAndWait(compiler, args, /*Env=*/std::nullopt,
                                         /*Redirects=*/{}, /*SecondsToWait=*/0,
                                         /*MemoryLimit=*/0, &message);
  if (status < 0)
    return error("cannot run " + compiler + ": " + message);
  if (status != 0)
    return error(compiler + " failed with exit code " + llvm::Twine(status));
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// The CPU check
//===----------------------------------------------------------------------===//

/// The features of the kernel targets (vnni::KernelTarget::features), in
/// __builtin_cpu_supports' spelling, which is LLVM's without the "+".
static constexpr llvm::StringLiteral kCheckableFeatures[] = {
    "avx2",     "avx512f",    "avx512bw", "avx512dq",
    "avx512vl", "avx512vnni", "avxvnni"};

/// The CPU features the functions of `module` were compiled for.
static llvm::SmallVector<llvm::StringRef>
getRequiredFeatures(llvm::Module &module) {
  llvm::SmallSetVector<llvm::StringRef, 8> features;
  for (llvm::Function &function : module) {
    llvm::Attribute attr = function.getFnAttribute("target-features");
    if (!attr.isValid())
      continue;
    llvm::SmallVector<llvm::StringRef> parts;
    attr.getValueAsString().split(parts, ',', -1, /*KeepEmpty=*/false);
    for (llvm::StringRef part : parts)
      if (part.consume_front("+")) {
        if (llvm::is_contained(kCheckableFeatures, part))
          features.insert(part);
        else
          warn("@" + function.getName() + " uses CPU feature '" + part +
               "', which the library cannot check when it is called");
      }
  }
  return features.takeVector();
}

/// Only the C interfaces are called from outside: every other definition
/// gets internal linkage, so that the object exports nothing else (two
/// models with different --symbol-prefix link into one program) and the
/// optimizer may drop what the C interfaces inlined. LLVM's own globals
/// (llvm.global_ctors: myquant-openmp-wait-policy) keep theirs.
static void internalizeAllButCInterfaces(llvm::Module &module) {
  for (llvm::GlobalValue &value : module.global_values())
    if (!value.isDeclaration() && !value.hasLocalLinkage() &&
        !value.getName().starts_with("_mlir_ciface_") &&
        !value.getName().starts_with("llvm."))
      value.setLinkage(llvm::GlobalValue::InternalLinkage);
}

/// Emits `int NAME_cpu_supported(void)` and makes every exported function
/// (the C interfaces) call a check that prints which features this CPU lacks
/// and aborts: code for a kernel target the CPU lacks would die of SIGILL.
/// The check is what clang emits for __builtin_cpu_supports (libgcc's or
/// compiler-rt's __cpu_model), so an object file needs no other runtime.
static void addCPUCheck(llvm::Module &module) {
  llvm::SmallVector<llvm::StringRef> features = getRequiredFeatures(module);
  llvm::SmallVector<llvm::Function *> exported;
  // Not the kernels (internal): their own code may use the features before
  // the call, and only the entry points call them.
  for (llvm::Function &function : module)
    if (!function.isDeclaration() && function.hasExternalLinkage())
      exported.push_back(&function);

  llvm::LLVMContext &ctx = module.getContext();
  llvm::IRBuilder<> b(ctx);
  llvm::Type *i32 = b.getInt32Ty();
  llvm::Type *ptr = b.getPtrTy();
  auto *supported = llvm::Function::Create(
      llvm::FunctionType::get(i32, /*isVarArg=*/false),
      llvm::GlobalValue::ExternalLinkage,
      symbolPrefix + functionName + "_cpu_supported", module);
  b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "", supported));
  if (features.empty()) {
    b.CreateRet(b.getInt32(1));
    return;
  }

  auto *cpuModelType =
      llvm::StructType::get(ctx, {i32, i32, i32, llvm::ArrayType::get(i32, 1)});
  auto *cpuModel = llvm::cast<llvm::GlobalVariable>(
      module.getOrInsertGlobal("__cpu_model", cpuModelType));
  auto *cpuFeatures2 =
      llvm::cast<llvm::GlobalVariable>(module.getOrInsertGlobal(
          "__cpu_features2", llvm::ArrayType::get(i32, 3)));
  cpuModel->setDSOLocal(true);
  cpuFeatures2->setDSOLocal(true);
  llvm::FunctionCallee init =
      module.getOrInsertFunction("__cpu_indicator_init", b.getVoidTy());
  // Word 0 of the mask is __cpu_model.__cpu_features[0], words 1-3 are
  // __cpu_features2[0-2].
  auto hasFeature = [&](llvm::StringRef feature) -> llvm::Value * {
    std::array<uint32_t, 4> mask = llvm::X86::getCpuSupportsMask(feature);
    unsigned word =
        llvm::find_if(mask, [](uint32_t m) { return m != 0; }) - mask.begin();
    llvm::Value *address =
        word == 0 ? b.CreateConstInBoundsGEP2_32(cpuModelType, cpuModel, 0, 3)
                  : b.CreateConstInBoundsGEP2_32(cpuFeatures2->getValueType(),
                                                 cpuFeatures2, 0, word - 1);
    llvm::Value *bits = b.CreateAnd(b.CreateLoad(i32, address), mask[word]);
    return b.CreateICmpNE(bits, b.getInt32(0));
  };
  b.CreateCall(init);
  llvm::Value *all = b.getTrue();
  for (llvm::StringRef feature : features)
    all = b.CreateAnd(all, hasFeature(feature));
  b.CreateRet(b.CreateZExt(all, i32));

  auto *check = llvm::Function::Create(
      llvm::FunctionType::get(b.getVoidTy(), /*isVarArg=*/false),
      llvm::GlobalValue::InternalLinkage, "myquant.check_cpu", module);
  auto *entry = llvm::BasicBlock::Create(ctx, "", check);
  auto *fail = llvm::BasicBlock::Create(ctx, "fail", check);
  auto *ok = llvm::BasicBlock::Create(ctx, "ok", check);
  b.SetInsertPoint(entry);
  b.CreateCondBr(b.CreateICmpNE(b.CreateCall(supported), b.getInt32(0)), ok,
                 fail);
  b.SetInsertPoint(ok);
  b.CreateRetVoid();

  b.SetInsertPoint(fail);
  llvm::FunctionCallee write = module.getOrInsertFunction(
      "write", b.getInt64Ty(), i32, ptr, b.getInt64Ty());
  llvm::FunctionCallee abort =
      module.getOrInsertFunction("abort", b.getVoidTy());
  auto print = [&](const std::string &text, llvm::Value *condition) {
    llvm::Value *length = b.getInt64(text.size());
    if (condition)
      length = b.CreateSelect(condition, b.getInt64(0), length);
    b.CreateCall(write, {b.getInt32(2), b.CreateGlobalString(text), length});
  };
  print("myquant: cannot run @" + functionName +
            ": it was compiled for the CPU features " +
            llvm::join(features, " ") + ", and this CPU lacks",
        nullptr);
  for (llvm::StringRef feature : features)
    print((" " + feature).str(), hasFeature(feature));
  print("; compile it with --target=generic, or with --target=host on the "
        "machine that runs it\n",
        nullptr);
  b.CreateCall(abort)->setDoesNotReturn();
  b.CreateUnreachable();

  for (llvm::Function *function : exported) {
    b.SetInsertPoint(&*function->getEntryBlock().getFirstInsertionPt());
    b.CreateCall(check);
  }
}

/// Fills --triple, --cpu, --features and --arena-alignment from
/// --target-preset where the command line leaves them out.
static llvm::Error applyTargetPreset() {
  const TargetPreset *preset =
      llvm::find_if(kTargetPresets, [](const TargetPreset &p) {
        return p.name == targetPreset;
      });
  if (preset == std::end(kTargetPresets)) {
    llvm::SmallVector<llvm::StringRef> names;
    for (const TargetPreset &p : kTargetPresets)
      names.push_back(p.name);
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "unknown --target-preset '" + targetPreset +
                                       "' (expected " +
                                       llvm::join(names, ", ") + ")");
  }
  if (!targetTriple.getNumOccurrences())
    targetTriple = preset->triple.str();
  if (!targetCPU.getNumOccurrences())
    targetCPU = preset->cpu.str();
  if (!targetFeatures.getNumOccurrences())
    targetFeatures = preset->features.str();
  if (!arenaAlignment.getNumOccurrences())
    arenaAlignment = preset->arenaAlignment;
  if (targetTriple.empty() && (!targetCPU.empty() || !targetFeatures.empty()))
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "--cpu and --features need a --triple (for the compiling machine, "
        "pass --cc-arg=-march=...)");
  return llvm::Error::success();
}

/// Gives every function of a cross target's module its CPU and features
/// (they decide instruction selection function by function) and marks it
/// nounwind: the code never throws, and unwind tables would pull the C++
/// unwinder's personality routine into a bare-metal program.
static void setTargetAttributes(llvm::Module &module) {
  for (llvm::Function &function : module) {
    if (function.isDeclaration())
      continue;
    function.setDoesNotThrow();
    if (!targetCPU.empty())
      function.addFnAttr("target-cpu", targetCPU);
    if (targetFeatures.empty())
      continue;
    // After the kernels' own (an x86 triple's VNNI kernels).
    llvm::Attribute own = function.getFnAttribute("target-features");
    function.addFnAttr(
        "target-features",
        own.isValid()
            ? (own.getValueAsString() + "," + targetFeatures.getValue()).str()
            : targetFeatures.getValue());
  }
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  registerDriverCLOptions();
  cl::HideUnrelatedOptions(compileCategory);
  cl::ParseCommandLineOptions(
      argc, argv,
      "myquant-compile: lower a module and compile it to an object file or a "
      "shared library with a C header\n\n"
      "MLIR's context and pass manager options (--mlir-timing, "
      "--mlir-print-ir-after-all, ...) are accepted too; "
      "--cc-arg=-ftime-report times the LLVM passes.\n");
  if (optLevel > 3)
    return fail("--opt-level must be between 0 and 3");
  if (shared && emitLLVM)
    return fail("--shared and --emit-llvm cannot be combined");
  if (llvm::Error error = applyTargetPreset())
    return fail(std::move(error));
  bool cross = !targetTriple.empty();
  if (cross && shared)
    return fail("--shared builds a library for the compiling machine; for "
                "--triple=" +
                targetTriple + " compile an object file");
  if (cross && threadCount > 1)
    return fail(
        "--kernel-threads needs OpenMP, which a cross target (--triple=" +
        targetTriple + ") does not have");

  // Created first, so that an unwritable one fails before any work; put
  // in place together once everything succeeded.
  OutputFiles outputs;
  llvm::Expected<OutputFiles::File *> output = outputs.add(outputFilename);
  if (!output)
    return fail(output.takeError());
  OutputFiles::File *header = nullptr;
  if (!headerFilename.empty()) {
    llvm::Expected<OutputFiles::File *> file = outputs.add(headerFilename);
    if (!file)
      return fail(file.takeError());
    header = *file;
  }
  OutputFiles::File *exampleMain = nullptr;
  if (!exampleMainFilename.empty()) {
    if (!header)
      return fail("--example-main needs --header: the program includes it");
    llvm::Expected<OutputFiles::File *> file = outputs.add(exampleMainFilename);
    if (!file)
      return fail(file.takeError());
    exampleMain = *file;
  }

  DriverSession session;
  LowerToLLVMOptions lowerOptions;
  lowerOptions.target = kernelTarget;
  lowerOptions.threads = threadCount;
  lowerOptions.threadMinMacs = threadMinMacs;
  lowerOptions.splitBatchMaxWeightBytes = splitBatchMaxWeightBytes;
  lowerOptions.staticMemory = staticMemory;
  lowerOptions.arenaAlignment = arenaAlignment;
  lowerOptions.symbolPrefix = symbolPrefix;
  lowerOptions.triple = targetTriple;
  lowerOptions.cpu = targetCPU;
  lowerOptions.features = targetFeatures;
  lowerOptions.allowFloatIo = allowFloatIo;
  llvm::Expected<OwningOpRef<ModuleOp>> loaded =
      session.loadAndLower(inputFilename, functionName, lowerOptions);
  if (!loaded)
    return fail(loaded.takeError());
  OwningOpRef<ModuleOp> module = std::move(*loaded);
  if (header) {
    llvm::Expected<EntryPoint> entry =
        getEntryPoint(*module, symbolPrefix + functionName);
    if (!entry)
      return fail(entry.takeError());
    unsigned indexBits = DataLayout(*module).getTypeSizeInBits(
        IndexType::get(module->getContext()));
    if (llvm::Error error = writeHeader(*entry, indexBits, *header->os))
      return fail(std::move(error));
    if (exampleMain)
      if (llvm::Error error = writeExampleMain(*entry, *exampleMain->os))
        return fail(std::move(error));
  }

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule = translateModuleToLLVMIR(
      *module, llvmContext, llvm::sys::path::stem(inputFilename));
  if (!llvmModule)
    return fail("cannot translate " + inputFilename + " to LLVM IR");
  internalizeAllButCInterfaces(*llvmModule);
  addCPUCheck(*llvmModule);
  if (cross)
    setTargetAttributes(*llvmModule);

  if (emitLLVM) {
    llvmModule->print(*(*output)->os, nullptr);
  } else {
    int fd;
    llvm::SmallString<128> irPath;
    if (std::error_code ec = llvm::sys::fs::createTemporaryFile(
            "myquant-compile", "bc", fd, irPath))
      return fail("cannot create a temporary file: " + ec.message());
    llvm::FileRemover remover(irPath);
    {
      // Bitcode, not text: printing and parsing the text of a deep model
      // took about a tenth of its compile time.
      llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
      llvm::WriteBitcodeToFile(*llvmModule, os);
      os.close();
      if (os.has_error()) {
        std::string message = os.error().message();
        os.clear_error();
        return fail("cannot write " + irPath + ": " + message);
      }
    }
    // The compiler writes the output itself.
    (*output)->os.reset();
    if (llvm::Error error = runCompiler(irPath, (*output)->tempPath))
      return fail(std::move(error));
  }
  if (llvm::Error error = outputs.commit())
    return fail(std::move(error));
  return 0;
}
