"""Random shifts and scalings of image batches while training (data augmentation).

A hand-drawn digit is never placed or sized exactly like an MNIST digit. Training on copies of
each digit moved by up to ``max_shift`` pixels and resized by up to ``max_scale`` teaches the
network that these changes do not change the class.

Each image gets its own shift ``(ty, tx)`` and scale ``s``, applied around the image centre
``c`` and computed by inverse mapping: output pixel ``p`` takes the bilinear sample of the input
at ``c + (p - c - t) / s`` (outside the image counts as background, 0). Bilinear sampling with
no rotation is separable, so one image is ``Wy @ image @ Wx.T`` with two small ``(H, H)`` and
``(W, W)`` interpolation matrices, and a whole batch is two batched matrix products.

Pure NumPy, no Qt: ``Experiment.fit_arguments`` hands the augmenter to
``Sequential.fit(batch_transform=...)``, which calls it on every training batch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from guinn.errors import ConfigError, DataError, brief

Augmenter = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def _check(image_shape, max_shift, max_scale) -> tuple[int, int]:
    try:
        height, width = (int(d) for d in image_shape)
        ok = (height, width) == tuple(image_shape) and height > 0 and width > 0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ConfigError(f"image_shape must be (height, width) with positive sizes, "
                          f"got {brief(image_shape)}.")
    limits = (("max_shift", max_shift, max(height, width)), ("max_scale", max_scale, 0.9))
    for name, value, high in limits:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= high:
            raise ConfigError(f"{name} must be a number from 0 to {high}, got {brief(value)}.")
    return height, width


def _bilinear_weights(src: np.ndarray, n: int, out: np.ndarray | None = None) -> np.ndarray:
    """(batch, n_out, n) matrices: row i samples the input line at position ``src[b, i]``.

    Bilinear weights are the hat function ``max(0, 1 - |src - j|)``; rows whose sample falls
    partly or wholly outside ``[0, n - 1]`` lose that part (zero background).
    """
    w = np.subtract(src[:, :, None], np.arange(n, dtype=np.float32), out=out)
    np.abs(w, out=w)  # in place: fresh temporaries cost more than the arithmetic
    np.subtract(np.float32(1.0), w, out=w)
    return np.maximum(w, np.float32(0.0), out=w)


def random_affine_params(rng: np.random.Generator, n: int, max_shift: float, max_scale: float):
    """Per-image shifts ``(n, 2)`` in pixels (dy, dx) and scales ``(n,)``, uniformly drawn."""
    shifts = rng.uniform(-max_shift, max_shift, size=(n, 2)).astype(np.float32)
    scales = rng.uniform(1.0 - max_scale, 1.0 + max_scale, size=n).astype(np.float32)
    return shifts, scales


class _Scratch(threading.local):
    """Work buffers reused between batches: allocating fresh ~300 kB arrays every call costs
    more in page faults than the sampling itself. One set per thread."""

    def get(self, batch: int, height: int, width: int):
        bufs = getattr(self, "bufs", None)
        if bufs is None or bufs[0].shape[0] < batch or bufs[2].shape[1:] != (height, width):
            bufs = tuple(np.empty((batch, *shape), np.float32)
                         for shape in ((height, height), (width, width), (height, width)))
            self.bufs = bufs
        return tuple(b[:batch] for b in bufs)  # an epoch's short last batch reuses them too


def shift_scale(images: np.ndarray, shifts: np.ndarray, scales: np.ndarray, *,
                _scratch: _Scratch | None = None) -> np.ndarray:
    """Move each ``(H, W)`` image by ``shifts[b] = (dy, dx)`` pixels and scale it by ``scales[b]``
    around its centre, with bilinear sampling. ``images`` is ``(batch, H, W)``; returns a new
    float32 array, clipped to [0, 1]."""
    images = np.asarray(images, dtype=np.float32)
    batch, height, width = images.shape
    shifts = np.asarray(shifts, dtype=np.float32).reshape(batch, 2)
    inv = (np.float32(1.0) / np.asarray(scales, dtype=np.float32).reshape(batch))[:, None]
    cy, cx = np.float32((height - 1) / 2), np.float32((width - 1) / 2)
    rows = np.arange(height, dtype=np.float32)[None, :]
    cols = np.arange(width, dtype=np.float32)[None, :]
    wy_buf, wx_buf, tmp = _scratch.get(batch, height, width) if _scratch else (None, None, None)
    wy = _bilinear_weights(cy + (rows - cy - shifts[:, :1]) * inv, height, wy_buf)  # (batch, H, H)
    wx = _bilinear_weights(cx + (cols - cx - shifts[:, 1:]) * inv, width, wx_buf)  # (batch, W, W)
    out = np.matmul(np.matmul(wy, images, out=tmp), wx.transpose(0, 2, 1))
    return np.clip(out, 0.0, 1.0, out=out)


def make_augmenter(image_shape, max_shift: float, max_scale: float) -> Augmenter:
    """A batch transform ``(xb, rng) -> new xb`` for ``Sequential.fit(batch_transform=...)``.

    ``xb`` is float32 ``(batch, H * W)`` (flattened images, values in [0, 1]); every image gets
    an independent random shift of up to ``max_shift`` pixels along each axis and a scale in
    ``[1 - max_scale, 1 + max_scale]`` around the centre. The result stays in [0, 1]. With
    ``max_shift == max_scale == 0`` the transform is the identity: it returns ``xb`` itself
    and draws nothing from ``rng``.
    """
    height, width = _check(image_shape, max_shift, max_scale)
    max_shift, max_scale = float(max_shift), float(max_scale)
    size = height * width
    scratch = _Scratch()

    def augment(xb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        xb = np.asarray(xb)
        if xb.ndim != 2 or xb.shape[1] != size:
            raise DataError(f"The augmenter works on flattened {height}x{width} images, i.e. "
                            f"batches of shape (batch, {size}); got {xb.shape}.")
        if max_shift == 0 and max_scale == 0:
            return xb
        shifts, scales = random_affine_params(rng, len(xb), max_shift, max_scale)
        out = shift_scale(xb.reshape(len(xb), height, width), shifts, scales, _scratch=scratch)
        return out.reshape(len(xb), size)

    augment.__name__ = f"augment_shift{max_shift:g}_scale{max_scale:g}"
    return augment
