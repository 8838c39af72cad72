"""A box tinted red, for one reason or several at once.

Two things tint a box: a setting this dataset does not allow (until it is put right) and a
number box that put back a refused entry (for a moment). Each used to save and restore the
palette on its own, so one restored the other's tint for good; here the tint follows the set
of reasons, and with none left the box takes its usual palette again.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QWidget

TINT = QColor("#f8c8c4")


def _reasons(widget: QWidget) -> set[str]:
    return set(filter(None, str(widget.property("tints") or "").split(",")))


def set_tint(widget: QWidget, reason: str, on: bool) -> None:
    reasons = _reasons(widget) | {reason} if on else _reasons(widget) - {reason}
    widget.setProperty("tints", ",".join(sorted(reasons)))
    if not reasons:
        widget.setPalette(QPalette())  # nothing of its own: the usual palette, theme changes included
        return
    palette = QPalette(QApplication.palette(widget))
    for role in (QPalette.ColorRole.Base, QPalette.ColorRole.Button):  # a spin box's field, a combo box's face
        palette.setColor(role, TINT)
    widget.setPalette(palette)


def tinted_for(widget: QWidget, reason: str) -> bool:
    return reason in _reasons(widget)
