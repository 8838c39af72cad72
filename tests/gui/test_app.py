"""The entry points: ``guinn.gui.app.main`` and ``python -m guinn``."""

import subprocess
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from guinn.gui import app as gui_app


def test_main_shows_the_window_and_returns_the_exit_code(qtbot, monkeypatch):
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # main installs its own; restore after
    seen = []

    def close_it():
        from guinn.gui.main_window import MainWindow

        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, MainWindow) and widget.isVisible():
                seen.append(widget.windowTitle())
                widget.close()

    QTimer.singleShot(300, close_it)
    assert gui_app.main([]) == 0
    assert seen and seen[0].startswith("guinn")


def test_python_dash_m_guinn_help():
    out = subprocess.run(
        [sys.executable, "-m", "guinn", "--help"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0
    assert "guinn" in out.stdout
