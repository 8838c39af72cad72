"""A stand-alone activation layer (Keras's ``Activation``)."""

from __future__ import annotations

from guinn.core import activations
from guinn.core.layers.base import Layer
from guinn.errors import checked_arguments


class Activation(Layer):
    type_name = "Activation"

    @checked_arguments
    def __init__(self, activation, alpha=0.3, name=None, input_shape=None):
        super().__init__(name=name, input_shape=input_shape)
        if isinstance(activation, str) and activation.lower() in activations.LAYER_ACTIVATIONS:
            from guinn.errors import ConfigError

            raise ConfigError(f"{activation!r} has weights: use the PReLU or Maxout layer instead.")
        self.activation = activations.get(activation)
        self.alpha = activations.check_alpha(alpha)
        self._sat = float("nan")
        self.fused_output = False  # set by the model when the loss supplies dL/d(input) directly

    def forward(self, x, training, rng):
        a = self.activation.forward(x, self._buffer("a", x.shape, x.dtype), self.alpha)
        self._x, self._a = x, a
        if self.collect_stats:
            self._sat = self.activation.saturation(a, self.alpha)
        return a

    @property
    def logits(self):
        """The last forward pass's input (what fused losses start from)."""
        return self._x

    def backward(self, g, need_input_grad):
        return g if self.fused_output else self.activation.backward(self._a, g, self.alpha)

    def call(self, x):
        return self.activation.forward(x, x.copy(), self.alpha)

    def stats(self):
        return {"saturation": self._sat}

    def get_config(self):
        config = super().get_config()
        config["activation"] = self.activation.name
        if self.activation.name == "leaky_relu":
            config["alpha"] = self.alpha
        return config
