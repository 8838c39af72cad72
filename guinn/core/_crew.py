"""Compiled pieces of a split step (imported through :func:`guinn.core.split.crew_kernels`;
importing this module imports Numba).

A helper thread runs :func:`loop` from start to end of a ``fit`` without ever taking the GIL:
it waits for a phase number, runs its part's operations for that phase (matrix products
through OpenBLAS's CBLAS entry point, element-wise work on its columns, the optimizer step,
fetching the next batch), and reports back. The
calling thread runs its own part through :func:`run_ops`. With Python code in the helper,
every hand-over of the GIL between the two threads cost ~20 us on a virtual machine, more
than many of the phases themselves.

An operation is one row of int64s: ``(GEMM, trans_a, trans_b, m, n, k, a, lda, b, ldb, c,
ldc)`` for ``c = op(a) @ op(b)`` (row-major, addresses of the arrays' first elements);
``(STEP,)``: the optimizer step on this part's runs, applied; ``(GATHER, x, row length,
indices, count, out)``: rows ``x[indices]`` into ``out``, the next shuffled batch, fetched
after the optimizer step while the caller checks and reports the step; ``(FORWARD, kind, n,
units, lo, hi, z, a, bias, mask, dropped, slot)``: bias, activation (kind as
``split.THREAD_ACTIVATIONS`` numbers them), saturation count and dropout for columns [lo,
hi); ``(BACKWARD, kind, n, units,
lo, hi, signal, a, bias_grad, mask, partials, slot, parts, stride)``: for the same columns,
dL/d(output) as the sum of the layer above's partial products (unless ``partials`` is 0: then
``signal`` holds it; ``parts`` partial products, ``stride`` elements apart, at least two),
times the dropout mask and the activation's slope, into ``signal`` (now dL/dz); the bias
gradient and the sum of squares of dL/dz (telemetry).
"""

from __future__ import annotations

import ctypes

import numpy as np
from numba import carray, njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from guinn.core import _kernels, _spin, blas_threads
from guinn.core.activations import SIGMOID_SATURATION, TANH_SATURATION

GEMM, STEP, GATHER, FORWARD, BACKWARD = 1, 2, 3, 4, 5
ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112
WIDTH = 14  # int64s per operation
QUIT = -1  # phase number that ends the helper's loop
# ctrl: [optimizer kind, -, phase of even hand-overs, phase of odd ones]. Two slots because
# the caller may hand over a phase while a helper still gathers the next batch (the previous
# hand-over): a single slot could be overwritten before the helper has read it.
KIND, PHASES = 0, 2
# Eigen's rational approximation of tanh for float32 (the one TensorFlow's CPU kernels use):
# at most 4e-7 from the true value, against 6e-8 for NumPy's; it vectorises, where Numba's
# libm tanh ran 30x slower than NumPy. float64 layers use libm's tanh.
TANH_CLAMP, TANH_TINY = 7.90531110763549805, 0.0004
TANH_P = (-2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11, 5.12229709037114e-08,
          1.48572235717979e-05, 6.37261928875436e-04, 4.89352455891786e-03)  # x^13 ... x^1
TANH_Q = (1.19825839466702e-06, 1.18534705686654e-04, 2.26843463243900e-03, 4.89352518554385e-03)  # x^6 ... x^0
_C, _T = np.float32(TANH_CLAMP), np.float32(TANH_TINY)
_P13, _P11, _P9, _P7, _P5, _P3, _P1 = (np.float32(c) for c in TANH_P)
_Q6, _Q4, _Q2, _Q0 = (np.float32(c) for c in TANH_Q)


@njit(cache=True)
def tanh32(x0):
    """tanh of a float32 by Eigen's rational approximation (odd 13th / even 6th degree)."""
    x = min(max(x0, -_C), _C)
    x2 = x * x
    p = x2 * _P13 + _P11
    p = x2 * p + _P9
    p = x2 * p + _P7
    p = x2 * p + _P5
    p = x2 * p + _P3
    p = x * (x2 * p + _P1)
    q = x2 * _Q6 + _Q4
    q = x2 * q + _Q2
    q = x2 * q + _Q0
    return x0 if (abs(x0) < _T or x0 != x0) else p / q  # tiny: tanh(x) = x; NaN stays NaN


@njit(cache=True)
def tanh32_array(x, out):
    """:func:`tanh32` over an array (for the tests)."""
    for i in range(x.shape[0]):
        out[i] = tanh32(x[i])


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


CONSTANTS = 8  # scalars[8:14]: 0.5, 1, 0 and the saturation bounds, in the parameters' dtype


def constants() -> tuple:
    """What a split step puts in ``scalars[CONSTANTS:]`` (the operations' float constants)."""
    return (0.5, 1.0, 0.0, SIGMOID_SATURATION, 1 - SIGMOID_SATURATION, TANH_SATURATION)


# The next operations call no ctypes function, so they go to Numba's disk cache. They take
# the element type, and their constants in it, from ``sc``, the step's scalars.
@njit(nogil=True, cache=True)
def gather(o, sc):
    length, count = o[2], o[4]
    rows = carray(_address(o[3]), (count,), np.int64)
    out = carray(_address(o[5]), (count, length), sc.dtype)
    for i in range(count):  # an explicit loop: an array assignment took twice as long (overlap checks)
        row, dst = carray(_address(o[1] + rows[i] * length * sc.itemsize), (length,), sc.dtype), out[i]
        for j in range(length):
            dst[j] = row[j]


@njit(cache=True)
def _tanh(x0, approximate):
    return tanh32(x0) if approximate else np.tanh(x0)


@njit(nogil=True, cache=True, error_model="numpy")
def forward(o, stats, sc):
    kind, n, units, lo, hi = o[1], o[2], o[3], o[4], o[5]
    half, one, zero = sc[CONSTANTS], sc[CONSTANTS + 1], sc[CONSTANTS + 2]
    low, high, edge = sc[CONSTANTS + 3], sc[CONSTANTS + 4], sc[CONSTANTS + 5]
    approximate = sc.itemsize == 4  # float32: Eigen's tanh; float64: libm's
    z = carray(_address(o[6]), (n, units), sc.dtype)
    a = carray(_address(o[7]), (n, units), sc.dtype)
    counted = 0
    for r in range(n):
        zr, ar = z[r, lo:hi], a[r, lo:hi]
        if o[8]:  # z += bias
            b = carray(_address(o[8]), (units,), sc.dtype)[lo:hi]
            for j in range(zr.shape[0]):
                zr[j] = zr[j] + b[j]
        if kind == 1:  # sigmoid as (tanh(z / 2) + 1) / 2, in _sigmoid's order; saturated outside [0.02, 0.98]
            for j in range(zr.shape[0]):
                ar[j] = (_tanh(zr[j] * half, approximate) + one) * half
            for j in range(zr.shape[0]):
                counted += (ar[j] < low) | (ar[j] > high)
        elif kind == 2:  # tanh; saturated beyond +-0.98
            for j in range(zr.shape[0]):
                ar[j] = _tanh(zr[j], approximate)
            for j in range(zr.shape[0]):
                counted += (ar[j] < -edge) | (ar[j] > edge)
        elif kind == 3:  # relu as np.maximum(z, 0), NaN kept; dead at or below zero
            for j in range(zr.shape[0]):
                x = zr[j]
                ar[j] = x if (x >= zero or x != x) else zero
            for j in range(zr.shape[0]):
                counted += ar[j] <= zero
        if o[9]:  # dropout: the mask drawn for this step
            m = carray(_address(o[9]), (n, units), sc.dtype)[r, lo:hi]
            d = carray(_address(o[10]), (n, units), sc.dtype)[r, lo:hi]
            for j in range(zr.shape[0]):
                d[j] = ar[j] * m[j]
    stats[o[11]] = counted


@njit(nogil=True, cache=True, error_model="numpy")
def backward(o, stats, sc):
    kind, n, units, lo, hi = o[1], o[2], o[3], o[4], o[5]
    one, zero = sc[CONSTANTS + 1], sc[CONSTANTS + 2]
    s = carray(_address(o[6]), (n, units), sc.dtype)
    a = carray(_address(o[7]), (n, units), sc.dtype)
    if o[8]:
        b = carray(_address(o[8]), (units,), sc.dtype)[lo:hi]
        b[:] = zero
    total = 0.0
    for r in range(n):
        sr, ar = s[r, lo:hi], a[r, lo:hi]
        if o[10]:  # the partial products, added in part order (as the calling thread did)
            p0 = carray(_address(o[10]), (n, units), sc.dtype)[r, lo:hi]
            p1 = carray(_address(o[10] + o[13] * sc.itemsize), (n, units), sc.dtype)[r, lo:hi]
            for j in range(sr.shape[0]):
                sr[j] = p0[j] + p1[j]
            for q in range(2, o[12]):
                pq = carray(_address(o[10] + q * o[13] * sc.itemsize), (n, units), sc.dtype)[r, lo:hi]
                for j in range(sr.shape[0]):
                    sr[j] += pq[j]
        if o[9]:  # dropout
            m = carray(_address(o[9]), (n, units), sc.dtype)[r, lo:hi]
            for j in range(sr.shape[0]):
                sr[j] *= m[j]
        if kind == 1:  # sigmoid: g * a * (1 - a), in _sigmoid_back's order
            for j in range(sr.shape[0]):
                x = sr[j] * ar[j]
                sr[j] = x * (one - ar[j])
        elif kind == 2:  # tanh: g * (1 - a * a)
            for j in range(sr.shape[0]):
                sr[j] = sr[j] * (one - ar[j] * ar[j])
        elif kind == 3:  # relu: g * (a > 0)
            for j in range(sr.shape[0]):
                sr[j] = sr[j] * (one if ar[j] > zero else zero)
        if o[8]:  # the bias gradient, summed row by row as np.sum(axis=0) does
            for j in range(sr.shape[0]):
                b[j] += sr[j]
        total += _kernels.sumsq(sr)
    stats[o[11]] = total


@njit(cache=True, error_model="numpy")
def softmax_crossentropy(partials, n, bias, y, scale, z, probs, dz, bias_grad):
    """The output layer of a split step under softmax + cross-entropy, in one pass on the
    calling thread (NumPy took ~15 small calls): logits from the threads' partial products
    (at least two) plus the bias, softmax, the batch's mean loss, dL/dz = (p - y) * scale
    with scale = 1/n, the bias gradient; returns (loss, sum of squares of dL/dz). Arithmetic as in
    ``activations._softmax`` and ``losses.CategoricalCrossentropy.fused``, except that the
    loss and the sum of squares add up in float64."""
    units = z.shape[1]
    s, loss, squares = scale[0], 0.0, 0.0
    bias_grad[:] = 0
    for r in range(n):
        zr, pr, dr, yr = z[r], probs[r], dz[r], y[r]
        for j in range(units):
            zr[j] = partials[0, r, j] + partials[1, r, j]
        for q in range(2, partials.shape[0]):
            for j in range(units):
                zr[j] += partials[q, r, j]
        if bias.shape[0]:
            for j in range(units):
                zr[j] += bias[j]
        top = zr[0]
        for j in range(1, units):
            top = max(top, zr[j])
        total = zr[0] - zr[0]  # zero, in the dtype
        for j in range(units):
            e = np.exp(zr[j] - top)
            pr[j] = e
            total += e
        log_total = np.log(total)
        for j in range(units):
            pr[j] /= total
            loss -= yr[j] * ((zr[j] - top) - log_total)
            d = (pr[j] - yr[j]) * s
            dr[j] = d
            if bias_grad.shape[0]:
                bias_grad[j] += d
            squares += np.float64(d) * d
    return loss / n, squares


def build(dtype):
    """(run_ops, loop) compiled for ``dtype``, or None when no CBLAS entry point is found."""
    gemm = gemm_function(dtype)
    if gemm is None:
        return None
    one, zero = np.dtype(dtype).type(1), np.dtype(dtype).type(0)
    optimizer_step, wait_for = _kernels.optimizer_step, _spin.wait_for

    @njit(nogil=True, cache=False)  # calls a ctypes function: no disk cache
    def run_ops(ops, count, ctrl, params, grads, update, s0, s1, sc, runs, sums, stats):
        for k in range(count):
            o = ops[k]
            if o[0] == GEMM:
                gemm(ROW_MAJOR, o[1], o[2], o[3], o[4], o[5], one, o[6], o[7], o[8], o[9], zero, o[10], o[11])
            elif o[0] == STEP:
                optimizer_step(ctrl[KIND], grads, s0, s1, update, params, sc, runs, sums)
            elif o[0] == GATHER:
                gather(o, sc)
            elif o[0] == FORWARD:
                forward(o, stats, sc)
            elif o[0] == BACKWARD:
                backward(o, stats, sc)

    @njit(nogil=True, cache=False)
    def loop(go, done, slot, ctrl, ops, counts, params, grads, update, s0, s1, sc, runs, sums, stats):
        seq = 0
        while True:
            seq += 1
            wait_for(go, slot, seq)
            phase = ctrl[PHASES + seq % 2]
            if phase == QUIT:
                return
            run_ops(ops[phase], counts[phase], ctrl, params, grads, update, s0, s1, sc, runs, sums, stats)
            done[slot] = seq

    _compile_now(run_ops, loop, np.dtype(dtype))
    return run_ops, loop


def _compile_now(run_ops, loop, dtype):
    """Call both once with arrays of the types training passes (nothing to do, a loop told to
    quit), so the compiler runs here (e.g. in the app's warm-up thread), not in the first step."""
    ops, counts = np.zeros((1, 1, WIDTH), np.int64), np.zeros(1, np.int64)  # one part's: phases x ops
    flat = np.zeros(CONSTANTS + len(constants()), dtype)
    runs, sums = np.zeros((0, 3), np.int64), np.zeros((1, 3))
    ctrl, flags, stats = np.array([0, 0, QUIT, QUIT], np.int64), np.ones(1, np.int64), np.zeros(1)
    run_ops(ops[0], 0, ctrl, flat, flat, flat, flat, flat, flat, runs, sums, stats)
    loop(flags, flags.copy(), 0, ctrl, ops, counts, flat, flat, flat, flat, flat, flat, runs, sums, stats)
    rows = np.zeros((1, 2), dtype)  # (a cached function: this only loads it, after the first time)
    softmax_crossentropy(np.zeros((2, 1, 2), dtype), 1, flat[:2], rows, flat[:1], rows, rows, rows, flat[:2])
