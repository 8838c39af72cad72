"""One exception family for everything a user can get wrong.

The GUI and the command line catch :class:`GuinnError` and show its message; anything
else escaping is a bug in guinn, not in the user's input.
"""

from __future__ import annotations

import difflib
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
