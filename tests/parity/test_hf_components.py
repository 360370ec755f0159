"""Normalizers and pre-tokenizers that decide by Unicode category, against `tokenizers` on every
code point.

`tokenizers` reads categories from older tables than today's Unicode (a char of punctuation
added since is not punctuation there), so each char is put between two letters and the pieces
that come out (ids and offsets, through a WordLevel model that knows only the letter) are
compared: a char dropped, turned into a space, split off, or decomposed and stripped shows in
them. Last, SentencePiece's precompiled charsmap (T5's) on random text built from the chars
around which grapheme clusters form.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
import tokenizers
from _parity import describe_difference
from hypothesis import example, given, settings
from hypothesis import strategies as st

import batok

PARITY = settings.get_profile("batok-parity")

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


#: Chars around which grapheme clusters form and SentencePiece's charsmap rewrites: letters that
#: start no entry, letters that start one only with a mark after them (Cyrillic "а" + breve),
#: combining marks, joiners, a virama between consonants, Hangul jamo, regional indicators, an
#: emoji with a skin tone, Thai's sara am, chars rewritten alone (fullwidth, ligature, circled
#: digit, no-break space), an Arabic prepended mark, CR LF, and ASCII.
CLUSTER_CHARS = (
    "aé中яа\u0301\u0306\u0308\u200d\u200b\u200c\u0915\u094d\u0937\u1100\u1161\u11a8"
    "\U0001f1e6\U0001f1e7\U0001f44d\U0001f3fb\u0e2a\u0e33Ａﬁ①\u00a0\u0600ｶﾞ\r\n x"
)


@settings(PARITY, max_examples=PARITY.max_examples * 4)
@given(text=st.text(alphabet=CLUSTER_CHARS, max_size=24))
# A prepended mark starts no entry, and its cluster goes on with a letter and a mark that
# together start one: the cluster is read whole, so the pair is not rewritten.
@example(text="\u0600а\u0306")
@example(text="x\u0600A\u0301 \u0600Ａ\u0301")
def test_precompiled_clusters_match_tokenizers(tokenizers_dir: Path, text: str) -> None:
    """T5's charsmap reads text cluster by cluster (a short cluster whole, else char by
    char); batok must cut the clusters where `tokenizers` does, for the same ids and
    offsets."""
    reference, tok = _t5(tokenizers_dir)
    expected = reference.encode(text)
    got = tok.encode_plus(text)
    assert list(got.ids) == expected.ids, describe_difference(
        "ids", "", text, expected.ids, got.ids
    )
    assert list(got.offsets) == expected.offsets
    assert tok.encode(text) == expected.ids


@functools.cache
def _t5(tokenizers_dir: Path) -> tuple[tokenizers.Tokenizer, batok.Tokenizer]:
    path = tokenizers_dir / "t5-small" / "tokenizer.json"
    return tokenizers.Tokenizer.from_file(str(path)), batok.Tokenizer.from_file(path)
