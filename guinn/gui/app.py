"""Entry point of the desktop app: ``guinn`` (no arguments) or ``python -m guinn``."""

from __future__ import annotations

import logging
import os
import sys
import traceback
import warnings

from guinn.errors import TrainingWarning

log = logging.getLogger(__name__)


def _install_excepthook(window) -> None:
    """An unexpected exception in a slot is shown in the window and logged; the app lives on."""

    def hook(exc_type, exc, tb):
        log.error("Unexpected error:\n%s", "".join(traceback.format_exception(exc_type, exc, tb)))
        try:
            window.show_error(
                f"Unexpected error ({exc_type.__name__}: {exc}). The app keeps running; "
                "please report this."
            )
        except Exception:  # noqa: BLE001 - the window may be gone
            pass

    sys.excepthook = hook


def main(argv: list[str] | None = None) -> int:
    """Create the QApplication, show the main window and run until it closes.

    ``argv``: extra arguments; a ``.json`` path opens that experiment, a ``.safetensors``
    path opens that model.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    from PySide6.QtWidgets import QApplication

    from guinn.gui import session

    # the names the session folder is found by (QStandardPaths), before anything reads it
    QApplication.setApplicationName("guinn")
    QApplication.setOrganizationName("guinn")
    zoom = session.zoom_wanted()  # View ▸ Size: Qt scales a whole application only before it starts
    if zoom != 100 and "QT_SCALE_FACTOR" not in os.environ and QApplication.instance() is None:
        os.environ["QT_SCALE_FACTOR"] = f"{zoom / 100:g}"

    app = QApplication.instance() or QApplication(
        ["guinn", *[a for a in args if a.startswith("-")]]
    )
    app.setApplicationName("guinn")
    app.setOrganizationName("guinn")
    from PySide6.QtGui import QIcon

    from guinn.resources import icon_path

    if icon_path().is_file():
        app.setWindowIcon(QIcon(str(icon_path())))
    from guinn.gui.main_window import MainWindow

    setup, note = session.read_setup()  # the last session's data, layers and settings, if kept
    window = MainWindow(setup)
    _install_excepthook(window)
    # The window shows every stop and warning in its status bar and log; none belongs on stderr.
    warnings.filterwarnings("ignore", category=TrainingWarning)
    screen = app.primaryScreen() if app.platformName() != "offscreen" else None  # (no real screen there)
    small = screen is not None and window.fit_to_screen(screen.availableGeometry().size())
    window.keep_session(setup)  # its size and place last time; unsaved weights a crash left behind
    if small and not session.read_window_state():
        window.showMaximized()  # a projector's or small laptop's screen: all of it
    else:
        window.show()
    if note:
        window.statusBar().showMessage(note, 15_000)
    warm_up = _start_kernel_warm_up()
    for arg in args:
        if arg.lower().endswith(".json"):  # (as the command line matches them: any case)
            window.open_experiment(arg)
        elif arg.lower().endswith(".safetensors"):
            window.open_model(arg)
    code = int(app.exec())
    warm_up.join(timeout=10)  # do not tear the interpreter down under a compiler call
    return code


def _start_kernel_warm_up():
    """Compile the training kernels in the background while the user sets up a run: the
    first press of Train then starts at full speed (a cold compile takes a few seconds)."""
    import threading

    from guinn.core import fused

    thread = threading.Thread(target=fused.warm_up, name="guinn-kernel-warm-up", daemon=True)
    thread.start()
    return thread


if __name__ == "__main__":
    raise SystemExit(main())
