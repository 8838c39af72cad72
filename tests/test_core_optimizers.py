"""Golden values for every optimizer, derived by hand from the published (Keras) update rules.

The literals below were computed with plain Python floats from these rules, never from guinn:

  SGD           theta <- theta - lr g
  momentum      v <- m v - lr g;  theta <- theta + v
  nesterov      v <- m v - lr g;  theta <- theta + m v - lr g
  Adagrad       acc <- acc + g^2 (acc starts at 0.1);  theta <- theta - lr g / sqrt(acc + eps)
  RMSprop       v <- rho v + (1 - rho) g^2;  theta <- theta - lr g / sqrt(v + eps)
  Adam          m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
                theta <- theta - lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)   (eps = 1e-7)

e.g. Adagrad, first parameter, step 1: acc = 0.1 + 0.1^2 = 0.11,
theta = 1 - 0.1 * 0.1 / sqrt(0.1100001) = 0.96984887924...; Adam step 1: m = 0.01, v = 1e-5,
alpha = 0.01 * sqrt(0.001) / 0.1, theta = 1 - alpha * 0.01 / (sqrt(1e-5) + 1e-7) = 0.99000031621...
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from guinn.callbacks import LambdaCallback
from guinn.core import optimizers
from guinn.core.initializers import Constant
from guinn.core.layers import Dense
from guinn.core.model import Sequential
from guinn.errors import ConfigError
from guinn.optimizers import SGD, Adagrad, Adam, RMSprop

P0 = [1.0, -0.5, 2.0]
GRADS = [[0.1, -0.2, 0.3], [0.05, 0.4, -0.1], [-0.3, 0.1, 0.2]]

# theta after steps 1, 2, 3 for the three scalar parameters, gradients GRADS (fixed)
FIXED_GRAD_GOLDEN = {
    "sgd": [[0.99, -0.48, 1.97], [0.985, -0.52, 1.98], [1.015, -0.53, 1.96]],
    "momentum": [[0.99, -0.48, 1.97], [0.976, -0.502, 1.953], [0.9934, -0.5318, 1.9177]],
    "nesterov": [[0.981, -0.462, 1.943], [0.9634, -0.5218, 1.9377],
                 [1.00906, -0.55862, 1.88593]],
    "adagrad": [[0.9698488792472754, -0.4465477707075936, 1.9311752979505927],
                [0.9549417660226589, -0.5195774328700065, 1.9535359721354228],
                [1.0216084162284262, -0.5375379601758249, 1.9127111515942066]],
    "rmsprop": [[0.9683788044185707, -0.4683776186756123, 1.9683773990789444],
                [0.9536352498132595, -0.49694897436102237, 1.9788601898485703],
                [0.9835827380102174, -0.504273438905243, 1.960745689412596]],
    "adam": [[0.9900003162177663, -0.49000015811138303, 1.9900001054081442],
             [0.980678783587934, -0.49366116749190675, 1.9859979597280786],
             [0.9841509843578433, -0.4978176507919381, 1.9799671458179455]],
}

# L(w) = w^2 (so g = 2 w), w0 = 1.5: theta after each of 3 steps
QUADRATIC_GOLDEN = {
    "sgd": [1.2, 0.96, 0.768],
    "momentum": [1.2, 0.69, 0.093],
    "nesterov": [0.93, 0.3336, -0.162528],
    "adagrad": [1.4005509689266538, 1.3325064564497306, 1.278161952577064],
    "rmsprop": [1.468377225155137, 1.4456686071707445, 1.426772151155217],
    "adam": [1.4900000105409144, 1.4800018174612888, 1.4700066338709712],
}


def make(name):
    return {
        "sgd": lambda: SGD(learning_rate=0.1),
        "momentum": lambda: SGD(learning_rate=0.1, momentum=0.9),
        "nesterov": lambda: SGD(learning_rate=0.1, momentum=0.9, nesterov=True),
        "adagrad": lambda: Adagrad(learning_rate=0.1),
        "rmsprop": lambda: RMSprop(learning_rate=0.01),
        "adam": lambda: Adam(learning_rate=0.01),
    }[name]()


@pytest.mark.parametrize("name", list(FIXED_GRAD_GOLDEN))
def test_golden_values_fixed_gradients(name):
    opt = make(name)
    theta = np.array(P0)
    opt.build(theta.size, np.float64)
    update = np.empty_like(theta)
    for step, (g, expected) in enumerate(zip(GRADS, FIXED_GRAD_GOLDEN[name], strict=True), start=1):
        opt.compute_update(np.array(g), update)
        theta += update
        assert opt.iterations == step
        np.testing.assert_allclose(theta, expected, rtol=1e-12, atol=1e-14,
                                   err_msg=f"{name}, step {step}")


def test_gradient_buffer_is_not_modified():
    for name in FIXED_GRAD_GOLDEN:
        opt = make(name)
        opt.build(3, np.float64)
        g = np.array(GRADS[0])
        opt.compute_update(g, np.empty(3))
        assert g.tolist() == GRADS[0], name


@pytest.mark.parametrize("name", list(QUADRATIC_GOLDEN))
def test_golden_values_through_fit(name):
    """Dense(1, no bias), x = 1, y = 0, MSE: L = w^2. fit must apply exactly the rule above."""
    model = Sequential([Dense(1, use_bias=False, input_dim=1, kernel_initializer=Constant(1.5))],
                       seed=0, dtype="float64")
    model.compile(optimizer=make(name), loss="mean_squared_error")
    seen = []
    record = LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(
        float(model.get_weights()[0][0, 0])))
    history = model.fit(np.array([[1.0]]), np.array([[0.0]]), batch_size=1, epochs=3,
                        shuffle=False, verbose=0, callbacks=[record])
    np.testing.assert_allclose(seen, QUADRATIC_GOLDEN[name], rtol=1e-12, atol=1e-15)
    # the logged loss is the loss before each step: w_{t-1}^2
    before = [1.5] + QUADRATIC_GOLDEN[name][:2]
    np.testing.assert_allclose(history.history["loss"], [w * w for w in before], rtol=1e-12)


def test_float32_model_matches_golden_values_to_float32_precision():
    model = Sequential([Dense(1, use_bias=False, input_dim=1, kernel_initializer=Constant(1.5))],
                       seed=0)
    model.compile(optimizer=make("adam"), loss="mse")
    model.fit(np.array([[1.0]]), np.array([[0.0]]), batch_size=1, epochs=3, verbose=0)
    assert model.get_weights()[0].dtype == np.float32
    assert model.get_weights()[0][0, 0] == pytest.approx(QUADRATIC_GOLDEN["adam"][-1], rel=1e-6)


def test_keras_defaults():
    assert SGD().get_config() == {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False}
    assert RMSprop().get_config() == {"learning_rate": 0.001, "rho": 0.9, "epsilon": 1e-7}
    assert Adam().get_config() == {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999,
                                   "epsilon": 1e-7}
    assert Adagrad().get_config() == {"learning_rate": 0.001, "initial_accumulator_value": 0.1,
                                      "epsilon": 1e-7}
    opt = Adagrad()
    opt.build(4, np.float64)
    np.testing.assert_array_equal(opt.slots["accumulator"], np.full(4, 0.1))


def test_names_and_configs():
    assert isinstance(optimizers.get("Adam"), Adam)
    momentum = optimizers.get("momentum")
    assert isinstance(momentum, SGD) and momentum.momentum == 0.9
    opt = optimizers.get({"name": "sgd", "learning_rate": 0.5, "momentum": 0.5, "nesterov": True})
    assert opt.get_config() == {"learning_rate": 0.5, "momentum": 0.5, "nesterov": True}
    assert optimizers.get(opt) is opt
    rebuilt = optimizers.get(opt.to_config())
    assert rebuilt.get_config() == opt.get_config()


def test_state_round_trip_resumes_exactly():
    a = make("adam")
    a.build(3, np.float64)
    upd = np.empty(3)
    a.compute_update(np.array(GRADS[0]), upd)
    b = make("adam")
    b.build(3, np.float64)
    b.set_state(a.get_state())
    ua, ub = np.empty(3), np.empty(3)
    a.compute_update(np.array(GRADS[1]), ua)
    b.compute_update(np.array(GRADS[1]), ub)
    np.testing.assert_array_equal(ua, ub)
    with pytest.raises(ConfigError, match="slots"):
        b.set_state({"iterations": 1, "slots": {"m": np.zeros(3)}})
    with pytest.raises(ConfigError, match="iterations"):
        b.set_state({"iterations": -1, "slots": {}})


def test_adam_moments_are_keras_m_and_v():
    """Adam keeps decayed sums; ``moments()`` must still give the textbook m and v."""
    opt = make("adam")
    opt.build(3, np.float64)
    m = v = np.zeros(3)
    for g in GRADS:
        g = np.array(g)
        opt.compute_update(g, np.empty(3))
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
    np.testing.assert_allclose(opt.moments()["m"], m, rtol=1e-12)
    np.testing.assert_allclose(opt.moments()["v"], v, rtol=1e-12)


def test_adam_keeps_keras_float32_headroom_for_huge_gradients():
    """v stays in Keras's form: a float32 gradient of 5e18 squares to 2.5e37, still finite."""
    opt = optimizers.Adam(learning_rate=0.001)
    opt.build(2, np.float32)
    update = np.empty(2, np.float32)
    for _ in range(5):
        opt.compute_update(np.full(2, 5e18, np.float32), update)
    assert np.isfinite(opt.slots["v"]).all()
    np.testing.assert_allclose(update, -0.001, rtol=1e-3)


def test_adam_reads_version_1_state_of_m_and_v():
    """Model files of format version 1 stored m and v; they must resume the same trajectory."""
    a = make("adam")
    a.build(3, np.float64)
    a.compute_update(np.array(GRADS[0]), np.empty(3))
    legacy = {"iterations": a.iterations, "slots": a.moments()}
    b = make("adam")
    b.build(3, np.float64)
    b.set_state(legacy)
    ua, ub = np.empty(3), np.empty(3)
    a.compute_update(np.array(GRADS[1]), ua)
    b.compute_update(np.array(GRADS[1]), ub)
    np.testing.assert_allclose(ub, ua, rtol=1e-12)


@pytest.mark.parametrize("bad", [
    lambda: SGD(learning_rate=0),
    lambda: SGD(learning_rate=-0.1),
    lambda: SGD(learning_rate=math.nan),
    lambda: SGD(momentum=1.0),
    lambda: SGD(momentum=-0.1),
    lambda: Adam(beta_1=1.0),
    lambda: Adam(epsilon=0),
    lambda: RMSprop(rho=1.5),
    lambda: Adagrad(initial_accumulator_value=-1),
    lambda: optimizers.get({"name": "adam", "bogus": 1}),
])
def test_bad_optimizer_arguments(bad):
    with pytest.raises(ConfigError):
        bad()
