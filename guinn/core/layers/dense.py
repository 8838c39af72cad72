"""Fully connected layer: z = x W + b, a = activation(z)."""

from __future__ import annotations

import numpy as np

from guinn.core import activations, initializers, regularizers
from guinn.core.layers.base import KernelAndBias, Layer, check_positive_int, require_flat, rms
from guinn.core.validation import check_bool
from guinn.errors import checked_arguments


class Dense(KernelAndBias, Layer):
    type_name = "Dense"

    @checked_arguments
    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, alpha=0.3, pieces=2,
                 input_dim=None, input_shape=None, name=None):
        super().__init__(name=name, input_shape=input_shape, input_dim=input_dim)
        self.units = check_positive_int("units", units)
        name_ = activation.name if isinstance(activation, activations.Activation) else activation
        key = name_.lower() if isinstance(name_, str) else name_
        # 'prelu' and 'maxout' are layers; Sequential.add expands them (see expand()).
        self.layer_activation = key if key in activations.LAYER_ACTIVATIONS else None
        self.activation = activations.get("linear" if self.layer_activation else activation)
        self.alpha = activations.check_alpha(alpha)
        self.pieces = check_positive_int("pieces", pieces)
        self.use_bias = check_bool("use_bias", use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.fused_output = False  # set by the model when the loss supplies dL/dz directly
        self._sat = float("nan")
        self._delta_rms = float("nan")

    def expand(self) -> list[Layer]:
        """Dense(activation='prelu'/'maxout') as the layers it stands for."""
        from guinn.core.layers.maxout import Maxout
        from guinn.core.layers.prelu import PReLU

        common = dict(kernel_initializer=self.kernel_initializer, bias_initializer=self.bias_initializer,
                      kernel_regularizer=self.kernel_regularizer, name=self.name)
        if self.declared_input_shape is not None:
            common["input_shape"] = self.declared_input_shape
        if self.layer_activation == "maxout":
            return [Maxout(self.units, pieces=self.pieces, **common)]
        if self.layer_activation == "prelu":
            return [Dense(self.units, activation="linear", use_bias=self.use_bias, **common),
                    PReLU(alpha_initializer=initializers.Constant(0.25))]
        return [self]

    def compute_output_shape(self, input_shape):
        require_flat(self, input_shape)
        return (self.units,)

    def param_shapes(self):
        shapes = [("kernel", (self.input_shape[0], self.units))]
        if self.use_bias:
            shapes.append(("bias", (self.units,)))
        return shapes

    def initialize(self, rng):
        for key, init in (("kernel", self.kernel_initializer), ("bias", self.bias_initializer)):
            if key in self.params:
                p = self.params[key]
                p[...] = init(p.shape, rng, p.dtype)

    # -- forward / backward ----------------------------------------------------------
    def forward(self, x, training, rng):
        z = self.product_buffer(x.shape[0])
        np.matmul(x, self.params["kernel"], out=z)
        return self.finish_forward(x, z)

    def product_buffer(self, n) -> np.ndarray:
        return self._buffer("z", (n, self.units), self.params["kernel"].dtype)

    def finish_forward(self, x, z):
        """Bias, activation and telemetry once ``z`` holds x W (a split step computes that
        product in parts on several threads; guinn.core.split)."""
        if self.use_bias:
            z += self.params["bias"]
        if self.activation.name == "linear":
            a = z
        else:
            a = self.activation.forward(z, self._buffer("a", z.shape, z.dtype), self.alpha)
        self._x, self._z, self._a = x, z, a
        if self.collect_stats:
            self._sat = self.activation.saturation(a, self.alpha)
        return a

    @property
    def logits(self) -> np.ndarray:
        """Pre-activation of the last forward pass (what fused losses start from)."""
        return self._z

    def backward(self, g, need_input_grad):
        dz = self.start_backward(g)
        kernel = self.params["kernel"]
        np.matmul(self._x.T, dz, out=self.grads["kernel"])
        self.finish_backward()
        if not need_input_grad:
            return None
        dx = self._buffer("dx", self._x.shape, dz.dtype)
        return np.matmul(dz, kernel.T, out=dx)

    def start_backward(self, g):
        """dL/dz from dL/da, its telemetry and the bias gradient: everything before the products."""
        dz = g if self.fused_output else self.activation.backward(self._a, g, self.alpha)
        if self.collect_stats:
            self._delta_rms = rms(dz)
        if self.use_bias:
            np.sum(dz, axis=0, out=self.grads["bias"])
        return dz

    def finish_backward(self):
        """The regularizer's share of the kernel gradient, once the products have written it."""
        if self.kernel_regularizer:
            self.kernel_regularizer.add_gradient(self.params["kernel"], self.grads["kernel"])

    def call(self, x):
        z = x @ self.params["kernel"]
        if self.use_bias:
            z += self.params["bias"]
        return self.activation.forward(z, z, self.alpha)

    def penalty(self):
        return self.kernel_regularizer(self.params["kernel"]) if self.kernel_regularizer else 0.0

    def stats(self):
        return {"saturation": self._sat, "delta_rms": self._delta_rms}

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, activation=self.layer_activation or self.activation.name,
                      use_bias=self.use_bias, kernel_initializer=self.kernel_initializer.to_config(),
                      bias_initializer=self.bias_initializer.to_config(),
                      kernel_regularizer=self.kernel_regularizer.get_config() if self.kernel_regularizer else None)
        if self.activation.name == "leaky_relu":
            config["alpha"] = self.alpha
        return config
