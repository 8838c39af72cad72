"""Tooltips state the engine's real behaviour: the numbers they quote come from the engine."""

from guinn.core import activations
from guinn.core.callbacks import EarlyStopping
from guinn.gui.tips import TIPS, count


def test_saturation_thresholds_match_the_engine():
    tip = TIPS["saturationPlot"]
    low = activations.SIGMOID_SATURATION
    assert f"below {low:g}" in tip and f"above {1 - low:g}" in tip
    assert f"+-{activations.TANH_SATURATION:g}" in tip


def test_patience_counts_epochs_without_improvement():
    import numpy as np

    from guinn.core.specs import LayerSpec, build_model

    # A learning rate of ~0 never improves the loss: with patience p, training runs the first
    # epoch (the best so far) plus p epochs without improvement -- as the tooltip says.
    x = np.random.default_rng(0).random((40, 2)).astype("float32")
    y = np.eye(2, dtype="float32")[np.arange(40) % 2]
    for patience, epochs_run in ((0, 2), (1, 2), (3, 4)):
        model = build_model(2, [LayerSpec(4, "relu")], 2, seed=0)
        model.compile(optimizer={"name": "sgd", "learning_rate": 1e-12}, loss="categorical_crossentropy")
        stop = EarlyStopping(monitor="loss", patience=patience, min_delta=1.0)
        history = model.fit(x, y, batch_size=40, epochs=10, verbose=0, callbacks=[stop])
        assert len(history.epoch) == epochs_run, patience
    assert "after this many epochs in a row without improvement" in TIPS["patience"]
    assert "0 acts like 1" in TIPS["patience"]



def test_counts_read_right_for_one_and_many():
    assert [count(1, "epoch"), count(3, "epoch"), count(1, "batch", "batches"), count(1200, "batch", "batches")] == [
        "1 epoch", "3 epochs", "1 batch", "1,200 batches"]
