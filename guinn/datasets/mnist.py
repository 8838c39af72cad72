"""The bundled MNIST digits, found in the wheel or in a source checkout, loaded once."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

import guinn
from guinn.datasets.idx_files import load_idx_dataset
from guinn.errors import DataError

FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
SHAPES = {"train": (60000, 28, 28), "test": (10000, 28, 28)}


def candidate_dirs() -> tuple[Path, Path]:
    """Where a wheel install puts the files, then where an editable install finds them."""
    pkg = Path(guinn.__file__).parent
    return pkg / "_datasets" / "mnist", pkg.parent / "datasets" / "mnist"


def mnist_dir() -> Path:
    """The first directory holding all four MNIST files."""
    dirs = candidate_dirs()
    for d in dirs:
        if all((d / name).is_file() for name in FILES):
            return d
    raise DataError(
        f"MNIST files not found in {str(dirs[0])!r} or {str(dirs[1])!r}; expected "
        f"{', '.join(FILES)} in one of them (reinstall guinn to restore them)."
    )


@functools.lru_cache(maxsize=1)
def _load(directory: Path) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    train, test = load_idx_dataset(*(directory / name for name in FILES), readonly=True)
    for split, (x, y) in (("train", train), ("test", test)):
        if x.shape != SHAPES[split] or y.max(initial=0) > 9:
            raise DataError(
                f"MNIST {split} files in {str(directory)!r} hold images of shape {x.shape} "
                f"with labels up to {y.max(initial=0)}; expected shape {SHAPES[split]} and "
                "labels 0-9 (the files may be damaged; reinstall guinn)."
            )
    return train, test


def load_data(path: str = "mnist.npz") -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``((x_train, y_train), (x_test, y_test))`` as uint8, like ``keras.datasets.mnist``.
    ``path`` is Keras's download cache name, taken so that its calls run; guinn's MNIST ships
    with it and nothing is downloaded, so it is not used.

    The arrays are shared and read-only (copy them to modify); pixels are 0 (background) to 255.
    """
    return _load(mnist_dir())
