"""Render the README screenshot with the app itself: ``python -m guinn.gui.screenshot OUT.png``.

Opens the main window offscreen with the MNIST example network, trains until a few hundred
batches have run (or a time budget is spent), grabs the window mid-training and stops.
"""

from __future__ import annotations

import argparse
import os
import time


def render(
    out: str,
    batches: int = 700,
    seconds: float = 60.0,
    tab: str = "Gradients",
    size=(1480, 900),
    limit: int | None = None,
) -> dict:
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from guinn.experiment import Experiment
    from guinn.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(["guinn"])
    exp = Experiment() if limit is None else Experiment(dataset={"kind": "mnist", "limit": limit})
    window = MainWindow(exp)
    window.ask = lambda *a, **k: None
    window.resize(*size)
    window.show()

    def pump(until, budget):
        """Run the event loop (idle, not spinning: training needs the CPU) until ``until()``."""
        end = time.monotonic() + budget
        loop, timer = QEventLoop(), QTimer()
        timer.setInterval(50)
        timer.timeout.connect(lambda: (until() or time.monotonic() > end) and loop.quit())
        timer.start()
        if not until():
            loop.exec()
        timer.stop()

    pump(lambda: window.dataset is not None, 60)
    for i in range(window.plots.count()):
        if window.plots.tabText(i).startswith(tab):
            window.plots.setCurrentIndex(i)
    window.start_training()
    pump(lambda: window.history.step >= batches or not window.is_training(), seconds)
    window.plots.refresh(visible_only=True)
    app.processEvents()
    pixmap = window.grab()
    ok = pixmap.save(out)
    info = {
        "path": out,
        "saved": ok,
        "batches": window.history.step,
        "epochs": window.history.epochs_done,
        "size": (pixmap.width(), pixmap.height()),
    }
    window.stop_training()
    pump(lambda: not window.is_training(), 30)
    window._dirty = False
    window.close()
    return info


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m guinn.gui.screenshot", description=__doc__.splitlines()[0]
    )
    parser.add_argument("out", help="PNG file to write")
    parser.add_argument("--batches", type=int, default=700, help="train this many batches first")
    parser.add_argument("--seconds", type=float, default=60.0, help="... or at most this long")
    parser.add_argument(
        "--tab", default="Gradients", help="plot tab to show (Loss, Gradients, Weights, ...)"
    )
    parser.add_argument(
        "--limit", type=int, default=None, help="MNIST training images (default: all)"
    )
    args = parser.parse_args(argv)
    info = render(args.out, args.batches, args.seconds, args.tab, limit=args.limit)
    if not info["saved"]:
        print(f"could not write {args.out}")
        return 1
    print(f"wrote {args.out} ({info['size'][0]}x{info['size'][1]}) after {info['batches']} batches")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
