//===- LayerPrecision.cpp - per-layer precision option --------------------===//

#include "myquant/Dialect/MyQuant/Transforms/LayerPrecision.h"

using namespace llvm;

namespace myquant {

Expected<std::vector<LayerPrecision>>
parseLayerPrecision(ArrayRef<std::string> entries) {
  std::vector<LayerPrecision> result;
  for (const std::string &entry : entries) {
    // The precision follows the last ':', so that a name may hold one.
    auto [layer, spec] = StringRef(entry).rsplit(':');
    LayerPrecision precision{layer.str()};
    StringRef rest = spec;
    bool ok = !layer.empty() && rest.consume_front("w") &&
              !rest.consumeInteger(10, precision.weightBits) &&
              rest.consume_front("a") &&
              !rest.consumeInteger(10, precision.activationBits) &&
              rest.empty() &&
              (precision.weightBits == 4 || precision.weightBits == 8) &&
              (precision.activationBits == 8 || precision.activationBits == 16);
    if (!ok)
      return createStringError(
          "layer-precision entry '" + entry +
          "' is not '<layer name>:w<4|8>a<8|16>' (e.g. 'features.0:w8a16')");
    result.push_back(std::move(precision));
  }
  return result;
}

} // namespace myquant
