//===- KernelProblem.h - what a VNNI kernel computes ------------*- C++ -*-===//
//
// Everything a VNNI kernel needs that is known at compile time: the output
// geometry, the weights packed in the layout the dot-product instructions
// read, the accumulators' initial values (bias and zero points folded in)
// and the requantization. conv2d (groups = 1 or depthwise) and 2-D matmul
// are checked and turned into a Problem here; an op that does not fit
// stays with convert-myquant-to-linalg, and notLowered says why.
//
//===----------------------------------------------------------------------===//

#ifndef MYQUANT_CONVERSION_MYQUANTTOVNNI_KERNELPROBLEM_H
#define MYQUANT_CONVERSION_MYQUANTTOVNNI_KERNELPROBLEM_H

#include "myquant/Conversion/IntegerArith.h"
#include "myquant/Dialect/MyQuant/IR/MyQuantOps.h"

#include "mlir/IR/Location.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"

#include <cstdint>
#include <optional>

namespace myquant::vnni {

/// The remark category of notLowered: `--remarks-filter-missed=` this
/// shows why ops were left to convert-myquant-to-linalg.
inline constexpr llvm::StringLiteral kNotLoweredCategory =
    "convert-myquant-to-vnni";

/// Leaves the op at `loc` to convert-myquant-to-linalg: reports `reason` as
/// a missed-optimization remark (nothing is printed unless remarks of
/// kNotLoweredCategory are enabled) and fails.
mlir::LogicalResult notLowered(mlir::Location loc, const llvm::Twine &reason);

/// The requantization of one op, multiplier and shift per (padded) output
/// channel.
struct Epilogue {
  Requant requant;
  /// single rounding with every shift >= 33: computed in int32 from the
  /// high half of the product (IntegerArith::highHalfRescale).
  bool highHalf;
  /// The result's storage.
  Storage storage;
};

/// Everything the kernel needs, computed at compile time. A matmul is a
/// 1 x 1 convolution over a 1 x M image.
struct Problem {
  // Output geometry: batch x outH x outW pixels, `channels` channels.
  int64_t batch, outH, outW, channels;
  // Filter taps, strides and dilations.
  int64_t kernelH, kernelW, strideH, strideW, dilationH, dilationW;
  // Channels of the NHWC input the kernel reads: the input channels padded
  // to a multiple of channelsPerStep (the K of one tap), or paddedChannels
  // (depthwise).
  int64_t inputChannels;
  bool signedInput;
  // 16-bit input (NumericSpec 6.3): pairs of int16 inputs times int8
  // weights widened to int16 (vpdpwssd) into int32 lanes, which are widened
  // into int64 accumulators every kMaxPairSteps steps (depthwise: after
  // the taps, at most kMaxPairSteps pairs); `init` then starts the int64
  // accumulators (depthwise: is added to them) and the epilogue is
  // requantizeInt64.
  bool wideInput = false;
  // The kernel's input copy already holds x + 128 (x xor 0x80) for signed
  // storage: the K loop needs no flip.
  bool inputFlipped = false;
  // One filter per channel (groups = channels): the weights are in
  // `tapPairs`, multiplied as int16 pairs; otherwise in `packed`.
  bool depthwise = false;
  // The output channels padded to whole vectors.
  int64_t paddedChannels;
  // Where the last block of `lanes` channels ends: paddedChannels, or
  // `channels` when a last block at paddedChannels would hold a single
  // channel. LLVM 22 (x86, AVX-512) compiles a masked store of a truncated
  // vector whose mask has a single lane set into a store of that whole
  // untruncated lane: 4 bytes for one int8 channel, overwriting the next
  // pixel's first 3 channels. Shifted back to end at `channels`, that block
  // overlaps the one before and every store is whole; a single output
  // channel is stored as a scalar.
  int64_t channelEnd;
  // Packed weights, [kernelH * kernelW * inputChannels / g]
  // [paddedChannels][g], g = channelsPerStep (the vpdpbusd or vpdpwssd
  // layout; KernelBuilder stores it tile by tile); accumulator initial
  // values.
  llvm::SmallVector<int8_t> packed;
  llvm::SmallVector<int32_t> init;
  // 4-bit weights (NumericSpec 7): `packed` holds them in [-8, 7], and the
  // kernel stores two K steps in one vector of bytes (step 2s in the low
  // nibbles, 2s + 1 in the high ones, of the steps (tap, quad) in order; a
  // matmul's inputChannels is a multiple of 8, so its pairs stay in a
  // group). It
  // multiplies the nibbles in place as 16 * w (the low nibble shifted up,
  // the high one masked) into accumulators starting at 0, which it shifts
  // back by 4 and adds to `init` (per group, times the group's multiplier).
  bool nibbles = false;
  // Weights per group of `groupSize` input channels of a matmul (7.2; 0:
  // none, a multiple of 8): `groupMultipliers` [K / groupSize]
  // [paddedChannels] holds m[c, g] - 1 (padded channels: 0).
  int64_t groupSize = 0;
  llvm::SmallVector<uint8_t> groupMultipliers;
  Epilogue epilogue;
  // Depthwise: the weights of the taps of filter rows (2r, 2r + 1) in one
  // column x interleaved as int16, [ceil(kernelH / 2)][kernelW]
  // [paddedChannels][2] (an odd last row is paired with zero). 4-bit
  // (`nibbles`) filters are stored two channels per byte instead and
  // unpacked to these pairs by the kernel (NumericSpec 7.3).
  llvm::SmallVector<int16_t> tapPairs;
  // An add of the requantized result and a second NHWC storage tensor of
  // the output's shape, run in the epilogue.
  struct FusedAdd {
    AddRescales rescales;
    bool resultIsLhs;
  };
  std::optional<FusedAdd> add;
  // A max pool with window and stride `pool` (1: none) of the result, run
  // in the epilogue; the output is the pooled tensor. A register tile
  // covers whole windows, which are pooled on the accumulators: one
  // requantization per window instead of one per pixel, exact because
  // requantization never decreases (rescale multipliers are >= 0, which
  // their verifier enforces).
  int64_t pool = 1;
  // A lookup table (myquant.table) of the requantized result, run in the
  // epilogue last: entry `x - epilogue.storage.min` for result storage
  // `x`, as the table's output storage bytes. Empty: none.
  llvm::SmallVector<int8_t> table;
  // An f32 kernel (convert-linalg-to-float-kernels) instead of the int8
  // one: the same loops, one input channel per K step multiplied by vector
  // FMA (broadcast input x weight vector); int8 fields other than the
  // geometry are unused.
  struct Float {
    // [kernelH * kernelW * inputChannels][paddedChannels], zero padded;
    // rows (tap, input channel), NCHW input included.
    llvm::SmallVector<float> packed;
    // The accumulators' initial values: the bias (0 without).
    llvm::SmallVector<float> bias;
    // The fused clamp (relu: [0, inf)).
    float lo, hi;
    // The layouts the kernel reads its input and writes its output in:
    // NCHW (the output stored as rows of pixels) or NHWC.
    bool inputNchw, outputNchw;
  };
  std::optional<Float> floating;
  // Dynamic quantization (NumericSpec 8.3): the accumulator of the runtime
  // int8 input, times its runtime scale A' (KernelBuilder::setDynamicScale),
  // plus `bias` (int64, per padded channel), is requantized in int64 into
  // the result's storage (wide or 8-bit). Unset: the static epilogue.
  struct Dynamic {
    llvm::SmallVector<int64_t> bias;
    // An asymmetric (uint8) input (8.2b): sum_k w[c][k] per padded
    // channel, whose product with the runtime zero point the epilogue
    // subtracts from the accumulator. Empty: symmetric.
    llvm::SmallVector<int32_t> weightSums;
  };
  std::optional<Dynamic> dynamic;
  // A convolution of few input channels run as a dense GEMM over its
  // patches (im2col): the Problem is then a 1 x 1 convolution of
  // `inputChannels` = the patch size (kernelH * kernelW * channels, padded
  // to a multiple of 4) over patches [outH][outW][inputChannels] whose
  // entry (ky * kernelW + kx) * channels + c is the input at tap (ky, kx),
  // channel c. The kernel builds them for one tile's output rows at a time
  // (filter row by filter row: kernelW adjacent pixels of the input padded
  // to 4 channels, packed to kernelW * channels bytes). A 7 x 7
  // three-channel layer otherwise spends a quarter of its dot products on
  // the fourth channel's zero weights (K = 196 for 147 taps, 148 as
  // patches).
  struct Patches {
    int64_t kernelH, kernelW, strideH, strideW, dilationH, channels;
  };
  std::optional<Patches> patches;
};

/// Input channels per step of the GEMM kernel's K loop: the 4 of a
/// vpdpbusd group, the 2 of a vpdpwssd pair (16-bit input), 1 for f32.
inline int64_t channelsPerStep(const Problem &p) {
  return p.floating ? 1 : p.wideInput ? 2 : 4;
}

/// The K steps of a 16-bit-input kernel summed in int32 before they are
/// widened into the int64 accumulators. One vpdpwssd step adds two products
/// to a lane; for any int16 input x and int8 weight w, |x w| <= 2^15 2^7, so
/// a step adds at most 2^23 in magnitude and 255 steps at most 255 * 2^23 <
/// 2^31 - 1: no int32 lane overflows, whatever the storage values (with the
/// narrow ranges |x| <= 32767, |w| <= 127, 258 steps would still fit).
inline constexpr int64_t kMaxPairSteps = 255;

/// The multiply-accumulates of the kernel of `p`, in the time of int8 GEMM
/// ones (KernelBuilder::OuterLoops' threshold): an f32 FMA does 16 where a
/// vpdpbusd does 64 (x4), and an int8 depthwise kernel took 4.7x the time
/// per MAC of the 1x1 convolutions beside it in mobilenet_v2 (x4;
/// benchmarks/layer_profile.py).
int64_t kernelMacs(const Problem &p, bool depthwise);

/// Sets `p.channels`, `p.paddedChannels` (channels padded to whole vectors
/// of `lanes`) and `p.channelEnd`.
void setChannels(Problem &p, int64_t channels, int64_t lanes);

/// Whether a high-half epilogue adds the zero point with the rounding term
/// (IntegerArith::zeroPointFitsRounding, every channel). Not with a fused
/// add, whose centered result needs the rounding term alone.
bool foldsZeroPoint(const Problem &p);

/// The weight of (tap, input channel, output channel), tap = y * kernelW +
/// x.
using WeightFn = llvm::function_ref<int8_t(int64_t, int64_t, int64_t)>;

/// The group multiplier m[c, g] (NumericSpec 7.2) of (input channel,
/// output channel) of `p.groupSize` problems.
using MultiplierFn = llvm::function_ref<int64_t(int64_t, int64_t)>;

/// Fills `p.packed` (or `p.tapPairs` for depthwise problems, whose one
/// input channel per filter is channel 0) and `p.init` from the weights,
/// the bias (one per channel) and the input zero point; signed input is
/// flipped to u8 for the GEMM kernel, which `init` compensates. With
/// `p.groupSize`, `multiplier` gives the group multipliers, which scale
/// the weights in `init` and fill `p.groupMultipliers`. Fails, with the
/// reason reported at `loc`, when an accumulator could leave int32 (then
/// the generic lowering, which adds the bias after the int32 sum, is the
/// reference behaviour), a 4-bit partial sum 16 * sum u8 * w could, or the
/// packed weights would be too large.
mlir::LogicalResult packWeights(Problem &p, int64_t channelsIn, WeightFn weight,
                                llvm::ArrayRef<int64_t> bias,
                                int64_t inputZeroPoint, mlir::Location loc,
                                MultiplierFn multiplier = nullptr);

/// The estimated cost of building one filter row of a patch, in K steps of
/// one channel block (see usesPatches).
inline constexpr int64_t kPatchCostPerRow = 6;

/// Whether the conv2d of `p` (its geometry set) over `channelsIn` input
/// channels runs over its patches (Problem::Patches): an 8-bit
/// input of at most 3 channels, filter rows of at most 8 adjacent taps,
/// and enough K steps saved (the fourth channel's) for the cost of the
/// patches.
bool usesPatches(const Problem &p, int64_t channelsIn);

/// The problem of a conv2d with groups = 1 or one filter per channel, on
/// vectors of `lanes` channels; fails, with the reason reported, when the
/// kernels do not cover it.
mlir::FailureOr<Problem> buildConvProblem(Conv2DOp op, int64_t lanes,
                                          RoundingMode defaultRounding);

/// The problem of a 2-D matmul with constant weights, as buildConvProblem.
mlir::FailureOr<Problem> buildMatmulProblem(MatmulOp op, int64_t lanes,
                                            RoundingMode defaultRounding);

/// The problem of a dynamic matmul (NumericSpec 8) on its runtime int8
/// input (signed with zero point 0, or asymmetric uint8), as
/// buildMatmulProblem.
mlir::FailureOr<Problem> buildDynamicMatmulProblem(DynamicMatmulOp op,
                                                   int64_t lanes);

} // namespace myquant::vnni

#endif // MYQUANT_CONVERSION_MYQUANTTOVNNI_KERNELPROBLEM_H
