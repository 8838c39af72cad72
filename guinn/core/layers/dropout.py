"""Inverted dropout: drop units with probability ``rate`` while training and scale the
survivors by 1/(1 - rate), so inference is the identity and needs no rescaling."""

from __future__ import annotations

import numpy as np

from guinn.core.layers.base import Layer, check_rate
from guinn.errors import checked_arguments


class Dropout(Layer):
    type_name = "Dropout"

    @checked_arguments
    def __init__(self, rate, name=None, input_shape=None):
        super().__init__(name=name, input_shape=input_shape)
        self.rate = check_rate("Dropout rate", rate)
        self._mask = None

    def forward(self, x, training, rng):
        if not training or self.rate == 0:
            self._mask = None
            return x
        mask = self.draw_mask(x.shape, x.dtype, rng)
        out = self._buffer("out", x.shape, x.dtype)
        return np.multiply(x, mask, out=out)

    def draw_mask(self, shape, dtype, rng) -> np.ndarray:
        """This batch's mask, (u >= rate) / (1 - rate), written without temporaries (a split
        step draws it before its threads apply their columns of it)."""
        mask = self._buffer("mask", shape, dtype)
        rng.random(dtype=dtype, out=mask)
        np.greater_equal(mask, self.rate, out=mask, casting="unsafe")
        mask *= 1.0 / (1.0 - self.rate)
        self._mask = mask
        return mask

    def backward(self, g, need_input_grad):
        if self._mask is not None:
            g *= self._mask
        return g

    def call(self, x):
        return x

    def get_config(self):
        config = super().get_config()
        config["rate"] = self.rate
        return config
