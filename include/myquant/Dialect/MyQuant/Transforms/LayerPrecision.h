//===- LayerPrecision.h - per-layer precision option ------------*- C++ -*-===//
//
// The `layer-precision` option of myquant-propagate-qparams and myquant-ptq:
// `<layer name>:w<4|8>a<8|16>`, comma-separated, e.g.
// `features.0:w8a16,classifier:w8a8`. The layer name is a location name (the
// exporter's module path), as for `keep-float`.
//
//===----------------------------------------------------------------------===//

#ifndef MYQUANT_DIALECT_MYQUANT_TRANSFORMS_LAYERPRECISION_H
#define MYQUANT_DIALECT_MYQUANT_TRANSFORMS_LAYERPRECISION_H

#include "myquant/Dialect/MyQuant/IR/MyQuantTypeUtils.h"

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace myquant {

/// One entry of `layer-precision`.
struct LayerPrecision {
  std::string layer;
  int64_t weightBits = 8;
  int64_t activationBits = 8;
};

/// The dry run's precision options: the whole model's bits, the group size
/// of 4-bit matmul weights (0: per channel), and the per-layer entries.
struct PrecisionOptions {
  int64_t weightBits = 8;
  int64_t weightGroupSize = 0;
  int64_t activationBits = 8;
  std::vector<LayerPrecision> layers;
  /// The storage bits of layer normalization inputs (`norm-input-bits`):
  /// 16 gives them 16 bits whatever the rest (docs/NumericSpec.md 6.5).
  int64_t normInputBits = 8;
  /// The storage bits of softmax inputs (`softmax-input-bits`): 16 gives
  /// them 16 bits, and lets the matmuls of two activations that compute
  /// them (attention's scores) write 16 bits (docs/NumericSpec.md 6.5).
  int64_t softmaxInputBits = 8;
  /// The factor by which a 16-bit value's scale widens its calibrated range
  /// (`int16-range-headroom`, docs/NumericSpec.md 6.1).
  double int16RangeHeadroom = kDefaultInt16RangeHeadroom;
};

/// Parses the entries of `layer-precision`; the error names the malformed
/// entry and the expected syntax.
llvm::Expected<std::vector<LayerPrecision>>
parseLayerPrecision(llvm::ArrayRef<std::string> entries);

} // namespace myquant

#endif // MYQUANT_DIALECT_MYQUANT_TRANSFORMS_LAYERPRECISION_H
