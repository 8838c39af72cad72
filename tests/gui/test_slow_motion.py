"""View > Slow motion: a run's batches at a watchable pace, switched on and off mid-run."""

import time

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
