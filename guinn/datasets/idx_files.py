"""Load any IDX image/label set (MNIST, Fashion-MNIST, KMNIST, ...) through one checked reader."""

from __future__ import annotations

import os

import numpy as np

from guinn.data.idx import load_idx_pair
from guinn.errors import DataError

Split = tuple[np.ndarray, np.ndarray]
PathLike = str | os.PathLike


def load_idx_dataset(
    train_images: PathLike,
    train_labels: PathLike,
    test_images: PathLike | None = None,
    test_labels: PathLike | None = None,
    *,
    readonly: bool = False,
) -> tuple[Split, Split | None]:
    """Return ``((x_train, y_train), (x_test, y_test))``; the test part is None if not given.

    Train and test images must share one height and width, or a model fitted on one could not
    be evaluated on the other.
    """
    if (test_images is None) != (test_labels is None):
        raise DataError(
            "Got test images without test labels or the other way round; "
            "expected both test files or neither."
        )
    train = load_idx_pair(train_images, train_labels, readonly=readonly)
    if test_images is None:
        return train, None
    test = load_idx_pair(test_images, test_labels, readonly=readonly)
    if train[0].shape[1:] != test[0].shape[1:]:
        raise DataError(
            f"Training images are {train[0].shape[1]}x{train[0].shape[2]} but test images are "
            f"{test[0].shape[1]}x{test[0].shape[2]}; expected the same image size in both."
        )
    return train, test
