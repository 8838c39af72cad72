"""Small 2-D classification sets whose decision boundaries can be drawn and watched while training.

Classes are exactly balanced (sizes differ by at most one) and rows are shuffled, so any split
or mini-batch sees every class; the same seed always gives the same data.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np

from guinn.core.validation import is_finite_number
from guinn.errors import DataError, brief, unknown_name

MAX_NOISE = 100.0  # far beyond any useful jitter; 1e308 would overflow the coordinates
MAX_SAMPLES = 1_000_000
MAX_CLASSES = 20

ToyData = tuple[np.ndarray, np.ndarray]


def _check_int(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise DataError(f"{name} must be an integer from {low} to {high}; got {brief(value)}.")
    if not low <= value <= high:
        raise DataError(f"{name} must be from {low} to {high}; got {value}.")
    return int(value)


def _check_args(
    n_samples: object, noise: object, seed: object, n_classes: int
) -> np.random.Generator:
    n_classes = _check_int("n_classes", n_classes, 2, MAX_CLASSES)
    n_samples = _check_int("n_samples", n_samples, 1, MAX_SAMPLES)
    if n_samples < n_classes:
        raise DataError(
            f"n_samples ({n_samples}) must be at least n_classes ({n_classes}), "
            "so that every class gets a sample."
        )
    if not (is_finite_number(noise) and 0 <= noise <= MAX_NOISE):
        raise DataError(f"noise must be a number from 0 to {MAX_NOISE:g} (the points lie within about ±2); "
                        f"got {brief(noise)}.")
    if seed is not None:
        _check_int("seed", seed, 0, 2**63 - 1)
    return np.random.default_rng(seed)


def _class_sizes(n_samples: int, n_classes: int) -> list[int]:
    base, extra = divmod(n_samples, n_classes)
    return [base + (k < extra) for k in range(n_classes)]


def _finish(parts: list[np.ndarray], rng: np.random.Generator) -> ToyData:
    x = np.concatenate(parts).astype(np.float32)
    y = np.concatenate([np.full(len(p), k, dtype=np.int64) for k, p in enumerate(parts)])
    order = rng.permutation(len(y))
    return x[order], y[order]


def spiral(
    n_samples: int = 300, noise: float = 0.2, seed: int | None = 0, n_classes: int = 3
) -> ToyData:
    """Interleaved spiral arms (the CS231n set); ``noise`` jitters the angle, in radians."""
    rng = _check_args(n_samples, noise, seed, n_classes)
    parts = []
    for k, m in enumerate(_class_sizes(n_samples, n_classes)):
        r = np.linspace(0.0, 1.0, m)
        theta = 2 * np.pi * k / n_classes + 4.0 * r + noise * rng.standard_normal(m)
        parts.append(np.column_stack([r * np.sin(theta), r * np.cos(theta)]))
    return _finish(parts, rng)


def circles(
    n_samples: int = 300, noise: float = 0.05, seed: int | None = 0, factor: float = 0.5
) -> ToyData:
    """A ring (class 0, radius 1) around a smaller ring (class 1, radius ``factor``)."""
    rng = _check_args(n_samples, noise, seed, 2)
    if isinstance(factor, bool) or not isinstance(factor, int | float) or not 0 < factor < 1:
        raise DataError(f"factor (inner radius / outer radius) must be in (0, 1); got {brief(factor)}.")
    parts = []
    for radius, m in zip((1.0, factor), _class_sizes(n_samples, 2), strict=True):
        theta = rng.uniform(0, 2 * np.pi, m)
        ring = radius * np.column_stack([np.cos(theta), np.sin(theta)])
        parts.append(ring + noise * rng.standard_normal((m, 2)))
    return _finish(parts, rng)


def xor(n_samples: int = 300, noise: float = 0.1, seed: int | None = 0) -> ToyData:
    """Points in the unit square's quadrants: class 1 where x and y have opposite signs."""
    rng = _check_args(n_samples, noise, seed, 2)
    parts = []
    for k, m in enumerate(_class_sizes(n_samples, 2)):
        sx = rng.choice([-1.0, 1.0], m)
        sy = sx if k == 0 else -sx
        pts = np.column_stack([sx, sy]) * rng.uniform(0.05, 1.0, (m, 2))
        parts.append(pts + noise * rng.standard_normal((m, 2)))
    return _finish(parts, rng)


def blobs(
    n_samples: int = 300, noise: float = 0.3, seed: int | None = 0, n_classes: int = 3
) -> ToyData:
    """Gaussian clusters (std ``noise``) centred evenly on the unit circle."""
    rng = _check_args(n_samples, noise, seed, n_classes)
    parts = []
    for k, m in enumerate(_class_sizes(n_samples, n_classes)):
        angle = 2 * np.pi * k / n_classes
        centre = np.array([np.cos(angle), np.sin(angle)])
        parts.append(centre + noise * rng.standard_normal((m, 2)))
    return _finish(parts, rng)


def moons(n_samples: int = 300, noise: float = 0.1, seed: int | None = 0) -> ToyData:
    """Two interleaving half circles, centred on the origin."""
    rng = _check_args(n_samples, noise, seed, 2)
    m0, m1 = _class_sizes(n_samples, 2)
    t0, t1 = rng.uniform(0, np.pi, m0), rng.uniform(0, np.pi, m1)
    upper = np.column_stack([np.cos(t0), np.sin(t0)])
    lower = np.column_stack([1 - np.cos(t1), 0.5 - np.sin(t1)])
    shift = np.array([0.5, 0.25])
    parts = [p - shift + noise * rng.standard_normal(p.shape) for p in (upper, lower)]
    return _finish(parts, rng)


TOY_DATASETS: dict[str, Callable[..., ToyData]] = {
    "spiral": spiral,
    "circles": circles,
    "xor": xor,
    "blobs": blobs,
    "moons": moons,
}


def make_toy(name: str, **kw: object) -> ToyData:
    """Build a toy set by name, as the GUI and experiment files refer to them."""
    if name not in TOY_DATASETS:
        raise unknown_name("toy dataset", name, TOY_DATASETS)
    fn = TOY_DATASETS[name]
    params = inspect.signature(fn).parameters
    for key in kw:
        if key not in params:
            raise unknown_name(f"{name} parameter", key, params)
    return fn(**kw)
