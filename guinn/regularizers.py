"""Keras-style entry point: ``from guinn.regularizers import l1, l2, l1_l2``."""

from guinn.core.regularizers import L1, L1L2, L2, l1, l1_l2, l2

__all__ = ["L1", "L1L2", "L2", "l1", "l1_l2", "l2"]
