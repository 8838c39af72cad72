"""Callbacks: the seam through which training is observed and steered (Keras's hooks).

A callback stops training by setting ``model.stop_training``; the model checks it after
every batch. Messages that a user should read (early stop, restored weights, a NaN stop)
go to ``History.messages`` and, when verbose, to stdout.
"""

from __future__ import annotations

import csv
import inspect
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

from guinn.core.validation import as_float, is_finite_number
from guinn.errors import (
    ConfigError,
    ModelFileError,
    brief,
    checked_arguments,
    closest,
    unknown_name,
    warn_user,
)


class Callback:
    @checked_arguments
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
    """Per-epoch metrics (``history["loss"]`` ...) and the messages training left for the user.
    ``steps`` (a guinn extension) holds the optimizer's step count at each epoch's end: where
    the epoch sits on a plot over batches, also when the model had trained in earlier fits."""

    @checked_arguments
    def __init__(self):
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.steps: list[int] = []
        self.messages: list[str] = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        self.steps.append(int(getattr(getattr(self.model, "optimizer", None), "iterations", 0) or 0))
        logged = {key: float(value) for key, value in (logs or {}).items() if isinstance(value, (int, float))}
        # one value per epoch in every list, NaN where an epoch did not log it (a callback's own
        # figure from epoch 3 on), as a joined record has it: model files take no uneven lists
        for key in [*self.history, *(k for k in logged if k not in self.history)]:  # (in the logs' order)
            values = self.history.setdefault(key, [math.nan] * (len(self.epoch) - 1))
            values.append(logged.get(key, math.nan))

    def last_epoch_logs(self) -> dict[str, float]:
        """The last epoch's figures: each metric logged in it (a joined record has NaN where a
        run did not log a metric, e.g. no validation in the last run)."""
        return {k: v[-1] for k, v in self.history.items() if v and math.isfinite(v[-1])}

    def joined(self, later: History) -> History:
        """This record followed by ``later``'s (a further fit of the same weights): the whole
        training of a model trained in several fits, as the app saves it. If this record ends
        with the epoch ``later`` starts with (one a Stop cut short, which fit records as Keras
        does, then run again whole), that last entry gives way to ``later``'s. A
        metric one of them lacks (no validation in one run) is NaN for its epochs, so every
        list stays aligned; one metric spelt two ways (Keras's ``acc``) is one list."""
        kept = len(self.epoch)
        if later.epoch and self.epoch and self.epoch[-1] == later.epoch[0]:  # cut short, then run again
            kept -= 1
        whole = History()
        whole.epoch = [*self.epoch[:kept], *later.epoch]
        if len(self.steps) == len(self.epoch) and len(later.steps) == len(later.epoch):
            whole.steps = [*self.steps[:kept], *later.steps]
        spelling: dict[str, str] = {}  # canonical name -> the key it is kept under (the first seen)
        for key in [*self.history, *later.history]:
            spelling.setdefault(canonical_metric(key), key)
        for canonical, key in spelling.items():
            whole.history[key] = [*_metric_values(self, canonical)[:kept], *_metric_values(later, canonical)]
        whole.messages = [*self.messages, *later.messages]
        return whole

    def say(self, message: str, echo: bool = False) -> None:
        """Keep ``message`` for the user; print it too when fit is verbose (or ``echo``)."""
        self.messages.append(message)
        if echo or self.params.get("verbose"):
            print(message, flush=True)


def _with_epoch(model, epoch: int, logs: dict) -> History:
    """``model.history`` with epoch ``epoch`` recorded from ``logs``, if it is not yet (History
    runs after the other callbacks, so a callback saving the model sees the epoch unrecorded)."""
    history = model.history
    if history.epoch and history.epoch[-1] == epoch:
        return history
    this = History()
    this.set_model(model)
    this.on_epoch_end(epoch, logs)
    return history.joined(this)


def _log_learning_rate(model, logs) -> None:
    """``logs["learning_rate"]``, as Keras's learning-rate callbacks write it (History records it)."""
    if logs is not None and getattr(model, "optimizer", None) is not None:
        logs["learning_rate"] = float(model.optimizer.learning_rate)


def _metric_values(history: History, canonical: str) -> list[float]:
    """A metric's values for each of ``history``'s epochs, under any spelling of its name:
    NaN where it was not logged."""
    epochs = len(history.epoch)
    found = next((v for k, v in history.history.items() if canonical_metric(k) == canonical), [])
    values = list(found)[:epochs]
    return values + [math.nan] * (epochs - len(values))


class _Monitoring(Callback):
    """What EarlyStopping, ReduceLROnPlateau and ModelCheckpoint share: a logged metric to
    watch, which way is better, and one warning (naming the closest logged metric) when it
    is never logged."""

    def _set_monitor(self, monitor, mode, min_delta, verbose):
        kind = type(self).__name__
        if not isinstance(monitor, str):
            raise ConfigError(f"{kind} monitor must be a metric name such as 'val_loss', got {brief(monitor)}.")
        if mode not in ("auto", "min", "max"):
            raise ConfigError(f"{kind} mode must be 'auto', 'min' or 'max', got {brief(mode)}.")
        if not is_finite_number(min_delta):
            raise ConfigError(f"{kind} min_delta must be a finite number, got {brief(min_delta)}.")
        self.monitor = monitor
        self.min_delta = abs(float(min_delta))
        self.verbose = verbose
        self.mode = ("max" if "acc" in monitor else "min") if mode == "auto" else mode
        self._warned = False

    def _worst(self) -> float:
        return math.inf if self.mode == "min" else -math.inf

    def _improved(self, value, reference):
        if self.mode == "min":
            return value < reference - self.min_delta
        return value > reference + self.min_delta

    def _logged_name(self, logs: dict) -> str | None:
        """The key ``monitor`` is logged under: Keras's ``val_acc`` and ``val_accuracy`` name the
        same metric, and the logs use whichever spelling ``compile`` was given."""
        if self.monitor in logs:
            return self.monitor
        wanted = canonical_metric(self.monitor)
        return next((key for key in logs if canonical_metric(key) == wanted), None)

    def _monitored(self, logs) -> float | None:
        """This epoch's value of the monitored metric, or None (warned about once) if it is not logged."""
        logs = logs or {}
        found = self._logged_name(logs)
        if found is not None:
            self.monitor = found
            return logs[found]
        if not self._warned:
            self._warned = True
            available = [k for k in logs if k != "telemetry"]
            same_kind = [k for k in available if k.startswith("val_") == self.monitor.startswith("val_")]
            hint = closest(self.monitor, same_kind)  # val_los -> val_loss, not loss
            message = (f"{type(self).__name__}: metric {self.monitor!r} is not available (available: "
                       f"{', '.join(available)}); " + (f"did you mean {hint!r}?" if hint else
                                                       "set a validation split to monitor validation metrics."))
            self._say(message)
            warn_user(message)  # seen even with verbose=0, as Keras logs it
        return None

    def _say(self, message):
        # Printed when either this callback or fit is verbose (Keras prints by the callback's own).
        self.model.history.say(message, echo=bool(self.verbose))


class EarlyStopping(_Monitoring):
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
        self._set_monitor(monitor, mode, min_delta, verbose)
        self.patience = _whole("EarlyStopping patience", patience)
        if baseline is not None and (not _is_number(baseline) or math.isnan(baseline)):
            raise ConfigError(f"EarlyStopping baseline must be a number or None, got {brief(baseline)}.")
        self.baseline = baseline
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = _whole("EarlyStopping start_from_epoch", start_from_epoch)

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = None
        # As in Keras 3, the best epoch is tracked from the start; ``baseline`` only decides
        # whether an improvement also resets the patience count.
        self.best = self._worst()
        self.best_epoch = None
        self.best_weights = None
        self.restored_epoch = None  # the epoch whose weights the model ended with, when restored
        self._warned = False

    def on_epoch_end(self, epoch, logs=None):
        value = self._monitored(logs)
        if value is None or epoch < self.start_from_epoch:
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
        self.restored_epoch = self.best_epoch
        self._say(f"EarlyStopping: restored the weights from epoch {self.best_epoch + 1} "
                  f"({self.monitor} = {self.best:.4f}).")


class ReduceLROnPlateau(_Monitoring):
    """Multiply the learning rate by ``factor`` when ``monitor`` has not improved for
    ``patience`` epochs (Keras's), then wait ``cooldown`` epochs; never below ``min_lr``."""

    @checked_arguments
    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0):
        super().__init__()
        self._set_monitor(monitor, mode, min_delta, verbose)
        if not _is_number(factor) or not 0 < factor < 1:
            raise ConfigError(f"ReduceLROnPlateau factor must be a number between 0 and 1, got {brief(factor)}.")
        if not _is_number(min_lr) or not 0 <= min_lr < math.inf:
            raise ConfigError(f"ReduceLROnPlateau min_lr must be a number >= 0, got {brief(min_lr)}.")
        self.factor, self.min_lr = float(factor), float(min_lr)
        self.patience = _whole("ReduceLROnPlateau patience", patience)
        self.cooldown = _whole("ReduceLROnPlateau cooldown", cooldown)

    def on_train_begin(self, logs=None):
        self.best, self.wait, self.cooldown_left, self._warned = self._worst(), 0, 0, False

    def on_epoch_end(self, epoch, logs=None):
        _log_learning_rate(self.model, logs)
        value = self._monitored(logs)
        if value is None:
            return
        if self.cooldown_left:
            self.cooldown_left -= 1
            self.wait = 0
        if math.isfinite(value) and self._improved(value, self.best):
            self.best, self.wait = value, 0
            return
        if self.cooldown_left:
            return
        self.wait += 1
        optimizer = self.model.optimizer
        if self.wait >= self.patience and optimizer.learning_rate > self.min_lr:
            new = max(optimizer.learning_rate * self.factor, self.min_lr)
            optimizer.learning_rate = new if new > 0 else optimizer.learning_rate  # a rate must stay positive
            self.cooldown_left, self.wait = self.cooldown, 0
            self._say(f"ReduceLROnPlateau: {self.monitor} did not improve for {self.patience} epoch(s); "
                      f"learning rate reduced to {optimizer.learning_rate:.4g} after epoch {epoch + 1}.")


class ModelCheckpoint(_Monitoring):
    """Save the model (a ``.safetensors`` file) after each epoch, or only when ``monitor``
    improved (``save_best_only``), as Keras's. ``filepath`` may use ``{epoch}`` and the
    logged metrics, e.g. ``"run-{epoch:02d}-{val_loss:.3f}.safetensors"``. With
    ``save_weights_only`` it writes ``model.save_weights`` files (``*.weights.safetensors``)."""

    @checked_arguments
    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", initial_value_threshold=None):
        super().__init__()
        self._set_monitor(monitor, mode, 0.0, verbose)
        if not isinstance(filepath, (str, os.PathLike)):
            raise ConfigError(f"ModelCheckpoint filepath must be a file path, got {brief(filepath)}.")
        from guinn.io import model_file  # the name is checked now, not after the first epoch's training
        from guinn.io.atomic import is_folder

        self.save_weights_only = bool(save_weights_only)
        name = Path(os.fspath(filepath))
        if not name.name or is_folder(name):
            raise ConfigError(f"ModelCheckpoint filepath {os.fspath(filepath)!r} is a folder; give a file name, "
                              f"e.g. {str(name / 'best.safetensors')!r}.")
        try:
            if self.save_weights_only:
                model_file.check_weights_suffix(name)
            else:
                model_file.check_suffix(name)
        except model_file.ModelFileError as exc:
            raise ConfigError(f"ModelCheckpoint filepath: {exc}") from None
        if initial_value_threshold is not None and (not _is_number(initial_value_threshold)
                                                    or math.isnan(initial_value_threshold)):
            raise ConfigError(f"ModelCheckpoint initial_value_threshold must be a number, "
                              f"got {brief(initial_value_threshold)}.")
        self.filepath = os.fspath(filepath)
        self.save_best_only = bool(save_best_only)
        # Set once, as in Keras: a later fit with the same callback never overwrites the best
        # file with a worse model.
        self.best = self._worst() if initial_value_threshold is None else float(initial_value_threshold)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only:
            value = self._monitored(logs)
            if value is None or not math.isfinite(value) or not self._improved(value, self.best):
                return
            self.best = value
        try:
            path = self.filepath.format(epoch=epoch + 1, **{k: v for k, v in logs.items() if k != "telemetry"})
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigError(f"ModelCheckpoint filepath {self.filepath!r} names something not in the logs "
                              f"({exc}); it may use {{epoch}} and: {', '.join(k for k in logs if k != 'telemetry')}."
                              ) from None
        folder = Path(path).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)  # as Keras's does: "runs/best.safetensors"
        except OSError as exc:
            raise ModelFileError(f"ModelCheckpoint cannot create the folder {str(folder)!r} for {path}: "
                                 f"{exc.strerror or exc}.") from None
        if self.save_weights_only:
            self.model.save_weights(path)
        else:  # History records this epoch after the callbacks: the file's record includes it now
            self.model.save(path, history=_with_epoch(self.model, epoch, logs))
        if self.verbose:
            what = "weights" if self.save_weights_only else "model"
            self._say(f"ModelCheckpoint: saved the {what} after epoch {epoch + 1} to {path}.")


class LearningRateScheduler(Callback):
    """Set the learning rate at each epoch's start to ``schedule(epoch, lr)`` (Keras's; a
    one-argument ``schedule(epoch)`` works too). Epochs count from 0."""

    @checked_arguments
    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise ConfigError(f"LearningRateScheduler needs a function schedule(epoch, lr), got {brief(schedule)}.")
        self.schedule, self.verbose = schedule, verbose
        self._takes_rate = _takes_two_arguments(schedule)  # decided here: a TypeError inside it is its own

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        rate = self.schedule(epoch, optimizer.learning_rate) if self._takes_rate else self.schedule(epoch)
        optimizer.learning_rate = rate  # checked: a schedule returning 0, NaN or text is a ConfigError
        if self.verbose:
            self.model.history.say(f"Epoch {epoch + 1}: LearningRateScheduler set the learning rate to "
                                   f"{optimizer.learning_rate:.4g}.", echo=True)

    def on_epoch_end(self, epoch, logs=None):
        _log_learning_rate(self.model, logs)


class TerminateOnNaN(Callback):
    """Stop at the first batch whose loss is NaN or infinite (Keras's). guinn's fit already
    stops there and keeps the last finite weights; this also catches a non-finite loss that a
    user's own loss class reports."""

    @checked_arguments
    def __init__(self):
        super().__init__()

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            self.model.stop_training = True
            self.model.history.say(f"TerminateOnNaN: batch {batch + 1} has loss {loss}; training stopped.")


class CSVLogger(Callback):
    """Each epoch's logs as a row of a CSV file (Keras's): ``epoch`` first, then the metrics."""

    @checked_arguments
    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        if not isinstance(filename, (str, os.PathLike)):
            raise ConfigError(f"CSVLogger filename must be a file path, got {brief(filename)}.")
        if not isinstance(separator, str) or len(separator) != 1:
            raise ConfigError(f"CSVLogger separator must be one character, got {brief(separator)}.")
        self.filename, self.separator, self.append = os.fspath(filename), separator, bool(append)
        self._file = self._writer = self._keys = None

    def on_train_begin(self, logs=None):
        had_rows = self.append and os.path.isfile(self.filename) and os.path.getsize(self.filename) > 0
        try:
            self._file = open(self.filename, "a" if self.append else "w", newline="", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise ConfigError(f"CSVLogger cannot write {self.filename}: {exc.strerror or exc}.") from None
        self._writer = csv.writer(self._file, delimiter=self.separator)
        self._keys = None if not had_rows else False  # False: a header is already there

    def on_epoch_end(self, epoch, logs=None):
        values = {k: v for k, v in (logs or {}).items() if isinstance(v, (int, float))}
        if not self._keys:
            if self._keys is None:
                self._writer.writerow(["epoch", *sorted(values)])
            self._keys = sorted(values)  # Keras's column order
        try:
            self._writer.writerow([epoch, *(values.get(k, "") for k in self._keys)])
            self._file.flush()
        except OSError as exc:  # a full disk: a guinn error, which fit passes on, not a raw OSError
            raise ConfigError(f"CSVLogger cannot write {self.filename}: {exc.strerror or exc}.") from None

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None


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
        if self.verbose == 1:  # the batches run: fewer than the epoch's when a diverging run stopped it
            steps = self.params["steps"]
            done = min(self._count, steps)
            bar = "=" * int(30 * done / steps) + "." * (30 - int(30 * done / steps))
            self.stream.write(f"\r{done}/{steps} [{bar}] - {seconds:.1f}s - {_metrics(logs)}\n")
        elif self.verbose == 2:
            self.stream.write(f"Epoch {epoch + 1}/{self.params['epochs']} - {seconds:.1f}s - {_metrics(logs)}\n")
        self.stream.flush()


def canonical_metric(key: str) -> str:
    """A log key under guinn's own metric name: ``acc`` -> ``accuracy``, ``val_acc`` -> ``val_accuracy``."""
    from guinn.core.model import METRIC_ALIASES  # (the model module imports this one)

    return renamed_metric(key, METRIC_ALIASES)


def renamed_metric(key: str, names: dict[str, str]) -> str:
    """``key`` with its metric renamed by ``names``, keeping a ``val_`` prefix."""
    prefix = "val_" if key.startswith("val_") else ""
    base = key[len(prefix):]
    return prefix + names.get(base, base)


def _takes_two_arguments(fn) -> bool:
    """Whether ``fn(epoch, lr)`` binds (Keras 3's schedules) rather than only ``fn(epoch)`` (Keras 2's)."""
    try:
        inspect.signature(fn).bind(0, 0.1)
        return True
    except TypeError:
        return False
    except ValueError:  # no signature to read (some builtins): call it as Keras 3 would
        return True


def _whole(what: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ConfigError(f"{what} must be an integer >= 0, got {brief(value)}.")
    return int(value)


def _is_number(value) -> bool:
    """A number, inf allowed, that a float holds (10**400 is not: float() of it overflows)."""
    return as_float(value) is not None


def _metrics(logs) -> str:
    return " - ".join(f"{k}: {v:.4f}" for k, v in (logs or {}).items() if isinstance(v, (float, int, np.floating)))
