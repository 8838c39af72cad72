"""Layer cards: the one description of a hidden layer that the app edits, experiment
files store and the command line runs.

A card is a Dense layer with its activation, dropout and L1/L2 penalties; it expands to
engine layers (Dense [+ PReLU] [+ Dropout], or Maxout [+ Dropout]). ``build_model``
turns a list of cards plus the dataset's input size and class count into a ``Sequential``
whose output layer is a softmax over the classes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from guinn.core import activations, initializers
from guinn.core.layers import Dense, Dropout, Maxout, PReLU
from guinn.core.layers.base import Layer
from guinn.core.model import Sequential
from guinn.core.validation import MAX_INPUT_SIZE, check_int_in, check_number_in, dataclass_from_dict
from guinn.errors import ConfigError, unknown_name

# Hidden layer cards a network may have: deeper than any lesson needs, and well inside what a
# model file holds (1,000 layers; a card is up to three: Dense, PReLU, Dropout). An experiment file
# of 20,000 cards trained for 14 s, then could not be saved.
MAX_CARDS = 100
MAX_CLASSES = 10_000  # an output layer's classes (a label column of free text would give one per row)
CARD_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "prelu", "maxout", "linear")
SPELLINGS = {"leakyrelu": "leaky_relu", "parametric_relu": "prelu", "p_relu": "prelu"}  # after lower-casing

ACTIVATION_LABELS = {
    "sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "ReLU", "leaky_relu": "Leaky ReLU",
    "prelu": "Parametric ReLU", "maxout": "Maxout", "linear": "Linear",
}

ACTIVATION_HELP = {
    **{name: act.help for name, act in activations.ACTIVATIONS.items()},
    "prelu": "ReLU whose negative slope is learned per unit (starts at 0.25): no dead units, and "
             "the network chooses how leaky each unit is.",
    "maxout": "Each unit outputs the max of k learned linear pieces: a learned convex activation. "
              "Costs k times the weights.",
}


@dataclass(frozen=True)
class LayerSpec:
    """One hidden Dense layer as the user sees it."""

    units: int = 128
    activation: str = "relu"
    alpha: float = 0.3  # Leaky ReLU slope for z < 0
    pieces: int = 2  # Maxout pieces per unit
    dropout: float = 0.0
    l1: float = 0.0
    l2: float = 0.0

    def __post_init__(self):
        check_int_in("units", self.units, 1, 100_000)
        if isinstance(self.activation, str):  # "ReLU", "Leaky ReLU" as the app and README write them
            name = self.activation.strip().lower().replace(" ", "_").replace("-", "_")
            object.__setattr__(self, "activation", SPELLINGS.get(name, name))
        if self.activation == "softmax":
            raise ConfigError("softmax is the output layer's activation, and guinn adds that layer itself after "
                              f"the hidden layers (its size follows the labels); hidden layers take "
                              f"{', '.join(CARD_ACTIVATIONS)}.")
        if self.activation not in CARD_ACTIVATIONS:
            raise unknown_name("activation", self.activation, CARD_ACTIVATIONS)
        activations.check_alpha(self.alpha)
        check_int_in("pieces", self.pieces, 2, 16)
        check_number_in("dropout", self.dropout, 0.0, 0.95)
        check_number_in("l1", self.l1, 0.0, 10.0)
        check_number_in("l2", self.l2, 0.0, 10.0)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> LayerSpec:
        return dataclass_from_dict(cls, data, noun="A layer spec", kind="layer")

    def with_changes(self, **changes) -> LayerSpec:
        return type(self)(**{**self.to_dict(), **changes})

    def param_count(self, input_dim: int) -> int:
        if self.activation == "maxout":
            return (input_dim + 1) * self.units * self.pieces
        extra = self.units if self.activation == "prelu" else 0
        return (input_dim + 1) * self.units + extra

    def to_layers(self, initializer="glorot_uniform", input_dim: int | None = None) -> list[Layer]:
        reg = {"l1": self.l1, "l2": self.l2} if (self.l1 or self.l2) else None
        common = dict(kernel_initializer=initializers.get(initializer), kernel_regularizer=reg,
                      input_dim=input_dim)
        if self.activation == "maxout":
            layers: list[Layer] = [Maxout(self.units, pieces=self.pieces, **common)]
        elif self.activation == "prelu":
            layers = [Dense(self.units, activation="linear", **common),
                      PReLU(alpha_initializer=initializers.Constant(0.25))]
        else:
            layers = [Dense(self.units, activation=self.activation, alpha=self.alpha, **common)]
        if self.dropout:
            layers.append(Dropout(self.dropout))
        return layers


def build_model(input_dim: int, hidden: list[LayerSpec], n_classes: int, *, seed: int | None = None,
                initializer: str = "glorot_uniform", dtype=None) -> Sequential:
    """Cards -> a Sequential ending in the protected softmax output layer."""
    check_int_in("input size", input_dim, 1, MAX_INPUT_SIZE)
    check_int_in("number of classes", n_classes, 2, MAX_CLASSES)
    check_int_in("number of hidden layers", len(hidden), 0, MAX_CARDS)
    model = Sequential(seed=seed, dtype=dtype)
    first = True
    for spec in hidden:
        for layer in spec.to_layers(initializer, input_dim if first else None):
            model.add(layer)
            first = False
    model.add(Dense(n_classes, activation="softmax", kernel_initializer=initializers.get(initializer),
                    input_dim=input_dim if first else None))
    return model


def cards_from_model(model: Sequential) -> tuple[list[LayerSpec], int] | None:
    """Recover (cards, n_classes) from a model built from cards; None if it has another shape."""
    layers = list(model.layers)
    if not layers or not isinstance(layers[-1], Dense) or layers[-1].activation.name != "softmax":
        return None
    cards, i = [], 0
    body = layers[:-1]
    while i < len(body):
        layer = body[i]
        reg = getattr(layer, "kernel_regularizer", None)
        pen = {"l1": reg.l1, "l2": reg.l2} if reg else {}
        if isinstance(layer, Maxout):
            spec = dict(units=layer.units, activation="maxout", pieces=layer.pieces, **pen)
        elif isinstance(layer, Dense):
            if i + 1 < len(body) and isinstance(body[i + 1], PReLU) and layer.activation.name == "linear":
                spec = dict(units=layer.units, activation="prelu", **pen)
                i += 1
            elif layer.activation.name in CARD_ACTIVATIONS:
                spec = dict(units=layer.units, activation=layer.activation.name, alpha=layer.alpha, **pen)
            else:
                return None
        else:
            return None
        if i + 1 < len(body) and isinstance(body[i + 1], Dropout):
            spec["dropout"] = body[i + 1].rate
            i += 1
        try:
            cards.append(LayerSpec(**spec))
        except ConfigError:
            return None
        i += 1
    return cards, layers[-1].units
