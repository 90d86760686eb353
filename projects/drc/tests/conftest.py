"""Shared fixtures: a private data cache and single-threaded torch for every test."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPROKIT_DATA", str(tmp_path_factory.getbasetemp() / "data"))
    monkeypatch.setenv("REPROKIT_RUNS", str(tmp_path_factory.getbasetemp() / "runs"))
    torch.set_num_threads(1)
