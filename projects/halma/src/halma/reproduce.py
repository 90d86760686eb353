"""Entry point: ``python -m halma.reproduce --profile {smoke,cpu,cpu-long,paper} [--key ...]``.

Units (each resumable through ``reprokit.lifecycle``), seed by seed: the reference planners
(oracle, greedy heuristic, unit steps only, random) on every split plus the env's speed; per
agent, PPO training and the evaluation on every split, on relabelled digits and (image agents)
on DejaVu-font digits; the memory oracle (the speed-up reference) on every split. Then the gates
and claims of ``claims.py`` are judged and ``metrics.json`` and RESULTS.md go where
``report_target`` says: the unmodified cpu profile writes results/cpu/metrics.json and
RESULTS.md, the unmodified cpu-long profile results/cpu/long_metrics.json and its marked
section of RESULTS.md (kept by a cpu run).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from reprokit.config import parse, to_dict
from reprokit.lifecycle import ReportTarget, Session, entry, footer, header, report_target
from reprokit.report import keep_sections, marked_section, merge_section, write_results

from .agents import SYMBOLIC_AGENTS, AgentName
from .claims import evidence
from .configs import LONG, PROFILES, Config
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
from .panel import DigitPool, DigitSource, digit_pool
from .perception import reading_accuracy, rendered
from .ppo import agent_policy, train
from .rules import action_table, check_rules
from .splits import SPLITS, Split, check_layout, digit_source, generate_all

READER_PANELS = 2000  # fresh renderings per digit source for the reader's accuracy
READER_SEED = 20_000  # their seed offset (pretraining uses the agent's seed)


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


def agent_pool(name: AgentName, source: DigitSource) -> DigitPool | None:
    """The digit images an agent sees (None: a symbolic agent reads the numbers)."""
    return None if name in SYMBOLIC_AGENTS else digit_pool(source)


def evaluation_runs(name: AgentName, cfg: Config) -> list[tuple[str, Split, bool, DigitSource]]:
    """(label, boards, relabelled digits?, digit images) of every evaluation of an agent: each
    split, the iid boards with relabelled digits (``permuted``) and, for an image agent, the iid
    boards drawn with the DejaVu font (``font``, the rendering shift; design-risk note, item 7)."""
    runs = [(s, s, False, digit_source(s, cfg.layout)) for s in SPLITS]
    runs.append(("permuted", "iid", True, "train"))
    if name not in SYMBOLIC_AGENTS:
        runs.append(("font", "iid", False, "font"))
    return runs


def reader_accuracy(agent: torch.nn.Module, seed: int, show_goal: bool) -> dict[str, float]:
    """An image agent's digit reader on fresh renderings of each digit source: the share of
    panels read entirely right (empty for agents without a reader)."""
    if getattr(agent, "reader", None) is None:
        return {}
    out = {}
    for source in ("train", "test", "font"):
        panel, target = rendered(digit_pool(source), READER_PANELS, READER_SEED + seed, show_goal)
        out[f"reader_{source}_accuracy"] = reading_accuracy(agent.reader, panel, target)
    return out


def train_and_evaluate(
    cfg: Config, name: AgentName, seed: int, folder: Path, session: Session
) -> dict:
    """PPO on iid training boards, then one evaluation episode per board of every run of
    :func:`evaluation_runs`, the reader's accuracy (image agents with a reader) and the training
    speed."""
    pool, start = agent_pool(name, "train"), time.perf_counter()
    agent, history = train(name, cfg.ppo, cfg.rules, cfg.layout, pool, seed, folder, session)
    torch.save(agent.state_dict(), folder / "agent.pt")
    out: dict = {
        "train_success": np.array([h["success"] for h in history]),
        # PPO env steps per second of wall time, the reader's pretraining included (a unit
        # resumed from a checkpoint counts only its last stretch)
        "train_steps_per_s": cfg.ppo.total_steps / (time.perf_counter() - start),
    }
    boards = evaluation_boards(cfg, seed)
    for label, split, relabel, source in evaluation_runs(name, cfg):
        policy = agent_policy(agent, seed, cfg.eval_greedy)
        perm = digit_permutation(seed) if relabel else None
        result = evaluate(policy, boards[split], agent_pool(name, source), cfg.rules, seed, perm)
        out |= {f"{label}_{m}": v for m, v in result.items()}
    return out | reader_accuracy(agent, seed, cfg.rules.show_goal)


def units(cfg: Config, session: Session) -> tuple[list[dict], dict[str, list[dict]], list[dict]]:
    """Every unit, seed by seed (so the first seed of a run is its one-seed pilot): the
    planners, each agent, the memory oracle. Returns their results per seed."""
    planners, agents, memory = [], {a: [] for a in cfg.agents}, []
    for s in cfg.seeds:
        planners.append(session.unit(f"planners-seed{s}", lambda f, s=s: evaluate_planners(cfg, s)))
        for a in cfg.agents:
            agents[a].append(
                session.unit(
                    f"{a}-seed{s}", lambda f, a=a, s=s: train_and_evaluate(cfg, a, s, f, session)
                )
            )
        memory.append(
            session.unit(f"memory_oracle-seed{s}", lambda f, s=s: evaluate_memory_oracle(cfg, s))
        )
    return planners, agents, memory


def target_of(profile: str, cfg: Config, session: Session) -> ReportTarget:
    """``report_target``; the unmodified cpu-long profile writes the committed
    results/cpu/long_metrics.json and its marked section of RESULTS.md."""
    if profile == LONG:
        return report_target(
            "halma", "cpu", cfg, {"cpu": PROFILES[LONG]}, __file__, session, cfg.out
        )
    return report_target("halma", profile, cfg, PROFILES, __file__, session, out=cfg.out)


def write_report(profile: str, target: ReportTarget, doc: dict, metrics: Path) -> None:
    """RESULTS.md: a cpu run keeps the cpu-long section; a cpu-long run rewrites only it."""
    long = target.committed and profile == LONG
    kept = [marked_section(target.results_md, LONG)] if target.committed and not long else []
    report_md = target.results_md.with_name(".long_section.md") if long else target.results_md
    write_results(
        report_md,
        doc,
        title=f"HALMA (reconstructed rules): {profile}",
        command="make reproduce PROJECT=halma" + (f" PROFILE={LONG}" if long else ""),
        notes=NOTES,
        metrics_path=metrics,
    )
    if long:
        heading = f"{LONG} profile (`make reproduce PROJECT=halma PROFILE={LONG}`)"
        merge_section(target.results_md, report_md, heading, LONG)
    keep_sections(target.results_md, kept)


def run(argv: list[str], fresh: bool) -> None:
    profile, cfg = parse(PROFILES, argv, prog="halma.reproduce")
    check_rules(cfg.rules)
    check_layout(cfg.layout, cfg.rules)
    with Session("halma", profile, cfg, fresh=fresh) as session:
        header(
            session,
            expected=EXPECTED.get(profile, "unknown"),
            seeds=cfg.seeds,
            agents=cfg.agents,
            boards_per_split=cfg.n_boards,
        )
        planners, agents, memory = units(cfg, session)
        ev = evidence(profile, list(cfg.seeds), planners, agents, memory)
        target = target_of(profile, cfg, session)
        info = {
            "config": {k: v for k, v in to_dict(cfg).items() if k != "out"},
            "train_success": {
                a: [r["train_success"].tolist() for r in rs] for a, rs in agents.items()
            },
        }
        name = "long_metrics.json" if target.committed and profile == LONG else "metrics.json"
        metrics = ev.write(target.dir / name, session.wall_time_s, info=info)
        doc = ev.to_dict(session.wall_time_s, info)
        write_report(profile, target, doc, Path(metrics))
        footer(session, doc, [target.results_md, Path(metrics)], why=target.why)


EXPECTED = {
    "smoke": "~1 min",
    "cpu": "~8 min inside one CPU slot",
    LONG: "~10 min inside one CPU slot",
}
NOTES = (
    "Rules reconstructed from the public pilot (see README, Deviations); no number here "
    "is comparable with the paper, which published none for these rules."
)

if __name__ == "__main__":
    entry("halma.reproduce", run)
