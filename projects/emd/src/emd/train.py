"""Training loops: the teacher (DSM), EMD distillation in jitted ``lax.scan`` chunks, sampling.

Batches are sharded over ``jax.devices()`` (a 1-D ``data`` mesh; parameters replicated), so the
same code runs data-parallel on several accelerators or fake CPU devices.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from emd.checkpoints import Checkpoints
from emd.configs import DistillConfig, TeacherConfig
from emd.data import SampleFn
from emd.diffusion import ancestral_sample, dsm_loss
from emd.distill import DistillState, init_state, make_train_step
from emd.estep import DIAGNOSTICS
from emd.model import ApplyFn, Denoiser, Params, generate, init_params, make_apply
from emd.unet import UNet
from reprokit.errors import DivergenceError, UserError
from reprokit.jax_utils import replicate, save_pytree


def _plain(iterable: Iterable[int], **_: Any) -> Iterable[int]:
    return iterable


@dataclass
class Hooks:
    """What a lifecycle unit gives its training loop (defaults: none of it, for direct calls).

    Attributes:
        ckpt: the unit's checkpoints (resume from the newest; one written after every chunk).
        progress: ``Run.progress``-like ``(iterable, desc=, total=) -> iterable`` (the bar).
        boundary: ``Session.boundary``: stops cleanly after a chunk when SIGTERM/SIGINT came.
        name: the unit's name, for messages.
    """

    ckpt: Checkpoints | None = None
    progress: Callable[..., Iterable[int]] = _plain
    boundary: Callable[[str, Callable[[], Any] | None], None] = lambda where, save: None
    name: str = "training"

    def resume(self, tree: Any) -> tuple[int, Any, dict[str, Any]]:
        """``(steps done, tree, history)`` from the newest checkpoint, or ``(0, tree, {})``."""
        found = self.ckpt.latest(tree) if self.ckpt is not None else None
        if found is None:
            return 0, tree, {}
        print(f"   {self.name}: resuming from the checkpoint at step {found[0]}", flush=True)
        return found

    def end_of_chunk(self, done: int, tree: Any, meta: dict[str, Any]) -> None:
        """Checkpoint after ``done`` steps, then honour a pending stop request."""
        if self.ckpt is not None:
            self.ckpt.save(done, tree, meta)
        self.boundary(f"in unit {self.name} after step {done}", None)

    def check_finite(self, value: float, what: str, step: int) -> None:
        """A NaN/inf ``value`` stops the run with one line; the last good checkpoint stays."""
        if math.isfinite(value):
            return
        last = self.ckpt.last_step() if self.ckpt is not None else None
        kept = (
            f"the last good checkpoint (step {last}) in {self.ckpt.dir} is kept"
            if last is not None and self.ckpt is not None
            else "no checkpoint was written before it"
        )
        raise DivergenceError(
            f"{what} became {value} at step {step} of {self.name}; {kept} (lower the lr)"
        )


def make_shard(mesh: Mesh) -> Callable[[jax.Array], jax.Array]:
    """Constrain a batch array's leading axis to the ``data`` mesh axis (inside ``jit``).

    The batches are drawn inside the jitted step, so they are constrained there rather than
    placed with ``reprokit.jax_utils.shard_batch``.
    """
    sharding = NamedSharding(mesh, PartitionSpec("data"))
    if mesh.size == 1:
        return lambda x: x
    return lambda x: jax.lax.with_sharding_constraint(x, sharding)


def save_params(path: Path, tree: Any) -> None:
    """Atomic ``.npz`` checkpoint of a pytree (``reprokit.jax_utils.save_pytree``)."""
    save_pytree(path, jax.device_get(tree))


def build_net(tcfg: TeacherConfig, x_shape: tuple[int, ...]) -> nn.Module:
    """The shared architecture of ψ, φ and θ for examples of shape ``x_shape``."""
    if tcfg.arch == "mlp":
        if len(x_shape) != 1:
            raise UserError(f"teacher.arch=mlp needs flat data, got example shape {x_shape}")
        return Denoiser(x_shape[0], tcfg.hidden, tcfg.depth, tcfg.n_fourier)
    if len(x_shape) != 3:
        raise UserError(f"teacher.arch=unet needs (H, W, C) images, got example shape {x_shape}")
    res, levels = x_shape[0], len(tcfg.channel_mult)
    if res % 2 ** (levels - 1):
        raise UserError(
            f"image size {res} is not divisible by 2^{levels - 1} "
            f"(teacher.channel_mult has {levels} levels)"
        )
    return UNet(
        tcfg.channels, tcfg.channel_mult, tcfg.num_res_blocks, tcfg.attn_resolutions, tcfg.n_fourier
    )


def train_teacher(
    tcfg: TeacherConfig,
    net: nn.Module,
    sample_data: SampleFn,
    x_shape: tuple[int, ...],
    key: jax.Array,
    mesh: Mesh,
    hooks: Hooks | None = None,
    chunk: int = 500,
) -> tuple[Params, list[float]]:
    """Fit the teacher ψ by DSM (``diffusion.dsm_loss``) with Adam, learning rate decayed to 0 by
    a cosine over ``tcfg.steps``; returns ψ and the chunk losses.

    Step ``i`` draws its batch from ``fold_in(key, i)``, so a run resumed from a checkpoint
    (``hooks.ckpt``: ψ, Adam state, PRNG key, steps done) continues with the same numbers.
    """
    hooks = hooks or Hooks()
    apply = make_apply(net)
    shard = make_shard(mesh)
    chunk = min(chunk, tcfg.steps)
    k_init, k_train = jax.random.split(key)
    opt = optax.adam(optax.cosine_decay_schedule(tcfg.lr, tcfg.steps))
    params = init_params(net, k_init, (2, *x_shape))
    tree = {"params": params, "opt_state": opt.init(params), "key": k_train}
    start, tree, meta = hooks.resume(tree)
    params, opt_state = replicate(tree["params"], mesh), replicate(tree["opt_state"], mesh)
    k_train, losses = tree["key"], list(meta.get("losses", []))
    lam_range = (tcfg.lambda_min, tcfg.lambda_max)

    def step(carry, i):
        params, opt_state = carry
        k_x, k_dsm = jax.random.split(jax.random.fold_in(k_train, i))
        x0 = shard(sample_data(k_x, tcfg.batch))
        loss, grads = jax.value_and_grad(dsm_loss, argnums=1)(apply, params, x0, k_dsm, *lam_range)
        updates, opt_state = opt.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), loss

    @jax.jit
    def run_chunk(params, opt_state, start):
        (params, opt_state), losses = jax.lax.scan(
            step, (params, opt_state), start + jnp.arange(chunk)
        )
        return params, opt_state, jnp.mean(losses)

    starts = range(start, tcfg.steps, chunk)
    for start in hooks.progress(starts, desc=hooks.name, total=len(starts)):
        # The last chunk may overshoot tcfg.steps by < chunk steps; rounded up to keep one jit.
        params, opt_state, loss = run_chunk(params, opt_state, start)
        losses.append(float(loss))
        hooks.check_finite(losses[-1], "teacher DSM loss", start + chunk)
        tree = {"params": params, "opt_state": opt_state, "key": k_train}
        hooks.end_of_chunk(start + chunk, tree, {"losses": losses})
    return params, losses


def make_teacher_sampler(
    apply: ApplyFn, tcfg: TeacherConfig, n: int, x_shape: tuple[int, ...], nfe: int | None = None
) -> Callable[[Params, jax.Array], jax.Array]:
    """Jitted ``(ψ, key) -> n`` samples of the teacher's ancestral sampler with ``nfe`` network
    evaluations (default ``tcfg.sample_steps``); one compilation serves every key."""
    steps = nfe or tcfg.sample_steps

    def sample(psi: Params, key: jax.Array) -> jax.Array:
        shape = (n, *x_shape)
        return ancestral_sample(apply, psi, key, shape, steps, tcfg.lambda_min, tcfg.lambda_max)

    return jax.jit(sample)


def make_generator_sampler(
    apply: ApplyFn, lambda_star: float, x_shape: tuple[int, ...]
) -> Callable[[Params, jax.Array, int], jax.Array]:
    """Jitted one-step sampler ``(θ, key, n) -> g_θ(z)``, ``z ~ N(0, I)`` (1 NFE)."""

    def sample(theta: Params, key: jax.Array, n: int) -> jax.Array:
        return generate(apply, theta, jax.random.normal(key, (n, *x_shape)), lambda_star)

    return jax.jit(sample, static_argnums=2)


_CHUNK_FNS: dict[tuple, Callable] = {}


def _chunk_fn(
    dcfg: DistillConfig,
    apply: ApplyFn,
    x_shape: tuple[int, ...],
    lam_range: tuple[float, float],
    mesh: Mesh,
    chunk: int,
) -> Callable:
    """Jitted ``(state, key, ψ) -> (state, logs)`` running ``chunk`` EMD iterations in
    ``lax.scan``; cached so that seeds of the same configuration share one compilation."""
    cache_key = (repr(dcfg), id(apply), x_shape, lam_range, tuple(mesh.devices.flat), chunk)
    if cache_key not in _CHUNK_FNS:
        step_fn = make_train_step(apply, dcfg, x_shape, lam_range, make_shard(mesh))

        @jax.jit
        def run_chunk(state: DistillState, key: jax.Array, psi: Params):
            return jax.lax.scan(lambda s, _: step_fn(s, key, psi), state, None, length=chunk)

        _CHUNK_FNS[cache_key] = run_chunk
    return _CHUNK_FNS[cache_key]


def distill(
    dcfg: DistillConfig,
    apply: ApplyFn,
    psi: Params,
    x_shape: tuple[int, ...],
    lam_range: tuple[float, float],
    key: jax.Array,
    mesh: Mesh,
    chunk: int,
    evaluate: Callable[[DistillState, int], dict[str, float]],
    hooks: Hooks | None = None,
) -> tuple[DistillState, dict[str, Any]]:
    """Run ``dcfg.steps`` EMD iterations in jitted chunks of ``chunk`` steps.

    After each chunk ``evaluate(state, step)`` is called (θ and φ of that step) and a
    checkpoint written (``hooks.ckpt``: θ, φ, both Adam states, the step, the PRNG key and the
    history), from which a rerun resumes. Returns the final state and a history with per-step
    ``grad_norm``, the per-chunk means of the E-step diagnostics
    (``estep.chain_diagnostics``), the per-chunk evaluations and the training speed.
    """
    hooks = hooks or Hooks()
    tree = {
        "state": init_state(dcfg, psi),
        "key": key,
        "grad_norm": np.zeros(dcfg.steps, np.float32),
    }
    n_done, tree, meta = hooks.resume(tree)
    state, key, grad_norm = replicate(tree["state"], mesh), tree["key"], tree["grad_norm"]
    hist = meta.get("hist") or {"steps": [0], "evals": [evaluate(state, 0)], "chunk_s": []}
    run_chunk = _chunk_fn(dcfg, apply, x_shape, lam_range, mesh, chunk)
    starts = range(n_done, dcfg.steps, chunk)
    for start in hooks.progress(starts, desc=hooks.name, total=len(starts)):
        t1 = time.perf_counter()
        state, logs = run_chunk(state, key, psi)
        gn = np.asarray(logs["grad_norm"])
        hist["chunk_s"].append(time.perf_counter() - t1)
        n_done = start + chunk
        hooks.check_finite(float(gn.sum()), "generator gradient norm", n_done)
        grad_norm[start:n_done] = gn
        hist["steps"].append(n_done)
        for name in (n for n in DIAGNOSTICS if n in logs):
            hist.setdefault(name, []).append(float(np.mean(logs[name])))
        hist["evals"].append(evaluate(state, n_done))
        tree = {"state": state, "key": key, "grad_norm": grad_norm}
        hooks.end_of_chunk(n_done, tree, {"hist": hist})
    chunk_s = hist["chunk_s"]
    # steps/s without the first chunk (it includes compilation) when there are several chunks
    speed = chunk / float(np.median(chunk_s[1:] if len(chunk_s) > 1 else chunk_s))
    return state, {**hist, "grad_norm": grad_norm, "steps_per_s": speed}
