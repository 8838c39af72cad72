"""Keras-style entry point: ``from guinn.losses import CategoricalCrossentropy, ...``."""

from guinn.core.losses import (
                               BinaryCrossentropy,
                               CategoricalCrossentropy,
                               Loss,
                               MeanSquaredError,
                               SparseCategoricalCrossentropy,
                               get,
)

__all__ = ["BinaryCrossentropy", "CategoricalCrossentropy", "Loss", "MeanSquaredError",
           "SparseCategoricalCrossentropy", "get"]
