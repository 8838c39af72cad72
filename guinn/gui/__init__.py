"""The Qt app: a thin layer over :mod:`guinn.core` that edits, trains and watches a network.

Nothing here does training maths. How the pieces fit:

- ``layer_model.LayerListModel`` adapts the plain list of ``LayerSpec`` cards (the truth,
  also stored in experiment files) for the view; ``layer_panel`` edits it with ranged spin
  boxes. A ``guard`` asks before a change would discard a trained model.
- ``worker.TrainingWorker`` (a QObject moved to a QThread) runs ``Sequential.fit`` on the
  window's own model; ``RunControl`` holds thread-safe pause/step/stop flags that the
  ``TelemetryRelay`` callback checks between batches. Only frozen records cross threads,
  at most ~30 per second, each carrying every batch since the last.
- ``history.TrainingHistory`` keeps those numbers in fixed-size NumPy buffers (pairs are
  averaged when full), so hours of training use the same memory.
- ``plots.PlotsPanel`` draws the visible tab from the history on a timer; the window
  stretches the timer so redrawing stays under ~3% of a core, and axes move in coarse
  steps so they are rarely re-laid out.
- ``main_window.MainWindow`` ties them together; ``app.main`` starts it; ``bench`` and
  ``screenshot`` drive it offscreen.
"""
