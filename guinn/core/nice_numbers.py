"""Round numbers for axes: bounds that stay put while the data grow a little, so an axis is
laid out again a few times a decade rather than at every redraw."""

from __future__ import annotations

import math

STEPS = (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10)


def nice_step_up(x: float) -> float:
    """The next of ..., 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10, ... at or above ``x`` (> 0); ``x``
    itself where that would overflow (weights near float64's largest)."""
    power = 10 ** math.floor(math.log10(x))
    for m in STEPS:
        if m * power >= x * (1 - 1e-12):
            return float(m * power) if math.isfinite(m * power) else float(x)
    return float(x)
