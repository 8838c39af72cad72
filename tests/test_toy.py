import numpy as np
import pytest

from guinn.data.toy import TOY_DATASETS, blobs, make_toy, spiral
from guinn.errors import ConfigError, DataError

MULTICLASS = {"spiral", "blobs"}


@pytest.mark.parametrize("name", sorted(TOY_DATASETS))
def test_shapes_and_dtypes(name):
    x, y = make_toy(name, n_samples=101)
    assert x.shape == (101, 2) and x.dtype == np.float32
    assert y.shape == (101,) and y.dtype == np.int64
    assert np.isfinite(x).all()
    assert np.abs(x).max() < 5


@pytest.mark.parametrize("name", sorted(TOY_DATASETS))
def test_deterministic_per_seed(name):
    a = make_toy(name, seed=3)
    b = make_toy(name, seed=3)
    c = make_toy(name, seed=4)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("name", sorted(TOY_DATASETS))
def test_class_balance_and_shuffle(name):
    x, y = make_toy(name, n_samples=301)
    k = 3 if name in MULTICLASS else 2
    counts = np.bincount(y)
    assert len(counts) == k and counts.max() - counts.min() <= 1
    assert not np.all(np.diff(y) >= 0)  # rows are shuffled, not sorted by class


@pytest.mark.parametrize("fn", [spiral, blobs])
def test_n_classes(fn):
    _, y = fn(n_samples=50, n_classes=5)
    assert np.bincount(y).tolist() == [10] * 5


def test_zero_noise_allowed():
    x, _ = make_toy("circles", noise=0.0, n_samples=40)
    radii = np.sort(np.hypot(x[:, 0], x[:, 1]))
    np.testing.assert_allclose(radii[:20], 0.5, atol=1e-6)
    np.testing.assert_allclose(radii[20:], 1.0, atol=1e-6)


def test_classes_are_separable_enough():
    # nearest class centre classifies clean blobs almost perfectly
    x, y = blobs(n_samples=300, noise=0.1)
    centres = np.stack([x[y == k].mean(0) for k in range(3)])
    pred = np.argmin(((x[:, None] - centres) ** 2).sum(-1), axis=1)
    assert (pred == y).mean() > 0.99


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"n_samples": 1}, "at least n_classes"),
        ({"n_samples": 0}, "n_samples"),
        ({"n_samples": 2.5}, "integer"),
        ({"n_samples": True}, "integer"),
        ({"noise": -0.1}, "noise"),
        ({"noise": float("nan")}, "noise"),
        ({"noise": "a"}, "noise"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
    ],
)
@pytest.mark.parametrize("name", sorted(TOY_DATASETS))
def test_bad_args(name, kw, match):
    with pytest.raises(DataError, match=match):
        make_toy(name, **kw)


def test_bad_n_classes():
    with pytest.raises(DataError, match="at least n_classes"):
        spiral(n_samples=4, n_classes=5)
    with pytest.raises(DataError, match="n_classes"):
        blobs(n_classes=1)
    with pytest.raises(DataError, match="n_classes"):
        blobs(n_classes=1000)


def test_bad_circles_factor():
    with pytest.raises(DataError, match="factor"):
        make_toy("circles", factor=1.5)


def test_unknown_name_and_parameter():
    with pytest.raises(ConfigError, match="Did you mean 'spiral'"):
        make_toy("spirals")
    with pytest.raises(ConfigError, match="Did you mean 'noise'"):
        make_toy("moons", nois=0.1)
    with pytest.raises(ConfigError, match="n_classes"):
        make_toy("moons", n_classes=3)
