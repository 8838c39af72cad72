"""The layer protocol the model drives.

A layer declares its parameters' shapes; the model owns one flat buffer for all parameters
and one for all gradients and hands each layer views into them, so an optimizer step is a
few whole-buffer operations. ``forward``/``backward`` cache what training needs and reuse
scratch arrays; ``call`` is the pure inference path (safe to run from another thread
while training mutates the caches).
"""

from __future__ import annotations

import math

import numpy as np

from guinn.core import fused
from guinn.core.validation import check_name
from guinn.errors import ConfigError, DataError, brief, checked_arguments


class AlwaysTrainable:
    """``trainable`` is always True: guinn trains every weight. Keras users set it False to
    freeze a layer or a model; that is refused rather than silently ignored."""

    @property
    def trainable(self) -> bool:
        return True

    @trainable.setter
    def trainable(self, value) -> None:
        if not value:
            raise ConfigError("guinn trains every layer: freezing weights (trainable = False) is not supported.")


class Layer(AlwaysTrainable):
    type_name = "Layer"

    @checked_arguments
    def __init__(self, name: str | None = None, input_shape=None, input_dim=None):
        self.name = None if name is None else check_name("A layer name", name)
        if input_dim is not None:
            input_shape = (check_positive_int("input_dim", input_dim),)
        self.declared_input_shape = None if input_shape is None else check_shape(input_shape)
        self.input_shape = None
        self.output_shape = None
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.collect_stats = False
        self._scratch: dict = {}
        self.built = False
        self._owner = None  # weakref to the Sequential it was last added to

    # -- structure -----------------------------------------------------------------
    def build(self, input_shape: tuple) -> tuple:
        """Fix the input shape and return the output shape."""
        self.input_shape = tuple(input_shape)
        self.output_shape = self.compute_output_shape(self.input_shape)
        self.built = True
        return self.output_shape

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def param_shapes(self) -> list[tuple[str, tuple]]:
        """(name, shape) of each parameter, in Keras's ``get_weights`` order."""
        return []

    def initialize(self, rng: np.random.Generator) -> None:
        """Fill ``self.params`` (already bound views) with initial values."""

    def bind(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        self.params, self.grads = params, grads
        self._scratch.clear()

    def unbind(self) -> None:
        """Forget the weights of a model it has left (pop) or not yet joined."""
        self.params, self.grads = {}, {}
        self._scratch.clear()
        self.built = False

    # -- weights (Keras's layer.get_weights / set_weights) ----------------------------------
    def get_weights(self) -> list[np.ndarray]:
        """Copies of this layer's parameters in Keras's order (kernel, bias, then extras)."""
        self._require_bound("get_weights")
        return [self.params[key].copy() for key, _ in self.param_shapes()]

    @property
    def weights(self) -> list[np.ndarray]:
        """Keras's ``layer.weights``: the live parameters, read-only (``set_weights`` changes
        them); ``[]`` before the layer is built, as in Keras."""
        return [read_only(self.params[key]) for key, _ in self.param_shapes()] if self._built_by_owner() else []

    trainable_weights = trainable_variables = weights

    @property
    def non_trainable_weights(self) -> list[np.ndarray]:
        return []  # guinn trains every weight

    def _bound(self) -> bool:
        return self.built and len(self.params) == len(self.param_shapes())

    def _weight(self, key: str) -> np.ndarray | None:
        """One parameter, read-only (Keras's ``layer.kernel``); None where the layer has none
        of that name (``bias`` with ``use_bias=False``)."""
        self._require_bound(key)
        return read_only(self.params[key]) if key in self.params else None

    def set_weights(self, weights) -> None:
        """Overwrite this layer's parameters (all checked before any is written)."""
        self._require_bound("set_weights")
        shapes = self.param_shapes()
        weights = list(weights)
        if len(weights) != len(shapes):
            raise DataError(f"{self.name}.set_weights needs {len(shapes)} arrays "
                            f"({', '.join(key for key, _ in shapes) or 'the layer has no weights'}), "
                            f"got {len(weights)}.")
        checked = [(key, checked_weight(self, key, shape, w)) for (key, shape), w in zip(shapes, weights,
                                                                                          strict=False)]
        for key, w in checked:
            self.params[key][...] = w

    def _built_by_owner(self) -> bool:
        """Whether the layer has weights, after its model builds itself if it knows its input
        shape: Keras builds ``Sequential([Dense(3, input_shape=(4,))])`` at once, so its
        tutorials read ``layers[0].get_weights()`` before any fit."""
        if not self._bound():
            owner = self._owner() if self._owner is not None else None
            if owner is not None and self in owner.layers and not owner.built and owner.input_shape is not None:
                owner.build()
        return self._bound()

    def _require_bound(self, what: str) -> None:
        if not self._built_by_owner():
            raise ConfigError(f"{what}: layer {self.name or type(self).__name__} has no weights yet; build the "
                              f"model first (model.build(input_shape), or fit it).")

    def count_params(self) -> int:
        """The layer's number of weights (Keras's ``layer.count_params()``)."""
        return sum(int(np.prod(s)) for _, s in self.param_shapes())

    # -- computation -----------------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool, rng: np.random.Generator | None) -> np.ndarray:
        return self.call(x)

    def backward(self, g: np.ndarray, need_input_grad: bool) -> np.ndarray | None:
        return g

    def call(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def penalty(self) -> float:
        """Regularization added to the loss."""
        return 0.0

    def stats(self) -> dict:
        """Telemetry extras gathered in the last training step (saturation, backward signal)."""
        return {}

    # -- config ------------------------------------------------------------------------
    def get_config(self) -> dict:
        config = {"name": self.name}
        if self.declared_input_shape is not None:
            config["input_shape"] = list(self.declared_input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict):
        if not isinstance(config, dict):
            raise ConfigError(f"{cls.__name__}.from_config takes a dict of arguments, got {type(config).__name__}.")
        return cls(**config)

    def _buffer(self, key: str, shape: tuple, dtype) -> np.ndarray:
        """A scratch array reused across batches of the same size."""
        buf = self._scratch.get(key)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = self._scratch[key] = np.empty(shape, dtype=dtype)
        return buf

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name" and v is not None)
        return f"{type(self).__name__}({args})"


def checked_weight(layer: Layer, key: str, shape: tuple, w) -> np.ndarray:
    """A weight array given by the user, as an array that fits ``layer.params[key]``."""
    try:
        w = np.asarray(w)
    except (ValueError, TypeError):
        raise DataError(f"Weight {layer.name}.{key} must be an array of shape {tuple(shape)}.") from None
    if w.shape != tuple(shape):
        raise DataError(f"Weight {layer.name}.{key} must have shape {tuple(shape)}, got {w.shape}.")
    if w.dtype.kind not in "biuf" or not np.isfinite(w).all():
        raise DataError(f"Weight {layer.name}.{key} must be finite numbers.")
    return w


def check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ConfigError(f"{name} must be a positive integer, got {brief(value)}.")
    return int(value)


def check_rate(name: str, value, upper_open=True) -> float:
    ok = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
    if not ok or not (0 <= value < 1 if upper_open else 0 <= value <= 1):
        raise ConfigError(f"{name} must be a number in [0, 1), got {brief(value)}.")
    return float(value)


def check_shape(shape) -> tuple:
    try:
        shape = tuple(shape)
    except TypeError:
        raise ConfigError(f"input_shape must be a tuple of positive integers, got {brief(shape)}.") from None
    if not shape:
        raise ConfigError("input_shape must have at least one dimension.")
    return tuple(check_positive_int("each input_shape dimension", d) for d in shape)


def require_flat(layer: Layer, input_shape: tuple) -> int:
    if len(input_shape) != 1:
        raise ConfigError(
            f"{layer.type_name} expects flat inputs of shape (features,), got {input_shape}. "
            "Add a Flatten() layer first or reshape x to (samples, features)."
        )
    return input_shape[0]


def rms(a: np.ndarray) -> float:
    """Root mean square of an array (the scale telemetry plots), in one pass."""
    flat = a.reshape(-1)
    if flat.size == 0:
        return 0.0
    return math.sqrt(fused.sum_of_squares(flat) / flat.size)


class KernelAndBias:
    """Keras's ``layer.kernel`` and ``layer.bias`` for layers with those parameters (read-only
    views; ``bias`` is None without one)."""

    @property
    def kernel(self) -> np.ndarray:
        return self._weight("kernel")

    @property
    def bias(self) -> np.ndarray | None:
        return self._weight("bias")


class WeightView(np.ndarray):
    """A read-only view of a parameter with Keras's ``.numpy()`` (a copy), so the usual
    ``layer.kernel.numpy()`` runs."""

    def numpy(self) -> np.ndarray:
        return np.array(self)


def read_only(a: np.ndarray) -> WeightView:
    view = a.view(WeightView)
    view.flags.writeable = False
    return view
