"""The layer stack: a plain list of :class:`LayerSpec` cards, adapted for Qt views.

The list is the truth (it builds the model and is stored in experiment files); views and
the editor only listen to it. ``guard`` is asked before any change, so the window can
confirm discarding a trained model first.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QAbstractListModel, QModelIndex, Qt, Signal

from guinn.core.specs import ACTIVATION_HELP, ACTIVATION_LABELS, MAX_CARDS, LayerSpec

SpecRole = Qt.ItemDataRole.UserRole + 1
ParamsRole = Qt.ItemDataRole.UserRole + 2


def describe_settings(spec: LayerSpec) -> str:
    """Activation and regularisation of a card, e.g. 'Leaky ReLU (slope 0.1) · dropout 0.2'."""
    act = ACTIVATION_LABELS[spec.activation]
    if spec.activation == "leaky_relu":
        act += f" (slope {spec.alpha:g})"
    elif spec.activation == "maxout":
        act += f" (k={spec.pieces})"
    extras = []
    if spec.dropout:
        extras.append(f"dropout {spec.dropout:g}")
    if spec.l1:
        extras.append(f"L1 {spec.l1:g}")
    if spec.l2:
        extras.append(f"L2 {spec.l2:g}")
    return " · ".join([act, *extras])


def describe(spec: LayerSpec) -> str:
    """One-line summary of a card, as read by screen readers and shown without the delegate."""
    return f"Dense {spec.units} · {describe_settings(spec)}"


class LayerListModel(QAbstractListModel):
    """Hidden-layer cards between the dataset's input and the protected softmax output."""

    specsChanged = Signal()
    refused = Signal(str)  # an edit that is not allowed, and why

    def __init__(self, specs=(), input_dim: int = 784, n_classes: int = 10, parent=None):
        super().__init__(parent)
        self._specs: list[LayerSpec] = list(specs)
        self._input_dim = int(input_dim)
        self._n_classes = int(n_classes)
        self.guard: Callable[[], bool] = lambda: True
        # Asked first for an edit that may not change any weight's shape (dropout, L1, L2): True when
        # the window carried the trained weights over to the edited network, so no discarding is needed.
        self.keep_weights: Callable[[list[LayerSpec]], bool] = lambda proposed: False

    # -- the plain list ---------------------------------------------------------------
    def specs(self) -> list[LayerSpec]:
        return list(self._specs)

    def spec(self, row: int) -> LayerSpec:
        return self._specs[row]

    @property
    def input_dim(self) -> int:
        return self._input_dim

    @property
    def n_classes(self) -> int:
        return self._n_classes

    def set_shape(self, input_dim: int, n_classes: int) -> None:
        """The dataset changed: parameter counts follow (no guard, the caller asked)."""
        if (input_dim, n_classes) == (self._input_dim, self._n_classes):
            return
        self._input_dim, self._n_classes = int(input_dim), int(n_classes)
        if self._specs:
            self.dataChanged.emit(self.index(0), self.index(len(self._specs) - 1))
        self.specsChanged.emit()

    def set_specs(self, specs, guarded: bool = True) -> bool:
        if guarded and not self.guard():
            return False
        self.beginResetModel()
        self._specs = list(specs)
        self.endResetModel()
        self.specsChanged.emit()
        return True

    def set_spec(self, row: int, spec: LayerSpec) -> bool:
        if not 0 <= row < len(self._specs) or spec == self._specs[row]:
            return False
        proposed = [*self._specs[:row], spec, *self._specs[row + 1:]]
        if not self.keep_weights(proposed) and not self.guard():
            return False
        self._specs[row] = spec
        last = len(self._specs) - 1
        self.dataChanged.emit(
            self.index(row), self.index(min(row + 1, last))
        )  # next layer's count too
        self.specsChanged.emit()
        return True

    def insert_spec(self, row: int, spec: LayerSpec) -> bool:
        row = max(0, min(row, len(self._specs)))
        if len(self._specs) >= MAX_CARDS:
            self.refused.emit(f"A network has at most {MAX_CARDS} hidden layers.")
            return False
        if not self.guard():
            return False
        self.beginInsertRows(QModelIndex(), row, row)
        self._specs.insert(row, spec)
        self.endInsertRows()
        self._refresh_from(row + 1)
        self.specsChanged.emit()
        return True

    def remove_spec(self, row: int) -> bool:
        return self.removeRows(row, 1)

    def duplicate(self, row: int) -> bool:
        return 0 <= row < len(self._specs) and self.insert_spec(row + 1, self._specs[row])

    def move(self, row: int, to: int) -> bool:
        """Move ``row`` so that it ends up at index ``to``."""
        if not (0 <= row < len(self._specs) and 0 <= to < len(self._specs)) or row == to:
            return False
        return self.moveRows(QModelIndex(), row, 1, QModelIndex(), to + 1 if to > row else to)

    # -- parameter counts ----------------------------------------------------------------
    def layer_input(self, row: int) -> int:
        return self._input_dim if row == 0 else self._specs[row - 1].units

    def param_count(self, row: int) -> int:
        return self._specs[row].param_count(self.layer_input(row))

    def output_params(self) -> int:
        fan_in = self._specs[-1].units if self._specs else self._input_dim
        return (fan_in + 1) * self._n_classes

    def total_params(self) -> int:
        return sum(self.param_count(r) for r in range(len(self._specs))) + self.output_params()

    def _refresh_from(self, row: int) -> None:
        if row < len(self._specs):
            self.dataChanged.emit(self.index(row), self.index(len(self._specs) - 1))

    # -- Qt item model -------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._specs)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._specs) or index.column() != 0:
            return None
        spec = self._specs[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            count = self.param_count(index.row())
            return f"{index.row() + 1}. {describe(spec)}\n     {count:,} parameters"
        if role == Qt.ItemDataRole.ToolTipRole:
            return ACTIVATION_HELP.get(spec.activation, "")
        if role == SpecRole:
            return spec
        if role == ParamsRole:
            return self.param_count(index.row())
        return None

    def flags(self, index):
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled  # drop between cards, never onto one
        base = Qt.ItemFlag.ItemIsEnabled
        return (
            base
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsDragEnabled
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def supportedDropActions(self):
        return Qt.DropAction.MoveAction

    def supportedDragActions(self):
        return Qt.DropAction.MoveAction

    def moveRows(self, source_parent, source_row, count, dest_parent, dest_child) -> bool:
        n = len(self._specs)
        if (
            source_parent.isValid()
            or dest_parent.isValid()
            or count < 1
            or source_row < 0
            or source_row + count > n
            or not 0 <= dest_child <= n
            or source_row <= dest_child <= source_row + count
        ):
            return False
        if not self.guard():
            return False
        self.beginMoveRows(
            QModelIndex(), source_row, source_row + count - 1, QModelIndex(), dest_child
        )
        block = self._specs[source_row : source_row + count]
        del self._specs[source_row : source_row + count]
        at = dest_child - count if dest_child > source_row else dest_child
        self._specs[at:at] = block
        self.endMoveRows()
        self._refresh_from(0)
        self.specsChanged.emit()
        return True

    def removeRows(self, row, count, parent=QModelIndex()) -> bool:  # noqa: B008 - Qt's signature
        if parent.isValid() or count < 1 or row < 0 or row + count > len(self._specs):
            return False
        if not self.guard():
            return False
        self.beginRemoveRows(QModelIndex(), row, row + count - 1)
        del self._specs[row : row + count]
        self.endRemoveRows()
        self._refresh_from(row)
        self.specsChanged.emit()
        return True
