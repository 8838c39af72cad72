"""Experiment files: one JSON document that fully describes a training run.

Dataset and its options, the hidden-layer cards, loss, optimizer and its hyper-parameters,
batch size, epochs, validation split, early stopping, initializer, augmentation and seed.
The app opens and saves them, ``guinn train`` runs them, and the same file gives the same
result. Files are untrusted: every field is checked and unknown fields are refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from guinn.core import initializers, optimizers
from guinn.core.callbacks import EarlyStopping
from guinn.core.losses import ALIASES
from guinn.core.specs import MAX_CARDS, LayerSpec, build_model
from guinn.core.validation import check_bool, check_int_in, check_number_in, dataclass_from_dict
from guinn.data.catalog import Dataset, check_spec, load_dataset
from guinn.errors import ConfigError, GuinnError, ModelFileError, brief, unknown_name
from guinn.io.atomic import write_atomically
from guinn.io.untrusted import checked_size, strict_json

FORMAT = "guinn-experiment"
VERSION = 1
MAX_FILE_BYTES = 1_000_000
CARD_LOSSES = ("categorical_crossentropy", "mean_squared_error", "binary_crossentropy")
@dataclass(frozen=True)
class EarlyStoppingSpec:
    enabled: bool = False
    monitor: str = "val_loss"
    patience: int = 3
    min_delta: float = 0.0
    restore_best_weights: bool = True

    def __post_init__(self):
        if self.monitor not in ("val_loss", "val_accuracy", "loss", "accuracy"):
            raise ConfigError(f"early_stopping.monitor must be val_loss, val_accuracy, loss or accuracy, "
                              f"got {brief(self.monitor)}.")
        check_int_in("early_stopping.patience", self.patience, 0, 1000)
        object.__setattr__(self, "min_delta", check_number_in("early_stopping.min_delta", self.min_delta, 0, 1000))
        for key in ("enabled", "restore_best_weights"):
            object.__setattr__(self, key, check_bool(f"early_stopping.{key}", getattr(self, key)))


@dataclass(frozen=True)
class AugmentSpec:
    """Random shifts and scalings of digit images while training (see guinn.data.augment)."""

    enabled: bool = False
    max_shift: float = 2.0  # pixels
    max_scale: float = 0.1  # +-10 %

    def __post_init__(self):
        object.__setattr__(self, "enabled", check_bool("augment.enabled", self.enabled))
        check_number_in("augment.max_shift", self.max_shift, 0, 8)
        check_number_in("augment.max_scale", self.max_scale, 0, 0.5)


@dataclass(frozen=True)
class Experiment:
    title: str = "MNIST example network"
    description: str = ""
    dataset: dict = field(default_factory=lambda: {"kind": "mnist"})
    layers: tuple[LayerSpec, ...] = (LayerSpec(500, "sigmoid"), LayerSpec(500, "sigmoid"))
    loss: str = "categorical_crossentropy"
    optimizer: dict = field(default_factory=lambda: {"name": "adam", "learning_rate": 0.001})
    initializer: str = "glorot_uniform"
    batch_size: int = 100
    epochs: int = 20
    validation_split: float = 0.1
    early_stopping: EarlyStoppingSpec = EarlyStoppingSpec()
    augment: AugmentSpec = AugmentSpec()
    seed: int = 0

    def __post_init__(self):
        # The API's spellings ("mse", "Adam", "momentum") are read as their canonical names, so
        # an experiment file takes what compile() takes and the app finds its own entries.
        loss = self.loss.lower() if isinstance(self.loss, str) else self.loss
        if isinstance(loss, str):  # sparse labels are one-hot rows by the time a run trains: one loss
            loss = {**ALIASES, "sparse_categorical_crossentropy": "categorical_crossentropy"}.get(loss, loss)
        if loss not in CARD_LOSSES:  # (the sparse loss is read too, as the categorical one)
            raise unknown_name("loss", self.loss, (*CARD_LOSSES, "sparse_categorical_crossentropy"))
        object.__setattr__(self, "loss", loss)
        if isinstance(self.optimizer, str):  # compile's optimizer="adam": its defaults
            object.__setattr__(self, "optimizer", {"name": self.optimizer})
        if not isinstance(self.optimizer, dict) or "name" not in self.optimizer:
            raise ConfigError("optimizer must be a name (sgd, momentum, adagrad, rmsprop, adam) or an object "
                              "with a 'name' and its hyper-parameters.")
        object.__setattr__(self, "optimizer", optimizers.get(dict(self.optimizer)).to_config())
        if not isinstance(self.initializer, str):  # (initializers.get takes configs too; a card takes a name)
            raise ConfigError(f"initializer must be a name such as 'glorot_uniform', got {brief(self.initializer)}.")
        initializers.get(self.initializer)
        check_int_in("batch_size", self.batch_size, 1, 1_000_000)
        check_int_in("epochs", self.epochs, 1, 100_000)
        check_number_in("validation_split", self.validation_split, 0, 0.9)
        check_int_in("seed", self.seed, 0, 2**32 - 1)
        if not isinstance(self.dataset, dict) or "kind" not in self.dataset:
            raise ConfigError("dataset must be an object with a 'kind' (mnist, toy, csv or idx).")
        object.__setattr__(self, "dataset", check_spec(self.dataset))

    # -- (de)serialisation ------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "format": FORMAT, "version": VERSION, "title": self.title, "description": self.description,
            "dataset": dict(self.dataset), "layers": [s.to_dict() for s in self.layers], "loss": self.loss,
            "optimizer": dict(self.optimizer), "initializer": self.initializer, "batch_size": self.batch_size,
            "epochs": self.epochs, "validation_split": self.validation_split,
            "early_stopping": vars(self.early_stopping).copy(), "augment": vars(self.augment).copy(),
            "seed": self.seed,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Experiment:
        if not isinstance(data, dict):
            raise ModelFileError("An experiment must be a JSON object.")
        data = dict(data)
        if data.pop("format", FORMAT) != FORMAT:
            raise ModelFileError(f"Not a guinn experiment file (format must be {FORMAT!r}).")
        version = data.pop("version", VERSION)
        if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= VERSION:
            raise ModelFileError(f"Experiment file version {brief(version)} is not supported "
                                 f"(this guinn reads versions 1..{VERSION}); update guinn.")
        allowed = {f.name for f in fields(cls)}
        unknown = set(data) - allowed
        if unknown and not set(data) & allowed:  # some other program's JSON: the field list would puzzle
            raise ModelFileError(f"Not a guinn experiment file: it has none of an experiment's fields, only "
                                 f"{brief(sorted(unknown), 100)} (an experiment's are {sorted(allowed)}; "
                                 "File ▸ Save experiment writes one).")
        if unknown:
            raise ModelFileError(f"Unknown experiment field(s) {brief(sorted(unknown), 100)}; "
                                 f"allowed: {sorted(allowed)}.")
        try:
            if "layers" in data:
                if not isinstance(data["layers"], list):
                    raise ConfigError("layers must be a list of layer objects.")
                if len(data["layers"]) > MAX_CARDS:
                    raise ConfigError(f"layers lists {len(data['layers']):,} hidden layers; at most {MAX_CARDS} "
                                      f"are allowed.")
                data["layers"] = tuple(LayerSpec.from_dict(s) for s in data["layers"])
            for key, spec_cls in (("early_stopping", EarlyStoppingSpec), ("augment", AugmentSpec)):
                if key in data:
                    data[key] = dataclass_from_dict(spec_cls, data[key], noun=key, kind=key)
            for key in ("title", "description"):
                if key in data and not isinstance(data[key], str):
                    raise ConfigError(f"{key} must be text.")
            return cls(**data)
        except ModelFileError:
            raise
        except GuinnError as exc:
            raise ModelFileError(f"Invalid experiment: {exc}") from None
        except TypeError as exc:
            raise ModelFileError(f"Invalid experiment: {exc}") from None

    def save(self, path) -> None:
        """Write atomically, so a crash never leaves half a file (ModelFileError if it cannot)."""
        data, folder = self.to_dict(), Path(path).absolute().parent
        data["dataset"] = _data_files(data["dataset"], lambda file: _relative_within(file, folder))
        write_atomically(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))

    @classmethod
    def load(cls, path) -> Experiment:
        path = Path(path)
        if path.suffix.lower() == ".safetensors":
            raise ModelFileError(f"{path.name} is a model file, not an experiment: open it with File → Open model, "
                                 "guinn.models.load_model, or `guinn evaluate`/`guinn info`.")
        checked_size(path, "experiment file", MAX_FILE_BYTES, ModelFileError)
        try:
            text = path.read_text(encoding="utf-8-sig")  # a byte-order mark (Windows Notepad's) is skipped
        except OSError as exc:
            raise ModelFileError(f"Cannot read experiment file {path}: {exc.strerror or exc}.") from None
        except UnicodeDecodeError:
            raise ModelFileError(f"{path} is not a UTF-8 text file, so not an experiment.") from None
        data = strict_json(text, str(path), ModelFileError)
        exp = cls.from_dict(data)
        folder = path.absolute().parent
        exp = exp.with_changes(dataset=_data_files(exp.dataset, lambda file: _found_beside(file, folder)))
        if "title" not in data:  # the default title names the MNIST example, not this file's run
            exp = exp.with_changes(title=path.stem)
        return exp

    def with_changes(self, **changes) -> Experiment:
        return replace(self, **changes)

    # -- running -------------------------------------------------------------------------
    def build_model(self, dataset: Dataset):
        """The compiled model this experiment describes, for ``dataset``."""
        model = build_model(dataset.input_dim, list(self.layers), dataset.n_classes, seed=self.seed,
                            initializer=self.initializer)
        model.compile(optimizer=optimizers.get(dict(self.optimizer)), loss=self.loss, metrics=["accuracy"])
        return model

    def callbacks(self) -> list:
        es = self.early_stopping
        if not es.enabled:
            return []
        return [EarlyStopping(monitor=es.monitor, patience=es.patience, min_delta=es.min_delta,
                              restore_best_weights=es.restore_best_weights)]

    def fit_arguments(self, dataset: Dataset) -> dict:
        """Everything ``model.fit`` needs besides callbacks and verbosity."""
        from guinn.utils import to_categorical

        transform = None
        if self.augment.enabled and dataset.image_shape is not None:
            from guinn.data.augment import make_augmenter

            transform = make_augmenter(dataset.image_shape, self.augment.max_shift, self.augment.max_scale)
        rows = len(dataset.x_train)
        if self.validation_split and not 1 <= int(rows * (1 - self.validation_split) + 1e-9) < rows:
            held = f"{rows:,} training sample{'s' if rows != 1 else ''}"
            raise ConfigError(f"The dataset leaves {held} beside its test part, which a validation split of "
                              f"{self.validation_split:g} cannot divide into training and validation samples; "
                              f"use more samples, take less for testing (the dataset's test options) or set "
                              f"validation_split to 0.")
        return dict(x=dataset.x_train, y=to_categorical(dataset.y_train, dataset.n_classes),
                    batch_size=self.batch_size, epochs=self.epochs, validation_split=self.validation_split,
                    batch_transform=transform)

    def run(self, dataset: Dataset | None = None, callbacks=(), verbose=0):
        """Load the data, build, train. Returns (model, history, dataset)."""
        dataset = dataset or load_dataset(self.dataset)
        model = self.build_model(dataset)
        history = model.fit(**self.fit_arguments(dataset), callbacks=[*self.callbacks(), *callbacks],
                            verbose=verbose)
        return model, history, dataset


# Data file paths in an experiment are written relative to the experiment's folder when the
# data lies in it (or below), and read relative to it when the file is there: a folder holding
# an experiment and its CSV can be moved or shared, and opened from anywhere.
DATA_FILE_OPTIONS = ("path", "train_images", "train_labels", "test_images", "test_labels")


def _data_files(dataset: dict, change) -> dict:
    return {key: change(value) if key in DATA_FILE_OPTIONS and isinstance(value, str) else value
            for key, value in dataset.items()}


def _relative_within(file: str, folder: Path) -> str:
    path = Path(file)
    if not path.is_absolute():
        if not path.exists():  # no file from the working folder: left to be found beside the experiment
            return file
        path = path.absolute()
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:  # elsewhere: in full (a relative path would be read beside the experiment)
        return str(path)


def _found_beside(file: str, folder: Path) -> str:
    if Path(file).is_absolute():
        return file
    beside = folder / file
    return str(beside) if beside.exists() else file  # else as before: relative to the working folder
