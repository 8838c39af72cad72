"""Turn a dataset description (as stored in experiment files) into ready training arrays.

Every dataset comes out the same way -- float32 features in a sensible range, integer class
labels, class names -- so the model builder, the app and the command line never care where
the data came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from guinn.core.validation import is_finite_number
from guinn.data import toy
from guinn.data.csv_data import Standardizer, load_csv, train_test_split_indices
from guinn.errors import DataError, ModelFileError, brief, unknown_name

KINDS = ("mnist", "toy", "csv", "idx")


@dataclass(frozen=True, eq=False)
class Dataset:
    name: str
    x_train: np.ndarray  # float32 (N, features)
    y_train: np.ndarray  # int64 (N,)
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    image_shape: tuple[int, int] | None = None  # (28, 28) for digit images: the drawing pad needs it
    description: str = ""
    preprocessing: dict | None = None  # e.g. the CSV standardiser, so predictions scale alike

    @property
    def input_dim(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def n_classes(self) -> int:
        return len(self.class_names)


def load_dataset(spec: dict) -> Dataset:
    """``{"kind": "mnist" | "toy" | "csv" | "idx", ...options}`` -> Dataset."""
    spec = check_spec(spec)
    loaders = {"mnist": _mnist, "toy": _toy, "csv": _csv, "idx": _idx}
    return loaders[spec["kind"]](**{k: v for k, v in spec.items() if k != "kind"})


def check_spec(spec) -> dict:
    """``spec`` with its kind spelt out, once the kind is known and every option has the type
    its loader takes: an experiment checks its dataset when it is loaded, so a wrong value is
    refused then, not when the data is read (nor shown by the app as it is)."""
    if not isinstance(spec, dict):
        raise DataError(f"A dataset description must be an object, got {brief(spec, 100)}.")
    kind = spec.get("kind", "mnist")
    if not isinstance(kind, str) or kind not in _OPTIONS:
        raise unknown_name("dataset kind", kind, KINDS)
    return {"kind": kind, **_checked_options(kind, {k: v for k, v in spec.items() if k != "kind"})}


# What each option must be: a description comes from a file or a command line, so a list where
# a name belongs must be an error, not a TypeError, and "1e400" no OverflowError. Whole numbers
# are bounded so that the app's (32-bit) boxes can show them; None means the loader's default.
_TEXT = {"name", "path", "label_column", "delimiter", "train_images", "train_labels", "test_images", "test_labels"}
_WHOLE = {"seed": (0, 2**63 - 1), "limit": (1, 2**31 - 1), "test_limit": (1, 2**31 - 1),
          "n_samples": (1, toy.MAX_SAMPLES)}
_NUMBERS = {"noise", "test_fraction"}
_MAY_BE_NULL = _TEXT | {"seed", "noise"}


def _checked_options(kind: str, options: dict) -> dict:
    _only(kind, options, _OPTIONS[kind])
    for key, value in options.items():
        if value is None and key in _MAY_BE_NULL:
            continue
        if key in _TEXT and (not isinstance(value, str) or "\0" in value):
            what = "contains a NUL character" if isinstance(value, str) else f"is {brief(value, 80)}"
            raise DataError(f"Dataset option {key!r} must be text (a name or a file path); it {what}.")
        if key in _WHOLE:
            low, high = _WHOLE[key]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise DataError(f"Dataset option {key!r} must be a whole number from {low:,} to {high:,}, "
                                f"got {brief(value)}.")
        if key in _NUMBERS and not is_finite_number(value):
            raise DataError(f"Dataset option {key!r} must be a number, got {brief(value)}.")
    return options


_OPTIONS = {
    "mnist": {"limit", "test_limit"},
    "toy": {"name", "n_samples", "noise", "seed", "test_fraction"},
    "csv": {"path", "label_column", "delimiter", "test_fraction", "seed"},
    "idx": {"train_images", "train_labels", "test_images", "test_labels", "limit", "test_fraction", "seed"},
}


def _only(kind, options, allowed):
    unknown = set(options) - allowed
    if unknown:
        raise DataError(f"Unknown option(s) {brief(sorted(unknown), 100)} for a {kind} dataset; "
                        f"allowed: {sorted(allowed)}.")
    return options


def _images(x: np.ndarray) -> np.ndarray:
    out = x.reshape(len(x), -1).astype(np.float32)
    out /= np.float32(255.0)  # in place: one float copy of the images, not two
    return out


def _mnist(limit=None, test_limit=None) -> Dataset:
    from guinn.datasets import mnist

    (x, y), (xt, yt) = mnist.load_data()
    n, nt = min(limit or len(x), len(x)), min(test_limit or len(xt), len(xt))
    return Dataset("MNIST", _images(x[:n]), y[:n].astype(np.int64), _images(xt[:nt]), yt[:nt].astype(np.int64),
                   tuple(str(i) for i in range(10)), image_shape=(28, 28),
                   description=f"Handwritten digits, 28x28 grey pixels: {n:,} training and {nt:,} test images.")


def _toy(name="spiral", n_samples=600, noise=None, seed=0, test_fraction=0.2) -> Dataset:
    kwargs = {"n_samples": n_samples, "seed": seed}
    if noise is not None:
        kwargs["noise"] = noise
    x, y = toy.make_toy(name, **kwargs)
    train, test = train_test_split_indices(len(x), test_fraction, seed)
    classes = tuple(str(c) for c in range(int(y.max()) + 1))
    return Dataset(f"{name} (toy)", x[train], y[train], x[test], y[test], classes,
                   description=f"2-D toy set '{name}': {len(train)} training and {len(test)} test points.")


def _csv(path=None, label_column=None, delimiter=",", test_fraction=0.2, seed=0) -> Dataset:
    if not path or not label_column:
        raise DataError("A CSV dataset needs 'path' and 'label_column'.")
    data = load_csv(path, label_column, delimiter=delimiter)
    train, test = train_test_split_indices(len(data.x), test_fraction, seed)
    scaler = Standardizer().fit(data.x[train])  # statistics from the training part only
    return Dataset(f"CSV {path}", scaler.transform(data.x[train]).astype(np.float32), data.y[train],
                   scaler.transform(data.x[test]).astype(np.float32), data.y[test], tuple(data.class_names),
                   description=f"{len(data.x)} rows, {len(data.feature_names)} features, "
                               f"{len(data.class_names)} classes from {Path(path).name}.",  # (name: the path)
                   preprocessing={"standardizer": scaler.to_dict(), "feature_names": list(data.feature_names)})


def csv_for_model(spec: dict, preprocessing: dict, class_names, split: tuple[float, int] | None) -> Dataset:
    """A CSV file as a model trained on CSV data sees it: the feature columns it was trained on,
    found by name (other columns ignored), scaled with its stored statistics, and labels as its
    classes (numbers match numbers: '1.0' is class '1'), not this file's own columns,
    statistics and sorted classes, which differ for any other file. The test rows are the
    ones held out in training if this is the file it was trained on, told by its content
    (wherever it is now): ``split``, the training's (test fraction, seed), applied to it gives a
    training part with exactly the stored statistics. Otherwise every row."""
    options = _checked_options("csv", {k: v for k, v in spec.items() if k != "kind"})
    path, label_column = options.get("path"), options.get("label_column")
    if not path or not label_column:
        raise DataError("A CSV dataset needs 'path' and 'label_column'.")
    wanted = preprocessing["feature_names"]
    if not isinstance(wanted, list) or not wanted or not all(isinstance(name, str) for name in wanted):
        raise DataError(f"The model's stored feature names must be a list of column names, got {wanted!r:.100}.")
    try:
        scaler = Standardizer.from_dict(preprocessing["standardizer"])
    except DataError as exc:  # the model file's fault, not the data's
        raise ModelFileError(f"The model's stored feature scaling cannot be used: {exc}") from None
    data = load_csv(path, label_column, delimiter=options.get("delimiter", ","), min_classes=1, features=wanted)
    classes = [str(c) for c in class_names]
    found = [_class_of(label, classes) for label in data.class_names]
    unknown = [label for label, k in zip(data.class_names, found, strict=True) if k is None]
    if unknown:
        raise DataError(f"CSV file {brief(path, 80)} has label(s) {', '.join(map(brief, unknown[:5]))} in column "
                        f"{brief(label_column)} that the model does not know; its classes are "
                        f"{brief(', '.join(classes), 200, quote=False)}.")
    y = np.array(found, dtype=np.int64)[data.y]
    x = data.x
    rows = _held_out_rows(x, scaler, split)
    if rows is not None:
        x, y, which = x[rows], y[rows], "the rows held out in training"
    else:
        which = "every row: not the file the model was trained on"
    x = _scaled(scaler, x, wanted, path)
    return Dataset(f"CSV {path}", x[:0], y[:0], x, y, tuple(classes), description=which,
                   preprocessing=dict(preprocessing))


def _scaled(scaler: Standardizer, x: np.ndarray, names: list[str], path) -> np.ndarray:
    """``x`` scaled by a model's stored statistics, as float32: a row far from what the model
    was trained on can leave float32's range, which NumPy only warned of before the model
    blamed the data for holding infinite values."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = scaler.transform(x).astype(np.float32)
    bad = np.flatnonzero(~np.isfinite(out).all(axis=0))
    if len(bad):
        raise DataError(f"CSV file {brief(path, 80)}: column {brief(names[bad[0]])}, scaled by the model's stored mean "
                        f"{scaler.mean[bad[0]]:g} and std {scaler.std[bad[0]]:g}, leaves float32's range "
                        "(about ±3.4e38): the data is far outside what the model was trained on.")
    return out


def _class_of(label: str, classes: list[str]) -> int | None:
    """The model class a file's label is: the same text, else the one class spelling the same
    number ('1.0' is '1'), else None."""
    if label in classes:
        return classes.index(label)
    value = _number(label)
    same = [i for i, c in enumerate(classes) if value is not None and _number(c) == value]
    return same[0] if len(same) == 1 else None


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if np.isfinite(value) else None


def _held_out_rows(x: np.ndarray, scaler: Standardizer, split) -> np.ndarray | None:
    """The test rows of ``split`` if its training rows have exactly the statistics ``scaler``
    was fitted on (the file a model was trained on), else None."""
    if split is None or len(x) < 2:
        return None
    try:
        train, test = train_test_split_indices(len(x), *split)
        fitted = Standardizer().fit(x[train])
    except DataError:
        return None
    same = (fitted.mean.shape == scaler.mean.shape and np.allclose(fitted.mean, scaler.mean, rtol=1e-9, atol=0)
            and np.allclose(fitted.std, scaler.std, rtol=1e-9, atol=0))
    return test if same else None


def _idx(train_images=None, train_labels=None, test_images=None, test_labels=None, limit=None,
         test_fraction=0.2, seed=0) -> Dataset:
    from guinn.datasets.idx_files import load_idx_dataset

    if not train_images or not train_labels:
        raise DataError("An IDX dataset needs 'train_images' and 'train_labels' file paths.")
    (x, y), test = load_idx_dataset(train_images, train_labels, test_images, test_labels)
    if test is None:
        tr, te = train_test_split_indices(len(x), test_fraction, seed)
        (x, y), (xt, yt) = (x[tr], y[tr]), (x[te], y[te])
    else:
        xt, yt = test
    n = min(limit or len(x), len(x))
    classes = tuple(str(i) for i in range(int(max(y.max(), yt.max())) + 1))
    return Dataset(f"IDX {train_images}", _images(x[:n]), y[:n].astype(np.int64), _images(xt), yt.astype(np.int64),
                   classes, image_shape=tuple(x.shape[1:3]),
                   description=f"IDX images {x.shape[1]}x{x.shape[2]}: {n:,} training and {len(xt):,} test.")
