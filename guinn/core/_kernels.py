"""The Numba kernels behind :mod:`guinn.core.fused` (imported only through it: importing this
module imports Numba and compiles on first call). Element-wise bodies repeat the NumPy path's
operations in its order, without fast-math; only ``sumsq`` may reassociate its sum."""

from __future__ import annotations

import numpy as np
from numba import njit

from guinn.core.fused import cache_on_disk

exact = dict(nogil=True, error_model="numpy", cache=cache_on_disk())


@njit(fastmath={"reassoc"}, **exact)
def sumsq(a):
    s = 0.0
    for i in range(a.shape[0]):
        x = np.float64(a[i])
        s += x * x
    return s


# -- element-wise bodies: the NumPy path's operations, in its order -----------------
@njit(**exact)
def sgd_block(g, u, neg_lr):
    for i in range(g.shape[0]):
        u[i] = g[i] * neg_lr


@njit(**exact)
def momentum_block(g, v, u, momentum, lr, nesterov):
    for i in range(g.shape[0]):
        t = g[i] * lr
        vi = v[i] * momentum - t
        v[i] = vi
        u[i] = vi * momentum - t if nesterov else vi


@njit(**exact)
def adagrad_block(g, acc, u, eps, neg_lr):
    for i in range(g.shape[0]):
        gi = g[i]
        a = acc[i] + gi * gi
        acc[i] = a
        u[i] = gi / np.sqrt(a + eps) * neg_lr


@njit(**exact)
def rmsprop_block(g, v, u, rho, one_minus_rho, eps, neg_lr):
    for i in range(g.shape[0]):
        gi = g[i]
        vi = v[i] * rho + gi * gi * one_minus_rho
        v[i] = vi
        u[i] = gi / np.sqrt(vi + eps) * neg_lr


@njit(**exact)
def adam_block(g, m_sum, v, u, beta_1, beta_2, one_minus_beta_2, eps, neg_alpha):
    for i in range(g.shape[0]):
        gi = g[i]
        mi = m_sum[i] * beta_1 + gi
        vi = v[i] * beta_2 + gi * gi * one_minus_beta_2
        m_sum[i] = mi
        v[i] = vi
        u[i] = mi / (np.sqrt(vi) + eps) * neg_alpha


@njit(**exact)
def add_block(p, u):
    """p <- p + u, and u <- the old p: the exact copy a refused step is undone from."""
    for i in range(p.shape[0]):
        old = p[i]
        p[i] = old + u[i]
        u[i] = old


# -- the driver: run by run, with the sums of squares per segment ------------------------
# ``runs`` rows are (start, stop, segment): stretches of the flat buffers, at most BLOCK long,
# each belonging to one segment (a layer's kernel, or its other parameters). Each run is
# updated, applied (its update buffer then keeps the old weights, to undo a refused step)
# and summed while it is still in cache. The whole model is one list of runs; a part of a
# split step (guinn.core.split) gets the runs of the weights it owns. The rule is chosen per
# run, so each body above stays its own loop, vectorised on its own.
@njit(**exact)
def optimizer_step(kind, g, s0, s1, u, p, sc, runs, sums):
    """One step of optimizer ``kind`` (fused.SGD...ADAM) with state slots ``s0``, ``s1`` and
    scalars ``sc`` (in the parameters' dtype), as ``Optimizer.fused_spec`` describes it,
    applied to the parameters ``p``; ``u`` is left holding the old parameters."""
    sums[:, :] = 0.0
    for r in range(runs.shape[0]):
        lo, hi, s = runs[r, 0], runs[r, 1], runs[r, 2]
        if kind == 0:
            sgd_block(g[lo:hi], u[lo:hi], sc[0])
        elif kind == 1:
            momentum_block(g[lo:hi], s0[lo:hi], u[lo:hi], sc[0], sc[1], sc[2] != 0)
        elif kind == 2:
            adagrad_block(g[lo:hi], s0[lo:hi], u[lo:hi], sc[0], sc[1])
        elif kind == 3:
            rmsprop_block(g[lo:hi], s0[lo:hi], u[lo:hi], sc[0], sc[1], sc[2], sc[3])
        else:
            adam_block(g[lo:hi], s0[lo:hi], s1[lo:hi], u[lo:hi], sc[0], sc[1], sc[2], sc[3], sc[4])
        sums[s, 0] += sumsq(g[lo:hi])
        sums[s, 1] += sumsq(u[lo:hi])
        add_block(p[lo:hi], u[lo:hi])
        sums[s, 2] += sumsq(p[lo:hi])


@njit(**exact)
def count_outside(a, low, high):
    n = 0
    for i in range(a.shape[0]):
        x = a[i]
        n += (x < low) | (x > high)
    return n
