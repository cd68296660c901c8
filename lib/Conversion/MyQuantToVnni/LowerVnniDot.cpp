//===- LowerVnniDot.cpp - exact dot products to vpdpbusd and vpdpwssd -----===//
//
// `myquant-lower-vnni-dot` turns the dot products the VNNI kernels emit as
// exact vector arithmetic (KernelBuilder.cpp) into the x86 intrinsics. It
// runs after bufferization: the intrinsic call has no memory-effect model,
// which the buffer deallocation passes reject.
//
//===----------------------------------------------------------------------===//

#include "myquant/Conversion/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace myquant {
#define GEN_PASS_DEF_MYQUANTLOWERVNNIDOT
#include "myquant/Conversion/Passes.h.inc"
} // namespace myquant

using namespace mlir;
using namespace myquant;

namespace {

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
    // s8 or u8 -> s16 widening of `a`, or an s8 -> s16 widening of `w` (the
    // int8 weights of a 16-bit input), into its extension to i32, so that
    // is accepted and redone to s16 here.
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
      if (sext &&
          (narrow(sext.getIn(), width) ||
           (group == 2 && narrow(sext.getIn(), 8))) &&
          (extA = matchA(x))) {
        extW = sext;
        break;
      }
    }
    if (!extA)
      return failure();
    Value a = extA->getOperand(0), w = extW.getIn();
    auto words = VectorType::get({group * lanes}, rewriter.getI16Type());
    if (!narrow(a, width))
      a = isa<arith::ExtUIOp>(extA)
              ? arith::ExtUIOp::create(rewriter, op.getLoc(), words, a)
                    .getResult()
              : arith::ExtSIOp::create(rewriter, op.getLoc(), words, a)
                    .getResult();
    if (!narrow(w, width))
      w = arith::ExtSIOp::create(rewriter, op.getLoc(), words, w);
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
