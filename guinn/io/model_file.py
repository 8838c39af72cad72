"""Model files: one ``.safetensors`` file holding a trained network and all it needs to resume.

Layout (format ``guinn-model``, version 2)::

    tensors   layers.{i}.{param}   parameters of ``model.layers[i]`` (kernel, bias, alpha)
              optimizer.{slot}     the optimizer's flat state slots (Adam m_sum and v, ...)
    metadata  (safetensors metadata is str -> str; every value but the first two is JSON)
              format, format_version, model (Sequential.get_config()), input_shape,
              compile (loss, metrics, optimizer config) or null, optimizer_iterations,
              rng_states (shuffle/dropout PCG64 states), classes, history, dataset,
              preprocessing, experiment

Weights files (``model.save_weights``, format ``guinn-weights``, version 1, named
``*.weights.safetensors``) hold the ``layers.{i}.{param}`` tensors alone, with only format and
format_version as metadata; ``load_weights`` reads them, or the same tensors of a model file.

A file is untrusted input. The loader never executes code or deserialises Python objects: it bounds the
file and header sizes, parses the header itself before the ``safetensors`` package sees
it, parses JSON with ``json.loads`` only, builds layers through the registry's allow-list,
checks every tensor's exact name, dtype and shape (so layer sizes must chain), rejects
non-finite numbers, and reports every problem as a :class:`~guinn.errors.ModelFileError`
naming what is wrong.

``load_model`` returns a :class:`~guinn.core.model.Sequential` with extra attributes:
``class_names`` (tuple of str or None), ``experiment_config`` (the Experiment dict the model
was trained from, or None), ``preprocessing`` (e.g. the CSV standardiser dict, or None),
``dataset_name`` (str or None) and ``format_version`` (int).
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np

from guinn.core import losses, optimizers
from guinn.core.callbacks import History
from guinn.core.layers import Dense, layer_from_config
from guinn.core.model import METRIC_ALIASES, METRICS, Sequential
from guinn.core.validation import file_path, is_finite_number
from guinn.errors import ConfigError, GuinnError, ModelFileError, brief
from guinn.io.atomic import is_folder, write_atomically
from guinn.io.untrusted import checked_size, strict_json

FORMAT = "guinn-model"
# Version 2: Adam keeps m_sum = m / (1 - beta_1) instead of m (version 1 stored m, v; still read).
FORMAT_VERSION = 2
SUPPORTED_VERSIONS = (1, 2)
# Weights files (model.save_weights): tensors layers.{i}.{param} only; metadata format, format_version.
WEIGHTS_FORMAT = "guinn-weights"
WEIGHTS_VERSION = 1
WEIGHTS_SUFFIX = ".weights.safetensors"  # Keras 3 insists on .weights.h5 for the same reason
VERSIONS = {FORMAT: (FORMAT_VERSION, SUPPORTED_VERSIONS), WEIGHTS_FORMAT: (WEIGHTS_VERSION, (1,))}

MAX_FILE_BYTES = 4 * 1024**3  # 4 GiB: far above any network this app trains
MAX_HEADER_BYTES = 8 * 1024**2  # JSON header: specs, history and settings, never weights
MAX_LAYERS = 1000
MAX_CLASSES = 100_000
MAX_NAME_CHARS = 200
MAX_INPUT_ELEMENTS = 100_000_000
DTYPES = {"F32": np.dtype("float32"), "F64": np.dtype("float64")}
REQUIRED_KEYS = frozenset({"format", "format_version", "model", "input_shape", "compile",
                           "optimizer_iterations", "rng_states"})
HISTORY_KEYS = frozenset({"history", "epoch", "steps", "messages"})
METADATA_KEYS = REQUIRED_KEYS | {"classes", "history", "dataset", "preprocessing", "experiment"}
RNG_STREAMS = ("shuffle", "dropout")
UNEXPECTED = "unexpected problem while reading"  # marks a validation gap (a bug) in messages


# -- saving -----------------------------------------------------------------------------------
def save_model(
    model: Sequential, path, *, class_names=None, experiment=None, preprocessing=None, dataset=None,
    history=None,
) -> None:
    """Write ``model`` to ``path`` atomically (temporary file, fsync, rename).

    A crash or a full disk mid-save leaves any previous file at ``path`` untouched. The
    keyword arguments default to the model's own attributes of the same meaning (set by
    ``load_model``), so re-saving a loaded model keeps its labels and provenance.
    ``experiment`` may be an :class:`~guinn.experiment.Experiment` or its dict; ``history``
    (a :class:`~guinn.core.callbacks.History`, default ``model.history``, the last fit's) is
    the training record stored, e.g. every fit's joined (``History.joined``).
    """
    if not isinstance(model, Sequential):
        raise ModelFileError(f"save_model takes a guinn Sequential, got {type(model).__name__}.")
    model._ensure_built()
    path = file_path(path, "save")
    check_suffix(path)
    class_names = class_names if class_names is not None else getattr(model, "class_names", None)
    experiment = experiment if experiment is not None else getattr(model, "experiment_config", None)
    preprocessing = (
        preprocessing if preprocessing is not None else getattr(model, "preprocessing", None)
    )
    dataset = dataset if dataset is not None else getattr(model, "dataset_name", None)
    if experiment is not None and not isinstance(experiment, dict):
        experiment = experiment.to_dict()
    if class_names is not None:
        class_names = [str(c) for c in class_names]
        _check_classes(class_names, model.output_shape[0], ModelFileError)

    tensors = _layer_tensors(model)
    compile_config = None
    iterations = 0
    if model.compiled:
        compile_config = {
            "loss": model.loss.name,
            "metrics": model.metrics_names[1:],  # as the user spelt them ('acc' stays 'acc')
            "optimizer": model.optimizer.to_config(),
        }
        model.optimizer.build(model._params.size, model.dtype)
        state = model.optimizer.get_state()
        iterations = state["iterations"]
        for slot, value in state["slots"].items():
            tensors[f"optimizer.{slot}"] = np.ascontiguousarray(value)
    hist = model.history if history is None else history
    if not isinstance(hist, History):
        raise ModelFileError(f"history must be a guinn History (e.g. model.history), got {type(hist).__name__}.")
    history = {
        "history": {k: [_finite_or_none(v) for v in vals] for k, vals in hist.history.items()},
        "epoch": [int(e) for e in hist.epoch],
        "steps": [int(n) for n in hist.steps],
        "messages": [str(m) for m in hist.messages],
    }
    metadata = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "model": _dumps(model.get_config()),
        "input_shape": _dumps(list(model.input_shape)),
        "compile": _dumps(compile_config),
        "optimizer_iterations": _dumps(int(iterations)),
        "rng_states": _dumps(model.rng_states),
        "classes": _dumps(class_names),
        "history": _dumps(history),
        "dataset": _dumps(dataset),
        "preprocessing": _dumps(preprocessing),
        "experiment": _dumps(experiment),
    }
    from safetensors.numpy import save as st_save

    data = st_save(tensors, metadata=metadata)
    header_len = int.from_bytes(data[:8], "little")
    if header_len > MAX_HEADER_BYTES:
        raise ModelFileError(
            f"The model's description is {header_len:,} bytes, more than the "
            f"{MAX_HEADER_BYTES:,} a model file may hold (a very long training history?)."
        )
    try:  # never write a file the loader would refuse (over-long names, too many layers, ...)
        load_model_bytes(data, "the model")
    except ModelFileError as exc:
        raise ModelFileError(f"This model cannot be saved in a loadable form: {exc}") from None
    write_atomically(path, data)


def _layer_tensors(model: Sequential) -> dict[str, np.ndarray]:
    """Each layer's parameters as ``layers.{i}.{param}``: what model and weights files share."""
    return {f"layers.{i}.{key}": np.ascontiguousarray(layer.params[key]).copy()
            for i, layer in enumerate(model.layers) for key, _ in layer.param_shapes()}


def _dumps(value) -> str:
    try:
        return json.dumps(value, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"Cannot store {value!r:.100} in a model file: {exc}.") from None


def _finite_or_none(value):
    value = float(value)
    return value if math.isfinite(value) else None




# -- loading ------------------------------------------------------------------------------------
# Names that promise another program's format: writing safetensors under them would mislead.
FOREIGN_SUFFIXES = {".h5": "HDF5 (Keras 2)", ".hdf5": "HDF5", ".keras": "Keras", ".pt": "PyTorch",
                    ".pth": "PyTorch", ".pkl": "Python-object", ".onnx": "ONNX",
                    ".npz": "NumPy", ".npy": "NumPy", ".json": "JSON"}


def check_suffix(path: Path) -> None:
    """A model file's name ends in .safetensors (as Keras's must end in .keras): the name says
    what the file is, and Open finds it."""
    if not path.name or is_folder(path):  # (a folder is told so where it is written)
        return
    if _is_weights_name(path):
        raise ModelFileError(f"{path.name}: a {WEIGHTS_SUFFIX} name is for model.save_weights (the weights "
                             f"alone); save the whole model as {_renamed(path, '.safetensors')}.")
    kind = FOREIGN_SUFFIXES.get(path.suffix.lower())
    if kind:
        hint = " (for ONNX use guinn.io.onnx_export or `guinn export`)" if kind == "ONNX" else ""
        raise ModelFileError(f"{path.name}: a {path.suffix} name promises a {kind} file, but guinn writes "
                             f"safetensors; save as {_renamed(path, '.safetensors')}{hint}.")
    if path.suffix.lower() != ".safetensors":
        raise ModelFileError(f"{path.name}: model files are named *.safetensors; save as "
                             f"{_renamed(path, '.safetensors')}.")


def _renamed(path: Path, suffix: str) -> str:
    """``path`` with a right suffix, folder kept: the name to suggest."""
    return str(path.with_name(_stem(path) + suffix)) if path.name else f"model{suffix}"


def check_weights_suffix(path: Path, reading: bool = False) -> None:
    """Keras's rule for weights files, with guinn's suffix: the name says what the file holds.
    A reader also takes a whole model file (``.safetensors``), as Keras's load_weights does."""
    if _is_weights_name(path) or (reading and path.suffix.lower() == ".safetensors"):
        return
    kind = FOREIGN_SUFFIXES.get(path.suffix.lower())
    if reading:
        found = f"a {path.suffix} name means a {kind} file, which guinn cannot read" if kind else "not this name"
        raise ModelFileError(f"{path.name}: load_weights reads {WEIGHTS_SUFFIX} files (model.save_weights) "
                             f"or whole model files (.safetensors), {found}.")
    promise = f"a {path.suffix} name promises a {kind} file, but guinn writes safetensors; " if kind else ""
    raise ModelFileError(f"{path.name}: {promise}weights files must be named *{WEIGHTS_SUFFIX} (Keras's "
                         f"*.weights.h5), e.g. {_renamed(path, WEIGHTS_SUFFIX)}.")


def _is_weights_name(path: Path) -> bool:
    return path.name.lower().endswith(WEIGHTS_SUFFIX)


def _stem(path: Path) -> str:
    """The name without a file-type suffix or Keras's ``.weights`` tag, to suggest a right name."""
    known = path.suffix.lower() in FOREIGN_SUFFIXES or path.suffix.lower() == ".safetensors"
    stem = path.stem if known else path.name
    return stem[: -len(".weights")] if stem.lower().endswith(".weights") else stem


def load_model(path) -> Sequential:
    """Read a model file written by :func:`save_model`; every malformed file is a ModelFileError."""
    path = file_path(path, "load_model")
    checked_size(path, "model file", MAX_FILE_BYTES, ModelFileError)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelFileError(f"Cannot read model file {path}: {exc.strerror or exc}.") from None
    return load_model_bytes(data, str(path))


def load_model_bytes(data: bytes, source: str = "model file") -> Sequential:
    """:func:`load_model` on bytes already in memory (``source`` names them in messages)."""
    return _guarded(source, "model", _load, data)


def _guarded(source: str, kind: str, read, *args):
    """``read(*args)`` with every failure a ModelFileError naming ``source``: a reader of
    untrusted bytes must never let another exception out (``kind``: model or weights)."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return read(*args)
    except ModelFileError as exc:
        raise ModelFileError(f"{source}: {exc}") from None
    except GuinnError as exc:
        raise ModelFileError(f"{source}: invalid {kind}: {exc}") from None
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - also Rust panics, which derive from BaseException
        raise ModelFileError(
            f"{source}: {UNEXPECTED} the file ({type(exc).__name__}: {exc!s:.200}); "
            f"it is not a valid guinn {kind} file."
        ) from None


def _load(data: bytes) -> Sequential:
    header, meta, _ = _read_header(data)
    version = _check_format(meta)
    unknown = set(meta) - METADATA_KEYS
    if unknown:
        raise ModelFileError(
            f"unknown metadata field(s) {brief(sorted(unknown), 100)}; allowed: {sorted(METADATA_KEYS)}."
        )
    missing = REQUIRED_KEYS - set(meta)
    if missing:
        raise ModelFileError(f"metadata field(s) {sorted(missing)} are missing.")
    fields = {
        key: _loads(meta[key], key) for key in meta if key not in ("format", "format_version")
    }

    tensors = _read_tensors(data, header)
    model = _build_model(fields["model"], fields["input_shape"], header)
    _check_layer_tensors(model, tensors)
    model.set_weights(
        [
            tensors[f"layers.{i}.{key}"]
            for i, layer in enumerate(model.layers)
            for key, _ in layer.param_shapes()
        ]
    )
    _restore_training(model, fields, tensors, version)

    classes = fields.get("classes")
    if classes is not None:
        _check_classes(classes, model.output_shape[0], ModelFileError)
        classes = tuple(classes)
    model.class_names = classes
    model.history = _history(fields.get("history"))
    dataset = fields.get("dataset")
    if dataset is not None and (not isinstance(dataset, str) or len(dataset) > 1000):
        raise ModelFileError("metadata 'dataset' must be a short text or null.")
    model.dataset_name = dataset
    preprocessing = fields.get("preprocessing")
    if preprocessing is not None and not isinstance(preprocessing, dict):
        raise ModelFileError("metadata 'preprocessing' must be an object or null.")
    model.preprocessing = preprocessing
    model.experiment_config = _experiment(fields.get("experiment"))
    model.format_version = version
    return model


def _read_header(data: bytes, kind: str = "model file") -> tuple[dict, dict, int]:
    """Check the safetensors framing ourselves: (tensor entries, metadata, data start).
    ``kind`` is what the file was expected to be, for the messages."""
    if len(data) < 8:
        raise ModelFileError(f"the file is {len(data)} bytes, too short to be a {kind}.")
    n = int.from_bytes(data[:8], "little")
    if data[8:9] != b"{":
        raise ModelFileError(f"this is not a guinn {kind} (.safetensors): it does not start with a "
                             "safetensors header.")
    if n > MAX_HEADER_BYTES:
        raise ModelFileError(
            f"the header claims {n:,} bytes; at most {MAX_HEADER_BYTES:,} are allowed "
            f"(not a guinn {kind}, or a corrupted one)."
        )
    if n < 2 or n > len(data) - 8:
        raise ModelFileError(
            f"the header claims {n:,} bytes but the file has {len(data) - 8:,} after the "
            "length field (truncated or corrupted)."
        )
    try:
        text = data[8 : 8 + n].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ModelFileError(f"the header is not UTF-8 text (byte {exc.start}).") from None
    header = _loads(text, "header")
    if not isinstance(header, dict):
        raise ModelFileError("the header must be a JSON object.")
    meta = header.pop("__metadata__", None)
    if not isinstance(meta, dict):
        raise ModelFileError(f"the header has no metadata; not a guinn {kind}.")
    for key, value in meta.items():
        if not isinstance(value, str):
            raise ModelFileError(f"metadata {brief(key)} must be a string, got {type(value).__name__}.")
    body = len(data) - 8 - n
    spans = []
    for name, entry in header.items():
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise ModelFileError(
                f"tensor {brief(name)} must have exactly dtype, shape and data_offsets."
            )
        dtype = entry["dtype"]
        if not isinstance(dtype, str) or dtype not in DTYPES:
            raise ModelFileError(
                f"tensor {brief(name)} has dtype {brief(dtype)}; only F32 (float32) and F64 "
                "(float64) are allowed."
            )
        shape = entry["shape"]
        if (
            not isinstance(shape, list)
            or len(shape) > 4
            or not all(_is_int(d) and d >= 0 for d in shape)
        ):
            raise ModelFileError(f"tensor {brief(name)} has an invalid shape {brief(shape, 100)}.")
        offsets = entry["data_offsets"]
        well_formed = (isinstance(offsets, list) and len(offsets) == 2 and all(_is_int(o) for o in offsets)
                       and 0 <= offsets[0] <= offsets[1])
        if not well_formed or offsets[1] > body:
            cut = well_formed and offsets[1] > body  # the header names more data than the file holds
            raise ModelFileError(
                f"tensor {brief(name)} has data offsets {brief(offsets, 100)} outside the "
                f"{body:,} data bytes" + (": the file looks truncated (cut short while copying or saving?)."
                                          if cut else ".")
            )
        need = math.prod(shape) * DTYPES[dtype].itemsize
        if offsets[1] - offsets[0] != need:
            raise ModelFileError(
                f"tensor {brief(name)} of shape {shape} needs {need:,} bytes but its offsets "
                f"span {offsets[1] - offsets[0]:,}."
            )
        spans.append((offsets[0], offsets[1], name))
    end = 0
    for start, stop, name in sorted(spans):
        if start != end:
            raise ModelFileError(
                f"tensor {brief(name)} does not start where the previous one ends "
                "(overlapping or gapped data)."
            )
        end = stop
    if end != body:
        raise ModelFileError(
            f"the tensors cover {end:,} bytes but the file holds {body:,} data bytes."
        )
    return header, meta, 8 + n


def _check_format(meta: dict, expected: str = FORMAT) -> int:
    """The file's format version, once its format is ``expected`` (FORMAT or WEIGHTS_FORMAT)."""
    found = meta.get("format")
    if found == WEIGHTS_FORMAT != expected:
        raise ModelFileError(
            "this is a weights file (model.save_weights): it holds no architecture. Build the "
            "same model in code (or with guinn.models.model_from_json) and call model.load_weights."
        )
    if found != expected:
        raise ModelFileError(
            f"not a guinn {'model' if expected == FORMAT else 'weights'} file (metadata format is "
            f"{found!r:.60}, expected {expected!r})."
        )
    newest, supported = VERSIONS[expected]
    raw = meta.get("format_version")
    if not isinstance(raw, str) or not raw.isdigit() or len(raw) > 6:
        raise ModelFileError(f"format_version must be a whole number, got {raw!r:.60}.")
    version = int(raw)
    if version > newest:
        raise ModelFileError(
            f"the file has format version {version}, newer than this guinn reads "
            f"(up to {newest}); update guinn to open it."
        )
    if version not in supported:
        raise ModelFileError(
            f"format version {version} is not supported; versions "
            f"{', '.join(map(str, supported))} are."
        )
    return version


def _loads(text: str, what: str):
    return strict_json(text, what, ModelFileError)


def _read_tensors(data: bytes, header: dict) -> dict[str, np.ndarray]:
    from safetensors.numpy import load as st_load

    try:
        tensors = st_load(data)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - the safetensors reader may panic on odd input
        raise ModelFileError(
            f"the tensor data cannot be read ({type(exc).__name__}: {exc!s:.200})."
        ) from None
    if set(tensors) != set(header):
        raise ModelFileError("the tensor table does not match the header.")
    for name, value in tensors.items():
        if value.dtype not in DTYPES.values():
            raise ModelFileError(
                f"tensor {brief(name)} has dtype {value.dtype}; only float32/float64 are allowed."
            )
        if not np.isfinite(value).all():
            raise ModelFileError(f"tensor {brief(name)} holds NaN or infinite values.")
    return tensors


def _build_model(config, input_shape, header) -> Sequential:
    if not isinstance(config, dict) or set(config) != {"name", "seed", "dtype", "layers"}:
        raise ModelFileError(
            "metadata 'model' must be an object with exactly name, seed, dtype and layers."
        )
    name, seed, dtype, layers = config["name"], config["seed"], config["dtype"], config["layers"]
    check_model_fields(name, seed, dtype, ModelFileError)
    if not isinstance(layers, list) or not 1 <= len(layers) <= MAX_LAYERS:
        raise ModelFileError(f"the model must list 1 to {MAX_LAYERS} layers.")
    if (
        not isinstance(input_shape, list)
        or not 1 <= len(input_shape) <= 3
        or not all(_is_int(d) and d > 0 for d in input_shape)
        or math.prod(input_shape) > MAX_INPUT_ELEMENTS
    ):
        raise ModelFileError(
            f"input_shape must be 1 to 3 positive whole numbers, got {input_shape!r:.100}."
        )
    model = Sequential(name=name, seed=seed, dtype=dtype)
    shape = tuple(input_shape)
    for i, entry in enumerate(layers):
        check_layer_entry(i, entry, ModelFileError)
        try:
            layer = layer_from_config(entry)
        except GuinnError as exc:
            raise ModelFileError(f"layer {i}: {exc}") from None
        if isinstance(layer, Dense) and layer.layer_activation:
            raise ModelFileError(
                f"layer {i}: a Dense layer with activation {layer.layer_activation!r} must be "
                "stored as the separate layers it stands for."
            )
        if i and layer.declared_input_shape is not None:
            raise ModelFileError(f"layer {i}: only the first layer may declare an input shape.")
        if i == 0 and layer.declared_input_shape not in (None, shape):
            raise ModelFileError(
                f"layer 0 declares input shape {layer.declared_input_shape}, but the file's "
                f"input_shape is {shape}."
            )
        try:
            shape = layer.build(shape)  # shapes only; nothing is allocated yet
        except GuinnError as exc:
            raise ModelFileError(
                f"layer {i} ({layer.type_name}) does not fit its input: {exc}"
            ) from None
        for key, pshape in layer.param_shapes():
            tname = f"layers.{i}.{key}"
            entry_shape = header.get(tname, {}).get("shape")
            if entry_shape is None:
                raise ModelFileError(f"tensor {tname!r} is missing.")
            if tuple(entry_shape) != tuple(pshape):
                raise ModelFileError(
                    f"tensor {tname!r} has shape {tuple(entry_shape)}, but layer {i} "
                    f"({layer.type_name}) needs {tuple(pshape)}: the layer sizes do not chain."
                )
        model.layers.append(layer)
    try:
        model.build(tuple(input_shape))
    except GuinnError as exc:
        raise ModelFileError(f"the layers do not form a valid model: {exc}") from None
    return model


def check_model_fields(name, seed, dtype, error, optional: bool = False) -> None:
    """A stored model's name, seed and dtype (model files and model JSON alike); ``optional``:
    seed and dtype may be None (JSON written for the defaults)."""
    if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME_CHARS:
        raise error(f"The model name must be text of 1 to {MAX_NAME_CHARS} characters, got {name!r:.60}.")
    if not (optional and seed is None) and (not _is_int(seed) or not 0 <= seed < 2**63):
        allowed = ", or null" if optional else ""
        raise error(f"The model seed must be a whole number from 0 to 2**63 - 1{allowed}; got {seed!r:.60}.")
    if not (optional and dtype is None) and dtype not in ("float32", "float64"):
        raise error(f"The model dtype must be float32 or float64, got {dtype!r:.60}.")


KERAS_ENTRY = ("this looks like Keras's own JSON; guinn stores layers as {\"type\": ..., \"config\": ...} "
               "(what guinn's model.to_json() and model.save write)")


def check_layer_entry(i: int, entry, error) -> None:
    """One stored layer: an object with exactly a type name and a config."""
    if isinstance(entry, dict) and "class_name" in entry:
        raise error(f"layer {i}: {KERAS_ENTRY}.")
    if not isinstance(entry, dict) or set(entry) != {"type", "config"} or not isinstance(entry["type"], str):
        got = keys_of(entry) if isinstance(entry, dict) else kind_of(entry)
        raise error(f"layer {i} must be an object with exactly type (a text) and config, got {got}.")


def kind_of(value) -> str:
    """A JSON value's kind in words, for messages about what a file holds."""
    names = {dict: "an object", list: "a list", str: "a text", bool: "true/false", type(None): "null"}
    return names.get(type(value), "a number")


def keys_of(mapping: dict) -> str:
    """An object's keys for a message, at most ten, each cut to 60 characters."""
    names = sorted(str(k)[:60] for k in mapping)
    return f"keys {names[:10]}" + (" ..." if len(names) > 10 else "")


def _check_layer_tensors(model: Sequential, tensors: dict) -> None:
    expected = {
        f"layers.{i}.{key}": shape
        for i, layer in enumerate(model.layers)
        for key, shape in layer.param_shapes()
    }
    names = {n for n in tensors if not n.startswith("optimizer.")}
    extra = names - set(expected)
    if extra:
        raise ModelFileError(
            f"unexpected tensor(s) {_listed(sorted(extra))}; this model has {sorted(expected)[:20]}."
        )
    for name in expected:
        if tensors[name].dtype != model.dtype:
            raise ModelFileError(
                f"tensor {brief(name)} is {tensors[name].dtype}, but the model is {model.dtype}."
            )


def _restore_training(model: Sequential, fields: dict, tensors: dict, version: int) -> None:
    slots = {n[len("optimizer.") :]: v for n, v in tensors.items() if n.startswith("optimizer.")}
    compile_config = fields["compile"]
    iterations = fields["optimizer_iterations"]
    if not _is_int(iterations) or not 0 <= iterations < 2**53:
        raise ModelFileError(
            f"optimizer_iterations must be a whole number >= 0, got {iterations!r:.60}."
        )
    if compile_config is None:
        if slots or iterations:
            raise ModelFileError(
                "optimizer state is present but the model has no compile settings."
            )
    else:
        if not isinstance(compile_config, dict) or set(compile_config) != {
            "loss",
            "metrics",
            "optimizer",
        }:
            raise ModelFileError(
                "metadata 'compile' must be an object with exactly loss, metrics and optimizer."
            )
        loss, metrics, opt = (
            compile_config["loss"],
            compile_config["metrics"],
            compile_config["optimizer"],
        )
        if not isinstance(loss, str) or loss not in losses.LOSSES:
            raise ModelFileError(
                f"unknown loss {loss!r:.60}; allowed: {', '.join(sorted(losses.LOSSES))}."
            )
        allowed_metrics = set(METRICS) | set(METRIC_ALIASES)
        if not isinstance(metrics, list) or not all(
            isinstance(m, str) and m in allowed_metrics for m in metrics
        ):
            raise ModelFileError(
                f"metrics must be a list drawn from {sorted(METRICS)}, got {metrics!r:.100}."
            )
        if not isinstance(opt, dict) or not isinstance(opt.get("name"), str):
            raise ModelFileError("the optimizer config must be an object with a name.")
        try:
            optimizer = optimizers.get(dict(opt))
        except GuinnError as exc:
            raise ModelFileError(f"optimizer: {exc}") from None
        model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
        want = set(optimizer.slot_names)
        if version == 1 and optimizer.legacy_slot_names and set(slots) == set(optimizer.legacy_slot_names):
            want = set(optimizer.legacy_slot_names)  # converted by set_state
        if set(slots) != want:
            raise ModelFileError(
                f"the {optimizer.name} optimizer needs state tensor(s) "
                f"{sorted('optimizer.' + s for s in want)}, the file has "
                f"{sorted('optimizer.' + s for s in slots)}."
            )
        size = model.count_params()
        for slot, value in slots.items():
            if value.shape != (size,) or value.dtype != model.dtype:
                raise ModelFileError(
                    f"tensor 'optimizer.{slot}' must be {model.dtype} of shape ({size},), "
                    f"got {value.dtype} {value.shape}."
                )
            if slot in ("accumulator", "velocity", "v") and (value < 0).any():
                raise ModelFileError(
                    f"tensor 'optimizer.{slot}' holds negative values; it sums squares."
                )
        try:
            optimizer.set_state({"iterations": iterations, "slots": slots})
        except GuinnError as exc:
            raise ModelFileError(f"optimizer state: {exc}") from None
    model.set_rng_states(_rng_states(fields["rng_states"]))


def _rng_states(states) -> dict:
    if not isinstance(states, dict) or set(states) != set(RNG_STREAMS):
        raise ModelFileError(f"rng_states must be an object with exactly {', '.join(RNG_STREAMS)}.")
    for stream in RNG_STREAMS:
        s = states[stream]
        ok = (
            isinstance(s, dict)
            and set(s) == {"bit_generator", "state", "has_uint32", "uinteger"}
            and s["bit_generator"] == "PCG64"
            and isinstance(s["state"], dict)
            and set(s["state"]) == {"state", "inc"}
            and all(_is_int(v) and 0 <= v < 2**128 for v in s["state"].values())
            and s["has_uint32"] in (0, 1)
            and _is_int(s["has_uint32"])
            and _is_int(s["uinteger"])
            and 0 <= s["uinteger"] < 2**32
        )
        if not ok:
            raise ModelFileError(f"rng_states[{stream!r}] is not a valid PCG64 generator state.")
    return states


def _history(data) -> History:
    history = History()
    if data is None:
        return history
    if not isinstance(data, dict) or not {"history", "epoch", "messages"} <= set(data) <= HISTORY_KEYS:
        raise ModelFileError(
            "metadata 'history' must be an object with history, epoch, messages and optionally steps, "
            "and nothing else."
        )
    values, epochs, messages = data["history"], data["epoch"], data["messages"]
    if not isinstance(values, dict) or len(values) > 100:
        raise ModelFileError("history.history must be an object of metric lists.")
    for key, seq in values.items():
        if not isinstance(seq, list) or not all(v is None or _is_number(v) for v in seq):
            raise ModelFileError(f"history of {key!r:.60} must be a list of numbers.")
        history.history[key] = [math.nan if v is None else float(v) for v in seq]
    if not isinstance(epochs, list) or not all(_is_int(e) and e >= 0 for e in epochs):
        raise ModelFileError("history.epoch must be a list of whole numbers >= 0.")
    if not isinstance(messages, list) or not all(isinstance(m, str) for m in messages):
        raise ModelFileError("history.messages must be a list of text.")
    steps = data.get("steps", [])  # older files: none, and the GUI spreads the epochs evenly
    if not isinstance(steps, list) or len(steps) not in (0, len(epochs)) or not all(
            _is_int(n) and n >= 0 for n in steps):
        raise ModelFileError("history.steps must be a list of whole numbers >= 0, one per epoch.")
    longer = [key for key, seq in history.history.items() if len(seq) > len(epochs)]
    if longer:
        raise ModelFileError(f"history of {longer[0]!r:.60} has {len(history.history[longer[0]])} values for "
                             f"{len(epochs)} epochs; expected at most one value per epoch.")
    for seq in history.history.values():  # shorter: a figure logged from some epoch on (files before
        seq[:0] = [math.nan] * (len(epochs) - len(seq))  # History padded): its values are the last epochs'
    history.epoch = list(epochs)
    history.steps = [int(n) for n in steps]
    history.messages = list(messages)
    return history


def _experiment(data):
    if data is None:
        return None
    from guinn.experiment import Experiment

    try:
        return Experiment.from_dict(data).to_dict()
    except (GuinnError, TypeError, ValueError) as exc:  # from_dict lets some plain ValueErrors out
        raise ModelFileError(f"the stored experiment is invalid: {exc}") from None


# -- weights files (Keras's save_weights / load_weights) -------------------------------------------
def save_weights(model: Sequential, path) -> None:
    """Write ``model``'s parameters alone (no architecture, no optimizer state) to a
    ``.weights.safetensors`` file, atomically as :func:`save_model` writes."""
    if not isinstance(model, Sequential):
        raise ModelFileError(f"save_weights takes a guinn Sequential, got {type(model).__name__}.")
    path = file_path(path, "save_weights")
    check_weights_suffix(path)
    model._ensure_built()
    from safetensors.numpy import save as st_save

    data = st_save(_layer_tensors(model),
                   metadata={"format": WEIGHTS_FORMAT, "format_version": str(WEIGHTS_VERSION)})
    try:  # never write a file load_weights would refuse
        _guarded("the weights", "weights", _read_weights, model, data)
    except ModelFileError as exc:
        raise ModelFileError(f"These weights cannot be saved in a loadable form: {exc}") from None
    write_atomically(path, data)


def load_weights(model: Sequential, path) -> None:
    """Set ``model``'s parameters from a weights file, or from a whole model file's weights.
    The file is untrusted: read under the model loader's size limits, and its tensors must
    match the model's layers exactly (names, count, shapes, dtype), else nothing changes."""
    path = file_path(path, "load_weights")
    check_weights_suffix(path, reading=True)
    # An unbuilt model (its input shape declared) is built only once the file has passed:
    # the file is checked against a twin built from its config, so a refused file leaves the
    # model unbuilt and its initializer's random state unused.
    target = model if model.built else _built_twin(model)
    checked_size(path, "weights file", MAX_FILE_BYTES, ModelFileError)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelFileError(f"Cannot read weights file {path}: {exc.strerror or exc}.") from None
    weights = _guarded(str(path), "weights", _read_weights, target, data)
    model._ensure_built()
    model.set_weights(weights)


def _built_twin(model: Sequential) -> Sequential:
    """A built copy of an unbuilt ``model``'s architecture (ConfigError if it cannot be built)."""
    if model.input_shape is None:
        raise ConfigError("load_weights needs a built model, as in Keras: call model.build((features,)) "
                          "first, start with Input(shape=(features,)), or give the first layer input_dim.")
    twin = Sequential.from_config(model.get_config())
    twin.build(model.input_shape)
    return twin


def _read_weights(model: Sequential, data: bytes) -> list[np.ndarray]:
    """The arrays in ``data`` for ``model.set_weights``, checked against the model's layers."""
    header, meta, _ = _read_header(data, "weights or model file")
    if meta.get("format") == FORMAT:  # a whole model file: the model loader validates all of it
        tensors = _layer_tensors(_load(data))
        _check_weights_match(model, {name: (value.shape, value.dtype) for name, value in tensors.items()})
    else:
        _check_format(meta, WEIGHTS_FORMAT)
        if set(meta) != {"format", "format_version"}:
            raise ModelFileError(f"unknown metadata field(s) {sorted(set(meta) - {'format', 'format_version'})}"
                                 f"; a weights file has only format and format_version.")
        _check_weights_match(model, {name: (tuple(entry["shape"]), DTYPES[entry["dtype"]])
                                     for name, entry in header.items()})
        tensors = _read_tensors(data, header)  # shapes fit: now the values (finite numbers)
    return [tensors[name] for name in _expected_weights(model)]


def _expected_weights(model: Sequential) -> dict[str, tuple[str, tuple]]:
    """Each parameter's tensor name -> (its layer in words, for messages; its shape)."""
    return {f"layers.{i}.{key}": (f"layer {i}, {layer.name!r} ({layer.type_name}) {key}", tuple(shape))
            for i, layer in enumerate(model.layers) for key, shape in layer.param_shapes()}


def _check_weights_match(model: Sequential, found: dict[str, tuple]) -> None:
    """``found`` (tensor name -> (shape, dtype)) must be exactly the model's parameters."""
    expected = _expected_weights(model)
    missing = [name for name in expected if name not in found]
    extra = [name for name in found if name not in expected]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing from the file: {_listed(f'{n} ({expected[n][0]})' for n in missing)}")
        if extra:
            parts.append(f"not in this model: {_listed(extra)}")
        if len(found) != len(expected):
            parts.append(f"the file holds {len(found)} weight tensors, this model has {len(expected)}")
        raise ModelFileError(f"the weights were saved from a model with other layers: {'; '.join(parts)}.")
    for name, (where, want) in expected.items():
        shape, dtype = found[name]
        if tuple(shape) != want:
            raise ModelFileError(f"tensor {brief(name)} ({where}): the model expects shape {want}, "
                                 f"the file has {tuple(shape)}.")
        if dtype != model.dtype:
            raise ModelFileError(f"tensor {brief(name)} ({where}) is {dtype} in the file, but the model is "
                                 f"{model.dtype} (Sequential(dtype=...) must match the saved model's).")


def _listed(names, most: int = 5) -> str:
    """Up to ``most`` names, each cut short: a hostile file may hold thousands of long ones."""
    names = list(names)
    shown = ", ".join(n if len(n) <= 80 else n[:80] + "..." for n in names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def _check_classes(classes, units: int, error) -> None:
    if (
        not isinstance(classes, list)
        or len(classes) > MAX_CLASSES
        or not all(isinstance(c, str) and len(c) <= MAX_NAME_CHARS for c in classes)
    ):
        raise error(f"classes must be a list of at most {MAX_CLASSES:,} short labels.")
    if len(classes) != units and not (units == 1 and len(classes) == 2):
        raise error(f"{len(classes)} class labels do not match the output layer's {units} units.")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and is_finite_number(value)
