"""Per-batch training telemetry as plain, immutable records.

These are what crosses from the engine to any observer (the GUI's worker thread, a
notebook callback): floats only, never live arrays that training keeps mutating. Named
tuples, not frozen dataclasses: one of each per layer and batch, and a frozen dataclass took
five times as long to build (a fifth of telemetry's cost per step).
"""

from __future__ import annotations

import math
from typing import NamedTuple


class LayerTelemetry(NamedTuple):
    """One trainable layer's health after a training step.

    grad_rms: RMS of dL/dW (the kernel's gradient) -- tiny values in early layers are
    vanishing gradients. delta_rms: RMS of the backward signal dL/dz at this layer.
    weight_rms: RMS of the kernel. update_ratio: RMS(step) / RMS(weights); around 1e-3 is
    healthy, far below means the layer barely learns. saturation: fraction of units where
    the activation's slope is ~0 (sigmoid/tanh near their limits, ReLU at or below zero);
    NaN where it does not apply.
    """

    name: str
    grad_rms: float
    delta_rms: float
    weight_rms: float
    update_ratio: float
    saturation: float


class BatchTelemetry(NamedTuple):
    epoch: int
    batch: int
    step: int
    loss: float
    accuracy: float
    layers: tuple[LayerTelemetry, ...]


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else (0.0 if numerator == 0 else math.inf)
