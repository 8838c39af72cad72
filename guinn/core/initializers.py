"""Weight initialisers with Keras's names and definitions.

Glorot keeps the variance of signals roughly constant through sigmoid/tanh layers; He
does the same for ReLU, which zeroes half its inputs.
"""

from __future__ import annotations

import numpy as np

from guinn.core import backend
from guinn.core.validation import is_finite_number
from guinn.errors import ConfigError, brief, checked_arguments, unknown_name


def _fans(shape):
    fan_in = shape[0]
    fan_out = int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]
    return fan_in, fan_out


class Initializer:
    """Draws from the model's seeded generator, or, given ``seed`` as in Keras 3, from a fresh
    generator of that seed at every call: the same values every time (a reset, another layer,
    another model), whatever else the model holds."""

    name = "initializer"

    @checked_arguments
    def __init__(self, seed=None):
        self.seed = None if seed is None else backend.check_seed(seed)

    def __call__(self, shape, rng: np.random.Generator, dtype) -> np.ndarray:
        return self.draw(shape, rng if self.seed is None else np.random.default_rng(self.seed), dtype)

    def draw(self, shape, rng: np.random.Generator, dtype) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {} if self.seed is None else {"seed": self.seed}

    def to_config(self) -> dict:
        return {"name": self.name, **self.get_config()}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class GlorotUniform(Initializer):
    """U(-l, l), l = sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""

    name = "glorot_uniform"

    def draw(self, shape, rng, dtype):
        fan_in, fan_out = _fans(shape)
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, size=shape).astype(dtype)


class GlorotNormal(Initializer):
    """Truncated N(0, 2 / (fan_in + fan_out))."""

    name = "glorot_normal"

    def draw(self, shape, rng, dtype):
        fan_in, fan_out = _fans(shape)
        return _truncated_normal(rng, shape, np.sqrt(2.0 / (fan_in + fan_out)), dtype)


class HeNormal(Initializer):
    """Truncated N(0, 2 / fan_in) (He et al., 2015)."""

    name = "he_normal"

    def draw(self, shape, rng, dtype):
        fan_in, _ = _fans(shape)
        return _truncated_normal(rng, shape, np.sqrt(2.0 / fan_in), dtype)


class HeUniform(Initializer):
    """U(-l, l), l = sqrt(6 / fan_in)."""

    name = "he_uniform"

    def draw(self, shape, rng, dtype):
        fan_in, _ = _fans(shape)
        limit = np.sqrt(6.0 / fan_in)
        return rng.uniform(-limit, limit, size=shape).astype(dtype)


class RandomNormal(Initializer):
    name = "random_normal"

    @checked_arguments
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean = _number("mean", mean)
        self.stddev = _number("stddev", stddev, positive=True)

    def draw(self, shape, rng, dtype):
        return rng.normal(self.mean, self.stddev, size=shape).astype(dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class RandomUniform(Initializer):
    name = "random_uniform"

    @checked_arguments
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval = _number("minval", minval)
        self.maxval = _number("maxval", maxval)
        if self.maxval <= self.minval:
            raise ConfigError(f"random_uniform needs minval < maxval, got {brief(minval)} and {brief(maxval)}.")

    def draw(self, shape, rng, dtype):
        return rng.uniform(self.minval, self.maxval, size=shape).astype(dtype)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}


class Zeros(Initializer):
    name = "zeros"

    def draw(self, shape, rng, dtype):
        return np.zeros(shape, dtype=dtype)


class Ones(Initializer):
    name = "ones"

    def draw(self, shape, rng, dtype):
        return np.ones(shape, dtype=dtype)


class Constant(Initializer):
    name = "constant"

    @checked_arguments
    def __init__(self, value=0.0):
        super().__init__()
        self.value = _number("value", value)

    def draw(self, shape, rng, dtype):
        return np.full(shape, self.value, dtype=dtype)

    def get_config(self):
        return {"value": self.value}


def _truncated_normal(rng, shape, std, dtype):
    # Keras truncates at two standard deviations and rescales so the variance stays std^2.
    std = std / 0.87962566103423978
    x = rng.standard_normal(size=shape)
    bad = np.abs(x) > 2
    while bad.any():
        x[bad] = rng.standard_normal(size=int(bad.sum()))
        bad = np.abs(x) > 2
    return (x * std).astype(dtype)


def _number(name, value, positive=False):
    if not is_finite_number(value) or (positive and value <= 0):
        need = "a positive number" if positive else "a finite number"
        raise ConfigError(f"Initializer argument {name} must be {need}, got {brief(value)}.")
    return float(value)


INITIALIZERS = {c.name: c for c in (GlorotUniform, GlorotNormal, HeNormal, HeUniform, RandomNormal,
                                    RandomUniform, Zeros, Ones, Constant)}


def get(identifier) -> Initializer:
    """An initializer from a name, a ``{"name": ..., **args}`` config, or an instance."""
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, dict):
        config = dict(identifier)
        name = config.pop("name", None)
        cls = INITIALIZERS.get(name) if isinstance(name, str) else None
        if cls is None:
            raise unknown_name("initializer", name, INITIALIZERS)
        return cls(**config)
    key = identifier.lower() if isinstance(identifier, str) else identifier
    if not isinstance(key, str) or key not in INITIALIZERS:
        raise unknown_name("initializer", identifier, INITIALIZERS)
    return INITIALIZERS[key]()
