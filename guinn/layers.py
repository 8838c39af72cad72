"""Keras-style entry point: ``from guinn.layers import Dense, Dropout, ...``."""

from guinn.core.layers import Activation, Dense, Dropout, Flatten, Input, InputLayer, Layer, Maxout, PReLU

__all__ = ["Activation", "Dense", "Dropout", "Flatten", "Input", "InputLayer", "Layer", "Maxout", "PReLU"]
