"""Flatten images (or any sample shape) to feature vectors, e.g. 28x28 -> 784."""

from __future__ import annotations

import numpy as np

from guinn.core.layers.base import Layer


class Flatten(Layer):
    type_name = "Flatten"

    def compute_output_shape(self, input_shape):
        return (int(np.prod(input_shape)),)

    def forward(self, x, training, rng):
        return self.call(x)

    def backward(self, g, need_input_grad):
        return g.reshape((g.shape[0],) + self.input_shape)

    def call(self, x):
        return x.reshape(x.shape[0], -1)
