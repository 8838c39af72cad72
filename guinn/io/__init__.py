"""Reading and writing things outside the process: model files, ONNX export, images.

Nothing here imports Qt at module level; ``guinn.io.images`` loads PySide6 only when asked
to read a picture.
"""

from guinn.io.model_file import FORMAT, FORMAT_VERSION, load_model, save_model

__all__ = ["FORMAT", "FORMAT_VERSION", "load_model", "save_model"]
