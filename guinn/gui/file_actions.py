"""File actions of the main window: experiments (open, save, presets), model files (open,
save, export as ONNX) and the offer to save unsaved trained weights before closing.

A mixin for :class:`~guinn.gui.main_window.MainWindow`, kept apart so the window module is
about layout and the training run. It uses the window's state and helpers: ``model``,
``dataset``, ``settings``, ``layers``, ``layer_panel``, ``dataset_panel``, ``history``,
``plots``, ``_base``, ``_init_key``, ``_trained``, ``_dirty``, ``_control``,
``experiment()``, ``apply_experiment()``, ``is_training()``, ``ask()``, ``show_error()``,
``show_info()``, ``_load_dataset()``, ``_show_model()`` and the QMainWindow's
``statusBar()`` and ``setWindowTitle()``.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox

from guinn.core.callbacks import History, canonical_metric
from guinn.core.specs import MAX_CARDS, cards_from_model
from guinn.errors import GuinnError
from guinn.experiment import Experiment
from guinn.gui.tips import count
from guinn.gui.worker import IDLE_TIMEOUT_S

Button = QMessageBox.StandardButton
COMPACT_BELOW_PX = 820  # window height below which a preset's explanation opens shortened
DEFAULT_TITLE = "guinn — train a neural network and watch it learn"


class FileActions:
    """Open and save experiments and models; ask before unsaved weights are lost on close."""

    def _path_or_ask(self, path, saving: bool, title: str, default: str, filters: str) -> str | None:
        """``path`` when the caller has one, else the user's pick in a file dialog (None if cancelled)."""
        if path is not None:
            return path
        ask = QFileDialog.getSaveFileName if saving else QFileDialog.getOpenFileName
        chosen, _ = ask(self, title, default, filters)
        if chosen and saving and Path(chosen).suffix.lower() != Path(default).suffix:
            chosen += Path(default).suffix  # "run1" or "run.v2" -> "run1.json", "run.v2.json": findable by Open
            # The dialog asked about replacing "run1", not "run1.json": ask now.
            if Path(chosen).exists() and self.ask(
                "Replace the file?", f"{Path(chosen).name} already exists. Replace it?"
            ) != Button.Yes:
                return None
        return chosen or None

    # -- experiments -----------------------------------------------------------------------------
    def load_preset(self, preset) -> bool:
        if self.is_training():  # (the menu stays open while training: a greyed-out one said nothing of why)
            text = f"Stop training (Ctrl+.) before loading the preset '{preset.title}'."
            if self.banner.kind == "preset" and not self.banner.isHidden():  # the running lesson's text stays
                self.statusBar().showMessage(text, 10_000)
            else:
                self.show_error(text)
            return False
        try:
            exp = Experiment.load(preset.path)
        except GuinnError as exc:
            self.show_error(f"Preset '{preset.title}' cannot be used: {exc}")
            return False
        if not self.apply_experiment(exp):
            return False
        self._explain(exp, exp.description or preset.description)
        return True

    def _explain(self, exp: Experiment, text: str) -> None:
        """A preset's (or an experiment file's) title and explanation: the window's title and
        the banner that stays up through its runs; without an explanation, an earlier one goes."""
        self._title_setup(exp.title)
        if not text:
            self.leave_preset(keep_title=True)
            return
        title = f"<b>{html.escape(exp.title)}</b>"
        # on a small window the whole explanation would squeeze the plots: its first sentence, then "More"
        first, _, rest = text.partition(". ")
        short = f"{title}<br>{html.escape(first)}." if rest and self.height() < COMPACT_BELOW_PX else None
        self.show_info(f"{title}<br>{html.escape(text)}", "preset", rich=True, short=short)

    def _title_setup(self, title: str) -> None:
        """The window named after the setup on show (a preset's, an experiment file's)."""
        self.setWindowTitle(f"guinn — {title}")
        self._setup_titled = True

    def leave_preset(self, keep_title: bool = False) -> None:
        """The data or network on show is no longer the preset's: its explanation and title go."""
        if self.banner.kind == "preset":
            self.banner.hide()
        if not keep_title:
            self.setWindowTitle(DEFAULT_TITLE)
            self._setup_titled = False

    def _succeeded(self, text: str) -> None:
        """A file action worked: say so, and hide an error it has put right."""
        self.clear_error()
        self.statusBar().showMessage(text, 5000)

    def open_experiment(self, path: str | None = None) -> bool:
        path = self._path_or_ask(path, False, "Open experiment", "", "Experiments (*.json);;All files (*)")
        if path is None:
            return False
        try:
            exp = Experiment.load(path)
        except GuinnError as exc:
            self.show_error(str(exc))
            return False
        if self.apply_experiment(exp):
            self._succeeded(f"Opened {path}")
            self._explain(exp, exp.description)
            return True
        return False

    def save_experiment(self, path: str | None = None) -> bool:
        try:
            exp = self.experiment()
        except GuinnError as exc:
            self.show_error(f"The settings are not valid yet: {exc}")
            return False
        path = self._path_or_ask(path, True, "Save experiment (the setup; Save model keeps trained weights)",
                                  "experiment.json", "Experiments (*.json)")
        if path is None:
            return False
        if not self._unchanged(exp):  # the user's own now: the preset's title and text would be untrue
            exp = exp.with_changes(title=Path(path).stem, description="")
        try:
            exp.save(path)
        except GuinnError as exc:
            self.show_error(str(exc))
            return False
        self._base = exp
        self._title_setup(exp.title)
        self._succeeded(f"Saved experiment to {path}")
        return True

    # -- model files ---------------------------------------------------------------------------
    def _model_can_be_written(self, verb: str, doing: str) -> bool:
        """There is a model, and no training step is changing its weights while it is written."""
        if self.model is None:
            self.show_error(f"There is no model to {verb} yet: press Start to build and train one.")
            return False
        control = self._control if self.is_training() else None
        if control is not None and control.paused:
            control.wait_until_idle(IDLE_TIMEOUT_S)  # a pause takes effect when the batch in flight ends
        if control is not None and not (control.paused and control.idle):
            self.show_error(f"Pause or stop training before {doing} the model.")
            return False
        return True

    def _attempt(self, action, what: str, path) -> tuple[bool, object]:
        """``(True, action())``, or ``(False, None)`` with the reason shown when guinn refused
        (a bad file, an unsupported model) or the disk failed."""
        try:
            return True, action()
        except GuinnError as exc:
            self.show_error(f"Could not {what}: {exc}")
        except OSError as exc:
            self.show_error(f"Could not {what} ({path}): {exc.strerror or exc}.")
        return False, None

    def save_model(self, path: str | None = None) -> bool:
        if not self._model_can_be_written("save", "saving"):
            return False
        if not hasattr(self.model, "save"):
            self.show_error(
                "Saving models is not available in this installation (guinn.io is missing)."
            )
            return False
        path = self._path_or_ask(path, True, "Save model", self._model_file_name(".safetensors"),
                                 "guinn models (*.safetensors)")
        if path is None:
            return False
        history = self.whole_history()  # every run of these weights, not the last alone
        if not self._attempt(lambda: self.model.save(path, history=history, **self._model_extras()),
                             "save the model", path)[0]:
            return False
        self._dirty = False
        self._model_path = path
        self._sync_recovery()
        self._succeeded(f"Saved the model to {path}")
        return True

    def _model_file_name(self, suffix: str) -> str:
        """The name a Save or Export dialog proposes: the model's own file's, if it has one."""
        known = getattr(self, "_model_path", None)
        return str(Path(known).with_suffix(suffix)) if known else f"model{suffix}"

    def _model_extras(self) -> dict:
        """What a model file keeps beside the weights: the setup, and the data's labels and scaling."""
        extras = {}
        try:
            extras["experiment"] = self.experiment()
        except GuinnError:
            pass
        if self.dataset is not None:
            extras.update(
                class_names=list(self.dataset.class_names),
                dataset=self.dataset.name,
                preprocessing=self.dataset.preprocessing,
            )
        return extras

    def export_onnx(self, path: str | None = None) -> bool:
        """The trained network as ONNX, for onnxruntime, Netron or another framework."""
        if not self._model_can_be_written("export", "exporting"):
            return False
        path = self._path_or_ask(path, True, "Export as ONNX", self._model_file_name(".onnx"), "ONNX models (*.onnx)")
        if path is None:
            return False
        from guinn.io.onnx_export import export_onnx

        # the dataset's feature scaling goes into the graph, as Save model stores it in the file
        scaling = self.dataset.preprocessing if self.dataset is not None else None
        if not self._attempt(lambda: export_onnx(self.model, path, scaling), "export the model", path)[0]:
            return False
        self._succeeded(f"Exported the model as ONNX to {path} (input 'input', dropout removed)")
        return True

    def open_model(self, path: str | None = None) -> bool:
        if self.is_training():
            self.show_error("Stop training before opening a model.")
            return False
        path = self._path_or_ask(path, False, "Open model", "", "guinn models (*.safetensors);;All files (*)")
        if path is None:
            return False
        from guinn.models import load_model

        opened, model = self._attempt(lambda: load_model(path), "open the model", path)
        if not opened:
            return False
        cards = cards_from_model(model)
        if cards is None:
            self.show_error(
                "This model was not built from layer cards (Dense layers ending in softmax), "
                "so the app cannot show or train it."
            )
            return False
        if len(cards[0]) > MAX_CARDS:
            self.show_error(f"This model has {len(cards[0]):,} hidden layers; the app shows at most {MAX_CARDS} "
                            "(the Python API and the command line take it).")
            return False
        if self.model is not None and self._trained and self._dirty:
            if (
                self.ask(
                    "Replace the trained model?",
                    "The current trained weights are not saved. "
                    "Replace them with the opened model?",
                )
                != Button.Yes
            ):
                return False
        specs, n_classes = cards
        self.model = None
        stored = getattr(model, "experiment_config", None)
        exp = None
        if stored:
            try:
                exp = Experiment.from_dict(dict(stored))
            except GuinnError:
                exp = None
            if exp is not None:
                self._base = exp
                self.settings.set_experiment(exp)
                if exp.dataset != self.dataset_panel.spec():
                    self.dataset_panel.set_spec(exp.dataset, emit=False)
                    self._load_dataset(exp.dataset)
        self.layers.set_specs(specs, guarded=False)
        self.layer_panel.select(0)
        self.model = model
        self._init_key = (self.settings.initializer.currentData(), self.settings.seed.value())
        self._trained, self._dirty, self._diverged = True, False, False
        self._keep_for_comparison()
        if stored and exp is not None:  # a CSV run's curve beside an MNIST model's epochs compared nothing
            self._forget_runs_unlike(exp)
        else:
            self.plots.forget_runs()  # trained on data the file does not name
        self.history.reset(())
        self.plots.clear()
        # its stored epochs on the plots, where its optimizer's step count stood at each
        self.history.restore_epochs(model.history.history, int(getattr(model.optimizer, "iterations", 0) or 0),
                                    model.history.steps, model.history.epoch)
        self.plots.refresh(force=True)
        self._show_model()
        input_dim = int(model.input_shape[0]) if model.input_shape else None
        ds = self.dataset
        if ds is None:
            self.layers.set_shape(input_dim or self.layers.input_dim, n_classes)
        self._earlier_history, self._earlier_owner = History(), None  # its record is its own history
        self._model_path = path
        self._succeeded(f"Opened model {Path(path).name}")
        self.leave_preset()
        self.setWindowTitle(f"guinn — {Path(path).name}")  # not the title of whatever was open before
        self._setup_titled = False
        if ds is not None and (input_dim != ds.input_dim or n_classes != ds.n_classes):
            self.show_info(
                f"The opened model expects {input_dim} inputs and {n_classes} classes, but the "
                f"dataset has {ds.input_dim} and {ds.n_classes}: choose a matching dataset "
                "before training it.",
                "warning",
            )
        from guinn.gui.drawing_pad import pad_problem

        test = "draw on the pad to test it, or " if pad_problem(model, None) is None else ""  # digits only
        self.metrics_label.setText(
            f"Trained model {Path(path).name} loaded{_last_epoch(model)}: {test}press Continue to train it further."
        )
        self.metrics_label.setToolTip("")  # an earlier model's test figures
        self.progress.setValue(0)
        self.progress.setFormat("Idle")  # not the earlier run's "Done: 3 epochs"
        self._sync_recovery()  # the weights shown now are in a file
        return True

    # -- closing -------------------------------------------------------------------------------
    def may_close(self) -> bool:
        """False if the user cancels closing (or saving the unsaved trained weights fails)."""
        if self.model is not None and self._trained and self._dirty:
            answer = self.ask(
                "Save the trained model?",
                "The trained weights are not saved. Save them before closing?",
                Button.Save | Button.Discard | Button.Cancel,
                Button.Save,
            )
            if answer == Button.Cancel or (answer == Button.Save and not self.save_model()):
                return False
        return True


def _last_epoch(model) -> str:
    """' (after 12 epochs: val_accuracy 97.9%, val_loss 0.071)': how the stored training ended."""
    logs = {canonical_metric(k): v for k, v in model.history.last_epoch_logs().items()}
    shown = [f"{k} {logs[k]:.1%}" if "accuracy" in k else f"{k} {logs[k]:.3g}"
             for k in ("val_accuracy", "val_loss", "accuracy", "loss") if k in logs]
    epochs = len(getattr(model.history, "epoch", ()))
    return f" (after {count(epochs, 'epoch')}: {', '.join(shown[:2])})" if epochs and shown else ""
