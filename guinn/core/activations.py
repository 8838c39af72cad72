"""Element-wise activations, each forward beside its backward.

Backward functions take the activation's *output* ``a`` (what the forward pass already
kept) and the upstream gradient ``g``, and return dL/dz, overwriting ``g`` in place: the
hot loop allocates nothing. Saturation says what fraction of units sit where their
derivative is nearly zero -- the mechanism behind vanishing gradients.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from guinn.core import fused
from guinn.errors import ConfigError, brief, unknown_name

# Units whose derivative has fallen below ~2% of its peak count as saturated.
SIGMOID_SATURATION = 0.02  # a < 0.02 or a > 0.98  ->  a(1-a) < 0.0196 (peak 0.25)
TANH_SATURATION = 0.98  # |a| > 0.98  ->  1 - a^2 < 0.04 (peak 1)


def _sigmoid(z, out, alpha):
    # 1/(1+e^-z) written through tanh: never overflows, no warnings for huge |z|.
    np.multiply(z, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5
    return out


def _sigmoid_back(a, g, alpha):
    g *= a
    g *= 1.0 - a
    return g


def _sigmoid_sat(a, alpha):
    return fused.count_outside(a, SIGMOID_SATURATION, 1 - SIGMOID_SATURATION) / a.size


def _tanh(z, out, alpha):
    return np.tanh(z, out=out)


def _tanh_back(a, g, alpha):
    g *= 1.0 - a * a
    return g


def _tanh_sat(a, alpha):
    return fused.count_outside(a, -TANH_SATURATION, TANH_SATURATION) / a.size


def _relu(z, out, alpha):
    return np.maximum(z, 0.0, out=out)


def _relu_back(a, g, alpha):
    g *= a > 0
    return g


def _dead_fraction(a, alpha):
    # ReLU-family units at or below zero pass (almost) no gradient for this batch.
    return np.count_nonzero(a <= 0) / a.size


def _leaky(z, out, alpha):
    return np.maximum(z, z * alpha, out=out)


def _leaky_back(a, g, alpha):
    g *= np.where(a > 0, 1.0, alpha).astype(g.dtype, copy=False)
    return g


def _linear(z, out, alpha):
    if out is not z:
        np.copyto(out, z)
    return out


def _linear_back(a, g, alpha):
    return g


def _softmax(z, out, alpha):
    np.subtract(z, z.max(axis=1, keepdims=True), out=out)
    np.exp(out, out=out)
    out /= out.sum(axis=1, keepdims=True)
    return out


def _softmax_back(a, g, alpha):
    # Jacobian-vector product: a * (g - <g, a>)
    dot = np.einsum("ij,ij->i", g, a)[:, None]
    g -= dot
    g *= a
    return g


def _no_saturation(a, alpha):
    return float("nan")


@dataclass(frozen=True)
class Activation:
    """One activation function: forward(z, out), backward(a, g) in place, saturation(a)."""

    name: str
    forward: Callable
    backward: Callable
    saturation: Callable
    help: str


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("sigmoid", _sigmoid, _sigmoid_back, _sigmoid_sat,
                   "Squashes to (0, 1); its slope is at most 0.25 and ~0 when saturated, so "
                   "gradients shrink layer by layer in deep stacks (vanishing gradients)."),
        Activation("tanh", _tanh, _tanh_back, _tanh_sat,
                   "Squashes to (-1, 1), zero-centred; slope up to 1 but still vanishes when saturated."),
        Activation("relu", _relu, _relu_back, _dead_fraction,
                   "max(0, z): slope 1 for active units, so gradients pass through deep stacks; "
                   "units stuck below zero are 'dead'."),
        Activation("leaky_relu", _leaky, _leaky_back, _dead_fraction,
                   "Like ReLU but with a small slope alpha for z < 0, so no unit dies completely."),
        Activation("softmax", _softmax, _softmax_back, _no_saturation,
                   "Turns scores into class probabilities that sum to 1 (output layer)."),
        Activation("linear", _linear, _linear_back, _no_saturation,
                   "Identity: no non-linearity (stacked linear layers stay one linear map)."),
    )
}

ALIASES = {None: "linear", "none": "linear", "identity": "linear", "leakyrelu": "leaky_relu",
           "leaky relu": "leaky_relu"}

# Trainable activations are layers; Dense(activation=...) accepts them as conveniences.
LAYER_ACTIVATIONS = ("prelu", "maxout")


def get(name) -> Activation:
    """Look an activation up by name (case-insensitive), with a "did you mean" on a typo."""
    if isinstance(name, Activation):
        return name
    key = name.lower().strip() if isinstance(name, str) else name
    if key is not None and not isinstance(key, str):
        raise unknown_name("activation", name, list(ACTIVATIONS) + list(LAYER_ACTIVATIONS))
    key = ALIASES.get(key, key)
    if key not in ACTIVATIONS:
        raise unknown_name("activation", name, list(ACTIVATIONS) + list(LAYER_ACTIVATIONS))
    return ACTIVATIONS[key]


def check_alpha(alpha) -> float:
    ok = isinstance(alpha, (int, float, np.floating)) and not isinstance(alpha, bool)
    if not ok or not 0 <= alpha < 1:
        raise ConfigError(f"leaky_relu alpha must be a number in [0, 1), got {brief(alpha)}.")
    return float(alpha)
