"""The compiled one-pass optimizer steps must do exactly what the NumPy code does.

Both paths write the same IEEE operations in the same order, so updates, optimizer state and
trained weights are compared bit for bit; only the sums of squares (reductions, accumulated
in float64 by the kernels) are compared with a tolerance.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from guinn.core import fused, optimizers
from guinn.layers import Dense, Dropout
from guinn.models import Sequential

pytest.importorskip("numba")

VARIANTS = {
    "sgd": lambda: optimizers.SGD(learning_rate=0.1),
    "momentum": lambda: optimizers.SGD(learning_rate=0.1, momentum=0.9),
    "nesterov": lambda: optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=True),
    "adagrad": lambda: optimizers.Adagrad(learning_rate=0.1),
    "rmsprop": lambda: optimizers.RMSprop(learning_rate=0.01),
    "adam": lambda: optimizers.Adam(learning_rate=0.01),
}


@pytest.fixture(autouse=True)
def restore_fused_state():
    """A test that breaks or disables the kernels must not leave them off for later tests."""
    saved = dict(fused._state)
    yield
    fused._state.clear()
    fused._state.update(saved)


@pytest.fixture
def kernels():
    if os.environ.get("GUINN_JIT") == "0":
        pytest.skip("GUINN_JIT=0: the run checks the NumPy path only")
    k = fused.kernels()
    assert k is not None, fused.status()  # numba is a dependency: its absence is a failure here
    return k


def segment_squares(a, bounds):
    a64 = a.astype(np.float64)
    return np.array([np.dot(a64[lo:hi], a64[lo:hi]) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(VARIANTS))
def test_fused_step_is_bit_identical_to_numpy(kernels, name, dtype):
    n = 40_000  # several kernel blocks, and segments that end inside a block
    bounds = np.array([0, 17, 25_000, 25_003, n], dtype=np.int64)
    rng = np.random.default_rng(1)
    plain, fast = VARIANTS[name](), VARIANTS[name]()
    plain.build(n, np.dtype(dtype))
    fast.build(n, np.dtype(dtype))
    sums = np.zeros((len(bounds) - 1, 3))
    for step in range(4):
        g = (rng.standard_normal(n) * 10.0 ** rng.integers(-4, 2)).astype(dtype)
        if step == 2:
            g[:500] = 0  # rows that get no gradient, as for MNIST's blank border pixels
        want = plain.compute_update(g, np.empty(n, dtype))
        weights = rng.standard_normal(n).astype(dtype)
        before = weights.copy()
        scratch = np.empty(n, dtype)
        fast.fused_update(kernels, g, scratch, weights, fused.runs_of(bounds), sums)
        np.testing.assert_array_equal(weights, before + want)  # applied exactly as params += update
        np.testing.assert_array_equal(scratch, before)  # the old weights, to undo the step
        for slot in plain.slot_names:
            np.testing.assert_array_equal(fast.slots[slot], plain.slots[slot])
        assert fast.iterations == plain.iterations == step + 1
        np.testing.assert_allclose(sums[:, 0], segment_squares(g, bounds), rtol=1e-9)
        np.testing.assert_allclose(sums[:, 1], segment_squares(want, bounds), rtol=1e-9)
        np.testing.assert_allclose(sums[:, 2], segment_squares(weights, bounds), rtol=1e-9)


def train(optimizer, jit: bool, monkeypatch, dtype="float32"):
    if not jit:
        monkeypatch.setitem(fused._state, "kernels", None)
        monkeypatch.setitem(fused._state, "reason", "off for this test")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((120, 6)).astype(dtype)
    y = np.eye(3, dtype=dtype)[rng.integers(0, 3, 120)]
    model = Sequential(seed=4, dtype=dtype)
    model.add(Dense(16, activation="tanh", input_dim=6, kernel_regularizer="l2"))
    model.add(Dropout(0.2))
    model.add(Dense(8, activation="prelu"))
    model.add(Dense(6, activation="maxout", kernel_regularizer="l1"))
    model.add(Dense(5, activation="relu", use_bias=False))
    model.add(Dense(3, activation="softmax"))
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    seen = []
    from guinn.callbacks import LambdaCallback

    model.fit(x, y, batch_size=16, epochs=3, verbose=0,
              callbacks=[LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(logs["telemetry"]))])
    used_kernels = model._applied
    monkeypatch.undo()
    return model, seen, used_kernels


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(VARIANTS))
def test_training_is_bit_identical_with_and_without_numba(kernels, name, dtype, monkeypatch):
    fast, fast_tel, fast_used = train(VARIANTS[name](), True, monkeypatch, dtype)
    plain, plain_tel, plain_used = train(VARIANTS[name](), False, monkeypatch, dtype)
    assert fast_used and not plain_used, fused.status()
    np.testing.assert_array_equal(fast.get_flat_weights(), plain.get_flat_weights())
    assert fast.history.history == plain.history.history
    for a, b in zip(fast_tel, plain_tel, strict=True):
        for la, lb in zip(a.layers, b.layers, strict=True):
            for field in ("grad_rms", "weight_rms", "update_ratio"):
                assert getattr(la, field) == pytest.approx(getattr(lb, field), rel=1e-5), field


def test_a_custom_optimizer_rule_is_never_replaced_by_a_kernel(kernels, monkeypatch):
    """A subclass that rewrites the rule (``_update``) must train with that rule."""

    class HalfSGD(optimizers.SGD):
        def _update(self, g, update, tmp):
            return np.multiply(g, -0.5 * self.learning_rate, out=update)

    assert not HalfSGD().supports_fused() and optimizers.SGD().supports_fused()
    custom, _, used = train(HalfSGD(learning_rate=0.1), True, monkeypatch)
    half, _, _ = train(optimizers.SGD(learning_rate=0.05), False, monkeypatch)
    assert not used
    np.testing.assert_array_equal(custom.get_flat_weights(), half.get_flat_weights())
    assert fused.kernels() is kernels  # a custom optimizer does not switch the kernels off


def test_a_failing_kernel_falls_back_to_numpy_and_says_why(monkeypatch):
    class Broken:
        def __getattr__(self, name):
            def fail(*args):
                raise RuntimeError("no compiler here")
            return fail

    monkeypatch.setitem(fused._state, "kernels", Broken())
    monkeypatch.setitem(fused._state, "reason", "broken on purpose")
    rng = np.random.default_rng(0)
    model = Sequential(seed=0)
    model.add(Dense(3, activation="softmax", input_dim=2))
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    x = rng.standard_normal((20, 2)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 20)]
    model.fit(x, y, epochs=2, verbose=0)
    assert np.isfinite(model.get_flat_weights()).all() and model.optimizer.iterations == 2
    assert fused.kernels() is None and "no compiler here" in fused.status()


def test_guinn_jit_0_turns_the_kernels_off(monkeypatch):
    monkeypatch.setenv("GUINN_JIT", "0")
    namespace, reason = fused._load()
    assert namespace is None and "GUINN_JIT=0" in reason


def test_warm_up_compiles_what_training_calls(kernels):
    fused.warm_up(("float32", "float64"))
    assert fused.kernels() is kernels  # nothing failed
    for name in ("optimizer_step", "count_outside", "sumsq"):
        assert len(getattr(kernels, name).signatures) >= 2, name  # float32 and float64


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_count_outside_matches_numpy_comparisons(kernels, dtype):
    a = np.random.default_rng(3).uniform(-1.2, 1.2, size=(64, 50)).astype(dtype)
    a[0, :3] = [0.98, -0.98, np.nan]  # on the boundary (not outside), and NaN (neither)
    for low, high in ((0.02, 0.98), (-0.98, 0.98)):
        want = np.count_nonzero(a < low) + np.count_nonzero(a > high)
        assert fused.count_outside(a, low, high) == want


READ_ONLY_CACHE = """
import numba.core.caching as caching
def refuse(self):
    raise PermissionError("read-only for this test")
for cls in vars(caching).values():
    if isinstance(cls, type) and "ensure_cache_path" in vars(cls):
        cls.ensure_cache_path = refuse
import numpy as np
from guinn.core import fused
k = fused.kernels()
print(fused.status())
g = np.ones(8, np.float32); u = np.empty_like(g); p = np.zeros_like(g); sums = np.zeros((1, 3))
k.optimizer_step(fused.SGD, g, u, u, u, p, np.array([-0.5], np.float32), fused.runs_of(np.array([0, 8])), sums)
print(p[0], sums[0, 0])
"""


def test_no_writable_cache_folder_still_compiles(kernels, tmp_path):
    """A read-only install (no folder Numba may cache into) keeps the kernels, compiled per session."""
    import subprocess
    import sys

    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "missing" / "deeper")}
    out = subprocess.run([sys.executable, "-c", READ_ONLY_CACHE], capture_output=True, text=True, env=env,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    status, numbers = out.stdout.strip().splitlines()[-2:]
    assert "fused optimizer steps" in status and "compiled each session" in status
    assert numbers.split() == ["-0.5", "8.0"]
