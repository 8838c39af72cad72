"""Keras names guinn does not have, answered with what to use instead.

A Keras user's first line is often ``from guinn.layers import Conv2D`` or ``from
guinn.optimizers import Nadam``; Python's own answer ("cannot import name") says neither
that guinn lacks it on purpose nor what it has. Each Keras-style module's ``__getattr__``
(from :func:`module_getattr`) turns the Keras names listed here into a ConfigError that does.
Looked up as an attribute, the error is an AttributeError too, so ``hasattr`` and
``getattr(module, name, None)`` answer as usual; imported, an ImportError.
"""

from __future__ import annotations

import dis
import sys
from collections.abc import Callable, Iterable

from guinn.errors import ConfigError

_DENSE_ONLY = "guinn trains fully connected networks: Flatten the images, then stack Dense layers"
_ACTIVATION = "activations are Dense's activation argument or an Activation layer, e.g. Activation('{0}')"
_SCALE = "scale the features before fit instead (e.g. divide pixels by 255); guinn's app and CLI do it for you"

LAYERS = {
    **dict.fromkeys(
        ("Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "SeparableConv2D", "DepthwiseConv2D",
         "MaxPooling1D", "MaxPooling2D", "MaxPool2D", "AveragePooling1D", "AveragePooling2D",
         "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "ZeroPadding2D",
         "UpSampling2D", "Cropping2D", "SpatialDropout2D"), _DENSE_ONLY),
    **dict.fromkeys(("LSTM", "GRU", "SimpleRNN", "Bidirectional", "TimeDistributed", "Embedding",
                     "Attention", "MultiHeadAttention"),
                    "guinn trains fully connected networks only (no recurrent, embedding or attention layers)"),
    **dict.fromkeys(("Add", "Concatenate", "Multiply", "Average", "Subtract", "Dot"),
                    "guinn's models are Sequential stacks, with no merging of branches"),
    "ReLU": _ACTIVATION.format("relu"),
    "LeakyReLU": _ACTIVATION.format("leaky_relu"),
    "Softmax": _ACTIVATION.format("softmax"),
    "ELU": "guinn has no ELU; its activations are sigmoid, tanh, relu, leaky_relu, prelu, maxout, softmax "
           "and linear",
    "Reshape": "Flatten is the one reshaping layer (guinn's layers take flat samples)",
    "BatchNormalization": "guinn has no normalization layers; " + _SCALE,
    "LayerNormalization": "guinn has no normalization layers; " + _SCALE,
    "Normalization": _SCALE,
    "Rescaling": _SCALE,
    "GaussianNoise": "guinn has no noise layers; Dropout is its regularizing layer",
    "AlphaDropout": "Dropout is guinn's one dropout layer",
    "Lambda": "a model may hold only guinn's own layers, never code (model files are safe to open)",
}

OPTIMIZERS = {
    **dict.fromkeys(("Nadam", "Adamax", "AdamW", "Adadelta", "Ftrl", "Lion", "Lamb", "Adafactor"),
                    "guinn's optimizers are SGD (with momentum=... and nesterov=... for Momentum), Adagrad, "
                    "RMSprop and Adam"),
    "LossScaleOptimizer": "guinn has no mixed precision to scale losses for",
    "schedules": "learning-rate schedules are callbacks here: LearningRateScheduler and ReduceLROnPlateau",
}

LOSSES = {
    **dict.fromkeys(("Huber", "Hinge", "SquaredHinge", "CategoricalHinge", "KLDivergence", "Poisson",
                     "LogCosh", "MeanAbsoluteError", "MeanAbsolutePercentageError", "CosineSimilarity",
                     "CategoricalFocalCrossentropy", "BinaryFocalCrossentropy"),
                    "guinn's losses are categorical and sparse categorical cross-entropy, binary "
                    "cross-entropy and mean squared error"),
}

CALLBACKS = {
    "TensorBoard": "guinn's app plots training live; in Python, History, CSVLogger or LambdaCallback keep "
                   "the figures",
    "BackupAndRestore": "ModelCheckpoint saves a model that model.fit resumes from, optimizer state included",
    "RemoteMonitor": "guinn sends nothing over the network",
}

MODELS_NOTE = "guinn builds Sequential models only (no functional API)"
MODELS = {
    "Model": MODELS_NOTE,
    "clone_model": "rebuild the model with guinn.models.model_from_json(model.to_json())",
    "save_model": "call model.save(path) (a .safetensors file)",
}

TOP = {  # import guinn as keras: keras.X
    "Model": MODELS_NOTE,
    "metrics": "metrics are named in compile: metrics=['accuracy'], ['mae'] or ['mse']",
    "activations": "activations are named in Dense(activation=...) or Activation(...)",
    "backend": "guinn's engine is NumPy: there is no backend to choose",
    "ops": "guinn's engine is NumPy: use numpy on the arrays predict returns",
    "applications": "guinn ships no pretrained models",
    "preprocessing": "scale the features before fit (e.g. divide pixels by 255)",
    "mixed_precision": "guinn trains in float32 (or float64: guinn.utils.set_floatx)",
}

DATASETS = {
    **dict.fromkeys(("fashion_mnist", "cifar10", "cifar100", "imdb", "reuters", "boston_housing",
                     "california_housing"),
                    "only MNIST ships with guinn (guinn.datasets.mnist.load_data()); other image sets in "
                    "IDX files load with guinn.datasets.load_idx_dataset, tables with the app's or CLI's "
                    "CSV reader, and nothing is downloaded"),
}


class MissingKerasName(ConfigError, ImportError):
    """A Keras name guinn lacks, imported. An ImportError too, so ``try: from guinn.layers import
    BatchNormalization / except ImportError:`` falls back as it would under an older Keras."""


class MissingKerasAttribute(ConfigError, AttributeError):
    """A Keras name guinn lacks, looked up as ``keras.layers.X``. An AttributeError too, so
    ``hasattr(keras.optimizers, "AdamW")`` and ``getattr(..., None)`` answer False and None."""


def _importing(frame) -> bool:
    """Whether the lookup comes from ``from module import name``: importlib's fromlist check,
    or the IMPORT_FROM instruction, which would turn an AttributeError into its own "cannot
    import name" and lose what to use instead."""
    if frame is None:
        return False
    if frame.f_code.co_name == "_handle_fromlist":
        return True
    code, at = frame.f_code.co_code, frame.f_lasti
    return 0 <= at < len(code) and code[at] == _IMPORT_FROM


_IMPORT_FROM = dis.opmap["IMPORT_FROM"]


def module_getattr(module: str, present: Iterable[str], missing: dict[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__``: a ConfigError for the Keras names in ``missing``, else the usual
    AttributeError."""
    present = sorted(present)

    def __getattr__(name: str):
        if name in missing:
            error = MissingKerasName if _importing(sys._getframe(1)) else MissingKerasAttribute
            raise error(f"{module} has no {name}: {missing[name]}. {module} has: {', '.join(present)}.")
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__
