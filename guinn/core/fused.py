"""One-pass optimizer steps, compiled with Numba when it is installed.

NumPy runs an optimizer step as a series of whole-buffer operations: Adam is ten passes over
every parameter, then the model adds the update (one more) and reads the update, weights and
gradients again for its finiteness check and the per-layer telemetry. Each pass streams
megabytes through the caches. The kernels here do the same arithmetic, apply it and sum the
squares telemetry needs in one pass, run by run while each is in cache. The update buffer is
left holding the old weights, so the model can undo a step whose update overflowed.

The element-wise arithmetic is written in exactly the order the NumPy code uses, without
fast-math, so both paths give bit-identical parameters for the same step (the tests check
this; a split step, guinn.core.split, agrees with either to float rounding); only the sums
of squares, which are reductions, may be reassociated to vectorise, and they are
accumulated in float64.

The kernels walk ``runs``: rows (start, stop, segment), each a stretch of the flat buffers at
most ``BLOCK`` elements long, so each stretch's sums are taken while it is still in cache.
Segments are each layer's kernel, then its other parameters (the model's ``bounds``);
``sums[s]`` receives segment ``s``'s sum of squared gradients, squared updates and squared
weights after the update. :func:`runs_of` turns bounds into runs; a split step
(:mod:`guinn.core.split`) gives each thread the runs of an equal share of the weights.

If Numba is missing or fails to compile, or ``GUINN_JIT=0`` is set, :func:`kernels` returns
None and the callers use the NumPy code: slower, same results.
"""

from __future__ import annotations

import os
import threading

import numpy as np

BLOCK = 16384  # elements per run: a run's sums are taken while it is still in cache
SGD, MOMENTUM, ADAGRAD, RMSPROP, ADAM = range(5)  # optimizer kinds of _kernels.optimizer_step

_lock = threading.Lock()
_state: dict = {"cache": True}


def cache_on_disk() -> bool:
    """Whether the kernels are compiled with Numba's on-disk cache (off if no folder is writable)."""
    return _state["cache"]


def kernels():
    """The compiled kernels (a namespace), or None when the NumPy path must be used."""
    if "kernels" not in _state:
        with _lock:
            if "kernels" not in _state:
                _state["kernels"], _state["reason"] = _load()
    return _state["kernels"]


def spin():
    """The compiled ``wait_for(flags, index, value)`` that split steps hand phases over with
    (:mod:`guinn.core._spin`), or None when the kernels are off or it cannot be built here."""
    if "spin" not in _state and kernels() is not None:  # (kernels() takes the lock itself)
        with _lock:
            if "spin" not in _state:
                _state["spin"] = _load_spin()
    return _state.get("spin")


def _load_spin():
    try:
        from guinn.core import _spin

        flags = np.ones(1, dtype=np.int64)
        _spin.wait_for(flags, 0, 1)  # compile now, not in the first training step
        return _spin.wait_for
    except Exception:  # e.g. no C library to call (Windows): split steps stay off
        return None


LINE = 64  # bytes per cache line


def aligned_full(size: int, value, dtype) -> np.ndarray:
    """A 1-D array starting on a cache-line boundary. The flat buffers are: then a split step
    (:mod:`guinn.core.split`) can hand its threads stretches that never share a line."""
    dtype = np.dtype(dtype)
    spare = LINE // dtype.itemsize
    raw = np.full(size + spare, value, dtype=dtype)
    skip = (-raw.ctypes.data % LINE) // dtype.itemsize
    return raw[skip:skip + size]


def slot_pair(slots, filler):
    """An optimizer's (up to two) state slots as the two arrays the step kernel takes; a rule
    with fewer slots gets ``filler`` (never touched) in their place."""
    return (tuple(slots) + (filler, filler))[:2]


def runs_of(bounds, block: int = BLOCK) -> np.ndarray:
    """(start, stop, segment) rows covering each segment ``[bounds[s], bounds[s+1])`` in order,
    at most ``block`` elements each."""
    rows = [run for s, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:], strict=True))
            for run in cut(int(start), int(stop), s, block)]
    return np.array(rows, dtype=np.int64).reshape(-1, 3)


def cut(start: int, stop: int, segment: int, block: int = BLOCK) -> list[tuple[int, int, int]]:
    """``[start, stop)`` of ``segment`` as (start, stop, segment) runs of at most ``block``."""
    return [(lo, min(lo + block, stop), segment) for lo in range(start, stop, block)]


def count_outside(a, low: float, high: float) -> int:
    """How many elements of ``a`` are below ``low`` or above ``high`` (NaN counts as neither),
    in one pass instead of NumPy's two comparisons and two counts."""
    flat = a.reshape(-1)
    kind = flat.dtype.type
    return int(_run("count_outside", lambda: np.count_nonzero(a < low) + np.count_nonzero(a > high),
                    flat, kind(low), kind(high)))


def sum_of_squares(flat) -> float:
    """Sum of squares of a 1-D array, accumulated in float64 (one vectorised pass with Numba)."""
    def numpy_sum():
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging run is reported, not warned about
            return np.dot(flat, flat)

    return float(_run("sumsq", numpy_sum, flat))


def _run(kernel: str, fallback, *args):
    """A kernel's result, or ``fallback()`` when the kernels are off or this one fails."""
    k = kernels()
    if k is not None:
        try:
            return getattr(k, kernel)(*args)
        except Exception as exc:  # keep going on NumPy, as for the optimizer steps
            disable(f"{kernel} kernel failed ({type(exc).__name__}: {exc})")
    return fallback()


def disable(reason: str) -> None:
    """Stop using the kernels for the rest of this process (after a failure), saying why."""
    with _lock:
        _state["kernels"], _state["reason"] = None, reason + ": NumPy optimizer steps"


def status() -> str:
    """Why the fused path is or is not in use, for the bench and ``guinn info``-style reports."""
    kernels()
    return _state["reason"]


def warm_up(dtypes=("float32",)) -> None:
    """Compile (or load from Numba's disk cache) every kernel for these dtypes through the
    optimizers' own calls, so the first training step does not wait for the compiler. Meant
    for a background thread at app start; on any failure the NumPy path takes over."""
    k = kernels()
    if k is None:
        return
    from guinn.core import optimizers

    variants = (optimizers.SGD(), optimizers.SGD(momentum=0.9), optimizers.Adagrad(), optimizers.RMSprop(),
                optimizers.Adam())
    runs = runs_of(np.array([0, 2, 4], dtype=np.int64))
    sums = np.zeros((2, 3))
    try:
        for dtype in dtypes:
            for opt in variants:
                opt.build(4, np.dtype(dtype))
                g, u, p = np.zeros(4, dtype), np.zeros(4, dtype), np.zeros(4, dtype)
                opt.fused_update(k, g, u, p, runs, sums)
            count_outside(np.zeros(4, dtype), 0.0, 1.0)
            sum_of_squares(np.zeros(4, dtype))
        from guinn.core import split

        for dtype in dtypes:
            split.crew_kernels(dtype)
    except Exception as exc:  # same policy as a failing step: keep training, on NumPy
        disable(f"warm-up failed ({type(exc).__name__}: {exc})")


def _load():
    if os.environ.get("GUINN_JIT", "1").strip().lower() in ("0", "false", "no", "off"):
        return None, "off (GUINN_JIT=0): NumPy optimizer steps"
    try:
        import numba
    except Exception as exc:  # not installed, or broken on this platform
        return None, f"Numba not available ({type(exc).__name__}): NumPy optimizer steps"
    try:
        namespace, note = _compile()
    except Exception as exc:  # a compiler problem must never stop training
        return None, f"Numba {numba.__version__} failed ({type(exc).__name__}: {exc}): NumPy optimizer steps"
    return namespace, f"Numba {numba.__version__}: fused optimizer steps{note}"


def _compile():
    import importlib
    import sys

    try:
        return importlib.import_module("guinn.core._kernels"), ""
    except RuntimeError as exc:  # Numba found no writable folder for its cache (read-only install)
        if "cache" not in str(exc).lower():
            raise
        _state["cache"] = False
        sys.modules.pop("guinn.core._kernels", None)
        return importlib.import_module("guinn.core._kernels"), f" (compiled each session: {exc})"
