"""Typed configuration of the text experiment and its profiles (text-smoke, cpu-text, text-paper).

* ``text-smoke``: seconds; every code path of the text experiment (BBC News: LDEBM text VAE and
  the Gaussian-prior VAE; the PTB smoke) with tiny budgets. Used by the tests.
* ``cpu-text``: BBC News attribute discovery (headline + first line, 5 labels, 80/20 split),
  LDEBM's symbols against k-means on a Gaussian-prior VAE's latents, seeds 0 1 2; then a PTB
  smoke (one seed, smoke-level). ``make reproduce PROJECT=ldebm PROFILE=cpu-text`` writes
  results/cpu/text_metrics.json and the marked text section of RESULTS.md.
* ``text-paper``: the official ``text_generation.py`` sizes (embedding 512, GRUs 512, latent 40,
  K = 20, EBM H = 200 with 12 blocks, 50 Langevin steps per level, batch 128, 60 epochs of PTB),
  for GPUs, with the rPPL of 46 000 samples (the count the official sampler writes); a test
  builds it and runs two steps of the VAE and of the rPPL language model on CPU.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reprokit.config import param


@dataclass
class TextModelConfig:
    """One text VAE (encoder, decoder) with its latent prior (LDEBM or N(0, I))."""

    vocab_size: int = param(2000, "vocabulary incl. 4 specials (official PTB 10k)", ge=5)
    max_len: int = param(16, "tokens per item (official 40)", ge=1)
    emb: int = param(64, "word embedding width (official 512)", ge=1)
    hidden: int = param(64, "GRU width of encoder (each direction), decoder (official 512)", ge=1)
    latent: int = param(16, "latent dimension (official 40 PTB, 32 DailyDialog)", ge=1)
    dropout: float = param(0.3, "dropout (official 0.3)", ge=0, lt=1)
    n_classes: int = param(5, "symbols K of the coupling; also k-means K of the VAE", ge=2)
    ebm_hidden: int = param(64, "EBM width H (official 200)", ge=1)
    n_blocks: int = param(3, "EBM residual blocks (official 12)", ge=0)
    T: int = param(6, "diffusion levels (official 6)", ge=2)
    langevin_steps: int = param(15, "Langevin steps per level (official 50)", ge=1)
    step_size: float = param(2e-3, "e_l_step_size (official 2e-3)", gt=0)
    split_level0: bool = param(False, "a separate level-0 EBM network (a deviation)")
    kl_weight: float = param(0.01, "kl_w on the prior's KL and cd (official attribute: 0.01)", ge=0)
    mi_weight: float = param(0.05, "information-bottleneck weight (official 0.05)", ge=0)
    cls_weight: float = param(0.5, "pseudo-label CE weight (official attribute 0.5)", ge=0)
    free_bits: float = param(1.0, "dim_target_kl of the free-bits mask (official 1.0)", ge=0)
    pca_dim: int = param(3, "PCA-whitening dimension before k-means (official 3)", ge=1)
    lr: float = param(3e-3, "Adam learning rate of encoder and decoder (official 1e-3)", gt=0)
    ebm_lr: float = param(1e-4, "Adam learning rate of the EBM (official 1e-4)", gt=0)
    clip: float = param(0.5, "gradient-norm clip of encoder and decoder (official 0.5)", gt=0)
    ebm_clip: float = param(10.0, "gradient-norm clip of the EBM (official 10)", gt=0)
    batch_size: int = param(32, "sentences per step (official 128)", ge=2)
    epochs: int = param(20, "epochs; k-means pseudo-labels at the start of each (official)", ge=1)
    max_steps: int = param(0, "stop after this many steps per epoch (0: the whole epoch)", ge=0)


@dataclass
class ScoreConfig:
    """Budgets of the text scores: importance-sampled NLL (``marginal_nll``), reverse PPL."""

    is_samples: int = param(20, "importance samples z ~ q(z|x) per sentence of the NLL", ge=1)
    is_proposals: int = param(
        32, "reference draws per level and anchor for LDEBM's conditional normalisers", ge=1
    )
    rppl_samples: int = param(0, "PTB model samples the rPPL language model learns (0: off)", ge=0)
    rppl_epochs: int = param(1, "epochs of the rPPL language model on the samples", ge=1)
    rppl_max_steps: int = param(0, "rPPL language-model steps per epoch (0: the whole epoch)", ge=0)


@dataclass
class PTBConfig:
    """The PTB smoke run (LDEBM text VAE on a PTB subset; smoke-level, no claim)."""

    run: bool = param(True, "run the PTB smoke after BBC News")
    train_sentences: int = param(3000, "PTB training sentences used (official all 42 068)", ge=1)
    eval_sentences: int = param(500, "PTB validation sentences scored", ge=1)
    model: TextModelConfig = field(
        default_factory=lambda: TextModelConfig(
            vocab_size=10_000,
            max_len=40,
            n_classes=20,
            latent=16,
            kl_weight=0.1,
            cls_weight=0.05,
            epochs=1,
        )
    )


@dataclass
class TextConfig:
    """The text experiment: BBC News attribute discovery and the PTB smoke."""

    seeds: tuple[int, ...] = param((0, 1, 2), "seeds (one unit per method and seed)", nonempty=True)
    methods: tuple[str, ...] = param(
        ("ldebm", "vae"),
        "text VAEs on BBC News: LDEBM prior, Gaussian prior",
        choices=("ldebm", "vae"),
        nonempty=True,
    )
    dataset: str = param("bbc", "labelled corpus of the attribute experiment", choices=("bbc",))
    heldout: float = param(0.2, "fraction of BBC items held out for the scores", gt=0, lt=1)
    out: Path | None = param(None, "report folder (default: results/cpu, or the run folder)")
    model: TextModelConfig = field(default_factory=TextModelConfig)
    ptb: PTBConfig = field(default_factory=PTBConfig)
    scores: ScoreConfig = field(default_factory=ScoreConfig)


def cpu_text() -> TextConfig:
    """The committed text profile (sized from the one-seed pilot, README); the PTB smoke also
    reports a smoke-level rPPL (2 000 samples, one epoch of the language model)."""
    return TextConfig(scores=ScoreConfig(rppl_samples=2000))


def text_smoke() -> TextConfig:
    """Seconds: every code path of the text experiment with tiny budgets (3 seeds)."""
    tiny = {
        "vocab_size": 200,
        "max_len": 8,
        "emb": 8,
        "hidden": 8,
        "latent": 4,
        "ebm_hidden": 8,
        "n_blocks": 1,
        "langevin_steps": 2,
        "batch_size": 32,
        "epochs": 2,
        "max_steps": 2,
        "pca_dim": 2,
    }
    return TextConfig(
        model=TextModelConfig(**tiny),
        ptb=PTBConfig(
            train_sentences=64,
            eval_sentences=32,
            model=TextModelConfig(**{**tiny, "n_classes": 4, "epochs": 1}),
        ),
        scores=ScoreConfig(is_samples=2, is_proposals=4, rppl_samples=16, rppl_max_steps=2),
    )


def text_paper() -> TextConfig:
    """Official ``text_generation.py`` sizes (PTB 60 epochs, batch 128) for the PTB run, and the
    same network for BBC News at the attribute-discovery weights (KL 0.01, CE 0.5)."""
    big = {
        "emb": 512,
        "hidden": 512,
        "latent": 40,
        "ebm_hidden": 200,
        "n_blocks": 12,
        "langevin_steps": 50,
        "batch_size": 128,
        "max_len": 40,
        "lr": 1e-3,
    }
    return TextConfig(
        model=TextModelConfig(**{**big, "vocab_size": 10_000, "epochs": 60}),
        ptb=PTBConfig(
            train_sentences=42_068,
            eval_sentences=3_370,
            model=TextModelConfig(
                **big, vocab_size=10_000, n_classes=20, kl_weight=0.1, cls_weight=0.05, epochs=60
            ),
        ),
        scores=ScoreConfig(is_samples=100, is_proposals=100, rppl_samples=46_000, rppl_epochs=20),
    )


TEXT_PROFILES = {"text-smoke": text_smoke, "cpu-text": cpu_text, "text-paper": text_paper}
