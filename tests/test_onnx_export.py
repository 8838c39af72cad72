"""ONNX export: the checker accepts the graph and onnxruntime reproduces guinn's predictions."""

import json
import sys

import numpy as np
import pytest

from guinn.core.specs import LayerSpec, build_model
from guinn.errors import GuinnError, ModelFileError
from guinn.layers import Activation, Dense, Dropout, Flatten, Maxout, PReLU
from guinn.models import Sequential

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from guinn.io.onnx_export import export_onnx, to_onnx  # noqa: E402


def run_onnx(path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["input"]
    return session.run(None, {"input": x.astype(np.float32)})[0]


def trained(model, features, classes=3, loss="categorical_crossentropy", seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(96,) + tuple(features)).astype(np.float32)
    y = np.eye(classes)[rng.integers(0, classes, 96)]
    model.compile(optimizer="adam", loss=loss)
    model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    return model, x


def check(model, x, tmp_path, atol=1e-5):
    path = export_onnx(model, tmp_path / "model.onnx")
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    got = run_onnx(path, x)
    want = model.predict(x)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=atol, rtol=1e-5)
    np.testing.assert_array_equal(got.argmax(axis=1), want.argmax(axis=1))
    return onnx.load(str(path))


@pytest.mark.parametrize(
    "activation", ["sigmoid", "tanh", "relu", "leaky_relu", "linear", "prelu", "maxout"]
)
def test_each_card_activation_matches(tmp_path, activation):
    model = build_model(
        6, [LayerSpec(10, activation, alpha=0.15, pieces=3), LayerSpec(7, activation)], 4, seed=1
    )
    model, x = trained(model, (6,), classes=4)
    proto = check(model, x, tmp_path)
    ops = {n.op_type for n in proto.graph.node}
    expected = {
        "sigmoid": "Sigmoid",
        "tanh": "Tanh",
        "relu": "Relu",
        "leaky_relu": "LeakyRelu",
        "prelu": "PRelu",
        "maxout": "ReduceMax",
        "linear": "Gemm",
    }[activation]
    assert expected in ops and "Softmax" in ops
    if activation == "leaky_relu":
        alphas = [a.f for n in proto.graph.node if n.op_type == "LeakyRelu" for a in n.attribute]
        assert alphas[0] == pytest.approx(0.15)


def test_dropout_is_removed_and_inference_matches(tmp_path):
    model = build_model(
        5, [LayerSpec(12, "relu", dropout=0.5), LayerSpec(8, "prelu", dropout=0.3)], 3, seed=2
    )
    model, x = trained(model, (5,))
    proto = check(model, x, tmp_path)
    assert "Dropout" not in {n.op_type for n in proto.graph.node}


def test_stand_alone_layers_flatten_and_no_bias(tmp_path):
    model = Sequential(
        [
            Flatten(input_shape=(3, 4)),
            Dense(9, use_bias=False),
            Activation("tanh"),
            PReLU(),
            Maxout(5, pieces=4),
            Dropout(0.2),
            Dense(3, activation="softmax"),
        ],
        seed=3,
    )
    model, x = trained(model, (3, 4))
    check(model, x, tmp_path)


def test_float64_model_and_sigmoid_output(tmp_path):
    model = build_model(4, [LayerSpec(6, "tanh")], 2, seed=4, dtype="float64")
    model, x = trained(model, (4,), classes=2)
    check(model, x, tmp_path)
    single = Sequential(
        [Dense(5, activation="relu", input_dim=4), Dense(1, activation="sigmoid")], seed=5
    )
    single, x = trained(single, (4,), classes=1, loss="binary_crossentropy")
    check(single, x, tmp_path)


def test_dynamic_batch_and_class_names(tmp_path):
    model = build_model(3, [LayerSpec(4, "relu")], 3, seed=6)
    model.class_names = ("a", "b,c", "d")
    path = export_onnx(model, tmp_path / "m.onnx")
    proto = onnx.load(str(path))
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and dims[1].dim_value == 3
    assert json.loads({p.key: p.value for p in proto.metadata_props}["class_names"]) == [
        "a",
        "b,c",
        "d",
    ]
    for n in (1, 7, 100):
        x = np.random.default_rng(n).normal(size=(n, 3)).astype(np.float32)
        np.testing.assert_allclose(run_onnx(path, x), model.predict(x), atol=1e-5)


def test_loaded_model_file_exports(tmp_path):
    from guinn.io.model_file import load_model

    model = build_model(6, [LayerSpec(8, "maxout", pieces=2), LayerSpec(5, "prelu")], 3, seed=7)
    model, x = trained(model, (6,))
    model.save(tmp_path / "m.safetensors")
    check(load_model(tmp_path / "m.safetensors"), x, tmp_path)


def test_missing_onnx_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    model = build_model(3, [LayerSpec(4, "relu")], 2, seed=8)
    with pytest.raises(GuinnError, match=r"pip install onnx onnxruntime"):
        to_onnx(model)


def test_an_export_name_must_end_in_onnx(tmp_path):
    """Exporting onto the model's own .safetensors file used to replace the trained model."""
    model = build_model(3, [LayerSpec(4, "relu")], 3, seed=6)
    saved = tmp_path / "m.safetensors"
    model.save(saved)
    before = saved.read_bytes()
    for name in ("m.safetensors", "m.txt", "m"):
        with pytest.raises(ModelFileError, match=r"ends in \.onnx.*use e\.g\. m\.onnx"):
            export_onnx(model, tmp_path / name)
    assert saved.read_bytes() == before
    assert export_onnx(model, tmp_path / "M.ONNX").exists()


def test_a_csv_models_feature_scaling_is_inside_the_graph(tmp_path):
    """A model trained on a CSV file learnt standardized features; its file stores the scaling,
    and the ONNX graph now applies it, so raw feature values go in (they gave chance-level
    answers before, with nothing to say why)."""
    model = build_model(2, [LayerSpec(6, "tanh")], 2, seed=3)
    mean, std = np.array([170.0, 70.0]), np.array([10.0, 12.0])
    model.preprocessing = {"standardizer": {"mean": mean.tolist(), "std": std.tolist()}, "feature_names": ["h", "w"]}
    raw = np.array([[150.0, 50.0], [190.0, 95.0], [171.0, 69.0]])
    got = run_onnx(export_onnx(model, tmp_path / "csv.onnx"), raw.astype(np.float32))
    np.testing.assert_allclose(got, model.predict((raw - mean) / std), atol=1e-5)
    model.preprocessing = {"standardizer": {"mean": [0.0], "std": [1.0]}}
    with pytest.raises(GuinnError, match="scales 1 features, but the model takes input of shape"):
        export_onnx(model, tmp_path / "bad.onnx")


def test_exporting_to_a_folder_asks_for_a_file_name(tmp_path):
    model = build_model(2, [LayerSpec(3, "relu")], 2, seed=0)
    with pytest.raises(GuinnError, match="it is a folder; give a file name such as .*sequential.onnx"):
        export_onnx(model, tmp_path)


@pytest.mark.parametrize("mean, std", [([1e39, 0.0], [1.0, 1.0]), ([0.0, 0.0], [1.0, 1e-50])])
def test_feature_scaling_beyond_float32_is_refused(tmp_path, mean, std):
    model = build_model(2, [LayerSpec(3, "relu")], 2, seed=0)
    with pytest.raises(GuinnError, match="does not fit ONNX's float32"):
        export_onnx(model, tmp_path / "x.onnx", preprocessing={"standardizer": {"mean": mean, "std": std}})
    assert not (tmp_path / "x.onnx").exists()


def test_names_that_are_not_valid_unicode_are_refused_when_given():
    """A lone surrogate in a name saved a model file that could not be read back and stopped
    ONNX export with a UnicodeEncodeError."""
    from guinn.layers import Dense
    from guinn.models import Sequential

    with pytest.raises(GuinnError, match="A layer name must be valid Unicode text"):
        Dense(3, name="d\udcff")
    with pytest.raises(GuinnError, match="A model name must be a non-empty string"):
        Sequential(name=5)
    with pytest.raises(GuinnError, match="A model name must be valid Unicode text"):
        Sequential(name="m\ud800")
