"""The last session kept across launches: setup and window state at close, unsaved trained
weights through a crash (guinn.gui.session)."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QLockFile, QSize, Qt
from PySide6.QtWidgets import QMessageBox

from guinn.core.specs import LayerSpec
from guinn.gui import session
from guinn.models import Sequential
from tests.gui.conftest import TOY, Answers

Yes = QMessageBox.StandardButton.Yes


@pytest.fixture
def folder(tmp_path, monkeypatch):
    where = tmp_path / "session"
    monkeypatch.setenv("GUINN_SESSION_DIR", str(where))
    return where


@pytest.fixture
def kept_window(qtbot):
    """A window as ``guinn`` opens it: the kept setup, then ``keep_session``."""
    from guinn.gui.main_window import MainWindow

    def make():
        setup, note = session.read_setup()
        window = MainWindow(setup or TOY)
        window.ask = Answers()
        qtbot.addWidget(window)
        window.keep_session(setup)
        window.show()
        qtbot.waitUntil(lambda: window.dataset is not None, timeout=60_000)
        return window, note

    return make


def _train(qtbot, window):
    with qtbot.waitSignal(window.trainingFinished, timeout=60_000):
        qtbot.mouseClick(window.start_button, Qt.MouseButton.LeftButton)


def _recovery_files(where):
    return sorted(where.glob(session.RECOVERY_GLOB))


def test_the_setup_and_window_come_back_after_a_close(qtbot, folder, kept_window):
    window, note = kept_window()
    assert note is None  # nothing was kept yet
    window.layers.set_specs((LayerSpec(24, "tanh"), LayerSpec(12, "relu", dropout=0.2)), guarded=False)
    window.settings.epochs.setValue(7)
    window.keep_runs_action.setChecked(False)
    window.resize(QSize(1180, 720))  # (the offscreen screen is 800 high)
    edited = window.experiment()
    window.close()
    assert (folder / session.SETUP_FILE).is_file() and (folder / session.WINDOW_FILE).is_file()

    again, note = kept_window()
    assert "last session" in note
    restored = again.experiment()
    assert restored.layers == edited.layers and restored.epochs == 7 and restored.dataset == edited.dataset
    assert restored.description == ""  # an edited preset is the user's own: its explanation would be untrue
    assert restored.title == session.EDITED_TITLE
    assert not again.keep_runs_action.isChecked()
    assert again.size() == QSize(1180, 720)


def test_an_unchanged_preset_comes_back_with_its_explanation(qtbot, folder, kept_window):
    from guinn.resources import list_presets

    window, _ = kept_window()
    spiral = next(p for p in list_presets() if "Spiral" in p.title)
    assert window.load_preset(spiral)
    window.close()
    again, _ = kept_window()
    assert again.experiment().title == spiral.title
    assert again.banner.kind == "preset" and not again.banner.isHidden()
    assert "Spiral" in again.windowTitle()


def test_unusable_session_files_are_set_aside_with_a_word(qtbot, folder, kept_window):
    folder.mkdir()
    (folder / session.SETUP_FILE).write_text('{"layers": "many"}')
    (folder / session.WINDOW_FILE).write_bytes(b"\xff\x00 not json")
    setup, note = session.read_setup()
    assert setup is None and "could not be restored" in note and "layers" in note
    assert session.read_window_state() == {}
    (folder / session.WINDOW_FILE).write_text('{"geometry": "%%%", "keep_runs": "yes"}')
    window, _ = kept_window()  # a bad geometry and a non-boolean option are ignored
    assert window.keep_runs_action.isChecked()


def test_moved_idx_files_fall_back_to_mnist(folder):
    folder.mkdir()
    exp = TOY.with_changes(dataset={"kind": "idx", "train_images": str(folder / "gone-images.idx"),
                                    "train_labels": str(folder / "gone-labels.idx")})
    exp.save(folder / session.SETUP_FILE)
    setup, note = session.read_setup()
    assert setup.dataset == {"kind": "mnist"} and "gone-images.idx" in note


def test_a_data_file_that_is_gone_falls_back_to_mnist(folder):
    folder.mkdir()
    exp = TOY.with_changes(dataset={"kind": "csv", "path": str(folder / "gone.csv"), "label_column": "y"})
    exp.save(folder / session.SETUP_FILE)
    setup, note = session.read_setup()
    assert setup.dataset == {"kind": "mnist"} and setup.layers == TOY.layers
    assert "gone.csv" in note and "MNIST" in note and "your layers and settings are kept" in note


def test_an_empty_session_folder_setting_keeps_nothing(qtbot, tmp_path, monkeypatch, kept_window):
    monkeypatch.setenv("GUINN_SESSION_DIR", "")
    assert session.folder() is None
    window, note = kept_window()
    assert note is None and window._recovery is None
    assert window._recovery_writer(window.whole_history() if window.model else None) is None  # runs keep nothing
    _train(qtbot, window)
    window.close()


def test_unsaved_weights_are_kept_until_saved_or_discarded(qtbot, folder, kept_window, tmp_path):
    window, _ = kept_window()
    assert _recovery_files(folder) == []
    _train(qtbot, window)
    (kept,) = _recovery_files(folder)
    from guinn.models import load_model

    recovered = load_model(kept)
    for a, b in zip(recovered.get_weights(), window.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert len(recovered.history.epoch) == TOY.epochs
    assert window.save_model(str(tmp_path / "mine.safetensors"))
    assert _recovery_files(folder) == []  # in a file of the user's now
    _train(qtbot, window)
    assert len(_recovery_files(folder)) == 1
    window.ask.queue = [Yes]
    window.reset_weights()  # discarded, as asked
    assert _recovery_files(folder) == []
    _train(qtbot, window)
    window.ask.queue = [QMessageBox.StandardButton.Discard]
    window.close()
    assert _recovery_files(folder) == [] and list(folder.glob("*.lock")) == []


CRASHING_APP = textwrap.dedent("""
    import os, sys
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from guinn.gui.main_window import MainWindow
    from tests.gui.conftest import TOY
    window = MainWindow(TOY)
    window.keep_session()
    window.wait_for_dataset()
    while window.dataset is None:
        app.processEvents()
    window.trainingFinished.connect(lambda outcome: app.exit(0))
    window.start_training()
    app.exec()
    print(float(sum(abs(w).sum() for w in window.model.get_weights())))
    sys.stdout.flush()
    os._exit(3)  # a crash: no close, no clean-up
""")


def test_a_crash_leaves_the_trained_weights_for_the_next_launch(qtbot, folder, kept_window):
    root = str(Path(__file__).resolve().parents[2])  # the checkout: the child imports its tests' TOY
    run = subprocess.run([sys.executable, "-c", CRASHING_APP], capture_output=True, text=True, timeout=300,
                         cwd=root, env={**os.environ, "PYTHONPATH": root})
    assert run.returncode == 3, run.stderr[-2000:]
    trained = float(run.stdout.split()[-1])
    assert len(_recovery_files(folder)) == 1

    window, _ = kept_window()
    assert window.model is not None and window._trained and window._dirty
    assert float(sum(abs(w).sum() for w in window.model.get_weights())) == pytest.approx(trained, rel=1e-6)
    assert "recovered" in window.windowTitle() and window.banner.kind == "warning"
    assert "did not close normally" in window.banner.label.text()
    assert len(window.history.epochs) == TOY.epochs  # its curves came back too
    assert len(_recovery_files(folder)) == 1  # kept until saved or discarded
    assert window._model_file_name(".safetensors") == "model.safetensors"  # not the recovery file: saving
    # over it, the recovery slot removed the file just saved
    window.ask.queue = [QMessageBox.StandardButton.Discard]
    window.close()
    assert window.ask.asked == ["Save the trained model?"]  # closing still asks about it
    assert _recovery_files(folder) == []


def test_a_live_window_keeps_its_recovery_model_from_another(qtbot, folder, kept_window):
    first, _ = kept_window()
    _train(qtbot, first)
    (kept,) = _recovery_files(folder)
    second, _ = kept_window()
    assert second.model is None  # the first window is alive: its weights are not an orphan's
    assert kept.is_file() and second._recovery.path != kept


def test_a_recovery_model_that_cannot_be_opened_is_kept_and_shown_where(qtbot, folder, kept_window):
    folder.mkdir()
    bad = folder / "recovery-1-1.safetensors"
    bad.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{\"a\": 1}")
    window, _ = kept_window()
    kept = folder / f"unopened-{bad.name}"
    assert window.model is None and window.banner.kind == "warning"
    assert f"They are kept in {kept}" in window.banner.text() and "could not be opened now" in window.banner.text()
    assert kept.read_bytes().startswith(b"\x08") and not bad.exists()  # never deleted, never retried
    _train(qtbot, window)  # the slot is this window's now
    assert _recovery_files(folder) == [bad]


def test_weights_memory_cannot_hold_now_are_kept_for_later(qtbot, folder, kept_window, monkeypatch, tmp_path):
    from guinn.core import memory
    from guinn.models import load_model

    first, _ = kept_window()
    _train(qtbot, first)
    (written,) = _recovery_files(folder)
    orphan = folder / "recovery-7-7.safetensors"
    written.rename(orphan)  # as a window that is gone would leave it
    trained = first.model.get_weights()
    monkeypatch.setattr(memory, "available_bytes", lambda: 1024)
    second, _ = kept_window()
    assert second.model is None and "memory" in second.banner.text()
    kept = folder / f"unopened-{orphan.name}"
    monkeypatch.setattr(memory, "available_bytes", lambda: None)
    for a, b in zip(load_model(kept).get_weights(), trained, strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_run_keeps_its_weights_itself_and_says_when_it_cannot(qtbot, folder, kept_window, monkeypatch):
    window, _ = kept_window()
    writes = []
    real = session.write_recovery
    monkeypatch.setattr(session, "write_recovery", lambda *a: writes.append(a[1]) or real(*a))
    _train(qtbot, window)
    assert len(writes) == 1 and writes[0] == window._recovery.path  # by the run, not again by the window
    window._recovery.path = folder  # a folder where the file should be: every write fails
    _train(qtbot, window)
    assert "could not be kept in case guinn crashes" in window.statusBar().currentMessage()


def test_stale_lock_files_are_cleared(folder):
    folder.mkdir()
    held = folder / "recovery-5-5.lock"
    lock = QLockFile(str(held))
    assert lock.tryLock(0)  # a live window's lock, for a run that has written nothing yet
    stale = folder / "recovery-6-6.lock"
    run = subprocess.run([sys.executable, "-c", "import os, sys\nfrom PySide6.QtCore import QLockFile\n"
                          f"lock = QLockFile({str(stale)!r})\nlock.tryLock(0)\nos._exit(0)"], timeout=60)
    assert run.returncode == 0 and stale.exists()
    slot = session.RecoverySlot(folder)
    assert slot.claim() is None
    assert held.exists() and not stale.exists()
    slot.release()
    lock.unlock()


def test_a_long_run_keeps_its_weights_at_epoch_ends(tmp_path):
    from guinn.core.callbacks import History
    from guinn.layers import Dense

    rng = np.random.default_rng(0)
    x, y = rng.random((64, 4), dtype=np.float32), np.eye(2, dtype=np.float32)[rng.integers(0, 2, 64)]
    model = Sequential([Dense(8, activation="relu", input_dim=4), Dense(2, activation="softmax")], seed=1)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    path = tmp_path / "recovery-1.safetensors"
    writer = session.RecoveryWriter(path, History(), {}, interval_s=0.0)
    model.fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[writer])
    from guinn.models import load_model

    kept = load_model(path)
    assert kept.history.epoch == [0, 1, 2]  # the last epoch's record came with its weights
    for a, b in zip(kept.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    slow = session.RecoveryWriter(tmp_path / "end.safetensors", History(), {}, interval_s=3600)
    slow.skip_final = True
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[slow])
    assert not (tmp_path / "end.safetensors").exists()  # no epoch's end came after an hour
    slow.skip_final = False
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[slow])
    assert slow.wrote_final and load_model(tmp_path / "end.safetensors").history.epoch == [0, 1]


def test_once_saved_the_recovered_weights_are_no_longer_called_unsaved(qtbot, folder, kept_window, tmp_path):
    first, _ = kept_window()
    _train(qtbot, first)
    (written,) = _recovery_files(folder)
    written.rename(folder / "recovery-8-8.safetensors")  # as a window that is gone would leave it
    second, _ = kept_window()
    assert second.windowTitle() == session.RECOVERED_TITLE and "did not close normally" in second.banner.text()
    assert second.save_model(str(tmp_path / "kept.safetensors"))
    assert second.windowTitle() != session.RECOVERED_TITLE and second.banner.isHidden()
    assert not (folder / "recovery-8-8.safetensors").exists()


def test_blown_up_weights_are_not_kept_for_a_crash(qtbot, folder, kept_window):
    from guinn.core.specs import LayerSpec as Spec

    window, _ = kept_window()
    window.apply_experiment(TOY.with_changes(optimizer={"name": "sgd", "learning_rate": 10.0},
                                             layers=(Spec(64, "linear"), Spec(64, "linear")), epochs=20))
    _train(qtbot, window)
    if not window._diverged:
        pytest.skip("this run did not diverge here")
    assert window.model is not None and _recovery_files(folder) == []  # nothing worth keeping was written


def test_the_size_chosen_for_a_projector_applies_from_the_next_start(qtbot, folder, kept_window, monkeypatch):
    monkeypatch.delenv("GUINN_ZOOM", raising=False)
    window, _ = kept_window()
    assert window.zoom == 100 and window.zoom_actions[100].isChecked() and session.zoom_wanted() == 100
    window.zoom_actions[150].trigger()
    assert "opens at 150% from its next start" in window.statusBar().currentMessage()
    window.close()
    assert session.zoom_wanted() == 150  # app.main sets QT_SCALE_FACTOR from it before Qt starts
    again, _ = kept_window()
    assert again.zoom_actions[150].isChecked()
    monkeypatch.setenv("GUINN_ZOOM", "200%")  # one start's choice
    assert session.zoom_wanted() == 200
    monkeypatch.setenv("GUINN_ZOOM", "huge")
    assert session.zoom_wanted() == 150
    (folder / session.WINDOW_FILE).write_text('{"zoom": 333}')
    monkeypatch.delenv("GUINN_ZOOM")
    assert session.zoom_wanted() == 100  # not one of the sizes offered: ignored
    monkeypatch.setenv("QT_SCALE_FACTOR", "1.5")  # this start at 150% (GUINN_ZOOM's): not kept as the choice
    third, _ = kept_window()
    assert third.zoom == 100 and third.zoom_actions[100].isChecked()
    third.close()
    assert session.read_window_state()["zoom"] == 100
