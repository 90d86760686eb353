import pytest


@pytest.fixture(autouse=True)
def _data_dir(tmp_path_factory, monkeypatch):
    """Generated data of the tests goes to a per-session temporary cache."""
    monkeypatch.setenv("REPROKIT_DATA", str(tmp_path_factory.getbasetemp() / "data"))


def _official_layout(model):
    """``model`` written the way the official ``assets/*.pth`` files are laid out."""
    from alans.starter import FC, OFFICIAL_ATTRS, SYSTEM

    system = {ours: getattr(model.backend.system, ours).detach() for ours in SYSTEM.values()}
    names = {ours: off for off, ours in SYSTEM.items()}
    cnn = {}
    for i, attr in enumerate(OFFICIAL_ATTRS):
        for key, v in model.perception.nets[i].state_dict().items():
            for off, ours in FC.items():
                key = key.replace(ours + ".", off + ".")
            cnn[f"{attr}_model.{key}"] = v
    return {"number_sys": {names[k]: v.float() for k, v in system.items()}, "object_cnn": cnn}


@pytest.fixture
def official_layout():
    """Writes an ALANS model in the official starter-checkpoint layout (``assets/*.pth``)."""
    return _official_layout
