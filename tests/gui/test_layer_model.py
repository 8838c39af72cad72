"""The layer-stack item model: Qt's model tester, moves, counts and the discard guard."""

from PySide6.QtCore import QModelIndex

from guinn.core.specs import LayerSpec, build_model
from guinn.gui.layer_model import LayerListModel, SpecRole

SPECS = [LayerSpec(500, "sigmoid"), LayerSpec(300, "maxout", pieces=3), LayerSpec(100, "prelu")]


def test_qt_model_tester(qtmodeltester):
    model = LayerListModel(SPECS, 784, 10)
    qtmodeltester.check(model, force_py=True)


def test_param_counts_match_the_engine():
    model = LayerListModel(SPECS, 784, 10)
    built = build_model(784, SPECS, 10)
    assert model.total_params() == built.count_params()
    assert model.param_count(0) == 785 * 500
    assert model.data(model.index(1), SpecRole) == SPECS[1]


def test_move_rows_and_move_helper(qtmodeltester):
    model = LayerListModel(SPECS, 784, 10)
    qtmodeltester.check(model, force_py=True)
    assert model.move(0, 2)
    assert [s.units for s in model.specs()] == [300, 100, 500]
    assert model.moveRows(QModelIndex(), 2, 1, QModelIndex(), 0)
    assert [s.units for s in model.specs()] == [500, 300, 100]
    assert not model.moveRows(QModelIndex(), 0, 1, QModelIndex(), 1)  # onto itself


def test_guard_refuses_every_change():
    model = LayerListModel(SPECS, 784, 10)
    model.guard = lambda: False
    assert not model.insert_spec(0, LayerSpec())
    assert not model.remove_spec(0)
    assert not model.move(0, 1)
    assert not model.set_spec(0, LayerSpec(7))
    assert not model.set_specs([])
    assert model.specs() == SPECS


def test_shape_change_updates_counts():
    model = LayerListModel([LayerSpec(4, "relu")], 784, 10)
    model.set_shape(2, 3)
    assert model.total_params() == (2 + 1) * 4 + (4 + 1) * 3


def test_a_network_has_at_most_max_cards_hidden_layers(qtbot):
    from guinn.core.specs import MAX_CARDS

    model = LayerListModel([LayerSpec(4, "relu")] * MAX_CARDS, 2, 3)
    said = []
    model.refused.connect(said.append)
    assert not model.insert_spec(0, LayerSpec(4, "relu")) and not model.duplicate(0)
    assert model.rowCount() == MAX_CARDS and said == [f"A network has at most {MAX_CARDS} hidden layers."] * 2
