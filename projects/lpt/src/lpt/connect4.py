"""Connect Four against an exploitable opponent, with ESPER's offline data recipe.

LPT (Table 4) reuses the Connect-4 task of ESPER (Paster et al. 2022,
``keirp/stochastic_offline_envs``): the agent is ``player_0`` and moves first; the opponent's
reply is part of the environment step. Reward from the agent's view at the end of a game:
win +1, loss -1, draw 0 (0 at every other step).

* Opponent (``C4MarkovExploitable``): plays the optimal move, except when that move is column 6
  (right-most, 0-based); then with probability 0.2 it plays a uniformly random column in 0..5.
* Data policy, an episodic 50/50 mixture of
  (a) specialised (``C4Specialized``): column 6 at agent step t < 5 or with probability 0.1,
      otherwise a uniformly random column in 0..5;
  (b) epsilon-greedy strong player: with probability eps = 0.01 a uniformly random column,
      otherwise the optimal move.

Deviations from ESPER (all documented in the README's Deviations table):

* "Optimal" is the depth-limited negamax alpha-beta search of :mod:`lpt.connect4_search`
  instead of Pascal Pons' perfect solver; opponent and strong data policy have separate depths.
* No policy ever plays a full column: a random pick from a set of columns (0..5, or 0..6) that
  lands on a full column is redrawn uniformly among the legal columns of the same set, and if
  none is legal, uniformly among all legal columns.
* The rule engine is pettingzoo's ``connect_four_v3`` (AEC): legality (action mask), game end
  and rewards come from it; the search runs on the Python-int bitboard of
  :mod:`lpt.connect4_search`, played in lock-step with it.
* Observation: pettingzoo's ``observe("player_0")["observation"]`` (6, 7, 2) (channel 0 = the
  agent's pieces, 1 = the opponent's) flattened to 84 floats.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from lpt.connect4_search import COLS, Board, best_move

OBS_DIM, N_ACTIONS = 84, 7
EXPLOIT_COL = 6  # the column the opponent mishandles and the specialised policy plays
P_EXPLOIT = 0.2  # opponent deviation probability when its best move is EXPLOIT_COL
SPECIAL_STEPS, SPECIAL_P = 5, 0.1  # specialised policy: column 6 for t < 5, else w.p. 0.1
DEFAULT_OPP_DEPTH, DEFAULT_STRONG_DEPTH = 4, 6  # ~0.7 and ~3 ms/move, one core


def random_legal(board: Board, cols: range, rng: np.random.Generator) -> int:
    """Uniform column of ``cols``; if full, uniform over the legal ``cols``, else any legal."""
    c = int(cols[rng.integers(len(cols))])
    if board.can_play(c):
        return c
    pool = [k for k in cols if board.can_play(k)] or board.legal()
    return int(pool[rng.integers(len(pool))])


class Opponent:
    """``C4MarkovExploitable`` stand-in: best move, but w.p. p_exploit random 0..5 instead of 6."""

    def __init__(
        self, depth: int, p_exploit: float = P_EXPLOIT, rng: np.random.Generator | None = None
    ) -> None:
        self.depth, self.p_exploit = depth, p_exploit
        self.rng = rng if rng is not None else np.random.default_rng(0)
        self.n_exploitable = 0  # positions where the best move was EXPLOIT_COL
        self.n_deviations = 0  # ... and the opponent played a random 0..5 instead

    def act(self, board: Board) -> int:
        c = best_move(board, self.depth)
        if c == EXPLOIT_COL:
            self.n_exploitable += 1
            if self.rng.random() < self.p_exploit:
                self.n_deviations += 1
                return random_legal(board, range(EXPLOIT_COL), self.rng)
        return c


def specialised_action(board: Board, t: int, rng: np.random.Generator) -> int:
    """``C4Specialized``: column 6 at agent step t < 5 or w.p. 0.1, else uniform 0..5."""
    if (t < SPECIAL_STEPS or rng.random() < SPECIAL_P) and board.can_play(EXPLOIT_COL):
        return EXPLOIT_COL
    return random_legal(board, range(EXPLOIT_COL), rng)


def strong_action(board: Board, depth: int, eps: float, rng: np.random.Generator) -> int:
    """Epsilon-greedy strong player: w.p. eps a uniform column, else :func:`best_move`."""
    if rng.random() < eps:
        return random_legal(board, range(COLS), rng)
    return best_move(board, depth)


class Game:
    """One pettingzoo ``connect_four_v3`` game (the rule engine) with a bitboard in lock-step."""

    def __init__(self) -> None:
        with warnings.catch_warnings():  # pettingzoo flags its own versioned-module API
            warnings.simplefilter("ignore", DeprecationWarning)
            import pettingzoo.classic.connect_four_v3 as connect_four_v3

        self.env = connect_four_v3.env()
        self.reset()

    def reset(self) -> np.ndarray:
        self.env.reset()
        self.board = Board()
        self.done, self.reward = False, 0.0
        return self.obs()

    def obs(self) -> np.ndarray:
        """(84,) float32: (6, 7, 2) board from player_0's view, flattened."""
        return self.env.observe("player_0")["observation"].reshape(-1).astype(np.float32)

    def legal_mask(self) -> np.ndarray:
        """(7,) bool from pettingzoo's action mask of the side to move."""
        side = self.env.agent_selection
        return self.env.observe(side)["action_mask"].astype(bool)

    def play(self, col: int) -> None:
        """Play ``col`` for the side to move; at the end set ``done`` and the agent's ``reward``."""
        if not self.legal_mask()[col]:
            raise ValueError(f"illegal column {col}: legal columns are {self.board.legal()}")
        self.env.step(col)
        self.board.play(col)
        if self.env.terminations["player_0"] or self.env.truncations["player_0"]:
            self.done, self.reward = True, float(self.env.rewards["player_0"])


def game_seeds(seed: int, n_games: int) -> list[int]:
    """Opponent seed of every game of ``generate_dataset(..., seed)`` (for replays)."""
    return [int(s) for s in np.random.SeedSequence(seed).generate_state(n_games)]


def generate_dataset(
    n_games: int,
    opp_depth: int = DEFAULT_OPP_DEPTH,
    strong_depth: int = DEFAULT_STRONG_DEPTH,
    eps: float = 0.01,
    p_specialised: float = 0.5,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """D4RL-format arrays over the agent's moves (the opponent's reply is inside a transition).

    Game i's data policy is specialised w.p. ``p_specialised`` (``policy`` 0) else strong (1);
    its opponent uses ``np.random.default_rng(game_seeds(seed, n_games)[i])``.
    """
    rng = np.random.default_rng(seed)
    keys = ("observations", "actions", "next_observations", "rewards", "terminals")
    buf: dict[str, list] = {k: [] for k in (*keys, "policy", "action_mask")}
    game = Game()
    for gs in game_seeds(seed, n_games):
        opp = Opponent(opp_depth, rng=np.random.default_rng(gs))
        policy = int(rng.random() >= p_specialised)
        obs, t = game.reset(), 0
        while not game.done:
            legal = game.legal_mask()
            if policy == 0:
                a = specialised_action(game.board, t, rng)
            else:
                a = strong_action(game.board, strong_depth, eps, rng)
            game.play(a)
            if not game.done:
                game.play(opp.act(game.board))
            nxt = game.obs()
            for k, v in zip(
                (*keys, "policy", "action_mask"),
                (obs, np.eye(N_ACTIONS)[a], nxt, game.reward, game.done, policy, legal),
                strict=True,
            ):
                buf[k].append(v)
            obs, t = nxt, t + 1
    out = {k: np.asarray(buf[k], dtype=np.float32) for k in keys[:4]}
    out["terminals"] = np.asarray(buf["terminals"], dtype=bool)
    out["timeouts"] = np.zeros(len(out["terminals"]), dtype=bool)
    out["policy"] = np.asarray(buf["policy"], dtype=np.int64)
    out["action_mask"] = np.asarray(buf["action_mask"], dtype=bool)
    return out


@dataclass
class Connect4Spec:
    """Evaluation games against the exploitable opponent."""

    horizon: int = 21  # max agent moves in a game (42 cells / 2)
    opp_depth: int = DEFAULT_OPP_DEPTH
    p_exploit: float = P_EXPLOIT


class Connect4Batch:
    """B games stepped in lock-step (same interface as ``maze2d.MazeBatch``)."""

    def __init__(self, spec: Connect4Spec, seeds: list[int]) -> None:
        self.spec, self.seeds = spec, list(seeds)
        self.games = [Game() for _ in self.seeds]
        self.reset()

    def reset(self) -> np.ndarray:
        """(B, 84) float32 initial observations; opponents re-seeded from ``seeds``."""
        self.opps = [
            Opponent(self.spec.opp_depth, self.spec.p_exploit, np.random.default_rng(s))
            for s in self.seeds
        ]
        self.done = np.zeros(len(self.seeds), dtype=bool)
        return np.stack([g.reset() for g in self.games])

    def legal_mask(self) -> np.ndarray:
        """(B, 7) bool legal columns for the agent; all True once a game is over."""
        return np.stack(
            [
                np.ones(N_ACTIONS, bool) if d else g.legal_mask()
                for g, d in zip(self.games, self.done)
            ]
        )

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """actions (B, 7) scores/one-hot -> (next obs (B, 84) float32, rewards (B,) float64)."""
        cols = np.asarray(actions).reshape(len(self.games), N_ACTIONS).argmax(1)
        mask = self.legal_mask()
        bad = [b for b, c in enumerate(cols) if not mask[b, c]]
        if bad:
            raise ValueError(f"illegal column {int(cols[bad[0]])} in game {bad[0]}")
        rewards = np.zeros(len(self.games), dtype=np.float64)
        for b, (g, opp, c) in enumerate(zip(self.games, self.opps, cols, strict=True)):
            if self.done[b]:
                continue
            g.play(int(c))
            if not g.done:
                g.play(opp.act(g.board))
            if g.done:
                self.done[b], rewards[b] = True, g.reward
        return np.stack([g.obs() for g in self.games]), rewards


def data_policy_win_rates(arrays: dict[str, np.ndarray]) -> dict[str, float]:
    """Mean game return per data policy (``policy`` or ``infos/policy``) and overall."""
    policy = np.asarray(arrays["policy"] if "policy" in arrays else arrays["infos/policy"])
    ends = np.flatnonzero(np.asarray(arrays["terminals"], dtype=bool))
    R, pol = np.asarray(arrays["rewards"], dtype=np.float64)[ends], policy[ends]
    out = {"all": float(R.mean())}
    for name, k in (("specialised", 0), ("strong", 1)):
        out[name] = float(R[pol == k].mean()) if (pol == k).any() else float("nan")
    return out


def reference_results(
    spec: Connect4Spec, n_games: int, seed: int, strong_depth: int, eps: float
) -> tuple[float, float]:
    """(uniform random legal player, ε-greedy strong data policy): mean game result against the
    evaluation opponent over ``n_games`` games (the oracle reference of the Connect Four gate)."""
    rng, game, totals = np.random.default_rng(seed), Game(), []
    for policy in ("random", "strong"):
        results = []
        for gs in game_seeds(seed, n_games):
            opp = Opponent(spec.opp_depth, spec.p_exploit, np.random.default_rng(gs))
            game.reset()
            while not game.done:
                if policy == "random":
                    game.play(random_legal(game.board, range(COLS), rng))
                else:
                    game.play(strong_action(game.board, strong_depth, eps, rng))
                if not game.done:
                    game.play(opp.act(game.board))
            results.append(game.reward)
        totals.append(float(np.mean(results)))
    return totals[0], totals[1]
