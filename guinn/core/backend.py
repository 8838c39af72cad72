"""Float type and seeding shared by the whole engine.

float32 trains fast; float64 is there for gradient checks and for users who want it.
One user seed is split into independent streams (initialisation, shuffling, dropout) so
the same seed reproduces a run bit for bit.
"""

from __future__ import annotations

import random

import numpy as np

from guinn.errors import ConfigError

_FLOATX = "float32"
_GLOBAL_SEED: np.random.Generator | None = None  # models' seeds after set_random_seed
_ALLOWED_FLOATS = ("float32", "float64")

STREAMS = ("init", "shuffle", "dropout")


def floatx() -> str:
    """The default float type for new models ('float32' unless changed)."""
    return _FLOATX


def set_floatx(value: str) -> None:
    """Choose the default float type for models created afterwards."""
    global _FLOATX
    _FLOATX = check_dtype(value).name


def check_dtype(value) -> np.dtype:
    """Accept float32/float64 by name or dtype; anything else is a clear error."""
    try:
        dtype = np.dtype(value)
    except TypeError:
        dtype = None
    if dtype is None or dtype.name not in _ALLOWED_FLOATS:
        raise ConfigError(f"dtype must be one of {', '.join(_ALLOWED_FLOATS)}, got {value!r}.")
    return dtype


def set_random_seed(seed: int | None) -> None:
    """Seed the models created afterwards (Keras's ``utils.set_random_seed``) and, as Keras
    does, Python's ``random`` and NumPy's global generator, which a user's own code may draw
    from. As in Keras, each model then gets its own seed from a sequence this one starts: a
    script builds the same models every run, and an ensemble's members still differ."""
    global _GLOBAL_SEED
    if seed is not None and check_seed(seed) >= 2**32:  # checked before anything is seeded
        raise ConfigError(f"set_random_seed takes a seed from 0 to 2**32 - 1 (the range of NumPy's global "
                          f"generator, which it seeds too), got {seed!r}.")
    _GLOBAL_SEED = None if seed is None else np.random.default_rng(check_seed(seed))
    if seed is not None:
        random.seed(seed)
        np.random.seed(seed)


def default_seed() -> int:
    """A model's seed when it is not given one: the next from ``set_random_seed``'s sequence,
    else fresh entropy (recorded in the model, so a run can be repeated)."""
    if _GLOBAL_SEED is not None:
        return int(_GLOBAL_SEED.integers(2**32))
    return int(np.random.SeedSequence().entropy % (2**32))


def check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}.")
    return int(seed)


def spawn_generators(seed: int) -> dict[str, np.random.Generator]:
    """Independent generators for each stream, all derived from one seed."""
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {name: np.random.Generator(np.random.PCG64(child)) for name, child in zip(STREAMS, children, strict=False)}
