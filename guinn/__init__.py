"""guinn: a NumPy neural-network engine with a Keras-like API, and a Qt app to watch it learn.

``import guinn`` is Qt-free: the GUI lives in :mod:`guinn.gui` and is only imported by the app.
"""

from guinn.errors import ConfigError, DataError, GuinnError, ModelFileError, TrainingError

__version__ = "0.1.0"

__all__ = ["ConfigError", "DataError", "GuinnError", "ModelFileError", "TrainingError", "__version__"]
