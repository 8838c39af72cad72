"""Sequential end to end: leading parameter-free layers, predict/evaluate paths, weights order."""

from __future__ import annotations

import numpy as np
import pytest

from guinn.callbacks import LambdaCallback
from guinn.core.layers import Activation, Dense, Dropout, Flatten, Maxout, PReLU
from guinn.core.model import Sequential


@pytest.mark.parametrize("first", [
    lambda: Flatten(input_shape=(2, 3)),
    lambda: Dropout(0.2, input_shape=(2, 3)),
    lambda: Activation("tanh", input_shape=(2, 3)),
], ids=["flatten", "dropout", "activation"])
def test_fit_with_parameter_free_first_layer(first):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 2, 3))
    y = np.eye(2)[rng.integers(0, 2, 20)]
    layers = [first()]
    if not isinstance(layers[0], Flatten):
        layers.append(Flatten())
    layers += [Dense(4, activation="relu"), Dense(2, activation="softmax")]
    model = Sequential(layers, seed=1)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=5, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert np.isfinite(model.get_flat_weights()).all()


def toy(n=24, d=3, k=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    return x, np.eye(k)[rng.integers(0, k, n)]


@pytest.mark.parametrize("loss, act, k", [("categorical_crossentropy", "softmax", 3),
                                          ("binary_crossentropy", "sigmoid", 1)])
def test_fused_and_unfused_outputs_train_identically(loss, act, k):
    x, y = toy(k=max(k, 2))
    if k == 1:
        y = y[:, :1]
    fused = Sequential([Dense(5, activation="tanh", input_dim=3), Dense(k, activation=act)],
                       seed=2, dtype="float64")
    unfused = Sequential([Dense(5, activation="tanh", input_dim=3), Dense(k), Activation(act)],
                         seed=2, dtype="float64")
    for m in (fused, unfused):
        m.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    assert fused._fused and unfused._fused  # an Activation layer at the output fuses as well
    unfused._fused = unfused.layers[-1].fused_output = False  # the path a model ending otherwise takes
    unfused.set_weights(fused.get_weights())
    hf = fused.fit(x, y, batch_size=8, epochs=3, verbose=0)
    hu = unfused.fit(x, y, batch_size=8, epochs=3, verbose=0)
    # Adam normalises each step, so rounding differences in tiny gradients are amplified a bit
    np.testing.assert_allclose(fused.get_flat_weights(), unfused.get_flat_weights(), rtol=1e-7,
                               atol=1e-10)
    np.testing.assert_allclose(hf.history["loss"], hu.history["loss"], rtol=1e-7)
    np.testing.assert_allclose(fused.evaluate(x, y, verbose=0), unfused.evaluate(x, y, verbose=0),
                               rtol=1e-7)
    np.testing.assert_allclose(fused.predict(x), unfused.predict(x), rtol=1e-7, atol=1e-12)


def test_validation_split_holds_out_the_last_samples():
    x, y = toy(n=20)
    model = Sequential([Dense(3, activation="softmax", input_dim=3,
                              kernel_regularizer={"l2": 0.01})], seed=0)
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=4, epochs=2, verbose=0, validation_split=0.25)
    val_loss, val_acc = model.evaluate(x[15:], y[15:], verbose=0)
    assert history.history["val_loss"][-1] == pytest.approx(val_loss, rel=1e-6)
    assert history.history["val_accuracy"][-1] == pytest.approx(val_acc)
    # validation_data works the same way
    history = model.fit(x[:15], y[:15], epochs=1, verbose=0, validation_data=(x[15:], y[15:]))
    val_loss = model.evaluate(x[15:], y[15:], verbose=0)[0]
    assert history.history["val_loss"][-1] == pytest.approx(val_loss, rel=1e-6)


def test_epoch_loss_is_the_sample_weighted_mean_over_uneven_batches():
    x, y = toy(n=10)
    model = Sequential([Dense(3, activation="softmax", input_dim=3)], seed=0, dtype="float64")
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    seen = []
    cb = LambdaCallback(on_train_batch_end=lambda b, logs: seen.append((b, logs["loss"])))
    history = model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[cb])
    assert [b for b, _ in seen] == [0, 1, 2]
    sizes = [4, 4, 2]
    expected = sum(loss * s for (_, loss), s in zip(seen, sizes, strict=True)) / 10
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-12)


def test_shuffle_false_visits_samples_in_order():
    x, y = toy(n=8)
    order = []

    def spy(xb, rng):
        order.extend(xb[:, 0].tolist())
        return xb

    model = Sequential([Dense(3, activation="softmax", input_dim=3)], seed=0, dtype="float64")
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    model.fit(x, y, batch_size=3, epochs=1, verbose=0, shuffle=False, batch_transform=spy)
    assert order == x[:, 0].tolist()
    order.clear()
    model.fit(x, y, batch_size=3, epochs=1, verbose=0, shuffle=True, batch_transform=spy)
    assert sorted(order) == sorted(x[:, 0].tolist()) and order != x[:, 0].tolist()


def test_fit_continues_from_current_weights_and_initial_epoch():
    x, y = toy()
    a = Sequential([Dense(3, activation="softmax", input_dim=3)], seed=0, dtype="float64")
    a.compile(optimizer="sgd", loss="categorical_crossentropy")
    a.fit(x, y, epochs=2, verbose=0, shuffle=False)
    b = Sequential([Dense(3, activation="softmax", input_dim=3)], seed=0, dtype="float64")
    b.compile(optimizer="sgd", loss="categorical_crossentropy")
    b.fit(x, y, epochs=1, verbose=0, shuffle=False)
    history = b.fit(x, y, epochs=2, initial_epoch=1, verbose=0, shuffle=False)
    assert history.epoch == [1]
    np.testing.assert_allclose(a.get_flat_weights(), b.get_flat_weights(), rtol=1e-12)


def test_model_without_input_dim_builds_from_data():
    x, y = toy()
    model = Sequential([Dense(4, activation="relu"), Dense(3, activation="softmax")], seed=0)
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    assert not model.built
    model.fit(x, y, epochs=1, verbose=0)
    assert model.built and model.input_shape == (3,) and model.output_shape == (3,)
    assert model.count_params() == 3 * 4 + 4 + 4 * 3 + 3


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dtype_is_kept_everywhere(dtype):
    x, y = toy()
    model = Sequential([Dense(4, activation="relu", input_dim=3), Dropout(0.1),
                        Dense(3, activation="softmax")], seed=0, dtype=dtype)
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(x.astype(np.float32), y, epochs=1, verbose=0)
    assert model.predict(x).dtype == dtype
    assert all(w.dtype == dtype for w in model.get_weights())
    assert model._params.dtype == dtype and model.optimizer.slots["m_sum"].dtype == dtype


def test_config_round_trip_rebuilds_the_same_network():
    layers = [Flatten(input_shape=(2, 3)), Dense(5, activation="prelu"),
              Dense(4, activation="maxout", pieces=3, kernel_regularizer={"l1": 0.01}),
              Dropout(0.2), Dense(4, activation="leaky_relu", alpha=0.1), Activation("tanh"),
              Dense(2, activation="softmax", use_bias=False)]
    model = Sequential(layers, seed=3, dtype="float64")
    model.build((2, 3))
    config = model.get_config()
    clone = Sequential.from_config(config)
    clone.build((2, 3))
    assert clone.get_config() == config
    assert [w.shape for w in clone.get_weights()] == [w.shape for w in model.get_weights()]
    # same seed, same initial weights
    np.testing.assert_array_equal(clone.get_flat_weights(), model.get_flat_weights())
    x = np.random.default_rng(0).normal(size=(4, 2, 3))
    np.testing.assert_array_equal(clone.predict(x), model.predict(x))
    assert isinstance(clone.layers[2], PReLU) and isinstance(clone.layers[3], Maxout)
    assert clone.layers[3].kernel_regularizer.l1 == 0.01


def test_predict_and_training_forward_agree_without_dropout():
    x, _ = toy()
    model = Sequential([Dense(5, activation="sigmoid", input_dim=3), PReLU(),
                        Maxout(4, pieces=2), Dense(3, activation="softmax")], seed=0,
                       dtype="float64")
    model.build((3,))
    out = x
    for layer in model.layers:
        out = layer.forward(out, True, np.random.default_rng(0))
    np.testing.assert_allclose(model.predict(x), out, rtol=1e-12)
    np.testing.assert_allclose(model.predict(x, batch_size=5), out, rtol=1e-12)


def test_set_floatx_changes_the_default_dtype_of_new_models():
    import guinn.utils
    from guinn.core import backend

    assert backend.floatx() == "float32"
    try:
        guinn.utils.set_floatx("float64")
        model = Sequential([Dense(2, input_dim=2)])
        assert model.dtype == np.float64 and model.get_weights()[0].dtype == np.float64
    finally:
        guinn.utils.set_floatx("float32")
    assert Sequential([Dense(2, input_dim=2)]).get_weights()[0].dtype == np.float32


def test_multi_output_binary_crossentropy_accuracy_thresholds_each_output():
    """Keras's binary_accuracy: each sigmoid output is a separate yes/no, not an argmax."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype(np.float32)
    y = (rng.random((64, 3)) > 0.5).astype(np.float32)
    model = Sequential(seed=0)
    model.add(Dense(3, activation="sigmoid", input_dim=4))
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=64, epochs=1, verbose=0, shuffle=False)
    _, acc = model.evaluate(x, y, verbose=0)
    expected = np.mean((model.predict(x) > 0.5) == (y > 0.5))
    assert acc == pytest.approx(expected)
    assert 0 <= history.history["accuracy"][0] <= 1


def test_softmax_outputs_under_binary_crossentropy_score_the_argmax():
    """A softmax output is one choice among classes: counting each of 10 outputs as a yes/no
    would credit an always-wrong model with 80 %."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((50, 4)).astype(np.float32)
    labels = rng.integers(0, 10, 50)
    y = np.eye(10, dtype=np.float32)[labels]
    model = Sequential([Dense(10, activation="softmax", input_dim=4)], seed=0)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    _, acc = model.evaluate(x, y, verbose=0)
    assert acc == pytest.approx(np.mean(model.predict(x).argmax(1) == labels))
    history = model.fit(x, y, batch_size=50, epochs=1, verbose=0, shuffle=False)
    assert history.history["accuracy"][0] <= 0.5
