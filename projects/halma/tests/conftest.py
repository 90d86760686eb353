import pytest
from halma.rules import Rules
from halma.splits import SPLITS, Layout, generate


@pytest.fixture(autouse=True)
def _data_dir(tmp_path_factory, monkeypatch):
    """Generated data of the tests goes to a per-session temporary cache."""
    monkeypatch.setenv("REPROKIT_DATA", str(tmp_path_factory.getbasetemp() / "data"))


@pytest.fixture(scope="session")
def boards(tmp_path_factory):
    """12 boards of every split under the default rules and layout."""
    mp = pytest.MonkeyPatch()
    mp.setenv("REPROKIT_DATA", str(tmp_path_factory.getbasetemp() / "data"))
    out = {s: generate(s, 12, 0, Rules(), Layout()) for s in SPLITS}
    mp.undo()
    return out
