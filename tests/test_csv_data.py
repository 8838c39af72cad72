import json

import numpy as np
import pytest

from guinn.data.csv_data import CsvDataset, Standardizer, load_csv, train_test_split_indices
from guinn.errors import DataError


def csv_file(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_basic(tmp_path):
    path = csv_file(tmp_path, "a,b,species\n1,2,setosa\n3.5, 4 ,virginica\n\n-1e3,0,setosa\n")
    ds = load_csv(path, "species")
    assert isinstance(ds, CsvDataset)
    assert ds.x.dtype == np.float64 and ds.x.shape == (3, 2)
    np.testing.assert_array_equal(ds.x, [[1, 2], [3.5, 4], [-1000, 0]])
    assert ds.y.dtype == np.int64 and ds.y.tolist() == [0, 1, 0]
    assert ds.feature_names == ("a", "b")
    assert ds.class_names == ("setosa", "virginica")
    with pytest.raises(AttributeError):
        ds.x = None


def test_label_column_anywhere_and_numeric_labels_sorted_numerically(tmp_path):
    path = csv_file(tmp_path, "label;f1;f2\n10;1;2\n2;3;4\n9;5;6\n2;7;8\n")
    ds = load_csv(path, "label", delimiter=";")
    assert ds.class_names == ("2", "9", "10")
    assert ds.y.tolist() == [2, 0, 1, 0]
    assert ds.feature_names == ("f1", "f2")


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_a_semicolon_or_tab_separated_file_is_read_with_its_delimiter(tmp_path, sep):
    path = csv_file(tmp_path, sep.join(["f1", "f2", "label"]) + "\n" + sep.join(["1", "2", "a"]) + "\n"
                    + sep.join(["3", "4", "b"]) + "\n")
    ds = load_csv(path, "label")  # the default comma finds one column: the header's separator is used
    assert ds.feature_names == ("f1", "f2") and ds.x.tolist() == [[1, 2], [3, 4]]
    with pytest.raises(DataError, match="no column 'kind'"):
        load_csv(path, "kind")


def test_bom_and_quoted_cells(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes('\ufeffx,"y, label"\n1,"a, b"\n2,c\n'.encode())
    ds = load_csv(path, "y, label")
    assert ds.class_names == ("a, b", "c")


@pytest.mark.parametrize(
    "text, match",
    [
        ("", "is empty"),
        ("\n1,2\n", "line 1 is blank"),
        ("1,2,0\n3,4,1\n", "no header"),
        ("a,b,label\n", "no data rows"),
        ("a,b,label\n1,2,x\n3,4\n", "line 3 has 2 cells; expected 3"),
        ("a,b,label\n1,2,x\n3,4,y,5\n", "line 3 has 4 cells"),
        ("a,b,label\n1,2,x\n3,abc,y\n", "line 3, column 'b' holds 'abc'; expected a number; if 'b' holds the "
         "class labels, choose it as the label column"),
        ("a,b,label\n1,2,x\n3,,y\n", "line 3, column 'b' is empty"),
        ("a,b,label\n1,nan,x\n3,4,y\n", "line 2, column 'b'.*finite"),
        ("a,b,label\n1,2,x\n-inf,4,y\n", "line 3, column 'a'.*finite"),
        ("a,b,label\n1,2,x\n3,4,\n", "line 3 has an empty label"),
        ("a,b,label\n1,2,x\n3,4,x\n", "every row has label 'x'.*two classes"),
        ("label\nx\ny\n", "at least one feature column"),
        ("a,,label\n1,2,x\n3,4,y\n", "column 2 of the header has no name"),
        ("a,a,label\n1,2,x\n3,4,y\n", "more than once"),
    ],
)
def test_bad_files(tmp_path, text, match):
    with pytest.raises(DataError, match=match):
        load_csv(csv_file(tmp_path, text), "label")


def test_unknown_label_column_lists_columns_and_hint(tmp_path):
    path = csv_file(tmp_path, "sepal,petal,species\n1,2,a\n3,4,b\n")
    with pytest.raises(DataError) as info:
        load_csv(path, "specie")
    msg = str(info.value)
    assert "sepal, petal, species" in msg and "Did you mean 'species'" in msg


def test_missing_file_directory_and_bad_encoding(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_csv(tmp_path / "nope.csv", "label")
    with pytest.raises(DataError, match="directory"):
        load_csv(tmp_path, "label")
    bad = tmp_path / "latin.csv"
    bad.write_bytes(b"a,label\n1,caf\xe9\n")
    with pytest.raises(DataError, match="UTF-8"):
        load_csv(bad, "label")
    with pytest.raises(DataError, match="delimiter"):
        load_csv(csv_file(tmp_path, "a,label\n1,x\n"), "label", delimiter=",,")


def test_standardizer_fits_train_only_and_round_trips_json():
    train = np.array([[1.0, 5.0, 0.1], [3.0, 5.0, 0.3]])
    scaler = Standardizer().fit(train)
    np.testing.assert_allclose(scaler.mean, [2.0, 5.0, 0.2])
    np.testing.assert_allclose(scaler.std, [1.0, 1.0, 0.1])  # constant column -> std 1
    out = scaler.transform(train)
    np.testing.assert_allclose(out, [[-1, 0, -1], [1, 0, 1]])
    test = np.array([[5.0, 7.0, 0.2]])
    np.testing.assert_allclose(scaler.transform(test), [[3.0, 2.0, 0.0]], atol=1e-12)
    again = Standardizer.from_dict(json.loads(json.dumps(scaler.to_dict())))
    np.testing.assert_array_equal(again.transform(test), scaler.transform(test))
    assert scaler.transform(train.astype(np.float32)).dtype == np.float32


def test_standardizer_errors():
    with pytest.raises(DataError, match="not been fitted"):
        Standardizer().transform(np.zeros((2, 2)))
    with pytest.raises(DataError, match="not been fitted"):
        Standardizer().to_dict()
    scaler = Standardizer().fit(np.zeros((3, 2)))
    with pytest.raises(DataError, match="3 features.*fitted on 2"):
        scaler.transform(np.zeros((1, 3)))
    with pytest.raises(DataError, match="0 rows"):
        Standardizer().fit(np.zeros((0, 2)))
    with pytest.raises(DataError, match="NaN"):
        Standardizer().fit(np.array([[np.nan]]))
    with pytest.raises(DataError, match=r"\(rows, features\)"):
        Standardizer().fit(np.zeros(3))


@pytest.mark.parametrize(
    "data",
    [
        {"mean": [0.0]},
        {"mean": [0.0], "std": [1.0], "extra": 1},
        {"mean": [0.0], "std": [0.0]},
        {"mean": [0.0, 1.0], "std": [1.0]},
        {"mean": ["a"], "std": [1.0]},
        {"mean": [], "std": []},
        [1, 2],
        {"mean": [1e308], "std": [1.0]},  # every scaled value overflows float32 (and 1e308 - x, float64)
        {"mean": [0.0], "std": [1e301]},
        {"mean": [10**400], "std": [1.0]},  # float() of it overflows
        {"mean": [True], "std": [1.0]},
    ],
)
def test_standardizer_from_bad_dict(data):
    with pytest.raises(DataError):
        Standardizer.from_dict(data)


def test_a_stored_standardizer_says_what_it_must_hold():
    with pytest.raises(DataError, match=r"feature 2 has mean -1e\+308 and std 1; means must be within ±1e\+300 and "
                                        r"stds above 0 and at most 1e\+300"):
        Standardizer.from_dict({"mean": [0.0, -1e308], "std": [1.0, 1.0]})
    with pytest.raises(DataError, match="Feature column 1 holds numbers too large to scale"):
        Standardizer().fit(np.array([[1e301], [1e301]]))  # fit makes nothing from_dict refuses


def test_split_indices():
    train, test = train_test_split_indices(10, 0.3, seed=1)
    assert len(test) == 3 and len(train) == 7
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(10))
    assert np.all(np.diff(train) > 0)
    again = train_test_split_indices(10, 0.3, seed=1)
    np.testing.assert_array_equal(again[1], test)
    other = train_test_split_indices(100, 0.3, seed=2)[1]
    assert not np.array_equal(train_test_split_indices(100, 0.3, seed=1)[1], other)
    assert [len(s) for s in train_test_split_indices(2, 0.01, 0)] == [1, 1]
    assert [len(s) for s in train_test_split_indices(3, 0.99, 0)] == [1, 2]


@pytest.mark.parametrize("n, frac", [(1, 0.5), (10, 0.0), (10, 1.0), (10, -0.1), (2.5, 0.5)])
def test_split_bad_args(n, frac):
    with pytest.raises(DataError):
        train_test_split_indices(n, frac, 0)


def test_a_file_without_a_header_row_is_told_so(tmp_path):
    path = tmp_path / "noheader.csv"
    path.write_text("0.1,0.2,a\n0.3,0.4,b\n0.5,0.6,a\n")
    with pytest.raises(DataError, match=r"has no header: line 1 \(0\.1,0\.2,a\) looks like data; expected a first row "
                                        r"naming the columns"):
        load_csv(path, "label")
    path.write_text("height,weight,class\n1,2,a\n")
    with pytest.raises(DataError) as caught:
        load_csv(path, "label")
    assert "looks like data" not in str(caught.value)  # a real header: just the columns it has


def test_decimal_commas_are_read_in_files_separated_otherwise(tmp_path):
    path = csv_file(tmp_path, "a;b;label\n1,5;2;x\n-0,25;3,1e-2;y\n,5;5;x\n")
    np.testing.assert_array_equal(load_csv(path, "label").x, [[1.5, 2.0], [-0.25, 0.031], [0.5, 5.0]])
    tabs = csv_file(tmp_path, "a\tlabel\n1,5\tx\n2\ty\n", name="tabs.csv")
    np.testing.assert_array_equal(load_csv(tabs, "label").x, [[1.5], [2.0]])
    thousands = csv_file(tmp_path, "a;label\n1.234,5;x\n4;y\n", name="thousands.csv")
    with pytest.raises(DataError, match="holds '1.234,5'; expected a number .decimal commas are read"):
        load_csv(thousands, "label")
    quoted = csv_file(tmp_path, 'a,label\n"1,5",x\n2,y\n', name="quoted.csv")  # in a comma file: no guessing
    with pytest.raises(DataError, match="holds '1,5'"):
        load_csv(quoted, "label")


def test_a_label_column_with_a_value_per_row_is_refused(tmp_path):
    rows = "\n".join(f"{i * 0.5},{i}" for i in range(40))
    path = csv_file(tmp_path, "x,id\n" + rows + "\n")
    with pytest.raises(DataError, match="column 'id' has 40 different values in 40 rows, too many to be classes"):
        load_csv(path, "id")
    many = "\n".join(f"{i},{i % 12}" for i in range(48))  # 12 classes of 4 rows: fine
    assert len(load_csv(csv_file(tmp_path, "x,kind\n" + many + "\n", name="ok.csv"), "kind").class_names) == 12


def test_a_file_label_is_a_model_class_by_text_then_by_number():
    from guinn.data.catalog import _class_of

    assert _class_of("1", ["01", "1"]) == 1 and _class_of("01", ["01", "1"]) == 0  # the same text first
    assert _class_of("2.0", ["1", "2"]) == 1  # then the one class spelling the same number
    assert _class_of("1.0", ["01", "1"]) is None  # two such classes: not guessed
    assert _class_of("cat", ["1", "2"]) is None


def test_numeric_labels_that_spell_the_same_number_are_one_class(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("a,label\n" + "".join(f"{i},{lab}\n" for i, lab in enumerate(["1", "1.0", "2", "2.0", "1", "02"])))
    data = load_csv(path, "label")
    assert data.class_names == ("1", "2") and data.y.tolist() == [0, 0, 1, 1, 0, 1]
    for labels, classes in ((["9007199254740993", "9007199254740992"], 2),  # beyond float64's integers
                            (["1_0", "10"], 2), (["1e400", "2e400"], 2), (["1", "1.0", "nan"], 3),
                            (["1e0", "1", "-0", "0", "0.0"], 2)):
        path.write_text("a,label\n" + "".join(f"{i},{lab}\n" for i, lab in enumerate(labels * 2)))
        assert len(load_csv(path, "label").class_names) == classes, labels
