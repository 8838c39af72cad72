"""The main window: dataset and layer stack on the left, plots in the centre, training
settings and controls on the right, progress and live metrics in the status bar.

The window owns the model object; training runs on it in a :class:`TrainingWorker` on a
QThread, so a stop, an error or a NaN keeps the weights it had. Telemetry records land in a
bounded :class:`TrainingHistory`; a 40 ms timer pushes it into the plots (coalescing).
Opening and saving experiments and models, and the offer to save before closing, live in
:mod:`guinn.gui.file_actions`.
"""

from __future__ import annotations

import json
import math
import os
import time
import warnings
from typing import NamedTuple

import numpy as np
from PySide6.QtCore import QSize, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from guinn.core import optimizers
from guinn.core.callbacks import History
from guinn.core.model import LIKELY_CAUSE
from guinn.core.weight_spread import weight_spread
from guinn.data.catalog import Dataset
from guinn.errors import GuinnError, TrainingWarning
from guinn.experiment import Experiment
from guinn.gui import help as help_pages
from guinn.gui import range_notice
from guinn.gui.dataset_panel import DatasetLoader, DatasetPanel, DatasetView, guess_shape
from guinn.gui.file_actions import DEFAULT_TITLE, FileActions
from guinn.gui.history import TrainingHistory, folded_layer_names, plot_layer_names
from guinn.gui.layer_model import LayerListModel
from guinn.gui.layer_panel import LayerPanel
from guinn.gui.plain import plain_labels
from guinn.gui.plots import PlotsPanel
from guinn.gui.session import SessionKeeping
from guinn.gui.settings_panel import SettingsPanel
from guinn.gui.tint import set_tint
from guinn.gui.tips import TIPS, count
from guinn.gui.worker import IDLE_TIMEOUT_S, EpochEnd, Outcome, Progress, RunControl, TrainingWorker
from guinn.resources import icon_path, list_presets
from guinn.utils import to_categorical

PLOT_INTERVAL_MS = 40  # fastest redraw; slower when redrawing is expensive (see _on_tick)
PAUSE_KEYS = "Ctrl+P"  # set again whenever the button's text changes (see _set_pause_text)
SPREAD_INTERVAL_S = 0.5  # the weights' spread is redrawn at most this often while training (and seen)
BOUNDARY_INTERVAL_S = 0.5  # the 2-D decision boundary is redrawn at most this often while training
# ... unless it is on screen: then every epoch, and epochs go at most this fast (a toy run
# takes a fraction of a second at full speed; redrawing costs ~5 ms)
WATCHED_EPOCHS_PER_S = 30
SLOW_MOTION_BATCHES_PER_S = 20  # View > Slow motion: a run's first batches, watched in a lecture
SLOW_MOTION_INTERVAL_MS = 100
LOSS_NAMES = {"categorical_crossentropy": "cross-entropy", "mean_squared_error": "MSE",
              "binary_crossentropy": "binary cross-entropy"}  # as a kept run's label says them
FULL_SIZE = QSize(1480, 900)  # the window's size where the screen has room
TITLE_BAR_PX = 40  # room left for a window manager's title bar when the window must fit a small screen
MIN_SIZE = QSize(1180, 700)  # every pane's minimum, on a screen that has room for it
SIZE_KEYS = ("limit", "test_limit", "n_samples")  # dataset options that take more or fewer of the same samples
RATE_WINDOW_S = 2.0  # seconds of training the shown speed (and time left) is measured over
CHANCE_EPOCHS = 3  # epochs at chance accuracy before the window says the network is not learning
CHANCE_MARGIN = 0.02
CHANCE_UPDATES = 200  # ... and this many weight updates (3 epochs of a 150-row CSV are 60)
DEEP_SQUASHING = 4  # sigmoid/tanh layers from which "not learning" points to vanishing gradients first
FEW_BATCHES = 10  # fewer batches an epoch than this: the batch size box suggests a smaller one
STATUS_INTERVAL_S = 0.2  # progress bar and metrics text: 5 updates/s is plenty to read
MAX_INTERVAL_MS = 1000
GUI_DUTY = 0.02  # target share of one core the GUI thread may spend redrawing while training
Button = QMessageBox.StandardButton


def _format_seconds(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "–"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class MessageBanner(QFrame):
    """Errors and notes shown in the window (not a modal dialog, not a traceback)."""

    STYLES = {
        "error": "#fde2e1; color: #7a1010; border: 1px solid #e0a0a0",
        "warning": "#fff4d6; color: #6a4a00; border: 1px solid #e6c870",
        "info": "#e3effd; color: #103a6a; border: 1px solid #a0c0e8",
    }
    STYLES["preset"] = STYLES["info"]  # a preset's explanation: stays up through its runs

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("messageBanner")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        self.label = QLabel()
        self.label.setObjectName("messageText")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                           | Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.label.linkActivated.connect(self._toggle)
        self._whole, self._short = "", None
        layout.addWidget(self.label, 1)
        close = QToolButton()
        close.setText("✕")
        close.setToolTip("Hide this message")
        close.setAutoRaise(True)
        close.clicked.connect(self.hide)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.kind = ""
        self.hide()

    def show_message(self, text: str, kind: str = "info", rich: bool = False, short: str | None = None) -> None:
        """``rich`` only for markup we compose; file and error text is shown as plain text.
        ``short`` (rich): shown instead, with a "More" link to the whole text, which takes
        the plots' room on a small window."""
        self._whole = text
        self._short = short
        if short is not None:
            text = f'{short} <a href="more">More…</a>'
        self.kind = kind
        self.label.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
        self.setStyleSheet(
            f"#messageBanner {{ background: {self.STYLES[kind]}; border-radius: 4px; }}"
            "#messageBanner QLabel { border: none; background: transparent; }"
        )
        self.label.setText(text)
        self.show()

    def _toggle(self, link: str) -> None:
        """The "More…" / "Less" links of a shortened message."""
        if self._short is not None:
            self.label.setText(f'{self._whole} <a href="less">Less</a>' if link == "more"
                               else f'{self._short} <a href="more">More…</a>')

    def text(self) -> str:
        return "" if self.isHidden() else self.label.text()


def mark_problem(widget: QWidget, bad: bool) -> None:
    """Tint a setting's box red, or take the tint off. A palette, not a style sheet: a
    bordered style sheet made Qt draw spin boxes without their arrows."""
    widget.setProperty("problem", bad)
    set_tint(widget, "problem", bad)


class MainWindow(QMainWindow, FileActions, SessionKeeping):
    trainingStarted = Signal()
    trainingFinished = Signal(object)  # Outcome
    datasetReady = Signal(object)  # Dataset
    datasetFailed = Signal(str)
    pausedChanged = Signal(bool)  # the worker really is (not) blocked between batches

    def __init__(self, experiment: Experiment | None = None, parent=None):
        super().__init__(parent)
        self.setObjectName("mainWindow")
        # Training stops and warnings reach the user in the banner and status bar, not on stderr.
        warnings.filterwarnings("ignore", category=TrainingWarning)
        self.setWindowTitle(DEFAULT_TITLE)
        self._setup_titled = False  # the title names the setup on show (see _follow_layers)
        if icon_path().is_file():
            self.setWindowIcon(QIcon(str(icon_path())))
        exp = experiment or Experiment()
        self._base = exp  # title and description ride along from the loaded file
        self._run_name = "earlier run"  # what a kept curve of the current run is called (set at Start)
        self._run_comparison: Comparison | None = None  # what it compares with (set at Start)
        self._run_loss: str | None = None  # the loss the last run trained with
        self._sizes_to_compare = False  # whether the next Start drops kept runs on other amounts of data
        self._run_forgotten = False  # View ▸ Forget earlier runs was chosen while this run was on show
        self._ask_before_discarding = True  # until 'Yes to All' to discarding unsaved weights
        self._on_trial = None  # (dataset, spec, model) to go back to if a chosen file cannot be read
        self.dataset: Dataset | None = None
        self._dataset_spec: dict | None = None  # spec of self.dataset
        self._loading_spec: dict | None = None
        self.model = None
        self._model_path: str | None = None  # the file the model was opened from or saved to
        self._init_key = None  # (initializer, seed) the model was initialised with
        self._trained = False  # the model holds trained weights
        self._earlier_history, self._earlier_owner = History(), None  # the model's runs before this one
        self._dirty = False  # ... that are not saved in a file
        self._thread: QThread | None = None
        self._worker: TrainingWorker | None = None
        self._control: RunControl | None = None
        self._pending_start: bool | None = None
        self._last_progress: Progress | None = None
        self._epoch_logs: dict = {}
        self._logs_by_epoch: dict = {}  # this run's epoch logs, by epoch number
        self._run_callbacks: list = []  # this run's callbacks (early stopping)
        self._run_batches = 0
        self._chance_said = ""  # this run's "not learning" notice, once given
        self._run_keeper = None  # the running fit's RecoveryWriter (guinn.gui.session)
        self._run_notice = ""  # the banner's text about the last run, which goes with its weights
        self._diverged = False  # the last run's loss or update stopped being finite: its weights are blown up
        self._problems_said: set[str] = set()  # the settings' problems the status bar has told of
        self._rate_mark: tuple | None = None  # (batches done, training seconds, recent rate) for _recent_rate
        self._started_before = False  # the first run of a session may wait for the compiler
        self._boundary_time = 0.0
        self._spread_time = 0.0
        self.last_outcome: Outcome | None = None
        self.history = TrainingHistory()
        shape = guess_shape(exp.dataset) or (784, 10)
        self.layers = LayerListModel(exp.layers, *shape, parent=self)
        self.layers.guard = self._confirm_architecture_change
        self.layers.keep_weights = self._carry_weights_over
        self.layers.specsChanged.connect(self._follow_layers)
        self.layers.refused.connect(lambda text: self.statusBar().showMessage(text, 10_000))

        self._build_ui()
        self._build_menus()
        self.settings.set_experiment(exp)
        self.dataset_panel.set_spec(exp.dataset, emit=False)
        self.loader = DatasetLoader(self)
        self.loader.loaded.connect(self._on_dataset_loaded)
        self.loader.failed.connect(self._on_dataset_failed)
        self.dataset_panel.specChanged.connect(self._on_dataset_choice)
        self.settings.initChanged.connect(self._on_init_change)
        self.settings.changed.connect(self._check_settings)
        self._plot_timer = QTimer(self)
        self._plot_timer.setInterval(PLOT_INTERVAL_MS)
        self._plot_timer.timeout.connect(self._on_tick)
        self._progress_shown: Progress | None = None
        self._progress_time = 0.0  # when the status bar last showed progress
        self._duty_mark: tuple[float, float] | None = None
        self._set_training_ui(False)
        range_notice.watch_all(self, lambda text: self.statusBar().showMessage(text, 10_000), self._unsay)
        plain_labels(self)  # (the drawing pad's too: it is built with the window)
        self._load_dataset(exp.dataset)
        self.setMinimumSize(MIN_SIZE)  # fits every pane's minimum; fixed before show so the layout never resizes it
        self.resize(FULL_SIZE)

    def fit_to_screen(self, available: QSize) -> bool:
        """Fit a screen's ``available`` area (a projector's 1024x768, a scaled laptop screen):
        the window may shrink to it, and on a screen narrower than the panes' minimum the side
        panes scroll sideways rather than push the Run buttons off the edge. True when the
        window should open maximised (the screen is smaller than its full size)."""
        # the available area includes the window's own title bar: a window exactly as tall ran its
        # status bar off a 1600 x 1000 screen at 150%
        available = QSize(available.width(), available.height() - TITLE_BAR_PX)
        width, height = min(MIN_SIZE.width(), available.width()), min(MIN_SIZE.height(), available.height())
        if width < MIN_SIZE.width():  # the Run pane keeps its width; the network pane scrolls
            left, right = self.side_panes
            room = width - self.plots.minimumSizeHint().width() - right.minimumWidth() - 30
            left.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
            left.setMinimumWidth(max(160, min(left.minimumWidth(), room)))
        self.setMinimumSize(width, height)
        self.resize(min(FULL_SIZE.width(), available.width()), min(FULL_SIZE.height(), available.height()))
        return available.width() < FULL_SIZE.width() or available.height() < FULL_SIZE.height()

    # -- layout --------------------------------------------------------------------------------
    def _build_ui(self) -> None:
        self.dataset_panel = DatasetPanel()
        self.layer_panel = LayerPanel(self.layers)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(4, 4, 4, 4)
        left_layout.addWidget(self.dataset_panel)
        left_layout.addWidget(self.layer_panel, 1)

        self.banner = MessageBanner()
        self.plots = PlotsPanel(self.history)
        self.dataset_view = DatasetView()
        self.plots.addTab(self.dataset_view, "Dataset")
        self.plots.setTabToolTip(self.plots.count() - 1, "Samples of the dataset; for 2-D data, the plane shaded "
                                 "by the class the network predicts (the decision boundary)")
        self.plots.currentChanged.connect(self._update_pace)
        self._drawing_pad = self._make_drawing_pad()
        centre = QWidget()
        centre_layout = QVBoxLayout(centre)
        centre_layout.setContentsMargins(4, 4, 4, 4)
        centre_layout.addWidget(self.banner)
        centre_layout.addWidget(self.plots, 1)

        self.settings = SettingsPanel()
        controls = QGroupBox("Run")
        grid = QVBoxLayout(controls)
        row1, row2 = QHBoxLayout(), QHBoxLayout()
        self.start_button = self._button(
            row1, "startButton", "Start", TIPS["start"], self.start_training
        )
        self.pause_button = self._button(
            row1, "pauseButton", "Pause", TIPS["pause"], self.toggle_pause
        )
        self.step_button = self._button(row1, "stepButton", "Step", TIPS["step"], self.step)
        self.stop_button = self._button(
            row2, "stopButton", "Stop", TIPS["stop"], self.stop_training
        )
        self.reset_button = self._button(
            row2, "resetButton", "Reset weights", TIPS["reset"], self.reset_weights
        )
        self.start_button.setDefault(True)
        self.start_button.setAccessibleName("Start / Continue")
        for button, keys in (
            (self.start_button, "Ctrl+R"),
            (self.pause_button, PAUSE_KEYS),
            (self.step_button, "Ctrl+T"),
            (self.stop_button, "Ctrl+."),
        ):
            button.setShortcut(QKeySequence(keys))
            button.setToolTip(f"{button.toolTip()} ({keys})")
        self.start_button.setStyleSheet("QPushButton#startButton { font-weight: bold; }")
        grid.addLayout(row1)
        grid.addLayout(row2)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(4, 4, 4, 4)
        right_layout.addWidget(self.settings)
        right_layout.addWidget(controls)
        right_layout.addStretch(1)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setObjectName("mainSplitter")
        self.side_panes: list[QScrollArea] = []
        for widget, width in ((left, 360), (centre, 800), (right, 310)):
            scroll = QScrollArea() if widget is not centre else None
            if scroll is not None:
                scroll.setWidget(widget)
                scroll.setWidgetResizable(True)
                scroll.setFrameShape(QFrame.Shape.NoFrame)
                scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
                # Never narrower than the content's own minimum: no control is cut off at any window size.
                content = widget.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width()
                scroll.setMinimumWidth(max(width - 40, content))
                splitter.addWidget(scroll)
                self.side_panes.append(scroll)
            else:
                splitter.addWidget(widget)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([370, 790, 320])
        self.setCentralWidget(splitter)

        self.metrics_label = QLabel("Ready: press Start to train this network.")
        self.metrics_label.setObjectName("metricsLabel")
        self.statusBar().addWidget(self.metrics_label, 1)
        self.progress = QProgressBar()
        self.progress.setObjectName("progressBar")
        self.progress.setToolTip(TIPS["progress"])
        self.progress.setFixedWidth(380)  # (it stretched and shrank as status messages came and went)
        self.progress.setTextVisible(True)
        # a pale fill under dark text: the style's dark blue fill under black text split "batch" into
        # a half that could not be read ("patch")
        self.progress.setStyleSheet("QProgressBar { border: 1px solid palette(mid); border-radius: 2px; "
                                    "text-align: center; color: palette(text); background: palette(base); } "
                                    "QProgressBar::chunk { background: rgba(66, 133, 200, 90); }")  # (dark themes too)
        self.progress.setFormat("Idle")
        self.progress.setValue(0)
        self.statusBar().addPermanentWidget(self.progress)

    @staticmethod
    def _button(layout, name, text, tip, slot) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setToolTip(tip)
        button.clicked.connect(lambda _checked=False: slot())
        layout.addWidget(button)
        return button

    def _make_drawing_pad(self):
        """The colleague-built drawing pad, if this build has it (imported lazily, guarded)."""
        try:
            from guinn.gui.drawing_pad import DrawingPadPanel
        except Exception:  # noqa: BLE001 - an optional panel must never stop the app starting
            return None
        try:
            pad = DrawingPadPanel()
        except Exception:  # noqa: BLE001
            return None
        self.plots.addTab(pad, "Draw")
        self.plots.setTabToolTip(self.plots.count() - 1, "Draw a digit with the mouse and see what the network reads")
        return pad

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        file_menu.setToolTipsVisible(True)
        entries = [
            (
                "Open experiment (setup)…",
                self.open_experiment,
                QKeySequence.StandardKey.Open,
                "Load a whole training setup (data, layers, optimizer, epochs, seed) from JSON.",
            ),
            (
                "Save experiment (setup, no weights)…",
                self.save_experiment,
                QKeySequence.StandardKey.Save,
                "Save the current setup as JSON: the same file reproduces the same run.",
            ),
            None,
            (
                "Open model (trained weights)…",
                self.open_model,
                "Ctrl+Shift+O",
                "Load trained weights (a .safetensors model file) to inspect or keep training.",
            ),
            (
                "Save model (trained weights)…",
                self.save_model,
                "Ctrl+Shift+S",
                "Save the trained weights, optimizer state and labels to a .safetensors file.",
            ),
            (
                "Export as ONNX…",
                self.export_onnx,
                "Ctrl+E",
                "Write the trained network as an ONNX file, to run it with onnxruntime or open "
                "it in Netron (needs the optional onnx package).",
            ),
            None,
            (
                "Quit",
                self.close,
                QKeySequence.StandardKey.Quit,
                "Close guinn (stops training and offers to save unsaved weights).",
            ),
        ]
        for entry in entries:
            if entry is None:
                file_menu.addSeparator()
                continue
            text, slot, keys, tip = entry
            action = self._action(file_menu, text, slot, keys)
            action.setToolTip(tip)
            action.setStatusTip(tip)
        self.presets_menu = self.menuBar().addMenu("&Presets")
        self.presets = list_presets()
        for preset in self.presets:
            action = self._action(
                self.presets_menu, preset.title, lambda p=preset: self.load_preset(p)
            )
            action.setToolTip(preset.description)
            action.setStatusTip(preset.description[:200])
        self.presets_menu.setToolTipsVisible(True)
        if not self.presets:
            self.presets_menu.addAction("(no presets found)").setEnabled(False)
        view_menu = self.menuBar().addMenu("&View")
        view_menu.setToolTipsVisible(True)
        self.keep_runs_action = self._action(view_menu, "Keep earlier runs for comparison", lambda: None)
        self.keep_runs_action.setCheckable(True)
        self.keep_runs_action.setChecked(True)
        tip = ("When a run's curves are cleared (Reset weights, a preset, another network), keep its smoothed "
               "loss and accuracy as a dashed line and its validation curves as dotted ones, to race optimizers "
               "or compare dropout against none.")
        self.keep_runs_action.setToolTip(tip)
        self.keep_runs_action.setStatusTip(tip)
        self.slow_motion_action = self._action(view_menu, f"Slow motion ({SLOW_MOTION_BATCHES_PER_S} batches a second)",
                                               self._update_pace, "Ctrl+M")
        self.slow_motion_action.setCheckable(True)
        tip = (f"Train at most {SLOW_MOTION_BATCHES_PER_S} batches a second, with the plots redrawn ten times a "
               "second, to watch the first batches of a run in a lecture (the gradients of a deep sigmoid "
               "network fading, an optimizer's first steps). Turn it off to finish the run at full speed.")
        self.slow_motion_action.setToolTip(tip)
        self.slow_motion_action.setStatusTip(tip)
        view_menu.addSeparator()
        self._zoom_menu(view_menu)
        view_menu.addSeparator()
        forget = self._action(view_menu, "Forget earlier runs", self.forget_runs)
        forget.setToolTip("Remove the dashed and dotted lines of earlier runs from the loss and accuracy plots "
                          "(the run on show is not kept either when it is replaced).")
        help_menu = self.menuBar().addMenu("&Help")
        self._action(help_menu, "Getting started", lambda: help_pages.show_getting_started(self), "F1")
        self._action(help_menu, "Keyboard shortcuts", lambda: help_pages.show_shortcuts(self))
        help_menu.addSeparator()
        self._action(help_menu, "About guinn", self._about)

    def _action(self, menu, text, slot, shortcut=None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        return action

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return FULL_SIZE

    def _on_gui_thread(self) -> bool:
        return QThread.currentThread() == self.thread()

    # -- prompts (tests replace ``ask``) -------------------------------------------------------
    def ask(self, title: str, text: str, buttons=Button.Yes | Button.No, default=Button.No):
        box = QMessageBox(QMessageBox.Icon.Question, title, text, buttons, self)
        box.setTextFormat(Qt.TextFormat.PlainText)  # (the text may quote a file's name)
        box.setDefaultButton(default)
        box.exec()
        return box.standardButton(box.clickedButton()) if box.clickedButton() is not None else Button.No

    def show_error(self, text: str) -> None:
        self.banner.show_message(text, "error")
        self.statusBar().showMessage(text.split("\n")[0], 10_000)

    def show_info(self, text: str, kind: str = "info", rich: bool = False, short: str | None = None) -> None:
        self.banner.show_message(text, kind, rich, short)

    def _unsay(self, text: str) -> None:
        """Take a status bar message back, if it is still the one showing."""
        if self.statusBar().currentMessage() == text:
            self.statusBar().clearMessage()

    def clear_error(self) -> None:
        """Hide an error the user has since put right (a later load or save succeeded), in the
        banner and in the status bar."""
        if self.banner.kind == "error":
            if self.statusBar().currentMessage() == self.banner.text().split("\n")[0]:
                self.statusBar().clearMessage()
            self.banner.hide()

    # -- the experiment as edited --------------------------------------------------------------
    def experiment(self) -> Experiment:
        """What the widgets say, as an :class:`Experiment` (raises GuinnError if invalid)."""
        return Experiment(
            title=self._base.title,
            description=self._base.description,
            dataset=self.dataset_panel.spec(),
            layers=tuple(self.layers.specs()),
            **self.settings.values(),
        )

    def apply_experiment(self, exp: Experiment) -> bool:
        """Show ``exp`` in the widgets, as a new run from fresh weights: the five optimizer
        presets share one network, and each must start where the others did. Asks before
        discarding trained weights."""
        if self.is_training():
            self.show_error("Stop training before opening another experiment.")
            return False
        if not self._confirm_architecture_change(
            "A preset or an experiment file starts a new run from fresh weights, so the trained weights would be "
            "discarded"
        ):
            return False
        # The spiral's runs on an MNIST lesson's plot compared nothing, nor do runs of other batches.
        # Runs on other amounts of the same data stay until Start, and go then if the amount still
        # differs: each of the optimizer race's presets puts 60,000 digits back, which a student
        # racing on 6,000 sets again.
        self._forget_runs_unlike(exp)
        self._base = exp
        self.settings.set_experiment(exp)
        self.layers.set_specs(exp.layers, guarded=False)
        self.layer_panel.select(0)
        if exp.dataset != self.dataset_panel.spec():
            self.dataset_panel.set_spec(exp.dataset, emit=False)
            self._load_dataset(exp.dataset)
        return True

    def _forget_runs_unlike(self, exp: Experiment) -> None:
        """For a preset or an opened model's setup: forget the kept runs of other data, batch size
        or validation split now, and those of other sample counts at the next Start."""
        self.plots.forget_runs_unlike(self._comparison_of(exp), SAME_BATCHES)
        self._sizes_to_compare = True

    @staticmethod
    def _comparison_of(exp: Experiment) -> Comparison:
        """What a run of ``exp`` must share with an earlier run for their curves to compare."""
        spec = exp.dataset
        return Comparison(json.dumps(_source(spec), sort_keys=True),
                          json.dumps({k: spec[k] for k in SIZE_KEYS if k in spec}, sort_keys=True),
                          int(exp.batch_size), round(float(exp.validation_split), 6))

    # -- dataset -------------------------------------------------------------------------------
    def _on_dataset_choice(self, spec: dict) -> None:
        if spec == self._loading_spec or (
            self._loading_spec is None and spec == self._dataset_spec
        ):
            return
        if not self._keeps_model(spec):
            if spec.get("kind") in ("csv", "idx") and self.dataset is not None and self._would_ask_to_discard():
                # the user's file is read before the question: one that cannot be read must not cost
                # the trained weights (they were discarded, then the file's error came)
                trial = self._on_trial or (self.dataset, self._dataset_spec, self.model)
                self._load_dataset(spec)
                self._on_trial = trial
                return
            if not self._confirm_architecture_change():
                self.dataset_panel.set_spec(self._loading_spec or self._dataset_spec or {"kind": "mnist"}, emit=False)
                return
        self._follow_data(spec)
        self._load_dataset(spec)

    def _follow_data(self, spec: dict) -> None:
        """The preset and the kept runs, for a change to the data ``spec``."""
        if _source(spec) != _source(self._base.dataset):  # other data than the preset explains
            self.leave_preset()
        if _source(spec) != _source(self._dataset_spec or spec):  # other data's runs do not compare with these
            self.plots.forget_runs()  # (17,000 MNIST batches squeezed a CSV run into 2% of the axis)

    def _follow_layers(self) -> None:
        """The window's title says when the network is no longer the preset's: with all eight
        layers removed, 'The ReLU twin: 8 ReLU layers' still said so. Its explanation stays up:
        changing the network is what most lessons invite."""
        title = self._base.title
        if title and self._setup_titled:
            changed = tuple(self.layers.specs()) != tuple(self._base.layers)
            self.setWindowTitle(f"guinn — {title}" + (" (network changed)" if changed else ""))

    def _would_ask_to_discard(self) -> bool:
        """Whether giving up the model needs the user's word: unsaved trained weights, unless
        they answered 'Yes to All'."""
        return (self.model is not None and self._trained and self._dirty and self._ask_before_discarding
                and not self.is_training())

    def _end_trial(self, loaded: bool) -> bool:
        """After a file read on trial (see _on_dataset_choice): True if its data stay. Else the
        data before are back, with the trained model."""
        before, self._on_trial = self._on_trial, None
        dataset, spec, model = before
        if model is not self.model:  # (the model changed meanwhile: nothing of the trial's to protect)
            return True
        if loaded and self._confirm_architecture_change():
            self._follow_data(self._loading_spec)
            return True
        self._loading_spec = spec
        self.dataset_panel.set_spec(spec, emit=False)
        self._on_dataset_loaded(dataset)
        return False

    def _load_dataset(self, spec: dict) -> None:
        self._on_trial = None  # a file on trial (see _on_dataset_choice) is replaced by this load
        self.dataset = None
        self._loading_spec = dict(spec)
        shape = guess_shape(spec)
        if shape:
            self.layers.set_shape(*shape)
        self.settings.set_image_dataset(spec.get("kind", "mnist") in ("mnist", "idx"))  # until loaded
        self.dataset_panel.show_dataset(None)
        self.dataset_view.show_dataset(None)
        self.loader.load(spec)

    def wait_for_dataset(self, timeout: float = 30.0) -> None:
        """Block until a pending dataset load finished (for scripts and the benchmark)."""
        self.loader.wait(timeout)

    @Slot(object)
    def _on_dataset_loaded(self, dataset: Dataset) -> None:
        assert self._on_gui_thread(), "worker records must arrive queued on the GUI thread"
        if self._on_trial is not None and not self._end_trial(True):
            return
        self.dataset = dataset
        self._dataset_spec, self._loading_spec = self._loading_spec, None
        self.layers.set_shape(dataset.input_dim, dataset.n_classes)
        shape = dataset.image_shape
        self.settings.set_image_dataset(shape is not None)
        self.layer_panel.set_input_description(
            f"{shape[0]}×{shape[1]} image" if shape else "features"
        )
        self.dataset_panel.show_dataset(dataset)
        # the label column under its own name ("flower"), where the file has one
        self.dataset_view.show_dataset(dataset, label=str((self._dataset_spec or {}).get("label_column") or "label"))
        self.clear_error()
        self._show_model()
        self._check_settings()
        self.datasetReady.emit(dataset)
        if self._pending_start is not None:
            paused, self._pending_start = self._pending_start, None
            self.start_training(paused=paused)

    @Slot(str)
    def _on_dataset_failed(self, error: str) -> None:
        if self._on_trial is not None:
            self._pending_start = None  # (Continue pressed while the file loaded: not on the data before)
            if not self._end_trial(False):  # the data before are back
                self.show_error(f"The dataset could not be loaded: {error} The data before it and the trained "
                                "model are kept.")
                self.datasetFailed.emit(error)
                return
        self._loading_spec = None
        self._dataset_spec = None  # nothing is loaded now: choosing the previous data again reloads it
        self._pending_start = None
        self.dataset_panel.show_dataset(None, error)
        self.dataset_view.show_dataset(None, error)
        self.show_error(f"The dataset could not be loaded: {error}")
        self.datasetFailed.emit(error)

    def _check_settings(self) -> list[str]:
        """Flag, in place, settings that the widgets allow but this dataset or the other
        settings do not; returns the problems."""
        problems = self._setting_problems()
        s = self.settings
        flagged = ((s.validation_split, "validation_split"), (s.batch_size, "batch_size"), (s.monitor, "monitor"))
        for message in set(problems.values()) - self._problems_said:  # said once where it is seen, not only on hover
            self.statusBar().showMessage(message, 10_000)
        self._problems_said = set(problems.values())
        for widget, tip in flagged:
            message = problems.get(widget)
            mark_problem(widget, bool(message))
            base = widget.property("baseTip") or TIPS[tip]
            widget.setToolTip(f"{base}\n\n⚠ {message}" if message else base)
        return list(problems.values())

    def _setting_problems(self) -> dict:
        """{settings widget: what is wrong with its value}."""
        problems: dict = {}
        ds = self.dataset
        if ds is not None:
            n = len(ds.x_train)
            split = self.settings.validation_split.value()
            n_train = int(n * (1 - split) + 1e-9)  # the engine's split, float error included
            if split and (n_train < 1 or n_train == n):
                problems[self.settings.validation_split] = (
                    f"A validation split of {split:g} leaves no samples for training or validation "
                    f"({n} samples)."
                )
            elif self.settings.batch_size.value() > max(n_train, 1):
                problems[self.settings.batch_size] = (
                    f"The batch is larger than the {n_train} training samples: each epoch is a "
                    "single, smaller batch."
                )
            elif 2 * FEW_BATCHES <= n_train < FEW_BATCHES * self.settings.batch_size.value():  # (not for a handful)
                batches = -(-n_train // self.settings.batch_size.value())
                smaller = 2 ** max(0, int(math.log2(max(1, n_train // FEW_BATCHES))))
                problems[self.settings.batch_size] = (
                    f"Only {count(batches, 'batch', 'batches')} an epoch ({n_train} training samples): the weights "
                    f"change {count(batches, 'time')} an epoch. A smaller batch (e.g. {smaller}) learns faster "
                    "on so few samples."
                )
        monitor = self.settings.monitor.currentData() or ""
        no_validation = not self.settings.validation_split.value()
        if self.settings.early.isChecked() and monitor.startswith("val_") and no_validation:
            problems[self.settings.monitor] = (
                f"Early stopping watches {monitor}, which needs validation data: set a validation "
                "split above 0, or watch loss or accuracy."
            )
        return problems

    # -- model lifecycle -----------------------------------------------------------------------
    def _unchanged(self, exp: Experiment) -> bool:
        """Whether ``exp`` is still the preset or file it came from (optimizer settings a preset
        leaves out count at their defaults: an Experiment holds every one)."""
        return exp == self._base

    def _describe_run(self, exp: Experiment) -> str:
        """What a kept curve of a run is called: the preset's own name while only its epochs
        differ (more epochs are the same run), with what else was changed while its network and
        optimizer are the preset's ('SGD, 10,000 samples'), else what was changed, e.g. '8×64
        tanh' or '2×512 relu, dropout 0.5, Adam 0.01'."""
        base = self._base
        parts = [_layers_label(exp.layers)] if exp.layers != base.layers else []
        if exp.optimizer != base.optimizer:
            parts.append(_run_label(self.model.optimizer))
        others = (("loss", lambda v: LOSS_NAMES.get(v, v)), ("batch_size", lambda v: f"batch {v}"),
                  ("validation_split", lambda v: f"validation {v:g}"), ("initializer", str),
                  ("seed", lambda v: f"seed {v}"),
                  ("early_stopping", lambda v: "early stopping" if v.enabled else "no early stopping"),
                  ("augment", lambda v: "augmented" if v.enabled else "not augmented"),
                  ("dataset", lambda v: _dataset_label(v, base.dataset)))
        parts += [say(getattr(exp, key)) for key, say in others if getattr(exp, key) != getattr(base, key)]
        named = exp.layers == base.layers and exp.optimizer == base.optimizer and _short_title(exp.title)
        if named:  # still the preset's run, in other settings: 'SGD, 10,000 samples' (the race on
            parts.insert(0, named)  # fewer samples was '10,000 samples', '(2)', '(3)': no optimizer named)
        return ", ".join(parts)

    def _keeps_model(self, spec: dict) -> bool:
        """Whether choosing ``spec`` keeps the network without asking: the same data with another
        sample limit, or data it fits while it does not fit the data loaded now (an opened
        model's own dataset). Other data of the same shape (spiral after blobs) still asks."""
        if not self._model_fits(guess_shape(spec)):
            return False
        ds = self.dataset
        stranded = ds is not None and not self._model_fits((ds.input_dim, ds.n_classes))
        return stranded or _source(spec) == _source(self._loading_spec or self._dataset_spec or {})

    def _model_fits(self, shape) -> bool:
        """Whether the current model takes data of ``shape`` ((inputs, classes); None when
        unknown before loading, e.g. a CSV file)."""
        model = self.model
        if model is None or shape is None or not model.built:
            return False
        return (math.prod(model.input_shape), model.output_shape[-1]) == tuple(shape)

    def _confirm_architecture_change(
        self, why: str = "This change needs a new network, so the trained weights would be discarded"
    ) -> bool:
        """Guard for every change that needs a new network: never silently drop trained weights."""
        if self.is_training():
            return False
        if self.model is None:
            return True
        if self._would_ask_to_discard():  # saved weights are on disk: nothing lost
            answer = self.ask(
                "Discard the trained model?",
                why + " (they are not saved). Continue?\n\n'Yes to All' discards without asking until guinn "
                "is closed (for a series of presets such as the optimizer race).",
                Button.Yes | Button.YesToAll | Button.No,
            )
            if answer == Button.YesToAll:
                self._ask_before_discarding = False
            elif answer != Button.Yes:
                return False
        self._discard_model()
        return True

    def _carry_weights_over(self, proposed) -> bool:
        """Dropout, L1 and L2 change no weight's shape: rebuild the network with the edited cards and
        keep the trained weights, optimizer state and history instead of asking to discard them."""
        if self.model is None or self.is_training() or self.dataset is None:
            return False

        def shapes_only(specs):
            return [spec.with_changes(dropout=0.0, l1=0.0, l2=0.0) for spec in specs]

        if shapes_only(proposed) != shapes_only(self.layers.specs()):
            return False
        old = self.model
        try:
            new = self.experiment().with_changes(layers=tuple(proposed)).build_model(self.dataset)
            new.set_weights(old.get_weights())
            if old.optimizer is not None and old.optimizer.to_config() == new.optimizer.to_config():
                new.optimizer.set_state(old.optimizer.get_state())
            new.set_rng_states(old.rng_states)
        except (GuinnError, KeyError, ValueError):
            return False
        new.history = old.history
        if self._earlier_owner is old:  # the earlier runs' record goes on with the weights
            self._earlier_owner = new
        self.model = new
        self._dirty = self._dirty or self._trained
        self._show_model()
        return True

    def _keep_for_comparison(self) -> None:
        """Before the curves are cleared: keep the run's smoothed loss and accuracy (View menu)."""
        if self.keep_runs_action.isChecked() and len(self.history.batches) and not self._run_forgotten:
            self.plots.keep_run(self._run_name, self._run_comparison)
        self._run_forgotten = False

    def _zoom_menu(self, view_menu) -> None:
        """View ▸ Size: everything (text, plots, lines) larger for a projector, from the next start
        (Qt scales a whole application only as it starts)."""
        from guinn.gui.session import ZOOMS

        menu = view_menu.addMenu("Size (for projectors)")
        menu.setToolTipsVisible(True)
        group = QActionGroup(self)
        self.zoom_actions = {}
        for zoom in ZOOMS:
            action = menu.addAction(f"{zoom}%" + (" (normal)" if zoom == 100 else ""))
            action.setCheckable(True)
            action.setActionGroup(group)
            action.setToolTip("Text, plots and lines at this size from guinn's next start, with this setup kept "
                              "(GUINN_ZOOM=150 sets it for one start).")
            action.triggered.connect(lambda _=False, z=zoom: self.choose_zoom(z))
            self.zoom_actions[zoom] = action
        self._zoom_now = zoom_now()  # this start's (GUINN_ZOOM's, for one start: not kept as the choice)
        self.zoom = 100  # the choice kept for the next start; the session's, once read
        self.zoom_actions[self.zoom].setChecked(True)

    def choose_zoom(self, zoom: int, say: bool = True) -> None:
        self.zoom = zoom
        if zoom in self.zoom_actions:
            self.zoom_actions[zoom].setChecked(True)
        if say and zoom != self._zoom_now:
            self.statusBar().showMessage(f"guinn opens at {zoom}% from its next start (this setup is kept); "
                                         "close it and start it again to see it now.", 15_000)

    def forget_runs(self) -> None:
        """Forget the earlier runs, and the one on show: it would otherwise come back as an
        earlier run as soon as a preset replaced it."""
        self.plots.forget_runs()
        self._run_forgotten = bool(len(self.history.batches))

    def _discard_model(self) -> None:
        self._keep_for_comparison()
        self._diverged = False
        run_notice = self.banner.text() == self._run_notice  # (a diverged run's error too)
        if self.banner.kind in ("warning", "info") or run_notice:  # notes on the discarded weights' runs
            self.banner.hide()
        self.model = None
        self._model_path = None  # (the next model is another file's)
        self._earlier_history, self._earlier_owner = History(), None  # nothing holds the old weights
        self._trained = self._dirty = False
        self.history.reset(())
        self.plots.clear()
        self._show_model()
        self.progress.setValue(0)
        self.progress.setFormat("Idle")
        self._epoch_logs = {}
        self.metrics_label.setText("Ready: press Start to train this network.")
        self._sync_recovery()

    def _show_model(self) -> None:
        """The model changed (built, opened, discarded, reset): the views that read it follow."""
        self._redraw_boundary()
        self._show_spread()
        self._set_pad_model()
        self._name_start()

    def _name_start(self) -> None:
        """'Continue' where Start would train the trained weights on (a lecturer pressing Start
        after a finished run expected a fresh one), 'Start' where it begins from fresh weights."""
        goes_on = self.model is not None and self._trained and not self._diverged
        self.start_button.setText("Continue" if goes_on else "Start")
        tip = (f"{TIPS['start_continue']} (Ctrl+R)" if goes_on else f"{TIPS['start']} (Ctrl+R)")
        self.start_button.setToolTip(tip)

    def _show_spread(self) -> None:
        self._spread_time = time.perf_counter()
        self.plots.spread.show(weight_spread(self.model))

    def _redraw_boundary(self) -> None:
        self._boundary_time = time.perf_counter()
        self.dataset_view.show_boundary(self.model)

    def _set_pad_model(self) -> None:
        if self._drawing_pad is None:
            return
        try:
            if self.model is None or self.dataset is None:
                self._drawing_pad.set_model(None, None, None)
            else:
                self._drawing_pad.set_model(
                    self.model, self.dataset.image_shape, self.dataset.class_names
                )
        except Exception as exc:  # noqa: BLE001 - the optional pad must not break training
            self.statusBar().showMessage(f"Drawing pad: {exc}", 5000)

    def _on_init_change(self) -> None:
        if self.model is not None and not self._trained:
            self._discard_model()  # untrained: the next Start builds with the new seed/initializer

    def _ensure_model(self, exp: Experiment):
        if self.model is None:
            self.model = exp.build_model(self.dataset)
            self._init_key = (exp.initializer, exp.seed)
            self._trained = self._dirty = False
            self.history.reset(())
            self.plots.clear()
            self._show_model()
            return
        opt = optimizers.get(dict(exp.optimizer))
        loss_name = getattr(self.model.loss, "name", None)
        if (
            not self.model.compiled
            or self.model.optimizer is None
            or self.model.optimizer.to_config() != opt.to_config()
            or loss_name != exp.loss
        ):
            self.model.compile(optimizer=opt, loss=exp.loss, metrics=["accuracy"])

    def whole_history(self) -> History:
        """Every epoch the current weights trained, over all their runs (each Start is a fit,
        whose ``model.history`` holds that run alone)."""
        earlier = self._earlier_history if self._earlier_owner is self.model else History()
        return earlier.joined(self.model.history)

    def reset_weights(self) -> None:
        if self.is_training():
            return
        if self.model is None:
            self.statusBar().showMessage("No model yet: Start builds one with fresh weights.", 5000)
            return
        if self._trained and self._dirty:
            if (
                self.ask(
                    "Reset weights?",
                    "Re-initialise all weights and forget what was learned "
                    "(the trained weights are not saved)?",
                )
                != Button.Yes
            ):
                return
        try:
            exp = self.experiment()
            self._keep_for_comparison()
            ds = self.dataset
            fits = ds is None or self._model_fits((ds.input_dim, ds.n_classes))
            self._model_path = None  # fresh weights are no file's
            if (exp.initializer, exp.seed) == self._init_key and fits:
                self.model.reset_weights()
                self.history.reset(())
                self.plots.clear()
                self._show_model()
            else:
                self.model = None
                self._ensure_model(exp)
        except GuinnError as exc:
            self.show_error(str(exc))
            return
        self.clear_error()  # e.g. Start's complaint that the network did not fit the dataset
        self._trained = self._dirty = self._diverged = False
        self._name_start()
        self._earlier_owner = None  # the earlier runs' record went with their weights
        self._epoch_logs = {}
        self.metrics_label.setText("Ready: press Start to train the fresh weights.")
        self.progress.setValue(0)
        self.progress.setFormat("Weights re-initialised")
        self.statusBar().showMessage("Weights re-initialised from the seed.", 5000)
        self._sync_recovery()

    # -- training ------------------------------------------------------------------------------
    def is_training(self) -> bool:
        return self._thread is not None

    def start_training(self, paused: bool = False) -> bool:
        """Start (or continue) training on the window's model; ``paused`` runs one batch only."""
        if self.is_training():
            return False
        try:
            exp = self.experiment()
        except GuinnError as exc:
            self.show_error(f"Cannot start: {exc}")
            return False
        if self.dataset is None:
            if self._loading_spec is not None:
                self._pending_start = paused
                self.metrics_label.setText("Loading the dataset; training starts when it is ready…")
                return True
            self.show_error("No dataset is loaded: choose one in the Dataset box.")
            return False
        ds = self.dataset
        no_split = self._setting_problems().get(self.settings.validation_split)
        if no_split:  # said in the settings' words (fit would name its validation_split argument)
            self.show_error(f"Cannot start: {no_split} Choose another validation split in the Training box.")
            return False
        if self.model is not None and not self._model_fits((ds.input_dim, ds.n_classes)):
            self.show_error(
                f"Cannot start: the network takes {math.prod(self.model.input_shape)} inputs and "
                f"{self.model.output_shape[-1]} classes, but the dataset has {ds.input_dim} and "
                f"{ds.n_classes}. Choose a dataset that matches it, or press Reset weights for a "
                "new network shaped for this dataset."
            )
            return False
        if self._diverged and self.model is not None:  # continuing blew up again at once, whatever the rate
            self._discard_model()
            self.statusBar().showMessage("The last run diverged, so this one starts from fresh weights.", 10_000)
        before = self._run_loss if self.history.step else None  # the last run's loss, if this one goes on
        try:
            self._ensure_model(exp)
            fit_args = exp.fit_arguments(self.dataset)
            callbacks = exp.callbacks()
        except GuinnError as exc:
            self.show_error(f"Cannot start: {exc}")
            return False
        # A run goes on from the epochs these weights already had (Keras's initial_epoch), so
        # progress says "Epoch 11/14" where the plots show the 11th; fit keeps only its own
        # run's record, so the earlier runs' is kept here, for saving the whole of it.
        self._earlier_history, self._earlier_owner = self.whole_history(), self.model
        self.model.history = History()
        done = self.history.epochs_done
        fit_args.update(initial_epoch=done, epochs=done + fit_args["epochs"])
        if self.banner.kind != "preset":  # a preset's explanation says what to watch: it stays up
            self.banner.hide()  # an earlier run's notes and errors do not
        unwatched = self._setting_problems().get(self.settings.monitor)
        if unwatched:
            unwatched += " (It will not stop this run.)"
            if self.banner.kind == "preset" and not self.banner.isHidden():
                self.statusBar().showMessage(unwatched, 15_000)  # the preset's explanation stays up
            else:
                self.show_info(unwatched, "warning")
        self.history.set_folded(folded_layer_names(self.model))  # one plot line per layer card
        self.history.expect_layers(plot_layer_names(self.model))
        self.plots.prepare_layers()  # curves and legends built now, not while the worker runs
        if self.history.step:  # this run continues the curves: mark where, and with what
            label = _run_label(self.model.optimizer)
            if before is not None and before != exp.loss:  # the loss curve goes on in other units
                label += f", loss: {self.settings.loss.currentText()}"
            self.plots.mark_run(self.history.step, label)
        # Kept runs compare with this one only on the same data, batch size and validation split
        # (the optimizer race's five presets; not a 1,000-digit lesson after a 60,000-digit one)
        self._run_loss = exp.loss  # (a layer edit between runs compiles the carried-over model with the new one)
        self._run_comparison = self._comparison_of(exp)
        if self._sizes_to_compare:  # runs kept across a preset (see apply_experiment); changes made since
            self.plots.forget_runs_unlike(self._run_comparison, ("source", "sizes"))  # are compared by label
            self._sizes_to_compare = False
        # what a kept curve of this run will be called: the preset's own name while it is unchanged
        self._run_name = self._describe_run(exp)
        self.plots.set_run_name(self._run_name)
        control = RunControl(paused=paused, steps=1 if paused else 0)
        self._run_callbacks, self._logs_by_epoch = callbacks, {}
        self.metrics_label.setToolTip("")  # an earlier run's test figures
        keeper = self._run_keeper = self._recovery_writer(self._earlier_history)  # the weights, kept for a crash
        test = (ds.x_test, to_categorical(ds.y_test, ds.n_classes)) if len(ds.x_test) else None
        worker = TrainingWorker(self.model, fit_args, callbacks + ([keeper] if keeper else []), control, test)
        thread = QThread()
        thread.setObjectName("guinn-training")
        worker.moveToThread(thread)
        worker.progress.connect(self._on_progress)
        worker.epochEnded.connect(self._on_epoch_end)
        worker.pausedChanged.connect(self._on_paused_changed)
        worker.failed.connect(self._on_failed)
        worker.finished.connect(self._on_finished)
        worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        worker.finished.connect(worker.deleteLater)
        thread.started.connect(worker.run)
        self._thread, self._worker, self._control = thread, worker, control
        self._update_pace()  # (the run's own control: 2-D runs watched on the Dataset tab go slower)
        self._run_batches = 0
        self._chance_said = ""
        self._last_progress = None
        self._epoch_logs = {}
        self._set_training_ui(True)
        self._plot_timer.setInterval(PLOT_INTERVAL_MS)
        self._duty_mark = None
        self._plot_timer.start()
        # The first run of a session may wait a few seconds for the compiler (app start
        # compiles in the background; a quick first click catches it still at work).
        first, self._started_before = not self._started_before, True
        self.progress.setFormat("Starting… (the first run compiles the training step)" if first else "Starting…")
        thread.start()
        self.trainingStarted.emit()
        return True

    def toggle_pause(self) -> None:
        control = self._control
        if control is None:
            return
        if control.paused:
            control.resume()
            self._set_pause_text("Pause")
        else:
            control.pause()
            self._set_pause_text("Resume")

    def _set_pause_text(self, text: str) -> None:
        """Pause <-> Resume. setText drops a button's shortcut (the text's mnemonic replaces
        it), so Ctrl+P is set again each time."""
        self.pause_button.setText(text)
        self.pause_button.setShortcut(QKeySequence(PAUSE_KEYS))

    def step(self) -> None:
        if self._control is None:
            self.start_training(paused=True)
        else:
            self._control.step()
            self._set_pause_text("Resume")

    def stop_training(self) -> None:
        if self._control is not None:
            self._control.stop()
            self.progress.setFormat("Stopping…")

    def _finish_thread(self) -> None:
        """Wait for the worker thread to end and drop it (safe to call twice)."""
        thread = self._thread
        if thread is None:
            return
        if self._control is not None and thread.isRunning() and self._worker is None:
            self._control.stop()
        thread.wait()
        self._thread = self._worker = self._control = None
        self._plot_timer.stop()
        if self._run_batches:
            self._trained = self._dirty = True

    @Slot(object)
    def _on_progress(self, p: Progress) -> None:
        assert self._on_gui_thread(), "worker records must arrive queued on the GUI thread"
        if self._thread is None:
            return
        self.history.add_batches(p.batches)
        self._last_progress = p
        self._run_batches = p.done

    def _on_tick(self) -> None:
        """Coalesced redraw of progress, metrics and the visible plots.

        The interval adapts to what redrawing really costs: the GUI thread's CPU time
        (painting included) is measured between ticks and the interval grows while it
        exceeds ``GUI_DUTY`` of the wall time, because every cycle spent painting is taken
        from training (the CPU and the GIL are shared with the worker)."""
        p = self._last_progress
        # The status text at most every STATUS_INTERVAL_S: QProgressBar.setValue repaints
        # synchronously (~0.5 ms here), and nobody reads numbers changing 25 times a second.
        due = time.perf_counter() - self._progress_time >= STATUS_INTERVAL_S
        if p is not None and p is not self._progress_shown and due:
            self._show_progress(p)
        self.plots.refresh(visible_only=True)
        if (self.plots.currentIndex() == self.plots.WEIGHTS_PAGE and self._thread is not None
                and time.perf_counter() - self._spread_time >= SPREAD_INTERVAL_S):
            self._show_spread()
        wall, cpu = time.perf_counter(), time.thread_time()
        if self._duty_mark is not None and wall - self._duty_mark[0] >= 0.25:
            duty = (cpu - self._duty_mark[1]) / (wall - self._duty_mark[0])
            interval = self._plot_timer.interval()
            if self.slow_motion_action.isChecked():
                interval = SLOW_MOTION_INTERVAL_MS
            elif duty > GUI_DUTY:
                interval = min(MAX_INTERVAL_MS, int(interval * min(3.0, duty / GUI_DUTY)))
            elif duty < GUI_DUTY / 2:
                interval = max(PLOT_INTERVAL_MS, int(interval / 1.25))
            self._plot_timer.setInterval(interval)
            self._duty_mark = (wall, cpu)
        elif self._duty_mark is None:
            self._duty_mark = (wall, cpu)

    def _show_progress(self, p: Progress) -> None:
        self._progress_shown = p
        self._progress_time = time.perf_counter()
        total = max(1, p.epochs * p.steps)
        done = min(total, p.epoch * p.steps + p.batch + 1)
        rate = self._recent_rate(p)
        left = (total - done) / rate if rate and math.isfinite(rate) else math.nan
        self.progress.setMaximum(total)
        self.progress.setValue(done)
        self.progress.setFormat(
            f"Epoch {p.epoch + 1}/{p.epochs} · batch {p.batch + 1}/{p.steps} · "
            f"{_format_seconds(left)} left"
        )
        self._show_metrics(p.batches[-1], rate)

    def _recent_rate(self, p: Progress) -> float:
        """Batches a second over the last RATE_WINDOW_S seconds of training (the whole run's
        average until then): switching slow motion on mid-run showed the average, 191 a
        second, while it trained at 20, and the time left followed it."""
        mark = self._rate_mark
        if mark is None or p.done < mark[0] or p.elapsed < mark[1]:  # a new run
            mark = self._rate_mark = (p.done, p.elapsed, None)
        done, elapsed, recent = mark
        if p.elapsed - elapsed >= RATE_WINDOW_S:
            recent = (p.done - done) / (p.elapsed - elapsed)
            self._rate_mark = (p.done, p.elapsed, recent)
        if recent is not None:
            return recent
        return p.done / p.elapsed if p.elapsed > 0 else math.nan

    def _show_metrics(self, record, rate: float) -> None:
        parts = [f"loss {_metric(record.loss)}"]
        if math.isfinite(record.accuracy):
            parts.append(f"accuracy {record.accuracy:.1%}")
        logs = self._epoch_logs
        parts += [_figure(key, logs[key]) for key in ("val_loss", "val_accuracy") if key in logs]
        if math.isfinite(rate):
            parts.append(f"{rate:,.0f} batches/s")
        self.metrics_label.setText(" · ".join(parts))

    @Slot(object)
    def _on_epoch_end(self, e: EpochEnd) -> None:
        assert self._on_gui_thread(), "worker records must arrive queued on the GUI thread"
        if self._thread is None:
            return
        self._epoch_logs = e.as_dict()
        self._logs_by_epoch[e.epoch] = self._epoch_logs
        self.history.add_epoch(self._epoch_logs)
        self._warn_if_not_learning()
        watched = self._control is not None and self._control.pace_s > 0
        if watched or time.perf_counter() - self._boundary_time >= BOUNDARY_INTERVAL_S:  # toy epochs take ms
            self._redraw_boundary()

    def _warn_if_not_learning(self) -> None:
        """Say so, once a run, when the training accuracy has sat at chance for CHANCE_EPOCHS
        epochs and CHANCE_UPDATES weight updates (SGD at learning rate 10 left a ReLU network at
        10% for 20 epochs with nothing but a flat line to show for it), and take it back when
        the accuracy rises after all (a slow start is not a failure). A preset's lesson says
        what its run shows: no notice over it."""
        ds, logs = self.dataset, self._logs_by_epoch
        if ds is None or not logs or not len(ds.y_train):
            return
        chance = float(np.bincount(ds.y_train).max()) / len(ds.y_train)  # always guessing the commonest class
        recent = [logs[k].get("accuracy", math.nan) for k in sorted(logs)[-CHANCE_EPOCHS:]]
        if self._chance_said:
            if recent[-1] > chance + CHANCE_MARGIN and self.banner.text() == self._chance_said:
                self.banner.hide()  # it learns after all
            return
        updates = self._run_batches  # (this run's batches so far, from its progress records)
        stuck = len(recent) == CHANCE_EPOCHS and all(a <= chance + CHANCE_MARGIN for a in recent)  # (NaN: no)
        if not stuck or updates < CHANCE_UPDATES or (self.banner.kind == "preset" and not self.banner.isHidden()):
            return
        text = (f"After {count(len(logs), 'epoch')} the training accuracy is still at chance ({chance:.0%}, what "
                "always guessing the commonest class scores): the network is not learning. ")
        squashing = [spec for spec in self.layers.specs() if spec.activation in ("sigmoid", "tanh")]
        if len(squashing) >= DEEP_SQUASHING:
            text += ("With this many sigmoid or tanh layers the gradients may vanish before they reach the first "
                     "layers (the Gradients tab shows it): try ReLU. A learning rate that is too high can also "
                     "saturate the units (the Saturation tab).")
        else:
            text += ("A learning rate that is too high can silence ReLU units for good (the Saturation tab shows "
                     "them inactive) or saturate sigmoid ones: try one ten times smaller.")
        self.show_info(text, "warning")
        self._chance_said = self.banner.text()

    def _update_pace(self, *_) -> None:
        """While the Dataset tab shows a 2-D dataset's decision boundary, a run goes at most
        WATCHED_EPOCHS_PER_S epochs a second, redrawn each epoch: at full speed a toy run is
        over before the boundary can be seen to move. Other tabs train at full speed, unless
        View > Slow motion holds every batch to SLOW_MOTION_BATCHES_PER_S."""
        control, ds = self._control, self.dataset
        watching = self.plots.currentWidget() is self.dataset_view and ds is not None and ds.input_dim == 2
        slow = self.slow_motion_action.isChecked()
        if control is not None:
            control.pace_s = 1 / WATCHED_EPOCHS_PER_S if watching else 0.0
            control.batch_pace_s = 1 / SLOW_MOTION_BATCHES_PER_S if slow else 0.0
        if slow:  # training waits most of the time: the plots may redraw often
            self._plot_timer.setInterval(SLOW_MOTION_INTERVAL_MS)

    @Slot(bool)
    def _on_paused_changed(self, paused: bool) -> None:
        assert self._on_gui_thread(), "worker records must arrive queued on the GUI thread"
        if self._control is None:
            return
        self._set_pause_text("Resume" if paused else "Pause")
        if paused:
            self._refresh_plots()
            p = self._last_progress
            if p is not None:
                self._show_progress(p)
            where = f" in epoch {p.epoch + 1}/{p.epochs}, after batch {p.batch + 1}" if p else ""
            self.progress.setFormat(f"Paused{where}")
        self.pausedChanged.emit(paused)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.show_error(message)

    @Slot(object)
    def _on_finished(self, outcome: Outcome) -> None:
        assert self._on_gui_thread(), "worker records must arrive queued on the GUI thread"
        if self._worker is None and self._thread is None:
            return  # already wound down by closeEvent
        self._run_batches = max(self._run_batches, outcome.batches)
        self._finish_thread()
        self.last_outcome = outcome
        self._set_training_ui(False)
        self._refresh_plots(force=True)
        self._redraw_boundary()
        self._show_spread()
        if self._last_progress is not None:
            self._show_progress(self._last_progress)
        self._show_final_epoch()
        self._show_restored_epoch()
        self._show_test(outcome.test)
        self._run_callbacks = []  # (early stopping holds the model and a copy of its best weights)
        notes = [m for m in outcome.messages if m != outcome.stop_reason]
        if outcome.error:
            self.progress.setFormat("Stopped by an error")
        elif outcome.stop_reason:  # which names the likely cause: the notes need not repeat it
            self._diverged = True
            self.show_error("\n".join([outcome.stop_reason, *(n.split(LIKELY_CAUSE)[0] for n in notes),
                                       "Start begins again from fresh weights: these are blown up."]))
            self.progress.setFormat("Stopped: the loss diverged")
            notes = []  # already in the error banner
        elif outcome.stopped_by_user:
            self.progress.setFormat(f"Stopped after {count(outcome.batches, 'batch', 'batches')}")
        else:
            self.progress.setValue(self.progress.maximum())
            total, run = self.history.epochs_done, outcome.epochs_done
            epochs = (f"epochs {total - run + 1}–{total}" if total > run > 0  # a run that went on from earlier ones
                      else count(run, "epoch"))
            self.progress.setFormat(f"Done: {epochs} in {_format_seconds(outcome.elapsed)}")
        if notes and not outcome.error:
            alarming = any("diverging" in note for note in notes)
            self.show_info("\n".join(notes), "warning" if alarming else "info")
        if self.banner.kind != "preset":  # what the banner says now is about these weights' runs
            self._run_notice = self.banner.text()
        self._after_run(self._run_keeper)
        self._run_keeper = None
        self._name_start()  # (a diverged run's Start begins afresh)
        self.trainingFinished.emit(outcome)

    def _show_test(self, test) -> None:
        """After a run: how the weights do on the test set, which training never sees (the
        figure overfitting and dropout lessons are about)."""
        logs = dict(test)
        if "accuracy" not in logs or self.dataset is None:
            return
        samples = len(self.dataset.x_test)
        self.metrics_label.setText(f"{self.metrics_label.text()} · test accuracy {logs['accuracy']:.1%}")
        self.metrics_label.setToolTip(f"Test set: loss {_metric(logs.get('loss', math.nan))}, accuracy "
                                      f"{logs['accuracy']:.2%} on {samples:,} samples kept apart from training "
                                      "and validation.")

    def _show_final_epoch(self) -> None:
        """After a run: the last whole epoch's figures, not its last batch's (a remainder batch of
        a few samples showed 'accuracy 0.0%' beside 11% on validation)."""
        if not self._logs_by_epoch:
            return
        last = max(self._logs_by_epoch)
        logs = self._logs_by_epoch[last]
        parts = _epoch_figures(logs)
        if parts:
            self.metrics_label.setText(f"Epoch {last + 1}: {parts}")

    def _show_restored_epoch(self) -> None:
        """Early stopping put back an earlier epoch's weights: the figures shown are that
        epoch's, which the model now has, not the last epoch's."""
        restored = next((cb.restored_epoch for cb in self._run_callbacks
                         if getattr(cb, "restored_epoch", None) is not None), None)
        logs = self._logs_by_epoch.get(restored)
        if logs is None:
            return
        self._epoch_logs = logs
        self.metrics_label.setText(f"Epoch {restored + 1}'s weights, restored by early stopping: "
                                   f"{_epoch_figures(logs)}")

    def _set_training_ui(self, training: bool) -> None:
        self.plots.live = training
        self._name_start()
        self.start_button.setEnabled(not training)
        self.pause_button.setEnabled(training)
        self.stop_button.setEnabled(training)
        self.reset_button.setEnabled(not training)
        self.step_button.setEnabled(True)
        self._set_pause_text(
            "Resume" if training and self._control and self._control.paused else "Pause"
        )
        self.layer_panel.set_locked(training)
        self.dataset_panel.setEnabled(not training)
        self.settings.set_training_locked(training)

    def _refresh_plots(self, force: bool = False) -> None:
        self.plots.refresh(force=force)

    # -- closing -------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        """Training pauses while the user decides; Cancel lets it carry on where it was."""
        control = self._control if self.is_training() else None
        resume = control is not None and not control.paused
        if control is not None:
            control.pause()
            control.wait_until_idle(IDLE_TIMEOUT_S)  # the batch in flight ends before any save
            if self._run_batches:  # what has been learned so far is worth the "save?" question
                self._trained = self._dirty = True
        if not self.may_close():
            if resume and self._control is control:
                control.resume()
            event.ignore()
            return
        if self.is_training():
            if self._run_keeper is not None:
                self._run_keeper.skip_final = True  # closing normally removes it anyway: no need to wait for it
            self._control.stop()
            self._finish_thread()
            self._set_training_ui(False)
        self._plot_timer.stop()
        self._end_session()
        event.accept()

    def _about(self) -> None:
        QMessageBox.about(
            self,
            "About guinn",
            "guinn trains neural networks written in NumPy and shows, live, how each layer "
            "learns: loss, accuracy, gradient size per layer, weights and saturation.",
        )


def zoom_now() -> int:
    """The percent this process opened at (QT_SCALE_FACTOR, which app.main sets from the choice)."""
    try:
        return round(float(os.environ.get("QT_SCALE_FACTOR", "1")) * 100)
    except ValueError:
        return 100


# Kept runs that differ in these from a preset or an opened model go at once; other sample counts
# of the same data wait for Start (see apply_experiment).
SAME_BATCHES = ("source", "batch_size", "validation_split")


class Comparison(NamedTuple):
    """What runs must share for their curves to compare: the data and the batches' size and count."""

    source: str  # the dataset, without its sample counts
    sizes: str  # its sample counts
    batch_size: int
    validation_split: float


def _source(spec: dict) -> dict:
    """A dataset description without its sample counts: which data, not how much of it."""
    return {k: v for k, v in spec.items() if k not in SIZE_KEYS}


def _short_title(title: str) -> str:
    """'SGD' for 'Optimizers 1/5: SGD': a preset's name short enough for a legend."""
    short = title.rsplit(": ", 1)[-1]
    return short if len(short) <= 40 else short[:39] + "…"


def _dataset_label(spec: dict, base: dict) -> str:
    """How a run's data differ from the preset's: other data by name ('moons', 'CSV'), the
    same data by its sample counts ('5,000 samples', 'all samples', '200 test samples')."""
    if _source(spec) != _source(base):
        return str(spec.get("name") or spec.get("kind", "other data"))
    parts = []
    for key, what in (("limit", "samples"), ("n_samples", "samples"), ("test_limit", "test samples")):
        if spec.get(key) != base.get(key):
            parts.append(f"{spec[key]:,} {what}" if key in spec else f"all {what}")
    return ", ".join(parts)


def _layers_label(layers) -> str:
    """'8×64 tanh', '500 sigmoid + 500 relu, dropout 0.5, L2 0.001': hidden layers in a few words."""
    groups: list[list] = []
    for spec in layers:
        name = spec.activation + (f" {spec.pieces}" if spec.activation == "maxout" else "")
        if groups and groups[-1][1:] == [spec.units, name]:
            groups[-1][0] += 1
        else:
            groups.append([1, spec.units, name])
    text = " + ".join(f"{n}×{units} {name}" if n > 1 else f"{units} {name}" for n, units, name in groups)
    if not layers:
        text = "no hidden layer"
    for key, label in (("dropout", "dropout"), ("l1", "L1"), ("l2", "L2")):
        values = {getattr(spec, key) for spec in layers} - {0.0}
        if values:
            text += f", {label} {max(values):g}"
    return text


def _run_label(optimizer) -> str:
    """'Adam 0.001' or 'SGD 0.1, momentum 0.9': what a run-boundary line says the new run uses."""
    text = f"{type(optimizer).__name__} {optimizer.learning_rate:g}"
    momentum = getattr(optimizer, "momentum", 0.0)
    return f"{text}, momentum {momentum:g}" if momentum else text


def _figure(key: str, value: float) -> str:
    """'val_accuracy 97.9%' or 'val_loss 0.0710': a logged figure for the status bar."""
    return f"{key} {value:.1%}" if "accuracy" in key else f"{key} {_metric(value)}"


def _epoch_figures(logs: dict) -> str:
    """'loss 0.0710 · accuracy 97.9% · val_loss …': an epoch's figures for the status line."""
    return " · ".join(_figure(key, logs[key]) for key in ("loss", "accuracy", "val_loss", "val_accuracy")
                      if key in logs)


def _metric(value: float) -> str:
    """A loss for the status bar: 4 decimals normally, short scientific notation when it explodes."""
    return f"{value:.4f}" if abs(value) < 1e4 else f"{value:.3g}"
