"""Ready-made datasets: bundled MNIST and any other IDX image/label files.

``mnist`` is imported here so that ``keras.datasets.mnist.load_data()``, the tutorials' first
line, works after a plain ``import guinn as keras``."""

from guinn import keras_names
from guinn.datasets import mnist
from guinn.datasets.idx_files import load_idx_dataset

__all__ = ["load_idx_dataset", "mnist"]

__getattr__ = keras_names.module_getattr("guinn.datasets", __all__, keras_names.DATASETS)
