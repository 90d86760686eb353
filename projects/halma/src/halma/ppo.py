"""PPO (Schulman et al. 2017) with a recurrent policy on the batched env, CleanRL-style.

Training boards are ``iid`` boards from a seed stream the evaluation never uses; a finished
episode is replaced by a fresh random training board and its GRU state reset. Rewards in
training add the potential-based shaping ``shaping * (Phi(s') - Phi(s))`` with
``Phi = -oracle distance`` (Ng et al. 1999; the design-risk note: without it untuned PPO does not
learn). The held-out concepts are never selectable in training (``mask_held_out``): their
actions get logit -1e9, and the potential is the oracle distance without them. Every image agent
has its digit reader pretrained on the training renderings and frozen before PPO starts
(``perception.pretrain``). The agents without sharing (``symbolic``, ``slot_gru``) use their own
learning rate and entropy bonus (``for_agent``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from reprokit.cache import cached_npz
from reprokit.config import param, to_dict
from reprokit.lifecycle import Session
from reprokit.seeding import seed_everything
from reprokit.torch_utils import Checkpointer, capture_rng_state, check_finite

from . import batched
from .agents import UNSHARED_AGENTS, AgentName, make_agent
from .oracle import distance_map
from .panel import DigitPool
from .perception import pretrain, pretrain_panels
from .rules import ActionTable, Rules, action_table
from .splits import Layout, generate, held_out_concepts

TRAIN_SEED_OFFSET = 10_000  # training boards use seeds 10000 + seed; evaluation uses seed


@dataclass
class PPO:
    total_steps: int = param(150_000, "env steps per agent and seed", ge=1)
    n_envs: int = param(128, "boards stepped in parallel", ge=2)
    rollout: int = param(8, "steps per env between updates", ge=1)
    epochs: int = param(2, "optimisation passes per rollout", ge=1)
    minibatches: int = param(4, "minibatches per pass (split over envs)", ge=1)
    lr: float = param(1e-3, "Adam learning rate", gt=0)
    gamma: float = param(0.99, "discount", gt=0, le=1)
    gae_lambda: float = param(0.95, "GAE lambda", ge=0, le=1)
    clip_coef: float = param(0.2, "policy ratio clip", gt=0)
    ent_coef: float = param(0.01, "entropy bonus", ge=0)
    unshared_lr: float = param(3e-3, "learning rate of the agents without sharing", gt=0)
    unshared_ent_coef: float = param(0.003, "entropy bonus of the agents without sharing", ge=0)
    vf_coef: float = param(0.5, "value loss weight", ge=0)
    max_grad_norm: float = param(0.5, "gradient norm clip", gt=0)
    shaping: float = param(1.0, "training reward shaping coefficient (0 = off)", ge=0)
    n_train_boards: int = param(300, "distinct training boards", ge=1)
    width: int = param(64, "encoder width", ge=1)
    hidden: int = param(64, "GRU size", ge=1)
    checkpoint_every: int = param(20, "updates between checkpoints", ge=1)
    mask_held_out: bool = param(True, "held-out concepts' actions are never selected in training")


@dataclass(frozen=True)
class TrainingBoards:
    boards: dict
    potential: np.ndarray  # (n, H, W)

    def episodes(self, rng: np.random.Generator, n: int, rules: Rules) -> batched.State:
        i = rng.integers(0, len(self.potential), n)
        b = self.boards
        instance = rng.integers(0, 1 << 30, (n, 10))
        return batched.reset(
            b["pawns"][i],
            b["start"][i],
            b["goal"][i],
            instance,
            rules,
            self.potential[i],
            b["trial_limit"][i],
        )


def for_agent(ppo: PPO, name: AgentName) -> PPO:
    """The agents without sharing (``UNSHARED_AGENTS``: the flat MLP and ``slot_gru``) train
    with their own learning rate and entropy bonus, chosen by a one-seed sweep on the training
    boards (README, "Pilot and design"); every other agent with the defaults."""
    if name not in UNSHARED_AGENTS:
        return ppo
    return replace(ppo, lr=ppo.unshared_lr, ent_coef=ppo.unshared_ent_coef)


def training_boards(ppo: PPO, seed: int, rules: Rules, layout: Layout) -> TrainingBoards:
    b = generate("iid", ppo.n_train_boards, TRAIN_SEED_OFFSET + seed, rules, layout)
    values = action_table(rules).values()
    held = held_out_concepts(layout) if ppo.mask_held_out else frozenset()
    params = {
        "boards": {"n": ppo.n_train_boards, "seed": TRAIN_SEED_OFFSET + seed},
        "rules": to_dict(rules),
        "layout": to_dict(layout),
        "excluded": sorted(held),
    }

    def build() -> dict[str, np.ndarray]:
        pot = [potential(p, tuple(g), values, held) for p, g in zip(b["pawns"], b["goal"])]
        return {"potential": np.stack(pot)}

    return TrainingBoards(b, cached_npz("halma-potential", 1, params, build)["potential"])


def potential(pawns: np.ndarray, goal: tuple[int, int], values: list[int], held) -> np.ndarray:
    """Phi = -(oracle steps to the goal); a cell with no path gets one step more than the
    farthest cell that has one (a bounded penalty instead of an arbitrary large one)."""
    dist = distance_map(pawns, goal, values, excluded=held).astype(float)
    dist[dist < 0] = dist.max() + 1
    return -dist


def held_out_actions(table: ActionTable, layout: Layout) -> torch.Tensor:
    """(A,) bool: the actions that perform a held-out concept (a jump of 2k in direction d)."""
    held = held_out_concepts(layout)
    return torch.tensor(
        [(int(v) // 2, int(d)) in held and v % 2 == 0 for d, v in zip(table.direction, table.value)]
    )


def observation(state: batched.State, pool: DigitPool | None, rules: Rules) -> torch.Tensor:
    """What an agent reads: panel images, or the visible symbols when ``pool`` is None."""
    return torch.from_numpy(batched.observe(state, pool, rules))


def merge(mask: np.ndarray, new: batched.State, old: batched.State) -> batched.State:
    """Per board: ``new`` where ``mask`` else ``old``."""
    fields = {
        k: np.where(mask.reshape(-1, *[1] * (v.ndim - 1)), v, getattr(old, k))
        for k, v in vars(new).items()
    }
    return batched.State(**fields)


def gae(rewards, values, dones, last_value, gamma: float, lam: float) -> torch.Tensor:
    """Advantages (T, B); ``dones[t]`` marks that the episode ended at step t."""
    adv, running = torch.zeros_like(rewards), torch.zeros_like(last_value)
    for t in reversed(range(len(rewards))):
        next_value = last_value if t == len(rewards) - 1 else values[t + 1]
        keep = 1.0 - dones[t]
        delta = rewards[t] + gamma * next_value * keep - values[t]
        running = delta + gamma * lam * keep * running
        adv[t] = running
    return adv


def ppo_loss(
    agent: nn.Module, batch: dict, ppo: PPO, blocked: torch.Tensor
) -> tuple[torch.Tensor, dict[str, float]]:
    """Clipped surrogate + value + entropy over the stored sequences of some envs (T, b);
    ``blocked`` (A,) bool actions are never selectable."""
    h, logits, values = batch["h0"], [], []
    for t in range(len(batch["obs"])):
        lg, v, h = agent(batch["obs"][t], h, batch["start"][t])
        logits.append(lg.masked_fill(blocked, -1e9))
        values.append(v)
    dist = torch.distributions.Categorical(logits=torch.stack(logits))
    logp, value = dist.log_prob(batch["actions"]), torch.stack(values)
    ratio = (logp - batch["logp"]).exp()
    adv = batch["adv"]
    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    pg = torch.max(-adv * ratio, -adv * ratio.clamp(1 - ppo.clip_coef, 1 + ppo.clip_coef)).mean()
    vf = 0.5 * ((value - batch["returns"]) ** 2).mean()
    ent = dist.entropy().mean()
    loss = pg + ppo.vf_coef * vf - ppo.ent_coef * ent
    return loss, {"pg": pg.item(), "vf": vf.item(), "entropy": ent.item()}


def train(
    name: AgentName,
    ppo: PPO,
    rules: Rules,
    layout: Layout,
    pool: DigitPool | None,
    seed: int,
    folder: Path,
    session: Session | None = None,
) -> tuple[nn.Module, list[dict]]:
    """Train one agent (``pool`` None: a symbolic agent); resumes from ``folder/checkpoints``.
    Returns it and per-update stats."""
    rng, ppo = seed_everything(seed, torch=True), for_agent(ppo, name)
    table, train_rules = action_table(rules), replace(rules, shaping=ppo.shaping)
    source = training_boards(ppo, seed, rules, layout)
    blocked = held_out_actions(table, layout) & ppo.mask_held_out
    agent = make_agent(name, 8 if pool is None else pool.size, table.n, ppo.width, ppo.hidden)
    if getattr(agent, "reader", None) is not None:
        n = pretrain_panels(ppo.total_steps)
        pretrain(agent.reader, pool, seed, rules.show_goal, n)  # then frozen (perception.py)
    opt = torch.optim.Adam(agent.parameters(), lr=ppo.lr, eps=1e-5)
    ckpt = Checkpointer(
        folder / "checkpoints",
        every=ppo.checkpoint_every,
        config={"ppo": to_dict(ppo), "rules": to_dict(rules), "agent": name},
    )
    first = ckpt.resume(agent, opt, np_rng=rng)
    if ckpt.state:
        state = batched.State(**{k: v.numpy() for k, v in ckpt.state["env"].items()})
        h, start, history = ckpt.state["h"], ckpt.state["start"], list(ckpt.state["history"])
    else:
        state, history = source.episodes(rng, ppo.n_envs, train_rules), []
        h, start = agent.initial(ppo.n_envs), torch.ones(ppo.n_envs, dtype=torch.bool)
    n_updates = max(ppo.total_steps // (ppo.n_envs * ppo.rollout), 1)

    def save(done: int) -> None:
        env = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in vars(state).items()}
        ckpt.save(
            done,
            {
                "model": agent.state_dict(),
                "optimizer": opt.state_dict(),
                "rng": capture_rng_state(rng),
                "env": env,
                "h": h,
                "start": start,
                "history": history,
            },
        )

    for update in range(first, n_updates):
        h0, roll = (
            h.clone(),
            {k: [] for k in ("obs", "actions", "logp", "values", "rewards", "dones", "start")},
        )
        episodes = successes = 0
        for _ in range(ppo.rollout):
            obs = observation(state, pool, rules)
            with torch.no_grad():
                logits, value, h = agent(obs, h, start)
            dist = torch.distributions.Categorical(logits=logits.masked_fill(blocked, -1e9))
            action = dist.sample()
            state, reward, _ = batched.step(state, action.numpy(), table, train_rules)
            done = state.done
            episodes += done.sum()
            successes += state.success[done].sum()
            for k, v in (
                ("obs", obs),
                ("actions", action),
                ("logp", dist.log_prob(action)),
                ("values", value),
                ("rewards", torch.as_tensor(reward).float()),
                ("dones", torch.as_tensor(done).float()),
                ("start", start),
            ):
                roll[k].append(v)
            start = torch.as_tensor(done)
            state = merge(done, source.episodes(rng, ppo.n_envs, train_rules), state)
        batch = {k: torch.stack(v) for k, v in roll.items()}
        with torch.no_grad():
            last = agent(observation(state, pool, rules), h, start)[1]
        batch["adv"] = gae(
            batch["rewards"], batch["values"], batch["dones"], last, ppo.gamma, ppo.gae_lambda
        )
        batch["returns"] = batch["adv"] + batch["values"]
        batch["h0"] = h0
        stats = {}
        for _ in range(ppo.epochs):
            for envs in torch.randperm(ppo.n_envs).chunk(ppo.minibatches):
                mini = {k: (v[envs] if k == "h0" else v[:, envs]) for k, v in batch.items()}
                loss, stats = ppo_loss(agent, mini, ppo, blocked)
                check_finite(loss, update + 1)
                opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(agent.parameters(), ppo.max_grad_norm)
                opt.step()
        trial_success = float(successes / max(episodes * rules.trials, 1))
        history.append(
            {
                "update": update + 1,
                "success": trial_success,
                "reward": batch["rewards"].mean().item(),
                **stats,
            }
        )
        if ckpt.due(update + 1):
            save(update + 1)
        if session is not None:
            session.boundary(
                f"at {name} seed {seed} update {update + 1}", lambda u=update: save(u + 1)
            )
    return agent, history


def agent_policy(agent: nn.Module, seed: int, greedy: bool = False):
    """An ``evaluate`` policy: the agent's GRU state carries over the whole episode."""
    gen = torch.Generator().manual_seed(seed)
    memory: dict[str, torch.Tensor] = {}

    def act(state: batched.State, obs: np.ndarray) -> np.ndarray:
        n = len(obs)
        start = torch.full((n,), "h" not in memory)
        with torch.no_grad():
            logits, _, memory["h"] = agent(
                torch.from_numpy(obs), memory.get("h", agent.initial(n)), start
            )
        if greedy:
            return logits.argmax(-1).numpy()
        return torch.multinomial(logits.softmax(-1), 1, generator=gen)[:, 0].numpy()

    return act
