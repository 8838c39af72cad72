"""A model's architecture as JSON text: Keras's ``model.to_json`` and ``models.model_from_json``.

The text is ``{"class_name": "Sequential", "config": model.get_config()}``, the first layer's
config carrying the input shape once the model knows it, so the rebuilt model can take
``load_weights`` at once. Read back it is untrusted input, like a model file: bounded in size,
parsed by ``json.loads`` alone (no NaN, no duplicate keys), built through the layer registry's
allow-list and checked to fit together (without an input shape, ``Sequential.build`` bounds
the weights later, as for any model); every problem is a ConfigError saying what is wrong.
"""

from __future__ import annotations

import json
import math

from guinn.core.model import Sequential, check_weight_count
from guinn.errors import ConfigError, GuinnError
from guinn.io.model_file import (
    MAX_HEADER_BYTES,
    MAX_INPUT_ELEMENTS,
    MAX_LAYERS,
    check_layer_entry,
    check_model_fields,
    keys_of,
    kind_of,
)
from guinn.io.untrusted import strict_json

MAX_JSON_CHARS = MAX_HEADER_BYTES  # a model file's bound on its whole description
CONFIG_KEYS = ("name", "seed", "dtype", "layers")
SHAPE = '{"class_name": "Sequential", "config": {"name": ..., "seed": ..., "dtype": ..., "layers": [...]}}'
KERAS_JSON = ("this looks like Keras's own JSON; model_from_json reads what guinn's model.to_json() writes "
              "(layers as {\"type\": ..., \"config\": ...})")


def model_to_json(model: Sequential, **kwargs) -> str:
    config = model.get_config()
    if model.layers and model.input_shape is not None:
        config["layers"][0]["config"]["input_shape"] = list(model.input_shape)
    try:
        return json.dumps({"class_name": "Sequential", "config": config}, **kwargs)
    except TypeError as exc:
        raise ConfigError(f"to_json passes its keyword arguments to json.dumps, which refused them: {exc}.") from None


def model_from_json(json_string) -> Sequential:
    """The uncompiled model ``json_string`` describes, its weights fresh from its seed."""
    data = strict_json(_text(json_string), "The model JSON", ConfigError)
    model = Sequential.from_config(_sequential_config(data))  # layers only through the allow-list
    _check_sizes(model)
    return model


def _text(json_string) -> str:
    if isinstance(json_string, (bytes, bytearray)):
        try:
            json_string = bytes(json_string).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(f"The model JSON is not UTF-8 text (byte {exc.start}).") from None
    if not isinstance(json_string, str):
        hint = "; for a get_config() dict use Sequential.from_config" if isinstance(json_string, dict) else ""
        raise ConfigError(f"model_from_json takes the JSON text model.to_json() returns, "
                          f"got {type(json_string).__name__}{hint}.")
    if len(json_string) > MAX_JSON_CHARS:
        raise ConfigError(f"The model JSON is {len(json_string):,} characters; an architecture takes far fewer "
                          f"(at most {MAX_JSON_CHARS:,} are read).")
    return json_string


def _sequential_config(data) -> dict:
    """``data``'s config, once its structure is what to_json writes."""
    if not isinstance(data, dict):
        raise ConfigError(f"The model JSON must be an object {SHAPE}, got {kind_of(data)}.")
    if "module" in data or "registered_name" in data:
        raise ConfigError(f"The model JSON: {KERAS_JSON}.")
    if set(data) != {"class_name", "config"}:
        raise ConfigError(f"The model JSON must have exactly class_name and config, got {keys_of(data)}.")
    if data["class_name"] != "Sequential":
        raise ConfigError(f"guinn builds Sequential models only; the JSON's class_name is {data['class_name']!r:.60}.")
    config = data["config"]
    if not isinstance(config, dict) or "layers" not in config or not set(config) <= set(CONFIG_KEYS):
        got = keys_of(config) if isinstance(config, dict) else kind_of(config)
        raise ConfigError(f"The model JSON's config must be an object with layers and optionally name, seed "
                          f"and dtype, got {got}.")
    check_model_fields(config.get("name", "sequential"), config.get("seed"), config.get("dtype"), ConfigError,
                       optional=True)
    layers = config["layers"]
    if not isinstance(layers, list) or len(layers) > MAX_LAYERS:
        raise ConfigError(f"The model JSON's layers must be a list of at most {MAX_LAYERS} layers.")
    for i, entry in enumerate(layers):
        check_layer_entry(i, entry, ConfigError)
    return config


def _check_sizes(model: Sequential) -> None:
    """With the input shape known, the layers must chain and fit in a model file: a JSON
    text of a few bytes could otherwise ask for terabytes at the first fit."""
    shape = model.input_shape
    if shape is None:
        return
    if math.prod(shape) > MAX_INPUT_ELEMENTS:
        raise ConfigError(f"The input shape {shape} has more than {MAX_INPUT_ELEMENTS:,} values per sample.")
    total = 0
    for i, layer in enumerate(model.layers):
        try:
            shape = layer.build(shape)  # shapes only; nothing is allocated yet
        except GuinnError as exc:
            raise ConfigError(f"layer {i} ({layer.type_name}) does not fit its input: {exc}") from None
        total += layer.count_params()
    check_weight_count(total, model.dtype)
