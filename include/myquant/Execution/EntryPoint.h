//===- EntryPoint.h - the C interface of a lowered function -----*- C++ -*-===//
//
// What myquant-run and myquant-compile need to call a function lowered by
// `myquant-lower-to-llvm` through `_mlir_ciface_<name>`:
//
//   void _mlir_ciface_<name>([Results *out,] Desc0 *arg0, Desc1 *arg1, ...);
//
// Each DescN is a memref descriptor of rank R, all 64-bit words:
//   { T *allocated; T *aligned; int64_t offset; int64_t sizes[R];
//     int64_t strides[R]; }
// With one result, `out` points to its descriptor; with several, to a struct
// of their descriptors in order (no padding, every field is 8 bytes); with
// none, there is no `out`. With static memory (EntryPoint::staticMemory):
//
//   void _mlir_ciface_<name>(In0 *arg0, ..., Res0 *result0, ...,
//                            I8Desc1 *arena);
//
//===----------------------------------------------------------------------===//

#ifndef MYQUANT_EXECUTION_ENTRYPOINT_H
#define MYQUANT_EXECUTION_ENTRYPOINT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>

namespace myquant {

/// Element types an entry point may take or return.
enum class ElementKind { F32, F64, I8, I32, I64 };

/// What the tools need to know of an element kind, in one table.
struct ElementKindInfo {
  /// "f32", "i8", ...
  llvm::StringLiteral name;
  /// Size in bytes.
  unsigned size;
  /// numpy's dtype string for it (little-endian).
  llvm::StringLiteral npyDescr;
  /// The C type in generated headers.
  llvm::StringLiteral cType;
};
const ElementKindInfo &getElementKindInfo(ElementKind kind);
inline llvm::StringRef getElementKindName(ElementKind kind) {
  return getElementKindInfo(kind).name;
}
inline unsigned getElementKindSize(ElementKind kind) {
  return getElementKindInfo(kind).size;
}
/// The kind of an element type, if it is one an entry point may use.
std::optional<ElementKind> getElementKind(mlir::Type elementType);

/// One argument or result: a ranked tensor (or identity-layout memref).
struct BufferSpec {
  ElementKind element;
  /// mlir::ShapedType::kDynamic for a dynamic dimension.
  llvm::SmallVector<int64_t> shape;
  /// The type as written, for messages.
  std::string typeName;
  /// A memref in the signature: unlike a tensor, the function may write it.
  bool isMemRef = false;

  int64_t getRank() const { return shape.size(); }
  /// Words in the memref descriptor: two pointers, the offset, the sizes and
  /// the strides.
  int64_t getDescriptorWords() const { return 3 + 2 * getRank(); }
};

/// The memory of a function lowered with static memory
/// (myquant-plan-static-memory), in bytes.
struct StaticMemory {
  int64_t arenaSize;
  int64_t alignment;
  /// The most the temporaries live at one time take: the arena's lower
  /// bound.
  int64_t peakLive;
  /// The constant globals (weights, tables).
  int64_t weightsSize;
};

struct EntryPoint {
  std::string name;
  llvm::SmallVector<BufferSpec> inputs;
  llvm::SmallVector<BufferSpec> results;
  /// With static memory, the C interface takes no result block: one
  /// descriptor per input, then one per result (a caller-provided buffer
  /// the call fills), then the arena, an i8 buffer of rank 1.
  std::optional<StaticMemory> staticMemory;
  /// The lowered llvm.func, for its discardable attributes.
  mlir::Operation *func = nullptr;
};

/// Checks, before lowering, that `module` defines a public function `name`.
llvm::Error checkEntryPointDefined(mlir::ModuleOp module, llvm::StringRef name);

/// Reads the signature of `name` from a module lowered by
/// myquant::lowerToLLVM and checks that its C interface exists.
llvm::Expected<EntryPoint> getEntryPoint(mlir::ModuleOp lowered,
                                         llvm::StringRef name);

/// The entry point @`name` of tensor-level type `signature` gets once lowered
/// to LLVM with a C interface and without static memory (`func` stays null):
/// for an object compiled earlier from the function.
llvm::Expected<EntryPoint> getEntryPoint(llvm::StringRef name,
                                         mlir::FunctionType signature);

} // namespace myquant

#endif // MYQUANT_EXECUTION_ENTRYPOINT_H
