//===- Npy.cpp - NumPy .npy and .npz files --------------------------------===//

#include "myquant/Execution/Npy.h"

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
    text += size < 0 ? "?" : std::to_string(size);
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
  return getElementKindInfo(kind).npyDescr;
}

/// The element kind of a dtype string, if we support it. Data is copied
/// as-is, so multi-byte types must be little-endian; single bytes have no
/// order.
static std::optional<ElementKind> parseDescr(StringRef descr) {
  if (descr == "<i1" || descr == ">i1" || descr == "=i1")
    return ElementKind::I8;
  for (ElementKind kind : {ElementKind::F32, ElementKind::F64, ElementKind::I8,
                           ElementKind::I32, ElementKind::I64})
    if (descr == getElementKindInfo(kind).npyDescr)
      return kind;
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

namespace {
/// Where the header and the data of a .npy image start.
struct NpyLayout {
  uint64_t header;
  uint64_t data;
};
} // namespace

/// The bytes of a .npy image that getLayout() needs: the magic, the version
/// and the longest header length.
static constexpr size_t kLayoutBytes = kMagicSize + 2 + 4;

/// The layout of the .npy image starting with `file` (at least its first
/// kLayoutBytes bytes, or the whole image if shorter).
static Expected<NpyLayout> getLayout(StringRef file, const Twine &path) {
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
  return NpyLayout{prefix, prefix + headerLength};
}

/// Parses the header of the .npy image `file` (at least up to its data,
/// which starts at `dataOffset`) and checks that the image has `fileSize`
/// bytes, as its array needs; `path` names it in messages.
static Expected<NpyArray> parseNpyHeader(StringRef file, uint64_t fileSize,
                                         const Twine &path,
                                         uint64_t &dataOffset) {
  Expected<NpyLayout> layout = getLayout(file, path);
  if (!layout)
    return layout.takeError();
  if (fileSize < layout->data || file.size() < layout->data)
    return makeError(path + ": truncated .npy header");

  NpyArray array;
  StringRef header = file.slice(layout->header, layout->data);
  std::string pathText = path.str();
  if (Error error = HeaderParser(header, pathText).parse(array))
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
  if (fileSize - layout->data != static_cast<uint64_t>(bytes))
    return makeError(path + ": " + array.describe() + " needs " + Twine(bytes) +
                     " bytes of data, but the file has " +
                     Twine(fileSize - layout->data));
  dataOffset = layout->data;
  return array;
}

/// Parses the .npy image `file`; `path` names it in messages.
static Expected<NpyArray> parseNpy(StringRef file, const Twine &path) {
  uint64_t dataOffset = 0;
  Expected<NpyArray> array =
      parseNpyHeader(file, file.size(), path, dataOffset);
  if (!array || !array->element)
    return array;
  StringRef data = file.drop_front(dataOffset);
  array->storage.resize(divideCeil(data.size(), sizeof(uint64_t)));
  if (!data.empty())
    std::memcpy(array->storage.data(), data.data(), data.size());
  return array;
}

static Expected<std::unique_ptr<MemoryBuffer>> readFile(StringRef path) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> fileOrError =
      MemoryBuffer::getFile(path, /*IsText=*/false,
                            /*RequiresNullTerminator=*/false);
  if (std::error_code ec = fileOrError.getError())
    return makeError("cannot read " + path + ": " + ec.message());
  return std::move(*fileOrError);
}

Expected<NpyArray> readNpy(StringRef path) {
  Expected<std::unique_ptr<MemoryBuffer>> file = readFile(path);
  if (!file)
    return file.takeError();
  return parseNpy((*file)->getBuffer(), path);
}

Expected<NpyFile> NpyFile::open(StringRef path) {
  Expected<sys::fs::file_t> file = sys::fs::openNativeFileForRead(path);
  if (!file)
    return makeError("cannot read " + path + ": " + toString(file.takeError()));
  NpyFile result(path, *file);
  sys::fs::file_status status;
  if (std::error_code ec = sys::fs::status(*file, status))
    return makeError("cannot read " + path + ": " + ec.message());
  uint64_t size = status.getSize();
  std::string head(std::min<uint64_t>(size, kLayoutBytes), '\0');
  if (Error error = result.read(0, head.size(), head.data()))
    return std::move(error);
  Expected<NpyLayout> layout = getLayout(head, path);
  if (!layout)
    return layout.takeError();
  head.resize(std::min(size, layout->data));
  if (Error error = result.read(0, head.size(), head.data()))
    return std::move(error);
  Expected<NpyArray> header =
      parseNpyHeader(head, size, path, result.dataOffset);
  if (!header)
    return header.takeError();
  result.header = std::move(*header);
  return std::move(result);
}

NpyFile::NpyFile(StringRef path, sys::fs::file_t file)
    : path(path.str()), file(file) {}

NpyFile::NpyFile(NpyFile &&other) noexcept
    : path(std::move(other.path)), file(other.file),
      header(std::move(other.header)), dataOffset(other.dataOffset) {
  other.file = sys::fs::kInvalidFile;
}

NpyFile::~NpyFile() {
  if (file != sys::fs::kInvalidFile)
    consumeError(errorCodeToError(sys::fs::closeFile(file)));
}

Error NpyFile::read(uint64_t offset, uint64_t size, char *out) const {
  while (size > 0) {
    Expected<size_t> got = sys::fs::readNativeFileSlice(
        file, MutableArrayRef<char>(out, size), offset);
    if (!got)
      return makeError("cannot read " + path + ": " +
                       toString(got.takeError()));
    if (*got == 0)
      return makeError("cannot read " + path + ": the file shrank");
    out += *got;
    offset += *got;
    size -= *got;
  }
  return Error::success();
}

Error NpyFile::readRows(int64_t first, int64_t count, void *out) const {
  int64_t rowBytes = getElementKindSize(*header.element);
  for (int64_t size : ArrayRef<int64_t>(header.shape).drop_front())
    rowBytes *= size;
  return read(dataOffset + first * rowBytes, count * rowBytes,
              static_cast<char *>(out));
}

//===----------------------------------------------------------------------===//
// .npz: the zip container
//===----------------------------------------------------------------------===//

namespace {
/// Little-endian reads at offsets of a zip file, checked against its end.
class ZipReader {
public:
  ZipReader(StringRef file, StringRef path) : file(file), path(path) {}

  bool has(uint64_t offset, uint64_t size) const {
    return offset <= file.size() && size <= file.size() - offset;
  }
  uint16_t read16(uint64_t offset) const {
    return support::endian::read16le(file.data() + offset);
  }
  uint32_t read32(uint64_t offset) const {
    return support::endian::read32le(file.data() + offset);
  }
  uint64_t read64(uint64_t offset) const {
    return support::endian::read64le(file.data() + offset);
  }
  Error fail(const Twine &message) const {
    return makeError(path + ": malformed .npz (zip) file: " + message);
  }

  Expected<std::vector<NamedNpyArray>> readAll();

private:
  /// Finds the central directory: its offset and number of entries.
  Error findCentralDirectory(uint64_t &offset, uint64_t &entries);

  StringRef file;
  StringRef path;
};
} // namespace

static constexpr uint32_t kEndOfCentralDirectory = 0x06054b50;
static constexpr uint32_t kZip64EndOfCentralDirectory = 0x06064b50;
static constexpr uint32_t kZip64Locator = 0x07064b50;
static constexpr uint32_t kCentralHeader = 0x02014b50;
static constexpr uint32_t kLocalHeader = 0x04034b50;
static constexpr uint32_t k32BitMax = 0xffffffff;

Error ZipReader::findCentralDirectory(uint64_t &offset, uint64_t &entries) {
  // The end record is the last 22 bytes plus a comment of up to 64 KiB.
  constexpr uint64_t kEndSize = 22;
  if (file.size() < kEndSize)
    return fail("too short for a zip file");
  uint64_t end = file.size() - kEndSize;
  uint64_t lowest = end > 0xffff ? end - 0xffff : 0;
  while (read32(end) != kEndOfCentralDirectory) {
    if (end == lowest)
      return fail("no end of central directory record");
    --end;
  }
  entries = read16(end + 10);
  offset = read32(end + 16);
  if (entries != 0xffff && offset != k32BitMax)
    return Error::success();
  // ZIP64: the locator just before the end record points to the real one.
  if (end < 20 || read32(end - 20) != kZip64Locator)
    return fail("ZIP64 end of central directory locator missing");
  uint64_t record = read64(end - 20 + 8);
  if (!has(record, 56) || read32(record) != kZip64EndOfCentralDirectory)
    return fail("bad ZIP64 end of central directory record");
  entries = read64(record + 32);
  offset = read64(record + 48);
  return Error::success();
}

Expected<std::vector<NamedNpyArray>> ZipReader::readAll() {
  uint64_t offset, entries;
  if (Error error = findCentralDirectory(offset, entries))
    return std::move(error);
  std::vector<NamedNpyArray> arrays;
  for (uint64_t entry = 0; entry < entries; ++entry) {
    constexpr uint64_t kHeaderSize = 46;
    if (!has(offset, kHeaderSize) || read32(offset) != kCentralHeader)
      return fail("bad central directory entry #" + Twine(entry));
    uint16_t flags = read16(offset + 8);
    uint16_t method = read16(offset + 10);
    uint64_t compressedSize = read32(offset + 20);
    uint64_t size = read32(offset + 24);
    uint16_t nameLength = read16(offset + 28);
    uint16_t extraLength = read16(offset + 30);
    uint16_t commentLength = read16(offset + 32);
    uint64_t localOffset = read32(offset + 42);
    if (!has(offset + kHeaderSize,
             uint64_t(nameLength) + extraLength + commentLength))
      return fail("truncated central directory entry #" + Twine(entry));
    std::string name = file.substr(offset + kHeaderSize, nameLength).str();

    // Sizes and offsets that do not fit 32 bits live in the ZIP64 extra
    // field, in this order, each only when its 32-bit slot is saturated.
    uint64_t extra = offset + kHeaderSize + nameLength;
    uint64_t extraEnd = extra + extraLength;
    while (extra + 4 <= extraEnd) {
      uint16_t id = read16(extra), length = read16(extra + 2);
      uint64_t field = extra + 4, fieldEnd = field + length;
      if (fieldEnd > extraEnd)
        return fail("bad extra field of '" + name + "'");
      if (id == 0x0001) {
        for (uint64_t *value : {&size, &compressedSize, &localOffset}) {
          if (*value != k32BitMax)
            continue;
          if (field + 8 > fieldEnd)
            return fail("short ZIP64 extra field of '" + name + "'");
          *value = read64(field);
          field += 8;
        }
      }
      extra = fieldEnd;
    }
    offset = extraEnd + commentLength;

    if (flags & 1)
      return makeError(path + ": member '" + name + "' is encrypted");
    if (method != 0)
      return makeError(path + ": member '" + name +
                       "' is compressed (numpy.savez_compressed); save the "
                       "arrays with numpy.savez");
    if (compressedSize != size)
      return fail("stored member '" + name + "' has two sizes");
    constexpr uint64_t kLocalSize = 30;
    if (!has(localOffset, kLocalSize) || read32(localOffset) != kLocalHeader)
      return fail("bad local header of '" + name + "'");
    uint64_t data = localOffset + kLocalSize + read16(localOffset + 26) +
                    read16(localOffset + 28);
    if (!has(data, size))
      return fail("truncated data of '" + name + "'");

    StringRef key = StringRef(name);
    if (!key.consume_back(".npy"))
      return makeError(path + ": member '" + name + "' is not a .npy array");
    Expected<NpyArray> array =
        parseNpy(file.substr(data, size), path + ":" + key);
    if (!array)
      return array.takeError();
    arrays.push_back({key.str(), std::move(*array)});
  }
  return arrays;
}

Expected<std::vector<NamedNpyArray>> readNpz(StringRef path) {
  Expected<std::unique_ptr<MemoryBuffer>> file = readFile(path);
  if (!file)
    return file.takeError();
  return ZipReader((*file)->getBuffer(), path).readAll();
}

void writeNpy(raw_ostream &os, ElementKind kind, ArrayRef<int64_t> shape,
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
}

Error writeNpy(StringRef path, ElementKind kind, ArrayRef<int64_t> shape,
               const void *data) {
  std::error_code ec;
  raw_fd_ostream os(path, ec, sys::fs::OF_None);
  if (ec)
    return makeError("cannot write " + path + ": " + ec.message());
  writeNpy(os, kind, shape, data);
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
