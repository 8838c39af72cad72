import os
import tempfile

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The app keeps its last session in the user's data folder: never the real one in tests.
os.environ["GUINN_SESSION_DIR"] = tempfile.mkdtemp(prefix="guinn-test-session-")


@pytest.fixture
def reset_global_seed():
    """Undo guinn.utils.set_random_seed after a test that sets it."""
    from guinn.core import backend

    yield
    backend.set_random_seed(None)
