"""Tabular classification data from CSV files, and the scaling that must travel with a model.

Every cell is checked up front so a bad file fails with its line number instead of surfacing
later as NaN losses.
"""

from __future__ import annotations

import csv
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np

from guinn.core.validation import is_finite_number
from guinn.errors import DataError, brief, closest
from guinn.io.untrusted import refuse_special_or_huge

# Kaggle's mnist_train.csv is 110 MB; /dev/zero is endless. Parsing streams, so the peak is
# the float64 features: ~3 bytes of memory per byte of CSV.
MAX_FILE_BYTES = 256 * 1024**2
MAX_COLUMNS = 100_000
# The largest |mean| or spread a Standardizer holds: fit refuses features beyond it, and a
# stored one beyond it is no scaling guinn made (1e308 overflowed every scaled value).
MAX_SCALE = 1e300


@dataclass(frozen=True, eq=False)  # arrays have no single truth value for ==
class CsvDataset:
    """Features, class indices into ``class_names``, and the names needed to show them."""

    x: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]


def _read(path: Path, delimiter: str, rows: _Rows | None = None) -> list[str]:
    """Read the header (all, when ``rows`` is None), else hand ``rows`` the header and then each
    non-blank row while the file streams past: rows are never all held as text, which took
    ~25 bytes of Python objects per byte of CSV. Returns the header."""
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise DataError(f"CSV delimiter must be a single character; got {brief(delimiter)}.")
    line = 0
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f, delimiter=delimiter)
            header = next(reader, None)
            if header is None:
                raise DataError(f"CSV file {brief(str(path), 80)} is empty; expected a header row and data rows.")
            if not any(cell.strip() for cell in header):
                raise DataError(
                    f"CSV file {brief(str(path), 80)}: line 1 is blank; expected a header row naming the columns."
                )
            header = [cell.strip() for cell in header]
            if rows is None:
                return header
            rows.start(header)
            for row in reader:
                line = reader.line_num
                if row:  # blank lines carry no sample
                    rows.add(line, row)
    except FileNotFoundError:
        raise DataError(
            f"CSV file {brief(str(path), 80)} does not exist; expected an existing file."
        ) from None
    except IsADirectoryError:
        raise DataError(f"{brief(str(path), 80)} is a directory; expected a CSV file.") from None
    except UnicodeDecodeError as exc:
        raise DataError(
            f"CSV file {brief(str(path), 80)} is not UTF-8 text ({exc.reason} at byte {exc.start}); "
            "expected a UTF-8 CSV file."
        ) from None
    except csv.Error as exc:
        raise DataError(
            f"CSV file {brief(str(path), 80)} cannot be parsed after line {line}: {exc}; "
            "expected well-formed CSV."
        ) from None
    except OSError as exc:
        raise DataError(f"Cannot read CSV file {brief(str(path), 80)}: {exc.strerror or exc}.") from None
    return header


class _Rows:
    """Features parsed into float64 blocks as rows arrive, and the rows' labels."""

    BLOCK = 4096

    def __init__(self, path: Path, label_column: str, decimal_comma: bool = False, features=None):
        self.path, self.label_column, self.decimal_comma = path, label_column, decimal_comma
        self.wanted = features  # the feature columns to read, by name (None: every other column)
        self.blocks: list[np.ndarray] = []
        self.filled = self.BLOCK  # rows used in the last block
        self.labels: list[str] = []

    def start(self, header: list[str]) -> None:
        self.header = header
        self.label_idx = _check_header(self.path, header, self.label_column)
        self.feature_idx = [i for i in range(len(header)) if i != self.label_idx]
        if self.wanted is not None:
            missing = [name for name in self.wanted if name not in header]
            if missing:
                raise DataError(f"CSV file {brief(str(self.path), 80)} lacks the feature column(s) "
                                f"{brief(', '.join(map(repr, missing)), 200, quote=False)}; expected the columns "
                                f"{brief(', '.join(map(repr, self.wanted)), 200, quote=False)} (the model's).")
            self.feature_idx = [header.index(name) for name in self.wanted]

    def add(self, line: int, row: list[str]) -> None:
        header, path = self.header, self.path
        if len(row) != len(header):
            raise DataError(
                f"CSV file {brief(str(path), 80)}, line {line} has {len(row)} cells; expected "
                f"{len(header)}, one per header column."
            )
        label = row[self.label_idx].strip()
        if not label:
            raise DataError(
                f"CSV file {brief(str(path), 80)}, line {line} has an empty label in column "
                f"{brief(self.label_column)}; expected a class label in every row."
            )
        if self.filled == self.BLOCK:
            self.blocks.append(np.empty((self.BLOCK, len(self.feature_idx)), dtype=np.float64))
            self.filled = 0
        out = self.blocks[-1][self.filled]
        for c, i in enumerate(self.feature_idx):
            out[c] = _parse_feature(path, line, header[i], row[i].strip(), self.decimal_comma)
        self.filled += 1
        self.labels.append(label)

    def features(self) -> np.ndarray:
        if not self.blocks:
            return np.empty((0, len(self.feature_idx)))
        self.blocks[-1] = self.blocks[-1][: self.filled]
        return np.concatenate(self.blocks) if len(self.blocks) > 1 else self.blocks[0]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check_header(path: Path, header: list[str], label_column: str) -> int:
    numbers = [_is_number(cell) for cell in header if cell]
    # all numbers, or mostly numbers and no label column (a data row ending in a class name)
    if all(numbers) or (label_column not in header and sum(numbers) * 2 > len(header)):
        raise DataError(
            f"CSV file {brief(str(path), 80)} has no header: line 1 ({brief(','.join(header), 80, quote=False)}) "
            "looks like data; "
            "expected a first row naming the columns."
        )
    if len(header) > MAX_COLUMNS:
        raise DataError(f"CSV file {brief(str(path), 80)} has {len(header):,} columns; "
                        f"at most {MAX_COLUMNS:,} are read.")
    seen = set()
    for i, name in enumerate(header):
        if not name:
            raise DataError(
                f"CSV file {brief(str(path), 80)}: column {i + 1} of the header has no name; "
                "expected every column to be named."
            )
        if name in seen:
            raise DataError(
                f"CSV file {brief(str(path), 80)}: column name {brief(name)} appears more than once in the "
                "header; expected unique column names."
            )
        seen.add(name)
    if label_column not in header:
        msg = (
            f"CSV file {brief(str(path), 80)} has no column {brief(label_column)}; "
            f"columns are: {brief(', '.join(header), 200, quote=False)}."
        )
        hint = closest(label_column, header)
        if hint:
            msg += f" Did you mean {brief(hint)}?"
        raise DataError(msg)
    if len(header) < 2:
        raise DataError(
            f"CSV file {brief(str(path), 80)} has only the label column {brief(label_column)}; "
            "expected at least one feature column as well."
        )
    return header.index(label_column)


# A decimal comma: "1,5", "-0,25", "3,1e-4" (a ';'- or tab-separated export of a locale that writes them).
DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+(?:[eE][+-]?\d+)?")


def _parse_feature(path: Path, line: int, column: str, cell: str, decimal_comma: bool = False) -> float:
    where = f"CSV file {brief(str(path), 80)}, line {line}, column {brief(column)}"
    if not cell:
        raise DataError(f"{where} is empty; expected a number in every feature cell.")
    try:
        value = float(cell)
    except ValueError:
        if decimal_comma and DECIMAL_COMMA.fullmatch(cell):
            value = float(cell.replace(",", "."))
        else:
            hint = (" (decimal commas are read in files separated by ';' or tabs; a thousands separator is "
                    "not)" if "," in cell else "")
            if any(c.isalpha() for c in cell) and not hint:
                hint = f"; if {brief(column)} holds the class labels, choose it as the label column"
            raise DataError(f"{where} holds {brief(cell)}; expected a number{hint}.") from None
    if not math.isfinite(value):
        raise DataError(f"{where} holds {brief(cell)}; expected a finite number (no NaN or inf).")
    return value


PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,4})?")


def _one_spelling_per_number(labels: list[str]) -> list[str]:
    """Numeric labels that spell the same number ('1' and '1.0', as a spreadsheet may write
    them) are one class, under its shortest spelling; they were two, and a 2-class file
    trained a 4-way softmax."""
    spellings = set(labels)
    if not all(PLAIN_NUMBER.fullmatch(s) for s in spellings):  # (not '1_0', 'nan', 'inf': as they are)
        return labels
    value = {s: Decimal(s).normalize() for s in spellings}  # exact: 9007199254740993 is not ...992
    if len(set(value.values())) == len(spellings):
        return labels
    shortest: dict[Decimal, str] = {}
    for s in sorted(spellings, key=lambda s: (len(s), s)):
        shortest.setdefault(value[s], s)
    return [shortest[value[s]] for s in labels]


def _sorted_classes(labels: set[str]) -> tuple[str, ...]:
    if all(_is_number(s) for s in labels):
        return tuple(sorted(labels, key=lambda s: (float(s), s)))
    return tuple(sorted(labels))


def other_delimiter(header: list[str]) -> str | None:
    """The delimiter a header read with commas shows it really uses (';', tab or '|'), if any."""
    if len(header) != 1:
        return None
    return next((d for d in ";\t|" if d in header[0]), None)


def csv_header(path: str | os.PathLike, keep: str | None = None) -> tuple[list[str], str]:
    """The header row's column names and the delimiter that gives them: a comma, or the ';',
    tab or '|' of an export whose comma-split header is a single column (unless that column
    is ``keep``, the label column asked for)."""
    path = Path(path)
    refuse_special_or_huge(path, "CSV file", MAX_FILE_BYTES, DataError)
    header = _read(path, ",")
    other = other_delimiter(header) if keep not in header else None
    return (_read(path, other), other) if other else (header, ",")


def load_csv(path: str | os.PathLike, label_column: str, *, delimiter: str = ",", min_classes: int = 2,
             features: list[str] | None = None) -> CsvDataset:
    """Load a CSV with a header row: numeric feature columns plus one column of class labels.

    With the default comma, a file whose header is one column holding semicolons, tabs or bars
    (e.g. a spreadsheet's export in a locale with decimal commas) is read with that delimiter.
    Training needs two classes at least (``min_classes``); a file to test a model on may have
    one. ``features`` names the feature columns to read, in that order (a trained model's);
    other columns are then ignored, whatever they hold."""
    path = Path(path)
    if delimiter == ",":  # the header alone says whether this is a semicolon (tab, bar) export
        delimiter = csv_header(path, keep=label_column)[1]
    else:
        refuse_special_or_huge(path, "CSV file", MAX_FILE_BYTES, DataError)
    data = _Rows(path, label_column, decimal_comma=delimiter != ",", features=features)
    _read(path, delimiter, data)
    x, labels, header, feature_idx = data.features(), data.labels, data.header, data.feature_idx
    if not labels:
        raise DataError(f"CSV file {brief(str(path), 80)} has a header but no data rows; expected data.")
    labels = _one_spelling_per_number(labels)
    class_names = _sorted_classes(set(labels))
    if len(class_names) < min_classes:
        raise DataError(
            f"CSV file {brief(str(path), 80)}: every row has label {brief(class_names[0])}; "
            "expected at least two classes to learn to tell apart."
        )
    if min_classes > 1 and len(class_names) > max(10, len(labels) / 2):  # fewer than 2 rows a class
        others = [c for c in header if c != label_column]
        raise DataError(
            f"CSV file {brief(str(path), 80)}: column {brief(label_column)} has {len(class_names)} different values in "
            f"{len(labels)} rows, too many to be classes (an ID or a measurement?); expected the column "
            f"that holds each row's class, e.g. one of {', '.join(map(repr, others[-3:]))}."
        )
    index = {name: k for k, name in enumerate(class_names)}
    y = np.array([index[s] for s in labels], dtype=np.int64)
    feature_names = tuple(header[i] for i in feature_idx)
    return CsvDataset(x=x, y=y, feature_names=feature_names, class_names=class_names)


class Standardizer:
    """Zero-mean, unit-variance scaling fitted on training rows only, so no test data leaks in.

    Constant features get a std of 1 (they become 0 rather than dividing by zero).
    """

    def __init__(self) -> None:
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None

    def fit(self, x: np.ndarray) -> Standardizer:
        x = _as_matrix(x, "fit data")
        if x.shape[0] < 1:
            raise DataError("Cannot fit a Standardizer on 0 rows; expected at least one row.")
        with np.errstate(over="ignore", invalid="ignore"):
            mean = x.mean(axis=0)
            std = x.std(axis=0)
        bad = np.flatnonzero(~(np.isfinite(mean) & np.isfinite(std) & (np.abs(mean) <= MAX_SCALE)
                               & (std <= MAX_SCALE)))
        if len(bad):
            raise DataError(f"Feature column {bad[0] + 1} holds numbers too large to scale (its mean or spread "
                            "overflows, e.g. values near ±1e308); expected values well inside ±1e300.")
        std[std <= 1e-12 * np.abs(mean)] = 1.0  # constant up to rounding
        self.mean, self.std = mean, std
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        if self.mean is None or self.std is None:
            raise DataError("This Standardizer has not been fitted; call fit(x_train) first.")
        x = _as_matrix(x, "data to transform")
        if x.shape[1] != self.mean.shape[0]:
            raise DataError(
                f"Data to transform has {x.shape[1]} features; the Standardizer was fitted on "
                f"{self.mean.shape[0]}."
            )
        out = (x - self.mean) / self.std
        return out.astype(x.dtype) if x.dtype.kind == "f" else out

    def fit_transform(self, x: np.ndarray) -> np.ndarray:
        return self.fit(x).transform(x)

    def to_dict(self) -> dict[str, list[float]]:
        if self.mean is None or self.std is None:
            raise DataError("This Standardizer has not been fitted; call fit(x_train) first.")
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Standardizer:
        """Rebuild from :meth:`to_dict` output, checking it since it comes from a file."""
        if not isinstance(data, Mapping) or set(data) != {"mean", "std"}:
            raise DataError(
                f"Standardizer data must be a mapping with keys 'mean' and 'std'; got {brief(data)}."
            )
        arrays = {}
        for key in ("mean", "std"):
            value = data[key]
            if (
                not isinstance(value, list | tuple)
                or not value
                or not all(isinstance(v, int | float) and is_finite_number(v) for v in value)
            ):
                raise DataError(
                    f"Standardizer {key!r} must be a non-empty list of finite numbers; got {brief(value)}."
                )
            arrays[key] = np.array(value, dtype=np.float64)
        mean, std = arrays["mean"], arrays["std"]
        if mean.shape != std.shape:
            raise DataError(
                f"Standardizer has {mean.size} means but {std.size} stds; expected one of each "
                "per feature."
            )
        bad = np.flatnonzero(~((np.abs(mean) <= MAX_SCALE) & (std > 0) & (std <= MAX_SCALE)))
        if len(bad):
            raise DataError(
                f"Standardizer feature {bad[0] + 1} has mean {mean[bad[0]]:g} and std {std[bad[0]]:g}; "
                f"means must be within ±{MAX_SCALE:g} and stds above 0 and at most {MAX_SCALE:g}, as fit makes them."
            )
        obj = cls()
        obj.mean, obj.std = mean, std
        return obj


def _as_matrix(x: object, what: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 2 or x.dtype.kind not in "iuf":
        raise DataError(
            f"The {what} is {x.dtype} of shape {x.shape}; expected a numeric (rows, features) "
            "array."
        )
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise DataError(f"The {what} contains NaN or inf; expected finite numbers.")
    return x


def train_test_split_indices(
    n: int, test_fraction: float, seed: int | None = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted ``(train_idx, test_idx)`` from a seeded shuffle; each side keeps at least one row."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 2:
        raise DataError(f"Need at least 2 rows to split into train and test; got n={n!r}.")
    if (
        isinstance(test_fraction, bool)
        or not isinstance(test_fraction, int | float)
        or not 0 < test_fraction < 1
    ):
        raise DataError(
            f"test_fraction must be between 0 and 1 (exclusive); got {brief(test_fraction)}."
        )
    n_test = min(max(round(n * test_fraction), 1), n - 1)
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def text_columns(path: str | os.PathLike, sample_rows: int = 50) -> list[str]:
    """The columns whose first ``sample_rows`` rows hold text, not numbers: in a file of
    measurements with one such column ("flower": "setosa", ...), that column is the label."""
    path = Path(path)
    header, delimiter = csv_header(path)
    texty: set[int] = set()
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f, delimiter=delimiter)
            next(reader, None)
            for line, row in enumerate(reader, start=2):
                if line > sample_rows + 1:
                    break
                for i, cell in enumerate(row[:len(header)]):
                    try:
                        _parse_feature(path, line, header[i], cell.strip(), delimiter != ",")
                    except DataError:
                        if cell.strip():
                            texty.add(i)
    except (OSError, UnicodeDecodeError, csv.Error):
        return []
    return [header[i] for i in sorted(texty)]
