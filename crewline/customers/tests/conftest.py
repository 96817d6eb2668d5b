import pytest


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Pending imports are written under MEDIA_ROOT; keep each test's files to itself."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return settings.MEDIA_ROOT
