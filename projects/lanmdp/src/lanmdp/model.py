"""Networks of LanMDP as a batched ensemble: M independent MLPs evaluated with one ``bmm``.

Every (seed, context length L) model of a run is one member, so a whole context-length ablation
trains in one loop (design risk 4). A member with context L < L_max sees the states beyond L as
zeros (``context_mask``), which makes it exactly an MLP over its own L states.

* ``EnergyPolicy``: the policy p_α(a | s_{t−L+1:t}) ∝ exp(f_α(ctx, a)) on the action box
  (official ``EnergyFunc``: MLP(2L + 1 → h → h → 1), Swish).
* ``RegressionPolicy``: â = g(ctx) trained by MSE on the true actions (a supervised reference
  that observes actions; design risk 6).
"""

from __future__ import annotations

import math
from itertools import pairwise

import torch
from torch import nn


class EnsembleLinear(nn.Module):
    """M independent affine maps: (M, N, d_in) → (M, N, d_out)."""

    def __init__(self, M: int, d_in: int, d_out: int) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(d_in)  # torch.nn.Linear's default range
        self.weight = nn.Parameter(torch.empty(M, d_in, d_out).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(M, 1, d_out).uniform_(-bound, bound))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.bias, h, self.weight)


class EnsembleMLP(nn.Module):
    """M MLPs d_in → hidden → … → d_out with Swish (SiLU) activations."""

    def __init__(self, M: int, d_in: int, hidden: int, layers: int, d_out: int) -> None:
        super().__init__()
        dims = [d_in] + [hidden] * layers
        self.hidden = nn.ModuleList(EnsembleLinear(M, a, b) for a, b in pairwise(dims))
        self.out = EnsembleLinear(M, hidden, d_out)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        for layer in self.hidden:
            h = nn.functional.silu(layer(h))
        return self.out(h)


def context_mask(context_lengths: list[int], L_max: int) -> torch.Tensor:
    """(M, 1, 2·L_max) mask keeping each member's own L most recent states (y, x)."""
    keep = torch.arange(2 * L_max)[None, :] < 2 * torch.tensor(context_lengths)[:, None]
    return keep.float()[:, None, :]


def _silu_grad(z: torch.Tensor) -> torch.Tensor:
    """d silu(z) / dz = σ(z)·(1 + z·(1 − σ(z)))."""
    s = torch.sigmoid(z)
    return s * (1.0 + z * (1.0 - s))


class BoundEnergy:
    """f_α(ctx, ·) for fixed histories ctx (M, N, 2L_max): the value (differentiable, for the
    loss) and the action gradient ∇_a f in closed form (Langevin's inner loop, no autograd).

    The first layer splits into a context part, computed once, and the action column w_a.
    """

    def __init__(self, net: EnsembleMLP, ctx: torch.Tensor) -> None:
        first = net.hidden[0]
        self.net = net
        self.c = torch.baddbmm(first.bias, ctx, first.weight[:, :-1])  # (M, N, h)
        self.w_a = first.weight[:, -1:]  # (M, 1, h)

    def __call__(self, a: torch.Tensor) -> torch.Tensor:
        """f(ctx, a) for a (M, N) → (M, N)."""
        h = nn.functional.silu(self.c + a[..., None] * self.w_a)
        for layer in self.net.hidden[1:]:
            h = nn.functional.silu(layer(h))
        return self.net.out(h)[..., 0]

    @torch.no_grad()
    def grad(self, a: torch.Tensor) -> torch.Tensor:
        """∇_a f(ctx, a) (M, N), by the chain rule through the Swish MLP."""
        zs = [self.c + a[..., None] * self.w_a]
        for layer in self.net.hidden[1:]:
            zs.append(layer(nn.functional.silu(zs[-1])))
        g = self.net.out.weight.transpose(1, 2) * _silu_grad(zs[-1])  # df/dz_last (M, N, h)
        for layer, z in zip(reversed(self.net.hidden[1:]), reversed(zs[:-1])):
            g = torch.bmm(g, layer.weight.transpose(1, 2)) * _silu_grad(z)
        return (g * self.w_a).sum(-1)


class EnergyPolicy(nn.Module):
    """f_α(ctx, a) for M members; ``forward(ctx (M, N, 2L_max), a (M, N)) → f (M, N)``."""

    def __init__(self, context_lengths: list[int], hidden: int, layers: int = 2) -> None:
        super().__init__()
        self.lengths, self.hidden_size, self.layers = list(context_lengths), hidden, layers
        self.L_max = max(context_lengths)
        self.register_buffer("mask", context_mask(context_lengths, self.L_max))
        self.net = EnsembleMLP(len(context_lengths), 2 * self.L_max + 1, hidden, layers, 1)

    def forward(self, ctx: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        h = torch.cat([ctx * self.mask, a[..., None]], dim=-1)
        return self.net(h)[..., 0]

    def select(self, members: list[int]) -> EnergyPolicy:
        """A new ensemble holding copies of the given members."""
        sub = EnergyPolicy([self.lengths[i] for i in members], self.hidden_size, self.layers)
        state = self.state_dict()
        sub.load_state_dict({k: v[members] for k, v in state.items()})
        return sub.to(self.mask.device)

    def bind(self, ctx: torch.Tensor) -> BoundEnergy:
        """f_α(ctx, ·) with its closed-form action gradient, for sampling at fixed ctx."""
        return BoundEnergy(self.net, ctx * self.mask)


class RegressionPolicy(nn.Module):
    """â = g(ctx) for M members; ``forward(ctx (M, N, 2L_max)) → â (M, N)``."""

    def __init__(self, context_lengths: list[int], hidden: int, layers: int = 2) -> None:
        super().__init__()
        self.L_max = max(context_lengths)
        self.register_buffer("mask", context_mask(context_lengths, self.L_max))
        self.net = EnsembleMLP(len(context_lengths), 2 * self.L_max, hidden, layers, 1)

    def forward(self, ctx: torch.Tensor) -> torch.Tensor:
        return self.net(ctx * self.mask)[..., 0]
