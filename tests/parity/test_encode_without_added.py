"""`encode_ids_without_added` (what `apply_chat_template(..., sanitize_control_tokens=True)` encodes
a sanitized control token with) gives the ids of a copy of the tokenizer.json with its
`added_tokens` emptied and no post-processor: every added token read as plain text, through the
normalizer, pre-tokenizer and model only.

The copy is checked both as batok loads it and as `tokenizers` does, on texts holding each
family's special tokens (and a few other added tokens) at the start, inside words, after spaces
and back to back.
"""

from __future__ import annotations

import json

import tokenizers
from _parity import HfFamily

import batok

# Added tokens per family taken into the texts: the special ones first, then others.
MAX_TOKENS = 12


def _plain_copy(tokenizer: batok.Tokenizer) -> str:
    doc = json.loads(tokenizer._plain_native.to_str())
    doc["added_tokens"] = []
    doc["post_processor"] = None
    doc["truncation"] = None
    doc["padding"] = None
    return json.dumps(doc, ensure_ascii=False)


def _texts(tokens: list[str]) -> list[str]:
    texts = ["", " ", "plain text, no token"]
    for i, token in enumerate(tokens):
        other = tokens[(i + 1) % len(tokens)]
        texts += [
            token,
            f" {token}",
            f"{token} Hello",
            f"Hello {token} world\n",
            f"héllo{token}{other}日本語  x",
            f"  {token}\n\n{other} ",
        ]
    return texts


def test_ids_without_added_match_a_copy_without_added_tokens(hf_family: HfFamily) -> None:
    tok = hf_family.batok
    native = tok._plain_native
    special = [c for _, c, s in native.added_tokens() if s]
    others = [c for _, c, s in native.added_tokens() if not s]
    tokens = (special + others)[:MAX_TOKENS] or ["<s>", "</s>"]
    copy = _plain_copy(tok)
    ours = batok._batok.Tokenizer.from_str(copy)
    reference = tokenizers.Tokenizer.from_str(copy)
    problems = []
    for text in _texts(tokens):
        got = native.encode_ids_without_added(text)
        expected = ours.encode_ids(text, False)
        if got != expected:
            problems.append(f"{text!r}: {got} != copy's {expected}")
        if got != reference.encode(text, add_special_tokens=False).ids:
            problems.append(f"{text!r}: {got} != tokenizers' copy")
        # The native tokenizer that carries the file's truncation and padding gives the same.
        if tok._native.encode_ids_without_added(text) != got:
            problems.append(f"{text!r}: differs under the file's truncation and padding")
        if tok._encode_as_text(text) != got:
            problems.append(f"{text!r}: `_encode_as_text` differs")
    assert not problems, f"{hf_family.name}: {len(problems)} problems, first: {problems[:5]}"
