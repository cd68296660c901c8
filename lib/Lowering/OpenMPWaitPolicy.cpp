//===- OpenMPWaitPolicy.cpp - libomp's threads spin between kernels -------===//
//
// A module constructor that sets libomp's wait policy for the kernels'
// OpenMP regions unless the user chose one (see the pass description).
//
//===----------------------------------------------------------------------===//

#include "myquant/Lowering/Passes.h"

#include "mlir/Dialect/LLVMIR/FunctionCallUtils.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "llvm/ADT/StringMap.h"

namespace myquant {
#define GEN_PASS_DEF_MYQUANTOPENMPWAITPOLICY
#include "myquant/Lowering/Passes.h.inc"
} // namespace myquant

using namespace mlir;

namespace {

/// The variables whose presence means the user chose how libomp waits.
constexpr llvm::StringLiteral kUserVariables[] = {
    "OMP_WAIT_POLICY", "KMP_LIBRARY", "KMP_BLOCKTIME"};
/// What the constructor sets otherwise.
constexpr std::pair<llvm::StringLiteral, llvm::StringLiteral> kDefaults[] = {
    {"KMP_BLOCKTIME", "1000"}};

struct OpenMPWaitPolicyPass
    : public myquant::impl::MyQuantOpenMPWaitPolicyBase<OpenMPWaitPolicyPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    Location loc = module.getLoc();
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    auto i32 = IntegerType::get(ctx, 32);
    FailureOr<LLVM::LLVMFuncOp> getenvFn =
        LLVM::lookupOrCreateFn(b, module, "getenv", {ptr}, ptr);
    FailureOr<LLVM::LLVMFuncOp> setenvFn =
        LLVM::lookupOrCreateFn(b, module, "setenv", {ptr, ptr, i32}, i32);
    if (failed(getenvFn) || failed(setenvFn)) {
      module.emitError() << "cannot declare getenv and setenv for the OpenMP "
                            "wait policy: the module has other functions of "
                            "those names";
      return signalPassFailure();
    }

    auto ctor = LLVM::LLVMFuncOp::create(
        b, loc, "__myquant_openmp_wait_policy",
        LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), {}),
        LLVM::Linkage::Internal);
    Block *entry = ctor.addEntryBlock(b);
    Block *set = ctor.addBlock();
    Block *done = ctor.addBlock();
    b.setInsertionPointToStart(entry);
    // The strings' addresses, taken once in the entry block.
    llvm::StringMap<Value> strings;
    auto string = [&](StringRef value) {
      Value &address = strings[value];
      if (!address) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(entry);
        // C strings: createGlobalString does not add the terminator.
        std::string terminated = value.str();
        terminated.push_back('\0');
        address =
            LLVM::createGlobalString(loc, b, "__myquant_env_" + value.str(),
                                     terminated, LLVM::Linkage::Internal);
      }
      return address;
    };
    Value null = LLVM::ZeroOp::create(b, loc, ptr);
    Value unset;
    for (StringRef name : kUserVariables) {
      Value value =
          LLVM::CallOp::create(b, loc, *getenvFn, ValueRange{string(name)})
              .getResult();
      Value absent =
          LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::eq, value, null);
      unset = unset ? LLVM::AndOp::create(b, loc, unset, absent).getResult()
                    : absent;
    }
    LLVM::CondBrOp::create(b, loc, unset, set, done);

    b.setInsertionPointToStart(set);
    Value keep = LLVM::ConstantOp::create(b, loc, i32, 0);
    for (auto [name, value] : kDefaults)
      LLVM::CallOp::create(b, loc, *setenvFn,
                           ValueRange{string(name), string(value), keep});
    LLVM::BrOp::create(b, loc, done);
    b.setInsertionPointToStart(done);
    LLVM::ReturnOp::create(b, loc, ValueRange{});

    b.setInsertionPointToEnd(module.getBody());
    LLVM::GlobalCtorsOp::create(
        b, loc, b.getArrayAttr({FlatSymbolRefAttr::get(ctor)}),
        b.getI32ArrayAttr({65535}), b.getArrayAttr({LLVM::ZeroAttr::get(ctx)}));
  }
};

} // namespace
