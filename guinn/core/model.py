"""``Sequential``: a stack of layers trained by mini-batch backpropagation.

All parameters live in one contiguous buffer (and all gradients in another), with each
layer holding views. An optimizer step is one compiled pass over the buffers when Numba is
installed (:mod:`guinn.core.fused`), or a few whole-buffer NumPy operations otherwise; either
way it yields the per-layer sums of squares that the finiteness check and telemetry use.
"""

from __future__ import annotations

import contextlib
import math
import sys
import weakref
from typing import NamedTuple

import numpy as np

from guinn.core import backend, blas_threads, fused, losses, memory, optimizers, split
from guinn.core.callbacks import Callback, CallbackList, History, ProgbarLogger
from guinn.core.layers import Activation, Dense, InputLayer, Layer, layer_from_config
from guinn.core.layers.base import AlwaysTrainable, checked_weight
from guinn.core.telemetry import BatchTelemetry, LayerTelemetry, ratio
from guinn.core.validation import check_batch_size, check_epochs, check_fraction, check_name, check_x, file_path
from guinn.errors import (
    ConfigError,
    DataError,
    GuinnError,
    ModelFileError,
    TrainingError,
    checked_arguments,
    unknown_name,
    warn_user,
)

METRICS = ("accuracy", "mae", "mse")
ERROR_METRICS = ("mae", "mse")  # the mean absolute and squared error of the outputs, as Keras's
# Where a training message turns from what happened to why: the window, showing a stop after
# a divergence note, keeps the cause once.
LIKELY_CAUSE = " Likely cause:"
# Most weight bytes a model may hold: a model file's limit (guinn.io.model_file.MAX_FILE_BYTES).
# Training takes five to seven times that in buffers; a mistyped size (or a config from an
# untrusted JSON text) is refused at build instead of running the machine out of memory.
MAX_WEIGHT_BYTES = 4 * 1024**3
METRIC_ALIASES = {"acc": "accuracy", "categorical_accuracy": "accuracy",
                  "sparse_categorical_accuracy": "accuracy", "binary_accuracy": "accuracy",
                  "mean_absolute_error": "mae", "mean_squared_error": "mse"}


class Sequential(AlwaysTrainable):
    @checked_arguments
    def __init__(self, layers=None, name="sequential", seed=None, dtype=None):
        self.name = check_name("A model name", name)
        self.layers: list[Layer] = []
        self.seed = backend.check_seed(seed) if seed is not None else backend.default_seed()
        self.dtype = backend.check_dtype(dtype or backend.floatx())
        self.built = False
        self.compiled = False
        self.loss = None
        self.optimizer = None
        self.metrics: list[str] = []
        self._metric_names: dict[str, list[str]] = {}  # a metric's log keys as the user spelt it (Keras's 'acc')
        self.stop_training = False
        self.stop_reason: str | None = None
        self.history = History()
        self.telemetry = True
        self._rngs = backend.spawn_generators(self.seed)
        self._input_shape = None  # from Input(shape=...) until the first layer takes it
        self._fitting = False  # fit is running: no add/pop from a callback
        self._defer_output_check = False  # building again on the way to another output layer (_rebuild)
        self._output_check_due = False  # a deferred check, made at fit
        self._added: list[tuple[Layer, int]] = []  # (layer given to add(), how many layers it became)
        for layer in [layers] if isinstance(layers, Layer) else (layers or []):
            self.add(layer)

    # -- structure -------------------------------------------------------------------
    def add(self, layer: Layer) -> None:
        if not isinstance(layer, Layer):
            raise ConfigError(f"Sequential.add takes a guinn layer, got {type(layer).__name__}.")
        if isinstance(layer, InputLayer):
            if self.built:
                raise ConfigError("Input(shape=...) must come first in a Sequential: this model already has layers.")
            self._add_input(layer)
            return
        self._restructure("Layers cannot be added", lambda: self._append(layer))

    def _append(self, layer: Layer) -> None:
        expanded = layer.expand() if isinstance(layer, Dense) else [layer]
        before = len(self.layers)
        try:
            for item in expanded:
                _check_unshared(item, self)
                if self.layers and item.declared_input_shape is not None:
                    raise ConfigError(f"Only the first layer may declare input_dim/input_shape "
                                      f"(layer {len(self.layers) + 1}, {item!r}).")
                if not self.layers and self._input_shape is not None:
                    self._give_input_shape(item)
                self.layers.append(item)
        except ConfigError:
            del self.layers[before:]  # a refused layer leaves no part of itself behind
            raise
        for item in expanded:
            item._owner = weakref.ref(self)  # which model builds it when its weights are asked for
            item.unbind()  # (a layer of an unbuilt model keeps no weights; see _check_unshared)
        self._added.append((layer, len(expanded)))

    def pop(self) -> Layer:
        """Remove and return the last layer (Keras's), until the model has trained."""
        if not self.layers:
            raise ConfigError("pop: the model has no layers to remove.")
        return self._restructure("pop: layers cannot be removed", self._remove_last)

    def _remove_last(self) -> Layer:
        # what the last add() put in: Dense(activation='prelu') is two layers, and goes as one
        if self._added and sum(n for _, n in self._added) == len(self.layers):
            layer, count = self._added.pop()
            removed = self.layers[-count:]
            del self.layers[-count:]
        else:
            layer = self.layers.pop()
            removed = [layer]
        for item in removed:  # free for another model, which builds it afresh
            item.unbind()
        return layer

    def _restructure(self, refusal: str, change):
        """Keras's add and pop on a built model: it is built again for the new layers, the
        layers that stay keeping their weights. Refused once it has trained: its optimizer
        state and training record are laid out for the old layers."""
        if not self.built:
            return change()
        if self._fitting:
            raise ConfigError(f"{refusal} while the model trains (from a callback); change it before fit.")
        trained = (self.optimizer is not None and self.optimizer.iterations > 0) or bool(self.history.epoch)
        if trained:
            raise ConfigError(f"{refusal} after the model has been trained; create a new Sequential with "
                              f"the layers you want (model.layers lists them).")
        kept = {id(layer): layer.get_weights() for layer in self.layers}
        before = (list(self.layers), list(self._added), [layer.name for layer in self.layers])
        shape = self.layers[0].input_shape
        self.built = False
        try:
            result = change()
            self._rebuild(shape, kept)
        except BaseException:
            self.layers[:], self._added[:] = before[0], before[1]  # as it was, weights and all
            for layer, name in zip(self.layers, before[2], strict=True):
                layer.name = name
            self._rebuild(shape, kept)
            raise
        return result

    def _rebuild(self, shape, kept: dict) -> None:
        """Build for the layers now listed, those in ``kept`` keeping their weights; a wrong
        output layer is said at fit, not on the way to the right one (pop, then add)."""
        if not self.layers:  # the last one popped: nothing to build
            self.built = False
            return
        self._defer_output_check = True
        try:
            self.build(shape)
        finally:
            self._defer_output_check = False
        for layer in self.layers:
            if id(layer) in kept:
                layer.set_weights(kept[id(layer)])

    def _add_input(self, given: InputLayer) -> None:
        """Keras's Input(shape=...): allowed only before the first layer, and only once."""
        if self.layers or self._input_shape is not None:
            where = "this model already has one" if self._input_shape is not None else "this model already has layers"
            raise ConfigError(f"Input(shape=...) must come first in a Sequential, and once ({where}): it gives "
                              f"the shape of the samples the first layer receives.")
        self._input_shape = given.declared_input_shape

    def _give_input_shape(self, first: Layer) -> None:
        """The first layer declares Input's shape, as if it had been given input_shape itself."""
        declared = first.declared_input_shape
        if declared not in (None, self._input_shape):
            raise ConfigError(f"Input(shape={self._input_shape}) and the first layer's input_shape {declared} "
                              f"disagree; give the input shape once.")
        first.declared_input_shape = self._input_shape

    @property
    def input_shape(self):
        if self.built:
            return self.layers[0].input_shape
        return self.layers[0].declared_input_shape if self.layers else self._input_shape

    @property
    def output_shape(self):
        return self.layers[-1].output_shape if self.built else None

    @checked_arguments
    def build(self, input_shape=None) -> None:
        """Fix shapes, allocate the flat parameter/gradient buffers and initialise weights.
        ``input_shape`` is one sample's shape; Keras's ``(None, features)`` is accepted too."""
        if not self.layers:
            raise ConfigError("The model has no layers; add at least one Dense layer.")
        shape = _sample_shape(self.input_shape if input_shape is None else input_shape)
        counts: dict[str, int] = {}
        taken = {layer.name for layer in self.layers if layer.name is not None}  # (named in an earlier build)
        for layer in self.layers:
            shape = layer.build(shape)
            if layer.name is None:
                key = layer.type_name.lower()
                counts[key] = counts.get(key, 0) + 1
                while f"{key}_{counts[key]}" in taken:
                    counts[key] += 1
                layer.name = f"{key}_{counts[key]}"
                taken.add(layer.name)
        names = [layer.name for layer in self.layers]
        if len(set(names)) != len(names):
            raise ConfigError(f"Layer names must be unique, got {names}.")
        check_weight_count(sum(layer.count_params() for layer in self.layers), self.dtype)
        self._allocate()
        self.built = True
        self._configure_training()
        try:
            self.reset_weights(reseed=False)
        except ConfigError:
            self.built = False  # (an initializer beyond the dtype's range)
            raise

    def _allocate(self):
        specs = [(layer, key, shape) for layer in self.layers for key, shape in layer.param_shapes()]
        total = sum(int(np.prod(s)) for _, _, s in specs)
        buffers = 3 + (self.optimizer.buffers() if self.optimizer is not None else 0)  # weights, gradients, update
        memory.check_fits(total * self.dtype.itemsize * buffers,
                          f"this network ({total:,} weights, {buffers} values each in {self.dtype})")
        self._params, self._grads, self._update = (fused.aligned_full(total, 0, self.dtype) for _ in range(3))
        views: dict[int, tuple[dict, dict]] = {id(layer): ({}, {}) for layer in self.layers}
        offset = 0
        self._param_index = []  # (layer, key, offset, shape): where each parameter sits in the buffers
        for layer, key, shape in specs:
            size = int(np.prod(shape))
            self._param_index.append((layer, key, offset, shape))
            p, g = views[id(layer)]
            p[key] = self._params[offset:offset + size].reshape(shape)
            g[key] = self._grads[offset:offset + size].reshape(shape)
            offset += size
        for layer in self.layers:
            layer.bind(*views[id(layer)])
        self.trainable_layers = [layer for layer in self.layers if layer.param_shapes()]
        self._watch = self._telemetry_views()
        # Segments of the flat buffers: each trainable layer's main parameter, then its others.
        self._bounds = np.array([0] + [b for w in self._watch for b in (w.stop, w.end)], dtype=np.int64)
        self._runs = fused.runs_of(self._bounds)  # the same, as the kernels walk them
        self._sums = np.zeros((len(self._bounds) - 1, 3))  # per segment: sum g^2, sum update^2, sum weight^2
        self._largest = float(np.finfo(self.dtype).max)
        self._applied = False  # whether the last optimizer step also applied its update

    def _telemetry_views(self) -> list[_Watched]:
        """Where each trainable layer's main parameter (kernel, or PReLU's alpha) and the rest sit."""
        watched = []
        for layer in self.trainable_layers:
            entries = [e for e in self._param_index if e[0] is layer]
            _, key, start, shape = entries[0]
            size = int(np.prod(shape))
            _, _, last_start, last_shape = entries[-1]
            end = last_start + int(np.prod(last_shape))
            following = []
            for nxt in self.layers[self.layers.index(layer) + 1:]:
                if nxt.param_shapes():
                    break
                following.append(nxt)
            watched.append(_Watched(layer, start, start + size, end, tuple(following)))
        return watched

    def reset_weights(self, reseed: bool = True) -> None:
        """Re-initialise all weights from the seed and forget the optimizer's state and the
        training record (``history``), which no longer describes these weights."""
        self._ensure_built()
        self.history = History()
        if reseed:
            self._rngs = backend.spawn_generators(self.seed)
        init_rng = backend.spawn_generators(self.seed)["init"]
        for layer in self.layers:
            with np.errstate(over="ignore", invalid="ignore"):
                layer.initialize(init_rng)
            for key, value in layer.params.items():  # Constant(1e39) in float32: inf, and fit blamed the rate
                if not np.isfinite(value).all():
                    raise ConfigError(f"Layer {layer.name}'s {key} initializer gave values that are not finite in "
                                      f"{self.dtype.name} (its largest is {np.finfo(self.dtype).max:.3g}); choose "
                                      f"smaller initial values.")
        if self.optimizer is not None:
            self.optimizer._tmp = None
            self.optimizer.iterations = 0
            self.optimizer.build(self._params.size, self.dtype)

    def _ensure_built(self, input_shape=None):
        if self.built:
            return
        shape = self.input_shape or input_shape
        if shape is None:
            raise ConfigError("The model does not know its input size yet: give the first layer "
                              "input_dim=... or call fit/build with data first.")
        self.build(shape)

    def count_params(self) -> int:
        self._ensure_built()
        return int(self._params.size)

    # -- compile -----------------------------------------------------------------------
    @checked_arguments
    def compile(self, optimizer="rmsprop", loss=None, metrics=None) -> None:
        if loss is None:
            raise ConfigError(f"compile needs a loss; valid losses: {', '.join(sorted(losses.LOSSES))}.")
        self.loss = losses.get(loss)
        self.optimizer = optimizers.get(optimizer)
        self.metrics, self._metric_names = [], {}
        for m in [metrics] if isinstance(metrics, str) else metrics or []:
            key = METRIC_ALIASES.get(m.lower(), m.lower()) if isinstance(m, str) else m
            if key not in METRICS:
                raise unknown_name("metric", m, list(METRICS) + list(METRIC_ALIASES))
            if key in ERROR_METRICS and self.loss.integer_labels:
                raise ConfigError(f"metric {m!r} compares outputs with targets of the same shape; under "
                                  f"{self.loss.name} the targets are class numbers (use accuracy, or "
                                  f"categorical_crossentropy with one-hot targets).")
            if key not in self.metrics:
                self.metrics.append(key)
            spellings = self._metric_names.setdefault(key, [])
            if m not in spellings:  # metrics=["acc", "accuracy"]: both keys, as Keras logs them
                spellings.append(m)
        self._metric_names = {k: names for k, names in self._metric_names.items() if names != [k]}
        self.compiled = True
        if self.built:
            self._configure_training()
            self.optimizer.build(self._params.size, self.dtype)
        elif self.input_shape is not None:
            self.build(self.input_shape)

    def _configure_training(self):
        if not self.compiled or not self.layers:
            return
        last = self.layers[-1]
        if self._defer_output_check:  # a pop() on the way to another output layer: said at fit if still so
            self._output_check_due = True
        else:
            self._check_output_activation()
        # Dense(activation='softmax') or Activation('softmax') last: the loss starts from the logits
        # (through clipped probabilities a confident wrong answer had a gradient of exactly zero)
        self._fused = (isinstance(last, (Dense, Activation)) and self.loss.fused_activation is not None
                       and last.activation.name == self.loss.fused_activation)
        for layer in self.layers:
            if isinstance(layer, (Dense, Activation)):
                layer.fused_output = layer is last and self._fused
        seen_params = False
        self._need_input_grad = []
        for layer in self.layers:
            self._need_input_grad.append(seen_params)
            seen_params = seen_params or bool(layer.param_shapes())
        self.set_telemetry(self.telemetry)

    def _check_output_activation(self) -> None:
        self._output_check_due = False  # (made now: not again at fit)
        output = self._output_activation()
        if self.loss.fused_activation == "softmax" and output != "softmax":
            warn_user(f"{self.loss.name} expects class probabilities from a softmax output layer, but the "
                      f"last layer's activation is {output or 'none'}: its outputs need not sum to 1, so "
                      f"the loss is not a cross-entropy. End the model with Dense(..., activation='softmax') "
                      f"(or use binary_crossentropy for sigmoid outputs).")

    def set_telemetry(self, enabled: bool) -> None:
        """Per-batch layer statistics on (default) or off."""
        self.telemetry = bool(enabled)
        for layer in self.layers:
            layer.collect_stats = self.telemetry

    # -- training --------------------------------------------------------------------------
    @checked_arguments
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, initial_epoch=0,
            batch_transform=None) -> History:
        """Keras's ``fit``. ``batch_transform(xb, rng) -> xb`` (a guinn extension) rewrites each
        training batch, e.g. for data augmentation; it gets the model's shuffle generator."""
        if not self.compiled:
            raise TrainingError("Call compile(optimizer=..., loss=...) before fit.")
        batch_size = check_batch_size(32 if batch_size is None else batch_size)
        epochs = check_epochs(epochs)
        validation_split = check_fraction("validation_split", validation_split)
        x, y = self._checked_pair(x, y)
        if validation_data is not None:
            x_val, y_val = self._checked_pair(*_unpack_validation(validation_data), what="validation_data")
        elif validation_split:
            # Keras's split (the last fraction), with a guard against float error: 10 * (1 - 0.9) is 0.99999...
            cut = int(len(x) * (1 - validation_split) + 1e-9)
            if cut < 1 or cut == len(x):
                side = "training" if cut < 1 else "validation"
                raise DataError(f"validation_split={validation_split:g} leaves no {side} samples "
                                f"out of {len(x)}; choose a split that keeps at least one sample on each side.")
            x, x_val, y, y_val = x[:cut], x[cut:], y[:cut], y[cut:]
        else:
            x_val = y_val = None
        self.optimizer.build(self._params.size, self.dtype)
        if batch_transform is not None and not callable(batch_transform):
            raise ConfigError("batch_transform must be a function (xb, rng) -> xb.")
        if verbose != "auto" and (isinstance(verbose, str) or verbose not in (0, 1, 2)):
            raise ConfigError(f"verbose must be 'auto', 0, 1 or 2, got {verbose!r}.")
        if isinstance(callbacks, Callback):
            callbacks = [callbacks]
        elif callbacks is not None:
            try:
                callbacks = list(callbacks)
            except TypeError:
                raise ConfigError(f"callbacks must be a list of guinn Callback instances, "
                                  f"got {type(callbacks).__name__}.") from None
        if isinstance(initial_epoch, bool) or not isinstance(initial_epoch, (int, np.integer)) or initial_epoch < 0:
            raise DataError(f"initial_epoch must be a whole number >= 0, got {initial_epoch!r}.")
        return self._fit_loop(x, y, x_val, y_val, batch_size, epochs, verbose, callbacks, shuffle,
                              initial_epoch, batch_transform)

    def _fit_loop(self, x, y, x_val, y_val, batch_size, epochs, verbose, callbacks, shuffle, initial_epoch,
                  batch_transform):
        if self._output_check_due:  # a pop() and add() left the output layer as it is now
            self._check_output_activation()
        engine = split.SplitStep.plan(self, batch_size)
        # Small products gain little from OpenBLAS's threads (8 x 64 sigmoid, batch 32: 0.30 ms a
        # step on two, 0.32 on one) and lose everything when another program holds a core: a
        # thread that waits for its turn holds up every product (38 ms a step). They run on one.
        threads = (blas_threads.capped(1) if engine is None and self._largest_product(batch_size) < SMALL_PRODUCT
                   else contextlib.nullcontext())
        # A diverging run overflows on purpose of nobody: guinn stops it and says why (the loss or
        # update check), so NumPy's RuntimeWarnings would only repeat that on the terminal.
        self._fitting = True
        try:
            with engine or contextlib.nullcontext(), threads, np.errstate(over="ignore", invalid="ignore",
                                                                          divide="ignore"):
                return self._fit_epochs(x, y, x_val, y_val, batch_size, epochs, verbose, callbacks, shuffle,
                                        initial_epoch, batch_transform, engine)
        finally:
            self._fitting = False

    def _largest_product(self, rows: int) -> int:
        """Multiply-adds of the step's largest matrix product (a layer's forward product)."""
        return max((rows * int(np.prod(layer.params["kernel"].shape)) for layer in self.layers
                    if "kernel" in layer.params), default=0)

    def _fit_epochs(self, x, y, x_val, y_val, batch_size, epochs, verbose, callbacks, shuffle, initial_epoch,
                    batch_transform, engine):
        """The epoch loop, with the ordinary step or a split one (``engine``, guinn.core.split)."""
        train_step = engine or self._train_step
        n = len(x)
        steps = math.ceil(n / batch_size)
        verbose = 1 if verbose == "auto" else int(verbose)
        self.history = History()
        # History after the user's callbacks, as Keras has it: what they add to an epoch's logs
        # (a metric of their own, the learning rate) is recorded too
        cbs = [*(callbacks or []), self.history]
        if verbose:
            cbs.append(ProgbarLogger(verbose))
        params = {"epochs": epochs, "steps": steps, "samples": n, "batch_size": batch_size, "verbose": verbose}
        cb = CallbackList(cbs, self, params)
        self.stop_training = False
        self.stop_reason = None
        labels = self._accuracy_labels(y)
        want_acc = labels is not None
        shuffle_rng, dropout_rng = self._rngs["shuffle"], self._rngs["dropout"]
        xb_full = np.empty((batch_size,) + x.shape[1:], dtype=self.dtype)
        yb_full = np.empty((batch_size,) + y.shape[1:], dtype=self.dtype)
        cb.on_train_begin({})
        first_loss = None
        warned_divergence = False
        epoch = initial_epoch
        for epoch in range(initial_epoch, epochs):
            cb.on_epoch_begin(epoch, {})
            order = shuffle_rng.permutation(n) if shuffle else None
            loss_sum, sums, seen = 0.0, dict.fromkeys(self.metrics, 0.0), 0
            for batch in range(steps):
                start, stop = batch * batch_size, min(n, (batch + 1) * batch_size)
                if order is None:
                    xb, yb = x[start:stop], y[start:stop]
                    lb = labels[start:stop] if want_acc else None
                else:
                    idx = order[start:stop]
                    if engine is not None:  # it may have fetched these rows already
                        xb = engine.take(x, idx, xb_full[: len(idx)])
                        if stop < n:
                            engine.upcoming(x, order[stop:stop + batch_size])
                    else:
                        xb = np.take(x, idx, axis=0, out=xb_full[: len(idx)])
                    yb = np.take(y, idx, axis=0, out=yb_full[: len(idx)])
                    lb = labels[idx] if want_acc else None
                if batch_transform is not None:
                    xb = self._transformed(batch_transform, xb, shuffle_rng)
                cb.on_train_batch_begin(batch, {})
                logs = train_step(xb, yb, lb, dropout_rng, epoch, batch)
                if logs is None:
                    break
                if first_loss is None:
                    first_loss = logs["loss"]
                loss_sum += logs["loss"] * len(xb)
                for metric in sums:
                    sums[metric] += logs[metric] * len(xb)
                seen += len(xb)
                cb.on_train_batch_end(batch, self._as_spelt(logs))
                if self.stop_training:
                    break
            epoch_logs = {}
            if seen:
                epoch_logs["loss"] = loss_sum / seen
                if not warned_divergence and _diverging(epoch_logs["loss"], first_loss):
                    warned_divergence = True
                    self.history.say(
                        f"The training loss has grown to {epoch_logs['loss']:.4g} in epoch {epoch + 1}, far above "
                        f"where this run started ({first_loss:.4g}): training is diverging.{LIKELY_CAUSE} the "
                        f"learning rate ({getattr(self.optimizer, 'learning_rate', float('nan')):g}) is too high.")
                epoch_logs.update({metric: total / seen for metric, total in sums.items()})
                if x_val is not None:
                    val = self._evaluate_arrays(x_val, y_val, max(batch_size, 1024))
                    epoch_logs.update({f"val_{k}": v for k, v in val.items()})
                cb.on_epoch_end(epoch, self._as_spelt(epoch_logs))
            if self.stop_training:
                break
        cb.on_train_end({})
        return self.history

    @checked_arguments
    def train_on_batch(self, x, y, return_dict=False):
        """One optimizer step on exactly this batch (Keras's): the loss (and metrics) before the
        step. After a non-finite loss or update the weights stay as they were and the loss is NaN."""
        if not self.compiled:
            raise TrainingError("Call compile(optimizer=..., loss=...) before train_on_batch.")
        x, y = self._checked_pair(x, y)
        self.optimizer.build(self._params.size, self.dtype)
        labels = self._accuracy_labels(y)
        self.stop_training, self.stop_reason = False, None
        logs = self._train_step(x, y, labels, self._rngs["dropout"], 0, 0)
        if logs is None:
            logs = {"loss": math.nan, **dict.fromkeys(self.metrics, math.nan)}
        result = self._as_spelt({k: v for k, v in logs.items() if k != "telemetry"})
        return result if return_dict else _keras_result(result)

    @checked_arguments
    def test_on_batch(self, x, y, return_dict=False):
        """Keras's: ``evaluate`` on one batch, quietly."""
        return self.evaluate(x, y, batch_size=_whole_batch(x), verbose=0, return_dict=return_dict)

    @checked_arguments
    def predict_on_batch(self, x):
        """Keras's: ``predict`` on one batch."""
        return self.predict(x, batch_size=_whole_batch(x))

    @checked_arguments
    def get_layer(self, name=None, index=None):
        """A layer by name or position (Keras's); the error lists the names there are."""
        if (name is None) == (index is None):
            raise ConfigError("get_layer takes a layer name or an index (not both).")
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not \
                    -len(self.layers) <= index < len(self.layers):
                raise ConfigError(f"get_layer index must be a whole number from 0 to {len(self.layers) - 1}, "
                                  f"got {index!r}.")
            return self.layers[index]
        self._ensure_built()  # layers get their names when built
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise unknown_name("layer", name, [layer.name for layer in self.layers])

    def _transformed(self, transform, xb, rng):
        out = np.asarray(transform(xb, rng), dtype=self.dtype)
        if out.shape != xb.shape:
            raise DataError(f"batch_transform must return an array of shape {xb.shape}, got {out.shape}.")
        return out

    def _train_step(self, xb, yb, lb, dropout_rng, epoch, batch):
        out = xb
        for layer in self.layers:
            out = layer.forward(out, True, dropout_rng)
        loss, g = self._loss_and_gradient(yb, out, epoch, batch)
        if g is None:
            return None
        for layer, need in zip(reversed(self.layers), reversed(self._need_input_grad), strict=False):
            g = layer.backward(g, need)
            if g is None:  # no layer further down has parameters (e.g. a leading Flatten/Dropout)
                break
        if not self._update_is_finite(self._optimizer_step(), epoch, batch):
            return None
        self._apply_update()
        return self._step_logs(out, loss, lb, epoch, batch, yb)

    def _loss_and_gradient(self, yb, out, epoch, batch):
        """The batch's loss (with the penalty) and dL/d(output); (NaN, None) after stopping on a
        non-finite loss."""
        if self._fused:
            loss, g = self.loss.fused(yb, self.layers[-1].logits, out)
        else:
            loss, g = self.loss(yb, out), self.loss.gradient(yb, out)
        loss = self._penalised(loss, epoch, batch)
        return (math.nan, None) if loss is None else (loss, g)

    def _penalised(self, loss, epoch, batch) -> float | None:
        """The batch's loss plus the regularizers' penalty; None after stopping on a non-finite one."""
        loss += self._penalty()
        if not math.isfinite(loss):
            self._stop_non_finite(epoch, batch, "the loss became " + ("NaN" if math.isnan(loss) else "infinite"))
            return None
        return loss

    def _update_is_finite(self, update_sq: float, epoch, batch) -> bool:
        """Stop (and undo an update the fused step already applied) if the update overflowed."""
        # NaN fails the comparison; a sum of squares beyond the dtype's range means the update overflowed.
        if not update_sq <= self._largest:
            if self._applied:
                self._params[...] = self._update  # the old weights, exactly
            self._stop_non_finite(epoch, batch, "the weight update overflowed")
            return False
        return True

    def _step_logs(self, out, loss, lb, epoch, batch, yb) -> dict:
        logs = {"loss": loss}
        for metric in self.metrics:
            logs[metric] = _metric_value(metric, out, lb, yb)
        if self.telemetry:
            logs["telemetry"] = self._telemetry(epoch, batch, loss, logs.get("accuracy", math.nan))
        return logs

    def _optimizer_step(self) -> float:
        """Write the update and the per-segment sums of squares; return the update's total square.
        The fused kernels also apply the update (``_update`` then holds the old weights)."""
        kernels = fused.kernels() if self.optimizer.supports_fused() else None
        if kernels is not None:
            try:
                self.optimizer.fused_update(kernels, self._grads, self._update, self._params, self._runs, self._sums)
                self._applied = True
                return float(self._sums[:, 1].sum())
            except Exception as exc:  # e.g. a compiler problem on this platform: keep training on NumPy
                fused.disable(f"fused step failed ({type(exc).__name__}: {exc})")
        self._applied = False
        update = self.optimizer.compute_update(self._grads, self._update)
        if not self.telemetry:
            return fused.sum_of_squares(update)
        b = self._bounds
        for s in range(len(b) - 1):  # per-layer squares serve telemetry and, summed, the finiteness check
            self._sums[s, 0] = fused.sum_of_squares(self._grads[b[s]:b[s + 1]]) if s % 2 == 0 else 0.0
            self._sums[s, 1] = fused.sum_of_squares(update[b[s]:b[s + 1]])
        return float(self._sums[:, 1].sum())

    def _apply_update(self) -> None:
        if self._applied:  # the fused step did it
            return
        self._params += self._update
        if self.telemetry:
            for i, w in enumerate(self._watch):
                self._sums[2 * i, 2] = fused.sum_of_squares(self._params[w.start:w.stop])

    def _multilabel(self) -> bool:
        """Several sigmoid outputs under binary cross-entropy: each output is its own yes/no.
        Softmax outputs are one choice among classes whatever the loss, so their accuracy is
        the argmax's (Keras would count each of the 10 outputs as a yes/no and report ~90%
        for a model that is always wrong)."""
        return (self.loss.name == "binary_crossentropy" and self.output_shape[0] > 1
                and self._output_activation() != "softmax")

    def _accuracy_labels(self, y):
        """What each batch's accuracy compares with (see _class_index), or None without the metric."""
        return _class_index(y, self._multilabel()) if "accuracy" in self.metrics else None

    def _output_activation(self) -> str | None:
        """The last layer's activation name (None for a layer without one, e.g. Dropout)."""
        return getattr(getattr(self.layers[-1], "activation", None), "name", None)

    def _penalty(self) -> float:
        return sum(layer.penalty() for layer in self.trainable_layers)

    def _telemetry(self, epoch, batch, loss, accuracy) -> BatchTelemetry:
        records = []
        sums = self._sums.tolist()  # plain floats: the arithmetic below is on scalars
        for i, w in enumerate(self._watch):
            grad_sq, update_sq, weight_sq = sums[2 * i]
            n = w.stop - w.start
            weight_rms = math.sqrt(weight_sq / n)
            extra = w.layer.stats()
            saturation = extra.get("saturation", math.nan)
            for nxt in w.following:  # e.g. a separate Activation layer after a linear Dense
                if not math.isnan(saturation):
                    break
                saturation = nxt.stats().get("saturation", math.nan)
            records.append(LayerTelemetry(
                name=w.layer.name, grad_rms=math.sqrt(grad_sq / n),
                delta_rms=float(extra.get("delta_rms", math.nan)), weight_rms=weight_rms,
                update_ratio=ratio(math.sqrt(update_sq / n), weight_rms), saturation=float(saturation),
            ))
        return BatchTelemetry(epoch=epoch, batch=batch, step=self.optimizer.iterations, loss=loss,
                              accuracy=accuracy, layers=tuple(records))

    def _stop_non_finite(self, epoch, batch, what):
        lr = getattr(self.optimizer, "learning_rate", None)
        self.stop_reason = (
            f"Training stopped at epoch {epoch + 1}, batch {batch + 1}: {what}. The weights from the last "
            f"finite step are kept.{LIKELY_CAUSE} the learning rate ({lr:g}) is too high for this network "
            "(or the inputs are not scaled); try a smaller one."
        )
        self.stop_training = True
        self.history.say(self.stop_reason)
        if not self.history.params.get("verbose"):
            warn_user(self.stop_reason)  # seen with verbose=0 too

    # -- inference ---------------------------------------------------------------------------
    @checked_arguments
    def predict(self, x, batch_size=None, verbose=0) -> np.ndarray:
        x = check_x(x, self.dtype, self.input_shape)
        self._ensure_built(x.shape[1:])
        self._check_input_shape(x)
        batch_size = check_batch_size(1024 if batch_size is None else batch_size)
        out = [self._forward_pure(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]
        return np.concatenate(out) if out else np.empty((0,) + self.output_shape, self.dtype)

    def __call__(self, x, training=False):
        """``model(x)``: the predictions for ``x`` (a NumPy array; Keras returns a tensor).
        ``training=True`` (dropout on) is refused: guinn applies dropout only inside fit."""
        if training:
            raise ConfigError("model(x, training=True) is not supported: dropout acts only while fit trains; "
                              "model(x) and predict(x) give the inference outputs.")
        return self.predict(x)

    def _forward_pure(self, x):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # a diverged model's outputs are NaN
            for layer in self.layers:
                x = layer.call(x)
        return x

    @checked_arguments
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", return_dict=False):
        if not self.compiled:
            raise TrainingError("Call compile(optimizer=..., loss=...) before evaluate.")
        x, y = self._checked_pair(x, y)
        result = self._evaluate_arrays(x, y, check_batch_size(1024 if batch_size is None else batch_size))
        result = self._as_spelt(result)
        if verbose in ("auto", 1, 2):
            print(" - ".join(f"{k}: {v:.4f}" for k, v in result.items()), file=sys.stdout)
        return result if return_dict else _keras_result(result)

    @property
    def metrics_names(self) -> list[str]:
        """The loss and the metrics, named as in the logs and ``evaluate`` (Keras's)."""
        return ["loss"] + [name for m in self.metrics for name in self._metric_names.get(m, [m])]

    def _as_spelt(self, logs: dict) -> dict:
        """``logs`` with each metric under the names compile was given (``acc``, ``val_acc``)."""
        if not self._metric_names:
            return logs
        spelt = {}
        for key, value in logs.items():
            prefix = "val_" if key.startswith("val_") else ""
            for name in self._metric_names.get(key[len(prefix):], [key[len(prefix):]]):
                spelt[prefix + name] = value
        return spelt

    def _evaluate_arrays(self, x, y, batch_size) -> dict:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # a diverged model's inf is its result
            return self._evaluate_sums(x, y, batch_size)

    def _evaluate_sums(self, x, y, batch_size) -> dict:
        total_loss = 0.0
        sums = dict.fromkeys(self.metrics, 0.0)
        fused = self._fused
        last = self.layers[-1]
        for i in range(0, len(x), batch_size):
            xb, yb = x[i:i + batch_size], y[i:i + batch_size]
            if fused:
                logits = xb
                for layer in self.layers[:-1]:
                    logits = layer.call(logits)
                if isinstance(last, Dense):
                    logits = logits @ last.params["kernel"]
                    if last.use_bias:
                        logits += last.params["bias"]
                out = last.activation.forward(logits, np.empty_like(logits), last.alpha)
                total_loss += self.loss.fused(yb, logits, out)[0] * len(xb)
            else:
                out = self._forward_pure(xb)
                total_loss += self.loss(yb, out) * len(xb)
            labels = self._accuracy_labels(yb)
            for metric in self.metrics:
                sums[metric] += _metric_value(metric, out, labels, yb) * len(xb)
        return {"loss": total_loss / len(x) + self._penalty(), **{m: v / len(x) for m, v in sums.items()}}

    def _checked_pair(self, x, y, what=""):
        """Validated (x, targets) ready for the loss; builds the model from x if needed.
        ``what`` ("validation_data") says in every message which arrays were wrong."""
        try:
            if y is None:
                raise DataError("y is missing: pass the targets (labels) as well as x.")
            x = check_x(x, self.dtype, self.input_shape)
            self._ensure_built(x.shape[1:])
            self._check_input_shape(x)
            y = self.loss.prepare_targets(y, self.output_shape[0], self.dtype)
            if len(x) != len(y):
                raise DataError(f"x and y must have the same number of samples, got {len(x)} and {len(y)}.")
        except DataError as exc:
            if what:
                raise DataError(f"{what}: {exc}") from None
            raise
        return x, y

    def _check_input_shape(self, x):
        if tuple(x.shape[1:]) != tuple(self.input_shape):
            raise DataError(f"The model expects samples of shape {tuple(self.input_shape)}, "
                            f"got {tuple(x.shape[1:])}.")

    # -- weights -------------------------------------------------------------------------------
    def get_weights(self) -> list[np.ndarray]:
        """Copies of all parameters in Keras's order (per layer: kernel, bias, then extras)."""
        self._ensure_built()
        return [layer.params[key].copy() for layer in self.layers for key, _ in layer.param_shapes()]

    @property
    def weights(self) -> list[np.ndarray]:
        """Keras's ``model.weights``: every layer's live parameters, read-only (``set_weights``
        changes them). Built first when the input size is known, as ``get_weights`` is; ``[]``
        while it is not, as in Keras."""
        if not self.built and self.input_shape is not None:
            self._ensure_built()
        return [w for layer in self.layers for w in layer.weights]

    trainable_weights = trainable_variables = weights

    @property
    def non_trainable_weights(self) -> list[np.ndarray]:
        return []  # guinn trains every weight

    def set_weights(self, weights) -> None:
        self._ensure_built()
        targets = [(layer, key, shape) for layer in self.layers for key, shape in layer.param_shapes()]
        weights = list(weights)
        if len(weights) != len(targets):
            raise DataError(f"set_weights needs {len(targets)} arrays, got {len(weights)}.")
        checked = [(layer, key, checked_weight(layer, key, shape, w))
                   for (layer, key, shape), w in zip(targets, weights, strict=False)]
        for layer, key, w in checked:
            layer.params[key][...] = w

    def optimizer_slots(self) -> dict[str, dict[str, dict[str, np.ndarray]]]:
        """The optimizer's state per layer and parameter, e.g. ``["dense_1"]["kernel"]["m_sum"]``
        (read-only views into the optimizer's flat slots)."""
        self._ensure_built()
        if self.optimizer is None:
            return {}
        self.optimizer.build(self._params.size, self.dtype)
        result: dict = {}
        for layer, key, offset, shape in self._param_index:
            size = int(np.prod(shape))
            views = {}
            for slot, flat in self.optimizer.slots.items():
                view = flat[offset:offset + size].reshape(shape)
                view.flags.writeable = False
                views[slot] = view
            result.setdefault(layer.name, {})[key] = views
        return result

    def get_flat_weights(self) -> np.ndarray:
        return self._params.copy()

    def set_flat_weights(self, flat) -> None:
        self._params[...] = flat

    @property
    def rng_states(self) -> dict:
        """Shuffle and dropout generator states, so a saved model resumes the same trajectory."""
        return {k: self._rngs[k].bit_generator.state for k in ("shuffle", "dropout")}

    def set_rng_states(self, states: dict) -> None:
        for key in ("shuffle", "dropout"):
            self._rngs[key].bit_generator.state = states[key]

    # -- description -----------------------------------------------------------------------------
    def get_config(self) -> dict:
        return {"name": self.name, "seed": self.seed, "dtype": self.dtype.name,
                "layers": [{"type": layer.type_name, "config": layer.get_config()} for layer in self.layers]}

    @classmethod
    def from_config(cls, config: dict) -> Sequential:
        if not isinstance(config, dict) or not isinstance(config.get("layers", []), list):
            raise ConfigError("Sequential.from_config takes a dict like get_config's: "
                              "{'name': ..., 'seed': ..., 'dtype': ..., 'layers': [...]}.")
        model = cls(name=config.get("name", "sequential"), seed=config.get("seed"), dtype=config.get("dtype"))
        for i, entry in enumerate(config.get("layers", [])):
            try:
                model.add(layer_from_config(entry))
            except GuinnError as exc:  # which of many layers was wrong
                raise type(exc)(f"layer {i}: {exc}") from None
        return model

    def to_json(self, **kwargs) -> str:
        """Keras's to_json: the architecture (no weights, no compile settings) as JSON text,
        for guinn.models.model_from_json. ``kwargs`` go to ``json.dumps`` (e.g. ``indent=2``)."""
        from guinn.io.model_json import model_to_json

        return model_to_json(self, **kwargs)

    @checked_arguments
    def save(self, path, overwrite=True, *, class_names=None, experiment=None, preprocessing=None,
             dataset=None, history=None) -> None:
        """Write one validated ``.safetensors`` file (Keras's ``model.save``; the keywords are
        guinn.io.model_file.save_model's). ``overwrite=False`` refuses to replace a file."""
        from guinn.io.model_file import save_model

        _refuse_overwrite(path, overwrite, "save")
        save_model(self, path, class_names=class_names, experiment=experiment, preprocessing=preprocessing,
                   dataset=dataset, history=history)

    @checked_arguments
    def save_weights(self, filepath, overwrite=True) -> None:
        """Keras's save_weights: the weights alone (no architecture, no optimizer state) in a
        ``.weights.safetensors`` file (Keras's ``.weights.h5``), written atomically."""
        from guinn.io.model_file import save_weights

        _refuse_overwrite(filepath, overwrite, "save_weights")
        save_weights(self, filepath)

    @checked_arguments
    def load_weights(self, filepath) -> None:
        """Keras's load_weights: weights from save_weights (or a whole model file's) into this
        model, whose layers must match them exactly. The model must be built (or know its input
        shape), as Keras requires; the optimizer's state is left as it is."""
        from guinn.io.model_file import load_weights

        load_weights(self, filepath)

    @checked_arguments
    def summary(self, line_length=None, print_fn=print) -> None:
        """Keras's table of layers; ``line_length`` widens the table (it never cuts a cell)."""
        if line_length is not None and (isinstance(line_length, bool) or not isinstance(line_length, int)):
            raise ConfigError(f"summary line_length must be an integer, got {line_length!r}.")
        self._ensure_built()
        rows = [("Layer (type)", "Output shape", "Param #")]
        for layer in self.layers:
            activation = getattr(layer, "activation", None)
            kind = f"{layer.type_name}, {activation.name}" if activation is not None else layer.type_name
            rows.append((f"{layer.name} ({kind})", str((None, *layer.output_shape)),
                         f"{layer.count_params():,}"))
        widths = [max(len(r[i]) for r in rows) + 2 for i in range(3)]
        widths[0] += max(0, (line_length or 0) - sum(widths))
        line = "-" * sum(widths)
        text = [f'Model: "{self.name}"', line]
        for i, row in enumerate(rows):
            text.append("".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)))
            if i == 0:
                text.append("=" * sum(widths))
        text += [line, f"Total params: {self.count_params():,}"]
        print_fn("\n".join(text))

    def __repr__(self):
        inner = ",\n  ".join(repr(layer) for layer in self.layers)
        return f"Sequential([\n  {inner}\n])"


def _refuse_overwrite(path, overwrite, what: str) -> None:
    path = file_path(path, what)
    if not overwrite and path.exists():
        raise ModelFileError(f"{path} already exists and overwrite=False; choose another name.")


def _whole_batch(x) -> int | None:
    """A batch size covering all of ``x``; None (the default) when ``x`` has no length, so the
    usual input check explains what is wrong with it."""
    try:
        return max(len(x), 1)
    except TypeError:
        return None


def _keras_result(result: dict):
    """The loss alone, or [loss, metric...] when there are metrics: what Keras returns."""
    return [result[k] for k in result] if len(result) > 1 else result["loss"]



def check_weight_count(total: int, dtype) -> None:
    """Refuse more weights than MAX_WEIGHT_BYTES holds in ``dtype``, before anything is allocated."""
    most = MAX_WEIGHT_BYTES // np.dtype(dtype).itemsize
    if total > most:
        digits = int(math.log10(total))  # (an int too large for a float: Dense(10**400))
        shown = f"{total:,}" if total < 10**15 else f"{total / 10**digits:.3g}e+{digits}"
        raise ConfigError(f"The layers hold {shown} weights, more than guinn trains or saves ({most:,} at "
                          f"{np.dtype(dtype)}); is a layer size mistyped?")


SMALL_PRODUCT = 2_000_000  # multiply-adds below which a fit's products run on one BLAS thread (see _fit_loop)


def _check_unshared(layer: Layer, model: Sequential) -> None:
    """A layer belongs to one model: its weights are views into that model's buffers, so a
    second model building it would leave the first training weights it no longer reads."""
    owner = layer._owner() if layer._owner is not None else None
    if owner is not None and owner is not model and any(item is layer for item in owner.layers):
        raise ConfigError(f"Layer {layer.name or layer.type_name} already belongs to model {owner.name!r}; guinn "
                          f"does not share layers between models. Create a new layer (and copy weights with "
                          f"new.set_weights(old.get_weights()) once both models are built), or pop() it first.")
    if any(item is layer for item in model.layers):
        raise ConfigError(f"Layer {layer.name or layer.type_name} is in this model already; add a new layer.")


def _sample_shape(input_shape) -> tuple:
    """One sample's shape from ``build``'s argument: (features,) or Keras's (None, features)."""
    if input_shape is None:
        raise ConfigError("build needs the input shape, e.g. build((784,)) or build((None, 784)), "
                          "unless the first layer declares input_dim.")
    try:
        dims = tuple(input_shape)
    except TypeError:
        dims = (input_shape,)
    if len(dims) > 1 and dims[0] is None:
        dims = dims[1:]  # Keras's batch dimension
    if not dims or any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d <= 0 for d in dims):
        raise ConfigError(f"build needs one sample's shape as positive integers, e.g. (784,) or (None, 784), "
                          f"got {input_shape!r}.")
    return tuple(int(d) for d in dims)


def _diverging(loss: float, first_loss: float | None) -> bool:
    """A finite loss that grew far above where training started (NaN is caught separately)."""
    return first_loss is not None and loss > 5 * first_loss + 1


def _unpack_validation(data):
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise DataError("validation_data must be a tuple (x_val, y_val).")
    return data


def _class_index(y: np.ndarray, multilabel: bool = False) -> np.ndarray:
    """What accuracy compares predictions with: the class index, or for sigmoid outputs the
    targets themselves (as Keras's binary_accuracy: a target of 5.0 never counts as right)."""
    if multilabel:
        return y
    return y.argmax(axis=1) if y.shape[1] > 1 else y[:, 0]


def _metric_value(metric: str, out: np.ndarray, labels, targets: np.ndarray) -> float:
    """A compiled metric on a batch: accuracy against ``labels`` (see _class_index), mae/mse
    against the targets."""
    return _accuracy(out, labels) if metric == "accuracy" else _error(metric, out, targets)


def _error(metric: str, out: np.ndarray, targets: np.ndarray) -> float:
    """Keras's mae/mse metric: the mean absolute or squared difference of outputs and targets."""
    diff = out.astype(np.float64) - np.asarray(targets, dtype=np.float64).reshape(out.shape)
    return float(np.abs(diff).mean() if metric == "mae" else np.square(diff).mean())


def _accuracy(out: np.ndarray, labels: np.ndarray) -> float:
    if labels.ndim == 2:  # multi-label: every output thresholded at 0.5, as Keras's binary_accuracy
        return float(np.count_nonzero((out > 0.5) == labels) / labels.size)
    # (a single output likewise: the target compared with the thresholded output)
    predicted = out.argmax(axis=1) if out.shape[1] > 1 else (out[:, 0] > 0.5)
    return float(np.count_nonzero(predicted == labels) / len(labels))


class _Watched(NamedTuple):
    """One trainable layer's place in the flat buffers: its main parameter (kernel, or PReLU's
    alpha) is ``[start, stop)``, its other parameters (bias...) ``[stop, end)``."""

    layer: Layer
    start: int
    stop: int
    end: int
    following: tuple

