"""Compiled pieces of a split step (imported through :func:`guinn.core.split.crew_kernels`;
importing this module imports Numba).

A helper thread runs :func:`loop` from start to end of a ``fit`` without ever taking the GIL:
it waits for a phase number, runs its part's operations for that phase (matrix products
through OpenBLAS's CBLAS entry point, the optimizer step), and reports back. The
calling thread runs its own part through :func:`run_ops`. With Python code in the helper,
every hand-over of the GIL between the two threads cost ~20 us on a virtual machine, more
than many of the phases themselves.

An operation is one row of int64s: ``(GEMM, trans_a, trans_b, m, n, k, a, lda, b, ldb, c,
ldc)`` for ``c = op(a) @ op(b)`` (row-major, addresses of the arrays' first elements);
``(STEP,)``: the optimizer step on this part's runs, applied; ``(GATHER, x, row length,
indices, count, out)``: rows ``x[indices]`` into ``out``, the next shuffled batch, fetched
while the caller finishes the step.
"""

from __future__ import annotations

import ctypes

import numpy as np
from numba import carray, njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from guinn.core import _kernels, _spin, blas_threads

GEMM, STEP, GATHER = 1, 2, 3
ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112
WIDTH = 12  # int64s per operation
QUIT = -1  # phase number that ends the helper's loop
# ctrl: [optimizer kind, -, phase of even hand-overs, phase of odd ones]. Two slots because
# the caller may hand over a phase while a helper still gathers the next batch (the previous
# hand-over): a single slot could be overwritten before the helper has read it.
KIND, PHASES = 0, 2


@intrinsic
def _address(typingctx, value):
    """An int64 address as a void pointer, to view memory with ``numba.carray``."""
    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], cgutils.voidptr_t)

    return types.voidptr(types.int64), codegen


def gemm_function(dtype):
    """NumPy's OpenBLAS ``cblas_sgemm``/``cblas_dgemm`` as a typed ctypes function, or None."""
    name = "cblas_sgemm" if np.dtype(dtype) == np.float32 else "cblas_dgemm"
    found = blas_threads.symbol_named(name)
    if found is None:
        return None
    fn, full_name = found
    wide = blas_threads.int64_sizes()
    if wide != full_name.endswith("64_"):  # the name and the build disagree: do not guess
        return None
    index = ctypes.c_int64 if wide else ctypes.c_int
    real = ctypes.c_float if np.dtype(dtype) == np.float32 else ctypes.c_double
    ptr = ctypes.c_void_p
    fn.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, index, index, index, real, ptr, index, ptr, index,
                   real, ptr, index]
    fn.restype = None
    return fn


def build(dtype):
    """(run_ops, loop) compiled for ``dtype``, or None when no CBLAS entry point is found."""
    gemm = gemm_function(dtype)
    if gemm is None:
        return None
    dt = np.dtype(dtype).type
    one, zero, itemsize = dt(1), dt(0), np.dtype(dtype).itemsize
    optimizer_step, wait_for = _kernels.optimizer_step, _spin.wait_for

    @njit(nogil=True, cache=False)
    def gather(o):
        length, count = o[2], o[4]
        rows = carray(_address(o[3]), (count,), np.int64)
        out = carray(_address(o[5]), (count, length), dt)
        for i in range(count):
            out[i] = carray(_address(o[1] + rows[i] * length * itemsize), (length,), dt)

    @njit(nogil=True, cache=False)  # calls a ctypes function: no disk cache (compiles in ~0.2 s)
    def run_ops(ops, count, ctrl, params, grads, update, s0, s1, sc, runs, sums):
        for k in range(count):
            o = ops[k]
            if o[0] == GEMM:
                gemm(ROW_MAJOR, o[1], o[2], o[3], o[4], o[5], one, o[6], o[7], o[8], o[9], zero, o[10], o[11])
            elif o[0] == STEP:
                optimizer_step(ctrl[KIND], grads, s0, s1, update, params, sc, runs, sums)
            elif o[0] == GATHER:
                gather(o)

    @njit(nogil=True, cache=False)
    def loop(go, done, slot, ctrl, ops, counts, params, grads, update, s0, s1, sc, runs, sums):
        seq = 0
        while True:
            seq += 1
            wait_for(go, slot, seq)
            phase = ctrl[PHASES + seq % 2]
            if phase == QUIT:
                return
            run_ops(ops[phase], counts[phase], ctrl, params, grads, update, s0, s1, sc, runs, sums)
            done[slot] = seq

    _compile_now(run_ops, loop, np.dtype(dtype))
    return run_ops, loop


def _compile_now(run_ops, loop, dtype):
    """Call both once with arrays of the types training passes (nothing to do, a loop told to
    quit), so the compiler runs here (e.g. in the app's warm-up thread), not in the first step."""
    ops, counts = np.zeros((1, 1, WIDTH), np.int64), np.zeros(1, np.int64)  # one part's: phases x ops
    flat = np.zeros(4, dtype)
    runs, sums = np.zeros((0, 3), np.int64), np.zeros((1, 3))
    ctrl, flags = np.array([0, 0, QUIT, QUIT], np.int64), np.ones(1, np.int64)
    run_ops(ops[0], 0, ctrl, flat, flat, flat, flat, flat, flat, runs, sums)
    loop(flags, flags.copy(), 0, ctrl, ops, counts, flat, flat, flat, flat, flat, flat, runs, sums)
