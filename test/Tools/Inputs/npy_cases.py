"""Writes the .npy inputs of myquant-run.mlir and what the results must be.

    npy_cases.py PYTHON_DIR OUT_DIR   write inputs, NAME.expected<i>.npy and
                                      NAME.check (FileCheck lines for --print)
    npy_cases.py --compare A B        fail unless A and B hold the same array

Expected values come from numpy and python/myquant/testing/reference.py (found in
PYTHON_DIR), never from the compiler under test.
"""

import os
import sys

import numpy as np


def format_array(a):
    """The text myquant-run --print writes for `a`."""
    def elem(v):
        return "%g" % float(v) if a.dtype.kind == "f" else str(int(v))

    def rec(sub, dim):
        if sub.ndim == 0:
            return elem(sub)
        if sub.ndim == 1:
            return "[" + ", ".join(elem(v) for v in sub) + "]"
        sep = ",\n" + " " * (dim + 1)
        return "[" + sep.join(rec(s, dim + 1) for s in sub) + "]"

    return rec(a, 0)


def type_name(a):
    elem = {"float32": "f32", "float64": "f64", "int8": "i8", "int32": "i32",
            "int64": "i64"}[a.dtype.name]
    return "tensor<" + "".join("%dx" % d for d in a.shape) + elem + ">"


def write_case(out, name, results):
    lines = []
    for i, r in enumerate(results):
        np.save(os.path.join(out, "%s.expected%d.npy" % (name, i)), r)
        lines.append("CHECK-LABEL: result[%d]: %s" % (i, type_name(r)))
        for text in format_array(r).split("\n"):
            # '[[' would start a FileCheck variable.
            text = text.replace("[", "{{\\[}}").replace("]", "{{\\]}}")
            lines.append("CHECK-NEXT: " + text)
    with open(os.path.join(out, name + ".check"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main(python_dir, out):
    sys.path.insert(0, python_dir)
    from myquant.testing import reference as ref

    save = lambda name, a: np.save(os.path.join(out, name), a)

    # Float linalg: halves and small integers keep every sum exact.
    a = (np.arange(6, dtype=np.float32) / 2).reshape(2, 3)
    b = (np.arange(12, dtype=np.float32) - 5).reshape(3, 4)
    c = np.array([0.5, 1, 2, -4], np.float64)
    save("a.npy", a), save("b.npy", b), save("c.npy", c)
    write_case(out, "matmul_bias", [a @ b + c.astype(np.float32)])

    # Integers, dynamic and rank-0 shapes, several results.
    i8 = np.array([-128, -3, 0, 5, 127], np.int8)
    i64 = np.array(123456789012, np.int64)
    save("i8.npy", i8), save("i64.npy", i64)
    write_case(out, "ints", [i8.astype(np.int32) ** 2, i64, i8])

    # The myquant model: quantize, int8 conv2d, dequantize (NumericSpec).
    x = np.array([[[[0.1, 0.2, -0.3, 0.4], [1.0, -1.0, 0.5, 0.25],
                    [0.0, 0.7, -0.8, 0.9], [1.5, 2.5, -2.5, 3.0]],
                   [[0.3, 0.2, 0.1, 0.0], [-0.1, -0.2, -0.3, -0.4],
                    [1.1, 1.2, 1.3, 1.4], [-5.0, 5.0, 12.0, -13.0]]]],
                 np.float32)
    w = np.array([[[[1, -2, 3], [4, 5, -6], [7, 8, 9]],
                   [[-1, 2, -3], [4, -5, 6], [-7, 8, -9]]],
                  [[[10, 20, 30], [-40, 50, 60], [70, -80, 90]],
                   [[1, 1, 1], [1, 1, 1], [1, 1, -127]]]], np.int8)
    sx, zx, sw, sy, zy = 0.1, -4, [0.01, 0.02], 0.05, 3
    xq = ref.quantize(x, sx, zx)
    m0, shift = ref.quantize_multipliers([sx * s / sy for s in sw])
    yq = ref.conv2d_nchw(xq, zx, w, [100, -200], m0, shift, zy, -128, 127,
                         padding=1)
    save("x.npy", x)
    write_case(out, "model", [ref.dequantize(yq, sy, zy)])

    # Inputs that must be rejected.
    save("x_f64.npy", x.astype(np.float64))
    save("x_shape.npy", np.zeros((1, 2, 4, 5), np.float32))
    save("x_fortran.npy", np.asfortranarray(x))
    save("x_big_endian.npy", x.astype(">f4"))
    with open(os.path.join(out, "x_v3.npy"), "wb") as f:
        np.lib.format.write_array(f, x, version=(3, 0))
    with open(os.path.join(out, "x.npy"), "rb") as f:
        data = f.read()
    with open(os.path.join(out, "x_truncated.npy"), "wb") as f:
        f.write(data[:-4])


if __name__ == "__main__":
    if sys.argv[1] == "--compare":
        have, want = np.load(sys.argv[2]), np.load(sys.argv[3])
        if have.dtype != want.dtype or not np.array_equal(have, want):
            sys.exit("%s differs from %s:\n%r\n%r" % (sys.argv[2], sys.argv[3],
                                                     have, want))
    else:
        main(sys.argv[1], sys.argv[2])
