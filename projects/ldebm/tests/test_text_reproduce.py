"""The text entry (profile text-smoke): a valid document, a RESULTS.md section that survives a
cpu run, gates → untestable, bad input, and the text-paper profile's two CPU steps."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
import torch
from ldebm import reproduce as rep
from ldebm import sections
from ldebm import text_experiment as tx
from ldebm import text_learning as tl
from ldebm.corpus import Vocab
from ldebm.reverse_ppl import perplexity, sample_sentences, train_lm
from ldebm.text_claims import CLAIMS, GATES, build_text_evidence
from ldebm.text_configs import TEXT_PROFILES

from reprokit.claims import validate
from reprokit.config import parse
from reprokit.lifecycle import ReportTarget
from reprokit.report import section_markers
from reprokit.testing import run_entry


def exit_code(tmp_path: Path, *args: str) -> int:
    return run_entry(rep.PROG, rep.run, list(args), tmp_path / "runs")


def _committed_into(folder: Path):
    """A report_target that treats the run as committed, with RESULTS.md in ``folder``."""

    def target(*args, **kwargs) -> ReportTarget:
        folder.mkdir(parents=True, exist_ok=True)
        return ReportTarget(folder, folder / "RESULTS.md", True, "test")

    return target


@pytest.fixture(scope="module")
def text_smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    """One text-smoke run written as if committed into a tmp RESULTS.md: (document, folder)."""
    tmp = tmp_path_factory.mktemp("text")
    mp = pytest.MonkeyPatch()
    mp.setattr(sections, "report_target", _committed_into(tmp / "r"))
    with contextlib.redirect_stdout(io.StringIO()):
        assert exit_code(tmp, "--profile", "text-smoke") == 0
    mp.undo()
    return json.loads((tmp / "r" / "text_metrics.json").read_text()), tmp


def test_text_smoke_writes_a_valid_document_and_a_marked_section(text_smoke):
    doc, tmp = text_smoke
    assert validate(doc) == []
    assert [g["id"] for g in doc["gates"]] == [g.id for g in GATES]
    assert [c["id"] for c in doc["claims"]] == [c.id for c in CLAIMS]
    for name in ("bbc/homogeneity/ldebm", "bbc/homogeneity/vae_kmeans", "bbc/token_acc/vae"):
        assert doc["metrics"][name]["n"] == 3
    assert "value" in doc["metrics"]["ptb/recon_nll/ldebm"]  # the PTB smoke: measured once
    for name in ("bbc/nll_is/ldebm", "bbc/nll_is_b1/ldebm", "bbc/nll_is/vae", "bbc/bleu/vae"):
        assert doc["metrics"][name]["n"] == 3
    for name in ("ptb/nll_is/ldebm", "ptb/bleu/ldebm", "ptb/rppl/ldebm"):
        assert "value" in doc["metrics"][name]
    assert doc["metrics"]["ptb/rppl/ldebm"]["value"] > 1.0
    start, end = section_markers(tx.TAG)
    text = (tmp / "r" / "RESULTS.md").read_text()
    assert start in text and end in text and "PTB smoke (smoke-level" in text


def test_a_cpu_run_keeps_the_text_section(text_smoke, monkeypatch):
    _, tmp = text_smoke
    section = (tmp / "r" / "RESULTS.md").read_text()
    monkeypatch.setattr(rep, "report_target", _committed_into(tmp / "r"))
    with contextlib.redirect_stdout(io.StringIO()):
        assert exit_code(tmp, "--profile", "smoke") == 0
    text = (tmp / "r" / "RESULTS.md").read_text()
    assert text.startswith("# ldebm") and "G_fit_ldebm" in text  # the 2-D report ...
    start, end = section_markers(tx.TAG)
    kept = start + section.split(start, 1)[1].split(end, 1)[0] + end
    assert kept in text  # ... with the text section unchanged


def test_a_failed_reconstruction_gate_makes_the_text_claims_untestable():
    same = [0.30, 0.31, 0.29]
    per_seed = {
        "bbc/token_acc/ldebm": same,
        "bbc/token_acc/ldebm_shuffled": same,
        "bbc/homogeneity/ldebm": [0.5, 0.6, 0.55],
        "bbc/homogeneity/vae_kmeans": [0.1, 0.12, 0.11],
    }
    doc = build_text_evidence("cpu-text", [0, 1, 2], per_seed, {}).to_dict(1.0)
    assert not next(g for g in doc["gates"] if g["id"] == "G_recon_ldebm")["passed"]
    assert next(c for c in doc["claims"] if c["id"] == "T1")["verdict"] == "untestable"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dataset", "yelp"], "invalid choice 'yelp'"),
        (["--methods", "svebm"], "invalid choice 'svebm'"),
        (["--model.pca_dim", "9"], "exceeds --model.latent"),
        (["--heldout", "1.5"], "--heldout"),
        (["--seeds", "4,4"], "repeated seed"),
    ],
)
def test_text_bad_input_is_one_line_before_any_step(tmp_path, capsys, args, message):
    code = exit_code(tmp_path, "--profile", "text-smoke", *args)
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and message in err
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").rglob("result.json"))


def test_text_paper_profile_builds_the_official_sizes_and_takes_two_steps():
    _, cfg = parse(TEXT_PROFILES, ["--profile", "text-paper"])
    mc = cfg.ptb.model
    assert (mc.emb, mc.hidden, mc.latent, mc.n_classes) == (512, 512, 40, 20)
    assert (mc.ebm_hidden, mc.n_blocks, mc.langevin_steps, mc.batch_size) == (200, 12, 50, 128)
    torch.manual_seed(0)
    lrn = tl.build("ldebm", mc, mc.vocab_size)
    opt = lrn.optimizer()
    x = torch.randint(4, mc.vocab_size, (4, 12))  # batch shrunk from the official 128
    x[:, 0], x[:, -1] = 1, 2
    for _ in range(2):
        loss = tl.ldebm_text_loss(lrn, x, torch.randint(0, mc.n_classes, (4,)))
        opt.zero_grad()
        loss.backward()
        opt.step()
        assert torch.isfinite(loss)


def test_text_paper_reverse_ppl_builds_the_language_model_and_takes_two_steps():
    _, cfg = parse(TEXT_PROFILES, ["--profile", "text-paper"])
    mc, sc = cfg.ptb.model, cfg.scores
    assert (sc.rppl_samples, sc.rppl_epochs) == (46_000, 20)
    torch.manual_seed(0)
    lrn = tl.build("ldebm", mc, mc.vocab_size)
    vocab = Vocab(["<pad>", "<s>", "</s>", "<unk>", *(f"w{i}" for i in range(mc.vocab_size - 4))])
    samples = sample_sentences(lrn, vocab, 3, 6)  # 3 of the official 46 000 samples
    assert len(samples) == 3 and all(len(s) <= 6 for s in samples)
    x = vocab.encode(samples, 6)
    lm = train_lm(x, len(vocab), mc.emb, mc.hidden, 1, 2, seed=0, max_steps=2)
    assert lm.embed.weight.shape == (mc.vocab_size, 512)
    assert perplexity(lm, x) > 1.0
