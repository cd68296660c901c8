//===- PassOptions.h - options shared by myquant passes ---------*- C++ -*-===//

#ifndef MYQUANT_DIALECT_MYQUANT_TRANSFORMS_PASSOPTIONS_H
#define MYQUANT_DIALECT_MYQUANT_TRANSFORMS_PASSOPTIONS_H

#include "myquant/Dialect/MyQuant/IR/MyQuantDialect.h"

#include "llvm/Support/CommandLine.h"

namespace myquant {

/// The spellings of RoundingMode in every pass and pipeline option that
/// takes one (MyQuant_RoundingOption in PassOptions.td, PTQOptions).
inline llvm::cl::ValuesClass roundingModeValues() {
  return llvm::cl::values(
      clEnumValN(RoundingMode::Single, "single",
                 "(v * m + 2^(s-1)) >> s in 64 bits"),
      clEnumValN(RoundingMode::Gemmlowp, "gemmlowp",
                 "gemmlowp's doubling high multiply, then a rounding shift"));
}

} // namespace myquant

#endif // MYQUANT_DIALECT_MYQUANT_TRANSFORMS_PASSOPTIONS_H
