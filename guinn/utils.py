"""Keras-style helpers: ``to_categorical`` and ``set_random_seed``."""

from __future__ import annotations

import numpy as np

from guinn.core import memory
from guinn.core.backend import set_floatx, set_random_seed
from guinn.core.losses import one_hot
from guinn.errors import DataError
from guinn.io.model_file import MAX_CLASSES

__all__ = ["set_floatx", "set_random_seed", "to_categorical"]


def to_categorical(y, num_classes=None, dtype="float32") -> np.ndarray:
    """Integer class labels -> one-hot rows (Keras's ``to_categorical``)."""
    y = np.asarray(y)
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y.reshape(y.shape[:-1])
    if y.size == 0:
        raise DataError("to_categorical got no labels.")
    if num_classes is None:
        if y.dtype.kind not in "biuf" or (y.dtype.kind == "f" and not np.isfinite(y).all()):
            raise DataError("Class labels must be finite whole numbers.")
        num_classes = int(y.max()) + 1
    elif isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes <= 0:
        raise DataError(f"num_classes must be a positive integer, got {num_classes!r}.")
    if num_classes > MAX_CLASSES:  # (labels up to 2**40 asked for 4 TiB)
        raise DataError(f"to_categorical: {num_classes:,} classes asked for (labels up to {num_classes - 1:,}); "
                        f"a guinn model file holds at most {MAX_CLASSES:,} classes, numbered from 0.")
    needed = y.size * int(num_classes) * np.dtype(dtype).itemsize
    if memory.exceeds_free(needed):
        raise DataError(f"to_categorical: {y.size:,} labels of {num_classes:,} classes take {needed / 1024**3:.1f} GB "
                        f"as one-hot rows, more than the memory free; with integer labels, compile with "
                        f"loss='sparse_categorical_crossentropy' and pass them as they are.")
    return one_hot(y.reshape(-1), int(num_classes), dtype).reshape(y.shape + (int(num_classes),))
