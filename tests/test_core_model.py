"""Sequential end to end: leading parameter-free layers, predict/evaluate paths, weights order."""

from __future__ import annotations

import numpy as np
import pytest

from guinn.core.layers import Activation, Dense, Dropout, Flatten
from guinn.core.model import Sequential


@pytest.mark.parametrize("first", [
    lambda: Flatten(input_shape=(2, 3)),
    lambda: Dropout(0.2, input_shape=(2, 3)),
    lambda: Activation("tanh", input_shape=(2, 3)),
], ids=["flatten", "dropout", "activation"])
def test_fit_with_parameter_free_first_layer(first):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 2, 3))
    y = np.eye(2)[rng.integers(0, 2, 20)]
    layers = [first()]
    if not isinstance(layers[0], Flatten):
        layers.append(Flatten())
    layers += [Dense(4, activation="relu"), Dense(2, activation="softmax")]
    model = Sequential(layers, seed=1)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=5, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert np.isfinite(model.get_flat_weights()).all()
