"""The first check on any file a user hands us: it exists, is a file, and is small enough to read.

Model files, experiment files and pictures are untrusted input. Their size is bounded before
a byte is read, so a huge or endless file (``/dev/zero``) is refused instead of exhausting
memory; each reader then validates the content itself.
"""

from __future__ import annotations

import json
import math
import stat
from pathlib import Path


def checked_size(path: Path, kind: str, limit: int, error: type[Exception]) -> int:
    """The size of ``path`` in bytes, or ``error`` saying why it cannot be read as a ``kind``."""
    try:
        status = path.stat()
    except OSError as exc:
        raise error(f"Cannot read {kind} {path}: {exc.strerror or exc}.") from None
    if stat.S_ISDIR(status.st_mode):
        raise error(f"{path} is a folder, not {'an' if kind[0] in 'aeiou' else 'a'} {kind}.")
    _refuse_unreadable_kind(path, status, kind, limit, error)
    return status.st_size


def _refuse_unreadable_kind(path: Path, status, kind: str, limit: int, error: type[Exception]) -> None:
    if not stat.S_ISREG(status.st_mode):  # a device or a pipe: its size says nothing about what a read returns
        raise error(f"{path} is not a regular file, so it cannot be read as {kind}.")
    if status.st_size > limit:
        raise error(f"{path} is {status.st_size:,} bytes; {kind}s are at most {limit:,}.")


def json_problem(exc: Exception) -> str:
    """What is wrong with JSON the parser refused for other than syntax (a 5000-digit number,
    100,000 nested lists), in a few words for an error message."""
    return str(exc).split(";")[0][:200] or type(exc).__name__


def strict_json(text, what: str, error: type[Exception]):
    """``json.loads`` for text from outside: NaN, Infinity, out-of-range numbers and duplicate
    keys (which one would win?) are refused, and every problem is ``error`` naming ``what``."""

    def no_constants(name):
        raise ValueError(f"{name} is not allowed")

    def finite_float(s):
        value = float(s)
        if not math.isfinite(value):
            raise ValueError(f"number {s[:30]} is out of range")
        return value

    def unique(pairs):
        result = {}
        for key, value in pairs:
            if key in result:
                raise ValueError(f"duplicate key {key!r:.60}")
            result[key] = value
        return result

    try:
        return json.loads(text, parse_constant=no_constants, parse_float=finite_float, object_pairs_hook=unique)
    except (ValueError, RecursionError) as exc:
        raise error(f"{what} is not valid JSON ({json_problem(exc)}).") from None


def refuse_special_or_huge(path: Path, kind: str, limit: int, error: type[Exception]) -> None:
    """``checked_size``'s refusals for a path a reader then opens itself: a pipe or device (its
    read may never end) or a file over ``limit``. A missing, unreadable or folder path passes,
    for the reader's own, more specific message."""
    try:
        status = path.stat()
    except OSError:
        return
    if not stat.S_ISDIR(status.st_mode):
        _refuse_unreadable_kind(path, status, kind, limit, error)
