"""Fuzzing the model-file loader: thousands of damaged files, each a clean ModelFileError.

Every case must either load (the damage was harmless, e.g. a flipped bit inside a weight
that stays finite) or raise ModelFileError -- never another exception type, never a hang,
and never the catch-all message that marks a gap in the loader's own validation.
"""

import copy
import json
import time

import numpy as np
import pytest
import safetensors.numpy as stn

from guinn.core.specs import LayerSpec, build_model
from guinn.errors import ModelFileError
from guinn.io.model_file import UNEXPECTED, load_model_bytes, save_model
from guinn.layers import Dense
from guinn.models import Sequential

CASES_PER_KIND = 1000
SLOWEST_CASE_SECONDS = 2.0


def _models():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 5)).astype(np.float32)
    y = np.eye(3)[rng.integers(0, 3, 40)]
    cards = [
        LayerSpec(4, "prelu", dropout=0.3),
        LayerSpec(3, "maxout", pieces=2, l2=0.01),
        LayerSpec(4, "leaky_relu", alpha=0.2),
    ]
    a = build_model(5, cards, 3, seed=1)
    a.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    a.fit(x, y, epochs=2, batch_size=10, verbose=0, validation_split=0.25)
    b = build_model(5, [LayerSpec(3, "sigmoid")], 3, seed=2, dtype="float64")
    b.compile(optimizer={"name": "sgd", "momentum": 0.9}, loss="mean_squared_error")
    c = Sequential(
        [Dense(2, activation="tanh", input_dim=5), Dense(3, activation="softmax")], seed=3
    )
    from guinn.experiment import Experiment

    exp = Experiment(
        dataset={"kind": "toy", "name": "blobs"}, layers=tuple(cards), epochs=2, batch_size=10
    )
    pre = {"standardizer": {"mean": [0.0] * 5, "scale": [1.0] * 5}, "feature_names": list("abcde")}
    return [
        (
            a,
            {
                "class_names": ["r", "g", "b"],
                "dataset": "toy",
                "experiment": exp,
                "preprocessing": pre,
            },
        ),
        (b, {}),
        (c, {}),
    ]


@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    out = []
    for i, (model, kwargs) in enumerate(_models()):
        path = tmp_path_factory.mktemp("fuzz") / f"m{i}.safetensors"
        save_model(model, path, **kwargs)
        out.append(path.read_bytes())
    return out


def _split(raw):
    n = int.from_bytes(raw[:8], "little")
    return json.loads(raw[8 : 8 + n]), raw[8 + n :]


def _join(header, body):
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + body


class Outcomes:
    def __init__(self):
        self.loaded = self.refused = 0
        self.slowest = 0.0

    def check(self, data, label):
        start = time.perf_counter()
        try:
            model = load_model_bytes(data, "fuzz")
        except ModelFileError as exc:
            assert UNEXPECTED not in str(exc), f"{label}: validation gap: {exc}"
            assert str(exc).strip(), label
            self.refused += 1
        except Exception as exc:  # pragma: no cover - a failure report
            raise AssertionError(f"{label}: {type(exc).__name__}: {exc}") from exc
        else:
            self.loaded += 1
            model.predict(np.zeros((2,) + tuple(model.input_shape), np.float32))
        self.slowest = max(self.slowest, time.perf_counter() - start)


def _finish(outcomes, expect_loaded=None):
    assert outcomes.slowest < SLOWEST_CASE_SECONDS
    assert outcomes.refused > 0
    if expect_loaded is not None:
        assert outcomes.loaded >= expect_loaded


def test_truncations(originals):
    rng = np.random.default_rng(1)
    out = Outcomes()
    for raw in originals:
        for cut in rng.integers(0, len(raw), CASES_PER_KIND // len(originals)):
            out.check(raw[:cut], f"truncated at {cut}")
        out.check(raw + b"\0", "one extra byte")
        out.check(raw + raw, "doubled")
    _finish(out)
    assert out.loaded == 0


def test_byte_flips(originals):
    rng = np.random.default_rng(2)
    out = Outcomes()
    for raw in originals:
        n = int.from_bytes(raw[:8], "little")
        for i in range(CASES_PER_KIND):
            data = bytearray(raw)
            header_only = i % 2 == 0
            for _ in range(rng.integers(1, 4)):
                lo, hi = (8, 8 + n) if header_only else (8 + n, len(raw))
                pos = int(rng.integers(lo, hi))
                data[pos] ^= 1 << int(rng.integers(0, 8)) if i % 3 else int(rng.integers(1, 256))
            out.check(bytes(data), f"flips case {i}")
    _finish(out, expect_loaded=1)  # flips inside weights often stay finite and must load


def test_header_length_field(originals):
    out = Outcomes()
    rng = np.random.default_rng(3)
    for raw in originals:
        n = int.from_bytes(raw[:8], "little")
        values = [
            0,
            1,
            2,
            7,
            n - 1,
            n + 1,
            len(raw) - 8,
            len(raw),
            2**31,
            2**32 + n,
            2**63,
            2**64 - 1,
        ]
        values += [int(v) for v in rng.integers(0, 2**62, 100)] + [
            int(v) for v in rng.integers(0, len(raw), 100)
        ]
        for v in values:
            out.check(v.to_bytes(8, "little") + raw[8:], f"header length {v}")
    _finish(out)
    assert out.loaded == 0


_WEIRD = [
    None,
    True,
    False,
    0,
    -1,
    1,
    2**64,
    1.5,
    -1e308,
    "",
    "x" * 300,
    "relu",
    "Dense",
    "NaN",
    [],
    [1, 2],
    {},
    {"name": "x"},
    [[[[[]]]]],
    "__import__('os')",
    {"type": "Lambda", "config": {}},
]


def _mutate_json(value, rng, depth=0):
    """Replace, delete or insert one random node somewhere inside a JSON value."""
    if isinstance(value, dict) and value and rng.random() < 0.8:
        key = list(value)[int(rng.integers(0, len(value)))]
        choice = rng.random()
        if choice < 0.15:
            del value[key]
        elif choice < 0.25:
            value["unexpected_" + str(depth)] = copy.deepcopy(
                _WEIRD[int(rng.integers(0, len(_WEIRD)))]
            )
        else:
            value[key] = _mutate_json(value[key], rng, depth + 1)
        return value
    if isinstance(value, list) and value and rng.random() < 0.8:
        i = int(rng.integers(0, len(value)))
        choice = rng.random()
        if choice < 0.15:
            del value[i]
        elif choice < 0.25:
            value.append(copy.deepcopy(value[i]))
        else:
            value[i] = _mutate_json(value[i], rng, depth + 1)
        return value
    if isinstance(value, bool) or value is None:
        return copy.deepcopy(_WEIRD[int(rng.integers(0, len(_WEIRD)))])
    if isinstance(value, int):
        return [value + 1, value - 1, -value, value * 1000, 2**70, str(value), float(value), 0][
            int(rng.integers(0, 8))
        ]
    if isinstance(value, float):
        return [value * 2, -value, 0.0, 1e300, -0.5, str(value), 7, 1.0][int(rng.integers(0, 8))]
    return copy.deepcopy(_WEIRD[int(rng.integers(0, len(_WEIRD)))])


def test_edited_metadata_json(originals):
    """Valid framing, damaged content: reaches every field's own validation."""
    rng = np.random.default_rng(4)
    out = Outcomes()
    for raw in originals:
        header, body = _split(raw)
        keys = sorted(header["__metadata__"])
        for i in range(CASES_PER_KIND):
            h = json.loads(json.dumps(header))
            meta = h["__metadata__"]
            key = keys[i % len(keys)]
            if key in ("format", "format_version"):
                meta[key] = ["2", "0", "01", "999999999", "", "1.0", "guinn-model ", "safetensors"][
                    i % 8
                ]
            else:
                value = json.loads(meta[key])
                for _ in range(int(rng.integers(1, 3))):
                    value = _mutate_json(value, rng)
                meta[key] = json.dumps(value)
            out.check(_join(h, body), f"metadata {key} edit {i}")
        for key in keys:
            h = json.loads(json.dumps(header))
            del h["__metadata__"][key]
            out.check(_join(h, body), f"metadata {key} removed")
            h["__metadata__"][key] = "{not json"
            out.check(_join(h, body), f"metadata {key} not JSON")
    _finish(out)


def test_edited_tensor_table(originals):
    """Damaged dtypes, shapes and offsets in the header's tensor entries."""
    rng = np.random.default_rng(5)
    out = Outcomes()
    for raw in originals:
        header, body = _split(raw)
        names = sorted(k for k in header if k != "__metadata__")
        for i in range(CASES_PER_KIND // 2):
            h = json.loads(json.dumps(header))
            entry = h[names[i % len(names)]]
            field = ["dtype", "shape", "data_offsets", "name", "entry"][i % 5]
            if field == "dtype":
                entry["dtype"] = ["I32", "F16", "BF16", "U8", "F64", "F32", "BOOL", "object", 3][
                    i % 9
                ]
            elif field == "shape":
                entry["shape"] = _mutate_json(entry["shape"], rng)
            elif field == "data_offsets":
                entry["data_offsets"] = _mutate_json(entry["data_offsets"], rng)
            elif field == "name":
                h["layers.99.kernel" if i % 2 else "optimizer.extra"] = h.pop(names[i % len(names)])
            else:
                h[names[i % len(names)]] = _mutate_json(entry, rng)
            out.check(_join(h, body), f"tensor table {field} {i}")
    _finish(out)


def test_wrong_tensors_through_safetensors(originals):
    """Well-formed safetensors files with wrong content: NaN, dtypes, shapes, extra/missing."""
    rng = np.random.default_rng(6)
    out = Outcomes()
    for index, raw in enumerate(originals):
        header, _ = _split(raw)
        meta = header["__metadata__"]
        names = sorted(k for k in header if k != "__metadata__")
        base = stn.load(raw)
        for i in range(CASES_PER_KIND // 3):
            arrays = {k: v.copy() for k, v in base.items()}
            name = names[i % len(names)]
            kind = i % 6
            if kind == 0:
                arrays[name].reshape(-1)[int(rng.integers(0, arrays[name].size))] = [
                    np.nan,
                    np.inf,
                    -np.inf,
                ][i % 3]
            elif kind == 1:
                arrays[name] = arrays[name].astype(
                    [np.float16, np.int32, np.int64, np.uint8][i % 4]
                )
            elif kind == 2:
                shape = list(arrays[name].shape)
                shape[int(rng.integers(0, len(shape)))] += int(rng.choice([-1, 1, 5]))
                arrays[name] = np.zeros([max(s, 0) for s in shape], arrays[name].dtype)
            elif kind == 3:
                del arrays[name]
            elif kind == 4:
                arrays[
                    f"layers.{int(rng.integers(0, 20))}.{['kernel', 'bias', 'alpha', 'x'][i % 4]}"
                ] = np.zeros(3, np.float32)
            else:
                arrays[name] = arrays[name].astype(
                    np.float64 if arrays[name].dtype == np.float32 else np.float32
                )
            out.check(stn.save(arrays, metadata=meta), f"model {index} tensor {name} kind {kind}")
    _finish(out)


def test_random_garbage_and_foreign_files():
    rng = np.random.default_rng(7)
    out = Outcomes()
    for i in range(300):
        size = int(rng.integers(0, 2000))
        out.check(rng.integers(0, 256, size, dtype=np.uint8).tobytes(), f"garbage {i}")
    plain = stn.save({"weight": np.zeros((2, 2), np.float32)})
    out.check(plain, "safetensors file without metadata")
    out.check(
        stn.save({"w": np.zeros(2, np.float32)}, metadata={"format": "pt"}), "foreign metadata"
    )
    deep = b"[" * 200_000 + b"]" * 200_000
    out.check(len(deep).to_bytes(8, "little") + deep, "deeply nested JSON")
    long_int = (
        b'{"__metadata__": {"format": "guinn-model", "format_version": "' + b"9" * 5000 + b'"}}'
    )
    out.check(len(long_int).to_bytes(8, "little") + long_int, "huge version number")
    _finish(out)
    assert out.loaded == 0


def test_messages_quote_a_huge_name_or_value_briefly(originals):
    """A megabyte-long tensor name, dtype or metadata key is quoted in a few dozen characters."""
    header, body = _split(originals[2])
    long = "B" * 1_000_000
    first = next(k for k in header if k != "__metadata__")
    empty = {"dtype": "F32", "shape": [0], "data_offsets": [len(body), len(body)]}
    edits = [
        lambda h: h.__setitem__(long, empty),  # an unexpected tensor
        lambda h: h[first].__setitem__("dtype", long),
        lambda h: h.__setitem__(long, {"dtype": "F32"}),  # a malformed entry
        lambda h: h["__metadata__"].__setitem__(long, "1"),  # an unknown metadata key
        lambda h: h["__metadata__"].__setitem__(long, 1),  # a metadata value that is no string
    ]
    for i, edit in enumerate(edits):
        edited = copy.deepcopy(header)
        edit(edited)
        with pytest.raises(ModelFileError) as info:
            load_model_bytes(_join(edited, body), "m")
        assert len(str(info.value)) < 400 and "BBB..." in str(info.value), (i, str(info.value)[:300])


@pytest.mark.parametrize(("key", "edit"), [
    ("classes", lambda v: ["\ud800", *v[1:]]),
    ("dataset", lambda v: "\ud800"),
    ("model", lambda v: {**v, "name": "\udcff"}),
    ("model", lambda v: {**v, "layers": [{**v["layers"][0], "config": {**v["layers"][0]["config"], "name": "x\ud800"}},
                                         *v["layers"][1:]]}),
    ("history", lambda v: {**v, "history": {"loss\ud800": [1.0]}}),
    ("history", lambda v: {**v, "messages": ["\ud800"]}),
    ("experiment", lambda v: {**v, "dataset": {**v["dataset"], "name": "\ud800"}}),
])
def test_text_that_is_not_unicode_is_refused(originals, key, edit):
    """A lone surrogate ("\\ud800") in any text of the metadata: every later print or encode failed."""
    _refused_with_metadata_edit(originals, key, edit, r"is not valid JSON \(text .* holds \\u[dD][89a-fA-F]\w\w, "
                                                      r"half of a UTF-16 surrogate pair.*must be valid Unicode")


@pytest.mark.parametrize(("key", "edit"), [
    ("history", lambda v: {**v, "history": {"loss": [10**400]}}),
    ("compile", lambda v: {**v, "optimizer": {**v["optimizer"], "learning_rate": 10**400}}),
    ("experiment", lambda v: {**v, "optimizer": {**v["optimizer"], "learning_rate": -(10**40)}}),
    ("model", lambda v: {**v, "seed": 2**128}),
])
def test_whole_numbers_beyond_2_to_the_128_are_refused(originals, key, edit):
    """10**400 fits no setting, and float() of it overflows: it was an OverflowError, reported as
    the catch-all 'unexpected problem'."""
    _refused_with_metadata_edit(originals, key, edit, r"not valid JSON \(whole number .* is too large: whole "
                                                      r"numbers must be below 2\*\*128")


def _refused_with_metadata_edit(originals, key, edit, match):
    """A model file whose metadata entry ``key`` went through ``edit`` is refused with ``match``."""
    header, body = _split(originals[0])
    meta = header["__metadata__"]
    meta[key] = json.dumps(edit(json.loads(meta[key])))
    with pytest.raises(ModelFileError, match=match):
        load_model_bytes(_join(header, body), "m")


def test_the_largest_generator_state_still_loads(originals):
    header, body = _split(originals[0])
    meta = header["__metadata__"]
    states = json.loads(meta["rng_states"])
    states["shuffle"]["state"]["state"] = 2**128 - 1
    meta["rng_states"] = json.dumps(states)
    assert load_model_bytes(_join(header, body), "m").rng_states["shuffle"]["state"]["state"] == 2**128 - 1


def test_a_history_list_longer_than_its_epochs_is_refused_and_a_shorter_one_is_the_last_epochs():
    """A list longer than the epochs mixes epochs ('after 5 epochs: a 7th epoch's accuracy');
    a shorter one is a figure a callback logged from some epoch on, in files written before
    History padded such lists."""
    from guinn.io.model_file import _history

    good = {"history": {"loss": [1.0, 0.5], "accuracy": [0.2, None]}, "epoch": [0, 1], "messages": []}
    assert _history(good).history["loss"] == [1.0, 0.5]
    late = {"history": {"loss": [1.0, 0.5, 0.2], "score": [7.0]}, "epoch": [0, 1, 2], "messages": []}
    assert np.isnan(_history(late).history["score"][:2]).all() and _history(late).history["score"][2] == 7.0
    bad = {"history": {"loss": [1.0] * 7}, "epoch": [0, 1, 2, 3, 4], "messages": []}
    with pytest.raises(ModelFileError, match="7 values for 5 epochs"):
        _history(bad)


def test_a_figure_a_callback_logs_from_some_epoch_on_is_recorded_per_epoch_and_saved(tmp_path):
    from guinn.callbacks import LambdaCallback
    from guinn.layers import Dense
    from guinn.models import Sequential, load_model

    model = Sequential([Dense(2, activation="softmax", input_dim=2)])
    model.compile("sgd", "categorical_crossentropy")
    late = LambdaCallback(on_epoch_end=lambda epoch, logs: logs.update(score=float(epoch)) if epoch >= 1 else None)
    history = model.fit(np.ones((4, 2), np.float32), np.eye(2, dtype=np.float32)[[0, 1, 0, 1]], epochs=3,
                        verbose=0, callbacks=[late])
    assert np.isnan(history.history["score"][0]) and history.history["score"][1:] == [1.0, 2.0]
    model.save(tmp_path / "m.safetensors")
    assert load_model(tmp_path / "m.safetensors").history.history["score"][1:] == [1.0, 2.0]
