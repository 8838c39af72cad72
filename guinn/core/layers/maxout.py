"""Maxout: each unit is the max of ``pieces`` linear functions of the input.

A learned, convex, piecewise-linear activation (Goodfellow et al., 2013). The kernel is
stored as (inputs, units * pieces) with column ``u * pieces + k`` for piece k of unit u,
so the forward pass is one matrix product followed by a max over a reshaped view.
"""

from __future__ import annotations

import numpy as np

from guinn.core import initializers, regularizers
from guinn.core.layers.base import KernelAndBias, Layer, check_positive_int, require_flat, rms
from guinn.errors import checked_arguments


class Maxout(KernelAndBias, Layer):
    type_name = "Maxout"

    @checked_arguments
    def __init__(self, units, pieces=2, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, input_dim=None, input_shape=None, name=None):
        super().__init__(name=name, input_shape=input_shape, input_dim=input_dim)
        self.units = check_positive_int("units", units)
        self.pieces = check_positive_int("pieces", pieces)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self._delta_rms = float("nan")

    def compute_output_shape(self, input_shape):
        require_flat(self, input_shape)
        return (self.units,)

    def param_shapes(self):
        width = self.units * self.pieces
        return [("kernel", (self.input_shape[0], width)), ("bias", (width,))]

    def initialize(self, rng):
        for key, init in (("kernel", self.kernel_initializer), ("bias", self.bias_initializer)):
            p = self.params[key]
            p[...] = init(p.shape, rng, p.dtype)

    def _pieces(self, x):
        z = x @ self.params["kernel"]
        z += self.params["bias"]
        return z.reshape(x.shape[0], self.units, self.pieces)

    def forward(self, x, training, rng):
        z = self._pieces(x)
        self._arg = np.argmax(z, axis=2)[:, :, None]
        self._x = x
        return np.take_along_axis(z, self._arg, axis=2)[:, :, 0]

    def backward(self, g, need_input_grad):
        n = g.shape[0]
        dz = np.zeros((n, self.units, self.pieces), dtype=g.dtype)
        np.put_along_axis(dz, self._arg, g[:, :, None], axis=2)
        dz = dz.reshape(n, -1)
        if self.collect_stats:
            self._delta_rms = rms(dz)
        np.matmul(self._x.T, dz, out=self.grads["kernel"])
        np.sum(dz, axis=0, out=self.grads["bias"])
        if self.kernel_regularizer:
            self.kernel_regularizer.add_gradient(self.params["kernel"], self.grads["kernel"])
        return dz @ self.params["kernel"].T if need_input_grad else None

    def call(self, x):
        return self._pieces(x).max(axis=2)

    def penalty(self):
        return self.kernel_regularizer(self.params["kernel"]) if self.kernel_regularizer else 0.0

    def stats(self):
        return {"saturation": float("nan"), "delta_rms": self._delta_rms}

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, pieces=self.pieces,
                      kernel_initializer=self.kernel_initializer.to_config(),
                      bias_initializer=self.bias_initializer.to_config(),
                      kernel_regularizer=self.kernel_regularizer.get_config() if self.kernel_regularizer else None)
        return config
