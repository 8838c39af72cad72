"""Keras-style entry point: ``from guinn.optimizers import Adam, SGD, ...``."""

from guinn.core.optimizers import SGD, Adagrad, Adam, Optimizer, RMSprop, get

__all__ = ["SGD", "Adagrad", "Adam", "Optimizer", "RMSprop", "get"]
