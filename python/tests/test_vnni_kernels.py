"""The VNNI kernels of convert-myquant-to-vnni against the independent numpy
reference (python/myquant/testing/reference.py), and the generic lowering
on the same cases.

Random myquant.conv2d (dense and depthwise) / myquant.matmul ops with
explicit rescales cover the kernels' edges: K not a multiple of 4, channel counts that are not a
multiple of the vector width, partial pixel tiles, several channel tiles,
strides, dilations, asymmetric padding, NCHW and NHWC, int8 and uint8
activations and results, max pools fused into the epilogue (2 x 2 to 4 x 4
windows; 4 x 4 does not fit avx-vnni's 16 registers and stays unfused),
per-tensor and per-channel weights, both
roundings with shifts from 0 to 62 (gemmlowp left shifts that saturate
included), clamps, a bias at the int32 accumulator bound (which must fall
back to the generic lowering) and dense_resource weights.

Run: /usr/bin/python3 -m pytest -q python/tests/test_vnni_kernels.py
(MYQUANT_BUILD_DIR selects the build)."""

import os

import numpy as np
import pytest

from myquant.emit import dense_hex, tensor_type as _tensor
from myquant.testing import reference as R
from myquant.runtime import CompiledFunction

from conftest import (RUNNABLE_TARGETS, describe_mismatches, executable,
                      run_checked)

NUM_CASES = 48
INT32_MAX = 2**31 - 1


def _act_type(signed, scale, zp):
    return f"!quant.uniform<{'i8' if signed else 'u8'}:f32, {scale}:{zp}>"


def _weight_type(per_channel, axis, count, rng):
    if per_channel:
        scales = ", ".join(f"{s:.6g}" for s in rng.uniform(0.001, 0.02,
                                                            count))
        return f"!quant.uniform<i8<-127:127>:f32:{axis}, {{{scales}}}>"
    return "!quant.uniform<i8<-127:127>:f32, 0.01>"


class Case:
    """One random op: MLIR text, input, reference output."""

    def __init__(self, seed, depthwise=None, dense=None):
        """`depthwise`: (channels, kh, kw, sh, sw, dh, dw, h, w, padding)
        of a depthwise conv instead of the seed's random op; `dense`:
        (channels, filters, kh, kw, sh, sw, dh, dw, h, w, padding, pool) of
        a dense conv followed by a max pool of windows pool x pool (1:
        none)."""
        rng = np.random.default_rng(1000 + seed)
        self.seed = seed
        self.kind = ("depthwise" if depthwise else "conv" if dense else
                     "matmul" if seed % 3 == 2 else
                     "depthwise" if seed % 5 == 1 else "conv")
        self.rounding = "gemmlowp" if seed % 2 else "single"
        signed_in = seed % 5 != 3
        signed_out = seed % 7 != 4
        per_channel = seed % 4 != 1
        resource = seed % 6 == 5
        qmin_in, qmax_in = (-128, 127) if signed_in else (0, 255)
        qmin_out, qmax_out = (-128, 127) if signed_out else (0, 255)
        zx = int(rng.integers(qmin_in, qmax_in + 1))
        zo = int(rng.integers(qmin_out, qmax_out + 1))
        if rng.random() < 0.3:
            lo = int(rng.integers(qmin_out, zo + 1))
            hi = int(rng.integers(max(lo, zo), qmax_out + 1))
        else:
            lo, hi = qmin_out, qmax_out
        self.clamp = (lo, hi)

        if self.kind != "matmul":
            self.layout = "nhwc" if seed % 4 == 3 else "nchw"
            n = int(rng.integers(1, 3))
            c = int(rng.choice([1, 3, 4, 5, 8, 13, 32]))
            f = int(rng.choice([1, 4, 10, 16, 17, 33, 64, 80]))
            groups = 1
            if self.kind == "depthwise":
                c = f = groups = int(rng.choice([1, 7, 16, 24, 40]))
            kh, kw = (int(v) for v in rng.choice([1, 2, 3, 5], 2))
            sh, sw = (int(v) for v in rng.choice([1, 1, 2, 3], 2))
            dh, dw = (int(v) for v in rng.choice([1, 1, 2], 2))
            pad = [int(v) for v in rng.integers(0, 3, 4)]
            # About a third of the dense convs (unsigned results among
            # them) are followed by a max pool whose windows tile the result.
            pooled = seed % 8 in (0, 3) or seed % 7 == 4
            self.pool = (int(rng.choice([2, 3, 4]))
                         if self.kind == "conv" and pooled else 1)
            if self.pool > 1:
                # Padding below the window's extent: the input then has
                # (oh - 1) * sh + span rows for any chosen oh.
                pad[0] = min(pad[0], dh * (kh - 1))
                pad[2] = min(pad[2], dh * (kh - 1) - pad[0])
                pad[1] = min(pad[1], dw * (kw - 1))
                pad[3] = min(pad[3], dw * (kw - 1) - pad[1])
                span_h = dh * (kh - 1) + 1 - pad[0] - pad[2]
                span_w = dw * (kw - 1) + 1 - pad[1] - pad[3]
                oh = self.pool * int(rng.integers(1, 4))
                ow = self.pool * int(rng.integers(1, 8))
                h = (oh - 1) * sh + span_h
                w = (ow - 1) * sw + span_w
            else:
                h = int(rng.integers(max(1, dh * (kh - 1) + 1 - pad[0]
                                         - pad[2]), 14))
                w = int(rng.integers(max(1, dw * (kw - 1) + 1 - pad[1]
                                         - pad[3]), 30))
            if depthwise:
                c, kh, kw, sh, sw, dh, dw, h, w, pad = depthwise
                f = groups = c
            if dense:
                c, f, kh, kw, sh, sw, dh, dw, h, w, pad, self.pool = dense
            x = rng.integers(qmin_in, qmax_in + 1, (n, c, h, w))
            wq = rng.integers(-127, 128, (f, c // groups, kh, kw))
            k = c // groups * kh * kw
            channels = f
        else:
            self.pool = 1
            self.transpose = bool(seed % 4 == 0)
            m = int(rng.integers(1, 40))
            k = int(rng.choice([1, 3, 4, 7, 16, 64, 130]))
            channels = int(rng.choice([1, 5, 10, 16, 31, 64, 100]))
            x = rng.integers(qmin_in, qmax_in + 1, (m, k))
            wq = rng.integers(-127, 128, (k, channels))

        bias = rng.integers(-3000, 3000, channels)
        # Weight sums per output channel, for the accumulator bound.
        wsum = (np.abs(wq).reshape(channels, -1).sum(axis=1)
                if self.kind != "matmul"
                else np.abs(wq).sum(axis=0))
        if seed == 7:
            # One channel beyond NumericSpec's int32 bound: the kernel must
            # leave this op to the generic lowering (same results).
            bias[0] = INT32_MAX - 255 * int(wsum[0]) + 1
        self.fallback = seed == 7

        # Multipliers: shifts around the accumulator's magnitude, plus
        # extreme ones.
        nres = channels if per_channel else 1
        typical = 127.0 * 100 * np.sqrt(k) + 1
        base = int(np.clip(np.round(np.log2(typical / 40)) + 31, 0, 62))
        m0s = rng.integers(2**30, 2**31, nres)
        shifts = np.clip(base + rng.integers(-3, 4, nres), 0, 62)
        extremes = [0, 1, 15, 30, 31, 32, 40, 62]
        for i in range(nres):
            if rng.random() < 0.15:
                shifts[i] = extremes[int(rng.integers(len(extremes)))]
        if rng.random() < 0.2:
            m0s[0] = 1  # tiny multiplier

        rescale = (f"#myquant.rescale<multiplier = "
                   f"[{', '.join(str(int(v)) for v in m0s)}], shift = "
                   f"[{', '.join(str(int(v)) for v in shifts)}], "
                   f"rounding = {self.rounding}>")
        clamp = f"#myquant.clamp<{lo}, {hi}>"
        qx = _act_type(signed_in, 0.05, zx)
        qy = _act_type(signed_out, 0.1, zo)
        store = np.int8 if signed_in else np.uint8

        if self.kind != "matmul":
            if self.layout == "nchw":
                xin, wconst, axis = x, wq, 0
            else:
                xin = x.transpose(0, 2, 3, 1)
                wconst, axis = wq.transpose(2, 3, 1, 0), 3
            oh = (h + pad[0] + pad[2] - dh * (kh - 1) - 1) // sh + 1
            ow = (w + pad[1] + pad[3] - dw * (kw - 1) - 1) // sw + 1
            out_shape = ((n, f, oh, ow) if self.layout == "nchw"
                         else (n, oh, ow, f))
            attrs = (f"strides = array<i64: {sh}, {sw}>, padding = "
                     f"array<i64: {', '.join(map(str, pad))}>, dilations = "
                     f"array<i64: {dh}, {dw}>, groups = {groups} : i64, "
                     f"layout = "
                     f"#myquant.layout<{self.layout}>")
            fn = R.conv2d_nchw if self.layout == "nchw" else R.conv2d_nhwc
            wref = wq if self.layout == "nchw" else wconst
            self.want = fn(xin, zx, wref, bias, m0s, shifts, zo, lo, hi,
                           stride=(sh, sw), padding=pad,
                           dilation=(dh, dw), groups=groups,
                           rounding=self.rounding)
            op = "myquant.conv2d"
            k = self.pool
            if k > 1:
                assert oh % k == 0 and ow % k == 0, (oh, ow, k)
                want = np.asarray(self.want)
                if self.layout == "nchw":
                    self.want = want.reshape(n, f, oh // k, k, ow // k,
                                             k).max(axis=(3, 5))
                else:
                    self.want = want.reshape(n, oh // k, k, ow // k, k,
                                             f).max(axis=(2, 4))
        else:
            wconst = wq.T if self.transpose else wq
            axis = 0 if self.transpose else 1
            xin = x
            out_shape = (x.shape[0], channels)
            attrs = "transpose_rhs" if self.transpose else ""
            self.want = R.matmul(x, zx, wconst, 0, bias, m0s, shifts, zo, lo,
                                 hi, transpose_rhs=self.transpose,
                                 rounding=self.rounding)
            op = "myquant.matmul"

        self.x = np.ascontiguousarray(xin.astype(store)).view(np.int8)
        self.want = np.asarray(self.want).astype(
            np.int8 if signed_out else np.uint8).view(np.int8)
        wconst = np.ascontiguousarray(wconst.astype(np.int8))
        qw = _weight_type(per_channel, axis, channels, rng)
        xt, wt = _tensor(xin.shape, "i8"), _tensor(wconst.shape, "i8")
        final_shape = self.want.shape
        yt = _tensor(final_shape, "i8")
        bt = _tensor((channels,), "i32")
        if resource:
            wlit = "dense_resource<w>"
            blob = "0x01000000" + wconst.tobytes().hex().upper()
            tail = ('{-#\n  dialect_resources: {\n    builtin: {\n      w: "'
                    + blob + '"\n    }\n  }\n#-}\n')
        else:
            wlit, tail = dense_hex(wconst, np.int8), ""
        sep = ", " if attrs else ""
        k = self.pool
        pool, result = "", "%y"
        if k > 1:
            result = "%r"
            pool = (f"%r = myquant.max_pool2d %y {{kernel = array<i64: {k}, "
                    f"{k}>, strides = array<i64: {k}, {k}>, padding = "
                    f"array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, "
                    f"layout = #myquant.layout<{self.layout}>}} : "
                    f"{_tensor(out_shape, qy)} -> "
                    f"{_tensor(final_shape, qy)}")
        self.mlir = f"""
func.func @f(%x: {xt}) -> {yt} {{
  %xq = quant.scast %x : {xt} to {_tensor(xin.shape, qx)}
  %wi = arith.constant {wlit} : {wt}
  %w = quant.scast %wi : {wt} to {_tensor(wconst.shape, qw)}
  %b = arith.constant dense<[{', '.join(str(int(v)) for v in bias)}]> : {bt}
  %y = {op} %xq, %w, %b {{{attrs}{sep}rescale = {rescale}, clamp = {clamp}}}
      : ({_tensor(xin.shape, qx)}, {_tensor(wconst.shape, qw)}, {bt})
      -> {_tensor(out_shape, qy)}
  {pool}
  %yi = quant.scast {result} : {_tensor(final_shape, qy)} to {yt}
  return %yi : {yt}
}}
""" + tail


# Depthwise shape classes of the column-sharing kernel (channels, kh, kw,
# sh, sw, dh, dw, h, w, padding): MobileNet's 3 x 3 at stride 1 and 2 over
# several pixel tiles (16 pixels on avx512-vnni) and a partial last one,
# 5 x 5 with dilation, an even and a single filter row (the odd last row is
# widened alone), a single column.
DEPTHWISE = [
    (24, 3, 3, 1, 1, 1, 1, 5, 40, [1, 1, 1, 1]),
    (40, 3, 3, 2, 2, 1, 1, 7, 37, [0, 1, 1, 0]),
    (16, 5, 5, 1, 1, 1, 1, 6, 21, [2, 2, 2, 2]),
    (17, 5, 5, 2, 1, 2, 2, 12, 19, [4, 4, 0, 1]),
    (7, 2, 2, 1, 1, 1, 1, 4, 18, [0, 0, 1, 1]),
    (33, 1, 3, 3, 3, 1, 2, 3, 31, [0, 2, 0, 2]),
    (16, 4, 1, 1, 2, 2, 1, 9, 33, [1, 0, 2, 0]),
]


# Dense convolutions of 1 to 3 input channels that run over their patches
# (im2col, KernelProblem.h's Problem::Patches) (channels, filters, kh, kw,
# sh, sw, dh, dw, h, w, padding, pool): resnet's 7 x 7 / 2 first layer,
# partial channel blocks and pixel tiles, the widest filter row (8 taps) at
# stride 3, a dilated single-channel 5 x 5, asymmetric padding, a fused
# 2 x 2 pool (patches of two rows per tile); a 3 x 3 three-channel layer of
# 32 filters stays on the 4-channel kernel.
PATCHES = [
    (3, 64, 7, 7, 2, 2, 1, 1, 23, 29, [3, 3, 3, 3], 1),
    (3, 33, 7, 7, 2, 2, 1, 1, 16, 41, [3, 2, 3, 1], 1),
    (2, 40, 3, 8, 1, 3, 1, 1, 9, 40, [1, 0, 1, 4], 1),
    (1, 16, 5, 5, 1, 1, 2, 1, 12, 20, [2, 2, 2, 2], 1),
    (3, 80, 5, 5, 2, 1, 1, 1, 11, 17, [0, 2, 1, 0], 1),
    (1, 32, 5, 5, 1, 1, 1, 1, 12, 20, [2, 2, 2, 2], 2),
    (3, 32, 3, 3, 2, 2, 1, 1, 15, 15, [1, 1, 1, 1], 1),
]


def _run(cmd):
    return run_checked(cmd)[0]


# myquant-run JIT-compiles for the host CPU; a shared library from
# myquant-compile is built for a generic x86-64 CPU plus each kernel's
# features. LLVM's code differs between the two, and whether a miscompile
# shows can too (LLVM 22's single-lane masked stores: Problem::channelEnd in
# include/myquant/Conversion/MyQuantToVnni/KernelProblem.h). The kernel
# targets run both ways.
RUNS = [(target, "jit") for target in RUNNABLE_TARGETS] + [
    (target, "shared") for target in RUNNABLE_TARGETS if target != "generic"]


@pytest.mark.parametrize("target,runner", RUNS)
@pytest.mark.parametrize("seed", range(NUM_CASES))
def test_kernel_bit_exact(seed, target, runner, toolchain, workdir):
    _check_case(Case(seed), target, runner, toolchain, workdir)


@pytest.mark.parametrize("target", ["avx512-vnni", "avx512-vnni-256",
                                    "avx-vnni"])
@pytest.mark.parametrize("index", range(len(DEPTHWISE)))
def test_depthwise_bit_exact(index, target, toolchain, workdir):
    if target not in RUNNABLE_TARGETS:
        pytest.skip(f"{target} does not run here")
    _check_case(Case(NUM_CASES + index, DEPTHWISE[index]), target, "jit",
                toolchain, workdir)


@pytest.mark.parametrize("target,runner",
                         [("avx512-vnni", "jit"), ("avx512-vnni", "shared"),
                          ("avx512-vnni-256", "jit"), ("avx-vnni", "jit")])
@pytest.mark.parametrize("index", range(len(PATCHES)))
def test_patches_bit_exact(index, target, runner, toolchain, workdir):
    if target not in RUNNABLE_TARGETS:
        pytest.skip(f"{target} does not run here")
    case = Case(NUM_CASES + len(DEPTHWISE) + index, dense=PATCHES[index])
    _check_case(case, target, runner, toolchain, workdir)


def _check_case(case, target, runner, toolchain, workdir):
    seed = case.seed
    src = os.path.join(workdir, "op.mlir")
    with open(src, "w") as f:
        f.write(case.mlir)
    # The target's kernels, then the generic lowering of the rest (so that
    # myquant-run's default target does not matter).
    kernels = _run([toolchain.opt, src,
                    f"--convert-myquant-to-vnni=target={target}"])
    took_kernel = "vector.multi_reduction" in kernels
    assert took_kernel == (target != "generic" and not case.fallback), \
        f"case {seed}: kernel path taken: {took_kernel}"
    # A pool fuses when its smallest tile, one window of accumulators, the
    # weights, the broadcast and the flip mask fit in the registers.
    registers = 16 if target == "avx-vnni" else 32
    fusable = took_kernel and case.pool**2 + 3 <= registers
    assert ("myquant.max_pool2d" in kernels) == (case.pool > 1 and
                                                 not fusable), \
        f"case {seed}: {case.pool} x {case.pool} pool fused: {fusable}"
    with open(src, "w") as f:
        f.write(kernels)
    lowered = _run([toolchain.opt, src, "--convert-myquant-to-linalg"])
    with open(src, "w") as f:
        f.write(executable(lowered, target))
    if runner == "jit":
        [got] = toolchain.run_file(src, "f", [case.x], workdir)
    else:
        lib = os.path.join(workdir, "f.so")
        _run([toolchain.compile, src, "--function=f", "--shared", "-o", lib])
        [got] = CompiledFunction(lib, "f", [case.x.shape],
                                 [case.want.shape], [np.int8],
                                 [np.int8])(case.x)
    assert got.shape == case.want.shape
    if not np.array_equal(got, case.want):
        pytest.fail(f"case {seed} ({case.kind}, {target}, {runner}, "
                    f"{case.rounding}) "
                    f"against the reference: "
                    f"{describe_mismatches(got, case.want)}", pytrace=False)
