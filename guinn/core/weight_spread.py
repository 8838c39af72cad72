"""How each layer's weights are spread: the picture that tells L1 from L2.

Both penalties shrink the weights' RMS; only their spread shows that L1 pushes many weights
to (almost) exactly zero while L2 makes them small but rarely zero. Plain NumPy on the
kernels' live views, cheap enough (a few ms for the MNIST example network) for a window to
redraw twice a second while training; a reading taken during a step may mix two steps'
weights, which a histogram cannot show.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from guinn.core.nice_numbers import nice_step_up

NEAR_ZERO = 1e-3  # |w| below this counts as "zero" (what an L1 penalty makes of useless weights)
BINS = 81  # odd: one bin is centred on zero


class LayerSpread(NamedTuple):
    name: str
    fractions: np.ndarray  # share of the layer's weights in each bin (the few beyond the axis in none)
    near_zero: float  # share with |w| < NEAR_ZERO
    count: int


class WeightSpread(NamedTuple):
    edges: np.ndarray  # BINS + 1 bin edges, the same for every layer, symmetric around zero, spanning
    # where all but 1 in 1,000 of the weights lie
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
    half = _round_up(_typical_largest(kernels))
    edges = half * np.linspace(-1.0, 1.0, bins + 1)  # (linspace(-half, half) overflows near float64's max)
    layers = []
    for name, w in kernels:
        flat = w.ravel()
        counts, _ = np.histogram(flat, bins=edges)  # non-finite weights fall outside every bin
        size = max(flat.size, 1)
        small = int(np.count_nonzero(np.abs(flat) < near_zero))
        layers.append(LayerSpread(name, counts / size, small / size, int(flat.size)))
    return WeightSpread(edges, tuple(layers))


def _typical_largest(kernels) -> float:
    """The axis the spread is drawn on: |w| that all but 1 in 1,000 of each hidden layer's
    weights stay within (the output layer's alone when there is no other; a diverged run's inf
    and NaN aside), from an even sample of at most ~50,000 a layer. The largest weight set it
    before: the output layer's few large ones squeezed the hidden layers' spread, the one L1
    and L2 lessons are about, into the middle sixth of the plot. The output layer's largest
    may lie beyond it."""
    typical = 0.0
    for _, w in (kernels[:-1] if len(kernels) > 1 else kernels):
        sample = np.abs(w.ravel()[::max(1, w.size // 50_000)].astype(np.float64))
        sample = sample[np.isfinite(sample)]
        if sample.size:
            typical = max(typical, float(np.quantile(sample, 0.999)))
    return typical


def _round_up(x: float) -> float:
    """The weights' axis on round bounds (it keeps them while the weights grow a little);
    all-zero weights get (-1, 1)."""
    return nice_step_up(x) if x > 0 else 1.0
