"""One seed's world: referents, splits, the frozen encoder and the pretrained iconic sender.

Splits (note item 6): whole base shapes are held out (``unseen`` categories never appear in a
training game); the first ``n_train_instances`` instances of each seen category are the training
referents, the rest the unseen instances. The sender's pretraining sketches are fresh instances
of the seen categories and of the encoder's disjoint pool shapes (never a held-out instance or an
unseen category).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from sketchgame import referents as ref
from sketchgame.agents import Sender
from sketchgame.game import Batch
from sketchgame.perception import Encoder, pretrain_encoder, sketch_images
from sketchgame.render import chamfer_px
from sketchgame.sketcher import pretrain_sender, rollout
from torch import Tensor

from reprokit.torch_utils import load_checkpoint, save_checkpoint


@dataclass
class World:
    cats: list[tuple[str, str]]
    photos: Tensor  # (C, I, 3, R, R)
    photo_feats: Tensor  # (C, I, D) frozen-encoder features of the photos
    sketch_feats: Tensor  # (C, I, D) frozen-encoder features of the sketches
    strokes: Tensor  # (C, I, n_strokes, 6)
    sketches: Tensor  # (C, I, 1, R, R)
    seen: np.ndarray  # category ids of the seen base shapes
    unseen: np.ndarray  # category ids of the held-out base shapes
    train_inst: np.ndarray
    test_inst: np.ndarray
    encoder: Encoder
    sender0: Sender  # the pretrained iconic sender (kept unchanged)
    facts: dict[str, float]  # gate metrics of the pretraining

    def batch(self, games: ref.Games) -> Batch:
        return Batch(
            sketch=self.sketches[games.sketch_cat, games.sketch_inst],
            f_sketch=self.sketch_feats[games.sketch_cat, games.sketch_inst],
            f_cands=self.photo_feats[games.cand_cat, games.cand_inst],
            target=torch.as_tensor(games.target),
        )

    def fresh_sender(self) -> Sender:
        return copy.deepcopy(self.sender0)


def build_world(cfg, seed: int, saved: dict | None = None) -> World:
    """Referents, encoder pretraining (disjoint pool), sender pretraining; one seed. ``saved``
    (from ``save_world``) restores the pretrained networks instead of training them again."""
    g, d = cfg.game, cfg.data
    kw = {"sigma": g.sigma, "k": g.points_per_stroke, "gain": g.gain}
    n_strokes = g.strokes_per_step * g.max_step
    n_inst = d.n_train_instances + d.n_test_instances
    k = d.modifiers_after
    game = ref.make_referents(ref.GAME_SHAPES, n_inst, g.size, n_strokes, seed * 1000 + 1, k)
    pool = ref.make_referents(
        ref.POOL_SHAPES, d.n_pool_instances, g.size, n_strokes, seed * 1000 + 2, k
    )
    n_pool_cats = len(pool.cats)
    pool_strokes = pool.strokes.reshape(-1, n_strokes, 6)
    pool_sk = sketch_images(pool_strokes, g.size, **kw)
    jitter = np.random.default_rng(seed).normal(0, d.encoder_jitter, pool_strokes.shape)
    pool_jit = sketch_images((pool_strokes + jitter).clip(0, 1).astype(np.float32), g.size, **kw)
    labels = np.repeat(np.arange(n_pool_cats), d.n_pool_instances)
    if saved is None:
        encoder, enc_acc = pretrain_encoder(
            pool.photos.reshape(-1, 3, g.size, g.size),
            torch.cat([pool_sk, pool_jit]),  # sloppy renderings: robust to imperfect drawings
            labels,
            g.size,
            cfg.model.feat_dim,
            cfg.pretrain.encoder_steps,
            seed,
        )
    else:
        encoder, enc_acc = Encoder(g.size, cfg.model.feat_dim), saved["facts"]["encoder_acc"]
        encoder.load_state_dict(saved["encoder"])
        encoder.requires_grad_(False).eval()
    seen_shapes, unseen_shapes = ref.split_shapes(d.heldout_shapes)
    seen = np.array([i for i, c in enumerate(game.cats) if c[0] in seen_shapes])
    unseen = np.array([i for i, c in enumerate(game.cats) if c[0] in unseen_shapes])
    extra = ref.make_referents(
        seen_shapes, d.n_pretrain_instances, g.size, n_strokes, seed * 1000 + 3, k
    )
    pre_strokes = torch.cat(
        [
            torch.as_tensor(extra.strokes.reshape(-1, n_strokes, 6)),
            torch.as_tensor(pool.strokes.reshape(-1, n_strokes, 6)),
        ]
    )
    pre_sketches = torch.cat(
        [sketch_images(extra.strokes.reshape(-1, n_strokes, 6), g.size, **kw), pool_sk]
    )
    torch.manual_seed(seed)
    sender = Sender(g.size, g.strokes_per_step, g.max_step, cfg.model.sender_width)
    draw_kw = {"size": g.size, **kw}
    if saved is None:
        pretrain_sender(
            sender,
            pre_strokes,
            pre_sketches,
            cfg.pretrain.sender_steps,
            cfg.pretrain.sender_lr,
            64,
            draw_kw,
            seed,
            own_after=int(cfg.pretrain.sender_own_after * cfg.pretrain.sender_steps),
        )
    else:
        sender.load_state_dict(saved["sender"])
    sender.freeze_norm()
    strokes = torch.as_tensor(game.strokes)
    sketches = sketch_images(game.strokes.reshape(-1, n_strokes, 6), g.size, **kw).view(
        len(game.cats), n_inst, 1, g.size, g.size
    )
    train_inst, test_inst = np.arange(d.n_train_instances), np.arange(d.n_train_instances, n_inst)
    facts = {"encoder_acc": enc_acc}
    for name, cats, inst in (
        ("seen", seen, train_inst),
        ("unseen_inst", seen, test_inst),
        ("unseen_cat", unseen, train_inst),
    ):
        sk = sketches[cats][:, inst].flatten(0, 1)
        drawn, _ = rollout(sender, sk, draw_kw)
        facts[f"chamfer_{name}"] = (
            chamfer_px(drawn, strokes[cats][:, inst].flatten(0, 1), g.size).mean().item()
        )
    photos = torch.as_tensor(game.photos)
    with torch.no_grad():
        photo_feats = encoder(photos.flatten(0, 1)).view(*photos.shape[:2], -1)
        sketch_feats = encoder(sketches.flatten(0, 1)).view(*photos.shape[:2], -1)
    return World(
        cats=game.cats,
        photos=photos,
        photo_feats=photo_feats,
        sketch_feats=sketch_feats,
        strokes=strokes,
        sketches=sketches,
        seen=seen,
        unseen=unseen,
        train_inst=train_inst,
        test_inst=test_inst,
        encoder=encoder,
        sender0=sender,
        facts=facts,
    )


def save_world(world: World, path: Path) -> None:
    """The pretrained networks and their gate facts (atomic)."""
    save_checkpoint(
        path,
        {
            "encoder": world.encoder.state_dict(),
            "sender": world.sender0.state_dict(),
            "facts": world.facts,
        },
    )


def load_world(cfg, seed: int, path: Path) -> World:
    """Regenerate the referents (deterministic) and restore the pretrained networks."""
    return build_world(cfg, seed, load_checkpoint(path))
