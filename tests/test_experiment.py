"""Experiment files: round trips, strict validation, versioning, and reproducible runs."""

import json

import numpy as np
import pytest

from guinn.core.specs import LayerSpec
from guinn.errors import GuinnError, ModelFileError
from guinn.experiment import MAX_FILE_BYTES, AugmentSpec, EarlyStoppingSpec, Experiment

TOY = {"kind": "toy", "name": "spiral", "n_samples": 150}


def custom():
    return Experiment(
        title="Spiral with dropout",
        description="Three arms; dropout keeps the net honest.",
        dataset=TOY,
        layers=(
            LayerSpec(16, "leaky_relu", alpha=0.1, dropout=0.2, l2=0.001),
            LayerSpec(8, "maxout", pieces=3),
            LayerSpec(6, "prelu", l1=0.01),
        ),
        loss="categorical_crossentropy",
        optimizer={"name": "sgd", "learning_rate": 0.05, "momentum": 0.9},
        initializer="he_normal",
        batch_size=16,
        epochs=3,
        validation_split=0.2,
        early_stopping=EarlyStoppingSpec(enabled=True, monitor="val_accuracy", patience=5),
        augment=AugmentSpec(enabled=False, max_shift=1.0),
        seed=42,
    )


def test_defaults_are_the_mnist_example():
    exp = Experiment()
    assert exp.dataset == {"kind": "mnist"}
    assert [(s.units, s.activation) for s in exp.layers] == [(500, "sigmoid"), (500, "sigmoid")]
    assert exp.optimizer["name"] == "adam"


@pytest.mark.parametrize("exp", [Experiment(), custom()])
def test_round_trip_through_file_and_dict(tmp_path, exp):
    path = tmp_path / "exp.json"
    exp.save(path)
    assert Experiment.load(path) == exp
    assert Experiment.from_dict(exp.to_dict()) == exp
    data = json.loads(path.read_text())
    assert data["format"] == "guinn-experiment" and data["version"] == 1
    assert Experiment.from_dict(json.loads(json.dumps(exp.to_dict()))).to_dict() == exp.to_dict()
    assert [p.name for p in tmp_path.iterdir()] == ["exp.json"]  # no temporary file left


def test_missing_fields_take_defaults():
    exp = Experiment.from_dict({"epochs": 2, "layers": [{"units": 4}]})
    assert (
        exp.epochs == 2
        and exp.layers == (LayerSpec(4),)
        and exp.batch_size == Experiment().batch_size
    )


def test_with_changes_validates():
    assert custom().with_changes(epochs=9).epochs == 9
    with pytest.raises(Exception, match="epochs"):
        custom().with_changes(epochs=0)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"learning_rate": 0.1}, r"Not a guinn experiment file: it has none of an experiment's fields, only "
                                 r"\['learning_rate'\] \(an experiment's are \['augment', 'batch_size'"),
        ({"epochs": 3, "learning_rate": 0.1}, r"Unknown experiment field\(s\) \['learning_rate'\]"),
        (
            {"layers": [{"units": 4, "activaton": "relu"}]},
            r"Unknown layer setting\(s\) \['activaton'\]",
        ),
        (
            {"early_stopping": {"patience": 2, "wait": 1}},
            r"Unknown early_stopping setting\(s\) \['wait'\]",
        ),
        ({"augment": {"rotate": 10}}, r"Unknown augment setting\(s\) \['rotate'\]"),
    ],
)
def test_unknown_fields_are_refused(data, message):
    with pytest.raises(ModelFileError, match=message):
        Experiment.from_dict(data)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"epochs": "3"}, "epochs"),
        ({"epochs": True}, "epochs"),
        ({"validation_split": 0.95}, "validation_split"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**40}, "seed"),
        ({"loss": "hinge"}, "loss"),
        ({"optimizer": {"name": "lbfgs"}}, "optimizer"),
        ({"optimizer": {"name": "adam", "learning_rate": -1}}, "learning_rate"),
        ({"optimizer": {"name": "adam", "momentum": 0.9}}, "Adam has no argument .momentum.*learning_rate, beta_1"),
        ({"optimizer": ["adam"]}, "optimizer must be a name .* or an object"),
        ({"initializer": "magic"}, "initializer"),
        ({"layers": [{"units": 0}]}, "units"),
        ({"layers": [{"activation": "gelu"}]}, "activation"),
        ({"layers": [{"dropout": 1.0}]}, "dropout"),
        ({"layers": [{"pieces": 1, "activation": "maxout"}]}, "pieces"),
        ({"layers": {"units": 4}}, "layers must be a list"),
        ({"layers": ["relu"]}, "layer spec must be an object"),
        ({"dataset": "mnist"}, "dataset"),
        ({"dataset": {"name": "spiral"}}, "kind"),
        ({"title": 5}, "title must be text"),
        ({"description": ["x"]}, "description must be text"),
        ({"early_stopping": {"monitor": "val_f1"}}, "early_stopping.monitor"),
        ({"early_stopping": {"patience": -1}}, "patience"),
        ({"augment": {"max_shift": 20}}, "max_shift"),
        ({"augment": []}, "augment must be an object"),
    ],
)
def test_bad_values_are_named(data, message):
    with pytest.raises(ModelFileError, match=message):
        Experiment.from_dict(data)


def test_versions_and_format():
    with pytest.raises(ModelFileError, match=r"version 2 is not supported.*update guinn"):
        Experiment.from_dict({"format": "guinn-experiment", "version": 2})
    for bad in (0, "1", None, 1.5, True):
        with pytest.raises(ModelFileError, match="version"):
            Experiment.from_dict({"version": bad})
    with pytest.raises(ModelFileError, match="Not a guinn experiment"):
        Experiment.from_dict({"format": "keras"})
    with pytest.raises(ModelFileError, match="JSON object"):
        Experiment.from_dict([1, 2])
    assert Experiment.from_dict({"format": "guinn-experiment", "version": 1}) == Experiment()


def test_file_problems(tmp_path):
    cases = {
        "broken.json": ('{"epochs": 3,', "not valid JSON"),
        "latin1.json": (b'{"title": "caf\xe9"}', "not a UTF-8"),
        "array.json": ("[]", "JSON object"),
        "nan.json": ('{"validation_split": NaN}', r"not valid JSON \(NaN is not allowed"),
        "m.safetensors": (b"\x88\x00\x00\x00\x00\x00\x00\x00{}", "a model file, not an experiment.*Open model"),
    }
    for name, (content, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        with pytest.raises(ModelFileError, match=message):
            Experiment.load(path)
    with pytest.raises(ModelFileError, match="Cannot read"):
        Experiment.load(tmp_path / "missing.json")
    big = tmp_path / "big.json"
    big.write_text(" " * (MAX_FILE_BYTES + 1))
    with pytest.raises(ModelFileError, match="at most"):
        Experiment.load(big)


def test_same_file_same_result(tmp_path):
    path = tmp_path / "exp.json"
    custom().with_changes(early_stopping=EarlyStoppingSpec()).save(path)
    runs = [Experiment.load(path).run() for _ in range(2)]
    (m1, h1, d1), (m2, h2, d2) = runs
    assert np.array_equal(d1.x_train, d2.x_train)
    assert h1.history == h2.history and len(h1.epoch) == 3
    for a, b in zip(m1.get_weights(), m2.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    # A different seed gives a different run (the seed is really used).
    m3, h3, _ = Experiment.load(path).with_changes(seed=7).run()
    assert h3.history != h1.history


def test_built_model_matches_the_description():
    exp = custom()
    from guinn.data.catalog import load_dataset

    dataset = load_dataset(exp.dataset)
    model = exp.build_model(dataset)
    names = [type(layer).__name__ for layer in model.layers]
    assert names == ["Dense", "Dropout", "Maxout", "Dense", "PReLU", "Dense"]
    assert model.output_shape == (3,) and model.input_shape == (2,)
    assert model.optimizer.to_config() == {
        "name": "sgd",
        "learning_rate": 0.05,
        "momentum": 0.9,
        "nesterov": False,
    }
    assert model.seed == 42
    assert [type(cb).__name__ for cb in exp.callbacks()] == ["EarlyStopping"]


def test_a_failed_save_says_why_and_leaves_the_old_file(tmp_path, monkeypatch):
    from guinn.io import atomic

    with pytest.raises(ModelFileError, match="does not exist"):
        Experiment().save(tmp_path / "no such folder" / "run.json")
    path = tmp_path / "run.json"
    Experiment(epochs=3).save(path)

    def full_disk(handle, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic, "_write_bytes", full_disk)
    with pytest.raises(ModelFileError, match="No space left on device.*unchanged"):
        Experiment(epochs=5).save(path)
    assert Experiment.load(path).epochs == 3 and [p.name for p in tmp_path.iterdir()] == ["run.json"]


def test_an_experiment_file_saved_with_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "notepad.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"title": "Notepad", "epochs": 2}).encode())
    assert Experiment.load(path).epochs == 2


def test_an_untitled_experiment_file_is_named_after_the_file(tmp_path):
    path = tmp_path / "my spiral run.json"
    path.write_text('{"dataset": {"kind": "toy", "name": "spiral"}, "epochs": 3}')
    assert Experiment.load(path).title == "my spiral run"
    path.write_text('{"title": "Spirals", "epochs": 3}')
    assert Experiment.load(path).title == "Spirals"


def test_layer_activations_are_read_as_the_app_writes_them():
    """An experiment file written by hand says "ReLU" or "Leaky ReLU", as the app shows them,
    and a newcomer adds the softmax output layer: both get an answer, not 'Unknown activation'."""
    from guinn.core.specs import LayerSpec
    from guinn.errors import ConfigError, GuinnError

    for written, meant in (("ReLU", "relu"), ("Leaky ReLU", "leaky_relu"), ("leaky-relu", "leaky_relu"),
                           ("PReLU", "prelu"), ("Parametric ReLU", "prelu"), (" Sigmoid ", "sigmoid")):
        assert LayerSpec(8, written).activation == meant
    exp = Experiment.from_dict({"layers": [{"units": 16, "activation": "ReLU"}]})
    assert exp.layers[0].activation == "relu" and exp.to_dict()["layers"][0]["activation"] == "relu"
    with pytest.raises(GuinnError, match="softmax is the output layer's activation, and guinn adds that layer"):
        Experiment.from_dict({"layers": [{"units": 16}, {"units": 2, "activation": "softmax"}]})
    with pytest.raises(ConfigError, match="Unknown activation 'sigmod'.*'sigmoid'"):
        LayerSpec(8, "sigmod")


def test_losses_and_optimizers_are_read_as_compile_takes_them(tmp_path):
    """An experiment file takes the names model.compile takes ("mse", "Adam", "momentum") and
    stores the canonical ones, with every hyper-parameter, so the app finds its own entries."""
    from guinn.errors import ConfigError

    exp = Experiment.from_dict({"loss": "MSE", "optimizer": {"name": "Momentum", "learning_rate": 0.01}})
    assert exp.loss == "mean_squared_error"
    assert exp.optimizer == {"name": "sgd", "learning_rate": 0.01, "momentum": 0.9, "nesterov": False}
    assert Experiment.from_dict({"optimizer": {"name": "momentum", "momentum": 0.5}}).optimizer["momentum"] == 0.5
    assert Experiment(optimizer={"name": "ADAM"}).optimizer["beta_2"] == 0.999
    assert Experiment(loss="crossentropy").loss == "categorical_crossentropy"
    assert Experiment(loss="sparse_categorical_crossentropy").loss == "categorical_crossentropy"
    with pytest.raises(ModelFileError, match="Unknown loss"):
        Experiment.from_dict({"loss": {"name": "mse"}})
    path = tmp_path / "e.json"
    exp.save(path)
    assert Experiment.load(path) == exp
    with pytest.raises(ConfigError, match="guinn has no loss 'huber'"):
        Experiment(loss="huber")
    with pytest.raises(ConfigError, match="Unknown optimizer 'nadam'.*momentum"):
        Experiment(optimizer={"name": "nadam"})
    by_name = Experiment.from_dict({"optimizer": "RMSprop"}).optimizer
    assert by_name == Experiment(optimizer={"name": "rmsprop"}).optimizer
    with pytest.raises(ConfigError, match="Unknown optimizer 'adma'.*Did you mean 'adam'"):
        Experiment(optimizer="adma")
    with pytest.raises(ConfigError, match="sparse_categorical_crossentropy"):  # it is read, so it is listed
        Experiment(loss="sparse_crossentropy")


@pytest.mark.parametrize("value", ["false", "true", None, 0, 1, 1.5, [], {}])
@pytest.mark.parametrize("where", [("early_stopping", "enabled"), ("early_stopping", "restore_best_weights"),
                                   ("augment", "enabled")])
def test_switches_must_be_true_or_false(where, value):
    """bool() read "false" as on, and null or 1.5 reached the app's check boxes (a TypeError there)."""
    section, key = where
    with pytest.raises(ModelFileError, match=rf"{section}\.{key} must be true or false, got "):
        Experiment.from_dict({section: {key: value}})


@pytest.mark.parametrize("value", ["x", "nan", None, [1], -5, 1e6])
def test_min_delta_is_checked_when_the_file_is_read(value):
    """Not only when early stopping starts training (and not at all while it is off)."""
    with pytest.raises(ModelFileError, match="early_stopping.min_delta must be a number from 0 to 1000"):
        Experiment.from_dict({"early_stopping": {"enabled": False, "min_delta": value}})


@pytest.mark.parametrize(("dataset", "message"), [
    ({"kind": "mnist", "limit": 1.5}, "'limit' must be a whole number from 1 to 2,147,483,647, got 1.5"),
    ({"kind": "mnist", "limit": 2**40}, "'limit' must be a whole number"),  # beyond the app's spin box
    ({"kind": "mnist", "test_limit": None}, "'test_limit' must be a whole number"),
    ({"kind": "toy", "n_samples": "600"}, "'n_samples' must be a whole number from 1 to 1,000,000"),
    ({"kind": "toy", "noise": "0.1"}, "'noise' must be a number, got '0.1'"),
    ({"kind": "toy", "test_fraction": [0.2]}, "'test_fraction' must be a number"),
    ({"kind": "csv", "path": "a.csv", "label_column": "y", "seed": 1.5}, "'seed' must be a whole number"),
    ({"kind": "csv", "path": 3, "label_column": "y"}, "'path' must be text"),
    ({"kind": "idx", "train_images": "a", "train_labels": "b", "limit": True}, "'limit' must be a whole number"),
    ({"kind": "csv", "path": "a.csv", "label": "y"}, r"Unknown option\(s\) \['label'\] for a csv dataset"),
    ({"kind": "CSV"}, "Unknown dataset kind 'CSV'"),
])
def test_dataset_options_are_checked_when_the_file_is_read(dataset, message):
    """Before the data is read, so the app is never handed a wrong type to show."""
    with pytest.raises(ModelFileError, match=f"Invalid experiment: .*{message}"):
        Experiment.from_dict({"dataset": dataset})


def test_the_initializer_is_a_name():
    with pytest.raises(ModelFileError, match="initializer must be a name such as 'glorot_uniform'"):
        Experiment.from_dict({"initializer": {"name": "constant", "value": 1}})


def test_data_files_beside_the_experiment_travel_with_it(tmp_path, monkeypatch):
    """An experiment and its CSV in one folder can be moved or shared and opened from anywhere:
    the path is written relative to the experiment's folder and read relative to it."""
    from guinn.data.catalog import load_dataset

    folder = tmp_path / "lesson"
    (folder / "data").mkdir(parents=True)
    csv = folder / "data" / "points.csv"
    csv.write_text("x,y,label\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(40)))
    elsewhere = tmp_path / "other.csv"
    elsewhere.write_text("a,label\n1,0\n")
    exp = Experiment(dataset={"kind": "csv", "path": str(csv), "label_column": "label"})
    exp.save(folder / "run.json")
    assert json.loads((folder / "run.json").read_text())["dataset"]["path"] == "data/points.csv"
    moved = tmp_path / "moved"
    (folder).rename(moved)
    monkeypatch.chdir(tmp_path)  # not the experiment's folder
    loaded = Experiment.load(moved / "run.json")
    assert loaded.dataset["path"] == str(moved / "data" / "points.csv")
    assert len(load_dataset(loaded.dataset).x_train) > 0
    Experiment(dataset={"kind": "csv", "path": str(elsewhere)}).save(moved / "two.json")
    assert Experiment.load(moved / "two.json").dataset["path"] == str(elsewhere)  # outside the folder: in full
    (moved / "three.json").write_text(json.dumps({"dataset": {"kind": "csv", "path": "other.csv"}}))
    assert Experiment.load(moved / "three.json").dataset["path"] == "other.csv"  # not beside it: the working folder's
    Experiment(dataset={"kind": "csv", "path": "other.csv", "label_column": "a"}).save(moved / "four.json")
    (moved / "other.csv").write_text("a,label\n2,1\n")  # a namesake beside it is not the file meant
    assert Experiment.load(moved / "four.json").dataset["path"] == str(tmp_path / "other.csv")


def test_an_experiment_with_more_hidden_layers_than_the_app_shows_is_refused(tmp_path):
    from guinn.core.specs import MAX_CARDS

    path = tmp_path / "deep.json"
    path.write_text(json.dumps({"layers": [{"units": 1, "activation": "relu"}] * (MAX_CARDS + 1)}))
    with pytest.raises(GuinnError, match=f"at most {MAX_CARDS}"):
        Experiment.load(path)


def test_a_test_part_that_leaves_too_few_training_samples_is_said_as_such():
    from guinn.data.catalog import load_dataset

    exp = Experiment(dataset={"kind": "toy", "name": "blobs", "n_samples": 60, "test_fraction": 0.999})
    with pytest.raises(GuinnError, match="leaves 1 training sample beside its test part, which a validation split"):
        exp.fit_arguments(load_dataset(exp.dataset))
