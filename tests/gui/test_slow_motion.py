"""View > Slow motion: a run's batches at a watchable pace, switched on and off mid-run."""

import time

from guinn.gui.main_window import SLOW_MOTION_BATCHES_PER_S, SLOW_MOTION_INTERVAL_MS


def test_slow_motion_paces_batches_and_can_be_turned_off_mid_run(qtbot, make_window):
    from tests.gui.conftest import TOY

    window = make_window(TOY.with_changes(epochs=50))
    window.slow_motion_action.trigger()  # on, before the run
    assert window.slow_motion_action.isChecked()
    start = time.perf_counter()
    assert window.start_training()
    qtbot.waitUntil(lambda: len(window.history.batches) >= 10, timeout=10_000)
    seconds = time.perf_counter() - start
    batches = len(window.history.batches)
    assert batches / seconds <= SLOW_MOTION_BATCHES_PER_S * 1.3  # held to the pace (plus start-up slack)
    assert window._plot_timer.interval() == SLOW_MOTION_INTERVAL_MS
    with qtbot.waitSignal(window.trainingFinished, timeout=60_000):
        window.slow_motion_action.trigger()  # off: the rest of the 50 epochs at full speed
    assert not window.slow_motion_action.isChecked()
    assert window.last_outcome.epochs_done == 50
