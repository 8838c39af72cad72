"""Inverted dropout (and its equivalence with the classic scheme), and seeded determinism."""

from __future__ import annotations

import numpy as np
import pytest

import guinn.utils
from guinn.core.layers import Dense, Dropout
from guinn.core.model import Sequential
from guinn.errors import ConfigError


def built_dropout(rate, shape):
    layer = Dropout(rate)
    layer.build(shape)
    layer.bind({}, {})
    return layer


# -- dropout ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_inverted_dropout_while_training(dtype):
    p = 0.3
    layer = built_dropout(p, (1000,))
    x = np.random.default_rng(0).uniform(0.5, 2.0, size=(20, 1000)).astype(dtype)
    out = layer.forward(x, True, np.random.default_rng(1))
    assert out.dtype == dtype
    kept = out != 0
    # survivors are scaled by 1 / (1 - p), the rest are exactly zero
    np.testing.assert_allclose(out[kept], x[kept] / (1 - p), rtol=1e-6)
    # the dropped fraction is p (binomial, 20000 draws: sd ~ 0.0032)
    assert abs((~kept).mean() - p) < 0.02
    assert x.min() > 0  # the input was not modified in place
    np.testing.assert_array_equal(x, np.random.default_rng(0).uniform(0.5, 2.0, size=(20, 1000))
                                  .astype(dtype))


def test_dropout_is_identity_at_inference():
    layer = built_dropout(0.5, (10,))
    x = np.random.default_rng(0).normal(size=(4, 10))
    np.testing.assert_array_equal(layer.call(x), x)
    np.testing.assert_array_equal(layer.forward(x, False, np.random.default_rng(0)), x)
    zero = built_dropout(0.0, (10,))
    np.testing.assert_array_equal(zero.forward(x, True, np.random.default_rng(0)), x)


def test_masks_differ_between_batches():
    layer = built_dropout(0.5, (50,))
    rng = np.random.default_rng(0)
    x = np.ones((4, 50))
    a = layer.forward(x, True, rng).copy()
    b = layer.forward(x, True, rng).copy()
    assert not np.array_equal(a, b)


def test_inverted_dropout_matches_classic_scheme_in_expectation():
    """Classic dropout drops while training and multiplies by (1 - p) at test time; inverted
    dropout scales survivors by 1/(1 - p) and does nothing at test time. Either way the
    expected training activation equals the test-time activation -- here also after a Dense
    layer, which is what the next layer actually sees."""
    p, draws, units = 0.4, 20000, 40
    rng = np.random.default_rng(3)
    x = rng.uniform(0.2, 1.0, size=(1, units))
    w = rng.normal(size=(units, 5))
    layer = built_dropout(p, (units,))
    drop_rng = np.random.default_rng(4)
    total_inv = np.zeros(units)
    total_classic = np.zeros(units)
    total_next_inv = np.zeros(5)
    total_next_classic = np.zeros(5)
    xs = np.repeat(x, 100, axis=0)
    for _ in range(draws // 100):
        out = layer.forward(xs, True, drop_rng)
        keep = out != 0
        classic = xs * keep  # the classic scheme's training output, same masks
        total_inv += out.sum(axis=0)
        total_classic += classic.sum(axis=0)
        total_next_inv += (out @ w).sum(axis=0)
        total_next_classic += (classic @ w).sum(axis=0)
    mean_inv, mean_classic = total_inv / draws, total_classic / draws
    test_inv = layer.call(x)[0]  # inverted: identity at test time
    test_classic = (1 - p) * x[0]  # classic: scale at test time
    # standard error of one unit's mean under inverted dropout: x sqrt(p / (1 - p)) / sqrt(draws)
    se = x[0] * np.sqrt(p / (1 - p)) / np.sqrt(draws)
    assert np.all(np.abs(mean_inv - test_inv) < 5 * se)
    assert np.all(np.abs(mean_classic - test_classic) < 5 * se * (1 - p))
    # same ratio of expected training activation to test activation (1) in both schemes
    np.testing.assert_allclose(mean_inv / test_inv, mean_classic / test_classic, rtol=1e-12)
    se_next = np.sqrt(p / (1 - p) * (x[0] ** 2) @ (w ** 2)) / np.sqrt(draws)
    assert np.all(np.abs(total_next_inv / draws - (x @ w)[0]) < 5 * se_next)
    assert np.all(np.abs(total_next_classic / draws - ((1 - p) * x @ w)[0]) < 5 * se_next)


def test_model_with_dropout_predicts_deterministically_without_dropout():
    with_drop = Sequential([Dense(20, activation="relu", input_dim=5), Dropout(0.5), Dense(3)],
                           seed=1, dtype="float64")
    without = Sequential([Dense(20, activation="relu", input_dim=5), Dense(3)], seed=1,
                         dtype="float64")
    with_drop.build((5,))
    without.build((5,))
    without.set_weights(with_drop.get_weights())
    x = np.random.default_rng(0).normal(size=(7, 5))
    np.testing.assert_array_equal(with_drop.predict(x), with_drop.predict(x))
    np.testing.assert_allclose(with_drop.predict(x), without.predict(x), rtol=1e-14)


def test_dropout_rate_bounds():
    for bad in (1.0, -0.1, 1.5, "0.5", True, None):
        with pytest.raises(ConfigError, match="Dropout rate"):
            Dropout(bad)


# -- determinism --------------------------------------------------------------------------
X = np.random.default_rng(10).normal(size=(120, 6))
Y = np.eye(3)[np.random.default_rng(11).integers(0, 3, 120)]


def trained(seed=None, dtype="float32", epochs=3):
    model = Sequential([Dense(16, activation="relu", input_dim=6), Dropout(0.3),
                        Dense(8, activation="tanh"), Dense(3, activation="softmax")],
                       seed=seed, dtype=dtype)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(X, Y, batch_size=16, epochs=epochs, verbose=0, validation_split=0.2)
    return model, history


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_same_seed_gives_bit_identical_weights(dtype):
    a, ha = trained(123, dtype)
    b, hb = trained(123, dtype)
    np.testing.assert_array_equal(a.get_flat_weights(), b.get_flat_weights())
    assert ha.history == hb.history
    c, _ = trained(124, dtype)
    assert not np.array_equal(a.get_flat_weights(), c.get_flat_weights())


def test_seed_controls_each_stream_not_just_init():
    # same init, then training differs only through shuffling/dropout streams -> identical
    a, _ = trained(5)
    b = Sequential([Dense(16, activation="relu", input_dim=6), Dropout(0.3),
                    Dense(8, activation="tanh"), Dense(3, activation="softmax")], seed=5)
    b.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    initial = b.get_flat_weights()
    b.fit(X, Y, batch_size=16, epochs=3, verbose=0, validation_split=0.2)
    np.testing.assert_array_equal(a.get_flat_weights(), b.get_flat_weights())
    # reset_weights goes back to the seeded initial weights and replays the same run
    b.reset_weights()
    np.testing.assert_array_equal(b.get_flat_weights(), initial)
    b.fit(X, Y, batch_size=16, epochs=3, verbose=0, validation_split=0.2)
    np.testing.assert_array_equal(a.get_flat_weights(), b.get_flat_weights())


def test_set_random_seed(reset_global_seed):
    """As in Keras: the same script builds the same models, and its models differ from each
    other (an ensemble's members used to be one model, all seeded 42)."""
    guinn.utils.set_random_seed(42)
    a, _ = trained()
    b, _ = trained()
    assert a.seed != b.seed and not np.array_equal(a.get_flat_weights(), b.get_flat_weights())
    guinn.utils.set_random_seed(42)  # the script again
    a2, _ = trained()
    b2, _ = trained()
    assert (a2.seed, b2.seed) == (a.seed, b.seed)
    np.testing.assert_array_equal(a.get_flat_weights(), a2.get_flat_weights())
    np.testing.assert_array_equal(b.get_flat_weights(), b2.get_flat_weights())
    guinn.utils.set_random_seed(43)
    c, _ = trained()
    assert not np.array_equal(a.get_flat_weights(), c.get_flat_weights())
    # an explicit seed wins over the global one
    d, _ = trained(a.seed)
    np.testing.assert_array_equal(a.get_flat_weights(), d.get_flat_weights())


def test_unseeded_models_differ_but_record_their_seed(reset_global_seed):
    guinn.utils.set_random_seed(None)
    a, _ = trained(epochs=1)
    b, _ = trained(epochs=1)
    assert not np.array_equal(a.get_flat_weights(), b.get_flat_weights())
    again, _ = trained(a.seed, epochs=1)
    np.testing.assert_array_equal(a.get_flat_weights(), again.get_flat_weights())


@pytest.mark.parametrize("bad", [-1, 1.5, "7", True])
def test_bad_seeds(bad, reset_global_seed):
    with pytest.raises(ConfigError, match="seed"):
        guinn.utils.set_random_seed(bad)
    with pytest.raises(ConfigError, match="seed"):
        Sequential(seed=bad)
