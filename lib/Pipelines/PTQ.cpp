//===- PTQ.cpp - the post-training quantization pipeline ------------------===//

#include "myquant/Pipelines/PTQ.h"
#include "myquant/Calibration/Passes.h"
#include "myquant/Dialect/MyQuant/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace myquant {

void buildPTQPipeline(OpPassManager &pm, const PTQOptions &options) {
  // Calibration observes the normalized forms, so that statistics land on
  // the values the dry run reads.
  pm.nest<func::FuncOp>().addPass(createMyQuantNormalize());
  if (!options.calibrationData.empty()) {
    MyQuantCalibrateOptions calibrate;
    calibrate.data = options.calibrationData;
    calibrate.function = options.calibrationFunction;
    calibrate.method = options.calibrationMethod;
    calibrate.samples = options.calibrationSamples;
    calibrate.batchSize = options.calibrationBatchSize;
    calibrate.percentile = options.calibrationPercentile;
    calibrate.averagingConstant = options.calibrationAveragingConstant;
    calibrate.statsOut = options.calibrationStatsOut;
    calibrate.quiet = options.calibrationQuiet;
    // A layer kept in float is no layer to the dry run: it quantizes the
    // values inside it one by one and needs their ranges.
    calibrate.observeInsideLayers = !options.keepFloat.empty();
    pm.addPass(createMyQuantCalibrate(calibrate));
  }
  OpPassManager &funcPm = pm.nest<func::FuncOp>();
  MyQuantPropagateQParamsOptions propagate;
  propagate.activationType = options.activationType;
  propagate.weightGranularity = options.weightGranularity;
  propagate.weightBits = options.weightBits;
  propagate.weightGroupSize = options.weightGroupSize;
  propagate.allowFloat = options.allowFloat;
  propagate.keepFloat.assign(options.keepFloat.begin(),
                             options.keepFloat.end());
  propagate.activationBits = options.activationBits;
  propagate.normInputBits = options.normInputBits;
  propagate.int16RangeHeadroom = options.int16RangeHeadroom;
  propagate.softmaxInputBits = options.softmaxInputBits;
  propagate.normInputScales = options.normInputScales;
  propagate.layerPrecision.assign(options.layerPrecision.begin(),
                                  options.layerPrecision.end());
  propagate.dynamic = options.dynamic;
  funcPm.addPass(createMyQuantPropagateQParams(propagate));
  MyQuantQuantizeOptions quantize;
  quantize.rounding = options.rounding;
  quantize.dynamicPerRow = options.dynamicPerRow;
  funcPm.addPass(createMyQuantQuantize(quantize));
  if (options.integerIO)
    funcPm.addPass(createMyQuantIntegerSignature());
  if (!options.allowFloat) {
    MyQuantVerifyIntegerOnlyOptions verify;
    verify.allowFloatBoundary = !options.integerIO;
    funcPm.addPass(createMyQuantVerifyIntegerOnly(verify));
  }
  funcPm.addPass(createCSEPass());
}

void registerPTQPipeline() {
  registerPassPipeline(
      "myquant-ptq",
      "Static post-training quantization of a float model annotated with "
      "myquant.stats (or calibrated first): normalize, dry run, quantize, "
      "integer-only check",
      [](OpPassManager &pm, StringRef text,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        PTQOptions options;
        if (failed(options.parseFromString(text)))
          return failure();
        // Checked without calibration data too: a mistyped option must not
        // go unnoticed.
        if (failed(checkCalibrationOptions(
                {options.calibrationMethod.getValue(),
                 options.calibrationPercentile,
                 options.calibrationAveragingConstant,
                 options.calibrationBatchSize, options.calibrationSamples},
                "calibration-",
                [&](const Twine &message) { (void)errorHandler(message); })))
          return failure();
        buildPTQPipeline(pm, options);
        return success();
      },
      [](function_ref<void(const mlir::detail::PassOptions &)> handler) {
        handler(PTQOptions());
      });
}

} // namespace myquant
