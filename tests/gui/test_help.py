"""The Help menu: getting started and the keyboard shortcuts, read off the window itself."""

from guinn.gui import help as help_pages


def test_the_shortcut_list_is_the_windows_own(window):
    keys = dict(help_pages.shortcuts(window))
    assert keys["Ctrl+R"] == "Start / Continue" and keys["Ctrl+M"].startswith("Slow motion")
    assert keys["F1"] == "Getting started"
    assert keys["Ctrl+Shift+S"] == "Save model (trained weights)"
    assert keys["Ctrl+Z"] == "Undo the last stroke on the drawing pad"
    table = help_pages.shortcuts_html(window)
    assert table.count("<tr>") == len(keys) and "Ctrl+T" in table


def test_the_help_menu_opens_both_pages(window, monkeypatch):
    shown = []
    monkeypatch.setattr(help_pages.QMessageBox, "information", lambda parent, title, text: shown.append(title))
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    for action in menu.actions():
        if action.text() in ("Getting started", "Keyboard shortcuts"):
            action.trigger()
    assert shown == ["Getting started with guinn", "Keyboard shortcuts"]
    for tab in ("Loss &amp; accuracy", "Gradients", "Saturation", "Draw"):  # the tabs it names exist
        assert tab in help_pages.GETTING_STARTED
    names = [window.plots.tabText(i).replace("&&", "&amp;") for i in range(window.plots.count())]
    assert {"Loss &amp; accuracy", "Gradients", "Saturation", "Draw"} <= set(names)
