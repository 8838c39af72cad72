"""Central-difference gradient checks in float64 for every layer, loss and regularizer.

Two routes: driving one layer directly (build, bind views, forward(training=True),
backward) against L = sum(out * R), and whole models where the loss (computed here from
its textbook formula, independently of guinn) plus the weight penalty is differentiated
and compared with the model's flat ``_grads`` buffer after a real ``_train_step``.
"""

from __future__ import annotations

import numpy as np
import pytest

from guinn.core import initializers
from guinn.core.layers import Activation, Dense, Dropout, Flatten, Maxout, PReLU
from guinn.core.model import Sequential
from guinn.core.optimizers import SGD
from guinn.core.regularizers import l1, l1_l2, l2

H = 1e-6
TOL = 1e-6
ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "softmax", "linear"]


# -- helpers -----------------------------------------------------------------------------
def numerical_gradient(f, arr, h=H):
    """Central differences of the scalar f() with respect to every element of ``arr`` (in place)."""
    grad = np.zeros_like(arr)
    flat = arr.reshape(-1)
    assert np.shares_memory(flat, arr)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        plus = f()
        flat[i] = old - h
        minus = f()
        flat[i] = old
        grad.reshape(-1)[i] = (plus - minus) / (2 * h)
    return grad


def assert_close_grad(analytic, numeric, what):
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    assert analytic.shape == numeric.shape, what
    denom = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    assert denom > 0, f"{what}: gradient is identically zero, the check would be vacuous"
    rel = np.linalg.norm(analytic - numeric) / denom
    assert rel < TOL, f"{what}: relative error {rel:.3e} (analytic {analytic.ravel()[:6]}, " \
                      f"numeric {numeric.ravel()[:6]})"
    # element-wise too, with an absolute floor for entries that are ~0 in both
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8, err_msg=what)


def drive_layer(layer, x, seed=1):
    """Build ``layer`` for x, bind fresh float64 parameter/gradient arrays, fill them randomly."""
    layer.build(x.shape[1:])
    params = {k: np.zeros(s) for k, s in layer.param_shapes()}
    grads = {k: np.zeros(s) for k, s in layer.param_shapes()}
    layer.bind(params, grads)
    rng = np.random.default_rng(seed)
    layer.initialize(rng)
    for key, p in params.items():
        if key == "alpha":
            p[...] = rng.uniform(0.1, 0.5, size=p.shape)
        else:
            p[...] = rng.normal(0.0, 0.7, size=p.shape)
    return params, grads


def check_layer(layer, x, mask_seed=7):
    """L = sum(forward(x) * R): compare dL/dx and dL/dparams with central differences."""
    params, grads = drive_layer(layer, x)
    out0 = layer.forward(x, True, np.random.default_rng(mask_seed))
    r = np.random.default_rng(99).normal(size=out0.shape)

    def loss():
        # a fresh generator with the same seed: the dropout mask is fixed across evaluations
        return float(np.sum(layer.forward(x, True, np.random.default_rng(mask_seed)) * r))

    layer.forward(x, True, np.random.default_rng(mask_seed))
    gx = layer.backward(r.copy(), True)
    gx = np.array(gx, copy=True)
    analytic_params = {k: g.copy() for k, g in grads.items()}
    assert_close_grad(gx, numerical_gradient(loss, x), f"{layer!r} input gradient")
    for key, p in params.items():
        assert_close_grad(analytic_params[key], numerical_gradient(loss, p), f"{layer!r} d/d{key}")
    return out0


def rand(shape, seed=0, low=0.3, high=1.5):
    """Random float64 values away from 0 (signs mixed), so no ReLU kink or tie is hit."""
    rng = np.random.default_rng(seed)
    return rng.uniform(low, high, size=shape) * rng.choice([-1.0, 1.0], size=shape)


# -- layers driven directly --------------------------------------------------------------
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_dense_gradients_each_activation(activation):
    x = rand((5, 4))
    out = check_layer(Dense(3, activation=activation, alpha=0.2), x)
    if activation == "relu":
        assert (out > 0).any() and (out == 0).any(), "test data should hit both ReLU branches"
    if activation == "leaky_relu":
        assert (out > 0).any() and (out < 0).any()


def test_dense_without_bias_gradients():
    check_layer(Dense(3, activation="tanh", use_bias=False), rand((4, 5)))


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_activation_layer_gradients(activation):
    check_layer(Activation(activation, alpha=0.1), rand((4, 6), seed=3))


def test_dropout_gradients_with_fixed_mask():
    x = rand((6, 8), seed=4)
    out = check_layer(Dropout(0.4), x, mask_seed=11)
    dropped = out == 0
    assert dropped.any() and (~dropped).any(), "mask should drop some units and keep others"
    np.testing.assert_allclose(out[~dropped], x[~dropped] / 0.6)


def test_prelu_gradients_including_slopes():
    x = rand((6, 5), seed=5)
    out = check_layer(PReLU(), x)
    assert (x < 0).any() and (x > 0).any()
    assert np.all(out[x > 0] == x[x > 0])


@pytest.mark.parametrize("pieces", [2, 3])
def test_maxout_gradients_including_pieces(pieces):
    layer = Maxout(3, pieces=pieces)
    x = rand((6, 4), seed=6)
    check_layer(layer, x)
    # each piece must actually win somewhere, or part of the kernel gets no gradient check
    z = (x @ layer.params["kernel"] + layer.params["bias"]).reshape(6, 3, pieces)
    assert len(np.unique(z.argmax(axis=2))) == pieces


def test_flatten_gradients():
    x = rand((3, 2, 3, 2), seed=8)
    layer = Flatten()
    out = check_layer(layer, x)
    assert out.shape == (3, 12)
    np.testing.assert_array_equal(out, x.reshape(3, 12))


# -- whole models: losses and regularizers ---------------------------------------------------
def reference_loss(name, y, p):
    """The textbook formulas, mean over the batch (Keras's definitions)."""
    if name == "categorical_crossentropy":
        return -np.sum(y * np.log(p)) / len(y)
    if name == "sparse_categorical_crossentropy":
        return -np.mean(np.log(p[np.arange(len(y)), y.astype(int)]))
    if name == "binary_crossentropy":
        y = y.reshape(p.shape)
        return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    if name == "mean_squared_error":
        y = y.reshape(p.shape)
        return np.mean((p - y) ** 2)
    raise AssertionError(name)


def reference_penalty(model):
    total = 0.0
    for layer in model.layers:
        for reg, key in ((getattr(layer, "kernel_regularizer", None), "kernel"),
                         (getattr(layer, "alpha_regularizer", None), "alpha")):
            if reg:
                w = layer.params[key]
                total += reg.l1 * np.abs(w).sum() + reg.l2 * np.square(w).sum()
    return total


def forward_train(model, x, seed=0):
    out = x
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        out = layer.forward(out, True, rng)
    return out


def check_model(layers, loss, x, y, fused=None, seed=0):
    model = Sequential(layers, seed=seed, dtype="float64")
    model.compile(optimizer=SGD(learning_rate=1e-3), loss=loss)
    model._ensure_built(x.shape[1:])
    rng = np.random.default_rng(seed + 1)
    model._params[:] = rng.normal(0.0, 0.6, size=model._params.size)
    for layer in model.layers:
        if isinstance(layer, PReLU):
            layer.params["alpha"][...] = rng.uniform(0.1, 0.4, size=layer.params["alpha"].shape)
    if fused == "forced off":  # the unfused path, which a model ending otherwise takes
        model._fused = False
        for layer in model.layers:
            if hasattr(layer, "fused_output"):
                layer.fused_output = False
    elif fused is not None:
        assert model._fused is fused
    yt = model.loss.prepare_targets(y, model.output_shape[0], model.dtype)

    def total_loss():
        p = forward_train(model, x)
        return float(reference_loss(model.loss.name, y, p) + reference_penalty(model))

    # parameter gradients through the real training step (its update comes after the check)
    num_params = numerical_gradient(total_loss, model._params)
    num_x = numerical_gradient(total_loss, x)
    expected_loss = total_loss()
    params_before = model._params.copy()
    logs = model._train_step(x.copy(), yt, None, np.random.default_rng(0), 0, 0)
    assert logs is not None
    assert logs["loss"] == pytest.approx(expected_loss, rel=1e-10)
    assert_close_grad(model._grads, num_params, f"{loss} parameter gradients")
    # and the step really was params -= lr * grads
    np.testing.assert_allclose(model._params, params_before - 1e-3 * model._grads,
                               rtol=0, atol=1e-15)

    # input gradient: drive the same forward/backward with every layer passing its gradient on
    model._params[:] = params_before
    out = forward_train(model, x)
    if model._fused:
        _, g = model.loss.fused(yt, model.layers[-1].logits, out)
    else:
        g = model.loss.gradient(yt, out)
    for layer in reversed(model.layers):
        g = layer.backward(g, True)
    assert_close_grad(g, num_x, f"{loss} input gradient")
    return model


def class_data(n=6, d=4, k=3, seed=0):
    x = rand((n, d), seed=seed)
    labels = np.arange(n) % k
    return x, labels, np.eye(k)[labels]


def test_categorical_crossentropy_fused_with_softmax():
    x, _, y = class_data()
    check_model([Dense(5, activation="tanh", input_dim=4), Dense(3, activation="softmax")],
                "categorical_crossentropy", x, y, fused=True)


def test_categorical_crossentropy_unfused():
    x, _, y = class_data(seed=1)
    # softmax as its own layer fuses too; forced apart, the loss goes through softmax's Jacobian
    check_model([Dense(5, activation="sigmoid", input_dim=4), Dense(3), Activation("softmax")],
                "categorical_crossentropy", x, y, fused="forced off")
    check_model([Dense(5, activation="sigmoid", input_dim=4), Dense(3), Activation("softmax")],
                "categorical_crossentropy", x, y, fused=True)


def test_categorical_crossentropy_soft_targets():
    x, _, _ = class_data(seed=2)
    y = np.random.default_rng(0).dirichlet(np.ones(3), size=len(x))
    check_model([Dense(3, activation="softmax", input_dim=4)], "categorical_crossentropy", x, y,
                fused=True)


def test_categorical_targets_must_be_distributions_for_the_fused_gradient_to_be_the_losss():
    """(p - y) is the gradient of -sum(y log p) only where each row of y sums to 1: a row of
    zeros had a loss of 0 and still moved the weights."""
    from guinn.core.losses import CategoricalCrossentropy
    from guinn.errors import DataError

    loss = CategoricalCrossentropy()
    smoothed = np.full((2, 3), 0.1 / 3, np.float32) + np.float32(0.9) * np.eye(3, dtype=np.float32)[:2]
    loss.prepare_targets(smoothed, 3, np.float32)  # float32's rounding of smoothed labels passes
    for bad, total in ((np.zeros((4, 3)), "0"), (np.array([[1, 1, 0], [1, 0, 0]]), "2")):
        with pytest.raises(DataError, match=rf"sum to 1 .*row 0 sums to {total}\."):
            loss.prepare_targets(bad, 3, np.float64)


@pytest.mark.parametrize("name, y", [("categorical_crossentropy", [[0.2, 0.8, 0.0]]),
                                     ("binary_crossentropy", [[1.0, 0.0, 1.0]])])
def test_unfused_cross_entropy_is_flat_where_its_probabilities_are_clipped(name, y):
    """The gradient of the loss as reported: clipped at 1e-7, it no longer changes there."""
    from guinn.core import losses

    loss = losses.get(name)
    y = np.array(y)
    p = np.array([[1e-9, 0.5, 0.5]])  # the first beyond the clip, the others not
    g = loss.gradient(y, p)
    assert g[0, 0] == 0.0 and (g[0, 1:] != 0).any()
    for j in (1, 2):  # and where not clipped, the central difference agrees
        step = np.zeros_like(p)
        step[0, j] = 1e-6
        numeric = (loss(y, p + step) - loss(y, p - step)) / 2e-6
        assert g[0, j] == pytest.approx(numeric, rel=1e-6, abs=1e-9)


def test_sparse_categorical_crossentropy():
    x, labels, _ = class_data(seed=3)
    check_model([Dense(5, activation="relu", input_dim=4), Dense(3, activation="softmax")],
                "sparse_categorical_crossentropy", x, labels, fused=True)


def test_binary_crossentropy_fused_with_sigmoid():
    x, _, _ = class_data(seed=4)
    y = (np.arange(len(x)) % 2).astype(float)
    check_model([Dense(4, activation="tanh", input_dim=4), Dense(1, activation="sigmoid")],
                "binary_crossentropy", x, y, fused=True)


def test_binary_crossentropy_multi_output_fused():
    x, _, y = class_data(seed=5)
    check_model([Dense(3, activation="sigmoid", input_dim=4)], "binary_crossentropy", x, y,
                fused=True)


def test_binary_crossentropy_unfused():
    x, _, _ = class_data(seed=6)
    y = (np.arange(len(x)) % 2).astype(float)[:, None]
    check_model([Dense(4, activation="leaky_relu", input_dim=4), Dense(1), Activation("sigmoid")],
                "binary_crossentropy", x, y, fused="forced off")
    check_model([Dense(4, activation="leaky_relu", input_dim=4), Dense(1), Activation("sigmoid")],
                "binary_crossentropy", x, y, fused=True)


def test_mean_squared_error():
    x = rand((6, 3), seed=7)
    y = np.random.default_rng(1).normal(size=(6, 2))
    check_model([Dense(4, activation="tanh", input_dim=3), Dense(2)], "mean_squared_error", x, y,
                fused=False)


def test_mean_squared_error_through_every_layer_type():
    x = rand((5, 2, 3), seed=8)
    y = np.random.default_rng(2).normal(size=(5, 2))
    layers = [Flatten(input_shape=(2, 3)), Dense(5, activation="linear"), PReLU(),
              Maxout(4, pieces=2), Dropout(0.3), Activation("tanh"), Dense(2, activation="sigmoid")]
    check_model(layers, "mse", x, y, fused=False)


@pytest.mark.parametrize("reg", [l1(0.05), l2(0.05), l1_l2(l1=0.03, l2=0.07)],
                         ids=["l1", "l2", "l1_l2"])
def test_regularizers_are_part_of_loss_and_gradient(reg):
    x, _, y = class_data(seed=9)
    model = check_model(
        [Dense(5, activation="tanh", kernel_regularizer=reg, input_dim=4),
         Maxout(3, pieces=2, kernel_regularizer=reg),
         Dense(3, activation="softmax", kernel_regularizer=reg)],
        "categorical_crossentropy", x, y, fused=True)
    assert model._penalty() > 0
    assert model._penalty() == pytest.approx(reference_penalty(model), rel=1e-12)


def test_prelu_alpha_regularizer_gradient():
    x = rand((5, 3), seed=10)
    y = np.random.default_rng(3).normal(size=(5, 2))
    check_model([Dense(4, input_dim=3), PReLU(alpha_regularizer=l1_l2(0.02, 0.05)), Dense(2)],
                "mse", x, y)


def test_dense_prelu_and_maxout_shortcuts_expand_to_checked_layers():
    x, _, y = class_data(seed=11)
    layers = [Dense(5, activation="prelu", input_dim=4), Dense(4, activation="maxout", pieces=3),
              Dense(3, activation="softmax")]
    model = check_model(layers, "categorical_crossentropy", x, y, fused=True)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Dense", "PReLU", "Maxout", "Dense"]


def test_prelu_shortcut_starts_at_quarter_slope():
    model = Sequential([Dense(3, activation="prelu", input_dim=2)], seed=0, dtype="float64")
    model.build((2,))
    np.testing.assert_array_equal(model.layers[1].params["alpha"], np.full(3, 0.25))
    assert isinstance(model.layers[1].alpha_initializer, initializers.Constant)


@pytest.mark.parametrize("activation, loss, units", [("softmax", "categorical_crossentropy", 3),
                                                     ("sigmoid", "binary_crossentropy", 1)])
def test_an_activation_layer_at_the_output_is_fused_with_its_cross_entropy(activation, loss, units):
    """Dense + Activation('softmax') trains as Dense(activation='softmax') does, from the logits:
    through clipped probabilities a confidently wrong output had a gradient of exactly zero."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 2))
    y = np.eye(3)[np.zeros(16, int)] if units == 3 else np.ones((16, 1))  # all confidently wrong at first
    weights = [np.zeros((2, units)), np.full(units, -40.0) if units == 1 else np.array([-40.0, 40.0, 0.0])]
    losses, scores = [], []
    for layers in ([Dense(units, input_dim=2), Activation(activation)],
                   [Dense(units, activation=activation, input_dim=2)]):
        model = Sequential(layers, seed=0, dtype="float64")
        model.compile(SGD(4.0), loss)
        model.set_weights(weights)
        losses.append(model.fit(x, y, epochs=10, batch_size=8, shuffle=False, verbose=0).history["loss"])
        scores.append(model.evaluate(x, y, verbose=0))
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-12)
    assert scores[0] == pytest.approx(scores[1], rel=1e-12)
    assert losses[0][0] > 10 > 2 > scores[0]  # it learns its way out
