"""The Numba kernels behind :mod:`guinn.core.fused` (imported only through it: importing this
module imports Numba and compiles on first call). Element-wise bodies repeat the NumPy path's
operations in its order, without fast-math; only ``sumsq`` may reassociate its sum."""

from __future__ import annotations

import numpy as np
from numba import njit

from guinn.core.fused import cache_on_disk

BLOCK = 16384  # elements per block: a block's sums are taken while it is still in cache
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
    for i in range(p.shape[0]):
        p[i] = p[i] + u[i]


# -- drivers: block by block, with the sums of squares per segment ----------------------
@njit(**exact)
def sgd(g, u, neg_lr, bounds, sums):
    for s in range(bounds.shape[0] - 1):
        sg = su = 0.0
        for lo in range(bounds[s], bounds[s + 1], BLOCK):
            hi = min(lo + BLOCK, bounds[s + 1])
            sgd_block(g[lo:hi], u[lo:hi], neg_lr)
            sg += sumsq(g[lo:hi])
            su += sumsq(u[lo:hi])
        sums[s, 0] = sg
        sums[s, 1] = su


@njit(**exact)
def momentum(g, v, u, momentum_, lr, nesterov, bounds, sums):
    for s in range(bounds.shape[0] - 1):
        sg = su = 0.0
        for lo in range(bounds[s], bounds[s + 1], BLOCK):
            hi = min(lo + BLOCK, bounds[s + 1])
            momentum_block(g[lo:hi], v[lo:hi], u[lo:hi], momentum_, lr, nesterov)
            sg += sumsq(g[lo:hi])
            su += sumsq(u[lo:hi])
        sums[s, 0] = sg
        sums[s, 1] = su


@njit(**exact)
def adagrad(g, acc, u, eps, neg_lr, bounds, sums):
    for s in range(bounds.shape[0] - 1):
        sg = su = 0.0
        for lo in range(bounds[s], bounds[s + 1], BLOCK):
            hi = min(lo + BLOCK, bounds[s + 1])
            adagrad_block(g[lo:hi], acc[lo:hi], u[lo:hi], eps, neg_lr)
            sg += sumsq(g[lo:hi])
            su += sumsq(u[lo:hi])
        sums[s, 0] = sg
        sums[s, 1] = su


@njit(**exact)
def rmsprop(g, v, u, rho, one_minus_rho, eps, neg_lr, bounds, sums):
    for s in range(bounds.shape[0] - 1):
        sg = su = 0.0
        for lo in range(bounds[s], bounds[s + 1], BLOCK):
            hi = min(lo + BLOCK, bounds[s + 1])
            rmsprop_block(g[lo:hi], v[lo:hi], u[lo:hi], rho, one_minus_rho, eps, neg_lr)
            sg += sumsq(g[lo:hi])
            su += sumsq(u[lo:hi])
        sums[s, 0] = sg
        sums[s, 1] = su


@njit(**exact)
def adam(g, m_sum, v, u, beta_1, beta_2, one_minus_beta_2, eps, neg_alpha, bounds, sums):
    for s in range(bounds.shape[0] - 1):
        sg = su = 0.0
        for lo in range(bounds[s], bounds[s + 1], BLOCK):
            hi = min(lo + BLOCK, bounds[s + 1])
            adam_block(g[lo:hi], m_sum[lo:hi], v[lo:hi], u[lo:hi], beta_1, beta_2, one_minus_beta_2, eps, neg_alpha)
            sg += sumsq(g[lo:hi])
            su += sumsq(u[lo:hi])
        sums[s, 0] = sg
        sums[s, 1] = su


@njit(**exact)
def apply(p, u, bounds, sums):
    for s in range(bounds.shape[0] - 1):
        sp = 0.0
        for lo in range(bounds[s], bounds[s + 1], BLOCK):
            hi = min(lo + BLOCK, bounds[s + 1])
            add_block(p[lo:hi], u[lo:hi])
            sp += sumsq(p[lo:hi])
        sums[s, 2] = sp


@njit(**exact)
def count_outside(a, low, high):
    n = 0
    for i in range(a.shape[0]):
        x = a[i]
        n += (x < low) | (x > high)
    return n
