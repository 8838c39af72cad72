"""Pause/step/stop flags and the throttled relay, without the window."""

import threading
import time

import numpy as np
import pytest
from PySide6.QtCore import QThread

from guinn.core.specs import LayerSpec, build_model
from guinn.gui.worker import RunControl, TelemetryRelay, TrainingWorker
from guinn.utils import to_categorical


def _toy_fit(n=400, epochs=2, batch_size=10):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 2)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = build_model(2, [LayerSpec(8, "tanh")], 2, seed=0)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model, dict(x=x, y=to_categorical(y, 2), batch_size=batch_size, epochs=epochs)


def test_run_control_step_lets_one_batch_through():
    control = RunControl(paused=True, steps=1)
    assert control.wait_turn()  # the token
    passed = []
    t = threading.Thread(target=lambda: passed.append(control.wait_turn()))
    t.start()
    time.sleep(0.05)
    assert not passed  # blocked while paused
    control.step()
    t.join(2)
    assert passed == [True]
    t = threading.Thread(target=lambda: passed.append(control.wait_turn()))
    t.start()
    control.stop()
    t.join(2)
    assert passed == [True, False]


def test_run_control_fast_path_still_sees_pause_and_stop():
    control = RunControl()
    hooks = []
    assert control.wait_turn(lambda: hooks.append("before"), lambda: hooks.append("after"))
    assert hooks == []  # running: no lock, no hooks
    control.pause()
    t = threading.Thread(target=lambda: hooks.append(control.wait_turn(lambda: hooks.append("before"))))
    t.start()
    time.sleep(0.05)
    assert hooks == ["before"]  # blocked: the pause was seen
    control.resume()
    t.join(2)
    assert hooks == ["before", True]
    control.stop()
    assert control.wait_turn() is False


def test_relay_throttles_but_keeps_every_batch():
    model, args = _toy_fit(n=2000, epochs=1, batch_size=4)
    records, epochs = [], []
    relay = TelemetryRelay(
        RunControl(), records.append, epochs.append, lambda _p: None, interval=10.0
    )
    model.fit(**args, callbacks=[relay], verbose=0)
    assert len(records) <= 3  # first batch, epoch end (flush), nothing in between at this interval
    assert sum(len(r.batches) for r in records) == 500
    assert records[-1].done == 500
    assert len(epochs) == 1


def test_stop_request_stops_fit_and_keeps_weights():
    model, args = _toy_fit(epochs=50)
    control = RunControl()
    seen = []

    def on_progress(p):
        seen.append(p.done)
        if p.done >= 5:
            control.stop()

    epochs = []
    relay = TelemetryRelay(control, on_progress, epochs.append, lambda p: None, interval=0.0)
    before = model.get_flat_weights()
    model.fit(**args, callbacks=[relay], verbose=0)
    assert relay.done < 50 * 40
    assert not np.array_equal(before, model.get_flat_weights())
    # fit still reports the stopped epoch's part (as Keras does); the relay plots no epoch for it
    assert len(model.history.epoch) == 1 and epochs == [] and relay.epochs_done == 0


@pytest.mark.parametrize("fail", [False, True])
def test_worker_in_a_thread_always_finishes(qtbot, fail):
    model, args = _toy_fit(epochs=1)
    if fail:
        args["batch_size"] = 0  # the core refuses: a GuinnError in the worker
    worker = TrainingWorker(model, args)
    thread = QThread()
    worker.moveToThread(thread)
    failures, outcomes = [], []
    worker.failed.connect(failures.append)
    worker.finished.connect(outcomes.append)  # plain callables: called on the worker thread
    worker.finished.connect(thread.quit)
    thread.started.connect(worker.run)
    thread.start()
    qtbot.waitUntil(lambda: bool(outcomes), timeout=60_000)
    assert thread.wait(5000)
    outcome = outcomes[0]
    assert bool(failures) == fail
    assert (outcome.error is not None) == fail
    if not fail:
        assert outcome.batches == 40


def test_relay_reports_keras_spelt_metrics_under_guinns_names():
    model, args = _toy_fit(epochs=1)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["acc"])  # e.g. an opened API model
    model.set_telemetry(False)
    records, epochs = [], []
    relay = TelemetryRelay(RunControl(), records.append, epochs.append, lambda _p: None, interval=0.0)
    model.fit(**args, validation_split=0.25, callbacks=[relay], verbose=0)
    assert epochs[0].as_dict().keys() == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(0 <= b.accuracy <= 1 for r in records for b in r.batches)


def test_run_control_is_idle_only_once_the_batch_in_flight_has_ended():
    control = RunControl()
    assert not control.idle
    control.pause()
    assert not control.wait_until_idle(0.05)  # paused, but the worker has not reached the gate
    worker = threading.Thread(target=control.wait_turn)
    worker.start()
    assert control.wait_until_idle(2) and control.idle
    control.resume()
    worker.join(2)
    assert not control.idle
    control.finished()
    assert control.idle
