"""Callbacks: the seam through which training is observed and steered (Keras's hooks).

A callback stops training by setting ``model.stop_training``; the model checks it after
every batch. Messages that a user should read (early stop, restored weights, a NaN stop)
go to ``History.messages`` and, when verbose, to stdout.
"""

from __future__ import annotations

import math
import sys
import time
import warnings

import numpy as np

from guinn.errors import ConfigError, TrainingWarning, checked_arguments, closest, unknown_name


class Callback:
    def __init__(self):
        self.model = None
        self.params: dict = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params: dict):
        self.params = params

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...

    # Keras 2's names for the batch hooks: as in Keras, the default train-batch hooks call
    # them, so a subclass that overrides ``on_batch_end`` is still called.
    def on_batch_begin(self, batch, logs=None): ...
    def on_batch_end(self, batch, logs=None): ...

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs)


class CallbackList:
    """Fans each hook out to a list of callbacks."""

    def __init__(self, callbacks, model, params):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise ConfigError(f"callbacks must be guinn Callback instances, got {type(cb).__name__}.")
            cb.set_model(model)
            cb.set_params(params)

    def __getattr__(self, hook):
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        def call(*args):
            for cb in self.callbacks:
                getattr(cb, hook)(*args)

        return call


class History(Callback):
    """Per-epoch metrics (``history["loss"]`` ...) and the messages training left for the user."""

    def __init__(self):
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.messages: list[str] = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            if isinstance(value, (int, float)):
                self.history.setdefault(key, []).append(float(value))

    def say(self, message: str, echo: bool = False) -> None:
        """Keep ``message`` for the user; print it too when fit is verbose (or ``echo``)."""
        self.messages.append(message)
        if echo or self.params.get("verbose"):
            print(message, flush=True)


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    With ``restore_best_weights`` the best epoch's weights come back however training
    ends -- patience, the epoch budget, a NaN stop or a user's stop request -- and the
    history says so. ``baseline`` works as in Keras 3: improvements that do not beat it
    still count towards ``patience``, and the best epoch is restored even if none does.
    """

    @checked_arguments
    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        if not isinstance(monitor, str):
            raise ConfigError(f"EarlyStopping monitor must be a metric name such as 'val_loss', got {monitor!r}.")
        if mode not in ("auto", "min", "max"):
            raise ConfigError(f"EarlyStopping mode must be 'auto', 'min' or 'max', got {mode!r}.")
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ConfigError(f"EarlyStopping patience must be an integer >= 0, got {patience!r}.")
        if not _is_number(min_delta) or not math.isfinite(min_delta):
            raise ConfigError(f"EarlyStopping min_delta must be a finite number, got {min_delta!r}.")
        if baseline is not None and (not _is_number(baseline) or math.isnan(baseline)):
            raise ConfigError(f"EarlyStopping baseline must be a number or None, got {baseline!r}.")
        if isinstance(start_from_epoch, bool) or not isinstance(start_from_epoch, (int, np.integer)) \
                or start_from_epoch < 0:
            raise ConfigError(f"EarlyStopping start_from_epoch must be an integer >= 0, got {start_from_epoch!r}.")
        self.monitor = monitor
        self.min_delta = abs(float(min_delta))
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = int(start_from_epoch)
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        self.mode = mode

    def _logged_name(self, logs: dict) -> str | None:
        """The key ``monitor`` is logged under: Keras's ``val_acc`` and ``val_accuracy`` name the
        same metric, and the logs use whichever spelling ``compile`` was given."""
        if self.monitor in logs:
            return self.monitor
        wanted = _canonical(self.monitor)
        return next((key for key in logs if _canonical(key) == wanted), None)

    def _improved(self, value, reference):
        if self.mode == "min":
            return value < reference - self.min_delta
        return value > reference + self.min_delta

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = None
        # As in Keras 3, the best epoch is tracked from the start; ``baseline`` only decides
        # whether an improvement also resets the patience count.
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = None
        self.best_weights = None
        self._warned = False

    def on_epoch_end(self, epoch, logs=None):
        found = self._logged_name(logs or {})
        if found is not None:
            self.monitor = found
        value = (logs or {}).get(self.monitor)
        if value is None:
            if not self._warned:
                self._warned = True
                available = [k for k in (logs or {}) if k != "telemetry"]
                same_kind = [k for k in available if k.startswith("val_") == self.monitor.startswith("val_")]
                hint = closest(self.monitor, same_kind)  # val_los -> val_loss, not loss
                message = (f"EarlyStopping: metric {self.monitor!r} is not available (available: "
                           f"{', '.join(available)}); " + (f"did you mean {hint!r}?" if hint else
                                                           "set a validation split to monitor validation metrics."))
                self._say(message)
                warnings.warn(message, TrainingWarning, stacklevel=2)  # seen even with verbose=0, as Keras logs it
            return
        if epoch < self.start_from_epoch:
            return
        if math.isfinite(value) and self._improved(value, self.best):
            self.best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_flat_weights()
            # Below the baseline an improvement still counts towards patience (Keras 3).
            self.wait = 0 if self.baseline is None or self._improved(value, self.baseline) else self.wait + 1
            return
        self.wait += 1
        # Keras: ``patience`` epochs without improvement, then stop (patience=0 stops at the first).
        if self.wait >= max(self.patience, 1):
            self.stopped_epoch = epoch
            self.model.stop_training = True
            self._say(f"EarlyStopping: {self.monitor} did not improve for {self.wait} epoch(s); "
                      f"stopped after epoch {epoch + 1}.")

    def on_train_end(self, logs=None):
        if not self.restore_best_weights or self.best_weights is None:
            return
        last_epoch = self.model.history.epoch[-1] if self.model.history.epoch else None
        if last_epoch == self.best_epoch and not self.model.stop_reason:
            return
        self.model.set_flat_weights(self.best_weights)
        self._say(f"EarlyStopping: restored the weights from epoch {self.best_epoch + 1} "
                  f"({self.monitor} = {self.best:.4f}).")

    def _say(self, message):
        # Printed when either this callback or fit is verbose (Keras prints by the callback's own).
        self.model.history.say(message, echo=bool(self.verbose))


class LambdaCallback(Callback):
    """Build a callback from plain functions, e.g. ``LambdaCallback(on_epoch_end=f)``."""

    @checked_arguments
    def __init__(self, **hooks):
        super().__init__()
        valid = [name for name in vars(Callback) if name.startswith("on_")]
        for name, fn in hooks.items():
            if name not in valid:
                raise unknown_name("callback hook", name, valid)
            if not callable(fn):
                raise ConfigError(f"Callback hook {name} must be a function, got {type(fn).__name__}.")
            setattr(self, name, fn)


class ProgbarLogger(Callback):
    """Keras-style progress: a bar per epoch (verbose=1) or one line per epoch (verbose=2)."""

    @checked_arguments
    def __init__(self, verbose=1, stream=None):
        super().__init__()
        self.verbose = verbose
        self.stream = stream or sys.stdout

    def on_epoch_begin(self, epoch, logs=None):
        self._start = self._last = time.perf_counter()
        self._epoch = epoch
        self._sums: dict[str, float] = {}
        self._count = 0
        if self.verbose == 1:
            self.stream.write(f"Epoch {epoch + 1}/{self.params['epochs']}\n")

    def on_train_batch_end(self, batch, logs=None):
        # Like Keras, the bar shows running means over the epoch so far, so it ends on the epoch's figures.
        self._count += 1
        for key, value in (logs or {}).items():
            if isinstance(value, (int, float)):
                self._sums[key] = self._sums.get(key, 0.0) + value
        now = time.perf_counter()
        steps = self.params["steps"]
        live = getattr(self.stream, "isatty", lambda: False)()
        if self.verbose != 1 or not live or (now - self._last < 0.2 and batch + 1 < steps):
            return
        self._last = now
        done = int(30 * (batch + 1) / steps)
        bar = "=" * done + "." * (30 - done)
        means = {k: v / self._count for k, v in self._sums.items()}
        self.stream.write(f"\r{batch + 1}/{steps} [{bar}] - {_metrics(means)}")
        self.stream.flush()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._start
        if self.verbose == 1:
            self.stream.write(f"\r{self.params['steps']}/{self.params['steps']} [{'=' * 30}] - "
                              f"{seconds:.1f}s - {_metrics(logs)}\n")
        elif self.verbose == 2:
            self.stream.write(f"Epoch {epoch + 1}/{self.params['epochs']} - {seconds:.1f}s - {_metrics(logs)}\n")
        self.stream.flush()


def _canonical(key: str) -> str:
    from guinn.core.model import METRIC_ALIASES  # (the model module imports this one)

    prefix = "val_" if key.startswith("val_") else ""
    base = key[len(prefix):]
    return prefix + METRIC_ALIASES.get(base, base)


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _metrics(logs) -> str:
    return " - ".join(f"{k}: {v:.4f}" for k, v in (logs or {}).items() if isinstance(v, (float, int, np.floating)))
