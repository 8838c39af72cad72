"""Keras's save_weights/load_weights, to_json/model_from_json and Input(shape=...): each works
as in Keras, and every file or text handed back is untrusted input refused with a clear,
user-facing error (never another exception, never a half-loaded model)."""

from __future__ import annotations

import copy
import json
import os
import random
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy as stn
from safetensors import safe_open

from guinn.errors import ConfigError, ModelFileError
from guinn.io import atomic, model_file
from guinn.io.model_file import UNEXPECTED
from guinn.layers import Activation, Dense, Dropout, Flatten, Input, Maxout
from guinn.models import Sequential, load_model, model_from_json
from guinn.regularizers import l2

RNG = np.random.default_rng(0)
X = RNG.normal(size=(60, 5)).astype("float32")
Y = np.eye(3, dtype="float32")[RNG.integers(0, 3, 60)]


def net(seed=1, units=4, dtype=None, first=None, use_bias=True):
    """A model with every kind of parameter: Dense kernel and bias, PReLU alpha, Maxout."""
    first = first if first is not None else [Input(shape=(5,))]
    return Sequential([*first, Dense(units, activation="prelu", use_bias=use_bias), Dropout(0.2),
                       Maxout(3, pieces=2), Dense(3, activation="softmax")], seed=seed, dtype=dtype)


def trained(seed=1):
    model = net(seed)
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    model.fit(X, Y, batch_size=20, epochs=2, verbose=0)
    return model


@pytest.fixture
def weights(tmp_path):
    """A trained model and its weights file."""
    model = trained()
    path = tmp_path / "run.weights.safetensors"
    model.save_weights(path)
    return model, path


def same_weights(a, b) -> bool:
    return all(np.array_equal(u, v) for u, v in zip(a.get_weights(), b.get_weights(), strict=True))


# -- save_weights / load_weights ------------------------------------------------------------------
def test_weights_round_trip_into_a_fresh_model(weights):
    model, path = weights
    fresh = net(seed=7)
    fresh.build()
    assert not same_weights(fresh, model)
    fresh.load_weights(path)
    assert same_weights(fresh, model)
    np.testing.assert_array_equal(fresh.predict(X), model.predict(X))


def test_a_weights_file_holds_the_weights_alone(weights):
    model, path = weights
    with safe_open(str(path), "np") as f:
        assert f.metadata() == {"format": "guinn-weights", "format_version": "1"}
        names = set(f.keys())
    assert names == {f"layers.{i}.{key}" for i, layer in enumerate(model.layers) for key, _ in layer.param_shapes()}
    assert not any(name.startswith("optimizer.") for name in names)  # an Adam model, but no state


def test_load_weights_keeps_compile_and_optimizer_state(weights):
    model, path = weights
    target = trained(seed=5)
    iterations = target.optimizer.iterations
    slots = {k: v.copy() for k, v in target.optimizer.get_state()["slots"].items()}
    target.load_weights(path)
    assert target.compiled and target.optimizer.iterations == iterations
    assert all(np.array_equal(v, target.optimizer.get_state()["slots"][k]) for k, v in slots.items())
    assert same_weights(target, model)
    target.fit(X, Y, epochs=1, verbose=0)  # and trains on from there


def test_load_weights_reads_a_whole_model_file(tmp_path):
    model = trained()
    path = tmp_path / "m.safetensors"
    model.save(path)
    fresh = net(seed=9)
    fresh.load_weights(path)
    assert same_weights(fresh, model)
    assert not fresh.compiled  # the weights only: the file's compile settings are not taken
    with pytest.raises(ModelFileError, match="expects shape"):
        net(seed=9, units=6).load_weights(path)


def test_save_weights_overwrite(weights):
    model, path = weights
    before = path.read_bytes()
    with pytest.raises(ModelFileError, match="already exists and overwrite=False"):
        net(seed=2).save_weights(path, overwrite=False)
    assert path.read_bytes() == before
    net(seed=2).save_weights(path)
    assert path.read_bytes() != before


def test_failed_weights_save_keeps_the_previous_file(weights, monkeypatch):
    model, path = weights
    before = path.read_bytes()

    def full_disk(handle, payload):
        handle.write(payload[: len(payload) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic, "_write_bytes", full_disk)
    with pytest.raises(ModelFileError, match="No space left on device.*previous file at that path is unchanged"):
        net(seed=2).save_weights(path)
    assert path.read_bytes() == before
    assert os.listdir(path.parent) == [path.name]


@pytest.mark.parametrize(("name", "message"), [
    ("run.weights.h5", r"promises a HDF5 \(Keras 2\) file.*run\.weights\.safetensors"),
    ("run.h5", r"run\.weights\.safetensors"),
    ("run.safetensors", r"must be named \*\.weights\.safetensors.*e\.g\. .*/run\.weights\.safetensors"),
    ("run", r"e\.g\. .*/run\.weights\.safetensors"),  # in the folder given
    ("run.keras", r"Keras file.*run\.weights\.safetensors"),
])
def test_save_weights_names_the_right_suffix(tmp_path, name, message):
    with pytest.raises(ModelFileError, match=message):
        net().save_weights(tmp_path / name)
    assert not os.listdir(tmp_path)


def test_suffixes_keep_weights_and_model_files_apart(tmp_path, weights):
    _, path = weights
    with pytest.raises(ModelFileError, match=r"is for model.save_weights.*save the whole model as \S*/m\.safetensors"):
        net().save(tmp_path / "m.weights.safetensors")
    with pytest.raises(ModelFileError, match=r"save as \S*/m\.safetensors"):  # not m.weights.safetensors
        net().save(tmp_path / "m.weights.h5")
    with pytest.raises(ModelFileError, match="this is a weights file.*model.load_weights"):
        load_model(path)
    for name in ("run.weights.h5", "run.bin"):
        with pytest.raises(ModelFileError, match=r"load_weights reads \.weights\.safetensors files"):
            net().load_weights(tmp_path / name)


def test_load_weights_needs_a_built_model_as_in_keras(weights):
    model, path = weights
    unbuilt = net(first=[])  # neither Input nor input_dim: the input size is unknown
    with pytest.raises(ConfigError, match=r"needs a built model.*build\(\(features,\)\).*Input\(shape="):
        unbuilt.load_weights(path)
    unbuilt.build((5,))
    unbuilt.load_weights(path)
    assert same_weights(unbuilt, model)
    # A declared input size is as good as built (Keras builds such a model at once).
    with_input = net(seed=4)
    with_input.load_weights(path)
    assert with_input.built and same_weights(with_input, model)
    with_dim = Sequential([Dense(4, activation="prelu", input_dim=5), Dropout(0.2), Maxout(3, pieces=2), Dense(3)])
    with_dim.load_weights(path)
    assert same_weights(with_dim, model)


@pytest.mark.parametrize(("target", "message"), [
    (lambda: net(units=6), r"tensor 'layers\.0\.kernel' \(layer 0, 'dense_1' \(Dense\) kernel\): the model "
                           r"expects shape \(5, 6\), the file has \(5, 4\)"),
    (lambda: net(first=[Input((7,))]), r"layers\.0\.kernel.*expects shape \(7, 4\), the file has \(5, 4\)"),
    (lambda: net(use_bias=False), r"not in this model: layers\.0\.bias.*the file holds 7 weight tensors, "
                                  r"this model has 6"),
    (lambda: Sequential([Input((5,)), Dense(4, activation="prelu"), Maxout(3, pieces=2), Dense(3)]),
     r"missing from the file: layers\.2\.kernel \(layer 2, 'maxout_1' \(Maxout\) kernel\).*not in this model: "
     r"layers\.4\.bias, layers\.4\.kernel\.$"),
    (lambda: Sequential([Input((5,)), Dense(3)]), r"not in this model: layers\.1\.alpha, .*; the file holds 7 "
                                                  r"weight tensors, this model has 2\.$"),
    (lambda: net(dtype="float64"), r"layers\.0\.kernel.* is float32 in the file, but the model is float64"),
])
def test_mismatched_models_say_which_tensor_differs(weights, target, message):
    _, path = weights
    model = target()
    model.build()
    before = model.get_weights()
    with pytest.raises(ModelFileError, match=message):
        model.load_weights(path)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))  # nothing changed


def _rewrite(path, tensors=None, meta=None, drop=()):
    with safe_open(str(path), "np") as f:
        metadata = dict(f.metadata())
        arrays = {k: f.get_tensor(k) for k in f.keys()}
    arrays.update(tensors or {})
    for key in drop:
        arrays.pop(key)
    metadata.update(meta or {})
    path.write_bytes(stn.save(arrays, metadata=metadata))


@pytest.mark.parametrize(("edit", "message"), [
    (dict(meta={"format": "guinn-weightz"}), "not a guinn weights file.*expected 'guinn-weights'"),
    (dict(meta={"format_version": "2"}), "format version 2, newer than this guinn reads"),
    (dict(meta={"format_version": "x"}), "format_version must be a whole number"),
    (dict(meta={"model": "{}"}), r"unknown metadata field\(s\) \['model'\]"),
    (dict(tensors={"layers.0.bias": np.full(4, np.nan, np.float32)}), "NaN or infinite"),
    (dict(tensors={"evil": np.zeros(2, np.float32)}), "not in this model: evil"),
    (dict(tensors={f"junk{i:02}" + "x" * 500: np.zeros(1, np.float32) for i in range(20)}),
     r"not in this model: junk00x{74}\.\.\., .* and 15 more"),
    (dict(tensors={"layers.0.bias": np.zeros(4, np.float16)}), "only F32 .* and F64"),
    (dict(tensors={"layers.0.bias": np.zeros(4, np.int32)}), "only F32 .* and F64"),
    (dict(drop=["layers.4.bias"]), r"missing from the file: layers\.4\.bias"),
])
def test_tampered_weights_files_are_named(weights, edit, message):
    _, path = weights
    _rewrite(path, **edit)
    target = net(seed=8)
    target.build()
    before = target.get_weights()
    with pytest.raises(ModelFileError, match=message) as info:
        target.load_weights(path)
    assert str(path) in str(info.value) and UNEXPECTED not in str(info.value)
    assert all(np.array_equal(a, b) for a, b in zip(before, target.get_weights(), strict=True))


def test_framing_and_size_limits_are_the_model_loaders(tmp_path, weights, monkeypatch):
    _, path = weights
    raw = path.read_bytes()
    cases = {
        b"": "too short to be a weights or model file",
        b"\x89PNG\r\n\x1a\n" + bytes(64): "not a guinn weights or model file",
        raw[:-3]: "truncated",
        (10**9).to_bytes(8, "little") + raw[8:]: "header claims",
        stn.save({"w": np.zeros(2, np.float32)}): "no metadata; not a guinn weights or model file",
    }
    for data, message in cases.items():
        path.write_bytes(data)
        with pytest.raises(ModelFileError, match=message):
            net().load_weights(path)
    path.write_bytes(raw)
    monkeypatch.setattr(model_file, "MAX_FILE_BYTES", len(raw) - 1)
    with pytest.raises(ModelFileError, match="weights files are at most"):
        net().load_weights(path)
    with pytest.raises(ModelFileError, match="Cannot read weights file"):
        net().load_weights(tmp_path / "missing.weights.safetensors")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_an_endless_device_is_refused_before_reading(tmp_path):
    link = tmp_path / "zero.weights.safetensors"
    link.symlink_to("/dev/zero")
    with pytest.raises(ModelFileError, match="not a regular file"):
        net().load_weights(link)


def test_damaged_weights_files_are_always_clean_errors(tmp_path):
    """A few hundred random truncations and byte changes: each loads or is a ModelFileError,
    never another exception and never the loader's catch-all (a validation gap)."""
    rng = np.random.default_rng(3)
    for kind, name, save in (("weights", "w.weights.safetensors", "save_weights"), ("model", "m.safetensors", "save")):
        path = tmp_path / name
        getattr(trained(), save)(path)
        raw = path.read_bytes()
        header_end = 8 + int.from_bytes(raw[:8], "little")
        for case in range(150):
            data = bytearray(raw)
            if case % 3 == 0:
                data = data[: rng.integers(0, len(data))]
            elif case % 3 == 1:
                data[rng.integers(8, header_end)] = rng.choice(list(b'0123456789[]{},":'))
            else:
                data[rng.integers(0, len(data))] = rng.integers(0, 256)
            path.write_bytes(bytes(data))
            target = net(seed=4)
            try:
                target.load_weights(path)
            except ModelFileError as exc:
                assert UNEXPECTED not in str(exc), f"{kind} case {case}: {exc}"
            else:  # harmless damage (a flipped bit inside a weight that stays finite)
                assert target.predict(X).shape == (len(X), 3)


def test_keras_load_weights_options_are_named(weights):
    _, path = weights
    with pytest.raises(ConfigError, match="skipping mismatched layers"):
        net().load_weights(path, skip_mismatch=True)
    with pytest.raises(ConfigError, match="matched by position"):
        net().load_weights(path, by_name=True)


# -- to_json / model_from_json ------------------------------------------------------------------
def test_json_round_trip_rebuilds_the_uncompiled_model(weights):
    model, path = weights
    text = model.to_json()
    data = json.loads(text)
    assert data == {"class_name": "Sequential", "config": model.get_config()}
    rebuilt = model_from_json(text)
    assert rebuilt.get_config() == model.get_config() and rebuilt.input_shape == (5,)
    assert not rebuilt.compiled and not rebuilt.built
    rebuilt.load_weights(path)  # Keras's pair: architecture from JSON, weights from the file
    np.testing.assert_array_equal(rebuilt.predict(X), model.predict(X))


def test_json_model_starts_from_the_same_seeded_weights():
    model = net(seed=11)
    rebuilt = model_from_json(model.to_json())
    model.build()
    rebuilt.build()
    assert same_weights(model, rebuilt)


def test_to_json_records_an_input_shape_learnt_from_data():
    model = Sequential([Dense(4, activation="relu", kernel_regularizer=l2(0.01)), Dense(3, activation="softmax")])
    assert model_from_json(model.to_json()).input_shape is None  # not known yet: not invented
    model.compile("sgd", "categorical_crossentropy")
    model.fit(X, Y, epochs=1, verbose=0)
    rebuilt = model_from_json(model.to_json())
    assert rebuilt.input_shape == (5,)
    assert rebuilt.layers[1].get_config() == model.layers[1].get_config()


def test_to_json_passes_keywords_to_json_dumps():
    text = net().to_json(indent=2, sort_keys=True)
    assert text.count("\n") > 10 and json.loads(text)["class_name"] == "Sequential"
    with pytest.raises(ConfigError, match="to_json passes its keyword arguments to json.dumps.*indnt"):
        net().to_json(indnt=2)


def _config(**changes) -> dict:
    data = json.loads(net().to_json())
    data["config"].update(changes)
    return data


def _first_layer(**changes) -> dict:
    data = json.loads(net().to_json())
    data["config"]["layers"][0]["config"].update(changes)
    return data


KERAS_STYLE = {"module": "keras", "class_name": "Sequential", "config": {"layers": []}, "registered_name": None}


@pytest.mark.parametrize(("text", "message"), [
    ('{"class_name": "Sequential",', r"The model JSON is not valid JSON \(Expecting"),
    ('{"class_name": "Sequential", "class_name": "Sequential", "config": {"layers": []}}', "duplicate key"),
    ('{"class_name": "Sequential", "config": {"layers": [], "seed": NaN}}', "NaN is not allowed"),
    ("[" * 100_000 + "]" * 100_000, "not usable JSON"),
    ('{"class_name": "Sequential", "config": {"layers": [], "seed": 1' + "0" * 5000 + "}}", "not valid JSON"),
    ("[1, 2]", "must be an object .*got a list"),
    ('{"class_name": "Functional", "config": {"layers": []}}', "Sequential models only.*'Functional'"),
    ('{"config": {"layers": []}}', r"exactly class_name and config, got keys \['config'\]"),
    (_config(seeds=1), r"layers and optionally name, seed and dtype, got keys .*'seeds'"),
    (_config(layers={"a": 1}), "layers must be a list"),
    (_config(seed=-1), "seed must be a whole number"),
    (_config(seed=True), "seed must be a whole number"),
    (_config(dtype="float16"), "dtype must be float32 or float64, got 'float16'"),
    (_config(name=""), "name must be text of 1 to"),
    (_config(layers=[{"type": "Dense", "config": {"units": 3}, "extra": 1}]), "exactly type .* and config"),
    (_config(layers=[{"type": "Dens", "config": {"units": 3}}]), "layer 0: Unknown layer type 'Dens'.*'Dense'"),
    (_config(layers=[{"type": "__import__", "config": {}}]), "Unknown layer type"),
    (_first_layer(unit=3), "layer 0: Dense has no argument 'unit'.*Did you mean 'units'"),
    (_first_layer(units=-3), "layer 0: units must be a positive integer"),
    (_first_layer(activation="sigmod"), "layer 0: .*sigmoid"),
    (_first_layer(input_shape=[2, 2]), r"layer 0 \(Dense\) does not fit its input.*Flatten"),
    (_first_layer(input_shape=[10**9]), "more than 100,000,000 values per sample"),
    (_first_layer(units=10**8), "more than guinn trains or saves"),
    (_first_layer(units=10**400), "whole number .* is too large"),  # was an OverflowError formatting the count
    (_first_layer(units=2**127), "more than guinn trains or saves"),
    (_first_layer(name="\ud800"), "must be valid Unicode"),
    (KERAS_STYLE, "looks like Keras's own JSON"),
    (_config(layers=[{"class_name": "Dense", "config": {"units": 3}}]), "layer 0: this looks like Keras's own JSON"),
])
def test_bad_json_is_a_config_error_saying_what_is_wrong(text, message):
    text = text if isinstance(text, str) else json.dumps(text)
    with pytest.raises(ConfigError, match=message):
        model_from_json(text)


def test_model_from_json_checks_what_it_is_given():
    with pytest.raises(ConfigError, match="takes the JSON text .* got dict; for a get_config.. dict use "
                                          "Sequential.from_config"):
        model_from_json(net().get_config())
    with pytest.raises(ConfigError, match="not UTF-8"):
        model_from_json(b"\xff{}")
    assert model_from_json(net().to_json().encode()).input_shape == (5,)
    with pytest.raises(ConfigError, match="characters; an architecture takes far fewer"):
        model_from_json(" " * (model_file.MAX_HEADER_BYTES + 1))
    with pytest.raises(ConfigError, match="custom objects"):
        model_from_json(net().to_json(), custom_objects={})


JSON_VALUES = [None, True, 0, -1, 1.5, 1e308, 10**30, "", "x", "Dense", [], [1], [0], [[1]], {}, {"a": 1},
               "glorot_uniform", {"name": "l2"}]


def _mutated(data, rng):
    """``data`` with one value replaced, a key deleted or a key added, somewhere inside."""
    paths = []

    def walk(value, path):
        paths.append(path)
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, inner in items:
            walk(inner, [*path, key])

    walk(data, [])
    if len(paths) < 2:
        return data
    path = rng.choice(paths[1:])
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    roll = rng.random()
    if roll < 0.2 and isinstance(parent, dict):
        del parent[path[-1]]
    elif roll < 0.3 and isinstance(parent, dict):
        parent[rng.choice(["x", "units", "input_shape", "name", "seed"])] = copy.deepcopy(rng.choice(JSON_VALUES))
    else:
        parent[path[-1]] = copy.deepcopy(rng.choice(JSON_VALUES))
    return data


def test_damaged_json_is_always_a_config_error():
    """Hundreds of edited architectures: each builds a usable model or is a ConfigError."""
    rich = Sequential([Input((2, 3)), Flatten(), Dense(4, activation="prelu", kernel_regularizer=l2(0.01)),
                       Dropout(0.3), Maxout(3, pieces=2), Activation("leaky_relu", alpha=0.2),
                       Dense(2, activation="softmax", kernel_initializer="he_normal")], seed=5)
    plain = Sequential([Dense(3, activation="tanh"), Dense(1, activation="sigmoid")], dtype="float64")
    texts = [rich.to_json(), plain.to_json()]
    rng = random.Random(0)
    built = 0
    for case in range(600):
        data = json.loads(texts[case % 2])
        for _ in range(rng.randint(1, 3)):
            data = _mutated(data, rng)
        try:
            model = model_from_json(json.dumps(data))
        except ConfigError:
            continue
        built += 1
        if model.layers and model.input_shape is not None:
            with np.errstate(all="ignore"):
                model.predict(np.zeros((2, *model.input_shape), "float32"))
    assert built > 0


# -- Input(shape=...) ------------------------------------------------------------------------------
def test_input_declares_the_shape_as_input_dim_does():
    with_input = Sequential([Input(shape=(5,)), Dense(3, activation="softmax")], seed=2)
    with_dim = Sequential([Dense(3, activation="softmax", input_dim=5)], seed=2)
    assert with_input.input_shape == (5,) and len(with_input.layers) == 1
    assert with_input.get_config() == with_dim.get_config()
    with_input.compile("sgd", "categorical_crossentropy")  # builds it, as a declared input_dim does
    assert with_input.built
    with_dim.build()
    assert same_weights(with_input, with_dim)
    with_input.fit(X, Y, epochs=1, verbose=0)


def test_input_through_add_and_batch_shape():
    model = Sequential()
    model.add(Input(shape=(2, 3)))
    assert model.input_shape == (2, 3)
    model.add(Flatten())
    model.add(Dense(2, activation="softmax"))
    assert model.predict(np.zeros((4, 2, 3), "float32")).shape == (4, 2)
    assert Sequential([Input(batch_shape=(None, 5)), Dense(2)]).input_shape == (5,)
    assert Sequential([Input(batch_shape=(32, 5)), Dense(2)]).input_shape == (5,)
    assert Sequential([Input((5,)), Dense(2, input_dim=5)]).input_shape == (5,)  # the same shape twice: fine
    assert Sequential([Input((5,))]).input_shape == (5,)


def test_input_survives_save_and_json(tmp_path):
    model = Sequential([Input((5,)), Dense(2, activation="softmax")])
    model.compile("adam", "categorical_crossentropy")
    model.save(tmp_path / "m.safetensors")
    assert load_model(tmp_path / "m.safetensors").input_shape == (5,)
    assert model_from_json(model.to_json()).input_shape == (5,)


@pytest.mark.parametrize(("make", "message"), [
    (lambda: Input(784), r"Input shape must be one sample's shape.*e\.g\. \(784,\); got 784"),
    (lambda: Input(shape=(0,)), "Input shape must be"),
    (lambda: Input(), r"needs the shape of one sample, e\.g\. Input\(shape=\(784,\)\)"),
    (lambda: Input(shape=(5,), batch_shape=(None, 5)), "shape or batch_shape, not both"),
    (lambda: Input(batch_shape=(5,)), r"batch_shape must be \(batch, \*sample shape\)"),
    (lambda: Input((5,), dtype="float32"), r"no argument 'dtype'.*Sequential\(dtype=...\)"),
    (lambda: Input((5,), name=""), "layer name must be a non-empty string"),
    (lambda: Sequential([Dense(3), Input((5,))]), "must come first in a Sequential.*already has layers"),
    (lambda: Sequential([Input((5,)), Input((5,))]), "already has one"),
    (lambda: Sequential([Input((5,)), Dense(3, input_dim=4)]), r"Input\(shape=\(5,\)\) and the first layer's "
                                                               r"input_shape \(4,\) disagree"),
])
def test_input_mistakes_are_config_errors(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_json_without_an_input_shape_is_bounded_when_built():
    """to_json of an unbuilt model writes no input shape, so the JSON reader cannot size the
    layers; building them then refuses what no machine here could hold, before allocating."""
    text = json.dumps({"class_name": "Sequential", "config": {"layers": [
        {"type": "Dense", "config": {"units": 1_000_000}}, {"type": "Dense", "config": {"units": 1_000_000}}]}})
    model = model_from_json(text)
    with pytest.raises(ConfigError, match=r"1,000,786,000,000 weights, more than guinn trains or saves"):
        model.build((784,))
    assert not model.built


def test_a_mistyped_layer_size_is_refused_before_allocating():
    model = Sequential([Dense(10**20, input_dim=784)])
    with pytest.raises(ConfigError, match=r"7\.85e\+22 weights.*is a layer size mistyped"):
        model.build()


def test_a_refused_file_leaves_an_unbuilt_model_as_it_was(tmp_path):
    source = Sequential([Input((4,)), Dense(8, activation="relu"), Dense(3, activation="softmax")], seed=5)
    source.build()
    path = tmp_path / "w.weights.safetensors"
    source.save_weights(path)

    def fresh():
        return Sequential([Input((4,)), Dense(6), Dense(3)], seed=5)

    model = fresh()
    for bad in (tmp_path / "missing.weights.safetensors", path):  # unreadable, then mismatched
        with pytest.raises(ModelFileError):
            model.load_weights(bad)
        assert not model.built
    model.build()  # as if no load had been tried: the initializer's random state is untouched
    twin = fresh()
    twin.build()
    np.testing.assert_array_equal(model.get_flat_weights(), twin.get_flat_weights())
    fitting = Sequential([Input((4,)), Dense(8, activation="relu"), Dense(3, activation="softmax")])
    fitting.load_weights(path)
    assert fitting.built
    np.testing.assert_array_equal(fitting.get_flat_weights(), source.get_flat_weights())


@pytest.mark.parametrize("bad", [3, None, b"m.safetensors", ""])
def test_a_file_name_that_is_not_one_is_a_config_error(tmp_path, bad):
    model = Sequential([Input((4,)), Dense(3)])
    for call, what in ((lambda: model.save_weights(bad), "save_weights"), (lambda: model.load_weights(bad),
                       "load_weights"), (lambda: model.save(bad, overwrite=False), "save"),
                       (lambda: load_model(bad), "load_model")):
        with pytest.raises(ConfigError, match=f"{what} needs a file name"):
            call()
