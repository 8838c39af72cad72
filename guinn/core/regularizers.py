"""Weight penalties with Keras's definitions: l1 * sum|w| + l2 * sum(w^2).

L1 pushes weights to exactly zero (sparse nets); L2 shrinks them all smoothly (weight decay).
The penalty is part of the reported loss, and its gradient is added to the kernel's.
"""

from __future__ import annotations

import numpy as np

from guinn.core.validation import is_finite_number
from guinn.errors import ConfigError, brief, checked_arguments, unknown_name


class L1L2:
    """Penalty l1 * sum(|w|) + l2 * sum(w**2); gradient l1 * sign(w) + 2 * l2 * w."""

    @checked_arguments
    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _factor("l1", l1)
        self.l2 = _factor("l2", l2)

    def __call__(self, w: np.ndarray) -> float:
        total = 0.0
        if self.l1:
            total += self.l1 * float(np.abs(w).sum(dtype=np.float64))
        if self.l2:
            flat = w.reshape(-1)
            total += self.l2 * float(np.dot(flat, flat))
        return total

    def add_gradient(self, w: np.ndarray, grad: np.ndarray) -> None:
        """grad += d(penalty)/dw, in place."""
        if self.l1:
            grad += self.l1 * np.sign(w)
        if self.l2:
            grad += (2.0 * self.l2) * w

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}

    def __bool__(self):
        return bool(self.l1 or self.l2)

    def __eq__(self, other):
        return isinstance(other, L1L2) and self.get_config() == other.get_config()

    def __repr__(self):
        return f"L1L2(l1={self.l1}, l2={self.l2})"


@checked_arguments
def l1(l1=0.01) -> L1L2:
    return L1L2(l1=l1)


@checked_arguments
def l2(l2=0.01) -> L1L2:
    return L1L2(l2=l2)


@checked_arguments
def l1_l2(l1=0.01, l2=0.01) -> L1L2:
    return L1L2(l1=l1, l2=l2)


L1 = l1
L2 = l2

_FACTORIES = {"l1": l1, "l2": l2, "l1_l2": l1_l2}


def get(identifier) -> L1L2 | None:
    """A regularizer from None, a name, a ``{"l1": .., "l2": ..}`` dict, or an instance."""
    if identifier is None or isinstance(identifier, L1L2):
        return identifier
    if isinstance(identifier, dict):
        unknown = set(identifier) - {"l1", "l2"}
        if unknown:
            raise ConfigError(f"A regularizer config has keys l1 and l2 only, got {brief(sorted(unknown), 100)}.")
        return L1L2(**identifier)
    if not isinstance(identifier, str) or identifier not in _FACTORIES:
        raise unknown_name("regularizer", identifier, _FACTORIES)
    return _FACTORIES[identifier]()


def _factor(name, value) -> float:
    if not is_finite_number(value) or value < 0:
        raise ConfigError(f"Regularization factor {name} must be a finite number >= 0, got {brief(value)}.")
    return float(value)
