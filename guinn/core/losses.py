"""Losses with Keras's names and definitions (mean over the batch).

Cross-entropy after softmax (and binary cross-entropy after sigmoid) is *fused*: the loss
is computed from the logits by log-sum-exp, so huge logits never give NaN, and the
gradient with respect to the logits is simply (probabilities - targets) / N.
"""

from __future__ import annotations

import numpy as np

from guinn.errors import DataError, checked_arguments, unknown_name

EPSILON = 1e-7  # Keras clips probabilities to [eps, 1 - eps] when it cannot fuse
ROW_SUM_TOLERANCE = 1e-3  # categorical targets' rows may miss 1 by float32 rounding of smoothed labels


class Loss:
    name = "loss"
    fused_activation: str | None = None
    integer_labels = False  # whether targets are class numbers rather than one-hot rows

    @checked_arguments
    def __init__(self):
        """Keras's loss options (from_logits, label_smoothing...) are not offered: a clear error."""

    def __call__(self, y_true, y_pred) -> float:
        raise NotImplementedError

    def gradient(self, y_true, y_pred) -> np.ndarray:
        """dL/dy_pred for the batch mean."""
        raise NotImplementedError

    def fused(self, y_true, logits, probs) -> tuple[float, np.ndarray]:
        """(loss, dL/dlogits) when the output activation is ``fused_activation``."""
        raise NotImplementedError

    def prepare_targets(self, y, output_units: int, dtype) -> np.ndarray:
        """Check labels against the output layer and return them in the form the loss uses."""
        y = _numeric(y, "y")
        if y.ndim == 1 and output_units == 1:
            y = y[:, None]
        if y.ndim != 2 or y.shape[1] != output_units:
            hint = ""
            if y.ndim == 1 and output_units > 1 and self.name == "categorical_crossentropy":
                hint = (" These look like class numbers: one-hot encode them with guinn.utils.to_categorical(y, "
                        f"{output_units}), or compile with loss='sparse_categorical_crossentropy'.")
            raise DataError(f"{self.name} needs targets of shape (samples, {output_units}) to match "
                            f"the output layer's {output_units} units, got {y.shape}.{hint}")
        return y.astype(dtype, copy=False)

    def __repr__(self):
        return f"{type(self).__name__}()"


class CategoricalCrossentropy(Loss):
    """-sum(y * log p) per sample; targets are one-hot (or probability) rows."""

    name = "categorical_crossentropy"
    fused_activation = "softmax"

    def __call__(self, y_true, y_pred):
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        return float(-np.sum(y_true * np.log(p)) / len(y_true))

    def gradient(self, y_true, y_pred):
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        return np.where(p == y_pred, -(y_true / p) / len(y_true), 0.0)  # flat where clipped, as the loss is

    def fused(self, y_true, logits, probs):
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = float(-np.einsum("ij,ij->", y_true, log_probs) / len(y_true))
        grad = probs - y_true
        grad *= 1.0 / len(y_true)
        return loss, grad

    def prepare_targets(self, y, output_units, dtype):
        y = super().prepare_targets(y, output_units, dtype)
        if y.size and (y.min() < 0 or y.max() > 1):
            raise DataError("categorical_crossentropy needs one-hot targets with values in [0, 1]; "
                            "for integer class labels use sparse_categorical_crossentropy or "
                            "guinn.utils.to_categorical.")
        # rows that are not distributions: the fused gradient (p - y) is the loss's only if each sums to 1
        sums = y.sum(axis=1, dtype=np.float64)
        off = np.flatnonzero(np.abs(sums - 1) > ROW_SUM_TOLERANCE)
        if off.size:
            raise DataError(f"categorical_crossentropy needs each target row to sum to 1 (one-hot, or class "
                            f"probabilities such as smoothed labels); {off.size:,} of {len(y):,} rows do not, "
                            f"e.g. row {off[0]} sums to {sums[off[0]]:g}.")
        return y


class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    """Cross-entropy with integer class labels; they are one-hot encoded once, up front."""

    name = "sparse_categorical_crossentropy"
    integer_labels = True

    def prepare_targets(self, y, output_units, dtype):
        y = _numeric(y, "y")
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise DataError(f"sparse_categorical_crossentropy needs integer labels of shape (samples,), "
                            f"got {y.shape}.")
        return one_hot(y, output_units, dtype)


class BinaryCrossentropy(Loss):
    """-(y log p + (1 - y) log(1 - p)), averaged over outputs and samples."""

    name = "binary_crossentropy"
    fused_activation = "sigmoid"

    def __call__(self, y_true, y_pred):
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        return float(-np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p)))

    def gradient(self, y_true, y_pred):
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        return np.where(p == y_pred, (p - y_true) / (p * (1 - p)) / y_true.size, 0.0)  # flat where clipped

    def fused(self, y_true, logits, probs):
        z = logits
        loss = float(np.mean(np.maximum(z, 0) - z * y_true + np.log1p(np.exp(-np.abs(z)))))
        grad = probs - y_true
        grad *= 1.0 / y_true.size
        return loss, grad

    def prepare_targets(self, y, output_units, dtype):
        y = super().prepare_targets(y, output_units, dtype)
        if y.size and (y.min() < 0 or y.max() > 1):
            raise DataError("binary_crossentropy needs targets in [0, 1].")
        return y


class MeanSquaredError(Loss):
    """mean((y - p)^2) over outputs and samples."""

    name = "mean_squared_error"

    def __call__(self, y_true, y_pred):
        d = y_pred - y_true
        return float(np.mean(d * d))

    def gradient(self, y_true, y_pred):
        return (2.0 / y_true.size) * (y_pred - y_true)


LOSSES = {c.name: c for c in (CategoricalCrossentropy, SparseCategoricalCrossentropy,
                              BinaryCrossentropy, MeanSquaredError)}
ALIASES = {"mse": "mean_squared_error", "crossentropy": "categorical_crossentropy"}


# Keras's loss functions (keras.losses.categorical_crossentropy): the loss of each sample, and
# what compile(loss=...) reads as the loss of that name.
def _per_sample(name: str):
    def wrap(fn):
        fn.loss_name = name
        fn.__doc__ = f"Keras's ``losses.{fn.__name__}``: the {name.replace('_', ' ')} of each sample."
        return fn
    return wrap


def _pair(y_true, y_pred):
    return _numeric(y_true, "y_true"), _numeric(y_pred, "y_pred")


@_per_sample("categorical_crossentropy")
def categorical_crossentropy(y_true, y_pred) -> np.ndarray:
    y, p = _pair(y_true, y_pred)
    return -np.sum(y * np.log(np.clip(p, EPSILON, 1 - EPSILON)), axis=-1)


@_per_sample("sparse_categorical_crossentropy")
def sparse_categorical_crossentropy(y_true, y_pred) -> np.ndarray:
    y, p = _pair(y_true, y_pred)
    return categorical_crossentropy(one_hot(y, p.shape[-1], p.dtype), p)


@_per_sample("binary_crossentropy")
def binary_crossentropy(y_true, y_pred) -> np.ndarray:
    y, p = _pair(y_true, y_pred)
    p = np.clip(p, EPSILON, 1 - EPSILON)
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p), axis=-1)


@_per_sample("mean_squared_error")
def mean_squared_error(y_true, y_pred) -> np.ndarray:
    y, p = _pair(y_true, y_pred)
    return np.mean((p - y) ** 2, axis=-1)


mse = mean_squared_error


def get(identifier) -> Loss:
    if isinstance(identifier, Loss):
        return identifier
    if callable(identifier) and getattr(identifier, "loss_name", None) in LOSSES:  # one of the functions above
        return LOSSES[identifier.loss_name]()
    key = identifier.lower() if isinstance(identifier, str) else identifier
    if not isinstance(key, str):
        raise unknown_name("loss", identifier, LOSSES)
    key = ALIASES.get(key, key)
    if key not in LOSSES:
        raise unknown_name("loss", identifier, LOSSES)
    return LOSSES[key]()


def one_hot(labels, num_classes: int, dtype="float32") -> np.ndarray:
    """Integer labels -> one-hot rows, with a clear error for labels outside 0..num_classes-1."""
    labels = _numeric(labels, "labels")
    if labels.size and not np.all(np.equal(np.mod(labels, 1), 0)):
        raise DataError("Class labels must be whole numbers.")
    labels = labels.astype(np.int64, copy=False).reshape(-1)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        bad = labels[(labels < 0) | (labels >= num_classes)][0]
        raise DataError(f"Label {bad} is outside the class range 0..{num_classes - 1} "
                        f"({num_classes} classes).")
    out = np.zeros((labels.size, num_classes), dtype=dtype)
    out[np.arange(labels.size), labels] = 1
    return out


def _numeric(y, what) -> np.ndarray:
    try:
        y = np.asarray(y)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{what} must be a rectangular numeric array: {exc}") from None
    if y.dtype.kind not in "biuf":
        raise DataError(f"{what} must be numeric, got an array of dtype {y.dtype}.")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise DataError(f"{what} contains NaN or infinite values.")
    return y
