"""Core speed: guinn vs PyTorch (CPU) vs the GEMM floor, telemetry cost, and peak memory.

Every figure is a median of alternating repeats measured in this one run, so the ratios
compare like with like on whatever machine runs it.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys

import numpy as np

from guinn.bench import blas
from guinn.bench.workloads import (
    DEEP_NARROW,
    REFERENCE,
    guinn_model,
    mnist_arrays,
    step_breakdown,
    telemetry_cost,
    time_gemm_floor,
    time_guinn,
    time_torch,
    torch_available,
)


def machine() -> str:
    from guinn.core import fused, split

    parts = split.parts_wanted()
    steps = (f"split over {parts} threads where the model allows (GUINN_SPLIT=0 turns it off)"
             if parts > 1 and split.enabled() and split.crew_kernels(np.float32) else "ordinary (not split)")
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}, NumPy {np.__version__}, BLAS {blas.describe()}; optimizer steps: "
            f"{fused.status()}; training steps: {steps}")


@contextlib.contextmanager
def ordinary_steps():
    """Training without split steps (as GUINN_SPLIT=0), for comparison."""
    from guinn.core import split

    saved, split.PARTS = split.PARTS, 1
    try:
        yield
    finally:
        split.PARTS = saved


def compare(name, workload, samples, repeats, with_torch, x, yo, yi):
    """Alternate guinn / guinn with ordinary steps / torch / floor and print ratios of medians.

    The ordinary-step run (split steps off, as GUINN_SPLIT=0) is only timed when the
    workload's steps would be split here, so its ratio pairs with the split one.
    """
    from guinn.core import split

    args = workload_args(workload)
    probe = guinn_model(workload["widths"], workload["activation"])
    splits = split.SplitStep.plan(probe, workload["batch_size"]) is not None
    times: dict[str, list[float]] = {"guinn": [], "floor": []}
    if splits:
        times["ordinary"] = []
    if with_torch:
        times["torch"] = []
    for _ in range(repeats):
        times["guinn"].append(time_guinn(x, yo, **args))
        if splits:
            with ordinary_steps():
                times["ordinary"].append(time_guinn(x, yo, **args))
        if with_torch:
            times["torch"].append(time_torch(x, yi, **args))
        times["floor"].append(time_gemm_floor(samples, workload["widths"], workload["batch_size"]))
    rate = {k: samples / statistics.median(v) for k, v in times.items()}
    line = f"{name:<34} guinn {rate['guinn']:>8,.0f}/s"
    if with_torch:
        line += (f"  torch {rate['torch']:>8,.0f}/s  guinn/torch {rate['guinn'] / rate['torch']:.2f}x"
                 f"{_spread(times['torch'], times['guinn'])}")
    line += (f"  floor {rate['floor']:>8,.0f}/s  guinn/floor {rate['guinn'] / rate['floor']:.2f}"
             f"{_spread(times['floor'], times['guinn'])}")
    if splits:
        line += (f"  [split step; ordinary step: guinn/floor {rate['ordinary'] / rate['floor']:.2f}"
                 f"{_spread(times['floor'], times['ordinary'])}]")
    print(line, flush=True)
    return rate


def _spread(numerators, denominators) -> str:
    """The range of the per-repeat ratios: how much the machine moved the figure in this run."""
    ratios = [a / b for a, b in zip(numerators, denominators, strict=True)]
    return f" ({min(ratios):.2f}-{max(ratios):.2f})" if len(ratios) > 1 else ""


def workload_args(workload) -> dict:
    return dict(widths=workload["widths"], activation=workload["activation"], batch_size=workload["batch_size"])


def report_telemetry_cost(x, yo, pairs=400, block_steps=1) -> float:
    cost = telemetry_cost(x, yo, pairs=pairs, block_steps=block_steps, **workload_args(REFERENCE))
    blocks = "steps" if block_steps == 1 else f"{block_steps}-step blocks"
    print(f"{'  telemetry cost':<34} {100 * cost:+.1f}% of training time (telemetry on vs off: median of {pairs} "
          f"pairs of {blocks}, in one fit)", flush=True)
    return cost


def report_breakdown(x, yo, steps=100) -> dict:
    """Where a reference step's time goes, and what 0.8 of the floor would leave for the rest."""
    parts = step_breakdown(x, yo, steps=steps, **workload_args(REFERENCE))
    floor, step = parts["floor"], parts["step"]
    outside = step - parts["products"] - parts["optimizer"]
    if parts["split"] > 1:
        how = (f"split over {parts['split']} threads: phases with the matrix products {parts['products']:.2f} "
               f"(alone, NumPy's own threads take {floor:.2f}) + optimizer and apply {parts['optimizer']:.2f} + "
               f"the calling thread's own work (loss, output layer's softmax, accuracy, overflow check) {outside:.2f}")
    else:
        how = (f"forward+backward {parts['products']:.2f} (matrix products alone {floor:.2f}) + optimizer update "
               f"and apply {parts['optimizer']:.2f} + the rest {outside:.2f}")
    print(f"{'  one step (fixed batch, no telemetry)':<34} {step:.2f} ms, {how}; floor/step {floor / step:.2f}. "
          f"0.8 of the floor leaves {floor / 0.8 - floor:.2f} ms for everything but the matrix products.", flush=True)
    return parts


PEAK_RSS_SCRIPT = """
import resource, sys
from guinn.bench.workloads import mnist_arrays, guinn_model
x, yo, _ = mnist_arrays(60000)
from guinn.datasets import mnist
(xt, yt), _ = mnist.load_data()
model = guinn_model((784, 500, 500, 10), "sigmoid")
model.fit(x, yo, batch_size=100, epochs=int(sys.argv[1]), validation_split=0.1, verbose=0)
# VmHWM is this process's own peak; ru_maxrss would also count the parent's RSS at fork time.
hwm = [line for line in open("/proc/self/status") if line.startswith("VmHWM:")]
print(hwm[0].split()[1] if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_rss_mb(epochs: int) -> float:
    """Peak RSS of a full MNIST fit of the reference network, in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", PEAK_RSS_SCRIPT, str(epochs)], capture_output=True, text=True,
                         check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def run(samples=20000, repeats=5, memory=True, extra=True) -> dict:
    print(f"Machine: {machine()}")
    with_torch = torch_available()
    if with_torch:
        import torch

        print(f"PyTorch {torch.__version__} on the CPU with {torch.get_num_threads()} threads")
    else:
        print("PyTorch is not installed: the guinn/torch ratios are skipped (pip install torch to compare).")
    print(f"Each ratio: of the medians of {repeats} alternating repeats, {samples:,} MNIST samples (one epoch) "
          "each, every timing after a 0.5 s pause; in brackets, the lowest and highest ratio of a single repeat.\n")
    x, yo, yi = mnist_arrays(samples)
    results = {"reference": compare("784-500-500-10 sigmoid, batch 100", REFERENCE, samples, repeats, with_torch,
                                    x, yo, yi)}
    steps = max(1, min(100, samples // REFERENCE["batch_size"]))
    results["telemetry_cost"] = report_telemetry_cost(x, yo, pairs=min(400, 4 * steps))
    results["step_ms"] = report_breakdown(x, yo, steps=steps)
    if extra:
        for bs in (32, 1000):
            results[f"batch{bs}"] = compare(f"784-500-500-10 sigmoid, batch {bs}", {**REFERENCE, "batch_size": bs},
                                            samples, repeats, with_torch, x, yo, yi)
        results["deep_narrow"] = compare("10x64 sigmoid (deep narrow)", DEEP_NARROW, samples, repeats,
                                         with_torch, x, yo, yi)
    if memory:
        mb = peak_rss_mb(1)
        results["peak_rss_mb"] = mb
        print(f"\nPeak RSS, full MNIST fit (60,000 samples, 1 epoch, validation_split 0.1): {mb:,.0f} MB "
              f"({mb / 600:.2f} of the 600 MB budget)")
    return results


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
