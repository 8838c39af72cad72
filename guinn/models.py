"""Keras-style entry point: ``from guinn.models import Sequential, load_model``."""

from guinn import keras_names
from guinn.core.model import Sequential
from guinn.errors import checked_arguments

__all__ = ["Sequential", "load_model", "model_from_json"]


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


@checked_arguments
def model_from_json(json_string):
    """Rebuild the uncompiled model ``model.to_json()`` described, with fresh weights from its
    seed (Keras's; load_weights then restores trained ones). The text is checked as untrusted
    input: any problem is a ConfigError saying what is wrong."""
    from guinn.io.model_json import model_from_json as _from_json

    return _from_json(json_string)

__getattr__ = keras_names.module_getattr("guinn.models", [*__all__], keras_names.MODELS)
