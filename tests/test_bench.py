"""The benchmark runs end to end (tiny sizes; its figures are printed, never asserted)."""

from __future__ import annotations

import os

from guinn.bench import blas
from guinn.bench.core import run
from guinn.bench.workloads import REFERENCE, mnist_arrays, step_breakdown, telemetry_cost


def test_core_bench_prints_every_figure(capsys, monkeypatch):
    monkeypatch.setattr("guinn.bench.workloads.SETTLE_SECONDS", 0.0)
    monkeypatch.setattr("guinn.bench.core.torch_available", lambda: False)
    results = run(samples=200, repeats=1, memory=False, extra=False)
    out = capsys.readouterr().out
    assert "PyTorch is not installed" in out
    assert "guinn/floor" in out and "telemetry cost" in out and "one step" in out
    assert results["reference"]["guinn"] > 0 and results["reference"]["floor"] > 0
    assert set(results["step_ms"]) == {"floor", "split", "products", "optimizer", "step"}


def test_telemetry_cost_and_breakdown_are_measured(monkeypatch):
    monkeypatch.setattr("guinn.bench.workloads.SETTLE_SECONDS", 0.0)
    x, yo, _ = mnist_arrays(400)
    cost = telemetry_cost(x, yo, pairs=2, block_steps=2, **REFERENCE)
    assert -1 < cost < 10
    parts = step_breakdown(x, yo, repeats=1, steps=2, **REFERENCE)
    assert all(v > 0 for v in parts.values())
    assert parts["step"] > parts["optimizer"]


def test_blas_description_names_the_library():
    text = blas.describe()
    assert text and "?" not in text.split()[0]
    if os.environ.get("OPENBLAS_CORETYPE") and blas.openblas_core():
        assert "forced by OPENBLAS_CORETYPE" in text


def test_bench_arguments_too_small_are_usage_errors(capsys):
    import pytest

    from guinn.bench.__main__ import main

    for argv in (["core", "--samples", "50"], ["core", "--repeats", "0"], ["gui", "--epochs", "x"]):
        with pytest.raises(SystemExit) as stop:
            main(argv)
        assert stop.value.code == 2
    assert "must be at least 1,000, got 50" in capsys.readouterr().err


def test_telemetry_cost_with_fewer_samples_than_a_batch(monkeypatch):
    monkeypatch.setattr("guinn.bench.workloads.SETTLE_SECONDS", 0.0)
    x, yo, _ = mnist_arrays(50)
    assert -1 < telemetry_cost(x, yo, pairs=2, block_steps=1, **REFERENCE) < 10
