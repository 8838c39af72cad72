"""The allow-list of layer types a config (or a model file) may name."""

from __future__ import annotations

from guinn.core.layers.activation import Activation
from guinn.core.layers.base import Layer
from guinn.core.layers.dense import Dense
from guinn.core.layers.dropout import Dropout
from guinn.core.layers.flatten import Flatten
from guinn.core.layers.maxout import Maxout
from guinn.core.layers.prelu import PReLU
from guinn.errors import ConfigError, GuinnError, unknown_name

LAYER_TYPES: dict[str, type[Layer]] = {
    cls.type_name: cls for cls in (Dense, Dropout, Activation, PReLU, Maxout, Flatten)
}


def layer_from_config(entry: dict) -> Layer:
    """Build a layer from ``{"type": "Dense", "config": {...}}``; only allow-listed types."""
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        raise ConfigError(f"A layer entry must be {{'type': ..., 'config': {{...}}}}, got {entry!r:.200}.")
    type_name = entry.get("type")
    cls = LAYER_TYPES.get(type_name)
    if cls is None:
        raise unknown_name("layer type", type_name, LAYER_TYPES)
    try:
        return cls.from_config(dict(entry["config"]))
    except GuinnError:
        raise
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"Bad config for layer {type_name}: {exc}") from None
