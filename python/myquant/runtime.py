"""Calling a function compiled by ``myquant-compile --shared`` through ctypes.

The C interface (see the generated header) is
``void _mlir_ciface_NAME(results, in_descriptor *...)`` where a descriptor is
``{T *allocated; T *aligned; int64 offset; int64 sizes[R]; int64 strides[R]}``
and ``results`` is one descriptor (one result) or a struct of descriptors
(several). Result buffers are malloc'ed and owned by the caller: they are
copied into numpy arrays and freed here (each distinct ``allocated`` pointer
once; results may share a buffer).
"""

import ctypes

import numpy as np

__all__ = ["CompiledFunction"]

_DTYPES = {np.dtype(np.float32): ctypes.c_float,
           np.dtype(np.int8): ctypes.c_int8,
           np.dtype(np.uint8): ctypes.c_uint8,
           np.dtype(np.int32): ctypes.c_int32}

_memref_types = {}


def _memref_type(rank, ctype):
    key = (rank, ctype)
    if key not in _memref_types:
        fields = [("allocated", ctypes.POINTER(ctype)),
                  ("aligned", ctypes.POINTER(ctype)),
                  ("offset", ctypes.c_int64)]
        if rank:
            fields += [("sizes", ctypes.c_int64 * rank),
                       ("strides", ctypes.c_int64 * rank)]
        _memref_types[key] = type(f"memref_{rank}d_{ctype.__name__}",
                                  (ctypes.Structure,), {"_fields_": fields})
    return _memref_types[key]


_libc = ctypes.CDLL(None)
_libc.free.argtypes = [ctypes.c_void_p]
_libc.free.restype = None


class CompiledFunction:
    """One compiled function with static input and result shapes.

    f = CompiledFunction(lib_path, "forward", [(1, 1, 28, 28)], [(1, 10)])
    [y] = f(x)
    """

    def __init__(self, lib_path, func_name, input_shapes, result_shapes,
                 input_dtypes=None, result_dtypes=None):
        self.lib = ctypes.CDLL(lib_path)
        self.func_name = func_name
        self.input_shapes = [tuple(s) for s in input_shapes]
        self.result_shapes = [tuple(s) for s in result_shapes]
        self.input_dtypes = [np.dtype(d) for d in
                             (input_dtypes or [np.float32] *
                              len(self.input_shapes))]
        self.result_dtypes = [np.dtype(d) for d in
                              (result_dtypes or [np.float32] *
                               len(self.result_shapes))]
        self.fn = getattr(self.lib, f"_mlir_ciface_{func_name}")
        self.fn.restype = None
        self.in_types = [_memref_type(len(s), _DTYPES[d]) for s, d in
                         zip(self.input_shapes, self.input_dtypes)]
        self.out_types = [_memref_type(len(s), _DTYPES[d]) for s, d in
                          zip(self.result_shapes, self.result_dtypes)]
        if len(self.out_types) == 1:
            self.results_type = self.out_types[0]
        else:
            self.results_type = type(
                "results", (ctypes.Structure,),
                {"_fields_": [(f"r{i}", t)
                              for i, t in enumerate(self.out_types)]})

    def __call__(self, *inputs):
        if len(inputs) != len(self.input_shapes):
            raise ValueError(f"{self.func_name} takes {len(self.input_shapes)}"
                             f" inputs, got {len(inputs)}")
        descs, keep = [], []
        for x, shape, dt, t in zip(inputs, self.input_shapes,
                                   self.input_dtypes, self.in_types):
            x = np.ascontiguousarray(x, dtype=dt)
            if x.shape != shape:
                raise ValueError(f"{self.func_name}: input shape "
                                 f"{x.shape} != compiled shape {shape}")
            keep.append(x)
            d = t()
            ptr = x.ctypes.data_as(type(d.allocated))
            d.allocated, d.aligned, d.offset = ptr, ptr, 0
            strides = [s // x.itemsize for s in x.strides]
            for i, (n, s) in enumerate(zip(shape, strides)):
                d.sizes[i], d.strides[i] = n, s
            descs.append(d)
        res = self.results_type()
        self.fn(ctypes.byref(res), *[ctypes.byref(d) for d in descs])
        mems = [res] if len(self.out_types) == 1 else \
            [getattr(res, f"r{i}") for i in range(len(self.out_types))]
        in_ptrs = {x.ctypes.data for x in keep}
        outs, to_free = [], []
        try:
            for m, shape, dt in zip(mems, self.result_shapes,
                                    self.result_dtypes):
                outs.append(self._copy_out(m, shape, dt))
                p = ctypes.cast(m.allocated, ctypes.c_void_p).value
                if p and p not in in_ptrs and p not in to_free:
                    to_free.append(p)
        finally:
            for p in to_free:
                _libc.free(p)
        return outs

    @staticmethod
    def _copy_out(m, shape, dt):
        rank = len(shape)
        sizes = tuple(m.sizes[i] for i in range(rank)) if rank else ()
        if sizes != shape:
            raise RuntimeError(f"result shape {sizes} != expected {shape}")
        strides = [m.strides[i] for i in range(rank)] if rank else []
        if any(s < 0 for s in strides):
            raise RuntimeError("negative result strides are not supported")
        extent = m.offset + sum((n - 1) * s for n, s in zip(sizes, strides)) \
            + 1 if all(sizes) else 0
        if extent == 0:
            return np.zeros(shape, dt)
        base = ctypes.cast(m.aligned, ctypes.c_void_p).value
        buf = (ctypes.c_char * (extent * dt.itemsize)).from_address(base)
        flat = np.frombuffer(buf, dtype=dt, count=extent)
        view = np.lib.stride_tricks.as_strided(
            flat[m.offset:], shape=sizes,
            strides=[s * dt.itemsize for s in strides])
        return np.array(view, copy=True)
