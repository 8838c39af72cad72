"""The drawing pad tab: draw a digit, watch the current network read it.

The panel listens to its canvas and re-predicts at most every ``PREDICT_INTERVAL_MS`` while the
user draws; the main window calls :meth:`DrawingPadPanel.refresh` when the weights change
(e.g. at each epoch end while training). Predicting uses :meth:`Sequential.predict`, a pure
inference path that is safe on the GUI thread while a worker thread trains the same model.

Drawing -> network input is :func:`guinn.data.digits.preprocess_digit` (pure NumPy, shared with
``guinn predict``): crop to the ink, scale the longer side to 20 px, centre the centre of mass
in 28x28, the way MNIST was made. The panel shows that 28x28 image, the top class, and a bar
per class probability. Nothing is predicted on an empty pad, and a model that does not take
28x28 images gets an explanation instead of a prediction.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QThread, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QImage, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from guinn.data.digits import SIZE, preprocess_digit
from guinn.errors import GuinnError
from guinn.gui.pad_canvas import PEN_WIDTH, PadCanvas

log = logging.getLogger(__name__)
# A drawing whose ink spans less than this (canvas pixels) is a dot or a scribble, not a digit:
# scaled up to MNIST's 20 px box it would read as a confident nonsense class.
MIN_DIGIT_PX = 2.5 * PEN_WIDTH

PREDICT_INTERVAL_MS = 50
AUTO_REFRESH_MS = 500  # while shown: re-read a drawing, so weights changing in training show up
PREVIEW_ZOOM = 4
ANSWER_COLUMN_PX = 360  # room kept beside the canvas for the prediction, preview and messages
MAX_CANVAS_PX = 840  # three times the logical canvas: larger only makes the pen travel further
PAD_INPUTS = SIZE * SIZE
HINT = "Draw a digit"

BAR_COLOR = QColor(158, 190, 222)
TOP_BAR_COLOR = QColor(31, 119, 180)

TIPS = {
    "padCanvas": "Draw a digit here with the left mouse button: white ink on black, like the "
                 "MNIST images. The network predicts while you draw. Use the whole pad or a "
                 "corner, big or small: the drawing is cropped, scaled and centred before the "
                 "network sees it.",
    "padClearButton": "Wipe the pad to start a new digit.",
    "padUndoButton": "Remove the last stroke you drew (Ctrl+Z while the pad has focus).",
    "padPrediction": "The class the network gives the highest probability. It is only as good as "
                     "the training data: a digit drawn unlike any training example can be read "
                     "wrongly yet confidently.",
    "padConfidence": "The probability of the top class. Softmax probabilities are often "
                     "over-confident, so 99% does not mean the network is right 99 times in 100.",
    "padProbabilities": "The network's output: one probability per class from the softmax layer, "
                        "summing to 1. One tall bar means the network is sure; several middling "
                        "bars mean your drawing looks like more than one class to it.",
    "padPreview": "This is what the network actually sees: your drawing cropped, scaled to 20 px "
                  "and centred by its centre of mass in a 28x28 image, like MNIST. If a digit is "
                  "read wrongly, check whether it still looks right here.",
    "padMessage": "Why the pad cannot predict right now.",
}


def pad_problem(model, image_shape) -> str | None:
    """Why ``model`` cannot read the pad's 28x28 drawings, in words; None if it can."""
    if model is None:
        return ("No model to ask yet. Build a network on MNIST and start training, or open a "
                "trained model file; then draw a digit here and watch what it predicts.")
    if image_shape is not None and tuple(image_shape) != (SIZE, SIZE):
        shape = "x".join(str(d) for d in image_shape)
        return (f"This model was trained on {shape} images; the pad draws {SIZE}x{SIZE} digits "
                f"({PAD_INPUTS} inputs), like MNIST. Train on MNIST (or another {SIZE}x{SIZE} "
                "image set) to use the pad.")
    shape = getattr(model, "input_shape", None)
    if shape is None:
        return ("The model does not know its input size yet; start training or open a trained "
                "model file to use the pad.")
    inputs = math.prod(int(d) for d in shape)
    if inputs != PAD_INPUTS:
        return (f"This model takes {inputs} input{'s' if inputs != 1 else ''}; the pad draws "
                f"{SIZE}x{SIZE} digits ({PAD_INPUTS} inputs), so it can only be read by a model "
                f"trained on {SIZE}x{SIZE} images such as MNIST. Choose the MNIST dataset (or "
                "open a model trained on it) to use the pad.")
    return None


def as_probabilities(outputs: np.ndarray) -> tuple[np.ndarray, bool]:
    """(probabilities, were_already) -- softmax outputs pass through; other outputs (a model
    without a softmax output layer) are turned into probabilities with a softmax."""
    out = np.asarray(outputs, dtype=np.float64)
    if out.size == 1:  # one sigmoid unit: P(class 1)
        p = float(np.clip(out[0], 0.0, 1.0))
        return np.array([1.0 - p, p]), bool(0.0 <= out[0] <= 1.0)
    if out.min() >= 0 and abs(out.sum() - 1.0) < 1e-3:
        return out / out.sum(), True
    shifted = np.exp(out - out.max())
    return shifted / shifted.sum(), False


def _percent(p: float) -> str:
    """'97%'; '99.9%' rather than '100%' for a probability short of 1 (nothing is that sure)."""
    return f"{math.floor(p * 1000) / 10:.1f}%" if 0.995 <= p < 1 else f"{p:.0%}"


def _big_font(pixels: int, bold: bool = True) -> QFont:
    font = QFont()
    font.setPixelSize(pixels)
    font.setBold(bold)
    return font


class DrawingPadPanel(QWidget):
    """Canvas, Clear/Undo, top class, probability bars and the 28x28 preview.

    ``set_model(model, image_shape, class_names)`` chooses what to ask; ``refresh()`` asks
    again (call it when the weights change). ``predicted`` is emitted with the probabilities
    after each prediction, or None when there is nothing to show.
    """

    predicted = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("drawingPad")
        self._model = None
        self._class_names: tuple[str, ...] = ()
        self._problem: str | None = pad_problem(None, None)
        self.probabilities: np.ndarray | None = None
        self.seen: np.ndarray | None = None  # the last (28, 28) network input

        self.canvas = PadCanvas(self)
        self.canvas.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.canvas.setToolTip(TIPS["padCanvas"])
        self.clear_button = self._button("Clear", "padClearButton", self.canvas.clear)
        self.undo_button = self._button("Undo", "padUndoButton", self.canvas.undo)
        undo = QShortcut(QKeySequence(QKeySequence.StandardKey.Undo), self)
        undo.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        undo.activated.connect(self.canvas.undo)
        undo.setProperty("helpText", "Undo the last stroke on the drawing pad")  # for Help ▸ Keyboard shortcuts

        self.prediction = self._label("padPrediction", HINT)
        self.prediction.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.prediction.setMinimumSize(150, 110)
        self.prediction.setWordWrap(True)
        self.confidence = self._label("padConfidence", "")
        self.confidence.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview = self._label("padPreview", "")
        self.preview.setFixedSize(SIZE * PREVIEW_ZOOM + 2, SIZE * PREVIEW_ZOOM + 2)
        self.preview.setFrameShape(QFrame.Shape.Box)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setStyleSheet("QLabel { background: black; border: 1px solid #888; }")
        self.preview_caption = QLabel("What the network sees (28x28)", self)
        self.preview_caption.setToolTip(TIPS["padPreview"])
        self.preview_caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message = self._label("padMessage", "")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("QLabel { background: #fff4ce; color: #5c4400; padding: 6px;"
                                   " border: 1px solid #e0c060; border-radius: 4px; }")
        self.message.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.message.hide()

        self.chart = pg.PlotWidget(background="w")
        self.chart.setObjectName("padProbabilities")
        self.chart.setToolTip(TIPS["padProbabilities"])
        self.chart.setMenuEnabled(False)
        self.chart.setMouseEnabled(x=False, y=False)
        self.chart.hideButtons()
        self.chart.setMinimumHeight(170)
        plot = self.chart.getPlotItem()
        plot.setLabel("left", "probability")
        plot.setLabel("bottom", "class")
        plot.getAxis("left").setTicks([[(v, f"{v:.0%}") for v in (0.0, 0.25, 0.5, 0.75, 1.0)], []])
        plot.showGrid(x=False, y=True, alpha=0.25)
        plot.setYRange(0.0, 1.12, padding=0)
        self.bars = pg.BarGraphItem(x=np.arange(10), height=np.zeros(10), width=0.7,
                                    brush=BAR_COLOR, pen=pg.mkPen(None))
        plot.addItem(self.bars)
        self.top_text = pg.TextItem("", color=(40, 40, 40), anchor=(0.5, 1.0))
        plot.addItem(self.top_text)
        self._set_classes(tuple(str(i) for i in range(10)))

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PREDICT_INTERVAL_MS)
        self._timer.timeout.connect(self.refresh)
        self.canvas.changed.connect(self._schedule)
        self._auto = QTimer(self)
        self._auto.setInterval(AUTO_REFRESH_MS)
        self._auto.timeout.connect(self._auto_refresh)

        buttons = QHBoxLayout()
        buttons.addWidget(self.undo_button)
        buttons.addWidget(self.clear_button)
        left = QVBoxLayout()
        left.addWidget(self.canvas)
        left.addLayout(buttons)
        left.addStretch(1)
        right = QGridLayout()
        right.addWidget(self.prediction, 0, 0)
        right.addWidget(self.confidence, 1, 0)
        right.addWidget(self.preview, 2, 0, Qt.AlignmentFlag.AlignHCenter)
        right.addWidget(self.preview_caption, 3, 0)
        # messages go beside the canvas, not above it: the canvas must not move under the pen
        right.addWidget(self.message, 4, 0)
        right.setRowStretch(5, 1)
        top = QHBoxLayout()
        top.addLayout(left)
        top.addSpacing(12)
        top.addLayout(right, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.chart, 1)
        self._show_nothing()
        self._apply_problem()

    def _button(self, text: str, name: str, slot) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.setToolTip(TIPS[name])
        button.clicked.connect(slot)
        return button

    def _label(self, name: str, text: str) -> QLabel:
        label = QLabel(text, self)
        label.setObjectName(name)
        label.setToolTip(TIPS[name])
        return label

    # -- API -------------------------------------------------------------------------------------
    def set_model(self, model, image_shape=None, class_names=None) -> None:
        """Ask ``model`` from now on (None disables the pad with an explanation).

        ``image_shape`` is the dataset's image shape ((28, 28) for MNIST; None when unknown, e.g.
        a loaded model file); ``class_names`` label the bars (default: output indices).
        """
        self._model = model
        self._problem = pad_problem(model, image_shape)
        if class_names is None:
            outputs = getattr(model, "output_shape", None) if model is not None else None
            count = int(outputs[0]) if outputs else 10
            class_names = range(count)
        self._set_classes(tuple(str(c) for c in class_names))
        self._apply_problem()
        self.refresh()

    @property
    def model(self):
        return self._model

    @property
    def available(self) -> bool:
        return self._problem is None

    def refresh(self) -> None:
        """Predict on the current drawing now (nothing on an empty pad or without a model)."""
        assert QThread.currentThread() is self.thread(), "refresh must run on the GUI thread"
        self._timer.stop()
        if self._problem is not None:
            self._show_nothing()
            return
        try:
            drawing = self.canvas.to_array()
            seen = preprocess_digit(drawing)
            if seen is None:
                self._show_nothing()
                self._say(None)
                return
            if _ink_extent(drawing) < MIN_DIGIT_PX:
                self._show_nothing(seen)
                self._say("Too small to read: draw the digit bigger, filling most of the pad. (It is "
                          "scaled to MNIST's 20-pixel box, so a dot would become a blob.)")
                return
            if not getattr(self._model, "built", True):
                self._show_nothing(seen)
                self._say("The network has no weights yet: start training (or open a trained "
                          "model) and the pad will read your drawing with it.")
                return
            outputs = np.asarray(self._model.predict(seen.reshape(1, PAD_INPUTS)))[0]
        except GuinnError as exc:
            self._show_nothing()
            self._say(str(exc))
            return
        except Exception as exc:  # noqa: BLE001 -- a slot must never raise into Qt's event loop
            log.exception("drawing pad prediction failed")
            self._show_nothing()
            self._say(f"Prediction failed: {exc}")
            return
        if not np.all(np.isfinite(outputs)):
            self._show_nothing(seen)
            self._say("The network outputs NaN or infinite values (training diverged?), so it "
                      "cannot read the drawing. Try a smaller learning rate and train again.")
            return
        probabilities, were_probabilities = as_probabilities(outputs)
        self._show(seen, probabilities)
        if getattr(self._model, "stop_reason", None) or _diverged(self._model):
            self._say("Careful: this model's training diverged, so its answers mean little. Train it "
                      "again with a smaller learning rate.")
        else:
            self._say(None if were_probabilities else
                      "This model's last layer is not a softmax, so its outputs are not probabilities; "
                      "the bars show them after a softmax.")

    # -- internals -------------------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        super().showEvent(event)
        self._auto.start()
        self.refresh()

    def hideEvent(self, event) -> None:  # noqa: N802
        self._auto.stop()
        super().hideEvent(event)

    def resizeEvent(self, event) -> None:  # noqa: N802
        """A bigger pad on a bigger window: the canvas takes up to half the height (the chart
        keeps the rest) and leaves the answer column its room; never below its logical size."""
        super().resizeEvent(event)
        size = event.size()
        # (half the width left beside the answer column kept the canvas at 280 px in any window
        # narrower than 1,300 px, with half the pane empty)
        self.canvas.set_side(min(size.height() // 2, size.width() - ANSWER_COLUMN_PX - 24, MAX_CANVAS_PX))
        self._size_answer()

    def _auto_refresh(self) -> None:
        """Training changes the weights under a finished drawing: ask again now and then
        (about a millisecond per prediction), only while the pad is on screen."""
        if self._problem is None and not self.canvas.is_empty() and self.isVisible():
            self.refresh()

    def _schedule(self) -> None:
        """Throttle: at most one prediction per interval, the first soon after drawing starts."""
        if not self._timer.isActive():
            self._timer.start()

    def _apply_problem(self) -> None:
        ok = self._problem is None
        for widget in (self.canvas, self.clear_button, self.undo_button):
            widget.setEnabled(ok)
        self.canvas.hint = "Draw a digit here" if ok else ""
        self.preview.setVisible(ok)
        self.preview_caption.setVisible(ok)
        self.canvas.update()
        self._say(self._problem)
        if not ok:
            self._show_nothing()
            self.prediction.setText(self._unavailable_headline())

    def _unavailable_headline(self) -> str:
        return "No model yet" if self._model is None else "Pad unavailable"

    def _say(self, text: str | None) -> None:
        self.message.setText(text or "")
        self.message.setVisible(bool(text))

    def _set_classes(self, names: tuple[str, ...]) -> None:
        if names == self._class_names:
            return
        self._class_names = names
        n = len(names)
        self.bars.setOpts(x=np.arange(n), height=np.zeros(n), brushes=[BAR_COLOR] * n)
        axis = self.chart.getPlotItem().getAxis("bottom")
        step = max(1, math.ceil(n / 30))  # keep labels readable for many classes
        axis.setTicks([[(i, names[i]) for i in range(0, n, step)], []])
        self.chart.getPlotItem().setXRange(-0.6, n - 0.4, padding=0)

    def _show_nothing(self, seen: np.ndarray | None = None) -> None:
        changed = self.probabilities is not None
        self.probabilities = None
        self.seen = seen
        self.prediction.setStyleSheet("QLabel { color: #777; }")
        self.prediction.setText(HINT if self._problem is None else self._unavailable_headline())
        self._size_answer()
        self.confidence.setText("")
        n = len(self._class_names)
        self.bars.setOpts(height=np.zeros(n), brushes=[BAR_COLOR] * n)
        self.top_text.setText("")
        self._set_preview(seen)
        if changed:
            self.predicted.emit(None)

    def _show(self, seen: np.ndarray, probabilities: np.ndarray) -> None:
        n = len(probabilities)
        if len(self._class_names) != n:
            self._set_classes(tuple(str(i) for i in range(n)))
        top = int(np.argmax(probabilities))
        self.probabilities = probabilities
        self.seen = seen
        name = self._class_names[top]
        self.prediction.setStyleSheet("QLabel { color: #1f77b4; }")
        self.prediction.setText(name)
        self._size_answer()
        self.confidence.setText(f"{_percent(float(probabilities[top]))} sure")
        brushes = [BAR_COLOR] * n
        brushes[top] = TOP_BAR_COLOR
        self.bars.setOpts(height=probabilities, brushes=brushes)
        self.top_text.setText(_percent(float(probabilities[top])))  # as the confidence line says it
        self.top_text.setPos(top, float(probabilities[top]) + 0.01)
        self._set_preview(seen)
        self.predicted.emit(probabilities)

    def _size_answer(self) -> None:
        """The answer column's fonts and preview, grown with the canvas (a big window's pad)."""
        scale = self.canvas.sizeHint().width() / self.canvas.logical
        if self.probabilities is None:
            self.prediction.setFont(_big_font(round(22 * scale), bold=False))
        else:
            self.prediction.setFont(_big_font(round((96 if len(self.prediction.text()) <= 3 else 28) * scale)))
        self.confidence.setFont(_big_font(round(16 * scale), bold=False))
        side = SIZE * round(PREVIEW_ZOOM * scale) + 2
        if self.preview.width() != side:
            self.preview.setFixedSize(side, side)
            self._set_preview(self.seen)

    def _set_preview(self, seen: np.ndarray | None) -> None:
        side = self.preview.width() - 2
        if seen is None:
            self.preview.clear()
            self.preview.setText("")
            return
        pixels = np.ascontiguousarray(np.round(np.clip(seen, 0.0, 1.0) * 255), dtype=np.uint8)
        image = QImage(pixels.data, SIZE, SIZE, SIZE, QImage.Format.Format_Grayscale8).copy()
        pixmap = QPixmap.fromImage(image).scaled(side, side, Qt.AspectRatioMode.IgnoreAspectRatio,
                                                 Qt.TransformationMode.FastTransformation)
        self.preview.setPixmap(pixmap)


def _diverged(model) -> bool:
    """The engine's history says the last run's loss exploded (finite, so no stop_reason)."""
    history = getattr(model, "history", None)
    return any("training is diverging" in m for m in getattr(history, "messages", ()))


def _ink_extent(drawing: np.ndarray) -> int:
    """The longer side of the ink's bounding box, in canvas pixels (0 on a blank canvas)."""
    rows, cols = np.flatnonzero(drawing.any(axis=1)), np.flatnonzero(drawing.any(axis=0))
    if not len(rows):
        return 0
    return int(max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1)
