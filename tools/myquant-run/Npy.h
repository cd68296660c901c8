//===- Npy.h - NumPy .npy files of plain little-endian arrays ---*- C++ -*-===//
//
// Format versions 1.0 and 2.0 (https://numpy.org/neps/nep-0001-npy-format.html)
// holding C-order arrays of '<f4', '<f8', '|i1', '<i4' or '<i8'. Anything
// else is read far enough to describe it in an error message.
//
//===----------------------------------------------------------------------===//

#ifndef MYQUANT_TOOLS_MYQUANT_RUN_NPY_H
#define MYQUANT_TOOLS_MYQUANT_RUN_NPY_H

#include "myquant/Pipelines/EntryPoint.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace myquant {

struct NpyArray {
  /// The dtype as written in the header, e.g. "<f4".
  std::string descr;
  /// The element kind, when `descr` is one we support.
  std::optional<ElementKind> element;
  bool fortranOrder = false;
  llvm::SmallVector<int64_t> shape;
  /// The raw little-endian data; 8-byte words so any element is aligned.
  std::vector<uint64_t> storage;

  void *data() { return storage.data(); }
  /// "dtype '<f4', shape (2, 3)" for messages.
  std::string describe() const;
};

/// "(2, 3)", "(5,)" or "()", as numpy prints shapes.
std::string formatShape(llvm::ArrayRef<int64_t> shape);

/// The dtype string we read and write for `kind`.
llvm::StringRef getNpyDescr(ElementKind kind);

/// Reads `path`; the array may have any dtype and order (check `element` and
/// `fortranOrder`), but the header must be well formed and the data complete.
llvm::Expected<NpyArray> readNpy(llvm::StringRef path);

/// Writes a C-order array of `kind` with `shape` from `data` (version 1.0,
/// or 2.0 when the header needs it).
llvm::Error writeNpy(llvm::StringRef path, ElementKind kind,
                     llvm::ArrayRef<int64_t> shape, const void *data);

} // namespace myquant

#endif // MYQUANT_TOOLS_MYQUANT_RUN_NPY_H
