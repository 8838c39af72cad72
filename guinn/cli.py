"""The ``guinn`` command: the app with no arguments, or train / evaluate / predict / export / info.

Every user mistake (a bad file, an unknown dataset, an image with no ink) ends as one line
``guinn: error: ...`` on stderr and exit status 2 -- never a traceback. This module imports
no Qt: the app and the image reader load PySide6 only when they are used.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import textwrap
import warnings
from pathlib import Path

from guinn.errors import DataError, GuinnError, TrainingWarning, closest
from guinn.io.untrusted import strict_json
from guinn.resources import preset_dir, preset_paths

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130

DATASET_HELP = (
    "mnist | toy:NAME (spiral, circles, xor, blobs, moons) | csv:PATH:LABEL_COLUMN | "
    "idx:TRAIN_IMAGES:TRAIN_LABELS[:TEST_IMAGES:TEST_LABELS] | a JSON object such as "
    '\'{"kind": "mnist", "test_limit": 1000}\''
)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (usage is one ``--help`` away)."""

    def error(self, message):
        self.exit(EXIT_ERROR, f"guinn: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    from guinn import __version__

    parser = _Parser(
        prog="guinn",
        description="Train neural networks and watch them learn. Without a command, the app opens.",
    )
    parser.add_argument("--version", action="version", version=f"guinn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser(
        "train",
        help="train the network an experiment file describes",
        description="Train the network an experiment file (JSON) describes, with a progress "
        "bar and per-epoch metrics, then save the model.",
    )
    p.add_argument(
        "experiment",
        metavar="EXPERIMENT",
        help="experiment file (.json) or the name of a bundled preset: "
        + (", ".join(p.stem for p in preset_paths()) or "none in this installation"),
    )
    p.add_argument(
        "--out",
        metavar="MODEL",
        help="where to save the model (default: EXPERIMENT's name "
        "with .safetensors, in the current folder)",
    )
    p.add_argument(
        "--epochs", type=int, metavar="N", help="override the experiment's number of epochs"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar, only the final result")

    p = sub.add_parser(
        "evaluate",
        help="loss and accuracy of a saved model on a test set",
        description="Loss and accuracy of a saved model on the test part of a dataset.",
    )
    p.add_argument("model", metavar="MODEL", help="model file (.safetensors)")
    p.add_argument(
        "--dataset",
        metavar="SPEC",
        help=f"dataset to test on (default: the one the model was trained on): {DATASET_HELP}",
    )

    p = sub.add_parser(
        "predict",
        help="classify pictures of digits",
        description="Classify PNG/JPEG pictures of single digits (dark on light or light on "
        "dark) after the drawing pad's preprocessing: crop, scale to 20 px, "
        "centre in 28x28.",
    )
    p.add_argument("model", metavar="MODEL", help="model file trained on 28x28 digit images")
    p.add_argument("images", metavar="IMAGE", nargs="+", help="PNG or JPEG files")
    p.add_argument(
        "--json",
        action="store_true",
        help="print a JSON list of objects with file, class (the label; a number for "
        "digit labels) and probabilities (one per class, in class order)",
    )

    p = sub.add_parser(
        "export",
        help="write a model as ONNX for use elsewhere",
        description="Write the network in inference mode (dropout removed) as an ONNX "
        "file. Needs the onnx package (pip install onnx onnxruntime, or '.[onnx]' from a checkout).",
    )
    p.add_argument("model", metavar="MODEL", help="model file (.safetensors)")
    p.add_argument("out", metavar="OUT.onnx", help="ONNX file to write")

    p = sub.add_parser(
        "info",
        help="describe a saved model",
        description="Layers, parameters, classes, training settings and history of a saved model.",
    )
    p.add_argument("model", metavar="MODEL", help="model file (.safetensors)")
    return parser


def main(argv=None) -> int:
    """Entry point of the ``guinn`` console script; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        return _open_app([])
    if len(argv) == 1 and argv[0] not in COMMANDS and argv[0].lower().endswith((".json", ".safetensors")):
        return _open_app(argv)  # `guinn lesson.json`, `guinn model.safetensors`: the app opens it
    _escape_unprintable_output()
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Escaping(sys.stdout), _Escaping(sys.stderr)
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            sys.stdout, sys.stderr = streams
            return _open_app([])
        return COMMANDS[args.command](args) or 0
    except SystemExit as exc:  # --help, --version and argument errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_ERROR)
    except KeyboardInterrupt:
        print("\nguinn: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except GuinnError as exc:
        return _fail(str(exc))
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        return _fail(f"{exc.strerror or exc}{where}")
    except MemoryError:
        return _fail("not enough memory for this dataset or model.")
    finally:
        sys.stdout, sys.stderr = streams


# Control characters a file's names and notes may carry (ESC starts a terminal's escape sequences:
# a model file's note cleared the screen), written as \x1b; newlines, tabs and the progress bar's
# carriage returns pass.
_CONTROL = {c: f"\\x{c:02x}" for c in [*range(32), *range(127, 160)] if chr(c) not in "\n\r\t"}


class _Escaping:
    """A text stream that writes control characters escaped."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        return self._stream.write(text.translate(_CONTROL) if isinstance(text, str) else text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _escape_unprintable_output() -> None:
    """A file name on the command line may hold bytes that are not UTF-8, which Python keeps as
    lone surrogates; under a strict UTF-8 locale printing it raised UnicodeEncodeError. Such
    characters are printed escaped (\\udcff) instead, as stderr already does."""
    if getattr(sys.stdout, "errors", None) == "strict" and hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")


def _fail(message: str) -> int:
    print(f"guinn: error: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_ERROR


def _open_app(files: list[str]) -> int:
    if _no_display():
        return _fail(
            "no display to open the app on (neither DISPLAY nor WAYLAND_DISPLAY is set). Run guinn on a "
            "desktop, or use the command line (guinn --help); QT_QPA_PLATFORM=offscreen runs it invisibly."
        )
    try:
        from guinn.gui.app import main as gui_main
    except ImportError as exc:
        return _fail(f"the app cannot start ({exc}); the command line still works (guinn --help).")
    return int(gui_main(files) or 0)


def _no_display() -> bool:
    """On Linux/BSD, Qt aborts the process without a display; say so in one line instead."""
    if not sys.platform.startswith(("linux", "freebsd", "openbsd")):
        return False
    if os.environ.get("QT_QPA_PLATFORM"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


# -- commands ------------------------------------------------------------------------------------
def cmd_train(args) -> int:
    from guinn.data.catalog import load_dataset
    from guinn.experiment import Experiment
    from guinn.io.model_file import save_model

    experiment = Experiment.load(resolve_experiment(args.experiment))
    if args.epochs is not None:
        experiment = Experiment.from_dict({**experiment.to_dict(), "epochs": args.epochs})
    from guinn.io.atomic import check_writable
    from guinn.io.model_file import check_suffix

    if args.out is not None and not args.out.strip():  # --out "" was taken as no --out: the default was overwritten
        raise GuinnError("--out needs a file name, e.g. --out model.safetensors.")
    if args.out and args.out.endswith(("/", os.sep)):
        raise GuinnError(f"Cannot save to {args.out}: that names a folder; give a file name (e.g. model.safetensors).")
    out = check_writable(args.out if args.out else Path(args.experiment).stem + ".safetensors")  # (folders too)
    if out.name not in ("", ".", "..") and not out.suffix:  # a bare name gets what load_model and the app look for
        out = check_writable(out.with_name(out.name + ".safetensors"))
    check_suffix(out)  # before training, not after it: a .h5 or .onnx name is refused now
    say = (lambda *a: None) if args.quiet else print
    dataset = load_dataset(experiment.dataset)
    say(experiment.title)
    if experiment.description:
        say(textwrap.fill(experiment.description, width=88))
    say(f"Data: {dataset.description}")
    said = []
    show = warnings.showwarning

    def say_warning(message, category, *where, **kwargs):  # training's own warnings, the CLI's way
        if issubclass(category, TrainingWarning):
            said.append(str(message))
            print(f"guinn: warning: {message}", file=sys.stderr)
        else:
            show(message, category, *where, **kwargs)

    with warnings.catch_warnings():
        warnings.simplefilter("always", TrainingWarning)
        warnings.showwarning = say_warning
        model, history, dataset = experiment.run(dataset, verbose=0 if args.quiet else 1)
    if model.stop_reason and model.stop_reason not in said:  # (verbose: said on stdout, not warned)
        print(f"guinn: warning: {model.stop_reason}", file=sys.stderr)
    result = _test_metrics(model, dataset)
    epochs = len(history.epoch)
    print(
        f"Trained {epochs} epoch{'s' * (epochs != 1)}; test loss {result['loss']:.4f}, "
        f"test accuracy {result['accuracy']:.2%} ({len(dataset.x_test):,} samples)."
    )
    save_model(
        model,
        out,
        class_names=dataset.class_names,
        experiment=experiment,
        preprocessing=dataset.preprocessing,
        dataset=dataset.name,
    )
    print(f"Saved {out}")
    return 0


def resolve_experiment(name: str) -> Path:
    """An experiment file path, or the name of a bundled preset (``deep_sigmoid``)."""
    path = Path(name)
    if path.exists() or path.suffix:
        return path
    preset = preset_dir() / f"{name}.json"
    if preset.is_file():
        return preset
    names = [p.stem for p in preset_paths()]
    lowered = {n.lower(): n for n in names}
    if name.lower() in lowered:
        return preset_dir() / f"{lowered[name.lower()]}.json"
    hint = closest(name, names)
    raise DataError(
        f"No experiment file {name!r} and no preset of that name; presets: {', '.join(names)}."
        + (f" Did you mean {hint!r}?" if hint else "")
    )


def _test_metrics(model, dataset) -> dict:
    from guinn.utils import to_categorical

    if len(dataset.x_test) == 0:
        raise DataError(f"{dataset.name} has no test samples to evaluate on.")
    units = model.output_shape[0]
    if dataset.n_classes > max(units, 2) or (units > 1 and dataset.n_classes != units):
        raise DataError(
            f"{dataset.name} has {dataset.n_classes} classes but the model has {units} outputs."
        )
    if model.compiled and model.loss.integer_labels:  # e.g. an API model trained on sparse labels
        y = dataset.y_test
    elif units > 1:
        y = to_categorical(dataset.y_test, units)
    else:
        y = dataset.y_test.reshape(-1, 1)
    if model.compiled:
        return model.evaluate(dataset.x_test, y, verbose=0, return_dict=True) | {
            "accuracy": _accuracy(model, dataset)
        }
    return {"loss": math.nan, "accuracy": _accuracy(model, dataset)}


def _accuracy(model, dataset) -> float:
    out = model.predict(dataset.x_test)
    predicted = out.argmax(axis=1) if out.shape[1] > 1 else (out[:, 0] > 0.5)
    return float((predicted == dataset.y_test).mean())


def parse_dataset(text: str) -> dict:
    """A ``--dataset`` value -> the dataset description ``load_dataset`` takes."""
    text = text.strip()
    if text.startswith("{"):
        spec = strict_json(text, "--dataset", DataError)
        if not isinstance(spec, dict):
            raise DataError('--dataset JSON must be an object such as {"kind": "mnist"}.')
        return spec
    kind, _, rest = text.partition(":")
    if kind == "mnist" and not rest:
        return {"kind": "mnist"}
    if kind == "toy" and rest:
        return {"kind": "toy", "name": rest}
    if kind == "csv" and ":" in rest:
        path, label = rest.rsplit(":", 1)
        return {"kind": "csv", "path": path, "label_column": label}
    if kind == "idx":
        parts = rest.split(":")
        if len(parts) in (2, 4) and all(parts):
            spec = {"kind": "idx", "train_images": parts[0], "train_labels": parts[1]}
            if len(parts) == 4:
                spec.update(test_images=parts[2], test_labels=parts[3])
            return spec
    raise DataError(f"--dataset {text!r} is not understood; use {DATASET_HELP}.")


def cmd_evaluate(args) -> int:
    from guinn.data.catalog import csv_for_model, load_dataset
    from guinn.io.model_file import load_model

    model = load_model(args.model)
    trained_on = (model.experiment_config or {}).get("dataset")
    if args.dataset:
        spec = parse_dataset(args.dataset)
    elif trained_on is not None:
        spec = trained_on
    else:
        raise DataError(
            f"{args.model} does not record the dataset it was trained on; pass --dataset."
        )
    by_model = spec.get("kind") == "csv" and _knows_its_columns(model)  # read as the model was trained
    if by_model:
        trained_csv = trained_on if (trained_on or {}).get("kind") == "csv" else {}
        split = (trained_csv.get("test_fraction", 0.2), trained_csv.get("seed", 0)) if trained_csv else None
        dataset = csv_for_model(spec, model.preprocessing, model.class_names, split)
    else:
        dataset = load_dataset(spec)
    want = math.prod(model.input_shape)
    if dataset.input_dim != want:
        raise DataError(
            f"{dataset.name} has {dataset.input_dim} features per sample but the model "
            f"expects {want}."
        )
    dataset = dataclasses.replace(dataset, x_test=dataset.x_test.reshape((-1, *model.input_shape)))
    result = _test_metrics(model, dataset)
    if not model.compiled:
        loss = "n/a (model not compiled)"
    elif not math.isfinite(result["loss"]):
        loss = "not a number: the model's outputs overflow (its weights have blown up, as in a diverged run)"
    else:
        loss = f"{result['loss']:.4f}"
    which = f" ({dataset.description})" if by_model else ""
    if spec.get("kind") == "idx" and not spec.get("test_images"):  # a single pair is split, as training splits it
        share = spec.get("test_fraction") or 0.2
        which = (f" (the {share:.0%} of the pair held out for testing; to test on a whole pair, give it as the "
                 "test files: idx:TRAIN_IMAGES:TRAIN_LABELS:TEST_IMAGES:TEST_LABELS)")
    print(f"{dataset.name}: {len(dataset.x_test):,} test samples{which}")
    print(f"test loss: {loss}")
    print(f"test accuracy: {result['accuracy']:.2%}")
    return 0


def _knows_its_columns(model) -> bool:
    """Whether a model stored the CSV columns, scaling and class names it was trained with."""
    stored = model.preprocessing or {}
    return bool(model.class_names) and "feature_names" in stored and "standardizer" in stored


def cmd_predict(args) -> int:
    import numpy as np

    from guinn.data.digits import SIZE
    from guinn.io.images import digit_from_image
    from guinn.io.model_file import load_model

    model = load_model(args.model)
    if math.prod(model.input_shape) != SIZE * SIZE:
        raise DataError(
            f"{args.model} expects inputs of shape {tuple(model.input_shape)}; predict reads "
            f"digit pictures as {SIZE}x{SIZE} images, so it needs a model trained on "
            f"{SIZE * SIZE} pixel inputs (e.g. MNIST)."
        )
    units, activation = model.output_shape[0], model._output_activation()
    if not ((units > 1 and activation == "softmax") or (units == 1 and activation == "sigmoid")):
        raise DataError(
            f"{args.model} is not a classifier: its output layer has {units} unit(s) with "
            f"{activation or 'no'} activation, so its outputs are not class probabilities. predict needs "
            "a softmax output layer (or one sigmoid unit for two classes), as the app and the presets build."
        )
    names, images, failures = [], [], []
    for name in args.images:  # one unreadable picture does not cost the others their answers
        try:
            digit = digit_from_image(name)
            if digit is None:
                raise DataError(f"{name}: image has no ink (it is blank or one flat colour).")
        except DataError as exc:
            if len(args.images) == 1:
                raise
            failures.append(str(exc))
            continue
        names.append(name)
        images.append(digit.reshape(model.input_shape))
    if not images:
        raise DataError(f"none of the {len(args.images)} images could be read: " + " ".join(failures))
    probs = model.predict(np.stack(images).astype(model.dtype))
    if not np.isfinite(probs).all():
        raise DataError(f"{args.model} gives no numbers (NaN) for these pictures: its weights have blown up "
                        "(a diverged run); train it again with a smaller learning rate.")
    labels = list(model.class_names or (str(i) for i in range(probs.shape[1])))
    if probs.shape[1] == 1:  # one sigmoid unit: P(class 1)
        probs = np.concatenate([1 - probs, probs], axis=1)
        labels = labels if len(labels) == 2 else ["0", "1"]
    rows = []
    for name, p in zip(names, probs, strict=True):
        best = int(np.argmax(p))
        label = labels[best]
        rows.append(
            {
                "file": name,
                "class": int(label) if label.isascii() and label.isdigit() else label,
                "probabilities": [float(v) for v in p],
            }
        )
        if not args.json:
            print(f"{name}: class {label} (p={p[best]:.2f})")
    if args.json:
        print(json.dumps(rows, indent=2))
    for failure in failures:
        print(f"guinn: error: {failure}", file=sys.stderr)
    return EXIT_ERROR if failures else 0


def cmd_export(args) -> int:
    from guinn.io.model_file import load_model
    from guinn.io.onnx_export import OPSET, export_onnx

    model = load_model(args.model)
    path = export_onnx(model, args.out)
    print(
        f"Wrote {path} (ONNX opset {OPSET}, input 'input' of shape (batch, "
        f"{', '.join(map(str, model.input_shape))}), dropout removed)."
    )
    return 0


def cmd_info(args) -> int:
    from guinn.io.model_file import load_model

    model = load_model(args.model)
    size = Path(args.model).stat().st_size
    print(f"{args.model}: guinn model file, format version {model.format_version}, {size:,} bytes")
    model.summary()
    print(f"Input shape: {tuple(model.input_shape)}; dtype {model.dtype.name}; seed {model.seed}")
    if model.class_names:
        print(f"Classes ({len(model.class_names)}): {', '.join(model.class_names)}")
    if model.dataset_name:
        print(f"Dataset: {model.dataset_name}")
    if model.experiment_config:
        print(f"Experiment: {model.experiment_config.get('title', '')}")
    if model.compiled:
        opt = model.optimizer.to_config()
        settings = ", ".join(f"{k}={v}" for k, v in opt.items() if k != "name")
        print(
            f"Loss: {model.loss.name}; optimizer: {opt['name']} ({settings}); "
            f"{model.optimizer.iterations:,} steps taken"
        )
    else:
        print("Not compiled (no training settings stored).")
    history = model.history
    if history.epoch:
        last = ", ".join(f"{k} {v:.4f}" for k, v in history.last_epoch_logs().items())
        print(f"Training history: {len(history.epoch)} epoch(s); last epoch: {last}")
    else:
        print("Training history: none")
    for message in history.messages:
        print(f"  note: {message}")
    return 0


COMMANDS = {
    "train": cmd_train,
    "evaluate": cmd_evaluate,
    "predict": cmd_predict,
    "export": cmd_export,
    "info": cmd_info,
}


if __name__ == "__main__":
    sys.exit(main())
