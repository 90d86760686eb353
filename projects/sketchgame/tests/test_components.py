"""Agents, sketcher pretraining, encoder pretraining and the probes."""

import numpy as np
import torch
from sketchgame import probes
from sketchgame import referents as ref
from sketchgame.agents import Receiver, Sender, ValueModel
from sketchgame.perception import Encoder, pretrain_encoder, sketch_images
from sketchgame.sketcher import canvases_before_steps, pretrain_sender, rollout, teacher_canvases

KW = {"sigma": 0.6, "k": 6, "gain": 1.5}


def test_receiver_wait_logit_compares_previous_and_current_canvas() -> None:
    torch.manual_seed(0)
    rec = Receiver(8, 4)
    f_c, f_prev, f_now = torch.randn(2, 3, 8), torch.randn(2, 8), torch.randn(2, 8)
    logits = rec(f_c, f_prev, f_now)
    assert logits.shape == (2, 4)
    want = (rec.lin1(f_prev) * rec.lin2(f_now)).sum(1)
    assert torch.allclose(logits[:, 3], want)
    assert torch.allclose(logits[:, 0], (rec.lin1(f_c[:, 0]) * rec.lin2(f_now)).sum(1))
    assert rec.lin1.bias is None and rec.lin2.bias is None  # bias-free, as in the official code


def test_value_model_shares_lin1_for_sketch_and_candidates() -> None:
    v = ValueModel(8, 4)
    x = torch.randn(3, 8)
    a = v(x, x, torch.zeros(3, 8), torch.zeros(3, 8))
    with torch.no_grad():
        v.lin1.weight.zero_()
    assert not torch.allclose(a, v(x, x, torch.zeros(3, 8), torch.zeros(3, 8)))
    assert a.shape == (3,)


def test_sender_frozen_batchnorm_and_output_range() -> None:
    s = Sender(16, 5, 3, 4)
    s.freeze_norm()
    s.train()
    bn = next(m for m in s.modules() if isinstance(m, torch.nn.BatchNorm2d))
    before = bn.running_mean.clone()
    out = s(torch.rand(4, 1, 16, 16), torch.rand(4, 1, 16, 16), 1)
    assert out.shape == (4, 5, 6) and out.min() >= 0 and out.max() <= 1
    assert torch.equal(bn.running_mean, before) and not bn.training


def test_teacher_forced_pretraining_learns_to_draw_the_sketch() -> None:
    rng = np.random.default_rng(0)
    strokes = np.stack(
        [ref.sketch_strokes("square", "dot", ref.random_pose(rng), 15, rng, 5) for _ in range(8)]
    )
    st = torch.as_tensor(strokes)
    sk = sketch_images(strokes, 16, **KW)
    torch.manual_seed(0)
    sender = Sender(16, 5, 3, 8)
    kw = {"size": 16, **KW}
    losses = pretrain_sender(sender, st, sk, 150, 3e-3, 8, kw, 0)
    assert np.mean(losses[-20:]) < 0.3 * np.mean(losses[:5])
    sender.freeze_norm()
    drawn, canv = rollout(sender, sk, kw)
    assert drawn.shape == (8, 15, 6) and canv.shape == (8, 3, 1, 16, 16)


def test_own_canvas_pretraining_starts_from_the_senders_drawing() -> None:
    """After ``own_after`` updates half of each batch starts from the sender's own canvas: the
    sender then sees canvases no teacher-forced prefix contains, and still learns."""
    rng = np.random.default_rng(1)
    strokes = np.stack(
        [ref.sketch_strokes("square", "dot", ref.random_pose(rng), 15, rng, 5) for _ in range(8)]
    )
    st, sk = torch.as_tensor(strokes), sketch_images(strokes, 16, **KW)
    kw = {"size": 16, **KW}
    torch.manual_seed(0)
    sender = Sender(16, 5, 3, 8)
    own = canvases_before_steps(sender, sk, kw)
    assert own.shape == (8, 3, 1, 16, 16) and own[:, 0].abs().sum() == 0 and sender.training
    teacher = teacher_canvases(st, 5, 3, kw)
    assert not torch.allclose(own[:, 1:], teacher[:, 1:])
    losses = pretrain_sender(sender, st, sk, 150, 3e-3, 8, kw, 0, own_after=75, refresh=25)
    assert np.isfinite(losses).all() and np.mean(losses[-20:]) < 0.3 * np.mean(losses[:5])


def test_encoder_pretraining_beats_chance_on_its_pool() -> None:
    r = ref.make_referents(("hexagon", "moon"), 10, 16, 15, 0, 5)
    sk = sketch_images(r.strokes.reshape(-1, 15, 6), 16, **KW)
    labels = np.repeat(np.arange(len(r.cats)), 10)
    enc, acc = pretrain_encoder(r.photos.reshape(-1, 3, 16, 16), sk, labels, 16, 16, 150, 0)
    assert isinstance(enc, Encoder) and acc > 2 / len(r.cats)
    assert not any(p.requires_grad for p in enc.parameters())


def test_semanticity_detects_structure_and_lookup_control_is_null() -> None:
    cats = ref.categories(ref.GAME_SHAPES)
    sim = ref.attribute_similarity(cats)
    labels = np.repeat(np.arange(len(cats)), 4)
    rng = np.random.default_rng(0)
    feats = np.linalg.cholesky(sim + 0.5 * np.eye(len(cats)))[labels] + 0.01 * rng.normal(
        size=(len(labels), len(cats))
    )
    r, p = probes.semanticity(feats, labels, cats, 99, 0)
    assert r > 0.8 and p < 0.05
    lookup = rng.normal(size=(len(cats), 32))[labels]
    r0, p0 = probes.semanticity(lookup, labels, cats, 99, 0)
    assert abs(r0) < 0.2 and p0 > 0.05


def test_symbolicity_and_drift() -> None:
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(5, 8)) * 3
    y = np.repeat(np.arange(5), 6)
    x = centers[y] + rng.normal(size=(30, 8))
    assert probes.symbolicity(x[::2], y[::2], x[1::2], y[1::2]) > 0.8
    f = torch.randn(4, 3, 7, 8)
    assert probes.drift(f, f, 1.0) == 0.0 and probes.drift(f + 1, f, 1.0) > 0
