"""Refuse a network the machine cannot hold before allocating it: a mistyped layer size
should be a message, not the out-of-memory killer ending the app (and the user's work)."""

from __future__ import annotations

import os
import sys

from guinn.errors import ConfigError

SHARE = 0.9  # of the memory free now that training may take


def available_bytes() -> int | None:
    """Memory free for this process now (Linux's MemAvailable, which counts reclaimable
    caches), or None where it cannot be read: then nothing is refused."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    if sys.platform == "win32":
        return _windows_available()
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _windows_available() -> int | None:
    import ctypes

    class Status(ctypes.Structure):
        _fields_ = [("length", ctypes.c_ulong), ("load", ctypes.c_ulong)] + [
            (name, ctypes.c_ulonglong) for name in ("total", "avail", "total_page", "avail_page", "total_virtual",
                                                    "avail_virtual", "avail_extended")]

    status = Status()
    status.length = ctypes.sizeof(Status)
    try:
        return int(status.avail) if ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)) else None
    except (AttributeError, OSError):
        return None


def exceeds_free(needed: int) -> bool:
    """Whether ``needed`` bytes are more than guinn may take of the memory free now (False
    where that cannot be told)."""
    free = available_bytes()
    return free is not None and needed > SHARE * free


def check_fits(needed: int, what: str) -> None:
    """Raise ConfigError when ``needed`` bytes would not fit in the memory free now; ``what``
    says what needs them, in a sentence's middle ("this network's weights, ...")."""
    free = available_bytes()
    if free is None or needed <= SHARE * free:
        return
    raise ConfigError(f"Training {what} needs about {_size(needed)} of memory, more than the {_size(SHARE * free)} "
                      f"it may take ({SHARE:.0%} of the {_size(free)} free on this machine); use fewer units or "
                      "layers (or close other programs).")


def _size(n: float) -> str:
    return f"{n / 1024**3:.1f} GB" if n >= 1024**3 else f"{n / 1024**2:.0f} MB"
