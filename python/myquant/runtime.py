"""Calling a function compiled by ``myquant-compile --shared`` through ctypes.

The C interface (see the generated header) is
``void _mlir_ciface_NAME(results, in_descriptor *...)`` where a descriptor is
``{T *allocated; T *aligned; int64 offset; int64 sizes[R]; int64 strides[R]}``
and ``results`` is one descriptor (one result) or a struct of descriptors
(several). Result buffers are malloc'ed and owned by the caller: they are
copied into numpy arrays and freed here (each distinct ``allocated`` pointer
once; results may share a buffer).

Compiled with ``--static-memory`` (``arena_size`` given), the function uses
no heap: ``void _mlir_ciface_NAME(in..., result..., arena)`` fills result
buffers that numpy allocates here and uses an arena of ``arena_size``
bytes aligned to ``arena_alignment`` (the header's NAME_ARENA_SIZE and
NAME_ARENA_ALIGNMENT) for its temporaries.
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
                 input_dtypes=None, result_dtypes=None, arena_size=None,
                 arena_alignment=64):
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
        self.arena_size = arena_size
        self.arena_alignment = arena_alignment
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

    @staticmethod
    def _descriptor(x, t):
        """The descriptor of type t of the contiguous array x."""
        d = t()
        ptr = x.ctypes.data_as(type(d.allocated))
        d.allocated, d.aligned, d.offset = ptr, ptr, 0
        for i, (n, s) in enumerate(zip(x.shape, x.strides)):
            d.sizes[i], d.strides[i] = n, s // x.itemsize
        return d

    def new_arena(self):
        """A zeroed uint8 array of arena_size bytes at an address aligned to
        arena_alignment (static memory)."""
        a = self.arena_alignment
        buf = np.zeros(self.arena_size + a, np.uint8)
        start = -buf.ctypes.data % a
        return buf[start:start + self.arena_size]

    def __call__(self, *inputs, arena=None):
        """Calls the function on inputs; with static memory, arena (an
        array from new_arena, whose contents do not matter) or a new one."""
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
            descs.append(self._descriptor(x, t))
        if self.arena_size is not None:
            return self._call_static(descs, arena)
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

    def _call_static(self, descs, arena):
        if arena is None:
            arena = self.new_arena()
        if arena.dtype != np.uint8 or arena.shape != (self.arena_size,) or \
                arena.ctypes.data % self.arena_alignment or \
                not arena.flags.c_contiguous:
            raise ValueError(f"{self.func_name}: the arena must be a "
                             f"contiguous uint8 array of {self.arena_size} "
                             f"bytes aligned to {self.arena_alignment}")
        outs = [np.empty(shape, dt) for shape, dt in
                zip(self.result_shapes, self.result_dtypes)]
        descs += [self._descriptor(y, t) for y, t in zip(outs, self.out_types)]
        descs.append(self._descriptor(arena, _memref_type(1, ctypes.c_uint8)))
        self.fn(*[ctypes.byref(d) for d in descs])
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
