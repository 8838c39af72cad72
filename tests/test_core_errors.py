"""Every bad input raises a GuinnError subclass saying what was wrong and what is allowed."""

from __future__ import annotations

import numpy as np
import pytest

import guinn.utils
from guinn import errors
from guinn.callbacks import EarlyStopping
from guinn.core import activations, initializers, losses, optimizers, regularizers
from guinn.core.layers import Activation, Dense, Dropout, Flatten, Maxout, PReLU, layer_from_config
from guinn.errors import ConfigError, DataError, GuinnError, TrainingError
from guinn.models import Sequential

X = np.random.default_rng(0).uniform(-1, 1, size=(12, 3))
Y = np.eye(3)[np.arange(12) % 3]


def compiled(loss="categorical_crossentropy", **kw):
    model = Sequential([Dense(4, activation="relu", input_dim=3), Dense(3, activation="softmax")],
                       seed=0)
    model.compile(optimizer="sgd", loss=loss, metrics=["accuracy"], **kw)
    return model


def raises(exc, *fragments):
    """pytest.raises(exc) that also checks the message mentions every fragment."""
    assert issubclass(exc, GuinnError)

    class _Ctx:
        def __enter__(self):
            self.ctx = pytest.raises(exc)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *args):
            handled = self.ctx.__exit__(*args)
            message = str(self.info.value)
            for fragment in fragments:
                assert fragment in message, f"{fragment!r} not in {message!r}"
            return handled

    return _Ctx()


def test_error_family():
    for cls in (ConfigError, DataError, TrainingError, errors.ModelFileError):
        assert issubclass(cls, GuinnError) and issubclass(cls, ValueError)


# -- unknown names --------------------------------------------------------------------------
def test_unknown_loss_suggests_closest_and_lists_valid():
    model = Sequential([Dense(3, activation="softmax", input_dim=3)])
    hint = "Did you mean 'categorical_crossentropy'?"
    with raises(ConfigError, "'categotial_crossentropy'", hint, *sorted(losses.LOSSES)) as info:
        model.compile(optimizer="adam", loss="categotial_crossentropy")
    assert not model.compiled
    message = str(info.value)
    assert message.index("Valid loss names") < message.index("Did you mean")


def test_missing_loss_lists_valid_losses():
    with raises(ConfigError, "loss", "mean_squared_error", "binary_crossentropy"):
        Sequential([Dense(2, input_dim=2)]).compile(optimizer="adam")


@pytest.mark.parametrize("kind, call, typo, expected", [
    ("optimizer", lambda n: optimizers.get(n), "adamm", "adam"),
    ("optimizer", lambda n: optimizers.get(n), "rmsprob", "rmsprop"),
    ("optimizer", lambda n: optimizers.get({"name": n}), "adagard", "adagrad"),
    ("activation", lambda n: Dense(3, activation=n), "sigmod", "sigmoid"),
    ("activation", lambda n: Activation(n), "leaky_rellu", "leaky_relu"),
    ("activation", lambda n: activations.get(n), "tanhh", "tanh"),
    ("initializer", lambda n: Dense(3, kernel_initializer=n), "glorot_unifrom", "glorot_uniform"),
    ("initializer", lambda n: initializers.get({"name": n}), "he_normall", "he_normal"),
    ("regularizer", lambda n: Dense(3, kernel_regularizer=n), "l1l2", "l1_l2"),
    ("regularizer", lambda n: regularizers.get(n), "l22", "l2"),
    ("loss", lambda n: losses.get(n), "mean_squarred_error", "mean_squared_error"),
    ("metric", lambda n: Sequential([Dense(2, input_dim=2)]).compile("sgd", "mse", metrics=[n]),
     "acuracy", "accuracy"),
    ("layer type", lambda n: layer_from_config({"type": n, "config": {}}), "Denze", "Dense"),
])
def test_unknown_names_suggest_closest(kind, call, typo, expected):
    with raises(ConfigError, f"Unknown {kind} {typo!r}", f"Did you mean {expected!r}?"):
        call(typo)


def test_unknown_names_list_every_valid_choice():
    with raises(ConfigError, *optimizers.OPTIMIZERS, "momentum"):
        optimizers.get("lbfgs")
    with raises(ConfigError, *activations.ACTIVATIONS, "prelu", "maxout"):
        activations.get("swish")
    with raises(ConfigError, *initializers.INITIALIZERS):
        initializers.get("orthogonal")
    with raises(ConfigError, "l1", "l1_l2", "l2"):
        regularizers.get("dropout")


def test_names_are_case_insensitive_where_keras_is():
    assert optimizers.get("Adam").name == "adam"
    assert losses.get("MSE").name == "mean_squared_error"
    assert activations.get("ReLU").name == "relu"
    assert initializers.get("He_Normal").name == "he_normal"


def test_activation_layer_refuses_trainable_activations():
    with raises(ConfigError, "PReLU", "Maxout"):
        Activation("prelu")


# -- data -------------------------------------------------------------------------------------
def test_mismatched_lengths():
    with raises(DataError, "same number of samples", "12", "11"):
        compiled().fit(X, Y[:11], verbose=0)
    with raises(DataError, "same number of samples"):
        compiled().evaluate(X[:5], Y, verbose=0)
    with raises(DataError, "validation_data", "same number of samples"):
        compiled().fit(X, Y, validation_data=(X, Y[:4]), verbose=0)


def test_mismatched_input_width():
    with raises(DataError, "(3,)", "(4,)"):
        compiled().fit(np.zeros((12, 4)), Y, verbose=0)
    with raises(DataError, "(3,)", "(2,)"):
        compiled().predict(np.zeros((2, 2)))
    with raises(DataError, "(3,)"):
        compiled().fit(X, Y, validation_data=(X[:, :2], Y), verbose=0)


def test_mismatched_target_width():
    with raises(DataError, "(samples, 3)", "3 units", "(12, 2)"):
        compiled().fit(X, Y[:, :2], verbose=0)


def test_integer_labels_with_categorical_crossentropy_point_to_the_fix():
    with raises(DataError, "one-hot", "sparse_categorical_crossentropy", "to_categorical"):
        compiled().fit(X, np.arange(12)[:, None] % 3 + np.zeros((12, 3)), verbose=0)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_inputs(bad):
    x = X.copy()
    x[3, 1] = bad
    with raises(DataError, "x contains NaN or infinite"):
        compiled().fit(x, Y, verbose=0)
    with raises(DataError, "x contains NaN or infinite"):
        compiled().predict(x)
    with raises(DataError, "x contains NaN or infinite"):
        compiled().evaluate(x, Y, verbose=0)
    y = Y.copy()
    y[2, 0] = bad
    with raises(DataError, "y contains NaN or infinite"):
        compiled().fit(X, y, verbose=0)
    with raises(DataError, "NaN or infinite"):
        compiled().fit(X, Y, validation_data=(x, Y), verbose=0)


def test_non_numeric_inputs():
    with raises(DataError, "numeric"):
        compiled().fit(np.array([["a", "b", "c"]] * 12), Y, verbose=0)
    with raises(DataError, "numeric"):
        compiled().fit(X, np.array([["a", "b", "c"]] * 12), verbose=0)
    with raises(DataError, "rectangular"):
        compiled().fit([[1, 2, 3], [1, 2]], Y[:2], verbose=0)
    with raises(DataError, "x[None, :]"):
        compiled().predict(X[0])
    with raises(DataError, "missing"):
        compiled().fit(None, Y, verbose=0)


@pytest.mark.parametrize("labels, fragment", [
    (np.full(12, 3), "Label 3 is outside the class range 0..2"),
    (np.full(12, -1), "Label -1 is outside the class range 0..2"),
    (np.full(12, 1.5), "whole numbers"),
    (np.zeros((12, 2)), "(samples,)"),
])
def test_sparse_labels_outside_class_range(labels, fragment):
    with raises(DataError, fragment):
        compiled("sparse_categorical_crossentropy").fit(X, labels, verbose=0)


def test_sparse_labels_accepted_as_column_and_ints():
    model = compiled("sparse_categorical_crossentropy")
    model.fit(X, (np.arange(12) % 3)[:, None], verbose=0)
    model.fit(X, (np.arange(12) % 3).astype(np.float32), verbose=0)


def test_binary_targets_outside_unit_interval():
    model = Sequential([Dense(1, activation="sigmoid", input_dim=3)])
    model.compile("sgd", "binary_crossentropy")
    with raises(DataError, "[0, 1]"):
        model.fit(X, np.full(12, 2.0), verbose=0)


def test_empty_data():
    with raises(DataError, "empty"):
        compiled().fit(np.zeros((0, 3)), np.zeros((0, 3)), verbose=0)
    with raises(DataError, "empty"):
        compiled().predict(np.zeros((0, 3)))
    with raises(DataError, "same number of samples"):
        compiled().fit(X, np.zeros((0, 3)), verbose=0)


@pytest.mark.parametrize("value", [0, -1, 2.5, True, "32", None])
def test_non_positive_batch_size(value):
    if value is None:  # None means the default (32)
        compiled().fit(X, Y, batch_size=value, verbose=0)
        return
    with raises(DataError, "batch_size must be a positive integer"):
        compiled().fit(X, Y, batch_size=value, verbose=0)
    with raises(DataError, "batch_size must be a positive integer"):
        compiled().predict(X, batch_size=value)


@pytest.mark.parametrize("value", [-3, 1.0, False, None])
def test_bad_epochs(value):
    with raises(ConfigError, "epochs must be a whole number >= 0"):
        compiled().fit(X, Y, epochs=value, verbose=0)


def test_zero_epochs_train_nothing_as_in_keras():
    model = compiled()
    before = model.get_flat_weights()
    history = model.fit(X, Y, epochs=0, verbose=0)
    assert history.epoch == [] and history.history == {}
    assert np.array_equal(model.get_flat_weights(), before)


@pytest.mark.parametrize("value", [1.0, -0.1, 1.5, "0.2"])
def test_bad_validation_split(value):
    with raises(DataError, "validation_split"):
        compiled().fit(X, Y, validation_split=value, verbose=0)


def test_validation_split_that_leaves_nothing():
    with raises(DataError, "validation_split"):
        compiled().fit(X[:1], Y[:1], validation_split=0.5, verbose=0)


def test_bad_validation_data():
    with raises(DataError, "tuple (x_val, y_val)"):
        compiled().fit(X, Y, validation_data=(X, Y, Y), verbose=0)


# -- model lifecycle ------------------------------------------------------------------------------
def test_fit_and_evaluate_before_compile():
    model = Sequential([Dense(3, activation="softmax", input_dim=3)])
    with raises(TrainingError, "compile"):
        model.fit(X, Y, verbose=0)
    with raises(TrainingError, "compile"):
        model.evaluate(X, Y, verbose=0)


def test_model_without_layers_or_input_size():
    empty = Sequential()
    empty.compile("sgd", "mse")
    with raises(ConfigError, "no layers"):
        empty.fit(X, Y, verbose=0)
    with raises(ConfigError, "input_dim"):
        Sequential([Dense(2)]).summary()


def test_add_rules():
    model = Sequential([Dense(2, input_dim=3)])
    with raises(ConfigError, "guinn layer"):
        model.add("Dense")
    with raises(ConfigError, "Only the first layer"):
        model.add(Dense(2, input_dim=2))
    model.build((3,))
    model.add(Dense(2))  # an untrained model is built again (Keras's)
    model.compile("sgd", "mse")
    model.fit(np.ones((2, 3), np.float32), np.ones((2, 2), np.float32), epochs=1, verbose=0)
    with raises(ConfigError, "after the model has been trained"):
        model.add(Dense(2))


def test_duplicate_layer_names():
    model = Sequential([Dense(2, input_dim=3, name="a"), Dense(2, name="a")])
    with raises(ConfigError, "unique"):
        model.build((3,))


def test_dense_needs_flat_input():
    model = Sequential([Dense(2, input_shape=(2, 3))])
    with raises(ConfigError, "Flatten"):
        model.build((2, 3))


def test_callbacks_must_be_callbacks():
    with raises(ConfigError, "Callback"):
        compiled().fit(X, Y, verbose=0, callbacks=[print])


def test_batch_transform_must_be_callable():
    with raises(ConfigError, "batch_transform"):
        compiled().fit(X, Y, verbose=0, batch_transform="flip")


# -- weights --------------------------------------------------------------------------------------
def test_set_weights_wrong_count():
    model = compiled()
    with raises(DataError, "needs 4 arrays", "got 3"):
        model.set_weights(model.get_weights()[:3])
    with raises(DataError, "needs 4 arrays", "got 5"):
        model.set_weights(model.get_weights() + [np.zeros(1)])


def test_set_weights_wrong_shape_changes_nothing():
    model = compiled()
    before = model.get_flat_weights()
    weights = [w + 1 for w in model.get_weights()]
    weights[2] = weights[2].T
    with raises(DataError, "dense_2.kernel", "(4, 3)", "(3, 4)"):
        model.set_weights(weights)
    np.testing.assert_array_equal(model.get_flat_weights(), before)
    weights = [w + 1 for w in model.get_weights()]
    weights[1] = np.full(4, np.nan)
    with raises(DataError, "finite"):
        model.set_weights(weights)
    np.testing.assert_array_equal(model.get_flat_weights(), before)


# -- layer arguments -----------------------------------------------------------------------------
@pytest.mark.parametrize("make, fragment", [
    (lambda: Dense(0), "units must be a positive integer"),
    (lambda: Dense(-4), "units must be a positive integer"),
    (lambda: Dense(2.5), "units must be a positive integer"),
    (lambda: Dense(True), "units must be a positive integer"),
    (lambda: Dense(3, input_dim=0), "input_dim"),
    (lambda: Dense(3, input_shape=(0,)), "input_shape"),
    (lambda: Dense(3, alpha=1.5, activation="leaky_relu"), "alpha"),
    (lambda: Dense(3, activation="maxout", pieces=0), "pieces"),
    (lambda: Dense(3, name=""), "name"),
    (lambda: Dropout(1.0), "Dropout rate must be a number in [0, 1)"),
    (lambda: Dropout(-0.5), "Dropout rate"),
    (lambda: regularizers.l2(-0.01), "l2 must be a finite number >= 0"),
    (lambda: Dense(3, kernel_regularizer={"l2": -1.0}), "l2 must be a finite number >= 0"),
    (lambda: Dense(3, kernel_regularizer={"l3": 1.0}), "l1 and l2"),
    (lambda: regularizers.l1(float("nan")), "l1"),
    (lambda: regularizers.l1_l2(l1=-1), "l1"),
    (lambda: Maxout(0), "units"),
    (lambda: Maxout(3, pieces=-1), "pieces"),
    (lambda: PReLU(alpha_regularizer={"l2": -2}), "l2"),
    (lambda: Flatten(input_shape="abc"), "input_shape"),
    (lambda: initializers.RandomNormal(stddev=0), "stddev"),
    (lambda: initializers.RandomUniform(1, 0), "minval < maxval"),
    (lambda: initializers.get({"name": "constant", "bogus": 1}), "Constant has no argument 'bogus'"),
    (lambda: EarlyStopping(patience=-1), "patience"),
    (lambda: Sequential(dtype="float16"), "float32, float64"),
    (lambda: guinn.utils.set_floatx("int8"), "float32, float64"),
])
def test_bad_layer_and_config_arguments(make, fragment):
    with raises(ConfigError, fragment):
        make()


def test_to_categorical_errors():
    with raises(DataError, "outside the class range"):
        guinn.utils.to_categorical([0, 5], num_classes=3)
    with raises(DataError, "whole numbers"):
        guinn.utils.to_categorical([0.5, 1])
    with raises(DataError, "no labels"):
        guinn.utils.to_categorical([])
    with raises(DataError, "num_classes"):
        guinn.utils.to_categorical([0, 1], num_classes=0)
    np.testing.assert_array_equal(guinn.utils.to_categorical([2, 0]), [[0, 0, 1], [1, 0, 0]])


# -- odd types that used to escape as TypeError/ValueError --------------------------------
@pytest.mark.parametrize("make", [
    lambda: Dense(3, activation=["relu"]),
    lambda: Activation({"name": "relu"}),
    lambda: losses.get(["mse"]),
    lambda: Sequential([Dense(2, input_dim=2)]).compile(optimizer="sgd", loss=["mse"]),
    lambda: optimizers.get(["adam"]),
    lambda: Dense(3, kernel_regularizer=["l2"]),
    lambda: Dense(3, kernel_initializer=["zeros"]),
    lambda: initializers.get({"name": ["zeros"]}),
    lambda: optimizers.get({"name": ["adam"]}),
], ids=["activation-list", "activation-dict", "loss-list", "compile-loss-list", "optimizer-list",
        "regularizer-list", "initializer-list", "initializer-dict-list", "optimizer-dict-list"])
def test_unhashable_names_are_config_errors(make):
    with raises(ConfigError, "Unknown"):
        make()


def test_ragged_targets():
    with raises(DataError, "y must be a rectangular numeric array"):
        compiled().fit(X[:2], [[1, 0, 0], [1, 0]], verbose=0)


def test_ragged_weights():
    model = compiled()
    weights = model.get_weights()
    weights[0] = [[1.0, 2.0], [3.0]]
    with raises(DataError, "dense_1.kernel"):
        model.set_weights(weights)


def test_samples_without_features():
    model = Sequential([Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    with raises(DataError, "no features"):
        model.fit(np.zeros((5, 0)), np.zeros((5, 2)), verbose=0)


def test_single_metric_name_and_single_callback_are_accepted():
    model = Sequential([Dense(3, activation="softmax", input_dim=3)], seed=0)
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics="accuracy")
    assert model.metrics == ["accuracy"]
    history = model.fit(X, Y, epochs=2, verbose=0, callbacks=EarlyStopping(monitor="loss"))
    assert len(history.epoch) == 2
    assert len(model.evaluate(X, Y, verbose=0)) == 2


def test_callbacks_that_are_not_callbacks():
    with raises(ConfigError, "Callback"):
        compiled().fit(X, Y, verbose=0, callbacks=object())
    with raises(ConfigError, "Callback"):
        compiled().fit(X, Y, verbose=0, callbacks=["EarlyStopping"])


@pytest.mark.parametrize("value", ["loud", 3, -1, 1.5])
def test_bad_verbose(value):
    with raises(ConfigError, "verbose"):
        compiled().fit(X, Y, verbose=value)


def test_batch_transform_of_the_wrong_shape_is_a_clear_error():
    import guinn
    from guinn.layers import Dense
    from guinn.models import Sequential

    model = Sequential([Dense(2, activation="softmax", input_dim=3)], seed=0)
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd")
    x = np.zeros((4, 3), np.float32)
    with pytest.raises(guinn.DataError, match="batch_transform must return"):
        model.fit(x, np.array([0, 1, 0, 1]), verbose=0, batch_transform=lambda xb, rng: xb[:, :2])


def test_negative_initial_epoch_is_a_clear_error():
    import guinn
    from guinn.layers import Dense
    from guinn.models import Sequential

    model = Sequential(Dense(2, activation="softmax", input_dim=3), seed=0)  # a single layer is accepted
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd")
    with pytest.raises(guinn.DataError, match="initial_epoch"):
        model.fit(np.zeros((4, 3), np.float32), np.array([0, 1, 0, 1]), verbose=0, initial_epoch=-1)


def test_validation_split_rounds_like_the_arithmetic_and_says_which_side_is_empty():
    from guinn.layers import Dense
    from guinn.models import Sequential

    model = Sequential([Dense(2, activation="softmax", input_dim=3)], seed=0)
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd")
    x, y = np.zeros((10, 3), np.float32), np.arange(10) % 2
    history = model.fit(x, y, validation_split=0.9, verbose=0)  # 1 training, 9 validation samples
    assert len(history.history["val_loss"]) == 1
    with pytest.raises(DataError, match="leaves no training samples out of 1;"):
        model.fit(x[:1], y[:1], validation_split=0.5, verbose=0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_huge_but_finite_inputs_are_accepted_and_non_finite_ones_refused(dtype):
    """The finiteness check's fast pass (a sum of squares) overflows on huge values: then
    min and max decide, so 1e30 in float32 is still finite."""
    from guinn.core.validation import all_finite

    big = np.full((4, 3), np.finfo(dtype).max / 2, dtype=dtype)
    assert all_finite(big) and all_finite(-big) and all_finite(big.T) and all_finite(np.arange(6).reshape(2, 3))
    for bad in (np.nan, np.inf, -np.inf):
        b = big.copy()
        b[1, 2] = bad
        assert not all_finite(b) and not all_finite(b.T)


def test_class_numbers_under_categorical_crossentropy_get_the_two_ways_out():
    model = Sequential([Dense(3, activation="softmax", input_dim=4)])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    expected = (r"class numbers: one-hot encode them with guinn\.utils\.to_categorical\(y, 3\), "
                r"or compile with loss='sparse_categorical_crossentropy'")
    with pytest.raises(DataError, match=expected):
        model.fit(np.zeros((6, 4)), np.array([0, 1, 2, 0, 1, 2]), verbose=0)


def test_a_network_the_memory_cannot_hold_is_refused_before_allocating(monkeypatch):
    from guinn.core import memory

    monkeypatch.setattr(memory, "available_bytes", lambda: 50 * 1024**2)  # 50 MB free
    model = Sequential([Dense(3000, activation="relu", input_dim=784), Dense(10, activation="softmax")])
    expected = r"2,385,010 weights, 6 values each.*55 MB of memory, more than the 45 MB it may take \(90% of the 50 MB"
    with pytest.raises(ConfigError, match=expected):
        model.compile(optimizer="adam", loss="categorical_crossentropy")  # (builds: the input size is known)
    model = Sequential([Dense(3000, activation="relu", input_dim=784), Dense(10, activation="softmax")])
    model.build()  # weights, gradients and update: 27 MB
    monkeypatch.setattr(memory, "available_bytes", lambda: 25 * 1024**2)
    with pytest.raises(ConfigError, match=r"with Adam \(2,385,010 weights, 3 values of its own each\)"):
        model.compile(optimizer="adam", loss="categorical_crossentropy")
    monkeypatch.setattr(memory, "available_bytes", lambda: None)  # unknown here: nothing is refused
    model.compile(optimizer="adam", loss="categorical_crossentropy")


def test_free_memory_is_read_from_meminfo_or_else_the_system(monkeypatch):
    import builtins

    from guinn.core import memory

    real_open = builtins.open

    def meminfo(text):
        def fake(path, *a, **k):
            if path == "/proc/meminfo":
                import io
                return io.StringIO(text)
            return real_open(path, *a, **k)
        return fake

    monkeypatch.setattr(builtins, "open", meminfo("MemTotal: 100 kB\nMemAvailable:   2048 kB\n"))
    assert memory.available_bytes() == 2048 * 1024
    monkeypatch.setattr(builtins, "open", meminfo("MemTotal: 100 kB\n"))  # an old kernel: the system's count
    import os
    if hasattr(os, "sysconf") and "SC_AVPHYS_PAGES" in os.sysconf_names:
        assert memory.available_bytes() == os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def test_huge_values_are_refused_where_they_are_given():
    from guinn import utils

    with raises(DataError, "at most 100,000 classes"):
        utils.to_categorical([2**40])
    with raises(ConfigError, "2**32 - 1"):
        utils.set_random_seed(2**32)
    model = Sequential([Dense(3, input_dim=2, kernel_initializer=initializers.Constant(1e39))])
    with raises(ConfigError, "not finite in float32"):
        model.build()
    assert not model.built
    wide = Sequential([Dense(3, input_dim=2, kernel_initializer=initializers.Constant(1e39))], dtype="float64")
    wide.build()  # finite in float64
    assert wide.built
