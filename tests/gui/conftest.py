"""GUI tests run the real window offscreen; prompts are answered without dialogs."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from guinn.core.specs import LayerSpec  # noqa: E402
from guinn.experiment import Experiment  # noqa: E402

SMALL_MNIST = Experiment(
    dataset={"kind": "mnist", "limit": 500, "test_limit": 200},
    layers=(LayerSpec(32, "sigmoid"), LayerSpec(32, "sigmoid")),
    epochs=2,
    batch_size=50,
)
TOY = Experiment(
    title="toy",
    dataset={"kind": "toy", "name": "blobs", "n_samples": 300},
    layers=(LayerSpec(16, "relu"),),
    epochs=3,
    batch_size=20,
    validation_split=0.2,
    optimizer={"name": "adam", "learning_rate": 0.01},
)


class Answers:
    """Records prompts and answers them from a queue (default: the safe answer)."""

    def __init__(self):
        self.asked = []
        self.queue = []

    def __call__(self, title, text, buttons=None, default=None):
        self.asked.append(title)
        if self.queue:
            return self.queue.pop(0)
        if buttons is not None and buttons & QMessageBox.StandardButton.Discard:
            return QMessageBox.StandardButton.Discard
        return QMessageBox.StandardButton.No


@pytest.fixture
def make_window(qtbot):
    from guinn.gui.main_window import MainWindow

    def make(experiment=TOY, wait=True):
        window = MainWindow(experiment)
        window.ask = Answers()
        qtbot.addWidget(window)
        window.show()
        if wait:
            qtbot.waitUntil(lambda: window.dataset is not None, timeout=60_000)
        return window

    return make


@pytest.fixture
def window(make_window):
    return make_window()
