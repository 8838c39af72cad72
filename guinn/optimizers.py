"""Keras-style entry point: ``from guinn.optimizers import Adam, SGD, ...``."""

from guinn import keras_names
from guinn.core.optimizers import SGD, Adagrad, Adam, Optimizer, RMSprop, get

__all__ = ["SGD", "Adagrad", "Adam", "Optimizer", "RMSprop", "get"]

__getattr__ = keras_names.module_getattr("guinn.optimizers", [*__all__], keras_names.OPTIMIZERS)
