"""The drawing pad: real mouse strokes, live predictions, undo/clear, unusable models explained."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtCore import QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QImage  # noqa: E402
from PySide6.QtWidgets import QLabel, QPushButton  # noqa: E402

from guinn.core.layers import Dense  # noqa: E402
from guinn.core.model import Sequential  # noqa: E402
from guinn.core.specs import LayerSpec, build_model  # noqa: E402
from guinn.data.digits import preprocess_digit  # noqa: E402
from guinn.datasets.mnist import load_data  # noqa: E402
from guinn.gui.drawing_pad import HINT, DrawingPadPanel, as_probabilities, pad_problem  # noqa: E402
from guinn.gui.pad_canvas import PadCanvas, qimage_to_array  # noqa: E402
from guinn.utils import to_categorical  # noqa: E402

ONE = [(140, 50), (141, 100), (140, 150), (139, 200), (140, 240)]  # a vertical stroke
SEVEN = [[(80, 70), (140, 68), (200, 70), (190, 100), (170, 140), (150, 190), (140, 230)]]


@pytest.fixture(scope="module")
def mnist_model():
    """784-64-10 trained for one epoch on 3000 digits (well under a second)."""
    (x, y), _ = load_data()
    n = 3000
    model = build_model(784, [LayerSpec(64, "relu")], 10, seed=0)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(
        (x[:n].reshape(n, -1) / 255.0).astype(np.float32),
        to_categorical(y[:n], 10),
        batch_size=50,
        epochs=1,
        verbose=0,
    )
    return model


def fixed_model(favourite: int) -> Sequential:
    """A softmax layer that ignores the image and always prefers ``favourite``."""
    model = Sequential([Dense(10, activation="softmax", input_dim=784)])
    model.build((784,))
    bias = np.zeros(10, np.float32)
    bias[favourite] = 3.0
    model.set_weights([np.zeros((784, 10), np.float32), bias])
    return model


@pytest.fixture
def pad(qtbot):
    panel = DrawingPadPanel()
    qtbot.addWidget(panel)
    return panel


def draw(qtbot, canvas, points):
    """Press, drag through ``points`` and release, with synthesized mouse events."""
    first = QPoint(*points[0])
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=first)
    for x, y in points[1:]:
        qtbot.mouseMove(canvas, QPoint(x, y))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(*points[-1]))


def shown(panel) -> str:
    return panel.findChild(QLabel, "padPrediction").text()


def test_has_the_named_controls_with_tooltips(pad):
    assert pad.objectName() == "drawingPad"
    for name in (
        "padCanvas",
        "padClearButton",
        "padUndoButton",
        "padPrediction",
        "padPreview",
        "padProbabilities",
    ):
        widget = pad.findChild(object, name)
        assert widget is not None, name
        assert len(widget.toolTip()) > 20, name
    assert "actually sees" in pad.findChild(QLabel, "padPreview").toolTip()


def test_no_model_disables_the_pad_with_a_message(pad):
    pad.set_model(None, None, None)
    assert not pad.available
    assert not pad.canvas.isEnabled()
    assert not pad.findChild(QPushButton, "padClearButton").isEnabled()
    message = pad.findChild(QLabel, "padMessage")
    assert not message.isHidden() and "No model" in message.text()
    assert pad.probabilities is None


def test_model_with_two_inputs_is_explained(pad):
    toy = build_model(2, [LayerSpec(8, "relu")], 3, seed=0)
    pad.set_model(toy, None, ("a", "b", "c"))
    message = pad.findChild(QLabel, "padMessage")
    assert not message.isHidden()
    assert "takes 2 inputs" in message.text() and "28x28" in message.text()
    assert "784 inputs" in message.text()
    pad.canvas.set_strokes(SEVEN)
    pad.refresh()
    assert pad.probabilities is None


def test_other_image_size_is_explained(pad):
    model = build_model(32 * 32, [LayerSpec(8, "relu")], 10, seed=0)
    pad.set_model(model, (32, 32), None)
    assert not pad.available
    assert "32x32 images" in pad.findChild(QLabel, "padMessage").text()


def test_drawing_with_the_mouse_predicts(qtbot, pad, mnist_model):
    pad.set_model(mnist_model, (28, 28), [str(i) for i in range(10)])
    assert shown(pad) == HINT and pad.probabilities is None
    with qtbot.waitSignal(pad.predicted, timeout=2000, check_params_cb=lambda p: p is not None):
        draw(qtbot, pad.canvas, ONE)
    assert len(pad.canvas.strokes) == 1 and len(pad.canvas.strokes[0]) == len(ONE)
    qtbot.waitUntil(lambda: shown(pad) != HINT, timeout=2000)
    probabilities = pad.probabilities
    assert probabilities.shape == (10,)
    assert abs(probabilities.sum() - 1) < 1e-5 and probabilities.min() >= 0
    assert shown(pad) == str(int(np.argmax(probabilities)))
    assert shown(pad) == "1"  # a straight vertical stroke, centred like MNIST, is a one
    assert pad.findChild(QLabel, "padConfidence").text().endswith("% sure")
    # the bar chart was updated in place with the same numbers
    np.testing.assert_allclose(pad.bars.opts["height"], probabilities)
    # the preview is the 28x28 image the network saw, scaled up
    assert pad.seen.shape == (28, 28) and pad.seen.max() == pytest.approx(1.0)
    assert pad.findChild(QLabel, "padPreview").pixmap().width() == 28 * 4


def test_predicts_while_the_stroke_is_still_being_drawn(qtbot, pad):
    pad.set_model(fixed_model(4), (28, 28), None)
    canvas = pad.canvas
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(60, 60))
    for x in range(70, 200, 10):
        qtbot.mouseMove(canvas, QPoint(x, x))
    qtbot.waitUntil(lambda: shown(pad) == "4", timeout=2000)  # mouse still down
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(200, 200))


def test_prediction_follows_the_strokes(qtbot, pad, mnist_model):
    """The input the network sees changes with each stroke and matches the pure function."""
    pad.set_model(mnist_model, (28, 28), None)
    draw(qtbot, pad.canvas, SEVEN[0])
    qtbot.waitUntil(lambda: pad.probabilities is not None, timeout=2000)
    first = pad.seen.copy()
    draw(qtbot, pad.canvas, [(110, 150), (150, 150), (200, 150)])  # cross the seven
    qtbot.waitUntil(
        lambda: pad.seen is not None and not np.array_equal(pad.seen, first), timeout=2000
    )
    np.testing.assert_array_equal(pad.seen, preprocess_digit(pad.canvas.to_array()))


def test_undo_back_to_empty_and_clear(qtbot, pad, mnist_model):
    pad.set_model(mnist_model, (28, 28), None)
    undo = pad.findChild(QPushButton, "padUndoButton")
    clear = pad.findChild(QPushButton, "padClearButton")
    draw(qtbot, pad.canvas, ONE)
    draw(qtbot, pad.canvas, [(100, 60), (180, 60)])
    qtbot.waitUntil(lambda: pad.probabilities is not None, timeout=2000)
    qtbot.mouseClick(undo, Qt.MouseButton.LeftButton)
    assert len(pad.canvas.strokes) == 1
    qtbot.waitUntil(lambda: pad.probabilities is not None and pad.seen is not None, timeout=2000)
    qtbot.mouseClick(undo, Qt.MouseButton.LeftButton)
    assert pad.canvas.is_empty()
    qtbot.waitUntil(lambda: pad.probabilities is None and shown(pad) == HINT, timeout=2000)
    assert not np.any(pad.bars.opts["height"])
    assert pad.findChild(QLabel, "padPreview").pixmap().isNull()
    qtbot.mouseClick(undo, Qt.MouseButton.LeftButton)  # nothing left to undo: harmless
    draw(qtbot, pad.canvas, ONE)
    qtbot.waitUntil(lambda: pad.probabilities is not None, timeout=2000)
    qtbot.mouseClick(clear, Qt.MouseButton.LeftButton)
    assert pad.canvas.is_empty()
    qtbot.waitUntil(lambda: pad.probabilities is None and shown(pad) == HINT, timeout=2000)


def test_refresh_picks_up_new_weights_and_models(pad):
    pad.canvas.set_strokes(SEVEN)
    pad.set_model(fixed_model(2), (28, 28), None)
    assert shown(pad) == "2"
    model = pad.model
    weights = model.get_weights()
    weights[1] = np.roll(weights[1], 3)  # "training" moved the preference to 5
    model.set_weights(weights)
    pad.refresh()
    assert shown(pad) == "5"
    pad.set_model(fixed_model(8), (28, 28), [f"class {c}" for c in "abcdefghij"])
    assert shown(pad) == "class i"
    pad.set_model(None, None, None)
    assert pad.probabilities is None and not pad.available


def test_predict_errors_are_shown_not_raised(pad):
    class Broken:
        input_shape = (784,)
        built = True

        def predict(self, x):
            from guinn.errors import DataError

            raise DataError("weights are being swapped")

    pad.canvas.set_strokes(SEVEN)
    pad.set_model(Broken(), (28, 28), None)
    assert pad.probabilities is None
    message = pad.findChild(QLabel, "padMessage")
    assert not message.isHidden() and "weights are being swapped" in message.text()


def test_unbuilt_model_waits_for_training(pad):
    model = build_model(784, [LayerSpec(8, "relu")], 10, seed=0)
    assert not model.built
    pad.canvas.set_strokes(SEVEN)
    pad.set_model(model, (28, 28), None)
    assert pad.probabilities is None and not model.built  # the pad must not build it
    assert "no weights yet" in pad.findChild(QLabel, "padMessage").text()


def test_non_softmax_outputs_become_probabilities():
    p, already = as_probabilities(np.array([2.0, -1.0, 0.5]))
    assert not already and abs(p.sum() - 1) < 1e-12 and p.argmax() == 0
    p, already = as_probabilities(np.array([0.1, 0.7, 0.2]))
    assert already and np.allclose(p, [0.1, 0.7, 0.2])
    p, already = as_probabilities(np.array([0.8]))
    assert already and np.allclose(p, [0.2, 0.8])


def test_confidence_never_rounds_up_to_certainty():
    from guinn.gui.drawing_pad import _percent

    assert [_percent(p) for p in (0.97, 0.9949, 0.9996, 1.0)] == ["97%", "99%", "99.9%", "100%"]


def test_pad_problem_is_plain_text():
    assert pad_problem(fixed_model(0), (28, 28)) is None
    assert pad_problem(fixed_model(0), None) is None  # a loaded model file: 784 inputs is enough
    assert "takes 2 inputs" in pad_problem(build_model(2, [], 2), None)


def test_canvas_image_is_white_ink_on_black(qtbot):
    canvas = PadCanvas()
    qtbot.addWidget(canvas)
    assert canvas.to_array().shape == (280, 280) and not canvas.to_array().any()
    canvas.set_strokes([[(20, 20), (100, 20)], [(200, 200)]])
    pixels = canvas.to_array()
    assert pixels.dtype == np.uint8 and pixels[20, 60] == 255 and pixels[200, 200] == 255  # dot
    assert pixels[150, 60] == 0
    # thick: the pen is ~22 px wide, with round caps past the ends
    assert pixels[12:29, 60].min() == 255 and pixels[20, 12] > 0


def test_a_bigger_canvas_draws_the_same_digit(qtbot):
    """Shown larger (a big window), the canvas keeps strokes in its logical 280 px, so the
    network reads the same image; the drawing is the largest centred square it holds."""
    canvas = PadCanvas()
    qtbot.addWidget(canvas)
    canvas.set_side(560)
    assert canvas.sizeHint().width() == 560
    canvas.resize(600, 560)  # 20 px either side of the square
    canvas.show()
    draw(qtbot, canvas, [(20 + 2 * x, 2 * y) for x, y in ((40, 40), (120, 40), (120, 200))])
    assert canvas.strokes[0][0] == (40, 40) and canvas.strokes[0][-1] == (120, 200)
    big = canvas.to_array()
    canvas.clear()
    canvas.set_strokes([[(40, 40), (120, 40), (120, 200)]])
    assert big.shape == (280, 280)
    np.testing.assert_array_equal(big, canvas.to_array())
    canvas.set_side(100)  # never below the logical size
    assert canvas.sizeHint().width() == 280


@pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")  # offscreen
def test_the_pad_grows_with_its_window(qtbot):
    pad = DrawingPadPanel()
    qtbot.addWidget(pad)
    pad.resize(1200, 700)
    pad.show()
    qtbot.waitUntil(lambda: pad.canvas.height() > 280)
    assert pad.canvas.height() == 350 and pad.chart.height() >= 170  # half the height
    assert pad.preview.width() == 28 * 5 + 2  # the answer column grows with it: 5x zoom instead of 4x
    assert pad.confidence.font().pixelSize() == 20
    pad.resize(780, 800)  # the Draw tab of a 1600 x 1000 window: half the pane stayed empty at 280
    qtbot.waitUntil(lambda: pad.canvas.height() == 780 - 360 - 24)
    pad.resize(700, 500)
    qtbot.waitUntil(lambda: pad.canvas.height() == 280)  # and shrinks back
    assert pad.preview.width() == 28 * 4 + 2 and pad.confidence.font().pixelSize() == 16


def test_qimage_rows_are_read_with_their_padding():
    image = QImage(13, 5, QImage.Format.Format_Grayscale8)  # 13 px rows are padded to 16 bytes
    assert image.bytesPerLine() > 13
    image.fill(0)
    for y in range(5):
        image.setPixel(12, y, 0xFFFFFFFF)
    array = qimage_to_array(image)
    assert array.shape == (5, 13)
    assert (array[:, 12] == 255).all() and not array[:, :12].any()


def test_smooth_path_passes_through_the_ends():
    from guinn.gui.pad_canvas import stroke_path

    points = [QPointF(0, 0), QPointF(10, 5), QPointF(20, 0), QPointF(30, 10)]
    path = stroke_path(points)
    assert path.pointAtPercent(0.0) == points[0] and path.pointAtPercent(1.0) == points[-1]


@pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")  # offscreen
def test_shown_pad_rereads_the_drawing_as_weights_change(qtbot, pad):
    """While training, the weights change under a finished drawing: the visible pad notices."""
    pad._auto.setInterval(50)
    model = fixed_model(1)
    pad.set_model(model, (28, 28), None)
    pad.canvas.set_strokes(SEVEN)
    pad.show()
    qtbot.waitExposed(pad)
    qtbot.waitUntil(lambda: shown(pad) == "1", timeout=2000)
    weights = model.get_weights()
    weights[1] = np.roll(weights[1], 5)
    model.set_weights(weights)  # as a training step would, without telling the pad
    qtbot.waitUntil(lambda: shown(pad) == "6", timeout=2000)


def _arc(cx, cy, rx, ry, a0, a1, n=16):
    return [
        (
            cx + rx * np.cos(np.radians(a0 + (a1 - a0) * i / n)),
            cy + ry * np.sin(np.radians(a0 + (a1 - a0) * i / n)),
        )
        for i in range(n + 1)
    ]


# Digits as a person draws them with a mouse: strokes in a unit box (x right, y down).
DIGIT_STROKES = {
    0: [_arc(0.5, 0.5, 0.3, 0.45, -90, 270, 24)],
    1: [[(0.55, 0.05), (0.5, 0.5), (0.45, 0.95)]],
    2: [_arc(0.5, 0.3, 0.3, 0.25, 190, 400) + [(0.15, 0.95), (0.85, 0.93)]],
    3: [_arc(0.5, 0.27, 0.28, 0.22, 200, 450) + _arc(0.5, 0.72, 0.32, 0.23, -90, 150)],
    4: [[(0.6, 0.05), (0.15, 0.65), (0.85, 0.65)], [(0.65, 0.35), (0.62, 0.95)]],
    5: [[(0.8, 0.05), (0.3, 0.05), (0.25, 0.45)] + _arc(0.5, 0.68, 0.3, 0.27, -130, 150)],
    6: [[(0.7, 0.05), (0.4, 0.3)] + _arc(0.5, 0.7, 0.3, 0.25, 200, 560)],
    7: [[(0.15, 0.05), (0.85, 0.05), (0.4, 0.95)]],
    8: [
        _arc(0.5, 0.27, 0.25, 0.22, 0, -270)
        + _arc(0.5, 0.72, 0.3, 0.23, -90, 270)
        + _arc(0.5, 0.27, 0.25, 0.22, 90, 0)
    ],
    9: [_arc(0.5, 0.3, 0.28, 0.25, 0, 360) + [(0.75, 0.95)]],
}


def test_drawn_digits_anywhere_on_the_pad_are_read(pad):
    """End to end: stroke digits at random places and sizes (90-250 px tall) on the pad, with
    the pad's pen; a network trained 2 epochs on 20k MNIST digits reads most of them."""
    (x, y), _ = load_data()
    n = 20_000
    model = build_model(784, [LayerSpec(128, "relu")], 10, seed=0)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(
        (x[:n].reshape(n, -1) / 255.0).astype(np.float32),
        to_categorical(y[:n], 10),
        batch_size=100,
        epochs=2,
        verbose=0,
    )
    pad.set_model(model, (28, 28), None)
    rng = np.random.default_rng(0)
    correct = {d: 0 for d in DIGIT_STROKES}
    tries = 6
    for digit, strokes in DIGIT_STROKES.items():
        for _ in range(tries):
            h = rng.uniform(90, 250)
            w = h * (0.15 if digit == 1 else rng.uniform(0.55, 0.8))
            x0, y0 = rng.uniform(5, 275 - w), rng.uniform(5, 275 - h)
            pad.canvas.set_strokes([[(x0 + u * w, y0 + v * h) for u, v in s] for s in strokes])
            pad.refresh()
            correct[digit] += shown(pad) == str(digit)
    total = sum(correct.values()) / (tries * len(correct))
    print(f"\nmouse-drawn digits read correctly: {total:.0%}; per digit {correct} of {tries}")
    assert total >= 0.8


def test_class_names_default_to_output_indices(pad):
    pad.canvas.set_strokes(SEVEN)
    pad.set_model(fixed_model(8), (28, 28), [f"class {c}" for c in "abcdefghij"])
    assert shown(pad) == "class i"
    pad.set_model(fixed_model(8), (28, 28), None)  # e.g. a loaded model file: no names
    assert shown(pad) == "8"
    ticks = pad.chart.getPlotItem().getAxis("bottom")._tickLevels[0]
    assert [label for _, label in ticks] == [str(i) for i in range(10)]


def test_without_a_model_the_headline_says_so(qtbot):
    from guinn.gui.drawing_pad import DrawingPadPanel

    panel = DrawingPadPanel()
    qtbot.addWidget(panel)
    panel.set_model(None, None, None)
    assert panel.prediction.text() == "No model yet"


def test_a_diverged_model_gets_a_caution(qtbot):
    """A model whose training blew up still 'predicts' confidently; the pad says not to trust it."""
    from guinn.gui.drawing_pad import DrawingPadPanel
    from guinn.layers import Dense
    from guinn.models import Sequential

    model = Sequential([Dense(10, activation="softmax", input_dim=784)], seed=0)
    model.build((784,))
    model.history.messages.append("The training loss has grown to 170 in epoch 1 ...: training is diverging.")
    panel = DrawingPadPanel()
    qtbot.addWidget(panel)
    panel.set_model(model, (28, 28), tuple("0123456789"))
    panel.canvas.set_strokes([[(100, 60), (110, 140), (120, 220)]])
    panel.refresh()
    assert panel.probabilities is not None
    assert "diverged" in panel.message.text()


def test_a_dot_is_too_small_to_read(qtbot, pad, mnist_model):
    pad.set_model(mnist_model, (28, 28), [str(i) for i in range(10)])
    draw(qtbot, pad.canvas, [(140, 140)])  # one click: a dot the width of the pen
    pad.refresh()
    assert pad.probabilities is None and shown(pad) == HINT
    message = pad.findChild(QLabel, "padMessage")
    assert "Too small to read" in message.text() and not message.isHidden()
    assert pad.seen is not None  # the preview still shows what it would have read
    pad.canvas.clear()
    draw(qtbot, pad.canvas, ONE)
    pad.refresh()
    assert shown(pad) == "1" and message.isHidden()
