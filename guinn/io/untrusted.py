"""The first check on any file a user hands us: it exists, is a file, and is small enough to read.

Model files, experiment files and pictures are untrusted input. Their size is bounded before
a byte is read, so a huge or endless file (``/dev/zero``) is refused instead of exhausting
memory; each reader then validates the content itself.
"""

from __future__ import annotations

import json
import math
import re
import stat
from pathlib import Path

from guinn.errors import brief


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


# A whole number in a file is a count, a size, a seed or a generator state (PCG64's are
# 128-bit); beyond that it is no setting, and a float of it overflows (10**400).
MAX_WHOLE = 2**128
# A lone surrogate: escaped in JSON text ("\ud800") or left by a surrogateescape decode.
_MAYBE_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]|[\ud800-\udfff]")


class _Refused(ValueError):
    """JSON that parses but that guinn does not take (NaN, a duplicate key, ...)."""


def strict_json(text, what: str, error: type[Exception]):
    """``json.loads`` for text from outside: NaN, Infinity, out-of-range numbers, duplicate
    keys (which one would win?) and text that is no Unicode (a lone surrogate, which crashes
    whatever prints or encodes it) are refused, and every problem is ``error`` naming ``what``."""

    def no_constants(name):
        raise _Refused(f"{name} is not allowed")

    def finite_float(s):
        value = float(s)
        if not math.isfinite(value):
            raise _Refused(f"number {s[:30]} is out of range")
        return value

    def bounded_int(s):
        if len(s) > 40 or abs(value := int(s)) >= MAX_WHOLE:
            shown = s if len(s) <= 30 else f"{s[:20]}... ({len(s.lstrip('-')):,} digits)"
            raise _Refused(f"whole number {shown} is too large: whole numbers must be below 2**128 in size")
        return value

    def unique(pairs):
        result = {}
        for key, value in pairs:
            if key in result:
                raise _Refused(f"duplicate key {key!r:.60}")
            result[key] = value
        return result

    try:
        data = json.loads(text, parse_constant=no_constants, parse_float=finite_float, parse_int=bounded_int,
                          object_pairs_hook=unique)
        if _MAYBE_SURROGATE.search(text):
            _refuse_surrogates(data)
        return data
    except RecursionError:
        raise error(f"{what} is not usable JSON (nested too deeply).") from None
    except ValueError as exc:
        raise error(f"{what} is not valid JSON ({json_problem(exc)}).") from None


def _refuse_surrogates(data) -> None:
    """Raise _Refused for the first text (key or value, at any depth) that is not valid Unicode."""
    todo = [data]
    while todo:
        item = todo.pop()
        if isinstance(item, dict):
            todo.extend(item)
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise _Refused(f"text {brief(item)} holds \\u{ord(item[exc.start]):04x}, half of a UTF-16 "
                               "surrogate pair, which is no character: text must be valid Unicode") from None


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
