//===- StatsFile.cpp - the JSON statistics file ---------------------------===//

#include "myquant/Calibration/StatsFile.h"
#include "myquant/Dialect/MyQuant/IR/MyQuantTypeUtils.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace mlir;

namespace myquant {

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

std::string formatNumber(double value) {
  std::string text;
  llvm::raw_string_ostream(text) << llvm::format("%g", value);
  return text;
}

SmallVector<int64_t> getStatsShape(ShapedType type) {
  SmallVector<int64_t> shape;
  for (int64_t size : type.getShape())
    shape.push_back(ShapedType::isDynamic(size) ? -1 : size);
  return shape;
}

//===----------------------------------------------------------------------===//
// Fixed parameters as a range
//===----------------------------------------------------------------------===//

std::optional<std::pair<double, double>>
getRangeForQParams(double scale, int64_t zeroPoint, int64_t qmin, int64_t qmax,
                   bool &exact) {
  exact = false;
  // Bounds within 32 bits keep qmin - zeroPoint and qmax - qmin exact.
  if (!std::isfinite(scale) || !(scale > 0) || qmin >= qmax ||
      qmin < INT32_MIN || qmax > INT32_MAX || zeroPoint < qmin ||
      zeroPoint > qmax)
    return std::nullopt;
  double lo = static_cast<double>(qmin - zeroPoint) * scale;
  double hi = static_cast<double>(qmax - zeroPoint) * scale;
  auto reproduces = [&](double l, double h) {
    AffineQParams params = computeActivationQParams(l, h, qmin, qmax);
    return params.scale == scale && params.zeroPoint == zeroPoint;
  };
  auto step = [](double value, int ulps) {
    for (; ulps > 0; --ulps)
      value = std::nextafter(value, HUGE_VAL);
    for (; ulps < 0; ++ulps)
      value = std::nextafter(value, -HUGE_VAL);
    return value;
  };
  // The products are exact up to one rounding each; the scale is their
  // difference over (qmax - qmin), rounded again. A few ulps either way
  // find the range that gives back the very same double, if there is one.
  constexpr int kUlps = 8;
  for (int loUlps : {0, -1, 1, -2, 2}) {
    // Zero stays zero: it is the lower end of every range with zp = qmin.
    if (lo == 0 && loUlps != 0)
      continue;
    for (int hiUlps = 0; hiUlps <= 2 * kUlps; ++hiUlps) {
      // 0, -1, 1, -2, 2, ...
      int delta = hiUlps % 2 ? -(hiUlps + 1) / 2 : hiUlps / 2;
      double l = step(lo, loUlps), h = step(hi, delta);
      if (reproduces(l, h)) {
        exact = true;
        return std::make_pair(l, h);
      }
    }
  }
  return std::make_pair(lo, hi);
}

//===----------------------------------------------------------------------===//
// Reading
//===----------------------------------------------------------------------===//

namespace {
/// Parses the entries of one stats file, with messages naming the entry.
class StatsReader {
public:
  explicit StatsReader(StringRef path) : path(path) {}

  llvm::Expected<StatsFile> read(const llvm::json::Value &root);

private:
  llvm::Error fail(const llvm::Twine &message) {
    return makeError("stats file '" + path + "': " + message);
  }
  llvm::Error failEntry(StringRef name, const llvm::Twine &message) {
    return fail("entry '" + name + "': " + message);
  }

  llvm::Error readEntry(StringRef name, const llvm::json::Value &value,
                        StatsEntry &entry);
  /// A number or an array of numbers.
  llvm::Error readNumbers(StringRef name, const llvm::json::Object &object,
                          StringRef key, SmallVectorImpl<double> &numbers);
  llvm::Error readIntegers(StringRef name, const llvm::json::Value &value,
                           StringRef key, SmallVectorImpl<int64_t> &integers);
  llvm::Error readQParams(StringRef name, const llvm::json::Object &object,
                          StatsEntry &entry);
  llvm::Error readWeight(StringRef name, const llvm::json::Value &value,
                         StatsEntry &entry);
  llvm::Error readChannels(StringRef name, const llvm::json::Value &value,
                           StatsEntry &entry);

  StringRef path;
};
} // namespace

llvm::Error StatsReader::readNumbers(StringRef name,
                                     const llvm::json::Object &object,
                                     StringRef key,
                                     SmallVectorImpl<double> &numbers) {
  const llvm::json::Value *value = object.get(key);
  if (!value)
    return failEntry(name, "'" + key + "' is missing");
  if (std::optional<double> number = value->getAsNumber()) {
    numbers.push_back(*number);
    return llvm::Error::success();
  }
  const llvm::json::Array *array = value->getAsArray();
  if (!array || array->empty())
    return failEntry(name, "'" + key +
                               "' must be a number or a non-empty array of "
                               "numbers");
  for (const llvm::json::Value &element : *array) {
    std::optional<double> number = element.getAsNumber();
    if (!number)
      return failEntry(name, "'" + key + "' must hold numbers only");
    numbers.push_back(*number);
  }
  return llvm::Error::success();
}

llvm::Error StatsReader::readIntegers(StringRef name,
                                      const llvm::json::Value &value,
                                      StringRef key,
                                      SmallVectorImpl<int64_t> &integers) {
  const llvm::json::Array *array = value.getAsArray();
  if (!array)
    return failEntry(name, "'" + key + "' must be an array of integers");
  for (const llvm::json::Value &element : *array) {
    std::optional<int64_t> integer = element.getAsInteger();
    if (!integer)
      return failEntry(name, "'" + key + "' must hold integers only");
    integers.push_back(*integer);
  }
  return llvm::Error::success();
}

llvm::Error StatsReader::readQParams(StringRef name,
                                     const llvm::json::Object &object,
                                     StatsEntry &entry) {
  SmallVector<double> scales, zeroPoints;
  if (llvm::Error error = readNumbers(name, object, "scale", scales))
    return error;
  if (llvm::Error error = readNumbers(name, object, "zero_point", zeroPoints))
    return error;
  if (scales.size() != zeroPoints.size())
    return failEntry(name, "has " + llvm::Twine(scales.size()) +
                               " scales but " + llvm::Twine(zeroPoints.size()) +
                               " zero points");
  // The storage range the zero point refers to; PyTorch calls the 8-bit
  // types qint8 and quint8.
  int64_t qmin = -128, qmax = 127;
  if (std::optional<StringRef> dtype = object.getString("dtype")) {
    if (*dtype == "uint8" || *dtype == "quint8") {
      qmin = 0;
      qmax = 255;
    } else if (*dtype != "int8" && *dtype != "qint8") {
      return failEntry(name, "unknown dtype '" + *dtype +
                                 "' (expected int8, uint8, qint8 or quint8)");
    }
  }
  for (auto [key, bound] :
       {std::make_pair("qmin", &qmin), std::make_pair("qmax", &qmax)}) {
    const llvm::json::Value *value = object.get(key);
    if (!value)
      continue;
    std::optional<int64_t> integer = value->getAsInteger();
    if (!integer)
      return failEntry(name, "'" + llvm::Twine(key) + "' must be an integer");
    *bound = *integer;
  }
  // Only the 8-bit storage ranges: the range recorded is mapped back to
  // 8-bit parameters, so a scale chosen over any other width would change
  // (scale 0.1 over [-100000, 100000] would become 78.4), and far-out
  // bounds would overflow.
  if (!(qmin == -128 && qmax == 127) && !(qmin == 0 && qmax == 255)) {
    std::string change;
    if (qmin < qmax && std::isfinite(scales.front()))
      change =
          "; scale " + formatNumber(scales.front()) +
          " would become an 8-bit scale of " +
          formatNumber(scales.front() *
                       (static_cast<double>(qmax) - static_cast<double>(qmin)) /
                       255.0);
    return failEntry(
        name, "storage range [qmin, qmax] = [" + llvm::Twine(qmin) + ", " +
                  llvm::Twine(qmax) +
                  "] is not 8-bit (expected [-128, 127] for int8 or [0, 255] "
                  "for uint8)" +
                  change +
                  "; give parameters chosen for 8 bits, or "
                  "'min' and 'max'");
  }
  for (auto [scale, zeroPoint] : llvm::zip(scales, zeroPoints)) {
    // Checked in double: a zero point such as 1e30 has no int64 form.
    if (zeroPoint != std::nearbyint(zeroPoint) || !std::isfinite(zeroPoint))
      return failEntry(name, "zero point " + formatNumber(zeroPoint) +
                                 " is not an integer");
    bool exact = false;
    std::optional<std::pair<double, double>> range;
    if (zeroPoint >= static_cast<double>(qmin) &&
        zeroPoint <= static_cast<double>(qmax))
      range = getRangeForQParams(scale, static_cast<int64_t>(zeroPoint), qmin,
                                 qmax, exact);
    if (!range)
      return failEntry(name, "scale " + formatNumber(scale) +
                                 " and zero point " + formatNumber(zeroPoint) +
                                 " do not come from any range over [" +
                                 llvm::Twine(qmin) + ", " + llvm::Twine(qmax) +
                                 "] (the scale must be positive and the zero "
                                 "point within the storage range)");
    if (!exact) {
      AffineQParams params =
          computeActivationQParams(range->first, range->second, qmin, qmax);
      entry.qparamsScaleError = std::max(
          entry.qparamsScaleError, std::fabs(params.scale - scale) / scale);
    }
    entry.stats.min.push_back(range->first);
    entry.stats.max.push_back(range->second);
  }
  if (entry.method.empty())
    entry.method = "qparams";
  return llvm::Error::success();
}

llvm::Error StatsReader::readWeight(StringRef name,
                                    const llvm::json::Value &value,
                                    StatsEntry &entry) {
  const llvm::json::Object *object = value.getAsObject();
  if (!object)
    return failEntry(name, "'weight' must be a JSON object");
  WeightQParams weight;
  if (llvm::Error error = readNumbers(name, *object, "scale", weight.scales))
    return error;
  for (double scale : weight.scales)
    if (!std::isfinite(scale) || !(scale > 0))
      return failEntry(name, "weight scale " + formatNumber(scale) +
                                 " is not positive and finite");
  if (object->get("zero_point")) {
    SmallVector<double> zeroPoints;
    if (llvm::Error error =
            readNumbers(name, *object, "zero_point", zeroPoints))
      return error;
    if (llvm::any_of(zeroPoints, [](double zp) { return zp != 0; }))
      return failEntry(name, "weight zero points must be 0 (weights are "
                             "quantized symmetrically)");
  }
  if (const llvm::json::Value *qmin = object->get("qmin")) {
    std::optional<int64_t> integer = qmin->getAsInteger();
    if (!integer)
      return failEntry(name, "weight 'qmin' must be an integer");
    weight.qmin = *integer;
  }
  if (const llvm::json::Value *qmax = object->get("qmax")) {
    std::optional<int64_t> integer = qmax->getAsInteger();
    if (!integer)
      return failEntry(name, "weight 'qmax' must be an integer");
    weight.qmax = *integer;
  }
  if (weight.qmin < -128 || weight.qmax > 127 || weight.qmin > 0 ||
      weight.qmax < 0 || weight.qmin >= weight.qmax)
    return failEntry(name, "weight storage range [" + llvm::Twine(weight.qmin) +
                               ", " + llvm::Twine(weight.qmax) +
                               "] must contain 0 and lie within [-128, 127]");
  entry.weight = std::move(weight);
  return llvm::Error::success();
}

llvm::Error StatsReader::readChannels(StringRef name,
                                      const llvm::json::Value &value,
                                      StatsEntry &entry) {
  const llvm::json::Object *object = value.getAsObject();
  if (!object)
    return failEntry(name, "'channels' must be a JSON object with 'axis', "
                           "'min' and 'max'");
  ValueStats &channels = entry.channels.emplace();
  std::optional<int64_t> axis;
  if (const llvm::json::Value *axisValue = object->get("axis"))
    axis = axisValue->getAsInteger();
  if (!axis || *axis < 0)
    return failEntry(name, "'channels' needs 'axis', a non-negative integer");
  channels.axis = axis;
  if (llvm::Error error = readNumbers(name, *object, "min", channels.min))
    return error;
  return readNumbers(name, *object, "max", channels.max);
}

llvm::Error StatsReader::readEntry(StringRef name,
                                   const llvm::json::Value &value,
                                   StatsEntry &entry) {
  entry.name = name.str();
  const llvm::json::Object *object = value.getAsObject();
  if (!object)
    return failEntry(name, "must be a JSON object");
  if (std::optional<StringRef> method = object->getString("method"))
    entry.method = method->str();
  if (const llvm::json::Value *shape = object->get("shape")) {
    entry.shape.emplace();
    if (llvm::Error error = readIntegers(name, *shape, "shape", *entry.shape))
      return error;
  }
  if (const llvm::json::Value *weight = object->get("weight"))
    if (llvm::Error error = readWeight(name, *weight, entry))
      return error;
  bool hasRange = object->get("min") || object->get("max");
  bool hasQParams = object->get("scale") || object->get("zero_point");
  if (hasRange && hasQParams)
    return failEntry(name, "needs either 'min' and 'max' or 'scale' and "
                           "'zero_point'");
  if (!hasRange && !hasQParams) {
    if (!entry.weight)
      return failEntry(name, "needs either 'min' and 'max' or 'scale' and "
                             "'zero_point' (or 'weight')");
  } else if (hasRange) {
    if (llvm::Error error = readNumbers(name, *object, "min", entry.stats.min))
      return error;
    if (llvm::Error error = readNumbers(name, *object, "max", entry.stats.max))
      return error;
  } else if (llvm::Error error = readQParams(name, *object, entry)) {
    return error;
  }
  if (const llvm::json::Value *axis = object->get("axis")) {
    std::optional<int64_t> integer = axis->getAsInteger();
    if (!integer || *integer < 0)
      return failEntry(name, "'axis' must be a non-negative integer");
    entry.stats.axis = integer;
  }
  if (const llvm::json::Value *histogram = object->get("histogram"))
    if (llvm::Error error =
            readIntegers(name, *histogram, "histogram", entry.stats.histogram))
      return error;
  if (const llvm::json::Value *channels = object->get("channels")) {
    // They annotate the per-tensor annotation (readers without them still
    // find the per-tensor range).
    if (!hasRange && !hasQParams)
      return failEntry(name, "'channels' needs the per-tensor 'min' and "
                             "'max' (or 'scale' and 'zero_point') too");
    if (llvm::Error error = readChannels(name, *channels, entry))
      return error;
  }
  if (const llvm::json::Value *nonFinite = object->get("nonfinite")) {
    std::optional<int64_t> count = nonFinite->getAsInteger();
    if (!count || *count < 0)
      return failEntry(name, "'nonfinite' must be a non-negative integer");
    entry.nonFinite = *count;
  }
  return llvm::Error::success();
}

llvm::Expected<StatsFile> StatsReader::read(const llvm::json::Value &root) {
  const llvm::json::Object *object = root.getAsObject();
  if (!object)
    return fail("expected a JSON object at the top level");
  if (const llvm::json::Value *version = object->get("version"))
    if (version->getAsInteger() != 1)
      return fail("unsupported version (expected 1)");
  StatsFile file;
  if (std::optional<StringRef> function = object->getString("function"))
    file.function = function->str();
  const llvm::json::Object *values = object->getObject("values");
  if (!values)
    return fail("expected an object 'values' mapping value names to "
                "statistics");
  // JSON objects are unordered; read the entries in name order so that
  // messages do not depend on hashing.
  SmallVector<StringRef> names;
  for (const auto &entry : *values)
    names.push_back(entry.first);
  llvm::sort(names);
  for (StringRef name : names) {
    StatsEntry &entry = file.entries.emplace_back();
    if (llvm::Error error = readEntry(name, *values->get(name), entry))
      return std::move(error);
  }
  return file;
}

llvm::Expected<StatsFile> readStatsFile(StringRef path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (std::error_code ec = buffer.getError())
    return makeError("cannot read stats file '" + path + "': " + ec.message());
  llvm::Expected<llvm::json::Value> root =
      llvm::json::parse((*buffer)->getBuffer());
  if (!root)
    return makeError("stats file '" + path + "' is not valid JSON: " +
                     llvm::toString(root.takeError()));
  return StatsReader(path).read(*root);
}

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

/// Writes `values` on one line, so that a histogram does not take 2048.
template <typename T>
static void writeCompactArray(llvm::json::OStream &json, StringRef key,
                              ArrayRef<T> values) {
  llvm::json::Array array;
  for (T value : values)
    array.push_back(value);
  json.attributeBegin(key);
  json.rawValue([&](llvm::raw_ostream &os) {
    os << llvm::json::Value(std::move(array));
  });
  json.attributeEnd();
}

llvm::Error writeStatsFile(StringRef path, const StatsFile &file) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return makeError("cannot write stats file '" + path + "': " + ec.message());
  {
    llvm::json::OStream json(os, /*IndentSize=*/2);
    json.object([&] {
      json.attribute("format", "myquant-stats");
      json.attribute("version", 1);
      if (!file.function.empty())
        json.attribute("function", file.function);
      json.attributeObject("values", [&] {
        for (const StatsEntry &entry : file.entries) {
          json.attributeObject(entry.name, [&] {
            if (entry.shape)
              writeCompactArray<int64_t>(json, "shape", *entry.shape);
            const ValueStats &stats = entry.stats;
            if (stats.axis) {
              json.attribute("axis", *stats.axis);
              writeCompactArray<double>(json, "min", stats.min);
              writeCompactArray<double>(json, "max", stats.max);
            } else if (!stats.min.empty()) {
              json.attribute("min", stats.min.front());
              json.attribute("max", stats.max.front());
            }
            if (!entry.method.empty())
              json.attribute("method", entry.method);
            if (entry.nonFinite)
              json.attribute("nonfinite",
                             static_cast<int64_t>(entry.nonFinite));
            if (!stats.histogram.empty())
              writeCompactArray<int64_t>(json, "histogram", stats.histogram);
            if (entry.channels)
              json.attributeObject("channels", [&] {
                json.attribute("axis", *entry.channels->axis);
                writeCompactArray<double>(json, "min", entry.channels->min);
                writeCompactArray<double>(json, "max", entry.channels->max);
              });
          });
        }
      });
      if (!file.insideLayers.empty())
        json.attributeArray("inside_layers", [&] {
          for (const std::string &name : file.insideLayers)
            json.value(name);
        });
    });
  }
  os << "\n";
  os.close();
  if (os.has_error()) {
    std::string message = os.error().message();
    // An uncleared error is fatal in raw_fd_ostream's destructor.
    os.clear_error();
    return makeError("cannot write stats file '" + path + "': " + message);
  }
  return llvm::Error::success();
}

} // namespace myquant
