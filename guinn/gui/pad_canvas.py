"""The drawing surface of the drawing pad: white ink on black, like MNIST.

Strokes are kept as lists of points (so the last one can be undone) and drawn as smooth,
thick, round-capped QPainterPaths: the path runs through the midpoints between mouse samples
with quadratic curves, so fast mouse moves give curves instead of corners.
:meth:`PadCanvas.to_array` renders the same strokes off-screen into a grey QImage at the
canvas's logical size and hands back a NumPy copy for :func:`guinn.data.digits.preprocess_digit`.
The widget may be shown larger than that (a big window gets a big pad): strokes are kept in
logical pixels and drawn scaled, so what the network reads does not depend on the window.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

CANVAS_SIZE = 280
PEN_WIDTH = 22.0  # ~2.2 px once the digit is scaled to MNIST's 20 px box: MNIST's stroke width
MIN_STEP = 1.5  # mouse samples closer than this (logical px) to the last point add nothing

INK = QColor(255, 255, 255)
PAPER = QColor(0, 0, 0)
PAPER_DISABLED = QColor(45, 45, 45)
HINT_COLOR = QColor(110, 110, 110)


def stroke_path(points: list[QPointF]) -> QPainterPath:
    """A smooth path through ``points``: straight to the first midpoint, quadratic curves with
    the samples as control points between midpoints, straight to the last sample."""
    path = QPainterPath(points[0])
    if len(points) == 1:
        return path
    for current, following in zip(points[1:-1], points[2:], strict=True):
        path.quadTo(current, (current + following) / 2.0)
    path.lineTo(points[-1])
    return path


def paint_strokes(painter: QPainter, strokes: list[list[QPointF]],
                  width: float = PEN_WIDTH) -> None:
    """Draw the strokes with a thick round pen; a single click leaves a round dot."""
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    pen = QPen(INK, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
               Qt.PenJoinStyle.RoundJoin)
    for points in strokes:
        if not points:
            continue
        if len(points) == 1:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(INK)
            painter.drawEllipse(points[0], width / 2, width / 2)
            continue
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(stroke_path(points))


def qimage_to_array(image: QImage) -> np.ndarray:
    """A Grayscale8 QImage as a (height, width) uint8 NumPy copy (rows are padded to
    ``bytesPerLine``, which may be wider than the image)."""
    if image.format() != QImage.Format.Format_Grayscale8:
        image = image.convertToFormat(QImage.Format.Format_Grayscale8)
    height, width, stride = image.height(), image.width(), image.bytesPerLine()
    buffer = np.frombuffer(image.constBits(), dtype=np.uint8, count=stride * height)
    return buffer.reshape(height, stride)[:, :width].copy()


class PadCanvas(QWidget):
    """Draw with the left mouse button. Emits ``changed`` while drawing and after undo/clear."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None, size: int = CANVAS_SIZE):
        super().__init__(parent)
        self.setObjectName("padCanvas")
        self.logical = size  # the drawing's own size, in the pixels strokes and to_array use
        self._side = size  # shown size (set_side); never below the logical one
        self.setMinimumSize(size, size)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self._strokes: list[list[QPointF]] = []
        self._drawing = False
        self.hint = "Draw a digit here"

    # -- state -------------------------------------------------------------------------------
    @property
    def strokes(self) -> list[list[tuple[float, float]]]:
        """The strokes as lists of (x, y) in logical canvas pixels, oldest first (a copy)."""
        return [[(p.x(), p.y()) for p in stroke] for stroke in self._strokes]

    def is_empty(self) -> bool:
        return not self._strokes

    def set_strokes(self, strokes) -> None:
        """Replace the drawing with ``strokes`` (lists of (x, y) points), e.g. for tests."""
        self._drawing = False
        self._strokes = [[QPointF(float(x), float(y)) for x, y in s] for s in strokes if len(s)]
        self._changed()

    def undo(self) -> None:
        """Remove the most recent stroke (the one being drawn, if the mouse is still down)."""
        if self._strokes:
            self._strokes.pop()
            self._drawing = False
            self._changed()

    def clear(self) -> None:
        if self._strokes:
            self._strokes.clear()
            self._drawing = False
            self._changed()

    def _changed(self) -> None:
        self.update()
        self.changed.emit()

    # -- output ------------------------------------------------------------------------------
    def set_side(self, side: int) -> None:
        """Show the drawing ``side`` pixels square (at least its logical size); the layout
        takes it as the canvas's preferred size."""
        side = max(self.logical, int(side))
        if side != self._side:
            self._side = side
            self.updateGeometry()
            self.update()

    def _square(self) -> tuple[QPointF, float]:
        """(top-left, scale) of the drawing: the largest centred square the widget holds."""
        side = min(self.width(), self.height())
        return QPointF((self.width() - side) / 2, (self.height() - side) / 2), side / self.logical

    def _logical(self, event: QMouseEvent) -> QPointF:
        origin, scale = self._square()
        return (QPointF(event.position()) - origin) / scale

    def to_image(self) -> QImage:
        """The strokes rendered white on black at the canvas's logical size (no hint text,
        independent of the shown size and the screen's pixel ratio)."""
        image = QImage(self.logical, self.logical, QImage.Format.Format_Grayscale8)
        image.fill(PAPER)
        painter = QPainter(image)
        try:
            paint_strokes(painter, self._strokes)
        finally:
            painter.end()
        return image

    def to_array(self) -> np.ndarray:
        """(height, width) uint8, 0 = paper, 255 = ink."""
        return qimage_to_array(self.to_image())

    # -- Qt ------------------------------------------------------------------------------------
    def sizeHint(self) -> QSize:  # noqa: N802 (Qt naming)
        return QSize(self._side, self._side)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), self.palette().window())  # around the square, if any
            origin, scale = self._square()
            painter.translate(origin)
            painter.scale(scale, scale)
            area = QRectF(0, 0, self.logical, self.logical)
            painter.fillRect(area, PAPER if self.isEnabled() else PAPER_DISABLED)
            if not self._strokes and self.isEnabled() and self.hint:
                painter.setPen(HINT_COLOR)
                font = painter.font()
                font.setPointSizeF(font.pointSizeF() * 1.2)
                painter.setFont(font)
                painter.drawText(area, Qt.AlignmentFlag.AlignCenter, self.hint)
            paint_strokes(painter, self._strokes)
        finally:
            painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        self._drawing = True
        self._strokes.append([self._logical(event)])
        self._changed()
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if not self._drawing or not event.buttons() & Qt.MouseButton.LeftButton:
            return super().mouseMoveEvent(event)
        point = self._logical(event)
        last = self._strokes[-1][-1]
        if (point - last).manhattanLength() >= MIN_STEP:
            self._strokes[-1].append(point)
            self._changed()
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton or not self._drawing:
            return super().mouseReleaseEvent(event)
        self._drawing = False
        point = self._logical(event)
        if (point - self._strokes[-1][-1]).manhattanLength() >= MIN_STEP:
            self._strokes[-1].append(point)
        self._changed()
        event.accept()
