"""Export a trained network to ONNX, for use outside guinn (onnxruntime, other frameworks).

The graph is the inference path: dropout is left out (inverted dropout is the identity at
test time), every activation is included -- PReLU as ``PRelu`` with one slope per unit,
Maxout as ``Gemm -> Reshape (N, units, pieces) -> ReduceMax(axis 2)``. Weights are stored as
float32 whatever the model's dtype. Opset 17 is used (ReduceMax still takes ``axes`` as an
attribute there), which every onnxruntime since 1.14 runs.

``onnx`` is an optional dependency: ``pip install 'guinn[onnx]'``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from guinn.core.layers import Activation, Dense, Dropout, Flatten, Maxout, PReLU
from guinn.core.model import Sequential
from guinn.errors import ConfigError, GuinnError, ModelFileError

OPSET = 17
IR_VERSION = 8  # the IR version that goes with opset 17
MAX_ONNX_BYTES = 2**31 - 2**24  # protobuf's 2 GiB, less room for the graph itself
INPUT_NAME = "input"
OUTPUT_NAME = "output"


def _onnx():
    try:
        import onnx
    except ImportError:
        raise GuinnError(
            "ONNX export needs the optional 'onnx' package: pip install onnx onnxruntime "
            "(from a guinn checkout: pip install '.[onnx]')."
        ) from None
    return onnx


class _Graph:
    """Collects nodes and initializers with unique names while walking the layers."""

    def __init__(self, onnx):
        self.onnx = onnx
        self.nodes = []
        self.initializers = []
        self._count = 0

    def name(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, hint: str, value: np.ndarray) -> str:
        name = self.name(hint)
        self.initializers.append(
            self.onnx.numpy_helper.from_array(np.ascontiguousarray(value), name=name)
        )
        return name

    def node(self, op: str, inputs: list[str], hint: str, **attrs) -> str:
        out = self.name(hint)
        self.nodes.append(
            self.onnx.helper.make_node(op, inputs, [out], name=out + "_node", **attrs)
        )
        return out


def _activation(graph: _Graph, x: str, name: str, alpha: float, hint: str) -> str:
    if name == "linear":
        return x
    if name == "sigmoid":
        return graph.node("Sigmoid", [x], hint + "_sigmoid")
    if name == "tanh":
        return graph.node("Tanh", [x], hint + "_tanh")
    if name == "relu":
        return graph.node("Relu", [x], hint + "_relu")
    if name == "leaky_relu":
        return graph.node("LeakyRelu", [x], hint + "_leaky_relu", alpha=float(alpha))
    if name == "softmax":
        return graph.node("Softmax", [x], hint + "_softmax", axis=-1)
    raise ConfigError(f"Activation {name!r} has no ONNX export.")


def _f32(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, dtype=np.float32)


def _affine(graph: _Graph, x: str, kernel: np.ndarray, bias: np.ndarray | None, hint: str) -> str:
    w = graph.const(hint + "_kernel", _f32(kernel))
    if bias is None:
        return graph.node("MatMul", [x, w], hint + "_matmul")
    b = graph.const(hint + "_bias", _f32(bias))
    return graph.node("Gemm", [x, w, b], hint + "_gemm")


def _standardizer(model: Sequential, preprocessing=None):
    """The feature scaling a model was trained behind (``preprocessing``, else its file's), or
    None. Exported into the graph: without it an ONNX consumer feeding raw features got
    answers as good as chance, with nothing to say why."""
    from guinn.data.csv_data import Standardizer

    given = preprocessing if preprocessing is not None else getattr(model, "preprocessing", None)
    stored = (given or {}).get("standardizer")
    if stored is None:
        return None
    scaler = Standardizer.from_dict(stored)  # checked: it came from a file
    if len(model.input_shape) != 1 or scaler.mean.shape != (model.input_shape[0],):
        raise ConfigError(f"The model's stored standardizer scales {scaler.mean.shape[0]} features, but the model "
                          f"takes input of shape {model.input_shape}.")
    f32 = np.finfo(np.float32)  # what the graph holds and computes in: out of its range, inf or a division by 0
    bad = np.flatnonzero((np.abs(scaler.mean) > f32.max) | (scaler.std > f32.max) | (scaler.std < f32.tiny))
    if len(bad):
        raise ConfigError(f"Feature {bad[0] + 1}'s scaling (mean {scaler.mean[bad[0]]:g}, std {scaler.std[bad[0]]:g}) "
                          f"does not fit ONNX's float32 (magnitudes from {f32.tiny:.3g} to {f32.max:.3g}), so the "
                          "model cannot be exported; rescale that column in the CSV and train again.")
    return scaler


def to_onnx(model: Sequential, preprocessing=None):
    """The model as an ``onnx.ModelProto`` (checked with ``onnx.checker``)."""
    onnx = _onnx()
    helper = onnx.helper
    if not isinstance(model, Sequential):
        raise ConfigError(f"ONNX export takes a guinn Sequential, got {type(model).__name__}.")
    model._ensure_built()
    weight_bytes = model.count_params() * 4  # exported as float32
    if weight_bytes >= MAX_ONNX_BYTES:
        raise GuinnError(f"The model has {model.count_params():,} parameters ({weight_bytes / 2**30:.1f} GiB as "
                         f"float32), more than one ONNX file holds (2 GiB, protobuf's limit).")
    graph = _Graph(onnx)
    x = INPUT_NAME
    scaler = _standardizer(model, preprocessing)
    if scaler is not None:  # a CSV-trained model: raw feature values in, as the CLI's predictions take them
        x = graph.node("Sub", [x, graph.const("standardize_mean", _f32(scaler.mean))], "standardize_center")
        x = graph.node("Div", [x, graph.const("standardize_std", _f32(scaler.std))], "standardize_scale")
    for layer in model.layers:
        hint = layer.name or layer.type_name.lower()
        if isinstance(layer, Dense):
            x = _affine(graph, x, layer.params["kernel"], layer.params.get("bias"), hint)
            x = _activation(graph, x, layer.activation.name, layer.alpha, hint)
        elif isinstance(layer, Maxout):
            z = _affine(graph, x, layer.params["kernel"], layer.params["bias"], hint)
            shape = graph.const(
                hint + "_shape", np.array([-1, layer.units, layer.pieces], dtype=np.int64)
            )
            z = graph.node("Reshape", [z, shape], hint + "_pieces")
            x = graph.node("ReduceMax", [z], hint + "_max", axes=[2], keepdims=0)
        elif isinstance(layer, PReLU):
            slope = graph.const(hint + "_alpha", _f32(layer.params["alpha"]))
            x = graph.node("PRelu", [x, slope], hint + "_prelu")
        elif isinstance(layer, Activation):
            x = _activation(graph, x, layer.activation.name, layer.alpha, hint)
        elif isinstance(layer, Flatten):
            if len(layer.input_shape) > 1:
                x = graph.node("Flatten", [x], hint + "_flatten", axis=1)
        elif isinstance(layer, Dropout):
            continue  # identity at inference time
        else:
            raise ConfigError(f"Layer type {layer.type_name} has no ONNX export.")
    if x == INPUT_NAME:  # a model with no computing layers still needs one node
        x = graph.node("Identity", [x], "identity")
    graph.nodes[-1].output[0] = OUTPUT_NAME
    inputs = [
        helper.make_tensor_value_info(
            INPUT_NAME, onnx.TensorProto.FLOAT, ["batch", *model.input_shape]
        )
    ]
    outputs = [
        helper.make_tensor_value_info(
            OUTPUT_NAME, onnx.TensorProto.FLOAT, ["batch", *model.output_shape]
        )
    ]
    g = helper.make_graph(graph.nodes, model.name, inputs, outputs, initializer=graph.initializers)
    proto = helper.make_model(
        g,
        producer_name="guinn",
        opset_imports=[helper.make_opsetid("", OPSET)],
        ir_version=IR_VERSION,
        doc_string="Exported from guinn (inference mode).",
    )
    classes = getattr(model, "class_names", None)
    if classes:
        helper.set_model_props(proto, {"class_names": json.dumps(list(classes))})
    onnx.checker.check_model(proto, full_check=True)
    return proto


def export_onnx(model: Sequential, path, preprocessing=None) -> Path:
    """Write ``model`` as an ONNX file at ``path`` (atomically) and return the path. The name
    must end in .onnx: exporting onto the model's own .safetensors file used to replace it."""
    from guinn.core.validation import file_path
    from guinn.io.atomic import is_folder, write_atomically

    path = file_path(path, "export_onnx")
    if is_folder(path):
        raise ModelFileError(f"Cannot export to {path}: it is a folder; give a file name such as "
                             f"{path / (getattr(model, 'name', None) or 'model')}.onnx.")
    if path.suffix.lower() != ".onnx":
        stem = path.stem if path.suffix else path.name
        raise ModelFileError(f"{path.name}: an ONNX file's name ends in .onnx (a {path.suffix or 'bare'} name "
                             f"would hide what it is, or replace a model file); use e.g. {stem}.onnx.")
    proto = to_onnx(model, preprocessing)
    write_atomically(path, proto.SerializeToString())
    return path
