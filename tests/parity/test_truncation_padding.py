"""Truncation and padding against `tokenizers`, on every staged tokenizer.json.

`enable_truncation` / `enable_padding` (and the same sections in a file) must give the very
`Encoding` that `tokenizers` gives: ids, tokens, offsets, type ids, masks, sequence ids, and the
overflowing windows (nested ones included), for single texts, pairs and batches.
"""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

import pytest
import tokenizers
from _parity import ENCODING_FIELDS, HfFamily

import batok

TEXTS = [
    "Hello world! This is a longer sentence, with punctuation; and numbers: 12345.",
    "  Leading spaces, tabs\tand a newline\nin the middle  ",
    "Ünïcödé: 日本語のテキスト and émojis 🤗🤗 together",
    "short",
    "",
]
PAIRS = [
    (TEXTS[0], TEXTS[2]),
    (TEXTS[3], TEXTS[0]),
    (TEXTS[1], TEXTS[3]),
    (TEXTS[2], TEXTS[4]),
]

# (max_length, stride, strategy, direction); every one valid for every family here (the
# special tokens around a pair are at most 4).
TRUNCATIONS = [
    (16, 0, "longest_first", "right"),
    (16, 3, "longest_first", "left"),
    (9, 2, "longest_first", "right"),
    (12, 0, "only_first", "right"),
    (12, 1, "only_second", "left"),
    (4, 0, "longest_first", "right"),
    (0, 0, "longest_first", "right"),
    (2, 0, "longest_first", "right"),
    (40, 5, "longest_first", "right"),
]
# enable_padding keyword arguments.
PADDINGS = [
    {},
    {"length": 48, "direction": "left", "pad_id": 3, "pad_type_id": 1, "pad_token": "<pad>"},
    {"pad_to_multiple_of": 8, "direction": "right"},
    {"length": 5, "pad_to_multiple_of": 7, "direction": "left"},
]

# Every field the parity suites compare, and the sequence ids.
FIELDS = (*ENCODING_FIELDS, "sequence_ids")


def _fields(encoding: Any) -> dict[str, Any]:
    """Every field of an encoding, its overflowing windows as nested dicts."""
    out = {name: list(getattr(encoding, name)) for name in FIELDS}
    out["overflowing"] = [_fields(window) for window in encoding.overflowing]
    return out


def _outcome(encode: Any) -> Any:
    """The fields of what `encode()` returns, or "error" when it raises (a `tokenizers` panic
    is an error too: batok must raise a Python exception there, never crash)."""
    try:
        result = encode()
    except BaseException as err:  # noqa: BLE001 - PanicException derives from BaseException
        if isinstance(err, (KeyboardInterrupt, SystemExit)):
            raise
        return "error"
    if isinstance(result, list):
        return [_fields(e) for e in result]
    return _fields(result)


@functools.cache
def _fresh_reference(name: str, json_text: str) -> tokenizers.Tokenizer:
    return tokenizers.Tokenizer.from_str(json_text)


def _pair(family: HfFamily) -> tuple[tokenizers.Tokenizer, batok.Tokenizer]:
    """Copies of both tokenizers with truncation and padding off, free to reconfigure."""
    reference = _fresh_reference(family.name, family.reference.to_str())
    reference.no_truncation()
    reference.no_padding()
    mine = copy.copy(family.batok)
    mine.no_truncation()
    mine.no_padding()
    return reference, mine


def _differences(reference: Any, mine: batok.Tokenizer, label: str) -> list[str]:
    problems = []
    calls = [(f"encode({t!r})", lambda tok, t=t: tok.encode(t)) for t in TEXTS[:4]]
    calls += [(f"encode{p!r}", lambda tok, p=p: tok.encode(*p)) for p in PAIRS]
    batch = [TEXTS[0], PAIRS[0], TEXTS[3], PAIRS[1], TEXTS[4]]
    calls.append(("encode_batch", lambda tok: tok.encode_batch(batch)))
    for what, call in calls:
        want = _outcome(lambda call=call: call(reference))
        got = _outcome(
            lambda call=call: call(_BatokAsTokenizers(mine))  # same call shape as the reference
        )
        if want != got:
            where, w, g = _first_difference(want, got)
            problems.append(
                f"{label}, {what}, at {where}: tokenizers {_short(w)}, batok {_short(g)}"
            )
    return problems


class _BatokAsTokenizers:
    """batok's `Tokenizer` called as a `tokenizers.Tokenizer`: `encode` gives an `Encoding`."""

    def __init__(self, tok: batok.Tokenizer) -> None:
        self.tok = tok

    def encode(self, text: str, pair: str | None = None) -> Any:
        return self.tok.encode_plus(text, pair)

    def encode_batch(self, items: list[Any]) -> Any:
        return self.tok.encode_batch_plus(items)


def _first_difference(want: Any, got: Any, where: str = "") -> tuple[str, Any, Any]:
    """The path to the first place `want` and `got` differ, and the values there."""
    if isinstance(want, dict) and isinstance(got, dict):
        for key in want:
            if want[key] != got.get(key):
                return _first_difference(want[key], got.get(key), f"{where}.{key}")
    if isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        for i, (w, g) in enumerate(zip(want, got, strict=True)):
            if w != g:
                return _first_difference(w, g, f"{where}[{i}]")
    return where or "top", want, got


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) < 600 else text[:600] + "..."


@pytest.mark.parametrize(
    "truncation", TRUNCATIONS, ids=[f"{m}-{s}-{st}-{d}" for m, s, st, d in TRUNCATIONS]
)
def test_truncation_matches_tokenizers(hf_family: HfFamily, truncation: tuple) -> None:
    reference, mine = _pair(hf_family)
    max_length, stride, strategy, direction = truncation
    kwargs = {"stride": stride, "strategy": strategy, "direction": direction}
    reference.enable_truncation(max_length, **kwargs)
    mine.enable_truncation(max_length, **kwargs)
    assert mine.truncation == reference.truncation
    problems = _differences(reference, mine, f"truncation {truncation}")
    assert not problems, "\n".join(problems[:5])


@pytest.mark.parametrize("padding", PADDINGS, ids=[f"padding{i}" for i in range(len(PADDINGS))])
def test_padding_matches_tokenizers(hf_family: HfFamily, padding: dict) -> None:
    reference, mine = _pair(hf_family)
    reference.enable_padding(**padding)
    mine.enable_padding(**padding)
    assert mine.padding == reference.padding
    problems = _differences(reference, mine, f"padding {padding}")
    assert not problems, "\n".join(problems[:5])


def test_truncation_and_padding_together_match_tokenizers(hf_family: HfFamily) -> None:
    reference, mine = _pair(hf_family)
    for tok in (reference, mine):
        tok.enable_truncation(10, stride=2, direction="left")
        tok.enable_padding(length=12, direction="left", pad_to_multiple_of=5)
    problems = _differences(reference, mine, "truncation and padding")
    assert not problems, "\n".join(problems[:5])
