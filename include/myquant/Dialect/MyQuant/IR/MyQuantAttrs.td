//===- MyQuantAttrs.td - myquant attributes ----------------*- tablegen -*-===//

#ifndef MYQUANT_DIALECT_MYQUANT_IR_MYQUANTATTRS_TD
#define MYQUANT_DIALECT_MYQUANT_IR_MYQUANTATTRS_TD

include "myquant/Dialect/MyQuant/IR/MyQuantBase.td"

def MyQuant_RoundingSingle : I32EnumAttrCase<"Single", 0, "single">;
def MyQuant_RoundingGemmlowp : I32EnumAttrCase<"Gemmlowp", 1, "gemmlowp">;
def MyQuant_RoundingModeEnum : I32EnumAttr<"RoundingMode",
    "how an int32 value is multiplied by a Q31 multiplier and shifted",
    [MyQuant_RoundingSingle, MyQuant_RoundingGemmlowp]> {
  let cppNamespace = "::myquant";
  let genSpecializedAttr = 0;
}
def MyQuant_RoundingModeAttr
    : EnumAttr<MyQuant_Dialect, MyQuant_RoundingModeEnum, "rounding"> {
  let assemblyFormat = "`<` $value `>`";
}

def MyQuant_LayoutNCHW : I32EnumAttrCase<"NCHW", 0, "nchw">;
def MyQuant_LayoutNHWC : I32EnumAttrCase<"NHWC", 1, "nhwc">;
def MyQuant_LayoutEnum : I32EnumAttr<"Layout",
    "data layout of a 2-D convolution or pooling",
    [MyQuant_LayoutNCHW, MyQuant_LayoutNHWC]> {
  let cppNamespace = "::myquant";
  let genSpecializedAttr = 0;
}
// Printed like the other attributes: #myquant.layout<nchw>.
def MyQuant_LayoutAttr : EnumAttr<MyQuant_Dialect, MyQuant_LayoutEnum, "layout"> {
  let assemblyFormat = "`<` $value `>`";
}

def MyQuant_RescaleAttr : MyQuant_Attr<"Rescale", "rescale"> {
  let summary = "Fixed-point multipliers and right shifts, per tensor or per channel";
  let description = [{
    Approximates real multipliers `M[i]` as `multiplier[i] * 2^-shift[i]`,
    with `multiplier[i]` a Q31 value in `[2^30, 2^31)` (smaller only when the
    shift is capped at 62) and `shift[i]` in `[0, 62]`. One entry scales a
    whole tensor; N entries scale the N channels of the quantized dimension.
    `rounding` selects how the product is rounded (see `docs/NumericSpec.md`).

    ```mlir
    #myquant.rescale<multiplier = [1518500250], shift = [38], rounding = single>
    ```
  }];
  let parameters = (ins
    ArrayRefParameter<"int32_t">:$multiplier,
    ArrayRefParameter<"int32_t">:$shift,
    "::myquant::RoundingMode":$rounding);
  let assemblyFormat = [{
    `<` `multiplier` `=` `[` $multiplier `]` `,` `shift` `=` `[` $shift `]` `,`
        `rounding` `=` $rounding `>`
  }];
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Number of channels this rescale covers (1 for per-tensor).
    size_t size() const { return getMultiplier().size(); }
  }];
}

def MyQuant_ClampAttr : MyQuant_Attr<"Clamp", "clamp"> {
  let summary = "Inclusive integer bounds on a quantized result";
  let description = [{
    Bounds in the storage domain (zero point included), applied after
    requantization: the integer form of a fused relu or relu6.

    ```mlir
    #myquant.clamp<-128, 127>
    ```
  }];
  let parameters = (ins "int64_t":$min, "int64_t":$max);
  let assemblyFormat = "`<` $min `,` $max `>`";
  let genVerifyDecl = 1;
}

#endif // MYQUANT_DIALECT_MYQUANT_IR_MYQUANTATTRS_TD
