"""The Qt app: a thin layer over :mod:`guinn.core` that edits, trains and watches a network.

Nothing here does training maths; widgets edit plain specs, a worker thread runs
``Sequential.fit`` and frozen telemetry records come back to be plotted.
"""
