"""The weights' spread: what tells L1's zeros from L2's small weights."""

import numpy as np

import guinn
from guinn.core.weight_spread import BINS, NEAR_ZERO, weight_spread


def _model(*layers, inputs=4):
    model = guinn.Sequential([guinn.layers.Input(shape=(inputs,)), *layers])
    model.compile("sgd", "categorical_crossentropy")
    return model


def test_each_kernel_is_binned_in_shares_on_common_symmetric_edges():
    model = _model(guinn.layers.Dense(6, activation="relu"), guinn.layers.Dense(3, activation="softmax"))
    first, last = model.layers[0].params["kernel"], model.layers[1].params["kernel"]
    first[...] = np.linspace(-0.25, 0.25, first.size).reshape(first.shape)
    last[...] = 0.0
    last[0, 0] = 0.7  # the output layer's: beyond the axis, which the hidden layers set
    spread = weight_spread(model)
    assert [layer.name for layer in spread.layers] == ["dense_1", "dense_2"]
    assert len(spread.edges) == BINS + 1
    assert spread.edges[0] == -spread.edges[-1] == -0.25  # the hidden layer's 99.9th percentile of |w|, rounded up
    centre = np.searchsorted(spread.edges, 0.0) - 1
    assert spread.edges[centre] < 0 < spread.edges[centre + 1]  # a bin straddles zero
    for layer, w, drawn in zip(spread.layers, (first, last), (1.0, 1 - 1 / last.size), strict=True):
        assert layer.count == w.size
        np.testing.assert_allclose(layer.fractions.sum(), drawn)
        counts, _ = np.histogram(w, bins=spread.edges)
        np.testing.assert_allclose(layer.fractions, counts / w.size)
        assert layer.near_zero == np.mean(np.abs(w) < NEAR_ZERO)
    assert spread.layers[1].near_zero == (last.size - 1) / last.size
    assert spread.layers[1].fractions[centre] == (last.size - 1) / last.size  # and the 0.7 in no bin


def test_biases_and_prelu_slopes_are_not_weights_here_but_maxout_kernels_are():
    model = _model(guinn.layers.Dense(5, activation="prelu"), guinn.layers.Maxout(4, pieces=3),
                   guinn.layers.Dense(2, activation="softmax"))
    spread = weight_spread(model)
    kernels = [layer for layer in model.layers if "kernel" in layer.params]
    assert [s.name for s in spread.layers] == [layer.name for layer in kernels]
    assert [s.count for s in spread.layers] == [4 * 5, 5 * 4 * 3, 4 * 2]


def test_a_diverged_layer_is_binned_without_its_non_finite_weights():
    model = _model(guinn.layers.Dense(3, activation="softmax"))
    w = model.layers[0].params["kernel"]
    w[...] = 0.25
    w[0, 0], w[1, 1] = np.nan, np.inf
    spread = weight_spread(model)
    assert spread.edges[-1] == 0.25  # the finite weights set the axis
    np.testing.assert_allclose(spread.layers[0].fractions.sum(), (w.size - 2) / w.size)


def test_no_spread_without_weights():
    assert weight_spread(None) is None
    unbuilt = guinn.Sequential([guinn.layers.Dense(3)])
    assert weight_spread(unbuilt) is None
    zeros = _model(guinn.layers.Dense(3, activation="softmax", kernel_initializer="zeros"))
    spread = weight_spread(zeros)
    assert spread.edges[-1] == 1.0 and spread.layers[0].near_zero == 1.0


def test_l1_makes_many_weights_exactly_zero_where_l2_does_not():
    """The lesson the plot shows, on a problem with useless inputs (only 2 of 20 matter)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 20)).astype(np.float32)
    y = guinn.utils.to_categorical((x[:, 0] + x[:, 1] > 0).astype(int), 2)
    shares = {}
    for name, reg in (("l1", guinn.regularizers.L1(0.01)), ("l2", guinn.regularizers.L2(0.01))):
        model = guinn.Sequential([guinn.layers.Dense(16, activation="relu", input_shape=(20,),
                                                     kernel_regularizer=reg),
                                  guinn.layers.Dense(2, activation="softmax")], seed=1)
        model.compile(guinn.optimizers.SGD(0.05), "categorical_crossentropy")
        model.fit(x, y, epochs=40, batch_size=40, verbose=0)
        shares[name] = weight_spread(model).layers[0].near_zero
    assert shares["l1"] > 0.3 > 0.1 > shares["l2"], shares


def test_weights_near_float64s_largest_still_have_increasing_finite_edges():
    model = _float64_model()
    w = model.layers[0].params["kernel"]
    w[...] = 0.0
    w[0, 0] = 1.5e308
    spread = weight_spread(model)
    assert np.isfinite(spread.edges).all() and (np.diff(spread.edges) > 0).all()


def _float64_model():
    model = guinn.Sequential([guinn.layers.Dense(3, activation="softmax", input_shape=(4,))], dtype="float64")
    model.compile("sgd", "categorical_crossentropy")
    return model


def test_the_axis_spans_the_bulk_of_the_weights_not_the_output_layers_few_large_ones():
    """The output layer's largest weights set the axis before, squeezing the hidden layers'
    spread into the middle sixth of the plot."""
    model = _model(guinn.layers.Dense(200, activation="relu", input_shape=(100,)),
                   guinn.layers.Dense(3, activation="softmax"), inputs=100)
    hidden, output = model.layers[0].params["kernel"], model.layers[1].params["kernel"]
    hidden[...] = np.random.default_rng(0).uniform(-0.07, 0.07, hidden.shape)
    output[...] = np.random.default_rng(1).uniform(-0.35, 0.35, output.shape)
    spread = weight_spread(model)
    assert spread.edges[-1] == 0.08
    assert spread.layers[0].fractions.sum() == 1.0 and spread.layers[1].fractions.sum() < 0.3
