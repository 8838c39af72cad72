"""Read a PNG/JPEG picture of a digit into the array the drawing pad's preprocessing takes.

Qt's image readers are used (PySide6 is already a dependency; ``QImage`` needs no
``QApplication``), imported only when a picture is read so that the command line and the
core stay Qt-free otherwise. Alpha is kept: ``preprocess_digit`` shows transparent pixels
as white paper, exactly as for the drawing pad.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from guinn.data.digits import MAX_SIDE, preprocess_digit
from guinn.errors import DataError
from guinn.io.untrusted import checked_size

MAX_FILE_BYTES = 50 * 1024**2
FORMATS = ("png", "jpeg", "jpg", "bmp", "gif", "pbm", "pgm", "ppm", "webp")  # raster formats only
WORKING_SIDE = 1024  # larger pictures are scaled down to this before NumPy sees them


def read_image(path) -> np.ndarray:
    """(height, width, 4) uint8 RGBA pixels of an image file; DataError if it cannot be read."""
    path = Path(path)
    checked_size(path, "image", MAX_FILE_BYTES, DataError)
    from PySide6.QtCore import QSize, Qt
    from PySide6.QtGui import QImage, QImageReader

    reader = QImageReader(str(path))
    kind = bytes(reader.format()).decode("ascii", "replace").lower() if reader.canRead() else ""
    if kind and kind not in FORMATS:  # e.g. SVG: a small file can take minutes to render
        raise DataError(f"Image {path} is {kind.upper()}; pictures must be {_names(FORMATS)}.")
    dims = reader.size()
    if dims.isValid() and max(dims.width(), dims.height()) > MAX_SIDE:
        raise DataError(
            f"Image {path} is {dims.width()}x{dims.height()} px; at most {MAX_SIDE} px a side."
        )
    if dims.isValid() and max(dims.width(), dims.height()) > WORKING_SIDE:
        reader.setScaledSize(QSize(*_working_size(dims.width(), dims.height())))
    image = reader.read()
    if image.isNull():
        raise DataError(
            f"Cannot read image {path}: {reader.errorString()} (supported: {_names(FORMATS)})."
        )
    if max(image.width(), image.height()) > MAX_SIDE:
        raise DataError(
            f"Image {path} is {image.width()}x{image.height()} px; at most {MAX_SIDE} px a side."
        )
    if max(image.width(), image.height()) > WORKING_SIDE:  # plenty for a 28x28 digit; NumPy's
        # float copies of a full 8192x8192 photo would take gigabytes
        image = image.convertToFormat(QImage.Format.Format_RGBA8888_Premultiplied).scaled(
            QSize(*_working_size(image.width(), image.height())), Qt.AspectRatioMode.IgnoreAspectRatio,
            Qt.TransformationMode.SmoothTransformation)
    image = image.convertToFormat(QImage.Format.Format_RGBA8888)
    height, width, stride = image.height(), image.width(), image.bytesPerLine()
    bits = np.frombuffer(image.constBits(), dtype=np.uint8, count=stride * height)
    return bits.reshape(height, stride)[:, : width * 4].reshape(height, width, 4).copy()


def _working_size(width: int, height: int) -> tuple[int, int]:
    """(width, height) scaled down to fit WORKING_SIDE, keeping the aspect ratio but at least one
    pixel a side: Qt's own scaling made a 4096x1 picture 1024x0, which it then failed to read
    ("Unknown error")."""
    scale = WORKING_SIDE / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def digit_from_image(path) -> np.ndarray | None:
    """The (28, 28) float32 image a digit model sees, or None if the picture has no ink."""
    return preprocess_digit(read_image(path))


def _names(formats) -> str:
    return ", ".join(f.upper() for f in sorted(set(formats) - {"jpg"}))
