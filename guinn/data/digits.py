"""Turn a drawn digit into what an MNIST model was trained on, the way MNIST itself was made.

MNIST digits were cropped, scaled (keeping aspect ratio, antialiased) so the longer side is 20 px,
and placed in a 28x28 field with their centre of mass at its centre, as white ink on black. A
model only recognises drawings that went through the same steps.
"""

from __future__ import annotations

import numpy as np

from guinn.errors import DataError

SIZE = 28
BOX = 20
CENTRE = 14.0  # MNIST centres of mass sit at pixel index 14 (mean 13.99 / 14.01 on the test set)
PAPER_SPREADS = 8  # ink stands out from paper noise by this many of its robust spreads
LIGHT_MARGIN = 1.25  # ... and from the paper's lightest/darkest border pixels by this factor
MAX_PAPER = 0.4  # ... but anything this far from the paper is ink
INK_THRESHOLD = 0.02  # low enough to keep MNIST's faint edge pixels, so its bounding boxes match
MAX_SIDE = 8192


def _to_grey(image: object) -> np.ndarray | None:
    """Grey levels in [0, 1] as float64; None for an array with no pixels."""
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] in (1, 3, 4):
        pass
    elif arr.ndim != 2:
        raise DataError(
            f"A digit image must be (height, width) grey or (height, width, 3/4) RGB(A); "
            f"got shape {arr.shape}."
        )
    if arr.size == 0:
        return None
    if max(arr.shape[:2]) > MAX_SIDE:
        raise DataError(f"A digit image must be at most {MAX_SIDE} px a side; got {arr.shape}.")
    if arr.dtype == np.uint8:
        arr = arr / 255.0
    elif arr.dtype == np.bool_:
        arr = arr.astype(np.float64)
    elif arr.dtype.kind == "f":
        arr = arr.astype(np.float64)
        if not np.isfinite(arr).all():
            raise DataError("A float digit image must hold finite values in [0, 1]; got NaN/inf.")
        if arr.min() < 0 or arr.max() > 1:
            raise DataError(
                "A float digit image must hold values in [0, 1]; got values from "
                f"{arr.min()} to {arr.max()} (divide 0-255 images by 255)."
            )
    else:
        raise DataError(f"A digit image must be uint8 (0-255) or float (0-1); got {arr.dtype}.")
    if arr.ndim == 2:
        return arr
    if arr.shape[2] == 1:
        return arr[:, :, 0]
    grey = arr[:, :, :3] @ np.array([0.299, 0.587, 0.114])
    if arr.shape[2] == 4:  # transparent pixels show the (white) paper underneath
        alpha = arr[:, :, 3]
        grey = grey * alpha + (1.0 - alpha)
    return grey


def _ink(image: object) -> np.ndarray | None:
    """Ink amount per pixel in [0, 1] with the background at 0; None if there is no ink."""
    grey = _to_grey(image)
    if grey is None:
        return None
    border = np.concatenate([grey[0], grey[-1], grey[1:-1, 0], grey[1:-1, -1]])
    if np.median(border) > 0.5:  # light paper: the ink is the dark part
        grey = 1.0 - grey
        border = 1.0 - border
    background = float(np.median(border))
    if background > 1.0 - INK_THRESHOLD:
        return None
    ink = np.clip((grey - background) / (1.0 - background), 0.0, 1.0)
    # The paper's own spread (sensor noise, uneven light across a photo; zero for a drawing or
    # an MNIST digit) is not ink: counted as ink, a few grey levels of it made the crop around
    # "the ink" take in the whole picture, and the digit came out tiny.
    ink[ink < max(INK_THRESHOLD, _paper_variation(border, background))] = 0.0
    return ink if ink.any() else None


def _paper_variation(border: np.ndarray, background: float) -> float:
    """How far plain paper strays from its median, in ink units, judged from the border: its
    noise (from neighbouring border pixels, which a gradient of light hardly separates) with
    a margin for the rarest pixels, and the light's unevenness (the border's range, leaving
    out the top tenth, where a stroke may run off the edge). Never above MAX_PAPER: a strong
    stroke is ink whatever the paper."""
    step = np.abs(np.diff(border))
    noise = 1.4826 * float(np.median(step)) / np.sqrt(2.0)
    uneven = float(np.quantile(np.abs(border - background), 0.9)) if border.size else 0.0
    return min(MAX_PAPER, max(PAPER_SPREADS * noise, LIGHT_MARGIN * uneven) / (1.0 - background))


def has_ink(image: object) -> bool:
    """Whether there is anything drawn, so callers can skip predicting on a blank pad."""
    return _ink(image) is not None


def _resize_weights(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) resampling matrix: exact area averaging down, bilinear up."""
    scale = n_in / n_out
    if scale >= 1.0:
        lo = np.arange(n_out)[:, None] * scale
        j = np.arange(n_in)[None, :]
        overlap = np.minimum(lo + scale, j + 1) - np.maximum(lo, j)
        return np.clip(overlap, 0.0, None) / scale
    src = np.clip((np.arange(n_out) + 0.5) * scale - 0.5, 0.0, n_in - 1)
    j0 = np.floor(src).astype(int)
    j1 = np.minimum(j0 + 1, n_in - 1)
    frac = src - j0
    w = np.zeros((n_out, n_in))
    rows = np.arange(n_out)
    np.add.at(w, (rows, j0), 1.0 - frac)
    np.add.at(w, (rows, j1), frac)
    return w


def _resize(img: np.ndarray, height: int, width: int) -> np.ndarray:
    return _resize_weights(img.shape[0], height) @ img @ _resize_weights(img.shape[1], width).T


def _offset(centre_of_mass: float, length: int) -> int:
    """Where to paste so the centre of mass lands on CENTRE, without cutting ink off."""
    return int(min(max(np.floor(CENTRE - centre_of_mass + 0.5), 0), SIZE - length))


def preprocess_digit(image: object) -> np.ndarray | None:
    """A (28, 28) float32 image in [0, 1] (white ink on black), or None if nothing is drawn.

    Accepts grey (H, W) or RGB(A) (H, W, 3/4) arrays, uint8 0-255 or float 0-1, either polarity:
    if the border is mostly light the image is taken as dark ink on light paper and inverted.
    None (blank or empty image) means there is nothing to predict on.
    """
    ink = _ink(image)
    if ink is None:
        return None
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = crop.shape
    scale = BOX / max(h, w)
    small = _resize(crop, max(1, round(h * scale)), max(1, round(w * scale)))
    small /= small.max()  # thin strokes averaged down to grey would look faint next to MNIST
    mass = small.sum()
    cy = (small.sum(axis=1) @ np.arange(small.shape[0])) / mass
    cx = (small.sum(axis=0) @ np.arange(small.shape[1])) / mass
    top, left = _offset(cy, small.shape[0]), _offset(cx, small.shape[1])
    out = np.zeros((SIZE, SIZE), dtype=np.float32)
    out[top : top + small.shape[0], left : left + small.shape[1]] = small
    return np.clip(out, 0.0, 1.0)
