"""Live pyqtgraph views of a :class:`TrainingHistory`.

Curves are created once per model (when its layer list changes) and updated with
``setData`` from :meth:`PlotsPanel.refresh`, which the window calls from a QTimer: the
redraw cost depends on the tick rate, never on batches per second. Log axes get values
clamped to 1e-12 with NaN/Inf dropped.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QSizePolicy, QSplitter, QTabWidget, QVBoxLayout, QWidget

from guinn.core.nice_numbers import nice_step_up
from guinn.core.weight_spread import NEAR_ZERO, WeightSpread
from guinn.gui.history import LOG_FLOOR, TrainingHistory, finite, log_safe
from guinn.gui.plain import markup
from guinn.gui.tips import TIPS

pg.setConfigOptions(antialias=False, useOpenGL=False, background="w", foreground="k")

LEGEND_BRUSH = pg.mkBrush(255, 255, 255, 215)  # readable over the curves it covers
LEGEND_PEN = pg.mkPen(200, 200, 200)
TRAIN_PEN = pg.mkPen(QColor(190, 190, 190), width=1)
SMOOTH_PEN = pg.mkPen(QColor(40, 40, 40), width=2)
EPOCH_PEN = pg.mkPen(QColor(31, 119, 180), width=2)
VAL_PEN = pg.mkPen(QColor(214, 39, 40), width=2)
# Earlier runs kept for comparison (the optimizer race, dropout or not): their smoothed
# training loss and accuracy stay on the plots, each in its own colour, until forgotten.
MAX_KEPT_RUNS = 6
# none near the current run's black, blue and red, and neighbours far apart
KEPT_COLORS = [QColor(c) for c in ("#2ca02c", "#ff7f0e", "#9467bd", "#17becf", "#bcbd22", "#e377c2")]
# Over a plot with nothing to show yet (a fresh window, or an opened model, whose file keeps
# only per-epoch figures): what will appear there, so an empty axis does not look broken.
NO_BATCHES = ("Nothing to show yet: these figures are recorded for every batch while training "
              "runs (press Start). Model files keep only the per-epoch loss and accuracy.")


def moving_average(x: np.ndarray, y: np.ndarray, parts: int = 50):
    """A running mean over ~1/``parts`` of the points, centred on each: the trend inside noisy
    batch losses from the first batch to the last, without lag but within half a window of the
    ends, where the window holds what there is (a trailing mean began 2% into the run, so a
    kept run's curve was missing the first batches slow motion is for, and ran 1% behind)."""
    n = len(y)
    k = max(1, n // parts)
    if n < 2 * k or k == 1:
        return x, y
    c = np.cumsum(np.insert(np.asarray(y, dtype=float), 0, 0.0))
    i = np.arange(n)
    low, high = np.maximum(0, i - k // 2), np.minimum(n, i + k // 2 + 1)
    return x, (c[high] - c[low]) / (high - low)


def layer_colors(n: int) -> list[QColor]:
    """Blue at the input end to red at the output end, so depth reads at a glance."""
    if n <= 1:
        return [QColor(214, 39, 40)] * n
    return [QColor.fromHsvF(0.62 - 0.62 * i / (n - 1), 0.85, 0.85) for i in range(n)]


def layer_labels(names) -> list[str]:
    """Legend entries (HTML: a model file names its layers)."""
    n = len(names)
    return [f"{i + 1}. {markup(name)}" + (" (output)" if i == n - 1 else "") for i, name in enumerate(names)]


def _unused(label: str, taken: set[str]) -> str:
    """``label``, or ``label (2)``, ``label (3)``, ... if that is taken."""
    n = 1
    named = label
    while named in taken:
        n += 1
        named = f"{label} ({n})"
    return named


def nice_ceiling(x: float) -> float:
    """The next of 10, 15, 20, 25, 30, 40, 50, 60, 80, 100, 150, ... at or above ``x``: the x
    axis grows in steps, so its ticks (costly to lay out) are rebuilt a few times a decade
    instead of every redraw, and at most a third of it is empty (1-2-5 steps left up to
    half of a finished run's plot blank: 10,800 batches on a 20,000 axis)."""
    return 10.0 if x <= 10 else nice_step_up(x)


class FollowY:
    """Keeps a value axis on coarse bounds -- whole decades on log axes, 0..1-2-5 steps on
    linear ones -- so it is re-laid out only when the data leave them (until the user zooms)."""

    def __init__(self, widget: pg.PlotWidget, log: bool):
        self.view = widget.getPlotItem().getViewBox()
        self.view.disableAutoRange(axis=pg.ViewBox.YAxis)
        self.view.sigRangeChangedManually.connect(self._manual)
        self.log = log
        self.following = True
        self.bounds = None
        self.initial = tuple(self.view.viewRange()[1])  # an empty plot's, restored when it is cleared

    def _manual(self, *_):
        self.following = False

    def update(self, low: float, high: float) -> None:
        if not self.following or not (math.isfinite(low) and math.isfinite(high)):
            return
        if self.log:
            bounds = (
                math.floor(math.log10(low)),
                max(math.ceil(math.log10(high)), math.floor(math.log10(low)) + 1),
            )
        else:
            bounds = (
                min(0.0, -nice_step_up(-low)) if low < 0 else 0.0,
                nice_step_up(high) if high > 0 else 1.0,
            )
        if (
            self.bounds is None
            or bounds[0] < self.bounds[0]
            or bounds[1] > self.bounds[1]
            or (bounds != self.bounds and self._shrunk(bounds))
        ):
            self.bounds = bounds
            self.view.setYRange(*bounds, padding=0.03)

    def _shrunk(self, bounds) -> bool:
        """Re-fit when the data need much less room (e.g. the loss fell tenfold)."""
        if self.log:
            return bounds[1] - bounds[0] < (self.bounds[1] - self.bounds[0]) - 1
        return bounds[1] < self.bounds[1] / 4

    def reset(self) -> None:
        """Start afresh, at an empty plot's range: a diverged run's 1e-3..1e12 stayed on the
        cleared plot."""
        self.following, self.bounds = True, None
        self.view.setYRange(*self.initial, padding=0)


class FollowX:
    """Keeps a batch axis showing [0, nice_ceiling(last batch)] until the user pans or zooms."""

    def __init__(self, widget: pg.PlotWidget):
        self.view = widget.getPlotItem().getViewBox()
        self.view.disableAutoRange(axis=pg.ViewBox.XAxis)
        self.view.sigRangeChangedManually.connect(self._manual)
        self.following = True
        self.right = None
        self.update(0.0)  # an empty plot shows batches 0..10, not 0..1

    def _manual(self, *_):
        self.following = False

    def update(self, last_x: float) -> None:
        if not self.following:
            return
        right = nice_ceiling(max(last_x, 1.0))
        if right != self.right:
            self.right = right
            self.view.setXRange(0, right, padding=0.02)

    def reset(self) -> None:
        self.following, self.right = True, None
        self.update(0.0)


class SparseLogAxis(pg.AxisItem):
    """A log axis that labels only 1, 2 and 5 times a power of ten: pyqtgraph labels every
    minor tick (2 to 9) when a plot spans a decade or two, and the labels at each decade's
    top (0.07, 0.08, 0.09, 0.1) ran into each other. The other ticks stay, unlabelled."""

    def logTickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph's name)
        strings = super().logTickStrings(values, scale, spacing)
        mantissas = [round(10 ** (v - math.floor(v + 1e-9)), 6) for v in np.asarray(values, dtype=float)]
        kept = [text if m in (1.0, 2.0, 5.0) else "" for text, m in zip(strings, mantissas, strict=True)]
        return kept if any(kept) else strings  # zoomed in between 1, 2 and 5: pyqtgraph's own labels


def _plot(object_name: str, title: str, left: str, log_y: bool = False, log_axis: bool = False) -> pg.PlotWidget:
    """``log_y``: a log y axis (values plotted as they are); ``log_axis``: only its labels
    (values given in log10 units, as bar heights)."""
    axes = {"left": SparseLogAxis(orientation="left")} if log_y or log_axis else None
    widget = pg.PlotWidget(title=title, axisItems=axes)
    widget.setObjectName(object_name)
    widget.setToolTip(TIPS.get(object_name, ""))
    item = widget.getPlotItem()
    item.setLabel("left", left)
    for name in ("left", "bottom"):
        item.getAxis(name).enableAutoSIPrefix(False)
    item.setLabel("bottom", "batch")
    # No grid: alpha-blended grid lines were ~80% of the repaint cost (AxisItem QPicture.play).
    item.setDownsampling(auto=True, mode="peak")
    item.setClipToView(True)
    if log_y:
        item.setLogMode(x=False, y=True)
    widget.setMinimumSize(200, 150)
    widget.setMenuEnabled(False)
    return widget


def show_points_when_few(curve: pg.PlotDataItem, n: int) -> None:
    """A line through one point draws nothing (after a single Step, say): while a curve has
    fewer than three points they are drawn as dots too."""
    few = n < 3
    if getattr(curve, "dotted", False) != few:
        curve.dotted = few
        color = curve.opts["pen"].color() if curve.opts.get("pen") is not None else QColor(40, 40, 40)
        curve.setSymbol("o" if few else None)
        curve.setSymbolSize(6)
        curve.setSymbolBrush(color)
        curve.setSymbolPen(None)


class LegendRows(QObject):
    """Lays a plot's legend (under it) out in one row where the plot is wide enough, else in two:
    a row wider than the plot widened its whole layout past the window's edge."""

    WIDE = 560  # px a one-row legend of the four entries needs

    def eventFilter(self, widget, event):
        if event.type() == QEvent.Type.Resize:
            legend = widget.getPlotItem().legend
            columns = 4 if event.size().width() >= self.WIDE + 150 else 2  # (+ axes and a kept-runs legend)
            if legend is not None and legend.columnCount != columns:
                legend.setColumnCount(columns)
        return False


class LayerCurves:
    """One curve per trainable layer on a plot, with a legend in depth order."""

    def __init__(self, widget: pg.PlotWidget, field: str, log_y: bool):
        self.widget, self.field, self.log_y = widget, field, log_y
        self.curves: list[pg.PlotDataItem] = []
        # The legend sits right of the plot, not over it: one line per layer spans the whole
        # height, so any corner of the plot covered the newest batches of some layer.
        item = widget.getPlotItem()
        self.legend = pg.LegendItem(labelTextSize="8pt", brush=LEGEND_BRUSH, pen=LEGEND_PEN)
        item.layout.addItem(self.legend, 2, 3)
        self.legend.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)  # its own size,
        item.layout.setAlignment(self.legend, Qt.AlignmentFlag.AlignTop)  # at the top of the plot
        self.legend.setVisible(False)  # until a curve has points
        self.names: tuple[str, ...] = ()
        self.labels: list[str] = []

    def ensure(self, names) -> None:
        names = tuple(names)
        if names == self.names:
            return
        item = self.widget.getPlotItem()
        for curve in self.curves:
            item.removeItem(curve)
        self.legend.clear()
        self.legend.setVisible(False)
        self.curves = []
        self.labels = layer_labels(names)
        for color, label in zip(layer_colors(len(names)), self.labels, strict=True):
            # width 1: the cheapest line to draw; listed in the legend once it has points
            curve = item.plot([], [], pen=pg.mkPen(color, width=1))
            curve.opts["name"] = label  # (named after plot(): naming it there would list it at once)
            curve.setClipToView(True)
            curve.listed = False
            self.curves.append(curve)
        self.names = names

    def _list(self, listed: list[bool]) -> None:
        """Legend entries only for curves with something to show (a softmax output layer has
        no saturation; before the first batch nothing has), kept in depth order; rebuilt once
        for all curves (curve by curve, 100 layers' legends took 12 s)."""
        if listed == [curve.listed for curve in self.curves]:
            return
        for curve, has_points in zip(self.curves, listed, strict=True):
            curve.listed = has_points
        self.legend.clear()
        for other in self.curves:
            if other.listed:
                self.legend.addItem(other, other.name())
        self.legend.setVisible(bool(self.legend.items))  # not an empty box over an empty plot

    def update(self, history: TrainingHistory) -> tuple[float, float]:
        """Set the curves; returns the (min, max) of what they show, for FollowY."""
        self.ensure(history.layer_names)
        x = history.batches.x()
        low, high = math.inf, -math.inf
        listed = []
        for i, curve in enumerate(self.curves):
            y = history.layer_column(self.field, i)
            xs, ys = log_safe(x, y) if self.log_y else finite(x, y)
            curve.setData(xs, ys)
            show_points_when_few(curve, len(xs))
            listed.append(bool(len(xs)))
            if len(ys):
                low, high = min(low, float(ys.min())), max(high, float(ys.max()))
        self._list(listed)
        return low, high


class SpreadCurves:
    """Each layer's weight spread as a step curve (see :mod:`guinn.core.weight_spread`), in the
    per-layer plots' colours, with each layer's share of weights at about zero in the legend;
    kept earlier runs' first layers dashed in their colours (L2's small weights beside L1's
    pile at zero)."""

    def __init__(self, widget: pg.PlotWidget):
        self.widget = widget
        self.curves: list[pg.PlotDataItem] = []
        self.names: tuple[str, ...] = ()
        self.texts: list[str] = []  # their legend entries
        self.kept: list[tuple[pg.PlotDataItem, str]] = []  # (dashed curve, legend text) per kept run
        self.half = None  # the x axis's half-width, as last set
        item = widget.getPlotItem()
        item.setLabel("bottom", "weight value")
        item.setDownsampling(auto=False)  # (pyqtgraph's clipping and downsampling break step curves:
        item.setClipToView(False)  # 81 bins need neither)
        # In the plot's top corner, over the spread's empty tails: beside the plot, on a 1480 x 900
        # window, it cut off the very shares the L1 and L2 lessons quote
        self.legend = pg.LegendItem(labelTextSize="8pt", brush=LEGEND_BRUSH, pen=LEGEND_PEN)
        self.legend.setParentItem(item.getViewBox())
        self.legend.anchor((1, 0), (1, 0), offset=(-4, 4))
        self.legend.setVisible(False)
        self.shown: WeightSpread | None = None
        self.note = EmptyNote(widget, "No weights yet: press Start (or open a model), and the spread of "
                              "each layer's weights appears here.")

    def show(self, spread: WeightSpread | None) -> None:
        self.shown = spread
        item = self.widget.getPlotItem()
        names = tuple(layer.name for layer in spread.layers) if spread is not None else ()
        if names != self.names:
            for curve in self.curves:
                item.removeItem(curve)
            self.curves = [item.plot([], [], stepMode="center", pen=pg.mkPen(color, width=2))
                           for color in layer_colors(len(names))]
            self.texts = layer_labels(names)
            self.names = names
            self._list()
        self.note.setVisible(spread is None)
        if spread is not None:
            for i, (curve, layer) in enumerate(zip(self.curves, spread.layers, strict=True)):
                curve.setData(spread.edges, 100 * layer.fractions)
                self.texts[i] = f"{layer_labels(names)[i]}: {_share(layer.near_zero)} ≈ 0"
                self.legend.items[i][1].setText(self.texts[i])
        self._fit_x()

    def keep(self, label: str, color: QColor) -> pg.PlotDataItem | None:
        """Keep the shown spread's first layer, dashed, as run ``label``'s; None without one."""
        if self.shown is None:
            return None
        first = self.shown.layers[0]
        curve = self.widget.getPlotItem().plot(
            self.shown.edges, 100 * first.fractions, stepMode="center",
            pen=pg.mkPen(color, width=3, style=Qt.PenStyle.DashLine))  # (thicker: told from the layers' lines)
        curve.setZValue(-5)  # under the current run's curves
        self.kept.append((curve, f"{markup(label)}, layer 1: {_share(first.near_zero)} ≈ 0"))
        self._list()
        self._fit_x()
        return curve

    def drop(self, curve: pg.PlotDataItem) -> None:
        self.widget.getPlotItem().removeItem(curve)
        self.kept = [(c, text) for c, text in self.kept if c is not curve]
        self._list()
        self._fit_x()

    def _list(self) -> None:
        """The legend: this model's layers, then the kept runs' first layers under a heading."""
        self.legend.clear()
        for curve, text in zip(self.curves, self.texts, strict=True):
            self.legend.addItem(curve, text)
        if self.kept:
            self.legend.addItem(pg.PlotDataItem(pen=None), "earlier runs:")  # a sample with no line
            for curve, text in self.kept:
                self.legend.addItem(curve, text)
        self.legend.setVisible(bool(self.legend.items))

    def _fit_x(self) -> None:
        edges = ([] if self.shown is None else [float(self.shown.edges[-1])]) + [
            float(curve.xData[-1]) for curve, _ in self.kept]
        half = max(edges, default=None)
        if half is not None and half != self.half:
            self.half = half
            self.widget.getPlotItem().setXRange(-half, half, padding=0.02)


def _share(fraction: float) -> str:
    return f"{fraction:.0%}" if fraction >= 0.1 else f"{fraction:.1%}"


class EmptyNote(QLabel):
    """A grey note in the middle of an empty plot; mouse events pass through to the plot."""

    def __init__(self, plot: pg.PlotWidget, text: str):
        super().__init__(text, plot)
        self.setObjectName("emptyPlotNote")
        # centred over the data area (the padding keeps it off the axes and the legend under the plot):
        # placed low, it ran over the batch numbers of a short plot
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setStyleSheet("QLabel { color: #808080; background: transparent; padding: 30px 40px 70px 60px; }")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        plot.installEventFilter(self)
        self.setGeometry(plot.rect())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt naming)
        if event.type() == QEvent.Type.Resize:
            self.setGeometry(watched.rect())
        return False


class PlotsPanel(QTabWidget):
    """Tabs: loss and accuracy; gradients (lines over time + bars by depth); weights; saturation."""

    WEIGHTS_PAGE = 2

    def __init__(self, history: TrainingHistory, parent=None):
        super().__init__(parent)
        self.setObjectName("plotTabs")
        # Every tab stays in view at the window's minimum size (the Draw tab used to hide behind
        # scroll arrows): titles are shortened with "…" instead, and tooltips give them whole.
        self.setUsesScrollButtons(False)
        self.setElideMode(Qt.TextElideMode.ElideRight)
        self.tabBar().setStyleSheet("QTabBar::tab { padding: 4px 9px; }")
        self.history = history
        self._shown: dict[int, int] = {}  # tab index -> history revision it shows
        self.redraws = 0

        self.loss_plot = _plot("lossPlot", "Loss", "loss")
        self.accuracy_plot = _plot("accuracyPlot", "Accuracy", "accuracy")
        self.accuracy_plot.setYRange(0, 1)
        self._metric_curves = {}
        self._legend_rows = LegendRows(self)
        for widget, key in ((self.loss_plot, "loss"), (self.accuracy_plot, "accuracy")):
            item = widget.getPlotItem()
            # The legend sits under the plot in one row: in any corner it covered the curve somewhere
            # (the vanishing-gradient lesson's loss stays flat at the top, beside the legend's corner).
            item.legend = pg.LegendItem(labelTextSize="8pt", colCount=4)  # plot(name=...) lists there
            item.layout.addItem(item.legend, 4, 1)
            item.layout.setAlignment(item.legend, Qt.AlignmentFlag.AlignHCenter)
            widget.installEventFilter(self._legend_rows)
            self._metric_curves[key] = (
                item.plot([], [], pen=TRAIN_PEN, name="training batches"),
                item.plot([], [], pen=SMOOTH_PEN, name="smoothed"),
                item.plot(
                    [],
                    [],
                    pen=EPOCH_PEN,
                    symbol="o",
                    symbolSize=9,
                    symbolBrush=EPOCH_PEN.color(),
                    name="epoch mean",  # of training, over the epoch: above the end of the smoothed line early on
                ),
                item.plot(
                    [],
                    [],
                    pen=VAL_PEN,
                    symbol="s",
                    symbolSize=9,
                    symbolBrush=VAL_PEN.color(),
                    name="validation",
                ),
            )
        self.addTab(self._split(self.loss_plot, self.accuracy_plot), "Loss && accuracy")
        # An epoch scale along the top: the lessons speak of epochs ("turns up after about ten
        # epochs") and the batch axis below counted 25 or 600 to one
        self._epoch_ticks = None  # (epochs, stride) the top axes show
        for widget in (self.loss_plot, self.accuracy_plot):
            item = widget.getPlotItem()
            item.showAxis("top")
            item.getAxis("top").setTicks([[]])
            item.getAxis("top").setStyle(showValues=True)

        self.gradient_plot = _plot("gradientPlot", "Gradient RMS per layer (log)", "RMS of dL/dW", log_y=True)
        self.gradient_bars = _plot("gradientBars", "Gradient RMS of the last batch, input → output", "RMS of dL/dW",
                                   log_axis=True)
        self.gradient_bars.getPlotItem().getAxis("left").setLogMode(True)  # bars are drawn in log10 units
        self.gradient_bars.getPlotItem().setLabel("bottom", "layer (input → output)")
        self.gradient_bars.getPlotItem().setMouseEnabled(x=False, y=False)
        self._bar_brushes = None
        self._bar_frame = None
        self._bar_y_initial = tuple(self.gradient_bars.getPlotItem().getViewBox().viewRange()[1])
        self._bars = pg.BarGraphItem(x=[], height=[], width=0.6, y0=0)
        self.gradient_bars.addItem(self._bars)
        self.addTab(self._split(self.gradient_plot, self.gradient_bars), "Gradients")

        self.weight_plot = _plot("weightPlot", "Weight RMS per layer", "RMS of W", log_y=True)
        self.ratio_plot = _plot("ratioPlot", "Update / weight ratio per layer", "RMS(ΔW) / RMS(W)", log_y=True)
        self.ratio_plot.addItem(
            pg.InfiniteLine(pos=-3, angle=0, pen=pg.mkPen((120, 120, 120), style=Qt.PenStyle.DashLine))
        )
        self.spread_plot = _plot("spreadPlot", f"Spread of the weights now (≈ 0: within {NEAR_ZERO:g} of zero)",
                                 "% of the layer's weights")
        self.spread = SpreadCurves(self.spread_plot)
        self.addTab(self._split(self.weight_plot, self.spread_plot, self.ratio_plot), "Weights")

        self.saturation_plot = _plot(
            "saturationPlot", "Saturated or inactive activations per layer", "fraction of the batch's activations"
        )
        self.saturation_plot.setYRange(0, 1)
        page = QWidget()
        QVBoxLayout(page).addWidget(self.saturation_plot)
        self.addTab(page, "Saturation")
        for i, tip in enumerate((
                "Loss and accuracy per batch (grey), smoothed (black) and per epoch, training and validation",
                "How large each layer's gradients are: tiny ones in early layers are vanishing gradients",
                "How large each layer's weights are, how they are spread, and how much each step changes them",
                "The share of each layer's units stuck where their slope is ~0 (saturated sigmoid/tanh, "
                "inactive ReLU)")):
            self.setTabToolTip(i, tip)

        self.layer_curves = [
            LayerCurves(self.gradient_plot, "grad_rms", True),
            LayerCurves(self.weight_plot, "weight_rms", True),
            LayerCurves(self.ratio_plot, "update_ratio", True),
            LayerCurves(self.saturation_plot, "saturation", False),
        ]
        self.run_marks: list = []  # (plot, line) where a later run continued the curves
        self.kept_runs: list[dict] = []  # earlier runs for comparison: label, and per metric (x, y, curve)
        self.live = False  # a run is training (the window says so)
        self.run_name = ""  # what the window calls the run on show
        self._kept_legends: dict[str, pg.LegendItem] = {}  # per metric, while runs are kept
        self._colors_used = 0
        self.empty_notes = [EmptyNote(plot, NO_BATCHES) for plot in (
            self.gradient_plot, self.gradient_bars, self.weight_plot, self.ratio_plot, self.saturation_plot)]
        self._empty = None  # (per-batch plots empty, loss plot empty) as last shown
        self._loss_note = EmptyNote(self.loss_plot, "Nothing to show yet: press Start, and the loss of every "
                                    "batch appears here.")  # until batches, or an opened model's epochs
        self.currentChanged.connect(self._on_tab_change)
        self._loss_y = FollowY(self.loss_plot, log=False)
        self._layer_y = [
            FollowY(self.gradient_plot, log=True),
            FollowY(self.weight_plot, log=True),
            FollowY(self.ratio_plot, log=True),
        ]
        self._follow = {
            0: [FollowX(self.loss_plot), FollowX(self.accuracy_plot)],
            1: [FollowX(self.gradient_plot)],
            2: [FollowX(self.weight_plot), FollowX(self.ratio_plot)],
            3: [FollowX(self.saturation_plot)],
        }

    @staticmethod
    def _split(*widgets: QWidget) -> QSplitter:
        splitter = QSplitter(Qt.Orientation.Vertical)
        for widget in widgets:
            splitter.addWidget(widget)
        return splitter

    def refresh(self, force: bool = False, visible_only: bool = False) -> bool:
        """Push the history into the curves if it changed since the last call.

        ``visible_only`` (the timer's mode) skips the tabs nobody is looking at; they catch
        up when shown, so hidden plots cost nothing while training."""
        h = self.history
        page = self.currentIndex()
        if visible_only:
            if page not in self._follow or (h.revision == self._shown.get(page) and not force):
                return False  # not a plot tab (dataset, drawing pad), or nothing new
            pages = {page}
        else:
            if all(self._shown.get(p) == h.revision for p in range(4)) and not force:
                return False
            pages = {0, 1, 2, 3}
        self.redraws += 1
        last_x = float(h.step)
        empty = (not len(h.batches), not len(h.batches) and not len(h.epochs) and not self.kept_runs)
        if empty != self._empty:  # (changes only at a run's first batch, a reset or an opened model)
            self._empty = empty
            for note in self.empty_notes:
                note.setVisible(empty[0])
            self._loss_note.setVisible(empty[1])
        # Kept runs (on the loss and accuracy plots only) widen the batch axis to their whole curves
        # once this run is over; while it trains the axis follows it, so its first batches are
        # compared with theirs at a readable scale (a slow-motion run filled 20 px of 17,000 batches).
        race = max([last_x] + ([] if self.live else [run["loss"][0][-1] for run in self.kept_runs]))
        for p in pages:
            self._shown[p] = h.revision
            for follow in self._follow[p]:
                follow.update(race if p == 0 else last_x)
        if 0 in pages:
            x, ex = h.batches.x(), h.epochs.x()
            self._show_epochs(ex, h.epochs.stride, h.epochs_done)
            for key in ("loss", "accuracy"):
                per_batch, smooth, epoch_train, epoch_val = self._metric_curves[key]
                bx, by = finite(x, h.batch_column(key))
                per_batch.setData(bx, by)
                show_points_when_few(per_batch, len(bx))
                if key == "loss":  # the batches' range, or an opened model's stored epochs', and kept runs'
                    self._loss_y.update(*self._loss_range(by if len(by) else finite(ex, h.epoch_column("loss"))[1],
                                                          finite(ex, h.epoch_column("val_loss"))[1]))
                smooth.setData(*moving_average(bx, by))
                epoch_train.setData(*finite(ex, h.epoch_column(key)))
                epoch_val.setData(*finite(ex, h.epoch_column("val_" + key)))
        if 1 in pages:
            self._layer_y[0].update(*self.layer_curves[0].update(h))
            self._update_bars()
        if 2 in pages:
            self._layer_y[1].update(*self.layer_curves[1].update(h))
            self._layer_y[2].update(*self.layer_curves[2].update(h))
        if 3 in pages:
            self.layer_curves[3].update(h)
        return True

    def _show_epochs(self, ends: np.ndarray, stride: int, last: int | None = None) -> None:
        """Each epoch's end on the top axes, numbered up to ``last`` (an opened model trained with
        initial_epoch=2 stores epochs 3 to 5), at most ~12 labels (every 1st, 2nd, 5th, 10th, ...
        epoch); rebuilt only when the epochs change (tick layout is costly)."""
        last = len(ends) * stride if last is None else last
        key = (len(ends), stride, last, float(ends[-1]) if len(ends) else 0.0)
        if key == self._epoch_ticks:
            return
        self._epoch_ticks = key
        if stride > 1:  # past 1,024 epochs a row is the mean of several: no epoch end to mark
            ends = ends[:0]
        every = 1
        while len(ends) / every > 12:  # 1, 2, 5, 10, 20, 50, ...
            every = every * 2 if str(every)[0] in "15" else every * 5 // 2
        # (decimated past 1,024 epochs: each row is `stride` epochs)
        numbers = last - len(ends) * stride + (np.arange(len(ends)) + 1) * stride
        ticks = [(float(x), str(int(n))) for x, n in zip(ends, numbers, strict=True) if n % every == 0]
        for widget in (self.loss_plot, self.accuracy_plot):
            widget.getPlotItem().getAxis("top").setTicks([ticks, []])
            widget.getPlotItem().getAxis("top").setLabel("epoch" if ticks else "")

    def _loss_range(self, *current: np.ndarray) -> tuple[float, float]:
        """The loss axis's (low, high): the current run's values and the kept runs', except that
        a kept run's training and validation loss count only up to twice the current run's
        highest loss, so an earlier run that diverged (a loss of 1e20) runs off the top
        instead of flattening every later curve."""
        current = [a for a in current if len(a)]
        kept = [run[key][1] for run in self.kept_runs for key in ("loss", "val_loss")
                if key in run and len(run[key][1])]
        if not current and not kept:
            return math.nan, math.nan
        cap = 2 * max(float(a.max()) for a in current) if current else math.inf
        low = min(0.0, *(float(a.min()) for a in current + kept))
        return low, max([float(a.max()) for a in current] + [min(float(a.max()), cap) for a in kept])

    def prepare_layers(self) -> None:
        """Create the per-layer curves and legends for the history's layer names now (before
        training starts), so the first redraws while the worker runs do not build them."""
        for curves in self.layer_curves:
            curves.ensure(self.history.layer_names)

    def _on_tab_change(self, _index: int) -> None:
        self.refresh(visible_only=True)

    def _update_bars(self) -> None:
        values = self.history.latest_values("grad_rms")
        names = self.history.layer_names
        axis = self.gradient_bars.getPlotItem().getAxis("bottom")
        if not len(values):
            self._bars.setOpts(x=[], height=[], y0=0)
            axis.setTicks([[]])
            if self._bar_frame is not None:  # cleared: an empty plot's range, not the last run's decades
                self.gradient_bars.getPlotItem().setYRange(*self._bar_y_initial, padding=0)
            self._bar_frame = None
            return
        ok = np.isfinite(values)
        logs = np.where(ok, np.log10(np.maximum(np.where(ok, values, 1.0), LOG_FLOOR)), math.log10(LOG_FLOOR))
        base = math.floor(float(logs.min())) - 1
        top = max(math.ceil(float(logs.max())), base + 1)
        n = len(values)
        if self._bar_brushes is None or len(self._bar_brushes) != n:
            self._bar_brushes = [pg.mkBrush(c) for c in layer_colors(n)]
        self._bars.setOpts(x=np.arange(n), height=logs - base, y0=base, brushes=self._bar_brushes)
        frame = (base, top, n)
        if frame != self._bar_frame:  # whole decades and fixed ticks: axes rebuilt only on change
            self._bar_frame = frame
            axis.setTicks([[(i, str(i + 1)) for i in range(len(names))]])
            item = self.gradient_bars.getPlotItem()
            item.setYRange(base, top + 0.2, padding=0)
            item.setXRange(-0.6, n - 0.4, padding=0)

    def mark_run(self, step: int, label: str) -> None:
        """A dashed line at batch ``step`` on every plot over time, where a new run continues
        the curves (after Stop, often with another optimizer or rate), labelled with ``label``."""
        pen = pg.mkPen((110, 110, 110), style=Qt.PenStyle.DashLine)
        widgets = (self.loss_plot, self.accuracy_plot, self.gradient_plot, self.weight_plot, self.ratio_plot,
                   self.saturation_plot)
        # each mark's label a row below the last one's (in a cycle of 4), so runs started a few
        # batches apart do not print their labels over each other ("Adam 0.00Adam 0.001")
        row = (len(self.run_marks) // len(widgets)) % 4 * 0.1
        for widget in widgets:
            # beside the line, near the top; near the bottom where the curve climbs to the top (accuracy)
            where = 0.1 + row if widget is self.accuracy_plot else 0.9 - row
            options = {"position": where, "color": (90, 90, 90), "anchors": [(0, 0.5), (0, 0.5)]}
            line = pg.InfiniteLine(pos=step, angle=90, pen=pen, label=" " + label, labelOpts=options)
            widget.addItem(line)
            self.run_marks.append((widget, line))

    def keep_run(self, label: str, comparison=None) -> bool:
        """Keep the current run's smoothed training loss and accuracy on their plots, labelled
        ``label``, for the runs that follow to be compared with (at most MAX_KEPT_RUNS, the
        oldest going first); the axes take them in at the next refresh, which the caller's
        clearing of the run brings. False if the run has too few batches to draw."""
        h = self.history
        curves = {}
        for key in ("loss", "accuracy"):
            x, y = moving_average(*finite(h.batches.x(), h.batch_column(key)))
            if len(x) < 2:
                return False
            curves[key] = (np.array(x, dtype=float), np.array(y, dtype=float))
        if len(self.kept_runs) == MAX_KEPT_RUNS:
            self._drop_kept(self.kept_runs[0])
        color = KEPT_COLORS[self._colors_used % len(KEPT_COLORS)]
        self._colors_used += 1
        label = _unused(label, {run["label"] for run in self.kept_runs})  # two "SGD 1" lines could not be told apart
        run = {"label": label, "comparison": comparison}  # what later runs must share to compare with it
        for key, widget in (("loss", self.loss_plot), ("accuracy", self.accuracy_plot)):
            x, y = curves[key]
            # named in the loss plot's legend only: the same colour is the same run in both, and
            # eight entries in the accuracy plot's covered the curves near 100%
            curve = widget.getPlotItem().plot(x, y, pen=pg.mkPen(color, width=2, style=Qt.PenStyle.DashLine))
            curve.setZValue(-5)  # under the current run's curves
            self._kept_legend(widget).addItem(curve, markup(label))  # (an experiment file's title)
            run[key] = (x, y, curve)
            # its validation curve too, dotted (what the overfitting lessons compare); no legend
            # entry of its own, or six kept runs would list twelve
            vx, vy = finite(h.epochs.x(), h.epoch_column("val_" + key))
            if len(vx):
                dotted = widget.getPlotItem().plot(
                    np.array(vx, dtype=float), np.array(vy, dtype=float),
                    pen=pg.mkPen(color, width=2, style=Qt.PenStyle.DotLine), symbol="s", symbolSize=5,
                    symbolBrush=color, symbolPen=None)
                dotted.setZValue(-5)
                run["val_" + key] = (dotted.xData, dotted.yData, dotted)
        run["spread"] = self.spread.keep(label, color)
        self.kept_runs.append(run)
        return True

    def forget_runs_unlike(self, comparison, fields: tuple[str, ...]) -> None:
        """Remove the kept runs that differ from ``comparison`` (the window's record of a run's
        data and batches) in any of ``fields``."""
        def differs(kept) -> bool:
            return kept is None or any(getattr(kept, f) != getattr(comparison, f) for f in fields)

        unlike = [run for run in self.kept_runs if differs(run["comparison"])]
        for run in unlike:
            self._drop_kept(run)
        if unlike:
            self.refresh(force=True)

    def forget_runs(self) -> None:
        """Remove every kept earlier run from the plots."""
        for run in list(self.kept_runs):
            self._drop_kept(run)
        self._colors_used = 0
        self.refresh(force=True)

    def _drop_kept(self, run: dict) -> None:
        for key, widget in (("loss", self.loss_plot), ("accuracy", self.accuracy_plot)):
            item = widget.getPlotItem()
            for curve in (run[key][2], run.get("val_" + key, (None, None, None))[2]):
                if curve is not None:
                    item.removeItem(curve)
            legend = self._kept_legends.get(key)
            if legend is not None:
                legend.removeItem(run[key][2])
                if len(legend.items) == 2:  # this run and the heading alone: the plot takes its width back
                    item.layout.removeItem(legend)
                    if legend.scene() is not None:  # (out of the layout it would be drawn at the scene's corner)
                        legend.scene().removeItem(legend)
                    del self._kept_legends[key]
        if run.get("spread") is not None:
            self.spread.drop(run["spread"])
        self.kept_runs.remove(run)

    def set_run_name(self, name: str) -> None:
        """What the run on show is called (a preset's name, or what was changed in it)."""
        self.run_name = name
        for legend in self._kept_legends.values():
            legend.items[0][1].setText(self._this_run())

    def _this_run(self) -> str:
        return f"this run: {markup(self.run_name)}" if self.run_name else "this run"

    def _kept_legend(self, widget: pg.PlotWidget) -> pg.LegendItem:
        """The earlier runs' legend, beside the plot (as the per-layer ones): inside it, six runs'
        names covered the ends of the curves on a small window. Both plots have one, so their
        batch axes stay the same width."""
        key = "loss" if widget is self.loss_plot else "accuracy"
        if key not in self._kept_legends:
            item = widget.getPlotItem()
            legend = pg.LegendItem(labelTextSize="8pt", brush=LEGEND_BRUSH, pen=LEGEND_PEN)
            item.layout.addItem(legend, 2, 3)
            legend.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
            item.layout.setAlignment(legend, Qt.AlignmentFlag.AlignTop)
            # the run on show first, named (the race's current runner was only 'smoothed'), then a heading
            legend.addItem(pg.PlotDataItem(pen=SMOOTH_PEN), self._this_run())
            legend.addItem(pg.PlotDataItem(pen=None), "earlier runs:")  # a sample with no line
            self._kept_legends[key] = legend
        return self._kept_legends[key]

    def clear(self) -> None:
        for widget, line in self.run_marks:
            widget.removeItem(line)
        self.run_marks = []
        self.set_run_name("")  # named at its Start
        self.history.reset(())
        for follows in self._follow.values():
            for follow in follows:
                follow.reset()
        for follow in (self._loss_y, *self._layer_y):
            follow.reset()
        for curves in self.layer_curves:
            curves.ensure(())
        self.refresh(force=True)
