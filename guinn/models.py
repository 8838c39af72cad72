"""Keras-style entry point: ``from guinn.models import Sequential, load_model``."""

from guinn.core.model import Sequential
from guinn.errors import checked_arguments

__all__ = ["Sequential", "load_model"]


@checked_arguments
def load_model(path, compile=True):  # noqa: A002 - Keras's name
    """Load a model saved with ``model.save(path)`` (a validated ``.safetensors`` file).
    With ``compile=False`` (Keras's) the saved loss and optimizer state are left out: the
    model predicts, and ``compile`` sets up fresh training."""
    from guinn.io.model_file import load_model as _load

    model = _load(path)
    if not compile:
        model.compiled, model.loss, model.optimizer, model.metrics = False, None, None, []
    return model
