"""Model files: exact round trips, exact resumption, atomic saves, old versions, clear errors."""

import json
import os
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy as stn
from safetensors import safe_open

from guinn.core.specs import LayerSpec, build_model
from guinn.errors import ModelFileError
from guinn.io import atomic
from guinn.io.model_file import load_model, save_model
from guinn.layers import Dense, Dropout
from guinn.models import Sequential
from guinn.models import load_model as keras_load_model

FIXTURES = Path(__file__).parent / "fixtures"
CARDS = [
    LayerSpec(8, "prelu", dropout=0.2),
    LayerSpec(5, "maxout", pieces=3, l2=0.01),
    LayerSpec(7, "leaky_relu", alpha=0.1, l1=0.001),
    LayerSpec(6, "sigmoid"),
    LayerSpec(6, "tanh"),
]


def data(n=120, features=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype(np.float32)
    y = np.eye(classes)[rng.integers(0, classes, n)]
    return x, y


def make_model(optimizer="adam", dtype=None, seed=3, cards=CARDS):
    model = build_model(6, list(cards), 3, seed=seed, dtype=dtype)
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def weights_equal(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    return len(wa) == len(wb) and all(
        p.dtype == q.dtype and np.array_equal(p, q) for p, q in zip(wa, wb, strict=True)
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_loaded_model_predicts_bit_identically(tmp_path, dtype):
    x, y = data()
    model = make_model(dtype=dtype)
    model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    path = tmp_path / "m.safetensors"
    model.save(path)
    loaded = keras_load_model(path)
    assert loaded.dtype == model.dtype
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    assert weights_equal(model, loaded)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.get_config() == model.get_config()


@pytest.mark.parametrize(
    "optimizer",
    [
        "adam",
        "rmsprop",
        "adagrad",
        "sgd",
        {"name": "sgd", "learning_rate": 0.05, "momentum": 0.9, "nesterov": True},
    ],
)
def test_fit_on_loaded_model_follows_the_uninterrupted_trajectory(tmp_path, optimizer):
    x, y = data()
    a = make_model(optimizer=optimizer)
    a.fit(x, y, epochs=2, batch_size=16, verbose=0)  # dropout and shuffling use random numbers
    path = tmp_path / "a.safetensors"
    save_model(a, path)
    a.fit(x, y, epochs=4, initial_epoch=2, batch_size=16, verbose=0)
    b = load_model(path)
    assert b.optimizer.get_config() == a.optimizer.get_config()
    b.fit(x, y, epochs=4, initial_epoch=2, batch_size=16, verbose=0)
    assert b.optimizer.iterations == a.optimizer.iterations
    assert weights_equal(a, b)
    assert b.history.history == a.history.history
    uninterrupted = make_model(optimizer=optimizer)
    uninterrupted.fit(x, y, epochs=4, batch_size=16, verbose=0)
    assert weights_equal(uninterrupted, b)
    assert uninterrupted.history.history["loss"][2:] == b.history.history["loss"]


def test_resume_needs_optimizer_and_rng_state(tmp_path):
    """Controls for the test above: fresh generators or optimizer state change the path."""
    x, y = data()
    a = make_model()
    a.fit(x, y, epochs=1, batch_size=16, verbose=0)
    path = tmp_path / "a.safetensors"
    save_model(a, path)
    a.fit(x, y, epochs=1, batch_size=16, verbose=0)
    fresh_rngs = load_model(path)
    fresh_rngs.set_rng_states(make_model().rng_states)
    fresh_rngs.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert not weights_equal(a, fresh_rngs)
    b = load_model(path)
    b.optimizer.set_state(
        {"iterations": 0, "slots": {k: np.zeros_like(v) for k, v in b.optimizer.slots.items()}}
    )
    b.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert not weights_equal(a, b)


def test_metadata_round_trip(tmp_path):
    from guinn.experiment import Experiment

    x, y = data()
    model = make_model(optimizer={"name": "rmsprop", "learning_rate": 0.003, "rho": 0.8})
    model.fit(x, y, epochs=3, batch_size=40, verbose=0, validation_split=0.25)
    model.history.messages.append("a note")
    exp = Experiment(
        title="t", dataset={"kind": "toy", "name": "blobs"}, layers=tuple(CARDS), epochs=3
    )
    pre = {"standardizer": {"mean": [0.5], "scale": [2.0]}, "feature_names": ["a"]}
    path = tmp_path / "m.safetensors"
    save_model(
        model,
        path,
        class_names=["x", "y", "z"],
        experiment=exp,
        preprocessing=pre,
        dataset="blobs (toy)",
    )
    loaded = load_model(path)
    assert loaded.class_names == ("x", "y", "z")
    assert loaded.experiment_config == exp.to_dict()
    assert loaded.preprocessing == pre
    assert loaded.dataset_name == "blobs (toy)"
    assert loaded.format_version == 2
    assert loaded.seed == model.seed == 3
    assert loaded.loss.name == "categorical_crossentropy"
    assert loaded.metrics == ["accuracy"]
    assert loaded.optimizer.to_config() == model.optimizer.to_config()
    assert loaded.history.history == model.history.history
    assert set(loaded.history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert loaded.history.epoch == [0, 1, 2]
    assert loaded.history.steps == model.history.steps == [3, 6, 9]  # 3 batches an epoch
    assert loaded.history.messages == ["a note"]
    assert loaded.input_shape == (6,)
    # Re-saving a loaded model keeps what it was loaded with.
    again = tmp_path / "again.safetensors"
    loaded.save(again)
    twice = load_model(again)
    assert twice.class_names == ("x", "y", "z") and twice.experiment_config == exp.to_dict()


def test_file_layout_names_tensors_per_layer(tmp_path):
    model = make_model()
    path = tmp_path / "m.safetensors"
    save_model(model, path)
    tensors = stn.load_file(str(path))
    expected = {
        f"layers.{i}.{k}" for i, layer in enumerate(model.layers) for k, _ in layer.param_shapes()
    }
    assert set(tensors) == expected | {"optimizer.m_sum", "optimizer.v"}
    assert tensors["layers.0.kernel"].shape == (6, 8)
    assert tensors["layers.1.alpha"].shape == (8,)
    from safetensors import safe_open

    with safe_open(str(path), "np") as f:
        meta = f.metadata()
    assert meta["format"] == "guinn-model" and meta["format_version"] == "2"
    assert json.loads(meta["compile"])["optimizer"]["name"] == "adam"


def test_uncompiled_model_round_trips(tmp_path):
    model = Sequential(
        [Dense(4, activation="relu", input_dim=3), Dropout(0.5), Dense(2, activation="softmax")],
        seed=1,
    )
    path = tmp_path / "plain.safetensors"
    model.save(path)
    loaded = load_model(path)
    assert not loaded.compiled
    x = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


@pytest.mark.parametrize("jit", [True, False])
def test_version_1_fixture_resumes_training(jit, monkeypatch):
    from guinn.core import fused

    if not jit:
        monkeypatch.setitem(fused._state, "kernels", None)
    model = load_model(FIXTURES / "model_v1.safetensors")
    x = np.random.default_rng(0).standard_normal((32,) + model.input_shape).astype(np.float32)
    y = np.eye(model.output_shape[0], dtype=np.float32)[np.arange(32) % model.output_shape[0]]
    before = model.get_flat_weights()
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert model.optimizer.iterations == 8 + 4
    assert np.isfinite(model.get_flat_weights()).all() and not np.array_equal(model.get_flat_weights(), before)


def test_version_1_adam_state_too_large_to_convert_is_refused(tmp_path):
    stored = stn.load_file(str(FIXTURES / "model_v1.safetensors"))
    with safe_open(str(FIXTURES / "model_v1.safetensors"), "np") as f:
        meta = f.metadata()
    stored["optimizer.m"] = np.full_like(stored["optimizer.m"], 1e38)
    path = tmp_path / "huge.safetensors"
    stn.save_file(stored, str(path), metadata=meta)
    with pytest.raises(ModelFileError, match="too large"):
        load_model(path)


def test_version_1_fixture_still_loads():
    model = load_model(FIXTURES / "model_v1.safetensors")
    expected = json.loads((FIXTURES / "model_v1_expected.json").read_text())
    out = model.predict(np.array(expected["input"], dtype=np.float32))
    np.testing.assert_array_equal(out, np.array(expected["output"], dtype=np.float32))
    assert model.class_names == ("cat", "dog", "bird")
    assert model.dataset_name == "fixture"
    assert model.optimizer.name == "adam" and model.optimizer.iterations == 8
    assert model.format_version == 1
    stored = stn.load_file(str(FIXTURES / "model_v1.safetensors"))  # version 1 kept Adam's m and v
    moments = model.optimizer.moments()
    np.testing.assert_allclose(moments["m"], stored["optimizer.m"], rtol=1e-6)
    np.testing.assert_allclose(moments["v"], stored["optimizer.v"], rtol=1e-6)
    assert [type(layer).__name__ for layer in model.layers] == [
        "Dense",
        "PReLU",
        "Maxout",
        "Dropout",
        "Dense",
        "Dense",
    ]


def test_failed_save_keeps_the_previous_file(tmp_path, monkeypatch):
    x, y = data()
    model = make_model()
    path = tmp_path / "m.safetensors"
    save_model(model, path)
    before = path.read_bytes()
    model.fit(x, y, epochs=1, verbose=0)

    def full_disk(handle, payload):
        handle.write(payload[: len(payload) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic, "_write_bytes", full_disk)
    with pytest.raises(ModelFileError, match="No space left on device.*previous file at that path is unchanged"):
        save_model(model, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.safetensors"]  # the temporary file is cleaned up
    load_model(path)


def test_interrupted_save_keeps_the_previous_file(tmp_path, monkeypatch):
    model = make_model()
    path = tmp_path / "m.safetensors"
    save_model(model, path)
    before = path.read_bytes()

    def crash(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        save_model(model, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.safetensors"]


def test_save_keeps_file_permissions(tmp_path):
    model = make_model()
    path = tmp_path / "m.safetensors"
    save_model(model, path)
    os.chmod(path, 0o640)
    save_model(model, path)
    assert path.stat().st_mode & 0o777 == 0o640


def _rewrite(path, tensors=None, meta_changes=None, drop=()):
    """Re-save a valid file with edited tensors/metadata through safetensors itself."""
    from safetensors import safe_open

    with safe_open(str(path), "np") as f:
        meta = dict(f.metadata())
        arrays = {k: f.get_tensor(k) for k in f.keys()}
    arrays.update(tensors or {})
    for key in drop:
        arrays.pop(key, None)
        meta.pop(key, None)
    meta.update(meta_changes or {})
    path.write_bytes(stn.save(arrays, metadata=meta))


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "m.safetensors"
    save_model(make_model(), path, class_names=["a", "b", "c"])
    return path


@pytest.mark.parametrize(
    "edit, message",
    [
        (dict(meta_changes={"format_version": "3"}), "newer than this guinn reads"),
        (dict(meta_changes={"format": "keras"}), "not a guinn model file"),
        (dict(tensors={"layers.0.kernel": np.full((6, 8), np.nan, np.float32)}), "NaN or infinite"),
        (dict(tensors={"layers.0.kernel": np.zeros((6, 8), np.int32)}), "only F32"),
        (dict(tensors={"layers.0.kernel": np.zeros((6, 8), np.float16)}), "only F32"),
        (
            dict(tensors={"layers.0.kernel": np.zeros((6, 8), np.float64)}),
            "but the model is float32",
        ),
        (dict(tensors={"layers.0.kernel": np.zeros((6, 9), np.float32)}), "do not chain"),
        (dict(tensors={"layers.9.kernel": np.zeros((2, 2), np.float32)}), "unexpected tensor"),
        (dict(drop=["layers.0.bias"]), "'layers.0.bias' is missing"),
        (dict(drop=["optimizer.m_sum"]), "needs state tensor"),
        (dict(tensors={"optimizer.v": -np.ones(1, np.float32)}), "optimizer.v"),
        (dict(drop=["rng_states"]), "missing"),
        (dict(meta_changes={"extra": "1"}), "unknown metadata"),
        (dict(meta_changes={"classes": '["a"]'}), "class labels do not match"),
        (
            dict(
                meta_changes={
                    "compile": '{"loss": "hinge", "metrics": [], "optimizer": {"name": "adam"}}'
                }
            ),
            "unknown loss",
        ),
        (
            dict(
                meta_changes={
                    "compile": '{"loss": "mean_squared_error", "metrics": [], '
                    '"optimizer": {"name": "lbfgs"}}'
                }
            ),
            "Unknown optimizer",
        ),
        (dict(meta_changes={"optimizer_iterations": "-1"}), "optimizer_iterations"),
        (dict(meta_changes={"optimizer_iterations": "NaN"}), "not valid JSON"),
        (dict(meta_changes={"rng_states": '{"shuffle": 1, "dropout": 2}'}), "PCG64"),
        (
            dict(
                meta_changes={
                    "history": '{"history": {"loss": ["x"]}, "epoch": [], "messages": []}'
                }
            ),
            "history",
        ),
        (
            dict(
                meta_changes={
                    "history": '{"history": {}, "epoch": [0], "steps": [3, 4], "messages": []}'
                }
            ),
            "one per epoch",
        ),
        (
            dict(meta_changes={"history": '{"history": {}, "epoch": [], "messages": [], "extra": 1}'}),
            "nothing else",
        ),
        (dict(meta_changes={"input_shape": "[7]"}), "declares input shape"),
        (dict(meta_changes={"experiment": '{"epochs": -3}'}), "experiment"),
        (
            dict(meta_changes={"experiment": '{"optimizer": ["adam"]}'}),
            "stored experiment is invalid",
        ),
    ],
)
def test_specific_malformations_are_named(saved, edit, message):
    _rewrite(saved, **edit)
    with pytest.raises(ModelFileError, match=message):
        load_model(saved)


def _edit_model_json(path, change):
    from safetensors import safe_open

    with safe_open(str(path), "np") as f:
        config = json.loads(f.metadata()["model"])
    change(config)
    _rewrite(path, meta_changes={"model": json.dumps(config)})


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda c: c["layers"][0].update(type="Conv2D"), "Unknown layer type 'Conv2D'"),
        (lambda c: c["layers"][0]["config"].update(activation="gelu"), "guinn has no activation 'gelu'"),
        (lambda c: c["layers"][0]["config"].update(activation="prelu"), "separate layers"),
        (
            lambda c: c["layers"][0]["config"].update(kernel_initializer={"name": "os.system"}),
            "Unknown initializer",
        ),
        (lambda c: c["layers"][0]["config"].update(units=9), "do not chain"),
        (lambda c: c["layers"][0]["config"].update(units="8"), "units must be a positive integer"),
        (lambda c: c["layers"][0]["config"].update(__class__="x"), "Dense has no argument .__class__."),
        (
            lambda c: c["layers"].insert(0, {"type": "Flatten", "config": {"name": "f"}}),
            "layer 1: only the first layer",
        ),
        (lambda c: c["layers"][2]["config"].update(rate=1.5), "Dropout rate"),
        (lambda c: c.update(dtype="int8"), "dtype must be float32 or float64"),
        (lambda c: c.update(layers=[]), "1 to 1000 layers"),
        (lambda c: c.update(seed=-1), "seed"),
        (lambda c: c.pop("name"), "exactly name, seed, dtype and layers"),
        (lambda c: c["layers"][1].update(config=[]), "A layer entry must be"),
    ],
)
def test_bad_layer_specs_are_named(saved, change, message):
    _edit_model_json(saved, change)
    with pytest.raises(ModelFileError, match=message):
        load_model(saved)


def test_framing_errors(tmp_path, saved):
    raw = saved.read_bytes()
    cases = {
        b"": "too short",
        (2**40).to_bytes(8, "little") + raw[8:]: "at most",
        (len(raw)).to_bytes(8, "little") + raw[8:]: "truncated or corrupted",
        raw[:8] + b"\xff" + raw[9:]: "not UTF-8|not valid JSON|not a guinn model file",
        raw[: len(raw) - 3]: "data bytes: the file looks truncated",
        (2).to_bytes(8, "little") + b"[]": "JSON object|not a guinn model file",
    }
    for content, message in cases.items():
        path = tmp_path / "bad.safetensors"
        path.write_bytes(content)
        with pytest.raises(ModelFileError, match=message):
            load_model(path)
    with pytest.raises(ModelFileError, match="Cannot read"):
        load_model(tmp_path / "missing.safetensors")
    with pytest.raises(ModelFileError, match="folder"):
        load_model(tmp_path)


def test_duplicate_json_keys_are_refused(tmp_path, saved):
    raw = saved.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = raw[8 : 8 + n].decode()
    doctored = header.replace('"__metadata__":{', '"__metadata__":{"format":"guinn-model",', 1)
    pad = n - len(doctored.encode())
    assert pad < 0
    new = doctored.encode()
    path = tmp_path / "dup.safetensors"
    path.write_bytes(len(new).to_bytes(8, "little") + new + raw[8 + n :])
    with pytest.raises(ModelFileError, match="duplicate key"):
        load_model(path)


def test_save_refuses_mismatched_class_names(tmp_path):
    with pytest.raises(ModelFileError, match="do not match"):
        save_model(make_model(), tmp_path / "m.safetensors", class_names=["only", "two"])
    assert not (tmp_path / "m.safetensors").exists()


def test_save_refuses_what_load_would_refuse(tmp_path):
    model = Sequential([Dense(2, input_dim=2, activation="softmax")], name="n" * 500, seed=0)
    with pytest.raises(ModelFileError, match="cannot be saved in a loadable form.*model name"):
        save_model(model, tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()


def test_saving_into_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ModelFileError, match="does not exist"):
        save_model(make_model(), tmp_path / "no" / "such" / "m.safetensors")
    with pytest.raises(ModelFileError, match="is a folder"):
        save_model(make_model(), tmp_path)


def test_a_picture_is_not_a_model_file(tmp_path):
    path = tmp_path / "digit.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    with pytest.raises(ModelFileError, match="not a guinn model file"):
        load_model(path)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
@pytest.mark.parametrize("reader", ["model", "experiment", "image"])
def test_endless_device_files_are_refused_before_reading(reader):
    """/dev/zero reports size 0 and never ends: a reader must refuse it, not read it forever."""
    from guinn.errors import DataError
    from guinn.experiment import Experiment
    from guinn.io.images import read_image

    read, error = {"model": (load_model, ModelFileError), "experiment": (Experiment.load, ModelFileError),
                   "image": (read_image, DataError)}[reader]
    with pytest.raises(error, match="not a regular file"):
        read("/dev/zero")
