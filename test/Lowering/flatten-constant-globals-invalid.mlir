// RUN: myquant-opt %s -split-input-file -verify-diagnostics --myquant-flatten-constant-globals

// A splat of 4 x (2^40 + 1) elements is small in the IR, but the
// translation to LLVM writes out each element: calibrating such a model ran
// out of memory there (found by python/myquant/testing/mutate.py).
// expected-error @+1 {{constant of 4398046511108 elements; at most 1073741824 are supported (the object holds each one)}}
memref.global "private" constant @huge : memref<4x1099511627777xf32> = dense<5.000000e-01>

// -----

// A non-constant global is not written out element by element.
memref.global "private" @state : memref<4x1099511627777xf32> = uninitialized
