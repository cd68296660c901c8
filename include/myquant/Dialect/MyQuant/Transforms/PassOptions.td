//===- PassOptions.td - options shared by myquant passes ---*- tablegen -*-===//

#ifndef MYQUANT_DIALECT_MYQUANT_TRANSFORMS_PASSOPTIONS_TD
#define MYQUANT_DIALECT_MYQUANT_TRANSFORMS_PASSOPTIONS_TD

include "mlir/Pass/PassBase.td"

// A RoundingMode option, `single` by default; its spellings are
// roundingModeValues() (PassOptions.h).
class MyQuant_RoundingOption<string varName, string arg, string desc>
    : Option<varName, arg, "::myquant::RoundingMode",
             "::myquant::RoundingMode::Single", desc,
             "::myquant::roundingModeValues()">;

class MyQuant_ActivationTypeOption<string varName, string arg, string desc>
    : Option<varName, arg, "::myquant::ActivationType",
             "::myquant::ActivationType::Int8", desc,
             "::myquant::activationTypeValues()">;

class MyQuant_WeightGranularityOption<string varName, string arg, string desc>
    : Option<varName, arg, "::myquant::WeightGranularity",
             "::myquant::WeightGranularity::PerChannel", desc,
             "::myquant::weightGranularityValues()">;

#endif // MYQUANT_DIALECT_MYQUANT_TRANSFORMS_PASSOPTIONS_TD
