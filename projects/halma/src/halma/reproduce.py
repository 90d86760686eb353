"""Entry point: ``python -m halma.reproduce --profile {smoke,cpu,paper} [--key value ...]``.

Units (each resumable through ``reprokit.lifecycle``): per seed, the reference planners (oracle,
greedy heuristic, unit steps only, random) on every split plus the env's speed; per agent and
seed, PPO training and the evaluation on every split and on relabelled digits; per seed, the
memory oracle (the speed-up reference) on every split. Then the gates
and claims of ``claims.py`` are judged and ``metrics.json`` and RESULTS.md go where
``report_target`` says (the committed ones only for the unmodified cpu profile).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from reprokit.config import parse, to_dict
from reprokit.lifecycle import Session, entry, footer, header, report_target
from reprokit.report import write_results

from .agents import SYMBOLIC_AGENTS, AgentName
from .claims import evidence
from .configs import PROFILES, Config
from .evaluate import (
    digit_permutation,
    evaluate,
    greedy_policy,
    oracle_policy,
    random_policy,
    speed,
    unit_only_policy,
)
from .memory import memory_oracle_policy
from .panel import DigitPool, digit_pool
from .ppo import agent_policy, train
from .rules import action_table, check_rules
from .splits import SPLITS, Split, check_layout, digit_source, generate_all


def evaluation_boards(cfg: Config, seed: int) -> dict[str, dict]:
    """The boards of every split for one seed (one generator stream, cached)."""
    return generate_all({s: cfg.n_boards for s in SPLITS}, seed, cfg.rules, cfg.layout)


def evaluate_planners(cfg: Config, seed: int) -> dict[str, float]:
    """Every reference planner on every split for one seed (they read the board, not the
    panel images), and the env's speed."""
    rules, table = cfg.rules, action_table(cfg.rules)
    policies = {
        "oracle": oracle_policy(table),
        "greedy": greedy_policy(table, seed),
        "unit_only": unit_only_policy(table),
        "random": random_policy(table, seed),
    }
    out: dict[str, float] = {}
    boards = evaluation_boards(cfg, seed)
    for split in SPLITS:
        for name, policy in policies.items():
            for m, v in evaluate(policy, boards[split], None, rules, seed).items():
                out[f"{name}_{split}_{m}"] = v
    fast = speed(boards["iid"], digit_pool("train"), rules, cfg.speed_batch, cfg.speed_steps, seed)
    return out | {f"env_steps_per_s_{k}": v for k, v in fast.items()}


def evaluate_memory_oracle(cfg: Config, seed: int) -> dict[str, float]:
    """The memory oracle (``memory.py``) on every split for one seed: one episode per board, the
    same boards the agents are evaluated on."""
    boards, table = evaluation_boards(cfg, seed), action_table(cfg.rules)
    return {
        f"{split}_{m}": v
        for split in SPLITS
        for m, v in evaluate(
            memory_oracle_policy(table, seed), boards[split], None, cfg.rules, seed
        ).items()
    }


def agent_pool(name: AgentName, split: Split, cfg: Config) -> DigitPool | None:
    """The digit images an agent sees on a split (None: a symbolic agent reads the numbers)."""
    return None if name in SYMBOLIC_AGENTS else digit_pool(digit_source(split, cfg.layout))


def train_and_evaluate(
    cfg: Config, name: AgentName, seed: int, folder: Path, session: Session
) -> dict:
    """PPO on iid training boards, then one evaluation episode per board of every split, and the
    iid boards again with relabelled digits (``permuted``)."""
    pool = agent_pool(name, "iid", cfg)
    agent, history = train(name, cfg.ppo, cfg.rules, cfg.layout, pool, seed, folder, session)
    torch.save(agent.state_dict(), folder / "agent.pt")
    out: dict = {"train_success": np.array([h["success"] for h in history])}
    boards = evaluation_boards(cfg, seed)
    runs = [(s, s, None) for s in SPLITS] + [("permuted", "iid", digit_permutation(seed))]
    for label, split, perm in runs:
        policy = agent_policy(agent, seed, cfg.eval_greedy)
        result = evaluate(
            policy, boards[split], agent_pool(name, split, cfg), cfg.rules, seed, perm
        )
        out |= {f"{label}_{m}": v for m, v in result.items()}
    return out


def run(argv: list[str], fresh: bool) -> None:
    profile, cfg = parse(PROFILES, argv, prog="halma.reproduce")
    check_rules(cfg.rules)
    check_layout(cfg.layout, cfg.rules)
    with Session("halma", profile, cfg, fresh=fresh) as session:
        header(
            session,
            expected="smoke: ~1 min; cpu: ~12 min on 2 idle cores (longer under load)",
            seeds=cfg.seeds,
            agents=cfg.agents,
            boards_per_split=cfg.n_boards,
        )
        planners = [
            session.unit(f"planners-seed{s}", lambda f, s=s: evaluate_planners(cfg, s))
            for s in cfg.seeds
        ]
        agents = {
            a: [
                session.unit(
                    f"{a}-seed{s}", lambda f, a=a, s=s: train_and_evaluate(cfg, a, s, f, session)
                )
                for s in cfg.seeds
            ]
            for a in cfg.agents
        }
        memory = [
            session.unit(f"memory_oracle-seed{s}", lambda f, s=s: evaluate_memory_oracle(cfg, s))
            for s in cfg.seeds
        ]
        ev = evidence(profile, list(cfg.seeds), planners, agents, memory)
        target = report_target(
            "halma", profile, cfg, PROFILES, anchor=__file__, session=session, out=cfg.out
        )
        info = {
            "config": {k: v for k, v in to_dict(cfg).items() if k != "out"},
            "train_success": {
                a: [r["train_success"].tolist() for r in rs] for a, rs in agents.items()
            },
        }
        metrics = ev.write(target.dir / "metrics.json", session.wall_time_s, info=info)
        doc = ev.to_dict(session.wall_time_s, info)
        write_results(
            target.results_md,
            doc,
            title=f"HALMA (reconstructed rules): {profile}",
            command="make reproduce PROJECT=halma",
            notes=NOTES,
            metrics_path=metrics,
        )
        footer(session, doc, [target.results_md, Path(metrics)], why=target.why)


NOTES = (
    "Rules reconstructed from the public pilot (see README, Deviations); no number here "
    "is comparable with the paper, which published none for these rules."
)

if __name__ == "__main__":
    entry("halma.reproduce", run)
