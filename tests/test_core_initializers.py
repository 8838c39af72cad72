"""Initializers follow Keras's definitions (bounds and variances), checked statistically."""

from __future__ import annotations

import numpy as np
import pytest

from guinn.core import initializers
from guinn.core.layers import Dense
from guinn.core.model import Sequential
from guinn.errors import ConfigError

SHAPE = (400, 300)


def draw(name, shape=SHAPE, **kw):
    init = initializers.get({"name": name, **kw}) if kw else initializers.get(name)
    return init(shape, np.random.default_rng(0), np.float64)


def test_glorot_uniform():
    w = draw("glorot_uniform")
    limit = np.sqrt(6 / (400 + 300))
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit
    assert w.var() == pytest.approx(limit**2 / 3, rel=0.02)  # = 2 / (fan_in + fan_out)


def test_he_uniform():
    w = draw("he_uniform")
    limit = np.sqrt(6 / 400)
    assert np.abs(w).max() <= limit
    assert w.var() == pytest.approx(2 / 400, rel=0.02)


@pytest.mark.parametrize("name, variance", [("glorot_normal", 2 / 700), ("he_normal", 2 / 400)])
def test_truncated_normals_keep_the_target_variance(name, variance):
    w = draw(name)
    # Keras: truncated at two (pre-scaling) standard deviations, rescaled by 0.8796... so the
    # variance is the target one
    assert w.var() == pytest.approx(variance, rel=0.02)
    assert np.abs(w).max() <= 2 * np.sqrt(variance) / 0.87962566103423978 + 1e-12
    assert abs(w.mean()) < 0.1 * np.sqrt(variance)


def test_simple_initializers():
    np.testing.assert_array_equal(draw("zeros", (3, 2)), 0)
    np.testing.assert_array_equal(draw("ones", (3, 2)), 1)
    np.testing.assert_array_equal(draw("constant", (3,), value=0.25), 0.25)
    w = draw("random_normal", mean=1.0, stddev=0.5)
    assert w.mean() == pytest.approx(1.0, abs=0.01) and w.std() == pytest.approx(0.5, rel=0.02)
    w = draw("random_uniform", minval=2.0, maxval=3.0)
    assert 2.0 <= w.min() and w.max() < 3.0 and w.mean() == pytest.approx(2.5, abs=0.01)


def test_dense_defaults_and_choices():
    model = Sequential([Dense(300, input_dim=400), Dense(10, kernel_initializer="he_normal",
                                                         bias_initializer="ones")],
                       seed=0, dtype="float64")
    k1, b1, k2, b2 = model.get_weights()
    limit = np.sqrt(6 / 700)
    assert np.abs(k1).max() <= limit and (b1 == 0).all()
    assert k2.var() == pytest.approx(2 / 300, rel=0.15) and (b2 == 1).all()


def test_config_round_trip():
    for init in (initializers.GlorotUniform(), initializers.Constant(0.5),
                 initializers.RandomNormal(0.1, 0.2), initializers.RandomUniform(-1, 2)):
        clone = initializers.get(init.to_config())
        assert type(clone) is type(init) and clone.get_config() == init.get_config()


def test_a_seeded_initializer_draws_the_same_weights_in_any_model():
    """Keras's HeNormal(seed=1): its own generator, so the model's seed does not change the
    weights it draws, and its config keeps the seed."""
    def kernel(model_seed, init):
        model = Sequential([Dense(5, input_dim=4, kernel_initializer=init)], seed=model_seed)
        model.build((4,))
        return model.get_weights()[0]

    for make in (lambda: initializers.HeNormal(seed=7), lambda: initializers.RandomNormal(0.0, 0.1, seed=7)):
        assert np.array_equal(kernel(0, make()), kernel(1, make()))
    shared = initializers.GlorotUniform(seed=7)  # Keras 3: the same values at every call
    model = Sequential([Dense(5, input_dim=4, kernel_initializer=shared)], seed=0)
    model.build((4,))
    first = model.get_weights()[0]
    model.reset_weights()
    assert np.array_equal(model.get_weights()[0], first) and np.array_equal(kernel(1, shared), first)
    assert not np.array_equal(kernel(0, initializers.HeNormal()), kernel(1, initializers.HeNormal()))
    init = initializers.RandomUniform(-1, 1, seed=3)
    assert init.get_config() == {"minval": -1.0, "maxval": 1.0, "seed": 3}
    assert initializers.get(init.to_config()).seed == 3
    with pytest.raises(ConfigError, match="seed must be a non-negative integer"):
        initializers.GlorotUniform(seed=-1)
    with pytest.raises(ConfigError, match="Did you mean 'seed'"):
        initializers.HeNormal(sede=1)


def test_keras_calls_with_arguments_guinn_has_no_use_for_run():
    from guinn.datasets import mnist
    from guinn.regularizers import L2

    (x, _), _ = mnist.load_data(path="mnist.npz")  # Keras's download cache name: nothing to download here
    assert x.shape == (60000, 28, 28)
    with pytest.raises(ConfigError, match="too many positional arguments"):
        L2(0.01, 3)
