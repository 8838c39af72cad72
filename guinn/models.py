"""Keras-style entry point: ``from guinn.models import Sequential, load_model``."""

from guinn.core.model import Sequential

__all__ = ["Sequential", "load_model"]


def load_model(path):
    """Load a model saved with ``model.save(path)`` (a validated ``.safetensors`` file)."""
    from guinn.io.model_file import load_model as _load

    return _load(path)
