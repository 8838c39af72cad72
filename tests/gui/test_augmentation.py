"""Augmentation in the app: the settings controls, the experiment round trip and the run."""

import numpy as np
import pytest

import guinn.data.augment as augment_module
from guinn.experiment import AugmentSpec, Experiment
from tests.gui.conftest import SMALL_MNIST, TOY


def _controls(window):
    s = window.settings
    return s.augment, s.max_shift, s.max_scale


def test_controls_follow_the_dataset(qtbot, make_window):
    window = make_window(SMALL_MNIST)
    check, shift, scale = _controls(window)
    assert check.objectName() == "augmentCheck"
    assert (shift.objectName(), scale.objectName()) == ("maxShiftSpin", "maxScaleSpin")
    assert (shift.minimum(), shift.maximum(), scale.minimum(), scale.maximum()) == (0, 8, 0, 0.5)
    assert check.isEnabled() and not check.isChecked()
    assert not shift.isEnabled() and not scale.isEnabled()  # off until the box is ticked
    check.setChecked(True)
    assert shift.isEnabled() and scale.isEnabled()
    assert "Draw tab" in check.toolTip()

    toy = make_window(TOY.with_changes(augment=AugmentSpec(True, 3.0, 0.2)))
    check, shift, scale = _controls(toy)
    assert not check.isEnabled() and not shift.isEnabled() and not scale.isEnabled()
    assert check.isChecked()  # the choice is kept, it just does not apply to 2-D points
    assert "needs images" in check.toolTip()
    assert toy.experiment().augment == AugmentSpec(True, 3.0, 0.2)


def test_settings_to_experiment_and_back(qtbot, make_window, tmp_path):
    window = make_window(SMALL_MNIST)
    check, shift, scale = _controls(window)
    with qtbot.waitSignal(window.settings.changed):
        check.setChecked(True)
    shift.setValue(3.5)
    scale.setValue(0.25)
    assert window.experiment().augment == AugmentSpec(True, 3.5, 0.25)

    path = tmp_path / "augmented.json"
    assert window.save_experiment(str(path))
    assert Experiment.load(path).augment == AugmentSpec(True, 3.5, 0.25)

    assert window.apply_experiment(SMALL_MNIST)  # augmentation off again
    assert not check.isChecked() and window.experiment().augment == AugmentSpec()
    assert window.open_experiment(str(path))
    assert check.isChecked() and shift.value() == 3.5 and scale.value() == 0.25
    assert window.experiment().augment == AugmentSpec(True, 3.5, 0.25)


def test_the_augmentation_preset_sets_the_controls(qtbot, window):
    preset = next((p for p in window.presets if p.path.stem == "mnist_augmented"), None)
    if preset is None:
        pytest.skip("the mnist_augmented preset is not shipped in this checkout")
    expected = Experiment.load(preset.path).augment
    assert expected.enabled
    assert window.load_preset(preset)
    check, shift, scale = _controls(window)
    assert check.isChecked()
    assert (shift.value(), scale.value()) == (expected.max_shift, expected.max_scale)
    assert window.experiment().augment == expected


def test_a_run_with_augmentation_calls_the_augmenter(qtbot, make_window, monkeypatch):
    made, seen = [], []
    real = augment_module.make_augmenter

    def spying_make_augmenter(image_shape, max_shift, max_scale):
        made.append((tuple(image_shape), max_shift, max_scale))
        augment = real(image_shape, max_shift, max_scale)

        def spy(xb, rng):
            out = augment(xb, rng)
            seen.append(not np.array_equal(out, xb))
            return out

        return spy

    monkeypatch.setattr(augment_module, "make_augmenter", spying_make_augmenter)
    window = make_window(SMALL_MNIST.with_changes(epochs=1))
    window.settings.augment.setChecked(True)
    window.settings.max_shift.setValue(2.0)
    window.settings.max_scale.setValue(0.1)
    with qtbot.waitSignal(window.trainingFinished, timeout=60_000) as blocker:
        assert window.start_training()
    outcome = blocker.args[0]
    assert outcome.error is None
    assert made == [((28, 28), 2.0, 0.1)]
    assert len(seen) == outcome.batches > 0 and all(seen)  # every batch was changed

    made.clear()
    seen.clear()
    window.settings.augment.setChecked(False)
    with qtbot.waitSignal(window.trainingFinished, timeout=60_000):
        assert window.start_training()
    assert made == [] and seen == []


def test_the_augmentation_row_does_not_widen_the_settings_column(qtbot, window):
    settings = window.settings
    with_row = settings.minimumSizeHint().width()
    settings.form.setRowVisible(settings.augment, False)
    try:
        assert with_row <= settings.minimumSizeHint().width()  # the right column keeps its width
    finally:
        settings.form.setRowVisible(settings.augment, True)
