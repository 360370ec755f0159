"""Writes the small tokenizer.json seeds under fuzz/seeds/from_str/.

The seeds are tiny on purpose (a few hundred tokens at most) so that a fuzzer loads and mutates
each in well under a millisecond. Each one exercises a different part of the pipeline: byte-level
BPE, SentencePiece-style BPE with byte fallback, Metaspace, a regex Split, BERT/CLIP-style
normalizers with an end-of-word suffix, and the post-processors and decoders that go with them.
Run it again after changing it; the fuzzers read the JSON files, not this script.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

SEEDS = Path(__file__).resolve().parent / "seeds" / "from_str"


def byte_level_alphabet() -> list[str]:
    """The 256 printable characters GPT-2's byte-level pre-tokenizer maps bytes to."""
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAC + 1), *range(0xAE, 0xFF + 1)]
    chars = {b: chr(b) for b in printable}
    shift = 0
    for b in range(256):
        if b not in chars:
            chars[b] = chr(256 + shift)
            shift += 1
    return [chars[b] for b in range(256)]


def bpe_model(base: list[str], merges: list[tuple[str, str]], **options: Any) -> dict[str, Any]:
    """A BPE model whose vocabulary is `base` followed by every merge result, in merge order."""
    vocab: dict[str, int] = {}
    for token in base:
        vocab.setdefault(token, len(vocab))
    for left, right in merges:
        for part in (left, right):
            if part not in vocab:
                raise ValueError(f"merge part {part!r} is not in the vocabulary")
        # With a subword prefix, the right part's prefix is dropped from the merged token.
        prefix = options.get("continuing_subword_prefix") or ""
        joined = right[len(prefix) :] if prefix and right.startswith(prefix) else right
        vocab.setdefault(left + joined, len(vocab))
    model: dict[str, Any] = {
        "type": "BPE",
        "dropout": None,
        "unk_token": None,
        "continuing_subword_prefix": None,
        "end_of_word_suffix": None,
        "fuse_unk": False,
        "byte_fallback": False,
        "ignore_merges": False,
        "vocab": vocab,
        "merges": [f"{left} {right}" for left, right in merges],
    }
    model.update(options)
    return model


def merges_for(words: list[str], space: str = "") -> list[tuple[str, str]]:
    """Left-to-right merges that build each of `words` one character at a time."""
    out: list[tuple[str, str]] = []
    for word in words:
        for i in range(1, len(word)):
            pair = (word[:i], word[i])
            if pair not in out:
                out.append(pair)
    return out


def added(token_id: int, content: str, special: bool = True, **flags: bool) -> dict[str, Any]:
    token = {
        "id": token_id,
        "content": content,
        "single_word": False,
        "lstrip": False,
        "rstrip": False,
        "normalized": not special,
        "special": special,
    }
    token.update(flags)
    return token


def tokenizer(model: dict[str, Any], **parts: Any) -> dict[str, Any]:
    doc = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [],
        "normalizer": None,
        "pre_tokenizer": None,
        "post_processor": None,
        "decoder": None,
        "model": model,
    }
    doc.update(parts)
    return doc


def byte_level(**options: Any) -> dict[str, Any]:
    return {
        "type": "ByteLevel",
        "add_prefix_space": False,
        "trim_offsets": True,
        "use_regex": True,
        **options,
    }


G = "\u0120"  # byte-level space
S = "\u2581"  # SentencePiece space


def gpt2_like() -> dict[str, Any]:
    alphabet = byte_level_alphabet()
    merges = merges_for([G + "the", "he", "in", G + "a", G + "and", "er", "ing", G + "is"])
    model = bpe_model(alphabet, merges)
    eot = len(model["vocab"])
    return tokenizer(
        model,
        added_tokens=[added(eot, "<|endoftext|>")],
        pre_tokenizer=byte_level(),
        post_processor=byte_level(trim_offsets=False),
        decoder=byte_level(),
    )


def llama3_like() -> dict[str, Any]:
    alphabet = byte_level_alphabet()
    merges = merges_for([G + "the", "12", "34", G + "hello", "\u010a\u010a", G + "it"])
    model = bpe_model(alphabet, merges, ignore_merges=True)
    bos = len(model["vocab"])
    pattern = (
        r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
        r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
    )
    return tokenizer(
        model,
        added_tokens=[
            added(bos, "<|begin_of_text|>"),
            added(bos + 1, "<|eot_id|>"),
            added(bos + 2, "<tool>", special=False),
        ],
        pre_tokenizer={
            "type": "Sequence",
            "pretokenizers": [
                {
                    "type": "Split",
                    "pattern": {"Regex": pattern},
                    "behavior": "Isolated",
                    "invert": False,
                },
                byte_level(use_regex=False),
            ],
        },
        post_processor={
            "type": "Sequence",
            "processors": [
                byte_level(trim_offsets=False),
                {
                    "type": "TemplateProcessing",
                    "single": [
                        {"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}},
                        {"Sequence": {"id": "A", "type_id": 0}},
                    ],
                    "pair": [
                        {"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}},
                        {"Sequence": {"id": "A", "type_id": 0}},
                        {"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 1}},
                        {"Sequence": {"id": "B", "type_id": 1}},
                    ],
                    "special_tokens": {
                        "<|begin_of_text|>": {
                            "id": "<|begin_of_text|>",
                            "ids": [bos],
                            "tokens": ["<|begin_of_text|>"],
                        }
                    },
                },
            ],
        },
        decoder=byte_level(),
    )


def sentencepiece_like() -> dict[str, Any]:
    """Llama-2 style: normalizer prepends and replaces spaces, byte fallback, no pre-tokenizer."""
    base = ["<unk>", "<s>", "</s>", *(f"<0x{b:02X}>" for b in range(256))]
    base += [S, *"abcdefghijklmnopqrstuvwxyzTH.,!'"]
    merges = merges_for([S + "the", S + "a", "er", S + "is", "in", S + "hello", S + "T"])
    model = bpe_model(base, merges, unk_token="<unk>", fuse_unk=True, byte_fallback=True)
    return tokenizer(
        model,
        added_tokens=[added(0, "<unk>"), added(1, "<s>"), added(2, "</s>")],
        normalizer={
            "type": "Sequence",
            "normalizers": [
                {"type": "Prepend", "prepend": S},
                {"type": "Replace", "pattern": {"String": " "}, "content": S},
            ],
        },
        post_processor={
            "type": "TemplateProcessing",
            "single": [
                {"SpecialToken": {"id": "<s>", "type_id": 0}},
                {"Sequence": {"id": "A", "type_id": 0}},
            ],
            "pair": [
                {"SpecialToken": {"id": "<s>", "type_id": 0}},
                {"Sequence": {"id": "A", "type_id": 0}},
                {"SpecialToken": {"id": "<s>", "type_id": 1}},
                {"Sequence": {"id": "B", "type_id": 1}},
            ],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}},
        },
        decoder={
            "type": "Sequence",
            "decoders": [
                {"type": "Replace", "pattern": {"String": S}, "content": " "},
                {"type": "ByteFallback"},
                {"type": "Fuse"},
                {"type": "Strip", "content": " ", "start": 1, "stop": 0},
            ],
        },
    )


def metaspace_like() -> dict[str, Any]:
    base = ["<unk>", "<s>", "</s>", "<pad>", S, *"abcdefghijklmnopqrstuvwxyz0123456789.,?"]
    merges = merges_for([S + "a", S + "the", "on", S + "on", "ed", S + "1"])
    model = bpe_model(base, merges, unk_token="<unk>")
    return tokenizer(
        model,
        added_tokens=[added(0, "<unk>"), added(1, "<s>"), added(2, "</s>"), added(3, "<pad>")],
        normalizer={"type": "NFKC"},
        pre_tokenizer={
            "type": "Metaspace",
            "replacement": S,
            "prepend_scheme": "first",
            "split": True,
        },
        post_processor={
            "type": "TemplateProcessing",
            "single": [
                {"Sequence": {"id": "A", "type_id": 0}},
                {"SpecialToken": {"id": "</s>", "type_id": 0}},
            ],
            "pair": [
                {"Sequence": {"id": "A", "type_id": 0}},
                {"SpecialToken": {"id": "</s>", "type_id": 0}},
                {"Sequence": {"id": "B", "type_id": 1}},
                {"SpecialToken": {"id": "</s>", "type_id": 1}},
            ],
            "special_tokens": {"</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}},
        },
        decoder={"type": "Metaspace", "replacement": S, "prepend_scheme": "first", "split": True},
    )


def clip_like() -> dict[str, Any]:
    """Lowercasing normalizers, an inverted regex Split, an end-of-word suffix."""
    letters = list("abcdefghijklmnopqrstuvwxyz0123456789.,!?'")
    base = letters + [c + "</w>" for c in letters] + ["<|endoftext|>"]
    merges = [("t", "h"), ("th", "e</w>"), ("a", "n"), ("an", "d</w>"), ("i", "s</w>"), ("o", "n")]
    model = bpe_model(base, merges, unk_token="<|endoftext|>", end_of_word_suffix="</w>")
    start = len(model["vocab"])
    end = model["vocab"]["<|endoftext|>"]
    pattern = (
        r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]"
        r"|[^\s\p{L}\p{N}]+"
    )
    return tokenizer(
        model,
        added_tokens=[added(start, "<|startoftext|>"), added(end, "<|endoftext|>")],
        normalizer={
            "type": "Sequence",
            "normalizers": [
                {"type": "NFC"},
                {"type": "Replace", "pattern": {"Regex": r"\s+"}, "content": " "},
                {"type": "Lowercase"},
            ],
        },
        pre_tokenizer={
            "type": "Sequence",
            "pretokenizers": [
                {
                    "type": "Split",
                    "pattern": {"Regex": pattern},
                    "behavior": "Removed",
                    "invert": True,
                },
                byte_level(use_regex=False),
            ],
        },
        post_processor={
            "type": "RobertaProcessing",
            "sep": ["<|endoftext|>", end],
            "cls": ["<|startoftext|>", start],
            "trim_offsets": False,
            "add_prefix_space": False,
        },
        decoder={"type": "BPEDecoder", "suffix": "</w>"},
    )


def bert_like() -> dict[str, Any]:
    """Whitespace, digit and punctuation pre-tokenizers, a subword prefix, Bert post-processing."""
    letters = list("abcdefghijklmnopqrstuvwxyz0123456789.,!?-")
    base = ["[UNK]", "[CLS]", "[SEP]", "[MASK]"] + letters + ["##" + c for c in letters]
    merges = [("t", "##h"), ("th", "##e"), ("##i", "##n"), ("##in", "##g"), ("a", "##n")]
    model = bpe_model(
        base, merges, unk_token="[UNK]", continuing_subword_prefix="##", fuse_unk=False
    )
    return tokenizer(
        model,
        added_tokens=[
            added(0, "[UNK]"),
            added(1, "[CLS]"),
            added(2, "[SEP]"),
            added(3, "[MASK]", lstrip=True),
        ],
        normalizer={
            "type": "Sequence",
            "normalizers": [
                {"type": "NFD"},
                {"type": "Lowercase"},
                {"type": "Strip", "strip_left": True, "strip_right": True},
            ],
        },
        pre_tokenizer={
            "type": "Sequence",
            "pretokenizers": [
                {"type": "WhitespaceSplit"},
                {"type": "Digits", "individual_digits": True},
                {"type": "Punctuation", "behavior": "Isolated"},
            ],
        },
        post_processor={"type": "BertProcessing", "sep": ["[SEP]", 2], "cls": ["[CLS]", 1]},
        decoder={
            "type": "Sequence",
            "decoders": [
                {"type": "Replace", "pattern": {"String": "##"}, "content": ""},
                {"type": "Strip", "content": " ", "start": 0, "stop": 1},
            ],
        },
    )


def roberta_like() -> dict[str, Any]:
    alphabet = byte_level_alphabet()
    base = ["<s>", "<pad>", "</s>", "<unk>", *alphabet]
    merges = merges_for([G + "the", G + "is", "es", G + "<"])
    model = bpe_model(base, merges)
    mask = len(model["vocab"])
    return tokenizer(
        model,
        added_tokens=[
            added(0, "<s>"),
            added(1, "<pad>"),
            added(2, "</s>"),
            added(3, "<unk>"),
            added(mask, "<mask>", lstrip=True),
        ],
        pre_tokenizer=byte_level(add_prefix_space=True),
        post_processor={
            "type": "RobertaProcessing",
            "sep": ["</s>", 2],
            "cls": ["<s>", 0],
            "trim_offsets": True,
            "add_prefix_space": True,
        },
        decoder=byte_level(),
    )


def whitespace_like() -> dict[str, Any]:
    """The Whitespace pre-tokenizer, a regex Replace, strip normalizer, single-word added tokens."""
    base = ["<unk>", *"abcdefghijklmnopqrstuvwxyzABC0123456789.,'!"]
    merges = merges_for(["hello", "ab", "abc", "12"])
    model = bpe_model(base, merges, unk_token="<unk>", fuse_unk=True)
    n = len(model["vocab"])
    return tokenizer(
        model,
        added_tokens=[
            added(0, "<unk>"),
            added(n, "word", special=False, single_word=True),
            added(n + 1, "<sep>", rstrip=True),
        ],
        normalizer={
            "type": "Sequence",
            "normalizers": [
                {"type": "Replace", "pattern": {"Regex": "[0-9]+"}, "content": "1"},
                {"type": "Strip", "strip_left": False, "strip_right": True},
                {"type": "NFKD"},
            ],
        },
        pre_tokenizer={"type": "Whitespace"},
        decoder={"type": "Fuse"},
    )


def byte_seeds() -> None:
    """Inputs for the targets that read the fuzzer's bytes through a FuzzedDataProvider: any
    bytes make a valid input, so a few random ones of different lengths start the corpus."""
    rng = random.Random(15)
    for target in ("encode", "hub_parsing"):
        folder = SEEDS.parent / target
        folder.mkdir(parents=True, exist_ok=True)
        for i, size in enumerate((16, 64, 200, 500, 1000, 3000)):
            (folder / f"random-{i}.bin").write_bytes(rng.randbytes(size))


def main() -> None:
    byte_seeds()
    SEEDS.mkdir(parents=True, exist_ok=True)
    builders = {
        "gpt2_like": gpt2_like,
        "llama3_like": llama3_like,
        "sentencepiece_like": sentencepiece_like,
        "metaspace_like": metaspace_like,
        "clip_like": clip_like,
        "bert_like": bert_like,
        "roberta_like": roberta_like,
        "whitespace_like": whitespace_like,
    }
    for name, build in builders.items():
        text = json.dumps(build(), ensure_ascii=False, indent=1)
        (SEEDS / f"{name}.json").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
