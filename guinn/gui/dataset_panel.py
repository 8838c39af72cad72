"""Dataset choice (MNIST, the 2-D toy sets, a CSV file), background loading, and a view
of a few samples with the split sizes."""

from __future__ import annotations

import html
import threading
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QInputDialog,
    QLabel,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from guinn.data.catalog import Dataset, load_dataset
from guinn.data.csv_data import csv_header, text_columns
from guinn.data.toy import TOY_DATASETS
from guinn.errors import GuinnError
from guinn.gui.layer_panel import set_range, spin
from guinn.gui.plain import markup, tooltip
from guinn.gui.tips import TIPS

TOY_CLASSES = {"spiral": 3, "blobs": 3}
# Most telling first: in "x,y,label" the label is "label", not the y coordinate.
LABEL_COLUMN_GUESSES = ("label", "class", "target", "species", "labels", "category", "y")


def guess_label_column(columns: list[str], texts: list[str] = ()) -> int:
    """The column most likely to hold the labels, by LABEL_COLUMN_GUESSES' order; else the only
    column of text (``texts``: features must be numbers); else the last."""
    names = [c.strip().lower() for c in columns]
    named = next((names.index(g) for g in LABEL_COLUMN_GUESSES if g in names), None)
    if named is not None:
        return named
    return columns.index(texts[0]) if len(texts) == 1 and texts[0] in columns else len(columns) - 1


MAX_LEGEND_CLASSES = 20  # more classes are drawn as one series, without a legend
MAX_COLUMN_PX = 220  # a dataset table column's widest: a long column name is cut there, not at 100 px


def _short_name(name: str) -> str:
    """'CSV' for 'CSV /home/me/data/iris.csv': the description after it names the file."""
    return "CSV" if name.startswith("CSV ") else name


def guess_shape(spec: dict) -> tuple[int, int] | None:
    """(input size, classes) known without loading, so the window opens before the data."""
    kind = spec.get("kind", "mnist")
    if kind == "mnist":
        return 784, 10
    if kind == "toy":
        return 2, TOY_CLASSES.get(spec.get("name", "spiral"), 2)
    return None


def csv_columns(path: str) -> list[str]:
    """The header row of a CSV file, read as load_csv reads it (for choosing the label column);
    empty when it cannot be read, and loading will explain why."""
    try:
        return csv_header(path)[0]
    except GuinnError:
        return []


class _LoadSignals(QObject):
    done = Signal(int, object, str)  # generation, Dataset | None, error message


class DatasetLoader(QObject):
    """Loads datasets on a background thread; only the newest request's result is delivered."""

    loaded = Signal(object)  # Dataset
    failed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._generation = 0
        self._signals = _LoadSignals()
        self._signals.done.connect(self._on_done)
        self._threads: list[threading.Thread] = []
        self.busy = False

    def load(self, spec: dict) -> None:
        self._generation += 1
        generation, signals = self._generation, self._signals
        self.busy = True

        def work():
            try:
                signals.done.emit(generation, load_dataset(dict(spec)), "")
            except GuinnError as exc:
                signals.done.emit(generation, None, str(exc))
            except Exception as exc:  # noqa: BLE001 - a bad file must not kill the app
                signals.done.emit(
                    generation, None, f"Could not load the dataset ({type(exc).__name__}: {exc})."
                )

        thread = threading.Thread(target=work, name="guinn-dataset", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def wait(self, timeout: float = 30.0) -> None:
        for t in list(self._threads):
            t.join(timeout)

    def _on_done(self, generation: int, dataset, error: str) -> None:
        if generation != self._generation:
            return
        self.busy = False
        if dataset is None:
            self.failed.emit(error)
        else:
            self.loaded.emit(dataset)


class DatasetPanel(QGroupBox):
    """Chooses the dataset description; the window loads it."""

    specChanged = Signal(dict)

    def __init__(self, parent=None):
        super().__init__("Dataset", parent)
        form = QFormLayout(self)
        self.form = form
        self.combo = QComboBox()
        self.combo.setObjectName("datasetCombo")
        self.combo.setToolTip(TIPS["dataset"])
        self.combo.addItem("MNIST handwritten digits", {"kind": "mnist"})
        for name in TOY_DATASETS:
            self.combo.addItem(f"Toy 2-D: {name}", {"kind": "toy", "name": name})
        self.combo.addItem("CSV file…", {"kind": "csv"})
        self.samples = spin("samplesSpin", 10, 60_000, TIPS["samples"])
        self.samples.setValue(60_000)
        self.info = QLabel("Loading…")
        self.info.setTextFormat(Qt.TextFormat.RichText)  # every untrusted part escaped
        self.info.setObjectName("datasetInfo")
        self.info.setWordWrap(True)
        form.addRow("Data", self.combo)
        form.addRow("Training samples", self.samples)
        form.addRow(self.info)
        self._spec: dict = {"kind": "mnist"}
        self._previous_index = 0
        self.combo.currentIndexChanged.connect(self._on_combo)
        self.samples.valueChanged.connect(self._on_samples)
        self._update_samples_row()

    def spec(self) -> dict:
        return dict(self._spec)

    def set_spec(self, spec: dict, emit: bool = True) -> None:
        """Show ``spec`` (from an experiment file or a choice) without asking anything."""
        spec = dict(spec)
        self.combo.blockSignals(True)
        self.samples.blockSignals(True)
        try:
            kind = spec.get("kind", "mnist")
            index = -1
            for i in range(self.combo.count()):
                data = self.combo.itemData(i)
                if data.get("kind") == kind and (
                    kind != "toy" or data.get("name") == spec.get("name", "spiral")
                ):
                    index = i
                    break
            if kind in ("csv", "idx"):
                source = spec.get("path") or spec.get("train_images") or "?"
                label = f"{kind.upper()}: {Path(str(source)).name}"
                self._remove_custom()
                self.combo.insertItem(self.combo.count() - 1, label, {**spec, "custom": True})
                index = self.combo.count() - 2
            self.combo.setCurrentIndex(max(index, 0))
            self._previous_index = self.combo.currentIndex()
            if kind == "mnist":
                set_range(self.samples, 10, 60_000)
                self.samples.setValue(int(spec.get("limit", 60_000)))
            elif kind == "toy":
                set_range(self.samples, 10, 100_000)
                self.samples.setValue(int(spec.get("n_samples", 600)))
            self._spec = spec
        finally:
            self.combo.blockSignals(False)
            self.samples.blockSignals(False)
        self._update_samples_row()
        if emit:
            self.specChanged.emit(self.spec())

    def _remove_custom(self) -> None:
        for i in reversed(range(self.combo.count())):
            if self.combo.itemData(i).get("custom"):
                self.combo.removeItem(i)

    def revert(self) -> None:
        """The window refused the change (kept a trained model): show the previous choice."""
        self.set_spec(self._spec, emit=False)

    def _on_combo(self, index: int) -> None:
        data = dict(self.combo.itemData(index))
        data.pop("custom", None)
        if data["kind"] == "csv" and "path" not in data:
            chosen = self.ask_csv()
            if chosen is None:
                self.revert()
                return
            data = chosen
        elif data["kind"] == "mnist":
            data = {"kind": "mnist"}
            if self._spec.get("kind") == "mnist" and "limit" in self._spec:
                data["limit"] = self._spec["limit"]
        self.use(data)

    def use(self, spec: dict) -> None:
        self.set_spec(spec, emit=True)

    def ask_csv(self) -> dict | None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import a CSV dataset", "", "CSV files (*.csv);;All files (*)"
        )
        if not path:
            return None
        columns = csv_columns(path)
        if not columns:
            return {
                "kind": "csv",
                "path": path,
                "label_column": "label",
            }  # loading will explain the problem
        try:
            texts = text_columns(path)
        except GuinnError:
            texts = []
        default = guess_label_column(columns, texts)
        column, ok = QInputDialog.getItem(
            self, "Label column", "Which column holds the class label?", columns, default, False
        )
        return {"kind": "csv", "path": path, "label_column": column} if ok else None

    def _on_samples(self, value: int) -> None:
        kind = self._spec.get("kind")
        if kind == "mnist":
            spec = {**self._spec, "limit": value}
            if value >= 60_000:
                spec.pop("limit")
            self.use(spec)
        elif kind == "toy":
            self.use({**self._spec, "n_samples": value})

    def _update_samples_row(self) -> None:
        self.form.setRowVisible(self.samples, self._spec.get("kind") in ("mnist", "toy"))

    def show_dataset(self, dataset: Dataset | None, error: str = "") -> None:
        if dataset is None:
            self.info.setText(
                f"<span style='color:#b00'>{html.escape(error)}</span>" if error else "Loading…"
            )
            return
        self.info.setText(
            f"{html.escape(dataset.description)}<br>"
            f"{dataset.input_dim} inputs, {dataset.n_classes} classes; "
            f"train {len(dataset.x_train):,} · test {len(dataset.x_test):,}"
        )
        self.info.setToolTip(tooltip(dataset.name))  # the whole path (the text names the file: a path widened the pane)


def _image_pixmap(pixels: np.ndarray, shape, scale: int = 2) -> QPixmap:
    grey = np.ascontiguousarray(np.clip(pixels.reshape(shape) * 255, 0, 255).astype(np.uint8))
    image = QImage(grey.data, shape[1], shape[0], shape[1], QImage.Format.Format_Grayscale8).copy()
    return QPixmap.fromImage(image).scaled(shape[1] * scale, shape[0] * scale)


def _class_color(k: int, n: int) -> QColor:
    return QColor.fromHsvF((k / max(n, 1)) % 1.0, 0.8, 0.85)


BOUNDARY_CELLS = 120  # the shading's resolution per side: 14,400 predictions a refresh


class DatasetView(QWidget):
    """A few samples: digit thumbnails, a scatter of 2-D points, or the first rows of a table."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("datasetView")
        layout = QVBoxLayout(self)
        self.title = QLabel("Loading the dataset…")
        self.title.setTextFormat(Qt.TextFormat.RichText)  # every untrusted part escaped
        self.title.setWordWrap(True)
        layout.addWidget(self.title)
        self.stack = QStackedWidget()
        layout.addWidget(self.stack, 1)
        self.images = QWidget()
        self.grid = QGridLayout(self.images)
        self.grid.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.scatter = pg.PlotWidget(title="Training points by class")
        self.scatter.setObjectName("datasetScatter")
        self.scatter.setMenuEnabled(False)
        self.scatter.setToolTip(TIPS["datasetScatter"])
        # Behind the points: the plane shaded by the class the network predicts there.
        self.boundary = pg.ImageItem()
        self.boundary.setZValue(-10)
        self._dataset: Dataset | None = None
        self._area: tuple[float, float, float, float] | None = None  # x0, x1, y0, y1 of the shading
        self.predicted: np.ndarray | None = None  # (y, x) class index per shaded cell, for tests
        self.table = QTableWidget()
        self.table.setObjectName("datasetTable")
        self.nothing = QWidget()  # while loading, or after a failed load: no stale samples
        for w in (self.images, self.scatter, self.table, self.nothing):
            self.stack.addWidget(w)

    def show_boundary(self, model) -> None:
        """Shade a 2-D dataset's plane by the class ``model`` predicts there, paler where it is
        unsure: the decision boundary that depth and activations bend. Nothing for other data,
        or for a model without weights or with non-finite outputs."""
        self.predicted = None
        if self._area is None or model is None or not getattr(model, "built", False):
            self.boundary.clear()
            return
        x0, x1, y0, y1 = self._area
        gx, gy = np.meshgrid(np.linspace(x0, x1, BOUNDARY_CELLS), np.linspace(y0, y1, BOUNDARY_CELLS))
        try:
            probs = np.asarray(model.predict(np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float32)))
        except GuinnError:  # e.g. an opened model for other inputs
            self.boundary.clear()
            return
        n = self._dataset.n_classes
        if probs.ndim != 2 or probs.shape[1] != n or not np.isfinite(probs).all():
            self.boundary.clear()
            return
        cls, sure = probs.argmax(axis=1), probs.max(axis=1)
        palette = np.array([_class_color(k, n).getRgb() for k in range(n)], dtype=np.float32)
        rgba = palette[cls]
        rgba[:, 3] = 25 + 110 * np.clip((sure - 1 / n) / (1 - 1 / n), 0, 1)  # faint where unsure
        self.predicted = cls.reshape(BOUNDARY_CELLS, BOUNDARY_CELLS)
        image = rgba.reshape(BOUNDARY_CELLS, BOUNDARY_CELLS, 4).transpose(1, 0, 2)  # ImageItem: [x, y]
        self.boundary.setImage(image.astype(np.uint8), autoLevels=False)
        self.boundary.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))

    def show_dataset(self, ds: Dataset | None, error: str = "", label: str = "label") -> None:
        """``ds``'s samples; None: loading it, or (with ``error``) its load failed."""
        self._dataset, self._area, self.predicted = ds, None, None
        if ds is None:
            self.title.setText(html.escape(f"The dataset could not be loaded: {error}") if error
                               else "Loading the dataset…")
            self.stack.setCurrentWidget(self.nothing)
            return
        self.title.setText(
            f"<b>{html.escape(_short_name(ds.name))}</b> — {html.escape(ds.description)}<br>"
            f"Training {len(ds.x_train):,} · "
            f"test {len(ds.x_test):,} · {ds.input_dim} inputs · classes: "
            f"{html.escape(', '.join(ds.class_names[:20]))}"
        )
        n = min(24, len(ds.x_train))
        if ds.image_shape is not None and n:
            while self.grid.count():
                item = self.grid.takeAt(0)
                if item.widget():
                    item.widget().deleteLater()
            for i in range(n):
                cell = QLabel()
                cell.setPixmap(_image_pixmap(ds.x_train[i], ds.image_shape))
                cell.setToolTip(tooltip(f"label {ds.class_names[int(ds.y_train[i])]}"))
                caption = QLabel(ds.class_names[int(ds.y_train[i])])
                caption.setTextFormat(Qt.TextFormat.PlainText)  # a CSV's label, shown as it is
                caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
                self.grid.addWidget(cell, (i // 8) * 2, i % 8)
                self.grid.addWidget(caption, (i // 8) * 2 + 1, i % 8)
            self.stack.setCurrentWidget(self.images)
        elif ds.input_dim == 2:
            item = self.scatter.getPlotItem()
            item.clear()
            if item.legend is None:
                item.addLegend(offset=(-10, 10))
            item.legend.clear()
            x, y = ds.x_train[:2000], ds.y_train[:2000]
            self.boundary.clear()
            item.addItem(self.boundary)
            (x0, y0), (x1, y1) = x.min(axis=0), x.max(axis=0)
            pad_x, pad_y = 0.08 * (x1 - x0 or 1.0), 0.08 * (y1 - y0 or 1.0)
            self._area = (float(x0 - pad_x), float(x1 + pad_x), float(y0 - pad_y), float(y1 + pad_y))
            if ds.n_classes > MAX_LEGEND_CLASSES:  # one series, coloured point by point: a series and a legend
                brushes = [pg.mkBrush(_class_color(k, ds.n_classes)) for k in range(ds.n_classes)]  # entry per
                item.plot(x[:, 0], x[:, 1], pen=None, symbol="o", symbolSize=5,  # class froze the window for
                          symbolBrush=[brushes[k] for k in y], symbolPen=None)  # minutes at 5,000 classes
            for k in range(ds.n_classes if ds.n_classes <= MAX_LEGEND_CLASSES else 0):
                pts = x[y == k]
                color = _class_color(k, ds.n_classes)
                item.plot(
                    pts[:, 0],
                    pts[:, 1],
                    pen=None,
                    symbol="o",
                    symbolSize=5,
                    symbolBrush=color,
                    symbolPen=None,
                    name=markup(f"class {ds.class_names[k]}"),
                )
            self.stack.setCurrentWidget(self.scatter)
        else:
            rows = min(12, len(ds.x_train))
            cols = min(ds.input_dim, 12)
            names = (ds.preprocessing or {}).get("feature_names") or [
                f"x{j}" for j in range(ds.input_dim)
            ]
            self.table.clear()
            self.table.setRowCount(rows)
            self.table.setColumnCount(cols + 1)
            scaled = bool((ds.preprocessing or {}).get("standardizer"))
            suffix = " (std.)" if scaled else ""  # the network sees standardised features, shown as such
            self.table.setHorizontalHeaderLabels([label, *[f"{c}{suffix}" for c in names[:cols]]])
            self.table.setToolTip("Features as the network sees them: standardised with the training part's "
                                  "mean and standard deviation." if scaled else "")
            for r in range(rows):
                self.table.setItem(r, 0, QTableWidgetItem(ds.class_names[int(ds.y_train[r])]))
                for c in range(cols):
                    self.table.setItem(r, c + 1, QTableWidgetItem(f"{ds.x_train[r, c]:.3g}"))
            self.table.resizeColumnsToContents()  # whole column names ("sepal_length (std.)"), not "epal_length (std"
            for c in range(cols + 1):
                self.table.setColumnWidth(c, min(self.table.columnWidth(c), MAX_COLUMN_PX))
            self.stack.setCurrentWidget(self.table)
