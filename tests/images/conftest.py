from pathlib import Path

import pytest


@pytest.fixture
def media_root(settings, tmp_path) -> Path:
    """A fresh MEDIA_ROOT for the test: nothing is ever written into the repository."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root
