"""guinn: a NumPy neural-network engine with a Keras-like API, and a Qt app to watch it learn.

``import guinn`` is Qt-free: the GUI lives in :mod:`guinn.gui` and is only imported by the app.
"""

from guinn.errors import ConfigError, DataError, GuinnError, ModelFileError, TrainingError

__version__ = "0.1.0"

__all__ = ["ConfigError", "DataError", "GuinnError", "ModelFileError", "TrainingError", "__version__"]

# ``import guinn as keras; keras.layers.Dense(...)``, ``keras.Sequential``: the Keras-style
# modules load on first use, so ``import guinn`` stays light (and Qt-free).
_SUBMODULES = ("callbacks", "datasets", "initializers", "layers", "losses", "models", "optimizers", "regularizers",
               "utils")
_NAMES = {"Sequential": "guinn.models", "Input": "guinn.layers", "load_model": "guinn.models"}


def __getattr__(name: str):
    import importlib

    if name in _SUBMODULES:
        return importlib.import_module(f"guinn.{name}")
    if name in _NAMES:
        return getattr(importlib.import_module(_NAMES[name]), name)
    keras_names = importlib.import_module("guinn.keras_names")  # (not "from guinn import": that asks this hook)
    return keras_names.module_getattr("guinn", [*_SUBMODULES, *_NAMES], keras_names.TOP)(name)
