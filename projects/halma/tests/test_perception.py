"""The digit reader: its soft features are the symbolic features when it reads right; its
pretraining on training renderings teaches it to read them, then freezes it."""

import numpy as np
import torch
from halma import perception
from halma.agents import direction_features
from halma.panel import digit_pool
from halma.perception import (
    DIGITS,
    PanelReader,
    random_symbols,
    reading_accuracy,
    rendered,
    soft_direction_features,
    targets,
)


def test_one_hot_readings_give_the_symbolic_features():
    sym = random_symbols(np.random.default_rng(0), 64)
    t = targets(sym)
    value = torch.nn.functional.one_hot(t["digit"], DIGITS).float()
    sign = torch.nn.functional.one_hot(t["sign"], 3).float()
    soft = soft_direction_features(value, t["pawn"], sign)
    assert torch.equal(soft, direction_features(torch.from_numpy(sym)))


def test_targets_read_the_panel_layout():
    sym = np.array([[1, 2, 3, 4, 1, 2, 2, 1, 0, 5, 0, 9, -2, 3]])
    t = targets(sym)
    assert t["digit"].tolist() == [[1, 2, 3, 4, 0, 5, 0, 9, 2, 3]]
    assert t["pawn"].tolist() == [[1.0, 0.0, 0.0, 1.0]]
    assert t["sign"].tolist() == [[0, 2]]


def test_pretraining_teaches_the_reader_the_training_renderings():
    torch.manual_seed(0)
    reader, pool = PanelReader(8, 64), digit_pool("train")
    panel, target = rendered(pool, 500, 1, True)
    before = reading_accuracy(reader, panel, target)
    perception.pretrain(reader, pool, 0, True, 4000)
    assert before < 0.01 and reading_accuracy(reader, panel, target) > 0.1
    assert not any(p.requires_grad for p in reader.parameters())  # frozen for PPO
