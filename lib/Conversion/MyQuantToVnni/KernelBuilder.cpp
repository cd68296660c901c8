//===- KernelBuilder.cpp - emits the VNNI kernels -------------------------===//

#include "KernelBuilder.h"
#include "InputPreparation.h"

#include "myquant/Conversion/Passes.h"
#include "myquant/Dialect/MyQuant/Utils/ParallelBatch.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <algorithm>
#include <limits>

using namespace mlir;

namespace myquant::vnni {

scf::ForOp nestLoop(OpBuilder &b, Location loc, scf::ForOp parent, Value lower,
                    Value upper, int64_t step) {
  auto loop = scf::ForOp::create(b, loc, lower, upper,
                                 arith::ConstantIndexOp::create(b, loc, step),
                                 parent.getRegionIterArgs());
  scf::YieldOp::create(b, loc, loop.getResults());
  b.setInsertionPointToStart(loop.getBody());
  return loop;
}

scf::ForOp nestLoop(OpBuilder &b, Location loc, scf::ForOp parent,
                    int64_t upper, int64_t step) {
  auto index = [&](int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v).getResult();
  };
  return nestLoop(b, loc, parent, index(0), index(upper), step);
}

/// The loop over the batch, carrying `output`; `parallel`: marked for
/// myquant-parallelize-batches.
static scf::ForOp createBatchLoop(OpBuilder &b, Location loc, int64_t batch,
                                  Value output, bool parallel) {
  auto index = [&](int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v).getResult();
  };
  auto loop = scf::ForOp::create(b, loc, index(0), index(batch), index(1),
                                 ValueRange{output});
  if (parallel)
    markParallelBatch(loop);
  return loop;
}

/// The 64-byte lines of `output` that two threads write when ranges of a
/// level along dimension `dim`, `outputs` indices per iteration, start at
/// iterations `firsts`: at each index of the dimensions outside `dim`
/// (with the batch, the leading `batch` of the first dimension), a range
/// boundary or an outer stride that does not fall on a whole line. A level
/// that interleaves with others, such as the channels of NHWC pixels or
/// of a matmul's rows, shares one line per pixel; one that does not (rows)
/// at most one in all, which is not counted.
static int64_t sharedLines(Type output, int64_t batch, int64_t dim,
                           int64_t outputs, ArrayRef<int64_t> firsts) {
  constexpr int64_t kLineBytes = 64;
  auto type = dyn_cast<ShapedType>(output);
  if (!type || !type.hasStaticShape() || dim >= type.getRank() ||
      !type.getElementType().isIntOrFloat())
    return 0;
  ArrayRef<int64_t> shape = type.getShape();
  int64_t outer = 1;
  for (int64_t d = 0; d < dim; ++d)
    outer *= shape[d];
  if (outer <= batch)
    return 0;
  int64_t elementBytes =
      llvm::divideCeil(type.getElementType().getIntOrFloatBitWidth(), 8);
  // Bytes from one index of `dim` to the next, and of the dimension
  // outside it.
  int64_t stride = elementBytes;
  for (int64_t d = dim + 1; d < type.getRank(); ++d)
    stride *= shape[d];
  bool outerAligned = stride * shape[dim] % kLineBytes == 0;
  int64_t unaligned = llvm::count_if(firsts, [&](int64_t first) {
    return !outerAligned || first * outputs * stride % kLineBytes != 0;
  });
  return unaligned * outer;
}

KernelBuilder::OuterLoops::OuterLoops(KernelBuilder &kb, int64_t batch,
                                      Value output, ArrayRef<OuterLevel> levels,
                                      int64_t macs)
    : kb(kb), levels(levels) {
  int64_t threads = kb.threads;
  // An OpenMP region costs more than sharing a small kernel saves.
  bool shared = threads == 1 || macs >= kb.threadMinMacs * threads;
  // The time of the thread with the most work when `n` equal iterations
  // are dealt out statically, in int8 GEMM MACs, with `lines` written by
  // two threads: such a line moves between the cores each time the other
  // writes it, 2 x 100-200 ns (the cross-core latency of such CPUs, not
  // measured here), i.e. at 200 G MACs/s some 50,000 MACs.
  constexpr int64_t kSharedLineMacs = 50000;
  auto cost = [&](int64_t n, int64_t lines) {
    return static_cast<double>(macs) *
               static_cast<double>(llvm::divideCeil(n, threads)) /
               static_cast<double>(n) +
           static_cast<double>(lines * kSharedLineMacs);
  };
  if (threads > 1 && shared && batch % threads != 0) {
    double best = cost(batch, 0);
    for (auto [l, level] : llvm::enumerate(levels)) {
      int64_t iterations = llvm::divideCeil(level.upper, level.step);
      // Range w is [w * iterations / threads, (w + 1) * ...).
      SmallVector<int64_t> firsts;
      for (int64_t w = 1; w < threads; ++w)
        firsts.push_back(w * iterations / threads);
      if (level.lastOverlaps && llvm::is_contained(firsts, iterations - 1))
        continue;
      double c =
          cost(iterations, sharedLines(output.getType(), batch, level.dim,
                                       level.outputs, firsts));
      if (c < best) {
        best = c;
        split = l;
      }
    }
  }
  int64_t ranges = split ? threads : 1;
  // One iteration on several threads would open a region for nothing.
  loop = createBatchLoop(kb.b, kb.loc, batch * ranges, output,
                         threads == 1 || (shared && batch * ranges > 1));
  kb.b.setInsertionPointToStart(loop.getBody());
  if (split) {
    this->batch = arith::DivUIOp::create(kb.b, kb.loc, loop.getInductionVar(),
                                         kb.index(ranges));
    range = arith::RemUIOp::create(kb.b, kb.loc, loop.getInductionVar(),
                                   kb.index(ranges));
  } else {
    this->batch = loop.getInductionVar();
  }
}

scf::ForOp KernelBuilder::OuterLoops::nest(scf::ForOp parent, unsigned level) {
  const OuterLevel &l = levels[level];
  if (split != level)
    return nestLoop(kb.b, kb.loc, parent, l.upper, l.step);
  // Range `range` of the iterations, as OuterLoops dealt them.
  int64_t iterations = llvm::divideCeil(l.upper, l.step);
  auto bound = [&](Value w) -> Value {
    Value first = arith::DivUIOp::create(
        kb.b, kb.loc,
        arith::MulIOp::create(kb.b, kb.loc, w, kb.index(iterations)),
        kb.index(kb.threads));
    return arith::MulIOp::create(kb.b, kb.loc, first, kb.index(l.step));
  };
  Value next = arith::AddIOp::create(kb.b, kb.loc, range, kb.index(1));
  return nestLoop(kb.b, kb.loc, parent, bound(range), bound(next), l.step);
}

Value extractSlice(OpBuilder &b, Location loc, RankedTensorType type,
                   Value whole, ArrayRef<int64_t> offsets) {
  return tensor::ExtractSliceOp::create(
      b, loc, type, whole, getAsIndexOpFoldResult(b.getContext(), offsets),
      getAsIndexOpFoldResult(b.getContext(), type.getShape()),
      SmallVector<OpFoldResult>(type.getRank(), b.getIndexAttr(1)));
}

Value insertSlice(OpBuilder &b, Location loc, Value slice, Value whole,
                  ArrayRef<int64_t> offsets) {
  auto type = cast<RankedTensorType>(slice.getType());
  return tensor::InsertSliceOp::create(
      b, loc, slice, whole, getAsIndexOpFoldResult(b.getContext(), offsets),
      getAsIndexOpFoldResult(b.getContext(), type.getShape()),
      SmallVector<OpFoldResult>(type.getRank(), b.getIndexAttr(1)));
}

Value outlineKernel(OpBuilder &b, Operation *op, ValueRange args,
                    RankedTensorType resultType, const KernelTarget &target,
                    SymbolTable &symbols,
                    llvm::function_ref<Value(OpBuilder &, ValueRange)> body,
                    const KernelDestination &destination) {
  MLIRContext *ctx = op->getContext();
  Location loc = op->getLoc();
  auto parent = op->getParentOfType<func::FuncOp>();
  SmallVector<Value> callArgs(args);
  // alloc_tensor, not tensor.empty: identical empties are CSE'd into one
  // value, and bufferizing one value written by every kernel in place is
  // quadratic in the depth of the model.
  callArgs.push_back(destination.into ? destination.into
                                      : bufferization::AllocTensorOp::create(
                                            b, loc, resultType, ValueRange{}));
  ValueRange operands(callArgs);
  auto kernel = func::FuncOp::create(
      loc, (parent.getSymName() + "_kernel").str(),
      FunctionType::get(ctx, operands.getTypes(), callArgs.back().getType()));
  kernel.setPrivate();
  Block *entry = kernel.addEntryBlock();
  OpBuilder kb = OpBuilder::atBlockBegin(entry);
  SmallVector<Value> kernelArgs(entry->getArguments());
  Value written;
  if (!destination.into || destination.into.getType() == resultType) {
    written = body(kb, kernelArgs);
  } else {
    // One-shot bufferization makes the slice a view of the caller's buffer
    // and the insert of the slice it was extracted from a no-op: the
    // kernel's stores land in the whole tensor, with no copy.
    Value whole = kernelArgs.back();
    kernelArgs.back() =
        extractSlice(kb, loc, resultType, whole, destination.offsets);
    written =
        insertSlice(kb, loc, body(kb, kernelArgs), whole, destination.offsets);
  }
  func::ReturnOp::create(kb, loc, written);
  SmallVector<StringRef> features(target.features.begin(),
                                  target.features.end());
  kernel->setAttr(LLVM::TargetFeaturesAttr::getAttributeName(),
                  LLVM::TargetFeaturesAttr::get(ctx, features));
  // `passthrough` survives the conversion to llvm.func (`no_inline` does
  // not).
  kernel->setAttr("passthrough",
                  ArrayAttr::get(ctx, StringAttr::get(ctx, "noinline")));
  symbols.insert(kernel, Block::iterator(parent));
  return func::CallOp::create(b, loc, kernel, operands).getResult(0);
}

Value KernelBuilder::index(int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

template <typename T>
Value KernelBuilder::tensorConstant(ArrayRef<int64_t> shape, Type elementType,
                                    ArrayRef<T> values) {
  auto type = RankedTensorType::get(shape, elementType);
  return arith::ConstantOp::create(b, loc,
                                   DenseIntElementsAttr::get(type, values));
}

VectorType KernelBuilder::laneVector(Value tensor) {
  return VectorType::get({lanes}, getElementTypeOrSelf(tensor.getType()));
}

Value KernelBuilder::splat(VectorType type, int64_t value) {
  Attribute element = b.getIntegerAttr(type.getElementType(), value);
  return arith::ConstantOp::create(
      b, loc, cast<TypedAttr>(DenseElementsAttr::get(type, element)));
}

Value KernelBuilder::read(Value tensor, ValueRange indices, VectorType type,
                          bool inBounds) {
  Type element = type.getElementType();
  Value pad = arith::ConstantOp::create(b, loc, b.getZeroAttr(element));
  return vector::TransferReadOp::create(b, loc, type, tensor, indices, pad,
                                        ArrayRef<bool>{inBounds});
}

Value KernelBuilder::groupedDot(Value acc, Value a, Value w, int64_t group,
                                bool unsignedA) {
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

//===----------------------------------------------------------------------===//
// Epilogue
//===----------------------------------------------------------------------===//

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

void KernelBuilder::setDynamicScale(Value scale, Value zeroPoint) {
  if (isa<RankedTensorType>(scale.getType())) {
    rowScales = scale;
    rowZeroPoints = zeroPoint;
    return;
  }
  broadcastDynamicScale(scale, zeroPoint);
}

void KernelBuilder::broadcastDynamicScale(Value scale, Value zeroPoint) {
  dynamicScale = vector::BroadcastOp::create(
      b, loc, VectorType::get({lanes}, b.getI64Type()), scale);
  if (zeroPoint)
    dynamicZeroPoint = vector::BroadcastOp::create(
        b, loc, VectorType::get({lanes}, b.getI32Type()),
        arith::TruncIOp::create(b, loc, b.getI32Type(), zeroPoint));
}

Value KernelBuilder::requantize(const Problem &p, Value acc,
                                ArrayRef<Value> c) {
  const Epilogue &e = p.epilogue;
  const Requant &r = e.requant;
  IntegerArith arith(b, loc, {lanes});
  Type storage = e.storage.type;
  if (p.dynamic) {
    assert(dynamicScale && "setDynamicScale before building the kernel");
    // The runtime correction of an asymmetric input, in int32: |z * sum_k
    // w[c][k]| <= 2^30 and the corrected sum (q - z) . w fits (8.3).
    if (!p.dynamic->weightSums.empty())
      acc = arith.sub(acc, arith.mul(dynamicZeroPoint, c[3]));
    // acc * A' + B[c] in int64 (NumericSpec 8.3): |acc * A'| < 2^62.
    Value v = arith.add(
        arith.mul(arith.cast(acc, b.getI64Type()), dynamicScale), c[2]);
    return arith.requantizeInt64(v, c[0], c[1], r, storage);
  }
  if (p.wideInput)
    return arith.requantizeInt64(acc, c[0], c[1], r, storage);
  if (!e.highHalf)
    return arith.requantize(arith.cast(acc, b.getI64Type()), c[0], c[1], r,
                            storage);
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
  // A matmul's rows are the pixels of its 1 x 1 x M x N output.
  if (rowScales)
    broadcastDynamicScale(
        tensor::ExtractOp::create(b, loc, rowScales, indices[2]),
        rowZeroPoints
            ? tensor::ExtractOp::create(b, loc, rowZeroPoints, indices[2])
            : Value());
  Value result;
  if (p.add) {
    const AddRescales &r = p.add->rescales;
    bool lhs = p.add->resultIsLhs;
    IntegerArith arith(b, loc, {lanes});
    // Without an addend tensor the output holds the addend (the add is
    // written in place of it): this reads the element before the store
    // below overwrites it, and no other tile stores it (tilesWriteOnce).
    // The pipelined kernel interleaves a tile's epilogue with the next
    // tile's K steps, which read only the input and the weights.
    Value other = read(addend ? addend : out, indices,
                       VectorType::get({lanes}, b.getI8Type()), inBounds);
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
  if (tableTensor)
    result = lookUp(p, result);
  if (p.channels == 1) // See Problem::channelEnd.
    return tensor::InsertOp::create(
        b, loc, vector::ExtractOp::create(b, loc, result, int64_t(0)), out,
        indices);
  return vector::TransferWriteOp::create(b, loc, result, out, indices,
                                         ArrayRef<bool>{inBounds})
      .getResult();
}

void KernelBuilder::buildTable(const Problem &p) {
  if (!p.table.empty())
    tableTensor = tensorConstant<int8_t>({static_cast<int64_t>(p.table.size())},
                                         b.getI8Type(), p.table);
}

Value KernelBuilder::lookUp(const Problem &p, Value x) {
  const Storage &storage = p.epilogue.storage;
  auto indexType = VectorType::get({lanes}, b.getI32Type());
  Value wide = storage.isSigned
                   ? arith::ExtSIOp::create(b, loc, indexType, x).getResult()
                   : arith::ExtUIOp::create(b, loc, indexType, x).getResult();
  Value offsets =
      arith::SubIOp::create(b, loc, wide, splat(indexType, storage.min));
  auto vectorType = cast<VectorType>(x.getType());
  Value all = splat(VectorType::get({lanes}, b.getI1Type()), 1);
  return vector::GatherOp::create(b, loc, vectorType, tableTensor,
                                  ValueRange{index(0)}, offsets, all,
                                  splat(vectorType, 0));
}

SmallVector<Value> KernelBuilder::epilogueConstants(const Problem &p) {
  const Requant &r = p.epilogue.requant;
  Type i32 = b.getI32Type();
  SmallVector<Value> tensors = {
      tensorConstant<int32_t>({p.paddedChannels}, i32, r.multiplier)};
  if (!p.epilogue.highHalf) {
    tensors.push_back(
        tensorConstant<int32_t>({p.paddedChannels}, i32, r.shift));
    if (p.dynamic) {
      tensors.push_back(tensorConstant<int64_t>(
          {p.paddedChannels}, b.getI64Type(), p.dynamic->bias));
      if (!p.dynamic->weightSums.empty())
        tensors.push_back(tensorConstant<int32_t>({p.paddedChannels}, i32,
                                                  p.dynamic->weightSums));
    }
    return tensors;
  }
  // highHalfRescale's operands: s - 32 and the rounding term.
  int64_t zp = foldsZeroPoint(p) ? r.zeroPoint : 0;
  SmallVector<int32_t> shift, half;
  for (int32_t s : r.shift) {
    shift.push_back(s - 32);
    half.push_back(static_cast<int32_t>(IntegerArith::highHalfRounding(s, zp)));
  }
  tensors.push_back(tensorConstant<int32_t>({p.paddedChannels}, i32, shift));
  tensors.push_back(tensorConstant<int32_t>({p.paddedChannels}, i32, half));
  return tensors;
}

//===----------------------------------------------------------------------===//
// Depthwise kernel
//===----------------------------------------------------------------------===//

/// The 4-bit weights of a depthwise problem as the kernel reads them,
/// [blocks][taps][lanes / 2] bytes: for each block of `lanes` channels the
/// kernel computes (the last one shifted back to end at channelEnd) and
/// each tap, channel 2j of the block in the low nibble of byte j and
/// 2j + 1 in the high one: half a byte per weight (NumericSpec 7.1).
static SmallVector<int8_t> packDepthwiseNibbles(const Problem &p,
                                                int64_t lanes) {
  int64_t taps = p.kernelH * p.kernelW;
  SmallVector<int8_t> bytes;
  for (int64_t block = 0; block < p.paddedChannels; block += lanes) {
    int64_t first = std::min(block, p.channelEnd - lanes);
    for (int64_t t = 0; t < taps; ++t) {
      int64_t y = t / p.kernelW, x = t % p.kernelW;
      auto weight = [&](int64_t c) {
        return p.tapPairs[((y / 2 * p.kernelW + x) * p.paddedChannels + c) * 2 +
                          y % 2];
      };
      for (int64_t c = first; c < first + lanes; c += 2)
        bytes.push_back(
            static_cast<int8_t>((weight(c) & 0xF) | (weight(c + 1) << 4)));
    }
  }
  return bytes;
}

Value KernelBuilder::buildDepthwise(const Problem &p, int64_t pixels,
                                    Value input, Value addend, Value output) {
  Type i8 = b.getI8Type(), i16 = b.getI16Type(), i32 = b.getI32Type();
  int64_t pairs = llvm::divideCeil(p.kernelH, 2) * p.kernelW;
  Value weights =
      p.nibbles ? tensorConstant<int8_t>({p.paddedChannels / lanes,
                                          p.kernelH * p.kernelW, lanes / 2},
                                         i8, packDepthwiseNibbles(p, lanes))
                : tensorConstant<int16_t>({pairs, 2 * p.paddedChannels}, i16,
                                          p.tapPairs);
  Value init = tensorConstant<int32_t>({p.paddedChannels}, i32, p.init);
  SmallVector<Value> epilogueTensors = epilogueConstants(p);
  buildTable(p);

  // for n, for oy, for each channel block, for each pixel tile.
  TilePosition at;
  OpBuilder::InsertionGuard guard(b);
  // The last channel block overlaps the one before if it is shifted back.
  OuterLoops outer(*this, p.batch, output,
                   {{p.outH, 1, /*dim=*/1, 1},
                    {p.paddedChannels, lanes, /*dim=*/3, lanes,
                     p.paddedChannels > p.channelEnd}},
                   kernelMacs(p, /*depthwise=*/true));
  at.batch = outer.batch;
  auto rowLoop = outer.nest(outer.loop, 0);
  at.row = rowLoop.getInductionVar();
  auto blockLoop = outer.nest(rowLoop, 1);
  // The last block is shifted back to end at channelEnd.
  Value channel = arith::MinSIOp::create(b, loc, blockLoop.getInductionVar(),
                                         index(p.channelEnd - lanes));
  at.channels.push_back(channel);
  SmallVector<Value> w =
      tapPairWeights(p, blockLoop.getInductionVar(), channel, weights);
  auto pixelLoop = nestLoop(b, loc, blockLoop, p.outW, pixels);
  // The last pixel tile of a row is shifted back to end at OW.
  at.firstPixel = arith::MinSIOp::create(b, loc, pixelLoop.getInductionVar(),
                                         index(p.outW - pixels));
  SmallVector<Value> accs = accumulateTapPairs(p, pixels, at, input, w, init);
  SmallVector<Value> constants;
  for (Value tensor : epilogueTensors)
    constants.push_back(read(tensor, channel, laneVector(tensor)));
  Value out = pixelLoop.getRegionIterArgs()[0];
  for (int64_t m = 0; m < pixels; ++m) {
    Value ox = arith::AddIOp::create(b, loc, at.firstPixel, index(m));
    out = storeResult(p, accs[m], constants, addend, out,
                      ValueRange{at.batch, at.row, ox, channel});
  }
  scf::YieldOp::create(b, loc, out);
  return outer.loop.getResult(0);
}

/// Lane i of the first operand, then lane i of the second, for each i <
/// `size`.
static SmallVector<int64_t> interleaveMask(int64_t size) {
  SmallVector<int64_t> mask;
  for (int64_t i = 0; i < size; ++i)
    mask.append({i, size + i});
  return mask;
}

SmallVector<Value> KernelBuilder::tapPairWeights(const Problem &p,
                                                 Value blockStart,
                                                 Value channel, Value weights) {
  Type i16 = b.getI16Type();
  int64_t rowPairs = llvm::divideCeil(p.kernelH, 2);
  SmallVector<Value> w;
  if (!p.nibbles) {
    auto pairType = VectorType::get({2 * lanes}, i16);
    Value weightChannel = arith::MulIOp::create(b, loc, channel, index(2));
    for (int64_t q = 0; q < rowPairs * p.kernelW; ++q)
      w.push_back(read(weights, {index(q), weightChannel}, pairType));
    return w;
  }
  // 4-bit weights, unpacked once per channel block rather than per pixel
  // tile: the sign-extended byte shifted left by 12 and back right is the
  // low nibble, shifted right by 4 the high one; interleaved, they are the
  // `lanes` weights of one tap in channel order.
  Value block = arith::DivUIOp::create(b, loc, blockStart, index(lanes));
  auto halfWords = VectorType::get({lanes / 2}, i16);
  auto channelType = VectorType::get({lanes}, i16);
  auto tap = [&](int64_t ky, int64_t kx) -> Value {
    if (ky >= p.kernelH) // The zero partner of an odd last row.
      return splat(channelType, 0);
    Value bytes = read(weights, {block, index(ky * p.kernelW + kx), index(0)},
                       VectorType::get({lanes / 2}, b.getI8Type()));
    Value v = arith::ExtSIOp::create(b, loc, halfWords, bytes);
    Value low = arith::ShRSIOp::create(
        b, loc, arith::ShLIOp::create(b, loc, v, splat(halfWords, 12)),
        splat(halfWords, 12));
    Value high = arith::ShRSIOp::create(b, loc, v, splat(halfWords, 4));
    return vector::ShuffleOp::create(b, loc, low, high,
                                     interleaveMask(lanes / 2));
  };
  for (int64_t r = 0; r < rowPairs; ++r)
    for (int64_t kx = 0; kx < p.kernelW; ++kx)
      w.push_back(vector::ShuffleOp::create(
          b, loc, tap(2 * r, kx), tap(2 * r + 1, kx), interleaveMask(lanes)));
  return w;
}

SmallVector<Value>
KernelBuilder::accumulateTapPairs(const Problem &p, int64_t pixels,
                                  const TilePosition &at, Value input,
                                  ArrayRef<Value> w, Value init) {
  Type i16 = b.getI16Type(), i32 = b.getI32Type();
  int64_t rowPairs = llvm::divideCeil(p.kernelH, 2);
  auto inputType = laneVector(input);
  auto pairType = VectorType::get({2 * lanes}, i16);
  auto wordType = VectorType::get({lanes}, i32);
  SmallVector<int64_t> interleave = interleaveMask(lanes);
  Value channel = at.channels[0];
  Value y0 = arith::MulIOp::create(b, loc, at.row, index(p.strideH));
  Value x0 = arith::MulIOp::create(b, loc, at.firstPixel, index(p.strideW));
  // A 16-bit input's pair products are summed from zero in int32 (one
  // block of at most kMaxPairSteps pairs, NumericSpec 6.3) and the bias
  // added in int64 after the taps.
  SmallVector<Value> accs(pixels, p.wideInput ? splat(wordType, 0)
                                              : read(init, channel, wordType));
  // 8-bit input is widened to int16 pairs; 16-bit input is already int16.
  auto widen = [&](Value v, Type type) -> Value {
    if (getElementTypeOrSelf(v.getType()) == getElementTypeOrSelf(type))
      return v;
    return p.signedInput ? arith::ExtSIOp::create(b, loc, type, v).getResult()
                         : arith::ExtUIOp::create(b, loc, type, v).getResult();
  };
  // Pairs of filter rows, not of adjacent taps: the widened pair of input
  // rows (2r, 2r + 1) at one input column is the operand of every pixel
  // whose window covers that column (kernelW pixels at stride 1), so each
  // column is read, interleaved and widened once per tile instead of once
  // per tap and pixel.
  int64_t columns = (pixels - 1) * p.strideW + (p.kernelW - 1) * p.dilationW;
  for (int64_t col = 0; col <= columns; ++col) {
    // The taps (pixel, kx) that read this column.
    SmallVector<std::pair<int64_t, int64_t>> users;
    for (int64_t kx = 0; kx < p.kernelW; ++kx) {
      int64_t offset = col - kx * p.dilationW;
      if (offset >= 0 && offset % p.strideW == 0 && offset / p.strideW < pixels)
        users.push_back({offset / p.strideW, kx});
    }
    if (users.empty())
      continue;
    Value x = arith::AddIOp::create(b, loc, x0, index(col));
    for (int64_t r = 0; r < rowPairs; ++r) {
      auto rowInput = [&](int64_t ky) -> Value {
        Value y = arith::AddIOp::create(b, loc, y0, index(ky * p.dilationH));
        return read(input, {at.batch, y, x, channel}, inputType);
      };
      Value pair;
      if (2 * r + 1 < p.kernelH) {
        pair = widen(vector::ShuffleOp::create(b, loc, rowInput(2 * r),
                                               rowInput(2 * r + 1), interleave),
                     pairType);
      } else {
        // An odd last row: widened to int32, each lane is the int16 pair
        // (x, 0 or -1), whose second half meets a zero weight.
        pair = vector::BitCastOp::create(b, loc, pairType,
                                         widen(rowInput(2 * r), wordType));
      }
      for (auto [m, kx] : users)
        accs[m] = pairDot(accs[m], pair, w[r * p.kernelW + kx]);
    }
  }
  if (!p.wideInput)
    return accs;
  auto wideType = VectorType::get({lanes}, b.getI64Type());
  Value bias =
      arith::ExtSIOp::create(b, loc, wideType, read(init, channel, wordType));
  for (Value &acc : accs)
    acc = arith::AddIOp::create(
        b, loc, arith::ExtSIOp::create(b, loc, wideType, acc), bias);
  return accs;
}

/// Vectors of at most `lanes` elements covering [from, to): (first
/// element, size) of each, the last shifted back to end at `to`.
static SmallVector<std::pair<int64_t, int64_t>> spans(int64_t from, int64_t to,
                                                      int64_t lanes) {
  SmallVector<std::pair<int64_t, int64_t>> out;
  int64_t length = to - from, size = std::min(length, lanes);
  for (int64_t at = 0; at < length; at += size)
    out.push_back({from + std::min(at, length - size), size});
  return out;
}

Value KernelBuilder::padPlane(Value input, Value n, Value c,
                              ArrayRef<int64_t> padding, int64_t stride,
                              int64_t phaseColumns) {
  ArrayRef<int64_t> shape = cast<RankedTensorType>(input.getType()).getShape();
  int64_t height = shape[2], width = shape[3];
  int64_t top = padding[0], left = padding[1];
  int64_t rows = top + height + padding[2];
  Type f32 = b.getF32Type();
  Value plane = tensor::EmptyOp::create(
      b, loc, ArrayRef<int64_t>{rows, stride * phaseColumns}, f32);
  auto write = [&](Value v, Value plane, Value y, int64_t column) {
    return vector::TransferWriteOp::create(b, loc, v, plane,
                                           ValueRange{y, index(column)},
                                           ArrayRef<bool>{true})
        .getResult();
  };
  auto zeros = [&](Value plane, Value y, int64_t from, int64_t to) {
    for (auto [first, size] : spans(from, to, lanes)) {
      auto type = VectorType::get({size}, f32);
      plane = write(arith::ConstantOp::create(b, loc, b.getZeroAttr(type)),
                    plane, y, first);
    }
    return plane;
  };
  for (int64_t y = 0; y < rows; ++y)
    if (y < top || y >= top + height)
      plane = zeros(plane, index(y), 0, stride * phaseColumns);
  OpBuilder::InsertionGuard guard(b);
  auto rowLoop = scf::ForOp::create(b, loc, index(0), index(height), index(1),
                                    ValueRange{plane});
  b.setInsertionPointToStart(rowLoop.getBody());
  Value iy = rowLoop.getInductionVar();
  Value y = arith::AddIOp::create(b, loc, iy, index(top));
  Value out = rowLoop.getRegionIterArgs()[0];
  // Padded column x goes to phase x % stride, element x / stride.
  for (auto [first, size] : spans(0, width, stride * lanes)) {
    Value v =
        read(input, {n, c, iy, index(first)}, VectorType::get({size}, f32));
    for (int64_t q = 0; q < stride; ++q) {
      SmallVector<int64_t> picks;
      for (int64_t k = (q - (left + first) % stride + stride) % stride;
           k < size; k += stride)
        picks.push_back(k);
      if (picks.empty())
        continue;
      Value phase =
          stride == 1 ? v : vector::ShuffleOp::create(b, loc, v, v, picks);
      out = write(phase, out, y,
                  q * phaseColumns + (left + first + picks[0]) / stride);
    }
  }
  // Each phase's columns outside [left, left + width) are zero.
  for (int64_t q = 0; q < stride; ++q) {
    auto firstAtOrAfter = [&](int64_t x) {
      return x <= q ? 0 : (x - q + stride - 1) / stride;
    };
    int64_t begin = firstAtOrAfter(left), end = firstAtOrAfter(left + width);
    out = zeros(out, y, q * phaseColumns, q * phaseColumns + begin);
    out = zeros(out, y, q * phaseColumns + end, (q + 1) * phaseColumns);
  }
  scf::YieldOp::create(b, loc, out);
  return rowLoop.getResult(0);
}

Value KernelBuilder::buildFloatDepthwise(const Problem &p, int64_t rows,
                                         int64_t width,
                                         ArrayRef<int64_t> padding, Value input,
                                         Value output) {
  const Problem::Float &f = *p.floating;
  int64_t taps = p.kernelH * p.kernelW;
  Type f32 = b.getF32Type();
  auto vectorType = VectorType::get({width}, f32);
  Value weights = floatConstant({p.channels * taps}, f.packed);
  Value bias = floatConstant({p.channels}, f.bias);
  // for n, for c, for each row tile, for each pixel tile; the last tiles
  // are shifted back to end at outH and outW.
  OpBuilder::InsertionGuard guard(b);
  OuterLoops outer(*this, p.batch, output, {{p.channels, 1, /*dim=*/1, 1}},
                   kernelMacs(p, /*depthwise=*/true));
  Value n = outer.batch;
  auto channelLoop = outer.nest(outer.loop, 0);
  Value c = channelLoop.getInductionVar();
  Value b0 = vector::BroadcastOp::create(
      b, loc, vectorType, tensor::ExtractOp::create(b, loc, bias, c));
  SmallVector<Value> w;
  Value firstWeight = arith::MulIOp::create(b, loc, c, index(taps));
  for (int64_t t = 0; t < taps; ++t)
    w.push_back(vector::BroadcastOp::create(
        b, loc, vectorType,
        tensor::ExtractOp::create(
            b, loc, weights,
            ValueRange{arith::AddIOp::create(b, loc, firstWeight, index(t))})));
  // Every stride-th element of a read strideW times as long.
  auto wideType = VectorType::get({width * p.strideW}, f32);
  // A padded input is read from its plane padded by padPlane, which stays
  // in the cache for the plane's taps (a padded copy of the whole tensor,
  // as the generic lowering of the pad writes it, went to memory and back:
  // at batch 16 the pads before mobilenet_v2's depthwise layers took a
  // fifth of its time). Its columns are split by phase (x % strideW), so
  // that a tap reads `width` adjacent elements of one phase instead of
  // every stride-th element of a longer read; each phase covers the
  // longest read.
  bool padded = llvm::any_of(padding, [](int64_t v) { return v != 0; });
  int64_t phaseColumns = 0;
  Value plane;
  if (padded) {
    int64_t paddedWidth =
        padding[1] + cast<RankedTensorType>(input.getType()).getDimSize(3) +
        padding[3];
    phaseColumns =
        std::max<int64_t>(llvm::divideCeil(paddedWidth, p.strideW),
                          p.outW + (p.kernelW - 1) * p.dilationW / p.strideW);
    plane = padPlane(input, n, c, padding, p.strideW, phaseColumns);
  }
  // The input of output pixels [ox0, ox0 + width) at tap column offset
  // `dx` of input row `y`; unpadded reads may pass the row's end by up to
  // strideW - 1 elements, which the shuffle drops.
  SmallVector<int64_t> strided;
  for (int64_t i = 0; i < width; ++i)
    strided.push_back(i * p.strideW);
  auto readTap = [&](Value y, Value ox0, int64_t dx) -> Value {
    if (plane) {
      Value x = arith::AddIOp::create(
          b, loc, ox0, index(dx % p.strideW * phaseColumns + dx / p.strideW));
      return read(plane, {y, x}, vectorType);
    }
    Value x = arith::AddIOp::create(
        b, loc, arith::MulIOp::create(b, loc, ox0, index(p.strideW)),
        index(dx));
    if (p.strideW == 1)
      return read(input, {n, c, y, x}, vectorType);
    Value wide = read(input, {n, c, y, x}, wideType, /*inBounds=*/false);
    return vector::ShuffleOp::create(b, loc, wide, wide, strided);
  };
  auto rowLoop = nestLoop(b, loc, channelLoop, p.outH, rows);
  Value oy0 = arith::MinSIOp::create(b, loc, rowLoop.getInductionVar(),
                                     index(p.outH - rows));
  auto pixelLoop = nestLoop(b, loc, rowLoop, p.outW, width);
  Value ox0 = arith::MinSIOp::create(b, loc, pixelLoop.getInductionVar(),
                                     index(p.outW - width));
  Value out = pixelLoop.getRegionIterArgs()[0];
  for (int64_t r = 0; r < rows; ++r) {
    Value oy = arith::AddIOp::create(b, loc, oy0, index(r));
    Value y0 = arith::MulIOp::create(b, loc, oy, index(p.strideH));
    Value acc = b0;
    for (int64_t t = 0; t < taps; ++t) {
      Value y =
          arith::AddIOp::create(b, loc, y0, index(t / p.kernelW * p.dilationH));
      Value in = readTap(y, ox0, t % p.kernelW * p.dilationW);
      acc = vector::FMAOp::create(b, loc, in, w[t], acc);
    }
    out = vector::TransferWriteOp::create(b, loc, clampFloat(f, acc), out,
                                          ValueRange{n, c, oy, ox0},
                                          ArrayRef<bool>{true})
              .getResult();
  }
  scf::YieldOp::create(b, loc, out);
  return outer.loop.getResult(0);
}

//===----------------------------------------------------------------------===//
// GEMM kernel
//===----------------------------------------------------------------------===//

/// The first output channel of channel tile `tile`: the last tile is shifted
/// back to end at `channelEnd` (as the kernel's tile loop computes it).
static int64_t tileFirstChannel(int64_t tile, int64_t tileChannels,
                                int64_t channelEnd) {
  return std::min(tile * tileChannels, channelEnd - tileChannels);
}

/// `packed` ([rows][paddedChannels][perChannel]) rearranged tile by tile,
/// [tiles][rows][tileChannels * perChannel]: a channel tile's K loop then
/// reads its weights as one sequential stream, which the hardware
/// prefetcher follows. In a model the weights of each layer come from
/// memory on every call; read at a stride of a whole row of channels (2 KiB
/// for 512 channels), a 3x3 512-channel convolution at 7 x 7 ran at 67% of
/// the vpdpbusd peak instead of 95% with its weights in cache
/// (benchmarks/layer_profile.py).
template <typename T>
static SmallVector<T> packByTile(ArrayRef<T> packed, int64_t rows,
                                 int64_t paddedChannels, int64_t perChannel,
                                 int64_t tiles, int64_t tileChannels,
                                 int64_t channelEnd) {
  SmallVector<T> out;
  out.reserve(tiles * rows * tileChannels * perChannel);
  for (int64_t t = 0; t < tiles; ++t) {
    int64_t first = tileFirstChannel(t, tileChannels, channelEnd);
    for (int64_t r = 0; r < rows; ++r) {
      auto row = packed.slice((r * paddedChannels + first) * perChannel,
                              tileChannels * perChannel);
      out.append(row.begin(), row.end());
    }
  }
  return out;
}

/// 4-bit weights by tile ([tiles][rows][rowBytes]) two rows per byte,
/// [tiles][ceil(rows / 2)][rowBytes]: row 2s in the low nibbles, row 2s + 1
/// (zero past the last row) in the high ones.
static SmallVector<int8_t> packNibbles(ArrayRef<int8_t> packed, int64_t tiles,
                                       int64_t rows, int64_t rowBytes) {
  SmallVector<int8_t> out;
  out.reserve(tiles * llvm::divideCeil(rows, 2) * rowBytes);
  for (int64_t t = 0; t < tiles; ++t)
    for (int64_t r = 0; r < rows; r += 2)
      for (int64_t i = 0; i < rowBytes; ++i) {
        int64_t at = (t * rows + r) * rowBytes + i;
        int8_t high = r + 1 < rows ? packed[at + rowBytes] : 0;
        out.push_back(static_cast<int8_t>((packed[at] & 0xf) | high << 4));
      }
  return out;
}

/// Whether the K loop of `p`'s int8 kernel prefetches the next channel
/// tile's weights (KernelBuilder::prefetchNextTile). The first pixel tile
/// of each channel tile reads its weights from memory (the weights of a
/// model's layers leave the cache between calls), the later ones from the
/// cache: with few pixel tiles (weight-heavy layers at a small batch: a 3
/// x 3 512 -> 512 at 7 x 7 has 7, with 221 KB of weights per tile), that
/// first pass, bound by memory, took a quarter of the kernel's time.
static bool prefetchesWeights(const Problem &p, const Tiling &tiling,
                              int64_t tiles) {
  int64_t passes = passesPerTile(p, tiling);
  return !p.floating && !p.nibbles && !p.wideInput && !tiling.rowsOuter &&
         tiles > 1 && passes > 1 && passes <= kMaxPrefetchPasses;
}

Value KernelBuilder::build(const Problem &p, const Tiling &tiling, Value input,
                           Value addend, Value output) {
  Type i8 = b.getI8Type(), i32 = b.getI32Type();
  int64_t rows = p.kernelH * p.kernelW * p.inputChannels / channelsPerStep(p);
  int64_t pixels = tiling.pixels, channelBlocks = tiling.channelBlocks;
  int64_t blocks = p.paddedChannels / lanes;
  int64_t tiles = llvm::divideCeil(blocks, channelBlocks);
  int64_t tileChannels = channelBlocks * lanes;

  // Constants: packed weights, accumulator init, requantization.
  GemmOperands operands;
  SmallVector<Value> epilogueTensors;
  if (p.floating) {
    operands.weights = floatConstant(
        {tiles, rows, tileChannels},
        packByTile<float>(p.floating->packed, rows, p.paddedChannels, 1, tiles,
                          tileChannels, p.channelEnd));
    operands.init = floatConstant({p.paddedChannels}, p.floating->bias);
  } else {
    int64_t group = channelsPerStep(p);
    SmallVector<int8_t> byTile =
        packByTile<int8_t>(p.packed, rows, p.paddedChannels, group, tiles,
                           tileChannels, p.channelEnd);
    if (p.nibbles)
      operands.weights = tensorConstant<int8_t>(
          {tiles, (rows + 1) / 2, tileChannels * group}, i8,
          packNibbles(byTile, tiles, rows, tileChannels * group));
    else
      operands.weights = tensorConstant<int8_t>(
          {tiles, rows, tileChannels * group}, i8, byTile);
    if (p.groupSize) {
      int64_t groups = p.inputChannels / p.groupSize;
      operands.multipliers = tensorConstant<uint8_t>(
          {tiles, groups, tileChannels}, i8,
          packByTile<uint8_t>(p.groupMultipliers, groups, p.paddedChannels, 1,
                              tiles, tileChannels, p.channelEnd));
    }
    operands.init = tensorConstant<int32_t>({p.paddedChannels}, i32, p.init);
    epilogueTensors = epilogueConstants(p);
  }
  buildTable(p);
  operands.input = input;
  if (p.signedInput && !p.inputFlipped && !p.wideInput)
    operands.flip = splat(VectorType::get({4 * lanes}, i8), -128);
  operands.zero = index(0);
  operands.one = index(1);

  if (chain && !p.floating)
    linkPrefetchChain(operands.weights);
  bool prefetch = prefetchesWeights(p, tiling, tiles);
  if (prefetch)
    prepareWeightPrefetch(operands, passesPerTile(p, tiling),
                          /*linked=*/p.batch == 1);

  if (pipelinesTiles(p, threads, registers))
    return buildPipelined(p, tiling, operands, epilogueTensors, addend, output);

  // for n in batch, for each channel tile, for oy, for each pixel tile
  // (for oy outside the channel tiles with `tiling.rowsOuter`).
  TilePosition at;
  OpBuilder::InsertionGuard guard(b);
  // The last channel tile overlaps the one before if it is shifted back.
  // The output is NHWC, NCHW or a matmul's rows x channels.
  bool nchw = p.floating && p.floating->outputNchw;
  int64_t rank = cast<ShapedType>(output.getType()).getRank();
  OuterLevel tileLevel{tiles, 1, nchw ? 1 : rank - 1, tileChannels,
                       tiles * tileChannels > p.channelEnd};
  OuterLevel rowLevel{p.outH, p.pool, nchw ? 2 : std::max<int64_t>(rank - 3, 0),
                      1};
  SmallVector<OuterLevel, 2> levels;
  if (tiling.rowsOuter)
    levels = {rowLevel, tileLevel};
  else
    levels = {tileLevel, rowLevel};
  OuterLoops outer(*this, p.batch, output, levels,
                   kernelMacs(p, /*depthwise=*/false));
  at.batch = outer.batch;
  scf::ForOp rowLoop, tileLoop;
  // Patches (Problem::Patches) are built row by row, for every channel
  // tile: the whole patch tensor (1.9 MB for resnet's first layer) left
  // the cache between being written and read.
  Value rowPatches;
  if (tiling.rowsOuter) {
    rowLoop = outer.nest(outer.loop, 0);
    if (p.patches)
      rowPatches = buildPatchRows(b, loc, input, p, at.batch,
                                  rowLoop.getInductionVar(), p.pool);
    tileLoop = outer.nest(rowLoop, 1);
  } else {
    tileLoop = outer.nest(outer.loop, 0);
  }
  at.tile = tileLoop.getInductionVar();
  setTileChannels(p, channelBlocks, at);
  // A tile is `p.pool` rows (a fused pool's window) by `pixels` pixels by
  // `channelBlocks` vectors of channels.
  if (!tiling.rowsOuter)
    rowLoop = outer.nest(tileLoop, 1);
  at.row = rowLoop.getInductionVar();
  auto pixelLoop =
      nestLoop(b, loc, tiling.rowsOuter ? tileLoop : rowLoop, p.outW, pixels);
  // The last pixel tile of a row is shifted back to end at OW.
  at.firstPixel = arith::MinSIOp::create(b, loc, pixelLoop.getInductionVar(),
                                         index(p.outW - pixels));
  if (prefetch) {
    // This thread's rows start at the row loop's lower bound.
    Value rowPass = arith::DivUIOp::create(
        b, loc, arith::SubIOp::create(b, loc, at.row, rowLoop.getLowerBound()),
        index(p.pool));
    setPrefetchTarget(
        at,
        arith::AddIOp::create(
            b, loc,
            arith::MulIOp::create(b, loc, rowPass,
                                  index(llvm::divideCeil(p.outW, pixels))),
            arith::DivUIOp::create(b, loc, pixelLoop.getInductionVar(),
                                   index(pixels))),
        operands);
  }

  SmallVector<Value> accs;
  if (rowPatches) {
    // The tile reads its rows' patches at rows 0.. of image 0.
    GemmOperands patchOperands = operands;
    patchOperands.input = rowPatches;
    TilePosition readAt = at;
    readAt.batch = readAt.row = operands.zero;
    accs = accumulateTile(p, tiling, readAt, patchOperands);
  } else {
    accs = accumulateTile(p, tiling, at, operands);
  }

  // Epilogue: requantize the registers and store int8 (or clamp and store
  // f32).
  Value out = pixelLoop.getRegionIterArgs()[0];
  for (int64_t j = 0; j < channelBlocks; ++j) {
    if (p.floating) {
      out = storeFloatTile(p, tiling, at, j, accs, out);
      continue;
    }
    SmallVector<Value> constants;
    for (Value tensor : epilogueTensors)
      constants.push_back(read(tensor, at.channels[j], laneVector(tensor)));
    out = storeTile(p, tiling, at, j, accs, constants, addend, out);
  }
  scf::YieldOp::create(b, loc, out);
  return outer.loop.getResult(0);
}

void KernelBuilder::setTileChannels(const Problem &p, int64_t channelBlocks,
                                    TilePosition &at) {
  // tileFirstChannel: the last channel tile is shifted back to end at
  // channelEnd.
  int64_t tileChannels = channelBlocks * lanes;
  Value channel0 = arith::MinSIOp::create(
      b, loc, arith::MulIOp::create(b, loc, at.tile, index(tileChannels)),
      index(p.channelEnd - tileChannels));
  for (int64_t j = 0; j < channelBlocks; ++j)
    at.channels.push_back(
        arith::AddIOp::create(b, loc, channel0, index(j * lanes)));
}

Value KernelBuilder::buildPipelined(const Problem &p, const Tiling &tiling,
                                    const GemmOperands &operands,
                                    ArrayRef<Value> epilogueTensors,
                                    Value addend, Value output) {
  int64_t pixels = tiling.pixels, channelBlocks = tiling.channelBlocks;
  int64_t tileChannels = channelBlocks * lanes;
  int64_t tiles = llvm::divideCeil(p.paddedChannels / lanes, channelBlocks);
  int64_t steps = p.inputChannels / channelsPerStep(p);
  int64_t perRow = llvm::divideCeil(p.outW, pixels);
  // With `tiling.rowsOuter`, the loop runs over (pixel tile, channel tile),
  // channel tiles inner; otherwise over the pixel tiles of one channel tile.
  int64_t inner = tiling.rowsOuter ? tiles : 1;
  int64_t count = p.outH * perRow * inner;
  int64_t n = pixels * channelBlocks;

  // for n in batch, [for each channel tile,] for each register tile t of
  // the (oy, ox) plane [and of the channel tiles].
  OpBuilder::InsertionGuard guard(b);
  int64_t rank = cast<ShapedType>(output.getType()).getRank();
  SmallVector<OuterLevel, 1> levels;
  if (!tiling.rowsOuter)
    levels.push_back({tiles, 1, /*dim=*/rank - 1, tileChannels,
                      tiles * tileChannels > p.channelEnd});
  OuterLoops outer(*this, p.batch, output, levels,
                   kernelMacs(p, /*depthwise=*/false));
  TilePosition at;
  at.batch = outer.batch;
  scf::ForOp tileLoop = outer.loop;
  // The bias and the epilogue's constants of a tile's channel blocks.
  struct TileConstants {
    SmallVector<Value> init;
    SmallVector<SmallVector<Value>> epilogue;
  };
  auto readConstants = [&](const TilePosition &tile) {
    TileConstants c;
    c.epilogue.resize(channelBlocks);
    for (int64_t j = 0; j < channelBlocks; ++j) {
      c.init.push_back(
          read(operands.init, tile.channels[j], laneVector(operands.init)));
      for (Value tensor : epilogueTensors)
        c.epilogue[j].push_back(
            read(tensor, tile.channels[j], laneVector(tensor)));
    }
    return c;
  };
  TileConstants outerConstants;
  if (!tiling.rowsOuter) {
    tileLoop = outer.nest(outer.loop, 0);
    at.tile = tileLoop.getInductionVar();
    setTileChannels(p, channelBlocks, at);
    outerConstants = readConstants(at);
  }

  // Register tile t covers row t / inner / perRow (and channel tile
  // t % inner); the last of a row is shifted back to end at OW.
  auto place = [&](Value t) {
    TilePosition tile = at;
    // t is the pass only with the channel tiles outside: a kernel that
    // runs them inside has more passes than prefetching allows.
    if (operands.weightBuffer)
      setPrefetchTarget(tile, t, operands);
    if (tiling.rowsOuter) {
      tile.tile = arith::RemUIOp::create(b, loc, t, index(inner));
      setTileChannels(p, channelBlocks, tile);
      t = arith::DivUIOp::create(b, loc, t, index(inner));
    }
    tile.row = arith::DivUIOp::create(b, loc, t, index(perRow));
    tile.firstPixel = arith::MinSIOp::create(
        b, loc,
        arith::MulIOp::create(b, loc,
                              arith::RemUIOp::create(b, loc, t, index(perRow)),
                              index(pixels)),
        index(p.outW - pixels));
    return tile;
  };
  auto constantsOf = [&](const TilePosition &tile) {
    return tiling.rowsOuter ? readConstants(tile) : outerConstants;
  };
  // The epilogue of accumulators [lo, hi) of the tile at `prev`.
  auto store = [&](const TilePosition &prev, const TileConstants &constants,
                   ArrayRef<Value> accs, int64_t lo, int64_t hi, Value out) {
    for (int64_t a = lo; a < hi; ++a) {
      int64_t i = a / channelBlocks, j = a % channelBlocks;
      Value ox = arith::AddIOp::create(b, loc, prev.firstPixel, index(i));
      out = storeResult(p, accs[a], constants.epilogue[j], addend, out,
                        ValueRange{prev.batch, prev.row, ox, prev.channels[j]});
    }
    return out;
  };
  // The K steps of the tile at `cur`, unrolled; after step s, the
  // epilogue of the accumulators [s n / steps, (s + 1) n / steps) of the
  // tile at `prev`, if any, into `out`.
  auto accumulate = [&](const TilePosition &cur, const TilePosition *prev,
                        ArrayRef<Value> prevAccs, Value &out) {
    SmallVector<Value> accs, init = constantsOf(cur).init;
    TileConstants prevConstants;
    if (prev)
      prevConstants = constantsOf(*prev);
    for (int64_t i = 0; i < pixels; ++i)
      accs.append(init);
    SmallVector<Value> ys{
        arith::MulIOp::create(b, loc, cur.row, index(p.strideH))};
    Value x0 = arith::MulIOp::create(b, loc, cur.firstPixel, index(p.strideW));
    SmallVector<Value> xs;
    for (int64_t i = 0; i < pixels; ++i)
      xs.push_back(arith::AddIOp::create(b, loc, x0, index(i * p.strideW)));
    for (int64_t step = 0; step < steps; ++step) {
      if (operands.weightBuffer)
        prefetchNextTile(cur, operands, index(step));
      accs = dotStep(p, tiling, cur, operands, accs, index(step),
                     index(channelsPerStep(p) * step), ys, xs);
      if (prev)
        out = store(*prev, prevConstants, prevAccs, step * n / steps,
                    (step + 1) * n / steps, out);
    }
    return accs;
  };

  Value out = tileLoop.getRegionIterArgs()[0];
  SmallVector<Value> accs =
      accumulate(place(index(0)), nullptr, ArrayRef<Value>(), out);
  SmallVector<Value> carried{out};
  carried.append(accs);
  auto loop =
      scf::ForOp::create(b, loc, index(1), index(count), index(1), carried);
  {
    OpBuilder::InsertionGuard inLoop(b);
    b.setInsertionPointToStart(loop.getBody());
    Value t = loop.getInductionVar();
    TilePosition prev =
        place(arith::SubIOp::create(b, loc, t, index(1)).getResult());
    Value next = loop.getRegionIterArgs()[0];
    SmallVector<Value> prevAccs(loop.getRegionIterArgs().drop_front());
    SmallVector<Value> yielded = accumulate(place(t), &prev, prevAccs, next);
    yielded.insert(yielded.begin(), next);
    scf::YieldOp::create(b, loc, yielded);
  }
  SmallVector<Value> lastAccs(loop.getResults().drop_front());
  TilePosition last = place(index(count - 1));
  out = store(last, constantsOf(last), lastAccs, 0, n, loop.getResult(0));
  scf::YieldOp::create(b, loc, out);
  return outer.loop.getResult(0);
}

SmallVector<Value> KernelBuilder::accumulateTile(const Problem &p,
                                                 const Tiling &tiling,
                                                 const TilePosition &at,
                                                 const GemmOperands &operands) {
  int64_t window = p.pool, pixels = tiling.pixels;
  int64_t channelQuads = p.inputChannels / channelsPerStep(p);
  // Accumulators start at the folded bias (4-bit weights per channel add
  // it after the K loop: read there, it holds no registers in the loop).
  auto folded = [&] {
    SmallVector<Value> init;
    for (int64_t i = 0; i < window * pixels; ++i)
      for (int64_t j = 0; j < tiling.channelBlocks; ++j)
        init.push_back(
            read(operands.init, at.channels[j], laneVector(operands.init)));
    return init;
  };
  SmallVector<Value> accs =
      p.nibbles && !p.groupSize
          ? SmallVector<Value>(
                window * pixels * tiling.channelBlocks,
                splat(VectorType::get({lanes}, b.getI32Type()), 0))
          : folded();

  // Where tap (ky, kx) of the tile reads: the input rows and columns.
  auto tapIndices = [&](Value ky, Value kx, SmallVector<Value> &ys,
                        SmallVector<Value> &xs) {
    Value y0 = arith::AddIOp::create(
        b, loc, arith::MulIOp::create(b, loc, at.row, index(p.strideH)),
        arith::MulIOp::create(b, loc, ky, index(p.dilationH)));
    for (int64_t r = 0; r < window; ++r)
      ys.push_back(arith::AddIOp::create(b, loc, y0, index(r * p.strideH)));
    Value x0 = arith::AddIOp::create(
        b, loc, arith::MulIOp::create(b, loc, at.firstPixel, index(p.strideW)),
        arith::MulIOp::create(b, loc, kx, index(p.dilationW)));
    for (int64_t i = 0; i < pixels; ++i)
      xs.push_back(arith::AddIOp::create(b, loc, x0, index(i * p.strideW)));
  };

  if (p.groupSize) {
    SmallVector<Value> ys, xs;
    tapIndices(operands.zero, operands.zero, ys, xs);
    return accumulateGroups(p, tiling, at, operands, accs, ys, xs);
  }

  // 4-bit weights: partial sums from 0 (accs), two steps per packed row.
  if (p.nibbles && channelQuads % 2 != 0) {
    // An odd number of steps per tap (a convolution of 1 to 4 or 9 to 12
    // input channels...): the steps (tap, quad) in order, paired across
    // taps, in one loop.
    int64_t steps = p.kernelH * p.kernelW * channelQuads;
    auto loop = scf::ForOp::create(b, loc, operands.zero,
                                   index((steps + 1) / 2), operands.one, accs);
    b.setInsertionPointToStart(loop.getBody());
    Value row = loop.getInductionVar();
    SmallVector<KStep> pair(2);
    for (int64_t h = 0; h < 2; ++h) {
      // An odd last step meets zero weights; it reads where the one
      // before does.
      Value step = arith::MinSIOp::create(
          b, loc,
          arith::AddIOp::create(
              b, loc, arith::MulIOp::create(b, loc, row, index(2)), index(h)),
          index(steps - 1));
      Value tap = arith::DivUIOp::create(b, loc, step, index(channelQuads));
      Value quad = arith::RemUIOp::create(b, loc, step, index(channelQuads));
      pair[h].firstChannel = arith::MulIOp::create(b, loc, quad, index(4));
      tapIndices(arith::DivUIOp::create(b, loc, tap, index(p.kernelW)),
                 arith::RemUIOp::create(b, loc, tap, index(p.kernelW)),
                 pair[h].ys, pair[h].xs);
    }
    scf::YieldOp::create(b, loc,
                         nibbleStep(p, tiling, at, operands,
                                    loop.getRegionIterArgs(), row, pair));
    b.setInsertionPointAfter(loop);
    return addPartials(folded(), loop.getResults(), {});
  }

  if (p.wideInput) {
    scf::ForOp loop =
        accumulateWideTile(p, tiling, at, operands, accs, tapIndices);
    b.setInsertionPointAfter(loop);
    return loop.getResults();
  }

  // K loop: kernelH, kernelW, input channels / 4 (/ 8 for 4-bit weights,
  // / 1 for f32). NCHW f32 input too: a tap's channel loop reads one row
  // of `pixels` columns per plane, which stays in L1 for the other taps.
  // With the taps unrolled inside one channel loop instead, LLVM kept the
  // input columns that neighbouring taps share in registers beside the
  // accumulators and spilled both (3 x 3 at 56 x 56: 44-70% of the FMA
  // peak, resnet18 f32 28.2 against 22.8 ms, benchmarks/README.md).
  int64_t rowsPerTap = p.nibbles ? channelQuads / 2 : channelQuads;
  auto khLoop = scf::ForOp::create(b, loc, operands.zero, index(p.kernelH),
                                   operands.one, accs);
  b.setInsertionPointToStart(khLoop.getBody());
  auto kwLoop = nestLoop(b, loc, khLoop, p.kernelW, 1);
  Value ky = khLoop.getInductionVar(), kx = kwLoop.getInductionVar();
  SmallVector<Value> ys, xs;
  tapIndices(ky, kx, ys, xs);
  Value tap = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, ky, index(p.kernelW)), kx);
  Value row0 = arith::MulIOp::create(b, loc, tap, index(rowsPerTap));
  auto cLoop = nestLoop(b, loc, kwLoop, rowsPerTap, 1);
  if (!p.nibbles) {
    buildStepBody(p, tiling, at, operands, cLoop, row0, ys, xs);
    b.setInsertionPointAfter(khLoop);
    return khLoop.getResults();
  }
  Value quad = cLoop.getInductionVar();
  Value row = arith::AddIOp::create(b, loc, row0, quad);
  Value firstChannel = arith::MulIOp::create(b, loc, quad, index(8));
  KStep low{firstChannel, ys, xs},
      high{arith::AddIOp::create(b, loc, firstChannel, index(4)), ys, xs};
  scf::YieldOp::create(b, loc,
                       nibbleStep(p, tiling, at, operands,
                                  cLoop.getRegionIterArgs(), row, {low, high}));
  b.setInsertionPointAfter(khLoop);
  return addPartials(folded(), khLoop.getResults(), {});
}

SmallVector<Value> KernelBuilder::accumulateGroups(
    const Problem &p, const Tiling &tiling, const TilePosition &at,
    const GemmOperands &operands, ArrayRef<Value> accs, ArrayRef<Value> ys,
    ArrayRef<Value> xs) {
  auto accType = VectorType::get({lanes}, b.getI32Type());
  int64_t groups = p.inputChannels / p.groupSize,
          rowsPerGroup = p.groupSize / 8;
  auto groupLoop = scf::ForOp::create(b, loc, operands.zero, index(groups),
                                      operands.one, accs);
  b.setInsertionPointToStart(groupLoop.getBody());
  Value g = groupLoop.getInductionVar();
  Value row0 = arith::MulIOp::create(b, loc, g, index(rowsPerGroup));
  auto rowLoop = scf::ForOp::create(
      b, loc, operands.zero, index(rowsPerGroup), operands.one,
      SmallVector<Value>(accs.size(), splat(accType, 0)));
  b.setInsertionPointToStart(rowLoop.getBody());
  Value row = arith::AddIOp::create(b, loc, row0, rowLoop.getInductionVar());
  Value firstChannel = arith::MulIOp::create(b, loc, row, index(8));
  KStep low{firstChannel, SmallVector<Value>(ys), SmallVector<Value>(xs)},
      high{arith::AddIOp::create(b, loc, firstChannel, index(4)),
           SmallVector<Value>(ys), SmallVector<Value>(xs)};
  scf::YieldOp::create(b, loc,
                       nibbleStep(p, tiling, at, operands,
                                  rowLoop.getRegionIterArgs(), row,
                                  {low, high}));
  b.setInsertionPointAfter(rowLoop);
  // m = byte + 1, zero-extended: [1, 256].
  SmallVector<Value> multipliers;
  for (int64_t j = 0; j < tiling.channelBlocks; ++j) {
    Value bytes = read(operands.multipliers, {at.tile, g, index(j * lanes)},
                       VectorType::get({lanes}, b.getI8Type()));
    multipliers.push_back(arith::AddIOp::create(
        b, loc, arith::ExtUIOp::create(b, loc, accType, bytes),
        splat(accType, 1)));
  }
  scf::YieldOp::create(b, loc,
                       addPartials(groupLoop.getRegionIterArgs(),
                                   rowLoop.getResults(), multipliers));
  b.setInsertionPointAfter(groupLoop);
  return groupLoop.getResults();
}

SmallVector<Value> KernelBuilder::addPartials(ValueRange totals,
                                              ValueRange partials,
                                              ArrayRef<Value> multipliers) {
  auto accType = VectorType::get({lanes}, b.getI32Type());
  Value four = splat(accType, 4);
  SmallVector<Value> sums;
  for (auto [i, total, partial] : llvm::enumerate(totals, partials)) {
    // Exact: the partial sum of 16 * w is a multiple of 16 (and fits int32,
    // packWeights checks).
    Value sum = arith::ShRSIOp::create(b, loc, partial, four);
    if (!multipliers.empty())
      sum = arith::MulIOp::create(b, loc, sum,
                                  multipliers[i % multipliers.size()]);
    sums.push_back(arith::AddIOp::create(b, loc, total, sum));
  }
  return sums;
}

void KernelBuilder::buildStepBody(const Problem &p, const Tiling &tiling,
                                  const TilePosition &at,
                                  const GemmOperands &operands,
                                  scf::ForOp stepLoop, Value row0,
                                  ArrayRef<Value> ys, ArrayRef<Value> xs) {
  Value step = stepLoop.getInductionVar();
  Value row = arith::AddIOp::create(b, loc, row0, step);
  if (operands.weightBuffer)
    prefetchNextTile(at, operands, row);
  Value firstChannel =
      arith::MulIOp::create(b, loc, step, index(channelsPerStep(p)));
  scf::YieldOp::create(b, loc,
                       dotStep(p, tiling, at, operands,
                               stepLoop.getRegionIterArgs(), row, firstChannel,
                               ys, xs));
}

scf::ForOp KernelBuilder::accumulateWideTile(const Problem &p,
                                             const Tiling &tiling,
                                             const TilePosition &at,
                                             const GemmOperands &operands,
                                             ArrayRef<Value> accs,
                                             TapIndicesFn tapIndices) {
  // Blocks of at most kMaxPairSteps K steps are summed in int32 lanes from
  // zero, then widened into the int64 accumulators: whole taps per block
  // while a tap has at most kMaxPairSteps steps, else chunks of one tap's
  // channel pairs. Loops of one iteration fold away.
  int64_t taps = p.kernelH * p.kernelW;
  int64_t steps = p.inputChannels / channelsPerStep(p);
  int64_t tapsPerBlock = std::max<int64_t>(1, kMaxPairSteps / steps);
  int64_t chunk = std::min(steps, kMaxPairSteps);
  auto wideType = VectorType::get({lanes}, b.getI64Type());
  SmallVector<Value> wide;
  for (Value acc : accs)
    wide.push_back(arith::ExtSIOp::create(b, loc, wideType, acc));
  // The end of a block starting at `first`: first + count, at most `end`.
  auto blockEnd = [&](Value first, int64_t count, int64_t end) {
    return arith::MinSIOp::create(
        b, loc, arith::AddIOp::create(b, loc, first, index(count)), index(end));
  };
  auto blockLoop = scf::ForOp::create(b, loc, operands.zero, index(taps),
                                      index(tapsPerBlock), wide);
  b.setInsertionPointToStart(blockLoop.getBody());
  Value firstTap = blockLoop.getInductionVar();
  auto chunkLoop =
      scf::ForOp::create(b, loc, operands.zero, index(steps), index(chunk),
                         blockLoop.getRegionIterArgs());
  scf::YieldOp::create(b, loc, chunkLoop.getResults());
  b.setInsertionPointToStart(chunkLoop.getBody());
  Value firstStep = chunkLoop.getInductionVar();
  SmallVector<Value> zeros(accs.size(), splat(laneVector(operands.init), 0));
  auto tapLoop = scf::ForOp::create(b, loc, firstTap,
                                    blockEnd(firstTap, tapsPerBlock, taps),
                                    operands.one, zeros);
  // The block's int32 sums widened into the int64 accumulators.
  SmallVector<Value> widened;
  for (auto [acc, sum] :
       llvm::zip(chunkLoop.getRegionIterArgs(), tapLoop.getResults()))
    widened.push_back(arith::AddIOp::create(
        b, loc, acc, arith::ExtSIOp::create(b, loc, wideType, sum)));
  scf::YieldOp::create(b, loc, widened);

  b.setInsertionPointToStart(tapLoop.getBody());
  Value tap = tapLoop.getInductionVar();
  SmallVector<Value> ys, xs;
  tapIndices(arith::DivUIOp::create(b, loc, tap, index(p.kernelW)),
             arith::RemUIOp::create(b, loc, tap, index(p.kernelW)), ys, xs);
  Value row0 = arith::MulIOp::create(b, loc, tap, index(steps));
  auto cLoop =
      scf::ForOp::create(b, loc, firstStep, blockEnd(firstStep, chunk, steps),
                         operands.one, tapLoop.getRegionIterArgs());
  scf::YieldOp::create(b, loc, cLoop.getResults());
  b.setInsertionPointToStart(cLoop.getBody());
  buildStepBody(p, tiling, at, operands, cLoop, row0, ys, xs);
  return blockLoop;
}

/// `weights`, a constant [tiles][rows][bytes] tensor, as a memref of its
/// bytes, read only: bufferization makes it the constant's global.
static Value flatWeightBuffer(OpBuilder &b, Location loc, Value weights) {
  auto type = cast<RankedTensorType>(weights.getType());
  Value buffer = bufferization::ToBufferOp::create(
      b, loc, MemRefType::get(type.getShape(), type.getElementType()), weights,
      /*read_only=*/true);
  return memref::CollapseShapeOp::create(
      b, loc, buffer, SmallVector<ReassociationIndices>{{0, 1, 2}});
}

void KernelBuilder::prepareWeightPrefetch(GemmOperands &operands,
                                          int64_t passes, bool linked) {
  auto type = cast<RankedTensorType>(operands.weights.getType());
  int64_t rows = type.getDimSize(1);
  // The passes after the first advance through the next tile's
  // rows x bytes evenly, rounded down so every byte prefetched is within
  // it: the last rows * (bytes mod (passes - 1)) bytes of each tile stay
  // unprefetched.
  operands.prefetchStride = type.getDimSize(2) / (passes - 1);
  Value flat = flatWeightBuffer(b, loc, operands.weights);
  auto bytes = MemRefType::get({ShapedType::kDynamic}, b.getI8Type());
  operands.weightBuffer = memref::CastOp::create(b, loc, bytes, flat);
  if (!chain || !linked)
    return;
  auto pending = memref::CastOp::create(b, loc, bytes, flat);
  operands.nextKernelWeights = pending;
  *chain = {pending, (passes - 1) * rows * operands.prefetchStride};
}

void KernelBuilder::linkPrefetchChain(Value weights) {
  memref::CastOp pending = chain->pending;
  chain->pending = {};
  auto type = cast<RankedTensorType>(weights.getType());
  if (!pending || type.getNumElements() < chain->bytes)
    return;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(pending);
  Value copy = arith::ConstantOp::create(
      b, pending.getLoc(),
      weights.getDefiningOp<arith::ConstantOp>().getValue());
  pending.getSourceMutable().assign(
      flatWeightBuffer(b, pending.getLoc(), copy));
}

void KernelBuilder::setPrefetchTarget(TilePosition &at, Value pass,
                                      const GemmOperands &operands) {
  auto type = cast<RankedTensorType>(operands.weights.getType());
  int64_t tiles = type.getDimSize(0), rows = type.getDimSize(1);
  int64_t tileBytes = rows * type.getDimSize(2);
  int64_t passBytes = rows * operands.prefetchStride;
  Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, pass,
                                      operands.zero);
  Value last = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, at.tile,
                                     index(tiles - 1));
  Value own = arith::MulIOp::create(b, loc, at.tile, index(tileBytes));
  // The last tile reads ahead in the next kernel's weights, or in its own
  // first tile (which the next image reads first).
  Value next = arith::SelectOp::create(
      b, loc, last, operands.zero,
      arith::AddIOp::create(b, loc, own, index(tileBytes)));
  Value ahead = arith::MulIOp::create(
      b, loc, arith::SubIOp::create(b, loc, pass, operands.one),
      index(passBytes));
  at.prefetchStart = arith::SelectOp::create(
      b, loc, first, own, arith::AddIOp::create(b, loc, next, ahead));
  at.prefetchBuffer = operands.weightBuffer;
  if (operands.nextKernelWeights)
    at.prefetchBuffer = arith::SelectOp::create(
        b, loc, first, operands.weightBuffer,
        arith::SelectOp::create(b, loc, last, operands.nextKernelWeights,
                                operands.weightBuffer));
}

void KernelBuilder::prefetchNextTile(const TilePosition &at,
                                     const GemmOperands &operands, Value row) {
  constexpr int64_t lineBytes = 64;
  Value start = arith::AddIOp::create(
      b, loc, at.prefetchStart,
      arith::MulIOp::create(b, loc, row, index(operands.prefetchStride)));
  for (int64_t line = 0; line < operands.prefetchStride; line += lineBytes)
    memref::PrefetchOp::create(
        b, loc, at.prefetchBuffer,
        ValueRange{line ? arith::AddIOp::create(b, loc, start, index(line))
                        : start},
        /*isWrite=*/false, /*localityHint=*/2, /*isDataCache=*/true);
}

SmallVector<Value>
KernelBuilder::dotStep(const Problem &p, const Tiling &tiling,
                       const TilePosition &at, const GemmOperands &operands,
                       ValueRange accs, Value weightRow, Value firstChannel,
                       ArrayRef<Value> ys, ArrayRef<Value> xs) {
  if (p.floating)
    return fmaStep(p, tiling, at, operands, accs, weightRow, firstChannel, ys,
                   xs);
  return stepDots(p, tiling, at, operands, accs,
                  weightVectors(p, tiling, at, operands, weightRow),
                  firstChannel, ys, xs);
}

SmallVector<Value> KernelBuilder::weightVectors(const Problem &p,
                                                const Tiling &tiling,
                                                const TilePosition &at,
                                                const GemmOperands &operands,
                                                Value row) {
  // A step multiplies `group` input channels (4 bytes or 2 int16: one
  // word) by `group` int8 weights per output channel.
  int64_t group = channelsPerStep(p);
  auto bytesType = VectorType::get({group * lanes}, b.getI8Type());
  auto inputType = VectorType::get(
      {group * lanes}, getElementTypeOrSelf(operands.input.getType()));
  SmallVector<Value> w;
  for (int64_t j = 0; j < tiling.channelBlocks; ++j) {
    Value weights = read(operands.weights,
                         {at.tile, row, index(j * group * lanes)}, bytesType);
    // vpdpwssd multiplies int16 by int16: the weights are widened in
    // registers (vpmovsxbw), once per step for every pixel.
    if (p.wideInput)
      weights = arith::ExtSIOp::create(b, loc, inputType, weights);
    w.push_back(weights);
  }
  return w;
}

SmallVector<Value> KernelBuilder::nibbleStep(const Problem &p,
                                             const Tiling &tiling,
                                             const TilePosition &at,
                                             const GemmOperands &operands,
                                             ValueRange accs, Value weightRow,
                                             ArrayRef<KStep> steps) {
  auto bytesType = VectorType::get({4 * lanes}, b.getI8Type());
  // 16 * the weights, exact in int8: the low nibbles (the first step)
  // shifted up, the high ones (the second step) with the low ones cleared.
  SmallVector<Value> low, high;
  for (Value v : weightVectors(p, tiling, at, operands, weightRow)) {
    low.push_back(arith::ShLIOp::create(b, loc, v, splat(bytesType, 4)));
    high.push_back(arith::AndIOp::create(b, loc, v, splat(bytesType, -16)));
  }
  SmallVector<Value> next =
      stepDots(p, tiling, at, operands, accs, low, steps[0].firstChannel,
               steps[0].ys, steps[0].xs);
  return stepDots(p, tiling, at, operands, next, high, steps[1].firstChannel,
                  steps[1].ys, steps[1].xs);
}

SmallVector<Value>
KernelBuilder::stepDots(const Problem &p, const Tiling &tiling,
                        const TilePosition &at, const GemmOperands &operands,
                        ValueRange accs, ArrayRef<Value> w, Value firstChannel,
                        ArrayRef<Value> ys, ArrayRef<Value> xs) {
  Type i32 = b.getI32Type();
  int64_t pixels = tiling.pixels, channelBlocks = tiling.channelBlocks;
  // A step reads `group` input channels (4 bytes or 2 int16: one word).
  int64_t group = channelsPerStep(p);
  Type inputElement = getElementTypeOrSelf(operands.input.getType());
  auto accType = VectorType::get({lanes}, i32);
  auto inputType = VectorType::get({group * lanes}, inputElement);
  SmallVector<Value> next;
  for (int64_t r = 0; r < p.pool; ++r) {
    for (int64_t i = 0; i < pixels; ++i) {
      // The step's input channels of one pixel, broadcast to every lane.
      Value word = read(operands.input, {at.batch, ys[r], xs[i], firstChannel},
                        VectorType::get({group}, inputElement));
      word = vector::BitCastOp::create(b, loc, VectorType::get({1}, i32), word);
      Value scalar = vector::ExtractOp::create(b, loc, word, int64_t(0));
      Value a = vector::BroadcastOp::create(b, loc, accType, scalar);
      a = vector::BitCastOp::create(b, loc, inputType, a);
      if (operands.flip)
        a = arith::XOrIOp::create(b, loc, a, operands.flip);
      for (int64_t j = 0; j < channelBlocks; ++j) {
        Value acc = accs[(r * pixels + i) * channelBlocks + j];
        next.push_back(p.wideInput ? pairDot(acc, a, w[j]) : dot(acc, a, w[j]));
      }
    }
  }
  return next;
}

Value KernelBuilder::floatConstant(ArrayRef<int64_t> shape,
                                   ArrayRef<float> values) {
  auto type = RankedTensorType::get(shape, b.getF32Type());
  return arith::ConstantOp::create(b, loc,
                                   DenseFPElementsAttr::get(type, values));
}

SmallVector<Value>
KernelBuilder::fmaStep(const Problem &p, const Tiling &tiling,
                       const TilePosition &at, const GemmOperands &operands,
                       ValueRange accs, Value weightRow, Value firstChannel,
                       ArrayRef<Value> ys, ArrayRef<Value> xs) {
  int64_t pixels = tiling.pixels, channelBlocks = tiling.channelBlocks;
  auto vectorType = VectorType::get({lanes}, b.getF32Type());
  SmallVector<Value> w;
  for (int64_t j = 0; j < channelBlocks; ++j)
    w.push_back(read(operands.weights, {at.tile, weightRow, index(j * lanes)},
                     vectorType));
  SmallVector<Value> next;
  for (int64_t i = 0; i < pixels; ++i) {
    // One input channel of one pixel, broadcast to every lane: scalar
    // loads, so the input may be NCHW as well as NHWC.
    SmallVector<Value> indices =
        p.floating->inputNchw
            ? SmallVector<Value>{at.batch, firstChannel, ys[0], xs[i]}
            : SmallVector<Value>{at.batch, ys[0], xs[i], firstChannel};
    Value x = tensor::ExtractOp::create(b, loc, operands.input, indices);
    Value a = vector::BroadcastOp::create(b, loc, vectorType, x);
    for (int64_t j = 0; j < channelBlocks; ++j)
      next.push_back(
          vector::FMAOp::create(b, loc, a, w[j], accs[i * channelBlocks + j]));
  }
  return next;
}

Value KernelBuilder::clampFloat(const Problem::Float &f, Value v) {
  auto bound = [&](float value) {
    return arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(cast<ShapedType>(v.getType()),
                               b.getF32FloatAttr(value)));
  };
  if (f.lo != -std::numeric_limits<float>::infinity())
    v = arith::MaximumFOp::create(b, loc, v, bound(f.lo));
  if (f.hi != std::numeric_limits<float>::infinity())
    v = arith::MinimumFOp::create(b, loc, v, bound(f.hi));
  return v;
}

Value KernelBuilder::storeFloatTile(const Problem &p, const Tiling &tiling,
                                    const TilePosition &at, int64_t j,
                                    ValueRange accs, Value out) {
  const Problem::Float &f = *p.floating;
  int64_t pixels = tiling.pixels, channelBlocks = tiling.channelBlocks;
  SmallVector<Value> results;
  for (int64_t i = 0; i < pixels; ++i)
    results.push_back(clampFloat(f, accs[i * channelBlocks + j]));
  Value channel = at.channels[j];
  if (!f.outputNchw) {
    for (int64_t i = 0; i < pixels; ++i) {
      Value ox = arith::AddIOp::create(b, loc, at.firstPixel, index(i));
      out = vector::TransferWriteOp::create(
                b, loc, results[i], out,
                ValueRange{at.batch, at.row, ox, channel}, ArrayRef<bool>{true})
                .getResult();
    }
    return out;
  }
  // NCHW: the tile (pixels x lanes channels) is transposed in registers
  // and stored as one row of `pixels` pixels per channel.
  auto tileType = VectorType::get({pixels, lanes}, b.getF32Type());
  Value tile = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(tileType, b.getF32FloatAttr(0)));
  for (int64_t i = 0; i < pixels; ++i)
    tile = vector::InsertOp::create(b, loc, results[i], tile, i);
  Value rows = vector::TransposeOp::create(b, loc, tile, {1, 0});
  for (int64_t l = 0; l < lanes; ++l) {
    Value row = vector::ExtractOp::create(b, loc, rows, l);
    Value c = arith::AddIOp::create(b, loc, channel, index(l));
    out = vector::TransferWriteOp::create(
              b, loc, row, out, ValueRange{at.batch, c, at.row, at.firstPixel},
              ArrayRef<bool>{true})
              .getResult();
  }
  return out;
}

Value KernelBuilder::storeTile(const Problem &p, const Tiling &tiling,
                               const TilePosition &at, int64_t j,
                               ValueRange accs, ArrayRef<Value> constants,
                               Value addend, Value out) {
  int64_t window = p.pool, pixels = tiling.pixels;
  int64_t channelBlocks = tiling.channelBlocks;
  Value channel = at.channels[j];
  if (window == 1) {
    for (int64_t i = 0; i < pixels; ++i) {
      Value ox = arith::AddIOp::create(b, loc, at.firstPixel, index(i));
      out = storeResult(p, accs[i * channelBlocks + j], constants, addend, out,
                        ValueRange{at.batch, at.row, ox, channel});
    }
    return out;
  }
  // The first pixel is a multiple of the window: so are OW and `pixels`.
  Value py = arith::DivUIOp::create(b, loc, at.row, index(window));
  Value px0 = arith::DivUIOp::create(b, loc, at.firstPixel, index(window));
  for (int64_t q = 0; q < pixels / window; ++q) {
    Value pooled;
    for (int64_t r = 0; r < window; ++r)
      for (int64_t i = q * window; i < (q + 1) * window; ++i) {
        Value acc = accs[(r * pixels + i) * channelBlocks + j];
        pooled = pooled ? arith::MaxSIOp::create(b, loc, pooled, acc) : acc;
      }
    Value px = arith::AddIOp::create(b, loc, px0, index(q));
    out = storeResult(p, pooled, constants, Value(), out,
                      ValueRange{at.batch, py, px, channel});
  }
  return out;
}

} // namespace myquant::vnni
