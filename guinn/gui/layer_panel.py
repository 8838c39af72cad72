"""The network editor: input card, the draggable stack of hidden cards, the protected output
card, parameter counts, and an editor with ranged spin boxes for the selected card."""

from __future__ import annotations

import re

from PySide6.QtCore import QItemSelectionModel, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QValidator
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QSpinBox,
    QStyle,
    QStyledItemDelegate,
    QVBoxLayout,
)

from guinn.core.specs import ACTIVATION_HELP, ACTIVATION_LABELS, CARD_ACTIVATIONS, LayerSpec
from guinn.gui.layer_model import LayerListModel, ParamsRole, SpecRole, describe_settings
from guinn.gui.tips import TIPS, count

CARD_STYLE = (
    "QLabel { background: palette(alternate-base); border: 1px solid palette(mid); "
    "border-radius: 4px; padding: 4px; }"
)


ACTIVATION_TINTS = {
    "sigmoid": QColor(226, 236, 250),
    "tanh": QColor(224, 243, 236),
    "relu": QColor(252, 238, 218),
    "leaky_relu": QColor(252, 232, 214),
    "prelu": QColor(250, 226, 222),
    "maxout": QColor(236, 228, 247),
    "linear": QColor(238, 238, 238),
}


class LayerCardDelegate(QStyledItemDelegate):
    """Draws each hidden layer as a card tinted by its activation: size and parameter count on
    top, activation and regularisation below."""

    HEIGHT = 44

    def sizeHint(self, option, index) -> QSize:  # noqa: N802 - Qt API
        return QSize(1, self.HEIGHT)  # as wide as the view: never a horizontal scroll bar

    def paint(self, painter: QPainter, option, index) -> None:
        spec = index.data(SpecRole)
        if spec is None:
            return super().paint(painter, option, index)
        enabled = bool(option.state & QStyle.StateFlag.State_Enabled)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        rect = option.rect.adjusted(3, 2, -3, -2)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        border = option.palette.highlight().color() if selected else QColor(185, 185, 185)
        painter.setPen(QPen(border, 2 if selected else 1))
        painter.setBrush(ACTIVATION_TINTS.get(spec.activation, QColor(240, 240, 240)))
        painter.drawRoundedRect(rect, 5, 5)
        if selected:  # a bar down the left edge: the tint is the activation's, so it cannot mark the selection
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(border)
            painter.drawRoundedRect(rect.adjusted(0, 0, -(rect.width() - 7), 0), 3, 3)
        text = QColor(25, 25, 25) if enabled else QColor(140, 140, 140)
        inner = rect.adjusted(12, 3, -8, -3)
        bold = QFont(option.font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(text)
        top = Qt.AlignmentFlag.AlignTop
        painter.drawText(
            inner, Qt.AlignmentFlag.AlignLeft | top, f"{index.row() + 1}.  Dense {spec.units}"
        )
        painter.setFont(option.font)
        painter.drawText(
            inner, Qt.AlignmentFlag.AlignRight | top, f"{index.data(ParamsRole):,} params"
        )
        painter.drawText(
            inner,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
            describe_settings(spec),
        )
        painter.restore()


def _set_up(box, object_name: str, low, high, tip: str):
    """What every settings spin box shares: a name for tests, range, tooltip, and no value
    change per keystroke (typing "128" would otherwise pass through 1 and 12)."""
    box.setObjectName(object_name)
    box.setKeyboardTracking(False)
    box.setProperty("plainTip", tip)
    set_range(box, low, high)
    return box


def set_range(box, low, high) -> None:
    """A box's range, and the tooltip line that states it: Qt puts an out-of-range entry back
    without a word."""
    box.setRange(low, high)
    tip = (f"{box.property('plainTip')}\n\n"
           f"Allowed: {box.textFromValue(box.minimum())} to {box.textFromValue(box.maximum())}.")
    box.setProperty("baseTip", tip)  # for tooltips that add a warning to it, and take it away again
    box.setToolTip(tip)


NO_HIDDEN_LAYER = ("No hidden layer: the inputs connect straight to the softmax output, which makes the "
                   "network a linear classifier (multinomial logistic regression). Add a layer to let it bend "
                   "its decision boundaries.")


class _KeepsOutOfRange:
    """Qt's number boxes refuse a keystroke that takes the number out of range: "1.0" typed
    into Dropout (0 to 0.9) left ".0", so dropout 0 where strong dropout was meant, and "-5"
    in Units left 5, without a word. An out-of-range number stays as unfinished input
    instead: when editing ends the box puts its old value back, and range_notice says why.
    The other decimal separator (a thousands separator in a whole-number box) is read too,
    not dropped: "0,5" px became 5 px."""

    def _plain(self, text: str) -> str:
        return text

    def _bare(self, text: str) -> str:
        """The number typed, without the box's prefix and suffix (" px")."""
        return text.removeprefix(self.prefix()).removesuffix(self.suffix()).strip()

    def validate(self, text: str, pos: int):
        plain = self._plain(text)
        pos, text = max(0, pos - (len(text) - len(plain))), plain
        result = super().validate(text, pos)
        state = result[0] if isinstance(result, (tuple, list)) else result
        if state != QValidator.State.Invalid:
            return state, text, pos
        bare = self._bare(text)
        if bare in ("-", "+"):  # the start of a number
            return QValidator.State.Intermediate, text, pos
        try:
            value = _as_number(bare, self.locale().decimalPoint())
        except ValueError:
            return state, text, pos
        if not self.minimum() <= value <= self.maximum():
            return QValidator.State.Intermediate, text, pos
        return state, text, pos


class IntBox(_KeepsOutOfRange, QSpinBox):
    def _plain(self, text: str) -> str:  # "60,000", "60.000" or "60_000": thousands, not "12.5" (refused, said)
        bare = self._bare(text)
        if THOUSANDS.fullmatch(bare):
            return text.replace(bare, re.sub(r"[,._\s]", "", bare))
        return text

    def validate(self, text: str, pos: int):
        state, text, pos = super().validate(text, pos)
        bare = self._bare(text)
        if state == QValidator.State.Invalid and FRACTION.fullmatch(bare):  # "12.5": kept, to be reported
            return QValidator.State.Intermediate, text, pos
        return state, text, pos


THOUSANDS = re.compile(r"-?\d{1,3}(?:[,._\s]\d{3})+")  # digits grouped by threes
FRACTION = re.compile(r"-?\d*[.,]\d*")  # a decimal number, in a box of whole numbers


class DecimalBox(_KeepsOutOfRange, QDoubleSpinBox):
    def _plain(self, text: str) -> str:  # "0,5" where the locale writes "0.5", or the other way round
        point = self.locale().decimalPoint()
        other = "," if point == "." else "."
        return text.replace(other, point) if other in text and point not in text else text


def spin(object_name: str, low: int, high: int, tip: str) -> QSpinBox:
    box = _set_up(IntBox(), object_name, low, high, tip)
    box.setAccelerated(True)
    return box


class SciSpinBox(QDoubleSpinBox):
    """A double spin box that shows small numbers as 1e-07 instead of 0.0000001000.

    Either decimal separator is accepted and the locale's is shown, as Qt's own boxes show
    it: a comma typed under a German locale used to be dropped, so "0,01" became 1.0."""

    def _point(self) -> str:
        return self.locale().decimalPoint()

    def textFromValue(self, value: float) -> str:  # noqa: N802 - Qt API
        return f"{value:.6g}".replace(".", self._point())

    def valueFromText(self, text: str) -> float:  # noqa: N802 - Qt API
        # Rounded as Qt rounds what it stores, so the box never shows other than what is used.
        try:
            return round(_as_number(text, self._point()), self.decimals())
        except (ValueError, OverflowError):
            return self.value()

    def validate(self, text: str, pos: int):
        try:
            value = _as_number(text, self._point())
        except ValueError:
            plain = text.replace(self._point(), ".")
            ok = plain.strip() == "" or (all(c in "0123456789.,eE+-" for c in plain)
                                         and plain.count(".") + plain.count(",") <= 1)
            return (QValidator.State.Intermediate if ok else QValidator.State.Invalid), text, pos
        if self.minimum() <= value <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos


def _as_number(text: str, point: str = ".") -> float:
    """``text`` as a float, with a comma, a point or the locale's ``point`` as its decimal
    separator (only one of them)."""
    text = text.strip().replace(point, ".")
    if "," in text and "." in text:
        raise ValueError(text)
    return float(text.replace(",", "."))


def dspin(
    object_name: str,
    low: float,
    high: float,
    decimals: int,
    step: float,
    tip: str,
    sci: bool = False,
) -> QDoubleSpinBox:
    box = SciSpinBox() if sci else DecimalBox()
    box.setDecimals(decimals)  # before the range, which Qt rounds to the decimals
    _set_up(box, object_name, low, high, tip)
    box.setSingleStep(step)
    return box


class LayerPanel(QGroupBox):
    """Edits a :class:`LayerListModel`; never holds layer state of its own."""

    def __init__(self, model: LayerListModel, parent=None):
        super().__init__("Network", parent)
        self.model = model
        layout = QVBoxLayout(self)
        layout.setSpacing(4)

        self.input_card = QLabel()
        self.input_card.setTextFormat(Qt.TextFormat.RichText)  # figures only, in bold
        self.input_card.setObjectName("inputCard")
        self.input_card.setStyleSheet(CARD_STYLE)
        self.input_card.setToolTip(TIPS["input"])
        layout.addWidget(self.input_card)

        self.view = QListView()
        self.view.setObjectName("layerStack")
        self.view.setModel(model)
        self.view.setToolTip(TIPS["layerStack"])
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.view.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.view.setDragEnabled(True)
        self.view.setAcceptDrops(True)
        self.view.setDropIndicatorShown(True)
        self.view.setSpacing(0)
        self.view.setItemDelegate(LayerCardDelegate(self.view))
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setMinimumHeight(110)
        layout.addWidget(self.view, 1)

        self.output_card = QLabel()
        self.output_card.setTextFormat(Qt.TextFormat.RichText)  # figures only, in bold
        self.output_card.setObjectName("outputCard")
        self.output_card.setStyleSheet(CARD_STYLE)
        self.output_card.setToolTip(TIPS["output"])
        layout.addWidget(self.output_card)

        self.total_label = QLabel()
        self.total_label.setTextFormat(Qt.TextFormat.RichText)  # figures only, in bold
        self.total_label.setObjectName("totalParams")
        self.total_label.setToolTip(TIPS["params"])
        self.total_label.setWordWrap(True)
        self.input_card.setWordWrap(True)
        self.output_card.setWordWrap(True)
        layout.addWidget(self.total_label)

        buttons = QHBoxLayout()
        self.add_button = self._button(
            buttons, "addLayerButton", "Add", TIPS["add"], self.add_layer
        )
        self.duplicate_button = self._button(
            buttons, "duplicateLayerButton", "Duplicate", TIPS["duplicate"], self.duplicate_layer
        )
        self.remove_button = self._button(
            buttons, "removeLayerButton", "Remove", TIPS["remove"], self.remove_layer
        )
        self.up_button = self._button(
            buttons, "moveUpButton", "↑", TIPS["up"], lambda: self.move_selected(-1)
        )
        self.down_button = self._button(
            buttons, "moveDownButton", "↓", TIPS["down"], lambda: self.move_selected(1)
        )
        self.up_button.setAccessibleName("Move layer up")
        self.down_button.setAccessibleName("Move layer down")
        for b in (self.up_button, self.down_button):
            b.setMaximumWidth(34)
        layout.addLayout(buttons)

        self.editor = QGroupBox("Selected layer")
        self.editor.setObjectName("layerEditor")
        form = QFormLayout(self.editor)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form = form
        self.units = spin("unitsSpin", 1, 100_000, TIPS["units"])
        self.activation = QComboBox()
        self.activation.setObjectName("activationCombo")
        self.activation.setToolTip(TIPS["activation"])
        for i, name in enumerate(CARD_ACTIVATIONS):
            self.activation.addItem(ACTIVATION_LABELS[name], name)
            self.activation.setItemData(
                i, ACTIVATION_HELP.get(name, ""), Qt.ItemDataRole.ToolTipRole
            )
        self.alpha = dspin("alphaSpin", 0.0, 0.99, 3, 0.01, TIPS["alpha"])
        self.pieces = spin("piecesSpin", 2, 16, TIPS["pieces"])
        self.dropout = dspin("dropoutSpin", 0.0, 0.95, 2, 0.05, TIPS["dropout"])
        self.l1 = dspin("l1Spin", 0.0, 10.0, 8, 1e-4, TIPS["l1"], sci=True)
        self.l2 = dspin("l2Spin", 0.0, 10.0, 8, 1e-4, TIPS["l2"], sci=True)
        form.addRow("Units", self.units)
        form.addRow("Activation", self.activation)
        form.addRow("Leaky slope", self.alpha)
        form.addRow("Maxout pieces", self.pieces)
        form.addRow("Dropout rate", self.dropout)
        form.addRow("L1", self.l1)
        form.addRow("L2", self.l2)
        for label_widget, tip in (
            (self.units, "units"),
            (self.activation, "activation"),
            (self.alpha, "alpha"),
            (self.pieces, "pieces"),
            (self.dropout, "dropout"),
            (self.l1, "l1"),
            (self.l2, "l2"),
        ):
            label = form.labelForField(label_widget)
            if label is not None:
                label.setToolTip(TIPS[tip])
        self.activation_help = QLabel()
        self.activation_help.setWordWrap(True)
        self.activation_help.setObjectName("activationHelp")
        self.activation_help.setStyleSheet("color: #505050;")
        form.addRow(self.activation_help)
        layout.addWidget(self.editor)

        self.units.valueChanged.connect(lambda v: self._edit(units=v))
        self.activation.currentIndexChanged.connect(
            lambda _i: self._edit(activation=self.activation.currentData())
        )
        self.alpha.valueChanged.connect(lambda v: self._edit(alpha=v))
        self.pieces.valueChanged.connect(lambda v: self._edit(pieces=v))
        self.dropout.valueChanged.connect(lambda v: self._edit(dropout=v))
        self.l1.valueChanged.connect(lambda v: self._edit(l1=v))
        self.l2.valueChanged.connect(lambda v: self._edit(l2=v))

        self.view.selectionModel().currentChanged.connect(lambda *_: self._load_editor())
        model.specsChanged.connect(self._on_specs_change)
        model.modelReset.connect(self._select_first)
        self._locked = False
        self.input_description = ""
        self._on_specs_change()
        self._select_first()

    @staticmethod
    def _button(layout, name, text, tip, slot) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        layout.addWidget(button)
        return button

    # -- selection and actions ---------------------------------------------------------
    def current_row(self) -> int:
        index = self.view.currentIndex()
        return index.row() if index.isValid() else -1

    def select(self, row: int) -> None:
        if 0 <= row < self.model.rowCount():
            self.view.selectionModel().setCurrentIndex(
                self.model.index(row), QItemSelectionModel.SelectionFlag.ClearAndSelect
            )
        self._load_editor()

    def _select_first(self):
        self.select(0)

    def add_layer(self) -> None:
        row = self.current_row()
        at = row + 1 if row >= 0 else self.model.rowCount()
        template = self.model.spec(row) if row >= 0 else LayerSpec(128, "relu")
        if self.model.insert_spec(
            at, LayerSpec(units=template.units, activation=template.activation)
        ):
            self.select(at)

    def duplicate_layer(self) -> None:
        row = self.current_row()
        if row >= 0 and self.model.duplicate(row):
            self.select(row + 1)

    def remove_layer(self) -> None:
        row = self.current_row()
        if row >= 0 and self.model.remove_spec(row):
            self.select(min(row, self.model.rowCount() - 1))

    def move_selected(self, delta: int) -> None:
        row = self.current_row()
        if row >= 0 and self.model.move(row, row + delta):
            self.select(row + delta)

    def _edit(self, **change) -> None:
        row = self.current_row()
        if row < 0 or self._loading:
            return
        spec = self.model.spec(row).with_changes(**change)
        if not self.model.set_spec(row, spec):
            self._load_editor()  # refused (the user kept the trained model): show the truth
        else:
            self._update_visibility()

    _loading = False

    def _load_editor(self) -> None:
        self._update_buttons()
        row = self.current_row()
        has = row >= 0
        self.editor.setEnabled(has and not self._locked)
        if not has:  # the boxes would show the last layer's values, as if it were still there
            self.editor.setTitle("Selected layer (none)")
            for row_widget in (self.units, self.activation, self.alpha, self.pieces, self.dropout, self.l1, self.l2):
                self.form.setRowVisible(row_widget, False)
            self.activation_help.setText(NO_HIDDEN_LAYER if not self.model.rowCount() else
                                         "Select a layer above to edit it.")
            return
        for row_widget in (self.units, self.activation, self.dropout, self.l1, self.l2):
            self.form.setRowVisible(row_widget, True)
        spec = self.model.spec(row)
        self.editor.setTitle(f"Layer {row + 1}")
        self._loading = True
        try:
            self.units.setValue(spec.units)
            self.activation.setCurrentIndex(CARD_ACTIVATIONS.index(spec.activation))
            self.alpha.setValue(spec.alpha)
            self.pieces.setValue(spec.pieces)
            self.dropout.setValue(spec.dropout)
            self.l1.setValue(spec.l1)
            self.l2.setValue(spec.l2)
        finally:
            self._loading = False
        self._update_visibility()

    def _update_visibility(self) -> None:
        act = self.activation.currentData()
        self.form.setRowVisible(self.alpha, act == "leaky_relu")
        self.form.setRowVisible(self.pieces, act == "maxout")
        self.activation_help.setText(ACTIVATION_HELP.get(act, ""))

    # -- listening to the model ------------------------------------------------------------
    def _on_specs_change(self) -> None:
        m = self.model
        extra = f" ({self.input_description})" if self.input_description else ""
        self.input_card.setText(f"<b>Input</b> · {m.input_dim:,} values{extra}")
        self.output_card.setText(
            f"<b>Output</b> · Dense {m.n_classes} · Softmax<br>{m.output_params():,} "
            "parameters <i>(size follows the labels; fixed)</i>"
        )
        self.total_label.setText(
            f"<b>Total: {m.total_params():,} parameters</b> in {count(m.rowCount() + 1, 'weight layer')}"
        )
        self._update_buttons()
        if not self._loading:
            self._load_editor()

    def set_input_description(self, text: str) -> None:
        self.input_description = text
        self._on_specs_change()

    def _update_buttons(self) -> None:
        row = self.current_row()
        n = self.model.rowCount()
        free = not self._locked
        self.add_button.setEnabled(free)
        self.duplicate_button.setEnabled(free and row >= 0)
        self.remove_button.setEnabled(free and row >= 0)
        self.up_button.setEnabled(free and row > 0)
        self.down_button.setEnabled(free and 0 <= row < n - 1)

    def set_locked(self, locked: bool) -> None:
        """While training runs, the architecture is read-only."""
        self._locked = locked
        self.view.setDragEnabled(not locked)
        self.view.setAcceptDrops(not locked)
        self._update_buttons()
        self.editor.setEnabled(not locked and self.current_row() >= 0)
