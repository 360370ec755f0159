"""batok's `Encoding` against `tiktoken` for every encoding of tiktoken's registry.

The reference is tiktoken's own constructor (pattern, special tokens) over the rank files in
../shared/tokenizers/tiktoken/; batok uses its bundled copies, or for r50k/p50k the same files
through a tiktoken cache seeded from there. Corpus, the staged test vectors,
random text, the special-token policy, decoding arbitrary ids, and batches.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from _parity import (
    TiktokenFamily,
    describe_difference,
    outcome,
    report,
    text_with_tokens,
    tiktoken_differences,
    unicode_text,
)
from hypothesis import given, settings
from hypothesis import strategies as st

PARITY = settings.get_profile("batok-parity")


def test_corpus_matches_tiktoken(
    tiktoken_family: TiktokenFamily,
    corpus_file: Path,
    corpus_sampler: Callable[[Path, str], list],
    parity_tally,
) -> None:
    problems: list[str] = []
    for sample in corpus_sampler(corpus_file, tiktoken_family.name):
        problems += tiktoken_differences(tiktoken_family, sample.label, sample.text)
        parity_tally.add(tiktoken_family.name, sample.text)
    assert not problems, report(problems, f"tiktoken {tiktoken_family.name}")


def test_cases_match_tiktoken(tiktoken_family: TiktokenFamily, parity_tally) -> None:
    cases = json.loads(tiktoken_family.cases_file.read_text(encoding="utf-8"))
    assert isinstance(cases, list) and cases
    problems: list[str] = []
    for index, case in enumerate(cases):
        label = f"{tiktoken_family.cases_file.name}[{index}]"
        text = case["text"]
        expected = tiktoken_family.reference.encode(text, allowed_special="all")
        got = tiktoken_family.batok.encode(text, allowed_special="all")
        if got != expected:
            problems.append(describe_difference("ids", label, text, expected, got))
        problems += tiktoken_differences(tiktoken_family, label, text)
        parity_tally.add(tiktoken_family.name, text)
    assert not problems, report(problems, f"tiktoken {tiktoken_family.name}")


@settings(PARITY)
@given(text=unicode_text)
def test_random_unicode_matches_tiktoken(
    tiktoken_family: TiktokenFamily, text: str, parity_tally
) -> None:
    problems = tiktoken_differences(tiktoken_family, "random text", text)
    parity_tally.add(tiktoken_family.name, text)
    assert not problems, report(problems, f"tiktoken {tiktoken_family.name} on {text!r}")


def special_policies(specials: list[str]) -> st.SearchStrategy[tuple[object, object]]:
    """(allowed_special, disallowed_special) as callers pass them: "all", sets, tuples, ()."""
    subsets = st.sets(st.sampled_from(specials))
    allowed = st.one_of(st.just("all"), subsets)
    disallowed = st.one_of(st.just("all"), subsets.map(tuple), st.just(()))
    return st.tuples(allowed, disallowed)


@settings(PARITY)
@given(data=st.data())
def test_special_token_policy_matches_tiktoken(
    tiktoken_family: TiktokenFamily, data: st.DataObject, parity_tally
) -> None:
    reference, enc = tiktoken_family.reference, tiktoken_family.batok
    specials = sorted(reference.special_tokens_set)
    text = data.draw(text_with_tokens(specials), label="text")
    allowed, disallowed = data.draw(special_policies(specials), label="policy")
    expected = outcome(
        lambda: reference.encode(text, allowed_special=allowed, disallowed_special=disallowed)
    )
    got = outcome(lambda: enc.encode(text, allowed_special=allowed, disallowed_special=disallowed))
    parity_tally.add(tiktoken_family.name, text)
    assert got == expected, f"encode({text!r}, {allowed=}, {disallowed=})"
    expected_batch = outcome(
        lambda: reference.encode_batch(
            [text, text], allowed_special=allowed, disallowed_special=disallowed
        )
    )
    got_batch = outcome(
        lambda: enc.encode_batch(
            [text, text], allowed_special=allowed, disallowed_special=disallowed
        )
    )
    assert got_batch == expected_batch, f"encode_batch({text!r}, {allowed=}, {disallowed=})"


# tiktoken takes ~0.1 s per call here with o200k_harmony's 1,088 special tokens (it builds a
# regex of the disallowed ones on each call); outside the exhaustive mode an even spread of
# this many is checked.
SAMPLED_SPECIALS = 24


@pytest.mark.parametrize("position", ["alone", "inside", "twice"])
def test_disallowed_special_token_error_is_tiktokens(
    tiktoken_family: TiktokenFamily, position: str, exhaustive: bool
) -> None:
    reference, enc = tiktoken_family.reference, tiktoken_family.batok
    tokens = sorted(reference.special_tokens_set)
    if not exhaustive and len(tokens) > SAMPLED_SPECIALS:
        tokens = tokens[:: len(tokens) // SAMPLED_SPECIALS]
    for token in tokens:
        text = {"alone": token, "inside": f"a {token} b", "twice": f"{token}x{token}"}[position]
        with pytest.raises(ValueError) as expected:
            reference.encode(text)
        with pytest.raises(ValueError) as got:
            enc.encode(text)
        assert str(got.value) == str(expected.value)
        with pytest.raises(ValueError) as got_batch:
            enc.encode_batch(["fine", text])
        assert str(got_batch.value) == str(expected.value)
        assert enc.encode(text, allowed_special={token}) == reference.encode(
            text, allowed_special={token}
        )
        assert enc.encode(text, disallowed_special=()) == reference.encode(
            text, disallowed_special=()
        )


@settings(PARITY)
@given(data=st.data())
def test_decode_arbitrary_ids_matches_tiktoken(
    tiktoken_family: TiktokenFamily, data: st.DataObject
) -> None:
    # Arbitrary ids split UTF-8 characters and hit the gaps between ranks and special tokens.
    reference, enc = tiktoken_family.reference, tiktoken_family.batok
    ids = data.draw(
        st.lists(st.integers(min_value=0, max_value=reference.n_vocab + 2), max_size=20),
        label="ids",
    )
    assert outcome(lambda: enc.decode_bytes(ids)) == outcome(lambda: reference.decode_bytes(ids))
    assert outcome(lambda: enc.decode(ids)) == outcome(lambda: reference.decode(ids))
    assert outcome(lambda: enc.decode(ids, errors="strict")) == outcome(
        lambda: reference.decode(ids, errors="strict")
    )
    assert outcome(lambda: enc.decode_tokens_bytes(ids)) == outcome(
        lambda: reference.decode_tokens_bytes(ids)
    )
    assert outcome(lambda: enc.decode_with_offsets(ids)) == outcome(
        lambda: reference.decode_with_offsets(ids)
    )


@pytest.mark.parametrize(
    "num_threads", [None, 1, 2], ids=["threads_default", "threads_1", "threads_2"]
)
def test_encode_batch_equals_encode_on_corpus(
    tiktoken_family: TiktokenFamily,
    corpus_paths: tuple[Path, ...],
    corpus_sampler: Callable[[Path, str], list],
    num_threads: int | None,
) -> None:
    reference, enc = tiktoken_family.reference, tiktoken_family.batok
    texts = [sample.text for path in corpus_paths for sample in corpus_sampler(path, enc.name)]
    kwargs = {} if num_threads is None else {"num_threads": num_threads}
    ordinary = enc.encode_ordinary_batch(texts, **kwargs)
    assert ordinary == [enc.encode_ordinary(text) for text in texts]
    assert ordinary == reference.encode_ordinary_batch(texts)
    with_specials = enc.encode_batch(texts, allowed_special="all", **kwargs)
    assert with_specials == [enc.encode(text, allowed_special="all") for text in texts]
    assert with_specials == reference.encode_batch(texts, allowed_special="all")
    assert enc.decode_batch(with_specials) == reference.decode_batch(with_specials)
    assert enc.decode_bytes_batch(with_specials) == reference.decode_bytes_batch(with_specials)


@settings(PARITY)
@given(texts=st.lists(unicode_text, max_size=8), num_threads=st.sampled_from([None, 1, 2]))
def test_encode_batch_equals_encode(
    tiktoken_family: TiktokenFamily, texts: list[str], num_threads: int | None
) -> None:
    enc = tiktoken_family.batok
    kwargs = {} if num_threads is None else {"num_threads": num_threads}
    assert enc.encode_ordinary_batch(texts, **kwargs) == [enc.encode_ordinary(t) for t in texts]
    assert enc.encode_batch(texts, disallowed_special=(), **kwargs) == [
        enc.encode(t, disallowed_special=()) for t in texts
    ]
    assert enc.encode_ordinary_batch(texts, **kwargs) == (
        tiktoken_family.reference.encode_ordinary_batch(texts)
    )
