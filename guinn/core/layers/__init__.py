"""Layers, one family per module; each layer's backward sits beside its forward."""

from guinn.core.layers.activation import Activation
from guinn.core.layers.base import Layer
from guinn.core.layers.dense import Dense
from guinn.core.layers.dropout import Dropout
from guinn.core.layers.flatten import Flatten
from guinn.core.layers.input import Input, InputLayer
from guinn.core.layers.maxout import Maxout
from guinn.core.layers.prelu import PReLU
from guinn.core.layers.registry import LAYER_TYPES, layer_from_config

__all__ = ["Activation", "Dense", "Dropout", "Flatten", "Input", "InputLayer", "LAYER_TYPES", "Layer", "Maxout",
           "PReLU", "layer_from_config"]
