"""``python -m guinn.bench [core|gui] ...``: measure training speed, telemetry cost, memory and GUI
responsiveness, each as a ratio measured in this one run."""

from __future__ import annotations

import argparse


def _at_least(least: int):
    """An argparse type: a whole number >= ``least`` (a usage error otherwise, not a traceback)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"must be at least {least:,}, got {value:,}")
        return value

    return parse


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m guinn.bench", description=__doc__)
    sub = parser.add_subparsers(dest="what")
    core = sub.add_parser("core", help="guinn vs PyTorch vs the GEMM floor, telemetry cost, peak memory (default)")
    core.add_argument("--samples", type=_at_least(1000), default=20000,
                      help="MNIST samples per timed epoch (at least one batch of the batch-1000 workload)")
    core.add_argument("--repeats", type=_at_least(1), default=5, help="alternating repeats (median reported)")
    core.add_argument("--quick", action="store_true", help="reference workload only, no memory run")
    gui = sub.add_parser("gui", help="training inside the real window vs headless fit; event-loop latency")
    gui.add_argument("--samples", type=_at_least(1000), default=60000, help="MNIST training images per timed run")
    gui.add_argument("--epochs", type=_at_least(1), default=1, help="epochs per timed run")
    gui.add_argument("--repeats", type=_at_least(1), default=3, help="alternating repeats (the best is reported)")
    args = parser.parse_args(argv)
    if args.what == "gui":
        from guinn.gui.bench import run_gui_bench

        run_gui_bench(samples=args.samples, epochs=args.epochs, repeats=args.repeats)
        return 0
    from guinn.bench.core import run

    samples = getattr(args, "samples", 20000)
    repeats = getattr(args, "repeats", 5)
    quick = getattr(args, "quick", False)
    run(samples=samples, repeats=repeats, memory=not quick, extra=not quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
