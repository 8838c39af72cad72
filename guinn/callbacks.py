"""Keras-style entry point: ``from guinn.callbacks import EarlyStopping, ...``."""

from guinn import keras_names
from guinn.core.callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    History,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    ProgbarLogger,
    ReduceLROnPlateau,
    TerminateOnNaN,
)

__all__ = ["CSVLogger", "Callback", "EarlyStopping", "History", "LambdaCallback", "LearningRateScheduler",
           "ModelCheckpoint", "ProgbarLogger", "ReduceLROnPlateau", "TerminateOnNaN"]

__getattr__ = keras_names.module_getattr("guinn.callbacks", [*__all__], keras_names.CALLBACKS)
