"""Writing a file so that a crash, a full disk or a refused permission never leaves half of
it: the bytes go to a temporary file beside it, are flushed to the disk, and the temporary
file is renamed over the old one. Model files, ONNX exports, experiments and the app's
session state all go through here."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from guinn.errors import ModelFileError


def _write_bytes(handle, data: bytes) -> None:
    """The one place bytes hit the disk (tests replace it to simulate a full disk)."""
    handle.write(data)


def is_folder(path: Path) -> bool:
    """``path.is_dir()``, False where the name cannot even be looked up (too long for the file
    system, say: writing it then says why, as a guinn error, where is_dir raised OSError)."""
    try:
        return path.is_dir()
    except OSError:
        return False


def check_writable(path) -> Path:
    """Fail early, with a clear message, when ``path`` cannot be written (before hours of training)."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not is_folder(directory):
        raise ModelFileError(f"Cannot save to {path}: the folder {directory} does not exist.")
    if is_folder(path):
        raise ModelFileError(f"Cannot save to {path}: it is a folder; give a file name.")
    if not os.access(directory, os.W_OK):
        raise ModelFileError(f"Cannot save to {path}: the folder {directory} is not writable.")
    return path


def write_atomically(path, data: bytes) -> None:
    """Replace ``path`` by ``data`` whole, or leave it untouched and raise ModelFileError."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    check_writable(path)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise ModelFileError(f"Cannot save to {path}: {exc.strerror or exc}.") from None
    try:
        _set_mode(fd, path)
        with os.fdopen(fd, "wb") as handle:
            _write_bytes(handle, data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException as exc:
        try:
            os.unlink(tmp_name)
        except OSError:
            pass
        if isinstance(exc, OSError):  # disk full, permissions...: the previous file is untouched
            raise ModelFileError(f"Could not save {path}: {exc.strerror or exc}. "
                                 "Any previous file at that path is unchanged.") from None
        raise
    try:  # make the rename itself durable where the platform allows it
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _set_mode(fd: int, path: Path) -> None:
    """Give the new file the old file's permissions (or the usual ones), not mkstemp's 0600."""
    if not hasattr(os, "fchmod"):
        return
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        mode = 0o666 & ~_UMASK
    try:
        os.fchmod(fd, mode)
    except OSError:
        pass


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _current_umask()
