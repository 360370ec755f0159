"""Adding tokens after loading (`add_tokens`, `add_special_tokens`), against `tokenizers` and,
for the mapping form, transformers: the same counts, ids, offsets, vocabulary size and decoded
text, on every staged family."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest
import tokenizers
from _parity import HfFamily
from tokenizers import AddedToken

import batok

# (tokens, special): strings, a token the vocabularies already hold ("the"), a duplicate in one
# call, an empty string, and AddedTokens with each flag. Functions, since `tokenizers` changes
# the AddedTokens it is given (`add_special_tokens` makes them special).
ADDITIONS: list[tuple[Any, bool]] = [
    (lambda: ["<new_tok>", "the", "<new_tok>", ""], False),
    (lambda: ["<|special_new|>"], True),
    (lambda: [AddedToken("<l>", lstrip=True), AddedToken("<r>", rstrip=True)], False),
    (lambda: [AddedToken("word", single_word=True), AddedToken("<nn>", normalized=False)], False),
    (lambda: [AddedToken("<S>", special=False)], True),
    (lambda: [AddedToken("<T>", special=True)], False),
]
TEXTS = [
    "x <new_tok> the<new_tok>  <|special_new|> yes   <l>   <r>   no",
    "a word wordy sword <nn> <S>the end <T>.",
    "",
]


def _apply(tok: Any, tokens: list[Any], special: bool) -> int:
    return int(tok.add_special_tokens(tokens) if special else tok.add_tokens(tokens))


def test_added_tokens_encode_and_decode_as_tokenizers(hf_family: HfFamily) -> None:
    reference = tokenizers.Tokenizer.from_str(hf_family.batok.to_str())
    ours = batok.Tokenizer.from_str(hf_family.batok.to_str())
    for tokens, special in ADDITIONS:
        # Twice: the second time nothing is new.
        for _ in range(2):
            assert _apply(ours, tokens(), special) == _apply(reference, tokens(), special)
    assert ours.get_vocab_size() == reference.get_vocab_size()
    assert ours.get_vocab() == reference.get_vocab()
    for text in TEXTS:
        for add in (True, False):
            want = reference.encode(text, add_special_tokens=add)
            got = ours.encode_plus(text, add)
            assert (got.ids, got.tokens, got.offsets) == (want.ids, want.tokens, want.offsets)
            assert ours.encode(text, add) == want.ids
            for skip in (True, False):
                assert ours.decode(want.ids, skip) == reference.decode(want.ids, skip)


# The same additions built with each library's own AddedToken, whose `normalized` given
# explicitly (True for a special token) only the library's own class can carry.
OWN_ADDITIONS: list[tuple[list[dict[str, Any]], bool]] = [
    ([{"content": "<sn>", "normalized": True}, {"content": "<sd>"}], True),
    ([{"content": "<sx>", "special": True, "normalized": True}], False),
    ([{"content": "<on>", "normalized": False}, {"content": "<od>", "lstrip": True}], False),
    ([{"content": "<ss>", "special": True, "normalized": False}], True),
]


def test_own_added_tokens_match_tokenizers_own(hf_family: HfFamily) -> None:
    reference = tokenizers.Tokenizer.from_str(hf_family.batok.to_str())
    ours = batok.Tokenizer.from_str(hf_family.batok.to_str())
    for specs, special in OWN_ADDITIONS:
        want = _apply(reference, [AddedToken(**spec) for spec in specs], special)
        assert _apply(ours, [batok.AddedToken(**spec) for spec in specs], special) == want
    assert ours.to_str() == reference.to_str() or (
        _added(ours.to_str()) == _added(reference.to_str())
    )
    text = "A <sn> b <SN> <sd> c<sx> <on> d   <od> <ss>."
    want_enc = reference.encode(text)
    got = ours.encode_plus(text)
    assert (got.ids, got.tokens, got.offsets) == (want_enc.ids, want_enc.tokens, want_enc.offsets)


def _added(json_text: str) -> list[dict[str, Any]]:
    import json

    return json.loads(json_text)["added_tokens"]  # type: ignore[no-any-return]


def test_added_tokens_survive_saving_and_pickling(tmp_path: Path, hf_family: HfFamily) -> None:
    import pickle

    ours = batok.Tokenizer.from_str(hf_family.batok.to_str())
    ours.add_tokens(["<new_tok>"])
    ours.add_special_tokens(["<|special_new|>"])
    text = TEXTS[0]
    for copy in (pickle.loads(pickle.dumps(ours)), batok.Tokenizer.from_str(ours.to_str())):
        assert copy.encode(text) == ours.encode(text)
    reference = tokenizers.Tokenizer.from_str(ours.to_str())
    assert reference.encode(text).ids == ours.encode(text)


def test_add_special_tokens_mapping_as_transformers(tokenizers_dir: Path) -> None:
    """transformers' form: names to tokens; the named attribute is set and the call pads."""
    transformers = pytest.importorskip("transformers")
    directory = tokenizers_dir / "gpt2"
    ours = batok.AutoTokenizer.from_pretrained(str(directory))
    theirs = transformers.AutoTokenizer.from_pretrained(str(directory))
    new = {"pad_token": "[PAD]", "additional_special_tokens": ["<extra_1>", "<extra_2>"]}
    assert ours.add_special_tokens(new) == theirs.add_special_tokens(new)
    assert ours.pad_token == theirs.pad_token == "[PAD]"
    assert ours.pad_token_id == theirs.pad_token_id
    assert len(ours) == len(theirs)
    texts = ["Hello <extra_1> world", "a<extra_2>b and more words here"]
    want = theirs(texts, padding=True)
    got = ours(texts, padding=True)
    assert got["input_ids"] == want["input_ids"]
    assert got["attention_mask"] == want["attention_mask"]
    assert ours.add_tokens(["<plain_new>"]) == theirs.add_tokens(["<plain_new>"])
    text = "x <plain_new> y"
    assert ours(text)["input_ids"] == theirs(text)["input_ids"]
    assert ours.decode(ours(text)["input_ids"]) == theirs.decode(theirs(text)["input_ids"])


@pytest.mark.parametrize("replace", [True, False])
def test_extra_special_tokens_are_replaced_or_extended_as_transformers(
    tokenizers_dir: Path, tmp_path: Path, replace: bool
) -> None:
    """`additional_special_tokens` replaces the extra special tokens, or with
    `replace_additional_special_tokens=False` adds those missing; save_pretrained keeps them."""
    transformers = pytest.importorskip("transformers")
    directory = tokenizers_dir / "qwen2.5"
    ours = batok.AutoTokenizer.from_pretrained(str(directory))
    theirs = transformers.AutoTokenizer.from_pretrained(str(directory))
    kept = theirs.extra_special_tokens[0]
    new = {"additional_special_tokens": ["<extra_1>", kept]}
    assert ours.add_special_tokens(new, replace) == theirs.add_special_tokens(new, replace)
    assert ours.extra_special_tokens == theirs.extra_special_tokens
    assert ours.all_special_tokens == theirs.all_special_tokens
    assert ours.all_special_ids == theirs.all_special_ids
    assert pickle.loads(pickle.dumps(ours)).all_special_tokens == ours.all_special_tokens
    ours.save_pretrained(tmp_path)
    for reloaded in (
        batok.AutoTokenizer.from_pretrained(str(tmp_path)),
        transformers.AutoTokenizer.from_pretrained(str(tmp_path)),
    ):
        assert reloaded.extra_special_tokens == theirs.extra_special_tokens
