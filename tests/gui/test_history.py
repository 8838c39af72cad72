"""The bounded telemetry history the plots read (pure NumPy)."""

import math

import numpy as np
import pytest

from guinn.core.telemetry import BatchTelemetry, LayerTelemetry
from guinn.gui.history import DecimatingSeries, TrainingHistory, log_safe


def test_series_stays_bounded_and_averages_every_point():
    s = DecimatingSeries(1, capacity=64)
    n = 10_000
    for i in range(n):
        s.append(i, [float(i)])
    assert len(s) <= 64
    assert s.stride > 1
    x, y = s.x(), s.column(0)
    assert np.all(np.diff(x) > 0)
    np.testing.assert_allclose(x, y)  # each row is the mean of the batches it covers
    assert x[0] == pytest.approx((s.stride - 1) / 2)


def test_series_ignores_nan_in_means():
    s = DecimatingSeries(2, capacity=4)
    for i in range(8):
        s.append(i, [1.0, math.nan if i % 2 else 2.0])
    assert np.all(s.column(0) == 1.0)
    assert np.all(s.column(1) == 2.0)


def test_log_safe_drops_non_finite_and_clamps():
    x = np.arange(5.0)
    y = np.array([1.0, math.nan, 0.0, math.inf, -1.0])
    xs, ys = log_safe(x, y)
    assert list(xs) == [0.0, 2.0, 4.0]
    assert ys.min() >= 1e-12


def _record(step, grads):
    layers = tuple(LayerTelemetry(f"dense_{i}", g, g, 1.0, 1e-3, 0.5) for i, g in enumerate(grads))
    return BatchTelemetry(0, step, step, 1.0 / (step + 1), 0.5, layers)


def test_training_history_columns_and_reset_on_new_layers():
    h = TrainingHistory(capacity=16)
    for step in range(100):
        h.add_batch(_record(step, [1e-6, 1e-2]))
    assert len(h.batches) <= 16
    assert np.allclose(h.layer_column("grad_rms", 0), 1e-6)
    assert np.allclose(h.layer_column("grad_rms", 1), 1e-2)
    assert list(h.latest_values("grad_rms")) == [1e-6, 1e-2]
    h.add_epoch({"loss": 0.5, "val_loss": 0.6})
    assert h.epoch_column("val_loss")[-1] == 0.6
    h.add_batch(_record(0, [1.0]))  # another model
    assert h.layer_names == ("dense_0",)
    assert h.step == 1
