"""Where shipped resources live (presets, icons), for a checkout and for an installed wheel."""

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


def list_presets(directory: Path | None = None) -> list[Preset]:
    """Shipped experiment presets, sorted by file name; unreadable files are skipped here
    (opening one later reports the real error)."""
    folder = directory or resources_dir() / "presets"
    if not folder.is_dir():
        return []
    presets = []
    for path in sorted(folder.glob("*.json")):
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
