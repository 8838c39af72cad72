"""What a Keras user naturally types either works as in Keras or fails with a ConfigError/
DataError that says what is allowed -- never silently does something else."""

from __future__ import annotations

import random
import subprocess
import sys
import warnings

import numpy as np
import pytest

import guinn.utils
from guinn.callbacks import Callback, EarlyStopping, LambdaCallback
from guinn.errors import ConfigError, DataError, ModelFileError, TrainingWarning
from guinn.layers import Dense, Dropout, Input
from guinn.losses import CategoricalCrossentropy
from guinn.models import Sequential, load_model
from guinn.optimizers import SGD, Adam

RNG = np.random.default_rng(0)
X = RNG.normal(size=(120, 4)).astype("float32")
Y = (X[:, 0] > 0).astype("float32")


def binary_model(metrics=("accuracy",)):
    model = Sequential([Dense(8, activation="relu", input_dim=4), Dense(1, activation="sigmoid")], seed=3)
    model.compile("adam", "binary_crossentropy", metrics=list(metrics))
    return model


def test_keras2_batch_hook_names_are_called_in_subclasses():
    calls = []

    class Counter(Callback):
        def on_batch_begin(self, batch, logs=None):
            calls.append(("begin", batch))

        def on_batch_end(self, batch, logs=None):
            calls.append(("end", batch, "loss" in logs))

    binary_model().fit(X, Y, batch_size=40, epochs=1, verbose=0, callbacks=[Counter()])
    assert calls == [("begin", 0), ("end", 0, True), ("begin", 1), ("end", 1, True), ("begin", 2), ("end", 2, True)]
    seen = []
    hook = LambdaCallback(on_batch_end=lambda batch, logs: seen.append(batch))
    binary_model().fit(X, Y, batch_size=40, verbose=0, callbacks=[hook])
    assert seen == [0, 1, 2]


def test_build_takes_keras_batch_dimension_or_nothing():
    model = Sequential([Dense(3), Dense(2)])
    model.build((None, 5))
    assert model.input_shape == (5,) and model.count_params() == 5 * 3 + 3 + 3 * 2 + 2
    declared = Sequential([Dense(3, input_dim=4)])
    declared.build()
    assert declared.built
    for bad in [(None,), (None, "a"), (0,), None]:
        with pytest.raises(ConfigError, match="build needs"):
            Sequential([Dense(3)]).build(bad)


def test_metric_keeps_the_name_it_was_compiled_with(tmp_path):
    model = binary_model(["acc"])
    history = model.fit(X, Y, batch_size=40, epochs=2, validation_split=0.25, verbose=0)
    assert sorted(history.history) == ["acc", "loss", "val_acc", "val_loss"]
    assert model.metrics_names == ["loss", "acc"]
    assert set(model.evaluate(X, Y, verbose=0, return_dict=True)) == {"loss", "acc"}
    model.save(tmp_path / "m.safetensors")
    assert load_model(tmp_path / "m.safetensors").metrics_names == ["loss", "acc"]
    stopper = EarlyStopping("val_accuracy", patience=5)  # the other spelling still finds it
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        binary_model(["acc"]).fit(X, Y, batch_size=40, epochs=2, validation_split=0.25, verbose=0, callbacks=[stopper])
    assert stopper.best_epoch is not None
    both = binary_model(["acc", "accuracy", "acc"])  # each spelling asked for is logged (once), as in Keras
    history = both.fit(X, Y, batch_size=40, epochs=1, validation_split=0.25, verbose=0)
    assert sorted(history.history) == ["acc", "accuracy", "loss", "val_acc", "val_accuracy", "val_loss"]
    assert history.history["acc"] == history.history["accuracy"] and both.metrics == ["accuracy"]
    assert both.metrics_names == ["loss", "acc", "accuracy"]
    both.save(tmp_path / "both.safetensors")
    assert load_model(tmp_path / "both.safetensors").metrics_names == ["loss", "acc", "accuracy"]


def test_accuracy_of_regression_targets_compares_the_targets_themselves():
    # Keras's binary_accuracy: y_true == (y_pred > 0.5); a target of 5.0 is never "right".
    x = np.linspace(0, 1, 50, dtype="float32")[:, None]
    model = Sequential([Dense(1, input_dim=1)], seed=1)
    model.compile(SGD(0.1), "mse", metrics=["accuracy"])
    model.set_weights([np.array([[0.0]], "float32"), np.array([10.0], "float32")])  # predicts 10 everywhere
    assert model.evaluate(x, 5 + x, verbose=0) == [pytest.approx(float(np.mean((5 + x - 10) ** 2))), 0.0]
    assert model.evaluate(x, np.ones_like(x), verbose=0)[1] == 1.0
    assert model.evaluate(x, np.zeros_like(x), verbose=0)[1] == 0.0


def test_non_finite_stop_warns_when_quiet():
    model = Sequential([Dense(4, input_dim=1), Dense(1)], seed=2)
    model.compile(SGD(1e3), "mse")
    x = np.linspace(0, 10, 64, dtype="float32")[:, None]
    with pytest.warns(TrainingWarning, match="Training stopped at epoch 1"):
        history = model.fit(x, 2 * x + 1, epochs=3, verbose=0)
    assert history.messages == [model.stop_reason]


def test_early_stopping_prints_by_its_own_verbose(capsys):
    model = binary_model()
    model.fit(X, Y, epochs=3, verbose=0, validation_split=0.25,
              callbacks=[EarlyStopping(min_delta=1e9, patience=0, verbose=1)])
    assert "EarlyStopping: val_loss did not improve" in capsys.readouterr().out
    model.fit(X, Y, epochs=3, verbose=0, validation_split=0.25, callbacks=[EarlyStopping(min_delta=1e9)])
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"start_from_epoch": "a"}, "start_from_epoch must be an integer"),
    ({"start_from_epoch": -1}, "start_from_epoch must be an integer"),
    ({"baseline": "a"}, "baseline must be a number"),
    ({"baseline": float("nan")}, "baseline must be a number"),
])
def test_early_stopping_arguments_are_checked_up_front(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        EarlyStopping(**kwargs)


def test_learning_rate_is_checked_when_set_later():
    model = binary_model()
    model.optimizer.learning_rate = 0.05
    assert model.optimizer.learning_rate == 0.05
    for bad in ["0.1", -1, float("nan"), None]:
        with pytest.raises(ConfigError, match="learning_rate must be a positive number"):
            model.optimizer.learning_rate = bad
    assert model.optimizer.learning_rate == 0.05


@pytest.mark.parametrize(("make", "message"), [
    (lambda: Adam(lr=0.1), r"Adam has no argument 'lr'.*Did you mean 'learning_rate'"),
    (lambda: Adam(clipnorm=1.0), "does not support gradient clipping"),
    (lambda: CategoricalCrossentropy(from_logits=True), "does not support losses on logits"),
    (lambda: Dense(3, bias_regularizer="l2"), "does not support bias regularizers"),
    (lambda: Dense(3, activaton="relu"), "Did you mean 'activation'"),
    (lambda: Dense(), "missing a required argument: 'units'"),
    (lambda: Dropout(0.5, seed=1), r"Sequential\(seed=...\)"),
    (lambda: binary_model().fit(X, Y, sample_weight=np.ones(len(X))), "does not support sample weights"),
    (lambda: Sequential.from_config([1, 2]), "from_config takes a dict"),
    (lambda: Dense.from_config({}), "missing a required argument: 'units'"),
    (lambda: Dense.from_config("units=3"), "from_config takes a dict"),
])
def test_keras_arguments_guinn_lacks_are_named(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_a_type_error_inside_a_call_is_not_mistaken_for_a_bad_argument():
    with pytest.raises(TypeError, match="boom"):
        binary_model().fit(X, Y, verbose=0, batch_transform=lambda xb, rng: (_ for _ in ()).throw(TypeError("boom")))


def test_freezing_is_refused_rather_than_ignored():
    model = binary_model()
    assert model.trainable and model.layers[0].trainable
    model.layers[0].trainable = True
    with pytest.raises(ConfigError, match="freezing weights"):
        model.layers[0].trainable = False
    with pytest.raises(ConfigError, match="freezing weights"):
        model.trainable = False


def test_missing_targets_and_bad_validation_data_say_so():
    model = binary_model()
    with pytest.raises(DataError, match="y is missing"):
        model.fit(X, None, verbose=0)
    with pytest.raises(DataError, match="y is missing"):
        model.evaluate(X)
    with pytest.raises(DataError, match=r"validation_data: The model expects samples of shape \(4,\)"):
        model.fit(X, Y, verbose=0, validation_data=(X[:, :3], Y))


def test_set_random_seed_also_seeds_numpy_and_python():
    guinn.utils.set_random_seed(123)
    try:
        first = (np.random.rand(), random.random())
        guinn.utils.set_random_seed(123)
        assert (np.random.rand(), random.random()) == first
    finally:
        guinn.utils.set_random_seed(None)


@pytest.mark.parametrize("name", ["m.h5", "m.keras", "m.pt", "m.onnx", "m.pkl", "m"])
def test_save_refuses_names_that_promise_another_format(tmp_path, name):
    """As Keras's save wants .keras: a name that is not *.safetensors is refused, with the right
    one in the same folder suggested (a bare 'clf' used to be written as 'clf')."""
    with pytest.raises(ModelFileError, match=f"save as {tmp_path / 'm.safetensors'}"):
        binary_model().save(tmp_path / name)
    assert not (tmp_path / name).exists()
    with pytest.raises(ModelFileError, match=r"model files are named \*\.safetensors; save as .*m\.bin\.safetensors"):
        binary_model().save(tmp_path / "m.bin")


def test_load_model_without_compile(tmp_path):
    model = binary_model()
    model.fit(X, Y, verbose=0)
    model.save(tmp_path / "m.safetensors")
    loaded = load_model(tmp_path / "m.safetensors", compile=False)
    assert not loaded.compiled and loaded.optimizer is None
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    loaded.compile("sgd", "binary_crossentropy")
    loaded.fit(X, Y, verbose=0)


def test_categorical_crossentropy_on_sigmoid_outputs_warns():
    model = Sequential([Dense(3, activation="sigmoid", input_dim=4)])
    with pytest.warns(TrainingWarning, match="expects class probabilities from a softmax output layer"):
        model.compile("adam", "categorical_crossentropy")


def test_evaluate_prints_by_default_like_keras(capsys):
    model = binary_model()
    model.evaluate(X, Y)
    assert capsys.readouterr().out.startswith("loss: ")
    model.evaluate(X, Y, verbose=0)
    assert capsys.readouterr().out == ""


def test_summary_line_length_widens_the_table():
    lines = []
    binary_model().summary(line_length=90, print_fn=lines.append)
    assert max(len(line) for line in lines[0].splitlines()) == 90


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # the NumPy step's (GUINN_JIT=0)
def test_on_batch_methods_and_get_layer():
    model = binary_model(["acc"])
    before = model.get_flat_weights()
    expected_loss, expected_acc = model.evaluate(X[:40], Y[:40], verbose=0)
    loss, acc = model.train_on_batch(X[:40], Y[:40])  # figures from before the step, as Keras's
    assert loss == pytest.approx(expected_loss, rel=1e-5) and acc == pytest.approx(expected_acc)
    assert not np.array_equal(before, model.get_flat_weights()) and model.optimizer.iterations == 1
    assert set(model.train_on_batch(X[:40], Y[:40], return_dict=True)) == {"loss", "acc"}
    assert model.test_on_batch(X, Y) == model.evaluate(X, Y, verbose=0)
    np.testing.assert_array_equal(model.predict_on_batch(X), model.predict(X))
    assert model.get_layer(index=-1) is model.layers[-1]
    assert model.get_layer(model.layers[0].name) is model.layers[0]
    with pytest.raises(ConfigError, match="Unknown layer 'dense_9'.*Did you mean"):
        model.get_layer("dense_9")
    with pytest.raises(ConfigError, match="index must be a whole number from 0 to 1"):
        model.get_layer(index=5)
    blow_up = Sequential([Dense(1, input_dim=1)], seed=0)
    blow_up.compile(SGD(1e30), "mse")
    x = np.full((4, 1), 1e10, "float32")
    with pytest.warns(TrainingWarning):
        assert np.isnan(blow_up.train_on_batch(x, x))
    assert np.isfinite(blow_up.get_flat_weights()).all()


def test_save_keywords_and_on_batch_inputs_are_checked(tmp_path):
    model = binary_model()
    path = tmp_path / "m.safetensors"
    model.save(path, overwrite=True)
    with pytest.raises(ModelFileError, match="already exists and overwrite=False"):
        model.save(path, overwrite=False)
    with pytest.raises(ConfigError, match="does not support leaving the optimizer state out"):
        model.save(path, include_optimizer=False)
    with pytest.raises(DataError, match="x must have shape"):
        model.predict_on_batch(5)
    with pytest.raises(DataError, match="x is missing"):
        model.test_on_batch(None, Y)


@pytest.mark.parametrize("statement, names", [
    ("from guinn.layers import Conv2D", ["Flatten", "Dense"]),
    ("from guinn.layers import LeakyReLU", ["Activation('leaky_relu')"]),
    ("from guinn.optimizers import Nadam", ["momentum=", "Adam"]),
    ("from guinn.losses import Huber", ["mean squared error"]),
    ("from guinn.callbacks import TensorBoard", ["CSVLogger"]),
    ("from guinn.models import Model", ["Sequential"]),
    ("from guinn.datasets import fashion_mnist", ["only MNIST", "load_idx_dataset"]),
])
def test_keras_names_guinn_lacks_say_what_to_use(statement, names):
    with pytest.raises(ConfigError) as info:
        exec(statement, {})
    message = str(info.value)
    assert statement.split()[-1] in message
    for name in names:
        assert name in message


def test_other_missing_names_stay_attribute_errors():
    import guinn.datasets
    import guinn.layers

    assert not hasattr(guinn.layers, "NoSuchLayer") and hasattr(guinn.layers, "Dense")
    with pytest.raises(ImportError):
        exec("from guinn.optimizers import NoSuchOptimizer", {})
    from guinn.datasets import mnist  # the one dataset is still a plain import

    assert callable(mnist.load_data)


def test_probing_for_a_keras_name_guinn_lacks_answers_false():
    """hasattr and getattr with a default are how code checks for a feature; the names guinn
    lacks answer them as missing, while an import or a use still says what to use instead."""
    import guinn as keras

    assert not hasattr(keras.models, "clone_model") and getattr(keras.optimizers, "AdamW", None) is None
    assert not hasattr(keras.layers, "BatchNormalization") and not hasattr(keras, "metrics")
    with pytest.raises(AttributeError, match="Flatten the images"):
        keras.layers.Conv2D(8, 3)
    with pytest.raises(ConfigError, match="Flatten the images"):
        keras.layers.Conv2D(8, 3)


def test_keras_datasets_mnist_needs_no_import_of_its_own():
    code = "import guinn as keras; (x, y), _ = keras.datasets.mnist.load_data(); print(x.shape)"
    root = __file__.rsplit("/tests/", 1)[0]  # this checkout, not an installed copy
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert out.stdout.strip() == "(60000, 28, 28)"


def test_layer_get_and_set_weights_like_keras():
    model = Sequential([Dense(4, activation="relu"), Dropout(0.5), Dense(2)], seed=1)
    with pytest.raises(ConfigError, match="build the model first"):
        model.layers[0].get_weights()  # (no input shape given: nothing to build with)
    model.build((3,))
    kernel, bias = model.layers[0].get_weights()
    assert kernel.shape == (3, 4) and bias.shape == (4,) and model.layers[1].get_weights() == []
    kernel[:] = 7  # a copy: the model is unchanged until set_weights
    assert not (model.get_weights()[0] == 7).any()
    model.layers[0].set_weights([kernel, bias + 1])
    assert (model.get_weights()[0] == 7).all() and (model.get_weights()[1] == bias + 1).all()
    before = model.get_weights()
    for bad, message in (([kernel], "needs 2 arrays"), ([bias, kernel], "shape"),
                         ([np.full((3, 4), np.nan), bias], "finite")):
        with pytest.raises(DataError, match=message):
            model.layers[0].set_weights(bad)
    assert all((a == b).all() for a, b in zip(before, model.get_weights(), strict=True))


def test_pop_removes_the_last_layer_until_the_model_has_trained():
    model = Sequential([Dense(4, input_dim=3), Dense(2)])
    last = model.pop()
    assert isinstance(last, Dense) and last.units == 2 and len(model.layers) == 1
    model.add(Dense(3, activation="softmax"))
    model.build()
    first = model.layers[0].get_weights()
    assert model.pop().units == 3 and model.built and len(model.get_weights()) == 2  # built again, as Keras does
    assert all((a == b).all() for a, b in zip(first, model.layers[0].get_weights(), strict=True))
    model.add(Dense(3, activation="softmax"))
    model.compile("sgd", "categorical_crossentropy")
    model.fit(np.ones((4, 3), np.float32), np.eye(3, dtype=np.float32)[[0, 1, 2, 0]], epochs=1, verbose=0)
    with pytest.raises(ConfigError, match="after the model has been trained"):
        model.pop()
    with pytest.raises(ConfigError, match="no layers"):
        Sequential().pop()


def test_a_model_that_knows_its_input_builds_when_its_weights_are_read_and_takes_more_layers():
    """Keras builds Sequential([Dense(3, input_shape=(4,))]) at once: tutorials print the first
    layer's initial weights before fit, then add() goes on."""
    model = Sequential([Dense(3, input_shape=(4,))], seed=5)
    assert not model.built
    kernel = model.layers[0].kernel
    assert kernel.shape == (4, 3) and model.built
    model.add(Dense(2, activation="softmax"))  # built again for the new layer; layer 1 keeps its weights
    assert model.built and [w.shape for w in model.get_weights()] == [(4, 3), (3,), (3, 2), (2,)]
    assert (model.layers[0].kernel == kernel).all()
    assert [layer.name for layer in model.layers] == ["dense_1", "dense_2"]
    at_once = Sequential([Dense(3, input_shape=(4,)), Dense(2, activation="softmax")], seed=5)
    assert all((a == b).all() for a, b in zip(at_once.get_weights(), model.get_weights(), strict=True))
    unknown = Sequential([Dense(3)])  # no input shape: nothing to build yet, as in Keras
    assert unknown.layers[0].weights == []
    with pytest.raises(ConfigError, match="has no weights yet"):
        unknown.layers[0].get_weights()
    with pytest.raises(ConfigError, match="Input"):
        model.add(Input(shape=(4,)))


def test_pop_removes_a_prelu_dense_whole_and_missing_names_are_import_errors_too():
    from guinn.layers import PReLU

    model = Sequential([Dense(4, input_dim=3), Dense(8, activation="prelu")])
    assert len(model.layers) == 3  # Dense(linear) + PReLU
    popped = model.pop()
    assert isinstance(popped, Dense) and popped.units == 8 and len(model.layers) == 1
    assert not any(isinstance(layer, PReLU) for layer in model.layers)
    try:  # the feature test a library supporting several Kerases writes
        from guinn.layers import BatchNormalization  # noqa: F401
    except ImportError as exc:
        assert isinstance(exc, ConfigError) and "scale the features" in str(exc)
    else:
        raise AssertionError("BatchNormalization should not exist")


def test_keras_defaults_spelt_out_are_accepted_and_other_values_refused(tmp_path):
    from guinn.callbacks import ModelCheckpoint
    from guinn.losses import BinaryCrossentropy

    Adam(amsgrad=False)  # what guinn does anyway
    BinaryCrossentropy(from_logits=False)
    Dense(4, bias_regularizer=None, kernel_constraint=None)
    model = binary_model()
    model.fit(X, Y, epochs=1, verbose=0, class_weight=None, sample_weight=None)
    with pytest.raises(ConfigError, match="AMSGrad"):
        Adam(amsgrad=True)
    with pytest.raises(ConfigError, match="class weights"):
        model.fit(X, Y, epochs=1, verbose=0, class_weight={0: 1.0, 1: 2.0})
    # a checkpoint's missing folder is made, as Keras's is
    model.fit(X, Y, epochs=1, verbose=0, callbacks=[ModelCheckpoint(str(tmp_path / "runs" / "m.safetensors"))])
    assert (tmp_path / "runs" / "m.safetensors").is_file()


@pytest.mark.parametrize(("make", "message"), [
    (lambda m: m.compile("adam", "mean_absolute_error"), "guinn has no loss 'mean_absolute_error'"),
    (lambda m: m.compile("adam", "mse", metrics=["auc"]), "guinn has no metric 'auc': its metrics are accuracy, mae"),
    (lambda m: Dense(3, activation="elu"), "guinn has no activation 'elu'"),
    (lambda m: Dense(3, kernel_initializer="lecun_normal"), "guinn has no initializer 'lecun_normal'"),
])
def test_keras_names_guinn_lacks_are_not_answered_with_another_thing(make, message):
    with pytest.raises(ConfigError, match=message) as info:
        make(binary_model())
    assert "Did you mean" not in str(info.value)  # 'mean_squared_error' for 'mean_absolute_error' misled


def test_import_guinn_as_keras_and_layer_count_params():
    import guinn as keras

    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3, activation="softmax")], seed=0)
    model.compile(keras.optimizers.Adam(), "categorical_crossentropy")
    model.build()
    assert model.layers[0].count_params() == 4 * 3 + 3 == model.count_params()
    np.testing.assert_array_equal(model(X[:2], training=False), model.predict(X[:2]))
    with pytest.raises(ConfigError, match="training=True"):
        model(X[:2], training=True)
    with pytest.raises(AttributeError):
        keras.no_such_module  # noqa: B018


def test_second_review_fixes_on_the_keras_surface(tmp_path):
    import guinn as keras
    from guinn.callbacks import ModelCheckpoint
    from guinn.errors import GuinnError

    model = binary_model()  # a checkpoint's file records the epoch it was saved after
    model.fit(X, Y, epochs=2, verbose=0, callbacks=[ModelCheckpoint(str(tmp_path / "ck" / "e{epoch}.safetensors"),
                                                                     monitor="loss")])
    assert load_model(tmp_path / "ck" / "e1.safetensors").history.epoch == [0]
    assert load_model(tmp_path / "ck" / "e2.safetensors").history.epoch == [0, 1]
    (tmp_path / "afile").write_text("x")  # a folder that cannot be made: a guinn error, not an OSError
    with pytest.raises(ModelFileError, match="cannot create the folder"):
        model.fit(X, Y, epochs=1, verbose=0, callbacks=[ModelCheckpoint(str(tmp_path / "afile" / "m.safetensors"),
                                                                        monitor="loss")])
    with pytest.raises(GuinnError):
        model.save("/")
    with pytest.raises(GuinnError):
        ModelCheckpoint("/")
    popped = Sequential([Dense(4, input_dim=3)])  # a refused add leaves pop's bookkeeping right
    with pytest.raises(ConfigError):
        popped.add(Dense(5, input_dim=4))
    popped.add(Dense(8, activation="prelu"))
    assert isinstance(popped.pop(), Dense) and len(popped.layers) == 1
    Adam(amsgrad=np.False_)  # NumPy's spelling of the default
    with pytest.raises(ConfigError, match="Sequential models only"):
        keras.Model  # noqa: B018


@pytest.mark.parametrize("hidden", [8, 256])  # 256 units: the split step's path
def test_mae_and_mse_metrics_as_keras_computes_them(hidden):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5, 3.0], dtype="float32"))[:, None]
    model = Sequential([Dense(hidden, activation="relu", input_dim=4), Dense(1)], seed=0)
    model.compile(SGD(learning_rate=0.01), "mse", metrics=["mae", "mean_squared_error"])
    assert model.metrics_names == ["loss", "mae", "mean_squared_error"]
    before = []
    from guinn.callbacks import LambdaCallback

    seen = []
    watch = LambdaCallback(on_train_batch_begin=lambda b, logs: before.append(model.predict(x)),
                           on_train_batch_end=lambda b, logs: seen.append(dict(logs)))
    h = model.fit(x, y, batch_size=64, epochs=2, shuffle=False, verbose=0, callbacks=[watch],
                  validation_data=(x, y))
    for out, logs in zip(before, seen, strict=True):  # each batch's figures are its outputs' before the step
        assert logs["mae"] == pytest.approx(np.abs(out - y).mean(), rel=1e-4)
        assert logs["mean_squared_error"] == pytest.approx(logs["loss"], rel=1e-4)
    assert set(h.history) == {"loss", "mae", "mean_squared_error", "val_loss", "val_mae", "val_mean_squared_error"}
    loss, mae, mse = model.evaluate(x, y, verbose=0)
    assert mae == pytest.approx(np.abs(model.predict(x) - y).mean(), rel=1e-5) and mse == pytest.approx(loss)
    with pytest.raises(ConfigError, match="class numbers"):
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["mae"])


def test_keras_weight_attributes_are_read_only_views_of_the_live_weights():
    import guinn as keras
    from guinn.layers import Dense

    model = keras.Sequential([Dense(4, input_dim=3), Dense(2, use_bias=False)])
    assert [w.shape for w in model.weights] == [(3, 4), (4,), (4, 2)]
    assert len(model.trainable_weights) == 3 and model.non_trainable_weights == []
    first = model.layers[0]
    assert first.kernel.shape == (3, 4) and first.bias.shape == (4,) and model.layers[1].bias is None
    kernel = first.kernel
    with pytest.raises(ValueError, match="read-only"):
        kernel[0, 0] = 5.0
    model.set_weights([np.ones((3, 4)), np.zeros(4), np.ones((4, 2))])
    assert kernel[0, 0] == 1.0  # live: set_weights shows through
    copy = kernel.numpy()
    assert type(copy) is np.ndarray and copy.flags.writeable
    assert keras.Sequential([Dense(4)]).weights == []  # input size unknown: nothing built, as in Keras
    with pytest.raises(ConfigError, match="kernel: layer .* has no weights yet"):
        _ = Dense(3).kernel


def test_keras_loss_functions_give_each_samples_loss_and_compile_takes_them():
    import guinn as keras
    from guinn.core import losses as core_losses
    from guinn.layers import Dense

    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(3), size=5)
    labels = rng.integers(0, 3, 5)
    y = np.eye(3)[labels]
    for fn, cls in ((keras.losses.categorical_crossentropy, core_losses.CategoricalCrossentropy),
                    (keras.losses.binary_crossentropy, core_losses.BinaryCrossentropy),
                    (keras.losses.mse, core_losses.MeanSquaredError)):
        per_sample = fn(y, p)
        assert per_sample.shape == (5,) and np.isclose(per_sample.mean(), cls()(y, p))
    np.testing.assert_allclose(keras.losses.sparse_categorical_crossentropy(labels, p),
                               keras.losses.categorical_crossentropy(y, p))
    model = keras.Sequential([Dense(3, input_dim=4, activation="softmax")])
    model.compile(optimizer="sgd", loss=keras.losses.sparse_categorical_crossentropy)
    assert model.loss.name == "sparse_categorical_crossentropy"
    model.fit(rng.normal(size=(20, 4)), rng.integers(0, 3, 20), epochs=1, verbose=0)


def test_add_and_pop_on_a_built_model_keep_the_weights_the_user_set():
    model = Sequential([Dense(3, input_shape=(4,)), Dense(2, activation="softmax")])
    mine = [np.full((4, 3), 0.5, np.float32), np.full(3, 0.25, np.float32)]
    model.layers[0].set_weights(mine)
    model.add(Dense(2, activation="softmax"))
    assert all((a == b).all() for a, b in zip(mine, model.layers[0].get_weights(), strict=True))
    model.pop()
    assert all((a == b).all() for a, b in zip(mine, model.layers[0].get_weights(), strict=True))


def test_a_refused_add_on_a_built_model_leaves_it_as_it_was():
    model = Sequential([Dense(3, input_shape=(4,)), Dense(2, activation="softmax")])
    model.layers[0].set_weights([np.full((4, 3), 0.5, np.float32), np.zeros(3, np.float32)])
    before = model.get_weights()
    with pytest.raises(ConfigError, match="unique"):
        model.add(Dense(2, name="dense_1"))  # refused only when built
    assert [layer.name for layer in model.layers] == ["dense_1", "dense_2"] and model.built
    assert all((a == b).all() for a, b in zip(before, model.get_weights(), strict=True))


def test_a_layer_belongs_to_one_model_and_a_popped_one_is_free():
    first = Sequential([Dense(3, input_shape=(4,)), Dense(2, activation="softmax")])
    first.build()
    with pytest.raises(ConfigError, match="already belongs to model"):
        Sequential([first.layers[0]])
    with pytest.raises(ConfigError, match="in this model already"):
        first.add(first.layers[1])
    popped = first.pop()
    assert popped.weights == [] and not popped.built  # its old buffer is the first model's no more
    second = Sequential([Dense(3, input_shape=(4,)), popped])
    assert [w.shape for w in second.get_weights()] == [(4, 3), (3,), (3, 2), (2,)]


def test_a_callback_cannot_restructure_the_model_while_it_trains():
    model = Sequential([Dense(3, input_shape=(4,)), Dense(2, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy")
    refused = []

    def pop(logs):
        try:
            model.pop()
        except ConfigError as exc:
            refused.append(str(exc))

    history = model.fit(np.ones((4, 4), np.float32), np.eye(2, dtype=np.float32)[[0, 1, 0, 1]], epochs=2, verbose=0,
                        callbacks=[LambdaCallback(on_train_begin=pop)])
    assert refused and "while the model trains" in refused[0]
    assert len(history.history["loss"]) == 2 and len(model.layers) == 2


def test_swapping_the_output_layer_warns_only_if_the_new_one_is_wrong():
    model = Sequential([Dense(3, activation="relu", input_shape=(4,)), Dense(2, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy")
    x, y = np.ones((4, 4), np.float32), np.eye(3, dtype=np.float32)[[0, 1, 2, 0]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.pop()  # on the way to another head: no warning about the relu output
        model.add(Dense(3, activation="softmax"))
        model.fit(x, y, verbose=0)
    wrong = Sequential([Dense(3, activation="relu", input_shape=(4,)), Dense(3, activation="softmax")])
    wrong.compile("sgd", "categorical_crossentropy")
    wrong.pop()
    wrong.add(Dense(3, activation="relu"))
    with pytest.warns(TrainingWarning, match="expects class probabilities"):
        wrong.fit(x, y, verbose=0)
