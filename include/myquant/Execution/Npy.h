//===- Npy.h - NumPy .npy and .npz files ------------------------*- C++ -*-===//
//
// Format versions 1.0 and 2.0 (https://numpy.org/neps/nep-0001-npy-format.html)
// holding C-order arrays of '<f4', '<f8', '|i1', '<i4' or '<i8'. Anything
// else is read far enough to describe it in an error message. A .npz file is
// a zip archive of .npy members as numpy.savez writes it (stored, with or
// without ZIP64 records); compressed members (numpy.savez_compressed) are
// rejected with a message.
//
//===----------------------------------------------------------------------===//

#ifndef MYQUANT_EXECUTION_NPY_H
#define MYQUANT_EXECUTION_NPY_H

#include "myquant/Execution/EntryPoint.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

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

/// "(2, 3)", "(5,)" or "()", as numpy prints shapes; a negative (dynamic)
/// size prints as "?".
std::string formatShape(llvm::ArrayRef<int64_t> shape);

/// The dtype string we read and write for `kind`.
llvm::StringRef getNpyDescr(ElementKind kind);

/// Reads `path`; the array may have any dtype and order (check `element` and
/// `fortranOrder`), but the header must be well formed and the data complete.
llvm::Expected<NpyArray> readNpy(llvm::StringRef path);

/// A .npy file whose rows (the samples along its first dimension) are read
/// on demand, so that a reader of many samples holds few of them: the
/// memory of calibration does not grow with its data.
class NpyFile {
public:
  /// Opens `path` and reads its header; fails as readNpy() does on a
  /// malformed header or a data size that does not match it.
  static llvm::Expected<NpyFile> open(llvm::StringRef path);
  NpyFile(NpyFile &&other) noexcept;
  NpyFile &operator=(NpyFile &&) = delete;
  ~NpyFile();

  /// The array without its data (`storage` is empty).
  const NpyArray &getHeader() const { return header; }
  /// Copies rows [first, first + count) into `out`; needs a known element
  /// kind and a C-order array of rank 1 or more.
  llvm::Error readRows(int64_t first, int64_t count, void *out) const;

private:
  NpyFile(llvm::StringRef path, llvm::sys::fs::file_t file);
  llvm::Error read(uint64_t offset, uint64_t size, char *out) const;

  std::string path;
  llvm::sys::fs::file_t file;
  NpyArray header;
  uint64_t dataOffset = 0;
};

/// One member of a .npz archive.
struct NamedNpyArray {
  /// The member name without ".npy": the keyword of numpy.savez, or
  /// "arr_<i>" for its i-th positional array.
  std::string name;
  NpyArray array;
};

/// Reads every member of the .npz archive `path`, in archive order.
llvm::Expected<std::vector<NamedNpyArray>> readNpz(llvm::StringRef path);

/// Writes a C-order array of `kind` with `shape` from `data` (version 1.0,
/// or 2.0 when the header needs it); the caller checks the stream's error.
void writeNpy(llvm::raw_ostream &os, ElementKind kind,
              llvm::ArrayRef<int64_t> shape, const void *data);

/// writeNpy() into the file `path`.
llvm::Error writeNpy(llvm::StringRef path, ElementKind kind,
                     llvm::ArrayRef<int64_t> shape, const void *data);

} // namespace myquant

#endif // MYQUANT_EXECUTION_NPY_H
