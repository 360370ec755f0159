"""Normalizers and pre-tokenizers that decide by Unicode category, against `tokenizers` on every
code point.

`tokenizers` reads categories from older tables than today's Unicode (a char of punctuation
added since is not punctuation there), so each char is put between two letters and the pieces
that come out (ids and offsets, through a WordLevel model that knows only the letter) are
compared: a char dropped, turned into a space, split off, or decomposed and stripped shows in
them.
"""

from __future__ import annotations

import json

import pytest
import tokenizers
from _parity import describe_difference

import batok

# Surrogates cannot be encoded; every other code point is tried.
CODE_POINTS = [cp for cp in range(0x110000) if not 0xD800 <= cp < 0xE000]
CHUNK = 20_000

PIPELINES = {
    "bert": (
        {
            "type": "BertNormalizer",
            "clean_text": True,
            "handle_chinese_chars": True,
            "strip_accents": None,
            "lowercase": True,
        },
        {"type": "BertPreTokenizer"},
    ),
    "bert_keep_case_and_accents": (
        {
            "type": "BertNormalizer",
            "clean_text": True,
            "handle_chinese_chars": True,
            "strip_accents": False,
            "lowercase": False,
        },
        {"type": "BertPreTokenizer"},
    ),
    "strip_accents_punctuation": (
        {"type": "Sequence", "normalizers": [{"type": "NFKD"}, {"type": "StripAccents"}]},
        {"type": "Punctuation", "behavior": "Isolated"},
    ),
    "char_delimiter": (None, {"type": "CharDelimiterSplit", "delimiter": "x"}),
}


def _pair(name: str) -> tuple[tokenizers.Tokenizer, batok.Tokenizer]:
    normalizer, pre_tokenizer = PIPELINES[name]
    text = json.dumps(
        {
            "version": "1.0",
            "normalizer": normalizer,
            "pre_tokenizer": pre_tokenizer,
            "model": {"type": "WordLevel", "vocab": {"[UNK]": 0, "a": 1}, "unk_token": "[UNK]"},
        }
    )
    return tokenizers.Tokenizer.from_str(text), batok.Tokenizer.from_str(text)


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_every_code_point_is_classified_as_tokenizers_does(name: str) -> None:
    reference, tok = _pair(name)
    problems = []
    for start in range(0, len(CODE_POINTS), CHUNK):
        text = "".join(f"a{chr(cp)}a " for cp in CODE_POINTS[start : start + CHUNK])
        expected = reference.encode(text)
        got = tok.encode_plus(text)
        label = f"code points from U+{CODE_POINTS[start]:04X}"
        for field in ("ids", "offsets"):
            want, have = list(getattr(expected, field)), list(getattr(got, field))
            if want != have:
                problems.append(describe_difference(field, label, text, want, have))
        if tok.encode(text) != expected.ids:
            problems.append(
                describe_difference("encode ids", label, text, expected.ids, tok.encode(text))
            )
    assert not problems, "\n".join(problems[:5])
