"""From a PyTorch model to compiled int8 code in one call.

    import myquant
    qmodel = myquant.quantize(torch_model, calibration_images)
    logits = qmodel(images)          # numpy in -> numpy out, torch -> torch

``quantize`` exports the model (python/myquant/export.py), calibrates it
with ``myquant-opt --myquant-calibrate`` (python/myquant/calibrate.py), and returns a :class:`QuantizedModel` that
compiles with ``myquant-opt --myquant-ptq`` and ``myquant-compile --shared``
and calls the shared library through ctypes.

Batch sizes: a compiled function has a static batch size. The model compiles
one library per batch size on first use and caches it. A call with more than
``max_batch`` samples runs in chunks of ``max_batch`` (plus one library for
the remainder), so evaluating a 10,000-image test set with the default
max_batch=64 compiles two libraries (64 and 16). Build files live in a
temporary directory owned by the model, removed by ``close()``, on garbage
collection or at exit; ``save()`` copies a library out for deployment.

The compile cache is safe for threads and processes: ``cache_dir`` (default:
the model's temporary directory) may be shared by several models and
processes. Each build directory is named after a hash of the module it
compiles, the options and the tools; it is built under a lock (a
threading.Lock and an ``flock`` on ``DIR.lock``) and every file is written
to a temporary name and renamed into place (``os.replace``), the library
last, so a library that exists is complete and a build is never seen half
done.
"""

import contextlib
import copy
import fcntl
import hashlib
import inspect
import os
import re
import shutil
import tempfile
import threading

import numpy as np

from . import calibrate as C
from . import emit as E
from . import gptq as G
from . import qparams as Q
from . import tools as T
from .runtime import CompiledFunction

__all__ = ["QuantizedModel", "quantize"]


def _is_torch(x):
    return type(x).__module__.startswith("torch")


def _positive_int(value, what):
    """value as an int; a ValueError naming `what` unless it is an integer
    >= 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
            or value < 1:
        raise ValueError(f"{what} must be a positive integer, not {value!r}")
    return int(value)


def _flag(value, what):
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{what} must be True or False, not {value!r}")
    return bool(value)


def _check_layer_names(graph, names, option):
    """Raises ValueError for a name that is not a layer of the graph (the
    names its ops are located at: module paths for exported models)."""
    layers = list(dict.fromkeys(layer.loc for layer in graph.layers))
    for name in names:
        if name not in layers:
            shown = ", ".join(layers[:12]) + (", ..." if len(layers) > 12
                                              else "")
            raise ValueError(f"{option} names {name!r}, which is not a "
                             f"layer of the model (its layers: {shown})")


def _layer_precision(graph, layer_precision):
    """layer_precision as checked "name:w8a16" entries (a tuple)."""
    entries = tuple(T.layer_precision_entries(layer_precision))
    _check_layer_names(graph, [e.rsplit(":", 1)[0] for e in entries],
                       "layer_precision")
    return entries


def _keep_float_layers(graph, keep_float, allow_float):
    """keep_float (a layer name or several) checked against the graph's
    layers; a tuple."""
    names = (keep_float,) if isinstance(keep_float, str) else \
        tuple(keep_float)
    _check_layer_names(graph, names, "keep_float")
    if names and not allow_float:
        raise ValueError(f"keep_float keeps {', '.join(names)} in float, "
                         f"which allow_float=False forbids")
    return names


def _header_qparams(header, func_name, which):
    """The (scale, zero point) list `which` ("input" or "output") that
    myquant-compile writes into the C header of an integer-io function."""
    with open(header) as f:
        text = f.read()
    m = re.search(rf"{func_name}_{which}_qparams\[\d+\] = \{{(.*?)\}};",
                  text, re.S)
    if m is None:
        raise RuntimeError(f"{header} has no {which} parameters for "
                           f"{func_name}")
    return [(float(sc), int(zp)) for sc, zp in
            re.findall(r"\{([^,{}]+), (-?\d+)\}", m.group(1))]


class _IntegerIOFunction:
    """A CompiledFunction that takes and returns int8 (integer_io), called
    like the float ones: float inputs are quantized and the int8 results
    dequantized in numpy, with the parameters myquant-compile wrote into
    its C header (``input_qparams``, ``output_qparams``: (scale, zero
    point) lists). Other attributes are the function's."""

    def __init__(self, function, header):
        self.function = function
        self.input_qparams = _header_qparams(header, function.func_name,
                                             "input")
        self.output_qparams = _header_qparams(header, function.func_name,
                                              "output")

    def __call__(self, x):
        outs = self.function(Q.quantize(x, *self.input_qparams[0]))
        return [Q.dequantize(o, *qp) for o, qp in
                zip(outs, self.output_qparams)]

    def __getattr__(self, name):
        return getattr(self.function, name)


_dir_locks = {}
_dir_locks_guard = threading.Lock()


@contextlib.contextmanager
def _build_lock(directory):
    """Holds the lock of a build directory: a threading.Lock per path for
    the threads of this process (flock between threads is not portable) and
    an exclusive flock on DIRECTORY.lock for other processes."""
    path = os.path.realpath(directory)
    with _dir_locks_guard:
        lock = _dir_locks.setdefault(path, threading.Lock())
    with lock, open(path + ".lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _tmp_name(path):
    """A name in path's directory (so os.replace is atomic), unique to this
    process and thread, with path's extension."""
    base, ext = os.path.splitext(path)
    return f"{base}.tmp-{os.getpid()}-{threading.get_ident()}{ext}"


@contextlib.contextmanager
def _atomic_paths(*paths):
    """Yields temporary names for paths; renames each into place (in order)
    when the block succeeds, removes them when it fails."""
    tmps = [_tmp_name(p) for p in paths]
    try:
        yield tmps
        for t, p in zip(tmps, paths):
            os.replace(t, p)
    finally:
        for t in tmps:
            with contextlib.suppress(FileNotFoundError):
                os.remove(t)


def _write_atomic(path, text):
    with _atomic_paths(path) as [tmp]:
        with open(tmp, "w") as f:
            f.write(text)


class QuantizedModel:
    """A calibrated float graph and its compiled int8 libraries.

    graph: emit.Model (float, BatchNorm folded; any batch size);
    stats: value name -> (min, max); cache_dir: where libraries are built
    and cached (shared by models and processes; kept by close()), default a
    temporary directory of the model. allow_float, keep_float and
    integer_io: see :func:`quantize`. float_graph: the float model that
    graph's weights were rounded from (quantize's weight_rounding="gptq"),
    which the float variants run (float_mlir, values(quantized=False): the
    per-layer report's reference); default graph."""

    def __init__(self, graph, stats, rounding="single",
                 weight_granularity="per-channel", max_batch=64,
                 native=True, cache_dir=None, allow_float=True,
                 keep_float=(), integer_io=False, weight_bits=8,
                 group_size=0, activation_bits=8, layer_precision=(),
                 dynamic=False, norm_input_bits=8, softmax_input_bits=8,
                 norm_input_scales="per-tensor",
                 dynamic_granularity="per-tensor",
                 int16_range_headroom=Q.INT16_RANGE_HEADROOM,
                 float_graph=None):
        allow_float = _flag(allow_float, "allow_float")
        self.ptq_options = dict(
            rounding=rounding, weight_granularity=weight_granularity,
            allow_float=allow_float,
            keep_float=_keep_float_layers(graph, keep_float, allow_float),
            integer_io=_flag(integer_io, "integer_io"),
            weight_bits=weight_bits, group_size=group_size,
            activation_bits=activation_bits,
            layer_precision=_layer_precision(graph, layer_precision),
            dynamic=_flag(dynamic, "dynamic"),
            norm_input_bits=norm_input_bits,
            softmax_input_bits=softmax_input_bits,
            norm_input_scales=norm_input_scales,
            dynamic_granularity=dynamic_granularity,
            int16_range_headroom=int16_range_headroom)
        T.ptq_options(**self.ptq_options)  # validates
        self.graph, self.stats = graph, stats
        self.float_graph = graph if float_graph is None else float_graph
        self.rounding = rounding
        self.weight_granularity = weight_granularity
        self.max_batch = _positive_int(
            max_batch, "max_batch (the largest batch compiled)")
        self.native = native
        self._tmp = tempfile.TemporaryDirectory(prefix="myquant-")
        self._cache_dir = cache_dir
        if cache_dir is not None:
            os.makedirs(cache_dir, exist_ok=True)
        self._cache = {}
        self._key_locks = {}
        self._cache_lock = threading.Lock()
        self.remarks = ""

    # -- lifecycle ---------------------------------------------------------

    @property
    def workdir(self):
        if self._tmp is None:
            raise RuntimeError("the model was closed")
        return self._cache_dir or self._tmp.name

    def close(self):
        """Removes the build files (loaded libraries stay usable until the
        object is dropped, but nothing new can be compiled)."""
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- MLIR --------------------------------------------------------------

    @property
    def sample_shape(self):
        return tuple(self.graph.input_shape[1:])

    def float_mlir(self, batch=1, outputs=None, weights="dense"):
        """The exported float model (no statistics) as MLIR text."""
        return E.emit(self.float_graph.with_batch(batch), outputs=outputs,
                      weights=weights)

    def annotated_mlir(self, batch=1, outputs=None, weights="dense"):
        """The float model annotated with myquant.stats (the input of
        myquant-opt --myquant-ptq)."""
        return E.emit(self.graph.with_batch(batch), self.stats,
                      outputs=outputs, weights=weights)

    def quantized_mlir(self, batch=1, outputs=None):
        """The int8 model (after myquant-ptq) as MLIR text."""
        d = self._build(batch, outputs, quantized=True, link=False)
        with open(os.path.join(d, "model.q.mlir")) as f:
            return f.read()

    def _build(self, batch, outputs, quantized, link=True):
        """The build directory of a variant: model.mlir, model.q.mlir (when
        quantized) and, when link, libmodel.so and model.h. Named after a
        hash of the module and the options, so that models and processes
        sharing the cache directory reuse each other's builds; built under
        its lock, each file renamed into place when complete."""
        g = (self.graph if quantized else self.float_graph).with_batch(
            _positive_int(batch, "the batch size"))
        text = E.emit(g, self.stats if quantized else None, outputs=outputs)
        # The float variants do not depend on the options: models that
        # differ in precision only share them in a shared cache directory.
        opts = T.ptq_options(**self.ptq_options) if quantized else ""
        # The tools' builds too: a rebuilt compiler does not reuse the
        # libraries of the previous one in a persistent cache directory.
        tools = [os.stat(T.tool_path(t)) for t in ("myquant-opt",
                                                   "myquant-compile")]
        key = hashlib.sha256("\0".join(
            [text, opts, f"native={self.native}"] +
            [f"{st.st_mtime_ns}:{st.st_size}" for st in tools]
        ).encode()).hexdigest()[:20]
        d = os.path.join(self.workdir,
                         f"{'q' if quantized else 'f'}{batch}-{key}")
        files = {n: os.path.join(d, n) for n in
                 ("model.mlir", "model.q.mlir", "remarks.txt", "model.h",
                  "libmodel.so")}
        with _build_lock(d):
            os.makedirs(d, exist_ok=True)
            if not os.path.exists(files["model.mlir"]):
                _write_atomic(files["model.mlir"], text)
            src = files["model.mlir"]
            if quantized:
                if not os.path.exists(files["model.q.mlir"]):
                    with _atomic_paths(files["remarks.txt"],
                                       files["model.q.mlir"]) as [rem, out]:
                        remarks = T.ptq(src, out, **self.ptq_options)
                        with open(rem, "w") as f:
                            f.write(remarks)
                with open(files["remarks.txt"]) as f:
                    self.remarks = f.read()
                src = files["model.q.mlir"]
            if link and not os.path.exists(files["libmodel.so"]):
                # The library last: once it exists, the build is complete.
                with _atomic_paths(files["model.h"],
                                   files["libmodel.so"]) as [h, lib]:
                    T.compile_shared(src, lib, header_path=h,
                                     native=self.native)
        return d

    # -- compiled functions ------------------------------------------------

    def compiled(self, batch, outputs=None, quantized=True):
        """The CompiledFunction for a batch size (compiled on first use;
        thread-safe). outputs: value names to return (default: the model
        output); quantized=False compiles the float model instead."""
        key = (_positive_int(batch, "the batch size"),
               None if outputs is None else tuple(outputs), bool(quantized))
        with self._cache_lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        # The threads that wait for a key's first build find it done.
        with key_lock:
            fn = self._cache.get(key)
            if fn is None:
                d = self._build(batch, outputs, quantized)
                g = self.graph.with_batch(batch)
                outs = [g.output] if outputs is None else list(outputs)
                integer = quantized and self.ptq_options["integer_io"]
                fn = CompiledFunction(
                    os.path.join(d, "libmodel.so"), "forward",
                    [g.input_shape], [g.shapes[o] for o in outs],
                    input_dtypes=[np.int8] if integer else None,
                    result_dtypes=[np.int8] * len(outs) if integer
                    else None)
                if integer:
                    fn = _IntegerIOFunction(fn, os.path.join(d, "model.h"))
                self._cache[key] = fn
        return fn

    def _run(self, x, outputs=None, quantized=True):
        as_torch = _is_torch(x)
        x = C.as_float32(x, "the input")
        single = x.ndim == len(self.sample_shape)
        if single:
            x = x[None]
        if tuple(x.shape[1:]) != self.sample_shape or not len(x):
            dims = ", ".join(map(str, self.sample_shape))
            raise ValueError(f"input of shape {list(x.shape)}; the model "
                             f"takes [N, {dims}] with N >= 1")
        parts = []
        for i in range(0, len(x), self.max_batch):
            chunk = x[i:i + self.max_batch]
            parts.append(self.compiled(len(chunk), outputs, quantized)(chunk))
        outs = [np.concatenate([p[j] for p in parts]) for j in
                range(len(parts[0]))]
        if single:
            outs = [o[0] for o in outs]
        if as_torch:
            import torch
            outs = [torch.from_numpy(o) for o in outs]
        return outs

    def __call__(self, x):
        """Int8 inference: float input [N, ...] (numpy or torch; a single
        sample without the batch dimension also works) -> float output of
        the same kind (dequantized)."""
        return self._run(x)[0]

    def run_float(self, x):
        """The exported float model, compiled by myquant (for checks)."""
        return self._run(x, quantized=False)[0]

    def values(self, x, names, quantized=True):
        """Several values of the model (dequantized when quantized), as a
        dict name -> array; compiles a variant that returns them."""
        outs = self._run(x, outputs=list(names), quantized=quantized)
        return dict(zip(names, outs))

    # -- sizes and deployment ---------------------------------------------

    def parameter_bytes(self):
        """(float32 bytes, int8 bytes) of the weights and biases of the
        BatchNorm-folded model; int8 counts 1-byte weights (half a byte
        and a byte per group with weight_bits=4) and 4-byte biases."""
        f = q = 0
        for layer in self.graph.layers:
            w = getattr(layer, "w", None)
            if w is None:
                continue
            b = getattr(layer, "b", None)
            f += 4 * (w.size + (0 if b is None else b.size))
            q += Q.weight_bytes(layer, *Q.weight_precision(
                layer, self.ptq_options["weight_bits"],
                self.ptq_options["group_size"],
                self.ptq_options["layer_precision"]))
        return f, q

    def save(self, directory, batch=1, name="model"):
        """Writes NAME.mlir (int8), libNAME.so and NAME.h for a batch size
        into directory; returns the library path."""
        fn = self.compiled(batch)
        os.makedirs(directory, exist_ok=True)
        d = os.path.dirname(fn.lib._name)
        shutil.copy(os.path.join(d, "model.q.mlir"),
                    os.path.join(directory, f"{name}.mlir"))
        lib = os.path.join(directory, f"lib{name}.so")
        shutil.copy(fn.lib._name, lib)
        shutil.copy(os.path.join(d, "model.h"),
                    os.path.join(directory, f"{name}.h"))
        return lib

    def save_for_target(self, directory, target_preset, batch=1,
                        name="model", static_memory=None):
        """Writes NAME.mlir (int8), the object NAME.o compiled by
        myquant-compile --target-preset=TARGET_PRESET (cortex-m0plus,
        cortex-m4, cortex-m7, rv32imac, rv32imac-zve32x or host;
        docs/Targets.md), NAME.h
        and an example program NAME_main.c calling it once into
        directory; returns the object's path. The microcontrollers have
        no FPU: their presets need integer_io=True. static_memory (by
        default, on the microcontrollers): no heap, --static-memory (the
        caller passes the result buffers and an arena of the header's
        forward_ARENA_SIZE bytes)."""
        if target_preset != "host" and not self.ptq_options["integer_io"]:
            raise ValueError(f"target_preset={target_preset!r} has no "
                             f"floating-point unit: quantize with "
                             f"integer_io=True")
        os.makedirs(directory, exist_ok=True)
        src = os.path.join(directory, f"{name}.mlir")
        _write_atomic(src, self.quantized_mlir(batch))
        obj = os.path.join(directory, f"{name}.o")
        T.run_tool("myquant-compile", [
            src, "--function=forward", f"--target-preset={target_preset}",
            "-o", obj, f"--header={os.path.join(directory, name)}.h",
            f"--example-main={os.path.join(directory, name)}_main.c",
            *(["--static-memory"] if static_memory or (
                static_memory is None and target_preset != "host") else [])])
        return obj


def quantize(model, calibration_data, method="minmax", rounding="single",
             weight_granularity="per-channel", max_batch=64,
             num_samples=None, percentile=99.99, progress=False,
             native=True, cache_dir=None, allow_float=True, keep_float=(),
             integer_io=False, weight_bits=8, group_size=0,
             activation_bits=8, layer_precision=(), dynamic=False,
             norm_input_bits=8, softmax_input_bits=8,
             norm_input_scales="per-tensor",
             dynamic_granularity="per-tensor",
             int16_range_headroom=Q.INT16_RANGE_HEADROOM,
             calibration_batch_size=None, calibration_threads=1,
             precision_target=None, bias_correction=False,
             weight_rounding="nearest"):
    """Exports, calibrates and quantizes a PyTorch model.

    model: a torch.nn.Module (see myquant.export for what is supported).
    calibration_data: array / tensor [N, ...], or an iterable of batches or
        (inputs, labels) pairs; at most num_samples samples are used.
    method: "minmax", "moving-average", "percentile" (each tail clipped at
        `percentile`), "mse" or "entropy": the method of the compiler's
        calibration pass (myquant.calibrate, docs/Calibration.md).
    rounding: "single" or "gemmlowp"; weight_granularity: "per-channel" or
        "per-tensor" (myquant-ptq options).
    max_batch: largest batch compiled; larger inputs run in chunks.
    calibration_batch_size: samples per call of the instrumented model
        during calibration (default calibrate.DEFAULT_BATCH_SIZE, 8: as
        fast as larger batches, less memory). The minmax, percentile, mse
        and entropy statistics do not depend on it (for the histogram
        methods: when it divides the number of samples, see
        docs/Calibration.md); moving-average updates once per batch.
    calibration_threads: batches calibrated at once; the statistics do
        not depend on it.
    native: compile with -march=native.
    cache_dir: where libraries are built and cached (may be shared by
        processes; default a temporary directory removed by close()); given,
        calibration also keeps its compiled model in its ``calibration``
        folder, which a later quantize() of the same model loads.
    allow_float: False makes quantization fail (myquant.tools.ToolError
        naming the op) unless the whole model is integer-only (myquant-ptq
        allow-float=false); True keeps what cannot be quantized in float,
        with a remark (``QuantizedModel.remarks``).
    keep_float: layer names (module paths, as in ``graph.layers``' locs and
        the per-layer report) whose ops stay in float (myquant-ptq
        keep-float); needs allow_float.
    integer_io: the compiled function takes and returns int8 (myquant-ptq
        integer-io; its parameters are in the C header ``save()`` writes);
        calling the model still takes and returns float, converted in
        numpy with the same arithmetic.
    weight_bits: 8, or 4 for int4 conv / linear / matmul weights in [-7, 7]
        (docs/NumericSpec.md 7; activations stay 8-bit); group_size: with
        4-bit weights, one scale per group of that many K indices of each
        linear / matmul (32, 64, 128 as GPTQ / AWQ do; 0: per channel;
        convolutions and K not divisible stay per channel).
    activation_bits: 16 stores activations in 16 bits (symmetric, int8
        weights, int64 accumulators: TFLite's 16x8 mode, docs/NumericSpec.md
        6) wherever the ops have a 16-bit form; 8 (default) is int8.
    layer_precision: per-layer precision by name, a mapping
        {"features.0": "w8a16"} or entries "features.0:w8a16" (myquant-ptq
        layer-precision): w4a8 / w8a8 set that layer's weight bits, w8a16
        gives it 16-bit activations; the per-layer report's "precision"
        column shows each layer's result. "auto" chooses it
        (myquant.precision): the cheapest assignment of w4a8 / w8a8 /
        w8a16 that meets precision_target, verified by building it; the
        returned model's ``auto_precision`` holds the choice and its table.
    precision_target: with layer_precision="auto", a dict of
        myquant.precision.search's arguments: target_sqnr (logit SQNR in
        dB), max_accuracy_drop (points, with labels), size_budget (bytes),
        x (data, default the first 256 calibration samples), labels,
        candidates, group_size, report_samples.
    dynamic: dynamic quantization, integer only (docs/NumericSpec.md 8):
        each Linear / matmul with constant weights quantizes its input to
        int8 with a scale computed from each batch at run time (max |x| and
        an integer reciprocal), as torch.ao.quantization.quantize_dynamic
        does in float; the values between such layers are int32 fixed point.
        The report's precision column shows "dyn" for those layers.
    dynamic_granularity: with dynamic, "per-tensor" (default: one runtime
        scale per input tensor, the whole batch) or "per-row" (one per row
        of each dynamic layer's input: per sample, or per token of a
        transformer; docs/NumericSpec.md 8.2c).
    norm_input_bits: 16 gives the inputs of LayerNorms 16 bits (and the
        add that writes them, a position embedding's included; their
        results stay int8, docs/NumericSpec.md 6.5): the remedy for a
        LayerNorm row that spans few int8 steps; 8 (default) keeps int8.
        With dynamic too (spec 8.5) the LayerNorms read the 16-bit
        residual stream (which the Linears, convolutions and concats that
        only its adds read write in 16 bits: a ViT's patch embedding) and
        write their Linears' int32 inputs; with softmax_input_bits=16 and
        dynamic_granularity="per-row" a transformer's most accurate
        dynamic mode.
    norm_input_scales: "per-channel" gives each channel of a LayerNorm
        input its own power-of-two factor of a common scale (FQ-ViT,
        docs/NumericSpec.md 6.6; calibrated per channel): the remedy for a
        few outlier channels; "per-tensor" (default). 8-bit LayerNorm
        inputs only (not with norm_input_bits=16, activation_bits=16 or
        dynamic).
    bias_correction: subtract from each conv / linear / matmul bias the
        mean output shift its weight quantization causes on the calibration
        samples (myquant.bias_correction, docs/NumericSpec.md 1.5; costs a
        numpy float pass over them); int8 weights only (not with dynamic,
        4-bit weights or layer_precision="auto").
    weight_rounding: "nearest" (default: each int8 weight rounded to
        nearest, docs/NumericSpec.md 1.2) or "gptq": the same scales and
        [-127, 127] range, the integers chosen column by column so that
        each conv / linear / matmul's output error on the calibration
        samples is small (GPTQ, myquant.gptq: a numpy float pass over them
        and one inverse of the layer's input Gram matrix per group); a
        compile-time choice, the integer arithmetic at run time is the
        same. int8 weights only, not with bias_correction.
    softmax_input_bits: 16 gives the inputs of Softmaxes 16 bits (and the
        attention score matmuls that write them), and their results 16 bits
        (2^-15) where only attention's A V reads them (int16 x int8
        products; other results keep the fixed 1/256 int8,
        docs/NumericSpec.md 6.4, 6.5); 8 (default) keeps int8.
    int16_range_headroom: each 16-bit value's scale covers this many times
        its calibrated range (1 to 128; default 2, 6 dB of the 48 dB that
        16 bits add over 8), so that inputs beyond the calibration data's
        range do not clip (docs/NumericSpec.md 6.1); 8-bit values do not
        depend on it.
    Returns a QuantizedModel (callable). Bad option values raise
    ValueError."""
    from .export import export
    max_batch = _positive_int(max_batch,
                              "max_batch (the largest batch compiled)")
    allow_float = _flag(allow_float, "allow_float")
    integer_io = _flag(integer_io, "integer_io")
    calibration_batch_size = _positive_int(
        C.DEFAULT_BATCH_SIZE if calibration_batch_size is None else
        calibration_batch_size, "calibration_batch_size")
    batches = C.as_batches(calibration_data, calibration_batch_size,
                           limit=num_samples)
    graph = export(model, batches[0][:1])
    auto = _auto_precision_args(layer_precision, precision_target,
                                weight_bits, group_size, activation_bits,
                                dynamic)
    # Checked before the calibration, which may take long.
    T.ptq_options(rounding, weight_granularity, allow_float=allow_float,
                  keep_float=_keep_float_layers(graph, keep_float,
                                                allow_float),
                  integer_io=integer_io, weight_bits=weight_bits,
                  group_size=group_size, activation_bits=activation_bits,
                  layer_precision=() if auto is not None else
                  _layer_precision(graph, layer_precision),
                  dynamic=_flag(dynamic, "dynamic"),
                  norm_input_bits=norm_input_bits,
                  softmax_input_bits=softmax_input_bits,
                  norm_input_scales=norm_input_scales,
                  dynamic_granularity=dynamic_granularity,
                  int16_range_headroom=int16_range_headroom)
    bias_correction = _flag(bias_correction, "bias_correction")
    if weight_rounding not in G.ROUNDINGS:
        raise ValueError(f"weight_rounding must be one of "
                         f"{', '.join(map(repr, G.ROUNDINGS))}, not "
                         f"{weight_rounding!r}")
    gptq = weight_rounding == "gptq"
    conflict = (bias_correction or gptq) and G.option_conflict(
        bias_correction, gptq,
        auto is None and not dynamic and weight_bits == 8 and not any(
            e.endswith(":w4a8")
            for e in _layer_precision(graph, layer_precision)),
        ("bias_correction", 'weight_rounding="gptq"',
         'dynamic, 4-bit weights or layer_precision="auto"'))
    if conflict:
        raise ValueError(conflict)
    if bias_correction:
        from .bias_correction import correct_biases
        correct_biases(graph, batches, granularity=weight_granularity)
    float_graph = copy.deepcopy(graph) if gptq else None
    if gptq:
        G.round_weights(graph, batches, granularity=weight_granularity,
                        keep=_keep_float_layers(graph, keep_float,
                                                allow_float))
    stats = C.collect_stats(
        graph, batches, method=method, percentile=percentile,
        progress=progress,
        threads=_positive_int(calibration_threads, "calibration_threads"),
        per_channel_norm_inputs=norm_input_scales == "per-channel",
        cache_dir=None if cache_dir is None else
        os.path.join(cache_dir, "calibration"),
        observe_inside_layers=bool(keep_float))
    qmodel = QuantizedModel(graph, stats, rounding=rounding,
                            weight_granularity=weight_granularity,
                            max_batch=max_batch, native=native,
                            cache_dir=cache_dir, allow_float=allow_float,
                            keep_float=keep_float, integer_io=integer_io,
                            weight_bits=weight_bits, group_size=group_size,
                            activation_bits=activation_bits,
                            layer_precision=() if auto is not None else
                            layer_precision, dynamic=dynamic,
                            norm_input_bits=norm_input_bits,
                            softmax_input_bits=softmax_input_bits,
                            norm_input_scales=norm_input_scales,
                            dynamic_granularity=dynamic_granularity,
                            int16_range_headroom=int16_range_headroom,
                            float_graph=float_graph)
    qmodel.auto_precision = None
    if auto is not None:
        from . import precision as P
        auto.setdefault("x", np.concatenate(batches)[:256])
        # Built in the model's directory: the model reuses the verified
        # build of its choice.
        choice = P.search(graph, stats, rounding=rounding,
                          weight_granularity=weight_granularity,
                          max_batch=max_batch, native=native,
                          allow_float=allow_float, keep_float=keep_float,
                          integer_io=integer_io,
                          norm_input_bits=norm_input_bits,
                          softmax_input_bits=softmax_input_bits,
                          int16_range_headroom=int16_range_headroom,
                          cache_dir=qmodel.workdir,
                          **auto)
        four = "w4a8" in choice.assignment.values()
        qmodel.ptq_options.update(
            layer_precision=tuple(choice.layer_precision),
            group_size=auto.get("group_size", 0) if four else 0)
        qmodel.auto_precision = choice
    return qmodel


def _auto_precision_args(layer_precision, precision_target, weight_bits,
                         group_size, activation_bits, dynamic):
    """precision_target's arguments (a new dict) when layer_precision is
    "auto", else None; ValueError for what does not go with it."""
    if not (isinstance(layer_precision, str) and layer_precision == "auto"):
        if precision_target is not None:
            raise ValueError('precision_target needs layer_precision="auto"')
        return None
    if not isinstance(precision_target, dict):
        raise ValueError('layer_precision="auto" needs precision_target, a '
                         'dict with target_sqnr, max_accuracy_drop or '
                         f'size_budget, not {precision_target!r}')
    if weight_bits != 8 or activation_bits != 8 or group_size or dynamic:
        raise ValueError('layer_precision="auto" chooses the bits itself: '
                         'leave weight_bits, activation_bits at 8, dynamic '
                         'off and give the 4-bit group size as '
                         'precision_target\'s group_size')
    from . import precision as P
    # search's own arguments, but those quantize passes itself.
    takes = [n for n in inspect.signature(P.search).parameters
             if n not in ("graph", "stats", "cache_dir", "options")]
    unknown = set(precision_target) - set(takes)
    if unknown:
        raise ValueError(f"precision_target takes {', '.join(takes)}, not "
                         f"{', '.join(sorted(unknown))}")
    return dict(precision_target)
