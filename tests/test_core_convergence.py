"""Small non-linear problems are actually learned, quickly."""

from __future__ import annotations

import time

import numpy as np
import pytest

from guinn.core.layers import Dense, Dropout, Maxout, PReLU
from guinn.core.model import Sequential
from guinn.data.toy import circles, moons, spiral, xor
from guinn.optimizers import SGD, Adagrad, Adam, RMSprop


def accuracy(model, x, y):
    return float(np.mean(model.predict(x).argmax(axis=1) == y))


def test_two_spirals_reach_95_percent_in_seconds():
    x, y = spiral(n_samples=600, noise=0.1, seed=0, n_classes=3)
    x_test, y_test = spiral(n_samples=600, noise=0.1, seed=1, n_classes=3)
    start = time.process_time()  # CPU time: robust to other jobs sharing the machine
    model = Sequential([Dense(32, activation="tanh", input_dim=2), Dense(32, activation="tanh"),
                        Dense(3, activation="softmax")], seed=0)
    model.compile(optimizer=Adam(learning_rate=0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, batch_size=32, epochs=100, verbose=0)
    elapsed = time.process_time() - start
    assert history.history["accuracy"][-1] >= 0.95
    assert model.evaluate(x, y, verbose=0)[1] >= 0.95
    assert accuracy(model, x_test, y_test) >= 0.9
    assert elapsed < 20, f"took {elapsed:.1f} s of CPU time"


def test_noisy_xor_reaches_95_percent():
    x, y = xor(n_samples=600, noise=0.1, seed=0)
    model = Sequential([Dense(16, activation="relu", input_dim=2), Dense(16, activation="relu"),
                        Dense(2, activation="softmax")], seed=1)
    model.compile(optimizer=Adam(learning_rate=0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, batch_size=32, epochs=60, verbose=0)
    assert model.evaluate(x, y, verbose=0)[1] >= 0.95


def test_classic_four_point_xor_with_sigmoid_and_binary_crossentropy():
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([0, 1, 1, 0])
    model = Sequential([Dense(8, activation="tanh", input_dim=2), Dense(1, activation="sigmoid")],
                       seed=0)
    model.compile(optimizer=SGD(learning_rate=0.5, momentum=0.9), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, batch_size=4, epochs=300, verbose=0)
    assert history.history["accuracy"][-1] == 1.0
    assert history.history["loss"][-1] < 0.1
    np.testing.assert_array_equal(model.predict(x)[:, 0] > 0.5, y.astype(bool))


@pytest.mark.parametrize("optimizer", [
    lambda: SGD(learning_rate=0.1), lambda: SGD(learning_rate=0.05, momentum=0.9),
    lambda: SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
    lambda: Adagrad(learning_rate=0.1), lambda: RMSprop(learning_rate=0.01),
    lambda: Adam(learning_rate=0.01),
], ids=["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"])
def test_every_optimizer_learns_moons(optimizer):
    x, y = moons(n_samples=400, noise=0.1, seed=0)
    model = Sequential([Dense(16, activation="tanh", input_dim=2), Dense(2, activation="softmax")],
                       seed=0)
    model.compile(optimizer=optimizer(), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, batch_size=32, epochs=40, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["accuracy"][-1] >= 0.85


@pytest.mark.parametrize("hidden", [
    lambda: [Dense(16, activation="leaky_relu", input_dim=2)],
    lambda: [Dense(16, input_dim=2), PReLU()],
    lambda: [Maxout(8, pieces=3, input_dim=2)],
    lambda: [Dense(32, activation="relu", input_dim=2, kernel_regularizer={"l2": 1e-4}),
             Dropout(0.1)],
], ids=["leaky_relu", "prelu", "maxout", "relu_l2_dropout"])
def test_every_hidden_layer_type_learns_circles(hidden):
    x, y = circles(n_samples=400, noise=0.05, seed=0)
    model = Sequential([*hidden(), Dense(2, activation="softmax")], seed=0)
    model.compile(optimizer=Adam(learning_rate=0.02), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, batch_size=32, epochs=40, verbose=0)
    assert model.evaluate(x, y, verbose=0)[1] >= 0.95


def test_regression_with_mean_squared_error():
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, size=(300, 1))
    y = np.sin(x)
    model = Sequential([Dense(32, activation="tanh", input_dim=1), Dense(1)], seed=0)
    model.compile(optimizer=Adam(learning_rate=0.01), loss="mse")
    model.fit(x, y, batch_size=32, epochs=80, verbose=0)
    assert model.evaluate(x, y, verbose=0) < 5e-3
