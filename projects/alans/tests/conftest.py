import pytest


@pytest.fixture(autouse=True)
def _data_dir(tmp_path_factory, monkeypatch):
    """Generated data of the tests goes to a per-session temporary cache."""
    monkeypatch.setenv("REPROKIT_DATA", str(tmp_path_factory.getbasetemp() / "data"))
