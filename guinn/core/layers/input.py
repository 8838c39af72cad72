"""Keras's ``Input(shape=...)``: the shape of one sample, given before the first layer."""

from __future__ import annotations

from guinn.core.layers.base import Layer, check_shape
from guinn.errors import ConfigError, checked_arguments


class InputLayer(Layer):
    """Not a layer the model runs: ``Sequential.add`` takes its shape as the first layer's
    ``input_shape`` (the existing way to declare it), so configs and files stay as they were."""

    type_name = "InputLayer"

    @checked_arguments
    def __init__(self, shape=None, batch_shape=None, name=None):
        if shape is None and batch_shape is None:
            raise ConfigError("Input needs the shape of one sample, e.g. Input(shape=(784,)).")
        if shape is not None and batch_shape is not None:
            raise ConfigError("Input takes shape or batch_shape, not both.")
        try:
            shape = check_shape(shape if batch_shape is None else _without_batch(batch_shape))
        except ConfigError:
            if batch_shape is not None:
                raise ConfigError(f"Input batch_shape must be (batch, *sample shape) as positive integers "
                                  f"(the batch may be None), e.g. (None, 784); got {batch_shape!r}.") from None
            raise ConfigError(f"Input shape must be one sample's shape as positive integers, without the "
                              f"batch dimension, e.g. (784,); got {shape!r}.") from None
        super().__init__(name=name, input_shape=shape)


@checked_arguments
def Input(shape=None, batch_shape=None, name=None) -> InputLayer:
    """``Sequential([Input((784,)), Dense(10)])`` or ``model.add(Input(shape=(784,)))``, as in
    Keras: it declares the model's input shape, as ``input_dim``/``input_shape`` on the first layer do."""
    return InputLayer(shape=shape, batch_shape=batch_shape, name=name)


def _without_batch(batch_shape) -> tuple:
    """Keras's batch_shape minus its first (batch) entry; the batch size is fit's to choose."""
    dims = tuple(batch_shape) if isinstance(batch_shape, (tuple, list)) else ()
    if len(dims) < 2:
        raise ConfigError("batch_shape needs a batch entry and a sample shape.")
    return dims[1:]
