"""Hostile or odd input found by fuzzing: each gives a one-line guinn error, promptly and in
bounded memory -- never a raw traceback, a hang or gigabytes for a tiny file."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from guinn.callbacks import EarlyStopping, ReduceLROnPlateau
from guinn.cli import main, parse_dataset
from guinn.core import initializers, regularizers
from guinn.data import catalog, idx, toy
from guinn.data.csv_data import MAX_COLUMNS, Standardizer, load_csv
from guinn.errors import DataError, GuinnError, ModelFileError
from guinn.experiment import Experiment
from guinn.io import images, onnx_export
from guinn.layers import Dense
from guinn.models import Sequential
from guinn.optimizers import SGD, Adam
from tests.test_cli import digits, one_line_error, save_png  # noqa: F401 - fixtures

NOT_TEXT = [
    ({"kind": []}, "Unknown dataset kind"),
    ({"kind": "toy", "name": {}}, "option 'name' must be text"),
    ({"kind": "csv", "path": "p.csv", "label_column": "label", "seed": -1}, "option 'seed' must be a whole number"),
    ({"kind": "csv", "path": "p.csv", "label_column": "label", "seed": 1.5}, "option 'seed' must be a whole number"),
    ({"kind": "idx", "train_images": 1, "train_labels": 2}, "option 'train_images' must be text"),
    ({"kind": "csv", "path": "\0x", "label_column": "label"}, "contains a NUL character"),
]


@pytest.mark.parametrize(("spec", "message"), NOT_TEXT)
def test_dataset_options_of_the_wrong_type_are_named(spec, message):
    with pytest.raises(GuinnError, match=message):
        catalog.load_dataset(spec)


def test_json_the_parser_cannot_hold_is_an_error(tmp_path, capsys):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ModelFileError, match="not usable JSON"):
        Experiment.load(deep)
    big = tmp_path / "big.json"
    big.write_text('{"epochs": ' + "1" * 5000 + "}")
    with pytest.raises(ModelFileError, match=r"not valid JSON \(whole number 1+\.\.\. \(5,000 digits\) is too large"):
        Experiment.load(big)
    with pytest.raises(DataError, match="--dataset is not usable JSON"):
        parse_dataset('{"a":' * 5000 + "1" + "}" * 5000)
    one_line_error(capsys, main(["train", str(deep)]), "not usable JSON")


def test_predict_with_unicode_digit_class_names(tmp_path, digits, capsys):  # noqa: F811
    model = Sequential([Dense(10, activation="softmax", input_dim=784)], seed=0)
    model.compile("adam", "categorical_crossentropy")
    path = tmp_path / "m.safetensors"
    names = ["⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"]  # str.isdigit() is True, int() fails
    model.save(path, class_names=names)
    picture = save_png(tmp_path / "d.png", digits[0][0])
    assert main(["predict", str(path), str(picture), "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["class"] in names


def test_onnx_export_refuses_a_model_beyond_protobufs_limit(monkeypatch):
    pytest.importorskip("onnx")
    model = Sequential([Dense(10, input_dim=100)])
    monkeypatch.setattr(onnx_export, "MAX_ONNX_BYTES", 4 * 1000)  # 1,010 parameters are 4,040 bytes
    with pytest.raises(GuinnError, match="1,010 parameters .* more than one ONNX file holds"):
        onnx_export.to_onnx(model)


def test_vector_and_tiff_pictures_are_refused(tmp_path):
    svg = tmp_path / "many.svg"
    circles = "".join(f'<circle cx="4000" cy="4000" r="{3999 - i}" fill-opacity="0.1"/>' for i in range(200))
    svg.write_text(f'<svg xmlns="http://www.w3.org/2000/svg" width="8000" height="8000">{circles}</svg>')
    with pytest.raises(DataError, match="is SVG; pictures must be BMP, GIF, JPEG"):
        images.read_image(svg)
    from PySide6.QtGui import QImage

    tiff = tmp_path / "scan.tif"
    picture = QImage(8, 8, QImage.Format.Format_Grayscale8)
    picture.fill(0)
    if not picture.save(str(tiff), "TIFF"):
        pytest.skip("this Qt has no TIFF writer")
    with pytest.raises(DataError, match="is TIFF; pictures must be"):
        images.read_image(tiff)


def test_large_pictures_are_scaled_down_before_numpy_sees_them(tmp_path, digits):  # noqa: F811
    big = np.kron(digits[0][0], np.ones((100, 100), np.uint8))  # a 2800x2800 photo of a digit
    path = save_png(tmp_path / "big.png", big)
    pixels = images.read_image(path)
    assert pixels.shape == (images.WORKING_SIDE, images.WORKING_SIDE, 4)
    small = images.digit_from_image(save_png(tmp_path / "small.png", np.kron(digits[0][0], np.ones((4, 4), np.uint8))))
    assert np.abs(images.digit_from_image(path) - small).mean() < 0.05  # the same digit either way


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_pipes_are_refused_not_read_forever(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match="not a regular file"):
        load_csv(fifo, "label")
    with pytest.raises(DataError, match="not a regular file"):
        idx.read_idx(fifo)


def test_an_idx_bomb_is_refused_before_it_is_inflated(tmp_path, monkeypatch):
    import gzip
    import struct

    path = tmp_path / "bomb-images.gz"
    with gzip.open(path, "wb") as f:  # claims 2 x 300 x 300 pixels
        f.write(struct.pack(">HBB3I", 0, 0x08, 3, 2, 300, 300) + bytes(2 * 300 * 300))
    labels = tmp_path / "bomb-labels.gz"
    with gzip.open(labels, "wb") as f:
        f.write(struct.pack(">HBBI", 0, 0x08, 1, 2) + bytes(2))
    monkeypatch.setattr(idx, "MAX_IMAGE_BYTES", 100_000)
    with pytest.raises(DataError, match=r"declares shape \(2, 300, 300\) .*expected at most 100000 bytes"):
        idx.load_idx_pair(path, labels)


def test_csv_header_checks_stay_linear_and_bounded(tmp_path, monkeypatch):
    wide = tmp_path / "wide.csv"
    names = [f"c{i}" for i in range(50_000)]
    wide.write_text(",".join([*names, "c7"]) + "\n" + ",".join(["1"] * 50_001) + "\n")
    with pytest.raises(DataError, match="'c7' appears more than once"):
        load_csv(wide, "label")  # a quadratic check took minutes at this width
    assert MAX_COLUMNS >= 10_000
    monkeypatch.setattr("guinn.data.csv_data.MAX_COLUMNS", 1000)
    with pytest.raises(DataError, match="50,001 columns; at most 1,000"):
        load_csv(wide, "label")


def test_numbers_too_large_to_scale_are_named():
    x = np.array([[-1e308, 0.0], [1e308, 1.0]] * 20)
    with pytest.raises(DataError, match="Feature column 1 holds numbers too large to scale"):
        Standardizer().fit(x)
    with pytest.raises(DataError, match="noise must be a number from 0 to 100"):
        toy.make_toy("spiral", noise=1e308)


def test_a_labels_file_claiming_far_more_labels_than_images_is_refused_before_reading(tmp_path):
    import gzip
    import struct

    images = tmp_path / "images.gz"
    with gzip.open(images, "wb") as f:
        f.write(struct.pack(">HBB3I", 0, 0x08, 3, 2, 2, 2) + bytes(8))
    labels = tmp_path / "labels.gz"
    with gzip.open(labels, "wb") as f:  # claims 600 million labels in a tiny file
        f.write(struct.pack(">HBBI", 0, 0x08, 1, 600_000_000) + bytes(1000))
    with pytest.raises(DataError, match=r"images.gz' has 2 images but .*labels.gz' has 600,000,000 labels; "
                                        "expected one label per image"):
        idx.load_idx_pair(images, labels)


def test_a_path_whose_status_cannot_be_read_is_left_to_the_reader(tmp_path, monkeypatch):
    from pathlib import Path

    path = tmp_path / "data.csv"
    path.write_text("a,label\n1,x\n2,y\n")

    def no_stat(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "stat", no_stat)
    assert len(load_csv(path, "label").x) == 2  # the pre-check steps aside; the reader opens the file itself


def test_messages_quote_a_huge_value_briefly():
    long = "x" * 1_000_000
    calls = [
        lambda: Standardizer.from_dict({"mean": [long], "std": [1.0]}),
        lambda: Standardizer.from_dict({"mean": [0.0], "std": [1.0], long: 1}),
        lambda: catalog.load_dataset({"kind": long}),
        lambda: catalog.load_dataset({"kind": "toy", long: 1}),
        lambda: Experiment.from_dict({"batch_size": long}),
        lambda: Experiment.from_dict({long: 1}),
        lambda: Dense(long),
        lambda: Dense(4, alpha=10**5000),  # no repr at all: Python refuses to print 5000 digits
    ]
    for i, call in enumerate(calls):
        with pytest.raises(GuinnError) as info:
            call()
        assert len(str(info.value)) < 600 and "..." in str(info.value) or "5,001 digits" in str(info.value), (
            i, str(info.value)[:300])


SURROGATES = [
    '{"title": "\\ud800"}',
    '{"description": "caf\\udce9"}',
    '{"dataset": {"kind": "csv", "path": "\\ud800", "label_column": "label"}}',
    '{"layers": [{"units": 8, "activation": "\\ud800"}]}',
    '{"dataset": {"kind": "toy", "\\udfff": 1}}',
]


@pytest.mark.parametrize("text", SURROGATES)
def test_experiment_text_that_is_not_unicode_is_refused(tmp_path, capsys, text):
    """A lone surrogate crashed `guinn train` with UnicodeEncodeError when a path was opened or
    a title printed; now the file is refused, saying why."""
    path = tmp_path / "exp.json"
    path.write_text(text)
    with pytest.raises(ModelFileError, match=r"not valid JSON \(text .* holds \\ud[89a-f]\w\w, half of a UTF-16 "
                                             r"surrogate pair"):
        Experiment.load(path)
    one_line_error(capsys, main(["train", str(path)]), "must be valid Unicode")


def test_a_dataset_option_that_is_not_unicode_is_refused():
    with pytest.raises(DataError, match=r"--dataset is not valid JSON \(text '\\ud800' holds"):
        parse_dataset('{"kind": "csv", "path": "\\ud800", "label_column": "y"}')


@pytest.mark.parametrize("text", [
    '{"optimizer": {"name": "adam", "learning_rate": 1' + "0" * 400 + "}}",
    '{"dataset": {"kind": "toy", "noise": -1' + "0" * 400 + "}}",
    '{"dataset": {"kind": "mnist", "limit": ' + str(2**128) + "}}",
])
def test_experiment_numbers_too_large_for_any_setting_are_refused(tmp_path, text):
    """10**400 raised OverflowError (float() of it) in the optimizer's and toy data's checks."""
    path = tmp_path / "exp.json"
    path.write_text(text)
    with pytest.raises(ModelFileError, match=r"whole number .* is too large: whole numbers must be below 2\*\*128"):
        Experiment.load(path)


HUGE = 10**400  # float() of it overflows


@pytest.mark.parametrize(("call", "message"), [
    (lambda: Sequential([Dense(HUGE, input_dim=3)]).build((3,)), r"hold 4e\+400 weights, more than guinn trains"),
    (lambda: Sequential([Dense(3, input_dim=HUGE)]).build(), "more than guinn trains"),
    (lambda: Adam(learning_rate=HUGE), "learning_rate must be a positive number, got a whole number of 401 digits"),
    (lambda: SGD(momentum=-HUGE), "momentum must be a number in"),
    (lambda: initializers.get({"name": "constant", "value": HUGE}), "value must be a finite number"),
    (lambda: regularizers.L1L2(l2=HUGE), "l2 must be a finite number >= 0"),
    (lambda: EarlyStopping(min_delta=HUGE), "min_delta must be a finite number"),
    (lambda: EarlyStopping(baseline=HUGE), "baseline must be a number"),
    (lambda: ReduceLROnPlateau(min_lr=HUGE), "min_lr must be a number >= 0"),
    (lambda: toy.make_toy("spiral", noise=HUGE), "noise must be a number from 0 to 100"),
])
def test_ints_too_large_for_a_float_are_out_of_range_not_an_overflow(call, message):
    """The shared number checks called math.isfinite or float() on 10**400: OverflowError."""
    with pytest.raises(GuinnError, match=message):
        call()


def test_a_file_name_that_is_not_utf8_is_printed_escaped(tmp_path, monkeypatch):
    """Python keeps a non-UTF-8 byte of a command-line file name as a lone surrogate; a strict
    UTF-8 stdout (the usual locale) raised UnicodeEncodeError printing it."""
    import io

    model = Sequential([Dense(2, activation="softmax", input_dim=3)], seed=0)
    model.compile("adam", "categorical_crossentropy")
    path = tmp_path / "caf\udce9.safetensors"  # the file name's bytes end in 0xE9, Latin-1 for 'é'
    model.save(path)
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
    monkeypatch.setattr("sys.stdout", out)
    assert main(["info", str(path)]) == 0
    out.seek(0)
    assert "caf\\udce9.safetensors: guinn model file" in out.read()


def test_switches_in_layers_and_optimizers_must_be_true_or_false():
    """bool("false") is True: a JSON "false" gave a layer a bias, an optimizer Nesterov steps."""
    from guinn.models import model_from_json

    data = json.loads(Sequential([Dense(2, input_dim=3)]).to_json())
    data["config"]["layers"][0]["config"]["use_bias"] = "false"
    with pytest.raises(GuinnError, match="use_bias must be true or false, got 'false'"):
        model_from_json(json.dumps(data))
    with pytest.raises(ModelFileError, match="nesterov must be true or false, got 'false'"):
        Experiment.from_dict({"optimizer": {"name": "sgd", "momentum": 0.9, "nesterov": "false"}})
    assert Dense(2, use_bias=np.False_).use_bias is False


@pytest.mark.parametrize("shape", [(1, 4096), (8192, 1), (2, 3000)])
def test_a_very_thin_picture_is_scaled_to_at_least_one_pixel(tmp_path, shape):
    """Scaled to fit 1024 px, a 4096x1 line became 1024x0: 'Cannot read image: Unknown error'."""
    line = np.full(shape, 255, np.uint8)
    line[..., : shape[-1] // 2] = 0  # ink on half of it
    pixels = images.read_image(save_png(tmp_path / "line.png", line))
    assert max(pixels.shape[:2]) == images.WORKING_SIDE and min(pixels.shape[:2]) >= 1
    images.digit_from_image(tmp_path / "line.png")  # a digit of it, or None: no error either way


def _evaluate_csv(tmp_path, mean, std):
    path = tmp_path / "points.csv"
    path.write_text("a,label\n1,x\n2,y\n")
    preprocessing = {"standardizer": {"mean": [mean], "std": [std]}, "feature_names": ["a"]}
    return catalog.csv_for_model({"kind": "csv", "path": str(path), "label_column": "label"}, preprocessing,
                                 ["x", "y"], None)


def test_a_stored_scaling_that_overflows_blames_the_model_file_not_the_data(tmp_path):
    """A stored mean of 1e308 leaked NumPy's overflow warning and then read 'x contains NaN or
    infinite values', as if the CSV file were at fault."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ModelFileError, match=r"The model's stored feature scaling cannot be used: .*mean 1e\+308"):
            _evaluate_csv(tmp_path, 1e308, 1.0)
        with pytest.raises(DataError, match=r"column 'a', scaled by the model's stored mean 1e\+30 and std 1e-30, "
                                            r"leaves float32's range"):
            _evaluate_csv(tmp_path, 1e30, 1e-30)
        assert _evaluate_csv(tmp_path, 1.5, 0.5).x_test[:, 0].tolist() == [-1.0, 1.0]


def test_paths_columns_and_cells_are_quoted_briefly(tmp_path):
    """A dataset path or label column from an experiment file, or a CSV cell, was quoted whole."""
    points = tmp_path / "points.csv"
    points.write_text("a,label\n" + "x" * 100_000 + ",y\n")
    long = "A" * 100_000
    calls = [
        lambda: load_csv(tmp_path / long, "label"),  # 'File name too long', naming the path
        lambda: load_csv(points, long),
        lambda: load_csv(points, "label"),  # the cell is no number
        lambda: idx.read_idx(tmp_path / long),
        lambda: catalog.load_dataset({"kind": "idx", "train_images": long, "train_labels": long}),
    ]
    for i, call in enumerate(calls):
        with pytest.raises(DataError) as info:
            call()
        assert len(str(info.value)) < 400 and "..." in str(info.value), (i, str(info.value)[:300])
