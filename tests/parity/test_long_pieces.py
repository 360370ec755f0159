"""Long pre-tokenizer pieces against tiktoken and tokenizers.

Text without whitespace makes pieces of hundreds or millions of bytes. batok encodes pieces
with a linear-time backtracking encoder once it is built (on the first piece of 64 KiB or more,
or after 4 MiB of merging) instead of the heap merge; these tests pin both to the references on
exactly such text: lengths around the cache limit, alphabets where merges interact a lot, and
random mixes. Each test first encodes one piece long enough to build the encoder.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest
from _parity import HfFamily, TiktokenFamily, describe_difference, hf_differences, report
from hypothesis import given, settings
from hypothesis import strategies as st

PARITY = settings.get_profile("batok-parity")

LENGTHS = [49, 64, 128, 129, 200, 256, 1_000, 4_000]
# Over the size that builds the linear-time encoder.
BUILD_LENGTH = 70_000
EXHAUSTIVE_LENGTHS = [*LENGTHS, 20_000]


def _from(alphabet: str) -> Callable[[random.Random, int], str]:
    return lambda rng, n: "".join(rng.choices(alphabet, k=n))


PROSE: list[str] = []


def _load_prose(corpus_paths: tuple[Path, ...]) -> None:
    if not PROSE:
        prose = next(p for p in corpus_paths if p.name == "english_prose_gutenberg.txt")
        PROSE.append("".join(prose.read_text("utf-8").split()))


def _prose_without_whitespace(rng: random.Random, n: int) -> str:
    start = rng.randrange(len(PROSE[0]) - n)
    return PROSE[0][start : start + n]


KINDS: dict[str, Callable[[random.Random, int], str]] = {
    "ascii letters": _from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    "two letters": _from("ab"),
    "one letter": lambda rng, n: "a" * n,
    "accented and cyrillic": _from("éèüñçøåßабвгдежзийклмн"),
    "cjk": lambda rng, n: "".join(chr(rng.randrange(0x4E00, 0xA000)) for _ in range(n)),
    "punctuation": _from("!#$%&*+-./:;<=>?@^_|~=()[]{}"),
    "prose without whitespace": _prose_without_whitespace,
}


def long_texts(
    kind: str, lengths: list[int], seeds: int, corpus_paths: tuple[Path, ...]
) -> list[tuple[str, str]]:
    """(label, text) for every length and seed: seeded, so every run compares the same texts."""
    _load_prose(corpus_paths)
    return [
        (f"{kind} {n}", KINDS[kind](random.Random(f"{kind}/{n}/{seed}"), n))
        for n in lengths
        for seed in range(seeds)
    ]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_long_pieces_match_tiktoken(
    tiktoken_family: TiktokenFamily,
    kind: str,
    corpus_paths: tuple[Path, ...],
    exhaustive: bool,
    parity_tally,
) -> None:
    reference, enc = tiktoken_family.reference, tiktoken_family.batok
    build = long_texts("ascii letters", [BUILD_LENGTH], 1, corpus_paths)[0][1]
    assert enc.encode_ordinary(build) == reference.encode_ordinary(build)
    problems: list[str] = []
    lengths = EXHAUSTIVE_LENGTHS if exhaustive else LENGTHS
    cases = long_texts(kind, lengths, 10 if exhaustive else 2, corpus_paths)
    for label, text in cases:
        expected = reference.encode_ordinary(text)
        got = enc.encode_ordinary(text)
        if got != expected:
            problems.append(describe_difference("ids", label, text, expected, got))
        if enc.count_tokens(text) != len(expected):
            problems.append(f"{label}: count_tokens {enc.count_tokens(text)}")
        parity_tally.add(tiktoken_family.name, text)
    texts = [text for _, text in cases]
    assert enc.encode_ordinary_batch(texts, num_threads=2) == [
        reference.encode_ordinary(t) for t in texts
    ]
    assert not problems, report(problems, f"tiktoken {tiktoken_family.name} long pieces")


@settings(PARITY)
@given(
    text=st.text(
        alphabet=st.sampled_from(list("abcdeéa日本語!-.")),
        min_size=49,
        max_size=3_000,
    )
)
def test_random_long_pieces_match_tiktoken(
    tiktoken_family: TiktokenFamily, text: str, parity_tally
) -> None:
    reference, enc = tiktoken_family.reference, tiktoken_family.batok
    # A piece long enough to build the linear-time encoder first, so that it is used.
    warm = "x" * BUILD_LENGTH
    assert enc.encode_ordinary(warm) == reference.encode_ordinary(warm)
    parity_tally.add(tiktoken_family.name, text)
    assert enc.encode_ordinary(text) == reference.encode_ordinary(text), text


HF_LENGTHS = [49, 129, 256, 1_000, 4_000]
EXHAUSTIVE_HF_LENGTHS = [*HF_LENGTHS, 20_000]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_long_pieces_match_tokenizers(
    hf_family: HfFamily,
    kind: str,
    corpus_paths: tuple[Path, ...],
    exhaustive: bool,
    parity_tally,
) -> None:
    # tokenizer.json models whose merges rank every token once (GPT-2, Qwen, ...) take the
    # same linear-time encoder for long pieces; the others keep the heap merge. Both must match.
    build = long_texts("ascii letters", [BUILD_LENGTH], 1, corpus_paths)[0][1]
    problems = hf_differences(hf_family, "build", build, False)
    lengths = EXHAUSTIVE_HF_LENGTHS if exhaustive else HF_LENGTHS
    for label, text in long_texts(kind, lengths, 4 if exhaustive else 1, corpus_paths):
        problems += hf_differences(hf_family, label, text, True)
        parity_tally.add(hf_family.name, text)
    assert not problems, report(problems, f"{hf_family.name} long pieces")


def test_a_million_letters_in_one_piece_match_tokenizers(hf_family: HfFamily) -> None:
    # Long enough to overflow a bounded backtracking stack, had a split regex's lookahead
    # (`\s+(?!\S)`) put the whole pattern on a backtracking engine.
    text = "".join(random.Random(7).choices("abcdefghijklmnopqrstuvwxyz", k=1_000_000))
    expected = hf_family.reference.encode(text).ids
    got = hf_family.batok.encode(text)
    assert got == expected, report(
        [describe_difference("ids", "a million letters", text, expected, got)], hf_family.name
    )
