"""The Help menu's pages: a first walk through the app and the keyboard shortcuts (read off
the window's own actions and buttons, so the list never disagrees with them)."""

from __future__ import annotations

import html

from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QAbstractButton, QMessageBox

GETTING_STARTED = """
<h3>Getting started</h3>
<ol>
<li><b>Press Start</b> (Ctrl+R). The MNIST example network trains on handwritten digits;
the plots fill in as it learns. Pause, Step (one batch) and Stop work at any moment. After a
run the button reads <b>Continue</b>: it trains the same weights on; <i>Reset weights</i>, a
preset, another network or other data start afresh.</li>
<li><b>Watch the tabs.</b> <i>Loss &amp; accuracy</i>: on the training batches (grey, and
black smoothed; blue points: each epoch's mean) and on the validation samples held out of
training (red). <i>Gradients</i>: how strongly each layer is being
corrected; a first layer far below the last is the vanishing-gradient problem.
<i>Weights</i>: how large they are, how they are spread (an L1 penalty piles them up at zero)
and how much each step changes them. <i>Saturation</i>: sigmoid or tanh units stuck at their
limits, or ReLU units that never fire.</li>
<li><b>Try a preset</b> (menu <i>Presets</i>): each sets up one lesson and explains what to
watch, e.g. 8 sigmoid layers against their ReLU twin, or the optimizers racing. Earlier runs
stay on the plots as dashed lines to compare. <i>View ▸ Slow motion</i> (Ctrl+M) slows a run
down to watch its first batches; <i>View ▸ Size (for projectors)</i> makes everything larger
from the next start.</li>
<li><b>Change the network</b> on the left: add, remove or drag layers; set units,
activation, dropout, L1 and L2 per layer. Settings on the right: optimizer, learning rate,
batch size, epochs, validation split, early stopping, seed. Every box's tooltip explains it.</li>
<li><b>Draw a digit</b> on the <i>Draw</i> tab once a digit model is trained, and see what it
reads and how sure it is. After each run the status line also shows the accuracy on the
10,000 test digits the network never trained on.</li>
<li><b>Keep your work:</b> <i>File ▸ Save model</i> keeps the trained weights (and their
curves); <i>Save experiment</i> keeps the setup to rerun. guinn reopens with your last setup,
and brings back unsaved trained weights if it ever closes without asking.</li>
</ol>
<p>Your own data: <i>CSV file…</i> in the Dataset box (numeric columns and one label column).
Scripts and the command line (<code>guinn --help</code>) do everything the window does.</p>
"""


def shortcuts(window) -> list[tuple[str, str]]:
    """(keys, what they do) for every action and button of ``window`` that has a shortcut."""
    found: dict[str, str] = {}
    for action in window.findChildren(QAction):
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        if keys and action.text():
            found.setdefault(keys, action.text().replace("&", "").rstrip("…"))
    for button in window.findChildren(QAbstractButton):
        keys = button.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        name = button.accessibleName() or button.text()  # (Start reads Continue after a run)
        if keys and name:
            found.setdefault(keys, name.replace("&", ""))
    for shortcut in window.findChildren(QShortcut):  # e.g. the drawing pad's Undo
        keys = shortcut.key().toString(QKeySequence.SequenceFormat.NativeText)
        what = shortcut.property("helpText")
        if keys and what:
            found.setdefault(keys, what)
    return sorted(found.items(), key=lambda item: item[1].lower())


def shortcuts_html(window) -> str:
    rows = "".join(f"<tr><td><b>{html.escape(keys)}</b></td><td>&nbsp;&nbsp;{html.escape(what)}</td></tr>"
                   for keys, what in shortcuts(window))
    return f"<h3>Keyboard shortcuts</h3><table>{rows}</table>"


def show_getting_started(window) -> None:
    QMessageBox.information(window, "Getting started with guinn", GETTING_STARTED)


def show_shortcuts(window) -> None:
    QMessageBox.information(window, "Keyboard shortcuts", shortcuts_html(window))
