"""BPE dropout (`model.dropout`), as `tokenizers` runs it.

With a dropout p, each merge is skipped with probability p when it comes up, so every encode
is a random draw. Where the draw cannot matter (p = 0: no dropout; p = 1: nothing merges) the
ids, tokens and offsets must be `tokenizers`' own; in between, the frequencies of the
outcomes must be `tokenizers`' frequencies, and every outcome must spell the text.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import tokenizers

import batok

# BPE files of every kind of pipeline: byte-level (GPT-2, Llama-3.2), SentencePiece with
# byte fallback (Llama-2), and a byte-level file with a trimming post-processor (RoBERTa).
FAMILIES = ("gpt2", "llama-2", "llama-3.2", "roberta-base")

SMALL_VOCAB = {"a": 0, "b": 1, "c": 2, "ab": 3, "bc": 4, "abc": 5}
SMALL_MERGES = ["a b", "b c", "ab c"]


def with_dropout(config: dict[str, Any], dropout: float | None) -> str:
    config = dict(config, model=dict(config["model"], dropout=dropout))
    return json.dumps(config)


def small(dropout: float | None) -> str:
    model = {"type": "BPE", "vocab": SMALL_VOCAB, "merges": SMALL_MERGES, "dropout": dropout}
    return json.dumps({"version": "1.0", "model": model})


def family_config(tokenizers_dir: Path, family: str) -> dict[str, Any]:
    path = tokenizers_dir / family / "tokenizer.json"
    if not path.exists():
        pytest.skip(f"{path} is not staged")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def texts(corpus_dir: Path) -> list[str]:
    texts = ["Hello world! It's 2024, naïve café 😀 — ok", "  leading spaces\n\nand tabs\t"]
    for name in ("english_prose_gutenberg.txt", "code_python.txt", "arabic_udhr.txt"):
        path = corpus_dir / name
        if path.exists():
            texts.append(path.read_text(encoding="utf-8")[5_000:6_500])
    return texts


@pytest.mark.parametrize("family", FAMILIES)
# 1e-50 and 1 + 1e-10 are 0 and 1 as the f32 `tokenizers` keeps.
@pytest.mark.parametrize("dropout", [0.0, 1e-50, 1.0, 1.0000000001])
def test_dropout_of_zero_or_one_encodes_as_tokenizers(
    tokenizers_dir: Path, texts: list[str], family: str, dropout: float
) -> None:
    text = with_dropout(family_config(tokenizers_dir, family), dropout)
    reference = tokenizers.Tokenizer.from_str(text)
    ours = batok.Tokenizer.from_str(text)
    for sample in texts:
        expected = reference.encode(sample)
        got = ours.encode_plus(sample)
        assert list(got.ids) == expected.ids, sample[:60]
        assert list(got.tokens) == expected.tokens, sample[:60]
        assert list(got.offsets) == expected.offsets, sample[:60]
        assert ours.encode(sample) == expected.ids, sample[:60]
        assert ours.encode_batch([sample, sample])[1] == expected.ids
        assert ours.decode(expected.ids, skip_special_tokens=True) == reference.decode(expected.ids)


def test_dropout_of_one_merges_nothing() -> None:
    ours = batok.Tokenizer.from_str(small(1.0))
    assert ours.encode("abcab") == [0, 1, 2, 0, 1]


def two_sample_close(a: Counter[Any], b: Counter[Any], n: int) -> list[str]:
    """The outcomes whose shares in two samples of `n` draws each are further apart than five
    standard deviations of their difference (plus a floor for outcomes rare in both)."""
    far = []
    for key in set(a) | set(b):
        pa, pb = a[key] / n, b[key] / n
        p = (pa + pb) / 2
        sigma = math.sqrt(max(p * (1 - p), 1 / n) * 2 / n)
        if abs(pa - pb) > 5 * sigma:
            far.append(f"{key}: tokenizers {a[key]}, batok {b[key]} of {n}")
    return far


@pytest.mark.parametrize("dropout", [0.3, 0.7])
def test_outcomes_come_as_often_as_in_tokenizers(dropout: float) -> None:
    # "abc": the skipped merge waits for the next one that is not skipped, and stale queue
    # entries draw too; those rules set the shares of the four outcomes.
    n = 20_000
    reference = tokenizers.Tokenizer.from_str(small(dropout))
    ours = batok.Tokenizer.from_str(small(dropout))
    expected = Counter(tuple(reference.encode("abc").ids) for _ in range(n))
    got = Counter(tuple(ours.encode("abc")) for _ in range(n))
    assert len(got) == 4
    assert not two_sample_close(expected, got, n)


def test_outcomes_on_a_real_file_come_as_often_as_in_tokenizers(tokenizers_dir: Path) -> None:
    text = with_dropout(family_config(tokenizers_dir, "gpt2"), 0.5)
    reference = tokenizers.Tokenizer.from_str(text)
    ours = batok.Tokenizer.from_str(text)
    n, word = 4_000, " internationalization"
    expected = Counter(len(reference.encode(word).ids) for _ in range(n))
    got = Counter(len(ours.encode(word)) for _ in range(n))
    assert len(got) >= 3, got
    assert not two_sample_close(expected, got, n)


@pytest.mark.parametrize("family", FAMILIES)
def test_every_random_encoding_spells_the_text(
    tokenizers_dir: Path, texts: list[str], family: str
) -> None:
    config = family_config(tokenizers_dir, family)
    ours = batok.Tokenizer.from_str(with_dropout(config, 0.5))
    plain = batok.Tokenizer.from_str(with_dropout(config, None))
    outcomes = []
    for sample in texts:
        seen = set()
        for _ in range(5):
            enc = ours.encode_plus(sample)
            seen.add(tuple(enc.ids))
            # (Not fewer tokens than without dropout, always: a skipped merge can let a
            # later one make a longer token than greedy BPE reaches.)
            assert ours.decode(list(enc.ids)) == plain.decode(plain.encode(sample)), sample[:60]
        outcomes.append(len(seen))
    # Skipped merges come back until the last ones, so a text can have few outcomes (Llama-2
    # reads a whole text as one word: English prose has five, one drawn half the time); code
    # has a new one nearly every draw.
    assert max(outcomes) > 1, outcomes


@pytest.mark.parametrize("dropout", [1.5, -0.1, 1e40])
def test_a_dropout_that_is_no_probability_is_refused_as_in_tokenizers(dropout: float) -> None:
    with pytest.raises(Exception, match="between 0 and 1"):
        tokenizers.Tokenizer.from_str(small(dropout))
    with pytest.raises(batok.BatokError, match=r"model\.dropout: .* must be from 0 to 1"):
        batok.Tokenizer.from_str(small(dropout))


def test_the_dropout_is_kept_when_saved() -> None:
    ours = batok.Tokenizer.from_str(small(0.25))
    assert json.loads(ours.to_str())["model"]["dropout"] == 0.25
