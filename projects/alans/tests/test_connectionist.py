"""The Tier A connectionist baselines: value codes, the factored relation net, the Transformer."""

from __future__ import annotations

import pytest
import torch
from alans.connectionist import (
    CODE_DIM,
    FactoredRelationNet,
    PanelTransformer,
    complete_matrix,
    encode_values,
    value_codes,
)
from alans.data import load_split
from alans.experiments import _inputs, _rows, make_baseline
from alans.train import accuracy, predict, train_scorer


def test_value_codes_one_hot_thermometer_scalar():
    v = torch.arange(10)
    assert torch.equal(encode_values(v, "onehot"), torch.eye(10))
    t = encode_values(v, "thermometer")  # t_k = 1[v >= k]
    assert t.shape == (10, 9) and torch.equal(t.sum(1), v.float())
    assert torch.all(t[1:] >= t[:-1])  # ordered: a higher value switches on a superset
    assert torch.allclose(encode_values(v, "scalar")[:, 0], v / 9)
    with pytest.raises(ValueError, match="unknown value encoding"):
        encode_values(v, "binary")


def test_value_codes_of_a_problem_and_the_completed_matrix():
    d = load_split("localism", "val", 8, seed=0)
    codes = value_codes(d, "onehot")
    assert set(codes) == {"type", "size", "color"}
    assert codes["color"].shape == (8, 16, CODE_DIM["onehot"])
    assert torch.equal(codes["size"].argmax(-1), torch.as_tensor(d["panels"][..., 2]))
    x = torch.randn(2, 16, 3)
    m = complete_matrix(x)  # (B, 8, 9 * 3): context, then candidate c
    assert m.shape == (2, 8, 27)
    assert torch.equal(m[1, 5, :24], x[1, :8].flatten()) and torch.equal(m[1, 5, 24:], x[1, 13])
    grid = value_codes(load_split("localism", "val", 8, seed=0, config="grid2x2"), "scalar")
    assert grid["position"].shape == (8, 16, 4) and grid["number"].shape == (8, 16, 1)


@pytest.mark.parametrize("encoding", ["onehot", "scalar"])
def test_relation_net_is_one_relation_shared_by_the_attributes_and_summed(encoding):
    torch.manual_seed(0)
    net = FactoredRelationNet(encoding)
    codes = value_codes(load_split("localism", "val", 4, seed=0), encoding)
    s = net(codes)
    per_attr = [net.relation(complete_matrix(v)).squeeze(-1) for v in codes.values()]
    assert s.shape == (4, 8) and torch.allclose(s, sum(per_attr))
    swapped = {"type": codes["color"], "size": codes["type"], "color": codes["size"]}
    assert torch.allclose(net(swapped), s)  # no attribute-specific weights


def test_baselines_are_equivariant_to_the_candidate_order():
    torch.manual_seed(0)
    d = load_split("systematicity", "val", 4, seed=0)
    perm = torch.randperm(8)
    order = torch.cat([torch.arange(8), 8 + perm])
    for name in ("mlp", "relnet_onehot", "transformer_scalar"):
        net = make_baseline(name, 21, n_slots=1).eval()
        x = _inputs(name, d)
        s = net(x)
        xp = {k: v[:, order] for k, v in x.items()} if isinstance(x, dict) else x[:, order]
        assert torch.allclose(net(xp), s[:, perm], atol=1e-5), name
    grid = PanelTransformer("onehot", n_slots=4)
    codes = value_codes(load_split("localism", "val", 4, seed=0, config="grid2x2"), "onehot")
    assert grid(codes).shape == (4, 8)


@pytest.mark.parametrize("name", ["relnet_scalar"])
def test_the_relation_net_reaches_its_iid_gate_on_small_data(name):
    """The factored relation net learns the task in distribution from 800 problems in 300
    steps (IID accuracy above the 0.90 gate). The one-hot relation net needs more steps than a
    unit test affords, and the flat MLP and the Transformer do not learn it at this size (the
    MLP plateaus near 0.64 IID even with 4k problems); their gates are measured by the cpu
    profile."""
    train = load_split("localism", "train", 800, seed=0)
    iid = load_split("localism", "iid", 200, seed=0)
    x, xi = _inputs(name, train), _inputs(name, iid)
    torch.manual_seed(0)
    net = make_baseline(name, 0, n_slots=1)
    train_scorer(net, lambda i: net(_rows(x, i)), train["target"], 300, 64, 3e-3, 0)
    net.eval()
    acc = accuracy(predict(lambda i: net(_rows(xi, i)), len(iid["target"])), iid["target"])
    assert acc > 0.90, acc
