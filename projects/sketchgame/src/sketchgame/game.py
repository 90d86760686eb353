"""The visual communication game and its learning rules (official ``Players.forward``).

Per step t = 1..T the sender adds S strokes to the shared canvas; the receiver sees the new canvas
and either picks one of the 3 candidate photos or waits. Reward +1 correct, −1 wrong, 0 for
waiting (step_cost 0): the discount γ is the only time pressure. A receiver still waiting after
step T fails (evaluation) and, in training, gets Q(wait at T) = −1 (the same rule; the official
code values it by V_{T+1}; README Deviations).

Learning rule of the paper (``actor_critic_loss``): λ-returns on the sampled trajectory,
``G_t = r_t`` after a guess, ``G_t = γ[(1−λ)V_{t+1} + λG_{t+1}]`` after a wait, ``G_t = V_t``
after the episode's end, and the actor
objective ``J = Σ_t Σ_a π_t(a) Q̂_t(a)`` with ``Q̂(correct) = +1, Q̂(wrong) = −1,
Q̂(wait) = γG_{t+1}``: the exact expectation over the receiver's action, maximised jointly by the
receiver and, through canvas_t → encoder → π_t and through V, by the sender. Not multiplied by an
alive mask (official code). The critic regresses V_t on the detached G_t with its own optimiser.
Baseline ``reinforce_loss``: score function with accumulated discounted reward, the same critic as
baseline (the official ``cum`` has none; note item 9).

Environmental settings (official README commands): ``complete`` (early guesses, both learn),
``max`` (wait until the last step), ``senderfixed`` (only the receiver learns), ``onestep`` (a
single step of S strokes), ``retrieve`` (fixed sender, one guess after the whole sketch,
REINFORCE), ``reinforce`` (``cum``: complete with the score-function loss).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from sketchgame.agents import Receiver, Sender, ValueModel
from sketchgame.perception import Encoder
from sketchgame.render import draw
from torch import Tensor

Setting = Literal["complete", "max", "senderfixed", "onestep", "retrieve", "reinforce"]
SETTINGS: tuple[Setting, ...] = (
    "complete", "max", "senderfixed", "reinforce", "onestep", "retrieve",
)  # fmt: skip
FORCED_WAIT = ("max", "retrieve")  # the receiver must wait until the last step, then guess
FIXED_SENDER = ("senderfixed", "retrieve")  # only the receiver (and critic) learn
SCORE_FUNCTION = ("reinforce", "retrieve")  # REINFORCE with accumulated reward
WAIT = 3


@dataclass
class Batch:
    """A batch of games: sketch (B,1,H,W), its frozen features (B,D), the candidate photos' frozen
    features (B,3,D) (computed once per referent: the encoder is frozen), target slot (B,)."""

    sketch: Tensor
    f_sketch: Tensor
    f_cands: Tensor
    target: Tensor


@dataclass
class Rollout:
    probs: Tensor  # (B, T, 4) receiver policy per step
    values: Tensor  # (B, T) V_t (value-model parameters not trained by the actor loss)
    actions: Tensor  # (B, T) sampled (or argmax) action per step
    canvases: Tensor | None  # (B, T, 1, H, W) canvas after each step (None: not kept)
    critic_inputs: tuple[Tensor, ...]  # detached (sketch, cand-sum, prev, now) features (B, T, D)


def rewards_of(actions: Tensor, target: Tensor) -> Tensor:
    """r_t: +1 correct guess, −1 wrong guess, 0 wait; (B, T)."""
    guess = actions != WAIT
    return torch.where(guess, torch.where(actions == target[:, None], 1.0, -1.0), 0.0)


def lambda_returns(
    rewards: Tensor, guessed: Tensor, values: Tensor, alive: Tensor, gamma: float, lam: float
) -> Tensor:
    """G_t backwards: r_t after a guess; γ[(1−λ)V_{t+1} + λG_{t+1}] after a wait; −1 for a wait at
    the last step (timeout); V_t on the steps after the episode's end (official code: an ended
    game's later terms value waiting by γV_{t+1}). rewards, guessed (bool), values, alive (the
    ``alive_mask``): (B, T) → (B, T)."""
    B, T = rewards.shape
    G = torch.empty_like(values)
    nxt = torch.full((B,), -1.0, dtype=values.dtype)
    for t in reversed(range(T)):
        last = t == T - 1
        cont = nxt if last else gamma * ((1 - lam) * values[:, t + 1] + lam * G[:, t + 1])
        live = torch.where(guessed[:, t], rewards[:, t], cont)
        G[:, t] = torch.where(alive[:, t] > 0, live, values[:, t])
    return G


def action_values(G: Tensor, target: Tensor, gamma: float) -> Tensor:
    """Q̂_t(a) (B, T, 4): +1 for the target slot, −1 for the others, γG_{t+1} for wait (−1 at T)."""
    B, T = G.shape
    q = torch.full((B, T, 4), -1.0, dtype=G.dtype)
    q[torch.arange(B), :, target] = 1.0
    wait = torch.cat([gamma * G[:, 1:], torch.full((B, 1), -1.0, dtype=G.dtype)], 1)
    q[..., WAIT] = wait
    return q


def expected_reward(probs: Tensor, q: Tensor) -> Tensor:
    """J = Σ_t Σ_a π_t(a) Q̂_t(a), mean over games: (B, T, 4) × (B, T, 4) → scalar."""
    return (probs * q).sum((1, 2)).mean()


def n_steps(setting: Setting, max_step: int) -> int:
    """Steps T of a game: one for ``onestep`` (official ``--max_step 1``), else max_step."""
    return 1 if setting == "onestep" else max_step


def draw_steps(
    sender: Sender, encoder: Encoder, sketch: Tensor, draw_kw: dict, steps: int
) -> tuple[Tensor, Tensor]:
    """The sender's first ``steps`` steps on a blank canvas: canvases (B, T, 1, H, W) and the
    frozen features of the blank canvas and of every step (B, T + 1, D). canvas0 is detached
    before each step: no gradient crosses steps through the canvas (official code)."""
    B, size = sketch.shape[0], sketch.shape[-1]
    canvas = torch.zeros(B, 1, size, size)
    canvases = []
    for t in range(steps):
        canvas = draw(canvas.detach(), sender(canvas, sketch, t), **draw_kw)
        canvases.append(canvas)
    steps = torch.stack(canvases, 1)
    f = encoder(torch.cat([torch.zeros(B, 1, 1, size, size), steps], 1).flatten(0, 1))
    return steps, f.view(B, len(canvases) + 1, -1)


def receiver_logits(receiver: Receiver, f_cands: Tensor, f_steps: Tensor) -> Tensor:
    """The receiver's logits (B, T, 4) at every step: candidates (B, 3, D), canvas features
    f_steps (B, T + 1, D) with the blank canvas first (the previous canvas, detached, keys wait)."""
    B, T = f_steps.shape[0], f_steps.shape[1] - 1
    cands = f_cands[:, None].expand(-1, T, -1, -1).flatten(0, 1)
    f_prev, f_now = f_steps[:, :-1].detach().flatten(0, 1), f_steps[:, 1:].flatten(0, 1)
    return receiver(cands, f_prev, f_now).view(B, T, 4)


def decide(
    receiver: Receiver,
    value: ValueModel,
    batch: Batch,
    f_steps: Tensor,
    setting: Setting,
    sample: bool,
    generator: torch.Generator | None = None,
) -> Rollout:
    """The receiver's policy, actions and the values at every step from the canvas features
    f_steps (B, T + 1, D) (blank canvas first); the wait logit compares canvas t with t − 1."""
    B, T = f_steps.shape[0], f_steps.shape[1] - 1
    f_prev, f_now = f_steps[:, :-1].detach(), f_steps[:, 1:]
    f_sketch = batch.f_sketch[:, None].expand(-1, T, -1)
    f_sum = batch.f_cands.sum(1)[:, None].expand(-1, T, -1)
    logits = receiver_logits(receiver, batch.f_cands, f_steps)
    if setting in FORCED_WAIT:  # forced to wait until the last step, then forced to guess
        mask = torch.full_like(logits, float("-inf"))
        mask[:, :-1, WAIT] = 0.0
        mask[:, -1, :3] = 0.0
        logits = logits + mask
    pi = torch.softmax(logits, 2)
    if sample:
        a = torch.multinomial(pi.detach().flatten(0, 1), 1, generator=generator).view(B, T)
    else:
        a = pi.detach().argmax(2)
    inputs = (f_sketch, f_sum, f_prev, f_now)
    v = value(*(x.flatten(0, 1) for x in inputs)).view(B, T)
    return Rollout(pi, v, a, None, tuple(x.detach() for x in inputs))


def play(
    sender: Sender,
    receiver: Receiver,
    value: ValueModel,
    encoder: Encoder,
    batch: Batch,
    setting: Setting,
    draw_kw: dict,
    sample: bool,
    generator: torch.Generator | None = None,
) -> Rollout:
    """All T steps of a batch of games (the episode's end is read from the actions; steps after a
    guess are still drawn, their Σπ·Q̂ terms enter the actor objective as in the official code).
    The sender does not see the receiver's actions, so the whole sketch is drawn first."""
    T = n_steps(setting, sender.max_step)
    canvases, f_steps = draw_steps(sender, encoder, batch.sketch, draw_kw, T)
    ro = decide(receiver, value, batch, f_steps, setting, sample, generator)
    ro.canvases = canvases
    return ro


def first_guess(actions: Tensor) -> tuple[Tensor, Tensor]:
    """(step index of the first guess (T if none), its action or WAIT): (B,), (B,)."""
    B, T = actions.shape
    guessed = actions != WAIT
    idx = torch.where(guessed.any(1), guessed.float().argmax(1), torch.full((B,), T))
    act = torch.where(idx < T, actions.gather(1, idx.clamp(max=T - 1)[:, None]).squeeze(1), WAIT)
    return idx, act


def alive_mask(actions: Tensor) -> Tensor:
    """1 up to and including the first guess, 0 after it: (B, T)."""
    idx, _ = first_guess(actions)
    return (torch.arange(actions.shape[1])[None] <= idx[:, None]).float()


def actor_critic_loss(
    ro: Rollout, target: Tensor, gamma: float, lam: float
) -> tuple[Tensor, Tensor]:
    """(actor loss −J, λ-returns G detached) of the paper's method."""
    guessed = ro.actions != WAIT
    r = rewards_of(ro.actions, target)
    G = lambda_returns(r, guessed, ro.values, alive_mask(ro.actions), gamma, lam)
    q = action_values(G, target, gamma)
    return -expected_reward(ro.probs, q), G.detach()


def discounted_returns(rewards: Tensor, alive: Tensor, gamma: float) -> Tensor:
    """R_t = Σ_{k≥t} γ^{k−t} r_k over the alive steps (accumulated reward of ``cum``); a timeout
    adds −1 at the last step."""
    B, T = rewards.shape
    R = torch.zeros_like(rewards)
    acc = torch.zeros(B)
    for t in reversed(range(T)):
        acc = alive[:, t] * (rewards[:, t] + gamma * acc)
        R[:, t] = acc
    return R


def reinforce_loss(ro: Rollout, target: Tensor, gamma: float) -> tuple[Tensor, Tensor]:
    """REINFORCE with accumulated reward and the critic as baseline: −Σ_t (R_t − V_t)·log π_t(a_t)
    over the alive steps; returns (loss, R detached)."""
    alive = alive_mask(ro.actions)
    r = rewards_of(ro.actions, target)
    _, last = first_guess(ro.actions)
    r[:, -1] = torch.where(last == WAIT, -1.0, r[:, -1])  # timeout = failure
    R = discounted_returns(r, alive, gamma)
    logp = torch.log(ro.probs.gather(2, ro.actions[..., None]).squeeze(2).clamp_min(1e-8))
    adv = (R - ro.values).detach()
    return -(alive * adv * logp).sum(1).mean(), R.detach()


def critic_loss(value: ValueModel, ro: Rollout, returns: Tensor) -> Tensor:
    """MSE of V_t on the detached returns (−log N(G; V, 1) up to a constant), inputs detached."""
    v = value(*(x.flatten(0, 1) for x in ro.critic_inputs)).view_as(returns)
    return 0.5 * ((v - returns) ** 2).mean()
