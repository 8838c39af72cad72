"""The Weights tab's spread of the weights: drawn for the model on show, live while it trains."""

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from guinn.core.weight_spread import weight_spread
from tests.gui.conftest import SMALL_MNIST, TOY


def test_a_trained_model_shows_each_layers_spread_and_its_share_at_zero(qtbot, make_window):
    window = make_window(TOY)
    spread = window.plots.spread
    assert spread.shown is None and spread.note.isVisibleTo(window.plots.spread_plot)
    with qtbot.waitSignal(window.trainingFinished, timeout=60_000):
        qtbot.mouseClick(window.start_button, Qt.MouseButton.LeftButton)
    kernels = [layer for layer in window.model.layers if "kernel" in layer.params]
    assert [layer.name for layer in spread.shown.layers] == [layer.name for layer in kernels]
    assert not spread.note.isVisibleTo(window.plots.spread_plot)
    assert len(spread.curves) == len(kernels)
    for curve in spread.curves:
        x, y = curve.getData()
        assert len(x) == len(y) + 1 and abs(y.sum() - 100) < 1e-6  # percent of the layer's weights
    texts = [label.text for _, label in spread.legend.items]
    assert texts[0].startswith("1. dense_1: ") and texts[0].endswith("% ≈ 0")
    assert texts[-1].startswith(f"{len(kernels)}. {kernels[-1].name} (output): ")

    trained = spread.shown
    window.ask.queue = [QMessageBox.StandardButton.Yes]
    window.reset_weights()  # fresh weights: their spread, not the trained one's
    fresh = weight_spread(window.model)
    assert spread.shown is not trained
    np.testing.assert_array_equal(spread.shown.layers[0].fractions, fresh.layers[0].fractions)
    assert not np.array_equal(trained.layers[0].fractions, fresh.layers[0].fractions)
    window._discard_model()
    assert spread.shown is None and not spread.curves
    assert spread.note.isVisibleTo(window.plots.spread_plot)
    assert [label.text for _, label in spread.legend.items][0] == "earlier runs:"  # (the reset kept the run)
    window.plots.forget_runs()
    assert not spread.legend.isVisible()


def test_the_spread_follows_a_run_while_the_weights_tab_is_on_show(qtbot, make_window):
    window = make_window(SMALL_MNIST.with_changes(epochs=5000, batch_size=10))
    window.plots.setCurrentIndex(window.plots.WEIGHTS_PAGE)
    window.start_training()
    qtbot.waitUntil(lambda: window.plots.spread.shown is not None, timeout=60_000)
    first = window.plots.spread.shown
    qtbot.waitUntil(lambda: window.plots.spread.shown is not first, timeout=60_000)
    assert window.history.step > 0
    window.stop_training()
    qtbot.waitUntil(lambda: not window.is_training(), timeout=60_000)


def test_a_kept_run_leaves_its_first_layers_spread_dashed_until_forgotten(qtbot, make_window):
    window = make_window(TOY)
    with qtbot.waitSignal(window.trainingFinished, timeout=60_000):
        qtbot.mouseClick(window.start_button, Qt.MouseButton.LeftButton)
    trained = window.plots.spread.shown.layers[0]
    window.ask.queue = [QMessageBox.StandardButton.Yes]
    window.reset_weights()  # the trained run is kept for comparison
    spread = window.plots.spread
    assert len(window.plots.kept_runs) == 1 and len(spread.kept) == 1
    curve, text = spread.kept[0]
    np.testing.assert_array_equal(curve.yData, 100 * trained.fractions)
    assert curve.opts["pen"].style() == Qt.PenStyle.DashLine
    assert text.startswith(window.plots.kept_runs[0]["label"] + ", layer 1: ")
    texts = [label.text for _, label in spread.legend.items]
    assert texts[-2:] == ["earlier runs:", text] and len(texts) == len(spread.curves) + 2
    window.plots.forget_runs()
    assert not spread.kept and curve not in window.plots.spread_plot.getPlotItem().items
    assert len(spread.legend.items) == len(spread.curves)
