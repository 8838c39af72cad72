"""The wait that hands a split step's phases between threads (imported through
:func:`guinn.core.fused.spin`; importing this module imports Numba).

A phase lasts tens to hundreds of microseconds, so waking a sleeping thread through the
operating system (tens of microseconds on a virtual machine) would cost as much as the work
it hands over. The waiting thread instead polls a flag without holding the GIL, yielding the
core between polls, and backs off to short and then 1 ms sleeps when nothing comes: a paused
or finished training does not keep a core busy.
"""

from __future__ import annotations

import ctypes

from numba import njit

_libc = ctypes.CDLL(None)
_yield = _libc.sched_yield
_yield.restype, _yield.argtypes = ctypes.c_int, []
_sleep = _libc.usleep
_sleep.restype, _sleep.argtypes = ctypes.c_int, [ctypes.c_uint]

YIELDS = 20_000  # polls with a yield between them (a few milliseconds)
SHORT_SLEEPS = 200  # then 50 us sleeps (about 10 ms more), then 1 ms sleeps


# cache=False: a function calling ctypes pointers cannot go to Numba's disk cache (it compiles in ~0.1 s)
@njit(nogil=True, cache=False)
def wait_for(flags, index, value):
    """Return once ``flags[index] >= value``. The yield or sleep call in the loop makes the
    compiler read the flag again on every poll."""
    polls = 0
    while flags[index] < value:
        polls += 1
        if polls < YIELDS:
            _yield()
        elif polls < YIELDS + SHORT_SLEEPS:
            _sleep(50)
        else:
            _sleep(1000)
    return polls
