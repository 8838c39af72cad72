"""EarlyStopping (Keras semantics) and the NaN stop.

The monitored metric is scripted by a callback placed before EarlyStopping, so the stopping
epoch is known exactly; the weights at every epoch end are recorded to check restores.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from guinn.callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    History,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
    TerminateOnNaN,
)
from guinn.core.layers import Dense
from guinn.core.model import Sequential
from guinn.errors import ConfigError
from guinn.optimizers import SGD, Adam


class Script(Callback):
    """Overwrite logs[key] with a scripted value at every epoch end."""

    def __init__(self, values, key="val_loss"):
        super().__init__()
        self.values, self.key = list(values), key

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]


class Recorder(Callback):
    """Flat weights at train begin, after every batch and at every epoch end."""

    def on_train_begin(self, logs=None):
        self.initial = self.model.get_flat_weights()
        self.batches, self.epochs = [], []

    def on_train_batch_end(self, batch, logs=None):
        self.batches.append(self.model.get_flat_weights())

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(self.model.get_flat_weights())


def data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    y = np.eye(2)[(x[:, 0] > 0).astype(int)]
    return x, y


def model(seed=0, dtype="float64", optimizer=None):
    m = Sequential([Dense(4, activation="relu", input_dim=3), Dense(2, activation="softmax")],
                   seed=seed, dtype=dtype)
    m.compile(optimizer=optimizer or SGD(learning_rate=0.1), loss="categorical_crossentropy",
              metrics=["accuracy"])
    return m


def run(values, es, epochs=None, extra=(), key="val_loss", batch_size=10):
    m = model()
    rec = Recorder()
    x, y = data()
    epochs = epochs or len(values)
    history = m.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0,
                    callbacks=[Script(values, key), *extra, es, rec])
    return m, history, rec


# -- patience, min_delta, mode ----------------------------------------------------------------
def test_patience_counts_epochs_without_improvement_like_keras():
    # best at epoch 1; epochs 2 and 3 do not improve -> with patience 2, stop after epoch 3
    es = EarlyStopping(patience=2)
    m, history, _ = run([1.0, 0.5, 0.6, 0.7, 0.1, 0.1], es)
    assert history.epoch == [0, 1, 2, 3]
    assert es.stopped_epoch == 3 and m.stop_training
    assert es.best == 0.5 and es.best_epoch == 1
    assert any("EarlyStopping" in msg and "epoch 4" in msg for msg in history.messages)


def test_patience_zero_stops_at_first_epoch_without_improvement():
    es = EarlyStopping(patience=0)
    _, history, _ = run([1.0, 0.5, 0.6, 0.1, 0.1], es)
    assert history.epoch == [0, 1, 2]


def test_improvement_resets_patience():
    es = EarlyStopping(patience=2)
    _, history, _ = run([1.0, 1.1, 0.9, 1.0, 0.8, 0.85, 0.85, 0.1], es)
    # improvements at 0, 2, 4; epochs 5 and 6 fail -> stop after epoch 6
    assert history.epoch == list(range(7))
    assert es.best_epoch == 4


def test_baseline_never_beaten_still_restores_the_best_epoch_like_keras():
    # Keras 3: the best epoch is tracked regardless of the baseline; improvements that stay
    # above it do not reset patience, so the first epoch without improvement stops training.
    es = EarlyStopping(patience=2, baseline=0.1, restore_best_weights=True)
    m, history, rec = run([1.0, 0.5, 0.6, 0.05, 0.04], es)
    assert history.epoch == [0, 1, 2]
    assert es.stopped_epoch == 2 and es.best_epoch == 1
    assert_restored(m, rec, es, history, 1)


def test_beating_the_baseline_resets_patience():
    es = EarlyStopping(patience=2, baseline=0.45)
    _, history, _ = run([1.0, 0.4, 0.5, 0.5, 0.5, 0.1], es)
    # epoch 1 beats the baseline (wait 0); epochs 2 and 3 fail -> stop after epoch 3
    assert history.epoch == [0, 1, 2, 3] and es.best_epoch == 1


def test_no_stop_while_improving():
    es = EarlyStopping(patience=0)
    _, history, _ = run([1.0, 0.9, 0.8, 0.7], es)
    assert history.epoch == [0, 1, 2, 3] and es.stopped_epoch is None
    assert not any("EarlyStopping" in msg for msg in history.messages)


def test_min_delta_requires_large_enough_improvement():
    values = [1.0, 0.95, 0.92, 0.85, 0.5, 0.5]
    es = EarlyStopping(patience=2, min_delta=0.1)
    _, history, _ = run(values, es)
    assert history.epoch == [0, 1, 2]
    assert es.best == 1.0
    # the same values without min_delta never stop
    es = EarlyStopping(patience=2)
    _, history, _ = run(values, es)
    assert history.epoch == list(range(6))


def test_mode_auto_is_max_for_accuracy():
    es = EarlyStopping(monitor="val_accuracy", patience=2)
    assert es.mode == "max"
    _, history, _ = run([0.5, 0.6, 0.55, 0.58, 0.9], es, key="val_accuracy")
    assert history.epoch == [0, 1, 2, 3]
    assert es.best == 0.6


def test_mode_min_and_max_explicit():
    es = EarlyStopping(monitor="val_accuracy", mode="min", patience=1)
    _, history, _ = run([0.5, 0.6, 0.55, 0.4], es, key="val_accuracy")
    assert history.epoch == [0, 1]
    es = EarlyStopping(monitor="loss", mode="max", patience=1)
    _, history, _ = run([0.5, 0.4, 0.6, 0.7], es, key="loss")
    assert history.epoch == [0, 1]


def test_monitors_real_validation_loss_and_warns_when_missing():
    m = model()
    x, y = data()
    es = EarlyStopping(monitor="val_loss", patience=1)
    with pytest.warns(UserWarning, match="validation split"):
        history = m.fit(x, y, epochs=2, verbose=0, callbacks=[es])
    assert any("'val_loss' is not available" in msg for msg in history.messages)
    es = EarlyStopping(monitor="val_loss", patience=1)
    history = m.fit(x, y, epochs=2, verbose=0, validation_split=0.25, callbacks=[es])
    assert es.best == pytest.approx(min(history.history["val_loss"]))


def test_a_misspelt_monitor_warns_with_the_closest_name_and_keras_aliases_work():
    m = model()
    x, y = data()
    with pytest.warns(UserWarning, match=r"'val_los' is not available.*did you mean 'val_loss'"):
        history = m.fit(x, y, epochs=2, verbose=0, validation_split=0.25, callbacks=[EarlyStopping(monitor="val_los")])
    assert len(history.epoch) == 2 and any("did you mean 'val_loss'" in msg for msg in history.messages)
    es = EarlyStopping(monitor="val_acc", patience=5)  # Keras's alias for the metric guinn logs as val_accuracy
    history = m.fit(x, y, epochs=2, verbose=0, validation_split=0.25, callbacks=[es])
    assert es.monitor == "val_accuracy" and es.mode == "max"
    assert es.best == pytest.approx(max(history.history["val_accuracy"]))


def test_bad_early_stopping_arguments():
    for kwargs in ({"mode": "maximum"}, {"patience": -1}, {"patience": 1.5},
                   {"min_delta": float("nan")}, {"monitor": 3}):
        with pytest.raises(ConfigError):
            EarlyStopping(**kwargs)


# -- restore_best_weights, however training ends -------------------------------------------------
def assert_restored(m, rec, es, history, best_epoch):
    np.testing.assert_array_equal(m.get_flat_weights(), rec.epochs[best_epoch])
    assert not np.array_equal(m.get_flat_weights(), rec.epochs[-1]), "test needs weights to change"
    assert es.best_epoch == best_epoch
    said = [msg for msg in history.messages if "restored" in msg]
    assert any(f"epoch {best_epoch + 1}" in msg for msg in said), history.messages


def test_restore_after_patience_stop():
    es = EarlyStopping(patience=2, restore_best_weights=True)
    m, history, rec = run([1.0, 0.5, 0.6, 0.7, 0.1], es)
    assert history.epoch == [0, 1, 2, 3]
    assert_restored(m, rec, es, history, 1)


def test_restore_when_epoch_budget_runs_out():
    es = EarlyStopping(patience=10, restore_best_weights=True)
    m, history, rec = run([1.0, 0.4, 0.5, 0.6], es)
    assert history.epoch == [0, 1, 2, 3] and es.stopped_epoch is None
    assert_restored(m, rec, es, history, 1)


def test_no_restore_message_when_last_epoch_is_best():
    es = EarlyStopping(patience=10, restore_best_weights=True)
    m, history, rec = run([1.0, 0.9, 0.8], es)
    np.testing.assert_array_equal(m.get_flat_weights(), rec.epochs[-1])
    assert not any("restored" in msg for msg in history.messages)


def test_restore_when_a_callback_requests_stop_at_epoch_end():
    def stop(epoch, logs):
        if epoch == 2:
            m.stop_training = True

    es = EarlyStopping(patience=10, restore_best_weights=True)
    m = model()
    rec = Recorder()
    x, y = data()
    history = m.fit(x, y, batch_size=10, epochs=6, verbose=0,
                    callbacks=[Script([1.0, 0.5, 0.7, 0.1, 0.1, 0.1]), es,
                               LambdaCallback(on_epoch_end=stop), rec])
    assert history.epoch == [0, 1, 2]
    assert_restored(m, rec, es, history, 1)


def test_restore_when_a_callback_requests_stop_mid_epoch():
    calls = []

    def stop(batch, logs):
        calls.append(batch)
        if len(calls) == 10:  # epoch 2 (0-based), batch 1
            m.stop_training = True

    es = EarlyStopping(patience=10, restore_best_weights=True)
    m = model()
    rec = Recorder()
    x, y = data()
    history = m.fit(x, y, batch_size=10, epochs=6, verbose=0,
                    callbacks=[Script([1.0, 0.5, 0.7, 0.1, 0.1, 0.1]), es,
                               LambdaCallback(on_train_batch_end=stop), rec])
    assert len(calls) == 10 and history.epoch == [0, 1, 2]
    assert_restored(m, rec, es, history, 1)


def blow_up_at(epoch_index, lr=1e30):
    """A callback that sets a huge learning rate at the start of the given epoch."""
    def begin(epoch, logs):
        if epoch == epoch_index:
            m_ref[0].optimizer.learning_rate = lr

    m_ref = [None]
    cb = LambdaCallback(on_epoch_begin=begin)
    return cb, m_ref


def test_restore_after_nan_stop():
    es = EarlyStopping(patience=10, restore_best_weights=True)
    m = model(dtype="float32")
    cb, ref = blow_up_at(2)
    ref[0] = m
    rec = Recorder()
    x, y = data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        history = m.fit(x, y, batch_size=10, epochs=8, verbose=0,
                        callbacks=[Script([1.0, 0.5] + [0.1] * 6), cb, es, rec])
    assert m.stop_reason is not None and m.stop_training
    assert len(history.epoch) < 8
    np.testing.assert_array_equal(m.get_flat_weights(), rec.epochs[1])
    assert np.isfinite(m.get_flat_weights()).all()
    assert any("restored" in msg and "epoch 2" in msg for msg in history.messages)


# -- the NaN stop ---------------------------------------------------------------------------------
@pytest.mark.parametrize("optimizer", [lambda: SGD(learning_rate=1e30),
                                       lambda: Adam(learning_rate=1e30),
                                       lambda: SGD(learning_rate=1e15, momentum=0.9)],
                         ids=["sgd", "adam", "momentum"])
def test_huge_learning_rate_stops_with_finite_last_weights(optimizer):
    m = model(dtype="float32", optimizer=optimizer())
    rec = Recorder()
    x, y = data(n=200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        history = m.fit(x, y, batch_size=10, epochs=20, verbose=0, callbacks=[rec])
    assert m.stop_training and len(history.epoch) < 20
    final = m.get_flat_weights()
    assert np.isfinite(final).all()
    last_finite = rec.batches[-1] if rec.batches else rec.initial
    np.testing.assert_array_equal(final, last_finite)
    # where and why: epoch and batch of the failing step (1-based), and the learning rate
    failed = len(rec.batches)  # global index of the step that failed
    steps = 20
    epoch, batch = failed // steps + 1, failed % steps + 1
    reason = m.stop_reason
    assert f"epoch {epoch}, batch {batch}" in reason, reason
    assert "learning rate" in reason and f"{m.optimizer.learning_rate:g}" in reason
    assert reason in history.messages
    # the model is still usable
    assert np.isfinite(m.get_weights()[0]).all()


def test_nan_stop_message_printed_when_verbose(capsys):
    m = model(dtype="float32", optimizer=SGD(learning_rate=1e30))
    x, y = data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        m.fit(x, y, batch_size=10, epochs=5, verbose=2)
    assert "learning rate" in capsys.readouterr().out


def test_training_can_continue_after_nan_stop_with_sane_learning_rate():
    m = model(dtype="float32", optimizer=SGD(learning_rate=1e30))
    x, y = data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        m.fit(x, y, batch_size=10, epochs=5, verbose=0)
    assert m.stop_reason
    m.set_weights([np.full_like(w, 0.1) for w in m.get_weights()])
    m.optimizer.learning_rate = 0.01
    history = m.fit(x, y, batch_size=10, epochs=2, verbose=0)
    assert m.stop_reason is None and len(history.epoch) == 2


def test_history_records_epoch_metrics():
    m = model()
    x, y = data()
    history = m.fit(x, y, batch_size=10, epochs=3, verbose=0, validation_split=0.25)
    assert isinstance(history, History) and history is m.history
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 3 for v in history.history.values())
    assert history.epoch == [0, 1, 2]


def test_diverging_regression_stops_at_first_non_finite_loss():
    m = Sequential([Dense(8, activation="relu", input_dim=3), Dense(8, activation="relu"),
                    Dense(1)], seed=0)
    m.compile(optimizer=SGD(learning_rate=3.0), loss="mse")
    x, _ = data(n=200)
    rec = Recorder()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        history = m.fit(x, x.sum(axis=1), batch_size=10, epochs=5, verbose=0, callbacks=[rec])
    assert len(rec.batches) >= 2, "should take a few finite steps before diverging"
    np.testing.assert_array_equal(m.get_flat_weights(), rec.batches[-1])
    assert f"batch {len(rec.batches) + 1}:" in m.stop_reason
    assert "infinite" in m.stop_reason or "NaN" in m.stop_reason or "overflow" in m.stop_reason
    assert "learning rate (3)" in m.stop_reason
    # the partial epoch is still reported, with a finite mean loss over the finite steps
    assert history.epoch == [0] and np.isfinite(history.history["loss"][0])


def test_a_diverging_but_finite_loss_is_reported():
    """SGD at learning rate 10 saturates sigmoid layers: no NaN, but the loss explodes; say so."""
    from guinn.data.toy import make_toy

    x, y = make_toy("spiral", n_samples=300, seed=0)
    model = Sequential([Dense(64, activation="sigmoid", input_dim=2), Dense(64, activation="sigmoid"),
                        Dense(3, activation="softmax")], seed=0)
    model.compile(loss="sparse_categorical_crossentropy", optimizer=SGD(learning_rate=50.0))
    history = model.fit(x * 10, y, epochs=3, batch_size=16, verbose=0)
    assert model.stop_reason is None  # finite all along
    assert history.history["loss"][-1] > 5 * 1.1 + 1
    assert sum("training is diverging" in m and "learning rate (50)" in m for m in history.messages) == 1


def test_a_healthy_run_gets_no_divergence_message():
    from guinn.data.toy import make_toy

    x, y = make_toy("spiral", n_samples=300, seed=0)
    model = Sequential([Dense(32, activation="relu", input_dim=2), Dense(3, activation="softmax")], seed=0)
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    history = model.fit(x, y, epochs=3, verbose=0)
    assert not any("diverging" in m for m in history.messages)


# -- Keras's other everyday callbacks ------------------------------------------------------------
def _tiny(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    y = (x[:, :1] > 0).astype(np.float32)
    model = Sequential([Dense(4, activation="tanh", input_dim=3), Dense(1, activation="sigmoid")], seed=seed)
    model.compile(optimizer=SGD(0.1), loss="binary_crossentropy", metrics=["accuracy"])
    return model, x, y


def test_learning_rate_scheduler_sets_each_epochs_rate():
    model, x, y = _tiny()
    seen = []
    probe = LambdaCallback(on_epoch_begin=lambda epoch, logs: seen.append(model.optimizer.learning_rate))
    model.fit(x, y, epochs=3, verbose=0, callbacks=[LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1)), probe])
    assert seen == pytest.approx([0.1, 0.05, 0.1 / 3])
    model.fit(x, y, epochs=2, verbose=0, callbacks=[LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1))])
    assert model.optimizer.learning_rate == pytest.approx(0.02)  # Keras 2's one-argument schedule
    with pytest.raises(ConfigError, match="learning_rate must be a positive number"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[LearningRateScheduler(lambda epoch, lr: 0)])
    with pytest.raises(ConfigError, match="needs a function"):
        LearningRateScheduler(0.1)


def test_reduce_lr_on_plateau_follows_keras():
    model, x, y = _tiny()
    losses = iter([1.0, 0.9, 0.95, 0.97, 0.99, 0.8, 0.85, 0.86, 0.87])  # improvements at epochs 0, 1, 5
    fake = LambdaCallback(on_epoch_end=lambda epoch, logs: logs.update(val_loss=next(losses)))
    rates = []
    after = LambdaCallback(on_epoch_end=lambda epoch, logs: rates.append(model.optimizer.learning_rate))
    plateau = ReduceLROnPlateau(factor=0.5, patience=2, cooldown=1, min_lr=0.02)
    model.fit(x, y, epochs=9, verbose=0, callbacks=[fake, plateau, after])
    # epochs 2, 3 stall: halve after 3; 4 is cooldown; 5 improves; 6, 7 stall: halve after 7 (to min_lr)
    assert rates == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025])
    assert any("learning rate reduced to 0.05 after epoch 4" in m for m in model.history.messages)
    with pytest.raises(ConfigError, match="factor must be a number between 0 and 1"):
        ReduceLROnPlateau(factor=2)


def test_model_checkpoint_saves_every_epoch_or_the_best(tmp_path):
    from guinn.models import load_model

    model, x, y = _tiny()
    model.fit(x, y, epochs=3, verbose=0, validation_split=0.25,
              callbacks=[ModelCheckpoint(tmp_path / "e{epoch:02d}-{val_loss:.2f}.safetensors")])
    assert len(sorted(tmp_path.glob("e0[123]-*.safetensors"))) == 3
    best = tmp_path / "best.safetensors"
    losses = iter([0.5, 0.4, 0.6])
    fake = LambdaCallback(on_epoch_end=lambda epoch, logs: logs.update(val_loss=next(losses)))
    weights = []
    keep = LambdaCallback(on_epoch_end=lambda epoch, logs: weights.append(model.get_flat_weights()))
    model.fit(x, y, epochs=3, verbose=0, callbacks=[fake, ModelCheckpoint(best, save_best_only=True), keep])
    np.testing.assert_array_equal(load_model(best).get_flat_weights(), weights[1])  # epoch 2 was best
    with pytest.raises(ConfigError, match="names something not in the logs"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[ModelCheckpoint(tmp_path / "{val_los}.safetensors")])


def test_model_checkpoint_saves_weights_only_and_checks_the_name_up_front(tmp_path):
    model, x, y = _tiny()
    model.fit(x, y, epochs=2, verbose=0,
              callbacks=[ModelCheckpoint(tmp_path / "w{epoch}.weights.safetensors", save_weights_only=True)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w1.weights.safetensors", "w2.weights.safetensors"]
    trained = model.get_flat_weights()
    model.reset_weights()
    model.load_weights(tmp_path / "w2.weights.safetensors")
    np.testing.assert_array_equal(model.get_flat_weights(), trained)
    # Keras's names are refused before any training, with the name to use
    with pytest.raises(ConfigError, match=r"best\.weights\.safetensors"):
        ModelCheckpoint(tmp_path / "best.weights.h5", save_weights_only=True)
    with pytest.raises(ConfigError, match=r"best\.safetensors"):
        ModelCheckpoint(tmp_path / "best.keras")
    with pytest.raises(ConfigError, match="save_weights"):
        ModelCheckpoint(tmp_path / "best.weights.safetensors")  # a weights name for whole models


def test_csv_logger_writes_a_row_per_epoch(tmp_path):
    import csv

    model, x, y = _tiny()
    path = tmp_path / "log.csv"
    model.fit(x, y, epochs=2, verbose=0, validation_split=0.25, callbacks=[CSVLogger(path)])
    model.fit(x, y, epochs=1, verbose=0, validation_split=0.25, callbacks=[CSVLogger(path, append=True)])
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]  # sorted, as Keras
    assert [r[0] for r in rows[1:]] == ["0", "1", "0"] and all(len(r) == 5 for r in rows)
    assert float(rows[3][2]) == pytest.approx(model.history.history["loss"][0])  # the appended run's


def test_terminate_on_nan_stops_on_a_non_finite_loss():
    model, x, y = _tiny()
    def poison(batch, logs):  # as a user's own loss class might report
        if batch == 1:
            logs["loss"] = float("nan")

    nan_logs = LambdaCallback(on_train_batch_end=poison)
    history = model.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=[nan_logs, TerminateOnNaN()])
    assert history.epoch == [0] and any("TerminateOnNaN: batch 2" in m for m in history.messages)


def test_keras_callback_edge_cases(tmp_path):
    from guinn.models import load_model

    model, x, y = _tiny()
    best = tmp_path / "best.safetensors"
    checkpoint = ModelCheckpoint(best, save_best_only=True)
    losses = iter([0.3, 0.5])
    fake = LambdaCallback(on_epoch_end=lambda epoch, logs: logs.update(val_loss=next(losses)))
    model.fit(x, y, epochs=1, verbose=0, callbacks=[fake, checkpoint])
    kept = load_model(best).get_flat_weights()
    model.fit(x, y, epochs=1, verbose=0, callbacks=[fake, checkpoint])  # worse: the best file stays (Keras)
    np.testing.assert_array_equal(load_model(best).get_flat_weights(), kept)

    def buggy(epoch, lr):
        return lr * "x"  # the user's own TypeError must surface, not a complaint about arguments

    with pytest.raises(TypeError, match="can't multiply sequence"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[LearningRateScheduler(buggy)])
    with pytest.raises(ConfigError, match="CSVLogger cannot write"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[CSVLogger(tmp_path / "no" / "log.csv")])
    for make in (lambda: TerminateOnNaN(foo=1), lambda: History(1), lambda: Callback(verbose=1)):
        with pytest.raises(ConfigError, match="It takes no arguments"):
            make()


def test_history_joined_keeps_every_fit_aligned_and_is_what_save_stores(tmp_path):
    """Two fits of the same weights, the second with validation: the joined record has every
    epoch, NaN where a metric was not logged, and the step counts of both."""
    import math

    from guinn.models import load_model

    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    m = Sequential([Dense(4, activation="relu", input_dim=3), Dense(1, activation="sigmoid")], seed=0)
    m.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    first = m.fit(x, y, epochs=2, batch_size=20, verbose=0)
    second = m.fit(x, y, epochs=5, initial_epoch=2, batch_size=20, validation_split=0.25, verbose=0)
    whole = first.joined(second)
    assert whole.epoch == [0, 1, 2, 3, 4] and whole.steps == [3, 6, 9, 12, 15]
    assert whole.history["loss"] == first.history["loss"] + second.history["loss"]
    assert all(math.isnan(v) for v in whole.history["val_loss"][:2]) and whole.history["val_loss"][2:] == \
        second.history["val_loss"]
    m.save(tmp_path / "m.safetensors", history=whole)
    stored = load_model(tmp_path / "m.safetensors").history
    assert stored.epoch == whole.epoch and stored.steps == whole.steps and len(stored.history["val_loss"]) == 5
    m.save(tmp_path / "last.safetensors")  # by default the last fit's, as Keras's model.history
    assert load_model(tmp_path / "last.safetensors").history.epoch == [2, 3, 4]
    with pytest.raises(Exception, match="history must be a guinn History"):
        m.save(tmp_path / "bad.safetensors", history={"loss": [1.0]})
    m.reset_weights()
    assert m.history.epoch == []  # the record went with the weights it described


def test_history_joined_lets_a_later_fit_replace_a_cut_short_epoch_and_merges_spellings():
    from guinn.callbacks import History

    first, later = History(), History()
    first.epoch, first.steps = [0, 1, 2], [10, 20, 24]  # epoch 2 cut short by a Stop after 4 batches
    first.history = {"loss": [0.9, 0.5, 0.45], "acc": [0.6, 0.8, 0.8]}
    later.epoch, later.steps = [2, 3], [34, 44]  # the next Start: initial_epoch 2
    later.history = {"loss": [0.4, 0.3], "accuracy": [0.85, 0.9], "val_loss": [0.5, 0.4]}
    whole = first.joined(later)
    assert whole.epoch == [0, 1, 2, 3] and whole.steps == [10, 20, 34, 44]
    assert whole.history["loss"] == [0.9, 0.5, 0.4, 0.3]
    assert whole.history["acc"] == [0.6, 0.8, 0.85, 0.9] and "accuracy" not in whole.history  # one metric
    assert whole.history["val_loss"][2:] == [0.5, 0.4]
    assert History().joined(later).epoch == [2, 3] and first.joined(History()).epoch == [0, 1, 2]


def test_history_records_what_callbacks_add_to_the_logs_as_keras_does():
    from guinn.callbacks import Callback, LearningRateScheduler, ReduceLROnPlateau

    class F1(Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_f1"] = 0.5 + epoch

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    m = Sequential([Dense(4, activation="relu", input_dim=3), Dense(1, activation="sigmoid")], seed=0)
    m.compile(SGD(learning_rate=0.1), "binary_crossentropy")
    h = m.fit(x, y, epochs=3, validation_split=0.25, verbose=0,
              callbacks=[F1(), ReduceLROnPlateau(patience=1, factor=0.5, min_delta=10.0),
                         LearningRateScheduler(lambda epoch, lr: lr)])
    assert h.history["val_f1"] == [0.5, 1.5, 2.5]
    assert h.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.025])  # each epoch's, before a cut


def test_history_joined_keeps_a_record_that_does_not_start_at_epoch_zero():
    from guinn.callbacks import History

    a, b = History(), History()
    a.epoch, a.history = [2, 3, 4], {"loss": [0.5, 0.4, 0.3]}  # a model fit with initial_epoch=2
    b.epoch, b.history = [5], {"loss": [0.2]}
    assert a.joined(b).epoch == [2, 3, 4, 5] and a.joined(b).history["loss"] == [0.5, 0.4, 0.3, 0.2]
    b.epoch = [3]  # numbered from a count, not from the record: nothing is lost either
    assert a.joined(b).history["loss"] == [0.5, 0.4, 0.3, 0.2]


def test_the_progress_bar_of_a_stopped_epoch_shows_the_batches_run(capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 3)) * 100
    model = Sequential([Dense(8, input_dim=3, activation="relu"), Dense(1)], seed=0)  # (a random seed stopped it later)
    model.compile(loss="mse", optimizer=SGD(learning_rate=10.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the stop's own TrainingWarning
        model.fit(x, x.sum(1, keepdims=True), epochs=3, batch_size=10, verbose=1)
    last = capsys.readouterr().out.strip().splitlines()[-1].split("\r")[-1]
    assert model.stop_reason and last.startswith("1/10 [===......")
    model = Sequential([Dense(2, input_dim=3)])
    model.compile(loss="mse", optimizer="sgd")
    model.fit(x / 100, x[:, :2] / 100, epochs=1, batch_size=10, verbose=1)
    assert capsys.readouterr().out.strip().split("\r")[-1].startswith(f"10/10 [{'=' * 30}]")


def test_training_warnings_point_at_the_users_line():
    x = np.random.default_rng(0).normal(size=(40, 3))
    y = np.eye(2)[np.arange(40) % 2]
    model = Sequential([Dense(2, input_dim=3, activation="relu")])
    with pytest.warns(Warning) as compiled:
        model.compile(loss="categorical_crossentropy", optimizer="sgd")
    with pytest.warns(Warning) as fitted:
        model.fit(x, y, epochs=1, verbose=0, callbacks=[EarlyStopping(monitor="val_los")])
    assert {w.filename for w in [*compiled, *fitted]} == {__file__}
