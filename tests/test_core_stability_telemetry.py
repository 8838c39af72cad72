"""Numerical stability of the saturating pieces, and per-layer training telemetry."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from guinn.callbacks import LambdaCallback
from guinn.core import activations, losses
from guinn.core.layers import Activation, Dense, PReLU
from guinn.core.model import Sequential
from guinn.core.telemetry import BatchTelemetry, LayerTelemetry
from guinn.optimizers import SGD


# -- stability --------------------------------------------------------------------------------
@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_softmax_crossentropy_with_huge_logits(dtype):
    logits = np.array([[1e4, 0.0, -1e4], [-1e4, 1e4, 3e4], [5.0, 5.0, 5.0]], dtype=dtype)
    y = np.eye(3, dtype=dtype)[[0, 0, 1]]
    probs = activations.get("softmax").forward(logits, np.empty_like(logits), 0.0)
    assert np.isfinite(probs).all()
    np.testing.assert_allclose(probs[0], [1, 0, 0])
    np.testing.assert_allclose(probs[2], [1 / 3] * 3, rtol=1e-6)
    loss, grad = losses.CategoricalCrossentropy().fused(y, logits, probs.copy())
    assert np.isfinite(loss) and np.isfinite(grad).all()
    # row 0 is right (loss 0), row 1 is wrong by 3e4 - (-1e4) = 4e4, row 2 is ln 3
    assert loss == pytest.approx((0 + 4e4 + math.log(3)) / 3, rel=1e-6)
    np.testing.assert_allclose(grad, (probs - y) / 3, rtol=1e-6)


@pytest.mark.filterwarnings("error")
def test_model_with_huge_logits_trains_and_evaluates_finitely():
    model = Sequential([Dense(3, activation="softmax", input_dim=2)], seed=0)
    model.compile(optimizer=SGD(learning_rate=1e-6), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    model.set_weights([np.array([[1e4, -1e4, 0.0], [0.0, 0.0, 1e4]]), np.zeros(3)])
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    y = np.eye(3)[[1, 2, 0]]  # the first sample is confidently wrong by 2e4
    loss, accuracy = model.evaluate(x, y, verbose=0)
    assert loss == pytest.approx(2e4 / 3, rel=1e-6) and accuracy == pytest.approx(2 / 3)
    history = model.fit(x, y, batch_size=3, epochs=2, verbose=0)
    assert model.stop_reason is None
    assert all(np.isfinite(v) for v in history.history["loss"])
    assert np.isfinite(model.get_flat_weights()).all()
    probs = model.predict(x)
    assert np.isfinite(probs).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1, atol=1e-6)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_of_huge_inputs_gives_no_warnings(dtype):
    z = np.array([[-1e4, -800.0, -50.0, 0.0, 50.0, 800.0, 1e4]], dtype=dtype)
    a = activations.get("sigmoid").forward(z, np.empty_like(z), 0.0)
    assert a.dtype == dtype
    np.testing.assert_allclose(a[0, [0, 1, 3, 5, 6]], [0, 0, 0.5, 1, 1])
    assert 0 < a[0, 4] <= 1 and 0 <= a[0, 2] < 1e-20
    # fused binary cross-entropy stays finite and exact far into saturation
    y = np.array([[0, 0, 1, 1, 1, 1, 0]], dtype=dtype)
    loss, grad = losses.BinaryCrossentropy().fused(y, z, a.copy())
    expected = np.mean(np.logaddexp(0, z.astype(np.float64)) - y * z.astype(np.float64))
    assert loss == pytest.approx(expected, rel=1e-6)
    assert np.isfinite(grad).all()
    # unfused losses clip probabilities instead of taking log(0)
    assert np.isfinite(losses.BinaryCrossentropy()(y, a))
    assert np.isfinite(losses.BinaryCrossentropy().gradient(y, a)).all()
    one_hot, confident_wrong = np.eye(3)[[0]], np.array([[0.0, 1.0, 0.0]])
    assert np.isfinite(losses.CategoricalCrossentropy()(one_hot, confident_wrong))


@pytest.mark.filterwarnings("error")
def test_sigmoid_model_with_huge_inputs_gives_no_warnings():
    model = Sequential([Dense(4, activation="sigmoid", input_dim=3),
                        Dense(1, activation="sigmoid")], seed=0)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    x = np.array([[1e4, -1e4, 1e4], [-1e4, 1e4, -1e4]] * 4)
    y = np.array([1, 0] * 4)
    model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    assert np.isfinite(model.predict(x)).all()
    assert np.isfinite(model.evaluate(x, y, verbose=0)).all()


@pytest.mark.filterwarnings("error")
def test_tanh_and_softmax_layers_with_huge_inputs():
    z = np.array([[1e4, -1e4, 3.0]])
    np.testing.assert_allclose(Activation("tanh").call(z), [[1, -1, np.tanh(3.0)]])
    np.testing.assert_allclose(Activation("softmax").call(z), [[1, 0, 0]])


# -- telemetry ----------------------------------------------------------------------------
def rms(a):
    return float(np.sqrt(np.mean(np.square(a))))


def one_step_telemetry(model, x, y):
    seen = []
    model.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0,
              callbacks=[LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(logs))])
    assert len(seen) == 1
    return seen[0]


def test_telemetry_matches_direct_numpy_computation():
    lr = 0.1
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 4))
    y = np.eye(3)[rng.integers(0, 3, 16)]
    model = Sequential([Dense(8, activation="sigmoid", input_dim=4), Dense(6, activation="relu"),
                        Dense(3, activation="softmax")], seed=3, dtype="float64")
    model.compile(optimizer=SGD(learning_rate=lr), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    w1, b1, w2, b2, w3, b3 = model.get_weights()
    b2 += 0.05 * rng.normal(size=b2.shape)
    model.set_weights([w1, b1, w2, b2, w3, b3])

    # the same step by hand
    a1 = 1 / (1 + np.exp(-(x @ w1 + b1)))
    z2 = a1 @ w2 + b2
    a2 = np.maximum(z2, 0)
    z3 = a2 @ w3 + b3
    p = np.exp(z3 - z3.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    d3 = (p - y) / len(x)
    d2 = (d3 @ w3.T) * (z2 > 0)
    d1 = (d2 @ w2.T) * a1 * (1 - a1)
    grads = [x.T @ d1, a1.T @ d2, a2.T @ d3]
    deltas = [d1, d2, d3]
    new_kernels = [w - lr * g for w, g in zip((w1, w2, w3), grads, strict=True)]
    saturation = [np.mean((a1 < 0.02) | (a1 > 0.98)), np.mean(a2 <= 0), math.nan]

    logs = one_step_telemetry(model, x, y)
    tel = logs["telemetry"]
    assert isinstance(tel, BatchTelemetry)
    assert (tel.epoch, tel.batch, tel.step) == (0, 0, 1)
    assert tel.loss == logs["loss"] == pytest.approx(-np.mean(np.sum(y * np.log(p), axis=1)))
    assert tel.accuracy == logs["accuracy"] == np.mean(p.argmax(1) == y.argmax(1))
    assert [r.name for r in tel.layers] == ["dense_1", "dense_2", "dense_3"]
    for i, rec in enumerate(tel.layers):
        assert isinstance(rec, LayerTelemetry)
        for field in rec._fields:
            if field != "name":
                assert type(getattr(rec, field)) is float, field
        assert rec.grad_rms == pytest.approx(rms(grads[i]), rel=1e-10)
        assert rec.delta_rms == pytest.approx(rms(deltas[i]), rel=1e-10)
        assert rec.weight_rms == pytest.approx(rms(new_kernels[i]), rel=1e-10)
        assert rec.update_ratio == pytest.approx(rms(lr * grads[i]) / rms(new_kernels[i]), rel=1e-8)
        if i < 2:
            assert math.isfinite(rec.saturation)
            assert rec.saturation == pytest.approx(saturation[i], abs=1e-12)
        else:
            assert math.isnan(rec.saturation)  # softmax: saturation does not apply
        for value in (rec.grad_rms, rec.delta_rms, rec.weight_rms, rec.update_ratio):
            assert math.isfinite(value) and value > 0
    assert 0 < tel.layers[1].saturation < 1, "test data should leave some ReLUs dead, some alive"
    with pytest.raises(AttributeError):  # immutable: observers cannot change what others see
        tel.layers[0].grad_rms = 0.0


def test_sigmoid_saturation_near_one_for_huge_inputs():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(32, 10)) * 1000
    model = Sequential([Dense(20, activation="sigmoid", input_dim=10),
                        Dense(2, activation="softmax")], seed=0)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    tel = one_step_telemetry(model, x, np.eye(2)[rng.integers(0, 2, 32)])["telemetry"]
    assert tel.layers[0].saturation > 0.95
    # and a tiny input leaves the same layer in its linear region
    tel = one_step_telemetry(model, x * 1e-6, np.eye(2)[rng.integers(0, 2, 32)])["telemetry"]
    assert tel.layers[0].saturation == 0.0


def test_tanh_saturation():
    x = np.random.default_rng(2).normal(size=(32, 5)) * 1000
    model = Sequential([Dense(7, activation="tanh", input_dim=5), Dense(1)], seed=0)
    model.compile(optimizer="sgd", loss="mse")
    tel = one_step_telemetry(model, x, np.zeros(32))["telemetry"]
    a = np.tanh(x @ model.get_weights()[0])  # bias 0 before the step
    assert tel.layers[0].saturation == pytest.approx(np.mean(np.abs(a) > 0.98))
    assert tel.layers[0].saturation > 0.9


def test_relu_dead_fraction():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, 6))
    model = Sequential([Dense(10, activation="relu", input_dim=6), Dense(1)], seed=4,
                       dtype="float64")
    model.compile(optimizer="sgd", loss="mse")
    w, b, w2, b2 = model.get_weights()
    expected = np.mean(x @ w + b <= 0)
    tel = one_step_telemetry(model, x, rng.normal(size=40))["telemetry"]
    assert tel.layers[0].saturation == pytest.approx(expected)
    # a bias far below zero kills every unit: dead fraction 1 and no gradient at all
    model.set_weights([w, np.full(10, -100.0), w2, b2])
    tel = one_step_telemetry(model, x, rng.normal(size=40))["telemetry"]
    assert tel.layers[0].saturation == 1.0
    assert tel.layers[0].grad_rms == 0.0 and tel.layers[0].update_ratio == 0.0


def test_saturation_of_a_separate_activation_layer_is_reported_on_the_dense_before_it():
    x = np.random.default_rng(5).normal(size=(20, 3)) * 1000
    model = Sequential([Dense(6, input_dim=3), Activation("sigmoid"), Dense(1)], seed=0)
    model.compile(optimizer="sgd", loss="mse")
    tel = one_step_telemetry(model, x, np.zeros(20))["telemetry"]
    assert [r.name for r in tel.layers] == ["dense_1", "dense_2"]
    assert tel.layers[0].saturation > 0.9
    assert math.isnan(tel.layers[1].saturation)


def test_prelu_telemetry():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(20, 3))
    model = Sequential([Dense(5, input_dim=3), PReLU(), Dense(1)], seed=0, dtype="float64")
    model.compile(optimizer=SGD(learning_rate=0.01), loss="mse")
    w, b = model.get_weights()[:2]
    z = x @ w + b
    tel = one_step_telemetry(model, x, rng.normal(size=20))["telemetry"]
    prelu = tel.layers[1]
    assert prelu.name == "prelu_1"
    assert prelu.saturation == pytest.approx(np.mean(z <= 0))
    assert math.isfinite(prelu.grad_rms) and prelu.grad_rms > 0


def test_telemetry_can_be_switched_off():
    model = Sequential([Dense(2, activation="softmax", input_dim=2)], seed=0)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    model.set_telemetry(False)
    logs = one_step_telemetry(model, np.eye(2), np.eye(2))
    assert "telemetry" not in logs
    model.set_telemetry(True)
    assert "telemetry" in one_step_telemetry(model, np.eye(2), np.eye(2))


def test_no_warnings_from_telemetry_on_tiny_weights():
    model = Sequential([Dense(3, activation="relu", input_dim=2, kernel_initializer="zeros"),
                        Dense(2, activation="softmax", kernel_initializer="zeros")], seed=0)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tel = one_step_telemetry(model, np.eye(2), np.eye(2))["telemetry"]
    # zero weights and zero gradient: a ratio of 0/0 is reported as 0, never NaN
    assert tel.layers[0].grad_rms == 0.0 and tel.layers[0].update_ratio == 0.0


def test_a_diverging_run_leaves_numpy_quiet():
    """guinn stops a diverging run and says why; NumPy's overflow warnings would only repeat it
    on the terminal (the app's users saw five of them per diverged run)."""
    from guinn.optimizers import SGD

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 8)).astype(np.float32) * 10
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 200)]
    model = Sequential([Dense(64, input_dim=8), Dense(64), Dense(3, activation="softmax")], seed=0)
    model.compile(optimizer=SGD(learning_rate=10.0), loss="categorical_crossentropy", metrics=["accuracy"])
    model.set_weights([w * np.float32(1e18) for w in model.get_weights()])  # blown up: products overflow float32
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        model.fit(x, y, epochs=5, batch_size=20, validation_split=0.2, verbose=0)
        model.predict(x)
        model.evaluate(x, y, verbose=0)
    assert model.stop_training
    assert not [w for w in seen if issubclass(w.category, RuntimeWarning)], [str(w.message) for w in seen]
