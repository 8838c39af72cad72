"""Ready-made datasets: bundled MNIST and any other IDX image/label files."""

from guinn import keras_names
from guinn.datasets.idx_files import load_idx_dataset

__all__ = ["load_idx_dataset"]

__getattr__ = keras_names.module_getattr("guinn.datasets", [*__all__, "mnist"], keras_names.DATASETS)
