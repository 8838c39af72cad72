"""Training on a worker thread: the only place the GUI meets ``Sequential.fit``.

``RunControl`` holds thread-safe pause/step/stop flags; ``TelemetryRelay`` (a core
callback) checks them between batches and turns per-batch telemetry into frozen records,
emitted at most ~30 times a second (always a final one) but with every batch inside.
``TrainingWorker`` is a QObject moved to a QThread; it always emits ``finished``, after
``failed`` when something went wrong.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal, Slot

from guinn.core.callbacks import Callback, canonical_metric
from guinn.core.telemetry import BatchTelemetry
from guinn.errors import GuinnError

log = logging.getLogger(__name__)
EMIT_INTERVAL = 1 / 30


@dataclass(frozen=True)
class Progress:
    """Batches since the last record; position and timing of the run."""

    batches: tuple[BatchTelemetry, ...]
    epoch: int  # 0-based, counted from the weights' first run (fit's initial_epoch)
    batch: int  # 0-based, within the epoch
    epochs: int
    steps: int  # batches per epoch
    done: int  # batches finished in this run
    elapsed: float  # seconds since this run's first batch began


@dataclass(frozen=True)
class EpochEnd:
    epoch: int
    logs: tuple[tuple[str, float], ...]

    def as_dict(self) -> dict[str, float]:
        return dict(self.logs)


@dataclass(frozen=True)
class Outcome:
    batches: int
    epochs_done: int
    elapsed: float
    stopped_by_user: bool
    stop_reason: str | None  # the model's explanation of a NaN stop
    messages: tuple[str, ...]  # early stopping and other notes from History
    error: str | None
    test: tuple[tuple[str, float], ...] = ()  # the trained weights on the held-out test set (loss, accuracy)


IDLE_TIMEOUT_S = 10.0  # how long a save waits for the batch in flight (a first batch may be compiling)


class RunControl:
    """Pause, single-step and stop requests, safe to set from the GUI thread."""

    def __init__(self, paused: bool = False, steps: int = 0):
        self._cond = threading.Condition()
        self._paused = paused
        self._steps = steps
        self._stop = threading.Event()
        self._idle = False  # the worker is blocked between batches, or done: the weights hold still
        # Least seconds an epoch takes (0: no limit); the window sets it while a 2-D dataset's
        # decision boundary is on screen, so toy runs of a fraction of a second can be watched.
        self.pace_s = 0.0
        # Least seconds a batch takes (0: no limit): the window's slow motion, for a lecture.
        self.batch_pace_s = 0.0

    @property
    def paused(self) -> bool:
        """Pause was asked for (the worker may still be finishing its batch: see ``idle``)."""
        return self._paused

    @property
    def idle(self) -> bool:
        """The worker is waiting between batches, or has finished: nothing changes the weights."""
        return self._idle

    def wait_until_idle(self, timeout: float) -> bool:
        """After ``pause``: block until the worker has finished its batch (True) or ``timeout``."""
        with self._cond:
            return self._cond.wait_for(lambda: self._idle, timeout)

    def finished(self) -> None:
        """Called by the worker when its fit has returned."""
        with self._cond:
            self._idle = True
            self._cond.notify_all()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def pause(self) -> None:
        with self._cond:
            self._paused = True

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._cond.notify_all()

    def step(self) -> None:
        """Allow exactly one more batch, then stay paused."""
        with self._cond:
            self._paused = True
            self._steps += 1
            self._cond.notify_all()

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()

    def hold(self, seconds: float) -> None:
        """Wait ``seconds`` (pacing), or less if Stop is pressed meanwhile."""
        if seconds > 0:
            self._stop.wait(seconds)

    def wait_turn(self, before_blocking=None, after_blocking=None) -> bool:
        """Block while paused (a step token lets one batch through). False: stop requested."""
        if not self._paused and not self._stop.is_set():
            return True  # the common case, every batch: no lock (both reads are atomic)
        with self._cond:
            if self._stop.is_set():
                return False
            if not self._paused:
                return True
            if self._steps:
                self._steps -= 1
                return True
        if before_blocking:
            before_blocking()
        with self._cond:
            self._idle = True
            self._cond.notify_all()  # a save waiting for the batch to end may go ahead
            while self._paused and not self._steps and not self._stop.is_set():
                self._cond.wait()
            self._idle = False
            if self._paused and self._steps:
                self._steps -= 1
        if after_blocking:
            after_blocking()
        return not self._stop.is_set()


class TelemetryRelay(Callback):
    """Runs on the worker thread: gates each batch on ``RunControl`` and batches up records."""

    def __init__(
        self,
        control: RunControl,
        emit_progress,
        emit_epoch,
        emit_paused,
        interval: float = EMIT_INTERVAL,
    ):
        super().__init__()
        self.control = control
        self._emit_progress = emit_progress
        self._emit_epoch = emit_epoch
        self._emit_paused = emit_paused
        self.interval = interval
        self._pending: list[BatchTelemetry] = []
        self.done = 0
        self.epochs_done = 0
        self._epoch = 0
        self._batch = 0
        self._epoch_batches = 0
        self._epoch_began = self._start = self._batch_end = time.perf_counter()
        self._last_emit = 0.0
        self._paused_since = None
        self._paused_total = 0.0  # excluded from elapsed: rates and time left count training only

    def on_train_begin(self, logs=None):
        self._start = time.perf_counter()
        self._gate()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._epoch_batches = 0
        self._epoch_began = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        # Runs once per batch on the worker thread, holding the GIL: keep it to a few
        # attribute operations (no locks, no allocations beyond the list append).
        record = logs.get("telemetry") if logs else None
        if record is None:
            record = self._bare_record(batch, logs or {})
        self._pending.append(record)
        self._batch = batch
        self._epoch_batches += 1
        self.done += 1
        now = time.perf_counter()
        if now - self._last_emit >= self.interval:
            self.flush(now)
        if self.control.batch_pace_s:  # slow motion: the batch's records go out, then it waits
            self.flush(now)
            self.control.hold(self.control.batch_pace_s - (now - self._batch_end))
            now = time.perf_counter()
        self._batch_end = now
        self._gate()

    def _bare_record(self, batch, logs) -> BatchTelemetry:
        """A record without per-layer figures, for a model with telemetry turned off."""
        return BatchTelemetry(
            self._epoch,
            batch,
            self.done + 1,
            float(logs.get("loss", float("nan"))),
            float(next((v for k, v in logs.items() if canonical_metric(k) == "accuracy"), float("nan"))),
            (),
        )

    def on_epoch_end(self, epoch, logs=None):
        self.flush()
        if self._epoch_batches < self.params.get("steps", 0):
            return  # stopped mid-epoch: fit reports the part (as Keras does), but it is no epoch to plot
        self.epochs_done += 1
        values = tuple(  # under guinn's names: an opened model may log Keras's 'acc'
            (canonical_metric(k), float(v)) for k, v in (logs or {}).items() if isinstance(v, (int, float))
        )
        self._emit_epoch(EpochEnd(epoch, values))
        self.control.hold(self.control.pace_s - (time.perf_counter() - self._epoch_began))

    def on_train_end(self, logs=None):
        self.flush()

    def flush(self, now: float | None = None) -> None:
        if not self._pending:
            return
        now = time.perf_counter() if now is None else now
        self._last_emit = now
        batches, self._pending = tuple(self._pending), []
        self._emit_progress(
            Progress(
                batches,
                self._epoch,
                self._batch,
                self.params.get("epochs", 1),
                self.params.get("steps", 1),
                self.done,
                now - self._start - self._paused_total,
            )
        )

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self._start - self._paused_total

    def _gate(self):
        if not self.control.wait_turn(self._before_pause, self._after_pause):
            self.model.stop_training = True

    def _before_pause(self):
        self.flush()
        self._paused_since = time.perf_counter()
        self._emit_paused(True)

    def _after_pause(self):
        if self._paused_since is not None:
            self._paused_total += time.perf_counter() - self._paused_since
            self._paused_since = None
        self._emit_paused(False)


class TrainingWorker(QObject):
    """Runs one ``fit`` call. Create without a parent, move to a QThread, connect
    ``thread.started`` to :meth:`run`."""

    progress = Signal(object)  # Progress
    epochEnded = Signal(object)  # EpochEnd
    pausedChanged = Signal(bool)
    failed = Signal(str)
    finished = Signal(object)  # Outcome

    def __init__(self, model, fit_args: dict, callbacks=(), control: RunControl | None = None, test_data=None):
        super().__init__()
        self.model = model
        self.fit_args = dict(fit_args)
        self.callbacks = list(callbacks)
        self.control = control or RunControl()
        self.test_data = test_data  # (x, one-hot y): what the trained weights score on data they never saw

    @Slot()
    def run(self) -> None:
        relay = TelemetryRelay(
            self.control, self.progress.emit, self.epochEnded.emit, self.pausedChanged.emit
        )
        error = None
        try:
            self.model.fit(**self.fit_args, callbacks=[*self.callbacks, relay], verbose=0)
        except GuinnError as exc:
            error = str(exc)
        except Exception as exc:  # a bug: report it in the window, keep the app and the weights
            log.exception("Training failed")
            error = (
                f"Training failed unexpectedly ({type(exc).__name__}: {exc}). The weights from the "
                "last completed step are kept."
            )
        try:
            relay.flush()
        except Exception:  # pragma: no cover - must not prevent 'finished'
            log.exception("Could not send the last telemetry")
        self.control.finished()
        if error:
            self.failed.emit(error)
        elapsed = relay.elapsed  # training's own time: the test set's scoring is not part of it
        # (not after Stop, or closing would wait for it: a big network's test set takes seconds)
        scored = not (error or getattr(self.model, "stop_reason", None) or not relay.done or self.control.stopped)
        test = self._test() if scored else ()
        history = getattr(self.model, "history", None)
        messages = tuple(getattr(history, "messages", ()) or ())
        self.finished.emit(
            Outcome(
                relay.done,
                relay.epochs_done,
                elapsed,
                self.control.stopped,
                getattr(self.model, "stop_reason", None),
                messages,
                error,
                test,
            )
        )

    def _test(self) -> tuple[tuple[str, float], ...]:
        """The trained weights' loss and accuracy on the test set (before ``finished``: the
        weights are the worker's until then), or () without one."""
        if self.test_data is None or not len(self.test_data[0]):
            return ()
        x, y = self.test_data
        try:
            logs = self.model.evaluate(x, y, batch_size=max(256, self.fit_args.get("batch_size") or 0), verbose=0,
                                       return_dict=True)
        except Exception:  # noqa: BLE001 - the run's outcome must still arrive
            log.exception("Could not evaluate on the test set")
            return ()
        return tuple((canonical_metric(k), float(v)) for k, v in logs.items())
