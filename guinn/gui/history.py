"""Bounded, decimating histories of training telemetry (NumPy only, no Qt).

Hours of training must not grow memory or redraw cost: each series keeps at most
``capacity`` rows. When it fills, neighbouring rows are averaged in pairs and the stride
doubles, so every batch still counts (as part of a mean) but the row count stays fixed.
"""

from __future__ import annotations

import math

import numpy as np

from guinn.core.callbacks import canonical_metric
from guinn.core.telemetry import BatchTelemetry, LayerTelemetry

LOG_FLOOR = 1e-12


class DecimatingSeries:
    """``x`` plus ``n_columns`` value columns, at most ``capacity`` rows."""

    def __init__(self, n_columns: int, capacity: int = 2048):
        if capacity < 4 or capacity % 2:
            raise ValueError("capacity must be an even number >= 4")
        self.capacity = capacity
        self.n_columns = n_columns
        self.stride = 1
        self._x = np.empty(capacity)
        self._y = np.empty((capacity, n_columns))
        self._n = 0
        self._acc_x = 0.0
        self._acc_y = np.zeros(n_columns)
        self._acc_k = np.zeros(n_columns)
        self._pending = 0
        self.appended = 0

    def __len__(self) -> int:
        return self._n

    def append(self, x: float, values) -> None:
        v = np.asarray(values, dtype=float)
        finite = np.isfinite(v)
        self._acc_x += x
        self._acc_y[finite] += v[finite]
        self._acc_k += finite
        self._pending += 1
        self.appended += 1
        if self._pending < self.stride:
            return
        if self._n == self.capacity:
            self._compress()  # doubles the stride: keep accumulating this row
            if self._pending < self.stride:
                return
        self._push()

    def extend(self, xs, rows) -> None:
        """Append many rows at once; the same result as ``append`` row by row (up to float
        rounding), but whole groups of ``stride`` rows are averaged in a few array operations
        instead of a handful of small NumPy calls per row."""
        xs = np.asarray(xs, dtype=float)
        rows = np.asarray(rows, dtype=float).reshape(len(xs), self.n_columns)
        i, total = 0, len(xs)
        while i < total:
            s = self.stride
            if self._pending or self._n == self.capacity or total - i < s:
                self.append(xs[i], rows[i])  # a partly filled row, or a compression is due
                i += 1
                continue
            groups = min((total - i) // s, self.capacity - self._n)
            j = i + groups * s
            block = rows[i:j].reshape(groups, s, self.n_columns)
            ok = np.isfinite(block)
            count = ok.sum(axis=1)
            total_y = np.where(ok, block, 0.0).sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                means = np.where(count > 0, total_y / np.maximum(count, 1), np.nan)
            self._x[self._n : self._n + groups] = xs[i:j].reshape(groups, s).mean(axis=1)
            self._y[self._n : self._n + groups] = means
            self._n += groups
            self.appended += groups * s
            i = j

    def _push(self) -> None:
        with np.errstate(invalid="ignore", divide="ignore"):
            row = np.where(self._acc_k > 0, self._acc_y / np.maximum(self._acc_k, 1), np.nan)
        self._x[self._n] = self._acc_x / self._pending
        self._y[self._n] = row
        self._n += 1
        self._acc_x, self._pending = 0.0, 0
        self._acc_y[:] = 0.0
        self._acc_k[:] = 0.0

    def _compress(self) -> None:
        half = self.capacity // 2
        self._x[:half] = self._x.reshape(half, 2).mean(axis=1)
        pairs = self._y.reshape(half, 2, self.n_columns)
        with np.errstate(invalid="ignore"):
            both = np.isfinite(pairs)
            total = np.where(both, pairs, 0.0).sum(axis=1)
            count = both.sum(axis=1)
            self._y[:half] = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        self._n = half
        self.stride *= 2

    def x(self) -> np.ndarray:
        return self._x[: self._n].copy()

    def column(self, j: int) -> np.ndarray:
        return self._y[: self._n, j].copy()

    def last(self) -> np.ndarray | None:
        return self._y[self._n - 1].copy() if self._n else None

    def clear(self) -> None:
        self.__init__(self.n_columns, self.capacity)


def log_safe(x: np.ndarray, y: np.ndarray, floor: float = LOG_FLOOR):
    """Drop NaN/Inf and clamp to ``floor``: what a log axis can show (a diverging run
    produces non-finite values, and zeros or negatives break log scaling)."""
    keep = np.isfinite(y)
    return x[keep], np.maximum(y[keep], floor)


def finite(x: np.ndarray, y: np.ndarray):
    keep = np.isfinite(y)
    return x[keep], y[keep]


def folded_layer_names(model) -> frozenset[str]:
    """Names of the trainable layers the plots fold into the layer before them.

    A Parametric ReLU card is two trainable engine layers, ``Dense(linear)`` and ``PReLU``
    (its learned slopes); a student thinks of it as one layer with one weight matrix. Its
    PReLU record is folded into the Dense record: one line per card, input to output."""
    if model is None:
        return frozenset()
    layers = list(getattr(model, "layers", ()))
    names = set()
    for before, layer in zip(layers, layers[1:], strict=False):
        if (
            getattr(layer, "type_name", "") == "PReLU"
            and getattr(before, "type_name", "") == "Dense"
            and layer.name is not None  # names are given when the model is built
        ):
            names.add(layer.name)
    return frozenset(names)


def plot_layer_names(model) -> tuple[str, ...]:
    """The per-layer names the history will show for ``model``'s telemetry (folds applied),
    known before the first batch so the plots can be laid out before training starts."""
    folded = folded_layer_names(model)
    names: list[str] = []
    for layer in getattr(model, "trainable_layers", ()):
        if layer.name is None:
            return ()
        if layer.name in folded and names:
            names[-1] += " (PReLU)"
        else:
            names.append(layer.name)
    return tuple(names)


def fold_layers(layers: tuple[LayerTelemetry, ...], folded) -> tuple[LayerTelemetry, ...]:
    """Fold each record named in ``folded`` into the record before it: the weight layer keeps
    its gradient, weight and update figures, takes the folded layer's saturation (dead
    fraction) when it has none of its own (a linear Dense has none), and is labelled
    ``"<name> (PReLU)"``."""
    out: list[LayerTelemetry] = []
    for layer in layers:
        if layer.name in folded and out:
            prev = out[-1]
            saturation = layer.saturation if math.isnan(prev.saturation) else prev.saturation
            out[-1] = prev._replace(name=f"{prev.name} (PReLU)", saturation=saturation)
        else:
            out.append(layer)
    return tuple(out)


class TrainingHistory:
    """Everything the plots show about the current model, fed with telemetry records.

    Per batch: loss, accuracy and for each trainable layer gradient RMS, weight RMS,
    update/weight ratio and saturation. Per epoch: the logs ``fit`` reported. ``latest``
    holds the newest undecimated per-layer values, for the "now" bar chart. Records of the
    layers named in ``folded`` (PReLU slopes, see :func:`folded_layer_names`) are folded into
    the weight layer before them, so there is one line per layer card.
    """

    FIELDS = ("grad_rms", "weight_rms", "update_ratio", "saturation")

    def __init__(self, capacity: int = 1024):
        self.capacity = capacity
        self.folded: frozenset[str] = frozenset()
        self.reset(())

    def set_folded(self, names) -> None:
        """Which records to fold into the layer before them, from now on."""
        self.folded = frozenset(names)

    def expect_layers(self, names) -> None:
        """Name the layers before the first batch arrives (no effect once there is data)."""
        if not self.batches.appended and tuple(names) != self.layer_names:
            self._name_layers(names)

    def _name_layers(self, names) -> None:
        """New layer names: before any batch (e.g. after restore_epochs) only the per-batch
        series start over; once batches came they were another model's, so everything does."""
        if self.batches.appended:
            self.reset(names)
            return
        self.layer_names = tuple(names)
        self.batches = DecimatingSeries(2 + len(self.FIELDS) * len(self.layer_names), self.capacity)
        self.latest = None
        self.revision += 1

    def restore_epochs(self, logs: dict[str, list], steps: int, epoch_steps=(), epoch_numbers=()) -> None:
        """An opened model's stored training, per epoch (``History.history``, any spelling of
        the metrics), placed at the optimizer's step count at each epoch's end
        (``History.steps``); files without those share the model's ``steps`` evenly among the
        epochs. Per-batch figures are not stored, so a continued run draws on from ``steps``."""
        columns = {canonical_metric(k): v for k, v in logs.items()}
        epochs = max((len(v) for v in columns.values()), default=0)
        if not epochs or steps <= 0:
            return
        if len(epoch_steps) != epochs:
            epoch_steps = [round(steps * (i + 1) / epochs) for i in range(epochs)]
        for i, x in enumerate(epoch_steps):
            row = [columns[k][i] if i < len(columns.get(k, ())) else math.nan for k in self.EPOCH_KEYS]
            self.epochs.append(x, row)
        # the next run numbers its epochs on from the last stored one (a model fit with
        # initial_epoch=2 stores epochs 2, 3, 4: the next is 5, not 3)
        self.step = steps
        self.epochs_done = int(epoch_numbers[-1]) + 1 if len(epoch_numbers) == epochs else epochs
        self.revision += 1

    def reset(self, layer_names) -> None:
        self.layer_names = tuple(layer_names)
        n = len(self.layer_names)
        self.batches = DecimatingSeries(2 + len(self.FIELDS) * n, self.capacity)  # x = global batch
        # x = global batch at the epoch's end; loss, accuracy, val_loss, val_accuracy
        self.epochs = DecimatingSeries(4, self.capacity)
        self.step = 0  # batches seen since the model was built or reset
        self.epochs_done = 0
        self.latest: BatchTelemetry | None = None
        self.revision = 0

    def add_batch(self, record: BatchTelemetry) -> None:
        if self.folded:
            record = record._replace(layers=fold_layers(record.layers, self.folded))
        names = tuple(layer.name for layer in record.layers)
        if names != self.layer_names:
            self._name_layers(names)
        self.step += 1
        row = [record.loss, record.accuracy]
        for f in self.FIELDS:
            row.extend(getattr(layer, f) for layer in record.layers)
        self.batches.append(self.step, row)
        self.latest = record
        self.revision += 1

    def add_batches(self, records) -> None:
        """Add a worker's bundle of records (one Progress) with one array operation per
        bundle instead of per batch; the GUI thread shares the GIL and the CPU with training."""
        records = list(records)
        if not records:
            return
        if self.folded:
            records = [r._replace(layers=fold_layers(r.layers, self.folded)) for r in records]
        names = tuple(layer.name for layer in records[0].layers)
        if any(len(r.layers) != len(names) for r in records):
            for record in records:
                self.add_batch(record)  # records of different models: one by one
            return
        if names != self.layer_names:
            self._name_layers(names)
        rows = [  # column order: loss, accuracy, then each of FIELDS for every layer
            [r.loss, r.accuracy]
            + [layer.grad_rms for layer in r.layers]
            + [layer.weight_rms for layer in r.layers]
            + [layer.update_ratio for layer in r.layers]
            + [layer.saturation for layer in r.layers]
            for r in records
        ]
        first = self.step + 1
        self.step += len(records)
        self.batches.extend(np.arange(first, self.step + 1, dtype=float), rows)
        self.latest = records[-1]
        self.revision += 1

    EPOCH_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")

    def add_epoch(self, logs: dict) -> None:
        self.epochs_done += 1
        self.epochs.append(self.step, [float(logs.get(k, math.nan)) for k in self.EPOCH_KEYS])
        self.revision += 1

    def epoch_column(self, name: str) -> np.ndarray:
        return self.epochs.column(self.EPOCH_KEYS.index(name))

    def batch_column(self, name: str) -> np.ndarray:
        return self.batches.column({"loss": 0, "accuracy": 1}[name])

    def layer_column(self, field: str, layer: int) -> np.ndarray:
        n = len(self.layer_names)
        return self.batches.column(2 + self.FIELDS.index(field) * n + layer)

    def latest_values(self, field: str) -> np.ndarray:
        if self.latest is None:
            return np.empty(0)
        return np.array([getattr(layer, field) for layer in self.latest.layers], dtype=float)
