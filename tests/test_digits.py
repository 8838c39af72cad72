import numpy as np
import pytest

from guinn.data.digits import has_ink, preprocess_digit
from guinn.datasets.mnist import load_data
from guinn.errors import DataError


@pytest.fixture(scope="module")
def test_digits():
    return load_data()[1][0]


def bbox(img, thr=0.0):
    rows = np.flatnonzero((img > thr).any(axis=1))
    cols = np.flatnonzero((img > thr).any(axis=0))
    return rows[0], rows[-1], cols[0], cols[-1]


def centre_of_mass(img):
    ys, xs = np.indices(img.shape)
    return (img * ys).sum() / img.sum(), (img * xs).sum() / img.sum()


def on_canvas(digit, top, left, invert):
    """The digit's ink, upscaled 10x and placed off-centre on a 280x280 drawing pad."""
    r0, r1, c0, c1 = bbox(digit)
    big = np.kron(digit[r0 : r1 + 1, c0 : c1 + 1], np.ones((10, 10), dtype=np.uint8))
    canvas = np.zeros((280, 280), dtype=np.uint8)
    canvas[top : top + big.shape[0], left : left + big.shape[1]] = big
    return 255 - canvas if invert else canvas


@pytest.mark.parametrize("invert", [False, True])
@pytest.mark.parametrize("index", [0, 1, 2, 3, 4, 7, 11, 18])
def test_recovers_mnist_digit(test_digits, index, invert):
    digit = test_digits[index]
    out = preprocess_digit(on_canvas(digit, 75, 10, invert))
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0
    assert np.corrcoef(out.ravel(), digit.ravel() / 255.0)[0, 1] > 0.8
    cy, cx = centre_of_mass(out)
    assert abs(cy - 14) <= 1 and abs(cx - 14) <= 1
    r0, r1, c0, c1 = bbox(out)
    assert max(r1 - r0, c1 - c0) + 1 in (19, 20, 21)


def test_rgb_and_rgba_and_float_inputs(test_digits):
    digit = test_digits[0]
    grey = on_canvas(digit, 20, 60, invert=True)
    ref = preprocess_digit(grey)
    rgb = np.repeat(grey[:, :, None], 3, axis=2)
    np.testing.assert_allclose(preprocess_digit(rgb), ref, atol=1e-5)
    np.testing.assert_allclose(preprocess_digit(grey / 255.0), ref, atol=1e-6)
    # black ink painted on a transparent layer: alpha carries the strokes
    rgba = np.zeros((280, 280, 4), dtype=np.uint8)
    rgba[:, :, 3] = 255 - grey
    np.testing.assert_allclose(preprocess_digit(rgba), ref, atol=1e-5)


def test_blank_and_empty_give_none():
    for blank in (
        np.zeros((280, 280), np.uint8),
        np.full((280, 280), 255, np.uint8),
        np.full((50, 60), 0.5),
        np.zeros((0, 0)),
        np.zeros((280, 280, 4), np.uint8),  # fully transparent
    ):
        assert preprocess_digit(blank) is None
        assert not has_ink(blank)


def test_has_ink():
    pad = np.zeros((100, 100), np.uint8)
    pad[40:60, 48:52] = 255
    assert has_ink(pad)
    assert has_ink(255 - pad)


def test_thin_one_keeps_aspect_ratio():
    pad = np.full((280, 280), 255, np.uint8)
    pad[30:230, 150:170] = 0  # 200 x 20 dark stroke on white
    out = preprocess_digit(pad)
    r0, r1, c0, c1 = bbox(out, 0.05)
    assert r1 - r0 + 1 == 20
    assert c1 - c0 + 1 <= 3
    cy, cx = centre_of_mass(out)
    assert abs(cy - 14) <= 1 and abs(cx - 14) <= 1


def test_small_drawing_is_scaled_up():
    pad = np.zeros((280, 280), np.uint8)
    pad[100:110, 100:105] = 255  # a tiny 10x5 blob
    out = preprocess_digit(pad)
    r0, r1, c0, c1 = bbox(out, 0.05)
    assert r1 - r0 + 1 == 20 and c1 - c0 + 1 == 10
    assert out.max() == pytest.approx(1.0)


def test_grey_paper_background_is_removed():
    pad = np.full((280, 280), 200, np.uint8)  # grey paper
    pad[40:240, 120:150] = 20  # dark ink
    out = preprocess_digit(pad)
    assert out[0, 0] == 0 and out.max() == pytest.approx(1.0)


@pytest.mark.parametrize(("noise", "light"), [(2.0, 0.0), (4.0, 0.0), (0.0, 30.0), (3.0, 20.0)])
def test_a_photo_s_noise_and_uneven_light_are_paper_not_ink(test_digits, noise, light):
    """A few grey levels of sensor noise, or light falling off across the page, used to count
    as ink: the crop took in the whole picture and the digit came out tiny."""
    digit = test_digits[0]
    rng = np.random.default_rng(3)
    paper = 205 + light * np.linspace(-0.5, 0.5, 360)[None, :] + rng.normal(0, noise, (400, 360))
    photo = paper.copy()
    photo[60:340, 40:320] *= 1 - 0.75 * np.kron(digit / 255.0, np.ones((10, 10)))
    out = preprocess_digit(np.clip(photo, 0, 255).astype(np.uint8))
    r0, r1, c0, c1 = bbox(out, 0.1)
    assert max(r1 - r0, c1 - c0) + 1 in (19, 20, 21)  # scaled to MNIST's 20 px box, as a clean one is
    assert np.corrcoef(out.ravel(), digit.ravel() / 255.0)[0, 1] > 0.8


def test_a_stroke_running_off_the_pad_is_still_ink():
    pad = np.zeros((280, 280), np.uint8)
    pad[:, 120:160] = 255  # a "1" drawn from edge to edge: the border holds ink too
    out = preprocess_digit(pad)
    assert out is not None and out.max() == pytest.approx(1.0)


@pytest.mark.parametrize(
    "image, match",
    [
        (np.zeros(10), "shape"),
        (np.zeros((4, 4, 2)), "shape"),
        (np.full((4, 4), 2.0), r"\[0, 1\]"),
        (np.full((4, 4), np.nan), r"\[0, 1\]"),
        (np.zeros((4, 4), np.int32), "uint8"),
    ],
)
def test_bad_images(image, match):
    with pytest.raises(DataError, match=match):
        preprocess_digit(image)
