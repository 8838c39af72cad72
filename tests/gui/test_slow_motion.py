"""View > Slow motion: a run's batches at a watchable pace, switched on and off mid-run."""

import time

import pytest

from guinn.gui.main_window import SLOW_MOTION_BATCHES_PER_S, SLOW_MOTION_INTERVAL_MS


def test_slow_motion_paces_batches_and_can_be_turned_off_mid_run(qtbot, make_window):
    from tests.gui.conftest import TOY

    window = make_window(TOY.with_changes(epochs=50))  # 12 batches an epoch: 600, 30 s in slow motion
    window.slow_motion_action.trigger()  # on, before the run
    assert window.start_training()
    qtbot.waitUntil(lambda: len(window.history.batches) >= 2, timeout=10_000)
    first, start = len(window.history.batches), time.perf_counter()  # (after any start-up cost)
    qtbot.waitUntil(lambda: len(window.history.batches) >= first + 10, timeout=10_000)
    rate = (len(window.history.batches) - first) / (time.perf_counter() - start)
    assert rate <= SLOW_MOTION_BATCHES_PER_S * 1.25  # held to the pace
    assert window._control.batch_pace_s > 0 and window._plot_timer.interval() == SLOW_MOTION_INTERVAL_MS
    with qtbot.waitSignal(window.trainingFinished, timeout=15_000):  # half of what slow motion would take
        window.slow_motion_action.trigger()  # off: the rest of the 50 epochs at full speed
        assert window._control.batch_pace_s == 0
    assert window.last_outcome.epochs_done == 50


def test_the_speed_shown_is_the_last_seconds_not_the_runs_average(qtbot, make_window):
    """Slow motion switched on mid-run showed the average (191 batches/s) while it trained at 20."""
    from guinn.gui.worker import Progress

    window = make_window()

    def at(done, elapsed):
        return window._recent_rate(Progress((), 0, 0, 1, 1000, done, elapsed))

    assert at(100, 1.0) == 100  # the average, until a window has passed
    assert at(400, 2.5) == 160
    assert at(420, 3.2) == pytest.approx(320 / 2.2)
    assert at(440, 4.2) == pytest.approx(320 / 2.2)  # held until the next window
    assert at(460, 5.3) == pytest.approx(40 / 2.1)  # slowed down: the shown speed follows
    assert at(5, 0.1) == 50  # a new run starts over
