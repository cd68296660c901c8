//===- MyQuantToVnni.cpp - conv2d and matmul on the x86 int8 dot product --===//
//
// `convert-myquant-to-vnni` lowers myquant.conv2d (groups = 1, NCHW or NHWC)
// and 2-D myquant.matmul with constant int8 weights to a register-tiled
// kernel built around `vpdpbusd` (u8 x s8, four products summed into each
// int32 lane):
//
//  * activations are read as u8: signed storage is flipped to `x + 128`
//    (xor 0x80) by the kernel's own input copy where it makes one (padding,
//    few channels, NCHW of up to 16 channels), else on the broadcast
//    register; unsigned storage is used as is;
//  * the weights are packed at compile time into `[K/4][Np][4]` (K padded
//    with zero weights to a multiple of 4, the output channels padded to a
//    multiple of the vector width), the layout the instruction reads;
//  * the accumulator starts at the precomputed per-channel constant
//    `q_b[c] - (zx + 128) * sum_k w[c][k]` (NumericSpec 3.1, bias folding;
//    `+ 128` only for signed storage), so nothing but the dot products runs
//    in the K loop;
//  * the requantization (NumericSpec 2) runs on the accumulator registers
//    (in int32 on the high half of the product when every shift is at
//    least 33) and only the int8 result is stored: no int32 tensor is
//    written;
//  * a convolution is an implicit GEMM over (kh, kw, c): the input is only
//    padded with its zero point and, for NCHW, transposed to NHWC; there is
//    no im2col buffer;
//  * depthwise convolutions (groups = channels) have a kernel of their own:
//    the inputs of two taps are interleaved, widened to int16 and
//    multiplied by the interleaved weights with the pairwise dot product
//    `vpdpwssd`, with the same folded constants and epilogue;
//  * an add that is the only use of a kernel's result runs in its epilogue
//    (the other operand is a second kernel argument), and so does a max
//    pool whose windows tile the result;
//  * NCHW models run in NHWC between kernels: pools, element-wise ops and
//    channel concatenations whose operands come from kernels (directly or
//    through such ops) move to NHWC too, and NCHW is rebuilt only for the
//    users that need it.
//
// Each kernel is emitted on tensors (scf.for, vector.transfer_read/write) in
// a private `noinline` function of its own, with the target's features, and
// bufferizes with the rest of the model. The dot product itself is written
// as plain vector arithmetic (extui/extsi, muli, shape_cast,
// multi_reduction <add>), which is exact on any target;
// `myquant-lower-vnni-dot` turns that pattern into
// `llvm.x86.avx512.vpdpbusd.{512,256}` (`vpdpwssd` for int16 pairs) after
// bufferization (the intrinsic call has no memory-effect model, which the
// buffer deallocation passes reject).
//
// Ops the kernels do not cover (grouped convolutions other than depthwise,
// batched or activation x activation matmuls, non-constant weights or
// bias, weights with a non-zero zero point, accumulators that could leave
// int32) are left for convert-myquant-to-linalg.
//
//===----------------------------------------------------------------------===//

#include "IntegerArith.h"

#include "myquant/Conversion/Passes.h"
#include "myquant/Dialect/MyQuant/IR/MyQuantOps.h"
#include "myquant/Dialect/MyQuant/IR/MyQuantTypeUtils.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/TargetParser/Host.h"

#include <limits>

namespace myquant {
#define GEN_PASS_DEF_CONVERTMYQUANTTOVNNI
#define GEN_PASS_DEF_MYQUANTLOWERVNNIDOT
#include "myquant/Conversion/Passes.h.inc"
} // namespace myquant

using namespace mlir;
using namespace myquant;

namespace {

//===----------------------------------------------------------------------===//
// Targets
//===----------------------------------------------------------------------===//

constexpr StringLiteral kAvx512Features[] = {
    "+avx512f", "+avx512bw", "+avx512dq", "+avx512vl", "+avx512vnni"};
constexpr StringLiteral kAvxVnniFeatures[] = {"+avx2", "+avxvnni"};

struct KernelTarget {
  /// int32 lanes of an accumulator register (16: zmm, 8: ymm).
  unsigned lanes;
  /// Vector registers the register tiling may use.
  unsigned registers;
  /// Features every function holding a kernel gets (`target_features`).
  ArrayRef<StringLiteral> features;
};

/// The kernel target named by the pass option; std::nullopt for `generic`.
/// `host` picks the widest target the compiling machine supports.
FailureOr<std::optional<KernelTarget>> parseTarget(StringRef name) {
  if (name == "host") {
    llvm::StringMap<bool> host = llvm::sys::getHostCPUFeatures();
    auto has = [&](StringRef feature) { return host.lookup(feature); };
    if (has("avx512f") && has("avx512bw") && has("avx512dq") &&
        has("avx512vl") && has("avx512vnni"))
      name = "avx512-vnni";
    else if (has("avxvnni") && has("avx2"))
      name = "avx-vnni";
    else
      name = "generic";
  }
  if (name == "generic")
    return std::optional<KernelTarget>();
  if (name == "avx512-vnni")
    return std::optional<KernelTarget>(KernelTarget{16, 32, kAvx512Features});
  if (name == "avx512-vnni-256")
    return std::optional<KernelTarget>(KernelTarget{8, 32, kAvx512Features});
  if (name == "avx-vnni")
    return std::optional<KernelTarget>(KernelTarget{8, 16, kAvxVnniFeatures});
  return failure();
}

//===----------------------------------------------------------------------===//
// Compile-time data
//===----------------------------------------------------------------------===//

/// The int8 values of a constant weight operand: `quant.scast` of an
/// `arith.constant` (dense or dense_resource), in row-major order. Weights
/// past kMaxWeightElements are left to convert-myquant-to-linalg, which
/// reports them.
std::optional<SmallVector<int8_t>> getInt8Constant(Value value) {
  auto storageCast = value.getDefiningOp<quant::StorageCastOp>();
  if (!storageCast ||
      cast<ShapedType>(value.getType()).getNumElements() > kMaxWeightElements)
    return std::nullopt;
  Attribute attr;
  if (!matchPattern(storageCast.getInput(), m_Constant(&attr)))
    return std::nullopt;
  if (auto dense = dyn_cast<DenseIntElementsAttr>(attr)) {
    if (!dense.getElementType().isInteger(8))
      return std::nullopt;
    SmallVector<int8_t> values;
    values.reserve(dense.getNumElements());
    for (const APInt &v : dense.getValues<APInt>())
      values.push_back(static_cast<int8_t>(v.getSExtValue()));
    return values;
  }
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    if (!resource.getElementType().isInteger(8))
      return std::nullopt;
    std::optional<ArrayRef<int8_t>> values =
        cast<DenseI8ResourceElementsAttr>(resource).tryGetAsArrayRef();
    if (!values)
      return std::nullopt;
    return SmallVector<int8_t>(values->begin(), values->end());
  }
  return std::nullopt;
}

/// The int32 bias (a constant or absent: zeros).
std::optional<SmallVector<int64_t>> getBias(Value bias, int64_t channels) {
  if (!bias)
    return SmallVector<int64_t>(channels, 0);
  DenseIntElementsAttr dense;
  if (!matchPattern(bias, m_Constant(&dense)) ||
      dense.getNumElements() != channels)
    return std::nullopt;
  SmallVector<int64_t> values;
  for (const APInt &v : dense.getValues<APInt>())
    values.push_back(v.getSExtValue());
  return values;
}

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

/// Everything the kernel needs, computed at compile time.
struct Problem {
  // Output geometry: batch x OH x OW pixels, F channels.
  int64_t batch, outH, outW, channels;
  // Filter taps, strides, dilations; the input is NHWC with `cp` channels.
  int64_t kh, kw, sh, sw, dh, dw, cp;
  bool signedInput;
  // The kernel's input copy already holds x + 128 (x xor 0x80) for signed
  // storage: the K loop needs no flip.
  bool inputFlipped = false;
  // Packed weights: [kh * kw * cp / 4][np * 4]; accumulator initial values.
  int64_t np;
  // Where the last block of `lanes` channels ends: np, or `channels` when a
  // last block at np would hold a single channel. LLVM 22 (x86, AVX-512)
  // compiles a masked store of a truncated vector whose mask has a single
  // lane set into a store of that whole untruncated lane: 4 bytes for one
  // int8 channel, overwriting the next pixel's first 3 channels. Shifted
  // back to end at `channels`, that block overlaps the one before and
  // every store is whole; a single output channel is stored as a scalar.
  int64_t channelEnd;
  SmallVector<int8_t> packed;
  SmallVector<int32_t> init;
  Epilogue epilogue;
  // Depthwise: the weights of taps (2q, 2q + 1) interleaved as int16,
  // [ceil(kh * kw / 2)][np][2] (an odd last tap is paired with zero).
  SmallVector<int16_t> tapPairs;
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
};

/// Sets `p.channels`, `p.np` (channels padded to whole vectors) and
/// `p.channelEnd`.
void setChannels(Problem &p, int64_t channels, int64_t lanes) {
  p.channels = channels;
  p.np = llvm::alignTo(channels, lanes);
  p.channelEnd = channels % lanes == 1 && channels > lanes ? channels : p.np;
}

/// Whether a high-half epilogue adds the zero point with the rounding term
/// (IntegerArith::zeroPointFitsRounding, every channel). Not with a fused
/// add, whose centeredResult needs the rounding term alone.
bool foldsZeroPoint(const Problem &p) {
  const Requant &r = p.epilogue.requant;
  return p.epilogue.highHalf && !p.add && llvm::all_of(r.shift, [&](int32_t s) {
           return IntegerArith::zeroPointFitsRounding(r.zeroPoint, s);
         });
}

/// Fills `packed` and `init` from weights given as w(tap, c, f) (tap =
/// kh * KW + kw), the bias, and the input zero point. Fails when an
/// accumulator could leave int32 (then the generic lowering, which adds the
/// bias after the int32 sum, is the reference behaviour) or the packed
/// weights would be too large.
LogicalResult
packWeights(Problem &p, int64_t channelsIn,
            llvm::function_ref<int8_t(int64_t, int64_t, int64_t)> weight,
            ArrayRef<int64_t> bias, int64_t inputZeroPoint) {
  int64_t taps = p.kh * p.kw, c4 = p.cp / 4;
  // Padding to whole vectors can multiply the weights' size (by 64 for one
  // output channel and one input channel); such layers stay generic.
  if (taps * c4 * p.np * 4 > kMaxWeightElements)
    return failure();
  p.packed.assign(taps * c4 * p.np * 4, 0);
  p.init.assign(p.np, 0);
  int64_t flip = p.signedInput ? 128 : 0;
  for (int64_t f = 0; f < p.channels; ++f) {
    int64_t sum = 0, absSum = 0;
    for (int64_t t = 0; t < taps; ++t)
      for (int64_t c = 0; c < channelsIn; ++c) {
        int8_t w = weight(t, c, f);
        sum += w;
        absSum += w < 0 ? -int64_t(w) : w;
        int64_t row = t * c4 + c / 4;
        p.packed[(row * p.np + f) * 4 + c % 4] = w;
      }
    // |x - zx| <= 255: the exact accumulator bound of NumericSpec 3.1.
    if (255 * absSum + std::abs(bias[f]) > std::numeric_limits<int32_t>::max())
      return failure();
    // Wrapping int32 arithmetic is exact because the final sum fits.
    int64_t init = bias[f] - (inputZeroPoint + flip) * sum;
    p.init[f] = static_cast<int32_t>(static_cast<uint32_t>(init));
  }
  return success();
}

/// The op's rescale (precomputed, or computed like convert-myquant-to-linalg
/// does) and clamp, expanded to `np` channels.
FailureOr<Epilogue> buildEpilogue(Operation *op, RescaleAttr rescale,
                                  ClampAttr clamp, Type inputType,
                                  Type weightType, Type resultType,
                                  RoundingMode defaultRounding, int64_t np) {
  FailureOr<Requant> requant =
      makeRequant(op, rescale, productScales(inputType, weightType, resultType),
                  defaultRounding, clamp, resultType);
  if (failed(requant))
    return failure();
  Epilogue e{
      *requant,
      requant->rounding == RoundingMode::Single &&
          llvm::all_of(requant->shift, [](int32_t s) { return s >= 33; }),
      storageOf(resultType)};
  // One entry per op (per tensor) or per real channel: repeat the last one.
  e.requant.multiplier.resize(np, requant->multiplier.back());
  e.requant.shift.resize(np, requant->shift.back());
  return e;
}

//===----------------------------------------------------------------------===//
// Register tiling
//===----------------------------------------------------------------------===//

struct Tiling {
  /// Pixels along an output row (rows of the implicit GEMM; a tile spans
  /// Problem::pool output rows) and vector blocks of channels per register
  /// tile.
  int64_t mr, nr;
};

/// Whether a tile of `pixels` x `nr` accumulators, the weight registers,
/// the broadcast and the flip mask fit in the target's registers.
bool fitsRegisters(const KernelTarget &target, int64_t pixels, int64_t nr) {
  return pixels * nr + nr + 2 <= static_cast<int64_t>(target.registers);
}

/// Chooses the register tile minimizing an estimate of the issue slots of
/// the K loop: per tile and step, `window` * mr * nr dot products,
/// `window` * mr broadcasts (and flips) and nr weight loads. Partial tiles
/// are recomputed in full (the last tile of a row or of the channels is
/// shifted back to overlap the previous one), so the waste counts too. A
/// tile spans `window` output rows (the window of a fused pool, 1 without)
/// and `mr` columns, a multiple of `window` (`width` is one too). A tile's
/// nr blocks of channels end at `p.channelEnd` at most.
Tiling chooseTiling(const KernelTarget &target, const Problem &p,
                    int64_t width) {
  int64_t window = p.pool, lanes = target.lanes;
  int64_t blocks = p.np / lanes;
  int64_t widest = std::min<int64_t>(p.channelEnd / lanes, 4);
  Tiling best{window, 1};
  int64_t bestCost = std::numeric_limits<int64_t>::max();
  for (int64_t nr = 1; nr <= widest; ++nr) {
    for (int64_t mr = window; mr <= std::min<int64_t>(width, 16);
         mr += window) {
      if (!fitsRegisters(target, window * mr, nr))
        continue;
      int64_t tiles =
          llvm::divideCeil(width, mr) * llvm::divideCeil(blocks, nr);
      int64_t cost = tiles * (2 * window * mr * nr + window * mr + nr + 8);
      if (cost < bestCost) {
        bestCost = cost;
        best = {mr, nr};
      }
    }
  }
  return best;
}

//===----------------------------------------------------------------------===//
// Emission
//===----------------------------------------------------------------------===//

/// Creates `for iv = 0 to upper step step` inside `parent`'s body, where
/// `b` is, carrying `parent`'s iteration arguments; `parent` yields its
/// results, and `b` moves into the new body.
scf::ForOp nestLoop(OpBuilder &b, Location loc, scf::ForOp parent,
                    int64_t upper, int64_t step) {
  auto index = [&](int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v).getResult();
  };
  auto loop = scf::ForOp::create(b, loc, index(0), index(upper), index(step),
                                 parent.getRegionIterArgs());
  scf::YieldOp::create(b, loc, loop.getResults());
  b.setInsertionPointToStart(loop.getBody());
  return loop;
}

class KernelBuilder {
public:
  KernelBuilder(OpBuilder &b, Location loc, const KernelTarget &target)
      : b(b), loc(loc), lanes(target.lanes) {}

  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }

  template <typename T>
  Value tensorConstant(ArrayRef<int64_t> shape, Type elementType,
                       ArrayRef<T> values) {
    auto type = RankedTensorType::get(shape, elementType);
    return arith::ConstantOp::create(b, loc,
                                     DenseIntElementsAttr::get(type, values));
  }

  /// One vector register of the element type of `tensor`.
  VectorType laneVector(Value tensor) {
    return VectorType::get({lanes}, getElementTypeOrSelf(tensor.getType()));
  }

  Value splat(VectorType type, int64_t value) {
    Attribute element = b.getIntegerAttr(type.getElementType(), value);
    return arith::ConstantOp::create(
        b, loc, cast<TypedAttr>(DenseElementsAttr::get(type, element)));
  }

  Value read(Value tensor, ValueRange indices, VectorType type,
             bool inBounds = true) {
    Type element = type.getElementType();
    Value pad = arith::ConstantIntOp::create(b, loc, element, 0);
    return vector::TransferReadOp::create(b, loc, type, tensor, indices, pad,
                                          ArrayRef<bool>{inBounds});
  }

  /// Emits the whole kernel; `input` is the NHWC storage tensor with `cp`
  /// channels, padded spatially; `addend` the NHWC storage operand of
  /// `p.add`, if any. Returns `output` (NHWC int8) written.
  Value build(const Problem &p, const Tiling &tiling, Value input, Value addend,
              Value output);

  /// Emits a depthwise convolution (one filter per channel): `mr` pixels
  /// of `lanes` channels at a time; the inputs of two taps are interleaved,
  /// widened to int16 and multiplied by `p.tapPairs` with a pairwise dot
  /// product (vpdpwssd); the same epilogue. `input` is NHWC storage with
  /// `np` channels, padded spatially.
  Value buildDepthwise(const Problem &p, int64_t mr, Value input, Value addend,
                       Value output);

private:
  /// The requantization constants of `p`, as tensors of `np` entries.
  SmallVector<Value> epilogueConstants(const Problem &p);

  /// acc + the sums over groups of `group` adjacent products of a and w,
  /// widened to int32 (a zero- or sign-extended, w sign-extended).
  Value groupedDot(Value acc, Value a, Value w, int64_t group, bool unsignedA) {
    auto wide = VectorType::get({group * lanes}, b.getI32Type());
    Value wa = unsignedA ? arith::ExtUIOp::create(b, loc, wide, a).getResult()
                         : arith::ExtSIOp::create(b, loc, wide, a).getResult();
    Value sw = arith::ExtSIOp::create(b, loc, wide, w);
    Value products = arith::MulIOp::create(b, loc, wa, sw);
    Value grouped = vector::ShapeCastOp::create(
        b, loc, VectorType::get({lanes, group}, b.getI32Type()), products);
    return vector::MultiDimReductionOp::create(b, loc, grouped, acc,
                                               ArrayRef<bool>{false, true},
                                               vector::CombiningKind::ADD);
  }

  /// acc + sum over groups of 4 of u8(a) * s8(w): exactly vpdpbusd.
  Value dot(Value acc, Value a, Value w) {
    return groupedDot(acc, a, w, 4, /*unsignedA=*/true);
  }

  /// acc + sum over pairs of s16(a) * s16(w): exactly vpdpwssd.
  Value pairDot(Value acc, Value a, Value w) {
    return groupedDot(acc, a, w, 2, /*unsignedA=*/false);
  }

  /// The requantized int8 vector of one accumulator (NumericSpec 2.3), for
  /// channels [n, n + lanes).
  Value requantize(const Problem &p, Value acc, ArrayRef<Value> constants);

  /// For high-half epilogues: the requantized accumulator before the zero
  /// point is added, clamped, as int32.
  Value centeredResult(const Problem &p, Value acc, ArrayRef<Value> constants);

  /// Requantizes `acc`, applies `p.add` with `addend` at `indices` (NHWC),
  /// and writes the result into `out` there.
  Value storeResult(const Problem &p, Value acc, ArrayRef<Value> constants,
                    Value addend, Value out, ValueRange indices);

  OpBuilder &b;
  Location loc;
  int64_t lanes;
};

Value KernelBuilder::centeredResult(const Problem &p, Value acc,
                                    ArrayRef<Value> c) {
  const Requant &r = p.epilogue.requant;
  assert(!foldsZeroPoint(p) && "the rounding constants include the zero point");
  IntegerArith arith(b, loc, {lanes});
  // clamp(scaled + zp, lo, hi) == clamp(scaled, lo - zp, hi - zp) + zp:
  // |scaled| <= 2^30, nothing overflows.
  Value scaled = arith.highHalfRescale(acc, c[0], c[1], c[2]);
  return arith.clamp(scaled, r.lo - r.zeroPoint, r.hi - r.zeroPoint);
}

Value KernelBuilder::requantize(const Problem &p, Value acc,
                                ArrayRef<Value> c) {
  const Epilogue &e = p.epilogue;
  const Requant &r = e.requant;
  IntegerArith arith(b, loc, {lanes});
  Type i8 = b.getI8Type();
  if (!e.highHalf)
    return arith.requantize(arith.cast(acc, b.getI64Type()), c[0], c[1], r, i8);
  // |scaled| <= 2^30: adding the zero point does not overflow.
  Value shifted = arith.highHalfRescale(acc, c[0], c[1], c[2]);
  if (!foldsZeroPoint(p))
    shifted = arith.add(shifted, arith.constant(b.getI32Type(), r.zeroPoint));
  return arith.clampNarrow(shifted, e.storage, r.lo, r.hi);
}

Value KernelBuilder::storeResult(const Problem &p, Value acc,
                                 ArrayRef<Value> constants, Value addend,
                                 Value out, ValueRange indices) {
  bool inBounds = p.channelEnd == p.channels;
  Value result;
  if (p.add) {
    const AddRescales &r = p.add->rescales;
    bool lhs = p.add->resultIsLhs;
    IntegerArith arith(b, loc, {lanes});
    Value other = read(addend, indices, VectorType::get({lanes}, b.getI8Type()),
                       inBounds);
    if (p.epilogue.highHalf && IntegerArith::hasInt32Form(r)) {
      // The kernel's clamped int32 result is its operand of the add,
      // centered on the zero point they share: no narrowing and
      // re-widening in between.
      Value own = centeredResult(p, acc, constants);
      Value theirs =
          arith.center(other, lhs ? r.rhsStorage : r.lhsStorage,
                       lhs ? r.rhsZeroPoint : r.lhsZeroPoint, b.getI32Type());
      result = lhs ? arith.centeredAdd(own, theirs, r)
                   : arith.centeredAdd(theirs, own, r);
    } else {
      Value own = requantize(p, acc, constants);
      result = lhs ? arith.quantizedAdd(own, other, r)
                   : arith.quantizedAdd(other, own, r);
    }
  } else {
    result = requantize(p, acc, constants);
  }
  if (p.channels == 1) // See Problem::channelEnd.
    return tensor::InsertOp::create(
        b, loc, vector::ExtractOp::create(b, loc, result, int64_t(0)), out,
        indices);
  return vector::TransferWriteOp::create(b, loc, result, out, indices,
                                         ArrayRef<bool>{inBounds})
      .getResult();
}

SmallVector<Value> KernelBuilder::epilogueConstants(const Problem &p) {
  const Requant &r = p.epilogue.requant;
  Type i32 = b.getI32Type();
  SmallVector<Value> tensors = {
      tensorConstant<int32_t>({p.np}, i32, r.multiplier)};
  if (!p.epilogue.highHalf) {
    tensors.push_back(tensorConstant<int32_t>({p.np}, i32, r.shift));
    return tensors;
  }
  // highHalfRescale's operands: s - 32 and the rounding term.
  int64_t zp = foldsZeroPoint(p) ? r.zeroPoint : 0;
  SmallVector<int32_t> shift, half;
  for (int32_t s : r.shift) {
    shift.push_back(s - 32);
    half.push_back(static_cast<int32_t>(IntegerArith::highHalfRounding(s, zp)));
  }
  tensors.push_back(tensorConstant<int32_t>({p.np}, i32, shift));
  tensors.push_back(tensorConstant<int32_t>({p.np}, i32, half));
  return tensors;
}

Value KernelBuilder::buildDepthwise(const Problem &p, int64_t mr, Value input,
                                    Value addend, Value output) {
  Type i8 = b.getI8Type(), i16 = b.getI16Type(), i32 = b.getI32Type();
  int64_t taps = p.kh * p.kw, pairs = llvm::divideCeil(taps, 2);
  Value weights = tensorConstant<int16_t>({pairs, 2 * p.np}, i16, p.tapPairs);
  Value init = tensorConstant<int32_t>({p.np}, i32, p.init);
  SmallVector<Value> epilogueTensors = epilogueConstants(p);
  auto accType = VectorType::get({lanes}, i32);
  auto bytesType = VectorType::get({lanes}, i8);
  auto pairType = VectorType::get({2 * lanes}, i16);
  // Lane i of the first vector, then lane i of the second, for each i.
  SmallVector<int64_t> interleave;
  for (int64_t i = 0; i < lanes; ++i)
    interleave.append({i, lanes + i});

  Value zero = index(0), one = index(1);
  // for n, for oy, for each channel block, for each pixel tile.
  auto batchLoop =
      scf::ForOp::create(b, loc, zero, index(p.batch), one, ValueRange{output});
  batchLoop->setAttr(kParallelBatchAttrName, b.getUnitAttr());
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(batchLoop.getBody());
  Value n = batchLoop.getInductionVar();
  auto rowLoop = nestLoop(b, loc, batchLoop, p.outH, 1);
  Value oy = rowLoop.getInductionVar();
  auto blockLoop = nestLoop(b, loc, rowLoop, p.np, lanes);
  // The last block is shifted back to end at channelEnd.
  Value channel = arith::MinSIOp::create(b, loc, blockLoop.getInductionVar(),
                                         index(p.channelEnd - lanes));
  auto pixelLoop = nestLoop(b, loc, blockLoop, p.outW, mr);
  // The last pixel tile of a row is shifted back to end at OW.
  Value ox0 = arith::MinSIOp::create(b, loc, pixelLoop.getInductionVar(),
                                     index(p.outW - mr));
  Value y0 = arith::MulIOp::create(b, loc, oy, index(p.sh));
  Value x0 = arith::MulIOp::create(b, loc, ox0, index(p.sw));
  SmallVector<Value> accs;
  Value start = read(init, channel, accType);
  for (int64_t i = 0; i < mr; ++i)
    accs.push_back(start);
  // The taps are unrolled in pairs: one weight vector per pair, mr pixels
  // each.
  auto tapInput = [&](int64_t t, int64_t m) {
    Value y = arith::AddIOp::create(b, loc, y0, index(t / p.kw * p.dh));
    Value x =
        arith::AddIOp::create(b, loc, x0, index(m * p.sw + t % p.kw * p.dw));
    return read(input, {n, y, x, channel}, bytesType);
  };
  for (int64_t q = 0; q < pairs; ++q) {
    Value w = read(weights,
                   {index(q), arith::MulIOp::create(b, loc, channel, index(2))},
                   pairType);
    // An odd last tap meets zero weights in the second half of its pair.
    int64_t second = std::min(2 * q + 1, taps - 1);
    for (int64_t m = 0; m < mr; ++m) {
      Value both = vector::ShuffleOp::create(b, loc, tapInput(2 * q, m),
                                             tapInput(second, m), interleave);
      Value wide =
          p.signedInput
              ? arith::ExtSIOp::create(b, loc, pairType, both).getResult()
              : arith::ExtUIOp::create(b, loc, pairType, both).getResult();
      accs[m] = pairDot(accs[m], wide, w);
    }
  }
  SmallVector<Value> constants;
  for (Value tensor : epilogueTensors)
    constants.push_back(read(tensor, channel, laneVector(tensor)));
  Value out = pixelLoop.getRegionIterArgs()[0];
  for (int64_t m = 0; m < mr; ++m) {
    Value ox = arith::AddIOp::create(b, loc, ox0, index(m));
    out = storeResult(p, accs[m], constants, addend, out,
                      ValueRange{n, oy, ox, channel});
  }
  scf::YieldOp::create(b, loc, out);
  return batchLoop.getResult(0);
}

Value KernelBuilder::build(const Problem &p, const Tiling &tiling, Value input,
                           Value addend, Value output) {
  Type i8 = b.getI8Type(), i32 = b.getI32Type();
  int64_t c4 = p.cp / 4, rows = p.kh * p.kw * c4;
  int64_t mr = tiling.mr, nr = tiling.nr, blocks = p.np / lanes;

  // Constants: packed weights, accumulator init, requantization.
  Value weights = tensorConstant<int8_t>({rows, p.np * 4}, i8, p.packed);
  Value init = tensorConstant<int32_t>({p.np}, i32, p.init);
  SmallVector<Value> epilogueTensors = epilogueConstants(p);

  auto accType = VectorType::get({lanes}, i32);
  auto bytesType = VectorType::get({4 * lanes}, i8);
  Value flip =
      p.signedInput && !p.inputFlipped ? splat(bytesType, -128) : Value();

  Value zero = index(0), one = index(1);

  // for n in batch, for each channel tile, for oy, for each pixel tile.
  auto batchLoop =
      scf::ForOp::create(b, loc, zero, index(p.batch), one, ValueRange{output});
  batchLoop->setAttr(kParallelBatchAttrName, b.getUnitAttr());
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(batchLoop.getBody());
  Value n = batchLoop.getInductionVar();
  auto tileLoop = nestLoop(b, loc, batchLoop, llvm::divideCeil(blocks, nr), 1);
  // The last channel tile is shifted back to end at channelEnd.
  Value channel0 = arith::MinSIOp::create(
      b, loc,
      arith::MulIOp::create(b, loc, tileLoop.getInductionVar(),
                            index(nr * lanes)),
      index(p.channelEnd - nr * lanes));
  SmallVector<Value> channel;
  for (int64_t j = 0; j < nr; ++j)
    channel.push_back(
        arith::AddIOp::create(b, loc, channel0, index(j * lanes)));
  // A tile is `window` rows (a fused pool's window) by mr pixels by nr
  // vectors of channels; accumulator (r, i, j) is accs[(r * mr + i) * nr + j].
  int64_t window = p.pool;
  auto rowLoop = nestLoop(b, loc, tileLoop, p.outH, window);
  Value oy = rowLoop.getInductionVar();
  auto pixelLoop = nestLoop(b, loc, rowLoop, p.outW, mr);
  // The last pixel tile of a row is shifted back to end at OW.
  Value ox0 = arith::MinSIOp::create(b, loc, pixelLoop.getInductionVar(),
                                     index(p.outW - mr));

  // Accumulators start at the folded bias.
  SmallVector<Value> accs;
  for (int64_t i = 0; i < window * mr; ++i)
    for (int64_t j = 0; j < nr; ++j)
      accs.push_back(read(init, channel[j], accType));

  // K loop: kh, kw, c / 4.
  auto khLoop = scf::ForOp::create(b, loc, zero, index(p.kh), one, accs);
  b.setInsertionPointToStart(khLoop.getBody());
  Value y0 = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, oy, index(p.sh)),
      arith::MulIOp::create(b, loc, khLoop.getInductionVar(), index(p.dh)));
  SmallVector<Value> ys;
  for (int64_t r = 0; r < window; ++r)
    ys.push_back(arith::AddIOp::create(b, loc, y0, index(r * p.sh)));
  auto kwLoop = nestLoop(b, loc, khLoop, p.kw, 1);
  Value kwv = kwLoop.getInductionVar();
  Value x0 = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, ox0, index(p.sw)),
      arith::MulIOp::create(b, loc, kwv, index(p.dw)));
  Value tap = arith::AddIOp::create(
      b, loc,
      arith::MulIOp::create(b, loc, khLoop.getInductionVar(), index(p.kw)),
      kwv);
  Value row0 = arith::MulIOp::create(b, loc, tap, index(c4));
  SmallVector<Value> xs;
  for (int64_t i = 0; i < mr; ++i)
    xs.push_back(arith::AddIOp::create(b, loc, x0, index(i * p.sw)));
  auto cLoop = nestLoop(b, loc, kwLoop, c4, 1);
  {
    Value cv = cLoop.getInductionVar();
    Value row = arith::AddIOp::create(b, loc, row0, cv);
    Value channelByte = arith::MulIOp::create(b, loc, cv, index(4));
    SmallVector<Value> w;
    for (int64_t j = 0; j < nr; ++j)
      w.push_back(read(
          weights, {row, arith::MulIOp::create(b, loc, channel[j], index(4))},
          bytesType));
    SmallVector<Value> next;
    for (int64_t r = 0; r < window; ++r) {
      for (int64_t i = 0; i < mr; ++i) {
        // Four input channels of one pixel, broadcast to every lane.
        Value four = read(input, {n, ys[r], xs[i], channelByte},
                          VectorType::get({4}, i8));
        Value word =
            vector::BitCastOp::create(b, loc, VectorType::get({1}, i32), four);
        Value scalar = vector::ExtractOp::create(b, loc, word, int64_t(0));
        Value a = vector::BroadcastOp::create(b, loc, accType, scalar);
        a = vector::BitCastOp::create(b, loc, bytesType, a);
        if (flip)
          a = arith::XOrIOp::create(b, loc, a, flip);
        for (int64_t j = 0; j < nr; ++j)
          next.push_back(
              dot(cLoop.getRegionIterArgs()[(r * mr + i) * nr + j], a, w[j]));
      }
    }
    scf::YieldOp::create(b, loc, next);
  }
  b.setInsertionPointAfter(khLoop);

  // Epilogue: requantize the registers and store int8.
  Value out = pixelLoop.getRegionIterArgs()[0];
  for (int64_t j = 0; j < nr; ++j) {
    SmallVector<Value> constants;
    for (Value tensor : epilogueTensors)
      constants.push_back(read(tensor, channel[j], laneVector(tensor)));
    if (window > 1) {
      // ox0 is a multiple of the window: so are OW and mr.
      Value py = arith::DivUIOp::create(b, loc, oy, index(window));
      Value px0 = arith::DivUIOp::create(b, loc, ox0, index(window));
      for (int64_t q = 0; q < mr / window; ++q) {
        Value pooled;
        for (int64_t r = 0; r < window; ++r)
          for (int64_t i = q * window; i < (q + 1) * window; ++i) {
            Value acc = khLoop.getResult((r * mr + i) * nr + j);
            pooled = pooled ? arith::MaxSIOp::create(b, loc, pooled, acc) : acc;
          }
        Value px = arith::AddIOp::create(b, loc, px0, index(q));
        out = storeResult(p, pooled, constants, Value(), out,
                          ValueRange{n, py, px, channel[j]});
      }
      continue;
    }
    for (int64_t i = 0; i < mr; ++i) {
      Value ox = arith::AddIOp::create(b, loc, ox0, index(i));
      out = storeResult(p, khLoop.getResult(i * nr + j), constants, addend, out,
                        ValueRange{n, oy, ox, channel[j]});
    }
  }
  scf::YieldOp::create(b, loc, out);
  return batchLoop.getResult(0);
}

//===----------------------------------------------------------------------===//
// Ops
//===----------------------------------------------------------------------===//

bool isStatic(Operation *op) {
  auto isStaticType = [](Type t) {
    auto shaped = dyn_cast<ShapedType>(t);
    return !shaped || shaped.hasStaticShape();
  };
  return llvm::all_of(op->getOperandTypes(), isStaticType) &&
         llvm::all_of(op->getResultTypes(), isStaticType);
}

/// Input, weight and result quantization the kernel supports: 8-bit
/// per-tensor activations (signed or unsigned), signed 8-bit weights with
/// zero point 0 (per tensor or per output channel).
bool supportedTypes(Type input, Type weight, Type result) {
  std::optional<QuantParams> in = getQuantParams(input),
                             w = getQuantParams(weight),
                             out = getQuantParams(result);
  if (!in || !w || !out)
    return false;
  return in->isPerTensor() && out->isPerTensor() && in->storageWidth == 8 &&
         out->storageWidth == 8 && w->storageWidth == 8 && w->isSigned &&
         llvm::all_of(w->zeroPoints, [](int64_t zp) { return zp == 0; });
}

Value toStorage(OpBuilder &b, Location loc, Value quantized) {
  auto type = cast<RankedTensorType>(quantized.getType());
  quant::QuantizedType q = getQuantElementType(type);
  Type storage =
      IntegerType::get(b.getContext(), q.getStorageTypeIntegralWidth());
  return quant::StorageCastOp::create(b, loc, type.clone(storage), quantized);
}

Value padTensor(OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> low,
                ArrayRef<int64_t> high, int64_t value) {
  if (llvm::all_of(low, [](int64_t v) { return v == 0; }) &&
      llvm::all_of(high, [](int64_t v) { return v == 0; }))
    return input;
  auto type = cast<RankedTensorType>(input.getType());
  SmallVector<int64_t> shape(type.getShape());
  SmallVector<OpFoldResult> lo, hi;
  for (auto [dim, l, h] : llvm::enumerate(low, high)) {
    shape[dim] += l + h;
    lo.push_back(b.getIndexAttr(l));
    hi.push_back(b.getIndexAttr(h));
  }
  Value pad = arith::ConstantIntOp::create(b, loc, type.getElementType(),
                                           static_cast<int8_t>(value));
  return tensor::PadOp::create(b, loc, type.clone(shape), input, lo, hi, pad);
}

/// `bytes` xor `flip` (an int8 vector; unchanged for 0).
Value flipBytes(OpBuilder &b, Location loc, Value bytes, int64_t flip) {
  if (flip == 0)
    return bytes;
  auto type = cast<VectorType>(bytes.getType());
  Value mask = arith::ConstantOp::create(
      b, loc,
      cast<TypedAttr>(DenseElementsAttr::get(
          type,
          b.getIntegerAttr(type.getElementType(), static_cast<int8_t>(flip)))));
  return arith::XOrIOp::create(b, loc, bytes, mask);
}

/// Builds an NHWC int8 tensor `n` x (`h` + pad[0] + pad[2]) x (`w` + pad[1]
/// + pad[3]) x `c` whose border holds `value` and whose interior rows
/// `writeRow` writes: it gets the batch index, the input row, the output
/// row and the tensor collapsed to rows of Wp * C bytes, and returns it
/// written. Only the border is filled (filling the whole tensor first cost
/// as much as writing the rows).
Value buildPaddedNhwc(
    OpBuilder &b, Location loc, ArrayRef<int64_t> shape, ArrayRef<int64_t> pad,
    int64_t value, int64_t bytes,
    llvm::function_ref<Value(OpBuilder &, Value, Value, Value, Value)>
        writeRow) {
  int64_t n = shape[0], h = shape[1], w = shape[2], c = shape[3];
  int64_t hp = h + pad[0] + pad[2], wp = w + pad[1] + pad[3];
  Type i8 = b.getI8Type();
  auto paddedType = RankedTensorType::get({n, hp, wp, c}, i8);
  Value empty = tensor::EmptyOp::create(b, loc, paddedType.getShape(), i8);
  SmallVector<ReassociationIndices> rows = {{0}, {1}, {2, 3}};
  Value dst = tensor::CollapseShapeOp::create(b, loc, empty, rows);
  auto index = [&](int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v).getResult();
  };
  Value zero = index(0), one = index(1);
  Value chunkFill = arith::ConstantOp::create(
      b, loc,
      cast<TypedAttr>(DenseElementsAttr::get(
          VectorType::get({bytes}, i8),
          b.getIntegerAttr(i8, static_cast<int8_t>(value)))));
  auto batchLoop =
      scf::ForOp::create(b, loc, zero, index(n), one, ValueRange{dst});
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(batchLoop.getBody());
  Value batch = batchLoop.getInductionVar();
  auto write = [&](Value vector, Value tensor, Value y, Value x) {
    return vector::TransferWriteOp::create(b, loc, vector, tensor,
                                           ValueRange{batch, y, x},
                                           ArrayRef<bool>{false})
        .getResult();
  };
  // Whole padding rows, top and bottom.
  Value padded = batchLoop.getRegionIterArgs()[0];
  for (auto [first, count] :
       {std::pair(int64_t(0), pad[0]), std::pair(pad[0] + h, pad[2])}) {
    if (count == 0)
      continue;
    auto rowLoop = scf::ForOp::create(
        b, loc, index(first), index(first + count), one, ValueRange{padded});
    b.setInsertionPointToStart(rowLoop.getBody());
    auto chunkLoop = nestLoop(b, loc, rowLoop, wp * c, bytes);
    scf::YieldOp::create(b, loc,
                         write(chunkFill, chunkLoop.getRegionIterArgs()[0],
                               rowLoop.getInductionVar(),
                               chunkLoop.getInductionVar()));
    b.setInsertionPointAfter(rowLoop);
    padded = rowLoop.getResult(0);
  }
  // Interior rows: the left and right padding, then the row itself. The
  // padding is written in whole chunks: past the left padding they land in
  // the row, written afterwards, past the right one they are masked off.
  auto rowLoop =
      scf::ForOp::create(b, loc, zero, index(h), one, ValueRange{padded});
  b.setInsertionPointToStart(rowLoop.getBody());
  Value y =
      arith::AddIOp::create(b, loc, rowLoop.getInductionVar(), index(pad[0]));
  Value row = rowLoop.getRegionIterArgs()[0];
  for (auto [first, count] :
       {std::pair(int64_t(0), pad[1]), std::pair(pad[1] + w, pad[3])}) {
    if (count == 0)
      continue;
    auto chunkLoop =
        scf::ForOp::create(b, loc, index(first * c), index((first + count) * c),
                           index(bytes), ValueRange{row});
    OpBuilder::InsertionGuard chunkGuard(b);
    b.setInsertionPointToStart(chunkLoop.getBody());
    scf::YieldOp::create(b, loc,
                         write(chunkFill, chunkLoop.getRegionIterArgs()[0], y,
                               chunkLoop.getInductionVar()));
    row = chunkLoop.getResult(0);
  }
  scf::YieldOp::create(b, loc,
                       writeRow(b, batch, rowLoop.getInductionVar(), y, row));
  b.setInsertionPointAfter(rowLoop);
  scf::YieldOp::create(b, loc, rowLoop.getResult(0));
  b.setInsertionPointAfter(batchLoop);
  return tensor::ExpandShapeOp::create(b, loc, paddedType,
                                       batchLoop.getResult(0), rows);
}

/// Pads height and width of an NHWC int8 tensor with `value`: each input
/// row (W * C contiguous bytes) is copied with `bytes`-wide vector
/// transfers. The masked tail of a row reads `value` and may only land in
/// the row's right padding, so it writes what the padding holds anyway.
/// (tensor.pad becomes a byte-by-byte loop nest.) Every byte written,
/// padding included, is xor'ed with `flip`.
Value padSpatialNhwc(OpBuilder &b, Location loc, Value input,
                     ArrayRef<int64_t> pad, int64_t value, int64_t bytes,
                     int64_t flip = 0) {
  if (llvm::all_of(pad, [](int64_t v) { return v == 0; }))
    return input;
  auto type = cast<RankedTensorType>(input.getType());
  ArrayRef<int64_t> s = type.getShape();
  int64_t rowBytes = s[2] * s[3], left = pad[1] * s[3];
  Value src = tensor::CollapseShapeOp::create(
      b, loc, input, SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
  Value fillValue = arith::ConstantIntOp::create(b, loc, type.getElementType(),
                                                 static_cast<int8_t>(value));
  return buildPaddedNhwc(
      b, loc, s, pad, value ^ flip, bytes,
      [&](OpBuilder &b, Value batch, Value yIn, Value yOut, Value row) {
        auto copyLoop = scf::ForOp::create(
            b, loc, arith::ConstantIndexOp::create(b, loc, 0),
            arith::ConstantIndexOp::create(b, loc, rowBytes),
            arith::ConstantIndexOp::create(b, loc, bytes), ValueRange{row});
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(copyLoop.getBody());
        Value offset = copyLoop.getInductionVar();
        Value chunk = flipBytes(
            b, loc,
            vector::TransferReadOp::create(
                b, loc, VectorType::get({bytes}, type.getElementType()), src,
                ValueRange{batch, yIn, offset}, fillValue,
                ArrayRef<bool>{false}),
            flip);
        Value x = arith::AddIOp::create(
            b, loc, offset, arith::ConstantIndexOp::create(b, loc, left));
        Value written = vector::TransferWriteOp::create(
                            b, loc, chunk, copyLoop.getRegionIterArgs()[0],
                            ValueRange{batch, yOut, x}, ArrayRef<bool>{false})
                            .getResult();
        scf::YieldOp::create(b, loc, written);
        return copyLoop.getResult(0);
      });
}

/// Whether nchwToPaddedNhwc and nhwcToPaddedChannels handle `cp` channels.
bool interleavesChannels(int64_t cp) { return cp == 4 || cp == 8 || cp == 16; }

/// buildPaddedNhwc with `cp` channels whose rows are written `pixels`
/// pixels at a time: `pixelBytes` gives the `pixels` * cp bytes from pixel
/// `x0` of input row `yIn` (reading `value` past the row's end: what lands
/// past the last pixel is in the right padding, or masked off at the end
/// of the padded row). Every byte written is xor'ed with `flip`.
Value buildPaddedNhwcByPixels(
    OpBuilder &b, Location loc, ArrayRef<int64_t> shape, ArrayRef<int64_t> pad,
    int64_t value, int64_t flip, int64_t pixels,
    llvm::function_ref<Value(OpBuilder &, Value, Value, Value)> pixelBytes) {
  int64_t w = shape[2], cp = shape[3];
  return buildPaddedNhwc(
      b, loc, shape, pad, value ^ flip, 64,
      [&](OpBuilder &b, Value batch, Value yIn, Value yOut, Value row) {
        auto index = [&](int64_t v) {
          return arith::ConstantIndexOp::create(b, loc, v).getResult();
        };
        auto pixelLoop = scf::ForOp::create(b, loc, index(0), index(w),
                                            index(pixels), ValueRange{row});
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(pixelLoop.getBody());
        Value x0 = pixelLoop.getInductionVar();
        Value bytes = pixelBytes(b, batch, yIn, x0);
        Value x = arith::AddIOp::create(
            b, loc, arith::MulIOp::create(b, loc, x0, index(cp)),
            index(pad[1] * cp));
        Value written = vector::TransferWriteOp::create(
                            b, loc, flipBytes(b, loc, bytes, flip),
                            pixelLoop.getRegionIterArgs()[0],
                            ValueRange{batch, yOut, x}, ArrayRef<bool>{false})
                            .getResult();
        scf::YieldOp::create(b, loc, written);
        return pixelLoop.getResult(0);
      });
}

/// NHWC int8 storage with C < cp channels padded to `cp` channels and
/// spatially, all with `value`: 16 / cp pixels at a time, 16 bytes from
/// their first are read and spread out to cp bytes a pixel by a shuffle
/// with a splat of `value` within 128 bits (vpshufb; wider shuffles need
/// VBMI, which the kernels' targets do not assume). (tensor.pad becomes a
/// byte-by-byte loop nest.) Every byte written is xor'ed with `flip`.
Value nhwcToPaddedChannels(OpBuilder &b, Location loc, Value input,
                           ArrayRef<int64_t> pad, int64_t cp, int64_t value,
                           int64_t flip) {
  auto type = cast<RankedTensorType>(input.getType());
  ArrayRef<int64_t> s = type.getShape(); // N, H, W, C
  int64_t channels = s[3], pixels = 16 / cp;
  Type i8 = type.getElementType();
  Value src = tensor::CollapseShapeOp::create(
      b, loc, input, SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
  Value fillValue =
      arith::ConstantIntOp::create(b, loc, i8, static_cast<int8_t>(value));
  auto packedType = VectorType::get({16}, i8);
  // Byte c of pixel i comes from the packed pixels, or the splat past C
  // (pixels * C < 16).
  SmallVector<int64_t> spread;
  for (int64_t i = 0; i < pixels; ++i)
    for (int64_t c = 0; c < cp; ++c)
      spread.push_back(c < channels ? i * channels + c : 16);
  return buildPaddedNhwcByPixels(
      b, loc, {s[0], s[1], s[2], cp}, pad, value, flip, pixels,
      [&](OpBuilder &b, Value batch, Value yIn, Value x0) -> Value {
        Value first = arith::MulIOp::create(
            b, loc, x0, arith::ConstantIndexOp::create(b, loc, channels));
        Value packed = vector::TransferReadOp::create(
            b, loc, packedType, src, ValueRange{batch, yIn, first}, fillValue,
            ArrayRef<bool>{false});
        Value splat =
            vector::BroadcastOp::create(b, loc, packedType, fillValue);
        return vector::ShuffleOp::create(b, loc, packed, splat, spread);
      });
}

/// NCHW int8 storage with C <= cp channels as NHWC with `cp` channels (the
/// extra ones hold `value`), padded spatially with `value`: 64 / cp pixels
/// at a time, the C row segments are read as vectors and interleaved
/// (vector.interleave, log2(cp) rounds). (A tensor.pad and a transpose
/// become byte-by-byte loop nests, a tenth of a 3-channel first layer.)
/// Every byte written is xor'ed with `flip`.
Value nchwToPaddedNhwc(OpBuilder &b, Location loc, Value input,
                       ArrayRef<int64_t> pad, int64_t cp, int64_t value,
                       int64_t flip) {
  auto type = cast<RankedTensorType>(input.getType());
  ArrayRef<int64_t> s = type.getShape(); // N, C, H, W
  int64_t channels = s[1], pixels = 64 / cp;
  Type i8 = type.getElementType();
  Value fillValue =
      arith::ConstantIntOp::create(b, loc, i8, static_cast<int8_t>(value));
  auto segmentType = VectorType::get({pixels}, i8);
  return buildPaddedNhwcByPixels(
      b, loc, {s[0], s[2], s[3], cp}, pad, value, flip, pixels,
      [&](OpBuilder &b, Value batch, Value yIn, Value x0) -> Value {
        SmallVector<Value> lanes;
        for (int64_t c = 0; c < cp; ++c)
          lanes.push_back(
              c < channels
                  ? vector::TransferReadOp::create(
                        b, loc, segmentType, input,
                        ValueRange{batch,
                                   arith::ConstantIndexOp::create(b, loc, c),
                                   yIn, x0},
                        fillValue, ArrayRef<bool>{false})
                        .getResult()
                  : vector::BroadcastOp::create(b, loc, segmentType, fillValue)
                        .getResult());
        // Interleaving channels c and c + cp/2, then the results the same
        // way, orders the bytes pixel by pixel, channel by channel.
        while (lanes.size() > 1) {
          size_t half = lanes.size() / 2;
          SmallVector<Value> next;
          for (size_t i = 0; i < half; ++i)
            next.push_back(vector::InterleaveOp::create(b, loc, lanes[i],
                                                        lanes[i + half]));
          lanes = std::move(next);
        }
        return lanes[0];
      });
}

Value transpose(OpBuilder &b, Location loc, Value input,
                ArrayRef<int64_t> permutation) {
  auto type = cast<RankedTensorType>(input.getType());
  SmallVector<int64_t> shape;
  for (int64_t d : permutation)
    shape.push_back(type.getDimSize(d));
  Value init = tensor::EmptyOp::create(b, loc, shape, type.getElementType());
  return linalg::TransposeOp::create(b, loc, input, init, permutation)
      .getResult()[0];
}

/// `[n, c, h, w]` -> `[n, h, w, c]` of a rank-4 tensor type.
RankedTensorType nhwcType(Type nchw) {
  auto type = cast<RankedTensorType>(nchw);
  ArrayRef<int64_t> s = type.getShape();
  return type.clone({s[0], s[2], s[3], s[1]});
}

bool isPerTensor4D(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  std::optional<QuantParams> params = getQuantParams(type);
  return tensor && tensor.getRank() == 4 && tensor.hasStaticShape() && params &&
         params->isPerTensor();
}

struct Lowering {
  const KernelTarget &target;
  RoundingMode defaultRounding;
  /// The NHWC storage tensor of NCHW values computed in NHWC: kernel
  /// outputs, and pools and element-wise ops moved to NHWC after them, so
  /// that a chain of them does not go through NCHW in between.
  DenseMap<Value, Value> nhwc;
  /// The NHWC -> NCHW round trips built for NCHW users; erased if unused.
  SmallVector<Operation *> roundTrips;
  /// The module's symbols, for naming the kernel functions.
  SymbolTable *symbols = nullptr;
  /// Ops erased while lowering an earlier op (fused adds).
  DenseSet<Operation *> erased;

  /// Builds `body(args)` as a private `noinline` function of its own and
  /// returns a call of it on `args`: LLVM then optimizes each kernel on its
  /// own (one function holding every kernel of a deep model compiles in
  /// superlinear time) and the kernels carry the target's features.
  /// The kernel writes its `resultType` result into a last argument the
  /// caller allocates (destination-passing style): the call then returns
  /// that buffer, bufferization drops the result, and the caller owns and
  /// frees every temporary itself. `body` gets the arguments, the
  /// destination last, and returns the destination written.
  Value outline(OpBuilder &b, Operation *op, ValueRange args,
                RankedTensorType resultType,
                llvm::function_ref<Value(OpBuilder &, ValueRange)> body);

  /// An add that consumes a kernel's result alone and runs in its
  /// epilogue; `addend` is the add's other operand as NHWC storage.
  struct AddFusion {
    AddOp add;
    Value addend;
    Problem::FusedAdd fused;
  };
  /// The add fusion for `op` (a conv2d), if its result's only user is an
  /// add with precomputed rescales, 8-bit operands and result, whose other
  /// operand is available in NHWC before `op`. Builds the storage cast of
  /// that operand at `b`.
  std::optional<AddFusion> findAddFusion(OpBuilder &b, Conv2DOp op);
  /// The kernel arguments of `op` (a conv2d): its input as NHWC storage
  /// when available, else as storage (`sourceNchw` set for NCHW), then the
  /// addend of the add fused into it, if any (also recorded in `p.add`).
  SmallVector<Value> convArgs(OpBuilder &b, Conv2DOp op, Problem &p,
                              bool &sourceNchw,
                              std::optional<AddFusion> &fusion);
  /// The max pool that consumes `op`'s result alone, when its windows tile
  /// the result exactly (window = stride, no padding or dilation) and can
  /// run in the epilogue of `op`'s kernel.
  MaxPool2DOp findPoolFusion(Conv2DOp op);
  /// Replaces `op`, or the op fused into its kernel (`fused`), by the
  /// kernel's NHWC storage result.
  void finishKernel(OpBuilder &b, Conv2DOp op, Operation *fused, Value result);

  LogicalResult lowerConv(Conv2DOp op);
  /// Depthwise convolutions (groups = channels, one filter per channel).
  LogicalResult lowerDepthwise(Conv2DOp op);
  LogicalResult lowerMatmul(MatmulOp op);
  /// Moves an NCHW pool or element-wise op whose operands are available in
  /// NHWC to NHWC.
  LogicalResult moveToNhwc(Operation *op);
  void finish(OpBuilder &b, Operation *op, Value storageResult) const;
  /// Replaces `op`'s NCHW result by the transpose of `storage` (NHWC) and
  /// records the NHWC value.
  void finishNhwc(OpBuilder &b, Operation *op, Value storage);
  void eraseUnusedRoundTrips();
};

void Lowering::finishNhwc(OpBuilder &b, Operation *op, Value storage) {
  Location loc = op->getLoc();
  Value back = transpose(b, loc, storage, {0, 3, 1, 2});
  roundTrips.push_back(
      back.getDefiningOp<linalg::TransposeOp>().getInit().getDefiningOp());
  roundTrips.push_back(back.getDefiningOp());
  Value result =
      quant::StorageCastOp::create(b, loc, op->getResult(0).getType(), back);
  roundTrips.push_back(result.getDefiningOp());
  op->getResult(0).replaceAllUsesWith(result);
  op->erase();
  nhwc[result] = storage;
}

void Lowering::eraseUnusedRoundTrips() {
  for (Operation *op : llvm::reverse(roundTrips))
    if (op->use_empty())
      op->erase();
  roundTrips.clear();
  nhwc.clear();
}

LogicalResult Lowering::moveToNhwc(Operation *op) {
  if (op->getNumResults() != 1 || !isPerTensor4D(op->getResult(0).getType()))
    return failure();
  if (auto pool = dyn_cast<MaxPool2DOp>(op)) {
    if (pool.getLayout() != Layout::NCHW)
      return failure();
  } else if (auto pool = dyn_cast<AvgPool2DOp>(op)) {
    if (pool.getLayout() != Layout::NCHW)
      return failure();
  } else if (auto concat = dyn_cast<ConcatOp>(op)) {
    if (concat.getDim() != 1)
      return failure();
  } else if (!isa<ClampOp, TableOp, RequantizeOp, AddOp, MulOp>(op)) {
    return failure();
  }
  SmallVector<Value> operands;
  for (Value operand : op->getOperands())
    if (!isPerTensor4D(operand.getType()) || !nhwc.count(operand))
      return failure();
  OpBuilder b(op);
  Location loc = op->getLoc();
  for (Value operand : op->getOperands()) {
    auto cast = quant::StorageCastOp::create(
        b, loc, nhwcType(operand.getType()), nhwc.lookup(operand));
    roundTrips.push_back(cast);
    operands.push_back(cast);
  }
  Operation *moved = b.clone(*op);
  moved->setOperands(operands);
  moved->getResult(0).setType(nhwcType(op->getResult(0).getType()));
  MLIRContext *ctx = op->getContext();
  if (isa<MaxPool2DOp, AvgPool2DOp>(op))
    moved->setAttr("layout", LayoutAttr::get(ctx, Layout::NHWC));
  if (isa<ConcatOp>(op))
    moved->setAttr("dim", IntegerAttr::get(IntegerType::get(ctx, 64), 3));
  finishNhwc(b, op, toStorage(b, loc, moved->getResult(0)));
  return success();
}

Value Lowering::outline(
    OpBuilder &b, Operation *op, ValueRange args, RankedTensorType resultType,
    llvm::function_ref<Value(OpBuilder &, ValueRange)> body) {
  MLIRContext *ctx = op->getContext();
  Location loc = op->getLoc();
  auto parent = op->getParentOfType<func::FuncOp>();
  SmallVector<Value> callArgs(args);
  // alloc_tensor, not tensor.empty: identical empties are CSE'd into one
  // value, and bufferizing one value written by every kernel in place is
  // quadratic in the depth of the model.
  callArgs.push_back(
      bufferization::AllocTensorOp::create(b, loc, resultType, ValueRange{}));
  ValueRange operands(callArgs);
  auto kernel = func::FuncOp::create(
      loc, (parent.getSymName() + "_kernel").str(),
      FunctionType::get(ctx, operands.getTypes(), resultType));
  kernel.setPrivate();
  Block *entry = kernel.addEntryBlock();
  OpBuilder kb = OpBuilder::atBlockBegin(entry);
  func::ReturnOp::create(kb, loc, body(kb, entry->getArguments()));
  SmallVector<StringRef> features(target.features.begin(),
                                  target.features.end());
  kernel->setAttr(LLVM::TargetFeaturesAttr::getAttributeName(),
                  LLVM::TargetFeaturesAttr::get(ctx, features));
  // `passthrough` survives the conversion to llvm.func (`no_inline` does
  // not).
  kernel->setAttr("passthrough",
                  ArrayAttr::get(ctx, StringAttr::get(ctx, "noinline")));
  symbols->insert(kernel, Block::iterator(parent));
  return func::CallOp::create(b, loc, kernel, operands).getResult(0);
}

std::optional<Lowering::AddFusion> Lowering::findAddFusion(OpBuilder &b,
                                                           Conv2DOp op) {
  Value result = op.getResult();
  if (!result.hasOneUse())
    return std::nullopt;
  auto add = dyn_cast<AddOp>(*result.getUsers().begin());
  if (!add || add.getLhs() == add.getRhs() || !add.getLhsRescaleAttr() ||
      !add.getRhsRescaleAttr() || !add.getRescaleAttr())
    return std::nullopt;
  bool resultIsLhs = add.getLhs() == result;
  Value other = resultIsLhs ? add.getRhs() : add.getLhs();
  auto is8Bit = [](Type type) {
    return isPerTensor4D(type) && getQuantParams(type)->storageWidth == 8;
  };
  if (!is8Bit(other.getType()) || !is8Bit(add.getType()))
    return std::nullopt;
  // The kernel call replaces `op`, so the addend must be there before it.
  auto availableBefore = [&](Value v) {
    if (auto arg = dyn_cast<BlockArgument>(v))
      return arg.getOwner() == op->getBlock();
    Operation *def = v.getDefiningOp();
    return def->getBlock() == op->getBlock() && def->isBeforeInBlock(op);
  };
  Value addend;
  if (op.getLayout() == Layout::NCHW) {
    addend = nhwc.lookup(other);
    if (!addend || !availableBefore(addend))
      return std::nullopt;
  } else if (!availableBefore(other)) {
    return std::nullopt;
  }
  // The rescales are precomputed: this cannot report anything.
  FailureOr<AddRescales> rescales = getAddRescales(add, defaultRounding);
  if (failed(rescales))
    return std::nullopt;
  if (!addend)
    addend = toStorage(b, op.getLoc(), other);
  return AddFusion{add, addend, {std::move(*rescales), resultIsLhs}};
}

SmallVector<Value> Lowering::convArgs(OpBuilder &b, Conv2DOp op, Problem &p,
                                      bool &sourceNchw,
                                      std::optional<AddFusion> &fusion) {
  Value source = nhwc.lookup(op.getInput());
  sourceNchw = op.getLayout() == Layout::NCHW && !source;
  if (!source)
    source = toStorage(b, op.getLoc(), op.getInput());
  SmallVector<Value> args = {source};
  fusion = findAddFusion(b, op);
  if (fusion) {
    p.add = fusion->fused;
    args.push_back(fusion->addend);
  }
  return args;
}

MaxPool2DOp Lowering::findPoolFusion(Conv2DOp op) {
  Value result = op.getResult();
  if (!result.hasOneUse())
    return {};
  auto pool = dyn_cast<MaxPool2DOp>(*result.getUsers().begin());
  if (!pool || pool.getLayout() != op.getLayout())
    return {};
  ArrayRef<int64_t> kernel = pool.getKernel();
  int64_t k = kernel[0];
  bool nchw = op.getLayout() == Layout::NCHW;
  ArrayRef<int64_t> shape = op.getType().getShape();
  int64_t h = nchw ? shape[2] : shape[1], w = nchw ? shape[3] : shape[2];
  // The smallest tile, one window of one vector of channels, must fit in
  // the registers.
  if (k < 2 || kernel[1] != k || pool.getStrides() != kernel ||
      llvm::any_of(pool.getPadding(), [](int64_t v) { return v != 0; }) ||
      llvm::any_of(pool.getDilations(), [](int64_t v) { return v != 1; }) ||
      h % k || w % k || !fitsRegisters(target, k * k, 1))
    return {};
  return pool;
}

void Lowering::finishKernel(OpBuilder &b, Conv2DOp op, Operation *fused,
                            Value result) {
  Operation *replaced = fused ? fused : op.getOperation();
  if (fused)
    erased.insert(fused);
  if (op.getLayout() == Layout::NCHW)
    finishNhwc(b, replaced, result);
  else
    finish(b, replaced, result);
  if (fused)
    op->erase();
}

void Lowering::finish(OpBuilder &b, Operation *op, Value storageResult) const {
  Value result = quant::StorageCastOp::create(
      b, op->getLoc(), op->getResult(0).getType(), storageResult);
  op->getResult(0).replaceAllUsesWith(result);
  op->erase();
}

LogicalResult Lowering::lowerDepthwise(Conv2DOp op) {
  bool nchw = op.getLayout() == Layout::NCHW;
  ArrayRef<int64_t> is = op.getInput().getType().getShape();
  ArrayRef<int64_t> fs = op.getFilter().getType().getShape();
  ArrayRef<int64_t> os = op.getType().getShape();
  int64_t channels = nchw ? is[1] : is[3];
  if (static_cast<int64_t>(op.getGroups()) != channels ||
      (nchw ? os[1] : os[3]) != channels || (nchw ? fs[1] : fs[2]) != 1 ||
      !isStatic(op) ||
      !supportedTypes(op.getInput().getType(), op.getFilter().getType(),
                      op.getType()))
    return failure();
  std::optional<SmallVector<int8_t>> filter = getInt8Constant(op.getFilter());
  if (!filter)
    return failure();
  Problem p;
  p.batch = os[0];
  p.outH = nchw ? os[2] : os[1];
  p.outW = nchw ? os[3] : os[2];
  setChannels(p, channels, target.lanes);
  p.kh = nchw ? fs[2] : fs[0];
  p.kw = nchw ? fs[3] : fs[1];
  p.sh = op.getStrides()[0];
  p.sw = op.getStrides()[1];
  p.dh = op.getDilations()[0];
  p.dw = op.getDilations()[1];
  p.cp = p.np;
  QuantParams in = *getQuantParams(op.getInput().getType());
  p.signedInput = in.isSigned;
  std::optional<SmallVector<int64_t>> bias = getBias(op.getBias(), channels);
  if (!bias)
    return failure();
  int64_t taps = p.kh * p.kw;
  p.tapPairs.assign(llvm::divideCeil(taps, 2) * p.np * 2, 0);
  p.init.assign(p.np, 0);
  for (int64_t c = 0; c < channels; ++c) {
    int64_t sum = 0, absSum = 0;
    for (int64_t t = 0; t < taps; ++t) {
      // NCHW: C x 1 x KH x KW; NHWC: KH x KW x 1 x C.
      int64_t w = nchw ? (*filter)[c * taps + t] : (*filter)[t * channels + c];
      p.tapPairs[(t / 2 * p.np + c) * 2 + t % 2] = static_cast<int16_t>(w);
      sum += w;
      absSum += std::abs(w);
    }
    if (255 * absSum + std::abs((*bias)[c]) >
        std::numeric_limits<int32_t>::max())
      return failure();
    int64_t init = (*bias)[c] - in.zeroPoints[0] * sum;
    p.init[c] = static_cast<int32_t>(static_cast<uint32_t>(init));
  }
  FailureOr<Epilogue> epilogue = buildEpilogue(
      op, op.getRescaleAttr(), op.getClampAttr(), op.getInput().getType(),
      op.getFilter().getType(), op.getType(), defaultRounding, p.np);
  if (failed(epilogue))
    return failure();
  p.epilogue = std::move(*epilogue);

  OpBuilder b(op);
  Location loc = op.getLoc();
  ArrayRef<int64_t> pad = op.getPadding(); // top, left, bottom, right
  int64_t extra = p.np - channels;
  bool sourceNchw;
  std::optional<AddFusion> fusion;
  SmallVector<Value> args = convArgs(b, op, p, sourceNchw, fusion);
  auto resultType = RankedTensorType::get({p.batch, p.outH, p.outW, p.channels},
                                          b.getI8Type());
  Value result =
      outline(b, op, args, resultType, [&](OpBuilder &kb, ValueRange kargs) {
        Value input = kargs[0];
        if (sourceNchw)
          input = transpose(kb, loc, input, {0, 2, 3, 1});
        // Padded cells hold the zero point (they add zero to the folded sums);
        // the extra channels meet zero weights.
        if (extra == 0)
          input = padSpatialNhwc(kb, loc, input, pad, in.zeroPoints[0],
                                 4 * target.lanes);
        else
          input = padTensor(kb, loc, input, {0, pad[0], pad[1], 0},
                            {0, pad[2], pad[3], extra}, in.zeroPoints[0]);
        KernelBuilder kernel(kb, loc, target);
        int64_t mr = std::min<int64_t>(p.outW, target.registers >= 32 ? 8 : 4);
        return kernel.buildDepthwise(p, mr, input, fusion ? kargs[1] : Value(),
                                     kargs.back());
      });
  finishKernel(b, op, fusion ? fusion->add : nullptr, result);
  return success();
}

LogicalResult Lowering::lowerConv(Conv2DOp op) {
  if (op.getGroups() != 1)
    return lowerDepthwise(op);
  if (!isStatic(op) || !supportedTypes(op.getInput().getType(),
                                       op.getFilter().getType(), op.getType()))
    return failure();
  std::optional<SmallVector<int8_t>> filter = getInt8Constant(op.getFilter());
  if (!filter)
    return failure();
  bool nchw = op.getLayout() == Layout::NCHW;
  ArrayRef<int64_t> is = op.getInput().getType().getShape();
  ArrayRef<int64_t> fs = op.getFilter().getType().getShape();
  ArrayRef<int64_t> os = op.getType().getShape();
  int64_t channelsIn = nchw ? is[1] : is[3];
  Problem p;
  p.batch = os[0];
  p.outH = nchw ? os[2] : os[1];
  p.outW = nchw ? os[3] : os[2];
  setChannels(p, nchw ? os[1] : os[3], target.lanes);
  p.kh = nchw ? fs[2] : fs[0];
  p.kw = nchw ? fs[3] : fs[1];
  p.sh = op.getStrides()[0];
  p.sw = op.getStrides()[1];
  p.dh = op.getDilations()[0];
  p.dw = op.getDilations()[1];
  p.cp = llvm::alignTo(channelsIn, 4);
  QuantParams in = *getQuantParams(op.getInput().getType());
  p.signedInput = in.isSigned;
  std::optional<SmallVector<int64_t>> bias = getBias(op.getBias(), p.channels);
  if (!bias)
    return failure();
  const SmallVector<int8_t> &wv = *filter;
  int64_t kw = p.kw, kh = p.kh, f = p.channels;
  auto weight = [&](int64_t t, int64_t c, int64_t o) -> int8_t {
    int64_t i = t / kw, j = t % kw;
    if (nchw) // F x C x KH x KW
      return wv[((o * channelsIn + c) * kh + i) * kw + j];
    // KH x KW x C x F
    return wv[((i * kw + j) * channelsIn + c) * f + o];
  };
  if (failed(packWeights(p, channelsIn, weight, *bias, in.zeroPoints[0])))
    return failure();
  FailureOr<Epilogue> epilogue = buildEpilogue(
      op, op.getRescaleAttr(), op.getClampAttr(), op.getInput().getType(),
      op.getFilter().getType(), op.getType(), defaultRounding, p.np);
  if (failed(epilogue))
    return failure();
  p.epilogue = std::move(*epilogue);

  OpBuilder b(op);
  Location loc = op.getLoc();
  // Pad with the zero point (spatially; the extra channels meet zero
  // weights), then bring channels innermost.
  ArrayRef<int64_t> pad = op.getPadding(); // top, left, bottom, right
  int64_t extra = p.cp - channelsIn;
  // NHWC storage: an NHWC value computed for the input, or the input.
  bool sourceNchw;
  std::optional<AddFusion> fusion;
  SmallVector<Value> args = convArgs(b, op, p, sourceNchw, fusion);
  MaxPool2DOp pool = fusion ? MaxPool2DOp() : findPoolFusion(op);
  if (pool)
    p.pool = pool.getKernel()[0];
  // With a fused pool, tiles cover whole windows: the shifted-back last
  // tile then starts on a window too (the width is a multiple of the
  // window).
  Tiling tiling = chooseTiling(target, p, p.outW);
  auto resultType = RankedTensorType::get(
      {p.batch, p.outH / p.pool, p.outW / p.pool, p.channels}, b.getI8Type());
  Value result =
      outline(b, op, args, resultType, [&](OpBuilder &kb, ValueRange kargs) {
        Value input = kargs[0];
        // Where the input is copied anyway, the copy flips signed storage
        // to u8 instead of the K loop.
        int64_t flip = p.signedInput ? 0x80 : 0;
        bool padded = llvm::any_of(pad, [](int64_t v) { return v != 0; });
        if (sourceNchw && interleavesChannels(p.cp)) {
          input = nchwToPaddedNhwc(kb, loc, input, pad, p.cp, in.zeroPoints[0],
                                   flip);
          p.inputFlipped = p.signedInput;
        } else if (sourceNchw) {
          input = padTensor(kb, loc, input, {0, 0, pad[0], pad[1]},
                            {0, extra, pad[2], pad[3]}, in.zeroPoints[0]);
          input = transpose(kb, loc, input, {0, 2, 3, 1});
        } else if (extra == 0) {
          input = padSpatialNhwc(kb, loc, input, pad, in.zeroPoints[0],
                                 4 * target.lanes, flip);
          p.inputFlipped = p.signedInput && padded;
        } else if (interleavesChannels(p.cp)) {
          input = nhwcToPaddedChannels(kb, loc, input, pad, p.cp,
                                       in.zeroPoints[0], flip);
          p.inputFlipped = p.signedInput;
        } else {
          input = padTensor(kb, loc, input, {0, pad[0], pad[1], 0},
                            {0, pad[2], pad[3], extra}, in.zeroPoints[0]);
        }
        KernelBuilder kernel(kb, loc, target);
        return kernel.build(p, tiling, input, fusion ? kargs[1] : Value(),
                            kargs.back());
      });
  Operation *fused = pool;
  if (fusion)
    fused = fusion->add;
  finishKernel(b, op, fused, result);
  return success();
}

LogicalResult Lowering::lowerMatmul(MatmulOp op) {
  if (op.getType().getRank() != 2 || !isStatic(op) ||
      !supportedTypes(op.getLhs().getType(), op.getRhs().getType(),
                      op.getType()))
    return failure();
  std::optional<SmallVector<int8_t>> rhs = getInt8Constant(op.getRhs());
  if (!rhs)
    return failure();
  int64_t m = op.getType().getDimSize(0), n = op.getType().getDimSize(1);
  int64_t k = op.getLhs().getType().getDimSize(1);
  // A matmul is a 1 x 1 convolution over a 1 x M image.
  Problem p;
  p.batch = 1;
  p.outH = 1;
  p.outW = m;
  setChannels(p, n, target.lanes);
  p.kh = p.kw = p.sh = p.sw = p.dh = p.dw = 1;
  p.cp = llvm::alignTo(k, 4);
  QuantParams lhs = *getQuantParams(op.getLhs().getType());
  p.signedInput = lhs.isSigned;
  std::optional<SmallVector<int64_t>> bias = getBias(op.getBias(), n);
  if (!bias)
    return failure();
  const SmallVector<int8_t> &wv = *rhs;
  bool transposed = op.getTransposeRhs();
  auto weight = [&](int64_t, int64_t c, int64_t o) -> int8_t {
    return transposed ? wv[o * k + c] : wv[c * n + o];
  };
  if (failed(packWeights(p, k, weight, *bias, lhs.zeroPoints[0])))
    return failure();
  FailureOr<Epilogue> epilogue = buildEpilogue(
      op, op.getRescaleAttr(), op.getClampAttr(), op.getLhs().getType(),
      op.getRhs().getType(), op.getType(), defaultRounding, p.np);
  if (failed(epilogue))
    return failure();
  p.epilogue = std::move(*epilogue);

  OpBuilder b(op);
  Location loc = op.getLoc();
  Value result = outline(
      b, op, toStorage(b, loc, op.getLhs()),
      RankedTensorType::get({m, n}, b.getI8Type()),
      [&](OpBuilder &kb, ValueRange args) {
        Value input = padTensor(kb, loc, args[0], {0, 0}, {0, p.cp - k}, 0);
        auto inType = cast<RankedTensorType>(input.getType());
        SmallVector<ReassociationIndices> rows = {{0, 1, 2}, {3}};
        input = tensor::ExpandShapeOp::create(
            kb, loc, inType.clone({1, 1, m, p.cp}), input, rows);
        Value output = tensor::ExpandShapeOp::create(
            kb, loc, RankedTensorType::get({1, 1, m, n}, kb.getI8Type()),
            args.back(), rows);
        KernelBuilder kernel(kb, loc, target);
        Tiling tiling = chooseTiling(target, p, m);
        Value out = kernel.build(p, tiling, input, Value(), output);
        return tensor::CollapseShapeOp::create(kb, loc, out, rows).getResult();
      });
  finish(b, op, result);
  return success();
}

struct ConvertMyQuantToVnniPass
    : myquant::impl::ConvertMyQuantToVnniBase<ConvertMyQuantToVnniPass> {
  using Base::Base;

  void runOnOperation() override {
    FailureOr<std::optional<KernelTarget>> parsed = parseTarget(target);
    if (failed(parsed)) {
      getOperation()->emitError()
          << "unknown target '" << target
          << "' (expected generic, avx512-vnni, avx512-vnni-256, avx-vnni "
             "or host)";
      return signalPassFailure();
    }
    if (!*parsed)
      return;
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    Lowering lowering{**parsed, defaultRounding, DenseMap<Value, Value>(),
                      {},       &symbols,        {}};
    // Kernels become functions of their own, inserted as we go.
    SmallVector<func::FuncOp> funcs(module.getOps<func::FuncOp>());
    for (func::FuncOp func : funcs) {
      SmallVector<Operation *> candidates;
      func.walk([&](Operation *op) {
        if (isa<MyQuantDialect>(op->getDialect()))
          candidates.push_back(op);
      });
      for (Operation *op : candidates) {
        if (lowering.erased.contains(op))
          continue;
        if (auto conv = dyn_cast<Conv2DOp>(op))
          (void)lowering.lowerConv(conv);
        else if (auto matmul = dyn_cast<MatmulOp>(op))
          (void)lowering.lowerMatmul(matmul);
        else
          (void)lowering.moveToNhwc(op);
      }
      lowering.eraseUnusedRoundTrips();
      lowering.erased.clear();
    }
  }
};

//===----------------------------------------------------------------------===//
// The dot product pattern to vpdpbusd
//===----------------------------------------------------------------------===//

/// multi_reduction <add> [1] of shape_cast(muli(extui(a), extsi(w))) from
/// vector<4L x i8> operands, L = 16 or 8, is `vpdpbusd acc, a, w`; of
/// shape_cast(muli(extsi(a), extsi(w))) from vector<2L x i16> operands it
/// is `vpdpwssd acc, a, w`.
struct LowerVnniDot : OpRewritePattern<vector::MultiDimReductionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(vector::MultiDimReductionOp op,
                                PatternRewriter &rewriter) const override {
    auto sourceType = op.getSourceVectorType();
    if (op.getKind() != vector::CombiningKind::ADD ||
        sourceType.getRank() != 2 ||
        !sourceType.getElementType().isInteger(32) ||
        op.getReductionDims() != ArrayRef<int64_t>{1})
      return failure();
    int64_t lanes = sourceType.getDimSize(0), group = sourceType.getDimSize(1);
    if (group != 4 && group != 2)
      return failure();
    // Bytes times bytes, or words times words.
    unsigned width = group == 4 ? 8 : 16;
    auto features = LLVM::TargetFeaturesAttr::featuresAt(op);
    if (!features)
      return failure();
    StringRef name = group == 4 ? "vpdpbusd" : "vpdpwssd";
    std::string intrinsic;
    if (lanes == 16 && features.contains("+avx512vnni"))
      intrinsic = ("llvm.x86.avx512." + name + ".512").str();
    else if (lanes == 8 && (features.contains("+avxvnni") ||
                            (features.contains("+avx512vnni") &&
                             features.contains("+avx512vl"))))
      intrinsic = ("llvm.x86.avx512." + name + ".256").str();
    else
      return failure();
    auto shapeCast = op.getSource().getDefiningOp<vector::ShapeCastOp>();
    if (!shapeCast)
      return failure();
    auto mul = shapeCast.getSource().getDefiningOp<arith::MulIOp>();
    if (!mul)
      return failure();
    // An operand of `bits`-bit elements, `group * lanes` of them.
    auto narrow = [&](Value v, unsigned bits) {
      auto type = dyn_cast<VectorType>(v.getType());
      return type && type.getRank() == 1 &&
             type.getDimSize(0) == group * lanes &&
             type.getElementType().isInteger(bits);
    };
    // vpdpbusd: a zero-extended from u8, w sign-extended from s8.
    // vpdpwssd: both sign-extended from s16; folding may have merged an
    // s8 or u8 -> s16 widening of `a` into its extension to i32, so that is
    // accepted and redone to s16 here.
    auto matchA = [&](Value v) -> Operation * {
      Operation *ext = v.getDefiningOp();
      if (!ext || !isa<arith::ExtUIOp, arith::ExtSIOp>(ext))
        return nullptr;
      Value in = ext->getOperand(0);
      bool isUnsigned = isa<arith::ExtUIOp>(ext);
      if (group == 4)
        return isUnsigned && narrow(in, 8) ? ext : nullptr;
      return narrow(in, 8) || (!isUnsigned && narrow(in, 16)) ? ext : nullptr;
    };
    Operation *extA = nullptr;
    arith::ExtSIOp extW;
    for (auto [x, y] : {std::pair(mul.getLhs(), mul.getRhs()),
                        std::pair(mul.getRhs(), mul.getLhs())}) {
      auto sext = y.getDefiningOp<arith::ExtSIOp>();
      if (sext && narrow(sext.getIn(), width) && (extA = matchA(x))) {
        extW = sext;
        break;
      }
    }
    if (!extA)
      return failure();
    Value a = extA->getOperand(0), w = extW.getIn();
    if (!narrow(a, width)) {
      auto words = VectorType::get({group * lanes}, rewriter.getI16Type());
      a = isa<arith::ExtUIOp>(extA)
              ? arith::ExtUIOp::create(rewriter, op.getLoc(), words, a)
                    .getResult()
              : arith::ExtSIOp::create(rewriter, op.getLoc(), words, a)
                    .getResult();
    }
    rewriter.replaceOpWithNewOp<LLVM::CallIntrinsicOp>(
        op, op.getType(), rewriter.getStringAttr(intrinsic),
        ValueRange{op.getAcc(), a, w});
    return success();
  }
};

struct MyQuantLowerVnniDotPass
    : myquant::impl::MyQuantLowerVnniDotBase<MyQuantLowerVnniDotPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<LowerVnniDot>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
