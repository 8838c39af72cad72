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


def test_prelu_slopes_fold_into_their_dense_layer():
    from guinn.core.specs import LayerSpec, build_model
    from guinn.gui.history import fold_layers, folded_layer_names

    model = build_model(4, [LayerSpec(8, "prelu"), LayerSpec(6, "relu"), LayerSpec(5, "prelu")], 3, seed=0)
    if not model.built:
        model.build((4,))
    folded = folded_layer_names(model)
    assert folded == {layer.name for layer in model.layers if layer.type_name == "PReLU"}
    assert len(folded) == 2 and folded_layer_names(None) == frozenset()

    nan = math.nan
    layers = (
        LayerTelemetry("dense_1", 0.1, 0.1, 1.0, 1e-3, nan),  # Dense(linear) of a PReLU card
        LayerTelemetry("prelu_1", 0.9, 0.9, 0.25, 9.0, 0.4),  # its slopes: no line of their own
        LayerTelemetry("dense_2", 0.2, 0.2, 1.0, 1e-3, 0.3),
        LayerTelemetry("dense_3", 0.3, 0.3, 1.0, 1e-3, nan),
    )
    out = fold_layers(layers, {"prelu_1"})
    assert [layer.name for layer in out] == ["dense_1 (PReLU)", "dense_2", "dense_3"]
    assert (out[0].grad_rms, out[0].weight_rms, out[0].update_ratio) == (0.1, 1.0, 1e-3)
    assert out[0].saturation == 0.4  # the dead fraction after the card's weights

    h = TrainingHistory(capacity=16)
    h.set_folded({"prelu_1"})
    h.add_batch(BatchTelemetry(0, 0, 1, 1.0, 0.5, layers))
    assert h.layer_names == ("dense_1 (PReLU)", "dense_2", "dense_3")
    assert list(h.latest_values("grad_rms")) == [0.1, 0.2, 0.3]
    assert h.layer_column("saturation", 0)[-1] == 0.4


@pytest.mark.parametrize("capacity", [8, 64])
def test_bundles_give_the_same_history_as_single_records(capacity):
    rng = np.random.default_rng(1)
    one, many = TrainingHistory(capacity=capacity), TrainingHistory(capacity=capacity)
    records = []
    for step in range(1, 500):
        grads = rng.random(3)
        if step % 37 == 0:
            grads[1] = math.nan  # a diverging value must average like in append
        records.append(_record(step, list(grads)))
    for record in records:
        one.add_batch(record)
    i = 0
    while i < len(records):
        k = int(rng.integers(1, 40))  # bundles of varied sizes, across compressions
        many.add_batches(records[i : i + k])
        i += k
    assert many.step == one.step == len(records) and many.layer_names == one.layer_names
    assert many.batches.stride == one.batches.stride and many.batches.appended == one.batches.appended
    np.testing.assert_allclose(many.batches.x(), one.batches.x())
    for j in range(one.batches.n_columns):
        np.testing.assert_allclose(many.batches.column(j), one.batches.column(j), equal_nan=True)
    assert list(many.latest_values("grad_rms")) == list(one.latest_values("grad_rms"))
    many.add_batches([])
    many.add_batches([_record(0, [1.0])])  # another model: starts afresh
    assert many.layer_names == ("dense_0",) and many.step == 1


def test_an_opened_models_stored_epochs_are_restored_and_continued():
    h = TrainingHistory(capacity=16)
    h.restore_epochs({"loss": [0.9, 0.5, 0.4], "acc": [0.7, 0.8, 0.9], "val_acc": [0.6, 0.7]}, steps=30)
    assert list(h.epochs.x()) == [10, 20, 30]  # the stored steps shared evenly among the epochs
    assert list(h.epoch_column("accuracy")) == [0.7, 0.8, 0.9]  # any spelling of the metric
    assert list(h.epoch_column("val_accuracy"))[:2] == [0.6, 0.7]
    assert math.isnan(h.epoch_column("val_accuracy")[2]) and math.isnan(h.epoch_column("val_loss")[0])
    assert (h.step, h.epochs_done, len(h.batches)) == (30, 3, 0)
    h.expect_layers(["dense_0", "dense_1"])  # a continued run names its layers: the epochs stay
    h.add_batch(_record(0, [1e-3, 1e-2]))
    assert h.step == 31 and list(h.batches.x()) == [31]
    assert len(h.epochs) == 3 and h.layer_names == ("dense_0", "dense_1")
    h.add_batch(_record(0, [1.0]))  # then another model's batches: everything starts over
    assert (h.step, len(h.epochs)) == (1, 0)


def test_restored_epochs_sit_where_the_optimizer_stood():
    """A model trained in several fits keeps only the last fit's epochs, but the step count at
    each of their ends: they go there, not spread over all the steps."""
    h = TrainingHistory(capacity=16)
    h.restore_epochs({"loss": [0.3, 0.2]}, steps=100, epoch_steps=[90, 100])
    assert list(h.epochs.x()) == [90, 100] and h.step == 100
    h = TrainingHistory(capacity=16)
    h.restore_epochs({"loss": [0.3, 0.2]}, steps=100, epoch_steps=[])  # an older file: evenly
    assert list(h.epochs.x()) == [50, 100]


def test_nothing_is_restored_without_steps_or_epochs():
    h = TrainingHistory(capacity=16)
    h.restore_epochs({"loss": [0.5]}, steps=0)  # an untrained optimizer: no x positions to give
    h.restore_epochs({}, steps=40)
    assert (h.step, len(h.epochs)) == (0, 0)


def test_restored_epochs_are_numbered_on_from_the_last_stored_one():
    h = TrainingHistory()
    h.restore_epochs({"loss": [0.5, 0.4, 0.3]}, 30, [10, 20, 30], [2, 3, 4])  # fit with initial_epoch=2
    assert h.epochs_done == 5  # the next run's first epoch is 5, as in the file
    h.reset(())
    h.restore_epochs({"loss": [0.5, 0.4]}, 20)  # an older file: no numbers, a count
    assert h.epochs_done == 2
