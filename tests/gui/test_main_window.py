"""The real window, offscreen: build a network with the widgets, train through the worker,
pause/resume/stop/step, close while training, files, and the error paths."""

import types

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QListView,
    QMessageBox,
    QProgressBar,
    QTabBar,
)

from guinn.core import optimizers
from guinn.core.specs import LayerSpec
from guinn.experiment import Experiment
from guinn.gui.file_actions import DEFAULT_TITLE
from guinn.gui.plain import tooltip
from guinn.gui.settings_panel import select_data
from guinn.gui.tint import TINT
from tests.gui.conftest import SMALL_MNIST, TOY

Yes = QMessageBox.StandardButton.Yes


def _train(qtbot, window, timeout=60_000):
    with qtbot.waitSignal(window.trainingFinished, timeout=timeout) as blocker:
        qtbot.mouseClick(window.start_button, Qt.MouseButton.LeftButton)
    return blocker.args[0]


def test_object_names_and_defaults(qtbot, make_window):
    window = make_window(None, wait=False)  # the default: the MNIST example network
    assert isinstance(window.findChild(QListView, "layerStack"), QListView)
    for name in ("startButton", "pauseButton", "stopButton"):
        assert isinstance(window.findChild(QAbstractButton, name), QAbstractButton)
    assert isinstance(window.findChild(QProgressBar, "progressBar"), QProgressBar)
    for name in ("gradientPlot", "lossPlot"):
        assert isinstance(window.findChild(pg.PlotWidget, name), pg.PlotWidget)
    assert [s.units for s in window.layers.specs()] == [500, 500]
    exp, default = window.experiment(), Experiment()
    assert exp.with_changes(optimizer=default.optimizer) == default
    assert (
        optimizers.get(exp.optimizer).to_config() == optimizers.get(default.optimizer).to_config()
    )
    assert window.start_button.isEnabled()
    assert "648,010" in window.layer_panel.total_label.text()
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=60_000)
    assert window.dataset.input_dim == 784


def test_every_control_explains_itself(window):
    pad = window._drawing_pad
    missing = []
    for kind in (QAbstractButton, QAbstractSpinBox, QComboBox):
        for widget in window.findChildren(kind):
            if pad is not None and pad.isAncestorOf(widget):
                continue
            if isinstance(widget.parent(), QTabBar) or widget.objectName().startswith("qt_"):
                continue  # Qt's own scroll arrows and internals
            if not widget.toolTip():
                missing.append(widget.objectName())
    missing += [window.plots.tabText(i) for i in range(window.plots.count()) if not window.plots.tabToolTip(i)]
    assert not missing
    # Qt puts an out-of-range entry back silently: each number box's tooltip gives its range
    assert [w.objectName() for w in window.findChildren(QAbstractSpinBox) if "Allowed: " not in w.toolTip()] == []
    assert "Allowed: 1e-06 to 10." in window.settings.learning_rate.toolTip()
    window.dataset_panel.set_spec({"kind": "mnist", "limit": 500}, emit=False)  # the range follows the data
    assert window.dataset_panel.samples.toolTip().endswith("Allowed: 10 to 60000.")
    window.dataset_panel.set_spec({"kind": "toy", "name": "blobs", "n_samples": 300}, emit=False)
    assert window.dataset_panel.samples.toolTip().endswith("Allowed: 10 to 100000.")


def test_build_a_network_with_the_widgets(qtbot, window):
    panel = window.layer_panel
    panel.select(0)
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.duplicate_button, Qt.MouseButton.LeftButton)
    assert window.layers.rowCount() == 3
    panel.units.setValue(40)
    panel.activation.setCurrentIndex(panel.activation.findData("leaky_relu"))
    assert panel.alpha.isVisibleTo(panel)
    panel.alpha.setValue(0.1)
    panel.dropout.setValue(0.25)
    panel.l2.setValue(1e-4)
    spec = window.layers.spec(2)
    assert (spec.units, spec.activation, spec.alpha, spec.dropout, spec.l2) == (
        40,
        "leaky_relu",
        0.1,
        0.25,
        1e-4,
    )
    qtbot.mouseClick(panel.up_button, Qt.MouseButton.LeftButton)
    assert window.layers.spec(1) == spec and panel.current_row() == 1
    panel.activation.setCurrentIndex(panel.activation.findData("maxout"))
    assert panel.pieces.isVisibleTo(panel) and not panel.alpha.isVisibleTo(panel)
    panel.pieces.setValue(3)
    assert window.layers.spec(1).pieces == 3
    qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    assert window.layers.rowCount() == 2
    # the spin boxes cannot hold invalid values
    panel.units.setValue(0)
    assert panel.units.value() == 1
    panel.dropout.setValue(2.0)
    assert panel.dropout.value() == 0.95
    for typed, shown in (("6e-9", 1e-8), ("1e-9", 0.0), ("3e-5", 3e-5)):  # typed past the box's 8 decimals
        panel.l1.lineEdit().selectAll()
        qtbot.keyClicks(panel.l1.lineEdit(), typed)
        panel.l1.interpretText()
        assert panel.l1.value() == pytest.approx(shown, abs=1e-12)
        assert window.layers.spec(panel.current_row()).l1 == panel.l1.value()  # the card uses what is shown
    assert (
        window.layers.total_params()
        == window.experiment().build_model(window.dataset).count_params()
    )


def test_train_a_small_run_to_completion(qtbot, window):
    outcome = _train(qtbot, window)
    assert outcome.error is None and not outcome.stopped_by_user
    assert outcome.epochs_done == TOY.epochs
    assert not window.is_training()
    assert window.progress.value() == window.progress.maximum()
    assert window.history.epochs_done == TOY.epochs
    curves = window.plots.gradient_plot.getPlotItem().listDataItems()
    assert len(curves) == 2  # one per trainable layer
    assert all(len(c.yData) > 0 for c in curves)
    assert len(window.plots.loss_plot.getPlotItem().listDataItems()[0].yData) == outcome.batches
    assert "loss" in window.metrics_label.text()
    # Start again continues from the trained weights
    weights = window.model.get_flat_weights()
    model = window.model
    _train(qtbot, window)
    assert window.model is model and not np.array_equal(weights, model.get_flat_weights())


def test_pause_resume_step_and_stop(qtbot, make_window):
    window = make_window(SMALL_MNIST.with_changes(epochs=5000, batch_size=10))
    qtbot.mouseClick(window.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.history.step >= 3, timeout=60_000)
    with qtbot.waitSignal(window.pausedChanged, timeout=30_000):
        qtbot.mouseClick(window.pause_button, Qt.MouseButton.LeftButton)
    assert window.pause_button.text() == "Resume"
    paused_at = window.history.step
    qtbot.wait(200)
    assert window.history.step == paused_at  # really paused
    qtbot.mouseClick(window.step_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.history.step == paused_at + 1, timeout=30_000)
    qtbot.wait(100)
    assert window.history.step == paused_at + 1
    qtbot.mouseClick(window.pause_button, Qt.MouseButton.LeftButton)  # resume
    qtbot.waitUntil(lambda: window.history.step > paused_at + 3, timeout=30_000)
    with qtbot.waitSignal(window.trainingFinished, timeout=60_000) as blocker:
        qtbot.mouseClick(window.stop_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].stopped_by_user
    assert window.model is not None and window._trained
    assert window.start_button.isEnabled() and not window.stop_button.isEnabled()


def test_step_from_idle_runs_one_batch(qtbot, window):
    qtbot.mouseClick(window.step_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.history.step == 1, timeout=30_000)
    qtbot.wait(100)
    assert window.history.step == 1 and window.is_training()
    window.plots.refresh(force=True)
    per_batch = window.plots._metric_curves["loss"][0]
    assert per_batch.opts["symbol"] == "o"  # one point: drawn as a dot, since a line through it shows nothing
    assert all(curve.opts["symbol"] == "o" for curve in window.plots.layer_curves[0].curves)
    with qtbot.waitSignal(window.trainingFinished, timeout=30_000):
        window.stop_training()
    _train(qtbot, window)
    window.plots.refresh(force=True)
    assert per_batch.opts["symbol"] is None  # many points: a line again


def test_close_while_training_stops_and_offers_to_save(qtbot, make_window):
    window = make_window(SMALL_MNIST.with_changes(epochs=5000, batch_size=10))
    window.start_training()
    qtbot.waitUntil(lambda: window.history.step >= 5, timeout=60_000)
    thread = window._thread
    window.close()
    assert not window.isVisible()
    assert window._thread is None and not thread.isRunning()
    assert window.ask.asked == ["Save the trained model?"]


def test_cancelling_close_while_training_lets_training_carry_on(qtbot, make_window):
    window = make_window(SMALL_MNIST.with_changes(epochs=5000, batch_size=10))
    window.start_training()
    qtbot.waitUntil(lambda: window.history.step >= 5, timeout=60_000)
    window.ask.queue = [QMessageBox.StandardButton.Cancel]
    window.close()
    assert window.isVisible() and window.is_training() and not window._control.paused
    assert window.ask.asked == ["Save the trained model?"]
    step = window.history.step
    qtbot.waitUntil(lambda: window.history.step > step + 5, timeout=60_000)  # still learning
    assert window.stop_button.isEnabled() and not window.start_button.isEnabled()
    with qtbot.waitSignal(window.pausedChanged, timeout=30_000):
        window.toggle_pause()
    assert window.pause_button.text() == "Resume"
    assert window.pause_button.shortcut().toString() == "Ctrl+P"  # setText must not drop it
    window.ask.queue = [QMessageBox.StandardButton.Cancel]
    window.close()
    assert window.is_training() and window._control.paused  # paused before, paused after
    with qtbot.waitSignal(window.trainingFinished, timeout=30_000):
        window.stop_training()


def test_close_can_be_cancelled_and_keeps_the_weights(qtbot, window):
    _train(qtbot, window)
    weights = window.model.get_flat_weights()
    window.ask.queue = [QMessageBox.StandardButton.Cancel]
    window.close()
    assert window.isVisible()
    np.testing.assert_array_equal(window.model.get_flat_weights(), weights)


def test_changing_the_architecture_asks_before_discarding(qtbot, window):
    _train(qtbot, window)
    model = window.model
    window.ask.queue = [QMessageBox.StandardButton.No]
    window.layer_panel.select(0)
    window.layer_panel.units.setValue(99)
    assert window.ask.asked[-1] == "Discard the trained model?"
    assert window.model is model and window.layers.spec(0).units == 16
    assert window.layer_panel.units.value() == 16  # the editor shows the truth again
    window.ask.queue = [Yes]
    window.layer_panel.units.setValue(99)
    assert window.model is None and window.layers.spec(0).units == 99


def test_file_dialogs_pick_the_path_or_cancel(qtbot, window, tmp_path, monkeypatch):
    """Without a path the actions ask a file dialog; cancelling it changes nothing."""
    from PySide6.QtWidgets import QFileDialog

    picked = {"save": "", "open": ""}
    asked = []

    def dialog(kind):
        def ask(parent, title, default, filters):
            asked.append((kind, title))
            return picked[kind], filters
        return ask

    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog("save"))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", dialog("open"))
    assert not window.save_experiment() and not window.open_experiment()
    picked["save"] = picked["open"] = str(tmp_path / "picked.json")
    window.settings.epochs.setValue(5)
    assert window.save_experiment()
    window.settings.epochs.setValue(2)
    assert window.open_experiment() and window.settings.epochs.value() == 5
    save_title = "Save experiment (the setup; Save model keeps trained weights)"
    assert asked == [("save", save_title), ("open", "Open experiment")] * 2


def test_experiment_files_round_trip(qtbot, window, tmp_path):
    window.settings.epochs.setValue(7)
    window.layer_panel.add_layer()
    path = tmp_path / "exp.json"
    assert window.save_experiment(str(path))
    saved = Experiment.load(path)
    assert saved.epochs == 7 and len(saved.layers) == 2
    # a network of the user's own is no longer the example it started from: named after its file
    assert (saved.title, saved.description) == ("exp", "") and window.windowTitle() == "guinn — exp"
    window.settings.epochs.setValue(9)  # changed again: named after its new file
    assert window.save_experiment(str(tmp_path / "again.json"))
    assert Experiment.load(tmp_path / "again.json").title == "again"
    assert window.save_experiment(str(tmp_path / "same.json"))  # unchanged since: keeps its title
    assert Experiment.load(tmp_path / "same.json").title == "again"
    other = TOY.with_changes(
        epochs=2, optimizer={"name": "sgd", "learning_rate": 0.05, "momentum": 0.9}
    )
    other.save(path)
    assert window.open_experiment(str(path))
    assert window.experiment().epochs == 2
    assert window.settings.momentum.isVisibleTo(window.settings)
    assert window.experiment().optimizer["momentum"] == 0.9


def test_bad_experiment_file_is_a_message(window, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert not window.open_experiment(str(bad))
    assert "not valid JSON" in window.banner.text()


def test_model_save_and_load(qtbot, window, tmp_path):
    pytest.importorskip("guinn.io.model_file")
    _train(qtbot, window)
    weights = window.model.get_flat_weights()
    path = tmp_path / "m.safetensors"
    assert window.save_model(str(path))
    assert not window._dirty
    assert "loss" in window.metrics_label.text()
    window.reset_weights()
    assert not np.array_equal(weights, window.model.get_flat_weights())
    assert "loss" not in window.metrics_label.text()  # the old run's figures went with its weights
    assert not window.open_model(str(tmp_path / "missing.safetensors"))
    assert window.banner.kind == "error"
    assert window.open_model(str(path))
    assert window.banner.isHidden()  # the failed open's error is put right
    assert "Trained model m.safetensors loaded (after 3 epochs: val_accuracy" in window.metrics_label.text()
    assert "draw on the pad" not in window.metrics_label.text()  # a toy model: the pad reads digits only
    assert window.windowTitle() == "guinn — m.safetensors"
    np.testing.assert_array_equal(window.model.get_flat_weights(), weights)
    assert [s.units for s in window.layers.specs()] == [16]
    steps = window.model.optimizer.iterations
    assert window.history.step == steps and len(window.history.epochs) == 3  # its stored epochs, plotted
    notes = window.plots.empty_notes  # the per-batch plots say why they are empty
    assert notes and all(not n.isHidden() and "Model files keep only" in n.text() for n in notes)
    assert window.plots._loss_note.isHidden()  # the loss plot has the stored epochs
    _, val = window.plots._metric_curves["loss"][3].getData()
    np.testing.assert_allclose(val, window.model.history.history["val_loss"])
    _train(qtbot, window)  # a loaded model trains on, its curves after the stored ones
    assert len(window.history.epochs) == 6 and window.history.batches.x()[0] == steps + 1
    assert all(n.isHidden() for n in notes)
    assert [line.value() for _, line in window.plots.run_marks[:1]] == [steps]


@pytest.mark.parametrize("language", ["German", "C", "Arabic"])
def test_a_decimal_comma_is_a_decimal_separator_in_scientific_boxes(qtbot, language):
    """Typing '0,01' into the learning rate used to drop the comma and train at 1.0."""
    from PySide6.QtCore import QLocale
    from PySide6.QtGui import QValidator

    from guinn.gui.layer_panel import dspin

    box = dspin("learningRateSpin", 1e-6, 10.0, 8, 1e-4, "tip", sci=True)
    box.setLocale(QLocale(getattr(QLocale.Language, language)))
    qtbot.addWidget(box)
    for typed, value in (("0,01", 0.01), ("0.002", 0.002), ("3e-5", 3e-5), ("2,5e-3", 0.0025)):
        box.lineEdit().selectAll()
        qtbot.keyClicks(box.lineEdit(), typed)
        box.interpretText()
        assert box.value() == pytest.approx(value, abs=1e-12), typed
    box.setValue(0.05)
    point = box.locale().decimalPoint()
    assert box.text() == f"0{point}05"  # the locale's separator, as Qt's boxes
    assert box.validate(box.text(), 0)[0] == QValidator.State.Acceptable  # and it reads what it shows


def test_a_model_for_other_data_gets_a_way_out(qtbot, window, tmp_path):
    """A model file for MNIST opened over the toy set: Start says what does not match, and
    choosing MNIST keeps the opened model instead of asking to discard it."""
    from guinn.layers import Dense
    from guinn.models import Sequential

    api = Sequential([Dense(16, activation="relu", input_dim=784), Dense(10, activation="softmax")], seed=2)
    api.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    api.build()
    path = tmp_path / "mnist.safetensors"
    api.save(path)
    assert window.open_model(str(path))
    assert not window.start_training()
    assert "takes 784 inputs and 10 classes, but the dataset has 2 and 3" in window.banner.text()
    window.ask.queue = [Yes]
    window.reset_weights()  # a network shaped for this dataset: the complaint goes
    assert window.banner.isHidden() and window._model_fits((2, 3))
    assert window.open_model(str(path))
    asked = len(window.ask.asked)
    with qtbot.waitSignal(window.datasetReady, timeout=30_000):
        window.dataset_panel.use({"kind": "mnist", "limit": 300, "test_limit": 100})
    assert len(window.ask.asked) == asked  # nothing to discard: the model fits the new data
    np.testing.assert_array_equal(window.model.get_flat_weights(), api.get_flat_weights())
    assert _train(qtbot, window).epochs_done == TOY.epochs
    with qtbot.waitSignal(window.datasetReady, timeout=30_000):  # more samples: the trained model stays too
        window.dataset_panel.use({"kind": "mnist", "limit": 400, "test_limit": 100})
    assert len(window.ask.asked) == asked and window._trained


def test_other_data_of_the_same_shape_asks_before_the_network_goes(qtbot, window):
    _train(qtbot, window)  # blobs: 2 inputs, 3 classes
    window.dataset_panel.use({"kind": "toy", "name": "spiral", "n_samples": 300})  # 2 and 3 too, other data
    assert window.ask.asked[-1] == "Discard the trained model?" and window._trained  # answered No: kept


def test_bad_csv_is_reported(qtbot, window, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\n1,2,x\n3,oops,y\n")
    with qtbot.waitSignal(window.datasetFailed, timeout=30_000) as blocker:
        window.dataset_panel.use({"kind": "csv", "path": str(bad), "label_column": "label"})
    assert blocker.args[0]
    assert not window.banner.isHidden() and window.banner.kind == "error"
    view = window.dataset_view  # the Dataset tab says so too, instead of "Loading…" over the old samples
    assert view.title.text().startswith("The dataset could not be loaded:")
    assert view.stack.currentWidget() is view.nothing
    assert not window.start_training()  # nothing to train on, and said so
    assert "dataset" in window.banner.text().lower()
    with qtbot.waitSignal(window.datasetReady, timeout=30_000):  # the data loaded before: loaded again
        window.dataset_panel.use(dict(TOY.dataset))
    assert window.dataset is not None and window.dataset.input_dim == 2
    good = tmp_path / "good.csv"
    good.write_text("a,b,label\n" + "".join(f"{i},{i % 3},{'xy'[i % 2]}\n" for i in range(20)))
    with qtbot.waitSignal(window.datasetReady, timeout=30_000):
        window.dataset_panel.use({"kind": "csv", "path": str(good), "label_column": "label"})
    assert window.banner.isHidden()  # the error it put right is gone


def test_good_csv_trains(qtbot, window, tmp_path):
    rng = np.random.default_rng(0)
    rows = ["f1,f2,f3,label"] + [
        f"{a:.3f},{b:.3f},{a + b:.3f},{'pos' if a + b > 0 else 'neg'}"
        for a, b in rng.normal(size=(120, 2))
    ]
    path = tmp_path / "good.csv"
    path.write_text("\n".join(rows) + "\n")
    with qtbot.waitSignal(window.datasetReady, timeout=30_000):
        window.dataset_panel.use({"kind": "csv", "path": str(path), "label_column": "label"})
    assert window.layers.input_dim == 3 and window.layers.n_classes == 2
    outcome = _train(qtbot, window)
    assert outcome.error is None


def test_divergence_to_nan_keeps_the_weights(qtbot, make_window):
    exp = TOY.with_changes(
        optimizer={"name": "sgd", "learning_rate": 10.0},
        epochs=50,
        layers=(LayerSpec(64, "relu"), LayerSpec(64, "relu"), LayerSpec(64, "relu")),
        dataset={"kind": "toy", "name": "blobs", "n_samples": 300, "noise": 50.0},
    )
    window = make_window(exp)
    outcome = _train(qtbot, window)
    assert outcome.stop_reason and "learning rate" in outcome.stop_reason
    assert window.banner.kind == "error" and "learning rate" in window.banner.text()
    assert window.banner.text().count("Likely cause") == 1  # said once, though the loss first grew, then overflowed
    assert np.isfinite(window.model.get_flat_weights()).all()
    # the log-scale plots never receive NaN/Inf or values below the floor
    for curve in window.plots.gradient_plot.getPlotItem().listDataItems():
        assert np.isfinite(curve.yData).all() and (curve.yData >= 1e-12).all()


def test_impossible_settings_are_a_message(qtbot, make_window):
    window = make_window(
        TOY.with_changes(
            dataset={"kind": "toy", "name": "xor", "n_samples": 10}, validation_split=0.9
        )
    )
    assert not window.start_training()
    assert window.banner.kind == "error" and "A validation split of 0.9 leaves no samples" in window.banner.text()
    assert "validation_split" not in window.banner.text()  # the settings' words, not fit's argument
    assert not window.is_training()


def test_presets_menu_loads_and_explains(qtbot, window):
    if not window.presets:
        pytest.skip("no presets shipped in this checkout")
    actions = [a for a in window.presets_menu.actions() if a.text()]
    assert len(actions) == len(window.presets)
    preset = window.presets[0]
    assert window.load_preset(preset)
    assert (
        not window.banner.isHidden()
        and window.experiment().title == Experiment.load(preset.path).title
    )
    text = window.banner.text()
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=60_000)
    window.start_training(paused=True)  # one batch
    assert not window.banner.isHidden() and window.banner.text() == text  # what to watch stays up
    assert window.presets_menu.isEnabled()  # a greyed-out menu said nothing of why
    assert not window.load_preset(window.presets[1])
    assert window.banner.text() == text  # the running lesson's explanation stays up
    assert "Stop training (Ctrl+.) before loading the preset" in window.statusBar().currentMessage()
    window.banner.hide()
    assert not window.load_preset(window.presets[1])
    assert window.banner.kind == "error" and "Stop training (Ctrl+.) before loading the preset" in window.banner.text()
    assert window.is_training() and window.experiment().title == Experiment.load(preset.path).title
    with qtbot.waitSignal(window.trainingFinished, timeout=60_000):
        window.stop_training()


def test_a_presets_explanation_opens_shortened_on_a_small_window(qtbot, window):
    preset = _find_preset(window, "mnist_augmented")
    if preset is None:
        pytest.skip("no presets shipped in this checkout")
    whole = Experiment.load(preset.path).description
    window.resize(1180, 700)  # the minimum size: the whole text took ~250 px from the plots
    assert window.load_preset(preset)
    shown = window.banner.text()
    assert shown.endswith('<a href="more">More…</a>') and whole[:60] in shown and whole[-40:] not in shown
    window.banner._toggle("more")  # the link
    assert whole[-40:] in window.banner.text() and window.banner.text().endswith('<a href="less">Less</a>')
    window.banner._toggle("less")
    assert window.banner.text() == shown
    window.resize(1480, 900)
    assert window.load_preset(preset)
    assert whole[-40:] in window.banner.text() and "More…" not in window.banner.text()  # room for it all


def test_the_window_title_says_when_the_network_is_no_longer_the_presets(qtbot, window):
    preset = _find_preset(window, "deep_relu")
    if preset is None:
        pytest.skip("no presets shipped in this checkout")
    assert window.load_preset(preset)
    title = window.windowTitle()
    specs = window.layers.specs()
    window.layer_panel.select(0)
    window.layer_panel.remove_layer()
    assert window.windowTitle() == f"{title} (network changed)" and not window.banner.isHidden()
    window.layers.set_specs(specs)  # the preset's network again
    assert window.windowTitle() == title
    window.leave_preset()
    window.layer_panel.remove_layer()
    assert window.windowTitle() == DEFAULT_TITLE  # no preset named: nothing to say


def _find_preset(window, stem):
    for preset in window.presets:
        if preset.path.stem == stem:
            return preset
    return None


def _first_batches_gradient_ratio(qtbot, window, stem, fallback_activation):
    preset = _find_preset(window, stem)
    if preset is not None:
        assert window.load_preset(preset)
    else:
        window.apply_experiment(
            Experiment(
                layers=tuple(LayerSpec(64, fallback_activation) for _ in range(8)),
                optimizer={"name": "sgd", "learning_rate": 0.1},
                batch_size=32,
            )
        )
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=60_000)
    window.start_training()
    qtbot.waitUntil(lambda: window.history.step >= 100, timeout=120_000)
    with qtbot.waitSignal(window.trainingFinished, timeout=60_000):
        window.stop_training()
    curves = window.plots.gradient_plot.getPlotItem().listDataItems()
    assert len(curves) == 9  # 8 hidden layers and the output, input to output
    first, last = curves[0], curves[-1]
    n = min(100, len(first.yData))
    return float(np.median(last.yData[:n]) / np.median(first.yData[:n]))


def test_deep_sigmoid_gradients_vanish_and_relu_twin_does_not(qtbot, make_window):
    window = make_window(SMALL_MNIST)
    sigmoid = _first_batches_gradient_ratio(qtbot, window, "deep_sigmoid", "sigmoid")
    window.ask.queue = [Yes]
    relu = _first_batches_gradient_ratio(qtbot, window, "deep_relu", "relu")
    print(f"last/first layer gradient RMS (first 100 batches): {sigmoid=:.3g} {relu=:.3g}")
    assert sigmoid > 1000, sigmoid  # orders of magnitude
    assert relu < 100, relu


def test_drawing_pad_tab_follows_the_model(qtbot, make_window):
    window = make_window(SMALL_MNIST.with_changes(epochs=1))
    pad = window._drawing_pad
    if pad is None:
        pytest.skip("this build has no drawing pad")
    assert window.plots.indexOf(pad) >= 0 and pad.objectName() == "drawingPad"
    calls = []
    pad.set_model = lambda *args: calls.append(args)
    _train(qtbot, window)
    assert calls[-1][0] is window.model and calls[-1][1] == (28, 28)
    window.ask.queue = [Yes]
    window.layer_panel.units.setValue(5)  # discards the model
    assert calls[-1] == (None, None, None)


def test_hours_of_training_keep_memory_bounded(window):
    from guinn.core.telemetry import BatchTelemetry, LayerTelemetry

    layers = tuple(LayerTelemetry(f"dense_{i}", 1e-3, 1e-3, 0.1, 1e-3, 0.2) for i in range(3))
    for step in range(50_000):
        window.history.add_batch(BatchTelemetry(0, step, step, 0.5, 0.5, layers))
    window.plots.refresh(force=True)
    curves = window.plots.gradient_plot.getPlotItem().listDataItems()
    assert all(len(c.yData) <= window.history.capacity for c in curves)
    assert window.history.batches._y.nbytes < 1_000_000


def test_settings_the_dataset_cannot_support_are_flagged_in_place(qtbot, make_window):
    window = make_window(TOY.with_changes(dataset={"kind": "toy", "name": "xor", "n_samples": 10}))
    split = window.settings.validation_split
    clean = split.palette().color(QPalette.ColorRole.Base)
    split.setValue(0.9)
    assert any("leaves no samples" in p for p in window._check_settings())
    assert split.property("problem") and split.palette().color(QPalette.ColorRole.Base) == TINT
    assert split.buttonSymbols() == QAbstractSpinBox.ButtonSymbols.UpDownArrows and not split.styleSheet()
    split.setValue(0.2)
    assert split.palette().color(QPalette.ColorRole.Base) == clean
    window.settings.batch_size.setValue(500)
    assert window.settings.batch_size.property("problem")
    assert "larger than" in window.settings.batch_size.toolTip()
    window.settings.batch_size.setValue(2)
    assert not window.settings.batch_size.property("problem")


def test_early_stopping_without_validation_data_is_flagged_before_the_run(qtbot, make_window):
    window = make_window(TOY.with_changes(validation_split=0.0, epochs=2))
    settings = window.settings
    settings.early.setChecked(True)  # watches val_loss by default
    assert settings.monitor.property("problem") and "validation split above 0" in settings.monitor.toolTip()
    with qtbot.waitSignal(window.trainingFinished, timeout=60_000):
        window.start_training()
        assert window.banner.kind == "warning" and "It will not stop this run" in window.banner.text()
    settings.monitor.setCurrentIndex(settings.monitor.findData("val_loss"))
    window.show_info("<b>Preset</b><br>what to watch", "preset", rich=True)
    with qtbot.waitSignal(window.trainingFinished, timeout=60_000):
        window.start_training()
        assert "what to watch" in window.banner.text()  # a preset's explanation stays; the warning goes below
        assert "It will not stop this run" in window.statusBar().currentMessage()
    settings.monitor.setCurrentIndex(settings.monitor.findData("loss"))
    assert not settings.monitor.property("problem")
    window.banner.hide()
    _train(qtbot, window)
    assert window.banner.isHidden()  # the earlier run's note went when this one started


def test_a_presets_explanation_stays_up_through_its_runs(qtbot, make_window):
    window = make_window(TOY)
    window.show_info("<b>Preset</b><br>what to watch", "preset", rich=True)
    _train(qtbot, window)
    assert window.banner.kind == "preset" and "what to watch" in window.banner.text()


def test_changing_the_dataset_asks_and_can_be_refused(qtbot, window):
    assert window.layer_panel.view.dragDropMode() == QListView.DragDropMode.InternalMove
    _train(qtbot, window)
    model, combo = window.model, window.dataset_panel.combo
    window.ask.queue = [QMessageBox.StandardButton.No]
    combo.setCurrentIndex(combo.findText("Toy 2-D: moons"))
    assert window.ask.asked[-1] == "Discard the trained model?"
    assert window.model is model and window.dataset_panel.spec()["name"] == "blobs"
    assert combo.currentText() == "Toy 2-D: blobs"
    window.ask.queue = [Yes]
    with qtbot.waitSignal(window.datasetReady, timeout=30_000):
        combo.setCurrentIndex(combo.findText("Toy 2-D: moons"))
    assert window.model is None and window.dataset.name.startswith("moons")
    assert window.layers.n_classes == 2
    assert window.dataset_view.stack.currentWidget() is window.dataset_view.scatter


def test_early_stopping_is_reported(qtbot, make_window):
    from guinn.experiment import EarlyStoppingSpec

    es = EarlyStoppingSpec(enabled=True, monitor="val_loss", patience=0)
    window = make_window(
        TOY.with_changes(
            epochs=200, early_stopping=es, optimizer={"name": "adam", "learning_rate": 0.05}
        )
    )
    assert window.settings.early.isChecked() and window.settings.patience.value() == 0
    outcome = _train(qtbot, window)
    assert outcome.epochs_done < 200
    assert any("EarlyStopping" in m for m in outcome.messages)
    assert "EarlyStopping" in window.banner.text()
    from guinn.gui.main_window import _metric

    restored = outcome.epochs_done - 2  # patience 0: the epoch before the last
    assert window._run_callbacks == []  # early stopping (the model, a copy of its weights) let go
    val_loss = window.history.epoch_column("val_loss")[restored]
    shown = window.metrics_label.text()  # the figures of the weights the model has now
    assert shown.startswith(f"Epoch {restored + 1}'s weights, restored") and f"val_loss {_metric(val_loss)}" in shown


def test_start_before_the_dataset_is_loaded_waits_for_it(qtbot, make_window):
    window = make_window(TOY, wait=False)
    with qtbot.waitSignal(window.trainingFinished, timeout=60_000) as blocker:
        assert window.start_training()
    assert blocker.args[0].epochs_done == TOY.epochs


def test_close_while_paused(qtbot, make_window):
    window = make_window(SMALL_MNIST.with_changes(epochs=100))
    with qtbot.waitSignal(window.pausedChanged, timeout=30_000):
        window.step()
    window.close()
    assert window._thread is None and not window.isVisible()


def test_every_tab_can_be_shown_while_training(qtbot, make_window):
    window = make_window(SMALL_MNIST.with_changes(epochs=5000, batch_size=10))
    window.start_training()
    for i in range(window.plots.count()):
        window.plots.setCurrentIndex(i)
        n = window.history.step
        qtbot.waitUntil(lambda n=n: window.history.step > n + 2, timeout=30_000)
        qtbot.wait(60)  # at least one redraw tick on this tab
    with qtbot.waitSignal(window.trainingFinished, timeout=30_000):
        window.stop_training()


@pytest.mark.slow
def test_the_mnist_example_learns_in_the_window(qtbot, make_window):
    window = make_window(Experiment(epochs=1))
    outcome = _train(qtbot, window, timeout=600_000)
    assert outcome.epochs_done == 1
    assert window.history.epoch_column("val_accuracy")[-1] > 0.9


def test_a_bad_model_file_keeps_the_trained_model(qtbot, window, tmp_path):
    pytest.importorskip("guinn.io.model_file")
    _train(qtbot, window)
    model, weights = window.model, window.model.get_flat_weights()
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00\x01 not a model")
    assert not window.open_model(str(bad))
    assert window.banner.kind == "error" and "model" in window.banner.text().lower()
    assert window.model is model
    np.testing.assert_array_equal(model.get_flat_weights(), weights)
    assert not window.open_model(str(tmp_path / "missing.safetensors"))
    assert window.model is model


def test_a_prelu_card_is_one_line_per_plot(qtbot, make_window):
    window = make_window(TOY.with_changes(layers=(LayerSpec(16, "prelu"), LayerSpec(8, "relu")), epochs=1))
    expected = ["1. dense_1 (PReLU)", "2. dense_2", "3. dense_3 (output)"]
    with qtbot.waitSignal(window.trainingFinished, timeout=60_000) as blocker:
        assert window.start_training()
        # the curves are laid out before the worker runs, under the names the records will get
        names = [c.name() for c in window.plots.gradient_plot.getPlotItem().listDataItems()]
        assert names == expected
    assert blocker.args[0].error is None
    assert window.history.step == blocker.args[0].batches  # the history was not reset midway
    window.plots.refresh(force=True)
    for plot in (
        window.plots.gradient_plot,
        window.plots.weight_plot,
        window.plots.ratio_plot,
        window.plots.saturation_plot,
    ):
        curves = plot.getPlotItem().listDataItems()
        assert [c.name() for c in curves] == expected, plot.objectName()
    dead = window.plots.saturation_plot.getPlotItem().listDataItems()[0].yData
    assert len(dead) and np.all((dead >= 0) & (dead <= 1))  # PReLU's dead fraction, on its card
    assert len(window.plots._bars.opts["height"]) == 3


def test_no_side_pane_is_narrower_than_its_content_at_the_minimum_size(qtbot):
    """At the smallest window size every control in the side panes is fully visible (no clipping)."""
    from PySide6.QtWidgets import QScrollArea

    from guinn.gui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(window.minimumSize())
    window.show()
    qtbot.waitExposed(window)
    panes = [w for w in window.findChildren(QScrollArea) if w.parent() is window.centralWidget()]
    assert len(panes) == 2
    for pane in panes:
        assert pane.viewport().width() >= pane.widget().minimumSizeHint().width()


def test_dropout_and_penalty_edits_keep_the_trained_weights(qtbot, window):
    """Dropout, L1 and L2 change no weight's shape: the trained network is carried over, not discarded."""
    _train(qtbot, window)
    before = window.model.get_weights()
    iterations = window.model.optimizer.iterations
    asked = len(window.ask.asked)
    window.layer_panel.select(0)
    window.layer_panel.dropout.setValue(0.25)
    assert len(window.ask.asked) == asked  # nothing to confirm
    assert window.layers.spec(0).dropout == 0.25
    assert any(layer.type_name == "Dropout" for layer in window.model.layers)
    for a, b in zip(window.model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)
    assert window.model.optimizer.iterations == iterations
    outcome = _train(qtbot, window)  # training goes on from the carried-over weights, with dropout
    assert outcome.error is None and window.model.optimizer.iterations > iterations
    window.layer_panel.units.setValue(99)  # a shape change still asks
    assert window.ask.asked[-1] == "Discard the trained model?"


def test_csv_export_with_semicolons_loads_through_the_dialogs(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog, QInputDialog

    path = tmp_path / "semicolon.csv"
    rows = [f"{i % 7};{(i * 3) % 5};{'a' if i % 2 else 'b'}" for i in range(40)]
    path.write_text("x1;x2;label\n" + "\n".join(rows) + "\n")
    offered = []

    def pick(parent, title, label, items, current, editable):
        offered.append(list(items))
        return items[current], True

    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    monkeypatch.setattr(QInputDialog, "getItem", pick)
    spec = window.dataset_panel.ask_csv()
    assert offered == [["x1", "x2", "label"]] and spec["label_column"] == "label"
    window.dataset_panel.use(spec)
    qtbot.waitUntil(lambda: window.dataset is not None and window.dataset.input_dim == 2, timeout=30_000)
    assert window.dataset.class_names == ("a", "b")


def test_export_onnx_from_the_file_menu(qtbot, window, tmp_path, monkeypatch):
    ort = pytest.importorskip("onnxruntime")
    from PySide6.QtWidgets import QFileDialog

    assert not window.export_onnx(str(tmp_path / "early.onnx"))  # nothing trained yet
    assert "no model to export" in window.banner.text()
    _train(qtbot, window)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "digits"), ""))
    action = next(a for a in window.menuBar().actions()[0].menu().actions() if a.text() == "Export as ONNX…")
    action.trigger()
    path = tmp_path / "digits.onnx"  # the dialog's name got the format's extension
    assert path.is_file() and window.banner.isHidden()
    x = window.dataset.x_test[:5].astype(np.float32)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, {"input": x})[0], window.model.predict(x), atol=1e-5)


def test_a_csv_trained_models_export_scales_raw_features(qtbot, window, tmp_path):
    """Trained in the window on a CSV file, the network learnt standardized features; the
    exported graph applies the dataset's scaling, as a saved model file stores it."""
    ort = pytest.importorskip("onnxruntime")
    rng = np.random.default_rng(0)
    rows = "".join(f"{170 + 10 * rng.standard_normal():.2f},{70 + 12 * rng.standard_normal():.2f},{'ab'[i % 2]}\n"
                   for i in range(60))
    csv = tmp_path / "people.csv"
    csv.write_text("height,weight,label\n" + rows)
    with qtbot.waitSignal(window.datasetReady, timeout=30_000):
        window.dataset_panel.use({"kind": "csv", "path": str(csv), "label_column": "label"})
    _train(qtbot, window)
    path = tmp_path / "people.onnx"
    assert window.export_onnx(str(path))
    raw = np.array([[150.0, 50.0], [190.0, 95.0]], np.float32)
    scaler = window.dataset.preprocessing["standardizer"]
    scaled = (raw - np.array(scaler["mean"])) / np.array(scaler["std"])
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, {"input": raw})[0], window.model.predict(scaled), atol=1e-5)


def test_every_tab_title_is_whole_at_the_minimum_size(qtbot, window):
    window.resize(window.minimumSize())
    qtbot.wait(50)
    bar = window.plots.tabBar()
    titles = [bar.tabText(i).replace("&&", "&") for i in range(bar.count())]
    assert titles[-1] == "Draw" and bar.tabRect(bar.count() - 1).right() < bar.width()
    for i, title in enumerate(titles):  # no scroll arrows hiding a tab, no "Dr…"
        assert bar.tabRect(i).width() >= bar.fontMetrics().horizontalAdvance(title), title


def test_saving_on_close_waits_for_the_batch_in_flight(qtbot, make_window, tmp_path, monkeypatch):
    import threading
    import time

    from PySide6.QtWidgets import QFileDialog

    from guinn.core.model import Sequential

    window = make_window(TOY.with_changes(epochs=50))
    in_step, saved_mid_step = threading.Event(), []
    original_step, original_save = Sequential._train_step, Sequential.save

    def slow_step(self, *args):  # a big batch: the step is still running when the user closes
        in_step.set()
        try:
            result = original_step(self, *args)
            time.sleep(0.2)
            return result
        finally:
            in_step.clear()

    def save(self, path, **kwargs):
        saved_mid_step.append(in_step.is_set())
        return original_save(self, path, **kwargs)

    monkeypatch.setattr(Sequential, "_train_step", slow_step)
    monkeypatch.setattr(Sequential, "save", save)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "m.safetensors"), ""))
    window.start_training()
    qtbot.waitUntil(lambda: window._run_batches >= 1, timeout=60_000)
    assert in_step.wait(10)  # the worker is inside a step right now
    window.ask.queue = [QMessageBox.StandardButton.Save]
    window.close()
    assert saved_mid_step == [False] and (tmp_path / "m.safetensors").is_file()
    assert not window.isVisible()


def test_a_bare_save_name_that_would_replace_a_file_asks_first(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    existing = tmp_path / "run1.json"
    existing.write_text("{}")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "run1"), ""))
    window.ask.queue = [QMessageBox.StandardButton.No]
    assert not window.save_experiment()
    assert window.ask.asked[-1] == "Replace the file?" and existing.read_text() == "{}"
    window.ask.queue = [QMessageBox.StandardButton.Yes]
    assert window.save_experiment() and existing.read_text() != "{}"


def test_an_experiment_of_the_same_network_starts_from_fresh_weights(qtbot, window):
    _train(qtbot, window)
    same = window.experiment().with_changes(optimizer={"name": "sgd", "learning_rate": 0.1, "momentum": 0.9})
    window.ask.queue = [QMessageBox.StandardButton.No]
    assert not window.apply_experiment(same)  # kept: the user said no
    assert window.model is not None and window.history.step > 0
    window.ask.queue = [Yes]
    assert window.apply_experiment(same)
    assert window.ask.asked[-1] == "Discard the trained model?"
    assert window.model is None and window.history.step == 0  # the optimizer race starts level
    assert window.settings.momentum.value() == 0.9


def test_the_label_column_guess_prefers_the_telling_name():
    from guinn.gui.dataset_panel import guess_label_column

    assert guess_label_column(["x", "y", "label"]) == 2  # not the y coordinate
    assert guess_label_column(["x", "y", "species"]) == 2
    assert guess_label_column(["a", "y", "b"]) == 1
    assert guess_label_column(["a", "b", "c"]) == 2


def test_the_label_column_guess_takes_the_only_column_of_text(tmp_path):
    from guinn.data.csv_data import text_columns
    from guinn.gui.dataset_panel import guess_label_column

    path = tmp_path / "iris.csv"
    path.write_text("flower,a,b,d\nsetosa,5.1,3.5,0.2\nvirginica,6.3,2.9,1.8\n\nsetosa,4.9,,0.2\n")
    texts = text_columns(path)
    assert texts == ["flower"]  # (an empty cell is not text)
    assert guess_label_column(["flower", "a", "b", "d"], texts) == 0
    assert guess_label_column(["flower", "a", "b", "d"], ["flower", "b"]) == 3  # two: no telling which
    semi = tmp_path / "semi.csv"
    semi.write_text("kind;w;h\nA;1,5;2\nB;0,25;3\n")  # decimal commas are numbers here
    assert text_columns(semi) == ["kind"]


def test_a_2d_dataset_shows_the_decision_boundary(qtbot, window):
    view = window.dataset_view
    assert view.predicted is None and view.boundary.image is None  # no weights yet
    _train(qtbot, window)
    assert view.predicted is not None and view.boundary.image is not None
    x0, x1, y0, y1 = view._area
    cells = view.predicted.shape[0]
    for i, j in [(0, 0), (cells // 2, cells // 3), (cells - 1, cells - 1)]:  # shading = the model's answer
        point = np.array([[x0 + (x1 - x0) * j / (cells - 1), y0 + (y1 - y0) * i / (cells - 1)]], np.float32)
        assert view.predicted[i, j] == window.model.predict(point).argmax()
    assert len(set(view.predicted.ravel())) == window.dataset.n_classes  # blobs: every class has ground
    window.ask.queue = [Yes]
    window.reset_weights()
    assert view.predicted is not None  # redrawn for the fresh weights
    window.dataset_panel.use({"kind": "mnist", "limit": 500})
    qtbot.waitUntil(lambda: window.dataset is not None and window.dataset.input_dim == 784, timeout=60_000)
    assert view.predicted is None  # images have no plane to shade


def test_a_watched_boundary_is_redrawn_every_epoch_at_a_watchable_pace(qtbot, make_window, monkeypatch):
    """A toy run is over in a fraction of a second: while the Dataset tab shows the boundary,
    epochs go at most WATCHED_EPOCHS_PER_S a second and each is redrawn; other tabs run at
    full speed."""
    import time

    from guinn.gui import main_window

    monkeypatch.setattr(main_window, "WATCHED_EPOCHS_PER_S", 20)
    window = make_window(TOY.with_changes(epochs=10, validation_split=0.0))
    drawn = []
    original = window.dataset_view.show_boundary
    monkeypatch.setattr(window.dataset_view, "show_boundary", lambda model: (drawn.append(1), original(model)))
    window.plots.setCurrentWidget(window.dataset_view)
    began = time.perf_counter()
    _train(qtbot, window)
    assert time.perf_counter() - began >= 10 / 20 * 0.9  # ten epochs at twenty a second
    assert len(drawn) >= 10  # every epoch (and the end)
    window.plots.setCurrentIndex(0)  # the loss plot: full speed
    window.start_training()
    assert window._control.pace_s == 0
    window.plots.setCurrentWidget(window.dataset_view)  # switched to mid-run: paced from now on
    assert window._control.pace_s == pytest.approx(1 / 20)
    with qtbot.waitSignal(window.trainingFinished, timeout=60_000):
        window.stop_training()


def test_earlier_runs_stay_on_the_plots_for_comparison(qtbot, window, monkeypatch):
    """The optimizer race: each run's smoothed loss and accuracy stay (dashed) when the curves
    are cleared for the next run, named after the preset or the optimizer."""
    from guinn.gui import plots

    _train(qtbot, window)
    window.ask.queue = [Yes]
    window.reset_weights()  # fresh weights, fresh curves: the first run is kept
    assert [run["label"] for run in window.plots.kept_runs] == ["toy"]  # the experiment unchanged: its title
    assert len(window.history.batches) == 0
    assert window.plots._loss_note.isHidden()  # the kept curve is there to see: no "nothing to show" over it
    kept = window.plots.kept_runs[0]
    assert kept["loss"][2] in window.plots.loss_plot.getPlotItem().listDataItems()
    window.settings.learning_rate.setValue(0.05)
    _train(qtbot, window)
    window.ask.queue = [Yes]
    window.reset_weights()
    assert [run["label"] for run in window.plots.kept_runs] == ["toy", "Adam 0.05"]  # changed: the optimizer
    monkeypatch.setattr(plots, "MAX_KEPT_RUNS", 2)
    _train(qtbot, window)
    window.ask.queue = [Yes]
    window.reset_weights()
    assert [run["label"] for run in window.plots.kept_runs] == ["Adam 0.05", "Adam 0.05 (2)"]  # oldest gone; told apart
    window.settings.seed.setValue(window.settings.seed.value() + 1)  # a new seed: Reset builds a new network
    _train(qtbot, window)
    window.ask.queue = [Yes]
    window.reset_weights()
    assert [run["label"] for run in window.plots.kept_runs] == ["Adam 0.05 (2)", "Adam 0.05, seed 1"]  # kept once
    window.plots.forget_runs()
    assert window.plots.kept_runs == [] and kept["loss"][2] not in window.plots.loss_plot.getPlotItem().listDataItems()
    window.keep_runs_action.setChecked(False)  # View menu: keep nothing
    _train(qtbot, window)
    window.ask.queue = [Yes]
    window.reset_weights()
    assert window.plots.kept_runs == []


def test_kept_runs_widen_only_the_plots_that_show_them(qtbot, make_window):
    window = make_window(TOY.with_changes(epochs=10))
    _train(qtbot, window)  # 120 batches
    window.ask.queue = [Yes]
    window.reset_weights()
    window.settings.epochs.setValue(1)
    _train(qtbot, window)  # 12 batches
    window.plots.refresh(force=True)
    loss_right = window.plots.loss_plot.getPlotItem().getViewBox().viewRange()[0][1]
    gradient_right = window.plots.gradient_plot.getPlotItem().getViewBox().viewRange()[0][1]
    assert loss_right > 100  # the race: the earlier run's whole curve
    assert gradient_right < 30  # no kept curves here: this run fills the plot
    window.plots.live = True  # while a run trains, the axis follows it (its first batches readable)
    window.plots.refresh(force=True)
    assert window.plots.loss_plot.getPlotItem().getViewBox().viewRange()[0][1] < 30
    with qtbot.waitSignal(window.trainingFinished, timeout=60_000):
        window.start_training(paused=True)
        assert window.plots.live
        window.stop_training()
    assert not window.plots.live
    assert window.plots.loss_plot.getPlotItem().getViewBox().viewRange()[0][1] > 100


def test_a_run_that_continues_the_curves_is_marked_with_its_optimizer(qtbot, window):
    _train(qtbot, window)
    assert window.plots.run_marks == []  # the first run needs no mark
    first_run = window.history.step
    window.settings.learning_rate.setValue(0.05)
    _train(qtbot, window)  # Start again: the same weights train on, with another rate
    lines = {line for _, line in window.plots.run_marks}
    assert len(window.plots.run_marks) == 6 and {line.value() for line in lines} == {first_run}
    assert {line.label.toPlainText().strip() for line in lines} == {"Adam 0.05"}
    select_data(window.settings.loss, "mean_squared_error")
    _train(qtbot, window)  # the loss curve goes on in other units: the mark says so
    assert window.model.loss.name == "mean_squared_error"
    assert {line.label.toPlainText().strip() for _, line in window.plots.run_marks[6:]} == {
        f"Adam 0.05, loss: {window.settings.loss.currentText()}"}
    window.ask.queue = [Yes]
    window.reset_weights()
    assert window.plots.run_marks == []  # fresh weights, fresh plots


def test_log_axes_label_only_1_2_and_5_per_decade(window):
    """pyqtgraph labels every minor tick when a plot spans a decade or two, and the labels at
    each decade's top ran together (0.07 0.08 0.09 0.1)."""
    from guinn.gui.plots import SparseLogAxis

    axis = window.plots.weight_plot.getPlotItem().getAxis("left")
    assert isinstance(axis, SparseLogAxis)
    assert isinstance(window.plots.gradient_bars.getPlotItem().getAxis("left"), SparseLogAxis)
    values = list(np.log10([0.001, 0.002, 0.003, 0.005, 0.009, 0.01, 0.07, 0.1, 1e-7]))
    assert axis.logTickStrings(values, 1.0, 1.0) == ["0.001", "0.002", "", "0.005", "", "0.01", "", "0.1", "10⁻⁷"]
    zoomed = axis.logTickStrings(list(np.log10([0.06, 0.07, 0.08, 0.09])), 1.0, 1.0)  # none of 1, 2, 5 in view
    assert zoomed == ["0.06", "0.07", "0.08", "0.09"]


def test_legends_list_only_layers_with_something_to_show(qtbot, window):
    curves = window.plots.layer_curves  # gradient, weight, ratio, saturation
    assert all(len(c.legend.items) == 0 and not c.legend.isVisible() for c in curves)  # no empty legend box
    _train(qtbot, window)
    window.plots.refresh(force=True)
    assert len(curves[0].legend.items) == 2  # the hidden layer and the output layer have gradients
    assert [label.text for _, label in curves[3].legend.items] == ["1. dense_1"]  # softmax: no saturation


def test_an_experiment_written_with_compile_names_opens_in_the_app(window, tmp_path):
    path = tmp_path / "by hand.json"
    path.write_text('{"dataset": {"kind": "toy", "name": "spiral"}, "loss": "mse", '
                    '"optimizer": {"name": "Momentum", "learning_rate": 0.02}}')
    assert window.open_experiment(str(path))
    assert window.settings.optimizer.currentData() == "sgd" and window.settings.momentum.value() == 0.9
    assert window.settings.loss.currentData() == "mean_squared_error"
    assert window.experiment().optimizer == {"name": "sgd", "learning_rate": 0.02, "momentum": 0.9,
                                             "nesterov": False}


def test_a_presets_explanation_goes_with_its_data_or_network(qtbot, window, tmp_path):
    """The banner and title explain the preset on show: other data, an opened model or an
    experiment without an explanation take them down; a sample count or a layer edit do not."""
    spiral = _find_preset(window, "toy_spiral")
    if spiral is None:
        pytest.skip("no presets shipped in this checkout")
    assert window.load_preset(spiral)
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=60_000)
    title = window.windowTitle()
    assert window.banner.kind == "preset" and "Spiral" in title
    window.dataset_panel.samples.setValue(window.dataset_panel.samples.value() + 50)  # more of the same data
    window.layer_panel.add_layer()
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=60_000)
    assert not window.banner.isHidden() and window.windowTitle() == f"{title} (network changed)"
    combo = window.dataset_panel.combo
    combo.setCurrentIndex(combo.findText("Toy 2-D: moons"))
    assert window.banner.isHidden() and "Spiral" not in window.windowTitle()

    assert window.load_preset(spiral)
    window.wait_for_dataset()
    path = tmp_path / "plain.json"
    TOY.save(path)  # no description
    assert window.open_experiment(str(path))
    assert window.banner.isHidden() and window.windowTitle() == "guinn — toy"
    TOY.with_changes(title="Blobs lesson", description="Watch the boundary.").save(path)
    assert window.open_experiment(str(path))
    assert window.banner.kind == "preset" and "Watch the boundary." in window.banner.text()

    window.wait_for_dataset()
    _train(qtbot, window)
    model_path = tmp_path / "m.safetensors"
    assert window.save_model(str(model_path))
    window.ask.queue = [Yes]  # discard the trained model
    assert window.load_preset(spiral)
    assert window.open_model(str(model_path))
    assert window.banner.kind != "preset" or window.banner.isHidden()
    assert window.windowTitle() == "guinn — m.safetensors"


def test_a_kept_run_that_diverged_does_not_flatten_the_next_runs_loss(qtbot, make_window):
    window = make_window(TOY.with_changes(epochs=2, optimizer={"name": "sgd", "learning_rate": 30.0}))
    _train(qtbot, window)
    window.ask.queue = [Yes]
    window.reset_weights()
    kept = window.plots.kept_runs
    assert len(kept) == 1 and kept[0]["loss"][1].max() > 20  # what the lesson shows: it blew up
    window.settings.optimizer.setCurrentIndex(window.settings.optimizer.findData("adam"))
    window.settings.learning_rate.setValue(0.01)
    _train(qtbot, window)
    window.plots.refresh(force=True)
    top = window.plots.loss_plot.getPlotItem().getViewBox().viewRange()[1][1]
    highest = window.history.batch_column("loss").max()
    assert highest < top < 5 * highest  # this run's curve fills the plot; the diverged one runs off the top


def test_each_start_goes_on_counting_epochs_and_a_saved_model_keeps_every_run(qtbot, window, tmp_path):
    from guinn.models import load_model

    _train(qtbot, window)  # 3 epochs
    first = window.model.optimizer.iterations
    outcome = _train(qtbot, window)  # 3 more with the same weights
    assert outcome.epochs_done == 3 and window.history.epochs_done == 6
    assert window.progress.format().startswith("Done") and window._last_progress.epoch == 5
    assert window._last_progress.epochs == 6  # shown as "Epoch 6/6", as the plots count
    path = tmp_path / "twice.safetensors"
    assert window.save_model(str(path))
    saved = load_model(path).history
    assert saved.epoch == [0, 1, 2, 3, 4, 5] and len(saved.history["val_loss"]) == 6
    assert saved.steps[2] == first and saved.steps[-1] == window.model.optimizer.iterations
    assert saved.history["loss"][3:] == window.model.history.history["loss"]  # the last run's, after the first's
    assert window.open_model(str(path))  # and it goes on from there
    assert window.history.epochs_done == 6
    window.settings.epochs.setValue(1)
    _train(qtbot, window)
    assert window._last_progress.epoch == 6 and window.whole_history().epoch == list(range(7))
    window.ask.queue = [Yes]
    window.reset_weights()  # fresh weights: a fresh record
    assert window.whole_history().epoch == [] and window.model.history.epoch == []


@pytest.mark.parametrize("screen", [(1024, 740), (1280, 690), (1067, 667)])  # (the last: 1600 x 1000 at 150%)
def test_the_window_fits_a_projectors_screen_with_every_run_button_on_it(qtbot, screen):
    from PySide6.QtCore import QPoint, QSize

    from guinn.gui.main_window import TITLE_BAR_PX, MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    assert window.fit_to_screen(QSize(*screen))  # smaller than the full size: open maximised
    assert window.minimumWidth() <= screen[0] and window.minimumHeight() <= screen[1] - TITLE_BAR_PX  # and its title
    window.resize(*screen)
    window.show()
    qtbot.waitExposed(window)
    qtbot.wait(50)
    assert window.width() <= screen[0] and window.height() <= screen[1]
    for button in (window.start_button, window.pause_button, window.step_button, window.stop_button,
                   window.reset_button):
        corner = button.mapTo(window, QPoint(button.width(), button.height()))
        assert window.rect().contains(corner), button.text()  # wholly inside the window
    right = window.side_panes[1]
    assert right.viewport().width() >= right.widget().minimumSizeHint().width()  # settings unclipped


def test_a_large_screen_keeps_the_full_size(qtbot):
    from PySide6.QtCore import QSize

    from guinn.gui.main_window import FULL_SIZE, MIN_SIZE, MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    assert not window.fit_to_screen(QSize(1920, 1050))
    assert window.size() == FULL_SIZE and window.minimumSize() == MIN_SIZE


def test_a_kept_run_of_an_edited_preset_is_named_after_what_was_changed(qtbot, make_window):
    from guinn.gui.main_window import _layers_label

    window = make_window(TOY.with_changes(epochs=1))
    window.layer_panel.select(0)
    window.layer_panel.activation.setCurrentIndex(window.layer_panel.activation.findData("tanh"))
    _train(qtbot, window)
    window.ask.queue = [Yes]
    window.reset_weights()
    window.settings.learning_rate.setValue(0.05)
    _train(qtbot, window)
    window.ask.queue = [Yes]
    window.reset_weights()
    assert [run["label"] for run in window.plots.kept_runs] == ["16 tanh", "16 tanh, Adam 0.05"]
    kept = window.plots.kept_runs[0]  # its validation curves too, dotted, with no legend entry of their own
    loss_items = window.plots.loss_plot.getPlotItem().listDataItems()
    assert len(kept["val_loss"][0]) == 1 and kept["val_loss"][2] in loss_items
    assert kept["val_accuracy"][2].opts["pen"].style() == Qt.PenStyle.DotLine
    for widget in (window.plots.loss_plot, window.plots.accuracy_plot):
        item = widget.getPlotItem()
        own = [label.text for _, label in item.legend.items]
        assert not any("tanh" in t for t in own)  # the earlier runs are listed beside the plot, not over it
        side = item.layout.itemAt(2, 3)  # right of the plot
        assert [label.text for _, label in side.items] == ["this run", "earlier runs:", "16 tanh", "16 tanh, Adam 0.05"]
        widget.resize(900, 500)
        QApplication.processEvents()
        assert side.sceneBoundingRect().left() >= item.vb.sceneBoundingRect().right() - 1
    side = window.plots._kept_legends["loss"]
    window.plots.forget_runs()
    assert kept["val_loss"][2] not in window.plots.loss_plot.getPlotItem().listDataItems()
    assert side.scene() is None  # gone, not drawn over the plot's corner
    item = window.plots.loss_plot.getPlotItem()
    legends = [item.layout.itemAt(i) for i in range(item.layout.count())
               if isinstance(item.layout.itemAt(i), pg.LegendItem)]
    assert legends == [item.legend]  # the earlier runs' legend has gone: the width given back
    layers = tuple([LayerSpec(64, "sigmoid")] * 8)
    assert _layers_label(layers) == "8×64 sigmoid"
    assert _layers_label((LayerSpec(500, "relu", dropout=0.5), LayerSpec(500, "relu", l2=1e-3),
                          LayerSpec(10, "maxout", pieces=3))) == "2×500 relu + 10 maxout 3, dropout 0.5, L2 0.001"


def test_the_whole_record_survives_stops_mid_epoch_and_dropout_edits(qtbot, window, tmp_path):
    import gc
    import weakref

    from guinn.models import load_model

    with qtbot.waitSignal(window.pausedChanged, timeout=60_000):
        window.step()  # one batch of epoch 0, then Stop: fit records the part of the epoch
    with qtbot.waitSignal(window.trainingFinished, timeout=60_000):
        window.stop_training()
    _train(qtbot, window)  # epochs 0-2 again, whole
    window.layer_panel.select(0)
    window.layer_panel.dropout.setValue(0.2)  # carried over: a new model object, same weights
    window.settings.validation_split.setValue(0.0)
    window.settings.epochs.setValue(1)
    _train(qtbot, window)
    path = tmp_path / "m.safetensors"
    assert window.save_model(str(path))
    saved = load_model(path).history
    assert saved.epoch == [0, 1, 2, 3] and len(saved.steps) == 4  # no second epoch 0, nothing lost
    assert np.isnan(saved.history["val_loss"][3])
    assert window.open_model(str(path))
    assert window.history.epochs_done == 4
    assert "nan" not in window.metrics_label.text()  # the last epoch had no validation: not shown
    assert "val_loss" not in window.metrics_label.text() and "loss" in window.metrics_label.text()
    opened = weakref.ref(window.model)
    window.ask.queue = [Yes]
    window.settings.seed.setValue(7)  # a new network: the opened one is let go
    window.layer_panel.add_layer()
    gc.collect()
    assert opened() is None or opened() is not window.model and window._earlier_owner is None


def test_kept_runs_differing_in_other_settings_say_which(qtbot, make_window):
    window = make_window(TOY.with_changes(epochs=1))
    window.settings.batch_size.setValue(5)
    _train(qtbot, window)
    window.ask.queue = [Yes]
    window.reset_weights()
    window.settings.epochs.setValue(2)  # more epochs: still the preset's run
    window.settings.batch_size.setValue(TOY.batch_size)
    _train(qtbot, window)
    window.ask.queue = [Yes]
    window.reset_weights()
    assert [run["label"] for run in window.plots.kept_runs] == ["toy, batch 5", "toy"]  # still the preset's run


def test_per_layer_legends_sit_beside_the_plots_not_over_the_newest_batches(qtbot, window):
    _train(qtbot, window)
    window.plots.setCurrentIndex(1)
    window.plots.refresh(force=True)
    qtbot.wait(50)
    for curves in window.plots.layer_curves[:3]:
        legend = curves.legend.sceneBoundingRect()
        view = curves.widget.getPlotItem().getViewBox().sceneBoundingRect()
        assert curves.legend.items and legend.left() >= view.right() - 1  # listed, and clear of the data


def test_a_save_name_with_another_suffix_gets_the_files_own(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    _train(qtbot, window)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "model.v2"), ""))
    assert window.save_model()  # model files are *.safetensors: the dialog's name gets it
    assert (tmp_path / "model.v2.safetensors").is_file() and not (tmp_path / "model.v2").exists()


def test_a_run_of_an_untitled_experiment_is_named_by_what_differs_alone(qtbot, make_window):
    window = make_window(TOY.with_changes(title=""))
    assert window._describe_run(window._base.with_changes(batch_size=5)) == "batch 5"


def test_a_kept_runs_data_are_named_by_what_differs():
    from guinn.gui.main_window import _dataset_label

    base = {"kind": "mnist", "limit": 500, "test_limit": 200}
    assert _dataset_label({"kind": "mnist", "limit": 500, "test_limit": 100}, base) == "100 test samples"
    assert _dataset_label({"kind": "mnist"}, base) == "all samples, all test samples"
    assert _dataset_label({"kind": "mnist", "limit": 5000, "test_limit": 200}, base) == "5,000 samples"
    assert _dataset_label({"kind": "toy", "name": "moons"}, base) == "moons"


def test_a_network_too_big_for_the_memory_is_a_message_not_a_crash(qtbot, make_window, monkeypatch):
    from guinn.core import memory

    window = make_window()
    window.layers.set_specs((LayerSpec(30000, "sigmoid"), LayerSpec(30000, "sigmoid")), guarded=False)
    monkeypatch.setattr(memory, "available_bytes", lambda: 8 * 1024**3)
    assert not window.start_training()
    text = window.banner.label.text()
    assert window.banner.kind == "error" and "Cannot start" in text and "of the 8.0 GB free" in text
    assert window.model is None and not window.is_training()


def test_a_finished_run_shows_its_test_accuracy(qtbot, make_window):
    from guinn.utils import to_categorical

    window = make_window()
    ds = window.dataset
    assert len(ds.x_test)
    outcome = _train(qtbot, window)
    logs = dict(outcome.test)
    expected = window.model.evaluate(ds.x_test, to_categorical(ds.y_test, ds.n_classes), verbose=0,
                                     return_dict=True)
    assert logs["accuracy"] == pytest.approx(expected["accuracy"]) and logs["loss"] == pytest.approx(expected["loss"])
    text = window.metrics_label.text()
    assert text.endswith(f" · test accuracy {logs['accuracy']:.1%}")
    assert f"on {len(ds.x_test):,} samples kept apart from training" in window.metrics_label.toolTip()


def test_a_batch_size_that_leaves_few_batches_an_epoch_suggests_a_smaller_one(qtbot, make_window):
    window = make_window()  # 240 training samples, 20% of them for validation: 192 to train on
    batch = window.settings.batch_size
    batch.setValue(100)
    assert "Only 2 batches an epoch (192 training samples): the weights change 2 times" in batch.toolTip()
    assert "e.g. 16" in batch.toolTip() and batch.property("problem")
    batch.setValue(16)  # 12 batches: nothing to say
    assert "⚠" not in batch.toolTip() and not batch.property("problem")
    batch.setValue(500)
    assert "larger than the 192 training samples" in batch.toolTip()


def test_an_empty_layer_stack_says_what_the_network_is_now(qtbot, window):
    panel = window.layer_panel
    window.layers.set_specs((), guarded=False)
    assert not panel.form.isRowVisible(panel.units) and not panel.form.isRowVisible(panel.dropout)
    assert "linear classifier" in panel.activation_help.text()
    panel.add_button.click()
    assert panel.form.isRowVisible(panel.units) and panel.form.isRowVisible(panel.l2)
    assert "linear classifier" not in panel.activation_help.text()


def test_an_error_put_right_leaves_the_status_bar_too(qtbot, window):
    window.show_error("CSV file 'bad.csv' is empty; expected a header row and data rows.\nMore detail.")
    assert window.statusBar().currentMessage().startswith("CSV file 'bad.csv' is empty")
    window.clear_error()
    assert window.banner.isHidden() and window.statusBar().currentMessage() == ""
    window.statusBar().showMessage("Saved the model to m.safetensors")
    window.clear_error()  # another message is not the error's: it stays
    assert window.statusBar().currentMessage() == "Saved the model to m.safetensors"


def test_a_run_stuck_at_chance_is_told_it_is_not_learning(qtbot, window):
    chance = np.bincount(window.dataset.y_train).max() / len(window.dataset.y_train)
    window._run_batches = 500
    window._logs_by_epoch = {0: {"accuracy": chance + 0.3}, 1: {"accuracy": chance}, 2: {"accuracy": chance}}
    window._warn_if_not_learning()
    assert window.banner.isHidden()  # two epochs at chance only
    window._logs_by_epoch[3] = {"accuracy": chance - 0.01}
    window._run_batches = 100
    window._warn_if_not_learning()
    assert window.banner.isHidden()  # too few weight updates to tell (a small dataset's first epochs)
    window._run_batches = 500
    window._warn_if_not_learning()
    assert window.banner.kind == "warning" and "still at chance" in window.banner.text()
    assert f"({chance:.0%}," in window.banner.text()
    window._warn_if_not_learning()
    assert window.banner.kind == "warning"  # once a run
    window._logs_by_epoch[4] = {"accuracy": chance + 0.2}
    window._warn_if_not_learning()
    assert window.banner.isHidden()  # it learns after all: taken back
    window._chance_said = ""
    window.show_info("<b>Preset</b><br>watch the gradients fade", "preset", rich=True)
    window._logs_by_epoch = {k: {"accuracy": chance} for k in range(5)}
    window._warn_if_not_learning()
    assert window.banner.kind == "preset"  # the lesson says what its run shows


def test_a_csv_table_shows_whole_column_names_and_the_path_once(qtbot, make_window, tmp_path):
    path = tmp_path / "iris.csv"
    rows = "".join(f"{5 + i % 3}.{i % 10},{3 + i % 2}.5,{i % 4}.1,{i % 3}\n" for i in range(30))
    path.write_text("sepal_length_in_cm,sepal_width_in_cm,petal_length_in_cm,flower\n" + rows)  # 3-D: a table
    window = make_window(TOY.with_changes(dataset={"kind": "csv", "path": str(path), "label_column": "flower"}))
    table = window.dataset_view.table
    assert table.horizontalHeaderItem(0).text() == "flower"  # the label column under its own name
    header = table.horizontalHeader()
    assert table.columnCount() == 4
    for c in range(1, table.columnCount()):
        text = table.horizontalHeaderItem(c).text()
        assert text.endswith("_in_cm (std.)") and header.fontMetrics().horizontalAdvance(text) <= table.columnWidth(c)
    assert window.dataset_view.title.text().count("iris.csv") == 1
    assert "iris.csv" in window.dataset_panel.info.text() and str(path) not in window.dataset_panel.info.text()
    assert window.dataset_panel.info.toolTip() == tooltip(f"CSV {path}")  # the whole path, where it widens nothing


def test_notes_on_discarded_weights_go_with_them(qtbot, window):
    _train(qtbot, window)
    window.show_info("The training loss has grown: training is diverging.", "warning")
    window.ask.queue = [Yes]
    window.layers.set_specs((LayerSpec(8, "tanh"),))  # a new network: the old run's notes are moot
    assert window.model is None and window.banner.isHidden()


def _diverged_window(qtbot, make_window):
    """A window whose run has just diverged (SGD at rate 10 on linear layers)."""
    window = make_window(TOY.with_changes(optimizer={"name": "sgd", "learning_rate": 10.0},
                                          layers=(LayerSpec(64, "linear"), LayerSpec(64, "linear")), epochs=20))
    _train(qtbot, window)
    if window.banner.kind != "error":
        pytest.skip("this run did not diverge here")
    return window


def test_a_diverged_runs_error_goes_with_its_weights(qtbot, make_window):
    window = _diverged_window(qtbot, make_window)
    window.ask.queue = [Yes]
    window.layers.set_specs((LayerSpec(8, "tanh"),))
    assert window.banner.isHidden()


def test_after_a_diverged_run_start_begins_from_fresh_weights(qtbot, make_window):
    window = _diverged_window(qtbot, make_window)
    assert "Start begins again from fresh weights" in window.banner.text()
    blown = window.model
    window.settings.learning_rate.setValue(0.01)  # as the message says
    outcome = _train(qtbot, window)
    assert window.model is not blown and not outcome.stop_reason
    assert window.history.epochs_done == 20  # a fresh run, numbered from its own first epoch


def test_stop_does_not_wait_for_the_test_set(qtbot, make_window):
    window = make_window(TOY.with_changes(epochs=500))
    window.start_training()
    qtbot.waitUntil(lambda: window._run_batches > 5, timeout=30_000)
    with qtbot.waitSignal(window.trainingFinished, timeout=30_000) as blocker:
        window.stop_training()
    assert blocker.args[0].test == ()


def test_a_finished_run_shows_its_last_epochs_figures(qtbot, make_window):
    window = make_window(TOY.with_changes(batch_size=50))  # 192 samples: a remainder batch of 42 each epoch
    _train(qtbot, window)
    logs = window._logs_by_epoch[max(window._logs_by_epoch)]
    assert window.metrics_label.text().startswith(f"Epoch {TOY.epochs}: loss {logs['loss']:.4f} · accuracy "
                                                  f"{logs['accuracy']:.1%}")


def test_a_new_setting_problem_is_said_in_the_status_bar_too(qtbot, window):
    window.settings.batch_size.setValue(100)
    assert window.statusBar().currentMessage().startswith("Only 2 batches an epoch")
    window.statusBar().clearMessage()
    window.settings.epochs.setValue(7)  # the same problem: said once
    assert window.statusBar().currentMessage() == ""


def test_runs_on_other_data_are_not_kept_beside_these(qtbot, window):
    _train(qtbot, window)
    window.ask.queue = [Yes]
    window.reset_weights()
    assert len(window.plots.kept_runs) == 1
    window.ask.queue = [Yes]
    window.dataset_panel.use({"kind": "toy", "name": "moons", "n_samples": 300})
    qtbot.waitUntil(lambda: window.dataset is not None and "moons" in window.dataset.name, timeout=30_000)
    assert window.plots.kept_runs == []


def test_runs_are_kept_across_experiments_only_where_they_compare(qtbot, make_window):
    """The optimizer race's presets share data and batch size: their runs stay side by side.
    Another lesson's data or batch size starts with a clean plot, and a run forgotten while on
    show does not come back when a preset replaces it."""
    window = make_window(TOY.with_changes(epochs=1))
    _train(qtbot, window)
    window.ask.queue = [Yes]
    assert window.apply_experiment(TOY.with_changes(epochs=1, optimizer={"name": "sgd", "learning_rate": 0.1}))
    assert len(window.plots.kept_runs) == 1  # same data and batch size: the race
    _train(qtbot, window)
    this_run = window.plots._kept_legends["loss"].items[0][1].text
    assert this_run == f"this run: {window._run_name}" == "this run: toy"  # the runner on show, named
    window.ask.queue = [Yes]
    assert window.apply_experiment(TOY.with_changes(epochs=1, batch_size=10))
    assert window.plots.kept_runs == []  # another batch size: not comparable, nothing kept
    _train(qtbot, window)
    window.forget_runs()
    window.ask.queue = [Yes]
    assert window.apply_experiment(TOY.with_changes(epochs=1, batch_size=10, seed=3))
    assert window.plots.kept_runs == []  # forgotten while on show


def test_a_race_on_fewer_samples_than_its_presets_keeps_its_runs(qtbot, make_window):
    """Each race preset puts its own sample count back; a student who sets a smaller one again
    before each Start keeps the runs side by side. Not setting it again, they do not compare."""
    preset = TOY.with_changes(epochs=1, dataset={"kind": "toy", "name": "blobs", "n_samples": 300})
    window = make_window(preset)
    samples = window.dataset_panel.samples
    samples.setValue(200)
    qtbot.waitUntil(lambda: window.dataset is not None and len(window.dataset.x_train) < 240, timeout=30_000)
    _train(qtbot, window)
    for learning_rate in (0.1, 0.2):
        window.ask.queue = [Yes]
        assert window.apply_experiment(preset.with_changes(title=f"Race: SGD {learning_rate}",
                                                           optimizer={"name": "sgd", "learning_rate": learning_rate}))
        samples.setValue(200)
        qtbot.waitUntil(lambda: window.dataset is not None and len(window.dataset.x_train) < 240, timeout=30_000)
        _train(qtbot, window)
    # the first two runs, beside the third, each named after its preset (it was '200 samples', '(2)')
    assert [run["label"] for run in window.plots.kept_runs] == ["toy, 200 samples", "SGD 0.1, 200 samples"]
    window.ask.queue = [Yes]
    assert window.apply_experiment(preset)
    assert len(window.plots.kept_runs) == 3  # shown until Start: the amount may be set again
    _train(qtbot, window)  # on the preset's 300 samples
    assert window.plots.kept_runs == []


def test_opening_a_model_of_other_data_forgets_the_runs_kept(qtbot, make_window, tmp_path):
    window = make_window(TOY.with_changes(epochs=1))
    _train(qtbot, window)
    path = tmp_path / "blobs.safetensors"
    assert window.save_model(str(path))
    window.ask.queue = [Yes]
    window.dataset_panel.use({"kind": "toy", "name": "moons", "n_samples": 300})
    qtbot.waitUntil(lambda: window.dataset is not None and "moons" in window.dataset.name, timeout=30_000)
    _train(qtbot, window)
    window._dirty = False
    assert window.open_model(str(path))  # a blobs model: the moons run does not compare with it
    assert window.plots.kept_runs == []


def test_start_says_continue_when_it_would_train_the_same_weights_on(qtbot, make_window):
    window = make_window(TOY.with_changes(epochs=2))
    assert window.start_button.text() == "Start"
    _train(qtbot, window)
    assert window.start_button.text() == "Continue" and "more" in window.start_button.toolTip()
    assert window.progress.format().startswith("Done: 2 epochs")
    _train(qtbot, window)
    assert window.progress.format().startswith("Done: epochs 3–4")  # this run's, where the curves count 4
    window.ask.queue = [Yes]
    window.reset_weights()
    assert window.start_button.text() == "Start"


def test_discarding_asks_only_about_unsaved_weights_and_yes_to_all_stops_asking(qtbot, make_window, tmp_path):
    from PySide6.QtWidgets import QMessageBox

    window = make_window(TOY.with_changes(epochs=1))
    _train(qtbot, window)
    assert window.save_model(str(tmp_path / "kept.safetensors"))
    asked = len(window.ask.asked)
    assert window.apply_experiment(TOY.with_changes(epochs=1, seed=2))  # saved: on disk, nothing to lose
    assert len(window.ask.asked) == asked and window.model is None
    _train(qtbot, window)
    window.ask.queue = [QMessageBox.StandardButton.YesToAll]
    assert window.apply_experiment(TOY.with_changes(epochs=1, seed=3))
    assert window.ask.asked[-1] == "Discard the trained model?"
    _train(qtbot, window)
    asked = len(window.ask.asked)
    assert window.apply_experiment(TOY.with_changes(epochs=1, seed=4))  # not asked again
    assert len(window.ask.asked) == asked and window.model is None


def test_the_metric_plots_legends_sit_under_the_plots_in_rows_that_fit(qtbot, window):
    """In a corner the legend covered the curve somewhere (a flat loss at the top); under the
    plot it covers nothing, and it takes two rows where one would widen the plot past the window."""
    item = window.plots.loss_plot.getPlotItem()
    assert [label.text for _, label in item.legend.items] == ["training batches", "smoothed", "epoch mean",
                                                              "validation"]
    for width, columns in ((1200, 4), (500, 2)):
        window.plots.loss_plot.resize(width, 400)
        QApplication.processEvents()
        assert item.legend.columnCount == columns
        assert item.legend.sceneBoundingRect().top() >= item.vb.sceneBoundingRect().bottom()
        assert item.legend.sceneBoundingRect().right() <= width


def test_a_chosen_file_is_read_before_the_trained_model_is_given_up(qtbot, window, tmp_path):
    """A lecturer's bad CSV cost the trained run: the question came first, the file's error after."""
    _train(qtbot, window)
    before = window.dataset
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\n1,2,x\n3,oops,y\n")
    asked = len(window.ask.asked)
    with qtbot.waitSignal(window.datasetFailed, timeout=30_000):
        window.dataset_panel.use({"kind": "csv", "path": str(bad), "label_column": "label"})
    assert len(window.ask.asked) == asked and window._trained and window.dataset is before
    assert "The data before it and the trained model are kept" in window.banner.text()
    assert window.dataset_panel.spec() == dict(TOY.dataset)
    good = tmp_path / "good.csv"
    good.write_text("a,b,c,label\n" + "".join(f"{i},{i % 3},{i % 5},{'xy'[i % 2]}\n" for i in range(30)))
    with qtbot.waitSignal(window.datasetReady, timeout=30_000):  # answered No: the data before come back
        window.dataset_panel.use({"kind": "csv", "path": str(good), "label_column": "label"})
    assert window.ask.asked[-1] == "Discard the trained model?" and window._trained and window.dataset is before
    window.ask.queue = [Yes]
    with qtbot.waitSignal(window.datasetReady, timeout=30_000):
        window.dataset_panel.use({"kind": "csv", "path": str(good), "label_column": "label"})
    assert window.model is None and window.dataset.input_dim == 3


def _three_column_csv(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("a,b,c,label\n" + "".join(f"{i},{i % 3},{i % 5},{'xy'[i % 2]}\n" for i in range(30)))
    return good


def test_a_file_on_trial_gives_way_to_what_the_user_did_meanwhile(qtbot, window, tmp_path):
    """While a chosen file loads on trial, opening a model replaces it: the trial must not
    discard the model just opened when the model's own data arrive."""
    _train(qtbot, window)
    saved = tmp_path / "m.safetensors"
    assert window.save_model(str(saved))
    _train(qtbot, window)  # unsaved trained weights again
    window.dataset_panel.use({"kind": "csv", "path": str(_three_column_csv(tmp_path)), "label_column": "label"})
    window.ask.queue = [Yes]
    assert window.open_model(str(saved))
    opened = window.model
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=30_000)
    assert window.model is opened and window._on_trial is None


def test_refusing_a_second_choice_keeps_the_first_file_on_trial(qtbot, window, tmp_path):
    _train(qtbot, window)
    window.dataset_panel.use({"kind": "csv", "path": str(_three_column_csv(tmp_path)), "label_column": "label"})
    window.dataset_panel.use({"kind": "toy", "name": "moons", "n_samples": 300})  # asked: No
    qtbot.waitUntil(lambda: window._on_trial is None and window.dataset is not None, timeout=30_000)
    assert window.ask.asked.count("Discard the trained model?") == 2  # the CSV's question came too
    assert window._trained and window.dataset.input_dim == 2  # answered No both times: the data before


def test_continue_pressed_while_a_file_on_trial_fails_does_not_start(qtbot, window, tmp_path):
    _train(qtbot, window)
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\n1,2,x\n3,oops,y\n")
    with qtbot.waitSignal(window.datasetFailed, timeout=30_000):
        window.dataset_panel.use({"kind": "csv", "path": str(bad), "label_column": "label"})
        window.start_training()  # Continue, while the file loads
    assert not window.is_training() and "could not be loaded" in window.banner.text()


def test_export_proposes_the_models_own_file_name(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    _train(qtbot, window)
    proposed = []

    def dialog(_window, _title, default, _filters):
        proposed.append(default)
        return "", ""  # cancelled

    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog)
    window.export_onnx()
    assert proposed == ["model.onnx"]  # a fresh model has no file of its own
    assert window.save_model(str(tmp_path / "csvmodel.safetensors"))
    window.export_onnx()
    window.save_model()
    assert proposed[1:] == [str(tmp_path / "csvmodel.onnx"), str(tmp_path / "csvmodel.safetensors")]
    window._dirty = False
    window._discard_model()  # another model next: not that file's
    _train(qtbot, window)
    window.export_onnx()
    assert proposed[-1] == "model.onnx"


def test_a_loss_changed_before_a_layer_edit_is_marked_too(qtbot, window):
    _train(qtbot, window)
    select_data(window.settings.loss, "mean_squared_error")
    window.layer_panel.select(0)
    window.layer_panel.dropout.setValue(0.1)  # carries the weights over, compiled with the new loss
    _train(qtbot, window)
    labels = {line.label.toPlainText().strip() for _, line in window.plots.run_marks}
    assert labels == {f"Adam 0.01, loss: {window.settings.loss.currentText()}"}


def test_an_opened_models_title_is_not_taken_for_its_experiments(qtbot, window, tmp_path):
    _train(qtbot, window)
    path = tmp_path / "toy.safetensors"  # named like its experiment, "toy"
    assert window.save_model(str(path))
    window._dirty = False
    assert window.open_model(str(path))
    window.layer_panel.add_layer()
    assert window.windowTitle() == "guinn — toy.safetensors"


def test_opening_a_model_of_another_batch_size_forgets_the_runs_kept(qtbot, make_window, tmp_path):
    window = make_window(TOY.with_changes(epochs=1, batch_size=5))
    _train(qtbot, window)
    path = tmp_path / "batch5.safetensors"
    assert window.save_model(str(path))
    window.settings.batch_size.setValue(20)
    _train(qtbot, window)  # goes on: the same weights
    window.ask.queue = [Yes]
    window.reset_weights()
    _train(qtbot, window)
    window._dirty = False
    assert window.open_model(str(path))
    assert [run["comparison"].batch_size for run in window.plots.kept_runs] == []  # batch-20 runs: not beside it


def test_the_app_opens_files_named_in_any_case(qtbot, monkeypatch, tmp_path):
    """`guinn Lesson.JSON` reached the app, which matched only lower-case suffixes."""
    from PySide6.QtWidgets import QApplication

    import guinn.gui.app as app_module
    from guinn.gui.main_window import MainWindow

    opened = []
    monkeypatch.setattr(MainWindow, "open_experiment", lambda self, path: opened.append(("experiment", path)))
    monkeypatch.setattr(MainWindow, "open_model", lambda self, path: opened.append(("model", path)))
    monkeypatch.setattr(QApplication, "exec", lambda self: 0)
    monkeypatch.setenv("GUINN_SESSION_DIR", "")
    monkeypatch.setattr(app_module, "_start_kernel_warm_up", lambda: types.SimpleNamespace(join=lambda timeout: None))
    assert app_module.main([str(tmp_path / "Lesson.JSON"), str(tmp_path / "M.SAFETENSORS")]) == 0
    assert opened == [("experiment", str(tmp_path / "Lesson.JSON")), ("model", str(tmp_path / "M.SAFETENSORS"))]
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, MainWindow):
            widget._dirty = False
            widget.close()
