"""Names and messages from files are shown as text, never read as HTML (a layer named
<img src=/dev/zero> made Qt read /dev/zero until the app ran out of memory)."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from guinn.core.layers import Dense
from guinn.core.model import Sequential
from tests.gui.conftest import TOY

EVIL = "<img src='/dev/zero'>"


def test_every_label_shows_text_as_it_is_unless_it_escapes_what_it_shows(qtbot, make_window):
    window = make_window(TOY)
    rich = {window.layer_panel.input_card, window.layer_panel.output_card, window.layer_panel.total_label,
            window.dataset_panel.info, window.dataset_view.title, window.banner.label}
    for label in window.findChildren(QLabel):
        assert label.textFormat() != Qt.TextFormat.AutoText, label.objectName() or label.text()[:40]
        if label.textFormat() == Qt.TextFormat.RichText:
            assert label in rich, label.objectName() or label.text()[:40]


def test_a_models_layer_names_are_escaped_in_the_plots_legends(qtbot, make_window, tmp_path):
    window = make_window(TOY)
    model = Sequential([Dense(16, activation="relu", input_dim=2, name=EVIL),
                        Dense(3, activation="softmax", name="out & <b>bold</b>")])
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    path = tmp_path / "evil.safetensors"
    model.save(path)
    assert window.open_model(str(path))
    with qtbot.waitSignal(window.trainingFinished, timeout=60_000):
        qtbot.mouseClick(window.start_button, Qt.MouseButton.LeftButton)
    window.plots.setCurrentIndex(1)
    window.plots.refresh(force=True)
    texts = [label.text for curves in window.plots.layer_curves[:3] for _, label in curves.legend.items]
    texts += [label.text for _, label in window.plots.spread.legend.items]
    assert texts and not any("<img" in t or "<b>" in t for t in texts)
    assert any("&lt;img src='/dev/zero'&gt;" in t for t in texts) and any("out &amp; &lt;b&gt;" in t for t in texts)


def test_a_csv_error_and_labels_are_shown_as_text(qtbot, make_window, tmp_path):
    window = make_window(TOY)
    bad = tmp_path / "bad.csv"
    bad.write_text(f"a,b,label\n1,{EVIL},x\n")
    window.ask.queue = []
    window.dataset_panel.use({"kind": "csv", "path": str(bad), "label_column": "label"})
    qtbot.waitUntil(lambda: "could not be loaded" in window.dataset_view.title.text(), timeout=30_000)
    assert "<img" not in window.dataset_view.title.text() and "&lt;img" in window.dataset_view.title.text()
    assert "<img" not in window.dataset_panel.info.text()
