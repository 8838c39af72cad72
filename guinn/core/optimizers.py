"""Optimizers with Keras's names, arguments and defaults.

Each works on the model's flat gradient buffer and writes the step into a flat ``update``
buffer (the model then does ``params += update``), so a step is a handful of whole-buffer
in-place operations however many layers there are. Subclasses write only their rule.
State (moments, accumulators, the step count) lives in named flat slots that are easy to
inspect per layer and to save, so training can resume exactly.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from guinn.core import fused, memory
from guinn.core.validation import check_bool, is_finite_number
from guinn.errors import ConfigError, brief, checked_arguments, unknown_name


class Optimizer:
    name = "optimizer"
    slot_names: tuple[str, ...] = ()
    legacy_slot_names: tuple[str, ...] | None = None

    @checked_arguments
    def __init__(self, learning_rate=0.001):
        self.learning_rate = learning_rate
        self.iterations = 0
        self.slots: dict[str, np.ndarray] = {}
        self._tmp = None

    @property
    def learning_rate(self) -> float:
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value) -> None:  # checked here too: Keras users set it between fits
        self._learning_rate = _positive("learning_rate", value)

    def build(self, size: int, dtype) -> None:
        """Allocate state for ``size`` parameters (keeps existing state of the same size)."""
        if self._tmp is not None and self._tmp.size == size and self._tmp.dtype == dtype:
            return
        memory.check_fits(size * np.dtype(dtype).itemsize * self.buffers(),
                          f"with {type(self).__name__} ({size:,} weights, {self.buffers()} values of its own each)")
        self._tmp = np.empty(size, dtype=dtype)
        self.slots = {name: fused.aligned_full(size, self._slot_initial(name), dtype) for name in self.slot_names}

    def buffers(self) -> int:
        """Arrays as long as the weights this optimizer keeps: its state slots and a scratch one."""
        return 1 + len(self.slot_names)

    def _slot_initial(self, name: str) -> float:
        return 0.0

    def compute_update(self, grads: np.ndarray, update: np.ndarray) -> np.ndarray:
        """Write the parameter change for this step into ``update``."""
        self.iterations += 1
        return self._update(grads, update, self._tmp)

    def _update(self, g, update, tmp):
        raise NotImplementedError

    def supports_fused(self) -> bool:
        """True when this class's compiled step is the rule it runs: a subclass that rewrites
        ``_update`` (a custom optimizer) without its own ``fused_spec`` trains on NumPy."""
        return _fused_matches_rule(type(self))

    def fused_update(self, kernels, grads, update, params, runs, sums) -> None:
        """``compute_update`` and ``params += update`` in one compiled pass (see
        :mod:`guinn.core.fused`), which leaves the old parameters in ``update`` (to undo the
        step) and puts each segment's sums of squared gradients, updates and new parameters in
        ``sums``. Same arithmetic, same results; the step counts once the kernel has run."""
        step = self.iterations + 1
        kind, slots, scalars = self.fused_spec(step)
        kernels.optimizer_step(kind, grads, *fused.slot_pair(slots, update), update, params,
                               np.array(scalars, dtype=grads.dtype), runs, sums)
        self.iterations = step

    def fused_spec(self, step) -> tuple[int, tuple, tuple]:
        """(kernel kind, state slots, scalars) of step number ``step`` for
        ``_kernels.optimizer_step``; the scalars are cast to the parameters' dtype, as the
        NumPy rule's Python floats are."""
        raise NotImplementedError

    # -- state and config -------------------------------------------------------------
    def get_config(self) -> dict:
        return {"learning_rate": self.learning_rate}

    def to_config(self) -> dict:
        return {"name": self.name, **self.get_config()}

    def get_state(self) -> dict:
        """``{"iterations": int, "slots": {name: flat array}}`` -- everything needed to resume."""
        return {"iterations": self.iterations, "slots": {k: v.copy() for k, v in self.slots.items()}}

    def set_state(self, state: dict) -> None:
        iterations = state.get("iterations")
        if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 0:
            raise ConfigError(f"Optimizer state 'iterations' must be a non-negative integer, got {brief(iterations)}.")
        slots = self._upgrade_slots(state.get("slots", {}))
        if set(slots) != set(self.slot_names):
            raise ConfigError(f"{self.name} state needs slots {sorted(self.slot_names)}, got {sorted(slots)}.")
        for name, value in slots.items():
            value = np.asarray(value)
            if self._tmp is None or value.shape != self._tmp.shape:
                have = None if self._tmp is None else self._tmp.shape
                raise ConfigError(f"Optimizer slot {name!r} has shape {value.shape}, expected {have}.")
            self.slots[name][...] = value
        self.iterations = iterations

    def _upgrade_slots(self, slots: dict) -> dict:
        """State saved under an earlier layout, in today's (the base class has no earlier one)."""
        return slots

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Plain SGD, or classic momentum: v <- m v - lr g, theta <- theta + v (Polyak, 1964).

    Momentum remembers a decaying sum of past gradients, so steps grow along directions
    that agree from batch to batch and cancel where the gradient zig-zags. With
    ``nesterov=True`` the step looks ahead: theta <- theta + m v - lr g.
    """

    name = "sgd"

    @checked_arguments
    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False):
        super().__init__(learning_rate)
        self.momentum = _fraction("momentum", momentum)
        self.nesterov = check_bool("nesterov", nesterov)
        self.slot_names = ("momentum",) if self.momentum else ()

    def _update(self, g, update, tmp):
        lr = self.learning_rate
        if not self.momentum:
            return np.multiply(g, -lr, out=update)
        v = self.slots["momentum"]
        v *= self.momentum
        np.multiply(g, lr, out=tmp)
        v -= tmp
        if self.nesterov:
            np.multiply(v, self.momentum, out=update)
            return np.subtract(update, tmp, out=update)
        np.copyto(update, v)
        return update

    def fused_spec(self, step):
        if not self.momentum:
            return fused.SGD, (), (-self.learning_rate,)
        return fused.MOMENTUM, (self.slots["momentum"],), (self.momentum, self.learning_rate, float(self.nesterov))

    def get_config(self):
        return {"learning_rate": self.learning_rate, "momentum": self.momentum, "nesterov": self.nesterov}


class Adagrad(Optimizer):
    """acc <- acc + g^2; theta <- theta - lr g / sqrt(acc + eps) (Duchi et al., 2011).

    Each weight's step shrinks with the total gradient it has seen: rare features keep
    large steps, but all steps decay, so training can stall late.
    """

    name = "adagrad"
    slot_names = ("accumulator",)

    @checked_arguments
    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7):
        super().__init__(learning_rate)
        self.initial_accumulator_value = _non_negative("initial_accumulator_value", initial_accumulator_value)
        self.epsilon = _positive("epsilon", epsilon)

    def _slot_initial(self, name):
        return self.initial_accumulator_value

    def _update(self, g, update, tmp):
        acc = self.slots["accumulator"]
        np.multiply(g, g, out=tmp)
        acc += tmp
        return _scaled_step(g, acc, self.epsilon, self.learning_rate, tmp, update)

    def fused_spec(self, step):
        return fused.ADAGRAD, (self.slots["accumulator"],), (self.epsilon, -self.learning_rate)

    def get_config(self):
        return {"learning_rate": self.learning_rate,
                "initial_accumulator_value": self.initial_accumulator_value, "epsilon": self.epsilon}


class RMSprop(Optimizer):
    """v <- rho v + (1 - rho) g^2; theta <- theta - lr g / sqrt(v + eps) (Hinton, 2012).

    Like Adagrad but with a moving average, so old gradients are forgotten and steps do not
    decay to nothing.
    """

    name = "rmsprop"
    slot_names = ("velocity",)

    @checked_arguments
    def __init__(self, learning_rate=0.001, rho=0.9, epsilon=1e-7):
        super().__init__(learning_rate)
        self.rho = _fraction("rho", rho)
        self.epsilon = _positive("epsilon", epsilon)

    def _update(self, g, update, tmp):
        v = self.slots["velocity"]
        v *= self.rho
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - self.rho
        v += tmp
        return _scaled_step(g, v, self.epsilon, self.learning_rate, tmp, update)

    def fused_spec(self, step):
        return fused.RMSPROP, (self.slots["velocity"],), (self.rho, 1.0 - self.rho, self.epsilon, -self.learning_rate)

    def get_config(self):
        return {"learning_rate": self.learning_rate, "rho": self.rho, "epsilon": self.epsilon}


class Adam(Optimizer):
    """Momentum on the gradient (m) and RMSprop scaling (v), both bias-corrected
    (Kingma & Ba, 2015), in Keras's form:
    m <- b1 m + (1 - b1) g; v <- b2 v + (1 - b2) g^2;
    theta <- theta - lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps).

    The first moment is kept as a decayed sum, ``m_sum = m / (1 - b1)``: then its update is one
    scale and one add (m_sum <- b1 m_sum + g), a pass fewer, and (1 - b1) moves into the step's
    scalar. ``v`` stays as Keras has it: its float32 range is what lets gradients up to ~1e19
    train before the step reports an overflow (v / (1 - b2) would run out 30x sooner).
    :meth:`moments` gives m and v.
    """

    name = "adam"
    slot_names = ("m_sum", "v")
    legacy_slot_names = ("m", "v")  # model files of format version 1 stored m and v

    @checked_arguments
    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        super().__init__(learning_rate)
        self.beta_1 = _fraction("beta_1", beta_1)
        self.beta_2 = _fraction("beta_2", beta_2)
        self.epsilon = _positive("epsilon", epsilon)

    def _update(self, g, update, tmp):
        m_sum, v = self.slots["m_sum"], self.slots["v"]
        m_sum *= self.beta_1
        m_sum += g
        v *= self.beta_2
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - self.beta_2
        v += tmp
        np.sqrt(v, out=tmp)
        tmp += self.epsilon
        np.divide(m_sum, tmp, out=update)
        update *= -self._alpha(self.iterations)
        return update

    def _alpha(self, t: int) -> float:
        """The step is -alpha m_sum / (sqrt(v) + eps): Keras's bias-corrected rate times (1 - b1)."""
        return self.learning_rate * math.sqrt(1.0 - self.beta_2**t) / (1.0 - self.beta_1**t) * (1.0 - self.beta_1)

    def fused_spec(self, step):
        return (fused.ADAM, (self.slots["m_sum"], self.slots["v"]),
                (self.beta_1, self.beta_2, 1.0 - self.beta_2, self.epsilon, -self._alpha(step)))

    def moments(self) -> dict[str, np.ndarray]:
        """Keras's ``m`` and ``v`` (copies)."""
        return {"m": self.slots["m_sum"] * (1.0 - self.beta_1), "v": self.slots["v"].copy()}

    def _upgrade_slots(self, slots: dict) -> dict:
        if set(slots) != set(self.legacy_slot_names):
            return slots
        with np.errstate(over="ignore"):
            m_sum = np.asarray(slots["m"]) / (1.0 - self.beta_1)
        if not np.isfinite(m_sum).all():
            raise ConfigError("Adam state 'm' is too large to convert to this version's form (m / (1 - beta_1) "
                              "overflows).")
        return {"m_sum": m_sum, "v": slots["v"]}

    def get_config(self):
        return {"learning_rate": self.learning_rate, "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


@functools.cache
def _fused_matches_rule(cls) -> bool:
    def owner(name):
        return next(c for c in cls.__mro__ if name in c.__dict__)

    return owner("fused_spec") is owner("_update") and owner("fused_spec") is not Optimizer


def _scaled_step(g, second_moment, epsilon, learning_rate, tmp, update):
    """update <- -lr g / sqrt(second_moment + eps): the step Adagrad and RMSprop share."""
    np.add(second_moment, epsilon, out=tmp)
    np.sqrt(tmp, out=tmp)
    np.divide(g, tmp, out=update)
    update *= -learning_rate
    return update


OPTIMIZERS = {c.name: c for c in (SGD, Adagrad, RMSprop, Adam)}
# 'momentum' is SGD with momentum, not a separate algorithm: the name sets SGD's default.
PRESET_NAMES = {"momentum": (SGD, {"momentum": 0.9})}


def get(identifier) -> Optimizer:
    """An optimizer from an instance, a name, or a ``{"name": ..., **args}`` config."""
    if isinstance(identifier, Optimizer):
        return identifier
    valid = list(OPTIMIZERS) + list(PRESET_NAMES)
    config = dict(identifier) if isinstance(identifier, dict) else {"name": identifier}
    name = config.pop("name", None)
    key = name.lower() if isinstance(name, str) else name
    if not isinstance(key, str) or key not in valid:
        raise unknown_name("optimizer", name, valid)
    cls, defaults = PRESET_NAMES.get(key, (OPTIMIZERS.get(key), {}))
    try:
        return cls(**{**defaults, **config})
    except TypeError as exc:
        raise ConfigError(f"Bad arguments for optimizer {brief(name)}: {exc}.") from None


def _positive(name, value) -> float:
    if not is_finite_number(value) or value <= 0:
        raise ConfigError(f"{name} must be a positive number, got {brief(value)}.")
    return float(value)


def _non_negative(name, value) -> float:
    if not is_finite_number(value) or value < 0:
        raise ConfigError(f"{name} must be a number >= 0, got {brief(value)}.")
    return float(value)


def _fraction(name, value) -> float:
    if not is_finite_number(value) or not 0 <= value < 1:
        raise ConfigError(f"{name} must be a number in [0, 1), got {brief(value)}.")
    return float(value)
