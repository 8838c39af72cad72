"""Core speed: guinn vs PyTorch (CPU) vs the GEMM floor, telemetry cost, and peak memory.

Every figure is a median of alternating repeats measured in this one run, so the ratios
compare like with like on whatever machine runs it.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys

import numpy as np

from guinn.bench.workloads import (
    DEEP_NARROW,
    REFERENCE,
    mnist_arrays,
    time_gemm_floor,
    time_guinn,
    time_torch,
    torch_available,
)


def blas_info() -> str:
    try:
        from threadpoolctl import threadpool_info

        info = [f"{i.get('internal_api')} {i.get('version')} ({i.get('num_threads')} threads, "
                f"{i.get('architecture')})" for i in threadpool_info() if i.get("user_api") == "blas"]
        if info:
            return "; ".join(info)
    except Exception:
        pass
    config = np.show_config(mode="dicts") if hasattr(np, "show_config") else {}
    blas = config.get("Build Dependencies", {}).get("blas", {}) if isinstance(config, dict) else {}
    return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()


def machine() -> str:
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}, NumPy {np.__version__}, BLAS {blas_info()}")


def compare(name, workload, samples, repeats, with_torch, x, yo, yi, telemetry_cost=False):
    """Alternate guinn / torch / floor (and guinn without telemetry) and print medians."""
    times: dict[str, list[float]] = {"guinn": [], "floor": []}
    if with_torch:
        times["torch"] = []
    if telemetry_cost:
        times["guinn_no_telemetry"] = []
    args = dict(widths=workload["widths"], activation=workload["activation"], batch_size=workload["batch_size"])
    for _ in range(repeats):
        times["guinn"].append(time_guinn(x, yo, **args))
        if telemetry_cost:
            times["guinn_no_telemetry"].append(time_guinn(x, yo, telemetry=False, **args))
        if with_torch:
            times["torch"].append(time_torch(x, yi, **args))
        times["floor"].append(time_gemm_floor(samples, workload["widths"], workload["batch_size"]))
    rate = {k: samples / statistics.median(v) for k, v in times.items()}
    line = f"{name:<34} guinn {rate['guinn']:>8,.0f}/s"
    if with_torch:
        line += f"  torch {rate['torch']:>8,.0f}/s  guinn/torch {rate['guinn'] / rate['torch']:.2f}x"
    line += f"  floor {rate['floor']:>8,.0f}/s  guinn/floor {rate['guinn'] / rate['floor']:.2f}"
    print(line, flush=True)
    if telemetry_cost:
        on, off = statistics.median(times["guinn"]), statistics.median(times["guinn_no_telemetry"])
        # Median of the paired ratios: each pair ran back to back, so slow drifts of the machine cancel.
        paired = statistics.median(a / b for a, b in zip(times["guinn"], times["guinn_no_telemetry"], strict=True))
        rate["telemetry_cost"] = paired - 1
        print(f"{'  telemetry cost':<34} {100 * (paired - 1):+.1f}% of training time "
              f"(median of paired runs; on {samples / on:,.0f}/s, off {samples / off:,.0f}/s)", flush=True)
    return rate


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


def run(samples=20000, repeats=3, memory=True, extra=True) -> dict:
    print(f"Machine: {machine()}")
    with_torch = torch_available()
    if with_torch:
        import torch

        print(f"PyTorch {torch.__version__} on the CPU with {torch.get_num_threads()} threads")
    else:
        print("PyTorch is not installed: the guinn/torch ratios are skipped (pip install torch to compare).")
    print(f"Each figure: median of {repeats} alternating repeats, {samples:,} MNIST samples (one epoch) each.\n")
    x, yo, yi = mnist_arrays(samples)
    results = {"reference": compare("784-500-500-10 sigmoid, batch 100", REFERENCE, samples, repeats, with_torch,
                                    x, yo, yi, telemetry_cost=True)}
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
