//===- MyQuantToVnni.cpp - conv2d and matmul on the x86 int8 dot product --===//
//
// `convert-myquant-to-vnni` lowers myquant.conv2d (groups = 1, NCHW or NHWC)
// and 2-D myquant.matmul (and myquant.dynamic_matmul, whose runtime int8
// input is quantized before the kernel, NumericSpec 8) with constant int8
// (or int4) weights to a register-tiled kernel built around `vpdpbusd`
// (u8 x s8, four products summed into each int32 lane):
//
//  * activations are read as u8: signed storage is flipped to `x + 128`
//    (xor 0x80) by the kernel's own input copy where it makes one (padding,
//    few channels, NCHW of up to 16 channels), else on the broadcast
//    register; unsigned storage is used as is;
//  * the weights are packed at compile time into `[K/4][Np][4]` (K padded
//    with zero weights to a multiple of 4, the output channels padded to a
//    multiple of the vector width), the layout the instruction reads,
//    stored register tile by register tile ([N tiles][K/4][tile N][4]);
//  * 4-bit weights (NumericSpec 7.3) keep two K steps in one byte vector,
//    unpacked in registers as 16 * w (a shift or a mask) into partial sums
//    that are shifted back after the K loop, or after each group's steps
//    and times the group's multiplier for weights per group of K;
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
//    no im2col buffer, except for layers of 1 to 3 input channels (a 7 x 7
//    first layer) whose fourth channel would cost more K steps than the
//    patches of a tile's rows cost to build (Problem::Patches);
//  * depthwise convolutions (groups = channels) have a kernel of their own:
//    the inputs of two filter rows at one input column are interleaved,
//    widened to int16 once per pixel tile and multiplied by the interleaved
//    weights with the pairwise dot product `vpdpwssd` for each pixel that
//    reads the column, with the same folded constants and epilogue;
//    4-bit filters are stored two channels per byte and unpacked to the
//    int16 pairs in registers once per channel block; a 16-bit input's
//    rows are interleaved as they are, its int32 sums widened to int64
//    after the taps and requantized like the 16-bit GEMM kernel's;
//  * an add that is the only use of a kernel's result runs in its epilogue
//    (the other operand is a second kernel argument, or the kernel's
//    destination when nothing reads it after the kernel: the kernel then
//    writes the sum over it, element by element), and so does a max
//    pool whose windows tile the result, or a lookup table (myquant.table,
//    a vector gather from the 256 entries after the requantization);
//  * a 16-bit input (NumericSpec 6.3) runs the same GEMM kernel two
//    channels a step: the int16 pair broadcast, the int8 weights packed
//    [K/2][Np][2] and widened to int16 in registers, `vpdpwssd` into int32
//    lanes summed from zero for at most kMaxPairSteps steps, then widened
//    into int64 accumulators; the epilogue requantizes the int64 sum
//    exactly (IntegerArith::requantizeInt64) to an 8- or 16-bit result.
//    Kernels with a 16-bit input or result fuse no add, pool or table;
//  * NCHW models run in NHWC between kernels: pools, element-wise ops and
//    channel concatenations whose operands come from kernels (directly or
//    through such ops) move to NHWC too, and NCHW is rebuilt only for the
//    users that need it;
//  * a kernel whose result is only an operand of a concatenation writes it
//    into its slice of the concatenation's NHWC tensor: the kernels of the
//    operands fill that tensor one after the other (each call takes the
//    tensor the one before returned), and the concatenation copies only
//    the operands no kernel wrote.
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
// depthwise ones with a 16-bit input and more than kMaxPairSteps pairs of
// filter rows per column, batched or activation x activation
// matmuls, non-constant weights or
// bias, weights with a non-zero zero point, accumulators that could leave
// int32 or groups of K not a multiple of 8) are
// left for convert-myquant-to-linalg.
//
// The pass is split by reason to change: Target (the targets and the
// register tiling's cost model), KernelProblem (what a kernel computes,
// the weights packed at compile time, and why an op is not lowered),
// InputPreparation (the padded NHWC input copies), KernelBuilder (the
// kernels' loops) and, here, the driver that fuses kernels with their
// neighbours and replaces the ops. LowerVnniDot.cpp holds
// myquant-lower-vnni-dot.
//
// An op left to convert-myquant-to-linalg says why in a missed-optimization
// remark: `myquant-opt --remarks-filter-missed=convert-myquant-to-vnni
// --remark-format=emitRemark` prints them.
//
//===----------------------------------------------------------------------===//

#include "InputPreparation.h"
#include "KernelBuilder.h"

#include "myquant/Conversion/MyQuantToVnni/KernelProblem.h"
#include "myquant/Conversion/MyQuantToVnni/Target.h"
#include "myquant/Conversion/Passes.h"
#include "myquant/Dialect/MyQuant/IR/MyQuantOps.h"
#include "myquant/Dialect/MyQuant/IR/MyQuantTypeUtils.h"
#include "myquant/Dialect/MyQuant/Utils/ParallelBatch.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace myquant {
#define GEN_PASS_DEF_CONVERTMYQUANTTOVNNI
#include "myquant/Conversion/Passes.h.inc"
} // namespace myquant

using namespace mlir;
using namespace myquant;
using namespace myquant::vnni;

namespace {

bool isPerTensor4D(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  std::optional<QuantParams> params = getQuantParams(type);
  return tensor && tensor.getRank() == 4 && tensor.hasStaticShape() && params &&
         params->isPerTensor();
}

/// Whether `p` reads and writes 8-bit values: the epilogue fusions (add,
/// pool, table) are built for those only.
bool isInt8Only(const Problem &p) {
  return !p.wideInput && p.epilogue.storage.type.getWidth() == 8;
}

struct Lowering {
  const KernelTarget &target;
  RoundingMode defaultRounding;
  /// The NHWC storage tensor of NCHW values computed in NHWC: kernel
  /// outputs, and pools and element-wise ops moved to NHWC after them, so
  /// that a chain of them does not go through NCHW in between.
  DenseMap<Value, Value> nhwc;
  /// The NHWC -> NCHW round trips built for NCHW users, and the stand-ins
  /// for kernel results written into a concatenation; erased if unused.
  SmallVector<Operation *> roundTrips;
  /// The module's symbols, for naming the kernel functions.
  SymbolTable *symbols = nullptr;
  /// Ops erased while lowering an earlier op (fused adds).
  DenseSet<Operation *> erased;
  /// A concatenation kernels write their results into: its NHWC storage
  /// tensor as the last kernel returned it, and the operands written.
  struct InPlaceConcat {
    Value written;
    bool nchw;
    DenseSet<unsigned> operands;
  };
  DenseMap<Operation *, InPlaceConcat> concats;
  /// The int8 GEMM kernels of the function being lowered, for prefetching
  /// across them.
  WeightPrefetchChain prefetchChain;
  /// The results of the kernel calls built (`outline`): buffers of the
  /// function's own, which a fused add may write over (addendDiesAt).
  DenseSet<Value> kernelResults;

  /// outlineKernel with the target and symbols of this lowering.
  Value outline(OpBuilder &b, Operation *op, ValueRange args,
                RankedTensorType resultType,
                llvm::function_ref<Value(OpBuilder &, ValueRange)> body,
                const KernelDestination &destination = {});

  /// The concatenation that `result`, a kernel's result (NCHW when
  /// `nchw`), is the only use of, in its block, if the kernel can write
  /// into it; sets `operand` to the operand's index.
  ConcatOp findConcatUse(Value result, bool nchw, unsigned &operand) const;
  /// Where operand `operand` of `concat` starts in its NHWC storage.
  static SmallVector<int64_t, 4> concatOffsets(ConcatOp concat,
                                               unsigned operand, bool nchw);
  /// Replaces `concat`, which kernels wrote operands of, by its tensor
  /// written, with the other operands inserted.
  void finishConcat(ConcatOp concat);

  /// An add that consumes a kernel's result alone and runs in its
  /// epilogue; `addend` is the add's other operand as NHWC storage;
  /// `addendDies`: nothing reads it after the kernel (addendDiesAt).
  struct AddFusion {
    AddOp add;
    Value addend;
    Problem::FusedAdd fused;
    bool addendDies;
  };
  /// The add fusion for `op` (a conv2d), if its result's only user is an
  /// add with precomputed rescales, 8-bit operands and result, whose other
  /// operand is available in NHWC before `op`. Builds the storage cast of
  /// that operand at `b`.
  std::optional<AddFusion> findAddFusion(OpBuilder &b, Conv2DOp op);
  /// The kernel arguments of `op` (a conv2d): its input as NHWC storage
  /// when available, else as storage (`sourceNchw` set for NCHW), then the
  /// addend of the add fused into it, if any and `fuses` (also recorded in
  /// `p.add`).
  SmallVector<Value> convArgs(OpBuilder &b, Conv2DOp op, Problem &p,
                              bool &sourceNchw,
                              std::optional<AddFusion> &fusion, bool fuses);
  /// The max pool that consumes `op`'s result alone, when its windows tile
  /// the result exactly (window = stride, no padding or dilation) and can
  /// run in the epilogue of `op`'s kernel.
  MaxPool2DOp findPoolFusion(Conv2DOp op);
  /// The table that consumes `op`'s result alone, with 8-bit per-tensor
  /// storage, run in the epilogue of `op`'s kernel; sets `p.table` to its
  /// entries.
  TableOp findTableFusion(Operation *op, Problem &p);
  /// Replaces `op`, or the op fused into its kernel (`fused`), by the
  /// kernel's NHWC storage result.
  void finishKernel(OpBuilder &b, Conv2DOp op, Operation *fused, Value result);

  /// Lowers `op` to a kernel, or leaves it (saying why, see notLowered).
  LogicalResult lowerConv(Conv2DOp op);
  LogicalResult lowerMatmul(MatmulOp op);
  LogicalResult lowerDynamicMatmul(DynamicMatmulOp op);
  /// The kernel of a matmul problem `p` on `lhs` (M x K storage), written
  /// into `dest` (M x N), with `kernel` built at `kb`.
  Value buildMatmulKernel(OpBuilder &kb, Location loc, KernelBuilder &kernel,
                          const Problem &p, Value lhs, Value dest) const;
  /// Replaces `op` (and the add or pool fused into it) by a call of the
  /// kernel of `p`.
  void emitConv(Conv2DOp op, Problem &p);
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
  // Per-channel factors follow their dimension from NCHW to NHWC.
  if (auto requantize = dyn_cast<RequantizeOp>(moved))
    if (std::optional<uint64_t> axis = requantize.getFactorAxis()) {
      constexpr std::array<int64_t, 4> nhwcPosition = {0, 3, 1, 2};
      requantize.setFactorAxis(nhwcPosition[*axis]);
    }
  finishNhwc(b, op, toStorage(b, loc, moved->getResult(0)));
  return success();
}

Value Lowering::outline(OpBuilder &b, Operation *op, ValueRange args,
                        RankedTensorType resultType,
                        llvm::function_ref<Value(OpBuilder &, ValueRange)> body,
                        const KernelDestination &destination) {
  Value result = outlineKernel(b, op, args, resultType, target, *symbols, body,
                               destination);
  kernelResults.insert(result);
  return result;
}

ConcatOp Lowering::findConcatUse(Value result, bool nchw,
                                 unsigned &operand) const {
  if (!result.hasOneUse())
    return {};
  OpOperand &use = *result.getUses().begin();
  auto concat = dyn_cast<ConcatOp>(use.getOwner());
  // The kernel call replaces the op computing `result`: the tensor the
  // kernels before it wrote must be there.
  if (!concat || concat->getBlock() != result.getParentBlock() ||
      !isPerTensor4D(concat.getType()))
    return {};
  auto it = concats.find(concat);
  if (it != concats.end() && it->second.nchw != nchw)
    return {};
  operand = use.getOperandNumber();
  return concat;
}

SmallVector<int64_t, 4> Lowering::concatOffsets(ConcatOp concat,
                                                unsigned operand, bool nchw) {
  unsigned dim = concat.getDim();
  int64_t offset = 0;
  for (Value input : concat.getInputs().take_front(operand))
    offset += cast<RankedTensorType>(input.getType()).getDimSize(dim);
  constexpr std::array<unsigned, 4> nhwcPosition = {0, 3, 1, 2};
  SmallVector<int64_t, 4> offsets(4, 0);
  offsets[nchw ? nhwcPosition[dim] : dim] = offset;
  return offsets;
}

void Lowering::finishConcat(ConcatOp concat) {
  auto it = concats.find(concat);
  InPlaceConcat record = std::move(it->second);
  concats.erase(it);
  OpBuilder b(concat);
  Location loc = concat.getLoc();
  Value written = record.written;
  for (OpOperand &input : concat->getOpOperands()) {
    unsigned operand = input.getOperandNumber();
    if (record.operands.contains(operand))
      continue;
    Value storage = record.nchw ? nhwc.lookup(input.get()) : Value();
    if (!storage) {
      storage = toStorage(b, loc, input.get());
      if (record.nchw)
        storage = transpose(b, loc, storage, {0, 2, 3, 1});
    }
    written = insertSlice(b, loc, storage, written,
                          concatOffsets(concat, operand, record.nchw));
  }
  if (record.nchw)
    finishNhwc(b, concat, written);
  else
    finish(b, concat, written);
}

/// Whether nothing reads `addend`, the NHWC storage of `other` that the
/// kernel replacing `op` reads in its epilogue (`add` fused), after that
/// kernel, so that the kernel can write the sum over it. Its tensor must be
/// the result of a kernel call in `op`'s block (`kernelResults`): not an
/// argument, a constant, another function's result, or a slice of a larger
/// tensor (a concatenation's, written in place). Every op that reads the
/// tensor, a view of it (storage casts, reshapes), or `other` (which the
/// ops lowered after `op` read as `addend`) must run before `op`; `op`
/// itself reading it as its input disqualifies it too.
static bool addendDiesAt(Conv2DOp op, AddOp add, Value other, Value addend,
                         const DenseSet<Value> &kernelResults) {
  Value root = addend;
  while (auto cast = root.getDefiningOp<quant::StorageCastOp>())
    root = cast.getInput();
  Block *block = op->getBlock();
  if (!kernelResults.contains(root) ||
      root.getDefiningOp()->getBlock() != block)
    return false;
  SmallVector<Value> views = {root, other};
  DenseSet<Value> seen;
  while (!views.empty()) {
    Value view = views.pop_back_val();
    if (!seen.insert(view).second)
      continue;
    for (Operation *user : view.getUsers()) {
      if (user == add)
        continue;
      if (isa<quant::StorageCastOp, tensor::ExtractSliceOp,
              tensor::ExpandShapeOp, tensor::CollapseShapeOp, tensor::CastOp>(
              user)) {
        views.append(user->result_begin(), user->result_end());
        continue;
      }
      Operation *reader = block->findAncestorOpInBlock(*user);
      if (!reader || !reader->isBeforeInBlock(op))
        return false;
    }
  }
  return true;
}

std::optional<Lowering::AddFusion> Lowering::findAddFusion(OpBuilder &b,
                                                           Conv2DOp op) {
  Value result = op.getResult();
  if (!result.hasOneUse())
    return std::nullopt;
  auto add = dyn_cast<AddOp>(*result.getUsers().begin());
  // The epilogue adds an addend of the kernel's own shape.
  if (!add || add.getLhs() == add.getRhs() || !add.getLhsRescaleAttr() ||
      !add.getRhsRescaleAttr() || !add.getRescaleAttr() || add.getSubtract() ||
      add.getLhs().getType().getShape() != add.getRhs().getType().getShape())
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
  return AddFusion{add,
                   addend,
                   {std::move(*rescales), resultIsLhs},
                   addendDiesAt(op, add, other, addend, kernelResults)};
}

SmallVector<Value> Lowering::convArgs(OpBuilder &b, Conv2DOp op, Problem &p,
                                      bool &sourceNchw,
                                      std::optional<AddFusion> &fusion,
                                      bool fuses) {
  Value source = nhwc.lookup(op.getInput());
  sourceNchw = op.getLayout() == Layout::NCHW && !source;
  if (!source)
    source = toStorage(b, op.getLoc(), op.getInput());
  SmallVector<Value> args = {source};
  if (fuses)
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
  LayoutDims dims = op.getDims();
  ArrayRef<int64_t> shape = op.getType().getShape();
  int64_t h = shape[dims.height], w = shape[dims.width];
  // The smallest tile, one window of one vector of channels, must fit in
  // the registers.
  if (k < 2 || kernel[1] != k || pool.getStrides() != kernel ||
      llvm::any_of(pool.getPadding(), [](int64_t v) { return v != 0; }) ||
      llvm::any_of(pool.getDilations(), [](int64_t v) { return v != 1; }) ||
      h % k || w % k || !fitsRegisters(target, k * k, 1))
    return {};
  return pool;
}

TableOp Lowering::findTableFusion(Operation *op, Problem &p) {
  Value result = op->getResult(0);
  if (!result.hasOneUse())
    return {};
  auto table = dyn_cast<TableOp>(*result.getUsers().begin());
  std::optional<QuantParams> out =
      table ? getQuantParams(table.getType()) : std::nullopt;
  if (!out || !out->isPerTensor() || out->storageWidth != 8)
    return {};
  // The entries as the result's storage bytes.
  p.table.clear();
  for (int32_t v : table.getValues())
    p.table.push_back(static_cast<int8_t>(v));
  return table;
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

LogicalResult Lowering::lowerConv(Conv2DOp op) {
  FailureOr<Problem> problem =
      buildConvProblem(op, target.lanes, defaultRounding);
  if (failed(problem))
    return failure();
  emitConv(op, *problem);
  return success();
}

void Lowering::emitConv(Conv2DOp op, Problem &p) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  ArrayRef<int64_t> pad = op.getPadding(); // top, left, bottom, right
  int64_t zeroPoint = getQuantParams(op.getInput().getType())->zeroPoints[0];
  // NHWC storage: an NHWC value computed for the input, or the input.
  bool sourceNchw;
  std::optional<AddFusion> fusion;
  // Layers of 16-bit activations (NumericSpec 6) fuse nothing.
  bool fuses = isInt8Only(p);
  SmallVector<Value> args = convArgs(b, op, p, sourceNchw, fusion, fuses);
  // Only the GEMM kernel pools.
  MaxPool2DOp pool =
      fusion || p.depthwise || !fuses ? MaxPool2DOp() : findPoolFusion(op);
  if (pool)
    p.pool = pool.getKernel()[0];
  TableOp table = fusion || pool || !fuses ? TableOp() : findTableFusion(op, p);
  auto resultType = RankedTensorType::get(
      {p.batch, p.outH / p.pool, p.outW / p.pool, p.channels},
      p.epilogue.storage.type);
  Operation *fused = pool;
  if (fusion)
    fused = fusion->add;
  if (table)
    fused = table;
  Operation *replaced = fused ? fused : op.getOperation();
  bool nchw = op.getLayout() == Layout::NCHW;
  unsigned operand;
  ConcatOp concat = findConcatUse(replaced->getResult(0), nchw, operand);
  Tiling tiling = p.depthwise ? Tiling{chooseDepthwisePixels(target, p), 1}
                              : chooseTiling(target, p, p.outW);
  // The sum written over the addend: one buffer less, and no store of a
  // line that is not in the cache (which first reads it).
  bool inPlace =
      fusion && fusion->addendDies && !concat &&
      fusion->addend.getType() == resultType &&
      tilesWriteOnce(p, target.lanes, tiling.pixels, tiling.channelBlocks);
  KernelDestination destination;
  if (inPlace) {
    args.pop_back();
    destination = {fusion->addend, SmallVector<int64_t, 4>(4, 0)};
  } else if (concat) {
    InPlaceConcat &record = concats[concat];
    if (!record.written) {
      auto type = cast<RankedTensorType>(concat.getType());
      record.written = bufferization::AllocTensorOp::create(
          b, loc, (nchw ? nhwcType(type) : type).clone(p.epilogue.storage.type),
          ValueRange{});
      record.nchw = nchw;
    }
    destination = {record.written, concatOffsets(concat, operand, nchw)};
  }
  Value result = outline(
      b, op, args, resultType,
      [&](OpBuilder &kb, ValueRange kargs) {
        KernelBuilder kernel(kb, loc, target);
        kernel.chainPrefetches(prefetchChain);
        Value addend = fusion && !inPlace ? kargs[1] : Value();
        if (p.depthwise) {
          Value input = prepareDepthwiseInput(kb, loc, kargs[0], p, pad,
                                              sourceNchw, zeroPoint, target);
          return kernel.buildDepthwise(p, tiling.pixels, input, addend,
                                       kargs.back());
        }
        Value input = p.patches
                          ? preparePatchSource(kb, loc, kargs[0], p, pad,
                                               sourceNchw, zeroPoint, target)
                          : prepareGemmInput(kb, loc, kargs[0], p, pad,
                                             sourceNchw, zeroPoint, target);
        // With a fused pool, tiles cover whole windows: the shifted-back
        // last tile then starts on a window too (the width is a multiple of
        // the window).
        return kernel.build(p, tiling, input, addend, kargs.back());
      },
      destination);
  if (!concat) {
    finishKernel(b, op, fused, result);
    return;
  }
  InPlaceConcat &record = concats[concat];
  record.written = result;
  record.operands.insert(operand);
  // The concatenation's operand until finishConcat replaces it.
  Value standIn = extractSlice(b, loc, resultType, result, destination.offsets);
  roundTrips.push_back(standIn.getDefiningOp());
  finishKernel(b, op, fused, standIn);
  if (!nchw)
    roundTrips.push_back(concat->getOperand(operand).getDefiningOp());
}

Value Lowering::buildMatmulKernel(OpBuilder &kb, Location loc,
                                  KernelBuilder &kernel, const Problem &p,
                                  Value lhs, Value dest) const {
  int64_t m = p.outW;
  int64_t k = cast<RankedTensorType>(lhs.getType()).getDimSize(1);
  Value input = padTensor(kb, loc, lhs, {0, 0}, {0, p.inputChannels - k}, 0);
  auto inType = cast<RankedTensorType>(input.getType());
  SmallVector<ReassociationIndices> rows = {{0, 1, 2}, {3}};
  input = tensor::ExpandShapeOp::create(
      kb, loc, inType.clone({1, 1, m, p.inputChannels}), input, rows);
  auto destType = cast<RankedTensorType>(dest.getType());
  Value output = tensor::ExpandShapeOp::create(
      kb, loc, destType.clone({1, 1, m, p.channels}), dest, rows);
  Tiling tiling = chooseTiling(target, p, m);
  Value out = kernel.build(p, tiling, input, Value(), output);
  return tensor::CollapseShapeOp::create(kb, loc, out, rows).getResult();
}

LogicalResult Lowering::lowerMatmul(MatmulOp op) {
  FailureOr<Problem> problem =
      buildMatmulProblem(op, target.lanes, defaultRounding);
  if (failed(problem))
    return failure();
  Problem &p = *problem;
  TableOp table = isInt8Only(p) ? findTableFusion(op, p) : TableOp();
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value result = outline(
      b, op, toStorage(b, loc, op.getLhs()),
      RankedTensorType::get({p.outW, p.channels}, p.epilogue.storage.type),
      [&](OpBuilder &kb, ValueRange args) {
        KernelBuilder kernel(kb, loc, target);
        kernel.chainPrefetches(prefetchChain);
        return buildMatmulKernel(kb, loc, kernel, p, args[0], args.back());
      });
  if (!table) {
    finish(b, op, result);
    return success();
  }
  erased.insert(table);
  finish(b, table, result);
  op->erase();
  return success();
}

LogicalResult Lowering::lowerDynamicMatmul(DynamicMatmulOp op) {
  FailureOr<Problem> problem = buildDynamicMatmulProblem(op, target.lanes);
  if (failed(problem))
    return failure();
  Problem &p = *problem;
  OpBuilder b(op);
  Location loc = op.getLoc();
  // The runtime int8 input and its scale A' (NumericSpec 8.2), computed
  // before the kernel as in the generic lowering; the kernel reads them.
  DynamicInput input =
      quantizeDynamicInput(b, loc, toStorage(b, loc, op.getLhs()),
                           op.getAsymmetric(), op.getPerRow());
  // Per tensor the kernel takes A' and z as scalars, per row as tensors.
  auto param = [&](Value tensor) -> Value {
    if (op.getPerRow())
      return tensor;
    return tensor::ExtractOp::create(b, loc, tensor);
  };
  SmallVector<Value> args = {input.q, param(input.scale)};
  if (input.zeroPoint)
    args.push_back(param(input.zeroPoint));
  Value result = outline(
      b, op, args,
      RankedTensorType::get({p.outW, p.channels}, storageOf(op.getType()).type),
      [&](OpBuilder &kb, ValueRange args) {
        KernelBuilder kernel(kb, loc, target);
        kernel.chainPrefetches(prefetchChain);
        kernel.setDynamicScale(args[1], input.zeroPoint ? args[2] : Value());
        return buildMatmulKernel(kb, loc, kernel, p, args[0], args.back());
      });
  finish(b, op, result);
  return success();
}

struct ConvertMyQuantToVnniPass
    : myquant::impl::ConvertMyQuantToVnniBase<ConvertMyQuantToVnniPass> {
  using Base::Base;

  void runOnOperation() override {
    FailureOr<std::string> resolved = resolveTargetName(getOperation(), target);
    if (failed(resolved))
      return signalPassFailure();
    StringRef targetName = *resolved;
    FailureOr<std::optional<KernelTarget>> parsed = parseTarget(targetName);
    if (failed(parsed)) {
      getOperation()->emitError()
          << "unknown target '" << target
          << "' (expected generic, avx512-vnni, avx512-vnni-256, avx-vnni "
             "or host)";
      return signalPassFailure();
    }
    if (!*parsed) {
      getOperation()->walk([&](Operation *op) {
        if (isa<Conv2DOp, MatmulOp, DynamicMatmulOp>(op))
          (void)notLowered(op->getLoc(), "the target is generic (target=" +
                                             Twine(targetName) + ")");
      });
      return;
    }
    KernelTarget &kernelTarget = **parsed;
    kernelTarget.threadMinMacs = threadMinMacs;
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    Lowering lowering{**parsed,
                      defaultRounding,
                      DenseMap<Value, Value>(),
                      {},
                      &symbols,
                      {},
                      DenseMap<Operation *, Lowering::InPlaceConcat>(),
                      {},
                      {}};
    // Kernels become functions of their own, inserted as we go.
    ParallelBatchBodies bodies(module);
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
        // The threads run whole images through the loops of
        // myquant-split-batch: the kernels there stay on the thread of
        // their image, with no OpenMP region of their own.
        kernelTarget.threads =
            bodies.runsInParallelBatch(op) ? 1 : threads.getValue();
        if (auto conv = dyn_cast<Conv2DOp>(op))
          (void)lowering.lowerConv(conv);
        else if (auto matmul = dyn_cast<MatmulOp>(op))
          (void)lowering.lowerMatmul(matmul);
        else if (auto dynamic = dyn_cast<DynamicMatmulOp>(op))
          (void)lowering.lowerDynamicMatmul(dynamic);
        else if (isa<ConcatOp>(op) && lowering.concats.contains(op))
          lowering.finishConcat(cast<ConcatOp>(op));
        else
          (void)lowering.moveToNhwc(op);
      }
      lowering.eraseUnusedRoundTrips();
      lowering.erased.clear();
      lowering.prefetchChain = {};
    }
  }
};

} // namespace
