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


# -- drivers: run by run, with the sums of squares per segment ---------------------------
# ``runs`` rows are (start, stop, segment): stretches of the flat buffers, at most BLOCK long,
# each belonging to one segment (a layer's kernel, or its other parameters). Each run is
# updated, applied (its update buffer then keeps the old weights, to undo a refused step)
# and summed while it is still in cache. The whole model is one list of runs; a part of a
# split step (guinn.core.split) gets the runs of the weights it owns.
@njit(**exact)
def sgd(g, u, p, neg_lr, runs, sums):
    sums[:, :] = 0.0
    for r in range(runs.shape[0]):
        lo, hi, s = runs[r, 0], runs[r, 1], runs[r, 2]
        sgd_block(g[lo:hi], u[lo:hi], neg_lr)
        sums[s, 0] += sumsq(g[lo:hi])
        sums[s, 1] += sumsq(u[lo:hi])
        add_block(p[lo:hi], u[lo:hi])
        sums[s, 2] += sumsq(p[lo:hi])


@njit(**exact)
def momentum(g, v, u, p, momentum_, lr, nesterov, runs, sums):
    sums[:, :] = 0.0
    for r in range(runs.shape[0]):
        lo, hi, s = runs[r, 0], runs[r, 1], runs[r, 2]
        momentum_block(g[lo:hi], v[lo:hi], u[lo:hi], momentum_, lr, nesterov)
        sums[s, 0] += sumsq(g[lo:hi])
        sums[s, 1] += sumsq(u[lo:hi])
        add_block(p[lo:hi], u[lo:hi])
        sums[s, 2] += sumsq(p[lo:hi])


@njit(**exact)
def adagrad(g, acc, u, p, eps, neg_lr, runs, sums):
    sums[:, :] = 0.0
    for r in range(runs.shape[0]):
        lo, hi, s = runs[r, 0], runs[r, 1], runs[r, 2]
        adagrad_block(g[lo:hi], acc[lo:hi], u[lo:hi], eps, neg_lr)
        sums[s, 0] += sumsq(g[lo:hi])
        sums[s, 1] += sumsq(u[lo:hi])
        add_block(p[lo:hi], u[lo:hi])
        sums[s, 2] += sumsq(p[lo:hi])


@njit(**exact)
def rmsprop(g, v, u, p, rho, one_minus_rho, eps, neg_lr, runs, sums):
    sums[:, :] = 0.0
    for r in range(runs.shape[0]):
        lo, hi, s = runs[r, 0], runs[r, 1], runs[r, 2]
        rmsprop_block(g[lo:hi], v[lo:hi], u[lo:hi], rho, one_minus_rho, eps, neg_lr)
        sums[s, 0] += sumsq(g[lo:hi])
        sums[s, 1] += sumsq(u[lo:hi])
        add_block(p[lo:hi], u[lo:hi])
        sums[s, 2] += sumsq(p[lo:hi])


@njit(**exact)
def adam(g, m_sum, v, u, p, beta_1, beta_2, one_minus_beta_2, eps, neg_alpha, runs, sums):
    sums[:, :] = 0.0
    for r in range(runs.shape[0]):
        lo, hi, s = runs[r, 0], runs[r, 1], runs[r, 2]
        adam_block(g[lo:hi], m_sum[lo:hi], v[lo:hi], u[lo:hi], beta_1, beta_2, one_minus_beta_2, eps, neg_alpha)
        sums[s, 0] += sumsq(g[lo:hi])
        sums[s, 1] += sumsq(u[lo:hi])
        add_block(p[lo:hi], u[lo:hi])
        sums[s, 2] += sumsq(p[lo:hi])


@njit(**exact)
def optimizer_step(kind, g, s0, s1, u, p, sc, runs, sums):
    """One step of optimizer ``kind`` (fused.SGD...ADAM) with state slots ``s0``, ``s1`` and
    scalars ``sc`` (in the parameters' dtype), as ``Optimizer.fused_spec`` describes it,
    applied to the parameters ``p``; ``u`` is left holding the old parameters."""
    if kind == 0:
        sgd(g, u, p, sc[0], runs, sums)
    elif kind == 1:
        momentum(g, s0, u, p, sc[0], sc[1], sc[2] != 0, runs, sums)
    elif kind == 2:
        adagrad(g, s0, u, p, sc[0], sc[1], runs, sums)
    elif kind == 3:
        rmsprop(g, s0, u, p, sc[0], sc[1], sc[2], sc[3], runs, sums)
    else:
        adam(g, s0, s1, u, p, sc[0], sc[1], sc[2], sc[3], sc[4], runs, sums)


@njit(**exact)
def count_outside(a, low, high):
    n = 0
    for i in range(a.shape[0]):
        x = a[i]
        n += (x < low) | (x > high)
    return n
