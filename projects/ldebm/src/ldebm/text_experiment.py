"""The text experiment (profiles ``text-smoke``, ``cpu-text``, ``text-paper``) under the shared
lifecycle: per seed, a BBC News reference unit (TF-IDF + k-means, random ids) and one unit per
text VAE (LDEBM prior, Gaussian prior): training, resumable at epoch ends, then the held-out
scores; finally the PTB smoke unit (first seed). The unmodified ``cpu-text`` profile writes
``results/cpu/text_metrics.json`` and the marked ``text`` section of RESULTS.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from ldebm import marginal_nll as mn
from ldebm import text_metrics as tm
from ldebm.bleu import corpus_bleu
from ldebm.clustering import whitened_kmeans
from ldebm.corpus import Corpus, Vocab, load
from ldebm.notes import text_notes
from ldebm.reverse_ppl import reverse_ppl
from ldebm.sections import side_target, write_side_report
from ldebm.text_claims import build_text_evidence
from ldebm.text_configs import TEXT_PROFILES, ScoreConfig, TextConfig, TextModelConfig
from ldebm.text_learning import TextHooks, TextLearner, build, epoch_order, train
from reprokit.config import to_dict
from reprokit.lifecycle import Session
from reprokit.runlog import Run
from reprokit.seeding import seed_everything
from reprokit.torch_utils import Checkpointer, capture_rng_state

TAG = "text"
HEADING = "Text: BBC News attribute discovery and the PTB smoke (profile `cpu-text`)"


def split(corpus: Corpus, seed: int, heldout: float) -> tuple[np.ndarray, np.ndarray]:
    """The seed's item permutation cut into (training, held-out) indices (paired across
    methods)."""
    order = np.random.default_rng([seed, 0]).permutation(len(corpus.sentences))
    n_train = round(len(order) * (1 - heldout))
    return order[:n_train], order[n_train:]


def encoded(corpus: Corpus, idx: np.ndarray, vocab: Vocab, mc: TextModelConfig) -> torch.Tensor:
    """Id matrix of the items ``idx``."""
    return vocab.encode([corpus.sentences[i] for i in idx], mc.max_len)


def reference_unit(cfg: TextConfig, corpus: Corpus, seed: int) -> dict:
    """The data reference (TF-IDF + k-means on the raw text) and the random floor."""
    tr, te = split(corpus, seed, cfg.heldout)
    texts = [corpus.sentences[i] for i in (*tr, *te)]
    labels, k = corpus.labels[te], cfg.model.n_classes
    ids = {
        "tfidf_kmeans": tm.tfidf_kmeans(texts, k, seed, len(tr)),
        "random": np.random.default_rng([seed, 5]).integers(0, k, len(te)),
    }
    return {
        "metrics": {
            f"bbc/{s}/{src}": v
            for src, c in ids.items()
            for s, v in tm.cluster_scores(c, labels).items()
        }
    }


def _trained(
    lrn: TextLearner, x: torch.Tensor, seed: int, name: str, folder: Path, session: Session, cfg
) -> float:
    """Train (resumable at epoch ends from ``folder``); the training wall time in seconds."""
    opt = lrn.optimizer()
    mods = lrn.modules()
    ckpt = Checkpointer(folder / "checkpoints", every=1, config=to_dict(cfg))
    start = ckpt.resume(mods, opt)
    spent = float(ckpt.state["train_time_s"]) if ckpt.state is not None else 0.0
    t0 = time.perf_counter()

    def save(epoch: int) -> None:
        elapsed = spent + time.perf_counter() - t0
        state = {"model": mods.state_dict(), "optimizer": opt.state_dict()}
        ckpt.save(epoch, {**state, "rng": capture_rng_state(), "train_time_s": elapsed})

    with Run("ldebm", session.profile, to_dict(cfg), seed=seed, folder=folder) as run:
        hooks = TextHooks(
            log=lambda step, **kw: run.log(step, {f"{name}/{k}": v for k, v in kw.items()}),
            progress=run.progress,
            boundary=lambda step, s: session.boundary(f"at {name} seed {seed} epoch {step}", s),
        )
        train(lrn, x, seed, opt, start, hooks, save)
    return spent + time.perf_counter() - t0


def likelihood_scores(
    lrn: TextLearner, vocab: Vocab, x: torch.Tensor, sc: ScoreConfig, prefix: str, name: str
) -> dict[str, float]:
    """Importance-sampled NLL (per sentence and per word) and reconstruction BLEU-4 (greedy
    decoding from μ(x) against x) of one text VAE on the id matrix ``x``. LDEBM: with its
    prior scored as the sampler's density (b = s_t²) and, as the official ``_prior_lb``, with
    b = 1 (``nll_is_b1``); the Gaussian VAE: its exact N(0, I) prior."""
    out = {}
    priors = {"nll_is": mn.gaussian_log_prior}
    if lrn.ebm is not None:
        priors = {
            f"nll_is{tag}": lambda z, s=scale: mn.ldebm_log_prior(
                lrn.ebm, lrn.sched, z, sc.is_proposals, s
            )
            for tag, scale in (("", "sampler"), ("_b1", "official"))
        }
    for key, log_prior in priors.items():
        sent, word = mn.importance_nll(lrn.vae, x, log_prior, sc.is_samples)
        out[f"{prefix}/{key}/{name}"] = sent
        out[f"{prefix}/{key}_word/{name}"] = word
    lrn.vae.eval()
    with torch.no_grad():
        hyp = vocab.decode(lrn.vae.greedy(lrn.vae.posterior(x)[0], lrn.mc.max_len + 1))
    lrn.vae.train()
    out[f"{prefix}/bleu/{name}"] = corpus_bleu(hyp, vocab.decode(x))
    return out


def bbc_unit(
    cfg: TextConfig, corpus: Corpus, seed: int, method: str, folder: Path, session: Session
) -> dict:
    """One (text VAE, seed) on BBC News: train, then the held-out scores."""
    seed_everything(seed, torch=True)
    mc = cfg.model
    tr, te = split(corpus, seed, cfg.heldout)
    vocab = Vocab.build([corpus.sentences[i] for i in tr], mc.vocab_size)
    x_tr, x_te = encoded(corpus, tr, vocab, mc), encoded(corpus, te, vocab, mc)
    lrn = build(method, mc, len(vocab))
    secs = _trained(lrn, x_tr, seed, f"bbc_{method}", folder, session, cfg)
    torch.manual_seed(seed + 10_000)
    mu_tr, mu_te, labels = lrn.means(x_tr), lrn.means(x_te), corpus.labels[te]
    out = {
        f"bbc/token_acc/{method}": tm.token_accuracy(lrn, x_te, False, seed),
        f"bbc/token_acc/{method}_shuffled": tm.token_accuracy(lrn, x_te, True, seed),
        f"bbc/recon_nll/{method}": tm.reconstruction_nll(lrn, x_te),
        f"bbc/active_units/{method}": tm.active_units(mu_te),
        f"train_time_s/bbc_{method}": secs,
        **likelihood_scores(lrn, vocab, x_te, cfg.scores, "bbc", method),
    }
    kmeans = whitened_kmeans(mu_tr, mc.n_classes, mc.pca_dim, True, seed)
    src = "vae_kmeans" if method == "vae" else "ldebm_kmeans"
    for s, v in tm.cluster_scores(kmeans(mu_te), labels).items():
        out[f"bbc/{s}/{src}"] = v
    if method == "vae":
        out["bbc/kmeans_min_share/vae"] = tm.smallest_share(kmeans(mu_tr), mc.n_classes)
    else:
        for s, v in tm.cluster_scores(lrn.symbols(mu_te), labels).items():
            out[f"bbc/{s}/ldebm"] = v
        pseudo = epoch_order(lrn, x_tr, seed, mc.epochs)[1]  # the next epoch's pseudo-labels
        out["bbc/kmeans_min_share/ldebm"] = tm.smallest_share(pseudo, mc.n_classes)
        out["bbc/mi/ldebm"] = tm.class_head_mi(lrn, mu_te)
    return {"metrics": out}


def ptb_unit(cfg: TextConfig, seed: int, folder: Path, session: Session) -> dict:
    """The PTB smoke (smoke-level): LDEBM's text VAE on a training subset, scored on part of
    the validation split."""
    seed_everything(seed, torch=True)
    pc, mc = cfg.ptb, cfg.ptb.model
    train_c, valid_c = load("ptb", "train", mc.max_len), load("ptb", "valid", mc.max_len)
    sub = np.random.default_rng([seed, 7]).permutation(len(train_c.sentences))[: pc.train_sentences]
    sents = [train_c.sentences[i] for i in sub]
    vocab = Vocab.build(sents, mc.vocab_size)
    x_tr = vocab.encode(sents, mc.max_len)
    x_va = vocab.encode(valid_c.sentences[: pc.eval_sentences], mc.max_len)
    lrn = build("ldebm", mc, len(vocab))
    secs = _trained(lrn, x_tr, seed, "ptb_ldebm", folder, session, cfg)
    torch.manual_seed(seed + 10_000)
    mu, sc = lrn.means(x_va), cfg.scores
    out = {
        "ptb/recon_nll/ldebm": tm.reconstruction_nll(lrn, x_va),
        "ptb/token_acc/ldebm": tm.token_accuracy(lrn, x_va, False, seed),
        "ptb/token_acc_shuffled/ldebm": tm.token_accuracy(lrn, x_va, True, seed),
        "ptb/active_units/ldebm": tm.active_units(mu),
        "ptb/mi/ldebm": tm.class_head_mi(lrn, mu),
        "ptb/train_time_s/ldebm": secs,
        **likelihood_scores(lrn, vocab, x_va, sc, "ptb", "ldebm"),
    }
    if sc.rppl_samples:
        test_c = load("ptb", "test", mc.max_len)
        x_te = vocab.encode(test_c.sentences[: pc.eval_sentences], mc.max_len)
        out["ptb/rppl/ldebm"] = reverse_ppl(
            lrn, vocab, x_te, sc.rppl_samples, sc.rppl_epochs, seed, sc.rppl_max_steps
        )
    return {"metrics": out}


def run_text(cfg: TextConfig, session: Session) -> tuple[dict, dict]:
    """Every unit in order; (per-seed metrics, once-measured PTB metrics)."""
    corpus = load(cfg.dataset, "train", cfg.model.max_len)
    per_seed: dict[str, list[float]] = {}
    for seed in cfg.seeds:
        res = [
            session.unit(
                f"bbc-reference-seed{seed}", lambda _, s=seed: reference_unit(cfg, corpus, s)
            )
        ]
        for m in cfg.methods:
            res.append(
                session.unit(
                    f"bbc-{m}-seed{seed}",
                    lambda d, s=seed, m=m: bbc_unit(cfg, corpus, s, m, d, session),
                )
            )
        for r in res:
            for k, v in r["metrics"].items():
                per_seed.setdefault(k, []).append(float(v))
    once = {}
    if cfg.ptb.run:
        s0 = cfg.seeds[0]
        once = session.unit(f"ptb-ldebm-seed{s0}", lambda d: ptb_unit(cfg, s0, d, session))[
            "metrics"
        ]
    return per_seed, once


def write_text_report(
    cfg: TextConfig, profile: str, command: Callable[[bool], str], session: Session, res: tuple
) -> None:
    """Judge the evidence; text_metrics.json and the RESULTS.md section (committed) or the run
    folder's report; ``command(committed)`` is the command line the report names."""
    target = side_target("cpu-text", profile, cfg, TEXT_PROFILES, __file__, session)
    per_seed, once = res
    ev = build_text_evidence(profile, cfg.seeds, per_seed, once)
    info = {"model": to_dict(cfg.model), "ptb": to_dict(cfg.ptb), "scores": to_dict(cfg.scores)}
    notes = lambda doc: text_notes(doc, cfg)  # noqa: E731
    write_side_report(target, ev, info, TAG, HEADING, command, notes, session)
