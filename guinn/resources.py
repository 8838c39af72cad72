"""Where shipped resources live (presets, icons), for a checkout and for an installed wheel.

Qt-free: the command line and the app both find presets here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import guinn


def resources_dir() -> Path:
    """``guinn/_resources`` in a wheel install, else the repository's ``resources``."""
    package = Path(guinn.__file__).resolve().parent
    bundled = package / "_resources"
    return bundled if bundled.is_dir() else package.parent / "resources"


@dataclass(frozen=True)
class Preset:
    path: Path
    title: str
    description: str


# The order a student meets them in: the example, then activations (and the decision boundary
# they bend), regularization, optimizers.
PRESET_ORDER = (
    "mnist_example", "deep_sigmoid", "deep_relu", "leaky_relu", "prelu", "maxout", "toy_spiral", "no_dropout",
    "dropout", "l1", "l2", "optimizer_sgd", "optimizer_momentum", "optimizer_adagrad", "optimizer_rmsprop",
    "optimizer_adam", "mnist_augmented",
)


def preset_dir() -> Path:
    return resources_dir() / "presets"


def preset_paths(directory: Path | None = None) -> list[Path]:
    """Preset files in teaching order (unknown ones last, by name)."""
    folder = directory or preset_dir()
    if not folder.is_dir():
        return []
    rank = {name: i for i, name in enumerate(PRESET_ORDER)}
    return sorted(folder.glob("*.json"), key=lambda p: (rank.get(p.stem, len(rank)), p.stem))


def list_presets(directory: Path | None = None) -> list[Preset]:
    """Shipped experiment presets in teaching order; unreadable files are skipped here
    (opening one later reports the real error)."""
    presets = []
    for path in preset_paths(directory):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict):
            continue
        title = data.get("title") if isinstance(data.get("title"), str) else path.stem
        description = data.get("description") if isinstance(data.get("description"), str) else ""
        presets.append(Preset(path, title or path.stem, description))
    return presets


def icon_path() -> Path:
    return resources_dir() / "icons" / "guinn.svg"
