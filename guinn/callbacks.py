"""Keras-style entry point: ``from guinn.callbacks import EarlyStopping, ...``."""

from guinn.core.callbacks import Callback, EarlyStopping, History, LambdaCallback, ProgbarLogger

__all__ = ["Callback", "EarlyStopping", "History", "LambdaCallback", "ProgbarLogger"]
