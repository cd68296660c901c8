//===- FloatGraph.h - recognizing quantizable float linalg ------*- C++ -*-===//
//
// The float front-end forms that myquant quantizes (torch-mlir style linalg
// on tensors), recognized in one place so that the dry run and the quantize
// pass agree on what a "layer" is. Recognizers look through
// myquant.dequantize ops, so they work both before and after the dry run
// has materialized quantization parameters.
//
//===----------------------------------------------------------------------===//

#ifndef MYQUANT_DIALECT_MYQUANT_UTILS_FLOATGRAPH_H
#define MYQUANT_DIALECT_MYQUANT_UTILS_FLOATGRAPH_H

#include "myquant/Dialect/MyQuant/IR/MyQuantDialect.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/SmallVector.h"
#include <limits>
#include <optional>

namespace myquant {

/// Element-wise float computations that quantization cares about.
struct ElementwiseKind {
  enum Kind {
    /// `max(x, lo)` / `min(max(x, lo), hi)`: relu, relu6, clamp.
    Clamp,
    /// `x + b[c]` with `b` a 1-D tensor broadcast along dimension `dim`.
    BiasAdd,
    /// `x + y` of two tensors; either may broadcast (see isBroadcastRead).
    Add,
    /// `x - y`, broadcasting like Add.
    Sub,
    /// `x * y`, broadcasting like Add.
    Mul,
    /// `x / c` or `x * c` with a positive constant `c` (the division of
    /// average pooling, a scale).
    DivByConstant,
    /// Copies a 1-D tensor broadcast along dimension `dim` (a bias used as
    /// the accumulator's initial value).
    Broadcast,
    /// Any other function of one same-shaped tensor whose body is `arith`
    /// and `math` ops on the scalar (sigmoid, tanh, hardswish, GELU, ...):
    /// a lookup table once the input is 8-bit (evaluateTableBody).
    Table,
  } kind;
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  /// BiasAdd / Broadcast: the broadcast operand's dimension in the result.
  unsigned dim = 0;
  /// DivByConstant: the divisor, and the factor the input is multiplied
  /// by (`c` for `x * c`, `1 / c` for `x / c`).
  double divisor = 1.0;
  double factor = 1.0;
  /// Add, Sub, Mul: the body reads its arguments in reverse order (`y - x`
  /// for Sub).
  bool swapped = false;
};

/// Whether `map` reads an operand of `shape` the way a numpy broadcast to
/// the iteration space does: its results are loop dimensions in increasing
/// order, or the constant 0 on a dimension of size 1. Dimensions the map
/// drops broadcast too.
bool isBroadcastRead(mlir::AffineMap map, llvm::ArrayRef<int64_t> shape);

/// The shape an operand read by a broadcast map takes with the loops' rank:
/// its sizes in place, 1 on the loop dimensions it does not read.
llvm::SmallVector<int64_t> broadcastOperandShape(mlir::AffineMap map,
                                                 llvm::ArrayRef<int64_t> shape);

/// Classifies a linalg.generic of one of the forms above.
std::optional<ElementwiseKind> classifyElementwise(mlir::Operation *op);

/// The value of a Table generic's body at `x`, every op evaluated in double
/// (docs/NumericSpec.md 3.8). Every op is evaluated whatever `x`, so one
/// call tells whether the body can be: on an op it cannot evaluate it
/// returns std::nullopt and, when `unsupported` is given, sets it to the op.
std::optional<double>
evaluateTableBody(mlir::Block &body, double x,
                  mlir::Operation **unsupported = nullptr);

/// What a linalg body reads besides its arguments: the loop indices
/// (`linalg.index`) and elements of tensors captured from above
/// (`tensor.extract`, std::nullopt where `extract` cannot read one).
struct BodyEnvironment {
  llvm::ArrayRef<int64_t> loopIndices;
  llvm::function_ref<std::optional<double>(mlir::Value tensor,
                                           llvm::ArrayRef<int64_t> indices)>
      extract;
};

/// The value of a linalg body on the first `arguments.size()` block
/// arguments, evaluated like evaluateTableBody; a read of any other
/// argument is NaN. With `environment`, index arithmetic, `linalg.index`
/// and `tensor.extract` are evaluated too (a gather such as a reverse).
std::optional<double>
evaluateBody(mlir::Block &body, llvm::ArrayRef<double> arguments,
             mlir::Operation **unsupported = nullptr,
             const BodyEnvironment *environment = nullptr);

/// Returns the value under a chain of myquant.dequantize ops.
mlir::Value stripDequantize(mlir::Value value);

/// Returns the float constant a value holds (through dequantize), if any.
mlir::DenseFPElementsAttr getFloatConstant(mlir::Value value);

/// The row-major values (as doubles) of a float constant, or of a
/// linalg.broadcast of one as the broadcast result holds them (a class
/// token expanded over the batch); std::nullopt for anything else or for
/// more than 2^22 elements.
std::optional<llvm::SmallVector<double>>
getFloatConstantValues(mlir::Value value);

/// A convolution or matrix multiplication with what fuses into it: the
/// input's zero padding, a bias, and a clamping activation.
struct ComputeChain {
  enum Kind { Conv, Matmul } kind;
  mlir::Operation *anchor = nullptr;
  /// The activation input, before any zero padding.
  mlir::Value input;
  /// The weights as the myquant op takes them: conv filters in FCHW (nchw)
  /// or HWCF (nhwc) order, matmul rhs as [K, N] or [N, K] (transposeRhs).
  mlir::Value weight;
  /// Shape the weights take in the myquant op (depthwise filters gain a
  /// unit dimension).
  llvm::SmallVector<int64_t> weightShape;
  /// The dimension of `weight` that indexes output channels.
  unsigned weightChannelDim = 0;
  /// Where the chain reads `weight` (the anchor, or the transpose of a
  /// matmul's rhs), so the dry run can substitute quantized weights.
  mlir::OpOperand *weightOperand = nullptr;
  /// The 1-D bias (float or dequantized), or null, and where it is read.
  mlir::Value bias;
  mlir::OpOperand *biasOperand = nullptr;
  /// The clamp range of a fused activation, in real values.
  double actLo = -std::numeric_limits<double>::infinity();
  double actHi = std::numeric_limits<double>::infinity();
  /// The last value of the chain: what the quantized op produces.
  mlir::Value output;
  /// The chain's ops after the anchor (bias add, activation), in order.
  llvm::SmallVector<mlir::Operation *> epilogue;
  /// Grouped convolutions: the reshapes that expose the groups (of input,
  /// filter and initial value) and the one that hides them again.
  llvm::SmallVector<mlir::Operation *, 4> regrouping;

  // Conv only.
  Layout layout = Layout::NCHW;
  llvm::SmallVector<int64_t, 4> padding = {0, 0, 0, 0};
  llvm::SmallVector<int64_t, 2> strides = {1, 1};
  llvm::SmallVector<int64_t, 2> dilations = {1, 1};
  int64_t groups = 1;
  // Matmul only.
  bool transposeRhs = false;
  /// A following multiplication or division by a positive constant (`x *
  /// c`: c, `x / c`: 1 / c), folded into the rescale.
  double factor = 1.0;
};

/// Recognizes the chain anchored at a linalg convolution or matmul.
std::optional<ComputeChain> matchComputeChain(mlir::Operation *anchor);

/// A pooling op with its padding (and, for average pooling, its division).
struct PoolChain {
  bool isMax;
  mlir::Operation *anchor = nullptr;
  mlir::Value input;
  Layout layout;
  llvm::SmallVector<int64_t, 2> kernel, strides, dilations;
  llvm::SmallVector<int64_t, 4> padding = {0, 0, 0, 0};
  mlir::Value output;
  llvm::SmallVector<mlir::Operation *> epilogue;
  /// Average pooling whose windows count different numbers of cells: the
  /// divisor of each output position (row-major over height and width).
  llvm::SmallVector<int64_t> divisors;
};

/// Recognizes linalg max pooling, and sum pooling followed by a division
/// by the window size or by a constant [height, width] tensor of per
/// position divisors (average pooling).
std::optional<PoolChain> matchPoolChain(mlir::Operation *anchor);

/// `x * c`, `c * x` or `x / c` (a linalg.generic) with `c` a float constant,
/// or a linalg.broadcast of one, whose values vary along at most one
/// dimension of the result: a per-channel scale (a layer scale
/// `x * gamma[c]`), quantized as a requantize with per-channel factors.
struct ChannelScale {
  mlir::Operation *op = nullptr;
  /// The scaled tensor, read without broadcasting.
  mlir::Value input;
  mlir::Value output;
  /// What index `i` of dimension `axis` of the result multiplies by (`1 /
  /// c[i]` in double for a division); one factor when `c` does not vary.
  llvm::SmallVector<double> factors;
  std::optional<unsigned> axis;
};

std::optional<ChannelScale> matchChannelScale(mlir::Operation *op);

/// Ops whose result has exactly the operand's quantization (data movement
/// and max): reshape, pad, transpose, slices.
bool isSameScaleOp(mlir::Operation *op);

/// Whether a linalg.softmax normalizes over the last dimension of a float
/// tensor, the form myquant.softmax computes.
bool isLastDimSoftmax(mlir::linalg::SoftmaxOp op);

/// Whether `map` reads a per-row value (one per index of the loops but the
/// last): the loops but the last in order, then the constant 0 where the
/// row value keeps its reduced dimension (torch's keepdim).
bool isRowMap(mlir::AffineMap map);

/// Whether `op` is element-wise over its result with `inputs` inputs: all
/// loops parallel, the first input and the result read with the identity.
bool isRowwiseElementwise(mlir::linalg::GenericOp op, unsigned inputs);

/// Whether the body of `op` computes `f` of its arguments at each of
/// `points`, evaluated in double (evaluateBody): exactly, or within
/// `relativeTolerance` where the forms may order their ops differently.
bool bodyComputes(mlir::linalg::GenericOp op,
                  llvm::ArrayRef<llvm::SmallVector<double, 2>> points,
                  llvm::function_ref<double(llvm::ArrayRef<double>)> f,
                  double relativeTolerance = 0.0);

/// The input of a reduction over the last loop into one value per row (a
/// linalg.generic read with the identity, written with isRowMap) whose body
/// computes `f(element, accumulator)` and that starts from a fill with
/// `f`'s identity `identity` (checked by evaluation, so a max from NaN with
/// maxnumf counts as from -inf); null otherwise.
mlir::Value
rowReductionInput(mlir::Value value, double identity,
                  llvm::function_ref<double(llvm::ArrayRef<double>)> f);

/// Layer normalization over the last dimension as the exporter writes it
/// (emit.LayerNorm): `s = sum(x)` per row, `c = x - s / C`, `v = sum(c *
/// c)` per row, and `c * rsqrt(v / C + eps) * gamma + beta` with constant
/// per-channel gamma and beta. Bodies are recognized by evaluation.
struct LayerNormChain {
  mlir::Operation *anchor = nullptr;
  mlir::Value input;
  mlir::Value output;
  llvm::SmallVector<double> gamma, beta;
  double eps = 0.0;
  /// The ops before the anchor (the two reductions and the centering).
  llvm::SmallVector<mlir::Operation *, 3> ops;
};

/// Recognizes the layer normalization whose last op is `anchor`.
std::optional<LayerNormChain> matchLayerNorm(mlir::Operation *anchor);

} // namespace myquant

#endif // MYQUANT_DIALECT_MYQUANT_UTILS_FLOATGRAPH_H
