"""Differences from `tokenizers` found by fuzz/fuzz_from_str.py, each as the smallest file that
shows it. `tokenizers` is the oracle: it is run on the same file in every test."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import tokenizers
from _parity import reference_or_none

import batok


def _file(added: list[dict[str, Any]]) -> str:
    return json.dumps(
        {
            "version": "1.0",
            "added_tokens": added,
            "model": {
                "type": "BPE",
                "vocab": {"a": 0, "b": 1, "ab": 2},
                "merges": ["a b"],
            },
        }
    )


def _added(token_id: int, content: str) -> dict[str, Any]:
    return {
        "id": token_id,
        "content": content,
        "special": True,
        "normalized": False,
        "single_word": False,
        "lstrip": False,
        "rstrip": False,
    }


def load_alike(text: str, refused_at: str) -> tuple[Any, Any] | None:
    """(tokenizers', batok's) tokenizer for the file `text`; None where tokenizers refuses the
    file, once batok has refused it too with an error matching `refused_at`."""
    try:
        reference = tokenizers.Tokenizer.from_str(text)
    except Exception:
        with pytest.raises(batok.BatokError, match=refused_at):
            batok.Tokenizer.from_str(text)
        return None
    return reference, batok.Tokenizer.from_str(text)


def test_added_token_id_beyond_u32_is_refused_like_tokenizers() -> None:
    text = _file([_added(2**63, "<x>")])
    with pytest.raises(Exception, match="u32"):
        tokenizers.Tokenizer.from_str(text)
    with pytest.raises(batok.BatokError, match="added_tokens\\[0\\].id"):
        batok.Tokenizer.from_str(text)


def test_added_token_not_in_vocab_is_numbered_after_the_vocab_like_tokenizers() -> None:
    text = _file([_added(50, "<x>"), _added(7, "<y>")])
    reference = tokenizers.Tokenizer.from_str(text)
    ours = batok.Tokenizer.from_str(text)
    for sample in ("ab<x>a<y>", "<y><x>"):
        assert ours.encode(sample) == reference.encode(sample).ids


SPLIT_BEHAVIORS = ("Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous")


@pytest.mark.parametrize("behavior", SPLIT_BEHAVIORS)
@pytest.mark.parametrize("invert", [False, True])
@pytest.mark.parametrize(
    "pattern",
    [
        ".*",
        "a*",
        "b?",
        "(?=b)",
        "\\b",
        "x*",
        "(?<=a)",
        # Patterns ending in GPT-4's whitespace tail run without its lookahead; their empty
        # matches cut all the same.
        "a*|\\s+(?!\\S)|\\s+",
        "[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{0,3}|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    ],
)
def test_split_regex_that_matches_empty_cuts_like_tokenizers(
    pattern: str, behavior: str, invert: bool
) -> None:
    """An empty match is a cut: `Split(Regex(".*"))` on "ab\\n\\n x" gives ab | \\n | \\n |  x."""
    text = json.dumps(
        {
            "version": "1.0",
            "pre_tokenizer": {
                "type": "Split",
                "pattern": {"Regex": pattern},
                "behavior": behavior,
                "invert": invert,
            },
            "model": {
                "type": "WordLevel",
                "vocab": {"[UNK]": 0, "a": 1, "b": 2, "ab": 3, "\n": 4, " x": 5, "ba": 6},
                "unk_token": "[UNK]",
            },
        }
    )
    reference = tokenizers.Tokenizer.from_str(text)
    ours = batok.Tokenizer.from_str(text)
    for sample in ("bab", "ab\n\n x", "aabba", "", "xabx", "a", "é b\n"):
        expected = reference.encode(sample)
        got = ours.encode_plus(sample)
        assert (got.ids, got.offsets) == (expected.ids, expected.offsets), repr(sample)
        assert ours.encode(sample) == expected.ids, repr(sample)


# Patterns that can match the empty string, as a file writes them, and the line anchors of the
# files' regex dialect (Oniguruma's Ruby syntax: `^` and `$` at every line).
EMPTY_MATCHES = [
    ("String", ""),
    ("Regex", ""),
    ("Regex", "a*"),
    ("Regex", "x?"),
    ("Regex", "$"),
    ("Regex", "^"),
    ("Regex", "\\b"),
    ("Regex", "b|"),
    ("Regex", "(?=l)"),
    ("Regex", "(?<=l)"),
    ("Regex", "^a"),
    ("Regex", "b$"),
]
EMPTY_MATCH_TEXTS = (
    "",
    "a",
    "Hello",
    "ab\nba\n",
    "\nl\n",
    "héllo wörld",
    "a\u0301b 日本 😀",
    " lead",
)
LLAMA2 = Path(__file__).resolve().parents[2].parent / "shared/tokenizers/llama-2/tokenizer.json"


def _llama2_with(**parts: Any) -> str:
    doc = json.loads(LLAMA2.read_text(encoding="utf-8"))
    doc.update(parts)
    return json.dumps(doc)


def _same_as_tokenizers(text: str) -> None:
    reference = tokenizers.Tokenizer.from_str(text)
    ours = batok.Tokenizer.from_str(text)
    for sample in EMPTY_MATCH_TEXTS:
        expected = reference.encode(sample)
        got = ours.encode_plus(sample)
        assert (got.ids, got.offsets) == (expected.ids, expected.offsets), repr(sample)
        assert ours.encode(sample) == expected.ids, repr(sample)
        decoded = reference.decode(expected.ids, skip_special_tokens=False)
        assert ours.decode(expected.ids, skip_special_tokens=False) == decoded, repr(sample)


@pytest.mark.parametrize(("kind", "pattern"), EMPTY_MATCHES)
def test_replace_normalizer_inserts_at_empty_matches_like_tokenizers(
    kind: str, pattern: str
) -> None:
    """`Replace("", "X")` makes "ab" "XaXbX"; `$` also matches before each newline. (On
    byte-level pipelines `tokenizers` panics on most such texts; see the README.)"""
    replace = {"type": "Replace", "pattern": {kind: pattern}, "content": "X"}
    _same_as_tokenizers(_llama2_with(normalizer=replace))
    prepend = {"type": "Prepend", "prepend": "\u2581"}
    _same_as_tokenizers(
        _llama2_with(normalizer={"type": "Sequence", "normalizers": [prepend, replace]})
    )


@pytest.mark.parametrize(("kind", "pattern"), EMPTY_MATCHES)
def test_replace_decoder_inserts_at_empty_matches_like_tokenizers(kind: str, pattern: str) -> None:
    """Each token is rewritten on its own: `Replace("", " ")` spaces out every char of it."""
    decoder = {
        "type": "Sequence",
        "decoders": [
            {"type": "Replace", "pattern": {kind: pattern}, "content": "_"},
            {"type": "ByteFallback"},
            {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0},
        ],
    }
    _same_as_tokenizers(_llama2_with(decoder=decoder))


@pytest.mark.parametrize(("kind", "pattern"), EMPTY_MATCHES)
@pytest.mark.parametrize("behavior", ["Isolated", "Removed", "MergedWithPrevious"])
def test_split_on_empty_and_anchored_patterns_like_tokenizers(
    kind: str, pattern: str, behavior: str
) -> None:
    split = {"type": "Split", "pattern": {kind: pattern}, "behavior": behavior, "invert": False}
    _same_as_tokenizers(_llama2_with(pre_tokenizer=split))


@pytest.mark.parametrize(
    "listed",
    [["<x>", "<y>", "<x>"], ["<y>", "<x>", "<y>"], ["<x>", "<y>", "<x>", "<y>"], ["<y>", "<x>"]],
)
def test_two_contents_with_one_id_leave_it_to_the_last_listed(listed: list[str]) -> None:
    """A vocabulary that gives `<x>` and `<y>` one id: the content listed last holds it (found
    in text, decoded, named by `id_to_token`), a content listed again included."""
    text = json.dumps(
        {
            "version": "1.0",
            "added_tokens": [_added(2, content) for content in listed],
            "model": {
                "type": "BPE",
                "vocab": {"a": 0, "b": 1, "<x>": 2, "<y>": 2, "<": 3, ">": 4, "x": 5, "y": 6},
                "merges": [],
            },
        }
    )
    reference = tokenizers.Tokenizer.from_str(text)
    ours = batok.Tokenizer.from_str(text)
    for sample in ("<x>", "<y>", "a<x>b<y>", "<x><y><x>"):
        assert ours.encode(sample) == reference.encode(sample).ids, repr(sample)
    assert ours.id_to_token(2) == reference.id_to_token(2)
    for skip in (True, False):
        assert ours.decode([0, 2, 1], skip) == reference.decode([0, 2, 1], skip)


ADDED_FLAGS = ("special", "normalized", "single_word", "lstrip", "rstrip")


@pytest.mark.parametrize("flag", ADDED_FLAGS)
@pytest.mark.parametrize("value", ["missing", None])
def test_added_token_without_a_flag_is_refused_like_tokenizers(flag: str, value: Any) -> None:
    token = _added(3, "<x>")
    if value == "missing":
        del token[flag]
    else:
        token[flag] = value
    text = _file([token])
    with pytest.raises(Exception, match="missing field|invalid type"):
        tokenizers.Tokenizer.from_str(text)
    with pytest.raises(batok.BatokError, match=flag):
        batok.Tokenizer.from_str(text)


def test_added_token_with_empty_content_takes_no_id_like_tokenizers() -> None:
    text = _file([_added(3, "<x>"), _added(4, ""), _added(5, "<y>")])
    reference = tokenizers.Tokenizer.from_str(text)
    ours = batok.Tokenizer.from_str(text)
    assert ours.token_to_id("<y>") == reference.token_to_id("<y>")
    assert ours.get_vocab_size() == reference.get_vocab_size()
    for sample in ("ab<y>a<x>", "<y><x>", ""):
        assert ours.encode(sample) == reference.encode(sample).ids


def _template(pair: list[str]) -> str:
    def piece(name: str) -> dict[str, Any]:
        if name in ("A", "B"):
            return {"Sequence": {"id": name, "type_id": int(name == "B")}}
        return {"SpecialToken": {"id": name, "type_id": 0}}

    return json.dumps(
        {
            "version": "1.0",
            "post_processor": {
                "type": "TemplateProcessing",
                "single": [piece("A")],
                "pair": [piece(p) for p in pair],
                "special_tokens": {"<x>": {"id": "<x>", "ids": [2], "tokens": ["<x>"]}},
            },
            "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "<x>": 2}, "merges": []},
        }
    )


@pytest.mark.parametrize(
    "pair", [["A"], ["B"], [], ["<x>"], ["<x>", "B"], ["A", "<x>"], ["A", "A"], ["B", "<x>", "A"]]
)
@pytest.mark.parametrize("add_special_tokens", [True, False])
def test_pair_template_that_leaves_out_a_sequence_encodes_like_tokenizers(
    pair: list[str], add_special_tokens: bool
) -> None:
    text = _template(pair)
    reference = tokenizers.Tokenizer.from_str(text)
    ours = batok.Tokenizer.from_str(text)
    for args in (("ab",), ("aa", "bb")):
        expected = reference.encode(*args, add_special_tokens=add_special_tokens)
        got = ours.encode_plus(*args, add_special_tokens=add_special_tokens)
        assert list(got.ids) == expected.ids, args
        assert list(got.type_ids) == expected.type_ids, args
        assert list(got.offsets) == expected.offsets, args
        assert list(got.tokens) == expected.tokens, args


@pytest.mark.parametrize("fuse_unk", [False, True])
@pytest.mark.parametrize("byte_fallback", [False, True])
def test_unknown_token_missing_from_the_vocabulary_fails_where_tokenizers_fails(
    fuse_unk: bool, byte_fallback: bool
) -> None:
    """A BPE model whose unk_token is not in its vocabulary encodes known chars, and fails
    (a ValueError, as `tokenizers` raises) on a char that is in no token."""
    text = json.dumps(
        {
            "version": "1.0",
            "pre_tokenizer": {"type": "Whitespace"},
            "model": {
                "type": "BPE",
                "vocab": {"a": 0, "b": 1, "ab": 2, "<0x63>": 3},
                "merges": ["a b"],
                "unk_token": "<unk>",
                "fuse_unk": fuse_unk,
                "byte_fallback": byte_fallback,
            },
        }
    )
    reference = tokenizers.Tokenizer.from_str(text)
    ours = batok.Tokenizer.from_str(text)
    refused = 0
    for sample in ("ab a", "abx", "c", "a é", ""):
        try:
            expected = reference.encode(sample).ids
        except Exception as err:
            refused += 1
            assert "Unk token `<unk>` not found" in str(err)
            with pytest.raises(ValueError, match="Unk token `<unk>` not found"):
                ours.encode(sample)
            with pytest.raises(ValueError, match="Unk token `<unk>` not found"):
                ours.encode_batch([sample])
        else:
            assert ours.encode(sample) == expected, repr(sample)
    assert refused, "no sample has a char that is in no token"


def _same_or_both_refuse(text: str, samples: tuple[str, ...]) -> int:
    """Encode each sample with both; where `tokenizers` fails (it panics on these files),
    batok raises a ValueError. Returns how many samples failed."""
    reference = tokenizers.Tokenizer.from_str(text)
    ours = batok.Tokenizer.from_str(text)
    failed = 0
    for sample in samples:
        expected = reference_or_none(reference.encode, sample)
        if expected is None:
            failed += 1
            with pytest.raises(ValueError, match="cannot encode this text"):
                ours.encode_plus(sample)
            with pytest.raises(ValueError, match="cannot encode this text"):
                ours.encode(sample)
            continue
        got = ours.encode_plus(sample)
        assert (list(got.ids), list(got.offsets)) == (expected.ids, expected.offsets), sample
        assert list(got.tokens) == expected.tokens, repr(sample)
        assert ours.encode(sample) == expected.ids, repr(sample)
    return failed


def _with_added(added: list[dict[str, Any]], normalizer: dict[str, Any] | None = None) -> str:
    return json.dumps(
        {
            "version": "1.0",
            "added_tokens": added,
            "normalizer": normalizer,
            "pre_tokenizer": {"type": "WhitespaceSplit"},
            "model": {
                "type": "BPE",
                "vocab": {"[UNK]": 0, "a": 1, "b": 2, "ab": 3, "é": 4},
                "merges": ["a b"],
                "unk_token": "[UNK]",
            },
        }
    )


def test_lstrip_token_inside_whitespace_an_rstrip_token_took_fails_like_tokenizers() -> None:
    first = {**_added(10, "<s>"), "rstrip": True}
    second = {**_added(11, "\n"), "lstrip": True}
    samples = ("<s> \n a", "<s> \na", "<s> \n", "<s>  \nab", "ab\n<s>", "<s>\n")
    assert _same_or_both_refuse(_with_added([first, second]), samples) == 1


@pytest.mark.parametrize(
    "flags",
    [
        {},
        {"lstrip": True},
        {"rstrip": True},
        {"lstrip": True, "rstrip": True},
        {"single_word": True},
    ],
)
def test_normalized_token_that_the_normalizer_empties_cuts_like_tokenizers(
    flags: dict[str, bool],
) -> None:
    """A token whose content the normalizer removes (whitespace under Strip) matches between
    any two bytes in `tokenizers`: it cuts ASCII text into chars and fails on other text."""
    token = {**_added(9, " "), "normalized": True, "special": False, **flags}
    strip = {"type": "Strip", "strip_left": False, "strip_right": True}
    samples = ("ab", "ab ab", " a  b ", "", "aé", "ab<s>", "é")
    assert _same_or_both_refuse(_with_added([token, _added(10, "<s>")], strip), samples) >= 2


def test_normalized_token_that_the_normalizer_empties_cuts_inside_a_longer_token() -> None:
    """With an empty pattern, a longer normalized token that starts at a byte and then fails
    (`abab` in `abac`) still leaves a cut at every byte of it, as in `tokenizers`."""
    empty = {**_added(9, " "), "normalized": True, "special": False}
    longer = {**_added(10, "abab"), "normalized": True, "special": False}
    strip = {"type": "Strip", "strip_left": False, "strip_right": True}
    samples = ("abac", "ababc", "babab", "aba b", "abaé")
    assert _same_or_both_refuse(_with_added([empty, longer], strip), samples) == 1


@pytest.mark.parametrize("first_normalized", [False, True])
@pytest.mark.parametrize("second_normalized", [False, True])
def test_added_tokens_sharing_an_id_keep_the_later_one_like_tokenizers(
    first_normalized: bool, second_normalized: bool
) -> None:
    """`<X>` is numbered after the vocabulary (5 entries: id 5), where the vocabulary has
    `zz`; `zz`, added next, takes id 5 from it. `tokenizers` then looks for `zz` alone, or,
    when both are `normalized`, for the normalized `<x>` that it recorded for id 5."""
    first = {**_added(0, "<X>"), "normalized": first_normalized}
    second = {**_added(1, "zz"), "normalized": second_normalized}
    text = json.dumps(
        {
            "version": "1.0",
            "added_tokens": [first, second],
            "normalizer": {"type": "Lowercase"},
            "model": {
                "type": "BPE",
                "vocab": {"<": 0, "x": 1, ">": 2, "z": 3, "zz": 5},
                "merges": [],
            },
        }
    )
    reference = tokenizers.Tokenizer.from_str(text)
    ours = batok.Tokenizer.from_str(text)
    for content in ("<X>", "zz"):
        assert ours.token_to_id(content) == reference.token_to_id(content)
    for sample in ("<X>zz", "zz<x>", "<X><X>", "zzz"):
        expected = reference.encode(sample)
        got = ours.encode_plus(sample)
        assert (list(got.ids), list(got.offsets)) == (expected.ids, expected.offsets), sample
        assert list(got.tokens) == expected.tokens, sample
        for skip in (False, True):
            assert ours.decode(got.ids, skip) == reference.decode(expected.ids, skip), sample


LISTINGS = [
    {},
    {"lstrip": True},
    {"rstrip": True},
    {"special": True},
    {"single_word": True},
    {"normalized": True},
    {"lstrip": True, "special": True, "single_word": True},
]


def _listed_twice(first: dict[str, bool], second: dict[str, bool]) -> str:
    def listing(flags: dict[str, bool]) -> dict[str, Any]:
        return {**_added(0, "<S>"), "special": False, **flags}

    return json.dumps(
        {
            "version": "1.0",
            "added_tokens": [listing(first), _added(1, "<t>"), listing(second)],
            "normalizer": {"type": "Lowercase"},
            "model": {
                "type": "BPE",
                "vocab": {"<": 0, "s": 1, ">": 2, "a": 3, " ": 4, "S": 5, "t": 6},
                "merges": [],
            },
        }
    )


SAMPLES_LISTED_TWICE = ("a <S> a", "a<S>a", "<s> a", "a <S><t> <S>")


@pytest.mark.parametrize("first", LISTINGS)
@pytest.mark.parametrize("second", LISTINGS)
def test_token_listed_twice_is_matched_with_its_last_flags_like_tokenizers(
    first: dict[str, bool], second: dict[str, bool]
) -> None:
    text = _listed_twice(first, second)
    reference = tokenizers.Tokenizer.from_str(text)
    ours = batok.Tokenizer.from_str(text)
    for sample in SAMPLES_LISTED_TWICE:
        expected = reference.encode(sample)
        got = ours.encode_plus(sample)
        assert (list(got.ids), list(got.offsets)) == (expected.ids, expected.offsets), sample
        assert list(got.tokens) == expected.tokens, sample
        for skip in (False, True):
            want = reference.decode(expected.ids, skip_special_tokens=skip)
            assert ours.decode(got.ids, skip) == want, sample


def test_token_listed_twice_first_normalized_decodes_like_tokenizers() -> None:
    """An id reads back as its content normalized once any listing of it was `normalized`,
    whatever the last listing says (it still decides how the token is matched)."""
    text = _listed_twice({"normalized": True}, {})
    reference = tokenizers.Tokenizer.from_str(text)
    ours = batok.Tokenizer.from_str(text)
    ids = reference.encode("a <S> a").ids
    assert ours.decode(ids, False) == reference.decode(ids, skip_special_tokens=False)


def test_ids_alone_when_the_replacement_is_no_token_match_tokenizers() -> None:
    """A SentencePiece-style file whose `▁` is no token (it falls back to bytes) and with a
    char neither a token nor byte-covered (`\\n`): `encode` gives `tokenizers`' ids, as
    `encode_plus` does."""
    vocab = ["<unk>", "a", "x"] + [f"<0x{b:02X}>" for b in range(256) if b != 0x0A]
    text = json.dumps(
        {
            "version": "1.0",
            "normalizer": {
                "type": "Sequence",
                "normalizers": [
                    {"type": "Prepend", "prepend": "\u2581"},
                    {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"},
                ],
            },
            "model": {
                "type": "BPE",
                "vocab": {token: i for i, token in enumerate(vocab)},
                "merges": [],
                "unk_token": "<unk>",
                "fuse_unk": True,
                "byte_fallback": True,
            },
        }
    )
    reference = tokenizers.Tokenizer.from_str(text)
    ours = batok.Tokenizer.from_str(text)
    for sample in ("\n\n x", " \n a", "a\n\nx x\n", "\n", "x a"):
        expected = reference.encode(sample).ids
        assert ours.encode(sample) == expected, repr(sample)
        assert list(ours.encode_plus(sample).ids) == expected, repr(sample)
        assert ours.encode_batch([sample, sample])[1] == expected, repr(sample)


def test_merge_shorter_than_the_subword_prefix_is_refused_like_tokenizers() -> None:
    """`tokenizers` cuts the prefix's length off a merge's right part, and panics while
    loading where the part is shorter; batok refuses the file with an error that says so."""
    text = json.dumps(
        {
            "version": "1.0",
            "model": {
                "type": "BPE",
                "continuing_subword_prefix": "##",
                "vocab": {"an": 0, "s": 1, "ans": 2},
                "merges": ["an s"],
            },
        }
    )
    with pytest.raises(BaseException, match="slice"):  # a PanicException
        tokenizers.Tokenizer.from_str(text)
    with pytest.raises(batok.BatokError, match="continuing_subword_prefix"):
        batok.Tokenizer.from_str(text)


_SEP, _CLS = ["</s>", 7], ["<s>", 6]
_SEQ_A = {"Sequence": {"id": "A", "type_id": 0}}
_SEQ_B = {"Sequence": {"id": "B", "type_id": 1}}
POST_PROCESSORS_BY_FIELDS = [
    {"type": "RobertaProcessing", "sep": _SEP, "cls": _CLS},
    {"type": "RobertaProcessing", "sep": _SEP, "cls": _CLS, "trim_offsets": True},
    {"type": "RobertaProcessing", "sep": _SEP, "cls": _CLS, "trim_offsets": None},
    {"type": "BertProcessing", "sep": _SEP, "cls": _CLS, "trim_offsets": True},
    {
        "type": "BertProcessing",
        "sep": _SEP,
        "cls": _CLS,
        "trim_offsets": False,
        "add_prefix_space": True,
    },
    {
        "type": "ByteLevel",
        "sep": _SEP,
        "cls": _CLS,
        "trim_offsets": True,
        "add_prefix_space": False,
    },
    {"type": "Foo", "sep": _SEP, "cls": _CLS},
    {"sep": _SEP, "cls": _CLS},
    {"type": "ByteLevel"},
    {"type": "ByteLevel", "trim_offsets": True, "add_prefix_space": True, "use_regex": None},
    {"type": "TemplateProcessing", "single": [_SEQ_A], "special_tokens": {}},
    {"type": "BertProcessing", "single": [_SEQ_A], "pair": [_SEQ_A, _SEQ_B], "special_tokens": {}},
    {"type": "Sequence", "processors": []},
    {"processors": []},
    {"type": "Foo", "trim_offsets": True, "add_prefix_space": True},
    {
        "type": "RobertaProcessing",
        "sep": ["</s>"],
        "cls": _CLS,
        "trim_offsets": False,
        "add_prefix_space": False,
    },
]


@pytest.mark.parametrize("post_processor", POST_PROCESSORS_BY_FIELDS)
def test_post_processor_is_read_by_its_fields_like_tokenizers(
    post_processor: dict[str, Any],
) -> None:
    """`tokenizers` reads a post-processor by the fields it has, not by its type: a
    RobertaProcessing without trim_offsets is a BertProcessing there."""
    text = json.dumps(
        {
            "version": "1.0",
            "post_processor": post_processor,
            "model": {
                "type": "BPE",
                "vocab": {"Ġ": 0, "a": 1, "Ġa": 2, "b": 3, "<s>": 6, "</s>": 7},
                "merges": ["Ġ a"],
            },
        }
    )
    loaded = load_alike(text, "post_processor")
    if loaded is None:
        return
    reference, ours = loaded
    for args in (("ĠaĠ",), ("Ġ",), ("aĠa", "bĠ")):
        expected = reference.encode(*args)
        got = ours.encode_plus(*args)
        assert (list(got.ids), list(got.offsets)) == (expected.ids, expected.offsets), args
        assert list(got.type_ids) == expected.type_ids, args


@pytest.mark.parametrize(
    "affix", [{"end_of_word_suffix": "</w>"}, {"continuing_subword_prefix": "@@"}]
)
def test_ids_alone_with_word_affixes_and_uncut_words_match_tokenizers(
    affix: dict[str, str],
) -> None:
    """Metaspace without split leaves one word, so an end-of-word suffix or a subword prefix
    applies to that word's ends only: `encode` gives `tokenizers`' ids, as `encode_plus`."""
    text = json.dumps(
        {
            "version": "1.0",
            "pre_tokenizer": {
                "type": "Metaspace",
                "replacement": "\u2581",
                "prepend_scheme": "first",
                "split": False,
            },
            "model": {
                "type": "BPE",
                "unk_token": "<unk>",
                "merges": [],
                "vocab": {
                    "<unk>": 0,
                    "\u2581": 1,
                    "a": 2,
                    "b": 3,
                    "\u2581a": 4,
                    "b</w>": 5,
                    "@@b": 6,
                    "@@\u2581": 7,
                    "\u2581</w>": 8,
                },
                **affix,
            },
        }
    )
    reference = tokenizers.Tokenizer.from_str(text)
    ours = batok.Tokenizer.from_str(text)
    for sample in ("a  b", "a b", "ab  ", " b"):
        expected = reference.encode(sample).ids
        assert ours.encode(sample) == expected, repr(sample)
        assert list(ours.encode_plus(sample).ids) == expected, repr(sample)


NORMALIZERS_BY_FIELDS = [
    {"type": "BertNormalizer", "prepend": "x"},
    {"prepend": "x"},
    {"type": "Foo", "prepend": "x"},
    {"type": "BertNormalizer", "prepend": "x", "strip_left": True, "strip_right": False},
    {"type": "BertNormalizer", "pattern": {"String": "a"}, "content": "b"},
    {"type": "BertNormalizer", "normalizers": [{"type": "Lowercase"}]},
    {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True, "lowercase": True},
    {"type": "BertNormalizer"},
    {"strip_left": True, "strip_right": True},
    {"type": "Strip"},
    {"type": "Strip", "prepend": "x"},
    {"type": "Lowercase", "prepend": "x"},
]


@pytest.mark.parametrize("type_", [None, "Foo", 5, ["Precompiled"], "Precompiled", "absent"])
def test_precompiled_charsmap_is_read_only_under_its_type(tokenizers_dir: Path, type_: Any) -> None:
    """`tokenizers` reads a charsmap as a Precompiled normalizer only when the type says so,
    never by its field (T5's charsmap, valid)."""
    t5 = json.loads((tokenizers_dir / "t5-small" / "tokenizer.json").read_text(encoding="utf-8"))
    parts = t5["normalizer"].get("normalizers") or [t5["normalizer"]]
    charsmap = next(n["precompiled_charsmap"] for n in parts if n.get("type") == "Precompiled")
    normalizer: dict[str, Any] = {"precompiled_charsmap": charsmap}
    if type_ != "absent":
        normalizer["type"] = type_
    text = json.dumps(
        {
            "version": "1.0",
            "normalizer": normalizer,
            "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
        }
    )
    if type_ == "Precompiled":
        tokenizers.Tokenizer.from_str(text)
        batok.Tokenizer.from_str(text)
        return
    with pytest.raises(Exception, match="NormalizerUntagged"):
        tokenizers.Tokenizer.from_str(text)
    with pytest.raises(batok.BatokError, match="normalizer"):
        batok.Tokenizer.from_str(text)


#: Text for Unicode property patterns, and for line-break ones.
_PROPERTY_TEXTS = ("a b1 \\p{L} ΑΒγ 12 !?", "abc", "")
_LINE_BREAK_TEXTS = ("a\r\n\n\x0b\x0cR\u2029\ra\x85\u2028", "Ra\r\n", "\r\r\n\n", "")
_DIGIT_ESCAPE_TEXTS = ("xAx\x01y(a)a8\x08z", "aa\x08a\x0a 81 0é1", "abcdefghijj\\101 A1", "ÿa\xff")


_LETTER_ESCAPE_TEXTS = ("aOb NZo\n", "a\nb\r\nc\n", "x\n", "AB1\n\n", "")


@pytest.mark.parametrize(
    ("pattern", "samples"),
    [
        *(
            (pattern, _PROPERTY_TEXTS)
            for pattern in (
                r"\p{L}+",
                r"[^\s\p{L}\p{N}]+",
                r"\p{^L}+",
                r"[\P{^N}]+",
                r"\pL+",
                r"\p{Latin}+",
                "[^\\s\\p{L\ufffd\ufffd}\\p{N}]+",
                r"\p{sc=Latin}",
                r"\p{Script=Greek}",
                r"\\p{L}",
            )
        ),
        *(
            (pattern, _LINE_BREAK_TEXTS)
            for pattern in (r"\R", r"\R+", r"\R\n", r"a\R", r"[\R]+", r"[^\R\s]+")
        ),
        *(
            (pattern, _LETTER_ESCAPE_TEXTS)
            for pattern in (
                r"\O",
                r"\N+",
                r"\Z",
                r"\w\Z",
                r"\n\Z",
                r"[\O\N\Z]",
                r"\o{101}",
                r"[a\o{102}\o{12}]+",
                r"\o{9}",
            )
        ),
        *(
            (pattern, _DIGIT_ESCAPE_TEXTS)
            for pattern in (
                r"\101",
                r"[\101]",
                r"\1",
                r"(a)\1",
                r"\01",
                r"\001",
                r"\0101",
                r"\08",
                r"\10",
                r"(a)\10",
                r"\18",
                r"\8",
                r"\81",
                r"[\8\9]",
                r"[\18]",
                r"\12",
                r"\7",
                r"\177",
                r"\200",
                r"\377",
                r"\400",
                r"[\400]",
                r"[a\377]",
                r"\377?a",
                r"\365",
                r"\300",
                r"\303a",
                r"\303\303",
                r"\303\251",
                r"[\303\251]+",
                r"\303",
                r"(?<n>a)\1",
                r"(?<n>a)\10",
                r"(?<=a)\1",
                r"(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)\10",
                r"\\101",
            )
        ),
    ],
)
def test_regex_escapes_are_read_like_tokenizers(pattern: str, samples: tuple[str, ...]) -> None:
    """Oniguruma's escapes in a Split regex as tokenizers' engine reads them. Unicode
    properties: `^` negates, and a name with a char beyond ASCII or a `name=value` form is
    refused. `\\R`: `\\r\\n` whole (atomically, so `\\R\\n` needs a second newline) or one
    line-break char; `\\O` any char, `\\N` any but a newline, `\\Z` the end or a last newline;
    inside a class, each is its letter. `\\o{...}`: a char by its octal code. A backslash and
    digits: a backreference where there are that many groups (or the number is below 10),
    else bytes by their octal codes (`\\303\\251` is "é"), and `\\8`, `\\9` the digit."""
    text = json.dumps(
        {
            "version": "1.0",
            "pre_tokenizer": {
                "type": "Split",
                "pattern": {"Regex": pattern},
                "behavior": "Isolated",
                "invert": False,
            },
            "model": {"type": "WordLevel", "vocab": {"[UNK]": 0, "a": 1}, "unk_token": "[UNK]"},
        }
    )
    loaded = load_alike(text, "pattern")
    if loaded is None:
        return
    reference, ours = loaded
    for sample in samples:
        expected = reference.encode(sample)
        got = ours.encode_plus(sample)
        assert (list(got.ids), list(got.offsets)) == (expected.ids, expected.offsets), sample


@pytest.mark.parametrize("normalizer", NORMALIZERS_BY_FIELDS)
def test_normalizer_is_read_like_tokenizers(normalizer: dict[str, Any]) -> None:
    """`tokenizers` reads a BertNormalizer, or a normalizer without a type it knows, by its
    fields (a "BertNormalizer" with only `prepend` is a Prepend there), and every other type
    by its type, with all of its fields."""
    text = json.dumps(
        {
            "version": "1.0",
            "normalizer": normalizer,
            "model": {
                "type": "BPE",
                "vocab": {"a": 0, "b": 1, "x": 2, "A": 3, "é": 4, "e": 5},
                "merges": [],
            },
        }
    )
    loaded = load_alike(text, "normalizer")
    if loaded is None:
        return
    reference, ours = loaded
    for sample in ("aA é", " ab "):
        expected = reference.encode(sample)
        got = ours.encode_plus(sample)
        assert (list(got.ids), list(got.offsets)) == (expected.ids, expected.offsets), sample


COMPONENTS_WITH_REQUIRED_FIELDS = [
    ("pre_tokenizer", {"type": "ByteLevel"}),
    ("pre_tokenizer", {"type": "ByteLevel", "add_prefix_space": False}),
    ("pre_tokenizer", {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True}),
    (
        "pre_tokenizer",
        {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": None},
    ),
    ("pre_tokenizer", {"type": "Digits"}),
    ("pre_tokenizer", {"type": "Digits", "individual_digits": True}),
    ("pre_tokenizer", {"type": "Split", "pattern": {"String": " "}, "behavior": "Removed"}),
    ("decoder", {"type": "ByteLevel"}),
    ("decoder", {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True}),
    ("decoder", {"type": "WordPiece", "prefix": "##"}),
    ("decoder", {"type": "WordPiece", "prefix": "##", "cleanup": False}),
    ("decoder", {"type": "BPEDecoder"}),
    ("decoder", {"type": "BPEDecoder", "suffix": None}),
    ("decoder", {"type": "BPEDecoder", "suffix": "</w>"}),
    *[
        (key, {"type": "Metaspace", "replacement": "x", **settings})
        for key in ("pre_tokenizer", "decoder")
        for settings in (
            {"prepend_scheme": "first", "add_prefix_space": False},
            {"prepend_scheme": "always", "add_prefix_space": False},
            {"prepend_scheme": "never", "add_prefix_space": False},
            {"prepend_scheme": "first", "add_prefix_space": True},
            {"add_prefix_space": False},
            {"add_prefix_space": False, "str_rep": "x", "split": True},
            {"add_prefix_space": True},
            {"add_prefix_space": None},
            {"prepend_scheme": None},
            {"prepend_scheme": "always", "split": 5},
            {"prepend_scheme": "always", "split": None},
            {"prepend_scheme": "always", "add_prefix_space": 5},
            {"prepend_scheme": "always", "add_prefix_space": None},
            {"str_rep": 5},
            {"str_rep": None},
            {"str_rep": "x"},
        )
    ],
]


@pytest.mark.parametrize(("key", "component"), COMPONENTS_WITH_REQUIRED_FIELDS)
def test_component_fields_are_required_as_in_tokenizers(key: str, component: Any) -> None:
    """batok loads a pre-tokenizer or decoder where `tokenizers` loads it, and refuses it,
    naming the part, where `tokenizers` finds a field missing or null."""
    text = json.dumps(
        {
            "version": "1.0",
            key: component,
            "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
        }
    )
    load_alike(text, key)


def test_token_with_the_largest_id_is_found_like_tokenizers() -> None:
    """An id of 2**32 - 1 is an id like any other: a char with it is a token."""
    text = json.dumps(
        {
            "version": "1.0",
            "model": {
                "type": "BPE",
                "vocab": {"a": 0, "b": 1, "!": 2**32 - 1},
                "merges": [],
                "unk_token": "b",
            },
        }
    )
    reference = tokenizers.Tokenizer.from_str(text)
    ours = batok.Tokenizer.from_str(text)
    for sample in ("a!", "!", "a?b"):
        expected = reference.encode(sample)
        got = ours.encode_plus(sample)
        assert (list(got.ids), list(got.offsets)) == (expected.ids, expected.offsets), sample
        assert ours.encode(sample) == expected.ids, sample


@pytest.mark.parametrize("version", ["1.0", "missing", "2.0", "", "1.0 ", 1.0, 1, None, ["1.0"]])
def test_version_other_than_1_0_is_refused_like_tokenizers(version: Any) -> None:
    """`tokenizers` reads a file whose "version" is "1.0" or absent, and refuses any other."""
    doc: dict[str, Any] = {"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}
    if version != "missing":
        doc["version"] = version
    text = json.dumps(doc)
    loaded = load_alike(text, "^version: .*" + re.escape(json.dumps(version)))
    if loaded is not None:
        assert loaded[1].encode("a") == [0]


DECODERS_BY_FIELDS: list[Any] = [
    {"suffix": "</w>"},
    {"type": "Foo", "suffix": "</w>"},
    {"type": None, "suffix": "</w>"},
    {"type": 5, "prefix": "##", "cleanup": True},
    {"suffix": 5, "prefix": "##", "cleanup": False},
    {"prefix": "##"},
    {"pattern": {"String": "a"}, "content": "b"},
    {"pattern": {"String": "a", "Regex": "b"}, "content": "b"},
    {"type": "Replace", "pattern": {"String": "a", "Regex": "b"}, "content": "b"},
    {"pattern": {"Regex": "("}, "content": "b", "start": 1, "stop": 0},
    {"content": "b", "start": 1, "stop": 0},
    {"content": "bc", "start": 1, "stop": 0},
    {"replacement": "_", "prepend_scheme": "always"},
    {"add_prefix_space": True, "trim_offsets": True},
    {"decoders": []},
    {"type": "BPEDecoder", "prefix": "##", "cleanup": True},
    {"type": "Sequence", "decoders": [{"suffix": "b"}, {"prefix": "a", "cleanup": False}]},
    {},
]


@pytest.mark.parametrize("decoder", DECODERS_BY_FIELDS)
def test_decoder_without_a_known_type_is_read_by_its_fields_like_tokenizers(
    decoder: dict[str, Any],
) -> None:
    """`tokenizers` reads a decoder with no type, or a type it does not know, by its fields:
    `{"suffix": "</w>"}` is a BPEDecoder there."""
    text = json.dumps(
        {
            "version": "1.0",
            "decoder": decoder,
            "model": {
                "type": "WordLevel",
                "vocab": {"[UNK]": 0, "a": 1, "b": 2, "ab": 3, "##b": 4, "</w>": 5},
                "unk_token": "[UNK]",
            },
        }
    )
    loaded = load_alike(text, "^decoder")
    if loaded is None:
        return
    reference, ours = loaded
    for ids in ([1, 2, 3], [3, 4, 5, 1], [4, 0, 2]):
        assert ours.decode(ids) == reference.decode(ids), ids


_VOCAB = {"a": 0, "b": 1, "ab": 2, "[UNK]": 3}
_WP = {"continuing_subword_prefix": "##", "max_input_chars_per_word": 100}
MODELS_WITHOUT_TYPE: list[dict[str, Any]] = [
    {"vocab": _VOCAB, "merges": ["a b"]},
    {"vocab": _VOCAB, "merges": ["a b"], "unk_token": "[UNK]"},
    {"vocab": _VOCAB, "unk_token": "[UNK]", **_WP},
    {"vocab": _VOCAB, "unk_token": "[UNK]", "continuing_subword_prefix": "##"},
    {"vocab": _VOCAB, "unk_token": "[UNK]", "max_input_chars_per_word": 100},
    {"vocab": _VOCAB, "unk_token": "[UNK]", "merges": 5},
    {"vocab": _VOCAB, "unk_token": "[UNK]", "merges": ["a x"]},
    {"vocab": _VOCAB, "unk_token": "[UNK]", "merges": ["a x"], **_WP},
    {"vocab": _VOCAB, "unk_token": "[UNK]", **_WP, "max_input_chars_per_word": -1},
    {"vocab": _VOCAB, "unk_token": "[UNK]"},
    {"vocab": _VOCAB},
    {"vocab": _VOCAB, "merges": ["a x"]},
    {"vocab": [["a", -1.0], ["b", -2.0], ["ab", -1.5]]},
    {"vocab": [["a", -1.0], ["b", -2.0]], "unk_id": 0},
]


@pytest.mark.parametrize("model", MODELS_WITHOUT_TYPE)
def test_model_without_a_type_is_the_first_kind_that_fits_like_tokenizers(
    model: dict[str, Any],
) -> None:
    """`tokenizers` reads a model without a type as the first of BPE, WordPiece, WordLevel and
    Unigram whose fields fit: a BPE whose merges name a token the vocabulary lacks, with an
    unk_token, is a WordLevel there."""
    text = json.dumps({"version": "1.0", "model": model})
    loaded = load_alike(text, "^model")
    if loaded is None:
        return
    reference, ours = loaded
    assert ours.get_vocab_size() == reference.get_vocab_size()
    for sample in ("ab", "ba", "abab", "b"):
        expected = reference.encode(sample)
        got = ours.encode_plus(sample)
        assert (list(got.ids), list(got.offsets)) == (expected.ids, expected.offsets), sample


@pytest.mark.parametrize("dropout", [1, 0.5, 0, 1.5, -0.1])
@pytest.mark.parametrize("merges", [["a b"], ["a x"]], ids=["merges_fit", "merge_not_in_vocab"])
def test_model_without_a_type_with_dropout_is_read_as_tokenizers_reads_it(
    dropout: float, merges: list[str]
) -> None:
    """`tokenizers` reads a model without a type that has a dropout from 0 to 1 (and merges
    that fit) as a BPE with dropout, rather than as the WordLevel that its vocabulary and
    unk_token also make; out of that range, or with merges that do not fit, as a WordLevel."""
    model = {"vocab": _VOCAB, "merges": merges, "unk_token": "[UNK]", "dropout": dropout}
    text = json.dumps({"version": "1.0", "model": model})
    reference = tokenizers.Tokenizer.from_str(text)
    ours = batok.Tokenizer.from_str(text)
    if type(reference.model).__name__ == "BPE" and dropout == 0.5:
        # Random: "ab" merges or not, and both come up in 200 draws in both libraries.
        expected = {tuple(reference.encode("ab").ids) for _ in range(200)}
        assert {tuple(ours.encode("ab")) for _ in range(200)} == expected == {(2,), (0, 1)}
        return
    for sample in ("ab", "ba", "abx"):
        assert ours.encode(sample) == reference.encode(sample).ids, sample


def _special(name: str, type_id: int = 0) -> dict[str, Any]:
    return {"SpecialToken": {"id": name, "type_id": type_id}}


@pytest.mark.parametrize(
    ("single", "pair"),
    [
        ([_special("[X]"), _SEQ_A], [_SEQ_A, _SEQ_B]),
        ([_SEQ_A], [_special("[X]"), _SEQ_A, _SEQ_B]),
        ([_special("<s>"), _SEQ_A, _special("[X]")], [_special("<s>"), _SEQ_A, _SEQ_B]),
    ],
    ids=["in_single", "in_pair", "beside_a_known_one"],
)
def test_template_naming_a_missing_special_token_fails_only_where_tokenizers_fails(
    single: list[dict[str, Any]], pair: list[dict[str, Any]]
) -> None:
    """`tokenizers` loads a template that names a special token its special_tokens lacks and
    fails only when it adds that template's special tokens; batok raises there, nowhere else."""
    text = json.dumps(
        {
            "version": "1.0",
            "post_processor": {
                "type": "TemplateProcessing",
                "single": single,
                "pair": pair,
                "special_tokens": {"<s>": {"id": "<s>", "ids": [6], "tokens": ["<s>"]}},
            },
            "pre_tokenizer": {"type": "WhitespaceSplit"},
            "model": {
                "type": "WordLevel",
                "vocab": {"[UNK]": 0, "a": 1, "b": 2, "<s>": 6},
                "unk_token": "[UNK]",
            },
        }
    )
    reference = tokenizers.Tokenizer.from_str(text)
    ours = batok.Tokenizer.from_str(text)
    failed = 0
    for texts in (("a b",), ("a", "b a")):
        for add in (True, False):
            expected = reference_or_none(reference.encode, *texts, add_special_tokens=add)
            if expected is None:
                failed += 1
                with pytest.raises(ValueError, match="cannot encode this text.*\\[X\\]"):
                    ours.encode_plus(*texts, add_special_tokens=add)
                if len(texts) == 1:
                    with pytest.raises(ValueError, match="cannot encode this text"):
                        ours.encode(texts[0], add)
                continue
            got = ours.encode_plus(*texts, add_special_tokens=add)
            assert (list(got.ids), list(got.type_ids)) == (expected.ids, expected.type_ids)
            if len(texts) == 1:
                assert ours.encode(texts[0], add) == expected.ids
    assert failed == 1


@pytest.mark.parametrize(
    "entry",
    [
        {"id": "<s>", "ids": [6], "tokens": ["<s>"]},
        {"id": "<other>", "ids": [6], "tokens": ["<s>"]},
        {"ids": [6], "tokens": ["<s>"]},
        {"id": 5, "ids": [6], "tokens": ["<s>"]},
        {"id": {"type": "Punctuation"}, "ids": [6], "tokens": ["<s>"]},
        {"id": "<s>", "ids": [2**32], "tokens": ["<s>"]},
        {"id": "<s>", "ids": [-1], "tokens": ["<s>"]},
        [],
    ],
)
def test_template_special_token_entries_are_read_like_tokenizers(entry: Any) -> None:
    """Each special token of a template needs a string "id" and ids below 2**32 in
    `tokenizers`, which refuses the file otherwise."""
    text = json.dumps(
        {
            "version": "1.0",
            "post_processor": {
                "type": "TemplateProcessing",
                "single": [_special("<s>"), _SEQ_A],
                "pair": [_SEQ_A, _SEQ_B],
                "special_tokens": {"<s>": entry},
            },
            "model": {
                "type": "WordLevel",
                "vocab": {"[UNK]": 0, "a": 1, "<s>": 6},
                "unk_token": "[UNK]",
            },
        }
    )
    loaded = load_alike(text, "^post_processor")
    if loaded is None:
        return
    reference, ours = loaded
    assert ours.encode("a") == reference.encode("a").ids


@pytest.mark.parametrize(
    "affix",
    [
        {"end_of_word_suffix": "</w>", "merges": ["a b"]},
        {"continuing_subword_prefix": "##", "merges": ["a ##b"]},
    ],
)
def test_byte_fallback_with_a_word_affix_gives_tokenizers_offsets(affix: dict[str, Any]) -> None:
    """A char in no token, with the suffix (or prefix) it would carry, falls back to the bytes
    of both: the affix's bytes run on past the word, and `tokenizers` keeps their offsets
    within the word as they are; batok gives the same offsets."""
    vocab = {f"<0x{b:02X}>": b for b in range(256)}
    vocab.update({"a": 256, "b": 257, "ab": 258, "a</w>": 259, "ab</w>": 260, "##b": 261})
    text = json.dumps(
        {
            "version": "1.0",
            "pre_tokenizer": {"type": "WhitespaceSplit"},
            "model": {
                "type": "BPE",
                "vocab": vocab,
                "byte_fallback": True,
                **affix,
            },
        }
    )
    reference = tokenizers.Tokenizer.from_str(text)
    ours = batok.Tokenizer.from_str(text)
    for sample in ("x", "abx", "ab \U0001f600", "é\U0001f600", "xé ab", "bx ax", "ab"):
        for add in (True, False):
            expected = reference.encode(sample, add_special_tokens=add)
            got = ours.encode_plus(sample, add)
            assert (list(got.ids), list(got.offsets)) == (expected.ids, expected.offsets), sample


@pytest.mark.parametrize(
    "merges",
    [["a b", "ab c"], [["a", "b"], ["ab", "c"]], [["a", "b"], "ab c"], ["a b", ["ab", "c"]]],
)
def test_merges_mixing_strings_and_lists_are_refused_like_tokenizers(merges: list[Any]) -> None:
    vocab = {"a": 0, "b": 1, "ab": 2, "c": 3, "abc": 4}
    text = json.dumps(
        {"version": "1.0", "model": {"type": "BPE", "vocab": vocab, "merges": merges}}
    )
    loaded = load_alike(text, "^model.merges")
    if loaded is None:
        return
    reference, ours = loaded
    assert ours.encode("abc") == reference.encode("abc").ids


@pytest.mark.parametrize("value", [False, None, {}, [], "x"])
def test_unknown_top_level_field_is_refused_like_tokenizers(value: Any) -> None:
    """`tokenizers` cannot read past the value of a top-level field it does not know."""
    model = {"type": "BPE", "vocab": {"a": 0}, "merges": []}
    text = json.dumps({"version": "1.0", "model": model, "rstrip": value})
    with pytest.raises(Exception, match="expected `,` or `}`"):
        tokenizers.Tokenizer.from_str(text)
    with pytest.raises(batok.BatokError, match='unknown field "rstrip"'):
        batok.Tokenizer.from_str(text)


@pytest.mark.parametrize(
    "piece",
    [
        {"SpecialToken": {"id": "<s>", "type_id": 1, "unknown": True}},
        {"Sequence": {"id": "A", "type_id": 1, "unknown": None}},
        {"SpecialToken": ["<s>", 1]},
        {"Sequence": ["A", 1]},
        {"SpecialToken": {"id": "<s>", "type_id": 1}, "dropout": None},
        {"dropout": None, "SpecialToken": {"id": "<s>", "type_id": 1}},
        {"SpecialToken": {"id": "<s>", "type_id": 1}, "Sequence": {"id": "A", "type_id": 0}},
        {"SpecialToken": ["<s>", 1, 2]},
        {"Special": {"id": "<s>", "type_id": 1}},
        {},
        "$A",
        {"Sequence": {"id": "A", "type_id": 2**32}},
        _special("<s>", 2**32),
    ],
)
def test_template_piece_is_read_like_tokenizers(piece: Any) -> None:
    """A piece is an object with one key, SpecialToken or Sequence; its fields may be a list,
    and unknown fields inside it are ignored; type ids fit in 32 bits. Where `tokenizers` loads
    the file, the ids and type ids agree; where it refuses, so does batok."""
    text = json.dumps(
        {
            "version": "1.0",
            "post_processor": {
                "type": "TemplateProcessing",
                "single": [_SEQ_A, piece],
                "pair": [_SEQ_A, _SEQ_B],
                "special_tokens": {"<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]}},
            },
            "model": {"type": "BPE", "vocab": {"<s>": 0, "a": 1}, "merges": []},
        }
    )
    try:
        reference = tokenizers.Tokenizer.from_str(text)
    except Exception as err:
        assert "PostProcessorWrapper" in str(err)
        with pytest.raises(batok.BatokError, match=r"post_processor\.single\[1\]"):
            batok.Tokenizer.from_str(text)
        return
    expected = reference.encode("a")
    got = batok.Tokenizer.from_str(text).encode_plus("a")
    assert (list(got.ids), list(got.type_ids)) == (expected.ids, expected.type_ids)


@pytest.mark.parametrize(
    "piece",
    [
        '{"SpecialToken": {"id": "<s>", "type_id": 1}, '
        '"SpecialToken": {"id": "<s>", "type_id": 0}}',
        '{"Sequence": {"id": "A", "type_id": 1}, "Sequence": {"id": "A", "type_id": 0}}',
        '{"SpecialToken": {"id": "<x>", "id": "<s>", "type_id": 1}}',
        '{"Sequence": {"id": "A", "type_id": 1, "type_id": 0}}',
        '{"SpecialToken": {"id": "<s>", "type_id": 1, "unknown": 0, "unknown": 1}}',
        '{"SpecialToken": {"id": "<s>", "type_id": 1}}',
    ],
)
@pytest.mark.parametrize("outer_type", ["", '"type": "BertProcessing", '])
def test_template_piece_with_a_key_twice_is_read_like_tokenizers(
    piece: str, outer_type: str
) -> None:
    """JSON text with a repeated key (which a Python dict cannot hold): `tokenizers` refuses a
    template piece, or a piece's fields, that repeat a key, and takes a post-processor whose
    own `type` is given twice (the last one counts)."""
    text = (
        '{"version": "1.0", "post_processor": {' + outer_type + '"type": "TemplateProcessing", '
        f'"single": [{json.dumps(_SEQ_A)}, {piece}], '
        f'"pair": [{json.dumps(_SEQ_A)}, {json.dumps(_SEQ_B)}], '
        '"special_tokens": {"<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]}}}, '
        '"model": {"type": "BPE", "vocab": {"<s>": 0, "a": 1}, "merges": []}}'
    )
    loaded = load_alike(text, r"^post_processor\.single\[1\].*given twice")
    if loaded is None:
        return
    reference, ours = loaded
    expected = reference.encode("a")
    got = ours.encode_plus("a")
    assert (list(got.ids), list(got.type_ids)) == (expected.ids, expected.type_ids)


_FLAGS = '"single_word": false, "lstrip": false, "rstrip": false, "normalized": false'


@pytest.mark.parametrize(
    "token",
    [
        '"id": 1, "content": "<x>", "special": true, "special": false',
        '"id": 1, "id": 1, "content": "<x>", "special": true',
        '"id": 1, "content": "<x>", "content": "<y>", "special": true',
        '"id": 1, "content": "<x>", "normalized": {"type": "NFC"}, "special": true',
        '"id": 1, "content": "<x>", "special": true, "unknown": 1, "unknown": 2',
        '"id": 1, "content": "<x>", "special": true',
    ],
)
def test_added_token_with_a_field_twice_is_read_like_tokenizers(token: str) -> None:
    """JSON text with a repeated key: `tokenizers` refuses an added token that gives one of
    its fields twice, and skips a repeated unknown field."""
    text = (
        '{"version": "1.0", "added_tokens": [{' + token + ", " + _FLAGS + "}], "
        '"model": {"type": "BPE", "vocab": {"a": 0, "<x>": 1}, "merges": []}}'
    )
    loaded = load_alike(text, r"^added_tokens\[0\].*given twice")
    if loaded is None:
        return
    reference, ours = loaded
    assert ours.encode("a<x>a") == reference.encode("a<x>a").ids


@pytest.mark.parametrize("added", ["absent", None, []])
def test_added_tokens_null_is_refused_like_tokenizers(added: Any) -> None:
    """A missing `added_tokens` is an empty list; null is refused, as tokenizers refuses it."""
    doc: dict[str, Any] = {"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}
    if added != "absent":
        doc["added_tokens"] = added
    text = json.dumps(doc)
    if added is None:
        with pytest.raises(Exception, match="expected a sequence"):
            tokenizers.Tokenizer.from_str(text)
        with pytest.raises(batok.BatokError, match="added_tokens"):
            batok.Tokenizer.from_str(text)
    else:
        tokenizers.Tokenizer.from_str(text)
        assert batok.Tokenizer.from_str(text).encode("a") == [0]


def _padded_file(length: int, multiple: int | None) -> str:
    return json.dumps(
        {
            "version": "1.0",
            "padding": {
                "strategy": {"Fixed": length},
                "direction": "Right",
                "pad_to_multiple_of": multiple,
                "pad_id": 0,
                "pad_type_id": 0,
                "pad_token": "a",
            },
            "pre_tokenizer": {"type": "Whitespace"},
            "model": {"type": "WordLevel", "vocab": {"a": 0, "b": 1}, "unk_token": "a"},
        }
    )


def test_padding_to_a_length_no_memory_holds_is_a_clear_error() -> None:
    """`tokenizers` panics on it (capacity overflow); batok says what is wrong and what to do,
    in every call that pads."""
    text = _padded_file(2**63 + 17, None)
    with pytest.raises(BaseException, match="capacity overflow"):  # a PanicException
        tokenizers.Tokenizer.from_str(text).encode("a b")
    ours = batok.Tokenizer.from_str(text)
    calls = [
        lambda: ours.encode("a b"),
        lambda: ours.encode_plus("a b"),
        lambda: ours.encode_batch(["a b"]),
        lambda: ours.encode_batch_plus(["a b", "b"]),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="cannot pad to 9223372036854775825 tokens"):
            call()


def test_padding_rounded_up_past_the_largest_length_wraps_like_tokenizers() -> None:
    text = _padded_file(2**64 - 3, 8)  # rounds up to 2**64, which wraps to 0: no padding
    expected = tokenizers.Tokenizer.from_str(text).encode("a b")
    got = batok.Tokenizer.from_str(text).encode_plus("a b")
    assert (got.ids, got.attention_mask) == (expected.ids, expected.attention_mask)
    assert got.ids == [0, 1]


@pytest.mark.parametrize("component", ["normalizer", "pre_tokenizer", "post_processor", "decoder"])
@pytest.mark.parametrize("items", [["x"], [], [True, False], ["a", "b"]])
def test_component_given_as_a_list_is_not_supported_or_refused_like_tokenizers(
    component: str, items: list[Any]
) -> None:
    """`tokenizers` reads a list in place of a component as the fields, in order, of the first
    kind it fits (`["x"]` as a normalizer is `Prepend("x")`); batok refuses every list, saying
    it is not supported where `tokenizers` loads the file."""
    text = json.dumps({"version": "1.0", component: items, "model": json.loads(_file([]))["model"]})
    try:
        tokenizers.Tokenizer.from_str(text)
    except Exception:
        with pytest.raises(batok.BatokError, match=component):
            batok.Tokenizer.from_str(text)
        return
    with pytest.raises(batok.BatokError, match=f"{component}: a list .* is not supported"):
        batok.Tokenizer.from_str(text)


@pytest.mark.parametrize(
    "model",
    [
        {"vocab": {"<unk>": 0, "o": 1}, "merges": ["o <unk>"], "unk_token": "<unk>"},
        {"vocab": {"<unk>": 0, "o": 1}, "merges": ["o <unk>"]},
        {"vocab": {"abc": 0, "##d": 1}, "merges": ["abc ##d"], "continuing_subword_prefix": "##"},
        # The merged token no longer than the longest token: an error tokenizers reports,
        # after which a model without a type is read as the next kind that fits.
        {"vocab": {"<unk>": 0, "s": 1}, "merges": ["s s", "s s"], "unk_token": "<unk>"},
        {
            "vocab": {"a": 0, "##dd": 1, "[UNK]": 2},
            "merges": ["a ##dd"],
            "continuing_subword_prefix": "##",
            "unk_token": "[UNK]",
        },
    ],
)
@pytest.mark.parametrize("typed", [False, True])
def test_merge_into_a_missing_token_is_refused_or_read_like_tokenizers(
    model: dict[str, Any], typed: bool
) -> None:
    """`tokenizers` panics on a merge whose token is missing when that token is longer than
    every token of the vocabulary, and reports it otherwise; only in the second case does it
    go on to read a model without a type as another kind."""
    if typed:
        model = {"type": "BPE", **model}
    text = json.dumps({"version": "1.0", "model": model})
    try:
        reference = tokenizers.Tokenizer.from_str(text)
    except BaseException:  # noqa: BLE001 - tokenizers' PanicException is one
        with pytest.raises(batok.BatokError, match="merged token"):
            batok.Tokenizer.from_str(text)
        return
    ours = batok.Tokenizer.from_str(text)
    for sample in ("a", "add abc", "o d", ""):
        assert ours.encode(sample) == reference.encode(sample).ids, repr(sample)


_WORDS = '{"type": "WordLevel", "vocab": {"a": 0, "A": 1, "x": 2, "<x>": 3}, "unk_token": "x"}'
_OTHER_WORDS = _WORDS.replace('"a": 0', '"a": 2').replace('"x": 2', '"x": 0')
_ADDED_X = '[{"id": 3, "content": "<x>", "single_word": false, "lstrip": false, "rstrip": false, '
_ADDED_X += '"normalized": false, "special": true}]'


@pytest.mark.parametrize(
    "fields",
    [
        '"normalizer": null, "normalizer": null',
        '"model": {"unk_token": "x"}, "model": ' + _WORDS,
        '"model": ' + _WORDS + ', "model": {"unk_token": "x"}',
        '"model": ' + _WORDS + ', "model": ' + _OTHER_WORDS,
        '"decoder": null, "decoder": {"type": "Fuse"}',
        '"decoder": {"type": "Nope"}, "decoder": {"type": "Fuse"}',
        '"normalizer": {"type": "Lowercase"}, "normalizer": {"type": "NFC"}',
        '"normalizer": {"type": "NFC"}, "normalizer": {"type": "Lowercase"}',
        '"normalizer": {"type": "Nope"}, "normalizer": {"type": "NFC"}',
        '"normalizer": {"type": "NFC"}, "normalizer": null, "normalizer": {"type": "Lowercase"}',
        '"pre_tokenizer": {"type": "Whitespace"}, "pre_tokenizer": null',
        '"post_processor": {"type": "Nope"}, "post_processor": null',
        '"version": "2.0", "version": "1.0"',
        '"version": "1.0", "version": "1.0"',
        '"added_tokens": ' + _ADDED_X + ', "added_tokens": []',
        '"added_tokens": [], "added_tokens": ' + _ADDED_X,
        '"added_tokens": [{"id": 3}], "added_tokens": []',
        '"padding": null, "padding": null',
        '"truncation": {"max_length": "x"}, "truncation": null',
    ],
)
def test_top_level_field_given_twice_is_read_every_time_and_the_last_kept_like_tokenizers(
    fields: str,
) -> None:
    """`tokenizers` reads each copy of a repeated top-level field in turn, refusing the file
    when one fails, and keeps the last; so does batok."""
    text = "{" + fields + ("" if '"model"' in fields else ", " + '"model": ' + _WORDS) + "}"
    loaded = load_alike(text, "copy 1:|version|model")
    if loaded is None:
        return
    reference, ours = loaded
    for sample in ("A a", "a<x>A", "x", ""):
        assert ours.encode(sample) == reference.encode(sample).ids, repr(sample)
        ids = reference.encode(sample).ids
        for skip in (False, True):
            assert ours.decode(ids, skip) == reference.decode(ids, skip), (sample, skip)


def test_merge_cut_inside_a_char_is_an_error_after_which_tokenizers_reads_another_kind() -> None:
    """Less the prefix's bytes, "é" is cut inside its char: no token can be the join, and as
    the join fits tokenizers' buffer that is an error it reports, so a model without a type is
    read as another kind. (With a type the file is refused; tokenizers' own message for it is
    not UTF-8 and aborts the process, so that case is not run here.)"""
    model = {
        "vocab": {"x": 0, "é": 1, "<unk>": 2},
        "merges": ["x é"],
        "continuing_subword_prefix": "#",
        "unk_token": "<unk>",
    }
    text = json.dumps({"version": "1.0", "model": model})
    reference = tokenizers.Tokenizer.from_str(text)
    ours = batok.Tokenizer.from_str(text)
    assert type(reference.model).__name__ == "WordLevel"
    for sample in ("x", "é", "xé", "y", ""):
        assert ours.encode(sample) == reference.encode(sample).ids, repr(sample)


@pytest.mark.parametrize(
    "model",
    [
        '{"unk_token": "", "vocab": {"": 0}, "vocab": {"": 0}, "merges": []}',
        '{"type": "BPE", "vocab": {"a": 0}, "merges": [], "unk_token": "a", "unk_token": "a"}',
        '{"type": "WordLevel", "vocab": {"a": 0}, "vocab": {"a": 0}, "unk_token": "a"}',
    ],
)
def test_model_field_given_twice_is_not_supported_or_refused_like_tokenizers(model: str) -> None:
    """`tokenizers` reads a model that gives a field twice; batok refuses it and says why."""
    text = '{"version": "1.0", "model": ' + model + "}"
    try:
        tokenizers.Tokenizer.from_str(text)
    except Exception:
        with pytest.raises(batok.BatokError):
            batok.Tokenizer.from_str(text)
        return
    with pytest.raises(batok.BatokError, match="given twice, which is not supported"):
        batok.Tokenizer.from_str(text)


def _byte_fallback_file(normalizer: dict[str, Any], added: list[dict[str, Any]]) -> str:
    """A BPE over a few letters with byte fallback, so "İ" and "ﬁ" become byte tokens."""
    vocab = {"<unk>": 0, "a": 1, "b": 2, "x": 3, " ": 4, "ab": 5}
    vocab.update({f"<0x{b:02X}>": 6 + b for b in range(256)})
    model = {"type": "BPE", "vocab": vocab, "merges": ["a b"], "byte_fallback": True}
    model["unk_token"] = "<unk>"
    return json.dumps(
        {"version": "1.0", "added_tokens": added, "normalizer": normalizer, "model": model}
    )


_EMPTY_PREPEND = {"type": "Prepend", "prepend": ""}


@pytest.mark.parametrize(
    "normalizer",
    [
        _EMPTY_PREPEND,
        {"prepend": ""},
        {"normalizers": [{"prepend": ""}]},
        {"type": "Sequence", "normalizers": [{"type": "Lowercase"}, _EMPTY_PREPEND]},
        {
            "type": "Sequence",
            "normalizers": [
                {"type": "Strip", "strip_left": True, "strip_right": True},
                _EMPTY_PREPEND,
            ],
        },
    ],
    ids=["typed", "untyped", "in_untyped_sequence", "after_lowercase", "after_strip"],
)
def test_prepending_nothing_maps_the_first_char_to_nothing_as_tokenizers(
    normalizer: dict[str, Any],
) -> None:
    """`tokenizers` prepends by re-inserting the first char after the prepended ones: with
    none, that char is an insertion at the start of its piece and its offsets are empty."""
    text = _byte_fallback_file(normalizer, [_added(0, "<unk>")])
    reference = tokenizers.Tokenizer.from_str(text)
    ours = batok.Tokenizer.from_str(text)
    for sample in ("İ", "İx", "  İx ", "ab<unk>İx", "x<unk> İ", "ﬁab", ""):
        expected = reference.encode(sample)
        got = ours.encode_plus(sample)
        assert list(got.offsets) == expected.offsets, sample
        assert (list(got.ids), list(got.tokens)) == (expected.ids, expected.tokens), sample


@pytest.mark.parametrize(
    "after",
    [
        {"type": "Lowercase"},
        {"type": "NFKC"},
        {"type": "Replace", "pattern": {"String": "a"}, "content": "b"},
    ],
)
def test_prepending_nothing_then_normalizing_more_is_refused(after: dict[str, Any]) -> None:
    """There `tokenizers` rewrites the text after the first char with the whole text's
    rewrite, or panics: batok refuses the file rather than copy that."""
    nested = {"type": "Sequence", "normalizers": [_EMPTY_PREPEND]}
    normalizer = {"type": "Sequence", "normalizers": [nested, after]}
    text = _byte_fallback_file(normalizer, [])
    tokenizers.Tokenizer.from_str(text)  # loads there
    with pytest.raises(batok.BatokError, match='Prepend of "" followed by .* not supported'):
        batok.Tokenizer.from_str(text)


@pytest.mark.parametrize(
    "normalizer",
    [
        {"type": "Strip", "strip_left": True, "strip_right": True},
        {
            "type": "Sequence",
            "normalizers": [{"type": "NFKC"}, {"strip_left": True, "strip_right": False}],
        },
        {"type": "Replace", "pattern": {"String": "#"}, "content": ""},
    ],
    ids=["strip", "untyped_strip_in_sequence", "replace_by_nothing"],
)
def test_metaspace_first_prepends_only_where_the_text_starts_at_the_input_start(
    normalizer: dict[str, Any],
) -> None:
    """Metaspace's `prepend_scheme: first` prepends only to a piece whose text starts at byte 0
    of the input: where a normalizer removed the leading chars it does not, in `tokenizers`."""
    vocab = {"<unk>": 0, "<s>": 1, "▁": 2, "a": 3, "b": 4, "▁a": 5, "#": 6}
    model = {"type": "BPE", "vocab": vocab, "merges": ["▁ a"], "unk_token": "<unk>"}
    pre = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": True}
    text = json.dumps(
        {
            "version": "1.0",
            "added_tokens": [_added(1, "<s>")],
            "normalizer": normalizer,
            "pre_tokenizer": pre,
            "model": model,
        }
    )
    reference = tokenizers.Tokenizer.from_str(text)
    ours = batok.Tokenizer.from_str(text)
    for sample in ("ab", " ab", "\x0bab b", "#ab", "##", "<s> ab", "ab<s> a", "  "):
        expected = reference.encode(sample)
        got = ours.encode_plus(sample)
        assert (list(got.ids), list(got.tokens)) == (expected.ids, expected.tokens), sample
        assert list(got.offsets) == expected.offsets, sample
        assert ours.encode(sample) == expected.ids, sample


@pytest.mark.parametrize("model_type", ["BPE", "WordLevel", None])
@pytest.mark.parametrize("earlier", ["-1", "1.5", '"x"', "null", "[1]", '{"y": 2}', "4294967296"])
def test_a_token_listed_twice_needs_only_its_last_id_to_be_an_id(
    model_type: str | None, earlier: str
) -> None:
    """`tokenizers` reads the vocabulary whole before its ids: of a token listed twice the
    earlier value may be anything, and only a last value that is no u32 fails the file."""
    kind = f'"type": "{model_type}", ' if model_type else ""
    extra = ', "merges": ["a b"]' if model_type != "WordLevel" else ""
    for last in ("1", earlier):
        vocab = f'"<unk>": 0, "b": {earlier}, "a": 2, "ab": 3, "b": {last}'
        text = (
            f'{{"version": "1.0", "model": {{{kind}"vocab": {{{vocab}}}, '
            f'"unk_token": "<unk>"{extra}}}}}'
        )
        loaded = load_alike(text, r"^model.* expected u32")
        if last != "1":
            assert loaded is None
            continue
        assert loaded is not None
        reference, ours = loaded
        assert ours.token_to_id("b") == reference.token_to_id("b") == 1
        for sample in ("ab", "ba", "bb"):
            assert ours.encode(sample) == reference.encode(sample).ids, sample


def test_a_model_with_a_number_no_float_holds_is_refused_as_tokenizers_refuses_it() -> None:
    """`tokenizers` reads the whole model before its kind, so a number beyond f64 (1e400) in a
    field that the kind it would be (here WordLevel) never reads still fails the file."""
    model = '{"dropout": 1e400, "unk_token": "<unk>", "vocab": {"<unk>": 0, "a": 1}}'
    text = f'{{"version": "1.0", "model": {model}}}'
    assert load_alike(text, "number out of range") is None


MODELS_OF_EACH_KIND = {
    "BPE": '{"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]%s}',
    "WordLevel": '{"type": "WordLevel", "vocab": {"<unk>": 0, "a": 1}, "unk_token": "<unk>"%s}',
    "WordPiece": (
        '{"type": "WordPiece", "vocab": {"[UNK]": 0, "a": 1}, "unk_token": "[UNK]", '
        '"continuing_subword_prefix": "##", "max_input_chars_per_word": 100%s}'
    ),
    "Unigram": '{"type": "Unigram", "vocab": [["<unk>", 0.0], ["a", -1.0]], "unk_id": 0%s}',
    "untyped Unigram": '{"vocab": [["<unk>", 0.0], ["a", -1.0]], "unk_id": 0%s}',
    "untyped WordLevel": '{"vocab": {"<unk>": 0, "a": 1}, "unk_token": "<unk>"%s}',
    "untyped BPE": '{"vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]%s}',
}


@pytest.mark.parametrize("kind", MODELS_OF_EACH_KIND)
@pytest.mark.parametrize(
    "field",
    [
        '"x": "\\udc83"',
        '"x": [{"y": "\\ud800"}]',
        '"x": {"\\udfff": 1}',
        '"x": 1e400',
        '"x": -1e400',
        '"added_tokens": [{"content": "\\udc83"}]',
        '"merges_": "\\udc83"',
        # What parses is fine, in a field no kind reads or one this kind does not.
        '"x": "\\ud83d\\ude00"',
        '"x": 1e-400',
        '"x": 123456789012345678901234567890',
        '"\\u0078": [null, true, {}]',
    ],
)
def test_a_model_field_that_does_not_parse_fails_as_in_tokenizers(kind: str, field: str) -> None:
    """`tokenizers` parses the whole model before reading its kind's fields, so a value that
    does not parse (a lone surrogate escape, a number beyond f64) fails the file also in a
    field the kind never reads; one that parses is skipped."""
    model = MODELS_OF_EACH_KIND[kind] % (", " + field)
    text = f'{{"version": "1.0", "model": {model}}}'
    loaded = load_alike(text, "^model: (lone leading surrogate|unexpected end of hex|number out)")
    parses = any(ok in field for ok in ("ude00", "e-400", "890", "null"))
    assert (loaded is not None) == parses
    if loaded is not None:
        reference, ours = loaded
        assert ours.encode("a") == reference.encode("a").ids


@pytest.mark.parametrize(
    "part",
    [
        '"truncation": {"direction": "Right", "max_length": 5, "strategy": "LongestFirst", '
        '"stride": 0%s}',
        '"padding": {"strategy": "BatchLongest", "direction": "Right", "pad_to_multiple_of": '
        'null, "pad_id": 0, "pad_type_id": 0, "pad_token": "a"%s}',
    ],
)
@pytest.mark.parametrize("field", ['"x": "\\udc83"', '"x": 1e400'])
def test_truncation_and_padding_skip_unknown_fields_unparsed_as_tokenizers_does(
    part: str, field: str
) -> None:
    """`tokenizers` reads these two sections straight into typed structs, which skip a field
    they do not know without parsing it (unlike the other parts, read as JSON values)."""
    model = MODELS_OF_EACH_KIND["BPE"] % ""
    text = f'{{"version": "1.0", {part % (", " + field)}, "model": {model}}}'
    loaded = load_alike(text, "no refusal expected")
    assert loaded is not None
    reference, ours = loaded
    texts = ["ab a b ab ab", "b"]
    expected = [e.ids for e in reference.encode_batch(texts)]
    assert [list(e.ids) for e in ours.encode_batch_plus(texts)] == expected
