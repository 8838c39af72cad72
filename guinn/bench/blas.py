"""Which BLAS (and which OpenBLAS kernels) this NumPy runs on: the GEMM floor and most of a
training step are its matrix products, so every speed figure depends on it."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys

from guinn.core import blas_threads

CORE_SCRIPT = "import numpy, guinn.bench.blas as b; print(b.openblas_core() or '?')"
OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def openblas_core() -> str | None:
    """The kernel family the loaded OpenBLAS runs (e.g. 'Haswell', 'SkylakeX'), or None."""
    fn = blas_threads.symbol("get_corename")
    if fn is None:
        return None
    fn.restype = ctypes.c_char_p
    name = fn()
    return name.decode(errors="replace") if name else None


def default_core() -> str | None:
    """The kernels OpenBLAS picks by itself, without the OPENBLAS_* overrides (fresh interpreter)."""
    env = {k: v for k, v in os.environ.items() if k not in OVERRIDES}
    try:
        out = subprocess.run([sys.executable, "-c", CORE_SCRIPT], env=env, capture_output=True, text=True,
                             timeout=60, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def describe() -> str:
    """One line: BLAS library, version, threads and kernels, and any override in the environment."""
    import numpy as np

    text = _threadpool_text() or _config_text(np)
    core = openblas_core()
    if core:
        text += f", {core} kernels"
    overrides = {k: os.environ[k] for k in OVERRIDES if k in os.environ}
    if core and overrides:
        chosen = default_core()
        setting = ", ".join(f"{k}={v}" for k, v in overrides.items())
        text += f" (forced by {setting}; unset, OpenBLAS would pick {chosen or '?'})"
    return text


def _threadpool_text() -> str | None:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    info = [f"{i.get('internal_api')} {i.get('version')} ({i.get('num_threads')} threads)"
            for i in threadpool_info() if i.get("user_api") == "blas"]
    return "; ".join(info) or None


def _config_text(np) -> str:
    config = np.show_config(mode="dicts")
    blas = config.get("Build Dependencies", {}).get("blas", {}) if isinstance(config, dict) else {}
    threads = os.environ.get("OPENBLAS_NUM_THREADS") or os.cpu_count()
    return f"{blas.get('name', '?')} {blas.get('version', '')} ({threads} threads)".strip()
