//===- MyQuantInterfaces.td - myquant op interfaces --------*- tablegen -*-===//

#ifndef MYQUANT_DIALECT_MYQUANT_IR_MYQUANTINTERFACES_TD
#define MYQUANT_DIALECT_MYQUANT_IR_MYQUANTINTERFACES_TD

include "mlir/IR/OpBase.td"

def MyQuant_RescaleOpInterface : OpInterface<"RescaleOpInterface"> {
  let cppNamespace = "::myquant";
  let description = [{
    An op that brings an integer intermediate (an int32 accumulation, a sum,
    a product) to its result's quantization with fixed-point rescales and an
    optional clamp. Each rescale attribute stands for real multipliers that
    the op's quantized types determine; this interface is the one place that
    derives them. The dry run encodes them (`encodeRescales`),
    `myquant-verify-qparams` checks the attributes against them, and the
    lowerings fall back to them where an attribute is absent, so the three
    agree bit for bit by construction.
  }];
  let methods = [
    InterfaceMethod<[{
        The op's rescale attributes, in a fixed order, each with the real
        multipliers (one, or one per channel) its quantized types call for.
      }],
      "::llvm::SmallVector<::myquant::RescaleSlot>", "getRescaleSlots">,
    InterfaceMethod<[{
        The clamp applied to the requantized result (a fused activation), or
        null for the result's storage range.
      }],
      "::myquant::ClampAttr", "getClampAttr">,
  ];
}

def MyQuant_WindowOpInterface : OpInterface<"WindowOpInterface"> {
  let cppNamespace = "::myquant";
  let description = [{
    A 2-D convolution or pooling: a window slides over the height and width
    of a 4-D activation in `layout`. `getDims()` gives the positions of the
    activation's (and a filter's) dimensions in that layout, so that no
    caller branches on the layout to find them.
  }];
  let methods = [
    InterfaceMethod<"The data layout of the activations.",
      "::myquant::Layout", "getLayout">,
    InterfaceMethod<"The window's height and width.",
      "::llvm::SmallVector<int64_t, 2>", "getWindowSizes">,
    InterfaceMethod<"Strides over height and width.",
      "::llvm::ArrayRef<int64_t>", "getStrides">,
    InterfaceMethod<"Padding as [top, left, bottom, right].",
      "::llvm::ArrayRef<int64_t>", "getPadding">,
  ];
  let extraSharedClassDeclaration = [{
    /// Dimension positions of the activations (and filter) in the layout.
    ::myquant::LayoutDims getDims() {
      return ::myquant::getLayoutDims($_op.getLayout());
    }
  }];
}

#endif // MYQUANT_DIALECT_MYQUANT_IR_MYQUANTINTERFACES_TD
