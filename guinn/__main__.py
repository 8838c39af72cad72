"""``python -m guinn``: the command line if present, else the app."""

from __future__ import annotations

import importlib.util
import sys


def _main() -> int:
    if importlib.util.find_spec("guinn.cli") is not None:
        from guinn.cli import main

        return main()
    from guinn.gui.app import main

    return main(sys.argv[1:])


if __name__ == "__main__":
    raise SystemExit(_main())
