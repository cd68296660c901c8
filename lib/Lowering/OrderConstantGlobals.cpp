//===- OrderConstantGlobals.cpp - deterministic constant globals ----------===//

#include "myquant/Lowering/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringMap.h"

namespace myquant {
#define GEN_PASS_DEF_MYQUANTORDERCONSTANTGLOBALS
#include "myquant/Lowering/Passes.h.inc"
} // namespace myquant

using namespace mlir;

namespace {

/// The prefix one-shot bufferization gives the globals of tensor constants.
constexpr llvm::StringLiteral kConstantPrefix = "__constant_";

/// `__constant_128xi32_7` -> `128xi32`: the name without the prefix and
/// bufferization's uniquing counter.
std::string shapeOf(StringRef name) {
  StringRef shape = name.drop_front(kConstantPrefix.size());
  auto [head, tail] = shape.rsplit('_');
  unsigned counter;
  if (head != shape && !tail.getAsInteger(10, counter))
    return head.str();
  return shape.str();
}

class OrderConstantGlobalsPass
    : public myquant::impl::MyQuantOrderConstantGlobalsBase<
          OrderConstantGlobalsPass> {
public:
  void runOnOperation() override {
    ModuleOp module = getOperation();
    llvm::StringMap<memref::GlobalOp> constants;
    for (auto global : module.getOps<memref::GlobalOp>())
      if (global.getConstant() && global.isPrivate() &&
          global.getSymName().starts_with(kConstantPrefix))
        constants[global.getSymName()] = global;
    if (constants.empty())
      return;

    // After bufferization only memref.get_global refers to these globals;
    // the module's walk order is deterministic, the globals' is not.
    llvm::MapVector<Operation *, SmallVector<memref::GetGlobalOp>> uses;
    module.walk([&](memref::GetGlobalOp get) {
      auto it = constants.find(get.getName());
      if (it != constants.end())
        uses[it->second].push_back(get);
    });
    for (auto &entry : constants)
      if (!uses.count(entry.second))
        entry.second.erase();

    // New names may be old names of other globals: rename in two steps.
    MLIRContext *ctx = &getContext();
    auto rename = [&](Operation *op, ArrayRef<memref::GetGlobalOp> gets,
                      const Twine &name) {
      auto global = cast<memref::GlobalOp>(op);
      global.setSymName(name.str());
      for (memref::GetGlobalOp get : gets)
        get.setNameAttr(FlatSymbolRefAttr::get(ctx, global.getSymName()));
    };
    SmallVector<std::string> shapes;
    for (auto [index, entry] : llvm::enumerate(uses)) {
      shapes.push_back(
          shapeOf(cast<memref::GlobalOp>(entry.first).getSymName()));
      rename(entry.first, entry.second, "__myquant_renaming_" + Twine(index));
    }
    llvm::StringMap<unsigned> perShape;
    for (auto [entry, shape] : llvm::zip_equal(uses, shapes))
      rename(entry.first, entry.second,
             kConstantPrefix + shape + "_" + Twine(perShape[shape]++));

    // Moving each to the front in reverse order leaves them in use order.
    Block &body = module.getBodyRegion().front();
    for (auto &entry : llvm::reverse(uses))
      entry.first->moveBefore(&body, body.begin());
  }
};

} // namespace
