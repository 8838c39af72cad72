import time

import numpy as np
import pytest

from guinn.datasets import mnist
from guinn.errors import DataError

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(scope="module")
def data():
    return mnist.load_data()


def test_shapes_and_dtypes(data):
    (x_train, y_train), (x_test, y_test) = data
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    for arr in (x_train, y_train, x_test, y_test):
        assert arr.dtype == np.uint8


def test_label_counts(data):
    (_, y_train), (_, y_test) = data
    assert np.bincount(y_train).tolist() == TRAIN_COUNTS
    assert np.bincount(y_test).tolist() == TEST_COUNTS


def test_mean_pixel(data):
    (x_train, _), _ = data
    assert x_train.mean() / 255 == pytest.approx(0.1307, abs=1e-4)


def test_arrays_are_read_only(data):
    (x_train, y_train), _ = data
    with pytest.raises(ValueError):
        x_train[0, 0, 0] = 1
    with pytest.raises(ValueError):
        y_train.flags.writeable = True
    again = mnist.load_data()[0][0]
    assert again[0].sum() == x_train[0].sum()


def test_load_is_fast():
    mnist._load.cache_clear()
    start = time.perf_counter()
    mnist.load_data()
    assert time.perf_counter() - start < 2.0


def test_mnist_dir_prefers_wheel_location_then_checkout(tmp_path, monkeypatch):
    assert (mnist.mnist_dir() / "train-images-idx3-ubyte.gz").is_file()
    wheel, checkout = tmp_path / "wheel", tmp_path / "checkout"
    monkeypatch.setattr(mnist, "candidate_dirs", lambda: (wheel, checkout))
    with pytest.raises(DataError) as info:
        mnist.mnist_dir()
    assert str(wheel) in str(info.value) and str(checkout) in str(info.value)
    for d in (wheel, checkout):
        d.mkdir()
        for name in mnist.FILES:
            (d / name).write_bytes(b"")
    assert mnist.mnist_dir() == wheel


def test_candidate_dirs_are_wheel_then_checkout():
    from pathlib import Path

    import guinn

    pkg = Path(guinn.__file__).parent
    assert mnist.candidate_dirs() == (
        pkg / "_datasets" / "mnist",
        pkg.parent / "datasets" / "mnist",
    )
