"""Pre-tokenized input (`tokenizers`' `encode(words, is_pretokenized=True)`) against `tokenizers`.

Every staged family encodes corpus samples given as lists of words, alone, in pairs and in
batches, with and without special tokens, and under truncation and padding: each word is a text
of its own, so the ids, tokens, offsets (within each word), word indices, type ids, masks and
sequence ids must be `tokenizers`' own.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tokenizers
from _parity import HfFamily, describe_difference, report

FIELDS = ("ids", "tokens", "offsets", "word_ids", "type_ids", "attention_mask")
FIELDS = (*FIELDS, "special_tokens_mask", "sequence_ids")
# Words per sample: the split's length adds time, not coverage.
WORDS = 80
# Samples per corpus file: a word's encoding is a text's, compared exhaustively elsewhere.
SAMPLES = 1


def _word_lists(corpus_paths: tuple[Path, ...], sampler: Callable[..., list], name: str):
    """(label, words) for the seeded sample of every corpus file, split three ways: on
    whitespace, keeping each word's leading spaces, and into runs of five chars (words that
    cut through other words, and empty words from the ends)."""
    out = []
    for path in corpus_paths:
        for s in sampler(path, name, exhaustive=False)[:SAMPLES]:
            text = s.text
            out.append((f"{s.label} split", text.split()[:WORDS]))
            kept = [w for w in text.replace("\n", " \n").split(" ")][:WORDS]
            out.append((f"{s.label} spaces kept", [" " + w for w in kept]))
            runs = [text[i : i + 5] for i in range(0, min(len(text), 5 * WORDS), 5)]
            out.append((f"{s.label} runs", ["", *runs, ""]))
    return out


def _differences(reference: Any, ours: Any, label: str, words: list[str]) -> list[str]:
    return [
        describe_difference(field, label, " | ".join(words), getattr(reference, field), got)
        for field in FIELDS
        if (got := getattr(ours, field)) != getattr(reference, field)
    ]


@pytest.mark.parametrize("add_special_tokens", [False, True], ids=["plain", "with_specials"])
def test_word_lists_match_tokenizers(
    hf_family: HfFamily,
    corpus_paths: tuple[Path, ...],
    corpus_sampler: Callable[..., list],
    add_special_tokens: bool,
) -> None:
    problems: list[str] = []
    lists = _word_lists(corpus_paths, corpus_sampler, hf_family.name)
    for k, (label, words) in enumerate(lists):
        ref, tok, add = hf_family.reference, hf_family.batok, add_special_tokens
        want = ref.encode(words, is_pretokenized=True, add_special_tokens=add)
        got = tok.encode_plus(words, None, add, is_pretokenized=True)
        problems += _differences(want, got, label, words)
        second = lists[(k + 7) % len(lists)][1][:20]
        want = ref.encode(words, second, is_pretokenized=True, add_special_tokens=add)
        got = tok.encode_plus(words, second, add, is_pretokenized=True)
        problems += _differences(want, got, f"{label} (pair)", words)
    assert not problems, report(problems, f"tokenizers pre-tokenized input with {hf_family.name}")


def test_word_list_batches_match_tokenizers(
    hf_family: HfFamily,
    corpus_paths: tuple[Path, ...],
    corpus_sampler: Callable[..., list],
) -> None:
    """A batch mixing word lists and pairs of them, as `tokenizers`' `encode_batch` takes it,
    and the ids-only calls on the same input."""
    lists = [w for _, w in _word_lists(corpus_paths, corpus_sampler, hf_family.name)]
    items: list[Any] = [(w, lists[k - 1][:10]) if k % 3 == 0 else w for k, w in enumerate(lists)]
    want = hf_family.reference.encode_batch(items, is_pretokenized=True)
    got = hf_family.batok.encode_batch_plus(items, num_threads=2, is_pretokenized=True)
    problems = []
    for k, (w, g) in enumerate(zip(want, got, strict=True)):
        problems += _differences(w, g, f"batch item {k}", lists[k])
    singles = [w for w in items if not isinstance(w, tuple)]
    want_ids = [e.ids for e in hf_family.reference.encode_batch(singles, is_pretokenized=True)]
    if hf_family.batok.encode_batch(singles, is_pretokenized=True) != want_ids:
        problems.append("encode_batch(..., is_pretokenized=True) ids differ")
    if [hf_family.batok.encode(w, is_pretokenized=True) for w in singles[:50]] != want_ids[:50]:
        problems.append("encode(..., is_pretokenized=True) ids differ")
    assert not problems, report(problems, f"tokenizers pre-tokenized batches, {hf_family.name}")


def test_word_lists_under_truncation_and_padding_match_tokenizers(
    hf_family: HfFamily,
    corpus_paths: tuple[Path, ...],
    corpus_sampler: Callable[..., list],
) -> None:
    # Copies: the session's tokenizers stay as their files made them.
    ref = tokenizers.Tokenizer.from_str(hf_family.reference.to_str())
    tok = copy.copy(hf_family.batok)
    for t in (ref, tok):
        t.enable_truncation(24, stride=4)
        t.enable_padding(pad_id=0, pad_token="[PAD]", pad_to_multiple_of=8)
    lists = [w for _, w in _word_lists(corpus_paths, corpus_sampler, hf_family.name)][:30]
    want = ref.encode_batch(lists, is_pretokenized=True)
    got = tok.encode_batch_plus(lists, num_threads=2, is_pretokenized=True)
    problems = []
    for k, (w, g) in enumerate(zip(want, got, strict=True)):
        problems += _differences(w, g, f"item {k}", lists[k])
        overflow = [[e.ids for e in enc.overflowing] for enc in (w, g)]
        if overflow[0] != overflow[1]:
            problems.append(f"item {k}: overflowing windows differ")
    assert not problems, report(problems, f"tokenizers truncated word lists, {hf_family.name}")


def test_word_lists_must_be_lists_of_str(hf_family: HfFamily) -> None:
    tok = hf_family.batok
    with pytest.raises(TypeError, match="list of words"):
        tok.encode_plus("not a list", is_pretokenized=True)
    with pytest.raises(TypeError, match=r"text\[1\] must be a str"):
        tok.encode_plus(["a", 2], is_pretokenized=True)
    with pytest.raises(TypeError, match=r"texts\[0\]"):
        tok.encode_batch_plus(["a b"], is_pretokenized=True)
