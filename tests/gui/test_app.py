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


def test_gui_bench_runs_and_reports(qtbot):
    from guinn.gui.bench import run_gui_bench

    lines = []
    figures = run_gui_bench(epochs=1, samples=600, startup_runs=0, out=lines.append)
    assert figures["batches"] > 0 and figures["throughput_ratio"] > 0
    assert figures["probe_ticks"] > 0 and figures["latency_max_ms"] >= 0
    assert any("throughput ratio" in line for line in lines)


def test_unexpected_errors_are_shown_not_fatal(qtbot, monkeypatch):
    from guinn.gui.main_window import MainWindow

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    window = MainWindow()
    qtbot.addWidget(window)
    window.ask = lambda *a, **k: None
    gui_app._install_excepthook(window)
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    assert "boom" in window.banner.label.text() and window.banner.kind == "error"
