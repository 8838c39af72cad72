"""Say so when a number box puts back an entry outside its range.

Qt's spin boxes take "0" typed into Epochs (allowed 1 to 100,000) as unfinished input and,
when the box loses focus, quietly show the old value again: a teacher at the projector sees
the number "not take". Each watched box remembers what was typed; if the box then finishes
editing with text it did not accept, the window says what was allowed and what stays.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QAbstractSpinBox, QFormLayout, QLabel, QWidget

from guinn.gui.tint import set_tint, tinted_for


def watch_all(root: QWidget, say: Callable[[str], None], unsay: Callable[[str], None] = lambda text: None) -> None:
    """Watch every number box under ``root``."""
    for box in root.findChildren(QAbstractSpinBox):
        watch(box, say, unsay)


def watch(box: QAbstractSpinBox, say: Callable[[str], None], unsay: Callable[[str], None] = lambda text: None) -> None:
    """Report to ``say`` when ``box`` puts back an entry it did not accept, and take the report
    back (``unsay``) once an entry is accepted: "it stays 0.001" next to a box showing 0.01
    was untrue."""
    typed = {"text": None, "said": None}
    box.lineEdit().textEdited.connect(lambda text: typed.update(text=text))

    def finished() -> None:
        text, typed["text"] = typed["text"], None
        if text is None:
            return
        if _accepted(box, text):
            if typed["said"]:
                unsay(typed["said"])
                typed["said"] = None
            return
        low, high = box.textFromValue(box.minimum()), box.textFromValue(box.maximum())
        typed["said"] = (f"{_name_of(box)}: {text.strip() or 'an empty entry'} is not allowed (allowed: {low} to "
                         f"{high}); it stays {box.text().strip()}.")
        say(typed["said"])
        flash(box)

    box.editingFinished.connect(finished)


FLASH_MS = 2500


def flash(box: QAbstractSpinBox) -> None:
    """Tint the box red for a moment: the message is in the status bar, far from where the eyes
    are (a lecturer's 0 units 'not taking' went unnoticed)."""
    if tinted_for(box, "flash"):
        return
    set_tint(box, "flash", True)
    QTimer.singleShot(FLASH_MS, box, lambda: set_tint(box, "flash", False))


def _accepted(box: QAbstractSpinBox, text: str) -> bool:
    result = box.validate(text, len(text))
    state = result[0] if isinstance(result, (tuple, list)) else result
    return state == QValidator.State.Acceptable


def _name_of(box: QAbstractSpinBox) -> str:
    """The box's label in its form ('Epochs'), else its accessible or object name."""
    parent = box.parentWidget()
    form = parent.layout() if parent is not None else None
    if isinstance(form, QFormLayout):
        label = form.labelForField(box)
        if isinstance(label, QLabel) and label.text():
            return label.text().replace("&", "").rstrip(":")
    return box.accessibleName() or box.objectName() or "This box"
