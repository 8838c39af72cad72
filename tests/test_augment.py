import time

import numpy as np
import pytest

from guinn.data.augment import make_augmenter, shift_scale
from guinn.datasets.mnist import load_data
from guinn.errors import ConfigError, DataError


@pytest.fixture(scope="module")
def digits():
    x = load_data()[1][0][:200]
    return (x.reshape(len(x), -1) / 255.0).astype(np.float32)


@pytest.fixture(scope="module")
def interior(digits):
    """Digits with at least 3 blank pixels on every side, so small moves keep all their ink."""
    img = digits.reshape(-1, 28, 28)
    rows, cols = img.any(axis=2), img.any(axis=1)
    keep = ~(rows[:, :3].any(1) | rows[:, -3:].any(1) | cols[:, :3].any(1) | cols[:, -3:].any(1))
    assert keep.sum() > 100
    return digits[keep]


def centre_of_mass(flat):
    img = flat.reshape(-1, 28, 28).astype(np.float64)
    ys, xs = np.arange(28), np.arange(28)
    mass = img.sum(axis=(1, 2))
    return img.sum(axis=2) @ ys / mass, img.sum(axis=1) @ xs / mass


def test_zero_shift_and_scale_is_identity(digits):
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    out = make_augmenter((28, 28), 0, 0)(digits, rng)
    np.testing.assert_array_equal(out, digits)
    assert rng.bit_generator.state == state  # draws nothing: same training run as without it


def test_explicit_identity_parameters_reproduce_the_image(digits):
    imgs = digits.reshape(-1, 28, 28)
    out = shift_scale(imgs, np.zeros((len(imgs), 2)), np.ones(len(imgs)))
    np.testing.assert_allclose(out, imgs, atol=1e-6)


def test_shape_dtype_range_and_new_array(digits):
    aug = make_augmenter((28, 28), 3, 0.2)
    out = aug(digits, np.random.default_rng(1))
    assert out.shape == digits.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert not np.shares_memory(out, digits)
    assert not np.allclose(out, digits)
    out2 = aug(digits[:7], np.random.default_rng(1))  # another batch size reuses nothing stale
    assert out2.shape == (7, 784)
    np.testing.assert_array_equal(out, aug(digits, np.random.default_rng(1)))


def test_same_seed_same_result_other_seed_differs(digits):
    aug = make_augmenter((28, 28), 2, 0.1)
    a = aug(digits, np.random.default_rng(42))
    b = aug(digits, np.random.default_rng(42))
    c = aug(digits, np.random.default_rng(43))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_each_image_gets_its_own_transform(digits):
    same = np.repeat(digits[:1], 20, axis=0)
    out = make_augmenter((28, 28), 2, 0.1)(same, np.random.default_rng(0))
    assert len({out[i].tobytes() for i in range(20)}) == 20


def test_shift_keeps_mass(interior):
    digits = interior
    out = make_augmenter((28, 28), 2, 0)(digits, np.random.default_rng(3))
    ratio = out.sum(axis=1) / digits.sum(axis=1)
    assert np.all(np.abs(ratio - 1) < 0.03), ratio.min()


def test_scale_changes_mass_by_the_area_factor(interior):
    digits = interior
    imgs = digits.reshape(-1, 28, 28)
    for s in (0.85, 1.15):
        out = shift_scale(imgs, np.zeros((len(imgs), 2)), np.full(len(imgs), s))
        ratio = out.sum(axis=(1, 2)) / imgs.sum(axis=(1, 2))
        assert np.all(np.abs(ratio / s**2 - 1) < 0.1), (s, ratio.min(), ratio.max())
        # scaling happens around the centre: the centre of mass moves towards/away from it
        cy0, cx0 = centre_of_mass(digits)
        cy, cx = centre_of_mass(out.reshape(len(out), -1))
        # (point-sampling a shrunk image aliases thin strokes a little, so only on average)
        for got, before in ((cy, cy0), (cx, cx0)):
            error = (got - 13.5) - s * (before - 13.5)
            assert abs(error.mean()) < 0.03 and np.abs(error).max() < 0.25


@pytest.mark.parametrize("dy,dx", [(2, 0), (0, -2), (1.5, 1.0), (-0.25, 2)])
def test_shift_moves_the_centre_of_mass(interior, dy, dx):
    digits = interior
    imgs = digits.reshape(-1, 28, 28)
    out = shift_scale(imgs, np.tile([dy, dx], (len(imgs), 1)), np.ones(len(imgs)))
    cy0, cx0 = centre_of_mass(digits)
    cy, cx = centre_of_mass(out.reshape(len(out), -1))
    np.testing.assert_allclose(cy - cy0, dy, atol=0.02)
    np.testing.assert_allclose(cx - cx0, dx, atol=0.02)


def test_random_shifts_stay_within_the_limit(digits):
    out = make_augmenter((28, 28), 2, 0)(digits, np.random.default_rng(5))
    cy0, cx0 = centre_of_mass(digits)
    cy, cx = centre_of_mass(out)
    assert np.abs(cy - cy0).max() <= 2.05 and np.abs(cx - cx0).max() <= 2.05
    assert np.abs(cy - cy0).max() > 1.0  # and they do use the range


def test_non_square_images():
    rng = np.random.default_rng(0)
    x = np.zeros((3, 12 * 20), np.float32)
    x.reshape(3, 12, 20)[:, 5:7, 9:11] = 1.0
    out = make_augmenter((12, 20), 1, 0.1)(x, rng)
    assert out.shape == (3, 240)


def test_bad_arguments_are_explained():
    with pytest.raises(ConfigError, match="max_shift"):
        make_augmenter((28, 28), -1, 0)
    with pytest.raises(ConfigError, match="max_scale"):
        make_augmenter((28, 28), 1, 2.0)
    with pytest.raises(ConfigError, match="image_shape"):
        make_augmenter((28,), 1, 0.1)
    with pytest.raises(DataError, match=r"\(batch, 784\)"):
        make_augmenter((28, 28), 1, 0.1)(np.zeros((4, 100), np.float32), np.random.default_rng())


def test_fast_enough_not_to_slow_training(digits):
    aug = make_augmenter((28, 28), 2, 0.1)
    rng = np.random.default_rng(0)
    xb = digits[:100]
    best = float("inf")
    for _ in range(50):
        start = time.perf_counter()
        aug(xb, rng)
        best = min(best, time.perf_counter() - start)
    assert best < 0.005, f"{best * 1e3:.2f} ms for a 100-image batch"  # ~0.3 ms on a laptop core


def test_experiment_builds_an_augmenter_fit_accepts():
    from guinn.core.specs import LayerSpec
    from guinn.data.catalog import load_dataset
    from guinn.experiment import AugmentSpec, Experiment

    exp = Experiment(layers=(LayerSpec(16, "relu"),), epochs=1, validation_split=0.0,
                     augment=AugmentSpec(enabled=True, max_shift=2, max_scale=0.1))
    data = load_dataset({"kind": "mnist", "limit": 300, "test_limit": 10})
    args = exp.fit_arguments(data)
    assert callable(args["batch_transform"])
    model = exp.build_model(data)
    history = model.fit(**args, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_augmented_training_reads_moved_digits_better():
    """The preset's claim in miniature: trained with shifts, a network reads moved digits."""
    from guinn.core.specs import LayerSpec, build_model
    from guinn.utils import to_categorical

    (x, y), (xt, yt) = load_data()
    n, m = 6000, 1000
    train = (x[:n].reshape(n, -1) / 255.0).astype(np.float32)
    test = (xt[:m] / 255.0).astype(np.float32)
    shifts = np.random.default_rng(0).choice([-2.0, 2.0], size=(m, 2))
    moved = shift_scale(test, shifts, np.ones(m)).reshape(m, -1)
    scores = {}
    for name, aug in (("plain", None), ("augmented", make_augmenter((28, 28), 2, 0.1))):
        model = build_model(784, [LayerSpec(64, "relu")], 10, seed=0)
        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
        model.fit(train, to_categorical(y[:n], 10), batch_size=100, epochs=2, verbose=0,
                  batch_transform=aug)
        scores[name] = [float((model.predict(a).argmax(1) == yt[:m]).mean())
                        for a in (test.reshape(m, -1), moved)]
    print(f"\naccuracy (centred, moved 2 px diagonally): {scores}")
    assert scores["augmented"][1] > scores["plain"][1] + 0.15
    assert scores["augmented"][0] > scores["plain"][0] - 0.03


def test_augmented_preset_is_a_valid_experiment():
    from pathlib import Path

    from guinn.experiment import Experiment

    path = Path(__file__).resolve().parents[1] / "resources" / "presets" / "mnist_augmented.json"
    exp = Experiment.load(path)
    assert exp.augment.enabled and exp.augment.max_shift > 0 and exp.augment.max_scale > 0
    assert exp.dataset["kind"] == "mnist" and len(exp.description) > 300
    assert "augmentation" in exp.title.lower()
