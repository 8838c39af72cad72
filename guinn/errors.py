"""One exception family for everything a user can get wrong.

The GUI and the command line catch :class:`GuinnError` and show its message; anything
else escaping is a bug in guinn, not in the user's input.
"""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Iterable


class GuinnError(ValueError):
    """Base of every user-facing error: the message says what was wrong and what is allowed."""


class ConfigError(GuinnError):
    """A name, argument or setting that is not allowed (unknown loss, negative rate, ...)."""


class DataError(GuinnError):
    """Training or prediction data that cannot be used as given (shape, NaN, labels, files)."""


class ModelFileError(GuinnError):
    """A model or experiment file that is malformed, unsafe or from an unknown version."""


class TrainingError(GuinnError):
    """Training cannot proceed (e.g. fit before compile)."""


class TrainingWarning(UserWarning):
    """Training went on, or stopped, in a way the user should hear of even with ``verbose=0``
    (a NaN stop, a monitor that is never logged); the GUI shows these in its own way."""


def closest(name: str, choices: Iterable[str]) -> str | None:
    """The allowed name most like ``name``, for "did you mean" hints."""
    matches = difflib.get_close_matches(str(name), list(choices), n=1, cutoff=0.5)
    return matches[0] if matches else None


def unknown_name(kind: str, name: object, choices: Iterable[str]) -> ConfigError:
    """Build the error for an unknown ``kind`` name, listing the valid ones and the closest."""
    choices = sorted(choices)
    hint = closest(str(name), choices)
    msg = f"Unknown {kind} {name!r}. Valid {kind} names: {', '.join(choices)}."
    if hint:
        msg += f" Did you mean {hint!r}?"
    return ConfigError(msg)


# Keras arguments a Keras user is likely to pass: what guinn calls them, or what it lacks.
KERAS_RENAMED = {"lr": "learning_rate", "nb_epoch": "epochs", "output_dim": "units", "init": "kernel_initializer"}
KERAS_ONLY = {
    "clipnorm": "gradient clipping", "clipvalue": "gradient clipping", "global_clipnorm": "gradient clipping",
    "amsgrad": "AMSGrad", "weight_decay": "decoupled weight decay (an L2 regularizer on the layers is the "
    "nearest thing)", "decay": "learning-rate decay", "from_logits": "losses on logits (end the model with "
    "a softmax or sigmoid layer instead)", "bias_regularizer": "bias regularizers",
    "activity_regularizer": "activity regularizers", "kernel_constraint": "constraints",
    "bias_constraint": "constraints", "sample_weight": "sample weights", "class_weight": "class weights",
    "steps_per_epoch": "steps_per_epoch (an epoch is one pass over x)", "validation_steps": "validation_steps",
    "run_eagerly": "run_eagerly (there is no graph mode)", "jit_compile": "jit_compile",
    "trainable": "the trainable argument (every layer trains; freezing is not offered)",
    "label_smoothing": "label smoothing",
    "seed": "per-layer seeds (dropout masks come from the model's: Sequential(seed=...))",
    "include_optimizer": "leaving the optimizer state out of a model file (it always holds it, to resume; "
    "model.save_weights writes the weights alone)",
    "skip_mismatch": "skipping mismatched layers (the weights must fit the model exactly)",
    "by_name": "loading weights by layer name (they are matched by position)",
    "custom_objects": "custom objects (a model may name only guinn's own layers)",
    "dtype": "a dtype here (the model has one for everything: Sequential(dtype=...))",
    "save_format": "other model formats (model files are .safetensors; ONNX via guinn.io.onnx_export)",
}


def checked_arguments(fn):
    """Make Python's TypeError for a wrong argument (Keras's ``lr=``, a missing ``units``) a
    ConfigError that names the allowed arguments; other TypeErrors pass through untouched."""
    signature = inspect.signature(fn)
    what = fn.__qualname__.removesuffix(".__init__")

    @functools.wraps(fn)
    def call(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except TypeError:
            try:
                signature.bind(*args, **kwargs)
            except TypeError as exc:
                name = type(args[0]).__name__ if fn.__name__ == "__init__" and args else what
                raise argument_error(name, signature, exc, kwargs) from None
            raise

    return call


def argument_error(what: str, signature: inspect.Signature, exc: TypeError, kwargs: dict) -> ConfigError:
    allowed = [n for n, p in signature.parameters.items()
               if n != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    takes = f"Its arguments: {', '.join(allowed)}." if allowed else "It takes no arguments."
    unknown = [k for k in kwargs if k not in signature.parameters]
    if not unknown:  # missing or too many positional arguments: Python's own words say which
        return ConfigError(f"{what}: {exc}. {takes}")
    name = unknown[0]
    msg = f"{what} has no argument {name!r}"
    if name in KERAS_ONLY:
        msg += f": guinn does not support {KERAS_ONLY[name]}"
    msg += f". {takes}"
    hint = KERAS_RENAMED.get(name) if KERAS_RENAMED.get(name) in allowed else closest(name, allowed)
    if hint and name not in KERAS_ONLY:
        msg += f" Did you mean {hint!r}?"
    return ConfigError(msg)
