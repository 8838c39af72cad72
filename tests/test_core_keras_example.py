"""The classic Keras MNIST example runs unchanged (imports, calls, return types) on guinn."""

from __future__ import annotations

import numpy as np
import pytest

import guinn.utils
from guinn.datasets import mnist
from guinn.layers import Dense
from guinn.models import Sequential
from guinn.utils import to_categorical


def mnist_arrays(n_train=None, n_test=None):
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    x_train, y_train = x_train[:n_train], y_train[:n_train]
    x_test, y_test = x_test[:n_test], y_test[:n_test]
    x_train = x_train.reshape(-1, 784).astype("float32") / 255
    x_test = x_test.reshape(-1, 784).astype("float32") / 255
    return x_train, to_categorical(y_train, 10), x_test, to_categorical(y_test, 10)


def keras_example_model():
    # -- verbatim Keras -------------------------------------------------------------------
    model = Sequential()
    model.add(Dense(500, activation="sigmoid", input_dim=784))
    model.add(Dense(500, activation="sigmoid"))
    model.add(Dense(10, activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def test_keras_example_on_a_small_slice(capsys, reset_global_seed):
    guinn.utils.set_random_seed(0)  # an unseeded run lands below 25% now and then after 20 steps
    x_train, y_train, x_test, y_test = mnist_arrays(2000, 500)
    assert x_train.shape == (2000, 784) and y_train.shape == (2000, 10)
    model = keras_example_model()
    history = model.fit(x_train, y_train, epochs=1, batch_size=100)
    score = model.evaluate(x_test, y_test, verbose=0)
    out = capsys.readouterr().out
    assert "Epoch 1/1" in out and "20/20" in out  # Keras-style progress by default
    assert set(history.history) == {"loss", "accuracy"}
    assert isinstance(score, list) and len(score) == 2
    loss, accuracy = score
    assert isinstance(loss, float) and isinstance(accuracy, float)
    # 20 Adam steps of a sigmoid net: well past chance (10%, loss ln 10 = 2.30), far from done
    assert np.isfinite(loss) and loss < 2.2
    assert 0.25 <= accuracy <= 1.0, f"accuracy {accuracy} after one epoch on 2000 digits"
    assert model.evaluate(x_test, y_test, verbose=0, return_dict=True) == {"loss": loss,
                                                                            "accuracy": accuracy}

    probs = model.predict(x_test)
    assert probs.shape == (500, 10) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert (probs >= 0).all()
    assert np.mean(probs.argmax(axis=1) == y_test.argmax(axis=1)) == pytest.approx(accuracy)
    np.testing.assert_allclose(model(x_test[:7]), probs[:7], rtol=1e-5)
    # Other batch sizes change how BLAS blocks the products: equal up to float32 rounding.
    np.testing.assert_allclose(model.predict(x_test, batch_size=64), probs, rtol=1e-5, atol=1e-7)


def test_evaluate_loss_matches_a_direct_computation():
    x_train, y_train, x_test, y_test = mnist_arrays(300, 200)
    model = keras_example_model()
    model.fit(x_train, y_train, epochs=1, batch_size=100, verbose=0)
    probs = model.predict(x_test).astype(np.float64)
    expected = -np.mean(np.log(np.sum(probs * y_test, axis=1)))
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert loss == pytest.approx(expected, rel=1e-4)
    assert accuracy == pytest.approx(np.mean(probs.argmax(1) == y_test.argmax(1)))
    # evaluate without metrics returns just the loss, like Keras
    bare = Sequential([Dense(10, activation="softmax", input_dim=784)])
    bare.compile(optimizer="adam", loss="categorical_crossentropy")
    assert isinstance(bare.evaluate(x_test, y_test, verbose=0), float)


def test_summary_prints_param_counts():
    model = keras_example_model()
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    for count in ("392,500", "250,500", "5,010", "648,010"):
        assert count in text, text
    assert "(None, 500)" in text and "(None, 10)" in text
    assert model.count_params() == 784 * 500 + 500 + 500 * 500 + 500 + 500 * 10 + 10


def test_summary_prints_to_stdout_by_default(capsys):
    keras_example_model().summary()
    assert "Total params: 648,010" in capsys.readouterr().out


def test_get_weights_order_and_set_weights_round_trip():
    model = keras_example_model()
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(784, 500), (500,), (500, 500), (500,), (500, 10), (10,)]
    assert all(w.dtype == np.float32 for w in weights)
    np.testing.assert_array_equal(weights[1], 0)  # Keras: zero biases, Glorot-uniform kernels
    limit = np.sqrt(6 / (784 + 500))
    assert np.abs(weights[0]).max() <= limit and np.abs(weights[0]).max() > 0.9 * limit
    # copies, not views
    weights[0][...] = 0
    assert model.get_weights()[0].any()
    x = np.random.default_rng(0).uniform(0, 1, size=(5, 784)).astype(np.float32)
    other = keras_example_model()
    other.set_weights(model.get_weights())
    np.testing.assert_array_equal(other.predict(x), model.predict(x))


def test_weights_order_for_prelu_and_maxout():
    model = Sequential([Dense(4, activation="prelu", input_dim=3),
                        Dense(5, activation="maxout", pieces=3),
                        Dense(2, activation="softmax")])
    shapes = [w.shape for w in model.get_weights()]
    # Dense kernel, bias; PReLU alpha; Maxout kernel, bias (units * pieces); Dense kernel, bias
    assert shapes == [(3, 4), (4,), (4,), (4, 15), (15,), (5, 2), (2,)]
    np.testing.assert_array_equal(model.get_weights()[2], 0.25)
    new = [np.random.default_rng(i).normal(size=s) for i, s in enumerate(shapes)]
    model.set_weights(new)
    for got, want in zip(model.get_weights(), new, strict=True):
        np.testing.assert_allclose(got, want.astype(np.float32))
    assert model.layers[1].params["alpha"].tolist() == new[2].astype(np.float32).tolist()
    np.testing.assert_array_equal(model.layers[2].params["kernel"], new[3].astype(np.float32))


# Measured for this recipe (784-500-500-10 sigmoid, adam, batch 100, x / 255): after 3 epochs
# Keras 3.15.1 (torch backend) reaches 0.9608 and guinn 0.9600-0.9617, so 3 epochs cannot meet
# issue 2's 0.97; "a few epochs" here is 6, where guinn is past 0.97 (20 epochs: 0.9805).
ISSUE_TARGET = 0.97


@pytest.mark.slow
def test_keras_example_full_mnist(reset_global_seed):
    guinn.utils.set_random_seed(1)  # keras.utils.set_random_seed: a reproducible run
    x_train, y_train, x_test, y_test = mnist_arrays()
    assert x_train.shape == (60000, 784) and x_test.shape == (10000, 784)
    model = keras_example_model()
    history = model.fit(x_train, y_train, epochs=6, batch_size=100, verbose=0)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert history.history["loss"][0] < 0.5 and history.history["loss"][-1] < 0.1
    assert accuracy >= ISSUE_TARGET, f"test accuracy {accuracy:.4f} after 6 epochs"
