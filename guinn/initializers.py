"""Keras-style entry point: ``from guinn.initializers import HeNormal, ...``."""

from guinn.core.initializers import (
                                     Constant,
                                     GlorotNormal,
                                     GlorotUniform,
                                     HeNormal,
                                     HeUniform,
                                     Ones,
                                     RandomNormal,
                                     RandomUniform,
                                     Zeros,
                                     get,
)

__all__ = ["Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Ones", "RandomNormal",
           "RandomUniform", "Zeros", "get"]
