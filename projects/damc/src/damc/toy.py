"""Pinwheel toy with a known generator (official toy_example/toy_example.py, made exact).

z ~ p(z), a 2-arm pinwheel; x = G(z) + σ ε with G a fixed random MLP 2 → 128 → 128 → 128 → 2
(ReLU, weights ~ N(0, 0.2²), biases ~ N(0, 0.1²)), σ = 0.25. Because G and p(z) are the true
model, the pooled posterior ∫ p(x) p(z|x) dx equals p(z): the MMD between one posterior sample per
fresh x and fresh prior samples measures the sampler alone (0 for an exact sampler).

The pinwheel is written as a Gaussian mixture along the two arms, so log p(z) is exact and the
posterior energy U(z; x) = ‖x − G(z)‖²/(2σ²) − log p(z) is what every sampler targets.
Samplers compared: DAMC (q_φ(z|x) initialisation + the same K Langevin steps it is trained with),
q_φ alone, short-run Langevin (K steps from N(0, I)), long-run Langevin (2000 steps from N(0, I)).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from damc.configs import ToyConfig
from damc.diffusion import DiffusionAmortizer, MLPEncoder, ema_copy, ema_update
from damc.langevin import langevin
from damc.loop import Hooks
from reprokit.torch_utils import Checkpointer


class PinwheelPrior:
    """2-arm pinwheel as a mixture of Gaussians with an exact log-density.

    Arm k, radial coordinate r_j = 1 + 0.3 q_j (q_j on a grid over ±2.5, weights ∝ N(q_j; 0, 1)),
    angle θ = 2πk/2 + 0.25 e^{r_j}; mean 2 R(θ)[r_j, 0], covariance 4 R diag(s_r², 0.1²) Rᵀ
    (the official sampler's radial_std 0.3, tangential_std 0.1, rate 0.25, scale 2).
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
                R = np.array([[math.cos(th), -math.sin(th)], [math.sin(th), math.cos(th)]])
                means.append(scale * R @ np.array([r, 0.0]))
                covs.append(scale**2 * R @ np.diag([s_r**2, tangential_std**2]) @ R.T)
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


class ToyGenerator(nn.Module):
    """The fixed random likelihood network G: 2 → 128 → 128 → 128 → 2 (ReLU)."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
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
            for m in self.net:
                if isinstance(m, nn.Linear):
                    m.weight.copy_(0.2 * torch.randn(m.weight.shape, generator=gen))
                    m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=gen))
        for p in self.parameters():
            p.requires_grad_(False)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class ToyModel:
    """The true joint p(z) N(x; G(z), σ² I) and its posterior energy."""

    def __init__(self, seed: int, sigma: float) -> None:
        self.prior, self.G, self.sigma = PinwheelPrior(), ToyGenerator(seed), sigma

    def sample_joint(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.prior.sample(n, generator)
        x = self.G(z) + self.sigma * torch.randn(n, 2, generator=generator)
        return z, x

    def posterior_energy(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """U(z; x) = ‖x − G(z)‖²/(2σ²) − log p(z) (B,)."""
        return (self.G(z) - x).pow(2).sum(1) / (2 * self.sigma**2) - self.prior.log_prob(z)

    def chain(self, z: torch.Tensor, x: torch.Tensor, n_steps: int, step: float) -> torch.Tensor:
        return langevin(z, lambda z_: self.posterior_energy(z_, x), n_steps, step, True)


def mmd2(a: torch.Tensor, b: torch.Tensor, bandwidths=(0.1, 0.3, 1.0, 3.0)) -> float:
    """Unbiased MMD² with a sum of RBF kernels k(u, v) = Σ_h exp(−‖u − v‖²/(2h²))."""

    def k(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        d2 = torch.cdist(u, v).pow(2)
        return sum(torch.exp(-d2 / (2 * h**2)) for h in bandwidths)

    n, m = len(a), len(b)
    kaa, kbb, kab = k(a, a), k(b, b), k(a, b)
    t_aa = (kaa.sum() - kaa.diagonal().sum()) / (n * (n - 1))
    t_bb = (kbb.sum() - kbb.diagonal().sum()) / (m * (m - 1))
    return float(t_aa + t_bb - 2 * kab.mean())


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
        _, x = model.sample_joint(tc.batch_size, gen)
        # q_0 = N(0, I) (paper Fig. 1 / Sec. 3): noise starts until q_φ has been fitted
        z0 = torch.randn(len(x), 2) if it < tc.warmup else Q_ema.sample(x)
        z_pos = model.chain(z0, x, tc.post_steps, tc.step_size)
        Q.train()
        for _ in range(tc.q_updates):
            opt.zero_grad(set_to_none=True)
            mask = (torch.rand(len(x), 1) >= tc.p_mask).float()
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


@torch.no_grad()
def _recon(model: ToyModel, z: torch.Tensor, x: torch.Tensor) -> float:
    """Per-x check (official "g_loss Q vs L"): mean ‖G(z) − x‖²; the pooled MMD alone cannot
    see a sampler that ignores x."""
    return float((model.G(z) - x).pow(2).sum(1).mean())


def evaluate_samplers(
    model: ToyModel, Q: DiffusionAmortizer, tc: ToyConfig, seed: int
) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """MMD² of pooled posterior samples (one per fresh x) vs fresh prior samples, the per-x
    reconstruction error, the fraction of samples on the arm that generated x, and cost.

    Cost per x: damc_q = T q_φ evaluations, damc = T q_φ evaluations + K Langevin steps,
    shortrun = K steps, shortrun_matched = K + T steps, longrun = ``longrun_steps``; the measured
    wall time of each sampler on the n_eval x's is returned too.
    """
    gen = torch.Generator().manual_seed(1_000_000 + seed)
    z_true, x = model.sample_joint(tc.n_eval, gen)
    z_ref = model.prior.sample(tc.n_eval, gen)
    z_ref2 = model.prior.sample(tc.n_eval, gen)
    noise = torch.randn(tc.n_eval, 2, generator=gen)
    K, T = tc.shortrun_steps, tc.diffusion_steps
    runs = {
        "damc_q": lambda: Q.sample(x),
        "damc": lambda: model.chain(Q.sample(x), x, K, tc.step_size),
        "shortrun": lambda: model.chain(noise, x, K, tc.step_size),
        "shortrun_matched": lambda: model.chain(noise, x, K + T, tc.step_size),
        "longrun": lambda: model.chain(noise, x, tc.longrun_steps, tc.step_size),
    }
    metrics: dict[str, float] = {"pooled_mmd/prior_floor": mmd2(z_ref2, z_ref)}
    metrics["recon/true"] = _recon(model, z_true, x)
    arm_true = model.prior.arm(z_true)  # which pinwheel arm generated each x
    samples: dict[str, np.ndarray] = {"prior": z_ref.numpy()}
    for name, run in runs.items():
        torch.manual_seed(seed)
        t0 = time.perf_counter()
        z = run()
        metrics[f"time_s/{name}"] = time.perf_counter() - t0
        metrics[f"pooled_mmd/{name}"] = mmd2(z, z_ref)
        metrics[f"recon/{name}"] = _recon(model, z, x)
        metrics[f"arm_agree/{name}"] = float((model.prior.arm(z) == arm_true).float().mean())
        samples[name] = z.numpy()
    return metrics, samples


def grid_posterior(
    model: ToyModel, x: torch.Tensor, lim: float = 5.5, n: int = 221
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Exact posterior on a grid: p(z|x) ∝ N(x; G(z), σ²I) p(z) = exp(−U(z; x)), normalised
    over the cells of [−lim, lim]² (spacing h); returns grid (M, 2), p (B, M) summing to 1, h."""
    g = torch.linspace(-lim, lim, n)
    grid = torch.stack(torch.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    with torch.no_grad():
        gz = model.G(grid)  # (M, 2)
        log_lik = -torch.cdist(x, gz).pow(2) / (2 * model.sigma**2)  # (B, M)
        post = torch.softmax(log_lik + model.prior.log_prob(grid)[None], dim=1)
    return grid, post, float(g[1] - g[0])


def _grid_samples(
    grid: torch.Tensor, post: torch.Tensor, h: float, m: int, gen: torch.Generator
) -> torch.Tensor:
    """m exact draws per x from the grid posterior (cell, then uniform within it): (B·m, 2)."""
    cells = torch.multinomial(post, m, replacement=True, generator=gen).reshape(-1)
    return grid[cells] + h * (torch.rand(len(cells), 2, generator=gen) - 0.5)


def per_x_arm_errors(
    model: ToyModel, Q: DiffusionAmortizer, tc: ToyConfig, seed: int
) -> dict[str, float]:
    """Per-x arm-weight error against the exact grid posterior, for ``tc.per_x_obs`` fixed
    observations: mean over x of |ŵ(x) − w(x)|, w(x) = P(arm 0 | x) on the grid, ŵ(x) the
    fraction of ``tc.per_x_samples`` samples per x on arm 0 (issue 18, item 1).

    ``exact`` (as many exact draws per x) is the sampling floor; ``prior`` ignores x (a
    deliberately wrong sampler the metric must fail). Own generators: training is untouched.
    """
    gen = torch.Generator().manual_seed(3_000_000 + seed)
    _, x_obs = model.sample_joint(tc.per_x_obs, gen)
    grid, post, h = grid_posterior(model, x_obs)
    w = post @ (model.prior.arm(grid) == 0).float()  # (B,) exact arm-0 mass
    m = tc.per_x_samples
    xs = x_obs.repeat_interleave(m, dim=0)  # (B·m, 2)
    noise = torch.randn(len(xs), 2, generator=gen)
    K = tc.shortrun_steps
    runs = {
        "exact": lambda: _grid_samples(grid, post, h, m, gen),
        "prior": lambda: model.prior.sample(len(xs), gen),
        "shortrun": lambda: model.chain(noise, xs, K, tc.step_size),
        "damc_q": lambda: Q.sample(xs),
        "damc": lambda: model.chain(Q.sample(xs), xs, K, tc.step_size),
        "longrun": lambda: model.chain(noise, xs, tc.longrun_steps, tc.step_size),
    }
    errors = {}
    for name, run in runs.items():
        torch.manual_seed(seed)
        z = run()
        w_hat = (model.prior.arm(z) == 0).float().view(len(x_obs), m).mean(dim=1)
        errors[name] = float((w_hat - w).abs().mean())
    return errors


def run_toy(tc: ToyConfig, seed: int, hooks: Hooks | None = None, ckpt: Checkpointer | None = None):
    """Train the amortizer on one seed's toy model and evaluate all samplers.

    Also tracks the DAMC pooled-posterior MMD² (q_φ init + K steps, 500 fixed x's) during
    training, so that a drift of the amortizer is visible. ``ckpt`` makes training resumable.
    """
    torch.manual_seed(seed)
    model = ToyModel(seed, tc.sigma)
    gen = torch.Generator().manual_seed(2_000_000 + seed)
    _, x_track = model.sample_joint(500, gen)
    z_track = model.prior.sample(500, gen)

    def track(Q: DiffusionAmortizer) -> float:
        z = model.chain(Q.sample(x_track), x_track, tc.shortrun_steps, tc.step_size)
        return mmd2(z, z_track)

    t0 = time.perf_counter()
    Q, losses, curve = train_toy_amortizer(model, tc, seed, hooks, track, ckpt)
    train_s = time.perf_counter() - t0
    metrics, samples = evaluate_samplers(model, Q, tc, seed)
    metrics["time_s/train"] = train_s
    metrics |= {f"arm_err/{k}": v for k, v in per_x_arm_errors(model, Q, tc, seed).items()}
    return metrics, samples, losses, curve
