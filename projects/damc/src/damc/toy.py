"""Pinwheel toy with a known generator (official toy_example/toy_example.py, with an exact answer).

Data: z ~ p_data(z), a 2-arm pinwheel; x = G(z) + σ ε. Every sampler targets the posterior of
the model the official sampler uses, p(z|x) ∝ N(x; G(z), σ²I) p(z) with p(z) = N(0, I)
(``target_prior="gaussian"``, the code's prior) or the pinwheel itself (``"pinwheel"``). Being
2-D, p(z|x) is computed exactly on a grid (``grid_posterior``), so every sampler is scored per
observation against the exact answer (``per_x_metrics``), and jointly over fresh (x, z) pairs
(``joint_metrics``).

G is the official fixed random MLP 2 → 128 → 128 → 128 → 2 (ReLU, weights ~ N(0, 0.2²), biases
~ N(0, 0.1²)) or, by default here, the residual map z + c·MLP(z) with c set so that the MLP's
largest Jacobian norm on [−4, 4]² is ``g_lipschitz`` < 1: then G is invertible and p(z|x) has
one mode that Langevin can reach (the random MLP folds the plane: its posteriors have modes that
no chain of any length connects, see the README's pilot).

Samplers compared (cost per x in sequential network evaluations): DAMC (T q_φ steps + the K
Langevin steps it is trained with), q_φ alone (T), short-run Langevin from N(0, I) with K steps
and with K + T steps (the equal budget), long-run Langevin (``longrun_steps``), exact grid
samples (the sampling floor) and draws from the target prior that ignore x (a sampler every
per-x metric must fail).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import numpy as np
import torch
from torch import nn

from damc.configs import ToyConfig
from damc.damc import context_mask
from damc.diffusion import DiffusionAmortizer, MLPEncoder, ema_copy, ema_update
from damc.langevin import langevin
from damc.loop import Hooks
from reprokit.torch_utils import Checkpointer


class PinwheelPrior:
    """2-arm pinwheel as a mixture of Gaussians with an exact log-density.

    Arm k, radial coordinate r_j = 1 + 0.3 q_j (q_j on a grid over ±2.5, weights ∝ N(q_j; 0, 1)),
    angle θ = 2πk/2 + 0.25 e^{r_j}; mean 2 R(θ)ᵀ[r_j, 0], covariance 4 R(θ)ᵀ diag(s_r², 0.1²)
    R(θ) (the official sampler's radial_std 0.3, tangential_std 0.1, rate 0.25, scale 2, and its
    row-vector rotation features · R(θ), i.e. a turn by −θ).
    """

    def __init__(self, n_arms: int = 2, n_comp: int = 16) -> None:
        radial_std, tangential_std, rate, scale = 0.3, 0.1, 0.25, 2.0
        q = np.linspace(-2.5, 2.5, n_comp)
        s_r = 0.6 * radial_std * (q[1] - q[0])
        means, covs, logw = [], [], []
        for k in range(n_arms):
            for qj in q:
                r = 1.0 + radial_std * qj
                th = 2 * math.pi * k / n_arms + rate * math.exp(r)
                Rt = np.array([[math.cos(th), math.sin(th)], [-math.sin(th), math.cos(th)]])
                means.append(scale * Rt @ np.array([r, 0.0]))
                covs.append(scale**2 * Rt @ np.diag([s_r**2, tangential_std**2]) @ Rt.T)
                logw.append(-0.5 * qj**2)
        logw = np.asarray(logw) - np.log(np.exp(logw).sum())
        self.means = torch.tensor(np.stack(means), dtype=torch.float32)  # (M, 2)
        self.covs = torch.tensor(np.stack(covs), dtype=torch.float32)  # (M, 2, 2)
        self.logw = torch.tensor(logw, dtype=torch.float32)  # (M,)
        self.n_arms = n_arms
        self.prec = torch.linalg.inv(self.covs)
        self.chol = torch.linalg.cholesky(self.covs)
        self.logdet = torch.logdet(self.covs)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log p(z), z: (B, 2) -> (B,)."""
        d = z[:, None, :] - self.means[None]  # (B, M, 2)
        maha = torch.einsum("bmi,mij,bmj->bm", d, self.prec, d)
        logn = -0.5 * (maha + self.logdet[None] + 2 * math.log(2 * math.pi))
        return torch.logsumexp(self.logw[None] + logn, dim=1)

    def arm(self, z: torch.Tensor) -> torch.Tensor:
        """Index of the arm whose components carry most of the responsibility for z: (B,)."""
        d = z[:, None, :] - self.means[None]
        maha = torch.einsum("bmi,mij,bmj->bm", d, self.prec, d)
        resp = self.logw[None] - 0.5 * (maha + self.logdet[None])  # (B, M)
        return resp.view(len(z), self.n_arms, -1).logsumexp(dim=2).argmax(dim=1)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n exact draws: (n, 2)."""
        comp = torch.multinomial(self.logw.exp(), n, replacement=True, generator=generator)
        eps = torch.randn(n, 2, generator=generator)
        return self.means[comp] + torch.einsum("nij,nj->ni", self.chol[comp], eps)


def gaussian_log_prob(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I) for 2-D z: (B, 2) -> (B,)."""
    return -0.5 * z.pow(2).sum(1) - math.log(2 * math.pi)


def random_mlp(seed: int) -> nn.Sequential:
    """The official fixed random likelihood network 2 → 128 → 128 → 128 → 2 (ReLU), frozen."""
    net = nn.Sequential(
        nn.Linear(2, 128),
        nn.ReLU(),
        nn.Linear(128, 128),
        nn.ReLU(),
        nn.Linear(128, 128),
        nn.ReLU(),
        nn.Linear(128, 2),
    )
    gen = torch.Generator().manual_seed(10_000 + seed)
    with torch.no_grad():
        for m in net:
            if isinstance(m, nn.Linear):
                m.weight.copy_(0.2 * torch.randn(m.weight.shape, generator=gen))
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=gen))
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def max_jacobian_norm(f: Callable[[torch.Tensor], torch.Tensor], lim: float = 4.0) -> float:
    """max over a 41² grid of [−lim, lim]² of the spectral norm of f's 2×2 Jacobian."""
    g = torch.linspace(-lim, lim, 41)
    grid = torch.stack(torch.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    jac = torch.func.vmap(torch.func.jacrev(f))(grid)  # (M, 2, 2)
    return float(torch.linalg.matrix_norm(jac, ord=2).max())


class ToyGenerator(nn.Module):
    """G(z) = MLP(z) (official, ``lipschitz=None``) or z + c·MLP(z) with c·max‖∂MLP‖ = lipschitz
    (< 1: invertible, each x has one preimage)."""

    def __init__(self, seed: int, lipschitz: float | None = None) -> None:
        super().__init__()
        self.net = random_mlp(seed)
        self.scale = None if lipschitz is None else lipschitz / max_jacobian_norm(self.net)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z) if self.scale is None else z + self.scale * self.net(z)


class ToyModel:
    """Data z ~ pinwheel, x = G(z) + σε; the samplers' target p(z|x) ∝ N(x; G(z), σ²I) p(z)."""

    def __init__(self, seed: int, tc: ToyConfig) -> None:
        self.prior, self.sigma = PinwheelPrior(), tc.sigma
        self.G = ToyGenerator(seed, tc.g_lipschitz if tc.generator == "residual" else None)
        self.target_prior = tc.target_prior

    def log_prior(self, z: torch.Tensor) -> torch.Tensor:
        """log p(z) of the samplers' target: N(0, I) (official code) or the pinwheel."""
        return gaussian_log_prob(z) if self.target_prior == "gaussian" else self.prior.log_prob(z)

    def sample_prior(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """n draws of the target prior p(z): the sampler that ignores x."""
        if self.target_prior == "gaussian":
            return torch.randn(n, 2, generator=generator)
        return self.prior.sample(n, generator)

    def sample_data(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """(z, x) with z from the pinwheel and x = G(z) + σε (the official toy's data)."""
        z = self.prior.sample(n, generator)
        x = self.G(z) + self.sigma * torch.randn(n, 2, generator=generator)
        return z, x

    def posterior_energy(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """U(z; x) = ‖x − G(z)‖²/(2σ²) − log p(z) (B,)."""
        return (self.G(z) - x).pow(2).sum(1) / (2 * self.sigma**2) - self.log_prior(z)

    def chain(self, z: torch.Tensor, x: torch.Tensor, n_steps: int, step: float) -> torch.Tensor:
        return langevin(z, lambda z_: self.posterior_energy(z_, x), n_steps, step, True)


def mmd2_batched(a: torch.Tensor, b: torch.Tensor, bandwidths=(0.1, 0.3, 1.0, 3.0)) -> torch.Tensor:
    """Unbiased MMD² per batch entry, kernel k(u, v) = Σ_h exp(−‖u − v‖²/(2h²)):
    a (B, n, d), b (B, m, d) -> (B,)."""

    def k(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        d2 = torch.cdist(u, v).pow(2)
        return sum(torch.exp(-d2 / (2 * h**2)) for h in bandwidths)

    n, m = a.shape[1], b.shape[1]
    kaa, kbb = k(a, a), k(b, b)
    t_aa = (kaa.sum((1, 2)) - kaa.diagonal(dim1=1, dim2=2).sum(1)) / (n * (n - 1))
    t_bb = (kbb.sum((1, 2)) - kbb.diagonal(dim1=1, dim2=2).sum(1)) / (m * (m - 1))
    return t_aa + t_bb - 2 * k(a, b).mean((1, 2))


def mmd2(a: torch.Tensor, b: torch.Tensor) -> float:
    """Unbiased MMD² of two sample sets a (n, d), b (m, d)."""
    return float(mmd2_batched(a[None], b[None])[0])


def build_toy_amortizer(tc: ToyConfig) -> DiffusionAmortizer:
    """q_φ(z|x) for 2-D z and 2-D x (official _netQ_U_toy: an MLP x-encoder)."""
    return DiffusionAmortizer(
        MLPEncoder(2, tc.hidden, tc.hidden),
        nz=2,
        nxemb=tc.hidden,
        ntemb=tc.hidden,
        hidden=tc.hidden,
        n_steps=tc.diffusion_steps,
    )


def _toy_state(Q, Q_ema, opt, gen: torch.Generator, losses: list, curve: list) -> dict:
    from reprokit.torch_utils import capture_rng_state

    return {
        "models": {"Q": Q.state_dict(), "Q_ema": Q_ema.state_dict()},
        "optimizer": opt.state_dict(),
        "generator": gen.get_state(),
        "losses": list(losses),
        "curve": [list(c) for c in curve],
        "rng": capture_rng_state(),
    }


def _toy_restore(state: dict, Q, Q_ema, opt, gen: torch.Generator, path) -> int:
    """Load a toy checkpoint; one that does not fit is a one-line CheckpointError."""
    from reprokit.torch_utils import CheckpointError, restore_rng_state

    try:
        Q.load_state_dict(state["models"]["Q"])
        Q_ema.load_state_dict(state["models"]["Q_ema"])
        opt.load_state_dict(state["optimizer"])
        gen.set_state(state["generator"])
    except (RuntimeError, KeyError, ValueError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise CheckpointError(
            f"checkpoint {path} does not fit this toy model ({first[:160]}); rerun with --fresh"
        ) from None
    restore_rng_state(state["rng"])
    return int(state["step"])


def train_toy_amortizer(
    model: ToyModel,
    tc: ToyConfig,
    seed: int,
    hooks: Hooks | None = None,
    track: Callable[[DiffusionAmortizer], float] | None = None,
    ckpt: Checkpointer | None = None,
) -> tuple[DiffusionAmortizer, list[float], list[tuple[int, float]]]:
    """DAMC for the posterior only: z₀ = q_φ̄(z|x), z⁺ = K Langevin steps, q_φ ← fit z⁺ (×q_updates).

    Fresh (z, x) every iteration (the official script reuses one fixed z batch). During the first
    ``warmup`` iterations the chains start from q_0 = N(0, I) (0: the official untrained-q_φ start).
    ``track(Q)`` (every ``track_every`` iterations) gives the curve; ``ckpt`` resumes the loop.
    """
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    Q = build_toy_amortizer(tc)
    Q_ema = ema_copy(Q)
    opt = torch.optim.AdamW(
        Q.parameters(), lr=tc.q_lr, betas=(0.5, 0.999), weight_decay=tc.q_weight_decay
    )
    hooks, start, losses, curve = hooks or Hooks(), 0, [], []
    if ckpt is not None and (state := ckpt.latest()) is not None:
        start = _toy_restore(state, Q, Q_ema, opt, gen, ckpt.path(int(state["step"])))
        losses, curve = list(state["losses"]), [tuple(c) for c in state["curve"]]
    Q.eval()

    def save(done: int) -> None:
        if ckpt is not None:
            ckpt.save(done, _toy_state(Q, Q_ema, opt, gen, losses, curve))

    for it in hooks.steps(start, tc.iterations, f"toy seed {seed}"):
        _, x = model.sample_data(tc.batch_size, gen)
        # q_0 = N(0, I) (paper Fig. 1 / Sec. 3): noise starts until q_φ has been fitted
        z0 = torch.randn(len(x), 2) if it < tc.warmup else Q_ema.sample(x)
        z_pos = model.chain(z0, x, tc.post_steps, tc.step_size)
        Q.train()
        mask = context_mask(len(x), tc.p_mask, x.device)  # one mask per iteration (code)
        for _ in range(tc.q_updates):
            opt.zero_grad(set_to_none=True)
            loss = Q.loss(z_pos, x, mask).mean()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(Q.parameters(), 100.0)
            opt.step()
        Q.eval()
        if (it + 1) % tc.ema_every == 0:
            ema_update(Q_ema, Q, tc.ema_rho)
        if it + 1 == tc.warmup:
            Q_ema.load_state_dict(Q.state_dict())
        losses.append(float(loss.detach()))
        if hooks.log is not None:
            hooks.log(it, q_loss=losses[-1])
        if track is not None and ((it + 1) % tc.track_every == 0 or it + 1 == tc.iterations):
            curve.append((it + 1, track(Q)))
        if ckpt is not None and (ckpt.due(it + 1) or it + 1 == tc.iterations):
            save(it + 1)
        hooks.at_boundary(f"at toy seed {seed} iteration {it + 1}", lambda d=it + 1: save(d))
    return Q, losses, curve


def grid_posterior(
    model: ToyModel, x: torch.Tensor, lim: float = 5.5, n: int = 221
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Exact posterior on a grid: p(z|x) ∝ N(x; G(z), σ²I) p(z) = exp(−U(z; x)), normalised
    over the cells of [−lim, lim]² (spacing h); returns grid (M, 2), p (B, M) summing to 1, h."""
    g = torch.linspace(-lim, lim, n)
    grid = torch.stack(torch.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    with torch.no_grad():
        gz, log_prior = model.G(grid), model.log_prior(grid)  # (M, 2), (M,)
        post = torch.cat(
            [
                torch.softmax(-torch.cdist(xb, gz).pow(2) / (2 * model.sigma**2) + log_prior, 1)
                for xb in x.split(256)
            ]
        )  # (B, M)
    return grid, post, float(g[1] - g[0])


def grid_samples(
    grid: torch.Tensor, post: torch.Tensor, h: float, m: int, gen: torch.Generator
) -> torch.Tensor:
    """m exact draws per x from the grid posterior (cell, then uniform within it): (B·m, 2),
    the m draws of each x consecutive."""
    cells = torch.multinomial(post, m, replacement=True, generator=gen).reshape(-1)
    return grid[cells] + h * (torch.rand(len(cells), 2, generator=gen) - 0.5)


def samplers(
    model: ToyModel, Q: DiffusionAmortizer, tc: ToyConfig, x: torch.Tensor, gen: torch.Generator
) -> dict[str, Callable[[], torch.Tensor]]:
    """One z per row of x from each sampler (module docstring); chain noise from the global
    torch generator (callers fork it), starts and prior draws from ``gen``."""
    K, T, delta = tc.shortrun_steps, tc.diffusion_steps, tc.step_size
    noise = torch.randn(len(x), 2, generator=gen)
    return {
        "prior": lambda: model.sample_prior(len(x), gen),
        "shortrun": lambda: model.chain(noise, x, K, delta),
        "shortrun_matched": lambda: model.chain(noise, x, K + T, delta),
        "damc_q": lambda: Q.sample(x),
        "damc": lambda: model.chain(Q.sample(x), x, K, delta),
        "longrun": lambda: model.chain(noise, x, tc.longrun_steps, delta),
    }


def fixed_observations(model: ToyModel, n: int, seed: int) -> torch.Tensor:
    """The seed's fixed set of n observations x (own generator): (n, 2)."""
    return model.sample_data(n, torch.Generator().manual_seed(3_000_000 + seed))[1]


@torch.no_grad()
def arm0_mass(model: ToyModel, z: torch.Tensor, n_obs: int) -> torch.Tensor:
    """Fraction of each x's samples on pinwheel arm 0; z: (n_obs·m, 2) -> (n_obs,)."""
    return (model.prior.arm(z) == 0).float().view(n_obs, -1).mean(dim=1)


def per_x_metrics(
    model: ToyModel,
    Q: DiffusionAmortizer,
    tc: ToyConfig,
    seed: int,
    names: Sequence[str] | None = None,
) -> tuple[dict[str, float], dict[str, torch.Tensor]]:
    """Per-observation scores against the exact grid posterior (issue 18, item 1), for
    ``tc.per_x_obs`` fixed x with ``tc.per_x_samples`` samples each:

    * ``mmd_x/<s>``: mean over x of MMD²(samples of s for x, exact draws for x);
    * ``arm_err/<s>``: mean over x of |ŵ(x) − w(x)|, w(x) = exact mass on pinwheel arm 0.

    ``exact`` (an independent set of exact draws) is each metric's sampling floor; ``prior``
    ignores x. Own generators and a forked global RNG: calling this never changes training.
    Also returns each sampler's samples, (per_x_obs, per_x_samples, 2).
    """
    x_obs, m = fixed_observations(model, tc.per_x_obs, seed), tc.per_x_samples
    grid, post, h = grid_posterior(model, x_obs)
    w = post @ (model.prior.arm(grid) == 0).float()  # (B,) exact arm-0 mass
    gen = torch.Generator().manual_seed(4_000_000 + seed)
    ref = grid_samples(grid, post, h, m, gen)
    xs = x_obs.repeat_interleave(m, dim=0)  # (B·m, 2)
    runs = {"exact": lambda: grid_samples(grid, post, h, m, gen)}
    runs |= samplers(model, Q, tc, xs, gen)
    metrics, samples = {}, {}
    for name in names or runs:
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            z = runs[name]()
        z_obs = z.view(len(x_obs), m, 2)
        metrics[f"mmd_x/{name}"] = float(mmd2_batched(z_obs, ref.view(len(x_obs), m, 2)).mean())
        metrics[f"arm_err/{name}"] = float((arm0_mass(model, z, len(x_obs)) - w).abs().mean())
        samples[name] = z_obs
    return metrics, samples


def joint_metrics(
    model: ToyModel, Q: DiffusionAmortizer, tc: ToyConfig, seed: int
) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Two-sample tests over ``tc.n_eval`` fresh observations, one z per x, against exact pairs
    (x', z') with x' from the data and z' ~ p(z|x') on the grid (an independent set):

    * ``joint_mmd/<s>``: MMD² of the pairs (x, z) in R⁴: sees whether z belongs to its x;
    * ``pooled_mmd/<s>``: MMD² of the z alone (the pooled posterior), a necessary condition
      only (a sampler that ignores x can pass it when the pooled posterior is near the prior);
    * ``recon/<s>``: mean ‖G(z) − x‖² (the official "g_loss Q vs L" check);
    * ``time_s/<s>``: the sampler's wall time on the n_eval x's.
    ``exact`` (a second independent exact set) is the floor. Own generators, forked RNG.
    """
    gen = torch.Generator().manual_seed(1_000_000 + seed)

    def exact_pairs() -> tuple[torch.Tensor, torch.Tensor]:
        _, x_ = model.sample_data(tc.n_eval, gen)
        grid, post, h = grid_posterior(model, x_)
        return x_, grid_samples(grid, post, h, 1, gen)

    x_ref, z_ref = exact_pairs()
    x_ex, z_ex = exact_pairs()
    z_true, x = model.sample_data(tc.n_eval, gen)
    runs = samplers(model, Q, tc, x, gen)
    pairs = {"exact": (x_ex, lambda: z_ex)} | {k: (x, run) for k, run in runs.items()}
    metrics: dict[str, float] = {"recon/true": _recon(model, z_true, x)}
    samples: dict[str, np.ndarray] = {}
    for name, (xs, run) in pairs.items():
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            t0 = time.perf_counter()
            z = run()
            metrics[f"time_s/{name}"] = time.perf_counter() - t0
        metrics[f"joint_mmd/{name}"] = mmd2(torch.cat([xs, z], 1), torch.cat([x_ref, z_ref], 1))
        metrics[f"pooled_mmd/{name}"] = mmd2(z, z_ref)
        metrics[f"recon/{name}"] = _recon(model, z, xs)
        samples[name] = z.numpy()
    return metrics, samples


@torch.no_grad()
def _recon(model: ToyModel, z: torch.Tensor, x: torch.Tensor) -> float:
    """Mean ‖G(z) − x‖² over the pairs."""
    return float((model.G(z) - x).pow(2).sum(1).mean())


def run_toy(tc: ToyConfig, seed: int, hooks: Hooks | None = None, ckpt: Checkpointer | None = None):
    """Train the amortizer on one seed's toy model and score every sampler.

    Tracks DAMC's per-x MMD² on ``track_obs`` of the fixed observations during training (own
    generators, forked RNG: tracking never changes the training run). Returns the metrics, the
    per-x samples of the first ``figure_obs`` observations (with their exact grid posteriors)
    for the figure, the loss curve and the tracking curve.
    """
    torch.manual_seed(seed)
    model = ToyModel(seed, tc)
    track_cfg = replace(tc, per_x_obs=tc.track_obs)

    def track(Q: DiffusionAmortizer) -> float:
        return per_x_metrics(model, Q, track_cfg, seed, names=("damc",))[0]["mmd_x/damc"]

    t0 = time.perf_counter()
    Q, losses, curve = train_toy_amortizer(model, tc, seed, hooks, track, ckpt)
    train_s = time.perf_counter() - t0
    metrics, _ = joint_metrics(model, Q, tc, seed)
    per_x, per_x_samples = per_x_metrics(model, Q, tc, seed)
    metrics |= per_x | {"time_s/train": train_s}
    for name in ("mmd_x", "arm_err"):
        for s in ("longrun", "damc", "damc_q", "shortrun", "shortrun_matched"):
            metrics[f"{name}_excess/{s}"] = metrics[f"{name}/{s}"] - metrics[f"{name}/exact"]
    return metrics, _figure_material(model, tc, seed, per_x_samples), losses, curve


def _figure_material(
    model: ToyModel, tc: ToyConfig, seed: int, per_x_samples: Mapping[str, torch.Tensor]
) -> dict[str, np.ndarray]:
    """The first ``figure_obs`` fixed x: their exact grid posteriors (n, 221, 221) and samples."""
    k = min(tc.figure_obs, tc.per_x_obs)
    x = fixed_observations(model, tc.per_x_obs, seed)[:k]
    _, post, _ = grid_posterior(model, x)
    out = {"exact_density": post.view(k, 221, 221).numpy(), "x": x.numpy()}
    out |= {f"z_{s}": per_x_samples[s][:k].numpy() for s in ("longrun", "damc", "shortrun_matched")}
    return out
