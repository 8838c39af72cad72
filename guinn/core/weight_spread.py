"""How each layer's weights are spread: the picture that tells L1 from L2.

Both penalties shrink the weights' RMS; only their spread shows that L1 pushes many weights
to (almost) exactly zero while L2 makes them small but rarely zero. Plain NumPy on the
kernels' live views, cheap enough (a few ms for the MNIST example network) for a window to
redraw twice a second while training; a reading taken during a step may mix two steps'
weights, which a histogram cannot show.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

NEAR_ZERO = 1e-3  # |w| below this counts as "zero" (what an L1 penalty makes of useless weights)
BINS = 81  # odd: one bin is centred on zero


class LayerSpread(NamedTuple):
    name: str
    fractions: np.ndarray  # share of the layer's weights in each bin (sums to 1 over finite weights)
    near_zero: float  # share with |w| < NEAR_ZERO
    count: int


class WeightSpread(NamedTuple):
    edges: np.ndarray  # BINS + 1 bin edges, the same for every layer, symmetric around zero
    layers: tuple[LayerSpread, ...]


def weight_spread(model, bins: int = BINS, near_zero: float = NEAR_ZERO) -> WeightSpread | None:
    """The spread of every kernel (the weight matrices, not biases or PReLU slopes) of a built
    ``model``, input to output; None for a model without weights."""
    if model is None or not getattr(model, "built", False):
        return None
    kernels = [(layer.name, layer.params["kernel"]) for layer in model.layers
               if "kernel" in getattr(layer, "params", {})]
    if not kernels:
        return None
    largest = 0.0
    for _, w in kernels:
        ok = np.isfinite(w)
        finite = w if ok.all() else w[ok]  # a diverged run's inf and NaN do not set the axis
        if finite.size:
            largest = max(largest, float(np.abs(finite).max()))
    half = _round_up(largest)
    edges = half * np.linspace(-1.0, 1.0, bins + 1)  # (linspace(-half, half) overflows near float64's max)
    layers = []
    for name, w in kernels:
        flat = w.ravel()
        counts, _ = np.histogram(flat, bins=edges)  # non-finite weights fall outside every bin
        size = max(flat.size, 1)
        small = int(np.count_nonzero(np.abs(flat) < near_zero))
        layers.append(LayerSpread(name, counts / size, small / size, int(flat.size)))
    return WeightSpread(edges, tuple(layers))


def _round_up(x: float) -> float:
    """The next of 1, 2, 2.5, 5 times a power of ten at or above ``x``: the weights' axis keeps
    its bounds while they grow a little; all-zero weights get (-1, 1)."""
    if not x > 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(x))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if m * power >= x * (1 - 1e-12):
            return m * power if math.isfinite(m * power) else x  # (float64's largest weights: x itself)
    return x
