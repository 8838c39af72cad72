"""One exception family for everything a user can get wrong.

The GUI and the command line catch :class:`GuinnError` and show its message; anything
else escaping is a bug in guinn, not in the user's input.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import math
import os
import sys
import warnings
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


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn_user(message: str) -> None:
    """A TrainingWarning shown at the first line outside guinn (the user's fit or compile), not
    at whichever of guinn's lines noticed the problem."""
    level, frame = 2, sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, TrainingWarning, stacklevel=level)


def brief(value, limit: int = 60, *, quote: bool = True) -> str:
    """``repr(value)`` (the text itself if ``quote`` is false) cut to ``limit`` characters, its
    start and end kept around an ellipsis, for quoting in a message: a value read from a file
    may be megabytes long, and an int of 5000 digits has no repr at all."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 3 * limit:
        sign = "negative " if value < 0 else ""
        return f"a {sign}whole number of {int(math.log10(abs(value))) + 1:,} digits"
    try:
        text = repr(value) if quote or not isinstance(value, str) else value
    except ValueError:  # a container holding such an int
        text = f"<a {type(value).__name__} holding a huge whole number>"
    if len(text) <= limit:
        return text
    tail = limit // 3  # the end of a path is its file name
    return f"{text[: limit - tail - 3]}...{text[-tail:]}"


def closest(name: str, choices: Iterable[str]) -> str | None:
    """The allowed name most like ``name``, for "did you mean" hints."""
    if not isinstance(name, str):  # (str() of a 5000-digit int fails; a number is no misspelt name)
        return None
    matches = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return matches[0] if matches else None


def unknown_name(kind: str, name: object, choices: Iterable[str]) -> ConfigError:
    """Build the error for an unknown ``kind`` name, listing the valid ones and the closest;
    a Keras name guinn lacks is said to be missing instead (its closest name is another thing:
    'mean_absolute_error' is not 'mean_squared_error')."""
    choices = sorted(choices)
    valid = f"Valid {kind} names: {', '.join(choices)}."
    lacked, note = KERAS_LACKS.get(kind, ((), ""))
    if isinstance(name, str) and name.lower() in lacked:
        return ConfigError(f"guinn has no {kind} {name!r}: {note}. {valid}")
    hint = closest(name, choices)
    return ConfigError(f"Unknown {kind} {brief(name)}. {valid}" + (f" Did you mean {hint!r}?" if hint else ""))


# Keras names of things guinn does not have, by kind: said to be missing, never "did you mean".
KERAS_LACKS = {
    "loss": (("mean_absolute_error", "mae", "mean_absolute_percentage_error", "mape",
              "mean_squared_logarithmic_error", "msle", "huber", "log_cosh", "logcosh", "hinge", "squared_hinge",
              "categorical_hinge", "kl_divergence", "kld", "poisson", "cosine_similarity",
              "binary_focal_crossentropy", "categorical_focal_crossentropy"),
             "its losses are categorical and sparse categorical cross-entropy, binary cross-entropy and mean "
             "squared error"),
    "metric": (("auc", "precision", "recall",
                "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "f1_score", "mape",
                "root_mean_squared_error", "rmse", "r2_score", "crossentropy"),
               "its metrics are accuracy, mae and mse (the loss is always logged, and evaluate returns it)"),
    "activation": (("elu", "selu", "gelu", "silu", "swish", "softplus", "softsign", "exponential", "hard_sigmoid",
                    "hard_silu", "mish", "relu6", "log_softmax"),
                   "its activations are sigmoid, tanh, relu, leaky_relu, prelu, maxout, softmax and linear"),
    "initializer": (("lecun_normal", "lecun_uniform", "orthogonal", "identity", "truncated_normal",
                     "variance_scaling"),
                    "its initializers are the Glorot, He and random normal/uniform ones, zeros, ones and constant"),
}


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
    "seed": "a seed here (initializers that draw take seed=...; dropout masks come from the model's: "
    "Sequential(seed=...))",
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
    spelt_out = {k: v for k, v in KERAS_DEFAULTS.items() if k not in signature.parameters}

    @functools.wraps(fn)
    def call(*args, **kwargs):
        if kwargs and spelt_out:  # Keras's default spelt out (amsgrad=False): what guinn does anyway
            kwargs = {k: v for k, v in kwargs.items() if not (k in spelt_out and _same(v, spelt_out[k]))}
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


# Keras arguments at the value that means what guinn always does: accepted and dropped.
KERAS_DEFAULTS = {"amsgrad": False, "from_logits": False, "bias_regularizer": None, "activity_regularizer": None,
                  "kernel_constraint": None, "bias_constraint": None, "clipnorm": None, "clipvalue": None,
                  "global_clipnorm": None, "weight_decay": None, "label_smoothing": 0.0, "sample_weight": None,
                  "class_weight": None, "steps_per_epoch": None, "validation_steps": None, "run_eagerly": False,
                  "trainable": True, "use_ema": False}


def _same(value, default) -> bool:
    if hasattr(value, "item") and getattr(value, "shape", None) == ():  # NumPy's False_, float32(0)
        value = value.item()
    return value is default or (type(value) is type(default) and value == default) or (
        isinstance(value, (int, float)) and not isinstance(value, bool) and isinstance(default, float)
        and value == default)


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
