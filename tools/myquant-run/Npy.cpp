//===- Npy.cpp - NumPy .npy files of plain little-endian arrays -----------===//

#include "Npy.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

using namespace llvm;

namespace myquant {

static constexpr char kMagic[] = "\x93NUMPY";
static constexpr size_t kMagicSize = 6;

static Error makeError(const Twine &message) {
  return createStringError(inconvertibleErrorCode(), message);
}

std::string formatShape(ArrayRef<int64_t> shape) {
  std::string text = "(";
  for (auto [index, size] : llvm::enumerate(shape)) {
    if (index)
      text += ", ";
    text += std::to_string(size);
  }
  if (shape.size() == 1)
    text += ",";
  return text + ")";
}

std::string NpyArray::describe() const {
  return "dtype '" + descr + "', shape " + formatShape(shape) +
         (fortranOrder ? ", Fortran order" : "");
}

StringRef getNpyDescr(ElementKind kind) {
  switch (kind) {
  case ElementKind::F32:
    return "<f4";
  case ElementKind::F64:
    return "<f8";
  case ElementKind::I8:
    return "|i1";
  case ElementKind::I32:
    return "<i4";
  case ElementKind::I64:
    return "<i8";
  }
  llvm_unreachable("unknown element kind");
}

/// The element kind of a dtype string, if we support it. Data is copied
/// as-is, so multi-byte types must be little-endian; single bytes have no
/// order.
static std::optional<ElementKind> parseDescr(StringRef descr) {
  if (descr == "|i1" || descr == "<i1" || descr == ">i1" || descr == "=i1")
    return ElementKind::I8;
  if (descr == "<f4")
    return ElementKind::F32;
  if (descr == "<f8")
    return ElementKind::F64;
  if (descr == "<i4")
    return ElementKind::I32;
  if (descr == "<i8")
    return ElementKind::I64;
  return std::nullopt;
}

namespace {
/// Parses the header: a Python dict literal with the keys 'descr',
/// 'fortran_order' and 'shape'.
class HeaderParser {
public:
  HeaderParser(StringRef text, StringRef path) : text(text), path(path) {}

  Error parse(NpyArray &array) {
    bool sawDescr = false, sawOrder = false, sawShape = false;
    if (!consume('{'))
      return fail("expected '{'");
    while (!consume('}')) {
      std::string key;
      if (Error error = parseString(key))
        return error;
      if (!consume(':'))
        return fail("expected ':' after '" + key + "'");
      if (key == "descr") {
        sawDescr = true;
        // Structured dtypes are lists; keep their text for the message.
        if (peek() == '[') {
          size_t end = text.find(']');
          array.descr =
              text.substr(0, end == StringRef::npos ? text.size() : end + 1)
                  .str();
          text = text.drop_front(array.descr.size());
        } else if (Error error = parseString(array.descr)) {
          return error;
        }
      } else if (key == "fortran_order") {
        sawOrder = true;
        skipSpaces();
        if (text.consume_front("True"))
          array.fortranOrder = true;
        else if (text.consume_front("False"))
          array.fortranOrder = false;
        else
          return fail("expected True or False for 'fortran_order'");
      } else if (key == "shape") {
        sawShape = true;
        if (Error error = parseShape(array.shape))
          return error;
      } else {
        return fail("unexpected key '" + key + "'");
      }
      if (!consume(',')) {
        if (!consume('}'))
          return fail("expected ',' or '}'");
        break;
      }
    }
    if (!sawDescr || !sawOrder || !sawShape)
      return fail("the header lacks 'descr', 'fortran_order' or 'shape'");
    return Error::success();
  }

private:
  void skipSpaces() { text = text.ltrim(" \t\n\r"); }
  char peek() {
    skipSpaces();
    return text.empty() ? '\0' : text.front();
  }
  bool consume(char c) {
    if (peek() != c)
      return false;
    text = text.drop_front();
    return true;
  }
  Error fail(const Twine &message) {
    return makeError(path + ": malformed .npy header: " + message);
  }

  Error parseString(std::string &result) {
    char quote = peek();
    if (quote != '\'' && quote != '"')
      return fail("expected a quoted string");
    text = text.drop_front();
    size_t end = text.find(quote);
    if (end == StringRef::npos)
      return fail("unterminated string");
    result = text.take_front(end).str();
    text = text.drop_front(end + 1);
    return Error::success();
  }

  Error parseShape(SmallVectorImpl<int64_t> &shape) {
    if (!consume('('))
      return fail("expected '(' for 'shape'");
    while (!consume(')')) {
      skipSpaces();
      size_t digits = text.find_first_not_of("0123456789");
      uint64_t size;
      if (digits == 0 || text.take_front(digits).getAsInteger(10, size) ||
          size > static_cast<uint64_t>(INT64_MAX))
        return fail("expected a non-negative dimension size");
      shape.push_back(static_cast<int64_t>(size));
      text = text.drop_front(digits == StringRef::npos ? text.size() : digits);
      if (!consume(',')) {
        if (!consume(')'))
          return fail("expected ',' or ')' in 'shape'");
        break;
      }
    }
    return Error::success();
  }

  StringRef text;
  StringRef path;
};
} // namespace

Expected<NpyArray> readNpy(StringRef path) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> fileOrError =
      MemoryBuffer::getFile(path, /*IsText=*/false,
                            /*RequiresNullTerminator=*/false);
  if (std::error_code ec = fileOrError.getError())
    return makeError("cannot read " + path + ": " + ec.message());
  StringRef file = (*fileOrError)->getBuffer();

  if (file.size() < kMagicSize + 2 ||
      file.take_front(kMagicSize) != StringRef(kMagic, kMagicSize))
    return makeError(path + ": not a .npy file (bad magic)");
  unsigned major = static_cast<unsigned char>(file[kMagicSize]);
  unsigned minor = static_cast<unsigned char>(file[kMagicSize + 1]);
  size_t lengthBytes;
  if (major == 1 && minor == 0)
    lengthBytes = 2;
  else if (major == 2 && minor == 0)
    lengthBytes = 4;
  else
    return makeError(path + ": unsupported .npy format version " +
                     Twine(major) + "." + Twine(minor) +
                     " (supported: 1.0, 2.0)");
  size_t prefix = kMagicSize + 2 + lengthBytes;
  if (file.size() < prefix)
    return makeError(path + ": truncated .npy header");
  const char *lengthPtr = file.data() + kMagicSize + 2;
  uint64_t headerLength =
      lengthBytes == 2
          ? support::endian::read16le(lengthPtr)
          : static_cast<uint64_t>(support::endian::read32le(lengthPtr));
  if (file.size() - prefix < headerLength)
    return makeError(path + ": truncated .npy header");

  NpyArray array;
  StringRef header = file.substr(prefix, headerLength);
  if (Error error = HeaderParser(header, path).parse(array))
    return std::move(error);
  array.element = parseDescr(array.descr);
  // Without a known element size the data cannot be checked; the caller
  // rejects the dtype with a message naming the argument.
  if (!array.element)
    return array;

  int64_t elements = 1, bytes;
  for (int64_t size : array.shape)
    if (MulOverflow(elements, size, elements))
      return makeError(path + ": shape " + formatShape(array.shape) +
                       " is too large");
  if (MulOverflow(elements,
                  static_cast<int64_t>(getElementKindSize(*array.element)),
                  bytes))
    return makeError(path + ": shape " + formatShape(array.shape) +
                     " is too large");
  StringRef data = file.drop_front(prefix + headerLength);
  if (data.size() != static_cast<uint64_t>(bytes))
    return makeError(path + ": " + array.describe() + " needs " + Twine(bytes) +
                     " bytes of data, but the file has " + Twine(data.size()));
  array.storage.resize(divideCeil(bytes, sizeof(uint64_t)));
  if (bytes)
    std::memcpy(array.storage.data(), data.data(), bytes);
  return array;
}

Error writeNpy(StringRef path, ElementKind kind, ArrayRef<int64_t> shape,
               const void *data) {
  std::string header =
      "{'descr': '" + getNpyDescr(kind).str() +
      "', 'fortran_order': False, 'shape': " + formatShape(shape) + ", }";
  // numpy pads the header with spaces and a newline so the data starts at a
  // multiple of 64 bytes.
  auto padTo64 = [&](size_t prefix) {
    size_t total = alignTo(prefix + header.size() + 1, 64);
    return std::string(total - prefix - header.size() - 1, ' ') + "\n";
  };
  bool version2 = header.size() + 1 + 64 > 0xffff;
  size_t prefix = kMagicSize + 2 + (version2 ? 4 : 2);
  header += padTo64(prefix);

  std::error_code ec;
  raw_fd_ostream os(path, ec, sys::fs::OF_None);
  if (ec)
    return makeError("cannot write " + path + ": " + ec.message());
  os.write(kMagic, kMagicSize);
  os << static_cast<char>(version2 ? 2 : 1) << '\0';
  char length[4];
  if (version2) {
    support::endian::write32le(length, header.size());
    os.write(length, 4);
  } else {
    support::endian::write16le(length, header.size());
    os.write(length, 2);
  }
  os << header;
  uint64_t elements = 1;
  for (int64_t size : shape)
    elements *= size;
  os.write(static_cast<const char *>(data),
           elements * getElementKindSize(kind));
  os.close();
  if (os.has_error()) {
    std::string message = os.error().message();
    // An uncleared error is fatal in raw_fd_ostream's destructor.
    os.clear_error();
    return makeError("cannot write " + path + ": " + message);
  }
  return Error::success();
}

} // namespace myquant
