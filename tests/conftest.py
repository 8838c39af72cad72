import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture
def reset_global_seed():
    """Undo guinn.utils.set_random_seed after a test that sets it."""
    from guinn.core import backend

    yield
    backend.set_random_seed(None)
