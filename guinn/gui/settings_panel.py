"""Training settings: loss, optimizer and its hyper-parameters, batch size, epochs,
validation split, early stopping, augmentation, initializer and seed -- all ranged, all
explained."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGroupBox

from guinn.experiment import AugmentSpec, EarlyStoppingSpec, Experiment
from guinn.gui.layer_panel import dspin, spin
from guinn.gui.tips import TIPS

LOSS_LABELS = {
    "categorical_crossentropy": "Cross-entropy",
    "mean_squared_error": "Mean squared error",
    "binary_crossentropy": "Binary cross-entropy",
}
OPTIMIZER_LABELS = {
    "sgd": "SGD / momentum",
    "adagrad": "Adagrad",
    "rmsprop": "RMSprop",
    "adam": "Adam",
}
INITIALIZER_LABELS = {
    "glorot_uniform": "Glorot uniform",
    "glorot_normal": "Glorot normal",
    "he_normal": "He normal",
    "he_uniform": "He uniform",
    "random_normal": "Random normal",
    "random_uniform": "Random uniform",
}
DEFAULT_LR = {"sgd": 0.01, "adagrad": 0.001, "rmsprop": 0.001, "adam": 0.001}
MONITORS = ("val_loss", "val_accuracy", "loss", "accuracy")


def combo(object_name: str, items: dict, tip: str) -> QComboBox:
    box = QComboBox()
    box.setObjectName(object_name)
    box.setToolTip(tip)
    for key, label in items.items():
        box.addItem(label, key)
    return box


def select_data(box: QComboBox, value) -> None:
    i = box.findData(value)
    if i >= 0:
        box.setCurrentIndex(i)


class SettingsPanel(QGroupBox):
    """The non-architectural half of an :class:`Experiment`."""

    changed = Signal()
    initChanged = Signal()  # initializer or seed: a new model would start elsewhere

    def __init__(self, parent=None):
        super().__init__("Training", parent)
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form = form
        self.loss = combo("lossCombo", LOSS_LABELS, TIPS["loss"])
        self.optimizer = combo("optimizerCombo", OPTIMIZER_LABELS, TIPS["optimizer"])
        self.learning_rate = dspin(
            "learningRateSpin", 1e-6, 10.0, 8, 1e-4, TIPS["learning_rate"], sci=True
        )
        self.momentum = dspin("momentumSpin", 0.0, 0.999, 3, 0.05, TIPS["momentum"])
        self.nesterov = QCheckBox("Nesterov")
        self.nesterov.setObjectName("nesterovCheck")
        self.nesterov.setToolTip(TIPS["nesterov"])
        self.rho = dspin("rhoSpin", 0.0, 0.999, 3, 0.01, TIPS["rho"])
        self.beta_1 = dspin("beta1Spin", 0.0, 0.9999, 4, 0.01, TIPS["beta_1"])
        self.beta_2 = dspin("beta2Spin", 0.0, 0.99999, 5, 0.001, TIPS["beta_2"])
        self.epsilon = dspin("epsilonSpin", 1e-10, 1.0, 12, 1e-7, TIPS["epsilon"], sci=True)
        self.batch_size = spin("batchSizeSpin", 1, 100_000, TIPS["batch_size"])
        self.epochs = spin("epochsSpin", 1, 100_000, TIPS["epochs"])
        self.validation_split = dspin(
            "validationSplitSpin", 0.0, 0.9, 2, 0.05, TIPS["validation_split"]
        )
        self.early = QCheckBox("Early stopping")
        self.early.setObjectName("earlyStoppingCheck")
        self.early.setToolTip(TIPS["early_stopping"])
        self.monitor = combo("monitorCombo", {m: m for m in MONITORS}, TIPS["monitor"])
        self.patience = spin("patienceSpin", 0, 1000, TIPS["patience"])
        self.restore_best = QCheckBox("Restore best weights")
        self.restore_best.setObjectName("restoreBestCheck")
        self.restore_best.setToolTip(TIPS["restore_best"])
        # two lines across the whole row: one line would widen the settings column
        self.augment = QCheckBox("Augment images\n(random shifts and scalings)")
        self.augment.setObjectName("augmentCheck")
        self.augment.setToolTip(TIPS["augment"])
        self.max_shift = dspin("maxShiftSpin", 0.0, 8.0, 1, 0.5, TIPS["max_shift"])
        self.max_shift.setSuffix(" px")
        self.max_scale = dspin("maxScaleSpin", 0.0, 0.5, 2, 0.05, TIPS["max_scale"])
        self._images = True  # the dataset has an image shape (augmentation applies)
        self.initializer = combo("initializerCombo", INITIALIZER_LABELS, TIPS["initializer"])
        self.seed = spin("seedSpin", 0, 2**31 - 1, TIPS["seed"])

        rows = [
            ("Loss", self.loss, "loss"),
            ("Optimizer", self.optimizer, "optimizer"),
            ("Learning rate", self.learning_rate, "learning_rate"),
            ("Momentum", self.momentum, "momentum"),
            ("", self.nesterov, "nesterov"),
            ("RMSprop rho", self.rho, "rho"),
            ("Adam beta 1", self.beta_1, "beta_1"),
            ("Adam beta 2", self.beta_2, "beta_2"),
            ("Epsilon", self.epsilon, "epsilon"),
            ("Batch size", self.batch_size, "batch_size"),
            ("Epochs", self.epochs, "epochs"),
            ("Validation split", self.validation_split, "validation_split"),
            ("", self.early, "early_stopping"),
            ("Monitor", self.monitor, "monitor"),
            ("Patience", self.patience, "patience"),
            ("", self.restore_best, "restore_best"),
            (None, self.augment, "augment"),
            ("Max shift", self.max_shift, "max_shift"),
            ("Max scale", self.max_scale, "max_scale"),
            ("Initializer", self.initializer, "initializer"),
            ("Seed", self.seed, "seed"),
        ]
        for label, widget, tip in rows:
            if label is None:
                form.addRow(widget)  # spans the label and field columns
                continue
            form.addRow(label, widget)
            label_widget = form.labelForField(widget)
            if label_widget is not None:
                label_widget.setToolTip(TIPS[tip])

        self._optimizer_configs: dict[str, dict] = {}
        self._last_optimizer = None
        self.set_experiment(Experiment())
        self.optimizer.currentIndexChanged.connect(self._on_optimizer_change)
        self.early.toggled.connect(self._update_visibility)
        self.augment.toggled.connect(self._update_augment_enabled)
        for w in (self.loss, self.monitor):
            w.currentIndexChanged.connect(self.changed)
        for w in (self.initializer,):
            w.currentIndexChanged.connect(self.initChanged)
        self.seed.valueChanged.connect(self.initChanged)
        for w in self._value_boxes():
            w.valueChanged.connect(self.changed)
        for w in (self.nesterov, self.early, self.restore_best, self.augment):
            w.toggled.connect(self.changed)

    # -- optimizer rows follow the optimizer ------------------------------------------------
    def _on_optimizer_change(self) -> None:
        if self._last_optimizer:
            self._optimizer_configs[self._last_optimizer] = self._read_optimizer(
                self._last_optimizer
            )
        name = self.optimizer.currentData()
        self._write_optimizer(
            self._optimizer_configs.get(name, {"name": name, "learning_rate": DEFAULT_LR[name]})
        )
        self._last_optimizer = name
        self._update_visibility()
        self.changed.emit()

    def _update_visibility(self) -> None:
        name = self.optimizer.currentData()
        self.form.setRowVisible(self.momentum, name == "sgd")
        self.form.setRowVisible(self.nesterov, name == "sgd")
        self.form.setRowVisible(self.rho, name == "rmsprop")
        self.form.setRowVisible(self.beta_1, name == "adam")
        self.form.setRowVisible(self.beta_2, name == "adam")
        self.form.setRowVisible(self.epsilon, name != "sgd")
        on = self.early.isChecked()
        for w in (self.monitor, self.patience, self.restore_best):
            self.form.setRowVisible(w, on)
        self._update_augment_enabled()

    # -- augmentation applies to image datasets only ----------------------------------------
    def set_image_dataset(self, images: bool) -> None:
        """Enable the augmentation controls only for datasets with an image shape (MNIST,
        IDX). The choice itself is kept, so switching datasets back and forth loses nothing."""
        self._images = bool(images)
        self._update_augment_enabled()

    def _update_augment_enabled(self) -> None:
        self.augment.setEnabled(self._images)
        self.augment.setToolTip(
            TIPS["augment"] if self._images else f"{TIPS['augment']}\n\n{TIPS['augment_off']}"
        )
        for w in (self.max_shift, self.max_scale):
            on = self._images and self.augment.isChecked()
            w.setEnabled(on)
            label = self.form.labelForField(w)
            if label is not None:
                label.setEnabled(on)

    def _read_optimizer(self, name: str) -> dict:
        config = {"name": name, "learning_rate": self.learning_rate.value()}
        if name == "sgd":
            config.update(momentum=self.momentum.value(), nesterov=self.nesterov.isChecked())
        elif name == "rmsprop":
            config.update(rho=self.rho.value(), epsilon=self.epsilon.value())
        elif name == "adam":
            config.update(
                beta_1=self.beta_1.value(), beta_2=self.beta_2.value(), epsilon=self.epsilon.value()
            )
        elif name == "adagrad":
            config.update(epsilon=self.epsilon.value())
        return config

    def _write_optimizer(self, config: dict) -> None:
        widgets = [
            self.learning_rate,
            self.momentum,
            self.nesterov,
            self.rho,
            self.beta_1,
            self.beta_2,
            self.epsilon,
        ]
        for w in widgets:
            w.blockSignals(True)
        try:
            self.learning_rate.setValue(
                config.get("learning_rate", DEFAULT_LR.get(config["name"], 0.001))
            )
            self.momentum.setValue(config.get("momentum", 0.0))
            self.nesterov.setChecked(bool(config.get("nesterov", False)))
            self.rho.setValue(config.get("rho", 0.9))
            self.beta_1.setValue(config.get("beta_1", 0.9))
            self.beta_2.setValue(config.get("beta_2", 0.999))
            self.epsilon.setValue(config.get("epsilon", 1e-7))
        finally:
            for w in widgets:
                w.blockSignals(False)

    # -- experiment in and out ---------------------------------------------------------------
    def optimizer_config(self) -> dict:
        return self._read_optimizer(self.optimizer.currentData())

    def _value_boxes(self) -> tuple:
        """The spin boxes of the training settings (the seed is separate: it only changes initialisation)."""
        return (self.learning_rate, self.momentum, self.rho, self.beta_1, self.beta_2, self.epsilon,
                self.batch_size, self.epochs, self.validation_split, self.patience, self.max_shift,
                self.max_scale)

    def set_experiment(self, exp: Experiment) -> None:
        widgets = (
            self.findChildren(QComboBox)
            + self.findChildren(QCheckBox)
            + [*self._value_boxes(), self.seed]
        )
        for w in widgets:
            w.blockSignals(True)
        try:
            select_data(self.loss, exp.loss)
            opt = dict(exp.optimizer)
            opt["name"] = str(opt.get("name", "adam")).lower()
            select_data(self.optimizer, opt["name"])
            self._optimizer_configs = {opt["name"]: opt}
            self._last_optimizer = opt["name"]
            self._write_optimizer(opt)
            if self.initializer.findData(exp.initializer) < 0:
                self.initializer.addItem(exp.initializer, exp.initializer)
            select_data(self.initializer, exp.initializer)
            self.batch_size.setValue(exp.batch_size)
            self.epochs.setValue(exp.epochs)
            self.validation_split.setValue(exp.validation_split)
            es = exp.early_stopping
            self.early.setChecked(es.enabled)
            select_data(self.monitor, es.monitor)
            self.patience.setValue(es.patience)
            self.restore_best.setChecked(es.restore_best_weights)
            self._min_delta = es.min_delta
            self.augment.setChecked(exp.augment.enabled)
            self.max_shift.setValue(exp.augment.max_shift)
            self.max_scale.setValue(exp.augment.max_scale)
            self.seed.setValue(min(exp.seed, 2**31 - 1))
        finally:
            for w in widgets:
                w.blockSignals(False)
        self._update_visibility()

    def values(self) -> dict:
        """Keyword arguments for ``Experiment`` (validated by it)."""
        return dict(
            loss=self.loss.currentData(),
            optimizer=self.optimizer_config(),
            initializer=self.initializer.currentData(),
            batch_size=self.batch_size.value(),
            epochs=self.epochs.value(),
            validation_split=round(self.validation_split.value(), 4),
            early_stopping=EarlyStoppingSpec(
                enabled=self.early.isChecked(),
                monitor=self.monitor.currentData(),
                patience=self.patience.value(),
                min_delta=self._min_delta,
                restore_best_weights=self.restore_best.isChecked(),
            ),
            augment=AugmentSpec(
                enabled=self.augment.isChecked(),
                max_shift=round(self.max_shift.value(), 4),
                max_scale=round(self.max_scale.value(), 4),
            ),
            seed=self.seed.value(),
        )

    def set_training_locked(self, locked: bool) -> None:
        self.setEnabled(not locked)
