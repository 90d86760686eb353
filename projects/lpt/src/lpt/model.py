"""LPT (paper Eq. 1-4) and the same-backbone baselines (final-return DT, BC).

The backbone is a GPT-2-style stack whose blocks run, in order: causal self-attention restricted
to a sliding window of ``window`` tokens, cross-attention to the latent plan z (LPT only; a
LayerNorm ``ln_z`` on z in every block), and a 4h ReLU MLP. As in the official code there is no
positional or timestep encoding. Trajectories are right-padded: under the causal mask a real
token never sees a pad, so this equals the official left padding with an attention mask.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from lpt.unet import UNet1D

Cache = list[tuple[torch.Tensor, torch.Tensor]]  # per layer: keys, values (B, heads, <=K, d)


def sliding_window_mask(L: int, window: int, device: torch.device | None = None) -> torch.Tensor:
    """allowed[i, j] = j <= i and i - j < window: causal attention over the last K tokens."""
    i = torch.arange(L, device=device)[:, None]
    j = torch.arange(L, device=device)[None, :]
    return (j <= i) & (i - j < window)


def banded_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, window: int
) -> torch.Tensor:
    """Causal sliding-window attention in O(L * 2K) instead of O(L^2).

    Equal to SDPA with ``sliding_window_mask(L, K)``: the sequence is cut into blocks of K
    queries, and each block attends to its own keys and those of the previous block, masked to
    the band. q, k, v (B, heads, L, d) -> (B, heads, L, d).
    """
    B, H, L, d = q.shape
    W = window
    nb = -(-L // W)
    if nb * W != L:
        q, k, v = (F.pad(t, (0, 0, 0, nb * W - L)) for t in (q, k, v))
    qb, kb, vb = (t.view(B, H, nb, W, d) for t in (q, k, v))

    def with_previous(t: torch.Tensor) -> torch.Tensor:  # (B, H, nb, 2W, d)
        return torch.cat((F.pad(t, (0, 0, 0, 0, 1, 0))[:, :, :-1], t), dim=3)

    i = torch.arange(W, device=q.device)[:, None]
    j = torch.arange(2 * W, device=q.device)[None, :] - W  # key offset within the block
    mask = ((j <= i) & (i - j < W)).expand(nb, W, 2 * W).clone()
    mask[0, :, :W] = False  # no block before the first
    out = F.scaled_dot_product_attention(qb, with_previous(kb), with_previous(vb), attn_mask=mask)
    return out.reshape(B, H, nb * W, d)[:, :, :L]


class Block(nn.Module):
    """Self-attention (windowed, causal) -> cross-attention to z -> MLP, each pre-LN residual."""

    def __init__(self, h: int, n_head: int, window: int, dropout: float, cross: bool) -> None:
        super().__init__()
        self.n_head, self.window = n_head, window
        self.ln_1, self.qkv, self.proj = nn.LayerNorm(h), nn.Linear(h, 3 * h), nn.Linear(h, h)
        self.cross = cross
        if cross:
            self.ln_x, self.ln_z = nn.LayerNorm(h), nn.LayerNorm(h)
            self.xq, self.xkv, self.xproj = nn.Linear(h, h), nn.Linear(h, 2 * h), nn.Linear(h, h)
        self.ln_2 = nn.LayerNorm(h)
        self.mlp = nn.Sequential(nn.Linear(h, 4 * h), nn.ReLU(), nn.Linear(4 * h, h))
        self.drop = nn.Dropout(dropout)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:  # (B, L, h) -> (B, heads, L, d)
        B, L, h = x.shape
        return x.view(B, L, self.n_head, h // self.n_head).transpose(1, 2)

    def _merge(self, x: torch.Tensor) -> torch.Tensor:  # (B, heads, L, d) -> (B, L, h)
        B, _, L, _ = x.shape
        return x.transpose(1, 2).reshape(B, L, -1)

    def _cross_and_mlp(self, x: torch.Tensor, z: torch.Tensor | None) -> torch.Tensor:
        if self.cross:
            assert z is not None, "LPT blocks need the latent plan z"
            k, v = self.xkv(self.ln_z(z)).chunk(2, dim=-1)  # (B, n_latent, h) each
            q = self._heads(self.xq(self.ln_x(x)))
            attn = F.scaled_dot_product_attention(q, self._heads(k), self._heads(v))
            x = x + self.drop(self.xproj(self._merge(attn)))
        return x + self.drop(self.mlp(self.ln_2(x)))

    def forward(self, x: torch.Tensor, z: torch.Tensor | None) -> torch.Tensor:
        """x (B, L, h), z (B, n_latent, h) | None -> (B, L, h)."""
        q, k, v = (self._heads(t) for t in self.qkv(self.ln_1(x)).chunk(3, dim=-1))
        attn = banded_attention(q, k, v, self.window)
        x = x + self.drop(self.proj(self._merge(attn)))
        return self._cross_and_mlp(x, z)

    def step(
        self, x: torch.Tensor, z: torch.Tensor | None, cache: tuple[torch.Tensor, torch.Tensor]
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """One new token x (B, 1, h) against the cached keys/values of the previous K-1 tokens."""
        q, k, v = (self._heads(t) for t in self.qkv(self.ln_1(x)).chunk(3, dim=-1))
        k = torch.cat((cache[0], k), dim=2)[:, :, -self.window :]
        v = torch.cat((cache[1], v), dim=2)[:, :, -self.window :]
        attn = F.scaled_dot_product_attention(q, k, v)  # every cached token is in the window
        x = x + self.drop(self.proj(self._merge(attn)))
        return self._cross_and_mlp(x, z), (k, v)


class Transformer(nn.Module):
    """Stack of ``Block``s plus final LayerNorm; ``step`` is the exact incremental version."""

    def __init__(
        self, h: int, n_layer: int, n_head: int, window: int, dropout: float, cross: bool
    ) -> None:
        super().__init__()
        if h % n_head:
            raise ValueError(f"hidden size {h} is not divisible by n_head {n_head}")
        self.window = window
        self.blocks = nn.ModuleList(
            Block(h, n_head, window, dropout, cross) for _ in range(n_layer)
        )
        self.ln_f = nn.LayerNorm(h)

    def forward(self, x: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        for block in self.blocks:
            x = block(x, z)
        return self.ln_f(x)

    def empty_cache(self, x: torch.Tensor) -> Cache:
        B, _, h = x.shape
        n_head = self.blocks[0].n_head
        empty = x.new_zeros(B, n_head, 0, h // n_head)
        return [(empty, empty) for _ in self.blocks]

    def step(
        self, x: torch.Tensor, z: torch.Tensor | None, cache: Cache
    ) -> tuple[torch.Tensor, Cache]:
        """x (B, 1, h) -> output (B, 1, h) and the updated per-layer caches."""
        new = []
        for block, c in zip(self.blocks, cache, strict=True):
            x, c = block.step(x, z, c)
            new.append(c)
        return self.ln_f(x), new


class SequencePolicy(nn.Module):
    """Shared embeddings/head: tokens per step are ``pre_tokens`` (ending in s_t) then a_t.

    Action likelihood π(a_t | s_≤t, a_<t, ·): Gaussian N(tanh(head), σ_a² I) for continuous
    actions (Maze2D, MuJoCo), categorical softmax(head) over one-hot actions (``discrete``,
    Connect Four). ``action_error`` is the per-trajectory Σ_t of the matching error: squared error
    ‖â_t − a_t‖² or cross-entropy −log π(a_t).
    """

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        h: int,
        n_layer: int,
        n_head: int,
        window: int,
        dropout: float,
        cross: bool,
        discrete: bool = False,
    ) -> None:
        super().__init__()
        self.discrete = discrete
        self.embed_state, self.embed_action = nn.Linear(obs_dim, h), nn.Linear(act_dim, h)
        self.embed_ln, self.drop = nn.LayerNorm(h), nn.Dropout(dropout)
        self.transformer = Transformer(h, n_layer, n_head, window, dropout, cross)
        self.action_head = nn.Linear(h, act_dim)
        self.tokens_per_step = 2

    def pre_tokens(self, states: torch.Tensor, y: torch.Tensor | None) -> list[torch.Tensor]:
        """Embeddings (B, T, h) of the tokens that precede a_t; the last one is s_t."""
        return [self.embed_state(states)]

    def embed(
        self, states: torch.Tensor, actions: torch.Tensor, y: torch.Tensor | None
    ) -> torch.Tensor:
        """(B, T, obs), (B, T, act) -> interleaved tokens (B, T * tokens_per_step, h)."""
        toks = [*self.pre_tokens(states, y), self.embed_action(actions)]
        B, T, h = toks[0].shape
        x = torch.stack(toks, dim=2).reshape(B, T * len(toks), h)
        return self.drop(self.embed_ln(x))

    def predict_actions(
        self,
        states: torch.Tensor,
        actions: torch.Tensor,
        y: torch.Tensor | None = None,
        z: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """π(a_t | s_<=t, a_<t, ·) read from the state-token outputs: (B, T, act).

        Gaussian: the mean tanh(head); categorical: the logits.
        """
        x = self.transformer(self.embed(states, actions, y), z)
        k = self.tokens_per_step
        return self.head(x[:, k - 2 :: k])

    def head(self, x: torch.Tensor) -> torch.Tensor:
        """Action-head output at state tokens x (..., h): tanh mean or logits (..., act)."""
        out = self.action_head(x)
        return out if self.discrete else torch.tanh(out)

    @property
    def action_loss_name(self) -> str:
        return "action_ce" if self.discrete else "action_mse"

    def action_error(self, states, actions, mask, y=None, z=None) -> torch.Tensor:
        """Per-trajectory Σ_t over unmasked steps of ‖â_t − a_t‖² or −log π(a_t): (B,)."""
        pred = self.predict_actions(states, actions, y, z)
        if self.discrete:
            err = -(torch.log_softmax(pred, -1) * actions).sum(-1)  # actions are one-hot
        else:
            err = (pred - actions).pow(2).sum(-1)
        return (err * mask).sum(-1)

    def action_nll(
        self, states, actions, mask, sigma_a2: float, y=None, z=None, ce_weight: float = 1.0
    ) -> torch.Tensor:
        """−log p_β(τ|·) up to a constant, per trajectory (B,): SSE/(2σ_a²), or the summed CE
        times β = ``ce_weight`` (a tempered categorical likelihood; 1 = the plain one)."""
        err = self.action_error(states, actions, mask, y, z)
        return ce_weight * err if self.discrete else err / (2 * sigma_a2)

    def action_loss(self, batch: dict[str, torch.Tensor], **cond) -> dict[str, torch.Tensor]:
        """Learning-step action loss: masked mean squared error per dimension, or mean CE."""
        err = self.action_error(batch["states"], batch["actions"], batch["mask"], **cond)
        per = batch["mask"].sum() * (1 if self.discrete else batch["actions"].shape[-1])
        return {self.action_loss_name: err.sum() / per}

    def decide(
        self,
        pred: torch.Tensor,
        legal: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """The action played and fed back: the mean (Gaussian); for a categorical π the one-hot
        of a legal action drawn from π restricted to the legal ones (with ``generator``) or of
        the most likely legal action (without). pred (B, act), legal (B, act) bool | None."""
        if not self.discrete:
            return pred
        if legal is not None:
            pred = pred.masked_fill(~legal, float("-inf"))
        if generator is None:
            choice = pred.argmax(-1)
        else:
            probs = torch.softmax(pred, -1).cpu()
            choice = torch.multinomial(probs, 1, generator=generator)[:, 0].to(pred.device)
        return F.one_hot(choice, pred.shape[-1]).to(pred.dtype)


class LPT(SequencePolicy):
    """p_α(z) p_β(τ|z) p_γ(y|z): UNet prior, cross-attention Transformer, return MLP."""

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        h: int,
        n_layer: int,
        n_head: int,
        window: int,
        dropout: float,
        n_latent: int,
        use_unet: bool,
        unet_dim: int,
        unet_mults: tuple[int, ...],
        unet_attn_heads: int,
        unet_attn_dim_head: int,
        return_hidden: int = 100,
        return_dropout: float = 0.3,
        discrete: bool = False,
    ) -> None:
        super().__init__(
            obs_dim, act_dim, h, n_layer, n_head, window, dropout, cross=True, discrete=discrete
        )
        self.n_latent, self.h = n_latent, h
        self.unet = (
            UNet1D(
                unet_dim, unet_mults, attn_heads=unet_attn_heads, attn_dim_head=unet_attn_dim_head
            )
            if use_unet
            else None
        )
        d = n_latent * h
        self.return_mlp = nn.Sequential(  # r_γ(z), mean of p_γ(y|z)
            nn.Linear(d, return_hidden),
            nn.SiLU(),
            nn.Dropout(return_dropout),
            nn.Linear(return_hidden, return_hidden),
            nn.SiLU(),
            nn.Dropout(return_dropout),
            nn.Linear(return_hidden, 1),
        )

    def prior(self, z0: torch.Tensor) -> torch.Tensor:
        """z = U_α(z0) (the prior); the no-UNet ablation uses z = z0. (B, n_latent, h)."""
        if self.unet is None:
            return z0
        B = z0.shape[0]
        return self.unet(z0.reshape(B, 1, -1)).reshape(B, self.n_latent, self.h)

    def predict_return(self, z: torch.Tensor) -> torch.Tensor:
        return self.return_mlp(z.flatten(1)).squeeze(-1)  # (B,)

    def forward(self, batch: dict[str, torch.Tensor], z0: torch.Tensor) -> dict[str, torch.Tensor]:
        """Training losses at the sampled z0: masked action loss and return MSE (learning step)."""
        z = self.prior(z0)
        losses = self.action_loss(batch, z=z)  # before r_γ: dropout draws in a fixed order
        return losses | {"return_mse": (self.predict_return(z) - batch["y"]).pow(2).mean()}


class DecisionTransformer(SequencePolicy):
    """DT with the final return as return-to-go at every step (R_t ≡ y): tokens (R, s, a)."""

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        h: int,
        n_layer: int,
        n_head: int,
        window: int,
        dropout: float,
        discrete: bool = False,
    ) -> None:
        super().__init__(
            obs_dim, act_dim, h, n_layer, n_head, window, dropout, cross=False, discrete=discrete
        )
        self.embed_return = nn.Linear(1, h)
        self.tokens_per_step = 3

    def pre_tokens(self, states: torch.Tensor, y: torch.Tensor | None) -> list[torch.Tensor]:
        assert y is not None, "DT needs the conditioning return y"
        R = y[:, None, None].expand(-1, states.shape[1], 1)  # (B, T, 1), R_t ≡ y
        return [self.embed_return(R), self.embed_state(states)]

    def forward(self, batch: dict[str, torch.Tensor], z0: None = None) -> dict[str, torch.Tensor]:
        return self.action_loss(batch, y=batch["y"])


class BehaviourCloning(SequencePolicy):
    """BC on the same backbone: (s, a) tokens, no conditioning."""

    def forward(self, batch: dict[str, torch.Tensor], z0: None = None) -> dict[str, torch.Tensor]:
        return self.action_loss(batch)
