"""Reader for IDX files (the MNIST format), raw or gzipped, that trusts nothing in the file.

Every size comes from the header, so the header is checked before any payload is read, and the
payload is read with a hard limit: a gzip bomb or a lying header cannot exhaust memory.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from guinn.core.validation import MAX_INPUT_SIZE
from guinn.errors import DataError, brief
from guinn.io.untrusted import refuse_special_or_huge

GZIP_MAGIC = b"\x1f\x8b"
MAX_DIM = 2**31 - 1
MAX_PAYLOAD_BYTES = 2**31  # 2 GiB: far above any real IDX set, far below a bomb
# Images become float32 for training (4 bytes a pixel, plus a copy on the way): 256 MiB of
# pixels is 340,000 MNIST-sized images and keeps that under ~2 GiB.
MAX_IMAGE_BYTES = 2**28

IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(2) == GZIP_MAGIC


def _read_exact(f, n: int, path: Path, what: str) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise DataError(
            f"IDX file {brief(str(path), 80)} is truncated: expected {n} bytes of {what}, found {len(data)}."
        )
    return data


def _parse_header(f, path: Path) -> tuple[np.dtype, tuple[int, ...]]:
    magic = _read_exact(f, 4, path, "header")
    if magic[:2] != b"\x00\x00":
        raise DataError(
            f"{brief(str(path), 80)} is not an IDX file: its first two bytes are {magic[:2].hex()}, "
            "expected 0000 (optionally inside a gzip stream)."
        )
    code, ndim = magic[2], magic[3]
    if code not in IDX_DTYPES:
        allowed = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise DataError(
            f"IDX file {brief(str(path), 80)} has unsupported dtype code 0x{code:02X}; "
            f"expected one of {allowed}."
        )
    if not 1 <= ndim <= 4:
        raise DataError(f"IDX file {brief(str(path), 80)} declares {ndim} dimensions; expected 1 to 4.")
    raw_dims = _read_exact(f, 4 * ndim, path, "dimension sizes")
    dims = tuple(int(d) for d in np.frombuffer(raw_dims, dtype=">u4"))
    for i, d in enumerate(dims):
        if not 1 <= d <= MAX_DIM:
            raise DataError(
                f"IDX file {brief(str(path), 80)} has size {d} for dimension {i}; expected 1 to {MAX_DIM}."
            )
    return IDX_DTYPES[code], dims


def _read(f, path: Path, max_bytes: int, check) -> tuple[np.dtype, tuple[int, ...], bytes]:
    dtype, dims = _parse_header(f, path)
    if check is not None:
        check(dtype, dims)
    n_bytes = math.prod(dims) * dtype.itemsize
    if n_bytes > max_bytes:
        raise DataError(
            f"IDX file {brief(str(path), 80)} declares shape {dims} ({n_bytes} bytes of data); "
            f"expected at most {max_bytes} bytes."
        )
    payload = f.read(n_bytes + 1)  # one extra byte proves there is nothing after the data
    if len(payload) < n_bytes:
        raise DataError(
            f"IDX file {brief(str(path), 80)} is truncated: shape {dims} needs {n_bytes} bytes of data, "
            f"found {len(payload)}."
        )
    if len(payload) > n_bytes:
        raise DataError(
            f"IDX file {brief(str(path), 80)} has trailing bytes after the {n_bytes} bytes of data "
            f"that shape {dims} needs; expected the file to end there."
        )
    return dtype, dims, payload


def read_idx(
    path: str | os.PathLike, *, readonly: bool = False, max_bytes: int = MAX_PAYLOAD_BYTES, check=None
) -> np.ndarray:
    """Read an IDX file (gzip detected by its magic bytes) into a native-endian array.

    ``readonly=True`` returns an array over the decompressed bytes whose write flag cannot be
    turned back on, so a cached copy can be shared safely without copying it. ``check(dtype,
    dims)`` may refuse the header's dtype and shape before a byte of data is inflated.
    """
    path = Path(path)
    # A pipe or device never ends. (The file's own size needs no tighter bound: only the
    # payload its header declares, checked against max_bytes, is ever read.)
    refuse_special_or_huge(path, "IDX file", MAX_PAYLOAD_BYTES + 2**20, DataError)
    try:
        if _is_gzip(path):
            with gzip.open(path, "rb") as f:
                dtype, dims, payload = _read(f, path, max_bytes, check)
        else:
            with path.open("rb") as f:
                dtype, dims, payload = _read(f, path, max_bytes, check)
    except FileNotFoundError:
        raise DataError(
            f"IDX file {brief(str(path), 80)} does not exist; expected an existing file."
        ) from None
    except IsADirectoryError:
        raise DataError(f"{brief(str(path), 80)} is a directory; expected an IDX file.") from None
    except (gzip.BadGzipFile, zlib.error, EOFError) as exc:
        raise DataError(
            f"{brief(str(path), 80)} starts like a gzip file but is damaged or truncated ({exc}); "
            "expected a valid gzipped or raw IDX file."
        ) from None
    except OSError as exc:
        raise DataError(f"Cannot read IDX file {brief(str(path), 80)}: {exc.strerror or exc}.") from None
    arr = np.frombuffer(payload, dtype=dtype).reshape(dims)
    native = dtype.newbyteorder("=")
    if not readonly:
        return arr.astype(native)
    if dtype.itemsize > 1:
        arr = np.frombuffer(arr.astype(native).tobytes(), dtype=native).reshape(dims)
    return arr


def load_idx_pair(
    images_path: str | os.PathLike, labels_path: str | os.PathLike, *, readonly: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Read matching image and label IDX files, checking they describe the same samples. Each
    header is checked before its data is read: a small gzip file claiming images of 16384x8192
    pixels, or ten labels for one image, is refused without inflating it."""

    def images(dtype, dims):
        if len(dims) != 3 or dtype != np.uint8:  # (before the labels: a swapped pair fails there less clearly)
            swapped = " It looks like a label file: are the image and label files swapped?" if len(dims) == 1 else ""
            raise DataError(
                f"Image file {brief(str(images_path), 80)} holds {dtype.newbyteorder('=')} data of shape {dims}; "
                f"expected uint8 images of shape (N, height, width).{swapped}"
            )
        if dims[1] * dims[2] > MAX_INPUT_SIZE:
            raise DataError(
                f"Image file {brief(str(images_path), 80)} holds images of {dims[1]:,}x{dims[2]:,} pixels; a network "
                f"takes at most {MAX_INPUT_SIZE:,} inputs a sample."
            )

    x = read_idx(images_path, readonly=readonly, max_bytes=MAX_IMAGE_BYTES, check=images)

    def labels(dtype, dims):
        if len(dims) != 1 or dtype != np.uint8:
            raise DataError(
                f"Label file {brief(str(labels_path), 80)} holds {dtype.newbyteorder('=')} data of shape {dims}; "
                "expected uint8 labels of shape (N,)."
            )
        if dims[0] != len(x):
            raise DataError(
                f"{brief(str(images_path), 80)} has {len(x):,} image{'s' * (len(x) != 1)} but "
                f"{brief(str(labels_path), 80)} has {dims[0]:,} label{'s' * (dims[0] != 1)}; "
                "expected one label per image."
            )

    return x, read_idx(labels_path, readonly=readonly, check=labels)
