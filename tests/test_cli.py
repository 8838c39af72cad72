"""The ``guinn`` command line: each subcommand end to end, and one-line errors for bad input."""

import json
import subprocess
import sys
import types

import numpy as np
import pytest

from guinn import cli
from guinn.cli import main
from guinn.core.specs import LayerSpec
from guinn.data.digits import preprocess_digit
from guinn.experiment import Experiment
from guinn.io.model_file import load_model, save_model


def write_experiment(path, **changes):
    settings = dict(
        title="tiny blobs",
        dataset={"kind": "toy", "name": "blobs", "n_samples": 240},
        layers=(LayerSpec(8, "relu"),),
        epochs=3,
        batch_size=16,
        validation_split=0.1,
        seed=5,
    )
    settings.update(changes)
    Experiment(**settings).save(path)
    return path


@pytest.fixture(scope="module")
def toy_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    exp = write_experiment(folder / "blobs.json")
    out = folder / "blobs.safetensors"
    assert main(["train", str(exp), "--out", str(out), "--quiet"]) == 0
    return out


@pytest.fixture(scope="module")
def digit_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("digits")
    exp = write_experiment(
        folder / "digits.json",
        dataset={"kind": "mnist", "limit": 600, "test_limit": 100},
        layers=(LayerSpec(16, "relu"),),
        epochs=1,
        batch_size=50,
    )
    out = folder / "digits.safetensors"
    assert main(["train", str(exp), "--out", str(out), "--quiet"]) == 0
    return out


def one_line_error(capsys, code, expected):
    assert code == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("guinn: error:") and expected in lines[0], err
    assert "Traceback" not in err


def test_train_shows_progress_and_saves(tmp_path, capsys, monkeypatch):
    exp = write_experiment(tmp_path / "my_run.json")
    monkeypatch.chdir(tmp_path)
    assert main(["train", str(exp), "--epochs", "2"]) == 0
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "loss:" in out and "val_accuracy:" in out
    assert "[" + "=" * 30 + "]" in out  # the progress bar
    assert "test accuracy" in out and "Saved my_run.safetensors" in out
    model = load_model(tmp_path / "my_run.safetensors")  # default name: the experiment's
    assert model.class_names == ("0", "1", "2")
    assert model.experiment_config["epochs"] == 2
    assert model.dataset_name == "blobs (toy)"
    assert len(model.history.epoch) == 2


def test_train_checks_the_output_name_before_training(tmp_path, capsys, monkeypatch):
    exp = write_experiment(tmp_path / "run.json")
    ran = []
    monkeypatch.setattr(Experiment, "run", lambda *a, **k: ran.append(1))
    one_line_error(capsys, main(["train", str(exp), "--out", str(tmp_path / "m.h5")]),
                   f"save as {tmp_path / 'm.safetensors'}.")
    assert ran == []  # refused before any training, not after it
    monkeypatch.undo()
    assert main(["train", str(exp), "--out", str(tmp_path / "bare"), "--quiet"]) == 0
    assert (tmp_path / "bare.safetensors").exists()  # a bare name gets the suffix load_model looks for


def test_training_warnings_are_one_cli_line(tmp_path, capsys):
    from guinn.experiment import EarlyStoppingSpec

    exp = write_experiment(tmp_path / "es.json", validation_split=0.0, early_stopping=EarlyStoppingSpec(enabled=True))
    assert main(["train", str(exp), "--out", str(tmp_path / "es.safetensors"), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("guinn: warning: EarlyStopping: metric 'val_loss' is not available")
    assert "TrainingWarning" not in err and "callbacks.py" not in err  # not Python's raw warning


@pytest.mark.parametrize("out", [".", "..", "folder", "folder/", "new/"])
def test_train_refuses_a_folder_for_the_model(tmp_path, capsys, monkeypatch, out):
    exp = write_experiment(tmp_path / "run.json")
    (tmp_path / "folder").mkdir()
    monkeypatch.chdir(tmp_path)
    one_line_error(capsys, main(["train", str(exp), "--out", out]), "folder")


def test_a_non_finite_stop_is_a_warning_on_stderr_with_or_without_quiet(tmp_path, capsys):
    exp = write_experiment(tmp_path / "wild.json", optimizer={"name": "sgd", "learning_rate": 1e30})
    for quiet in ([], ["--quiet"]):
        assert main(["train", str(exp), "--out", str(tmp_path / "wild.safetensors"), *quiet]) == 0
        err = capsys.readouterr().err
        assert err.count("guinn: warning: Training stopped") == 1, err


def test_same_experiment_same_model(tmp_path, toy_model):
    exp = write_experiment(tmp_path / "again.json")
    out = tmp_path / "again.safetensors"
    assert main(["train", str(exp), "--out", str(out), "--quiet"]) == 0
    a, b = load_model(toy_model), load_model(out)
    assert all(np.array_equal(p, q) for p, q in zip(a.get_weights(), b.get_weights(), strict=True))


def test_evaluate_defaults_to_the_training_dataset(toy_model, capsys):
    assert main(["evaluate", str(toy_model)]) == 0
    out = capsys.readouterr().out
    assert "test accuracy:" in out and "blobs (toy)" in out and "48 test samples" in out


def test_evaluate_with_dataset_option(toy_model, capsys):
    assert main(["evaluate", str(toy_model), "--dataset", "toy:spiral"]) == 0
    assert "spiral (toy)" in capsys.readouterr().out
    spec = json.dumps({"kind": "toy", "name": "blobs", "n_samples": 100})
    assert main(["evaluate", str(toy_model), "--dataset", spec]) == 0
    one_line_error(
        capsys, main(["evaluate", str(toy_model), "--dataset", "toy:moons"]), "2 classes"
    )
    one_line_error(capsys, main(["evaluate", str(toy_model), "--dataset", "mnist"]), "784 features")
    one_line_error(
        capsys, main(["evaluate", str(toy_model), "--dataset", "cifar"]), "not understood"
    )
    one_line_error(capsys, main(["evaluate", str(toy_model), "--dataset", "toy:nope"]), "nope")


def test_evaluate_needs_a_dataset_when_the_model_has_none(tmp_path, toy_model, capsys):
    bare = tmp_path / "bare.safetensors"
    model = load_model(toy_model)
    model.experiment_config = None
    save_model(model, bare)
    one_line_error(capsys, main(["evaluate", str(bare)]), "pass --dataset")


def test_evaluate_an_api_model_trained_on_integer_labels(tmp_path, capsys):
    from guinn.data.catalog import load_dataset
    from guinn.layers import Dense
    from guinn.models import Sequential

    data = load_dataset({"kind": "toy", "name": "blobs", "n_samples": 120})
    model = Sequential([Dense(8, activation="relu", input_shape=(data.input_dim,)), Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(data.x_train, data.y_train, epochs=2, batch_size=16, verbose=0)
    path = tmp_path / "sparse.safetensors"
    model.save(path)
    assert main(["evaluate", str(path), "--dataset", "toy:blobs"]) == 0
    out = capsys.readouterr().out
    assert "test accuracy:" in out and "loss" in out


def test_parse_dataset():
    assert cli.parse_dataset("mnist") == {"kind": "mnist"}
    assert cli.parse_dataset("csv:C:/data/iris.csv:species") == {
        "kind": "csv",
        "path": "C:/data/iris.csv",
        "label_column": "species",
    }
    assert cli.parse_dataset("idx:a:b:c:d") == {
        "kind": "idx",
        "train_images": "a",
        "train_labels": "b",
        "test_images": "c",
        "test_labels": "d",
    }


def save_png(path, pixels):
    """Write an (H, W) or (H, W, 4) uint8 array as an image file through Qt."""
    from PySide6.QtGui import QImage

    pixels = np.ascontiguousarray(pixels)
    h, w = pixels.shape[:2]
    fmt = QImage.Format.Format_Grayscale8 if pixels.ndim == 2 else QImage.Format.Format_RGBA8888
    image = QImage(pixels.data, w, h, pixels.strides[0], fmt).copy()
    assert image.save(str(path))
    return path


@pytest.fixture(scope="module")
def digits():
    from guinn.datasets import mnist

    (_, _), (x, y) = mnist.load_data()
    return x[:3], y[:3]


def test_predict_matches_the_drawing_pad_path(tmp_path, digit_model, digits, capsys):
    images, _ = digits
    files = []
    for i, img in enumerate(images):
        big = np.kron(img, np.ones((3, 3), np.uint8))  # an 84x84 photo of the digit
        files.append(str(save_png(tmp_path / f"light_on_dark_{i}.png", big)))
        files.append(str(save_png(tmp_path / f"dark_on_light_{i}.png", 255 - big)))
    assert main(["predict", str(digit_model), *files, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["file"] for r in rows] == files
    model = load_model(digit_model)
    for i, img in enumerate(images):
        expected = model.predict(
            preprocess_digit(np.kron(img, np.ones((3, 3), np.uint8))).reshape(1, 784)
        )[0]
        for row in rows[2 * i : 2 * i + 2]:  # both polarities: the same digit
            assert set(row) == {"file", "class", "probabilities"}
            probs = np.array(row["probabilities"])
            assert len(probs) == 10 and isinstance(row["class"], int)
            np.testing.assert_allclose(probs, expected, rtol=1e-6, atol=1e-7)
            assert row["class"] == int(np.argmax(expected))
    assert main(["predict", str(digit_model), files[0]]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"{files[0]}: class {rows[0]['class']} (p=")


def test_predict_reads_jpeg_and_transparent_png(tmp_path, digit_model, digits, capsys):
    img = np.kron(digits[0][0], np.ones((2, 2), np.uint8))
    from PySide6.QtGui import QImage

    grey = save_png(tmp_path / "d.png", 255 - img)
    jpeg = tmp_path / "d.jpg"
    assert QImage(str(grey)).save(str(jpeg), quality=95)
    rgba = np.zeros(img.shape + (4,), np.uint8)
    rgba[..., 3] = img  # black ink whose opacity is the digit, on a transparent page
    png = save_png(tmp_path / "transparent.png", rgba)
    assert main(["predict", str(digit_model), str(jpeg), str(png), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["class"] == rows[1]["class"]


def test_predict_errors(tmp_path, digit_model, toy_model, capsys):
    blank = save_png(tmp_path / "blank.png", np.full((40, 40), 255, np.uint8))
    one_line_error(capsys, main(["predict", str(digit_model), str(blank)]), "image has no ink")
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    one_line_error(capsys, main(["predict", str(digit_model), str(text)]), "Cannot read image")
    one_line_error(
        capsys, main(["predict", str(digit_model), str(tmp_path / "missing.png")]), "missing.png"
    )
    one_line_error(capsys, main(["predict", str(toy_model), str(blank)]), "28x28")


def test_predict_answers_for_the_readable_images_and_reports_the_rest(tmp_path, digit_model, digits, capsys):
    good = save_png(tmp_path / "good.png", np.kron(digits[0][0], np.ones((2, 2), np.uint8)))
    blank = save_png(tmp_path / "blank.png", np.full((40, 40), 255, np.uint8))
    assert main(["predict", str(digit_model), str(blank), str(good), "--json"]) == 2
    captured = capsys.readouterr()
    assert [r["file"] for r in json.loads(captured.out)] == [str(good)]
    assert captured.err.strip() == f"guinn: error: {blank}: image has no ink (it is blank or one flat colour)."
    assert main(["predict", str(digit_model), str(blank), str(tmp_path / "missing.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("guinn: error:") == 1 and "none of the 2 images" in err and "missing.png" in err


def test_export_and_info(tmp_path, toy_model, capsys):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    out = tmp_path / "m.onnx"
    assert main(["export", str(toy_model), str(out)]) == 0
    assert "opset 17" in capsys.readouterr().out
    model = load_model(toy_model)
    x = np.random.default_rng(0).normal(size=(5, 2)).astype(np.float32)
    got = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"]).run(
        None, {"input": x}
    )[0]
    np.testing.assert_allclose(got, model.predict(x), atol=1e-5)
    assert main(["info", str(toy_model)]) == 0
    info = capsys.readouterr().out
    for expected in (
        "format version 2",
        "Total params",
        "Classes (3): 0, 1, 2",
        "optimizer: adam",
        "Training history: 3 epoch(s)",
        "Experiment: tiny blobs",
        "seed 5",
    ):
        assert expected in info


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["info", "nowhere.safetensors"], "Cannot read model file"),
        (["train", "nowhere.json"], "Cannot read experiment file"),
        (["frobnicate"], "invalid choice"),
        (["predict"], "required"),
        (["train", "x.json", "--epochs", "many"], "invalid int value"),
    ],
)
def test_bad_input_is_one_line(argv, expected, capsys):
    one_line_error(capsys, main(argv), expected)


def test_bad_files_are_one_line(tmp_path, capsys):
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}")
    for command in ("info", "evaluate", "export"):
        argv = [command, str(junk)] + ([str(tmp_path / "o.onnx")] if command == "export" else [])
        one_line_error(capsys, main(argv), "not valid JSON")
    exp = tmp_path / "bad.json"
    exp.write_text('{"epochs": 0}')
    one_line_error(capsys, main(["train", str(exp)]), "epochs must be")


def test_help_everywhere(capsys):
    for argv in (["--help"], *([c, "--help"] for c in cli.COMMANDS)):
        assert main(argv) == 0
        assert "usage: guinn" in capsys.readouterr().out


def test_no_arguments_opens_the_app(monkeypatch):
    calls = []
    fake = types.ModuleType("guinn.gui.app")
    fake.main = lambda files: calls.append(("app", files)) or 0
    monkeypatch.setitem(sys.modules, "guinn.gui.app", fake)
    assert main([]) == 0 and calls == [("app", [])]


def test_keyboard_interrupt_exits_130(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setitem(cli.COMMANDS, "info", interrupted)
    assert main(["info", "x"]) == 130
    assert "interrupted" in capsys.readouterr().err


def test_module_entry_point_and_no_qt_outside_predict(toy_model):
    result = subprocess.run(
        [sys.executable, "-m", "guinn.cli", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and "train" in result.stdout and "predict" in result.stdout
    code = (
        "import sys; from guinn.cli import main; rc = main(['info', sys.argv[1]]); "
        "assert not [m for m in sys.modules if m.startswith('PySide6')], 'Qt imported'; "
        "sys.exit(rc)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(toy_model)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    result = subprocess.run(
        [sys.executable, "-m", "guinn.cli", "info", "missing.safetensors"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (
        result.returncode == 2
        and result.stderr.count("\n") == 1
        and "Traceback" not in result.stderr
    )


def test_csv_experiment_keeps_its_scaling_and_labels(tmp_path, capsys):
    rng = np.random.default_rng(0)
    rows = ["height,weight,kind"]
    for i in range(120):
        kind = ["cat", "dog"][i % 2]
        height = 20 + 10 * (i % 2) + rng.normal()
        weight = 4000 + 8000 * (i % 2) + 100 * rng.normal()
        rows.append(f"{height:.3f},{weight:.1f},{kind}")
    csv_path = tmp_path / "pets.csv"
    csv_path.write_text("\n".join(rows) + "\n")
    exp = write_experiment(
        tmp_path / "pets.json",
        dataset={"kind": "csv", "path": str(csv_path), "label_column": "kind"},
    )
    out = tmp_path / "pets.safetensors"
    assert main(["train", str(exp), "--out", str(out), "--quiet"]) == 0
    model = load_model(out)
    assert model.class_names == ("cat", "dog")
    assert model.preprocessing["feature_names"] == ["height", "weight"]
    assert "standardizer" in model.preprocessing
    capsys.readouterr()
    assert main(["evaluate", str(out)]) == 0
    assert "test accuracy: 100.00%" in capsys.readouterr().out
    assert main(["evaluate", str(out), "--dataset", f"csv:{csv_path}:kind"]) == 0


def test_predict_with_an_image_shaped_input(tmp_path, digits, capsys):
    from guinn.layers import Dense, Flatten
    from guinn.models import Sequential

    model = Sequential([Flatten(input_shape=(28, 28)), Dense(10, activation="softmax")], seed=0)
    path = tmp_path / "flat.safetensors"
    model.save(path)
    image = save_png(tmp_path / "d.png", digits[0][1])
    assert main(["predict", str(path), str(image), "--json"]) == 0
    row = json.loads(capsys.readouterr().out)[0]
    expected = model.predict(preprocess_digit(digits[0][1])[None])[0]
    assert row["class"] == int(np.argmax(expected))
    assert sum(row["probabilities"]) == pytest.approx(1.0, abs=1e-5)


def test_train_accepts_preset_names(tmp_path, capsys):
    assert cli.resolve_experiment("deep_sigmoid").name == "deep_sigmoid.json"
    assert cli.resolve_experiment("deep_sigmoid").is_file()
    assert cli.resolve_experiment(str(tmp_path / "mine.json")) == tmp_path / "mine.json"
    one_line_error(capsys, main(["train", "no_such_preset"]), "presets: ")


def test_train_refuses_an_unwritable_output_before_training(tmp_path, capsys):
    out = tmp_path / "missing" / "m.safetensors"
    assert main(["train", "mnist_example", "--out", str(out)]) != 0
    err = capsys.readouterr().err
    assert err.startswith("guinn: error:") and "does not exist" in err and "Traceback" not in err


def test_a_misspelt_preset_gets_a_suggestion(capsys):
    assert main(["train", "deep_sigmod"]) != 0
    assert "Did you mean 'deep_sigmoid'?" in capsys.readouterr().err


def test_no_display_is_a_one_line_error_not_a_qt_abort(monkeypatch, capsys):
    monkeypatch.setattr("sys.platform", "linux")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("guinn: error: no display") and err.count("\n") == 1


def test_evaluate_on_another_csv_uses_the_models_columns_scaling_and_classes(tmp_path, capsys):
    """A new file with its columns in another order, other statistics and only one of the
    classes is read as the model was trained: by column name, with the stored scaling and the
    model's class numbers, on every row (the file it was trained on: its held-out rows)."""
    rng = np.random.default_rng(1)

    def accuracy(printed):
        return float(printed.split("test accuracy: ")[1].split("%")[0]) / 100

    def pets(n, kinds, path, columns=("height", "weight", "kind")):
        rows = [",".join(columns)]
        for i in range(n):
            kind = kinds[i % len(kinds)]
            values = {"height": 20 + 10 * (kind == "dog") + rng.normal(), "kind": kind,
                      "weight": 4000 + 8000 * (kind == "dog") + 100 * rng.normal(), "colour": i % 3}
            rows.append(",".join(str(values[c]) for c in columns))
        path.write_text("\n".join(rows) + "\n")
        return path

    train_csv = pets(120, ["cat", "dog"], tmp_path / "pets.csv")
    exp = write_experiment(tmp_path / "pets.json",
                           dataset={"kind": "csv", "path": str(train_csv), "label_column": "kind"})
    out = tmp_path / "pets.safetensors"
    assert main(["train", str(exp), "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(out), "--dataset", f"csv:{train_csv}:kind"]) == 0
    assert "24 test samples (the rows held out in training)" in capsys.readouterr().out
    # columns reordered, an extra column, other statistics: every row, read right
    mixed = pets(40, ["dog", "cat", "dog"], tmp_path / "mixed.csv", ("weight", "colour", "kind", "height"))
    assert main(["evaluate", str(out), "--dataset", f"csv:{mixed}:kind"]) == 0
    printed = capsys.readouterr().out
    assert "40 test samples (every row" in printed and accuracy(printed) >= 0.9
    dogs = pets(30, ["dog"], tmp_path / "dogs.csv", ("kind", "height", "weight"))  # one class: still a test
    assert main(["evaluate", str(out), "--dataset", f"csv:{dogs}:kind"]) == 0
    assert accuracy(capsys.readouterr().out) >= 0.9
    no_height = tmp_path / "no_height.csv"
    no_height.write_text("weight,kind\n4000,cat\n12000,dog\n")
    one_line_error(capsys, main(["evaluate", str(out), "--dataset", f"csv:{no_height}:kind"]),
                   "lacks the feature column(s) 'height'; expected the columns 'height', 'weight' (the model's)")
    cow = tmp_path / "cow.csv"
    cow.write_text("height,weight,kind\n150,600000,cow\n20,4000,cat\n")
    one_line_error(capsys, main(["evaluate", str(out), "--dataset", f"csv:{cow}:kind"]),
                   "'cow' in column 'kind' that the model does not know; its classes are cat, dog")


def test_evaluate_knows_the_training_csv_by_its_content_and_matches_numeric_labels(tmp_path, capsys,
                                                                                     monkeypatch):
    rng = np.random.default_rng(2)
    rows = ["size,cls"] + [f"{1 + 4 * (i % 2) + rng.normal():.4f},{1 + i % 2}" for i in range(100)]
    (tmp_path / "points.csv").write_text("\n".join(rows) + "\n")
    exp = write_experiment(tmp_path / "points.json",
                           dataset={"kind": "csv", "path": "points.csv", "label_column": "cls"})
    monkeypatch.chdir(tmp_path)  # trained with a relative path ...
    assert main(["train", str(exp), "--out", "points.safetensors", "--quiet"]) == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # ... and evaluated from another folder: still its held-out rows
    capsys.readouterr()
    model = str(tmp_path / "points.safetensors")
    assert main(["evaluate", model, "--dataset", f"csv:{tmp_path / 'points.csv'}:cls"]) == 0
    assert "20 test samples (the rows held out in training)" in capsys.readouterr().out
    # new data, its labels as floats ('1.0') and a text column: every row, classes by number
    floats = ["name,size,cls"] + [f"row{i},{1 + 4 * (i % 2) + rng.normal():.4f},{1 + i % 2}.0" for i in range(100)]
    (elsewhere / "floats.csv").write_text("\n".join(floats) + "\n")
    assert main(["evaluate", model, "--dataset", "csv:floats.csv:cls"]) == 0
    printed = capsys.readouterr().out
    assert "100 test samples (every row: not the file the model was trained on)" in printed
    assert float(printed.split("test accuracy: ")[1].split("%")[0]) >= 90


def test_predict_and_evaluate_say_what_is_wrong_with_models_that_cannot_answer(tmp_path, digit_model, digits, capsys):
    from guinn.io.model_file import load_model
    from guinn.layers import Dense
    from guinn.models import Sequential

    picture = save_png(tmp_path / "d.png", 255 - digits[0][0])
    regression = Sequential([Dense(8, input_dim=784, activation="relu"), Dense(1)])
    regression.compile(loss="mse", optimizer="sgd")
    regression.save(tmp_path / "reg.safetensors")
    one_line_error(capsys, main(["predict", str(tmp_path / "reg.safetensors"), str(picture)]), "is not a classifier")
    blown = load_model(digit_model)
    blown.set_weights([np.full_like(w, 1e38) for w in blown.get_weights()])
    blown.save(tmp_path / "blown.safetensors")
    one_line_error(capsys, main(["predict", str(tmp_path / "blown.safetensors"), str(picture)]), "blown up")
    assert main(["evaluate", str(tmp_path / "blown.safetensors"), "--dataset", "mnist"]) == 0
    out = capsys.readouterr().out
    assert "test loss: not a number" in out and "not compiled" not in out


def test_evaluating_on_one_idx_pair_says_only_its_held_out_part_is_used(digit_model, capsys):
    from guinn.datasets.mnist import mnist_dir

    folder = mnist_dir()
    images, labels = folder / "t10k-images-idx3-ubyte.gz", folder / "t10k-labels-idx1-ubyte.gz"
    assert main(["evaluate", str(digit_model), "--dataset", f"idx:{images}:{labels}"]) == 0
    out = capsys.readouterr().out
    assert "2,000 test samples (the 20% of the pair held out for testing" in out
    assert main(["evaluate", str(digit_model), "--dataset", f"idx:{images}:{labels}:{images}:{labels}"]) == 0
    out = capsys.readouterr().out
    assert "10,000 test samples" in out and "held out" not in out


def test_control_characters_from_a_file_are_printed_escaped(tmp_path, capsys):
    """A model file's names could clear the terminal or move its cursor (ESC sequences)."""
    from guinn.core.layers import Dense
    from guinn.core.model import Sequential

    model = Sequential([Dense(3, activation="softmax", input_dim=2, name="out\x1b[2J\x07")], name="m\x9b31m")
    path = tmp_path / "m.safetensors"
    model.save(path)
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out
    assert "out\\x1b[2J\\x07" in out and "\n" in out


def test_an_empty_out_is_refused_not_taken_as_the_default(tmp_path, capsys):
    exp = tmp_path / "e.json"
    Experiment(dataset={"kind": "toy", "name": "blobs", "n_samples": 60}, layers=(LayerSpec(4, "relu"),),
               epochs=1).save(exp)
    assert main(["train", str(exp), "--out", "", "--quiet"]) != 0
    assert "--out needs a file name" in capsys.readouterr().err and not (tmp_path / "e.safetensors").exists()


def test_train_help_lists_the_presets(capsys):
    assert main(["train", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "deep_sigmoid, deep_relu" in text and "optimizer_adam" in text


def test_a_model_or_experiment_file_alone_opens_the_app_with_it(monkeypatch, capsys):
    """`guinn l1model.safetensors` said 'invalid choice'; the app takes such files."""
    import guinn.gui.app

    opened = []
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    monkeypatch.setattr(guinn.gui.app, "main", lambda files=None: opened.append(files) or 0)
    assert main(["l1model.safetensors"]) == 0 and main(["Lesson.JSON"]) == 0
    assert opened == [["l1model.safetensors"], ["Lesson.JSON"]]
    assert main(["notes.txt"]) != 0  # anything else is still a command line mistake
    assert "invalid choice" in capsys.readouterr().err
