"""Comparing batok with its references (`tokenizers`, `tiktoken`) and describing differences.

Every comparison returns a list of problems, each naming the text it came from, the first index
where batok and the reference differ and the text around it; a test collects them over many texts
and fails with the first few. The reference is always right: a difference is a batok bug.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tiktoken
import tokenizers
from hypothesis import strategies as st

import batok

# How many problems a failing test shows (it also says how many there were).
MAX_REPORTED = 5

ENCODING_FIELDS = (
    "ids",
    "tokens",
    "offsets",
    "type_ids",
    "attention_mask",
    "special_tokens_mask",
    "word_ids",
)


@dataclass
class HfFamily:
    """A tokenizer.json loaded by `tokenizers` (the reference) and by batok."""

    name: str
    reference: tokenizers.Tokenizer
    batok: batok.Tokenizer
    added_tokens: tuple[str, ...]


@dataclass
class TiktokenFamily:
    """An OpenAI encoding built by tiktoken (the reference) and batok's bundled one."""

    name: str
    reference: tiktoken.Encoding
    batok: batok.Encoding
    cases_file: Path


# ------------------------------------------------------------------ describing differences


def first_difference(expected: Sequence[Any], got: Sequence[Any]) -> int:
    for index, (left, right) in enumerate(zip(expected, got, strict=False)):
        if left != right:
            return index
    return min(len(expected), len(got))


def describe_difference(
    what: str,
    label: str,
    text: str,
    expected: Sequence[Any],
    got: Sequence[Any],
    offsets: Sequence[tuple[int, int]] | None = None,
) -> str:
    """One line (or a few) saying where `got` first departs from `expected`."""
    index = first_difference(expected, got)
    low, high = max(0, index - 3), index + 4
    if offsets is not None and index < len(offsets) and offsets[index] != (0, 0):
        start = offsets[index][0]
        where = (
            f"text from 30 characters before that token: {text[max(0, start - 30) : start + 50]!r}"
        )
    else:
        where = f"text starts {text[:80]!r}"
    return (
        f"{what} differ on {label} ({len(text)} chars): expected {len(expected)} items, got "
        f"{len(got)}; first difference at index {index}: expected[{low}:{high}] = "
        f"{expected[low:high]!r}, got[{low}:{high}] = {got[low:high]!r}; {where}"
    )


def report(problems: list[str], what: str) -> str:
    shown = "\n".join(f"- {problem}" for problem in problems[:MAX_REPORTED])
    more = len(problems) - MAX_REPORTED
    tail = f"\n... and {more} more" if more > 0 else ""
    return f"{len(problems)} difference(s) from {what}:\n{shown}{tail}"


def outcome(call: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[str, Any]:
    """("ok", result) or ("raised", "ExceptionType: message"), for comparing two calls."""
    try:
        return ("ok", call(*args, **kwargs))
    except Exception as err:  # noqa: BLE001 - any exception is an outcome to compare
        return ("raised", f"{type(err).__name__}: {err}")


def reference_or_none(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """What a `tokenizers` call returns, or None where it fails. On some files it cannot run
    it panics, and its PanicException derives from BaseException, not Exception; batok
    raises a ValueError there, which the caller checks."""
    try:
        return call(*args, **kwargs)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # noqa: BLE001 - tokenizers' PanicException is one
        return None


# ------------------------------------------------------------------ tokenizers (tokenizer.json)


def hf_differences(family: HfFamily, label: str, text: str, add_special_tokens: bool) -> list[str]:
    """Every way batok's `Tokenizer` departs from `tokenizers` on `text`.

    Compares the whole `Encoding` (ids, tokens, character offsets, masks), `encode`,
    `count_tokens`, and `decode` of batok's ids with and without special tokens against the
    reference's `decode` of the same ids; and requires the round trip `decode(encode(text))`
    wherever the reference has it.
    """
    mode = f"add_special_tokens={add_special_tokens}"
    try:
        expected = family.reference.encode(text, add_special_tokens=add_special_tokens)
    except Exception as err:  # noqa: BLE001 - the reference refuses the text: batok must too
        refused = outcome(
            lambda: family.batok.encode_plus(text, add_special_tokens=add_special_tokens)
        )
        if refused[0] == "ok":
            return [f"tokenizers raised {err!r} on {label} ({mode}); batok returned an Encoding"]
        return []
    got = family.batok.encode_plus(text, add_special_tokens=add_special_tokens)
    problems = []
    for field in ENCODING_FIELDS:
        expected_values = list(getattr(expected, field))
        got_values = list(getattr(got, field))
        if expected_values != got_values:
            problems.append(
                describe_difference(
                    f"{field} ({mode})", label, text, expected_values, got_values, expected.offsets
                )
            )
    ids = list(got.ids)
    plain_ids = family.batok.encode(text, add_special_tokens=add_special_tokens)
    if plain_ids != ids:
        problems.append(
            describe_difference(
                f"encode() vs encode_plus().ids ({mode})", label, text, ids, plain_ids
            )
        )
    count = family.batok.count_tokens(text, add_special_tokens=add_special_tokens)
    if count != len(ids):
        problems.append(f"count_tokens() = {count} but encode gives {len(ids)} ids on {label}")
    for skip in (False, True):
        what = f"decode(skip_special_tokens={skip}) of batok's ids ({mode})"
        reference_text = outcome(family.reference.decode, ids, skip_special_tokens=skip)
        batok_text = outcome(family.batok.decode, ids, skip_special_tokens=skip)
        if reference_text != batok_text:
            if reference_text[0] == batok_text[0] == "ok":
                problems.append(
                    describe_difference(what, label, text, reference_text[1], batok_text[1])
                )
            else:
                problems.append(
                    f"{what} on {label}: tokenizers {reference_text}, batok {batok_text}"
                )
    # The round trip, where the reference has it (it does not when normalization is lossy).
    reference_round_trip = family.reference.decode(expected.ids, skip_special_tokens=True)
    if reference_round_trip == text:
        batok_round_trip = family.batok.decode(ids, skip_special_tokens=True)
        if batok_round_trip != text:
            problems.append(
                describe_difference(
                    f"round trip decode(encode(text)) ({mode})",
                    label,
                    text,
                    text,
                    batok_round_trip,
                )
            )
    return problems


# ------------------------------------------------------------------ tiktoken


def tiktoken_differences(family: TiktokenFamily, label: str, text: str) -> list[str]:
    """Every way batok's `Encoding` departs from tiktoken on `text`.

    `encode_ordinary`, `encode` with all specials allowed, with none disallowed and with the
    defaults (same ids, or the same ValueError), `count_tokens`, `encode_to_numpy`, `decode` and
    `decode_bytes` of batok's ids, and the round trip.
    """
    reference, enc = family.reference, family.batok
    problems = []

    expected = reference.encode_ordinary(text)
    got = enc.encode_ordinary(text)
    if got != expected:
        problems.append(describe_difference("encode_ordinary ids", label, text, expected, got))

    expected_all = reference.encode(text, allowed_special="all")
    got_all = enc.encode(text, allowed_special="all")
    if got_all != expected_all:
        problems.append(
            describe_difference(
                "encode(allowed_special='all') ids", label, text, expected_all, got_all
            )
        )

    got_none = enc.encode(text, disallowed_special=())
    if got_none != expected:
        problems.append(
            describe_difference(
                "encode(disallowed_special=()) ids", label, text, expected, got_none
            )
        )

    expected_default = outcome(lambda: reference.encode(text))
    got_default = outcome(lambda: enc.encode(text))
    if got_default != expected_default:
        problems.append(
            f"encode() with the default special-token policy on {label}: "
            f"tiktoken {expected_default!r:.300}, batok {got_default!r:.300}"
        )

    count = enc.count_tokens(text)
    if count != len(expected):
        problems.append(f"count_tokens() = {count}, tiktoken has {len(expected)} on {label}")
    as_numpy = enc.encode_to_numpy(text, disallowed_special=()).tolist()
    if as_numpy != expected:
        problems.append(describe_difference("encode_to_numpy ids", label, text, expected, as_numpy))

    expected_bytes = reference.decode_bytes(got_all)
    got_bytes = enc.decode_bytes(got_all)
    if got_bytes != expected_bytes:
        problems.append(describe_difference("decode_bytes", label, text, expected_bytes, got_bytes))
    if reference.decode(expected) == text and enc.decode(got) != text:
        problems.append(
            describe_difference(
                "round trip decode(encode_ordinary(text))", label, text, text, enc.decode(got)
            )
        )
    return problems


# ------------------------------------------------------------------ random text

WHITESPACE = (
    " ",
    "  ",
    "\t",
    "\n",
    "\n\n",
    "\r\n",
    "\r",
    "\x0b",
    "\x0c",
    "\x85",
    "\u00a0",
    "\u1680",
    "\u2002",
    "\u2009",
    "\u200b",
    "\u2028",
    "\u2029",
    "\u202f",
    "\u3000",
    "\ufeff",
)
EMOJI = (
    "😀",
    "👍",
    "👍🏽",
    "👨‍👩‍👧‍👦",
    "🇯🇵",
    "🏳️‍🌈",
    "❤️",
    "1️⃣",
    "🏴󠁧󠁢󠁳󠁣󠁴󠁿",
    "🫠",
    "🧑🏿‍🚀",
)
WORDS = (
    "Hello",
    " world",
    "don't",
    "I'M",
    "'s",
    "'ll",
    " 12345",
    "3.14159",
    "1,000,000",
    "naïve",
    "Ünïcödé",
    "ﬁ",
    "Å",
    "é",
    "ǅ",
    "def f(x):\n    return x",
    "http://example.com/a?b=c&d=e",
    "<s>",
    "</s>",
    "[CLS]",
    "<|endoftext|>",
    "<|endoftext",
    "<|",
    "|>",
    "▁",
    "Ġ",
    "<0x0A>",
)

_letters = st.characters(categories=("L",))
_combining = st.characters(categories=("Mn", "Mc", "Me"))
_cjk = st.one_of(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
    st.characters(min_codepoint=0x3040, max_codepoint=0x30FF),
    st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3),
)
_controls = st.characters(categories=("Cc", "Cf", "Zs", "Zl", "Zp"))
_any_char = st.characters(exclude_categories=("Cs",))
_ascii = st.characters(min_codepoint=0x20, max_codepoint=0x7E)

FRAGMENTS = st.one_of(
    st.text(_ascii, min_size=1, max_size=12),
    st.text(_any_char, min_size=1, max_size=6),
    st.tuples(_letters, st.text(_combining, min_size=1, max_size=5)).map("".join),
    st.text(_cjk, min_size=1, max_size=8),
    st.text(_controls, min_size=1, max_size=4),
    st.lists(st.sampled_from(WHITESPACE), min_size=1, max_size=6).map("".join),
    st.sampled_from(EMOJI),
    st.sampled_from(WORDS),
)

#: Random Unicode text (no surrogates): emoji, combining marks, whitespace runs, CJK, controls.
unicode_text = st.lists(FRAGMENTS, max_size=12).map("".join)


def text_with_tokens(tokens: Sequence[str]) -> st.SearchStrategy[str]:
    """Random text with some of `tokens` (added or special token strings) mixed in."""
    if not tokens:
        return unicode_text
    token = st.sampled_from(list(tokens))
    return st.lists(st.one_of(FRAGMENTS, token, token), min_size=1, max_size=12).map("".join)


def plain_columns(result: Any) -> dict[str, Any]:
    """A transformers or batok `BatchEncoding` as plain lists (numpy arrays too), to compare."""

    def plain(value: Any) -> Any:
        if isinstance(value, np.ndarray):
            return value.tolist()
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value

    return {key: plain(value) for key, value in dict(result).items()}
