"""How many threads NumPy's OpenBLAS uses, read and set at run time (no new dependency).

A split training step (:mod:`guinn.core.split`) runs its own threads, each calling the BLAS on
its share of the units; OpenBLAS must then run each call on the calling thread alone. Only
OpenBLAS is handled: with another BLAS (MKL, Accelerate) :func:`controls` returns None and
training keeps the ordinary step. :func:`symbol_named` finds the CBLAS entry points the
split step's compiled helper calls directly.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import threading

PREFIXES = ("scipy_openblas_", "openblas_")
SUFFIXES = ("64_", "")


def openblas_libraries() -> list[str]:
    """Paths of the OpenBLAS libraries mapped into this process (Linux), e.g. NumPy's."""
    try:
        with open("/proc/self/maps", encoding="utf-8") as f:
            maps = f.read()
    except OSError:  # not Linux
        return []
    paths = set()
    for line in maps.splitlines():
        fields = line.split(maxsplit=5)  # address, perms, offset, device, inode, path (may hold spaces)
        if len(fields) == 6 and "openblas" in fields[5].lower() and "/" in fields[5]:
            paths.add(fields[5].strip())
    return sorted(paths)


@functools.cache
def library():
    """NumPy's OpenBLAS (a ctypes handle), or None. Another OpenBLAS may be loaded too (SciPy
    ships its own): NumPy's is the one under NumPy's folder, or the only one there is; when
    that cannot be told, None, and training keeps the ordinary step."""
    import numpy  # loads the BLAS, so its library is mapped

    paths = openblas_libraries()
    home = os.path.dirname(os.path.dirname(os.path.abspath(numpy.__file__)))
    own = [p for p in paths if os.path.basename(p).lower().startswith("lib") and "numpy" in p[len(home):].lower()]
    chosen = own if own else paths
    if len(chosen) != 1:
        return None
    try:
        return ctypes.CDLL(chosen[0])
    except OSError:
        return None


def symbol(name: str):
    """NumPy's OpenBLAS's ``<prefix>name<suffix>`` (e.g. ``scipy_openblas_get_num_threads64_``), or None."""
    found = _first([f"{p}{name}{s}" for p in PREFIXES for s in SUFFIXES])
    return found[0] if found else None


def symbol_named(name: str):
    """(function, exported name) of a CBLAS entry point such as ``cblas_sgemm`` in NumPy's
    OpenBLAS (``scipy_cblas_sgemm64_`` in NumPy's own wheels), or None."""
    return _first([f"scipy_{name}64_", f"scipy_{name}", f"{name}64_", name])


def int64_sizes() -> bool:
    """Whether NumPy's OpenBLAS takes 64-bit sizes (ILP64), from its build configuration."""
    config = symbol("get_config")
    if config is None:
        return False
    config.restype, config.argtypes = ctypes.c_char_p, []
    return b"USE64BITINT" in (config() or b"")


def _first(names):
    lib = library()
    for full in names if lib is not None else ():
        fn = getattr(lib, full, None)
        if fn is not None:
            return fn, full
    return None


@functools.cache
def controls():
    """(get_num_threads, set_num_threads) of NumPy's OpenBLAS, or None if they cannot be found."""
    get, put = symbol("get_num_threads"), symbol("set_num_threads")
    if get is None or put is None:
        return None
    get.restype, get.argtypes = ctypes.c_int, []
    put.restype, put.argtypes = None, [ctypes.c_int]
    return get, put


def count() -> int:
    """Threads the BLAS runs a matrix product on (1 when it cannot be told)."""
    c = controls()
    return max(1, int(c[0]())) if c else 1


def set_count(threads: int) -> int:
    """Make OpenBLAS run each call on ``threads`` threads; returns the count it had."""
    c = controls()
    if c is None:
        return 1
    before = c[0]()
    c[1](threads)
    return before


_caps: list[int] = []  # the caps in force (fits in several threads may each hold one)
_uncapped = 1  # the count before the first of them
_caps_lock = threading.Lock()


@contextlib.contextmanager
def capped(threads: int):
    """OpenBLAS on at most ``threads`` threads inside the block. The count is process-wide, so
    blocks in several threads share one record: the lowest cap in force holds, and the count
    from before the first comes back after the last (each block restoring what it had found
    left a small fit and a split one, interleaved, at one thread for good)."""
    global _uncapped
    with _caps_lock:
        if not _caps:
            _uncapped = count()
        _caps.append(threads)
        set_count(min(min(_caps), _uncapped))
    try:
        yield
    finally:
        with _caps_lock:
            _caps.remove(threads)
            set_count(min(_caps + [_uncapped]))
