"""Keras-style entry point: ``from guinn.losses import CategoricalCrossentropy, ...``."""

from guinn import keras_names
from guinn.core.losses import (
                               BinaryCrossentropy,
                               CategoricalCrossentropy,
                               Loss,
                               MeanSquaredError,
                               SparseCategoricalCrossentropy,
                               binary_crossentropy,
                               categorical_crossentropy,
                               get,
                               mean_squared_error,
                               mse,
                               sparse_categorical_crossentropy,
)

__all__ = ["BinaryCrossentropy", "CategoricalCrossentropy", "Loss", "MeanSquaredError",
           "SparseCategoricalCrossentropy", "binary_crossentropy", "categorical_crossentropy", "get",
           "mean_squared_error", "mse", "sparse_categorical_crossentropy"]

__getattr__ = keras_names.module_getattr("guinn.losses", [*__all__], keras_names.LOSSES)
