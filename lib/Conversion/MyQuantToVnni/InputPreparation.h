//===- InputPreparation.h - the inputs of the VNNI kernels ------*- C++ -*-===//
//
// Brings a kernel's input into the layout its K loop reads: NHWC storage,
// padded spatially with the input zero point and, for the GEMM kernel, to a
// multiple of 4 channels; where a copy is made anyway, it also flips signed
// storage to u8. The copies are written as vector loops: tensor.pad and
// linalg.transpose become byte-by-byte loop nests.
//
//===----------------------------------------------------------------------===//

#ifndef MYQUANT_LIB_CONVERSION_MYQUANTTOVNNI_INPUTPREPARATION_H
#define MYQUANT_LIB_CONVERSION_MYQUANTTOVNNI_INPUTPREPARATION_H

#include "myquant/Conversion/MyQuantToVnni/KernelProblem.h"
#include "myquant/Conversion/MyQuantToVnni/Target.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

namespace myquant::vnni {

/// The storage (`quant.scast`) of a quantized tensor.
mlir::Value toStorage(mlir::OpBuilder &b, mlir::Location loc,
                      mlir::Value quantized);

/// `input` padded by `low` and `high` elements per dimension with `value`
/// (`input` itself without padding).
mlir::Value padTensor(mlir::OpBuilder &b, mlir::Location loc, mlir::Value input,
                      llvm::ArrayRef<int64_t> low, llvm::ArrayRef<int64_t> high,
                      int64_t value);

mlir::Value transpose(mlir::OpBuilder &b, mlir::Location loc, mlir::Value input,
                      llvm::ArrayRef<int64_t> permutation);

/// `[n, c, h, w]` -> `[n, h, w, c]` of a rank-4 tensor type.
mlir::RankedTensorType nhwcType(mlir::Type nchw);

/// The input of `p`'s GEMM kernel from `input`, the storage of the
/// convolution's input (NCHW when `sourceNchw`, else NHWC) with zero point
/// `zeroPoint`, padded by `pad` (top, left, bottom, right): NHWC with
/// `p.inputChannels` channels. Sets `p.inputFlipped` where the copy flips
/// signed storage. A large copy is shared between `target.threads`
/// threads.
mlir::Value prepareGemmInput(mlir::OpBuilder &b, mlir::Location loc,
                             mlir::Value input, Problem &p,
                             llvm::ArrayRef<int64_t> pad, bool sourceNchw,
                             int64_t zeroPoint, const KernelTarget &target);

/// The source of `p`'s patches (Problem::Patches) from `input`, as
/// prepareGemmInput: the input padded (with extra columns on the right
/// where the last read needs them) to 4 channels, as [N][rows][columns *
/// 4] bytes.
mlir::Value preparePatchSource(mlir::OpBuilder &b, mlir::Location loc,
                               mlir::Value input, Problem &p,
                               llvm::ArrayRef<int64_t> pad, bool sourceNchw,
                               int64_t zeroPoint, const KernelTarget &target);

/// The patches of `rows` output rows from `firstRow` of image `batch`, as
/// [1][rows][outW][p.inputChannels]: each filter row read from `source`
/// (preparePatchSource) as 32 bytes (8 pixels of 4 channels) and packed to
/// kernelW * channels bytes by a shuffle. The bytes past the patch meet
/// zero weights.
mlir::Value buildPatchRows(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Value source, const Problem &p,
                           mlir::Value batch, mlir::Value firstRow,
                           int64_t rows);

/// The input of `p`'s depthwise kernel, as prepareGemmInput: NHWC with
/// `p.paddedChannels` channels.
mlir::Value prepareDepthwiseInput(mlir::OpBuilder &b, mlir::Location loc,
                                  mlir::Value input, const Problem &p,
                                  llvm::ArrayRef<int64_t> pad, bool sourceNchw,
                                  int64_t zeroPoint,
                                  const KernelTarget &target);

} // namespace myquant::vnni

#endif // MYQUANT_LIB_CONVERSION_MYQUANTTOVNNI_INPUTPREPARATION_H
