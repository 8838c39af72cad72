"""A number typed outside a box's range is put back by Qt without a word; the window says so."""

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtTest import QTest

from guinn.gui import range_notice
from guinn.gui.tint import TINT


def _type(box, text):
    box.setFocus()
    box.lineEdit().selectAll()
    QTest.keyClicks(box.lineEdit(), text)
    QTest.keyClick(box.lineEdit(), Qt.Key.Key_Return)
    box.clearFocus()


def test_an_entry_put_back_is_reported_with_the_allowed_range(qtbot, window):
    epochs = window.settings.epochs
    before = epochs.value()
    _type(epochs, "0")
    assert epochs.value() == before
    assert window.statusBar().currentMessage() == f"Epochs: 0 is not allowed (allowed: 1 to 100000); it stays {before}."
    assert epochs.palette().color(QPalette.ColorRole.Base) == TINT  # the box itself says so a moment
    qtbot.waitUntil(lambda: epochs.palette().color(QPalette.ColorRole.Base) != TINT, timeout=5000)
    _type(epochs, "7")  # accepted: the report that it stayed is taken back
    assert epochs.value() == 7 and window.statusBar().currentMessage() == ""
    _type(window.settings.learning_rate, "0")
    assert window.statusBar().currentMessage().startswith("Learning rate: 0 is not allowed (allowed: 1e-06 to 10)")
    _type(window.layer_panel.units, "0")  # the layer card's boxes too
    assert window.statusBar().currentMessage().startswith("Units: 0 is not allowed")


def test_a_number_beyond_the_range_is_not_cut_into_another_one(window):
    """Qt dropped the keystroke that left the range: "1.0" in Dropout (up to 0.9) became ".0",
    dropout 0 where strong dropout was meant; "-5" in Units became 5."""
    dropout = window.layer_panel.dropout
    dropout.setValue(0.3)
    _type(dropout, "1.0")
    assert dropout.value() == 0.3
    assert window.statusBar().currentMessage().startswith("Dropout")
    assert "1.0 is not allowed" in window.statusBar().currentMessage()
    _type(dropout, "0.99")
    assert dropout.value() == 0.3 and "0.99 is not allowed" in window.statusBar().currentMessage()
    _type(dropout, "0.5")
    assert dropout.value() == 0.5
    units = window.layer_panel.units
    before = units.value()
    _type(units, "-5")
    assert units.value() == before and "-5 is not allowed" in window.statusBar().currentMessage()
    split = window.settings.validation_split
    before = split.value()
    _type(split, "0.95")
    assert split.value() == before and "0.95 is not allowed" in window.statusBar().currentMessage()


def test_the_other_separator_is_read_not_dropped(window):
    """ "0,5" typed into a box of the English locale lost its comma and became 5."""
    from PySide6.QtCore import QLocale

    shift = window.settings.max_shift
    shift.setEnabled(True)
    _type(shift, "0,5")
    assert shift.value() == 0.5
    window.settings.max_shift.setLocale(QLocale(QLocale.Language.German, QLocale.Country.Germany))
    _type(shift, "1.5")
    assert shift.value() == 1.5
    samples = window.dataset_panel.samples
    before = samples.value()
    _type(samples, "1,000,000")  # thousands separators: 1000000, beyond the box's range
    assert samples.value() == before and "not allowed" in window.statusBar().currentMessage()
    _type(samples, "2,000")
    assert samples.value() == 2000


def test_a_fraction_in_a_whole_number_box_is_reported_not_read_as_thousands(window):
    units = window.layer_panel.units
    before = units.value()
    _type(units, "12.5")  # became 125 without a word
    assert units.value() == before and "12.5 is not allowed" in window.statusBar().currentMessage()
    _type(units, "1.000")  # digits grouped by threes: a thousand
    assert units.value() == 1000


def test_a_flash_and_a_flagged_setting_tint_the_box_together(qtbot, make_window, monkeypatch):
    """Each restored its own saved palette: a problem flagged during a flash showed white, and
    once put right the box stayed red for good."""
    from tests.gui.conftest import TOY

    monkeypatch.setattr(range_notice, "FLASH_MS", 200)
    window = make_window(TOY.with_changes(dataset={"kind": "toy", "name": "xor", "n_samples": 10}))
    split = window.settings.validation_split
    clean = split.palette().color(QPalette.ColorRole.Base)
    _type(split, "5")  # refused: it flashes
    assert split.palette().color(QPalette.ColorRole.Base) == TINT
    split.setValue(0.9)  # flagged during the flash: this dataset has no samples left to train on
    assert split.property("problem")
    qtbot.wait(400)  # the flash is over; the problem is not
    assert split.palette().color(QPalette.ColorRole.Base) == TINT
    split.setValue(0.2)
    assert not split.property("problem") and split.palette().color(QPalette.ColorRole.Base) == clean
