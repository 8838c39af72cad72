"""Benchmarks that print figures as ratios measured in one run (``python -m guinn.bench``)."""
