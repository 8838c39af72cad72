"""The plots' axes and run marks stay readable."""

import numpy as np

from guinn.gui.plots import nice_ceiling


def test_the_batch_axis_leaves_at_most_a_third_empty():
    assert nice_ceiling(3) == 10
    assert nice_ceiling(10_800) == 15_000  # 1-2-5 steps gave 20,000: half the plot blank
    assert nice_ceiling(2_343) == 2_500
    for last in (11, 99, 101, 1234, 10_001, 54_321, 99_999):
        right = nice_ceiling(last)
        assert last <= right and last / right > 2 / 3 - 1e-9


def test_run_labels_started_close_together_do_not_overlap(qtbot, window):
    plots = window.plots
    plots.mark_run(100, "Adam 0.001")
    plots.mark_run(104, "SGD 0.1")
    first, second = (line.label.orthoPos for widget, line in plots.run_marks if widget is plots.loss_plot)
    assert abs(first - second) > 0.09


def test_kept_runs_of_the_same_name_are_told_apart(qtbot, window):
    from tests.gui.test_main_window import Yes, _train

    for _ in range(3):
        _train(qtbot, window)
        window.ask.queue = [Yes]
        window.reset_weights()
    labels = [run["label"] for run in window.plots.kept_runs]
    assert labels == ["toy", "toy (2)", "toy (3)"]


def test_a_cleared_plot_goes_back_to_an_empty_plots_value_range(qtbot, window):
    """A diverged run's gradients (1e-3..1e12) kept their axis on the plots cleared for the
    next network."""
    from PySide6.QtCore import Qt

    plots = window.plots
    empty = [tuple(w.getPlotItem().getViewBox().viewRange()[1]) for w in (plots.gradient_plot, plots.gradient_bars)]
    with qtbot.waitSignal(window.trainingFinished, timeout=60_000):
        qtbot.mouseClick(window.start_button, Qt.MouseButton.LeftButton)
    plots.setCurrentIndex(1)
    plots.refresh(force=True)
    trained = [tuple(w.getPlotItem().getViewBox().viewRange()[1]) for w in (plots.gradient_plot, plots.gradient_bars)]
    assert trained[0] != empty[0] and trained[1] != empty[1]
    window._discard_model()
    cleared = [tuple(w.getPlotItem().getViewBox().viewRange()[1]) for w in (plots.gradient_plot, plots.gradient_bars)]
    assert cleared == empty


def test_the_smoothed_curve_covers_every_batch_without_lag():
    from guinn.gui.plots import moving_average

    x = np.arange(1, 1001, dtype=float)
    y = 2.0 - x / 1000  # a straight fall: a centred mean is the line itself, a trailing one lags it
    sx, sy = moving_average(x, y)
    assert len(sx) == len(x) and sx[0] == 1.0
    np.testing.assert_allclose(sy[10:-10], y[10:-10], rtol=1e-12)
    noisy = y + np.where(np.arange(1000) % 2, 0.5, -0.5)
    assert np.ptp(moving_average(x, noisy)[1][10:-10] - y[10:-10]) < 0.06  # the noise averaged away


def test_the_loss_and_accuracy_plots_number_the_epochs_along_the_top(qtbot, window):
    from PySide6.QtCore import Qt

    with qtbot.waitSignal(window.trainingFinished, timeout=60_000):
        qtbot.mouseClick(window.start_button, Qt.MouseButton.LeftButton)
    window.plots.setCurrentIndex(0)
    window.plots.refresh(force=True)
    ends = window.history.epochs.x()
    for plot in (window.plots.loss_plot, window.plots.accuracy_plot):
        ticks = plot.getPlotItem().getAxis("top")._tickLevels[0]
        assert ticks == [(float(x), str(i + 1)) for i, x in enumerate(ends)]  # each epoch's end, numbered


def test_many_epochs_are_numbered_every_2nd_5th_10th():
    from guinn.gui.plots import PlotsPanel

    panel = PlotsPanel.__new__(PlotsPanel)  # the numbering alone
    chosen = {}

    class Axis:
        def setTicks(self, levels):  # noqa: N802 (pyqtgraph's name)
            chosen["labels"] = [label for _, label in levels[0]]

        def setLabel(self, text):  # noqa: N802
            pass

    class Plot:
        def getPlotItem(self):  # noqa: N802
            return self

        def getAxis(self, name):  # noqa: N802
            return Axis()

    panel.loss_plot = panel.accuracy_plot = Plot()
    panel._epoch_ticks = None
    panel._show_epochs(np.arange(1, 61) * 25.0, 1)
    assert chosen["labels"] == [str(n) for n in range(5, 61, 5)]
    panel._show_epochs(np.arange(1, 301) * 25.0, 1)
    assert chosen["labels"] == [str(n) for n in range(50, 301, 50)]
    panel._show_epochs(np.arange(1, 4) * 25.0, 1, last=5)  # an opened model's epochs 3 to 5
    assert chosen["labels"] == ["3", "4", "5"]
    panel._show_epochs(np.arange(1, 513) * 50.0, 2, last=1025)  # rows of 2 epochs' means: no ends to mark
    assert chosen["labels"] == []
