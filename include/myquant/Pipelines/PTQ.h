//===- PTQ.h - the post-training quantization pipeline ----------*- C++ -*-===//
//
// `myquant-ptq`: a float model annotated with myquant.stats (or calibrated
// first, with `calibration-data`) in, myquant ops on quantized tensors out
// (dry run, quantize, optionally integer function signatures, and the
// integer-only check).
//
//===----------------------------------------------------------------------===//

#ifndef MYQUANT_PIPELINES_PTQ_H
#define MYQUANT_PIPELINES_PTQ_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "myquant/Dialect/MyQuant/IR/MyQuantDialect.h"
#include "myquant/Dialect/MyQuant/Transforms/PassOptions.h"

namespace myquant {

struct PTQOptions : public mlir::PassPipelineOptions<PTQOptions> {
  Option<RoundingMode> rounding{
      *this, "rounding", llvm::cl::desc("Requantization rounding"),
      llvm::cl::init(RoundingMode::Single), roundingModeValues()};
  Option<WeightGranularity> weightGranularity{
      *this, "weight-granularity", llvm::cl::desc("Weight scales"),
      llvm::cl::init(WeightGranularity::PerChannel), weightGranularityValues()};
  Option<int64_t> weightBits{
      *this, "weight-bits",
      llvm::cl::desc("Bits of constant conv/matmul weights: 8, or 4"),
      llvm::cl::init(8)};
  Option<int64_t> weightGroupSize{
      *this, "weight-group-size",
      llvm::cl::desc("With 4-bit weights: one scale per group of this many "
                     "K indices of a matmul (0: per channel)"),
      llvm::cl::init(0)};
  Option<ActivationType> activationType{
      *this, "activation-type", llvm::cl::desc("Activation storage"),
      llvm::cl::init(ActivationType::Int8), activationTypeValues()};
  ListOption<std::string> keepFloat{
      *this, "keep-float",
      llvm::cl::desc("Ops to keep in float: op names (linalg.matmul) or "
                     "location names (the layer name of "
                     "loc(\"features.0\"))")};
  Option<int64_t> activationBits{
      *this, "activation-bits",
      llvm::cl::desc("Activation storage bits of the whole model: 8 or 16 "
                     "(16-bit symmetric, int8 weights)"),
      llvm::cl::init(8)};
  Option<double> int16RangeHeadroom{
      *this, "int16-range-headroom",
      llvm::cl::desc("Factor by which a 16-bit activation's scale widens its "
                     "calibrated range: 1 to 128"),
      llvm::cl::init(kDefaultInt16RangeHeadroom)};
  Option<int64_t> normInputBits{
      *this, "norm-input-bits",
      llvm::cl::desc("Storage bits of layer normalization inputs: 8 or 16"),
      llvm::cl::init(8)};
  Option<int64_t> softmaxInputBits{
      *this, "softmax-input-bits",
      llvm::cl::desc("Storage bits of softmax inputs (and of the "
                     "probabilities that attention's A V reads): 8 or 16"),
      llvm::cl::init(8)};
  Option<std::string> normInputScales{
      *this, "norm-input-scales",
      llvm::cl::desc("Scales of layer normalization inputs: per-tensor or "
                     "per-channel (power-of-two factors)"),
      llvm::cl::init("per-tensor")};
  ListOption<std::string> layerPrecision{
      *this, "layer-precision",
      llvm::cl::desc("Per-layer precision by location name: "
                     "<layer name>:w<4|8>a<8|16> (w4a8, w8a8 or w8a16), "
                     "comma-separated")};
  Option<bool> dynamic{
      *this, "dynamic",
      llvm::cl::desc("Dynamic quantization of the matmuls with constant "
                     "weights: int8 input scale computed at run time"),
      llvm::cl::init(false)};
  Option<bool> dynamicPerRow{
      *this, "dynamic-per-row",
      llvm::cl::desc("With dynamic: the runtime input parameters per row "
                     "(per token) instead of per tensor"),
      llvm::cl::init(false)};
  Option<bool> allowFloat{
      *this, "allow-float",
      llvm::cl::desc("Keep unsupported ops in float instead of failing; "
                     "false also verifies that the result is integer-only"),
      llvm::cl::init(true)};
  Option<bool> integerIO{
      *this, "integer-io",
      llvm::cl::desc("Take and return int8 tensors (qparams recorded on the "
                     "function) instead of float"),
      llvm::cl::init(false)};

  // Calibration: with `calibration-data`, myquant-calibrate annotates the
  // model first (see its options).
  Option<std::string> calibrationData{
      *this, "calibration-data",
      llvm::cl::desc("Calibrate on this .npy or .npz file first")};
  Option<std::string> calibrationFunction{
      *this, "calibration-function",
      llvm::cl::desc("Function to calibrate (default: the only public one)")};
  Option<std::string> calibrationMethod{
      *this, "calibration-method",
      llvm::cl::desc("minmax, moving-average, percentile, mse or entropy"),
      llvm::cl::init("minmax")};
  Option<int64_t> calibrationSamples{
      *this, "calibration-samples",
      llvm::cl::desc("Calibrate on at most this many samples (0: all)"),
      llvm::cl::init(0)};
  Option<int64_t> calibrationBatchSize{
      *this, "calibration-batch-size",
      llvm::cl::desc("Samples per call for a dynamic batch dimension"),
      llvm::cl::init(32)};
  Option<double> calibrationPercentile{
      *this, "calibration-percentile",
      llvm::cl::desc("Percentile of the percentile method"),
      llvm::cl::init(99.99)};
  Option<double> calibrationAveragingConstant{
      *this, "calibration-averaging-constant",
      llvm::cl::desc("Constant of the moving-average method"),
      llvm::cl::init(0.01)};
  Option<std::string> calibrationStatsOut{
      *this, "calibration-stats-out",
      llvm::cl::desc("Also write the statistics to this JSON file")};
  Option<bool> calibrationQuiet{
      *this, "calibration-quiet",
      llvm::cl::desc("No calibration progress on stderr"),
      llvm::cl::init(false)};
};

/// Adds the passes of `myquant-ptq` to `pm` (anchored on builtin.module).
void buildPTQPipeline(mlir::OpPassManager &pm, const PTQOptions &options);

/// Registers `myquant-ptq`.
void registerPTQPipeline();

} // namespace myquant

#endif // MYQUANT_PIPELINES_PTQ_H
