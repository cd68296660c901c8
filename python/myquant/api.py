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
"""

import os
import shutil
import tempfile

import numpy as np

from . import calibrate as C
from . import emit as E
from . import tools as T
from .runtime import CompiledFunction

__all__ = ["QuantizedModel", "quantize"]


def _is_torch(x):
    return type(x).__module__.startswith("torch")


class QuantizedModel:
    """A calibrated float graph and its compiled int8 libraries.

    graph: emit.Model (float, BatchNorm folded; any batch size);
    stats: value name -> (min, max)."""

    def __init__(self, graph, stats, rounding="single",
                 weight_granularity="per-channel", max_batch=64,
                 native=True):
        T.ptq_options(rounding, weight_granularity)  # validates
        self.graph, self.stats = graph, stats
        self.rounding = rounding
        self.weight_granularity = weight_granularity
        self.max_batch = int(max_batch)
        self.native = native
        self._tmp = tempfile.TemporaryDirectory(prefix="myquant-")
        self._cache = {}
        self.remarks = ""

    # -- lifecycle ---------------------------------------------------------

    @property
    def workdir(self):
        if self._tmp is None:
            raise RuntimeError("the model was closed")
        return self._tmp.name

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
        return E.emit(self.graph.with_batch(batch), outputs=outputs,
                      weights=weights)

    def annotated_mlir(self, batch=1, outputs=None, weights="dense"):
        """The float model annotated with myquant.stats (the input of
        myquant-opt --myquant-ptq)."""
        return E.emit(self.graph.with_batch(batch), self.stats,
                      outputs=outputs, weights=weights)

    def quantized_mlir(self, batch=1, outputs=None):
        """The int8 model (after myquant-ptq) as MLIR text."""
        path, _ = self._quantize_file(batch, outputs, "q")
        with open(path) as f:
            return f.read()

    def _quantize_file(self, batch, outputs, tag, stats=True):
        d = os.path.join(self.workdir, f"{tag}{batch}")
        os.makedirs(d, exist_ok=True)
        src = os.path.join(d, "model.mlir")
        g = self.graph.with_batch(batch)
        with open(src, "w") as f:
            f.write(E.emit(g, self.stats if stats else None,
                           outputs=outputs))
        if not stats:
            return src, g
        out = os.path.join(d, "model.q.mlir")
        self.remarks = T.ptq(src, out, rounding=self.rounding,
                             weight_granularity=self.weight_granularity)
        return out, g

    # -- compiled functions ------------------------------------------------

    def compiled(self, batch, outputs=None, quantized=True):
        """The CompiledFunction for a batch size (compiled on first use).
        outputs: value names to return (default: the model output);
        quantized=False compiles the float model instead."""
        key = (int(batch), None if outputs is None else tuple(outputs),
               bool(quantized))
        if key not in self._cache:
            tag = ("q" if quantized else "f") + \
                ("" if outputs is None else f"v{len(self._cache)}_")
            src, g = self._quantize_file(batch, outputs, tag,
                                         stats=quantized)
            d = os.path.dirname(src)
            lib = os.path.join(d, "libmodel.so")
            T.compile_shared(src, lib, header_path=os.path.join(d, "model.h"),
                             native=self.native)
            outs = [g.output] if outputs is None else list(outputs)
            self._cache[key] = CompiledFunction(
                lib, "forward", [g.input_shape], [g.shapes[o] for o in outs])
        return self._cache[key]

    def _run(self, x, outputs=None, quantized=True):
        as_torch = _is_torch(x)
        if as_torch:
            x = x.detach().cpu().numpy()
        x = np.ascontiguousarray(np.asarray(x, np.float32))
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
        BatchNorm-folded model; int8 counts 1-byte weights and 4-byte
        biases."""
        f = q = 0
        for layer in self.graph.layers:
            w = getattr(layer, "w", None)
            if w is None:
                continue
            b = getattr(layer, "b", None)
            nb = 0 if b is None else b.size
            f += 4 * (w.size + nb)
            q += w.size + 4 * nb
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


def quantize(model, calibration_data, method="minmax", rounding="single",
             weight_granularity="per-channel", max_batch=64,
             num_samples=None, percentile=99.99, progress=False,
             native=True):
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
    native: compile with -march=native.
    Returns a QuantizedModel (callable)."""
    from .export import export
    batches = C.as_batches(calibration_data, max_batch, limit=num_samples)
    graph = export(model, batches[0][:1])
    stats = C.collect_stats(graph, batches, method=method,
                            percentile=percentile, progress=progress)
    return QuantizedModel(graph, stats, rounding=rounding,
                          weight_granularity=weight_granularity,
                          max_batch=max_batch, native=native)
