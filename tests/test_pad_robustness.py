"""Does the drawing pad read digits as well as the network reads MNIST?

MNIST test digits are rendered large (5-9x), off-centre and at several sizes on a 280x280 pad
canvas, run through ``preprocess_digit`` and classified. If preprocessing reproduces how MNIST
was made, accuracy on the rendered digits stays within 2 percentage points of the original.
"""

import time

import numpy as np
import pytest

from guinn.core.specs import LayerSpec, build_model
from guinn.data.digits import preprocess_digit
from guinn.datasets.mnist import load_data
from guinn.utils import to_categorical

PAD = 280
N_TEST = 1000
SIZES = (5, 6, 7, 8, 9)


def resize(img: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear resize with pixel centres aligned (a drawing program's smooth zoom)."""
    ys = np.clip((np.arange(height) + 0.5) * img.shape[0] / height - 0.5, 0, img.shape[0] - 1)
    xs = np.clip((np.arange(width) + 0.5) * img.shape[1] / width - 0.5, 0, img.shape[1] - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, img.shape[0] - 1), np.minimum(x0 + 1, img.shape[1] - 1)
    fy, fx = (ys - y0)[:, None], (xs - x0)[None, :]
    top = img[y0][:, x0] * (1 - fx) + img[y0][:, x1] * fx
    bottom = img[y1][:, x0] * (1 - fx) + img[y1][:, x1] * fx
    return top * (1 - fy) + bottom * fy


def render_on_pad(digit: np.ndarray, zoom: float, rng: np.random.Generator, invert=False):
    """The digit's ink zoomed ``zoom`` times and pasted at a random place on a blank pad."""
    ink = digit / 255.0
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    big = resize(crop, round(crop.shape[0] * zoom), round(crop.shape[1] * zoom))
    top = rng.integers(0, PAD - big.shape[0] + 1)
    left = rng.integers(0, PAD - big.shape[1] + 1)
    canvas = np.zeros((PAD, PAD))
    canvas[top : top + big.shape[0], left : left + big.shape[1]] = big
    canvas = np.round(canvas * 255).astype(np.uint8)
    return 255 - canvas if invert else canvas


@pytest.fixture(scope="module")
def trained():
    """784-256-10 ReLU, Adam, 2 epochs on 20k MNIST digits (~1-3 s)."""
    (x, y), (xt, yt) = load_data()
    n = 20_000
    model = build_model(784, [LayerSpec(256, "relu")], 10, seed=0)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit((x[:n].reshape(n, -1) / 255.0).astype(np.float32), to_categorical(y[:n], 10),
              batch_size=100, epochs=2, verbose=0)
    print(f"\ntrained 784-256-10 on {n} digits in {time.perf_counter() - start:.1f} s")
    return model, xt[:N_TEST], yt[:N_TEST]


def accuracy(model, images, labels) -> float:
    flat = np.asarray(images, dtype=np.float32).reshape(len(images), -1)
    return float((model.predict(flat).argmax(axis=1) == labels).mean())


@pytest.mark.parametrize("invert", [False, True], ids=["white-on-black", "black-on-white"])
def test_pad_digits_read_as_well_as_mnist(trained, invert):
    model, digits, labels = trained
    rng = np.random.default_rng(2024)
    zooms = np.array([SIZES[i % len(SIZES)] + rng.uniform(-0.5, 0.5) for i in range(len(digits))])
    seen = []
    for digit, zoom in zip(digits, zooms, strict=True):
        out = preprocess_digit(render_on_pad(digit, zoom, rng, invert))
        assert out is not None
        seen.append(out)
    seen = np.array(seen)
    original = accuracy(model, digits / 255.0, labels)
    rendered = accuracy(model, seen, labels)
    size = zooms.round()
    per_size = {s: accuracy(model, seen[size == s], labels[size == s]) for s in SIZES}
    print(f"\naccuracy on {len(digits)} MNIST test digits: original {original:.1%}, "
          f"rendered on the pad ({'dark ink on light' if invert else 'white ink on black'}) "
          f"and preprocessed {rendered:.1%} (gap {100 * (original - rendered):+.1f} points); "
          "by zoom: " + ", ".join(f"{s}x {a:.1%}" for s, a in per_size.items()))
    assert original > 0.9
    assert original - rendered <= 0.02


def test_without_preprocessing_the_pad_would_fail(trained):
    """The control: the same pad images only shrunk to 28x28 lose most of the accuracy."""
    model, digits, labels = trained
    rng = np.random.default_rng(7)
    naive = [resize(render_on_pad(d, 7, rng) / 255.0, 28, 28) for d in digits[:300]]
    raw = accuracy(model, np.array(naive), labels[:300])
    print(f"\nplain 280->28 shrink of the pad, no cropping/centring: {raw:.1%}")
    assert raw < accuracy(model, digits[:300] / 255.0, labels[:300]) - 0.2
