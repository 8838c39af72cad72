"""The NumPy engine: layers, activations, losses, optimizers, callbacks and ``Sequential``.

Nothing here imports Qt; a test enforces it.
"""
