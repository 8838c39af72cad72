"""Keras-style entry point: ``from guinn.layers import Dense, Dropout, ...``."""

from guinn import keras_names
from guinn.core.layers import Activation, Dense, Dropout, Flatten, Input, InputLayer, Layer, Maxout, PReLU

__all__ = ["Activation", "Dense", "Dropout", "Flatten", "Input", "InputLayer", "Layer", "Maxout", "PReLU"]

__getattr__ = keras_names.module_getattr("guinn.layers", [*__all__], keras_names.LAYERS)
