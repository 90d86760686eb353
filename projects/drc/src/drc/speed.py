"""Where a DRC iteration spends its time, and what cheap speed-ups buy (issue 14, item 7).

`python -m drc.speed [--profile cpu] [--reps 12] [--compile]` times one training iteration of the
profile's config, split into the posterior Langevin (K1 steps), the prior Langevin (K0 steps) and
the generator + EBM updates; then the posterior Langevin alone under three candidate speed-ups,
each as a speed ratio against the default code with its numerical difference:
  channels-last  model and images in `torch.channels_last` memory format;
  matmul-up      bilinear x2 upsampling as two fixed matrix products (the same linear map);
  compile        `torch.compile` of the posterior energy (with --compile; it compiles first).
Times are the minimum over `reps` interleaved repeats of CPU time (`time.process_time`), so that
other jobs on a shared machine distort them less than wall time would.
"""

from __future__ import annotations

import argparse
import copy
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from drc.configs import PROFILES
from drc.data import load_data
from drc.langevin import frozen, langevin_step, posterior_energy, sample_posterior, sample_prior
from drc.model import DRC
from drc.train import Nets, PersistentChains, build, build_optimizers, em_iteration
from torch import nn


class MatmulUpsample(nn.Module):
    """Bilinear x2 upsampling (align_corners=False) as A x A^T with a fixed (2n, n) matrix A."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[-1]
        eye = torch.eye(n, dtype=x.dtype, device=x.device)[None]
        A = F.interpolate(eye, scale_factor=2, mode="linear", align_corners=False)[0].T
        return A @ x @ A.T


def with_matmul_upsampling(model: DRC) -> DRC:
    """A copy of model whose decoders upsample by matrix products."""
    model = copy.deepcopy(model)
    for seq in model.modules():
        if isinstance(seq, nn.Sequential):
            for i, layer in enumerate(seq):
                if isinstance(layer, nn.Upsample):
                    seq[i] = MatmulUpsample()
    return model


def min_cpu_time(fns: dict[str, Callable[[], object]], reps: int) -> dict[str, float]:
    """Minimum CPU seconds of each function over `reps` interleaved calls (after one warm-up)."""
    best = {}
    for name, f in fns.items():
        f()
        best[name] = float("inf")
    for _ in range(reps):
        for name, f in fns.items():
            t = time.process_time()
            f()
            best[name] = min(best[name], time.process_time() - t)
    return best


def posterior_chain(energy: Callable, x: torch.Tensor, z: torch.Tensor, K: int, delta: float):
    """K noise-free posterior Langevin steps with the given energy (for the compiled variant)."""
    for _ in range(K):
        z = z.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(energy(z, x).sum(), z)
        z = langevin_step(z, g, delta, noise=False)
    return z.detach()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="drc.speed", description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="cpu", choices=["smoke", "pilot", "cpu", "cpu-long"])
    ap.add_argument("--reps", type=int, default=12)
    ap.add_argument("--compile", action="store_true", help="also measure torch.compile")
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    cfg = PROFILES[args.profile]()
    data = load_data(cfg)
    model, ebm = build(cfg, torch.device("cpu"))
    opt_G, opt_E = build_optimizers(cfg, model, ebm)
    chains = PersistentChains(len(data["x_train"]), model.z_dim, torch.Generator().manual_seed(0))
    B, lc, tv, sigma = cfg.train.batch_size, cfg.langevin, cfg.loss.tv, cfg.langevin.sigma
    idx = torch.arange(min(B, len(data["x_train"])))
    x, z = torch.from_numpy(data["x_train"])[idx], chains.post[idx].clone()
    nets = Nets(model, ebm, model, ebm, opt_G, opt_E)
    parts = min_cpu_time(
        {
            "iteration": lambda: em_iteration(cfg, nets, chains, x, idx, 0, None),
            "posterior": lambda: sample_posterior(
                model, ebm, x, z, lc.K1, lc.delta_1, lc.sigma, tv
            ),
            "prior": lambda: sample_prior(ebm, chains.prior[idx], lc.K0, lc.delta_0),
        },
        args.reps,
    )
    it = parts["iteration"]
    print(f"profile {args.profile}: batch {len(idx)}, K1 {lc.K1}, K0 {lc.K0}, CPU time per call")
    print(f"  one iteration        {1e3 * it:7.1f} ms")
    for name in ("posterior", "prior"):
        print(f"  {name:<8} Langevin    {1e3 * parts[name]:7.1f} ms ({parts[name] / it:.0%})")
    rest = it - parts["posterior"] - parts["prior"]
    print(f"  generator + EBM step {1e3 * rest:7.1f} ms ({rest / it:.0%})")

    def energy_of(m: DRC) -> Callable:
        return lambda zz, xx: posterior_energy(m, ebm, zz, xx, sigma, tv)

    cl_model = copy.deepcopy(model).to(memory_format=torch.channels_last)
    mm_model = with_matmul_upsampling(model)
    x_cl = x.contiguous(memory_format=torch.channels_last)
    variants = {
        "default": (energy_of(model), x),
        "channels-last": (energy_of(cl_model), x_cl),
        "matmul-up": (energy_of(mm_model), x),
    }
    if args.compile:
        t = time.perf_counter()
        compiled = torch.compile(energy_of(model), dynamic=False)
        with frozen(model, ebm):
            posterior_chain(compiled, x, z, 1, lc.delta_1)
        print(f"  torch.compile: first call (compilation) {time.perf_counter() - t:.0f} s wall")
        variants["compile"] = (compiled, x)
    with frozen(model, cl_model, mm_model, ebm):
        runs = {
            k: (lambda e=e, xx=xx: posterior_chain(e, xx, z, lc.K1, lc.delta_1))
            for k, (e, xx) in variants.items()
        }
        times = min_cpu_time(runs, args.reps)
        ref = runs["default"]()
        print(f"posterior Langevin ({lc.K1} noise-free steps), speed-up vs default, max |dz|:")
        for name, f in runs.items():
            dz = (f() - ref).abs().max().item()
            print(f"  {name:<14} {times['default'] / times[name]:5.2f}x   {dz:.2e}")


if __name__ == "__main__":
    main()
