"""``import guinn`` and the whole engine, data and experiment layers stay Qt-free."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

QT_PREFIXES = ("PySide6", "shiboken6", "pyqtgraph")

SCRIPT = textwrap.dedent("""
    import importlib, json, pkgutil, sys
    import guinn, guinn.core, guinn.data
    names = ["guinn", "guinn.models", "guinn.layers", "guinn.optimizers", "guinn.losses",
             "guinn.callbacks", "guinn.regularizers", "guinn.initializers", "guinn.utils",
             "guinn.errors", "guinn.datasets", "guinn.datasets.mnist", "guinn.experiment"]
    for package in (guinn.core, guinn.data):
        names += [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
    for name in names:
        importlib.import_module(name)
    extra = sys.argv[1:]
    for name in extra:
        importlib.import_module(name)
    qt = sorted(m for m in sys.modules if m.split(".")[0] in {prefixes})
    print(json.dumps({{"imported": names, "qt": qt}}))
""")


def run(*extra):
    code = SCRIPT.format(prefixes=repr(set(QT_PREFIXES)))
    result = subprocess.run([sys.executable, "-c", code, *extra], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_engine_data_and_experiment_import_no_qt():
    report = run()
    imported = set(report["imported"])
    # the walk really covered the engine and the data layer
    for name in ("guinn.core.model", "guinn.core.layers.dense", "guinn.core.layers.maxout",
                 "guinn.core.telemetry", "guinn.core.callbacks", "guinn.data.toy",
                 "guinn.data.idx", "guinn.experiment", "guinn.datasets.mnist"):
        assert name in imported
    assert report["qt"] == [], f"Qt modules loaded by the engine: {report['qt']}"


def test_the_check_detects_qt_when_it_is_imported():
    try:
        import importlib.util

        available = importlib.util.find_spec("shiboken6") is not None
    except (ImportError, ValueError):
        available = False
    if not available:
        return  # nothing to detect without Qt installed; the main check still stands
    report = run("shiboken6")
    assert "shiboken6" in report["qt"]
