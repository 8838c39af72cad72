"""Ready-made datasets: bundled MNIST and any other IDX image/label files."""

from guinn.datasets.idx_files import load_idx_dataset

__all__ = ["load_idx_dataset"]
