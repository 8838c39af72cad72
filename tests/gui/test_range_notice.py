"""A number typed outside a box's range is put back by Qt without a word; the window says so."""

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest


def _type(box, text):
    box.setFocus()
    box.lineEdit().selectAll()
    QTest.keyClicks(box.lineEdit(), text)
    QTest.keyClick(box.lineEdit(), Qt.Key.Key_Return)
    box.clearFocus()


def test_an_entry_put_back_is_reported_with_the_allowed_range(window):
    epochs = window.settings.epochs
    before = epochs.value()
    _type(epochs, "0")
    assert epochs.value() == before
    assert window.statusBar().currentMessage() == f"Epochs: 0 is not allowed (allowed: 1 to 100000); it stays {before}."
    window.statusBar().clearMessage()
    _type(epochs, "7")  # accepted: nothing to say
    assert epochs.value() == 7 and window.statusBar().currentMessage() == ""
    _type(window.settings.learning_rate, "0")
    assert window.statusBar().currentMessage().startswith("Learning rate: 0 is not allowed (allowed: 1e-06 to 10)")
    _type(window.layer_panel.units, "0")  # the layer card's boxes too
    assert window.statusBar().currentMessage().startswith("Units: 0 is not allowed")
