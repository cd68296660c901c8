//===- PassOptions.h - options shared by myquant passes ---------*- C++ -*-===//

#ifndef MYQUANT_DIALECT_MYQUANT_TRANSFORMS_PASSOPTIONS_H
#define MYQUANT_DIALECT_MYQUANT_TRANSFORMS_PASSOPTIONS_H

#include "myquant/Dialect/MyQuant/IR/MyQuantDialect.h"
#include "myquant/Dialect/MyQuant/IR/MyQuantTypeUtils.h"

#include "llvm/Support/CommandLine.h"

namespace myquant {

/// How activations are stored.
enum class ActivationType { Int8, Uint8 };

/// Whether constant weights get one scale per output channel or one in all.
enum class WeightGranularity { PerChannel, PerTensor };

/// The spellings of RoundingMode in every pass and pipeline option that
/// takes one (MyQuant_RoundingOption in PassOptions.td, PTQOptions).
inline llvm::cl::ValuesClass roundingModeValues() {
  return llvm::cl::values(
      clEnumValN(RoundingMode::Single, "single",
                 "(v * m + 2^(s-1)) >> s in 64 bits"),
      clEnumValN(RoundingMode::Gemmlowp, "gemmlowp",
                 "gemmlowp's doubling high multiply, then a rounding shift"));
}

inline llvm::cl::ValuesClass activationTypeValues() {
  return llvm::cl::values(
      clEnumValN(ActivationType::Int8, "int8", "signed, [-128, 127]"),
      clEnumValN(ActivationType::Uint8, "uint8", "unsigned, [0, 255]"));
}

inline llvm::cl::ValuesClass weightGranularityValues() {
  return llvm::cl::values(clEnumValN(WeightGranularity::PerChannel,
                                     "per-channel",
                                     "one scale per output channel"),
                          clEnumValN(WeightGranularity::PerTensor, "per-tensor",
                                     "one scale for the whole tensor"));
}

} // namespace myquant

#endif // MYQUANT_DIALECT_MYQUANT_TRANSFORMS_PASSOPTIONS_H
