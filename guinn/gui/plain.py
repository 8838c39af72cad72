"""Untrusted text (layer names from model files, CSV labels and errors, experiment titles)
shown as text, never as HTML.

Qt renders a label's or tooltip's text as HTML when it looks like HTML, and pyqtgraph's
legends and labels always do: a layer named ``<img src=/dev/zero>`` made Qt read
/dev/zero until the app ran out of memory.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget


def plain_labels(root: QWidget) -> None:
    """Every label under ``root`` that has not chosen rich text (and escaped what it shows)
    shows its text as it is."""
    for label in root.findChildren(QLabel):
        if label.textFormat() == Qt.TextFormat.AutoText:
            label.setTextFormat(Qt.TextFormat.PlainText)


def tooltip(text: str) -> str:
    """``text`` as a tooltip shows it, whatever it contains (tooltips have no plain format)."""
    return f"<p style='white-space:pre-wrap'>{html.escape(text)}</p>"


def markup(text: str) -> str:
    """``text`` for pyqtgraph's legends and labels, which draw HTML."""
    return html.escape(text, quote=False)
