//===- ValueNames.cpp - naming and annotating a function's values ---------===//

#include "myquant/Calibration/ValueNames.h"
#include "myquant/Dialect/MyQuant/IR/MyQuantOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;

namespace myquant {

FailureOr<func::FuncOp> selectFunction(ModuleOp module, StringRef name) {
  SmallVector<func::FuncOp> candidates;
  std::string list;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (!func.isPublic() || func.isExternal())
      continue;
    candidates.push_back(func);
    list += (list.empty() ? "@" : ", @") + func.getSymName().str();
  }
  if (list.empty())
    list = "none";
  if (!name.empty()) {
    auto func = module.lookupSymbol<func::FuncOp>(name);
    if (!func)
      return module.emitError()
             << "no function named @" << name
             << " in the module (public functions: " << list << ")";
    if (func.isExternal())
      return module.emitError()
             << "@" << name << " is only declared, it has no body";
    return func;
  }
  if (candidates.size() != 1)
    return module.emitError() << "the module has " << candidates.size()
                              << " public functions with a body (" << list
                              << "); name one with the 'function' option";
  return candidates.front();
}

std::optional<StringRef> getLocationName(Location loc) {
  if (auto named = dyn_cast<NameLoc>(loc))
    return named.getName().strref();
  return std::nullopt;
}

std::string getArgumentName(func::FuncOp func, unsigned index) {
  if (std::optional<StringRef> name =
          getLocationName(func.getArgument(index).getLoc()))
    return name->str();
  return "arg" + std::to_string(index);
}

FailureOr<ValueNames> ValueNames::build(func::FuncOp func) {
  ValueNames result;
  auto add = [&](Value value, std::string name) -> LogicalResult {
    auto [it, inserted] = result.values.try_emplace(name, value);
    if (!inserted)
      return func.emitError()
             << "two values of @" << func.getSymName() << " are called '"
             << name << "'; give them distinct location names";
    result.names[value] = std::move(name);
    return success();
  };
  for (unsigned index = 0; index < func.getNumArguments(); ++index)
    if (failed(add(func.getArgument(index), getArgumentName(func, index))))
      return failure();

  // Results named by their op's location, in program order per name.
  llvm::MapVector<StringRef, SmallVector<Value>> located;
  unsigned index = 0;
  for (Block &block : func.getBody()) {
    for (Operation &op : block) {
      // Annotations are transparent, so annotated and plain IR agree.
      if (isa<StatsOp>(op))
        continue;
      std::optional<StringRef> name = getLocationName(op.getLoc());
      for (Value value : op.getResults()) {
        if (name)
          located[*name].push_back(value);
        else if (failed(add(value, "v" + std::to_string(index))))
          return failure();
        ++index;
      }
    }
  }
  for (auto &[name, values] : located) {
    // A layer often lowers to several ops with its name; its output, the
    // last of them, is the one other tools know by that name.
    for (auto [position, value] : llvm::enumerate(values)) {
      std::string text = name.str();
      if (position + 1 != values.size())
        text += "#" + std::to_string(position);
      if (failed(add(value, std::move(text))))
        return failure();
    }
  }
  return result;
}

StringRef ValueNames::getName(Value value) const {
  auto it = names.find(value);
  return it == names.end() ? StringRef() : StringRef(it->second);
}

Value ValueNames::lookup(StringRef name) const { return values.lookup(name); }

//===----------------------------------------------------------------------===//
// Annotating
//===----------------------------------------------------------------------===//

LogicalResult
annotateWithStats(ArrayRef<Value> values, ArrayRef<ValueStats> stats,
                  llvm::function_ref<std::string(size_t)> describe) {
  if (values.empty())
    return success();
  MLIRContext *ctx = values.front().getContext();
  SmallVector<StatsOp> created(values.size());
  std::optional<size_t> current;
  // Verifier messages come from the new op; say where its numbers came from.
  ScopedDiagnosticHandler handler(ctx, [&](Diagnostic &diag) {
    if (current && describe)
      diag.attachNote() << describe(*current);
    return failure();
  });
  bool valid = true;
  // Each op goes right after its value's definition, so going backwards
  // leaves the annotations of one op's results (or of the arguments) in
  // order.
  for (size_t i = values.size(); i-- > 0;) {
    Value value = values[i];
    OpBuilder builder(ctx);
    if (auto argument = dyn_cast<BlockArgument>(value))
      builder.setInsertionPointToStart(argument.getOwner());
    else
      builder.setInsertionPointAfter(value.getDefiningOp());
    const ValueStats &s = stats[i];
    IntegerAttr axis = s.axis ? builder.getI64IntegerAttr(*s.axis) : nullptr;
    DenseI64ArrayAttr histogram =
        s.histogram.empty() ? nullptr
                            : builder.getDenseI64ArrayAttr(s.histogram);
    created[i] = StatsOp::create(builder, value.getLoc(), value.getType(),
                                 value, s.min, s.max, axis, histogram);
    current = i;
    valid &= succeeded(verify(created[i]));
    current.reset();
  }
  if (!valid) {
    for (StatsOp op : created)
      op.erase();
    return failure();
  }
  for (auto [input, op] : llvm::zip(values, created)) {
    Value value = input;
    for (Operation *user : llvm::make_early_inc_range(value.getUsers())) {
      auto old = dyn_cast<StatsOp>(user);
      if (!old || old == op)
        continue;
      old.getResult().replaceAllUsesWith(value);
      old.erase();
    }
    value.replaceAllUsesExcept(op.getResult(), op);
  }
  return success();
}

LogicalResult
annotateWithChannelStats(ArrayRef<Value> values, ArrayRef<ValueStats> channels,
                         llvm::function_ref<std::string(size_t)> describe) {
  SmallVector<Value> annotations;
  for (Value value : values)
    annotations.push_back((*value.getUsers().begin())->getResult(0));
  return annotateWithStats(annotations, channels, describe);
}

} // namespace myquant
