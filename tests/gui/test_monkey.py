"""A seeded random walk through the window's actions: whatever the order, no exception
escapes a slot (pytest-qt fails the test if one does), no Qt warning, and the state stays
coherent (the model, when there is one, matches the layer stack)."""

import os
import random

import pytest
from PySide6.QtWidgets import QMessageBox

from tests.gui.conftest import TOY

SEEDS = [int(s) for s in os.environ.get("GUINN_MONKEY_SEEDS", "1,2").split(",")]


@pytest.mark.parametrize("seed", SEEDS)
def test_random_walk_through_the_window(qtbot, make_window, seed):
    window = make_window(TOY.with_changes(epochs=2))
    rng = random.Random(seed)
    panel, settings = window.layer_panel, window.settings
    toy_items = [
        i
        for i in range(window.dataset_panel.combo.count())
        if window.dataset_panel.combo.itemText(i).startswith("Toy")
    ]

    def wait_idle():
        qtbot.waitUntil(lambda: not window.is_training(), timeout=60_000)

    actions = {
        "add": panel.add_layer,
        "duplicate": panel.duplicate_layer,
        "remove": lambda: panel.remove_layer() if window.layers.rowCount() > 1 else None,
        "up": lambda: panel.move_selected(-1),
        "down": lambda: panel.move_selected(1),
        "select": lambda: panel.select(rng.randrange(max(1, window.layers.rowCount()))),
        "units": lambda: panel.units.setValue(rng.choice([4, 8, 16])),
        "activation": lambda: panel.activation.setCurrentIndex(
            rng.randrange(panel.activation.count())
        ),
        "dropout": lambda: panel.dropout.setValue(rng.choice([0.0, 0.1, 0.5])),
        "optimizer": lambda: settings.optimizer.setCurrentIndex(
            rng.randrange(settings.optimizer.count())
        ),
        "batch": lambda: settings.batch_size.setValue(rng.choice([8, 32, 1000])),
        "seed": lambda: settings.seed.setValue(rng.randrange(5)),
        "dataset": lambda: window.dataset_panel.combo.setCurrentIndex(rng.choice(toy_items)),
        "tab": lambda: window.plots.setCurrentIndex(rng.randrange(window.plots.count())),
        "train": lambda: (window.start_training(), wait_idle()),
        "step": lambda: (window.step(), qtbot.wait(20), window.stop_training(), wait_idle()),
        "pause_stop": lambda: (
            window.start_training(),
            window.toggle_pause(),
            qtbot.wait(20),
            window.toggle_pause(),
            window.stop_training(),
            wait_idle(),
        ),
        "reset": window.reset_weights,
    }
    names = sorted(actions)
    for _ in range(80):
        window.ask.queue = [
            rng.choice([QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No])
        ]
        name = rng.choice(names)
        actions[name]()
        qtbot.waitUntil(lambda: window.dataset is not None, timeout=60_000)
        if window.model is not None and not window.is_training():
            assert window.model.count_params() == window.layers.total_params(), name
    wait_idle()
