//===- PlanStaticMemory.cpp - every buffer in one caller-provided arena ---===//
//
// Code for targets without a heap: the buffers of each function get fixed
// offsets in one arena and share memory once their lifetimes are over
// (interval liveness; offsets from greedy best-fit placement in several
// orders, the first that of TFLite Micro's planner).
//
//===----------------------------------------------------------------------===//

#include "myquant/Dialect/MyQuant/IR/MyQuantDialect.h"
#include "myquant/Lowering/Passes.h"
#include "myquant/Transforms/BufferAliases.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/DataLayoutInterfaces.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/MathExtras.h"

#include <limits>
#include <tuple>

namespace myquant {
#define GEN_PASS_DEF_MYQUANTPLANSTATICMEMORY
#include "myquant/Lowering/Passes.h.inc"
} // namespace myquant

using namespace mlir;

namespace {

/// A block of memory of one function's arena: an allocation, or the arena
/// of a callee during a call.
struct Buffer {
  /// The memref.alloc or func.call.
  Operation *op;
  int64_t size;
  int64_t alignment;
  /// Its lifetime: positions in the function's body of the first and last
  /// operations that use it.
  int64_t first;
  int64_t last;
  /// What it adds to the live total while alive: its size, or the callee's
  /// own peak.
  int64_t peakLive;
  int64_t offset = 0;
};

/// A planned function: whether it takes an arena, and how large.
struct Plan {
  bool hasArena = false;
  int64_t arenaSize = 0;
  int64_t peakLive = 0;
};

/// Places the buffers in `order`, each in the smallest gap between the
/// placed buffers whose lifetimes overlap its own that holds it (best fit)
/// or in the lowest (first fit), else above them all. Returns the arena
/// size.
int64_t placeInOrder(ArrayRef<Buffer *> order, bool bestFit) {
  SmallVector<Buffer *> placed;
  int64_t arenaSize = 0;
  for (Buffer *buffer : order) {
    SmallVector<Buffer *> overlapping;
    for (Buffer *other : placed)
      if (other->first <= buffer->last && buffer->first <= other->last)
        overlapping.push_back(other);
    llvm::sort(overlapping, [](const Buffer *a, const Buffer *b) {
      return a->offset < b->offset;
    });
    std::optional<int64_t> best;
    int64_t bestGap = std::numeric_limits<int64_t>::max();
    int64_t free = 0;
    for (Buffer *other : overlapping) {
      int64_t start = llvm::alignTo(free, buffer->alignment);
      int64_t gap = other->offset - start - buffer->size;
      if (gap >= 0 && gap < bestGap && (bestFit || !best)) {
        best = start;
        bestGap = gap;
      }
      free = std::max(free, other->offset + other->size);
    }
    buffer->offset = best.value_or(llvm::alignTo(free, buffer->alignment));
    placed.push_back(buffer);
    arenaSize = std::max(arenaSize, buffer->offset + buffer->size);
  }
  return arenaSize;
}

/// The offsets of the smallest arena found: best fit or first fit in a few
/// greedy orders (by size, as TFLite Micro's planner; by lifetime; by size
/// x lifetime; by first use), then, while the arena is above
/// `lowerBound`, in random orders (a fixed generator, so that plans are
/// reproducible) within a bounded amount of work. No order wins on every
/// model. Returns the arena size.
int64_t assignOffsets(MutableArrayRef<Buffer> buffers, int64_t lowerBound) {
  if (buffers.empty())
    return 0;
  int64_t bestSize = std::numeric_limits<int64_t>::max();
  SmallVector<int64_t> bestOffsets;
  auto tryOrder = [&](ArrayRef<Buffer *> order, bool bestFit) {
    int64_t size = placeInOrder(order, bestFit);
    if (size >= bestSize)
      return;
    bestSize = size;
    bestOffsets.clear();
    for (const Buffer &buffer : buffers)
      bestOffsets.push_back(buffer.offset);
  };
  SmallVector<Buffer *> order;
  for (Buffer &buffer : buffers)
    order.push_back(&buffer);

  using Key = std::pair<int64_t, int64_t> (*)(const Buffer &);
  static constexpr Key keys[] = {
      [](const Buffer &b) { return std::make_pair(-b.size, b.first); },
      [](const Buffer &b) { return std::make_pair(b.first - b.last, -b.size); },
      [](const Buffer &b) {
        return std::make_pair(-b.size * (b.last - b.first + 1), b.first);
      },
      [](const Buffer &b) { return std::make_pair(b.first, -b.size); }};
  for (Key key : keys) {
    // Ties in creation order, so that the plan is deterministic.
    llvm::sort(order, [&](const Buffer *a, const Buffer *b) {
      return std::make_tuple(key(*a), a) < std::make_tuple(key(*b), b);
    });
    for (bool bestFit : {true, false})
      tryOrder(order, bestFit);
  }

  // Each try costs about n^2 steps.
  int64_t n = buffers.size();
  int64_t tries = std::min<int64_t>(512, 50'000'000 / (n * n));
  uint64_t state = 0x9E3779B97F4A7C15ull;
  for (int64_t t = 0; t < tries && bestSize > lowerBound; ++t) {
    // Fisher-Yates with a 64-bit LCG (Knuth's MMIX constants).
    for (int64_t i = n - 1; i > 0; --i) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      std::swap(order[i], order[(state >> 33) % (i + 1)]);
    }
    tryOrder(order, /*bestFit=*/true);
  }
  for (auto [buffer, offset] : llvm::zip(buffers, bestOffsets))
    buffer.offset = offset;
  return bestSize;
}

/// The largest total of the buffers live at one position: what any arena
/// for these lifetimes needs at least.
int64_t getPeakLive(ArrayRef<Buffer> buffers, int64_t numPositions) {
  SmallVector<int64_t> delta(numPositions + 1, 0);
  for (const Buffer &buffer : buffers) {
    delta[buffer.first] += buffer.peakLive;
    delta[buffer.last + 1] -= buffer.peakLive;
  }
  int64_t live = 0, peak = 0;
  for (int64_t change : delta) {
    live += change;
    peak = std::max(peak, live);
  }
  return peak;
}

struct PlanStaticMemoryPass
    : myquant::impl::MyQuantPlanStaticMemoryBase<PlanStaticMemoryPass> {
  using MyQuantPlanStaticMemoryBase::MyQuantPlanStaticMemoryBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (!llvm::isPowerOf2_32(alignment)) {
      module.emitError() << "myquant-plan-static-memory: alignment "
                         << alignment.getValue() << " is not a power of two";
      return signalPassFailure();
    }
    SymbolTable symbols(module);
    SmallVector<func::FuncOp> order;
    if (failed(orderCalleesFirst(module, symbols, order)))
      return signalPassFailure();
    DataLayout layout(module);
    FailureOr<int64_t> weights = getConstantsSize(module, layout);
    if (failed(weights))
      return signalPassFailure();
    DenseMap<Operation *, Plan> plans;
    for (func::FuncOp func : order) {
      FailureOr<Plan> plan = planFunction(func, symbols, plans, layout);
      if (failed(plan))
        return signalPassFailure();
      plans[func] = *plan;
      if (func.isPublic()) {
        Builder b(func);
        func->setAttr(
            myquant::MyQuantDialect::StaticMemoryAttrHelper::getNameStr(),
            b.getDictionaryAttr(
                {b.getNamedAttr("arena_size",
                                b.getI64IntegerAttr(plan->arenaSize)),
                 b.getNamedAttr("alignment", b.getI64IntegerAttr(alignment)),
                 b.getNamedAttr("peak_live",
                                b.getI64IntegerAttr(plan->peakLive)),
                 b.getNamedAttr("weights_size",
                                b.getI64IntegerAttr(*weights))}));
      }
    }
  }

  /// The functions with a body, each after the functions it calls.
  static LogicalResult orderCalleesFirst(ModuleOp module, SymbolTable &symbols,
                                         SmallVectorImpl<func::FuncOp> &order) {
    enum class State { Visiting, Done };
    DenseMap<Operation *, State> states;
    std::function<LogicalResult(func::FuncOp)> visit =
        [&](func::FuncOp func) -> LogicalResult {
      states[func] = State::Visiting;
      WalkResult result = func.walk([&](func::CallOp call) {
        auto callee = symbols.lookup<func::FuncOp>(call.getCallee());
        if (!callee || callee.isExternal())
          return WalkResult::advance();
        auto it = states.find(callee);
        if (it != states.end() && it->second == State::Visiting) {
          call.emitOpError()
              << "is a recursive call of @" << callee.getSymName()
              << ": static memory needs a bound on the buffers of each "
                 "function, which recursion does not give";
          return WalkResult::interrupt();
        }
        if (it == states.end() && failed(visit(callee)))
          return WalkResult::interrupt();
        return WalkResult::advance();
      });
      if (result.wasInterrupted())
        return failure();
      states[func] = State::Done;
      order.push_back(func);
      return success();
    };
    for (auto func : module.getOps<func::FuncOp>())
      if (!func.isExternal() && !states.count(func) && failed(visit(func)))
        return failure();
    return success();
  }

  /// Bytes of the constant globals (weights, tables) that the code reads:
  /// a kernel that repacks its weights (the dual-MAC path) leaves the
  /// originals unread, and LLVM drops them from the object.
  static FailureOr<int64_t> getConstantsSize(ModuleOp module,
                                             const DataLayout &layout) {
    int64_t total = 0;
    for (auto global : module.getOps<memref::GlobalOp>()) {
      if (!global.getConstant() ||
          SymbolTable::symbolKnownUseEmpty(global, module))
        continue;
      MemRefType type = global.getType();
      if (!type.hasStaticShape())
        return global.emitOpError() << "has a dynamic shape (" << type
                                    << "): its size cannot be stated";
      total += type.getNumElements() *
               static_cast<int64_t>(
                   layout.getTypeSize(type.getElementType()).getFixedValue());
    }
    return total;
  }

  /// Parallel iterations would share the arena slot of a buffer that each
  /// of them needs for itself.
  static bool isInParallelLoop(Operation *op) {
    for (Operation *parent = op->getParentOp(); parent;
         parent = parent->getParentOp())
      if (isa<scf::ParallelOp, scf::ForallOp>(parent) ||
          parent->getName().getDialectNamespace() == "omp")
        return true;
    return false;
  }

  /// The lifetime of `alloc`'s buffer in `body`: the positions of the first
  /// and last operations that use it or a value that may alias it
  /// (myquant::forEachAliasUser). Its deallocs go to `deallocs`.
  static LogicalResult
  getLifetime(memref::AllocOp alloc, Block &body,
              const DenseMap<Operation *, int64_t> &positions, Buffer &buffer,
              SmallVectorImpl<Operation *> &deallocs) {
    bool nested = alloc->getBlock() != &body;
    buffer.first = std::numeric_limits<int64_t>::max();
    buffer.last = -1;
    LogicalResult result =
        myquant::forEachAliasUser(alloc, [&](Operation *user) -> LogicalResult {
          if (isa<memref::DeallocOp>(user)) {
            deallocs.push_back(user);
            return success();
          }
          if (isa<memref::ExtractAlignedPointerAsIndexOp>(user))
            return alloc.emitOpError()
                   << "has its address taken as an integer (" << user->getName()
                   << "), so its lifetime cannot be bounded for static memory";
          if (isa<func::ReturnOp>(user))
            return alloc.emitOpError()
                   << "is returned by its function: static memory needs "
                      "caller-provided output buffers (run "
                      "buffer-results-to-out-params first)";
          if (nested && user->hasTrait<OpTrait::IsTerminator>())
            return alloc.emitOpError()
                   << "is yielded out of the region that allocates it ("
                   << user->getName()
                   << "): each execution of the region would need a buffer "
                      "of its own, which static memory cannot plan";
          int64_t position =
              positions.lookup(body.findAncestorOpInBlock(*user));
          buffer.first = std::min(buffer.first, position);
          buffer.last = std::max(buffer.last, position);
          return success();
        });
    if (failed(result))
      return failure();
    // Never used: it still needs a slot for its (dead) view.
    if (buffer.last < 0)
      buffer.first = buffer.last =
          positions.lookup(body.findAncestorOpInBlock(*alloc));
    return success();
  }

  FailureOr<Plan> planFunction(func::FuncOp func, SymbolTable &symbols,
                               const DenseMap<Operation *, Plan> &plans,
                               const DataLayout &layout) {
    if (func.isPublic() &&
        llvm::any_of(func.getResultTypes(), llvm::IsaPred<BaseMemRefType>))
      return func.emitOpError()
             << "returns buffers: static memory needs caller-provided output "
                "buffers (run buffer-results-to-out-params{modify-public-"
                "functions} first)";
    SmallVector<memref::AllocOp> allocs;
    SmallVector<std::pair<func::CallOp, Plan>> calls;
    WalkResult walk = func.walk([&](Operation *op) {
      if (isa<memref::ReallocOp>(op)) {
        op->emitOpError() << "resizes a buffer, which static memory cannot "
                             "plan";
        return WalkResult::interrupt();
      }
      Operation *callee = nullptr;
      if (auto call = dyn_cast<func::CallOp>(op)) {
        callee = symbols.lookup(call.getCallee());
        auto plan = plans.find(callee);
        if (plan != plans.end() && plan->second.hasArena)
          calls.push_back({call, plan->second});
        else
          callee = nullptr;
      }
      if (auto alloc = dyn_cast<memref::AllocOp>(op))
        allocs.push_back(alloc);
      else if (!callee)
        return WalkResult::advance();
      if (isInParallelLoop(op)) {
        op->emitOpError() << "needs memory in a parallel loop, whose "
                             "iterations would share it: static memory "
                             "plans sequential code only";
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return failure();
    if (allocs.empty() && calls.empty() && !func.isPublic())
      return Plan();
    if (!func.getBody().hasOneBlock())
      return func.emitOpError()
             << "has " << func.getBlocks().size()
             << " blocks: static memory plans structured code of one block";

    Block &body = func.front();
    DenseMap<Operation *, int64_t> positions;
    for (Operation &op : body)
      positions[&op] = positions.size();
    SmallVector<Buffer> buffers;
    SmallVector<Operation *> deallocs;
    for (memref::AllocOp alloc : allocs) {
      MemRefType type = alloc.getType();
      if (!type.hasStaticShape())
        return alloc.emitOpError()
               << "allocates " << type
               << ", whose size is only known at run time: static memory "
                  "plans buffers of static shapes only";
      if (!type.getLayout().isIdentity() || type.getMemorySpace())
        return alloc.emitOpError()
               << "allocates " << type
               << ": static memory plans buffers with the identity layout "
                  "in the default memory space only";
      int64_t size =
          type.getNumElements() *
          static_cast<int64_t>(
              layout.getTypeSize(type.getElementType()).getFixedValue());
      Buffer buffer{
          alloc,
          size,
          std::max<int64_t>(alignment, alloc.getAlignment().value_or(1)),
          0,
          0,
          size};
      if (failed(getLifetime(alloc, body, positions, buffer, deallocs)))
        return failure();
      buffers.push_back(buffer);
    }
    for (auto [call, callee] : calls) {
      int64_t position = positions.lookup(body.findAncestorOpInBlock(*call));
      buffers.push_back({call, callee.arenaSize, alignment, position, position,
                         callee.peakLive});
    }

    Plan plan;
    plan.hasArena = true;
    plan.peakLive = getPeakLive(buffers, body.getOperations().size());
    plan.arenaSize = assignOffsets(buffers, plan.peakLive);
    rewrite(func, buffers, deallocs, plan.arenaSize);
    return plan;
  }

  /// Gives `func` its arena argument and makes each buffer a view of it.
  void rewrite(func::FuncOp func, ArrayRef<Buffer> buffers,
               ArrayRef<Operation *> deallocs, int64_t arenaSize) {
    for (Operation *dealloc : deallocs)
      dealloc->erase();
    MLIRContext *ctx = func.getContext();
    auto arenaType = MemRefType::get({arenaSize}, IntegerType::get(ctx, 8));
    // Appending an argument to a function with a body cannot fail.
    (void)func.insertArgument(func.getNumArguments(), arenaType,
                              DictionaryAttr(), func.getLoc());
    OpBuilder b = OpBuilder::atBlockBegin(&func.front());
    Value arena = memref::AssumeAlignmentOp::create(
        b, func.getLoc(), func.getArguments().back(), alignment);
    for (const Buffer &buffer : buffers) {
      b.setInsertionPoint(buffer.op);
      Location loc = buffer.op->getLoc();
      Value offset = arith::ConstantIndexOp::create(b, loc, buffer.offset);
      if (auto alloc = dyn_cast<memref::AllocOp>(buffer.op)) {
        Value view = memref::ViewOp::create(b, loc, alloc.getType(), arena,
                                            offset, ValueRange());
        alloc.replaceAllUsesWith(view);
        alloc.erase();
        continue;
      }
      auto scratchType =
          MemRefType::get({buffer.size}, arenaType.getElementType());
      Value view = memref::ViewOp::create(b, loc, scratchType, arena, offset,
                                          ValueRange());
      buffer.op->insertOperands(buffer.op->getNumOperands(), view);
    }
  }
};

} // namespace
