"""Parametric ReLU: f(z) = z for z > 0, alpha * z otherwise, with alpha learned per unit.

Where a Leaky ReLU fixes the negative slope, PReLU lets gradient descent choose it
(He et al., 2015, "Delving Deep into Rectifiers").
"""

from __future__ import annotations

import numpy as np

from guinn.core import initializers, regularizers
from guinn.core.layers.base import Layer, require_flat, rms
from guinn.errors import checked_arguments


class PReLU(Layer):
    type_name = "PReLU"

    @checked_arguments
    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None, name=None, input_shape=None):
        super().__init__(name=name, input_shape=input_shape)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self._dead = float("nan")
        self._delta_rms = float("nan")

    def compute_output_shape(self, input_shape):
        require_flat(self, input_shape)
        return input_shape

    def param_shapes(self):
        return [("alpha", self.input_shape)]

    def initialize(self, rng):
        a = self.params["alpha"]
        a[...] = self.alpha_initializer(a.shape, rng, a.dtype)

    def forward(self, x, training, rng):
        out = self._buffer("out", x.shape, x.dtype)
        neg = self._buffer("neg", x.shape, x.dtype)
        np.minimum(x, 0, out=neg)
        np.maximum(x, 0, out=out)
        out += neg * self.params["alpha"]
        self._x, self._neg = x, neg
        if self.collect_stats:
            self._dead = np.count_nonzero(x <= 0) / x.size
        return out

    def backward(self, g, need_input_grad):
        # d/dalpha = sum over the batch of g * min(z, 0); d/dz = 1 or alpha.
        np.einsum("ij,ij->j", g, self._neg, out=self.grads["alpha"])
        if self.alpha_regularizer:
            self.alpha_regularizer.add_gradient(self.params["alpha"], self.grads["alpha"])
        if self.collect_stats:
            self._delta_rms = rms(g)
        if not need_input_grad:
            return None
        slope = np.where(self._x > 0, 1.0, self.params["alpha"]).astype(g.dtype, copy=False)
        g *= slope
        return g

    def call(self, x):
        return np.where(x > 0, x, x * self.params["alpha"]).astype(x.dtype, copy=False)

    def penalty(self):
        return self.alpha_regularizer(self.params["alpha"]) if self.alpha_regularizer else 0.0

    def stats(self):
        return {"saturation": self._dead, "delta_rms": self._delta_rms}

    def get_config(self):
        config = super().get_config()
        config.update(alpha_initializer=self.alpha_initializer.to_config(),
                      alpha_regularizer=self.alpha_regularizer.get_config() if self.alpha_regularizer else None)
        return config
