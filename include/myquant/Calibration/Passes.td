//===- Passes.td - myquant calibration passes --------------*- tablegen -*-===//

#ifndef MYQUANT_CALIBRATION_PASSES_TD
#define MYQUANT_CALIBRATION_PASSES_TD

include "mlir/Pass/PassBase.td"

def MyQuantCalibrate : Pass<"myquant-calibrate", "::mlir::ModuleOp"> {
  let summary = "Runs the float model on calibration data and annotates it "
                "with myquant.stats";
  let description = [{
    Instruments a copy of the function: it returns, in place of its
    results, every value the quantizer may need (the float tensor results of
    the body's operations, except constants, `tensor.empty`, `linalg.fill`,
    values computed from constants alone and, unless
    `observe-inside-layers`, the values inside a convolution or matmul
    layer that only the layer reads: the result before its bias, activation
    or constant factor, its zero-padded input; the float tensor arguments
    are observed in the input buffers). The copy is
    lowered with `myquant-lower-to-llvm`, JIT-compiled once in the process
    and run over the samples in batches; the observers
    accumulate in C++. Each observed value of the original function is then
    followed by a `myquant.stats` op (replacing its uses, and any earlier
    annotation) holding the chosen range and, for the histogram methods,
    the histogram clamped to it.

    Data: a `.npy` file (one array, first axis = samples) for a function of
    one argument, or a `.npz` file with one array per argument, found by the
    argument's location name (`loc("x")`) or `arg<i>`, by numpy's positional
    name `arr_<i>`, or, when no argument is found by name, by position. The
    samples must have the argument's type without its first dimension, which
    is the batch: a dynamic batch takes `batch-size` samples per call, a
    static batch N takes exactly N (the last partial batch is completed with
    the first samples of the data set, which are then observed twice).

    Methods (`method`, or the `myquant.calibration_method` string attribute
    of an op or function argument for one value): `minmax`,
    `moving-average` (PyTorch's MovingAverageMinMaxObserver, per batch),
    `percentile` (each tail clipped), `mse` (PyTorch HistogramObserver's L2
    search) and `entropy` (TensorRT's KL divergence on |x|), the last three
    on a 2048-bin histogram from a second pass over the data. See
    docs/Calibration.md. NaN and infinite values are excluded, counted and
    reported with a warning at the value.

    `per-channel-norm-inputs` also records, for the input of each layer
    normalization (the form the dry run recognizes), the min/max of every
    channel of its last dimension in a second `myquant.stats` with `axis`,
    which `norm-input-scales=per-channel` of the dry run reads.

    `stats-out` writes the statistics as JSON keyed by stable value names,
    for `myquant-import-stats` or other tools; a value's per-channel
    statistics are its entry's `channels` (`axis`, `min`, `max`), and
    `inside_layers` lists the names of the values left unobserved inside
    layers.
  }];
  let options = [
    Option<"data", "data", "std::string", /*default=*/"",
           "Calibration data: .npy (one argument) or .npz">,
    Option<"function", "function", "std::string", /*default=*/"",
           "Function to calibrate (default: the only public function)">,
    Option<"samples", "samples", "int64_t", /*default=*/"0",
           "Use at most this many samples (0: all)">,
    Option<"batchSize", "batch-size", "int64_t", /*default=*/"32",
           "Samples per call when the batch dimension is dynamic">,
    Option<"threads", "threads", "int64_t", /*default=*/"1",
           "Calls of the model that run at once (one batch each); the "
           "statistics do not depend on it">,
    Option<"method", "method", "std::string", /*default=*/"\"minmax\"",
           "minmax, moving-average, percentile, mse or entropy">,
    Option<"percentile", "percentile", "double", /*default=*/"99.99",
           "Percentile kept by the percentile method, in (50, 100]">,
    Option<"averagingConstant", "averaging-constant", "double",
           /*default=*/"0.01",
           "Moving-average constant, in (0, 1]">,
    Option<"statsOut", "stats-out", "std::string", /*default=*/"",
           "Also write the statistics to this JSON file">,
    Option<"cacheDir", "cache-dir", "std::string", /*default=*/"",
           "Keep the compiled instrumented copy in this directory, named by "
           "a hash of the copy, the options, the CPU and the compiler; a "
           "later calibration of the same model loads it instead of "
           "compiling">,
    Option<"cacheMaxMb", "cache-max-mb", "int64_t", /*default=*/"2048",
           "Size bound of cache-dir in MiB: after writing an entry, the least "
           "recently used other entries are removed until the entries take "
           "at most this much (0: no bound)">,
    Option<"quiet", "quiet", "bool", /*default=*/"false",
           "No progress on stderr">,
    Option<"timing", "timing", "bool", /*default=*/"false",
           "Print where the time went on stderr: the lowering, the JIT "
           "compile, the calls of the model (wall and CPU time, the first "
           "call's CPU time, and the page faults of the first call and of "
           "the later ones) and the observers">,
    Option<"perChannelNormInputs", "per-channel-norm-inputs", "bool",
           /*default=*/"false",
           "Also record last-dimension min/max per channel of the layer "
           "normalization inputs">,
    Option<"observeInsideLayers", "observe-inside-layers", "bool",
           /*default=*/"false",
           "Also observe the values inside a convolution or matmul layer "
           "(before its bias, activation or constant factor; its padded "
           "input), which the dry run does not read; this keeps the float "
           "kernels of the instrumented copy from fusing the layer">
  ];
  let dependentDialects = ["::myquant::MyQuantDialect"];
}

def MyQuantImportStats : Pass<"myquant-import-stats", "::mlir::ModuleOp"> {
  let summary = "Annotates a function with myquant.stats from a JSON file";
  let description = [{
    Reads statistics written by `myquant-calibrate`'s `stats-out` or
    `myquant-export-stats` (or by other tools, e.g. from PyTorch observers)
    and puts a `myquant.stats` op after each value named in the file,
    replacing earlier annotations of that value; values without an entry
    are left as they are. An entry gives either a range (`min`, `max`,
    optionally per channel with `axis`) or fixed quantization parameters
    (`scale`, `zero_point`, optionally `dtype`), which are turned into the
    range that yields exactly those parameters (docs/NumericSpec.md 1.1).
    An entry's `channels` (`axis`, per-channel `min` and `max`) puts a
    second, per-channel `myquant.stats` on the first, as the calibrator's
    `per-channel-norm-inputs` does.
    An entry named after a layer may also give `weight` parameters
    (`scale`, one or one per output channel, zero point 0, `qmin`/`qmax`,
    default [-128, 127]); they are attached to the layer's convolution or
    matmul as `myquant.weight_qparams` for the dry run.
    A name that matches no value or a shape that differs is an error: the
    file is stale.
  }];
  let options = [
    Option<"file", "file", "std::string", /*default=*/"",
           "The JSON statistics file">,
    Option<"function", "function", "std::string", /*default=*/"",
           "Function to annotate (default: the file's, else the only "
           "public function)">
  ];
  let dependentDialects = ["::myquant::MyQuantDialect"];
}

def MyQuantExportStats : Pass<"myquant-export-stats", "::mlir::ModuleOp"> {
  let summary = "Writes the myquant.stats of a function to a JSON file";
  let description = [{
    The format of `myquant-calibrate`'s `stats-out`, from whatever
    annotations the function carries (hand-written, imported or
    calibrated); a value annotated per tensor and per channel (a chain of
    two `myquant.stats`) gets one entry with `channels`. The IR is not
    changed.
  }];
  let options = [
    Option<"file", "file", "std::string", /*default=*/"",
           "The JSON statistics file to write">,
    Option<"function", "function", "std::string", /*default=*/"",
           "Function to export (default: the only public function)">
  ];
}

#endif // MYQUANT_CALIBRATION_PASSES_TD
