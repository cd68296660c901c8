//===- InputPreparation.cpp - the inputs of the VNNI kernels --------------===//

#include "InputPreparation.h"
#include "KernelBuilder.h"

#include "myquant/Dialect/MyQuant/IR/MyQuantTypeUtils.h"
#include "myquant/Dialect/MyQuant/Utils/ParallelBatch.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;

namespace myquant::vnni {

/// The bytes a padding copy must write per thread to be shared: an empty
/// OpenMP region costs 0.7-2 us (KernelTarget::threadMinMacs), about the
/// time one thread takes to copy 32 KiB from cache to cache.
static constexpr int64_t kThreadMinCopyBytes = 32 * 1024;

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

RankedTensorType nhwcType(Type nchw) {
  auto type = cast<RankedTensorType>(nchw);
  ArrayRef<int64_t> s = type.getShape();
  return type.clone({s[0], s[2], s[3], s[1]});
}

namespace {

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
/// as much as writing the rows). A copy of at least kThreadMinCopyBytes
/// per thread is shared between `threads` threads as a kernel is
/// (KernelBuilder::OuterLoops): by images where the threads divide the
/// batch, else by ranges of the interior rows, the first range writing the
/// top padding rows too and the last the bottom ones. Every row is written
/// by one thread (its padding chunks and masked tails stay in the row).
Value buildPaddedNhwc(
    OpBuilder &b, Location loc, ArrayRef<int64_t> shape, ArrayRef<int64_t> pad,
    int64_t value, int64_t bytes, int64_t threads,
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
  bool shared = threads > 1 && n * hp * wp * c >= kThreadMinCopyBytes * threads;
  int64_t ranges = shared && n % threads != 0 ? threads : 1;
  auto batchLoop =
      scf::ForOp::create(b, loc, zero, index(n * ranges), one, ValueRange{dst});
  if (shared)
    markParallelBatch(batchLoop);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(batchLoop.getBody());
  Value batch = batchLoop.getInductionVar(), range;
  // This iteration's interior rows (all of them with one range).
  Value rowsBegin = zero, rowsEnd = index(h);
  if (ranges > 1) {
    range = arith::RemUIOp::create(b, loc, batch, index(ranges));
    batch = arith::DivUIOp::create(b, loc, batch, index(ranges));
    auto start = [&](Value range) -> Value {
      return arith::DivUIOp::create(
          b, loc, arith::MulIOp::create(b, loc, range, index(h)),
          index(ranges));
    };
    rowsBegin = start(range);
    rowsEnd = start(arith::AddIOp::create(b, loc, range, one));
  }
  // `end`, or `first` (no rows) for another range than `owner`.
  auto ownedEnd = [&](int64_t owner, int64_t first, int64_t end) -> Value {
    if (ranges == 1)
      return index(end);
    return arith::SelectOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, range,
                              index(owner)),
        index(end), index(first));
  };
  auto write = [&](Value vector, Value tensor, Value y, Value x) {
    return vector::TransferWriteOp::create(b, loc, vector, tensor,
                                           ValueRange{batch, y, x},
                                           ArrayRef<bool>{false})
        .getResult();
  };
  // Whole padding rows, top and bottom.
  Value padded = batchLoop.getRegionIterArgs()[0];
  for (auto [first, count, owner] :
       {std::tuple(int64_t(0), pad[0], int64_t(0)),
        std::tuple(pad[0] + h, pad[2], ranges - 1)}) {
    if (count == 0)
      continue;
    Value end = ownedEnd(owner, first, first + count);
    auto rowLoop =
        scf::ForOp::create(b, loc, index(first), end, one, ValueRange{padded});
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
      scf::ForOp::create(b, loc, rowsBegin, rowsEnd, one, ValueRange{padded});
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
                     int64_t threads, int64_t flip = 0) {
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
      b, loc, s, pad, value ^ flip, bytes, threads,
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

/// Whether nchwToPaddedNhwc and nhwcToPaddedChannels handle `paddedChannels`
/// channels.
bool interleavesChannels(int64_t paddedChannels) {
  return paddedChannels == 4 || paddedChannels == 8 || paddedChannels == 16;
}

/// buildPaddedNhwc with `paddedChannels` channels whose rows are written
/// `pixels` pixels at a time: `pixelBytes` gives the `pixels` * paddedChannels
/// bytes from pixel `x0` of input row `yIn` (reading `value` past the row's
/// end: what lands past the last pixel is in the right padding, or masked off
/// at the end of the padded row). Every byte written is xor'ed with `flip`.
Value buildPaddedNhwcByPixels(
    OpBuilder &b, Location loc, ArrayRef<int64_t> shape, ArrayRef<int64_t> pad,
    int64_t value, int64_t flip, int64_t pixels, int64_t threads,
    llvm::function_ref<Value(OpBuilder &, Value, Value, Value)> pixelBytes) {
  int64_t w = shape[2], paddedChannels = shape[3];
  return buildPaddedNhwc(
      b, loc, shape, pad, value ^ flip, 64, threads,
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
            b, loc, arith::MulIOp::create(b, loc, x0, index(paddedChannels)),
            index(pad[1] * paddedChannels));
        Value written = vector::TransferWriteOp::create(
                            b, loc, flipBytes(b, loc, bytes, flip),
                            pixelLoop.getRegionIterArgs()[0],
                            ValueRange{batch, yOut, x}, ArrayRef<bool>{false})
                            .getResult();
        scf::YieldOp::create(b, loc, written);
        return pixelLoop.getResult(0);
      });
}

/// NHWC int8 storage with C < paddedChannels channels padded to
/// `paddedChannels` channels and spatially, all with `value`: 16 /
/// paddedChannels pixels at a time, 16 bytes from their first are read and
/// spread out to paddedChannels bytes a pixel by a shuffle with a splat of
/// `value` within 128 bits (vpshufb; wider shuffles need VBMI, which the
/// kernels' targets do not assume). (tensor.pad becomes a byte-by-byte loop
/// nest.) Every byte written is xor'ed with `flip`.
Value nhwcToPaddedChannels(OpBuilder &b, Location loc, Value input,
                           ArrayRef<int64_t> pad, int64_t paddedChannels,
                           int64_t value, int64_t flip, int64_t threads) {
  auto type = cast<RankedTensorType>(input.getType());
  ArrayRef<int64_t> s = type.getShape(); // N, H, W, C
  int64_t channels = s[3], pixels = 16 / paddedChannels;
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
    for (int64_t c = 0; c < paddedChannels; ++c)
      spread.push_back(c < channels ? i * channels + c : 16);
  return buildPaddedNhwcByPixels(
      b, loc, {s[0], s[1], s[2], paddedChannels}, pad, value, flip, pixels,
      threads, [&](OpBuilder &b, Value batch, Value yIn, Value x0) -> Value {
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

/// NCHW int8 storage with C <= paddedChannels channels as NHWC with
/// `paddedChannels` channels (the extra ones hold `value`), padded spatially
/// with `value`: 64 / paddedChannels pixels at a time, the C row segments are
/// read as vectors and interleaved (vector.interleave, log2(paddedChannels)
/// rounds). (A tensor.pad and a transpose become byte-by-byte loop nests, a
/// tenth of a 3-channel first layer.) Every byte written is xor'ed with `flip`.
Value nchwToPaddedNhwc(OpBuilder &b, Location loc, Value input,
                       ArrayRef<int64_t> pad, int64_t paddedChannels,
                       int64_t value, int64_t flip, int64_t threads) {
  auto type = cast<RankedTensorType>(input.getType());
  ArrayRef<int64_t> s = type.getShape(); // N, C, H, W
  int64_t channels = s[1], pixels = 64 / paddedChannels;
  Type i8 = type.getElementType();
  Value fillValue =
      arith::ConstantIntOp::create(b, loc, i8, static_cast<int8_t>(value));
  auto segmentType = VectorType::get({pixels}, i8);
  return buildPaddedNhwcByPixels(
      b, loc, {s[0], s[2], s[3], paddedChannels}, pad, value, flip, pixels,
      threads, [&](OpBuilder &b, Value batch, Value yIn, Value x0) -> Value {
        SmallVector<Value> lanes;
        for (int64_t c = 0; c < paddedChannels; ++c)
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
        // Interleaving channels c and c + paddedChannels/2, then the results
        // the same way, orders the bytes pixel by pixel, channel by channel.
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

} // namespace

Value prepareGemmInput(OpBuilder &b, Location loc, Value input, Problem &p,
                       ArrayRef<int64_t> pad, bool sourceNchw,
                       int64_t zeroPoint, const KernelTarget &target) {
  ArrayRef<int64_t> shape = cast<RankedTensorType>(input.getType()).getShape();
  int64_t threads = target.threads;
  // Pad with the zero point (spatially; the extra channels meet zero
  // weights), then bring channels innermost.
  int64_t extra = p.inputChannels - (sourceNchw ? shape[1] : shape[3]);
  // Where the input is copied anyway, the copy flips signed storage to u8
  // instead of the K loop.
  int64_t flip = p.signedInput ? 0x80 : 0;
  bool padded = llvm::any_of(pad, [](int64_t v) { return v != 0; });
  // The vector copies move bytes: a 16-bit input is padded (and
  // transposed) as tensors.
  bool bytes = !p.wideInput;
  if (bytes && sourceNchw && interleavesChannels(p.inputChannels)) {
    p.inputFlipped = p.signedInput;
    return nchwToPaddedNhwc(b, loc, input, pad, p.inputChannels, zeroPoint,
                            flip, threads);
  }
  if (sourceNchw) {
    input = padTensor(b, loc, input, {0, 0, pad[0], pad[1]},
                      {0, extra, pad[2], pad[3]}, zeroPoint);
    return transpose(b, loc, input, {0, 2, 3, 1});
  }
  if (bytes && extra == 0) {
    p.inputFlipped = p.signedInput && padded;
    return padSpatialNhwc(b, loc, input, pad, zeroPoint, 4 * target.lanes,
                          threads, flip);
  }
  if (bytes && interleavesChannels(p.inputChannels)) {
    p.inputFlipped = p.signedInput;
    return nhwcToPaddedChannels(b, loc, input, pad, p.inputChannels, zeroPoint,
                                flip, threads);
  }
  return padTensor(b, loc, input, {0, pad[0], pad[1], 0},
                   {0, pad[2], pad[3], extra}, zeroPoint);
}

namespace {
/// A filter row of a patch is read as 8 pixels of 4 channels.
constexpr int64_t kRowRead = 32, kPatchChannels = 4;
} // namespace

Value preparePatchSource(OpBuilder &b, Location loc, Value input, Problem &p,
                         ArrayRef<int64_t> pad, bool sourceNchw,
                         int64_t zeroPoint, const KernelTarget &target) {
  ArrayRef<int64_t> shape = cast<RankedTensorType>(input.getType()).getShape();
  // Extra columns on the right where the last pixel's read of 8 pixels
  // would pass the padded row.
  int64_t paddedW = (sourceNchw ? shape[3] : shape[2]) + pad[1] + pad[3];
  int64_t reach = (p.outW - 1) * p.patches->strideW + kRowRead / kPatchChannels;
  SmallVector<int64_t> widened(pad);
  widened[3] += std::max<int64_t>(0, reach - paddedW);
  Problem four = p;
  four.inputChannels = kPatchChannels;
  Value padded = prepareGemmInput(b, loc, input, four, widened, sourceNchw,
                                  zeroPoint, target);
  p.inputFlipped = four.inputFlipped;
  return tensor::CollapseShapeOp::create(
      b, loc, padded, SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
}

Value buildPatchRows(OpBuilder &b, Location loc, Value source, const Problem &p,
                     Value batch, Value firstRow, int64_t rows) {
  const Problem::Patches &q = *p.patches;
  // Byte i of a packed filter row is channel i % C of its pixel i / C; the
  // bytes past kernelW * C are overwritten by the next row or meet zero
  // weights.
  int64_t rowBytes = q.kernelW * q.channels, k = p.inputChannels;
  SmallVector<int64_t> pack;
  for (int64_t i = 0; i < kRowRead; ++i)
    pack.push_back(
        i < rowBytes ? i / q.channels * kPatchChannels + i % q.channels : 0);
  Type i8 = b.getI8Type();
  auto rowType = VectorType::get({kRowRead}, i8);
  auto index = [&](int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v).getResult();
  };
  Value zero = arith::ConstantIntOp::create(b, loc, i8, 0);
  Value patches = tensor::EmptyOp::create(
      b, loc, ArrayRef<int64_t>{1, rows, p.outW, k}, i8);
  OpBuilder::InsertionGuard guard(b);
  auto pixelLoop = scf::ForOp::create(b, loc, index(0), index(p.outW), index(1),
                                      ValueRange{patches});
  b.setInsertionPointToStart(pixelLoop.getBody());
  Value ox = pixelLoop.getInductionVar();
  Value x =
      arith::MulIOp::create(b, loc, ox, index(q.strideW * kPatchChannels));
  Value out = pixelLoop.getRegionIterArgs()[0];
  for (int64_t r = 0; r < rows; ++r) {
    Value y0 = arith::MulIOp::create(
        b, loc, arith::AddIOp::create(b, loc, firstRow, index(r)),
        index(q.strideH));
    for (int64_t ky = 0; ky < q.kernelH; ++ky) {
      Value y = arith::AddIOp::create(b, loc, y0, index(ky * q.dilationH));
      Value row = vector::TransferReadOp::create(b, loc, rowType, source,
                                                 ValueRange{batch, y, x}, zero,
                                                 ArrayRef<bool>{true});
      Value packed = vector::ShuffleOp::create(b, loc, row, row, pack);
      // The last rows' writes are masked at the patch's end.
      bool inBounds = ky * rowBytes + kRowRead <= k;
      out = vector::TransferWriteOp::create(
                b, loc, packed, out,
                ValueRange{index(0), index(r), ox, index(ky * rowBytes)},
                ArrayRef<bool>{inBounds})
                .getResult();
    }
  }
  scf::YieldOp::create(b, loc, out);
  return pixelLoop.getResult(0);
}

Value prepareDepthwiseInput(OpBuilder &b, Location loc, Value input,
                            const Problem &p, ArrayRef<int64_t> pad,
                            bool sourceNchw, int64_t zeroPoint,
                            const KernelTarget &target) {
  if (sourceNchw)
    input = transpose(b, loc, input, {0, 2, 3, 1});
  // Padded cells hold the zero point (they add zero to the folded sums);
  // the extra channels meet zero weights.
  int64_t extra = p.paddedChannels - p.channels;
  // The vector copy moves bytes: a 16-bit input is padded as a tensor.
  if (extra == 0 && !p.wideInput)
    return padSpatialNhwc(b, loc, input, pad, zeroPoint, 4 * target.lanes,
                          target.threads);
  return padTensor(b, loc, input, {0, pad[0], pad[1], 0},
                   {0, pad[2], pad[3], extra}, zeroPoint);
}

} // namespace myquant::vnni
