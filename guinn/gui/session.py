"""The last session's work, kept across launches: a desktop app never loses it.

- **The setup** (data, layers, settings: an ordinary experiment file), the window's size
  and the View options are written when the window closes; the next plain ``guinn`` opens
  with them (a file named on the command line is opened after them).
- **Trained weights not saved in a file** are written to a recovery model when a run ends
  and, in a long run, at an epoch's end at most once a minute (by the training thread,
  which owns the weights then). Saving the model, discarding its weights or a normal close
  removes it, so a recovery model still there at the next launch means guinn ended without
  closing (a crash, a killed process, a power cut): its weights come back, marked unsaved.

Each running window holds a lock on its recovery model, so two guinn windows never take
each other's. The files live in the user's data folder (``GUINN_SESSION_DIR`` names another;
set but empty, it turns all this off) and are read like any other file: validated, and set
aside with a word in the status bar when unusable.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import time
from pathlib import Path

from PySide6.QtCore import QByteArray, QLockFile, QStandardPaths

from guinn.core.callbacks import Callback, _with_epoch
from guinn.errors import GuinnError
from guinn.experiment import Experiment
from guinn.gui.file_actions import DEFAULT_TITLE
from guinn.io.atomic import write_atomically

log = logging.getLogger(__name__)

SETUP_FILE = "last-setup.json"
WINDOW_FILE = "window.json"
RECOVERY_GLOB = "recovery-*.safetensors"
EDITED_TITLE = "Last session's setup"
RECOVERED_TITLE = "guinn — recovered model (not saved)"
RECOVERY_INTERVAL_S = 60.0  # least seconds between two recovery writes within a run
MAX_WINDOW_FILE_BYTES = 64 * 1024


def folder() -> Path | None:
    """Where the session's files live; None when keeping them is turned off."""
    chosen = os.environ.get("GUINN_SESSION_DIR")
    if chosen is not None:
        return Path(chosen) if chosen.strip() else None
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(location) if location else None


def read_setup() -> tuple[Experiment | None, str | None]:
    """(the last session's setup, a note for the status bar); (None, None) when there is none."""
    where = folder()
    path = where / SETUP_FILE if where else None
    if path is None or not path.is_file():
        return None, None
    try:
        exp = Experiment.load(path)
    except GuinnError as exc:
        return None, f"The last session's setup could not be restored ({exc}); the MNIST example is open instead."
    missing = _missing_data(exp.dataset)
    if missing:
        exp = exp.with_changes(dataset=Experiment().dataset)
        return exp, (f"The last session's data file {missing} is gone: MNIST is loaded instead (your layers and "
                     "settings are kept).")
    if exp == Experiment():
        return exp, None
    return exp, "Your last session's setup is back (Presets ▸ MNIST example network starts afresh)."


def _missing_data(spec: dict) -> str | None:
    """The first file a dataset description names that no longer exists, if any."""
    for key in ("path", "train_images", "train_labels", "test_images", "test_labels"):
        value = spec.get(key)
        if isinstance(value, str) and value and not Path(value).is_file():
            return value
    return None


ZOOMS = (100, 125, 150, 175, 200)  # View ▸ Size: percent of the normal size, for projectors


def zoom_wanted() -> int:
    """The size the app should open at: GUINN_ZOOM (percent), else the one chosen last time."""
    text = os.environ.get("GUINN_ZOOM", "").strip().rstrip("%")
    if text.isdigit() and 50 <= int(text) <= 400:
        return int(text)
    return offered_zoom(read_window_state().get("zoom")) or 100


def offered_zoom(value) -> int | None:
    """``value`` if it is one of the sizes View ▸ Size offers (from a file: anything may be there)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value in ZOOMS else None


def read_window_state() -> dict:
    """The window's saved geometry and View options ({} when none or unusable)."""
    where = folder()
    path = where / WINDOW_FILE if where else None
    try:
        if path is None or not path.is_file() or path.stat().st_size > MAX_WINDOW_FILE_BYTES:
            return {}
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    return state if isinstance(state, dict) else {}


def geometry_bytes(state: dict) -> QByteArray | None:
    text = state.get("geometry")
    if not isinstance(text, str):
        return None
    try:
        return QByteArray(base64.b64decode(text.encode("ascii"), validate=True))
    except (ValueError, UnicodeEncodeError):
        return None


def write_session(exp: Experiment | None, window_state: dict) -> None:
    """The setup and window state, for the next launch (a failure is logged, never raised:
    the window is closing)."""
    where = folder()
    if where is None:
        return
    try:
        where.mkdir(parents=True, exist_ok=True)
        if exp is not None:
            exp.save(where / SETUP_FILE)
        write_atomically(where / WINDOW_FILE, json.dumps(window_state).encode("utf-8"))
    except (OSError, GuinnError) as exc:
        log.warning("Could not keep the session for the next launch: %s", exc)


class RecoverySlot:
    """This window's recovery model file, locked while the window lives."""

    def __init__(self, where: Path):
        self.folder = where
        self.path: Path | None = None
        self._lock: QLockFile | None = None

    def claim(self) -> Path | None:
        """Take a slot: an orphaned recovery model (its window ended without closing) if there
        is one, which is returned (its slot is this window's now), else a new, empty slot (None)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for stale in self.folder.glob("recovery-*.lock"):  # a crash before any recovery was written
            if not stale.with_suffix(".safetensors").exists():
                _lock_if_free(stale, remove=True)
        found = sorted(self.folder.glob(RECOVERY_GLOB), key=_modified, reverse=True)
        for path in found:
            lock = _lock_if_free(path.with_suffix(".lock"))
            if lock is not None:  # its window is gone: this one takes it over
                self.path, self._lock = path, lock
                return path
        self.path = self.folder / f"recovery-{os.getpid()}-{time.time_ns()}.safetensors"
        self._lock = _lock_if_free(self.path.with_suffix(".lock"))
        return None

    def remove(self) -> None:
        if self.path is not None:
            try:
                self.path.unlink(missing_ok=True)
            except OSError as exc:  # (the window is closing, or the weights just went into a file)
                log.warning("Could not remove the recovery model %s: %s", self.path, exc)

    def release(self) -> None:
        self.remove()
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _lock_if_free(path: Path, remove: bool = False) -> QLockFile | None:
    lock = QLockFile(str(path))
    if not lock.tryLock(0):
        return None
    if remove:
        lock.unlock()
        return None
    return lock


class RecoveryWriter(Callback):
    """Keeps a run's weights for a crash, on the training thread (which owns them while it
    runs, so the window never waits for a write): at an epoch's end at most every
    ``interval_s`` seconds (more seldom when a write takes long: a big model's file is
    hundreds of MB), and once more when the run ends, after early stopping has put back its
    best weights. ``skip_final`` (the window is closing: a normal close removes the file
    anyway) leaves out that last write; ``error`` says why a write failed."""

    def __init__(self, path: Path, earlier, extras: dict, interval_s: float = RECOVERY_INTERVAL_S):
        super().__init__()
        self.path, self.earlier, self.extras, self.interval_s = path, earlier, extras, interval_s
        self.last = time.monotonic()
        self.skip_final = False
        self.wrote_final = False
        self.error: str | None = None

    def on_epoch_end(self, epoch, logs=None):
        if time.monotonic() - self.last >= self.interval_s:
            self._write(self.earlier.joined(_with_epoch(self.model, epoch, logs or {})))

    def on_train_end(self, logs=None):
        if not self.skip_final and not getattr(self.model, "stop_reason", None):  # (a diverged run: no weights to keep)
            self.wrote_final = self._write(self.earlier.joined(self.model.history))

    def _write(self, history) -> bool:
        began = time.monotonic()
        self.error = write_recovery(self.model, self.path, history, self.extras)
        took = time.monotonic() - began
        self.last = time.monotonic()
        self.interval_s = max(self.interval_s, 30 * took)  # writing takes at most ~3% of training time
        return self.error is None


def write_recovery(model, path: Path, history, extras: dict) -> str | None:
    """Write the recovery model; None, or why it could not be written (logged too)."""
    try:
        model.save(path, history=history, **extras)
    except (GuinnError, OSError) as exc:
        log.warning("Could not write the recovery model %s: %s", path, exc)
        return str(getattr(exc, "strerror", None) or exc)
    return None


class SessionKeeping:
    """The window's side: a mixin for :class:`~guinn.gui.main_window.MainWindow`, which calls
    ``_sync_recovery`` when its weights change hands and ``_end_session`` on a normal close.
    Windows made without ``keep_session`` (tests, benchmarks) keep nothing."""

    _recovery: RecoverySlot | None = None
    _session_kept = False
    _recovered_notice = ""

    def keep_session(self, setup: Experiment | None = None) -> None:
        """Put back the window state (and the explanation of ``setup``, the restored setup, when
        it is an unchanged preset), and orphaned trained weights if any; from now on keep them
        all, and the setup at close."""
        where = folder()
        if where is None:
            return
        if setup is not None and setup.description:
            self._explain(setup, setup.description)
        self._session_kept = True
        state = read_window_state()
        geometry = geometry_bytes(state)
        if geometry is not None:
            self.restoreGeometry(geometry)
        if isinstance(state.get("keep_runs"), bool):
            self.keep_runs_action.setChecked(state["keep_runs"])
        zoom = offered_zoom(state.get("zoom"))
        if zoom:
            self.choose_zoom(zoom, say=False)
        slot = RecoverySlot(where)
        try:
            orphan = slot.claim()
        except OSError as exc:
            self.statusBar().showMessage(f"Unsaved weights cannot be kept for a crash ({exc.strerror or exc}).", 10_000)
            return
        self._recovery = slot
        if orphan is not None:
            self._recover(orphan)

    def _recover(self, path: Path) -> None:
        slot = self._recovery
        slot.path = None  # opening it must not remove it: until saved, it is this window's recovery model
        try:
            opened = self.open_model(str(path))
        finally:
            slot.path = path
        if not opened:  # (memory short now, say): kept where no launch retries it, and the user told where
            reason = self.banner.text() if self.banner.kind == "error" else ""
            kept = path.with_name(f"unopened-{path.name}")
            try:
                os.replace(path, kept)
            except OSError:
                kept = path
                slot.release()  # this window does not write over it: the next launch tries again
                self._recovery = None
            self.show_info(f"guinn did not close normally last time, and the weights it had trained could not be "
                           f"opened now. {reason}\nThey are kept in {kept}: File ▸ Open model (trained weights) "
                           "can open them later.", "warning")  # (a warning: loading the data clears errors)
            return
        self._dirty = True
        self._model_path = None  # not a file of the user's: saving over it, the recovery slot removed it
        self.setWindowTitle(RECOVERED_TITLE)
        self._setup_titled = False
        self.show_info(
            "guinn did not close normally last time. The weights it had trained are back, with their "
            "settings and each epoch's figures: File ▸ Save model keeps them.",
            "warning",
        )
        self._recovered_notice = self.banner.text()
        self.metrics_label.setText("Recovered the unsaved trained model: press Continue to train it further, "
                                   "or File ▸ Save model to keep it.")

    def _sync_recovery(self, written: bool = False) -> None:
        """The recovery model holds the trained weights exactly when they are not saved
        (``written``: the run's RecoveryWriter has just written them)."""
        slot = self._recovery
        if slot is None or slot.path is None or self._diverged:  # (it keeps what the run wrote before it blew up)
            return
        if self.model is not None and self._trained and self._dirty and not self.is_training():
            problem = None if written else write_recovery(self.model, slot.path, self.whole_history(),
                                                          self._model_extras())
            if problem:
                self._recovery_failed(problem)
        else:
            slot.remove()
            self._recovery_settled()

    def _recovery_settled(self) -> None:
        """The recovered weights were saved or discarded: what said they were unsaved goes."""
        if self._recovered_notice and self.banner.text() == self._recovered_notice:
            self.banner.hide()
        self._recovered_notice = ""
        if self.windowTitle() == RECOVERED_TITLE:
            self.setWindowTitle(DEFAULT_TITLE)

    def _recovery_failed(self, problem: str) -> None:
        self.statusBar().showMessage(f"The unsaved weights could not be kept in case guinn crashes ({problem}); "
                                     "File ▸ Save model keeps them.", 15_000)

    def _after_run(self, writer: RecoveryWriter | None) -> None:
        """A run ended: its writer kept the weights, or this window does."""
        if writer is not None and writer.error and not writer.wrote_final:
            self._recovery_failed(writer.error)
        self._sync_recovery(written=writer is not None and writer.wrote_final)

    def _recovery_writer(self, earlier) -> RecoveryWriter | None:
        """The callback that keeps a long run's weights while it trains (None: not kept)."""
        slot = self._recovery
        if slot is None or slot.path is None:
            return None
        return RecoveryWriter(slot.path, earlier, self._model_extras())

    def _end_session(self) -> None:
        """A normal close: the user saved or discarded the weights when asked."""
        try:
            exp = self.experiment()
        except GuinnError:
            exp = None
        if exp is not None and not self._unchanged(exp):  # the user's own: a preset's title and text would be untrue
            exp = exp.with_changes(title=EDITED_TITLE, description="")
        state = {"geometry": base64.b64encode(bytes(self.saveGeometry().data())).decode("ascii"),
                 "keep_runs": self.keep_runs_action.isChecked(), "zoom": self.zoom}
        if self._session_kept:
            write_session(exp, state)
        if self._recovery is not None:
            self._recovery.release()
            self._recovery = None
