"""Split training steps (guinn.core.split) train the same model as the ordinary step."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from guinn.core import blas_threads, fused, split
from guinn.layers import Dense, Dropout, PReLU
from guinn.losses import CategoricalCrossentropy
from guinn.models import Sequential
from guinn.optimizers import SGD, Adagrad, Adam, RMSprop


@pytest.fixture
def parts(monkeypatch):
    """Split in two whatever this machine's core count (results must not depend on it)."""
    if fused.kernels() is None:
        pytest.skip(f"no fused kernels here ({fused.status()})")
    assert blas_threads.controls() is not None, "NumPy's OpenBLAS thread count cannot be set"
    monkeypatch.setattr(split, "PARTS", 2)
    monkeypatch.delenv("GUINN_SPLIT", raising=False)
    return 2


def data(n=200, features=24, classes=3, dtype="float64", seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features)).astype(dtype)
    y = np.eye(classes, dtype=dtype)[rng.integers(0, classes, n)]
    return x, y


def model(optimizer=None, dtype="float64", regularizer=None, dropout=0.2, seed=3):
    m = Sequential(seed=seed, dtype=dtype)
    m.add(Dense(160, activation="sigmoid", input_dim=24, kernel_regularizer=regularizer))
    m.add(Dropout(dropout))
    m.add(Dense(130, activation="relu", kernel_regularizer=regularizer))
    m.add(Dense(3, activation="softmax"))
    m.compile(optimizer=optimizer or Adam(learning_rate=0.01), loss="categorical_crossentropy",
              metrics=["accuracy"])
    return m


def train(make, split_on, monkeypatch, epochs=3, batch_size=32, **kwargs):
    monkeypatch.setenv("GUINN_SPLIT", "1" if split_on else "0")
    m = make()
    x, y = data(dtype=m.dtype.name)
    assert (split.SplitStep.plan(m, batch_size) is not None) == split_on
    seen = []
    from guinn.callbacks import LambdaCallback

    m.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0,
          callbacks=[LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(logs))], **kwargs)
    return m, seen


OPTIMIZERS = {
    "sgd": lambda: SGD(learning_rate=0.05),
    "momentum": lambda: SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
    "adagrad": lambda: Adagrad(learning_rate=0.05),
    "rmsprop": lambda: RMSprop(learning_rate=0.005),
    "adam": lambda: Adam(learning_rate=0.01),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_split_training_matches_the_ordinary_step(parts, name, monkeypatch):
    """Same data, seed and dropout masks: only the order of a few float64 additions differs."""
    split_model, split_logs = train(lambda: model(OPTIMIZERS[name]()), True, monkeypatch)
    plain_model, plain_logs = train(lambda: model(OPTIMIZERS[name]()), False, monkeypatch)
    np.testing.assert_allclose(split_model.get_flat_weights(), plain_model.get_flat_weights(), rtol=1e-9,
                               atol=1e-12)
    assert split_model.optimizer.iterations == plain_model.optimizer.iterations == 3 * 7
    for a, b in zip(split_logs, plain_logs, strict=True):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-9)
        assert a["accuracy"] == b["accuracy"]
        for la, lb in zip(a["telemetry"].layers, b["telemetry"].layers, strict=True):
            for field in ("grad_rms", "delta_rms", "weight_rms", "update_ratio", "saturation"):
                assert getattr(la, field) == pytest.approx(getattr(lb, field), rel=1e-7, nan_ok=True), field


def test_split_training_matches_in_float32_with_l1_l2(parts, monkeypatch):
    make = lambda: model(dtype="float32", regularizer="l1_l2")  # noqa: E731
    split_model, _ = train(make, True, monkeypatch)
    plain_model, _ = train(make, False, monkeypatch)
    np.testing.assert_allclose(split_model.get_flat_weights(), plain_model.get_flat_weights(), rtol=1e-4,
                               atol=1e-5)


def test_split_training_is_deterministic_and_three_parts_agree(parts, monkeypatch):
    first, _ = train(model, True, monkeypatch)
    again, _ = train(model, True, monkeypatch)
    np.testing.assert_array_equal(first.get_flat_weights(), again.get_flat_weights())
    monkeypatch.setattr(split, "PARTS", 3)
    monkeypatch.setattr(split, "MIN_UNITS", 32)  # let 130 units go three ways
    three, _ = train(model, True, monkeypatch)
    np.testing.assert_allclose(three.get_flat_weights(), first.get_flat_weights(), rtol=1e-9, atol=1e-12)


def test_the_helper_threads_stop_and_blas_threads_come_back(parts, monkeypatch):
    before = blas_threads.count()

    def boom(batch, logs):
        assert blas_threads.count() == 1  # each thread calls the BLAS on its own
        assert any(t.name.startswith("guinn-split") for t in threading.enumerate())
        if batch == 3:
            raise KeyboardInterrupt  # e.g. Ctrl+C in a script, mid-epoch

    from guinn.callbacks import LambdaCallback

    m = model()
    x, y = data()
    with pytest.raises(KeyboardInterrupt):
        m.fit(x, y, batch_size=32, epochs=2, verbose=0, callbacks=[LambdaCallback(on_train_batch_end=boom)])
    assert not any(t.name.startswith("guinn-split") for t in threading.enumerate())
    assert blas_threads.count() == before
    m.fit(x, y, batch_size=32, epochs=1, verbose=0)  # and the next fit splits again
    assert not any(t.name.startswith("guinn-split") for t in threading.enumerate())


def test_an_overflowing_split_step_is_undone_exactly(parts, monkeypatch):
    monkeypatch.setenv("GUINN_SPLIT", "1")
    m = model(SGD(learning_rate=1e300), dropout=0.0)
    start = m.get_flat_weights()
    x, y = data()
    x *= 1e10  # gradients ~1e10 times a learning rate of 1e300: the update overflows float64
    m.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert "overflowed" in m.stop_reason
    np.testing.assert_array_equal(m.get_flat_weights(), start)


def test_what_gets_split(parts):
    def layers(*items):
        m = Sequential(seed=0)
        for item in items:
            m.add(item)
        m.build((24,))
        return [g.dense.units for g in split._split_groups(m.layers, 2)]

    assert layers(Dense(200, "tanh", input_dim=24), Dense(150, "relu"), Dense(2, "softmax")) == [200, 150]
    assert layers(Dense(200, "tanh", input_dim=24), Dense(100, "relu"), Dense(300), Dense(2)) == [200]  # too narrow
    assert layers(Dense(200, "softmax", input_dim=24), Dense(2)) == []  # softmax needs every unit
    assert layers(Dense(200, input_dim=24), PReLU(), Dense(200), Dense(2)) == [200]  # stops at other layers
    assert layers(Dense(200, input_dim=24)) == []  # the output layer is never split


def test_guinn_split_0_and_small_batches_keep_the_ordinary_step(parts, monkeypatch):
    m = model()
    assert split.SplitStep.plan(m, 32) is not None
    assert split.SplitStep.plan(m, split.MIN_ROWS - 1) is None
    assert split.SplitStep.plan(m, split.MAX_ROWS + 1) is None
    monkeypatch.setenv("GUINN_SPLIT", "0")
    assert split.SplitStep.plan(m, 32) is None


def test_a_second_fit_during_a_split_fit_takes_ordinary_steps(parts, monkeypatch):
    """E.g. a callback that trains a probe model: no deadlock, no second crew, same results."""
    from guinn.callbacks import LambdaCallback

    inner_weights = []
    before = blas_threads.count()

    def train_inner(batch, logs):
        if batch == 0:
            m = model(seed=9)
            m.fit(*data(seed=1), batch_size=32, epochs=1, verbose=0)
            inner_weights.append(m.get_flat_weights())
            assert sum(t.name.startswith("guinn-split") for t in threading.enumerate()) == 1

    outer = model()
    outer.fit(*data(), batch_size=32, epochs=1, verbose=0, callbacks=[LambdaCallback(on_train_batch_end=train_inner)])
    monkeypatch.setenv("GUINN_SPLIT", "0")
    alone = model(seed=9)
    alone.fit(*data(seed=1), batch_size=32, epochs=1, verbose=0)
    np.testing.assert_array_equal(inner_weights[0], alone.get_flat_weights())
    assert blas_threads.count() == before and not any(t.name.startswith("guinn-split") for t in threading.enumerate())


@pytest.mark.parametrize("change", ["reset_weights", "compile"])
def test_a_callback_that_resets_or_recompiles_keeps_results_right(parts, change, monkeypatch):
    """The helpers hold the optimizer's state arrays: new ones mean ordinary steps from then on."""
    from guinn.callbacks import LambdaCallback

    def act(epoch, logs, m):
        if epoch == 0:
            if change == "reset_weights":
                m.reset_weights()
            else:
                m.compile(optimizer=SGD(learning_rate=0.05), loss="categorical_crossentropy", metrics=["accuracy"])

    results = []
    for on in (True, False):
        monkeypatch.setenv("GUINN_SPLIT", "1" if on else "0")
        m = model()
        m.fit(*data(), batch_size=32, epochs=3, verbose=0,
              callbacks=[LambdaCallback(on_epoch_end=lambda e, logs, m=m: act(e, logs, m))])
        results.append((m.get_flat_weights(), {k: v.copy() for k, v in m.optimizer.slots.items()}))
    (split_w, split_slots), (plain_w, plain_slots) = results
    np.testing.assert_allclose(split_w, plain_w, rtol=1e-9, atol=1e-12)
    for key in plain_slots:
        np.testing.assert_allclose(split_slots[key], plain_slots[key], rtol=1e-9, atol=1e-15)


def test_narrow_layers_split_without_overlapping_optimizer_runs(parts, monkeypatch):
    monkeypatch.setattr(split, "MIN_UNITS", 1)

    def narrow():
        m = Sequential(seed=1, dtype="float64")
        m.add(Dense(2, activation="tanh", input_dim=24))
        m.add(Dense(2, activation="relu"))  # its 4 weights start mid cache line, at 50
        m.add(Dense(3, activation="softmax"))
        m.compile(optimizer=Adam(learning_rate=0.01), loss="categorical_crossentropy")
        return m

    split_model, _ = train(narrow, True, monkeypatch)
    plain_model, _ = train(narrow, False, monkeypatch)
    np.testing.assert_allclose(split_model.get_flat_weights(), plain_model.get_flat_weights(), rtol=1e-9, atol=1e-12)
    monkeypatch.setenv("GUINN_SPLIT", "1")
    runs = split.SplitStep.plan(split_model, 32).runs
    covered = np.zeros(split_model.count_params(), dtype=int)
    for part in runs:
        for lo, hi, _ in part:
            covered[lo:hi] += 1
    assert (covered == 1).all()  # every weight stepped exactly once


def test_optimizer_runs_are_block_sized_and_cover_every_weight_once(parts, monkeypatch):
    """A split layer's share is cut into BLOCK-long runs, so each run's sums of squares read
    it while it is still in cache (a whole 784x500 share per run read it back from memory)."""
    monkeypatch.setenv("GUINN_SPLIT", "1")
    m = Sequential(seed=0)
    m.add(Dense(500, activation="sigmoid", input_dim=784))
    m.add(Dense(500, activation="sigmoid"))
    m.add(Dense(10, activation="softmax"))
    m.compile(optimizer="adam", loss="categorical_crossentropy")
    runs = split.SplitStep.plan(m, 100).runs
    covered = np.zeros(m.count_params(), dtype=int)
    for part in runs:
        assert (part[:, 1] - part[:, 0]).max() <= fused.BLOCK
        for lo, hi, _ in part:
            covered[lo:hi] += 1
    assert (covered == 1).all()


def test_no_split_when_numba_runs_as_python(parts, monkeypatch):
    import numba

    monkeypatch.setattr(numba.config, "DISABLE_JIT", True)
    assert split._build(np.float32) is None


def test_the_next_shuffled_batch_is_fetched_by_a_helper(parts, monkeypatch):
    """Steps train on rows a helper copied during the previous step: same weights as the
    ordinary step's own gathering, shuffled or not."""
    fetched, served = [], []
    fetch, take = split.SplitStep._fetch_next, split.SplitStep.take
    monkeypatch.setattr(split.SplitStep, "_fetch_next", lambda self: (fetched.append(1), fetch(self))[1])

    def spy_take(self, x, rows, out):
        got = take(self, x, rows, out)
        served.append(got is not out)
        np.testing.assert_array_equal(got, x[rows])
        return got

    monkeypatch.setattr(split.SplitStep, "take", spy_take)
    for shuffle in (True, False):
        split_model, _ = train(model, True, monkeypatch, shuffle=shuffle)
        plain_model, _ = train(model, False, monkeypatch, shuffle=shuffle)
        np.testing.assert_allclose(split_model.get_flat_weights(), plain_model.get_flat_weights(), rtol=1e-9,
                                   atol=1e-12)
    assert len(fetched) == 3 * 6 and sum(served) == 3 * 6  # every batch but each epoch's first


def test_the_threads_tanh_is_within_4e_7(parts):
    """Float32 split layers take tanh (and sigmoid through it) from Eigen's rational
    approximation, as TensorFlow's CPU kernels do; NumPy's own float32 tanh is within 6e-8."""
    from guinn.core import _crew

    x = np.concatenate([np.linspace(-20, 20, 400_001), [0.0, 1e-30, -3e-4, 4e-4, np.inf, -np.inf]]).astype(np.float32)
    out = np.empty_like(x)
    _crew.tanh32_array(x, out)
    assert np.abs(out.astype(np.float64) - np.tanh(x.astype(np.float64))).max() < 4e-7
    assert out[-6] == 0 and out[-5] == np.float32(1e-30) and out[-2:].tolist() == [1.0, -1.0]
    nan = np.array([np.nan], np.float32)
    _crew.tanh32_array(nan, out[:1])
    assert np.isnan(out[0])  # a diverged layer stays visibly diverged


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "linear", "leaky_relu"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_each_activation_splits_like_the_ordinary_step(parts, activation, dtype, monkeypatch):
    def make():
        m = Sequential(seed=5, dtype=dtype)
        m.add(Dense(150, activation=activation, input_dim=24))
        m.add(Dropout(0.25))
        m.add(Dense(140, activation=activation))
        m.add(Dense(3, activation="softmax"))
        m.compile(optimizer=Adam(learning_rate=0.005), loss="categorical_crossentropy", metrics=["accuracy"])
        return m

    split_model, split_logs = train(make, True, monkeypatch)
    plain_model, plain_logs = train(make, False, monkeypatch)
    tight = dtype == "float64"  # float32 sigmoid/tanh come from the approximation above
    np.testing.assert_allclose(split_model.get_flat_weights(), plain_model.get_flat_weights(),
                               rtol=1e-9 if tight else 1e-4, atol=1e-12 if tight else 1e-5)
    for a, b in zip(split_logs, plain_logs, strict=True):
        for la, lb in zip(a["telemetry"].layers[:2], b["telemetry"].layers[:2], strict=True):
            assert la.saturation == pytest.approx(lb.saturation, abs=1e-9 if tight else 2e-3, nan_ok=True)


@pytest.mark.parametrize("first, second", [("leaky_relu", "sigmoid"), ("tanh", "leaky_relu"),
                                           ("two masks", "relu"), ("relu", "two masks")])
def test_threads_and_the_calling_thread_share_the_backward_pass(parts, first, second, monkeypatch):
    """A layer whose dL/dz the threads finish next to one the calling thread finishes (leaky
    ReLU, or two dropout masks): the partial products reach both kinds, in both orders."""
    def add(m, activation, **kwargs):
        m.add(Dense(140, activation="sigmoid" if activation == "two masks" else activation, **kwargs))
        for rate in (0.2, 0.1) if activation == "two masks" else (0.15,):
            m.add(Dropout(rate))

    def make():
        m = Sequential(seed=7, dtype="float64")
        add(m, first, input_dim=24)
        add(m, second)
        m.add(Dense(3, activation="softmax"))
        m.compile(optimizer=Adam(learning_rate=0.005), loss="categorical_crossentropy", metrics=["accuracy"])
        return m

    split_model, split_logs = train(make, True, monkeypatch)
    plain_model, plain_logs = train(make, False, monkeypatch)
    monkeypatch.setenv("GUINN_SPLIT", "1")
    kinds = [g.kind is None for g in split.SplitStep.plan(make(), 32).groups]
    assert kinds == [first in ("leaky_relu", "two masks"), second in ("leaky_relu", "two masks")]
    np.testing.assert_allclose(split_model.get_flat_weights(), plain_model.get_flat_weights(), rtol=1e-9,
                               atol=1e-12)
    for a, b in zip(split_logs, plain_logs, strict=True):
        for la, lb in zip(a["telemetry"].layers, b["telemetry"].layers, strict=True):
            assert la.delta_rms == pytest.approx(lb.delta_rms, rel=1e-9)
            assert la.grad_rms == pytest.approx(lb.grad_rms, rel=1e-7)


@pytest.mark.parametrize("loss, activation, use_bias", [
    ("mse", "linear", True), ("binary_crossentropy", "sigmoid", True),
    ("categorical_crossentropy", "softmax", True), ("categorical_crossentropy", "softmax", False)])
def test_the_output_layers_products_run_in_the_threads(parts, loss, activation, use_bias, monkeypatch):
    """The output Dense after the split layers (here with dropout before it and an L2 penalty):
    partial logits, the kernel gradient's rows and the signal's columns in the threads; under
    softmax + cross-entropy, bias to dL/dz in one compiled pass."""
    def make():
        m = Sequential(seed=11, dtype="float64")
        m.add(Dense(140, activation="tanh", input_dim=24))
        m.add(Dense(130, activation="relu"))
        m.add(Dropout(0.3))
        m.add(Dense(3, activation=activation, kernel_regularizer="l2", use_bias=use_bias))
        m.compile(optimizer=Adam(learning_rate=0.005), loss=loss, metrics=["accuracy"])
        return m

    monkeypatch.setenv("GUINN_SPLIT", "1")
    assert split.SplitStep.plan(make(), 32).tail is not None
    assert split._Tail.fuses_loss(make()) == (activation == "softmax")
    split_model, split_logs = train(make, True, monkeypatch)
    plain_model, plain_logs = train(make, False, monkeypatch)
    np.testing.assert_allclose(split_model.get_flat_weights(), plain_model.get_flat_weights(), rtol=1e-9,
                               atol=1e-12)
    for a, b in zip(split_logs, plain_logs, strict=True):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-9)
        out_a, out_b = a["telemetry"].layers[-1], b["telemetry"].layers[-1]
        for field in ("grad_rms", "delta_rms", "weight_rms", "update_ratio", "saturation"):
            assert getattr(out_a, field) == pytest.approx(getattr(out_b, field), rel=1e-7, nan_ok=True), field


def test_a_fetch_in_flight_keeps_its_rows_alive_when_training_stops(parts, monkeypatch):
    """An overflowing update ends the fit right after the next batch's fetch was handed over:
    the epoch's order (read by address) must outlive the fetch, which the exit then waits for."""
    import weakref

    seen = {}
    upcoming, leave = split.SplitStep.upcoming, split.SplitStep.__exit__

    def spy_upcoming(self, x, rows):
        seen["order"] = weakref.ref(rows.base)
        return upcoming(self, x, rows)

    def spy_exit(self, *exc):
        seen["alive_at_exit"] = self._fetched is not None and seen["order"]() is not None
        return leave(self, *exc)

    monkeypatch.setattr(split.SplitStep, "upcoming", spy_upcoming)
    monkeypatch.setattr(split.SplitStep, "__exit__", spy_exit)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 300)).astype(np.float32)
    m = Sequential(seed=1, dtype="float32")
    m.add(Dense(128, activation="relu", input_dim=300))
    m.add(Dense(1))
    m.compile(optimizer=SGD(learning_rate=1e36), loss="mse")  # a finite loss, an update beyond float32
    with np.errstate(over="ignore", invalid="ignore"):
        m.fit(x, rng.standard_normal((256, 1)).astype(np.float32), batch_size=64, epochs=1, verbose=0)
    assert "overflowed" in m.stop_reason
    assert seen["alive_at_exit"]
    assert not any(t.name.startswith("guinn-split") for t in threading.enumerate())


class _Smoothed(CategoricalCrossentropy):
    """A user's own softmax loss (label smoothing): the split step must call it."""

    def _smooth(self, y):
        return y * 0.8 + 0.2 / y.shape[1]

    def __call__(self, y, p):
        return super().__call__(self._smooth(y), p)

    def gradient(self, y, p):
        return super().gradient(self._smooth(y), p)

    def fused(self, y, logits, probs):
        return super().fused(self._smooth(y), logits, probs)


def _softmax_model(loss):
    m = Sequential(seed=1, dtype="float64")
    m.add(Dense(140, activation="relu", input_dim=24))
    m.add(Dense(130, activation="tanh"))
    m.add(Dense(3, activation="softmax"))
    m.compile(optimizer=Adam(0.005), loss=loss)
    return m


def test_a_users_own_softmax_loss_is_honoured(parts, monkeypatch):
    split_model, _ = train(lambda: _softmax_model(_Smoothed()), True, monkeypatch)
    plain_model, _ = train(lambda: _softmax_model(_Smoothed()), False, monkeypatch)
    np.testing.assert_allclose(split_model.get_flat_weights(), plain_model.get_flat_weights(), rtol=1e-9,
                               atol=1e-12)


def test_recompiling_with_the_same_optimizer_and_another_loss(parts, monkeypatch):
    """The optimizer (and so the split step) stays; the one-pass softmax cross-entropy must not."""
    from guinn.callbacks import LambdaCallback

    weights = []
    for on in (True, False):
        monkeypatch.setenv("GUINN_SPLIT", "1" if on else "0")
        m = _softmax_model("categorical_crossentropy")
        switch = LambdaCallback(on_epoch_end=lambda epoch, logs, m=m: epoch == 0 and m.compile(
            optimizer=m.optimizer, loss="mse"))
        m.fit(*data(), batch_size=32, epochs=3, verbose=0, callbacks=[switch])
        weights.append(m.get_flat_weights())
    np.testing.assert_allclose(weights[0], weights[1], rtol=1e-9, atol=1e-12)


def test_an_overflowing_float32_loss_stops_the_split_step_as_the_ordinary_one(parts, monkeypatch):
    """The one-pass loss adds up in float64; where the ordinary float32 sum overflows it must
    report the loss as infinite too."""
    def make():
        m = Sequential(seed=2, dtype="float32")
        m.add(Dense(140, activation="tanh", input_dim=24))
        m.add(Dense(130, activation="tanh"))
        m.add(Dense(3, activation="softmax"))
        m.compile(optimizer=Adam(0.005), loss="categorical_crossentropy")
        kernel = m.layers[-1].params["kernel"]
        kernel[...] = np.sign(kernel) * 3e36
        return m

    results = []
    for on in (True, False):
        monkeypatch.setenv("GUINN_SPLIT", "1" if on else "0")
        m = make()
        m.fit(*data(dtype="float32"), batch_size=32, epochs=1, verbose=0)
        results.append((m.stop_reason, m.get_flat_weights()))
    assert results[0][0] is not None and results[0][0] == results[1][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_a_fit_of_small_products_runs_them_on_one_blas_thread_and_puts_the_count_back():
    """Threads gain little on small products and lose everything when another program holds a
    core (38 ms a step instead of 0.3 for 8 x 64 units)."""
    from guinn.callbacks import LambdaCallback

    before = blas_threads.count()
    if before < 2:
        pytest.skip("NumPy's BLAS runs on one thread here")
    seen = []
    small = Sequential([Dense(64, activation="sigmoid", input_dim=784), Dense(10, activation="softmax")])
    small.compile("sgd", "categorical_crossentropy")
    x, y = np.zeros((64, 784), np.float32), np.eye(10, dtype=np.float32)[np.arange(64) % 10]
    small.fit(x, y, batch_size=32, verbose=0, callbacks=[LambdaCallback(
        on_batch_end=lambda batch, logs: seen.append(blas_threads.count()))])
    assert seen == [1, 1] and blas_threads.count() == before


def test_caps_held_in_several_threads_put_the_first_count_back_after_the_last():
    """Each cap restoring the count it had found left a small fit and a split one, interleaved,
    at one thread for good."""
    before = blas_threads.count()
    if before < 2:
        pytest.skip("NumPy's BLAS runs on one thread here")
    first, second = blas_threads.capped(1), blas_threads.capped(1)
    first.__enter__()
    second.__enter__()
    assert blas_threads.count() == 1
    first.__exit__(None, None, None)  # the first out is not the last: still capped
    assert blas_threads.count() == 1
    second.__exit__(None, None, None)
    assert blas_threads.count() == before
